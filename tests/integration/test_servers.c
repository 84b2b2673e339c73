/*
 * test_servers.c - what differs between the servers atomicdoc supports (Redis
 * 7.0 and 8.0, Valkey 8.0 and 8.1; make test runs this suite on each): COMMAND
 * DOCS, ACL categories with real ACL users, and RESP2/RESP3 replies read as raw
 * bytes. Where a server lacks a feature (Redis 7.0: no display_text, no module
 * ACL categories), the test asserts the documented fallback instead.
 *
 * RESP3 replies are read from a plain socket after HELLO 3: Debian's hiredis
 * 0.14 has no RESP3 reader, and raw bytes prove the exact reply type anyway.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "harness.h"

/* s: this suite's server; c: the default user's connection to it. */
SRV_SUITE(servers);

/* The server's redis_version as major * 100 + minor (Valkey 8 says 7.2.4). */
static int server_version(void) {
    char *v = srv_info_field(c, "server", "redis_version");
    cr_assert(v, "INFO server has no redis_version");
    int major = 0, minor = 0;
    sscanf(v, "%d.%d", &major, &minor);
    free(v);
    return major * 100 + minor;
}

/* Servers from 7.2 on read display_text and take module ACL categories. */
static int has_acl_categories(void) { return server_version() >= 702; }

/* Valkey's own version as major * 100 + minor, or 0 on Redis. */
static int valkey_version(void) {
    char *v = srv_info_field(c, "server", "valkey_version");
    int major = 0, minor = 0;
    if (v) sscanf(v, "%d.%d", &major, &minor);
    free(v);
    return major * 100 + minor;
}

/* ---- raw RESP -------------------------------------------------------------- */

/* Length of the first complete reply in buf[0..len), or 0 while incomplete. */
static size_t resp_end(const char *buf, size_t len) {
    const char *nl = memchr(buf, '\n', len);
    if (!nl || len < 3) return 0;
    size_t head = (size_t)(nl - buf) + 1;
    long long n = atoll(buf + 1);
    switch (buf[0]) {
    case '$':
    case '!':
    case '=':
        if (n < 0) return head;
        return len >= head + (size_t)n + 2 ? head + (size_t)n + 2 : 0;
    case '*':
    case '~':
    case '>':
    case '%': {
        size_t at = head;
        long long items = buf[0] == '%' ? 2 * n : n;
        for (long long i = 0; i < items; i++) {
            size_t one = resp_end(buf + at, len - at);
            if (!one) return 0;
            at += one;
        }
        return at;
    }
    default: /* + - : , # _ ( : one line */ return head;
    }
}

/* A raw connection to s speaking protocol `proto` (2 or 3). */
static int raw_connect(int proto) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0, "connect to port %d", s->port);
    if (proto == 3) {
        const char hello[] = "*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n";
        cr_assert_eq(write(fd, hello, sizeof hello - 1), (ssize_t)(sizeof hello - 1));
        char buf[4096];
        size_t len = 0;
        while (!resp_end(buf, len)) {
            ssize_t got = read(fd, buf + len, sizeof buf - len);
            cr_assert_gt(got, 0, "no reply to HELLO 3");
            len += (size_t)got;
        }
        cr_assert_eq(buf[0], '%', "HELLO 3 replied %.40s", buf);
    }
    return fd;
}

/* Sends the words of `line` (split at spaces) as one command; returns the raw
 * reply, NUL-terminated, in buf. */
static const char *raw_cmd(int fd, const char *line, char *buf, size_t size) {
    char words[512], out[1024];
    snprintf(words, sizeof words, "%s", line);
    char *argv[32], *save = NULL;
    int argc = 0;
    for (char *w = strtok_r(words, " ", &save); w && argc < 32; w = strtok_r(NULL, " ", &save))
        argv[argc++] = w;
    int n = snprintf(out, sizeof out, "*%d\r\n", argc);
    for (int i = 0; i < argc; i++)
        n += snprintf(out + n, sizeof out - (size_t)n, "$%zu\r\n%s\r\n", strlen(argv[i]), argv[i]);
    cr_assert_eq(write(fd, out, (size_t)n), n);
    size_t len = 0;
    while (!resp_end(buf, len)) {
        ssize_t got = read(fd, buf + len, size - 1 - len);
        cr_assert_gt(got, 0, "no reply to %s", line);
        len += (size_t)got;
    }
    buf[len] = '\0';
    return buf;
}

#define expect_raw(fd, line, want)                                                        \
    do {                                                                                  \
        char raw_[4096];                                                                  \
        cr_assert_str_eq(raw_cmd((fd), (line), raw_, sizeof raw_), (want), "%s", (line)); \
    } while (0)

