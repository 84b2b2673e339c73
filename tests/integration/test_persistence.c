/* test_persistence.c - documents and their versions outlive the process and travel:
 * DEBUG RELOAD, DUMP/RESTORE (and RESTORE of damaged or forged payloads, which must
 * be refused cleanly or load as a valid document), COPY, restarts from the RDB and
 * from the AOF (before and after BGREWRITEAOF, with a 20 MB document that the rewrite
 * must split), replication, MEMORY USAGE and DEBUG DIGEST(-VALUE).
 *
 * A DUMP payload is: the RDB object (type byte 7 = module, the module id with the
 * encoding version in its low 10 bits, then the module's own data: opcode 2 + the
 * document version, opcode 5 + one string, opcode 0), 2 bytes of RDB version and a
 * CRC-64 of everything before it. The string is the serialized tree (encver 2, what
 * this build writes) or the JSON text (encver 1, what earlier builds wrote, and this
 * one under the load argument `rdb-encoding text`). Redis checks the CRC before the
 * module sees a byte, so the tests that aim at the module's loader recompute it.
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* ---- small helpers ------------------------------------------------------------- */

/* DOC.GET key as a reply the caller frees; fails unless it is a bulk string. */
static redisReply *get_doc(redisContext *c, const char *key) {
    redisReply *r = cmd(c, "DOC.GET %s", key);
    char got[512];
    cr_assert_eq(r->type, REDIS_REPLY_STRING, "DOC.GET %s: %s", key, reply_describe(r, got, sizeof got));
    return r;
}

/* A few documents at different versions, the same on every server that runs it. */
static const struct {
    const char *key;
    const char *json;
    int extra_writes; /* DOC.SET $.n afterwards, to move the version */
} sample[] = {
    {"doc:obj", "{\"name\":\"Ann\",\"tags\":[\"a\",\"b\"],\"n\":0}", 4},
    {"doc:nested", "{\"a\":{\"b\":{\"c\":[1,2.5,-3e-7,null,true,false,\"\\u0000\"]}},\"n\":0}", 0},
    /* canonical text (as DOC.GET prints it), so the expected state is the input */
    {"doc:unicode", "{\"k\xc3\xa9y\":\"\xf0\x9f\x98\x80 \\\"q\\\" \\\\\",\"n\":0}", 11},
    {"doc:big-int", "{\"n\":0,\"i\":-9223372036854775808,\"d\":12345678901234567000.0}", 1},
};
#define NSAMPLE (sizeof sample / sizeof *sample)

static void write_samples(redisContext *c) {
    for (size_t i = 0; i < NSAMPLE; i++) {
        expect_ok(cmd(c, "DOC.SET %s $ %s", sample[i].key, sample[i].json));
        for (int w = 0; w < sample[i].extra_writes; w++)
            expect_ok(cmd(c, "DOC.SET %s $.n %d", sample[i].key, w + 1));
    }
    expect_ok(cmd(c, "DOC.SET doc:scalar $ %s", "\"just a string\""));
}

/* The JSON and version of every sample, as read from `c`, in one string (malloc'd),
 * so two servers or two moments compare with one strcmp. */
static char *samples_state(redisContext *c) {
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cr_assert(out);
    for (size_t i = 0; i < NSAMPLE; i++) {
        redisReply *r = cmd(c, "DOC.GET %s WITHVERSION", sample[i].key);
        char got[1024];
        fprintf(out, "%s %s\n", sample[i].key, reply_describe(r, got, sizeof got));
        freeReplyObject(r);
    }
    redisReply *r = cmd(c, "DOC.GET doc:scalar WITHVERSION");
    char got[256];
    fprintf(out, "doc:scalar %s\n", reply_describe(r, got, sizeof got));
    freeReplyObject(r);
    fclose(out);
    return text;
}

/* The JSON sample i has after write_samples(): "n" set by its last write. */
static void sample_final_json(size_t i, char *out, size_t len) {
    const char *n = strstr(sample[i].json, "\"n\":0");
    snprintf(out, len, "%.*s\"n\":%d%s", (int)(n - sample[i].json), sample[i].json, sample[i].extra_writes,
             n + 5);
}

/* The version a fresh server gives sample i when write_samples() creates it: each new
 * document starts above every version given before (doc:scalar is i == NSAMPLE). */
static long long sample_first_version(size_t i) {
    long long v = 1;
    for (size_t j = 0; j < i; j++) v += 1 + sample[j].extra_writes;
    return v;
}

/* Checks every document write_samples() made: JSON byte for byte, version, type. */
static void expect_samples(redisContext *c, const char *when) {
    for (size_t i = 0; i < NSAMPLE; i++) {
        char want[512], got[1024];
        sample_final_json(i, want, sizeof want);
        redisReply *r = cmd(c, "DOC.GET %s", sample[i].key);
        reply_describe(r, got, sizeof got);
        bool same = r->type == REDIS_REPLY_STRING && r->len == strlen(want) && !memcmp(r->str, want, r->len);
        freeReplyObject(r);
        cr_assert(same, "%s: DOC.GET %s is %s, expected %s", when, sample[i].key, got, want);
        cr_assert_eq(doc_version(c, sample[i].key), sample_first_version(i) + sample[i].extra_writes,
                     "%s: DOC.VERSION %s", when, sample[i].key);
        expect_status(cmd(c, "TYPE %s", sample[i].key), "atomicdoc");
    }
    expect_str(cmd(c, "DOC.GET doc:scalar"), "\"just a string\"");
    cr_assert_eq(doc_version(c, "doc:scalar"), sample_first_version(NSAMPLE), "%s: DOC.VERSION doc:scalar",
                 when);
}

/* ---- waiting on background work ------------------------------------------------ */

static bool no_aof_rewrite(void *arg) {
    redisContext *c = arg;
    return srv_info_int(c, "persistence", "aof_rewrite_in_progress") == 0 &&
           srv_info_int(c, "persistence", "aof_rewrite_scheduled") == 0;
}

/* BGREWRITEAOF, and wait until it has finished successfully. */
static void rewrite_aof(redisContext *c) {
    cr_assert(wait_until(no_aof_rewrite, c, 20000), "an earlier AOF rewrite never ended");
    redisReply *r = cmd(c, "BGREWRITEAOF");
    char got[256];
    cr_assert_eq(r->type, REDIS_REPLY_STATUS, "BGREWRITEAOF: %s", reply_describe(r, got, sizeof got));
    freeReplyObject(r);
    cr_assert(wait_until(no_aof_rewrite, c, 30000), "the AOF rewrite did not finish");
    char *status = srv_info_field(c, "persistence", "aof_last_bgrewrite_status");
    cr_assert(status && !strcmp(status, "ok"), "aof_last_bgrewrite_status: %s", status ? status : "(none)");
    free(status);
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)size + 1);
    cr_assert(buf);
    cr_assert_eq(fread(buf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    buf[size] = '\0';
    *len = (size_t)size;
    return buf;
}

/* The whole content of the current AOF file of `type` ('b': base, 'i': the last
 * incremental one), as the manifest names it (an old base may linger until Redis's
 * background thread deletes it), malloc'd. */
static void aof_file_path(const srv *s, char type, char *path, size_t cap) {
    char name[256] = "";
    snprintf(path, cap, "%s/appendonlydir/appendonly.aof.manifest", s->dir);
    size_t mlen;
    char *manifest = read_file(path, &mlen);
    char want[16];
    snprintf(want, sizeof want, " type %c", type);
    for (char *line = strtok(manifest, "\n"); line; line = strtok(NULL, "\n"))
        if (strstr(line, want) && !strncmp(line, "file ", 5))
            snprintf(name, sizeof name, "%.*s", (int)strcspn(line + 5, " "), line + 5);
    free(manifest);
    cr_assert(name[0], "the AOF manifest names no file of type %c", type);
    snprintf(path, cap, "%s/appendonlydir/%s", s->dir, name);
}

static char *read_aof_file(const srv *s, char type, size_t *len) {
    char path[640];
    aof_file_path(s, type, path, sizeof path);
    return read_file(path, len);
}

/* What a command-form AOF holds: how many commands named `name`, and the longest
 * last argument among them. Fails on anything that is not RESP commands. */
typedef struct {
    long commands; /* commands named `name` */
    size_t longest_last_arg;
} aof_scan;

static aof_scan scan_aof(const char *buf, size_t len, const char *name) {
    aof_scan out = {0, 0};
    size_t pos = 0;
    while (pos < len) {
        cr_assert_eq(buf[pos], '*', "AOF byte %zu is not a command", pos);
        char *end;
        long argc = strtol(buf + pos + 1, &end, 10);
        pos = (size_t)(end - buf) + 2;
        bool match = false;
        for (long i = 0; i < argc; i++) {
            cr_assert_eq(buf[pos], '$', "AOF byte %zu is not an argument", pos);
            size_t alen = strtoull(buf + pos + 1, &end, 10);
            pos = (size_t)(end - buf) + 2;
            if (i == 0) match = alen == strlen(name) && !strncasecmp(buf + pos, name, alen);
            if (match && i == argc - 1) {
                out.commands++;
                if (alen > out.longest_last_arg) out.longest_last_arg = alen;
            }
            pos += alen + 2;
        }
    }
    return out;
}

static long count_substr(const char *hay, size_t len, const char *needle) {
    long n = 0;
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= len; i++)
        if (!memcmp(hay + i, needle, m)) n++;
    return n;
}

/* ---- DEBUG RELOAD, DUMP/RESTORE, COPY ------------------------------------------- */

