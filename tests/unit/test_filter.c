/*
 * test_filter.c - doc_filter_compile / _match / _equalities: a table of
 * {filter, value, match?} rows covering every operator and MongoDB's array
 * rules (any element matches, $ne/$nin as negations, $elemMatch versus the
 * same conditions without it, implicit traversal of arrays of objects,
 * numeric path segments, null matching missing), operators on the value
 * itself (DOC.PULL WHERE on scalars), a table of malformed filters with the
 * expected code and message, depth limits at their exact boundary, deep
 * filters, equalities for UPSERT, independence from the source value, and
 * allocation failure at every step.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "unit_alloc.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                            */
/* ------------------------------------------------------------------ */

static doc_node *parse(const char *text) {
    doc_error err;
    doc_error_clear(&err);
    doc_node *box = doc_parse(text, strlen(text), DOC_DEPTH_LIMIT, &err);
    cr_assert(box, "test JSON %s: %s", text, err.msg);
    return box;
}

/* Compiles filter text; returns the status, *out the filter or NULL. */
static doc_status compile(const char *text, uint32_t depth, doc_filter **out, doc_error *err) {
    doc_node *box = parse(text);
    doc_error_clear(err);
    doc_status st = doc_filter_compile(doc_box_value(box), depth, out, err);
    doc_node_free(box);
    return st;
}

/* ------------------------------------------------------------------ */
/* Matching                                                           */
/* ------------------------------------------------------------------ */

typedef struct match_row {
    const char *filter; /* filter JSON */
    const char *value;  /* value JSON */
    int want;           /* 1: matches */
} match_row;

