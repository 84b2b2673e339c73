/*
 * test_print.c - doc_print: scalars, string escaping (every control byte,
 * quote, backslash; DEL and UTF-8 verbatim), containers in order, large and
 * indexed containers, nesting at the depth ceiling (the iterator stack
 * grows past its on-stack part), appending to a non-empty buffer, and
 * allocation failure (a sticky oom, never a crash).
 */
#include <criterion/criterion.h>

#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "unit_alloc.h"

/* The printed text of a box's value (malloc'd, NUL-terminated; *len set). */
static char *print_box(const doc_node *box, size_t *len)
{
    doc_buf b;
    doc_buf_init(&b);
    doc_print(doc_box_value(box), &b);
    cr_assert(!b.oom);
    char *s = malloc(b.len + 1);
    memcpy(s, b.data, b.len);
    s[b.len] = '\0';
    if (len)
        *len = b.len;
    doc_buf_free(&b);
    return s;
}

static void expect_print(doc_node *box, const char *want, size_t want_len)
{
    cr_assert(box);
    size_t n;
    char *s = print_box(box, &n);
    cr_expect_eq(n, want_len, "length %zu, want %zu: %s", n, want_len, s);
    cr_expect(n == want_len && memcmp(s, want, n) == 0, "got %s want %s", s, want);
    free(s);
    doc_node_free(box);
}

/* ---------------------------------------------------------------- */

Test(print, scalars)
{
    expect_print(doc_box_null(), "null", 4);
    expect_print(doc_box_bool(1), "true", 4);
    expect_print(doc_box_bool(0), "false", 5);
    static const struct {
        int64_t v;           /* value */
        const char *want;    /* text */
    } ints[] = {
        {0, "0"},     {1, "1"},       {-1, "-1"},         {127, "127"},
        {128, "128"}, {-128, "-128"}, {32768, "32768"},   {INT64_MAX, "9223372036854775807"},
        {INT64_MIN, "-9223372036854775808"},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        expect_print(doc_box_int(ints[i].v), ints[i].want, strlen(ints[i].want));
    static const struct {
        double v;            /* value */
        const char *want;    /* text: always a double, shortest */
    } dbls[] = {
        {0.0, "0.0"},        {-0.0, "-0.0"},  {1.0, "1.0"},     {100.0, "100.0"},
        {0.1, "0.1"},        {19.99, "19.99"}, {1e21, "1e21"},  {5e-324, "5e-324"},
        {DBL_MAX, "1.7976931348623157e308"},  {1.0 / 3.0, "0.3333333333333333"},
    };
    for (size_t i = 0; i < sizeof dbls / sizeof dbls[0]; i++)
        expect_print(doc_box_double(dbls[i].v), dbls[i].want, strlen(dbls[i].want));
}

typedef struct str_row {
    const char *s;       /* string bytes */
    size_t len;          /* their count */
    const char *want;    /* printed literal */
} str_row;

Test(print, string_escapes)
{
    static const str_row rows[] = {
        {"", 0, "\"\""},
        {"abc", 3, "\"abc\""},
        {"\"", 1, "\"\\\"\""},
        {"\\", 1, "\"\\\\\""},
        {"/", 1, "\"/\""},
        {"\b\f\n\r\t", 5, "\"\\b\\f\\n\\r\\t\""},
        {"\0", 1, "\"\\u0000\""},
        {"a\0b", 3, "\"a\\u0000b\""},
        {"\x01\x1f\x0b\x1b", 4, "\"\\u0001\\u001f\\u000b\\u001b\""},
        {"\x7f", 1, "\"\x7f\""},
        {"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9, "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\""},
        {"say \"hi\"\n", 9, "\"say \\\"hi\\\"\\n\""},
        {"\\\\\"\"", 4, "\"\\\\\\\\\\\"\\\"\""},
        {"end\t", 4, "\"end\\t\""},
        {"\tstart", 6, "\"\\tstart\""},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++)
        expect_print(doc_box_string(rows[r].s, rows[r].len), rows[r].want, strlen(rows[r].want));
}

/* A plain reference escaper, byte by byte. */
static void ref_escape(doc_buf *b, const unsigned char *s, size_t n)
{
    doc_buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        char tmp[8];
        switch (c) {
        case '"': doc_buf_append(b, "\\\"", 2); break;
        case '\\': doc_buf_append(b, "\\\\", 2); break;
        case '\b': doc_buf_append(b, "\\b", 2); break;
        case '\f': doc_buf_append(b, "\\f", 2); break;
        case '\n': doc_buf_append(b, "\\n", 2); break;
        case '\r': doc_buf_append(b, "\\r", 2); break;
        case '\t': doc_buf_append(b, "\\t", 2); break;
        default:
            if (c < 0x20) {
                snprintf(tmp, sizeof tmp, "\\u%04x", c);
                doc_buf_append(b, tmp, 6);
            } else {
                doc_buf_putc(b, (char)c);
            }
        }
    }
    doc_buf_putc(b, '"');
}