/* ---- RESP3 ------------------------------------------------------------------ */

static const char doc_json[] = "{\"d\":1.5,\"n\":1,\"b\":true,\"s\":\"x\"}";

static void set_doc(void) { expect_ok(cmd(c, "DOC.SET r $ %s", doc_json)); }

Test(servers, resp3_replies_a_double_result_as_a_double_and_an_int64_as_an_integer) {
    set_doc();
    int fd = raw_connect(3);
    expect_raw(fd, "DOC.INCR r $.d 1", ",2.5\r\n");
    expect_raw(fd, "DOC.MUL r $.d 3", ",7.5\r\n");
    expect_raw(fd, "DOC.INCR r $.n 41", ":42\r\n");
    expect_raw(fd, "DOC.MUL r $.n 2", ":84\r\n");
    expect_raw(fd, "DOC.INCR r $.d 1 MAX 5", "_\r\n"); /* out of bounds: RESP3 null */
    close(fd);
}

Test(servers, resp3_replies_toggle_as_a_boolean) {
    set_doc();
    int fd = raw_connect(3);
    expect_raw(fd, "DOC.TOGGLE r $.b", "#f\r\n");
    expect_raw(fd, "DOC.TOGGLE r $.b", "#t\r\n");
    close(fd);
    expect_str(cmd(c, "DOC.GET r $.b"), "true");
}

Test(servers, resp3_txn_results_use_the_same_types_as_the_commands) {
    set_doc();
    int fd = raw_connect(3);
    expect_raw(fd, "DOC.TXN 1 r INCR 1 $.d 0.5 TOGGLE 1 $.b INCR 1 $.n 1 GET 1 $.s",
               "*4\r\n,2\r\n#f\r\n:2\r\n$3\r\n\"x\"\r\n");
    expect_raw(fd, "DOC.GET nosuchkey", "_\r\n");
    expect_raw(fd, "DOC.TYPE r $.d", "+number\r\n");
    close(fd);
}

Test(servers, resp2_replies_doubles_and_booleans_as_json_text_byte_for_byte) {
    set_doc();
    int fd = raw_connect(2);
    expect_raw(fd, "DOC.INCR r $.d 1", "$3\r\n2.5\r\n");
    expect_raw(fd, "DOC.MUL r $.d 0.5", "$4\r\n1.25\r\n");
    expect_raw(fd, "DOC.INCR r $.d 0.75", "$3\r\n2.0\r\n"); /* a double stays a double */
    expect_raw(fd, "DOC.INCR r $.n 1", ":2\r\n");
    expect_raw(fd, "DOC.TOGGLE r $.b", "$5\r\nfalse\r\n");
    expect_raw(fd, "DOC.TXN 1 r TOGGLE 1 $.b INCR 1 $.d 1", "*2\r\n$4\r\ntrue\r\n$3\r\n3.0\r\n");
    expect_raw(fd, "DOC.GET nosuchkey", "$-1\r\n");
    close(fd);
}

/* ---- COMMAND DOCS ---------------------------------------------------------- */

/* The value of `field` in a flat map reply (RESP2 COMMAND DOCS), or NULL. */
static redisReply *field_of(const redisReply *map, const char *field) {
    for (size_t i = 0; i + 1 < map->elements; i += 2)
        if (map->element[i]->type == REDIS_REPLY_STRING && !strcmp(map->element[i]->str, field))
            return map->element[i + 1];
    return NULL;
}

/* Checks every argument (and sub-argument) of `args`; counts those that are
 * not groups (oneof, block) and those of them with a display_text. */
static void check_args(const char *command, const redisReply *args, int *shown, int *total) {
    for (size_t i = 0; i < args->elements; i++) {
        const redisReply *a = args->element[i];
        redisReply *name = field_of(a, "name"), *shownas = field_of(a, "display_text");
        redisReply *type = field_of(a, "type");
        cr_assert(name && type, "%s: an argument without a name or type", command);
        if (strcmp(type->str, "oneof") && strcmp(type->str, "block")) (*total)++;
        if (shownas) {
            (*shown)++;
            cr_assert_str_eq(shownas->str, name->str, "%s: argument %s shows as %s", command, name->str,
                             shownas->str);
        }
        redisReply *sub = field_of(a, "arguments");
        if (sub) check_args(command, sub, shown, total);
    }
}

