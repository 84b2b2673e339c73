/* test_update.c - DOC.UPDATE end to end, as a MongoDB user expects it: every update
 * operator; updates that change nothing (reply 0, version kept); several operators in
 * one update; IF filters that match or not; UPSERT building the document from the
 * filter's equality fields plus $setOnInsert; RETURN BEFORE / AFTER; $[] and $[id]
 * with ARRAYFILTERS; conflicting paths and other errors (nothing changes); a replica
 * reaching the same bytes; and 8 clients racing to take the last items of a stock,
 * which must never go below zero.
 *
 * Every test gets its own server (the suite fixture) so no test sees another's keys.
 * Worker threads never call cr_assert or the failing harness helpers: they record
 * the first problem they see and the test asserts after joining them.
 */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* s: this suite's server; c: the user's connection to it. */
SRV_SUITE(update);

/* ---- helpers ------------------------------------------------------------------ */

/* DOC.GET key as a malloc'd string; "(nil)" for a missing key. */
/* ---- every operator --------------------------------------------------------------- */

/* One update on a fresh document: what it replies (1 changed, 0 not) and the
 * document after. A reply of 0 must leave the document and its version alone. */
typedef struct op_row {
    const char *doc;
    const char *update;
    int changed;
    const char *after;
} op_row;