static const match_row match_rows[] = {
    /* Implicit equality, deep equality, implicit AND. */
    {"{}", "{\"a\":1}", 1},
    {"{}", "5", 1},
    {"{\"a\":1}", "{\"a\":1}", 1},
    {"{\"a\":1}", "{\"a\":1.0}", 1},
    {"{\"a\":1.0}", "{\"a\":1}", 1},
    {"{\"a\":1}", "{\"a\":\"1\"}", 0},
    {"{\"a\":1}", "{\"a\":true}", 0},
    {"{\"a\":0}", "{\"a\":false}", 0},
    {"{\"a\":true}", "{\"a\":true}", 1},
    {"{\"a\":\"x\"}", "{\"b\":\"x\"}", 0},
    {"{\"a\":1,\"b\":\"x\"}", "{\"a\":1,\"b\":\"x\",\"c\":3}", 1},
    {"{\"a\":1,\"b\":\"x\"}", "{\"a\":1,\"b\":\"y\"}", 0},
    {"{\"a\":{\"b\":1,\"c\":2}}", "{\"a\":{\"c\":2,\"b\":1}}", 1}, /* member order ignored */
    {"{\"a\":{\"b\":1}}", "{\"a\":{\"b\":1,\"c\":2}}", 0},         /* whole-object equality */
    {"{\"a\":{}}", "{\"a\":{}}", 1},
    {"{\"a\":{}}", "{\"a\":{\"b\":1}}", 0},
    {"{\"a\":{\"b\":[1,{\"c\":null}]}}", "{\"a\":{\"b\":[1.0,{\"c\":null}]}}", 1},
    /* Dotted paths. */
    {"{\"b.c\":\"x\"}", "{\"b\":{\"c\":\"x\"}}", 1},
    {"{\"b.c\":\"x\"}", "{\"b\":{\"c\":\"y\"}}", 0},
    {"{\"b.c\":\"x\"}", "{\"b\":\"x\"}", 0},
    {"{\"a.b.c\":1}", "{\"a\":{\"b\":{\"c\":1}}}", 1},
    {"{\"a..b\":1}", "{\"a\":{\"\":{\"b\":1}}}", 1},
    /* Arrays: the array itself, or any element. */
    {"{\"a\":[1,2]}", "{\"a\":[1,2]}", 1},
    {"{\"a\":[1,2]}", "{\"a\":[2,1]}", 0},
    {"{\"a\":[1,2]}", "{\"a\":[[1,2],3]}", 1},
    {"{\"tags\":\"red\"}", "{\"tags\":[\"red\",\"blue\"]}", 1},
    {"{\"tags\":\"green\"}", "{\"tags\":[\"red\",\"blue\"]}", 0},
    {"{\"a\":1}", "{\"a\":[[1]]}", 0}, /* one level only */
    {"{\"a\":[1]}", "{\"a\":[[1]]}", 1},
    {"{\"a\":[]}", "{\"a\":[]}", 1},
    /* null and missing. */
    {"{\"a\":null}", "{\"b\":1}", 1},
    {"{\"a\":null}", "{\"a\":null}", 1},
    {"{\"a\":null}", "{\"a\":0}", 0},
    {"{\"a\":null}", "{\"a\":[1,null]}", 1},
    {"{\"a\":null}", "{\"a\":[1,2]}", 0},
    {"{\"a\":{\"$ne\":null}}", "{\"b\":1}", 0},
    {"{\"a\":{\"$ne\":null}}", "{\"a\":0}", 1},
    {"{\"a.b\":null}", "{\"a\":[{\"b\":1},{\"c\":2}]}", 1},
    {"{\"a.b\":null}", "{\"a\":[{\"b\":1},{\"b\":2}]}", 0},
    {"{\"a.b\":null}", "{\"a\":5}", 1},
    /* $exists. */
    {"{\"a\":{\"$exists\":true}}", "{\"a\":null}", 1},
    {"{\"a\":{\"$exists\":true}}", "{\"b\":1}", 0},
    {"{\"a\":{\"$exists\":false}}", "{\"b\":1}", 1},
    {"{\"a\":{\"$exists\":false}}", "{\"a\":null}", 0},
    {"{\"a\":{\"$exists\":1}}", "{\"a\":1}", 1},
    {"{\"a.b\":{\"$exists\":true}}", "{\"a\":[{\"c\":1},{\"b\":2}]}", 1},
    {"{\"a.b\":{\"$exists\":false}}", "{\"a\":[{\"c\":1},{\"b\":2}]}", 0},
    {"{\"a.b\":{\"$exists\":false}}", "{\"a\":[1,2]}", 1},
    /* Comparisons: within one type; cross-type is false. */
    {"{\"qty\":{\"$gt\":20}}", "{\"qty\":25}", 1},
    {"{\"qty\":{\"$gt\":20}}", "{\"qty\":20}", 0},
    {"{\"qty\":{\"$gte\":20}}", "{\"qty\":20.0}", 1},
    {"{\"qty\":{\"$lt\":20}}", "{\"qty\":19.5}", 1},
    {"{\"qty\":{\"$lte\":20}}", "{\"qty\":21}", 0},
    {"{\"qty\":{\"$gt\":20}}", "{\"qty\":[5,25]}", 1},
    {"{\"qty\":{\"$gt\":20}}", "{\"qty\":[5,15]}", 0},
    {"{\"qty\":{\"$gt\":20}}", "{\"qty\":\"30\"}", 0},
    {"{\"qty\":{\"$lt\":20}}", "{\"qty\":null}", 0},
    {"{\"qty\":{\"$gt\":1}}", "{}", 0},
    {"{\"s\":{\"$lt\":\"b\"}}", "{\"s\":\"a\"}", 1},
    {"{\"s\":{\"$lt\":\"b\"}}", "{\"s\":1}", 0},
    {"{\"s\":{\"$gt\":\"ab\"}}", "{\"s\":\"abc\"}", 1},
    {"{\"s\":{\"$gt\":\"abc\"}}", "{\"s\":\"ab\"}", 0},
    {"{\"s\":{\"$gt\":\"Z\"}}", "{\"s\":\"\xc3\xa9\"}", 1}, /* byte order */
    {"{\"a\":{\"$gt\":null}}", "{\"a\":null}", 0},
    {"{\"a\":{\"$gte\":null}}", "{\"a\":null}", 1},
    {"{\"a\":{\"$gte\":null}}", "{}", 1},
    {"{\"a\":{\"$lte\":null}}", "{\"a\":0}", 0},
    {"{\"a\":{\"$gt\":false}}", "{\"a\":true}", 1},
    {"{\"a\":{\"$gt\":0}}", "{\"a\":true}", 0},
    {"{\"a\":{\"$gte\":[1,2]}}", "{\"a\":[1,2]}", 1},
    {"{\"a\":{\"$gt\":[1,2]}}", "{\"a\":[1,3]}", 0},
    {"{\"a\":{\"$lte\":{\"x\":1}}}", "{\"a\":{\"x\":1.0}}", 1},
    {"{\"a\":{\"$gt\":9007199254740992}}", "{\"a\":9007199254740993}", 1},
    {"{\"a\":{\"$lt\":9007199254740993}}", "{\"a\":9007199254740992.0}", 1},
    {"{\"a\":{\"$gt\":-1.5}}", "{\"a\":-1}", 1},
    {"{\"a\":{\"$gt\":1,\"$lt\":5}}", "{\"a\":[0,9]}", 1}, /* each op on its own */
    {"{\"a\":{\"$gt\":1,\"$lt\":5}}", "{\"a\":3}", 1},
    {"{\"a\":{\"$gt\":1,\"$lt\":5}}", "{\"a\":7}", 0},
    /* $eq / $ne. */
    {"{\"a\":{\"$eq\":3}}", "{\"a\":3.0}", 1},
    {"{\"a\":{\"$eq\":[3]}}", "{\"a\":[3]}", 1},
    {"{\"a\":{\"$eq\":{\"$gt\":1}}}", "{\"a\":{\"$gt\":1}}", 1}, /* operand is literal */
    {"{\"a\":{\"$eq\":{\"$gt\":1}}}", "{\"a\":5}", 0},
    {"{\"qty\":{\"$ne\":5}}", "{\"qty\":[5,6]}", 0},
    {"{\"qty\":{\"$ne\":5}}", "{\"qty\":[6,7]}", 1},
    {"{\"qty\":{\"$ne\":5}}", "{}", 1},
    {"{\"qty\":{\"$ne\":\"5\"}}", "{\"qty\":5}", 1},
    {"{\"qty\":{\"$ne\":5}}", "{\"qty\":5.0}", 0},
    /* $in / $nin. */
    {"{\"a\":{\"$in\":[1,2]}}", "{\"a\":2.0}", 1},
    {"{\"a\":{\"$in\":[1,2]}}", "{\"a\":3}", 0},
    {"{\"a\":{\"$in\":[1,2]}}", "{\"a\":[3,2]}", 1},
    {"{\"a\":{\"$in\":[]}}", "{\"a\":1}", 0},
    {"{\"a\":{\"$in\":[null]}}", "{}", 1},
    {"{\"a\":{\"$in\":[1]}}", "{}", 0},
    {"{\"a\":{\"$in\":[[1,2]]}}", "{\"a\":[1,2]}", 1},
    {"{\"a\":{\"$in\":[\"x\",{\"b\":1}]}}", "{\"a\":{\"b\":1}}", 1},
    {"{\"a\":{\"$nin\":[1,2]}}", "{\"a\":[3,2]}", 0},
    {"{\"a\":{\"$nin\":[1,2]}}", "{\"a\":[3,4]}", 1},
    {"{\"a\":{\"$nin\":[1,2]}}", "{}", 1},
    {"{\"a\":{\"$nin\":[null]}}", "{}", 0},
    {"{\"a\":{\"$nin\":[]}}", "{\"a\":1}", 1},
    /* $type. */
    {"{\"a\":{\"$type\":\"number\"}}", "{\"a\":1.5}", 1},
    {"{\"a\":{\"$type\":\"number\"}}", "{\"a\":1}", 1},
    {"{\"a\":{\"$type\":\"int\"}}", "{\"a\":1.5}", 0},
    {"{\"a\":{\"$type\":\"double\"}}", "{\"a\":1.0}", 1},
    {"{\"a\":{\"$type\":\"double\"}}", "{\"a\":1}", 0},
    {"{\"a\":{\"$type\":\"integer\"}}", "{\"a\":-7}", 1},
    {"{\"a\":{\"$type\":\"long\"}}", "{\"a\":9223372036854775807}", 1},
    {"{\"a\":{\"$type\":\"array\"}}", "{\"a\":[]}", 1},
    {"{\"a\":{\"$type\":\"string\"}}", "{\"a\":[\"x\",1]}", 1}, /* an element */
    {"{\"a\":{\"$type\":[\"null\",\"bool\"]}}", "{\"a\":false}", 1},
    {"{\"a\":{\"$type\":[\"null\",\"boolean\"]}}", "{\"a\":\"false\"}", 0},
    {"{\"a\":{\"$type\":\"null\"}}", "{}", 0},
    {"{\"a\":{\"$type\":\"object\"}}", "{\"a\":{\"b\":1}}", 1},
    {"{\"a\":{\"$type\":2}}", "{\"a\":\"s\"}", 1},
    {"{\"a\":{\"$type\":\"boolean\"}}", "{\"a\":0}", 0},
    /* $size: the array itself, never its elements. */
    {"{\"a\":{\"$size\":2}}", "{\"a\":[1,[2,3]]}", 1},
    {"{\"a\":{\"$size\":0}}", "{\"a\":[[]]}", 0},
    {"{\"a\":{\"$size\":0}}", "{\"a\":[]}", 1},
    {"{\"a\":{\"$size\":2}}", "{\"a\":\"ab\"}", 0},
    {"{\"a\":{\"$size\":2}}", "{\"a\":{\"x\":1,\"y\":2}}", 0},
    {"{\"a.b\":{\"$size\":2}}", "{\"a\":[{\"b\":[1]},{\"b\":[1,2]}]}", 1},
    {"{\"a\":{\"$size\":2.0}}", "{\"a\":[1,2]}", 1},
    {"{\"a\":{\"$not\":{\"$size\":2}}}", "{\"a\":[1,2,3]}", 1},
    /* $all. */
    {"{\"tags\":{\"$all\":[\"red\",\"blue\"]}}", "{\"tags\":[\"blue\",\"green\",\"red\"]}", 1},
    {"{\"tags\":{\"$all\":[\"red\",\"blue\"]}}", "{\"tags\":[\"red\"]}", 0},
    {"{\"tags\":{\"$all\":[\"red\"]}}", "{\"tags\":\"red\"}", 1},
    {"{\"tags\":{\"$all\":[]}}", "{\"tags\":[\"red\"]}", 0},
    {"{\"tags\":{\"$all\":[[\"a\",\"b\"]]}}", "{\"tags\":[[\"a\",\"b\"],\"c\"]}", 1},
    {"{\"tags\":{\"$all\":[[\"a\",\"b\"]]}}", "{\"tags\":[\"a\",\"b\"]}", 1},
    {"{\"tags\":{\"$all\":[\"a\"]}}", "{}", 0},
    {"{\"r\":{\"$all\":[{\"$elemMatch\":{\"a\":1}},{\"$elemMatch\":{\"b\":1}}]}}",
     "{\"r\":[{\"a\":1,\"b\":9},{\"a\":9,\"b\":1}]}", 1},
    {"{\"r\":{\"$all\":[{\"$elemMatch\":{\"a\":1,\"b\":1}}]}}",
     "{\"r\":[{\"a\":1,\"b\":9},{\"a\":9,\"b\":1}]}", 0},
    /* $elemMatch versus the same conditions without it. */
    {"{\"r\":{\"$elemMatch\":{\"a\":1,\"b\":1}}}", "{\"r\":[{\"a\":1,\"b\":9},{\"a\":9,\"b\":1}]}", 0},
    {"{\"r.a\":1,\"r.b\":1}", "{\"r\":[{\"a\":1,\"b\":9},{\"a\":9,\"b\":1}]}", 1},
    {"{\"r\":{\"$elemMatch\":{\"a\":1,\"b\":9}}}", "{\"r\":[{\"a\":1,\"b\":9},{\"a\":9,\"b\":1}]}", 1},
    {"{\"r\":{\"$elemMatch\":{\"a\":{\"$gt\":5},\"b\":{\"$lt\":5}}}}",
     "{\"r\":[{\"a\":1,\"b\":9},{\"a\":9,\"b\":1}]}", 1},
    {"{\"r\":{\"$elemMatch\":{\"$or\":[{\"a\":9},{\"b\":9}]}}}",
     "{\"r\":[{\"a\":1,\"b\":9},{\"a\":9,\"b\":1}]}", 1},
    {"{\"a\":{\"$elemMatch\":{\"$gt\":1,\"$lt\":5}}}", "{\"a\":[0,9]}", 0},
    {"{\"a\":{\"$elemMatch\":{\"$gt\":1,\"$lt\":5}}}", "{\"a\":[0,3]}", 1},
    {"{\"r\":{\"$elemMatch\":{}}}", "{\"r\":[]}", 0},
    {"{\"r\":{\"$elemMatch\":{}}}", "{\"r\":[1]}", 0}, /* documents only */
    {"{\"r\":{\"$elemMatch\":{}}}", "{\"r\":[1,{}]}", 1},
    {"{\"r\":{\"$elemMatch\":{\"a\":1}}}", "{\"r\":{\"a\":1}}", 0}, /* not an array */
    {"{\"a.b\":{\"$elemMatch\":{\"$eq\":2}}}", "{\"a\":[{\"b\":[1]},{\"b\":[2]}]}", 1},
    /* $not. */
    {"{\"a\":{\"$not\":{\"$gt\":5}}}", "{\"a\":3}", 1},
    {"{\"a\":{\"$not\":{\"$gt\":5}}}", "{\"a\":7}", 0},
    {"{\"a\":{\"$not\":{\"$gt\":5}}}", "{}", 1},
    {"{\"a\":{\"$not\":{\"$gt\":5}}}", "{\"a\":\"x\"}", 1},
    {"{\"a\":{\"$not\":{\"$gt\":5}}}", "{\"a\":[1,9]}", 0},
    {"{\"a\":{\"$not\":{\"$gt\":1,\"$lt\":5}}}", "{\"a\":3}", 0},
    {"{\"a\":{\"$not\":{\"$gt\":1,\"$lt\":5}}}", "{\"a\":7}", 1},
    {"{\"a\":{\"$not\":{\"$not\":{\"$eq\":1}}}}", "{\"a\":1}", 1},
    /* $and / $or / $nor, nested. */
    {"{\"$or\":[{\"a\":1},{\"b\":2}]}", "{\"b\":2}", 1},
    {"{\"$or\":[{\"a\":1},{\"b\":2}]}", "{\"b\":3}", 0},
    {"{\"$and\":[{\"a\":{\"$gt\":1}},{\"a\":{\"$lt\":5}}]}", "{\"a\":3}", 1},
    {"{\"$and\":[{\"$or\":[{\"a\":1},{\"a\":2}]},{\"$or\":[{\"b\":1},{\"b\":2}]}]}", "{\"a\":2,\"b\":1}", 1},
    {"{\"$and\":[{\"$or\":[{\"a\":1},{\"a\":2}]},{\"$or\":[{\"b\":1},{\"b\":2}]}]}", "{\"a\":2,\"b\":3}", 0},
    {"{\"$nor\":[{\"a\":1},{\"b\":2}]}", "{\"a\":3,\"b\":3}", 1},
    {"{\"$nor\":[{\"a\":1},{\"b\":2}]}", "{\"a\":1}", 0},
    {"{\"a\":1,\"$or\":[{\"b\":1},{\"c\":1}]}", "{\"a\":1,\"c\":1}", 1},
    {"{\"a\":1,\"$or\":[{\"b\":1},{\"c\":1}]}", "{\"a\":2,\"c\":1}", 0},
    {"{\"$or\":[{}]}", "7", 1},
    /* Paths through arrays of objects, at any depth. */
    {"{\"items.qty\":{\"$gt\":2}}", "{\"items\":[{\"qty\":1},{\"qty\":5}]}", 1},
    {"{\"items.qty\":{\"$gt\":2}}", "{\"items\":[{\"qty\":1},{\"qty\":2}]}", 0},
    {"{\"items.qty\":{\"$gt\":2}}", "{\"items\":[3,{\"qty\":1}]}", 0},
    {"{\"a.b.c\":7}", "{\"a\":[{\"b\":[{\"c\":1},{\"c\":7}]}]}", 1},
    {"{\"a.b.c\":7}", "{\"a\":[{\"b\":{\"c\":[6,7]}}]}", 1},
    {"{\"a.b\":1}", "{\"a\":[[{\"b\":1}]]}", 0}, /* nested arrays: no */
    {"{\"a.b\":1}", "{\"a\":[{\"b\":[0,1]}]}", 1},
    {"{\"a.b\":{\"$ne\":1}}", "{\"a\":[{\"b\":2},{\"b\":1}]}", 0},
    /* Numeric path segments: an index into arrays, a name in objects. */
    {"{\"a.0\":5}", "{\"a\":[5,6]}", 1},
    {"{\"a.1\":5}", "{\"a\":[5,6]}", 0},
    {"{\"a.0\":5}", "{\"a\":{\"0\":5}}", 1},
    {"{\"a.0.b\":2}", "{\"a\":[{\"b\":2},{\"b\":3}]}", 1},
    {"{\"a.1.b\":2}", "{\"a\":[{\"b\":2},{\"b\":3}]}", 0},
    {"{\"a.5\":null}", "{\"a\":[1]}", 0}, /* past the end: nothing */
    {"{\"a.5\":{\"$exists\":false}}", "{\"a\":[1]}", 1},
    {"{\"a.01\":5}", "{\"a\":{\"01\":5}}", 1},
    {"{\"a.01\":5}", "{\"a\":[0,5]}", 0},
    {"{\"a.0\":1}", "{\"a\":[[1,2]]}", 0}, /* a final index: taken whole */
    {"{\"a.0\":[1,2]}", "{\"a\":[[1,2]]}", 1},
    {"{\"a.0.1\":\"y\"}", "{\"a\":[[\"x\",\"y\"]]}", 1},
    /* MongoDB's path walk (issue 10): an array yields what its object
     * elements or its indexed element yield; with none, nothing at all, so
     * null / $exists: false / negations see no value, not a missing one. */
    {"{\"a.x\":{\"$in\":[null]}}", "{\"a\":[]}", 0},
    {"{\"d.z\":{\"$nin\":[null]}}", "{\"d\":[]}", 1},
    {"{\"a.x\":null}", "{\"a\":[]}", 0},
    {"{\"a.x\":{\"$eq\":null}}", "{\"a\":[1]}", 0},
    {"{\"a.x\":null}", "{\"a\":[1,\"s\",[{\"x\":1}]]}", 0},
    {"{\"a.x\":{\"$gte\":null}}", "{\"a\":[]}", 0},
    {"{\"a.x\":{\"$lte\":null}}", "{\"a\":[2]}", 0},
    {"{\"a.x\":{\"$ne\":null}}", "{\"a\":[]}", 1},
    {"{\"a.x\":{\"$not\":{\"$eq\":null}}}", "{\"a\":[1]}", 1},
    {"{\"a.x\":{\"$exists\":false}}", "{\"a\":[]}", 1},
    {"{\"a.x\":{\"$exists\":true}}", "{\"a\":[]}", 0},
    {"{\"a.x\":null}", "{\"a\":[1,{\"y\":1}]}", 1}, /* a document lacks x */
    {"{\"a.x.y\":null}", "{\"a\":[{\"x\":[]}]}", 0},
    {"{\"a.x.y\":null}", "{\"a\":[{\"x\":5}]}", 1},
    {"{\"a.0.x\":null}", "{\"a\":[5]}", 0}, /* a scalar by index */
    {"{\"a.0.x\":null}", "{\"a\":[{\"y\":1}]}", 1},
    {"{\"a.0\":{\"$exists\":false}}", "{\"a\":[]}", 1},
    {"{\"b.0\":{\"$type\":18}}", "{\"b\":[[1]]}", 0},
    {"{\"b.0\":{\"$type\":\"array\"}}", "{\"b\":[[1]]}", 1},
    {"{\"b.0\":{\"$gt\":0}}", "{\"b\":[[1]]}", 0},
    {"{\"b.0\":{\"$in\":[1]}}", "{\"b\":[[1]]}", 0},
    {"{\"b.0.0\":1}", "{\"b\":[[1]]}", 1},
    {"{\"b.1\":{\"$size\":1}}", "{\"b\":[0,[7]]}", 1},
    {"{\"d\":{\"$elemMatch\":{\"a\":{\"$exists\":false}}}}", "{\"d\":[1,[2]]}", 0},
    {"{\"d\":{\"$elemMatch\":{\"$or\":[{\"a\":null}]}}}", "{\"d\":[1]}", 0},
    {"{\"d\":{\"$elemMatch\":{\"$or\":[{\"a\":null}]}}}", "{\"d\":[1,{}]}", 1},
    {"{\"d\":{\"$elemMatch\":{\"$exists\":true}}}", "{\"d\":[1]}", 1}, /* operators: any element */
    /* Operators on the value itself (DOC.PULL WHERE on scalars). */
    {"{\"$gte\":6}", "7", 1},
    {"{\"$gte\":6}", "5", 0},
    {"{\"$gte\":6}", "\"7\"", 0},
    {"{\"$in\":[1,2]}", "2", 1},
    {"{\"$in\":[1,2]}", "[1]", 0}, /* no element search */
    {"{\"$eq\":[1]}", "[1]", 1},
    {"{\"$eq\":1}", "[1]", 0},
    {"{\"$or\":[{\"$lt\":0},{\"$gt\":10}]}", "11", 1},
    {"{\"$or\":[{\"$lt\":0},{\"$gt\":10}]}", "5", 0},
    {"{\"$not\":{\"$type\":\"string\"}}", "1", 1},
    {"{\"$elemMatch\":{\"$gt\":2}}", "[1,3]", 1},
    {"{\"$size\":2}", "[1,3]", 1},
    {"{\"$exists\":false}", "1", 0},
    {"{\"a\":1}", "1", 0}, /* no member a */
    {"{\"a\":{\"$ne\":1}}", "1", 1},
    {"{\"$type\":\"object\",\"a\":1}", "{\"a\":1}", 1},
    {"{\"$type\":\"object\",\"a\":1}", "[{\"a\":1}]", 0},
    {"{\"id\":7}", "{\"id\":7,\"q\":1}", 1},
    {"{\"0\":\"x\"}", "[\"x\"]", 1},
};

