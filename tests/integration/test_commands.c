/* test_commands.c - the foundation commands as a user meets them through a real server:
 * DOC.SET (NX/XX, created parents, BADTYPE/NOPATH), DOC.MSET (all or nothing),
 * DOC.GET (both path styles, several paths, WITHVERSION), DOC.MGET, DOC.DEL, DOC.TYPE,
 * DOC.LEN, DOC.KEYS and DOC.VERSION; the version rules; how numbers print; WRONGTYPE
 * and arity errors for every command; keyspace notifications; COMMAND INFO key specs;
 * and ACL key patterns applied through those key specs.
 *
 * Every test gets its own server (the suite fixture) so no test sees another's keys.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* s: this suite's server; c: the user's connection to it. */
SRV_SUITE(commands);

/* ---- reply helpers ------------------------------------------------------------- */

/* Checks that `r` is an array whose items are, in order, the bulk strings `want`
 * (NULL: a nil item); frees r. `line` is the caller's, for the message. */
static void expect_array_at(int line, redisReply *r, const char *const *want, size_t n) {
    char got[4096];
    reply_describe(r, got, sizeof got);
    bool ok = r->type == REDIS_REPLY_ARRAY && r->elements == n;
    for (size_t i = 0; ok && i < n; i++) {
        const redisReply *e = r->element[i];
        if (!want[i])
            ok = e->type == REDIS_REPLY_NIL;
        else
            ok = e->type == REDIS_REPLY_STRING && e->len == strlen(want[i]) &&
                 !memcmp(e->str, want[i], e->len);
    }
    freeReplyObject(r);
    cr_assert(ok, "line %d: expected an array of %zu items, got %s", line, n, got);
}

#define WANT(...) ((const char *const[]){__VA_ARGS__})
#define NWANT(...) (sizeof WANT(__VA_ARGS__) / sizeof(const char *))
/* expect_array(cmd(...), "item", NULL, ...): NULL stands for a nil item. */
#define expect_array(r, ...) expect_array_at(__LINE__, (r), WANT(__VA_ARGS__), NWANT(__VA_ARGS__))

/* ---- DOC.SET ------------------------------------------------------------------- */

Test(commands, set_creates_a_missing_document_at_version_1) {
    expect_int(cmd(c, "DOC.VERSION user:1"), 0);
    expect_ok(cmd(c, "DOC.SET user:1 $ %s", "{\"name\":\"Ann\",\"tags\":[\"a\",\"b\"]}"));
    expect_str(cmd(c, "DOC.GET user:1"), "{\"name\":\"Ann\",\"tags\":[\"a\",\"b\"]}");
    expect_int(cmd(c, "DOC.VERSION user:1"), 1);
    expect_status(cmd(c, "TYPE user:1"), "atomicdoc");
}

Test(commands, set_on_a_missing_key_with_a_deep_path_creates_the_parents_as_objects) {
    expect_ok(cmd(c, "DOC.SET k $.x.y.z %s", "5"));
    expect_str(cmd(c, "DOC.GET k"), "{\"x\":{\"y\":{\"z\":5}}}");
    expect_int(cmd(c, "DOC.VERSION k"), 1);
}

Test(commands, set_creates_missing_members_inside_an_existing_document) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"a\":1}"));
    expect_ok(cmd(c, "DOC.SET k b.c %s", "[true]"));
    expect_ok(cmd(c, "DOC.SET k $.b.d %s", "null"));
    expect_str(cmd(c, "DOC.GET k"), "{\"a\":1,\"b\":{\"c\":[true],\"d\":null}}");
    expect_int(cmd(c, "DOC.VERSION k"), 3);
}

Test(commands, set_of_the_same_json_text_changes_nothing_but_1_to_1_0_does) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"a\":1}"));
    expect_ok(cmd(c, "DOC.SET k $.a %s", "1"));
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"a\":1}"));
    expect_str(cmd(c, "DOC.GET k"), "{\"a\":1}");
    expect_int(cmd(c, "DOC.VERSION k"), 1);
    /* 1.0 is a double: a different value, so a change. */
    expect_ok(cmd(c, "DOC.SET k $.a %s", "1.0"));
    expect_str(cmd(c, "DOC.GET k"), "{\"a\":1.0}");
    expect_int(cmd(c, "DOC.VERSION k"), 2);
}

Test(commands, set_replaces_an_array_element_by_index_from_either_end) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"a\":[1,2,3]}"));
    expect_ok(cmd(c, "DOC.SET k $.a[0] %s", "\"first\""));
    expect_ok(cmd(c, "DOC.SET k $.a[-1] %s", "\"last\""));
    expect_ok(cmd(c, "DOC.SET k a.1 %s", "{}"));
    expect_str(cmd(c, "DOC.GET k"), "{\"a\":[\"first\",{},\"last\"]}");
}

Test(commands, set_through_a_scalar_is_badtype_and_changes_nothing) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"a\":1,\"s\":\"str\",\"n\":null}"));
    expect_err_prefix(cmd(c, "DOC.SET k $.a.b %s", "2"), "BADTYPE");
    expect_err_prefix(cmd(c, "DOC.SET k $.s.x.y %s", "2"), "BADTYPE");
    expect_err_prefix(cmd(c, "DOC.SET k n.x %s", "2"), "BADTYPE");
    expect_str(cmd(c, "DOC.GET k"), "{\"a\":1,\"s\":\"str\",\"n\":null}");
    expect_int(cmd(c, "DOC.VERSION k"), 1);
}

Test(commands, set_past_the_end_of_an_array_is_nopath_and_creates_no_slot) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"a\":[1,2,3]}"));
    expect_err_prefix(cmd(c, "DOC.SET k $.a[3] %s", "4"), "NOPATH");
    expect_err_prefix(cmd(c, "DOC.SET k $.a[9] %s", "4"), "NOPATH");
    expect_err_prefix(cmd(c, "DOC.SET k $.a[-4] %s", "4"), "NOPATH");
    expect_err_prefix(cmd(c, "DOC.SET k $.a[7].x %s", "4"), "NOPATH");
    expect_str(cmd(c, "DOC.GET k"), "{\"a\":[1,2,3]}");
    expect_int(cmd(c, "DOC.VERSION k"), 1);
}

