/*
 * test_parse.c - doc_parse: what it accepts and how it prints back, every
 * BADJSON cause with its byte offset and message, duplicate keys in small,
 * large and nested objects, depth limits up to 100,000 levels, UTF-8 and
 * surrogate escapes, NUL inside strings and keys, allocation failure at
 * every step, and parse -> print -> parse round trips (deep-equal values,
 * byte-identical text).
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "unit_alloc.h"

/* The printed text of a box's value (malloc'd). */
static char *box_text(const doc_node *box) {
    doc_buf b;
    doc_buf_init(&b);
    doc_print(doc_box_value(box), &b);
    cr_assert(!b.oom);
    char *s = malloc(b.len + 1);
    memcpy(s, b.data, b.len);
    s[b.len] = '\0';
    doc_buf_free(&b);
    return s;
}

static doc_node *parse_n(const char *text, size_t len, uint32_t depth, doc_error *err) {
    doc_error_clear(err);
    return doc_parse(text, len, depth, err);
}

/* ---------------------------------------------------------------- */

typedef struct ok_row {
    const char *text; /* input */
    const char *want; /* printed back (compact, canonical) */
} ok_row;

Test(parse, accepts_and_prints_canonically) {
    static const ok_row rows[] = {
        {"null", "null"},
        {"true", "true"},
        {"false", "false"},
        {"0", "0"},
        {"-0", "0"},
        {"-0.0", "-0.0"},
        {"42", "42"},
        {" \t\r\n42 \t\r\n", "42"},
        {"1.0", "1.0"},
        {"1e2", "100.0"},
        {"1E-2", "0.01"},
        {"19.99", "19.99"},
        {"9223372036854775807", "9223372036854775807"},
        {"-9223372036854775808", "-9223372036854775808"},
        {"9223372036854775808", "9223372036854776000.0"},
        {"12345678901234567890", "12345678901234567000.0"},
        {"1e-400", "0.0"},
        {"\"\"", "\"\""},
        {"\"abc\"", "\"abc\""},
        {"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\\"\\\\/\\b\\f\\n\\r\\t\""},
        {"\"\\u0041\\u00e9\\u20AC\"", "\"A\xc3\xa9\xe2\x82\xac\""},
        {"\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\""},
        {"\"\\uD800\\uDC00\"", "\"\xf0\x90\x80\x80\""},
        {"\"\\udbff\\udfff\"", "\"\xf4\x8f\xbf\xbf\""},
        {"\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"",
         "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\""},
        {"\"\xef\xbf\xbf\xed\x9f\xbf\xee\x80\x80\"", "\"\xef\xbf\xbf\xed\x9f\xbf\xee\x80\x80\""},
        {"\"\x7f\"", "\"\x7f\""},
        {"\"\\u007f\\u001f\\u0001\"", "\"\x7f\\u001f\\u0001\""},
        {"\"a\\u0000b\"", "\"a\\u0000b\""},
        {"{\"a\\u0000b\":1,\"a\\u0000c\":2}", "{\"a\\u0000b\":1,\"a\\u0000c\":2}"},
        {"[]", "[]"},
        {"{}", "{}"},
        {"[ ]", "[]"},
        {"{ }", "{}"},
        {"[[[]]]", "[[[]]]"},
        {"[1, 2.5, \"x\", null, true, false, {}, []]", "[1,2.5,\"x\",null,true,false,{},[]]"},
        {"{\"b\": 1, \"a\": 2}", "{\"b\":1,\"a\":2}"},
        {"{\"a\":{\"b\":[1,{\"c\":null}]}}", "{\"a\":{\"b\":[1,{\"c\":null}]}}"},
        {"{\"a\":{\"a\":1},\"b\":{\"a\":2}}", "{\"a\":{\"a\":1},\"b\":{\"a\":2}}"},
        {"{\"\":0}", "{\"\":0}"},
        {"{\"\\\"k\\\"\":\"v\"}", "{\"\\\"k\\\"\":\"v\"}"},
        {"[-1,127,128,-128,-129,32767,32768,2147483647,2147483648]",
         "[-1,127,128,-128,-129,32767,32768,2147483647,2147483648]"},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        doc_error err;
        doc_node *box = parse_n(rows[r].text, strlen(rows[r].text), DOC_DEPTH_DEFAULT, &err);
        cr_assert(box, "row %zu %s: %s at %zu", r, rows[r].text, err.msg, err.offset);
        cr_expect_eq(err.code, DOC_OK);
        char *s = box_text(box);
        cr_expect_str_eq(s, rows[r].want, "row %zu", r);
        free(s);
        doc_node_free(box);
    }
}

Test(parse, number_types) {
    static const struct {
        const char *text; /* input */
        doc_type type;    /* resulting type */
    } rows[] = {
        {"0", DOC_INT},
        {"-0", DOC_INT},
        {"9223372036854775807", DOC_INT},
        {"-9223372036854775808", DOC_INT},
        {"9223372036854775808", DOC_DOUBLE},
        {"-9223372036854775809", DOC_DOUBLE},
        {"12345678901234567890", DOC_DOUBLE},
        {"1.0", DOC_DOUBLE},
        {"1e0", DOC_DOUBLE},
        {"-0.0", DOC_DOUBLE},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        doc_error err;
        doc_node *box = parse_n(rows[r].text, strlen(rows[r].text), 8, &err);
        cr_assert(box, "%s", rows[r].text);
        doc_view v;
        doc_value_decode(doc_box_value(box), &v);
        cr_expect_eq(v.type, rows[r].type, "%s", rows[r].text);
        doc_node_free(box);
    }
    doc_error err;
    doc_node *box = parse_n("-0.0", 4, 8, &err);
    doc_view v;
    doc_value_decode(doc_box_value(box), &v);
    cr_expect(signbit(v.d));
    doc_node_free(box);
}

