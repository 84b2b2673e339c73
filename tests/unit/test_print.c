/*
 * test_print.c - doc_print: scalars, string escaping (every control byte,
 * quote, backslash; DEL and UTF-8 verbatim), containers in order, large and
 * indexed containers, nesting at the depth ceiling (the iterator stack
 * grows past its on-stack part), appending to a non-empty buffer, and
 * allocation failure (a sticky oom, never a crash).
 */
#include <criterion/criterion.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "unit_alloc.h"

/* The printed text of a box's value (malloc'd, NUL-terminated; *len set). */
static char *print_box(const doc_node *box, size_t *len) {
    doc_buf b;
    doc_buf_init(&b);
    doc_print(doc_box_value(box), &b);
    cr_assert(!b.oom);
    char *s = malloc(b.len + 1);
    memcpy(s, b.data, b.len);
    s[b.len] = '\0';
    if (len) *len = b.len;
    doc_buf_free(&b);
    return s;
}

static void expect_print(doc_node *box, const char *want, size_t want_len) {
    cr_assert(box);
    size_t n;
    char *s = print_box(box, &n);
    cr_expect_eq(n, want_len, "length %zu, want %zu: %s", n, want_len, s);
    cr_expect(n == want_len && memcmp(s, want, n) == 0, "got %s want %s", s, want);
    free(s);
    doc_node_free(box);
}

/* ---------------------------------------------------------------- */

