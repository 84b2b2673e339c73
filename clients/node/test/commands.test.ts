// Every DOC.* command through node-redis against a real server: JavaScript values in
// and out, reply types as documented, each error code as its class.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createClient } from 'redis';
import {
  BadSyntaxError, BadUpdateError, toError,
  ABSENT, AbortedError, AtomicdocError, BadFilterError, BadJsonError, BadPathError, BadTypeError, CommandError,
  NoPathError, OverflowError, TooDeepError, WrongTypeError, _, atomicdoc, type AtomicDoc,
} from '../src';
import { startServer, type Server } from './server';

let server: Server;
let client: ReturnType<typeof createClient>;
let db: AtomicDoc;

before(async () => {
  server = await startServer();
  client = createClient({ url: server.url });
  await client.connect();
  db = atomicdoc(client);
});
after(async () => {
  await client?.close();
  await server?.stop();
});

test('set and get take and give JavaScript values; missing is undefined, JSON null is null', async () => {
  assert.equal(await db.set('u:1', '$', { name: 'Ada', tags: ['admin'], n: null, f: 2.5, ok: true }), true);
  assert.deepEqual(await db.get('u:1'), { name: 'Ada', tags: ['admin'], n: null, f: 2.5, ok: true });
  assert.equal(await db.get('u:1', '$.n'), null);
  assert.equal(await db.get('u:1', '$.nope'), undefined);
  assert.equal(await db.get('no:such'), undefined);
  assert.equal(await db.set('u:1', '$.address.city', 'Paris'), true);
  assert.equal(await db.set('u:1', '$.name', 'Bob', { nx: true }), false);
  assert.equal(await db.set('u:1', '$.zip', 'x', { xx: true }), false);
  assert.equal(await db.get('u:1', 'address.city'), 'Paris');
  assert.deepEqual(await db.get('u:1', '$..city'), ['Paris']);
  assert.deepEqual(await db.getPaths('u:1', ['$.name', '$.tags[0]', '$.zz']), ['Ada', 'admin', undefined]);
  assert.deepEqual(await db.getWithVersion('u:1', '$.name'), { value: 'Ada', version: 2 });
  assert.deepEqual(await db.getWithVersion('no:such'), { value: undefined, version: 0 });
});

test('int64 beyond 2^53 round-trips as BigInt, through JSON text and integer replies', async () => {
  await db.set('big', '$', { n: 9007199254740993n, small: 5 });
  assert.equal(await db.get('big', '$.n'), 9007199254740993n);
  assert.equal(await db.incr('big', '$.n', 1), 9007199254740994n);
  assert.equal(await db.incr('big', '$.n', 9223372036854775807n - 9007199254740994n), 9223372036854775807n);
  await assert.rejects(db.incr('big', '$.n', 1), OverflowError);
  assert.equal(await db.incr('big', '$.small', 1), 6);
  assert.equal(typeof (await db.incr('big', '$.small', 1)), 'number');
});

test('mset, mget, del, version, type, len, keys', async () => {
  await db.mset([['m:a', '$', { x: [1, 2, 3] }], ['m:b', '$', 'text']]);
  assert.deepEqual(await db.mget(['m:a', 'm:b', 'm:none'], '$'), [{ x: [1, 2, 3] }, 'text', undefined]);
  assert.equal(await db.type('m:a', '$.x'), 'array');
  assert.equal(await db.type('m:b'), 'string');
  assert.equal(await db.type('m:none'), undefined);
  assert.deepEqual(await db.type('m:a', '$.x[*]'), ['integer', 'integer', 'integer']);
  assert.equal(await db.len('m:a', '$.x'), 3);
  assert.equal(await db.len('m:b'), 4);
  assert.deepEqual(await db.keys('m:a'), ['x']);
  assert.deepEqual(await db.keys('m:a', '$..*'), [undefined, undefined, undefined, undefined]);
  const v0 = await db.version('m:a');   // a new document: above every version given so far
  assert.ok(v0 >= 1);
  assert.equal(await db.version('m:none'), 0);
  assert.equal(await db.del('m:a', '$.x[0]'), true);
  assert.equal(await db.del('m:a', '$.x[9]'), false);
  assert.equal(await db.version('m:a'), v0 + 1);
  assert.equal(await db.del('m:a'), true);
  assert.equal(await db.get('m:a'), undefined);
});