Test(servers, command_docs_shows_every_argument_under_its_own_name) {
    int newer = has_acl_categories();
    redisReply *r = cmd(c, "COMMAND DOCS doc.set doc.get doc.mset doc.incr doc.push doc.pop doc.pull "
                           "doc.update doc.txn doc.cas doc.toggle");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 22, "11 commands, name and docs each");
    int shown = 0, total = 0;
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        redisReply *args = field_of(r->element[i + 1], "arguments");
        cr_assert(args, "%s has no arguments in COMMAND DOCS", r->element[i]->str);
        check_args(r->element[i]->str, args, &shown, &total);
    }
    cr_assert_gt(total, 40);
    if (newer)
        cr_assert_eq(shown, total, "every argument has its display_text (%d of %d)", shown, total);
    else
        cr_assert_eq(shown, 0, "Redis 7.0 has no display_text");
    freeReplyObject(r);

    /* The arguments DOC.GET's hints come from, in order. */
    r = cmd(c, "COMMAND DOCS doc.get");
    redisReply *args = field_of(r->element[1], "arguments");
    cr_assert_eq(args->elements, 3);
    cr_assert_str_eq(field_of(args->element[0], "name")->str, "key");
    cr_assert_str_eq(field_of(args->element[1], "token")->str, "WITHVERSION");
    cr_assert_str_eq(field_of(args->element[2], "name")->str, "path");
    freeReplyObject(r);

    /* Writes say that their path may be a query (README "Writes at query paths"). */
    r = cmd(c, "COMMAND DOCS doc.incr doc.del doc.cas doc.set");
    cr_assert_eq(r->elements, 8);
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        redisReply *summary = field_of(r->element[i + 1], "summary");
        cr_assert(summary && strstr(summary->str, "RFC 9535 query path writes every match"),
                  "%s: summary does not mention query paths", r->element[i]->str);
    }
    freeReplyObject(r);
}

/* ---- ACL categories -------------------------------------------------------- */

/* A connection as a new ACL user allowed every key and `rule` (one word). */
static redisContext *as_user(const char *user, const char *rules) {
    expect_ok(cmd(c, "ACL SETUSER %s reset on >pw ~* %s", user, rules));
    redisContext *u = srv_connect(s);
    expect_ok(cmd(u, "AUTH %s pw", user));
    return u;
}

/* The categories COMMAND INFO lists for `command`, as one space-separated string. */
static void categories_of(const char *command, char *out, size_t len) {
    redisReply *r = cmd(c, "COMMAND INFO %s", command);
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->element[0]->type, REDIS_REPLY_ARRAY, "%s is unknown", command);
    const redisReply *cats = r->element[0]->element[6];
    out[0] = '\0';
    for (size_t i = 0; i < cats->elements; i++) {
        strncat(out, cats->element[i]->str, len - strlen(out) - 2);
        strcat(out, " ");
    }
    freeReplyObject(r);
}

Test(servers, every_command_is_in_read_or_write_fast_or_slow_and_atomicdoc) {
    static const struct {
        const char *command, *want;
    } rows[] = {
        {"doc.get", "@read @fast @atomicdoc "},     {"doc.mget", "@read @slow @atomicdoc "},
        {"doc.version", "@read @fast @atomicdoc "}, {"doc.indexof", "@read @fast @atomicdoc "},
        {"doc.set", "@write @slow @atomicdoc "},    {"doc.incr", "@write @fast @atomicdoc "},
        {"doc.toggle", "@write @fast @atomicdoc "}, {"doc.del", "@write @slow @atomicdoc "},
        {"doc.txn", "@write @slow @atomicdoc "},    {"doc.update", "@write @slow @atomicdoc "},
    };
    int newer = has_acl_categories();
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char got[256];
        categories_of(rows[i].command, got, sizeof got);
        cr_assert_str_eq(got, newer ? rows[i].want : "", "%s", rows[i].command);
    }
    /* Every command of the module, counted through the category itself.
     * Valkey 8.0's ACL CAT lists no module command in any category (the
     * categories themselves work: see the next test). */
    redisReply *r = cmd(c, "ACL CAT atomicdoc");
    if (newer) {
        redisReply *all = cmd(c, "COMMAND LIST FILTERBY MODULE atomicdoc");
        cr_assert_eq(all->type, REDIS_REPLY_ARRAY);
        size_t want = valkey_version() == 800 ? 0 : all->elements; /* DOC.* and JSON.* */
        cr_assert_geq(all->elements, 26);
        freeReplyObject(all);
        cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
        cr_assert_eq(r->elements, want, "ACL CAT atomicdoc lists %zu commands", r->elements);
    } else {
        cr_assert_eq(r->type, REDIS_REPLY_ERROR, "Redis 7.0 has no module categories");
    }
    freeReplyObject(r);
}

