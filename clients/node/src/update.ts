/*
 * update.ts - the WeChat-style command builder `_` (WeChat cloud database's
 * `db.command`) and the compilers from it to MongoDB update and query documents.
 *
 * `_.inc(1)`, `_.pull({sku: 'X'})`, `_.push({each, position, slice, sort})`,
 * `_.remove()` ... are UpdateCommand values placed at a field of `{data: {...}}`;
 * compileUpdate() turns `{data: {stock: _.inc(-1), 'meta.seen': true}}` into
 * `{"$inc": {"stock": -1}, "$set": {"meta.seen": true}}`, the same document one would
 * write by hand for DOC.UPDATE. As in WeChat, a plain nested object in `data` is
 * walked into dotted paths (it updates members, it does not replace the object: use
 * `_.set({...})` for that), and a plain value is a `$set`.
 *
 * `_.gt(0)`, `_.in([...])`, `_.elemMatch({...})`, `_.and(...)` ... are QueryCommand
 * values usable anywhere a filter goes (update `if`, `pullWhere`, CHECK MATCH, inside
 * `_.pull`); compileFilter() replaces them with their MongoDB operator objects.
 */

/** One update operator at one field: `{op: '$inc', operand: 1}`. */
export class UpdateCommand {
  constructor(
    /** the MongoDB operator this compiles to ('$inc', '$push', ...) */
    readonly op: string,
    /** its operand at the field */
    readonly operand: unknown,
  ) {}
}

/** A query operator object (`{$gt: 0}`) or a whole filter (`{$and: [...]}`). */
export class QueryCommand {
  constructor(
    /** the MongoDB operator object it stands for */
    readonly expr: Record<string, unknown>,
  ) {}

  /** Both conditions on the same field: `_.gt(0).and(_.lt(10))` is `{$gt: 0, $lt: 10}`. */
  and(other: QueryCommand): QueryCommand {
    const merged: Record<string, unknown> = { ...this.expr };
    for (const [k, v] of Object.entries(other.expr)) {
      if (k in merged) throw new TypeError(`atomicdoc: ${k} given twice in one field condition`);
      merged[k] = v;
    }
    return new QueryCommand(merged);
  }
}

export type Filter = Record<string, unknown> | QueryCommand;

