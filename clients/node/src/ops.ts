/*
 * ops.ts - every DOC.* command once: its arguments after the key, and how its reply
 * becomes a JavaScript value.
 *
 * An OpSpec is what both faces need: AtomicDoc sends `DOC.<name> key ...args` and
 * decodes the reply; a DOC.TXN op is `<name> <key position> ...args` and decodes its
 * element of the TXN's array the same way. Replies: JSON text is parsed (int64 beyond
 * 2^53 as BigInt), nil is `undefined` where it means "missing" and `null` where it
 * means "not done" (INCR out of bounds, UPDATE RETURN with no match), 1/0 are booleans
 * where the command answers yes/no, counts and versions are numbers.
 */
import { intFromText, parseJson, stringifyJson } from './json';
import { compileFilter, compileUpdate, type Filter, type Update } from './update';

export interface OpSpec<T> {
  /** the command name without `DOC.` */
  name: string;
  /** arguments after the key */
  args: string[];
  /** true for commands that only read (a cluster may send them to a replica) */
  readonly: boolean;
  /** the reply as a JavaScript value */
  decode(reply: unknown): T;
}

/** A JSON value of a document as the package hands it out (see json.ts). */
export type Value = unknown;
/** DOC.TYPE names. */
export type DocType = 'null' | 'boolean' | 'integer' | 'number' | 'string' | 'object' | 'array';
/** A number or (int64 beyond 2^53) a BigInt. */
export type Num = number | bigint;

/** `cas(path, ABSENT, v)`: swap only when the path does not exist. */
export const ABSENT: unique symbol = Symbol('atomicdoc.ABSENT');

export interface SetOptions {
  /** only when the path does not exist yet (NX) */
  nx?: boolean;
  /** only when the path exists (XX) */
  xx?: boolean;
}
export interface IncrOptions {
  /** the result may not go below this: out of bounds changes nothing and gives null */
  min?: Num;
  /** the result may not go above this */
  max?: Num;
}
export interface PushOptions {
  /** insert before element `at` (negative counts from the end; clamped) */
  at?: number;
  /** then keep the last `keep` elements (`-n`: the first n) */
  keep?: number;
}
export interface UpdateOptions {
  /** apply only when the document matches this MongoDB filter (`_` conditions allowed) */
  if?: Filter;
  /** MongoDB arrayFilters for `$[id]` */
  arrayFilters?: Filter[];
  /** create the document when the key is missing (from `if`'s equality fields) */
  upsert?: boolean;
  /** reply the document after or before the update instead of a boolean */
  returnDocument?: 'after' | 'before';
}
/** `update`'s result: the document when `returnDocument` is given, else whether it changed. */
export type UpdateResult<O> = O extends { returnDocument: 'after' | 'before' } ? Value | null : boolean;

export type Comparison = '==' | '!=' | '>' | '>=' | '<' | '<=' | 'EQ' | 'NE' | 'GT' | 'GE' | 'LT' | 'LE';

// ---- argument and reply helpers -----------------------------------------------

const json = (v: unknown) => stringifyJson(v);

export function numArg(n: Num, what: string): string {
  if (typeof n === 'bigint') return n.toString();
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new TypeError(`atomicdoc: ${what} must be a finite number`);
  return String(n);
}

function intArg(n: number, what: string): string {
  if (!Number.isInteger(n)) throw new TypeError(`atomicdoc: ${what} must be an integer`);
  return String(n);
}

function text(r: unknown): string {
  if (typeof r === 'string') return r;
  if (r instanceof Uint8Array) return Buffer.from(r).toString('utf8');
  throw new TypeError(`atomicdoc: unexpected reply ${String(r)}`);
}

/** An integer reply (a number, or text when the driver gives integers as text). */
export function int(r: unknown): Num {
  if (typeof r === 'number' || typeof r === 'bigint') return r;
  return intFromText(text(r));
}
const count = (r: unknown): number => Number(int(r));
const yes = (r: unknown): boolean => Number(int(r)) === 1;
/** JSON text, or nil as undefined (missing). */
const value = (r: unknown): Value => (r === null || r === undefined ? undefined : parseJson(text(r)));
/** A number reply: an integer reply, or a double as bulk text; nil is null. */
const number = (r: unknown): Num | null => {
  if (r === null || r === undefined) return null;
  if (typeof r === 'number' || typeof r === 'bigint') return r;
  return parseJson(text(r)) as Num;
};
const ok = (): void => undefined;
/** A reply that is an array for a query path (one element per match), else one item. */
function perMatch<T>(leaf: (r: unknown) => T, leafIsArray = false): (r: unknown) => T | undefined | (T | undefined)[] {
  const one = (x: unknown) => (x === null || x === undefined ? undefined : leaf(x));
  return (r) => (Array.isArray(r) && !(leafIsArray && isKeysList(r)) ? r.map(one) : one(r));
}
// DOC.KEYS of a single path is an array of names, of a query path an array of such
// arrays (or nils); the two are told apart by their elements.
function isKeysList(r: unknown[]): boolean {
  return r.length > 0 && r.every((x) => typeof x === 'string' || x instanceof Uint8Array);
}

