/*
 * test_update.c - doc_update_compile / doc_update_apply / doc_update_seed:
 * MongoDB update operators, table-driven.
 *
 * A row is {document, update, array filters or NULL, expected document or
 * an error code}. Every row runs the same way: compile, apply through an
 * undo log, compare the printed result (the expected document is parsed
 * and printed too, so rows can be written loosely), check that `changed`
 * says whether the text changed, then roll the log back and check that the
 * document prints exactly as before. On an error the document must also be
 * byte-identical after the rollback. A randomized test applies random
 * operator sequences and rolls them back.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "unit_doc.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                            */
/* ------------------------------------------------------------------ */

/* The compact form of a JSON text. */
static char *normal(const char *json) {
    doc_node *box = parse_ok(json);
    char *s = box_text(box);
    doc_node_free(box);
    return s;
}

typedef struct row {
    const char *doc;     /* the document before */
    const char *update;  /* the update document */
    const char *filters; /* ARRAYFILTERS, or NULL */
    const char *expect;  /* the document after (when code is DOC_OK) */
    doc_status code;     /* expected status of compile or apply */
    int is_insert;       /* passed to doc_update_apply */
} row;

#define OK(d, u, e) \
    { d, u, NULL, e, DOC_OK, 0 }
#define OKF(d, u, f, e) \
    { d, u, f, e, DOC_OK, 0 }
#define FAILS(d, u, c) \
    { d, u, NULL, NULL, c, 0 }
#define FAILSF(d, u, f, c) \
    { d, u, f, NULL, c, 0 }

/* The limits of the rows' undo logs (a test may lower max-depth). */
static doc_limits row_limits = {DOC_DEPTH_DEFAULT, NULL};

/* Runs one row; returns nothing, asserts everything. */
static void run_row(const row *r, size_t i) {
    doc_error err;
    doc_error_clear(&err);
    doc_node *doc = parse_ok(r->doc);
    doc_node *upd = parse_ok(r->update);
    doc_node *flt = r->filters ? parse_ok(r->filters) : NULL;
    char *before = box_text(doc);
    doc_update *u = NULL;
    doc_status st =
        doc_update_compile(doc_box_value(upd), flt ? doc_box_value(flt) : NULL, DOC_DEPTH_DEFAULT, &u, &err);
    if (st) {
        cr_assert_null(u);
        cr_assert_eq(st, err.code, "row %zu: status and error differ", i);
        cr_assert_eq(st, r->code, "row %zu (%s): compile gave %s (%s), expected %s", i, r->update,
                     doc_status_word(st), err.msg, doc_status_word(r->code));
        cr_assert(err.msg[0] && !strchr(err.msg, '\n'), "row %zu: bad message", i);
    } else {
        doc_undo *undo = doc_undo_new();
        doc_undo_set_limits(undo, &row_limits);
        int changed = -1;
        st = doc_update_apply(u, &doc, r->is_insert, undo, &changed, &err);
        cr_assert_eq(st, r->code, "row %zu (%s on %s): apply gave %s (%s), expected %s", i, r->update, r->doc,
                     doc_status_word(st), err.msg, doc_status_word(r->code));
        if (!st) {
            char *got = box_text(doc);
            char *want = normal(r->expect);
            cr_assert_str_eq(got, want, "row %zu (%s on %s)", i, r->update, r->doc);
            cr_assert_eq(changed, strcmp(got, before) != 0, "row %zu: changed is %d", i, changed);
            free(got);
            free(want);
        } else {
            cr_assert(err.msg[0] && !strchr(err.msg, '\n'), "row %zu: bad message", i);
        }
        doc_undo_rollback(undo);
        char *after = box_text(doc);
        cr_assert_str_eq(after, before, "row %zu: rollback did not restore the document", i);
        free(after);
        doc_undo_free(undo);
        doc_update_free(u);
    }
    free(before);
    doc_node_free(doc);
    doc_node_free(upd);
    doc_node_free(flt);
}

static void run_rows(const row *rows, size_t n) {
    for (size_t i = 0; i < n; i++) run_row(&rows[i], i);
}

#define RUN(rows) run_rows(rows, sizeof rows / sizeof rows[0])

/* ------------------------------------------------------------------ */
/* Operators one by one                                               */
/* ------------------------------------------------------------------ */

Test(update, set) {
    static const row rows[] = {
        OK("{\"a\":1}", "{\"$set\":{\"a\":2}}", "{\"a\":2}"),
        OK("{\"a\":1}", "{\"$set\":{\"b\":[1,{\"c\":2}]}}", "{\"a\":1,\"b\":[1,{\"c\":2}]}"),
        OK("{}", "{\"$set\":{\"a.b.c\":1}}", "{\"a\":{\"b\":{\"c\":1}}}"),
        OK("{\"a\":{\"x\":1}}", "{\"$set\":{\"a.y.z\":true}}", "{\"a\":{\"x\":1,\"y\":{\"z\":true}}}"),
        OK("{\"a\":[1,2]}", "{\"$set\":{\"a.1\":5}}", "{\"a\":[1,5]}"),
        OK("{\"a\":[{\"b\":1}]}", "{\"$set\":{\"a.0.b\":2}}", "{\"a\":[{\"b\":2}]}"),
        /* a numeric segment names a member of an object */
        OK("{\"a\":{\"0\":1}}", "{\"$set\":{\"a.0\":2}}", "{\"a\":{\"0\":2}}"),
        OK("{\"a\":{}}", "{\"$set\":{\"a.5\":2}}", "{\"a\":{\"5\":2}}"),
        OK("{\"a\":{}}", "{\"$set\":{\"a.01\":2}}", "{\"a\":{\"01\":2}}"),
        /* padding with nulls past the end */
        OK("{\"a\":[1]}", "{\"$set\":{\"a.3\":5}}", "{\"a\":[1,null,null,5]}"),
        OK("{\"a\":[1]}", "{\"$set\":{\"a.1\":5}}", "{\"a\":[1,5]}"),
        OK("{\"a\":[]}", "{\"$set\":{\"a.2.b\":1}}", "{\"a\":[null,null,{\"b\":1}]}"),
        /* the same value again: nothing changes */
        OK("{\"a\":{\"x\":[1,2]}}", "{\"$set\":{\"a\":{\"x\":[1,2]}}}", "{\"a\":{\"x\":[1,2]}}"),
        OK("{\"a\":1}", "{\"$set\":{\"a\":1.0}}", "{\"a\":1.0}"),
        OK("{\"a\":1}", "{\"$set\":{}}", "{\"a\":1}"),
        /* root arrays index by number too */
        OK("[1,2]", "{\"$set\":{\"1\":3}}", "[1,3]"),
        FAILS("{\"a\":5}", "{\"$set\":{\"a.b\":1}}", DOC_BADTYPE),
        FAILS("{\"a\":[1]}", "{\"$set\":{\"a.b\":1}}", DOC_BADTYPE),
        FAILS("{\"a\":[1]}", "{\"$set\":{\"a.01\":1}}", DOC_BADTYPE),
        FAILS("{\"a\":[1]}", "{\"$set\":{\"a.4294967296\":1}}", DOC_BADTYPE),
        FAILS("{\"a\":[]}", "{\"$set\":{\"a.2000000\":1}}", DOC_TOOBIG),
        FAILS("5", "{\"$set\":{\"a\":1}}", DOC_BADTYPE),
        FAILS("{\"a\":{\"b\":\"s\"}}", "{\"$set\":{\"x\":1,\"a.b.c\":1}}", DOC_BADTYPE),
    };
    RUN(rows);
}

Test(update, unset) {
    static const row rows[] = {
        OK("{\"a\":1,\"b\":2}", "{\"$unset\":{\"a\":\"\"}}", "{\"b\":2}"),
        OK("{\"a\":{\"b\":{\"c\":1,\"d\":2}}}", "{\"$unset\":{\"a.b.c\":1}}", "{\"a\":{\"b\":{\"d\":2}}}"),
        /* MongoDB: an array element becomes null */
        OK("{\"a\":[1,2,3]}", "{\"$unset\":{\"a.1\":1}}", "{\"a\":[1,null,3]}"),
        OK("{\"a\":[1,2,3]}", "{\"$unset\":{\"a.$[]\":1}}", "{\"a\":[null,null,null]}"),
        /* nothing there: no-op, nothing created */
        OK("{\"a\":1}", "{\"$unset\":{\"x.y\":1}}", "{\"a\":1}"),
        OK("{\"a\":5}", "{\"$unset\":{\"a.b\":1}}", "{\"a\":5}"),
        OK("{\"a\":[1]}", "{\"$unset\":{\"a.5\":1}}", "{\"a\":[1]}"),
        OK("{\"a\":[1]}", "{\"$unset\":{\"a.b\":1}}", "{\"a\":[1]}"),
        OK("{\"a\":{\"0\":1}}", "{\"$unset\":{\"a.0\":1}}", "{\"a\":{}}"),
    };
    RUN(rows);
}

/* Four or more sibling $unsets whose object has four or more of the members they
 * name remove them in one rewrite: the same documents as one by one, containers
 * included, member order kept; the rows' rollback checks restore them. */
Test(update, many_sibling_unsets_equal_one_by_one) {
    static const row rows[] = {
        OK("{\"a\":1,\"b\":[2],\"c\":{\"x\":3},\"d\":4,\"e\":5}",
           "{\"$unset\":{\"a\":1,\"c\":1,\"d\":1,\"e\":1,\"zz\":1}}", "{\"b\":[2]}"),
        OK("{\"p\":{\"q\":{\"a\":1,\"b\":2,\"c\":[3],\"d\":{},\"k\":0}},\"r\":1}",
           "{\"$unset\":{\"p.q.d\":1,\"p.q.b\":1,\"p.q.a\":1,\"p.q.c\":1}}",
           "{\"p\":{\"q\":{\"k\":0}},\"r\":1}"),
        /* three of the four present: one by one, same result */
        OK("{\"a\":1,\"b\":2,\"c\":3,\"k\":0}", "{\"$unset\":{\"a\":1,\"b\":1,\"c\":1,\"x\":1}}",
           "{\"k\":0}"),
        /* the parent an array: elements become null */
        OK("{\"a\":[1,2,3,4,5]}", "{\"$unset\":{\"a.0\":1,\"a.1\":1,\"a.3\":1,\"a.4\":1}}",
           "{\"a\":[null,null,3,null,null]}"),
        /* numeric names in an object are members */
        OK("{\"a\":{\"0\":1,\"1\":2,\"2\":3,\"3\":4,\"x\":5}}",
           "{\"$unset\":{\"a.0\":1,\"a.1\":1,\"a.2\":1,\"a.3\":1}}", "{\"a\":{\"x\":5}}"),
        /* no parent, or a scalar one: nothing happens */
        OK("{\"k\":1}", "{\"$unset\":{\"m.a\":1,\"m.b\":1,\"m.c\":1,\"m.d\":1}}", "{\"k\":1}"),
        OK("{\"m\":7}", "{\"$unset\":{\"m.a\":1,\"m.b\":1,\"m.c\":1,\"m.d\":1}}", "{\"m\":7}"),
        /* a group broken by another operator, then resumed */
        OK("{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6}",
           "{\"$unset\":{\"a\":1,\"b\":1,\"c\":1,\"d\":1},\"$set\":{\"g\":7},\"$inc\":{\"f\":1}}",
           "{\"e\":5,\"f\":7,\"g\":7}"),
    };
    RUN(rows);
}

