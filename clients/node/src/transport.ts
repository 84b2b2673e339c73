/*
 * transport.ts - one way to send a command, whatever the driver.
 *
 * A Sender takes the full argument list (all strings: node-redis refuses numbers), the
 * key that routes the command in a cluster, and whether the command only reads. It
 * returns the raw reply, with error replies turned into our error classes. Drivers:
 *   - node-redis (`redis` v4 or later) client: sendCommand(args, options). On v5+ the
 *     options ask for integer replies as strings, so int64 results beyond 2^53 stay
 *     exact (v4 ignores the option and gives numbers).
 *   - node-redis cluster (createCluster): sendCommand(firstKey, isReadonly, args, options):
 *     the first key picks the slot's node.
 *   - ioredis client or Cluster: call(name, ...args). ioredis gives integer replies as
 *     numbers unless the client was made with `stringNumbers: true`.
 *   - a function (args, firstKey, readonly) => Promise<reply>, for anything else.
 */
import { mapDriverError } from './errors';

export type Sender = (args: string[], firstKey: string | undefined, readonly: boolean) => Promise<unknown>;

/** Anything `atomicdoc()` accepts as a connection. */
export type Connection = object | Sender;

// RESP_TYPES.NUMBER of node-redis (':' = 58): integer replies as decimal strings.
const INTEGERS_AS_TEXT = { typeMapping: { 58: String } };

interface NodeRedisClient {
  sendCommand(args: string[], options?: object): Promise<unknown>;
}
interface NodeRedisCluster {
  sendCommand(firstKey: string | undefined, isReadonly: boolean, args: string[], options?: object): Promise<unknown>;
}
interface IoRedis {
  call(name: string, ...args: string[]): Promise<unknown>;
}

function has(o: object, name: string): boolean {
  return typeof (o as Record<string, unknown>)[name] === 'function';
}

/** The Sender for a driver's client (see the file comment); throws TypeError for others. */
export function senderFor(conn: Connection): Sender {
  let raw: Sender;
  if (typeof conn === 'function') {
    raw = conn as Sender;
  } else if (has(conn, 'call') && 'status' in conn) {
    const c = conn as unknown as IoRedis;
    raw = (args) => c.call(args[0], ...args.slice(1));
  } else if (has(conn, 'sendCommand') && (has(conn, 'getSlotMaster') || 'masters' in conn)) {
    const c = conn as unknown as NodeRedisCluster;
    raw = (args, key, ro) => c.sendCommand(key, ro, args, INTEGERS_AS_TEXT);
  } else if (has(conn, 'sendCommand') && 'isOpen' in conn) {
    const c = conn as unknown as NodeRedisClient;
    raw = (args) => c.sendCommand(args, INTEGERS_AS_TEXT);
  } else {
    throw new TypeError('atomicdoc: expected a node-redis client or cluster, an ioredis client, or a send function');
  }
  return async (args, key, ro) => {
    try {
      return await raw(args, key, ro);
    } catch (e) {
      throw mapDriverError(e);
    }
  };
}