Test(commands, set_of_a_name_into_an_array_or_an_index_into_an_object_is_badtype) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"arr\":[1],\"obj\":{\"x\":1}}"));
    expect_err_prefix(cmd(c, "DOC.SET k $.arr.name %s", "1"), "BADTYPE");
    expect_err_prefix(cmd(c, "DOC.SET k $.obj[0] %s", "1"), "BADTYPE");
    expect_str(cmd(c, "DOC.GET k"), "{\"arr\":[1],\"obj\":{\"x\":1}}");
    expect_int(cmd(c, "DOC.VERSION k"), 1);
}

Test(commands, set_nx_writes_only_where_nothing_is) {
    expect_ok(cmd(c, "DOC.SET k $ %s NX", "{\"a\":1}"));
    expect_nil(cmd(c, "DOC.SET k $ %s NX", "{\"other\":true}"));
    expect_nil(cmd(c, "DOC.SET k $.a %s NX", "2"));
    expect_ok(cmd(c, "DOC.SET k $.b %s nx", "2"));
    expect_str(cmd(c, "DOC.GET k"), "{\"a\":1,\"b\":2}");
    expect_int(cmd(c, "DOC.VERSION k"), 2);
}

Test(commands, set_xx_writes_only_where_something_is) {
    expect_nil(cmd(c, "DOC.SET k $ %s XX", "{\"a\":1}"));
    expect_int(cmd(c, "EXISTS k"), 0);
    expect_int(cmd(c, "DOC.VERSION k"), 0);
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"a\":1}"));
    expect_nil(cmd(c, "DOC.SET k $.b %s XX", "2"));
    expect_nil(cmd(c, "DOC.SET k $.b.c %s XX", "2"));
    expect_ok(cmd(c, "DOC.SET k $.a %s xx", "3"));
    expect_ok(cmd(c, "DOC.SET k $ %s XX", "[0]"));
    expect_str(cmd(c, "DOC.GET k"), "[0]");
    expect_int(cmd(c, "DOC.VERSION k"), 3);
}

Test(commands, set_with_an_unknown_flag_is_a_syntax_error) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "1"));
    expect_err_prefix(cmd(c, "DOC.SET k $ %s YY", "2"), "SYNTAX");
    expect_err_prefix(cmd(c, "DOC.SET k $ %s NX XX", "2"), "SYNTAX");
    expect_err_prefix(cmd(c, "DOC.SET k $ %s NX NX", "2"), "SYNTAX");
    expect_str(cmd(c, "DOC.GET k"), "1");
    expect_int(cmd(c, "DOC.VERSION k"), 1);
}

/* ---- DOC.GET ------------------------------------------------------------------- */

/* One document, read through every path form SPEC names, each with its result. */
static const char read_doc[] =
    "{\"a\":{\"b\":[10,20,{\"c\":\"deep\"}]},\"a b\":1,\"q'\":2,\"0\":\"zero\",\"e\":[]}";

static const struct {
    const char *path; /* as typed */
    const char *json; /* DOC.GET's reply */
} read_paths[] = {
    {"$", "{\"a\":{\"b\":[10,20,{\"c\":\"deep\"}]},\"a b\":1,\"q'\":2,\"0\":\"zero\",\"e\":[]}"},
    {".", "{\"a\":{\"b\":[10,20,{\"c\":\"deep\"}]},\"a b\":1,\"q'\":2,\"0\":\"zero\",\"e\":[]}"},
    {"$.a", "{\"b\":[10,20,{\"c\":\"deep\"}]}"},
    {".a", "{\"b\":[10,20,{\"c\":\"deep\"}]}"},
    {"a", "{\"b\":[10,20,{\"c\":\"deep\"}]}"},
    {"$.a.b[0]", "10"},
    {"$.a.b[-1]", "{\"c\":\"deep\"}"},
    {"$.a.b[-3]", "10"},
    {"$.a.b[2].c", "\"deep\""},
    {"$[\"a\"][\"b\"][1]", "20"},
    {"$['a']['b'][1]", "20"},
    {"$[\"a b\"]", "1"},
    {"$[\"q'\"]", "2"},
    {"a.b.0", "10"},
    {"a.b.2.c", "\"deep\""},
    {"0", "\"zero\""}, /* a numeric segment names a member of an object */
    {"$[\"0\"]", "\"zero\""},
    {"$.e", "[]"},
};

Test(commands, get_reads_jsonpath_and_dot_paths) {
    expect_ok(cmd(c, "DOC.SET k $ %s", read_doc));
    for (size_t i = 0; i < sizeof read_paths / sizeof *read_paths; i++) {
        redisReply *r = cmd(c, "DOC.GET k %s", read_paths[i].path);
        char got[1024];
        reply_describe(r, got, sizeof got);
        bool ok = r->type == REDIS_REPLY_STRING && !strcmp(r->str, read_paths[i].json);
        freeReplyObject(r);
        cr_expect(ok, "DOC.GET k %s: expected %s, got %s", read_paths[i].path, read_paths[i].json, got);
    }
}

Test(commands, get_of_a_missing_path_or_a_missing_key_is_nil) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"a\":[1],\"s\":\"x\"}"));
    expect_nil(cmd(c, "DOC.GET k $.nope"));
    expect_nil(cmd(c, "DOC.GET k $.a[1]"));
    expect_nil(cmd(c, "DOC.GET k $.a[-2]"));
    expect_nil(cmd(c, "DOC.GET k $.nope.deeper"));
    expect_nil(cmd(c, "DOC.GET k a.5"));
    expect_nil(cmd(c, "DOC.GET missing"));
    expect_nil(cmd(c, "DOC.GET missing $.a"));
    expect_int(cmd(c, "EXISTS missing"), 0);
}

Test(commands, get_with_several_paths_replies_an_array_with_nil_for_the_missing_ones) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"a\":1,\"b\":[2,3],\"c\":{\"d\":\"x\"}}"));
    expect_array(cmd(c, "DOC.GET k $.a $.nope b.1 $.c"), "1", NULL, "3", "{\"d\":\"x\"}");
    expect_array(cmd(c, "DOC.GET k $.a $.a"), "1", "1");
}

