/*
 * test_rdb.c - the serialized tree (tree.c), the RDB encoding of encver 2:
 * every document round-trips (load(serialize(t)) is t: same print, same
 * serialized bytes, same memory), and hostile bytes - truncations at every
 * byte, flipped bits at every byte, forged counts, lengths, tags and
 * offsets, failing allocations - give an error and leak nothing, never a
 * crash (make sanitize runs this under ASan + UBSan).
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "../test_util.h"
#include "unit_alloc.h"

static doc_node *parse_ok(const char *json, size_t len) {
    doc_error err;
    doc_error_clear(&err);
    doc_node *box = doc_parse(json, len, DOC_DEPTH_LIMIT, &err);
    cr_assert(box, "parse failed: %s (%.80s)", err.msg, json);
    return box;
}

static doc_buf serialize_ok(const doc_node *box) {
    doc_buf b;
    doc_buf_init(&b);
    cr_assert_eq(doc_tree_serialize(box, &b), DOC_OK);
    return b;
}

static doc_buf print_buf(const doc_node *box) {
    doc_buf b;
    doc_buf_init(&b);
    doc_print(doc_box_value(box), &b);
    cr_assert(!b.oom);
    return b;
}

/* load(serialize(parse(json))) prints as the parsed tree does, serializes to the
 * same bytes, is identical and holds the same memory. */
static void check_round_trip(const char *json, size_t len) {
    /* Requested sizes: malloc_usable_size may differ for equal requests. */
    unit_alloc_plain();
    doc_node *a = parse_ok(json, len);
    doc_buf sa = serialize_ok(a);
    doc_error err;
    doc_error_clear(&err);
    doc_node *b = doc_tree_load((const uint8_t *)sa.data, sa.len, DOC_DEPTH_LIMIT, &err);
    cr_assert(b, "load failed: %s at %zu (%.80s)", err.msg, err.offset, json);
    doc_buf sb = serialize_ok(b), pa = print_buf(a), pb = print_buf(b);
    cr_assert(sa.len == sb.len && !memcmp(sa.data, sb.data, sa.len), "serialized bytes differ: %.80s", json);
    cr_assert(pa.len == pb.len && !memcmp(pa.data, pb.data, pa.len), "printed text differs: %.80s", json);
    cr_assert(doc_value_identical(doc_box_value(a), doc_box_value(b)));
    cr_assert_eq(doc_node_memory(a), doc_node_memory(b), "memory differs: %zu %zu %.80s", doc_node_memory(a),
                 doc_node_memory(b), json);
    doc_buf_free(&sa);
    doc_buf_free(&sb);
    doc_buf_free(&pa);
    doc_buf_free(&pb);
    doc_node_free(a);
    doc_node_free(b);
}

/* An order-like document of n orders: large arrays, indexed and small objects. */
static doc_buf orders_doc(int n) {
    doc_buf b;
    doc_buf_init(&b);
    char tmp[256];
    static const char head[] = "{\"user\":\"Ada L\\u00f6velace\",\"orders\":[";
    doc_buf_append(&b, head, sizeof head - 1);
    for (int i = 0; i < n; i++) {
        int k = snprintf(tmp, sizeof tmp,
                         "%s{\"id\":%d,\"sku\":\"SKU-%04d\",\"qty\":%d,\"price\":%d.%02d,"
                         "\"status\":\"%s\",\"big\":%lld}",
                         i ? "," : "", 1000 + i, i * 7 % 10000, i % 9, i % 250, i % 100,
                         i % 3 ? "paid" : "sh\\\"ipped", (long long)i * 123456789012LL);
        doc_buf_append(&b, tmp, (size_t)k);
    }
    doc_buf_append(&b, "],\"wide\":{", 10);
    for (int i = 0; i < 100; i++) {
        int k = snprintf(tmp, sizeof tmp, "%s\"k%d\":[%d,-%d,null]", i ? "," : "", i, i, i * 1000);
        doc_buf_append(&b, tmp, (size_t)k);
    }
    doc_buf_append(&b, "}}", 2);
    cr_assert(!b.oom);
    return b;
}