Test(update, inc_and_mul) {
    static const row rows[] = {
        OK("{\"n\":1}", "{\"$inc\":{\"n\":2}}", "{\"n\":3}"),
        OK("{\"n\":1}", "{\"$inc\":{\"n\":-5}}", "{\"n\":-4}"),
        OK("{\"n\":1.5}", "{\"$inc\":{\"n\":1}}", "{\"n\":2.5}"),
        OK("{\"n\":1}", "{\"$inc\":{\"n\":0.5}}", "{\"n\":1.5}"),
        OK("{\"n\":1}", "{\"$inc\":{\"n\":0}}", "{\"n\":1}"),
        /* MongoDB: a missing field is created as the delta */
        OK("{}", "{\"$inc\":{\"n\":2}}", "{\"n\":2}"),
        OK("{}", "{\"$inc\":{\"a.b\":-1.5}}", "{\"a\":{\"b\":-1.5}}"),
        OK("{\"a\":[1,2]}", "{\"$inc\":{\"a.1\":10}}", "{\"a\":[1,12]}"),
        OK("{\"a\":[1]}", "{\"$inc\":{\"a.2\":10}}", "{\"a\":[1,null,10]}"),
        OK("{\"n\":3}", "{\"$mul\":{\"n\":2}}", "{\"n\":6}"),
        OK("{\"n\":2}", "{\"$mul\":{\"n\":1.5}}", "{\"n\":3.0}"),
        OK("{\"n\":2}", "{\"$mul\":{\"n\":1}}", "{\"n\":2}"),
        /* MongoDB: $mul creates a zero of the multiplier's type */
        OK("{}", "{\"$mul\":{\"n\":2}}", "{\"n\":0}"),
        OK("{}", "{\"$mul\":{\"n\":2.5}}", "{\"n\":0.0}"),
        OK("{\"n\":-9223372036854775807}", "{\"$inc\":{\"n\":-1}}", "{\"n\":-9223372036854775808}"),
        FAILS("{\"n\":\"x\"}", "{\"$inc\":{\"n\":1}}", DOC_BADTYPE),
        FAILS("{\"n\":null}", "{\"$inc\":{\"n\":1}}", DOC_BADTYPE),
        FAILS("{\"n\":[1]}", "{\"$inc\":{\"n\":1}}", DOC_BADTYPE),
        FAILS("{\"n\":true}", "{\"$mul\":{\"n\":2}}", DOC_BADTYPE),
        FAILS("{\"n\":9223372036854775807}", "{\"$inc\":{\"n\":1}}", DOC_OVERFLOW),
        FAILS("{\"n\":-9223372036854775808}", "{\"$inc\":{\"n\":-1}}", DOC_OVERFLOW),
        FAILS("{\"n\":4611686018427387904}", "{\"$mul\":{\"n\":2}}", DOC_OVERFLOW),
        FAILS("{\"n\":1e308}", "{\"$inc\":{\"n\":1e308}}", DOC_OVERFLOW),
        FAILS("{\"n\":1e300}", "{\"$mul\":{\"n\":1e300}}", DOC_OVERFLOW),
        FAILS("{}", "{\"$inc\":{\"n\":\"1\"}}", DOC_ERR),
        FAILS("{}", "{\"$mul\":{\"n\":null}}", DOC_ERR),
    };
    RUN(rows);
}

Test(update, min_and_max) {
    static const row rows[] = {
        OK("{\"n\":5}", "{\"$min\":{\"n\":3}}", "{\"n\":3}"),
        OK("{\"n\":5}", "{\"$min\":{\"n\":7}}", "{\"n\":5}"),
        OK("{\"n\":5}", "{\"$max\":{\"n\":7}}", "{\"n\":7}"),
        OK("{\"n\":5}", "{\"$max\":{\"n\":5.0}}", "{\"n\":5}"),
        OK("{\"n\":1}", "{\"$max\":{\"n\":1.5}}", "{\"n\":1.5}"),
        OK("{}", "{\"$max\":{\"n\":7}}", "{\"n\":7}"),
        OK("{}", "{\"$min\":{\"a.b\":{\"x\":1}}}", "{\"a\":{\"b\":{\"x\":1}}}"),
        OK("{\"s\":\"b\"}", "{\"$min\":{\"s\":\"a\"}}", "{\"s\":\"a\"}"),
        OK("{\"s\":\"b\"}", "{\"$max\":{\"s\":\"ab\"}}", "{\"s\":\"b\"}"),
        OK("{\"s\":\"a\"}", "{\"$max\":{\"s\":\"ab\"}}", "{\"s\":\"ab\"}"),
        OK("{\"n\":9007199254740993}", "{\"$max\":{\"n\":9007199254740992.0}}", "{\"n\":9007199254740993}"),
        FAILS("{\"n\":5}", "{\"$min\":{\"n\":\"a\"}}", DOC_BADTYPE),
        FAILS("{\"n\":true}", "{\"$max\":{\"n\":false}}", DOC_BADTYPE),
        FAILS("{\"n\":null}", "{\"$max\":{\"n\":1}}", DOC_BADTYPE),
    };
    RUN(rows);
}

Test(update, rename) {
    static const row rows[] = {
        OK("{\"a\":1,\"b\":2}", "{\"$rename\":{\"a\":\"c\"}}", "{\"b\":2,\"c\":1}"),
        /* across levels, creating the destination's parents */
        OK("{\"a\":{\"b\":1}}", "{\"$rename\":{\"a.b\":\"c.d\"}}", "{\"a\":{},\"c\":{\"d\":1}}"),
        OK("{\"a\":{\"b\":{\"c\":[1,{\"d\":2}]}},\"x\":{}}", "{\"$rename\":{\"a.b\":\"x.y\"}}",
           "{\"a\":{},\"x\":{\"y\":{\"c\":[1,{\"d\":2}]}}}"),
        OK("{\"x\":{\"y\":1}}", "{\"$rename\":{\"x.y\":\"z\"}}", "{\"x\":{},\"z\":1}"),
        /* the destination is overwritten */
        OK("{\"a\":1,\"b\":2}", "{\"$rename\":{\"a\":\"b\"}}", "{\"b\":1}"),
        OK("{\"a\":[1,[2]]}", "{\"$rename\":{\"a\":\"b\"}}", "{\"b\":[1,[2]]}"),
        OK("{\"a\":{\"0\":1}}", "{\"$rename\":{\"a.0\":\"b\"}}", "{\"a\":{},\"b\":1}"),
        /* a missing source: no-op */
        OK("{\"a\":1}", "{\"$rename\":{\"x\":\"y\"}}", "{\"a\":1}"),
        OK("{\"a\":1}", "{\"$rename\":{\"a.b\":\"y\"}}", "{\"a\":1}"),
        FAILS("{\"a\":[{\"b\":1}]}", "{\"$rename\":{\"a.0.b\":\"c\"}}", DOC_ERR),
        FAILS("{\"a\":[1]}", "{\"$rename\":{\"a.0\":\"c\"}}", DOC_ERR),
        FAILS("{\"a\":1,\"b\":[]}", "{\"$rename\":{\"a\":\"b.x\"}}", DOC_ERR),
        FAILS("{\"a\":1,\"b\":[]}", "{\"$rename\":{\"a\":\"b.0\"}}", DOC_ERR),
        FAILS("{\"a\":1,\"b\":5}", "{\"$rename\":{\"a\":\"b.x\"}}", DOC_BADTYPE),
        FAILS("{\"a\":1}", "{\"$rename\":{\"a\":\"a\"}}", DOC_ERR),
        FAILS("{\"a\":{\"b\":1}}", "{\"$rename\":{\"a\":\"a.b\"}}", DOC_ERR),
        FAILS("{\"a\":{\"b\":1}}", "{\"$rename\":{\"a.b\":\"a\"}}", DOC_ERR),
        FAILS("{\"a\":1}", "{\"$rename\":{\"a\":5}}", DOC_ERR),
        FAILS("{\"a\":1}", "{\"$rename\":{\"a\":\"b.$[]\"}}", DOC_ERR),
        FAILS("{\"a\":[1]}", "{\"$rename\":{\"a.$[]\":\"b\"}}", DOC_ERR),
        FAILS("{\"a\":1}", "{\"$rename\":{\"a\":\"\"}}", DOC_ERR),
        FAILS("{\"a\":1}", "{\"$rename\":{\"a\":\"b\"},\"$set\":{\"b.c\":1}}", DOC_ERR),
    };
    RUN(rows);
}

Test(update, set_on_insert) {
    static const row rows[] = {
        OK("{\"a\":1}", "{\"$setOnInsert\":{\"b\":2}}", "{\"a\":1}"),
        {"{\"a\":1}", "{\"$setOnInsert\":{\"b\":2}}", NULL, "{\"a\":1,\"b\":2}", DOC_OK, 1},
        {"{}", "{\"$set\":{\"a\":1},\"$setOnInsert\":{\"c.d\":[1]}}", NULL, "{\"a\":1,\"c\":{\"d\":[1]}}",
         DOC_OK, 1},
        OK("{}", "{\"$set\":{\"a\":1},\"$setOnInsert\":{\"c.d\":[1]}}", "{\"a\":1}"),
        /* it takes part in conflicts even when it does not apply */
        FAILS("{}", "{\"$set\":{\"a\":1},\"$setOnInsert\":{\"a.b\":2}}", DOC_ERR),
    };
    RUN(rows);
}