Test(commands, get_withversion_replies_the_version_and_the_value) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"a\":1,\"b\":2}"));
    expect_ok(cmd(c, "DOC.SET k $.a %s", "5"));

    redisReply *r = cmd(c, "DOC.GET k WITHVERSION");
    char got[512];
    reply_describe(r, got, sizeof got);
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 2, "got %s", got);
    cr_assert(r->element[0]->type == REDIS_REPLY_INTEGER && r->element[0]->integer == 2, "got %s", got);
    cr_assert(r->element[1]->type == REDIS_REPLY_STRING && !strcmp(r->element[1]->str, "{\"a\":5,\"b\":2}"),
              "got %s", got);
    freeReplyObject(r);

    r = cmd(c, "DOC.GET k withversion $.b");
    reply_describe(r, got, sizeof got);
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[0]->integer == 2 &&
                  r->element[1]->type == REDIS_REPLY_STRING && !strcmp(r->element[1]->str, "2"),
              "got %s", got);
    freeReplyObject(r);

    /* several paths: [version, [value, ...]] */
    r = cmd(c, "DOC.GET k WITHVERSION $.a $.zz");
    reply_describe(r, got, sizeof got);
    cr_assert_str_eq(got, "array(2) [integer 2, array(2) [string \"5\", nil]]");
    freeReplyObject(r);
}

Test(commands, get_withversion_of_a_missing_key_is_version_0_and_nil) {
    redisReply *r = cmd(c, "DOC.GET nothing WITHVERSION");
    char got[256];
    reply_describe(r, got, sizeof got);
    freeReplyObject(r);
    cr_assert_str_eq(got, "array(2) [integer 0, nil]");
}

/* ---- DOC.MGET ------------------------------------------------------------------ */

Test(commands, mget_reads_one_path_of_many_keys_with_nil_for_missing_and_other_types) {
    expect_ok(cmd(c, "DOC.SET a $ %s", "{\"n\":1}"));
    expect_ok(cmd(c, "DOC.SET b $ %s", "{\"n\":[2]}"));
    expect_ok(cmd(c, "DOC.SET d $ %s", "{\"x\":0}"));
    expect_ok(cmd(c, "SET plain %s", "string"));
    expect_int(cmd(c, "HSET h f v"), 1);
    expect_array(cmd(c, "DOC.MGET a b missing plain h d $.n"), "1", "[2]", NULL, NULL, NULL, NULL);
    expect_array(cmd(c, "DOC.MGET a b $"), "{\"n\":1}", "{\"n\":[2]}");
    expect_array(cmd(c, "DOC.MGET b n.0"), "2");
}

/* DOC.MGET runs through the command skeleton (one GET op per key over the one parsed
 * path): its replies are those it gave before, byte for byte (each row was checked
 * against the handler it replaced, in RESP2 and RESP3); keys of other types are still
 * nil, as MGET's are. Errors reach the client through reply.c (an error reply, counted
 * in INFO), never a nil in the array: the core's only failure while reading, out of
 * memory, cannot be provoked from a client (Redis aborts on a failed allocation), so the
 * error path is shown by a bad path. Whole documents go through the read cache as
 * DOC.GET's do. */