Test(print, scalars) {
    expect_print(doc_box_null(), "null", 4);
    expect_print(doc_box_bool(1), "true", 4);
    expect_print(doc_box_bool(0), "false", 5);
    static const struct {
        int64_t v;        /* value */
        const char *want; /* text */
    } ints[] = {
        {0, "0"},
        {1, "1"},
        {-1, "-1"},
        {127, "127"},
        {128, "128"},
        {-128, "-128"},
        {32768, "32768"},
        {INT64_MAX, "9223372036854775807"},
        {INT64_MIN, "-9223372036854775808"},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        expect_print(doc_box_int(ints[i].v), ints[i].want, strlen(ints[i].want));
    static const struct {
        double v;         /* value */
        const char *want; /* text: always a double, shortest */
    } dbls[] = {
        {0.0, "0.0"},
        {-0.0, "-0.0"},
        {1.0, "1.0"},
        {100.0, "100.0"},
        {0.1, "0.1"},
        {19.99, "19.99"},
        {1e21, "1e21"},
        {5e-324, "5e-324"},
        {DBL_MAX, "1.7976931348623157e308"},
        {1.0 / 3.0, "0.3333333333333333"},
    };
    for (size_t i = 0; i < sizeof dbls / sizeof dbls[0]; i++)
        expect_print(doc_box_double(dbls[i].v), dbls[i].want, strlen(dbls[i].want));
}

typedef struct str_row {
    const char *s;    /* string bytes */
    size_t len;       /* their count */
    const char *want; /* printed literal */
} str_row;

Test(print, string_escapes) {
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
static void ref_escape(doc_buf *b, const unsigned char *s, size_t n) {
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
Test(print, string_escapes_match_reference) {
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

static doc_node *parse_ok(const char *text, size_t len) {
    doc_error err;
    doc_error_clear(&err);
    doc_node *box = doc_parse(text, len, DOC_DEPTH_LIMIT, &err);
    cr_assert(box, "%s at %zu", err.msg, err.offset);
    return box;
}

Test(print, containers_in_order) {
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
Test(print, large_containers) {
    doc_buf in;
    doc_buf_init(&in);
    char tmp[64];
    doc_buf_putc(&in, '{');
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(tmp, sizeof tmp, "%s\"k%d\":[%d,%d.5,\"s%d\"]", i ? "," : "", (i * 7919) % 5000, i,
                         i, i);
        doc_buf_append(&in, tmp, (size_t)n);
    }
    doc_buf_putc(&in, '}');
    expect_print(parse_ok(in.data, in.len), in.data, in.len);
    doc_buf_free(&in);
}

/* Nesting at the ceiling: the iterator stack grows on the heap. */
Test(print, deep_nesting) {
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
Test(print, appends_to_buffer) {
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
Test(print, out_of_memory) {
    doc_buf in;
    doc_buf_init(&in);
    for (int i = 0; i < 100; i++) doc_buf_append(&in, "[{\"a\":\"x\\ny\",\"b\":1.5},", 22);
    doc_buf_append(&in, "0", 1);
    for (int i = 0; i < 100; i++) doc_buf_putc(&in, ']');
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

/* ---------------------------------------------------------------- */
/* The fast paths print exactly what doc_format_int / doc_format_double
 * (the definitions) print, and what a plain-copy fast path skips is
 * still escaped after an edit. */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void expect_double(double d) {
    char want[40];
    size_t n = doc_format_double(d, want);
    expect_print(doc_box_double(d), want, n);
}

/* Short decimals (the printer's one-multiplication path), its edges, and
 * random bit patterns (doc_format_double's own paths). */
Test(print, doubles_match_doc_format_double) {
    static const double edges[] = {
        0.0,
        -0.0,
        1e-6,
        -1e-6,
        9.99999e-7,
        1.0000001e-6,
        0.1,
        0.5,
        1.5,
        93.78,
        -57.943145,
        100.0,
        1e7,
        11258999.06842624,
        11258999.06842625,
        11258999.0,
        11259000.5,
        1e21,
        1e-7,
        123456789.125,
        0.00000123,
        0.12345678,
        0.123456789,
        4503599627370496.0,
        5e-324,
        DBL_MAX,
        -DBL_MAX,
        DBL_MIN,
        1.0 / 3.0,
        2.0 / 3.0,
        0.3,
        1e15 + 0.3,
        9007199254740993.0,
    };
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) expect_double(edges[i]);
    static const double scale[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10};
    for (int r = 0; r < 100000; r++) {
        uint64_t x = rng();
        /* m / 10^k for k decimals, m up to 12 digits. */
        double d = (double)(x % 1000000000000ull) / scale[(x >> 40) % 11];
        if (x & (1ull << 63)) d = -d;
        expect_double(d);
        /* and a neighbour, which usually needs 17 digits */
        expect_double(nextafter(d, 1e300));
    }
    for (int r = 0; r < 20000; r++) {
        uint64_t x = rng();
        double d;
        memcpy(&d, &x, 8);
        if (d != d || d - d != 0.0) continue; /* NaN, infinities never enter */
        expect_double(d);
    }
}

Test(print, ints_match_doc_format_int) {
    static const int64_t edges[] = {
        0,
        9,
        10,
        99,
        100,
        127,
        128,
        999,
        1000,
        9999,
        10000,
        99999,
        100000,
        2147483647,
        -2147483647 - 1,
        32767,
        -32768,
        -129,
        1705027803,
        999999999999999999,
        1000000000000000000,
        INT64_MAX,
        INT64_MIN,
        INT64_MIN + 1,
    };
    char want[32];
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        size_t n = doc_format_int(edges[i], want);
        expect_print(doc_box_int(edges[i]), want, n);
        if (edges[i] == INT64_MIN) continue; /* its negation is not an int64 */
        n = doc_format_int(-edges[i], want);
        expect_print(doc_box_int(-edges[i]), want, n);
    }
    for (int r = 0; r < 20000; r++) {
        int64_t v = (int64_t)(rng() >> (rng() % 64));
        if ((r & 1) && v != INT64_MIN) v = -v;
        size_t n = doc_format_int(v, want);
        expect_print(doc_box_int(v), want, n);
    }
}

/* Keys and strings of every length 0..40 with and without one byte to
 * escape at each position, in parsed documents (clean containers take the
 * copy-without-test path) and one with an escape elsewhere in the same
 * object: printing returns the parsed text. */
Test(print, strings_of_every_length_in_clean_and_escaped_containers) {
    static const char *const esc[] = {
        "\\\"", "\\\\", "\\n", "\\u0001", "\\u001f", "\xc3\xa9", "\xf0\x9f\x98\x80", "\x7f", "/", " "};
    doc_buf in;
    doc_buf_init(&in);
    for (size_t len = 0; len <= 40; len++) {
        for (size_t e = 0; e <= sizeof esc / sizeof esc[0]; e++) {
            for (size_t at = 0; at <= (e ? len : 0); at++) {
                doc_buf body;
                doc_buf_init(&body);
                for (size_t i = 0; i < len; i++) {
                    if (e && i == at)
                        doc_buf_append(&body, esc[e - 1], strlen(esc[e - 1]));
                    else
                        doc_buf_putc(&body, (char)('a' + (i * 7 + len) % 26));
                }
                for (int shape = 0; shape < 4; shape++) {
                    in.len = 0;
                    const char *b = body.len ? body.data : "";
                    int bl = (int)body.len;
                    char tmp[512];
                    int n;
                    switch (shape) {
                    case 0: n = snprintf(tmp, sizeof tmp, "{\"%.*s\":\"%.*s\",\"k\":1}", bl, b, bl, b); break;
                    case 1: n = snprintf(tmp, sizeof tmp, "[\"%.*s\",2.5,\"%.*s\"]", bl, b, bl, b); break;
                    case 2:
                        n = snprintf(tmp, sizeof tmp, "{\"x\\n\":0,\"%.*s\":[\"%.*s\"]}", bl, b, bl, b);
                        break;
                    default: n = snprintf(tmp, sizeof tmp, "\"%.*s\"", bl, b); break;
                    }
                    doc_buf_append(&in, tmp, (size_t)n);
                    /* Every escape above is the one the printer writes,
                     * so the text prints back as it was. */
                    doc_node *box = parse_ok(in.data, in.len);
                    size_t plen;
                    char *s = print_box(box, &plen);
                    cr_expect(plen == in.len && memcmp(s, in.data, plen) == 0, "got %s want %.*s", s,
                              (int)in.len, in.data);
                    free(s);
                    doc_node_free(box);
                }
                doc_buf_free(&body);
            }
        }
    }
    doc_buf_free(&in);
}

static doc_path *path_ok(const char *text) {
    doc_error err;
    doc_error_clear(&err);
    doc_path *p = NULL;
    cr_assert_eq(doc_path_compile(text, strlen(text), 128, &p, &err), DOC_OK, "%s", err.msg);
    return p;
}

/* A parsed container without escapes prints its strings without testing
 * them; an edit that puts a quote or control byte into it (as a value or a
 * key) must still come out escaped, and so must the rollback. */
Test(print, edits_into_a_clean_container_are_escaped) {
    static const struct {
        const char *path;  /* where the edit writes */
        const char *value; /* the JSON it writes */
        const char *want;  /* the document printed after it */
    } rows[] = {
        {"$.b", "\"q\\\"\"", "{\"a\":\"x\",\"b\":\"q\\\"\",\"c\":[\"y\"]}"},
        {"$.c[0]", "\"\\n\"", "{\"a\":\"x\",\"b\":1,\"c\":[\"\\n\"]}"},
        {"$[\"k\\\"\"]", "\"\\u0002\"", "{\"a\":\"x\",\"b\":1,\"c\":[\"y\"],\"k\\\"\":\"\\u0002\"}"},
        {"$.c[0]", "{\"t\\t\":\"\\\\\"}", "{\"a\":\"x\",\"b\":1,\"c\":[{\"t\\t\":\"\\\\\"}]}"},
    };
    const char *orig = "{\"a\":\"x\",\"b\":1,\"c\":[\"y\"]}";
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        doc_node *root = parse_ok(orig, strlen(orig));
        doc_cursor c;
        doc_error err;
        doc_error_clear(&err);
        doc_cursor_init(&c, &root);
        doc_path *p = path_ok(rows[r].path);
        doc_undo *u = doc_undo_new();
        cr_assert_eq(doc_resolve_write(&c, p, u, &err), DOC_OK, "%s", err.msg);
        cr_assert_eq(doc_edit_set_take(&c, parse_ok(rows[r].value, strlen(rows[r].value)), u, &err), DOC_OK,
                     "%s", err.msg);
        size_t n;
        char *s = print_box(root, &n);
        cr_expect_str_eq(s, rows[r].want);
        free(s);
        doc_undo_rollback(u);
        doc_cursor_free(&c);
        s = print_box(root, &n);
        cr_expect_str_eq(s, orig);
        free(s);
        doc_undo_free(u);
        doc_path_free(p);
        doc_node_free(root);
    }
}
