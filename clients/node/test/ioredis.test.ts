// The same package on an ioredis client: replies, errors and TXNs as with node-redis.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Redis from 'ioredis';
import { AbortedError, BadPathError, NoPathError, _, atomicdoc, type AtomicDoc } from '../src';
import { startServer, type Server } from './server';

let server: Server;
let io: Redis;
let exact: Redis;
let db: AtomicDoc;

before(async () => {
  server = await startServer();
  io = new Redis(server.port, '127.0.0.1', { lazyConnect: true });
  exact = new Redis(server.port, '127.0.0.1', { lazyConnect: true, stringNumbers: true });
  await io.connect();
  await exact.connect();
  db = atomicdoc(io);
});
after(async () => {
  io?.disconnect();
  exact?.disconnect();
  await server?.stop();
});

test('commands give the same JavaScript values through ioredis', async () => {
  assert.equal(await db.set('k', '$', { n: 1, f: 1.5, on: false, items: [{ sku: 'X' }], big: 2n ** 60n }), true);
  const v0 = await db.version('k');
  assert.deepEqual(await db.get('k', '$.items'), [{ sku: 'X' }]);
  assert.equal(await db.get('k', '$.big'), 2n ** 60n);
  assert.equal(await db.incr('k', '$.n', 2), 3);
  assert.equal(await db.incr('k', '$.f', 1), 2.5);
  assert.equal(await db.toggle('k', '$.on'), true);
  assert.equal(await db.type('k', '$.f'), 'number');
  assert.deepEqual(await db.keys('k'), ['n', 'f', 'on', 'items', 'big']);
  assert.equal(await db.doc('k').update({ data: { items: _.pull({ sku: 'X' }) } }), true);
  assert.deepEqual(await db.doc('k').get('$.items'), { value: [], version: v0 + 4 });
  assert.equal(await db.cas('k', '$.n', 3, 4), true);
  assert.equal(await db.pop('k', '$.items'), undefined);
});

test('ioredis errors map to the same classes', async () => {
  await assert.rejects(db.get('k', '$['), BadPathError);
  await assert.rejects(db.set('k', '$.items[3]', 1), NoPathError);
  await assert.rejects(db.txn(['k'], (t) => { t.check(0, '$.n', '>', 100); }),
    (e: unknown) => e instanceof AbortedError && e.index === 0 && e.opCode === 'CHECK');
});

test('with stringNumbers: true, int64 integer replies beyond 2^53 stay exact', async () => {
  const x = atomicdoc(exact);
  await x.set('big', '$', { n: 9007199254740993n });
  const v0 = await x.version('big');
  assert.equal(await x.incr('big', '$.n', 1), 9007199254740994n);
  assert.equal(await x.version('big'), v0 + 1);
  assert.deepEqual(await x.txn(['big'], (t) => [t.incr(0, '$.n', 1), t.len(0)]), [9007199254740995n, 1]);
});