Test(commands, mget_replies_as_before_through_the_command_skeleton) {
    expect_ok(cmd(c, "DOC.SET a $ %s", "{\"n\":1,\"s\":\"x\",\"l\":[1,2,{\"n\":3}]}"));
    expect_ok(cmd(c, "DOC.SET b $ %s", "{\"n\":[2]}"));
    expect_ok(cmd(c, "SET plain %s", "string"));
    expect_int(cmd(c, "HSET h f v"), 1);
    static const struct {
        const char *args, *want;
    } rows[] = {
        {"a b nokey plain h $.n", "array(5) [string \"1\", string \"[2]\", nil, nil, nil]"},
        {"a a b $", "array(3) [string \"{\\\"n\\\":1,\\\"s\\\":\\\"x\\\",\\\"l\\\":[1,2,{\\\"n\\\":3}]}\", "
                    "string \"{\\\"n\\\":1,\\\"s\\\":\\\"x\\\",\\\"l\\\":[1,2,{\\\"n\\\":3}]}\", "
                    "string \"{\\\"n\\\":[2]}\"]"},
        {"a b n", "array(2) [string \"1\", string \"[2]\"]"},
        {"a b $..n", "array(2) [string \"[1,3]\", string \"[[2]]\"]"},
        {"a b $.l[*]", "array(2) [string \"[1,2,{\\\"n\\\":3}]\", string \"[]\"]"},
        {"a b $.zz", "array(2) [nil, nil]"},
        {"a plain $.l[?@>1]", "array(2) [string \"[2]\", nil]"},
        {"nokey $", "array(1) [nil]"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char got[1024], line[128];
        const char *argv[16];
        int argc = 0;
        argv[argc++] = "DOC.MGET";
        snprintf(line, sizeof line, "%s", rows[i].args);
        for (char *w = strtok(line, " "); w && argc < 16; w = strtok(NULL, " ")) argv[argc++] = w;
        redisReply *r = cmdv(c, argc, argv, NULL);
        reply_describe(r, got, sizeof got);
        freeReplyObject(r);
        cr_assert_str_eq(got, rows[i].want, "DOC.MGET %s", rows[i].args);
    }

    /* An error is the reply, through reply.c (INFO counts it), not a nil item. */
    long long before = srv_info_int(c, "atomicdoc", "atomicdoc_errors_badpath");
    expect_err_prefix(cmd(c, "DOC.MGET a b $["), "BADPATH");
    cr_assert_eq(srv_info_int(c, "atomicdoc", "atomicdoc_errors_badpath"), before + 1);
    cr_assert_eq(srv_info_int(c, "atomicdoc", "atomicdoc_errors_wrongtype"), 0,
                 "keys of other types are nil, not errors");

    /* Whole documents: printed once, kept, and served from the read cache. */
    expect_ok(cmd(c, "DOC.SET b $ %s", "{\"n\":[3]}")); /* a change drops b's text */
    expect_ok(cmd(c, "DOC.SET a $ %s", "[1]"));
    cr_assert_eq(srv_info_int(c, "atomicdoc", "atomicdoc_read_cache_bytes"), 0);
    expect_array(cmd(c, "DOC.MGET a b a $"), "[1]", "{\"n\":[3]}", "[1]");
    cr_assert_eq(srv_info_int(c, "atomicdoc", "atomicdoc_read_cache_bytes"),
                 (long long)(strlen("[1]") + strlen("{\"n\":[3]}")));
}

/* ---- DOC.MSET ------------------------------------------------------------------ */

Test(commands, mset_sets_every_triple_and_bumps_each_key_once) {
    expect_ok(cmd(c, "DOC.SET a $ %s", "{\"x\":0}"));
    expect_ok(cmd(c, "DOC.MSET a $.x %s b $ %s a $.y %s", "1", "[true]", "2"));
    expect_str(cmd(c, "DOC.GET a"), "{\"x\":1,\"y\":2}");
    expect_str(cmd(c, "DOC.GET b"), "[true]");
    expect_int(cmd(c, "DOC.VERSION a"), 2);
    expect_int(cmd(c, "DOC.VERSION b"), 3); /* new: above a's 2 */
}

Test(commands, mset_later_triples_see_earlier_ones) {
    expect_ok(cmd(c, "DOC.MSET k $ %s k $.list[0] %s", "{\"list\":[0]}", "1"));
    expect_str(cmd(c, "DOC.GET k"), "{\"list\":[1]}");
    expect_int(cmd(c, "DOC.VERSION k"), 1);
    /* the third triple sees the empty list the second one wrote */
    expect_err_prefix(cmd(c, "DOC.MSET k $.list[0] %s k $ %s k $.list[0] %s", "2", "{\"list\":[]}", "3"),
                      "NOPATH");
    expect_str(cmd(c, "DOC.GET k"), "{\"list\":[1]}");
    expect_int(cmd(c, "DOC.VERSION k"), 1);
}

Test(commands, mset_with_a_failing_triple_changes_no_key) {
    expect_ok(cmd(c, "DOC.SET a $ %s", "{\"x\":1}"));
    expect_ok(cmd(c, "DOC.SET b $ %s", "{\"n\":5}"));
    /* the failure comes last, after a replace, a creation and a new member */
    expect_err_prefix(cmd(c, "DOC.MSET a $.x %s new $ %s a $.z %s b $.n.deeper %s", "2", "{}", "3", "4"),
                      "BADTYPE");
    expect_err_prefix(cmd(c, "DOC.MSET a $ %s b $ %s", "{\"ok\":1}", "[1,"), "BADJSON");
    expect_err_prefix(cmd(c, "DOC.MSET a $ %s b $.[ %s", "{\"ok\":1}", "1"), "BADPATH");
    expect_str(cmd(c, "DOC.GET a"), "{\"x\":1}");
    expect_str(cmd(c, "DOC.GET b"), "{\"n\":5}");
    expect_int(cmd(c, "EXISTS new"), 0);
    expect_int(cmd(c, "DOC.VERSION a"), 1);
    expect_int(cmd(c, "DOC.VERSION b"), 2);
}

Test(commands, mset_against_a_string_key_is_wrongtype_and_changes_no_key) {
    expect_ok(cmd(c, "SET plain %s", "v"));
    expect_err_prefix(cmd(c, "DOC.MSET a $ %s plain $ %s", "1", "2"), "WRONGTYPE");
    expect_int(cmd(c, "EXISTS a"), 0);
    expect_str(cmd(c, "GET plain"), "v");
}

Test(commands, mset_needs_one_plus_three_n_arguments) {
    expect_err_prefix(cmd(c, "DOC.MSET a $"), "ERR wrong number of arguments");
    expect_err_prefix(cmd(c, "DOC.MSET a $ 1 b"), "ERR wrong number of arguments");
    expect_err_prefix(cmd(c, "DOC.MSET a $ 1 b $"), "ERR wrong number of arguments");
    expect_int(cmd(c, "EXISTS a b"), 0);
}

/* ---- DOC.DEL ------------------------------------------------------------------- */

Test(commands, del_without_a_path_or_with_the_root_deletes_the_key) {
    expect_ok(cmd(c, "DOC.SET a $ %s", "{\"x\":1}"));
    expect_ok(cmd(c, "DOC.SET b $ %s", "{\"x\":1}"));
    expect_ok(cmd(c, "DOC.SET d $ %s", "{\"x\":1}"));
    expect_int(cmd(c, "DOC.DEL a"), 1);
    expect_int(cmd(c, "DOC.DEL b $"), 1);
    expect_int(cmd(c, "DOC.DEL d ."), 1);
    expect_int(cmd(c, "EXISTS a b d"), 0);
    expect_int(cmd(c, "DOC.DEL a"), 0);
    expect_int(cmd(c, "DOC.VERSION a"), 0);
}

Test(commands, del_removes_a_member_or_an_element) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"a\":1,\"b\":[1,2,3,4],\"c\":{\"d\":1,\"e\":2}}"));
    expect_int(cmd(c, "DOC.DEL k $.a"), 1);
    expect_int(cmd(c, "DOC.DEL k $.b[0]"), 1);
    expect_int(cmd(c, "DOC.DEL k $.b[-1]"), 1);
    expect_int(cmd(c, "DOC.DEL k c.d"), 1);
    expect_str(cmd(c, "DOC.GET k"), "{\"b\":[2,3],\"c\":{\"e\":2}}");
    expect_int(cmd(c, "DOC.VERSION k"), 5);
}

Test(commands, del_of_a_missing_path_replies_0_and_changes_nothing) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"a\":[1]}"));
    expect_int(cmd(c, "DOC.DEL k $.nope"), 0);
    expect_int(cmd(c, "DOC.DEL k $.a[5]"), 0);
    expect_int(cmd(c, "DOC.DEL k $.nope.deeper"), 0);
    expect_int(cmd(c, "DOC.DEL missing $.a"), 0);
    expect_str(cmd(c, "DOC.GET k"), "{\"a\":[1]}");
    expect_int(cmd(c, "DOC.VERSION k"), 1);
    expect_int(cmd(c, "EXISTS missing"), 0);
}