/* NUL bytes decoded from \u0000 are part of strings and keys. */
Test(parse, nul_in_strings_and_keys) {
    const char *text = "{\"k\\u0000ey\":\"v\\u0000\\u0000al\"}";
    doc_error err;
    doc_node *box = parse_n(text, strlen(text), 8, &err);
    cr_assert(box, "%s", err.msg);
    doc_view v;
    doc_value_decode(doc_box_value(box), &v);
    cr_assert_eq(v.type, DOC_OBJECT);
    const uint8_t *val = doc_object_get(v.node, "k\0ey", 4, NULL, NULL);
    cr_assert(val);
    cr_assert_null(doc_object_get(v.node, "k", 1, NULL, NULL));
    doc_view s;
    doc_value_decode(val, &s);
    cr_assert_eq(s.type, DOC_STRING);
    cr_assert_eq(s.slen, 5);
    cr_assert_eq(memcmp(s.s, "v\0\0al", 5), 0);
    doc_node_free(box);
}

/* ---------------------------------------------------------------- */

typedef struct err_row {
    const char *text; /* input */
    size_t len;       /* its length; 0: strlen */
    doc_status code;  /* expected status */
    size_t offset;    /* expected byte offset */
    const char *msg;  /* expected part of the message */
} err_row;

Test(parse, errors_with_offsets) {
    static const err_row rows[] = {
        /* Nothing, or not enough. */
        {"", 0, DOC_BADJSON, 0, "unexpected end of input"},
        {"   ", 0, DOC_BADJSON, 3, "unexpected end of input"},
        {"[1,2", 0, DOC_BADJSON, 4, "unexpected end of input"},
        {"{\"a\":", 0, DOC_BADJSON, 5, "unexpected end of input"},
        {"\"abc", 0, DOC_BADJSON, 4, "unexpected end of input"},
        {"[", 0, DOC_BADJSON, 1, "unexpected end of input"},
        /* Grammar. */
        {"[1,]", 0, DOC_BADJSON, 3, "unexpected character ']'"},
        {"{\"a\":1,}", 0, DOC_BADJSON, 7, "object key must be a string"},
        {"{1:2}", 0, DOC_BADJSON, 1, "object key must be a string"},
        {"{\"a\" 1}", 0, DOC_BADJSON, 5, "expected ':'"},
        {"{\"a\":1 \"b\":2}", 0, DOC_BADJSON, 7, "expected ',' or '}'"},
        {"[1 true]", 0, DOC_BADJSON, 3, "expected ',' or ']'"},
        {"[01]", 0, DOC_BADJSON, 2, "expected ',' or ']'"},
        {"[1] x", 0, DOC_BADJSON, 4, "unexpected data after the JSON value"},
        {"[1]]", 0, DOC_BADJSON, 3, "unexpected data after the JSON value"},
        {"1 2", 0, DOC_BADJSON, 2, "unexpected data after the JSON value"},
        {"{} {}", 0, DOC_BADJSON, 3, "unexpected data after the JSON value"},
        {"[1,@]", 0, DOC_BADJSON, 3, "unexpected character '@'"},
        {"[,1]", 0, DOC_BADJSON, 1, "unexpected character ','"},
        {"{\"a\"::1}", 0, DOC_BADJSON, 5, "unexpected character ':'"},
        {"[1 2]", 0, DOC_BADJSON, 3, "expected ',' or ']'"},
        {"{\"a\":1 2}", 0, DOC_BADJSON, 7, "expected ',' or '}'"},
        {"/* c */ 1", 0, DOC_BADJSON, 0, "unexpected character '/'"},
        {"\xff", 0, DOC_BADJSON, 0, "unexpected byte 0xff"},
        {"[1,\0]", 5, DOC_BADJSON, 3, "unexpected byte 0x00"},
        {"tru", 0, DOC_BADJSON, 0, "invalid literal"},
        {"[nul]", 0, DOC_BADJSON, 1, "invalid literal"},
        {"[1.]", 0, DOC_BADJSON, 3, "invalid number"},
        {"[-]", 0, DOC_BADJSON, 2, "invalid number"},
        {"[1e]", 0, DOC_BADJSON, 3, "invalid number"},
        {"[NaN]", 0, DOC_BADJSON, 1, ""},
        {"[+1]", 0, DOC_BADJSON, 1, ""},
        {"'a'", 0, DOC_BADJSON, 0, ""},
        /* Strings. */
        {"\"\\x\"", 0, DOC_BADJSON, 2, "invalid escape"},
        {"\"\\u12g4\"", 0, DOC_BADJSON, 5, "invalid \\u escape"},
        {"\"a\tb\"", 0, DOC_BADJSON, 2, "unescaped control character"},
        {"\"a\nb\"", 0, DOC_BADJSON, 2, "unescaped control character"},
        {"\"a\0b\"", 5, DOC_BADJSON, 2, "unescaped control character"},
        /* Numbers out of double range. */
        {"1e400", 0, DOC_BADJSON, 0, "number out of range"},
        {"[1e400]", 0, DOC_BADJSON, 1, "number out of range"},
        {"{\"a\": -1.8e308}", 0, DOC_BADJSON, 6, "number out of range"},
        /* Invalid UTF-8, raw and next to escapes. */
        {"\"\xc0\x80\"", 0, DOC_BADJSON, 1, "invalid UTF-8"},
        {"\"\xc1\xbf\"", 0, DOC_BADJSON, 1, "invalid UTF-8"},
        {"\"\xe0\x80\xaf\"", 0, DOC_BADJSON, 1, "invalid UTF-8"},
        {"\"\xed\xa0\x80\"", 0, DOC_BADJSON, 1, "invalid UTF-8"},
        {"\"\xed\xbf\xbf\"", 0, DOC_BADJSON, 1, "invalid UTF-8"},
        {"\"\xf0\x80\x80\x80\"", 0, DOC_BADJSON, 1, "invalid UTF-8"},
        {"\"\xf4\x90\x80\x80\"", 0, DOC_BADJSON, 1, "invalid UTF-8"},
        {"\"\xf5\x80\x80\x80\"", 0, DOC_BADJSON, 1, "invalid UTF-8"},
        {"\"\xff\"", 0, DOC_BADJSON, 1, "invalid UTF-8"},
        {"\"\x80\"", 0, DOC_BADJSON, 1, "invalid UTF-8"},
        {"\"abcdefghij\x80\"", 0, DOC_BADJSON, 11, "invalid UTF-8"},
        {"\"\xe2\x82\"", 0, DOC_BADJSON, 1, "invalid UTF-8"},
        {"\"\xe2\x82x\"", 0, DOC_BADJSON, 1, "invalid UTF-8"},
        {"\"\\n\xc0\x80\"", 0, DOC_BADJSON, 3, "invalid UTF-8"},
        {"{\"\xc0\x80\":1}", 0, DOC_BADJSON, 2, "invalid UTF-8"},
        {"{\"\\t\xff\":1}", 0, DOC_BADJSON, 4, "invalid UTF-8"},
        /* Lone surrogate escapes (YAJL would store '?' or bogus bytes). */
        {"\"\\ud800\"", 0, DOC_BADJSON, 1, "lone surrogate escape"},
        {"\"\\udc00x\"", 0, DOC_BADJSON, 1, "lone surrogate escape"},
        {"\"\\udfff\"", 0, DOC_BADJSON, 1, "lone surrogate escape"},
        {"\"\\ud800\\u0041\"", 0, DOC_BADJSON, 1, "lone surrogate escape"},
        {"\"\\ud800\\ud800\"", 0, DOC_BADJSON, 1, "lone surrogate escape"},
        {"\"\\ud800x\\udc00\"", 0, DOC_BADJSON, 1, "lone surrogate escape"},
        {"\"ab\\uDBFF\"", 0, DOC_BADJSON, 3, "lone surrogate escape"},
        {"\"\\ud83d\\ude00\\ude00\"", 0, DOC_BADJSON, 13, "lone surrogate escape"},
        {"\"\\\\ud800\\ud800\"", 0, DOC_BADJSON, 8, "lone surrogate escape"},
        {"{\"\\ud800\":1}", 0, DOC_BADJSON, 2, "lone surrogate escape"},
        {"[\"ok\",\"\\\"\\udc00\"]", 0, DOC_BADJSON, 9, "lone surrogate escape"},
        /* Duplicate keys. */
        {"{\"a\":1,\"a\":2}", 0, DOC_BADJSON, 7, "duplicate key \"a\""},
        {"{\"a\":1,\"\\u0061\":2}", 0, DOC_BADJSON, 7, "duplicate key \"a\""},
        {"{\"a\":{\"b\":1,\"c\":2,\"b\":3}}", 0, DOC_BADJSON, 18, "duplicate key \"b\""},
        {"[{\"x\":1},{\"x\":1,\"x\":1}]", 0, DOC_BADJSON, 16, "duplicate key \"x\""},
        /* The culprit's own byte, not the separator before it. */
        {"{\"a\":/}", 0, DOC_BADJSON, 5, "unexpected character '/'"},
        {"[1,/]", 0, DOC_BADJSON, 3, "unexpected character '/'"},
        {"{\"a\": \n x}", 0, DOC_BADJSON, 8, "unexpected character 'x'"},
        /* Form feed and vertical tab are not white space. */
        {"[1,\f2]", 0, DOC_BADJSON, 3, "unexpected byte 0x0c"},
        {"\v1", 0, DOC_BADJSON, 0, "unexpected byte 0x0b"},
        {"1\f", 0, DOC_BADJSON, 1, "unexpected data after the JSON value"},
        {"\"a\fb\"", 0, DOC_BADJSON, 2, "unescaped control character"},
        {"\"a\vb\"", 0, DOC_BADJSON, 2, "unescaped control character"},
        /* The end of the input inside every kind of token. */
        {"{", 0, DOC_BADJSON, 1, "unexpected end of input"},
        {"[1", 0, DOC_BADJSON, 2, "unexpected end of input"},
        {"{\"a\":1", 0, DOC_BADJSON, 6, "unexpected end of input"},
        {"{\"a\":1,\"b\"", 0, DOC_BADJSON, 10, "unexpected end of input"},
        {"{\"a\":1,", 0, DOC_BADJSON, 7, "unexpected end of input"},
        {"\"", 0, DOC_BADJSON, 1, "unexpected end of input"},
        {"\"\\", 0, DOC_BADJSON, 2, "unexpected end of input"},
        {"\"\\u12", 0, DOC_BADJSON, 5, "unexpected end of input"},
        {"\"\\ud800", 0, DOC_BADJSON, 7, "unexpected end of input"},
        {"\"\\ud800\\", 0, DOC_BADJSON, 8, "unexpected end of input"},
        {"\"\\ud800\\u00", 0, DOC_BADJSON, 11, "unexpected end of input"},
        {"-", 0, DOC_BADJSON, 1, "unexpected end of input"},
        {"[1.", 0, DOC_BADJSON, 3, "unexpected end of input"},
        {"1e+", 0, DOC_BADJSON, 3, "unexpected end of input"},
        /* Numbers and literals cut short or followed by junk. */
        {"[-a]", 0, DOC_BADJSON, 2, "invalid number"},
        {"[1.5e+x]", 0, DOC_BADJSON, 6, "invalid number"},
        {"[.5]", 0, DOC_BADJSON, 1, "unexpected character '.'"},
        {"nulx", 0, DOC_BADJSON, 0, "invalid literal"},
        {"[fals]", 0, DOC_BADJSON, 1, "invalid literal"},
        {"truex", 0, DOC_BADJSON, 4, "unexpected data after the JSON value"},
        {"[true false]", 0, DOC_BADJSON, 6, "expected ',' or ']'"},
        /* Escapes: the byte that breaks them. */
        {"\"\\ud800\\u12g4\"", 0, DOC_BADJSON, 11, "invalid \\u escape"},
        {"\"\\ud800\\n\"", 0, DOC_BADJSON, 1, "lone surrogate escape"},
        {"\"\\U0041\"", 0, DOC_BADJSON, 2, "invalid escape"},
        {"\"\\u00\"", 0, DOC_BADJSON, 5, "invalid \\u escape"},
        /* Invalid UTF-8 cut by the end, and past the 8-byte fast path. */
        {"\"\xe2", 0, DOC_BADJSON, 1, "invalid UTF-8"},
        {"\"0123456789abcdef\xc3\"", 0, DOC_BADJSON, 17, "invalid UTF-8"},
        {"\"0123456789abcdef\x01\"", 0, DOC_BADJSON, 17, "unescaped control character"},
        {"{\"0123456789abcdef\":1,\"0123456789abcdef\":2}", 0, DOC_BADJSON, 22,
         "duplicate key \"0123456789abcdef\""},
        /* Depth. */
        {"[[[]]]", 0, DOC_TOODEEP, 2, "max-depth"},
        {"{\"a\":{\"b\":{}}}", 0, DOC_TOODEEP, 10, "max-depth"},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        const err_row *w = &rows[r];
        size_t len = w->len ? w->len : strlen(w->text);
        doc_error err;
        doc_node *box = parse_n(w->text, len, 2, &err);
        cr_expect_null(box, "row %zu accepted", r);
        if (box) doc_node_free(box);
        cr_expect_eq(err.code, w->code, "row %zu: code %d (%s)", r, err.code, err.msg);
        cr_expect(err.has_offset, "row %zu: no offset", r);
        cr_expect_eq(err.offset, w->offset, "row %zu: offset %zu, want %zu (%s)", r, err.offset, w->offset,
                     err.msg);
        cr_expect(strstr(err.msg, w->msg) != NULL, "row %zu: message \"%s\", want \"%s\"", r, err.msg,
                  w->msg);
        cr_expect(strchr(err.msg, '\n') == NULL, "row %zu: multi-line message", r);
    }
}