Test(update, push) {
    static const row rows[] = {
        OK("{\"a\":[1]}", "{\"$push\":{\"a\":2}}", "{\"a\":[1,2]}"),
        OK("{}", "{\"$push\":{\"a\":2}}", "{\"a\":[2]}"),
        OK("{}", "{\"$push\":{\"x.a\":2}}", "{\"x\":{\"a\":[2]}}"),
        OK("{\"a\":[]}", "{\"$push\":{\"a.1\":2}}", "{\"a\":[null,[2]]}"),
        OK("{\"a\":[1]}", "{\"$push\":{\"a\":[2,3]}}", "{\"a\":[1,[2,3]]}"),
        OK("{\"a\":[]}", "{\"$push\":{\"a\":{\"x\":1}}}", "{\"a\":[{\"x\":1}]}"),
        OK("{\"a\":[1]}", "{\"$push\":{\"a\":{\"$each\":[2,3]}}}", "{\"a\":[1,2,3]}"),
        OK("{\"a\":[1]}", "{\"$push\":{\"a\":{\"$each\":[]}}}", "{\"a\":[1]}"),
        OK("{}", "{\"$push\":{\"a\":{\"$each\":[]}}}", "{\"a\":[]}"),
        /* $position */
        OK("{\"a\":[1,2,3]}", "{\"$push\":{\"a\":{\"$each\":[9],\"$position\":0}}}", "{\"a\":[9,1,2,3]}"),
        OK("{\"a\":[1,2,3]}", "{\"$push\":{\"a\":{\"$each\":[9,8],\"$position\":1}}}", "{\"a\":[1,9,8,2,3]}"),
        OK("{\"a\":[1,2,3]}", "{\"$push\":{\"a\":{\"$each\":[9],\"$position\":-1}}}", "{\"a\":[1,2,9,3]}"),
        OK("{\"a\":[1,2,3]}", "{\"$push\":{\"a\":{\"$each\":[9],\"$position\":-10}}}", "{\"a\":[9,1,2,3]}"),
        OK("{\"a\":[1,2,3]}", "{\"$push\":{\"a\":{\"$each\":[9],\"$position\":10}}}", "{\"a\":[1,2,3,9]}"),
        OK("{\"a\":[1,2,3]}", "{\"$push\":{\"a\":{\"$each\":[9],\"$position\":2.0}}}", "{\"a\":[1,2,9,3]}"),
        /* $slice: first n, last n, none */
        OK("{\"a\":[1,2,3]}", "{\"$push\":{\"a\":{\"$each\":[4],\"$slice\":2}}}", "{\"a\":[1,2]}"),
        OK("{\"a\":[1,2,3]}", "{\"$push\":{\"a\":{\"$each\":[4],\"$slice\":-2}}}", "{\"a\":[3,4]}"),
        OK("{\"a\":[1,2,3]}", "{\"$push\":{\"a\":{\"$each\":[4],\"$slice\":0}}}", "{\"a\":[]}"),
        OK("{\"a\":[1,2,3]}", "{\"$push\":{\"a\":{\"$each\":[4],\"$slice\":10}}}", "{\"a\":[1,2,3,4]}"),
        OK("{\"a\":[1,2,3]}", "{\"$push\":{\"a\":{\"$each\":[4],\"$slice\":-10}}}", "{\"a\":[1,2,3,4]}"),
        OK("{\"a\":[1,2,3]}", "{\"$push\":{\"a\":{\"$each\":[],\"$slice\":-1}}}", "{\"a\":[3]}"),
        OK("{\"a\":[1,2,3]}", "{\"$push\":{\"a\":{\"$each\":[8,9],\"$position\":0,\"$slice\":3}}}",
           "{\"a\":[8,9,1]}"),
        /* $sort */
        OK("{\"a\":[3,1]}", "{\"$push\":{\"a\":{\"$each\":[2],\"$sort\":1}}}", "{\"a\":[1,2,3]}"),
        OK("{\"a\":[3,1]}", "{\"$push\":{\"a\":{\"$each\":[2],\"$sort\":-1}}}", "{\"a\":[3,2,1]}"),
        OK("{\"a\":[3,1,2]}", "{\"$push\":{\"a\":{\"$each\":[],\"$sort\":1}}}", "{\"a\":[1,2,3]}"),
        OK("{\"a\":[1,2,3]}", "{\"$push\":{\"a\":{\"$each\":[],\"$sort\":1}}}", "{\"a\":[1,2,3]}"),
        OK("{\"a\":[\"b\",\"a\",\"ab\"]}", "{\"$push\":{\"a\":{\"$each\":[\"\"],\"$sort\":1}}}",
           "{\"a\":[\"\",\"a\",\"ab\",\"b\"]}"),
        OK("{\"a\":[2.5,1,-3]}", "{\"$push\":{\"a\":{\"$each\":[2],\"$sort\":1}}}", "{\"a\":[-3,1,2,2.5]}"),
        /* mixed types: null < numbers < strings < objects < arrays < booleans */
        OK("{\"a\":[true,\"b\",1,null,{\"a\":1},[1],false]}",
           "{\"$push\":{\"a\":{\"$each\":[],\"$sort\":1}}}",
           "{\"a\":[null,1,\"b\",{\"a\":1},[1],false,true]}"),
        OK("{\"a\":[[1,2],[1],[0,5],{\"b\":1},{\"a\":2},{\"a\":1,\"b\":0}]}",
           "{\"$push\":{\"a\":{\"$each\":[],\"$sort\":1}}}",
           "{\"a\":[{\"a\":1,\"b\":0},{\"a\":2},{\"b\":1},[0,5],[1],[1,2]]}"),
        /* MongoDB's example: $each + $sort by a field + $slice together */
        OK("{\"quizzes\":[{\"wk\":1,\"score\":10},{\"wk\":2,\"score\":8},{\"wk\":3,\"score\":5},{\"wk\":4,"
           "\"score\":6}]}",
           "{\"$push\":{\"quizzes\":{\"$each\":[{\"wk\":5,\"score\":8},{\"wk\":6,\"score\":7},{\"wk\":7,"
           "\"score\":6}],"
           "\"$sort\":{\"score\":-1},\"$slice\":3}}}",
           "{\"quizzes\":[{\"wk\":1,\"score\":10},{\"wk\":2,\"score\":8},{\"wk\":5,\"score\":8}]}"),
        /* sort by two fields, nested, missing fields as null */
        OK("{\"a\":[{\"p\":{\"q\":2},\"r\":1},{\"p\":{\"q\":1},\"r\":5},{\"r\":0},{\"p\":{\"q\":1},\"r\":7}]"
           "}",
           "{\"$push\":{\"a\":{\"$each\":[],\"$sort\":{\"p.q\":1,\"r\":-1}}}}",
           "{\"a\":[{\"r\":0},{\"p\":{\"q\":1},\"r\":7},{\"p\":{\"q\":1},\"r\":5},{\"p\":{\"q\":2},\"r\":1}]"
           "}"),
        /* order of application: $position/$each, then $sort, then $slice */
        OK("{\"a\":[5,1]}", "{\"$push\":{\"a\":{\"$slice\":2,\"$sort\":-1,\"$each\":[3,9],\"$position\":0}}}",
           "{\"a\":[9,5]}"),
        OK("{}", "{\"$push\":{\"a\":{\"$each\":[3,1,2],\"$sort\":1,\"$slice\":2}}}", "{\"a\":[1,2]}"),
        /* objects compare pair by pair: value types, then names (issue 10) */
        OK("{\"c\":[{\"y\":[]},{\"z\":\"a\",\"x\":1}]}", "{\"$push\":{\"c\":{\"$each\":[],\"$sort\":1}}}",
           "{\"c\":[{\"z\":\"a\",\"x\":1},{\"y\":[]}]}"),
        OK("{\"c\":[{\"a\":true},{\"b\":null}]}", "{\"$push\":{\"c\":{\"$each\":[],\"$sort\":1}}}",
           "{\"c\":[{\"b\":null},{\"a\":true}]}"),
        OK("{\"c\":[{\"a\":1,\"b\":\"x\"},{\"a\":1,\"c\":2}]}",
           "{\"$push\":{\"c\":{\"$each\":[],\"$sort\":-1}}}",
           "{\"c\":[{\"a\":1,\"b\":\"x\"},{\"a\":1,\"c\":2}]}"),
        FAILS("{\"a\":1}", "{\"$push\":{\"a\":2}}", DOC_BADTYPE),
        FAILS("{\"a\":{}}", "{\"$push\":{\"a\":2}}", DOC_BADTYPE),
        FAILS("{\"a\":\"s\"}", "{\"$push\":{\"a.b\":2}}", DOC_BADTYPE),
        FAILS("{}", "{\"$push\":{\"a\":{\"$each\":1}}}", DOC_ERR),
        FAILS("{}", "{\"$push\":{\"a\":{\"$slice\":1}}}", DOC_ERR),
        FAILS("{}", "{\"$push\":{\"a\":{\"$each\":[1],\"$foo\":1}}}", DOC_ERR),
        FAILS("{}", "{\"$push\":{\"a\":{\"$each\":[1],\"$sort\":2}}}", DOC_ERR),
        FAILS("{}", "{\"$push\":{\"a\":{\"$each\":[1],\"$sort\":{}}}}", DOC_ERR),
        FAILS("{}", "{\"$push\":{\"a\":{\"$each\":[1],\"$sort\":{\"x\":0}}}}", DOC_ERR),
        FAILS("{}", "{\"$push\":{\"a\":{\"$each\":[1],\"$sort\":{\"x..y\":1}}}}", DOC_ERR),
        FAILS("{}", "{\"$push\":{\"a\":{\"$each\":[1],\"$position\":1.5}}}", DOC_ERR),
        FAILS("{}", "{\"$push\":{\"a\":{\"$each\":[1],\"$slice\":\"1\"}}}", DOC_ERR),
    };
    RUN(rows);
}

Test(update, pop) {
    static const row rows[] = {
        OK("{\"a\":[1,2,3]}", "{\"$pop\":{\"a\":1}}", "{\"a\":[1,2]}"),
        OK("{\"a\":[1,2,3]}", "{\"$pop\":{\"a\":-1}}", "{\"a\":[2,3]}"),
        OK("{\"a\":[1,2,3]}", "{\"$pop\":{\"a\":1.0}}", "{\"a\":[1,2]}"),
        OK("{\"a\":[]}", "{\"$pop\":{\"a\":1}}", "{\"a\":[]}"),
        OK("{}", "{\"$pop\":{\"a\":1}}", "{}"),
        OK("{}", "{\"$pop\":{\"a.b.c\":1}}", "{}"),
        FAILS("{\"a\":5}", "{\"$pop\":{\"a\":1}}", DOC_BADTYPE),
        FAILS("{\"a\":[1]}", "{\"$pop\":{\"a\":2}}", DOC_ERR),
        FAILS("{\"a\":[1]}", "{\"$pop\":{\"a\":\"1\"}}", DOC_ERR),
    };
    RUN(rows);
}