/* ---- DOC.TYPE / DOC.LEN / DOC.KEYS --------------------------------------------- */

Test(commands, type_names_every_json_type) {
    expect_ok(cmd(c, "DOC.SET k $ %s",
                  "{\"n\":null,\"t\":true,\"f\":false,\"i\":-7,\"d\":1.5,\"s\":\"x\","
                  "\"o\":{},\"a\":[],\"big\":12345678901234567890}"));
    expect_status(cmd(c, "DOC.TYPE k"), "object");
    expect_status(cmd(c, "DOC.TYPE k $"), "object");
    expect_status(cmd(c, "DOC.TYPE k $.n"), "null");
    expect_status(cmd(c, "DOC.TYPE k $.t"), "boolean");
    expect_status(cmd(c, "DOC.TYPE k f"), "boolean");
    expect_status(cmd(c, "DOC.TYPE k $.i"), "integer");
    expect_status(cmd(c, "DOC.TYPE k $.d"), "number");
    expect_status(cmd(c, "DOC.TYPE k $.big"), "number");
    expect_status(cmd(c, "DOC.TYPE k $.s"), "string");
    expect_status(cmd(c, "DOC.TYPE k $.o"), "object");
    expect_status(cmd(c, "DOC.TYPE k $.a"), "array");
    expect_nil(cmd(c, "DOC.TYPE k $.nope"));
    expect_nil(cmd(c, "DOC.TYPE missing"));
}

Test(commands, len_counts_members_elements_and_string_bytes) {
    expect_ok(cmd(c, "DOC.SET k $ %s",
                  "{\"o\":{\"x\":1,\"y\":2},\"a\":[1,[2,3],4],\"s\":\"h\\u00e9!\",\"e\":\"\","
                  "\"ea\":[]}"));
    expect_int(cmd(c, "DOC.LEN k"), 5);
    expect_int(cmd(c, "DOC.LEN k $.o"), 2);
    expect_int(cmd(c, "DOC.LEN k $.a"), 3);
    expect_int(cmd(c, "DOC.LEN k a.1"), 2);
    expect_int(cmd(c, "DOC.LEN k $.s"), 4); /* "hé!": é is two UTF-8 bytes */
    expect_int(cmd(c, "DOC.LEN k $.e"), 0);
    expect_int(cmd(c, "DOC.LEN k $.ea"), 0);
    expect_nil(cmd(c, "DOC.LEN k $.nope"));
    expect_nil(cmd(c, "DOC.LEN missing"));
}

Test(commands, len_of_a_number_a_boolean_or_null_is_badtype) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"i\":1,\"d\":2.5,\"b\":true,\"n\":null}"));
    expect_err_prefix(cmd(c, "DOC.LEN k $.i"), "BADTYPE");
    expect_err_prefix(cmd(c, "DOC.LEN k $.d"), "BADTYPE");
    expect_err_prefix(cmd(c, "DOC.LEN k $.b"), "BADTYPE");
    expect_err_prefix(cmd(c, "DOC.LEN k $.n"), "BADTYPE");
    expect_int(cmd(c, "DOC.VERSION k"), 1);
}

Test(commands, keys_lists_member_names_in_insertion_order) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"zeta\":1,\"alpha\":2,\"mid\":{\"b\":1,\"a\":2}}"));
    expect_ok(cmd(c, "DOC.SET k $.beta %s", "3"));
    expect_array(cmd(c, "DOC.KEYS k"), "zeta", "alpha", "mid", "beta");
    expect_array(cmd(c, "DOC.KEYS k $.mid"), "b", "a");
    expect_ok(cmd(c, "DOC.SET k $.e %s", "{}"));
    expect_array_len(cmd(c, "DOC.KEYS k $.e"), 0);
    expect_nil(cmd(c, "DOC.KEYS k $.nope"));
    expect_nil(cmd(c, "DOC.KEYS missing"));
}

Test(commands, keys_of_anything_but_an_object_is_badtype) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"a\":[1],\"s\":\"x\",\"i\":1,\"n\":null}"));
    expect_err_prefix(cmd(c, "DOC.KEYS k $.a"), "BADTYPE");
    expect_err_prefix(cmd(c, "DOC.KEYS k $.s"), "BADTYPE");
    expect_err_prefix(cmd(c, "DOC.KEYS k $.i"), "BADTYPE");
    expect_err_prefix(cmd(c, "DOC.KEYS k $.n"), "BADTYPE");
}

/* ---- versions ------------------------------------------------------------------ */