/* The first error wins: a pre-set error is not overwritten. */
Test(parse, first_error_wins) {
    doc_error err;
    doc_error_clear(&err);
    doc_error_set(&err, DOC_ERR, "earlier");
    cr_assert_null(doc_parse("[1,", 3, 8, &err));
    cr_expect_eq(err.code, DOC_ERR);
    cr_expect_str_eq(err.msg, "earlier");
    /* And a NULL error pointer is allowed. */
    cr_assert_null(doc_parse("[1,", 3, 8, NULL));
    doc_node *box = doc_parse("[1]", 3, 8, NULL);
    cr_assert(box);
    doc_node_free(box);
}

/* ---------------------------------------------------------------- */

/* Appends `count` copies of s to a buffer. */
static void rep(doc_buf *b, const char *s, size_t count) {
    size_t n = strlen(s);
    for (size_t i = 0; i < count; i++) doc_buf_append(b, s, n);
}

Test(parse, duplicate_keys_in_large_objects) {
    long long baseline = doc_memory_in_use();
    /* 1000 distinct members: fine, every one findable. */
    doc_buf b;
    doc_buf_init(&b);
    doc_buf_putc(&b, '{');
    char tmp[64];
    for (int i = 0; i < 1000; i++) {
        int n = snprintf(tmp, sizeof tmp, "%s\"k%d\":%d", i ? "," : "", i, i);
        doc_buf_append(&b, tmp, (size_t)n);
    }
    size_t body = b.len;
    doc_buf_putc(&b, '}');
    doc_error err;
    doc_node *box = parse_n(b.data, b.len, 8, &err);
    cr_assert(box, "%s", err.msg);
    doc_view v;
    doc_value_decode(doc_box_value(box), &v);
    cr_assert_eq(doc_node_count(v.node), 1000);
    for (int i = 0; i < 1000; i += 37) {
        int n = snprintf(tmp, sizeof tmp, "k%d", i);
        cr_assert(doc_object_get(v.node, tmp, (size_t)n, NULL, NULL));
    }
    doc_node_free(box);

    /* The same with a duplicate of the first, a middle and the last key
     * appended: BADJSON naming the key. */
    static const char *const dups[] = {"k0", "k500", "k999"};
    for (size_t d = 0; d < 3; d++) {
        b.len = body;
        int n = snprintf(tmp, sizeof tmp, ",\"%s\":0}", dups[d]);
        doc_buf_append(&b, tmp, (size_t)n);
        box = parse_n(b.data, b.len, 8, &err);
        cr_expect_null(box, "duplicate %s accepted", dups[d]);
        cr_expect_eq(err.code, DOC_BADJSON);
        cr_expect(err.has_offset);
        cr_expect(err.offset >= body && err.offset < b.len, "offset %zu", err.offset);
        snprintf(tmp, sizeof tmp, "duplicate key \"%s\"", dups[d]);
        cr_expect(strstr(err.msg, tmp), "message: %s", err.msg);
    }

    /* Nested one level down, inside an array. */
    b.len = 0;
    doc_buf_append(&b, "[1,", 3);
    size_t open = b.len;
    doc_buf_putc(&b, '{');
    for (int i = 0; i < 1000; i++) {
        int n = snprintf(tmp, sizeof tmp, "%s\"k%d\":[%d]", i ? "," : "", i % 999, i);
        doc_buf_append(&b, tmp, (size_t)n);
    }
    doc_buf_append(&b, "}]", 2);
    box = parse_n(b.data, b.len, 8, &err);
    cr_expect_null(box);
    cr_expect_eq(err.code, DOC_BADJSON);
    cr_expect(strstr(err.msg, "duplicate key \"k0\""), "message: %s", err.msg);
    cr_expect(err.offset > open, "offset %zu", err.offset);
    doc_buf_free(&b);
    /* The members' arrays, made before the duplicate was found, are freed
     * and uncounted with it. */
    cr_expect_eq(doc_memory_in_use(), baseline, "%lld bytes off", doc_memory_in_use() - baseline);
}