Test(persistence, debug_reload_keeps_documents_and_versions) {
    srv *s = srv_start(NULL);
    redisContext *c = srv_connect(s);
    write_samples(c);
    expect_samples(c, "before DEBUG RELOAD");
    expect_ok(cmd(c, "DEBUG RELOAD"));
    expect_samples(c, "after DEBUG RELOAD");
    expect_ok(cmd(c, "DOC.SET doc:obj $.n %s", "100"));
    cr_assert_eq(doc_version(c, "doc:obj"), 6, "the version keeps counting after a reload");
    redisFree(c);
    srv_stop(s);
}

Test(persistence, dump_restore_to_another_key_keeps_json_and_version) {
    srv *s = srv_start(NULL);
    redisContext *c = srv_connect(s);
    write_samples(c);
    for (size_t i = 0; i < NSAMPLE; i++) {
        redisReply *dump = cmd(c, "DUMP %s", sample[i].key);
        cr_assert_eq(dump->type, REDIS_REPLY_STRING);
        char copy[64];
        snprintf(copy, sizeof copy, "%s:restored", sample[i].key);
        expect_ok(cmd(c, "RESTORE %s 0 %b", copy, dump->str, dump->len));
        freeReplyObject(dump);

        redisReply *a = get_doc(c, sample[i].key), *b = get_doc(c, copy);
        cr_assert(a->len == b->len && !memcmp(a->str, b->str, a->len), "%s restored as %s, was %s",
                  sample[i].key, b->str, a->str);
        freeReplyObject(a);
        freeReplyObject(b);
        cr_assert_eq(doc_version(c, copy), doc_version(c, sample[i].key));
        expect_status(cmd(c, "TYPE %s", copy), "atomicdoc");
    }
    /* the restored key is a document of its own */
    expect_ok(cmd(c, "DOC.SET doc:obj:restored $.n %s", "\"changed\""));
    expect_samples(c, "after changing the restored copy");
    redisFree(c);
    srv_stop(s);
}

Test(persistence, copy_keeps_json_gives_the_copy_a_new_version_and_the_copy_is_independent) {
    /* A copy is a new document: it gets a version above every version given so far,
     * so the destination key never shows a version it had before. */
    srv *s = srv_start(NULL);
    redisContext *c = srv_connect(s);
    expect_ok(cmd(c, "DOC.SET a $ %s", "{\"list\":[1,2],\"o\":{\"x\":1}}"));
    expect_ok(cmd(c, "DOC.SET a $.o.y %s", "2"));
    expect_int(cmd(c, "COPY a b"), 1);
    expect_str(cmd(c, "DOC.GET b"), "{\"list\":[1,2],\"o\":{\"x\":1,\"y\":2}}");
    expect_int(cmd(c, "DOC.VERSION b"), 3);
    expect_status(cmd(c, "TYPE b"), "atomicdoc");

    expect_ok(cmd(c, "DOC.SET b $.o.x %s", "\"b's\""));
    expect_int(cmd(c, "DOC.DEL b $.list[0]"), 1);
    expect_str(cmd(c, "DOC.GET a"), "{\"list\":[1,2],\"o\":{\"x\":1,\"y\":2}}");
    expect_int(cmd(c, "DOC.VERSION a"), 2);
    expect_int(cmd(c, "DOC.VERSION b"), 5);

    expect_ok(cmd(c, "DOC.SET a $.list[1] %s", "\"a's\""));
    expect_str(cmd(c, "DOC.GET b"), "{\"list\":[2],\"o\":{\"x\":\"b's\",\"y\":2}}");
    expect_int(cmd(c, "DOC.VERSION b"), 5);

    /* COPY onto an existing key needs REPLACE */
    expect_int(cmd(c, "COPY a b"), 0);
    expect_int(cmd(c, "DOC.VERSION b"), 5);
    expect_int(cmd(c, "COPY a b REPLACE"), 1);
    expect_str(cmd(c, "DOC.GET b"), "{\"list\":[1,\"a's\"],\"o\":{\"x\":1,\"y\":2}}");
    expect_int(cmd(c, "DOC.VERSION b"), 6); /* not a's 3, which b had once */
    redisFree(c);
    srv_stop(s);
}

/* ---- RESTORE of damaged payloads -------------------------------------------------- */

/* Redis's CRC-64 (crc64.c): Jones polynomial 0xad93d23594c935a9, reflected in and
 * out, initial value 0, no final xor; stored little-endian after the payload. */
static uint64_t crc64_jones(const unsigned char *p, size_t n) {
    const uint64_t poly = 0x95ac9329ac4bc9b5ULL; /* 0xad93d23594c935a9 bit-reversed */
    uint64_t crc = 0;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++) crc = (crc >> 1) ^ ((crc & 1) ? poly : 0);
    }
    return crc;
}

/* Rewrites the last 8 bytes of a payload with the CRC of the rest. */
static void fix_crc(unsigned char *p, size_t n) {
    uint64_t crc = crc64_jones(p, n - 8);
    for (int i = 0; i < 8; i++) p[n - 8 + i] = (unsigned char)(crc >> (8 * i));
}

Test(persistence, crc64_helper_matches_redis_check_value) {
    /* The check value of CRC-64/Jones as Redis's crc64.c self-test states it; without
     * it the "fixed CRC" tests below would only ever hit Redis's CRC check. */
    cr_assert_eq(crc64_jones((const unsigned char *)"123456789", 9), 0xe9c6d914c4b8d9caULL);
}

static uint64_t rng_state;

static uint64_t rng(void) {
    /* xorshift64*: deterministic, so a failing case can be replayed from its number */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}

/* A payload under construction. */
typedef struct {
    unsigned char *p; /* bytes */
    size_t n;         /* length */
    char how[256];    /* what was done to it, for messages */
} payload;

/* Damages bytes [from, p.n - tail) of `pl` with 1 to 4 random edits: flipped bits,
 * random bytes, inserted and deleted runs, a truncation. The last `tail` bytes (the
 * footer) stay in place after the damaged region. */
static void mutate(payload *pl, size_t from, size_t tail) {
    /* length prefixes (0x80 32-bit, 0x81 64-bit, 0xc0 encoded), opcodes, JSON */
    static const unsigned char telling[] = {0x00, 0xff, 0x80, 0x81, 0xc0, 0x7f,
                                            '"',  '{',  '[',  '\\', 0x02, 0x05};
    static const char *const kinds[] = {"flip", "set", "insert", "delete", "truncate"};
    int edits = 1 + (int)(rng() % 4);
    size_t hl = 0;
    pl->how[0] = '\0';
    for (int e = 0; e < edits; e++) {
        size_t body = pl->n - tail;
        size_t span = body > from ? body - from : 0;
        size_t at = from + (span ? rng() % span : 0);
        int kind = (int)(rng() % 5);
        if (span == 0) kind = 2;
        switch (kind) {
        case 0: /* flip a bit */ pl->p[at] ^= (unsigned char)(1u << (rng() % 8)); break;
        case 1: /* overwrite with a random byte or one that means something here */
            if (rng() & 1)
                pl->p[at] = (unsigned char)rng();
            else
                pl->p[at] = telling[rng() % sizeof telling];
            break;
        case 2: { /* insert 1-8 random bytes */
            size_t k = 1 + rng() % 8;
            unsigned char *q = realloc(pl->p, pl->n + k);
            cr_assert(q);
            pl->p = q;
            memmove(q + at + k, q + at, pl->n - at);
            for (size_t i = 0; i < k; i++) q[at + i] = (unsigned char)rng();
            pl->n += k;
            break;
        }
        case 3: { /* delete 1-8 bytes */
            size_t k = 1 + rng() % 8;
            if (k > body - at) k = body - at;
            memmove(pl->p + at, pl->p + at + k, pl->n - at - k);
            pl->n -= k;
            break;
        }
        default: /* truncate the body at `at` */
            memmove(pl->p + at, pl->p + body, tail);
            pl->n = at + tail;
            break;
        }
        hl += (size_t)snprintf(pl->how + hl, sizeof pl->how - hl, "%s%s@%zu", e ? "," : "", kinds[kind], at);
        if (hl >= sizeof pl->how) hl = sizeof pl->how - 1;
    }
}

/* RESTOREs `pl` into key "fuzz"; whatever happens the server must stay up, and a
 * payload it accepts must be a valid document: readable, versioned, and JSON that
 * DOC.SET accepts back and prints the same. Counts outcomes. */
typedef struct {
    int loaded;       /* RESTORE said OK */
    int refused;      /* RESTORE replied an error */
    int crc_refusals; /* ...because of the CRC/version footer */
} outcome;

static void restore_case(redisContext *c, const payload *pl, int n, outcome *o) {
    redisReply *r = cmd(c, "RESTORE fuzz 0 %b REPLACE", pl->p, pl->n);
    if (r->type == REDIS_REPLY_ERROR) {
        o->refused++;
        if (strstr(r->str, "checksum")) o->crc_refusals++;
        freeReplyObject(r);
        return;
    }
    char got[512];
    cr_assert_eq(r->type, REDIS_REPLY_STATUS, "case %d (%s): RESTORE replied %s", n, pl->how,
                 reply_describe(r, got, sizeof got));
    freeReplyObject(r);
    o->loaded++;

    r = cmd(c, "TYPE fuzz");
    cr_assert(r->type == REDIS_REPLY_STATUS && !strcmp(r->str, "atomicdoc"), "case %d (%s): TYPE %s", n,
              pl->how, reply_describe(r, got, sizeof got));
    freeReplyObject(r);
    r = cmd(c, "DOC.VERSION fuzz");
    cr_assert(r->type == REDIS_REPLY_INTEGER && r->integer >= 1,
              "case %d (%s): a loaded document has version %s", n, pl->how,
              reply_describe(r, got, sizeof got));
    freeReplyObject(r);
    redisReply *json = cmd(c, "DOC.GET fuzz");
    cr_assert_eq(json->type, REDIS_REPLY_STRING, "case %d (%s): DOC.GET %s", n, pl->how,
                 reply_describe(json, got, sizeof got));
    r = cmd(c, "DOC.SET fuzz-check $ %b", json->str, json->len);
    cr_assert_eq(r->type, REDIS_REPLY_STATUS,
                 "case %d (%s): the loaded JSON %s is refused "
                 "by DOC.SET: %s",
                 n, pl->how, json->str, reply_describe(r, got, sizeof got));
    freeReplyObject(r);
    r = cmd(c, "DOC.GET fuzz-check");
    cr_assert(r->type == REDIS_REPLY_STRING && r->len == json->len && !memcmp(r->str, json->str, r->len),
              "case %d (%s): the loaded JSON does not print back the same", n, pl->how);
    freeReplyObject(r);
    freeReplyObject(json);
    freeReplyObject(cmd(c, "DEL fuzz fuzz-check"));
}