Test(update, pull_and_pull_all) {
    static const row rows[] = {
        OK("{\"a\":[1,2,1,3,1]}", "{\"$pull\":{\"a\":1}}", "{\"a\":[2,3]}"),
        OK("{\"a\":[1,2.0,2]}", "{\"$pull\":{\"a\":2}}", "{\"a\":[1]}"),
        OK("{\"a\":[1,2]}", "{\"$pull\":{\"a\":7}}", "{\"a\":[1,2]}"),
        /* an array value matches exactly, order included */
        OK("{\"a\":[[1,2],[2,1],1]}", "{\"$pull\":{\"a\":[1,2]}}", "{\"a\":[[2,1],1]}"),
        /* MongoDB: {"$gte": 6} on scalars */
        OK("{\"votes\":[3,5,6,7,7,8]}", "{\"$pull\":{\"votes\":{\"$gte\":6}}}", "{\"votes\":[3,5]}"),
        OK("{\"a\":[1,2,3,\"x\"]}", "{\"$pull\":{\"a\":{\"$in\":[1,\"x\"]}}}", "{\"a\":[2,3]}"),
        /* MongoDB: a document condition is a query on each element */
        OK("{\"results\":[{\"item\":\"A\",\"score\":5},{\"item\":\"B\",\"score\":8,\"comment\":\"x\"}]}",
           "{\"$pull\":{\"results\":{\"score\":8,\"item\":\"B\"}}}",
           "{\"results\":[{\"item\":\"A\",\"score\":5}]}"),
        OK("{\"results\":[{\"item\":\"A\",\"score\":5,\"answers\":[{\"q\":1,\"a\":4},{\"q\":2,\"a\":6}]},"
           "{\"item\":\"B\",\"score\":8,\"answers\":[{\"q\":1,\"a\":8},{\"q\":2,\"a\":9}]}]}",
           "{\"$pull\":{\"results\":{\"answers\":{\"$elemMatch\":{\"q\":2,\"a\":{\"$gte\":8}}}}}}",
           "{\"results\":[{\"item\":\"A\",\"score\":5,\"answers\":[{\"q\":1,\"a\":4},{\"q\":2,\"a\":6}]}]}"),
        /* a field condition never removes a non-object */
        OK("{\"a\":[1,{\"b\":1},{\"c\":1}]}", "{\"$pull\":{\"a\":{\"b\":{\"$exists\":false}}}}",
           "{\"a\":[1,{\"b\":1}]}"),
        OK("{\"a\":[1,{\"b\":1},{}]}", "{\"$pull\":{\"a\":{}}}", "{\"a\":[1]}"),
        OK("{\"a\":[{\"x\":1},{\"x\":2}]}", "{\"$pull\":{\"a\":{\"$or\":[{\"x\":1},{\"x\":3}]}}}",
           "{\"a\":[{\"x\":2}]}"),
        OK("{}", "{\"$pull\":{\"a\":1}}", "{}"),
        OK("{\"a\":[0,2,5,5,1,0]}", "{\"$pullAll\":{\"a\":[0,5]}}", "{\"a\":[2,1]}"),
        OK("{\"a\":[1.0,{\"x\":1,\"y\":2},3]}", "{\"$pullAll\":{\"a\":[1,{\"y\":2,\"x\":1}]}}",
           "{\"a\":[3]}"),
        OK("{\"a\":[1]}", "{\"$pullAll\":{\"a\":[]}}", "{\"a\":[1]}"),
        OK("{}", "{\"$pullAll\":{\"a\":[1]}}", "{}"),
        /* issue 10: an operator condition sees an array element's items
         * (MongoDB matches {"": element}); a field query only documents */
        OK("{\"c\":[[0]]}", "{\"$pull\":{\"c\":{\"$lt\":1}}}", "{\"c\":[]}"),
        OK("{\"b\":[[\"a\"]]}", "{\"$pull\":{\"b\":{\"$ne\":\"a\"}}}", "{\"b\":[[\"a\"]]}"),
        OK("{\"b\":[[\"a\"],\"c\"]}", "{\"$pull\":{\"b\":{\"$in\":[\"a\"]}}}", "{\"b\":[\"c\"]}"),
        OK("{\"b\":[[1],2]}", "{\"$pull\":{\"b\":{\"$type\":\"int\"}}}", "{\"b\":[]}"),
        OK("{\"a\":[[{\"z\":1}],{\"z\":1},5]}", "{\"$pull\":{\"a\":{\"z\":1}}}", "{\"a\":[[{\"z\":1}],5]}"),
        OK("{\"a\":[1,{\"a\":2}]}", "{\"$pull\":{\"a\":{\"a\":{\"$ne\":1}}}}", "{\"a\":[1]}"),
        FAILS("{\"a\":5}", "{\"$pull\":{\"a\":5}}", DOC_BADTYPE),
        FAILS("{\"a\":{}}", "{\"$pullAll\":{\"a\":[1]}}", DOC_BADTYPE),
        FAILS("{\"a\":[1]}", "{\"$pullAll\":{\"a\":1}}", DOC_ERR),
        FAILS("{\"a\":[1]}", "{\"$pull\":{\"a\":{\"$foo\":1}}}", DOC_BADFILTER),
        FAILS("{\"a\":[1]}", "{\"$pull\":{\"a\":{\"$in\":5}}}", DOC_BADFILTER),
    };
    RUN(rows);
}

Test(update, add_to_set) {
    static const row rows[] = {
        OK("{\"a\":[1,2]}", "{\"$addToSet\":{\"a\":2}}", "{\"a\":[1,2]}"),
        OK("{\"a\":[1,2]}", "{\"$addToSet\":{\"a\":2.0}}", "{\"a\":[1,2]}"),
        OK("{\"a\":[1,2]}", "{\"$addToSet\":{\"a\":3}}", "{\"a\":[1,2,3]}"),
        OK("{\"a\":[{\"x\":1,\"y\":2}]}", "{\"$addToSet\":{\"a\":{\"y\":2,\"x\":1}}}",
           "{\"a\":[{\"x\":1,\"y\":2}]}"),
        OK("{\"a\":[1]}", "{\"$addToSet\":{\"a\":{\"$each\":[1,2,2,3]}}}", "{\"a\":[1,2,3]}"),
        OK("{}", "{\"$addToSet\":{\"a\":{\"$each\":[1,1]}}}", "{\"a\":[1]}"),
        OK("{}", "{\"$addToSet\":{\"a\":{\"$each\":[]}}}", "{\"a\":[]}"),
        OK("{}", "{\"$addToSet\":{\"a.b\":5}}", "{\"a\":{\"b\":[5]}}"),
        OK("{\"a\":[\"x\"]}", "{\"$addToSet\":{\"a\":[\"y\",\"z\"]}}", "{\"a\":[\"x\",[\"y\",\"z\"]]}"),
        FAILS("{\"a\":5}", "{\"$addToSet\":{\"a\":1}}", DOC_BADTYPE),
        FAILS("{\"a\":[]}", "{\"$addToSet\":{\"a\":{\"$each\":[1],\"$slice\":1}}}", DOC_ERR),
        FAILS("{\"a\":[]}", "{\"$addToSet\":{\"a\":{\"$each\":5}}}", DOC_ERR),
    };
    RUN(rows);
}

/* ------------------------------------------------------------------ */
/* Several operators, conflicts, malformed updates                    */
/* ------------------------------------------------------------------ */

Test(update, combinations) {
    static const row rows[] = {
        OK("{\"a\":1,\"b\":[1]}", "{\"$set\":{\"a\":2},\"$push\":{\"b\":2},\"$inc\":{\"c\":1}}",
           "{\"a\":2,\"b\":[1,2],\"c\":1}"),
        OK("{\"a\":{\"x\":1,\"y\":2}}", "{\"$set\":{\"a.x\":5,\"a.z\":6},\"$unset\":{\"a.y\":1}}",
           "{\"a\":{\"x\":5,\"z\":6}}"),
        OK("{\"a\":1,\"ab\":2}", "{\"$set\":{\"a\":3,\"ab\":4}}", "{\"a\":3,\"ab\":4}"),
        OK("{\"a\":[1,2,3],\"n\":1}",
           "{\"$pop\":{\"a\":-1},\"$mul\":{\"x\":10},\"$rename\":{\"n\":\"m\"},\"$max\":{\"k\":1}}",
           "{\"a\":[2,3],\"x\":0,\"m\":1,\"k\":1}"),
        OK("{\"s\":{\"a\":1},\"t\":[3]}",
           "{\"$rename\":{\"s.a\":\"u.v\"},\"$addToSet\":{\"t\":4},\"$pullAll\":{\"q\":[3]}}",
           "{\"s\":{},\"t\":[3,4],\"u\":{\"v\":1}}"),
        OK("{\"a\":[{\"n\":1,\"t\":[]},{\"n\":5,\"t\":[1]}],\"c\":0}",
           "{\"$inc\":{\"a.$[].n\":1,\"c\":1},\"$push\":{\"a.$[].t\":{\"$each\":[2],\"$slice\":-1}},"
           "\"$unset\":{\"a.0.x\":1}}",
           "{\"a\":[{\"n\":2,\"t\":[2]},{\"n\":6,\"t\":[2]}],\"c\":1}"),
        /* the first failing operator fails it all */
        FAILS("{\"a\":1,\"s\":\"x\"}", "{\"$set\":{\"a\":2,\"b.c\":[1]},\"$inc\":{\"s\":1}}", DOC_BADTYPE),
    };
    RUN(rows);
}

/* Issue 10: versions move exactly when the text changes, so operators whose
 * net effect is nothing must report no change (run_row checks `changed`
 * against the text) and leave no edit logged. */
Test(update, operators_that_cancel_out_change_nothing) {
    static const row rows[] = {
        OK("{\"d\":[]}", "{\"$push\":{\"d\":{\"$each\":[1],\"$slice\":0}}}", "{\"d\":[]}"),
        OK("{\"d\":[1,2]}", "{\"$push\":{\"d\":{\"$each\":[3],\"$slice\":2}}}", "{\"d\":[1,2]}"),
        OK("{\"d\":[1,2]}", "{\"$push\":{\"d\":{\"$each\":[0],\"$position\":0,\"$slice\":-2}}}",
           "{\"d\":[1,2]}"),
        OK("{\"a\":[{}]}", "{\"$set\":{\"a.0.n\":1},\"$unset\":{\"a.$[].n\":\"\"}}", "{\"a\":[{}]}"),
        OK("{\"a\":[5]}", "{\"$inc\":{\"a.0\":1,\"a.$[]\":-1}}", "{\"a\":[5]}"),
        OK("{\"a\":[{\"q\":5}]}", "{\"$inc\":{\"a.0.q\":1,\"a.$[].q\":-1}}", "{\"a\":[{\"q\":5}]}"),
        OK("{\"a\":[1,2]}", "{\"$set\":{\"a.$[]\":1,\"a.1\":2}}", "{\"a\":[1,2]}"),
        OK("{\"a\":[{\"x\":{\"y\":1}}]}", "{\"$set\":{\"a.0.x\":{\"y\":2},\"a.$[].x\":{\"y\":1}}}",
           "{\"a\":[{\"x\":{\"y\":1}}]}"),
        OK("{\"a\":[{\"b\":{}}]}", "{\"$set\":{\"a.0.b.c\":1},\"$unset\":{\"a.$[].b.c\":\"\"}}",
           "{\"a\":[{\"b\":{}}]}"),
        /* int 5 and double 5.0 are different texts: a change */
        OK("{\"a\":[5]}", "{\"$inc\":{\"a.0\":1.0,\"a.$[]\":-1}}", "{\"a\":[5.0]}"),
        /* member order is part of the text: a change */
        OK("{\"a\":[{\"x\":1,\"y\":2}]}", "{\"$unset\":{\"a.0.x\":\"\"},\"$set\":{\"a.$[].x\":1}}",
           "{\"a\":[{\"y\":2,\"x\":1}]}"),
    };
    RUN(rows);
    /* nothing stays logged */
    doc_node *doc = parse_ok("{\"a\":[5]}");
    doc_node *upd = parse_ok("{\"$inc\":{\"a.0\":1,\"a.$[]\":-1}}");
    doc_update *u;
    doc_error err;
    doc_error_clear(&err);
    cr_assert_eq(doc_update_compile(doc_box_value(upd), NULL, DOC_DEPTH_DEFAULT, &u, &err), DOC_OK);
    doc_undo *undo = doc_undo_new();
    int changed = -1;
    cr_assert_eq(doc_update_apply(u, &doc, 0, undo, &changed, &err), DOC_OK);
    cr_assert_eq(changed, 0);
    cr_assert_eq(doc_undo_size(undo), 0);
    doc_undo_free(undo);
    doc_update_free(u);
    doc_node_free(upd);
    doc_node_free(doc);
}

