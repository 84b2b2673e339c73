/*
 * test_json.c - RedisJSON's JSON.* commands on atomicdoc: RedisJSON's
 * documented examples with their documented replies (RESP2), the RESP3
 * shapes, both path dialects, multi-match writes that are all or nothing,
 * one document type for JSON.* and DOC.* (versions, replication), keyspace
 * events, and turning the commands off.
 *
 * Rows are commands with arguments split at '|' and the expected reply
 * written compactly: +OK status, "text" bulk or verbatim, :3 integer,
 * ,2.5 double, nil, [a,b] array (maps as [k,v,...]), -ERR... an error
 * (prefix match).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

/* ---- compact reply descriptions ---- */

static void describe(const redisReply *r, char *out, size_t cap, size_t *used) {
#define PUT(...) (*used += (size_t)snprintf(out + *used, *used < cap ? cap - *used : 0, __VA_ARGS__))
    if (*used >= cap) return;
    switch (r->type) {
    case REDIS_REPLY_STATUS: PUT("+%s", r->str); break;
    case REDIS_REPLY_ERROR: PUT("-%s", r->str); break;
    case REDIS_REPLY_INTEGER: PUT(":%lld", r->integer); break;
    case REDIS_REPLY_NIL: PUT("nil"); break;
    case REDIS_REPLY_STRING: PUT("\"%.*s\"", (int)r->len, r->str); break;
    case REDIS_REPLY_ARRAY:
        PUT("[");
        for (size_t i = 0; i < r->elements; i++) {
            if (i) PUT(",");
            describe(r->element[i], out, cap, used);
        }
        PUT("]");
        break;
    default: PUT("?%d", r->type);
    }
#undef PUT
}

/* Runs a '|'-separated command and checks its description. */
static void run_row(redisContext *c, const char *command, const char *want, int line) {
    char buf[2048];
    snprintf(buf, sizeof buf, "%s", command);
    const char *argv[32];
    size_t lens[32];
    int argc = 0;
    for (char *p = buf, *tok; (tok = strsep(&p, "|")) && argc < 32; argc++) {
        argv[argc] = tok;
        lens[argc] = strlen(tok);
    }
    redisReply *r = cmdv(c, argc, argv, lens);
    char got[4096];
    size_t used = 0;
    got[0] = '\0';
    describe(r, got, sizeof got, &used);
    freeReplyObject(r);
    if (want[0] == '-')
        cr_expect(strncmp(got, want, strlen(want)) == 0, "row at line %d: %s\n  want %s\n  got  %s", line,
                  command, want, got);
    else
        cr_expect_str_eq(got, want, "row at line %d: %s\n  want %s\n  got  %s", line, command, want, got);
}

typedef struct row {
    const char *command; /* '|'-separated */
    const char *reply;   /* compact description */
    int line;            /* where the row is */
} row;
#define ROW(cmd, reply) \
    { cmd, reply, __LINE__ }

static void run_rows(redisContext *c, const row *rows, size_t n) {
    for (size_t i = 0; i < n; i++) run_row(c, rows[i].command, rows[i].reply, rows[i].line);
}

/* ---- a raw RESP3 connection (Debian's hiredis 0.14 reads RESP2 only) ---- */

typedef struct resp3 {
    int fd;          /* TCP connection */
    char buf[65536]; /* read buffer */
    size_t len, pos; /* bytes in it, next to read */
} resp3;

static int r3_byte(resp3 *r) {
    if (r->pos == r->len) {
        ssize_t n = read(r->fd, r->buf, sizeof r->buf);
        cr_assert(n > 0, "RESP3 connection closed");
        r->len = (size_t)n;
        r->pos = 0;
    }
    return (unsigned char)r->buf[r->pos++];
}

/* One line without its CRLF. */
static void r3_line(resp3 *r, char *out, size_t cap) {
    size_t n = 0;
    for (int ch; (ch = r3_byte(r)) != '\r';)
        if (n + 1 < cap) out[n++] = (char)ch;
    out[n] = '\0';
    r3_byte(r); /* \n */
}

/* Reads one reply, describing it as describe() does (maps as arrays). */
static void r3_read(resp3 *r, char *out, size_t cap, size_t *used) {
#define PUT(...) (*used += (size_t)snprintf(out + *used, *used < cap ? cap - *used : 0, __VA_ARGS__))
    int type = r3_byte(r);
    char line[4096];
    r3_line(r, line, sizeof line);
    long long n = atoll(line);
    switch (type) {
    case '+': PUT("+%s", line); break;
    case '-': PUT("-%s", line); break;
    case ':': PUT(":%s", line); break;
    case ',': PUT(",%s", line); break;
    case '#': PUT("#%s", line); break;
    case '_': PUT("nil"); break;
    case '$':
    case '=':
        if (n < 0) {
            PUT("nil");
            break;
        }
        PUT("\"");
        for (long long i = 0; i < n; i++) {
            char ch = (char)r3_byte(r);
            if (*used + 1 < cap) out[(*used)++] = ch;
        }
        out[*used < cap ? *used : cap - 1] = '\0';
        PUT("\"");
        r3_byte(r), r3_byte(r);
        break;
    case '*':
    case '~':
    case '%':
        if (n < 0) {
            PUT("nil");
            break;
        }
        if (type == '%') n *= 2;
        PUT("[");
        for (long long i = 0; i < n; i++) {
            if (i) PUT(",");
            r3_read(r, out, cap, used);
        }
        PUT("]");
        break;
    default: PUT("?%c", type);
    }
#undef PUT
}

static void r3_send(resp3 *r, int argc, const char **argv) {
    char head[64];
    int hl = snprintf(head, sizeof head, "*%d\r\n", argc);
    cr_assert(write(r->fd, head, (size_t)hl) == hl);
    for (int i = 0; i < argc; i++) {
        size_t len = strlen(argv[i]);
        hl = snprintf(head, sizeof head, "$%zu\r\n", len);
        cr_assert(write(r->fd, head, (size_t)hl) == hl);
        cr_assert(write(r->fd, argv[i], len) == (ssize_t)len);
        cr_assert(write(r->fd, "\r\n", 2) == 2);
    }
}