/* Every byte value, alone and in random mixes, against the reference. */
Test(print, string_escapes_match_reference)
{
    unsigned char s[4096];
    doc_buf want;
    doc_buf_init(&want);
    for (int c = 0; c < 256; c++) {
        s[0] = (unsigned char)c;
        want.len = 0;
        ref_escape(&want, s, 1);
        expect_print(doc_box_string((const char *)s, 1), want.data, want.len);
    }
    uint64_t x = 88172645463325252ull;
    for (int r = 0; r < 2000; r++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t n = (size_t)(x % sizeof s);
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            /* Mostly safe bytes, some escapes: exercises run copying. */
            s[i] = (x & 7) ? (unsigned char)('a' + x % 26) : (unsigned char)(x >> 8);
        }
        want.len = 0;
        ref_escape(&want, s, n);
        expect_print(doc_box_string((const char *)s, n), want.data, want.len);
    }
    doc_buf_free(&want);
}

/* ---------------------------------------------------------------- */

static doc_node *parse_ok(const char *text, size_t len)
{
    doc_error err;
    doc_error_clear(&err);
    doc_node *box = doc_parse(text, len, DOC_DEPTH_LIMIT, &err);
    cr_assert(box, "%s at %zu", err.msg, err.offset);
    return box;
}

Test(print, containers_in_order)
{
    static const char *const rows[] = {
        "[]",
        "{}",
        "[[]]",
        "[{}]",
        "{\"a\":[]}",
        "[1,2,3]",
        "{\"z\":1,\"a\":2,\"m\":3}",
        "{\"a\":{\"b\":{\"c\":[1,[2,[3,{\"d\":null}]]]}},\"e\":true}",
        "[\"x\",{\"k\\n\":\"v\\u0000\"},-1.5,false]",
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++)
        expect_print(parse_ok(rows[r], strlen(rows[r])), rows[r], strlen(rows[r]));
}

/* Indexed containers (more than DOC_INDEX_MIN children) print in insertion
 * order, not index order. */
Test(print, large_containers)
{
    doc_buf in;
    doc_buf_init(&in);
    char tmp[64];
    doc_buf_putc(&in, '{');
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(tmp, sizeof tmp, "%s\"k%d\":[%d,%d.5,\"s%d\"]", i ? "," : "",
                         (i * 7919) % 5000, i, i, i);
        doc_buf_append(&in, tmp, (size_t)n);
    }
    doc_buf_putc(&in, '}');
    expect_print(parse_ok(in.data, in.len), in.data, in.len);
    doc_buf_free(&in);
}

/* Nesting at the ceiling: the iterator stack grows on the heap. */
Test(print, deep_nesting)
{
    doc_builder *b = doc_builder_new(DOC_DEPTH_LIMIT);
    doc_buf want;
    doc_buf_init(&want);
    for (int i = 0; i < DOC_DEPTH_LIMIT; i++) {
        if (i % 2) {
            cr_assert_eq(doc_builder_begin_array(b), DOC_OK);
            doc_buf_putc(&want, '[');
        } else {
            cr_assert_eq(doc_builder_begin_object(b), DOC_OK);
            cr_assert_eq(doc_builder_key(b, "k", 1), DOC_OK);
            doc_buf_append(&want, "{\"k\":", 5);
        }
    }
    for (int i = DOC_DEPTH_LIMIT - 1; i >= 0; i--) {
        cr_assert_eq(doc_builder_end(b), DOC_OK);
        doc_buf_putc(&want, i % 2 ? ']' : '}');
    }
    doc_error err;
    doc_error_clear(&err);
    doc_node *box = doc_builder_finish(b, &err);
    doc_builder_free(b);
    cr_assert(box, "%s", err.msg);
    expect_print(box, want.data, want.len);
    doc_buf_free(&want);
}

/* doc_print appends; it never clears what the buffer holds. */
Test(print, appends_to_buffer)
{
    doc_node *box = parse_ok("[1,\"a\"]", 7);
    doc_buf b;
    doc_buf_init(&b);
    doc_buf_append(&b, "x=", 2);
    doc_print(doc_box_value(box), &b);
    doc_buf_putc(&b, ';');
    doc_print(doc_box_value(box), &b);
    cr_expect_str_eq(doc_buf_cstr(&b), "x=[1,\"a\"];[1,\"a\"]");
    doc_buf_free(&b);
    doc_node_free(box);
}

/* ---------------------------------------------------------------- */


/* Allocation failure at every step sets the sticky oom flag and nothing
 * worse; with enough memory the text is complete. */
Test(print, out_of_memory)
{
    doc_buf in;
    doc_buf_init(&in);
    for (int i = 0; i < 100; i++)
        doc_buf_append(&in, "[{\"a\":\"x\\ny\",\"b\":1.5},", 22);
    doc_buf_append(&in, "0", 1);
    for (int i = 0; i < 100; i++)
        doc_buf_putc(&in, ']');
    doc_node *box = parse_ok(in.data, in.len);

    int complete = 0;
    for (long n = 0; n < 100 && !complete; n++) {
        unit_alloc_fail_after(n);
        doc_buf out;
        doc_buf_init(&out);
        doc_print(doc_box_value(box), &out);
        unit_alloc_plain();
        if (!out.oom) {
            complete = 1;
            cr_expect_eq(out.len, in.len);
            cr_expect_eq(memcmp(out.data, in.data, in.len), 0);
        }
        doc_buf_free(&out);
    }
    cr_expect(complete);
    doc_node_free(box);
    doc_buf_free(&in);
}
