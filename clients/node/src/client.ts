/*
 * client.ts - the package's faces: AtomicDoc (every command with a key in front),
 * Doc (the same on one key, WeChat's `db.collection(c).doc(id)`), and Txn (DOC.TXN
 * ops with a key position in front).
 *
 * All three are generated from the one table of commands in ops.ts, so a command's
 * arguments and reply decoding exist once. A TXN is built synchronously by a callback
 * and sent as one DOC.TXN: it runs whole inside Redis, serializable, and never fails
 * for contention, so there is no retry loop here and none is needed. It fails only
 * when one of its ops fails (a CHECK, or an op's own error), and then it changed
 * nothing: an AbortedError says which op and why.
 */
import { AbortedError } from './errors';
import {
  allOps, checkOps, multiOps, ops,
  type AllOps, type Comparison, type MultiOps, type OpSpec, type Ops, type UpdateOptions, type UpdateResult, type Value,
} from './ops';
import { senderFor, type Connection, type Sender } from './transport';
import type { Filter, Update } from './update';
import { stringifyJson } from './json';

type Result<S> = S extends OpSpec<infer T> ? T : never;

/** Each op builder with a key in front, answering a Promise of its result. */
type KeyMethods<O> = {
  [K in keyof O]: O[K] extends (...a: infer A) => infer S ? (key: string, ...a: A) => Promise<Result<S>> : never;
};
/** Each op builder on a fixed key. */
type BoundMethods<O> = {
  [K in keyof O]: O[K] extends (...a: infer A) => infer S ? (...a: A) => Promise<Result<S>> : never;
};
/** Each op builder with a key position in front, adding an op to the TXN. */
type TxnMethods<O> = {
  [K in keyof O]: O[K] extends (...a: infer A) => infer S ? (index: number, ...a: A) => Op<Result<S>> : never;
};

/** `all`: each builder of allOps bound through `bind` (a key in front, a fixed key, a TXN). */
function bindAll<M>(bind: (s: (...a: unknown[]) => OpSpec<unknown>) => (...a: unknown[]) => unknown): M {
  return Object.fromEntries(
    Object.entries(allOps).map(([n, b]) => [n, bind(b as (...a: unknown[]) => OpSpec<unknown>)]),
  ) as M;
}

/** A TXN op's place in the reply: return it (or objects/arrays of them) from the callback. */
export class Op<T> {
  /** phantom: the type of the op's result */
  declare readonly __result?: T;
  constructor(
    /** 0-based position among the TXN's ops */
    readonly index: number,
  ) {}
}

/** What a TXN callback's return value becomes: every Op replaced by its result. */
export type Resolved<R> = R extends Op<infer T>
  ? T
  : R extends readonly unknown[]
    ? { -readonly [K in keyof R]: Resolved<R[K]> }
    : R extends Record<string, unknown>
      ? { [K in keyof R]: Resolved<R[K]> }
      : R;

/** `{value, version}` of one read. */
export interface Versioned {
  /** the value (undefined for a missing key or path) */
  value: Value;
  /** the document's version (0 for a missing key) */
  version: number;
}

// ---- AtomicDoc ----------------------------------------------------------------

export interface AtomicDoc extends KeyMethods<Omit<Ops, 'update'>>, KeyMethods<Omit<MultiOps, 'getPaths'>> {}

/** atomicdoc on one connection (node-redis client or cluster, ioredis, or a send function). */
export class AtomicDoc {
  /** sends one command (see transport.ts) */
  readonly send: Sender;
  /**
   * The writes at a query path (README "Writes at query paths"): the same methods and
   * arguments as the single ones, resolving to an array with one result per match, in
   * document order (`[]` when nothing matched; a single path gives an array of one).
   */
  readonly all: KeyMethods<AllOps>;

  constructor(conn: Connection) {
    this.send = senderFor(conn);
    this.all = bindAll((b) => (key, ...a) => this.run(key as string, b(...a)));
  }

  /** Runs one op on `key`. */
  async run<T>(key: string, s: OpSpec<T>): Promise<T> {
    return s.decode(await this.send(['DOC.' + s.name, key, ...s.args], key, s.readonly));
  }

  /** A handle on one document. */
  doc(key: string): Doc {
    return new Doc(this, key);
  }