/* RedisJSON's commands are in @json (its redis_json/src/commands.rs:
 * acl_categories [Read|Write, Single("json")]); ours too, besides the others,
 * where a module can add a category (Redis 7.4+, Valkey 8). */
Test(servers, json_commands_are_in_the_json_category_too) {
    static const struct {
        const char *command, *want;
    } rows[] = {
        {"json.get", "@read @slow @atomicdoc @json "},   {"json.set", "@write @slow @atomicdoc @json "},
        {"json.mget", "@read @slow @atomicdoc @json "},  {"json.numincrby", "@write @slow @atomicdoc @json "},
        {"json.debug", "@read @slow @atomicdoc @json "}, {"json.toggle", "@write @slow @atomicdoc @json "},
        {"doc.get", "@read @fast @atomicdoc "},
    };
    int newer = has_acl_categories();
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char got[256];
        categories_of(rows[i].command, got, sizeof got);
        cr_assert_str_eq(got, newer ? rows[i].want : "", "%s", rows[i].command);
    }
    redisReply *r = cmd(c, "ACL CAT json");
    if (newer) {
        /* Valkey 8.0's ACL CAT lists no module command (see above). */
        cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
        cr_assert_eq(r->elements, valkey_version() == 800 ? 0 : 24, "ACL CAT json lists %zu commands",
                     r->elements);
        for (size_t i = 0; i < r->elements; i++)
            cr_expect(strncmp(r->element[i]->str, "json.", 5) == 0, "%s in @json", r->element[i]->str);
        freeReplyObject(r);
        expect_ok(cmd(c, "JSON.SET acl:j $ %s", "{\"n\":1}"));
        redisContext *j = as_user("jsonuser", "+@json");
        expect_str(cmd(j, "JSON.NUMINCRBY acl:j $.n 1"), "[2]");
        expect_str(cmd(j, "JSON.GET acl:j .n"), "2");
        expect_err_prefix(cmd(j, "DOC.GET acl:j"), "NOPERM"); /* DOC.* are not in @json */
        expect_err_prefix(cmd(j, "GET plain"), "NOPERM");
        redisFree(j);
    } else {
        cr_assert_eq(r->type, REDIS_REPLY_ERROR, "Redis 7.0: ACL CAT json is an unknown category");
        freeReplyObject(r);
        r = cmd(c, "ACL SETUSER jsonuser on nopass +@json");
        cr_assert_eq(r->type, REDIS_REPLY_ERROR, "Redis 7.0: no @json category");
        freeReplyObject(r);
    }
}

Test(servers, acl_users_reach_the_commands_their_categories_allow) {
    expect_ok(cmd(c, "DOC.SET acl:1 $ %s", "{\"n\":1}"));
    redisContext *reader = as_user("reader", "+@read");
    redisContext *writer = as_user("writer", "+@write");
    redisContext *fast = as_user("fast", "+@fast");
    if (has_acl_categories()) {
        redisContext *owner = as_user("owner", "+@atomicdoc");
        expect_str(cmd(reader, "DOC.GET acl:1 $.n"), "1");
        expect_err_prefix(cmd(reader, "DOC.INCR acl:1 $.n 1"), "NOPERM");
        expect_int(cmd(writer, "DOC.INCR acl:1 $.n 1"), 2);
        expect_err_prefix(cmd(writer, "DOC.GET acl:1"), "NOPERM");
        expect_int(cmd(fast, "DOC.INCR acl:1 $.n 1"), 3);
        expect_err_prefix(cmd(fast, "DOC.MGET acl:1 $.n"), "NOPERM"); /* @slow */
        expect_int(cmd(owner, "DOC.INCR acl:1 $.n 1"), 4);
        expect_str(cmd(owner, "DOC.GET acl:1 $.n"), "4");
        expect_err_prefix(cmd(owner, "GET plain"), "NOPERM"); /* only our commands */
        redisFree(owner);
    } else {
        /* Redis 7.0: module commands are in no category; name them instead. */
        expect_err_prefix(cmd(reader, "DOC.GET acl:1 $.n"), "NOPERM");
        expect_err_prefix(cmd(writer, "DOC.INCR acl:1 $.n 1"), "NOPERM");
        expect_ok(cmd(c, "ACL SETUSER reader +doc.get"));
        expect_str(cmd(reader, "DOC.GET acl:1 $.n"), "1");
    }
    redisFree(reader);
    redisFree(writer);
    redisFree(fast);
}
