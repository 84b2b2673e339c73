// The seed scenarios as concurrent programs: 25 clients, each on its own connection,
// racing on the same documents. Every check is an invariant that a read-modify-write
// from the application would break.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createClient } from 'redis';
import { AbortedError, _, atomicdoc, type AtomicDoc } from '../src';
import { startServer, type Server } from './server';

const CLIENTS = 25;
let server: Server;
let conns: Array<{ close(): Promise<unknown> }> = [];
let dbs: AtomicDoc[] = [];

before(async () => {
  server = await startServer();
  conns = await Promise.all(Array.from({ length: CLIENTS }, () => createClient({ url: server.url }).connect()));
  dbs = conns.map((c) => atomicdoc(c));
});
after(async () => {
  await Promise.all(conns.map((c) => c.close()));
  await server?.stop();
});

function shuffled<T>(a: T[]): T[] {
  const b = a.slice();
  for (let i = b.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [b[i], b[j]] = [b[j], b[i]];
  }
  return b;
}

test('25 clients pulling every item of one order: each item is removed exactly once', async () => {
  const items = Array.from({ length: 200 }, (_x, i) => ({ sku: `S${i}`, qty: 1 + (i % 3) }));
  await dbs[0].set('order:race', '$', { items, total: 400 });
  const raceVersion = await dbs[0].version('order:race');
  const removedBy = await Promise.all(dbs.map(async (db, c) => {
    const mine: string[] = [];
    for (const { sku } of shuffled(items)) {
      // half the clients in WeChat style, half with DOC.PULL WHERE: the same command
      const n = c % 2
        ? Number(await db.doc('order:race').update({ data: { items: _.pull({ sku }) } }))
        : await db.pullWhere('order:race', '$.items', { sku });
      if (n) mine.push(sku);
    }
    return mine;
  }));
  const all = removedBy.flat();
  assert.equal(all.length, items.length, 'every pull that removed something removed a distinct item');
  assert.deepEqual(new Set(all), new Set(items.map((i) => i.sku)));
  assert.deepEqual(await dbs[0].get('order:race', '$.items'), []);
  assert.equal(await dbs[0].version('order:race'), raceVersion + items.length, 'only pulls that removed something moved the version');
});

test('25 clients making random transfers: no balance below 0, the total conserved, readers never see a half transfer', async () => {
  const accounts = Array.from({ length: 5 }, (_x, i) => `{bank}:acct:${i}`);
  await dbs[0].mset(accounts.map((k) => [k, '$', { balance: 100 }] as [string, string, unknown]));
  const firstVersions = await Promise.all(accounts.map((k) => dbs[0].version(k)));
  let committed = 0;
  let aborted = 0;
  let readsChecked = 0;
  let writersDone = false;
  const reader = (async () => {
    while (!writersDone) {
      const balances = (await dbs[0].mget(accounts, '$.balance')) as number[];
      assert.equal(balances.reduce((a, b) => a + b, 0), 500);
      assert.ok(balances.every((b) => b >= 0), `negative balance in ${balances}`);
      readsChecked++;
    }
  })();
  await Promise.all(dbs.slice(1).map(async (db) => {
    for (let i = 0; i < 40; i++) {
      const from = Math.floor(Math.random() * 5);
      const to = (from + 1 + Math.floor(Math.random() * 4)) % 5;
      const amount = 1 + Math.floor(Math.random() * 60);
      try {
        const r = await db.txn([accounts[from], accounts[to]], (t) => {
          t.check(0, '$.balance', '>=', amount);
          return [t.incr(0, '$.balance', -amount), t.incr(1, '$.balance', amount)];
        });
        assert.ok((r[0] as number) >= 0);
        committed++;
      } catch (e) {
        assert.ok(e instanceof AbortedError && e.index === 0 && e.opCode === 'CHECK', String(e));
        aborted++;
      }
    }
  }));
  writersDone = true;
  await reader;
  assert.equal(committed + aborted, (CLIENTS - 1) * 40);
  assert.ok(committed > 0 && readsChecked > 0);
  const balances = (await dbs[0].mget(accounts, '$.balance')) as number[];
  assert.equal(balances.reduce((a, b) => a + b, 0), 500);
  const versions = await Promise.all(accounts.map((k) => dbs[0].version(k)));
  assert.equal(versions.reduce((a, b) => a + b, 0) - firstVersions.reduce((a, b) => a + b, 0), 2 * committed, 'each committed transfer moved two versions by one');
});

test('25 buyers booking 10 seats at once: exactly one winner per seat', async () => {
  const seats = Array.from({ length: 10 }, (_x, i) => `seat:${i}`);
  for (const s of seats) await dbs[0].set(s, '$', { claimedBy: null });
  const seatVersions = await Promise.all(seats.map((s) => dbs[0].version(s)));
  const wins = await Promise.all(dbs.map(async (db, buyer) => {
    const mine: string[] = [];
    for (const s of shuffled(seats)) {
      // CAS for even buyers; MongoDB-style conditional update for odd ones
      const won = buyer % 2
        ? await db.update(s, { $set: { claimedBy: `b${buyer}` } }, { if: { claimedBy: null } })
        : await db.cas(s, '$.claimedBy', null, `b${buyer}`);
      if (won) mine.push(s);
    }
    return mine.map((s) => [s, `b${buyer}`] as const);
  }));
  const all = wins.flat();
  assert.equal(all.length, seats.length, 'one win per seat');
  for (const [s, buyer] of all) assert.equal(await dbs[0].get(s, '$.claimedBy'), buyer);
  for (const [i, s] of seats.entries()) assert.equal(await dbs[0].version(s), seatVersions[i] + 1, 'losing attempts did not move the version');
});

test('25 clients incrementing one hot counter 100 times each: nothing lost', async () => {
  await dbs[0].set('stats', '$', { orders: 0 });
  await Promise.all(dbs.map(async (db) => {
    for (let i = 0; i < 100; i++) await db.doc('stats').update({ data: { orders: _.inc(1) } });
  }));
  assert.equal(await dbs[0].get('stats', '$.orders'), CLIENTS * 100);
});