Test(filter, match_table) {
    size_t n = sizeof match_rows / sizeof match_rows[0];
    cr_assert_geq(n, 80);
    for (size_t i = 0; i < n; i++) {
        const match_row *r = &match_rows[i];
        doc_filter *f;
        doc_error err;
        doc_status st = compile(r->filter, DOC_DEPTH_DEFAULT, &f, &err);
        cr_assert_eq(st, DOC_OK, "row %zu: %s: %s", i, r->filter, err.msg);
        doc_node *v = parse(r->value);
        int got = doc_filter_match(f, doc_box_value(v));
        cr_expect_eq(got, r->want, "row %zu: %s on %s: got %d", i, r->filter, r->value, got);
        doc_node_free(v);
        doc_filter_free(f);
    }
}

/* ------------------------------------------------------------------ */
/* Array elements ($pull, DOC.PULL WHERE): MongoDB's $pull rule       */
/* ------------------------------------------------------------------ */

static const match_row element_rows[] = {
    /* Operators only: {"": element}, so an array element is searched. */
    {"{\"$lt\":1}", "[0]", 1},
    {"{\"$lt\":1}", "0", 1},
    {"{\"$lt\":1}", "[2]", 0},
    {"{\"$ne\":\"a\"}", "[\"a\"]", 0},
    {"{\"$ne\":\"a\"}", "[\"b\"]", 1},
    {"{\"$ne\":\"a\"}", "\"b\"", 1},
    {"{\"$in\":[1]}", "[2,1]", 1},
    {"{\"$nin\":[1]}", "[2,1]", 0},
    {"{\"$eq\":1}", "[1]", 1},
    {"{\"$gte\":2}", "[[3]]", 0}, /* one level */
    {"{\"$type\":\"int\"}", "[1]", 1},
    {"{\"$type\":\"array\"}", "[1]", 1},
    {"{\"$size\":1}", "[[1]]", 1},
    {"{\"$gt\":1,\"$lt\":5}", "[0,9]", 1},
    {"{\"$not\":{\"$gt\":5}}", "[1,9]", 0},
    /* A document query: object elements only, never scalars or arrays. */
    {"{\"z\":1}", "{\"z\":1}", 1},
    {"{\"z\":1}", "[{\"z\":1}]", 0},
    {"{\"z\":1}", "5", 0},
    {"{\"a\":{\"$ne\":1}}", "5", 0},
    {"{\"a\":{\"$ne\":1}}", "{\"b\":1}", 1},
    {"{\"a\":{\"$exists\":false}}", "\"s\"", 0},
    {"{}", "{}", 1},
    {"{}", "1", 0},
    {"{}", "[]", 0},
    {"{\"$or\":[{\"x\":1},{\"y\":1}]}", "{\"y\":1}", 1},
    {"{\"$or\":[{\"x\":1},{\"y\":1}]}", "[{\"y\":1}]", 0},
    {"{\"$type\":\"object\",\"a\":1}", "{\"a\":1}", 1},
};