test('number commands: incr with bounds, doubles, mul, min, max', async () => {
  await db.set('n', '$', { stock: 1, price: 10 });
  assert.equal(await db.incr('n', '$.stock', -1, { min: 0 }), 0);
  assert.equal(await db.incr('n', '$.stock', -1, { min: 0 }), null);
  assert.equal(await db.incr('n', '$.stock', 5, { max: 3 }), null);
  assert.equal(await db.incr('n', '$.price', 2.5), 12.5);
  assert.equal(await db.incr('n', '$.created', 7), 7);
  assert.equal(await db.mul('n', '$.price', 2), 25);
  assert.equal(await db.mul('n', '$.created', 3), 21);
  assert.equal(await db.min('n', '$.price', 3), 3);
  assert.equal(await db.max('n', '$.price', 1), 3);
  assert.equal(await db.max('n', '$.name', 'zeta'), 'zeta');
  assert.equal(await db.get('n', '$.stock'), 0);
});

test('string, array and boolean commands', async () => {
  await db.set('a', '$', { s: 'ab', items: [{ sku: 'A', qty: 1 }, { sku: 'X', qty: 2 }], set: ['u1'], on: false });
  assert.equal(await db.strappend('a', '$.s', 'cé'), 5);
  assert.equal(await db.push('a', '$.items', { sku: 'B', qty: 0 }), 3);
  assert.equal(await db.pushEach('a', '$.log', ['x', 'y', 'z'], { keep: 2 }), 2);
  assert.deepEqual(await db.get('a', '$.log'), ['y', 'z']);
  assert.equal(await db.push('a', '$.log', 'first', { at: 0 }), 3);
  assert.equal(await db.pop('a', '$.log', 'first'), 'first');
  assert.equal(await db.pop('a', '$.log'), 'z');
  assert.equal(await db.pop('a', '$.log', 0), 'y');
  assert.equal(await db.pop('a', '$.log'), undefined);
  assert.equal(await db.pullWhere('a', '$.items', { qty: _.lt(1) }), 1);
  assert.equal(await db.pull('a', '$.items', { qty: 2, sku: 'X' }), 1);
  assert.equal(await db.pullEach('a', '$.items', [{ sku: 'A', qty: 1 }, 'nothing']), 1);
  assert.equal(await db.addToSet('a', '$.set', 'u1'), false);
  assert.equal(await db.addToSet('a', '$.set', 'u2'), true);
  assert.equal(await db.addToSetEach('a', '$.set', ['u3', 'u2', 'u3']), 1);
  assert.equal(await db.indexOf('a', '$.set', 'u3'), 2);
  assert.equal(await db.indexOf('a', '$.set', 'none'), -1);
  assert.equal(await db.toggle('a', '$.on'), true);
  assert.equal(await db.toggle('a', '$.on'), false);
  assert.equal(await db.clear('a', '$.set'), true);
  assert.equal(await db.clear('a', '$.set'), false);
  await db.merge('a', '$', { s: null, added: { deep: 1 } });
  assert.deepEqual(await db.get('a'), { items: [], set: [], on: false, log: [], added: { deep: 1 } });
});

test('cas swaps only on the expected value, or with ABSENT only when missing', async () => {
  await db.set('seat', '$', { claimedBy: null });
  assert.equal(await db.cas('seat', '$.claimedBy', null, 'alice'), true);
  assert.equal(await db.cas('seat', '$.claimedBy', null, 'bob'), false);
  assert.equal(await db.cas('seat', '$.owner', ABSENT, 'w1'), true);
  assert.equal(await db.cas('seat', '$.owner', ABSENT, 'w2'), false);
  assert.deepEqual(await db.get('seat'), { claimedBy: 'alice', owner: 'w1' });
});

test('update: MongoDB vocabulary with if, upsert, returnDocument and arrayFilters', async () => {
  await db.set('item', '$', { stock: 1, lines: [{ qty: 1 }, { qty: 5 }] });
  const d = db.doc('item');
  assert.equal(await d.update({ $inc: { stock: -1 } }, { if: { stock: { $gt: 0 } } }), true);
  assert.equal(await d.update({ $inc: { stock: -1 } }, { if: { stock: _.gt(0) } }), false);
  assert.deepEqual(await d.update({ $set: { 'lines.$[l].big': true } }, { arrayFilters: [{ 'l.qty': _.gt(2) }], returnDocument: 'after' }),
    { stock: 0, lines: [{ qty: 1 }, { qty: 5, big: true }] });
  assert.deepEqual(await d.update({ $inc: { stock: 5 } }, { returnDocument: 'before' }),
    { stock: 0, lines: [{ qty: 1 }, { qty: 5, big: true }] });
  assert.equal(await d.update({ $inc: { stock: 1 } }, { if: { stock: 0 }, returnDocument: 'after' }), null);
  const up = db.doc('user:9');
  assert.deepEqual(await up.update({ $set: { seen: true }, $setOnInsert: { created: 1 } }, { if: { _id: 9 }, upsert: true, returnDocument: 'after' }),
    { _id: 9, seen: true, created: 1 });
  assert.equal(await db.update('nobody', { $inc: { a: 1 } }), false);
});