static const op_row op_rows[] = {
    /* $set: replace, add, create parents, array element by dotted index */
    {"{\"a\":1,\"b\":2}", "{\"$set\":{\"a\":\"one\"}}", 1, "{\"a\":\"one\",\"b\":2}"},
    {"{\"a\":1}", "{\"$set\":{\"x.y.z\":[true]}}", 1, "{\"a\":1,\"x\":{\"y\":{\"z\":[true]}}}"},
    {"{\"arr\":[1,2,3]}", "{\"$set\":{\"arr.1\":{\"k\":null}}}", 1, "{\"arr\":[1,{\"k\":null},3]}"},
    {"{\"a\":1}", "{\"$set\":{\"a\":1}}", 0, "{\"a\":1}"},
    /* $unset: removes members, array elements become... removed field only */
    {"{\"a\":1,\"b\":{\"c\":2,\"d\":3}}", "{\"$unset\":{\"b.c\":\"\"}}", 1, "{\"a\":1,\"b\":{\"d\":3}}"},
    {"{\"a\":1}", "{\"$unset\":{\"nope\":\"\",\"a.deeper\":1}}", 0, "{\"a\":1}"},
    /* $inc: int exact, double, missing field created as the delta */
    {"{\"n\":5}", "{\"$inc\":{\"n\":-7}}", 1, "{\"n\":-2}"},
    {"{\"n\":1}", "{\"$inc\":{\"n\":0.5,\"m.k\":3}}", 1, "{\"n\":1.5,\"m\":{\"k\":3}}"},
    {"{\"n\":1}", "{\"$inc\":{\"n\":0}}", 0, "{\"n\":1}"},
    /* $mul: missing field becomes 0 */
    {"{\"p\":2.5,\"q\":4}", "{\"$mul\":{\"p\":2,\"q\":-1,\"r\":7}}", 1, "{\"p\":5.0,\"q\":-4,\"r\":0}"},
    /* $min / $max: keep the smaller / larger; a missing field is set */
    {"{\"lo\":5,\"hi\":5}", "{\"$min\":{\"lo\":3,\"new\":9},\"$max\":{\"hi\":8}}", 1,
     "{\"lo\":3,\"hi\":8,\"new\":9}"},
    {"{\"lo\":5,\"hi\":5}", "{\"$min\":{\"lo\":7},\"$max\":{\"hi\":2}}", 0, "{\"lo\":5,\"hi\":5}"},
    /* $rename: moves the value (to the end), creates parents of the target */
    {"{\"old\":{\"x\":1},\"keep\":true}", "{\"$rename\":{\"old\":\"n.ew\"}}", 1,
     "{\"keep\":true,\"n\":{\"ew\":{\"x\":1}}}"},
    {"{\"a\":1}", "{\"$rename\":{\"missing\":\"b\"}}", 0, "{\"a\":1}"},
    /* $setOnInsert: only when an upsert creates the document */
    {"{\"a\":1}", "{\"$setOnInsert\":{\"created\":true}}", 0, "{\"a\":1}"},
    /* $push: one value, $each + $position + $sort + $slice (MongoDB's order:
     * insert, sort, then slice; a negative $slice keeps the last n) */
    {"{\"l\":[1]}", "{\"$push\":{\"l\":[2],\"new\":\"x\"}}", 1, "{\"l\":[1,[2]],\"new\":[\"x\"]}"},
    {"{\"l\":[3,1,2]}", "{\"$push\":{\"l\":{\"$each\":[9,0],\"$position\":1,\"$sort\":1,\"$slice\":4}}}", 1,
     "{\"l\":[0,1,2,3]}"},
    {"{\"l\":[1,2,3]}", "{\"$push\":{\"l\":{\"$each\":[4,5],\"$slice\":-2}}}", 1, "{\"l\":[4,5]}"},
    {"{\"s\":[{\"n\":\"a\",\"v\":1},{\"n\":\"b\",\"v\":5}]}",
     "{\"$push\":{\"s\":{\"$each\":[{\"n\":\"c\",\"v\":3}],\"$sort\":{\"v\":-1}}}}", 1,
     "{\"s\":[{\"n\":\"b\",\"v\":5},{\"n\":\"c\",\"v\":3},{\"n\":\"a\",\"v\":1}]}"},
    /* $pop: 1 the last, -1 the first; a missing array is no change */
    {"{\"l\":[1,2,3],\"m\":[1,2,3]}", "{\"$pop\":{\"l\":1,\"m\":-1}}", 1, "{\"l\":[1,2],\"m\":[2,3]}"},
    {"{\"l\":[]}", "{\"$pop\":{\"l\":1,\"nope\":-1}}", 0, "{\"l\":[]}"},
    /* $pull: by condition, by value (deep equality), by a filter on elements */
    {"{\"l\":[1,5,2,7]}", "{\"$pull\":{\"l\":{\"$gt\":3}}}", 1, "{\"l\":[1,2]}"},
    {"{\"l\":[1,[1,2],1.0,\"1\"]}", "{\"$pull\":{\"l\":1}}", 1, "{\"l\":[[1,2],\"1\"]}"},
    {"{\"o\":[{\"id\":1,\"q\":1},{\"id\":2,\"q\":9}]}", "{\"$pull\":{\"o\":{\"q\":{\"$gte\":5}}}}", 1,
     "{\"o\":[{\"id\":1,\"q\":1}]}"},
    {"{\"l\":[1,2]}", "{\"$pull\":{\"l\":3}}", 0, "{\"l\":[1,2]}"},
    /* $pullAll */
    {"{\"l\":[1,2,3,2,{\"a\":1}]}", "{\"$pullAll\":{\"l\":[2,{\"a\":1}]}}", 1, "{\"l\":[1,3]}"},
    /* $addToSet: one value, $each; present values are skipped (deep equality) */
    {"{\"t\":[\"a\"]}", "{\"$addToSet\":{\"t\":{\"$each\":[\"a\",\"b\",\"b\"]}}}", 1,
     "{\"t\":[\"a\",\"b\"]}"},
    {"{\"t\":[{\"x\":1,\"y\":2}]}", "{\"$addToSet\":{\"t\":{\"y\":2,\"x\":1}}}", 0,
     "{\"t\":[{\"x\":1,\"y\":2}]}"},
    {"{}", "{\"$addToSet\":{\"t\":3}}", 1, "{\"t\":[3]}"},
    /* several operators at once */
    {"{\"n\":1,\"l\":[1],\"s\":\"x\",\"gone\":0}",
     "{\"$inc\":{\"n\":1},\"$push\":{\"l\":2},\"$set\":{\"s\":\"y\"},\"$unset\":{\"gone\":1}}", 1,
     "{\"n\":2,\"l\":[1,2],\"s\":\"y\"}"},
};

Test(update, each_operator_changes_the_document_as_mongodb_does) {
    for (size_t i = 0; i < sizeof op_rows / sizeof *op_rows; i++) {
        const op_row *row = &op_rows[i];
        char key[32];
        snprintf(key, sizeof key, "row:%zu", i);
        expect_ok(cmd(c, "DOC.SET %s $ %s", key, row->doc));
        long long v0 = doc_version(c, key); /* a new document's first version */
        redisReply *r = cmd(c, "DOC.UPDATE %s %s", key, row->update);
        char got[512];
        reply_describe(r, got, sizeof got);
        bool ok = r->type == REDIS_REPLY_INTEGER && r->integer == row->changed;
        freeReplyObject(r);
        cr_expect(ok, "row %zu %s on %s: expected integer %d, got %s", i, row->update, row->doc, row->changed,
                  got);
        char *after = doc_text(c, key);
        cr_expect_str_eq(after, row->after, "row %zu %s on %s", i, row->update, row->doc);
        free(after);
        cr_expect_eq(doc_version(c, key), v0 + row->changed, "row %zu: version", i);
    }
}

