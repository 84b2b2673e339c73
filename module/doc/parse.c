/*
 * parse.c - JSON text to a document box: YAJL 2's event parser feeding a
 * doc_builder.
 *
 * YAJL checks the grammar (one value, no comments, no trailing garbage) and
 * hands us tokens; the builder makes the packed nodes and reports duplicate
 * keys and excess depth. Neither recurses, so a 100,000-deep input fails
 * with TOODEEP at max_depth + 1 without using the C stack.
 *
 * What YAJL does not check, this file does:
 *   - UTF-8. YAJL's own check accepts overlong forms (C0 80), encoded
 *     surrogates (ED A0 80) and code points above U+10FFFF, so it is turned
 *     off (yajl_dont_validate_strings) and every string and key is checked
 *     here against RFC 3629, on the raw token bytes.
 *   - Surrogate escapes. YAJL replaces a lone high surrogate ("\ud800") by
 *     '?', encodes a lone low one ("\udc00") as the invalid bytes ED B0 80,
 *     and pairs a high surrogate with any following \u escape ("\ud800\u0041"
 *     becomes U+10041). So a string that had escapes (YAJL then hands us a
 *     decoded copy instead of a pointer into the input) is rescanned raw:
 *     every \uD800-\uDBFF must be followed by \uDC00-\uDFFF, and no
 *     \uDC00-\uDFFF may stand alone. With the escapes proved well formed,
 *     YAJL's decoding of them is right.
 *   - Numbers: the raw token goes to doc_number_parse (int64 or correctly
 *     rounded double; out of double range is BADJSON).
 *
 * Offsets. Inside a callback, yajl_get_bytes_consumed() is the input offset
 * just past the token the callback is about, so a token starts at that
 * offset minus its length (strings: back to the opening quote). A top-level
 * number is only delivered by yajl_complete_parse(), which lexes a private
 * one-byte buffer; its token then ends at the end of the input. Error
 * offsets point at the first byte of the offending token or character, or
 * at the end of the input when it ends too early.
 */
#include "doc.h"

#include <string.h>

#include <yajl/yajl_parse.h>

/* State shared by the YAJL callbacks. */
typedef struct parse_ctx {
    yajl_handle yajl;         /* the YAJL parser */
    doc_builder *b;           /* what we build into */
    const char *text;         /* the whole input */
    size_t len;               /* its length */
    int finishing;            /* 1 inside yajl_complete_parse (see the top) */
    size_t last_end;          /* offset just past the last token delivered */
    doc_error err;            /* our own first error (UTF-8, escapes, numbers) */
} parse_ctx;

/* Offset just past the token being delivered (remembered for errors). */
static size_t parse_token_end(parse_ctx *c)
{
    size_t end = c->finishing ? c->len : yajl_get_bytes_consumed(c->yajl);
    if (end > c->len)
        end = c->len;
    c->last_end = end;
    return end;
}

/* Offset of the opening quote of the string token whose closing quote is at
 * `close`: the nearest earlier quote not escaped by an odd run of
 * backslashes. Linear in the string: each backslash run is counted once. */
static size_t parse_string_start(const char *text, size_t close)
{
    size_t q = close;
    while (q > 0) {
        q--;
        if (text[q] != '"')
            continue;
        size_t bs = 0;
        while (bs < q && text[q - 1 - bs] == '\\')
            bs++;
        if (bs % 2 == 0)
            return q;
        q -= bs;
    }
    return 0;
}

static int parse_is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* Where the token YAJL refused starts. Between the last token delivered to
 * a callback and the refused one there is only whitespace and at most one
 * ',' or ':' that YAJL accepted (brackets are delivered). `consumed` is how
 * far YAJL read: a ',' or ':' it read past was accepted. */
static size_t parse_refused_at(const parse_ctx *c, size_t consumed)
{
    size_t p = c->last_end;
    while (p < c->len && parse_is_space(c->text[p]))
        p++;
    if (p < c->len && (c->text[p] == ',' || c->text[p] == ':') && consumed > p + 1) {
        p++;
        while (p < c->len && parse_is_space(c->text[p]))
            p++;
    }
    return p;
}

/* Length of the well-formed UTF-8 sequence at s[0..n) (RFC 3629, table 3-7
 * of Unicode), or 0 when it is not one. s[0] >= 0x80. */