/* A payload of a document rich enough that damage lands in every kind of token. */
static payload dump_rich_doc(redisContext *c) {
    expect_ok(cmd(c, "DOC.SET rich $ %s",
                  "{\"s\":\"h\\u00e9llo \\u0000 \\\"q\\\" \\ud83d\\ude00\",\"n\":[1,-2,3.5,"
                  "1e300,null,true,false,9223372036854775807],\"o\":{\"a\":{\"b\":[[],{}]}},"
                  "\"big\":12345678901234567890,\"e\":\"\"}"));
    for (int i = 0; i < 299; i++) /* version 300: a two-byte length in the payload */
        expect_ok(cmd(c, "DOC.SET rich $.v %d", i));
    redisReply *r = cmd(c, "DUMP rich");
    cr_assert_eq(r->type, REDIS_REPLY_STRING);
    payload pl = {malloc(r->len), r->len, ""};
    cr_assert(pl.p);
    memcpy(pl.p, r->str, r->len);
    freeReplyObject(r);
    return pl;
}

enum { FUZZ_CASES = 1000 };
#define MODULE_DATA_START 10 /* type byte + 0x81 + the 8-byte module id */
#define FOOTER 10            /* RDB version (2) + CRC-64 (8) */

Test(persistence, restore_of_damaged_dump_payloads_is_refused_or_a_valid_document) {
    srv *s = srv_start(NULL);
    redisContext *c = srv_connect(s);
    payload orig = dump_rich_doc(c);
    outcome o = {0, 0, 0};
    rng_state = 0x9e3779b97f4a7c15ULL;
    for (int n = 0; n < FUZZ_CASES; n++) {
        payload pl = {malloc(orig.n), orig.n, ""};
        cr_assert(pl.p);
        memcpy(pl.p, orig.p, orig.n);
        mutate(&pl, 0, 0); /* anywhere, the footer included */
        restore_case(c, &pl, n, &o);
        free(pl.p);
    }
    expect_status(cmd(c, "PING"), "PONG");
    cr_assert_eq(o.loaded + o.refused, FUZZ_CASES);
    cr_assert_gt(o.crc_refusals, FUZZ_CASES / 2,
                 "Redis's CRC check should catch most: "
                 "%d of %d",
                 o.crc_refusals, FUZZ_CASES);
    free(orig.p);
    redisFree(c);
    srv_stop(s);
}

Test(persistence, restore_of_damaged_module_data_with_a_valid_crc_is_refused_or_a_valid_document) {
    srv *s = srv_start(NULL);
    redisContext *c = srv_connect(s);
    payload orig = dump_rich_doc(c);

    /* The untouched payload with a recomputed CRC loads: the CRC is right. */
    fix_crc(orig.p, orig.n);
    outcome o = {0, 0, 0};
    restore_case(c, &orig, -1, &o);
    cr_assert_eq(o.loaded, 1, "the original payload with its CRC recomputed must load");

    o = (outcome){0, 0, 0};
    rng_state = 0xd1b54a32d192ed03ULL;
    for (int n = 0; n < FUZZ_CASES; n++) {
        payload pl = {malloc(orig.n), orig.n, ""};
        cr_assert(pl.p);
        memcpy(pl.p, orig.p, orig.n);
        mutate(&pl, MODULE_DATA_START, FOOTER);
        fix_crc(pl.p, pl.n);
        restore_case(c, &pl, n, &o);
        free(pl.p);
    }
    expect_status(cmd(c, "PING"), "PONG");
    cr_assert_eq(o.crc_refusals, 0, "every damaged payload must reach the module's loader");
    cr_assert_gt(o.refused, 0);
    free(orig.p);
    redisFree(c);
    srv_stop(s);
}

/* Sets the encoding version in the module id of a payload (its low 10 bits; the id
 * is stored big-endian just before the module data). The CRC is left to the caller. */
static void set_encver(payload *pl, unsigned encver) {
    pl->p[MODULE_DATA_START - 2] =
        (unsigned char)((pl->p[MODULE_DATA_START - 2] & ~0x3) | ((encver >> 8) & 0x3));
    pl->p[MODULE_DATA_START - 1] = (unsigned char)(encver & 0xff);
}

/* Builds the payload of a document from its parts: the module id of `model` (a real
 * DUMP) with encoding version `encver`, then `data` (the module's opcodes, forged),
 * then the footer of `model` with the CRC recomputed. */
static payload forge_encver(const payload *model, unsigned encver, const unsigned char *data, size_t n,
                            const char *how) {
    payload pl = {malloc(MODULE_DATA_START + n + FOOTER), MODULE_DATA_START + n + FOOTER, ""};
    cr_assert(pl.p);
    memcpy(pl.p, model->p, MODULE_DATA_START);
    set_encver(&pl, encver);
    memcpy(pl.p + MODULE_DATA_START, data, n);
    memcpy(pl.p + MODULE_DATA_START + n, model->p + model->n - FOOTER, FOOTER);
    fix_crc(pl.p, pl.n);
    snprintf(pl.how, sizeof pl.how, "%s", how);
    return pl;
}

/* An encver 1 payload (JSON text), as atomicdoc wrote before encver 2. */
static payload forge(const payload *model, const unsigned char *data, size_t n, const char *how) {
    return forge_encver(model, 1, data, n, how);
}

/* The serialized tree of {"a":1}: the box (count 1, 9 bytes: an object tag and its
 * zeroed pointer slot), then the object (count 1, 3 bytes: key length 1, "a", the
 * small integer 1 = 0x80 + 1). */
#define SMALL_TREE 1, 9, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 1, 'a', 0x81

/* The DUMP of {"a":1} at version 1, checked to have the layout forge() assumes. */
static payload dump_small(redisContext *c) {
    expect_ok(cmd(c, "DOC.SET small $ %s", "{\"a\":1}"));
    redisReply *r = cmd(c, "DUMP small");
    static const unsigned char data[] = {2, 1, 5, 16, SMALL_TREE, 0};
    cr_assert(r->type == REDIS_REPLY_STRING && r->len == MODULE_DATA_START + sizeof data + FOOTER,
              "unexpected DUMP length %zu", r->len);
    cr_assert_eq((unsigned char)r->str[MODULE_DATA_START - 1], 2, "DUMP is not encver 2");
    cr_assert_eq(memcmp(r->str + MODULE_DATA_START, data, sizeof data), 0,
                 "the module data is not [2 version 5 len tree 0]");
    payload pl = {malloc(r->len), r->len, ""};
    cr_assert(pl.p);
    memcpy(pl.p, r->str, r->len);
    freeReplyObject(r);
    return pl;
}

static void expect_refused(redisContext *c, const payload *pl) {
    redisReply *r = cmd(c, "RESTORE forged 0 %b REPLACE", pl->p, pl->n);
    char got[512];
    reply_describe(r, got, sizeof got);
    bool ok = r->type == REDIS_REPLY_ERROR && !strstr(r->str, "checksum");
    freeReplyObject(r);
    cr_expect(ok, "%s: expected a refusal by the loader, got %s", pl->how, got);
    expect_status(cmd(c, "PING"), "PONG");
    expect_int(cmd(c, "EXISTS forged"), 0);
}

Test(persistence, restore_of_forged_huge_string_lengths_is_refused) {
    srv *s = srv_start(NULL);
    redisContext *c = srv_connect(s);
    payload model = dump_small(c);
    /* opcode 2 + version 1, opcode 5 + a forged length, 7 real bytes, EOF opcode */
    static const struct {
        const char *how;
        unsigned char len[9];
        size_t n;
    } lens[] = {
        {"32-bit length 0xffffffff", {0x80, 0xff, 0xff, 0xff, 0xff}, 5},
        {"32-bit length 0x7fffffff", {0x80, 0x7f, 0xff, 0xff, 0xff}, 5},
        {"64-bit length 2^64-1", {0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 9},
        {"64-bit length 2^63", {0x81, 0x80, 0, 0, 0, 0, 0, 0, 0}, 9},
        {"64-bit length 2^40", {0x81, 0, 0, 0, 1, 0, 0, 0, 0}, 9},
        {"14-bit length 100 (past the end)", {0x40, 100}, 2},
        {"6-bit length 8 (one byte too many)", {8}, 1},
    };
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
        unsigned char data[32];
        size_t n = 0;
        data[n++] = 2;
        data[n++] = 1;
        data[n++] = 5;
        memcpy(data + n, lens[i].len, lens[i].n);
        n += lens[i].n;
        memcpy(data + n, "{\"a\":1}", 7);
        n += 7;
        data[n++] = 0;
        payload pl = forge(&model, data, n, lens[i].how);
        expect_refused(c, &pl);
        free(pl.p);
    }
    free(model.p);
    redisFree(c);
    srv_stop(s);
}

