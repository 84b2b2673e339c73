// Writes at RFC 9535 query paths (README "Writes at query paths"): `all.<write>` resolves
// to one decoded result per match, through node-redis and ioredis, on AtomicDoc, Doc
// and Txn; the single-value methods refuse a query path before sending anything.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Redis from 'ioredis';
import { createClient } from 'redis';
import {
  AbortedError, BadTypeError, OverflowError, atomicdoc, isQueryPath, type AtomicDoc, type Num,
} from '../src';
import { startServer, type Server } from './server';

let server: Server;
let nodeRedis: ReturnType<typeof createClient>;
let io: Redis;

before(async () => {
  server = await startServer();
  nodeRedis = createClient({ url: server.url });
  await nodeRedis.connect();
  io = new Redis(server.port, '127.0.0.1', { lazyConnect: true, stringNumbers: true });
  await io.connect();
});
after(async () => {
  await nodeRedis?.close();
  io?.disconnect();
  await server?.stop();
});

test('isQueryPath: query constructs outside quotes, never a single or dot-style path', () => {
  for (const p of ['$.a[*]', '$.*', '$..a', '$.a[1:2]', '$.a[0,1]', '$.a[?@.x==1]', "$.a[?@.s=='*'].b"]) {
    assert.equal(isQueryPath(p), true, p);
  }
  for (const p of ['$', '$.a', '$.a[0]', '$.a[-1]', "$['a*b']", '$["a,b:c?"]', '$["q\\"*"]', "$['x\\'..y']",
    'a.*', 'a..b', '.', 'items.0.sku']) {
    assert.equal(isQueryPath(p), false, p);
  }
});

