// A 3-primary Redis Cluster: node-redis createCluster routes by the first key, TXNs
// over hash-tagged keys run, keys in different slots are CROSSSLOT. ioredis's Cluster
// follows MOVED redirections.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createCluster } from 'redis';
import Redis from 'ioredis';
import { AbortedError, CrossSlotError, atomicdoc, type AtomicDoc } from '../src';
import { startCluster, type Cluster } from './server';

let cluster: Cluster;
let nodeRedis: { connect(): Promise<unknown>; close(): Promise<unknown> };
let io: InstanceType<typeof Redis.Cluster>;
let db: AtomicDoc;

before(async () => {
  cluster = await startCluster();
  const c = createCluster({ rootNodes: cluster.nodes.map((n) => ({ url: n.url })) });
  nodeRedis = c;
  await c.connect();
  db = atomicdoc(c);
  io = new Redis.Cluster(cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })), { lazyConnect: true });
  await io.connect();
});
after(async () => {
  await nodeRedis?.close();
  io?.disconnect();
  await cluster?.stop();
});

test('documents spread over the slots of all nodes, each command routed by its key', async () => {
  const keys = Array.from({ length: 60 }, (_x, i) => `doc:${i}`);
  for (const k of keys) {
    await db.set(k, '$', { n: 0, key: k });
    assert.equal(await db.incr(k, '$.n', 5), 5);
  }
  for (const k of keys) assert.deepEqual(await db.get(k), { n: 5, key: k });
  const counts = cluster.nodes.map((n) => n.port);
  assert.equal(counts.length, 3);
});

test('a TXN over hash-tagged keys runs on their node; keys of different slots are CROSSSLOT', async () => {
  await db.mset([['{user:1}:acct', '$', { balance: 50 }], ['{user:1}:outbox', '$', { tasks: [] }]]);
  const r = await db.txn(['{user:1}:acct', '{user:1}:outbox'], (t) => {
    t.check(0, '$.balance', '>=', 30);
    return { left: t.incr(0, '$.balance', -30), queued: t.push(1, '$.tasks', { type: 'charge', amount: 30 }) };
  });
  assert.deepEqual(r, { left: 20, queued: 1 });
  await assert.rejects(db.txn(['{user:1}:acct', '{user:1}:outbox'], (t) => { t.check(0, '$.balance', '>=', 30); }), AbortedError);
  await assert.rejects(db.txn(['{a}x', '{b}y'], (t) => { t.get(0); }), CrossSlotError);
  assert.deepEqual(await db.mget(['{user:1}:acct', '{user:1}:outbox'], '$'), [{ balance: 20 }, { tasks: [{ type: 'charge', amount: 30 }] }]);
});

test('an ioredis Cluster reaches the same documents', async () => {
  const x = atomicdoc(io);
  for (let i = 0; i < 20; i++) assert.deepEqual(await x.get(`doc:${i}`, '$.n'), 5);
  assert.equal(await x.incr('doc:3', '$.n', 1), 6);
  assert.deepEqual(await x.txn(['{user:1}:acct'], (t) => t.get(0, '$.balance')), 20);
});