Test(rdb, round_trip_of_many_documents) {
    static const char *const docs[] = {
        "null",
        "true",
        "false",
        "0",
        "127",
        "128",
        "-1",
        "-128",
        "-129",
        "32767",
        "32768",
        "-32769",
        "2147483647",
        "2147483648",
        "-2147483649",
        "9223372036854775807",
        "-9223372036854775808",
        "0.5",
        "-0.0",
        "1e300",
        "5e-324",
        "\"\"",
        "\"x\"",
        "[]",
        "{}",
        "[[]]",
        "{\"\":{}}",
        "{\"store\":{\"book\":[{\"category\":\"reference\",\"author\":\"Nigel Rees\","
        "\"title\":\"Sayings of the Century\",\"price\":8.95},{\"category\":\"fiction\","
        "\"author\":\"Evelyn Waugh\",\"title\":\"Sword of Honour\",\"price\":12.99}],"
        "\"bicycle\":{\"color\":\"red\",\"price\":19.95}}}",
        "{\"\\u0000\":\"\\u0000\\u001f\\u007f\\u0080\\u07ff\\u0800\\uffff\\ud800\\udc00\"}",
        "[\"\\\"quoted\\\"\",\"back\\\\slash\",\"tab\\tnew\\nline\",\"\xe4\xb8\xad\xe6\x96\x87\"]",
        "{\"a\":[[],{},[{}],{\"b\":[]}],\"c\":{\"d\":{\"e\":{\"f\":[1,[2,[3,[4]]]]}}}}",
        "[\"a string longer than eight bytes, with \xc3\xa9 and \xf0\x9f\x98\x80 in it\"]",
        /* the key memo over keys that need an escape, are not ASCII or are long */
        "[{\"a\\\"b\":1,\"c\":\"x\"},{\"a\\\"b\":2,\"c\":\"y\"},{\"a\\\"b\":3,\"c\":\"z\"}]",
        "[{\"caf\xc3\xa9\":1},{\"caf\xc3\xa9\":2},{\"a key of exactly 15\":3},{\"a key of exactly 15\":4}]",
        "[{\"sixteen byte key\":1,\"k\":2},{\"sixteen byte key\":3,\"k\":4},{\"k\":5,\"sixteen byte "
        "key\":6}]",
        /* strings of 15 to 33 bytes with an escape or a non-ASCII byte at either end */
        "[\"\\\"23456789012345\",\"234567890123456\\\"\",\"\\n234567890123456\",\"2345678901234567\\t\","
        "\"\xc3\xa9\x33\x34\x35\x36\x37\x38\x39\x30\x31\x32\x33\x34\x35\x36\x37\","
        "\"12345678901234567890123456789012\xc3\xa9\"]",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) check_round_trip(docs[i], strlen(docs[i]));
    doc_buf big = orders_doc(1300);
    check_round_trip(big.data, big.len);
    doc_buf_free(&big);
    /* nesting at the hard limit */
    size_t n = 2 * DOC_DEPTH_LIMIT;
    char *deep = malloc(n);
    cr_assert(deep);
    memset(deep, '[', DOC_DEPTH_LIMIT);
    memset(deep + DOC_DEPTH_LIMIT, ']', DOC_DEPTH_LIMIT);
    check_round_trip(deep, n);
    free(deep);
}