static resp3 *r3_connect(int port) {
    resp3 *r = calloc(1, sizeof *r);
    r->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert(connect(r->fd, (struct sockaddr *)&a, sizeof a) == 0);
    const char *hello[] = {"HELLO", "3"};
    r3_send(r, 2, hello);
    char got[4096];
    size_t used = 0;
    r3_read(r, got, sizeof got, &used);
    cr_assert(strstr(got, "\"proto\",:3"), "HELLO 3: %s", got);
    return r;
}

static void r3_close(resp3 *r) {
    close(r->fd);
    free(r);
}

static void r3_row(resp3 *r, const char *command, const char *want, int line) {
    char buf[2048];
    snprintf(buf, sizeof buf, "%s", command);
    const char *argv[32];
    int argc = 0;
    for (char *p = buf, *tok; (tok = strsep(&p, "|")) && argc < 32;) argv[argc++] = tok;
    r3_send(r, argc, argv);
    char got[4096];
    size_t used = 0;
    got[0] = '\0';
    r3_read(r, got, sizeof got, &used);
    if (want[0] == '-')
        cr_expect(strncmp(got, want, strlen(want)) == 0, "RESP3 row at line %d: %s\n  want %s\n  got  %s",
                  line, command, want, got);
    else
        cr_expect_str_eq(got, want, "RESP3 row at line %d: %s\n  want %s\n  got  %s", line, command, want,
                         got);
}

static srv *s;
static redisContext *c;

static void start(void) {
    s = srv_start(NULL);
    c = srv_connect(s);
}

static void stop(void) {
    redisFree(c);
    srv_stop(s);
}

TestSuite(json, .init = start, .fini = stop);

/* RedisJSON's command reference examples (redis.io command pages), with the
 * replies documented there, as a RESP2 client (redis-cli) sees them. */