Test(persistence, restore_refuses_version_0_an_unknown_encoding_and_bad_json) {
    srv *s = srv_start(NULL);
    redisContext *c = srv_connect(s);
    payload model = dump_small(c);

    static const unsigned char v0[] = {2, 0, 5, 7, '{', '"', 'a', '"', ':', '1', '}', 0};
    payload pl = forge(&model, v0, sizeof v0, "version 0");
    expect_refused(c, &pl);
    free(pl.p);

    static const unsigned char dup[] = {2,   1,   5,   13,  '{', '"', 'a', '"', ':',
                                        '1', ',', '"', 'a', '"', ':', '2', '}', 0};
    pl = forge(&model, dup, sizeof dup, "duplicate key");
    expect_refused(c, &pl);
    free(pl.p);

    static const unsigned char nan[] = {2, 1, 5, 3, 'N', 'a', 'N', 0};
    pl = forge(&model, nan, sizeof nan, "NaN");
    expect_refused(c, &pl);
    free(pl.p);

    static const unsigned char badutf8[] = {2, 1, 5, 4, '"', 0xc0, 0xaf, '"', 0};
    pl = forge(&model, badutf8, sizeof badutf8, "invalid UTF-8");
    expect_refused(c, &pl);
    free(pl.p);

    static const unsigned char no_text[] = {2, 1, 0};
    pl = forge(&model, no_text, sizeof no_text, "no JSON text");
    expect_refused(c, &pl);
    free(pl.p);

    static const unsigned char as_double[] = {4, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 5, 1, '1', 0};
    pl = forge(&model, as_double, sizeof as_double, "version saved as a double");
    expect_refused(c, &pl);
    free(pl.p);

    /* JSON text under encver 2 (a tree is expected there) and encoding version 3 in
     * the module id's low bits (a format this build never wrote) */
    static const unsigned char good[] = {2, 1, 5, 7, '{', '"', 'a', '"', ':', '1', '}', 0};
    pl = forge_encver(&model, 2, good, sizeof good, "JSON text as encver 2");
    expect_refused(c, &pl);
    free(pl.p);
    static const unsigned char tree[] = {2, 1, 5, 16, SMALL_TREE, 0};
    pl = forge_encver(&model, 3, tree, sizeof tree, "encver 3");
    expect_refused(c, &pl);
    free(pl.p);

    /* and the same bytes with encver 1 load: the refusals above are for their reason */
    pl = forge(&model, good, sizeof good, "valid");
    expect_ok(cmd(c, "RESTORE forged 0 %b", pl.p, pl.n));
    expect_str(cmd(c, "DOC.GET forged"), "{\"a\":1}");
    expect_int(cmd(c, "DOC.VERSION forged"), 1);
    free(pl.p);
    free(model.p);
    redisFree(c);
    srv_stop(s);
}

Test(persistence, restore_of_a_version_beyond_int64_is_refused_or_reads_positive) {
    srv *s = srv_start(NULL);
    redisContext *c = srv_connect(s);
    payload model = dump_small(c);
    static const unsigned char huge[] = {2,    0x81, 0xff, 0xff, 0xff, 0xff, 0xff,
                                         0xff, 0xff, 0xff, 5,    1,    '1',  0};
    payload pl = forge(&model, huge, sizeof huge, "version 2^64-1");
    redisReply *r = cmd(c, "RESTORE forged 0 %b", pl.p, pl.n);
    bool loaded = r->type == REDIS_REPLY_STATUS;
    freeReplyObject(r);
    if (loaded) {
        /* A version a Redis integer cannot carry must not read back negative, nor wrap
         * to 0 (a missing key's version) on the next write. */
        long long v = doc_version(c, "forged");
        cr_expect_gt(v, 0, "DOC.VERSION of a document restored at 2^64-1: %lld", v);
        redisReply *w = cmd(c, "DOC.SET forged $ %s", "2");
        if (w->type != REDIS_REPLY_ERROR)
            cr_expect_gt(doc_version(c, "forged"), 0, "the version wrapped after a write");
        freeReplyObject(w);
    }
    expect_status(cmd(c, "PING"), "PONG");
    free(pl.p);
    free(model.p);
    redisFree(c);
    srv_stop(s);
}

/* ---- restarts ------------------------------------------------------------------- */

Test(persistence, restart_from_the_rdb_keeps_documents_and_versions) {
    srv *s = srv_start(NULL);
    redisContext *c = srv_connect(s);
    write_samples(c);
    redisFree(c);
    srv_restart(s); /* SHUTDOWN SAVE, then load dump.rdb */
    c = srv_connect(s);
    cr_assert_eq(srv_info_int(c, "persistence", "aof_enabled"), 0);
    expect_samples(c, "after a restart from the RDB");
    expect_ok(cmd(c, "DOC.SET doc:unicode $.n %s", "0"));
    cr_assert_eq(doc_version(c, "doc:unicode"), sample_first_version(2) + sample[2].extra_writes + 1);
    redisFree(c);
    srv_stop(s);
}

Test(persistence, aof_replay_after_a_kill_keeps_documents_and_versions) {
    srv *s = srv_start(&(srv_opts){.aof = true, .config = (const char *[]){"appendfsync", "always", NULL}});
    redisContext *c = srv_connect(s);
    write_samples(c);
    /* failures and no-ops in between must not disturb the replay */
    expect_err_prefix(cmd(c, "DOC.SET doc:obj $.name.x %s", "1"), "BADTYPE");
    expect_nil(cmd(c, "DOC.SET doc:obj $.name %s NX", "\"x\""));
    expect_int(cmd(c, "DOC.DEL doc:obj $.nope"), 0);
    expect_ok(cmd(c, "DOC.SET gone $ %s", "1"));
    expect_int(cmd(c, "DOC.DEL gone"), 1);
    redisFree(c);
    srv_kill(s); /* no RDB is saved: only the AOF can bring the data back */
    srv_restart(s);
    c = srv_connect(s);
    expect_samples(c, "after replaying the AOF");
    expect_int(cmd(c, "EXISTS gone"), 0);
    redisFree(c);
    srv_stop(s);
}

Test(persistence, aof_records_only_commands_that_changed_something) {
    srv *s = srv_start(&(srv_opts){.aof = true, .config = (const char *[]){"appendfsync", "always", NULL}});
    redisContext *c = srv_connect(s);
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"a\":1}"));
    expect_err_prefix(cmd(c, "DOC.SET k $.a.b %s", "1"), "BADTYPE");
    expect_err_prefix(cmd(c, "DOC.SET k $.b %s", "[1"), "BADJSON");
    expect_nil(cmd(c, "DOC.SET k $.a %s NX", "2"));
    expect_nil(cmd(c, "DOC.SET k $.z %s XX", "2"));
    expect_int(cmd(c, "DOC.DEL k $.zz"), 0);
    expect_int(cmd(c, "DOC.DEL nothing"), 0);
    expect_err_prefix(cmd(c, "DOC.MSET k $.x %s k $.a.b %s", "1", "2"), "BADTYPE");
    expect_ok(cmd(c, "DOC.SET k $.b %s", "2"));
    expect_int(cmd(c, "DOC.DEL k $.a"), 1);
    size_t len;
    char *aof = read_aof_file(s, 'i', &len);
    cr_expect_eq(count_substr(aof, len, "DOC.SET"), 2, "DOC.SET commands in the AOF");
    cr_expect_eq(count_substr(aof, len, "DOC.DEL"), 1, "DOC.DEL commands in the AOF");
    cr_expect_eq(count_substr(aof, len, "DOC.MSET"), 0, "DOC.MSET commands in the AOF");
    free(aof);
    redisFree(c);
    srv_stop(s);
}

Test(persistence, aof_rewrite_then_restart_keeps_documents_and_versions) {
    /* without the RDB preamble the rewrite is made of the module's own commands */
    srv *s =
        srv_start(&(srv_opts){.aof = true, .config = (const char *[]){"aof-use-rdb-preamble", "no", NULL}});
    redisContext *c = srv_connect(s);
    write_samples(c);
    rewrite_aof(c);
    size_t len;
    char *base = read_aof_file(s, 'b', &len);
    aof_scan scan = scan_aof(base, len, "DOC.AOFLOAD");
    /* one per document, and the version floor first */
    cr_assert_eq(scan.commands, (long)NSAMPLE + 2, "DOC.AOFLOAD commands in the rewritten AOF");
    free(base);
    /* a write after the rewrite lands in the new incremental file */
    expect_ok(cmd(c, "DOC.SET after $ %s", "[1]"));
    redisFree(c);
    srv_restart(s);
    c = srv_connect(s);
    expect_samples(c, "after BGREWRITEAOF and a restart");
    expect_str(cmd(c, "DOC.GET after"), "[1]");
    expect_int(cmd(c, "DOC.VERSION after"), sample_first_version(NSAMPLE) + 1);
    redisFree(c);
    srv_stop(s);
}

Test(persistence, aof_rewrite_with_the_rdb_preamble_then_restart_keeps_documents_and_versions) {
    srv *s = srv_start(&(srv_opts){.aof = true});
    redisContext *c = srv_connect(s);
    write_samples(c);
    rewrite_aof(c);
    redisFree(c);
    srv_restart(s);
    c = srv_connect(s);
    expect_samples(c, "after BGREWRITEAOF (RDB preamble) and a restart");
    redisFree(c);
    srv_stop(s);
}