Test(filter, array_elements_follow_mongodb_pull) {
    size_t n = sizeof element_rows / sizeof element_rows[0];
    for (size_t i = 0; i < n; i++) {
        const match_row *r = &element_rows[i];
        doc_filter *f;
        doc_error err;
        doc_status st = compile(r->filter, DOC_DEPTH_DEFAULT, &f, &err);
        cr_assert_eq(st, DOC_OK, "row %zu: %s: %s", i, r->filter, err.msg);
        doc_node *v = parse(r->value);
        int got = doc_filter_match_element(f, doc_box_value(v));
        cr_expect_eq(got, r->want, "row %zu: %s on element %s: got %d", i, r->filter, r->value, got);
        doc_node_free(v);
        doc_filter_free(f);
    }
}

/* ------------------------------------------------------------------ */
/* Malformed filters                                                  */
/* ------------------------------------------------------------------ */

typedef struct bad_row {
    const char *filter; /* filter JSON */
    uint32_t depth;     /* max_depth for the compile */
    doc_status code;    /* expected status */
    const char *words;  /* the message must contain this */
} bad_row;

static const bad_row bad_rows[] = {
    {"[1]", 128, DOC_BADFILTER, "must be a JSON object"},
    {"5", 128, DOC_BADFILTER, "must be a JSON object"},
    {"{\"qty\":{\"$in\":5}}", 128, DOC_BADFILTER, "at qty.$in: $in needs an array"},
    {"{\"qty\":{\"$nin\":{}}}", 128, DOC_BADFILTER, "at qty.$nin: $nin needs an array"},
    {"{\"a\":{\"$foo\":1}}", 128, DOC_BADFILTER, "at a.$foo: unknown operator \"$foo\""},
    {"{\"$foo\":1}", 128, DOC_BADFILTER, "unknown operator \"$foo\""},
    {"{\"$and\":{}}", 128, DOC_BADFILTER, "at $and: $and needs a non-empty array"},
    {"{\"$and\":[]}", 128, DOC_BADFILTER, "$and needs a non-empty array"},
    {"{\"$or\":[]}", 128, DOC_BADFILTER, "$or needs a non-empty array"},
    {"{\"$nor\":5}", 128, DOC_BADFILTER, "$nor needs a non-empty array"},
    {"{\"$or\":[1]}", 128, DOC_BADFILTER, "at $or.0: each $or entry"},
    {"{\"$nor\":[{},3]}", 128, DOC_BADFILTER, "at $nor.1:"},
    {"{\"a\":{\"$not\":5}}", 128, DOC_BADFILTER, "at a.$not: $not needs"},
    {"{\"a\":{\"$not\":{}}}", 128, DOC_BADFILTER, "$not needs a non-empty object"},
    {"{\"a\":{\"$not\":{\"b\":1}}}", 128, DOC_BADFILTER, "$not needs"},
    {"{\"a\":{\"$not\":{\"$gt\":1,\"b\":1}}}", 128, DOC_BADFILTER, "$not needs"},
    {"{\"a\":{\"$size\":-1}}", 128, DOC_BADFILTER, "at a.$size: $size needs a non-negative integer"},
    {"{\"a\":{\"$size\":1.5}}", 128, DOC_BADFILTER, "$size needs a non-negative integer"},
    {"{\"a\":{\"$size\":\"2\"}}", 128, DOC_BADFILTER, "$size needs a non-negative integer"},
    {"{\"a\":{\"$size\":null}}", 128, DOC_BADFILTER, "$size"},
    {"{\"a\":{\"$regex\":\"x\"}}", 128, DOC_BADFILTER, "operator $regex is not supported"},
    {"{\"a\":{\"$mod\":[2,0]}}", 128, DOC_BADFILTER, "operator $mod is not supported"},
    {"{\"$where\":\"x\"}", 128, DOC_BADFILTER, "operator $where is not supported"},
    {"{\"$expr\":{}}", 128, DOC_BADFILTER, "operator $expr is not supported"},
    {"{\"a\":{\"$exists\":\"yes\"}}", 128, DOC_BADFILTER, "$exists needs true or false"},
    {"{\"a\":{\"$exists\":2}}", 128, DOC_BADFILTER, "$exists needs true or false"},
    {"{\"a\":{\"$type\":\"date\"}}", 128, DOC_BADFILTER, "unknown type \"date\""},
    {"{\"a\":{\"$type\":[\"string\",\"nope\"]}}", 128, DOC_BADFILTER, "unknown type \"nope\""},
    {"{\"a\":{\"$type\":[]}}", 128, DOC_BADFILTER, "$type needs"},
    {"{\"a\":{\"$type\":99}}", 128, DOC_BADFILTER, "unknown type 99"},
    {"{\"a\":{\"$type\":true}}", 128, DOC_BADFILTER, "$type needs"},
    {"{\"a\":{\"$all\":1}}", 128, DOC_BADFILTER, "at a.$all: $all needs an array"},
    {"{\"a\":{\"$all\":[1,{\"$gt\":1}]}}", 128, DOC_BADFILTER, "at a.$all.1: $all takes values"},
    {"{\"a\":{\"$all\":[{\"$elemMatch\":{},\"$gt\":1}]}}", 128, DOC_BADFILTER, "$all takes values"},
    {"{\"a\":{\"$all\":[{\"$elemMatch\":5}]}}", 128, DOC_BADFILTER,
     "at a.$all.0.$elemMatch: $elemMatch needs an object"},
    {"{\"a\":{\"$elemMatch\":1}}", 128, DOC_BADFILTER, "$elemMatch needs an object"},
    {"{\"a\":{\"$elemMatch\":{\"b\":{\"$bad\":1}}}}", 128, DOC_BADFILTER,
     "at a.$elemMatch.b.$bad: unknown operator"},
    {"{\"a\":{\"$gt\":1,\"b\":2}}", 128, DOC_BADFILTER, "at a: cannot mix operators and field names"},
    {"{\"a\":{\"b\":2,\"$gt\":1}}", 128, DOC_BADFILTER, "cannot mix"},
    {"{\"a\":{\"$and\":[{\"b\":1}]}}", 128, DOC_BADFILTER, "$and is not a field operator"},
    {"{\"$and\":[{\"a\":{\"$in\":1}}]}", 128, DOC_BADFILTER, "at $and.0.a.$in: $in needs an array"},
    {"{\"a\":{\"$not\":{\"$in\":1}}}", 128, DOC_BADFILTER, "at a.$not.$in:"},
    {"{\"a\":{\"$eq\":1,\"$nin\":{}}}", 128, DOC_BADFILTER, "at a.$nin:"},
    {"{\"ok\":1,\"$or\":[{\"x\":{\"$lt\":1}},{\"y\":{\"$regex\":\"a\"}}]}", 128, DOC_BADFILTER,
     "at $or.1.y.$regex: operator $regex is not supported"},
    /* Depth. */
    {"{\"a\":1}", 0, DOC_TOODEEP, "max-depth 0"},
    {"{\"a\":{\"$gt\":1}}", 1, DOC_TOODEEP, "max-depth 1"},
    {"{\"a.b\":1}", 1, DOC_TOODEEP, "at a.b:"},
    {"{\"$and\":[{\"$and\":[{\"a\":1}]}]}", 4, DOC_TOODEEP, "at $and.0.$and"},
    {"{\"a\":{\"$elemMatch\":{\"b\":{\"$elemMatch\":{\"c\":1}}}}}", 4, DOC_TOODEEP, "max-depth"},
    {"{\"a\":{\"$not\":{\"$not\":{\"$not\":{\"$eq\":1}}}}}", 4, DOC_TOODEEP, "max-depth"},
    {"{\"a\":{\"$all\":[{\"$elemMatch\":{\"b\":1}}]}}", 4, DOC_TOODEEP, "max-depth"},
};