/* Every JSONTestSuite input the parser accepts round-trips. */
Test(rdb, round_trip_of_the_jsontestsuite_inputs_the_parser_accepts) {
    char dir[PATH_MAX];
    cr_assert(test_find_shared("conformance/JSONTestSuite/test_parsing", 1, dir, sizeof dir),
              "JSONTestSuite not found: set ATOMICDOC_SHARED");
    DIR *d = opendir(dir);
    cr_assert(d);
    struct dirent *e;
    int done = 0;
    while ((e = readdir(d))) {
        if (!strstr(e->d_name, ".json")) continue;
        char path[PATH_MAX + 256];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        cr_assert(f);
        char buf[1 << 16];
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        doc_error err;
        doc_error_clear(&err);
        doc_node *box = doc_parse(buf, len, DOC_DEPTH_LIMIT, &err);
        if (!box) continue;
        doc_node_free(box);
        check_round_trip(buf, len);
        done++;
    }
    closedir(d);
    cr_assert_gt(done, 90, "only %d inputs round-tripped", done);
}

/* Loads data[0..len); returns the box or NULL, checking the error's form. */
static doc_node *load(const uint8_t *data, size_t len, uint32_t max_depth, doc_error *err) {
    doc_error_clear(err);
    doc_node *box = doc_tree_load(data, len, max_depth, err);
    if (!box) {
        cr_assert(err->code == DOC_BADJSON || err->code == DOC_TOODEEP || err->code == DOC_NOMEM, "code %d",
                  err->code);
        cr_assert(err->code != DOC_BADJSON || (err->has_offset && err->offset <= len), "offset %zu of %zu",
                  err->offset, len);
        cr_assert(err->msg[0]);
    } else {
        cr_assert_eq(err->code, DOC_OK);
    }
    return box;
}

static const char *const samples[] = {
    "{\"a\":1}",
    "{\"s\":\"h\\u00e9llo \\\"q\\\" \\ud83d\\ude00 and more than eight\",\"n\":[1,-2,300,-70000,"
    "5000000000,3.5,1e300,null,true,false],\"o\":{\"a\":{\"b\":[[],{}]}},\"e\":\"\"}",
};

Test(rdb, truncation_at_every_byte_and_a_trailing_byte_are_errors) {
    for (size_t s = 0; s < sizeof samples / sizeof *samples; s++) {
        doc_node *a = parse_ok(samples[s], strlen(samples[s]));
        doc_buf t = serialize_ok(a);
        unit_alloc_fail_at((size_t)-1);
        for (size_t cut = 0; cut < t.len; cut++) {
            doc_error err;
            doc_node *b = load((const uint8_t *)t.data, cut, DOC_DEPTH_LIMIT, &err);
            cr_assert_null(b, "sample %zu cut at %zu of %zu loaded", s, cut, t.len);
            cr_assert_eq(err.code, DOC_BADJSON);
            cr_assert_eq(unit_alloc_live(), 0, "cut at %zu leaks", cut);
        }
        unit_alloc_plain();
        doc_buf_putc(&t, 0);
        doc_error err;
        cr_assert_null(load((const uint8_t *)t.data, t.len, DOC_DEPTH_LIMIT, &err));
        cr_assert(strstr(err.msg, "after the tree"), "%s", err.msg);
        doc_buf_free(&t);
        doc_node_free(a);
    }
}

/* Every bit of every byte flipped (and every byte set to a few telling values):
 * refused, or loaded as a tree that serializes back to exactly those bytes. */