/* A JSON object of `arrays` arrays of about `array_bytes` bytes each (integers and
 * short strings), plus small members between them; compact, as DOC.GET prints it. */
static char *big_document(int arrays, size_t array_bytes, size_t *len) {
    char *text = NULL;
    size_t n = 0;
    FILE *out = open_memstream(&text, &n);
    cr_assert(out);
    fputc('{', out);
    for (int a = 0; a < arrays; a++) {
        fprintf(out, "%s\"small%d\":%d,\"array%d\":[", a ? "," : "", a, a, a);
        long start = ftell(out);
        for (long i = 0; (size_t)(ftell(out) - start) < array_bytes; i++) {
            if (i % 10 == 9)
                fprintf(out, "%s\"s%ld\"", i ? "," : "", i);
            else
                fprintf(out, "%s%ld", i ? "," : "", i * 7919 % 1000003);
        }
        fputc(']', out);
    }
    fputc('}', out);
    fclose(out);
    *len = n;
    return text;
}

Test(persistence, a_20mb_document_survives_aof_rewrite_and_restart_byte_identical, .timeout = 60) {
    srv *s =
        srv_start(&(srv_opts){.aof = true, .config = (const char *[]){"aof-use-rdb-preamble", "no", NULL}});
    redisContext *c = srv_connect(s);
    size_t len;
    char *json = big_document(4, 5u << 20, &len); /* 4 arrays of 5 MB: each > 4 MB */
    cr_assert_gt(len, 20u << 20);
    expect_ok(cmd(c, "DOC.SET big $ %b", json, len));
    expect_ok(cmd(c, "DOC.SET big $.small0 %s", "7"));
    /* keep `json` equal to the document */
    char *v = strstr(json, "\"small0\":0,");
    cr_assert(v);
    v[9] = '7';
    rewrite_aof(c);
    redisFree(c);
    srv_restart(s);
    c = srv_connect(s);
    redisReply *r = get_doc(c, "big");
    cr_assert_eq(r->len, len, "DOC.GET has %zu bytes, expected %zu", r->len, len);
    cr_assert(!memcmp(r->str, json, len), "the document changed through the rewrite");
    freeReplyObject(r);
    cr_assert_eq(doc_version(c, "big"), 2);
    free(json);
    redisFree(c);
    srv_stop(s);
}

Test(persistence, aof_rewrite_splits_a_big_document_into_commands_of_at_most_4mb, .timeout = 60) {
    srv *s =
        srv_start(&(srv_opts){.aof = true, .config = (const char *[]){"aof-use-rdb-preamble", "no", NULL}});
    redisContext *c = srv_connect(s);
    size_t len;
    char *json = big_document(2, 5u << 20, &len);
    expect_ok(cmd(c, "DOC.SET big $ %b", json, len));
    free(json);
    rewrite_aof(c);
    size_t alen;
    char *base = read_aof_file(s, 'b', &alen);
    aof_scan scan = scan_aof(base, alen, "DOC.AOFLOAD");
    free(base);
    cr_expect_geq(scan.commands, (long)(len / (4u << 20)) + 1, "%zu bytes of JSON in %ld commands", len,
                  scan.commands);
    cr_expect_leq(scan.longest_last_arg, 4u << 20,
                  "a DOC.AOFLOAD carries %zu bytes of JSON, more than 4 MB (4194304)", scan.longest_last_arg);
    redisFree(c);
    srv_stop(s);
}

/* ---- replication ---------------------------------------------------------------- */

Test(persistence, a_replica_has_the_same_documents_versions_and_digest) {
    srv *p = srv_start(NULL);
    redisContext *pc = srv_connect(p);
    /* before the replica exists: it gets these through the full sync (RDB) */
    expect_ok(cmd(pc, "DOC.SET early $ %s", "{\"a\":[1,2,3]}"));
    expect_ok(cmd(pc, "DOC.SET early $.a[0] %s", "0"));
    srv *r = srv_start_replica(p);
    redisContext *rc = srv_connect(r);
    /* after: through the replication stream */
    write_samples(pc);
    expect_err_prefix(cmd(pc, "DOC.SET doc:obj $.name.x %s", "1"), "BADTYPE");
    expect_nil(cmd(pc, "DOC.SET doc:obj $.name %s NX", "1"));
    expect_ok(cmd(pc, "DOC.MSET early $.b %s doc:scalar $ %s", "true", "\"another string\""));
    expect_int(cmd(pc, "DOC.DEL early $.a[-1]"), 1);
    srv_wait_replica_synced(p, r);

    char *want = samples_state(pc), *got = samples_state(rc);
    cr_assert_str_eq(got, want, "the replica's documents and versions");
    free(want);
    free(got);
    expect_str(cmd(rc, "DOC.GET early"), "{\"a\":[0,2],\"b\":true}");
    expect_int(cmd(rc, "DOC.VERSION early"), 4);
    /* created after early's 2 versions and the other samples, then the MSET */
    expect_int(cmd(rc, "DOC.VERSION doc:scalar"), 2 + sample_first_version(NSAMPLE) + 1);

    char *dp = srv_digest(pc), *dr = srv_digest(rc);
    cr_assert_str_eq(dr, dp, "DEBUG DIGEST of replica and primary");
    cr_assert_str_neq(dp, "0000000000000000000000000000000000000000");
    free(dp);
    free(dr);

    expect_err_prefix(cmd(rc, "DOC.SET early $ %s", "1"), "READONLY");
    redisFree(rc);
    redisFree(pc);
    srv_stop(r);
    srv_stop(p);
}

/* calls=N of a command in the replica's INFO commandstats (0 when never called). */
static long long calls(redisContext *c, const char *command) {
    char field[64];
    snprintf(field, sizeof field, "cmdstat_%s", command);
    char *v = srv_info_field(c, "commandstats", field);
    long long n = v && !strncmp(v, "calls=", 6) ? strtoll(v + 6, NULL, 10) : 0;
    free(v);
    return n;
}

Test(persistence, a_replica_receives_only_commands_that_changed_something) {
    srv *p = srv_start(NULL);
    srv *r = srv_start_replica(p);
    redisContext *pc = srv_connect(p), *rc = srv_connect(r);
    expect_ok(cmd(pc, "DOC.SET k $ %s", "{\"a\":1}"));
    expect_err_prefix(cmd(pc, "DOC.SET k $.a.b %s", "1"), "BADTYPE");
    expect_err_prefix(cmd(pc, "DOC.SET k $.b %s", "{"), "BADJSON");
    expect_nil(cmd(pc, "DOC.SET k $.a %s NX", "2"));
    expect_nil(cmd(pc, "DOC.SET k $.q %s XX", "2"));
    expect_int(cmd(pc, "DOC.DEL k $.nope"), 0);
    expect_int(cmd(pc, "DOC.DEL nothing"), 0);
    expect_err_prefix(cmd(pc, "DOC.MSET k $.c %s k $.a.b %s", "1", "1"), "BADTYPE");
    expect_ok(cmd(pc, "DOC.SET k $.b %s", "2"));
    expect_ok(cmd(pc, "DOC.MSET k $.c %s other $ %s", "3", "4"));
    expect_int(cmd(pc, "DOC.DEL k $.a"), 1);
    srv_wait_replica_synced(p, r);
    cr_expect_eq(calls(rc, "doc.set"), 2, "DOC.SET commands the replica ran");
    cr_expect_eq(calls(rc, "doc.mset"), 1, "DOC.MSET commands the replica ran");
    cr_expect_eq(calls(rc, "doc.del"), 1, "DOC.DEL commands the replica ran");
    expect_str(cmd(rc, "DOC.GET k"), "{\"b\":2,\"c\":3}");
    expect_int(cmd(rc, "DOC.VERSION k"), 4);
    redisFree(pc);
    redisFree(rc);
    srv_stop(r);
    srv_stop(p);
}

/* ---- MEMORY USAGE, DEBUG DIGEST ------------------------------------------------- */

Test(persistence, memory_usage_counts_the_bytes_of_the_document) {
    srv *s = srv_start(NULL);
    redisContext *c = srv_connect(s);
    expect_ok(cmd(c, "DOC.SET small $ %s", "{\"a\":1}"));
    size_t len;
    char *json = big_document(1, 200000, &len);
    expect_ok(cmd(c, "DOC.SET large $ %b", json, len));
    free(json);
    redisReply *r = cmd(c, "MEMORY USAGE small SAMPLES 0");
    cr_assert_eq(r->type, REDIS_REPLY_INTEGER);
    long long small = r->integer;
    freeReplyObject(r);
    r = cmd(c, "MEMORY USAGE large SAMPLES 0");
    cr_assert_eq(r->type, REDIS_REPLY_INTEGER);
    long long large = r->integer;
    freeReplyObject(r);
    cr_assert_gt(small, 0);
    /* ~200 KB of JSON: tens of thousands of values cannot fit in less than 100 KB */
    cr_assert_gt(large, 100000, "MEMORY USAGE of a 200 KB document: %lld", large);
    cr_assert_gt(large, small * 100, "small %lld, large %lld", small, large);
    redisFree(c);
    srv_stop(s);
}

/* DEBUG DIGEST-VALUE of one key, malloc'd. */
static char *digest_value(redisContext *c, const char *key) {
    redisReply *r = cmd(c, "DEBUG DIGEST-VALUE %s", key);
    char got[256];
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 1 && r->element[0]->str,
              "DEBUG DIGEST-VALUE %s: %s", key, reply_describe(r, got, sizeof got));
    char *d = strdup(r->element[0]->str);
    freeReplyObject(r);
    return d;
}

