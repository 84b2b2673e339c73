/*
 * utf8.c - decoding and encoding one UTF-8 sequence (RFC 3629), shared by
 * the path and query compilers. Strict: overlong forms, surrogates and code
 * points above U+10FFFF are not well-formed. (Whole-string validation of
 * JSON text lives in parse.c, tuned for long runs of ASCII.) Also the body
 * of an escaped string literal, shared by path and query printing.
 */
#include "doc.h"

#include <string.h>

size_t doc_utf8_decode(const unsigned char *p, size_t n, uint32_t *cp) {
    uint32_t c = p[0], min;
    size_t need, i;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF)
        need = 2, min = 0x80, c &= 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
        need = 3, min = 0x800, c &= 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
        need = 4, min = 0x10000, c &= 0x07;
    else
        return 0;
    if (n < need) return 0;
    for (i = 1; i < need; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        c = (c << 6) | (p[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
    *cp = c;
    return need;
}

size_t doc_utf8_encode(uint32_t cp, char out[4]) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

void doc_string_escape(const char *s, size_t len, char quote, doc_buf *out) {
    static const char hex[] = "0123456789abcdef";
    size_t i, run = 0;
    char esc[6];

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != (unsigned char)quote && c != '\\') continue;
        doc_buf_append(out, s + run, i - run);
        run = i + 1;
        esc[0] = '\\';
        switch (c) {
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            if (c >= 0x20) { /* the quote or the backslash itself */
                esc[1] = (char)c;
                break;
            }
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            doc_buf_append(out, esc, 6);
            continue;
        }
        doc_buf_append(out, esc, 2);
    }
    doc_buf_append(out, s + run, len - run);
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Four hex digits at s[at..), or -1. */
static long hex4(const char *s, size_t len, size_t at) {
    long v = 0;

    if (len < at || len - at < 4) return -1;
    for (int i = 0; i < 4; i++) {
        int h = hex_value(s[at + (size_t)i]);
        if (h < 0) return -1;
        v = v * 16 + h;
    }
    return v;
}

/* Sets the failure of doc_string_literal_decode; returns DOC_BADPATH. */
static doc_status literal_fail(size_t *bad_at, const char **bad_msg, size_t at, const char *msg) {
    *bad_at = at;
    *bad_msg = msg;
    return DOC_BADPATH;
}

doc_status doc_string_literal_decode(const char *s, size_t len, size_t *pos,
                                     void (*put)(void *ctx, const char *bytes, size_t n), void *ctx,
                                     size_t *bad_at, const char **bad_msg) {
    size_t open = *pos, i = *pos + 1;
    char quote = s[open];

    for (;;) {
        if (i == len) return literal_fail(bad_at, bad_msg, open, "unterminated string");
        char c = s[i];
        if (c == quote) {
            *pos = i + 1;
            return DOC_OK;
        }
        if ((unsigned char)c < 0x20)
            return literal_fail(bad_at, bad_msg, i, "control character in string (escape it)");
        if (c != '\\') {
            /* Run of plain bytes up to the next special one, put whole. */
            size_t start = i;
            while (i < len) {
                c = s[i];
                if (c == quote || c == '\\' || (unsigned char)c < 0x20) break;
                if ((unsigned char)c < 0x80) {
                    i++;
                } else {
                    uint32_t cp;
                    size_t n = doc_utf8_decode((const unsigned char *)s + i, len - i, &cp);
                    i += n ? n : 1; /* callers validated the text; never split a sequence */
                }
            }
            put(ctx, s + start, i - start);
            continue;
        }
        size_t esc = i++;
        if (i == len) return literal_fail(bad_at, bad_msg, open, "unterminated string");
        char out;
        switch (s[i]) {
        case 'b': out = '\b'; break;
        case 'f': out = '\f'; break;
        case 'n': out = '\n'; break;
        case 'r': out = '\r'; break;
        case 't': out = '\t'; break;
        case '/': out = '/'; break;
        case '\\': out = '\\'; break;
        case '"':
        case '\'':
            /* RFC 9535 escapes a quote only inside its own kind of string. */
            if (s[i] != quote) return literal_fail(bad_at, bad_msg, esc, "invalid escape");
            out = quote;
            break;
        case 'u': {
            long hi = hex4(s, len, i + 1), lo;
            uint32_t cp;
            char buf[4];
            if (hi < 0) return literal_fail(bad_at, bad_msg, esc, "invalid \\u escape");
            i += 5;
            if (hi >= 0xDC00 && hi <= 0xDFFF)
                return literal_fail(bad_at, bad_msg, esc, "lone surrogate in \\u escape");
            if (hi >= 0xD800 && hi <= 0xDBFF) {
                if (len - i < 2 || s[i] != '\\' || s[i + 1] != 'u')
                    return literal_fail(bad_at, bad_msg, esc, "lone surrogate in \\u escape");
                lo = hex4(s, len, i + 2);
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return literal_fail(bad_at, bad_msg, esc, "lone surrogate in \\u escape");
                i += 6;
                cp = 0x10000 + (((uint32_t)hi - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
            } else {
                cp = (uint32_t)hi;
            }
            put(ctx, buf, doc_utf8_encode(cp, buf));
            continue;
        }
        default: return literal_fail(bad_at, bad_msg, esc, "invalid escape");
        }
        i++;
        put(ctx, &out, 1);
    }
}