static const row documented[] = {
    /* JSON.SET */
    ROW("JSON.SET|doc|$|{\"a\":2}", "+OK"), ROW("JSON.SET|doc|$.a|3", "+OK"),
    ROW("JSON.GET|doc|$", "\"[{\"a\":3}]\""), ROW("JSON.SET|doc|$|{\"a\":2}", "+OK"),
    ROW("JSON.SET|doc|$.b|8", "+OK"), ROW("JSON.GET|doc|$", "\"[{\"a\":2,\"b\":8}]\""),
    ROW("JSON.SET|doc|$|{\"f1\": {\"a\":1}, \"f2\":{\"a\":2}}", "+OK"), ROW("JSON.SET|doc|$..a|3", "+OK"),
    ROW("JSON.GET|doc", "\"{\"f1\":{\"a\":3},\"f2\":{\"a\":3}}\""),
    /* JSON.GET */
    ROW("JSON.SET|doc|$|{\"a\":2, \"b\": 3, \"nested\": {\"a\": 4, \"b\": null}}", "+OK"),
    ROW("JSON.GET|doc|$..b", "\"[3,null]\""),
    ROW("JSON.GET|doc|..a|$..b", "\"{\"..a\":[2,4],\"$..b\":[3,null]}\""),
    /* JSON.DEL */
    ROW("JSON.SET|doc|$|{\"a\": 1, \"nested\": {\"a\": 2, \"b\": 3}}", "+OK"), ROW("JSON.DEL|doc|$..a", ":2"),
    ROW("JSON.GET|doc|$", "\"[{\"nested\":{\"b\":3}}]\""),
    /* JSON.MGET */
    ROW("JSON.SET|doc1|$|{\"a\":1, \"b\": 2, \"nested\": {\"a\": 3}, \"c\": null}", "+OK"),
    ROW("JSON.SET|doc2|$|{\"a\":4, \"b\": 5, \"nested\": {\"a\": 6}, \"c\": null}", "+OK"),
    ROW("JSON.MGET|doc1|doc2|$..a", "[\"[1,3]\",\"[4,6]\"]"),
    /* JSON.MSET */
    ROW("JSON.MSET|doc1|$|{\"a\":1}|doc2|$|{\"f\":{\"a\":2}}|doc3|$|{\"f1\":{\"a\":0},\"f2\":{\"a\":0}}",
        "+OK"),
    ROW("JSON.MSET|doc1|$|{\"a\":2}|doc2|$.f.a|3|doc3|$|{\"f1\":{\"a\":1},\"f2\":{\"a\":2}}", "+OK"),
    ROW("JSON.GET|doc1|$", "\"[{\"a\":2}]\""), ROW("JSON.GET|doc2|$", "\"[{\"f\":{\"a\":3}}]\""),
    ROW("JSON.GET|doc3", "\"{\"f1\":{\"a\":1},\"f2\":{\"a\":2}}\""),
    /* JSON.NUMINCRBY / JSON.NUMMULTBY */
    ROW("JSON.SET|doc|.|{\"a\":\"b\",\"b\":[{\"a\":2}, {\"a\":5}, {\"a\":\"c\"}]}", "+OK"),
    ROW("JSON.NUMINCRBY|doc|$.a|2", "\"[null]\""), ROW("JSON.NUMINCRBY|doc|$..a|2", "\"[null,4,7,null]\""),
    ROW("JSON.SET|doc|.|{\"a\":\"b\",\"b\":[{\"a\":2}, {\"a\":5}, {\"a\":\"c\"}]}", "+OK"),
    ROW("JSON.NUMMULTBY|doc|$.a|2", "\"[null]\""), ROW("JSON.NUMMULTBY|doc|$..a|2", "\"[null,4,10,null]\""),
    /* JSON.STRAPPEND / JSON.STRLEN */
    ROW("JSON.SET|doc|$|{\"a\":\"foo\", \"nested\": {\"a\": \"hello\"}, \"nested2\": {\"a\": 31}}", "+OK"),
    ROW("JSON.STRAPPEND|doc|$..a|\"baz\"", "[:6,:8,nil]"),
    ROW("JSON.GET|doc|$", "\"[{\"a\":\"foobaz\",\"nested\":{\"a\":\"hellobaz\"},\"nested2\":{\"a\":31}}]\""),
    ROW("JSON.SET|doc|$|{\"a\":\"foo\", \"nested\": {\"a\": \"hello\"}, \"nested2\": {\"a\": 31}}", "+OK"),
    ROW("JSON.STRLEN|doc|$..a", "[:3,:5,nil]"),
    /* JSON.ARRAPPEND / ARRINSERT / ARRINDEX / ARRLEN / ARRPOP / ARRTRIM */
    ROW("JSON.SET|item:1|$|{\"name\":\"Noise-cancelling Bluetooth "
        "headphones\",\"connection\":{\"wireless\":true,"
        "\"type\":\"Bluetooth\"},\"price\":99.98,\"stock\":25,\"colors\":[\"black\",\"silver\"]}",
        "+OK"),
    ROW("JSON.ARRAPPEND|item:1|$.colors|\"blue\"", "[:3]"),
    ROW("JSON.GET|item:1|$.colors", "\"[[\"black\",\"silver\",\"blue\"]]\""),
    ROW("JSON.ARRINSERT|item:1|$.colors|2|\"yellow\"|\"gold\"", "[:5]"),
    ROW("JSON.GET|item:1|$.colors", "\"[[\"black\",\"silver\",\"yellow\",\"gold\",\"blue\"]]\""),
    ROW("JSON.ARRINDEX|item:1|$..colors|\"silver\"", "[:1]"), ROW("JSON.ARRLEN|item:1|$.colors", "[:5]"),
    ROW("JSON.ARRPOP|item:1|$.colors", "[\"\"blue\"\"]"),
    ROW("JSON.ARRPOP|item:1|$.colors|0", "[\"\"black\"\"]"),
    ROW("JSON.GET|item:1|$.colors", "\"[[\"silver\",\"yellow\",\"gold\"]]\""),
    ROW("JSON.SET|key|$|[[],[\"a\"],[\"a\",\"b\"],[\"a\",\"b\",\"c\"]]", "+OK"),
    ROW("JSON.ARRTRIM|key|$[*]|0|1", "[:0,:1,:2,:2]"),
    ROW("JSON.GET|key", "\"[[],[\"a\"],[\"a\",\"b\"],[\"a\",\"b\"]]\""),
    /* JSON.OBJLEN / JSON.OBJKEYS */
    ROW("JSON.SET|doc|$|{\"a\":[3], \"nested\": {\"a\": {\"b\":2, \"c\": 1}}}", "+OK"),
    ROW("JSON.OBJLEN|doc|$..a", "[nil,:2]"), ROW("JSON.OBJKEYS|doc|$..a", "[nil,[\"b\",\"c\"]]"),
    /* JSON.TYPE */
    ROW("JSON.SET|doc|$|{\"a\":2, \"nested\": {\"a\": true}, \"foo\": \"bar\"}", "+OK"),
    ROW("JSON.TYPE|doc|$..foo", "[+string]"), ROW("JSON.TYPE|doc|$..a", "[+integer,+boolean]"),
    ROW("JSON.TYPE|doc|$..dummy", "[]"),
    /* JSON.CLEAR */
    ROW("JSON.SET|doc|$|{\"obj\":{\"a\":1, \"b\":2}, \"arr\":[1,2,3], \"str\": \"foo\", \"bool\": true, "
        "\"int\": 42, "
        "\"float\": 3.14}",
        "+OK"),
    ROW("JSON.CLEAR|doc|$.*", ":4"),
    ROW("JSON.GET|doc|$",
        "\"[{\"obj\":{},\"arr\":[],\"str\":\"foo\",\"bool\":true,\"int\":0,\"float\":0}]\""),
    /* JSON.TOGGLE */
    ROW("JSON.SET|doc|$|{\"bool\": true}", "+OK"), ROW("JSON.TOGGLE|doc|$.bool", "[:0]"),
    ROW("JSON.GET|doc|$", "\"[{\"bool\":false}]\""), ROW("JSON.TOGGLE|doc|$.bool", "[:1]"),
    ROW("JSON.GET|doc|$", "\"[{\"bool\":true}]\""),
    /* JSON.MERGE */
    ROW("JSON.SET|doc|$|{\"a\":2}", "+OK"), ROW("JSON.MERGE|doc|$.a|3", "+OK"),
    ROW("JSON.GET|doc|$", "\"[{\"a\":3}]\""), ROW("JSON.SET|doc|$|{\"a\":2}", "+OK"),
    ROW("JSON.MERGE|doc|$.b|8", "+OK"), ROW("JSON.GET|doc|$", "\"[{\"a\":2,\"b\":8}]\""),
    ROW("JSON.SET|doc|$|{\"a\":2}", "+OK"), ROW("JSON.MERGE|doc|$|{\"a\":null}", "+OK"),
    ROW("JSON.GET|doc|$", "\"[{}]\""), ROW("JSON.SET|doc|$|{\"a\":[2,4,6,8]}", "+OK"),
    ROW("JSON.MERGE|doc|$.a|[10,12]", "+OK"), ROW("JSON.GET|doc|$", "\"[{\"a\":[10,12]}]\""),
    ROW("JSON.SET|doc|$|{\"f1\": {\"a\":1}, \"f2\":{\"a\":2}}", "+OK"),
    ROW("JSON.MERGE|doc|$|{\"f1\": null, \"f2\":{\"a\":3, \"b\":4}, \"f3\":[2,4,6]}", "+OK"),
    ROW("JSON.GET|doc|$", "\"[{\"f2\":{\"a\":3,\"b\":4},\"f3\":[2,4,6]}]\""),
    /* JSON.RESP */
    ROW("JSON.SET|item:2|$|{\"name\":\"Wireless "
        "earbuds\",\"price\":64.99,\"stock\":17,\"colors\":[\"black\",\"white\"],"
        "\"max_level\":[80,100,120],\"x\":null,\"ok\":true}",
        "+OK"),
    ROW("JSON.RESP|item:2", "[+{,\"name\",\"Wireless "
                            "earbuds\",\"price\",\"64.99\",\"stock\",:17,\"colors\",[+[,\"black\",\"white\"],"
                            "\"max_level\",[+[,:80,:100,:120],\"x\",nil,\"ok\",+true]"),
    ROW("JSON.RESP|item:2|$.colors", "[[+[,\"black\",\"white\"]]"),
    /* JSON.DEBUG */
    ROW("JSON.DEBUG|HELP",
        "[+MEMORY <key> [path] - reports memory usage,+HELP                - this message]"),
    ROW("JSON.DEBUG|MEMORY|nosuchkey", ":0"),
    ROW("JSON.DEBUG|MEMORY|item:2|$.stock", "[:1]"), /* a small integer: one byte */
};

