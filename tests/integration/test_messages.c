/* test_messages.c - the mistakes a new user makes get an error that says how to fix
 * them (issue 10, section 5): a bare word where JSON goes, a RedisJSON-style path
 * with brackets in dot style, a keyword in the wrong place, a malformed DOC.TXN, a
 * wrong POP position, WHERE on DOC.UPDATE. And every error reply starts with its own
 * code word, counted in INFO atomicdoc's errors_<code>: an application that uses
 * redis-py (which strips a leading "ERR ") can branch on all of them. The one
 * exception is Redis's own arity error, which Redis itself replies with ERR.
 *
 * Each mistake is also checked to have changed nothing.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

SRV_SUITE(messages);

/* The reply is an error with exactly this text. */
static void expect_error_text(redisReply *r, const char *text, const char *what) {
    char got[600];
    reply_describe(r, got, sizeof got);
    bool ok = r->type == REDIS_REPLY_ERROR && !strcmp(r->str, text);
    freeReplyObject(r);
    cr_expect(ok, "%s: expected error \"%s\", got %s", what, text, got);
}

/* The reply is an error whose text contains `part`, starting with `code` + ' '. */
static void expect_error_with(redisReply *r, const char *code, const char *part, const char *what) {
    char got[600];
    reply_describe(r, got, sizeof got);
    size_t n = strlen(code);
    bool ok = r->type == REDIS_REPLY_ERROR && !strncmp(r->str, code, n) && r->str[n] == ' ' &&
              (!part || strstr(r->str, part));
    freeReplyObject(r);
    cr_expect(ok, "%s: expected error %s ... %s, got %s", what, code, part ? part : "", got);
}

Test(messages, a_bare_word_value_is_badjson_with_a_hint_to_quote_it) {
    expect_error_text(cmd(c, "DOC.SET k $.name Ada"),
                      "BADJSON unexpected character 'A' (values are JSON: a string is '\"Ada\"') at byte 0",
                      "DOC.SET k $.name Ada");
    expect_nil(cmd(c, "DOC.GET k"));
    expect_error_with(cmd(c, "DOC.PUSH k $.tags admin"), "BADJSON", "a string is '\"admin\"'",
                      "DOC.PUSH bare word");
    /* a word that cannot be quoted as is still gets the rule */
    expect_error_with(cmd(c, "DOC.SET k $.q %s", "it's"), "BADJSON", "strings go in double quotes) at byte 0",
                      "quote inside");
    /* JSON that is merely malformed gets no hint: the offset names the culprit */
    expect_error_text(cmd(c, "DOC.SET k $ %s", "{\"a\":/}"), "BADJSON unexpected character '/' at byte 5",
                      "{\"a\":/}");
    expect_ok(cmd(c, "DOC.SET k $.name %s", "\"Ada\""));
}

Test(messages, dot_style_brackets_and_quotes_are_badpath_with_the_jsonpath_spelling) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"b\":[1,2],\"items\":[{\"x\":1}]}"));
    expect_error_text(cmd(c, "DOC.SET k .b[1] 99"),
                      "BADPATH '[' in a dot-style path: indexes need JSONPath, e.g. $.b[1] at character 2",
                      "DOC.SET k .b[1] 99");
    expect_error_text(
        cmd(c, "DOC.DEL k items[0]"),
        "BADPATH '[' in a dot-style path: indexes need JSONPath, e.g. $.items[0] at character 5",
        "DOC.DEL k items[0]");
    expect_error_with(cmd(c, "DOC.GET k %s", "a[\"q\"]"), "BADPATH", "at character 1", "quotes");
    expect_error_with(cmd(c, "DOC.GET k %s", "a]"), "BADPATH", "$[\"name\"]", "closing bracket");
    expect_str(cmd(c, "DOC.GET k"), "{\"b\":[1,2],\"items\":[{\"x\":1}]}");
    /* the hint works, and a name holding brackets is reached through JSONPath */
    expect_ok(cmd(c, "DOC.SET k $.b[1] 99"));
    expect_ok(cmd(c, "DOC.SET k %s 7", "$[\"b[1]\"]"));
    expect_str(cmd(c, "DOC.GET k"), "{\"b\":[1,99],\"items\":[{\"x\":1}],\"b[1]\":7}");
}