  /** WeChat-style naming: `collection('orders').doc('7')` is the key `orders:7`. */
  collection(name: string, separator = ':'): Collection {
    return new Collection(this, name, separator);
  }

  /** DOC.UPDATE (see ops.update). */
  async update<O extends UpdateOptions = {}>(key: string, u: Update, o?: O): Promise<UpdateResult<O>> {
    return this.run(key, ops.update(u, o));
  }

  /** DOC.GET of several paths at once: one value per path (undefined when missing). */
  async getPaths(key: string, paths: string[]): Promise<Value[] | undefined> {
    return this.run(key, multiOps.getPaths(paths));
  }

  /** DOC.MSET: several writes, all or nothing. */
  async mset(writes: Array<[key: string, path: string, value: Value]>): Promise<void> {
    if (writes.length === 0) return;
    const args = ['DOC.MSET'];
    for (const [k, p, v] of writes) args.push(k, p, stringifyJson(v));
    await this.send(args, writes[0][0], false);
  }

  /** DOC.MGET: the value at `path` of each key (undefined for missing keys and paths). */
  async mget(keys: string[], path = '$'): Promise<Value[]> {
    if (keys.length === 0) return [];
    const r = (await this.send(['DOC.MGET', ...keys, path], keys[0], true)) as unknown[];
    return r.map((x) => ops.get().decode(x));
  }

  /**
   * DOC.TXN over `keys` (ops name them by 0-based position). The callback adds ops
   * to `t`, synchronously; the TXN is then sent as one command. Resolves to what the
   * callback returned with each Op replaced by its result, or, when it returned
   * nothing, to the array of every op's result. Throws AbortedError (nothing changed)
   * when an op failed.
   */
  async txn<R>(keys: string[], build: (t: Txn) => R): Promise<R extends void | undefined ? unknown[] : Resolved<R>> {
    if (keys.length === 0) throw new TypeError('atomicdoc: a TXN needs at least one key');
    const t = new Txn(keys.length);
    const shape = build(t);
    if (shape instanceof Promise) {
      throw new TypeError('atomicdoc: a TXN callback only adds ops (it runs before anything is sent); it cannot await');
    }
    const specs = t.specs;
    if (specs.length === 0) throw new TypeError('atomicdoc: a TXN needs at least one op');
    const args = ['DOC.TXN', String(keys.length), ...keys];
    for (const s of specs) args.push(s.spec.name, String(s.position + 1), ...s.spec.args);
    const reply = (await this.send(args, keys[0], false)) as unknown[];
    const results = reply.map((r, i) => specs[i].spec.decode(r));
    const resolve = (x: unknown): unknown => {
      if (x instanceof Op) return results[x.index];
      if (Array.isArray(x)) return x.map(resolve);
      if (x !== null && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) {
        return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, resolve(v)]));
      }
      return x;
    };
    return (shape === undefined ? results : resolve(shape)) as R extends void | undefined ? unknown[] : Resolved<R>;
  }
}

for (const [name, build] of Object.entries({ ...ops, ...multiOps })) {
  if (name === 'update' || name === 'getPaths') continue;
  Object.defineProperty(AtomicDoc.prototype, name, {
    async value(this: AtomicDoc, key: string, ...a: unknown[]) {
      return this.run(key, (build as (...x: unknown[]) => OpSpec<unknown>)(...a));
    },
    writable: true,
    configurable: true,
  });
}

// ---- Doc ----------------------------------------------------------------------

export interface Doc extends BoundMethods<Omit<Ops, 'update' | 'get'>>, BoundMethods<Omit<MultiOps, 'getWithVersion'>> {}

/** One document: every command on its key. */
export class Doc {
  /** The writes at a query path on this key, one result per match (see AtomicDoc.all). */
  readonly all: BoundMethods<AllOps>;

  constructor(
    readonly db: AtomicDoc,
    readonly key: string,
  ) {
    this.all = bindAll((b) => (...a) => this.db.run(this.key, b(...a)));
  }

  /** `{value, version}` at `path` (default the whole document), read at one instant. */
  async get(path = '$'): Promise<Versioned> {
    return this.db.run(this.key, multiOps.getWithVersion(path));
  }

