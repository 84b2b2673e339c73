// DOC.TXN through the builder: typed results, aborts that change nothing, optimistic
// read-then-write with checkVersion.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createClient } from 'redis';
import { AbortedError, BadTypeError, _, atomicdoc, type AtomicDoc } from '../src';
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

test('a transfer returns typed results from the ops the callback returns', async () => {
  await db.set('acct:a', '$', { balance: 100 });
  await db.set('acct:b', '$', { balance: 20 });
  const r = await db.txn(['acct:a', 'acct:b'], (t) => {
    t.check(0, '$.balance', '>=', 30);
    const from = t.incr(0, '$.balance', -30);
    const to = t.incr(1, '$.balance', 30);
    return { from, to, both: [t.version(0), t.get(1, '$')] as const };
  });
  // compile-time: the result types follow the ops
  const from: number | bigint | null = r.from;
  const v: number = r.both[0];
  assert.equal(from, 70);
  assert.equal(r.to, 50);
  assert.equal(v, 1, 'a VERSION op inside a TXN sees the version before the TXN (it moves at commit)');
  assert.equal(await db.version('acct:a'), 2);
  assert.deepEqual(r.both[1], { balance: 50 });
});

test('a callback that returns nothing gets every op result in order', async () => {
  await db.set('t:1', '$', { n: 1, on: true, list: [3], s: 'a' });
  const all = await db.txn(['t:1', 't:new'], (t) => {
    t.get(0, '$.n');
    t.set(1, '$', { created: true });
    t.check(1, '$.created', 'exists');
    t.match(0, { n: _.gte(1) });
    t.toggle(0, '$.on');
    t.type(0, '$.list');
    t.len(0, '$.list');
    t.keys(0);
    t.push(0, '$.list', 4, { at: 0 });
    t.pop(0, '$.list', 'last');
    t.pull(0, '$.list', 4);
    t.pullWhere(0, '$.list', { $gt: 10 });
    t.addToSet(0, '$.list', 5);
    t.indexOf(0, '$.list', 5);
    t.strappend(0, '$.s', 'bc');
    t.mul(0, '$.n', 3);
    t.min(0, '$.n', 2);
    t.max(0, '$.n', 9);
    t.incr(0, '$.n', 100, { max: 10 });
    t.cas(0, '$.s', 'abc', 'x');
    t.merge(0, '$', { m: 1 });
    t.clear(0, '$.list');
    t.del(0, '$.m');
    t.update(0, { $inc: { n: 1 } }, { returnDocument: 'after' });
    t.version(1);
  });
  assert.deepEqual(all, [1, true, undefined, undefined, false, 'array', 1, ['n', 'on', 'list', 's'], 2, 3, 1, 0, true, 0, 3, 3, 2, 9,
    null, true, undefined, true, true, { n: 10, on: false, list: [], s: 'x' }, 0]);
});

test('an abort throws AbortedError with the op index, code and message, and changes nothing', async () => {
  await db.set('acct:c', '$', { balance: 10 });
  await db.set('acct:d', '$', { balance: 0, name: 'd' });
  const before = await db.mget(['acct:c', 'acct:d']);
  const vc = await db.version('acct:c');
  await assert.rejects(db.txn(['acct:c', 'acct:d'], (t) => {
    t.incr(0, '$.balance', -30);
    t.incr(1, '$.balance', 30);
    t.check(0, '$.balance', '>=', 0);
  }), (e: unknown) => {
    assert.ok(e instanceof AbortedError);
    assert.equal(e.index, 2);
    assert.equal(e.op, 3);
    assert.equal(e.opCode, 'CHECK');
    assert.match(e.opMessage, /^CHECK GE failed: \$\["balance"\] is -20$/);
    return true;
  });
  await assert.rejects(db.txn(['acct:c', 'acct:d'], (t) => {
    t.incr(0, '$.balance', 1);
    t.incr(1, '$.name', 1);
  }), (e: unknown) => e instanceof AbortedError && e.index === 1 && e.opCode === 'BADTYPE' && e.cause instanceof BadTypeError);
  assert.deepEqual(await db.mget(['acct:c', 'acct:d']), before);
  assert.equal(await db.version('acct:c'), vc);
});

test('optimistic read-then-write: checkVersion refuses a write over a change made since the read', async () => {
  const profile = db.doc('profile:7');
  await profile.set('$', { email: 'old', tags: [] as string[] });
  const a = await profile.get();
  const b = await profile.get();
  const aDoc = { ...(a.value as object), email: 'new' };
  await profile.txn((t) => { t.checkVersion(0, a.version); t.set(0, '$', aDoc); });
  await assert.rejects(profile.txn((t) => { t.checkVersion(0, b.version); t.set(0, '$', { ...(b.value as object), tags: ['vip'] }); }),
    (e: unknown) => e instanceof AbortedError && e.index === 0 && /CHECK VERSION failed/.test(e.opMessage));
  const fresh = await profile.get();
  await profile.txn((t) => { t.checkVersion(0, fresh.version); t.set(0, '$', { ...(fresh.value as object), tags: ['vip'] }); });
  assert.deepEqual(await profile.value(), { email: 'new', tags: ['vip'] });
});

test('the builder refuses key positions out of range and async callbacks, sending nothing', async () => {
  await assert.rejects(db.txn(['k'], (t) => { t.get(1); }), RangeError);
  await assert.rejects(db.txn(['k'], async (t) => { t.get(0); }), TypeError);
  await assert.rejects(db.txn(['k'], () => {}), TypeError);
  await assert.rejects(db.txn([], (t) => { t.get(0); }), TypeError);
  await assert.rejects(db.txn(['k'], (t) => { t.check(0, '$.a', '~' as never, 1); }), TypeError);
});