Test(json, redisjson_documented_examples_reply_as_documented) {
    run_rows(c, documented, sizeof documented / sizeof documented[0]);
}

/* Legacy paths: the first match, errors when missing, the default `.`. */
static const row legacy[] = {
    ROW("JSON.SET|doc|.|{\"a\":{\"b\":[1,2,{\"c\":\"x\"}]},\"s\":\"hi\",\"n\":1,\"t\":false,\"k-1\":5}",
        "+OK"),
    ROW("JSON.GET|doc|.a.b[0]", "\"1\""),
    ROW("JSON.GET|doc|a.b[-1].c", "\"\"x\"\""),
    ROW("JSON.GET|doc|[\"a\"][\"b\"][1]", "\"2\""),
    ROW("JSON.GET|doc|.k-1", "\"5\""),
    ROW("JSON.GET|doc|.a.b|.s", "\"{\".a.b\":[1,2,{\"c\":\"x\"}],\".s\":\"hi\"}\""),
    ROW("JSON.GET|doc|.nope", "-ERR Path '.nope' does not exist"),
    ROW("JSON.GET|doc|.a.b[9]", "-ERR Path '.a.b[9]' does not exist"),
    ROW("JSON.GET|nokey|.", "nil"),
    ROW("JSON.TYPE|doc", "+object"),
    ROW("JSON.TYPE|doc|.a.b", "+array"),
    ROW("JSON.TYPE|doc|.nope", "nil"),
    ROW("JSON.NUMINCRBY|doc|.n|2", "\"3\""),
    ROW("JSON.NUMINCRBY|doc|.n|0.5", "\"3.5\""),
    ROW("JSON.NUMMULTBY|doc|.n|2", "\"7.0\""),
    ROW("JSON.NUMINCRBY|doc|.s|1", "-ERR Path '.s' does not exist or does not contains a number"),
    ROW("JSON.NUMINCRBY|doc|.zz|1", "-ERR Path '.zz' does not exist or does not contains a number"),
    ROW("JSON.STRAPPEND|doc|.s|\"!\"", ":3"),
    ROW("JSON.STRAPPEND|doc|\"?\"", "-ERR Path '.' does not exist or not a string"),
    ROW("JSON.STRLEN|doc|.s", ":3"),
    ROW("JSON.ARRAPPEND|doc|.a.b|4|5", ":5"),
    ROW("JSON.ARRINSERT|doc|.a.b|0|0", ":6"),
    ROW("JSON.ARRINDEX|doc|.a.b|4", ":4"),
    ROW("JSON.ARRINDEX|doc|.a.b|9", ":-1"),
    ROW("JSON.ARRLEN|doc|.a.b", ":6"),
    ROW("JSON.ARRPOP|doc|.a.b", "\"5\""),
    ROW("JSON.ARRTRIM|doc|.a.b|1|2", ":2"),
    ROW("JSON.GET|doc|.a.b", "\"[1,2]\""),
    ROW("JSON.OBJLEN|doc", ":5"),
    ROW("JSON.OBJKEYS|doc|.a", "[\"b\"]"),
    ROW("JSON.TOGGLE|doc|.t", "\"true\""),
    ROW("JSON.CLEAR|doc|.a", ":1"),
    ROW("JSON.GET|doc|.a", "\"{}\""),
    ROW("JSON.RESP|doc|.t", "+true"),
    ROW("JSON.DEL|doc|.nope", ":0"),
    ROW("JSON.FORGET|doc|.s", ":1"),
    ROW("JSON.MGET|doc|nokey|.n", "[\"7.0\",nil]"),
    ROW("JSON.DEL|doc", ":1"),
    ROW("EXISTS|doc", ":0"),
};

Test(json, legacy_paths_reply_the_first_match_and_error_when_missing) {
    run_rows(c, legacy, sizeof legacy / sizeof legacy[0]);
}

/* RESP3 (HELLO 3): numbers for NUMINCRBY (one per match, legacy paths too),
 * one more array for TYPE (a nil too), the default path is `.` as in RESP2
 * (RedisJSON 8.0's tests/pytest/test_resp3.py, test_resp_default_path and
 * test_resp_json_type; redis_json/src/commands.rs json_num_op). */
static const row resp3_rows[] = {
    ROW("JSON.SET|doc|$|{\"a\":1,\"b\":[{\"a\":2.5},{\"a\":\"x\"}],\"t\":true}", "+OK"),
    ROW("JSON.GET|doc", "\"{\"a\":1,\"b\":[{\"a\":2.5},{\"a\":\"x\"}],\"t\":true}\""),
    ROW("JSON.GET|doc|.a", "\"1\""),
    ROW("JSON.NUMINCRBY|doc|$..a|1", "[:2,,3.5,nil]"),
    ROW("JSON.NUMINCRBY|doc|.a|1", "[:3]"),
    ROW("JSON.NUMMULTBY|doc|.a|1.5", "[,4.5]"),
    ROW("JSON.NUMINCRBY|doc|..a|1", "[,5.5,,4.5,nil]"),
    ROW("JSON.NUMINCRBY|doc|.zz|1", "[]"),
    ROW("JSON.TYPE|doc|$..a", "[[+number,+number,+string]]"),
    ROW("JSON.TYPE|doc|.t", "[+boolean]"),
    ROW("JSON.TYPE|doc", "[+object]"),
    ROW("JSON.TYPE|doc|.zz", "[nil]"),
    ROW("JSON.TYPE|doc|$.zz", "[[]]"),
    ROW("JSON.ARRLEN|doc|$.b", "[:2]"),
    ROW("JSON.OBJLEN|doc", ":3"),
    ROW("JSON.OBJKEYS|doc", "[\"a\",\"b\",\"t\"]"),
    ROW("JSON.STRLEN|doc|$..a", "[nil,nil,:1]"),
    ROW("JSON.TOGGLE|doc|$.t", "[:0]"),
    ROW("JSON.ARRPOP|doc|$.b", "[\"{\"a\":\"x\"}\"]"),
    ROW("JSON.RESP|doc|$..a", "[,5.5,,4.5]"), /* a double is a RESP3 double (RedisValue::Float) */
    ROW("JSON.DEL|doc", ":1"),
    ROW("JSON.TYPE|doc", "[nil]"),
};