export interface PushSpec {
  /** the elements to add */
  each: unknown[];
  /** insert before this index (negative counts from the end) */
  position?: number;
  /** MongoDB's $slice: n keeps the first n, -n the last n */
  slice?: number;
  /** 1, -1, or {field: 1|-1} */
  sort?: 1 | -1 | Record<string, 1 | -1>;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

const list = (a: unknown[]): unknown[] => (a.length === 1 && Array.isArray(a[0]) ? a[0] : a);

/** The WeChat-style command builder (`const _ = db.command` in WeChat). */
export const _ = Object.freeze({
  // ---- update operators -------------------------------------------------------
  /** `$set`: replace the field (objects included) with the value. */
  set: (value: unknown) => new UpdateCommand('$set', value),
  /** `$unset`: remove the field. */
  remove: () => new UpdateCommand('$unset', ''),
  /** `$inc`: add n (creates the field as n). */
  inc: (n: number | bigint) => new UpdateCommand('$inc', n),
  /** `$mul`: multiply by n (creates the field as 0). */
  mul: (n: number | bigint) => new UpdateCommand('$mul', n),
  /** `$min`: keep the smaller of the field and the value. */
  min: (value: unknown) => new UpdateCommand('$min', value),
  /** `$max`: keep the larger of the field and the value. */
  max: (value: unknown) => new UpdateCommand('$max', value),
  /** `$rename`: move the field to another dotted path. */
  rename: (to: string) => new UpdateCommand('$rename', to),
  /** `$setOnInsert`: set only when an upsert creates the document. */
  setOnInsert: (value: unknown) => new UpdateCommand('$setOnInsert', value),
  /**
   * `$push`: an array appends its elements; `{each, position, slice, sort}` is
   * MongoDB's `$push` with modifiers; any other value is appended as one element.
   */
  push: (what: unknown[] | PushSpec | unknown) => {
    if (Array.isArray(what)) return new UpdateCommand('$push', { $each: what });
    if (isPlainObject(what) && Array.isArray(what.each)) {
      const s = what as unknown as PushSpec;
      const spec: Record<string, unknown> = { $each: s.each };
      if (s.position !== undefined) spec.$position = s.position;
      if (s.slice !== undefined) spec.$slice = s.slice;
      if (s.sort !== undefined) spec.$sort = s.sort;
      return new UpdateCommand('$push', spec);
    }
    return new UpdateCommand('$push', what);
  },
  /** `$pop: 1`: remove the last element. */
  pop: () => new UpdateCommand('$pop', 1),
  /** `$pop: -1`: remove the first element. */
  shift: () => new UpdateCommand('$pop', -1),
  /** `$push` at position 0 (an array adds its elements, in order). */
  unshift: (what: unknown[] | unknown) =>
    new UpdateCommand('$push', { $each: Array.isArray(what) ? what : [what], $position: 0 }),
  /** `$addToSet`: add the value unless present; `{each: [...]}` adds each. */
  addToSet: (what: unknown) =>
    isPlainObject(what) && Object.keys(what).length === 1 && Array.isArray(what.each)
      ? new UpdateCommand('$addToSet', { $each: what.each })
      : new UpdateCommand('$addToSet', what),
  /** `$pull`: remove elements equal to a value, or matching a condition (`_.gt(3)`, `{sku: 'X'}`). */
  pull: (what: unknown) => new UpdateCommand('$pull', compileFilter(what)),
  /** `$pullAll`: remove elements equal to any of the values. */
  pullAll: (values: unknown[]) => new UpdateCommand('$pullAll', values),

  // ---- query operators --------------------------------------------------------
  eq: (v: unknown) => new QueryCommand({ $eq: v }),
  neq: (v: unknown) => new QueryCommand({ $ne: v }),
  gt: (v: unknown) => new QueryCommand({ $gt: v }),
  gte: (v: unknown) => new QueryCommand({ $gte: v }),
  lt: (v: unknown) => new QueryCommand({ $lt: v }),
  lte: (v: unknown) => new QueryCommand({ $lte: v }),
  in: (values: unknown[]) => new QueryCommand({ $in: values }),
  nin: (values: unknown[]) => new QueryCommand({ $nin: values }),
  exists: (yes = true) => new QueryCommand({ $exists: yes }),
  size: (n: number) => new QueryCommand({ $size: n }),
  all: (values: unknown[]) => new QueryCommand({ $all: values }),
  elemMatch: (filter: Filter) => new QueryCommand({ $elemMatch: compileFilter(filter) }),
  not: (cond: QueryCommand) => new QueryCommand({ $not: cond.expr }),
  /** Whole filters, all true: `_.and({a: 1}, {b: _.gt(2)})` (or one array of them). */
  and: (...filters: Filter[] | [Filter[]]) => new QueryCommand({ $and: list(filters).map(compileFilter) }),
  /** Whole filters, any true. */
  or: (...filters: Filter[] | [Filter[]]) => new QueryCommand({ $or: list(filters).map(compileFilter) }),
  /** Whole filters, none true. */
  nor: (...filters: Filter[] | [Filter[]]) => new QueryCommand({ $nor: list(filters).map(compileFilter) }),
});

/** The same builder under WeChat's name (`db.command`). */
export const command = _;

/** A filter with every QueryCommand replaced by its MongoDB operator object. */
export function compileFilter(f: unknown): unknown {
  if (f instanceof QueryCommand) return compileFilter(f.expr);
  if (f instanceof UpdateCommand) throw new TypeError(`atomicdoc: ${f.op} is an update operator, not a condition`);
  if (Array.isArray(f)) return f.map(compileFilter);
  if (isPlainObject(f)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(f)) out[k] = compileFilter(v);
    return out;
  }
  return f;
}

/** MongoDB update document, or WeChat `{data: {...}}` with `_` commands. */
export type Update = Record<string, unknown>;

/**
 * The MongoDB update document for `update`: either one already (every key an
 * operator: `{$inc: {stock: -1}}`, conditions inside may use `_`), or WeChat's
 * `{data: {...}}` compiled as the file comment says.
 */
export function compileUpdate(update: Update): Record<string, unknown> {
  if (!isPlainObject(update)) throw new TypeError('atomicdoc: an update is an object');
  const keys = Object.keys(update);
  if (keys.length > 0 && keys.every((k) => k.startsWith('$'))) {
    return compileFilter(update) as Record<string, unknown>;
  }
  if (keys.length === 1 && keys[0] === 'data' && isPlainObject(update.data)) {
    const out: Record<string, Record<string, unknown>> = {};
    walkData(update.data, '', out);
    if (Object.keys(out).length === 0) throw new TypeError('atomicdoc: update {data: {}} changes nothing');
    return out;
  }
  throw new TypeError('atomicdoc: an update is MongoDB operators ({$inc: {...}}) or WeChat-style {data: {...}}');
}

function walkData(data: Record<string, unknown>, prefix: string, out: Record<string, Record<string, unknown>>): void {
  for (const [k, v] of Object.entries(data)) {
    if (v === undefined) continue;
    const path = prefix ? `${prefix}.${k}` : k;
    if (v instanceof UpdateCommand) {
      (out[v.op] ??= {})[path] = v.operand;
    } else if (v instanceof QueryCommand) {
      throw new TypeError(`atomicdoc: a query condition at ${path} of an update's data (use _.set or a value)`);
    } else if (isPlainObject(v) && Object.keys(v).length > 0) {
      walkData(v, path, out);
    } else {
      (out.$set ??= {})[path] = v;
    }
  }
}