test('update: WeChat-style {data} with the _ builder', async () => {
  const orders = db.collection('orders');
  const o = orders.doc(7);
  assert.equal(o.key, 'orders:7');
  await o.set('$', { items: [{ sku: 'A' }, { sku: 'X' }], total: 30, tags: [], meta: { a: 1 } });
  const v0 = await o.version();
  assert.equal(await o.update({ data: { items: _.pull({ sku: 'X' }), total: _.inc(-12), tags: _.addToSet('new'), meta: { b: 2 } } }), true);
  assert.deepEqual(await o.value(), { items: [{ sku: 'A' }], total: 18, tags: ['new'], meta: { a: 1, b: 2 } });
  await o.update({ data: { items: _.push({ each: [{ sku: 'C' }, { sku: 'B' }], sort: { sku: 1 }, slice: 2 }), meta: _.set({ c: 3 }), tags: _.remove() } });
  assert.deepEqual(await o.value(), { items: [{ sku: 'A' }, { sku: 'B' }], total: 18, meta: { c: 3 } });
  const { value, version } = await o.get();
  assert.equal(version, v0 + 2);
  assert.deepEqual((value as { meta: unknown }).meta, { c: 3 });
});

test('each error code word arrives as its own class with code and position', async () => {
  await db.set('e', '$', { s: 'x', a: [1], n: 9223372036854775807n });
  await client.set('plain', 'x');
  const cases: Array<[() => Promise<unknown>, new (...a: never[]) => AtomicdocError, string]> = [
    [() => db.send(['DOC.SET', 'e', '$.j', '{"a":1,'], 'e', false), BadJsonError, 'BADJSON'],
    [() => db.get('e', '$['), BadPathError, 'BADPATH'],
    [() => db.set('e', '$.a[5]', 1), NoPathError, 'NOPATH'],
    [() => db.incr('e', '$.s', 1), BadTypeError, 'BADTYPE'],
    [() => db.incr('e', '$.n', 1), OverflowError, 'OVERFLOW'],
    [() => db.set('deep', '$', JSON.parse('['.repeat(200) + ']'.repeat(200))), TooDeepError, 'TOODEEP'],
    [() => db.pullWhere('e', '$.a', { $in: 1 }), BadFilterError, 'BADFILTER'],
    [() => db.get('plain'), WrongTypeError, 'WRONGTYPE'],
    [() => db.update('e', { $bogus: { a: 1 } }), BadUpdateError, 'BADUPDATE'],
    [() => db.send(['DOC.GET', 'e', '$.s', 'WITHVERSION'], 'e', false), BadSyntaxError, 'SYNTAX'],
    [() => db.send(['DOC.MUL', 'e', '$.n', '2', '3'], 'e', false), CommandError, 'ERR'],
    [() => db.txn(['e'], (t) => { t.incr(0, '$.s', 1); }), AbortedError, 'ABORTED'],
  ];
  for (const [run, cls, code] of cases) {
    await assert.rejects(run(), (e: unknown) => {
      assert.ok(e instanceof cls, `${code}: got ${String(e)}`);
      assert.ok(e instanceof AtomicdocError && e instanceof Error);
      assert.equal(e.code, code);
      assert.equal(e.name, cls.name);
      assert.ok(e.message.startsWith(code + ' '), e.message);
      return true;
    });
  }
  await assert.rejects(db.send(['DOC.SET', 'e', '$.j', '{"a":1,'], 'e', false), (e: unknown) => e instanceof BadJsonError && e.position === 7);
  await assert.rejects(db.get('e', '$['), (e: unknown) => e instanceof BadPathError && e.position === 2);
  assert.deepEqual(await db.get('e', '$.s'), 'x', 'no failed command changed the document');
});

// A reply error as drivers raise it (ioredis names its class ReplyError).
test('an unknown leading code word maps to AtomicdocError with its code (error text parsing)', () => {
  const e = toError('NEWCODE something new at character 3');
  assert.ok(e.constructor === AtomicdocError && e.code === 'NEWCODE' && e.position === 3, String(e));
  const n = toError('ABORTED op 3: NEWCODE newer code');
  assert.ok(n instanceof AbortedError && n.index === 2 && n.op === 3 && n.opCode === 'NEWCODE' &&
    n.opMessage === 'NEWCODE newer code' && n.cause instanceof AtomicdocError && (n.cause as AtomicdocError).code === 'NEWCODE');
  assert.ok(toError('SYNTAX keyword in the wrong place') instanceof BadSyntaxError);
});

test('values JSON cannot hold are refused before anything is sent', async () => {
  await assert.rejects(db.set('x', '$', { n: NaN }), TypeError);
  await assert.rejects(db.incr('x', '$.n', Infinity), TypeError);
  assert.equal(await db.get('x'), undefined);
});