Test(json, resp3_clients_get_redisjson_resp3_shapes) {
    resp3 *r = r3_connect(s->port);
    for (size_t i = 0; i < sizeof resp3_rows / sizeof resp3_rows[0]; i++)
        r3_row(r, resp3_rows[i].command, resp3_rows[i].reply, resp3_rows[i].line);
    r3_close(r);
}

static const row errors[] = {
    ROW("JSON.SET|newkey|$.a|1", "-ERR new objects must be created at the root"),
    ROW("JSON.SET|newkey|.a|1", "-ERR new objects must be created at the root"),
    ROW("JSON.SET|newkey|$|{bad", "-BADJSON"),
    ROW("JSON.SET|newkey|$[|1", "-BADPATH"),
    ROW("JSON.SET|newkey|a[0|1", "-BADPATH"),
    ROW("JSON.SET|newkey|$|1|XX", "nil"),
    ROW("JSON.SET|newkey|$|1|NX", "+OK"),
    ROW("JSON.SET|newkey|$|2|NX", "nil"),
    ROW("JSON.SET|newkey|$|2|XX|FPHA|FP32", "+OK"),
    ROW("JSON.SET|newkey|$|2|BOGUS", "-ERR syntax error"),
    ROW("JSON.SET|obj|$|{\"a\":{}}", "+OK"),
    ROW("JSON.SET|obj|$.a.b.c|1", "nil"), /* missing parents are not created */
    ROW("JSON.SET|obj|$.a.b|1|XX", "nil"),
    ROW("JSON.SET|obj|$.a.b|1|NX", "+OK"),
    ROW("JSON.SET|obj|$.a.b|2|NX", "nil"),
    ROW("JSON.NUMINCRBY|nokey|$.a|1", "-ERR could not perform this operation on a key that doesn't exist"),
    ROW("JSON.NUMINCRBY|obj|$.a.b|x", "-ERR expected a number"),
    ROW("JSON.STRAPPEND|obj|$|notjson", "-BADJSON"),
    ROW("JSON.STRAPPEND|obj|$|1", "-ERR wrong type of value - expected a JSON string"),
    ROW("SET|str|x", "+OK"),
    ROW("JSON.GET|str", "-WRONGTYPE"),
    ROW("JSON.SET|str|$|1", "-WRONGTYPE"),
    ROW("JSON.MGET|str|obj|$.a.b", "[nil,\"[1]\"]"),
    ROW("JSON.DEBUG|NOPE", "-ERR unknown subcommand"),
    ROW("JSON.GET", "-ERR wrong number of arguments"),
};

Test(json, bad_input_gets_one_line_errors_and_changes_nothing) {
    run_rows(c, errors, sizeof errors / sizeof errors[0]);
    expect_str(cmd(c, "JSON.GET obj"), "{\"a\":{\"b\":1}}");
}

Test(json, a_write_to_every_match_is_all_or_nothing) {
    expect_ok(cmd(c, "JSON.SET d $ %s", "{\"x\":[1],\"y\":{\"x\":[1,2,3]},\"z\":{\"x\":[]}}"));
    expect_int(cmd(c, "DOC.VERSION d"), 1);
    /* index 2 fits [1,2,3] but not [1] or []: RedisJSON would change some
     * matches before failing (its issue #1129); here none changes. */
    expect_err_prefix(cmd(c, "JSON.ARRINSERT d $..x 2 %s", "\"new\""), "ERR");
    expect_str(cmd(c, "JSON.GET d"), "{\"x\":[1],\"y\":{\"x\":[1,2,3]},\"z\":{\"x\":[]}}");
    expect_int(cmd(c, "DOC.VERSION d"), 1);
    /* An overflow in the last match rolls the first ones back too. */
    expect_ok(cmd(c, "JSON.SET n $ %s", "{\"a\":1,\"b\":{\"a\":9223372036854775807}}"));
    expect_err_prefix(cmd(c, "JSON.NUMINCRBY n $..a 1"), "OVERFLOW");
    expect_str(cmd(c, "JSON.GET n"), "{\"a\":1,\"b\":{\"a\":9223372036854775807}}");
    /* And when everything fits, every match changes, once, one version. */
    expect_str(cmd(c, "JSON.GET d $..x"), "[[1],[1,2,3],[]]");
    redisReply *r = cmd(c, "JSON.ARRINSERT d $..x 0 %s", "\"new\"");
    char got[256];
    size_t used = 0;
    describe(r, got, sizeof got, &used);
    freeReplyObject(r);
    cr_expect_str_eq(got, "[:2,:4,:1]");
    expect_int(cmd(c, "DOC.VERSION d"), 2);
}

Test(json, nested_matches_are_written_deepest_first) {
    expect_ok(cmd(c, "JSON.SET d $ %s", "{\"a\":{\"a\":{\"a\":[]}}}"));
    /* $..a matches the outer object, the middle one and the array; the
     * deepest is written first, so the outer write sees the others'. */
    expect_str(cmd(c, "JSON.GET d $..a"), "[{\"a\":{\"a\":[]}},{\"a\":[]},[]]");
    expect_ok(cmd(c, "JSON.SET d $..a %s", "{\"v\":1}"));
    expect_str(cmd(c, "JSON.GET d"), "{\"a\":{\"v\":1}}");
    /* JSON.DEL counts the outermost matches only (the inner one goes with
     * it), and a root left empty deletes the key: RedisJSON 8.0's json_del
     * (prepare_paths_for_updating; MOD-9117) in redis_json/src/commands.rs. */
    expect_ok(cmd(c, "JSON.SET e $ %s", "{\"a\":[{\"a\":[1]}],\"b\":1}"));
    expect_int(cmd(c, "JSON.DEL e $..a"), 1);
    expect_str(cmd(c, "JSON.GET e"), "{\"b\":1}");
    expect_int(cmd(c, "JSON.DEL e .b"), 1);
    expect_int(cmd(c, "EXISTS e"), 0);
    expect_ok(cmd(c, "JSON.SET f $ %s", "{\"a\":[{\"a\":[1]}]}"));
    redisReply *r = cmd(c, "JSON.ARRAPPEND f $..a 7");
    cr_assert_eq(r->elements, 2);
    cr_expect_eq(r->element[0]->integer, 2);
    cr_expect_eq(r->element[1]->integer, 2);
    freeReplyObject(r);
    expect_str(cmd(c, "JSON.GET f"), "{\"a\":[{\"a\":[1,7]},7]}");
}

