// node-redis v5's own RedisJSON helpers (`client.json.*`, @redis/json) against atomicdoc
// on a real server, in RESP2 and RESP3. node-redis decodes each reply by its shape (a
// JSON text it parses, an array, a number, RESP3's [[...]] for JSON.TYPE), so every
// value asserted here proves the reply shape too. Every helper @redis/json 5.x has
// (JSON.RESP is commented out of its index, so it has none), both path dialects.
//
// RESP3: node-redis v5 makes commands flagged `unstableResp3` (RediSearch, some
// time-series ones) throw under `RESP: 3` unless the client sets `unstableResp3: true`
// (its docs/v5.md "Unstable module commands"; redis/node-redis#2989). No @redis/json
// command carries the flag (5.12.1), so the RESP3 clients below need no opt-in; a test
// proves the plain RESP3 client runs them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient } from 'redis';
import { startServer, type Server } from './server';

let server: Server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

// The client's type differs by protocol; the helpers are the same functions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function withClient(resp: 2 | 3, fn: (json: Json, raw: (...args: string[]) => Promise<unknown>) => Promise<void>) {
  const client = createClient({ url: server.url, RESP: resp });
  await client.connect();
  try {
    await client.flushAll();
    await fn(client.json, (...args: string[]) => client.sendCommand(args));
  } finally {
    await client.close();
  }
}