Test(filter, malformed_table) {
    for (size_t i = 0; i < sizeof bad_rows / sizeof bad_rows[0]; i++) {
        const bad_row *r = &bad_rows[i];
        doc_filter *f = (doc_filter *)&f; /* must be reset to NULL */
        doc_error err;
        doc_status st = compile(r->filter, r->depth, &f, &err);
        cr_expect_eq(st, r->code, "row %zu: %s: status %d (%s)", i, r->filter, st, err.msg);
        cr_expect_eq(err.code, r->code, "row %zu", i);
        cr_expect_null(f, "row %zu: filter left set", i);
        cr_expect(strstr(err.msg, r->words) != NULL, "row %zu: %s: message \"%s\" lacks \"%s\"", i, r->filter,
                  err.msg, r->words);
        cr_expect(strchr(err.msg, '\n') == NULL);
    }
}

/* The smallest max_depth that compiles each filter: it counts containers
 * walked, with "a.b" counting as {"a":{"b":...}}; one less is TOODEEP. */
Test(filter, depth_boundaries) {
    static const struct {
        const char *filter;
        uint32_t need;
    } rows[] = {
        {"{}", 1},
        {"{\"a\":[[[[1]]]]}", 1}, /* literal operands do not count */
        {"{\"a\":{\"$in\":[[[1]]]}}", 2},
        {"{\"a\":{\"$gt\":1}}", 2},
        {"{\"a.b.c\":1}", 3},
        {"{\"a.b\":{\"$gt\":1}}", 3},
        {"{\"$and\":[{\"a\":1}]}", 3},
        {"{\"$and\":[{\"a.b\":{\"$gt\":1}}]}", 5},
        {"{\"a\":{\"$elemMatch\":{\"b\":1}}}", 3},
        {"{\"a\":{\"$not\":{\"$gt\":1}}}", 3},
        {"{\"a\":{\"$all\":[1]}}", 3},
        {"{\"a\":{\"$all\":[{\"$elemMatch\":{\"b\":1}}]}}", 5},
        {"{\"$elemMatch\":{\"$elemMatch\":{}}}", 3},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        doc_filter *f;
        doc_error err;
        cr_expect_eq(compile(rows[i].filter, rows[i].need, &f, &err), DOC_OK, "%s at %u: %s", rows[i].filter,
                     rows[i].need, err.msg);
        doc_filter_free(f);
        cr_expect_eq(compile(rows[i].filter, rows[i].need - 1, &f, &err), DOC_TOODEEP, "%s at %u",
                     rows[i].filter, rows[i].need - 1);
        cr_expect_null(f);
    }
}

