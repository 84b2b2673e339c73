/* test_mongo.c - MongoDB's rules as a redis-cli user meets them (issue 10): each row
 * is a session on a fresh key - DOC.SET k $ <doc>, one command, then DOC.GET k
 * WITHVERSION - with the reply, document and version MongoDB's rules give. The
 * rows are the six families where atomicdoc once disagreed with MongoDB (dotted
 * paths through arrays without documents, a final index reaching an array,
 * $elemMatch on scalars, $sort of documents, $pull of array elements, DOC.PULL
 * WHERE on arrays of documents), DOC.CAS with ABSENT on either side, and commands
 * whose net effect is nothing (the version must not move).
 *
 * Every test gets its own server (the suite fixture).
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "harness.h"

/* s: this suite's server; c: the user's connection to it. */
SRV_SUITE(mongo);

#define MAX_ARGS 14

typedef struct session_row {
    const char *doc;            /* DOC.SET k $ doc first (NULL: no key) */
    const char *argv[MAX_ARGS]; /* the command, NULL-terminated; its key is k */
    const char *reply;          /* the reply, as reply_describe() prints it */
    const char *after;          /* DOC.GET k afterwards (NULL: no key) */
    long long version;          /* DOC.VERSION k afterwards, counted from the
                                     document's first version as 1 (0: no key) */
} session_row;

/* Runs the rows; each failure names its row and what differed. */
static void run_session(const session_row *rows, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const session_row *r = &rows[i];
        redisReply *del = cmd(c, "DEL k");
        freeReplyObject(del);
        if (r->doc) expect_ok(cmd(c, "DOC.SET k $ %s", r->doc));
        /* A new document's first version is above every version given before: the
         * rows count from it. */
        long long first = r->doc ? 0 : srv_info_int(c, "atomicdoc", "atomicdoc_version_floor") + 1;
        if (r->doc) {
            redisReply *v0 = cmd(c, "DOC.VERSION k");
            first = v0->integer;
            freeReplyObject(v0);
        }
        int argc = 0;
        while (argc < MAX_ARGS && r->argv[argc]) argc++;
        const char *argv[MAX_ARGS];
        memcpy(argv, r->argv, sizeof argv);
        redisReply *got = cmdv(c, argc, argv, NULL);
        char desc[2048];
        reply_describe(got, desc, sizeof desc);
        freeReplyObject(got);
        cr_expect_str_eq(desc, r->reply, "row %zu (%s %s ...): reply", i, r->argv[0],
                         argc > 2 ? r->argv[2] : "");
        redisReply *doc = cmd(c, "DOC.GET k");
        char text[2048];
        reply_describe(doc, text, sizeof text);
        bool ok = r->after ? doc->type == REDIS_REPLY_STRING && !strcmp(doc->str, r->after)
                           : doc->type == REDIS_REPLY_NIL;
        freeReplyObject(doc);
        cr_expect(ok, "row %zu (%s %s ...): expected document %s, got %s", i, r->argv[0],
                  argc > 2 ? r->argv[2] : "", r->after ? r->after : "(none)", text);
        redisReply *v = cmd(c, "DOC.VERSION k");
        long long version = v->type == REDIS_REPLY_INTEGER ? v->integer : -1;
        if (version > 0) version = version - first + 1;
        freeReplyObject(v);
        cr_expect_eq(version, r->version, "row %zu (%s %s ...): version %lld, expected %lld", i, r->argv[0],
                     argc > 2 ? r->argv[2] : "", version, r->version);
    }
}

#define RUN_SESSION(rows) run_session(rows, sizeof rows / sizeof rows[0])