Test(persistence, digest_value_tells_documents_apart_and_matches_equal_ones) {
    srv *s = srv_start(NULL);
    redisContext *c = srv_connect(s);
    expect_ok(cmd(c, "DOC.SET a $ %s", "{\"x\":[1,2],\"y\":\"s\"}"));
    /* b: the same JSON at the same version (RESTORE keeps the version) */
    redisReply *dump = cmd(c, "DUMP a");
    cr_assert_eq(dump->type, REDIS_REPLY_STRING);
    expect_ok(cmd(c, "RESTORE b 0 %b", dump->str, dump->len));
    freeReplyObject(dump);
    expect_ok(cmd(c, "DOC.SET other $ %s", "{\"x\":[1,3],\"y\":\"s\"}"));
    expect_ok(cmd(c, "DOC.SET order $ %s", "{\"y\":\"s\",\"x\":[1,2]}"));
    char *da = digest_value(c, "a"), *db = digest_value(c, "b");
    char *dother = digest_value(c, "other"), *dorder = digest_value(c, "order");
    cr_expect_str_eq(da, db, "equal documents at equal versions");
    cr_expect_str_neq(da, dother, "documents differing in one number");
    cr_expect_str_neq(da, dorder, "documents differing in member order");
    free(db);
    /* the same JSON at another version is another state */
    expect_ok(cmd(c, "DOC.SET b $.y %s", "\"t\""));
    expect_ok(cmd(c, "DOC.SET b $.y %s", "\"s\""));
    expect_str(cmd(c, "DOC.GET b"), "{\"x\":[1,2],\"y\":\"s\"}");
    expect_int(cmd(c, "DOC.VERSION b"), 3);
    db = digest_value(c, "b");
    cr_expect_str_neq(da, db, "equal JSON at versions 1 and 3");
    free(da);
    free(db);
    free(dother);
    free(dorder);
    redisFree(c);
    srv_stop(s);
}

Test(persistence, debug_digest_changes_when_a_document_changes) {
    srv *s = srv_start(NULL);
    redisContext *c = srv_connect(s);
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"a\":[1,2]}"));
    char *d1 = srv_digest(c);
    expect_ok(cmd(c, "DOC.SET k $.a[1] %s", "3"));
    char *d2 = srv_digest(c);
    cr_expect_str_neq(d1, d2);
    expect_nil(cmd(c, "DOC.SET k $.a %s NX", "0"));
    expect_err_prefix(cmd(c, "DOC.SET k $.a.b %s", "0"), "BADTYPE");
    char *d3 = srv_digest(c);
    cr_expect_str_eq(d2, d3, "a no-op and a failure leave the dataset alone");
    free(d1);
    free(d2);
    free(d3);
    redisFree(c);
    srv_stop(s);
}

/* ---- the loading rule: what we wrote loads whatever the configs say now -------- */

/* `depth` nested arrays around one string of `strlen` 'x's: [[["xx..."]]]. */
static char *nested_around_string(int depth, size_t strlen_, size_t *len) {
    size_t n = 2 * (size_t)depth + strlen_ + 2;
    char *t = malloc(n + 1);
    cr_assert(t);
    size_t at = 0;
    for (int i = 0; i < depth; i++) t[at++] = '[';
    t[at++] = '"';
    memset(t + at, 'x', strlen_);
    at += strlen_;
    t[at++] = '"';
    for (int i = 0; i < depth; i++) t[at++] = ']';
    t[at] = '\0';
    *len = at;
    return t;
}

static void expect_doc_text(redisContext *c, const char *key, const char *json, size_t len,
                            const char *when) {
    redisReply *r = cmd(c, "DOC.GET %s", key);
    bool same = r->type == REDIS_REPLY_STRING && r->len == len && !memcmp(r->str, json, len);
    char got[160];
    reply_describe(r, got, sizeof got);
    cr_assert(same, "%s: DOC.GET %s is %s (%zu bytes), expected %zu bytes", when, key, got,
              r->type == REDIS_REPLY_STRING ? r->len : 0, len);
    freeReplyObject(r);
}

Test(persistence, a_document_deeper_than_max_depth_survives_aof_rewrite_and_restart, .timeout = 90) {
    /* The defect: written at max-depth 200, the limit lowered to 128, rewritten
     * without the RDB preamble: the reload refused the deep parts (TOODEEP) and
     * Redis started with the document cut down to empty arrays. */
    srv *s =
        srv_start(&(srv_opts){.aof = true, .config = (const char *[]){"aof-use-rdb-preamble", "no", NULL}});
    redisContext *c = srv_connect(s);
    size_t len;
    char *json = nested_around_string(130, 4u << 20, &len);
    expect_ok(cmd(c, "CONFIG SET atomicdoc.max-depth 200"));
    expect_ok(cmd(c, "DOC.SET deep $ %b", json, len));
    expect_ok(cmd(c, "DOC.SET small $ %s", "[[[[1]]]]"));
    expect_ok(cmd(c, "CONFIG SET atomicdoc.max-depth 128"));
    rewrite_aof(c);
    redisFree(c);
    srv_restart(s); /* starts with the default max-depth, 128 */
    c = srv_connect(s);
    expect_doc_text(c, "deep", json, len, "after BGREWRITEAOF and a restart");
    cr_assert_eq(doc_version(c, "deep"), 1);
    /* clients are still held to max-depth */
    char path[400] = "$";
    for (int i = 0; i < 129; i++) strcat(path, "[0]");
    expect_err_prefix(cmd(c, "DOC.GET deep %s", path), "TOODEEP");
    free(json);
    redisFree(c);
    srv_stop(s);
}

Test(persistence, the_aof_tail_replays_writes_accepted_under_a_higher_max_depth_or_size, .timeout = 60) {
    srv *s = srv_start(&(srv_opts){.aof = true});
    redisContext *c = srv_connect(s);
    size_t len;
    char *json = nested_around_string(150, 10, &len);
    char big[3000];
    memset(big, 'y', sizeof big);
    expect_ok(cmd(c, "CONFIG SET atomicdoc.max-depth 200"));
    expect_ok(cmd(c, "DOC.SET deep $ %b", json, len));
    expect_ok(cmd(c, "DOC.SET size $ \"%b\"", big, sizeof big));
    expect_ok(cmd(c, "CONFIG SET atomicdoc.max-depth 128"));
    expect_ok(cmd(c, "CONFIG SET atomicdoc.max-document-size 1kb"));
    redisFree(c);
    srv_restart(s); /* replays the AOF under the default configs */
    c = srv_connect(s);
    expect_doc_text(c, "deep", json, len, "after replaying the AOF");
    redisReply *r = cmd(c, "DOC.LEN size");
    cr_assert_eq(r->type, REDIS_REPLY_INTEGER);
    cr_assert_eq(r->integer, (long long)sizeof big);
    freeReplyObject(r);
    free(json);
    redisFree(c);
    srv_stop(s);
}

Test(persistence, a_restored_document_deeper_than_max_depth_survives_aof_rewrite, .timeout = 90) {
    /* RESTORE accepts what RDB loading accepts (the hard limit), so a document deeper
     * than the default max-depth exists without any CONFIG SET. */
    srv *s =
        srv_start(&(srv_opts){.aof = true, .config = (const char *[]){"aof-use-rdb-preamble", "no", NULL}});
    redisContext *c = srv_connect(s);
    size_t len;
    char *json = nested_around_string(140, 5u << 20, &len);
    expect_ok(cmd(c, "CONFIG SET atomicdoc.max-depth 200"));
    expect_ok(cmd(c, "DOC.SET src $ %b", json, len));
    redisReply *dump = cmd(c, "DUMP src");
    cr_assert_eq(dump->type, REDIS_REPLY_STRING);
    expect_ok(cmd(c, "CONFIG SET atomicdoc.max-depth 128"));
    expect_ok(cmd(c, "RESTORE dst 0 %b", dump->str, dump->len));
    freeReplyObject(dump);
    rewrite_aof(c);
    redisFree(c);
    srv_restart(s);
    c = srv_connect(s);
    expect_doc_text(c, "dst", json, len, "after RESTORE, BGREWRITEAOF and a restart");
    free(json);
    redisFree(c);
    srv_stop(s);
}

Test(persistence, a_replica_with_lower_limits_applies_everything_its_primary_accepted, .timeout = 60) {
    srv *p = srv_start(NULL);
    srv *r = srv_start_replica(p);
    redisContext *pc = srv_connect(p);
    redisContext *rc = srv_connect(r);
    expect_ok(cmd(rc, "CONFIG SET atomicdoc.max-depth 8"));
    expect_ok(cmd(rc, "CONFIG SET atomicdoc.max-document-size 1kb"));
    expect_ok(cmd(rc, "CONFIG SET atomicdoc.max-txn-ops 2"));
    size_t len;
    char *json = nested_around_string(20, 2000, &len);
    expect_ok(cmd(pc, "DOC.SET deep $ %b", json, len));
    expect_int(cmd(pc, "DOC.PUSH deep $[0][0][0][0][0][0][0][0][0][0] %s", "[[[[1]]]]"), 2);
    expect_int(cmd(pc, "DOC.PULL deep $[0] WHERE %s", "{\"a.b.c.d.e.f.g.h.i.j\":1}"), 0);
    expect_int(cmd(pc, "DOC.UPDATE deep2 %s UPSERT", "{\"$set\":{\"a.b.c.d.e.f.g.h.i.j\":1}}"), 1);
    redisReply *t = cmd(pc, "DOC.TXN 1 n INCR 1 $.a 1 INCR 1 $.a 1 INCR 1 $.a 1 INCR 1 $.b 1");
    cr_assert_eq(t->type, REDIS_REPLY_ARRAY);
    freeReplyObject(t);
    redisReply *w = cmd(pc, "WAIT 1 10000");
    cr_assert_eq(w->integer, 1);
    freeReplyObject(w);
    srv_wait_replica_synced(p, r);
    char *dp = srv_digest(pc), *dr = srv_digest(rc);
    cr_assert_str_eq(dp, dr, "the replica diverged: its lower limits refused the primary's writes");
    free(dp);
    free(dr);
    cr_assert_eq(doc_version(rc, "n"), doc_version(pc, "n"));
    /* the replica's own clients are still held to its configs */
    expect_err_prefix(cmd(rc, "DOC.GET deep $[0][0][0][0][0][0][0][0][0][0][0]"), "TOODEEP");
    free(json);
    redisFree(pc);
    redisFree(rc);
    srv_stop(r);
    srv_stop(p);
}