Test(commands, version_moves_once_per_changing_command_and_never_otherwise) {
    expect_int(cmd(c, "DOC.VERSION k"), 0);
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"a\":1,\"l\":[1,2]}"));
    cr_assert_eq(doc_version(c, "k"), 1);

    /* reads */
    freeReplyObject(cmd(c, "DOC.GET k"));
    freeReplyObject(cmd(c, "DOC.GET k WITHVERSION $.a $.l"));
    freeReplyObject(cmd(c, "DOC.TYPE k $.a"));
    freeReplyObject(cmd(c, "DOC.LEN k $.l"));
    freeReplyObject(cmd(c, "DOC.KEYS k"));
    freeReplyObject(cmd(c, "DOC.MGET k k $"));
    cr_assert_eq(doc_version(c, "k"), 1);

    /* errors and no-ops */
    expect_err_prefix(cmd(c, "DOC.SET k $.a.b %s", "1"), "BADTYPE");
    expect_err_prefix(cmd(c, "DOC.SET k $.l[5] %s", "1"), "NOPATH");
    expect_err_prefix(cmd(c, "DOC.SET k $.x %s", "{bad"), "BADJSON");
    expect_err_prefix(cmd(c, "DOC.SET k $.x[ %s", "1"), "BADPATH");
    expect_err_prefix(cmd(c, "DOC.LEN k $.a"), "BADTYPE");
    expect_nil(cmd(c, "DOC.SET k $.a %s NX", "2"));
    expect_nil(cmd(c, "DOC.SET k $.zz %s XX", "2"));
    expect_int(cmd(c, "DOC.DEL k $.zz"), 0);
    cr_assert_eq(doc_version(c, "k"), 1);

    /* changes: one each, however much they touch */
    expect_ok(cmd(c, "DOC.SET k $.a %s", "2"));
    cr_assert_eq(doc_version(c, "k"), 2);
    expect_ok(cmd(c, "DOC.SET k $.new.deep.path %s", "[]"));
    cr_assert_eq(doc_version(c, "k"), 3);
    expect_int(cmd(c, "DOC.DEL k $.l[0]"), 1);
    cr_assert_eq(doc_version(c, "k"), 4);
    expect_ok(cmd(c, "DOC.MSET k $.a %s k $.b %s k $.c %s", "1", "2", "3"));
    cr_assert_eq(doc_version(c, "k"), 5);
    expect_ok(cmd(c, "DOC.SET k $ %s", "0"));
    cr_assert_eq(doc_version(c, "k"), 6);

    /* deleting the key: DOC.VERSION is 0, and a new document starts above every
     * version given so far, so the old one's versions never come back */
    expect_int(cmd(c, "DOC.DEL k"), 1);
    cr_assert_eq(doc_version(c, "k"), 0);
    expect_ok(cmd(c, "DOC.SET k $.a %s", "1"));
    cr_assert_eq(doc_version(c, "k"), 7);
}

Test(commands, version_of_a_key_deleted_by_plain_del_is_0) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "1"));
    expect_ok(cmd(c, "DOC.SET k $ %s", "2"));
    expect_int(cmd(c, "DEL k"), 1);
    expect_int(cmd(c, "DOC.VERSION k"), 0);
    expect_nil(cmd(c, "DOC.GET k"));
}

/* ---- numbers ------------------------------------------------------------------- */

Test(commands, integers_stay_exact_int64) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "[9223372036854775807,-9223372036854775808,0,-1,9007199254740993]"));
    expect_str(cmd(c, "DOC.GET k"), "[9223372036854775807,-9223372036854775808,0,-1,9007199254740993]");
    expect_status(cmd(c, "DOC.TYPE k $[0]"), "integer");
    expect_status(cmd(c, "DOC.TYPE k $[4]"), "integer");
}

Test(commands, an_integer_beyond_int64_is_stored_as_a_double) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "[9223372036854775808,12345678901234567890]"));
    expect_status(cmd(c, "DOC.TYPE k $[0]"), "number");
    expect_status(cmd(c, "DOC.TYPE k $[1]"), "number");
    redisReply *r = cmd(c, "DOC.GET k $[1]");
    cr_assert_eq(r->type, REDIS_REPLY_STRING);
    cr_assert(strpbrk(r->str, ".eE"), "a double prints with '.' or 'e': %s", r->str);
    cr_assert_eq(strtod(r->str, NULL), 12345678901234567890.0, "printed %s", r->str);
    freeReplyObject(r);
}

Test(commands, doubles_print_shortest_round_trip_and_always_look_like_doubles) {
    static const struct {
        const char *in, *out;
    } rows[] = {
        {"2.0", "2.0"},   {"0.1", "0.1"},       {"-2.5", "-2.5"},
        {"1E2", "100.0"}, {"1.5e-7", "1.5e-7"}, {"100.25", "100.25"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        expect_ok(cmd(c, "DOC.SET k $ %s", rows[i].in));
        expect_status(cmd(c, "DOC.TYPE k"), "number");
        expect_str(cmd(c, "DOC.GET k"), rows[i].out);
    }
    /* Far exponents: the exact form is the printer's choice; it must read back
     * as the same double and never look like an integer. */
    static const char *const far[] = {"1e300", "5e-324", "1e23", "-1.7976931348623157e308",
                                      "0.30000000000000004"};
    for (size_t i = 0; i < sizeof far / sizeof *far; i++) {
        expect_ok(cmd(c, "DOC.SET k $ %s", far[i]));
        redisReply *r = cmd(c, "DOC.GET k");
        cr_assert_eq(r->type, REDIS_REPLY_STRING);
        cr_expect(strpbrk(r->str, ".eE"), "%s printed as %s", far[i], r->str);
        cr_expect_eq(strtod(r->str, NULL), strtod(far[i], NULL), "%s printed as %s", far[i], r->str);
        freeReplyObject(r);
    }
}

/* ---- errors common to every command -------------------------------------------- */

Test(commands, every_command_on_a_string_key_is_wrongtype_and_leaves_it_alone) {
    static const char *const cmds[] = {
        "DOC.SET plain $ 1",  "DOC.SET plain $.a 1", "DOC.SET plain $ 1 NX", "DOC.SET plain $ 1 XX",
        "DOC.MSET plain $ 1", "DOC.GET plain",       "DOC.GET plain $.a",    "DOC.GET plain WITHVERSION",
        "DOC.DEL plain",      "DOC.DEL plain $.a",   "DOC.TYPE plain",       "DOC.LEN plain",
        "DOC.KEYS plain",     "DOC.VERSION plain",
    };
    expect_ok(cmd(c, "SET plain %s", "a string"));
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        redisReply *r = cmd(c, cmds[i]);
        char got[512];
        reply_describe(r, got, sizeof got);
        bool ok = r->type == REDIS_REPLY_ERROR && !strncmp(r->str, "WRONGTYPE ", 10);
        freeReplyObject(r);
        cr_expect(ok, "%s: expected WRONGTYPE, got %s", cmds[i], got);
    }
    expect_str(cmd(c, "GET plain"), "a string");
    expect_status(cmd(c, "TYPE plain"), "string");
}