/* ---- errors ------------------------------------------------------------------- */

/* An update that must be refused: the extra words after it (NULL-terminated) and the
 * error's first word. The document stays as it was. */
typedef struct err_row {
    const char *update;
    const char *extra[5];
    const char *code;
    const char *part; /* the message contains this (NULL: anything) */
} err_row;

static const err_row err_rows[] = {
    /* conflicting paths, as in MongoDB */
    {"{\"$set\":{\"a\":2},\"$inc\":{\"a.b\":1}}", {NULL}, "BADUPDATE", "conflict"},
    {"{\"$set\":{\"a\":2},\"$inc\":{\"a\":1}}", {NULL}, "BADUPDATE", "conflict"},
    {"{\"$set\":{\"a.b.c\":2},\"$unset\":{\"a.b\":1}}", {NULL}, "BADUPDATE", "conflict"},
    {"{\"$rename\":{\"a\":\"z\"},\"$set\":{\"z\":1}}", {NULL}, "BADUPDATE", "conflict"},
    {"{\"$push\":{\"l\":1},\"$pull\":{\"l\":1}}", {NULL}, "BADUPDATE", "conflict"},
    /* malformed updates */
    {"{\"$frob\":{\"a\":1}}", {NULL}, "BADUPDATE", "$frob"},
    {"{}", {NULL}, "BADUPDATE", NULL},
    {"[1]", {NULL}, "BADUPDATE", NULL},
    {"{\"a\":1}", {NULL}, "BADUPDATE", NULL},
    {"{\"$inc\":{\"a\":\"x\"}}", {NULL}, "BADUPDATE", NULL},
    {"{\"$set\":{\"l.$[q]\":1}}", {NULL}, "BADUPDATE", "q"},
    {"{\"$rename\":{\"a\":\"a\"}}", {NULL}, "BADUPDATE", NULL},
    {"{\"$set\":", {NULL}, "BADJSON", NULL},
    {"{\"$set\":{\"a\":1,\"a\":2}}", {NULL}, "BADJSON", NULL},
    /* wrong types and overflow, found while applying */
    {"{\"$inc\":{\"s\":1}}", {NULL}, "BADTYPE", NULL},
    {"{\"$set\":{\"s.x\":1}}", {NULL}, "BADTYPE", NULL},
    {"{\"$push\":{\"a\":1}}", {NULL}, "BADTYPE", NULL},
    {"{\"$inc\":{\"a\":1},\"$mul\":{\"big\":2}}", {NULL}, "OVERFLOW", NULL},
    /* the options */
    {"{\"$set\":{\"a\":5}}", {"IF", "{\"a\":{\"$frob\":1}}", NULL}, "BADFILTER", NULL},
    {"{\"$set\":{\"a\":5}}", {"IF", "[1]", NULL}, "BADFILTER", NULL},
    {"{\"$set\":{\"l.$[x]\":5}}", {"ARRAYFILTERS", "{\"x\":1}", NULL}, "BADFILTER", NULL},
    {"{\"$set\":{\"a\":5}}", {"RETURN", "SIDEWAYS", NULL}, "SYNTAX", NULL},
    {"{\"$set\":{\"a\":5}}", {"SOMETIMES", NULL}, "SYNTAX", NULL},
    {"{\"$set\":{\"a\":5}}", {"IF", NULL}, "SYNTAX", NULL},
    {"{\"$set\":{\"a\":5}}", {"WHERE", "{}", NULL}, "SYNTAX", "IF"},
    {"{\"$set\":{\"a\":5}}", {"EX", "10", NULL}, "SYNTAX", "UPSERT"},
    {"{\"$set\":{\"a\":5}}",
     {"UPSERT", "EX", "0", NULL},
     "SYNTAX",
     "invalid expire time in 'doc.update' command"},
    {"{\"$set\":{\"a\":5}}", {"UPSERT", "KEEPTTL", NULL}, "SYNTAX", NULL},
};