Test(rdb, flipped_and_overwritten_bytes_are_refused_or_load_canonically) {
    static const uint8_t telling[] = {0x00,        0x01,           0x7f,          0x80,
                                      0xff,        DOC_TAG_OBJECT, DOC_TAG_ARRAY, DOC_TAG_STRING,
                                      DOC_TAG_I64, DOC_TAG_DOUBLE, 0x0b};
    for (size_t s = 0; s < sizeof samples / sizeof *samples; s++) {
        doc_node *a = parse_ok(samples[s], strlen(samples[s]));
        doc_buf t = serialize_ok(a);
        uint8_t *m = malloc(t.len);
        cr_assert(m);
        int loaded = 0, refused = 0;
        for (size_t at = 0; at < t.len; at++) {
            for (int v = 0; v < 8 + (int)sizeof telling; v++) {
                memcpy(m, t.data, t.len);
                if (v < 8)
                    m[at] ^= (uint8_t)(1u << v);
                else
                    m[at] = telling[v - 8];
                doc_error err;
                doc_node *b = load(m, t.len, DOC_DEPTH_LIMIT, &err);
                if (!b) {
                    refused++;
                    continue;
                }
                loaded++;
                doc_buf back = serialize_ok(b);
                cr_assert(back.len == t.len && !memcmp(back.data, m, t.len),
                          "byte %zu variant %d loaded but does not serialize back", at, v);
                doc_buf_free(&back);
                doc_node_free(b);
            }
        }
        cr_assert_gt(refused, loaded);
        free(m);
        doc_buf_free(&t);
        doc_node_free(a);
    }
}

/* One forged input: its bytes and what the loader must say. */
typedef struct forged {
    const char *what;     /* the forgery */
    const uint8_t *bytes; /* the input */
    size_t len;           /* its length */
    doc_status code;      /* expected error */
    const char *msg;      /* a word the message must hold */
} forged;

#define F(what, code, msg, ...) \
    { what, (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}), code, msg }
#define Z8 0, 0, 0, 0, 0, 0, 0, 0