static size_t parse_utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c0 = s[0];
    if (c0 >= 0xC2 && c0 <= 0xDF)
        return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c0 >= 0xE0 && c0 <= 0xEF) {
        if (n < 3 || (s[2] & 0xC0) != 0x80)
            return 0;
        unsigned char lo = c0 == 0xE0 ? 0xA0 : 0x80;   /* no overlong */
        unsigned char hi = c0 == 0xED ? 0x9F : 0xBF;   /* no surrogates */
        return s[1] >= lo && s[1] <= hi ? 3 : 0;
    }
    if (c0 >= 0xF0 && c0 <= 0xF4) {
        if (n < 4 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        unsigned char lo = c0 == 0xF0 ? 0x90 : 0x80;   /* no overlong */
        unsigned char hi = c0 == 0xF4 ? 0x8F : 0xBF;   /* <= U+10FFFF */
        return s[1] >= lo && s[1] <= hi ? 4 : 0;
    }
    return 0;
}

/* 1 when s[0..n), n <= 16, is all ASCII (most keys and short values): two
 * overlapping loads instead of a loop. */
static int parse_ascii_short(const unsigned char *s, size_t n)
{
    if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        return !((a | b) & 0x8080808080808080ull);
    }
    if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        return !((a | b) & 0x80808080u);
    }
    unsigned acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= s[i];
    return acc < 0x80;
}

/* Index of the first byte of s[0..n) that starts an invalid UTF-8 sequence,
 * or n when all is valid. ASCII is skipped eight bytes at a time. */
static size_t parse_utf8_check(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, sizeof w);
            if (w & 0x8080808080808080ull)
                break;
            i += 8;
        }
        while (i < n && s[i] < 0x80)
            i++;
        if (i == n)
            break;
        size_t k = parse_utf8_seq(s + i, n - i);
        if (!k)
            return i;
        i += k;
    }
    return n;
}

int doc_utf8_valid(const char *s, size_t len)
{
    return parse_utf8_check((const unsigned char *)s, len) == len;
}

static int parse_hex4(const unsigned char *p)
{
    int v = 0;
    for (int j = 0; j < 4; j++) {
        unsigned char ch = p[j];
        int d = ch <= '9' ? ch - '0' : (ch | 0x20) - 'a' + 10;
        v = v * 16 + d;
    }
    return v;
}

/* Checks the raw string token s[0..n) (between its quotes, escapes intact;
 * YAJL has checked the escapes' syntax): UTF-8 and surrogate pairs. `base`
 * is the input offset of s. Returns 1 when fine, else sets the error. */
static int parse_check_raw(parse_ctx *c, const unsigned char *s, size_t n, size_t base)
{
    size_t i = 0;
    while (i < n) {
        unsigned char ch = s[i];
        if (ch == '\\') {
            if (i + 1 < n && s[i + 1] == 'u' && i + 6 <= n) {
                int cp = parse_hex4(s + i + 2);
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (i + 12 <= n && s[i + 6] == '\\' && s[i + 7] == 'u') {
                        int lo = parse_hex4(s + i + 8);
                        if (lo >= 0xDC00 && lo <= 0xDFFF) {
                            i += 12;
                            continue;
                        }
                    }
                    doc_error_at(&c->err, DOC_BADJSON, base + i, "lone surrogate escape");
                    return 0;
                }
                if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    doc_error_at(&c->err, DOC_BADJSON, base + i, "lone surrogate escape");
                    return 0;
                }
                i += 6;
            } else {
                i += 2;
            }
        } else if (ch < 0x80) {
            i++;
        } else {
            size_t k = parse_utf8_seq(s + i, n - i);
            if (!k) {
                doc_error_at(&c->err, DOC_BADJSON, base + i, "invalid UTF-8");
                return 0;
            }
            i += k;
        }
    }
    return 1;
}

/* Checks a string or key YAJL delivered as s[0..n). Returns 1 when fine and
 * stores the input offset of its opening quote in *start. */
static int parse_check_string(parse_ctx *c, const unsigned char *s, size_t n, size_t *start)
{
    const unsigned char *t = (const unsigned char *)c->text;
    uintptr_t ps = (uintptr_t)s, pt = (uintptr_t)t;
    if (ps >= pt && ps - pt <= c->len && n <= c->len - (ps - pt)) {
        /* No escapes: YAJL points into the input, the token is s[-1..n]. */
        size_t base = (size_t)(ps - pt);
        *start = base ? base - 1 : 0;
        c->last_end = base + n + 1;
        if (n <= 16 && parse_ascii_short(s, n))
            return 1;
        size_t bad = parse_utf8_check(s, n);
        if (bad < n) {
            doc_error_at(&c->err, DOC_BADJSON, base + bad, "invalid UTF-8");
            return 0;
        }
        return 1;
    }
    size_t end = parse_token_end(c);
    /* Escapes: rescan the raw token, which ends just before the offset. */
    if (c->finishing || end < 2 || c->text[end - 1] != '"') {
        /* Cannot happen: a string token always ends inside yajl_parse().
         * Refuse rather than store unchecked bytes. */
        doc_error_at(&c->err, DOC_BADJSON, end, "unexpected string");
        return 0;
    }
    size_t open = parse_string_start(c->text, end - 1);
    *start = open;
    return parse_check_raw(c, t + open + 1, end - 1 - (open + 1), open + 1);
}