/* The key memos (a key written from the text of the same member of the last
 * object at its depth): records of one shape, shapes that alternate, keys
 * that the memo cannot hold (long, escaped, space before the colon, near the
 * end of the text), objects nested past the memo rows; duplicates and errors
 * right after a remembered key keep their offsets. */
Test(parse, keys_remembered_from_earlier_objects) {
    static const ok_row oks[] = {
        {"[{\"id\":1,\"sku\":\"a\",\"qty\":2},{\"id\":2,\"sku\":\"b\",\"qty\":3},{\"id\":3,\"sku\":\"c\","
         "\"qty\":4}]",
         "[{\"id\":1,\"sku\":\"a\",\"qty\":2},{\"id\":2,\"sku\":\"b\",\"qty\":3},{\"id\":3,\"sku\":\"c\","
         "\"qty\":4}]"},
        {"[{\"a\":1,\"b\":2},{\"b\":1,\"a\":2},{\"a\":3,\"b\":4},{\"c\":1},{\"a\":1,\"b\":2,\"c\":3},{}]",
         "[{\"a\":1,\"b\":2},{\"b\":1,\"a\":2},{\"a\":3,\"b\":4},{\"c\":1},{\"a\":1,\"b\":2,\"c\":3},{}]"},
        {"[{\"ab\":1,\"cd\":2},{\"ab\" :1,\"cd\" : 2},{ \"ab\":1, \"cd\":2 },{\"ab\":1,\"cd\":2}]",
         "[{\"ab\":1,\"cd\":2},{\"ab\":1,\"cd\":2},{\"ab\":1,\"cd\":2},{\"ab\":1,\"cd\":2}]"},
        {"[{\"ab\":1},{\"\\u0061b\":2},{\"ab\":3}]", "[{\"ab\":1},{\"ab\":2},{\"ab\":3}]"},
        {"[{\"abcdefghijklm\":1,\"abcdefghijklmn\":2},{\"abcdefghijklm\":3,\"abcdefghijklmn\":4},{"
         "\"abcdefghijklm\":5,"
         "\"abcdefghijklmn\":6}]",
         "[{\"abcdefghijklm\":1,\"abcdefghijklmn\":2},{\"abcdefghijklm\":3,\"abcdefghijklmn\":4},{"
         "\"abcdefghijklm\":5,"
         "\"abcdefghijklmn\":6}]"},
        {"[{\"ab\":1},{\"ab\":2}]", "[{\"ab\":1},{\"ab\":2}]"},
        {"[{\"\":1,\"a\":{\"\":2}},{\"\":3,\"a\":{\"\":4}},{\"\":5,\"a\":{\"\":6,\"b\":7}}]",
         "[{\"\":1,\"a\":{\"\":2}},{\"\":3,\"a\":{\"\":4}},{\"\":5,\"a\":{\"\":6,\"b\":7}}]"},
    };
    for (size_t i = 0; i < sizeof oks / sizeof oks[0]; i++) {
        doc_error err;
        doc_node *box = parse_n(oks[i].text, strlen(oks[i].text), 64, &err);
        cr_assert(box, "row %zu: %s", i, err.msg);
        char *got = box_text(box);
        cr_expect_str_eq(got, oks[i].want, "row %zu", i);
        free(got);
        doc_node_free(box);
    }

    static const err_row errs[] = {
        {"[{\"ab\":1,\"cd\":2},{\"cd\":3,\"cd\":4}]", 0, DOC_BADJSON, 25, "duplicate key \"cd\""},
        {"[{\"ab\":1,\"cd\":2},{\"ab\":1,\"ab\":2}]", 0, DOC_BADJSON, 25, "duplicate key \"ab\""},
        {"[{\"ab\":1,\"cd\":2},{\"ab\":1,\"cd\":2,\"ab\":3,\"ef\":0}]", 0, DOC_BADJSON, 32,
         "duplicate key \"ab\""},
        {"[{\"abc\":1},{\"ab\":1,\"ab\":2,\"x\":0}]", 0, DOC_BADJSON, 19, "duplicate key \"ab\""},
        {"[{\"ab\":1,\"cd\":2},{\"ab\":1,\"\\u0061b\":2,\"x\":0}]", 0, DOC_BADJSON, 25,
         "duplicate key \"ab\""},
        {"[{\"ab\":1,\"cd\":2},{\"ab\":1,\"cd\":x,\"ef\":0}]", 0, DOC_BADJSON, 30,
         "unexpected character 'x'"},
        {"[{\"ab\":1,\"cd\":2},{\"ab\":1,\"cd\":2 \"ef\":0}]", 0, DOC_BADJSON, 32, "expected ',' or '}'"},
        {"[{\"ab\":1,\"cd\":2},{\"ab\":1,\"cd\":", 0, DOC_BADJSON, 30, "unexpected end of input"},
    };
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
        doc_error err;
        doc_node *box = parse_n(errs[i].text, strlen(errs[i].text), 64, &err);
        cr_expect_null(box, "row %zu accepted", i);
        cr_expect_eq(err.code, errs[i].code, "row %zu", i);
        cr_expect_eq(err.offset, errs[i].offset, "row %zu: offset %zu", i, err.offset);
        cr_expect(strstr(err.msg, errs[i].msg), "row %zu: %s", i, err.msg);
    }

    /* Objects of ever new keys turn the memos off part-way (misses outnumber
     * hits): what follows still parses the same, duplicates included. */
    {
        doc_buf t;
        doc_buf_init(&t);
        doc_buf_putc(&t, '[');
        char one[64];
        for (int i = 0; i < 300; i++) {
            int n = snprintf(one, sizeof one, "{\"u%d\":%d,\"v%d\":1},", i, i, i);
            doc_buf_append(&t, one, (size_t)n);
        }
        size_t keep = t.len;
        doc_buf_append(&t, "{\"ab\":1,\"cd\":2},{\"ab\":3,\"cd\":4}]", 32);
        doc_error e;
        doc_node *ok = parse_n(t.data, t.len, 64, &e);
        cr_assert(ok, "%s", e.msg);
        char *got = box_text(ok);
        cr_expect(strlen(got) == t.len && memcmp(got, t.data, t.len) == 0, "printed back differently");
        free(got);
        doc_node_free(ok);
        t.len = keep;
        doc_buf_append(&t, "{\"ab\":1,\"cd\":2},{\"cd\":3,\"cd\":4}]", 32);
        cr_expect_null(parse_n(t.data, t.len, 64, &e));
        cr_expect_eq(e.offset, keep + 24, "offset %zu", e.offset);
        cr_expect(strstr(e.msg, "duplicate key \"cd\""), "message: %s", e.msg);
        doc_buf_free(&t);
    }

    /* Objects nested past the memo rows share the last row: forty levels of
     * {"k":{"k":...}} three times over, then a duplicate at the deepest. */
    doc_buf b;
    doc_buf_init(&b);
    doc_buf_putc(&b, '[');
    for (int r = 0; r < 3; r++) {
        if (r) doc_buf_putc(&b, ',');
        rep(&b, "{\"k\":1,\"n\":", 40);
        doc_buf_append(&b, "{\"k\":2}", 7);
        rep(&b, "}", 40);
    }
    doc_buf_putc(&b, ']');
    doc_error err;
    doc_node *box = parse_n(b.data, b.len, 64, &err);
    cr_assert(box, "%s", err.msg);
    doc_node_free(box);
    b.len -= 7 + 40 + 1;
    doc_buf_append(&b, "{\"k\":2,\"k\":3}", 13);
    rep(&b, "}", 40);
    doc_buf_putc(&b, ']');
    box = parse_n(b.data, b.len, 64, &err);
    cr_expect_null(box);
    cr_expect(strstr(err.msg, "duplicate key \"k\""), "message: %s", err.msg);
    doc_buf_free(&b);
}