/* Writes `content` over the AOF file of `type` the manifest names. */
static void write_aof_file(const srv *s, char type, const char *content) {
    char path[640];
    aof_file_path(s, type, path, sizeof path);
    FILE *f = fopen(path, "wb");
    cr_assert(f, "cannot write %s", path);
    fputs(content, f);
    fclose(f);
}

/* One command in RESP, appended to out. */
static void resp_command(char *out, size_t cap, int argc, const char **argv) {
    size_t at = strlen(out);
    at += (size_t)snprintf(out + at, cap - at, "*%d\r\n", argc);
    for (int i = 0; i < argc; i++)
        at += (size_t)snprintf(out + at, cap - at, "$%zu\r\n%s\r\n", strlen(argv[i]), argv[i]);
}

Test(persistence, an_aof_written_by_the_earlier_container_by_container_rewrite_still_loads) {
    /* Before the rewrite sent big documents as text slices, it sent their
     * containers: the document with empty placeholders, then each placeholder's
     * elements or members at its path. Such AOFs must still load. */
    srv *s =
        srv_start(&(srv_opts){.aof = true, .config = (const char *[]){"aof-use-rdb-preamble", "no", NULL}});
    redisContext *c = srv_connect(s);
    expect_ok(cmd(c, "DOC.SET other $ 1"));
    rewrite_aof(c);
    redisFree(c);
    srv_kill(s);
    char aof[2048] = "";
    resp_command(aof, sizeof aof, 2, (const char *[]){"SELECT", "0"});
    resp_command(aof, sizeof aof, 5,
                 (const char *[]){"DOC.AOFLOAD", "big", "7", "$", "{\"a\":[],\"o\":{},\"n\":1}"});
    resp_command(aof, sizeof aof, 5, (const char *[]){"DOC.AOFLOAD", "big", "7", "$[\"a\"]", "[1,2,3]"});
    resp_command(aof, sizeof aof, 5, (const char *[]){"DOC.AOFLOAD", "big", "7", "$[\"a\"]", "[4]"});
    resp_command(aof, sizeof aof, 5, (const char *[]){"DOC.AOFLOAD", "big", "7", "$[\"o\"]", "{\"x\":[]}"});
    resp_command(aof, sizeof aof, 5,
                 (const char *[]){"DOC.AOFLOAD", "big", "7", "$[\"o\"][\"x\"]", "[true]"});
    write_aof_file(s, 'b', aof);
    write_aof_file(s, 'i', "");
    srv_restart(s);
    c = srv_connect(s);
    expect_str(cmd(c, "DOC.GET big"), "{\"a\":[1,2,3,4],\"o\":{\"x\":[true]},\"n\":1}");
    cr_assert_eq(doc_version(c, "big"), 7);
    expect_int(cmd(c, "EXISTS other"), 0); /* the base was replaced whole */
    redisFree(c);
    srv_stop(s);
}

/* ---- the binary encoding (encver 2) ------------------------------------------------ */

/* An order-like JSON document of about `bytes` bytes, compact, as DOC.GET prints it:
 * arrays of objects with the same keys, integers of every width, doubles, short
 * strings with escapes and non-ASCII text, an object large enough for an index. */
static char *orders_json(size_t bytes, size_t *len) {
    char *text = NULL;
    size_t n = 0;
    FILE *out = open_memstream(&text, &n);
    cr_assert(out);
    fputs("{\"user\":\"Ad\xc3\xa9le \\\"A\\\"\",\"wide\":{", out);
    for (int i = 0; i < 40; i++) fprintf(out, "%s\"k%d\":%d", i ? "," : "", i, i * 1000);
    fputs("},\"orders\":[", out);
    for (long i = 0; (size_t)ftell(out) < bytes; i++)
        fprintf(out,
                "%s{\"id\":%ld,\"sku\":\"SKU-%04ld\",\"qty\":%ld,\"price\":%ld.25,"
                "\"big\":%lld,\"status\":\"%s\",\"tags\":[\"a\",null,true]}",
                i ? "," : "", 1000 + i, i * 7 % 10000, i % 9, i % 250, (long long)i * 987654321987LL,
                i % 2 ? "paid" : "sh\xc3\xafpped\\n");
    fputs("]}", out);
    fclose(out);
    *len = n;
    return text;
}

/* MEMORY USAGE of a key (before any DOC.GET: the read cache counts too). */
static long long memory_usage(redisContext *c, const char *key) {
    redisReply *r = cmd(c, "MEMORY USAGE %s SAMPLES 0", key);
    cr_assert_eq(r->type, REDIS_REPLY_INTEGER);
    long long n = r->integer;
    freeReplyObject(r);
    return n;
}

/* Garbage trees queued for the lazyfree thread still count in memory_bytes. */
static bool no_lazyfree_pending(void *arg) {
    return srv_info_int(arg, "atomicdoc", "atomicdoc_lazyfree_pending_objects") == 0;
}

Test(persistence, debug_reload_of_large_documents_keeps_bytes_versions_ttl_and_memory_usage, .timeout = 60) {
    srv *s = srv_start(NULL);
    redisContext *c = srv_connect(s);
    size_t olen, blen, dlen;
    char *orders = orders_json(300000, &olen);
    char *big = big_document(2, 100000, &blen);
    char *deep = nested_around_string(128, 100, &dlen);
    const char *keys[] = {"orders", "big", "deep"};
    const char *texts[] = {orders, big, deep};
    size_t lens[] = {olen, blen, dlen};
    long long mem[3], ver[3];
    for (int i = 0; i < 3; i++) expect_ok(cmd(c, "DOC.SET %s $ %b", keys[i], texts[i], lens[i]));
    expect_ok(cmd(c, "DOC.SET orders $.user %s", "\"Bob\"")); /* version 2 */
    char *v = strstr(orders, "\"Ad\xc3\xa9le \\\"A\\\"\"");
    cr_assert(v);
    /* keep `orders` equal to the document: "Bob" in place of the user's name */
    size_t old = strlen("\"Ad\xc3\xa9le \\\"A\\\"\"");
    memmove(v + 5, v + old, olen - (size_t)(v - orders) - old + 1);
    memcpy(v, "\"Bob\"", 5);
    lens[0] = olen = olen - old + 5;
    /* An edit leaves growth room in the nodes it touched, which a reload drops; set
     * the whole document again (fresh, compact nodes) to compare MEMORY USAGE exactly
     * (by way of another value: a DOC.SET of the very text the document holds keeps
     * the tree as it is). */
    expect_ok(cmd(c, "DOC.SET orders $ %s", "0"));
    expect_ok(cmd(c, "DOC.SET orders $ %b", orders, olen));
    expect_int(cmd(c, "PEXPIRE big 600000"), 1);
    for (int i = 0; i < 3; i++) {
        mem[i] = memory_usage(c, keys[i]);
        ver[i] = doc_version(c, keys[i]);
    }
    /* the bytes of every node and index, as requested from the allocator, once
     * the replaced orders tree has been freed (it went to the lazyfree thread) */
    cr_assert(wait_until(no_lazyfree_pending, c, 20000), "the lazyfree thread never finished");
    long long node_bytes = srv_info_int(c, "atomicdoc", "atomicdoc_memory_bytes");

    expect_ok(cmd(c, "DEBUG RELOAD"));
    long long nb = srv_info_int(c, "atomicdoc", "atomicdoc_memory_bytes");
    cr_expect_eq(nb, node_bytes,
                 "the loaded trees hold exactly the bytes the parsed ones held: "
                 "%lld, before: %lld",
                 nb, node_bytes);
    for (int i = 0; i < 3; i++) {
        long long m = memory_usage(c, keys[i]);
        cr_expect_eq(m, mem[i], "MEMORY USAGE %s after DEBUG RELOAD: %lld, before: %lld", keys[i], m, mem[i]);
        expect_doc_text(c, keys[i], texts[i], lens[i], "after DEBUG RELOAD");
        cr_expect_eq(doc_version(c, keys[i]), ver[i], "DOC.VERSION %s after DEBUG RELOAD", keys[i]);
    }
    cr_assert_gt(ver[0], 1, "orders was changed after its creation");
    redisReply *r = cmd(c, "PTTL big");
    cr_assert(r->type == REDIS_REPLY_INTEGER && r->integer > 0 && r->integer <= 600000,
              "PTTL big after DEBUG RELOAD: %lld", r->integer);
    freeReplyObject(r);
    expect_int(cmd(c, "PTTL orders"), -1);
    /* a loaded document is a document like any other: paths through the indexes */
    expect_str(cmd(c, "DOC.GET orders $.wide.k39"), "39000");
    expect_str(cmd(c, "DOC.GET orders $.orders[100].id"), "1100");
    expect_ok(cmd(c, "DOC.SET orders $.wide.k40 %s", "1"));
    free(orders);
    free(big);
    free(deep);
    redisFree(c);
    srv_stop(s);
}