Test(mongo, dotted_paths_through_arrays_without_documents_reach_nothing) {
    static const session_row rows[] = {
        {"{\"a\":[]}",
         {"DOC.UPDATE", "k", "{\"$set\":{\"p\":1}}", "IF", "{\"a.x\":{\"$in\":[null]}}"},
         "integer 0",
         "{\"a\":[]}",
         1},
        {"{\"d\":[]}",
         {"DOC.UPDATE", "k", "{\"$set\":{\"p\":1}}", "IF", "{\"d.z\":{\"$nin\":[null]}}"},
         "integer 1",
         "{\"d\":[],\"p\":1}",
         2},
        {"{\"a\":[1]}",
         {"DOC.UPDATE", "k", "{\"$set\":{\"p\":1}}", "IF", "{\"a.x\":null}"},
         "integer 0",
         "{\"a\":[1]}",
         1},
        {"{\"a\":[]}",
         {"DOC.UPDATE", "k", "{\"$set\":{\"p\":1}}", "IF", "{\"a.x\":{\"$gte\":null}}"},
         "integer 0",
         "{\"a\":[]}",
         1},
        {"{\"a\":[]}",
         {"DOC.UPDATE", "k", "{\"$set\":{\"p\":1}}", "IF", "{\"a.x\":{\"$exists\":false}}"},
         "integer 1",
         "{\"a\":[],\"p\":1}",
         2},
        /* documents in the array that lack the field still match null */
        {"{\"a\":[{\"y\":1}]}",
         {"DOC.UPDATE", "k", "{\"$set\":{\"p\":1}}", "IF", "{\"a.x\":null}"},
         "integer 1",
         "{\"a\":[{\"y\":1}],\"p\":1}",
         2},
        /* CHECK MATCH in a TXN follows the same walk */
        {"{\"a\":[]}",
         {"DOC.TXN", "1", "k", "CHECK", "1", "$", "MATCH", "{\"a.x\":{\"$ne\":null}}", "SET", "1", "$.p",
          "1"},
         "array(2) [status \"OK\", status \"OK\"]",
         "{\"a\":[],\"p\":1}",
         2},
    };
    RUN_SESSION(rows);
}

Test(mongo, a_final_index_takes_the_element_whole) {
    static const session_row rows[] = {
        {"{\"b\":[[1]]}",
         {"DOC.UPDATE", "k", "{\"$set\":{\"p\":1}}", "IF", "{\"b.0\":{\"$type\":18}}"},
         "integer 0",
         "{\"b\":[[1]]}",
         1},
        {"{\"b\":[[1]]}",
         {"DOC.UPDATE", "k", "{\"$set\":{\"p\":1}}", "IF", "{\"b.0\":{\"$type\":\"array\"}}"},
         "integer 1",
         "{\"b\":[[1]],\"p\":1}",
         2},
    };
    RUN_SESSION(rows);
}

Test(mongo, elemmatch_with_a_document_query_skips_scalars) {
    static const session_row rows[] = {
        {"{\"d\":[1]}",
         {"DOC.UPDATE", "k", "{\"$set\":{\"p\":1}}", "IF", "{\"d\":{\"$elemMatch\":{}}}"},
         "integer 0",
         "{\"d\":[1]}",
         1},
        {"{\"d\":[1,{}]}",
         {"DOC.UPDATE", "k", "{\"$set\":{\"p\":1}}", "IF", "{\"d\":{\"$elemMatch\":{}}}"},
         "integer 1",
         "{\"d\":[1,{}],\"p\":1}",
         2},
    };
    RUN_SESSION(rows);
}

Test(mongo, push_sort_orders_documents_by_value_types_before_names) {
    static const session_row rows[] = {
        {"{\"c\":[{\"y\":[]},{\"z\":\"a\",\"x\":1}]}",
         {"DOC.UPDATE", "k", "{\"$push\":{\"c\":{\"$each\":[],\"$sort\":1}}}"},
         "integer 1",
         "{\"c\":[{\"z\":\"a\",\"x\":1},{\"y\":[]}]}",
         2},
    };
    RUN_SESSION(rows);
}

Test(mongo, pull_of_array_elements_follows_mongodb) {
    static const session_row rows[] = {
        {"{\"c\":[[0]]}",
         {"DOC.UPDATE", "k", "{\"$pull\":{\"c\":{\"$lt\":1}}}"},
         "integer 1",
         "{\"c\":[]}",
         2},
        {"{\"b\":[[\"a\"]]}",
         {"DOC.UPDATE", "k", "{\"$pull\":{\"b\":{\"$ne\":\"a\"}}}"},
         "integer 0",
         "{\"b\":[[\"a\"]]}",
         1},
        {"{\"c\":[[0]]}", {"DOC.PULL", "k", "$.c", "WHERE", "{\"$lt\":1}"}, "integer 1", "{\"c\":[]}", 2},
        {"{\"b\":[[\"a\"]]}",
         {"DOC.PULL", "k", "$.b", "WHERE", "{\"$ne\":\"a\"}"},
         "integer 0",
         "{\"b\":[[\"a\"]]}",
         1},
        /* a field query removes documents only: not arrays of them, not scalars */
        {"{\"a\":[[{\"z\":1}],{\"z\":1},5]}",
         {"DOC.PULL", "k", "a", "WHERE", "{\"z\":1}"},
         "integer 1",
         "{\"a\":[[{\"z\":1}],5]}",
         2},
        {"{\"a\":[[{\"z\":1}],{\"z\":1},5]}",
         {"DOC.UPDATE", "k", "{\"$pull\":{\"a\":{\"z\":1}}}"},
         "integer 1",
         "{\"a\":[[{\"z\":1}],5]}",
         2},
        {"{\"a\":[1,{\"a\":2},{\"a\":1}]}",
         {"DOC.PULL", "k", "a", "WHERE", "{\"a\":{\"$ne\":1}}"},
         "integer 1",
         "{\"a\":[1,{\"a\":1}]}",
         2},
    };
    RUN_SESSION(rows);
}