Test(parse, depth_limits) {
    doc_buf b;
    doc_buf_init(&b);
    doc_error err;

    /* Exactly max_depth levels parse; one more is TOODEEP at that bracket. */
    for (uint32_t depth = 1; depth <= 200; depth += 199) {
        b.len = 0;
        rep(&b, "[", depth);
        rep(&b, "]", depth);
        doc_node *box = parse_n(b.data, b.len, depth, &err);
        cr_assert(box, "depth %u: %s", depth, err.msg);
        doc_node_free(box);
        box = parse_n(b.data, b.len, depth - 1, &err);
        cr_assert_null(box);
        cr_expect_eq(err.code, DOC_TOODEEP);
        cr_expect_eq(err.offset, depth - 1);
    }

    /* 100,000 levels, balanced or not, arrays or objects: TOODEEP at the
     * default and at the hard ceiling, no crash. */
    static const char *const opens[] = {"[", "{\"a\":", "[{\"k\":[1,"};
    static const char *const closes[] = {"]", "}", "]}]"};
    for (int k = 0; k < 3; k++) {
        for (int balanced = 0; balanced < 2; balanced++) {
            b.len = 0;
            rep(&b, opens[k], 100000);
            if (balanced) {
                doc_buf_putc(&b, '1');
                rep(&b, closes[k], 100000);
            }
            doc_node *box = parse_n(b.data, b.len, DOC_DEPTH_DEFAULT, &err);
            cr_expect_null(box);
            cr_expect_eq(err.code, DOC_TOODEEP, "k %d: %s", k, err.msg);
            box = parse_n(b.data, b.len, DOC_DEPTH_LIMIT, &err);
            cr_expect_null(box);
            cr_expect_eq(err.code, DOC_TOODEEP, "k %d: %s", k, err.msg);
        }
    }

    /* The hard ceiling itself parses, prints and frees without recursion. */
    b.len = 0;
    rep(&b, "[", DOC_DEPTH_LIMIT);
    rep(&b, "]", DOC_DEPTH_LIMIT);
    doc_node *box = parse_n(b.data, b.len, DOC_DEPTH_LIMIT, &err);
    cr_assert(box, "%s", err.msg);
    char *s = box_text(box);
    cr_expect_eq(strlen(s), b.len);
    cr_expect_eq(memcmp(s, b.data, b.len), 0);
    free(s);
    doc_node_free(box);
    /* A max_depth above the ceiling is clamped to it. */
    b.len = 0;
    rep(&b, "[", DOC_DEPTH_LIMIT + 1);
    rep(&b, "]", DOC_DEPTH_LIMIT + 1);
    cr_expect_null(parse_n(b.data, b.len, UINT32_MAX, &err));
    cr_expect_eq(err.code, DOC_TOODEEP);
    doc_buf_free(&b);
}