Test(persistence, dump_restore_round_trip_keeps_bytes_version_and_sets_the_ttl) {
    srv *s = srv_start(NULL);
    redisContext *c = srv_connect(s);
    size_t len;
    char *json = orders_json(100000, &len);
    expect_ok(cmd(c, "DOC.SET src $ %b", json, len));
    for (int i = 0; i < 4; i++) expect_ok(cmd(c, "DOC.SET src $.wide.k0 %d", i));
    char *k0 = strstr(json, "\"k0\":0");
    cr_assert(k0);
    k0[5] = '3';
    redisReply *dump = cmd(c, "DUMP src");
    cr_assert_eq(dump->type, REDIS_REPLY_STRING);
    cr_assert_eq((unsigned char)dump->str[MODULE_DATA_START - 1], 2, "DUMP writes encver 2");
    cr_assert_lt(dump->len, len, "the tree (%zu bytes) is smaller than the JSON (%zu)", dump->len, len);
    expect_ok(cmd(c, "RESTORE dst 90000 %b", dump->str, dump->len));
    expect_ok(cmd(c, "RESTORE forever 0 %b", dump->str, dump->len));
    freeReplyObject(dump);
    expect_doc_text(c, "dst", json, len, "after RESTORE");
    expect_doc_text(c, "forever", json, len, "after RESTORE");
    cr_assert_eq(doc_version(c, "dst"), doc_version(c, "src"));
    cr_assert_eq(doc_version(c, "forever"), doc_version(c, "src"));
    redisReply *r = cmd(c, "PTTL dst");
    cr_assert(r->type == REDIS_REPLY_INTEGER && r->integer > 0 && r->integer <= 90000,
              "PTTL after RESTORE dst 90000: %lld", r->integer);
    freeReplyObject(r);
    expect_int(cmd(c, "PTTL forever"), -1);
    free(json);
    redisFree(c);
    srv_stop(s);
}

Test(persistence, restore_of_forged_encver_2_payloads_is_refused) {
    srv *s = srv_start(NULL);
    redisContext *c = srv_connect(s);
    payload model = dump_small(c);
    /* [2 version 5 len tree 0] with a forged tree */
    static const struct {
        const char *how;
        unsigned char tree[40];
        size_t n;
    } trees[] = {
        {"the tree cut short", {1, 9, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 1, 'a'}, 15},
        {"no child record", {1, 9, 9, 0, 0, 0, 0, 0, 0, 0, 0}, 11},
        {"a byte after the tree", {1, 9, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 1, 'a', 0x81, 0}, 17},
        {"an unknown tag", {1, 9, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 1, 'a', 0x0c}, 16},
        {"a pointer in a child slot", {1, 9, 9, 0, 0, 0, 0x10, 0, 0, 0, 0, 1, 3, 1, 'a', 0x81}, 16},
        {"a count of 2 for one member", {1, 9, 9, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 1, 'a', 0x81}, 16},
        {"a key length past its node", {1, 9, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 9, 'a', 0x81}, 16},
        {"a node length past the end", {1, 9, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 1, 'a', 0x81}, 16},
        {"a duplicate key", {1, 9, 9, 0, 0, 0, 0, 0, 0, 0, 0, 2, 6, 1, 'a', 0x81, 1, 'a', 0x82}, 19},
        {"a key that is not UTF-8", {1, 9, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 1, 0xc0, 0x81}, 16},
        {"a NaN", {1, 9, 7, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f}, 11},
        {"an integer not in its smallest encoding", {1, 2, 3, 1}, 4},
        {"an empty tree", {0}, 0},
    };
    for (size_t i = 0; i < sizeof trees / sizeof *trees; i++) {
        unsigned char data[64];
        size_t n = 0;
        data[n++] = 2;
        data[n++] = 1;
        data[n++] = 5;
        data[n++] = (unsigned char)trees[i].n;
        memcpy(data + n, trees[i].tree, trees[i].n);
        n += trees[i].n;
        data[n++] = 0;
        payload pl = forge_encver(&model, 2, data, n, trees[i].how);
        expect_refused(c, &pl);
        free(pl.p);
    }
    /* nesting past the hard limit (10000): 10001 arrays, each a one-slot node */
    size_t depth = 10001, tn = 0, cap = depth * 11 + 8;
    unsigned char *tree = malloc(cap);
    cr_assert(tree);
    for (size_t d = 0; d < depth; d++) {
        tree[tn++] = 1;
        tree[tn++] = 9;
        tree[tn++] = 0x0a;
        memset(tree + tn, 0, 8);
        tn += 8;
    }
    tree[tn++] = 0; /* the innermost: an empty array */
    tree[tn++] = 0;
    size_t dn = 0;
    unsigned char *data = malloc(tn + 16);
    cr_assert(data);
    data[dn++] = 2;
    data[dn++] = 1;
    data[dn++] = 5;
    data[dn++] = 0x80; /* a 32-bit length */
    for (int b = 3; b >= 0; b--) data[dn++] = (unsigned char)(tn >> (8 * b));
    memcpy(data + dn, tree, tn);
    dn += tn;
    data[dn++] = 0;
    payload pl = forge_encver(&model, 2, data, dn, "10001 nested arrays");
    expect_refused(c, &pl);
    free(pl.p);
    /* one level less (the hard limit, above max-depth) loads */
    size_t tn2 = tn - 11;
    dn = 4;
    for (int b = 3; b >= 0; b--) data[dn++] = (unsigned char)(tn2 >> (8 * b));
    memcpy(data + dn, tree + 11, tn2);
    dn += tn2;
    data[dn++] = 0;
    pl = forge_encver(&model, 2, data, dn, "10000 nested arrays");
    expect_ok(cmd(c, "RESTORE forged 0 %b", pl.p, pl.n));
    free(pl.p);
    expect_status(cmd(c, "DOC.TYPE forged"), "array");
    /* and the valid tree loads: the refusals above are for their reason */
    static const unsigned char good[] = {2, 1, 5, 16, SMALL_TREE, 0};
    pl = forge_encver(&model, 2, good, sizeof good, "valid");
    expect_ok(cmd(c, "RESTORE forged 0 %b REPLACE", pl.p, pl.n));
    expect_str(cmd(c, "DOC.GET forged"), "{\"a\":1}");
    free(pl.p);
    free(data);
    free(tree);
    free(model.p);
    redisFree(c);
    srv_stop(s);
}

Test(persistence, an_rdb_and_a_dump_written_with_the_text_encoding_load_in_the_default_build) {
    /* rdb-encoding text: the type registers with encver 1 and saves JSON text, as
     * atomicdoc did before encver 2 */
    srv *t = srv_start(&(srv_opts){.module_args = (const char *[]){"rdb-encoding", "text", NULL}});
    redisContext *tc = srv_connect(t);
    write_samples(tc);
    redisReply *dump = cmd(tc, "DUMP doc:nested");
    cr_assert_eq(dump->type, REDIS_REPLY_STRING);
    cr_assert_eq((unsigned char)dump->str[MODULE_DATA_START - 1], 1, "the text build writes encver 1");
    cr_assert(memmem(dump->str, dump->len, "{\"a\":{\"b\"", 9), "the payload holds the JSON text");
    expect_ok(cmd(tc, "SAVE"));
    char rdb[300];
    snprintf(rdb, sizeof rdb, "%s/dump.rdb", t->dir);

    srv *s = srv_start(NULL);
    redisContext *c = srv_connect(s);
    expect_ok(cmd(c, "RESTORE copy 0 %b", dump->str, dump->len));
    freeReplyObject(dump);
    redisReply *a = get_doc(tc, "doc:nested"), *b = get_doc(c, "copy");
    cr_assert(a->len == b->len && !memcmp(a->str, b->str, a->len));
    freeReplyObject(a);
    freeReplyObject(b);
    redisFree(c);
    srv_kill(s);
    char target[300];
    snprintf(target, sizeof target, "%s/dump.rdb", s->dir);
    FILE *in = fopen(rdb, "rb"), *out = fopen(target, "wb");
    cr_assert(in && out);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) cr_assert_eq(fwrite(buf, 1, n, out), n);
    fclose(in);
    fclose(out);
    srv_restart(s); /* loads the text build's RDB */
    c = srv_connect(s);
    expect_samples(c, "after loading an RDB written with rdb-encoding text");
    expect_int(cmd(c, "EXISTS copy"), 0);
    redisFree(c);
    redisFree(tc);
    srv_stop(s);
    srv_stop(t);
}

Test(persistence, a_replica_full_sync_carries_large_documents, .timeout = 60) {
    srv *p = srv_start(NULL);
    redisContext *pc = srv_connect(p);
    size_t len;
    char *json = orders_json(2u << 20, &len);
    for (int i = 0; i < 5; i++) expect_ok(cmd(pc, "DOC.SET big:%d $ %b", i, json, len));
    expect_ok(cmd(pc, "DOC.SET big:0 $.user %s", "\"x\""));
    srv *r = srv_start_replica(p); /* a full sync: the RDB, in the binary encoding */
    redisContext *rc = srv_connect(r);
    srv_wait_replica_synced(p, r);
    expect_doc_text(rc, "big:4", json, len, "on the replica after a full sync");
    cr_assert_eq(doc_version(rc, "big:0"), 2);
    char *dp = srv_digest(pc), *dr = srv_digest(rc);
    cr_assert_str_eq(dr, dp, "DEBUG DIGEST of replica and primary");
    free(dp);
    free(dr);
    free(json);
    redisFree(rc);
    redisFree(pc);
    srv_stop(r);
    srv_stop(p);
}