function spec<T>(name: string, args: string[], decode: (r: unknown) => T, readonly = false): OpSpec<T> {
  return { name, args, readonly, decode };
}

function pushArgs(path: string, values: unknown[], o: PushOptions = {}): string[] {
  const a = [path];
  if (o.at !== undefined) a.push('AT', intArg(o.at, 'at'));
  if (o.keep !== undefined) a.push('KEEP', intArg(o.keep, 'keep'));
  for (const v of values) a.push(json(v));
  return a;
}

const COMPARISONS: Record<string, string> = {
  '==': 'EQ', '!=': 'NE', '>': 'GT', '>=': 'GE', '<': 'LT', '<=': 'LE',
  EQ: 'EQ', NE: 'NE', GT: 'GT', GE: 'GE', LT: 'LT', LE: 'LE',
};

// ---- the commands a DOC.TXN can run as ops (single key, single value) ------------

/**
 * One builder per single-key command. AtomicDoc's methods are these with a key in
 * front, Doc's are these on its key, and Txn's take a key position in front. The write
 * builders here take any path; `ops` below refuses query paths for them (see WRITES).
 */
const builders = {
  /** DOC.SET: writes `value` at `path` (creating members on the way). false when NX/XX is not met. */
  set: (path: string, v: Value, o: SetOptions = {}) => {
    if (o.nx && o.xx) throw new TypeError('atomicdoc: nx and xx together never set anything');
    const a = [path, json(v)];
    if (o.nx) a.push('NX');
    if (o.xx) a.push('XX');
    return spec('SET', a, (r) => r !== null && r !== undefined);
  },
  /** DOC.GET: the value at `path` (default the whole document), undefined when missing. A query path gives an array of matches. */
  get: (path = '$') => spec('GET', [path], value, true),
  /** DOC.DEL: deletes the value at `path` (or, with `$`/no path, the key). true when something was deleted. */
  del: (path = '$') => spec('DEL', [path], yes),
  /** DOC.TYPE: 'object', 'array', 'string', 'integer', 'number' (a double), 'boolean', 'null'; undefined when missing. */
  type: (path = '$') => spec('TYPE', [path], perMatch((r) => text(r) as DocType), true),
  /** DOC.LEN: members of an object, elements of an array, bytes of a string; undefined when missing. */
  len: (path = '$') => spec('LEN', [path], perMatch(count), true),
  /** DOC.KEYS: member names in order; undefined when missing. */
  keys: (path = '$') => spec('KEYS', [path], perMatch((r) => (r as unknown[]).map(text), true), true),
  /** DOC.VERSION: the document's version (0 for a missing key). */
  version: () => spec('VERSION', [], count, true),
  /** DOC.INCR: adds `delta`; the new number, or null when it would leave [min, max] (nothing changes). */
  incr: (path: string, delta: Num, o: IncrOptions = {}) => {
    const a = [path, numArg(delta, 'delta')];
    if (o.min !== undefined) a.push('MIN', numArg(o.min, 'min'));
    if (o.max !== undefined) a.push('MAX', numArg(o.max, 'max'));
    return spec('INCR', a, number);
  },
  /** DOC.MUL: multiplies by `factor`; the new number. */
  mul: (path: string, factor: Num) => spec('MUL', [path, numArg(factor, 'factor')], (r) => number(r) as Num),
  /** DOC.MIN: keeps the smaller of the value and `v` (numbers with numbers, strings with strings); the result. */
  min: (path: string, v: Value) => spec('MIN', [path, json(v)], value),
  /** DOC.MAX: keeps the larger; the result. */
  max: (path: string, v: Value) => spec('MAX', [path, json(v)], value),
  /** DOC.STRAPPEND: appends `s` to the string; its new length in bytes. */
  strappend: (path: string, s: string) => spec('STRAPPEND', [path, s], count),
  /** DOC.PUSH of one element; the array's new length. */
  push: (path: string, v: Value, o?: PushOptions) => spec('PUSH', pushArgs(path, [v], o), count),
  /** DOC.POP: removes and returns an element ('last' by default), undefined when there is none. */
  pop: (path: string, where: 'first' | 'last' | number = 'last') => {
    const w = where === 'first' ? 'FIRST' : where === 'last' ? 'LAST' : intArg(where, 'index');
    return spec('POP', [path, w], value);
  },
  /** DOC.PULL of one value: removes every element deep-equal to `v`; how many. */
  pull: (path: string, v: Value) => spec('PULL', [path, json(v)], count),
  /** DOC.PULL ... WHERE: removes every element matching the filter; how many. */
  pullWhere: (path: string, filter: Filter) => spec('PULL', [path, 'WHERE', json(compileFilter(filter))], count),
  /** DOC.ADDTOSET of one value: true when it was added (it was not there). */
  addToSet: (path: string, v: Value) => spec('ADDTOSET', [path, json(v)], yes),
  /** DOC.INDEXOF: the first index of an element deep-equal to `v`, or -1. */
  indexOf: (path: string, v: Value) => spec('INDEXOF', [path, json(v)], count, true),
  /** DOC.TOGGLE: flips a boolean; the new value. */
  toggle: (path: string) => spec('TOGGLE', [path], (r) => parseJson(text(r)) as boolean),
  /** DOC.CLEAR: empties objects and arrays, zeroes numbers; true when something changed. */
  clear: (path = '$') => spec('CLEAR', [path], yes),
  /** DOC.MERGE: applies an RFC 7396 JSON Merge Patch (null removes a member). */
  merge: (path: string, patch: Value) => spec('MERGE', [path, json(patch)], ok),
  /** DOC.CAS: sets `v` only if the value equals `expected` (or, with ABSENT, is missing); true when swapped. */
  cas: (path: string, expected: Value | typeof ABSENT, v: Value) =>
    spec('CAS', [path, expected === ABSENT ? 'ABSENT' : json(expected), json(v)], yes),
  /**
   * DOC.UPDATE with a MongoDB update document or WeChat-style `{data: {...}}`; true when
   * the document changed, or with `returnDocument` the document (null when `if` did not
   * match or the key is missing).
   */
  update: <O extends UpdateOptions = {}>(u: Update, o?: O): OpSpec<UpdateResult<O>> => {
    const a = [json(compileUpdate(u))];
    if (o?.if !== undefined) a.push('IF', json(compileFilter(o.if)));
    if (o?.arrayFilters !== undefined) a.push('ARRAYFILTERS', json(compileFilter(o.arrayFilters)));
    if (o?.upsert) a.push('UPSERT');
    if (o?.returnDocument !== undefined) {
      if (o.returnDocument !== 'after' && o.returnDocument !== 'before') {
        throw new TypeError("atomicdoc: returnDocument is 'after' or 'before'");
      }
      a.push('RETURN', o.returnDocument.toUpperCase());
      return spec('UPDATE', a, (r) => (r === null || r === undefined ? null : parseJson(text(r)))) as OpSpec<UpdateResult<O>>;
    }
    return spec('UPDATE', a, yes) as OpSpec<UpdateResult<O>>;
  },
};