/* ---------------------------------------------------------------- */

Test(parse, out_of_memory_at_every_step) {
    static const char text[] =
        "{\"orders\":[{\"id\":1,\"sku\":\"A-1\",\"qty\":2,\"price\":19.99,\"tags\":[\"x\",\"y\"]},"
        "{\"id\":2,\"sku\":\"B\\u00e9\",\"qty\":1,\"price\":5.5,\"tags\":[]}],\"n\":null}";
    int succeeded = 0;
    /* The nodes' memory is counted once per parse: a failure part-way
     * leaves the count where it was, and so does freeing a success. */
    long long baseline = doc_memory_in_use();
    for (long n = 0; n < 1000 && !succeeded; n++) {
        unit_alloc_fail_after(n);
        doc_error err;
        doc_node *box = parse_n(text, sizeof text - 1, 8, &err);
        if (box) {
            succeeded = 1;
            cr_expect_eq(doc_memory_in_use() - baseline, (long long)doc_node_memory(box));
            doc_node_free(box);
        } else {
            cr_assert_eq(err.code, DOC_NOMEM, "n=%ld: %d %s", n, err.code, err.msg);
        }
        cr_assert_eq(doc_memory_in_use(), baseline, "n=%ld: %lld bytes off", n,
                     doc_memory_in_use() - baseline);
    }
    unit_alloc_plain();
    cr_expect(succeeded);
}

static void check_round_trip(const char *text, size_t len);

/* A document that outgrows the parser's own buffers (more than 32 open
 * containers, more than 512 bytes of open entries), failing at every
 * allocation: NOMEM each time, never a leak (ASan), then success. */
Test(parse, out_of_memory_past_the_local_buffers) {
    doc_buf b;
    doc_buf_init(&b);
    rep(&b, "[{\"k\":[", 20);
    rep(&b, "\"a string long enough to need the heap soon\",", 30);
    doc_buf_append(&b, "1", 1);
    rep(&b, "]}]", 20);
    int succeeded = 0;
    long long baseline = doc_memory_in_use();
    for (long n = 0; n < 1000 && !succeeded; n++) {
        unit_alloc_fail_after(n);
        doc_error err;
        doc_node *box = parse_n(b.data, b.len, 64, &err);
        if (box) {
            succeeded = 1;
            doc_node_free(box);
        } else {
            cr_assert_eq(err.code, DOC_NOMEM, "n=%ld: %d %s", n, err.code, err.msg);
        }
        cr_assert_eq(doc_memory_in_use(), baseline, "n=%ld: %lld bytes off", n,
                     doc_memory_in_use() - baseline);
    }
    unit_alloc_plain();
    cr_expect(succeeded);
    doc_buf_free(&b);
}