Test(update, refused_updates_change_nothing) {
    const char *doc = "{\"a\":1,\"s\":\"x\",\"l\":[1,2],\"big\":9223372036854775807}";
    expect_ok(cmd(c, "DOC.SET k $ %s", doc));
    for (size_t i = 0; i < sizeof err_rows / sizeof *err_rows; i++) {
        const err_row *row = &err_rows[i];
        const char *argv[8] = {"DOC.UPDATE", "k", row->update};
        int argc = 3;
        for (int e = 0; row->extra[e]; e++) argv[argc++] = row->extra[e];
        redisReply *r = cmdv(c, argc, argv, NULL);
        char got[512];
        reply_describe(r, got, sizeof got);
        size_t cl = strlen(row->code);
        bool ok = r->type == REDIS_REPLY_ERROR && !strncmp(r->str, row->code, cl) && r->str[cl] == ' ' &&
                  (!row->part || strstr(r->str, row->part));
        freeReplyObject(r);
        cr_expect(ok, "row %zu %s %s: expected %s%s%s, got %s", i, row->update,
                  row->extra[0] ? row->extra[0] : "", row->code, row->part ? " ... " : "",
                  row->part ? row->part : "", got);
        char *now = doc_text(c, "k");
        cr_expect_str_eq(now, doc, "row %zu changed the document", i);
        free(now);
    }
    expect_int(cmd(c, "DOC.VERSION k"), 1);
    expect_ok(cmd(c, "SET str plain"));
    expect_err_prefix(cmd(c, "DOC.UPDATE str %s", "{\"$set\":{\"a\":1}}"), "WRONGTYPE");
    expect_str(cmd(c, "GET str"), "plain");
}

/* ---- IF ----------------------------------------------------------------------- */

Test(update, if_applies_the_update_only_when_the_document_matches) {
    expect_ok(cmd(c, "DOC.SET item $ %s", "{\"sku\":\"X\",\"stock\":2,\"tags\":[\"red\",\"big\"]}"));
    expect_int(cmd(c, "DOC.UPDATE item %s IF %s", "{\"$inc\":{\"stock\":-1}}",
                   "{\"stock\":{\"$gt\":0},\"tags\":\"red\"}"),
               1);
    expect_int(cmd(c, "DOC.VERSION item"), 2);
    /* no match: 0, nothing changed, version kept */
    expect_int(cmd(c, "DOC.UPDATE item %s IF %s", "{\"$inc\":{\"stock\":-1}}", "{\"stock\":{\"$gt\":5}}"), 0);
    expect_int(cmd(c, "DOC.UPDATE item %s IF %s", "{\"$set\":{\"sku\":\"Y\"}}",
                   "{\"$or\":[{\"sku\":\"Z\"},{\"tags\":{\"$size\":3}}]}"),
               0);
    expect_nil(
        cmd(c, "DOC.UPDATE item %s IF %s RETURN AFTER", "{\"$set\":{\"sku\":\"Y\"}}", "{\"sku\":\"Z\"}"));
    expect_str(cmd(c, "DOC.GET item"), "{\"sku\":\"X\",\"stock\":1,\"tags\":[\"red\",\"big\"]}");
    expect_int(cmd(c, "DOC.VERSION item"), 2);
    /* a missing key without UPSERT: 0 and still missing */
    expect_int(cmd(c, "DOC.UPDATE nothing %s IF %s", "{\"$set\":{\"a\":1}}", "{}"), 0);
    expect_int(cmd(c, "DOC.UPDATE nothing %s", "{\"$set\":{\"a\":1}}"), 0);
    expect_int(cmd(c, "EXISTS nothing"), 0);
}

/* ---- UPSERT ------------------------------------------------------------------- */