/* ---- YAJL callbacks: return 1 to go on, 0 to stop (error recorded) ---- */

static int parse_on_null(void *ctx)
{
    parse_ctx *c = ctx;
    doc_builder_set_offset(c->b, parse_token_end(c) - 4);
    return doc_builder_null(c->b) == DOC_OK;
}

static int parse_on_bool(void *ctx, int v)
{
    parse_ctx *c = ctx;
    doc_builder_set_offset(c->b, parse_token_end(c) - (v ? 4 : 5));
    return doc_builder_bool(c->b, v) == DOC_OK;
}

static int parse_on_number(void *ctx, const char *s, size_t n)
{
    parse_ctx *c = ctx;
    size_t end = parse_token_end(c);
    size_t start = end >= n ? end - n : 0;
    int is_int;
    int64_t i;
    double d;
    /* YAJL's lexer enforces the same grammar, so a failure here is range. */
    if (doc_number_parse(s, n, &is_int, &i, &d) != DOC_OK) {
        doc_error_at(&c->err, DOC_BADJSON, start, "number out of range");
        return 0;
    }
    doc_builder_set_offset(c->b, start);
    return (is_int ? doc_builder_int(c->b, i) : doc_builder_double(c->b, d)) == DOC_OK;
}

static int parse_on_string(void *ctx, const unsigned char *s, size_t n)
{
    parse_ctx *c = ctx;
    size_t start;
    if (!parse_check_string(c, s, n, &start))
        return 0;
    doc_builder_set_offset(c->b, start);
    return doc_builder_string(c->b, (const char *)s, n) == DOC_OK;
}

static int parse_on_key(void *ctx, const unsigned char *s, size_t n)
{
    parse_ctx *c = ctx;
    size_t start;
    if (!parse_check_string(c, s, n, &start))
        return 0;
    doc_builder_set_offset(c->b, start);
    return doc_builder_key(c->b, (const char *)s, n) == DOC_OK;
}

static int parse_on_start_map(void *ctx)
{
    parse_ctx *c = ctx;
    doc_builder_set_offset(c->b, parse_token_end(c) - 1);
    return doc_builder_begin_object(c->b) == DOC_OK;
}

static int parse_on_start_array(void *ctx)
{
    parse_ctx *c = ctx;
    doc_builder_set_offset(c->b, parse_token_end(c) - 1);
    return doc_builder_begin_array(c->b) == DOC_OK;
}

static int parse_on_end(void *ctx)
{
    parse_ctx *c = ctx;
    doc_builder_set_offset(c->b, parse_token_end(c) - 1);
    return doc_builder_end(c->b) == DOC_OK;
}

static const yajl_callbacks parse_callbacks = {
    parse_on_null,   parse_on_bool,        NULL,                NULL,
    parse_on_number, parse_on_string,      parse_on_start_map,  parse_on_key,
    parse_on_end,    parse_on_start_array, parse_on_end,
};

/* YAJL's error texts (minus "lexical error: " / "parse error: ") mapped to
 * one short line each. First match wins. */
static const struct {
    const char *yajl;    /* a distinctive part of YAJL's message */
    const char *msg;     /* ours */
} parse_messages[] = {
    {"premature EOF", "unexpected end of input"},
    {"trailing garbage", "unexpected data after the JSON value"},
    {"separated by a colon", "expected ':' after an object key"},
    {"inside map, I expect", "expected ',' or '}' in an object"},
    {"invalid object key", "object key must be a string"},
    {"after array element", "expected ',' or ']' in an array"},
    {"occurs before a character", "invalid escape in string"},
    {"after '\\u'", "invalid \\u escape in string"},
    {"invalid character inside string", "unescaped control character in string"},
    {"UTF8", "invalid UTF-8"},
    {"malformed number", "invalid number"},
    {"comment", "unexpected character"},
    {"invalid char in json text", "unexpected character"},
    {"invalid string in json text", "invalid literal"},
    {"unallowed token", "unexpected token"},
};