/** Builders only a single command can run (several values or paths at once). */
const multiBuilders = {
  /** DOC.GET of several paths: one value per path (undefined for a missing one); undefined for a missing key. */
  getPaths: (paths: string[]) =>
    spec('GET', [...paths], (r) => (r === null || r === undefined ? undefined : paths.length === 1 ? [value(r)] : (r as unknown[]).map(value)), true),
  /** DOC.GET WITHVERSION: `{value, version}` in one read (version 0, value undefined for a missing key). */
  getWithVersion: (path = '$') =>
    spec('GET', ['WITHVERSION', path], (r) => {
      const [v, x] = r as [unknown, unknown];
      return { value: value(x), version: count(v) };
    }, true),
  /** DOC.PUSH of several elements, in order; the new length. */
  pushEach: (path: string, values: Value[], o?: PushOptions) => spec('PUSH', pushArgs(path, values, o), count),
  /** DOC.PULL of several values; how many elements were removed. */
  pullEach: (path: string, values: Value[]) => spec('PULL', [path, ...values.map(json)], count),
  /** DOC.ADDTOSET of several values (each added at most once); how many were added. */
  addToSetEach: (path: string, values: Value[]) => spec('ADDTOSET', [path, ...values.map(json)], count),
};

/** CHECK ops of DOC.TXN (no command of their own). */
export const checkOps = {
  compare: (path: string, cmp: Comparison | 'exists' | 'missing', v?: Value) => {
    if (cmp === 'exists' || cmp === 'missing') return spec('CHECK', [path, cmp.toUpperCase()], ok);
    const word = COMPARISONS[cmp];
    if (!word) throw new TypeError(`atomicdoc: unknown comparison ${String(cmp)}`);
    if (v === undefined) throw new TypeError('atomicdoc: a comparison needs a value');
    return spec('CHECK', [path, word, json(v)], ok);
  },
  match: (filter: Filter, path = '$') => spec('CHECK', [path, 'MATCH', json(compileFilter(filter))], ok),
  version: (version: number) => spec('CHECK', ['VERSION', intArg(version, 'version')], ok),
};