Test(messages, a_keyword_in_the_wrong_place_is_a_syntax_error_naming_the_order) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"a\":1,\"l\":[]}"));
    expect_error_text(cmd(c, "DOC.GET k $.a WITHVERSION"),
                      "SYNTAX WITHVERSION goes right after the key: DOC.GET key [WITHVERSION] [path ...]",
                      "DOC.GET k $.a WITHVERSION");
    /* a member of that name is still reachable */
    expect_nil(cmd(c, "DOC.GET k $.WITHVERSION"));
    expect_error_with(cmd(c, "DOC.PUSH k $.l 1 AT 0"), "SYNTAX",
                      "AT goes before the values: DOC.PUSH key path [AT i] [KEEP n] json", "PUSH ... AT");
    expect_error_with(cmd(c, "DOC.SET k NX $ 1"), "SYNTAX", "NX goes after the path and the JSON",
                      "SET k NX");
    expect_error_with(cmd(c, "DOC.UPDATE k IF %s %s", "{}", "{\"$set\":{\"a\":2}}"), "SYNTAX",
                      "IF goes after the update document", "UPDATE k IF");
    expect_error_with(cmd(c, "DOC.PULL k $.l 1 WHERE %s", "{}"), "SYNTAX", "WHERE goes right after the path",
                      "PULL values WHERE");
    expect_error_text(cmd(c, "DOC.POP k $.l MIDDLE"),
                      "SYNTAX POP takes FIRST|LAST|index, not 'MIDDLE': DOC.POP key path [FIRST|LAST|index]",
                      "DOC.POP MIDDLE");
    expect_error_with(cmd(c, "DOC.UPDATE k %s WHERE %s", "{\"$set\":{\"a\":2}}", "{}"), "SYNTAX",
                      "DOC.UPDATE takes its filter after IF, not WHERE", "UPDATE ... WHERE");
    redisReply *r = cmd(c, "DOC.GET k WITHVERSION");
    cr_expect(r->type == REDIS_REPLY_ARRAY && r->element[0]->integer == 1 &&
                  !strcmp(r->element[1]->str, "{\"a\":1,\"l\":[]}"),
              "the mistakes changed the document");
    freeReplyObject(r);
}

Test(messages, a_malformed_txn_names_the_op_being_parsed_and_what_was_expected) {
    expect_error_text(cmd(c, "DOC.TXN 1 k PUSH 1 $.l 1 2"),
                      "ABORTED op 2: SYNTAX expected an op name after op 1, got '2'; op 1 was "
                      "PUSH k path [AT i] [KEEP n] json (one value inside DOC.TXN)",
                      "PUSH with two values");
    expect_error_text(
        cmd(c, "DOC.TXN 2 k GET 1 $"),
        "ABORTED op 1: SYNTAX expected an op name after the 2 keys, got '1'; 'GET' was read as a "
        "key: is numkeys right?",
        "numkeys one too many");
    expect_error_text(cmd(c, "DOC.TXN 1 a b GET 1 $"),
                      "ABORTED op 1: SYNTAX expected an op name after the 1 keys, got 'b': is numkeys right?",
                      "numkeys one too few");
    expect_error_text(cmd(c, "DOC.TXN 1 k GET 2 $"),
                      "ABORTED op 1: SYNTAX GET needs a key position between 1 and 1, got '2': "
                      "GET k [WITHVERSION] path (one path inside DOC.TXN)",
                      "key position out of range");
    expect_error_with(cmd(c, "DOC.TXN 1 k SET 1 $"), "ABORTED op 1: SYNTAX",
                      "SET is missing arguments: SET k path json", "SET without a value");
    expect_error_with(cmd(c, "DOC.TXN 0 k GET 1 $"), "SYNTAX", "numkeys must be between 1", "numkeys 0");
    expect_error_with(cmd(c, "DOC.TXN 2 k j"), "SYNTAX", "needs at least one op", "no op");
    expect_nil(cmd(c, "DOC.GET k"));
    /* GET's WITHVERSION inside a TXN goes before its one path */
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"a\":1}"));
    redisReply *r = cmd(c, "DOC.TXN 1 k GET 1 WITHVERSION $.a");
    cr_expect(r->type == REDIS_REPLY_ARRAY && r->elements == 1 && r->element[0]->type == REDIS_REPLY_ARRAY &&
                  r->element[0]->element[0]->integer == 1 && !strcmp(r->element[0]->element[1]->str, "1"),
              "TXN GET WITHVERSION path");
    freeReplyObject(r);
}