Test(update, upsert_creates_the_document_from_the_filters_equalities_and_set_on_insert) {
    expect_int(cmd(c, "DOC.UPDATE user:9 %s IF %s UPSERT",
                   "{\"$set\":{\"seen\":true},\"$setOnInsert\":{\"created\":1,\"visits\":0}}",
                   "{\"_id\":9,\"kind\":{\"$eq\":\"user\"},\"age\":{\"$gt\":3},\"a.b\":5}"),
               1);
    /* the equalities in filter order (not the $gt), then the update's fields */
    expect_str(cmd(c, "DOC.GET user:9"),
               "{\"_id\":9,\"kind\":\"user\",\"a\":{\"b\":5},\"seen\":true,\"created\":1,\"visits\":0}");
    expect_int(cmd(c, "DOC.VERSION user:9"), 1);
    /* now it exists: the update applies, $setOnInsert does not */
    expect_int(cmd(c, "DOC.UPDATE user:9 %s IF %s UPSERT",
                   "{\"$inc\":{\"visits\":1},\"$setOnInsert\":{\"created\":2}}", "{\"_id\":9}"),
               1);
    expect_str(cmd(c, "DOC.GET user:9"),
               "{\"_id\":9,\"kind\":\"user\",\"a\":{\"b\":5},\"seen\":true,\"created\":1,\"visits\":1}");
    expect_int(cmd(c, "DOC.VERSION user:9"), 2);
    /* exists but does not match: nothing, UPSERT or not */
    expect_int(cmd(c, "DOC.UPDATE user:9 %s IF %s UPSERT", "{\"$set\":{\"seen\":false}}", "{\"_id\":10}"), 0);
    expect_int(cmd(c, "DOC.VERSION user:9"), 2);
    /* UPSERT without IF: the update alone */
    expect_int(cmd(c, "DOC.UPDATE ctr %s UPSERT", "{\"$inc\":{\"n\":1},\"$setOnInsert\":{\"since\":0}}"), 1);
    expect_str(cmd(c, "DOC.GET ctr"), "{\"n\":1,\"since\":0}");
    /* $and equalities count too */
    expect_int(cmd(c, "DOC.UPDATE t %s IF %s UPSERT", "{\"$set\":{\"x\":1}}",
                   "{\"$and\":[{\"tier\":\"gold\"},{\"n\":{\"$lt\":3}}]}"),
               1);
    expect_str(cmd(c, "DOC.GET t"), "{\"tier\":\"gold\",\"x\":1}");
    /* a failing upsert creates nothing */
    expect_err_prefix(cmd(c, "DOC.UPDATE u2 %s IF %s UPSERT", "{\"$inc\":{\"s\":1}}", "{\"s\":\"x\"}"),
                      "BADTYPE");
    expect_int(cmd(c, "EXISTS u2"), 0);
}

/* ---- RETURN --------------------------------------------------------------------- */

Test(update, return_before_and_after_reply_the_document) {
    expect_ok(cmd(c, "DOC.SET item $ %s", "{\"stock\":3}"));
    expect_str(cmd(c, "DOC.UPDATE item %s RETURN BEFORE", "{\"$inc\":{\"stock\":-1}}"), "{\"stock\":3}");
    expect_str(cmd(c, "DOC.UPDATE item %s IF %s RETURN AFTER", "{\"$inc\":{\"stock\":-1}}",
                   "{\"stock\":{\"$gt\":0}}"),
               "{\"stock\":1}");
    /* an update that changes nothing still returns the (matched) document */
    expect_str(cmd(c, "DOC.UPDATE item %s RETURN AFTER", "{\"$set\":{\"stock\":1}}"), "{\"stock\":1}");
    expect_int(cmd(c, "DOC.VERSION item"), 3);
    /* no match, or no document: nil */
    expect_nil(cmd(c, "DOC.UPDATE item %s IF %s RETURN BEFORE", "{\"$inc\":{\"stock\":-1}}",
                   "{\"stock\":{\"$gt\":5}}"));
    expect_nil(cmd(c, "DOC.UPDATE none %s RETURN AFTER", "{\"$set\":{\"a\":1}}"));
    /* an upsert: nothing before, the new document after */
    expect_nil(cmd(c, "DOC.UPDATE new1 %s UPSERT RETURN BEFORE", "{\"$set\":{\"a\":1}}"));
    expect_str(cmd(c, "DOC.UPDATE new2 %s IF %s UPSERT RETURN AFTER", "{\"$set\":{\"a\":1}}", "{\"id\":2}"),
               "{\"id\":2,\"a\":1}");
    expect_int(cmd(c, "DOC.VERSION new1"), 4); /* new documents, above item's 3 */
    expect_int(cmd(c, "DOC.VERSION new2"), 5);
}

/* ---- positional operators --------------------------------------------------------- */