// ---- query paths on writes -----------------------------------------------------

/**
 * The write builders whose first argument is a path the server also takes as an RFC
 * 9535 query path, writing every match (README "Writes at query paths"). With a query
 * path their reply is an array with one slot per match, which the single-value types
 * of `ops` do not describe: `ops` refuses such a path (TypeError, nothing sent) and
 * `allOps` has the same builders with one result per match.
 */
const WRITES = ['set', 'del', 'incr', 'mul', 'min', 'max', 'strappend', 'push', 'pop', 'pull', 'pullWhere',
  'addToSet', 'toggle', 'clear', 'merge', 'cas'] as const;
const MULTI_WRITES = ['pushEach', 'pullEach', 'addToSetEach'] as const;
type WriteName = (typeof WRITES)[number];
type MultiWriteName = (typeof MULTI_WRITES)[number];

/**
 * True when `path` is a query path: a `$` path with, outside its quoted names, a
 * construct only queries have (`*`, `..`, `?` filters, `:` slices, `,` unions). A
 * single JSONPath is `$` then `.name`, `['name']`, `["name"]` and `[index]` only
 * (README "Documents, paths, versions"), so this never calls a single path a query; a
 * text that is neither is left to the server, which refuses it (BADPATH). Dot-style
 * paths (not starting with `$`) are never queries: there `*` is a member name.
 */
export function isQueryPath(path: string): boolean {
  if (!path.startsWith('$')) return false;
  let quote = '';
  for (let i = 1; i < path.length; i++) {
    const c = path[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === '*' || c === '?' || c === ':' || c === ',' || (c === '.' && path[i + 1] === '.')) {
      return true;
    }
  }
  return false;
}

type Builder = (...a: never[]) => OpSpec<unknown>;

/** `o` with each builder in `names` refusing a query path as its first argument. */
function singlePathOnly<O extends Record<string, unknown>>(o: O, names: readonly string[]): O {
  const out: Record<string, unknown> = { ...o };
  for (const n of names) {
    const b = o[n] as (...a: unknown[]) => OpSpec<unknown>;
    out[n] = (...a: unknown[]) => {
      const path = a.length > 0 && typeof a[0] === 'string' ? a[0] : '$';
      if (isQueryPath(path)) {
        throw new TypeError(
          `atomicdoc: ${path} is a query path: its ${n} writes every match and replies one result per match; ` +
            `use all.${n} (db.all.${n}, doc.all.${n}, t.all.${n})`,
        );
      }
      return b(...a);
    };
  }
  return out as O;
}

/** A builder with the same arguments whose result is one decoded slot per match. */
export type PerMatch<F> = F extends (...a: infer A) => OpSpec<infer T> ? (...a: A) => OpSpec<T[]> : never;

function perMatchOf(b: Builder): Builder {
  return (...a) => {
    const s = b(...a);
    // A query path replies an array (no write's single reply is one); a single path
    // replies one value, which is one match.
    return spec(s.name, s.args, (r) => (Array.isArray(r) ? r.map((x) => s.decode(x)) : [s.decode(r)]));
  };
}

export const ops = singlePathOnly(builders, WRITES);
export const multiOps = singlePathOnly(multiBuilders, MULTI_WRITES);

/** The writes at a query path: each write builder, answering one result per match. */
export type AllOps = { [K in WriteName]: PerMatch<(typeof builders)[K]> } & {
  [K in MultiWriteName]: PerMatch<(typeof multiBuilders)[K]>;
};
export const allOps = Object.fromEntries([
  ...WRITES.map((n) => [n, perMatchOf(builders[n] as Builder)]),
  ...MULTI_WRITES.map((n) => [n, perMatchOf(multiBuilders[n] as Builder)]),
]) as unknown as AllOps;

export type Ops = typeof ops;
export type MultiOps = typeof multiOps;