/* MIN / MAX after an INCR are its bounds only when a number and then the end or a
 * well-formed op (a name and a valid key position) follow. */
Test(messages, txn_incr_bounds_are_told_from_min_and_max_ops_by_what_follows) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"n\":5}"));
    /* GET 3 is no op with one key: MIN 1 GET 3 is a MIN op on the member "GET" */
    redisReply *r = cmd(c, "DOC.TXN 1 k INCR 1 $.n 1 MIN 1 GET 3");
    char got[256];
    reply_describe(r, got, sizeof got);
    cr_expect(r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[0]->integer == 6 &&
                  r->element[1]->type == REDIS_REPLY_STRING && !strcmp(r->element[1]->str, "3"),
              "INCR then MIN op: %s", got);
    freeReplyObject(r);
    expect_str(cmd(c, "DOC.GET k"), "{\"n\":6,\"GET\":3}");
    /* a valid op follows: the bound */
    r = cmd(c, "DOC.TXN 1 k INCR 1 $.n -10 MIN 0 GET 1 $.n");
    reply_describe(r, got, sizeof got);
    cr_expect(r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[0]->type == REDIS_REPLY_NIL &&
                  !strcmp(r->element[1]->str, "6"),
              "INCR with MIN bound, then GET: %s", got);
    freeReplyObject(r);
    /* the end follows: the bound */
    r = cmd(c, "DOC.TXN 1 k INCR 1 $.n 1 MAX 6");
    reply_describe(r, got, sizeof got);
    cr_expect(r->type == REDIS_REPLY_ARRAY && r->elements == 1 && r->element[0]->type == REDIS_REPLY_NIL,
              "INCR with MAX bound at the end: %s", got);
    freeReplyObject(r);
    /* not a number: a MIN op */
    r = cmd(c, "DOC.TXN 1 k INCR 1 $.n 1 MIN 1 $.low 3");
    reply_describe(r, got, sizeof got);
    cr_expect(r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[0]->integer == 7, "%s", got);
    freeReplyObject(r);
    expect_str(cmd(c, "DOC.GET k"), "{\"n\":7,\"GET\":3,\"low\":3}");
}

/* One command per code word a client can cause; each reply must start with it, and
 * INFO's errors_<code> must count it. */