/* The documented limit: when an edited node's ancestor is edited in the same
 * span (objects created on the way, then removed), the span counts as a
 * change even if it cancels out; it never reports "no change" for a change. */
Test(update, an_edit_below_an_edited_node_counts_as_a_change) {
    doc_node *doc = parse_ok("{\"a\":[{}]}");
    doc_node *upd = parse_ok("{\"$set\":{\"a.0.b.c\":1},\"$unset\":{\"a.$[].b\":\"\"}}");
    doc_update *u;
    doc_error err;
    doc_error_clear(&err);
    cr_assert_eq(doc_update_compile(doc_box_value(upd), NULL, DOC_DEPTH_DEFAULT, &u, &err), DOC_OK);
    int changed = -1;
    cr_assert_eq(doc_update_apply(u, &doc, 0, NULL, &changed, &err), DOC_OK);
    char *got = box_text(doc);
    cr_assert_str_eq(got, "{\"a\":[{}]}");
    cr_assert_eq(changed, 1);
    free(got);
    doc_update_free(u);
    doc_node_free(upd);
    doc_node_free(doc);
}

Test(update, conflicts) {
    static const row rows[] = {
        FAILS("{}", "{\"$set\":{\"a\":1},\"$inc\":{\"a.b\":1}}", DOC_ERR),
        FAILS("{}", "{\"$set\":{\"a.b\":1},\"$unset\":{\"a.b\":1}}", DOC_ERR),
        FAILS("{}", "{\"$set\":{\"a.b.c\":1,\"a.b\":1}}", DOC_ERR),
        FAILS("{}", "{\"$push\":{\"a\":1},\"$pop\":{\"a\":1}}", DOC_ERR),
        FAILS("{}", "{\"$set\":{\"a.$[].b\":1},\"$inc\":{\"a.$[].b\":1}}", DOC_ERR),
        FAILS("{}", "{\"$set\":{\"a\":1},\"$rename\":{\"b\":\"a.c\"}}", DOC_ERR),
        /* no conflict: siblings, and names sharing a prefix that is not a path */
        OK("{}", "{\"$set\":{\"a.b\":1,\"a.c\":2,\"a!\":3,\"ab\":4}}",
           "{\"a\":{\"b\":1,\"c\":2},\"a!\":3,\"ab\":4}"),
    };
    RUN(rows);
    /* The message names both paths. */
    doc_node *upd = parse_ok("{\"$set\":{\"x\":1,\"a\":1},\"$inc\":{\"a.b\":1}}");
    doc_error err;
    doc_error_clear(&err);
    doc_update *u = NULL;
    cr_assert_eq(doc_update_compile(doc_box_value(upd), NULL, 128, &u, &err), DOC_ERR);
    cr_assert_str_eq(err.msg, "conflicting paths a and a.b");
    doc_node_free(upd);
}

Test(update, malformed) {
    static const row rows[] = {
        FAILS("{}", "{}", DOC_ERR),
        FAILS("{}", "[1]", DOC_ERR),
        FAILS("{}", "{\"a\":1}", DOC_ERR),
        FAILS("{}", "{\"$set\":{\"a\":1},\"b\":2}", DOC_ERR),
        FAILS("{}", "{\"$foo\":{\"a\":1}}", DOC_ERR),
        FAILS("{}", "{\"$set\":1}", DOC_ERR),
        FAILS("{}", "{\"$set\":[{\"a\":1}]}", DOC_ERR),
        FAILS("{}", "{\"$set\":{\"a.$\":1}}", DOC_ERR),
        FAILS("{}", "{\"$set\":{\"a..b\":1}}", DOC_ERR),
        FAILS("{}", "{\"$set\":{\".a\":1}}", DOC_ERR),
        FAILS("{}", "{\"$set\":{\"a.\":1}}", DOC_ERR),
        FAILS("{}", "{\"$set\":{\"\":1}}", DOC_ERR),
        FAILS("{}", "{\"$set\":{\"a.$foo\":1}}", DOC_ERR),
        FAILS("{}", "{\"$set\":{\"$a\":1}}", DOC_ERR),
        FAILS("{}", "{\"$set\":{\"a.$[x]\":1}}", DOC_ERR),
        FAILS("{}", "{\"$set\":{\"a.$[X]\":1}}", DOC_ERR),
        FAILS("{}", "{\"$set\":{\"a.$[1x]\":1}}", DOC_ERR),
        FAILS("{}", "{\"$set\":{\"a.$[x-y]\":1}}", DOC_ERR),
    };
    RUN(rows);
    /* The $ positional operator has its own message. */
    doc_node *upd = parse_ok("{\"$set\":{\"a.$.b\":1}}");
    doc_error err;
    doc_error_clear(&err);
    doc_update *u = NULL;
    cr_assert_eq(doc_update_compile(doc_box_value(upd), NULL, 128, &u, &err), DOC_ERR);
    cr_assert(strstr(err.msg, "the $ positional operator is not supported; use $[id]"), "%s", err.msg);
    doc_node_free(upd);
    upd = parse_ok("{\"$bar\":{\"a\":1}}");
    doc_error_clear(&err);
    cr_assert_eq(doc_update_compile(doc_box_value(upd), NULL, 128, &u, &err), DOC_ERR);
    cr_assert_str_eq(err.msg, "unknown update operator $bar");
    doc_node_free(upd);
}

Test(update, path_limit_is_toodeep) {
    doc_node *upd = parse_ok("{\"$set\":{\"a.b.c.d\":1}}");
    doc_error err;
    doc_error_clear(&err);
    doc_update *u = NULL;
    cr_assert_eq(doc_update_compile(doc_box_value(upd), NULL, 3, &u, &err), DOC_TOODEEP);
    cr_assert_null(u);
    doc_error_clear(&err);
    cr_assert_eq(doc_update_compile(doc_box_value(upd), NULL, 4, &u, &err), DOC_OK, "%s", err.msg);
    doc_update_free(u);
    doc_node_free(upd);
}

/* ------------------------------------------------------------------ */
/* Positional operators and array filters                             */
/* ------------------------------------------------------------------ */

#define ORDERS                                                                                 \
    "{\"orders\":[{\"id\":1,\"lines\":[{\"sku\":\"a\",\"qty\":1},{\"sku\":\"b\",\"qty\":3}]}," \
    "{\"id\":2,\"lines\":[{\"sku\":\"c\",\"qty\":5},{\"sku\":\"d\",\"qty\":2}]}]}"

Test(update, positional_all) {
    static const row rows[] = {
        OK("{\"a\":[1,2,3]}", "{\"$set\":{\"a.$[]\":0}}", "{\"a\":[0,0,0]}"),
        OK("{\"a\":[1,2,3]}", "{\"$inc\":{\"a.$[]\":10}}", "{\"a\":[11,12,13]}"),
        OK("{\"a\":[]}", "{\"$set\":{\"a.$[]\":1}}", "{\"a\":[]}"),
        OK("{\"a\":[{\"b\":1},{\"c\":2}]}", "{\"$set\":{\"a.$[].b\":5}}",
           "{\"a\":[{\"b\":5},{\"c\":2,\"b\":5}]}"),
        OK("{\"a\":[{\"b\":1},5]}", "{\"$unset\":{\"a.$[].b\":1}}", "{\"a\":[{},5]}"),
        OK("{\"a\":[[1,2],[2,3]]}", "{\"$pull\":{\"a.$[]\":2}}", "{\"a\":[[1],[3]]}"),
        OK("{\"a\":[{\"t\":[]},{\"t\":[1]},{}]}", "{\"$push\":{\"a.$[].t\":9}}",
           "{\"a\":[{\"t\":[9]},{\"t\":[1,9]},{\"t\":[9]}]}"),
        OK("{\"a\":[{\"b\":[1,2]},{\"b\":[3]}]}", "{\"$inc\":{\"a.$[].b.$[]\":1}}",
           "{\"a\":[{\"b\":[2,3]},{\"b\":[4]}]}"),
        OK("{\"a\":[{\"b\":[1,2]},{\"b\":[3]}]}", "{\"$set\":{\"a.$[].b.2\":0}}",
           "{\"a\":[{\"b\":[1,2,0]},{\"b\":[3,null,0]}]}"),
        OK("{\"a\":[{\"x\":{}},{}]}", "{\"$set\":{\"a.$[].x.y.z\":1}}",
           "{\"a\":[{\"x\":{\"y\":{\"z\":1}}},{\"x\":{\"y\":{\"z\":1}}}]}"),
        OK("[1,2]", "{\"$set\":{\"$[]\":0}}", "[0,0]"),
        OK("{\"a\":[1,2]}", "{\"$set\":{\"a.$[]\":{\"k\":[1]}}}", "{\"a\":[{\"k\":[1]},{\"k\":[1]}]}"),
        OK("{\"a\":[[3,1],[2]]}", "{\"$push\":{\"a.$[]\":{\"$each\":[0],\"$sort\":1}}}",
           "{\"a\":[[0,1,3],[0,2]]}"),
        /* the array must exist, and be an array */
        FAILS("{}", "{\"$set\":{\"a.$[]\":1}}", DOC_NOPATH),
        FAILS("{}", "{\"$unset\":{\"a.$[]\":1}}", DOC_NOPATH),
        FAILS("{}", "{\"$set\":{\"x.a.$[]\":1}}", DOC_NOPATH),
        FAILS("{\"a\":[]}", "{\"$set\":{\"a.0.$[]\":1}}", DOC_NOPATH),
        FAILS("{\"a\":5}", "{\"$set\":{\"a.$[]\":1}}", DOC_BADTYPE),
        FAILS("{\"a\":{\"b\":1}}", "{\"$set\":{\"a.$[]\":1}}", DOC_BADTYPE),
        FAILS("{\"a\":5}", "{\"$set\":{\"a.b.$[]\":1}}", DOC_BADTYPE),
        FAILS("{\"a\":[{\"b\":1},5]}", "{\"$set\":{\"a.$[].b\":5}}", DOC_BADTYPE),
        FAILS("{\"a\":[{\"b\":[1]},{}]}", "{\"$set\":{\"a.$[].b.$[]\":0}}", DOC_NOPATH),
        FAILS("{\"a\":[[1],2]}", "{\"$push\":{\"a.$[]\":0}}", DOC_BADTYPE),
    };
    RUN(rows);
}