Test(commands, every_command_with_the_wrong_number_of_arguments_is_an_arity_error) {
    static const char *const cmds[] = {
        "DOC.SET",       "DOC.SET k",         "DOC.SET k $",    "DOC.MSET",       "DOC.MSET k",
        "DOC.MSET k $",  "DOC.MSET k $ 1 k2", "DOC.GET",        "DOC.MGET",       "DOC.MGET k",
        "DOC.DEL",       "DOC.DEL k $ $",     "DOC.TYPE",       "DOC.TYPE k $ $", "DOC.LEN",
        "DOC.LEN k $ $", "DOC.KEYS",          "DOC.KEYS k $ $", "DOC.VERSION",    "DOC.VERSION k $",
    };
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"a\":1}"));
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        redisReply *r = cmd(c, cmds[i]);
        char got[512];
        reply_describe(r, got, sizeof got);
        bool ok = r->type == REDIS_REPLY_ERROR && !strncmp(r->str, "ERR wrong number of arguments", 29);
        freeReplyObject(r);
        cr_expect(ok, "%s: expected an arity error, got %s", cmds[i], got);
    }
    expect_str(cmd(c, "DOC.GET k"), "{\"a\":1}");
    expect_int(cmd(c, "DOC.VERSION k"), 1);
    expect_int(cmd(c, "EXISTS k2"), 0);
}

Test(commands, error_replies_are_one_line_starting_with_the_code_word) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"a\":1}"));
    static const struct {
        const char *path, *json, *code;
    } rows[] = {
        {"$.a.b", "1", "BADTYPE"},
        {"$.x", "[1,}", "BADJSON"},
        {"$.x[", "1", "BADPATH"},
        {"$.a[0]", "1", "BADTYPE"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        redisReply *r = cmd(c, "DOC.SET k %s %s", rows[i].path, rows[i].json);
        char got[512];
        reply_describe(r, got, sizeof got);
        size_t n = strlen(rows[i].code);
        bool ok = r->type == REDIS_REPLY_ERROR && !strncmp(r->str, rows[i].code, n) && r->str[n] == ' ' &&
                  !strpbrk(r->str, "\r\n");
        freeReplyObject(r);
        cr_expect(ok, "DOC.SET k %s %s: expected one line starting \"%s \", got %s", rows[i].path,
                  rows[i].json, rows[i].code, got);
    }
}

/* ---- keyspace notifications ---------------------------------------------------- */

/* A connection subscribed to every keyspace event of db 0. */
static redisContext *subscribe_keyspace(void) {
    expect_ok(cmd(c, "CONFIG SET notify-keyspace-events KEA"));
    redisContext *sub = srv_connect(s);
    redisReply *r = cmd(sub, "PSUBSCRIBE __keyspace@0__:*");
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 3);
    freeReplyObject(r);
    return sub;
}

/* Reads events up to the `set` of key "sentinel" (which the test writes last, so
 * everything before it has been published) and returns them as "key event\n"
 * lines, malloc'd. */
static char *events_until_sentinel(redisContext *sub) {
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cr_assert(out);
    for (;;) {
        redisReply *r = NULL;
        int rc = redisGetReply(sub, (void **)&r);
        cr_assert(rc == REDIS_OK && r, "no event received: %s", sub->errstr);
        cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 4, "unexpected pubsub message");
        const char *channel = r->element[2]->str;
        const char *prefix = "__keyspace@0__:";
        cr_assert(!strncmp(channel, prefix, strlen(prefix)), "channel %s", channel);
        const char *key = channel + strlen(prefix);
        bool done = !strcmp(key, "sentinel");
        if (!done) fprintf(out, "%s %s\n", key, r->element[3]->str);
        freeReplyObject(r);
        if (done) break;
    }
    fclose(out);
    return text;
}

Test(commands, notifications_name_each_changed_key_once_and_skip_failures_and_no_ops) {
    redisContext *sub = subscribe_keyspace();

    expect_ok(cmd(c, "DOC.SET a $ %s", "{\"x\":1}")); /* a doc.set */
    expect_nil(cmd(c, "DOC.SET a $.x %s NX", "2"));   /* no-op */
    expect_nil(cmd(c, "DOC.SET a $.y %s XX", "2"));   /* no-op */
    expect_err_prefix(cmd(c, "DOC.SET a $.x.y %s", "2"), "BADTYPE");
    expect_err_prefix(cmd(c, "DOC.SET a $.y %s", "[1"), "BADJSON");
    expect_int(cmd(c, "DOC.DEL a $.zz"), 0);                               /* no-op */
    expect_int(cmd(c, "DOC.DEL missing"), 0);                              /* no-op */
    expect_ok(cmd(c, "DOC.MSET a $.y %s b $ %s a $.z %s", "1", "2", "3")); /* a, b */
    expect_err_prefix(cmd(c, "DOC.MSET a $.q %s b $.n.m %s", "1", "2"), "BADTYPE");
    freeReplyObject(cmd(c, "DOC.GET a"));
    freeReplyObject(cmd(c, "DOC.MGET a b $"));
    expect_int(cmd(c, "DOC.DEL a $.y"), 1); /* a doc.del */
    expect_int(cmd(c, "DOC.DEL b"), 1);     /* b doc.del */
    expect_ok(cmd(c, "SET sentinel %s", "end"));

    char *events = events_until_sentinel(sub);
    cr_expect_str_eq(events, "a doc.set\n"
                             "a doc.set\n"
                             "b doc.set\n"
                             "a doc.del\n"
                             "b doc.del\n");
    free(events);
    redisFree(sub);
}

Test(commands, notifications_are_module_class_events) {
    /* Only the module class (d) and keyspace (K): DOC events still arrive... */
    expect_ok(cmd(c, "CONFIG SET notify-keyspace-events Kd"));
    redisContext *sub = srv_connect(s);
    freeReplyObject(cmd(sub, "PSUBSCRIBE __keyspace@0__:*"));
    expect_ok(cmd(c, "DOC.SET a $ %s", "1"));
    expect_ok(cmd(c, "DOC.SET sentinel $ %s", "1"));
    char *events = events_until_sentinel(sub);
    cr_expect_str_eq(events, "a doc.set\n");
    free(events);
    redisFree(sub);

    /* ...and without the module class they do not. */
    expect_ok(cmd(c, "CONFIG SET notify-keyspace-events K$"));
    sub = srv_connect(s);
    freeReplyObject(cmd(sub, "PSUBSCRIBE __keyspace@0__:*"));
    expect_ok(cmd(c, "DOC.SET a $ %s", "2"));
    expect_ok(cmd(c, "SET sentinel %s", "end"));
    events = events_until_sentinel(sub);
    cr_expect_str_eq(events, "");
    free(events);
    redisFree(sub);
}