/* A long dotted path is as deep as the objects it stands for. */
Test(filter, long_paths) {
    doc_buf b;
    doc_buf_init(&b);
    doc_buf_append(&b, "{\"", 2);
    for (int i = 0; i < 300; i++) doc_buf_append(&b, i ? ".a" : "a", i ? 2 : 1);
    doc_buf_append(&b, "\":1}", 4);
    doc_filter *f;
    doc_error err;
    cr_expect_eq(compile(doc_buf_cstr(&b), 299, &f, &err), DOC_TOODEEP);
    cr_expect(strstr(err.msg, "...") != NULL, "long location is cut: %s", err.msg);
    cr_expect_lt(strlen(err.msg), sizeof err.msg - 1);
    cr_assert_eq(compile(doc_buf_cstr(&b), 300, &f, &err), DOC_OK, "%s", err.msg);
    doc_filter_free(f);
    doc_buf_free(&b);
}

/* Filters nested thousands deep compile, match and free (the recursion is
 * bounded by max_depth, which allows this). */
Test(filter, deep_filters) {
    const int levels = 1500;
    doc_buf b;
    doc_buf_init(&b);
    /* {"$and":[{"$and":[ ... {"x":1} ... ]}]} : 2 levels each. */
    for (int i = 0; i < levels; i++) doc_buf_append(&b, "{\"$and\":[", 9);
    doc_buf_append(&b, "{\"x\":1}", 7);
    for (int i = 0; i < levels; i++) doc_buf_append(&b, "]}", 2);
    doc_filter *f;
    doc_error err;
    cr_assert_eq(compile(doc_buf_cstr(&b), DOC_DEPTH_LIMIT, &f, &err), DOC_OK, "%s", err.msg);
    doc_node *v = parse("{\"x\":1.0}");
    cr_expect_eq(doc_filter_match(f, doc_box_value(v)), 1);
    doc_node_free(v);
    doc_filter_free(f);
    cr_expect_eq(compile(doc_buf_cstr(&b), 2 * levels, &f, &err), DOC_TOODEEP);

    /* {"a":{"$not":{"$not": ... {"$eq":1} ...}}}: 1 level each. */
    doc_buf_free(&b);
    doc_buf_init(&b);
    doc_buf_append(&b, "{\"a\":", 5);
    for (int i = 0; i < 2 * levels; i++) doc_buf_append(&b, "{\"$not\":", 8);
    doc_buf_append(&b, "{\"$eq\":1}", 9);
    for (int i = 0; i < 2 * levels + 1; i++) doc_buf_putc(&b, '}');
    cr_assert_eq(compile(doc_buf_cstr(&b), DOC_DEPTH_LIMIT, &f, &err), DOC_OK, "%s", err.msg);
    v = parse("{\"a\":1}");
    cr_expect_eq(doc_filter_match(f, doc_box_value(v)), 1); /* even number of $not */
    doc_node_free(v);
    doc_filter_free(f);
    doc_buf_free(&b);
}