Test(update, positional_filtered) {
    static const row rows[] = {
        /* update every order line whose qty > 2 */
        OKF(ORDERS, "{\"$set\":{\"orders.$[].lines.$[l].big\":true}}", "[{\"l.qty\":{\"$gt\":2}}]",
            "{\"orders\":[{\"id\":1,\"lines\":[{\"sku\":\"a\",\"qty\":1},{\"sku\":\"b\",\"qty\":3,\"big\":"
            "true}]},"
            "{\"id\":2,\"lines\":[{\"sku\":\"c\",\"qty\":5,\"big\":true},{\"sku\":\"d\",\"qty\":2}]}]}"),
        /* nested filters: lines of order 2 only */
        OKF(ORDERS, "{\"$inc\":{\"orders.$[o].lines.$[l].qty\":10}}",
            "[{\"o.id\":2},{\"l.qty\":{\"$lt\":5}}]",
            "{\"orders\":[{\"id\":1,\"lines\":[{\"sku\":\"a\",\"qty\":1},{\"sku\":\"b\",\"qty\":3}]},"
            "{\"id\":2,\"lines\":[{\"sku\":\"c\",\"qty\":5},{\"sku\":\"d\",\"qty\":12}]}]}"),
        OKF(ORDERS, "{\"$pull\":{\"orders.$[o].lines\":{\"qty\":{\"$lte\":2}}}}",
            "[{\"o.id\":{\"$in\":[1,2]}}]",
            "{\"orders\":[{\"id\":1,\"lines\":[{\"sku\":\"b\",\"qty\":3}]},"
            "{\"id\":2,\"lines\":[{\"sku\":\"c\",\"qty\":5}]}]}"),
        /* a filter on the element itself */
        OKF("{\"a\":[1,5,3,8]}", "{\"$set\":{\"a.$[x]\":0}}", "[{\"x\":{\"$gt\":4}}]", "{\"a\":[1,0,3,0]}"),
        OKF("{\"a\":[1,5,3,8]}", "{\"$set\":{\"a.$[x]\":0}}", "[{\"$or\":[{\"x\":1},{\"x\":8}]}]",
            "{\"a\":[0,5,3,0]}"),
        OKF("{\"a\":[1,5,3,8]}", "{\"$unset\":{\"a.$[x]\":1}}", "[{\"x\":{\"$gte\":5,\"$lt\":8}}]",
            "{\"a\":[1,null,3,8]}"),
        OKF("{\"a\":[1,5]}", "{\"$set\":{\"a.$[x]\":0}}", "[{\"x\":{\"$gt\":10}}]", "{\"a\":[1,5]}"),
        OKF("{\"a\":[{\"g\":[1,2]},{\"g\":[3]}]}", "{\"$set\":{\"a.$[x].hit\":1}}", "[{\"x.g\":2}]",
            "{\"a\":[{\"g\":[1,2],\"hit\":1},{\"g\":[3]}]}"),
        /* two paths sharing one filter, and one filter per identifier */
        OKF("{\"a\":[1,9],\"b\":[9,1]}", "{\"$set\":{\"a.$[big]\":0,\"b.$[big]\":0}}",
            "[{\"big\":{\"$gt\":5}}]", "{\"a\":[1,0],\"b\":[0,1]}"),
        FAILSF("{\"a\":[1]}", "{\"$set\":{\"a.$[x]\":0}}", "[{\"x\":1},{\"y\":1}]", DOC_ERR),
        FAILSF("{\"a\":[1]}", "{\"$set\":{\"a.$[x]\":0}}", "[{\"x\":1,\"y.b\":1}]", DOC_BADFILTER),
        FAILSF("{\"a\":[1]}", "{\"$set\":{\"a.$[x]\":0}}", "[{\"x\":1},{\"x\":2}]", DOC_BADFILTER),
        FAILSF("{\"a\":[1]}", "{\"$set\":{\"a.$[x]\":0}}", "[{\"$gt\":1}]", DOC_BADFILTER),
        FAILSF("{\"a\":[1]}", "{\"$set\":{\"a.$[x]\":0}}", "[{}]", DOC_BADFILTER),
        FAILSF("{\"a\":[1]}", "{\"$set\":{\"a.$[x]\":0}}", "[1]", DOC_BADFILTER),
        FAILSF("{\"a\":[1]}", "{\"$set\":{\"a.$[x]\":0}}", "{\"x\":1}", DOC_BADFILTER),
        FAILSF("{\"a\":[1]}", "{\"$set\":{\"a.$[x]\":0}}", "[{\"x\":{\"$regex\":\"a\"}}]", DOC_BADFILTER),
        FAILSF("{\"a\":[1]}", "{\"$set\":{\"a.$[x]\":0}}", "[{\"X\":1}]", DOC_BADFILTER),
        FAILSF("{\"a\":[1]}", "{\"$set\":{\"a.$[y]\":0}}", "[{\"x\":1}]", DOC_ERR),
        FAILSF("{\"a\":5}", "{\"$set\":{\"a.$[x]\":0}}", "[{\"x\":1}]", DOC_BADTYPE),
    };
    RUN(rows);
}

/* ------------------------------------------------------------------ */
/* Details: padding, changed, a missing undo log, seeding             */
/* ------------------------------------------------------------------ */

static doc_update *compile_ok(const char *update, const char *filters) {
    doc_node *upd = parse_ok(update);
    doc_node *flt = filters ? parse_ok(filters) : NULL;
    doc_error err;
    doc_error_clear(&err);
    doc_update *u = NULL;
    cr_assert_eq(doc_update_compile(doc_box_value(upd), flt ? doc_box_value(flt) : NULL, 128, &u, &err),
                 DOC_OK, "%s: %s", update, err.msg);
    doc_node_free(upd);
    doc_node_free(flt);
    return u;
}

Test(update, padding_past_one_batch) {
    doc_node *doc = parse_ok("{\"a\":[true]}");
    doc_update *u = compile_ok("{\"$set\":{\"a.1300\":7}}", NULL);
    doc_undo *undo = doc_undo_new();
    doc_error err;
    doc_error_clear(&err);
    int changed = 0;
    cr_assert_eq(doc_update_apply(u, &doc, 0, undo, &changed, &err), DOC_OK, "%s", err.msg);
    cr_assert_eq(changed, 1);
    doc_view root, v;
    doc_value_decode(doc_box_value(doc), &root);
    doc_value_decode(doc_object_get(root.node, "a", 1, NULL, NULL), &v);
    cr_assert_eq(doc_node_count(v.node), 1301);
    doc_view e;
    doc_value_decode(doc_array_get(v.node, 1299, NULL), &e);
    cr_assert_eq(e.type, DOC_NULL);
    doc_value_decode(doc_array_get(v.node, 1300, NULL), &e);
    cr_assert_eq(e.type, DOC_INT);
    cr_assert_eq(e.i, 7);
    doc_undo_rollback(undo);
    char *s = box_text(doc);
    cr_assert_str_eq(s, "{\"a\":[true]}");
    free(s);
    doc_undo_free(undo);
    doc_update_free(u);
    doc_node_free(doc);
}

Test(update, without_an_undo_log_is_all_or_nothing) {
    doc_node *doc = parse_ok("{\"s\":\"x\"}");
    doc_update *u = compile_ok("{\"$set\":{\"a\":1},\"$inc\":{\"s\":1}}", NULL);
    doc_error err;
    doc_error_clear(&err);
    int changed = 1;
    cr_assert_eq(doc_update_apply(u, &doc, 0, NULL, &changed, &err), DOC_BADTYPE);
    cr_assert_eq(changed, 0);
    char *s = box_text(doc);
    cr_assert_str_eq(s, "{\"s\":\"x\"}");
    free(s);
    doc_update_free(u);
    u = compile_ok("{\"$set\":{\"a\":1},\"$inc\":{\"n\":1}}", NULL);
    doc_error_clear(&err);
    cr_assert_eq(doc_update_apply(u, &doc, 0, NULL, &changed, &err), DOC_OK);
    cr_assert_eq(changed, 1);
    s = box_text(doc);
    cr_assert_str_eq(s, "{\"s\":\"x\",\"a\":1,\"n\":1}");
    free(s);
    doc_update_free(u);
    doc_node_free(doc);
}

Test(update, applying_twice_and_committing) {
    doc_node *doc = parse_ok("{\"a\":[3,1],\"r\":{\"k\":[1]}}");
    doc_update *u = compile_ok("{\"$push\":{\"a\":{\"$each\":[2],\"$sort\":1}},\"$set\":{\"q.k\":[2]},"
                               "\"$rename\":{\"r\":\"p\"}}",
                               NULL);
    doc_undo *undo = doc_undo_new();
    doc_error err;
    doc_error_clear(&err);
    int changed;
    cr_assert_eq(doc_update_apply(u, &doc, 0, undo, &changed, &err), DOC_OK, "%s", err.msg);
    doc_undo_commit(undo);
    cr_assert_eq(doc_update_apply(u, &doc, 0, undo, &changed, &err), DOC_OK, "%s", err.msg);
    doc_undo_commit(undo);
    char *s = box_text(doc);
    cr_assert_str_eq(s, "{\"a\":[1,2,2,3],\"q\":{\"k\":[2]},\"p\":{\"k\":[1]}}");
    free(s);
    doc_undo_free(undo);
    doc_update_free(u);
    doc_node_free(doc);
}

static void seed_case(const char *doc_text, const char *filter, doc_status code, const char *expect) {
    doc_node *doc = parse_ok(doc_text);
    doc_node *fbox = parse_ok(filter);
    doc_filter *f = NULL;
    doc_error err;
    doc_error_clear(&err);
    cr_assert_eq(doc_filter_compile(doc_box_value(fbox), 128, &f, &err), DOC_OK, "%s", err.msg);
    doc_undo *undo = doc_undo_new();
    char *before = box_text(doc);
    doc_status st = doc_update_seed(&doc, f, undo, &err);
    cr_assert_eq(st, code, "%s: %s (%s)", filter, doc_status_word(st), err.msg);
    if (!st) {
        char *got = box_text(doc);
        char *want = normal(expect);
        cr_assert_str_eq(got, want, "%s", filter);
        free(got);
        free(want);
    }
    doc_undo_rollback(undo);
    char *after = box_text(doc);
    cr_assert_str_eq(after, before);
    free(after);
    free(before);
    doc_undo_free(undo);
    doc_filter_free(f);
    doc_node_free(fbox);
    doc_node_free(doc);
}