/* A string or key that never closes after the scratch buffer grew (and
 * moved) under it: EOF at the end, nothing read from the old buffer. */
Test(parse, unclosed_long_strings_after_the_buffer_moved) {
    static const char *const opens[] = {"\"", "[\"", "{\"", "{\"k\":\"", "[1,[2,{\"a\":[\""};
    doc_buf b;
    doc_buf_init(&b);
    for (size_t k = 0; k < sizeof opens / sizeof opens[0]; k++) {
        for (size_t n = 500; n <= 20000; n *= 4) {
            b.len = 0;
            doc_buf_append(&b, opens[k], strlen(opens[k]));
            for (size_t i = 0; i < n; i++) doc_buf_putc(&b, (char)('a' + i % 26));
            doc_error err;
            cr_expect_null(parse_n(b.data, b.len, 8, &err), "%s...", opens[k]);
            cr_expect_eq(err.code, DOC_BADJSON);
            cr_expect_eq(err.offset, b.len, "%s... (%zu): at %zu", opens[k], n, err.offset);
            cr_expect(strstr(err.msg, "unexpected end of input"), "%s", err.msg);
        }
    }
    doc_buf_free(&b);
}

/* Strings and keys of every length around the one-byte length header (127,
 * 128) and the 8-byte copy, with escapes and UTF-8 on the way: the decoded
 * bytes are stored and found, and print back. */
Test(parse, long_strings_and_keys) {
    static const size_t lens[] = {0,   1,   7,   8,   9,   15,    16,    17,    126,
                                  127, 128, 129, 255, 256, 16383, 16384, 16385, 70000};
    doc_buf text, want;
    doc_buf_init(&text);
    doc_buf_init(&want);
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        text.len = want.len = 0;
        /* want: the decoded value; text: {"<key>":"<value, escaped>"} */
        doc_buf_append(&text, "{\"", 2);
        for (size_t i = 0; i < lens[li]; i++) doc_buf_putc(&text, (char)('a' + i % 26));
        doc_buf_append(&text, "\":\"", 3);
        while (want.len < lens[li]) {
            size_t i = want.len;
            if (i % 50 == 49) {
                doc_buf_append(&text, "\\t", 2);
                doc_buf_putc(&want, '\t');
            } else if (i % 50 == 25 && lens[li] - i >= 2) {
                doc_buf_append(&text, "\xc3\xa9", 2);
                doc_buf_append(&want, "\xc3\xa9", 2);
            } else if (i % 50 == 30 && lens[li] - i >= 3) {
                doc_buf_append(&text, "\\u20ac", 6);
                doc_buf_append(&want, "\xe2\x82\xac", 3);
            } else {
                doc_buf_putc(&text, (char)('A' + i % 26));
                doc_buf_putc(&want, (char)('A' + i % 26));
            }
        }
        doc_buf_append(&text, "\"}", 2);
        doc_error err;
        doc_node *box = parse_n(text.data, text.len, 8, &err);
        cr_assert(box, "length %zu: %s at %zu", lens[li], err.msg, err.offset);
        doc_view o, v;
        doc_value_decode(doc_box_value(box), &o);
        cr_assert_eq(o.type, DOC_OBJECT);
        const char *k;
        size_t kl;
        doc_iter it;
        const uint8_t *val;
        doc_iter_init(&it, o.node);
        cr_assert(doc_iter_next(&it, &k, &kl, &val, NULL));
        cr_assert_eq(kl, lens[li]);
        for (size_t i = 0; i < kl; i++)
            cr_assert_eq(k[i], (char)('a' + i % 26), "length %zu, key byte %zu", lens[li], i);
        doc_value_decode(val, &v);
        cr_assert_eq(v.type, DOC_STRING);
        cr_assert_eq(v.slen, want.len, "length %zu: decoded %zu", lens[li], v.slen);
        cr_assert(want.len == 0 || memcmp(v.s, want.data, want.len) == 0, "length %zu", lens[li]);
        doc_node_free(box);
        check_round_trip(text.data, text.len);
    }
    doc_buf_free(&text);
    doc_buf_free(&want);
}

/* ---------------------------------------------------------------- */

/* parse -> print -> parse gives a deep-equal value, and printing that gives
 * the same bytes. */
static void check_round_trip(const char *text, size_t len) {
    doc_error err;
    doc_node *a = parse_n(text, len, DOC_DEPTH_LIMIT, &err);
    size_t from = err.offset > 40 ? err.offset - 40 : 0;
    cr_assert(a, "...%.*s...: %s at %zu", (int)(len - from > 80 ? 80 : len - from), text + from, err.msg,
              err.offset);
    char *s1 = box_text(a);
    doc_node *b = parse_n(s1, strlen(s1), DOC_DEPTH_LIMIT, &err);
    cr_assert(b, "reparse of %s: %s at %zu", s1, err.msg, err.offset);
    cr_assert(doc_value_equal(doc_box_value(a), doc_box_value(b)), "%s", s1);
    char *s2 = box_text(b);
    cr_assert_str_eq(s1, s2);
    free(s1);
    free(s2);
    doc_node_free(a);
    doc_node_free(b);
}

Test(parse, round_trip_corpus) {
    static const char *const docs[] = {
        "{\"store\":{\"book\":[{\"category\":\"reference\",\"author\":\"Nigel Rees\","
        "\"title\":\"Sayings of the Century\",\"price\":8.95},{\"category\":\"fiction\","
        "\"author\":\"Evelyn Waugh\",\"title\":\"Sword of Honour\",\"price\":12.99}],"
        "\"bicycle\":{\"color\":\"red\",\"price\":19.95}}}",
        "[0.1,0.2,0.30000000000000004,1e21,1e-7,5e-324,1.7976931348623157e308,-0.0,100.0]",
        "[9007199254740993,9007199254740993.0,-9223372036854775808,18446744073709551615]",
        "{\"\\u0000\":\"\\u0000\\u001f\\u007f\\u0080\\u07ff\\u0800\\uffff\\ud800\\udc00\"}",
        "[\"\\\"quoted\\\"\",\"back\\\\slash\",\"tab\\tnew\\nline\",\"\xe4\xb8\xad\xe6\x96\x87\"]",
        "{\"a\":[[],{},[{}],{\"b\":[]}],\"c\":{\"d\":{\"e\":{\"f\":[1,[2,[3,[4]]]]}}}}",
        "[true,false,null,0,-1,1.5,\"\",[],{}]",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) check_round_trip(docs[i], strlen(docs[i]));
}