for (const resp of [2, 3] as const) {
  describe(`node-redis client.json, RESP${resp}`, () => {
    test('set, get, mGet, mSet, merge, del, forget: values in and out, both dialects', async () => {
      await withClient(resp, async (json, raw) => {
        const doc = { name: 'Ada', tags: ['a', 'b'], n: 1, on: true, o: { x: 1, y: { x: 2 } }, s: 'hi' };
        assert.equal(await json.set('u', '$', doc), 'OK');
        // No path: `.` in RESP3 too, so the document itself, not [document].
        assert.deepEqual(await json.get('u'), doc);
        assert.equal(await json.get('u', { path: '.name' }), 'Ada');
        assert.deepEqual(await json.get('u', { path: '$.name' }), ['Ada']);
        assert.deepEqual(await json.get('u', { path: '$..x' }), [1, 2]);
        assert.deepEqual(await json.get('u', { path: ['.name', '.n'] }), { '.name': 'Ada', '.n': 1 });
        assert.deepEqual(await json.get('u', { path: ['$.name', '$.n'] }), { '$.name': ['Ada'], '$.n': [1] });
        assert.deepEqual(await json.get('u', { path: ['.name', '$.n'] }), { '.name': ['Ada'], '$.n': [1] });
        assert.equal(await json.get('missing'), null);
        await assert.rejects(json.get('u', { path: '.nope' }), /Path '\.nope' does not exist/);
        assert.deepEqual(await json.get('u', { path: '$.nope' }), []);
        assert.equal(await json.set('u', '$.name', 'Bob', { NX: true }), null);
        assert.equal(await json.set('u', '$.new', 5, { NX: true }), 'OK');
        assert.equal(await json.set('u', '$.zzz', 5, { XX: true }), null);
        assert.equal(await json.set('u', '.name', 'Eve', { condition: 'XX' }), 'OK');
        assert.equal(await json.set('u', '$.no.parent', 1), null);
        await assert.rejects(json.set('nokey', '$.a', 1), /new objects must be created at the root/);
        assert.equal(await json.set('v', '.', { name: 'Cy', n: 2 }), 'OK');
        assert.deepEqual(await json.mGet(['u', 'v', 'missing'], '.name'), ['Eve', 'Cy', null]);
        assert.deepEqual(await json.mGet(['u', 'v', 'missing'], '$.name'), [['Eve'], ['Cy'], null]);
        assert.equal(await json.mSet([{ key: 'm1', path: '$', value: { a: 1 } }, { key: 'v', path: '$.n', value: 3 }]), 'OK');
        assert.deepEqual(await json.get('v'), { name: 'Cy', n: 3 });
        assert.equal(await json.merge('m1', '$', { b: { c: 2 }, a: null }), 'OK');
        assert.deepEqual(await json.get('m1'), { b: { c: 2 } });
        const before = (await raw('DOC.VERSION', 'm1')) as number;
        assert.equal(await json.merge('m1', '.b', { d: 3 }), 'OK');
        assert.deepEqual(await json.get('m1', { path: '$.b' }), [{ c: 2, d: 3 }]);
        assert.equal(await json.forget('u', { path: '.s' }), 1);
        assert.equal(await json.del('u', { path: '$..x' }), 2);
        assert.equal(await json.del('u', { path: '.nope' }), 0);
        assert.equal(await json.del('missing'), 0);
        assert.equal(await json.del('v'), 1);
        assert.equal(await raw('EXISTS', 'v'), 0);
        // A key JSON.* wrote is a document DOC.* read, and its version moved with JSON.MERGE.
        assert.equal(await raw('DOC.TYPE', 'm1', '$.b'), 'object');
        assert.ok(((await raw('DOC.VERSION', 'm1')) as number) > before);
      });
    });

    test('type, numIncrBy, numMultBy: the shapes node-redis decodes per protocol', async () => {
      await withClient(resp, async (json, raw) => {
        await json.set('n', '$', { a: 1, b: [{ a: 2.5 }, { a: 'x' }], t: true });
        // JSON.TYPE: RESP3 wraps it in one more array, which node-redis unwraps.
        assert.equal(await json.type('n'), 'object');
        assert.equal(await json.type('n', { path: '.b' }), 'array');
        assert.deepEqual(await json.type('n', { path: '$..a' }), ['integer', 'number', 'string']);
        assert.deepEqual(await json.type('n', { path: '$.zz' }), []);
        assert.equal(await json.type('n', { path: '.zz' }), null);
        assert.equal(await json.type('missing'), null);
        // `$`: RESP2 replies the JSON text "[2,3.5,null]", RESP3 an array of numbers.
        assert.deepEqual(await json.numIncrBy('n', '$..a', 1), [2, 3.5, null]);
        assert.deepEqual(await json.numMultBy('n', '$..a', 2), [4, 7, null]);
        // Legacy paths: RESP2 the number's text; RESP3 one number per match, as RedisJSON.
        assert.deepEqual(await json.numIncrBy('n', '.a', 1), resp === 2 ? 5 : [5]);
        assert.deepEqual(await json.numMultBy('n', '.a', 0.5), resp === 2 ? 2.5 : [2.5]);
        assert.deepEqual(await json.numIncrBy('n', '..a', 1), resp === 2 ? 8 : [3.5, 8, null]);
        await assert.rejects(json.numIncrBy('missing', '$.a', 1), /doesn't exist/);
        if (resp === 2) {
          await assert.rejects(json.numIncrBy('n', '.t', 1), /Path '\.t' does not exist or does not contains a number/);
          await assert.rejects(json.numIncrBy('n', '.zz', 1), /Path '\.zz' does not exist/);
        } else {
          assert.deepEqual(await json.numIncrBy('n', '.t', 1), [null]);
          assert.deepEqual(await json.numIncrBy('n', '.zz', 1), []);
        }
        // int64 stays exact; overflowing it is an error that changes nothing.
        await raw('JSON.SET', 'big', '$', '{"i":9223372036854775807,"j":1}');
        await assert.rejects(json.numIncrBy('big', '$.*', 1), /OVERFLOW/);
        assert.equal(await raw('JSON.GET', 'big'), '{"i":9223372036854775807,"j":1}');
      });
    });

    test('strings: strAppend and strLen', async () => {
      await withClient(resp, async (json) => {
        await json.set('s', '$', { s: 'hi', o: { s: 'yo' }, n: 1 });
        assert.equal(await json.strAppend('s', '!', { path: '.s' }), 3);
        assert.deepEqual(await json.strAppend('s', '?', { path: '$..s' }), [4, 3]);
        assert.deepEqual(await json.strAppend('s', '-', { path: '$.n' }), [null]);
        assert.equal(await json.strLen('s', { path: '.s' }), 4);
        assert.deepEqual(await json.strLen('s', { path: '$..s' }), [4, 3]);
        assert.deepEqual(await json.strLen('s', { path: '$.*' }), [4, null, null]);
        assert.equal(await json.strLen('missing', { path: '.s' }), null);
        await json.set('str', '$', 'abc');
        assert.equal(await json.strAppend('str', 'de'), 5);   // default path: the root string
        assert.equal(await json.strLen('str'), 5);
        await assert.rejects(json.strAppend('s', 'x', { path: '.n' }), /does not exist or not a string/);
        assert.deepEqual(await json.get('s'), { s: 'hi!?', o: { s: 'yo?' }, n: 1 });
      });
    });

    test('arrays: arrAppend, arrInsert, arrIndex (start, stop), arrLen, arrPop, arrTrim', async () => {
      await withClient(resp, async (json) => {
        await json.set('a', '$', { tags: ['a', 'b'], o: { tags: [1] }, s: 'x' });
        assert.equal(await json.arrAppend('a', '.tags', 'c', 'd'), 4);
        assert.deepEqual(await json.arrAppend('a', '$..tags', 'e'), [5, 2]);
        assert.deepEqual(await json.arrAppend('a', '$.s', 1), [null]);
        assert.equal(await json.arrInsert('a', '.tags', 0, 'first'), 6);
        assert.deepEqual(await json.arrInsert('a', '$.tags', -1, 'penult', { x: 1 }), [8]);
        await assert.rejects(json.arrInsert('a', '$..tags', 5, 'z'), /index out of bounds/);   // fits one array only: nothing changes
        assert.equal(await json.arrLen('a', { path: '.tags' }), 8);
        assert.deepEqual(await json.arrLen('a', { path: '$..tags' }), [8, 2]);
        assert.equal(await json.arrIndex('a', '.tags', 'c'), 3);
        assert.deepEqual(await json.arrIndex('a', '$..tags', 'e'), [7, 1]);
        assert.deepEqual(await json.arrIndex('a', '$.tags', { x: 1 }), [6]);
        assert.equal(await json.arrIndex('a', '.tags', 'c', { range: { start: 4 } }), -1);
        assert.equal(await json.arrIndex('a', '.tags', 'c', { range: { start: 1, stop: 4 } }), 3);
        assert.equal(await json.arrIndex('a', '.tags', 'c', { range: { start: -6, stop: -5 } }), -1);
        assert.deepEqual(await json.arrIndex('a', '$.s', 'x'), [null]);
        assert.equal(await json.arrPop('a', { path: '.tags' }), 'e');
        assert.deepEqual(await json.arrPop('a', { path: '$.tags', index: 0 }), ['first']);
        assert.deepEqual(await json.arrPop('a', { path: '$.tags', index: -1 }), [{ x: 1 }]);
        assert.deepEqual(await json.arrPop('a', { path: '$..tags' }), ['penult', 'e']);
        assert.equal(await json.arrTrim('a', '.tags', 1, 2), 2);
        assert.deepEqual(await json.arrTrim('a', '$..tags', 0, 0), [1, 1]);
        assert.deepEqual(await json.get('a', { path: '$..tags' }), [['b'], [1]]);
        await json.set('e', '$', []);
        assert.equal(await json.arrPop('e'), null);   // empty array: nil
        assert.equal(await json.arrLen('e'), 0);
        await assert.rejects(json.arrAppend('a', '.s', 1), /Path '\.s' does not exist or not an array/);
        await assert.rejects(json.arrAppend('missing', '$', 1), /doesn't exist/);
      });
    });

    test('objects, clear, toggle, debugMemory', async () => {
      await withClient(resp, async (json) => {
        await json.set('o', '$', { o: { x: 1, y: { x: 2 } }, on: true, n: 5, l: [1, 2] });
        assert.deepEqual(await json.objKeys('o'), ['o', 'on', 'n', 'l']);
        assert.deepEqual(await json.objKeys('o', { path: '.o' }), ['x', 'y']);
        assert.deepEqual(await json.objKeys('o', { path: '$..y' }), [['x']]);
        assert.deepEqual(await json.objKeys('o', { path: '$.*' }), [['x', 'y'], null, null, null]);
        assert.equal(await json.objLen('o'), 4);
        assert.equal(await json.objLen('o', { path: '.o' }), 2);
        assert.deepEqual(await json.objLen('o', { path: '$..o' }), [2]);
        assert.equal(await json.toggle('o', '.on'), 'false');   // legacy: "true"/"false"
        assert.deepEqual(await json.toggle('o', '$.on'), [1]);  // `$`: 1/0
        assert.deepEqual(await json.toggle('o', '$.n'), [null]);
        assert.equal(await json.clear('o', { path: '$.*' }), 3);   // the object, the number, the array
        assert.deepEqual(await json.get('o'), { o: {}, on: true, n: 0, l: [] });
        assert.equal(await json.clear('o'), 1);
        assert.deepEqual(await json.get('o'), {});
        assert.equal(await json.clear('o'), 0);   // already empty: nothing cleared
        await assert.rejects(json.clear('missing'), /doesn't exist/);
        await json.set('o', '$', { a: [1, 2, 3] });
        const whole = await json.debugMemory('o');
        assert.equal(typeof whole, 'number');
        assert.ok(whole > 0);
        const parts = await json.debugMemory('o', { path: '$.a' });
        assert.ok(Array.isArray(parts) && parts.length === 1 && parts[0] > 0 && parts[0] <= whole);
        assert.equal(await json.debugMemory('missing'), 0);
      });
    });
  });
}

// RedisJSON's command reference examples (redis.io/commands/json.*: the "Examples" of
// each page, e.g. json.numincrby's `JSON.NUMINCRBY doc $..a 2` -> "[null,4,7,null]"),
// as node-redis decodes the documented replies. The same examples are checked as raw
// RESP in tests/integration/test_json.c. JSON.DEBUG MEMORY's byte counts are
// RedisJSON's own encoding and not compared.
type Row = [call: (json: Json) => Promise<unknown>, want: unknown];
const documented: Array<[command: string, rows: Row[]]> = [
  ['JSON.SET', [
    [(j) => j.set('doc', '$', { a: 2 }), 'OK'],
    [(j) => j.set('doc', '$.a', 3), 'OK'],
    [(j) => j.get('doc', { path: '$' }), [{ a: 3 }]],
    [(j) => j.set('doc', '$', { a: 2 }), 'OK'],
    [(j) => j.set('doc', '$.b', 8), 'OK'],
    [(j) => j.get('doc', { path: '$' }), [{ a: 2, b: 8 }]],
    [(j) => j.set('doc', '$', { f1: { a: 1 }, f2: { a: 2 } }), 'OK'],
    [(j) => j.set('doc', '$..a', 3), 'OK'],
    [(j) => j.get('doc'), { f1: { a: 3 }, f2: { a: 3 } }],
  ]],
  ['JSON.GET', [
    [(j) => j.set('doc', '$', { a: 2, b: 3, nested: { a: 4, b: null } }), 'OK'],
    [(j) => j.get('doc', { path: '$..b' }), [3, null]],
    [(j) => j.get('doc', { path: ['..a', '$..b'] }), { '..a': [2, 4], '$..b': [3, null] }],
  ]],
  ['JSON.DEL', [
    [(j) => j.set('doc', '$', { a: 1, nested: { a: 2, b: 3 } }), 'OK'],
    [(j) => j.del('doc', { path: '$..a' }), 2],
    [(j) => j.get('doc', { path: '$' }), [{ nested: { b: 3 } }]],
  ]],
  ['JSON.MGET', [
    [(j) => j.set('doc1', '$', { a: 1, b: 2, nested: { a: 3 }, c: null }), 'OK'],
    [(j) => j.set('doc2', '$', { a: 4, b: 5, nested: { a: 6 }, c: null }), 'OK'],
    [(j) => j.mGet(['doc1', 'doc2'], '$..a'), [[1, 3], [4, 6]]],
  ]],
  ['JSON.MSET', [
    [(j) => j.mSet([{ key: 'doc1', path: '$', value: { a: 1 } }, { key: 'doc2', path: '$', value: { f: { a: 2 } } },
      { key: 'doc3', path: '$', value: { f1: { a: 0 }, f2: { a: 0 } } }]), 'OK'],
    [(j) => j.mSet([{ key: 'doc1', path: '$', value: { a: 2 } }, { key: 'doc2', path: '$.f.a', value: 3 },
      { key: 'doc3', path: '$', value: { f1: { a: 1 }, f2: { a: 2 } } }]), 'OK'],
    [(j) => j.get('doc1', { path: '$' }), [{ a: 2 }]],
    [(j) => j.get('doc2', { path: '$' }), [{ f: { a: 3 } }]],
    [(j) => j.get('doc3'), { f1: { a: 1 }, f2: { a: 2 } }],
  ]],
  ['JSON.NUMINCRBY / JSON.NUMMULTBY', [
    [(j) => j.set('doc', '.', { a: 'b', b: [{ a: 2 }, { a: 5 }, { a: 'c' }] }), 'OK'],
    [(j) => j.numIncrBy('doc', '$.a', 2), [null]],
    [(j) => j.numIncrBy('doc', '$..a', 2), [null, 4, 7, null]],
    [(j) => j.set('doc', '.', { a: 'b', b: [{ a: 2 }, { a: 5 }, { a: 'c' }] }), 'OK'],
    [(j) => j.numMultBy('doc', '$.a', 2), [null]],
    [(j) => j.numMultBy('doc', '$..a', 2), [null, 4, 10, null]],
  ]],
  ['JSON.STRAPPEND / JSON.STRLEN', [
    [(j) => j.set('doc', '$', { a: 'foo', nested: { a: 'hello' }, nested2: { a: 31 } }), 'OK'],
    [(j) => j.strAppend('doc', 'baz', { path: '$..a' }), [6, 8, null]],
    [(j) => j.get('doc', { path: '$' }), [{ a: 'foobaz', nested: { a: 'hellobaz' }, nested2: { a: 31 } }]],
    [(j) => j.set('doc', '$', { a: 'foo', nested: { a: 'hello' }, nested2: { a: 31 } }), 'OK'],
    [(j) => j.strLen('doc', { path: '$..a' }), [3, 5, null]],
  ]],
  ['JSON.ARRAPPEND / ARRINSERT / ARRINDEX / ARRLEN / ARRPOP', [
    [(j) => j.set('item:1', '$', { name: 'Noise-cancelling Bluetooth headphones', connection: { wireless: true,
      type: 'Bluetooth' }, price: 99.98, stock: 25, colors: ['black', 'silver'] }), 'OK'],
    [(j) => j.arrAppend('item:1', '$.colors', 'blue'), [3]],
    [(j) => j.get('item:1', { path: '$.colors' }), [['black', 'silver', 'blue']]],
    [(j) => j.arrInsert('item:1', '$.colors', 2, 'yellow', 'gold'), [5]],
    [(j) => j.get('item:1', { path: '$.colors' }), [['black', 'silver', 'yellow', 'gold', 'blue']]],
    [(j) => j.arrIndex('item:1', '$..colors', 'silver'), [1]],
    [(j) => j.arrLen('item:1', { path: '$.colors' }), [5]],
    [(j) => j.arrPop('item:1', { path: '$.colors' }), ['blue']],
    [(j) => j.arrPop('item:1', { path: '$.colors', index: 0 }), ['black']],
    [(j) => j.get('item:1', { path: '$.colors' }), [['silver', 'yellow', 'gold']]],
  ]],
  ['JSON.ARRTRIM', [
    [(j) => j.set('key', '$', [[], ['a'], ['a', 'b'], ['a', 'b', 'c']]), 'OK'],
    [(j) => j.arrTrim('key', '$[*]', 0, 1), [0, 1, 2, 2]],
    [(j) => j.get('key'), [[], ['a'], ['a', 'b'], ['a', 'b']]],
  ]],
  ['JSON.OBJLEN / JSON.OBJKEYS', [
    [(j) => j.set('doc', '$', { a: [3], nested: { a: { b: 2, c: 1 } } }), 'OK'],
    [(j) => j.objLen('doc', { path: '$..a' }), [null, 2]],
    [(j) => j.objKeys('doc', { path: '$..a' }), [null, ['b', 'c']]],
  ]],
  ['JSON.TYPE', [
    [(j) => j.set('doc', '$', { a: 2, nested: { a: true }, foo: 'bar' }), 'OK'],
    [(j) => j.type('doc', { path: '$..foo' }), ['string']],
    [(j) => j.type('doc', { path: '$..a' }), ['integer', 'boolean']],
    [(j) => j.type('doc', { path: '$..dummy' }), []],
  ]],
  ['JSON.CLEAR', [
    [(j) => j.set('doc', '$', { obj: { a: 1, b: 2 }, arr: [1, 2, 3], str: 'foo', bool: true, int: 42, float: 3.14 }), 'OK'],
    [(j) => j.clear('doc', { path: '$.*' }), 4],
    [(j) => j.get('doc', { path: '$' }), [{ obj: {}, arr: [], str: 'foo', bool: true, int: 0, float: 0 }]],
  ]],
  ['JSON.TOGGLE', [
    [(j) => j.set('doc', '$', { bool: true }), 'OK'],
    [(j) => j.toggle('doc', '$.bool'), [0]],
    [(j) => j.get('doc', { path: '$' }), [{ bool: false }]],
    [(j) => j.toggle('doc', '$.bool'), [1]],
    [(j) => j.get('doc', { path: '$' }), [{ bool: true }]],
  ]],
  ['JSON.MERGE', [
    [(j) => j.set('doc', '$', { a: 2 }), 'OK'],
    [(j) => j.merge('doc', '$.a', 3), 'OK'],
    [(j) => j.get('doc', { path: '$' }), [{ a: 3 }]],
    [(j) => j.set('doc', '$', { a: 2 }), 'OK'],
    [(j) => j.merge('doc', '$.b', 8), 'OK'],
    [(j) => j.get('doc', { path: '$' }), [{ a: 2, b: 8 }]],
    [(j) => j.set('doc', '$', { a: 2 }), 'OK'],
    [(j) => j.merge('doc', '$', { a: null }), 'OK'],
    [(j) => j.get('doc', { path: '$' }), [{}]],
    [(j) => j.set('doc', '$', { a: [2, 4, 6, 8] }), 'OK'],
    [(j) => j.merge('doc', '$.a', [10, 12]), 'OK'],
    [(j) => j.get('doc', { path: '$' }), [{ a: [10, 12] }]],
    [(j) => j.set('doc', '$', { f1: { a: 1 }, f2: { a: 2 } }), 'OK'],
    [(j) => j.merge('doc', '$', { f1: null, f2: { a: 3, b: 4 }, f3: [2, 4, 6] }), 'OK'],
    [(j) => j.get('doc', { path: '$' }), [{ f2: { a: 3, b: 4 }, f3: [2, 4, 6] }]],
  ]],
];

for (const resp of [2, 3] as const) {
  test(`RedisJSON's documented examples reply as documented through client.json, RESP${resp}`, async () => {
    await withClient(resp, async (json) => {
      for (const [command, rows] of documented) {
        for (let i = 0; i < rows.length; i++) {
          assert.deepEqual(await rows[i][0](json), rows[i][1], `${command} example, step ${i + 1}`);
        }
      }
    });
  });
}

test('a RESP3 client without unstableResp3 runs every client.json helper (none is flagged unstable)', async () => {
  const client = createClient({ url: server.url, RESP: 3 });
  await client.connect();
  try {
    const helpers = Object.keys(Object.getPrototypeOf(client.json)).filter((k) => /^[a-z]/.test(k)).sort();
    assert.deepEqual(helpers, ['arrAppend', 'arrIndex', 'arrInsert', 'arrLen', 'arrPop', 'arrTrim', 'clear',
      'debugMemory', 'del', 'forget', 'get', 'mGet', 'mSet', 'merge', 'numIncrBy', 'numMultBy', 'objKeys', 'objLen',
      'set', 'strAppend', 'strLen', 'toggle', 'type']);
    assert.equal(await client.json.set('r3', '$', { a: 1 }), 'OK');
    assert.deepEqual(await client.json.numIncrBy('r3', '$.a', 1), [2]);
  } finally {
    await client.close();
  }
});