Test(update, seed_writes_the_filter_equalities) {
    seed_case("{}", "{\"a\":1,\"b.c\":\"x\",\"$and\":[{\"d\":{\"$eq\":[2]}}],\"e\":{\"$gt\":1}}", DOC_OK,
              "{\"a\":1,\"b\":{\"c\":\"x\"},\"d\":[2]}");
    seed_case("{}", "{\"n\":{\"$ne\":1},\"$or\":[{\"x\":1}]}", DOC_OK, "{}");
    seed_case("{}", "{\"a\":{\"k\":{\"$x\":1}}}", DOC_OK, "{\"a\":{\"k\":{\"$x\":1}}}");
    seed_case("{}", "{\"a\":1,\"a.b\":2}", DOC_BADTYPE, NULL);
    seed_case("{}", "{\"a..b\":2}", DOC_ERR, NULL);
}

Test(update, seed_then_update_for_an_upsert) {
    doc_node *doc = parse_ok("{}");
    doc_node *fbox = parse_ok("{\"sku\":\"x\",\"qty\":1}");
    doc_filter *f = NULL;
    doc_error err;
    doc_error_clear(&err);
    cr_assert_eq(doc_filter_compile(doc_box_value(fbox), 128, &f, &err), DOC_OK);
    doc_undo *undo = doc_undo_new();
    cr_assert_eq(doc_update_seed(&doc, f, undo, &err), DOC_OK);
    doc_update *u = compile_ok("{\"$inc\":{\"qty\":2},\"$setOnInsert\":{\"created\":true}}", NULL);
    int changed;
    cr_assert_eq(doc_update_apply(u, &doc, 1, undo, &changed, &err), DOC_OK);
    char *s = box_text(doc);
    cr_assert_str_eq(s, "{\"sku\":\"x\",\"qty\":3,\"created\":true}");
    free(s);
    doc_undo_rollback(undo);
    s = box_text(doc);
    cr_assert_str_eq(s, "{}");
    free(s);
    doc_undo_free(undo);
    doc_update_free(u);
    doc_filter_free(f);
    doc_node_free(fbox);
    doc_node_free(doc);
}

/* ------------------------------------------------------------------ */
/* Random updates always roll back to the same bytes                  */
/* ------------------------------------------------------------------ */

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint32_t rnd(uint32_t n) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

static void add(doc_buf *b, const char *s) { doc_buf_append(b, s, strlen(s)); }

/* A random dotted path over a small alphabet of names and positions. */
static void random_path(doc_buf *b, int allow_positional) {
    static const char *const segs[] = {"a", "b", "c", "0", "1", "3", "$[]", "$[x]"};
    int n = 1 + (int)rnd(3);
    for (int i = 0; i < n; i++) {
        if (i) add(b, ".");
        add(b, segs[rnd(allow_positional && i ? 8 : 6)]);
    }
}

static void random_value(doc_buf *b) {
    static const char *const vals[] = {"1",
                                       "-2",
                                       "2.5",
                                       "\"s\"",
                                       "null",
                                       "true",
                                       "[]",
                                       "{}",
                                       "[1,2,3]",
                                       "{\"a\":1,\"b\":[1]}",
                                       "[{\"a\":2},{\"a\":1}]",
                                       "9223372036854775807",
                                       "\"a\"",
                                       "[3,1,2]"};
    add(b, vals[rnd(sizeof vals / sizeof vals[0])]);
}

static void random_operand(doc_buf *b, int op) {
    char tmp[128];
    switch (op) {
    case 2:
    case 3: /* $inc $mul */ add(b, rnd(2) ? "2" : "-1.5"); break;
    case 6: /* $rename */
        add(b, "\"");
        random_path(b, 0);
        add(b, "\"");
        break;
    case 8: /* $push */
        if (rnd(2)) {
            random_value(b);
        } else {
            snprintf(tmp, sizeof tmp, "{\"$each\":[1,\"z\",0.5],\"$position\":%d,\"$slice\":%d,\"$sort\":%s}",
                     (int)rnd(7) - 3, (int)rnd(9) - 4, rnd(2) ? "1" : "{\"a\":-1}");
            add(b, tmp);
        }
        break;
    case 9: /* $pop */ add(b, rnd(2) ? "1" : "-1"); break;
    case 10: /* $pull */ add(b, rnd(2) ? "{\"$gte\":1}" : "1"); break;
    case 11: /* $pullAll */ add(b, "[1,\"s\",{}]"); break;
    case 12: /* $addToSet */ add(b, "{\"$each\":[1,2,{\"a\":1}]}"); break;
    default: random_value(b);
    }
}

Test(update, random_updates_roll_back_byte_identical) {
    static const char *const ops[] = {"$set",  "$unset",   "$inc",         "$mul",  "$min",
                                      "$max",  "$rename",  "$setOnInsert", "$push", "$pop",
                                      "$pull", "$pullAll", "$addToSet"};
    static const char *const docs[] = {
        "{\"a\":{\"b\":[1,2,{\"c\":3}],\"c\":\"x\"},\"b\":[[1,2],[3]],\"c\":5}",
        "{\"a\":[{\"a\":1,\"b\":[1]},{\"a\":2}],\"b\":{\"0\":{\"1\":2}},\"c\":[3,1,2]}", "{}",
        "[1,[2,[3]],{\"a\":[]}]"};
    int applied = 0, failed = 0;
    for (int iter = 0; iter < 3000; iter++) {
        doc_buf ub;
        doc_buf_init(&ub);
        add(&ub, "{");
        int nops = 1 + (int)rnd(3);
        for (int i = 0; i < nops; i++) {
            int op = (int)rnd(13);
            if (i) add(&ub, ",");
            add(&ub, "\"");
            add(&ub, ops[op]);
            add(&ub, "\":{\"");
            random_path(&ub, op != 6);
            add(&ub, "\":");
            random_operand(&ub, op);
            add(&ub, "}");
        }
        add(&ub, "}");
        doc_error err;
        doc_error_clear(&err);
        doc_node *upd = doc_parse(ub.data, ub.len, 128, &err);
        doc_buf_free(&ub);
        if (!upd) continue; /* a duplicate operator key */
        doc_node *flt = parse_ok("[{\"x\":{\"$gte\":2}}]");
        doc_update *u = NULL;
        doc_status st = doc_update_compile(doc_box_value(upd), doc_box_value(flt), 128, &u, &err);
        if (st == DOC_ERR && strstr(err.msg, "not used")) {
            doc_error_clear(&err);
            st = doc_update_compile(doc_box_value(upd), NULL, 128, &u, &err);
        }
        if (!st) {
            doc_node *doc = parse_ok(docs[rnd(4)]);
            char *before = box_text(doc);
            doc_undo *undo = doc_undo_new();
            int changed;
            doc_error_clear(&err);
            st = doc_update_apply(u, &doc, (int)rnd(2), undo, &changed, &err);
            if (st) {
                failed++;
                cr_assert(err.msg[0]);
            } else {
                applied++;
                char *mid = box_text(doc);
                doc_node *again = parse_ok(mid); /* the result is valid JSON */
                doc_node_free(again);
                cr_assert_eq(changed, strcmp(mid, before) != 0, "iteration %d: changed %d", iter, changed);
                free(mid);
            }
            doc_undo_rollback(undo);
            char *after = box_text(doc);
            cr_assert_str_eq(after, before, "iteration %d", iter);
            free(after);
            free(before);
            doc_undo_free(undo);
            doc_node_free(doc);
            doc_update_free(u);
        }
        doc_node_free(flt);
        doc_node_free(upd);
    }
    cr_assert(applied > 300, "only %d updates applied", applied);
    cr_assert(failed > 50, "only %d updates failed", failed);
}

Test(update, edits_deeper_than_max_depth_are_toodeep) {
    row_limits.max_depth = 4;
    static const row rows[] = {
        OK("{}", "{\"$set\":{\"a.b\":{\"c\":1}}}", "{\"a\":{\"b\":{\"c\":1}}}"),
        FAILS("{}", "{\"$set\":{\"a.b.c\":{\"d\":{}}}}", DOC_TOODEEP),
        FAILS("{\"a\":[[]]}", "{\"$push\":{\"a.0\":[[1]]}}", DOC_TOODEEP),
        FAILS("{\"a\":{\"b\":1}}", "{\"$rename\":{\"a\":\"x.y.z.w\"}}", DOC_TOODEEP),
    };
    RUN(rows);
    row_limits.max_depth = DOC_DEPTH_DEFAULT;
}

/* ------------------------------------------------------------------ */
/* $[] / $[id] writes that replace elements: one rewrite of the array */
/* ------------------------------------------------------------------ */

/* {"a":[<n copies of el>]} */
static char *array_doc(const char *el, int n) {
    doc_buf b;
    doc_buf_init(&b);
    add(&b, "{\"a\":[");
    for (int i = 0; i < n; i++) {
        if (i) add(&b, ",");
        add(&b, el);
    }
    add(&b, "]}");
    char *s = strdup(doc_buf_cstr(&b));
    doc_buf_free(&b);
    return s;
}

Test(update, positional_rewrites_of_large_arrays) {
    /* past DOC_INDEX_MIN, so the array is indexed; sizes change both ways */
    char *nulls = array_doc("null", 40), *abcs = array_doc("\"abc\"", 40);
    char *ones = array_doc("1", 40), *big = array_doc("100000", 40), *halves = array_doc("0.5", 40);
    char *objs = array_doc("{\"k\":[1]}", 40), *mixed_in = array_doc("{\"q\":1},\"s\",[2]", 20);
    char *mixed_out = array_doc("{\"q\":1},\"t\",[2]", 20);
    char *cancel_in = array_doc("1", 40);
    cancel_in[8] = '2'; /* {"a":[1,2,1,1,...]} */
    const row rows[] = {
        OK(nulls, "{\"$set\":{\"a.$[]\":\"abc\"}}", abcs),
        OK(abcs, "{\"$set\":{\"a.$[]\":null}}", nulls),
        OK(abcs, "{\"$unset\":{\"a.$[]\":1}}", nulls),
        OK(ones, "{\"$mul\":{\"a.$[]\":100000}}", big),
        OK(ones, "{\"$inc\":{\"a.$[]\":-0.5}}", halves),
        OK(nulls, "{\"$set\":{\"a.$[]\":{\"k\":[1]}}}", objs),
        OK(objs, "{\"$set\":{\"a.$[]\":null}}", nulls),
        OK(ones, "{\"$max\":{\"a.$[]\":100000}}", big),
        OK(ones, "{\"$min\":{\"a.$[]\":1}}", ones),
        OK(ones, "{\"$set\":{\"a.$[]\":1}}", ones),
        OK(nulls, "{\"$setOnInsert\":{\"a.$[]\":1}}", nulls),
        /* kept containers share their children between the old and new bytes */
        OKF(mixed_in, "{\"$set\":{\"a.$[x]\":\"t\"}}", "[{\"x\":{\"$type\":\"string\"}}]", mixed_out),
        OKF(abcs, "{\"$set\":{\"a.$[x]\":null}}", "[{\"x\":{\"$ne\":\"abc\"}}]", abcs),
        /* operators that cancel out, across the rewrite and a plain edit */
        OK(cancel_in, "{\"$set\":{\"a.$[]\":1,\"a.1\":2}}", cancel_in),
        /* the first failing element fails it all; nothing is written */
        FAILS(mixed_in, "{\"$inc\":{\"a.$[]\":1}}", DOC_BADTYPE),
        FAILS(big, "{\"$mul\":{\"a.$[]\":9223372036854775807}}", DOC_OVERFLOW),
        FAILS(ones, "{\"$max\":{\"a.$[]\":\"z\"}}", DOC_BADTYPE),
    };
    RUN(rows);
    row_limits.max_depth = 2;
    const row deep[] = {FAILS(nulls, "{\"$set\":{\"a.$[]\":{\"k\":[1]}}}", DOC_TOODEEP)};
    RUN(deep);
    row_limits.max_depth = DOC_DEPTH_DEFAULT;
    free(nulls), free(abcs), free(ones), free(big), free(halves), free(objs), free(mixed_in), free(mixed_out),
        free(cancel_in);
}