/* xorshift64*: fixed seed, failures reproduce. */
static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static uint64_t rng_next(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

/* A random JSON string literal: ASCII, escapes, multibyte UTF-8, pairs. */
static void gen_string(doc_buf *b, int key_no) {
    static const char *const parts[] = {
        "a",
        "Z",
        " ",
        "\\\"",
        "\\\\",
        "\\/",
        "\\n",
        "\\t",
        "\\u0000",
        "\\u001F",
        "\x7f",
        "\\u00e9",
        "\xc3\xa9",
        "\xe2\x82\xac",
        "\xf0\x9f\x98\x80",
        "\\ud83d\\ude00",
        "\\uFFFF",
        "\xef\xbf\xbd",
        "\\b",
        "\\f",
        "\\r",
    };
    doc_buf_putc(b, '"');
    if (key_no >= 0) {
        /* Keys stay distinct within an object: a unique prefix. */
        char tmp[16];
        int n = snprintf(tmp, sizeof tmp, "%d_", key_no);
        doc_buf_append(b, tmp, (size_t)n);
    }
    int n = (int)(rng_next() % 6);
    for (int i = 0; i < n; i++) {
        const char *p = parts[rng_next() % (sizeof parts / sizeof parts[0])];
        doc_buf_append(b, p, strlen(p));
    }
    doc_buf_putc(b, '"');
}

static void gen_number(doc_buf *b) {
    char tmp[64];
    uint64_t x = rng_next();
    int n;
    switch (x % 6) {
    case 0: n = snprintf(tmp, sizeof tmp, "%d", (int)((x >> 32) % 2000) - 1000); break;
    case 1: n = snprintf(tmp, sizeof tmp, "%lld", (long long)rng_next()); break;
    case 2: n = snprintf(tmp, sizeof tmp, "%d.%02d", (int)((x >> 40) % 10000), (int)((x >> 20) % 100)); break;
    case 3: {
        double d;
        uint64_t u = rng_next();
        memcpy(&d, &u, sizeof d);
        if (!isfinite(d)) d = 0.5;
        n = snprintf(tmp, sizeof tmp, "%.17g", d);
        break;
    }
    case 4:
        n = snprintf(tmp, sizeof tmp, "%de%d", (int)((x >> 32) % 200) - 100, (int)((x >> 8) % 600) - 300);
        break;
    default: n = snprintf(tmp, sizeof tmp, "-0.0"); break;
    }
    doc_buf_append(b, tmp, (size_t)n);
}

/* A random document, generated iteratively with an explicit count of open
 * containers (kinds remembered in a small array). */
static void gen_doc(doc_buf *b) {
    char kinds[64]; /* '[' or '{' per open container */
    int counts[64]; /* children so far per open container */
    int depth = 0;
    int budget = 1 + (int)(rng_next() % 300);
    for (;;) {
        if (depth > 0 && (budget <= 0 || rng_next() % 5 == 0)) {
            doc_buf_putc(b, kinds[depth - 1] == '[' ? ']' : '}');
            depth--;
            if (depth == 0) return;
            continue;
        }
        if (depth > 0) {
            if (counts[depth - 1]++) doc_buf_putc(b, ',');
            if (kinds[depth - 1] == '{') {
                gen_string(b, counts[depth - 1]);
                doc_buf_putc(b, ':');
            }
        }
        budget--;
        uint64_t x = rng_next() % 10;
        if (x < 3 && depth < 63) {
            kinds[depth] = x == 0 ? '{' : '[';
            counts[depth] = 0;
            doc_buf_putc(b, kinds[depth]);
            depth++;
            continue;
        }
        if (x < 5)
            gen_string(b, -1);
        else if (x < 8)
            gen_number(b);
        else if (x == 8)
            doc_buf_append(b, "null", 4);
        else if (rng_next() & 1)
            doc_buf_append(b, "true", 4);
        else
            doc_buf_append(b, "false", 5);
        if (depth == 0) return;
    }
}

Test(parse, round_trip_random_documents) {
    doc_buf b;
    doc_buf_init(&b);
    for (int i = 0; i < 3000; i++) {
        b.len = 0;
        gen_doc(&b);
        check_round_trip(b.data, b.len);
    }
    doc_buf_free(&b);
}

/* A plain reference: decodes code points and refuses overlong forms,
 * surrogates, values above U+10FFFF, bad and missing continuation bytes. */
static int ref_utf8_valid(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        unsigned cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            k = 2, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            k = 3, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            k = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if (i + k > n) return 0;
        for (size_t j = 1; j < k; j++) {
            if ((s[i + j] & 0xC0) != 0x80) return 0;
            cp = cp << 6 | (s[i + j] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        i += k;
    }
    return 1;
}

/* Every lead byte, every second byte, and boundary third and fourth bytes:
 * the parser accepts exactly what the reference accepts. */
Test(parse, utf8_matches_reference) {
    static const unsigned char tails[] = {0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0};
    unsigned char text[8];
    text[0] = '"';
    text[5] = '"';
    for (unsigned a = 0x80; a <= 0xFF; a++)
        for (unsigned b = 0x20; b <= 0xFF; b++)
            for (size_t ci = 0; ci < sizeof tails; ci++)
                for (size_t di = 0; di < sizeof tails; di++) {
                    text[1] = (unsigned char)a;
                    text[2] = (unsigned char)b;
                    text[3] = tails[ci];
                    text[4] = tails[di];
                    if (b == '"' || b == '\\') continue;
                    doc_error err;
                    doc_node *box = parse_n((const char *)text, 6, 2, &err);
                    int want = ref_utf8_valid(text + 1, 4);
                    cr_assert_eq(box != NULL, want, "%02x %02x %02x %02x: %s", a, b, tails[ci], tails[di],
                                 err.msg);
                    if (box)
                        doc_node_free(box);
                    else
                        cr_assert(strstr(err.msg, "UTF-8"), "%02x %02x: %s", a, b, err.msg);
                }
}