for (const [driver, connect] of [
  ['node-redis', () => atomicdoc(nodeRedis)],
  ['ioredis', () => atomicdoc(io)],
] as const) {
  describe(`writes at query paths through ${driver}`, () => {
    let db: AtomicDoc;
    const k = (name: string) => `${driver}:${name}`;
    before(() => {
      db = connect();
    });

    test('all.incr: one new number per match (BigInt beyond 2^53), null where MIN refused', async () => {
      const key = k('order');
      await db.set(key, '$', { items: [{ sku: 'A', qty: 1 }, { sku: 'X', qty: 2 }, { sku: 'X', qty: 5 }] });
      const r: (Num | null)[] = await db.all.incr(key, '$.items[?@.sku=="X"].qty', -1);
      assert.deepEqual(r, [1, 4]);
      assert.deepEqual(await db.all.incr(key, '$.items[*].qty', -2, { min: 0 }), [null, null, 2]);
      assert.deepEqual(await db.get(key, '$.items[*].qty'), [1, 1, 2]);
      await db.set(k('big'), '$', { a: { n: 9007199254740993n }, b: { n: 1 } });
      assert.deepEqual(await db.all.incr(k('big'), '$.*.n', 1), [9007199254740994n, 2]);
      assert.deepEqual(await db.all.mul(k('big'), '$.*.n', 0.5), [4503599627370497, 1]);
      // a single path through all: an array of one
      assert.deepEqual(await db.all.incr(key, '$.items[0].qty', 1), [2]);
    });

    test('all.pull / all.del / all.set / all.pop: each slot decoded as the single form', async () => {
      const key = k('lists');
      await db.set(key, '$', { l: [[1, 2, 1], [3], [1]], m: { x: [{ id: 1 }, { id: 2 }] } });
      const pulled: number[] = await db.all.pull(key, '$.l[*]', 1);
      assert.deepEqual(pulled, [2, 0, 1]);
      assert.deepEqual(await db.all.pullWhere(key, '$..x', { id: 2 }), [1]);
      assert.deepEqual(await db.all.pushEach(key, '$.l[*]', [7, 8]), [3, 3, 2]);
      const popped = await db.all.pop(key, '$.l[*]', 'first');
      assert.deepEqual(popped, [2, 3, 7]);
      await assert.rejects(db.all.pop(key, '$.m.x[*]'), BadTypeError); // {id: 1} is not an array
      const set: boolean[] = await db.all.set(key, '$.l[*]', { done: true });
      assert.deepEqual(set, [true, true, true]);
      assert.deepEqual(await db.all.set(key, '$.l[*]', 0, { nx: true }), [false, false, false]);
      assert.deepEqual(await db.all.toggle(key, '$.l[*].done'), [false, false, false]);
      const deleted: boolean[] = await db.all.del(key, '$.l[?@.done == false]');
      assert.deepEqual(deleted, [true, true, true]);
      assert.deepEqual(await db.get(key, '$.l'), []);
      await db.set(k('tree'), '$', { a: { a: { a: 1 } }, b: 2 });
      assert.deepEqual(await db.all.del(k('tree'), '$..a'), [true, true, true]);
      assert.deepEqual(await db.get(k('tree')), { b: 2 });
      await db.set(k('vals'), '$', { p: [[], [{ s: 'x' }]], q: [9007199254740993n, 3], o: [{ a: 1 }, { b: 2 }] });
      assert.deepEqual(await db.all.pop(k('vals'), '$.p[*]'), [undefined, { s: 'x' }]);
      assert.deepEqual(await db.all.max(k('vals'), '$.q[*]', 9007199254740995n), [9007199254740995n, 9007199254740995n]);
      assert.deepEqual(await db.all.min(k('vals'), '$.q[*]', 7), [7, 7]);
      const merged: void[] = await db.all.merge(k('vals'), '$.o[*]', { z: 1 });
      assert.equal(merged.length, 2);
      assert.deepEqual(await db.get(k('vals'), '$.o'), [{ a: 1, z: 1 }, { b: 2, z: 1 }]);
    });

    test('all.cas swaps at every match or at none', async () => {
      const key = k('show');
      await db.set(key, '$', { seats: [{ row: 'A', by: null }, { row: 'A', by: 'bo' }, { row: 'B', by: null }] });
      const v0 = await db.version(key);
      const missed: boolean[] = await db.all.cas(key, '$.seats[?@.row=="A"].by', null, 'al');
      assert.deepEqual(missed, [false, false]);
      assert.equal(await db.version(key), v0);
      assert.deepEqual(await db.all.cas(key, '$.seats[?@.row=="B"].by', null, 'al'), [true]);
      assert.deepEqual(await db.get(key, '$.seats[*].by'), [null, 'bo', 'al']);
    });

    test('zero matches: an empty array, nothing changed, no version move', async () => {
      const key = k('zero');
      await db.set(key, '$', { items: [{ qty: 1 }] });
      const v0 = await db.version(key);
      assert.deepEqual(await db.all.incr(key, '$.items[?@.sku=="Q"].qty', 1), []);
      assert.deepEqual(await db.all.pull(key, '$.nope[*]', 1), []);
      assert.deepEqual(await db.all.del(key, '$..zz'), []);
      assert.deepEqual(await db.all.set(key, '$.items[5:]', 1), []);
      assert.deepEqual(await db.all.cas(key, '$.none[*]', 1, 2), []);
      assert.deepEqual(await db.all.incr(k('no-such-key'), '$.a[*]', 1), []);
      assert.equal(await db.get(k('no-such-key')), undefined);
      assert.equal(await db.version(key), v0);
    });

    test('a failing match fails the whole write with its error class; nothing changed', async () => {
      const key = k('fail');
      const doc0 = { items: [{ sku: 'A', qty: 1 }, { sku: 'X', qty: 9223372036854775807n }] };
      await db.set(key, '$', doc0);
      const v0 = await db.version(key);
      await assert.rejects(db.all.incr(key, '$.items[*].sku', 1), BadTypeError);
      await assert.rejects(db.all.incr(key, '$.items[*].qty', 1), OverflowError); // the first match was written, then undone
      await assert.rejects(db.all.pull(key, '$.items[*]', 1), BadTypeError);
      await assert.rejects(db.all.push(key, '$.items[*].qty', 1), BadTypeError);
      await assert.rejects(db.all.toggle(key, '$.items[*].sku'), BadTypeError);
      await assert.rejects(db.all.strappend(key, '$.items[*].qty', 'x'), BadTypeError);
      assert.deepEqual(await db.get(key), doc0);
      assert.equal(await db.version(key), v0);
    });

    test('the single-value methods refuse a query path before sending (TypeError, nothing changed)', async () => {
      const key = k('single');
      await db.set(key, '$', { items: [{ qty: 1 }, { qty: 2 }] });
      const v0 = await db.version(key);
      await assert.rejects(db.incr(key, '$.items[*].qty', 1), (e: unknown) =>
        e instanceof TypeError && /query path.*all\.incr/.test(e.message));
      await assert.rejects(db.del(key, '$..qty'), TypeError);
      await assert.rejects(db.doc(key).cas('$.items[?@.qty>1].qty', 2, 3), TypeError);
      await assert.rejects(db.pushEach(key, '$.items[0,1]', [1]), TypeError);
      await assert.rejects(db.txn([key], (t) => { t.pull(0, '$.items[*]', 1); }), TypeError);
      assert.equal(await db.version(key), v0);
      assert.deepEqual(await db.get(key), { items: [{ qty: 1 }, { qty: 2 }] });
      // reads take query paths in their single form (README: a query read gives the matches)
      assert.deepEqual(await db.get(key, '$.items[*].qty'), [1, 2]);
      // DOC.MSET at a query path still replies OK
      await db.mset([[key, '$.items[*].qty', 0]]);
      assert.deepEqual(await db.get(key, '$.items[*].qty'), [0, 0]);
    });

    test('doc.all and t.all: the same per-match results, in a TXN too', async () => {
      const key = k('txn');
      const other = k('txn-other');
      await db.set(key, '$', { items: [{ qty: 1 }, { qty: 2 }], tags: [['a'], ['b', 'a']] });
      await db.set(other, '$', { n: 0 });
      assert.deepEqual(await db.doc(key).all.incr('$.items[*].qty', 10), [11, 12]);
      const r = await db.txn([key, other], (t) => ({
        qty: t.all.incr(0, '$.items[*].qty', 1, { max: 12 }),
        pulled: t.all.pull(0, '$.tags[*]', 'a'),
        none: t.all.del(0, '$.items[?@.qty > 100]'),
        n: t.incr(1, '$.n', 1),
      }));
      const typed: { qty: (Num | null)[]; pulled: number[]; none: boolean[]; n: Num | null } = r;
      assert.deepEqual(typed, { qty: [12, null], pulled: [1, 1], none: [], n: 1 });
      const v0 = await db.version(key);
      await assert.rejects(
        db.txn([key, other], (t) => {
          t.incr(1, '$.n', 1);
          t.all.incr(0, '$.tags[*]', 1);
        }),
        (e: unknown) => e instanceof AbortedError && e.index === 1 && e.opCode === 'BADTYPE' && e.cause instanceof BadTypeError,
      );
      assert.equal(await db.version(key), v0);
      assert.deepEqual(await db.get(other), { n: 1 });
      assert.deepEqual(await db.get(key), { items: [{ qty: 12 }, { qty: 12 }], tags: [[], ['b']] });
    });
  });
}