Test(update, arrayfilters_update_every_order_line_whose_qty_is_above_2) {
    const char *order = "{\"id\":7,\"lines\":[{\"sku\":\"a\",\"qty\":1},{\"sku\":\"b\",\"qty\":3},"
                        "{\"sku\":\"c\",\"qty\":2},{\"sku\":\"d\",\"qty\":10}]}";
    expect_ok(cmd(c, "DOC.SET order:7 $ %s", order));
    expect_int(cmd(c, "DOC.UPDATE order:7 %s ARRAYFILTERS %s",
                   "{\"$set\":{\"lines.$[l].bulk\":true},\"$inc\":{\"lines.$[l].qty\":-1}}",
                   "[{\"l.qty\":{\"$gt\":2}}]"),
               1);
    expect_str(cmd(c, "DOC.GET order:7"),
               "{\"id\":7,\"lines\":[{\"sku\":\"a\",\"qty\":1},{\"sku\":\"b\",\"qty\":2,\"bulk\":true},"
               "{\"sku\":\"c\",\"qty\":2},{\"sku\":\"d\",\"qty\":9,\"bulk\":true}]}");
    /* $[] reaches every element */
    expect_int(cmd(c, "DOC.UPDATE order:7 %s", "{\"$mul\":{\"lines.$[].qty\":10}}"), 1);
    expect_str(cmd(c, "DOC.GET order:7"),
               "{\"id\":7,\"lines\":[{\"sku\":\"a\",\"qty\":10},{\"sku\":\"b\",\"qty\":20,\"bulk\":true},"
               "{\"sku\":\"c\",\"qty\":20},{\"sku\":\"d\",\"qty\":90,\"bulk\":true}]}");
    /* a filter no element matches changes nothing */
    expect_int(cmd(c, "DOC.UPDATE order:7 %s ARRAYFILTERS %s", "{\"$set\":{\"lines.$[l].x\":1}}",
                   "[{\"l.qty\":{\"$gt\":1000}}]"),
               0);
    expect_int(cmd(c, "DOC.VERSION order:7"), 3);
    /* two identifiers, nested arrays */
    expect_ok(cmd(c, "DOC.SET g $ %s", "{\"rows\":[{\"k\":1,\"c\":[1,5,9]},{\"k\":2,\"c\":[7,8]}]}"));
    expect_int(cmd(c, "DOC.UPDATE g %s ARRAYFILTERS %s", "{\"$set\":{\"rows.$[r].c.$[v]\":0}}",
                   "[{\"r.k\":2},{\"v\":{\"$gte\":8}}]"),
               1);
    expect_str(cmd(c, "DOC.GET g"), "{\"rows\":[{\"k\":1,\"c\":[1,5,9]},{\"k\":2,\"c\":[7,0]}]}");
    /* $[] on something that is not an array is an error, and changes nothing */
    expect_err_prefix(cmd(c, "DOC.UPDATE order:7 %s", "{\"$set\":{\"id.$[]\":1}}"), "BADTYPE");
    expect_int(cmd(c, "DOC.VERSION order:7"), 3);
}

/* ---- replication -------------------------------------------------------------- */

Test(update, a_replica_reaches_the_same_bytes_and_version) {
    srv *rep = srv_start_replica(s);
    redisContext *rc = srv_connect(rep);
    expect_ok(cmd(c, "DOC.SET o $ %s", "{\"l\":[{\"v\":0.1},{\"v\":3}],\"n\":1}"));
    expect_int(
        cmd(c, "DOC.UPDATE o %s ARRAYFILTERS %s", "{\"$mul\":{\"l.$[e].v\":3}}", "[{\"e.v\":{\"$lt\":1}}]"),
        1);
    expect_int(cmd(c, "DOC.UPDATE o %s", "{\"$push\":{\"l\":{\"$each\":[{\"v\":0.2}],\"$sort\":{\"v\":1}}}}"),
               1);
    expect_int(cmd(c, "DOC.UPDATE o %s IF %s UPSERT", "{\"$inc\":{\"n\":0.5}}", "{\"n\":1}"), 1);
    expect_int(cmd(c, "DOC.UPDATE o %s IF %s", "{\"$inc\":{\"n\":1}}", "{\"n\":1}"), 0);
    expect_err_prefix(cmd(c, "DOC.UPDATE o %s", "{\"$push\":{\"n\":1}}"), "BADTYPE");
    expect_int(cmd(c, "DOC.UPDATE fresh %s IF %s UPSERT", "{\"$setOnInsert\":{\"z\":[]}}", "{\"id\":1}"), 1);
    srv_wait_replica_synced(s, rep);
    char *p = doc_text(c, "o"), *r = doc_text(rc, "o");
    cr_assert_str_eq(r, p);
    cr_assert_str_eq(r, "{\"l\":[{\"v\":0.2},{\"v\":0.30000000000000004},{\"v\":3}],\"n\":1.5}");
    free(p);
    free(r);
    expect_int(cmd(rc, "DOC.VERSION o"), 4);
    expect_str(cmd(rc, "DOC.GET fresh"), "{\"id\":1,\"z\":[]}");
    char *dp = srv_digest(c), *dr = srv_digest(rc);
    cr_assert_str_eq(dr, dp);
    free(dp);
    free(dr);
    redisFree(rc);
    srv_stop(rep);
}