static const forged cases[] = {
    F("root count 0", DOC_BADJSON, "root", 0, 1, 0),
    F("root count 2", DOC_BADJSON, "root", 2, 2, 0, 0),
    F("root length past the end", DOC_BADJSON, "past the end", 1, 5, 0),
    F("root length 2^32-1", DOC_BADJSON, "header", 1, 0xff, 0xff, 0xff, 0xff, 0x0f, 0),
    F("a 6-byte varint", DOC_BADJSON, "header", 1, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00, 0),
    F("a varint not minimal", DOC_BADJSON, "header", 1, 0x81, 0x00, 0),
    F("a varint cut short", DOC_BADJSON, "header", 1, 0x81),
    F("an empty root", DOC_BADJSON, "count", 1, 0),
    F("two values in the root", DOC_BADJSON, "count", 1, 2, 0, 0),
    F("unknown tag 0x0b", DOC_BADJSON, "tag", 1, 1, 0x0b),
    F("unknown tag 0x7f", DOC_BADJSON, "tag", 1, 1, 0x7f),
    F("I8 holding 5", DOC_BADJSON, "smallest", 1, 2, DOC_TAG_I8, 5),
    F("I16 holding -3", DOC_BADJSON, "smallest", 1, 3, DOC_TAG_I16, 0xfd, 0xff),
    F("I32 holding 300", DOC_BADJSON, "smallest", 1, 5, DOC_TAG_I32, 0x2c, 1, 0, 0),
    F("I64 holding 1", DOC_BADJSON, "smallest", 1, 9, DOC_TAG_I64, 1, 0, 0, 0, 0, 0, 0, 0),
    F("I64 cut short", DOC_BADJSON, "past its node", 1, 5, DOC_TAG_I64, 1, 0, 0, 0),
    F("a NaN", DOC_BADJSON, "finite", 1, 9, DOC_TAG_DOUBLE, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f),
    F("an infinity", DOC_BADJSON, "finite", 1, 9, DOC_TAG_DOUBLE, 0, 0, 0, 0, 0, 0, 0xf0, 0xff),
    F("string length past its node", DOC_BADJSON, "string", 1, 3, DOC_TAG_STRING, 5, 'a'),
    /* found by fuzz_rdb: the fast check compared the length with a negative room */
    F("string length byte past its node", DOC_BADJSON, "string", 1, 1, DOC_TAG_STRING, 120),
    F("string of an overlong form", DOC_BADJSON, "UTF-8", 1, 4, DOC_TAG_STRING, 2, 0xc0, 0xaf),
    F("string with a surrogate", DOC_BADJSON, "UTF-8", 1, 5, DOC_TAG_STRING, 3, 0xed, 0xa0, 0x80),
    F("string past U+10FFFF", DOC_BADJSON, "UTF-8", 1, 6, DOC_TAG_STRING, 4, 0xf4, 0x90, 0x80, 0x80),
    F("string with a cut sequence", DOC_BADJSON, "UTF-8", 1, 4, DOC_TAG_STRING, 2, 'a', 0xe2),
    F("long string with a stray continuation byte", DOC_BADJSON, "UTF-8", 1, 14, DOC_TAG_STRING, 12, 'a', 'b',
      'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 0x80),
    F("child slot not zero", DOC_BADJSON, "slot", 1, 9, DOC_TAG_ARRAY, 1, 0, 0, 0, 0, 0, 0, 0),
    F("child record missing", DOC_BADJSON, "header", 1, 9, DOC_TAG_ARRAY, Z8),
    F("child count larger than its bytes hold", DOC_BADJSON, "count", 1, 9, DOC_TAG_ARRAY, Z8, 2, 1, 0x80),
    F("child count smaller", DOC_BADJSON, "count", 1, 9, DOC_TAG_ARRAY, Z8, 1, 2, 0x80, 0x81),
    F("key length past its node", DOC_BADJSON, "key", 1, 9, DOC_TAG_OBJECT, Z8, 1, 2, 5, 'a'),
    F("key without a value", DOC_BADJSON, "value", 1, 9, DOC_TAG_OBJECT, Z8, 1, 2, 1, 'a'),
    F("key not UTF-8", DOC_BADJSON, "UTF-8", 1, 9, DOC_TAG_OBJECT, Z8, 1, 3, 1, 0xff, 0x80),
    F("duplicate key", DOC_BADJSON, "duplicate", 1, 9, DOC_TAG_OBJECT, Z8, 2, 6, 1, 'a', 0x80, 1, 'a', 0x81),
    F("bytes after the tree", DOC_BADJSON, "after", 1, 1, DOC_TAG_NULL, 0),
    F("a record where a scalar root ends", DOC_BADJSON, "after", 1, 1, 0x80, 0, 0),
};

/* Loads a forged input followed by `tail` zero bytes (0: none) and checks the
 * refusal; returns 1 when it was refused as expected. */
static void check_forged(const forged *c, size_t tail) {
    uint8_t *m = calloc(1, c->len + tail);
    cr_assert(m);
    memcpy(m, c->bytes, c->len);
    doc_error err;
    doc_node *b = load(m, c->len + tail, DOC_DEPTH_LIMIT, &err);
    cr_expect_null(b, "%s (+%zu): loaded", c->what, tail);
    if (b) {
        doc_node_free(b);
    } else {
        cr_expect_eq(err.code, c->code, "%s (+%zu): code %d", c->what, tail, err.code);
        cr_expect(strstr(err.msg, c->msg), "%s (+%zu): message \"%s\" lacks \"%s\"", c->what, tail, err.msg,
                  c->msg);
        cr_expect_eq(unit_alloc_live(), 0, "%s: leaks", c->what);
    }
    free(m);
}

Test(rdb, forged_counts_lengths_tags_and_offsets_are_refused) {
    unit_alloc_fail_at((size_t)-1);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) check_forged(&cases[i], 0);
    unit_alloc_plain();
}

/* The same faults with bytes after them: the node at fault is no longer
 * near the end of the input, so the fast check reads past it (tree.c) and
 * must refuse it all the same, the precise check naming the fault. Faults
 * whose meaning the tail changes (a cut header, a length past the end,
 * bytes after the tree) are left out. */
Test(rdb, forged_faults_far_from_the_end_of_the_input_are_refused_alike) {
    unit_alloc_fail_at((size_t)-1);
    size_t done = 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *w = cases[i].msg;
        if (!strcmp(w, "header") || !strcmp(w, "past the end") || !strcmp(w, "after")) continue;
        check_forged(&cases[i], 100);
        done++;
    }
    cr_assert_gt(done, 20);
    unit_alloc_plain();
}

