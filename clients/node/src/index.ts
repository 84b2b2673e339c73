/*
 * atomicdoc - a typed client for the atomicdoc Redis module.
 *
 *   import { createClient } from 'redis';
 *   import { atomicdoc, _ } from 'atomicdoc';
 *   const db = atomicdoc(await createClient().connect());
 *   await db.doc('order:7').update({ data: { items: _.pull({ sku: 'X' }) } });
 *
 * See README.md for every method.
 */
import { AtomicDoc } from './client';
import type { Connection } from './transport';

/** atomicdoc on a node-redis client or cluster, an ioredis client, or a send function. */
export function atomicdoc(conn: Connection): AtomicDoc {
  return new AtomicDoc(conn);
}

export { AtomicDoc, Collection, Doc, Op, Txn, type Resolved, type Versioned } from './client';
export * from './errors';
export { parseJson, stringifyJson, type JsonValue } from './json';
export {
  ABSENT,
  isQueryPath, type AllOps, type Comparison, type DocType, type IncrOptions, type Num, type OpSpec, type PerMatch, type PushOptions,
  type SetOptions, type UpdateOptions, type UpdateResult, type Value,
} from './ops';
export { senderFor, type Connection, type Sender } from './transport';
export { _, command, compileFilter, compileUpdate, QueryCommand, UpdateCommand, type Filter, type PushSpec, type Update } from './update';
