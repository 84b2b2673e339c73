// JSON text to and from JavaScript values: int64 beyond 2^53 as BigInt, no server.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseJson, stringifyJson } from '../src';

test('integers beyond 2^53 parse as BigInt, safe ones and doubles as numbers', () => {
  assert.deepEqual(parseJson('{"a":9007199254740993,"b":9007199254740991,"c":-9223372036854775808,"d":1.5e300,"e":12345678901234567.0}'), {
    a: 9007199254740993n, b: 9007199254740991, c: -9223372036854775808n, d: 1.5e300, e: 12345678901234567.0,
  });
  assert.equal(parseJson('9223372036854775807'), 9223372036854775807n);
  assert.equal(parseJson('"9223372036854775807"'), '9223372036854775807');
});

test('the slow parser agrees with JSON.parse on everything else', () => {
  const text = '{"s":"q\\"\\u00e9\\n 1234567890123456789","n":[0,-0,1e-7,-2.5E+3,true,false,null,{},[]],"__proto__":{"x":1},"k":{"":[[[]]]}}';
  const ours = parseJson(text) as Record<string, unknown>;
  assert.deepEqual(ours, JSON.parse(text));
  assert.equal(Object.getPrototypeOf(ours), Object.prototype);
  assert.ok(Object.prototype.hasOwnProperty.call(ours, '__proto__'));
});

test('a document nested 10000 deep parses without overflowing the stack', () => {
  const text = '['.repeat(10000) + '12345678901234567890' + ']'.repeat(10000);
  let v = parseJson(text);
  for (let i = 0; i < 10000; i++) v = (v as unknown[])[0];
  assert.equal(v, 12345678901234567890n);
});

test('malformed text is a SyntaxError naming the position', () => {
  for (const bad of ['[1,]', '{"a" 1}', '[1 2]', '{"a":1}x', '"\\x"12345678901234567']) {
    assert.throws(() => parseJson(bad + ' 12345678901234567'), SyntaxError);
  }
});

test('stringify writes BigInt digits and refuses what JSON cannot hold', () => {
  assert.equal(stringifyJson({ a: 2n ** 63n - 1n, b: [1, undefined, 'x'], c: undefined, d: new Date(0) }),
    '{"a":9223372036854775807,"b":[1,null,"x"],"d":"1970-01-01T00:00:00.000Z"}');
  assert.throws(() => stringifyJson({ x: NaN }), TypeError);
  assert.throws(() => stringifyJson([Infinity]), TypeError);
  assert.throws(() => stringifyJson(undefined), TypeError);
  const cyc: Record<string, unknown> = {};
  cyc.self = cyc;
  assert.throws(() => stringifyJson(cyc), TypeError);
  const shared = { z: 1 };
  assert.equal(stringifyJson([shared, shared]), '[{"z":1},{"z":1}]');
});