/* The key memo (tree.c): objects with the keys of the object before them
 * skip the key checks; one that departs from them midway is checked from
 * that key on, against the keys before it too. */
Test(rdb, objects_departing_from_the_keys_before_them_are_checked) {
    /* "z" keeps the objects of "l" far from the end of the input (and the
     * fast check reading past them) in one variant, "l" is last in the other. */
    static const char *const docs[] = {
        "{\"l\":[{\"a\":1,\"b\":2,\"c\":3},{\"a\":1,\"b\":2,\"c\":3},{\"a\":1,\"x\":2,\"c\":3}],"
        "\"z\":[\"a string to keep the objects above far from the end of the input........\"]}",
        "{\"z\":1,\"l\":[{\"a\":1,\"b\":2,\"c\":3},{\"a\":1,\"b\":2,\"c\":3},{\"a\":1,\"x\":2,\"c\":3}]}",
        /* a child before the departing key (its slot is taken once) */
        "{\"l\":[{\"a\":[1],\"b\":2,\"c\":3},{\"a\":[1],\"b\":2,\"c\":3},{\"a\":[1],\"x\":2,\"c\":3}],"
        "\"z\":[\"a string to keep the objects above far from the end of the input........\"]}",
    };
    static const struct {
        uint8_t x;       /* the byte that replaces the key "x" */
        const char *msg; /* NULL: loads; else a word of the error */
    } variants[] = {
        {'x', NULL},        {'b', NULL},     {'d', NULL}, {'c', "duplicate"},
        {'a', "duplicate"}, {0xff, "UTF-8"}, {'"', NULL},
    };
    for (size_t d = 0; d < sizeof docs / sizeof *docs; d++) {
        doc_node *a = parse_ok(docs[d], strlen(docs[d]));
        doc_buf t = serialize_ok(a);
        char *x = memmem(t.data, t.len, "\x01x", 2);
        cr_assert(x);
        for (size_t v = 0; v < sizeof variants / sizeof *variants; v++) {
            x[1] = (char)variants[v].x;
            doc_error err;
            doc_node *b = load((const uint8_t *)t.data, t.len, DOC_DEPTH_LIMIT, &err);
            if (!variants[v].msg) {
                cr_assert(b, "doc %zu, key %c: %s", d, variants[v].x, err.msg);
                doc_buf back = serialize_ok(b), text = print_buf(b);
                cr_assert(back.len == t.len && !memcmp(back.data, t.data, t.len));
                /* printed as the parser would take it back (an escape where needed) */
                doc_node *c = parse_ok(text.data, text.len);
                cr_assert(doc_value_identical(doc_box_value(b), doc_box_value(c)));
                doc_buf_free(&back);
                doc_buf_free(&text);
                doc_node_free(c);
                doc_node_free(b);
            } else {
                cr_assert_null(b, "doc %zu, key %c loaded", d, variants[v].x);
                cr_assert(strstr(err.msg, variants[v].msg), "doc %zu, key %c: %s", d, variants[v].x, err.msg);
            }
        }
        doc_buf_free(&t);
        doc_node_free(a);
    }
}

/* A valid tree with one fault deep inside (several nodes made and open when
 * it is found): refused, nothing leaked. */
