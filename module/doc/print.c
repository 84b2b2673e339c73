/*
 * print.c - an encoded value to compact JSON text.
 *
 * The hot path of DOC.GET (read cache off or cold), RDB saves and AOF
 * rewrites, so it is one loop over the packed bytes with no call per value:
 * the write pointer, the end of the reserved space and the container being
 * printed live in locals; each entry checks once that the output has room for
 * its key plus PRINT_SLACK bytes (any scalar fits in that slack), strings check
 * their own length; only growing the buffer, escaping and rare numbers leave
 * the loop.
 *
 * Iterative: open containers sit on an explicit stack (a small array on the
 * C stack, moved to doc_malloc'd memory when a document nests deeper), so any
 * depth prints without recursion. Output goes to a doc_buf, whose sticky oom
 * flag the caller checks once; when the buffer or the stack cannot grow the
 * printer sets that flag and stops, leaving out->len where it was.
 *
 * Strings escape only what JSON requires: '"', '\\' and the control
 * characters below 0x20 (\b \f \n \r \t short, the others \u00XX). DEL and
 * all other UTF-8 bytes are copied as they are (the parser proved them
 * valid). Strings are tested and copied eight bytes at a time; strings of at
 * most 16 bytes (most keys and values) take two words and no loop. Numbers
 * print exactly as doc_format_int / doc_format_double do (those stay the one
 * definition, and the tests compare against them): integers through a table
 * of digit pairs, doubles with at most 8 decimals below 2^50 / 10^8 (prices,
 * coordinates) by one multiplication and one check (see print_double), every
 * other double through doc_format_double.
 */
#include "node.h"

#include <math.h>
#include <string.h>

/* Frames kept on the C stack before the printer allocates: documents
 * nesting deeper than this are rare (the default max-depth is 128). */
#define PRINT_STACK_LOCAL 32

/* Room every step keeps beyond the bytes it knows about: the longest scalar
 * (doc_format_double writes at most 25 bytes and a NUL; an int64 20 and a
 * NUL), a string's quotes and its 8-byte word overshoot, a ':' and a ','. */
#define PRINT_SLACK 64