/* RedisJSON's choices checked against its source (RedisJSON 8.0,
 * redis_json/src/commands.rs): a legacy-path write changes every match of the
 * right type and replies the last one's answer (json_num_op_legacy,
 * json_str_append_legacy, json_arr_append_legacy, ...; ARRPOP the first in its
 * mutation order), skipping matches of another type; JSON.SET under a missing
 * parent finds nothing to add and replies nil (KeyValue::find_add_paths, then
 * json_set); JSON.MERGE where nothing matches replies nil (json_merge). */
static const row redisjson_choices[] = {
    ROW("JSON.SET|m|$|{\"a\":{\"n\":1,\"s\":\"x\",\"t\":true,\"l\":[1]},\"b\":{\"n\":\"no\",\"s\":1,"
        "\"t\":0,\"l\":{}},\"c\":{\"n\":10,\"s\":\"yy\",\"t\":false,\"l\":[1,2]}}",
        "+OK"),
    ROW("JSON.NUMINCRBY|m|..n|1", "\"11\""),
    ROW("JSON.GET|m|$..n", "\"[2,\"no\",11]\""),
    ROW("JSON.STRAPPEND|m|..s|\"!\"", ":3"),
    ROW("JSON.TOGGLE|m|..t", "\"true\""),
    ROW("JSON.GET|m|$..t", "\"[false,0,true]\""),
    ROW("JSON.ARRAPPEND|m|..l|9", ":3"),
    ROW("JSON.ARRINSERT|m|..l|0|8", ":4"),
    ROW("JSON.ARRTRIM|m|..l|0|1", ":2"),
    ROW("JSON.ARRPOP|m|..l", "\"1\""),
    ROW("JSON.GET|m|$..l", "\"[[8],{},[8]]\""),
};

Test(json, legacy_writes_change_every_match_of_the_right_type_and_reply_the_last) {
    run_rows(c, redisjson_choices, sizeof redisjson_choices / sizeof redisjson_choices[0]);
    /* No match of the right type: RedisJSON's "does not exist or ..." texts. */
    expect_err_prefix(cmd(c, "JSON.TOGGLE m .b.n"), "ERR Path '.b.n' does not exist or not a bool");
    expect_err_prefix(cmd(c, "JSON.ARRAPPEND m .b.l 1"), "ERR Path '.b.l' does not exist or not an array");
    expect_err_prefix(cmd(c, "JSON.STRAPPEND m .zz %s", "\"x\""),
                      "ERR Path '.zz' does not exist or not a string");
    /* JSON.SET under a missing parent, JSON.MERGE with nothing matched: nil. */
    expect_nil(cmd(c, "JSON.SET m $.nope.x 1"));
    expect_nil(cmd(c, "JSON.SET m .nope.x 1"));
    expect_nil(cmd(c, "JSON.MERGE m $.a.l.x 1"));
    /* Reads on a missing key: nil for a legacy path, an error for `$`
     * (json_str_len, json_arr_len, json_obj_keys); ARRINDEX names the path. */
    expect_nil(cmd(c, "JSON.STRLEN nokey .s"));
    expect_nil(cmd(c, "JSON.ARRLEN nokey"));
    expect_err_prefix(cmd(c, "JSON.STRLEN nokey $.s"),
                      "ERR could not perform this operation on a key that doesn't exist");
    expect_err_prefix(cmd(c, "JSON.ARRLEN nokey $.l"),
                      "ERR could not perform this operation on a key that doesn't exist");
    expect_err_prefix(cmd(c, "JSON.OBJKEYS nokey $"),
                      "ERR could not perform this operation on a key that doesn't exist");
    expect_err_prefix(cmd(c, "JSON.ARRINDEX nokey $.l 1"), "ERR Path '$.l' does not exist");
    /* A legacy path that matches nothing: nil for OBJLEN and OBJKEYS
     * (KeyValue::obj_len's NoneExisting, json_obj_keys_legacy), an error for
     * STRLEN and ARRLEN. */
    expect_nil(cmd(c, "JSON.OBJLEN m .nope"));
    expect_nil(cmd(c, "JSON.OBJKEYS m .nope"));
    expect_err_prefix(cmd(c, "JSON.STRLEN m .nope"), "ERR Path '.nope' does not exist");
    expect_err_prefix(cmd(c, "JSON.ARRLEN m .nope"), "ERR Path '.nope' does not exist");
    /* JSON.CLEAR counts only what it changed (json_clear's filter: non-empty
     * containers, non-zero numbers) and refuses a missing key. */
    expect_ok(cmd(c, "JSON.SET z $ %s", "{\"e\":[],\"o\":{},\"n\":0,\"d\":0.0,\"m\":2,\"s\":\"x\"}"));
    expect_int(cmd(c, "JSON.CLEAR z $.*"), 1);
    expect_str(cmd(c, "JSON.GET z"), "{\"e\":[],\"o\":{},\"n\":0,\"d\":0.0,\"m\":0,\"s\":\"x\"}");
    expect_int(cmd(c, "JSON.CLEAR z"), 1);
    expect_int(cmd(c, "JSON.CLEAR z"), 0);
    expect_err_prefix(cmd(c, "JSON.CLEAR nokey"),
                      "ERR could not perform this operation on a key that doesn't exist");
    /* JSON.ARRTRIM: a stop before the start of the array is 0 (normalize in
     * redis_json/src/array_index.rs), so the first element stays. */
    expect_ok(cmd(c, "JSON.SET t $ [1,2,3,4,5]"));
    expect_int(cmd(c, "JSON.ARRTRIM t . 0 -10"), 1);
    expect_str(cmd(c, "JSON.GET t"), "[1]");
    expect_int(cmd(c, "JSON.ARRTRIM t . 3 9"), 0);
    expect_ok(cmd(c, "JSON.MERGE m $.a.new 1"));
    expect_str(cmd(c, "JSON.GET m .a.new"), "1");
}