Test(rdb, a_fault_deep_in_a_large_tree_leaks_nothing) {
    doc_buf big = orders_doc(200);
    doc_node *a = parse_ok(big.data, big.len);
    doc_buf t = serialize_ok(a);
    /* The last string of the "wide" object's last array... a NaN instead of the
     * last double of the orders: find the last DOUBLE tag's 8 bytes and break them. */
    size_t at = t.len;
    for (size_t i = t.len - 9; i > 0; i--)
        if ((uint8_t)t.data[i] == DOC_TAG_DOUBLE) {
            at = i;
            break;
        }
    cr_assert(at < t.len);
    /* the tag may be a byte of something else; try until one is refused for finiteness */
    unit_alloc_fail_at((size_t)-1);
    doc_error err;
    uint8_t save[8];
    memcpy(save, t.data + at + 1, 8);
    memset(t.data + at + 1, 0xff, 8);
    doc_node *b = load((const uint8_t *)t.data, t.len, DOC_DEPTH_LIMIT, &err);
    cr_assert_null(b);
    cr_assert_eq(unit_alloc_live(), 0, "a refused load leaked %ld blocks", unit_alloc_live());
    memcpy(t.data + at + 1, save, 8);
    /* a duplicate key in the large (indexed) "wide" object: k99 renamed k98 */
    char *k = memmem(t.data, t.len, "k99", 3);
    cr_assert(k);
    k[2] = '8';
    b = load((const uint8_t *)t.data, t.len, DOC_DEPTH_LIMIT, &err);
    cr_assert_null(b);
    cr_assert(strstr(err.msg, "duplicate"), "%s", err.msg);
    cr_assert_eq(unit_alloc_live(), 0, "a refused load leaked %ld blocks", unit_alloc_live());
    unit_alloc_plain();
    doc_buf_free(&t);
    doc_buf_free(&big);
    doc_node_free(a);
}

/* Found by fuzz_rdb: a small object whose count (3) is far below its members
 * (40) wrote past the memo of keys before the count was compared. */
Test(rdb, a_count_far_below_the_entries_is_refused) {
    for (int kind = 0; kind < 2; kind++) {
        doc_buf t;
        doc_buf_init(&t);
        uint8_t root[] = {1, 9, kind ? DOC_TAG_ARRAY : DOC_TAG_OBJECT, 0, 0, 0, 0, 0, 0, 0, 0};
        doc_buf_append(&t, root, sizeof root);
        doc_buf body;
        doc_buf_init(&body);
        for (int i = 0; i < 40; i++) {
            char key[8];
            int n = snprintf(key, sizeof key, "k%d", i);
            if (!kind) {
                doc_buf_putc(&body, (char)n);
                doc_buf_append(&body, key, (size_t)n);
            }
            doc_buf_putc(&body, (char)(DOC_TAG_SMALLINT + i));
        }
        doc_buf_putc(&t, 3);
        cr_assert_lt(body.len, 1u << 14);
        if (body.len >= 128) doc_buf_putc(&t, (char)(0x80 | (body.len & 0x7f)));
        doc_buf_putc(&t, (char)(body.len >= 128 ? body.len >> 7 : body.len));
        doc_buf_append(&t, body.data, body.len);
        doc_error err;
        cr_assert_null(load((const uint8_t *)t.data, t.len, DOC_DEPTH_LIMIT, &err));
        cr_assert(strstr(err.msg, "count"), "%s", err.msg);
        doc_buf_free(&body);
        doc_buf_free(&t);
    }
}

Test(rdb, nesting_is_bounded_by_max_depth) {
    char text[2 * 130];
    for (uint32_t depth = 127; depth <= 129; depth++) {
        memset(text, '[', depth);
        memset(text + depth, ']', depth);
        doc_node *a = parse_ok(text, 2 * depth);
        doc_buf t = serialize_ok(a);
        doc_error err;
        doc_node *b = load((const uint8_t *)t.data, t.len, 128, &err);
        if (depth <= 128) {
            cr_assert(b, "depth %u: %s", depth, err.msg);
            doc_node_free(b);
        } else {
            cr_assert_null(b);
            cr_assert_eq(err.code, DOC_TOODEEP);
        }
        doc_buf_free(&t);
        doc_node_free(a);
    }
}

