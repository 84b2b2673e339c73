// The WeChat-style builder `_` compiles to the MongoDB documents DOC.UPDATE takes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { _, compileFilter, compileUpdate } from '../src';

test('every update command compiles to its MongoDB operator at its dotted path', () => {
  assert.deepEqual(compileUpdate({
    data: {
      stock: _.inc(-1), price: _.mul(2), low: _.min(3), high: _.max(9), old: _.remove(), tmp: _.rename('kept'),
      tags: _.addToSet('a'), seen: _.addToSet({ each: ['x', 'y'] }), items: _.pull({ sku: 'X', qty: _.lt(1) }),
      nums: _.pull(_.gte(6)), gone: _.pullAll([1, 2]), last: _.pop(), first: _.shift(), q: _.unshift([0]),
      log: _.push({ each: [1, 2], position: 0, slice: -5, sort: -1 }), more: _.push([7]), one: _.push(8),
      meta: { seen: true, nested: { n: _.inc(1) } }, whole: _.set({ a: 1 }), created: _.setOnInsert(1), empty: {},
    },
  }), {
    $inc: { stock: -1, 'meta.nested.n': 1 }, $mul: { price: 2 }, $min: { low: 3 }, $max: { high: 9 },
    $unset: { old: '' }, $rename: { tmp: 'kept' }, $addToSet: { tags: 'a', seen: { $each: ['x', 'y'] } },
    $pull: { items: { sku: 'X', qty: { $lt: 1 } }, nums: { $gte: 6 } }, $pullAll: { gone: [1, 2] },
    $pop: { last: 1, first: -1 },
    $push: { q: { $each: [0], $position: 0 }, log: { $each: [1, 2], $position: 0, $slice: -5, $sort: -1 }, more: { $each: [7] }, one: 8 },
    $set: { 'meta.seen': true, whole: { a: 1 }, empty: {} }, $setOnInsert: { created: 1 },
  });
});

test('a MongoDB update document passes through, with `_` conditions inside compiled', () => {
  assert.deepEqual(compileUpdate({ $inc: { stock: -1 }, $pull: { items: { qty: _.lte(0) } } }),
    { $inc: { stock: -1 }, $pull: { items: { qty: { $lte: 0 } } } });
});

test('updates that are neither MongoDB operators nor {data} are refused before sending', () => {
  assert.throws(() => compileUpdate({ stock: 1 }), TypeError);
  assert.throws(() => compileUpdate({ data: {} }), TypeError);
  assert.throws(() => compileUpdate({ data: { a: _.gt(1) } }), TypeError);
  assert.throws(() => compileFilter({ a: _.inc(1) }), TypeError);
});

test('query commands compile to MongoDB filters', () => {
  assert.deepEqual(compileFilter({
    a: _.gt(0).and(_.lt(10)), b: _.in([1, 2]), c: _.nin([3]), d: _.exists(false), e: _.size(2), f: _.all(['x']),
    g: _.elemMatch({ q: _.gte(1) }), h: _.not(_.eq(5)), i: _.neq(null),
  }), {
    a: { $gt: 0, $lt: 10 }, b: { $in: [1, 2] }, c: { $nin: [3] }, d: { $exists: false }, e: { $size: 2 },
    f: { $all: ['x'] }, g: { $elemMatch: { q: { $gte: 1 } } }, h: { $not: { $eq: 5 } }, i: { $ne: null },
  });
  assert.deepEqual(compileFilter(_.or({ a: 1 }, { b: _.gt(2) })), { $or: [{ a: 1 }, { b: { $gt: 2 } }] });
  assert.deepEqual(compileFilter(_.and([{ a: 1 }])), { $and: [{ a: 1 }] });
  assert.deepEqual(compileFilter(_.nor({ a: 1 })), { $nor: [{ a: 1 }] });
  assert.throws(() => _.gt(1).and(_.gt(2)), TypeError);
});