/* A path through nested arrays of objects whose members are named like
 * indexes costs one visit per node, however long (no exponential walk). */
Test(filter, numeric_segments_stay_linear) {
    const int levels = 60;
    doc_buf d, q;
    doc_buf_init(&d);
    doc_buf_init(&q);
    for (int i = 0; i < levels; i++) doc_buf_append(&d, "[{\"0\":", 6);
    doc_buf_append(&d, "1", 1);
    for (int i = 0; i < levels; i++) doc_buf_append(&d, "}]", 2);
    doc_buf_append(&q, "{\"", 2);
    for (int i = 0; i < 2 * levels; i++) doc_buf_append(&q, i ? ".0" : "0", i ? 2 : 1);
    doc_buf_append(&q, "\":{\"$ne\":1}}", 12);
    doc_filter *f;
    doc_error err;
    cr_assert_eq(compile(doc_buf_cstr(&q), DOC_DEPTH_LIMIT, &f, &err), DOC_OK, "%s", err.msg);
    doc_node *v = parse(doc_buf_cstr(&d));
    cr_expect_eq(doc_filter_match(f, doc_box_value(v)), 0);
    doc_node_free(v);
    doc_filter_free(f);
    doc_buf_free(&d);
    doc_buf_free(&q);
}

/* ------------------------------------------------------------------ */
/* Independence, equalities, allocation failure                       */
/* ------------------------------------------------------------------ */