/* ---- racing for the last items ------------------------------------------------------ */

#define STOCK 100
#define BUYERS 8
#define TRIES 25 /* 8 x 25 = 200 attempts for 100 items */

typedef struct buyer {
    redisContext *w;
    bool return_after;   /* use RETURN AFTER and report the stock each purchase left */
    int bought, refused; /* replies 1 / 0 (or document / nil) */
    int left[TRIES];     /* RETURN AFTER: the stock after each purchase */
    bool seen_problem;
    char problem[400];
} buyer;

static void *buy(void *arg) {
    buyer *b = arg;
    for (int i = 0; i < TRIES && !b->seen_problem; i++) {
        redisReply *r = b->return_after
                            ? redisCommand(b->w, "DOC.UPDATE item %s IF %s RETURN AFTER",
                                           "{\"$inc\":{\"stock\":-1}}", "{\"stock\":{\"$gt\":0}}")
                            : redisCommand(b->w, "DOC.UPDATE item %s IF %s", "{\"$inc\":{\"stock\":-1}}",
                                           "{\"stock\":{\"$gt\":0}}");
        int left;
        if (r && !b->return_after && r->type == REDIS_REPLY_INTEGER && r->integer == 1)
            b->bought++;
        else if (r && !b->return_after && r->type == REDIS_REPLY_INTEGER && r->integer == 0)
            b->refused++;
        else if (r && b->return_after && r->type == REDIS_REPLY_NIL)
            b->refused++;
        else if (r && b->return_after && r->type == REDIS_REPLY_STRING &&
                 sscanf(r->str, "{\"stock\":%d}", &left) == 1)
            b->left[b->bought++] = left;
        else {
            b->seen_problem = true;
            char got[300];
            snprintf(b->problem, sizeof b->problem, "attempt %d replied %s", i,
                     r ? reply_describe(r, got, sizeof got) : b->w->errstr);
        }
        if (r) freeReplyObject(r);
    }
    return NULL;
}

/* A client watching the stock while the buyers run: never below zero. */
typedef struct stock_watch {
    redisContext *ctx;
    volatile int stop;
    long low; /* the lowest stock seen */
    bool bad;
    char problem[300];
} stock_watch;

static void *watch_stock(void *arg) {
    stock_watch *w = arg;
    w->low = STOCK;
    while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE) && !w->bad) {
        redisReply *r = redisCommand(w->ctx, "DOC.GET item $.stock");
        long v = r && r->type == REDIS_REPLY_STRING ? strtol(r->str, NULL, 10) : -1;
        if (!r || r->type != REDIS_REPLY_STRING || v < 0 || v > STOCK) {
            w->bad = true;
            char got[200];
            snprintf(w->problem, sizeof w->problem, "the stock read %s",
                     r ? reply_describe(r, got, sizeof got) : "nothing");
        } else if (v < w->low) {
            w->low = v;
        }
        if (r) freeReplyObject(r);
    }
    return NULL;
}