Test(mongo, cas_with_absent_on_either_side) {
    static const session_row rows[] = {
        /* the lock recipe: acquire, release to absent, acquire again */
        {"{}", {"DOC.CAS", "k", "$.owner", "ABSENT", "\"w1\""}, "integer 1", "{\"owner\":\"w1\"}", 2},
        {"{\"owner\":\"w1\"}", {"DOC.CAS", "k", "$.owner", "\"w1\"", "ABSENT"}, "integer 1", "{}", 2},
        {"{\"owner\":\"w2\"}",
         {"DOC.CAS", "k", "$.owner", "\"w1\"", "ABSENT"},
         "integer 0",
         "{\"owner\":\"w2\"}",
         1},
        {"{}", {"DOC.CAS", "k", "owner", "\"w1\"", "absent"}, "integer 0", "{}", 1},
        /* null is a value: released to null, the lock is not ABSENT */
        {"{\"owner\":null}",
         {"DOC.CAS", "k", "$.owner", "ABSENT", "\"w2\""},
         "integer 0",
         "{\"owner\":null}",
         1},
        {"{\"owner\":null}", {"DOC.CAS", "k", "$.owner", "null", "ABSENT"}, "integer 1", "{}", 2},
        /* absent to absent: swapped, nothing changes */
        {"{}", {"DOC.CAS", "k", "$.owner", "ABSENT", "ABSENT"}, "integer 1", "{}", 1},
        {NULL, {"DOC.CAS", "k", "$.owner", "ABSENT", "ABSENT"}, "integer 1", NULL, 0},
        /* an array element is removed, as DOC.DEL does; the root deletes the key */
        {"{\"l\":[1,2,3]}", {"DOC.CAS", "k", "$.l[1]", "2", "ABSENT"}, "integer 1", "{\"l\":[1,3]}", 2},
        {"{\"x\":1}", {"DOC.CAS", "k", "$", "{\"x\":1}", "ABSENT"}, "integer 1", NULL, 0},
        /* in a TXN */
        {"{\"owner\":\"w1\"}",
         {"DOC.TXN", "1", "k", "CAS", "1", "$.owner", "\"w1\"", "ABSENT"},
         "array(1) [integer 1]",
         "{}",
         2},
    };
    RUN_SESSION(rows);
}

Test(mongo, updates_whose_operators_cancel_out_change_nothing) {
    static const session_row rows[] = {
        {"{\"d\":[]}",
         {"DOC.UPDATE", "k", "{\"$push\":{\"d\":{\"$each\":[1],\"$slice\":0}}}"},
         "integer 0",
         "{\"d\":[]}",
         1},
        {"{\"a\":[5]}",
         {"DOC.UPDATE", "k", "{\"$inc\":{\"a.0\":1,\"a.$[]\":-1}}"},
         "integer 0",
         "{\"a\":[5]}",
         1},
        {"{\"a\":[{}]}",
         {"DOC.UPDATE", "k", "{\"$set\":{\"a.0.n\":1},\"$unset\":{\"a.$[].n\":\"\"}}"},
         "integer 0",
         "{\"a\":[{}]}",
         1},
        {"{\"a\":[5]}",
         {"DOC.UPDATE", "k", "{\"$inc\":{\"a.0\":1,\"a.$[]\":-1}}", "RETURN", "AFTER"},
         "string \"{\\\"a\\\":[5]}\"",
         "{\"a\":[5]}",
         1},
        /* the same inside a TXN */
        {"{\"a\":[5]}",
         {"DOC.TXN", "1", "k", "UPDATE", "1", "{\"$inc\":{\"a.0\":1,\"a.$[]\":-1}}", "GET", "1", "$"},
         "array(2) [integer 0, string \"{\\\"a\\\":[5]}\"]",
         "{\"a\":[5]}",
         1},
    };
    RUN_SESSION(rows);
}