  /** Just the value at `path` (undefined when missing). */
  async value(path = '$'): Promise<Value> {
    return this.db.run(this.key, ops.get(path));
  }

  /** DOC.UPDATE: MongoDB `{$inc: ...}` or WeChat `{data: {...}}`, with `{if, upsert, returnDocument, arrayFilters}`. */
  async update<O extends UpdateOptions = {}>(u: Update, o?: O): Promise<UpdateResult<O>> {
    return this.db.run(this.key, ops.update(u, o));
  }

  /** DOC.TXN on this one document. */
  txn<R>(build: (t: Txn) => R): ReturnType<AtomicDoc['txn']> {
    return this.db.txn([this.key], build) as ReturnType<AtomicDoc['txn']>;
  }
}

for (const [name, build] of Object.entries({ ...ops, ...multiOps })) {
  if (name === 'update' || name === 'get' || name === 'getWithVersion') continue;
  Object.defineProperty(Doc.prototype, name, {
    async value(this: Doc, ...a: unknown[]) {
      return this.db.run(this.key, (build as (...x: unknown[]) => OpSpec<unknown>)(...a));
    },
    writable: true,
    configurable: true,
  });
}

/** Keys named `<name><separator><id>`, as WeChat's collections. */
export class Collection {
  constructor(
    readonly db: AtomicDoc,
    readonly name: string,
    readonly separator: string,
  ) {}

  /** The document with this id. */
  doc(id: string | number): Doc {
    return this.db.doc(`${this.name}${this.separator}${id}`);
  }
}

// ---- Txn ----------------------------------------------------------------------

export interface Txn extends TxnMethods<Omit<Ops, 'update'>> {}

/** The ops of one DOC.TXN, in order. Methods take the key's 0-based position first. */
export class Txn {
  /** the ops added so far, with their key positions */
  readonly specs: Array<{ position: number; spec: OpSpec<unknown> }> = [];
  /** Write ops at a query path: each op's result is one value per match (see AtomicDoc.all). */
  readonly all: TxnMethods<AllOps>;

  constructor(
    /** how many keys the TXN declared */
    readonly keyCount: number,
  ) {
    this.all = bindAll((b) => (index, ...a) => this.add(index as number, b(...a)));
  }

  /** Adds an op; its Op says where its result will be. */
  add<T>(index: number, spec: OpSpec<T>): Op<T> {
    if (!Number.isInteger(index) || index < 0 || index >= this.keyCount) {
      throw new RangeError(`atomicdoc: key position ${index} is not one of the TXN's ${this.keyCount} keys (0-based)`);
    }
    this.specs.push({ position: index, spec: spec as OpSpec<unknown> });
    return new Op<T>(this.specs.length - 1);
  }

  /**
   * CHECK: aborts the TXN unless the value at `path` compares as asked with `value`
   * ('==' '!=' '>' '>=' '<' '<=', or EQ NE GT GE LT LE), or exists / is missing.
   */
  check(index: number, path: string, test: 'exists' | 'missing'): Op<void>;
  check(index: number, path: string, cmp: Comparison, value: Value): Op<void>;
  check(index: number, path: string, cmp: Comparison | 'exists' | 'missing', value?: Value): Op<void> {
    return this.add(index, checkOps.compare(path, cmp, value));
  }

  /** CHECK MATCH: aborts unless the value at `path` (default the document) matches the filter. */
  match(index: number, filter: Filter, path = '$'): Op<void> {
    return this.add(index, checkOps.match(filter, path));
  }

  /** CHECK VERSION: aborts unless the document is still at `version` (optimistic concurrency). */
  checkVersion(index: number, version: number): Op<void> {
    return this.add(index, checkOps.version(version));
  }

  /** UPDATE op (see AtomicDoc.update). */
  update<O extends UpdateOptions = {}>(index: number, u: Update, o?: O): Op<UpdateResult<O>> {
    return this.add(index, ops.update(u, o));
  }
}

for (const [name, build] of Object.entries(ops)) {
  if (name === 'update') continue;
  Object.defineProperty(Txn.prototype, name, {
    value(this: Txn, index: number, ...a: unknown[]) {
      return this.add(index, (build as (...x: unknown[]) => OpSpec<unknown>)(...a));
    },
    writable: true,
    configurable: true,
  });
}

export { AbortedError };