static void race_for_stock(bool return_after, int *bought, int *refused, buyer *bs) {
    expect_ok(cmd(c, "DOC.SET item $ {\"stock\":%d}", STOCK));
    memset(bs, 0, sizeof *bs * BUYERS);
    for (int i = 0; i < BUYERS; i++) {
        bs[i].w = srv_connect(s);
        bs[i].return_after = return_after;
    }
    stock_watch w = {.ctx = srv_connect(s)};
    pthread_t wt, t[BUYERS];
    cr_assert_eq(pthread_create(&wt, NULL, watch_stock, &w), 0);
    for (int i = 0; i < BUYERS; i++) cr_assert_eq(pthread_create(&t[i], NULL, buy, &bs[i]), 0);
    for (int i = 0; i < BUYERS; i++) pthread_join(t[i], NULL);
    __atomic_store_n(&w.stop, 1, __ATOMIC_RELEASE);
    pthread_join(wt, NULL);
    redisFree(w.ctx);
    cr_assert(!w.bad, "%s", w.problem);
    *bought = *refused = 0;
    for (int i = 0; i < BUYERS; i++) {
        cr_assert(!bs[i].seen_problem, "buyer %d: %s", i, bs[i].problem);
        *bought += bs[i].bought;
        *refused += bs[i].refused;
        redisFree(bs[i].w);
    }
    expect_str(cmd(c, "DOC.GET item"), "{\"stock\":0}");
    /* one version per purchase, none for a refusal */
    cr_assert_eq(doc_version(c, "item"), 1 + STOCK);
}

Test(update, eight_clients_take_exactly_the_stock_and_it_never_goes_negative, .timeout = 60) {
    buyer bs[BUYERS];
    int bought, refused;
    race_for_stock(false, &bought, &refused, bs);
    cr_assert_eq(bought, STOCK, "%d replies of 1 for a stock of %d", bought, STOCK);
    cr_assert_eq(refused, BUYERS * TRIES - STOCK);
}

Test(update, each_purchase_returns_a_different_stock_level, .timeout = 60) {
    buyer bs[BUYERS];
    int bought, refused;
    race_for_stock(true, &bought, &refused, bs);
    cr_assert_eq(bought, STOCK);
    cr_assert_eq(refused, BUYERS * TRIES - STOCK);
    /* serial purchases leave 99, 98, ..., 0: each level exactly once */
    int seen[STOCK] = {0};
    for (int i = 0; i < BUYERS; i++)
        for (int j = 0; j < bs[i].bought; j++) {
            int left = bs[i].left[j];
            cr_assert(left >= 0 && left < STOCK, "a purchase left %d", left);
            seen[left]++;
        }
    for (int left = 0; left < STOCK; left++)
        cr_assert_eq(seen[left], 1, "%d purchases left the stock at %d", seen[left], left);
}

/* A `$[id]` write rewrites the array once and shares the containers it keeps
 * between the old bytes (in the undo log) and the new ones. A later op of the
 * same DOC.TXN that grows a kept container moves it in memory; when a still
 * later op fails, the rollback must put back the container where it now is,
 * not where it was at the rewrite (it read freed memory before). */
Test(update, a_txn_rolled_back_after_growing_a_container_a_rewrite_kept_restores_it) {
    const char *doc = "{\"l\":[{\"a\":[1]},5,{\"b\":2}]}";
    char grow_c[400], grow_d[400];
    snprintf(grow_c, sizeof grow_c, "{\"c\":\"%0300d\"}", 0);
    snprintf(grow_d, sizeof grow_d, "{\"d\":\"%0300d\"}", 0);
    expect_ok(cmd(c, "DOC.SET k $ %s", doc));
    redisReply *r = cmd(
        c, "DOC.TXN 1 k UPDATE 1 %s ARRAYFILTERS %s MERGE 1 $.l[2] %s MERGE 1 $.l[0] %s CHECK 1 $.nope EQ 1",
        "{\"$inc\":{\"l.$[e]\":1}}", "[{\"e\":{\"$type\":\"number\"}}]", grow_c, grow_d);
    cr_assert_eq(r->type, REDIS_REPLY_ERROR);
    cr_assert(strstr(r->str, "ABORTED op 4"), "%s", r->str);
    freeReplyObject(r);
    expect_str(cmd(c, "DOC.GET k"), doc);
    expect_int(cmd(c, "DOC.VERSION k"), 1);
    /* and committed, the same ops keep what they wrote */
    expect_array_len(cmd(c, "DOC.TXN 1 k UPDATE 1 %s ARRAYFILTERS %s MERGE 1 $.l[2] %s MERGE 1 $.l[0] %s",
                         "{\"$inc\":{\"l.$[e]\":1}}", "[{\"e\":{\"$type\":\"number\"}}]", grow_c, grow_d),
                     3);
    expect_str(cmd(c, "DOC.GET k $.l[1]"), "6");
    expect_int(cmd(c, "DOC.LEN k $.l[2].c"), 300);
}