/* Command flags as RedisJSON 8.0 registers them (redis_json/src/lib.rs):
 * "readonly", "write", or "write deny-oom" per command. */
Test(json, command_flags_are_redisjsons) {
    static const struct {
        const char *name, *flags;
    } rows[] = {
        {"json.del", "write module"},          {"json.get", "readonly module"},
        {"json.mget", "readonly module"},      {"json.set", "write denyoom module"},
        {"json.mset", "write denyoom module"}, {"json.type", "readonly module"},
        {"json.numincrby", "write module"},    {"json.toggle", "write denyoom module"},
        {"json.nummultby", "write module"},    {"json.strappend", "write denyoom module"},
        {"json.strlen", "readonly module"},    {"json.arrappend", "write denyoom module"},
        {"json.arrindex", "readonly module"},  {"json.arrinsert", "write denyoom module"},
        {"json.arrlen", "readonly module"},    {"json.arrpop", "write module"},
        {"json.arrtrim", "write module"},      {"json.objkeys", "readonly module"},
        {"json.objlen", "readonly module"},    {"json.clear", "write module"},
        {"json.debug", "readonly module"},     {"json.forget", "write module"},
        {"json.resp", "readonly module"},      {"json.merge", "write denyoom module"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        redisReply *r = cmd(c, "COMMAND INFO %s", rows[i].name);
        cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
        cr_assert_eq(r->element[0]->type, REDIS_REPLY_ARRAY, "%s is unknown", rows[i].name);
        const redisReply *f = r->element[0]->element[2];
        char got[128] = "";
        for (size_t j = 0; j < f->elements; j++) {
            if (j) strcat(got, " ");
            strncat(got, f->element[j]->str, sizeof got - strlen(got) - 2);
        }
        cr_expect_str_eq(got, rows[i].flags, "%s", rows[i].name);
        freeReplyObject(r);
    }
}

Test(json, json_and_doc_commands_share_one_document_and_its_version) {
    expect_ok(
        cmd(c, "JSON.SET order:7 $ %s", "{\"items\":[{\"sku\":\"A\",\"qty\":1},{\"sku\":\"X\",\"qty\":2}]}"));
    expect_int(cmd(c, "DOC.VERSION order:7"), 1);
    expect_int(cmd(c, "DOC.PULL order:7 $.items WHERE %s", "{\"sku\":\"X\"}"), 1);
    expect_int(cmd(c, "DOC.VERSION order:7"), 2);
    expect_str(cmd(c, "JSON.GET order:7 $.items[*].sku"), "[\"A\"]");
    expect_str(cmd(c, "JSON.NUMINCRBY order:7 $.items[0].qty 4"), "[5]");
    expect_int(cmd(c, "DOC.VERSION order:7"), 3);
    expect_str(cmd(c, "JSON.NUMINCRBY order:7 $.items[0].qty 0"), "[5]"); /* no change, no version */
    expect_int(cmd(c, "DOC.VERSION order:7"), 3);
    expect_status(cmd(c, "TYPE order:7"), "atomicdoc");
    redisReply *r = cmd(c, "DOC.TXN 1 order:7 INCR 1 $.items[0].qty 1 CHECK 1 $.items[0].qty EQ 6");
    freeReplyObject(r);
    expect_str(cmd(c, "JSON.GET order:7 .items[0].qty"), "6");
}

Test(json, writes_replicate_and_persist_like_doc_writes) {
    srv *replica = srv_start_replica(s);
    redisContext *rc = srv_connect(replica);
    expect_ok(cmd(c, "JSON.SET r $ %s", "{\"a\":[1,2],\"n\":1.5,\"s\":\"x\"}"));
    expect_str(cmd(c, "JSON.NUMINCRBY r $.n 1"), "[2.5]");
    expect_int(cmd(c, "JSON.STRAPPEND r .s %s", "\"y\""), 2);
    redisReply *r = cmd(c, "JSON.ARRPOP r $.a 0");
    freeReplyObject(r);
    srv_wait_replica_synced(s, replica);
    expect_str(cmd(rc, "JSON.GET r"), "{\"a\":[2],\"n\":2.5,\"s\":\"xy\"}");
    expect_int(cmd(rc, "DOC.VERSION r"), 4);
    redisFree(rc);
    srv_stop(replica);
    srv_restart(s);
    redisFree(c);
    c = srv_connect(s);
    expect_str(cmd(c, "JSON.GET r"), "{\"a\":[2],\"n\":2.5,\"s\":\"xy\"}");
}

Test(json, changes_send_redisjson_keyspace_events) {
    expect_ok(cmd(c, "CONFIG SET notify-keyspace-events KEA"));
    redisContext *sub = srv_connect(s);
    redisReply *r = cmd(sub, "PSUBSCRIBE __keyevent@0__:json.*");
    freeReplyObject(r);
    expect_ok(cmd(c, "JSON.SET ev $ %s", "{\"n\":1,\"a\":[]}"));
    expect_str(cmd(c, "JSON.NUMINCRBY ev $.n 1"), "[2]");
    redisReply *x = cmd(c, "JSON.ARRAPPEND ev $.a 1");
    freeReplyObject(x);
    expect_int(cmd(c, "JSON.DEL ev $.n"), 1);
    expect_ok(cmd(c, "JSON.MSET ev $.m 1")); /* RedisJSON's json_mset notifies json.mset */
    const char *want[] = {"json.set", "json.numincrby", "json.arrappend", "json.del", "json.mset"};
    for (int i = 0; i < 5; i++) {
        redisReply *m = NULL;
        cr_assert_eq(redisGetReply(sub, (void **)&m), REDIS_OK);
        cr_assert_eq(m->type, REDIS_REPLY_ARRAY);
        cr_assert_eq(m->elements, 4);
        char want_ch[64];
        snprintf(want_ch, sizeof want_ch, "__keyevent@0__:%s", want[i]);
        cr_expect_str_eq(m->element[2]->str, want_ch);
        cr_expect_str_eq(m->element[3]->str, "ev");
        freeReplyObject(m);
    }
    redisFree(sub);
}

Test(json, info_reports_the_json_commands_on) {
    char *v = srv_info_field(c, "atomicdoc", "atomicdoc_json_commands");
    cr_expect_str_eq(v, "on");
    free(v);
    expect_ok(cmd(c, "JSON.SET k $ 1"));
    cr_expect_eq(srv_info_int(c, "atomicdoc", "atomicdoc_calls_json_set"), 1);
}

Test(json_off, a_load_argument_turns_the_json_commands_off) {
    srv *off = srv_start(&(srv_opts){.module_args = (const char *[]){"json-commands", "no", NULL}});
    redisContext *oc = srv_connect(off);
    expect_err_prefix(cmd(oc, "JSON.SET k $ 1"), "ERR unknown command");
    expect_ok(cmd(oc, "DOC.SET k $ 1"));
    char *v = srv_info_field(oc, "atomicdoc", "atomicdoc_json_commands");
    cr_expect_str_eq(v, "off");
    free(v);
    redisFree(oc);
    srv_stop(off);
}

/* ---- registration: names taken, or turned off ---- */

/* The whole of a server's redis.log (malloc'd). */
static char *read_log(const srv *x) {
    char path[256];
    snprintf(path, sizeof path, "%s/redis.log", x->dir);
    FILE *f = fopen(path, "r");
    cr_assert(f, "no %s", path);
    char *text = calloc(1, 1 << 20);
    size_t n = fread(text, 1, (1 << 20) - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

/* json_squatter.so (tests/integration/json_squatter.c) registers JSON.GET and
 * JSON.SET, as RedisJSON would; loaded first, at startup, atomicdoc still
 * loads: DOC.* work, JSON.* are left to the other module, and the log and
 * INFO say why. */
Test(json_taken, atomicdoc_loads_without_json_commands_when_another_module_holds_the_names) {
    const char *squatter = getenv("ATOMICDOC_SQUATTER");
    cr_assert(squatter, "ATOMICDOC_SQUATTER is not set (make integration sets it)");
    srv *t = srv_start(&(srv_opts){
        .no_module = true,
        .config = (const char *[]){"loadmodule", squatter, "loadmodule", getenv("ATOMICDOC_MODULE"), NULL}});
    redisContext *tc = srv_connect(t);
    redisReply *r = cmd(tc, "MODULE LIST");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    int seen = 0;
    for (size_t i = 0; i < r->elements; i++)
        for (size_t j = 0; j + 1 < r->element[i]->elements; j += 2)
            if (!strcmp(r->element[i]->element[j]->str, "name")) {
                const char *name = r->element[i]->element[j + 1]->str;
                seen |= !strcmp(name, "atomicdoc") ? 1 : !strcmp(name, "jsonsquatter") ? 2 : 0;
            }
    freeReplyObject(r);
    cr_expect_eq(seen, 3, "both modules loaded (MODULE LIST)");
    /* DOC.* work; JSON.GET/SET answer from the other module; the rest of
     * JSON.* are not registered at all (all or none). */
    expect_ok(cmd(tc, "DOC.SET d $ %s", "{\"n\":1}"));
    expect_int(cmd(tc, "DOC.INCR d $.n 1"), 2);
    expect_status(cmd(tc, "JSON.GET d"), "SQUATTER");
    expect_status(cmd(tc, "JSON.SET d $ 1"), "SQUATTER");
    expect_err_prefix(cmd(tc, "JSON.NUMINCRBY d $.n 1"), "ERR unknown command");
    expect_err_prefix(cmd(tc, "JSON.TYPE d"), "ERR unknown command");
    char *v = srv_info_field(tc, "atomicdoc", "atomicdoc_json_commands");
    cr_expect_str_eq(v, "off_names_taken");
    free(v);
    char *log = read_log(t);
    /* The line names the first taken name in alphabetical order (json.get). */
    cr_expect(strstr(log,
                     "atomicdoc: json.get is already registered (RedisJSON loaded?): loading without JSON.* "
                     "commands"),
              "redis.log lacks the warning:\n%s", log);
    free(log);
    redisFree(tc);
    srv_stop(t);
}

/* The immutable config atomicdoc.json-commands, at startup and through
 * MODULE LOADEX ... CONFIG (README "Configs"). */
Test(json_off, the_json_commands_config_turns_them_off_and_cannot_change_at_runtime) {
    srv *off = srv_start(&(srv_opts){.config = (const char *[]){"atomicdoc.json-commands", "no", NULL}});
    redisContext *oc = srv_connect(off);
    expect_err_prefix(cmd(oc, "JSON.GET k"), "ERR unknown command");
    expect_ok(cmd(oc, "DOC.SET k $ 1"));
    redisReply *r = cmd(oc, "CONFIG GET atomicdoc.json-commands");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 2);
    cr_expect_str_eq(r->element[1]->str, "no");
    freeReplyObject(r);
    expect_err_prefix(cmd(oc, "CONFIG SET atomicdoc.json-commands yes"), "ERR CONFIG SET failed");
    char *v = srv_info_field(oc, "atomicdoc", "atomicdoc_json_commands");
    cr_expect_str_eq(v, "off");
    free(v);
    redisFree(oc);
    srv_stop(off);

    srv *lx = srv_start(&(srv_opts){.no_module = true});
    redisContext *lc = srv_connect(lx);
    expect_ok(cmd(lc, "MODULE LOADEX %s CONFIG atomicdoc.json-commands no", getenv("ATOMICDOC_MODULE")));
    expect_err_prefix(cmd(lc, "JSON.SET k $ 1"), "ERR unknown command");
    expect_ok(cmd(lc, "DOC.SET k $ 1"));
    v = srv_info_field(lc, "atomicdoc", "atomicdoc_json_commands");
    cr_expect_str_eq(v, "off");
    free(v);
    redisFree(lc);
    srv_stop(lx);
}