/* Escape of each byte: 0 none, 'u' for \u00XX, else the letter after '\\'. */
static const char print_escape[256] = {
    ['\0'] = 'u', [0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u', [0x05] = 'u',
    [0x06] = 'u', [0x07] = 'u', ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', [0x0B] = 'u',
    ['\f'] = 'f', ['\r'] = 'r', [0x0E] = 'u', [0x0F] = 'u', [0x10] = 'u', [0x11] = 'u',
    [0x12] = 'u', [0x13] = 'u', [0x14] = 'u', [0x15] = 'u', [0x16] = 'u', [0x17] = 'u',
    [0x18] = 'u', [0x19] = 'u', [0x1A] = 'u', [0x1B] = 'u', [0x1C] = 'u', [0x1D] = 'u',
    [0x1E] = 'u', [0x1F] = 'u', ['"'] = '"',  ['\\'] = '\\',
};

static const char print_hex[16] = "0123456789abcdef";

/* "00".."99": two decimal digits per table read. */
static const char print_digits2[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* Powers of ten in uint64, for counting the digits of an integer. */
static const uint64_t print_pow10[20] = {
    1ull,           10ull,           100ull,           1000ull,           10000ull,
    100000ull,      1000000ull,      10000000ull,      100000000ull,      1000000000ull,
    10000000000ull, 100000000000ull, 1000000000000ull, 10000000000000ull, 100000000000000ull,
    1000000000000000ull, 10000000000000000ull, 100000000000000000ull,
    1000000000000000000ull, 10000000000000000000ull};

/* What the printer knows of the container being printed. */
#define PRINT_OBJECT 1   /* members (key:value); else elements */
#define PRINT_PLAIN 2    /* NODE_PLAIN: no key or string needs an escape */

/* One suspended container: where its printing resumes after a child. */
typedef struct print_frame {
    const uint8_t *p;     /* next entry in the container's packed bytes */
    const uint8_t *end;   /* end of those bytes */
    unsigned mode;        /* PRINT_OBJECT | PRINT_PLAIN */
} print_frame;

/* Makes room for `need` bytes after w, a write pointer into out->data, and
 * returns the write pointer (the data may have moved); NULL with out->oom
 * set when the buffer cannot grow. */
static char *print_grow(doc_buf *out, char *w, size_t need) {
    out->len = (size_t)(w - out->data);
    /* Grow fourfold: a large document's text takes a few reallocations. */
    if (doc_buf_reserve(out, need + 3 * out->len) < 0) return NULL;
    return out->data + out->len;
}

/* The escape test of eight bytes: nonzero when one of them is < 0x20, '"'
 * or '\\'. Flipping bit 1 maps '"' (0x22) to 0x20 and keeps 0x00..0x1F
 * below 0x20 (and 0x20, 0x21, 0x23 at or above 0x21), so one subtraction
 * of 0x21 borrows exactly at control bytes and quotes; a second finds zero
 * bytes of x ^ '\\'. A borrow only runs upward from a matching byte, so the
 * lowest flagged byte is exact: testing a word whose low bytes are not part
 * of the string may flag the string falsely (the escaper then copies it
 * exactly), never miss a byte. The high bits of ~x leave bytes >= 0x80
 * (UTF-8) out. */
static inline uint64_t print_escapes8(uint64_t x) {
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t q = (x ^ (ones * 0x02)) - ones * 0x21, b = (x ^ (ones * 0x5C)) - ones;
    return (q | b) & ~x & highs;
}

/* Writes the literal of s[0..n) at w when no byte of it needs an escape and
 * returns the end of what it wrote; NULL when one might (nothing useful
 * written). Writes up to n + 10 bytes. A string of at most 8 bytes is read
 * as the word that ends at its last byte: every string printed lies in a
 * node's packed bytes after the node's 16-byte header (node.h), so those 8
 * bytes are inside the same allocation (and initialized). */
static inline __attribute__((always_inline)) char *print_plain(char *w, const uint8_t *s, size_t n) {
    uint64_t a, b;
    *w = '"';
    if (n <= 8) {
        if (n == 0) {
            w[1] = '"';
            return w + 2;
        }
        unsigned sh = 8 * (unsigned)(8 - n);
        memcpy(&a, s + n - 8, 8);
        if (print_escapes8(a) >> sh) return NULL;
        a >>= sh;
        memcpy(w + 1, &a, 8);
    } else if (n <= 16) {
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        if (print_escapes8(a) | print_escapes8(b)) return NULL;
        memcpy(w + 1, &a, 8);
        memcpy(w + 1 + n - 8, &b, 8);
    } else {
        size_t i = 0;
        for (; i + 8 < n; i += 8) {
            memcpy(&a, s + i, 8);
            if (print_escapes8(a)) return NULL;
            memcpy(w + 1 + i, &a, 8);
        }
        memcpy(&a, s + n - 8, 8);
        if (print_escapes8(a)) return NULL;
        memcpy(w + 1 + n - 8, &a, 8);
    }
    w[1 + n] = '"';
    return w + 2 + n;
}

/* print_plain for a string known to need no escape (PRINT_PLAIN): no test.
 * Writes up to n + 10 bytes; the same 8-byte read as print_plain. */
static inline __attribute__((always_inline)) char *print_copy(char *w, const uint8_t *s,
                                                              size_t n) {
    uint64_t a, b;
    *w = '"';
    if (n - 1 < 8) {
        memcpy(&a, s + n - 8, 8);
        a >>= 8 * (unsigned)(8 - n);
        memcpy(w + 1, &a, 8);
    } else if (n - 1 < 16) {
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(w + 1, &a, 8);
        memcpy(w + 1 + n - 8, &b, 8);
    } else if (n) {
        memcpy(w + 1, s, n);
    }
    w[1 + n] = '"';
    return w + 2 + n;
}

/* Bytes escaped per reservation: bounds the worst-case reserve (6 bytes per
 * input byte) for long strings. */
#define PRINT_ESCAPE_CHUNK 4096

/* Writes the literal of s[0..n), escaping what needs it, at w (room for 1
 * byte is there); returns the end, NULL with out->oom set on OOM. Clean
 * words are copied eight bytes at a time, the others byte by byte. */
static char *print_string_escaped(doc_buf *out, char *w, const uint8_t *s, size_t n) {
    *w++ = '"';
    size_t i = 0;
    while (i < n) {
        size_t stop = n - i > PRINT_ESCAPE_CHUNK ? i + PRINT_ESCAPE_CHUNK : n;
        w = print_grow(out, w, 6 * (stop - i) + PRINT_SLACK);
        if (!w) return NULL;
        for (; i + 8 <= stop; i += 8) {
            uint64_t x;
            memcpy(&x, s + i, 8);
            if (!print_escapes8(x)) {
                memcpy(w, &x, 8);
                w += 8;
                continue;
            }
            break;
        }
        size_t wend = i + 8 <= stop ? i + 8 : stop;
        for (; i < wend; i++) {
            unsigned char c = s[i];
            char e = print_escape[c];
            if (!e) {
                *w++ = (char)c;
                continue;
            }
            *w++ = '\\';
            *w++ = e;
            if (e == 'u') {
                memcpy(w, "00", 2);
                w[2] = print_hex[c >> 4];
                w[3] = print_hex[c & 15];
                w += 4;
            }
        }
    }
    *w++ = '"';
    return w;
}

/* The eight decimal digits of f < 10^8 as byte values 0..9, the first digit
 * in the lowest byte (the order they are stored in): f / 10^4 and f % 10^4
 * in two 32-bit lanes, each split by 100 into two 16-bit lanes, each of
 * those by 10 into two bytes. The multiply-shifts divide exactly in their
 * ranges (x * 5243 >> 19 is x / 100 for x < 43699, x * 103 >> 10 is x / 10
 * for x < 179; checked for every f) and no lane carries into the
 * next. */
static inline uint64_t print_digits8(uint32_t f) {
    uint64_t x = f / 10000 | (uint64_t)(f % 10000) << 32;
    uint64_t h = (x * 5243) >> 19 & 0x0000007F0000007Full;
    x = h | (x - 100 * h) << 16;
    uint64_t t = (x * 103) >> 10 & 0x000F000F000F000Full;
    return t | (x - 10 * t) << 8;
}

#define PRINT_ZEROS 0x3030303030303030ull   /* '0' in every byte */

/* Writes the decimal digits of u at w; returns the end. Same digits as
 * doc_format_int. */
static inline char *print_u64(char *w, uint64_t u) {
    if (u < 10) {
        *w = (char)('0' + u);
        return w + 1;
    }
    if (u < 100) {
        memcpy(w, print_digits2 + 2 * u, 2);
        return w + 2;
    }
    unsigned nd = 3;
    while (nd < 20 && u >= print_pow10[nd]) nd++;
    char *e = w + nd, *q = e;
    while (u >= 100) {
        q -= 2;
        memcpy(q, print_digits2 + 2 * (u % 100), 2);
        u /= 100;
    }
    if (u >= 10) {
        q -= 2;
        memcpy(q, print_digits2 + 2 * u, 2);
    } else {
        *--q = (char)('0' + u);
    }
    return e;
}

/* Doubles this fast path prints: at least 1e-6 (below, JavaScript's layout
 * switches to an exponent) and |d| * 10^8 below 2^50. */
#define PRINT_DOUBLE_MIN 1e-6
#define PRINT_DOUBLE_SCALED_MAX 1125899906842624.0   /* 2^50 */

/* Writes d as doc_format_double does; returns the end (writes at most 26
 * bytes). The fast path: m = round(|d| * 10^8) below 2^50; when m / 10^8
 * reads back as |d|, the decimal m * 10^-8 is the one doc_format_double's
 * own fast path finds (number.c: below 2^50 the only 8-decimal candidate
 * that can read back is m, and one with k < 8 decimals that reads back is m
 * with 8 - k trailing zeros removed; its first success is the k where those
 * zeros run out), so printing m's integer part, '.', and its 8 decimals
 * without trailing zeros (one zero when they are all zero) gives the same
 * text, as 1e-6 <= |d| < 1e21 lays out in fixed notation. */
static inline __attribute__((always_inline)) char *print_double(char *w, double d) {
    double a = fabs(d);
    double x = a * 1e8;
    if (a >= PRINT_DOUBLE_MIN && x < PRINT_DOUBLE_SCALED_MAX) {
        uint64_t m = (uint64_t)(x + 0.5);   /* x < 2^50: exact, rounds half up */
        if ((double)m / 1e8 == a) {
            if (d < 0) *w++ = '-';
            uint32_t f = (uint32_t)(m % 100000000u);
            w = print_u64(w, m / 100000000u);
            *w++ = '.';
            if (!f) {
                *w++ = '0';
                return w;
            }
            /* The 8 decimals without their trailing zeros: the high zero
             * bytes of the digits (little-endian: the last digit is the top
             * byte; f != 0). */
            uint64_t dg = print_digits8(f);
            uint64_t t = dg | PRINT_ZEROS;
            memcpy(w, &t, 8);
            return w + 8 - (unsigned)__builtin_clzll(dg) / 8;
        }
    }
    return w + doc_format_double(d, w);
}

void doc_print(const uint8_t *val, doc_buf *out) {
    print_frame local[PRINT_STACK_LOCAL];
    print_frame *stack = local;
    size_t cap = PRINT_STACK_LOCAL;
    size_t depth = 0;
    size_t start = out->len;
    if (out->oom || doc_buf_reserve(out, 2 * PRINT_SLACK) < 0) return;
    char *w = out->data + out->len;
    char *wend = out->data + out->cap;

/* Ensures n bytes of room after w, or stops the print. */
#define ROOM(n)                                                          \
    do {                                                                 \
        size_t room_n_ = (n);                                            \
        if (__builtin_expect((size_t)(wend - w) < room_n_, 0)) {         \
            w = print_grow(out, w, room_n_);                             \
            if (!w) goto fail;                                           \
            wend = out->data + out->cap;                                 \
        }                                                                \
    } while (0)

    /* The root is the one element of a container with no brackets: the
     * loop prints it and closes that pseudo container at depth 0. */
    const uint8_t *p = val;
    const uint8_t *end = val + doc_value_size(val);
    unsigned mode = 0;

    for (;;) {
        if (mode == (PRINT_OBJECT | PRINT_PLAIN)) {
            /* The common shape, members of a clean object with short keys
             * and short scalars (records, orders): printed by this loop,
             * which leaves any other entry to the general code below
             * before writing any of it. */
            for (;;) {
                uint64_t kl = *p;
                if (kl - 1 >= 8 || (size_t)(wend - w) < 2 * PRINT_SLACK) break;
                const uint8_t *v = p + 1 + kl;
                uint8_t tag = *v;
                uint64_t x, y;
                memcpy(&x, v - 8, 8);
                x >>= 8 * (unsigned)(8 - kl);
                if (tag >= DOC_TAG_SMALLINT) {
                    unsigned n = tag - DOC_TAG_SMALLINT;
                    *w = '"';
                    memcpy(w + 1, &x, 8);
                    memcpy(w + 1 + kl, "\":", 2);
                    w += kl + 3;
                    if (n < 10) {
                        *w++ = (char)('0' + n);
                    } else if (n < 100) {
                        memcpy(w, print_digits2 + 2 * n, 2);
                        w += 2;
                    } else {
                        *w = '1';
                        memcpy(w + 1, print_digits2 + 2 * (n - 100), 2);
                        w += 3;
                    }
                    p = v + 1;
                } else if (tag == DOC_TAG_STRING && (uint64_t)v[1] - 1 < 8) {
                    uint64_t n = v[1];
                    memcpy(&y, v + 2 + n - 8, 8);
                    y >>= 8 * (unsigned)(8 - n);
                    *w = '"';
                    memcpy(w + 1, &x, 8);
                    memcpy(w + 1 + kl, "\":\"", 3);
                    w += kl + 4;
                    memcpy(w, &y, 8);
                    w[n] = '"';
                    w += n + 1;
                    p = v + 2 + n;
                } else if (tag == DOC_TAG_DOUBLE) {
                    double d;
                    memcpy(&d, v + 1, 8);
                    *w = '"';
                    memcpy(w + 1, &x, 8);
                    memcpy(w + 1 + kl, "\":", 2);
                    w = print_double(w + kl + 3, d);
                    p = v + 9;
                } else {
                    break;
                }
                if (p == end) break;
                *w++ = ',';
            }
            if (p == end) goto after;
        }
        /* One entry of the current container, at p (p < end): room for a
         * short key and a scalar. */
        ROOM(2 * PRINT_SLACK);
        if (mode & PRINT_OBJECT) {
            uint64_t kl = *p;
            if ((mode & PRINT_PLAIN) && kl - 1 < 8) {
                /* The common key: 1-8 bytes, known clean. */
                uint64_t x;
                memcpy(&x, p + 1 + kl - 8, 8);
                x >>= 8 * (unsigned)(8 - kl);
                *w = '"';
                memcpy(w + 1, &x, 8);
                memcpy(w + 1 + kl, "\":", 2);
                w += kl + 3;
                p += kl + 1;
            } else {
                size_t h = 1;
                if (kl >= 0x80) h = doc_varint_get(p, &kl);
                p += h;
                ROOM(kl + 2 * PRINT_SLACK);
                char *r = (mode & PRINT_PLAIN) ? print_copy(w, p, (size_t)kl)
                                               : print_plain(w, p, (size_t)kl);
                if (!r) {
                    r = print_string_escaped(out, w, p, (size_t)kl);
                    if (!r) goto fail;
                    w = r;
                    wend = out->data + out->cap;
                    ROOM(2 * PRINT_SLACK);
                    r = w;
                }
                w = r;
                *w++ = ':';
                p += kl;
            }
        }
        uint8_t tag = *p;
        if (tag >= DOC_TAG_SMALLINT) {
            unsigned v = tag - DOC_TAG_SMALLINT;
            if (v < 10) {
                *w++ = (char)('0' + v);
            } else if (v < 100) {
                memcpy(w, print_digits2 + 2 * v, 2);
                w += 2;
            } else {
                *w = '1';
                memcpy(w + 1, print_digits2 + 2 * (v - 100), 2);
                w += 3;
            }
            p++;
        } else if (tag == DOC_TAG_STRING) {
            uint64_t n = p[1];
            if ((mode & PRINT_PLAIN) && n - 1 < 8) {
                uint64_t x;
                memcpy(&x, p + 2 + n - 8, 8);
                x >>= 8 * (unsigned)(8 - n);
                *w = '"';
                memcpy(w + 1, &x, 8);
                w[1 + n] = '"';
                w += n + 2;
                p += n + 2;
            } else {
                size_t h = 1;
                if (n >= 0x80) h = doc_varint_get(p + 1, &n);
                const uint8_t *s = p + 1 + h;
                if (n > SIZE_MAX - 4 * PRINT_SLACK) goto fail_oom;
                ROOM(n + PRINT_SLACK);
                char *r = (mode & PRINT_PLAIN) ? print_copy(w, s, (size_t)n)
                                               : print_plain(w, s, (size_t)n);
                if (!r) {
                    r = print_string_escaped(out, w, s, (size_t)n);
                    if (!r) goto fail;
                    wend = out->data + out->cap;
                }
                w = r;
                p = s + n;
            }
        } else if (tag == DOC_TAG_DOUBLE) {
            double d;
            memcpy(&d, p + 1, 8);
            w = print_double(w, d);
            p += 9;
        } else if (tag >= DOC_TAG_OBJECT) {
            /* DOC_TAG_OBJECT / DOC_TAG_ARRAY: suspend this container and
             * print the child's entries. */
            const doc_node *c = value_child(p);
            if (depth == cap) {
                size_t ncap = cap * 2;
                print_frame *m;
                if (stack == local) {
                    m = doc_malloc(ncap * sizeof *m);
                    if (m) memcpy(m, local, sizeof local);
                } else {
                    m = doc_realloc(stack, ncap * sizeof *m);
                }
                if (!m) goto fail_oom;
                stack = m;
                cap = ncap;
            }
            stack[depth].p = p + 1 + sizeof(doc_node *);
            stack[depth].end = end;
            stack[depth].mode = mode;
            depth++;
            mode = (c->kind == DOC_KIND_OBJECT ? PRINT_OBJECT : 0) |
                   (c->flags & NODE_PLAIN ? PRINT_PLAIN : 0);
            *w++ = (mode & PRINT_OBJECT) ? '{' : '[';
            p = node_cbytes(c);
            end = p + c->len;
            if (p != end) continue;
        } else {
            switch (tag) {
            case DOC_TAG_NULL: memcpy(w, "null", 4); w += 4; p++; break;
            case DOC_TAG_TRUE: memcpy(w, "true", 4); w += 4; p++; break;
            case DOC_TAG_FALSE: memcpy(w, "false", 5); w += 5; p++; break;
            default: {
                /* DOC_TAG_I8 / I16 / I32 / I64 */
                int64_t v;
                if (tag == DOC_TAG_I16) {
                    int16_t x;
                    memcpy(&x, p + 1, 2);
                    v = x;
                    p += 3;
                } else if (tag == DOC_TAG_I32) {
                    int32_t x;
                    memcpy(&x, p + 1, 4);
                    v = x;
                    p += 5;
                } else if (tag == DOC_TAG_I8) {
                    int8_t x;
                    memcpy(&x, p + 1, 1);
                    v = x;
                    p += 2;
                } else {
                    memcpy(&v, p + 1, 8);
                    p += 9;
                }
                uint64_t u = (uint64_t)v;
                if (v < 0) {
                    *w++ = '-';
                    u = 0 - u;   /* |v|, also for INT64_MIN */
                }
                w = print_u64(w, u);
                break;
            }
            }
        }
        /* After an entry: a comma and the next one, or the container's end
         * (several in a row when nested containers end together). */
    after:
        for (;;) {
            if (p != end) {
                *w++ = ',';
                break;
            }
            if (!depth) goto done;
            ROOM(2);
            *w++ = (mode & PRINT_OBJECT) ? '}' : ']';
            depth--;
            p = stack[depth].p;
            end = stack[depth].end;
            mode = stack[depth].mode;
        }
    }
#undef ROOM

done:
    out->len = (size_t)(w - out->data);
    if (stack != local) doc_free(stack);
    return;
fail_oom:
    out->oom = 1;
fail:
    out->len = start;
    if (stack != local) doc_free(stack);
}