/* ---- COMMAND INFO, key specs, ACL ---------------------------------------------- */

/* The value after `name` in a flat [name, value, ...] map reply, or NULL. */
static const redisReply *map_get(const redisReply *map, const char *name) {
    if (!map || map->type != REDIS_REPLY_ARRAY) return NULL;
    for (size_t i = 0; i + 1 < map->elements; i += 2)
        if (map->element[i]->type == REDIS_REPLY_STRING || map->element[i]->type == REDIS_REPLY_STATUS)
            if (!strcmp(map->element[i]->str, name)) return map->element[i + 1];
    return NULL;
}

static bool has_word(const redisReply *list, const char *word) {
    if (!list || list->type != REDIS_REPLY_ARRAY) return false;
    for (size_t i = 0; i < list->elements; i++)
        if (list->element[i]->str && !strcasecmp(list->element[i]->str, word)) return true;
    return false;
}

Test(commands, command_info_shows_doc_get_readonly_with_a_read_key_spec) {
    redisReply *r = cmd(c, "COMMAND INFO doc.get doc.set");
    char got[4096];
    reply_describe(r, got, sizeof got);
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 2, "got %s", got);

    const redisReply *get = r->element[0];
    cr_assert(get->type == REDIS_REPLY_ARRAY && get->elements >= 9, "got %s", got);
    cr_assert_str_eq(get->element[0]->str, "doc.get");
    cr_assert_eq(get->element[1]->integer, -2, "arity");
    cr_assert(has_word(get->element[2], "readonly"), "flags: %s", got);
    cr_assert(has_word(get->element[2], "fast"), "flags: %s", got);
    cr_assert(!has_word(get->element[2], "write"), "flags: %s", got);
    cr_assert_eq(get->element[3]->integer, 1, "first key");
    const redisReply *specs = get->element[8];
    cr_assert(specs->type == REDIS_REPLY_ARRAY && specs->elements == 1, "key specs: %s", got);
    const redisReply *flags = map_get(specs->element[0], "flags");
    cr_assert(has_word(flags, "RO") && !has_word(flags, "RW"), "key spec flags: %s", got);
    const redisReply *bs = map_get(specs->element[0], "begin_search");
    cr_assert_str_eq(map_get(bs, "type")->str, "index");
    cr_assert_eq(map_get(map_get(bs, "spec"), "index")->integer, 1);

    const redisReply *set = r->element[1];
    cr_assert_str_eq(set->element[0]->str, "doc.set");
    cr_assert(has_word(set->element[2], "write") && has_word(set->element[2], "denyoom"), "doc.set flags: %s",
              got);
    cr_assert(!has_word(set->element[2], "readonly"), "doc.set flags: %s", got);
    const redisReply *sflags = map_get(set->element[8]->element[0], "flags");
    cr_assert(has_word(sflags, "RW"), "doc.set key spec flags: %s", got);
    freeReplyObject(r);
}

Test(commands, key_specs_find_every_key_of_mset_and_mget) {
    expect_array(cmd(c, "COMMAND GETKEYS DOC.MGET a b c $.x"), "a", "b", "c");
    expect_array(cmd(c, "COMMAND GETKEYS DOC.MSET a $ 1 b $.x 2 c $ 3"), "a", "b", "c");
    expect_array(cmd(c, "COMMAND GETKEYS DOC.GET a WITHVERSION $.x $.y"), "a");
}

Test(commands, acl_read_only_key_pattern_allows_reads_and_refuses_writes_and_other_keys) {
    expect_ok(cmd(c, "DOC.SET doc:1 $ %s", "{\"owner\":\"ann\"}"));
    expect_ok(cmd(c, "DOC.SET other:1 $ %s", "{\"secret\":1}"));
    expect_ok(cmd(c, "ACL SETUSER reader on nopass %%R~doc:* +@all"));

    redisContext *reader = srv_connect(s);
    expect_ok(cmd(reader, "AUTH reader anything"));
    expect_str(cmd(reader, "DOC.GET doc:1"), "{\"owner\":\"ann\"}");
    expect_str(cmd(reader, "DOC.GET doc:1 $.owner"), "\"ann\"");
    expect_int(cmd(reader, "DOC.VERSION doc:1"), 1);
    expect_status(cmd(reader, "DOC.TYPE doc:1"), "object");
    expect_err_prefix(cmd(reader, "DOC.SET doc:1 $.owner %s", "\"eve\""), "NOPERM");
    expect_err_prefix(cmd(reader, "DOC.DEL doc:1"), "NOPERM");
    expect_err_prefix(cmd(reader, "DOC.MSET doc:1 $.x %s", "1"), "NOPERM");
    expect_err_prefix(cmd(reader, "DOC.GET other:1"), "NOPERM");
    expect_err_prefix(cmd(reader, "DOC.MGET doc:1 other:1 $"), "NOPERM");
    redisFree(reader);

    expect_str(cmd(c, "DOC.GET doc:1"), "{\"owner\":\"ann\"}");
    expect_int(cmd(c, "DOC.VERSION doc:1"), 1);
}

Test(commands, acl_allowing_only_doc_get_refuses_the_other_commands) {
    expect_ok(cmd(c, "DOC.SET doc:1 $ %s", "[1]"));
    expect_ok(cmd(c, "ACL SETUSER getter on nopass ~* +doc.get"));
    redisContext *g = srv_connect(s);
    expect_ok(cmd(g, "AUTH getter x"));
    expect_str(cmd(g, "DOC.GET doc:1"), "[1]");
    expect_err_prefix(cmd(g, "DOC.SET doc:1 $ %s", "2"), "NOPERM");
    expect_err_prefix(cmd(g, "DOC.VERSION doc:1"), "NOPERM");
    redisFree(g);
    expect_str(cmd(c, "DOC.GET doc:1"), "[1]");
}