static const struct {
    const char *code;     /* the first word */
    const char *argv[10]; /* the command, NULL-terminated */
} coded[] = {
    {"SYNTAX", {"DOC.SET", "k", "$", "1", "MAYBE"}},
    {"SYNTAX", {"DOC.SET", "k", "$", "1", "EX", "0"}},
    {"SYNTAX", {"DOC.INCR", "k", "$.n", "one"}},
    {"SYNTAX", {"DOC.PUSH", "k", "$.l", "AT", "x", "1"}},
    {"SYNTAX", {"DOC.TXN", "x", "k", "GET", "1", "$"}},
    {"SYNTAX", {"DOC.AOFLOAD", "k", "1", "$", "1"}},
    {"BADJSON", {"DOC.SET", "k", "$", "{"}},
    {"BADPATH", {"DOC.SET", "k", "$.a.0", "1"}},
    {"NOPATH", {"DOC.TOGGLE", "doc", "$.nothing"}},
    {"BADTYPE", {"DOC.INCR", "doc", "$.s", "1"}},
    {"OVERFLOW", {"DOC.INCR", "doc", "$.big", "1"}},
    {"TOODEEP",
     {"DOC.SET", "k", "$",
      "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
      "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}},
    {"BADFILTER", {"DOC.PULL", "doc", "$.l", "WHERE", "{\"$frob\":1}"}},
    {"BADUPDATE", {"DOC.UPDATE", "doc", "{\"$frob\":{\"a\":1}}"}},
    {"BADUPDATE", {"DOC.UPDATE", "doc", "{\"$set\":{\"a\":1},\"$inc\":{\"a\":1}}"}},
    {"ABORTED", {"DOC.TXN", "1", "doc", "CHECK", "1", "$.s", "EQ", "1"}},
    {"WRONGTYPE", {"DOC.GET", "str"}},
    {"TOOBIG",
     {"DOC.SET", "doc", "$.big",
      "\"more than the 1kb max-document-size the test sets ..............."
      "..............................................................."
      "..............................................................."
      "..............................................................."
      "..............................................................."
      "..............................................................."
      "..............................................................."
      "..............................................................."
      "..............................................................."
      "..............................................................."
      "..............................................................."
      "..............................................................."
      "..............................................................."
      "..............................................................."
      "..............................................................."
      "..............................................................."
      "...............................................................\""}},
    {"ABORTED", {"DOC.TXN", "1", "doc", "GET", "1", "$", "GET", "1", "$"}}, /* max-txn-ops 1 */
};

Test(messages, every_error_a_user_can_cause_starts_with_its_own_code_word_and_is_counted) {
    expect_ok(cmd(c, "DOC.SET doc $ %s", "{\"s\":\"x\",\"big\":9223372036854775807,\"l\":[]}"));
    expect_ok(cmd(c, "SET str plain"));
    expect_ok(cmd(c, "CONFIG SET atomicdoc.max-txn-ops 1"));
    expect_ok(cmd(c, "CONFIG SET atomicdoc.max-document-size 1kb"));
    for (size_t i = 0; i < sizeof coded / sizeof coded[0]; i++) {
        int argc = 0;
        while (coded[i].argv[argc]) argc++;
        char field[64];
        snprintf(field, sizeof field, "atomicdoc_errors_%s", coded[i].code);
        for (char *p = field; *p; p++) *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        long long before = srv_info_int(c, "atomicdoc", field);
        redisReply *r = cmdv(c, argc, (const char **)coded[i].argv, NULL);
        char got[300];
        reply_describe(r, got, sizeof got);
        size_t n = strlen(coded[i].code);
        cr_expect(r->type == REDIS_REPLY_ERROR && !strncmp(r->str, coded[i].code, n) && r->str[n] == ' ',
                  "row %zu (%s %s): expected %s ..., got %s", i, coded[i].argv[0], coded[i].argv[1],
                  coded[i].code, got);
        freeReplyObject(r);
        cr_expect_eq(srv_info_int(c, "atomicdoc", field), before + 1, "row %zu: %s did not count it", i,
                     field);
    }
    /* Redis's own arity error keeps ERR, ours included, and is counted as errors_err */
    long long before = srv_info_int(c, "atomicdoc", "atomicdoc_errors_err");
    expect_error_text(cmd(c, "DOC.DEL doc $.s $.l"), "ERR wrong number of arguments for 'doc.del' command",
                      "too many arguments");
    cr_expect_eq(srv_info_int(c, "atomicdoc", "atomicdoc_errors_err"), before + 1, "errors_err");
    expect_err_prefix(cmd(c, "DOC.MUL doc $.n"), "ERR"); /* Redis itself, before the module */
}