/* Turns YAJL's failure into a BADJSON with an offset and a short message. */
static void parse_yajl_error(parse_ctx *c, doc_error *err)
{
    unsigned char *e = yajl_get_error(c->yajl, 0, NULL, 0);
    const char *text = e ? (const char *)e : "";
    const char *msg = "syntax error";
    for (size_t i = 0; i < sizeof parse_messages / sizeof parse_messages[0]; i++) {
        if (strstr(text, parse_messages[i].yajl)) {
            msg = parse_messages[i].msg;
            break;
        }
    }
    /* Lexical errors inside a string or a number stop at the bad byte;
     * the others (a bad character or literal) and grammar errors are
     * reported at the start of the token YAJL refused. */
    int at_byte = strstr(text, "occurs before a character") || strstr(text, "after '\\u'") ||
                  strstr(text, "invalid character inside string") ||
                  strstr(text, "malformed number") || strstr(text, "UTF8");
    int eof = strstr(text, "premature EOF") != NULL;
    if (e)
        yajl_free_error(c->yajl, e);

    size_t consumed = c->finishing ? c->len : yajl_get_bytes_consumed(c->yajl);
    if (consumed > c->len)
        consumed = c->len;
    size_t off;
    if (eof)
        off = c->len;
    else if (at_byte && !c->finishing)
        off = consumed;
    else
        off = parse_refused_at(c, consumed);
    unsigned char at = off < c->len ? (unsigned char)c->text[off] : 0;
    if ((strcmp(msg, "unexpected token") == 0 || strcmp(msg, "unexpected character") == 0) &&
        off < c->len) {
        /* Name the culprit. */
        if (at > 0x20 && at < 0x7F)
            doc_error_at(err, DOC_BADJSON, off, "unexpected character '%c'", at);
        else
            doc_error_at(err, DOC_BADJSON, off, "unexpected byte 0x%02x", at);
        return;
    }
    doc_error_at(err, DOC_BADJSON, off, "%s", msg);
}

doc_node *doc_parse(const char *text, size_t len, uint32_t max_depth, doc_error *err)
{
    doc_error local;
    if (!err) {
        doc_error_clear(&local);
        err = &local;
    }
    if (!text)
        text = "";
    /* YAJL's lexer takes form feed and vertical tab as white space; JSON
     * does not (RFC 8259: space, tab, LF, CR), and inside a string they
     * would be unescaped control characters. Either way the text is bad. */
    for (const char *bad = "\f\v"; *bad; bad++) {
        const char *at = memchr(text, *bad, len);
        if (at) {
            doc_error_at(err, DOC_BADJSON, (size_t)(at - text),
                         "control character 0x%02x outside escapes", (unsigned)*bad);
            return NULL;
        }
    }
    parse_ctx c;
    memset(&c, 0, sizeof c);
    doc_error_clear(&c.err);
    c.text = text;
    c.len = len;
    c.b = doc_builder_new(max_depth);
    if (!c.b) {
        doc_error_set(err, DOC_NOMEM, "out of memory");
        return NULL;
    }
    /* YAJL uses malloc, not doc_malloc: it does not check for allocation
     * failure, so it must not see a hook that fails on purpose. Its memory
     * (state stack, decode buffer) lives only during this call. */
    c.yajl = yajl_alloc(&parse_callbacks, NULL, &c);
    if (!c.yajl) {
        doc_builder_free(c.b);
        doc_error_set(err, DOC_NOMEM, "out of memory");
        return NULL;
    }
    /* Our UTF-8 check is stricter than YAJL's (see the top of this file). */
    yajl_config(c.yajl, yajl_dont_validate_strings, 1);

    yajl_status st = yajl_parse(c.yajl, (const unsigned char *)text, len);
    if (st == yajl_status_ok) {
        c.finishing = 1;
        st = yajl_complete_parse(c.yajl);
    }
    doc_node *box = NULL;
    if (st == yajl_status_client_canceled) {
        /* A callback stopped: the error is ours or the builder's. */
        if (c.err.code) {
            if (!err->code)
                *err = c.err;
        }
        else
            doc_builder_finish(c.b, err);
    } else if (st == yajl_status_error) {
        parse_yajl_error(&c, err);
    } else {
        box = doc_builder_finish(c.b, err);
    }
    yajl_free(c.yajl);
    doc_builder_free(c.b);
    return box;
}