Test(rdb, out_of_memory_at_every_allocation_is_nomem_and_leaks_nothing) {
    doc_buf big = orders_doc(40);
    doc_node *a = parse_ok(big.data, big.len);
    doc_buf t = serialize_ok(a);
    int succeeded = 0;
    for (size_t k = 0; k < 2000 && !succeeded; k++) {
        unit_alloc_fail_at(k);
        doc_error err;
        doc_node *b = load((const uint8_t *)t.data, t.len, DOC_DEPTH_LIMIT, &err);
        if (b) {
            succeeded = 1;
            doc_node_free(b);
        } else {
            cr_assert_eq(err.code, DOC_NOMEM, "k=%zu: %s", k, err.msg);
        }
        cr_assert_eq(unit_alloc_live(), 0, "k=%zu leaks", k);
    }
    unit_alloc_plain();
    cr_assert(succeeded);
    doc_buf_free(&t);
    doc_buf_free(&big);
    doc_node_free(a);
}

/* An object holding more members than its count says, after objects of
 * that count whose keys it starts with (the memo's sentinel, tree.c). */
Test(rdb, an_object_with_more_members_than_the_memo_of_its_count_is_refused) {
    static const char *const docs[] = {
        "{\"l\":[{\"a\":1,\"b\":2},{\"a\":1,\"b\":2},{\"a\":1,\"b\":2,\"c\":3}],"
        "\"z\":[\"a string to keep the objects above far from the end of the input........\"]}",
        "{\"z\":1,\"l\":[{\"a\":1,\"b\":2},{\"a\":1,\"b\":2},{\"a\":1,\"b\":2,\"c\":3}]}",
    };
    for (size_t d = 0; d < sizeof docs / sizeof *docs; d++) {
        doc_node *a = parse_ok(docs[d], strlen(docs[d]));
        doc_buf t = serialize_ok(a);
        /* the third object's record: count 3, 9 bytes, then the key "a" */
        char *rec = memmem(t.data, t.len,
                           "\x03\x09\x01"
                           "a",
                           4);
        cr_assert(rec);
        rec[0] = 2;
        doc_error err;
        cr_assert_null(load((const uint8_t *)t.data, t.len, DOC_DEPTH_LIMIT, &err), "doc %zu loaded", d);
        cr_assert(strstr(err.msg, "count"), "doc %zu: %s", d, err.msg);
        doc_buf_free(&t);
        doc_node_free(a);
    }
}

/* A loaded tree works like a parsed one: lookups through the indexes of large
 * containers, edits, searches by value. */
Test(rdb, a_loaded_tree_answers_lookups_through_its_indexes) {
    doc_buf big = orders_doc(500);
    doc_node *a = parse_ok(big.data, big.len);
    doc_buf t = serialize_ok(a);
    doc_error err;
    doc_node *b = load((const uint8_t *)t.data, t.len, DOC_DEPTH_LIMIT, &err);
    cr_assert(b);
    doc_view root, orders, wide, v;
    doc_value_decode(doc_box_value(b), &root);
    doc_value_decode(doc_object_get(root.node, "orders", 6, NULL, NULL), &orders);
    cr_assert_eq(doc_node_count(orders.node), 500);
    const uint8_t *o = doc_array_get(orders.node, 321, NULL);
    cr_assert(o);
    doc_value_decode(o, &v);
    doc_value_decode(doc_object_get(v.node, "id", 2, NULL, NULL), &v);
    cr_assert_eq(v.i, 1321);
    doc_value_decode(doc_object_get(root.node, "wide", 4, NULL, NULL), &wide);
    const uint8_t *k77 = doc_object_get(wide.node, "k77", 3, NULL, NULL);
    cr_assert(k77);
    doc_value_decode(k77, &v);
    cr_assert_eq(doc_node_count(v.node), 3);
    cr_assert_null(doc_object_get(wide.node, "k100", 4, NULL, NULL));
    doc_buf_free(&t);
    doc_buf_free(&big);
    doc_node_free(a);
    doc_node_free(b);
}