Test(filter, does_not_point_into_source) {
    doc_node *src = parse("{\"a.b\":{\"$in\":[\"x\",[1,{\"k\":2}]]},\"c\":{\"z\":[1]},"
                          "\"d\":{\"$elemMatch\":{\"e\":{\"$gte\":\"m\"}}}}");
    doc_filter *f;
    doc_error err;
    doc_error_clear(&err);
    cr_assert_eq(doc_filter_compile(doc_box_value(src), 16, &f, &err), DOC_OK, "%s", err.msg);
    doc_node_free(src);
    doc_node *v = parse("{\"a\":[{\"b\":[1,{\"k\":2.0}]}],\"c\":{\"z\":[1.0]},\"d\":[{\"e\":\"n\"}]}");
    cr_expect_eq(doc_filter_match(f, doc_box_value(v)), 1);
    doc_node_free(v);
    doc_filter_free(f);
    doc_filter_free(NULL);
}

typedef struct eq_seen {
    char text[512]; /* "path=json;" for each call */
    int calls;      /* calls made */
    int stop_after; /* return 1 on this call (0: never) */
} eq_seen;

static int collect(void *ctx, const char *path, size_t plen, const uint8_t *val) {
    eq_seen *s = ctx;
    doc_buf b;
    doc_buf_init(&b);
    doc_print(val, &b);
    size_t used = strlen(s->text);
    snprintf(s->text + used, sizeof s->text - used, "%.*s=%.*s;", (int)plen, path, (int)b.len, b.data);
    doc_buf_free(&b);
    return ++s->calls == s->stop_after;
}

Test(filter, equalities) {
    static const struct {
        const char *filter;
        const char *want;
    } rows[] = {
        {"{\"_id\":5,\"a.b\":2}", "_id=5;a.b=2;"},
        {"{\"x\":{\"$eq\":3}}", "x=3;"},
        {"{\"x\":{\"$eq\":3,\"$gt\":1}}", "x=3;"},
        {"{\"o\":{\"k\":[1,null]}}", "o={\"k\":[1,null]};"},
        {"{\"n\":null}", "n=null;"},
        {"{\"a\":1,\"$and\":[{\"b\":2},{\"c\":{\"$eq\":\"s\"}},{\"$and\":[{\"d\":4}]}]}",
         "a=1;b=2;c=\"s\";d=4;"},
        {"{\"x\":{\"$ne\":3},\"y\":{\"$gt\":1},\"z\":{\"$in\":[1]},\"$or\":[{\"p\":1}]}", ""},
        {"{\"$eq\":5,\"$nor\":[{\"q\":1}],\"r\":{\"$elemMatch\":{\"s\":1}}}", ""},
        {"{\"x\":{\"$not\":{\"$eq\":1}}}", ""},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        doc_filter *f;
        doc_error err;
        cr_assert_eq(compile(rows[i].filter, 16, &f, &err), DOC_OK, "%s", err.msg);
        eq_seen s = {{0}, 0, 0};
        doc_filter_equalities(f, collect, &s);
        cr_expect_str_eq(s.text, rows[i].want, "%s", rows[i].filter);
        doc_filter_free(f);
    }
    /* Stops when fn returns non-zero. */
    doc_filter *f;
    doc_error err;
    cr_assert_eq(compile("{\"a\":1,\"$and\":[{\"b\":2},{\"c\":3}],\"d\":4}", 16, &f, &err), DOC_OK);
    eq_seen s = {{0}, 0, 2};
    doc_filter_equalities(f, collect, &s);
    cr_expect_str_eq(s.text, "a=1;b=2;");
    doc_filter_free(f);
}

Test(filter, out_of_memory_at_every_step) {
    doc_node *src = parse("{\"a.b\":{\"$in\":[1,2],\"$not\":{\"$size\":3}},\"c\":[1,{\"d\":2}],"
                          "\"$or\":[{\"e\":{\"$elemMatch\":{\"f\":{\"$all\":[1,{\"$elemMatch\":"
                          "{\"$gt\":0}}]}}}},{\"$gte\":5}]}");
    doc_node *v = parse("{\"a\":[{\"b\":2}],\"c\":[1,{\"d\":2}],\"e\":[{\"f\":[1,2]}]}");
    int succeeded = 0;
    for (long n = 0; n < 1000 && !succeeded; n++) {
        unit_alloc_fail_after(n);
        doc_filter *f = (doc_filter *)&f;
        doc_error err;
        doc_error_clear(&err);
        doc_status st = doc_filter_compile(doc_box_value(src), 16, &f, &err);
        unit_alloc_plain();
        if (st == DOC_OK) {
            succeeded = 1;
            cr_expect_eq(doc_filter_match(f, doc_box_value(v)), 1);
            doc_filter_free(f);
        } else {
            cr_assert_eq(st, DOC_NOMEM, "n=%ld: %d %s", n, st, err.msg);
            cr_assert_eq(err.code, DOC_NOMEM);
            cr_assert_null(f);
        }
    }
    cr_expect(succeeded);
    doc_node_free(src);
    doc_node_free(v);
}