/* The elements of the array at "a" of doc, each looked up by index, match
 * the elements met iterating (the index was refilled). */
static void check_index(const doc_node *doc) {
    doc_view root, a;
    doc_value_decode(doc_box_value(doc), &root);
    doc_value_decode(doc_object_get(root.node, "a", 1, NULL, NULL), &a);
    doc_iter it;
    const uint8_t *el;
    doc_iter_init(&it, a.node);
    for (uint32_t i = 0; doc_iter_next(&it, NULL, NULL, &el, NULL); i++)
        cr_assert_eq(doc_array_get(a.node, i, NULL), el, "element %u", i);
}

static int64_t find_str(const doc_node *doc, const char *s) {
    doc_view root, a;
    doc_value_decode(doc_box_value(doc), &root);
    doc_value_decode(doc_object_get(root.node, "a", 1, NULL, NULL), &a);
    uint8_t enc[32];
    enc[0] = DOC_TAG_STRING;
    enc[1] = (uint8_t)strlen(s);
    memcpy(enc + 2, s, strlen(s));
    return doc_array_find(a.node, enc, 0);
}

Test(update, a_positional_rewrite_is_one_undo_record_and_keeps_the_index_and_hash_right) {
    doc_buf b;
    doc_buf_init(&b);
    add(&b, "{\"a\":[");
    for (int i = 0; i < 10000; i++) {
        char e[16];
        snprintf(e, sizeof e, "%s\"u%d\"", i ? "," : "", i);
        add(&b, e);
    }
    add(&b, "]}");
    doc_node *doc = parse_ok(doc_buf_cstr(&b));
    doc_buf_free(&b);
    cr_assert_eq(find_str(doc, "u5000"), 5000); /* builds the value hash */
    doc_update *u = compile_ok("{\"$set\":{\"a.$[x]\":\"a longer string\"}}",
                               "[{\"x\":{\"$in\":[\"u10\",\"u5000\",\"u9999\"]}}]");
    doc_undo *undo = doc_undo_new();
    doc_error err;
    doc_error_clear(&err);
    int changed = 0;
    cr_assert_eq(doc_update_apply(u, &doc, 0, undo, &changed, &err), DOC_OK, "%s", err.msg);
    cr_assert_eq(changed, 1);
    cr_assert_eq(doc_undo_size(undo), 1, "one record, not one per element");
    check_index(doc);
    cr_assert_eq(find_str(doc, "u5000"), -1);
    cr_assert_eq(find_str(doc, "u5001"), 5001);
    cr_assert_eq(find_str(doc, "a longer string"), 10);
    doc_undo_rollback(undo);
    check_index(doc);
    cr_assert_eq(find_str(doc, "u5000"), 5000);
    cr_assert_eq(find_str(doc, "a longer string"), -1);
    /* every element, then committed */
    doc_update_free(u);
    u = compile_ok("{\"$set\":{\"a.$[]\":7}}", NULL);
    cr_assert_eq(doc_update_apply(u, &doc, 0, undo, &changed, &err), DOC_OK, "%s", err.msg);
    cr_assert_eq(doc_undo_size(undo), 1);
    doc_undo_commit(undo);
    check_index(doc);
    char *s = box_text(doc);
    cr_assert_eq(strlen(s), strlen("{\"a\":[]}") + 2 * 10000 - 1);
    free(s);
    doc_undo_free(undo);
    doc_update_free(u);
    doc_node_free(doc);
}

/* The rewrite against an oracle: the same write spelled with explicit
 * indexes ("a.3", "a.7", ...), which edits element by element, the elements
 * chosen by matching the array filter against {"x": element} here. Same
 * status, same document, same `changed`; then commit or roll back (a shared
 * child freed twice or never shows under `make sanitize`). */
Test(update, positional_rewrites_equal_element_by_element_writes) {
    static const char *const pool[] = {"1",
                                       "2",
                                       "300",
                                       "-5",
                                       "2.5",
                                       "\"s\"",
                                       "\"abc\"",
                                       "null",
                                       "true",
                                       "{\"a\":1}",
                                       "[1,2]",
                                       "[]",
                                       "{}",
                                       "9223372036854775807",
                                       "\"a somewhat longer string\"",
                                       "{\"a\":[{\"b\":2}]}"};
    static const char *const uops[] = {"$set", "$unset", "$inc", "$mul", "$min", "$max", "$setOnInsert"};
    /* numbers first: $inc and $mul take the first four */
    static const char *const operands[] = {"2",     "-1.5", "100000",      "0",
                                           "\"b\"", "null", "{\"n\":[1]}", "\"abc\""};
    static const char *const filters[] = {
        "{\"x\":{\"$gte\":2}}", "{\"x\":{\"$type\":\"string\"}}",      "{\"x.a\":1}",
        "{\"x\":null}",         "{\"$or\":[{\"x\":1},{\"x\":\"s\"}]}", "{\"x\":{\"$type\":\"object\"}}"};
    static const int sizes[] = {0, 1, 5, 31, 32, 33, 100, 300};
    int ok = 0, bad = 0, matched_some = 0;
    for (int iter = 0; iter < 600; iter++) {
        int n = sizes[rnd(sizeof sizes / sizeof sizes[0])];
        const char *el[300];
        doc_buf db;
        doc_buf_init(&db);
        add(&db, "{\"z\":0,\"a\":[");
        for (int i = 0; i < n; i++) {
            el[i] = pool[rnd(sizeof pool / sizeof pool[0])];
            if (i) add(&db, ",");
            add(&db, el[i]);
        }
        add(&db, "]}");
        const char *uop = uops[rnd(sizeof uops / sizeof uops[0])];
        int numeric = !strcmp(uop, "$inc") || !strcmp(uop, "$mul");
        const char *arg = operands[rnd(numeric ? 4 : sizeof operands / sizeof operands[0])];
        const char *flt = rnd(2) ? filters[rnd(sizeof filters / sizeof filters[0])] : NULL;
        int is_insert = (int)rnd(2);
        char upd[128], fl[128];
        snprintf(upd, sizeof upd, "{\"%s\":{\"a.%s\":%s}}", uop, flt ? "$[x]" : "$[]", arg);
        if (flt) snprintf(fl, sizeof fl, "[%s]", flt);
        /* the oracle's update: explicit indexes of the selected elements */
        doc_filter *f = NULL;
        if (flt) {
            doc_node *fb = parse_ok(flt);
            doc_error ferr;
            doc_error_clear(&ferr);
            cr_assert_eq(doc_filter_compile(doc_box_value(fb), 128, &f, &ferr), DOC_OK, "%s", ferr.msg);
            doc_node_free(fb);
        }
        doc_buf ob;
        doc_buf_init(&ob);
        add(&ob, "{\"");
        add(&ob, uop);
        add(&ob, "\":{");
        int picked = 0;
        for (int i = 0; i < n; i++) {
            if (f) {
                char w[128];
                snprintf(w, sizeof w, "{\"x\":%s}", el[i]);
                doc_node *wb = parse_ok(w);
                int m = doc_filter_match(f, doc_box_value(wb));
                doc_node_free(wb);
                if (!m) continue;
            }
            char m[160];
            snprintf(m, sizeof m, "%s\"a.%d\":%s", picked++ ? "," : "", i, arg);
            add(&ob, m);
        }
        add(&ob, "}}");
        if (!picked) { /* no element: a write that changes nothing */
            ob.len = 0;
            add(&ob, "{\"$inc\":{\"z\":0}}");
        }
        matched_some += picked > 0;

        doc_node *d1 = parse_ok(doc_buf_cstr(&db)), *d2 = parse_ok(doc_buf_cstr(&db));
        char *before = box_text(d1);
        doc_update *u1 = compile_ok(upd, flt ? fl : NULL);
        doc_update *u2 = compile_ok(doc_buf_cstr(&ob), NULL);
        doc_undo *undo1 = doc_undo_new(), *undo2 = doc_undo_new();
        doc_error e1, e2;
        doc_error_clear(&e1);
        doc_error_clear(&e2);
        int c1 = -1, c2 = -1;
        doc_status s1 = doc_update_apply(u1, &d1, is_insert, undo1, &c1, &e1);
        doc_status s2 = doc_update_apply(u2, &d2, is_insert, undo2, &c2, &e2);
        cr_assert_eq(s1, s2, "iteration %d: %s on %s: %s (%s) vs %s (%s)", iter, upd, before,
                     doc_status_word(s1), e1.msg, doc_status_word(s2), e2.msg);
        if (!s1) {
            ok++;
            char *p1 = box_text(d1), *p2 = box_text(d2);
            cr_assert_str_eq(p1, p2, "iteration %d: %s %s on %s", iter, upd, flt ? fl : "", before);
            cr_assert_eq(c1, c2, "iteration %d: changed %d vs %d", iter, c1, c2);
            free(p1);
            free(p2);
        } else {
            bad++;
        }
        if (!s1 && rnd(2)) {
            doc_undo_commit(undo1);
            char *p = box_text(d1);
            doc_node *again = parse_ok(p);
            doc_node_free(again);
            free(p);
        } else {
            doc_undo_rollback(undo1);
            char *after = box_text(d1);
            cr_assert_str_eq(after, before, "iteration %d: rollback", iter);
            free(after);
        }
        doc_undo_free(undo1);
        doc_undo_free(undo2);
        doc_update_free(u1);
        doc_update_free(u2);
        doc_node_free(d1);
        doc_node_free(d2);
        doc_filter_free(f);
        free(before);
        doc_buf_free(&ob);
        doc_buf_free(&db);
    }
    cr_assert(ok > 150 && bad > 50 && matched_some > 200, "ok %d, failed %d, matched %d", ok, bad,
              matched_some);
}
