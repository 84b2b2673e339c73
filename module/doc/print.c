/*
 * print.c - an encoded value to compact JSON text.
 *
 * The hot path of DOC.GET (read cache off or cold), RDB saves and AOF
 * rewrites. The output is reserved ahead, not checked per write: no entry of
 * a container prints more than PRINT_EXPAND bytes per packed byte it takes
 * (commas included), so before a run of at most PRINT_CHUNK packed bytes the
 * printer makes room for PRINT_EXPAND times the run plus PRINT_SLACK, and
 * every key and value of the run whose text is short is then written with
 * unchecked stores (the slack also covers an entry that straddles the end of
 * the run, and the 8-byte word stores that overshoot). Only keys and strings
 * longer than PRINT_SHORT bytes, strings that may need escapes, and rare
 * numbers leave the loop; they make their own room. The run loop
 * (print_run) is compiled once per kind of container (object or array,
 * plain or not), so it tests neither per entry. Every entry is followed by a
 * ',' (small integers come with theirs from a table); a container's last ','
 * becomes its closing bracket.
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
 * valid). In a node flagged NODE_PLAIN keys and strings are copied without a
 * test: those of at most 16 bytes (most keys and values) as one or two
 * words. Elsewhere they are tested eight bytes at a time. Numbers print
 * exactly as doc_format_int / doc_format_double do (those stay the one
 * definition, and the tests compare against them): integers 0..127 from a
 * table of their text, other integers by digit pairs up to 9999 and eight
 * digits at a time beyond (print_digits8),
 * doubles with at most 8 decimals below 2^50 / 10^8 (prices, coordinates) by
 * one multiplication and one check (see print_double), every other double
 * through doc_format_double.
 */
#include "node.h"

#include <math.h>
#include <string.h>

/* Frames kept on the C stack before the printer allocates: documents
 * nesting deeper than this are rare (the default max-depth is 128). */
#define PRINT_STACK_LOCAL 32

/* Room kept beyond PRINT_EXPAND bytes per packed byte: what one short key
 * and one value print (at most 19 + 27 bytes: doc_format_double writes 25 and
 * a NUL) plus the overshoot of the word stores (at most 8 bytes), twice. */
#define PRINT_SLACK 128

/* The most one packed byte of an entry prints, its ',' or ':' included:
 * `false` and its ',' take 1 byte packed; an escaped byte, \u00XX, 6. */
#define PRINT_EXPAND 6

/* Packed bytes covered by one reservation: it makes room for at most
 * PRINT_EXPAND * PRINT_CHUNK + PRINT_SLACK bytes more than it prints, and
 * costs a few instructions per 1 KB. */
#define PRINT_CHUNK 1024

/* Keys and strings of at most this many bytes print from one or two words
 * (within the slack, no room check). */
#define PRINT_SHORT 16

/* Escape of each byte: 0 none, 'u' for \u00XX, else the letter after '\\'. */
static const char print_escape[256] = {
    ['\0'] = 'u', [0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u', [0x05] = 'u',  [0x06] = 'u',
    [0x07] = 'u', ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', [0x0B] = 'u', ['\f'] = 'f',  ['\r'] = 'r',
    [0x0E] = 'u', [0x0F] = 'u', [0x10] = 'u', [0x11] = 'u', [0x12] = 'u', [0x13] = 'u',  [0x14] = 'u',
    [0x15] = 'u', [0x16] = 'u', [0x17] = 'u', [0x18] = 'u', [0x19] = 'u', [0x1A] = 'u',  [0x1B] = 'u',
    [0x1C] = 'u', [0x1D] = 'u', [0x1E] = 'u', [0x1F] = 'u', ['"'] = '"',  ['\\'] = '\\',
};

static const char print_hex[16] = "0123456789abcdef";

/* "00".."99": two decimal digits per table read. */
static const char print_digits2[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* The text of the integers 0..127 (DOC_TAG_SMALLINT) with their ','. */
static const char print_small[128][4] = {
    "0,",   "1,",   "2,",   "3,",   "4,",   "5,",   "6,",   "7,",   "8,",   "9,",   "10,",  "11,",  "12,",
    "13,",  "14,",  "15,",  "16,",  "17,",  "18,",  "19,",  "20,",  "21,",  "22,",  "23,",  "24,",  "25,",
    "26,",  "27,",  "28,",  "29,",  "30,",  "31,",  "32,",  "33,",  "34,",  "35,",  "36,",  "37,",  "38,",
    "39,",  "40,",  "41,",  "42,",  "43,",  "44,",  "45,",  "46,",  "47,",  "48,",  "49,",  "50,",  "51,",
    "52,",  "53,",  "54,",  "55,",  "56,",  "57,",  "58,",  "59,",  "60,",  "61,",  "62,",  "63,",  "64,",
    "65,",  "66,",  "67,",  "68,",  "69,",  "70,",  "71,",  "72,",  "73,",  "74,",  "75,",  "76,",  "77,",
    "78,",  "79,",  "80,",  "81,",  "82,",  "83,",  "84,",  "85,",  "86,",  "87,",  "88,",  "89,",  "90,",
    "91,",  "92,",  "93,",  "94,",  "95,",  "96,",  "97,",  "98,",  "99,",  "100,", "101,", "102,", "103,",
    "104,", "105,", "106,", "107,", "108,", "109,", "110,", "111,", "112,", "113,", "114,", "115,", "116,",
    "117,", "118,", "119,", "120,", "121,", "122,", "123,", "124,", "125,", "126,", "127,"};

/* Bytes of each print_small entry. */
static const uint8_t print_small_len[128] = {
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4};

/* Bits to drop from the 8-byte word that ends at the last byte of a string
 * of n (1..8) bytes, so that the word starts at its first byte. */
static const uint8_t print_shift[9] = {0, 56, 48, 40, 32, 24, 16, 8, 0};

/* What the printer knows of the container being printed. */
#define PRINT_OBJECT 1 /* members (key:value); else elements */
#define PRINT_PLAIN 2  /* NODE_PLAIN: no key or string needs an escape */

/* One suspended container: where its printing resumes after a child. */
typedef struct print_frame {
    const uint8_t *p;   /* next entry in the container's packed bytes */
    const uint8_t *end; /* end of those bytes */
    unsigned mode;      /* PRINT_OBJECT | PRINT_PLAIN */
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
static inline __attribute__((always_inline)) char *print_copy(char *w, const uint8_t *s, size_t n) {
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

#define PRINT_ZEROS 0x3030303030303030ull /* '0' in every byte */

/* u < 100 at w; returns the end (writes 2 bytes). */
static inline __attribute__((always_inline)) char *print_u2(char *w, uint64_t u) {
    memcpy(w, print_digits2 + 2 * u + (u < 10), 2);
    return w + 1 + (u >= 10);
}

/* 0 < u < 10^8 at w without leading zeros; returns the end (writes 8
 * bytes): the leading zeros are the low zero bytes of the digits. */
static inline __attribute__((always_inline)) char *print_lead8(char *w, uint32_t u) {
    uint64_t d = print_digits8(u);
    unsigned z = (unsigned)__builtin_ctzll(d) / 8;
    uint64_t t = (d | PRINT_ZEROS) >> (8 * z);
    memcpy(w, &t, 8);
    return w + 8 - z;
}

/* u < 10^8 at w as exactly 8 digits; returns the end. */
static inline __attribute__((always_inline)) char *print_full8(char *w, uint32_t u) {
    uint64_t t = print_digits8(u) | PRINT_ZEROS;
    memcpy(w, &t, 8);
    return w + 8;
}

/* Writes the decimal digits of u at w; returns the end (writes at most 24
 * bytes, 20 of them digits). Same digits as doc_format_int. */
static inline __attribute__((always_inline)) char *print_u64(char *w, uint64_t u) {
    if (u < 100) return print_u2(w, u);
    if (u < 10000) {
        uint32_t hi = (uint32_t)u / 100; /* 1..99 */
        w = print_u2(w, hi);
        memcpy(w, print_digits2 + 2 * (u - 100 * hi), 2);
        return w + 2;
    }
    if (u < 100000000) return print_lead8(w, (uint32_t)u);
    uint64_t hi = u / 100000000;
    uint32_t lo = (uint32_t)(u - hi * 100000000);
    if (hi >= 100000000) {
        uint64_t top = hi / 100000000; /* < 1845 */
        w = top < 100 ? print_u2(w, top) : print_lead8(w, (uint32_t)top);
        w = print_full8(w, (uint32_t)(hi - top * 100000000));
    } else {
        w = hi < 100 ? print_u2(w, hi) : print_lead8(w, (uint32_t)hi);
    }
    return print_full8(w, lo);
}

/* v at w; returns the end (writes at most 25 bytes). */
static inline __attribute__((always_inline)) char *print_i64(char *w, int64_t v) {
    uint64_t u = (uint64_t)v;
    *w = '-';
    if (v < 0) {
        w++;
        u = 0 - u; /* |v|, also for INT64_MIN */
    }
    return print_u64(w, u);
}

/* Doubles this fast path prints: at least 1e-6 (below, JavaScript's layout
 * switches to an exponent) and |d| * 10^8 below 2^50. */
#define PRINT_DOUBLE_MIN 1e-6
#define PRINT_DOUBLE_SCALED_MAX 1125899906842624.0 /* 2^50 */

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
        uint64_t m = (uint64_t)(x + 0.5); /* x < 2^50: exact, rounds half up */
        if ((double)m / 1e8 == a) {
            *w = '-';
            w += d < 0;
            uint64_t ip = m / 100000000u;
            uint32_t f = (uint32_t)(m - ip * 100000000u);
            w = print_u64(w, ip);
            *w = '.';
            if (!f) {
                w[1] = '0';
                return w + 2;
            }
            /* The 8 decimals without their trailing zeros: the high zero
             * bytes of the digits (f != 0). */
            uint64_t dg = print_digits8(f);
            uint64_t t = dg | PRINT_ZEROS;
            memcpy(w + 1, &t, 8);
            return w + 9 - (unsigned)__builtin_clzll(dg) / 8;
        }
    }
    return w + doc_format_double(d, w);
}

/* Makes room for need bytes after w (see print_grow); NULL on OOM. */
static inline char *print_room(doc_buf *out, char *w, size_t need) {
    if (__builtin_expect((size_t)(out->data + out->cap - w) < need, 0)) return print_grow(out, w, need);
    return w;
}

/* Where print_str_slow left the output and the input (returned in two
 * registers, so print_run's pointers never have their address taken). */
typedef struct print_pos {
    char *w;          /* the end of the output; NULL on OOM */
    const uint8_t *p; /* the byte after the string */
} print_pos;

/* A key or a string that print_run leaves to this: its varint length is at
 * q; writes its literal and then `after` (':' or ','), and keeps print_run's
 * reservation (PRINT_EXPAND * PRINT_CHUNK + PRINT_SLACK bytes of room after
 * it). */
static __attribute__((noinline)) print_pos print_str_slow(doc_buf *out, char *w, const uint8_t *q, int plain,
                                                          char after) {
    print_pos r = {NULL, NULL};
    uint64_t n;
    const uint8_t *s = q + doc_varint_get(q, &n);
    const size_t keep = PRINT_EXPAND * PRINT_CHUNK + PRINT_SLACK;
    if (n > SIZE_MAX / 2 - keep) {
        out->oom = 1;
        return r;
    }
    w = print_room(out, w, (size_t)n + keep);
    if (!w) return r;
    char *e = plain ? print_copy(w, s, (size_t)n) : print_plain(w, s, (size_t)n);
    if (!e) {
        e = print_string_escaped(out, w, s, (size_t)n);
        if (!e) return r;
        e = print_room(out, e, keep);
        if (!e) return r;
    }
    *e++ = after;
    r.w = e;
    r.p = s + n;
    return r;
}

/* What print_run stopped at. */
typedef enum {
    PRINT_AT_LIMIT, /* the entry at p starts at or after lim */
    PRINT_AT_CHILD, /* p is at a DOC_TAG_OBJECT / DOC_TAG_ARRAY value (its key
                         printed) */
    PRINT_FAILED    /* out of memory (out->oom set) */
} print_stop;

/* Prints the entries of a container of the given mode (a constant: one copy
 * of this loop per mode) from *pp (< lim) until one starts at or after lim
 * or is a container; each entry followed by a ','. Room for PRINT_EXPAND
 * bytes per byte up to lim plus PRINT_SLACK is there (see the top). */
static inline __attribute__((always_inline)) print_stop print_run(doc_buf *out, char **wp, const uint8_t **pp,
                                                                  const uint8_t *lim, const unsigned mode) {
    char *w = *wp;
    const uint8_t *p = *pp;
    const int plain = (mode & PRINT_PLAIN) != 0;
    print_stop stop = PRINT_AT_LIMIT;
    char *w2;
    do {
        if (mode & PRINT_OBJECT) {
            uint64_t kl = *p;
            if (plain && kl - 1 < 8) {
                uint64_t x;
                memcpy(&x, p + 1 + kl - 8, 8);
                x >>= print_shift[kl];
                *w = '"';
                memcpy(w + 1, &x, 8);
                memcpy(w + 1 + kl, "\":", 2);
                w += kl + 3;
                p += kl + 1;
            } else if (plain && kl - 9 < PRINT_SHORT - 8) {
                uint64_t x, y;
                memcpy(&x, p + 1, 8);
                memcpy(&y, p + 1 + kl - 8, 8);
                *w = '"';
                memcpy(w + 1, &x, 8);
                memcpy(w + 1 + kl - 8, &y, 8);
                memcpy(w + 1 + kl, "\":", 2);
                w += kl + 3;
                p += kl + 1;
            } else if (!plain && kl - 1 < PRINT_SHORT && (w2 = print_plain(w, p + 1, kl))) {
                /* A short key of a node not known plain, tested. */
                *w2 = ':';
                w = w2 + 1;
                p += kl + 1;
            } else {
                print_pos r = print_str_slow(out, w, p, plain, ':');
                if (!r.w) return PRINT_FAILED;
                w = r.w;
                p = r.p;
            }
        }
        uint8_t tag = *p;
        if (tag >= DOC_TAG_SMALLINT) {
            size_t n = (size_t)tag - DOC_TAG_SMALLINT;
            memcpy(w, print_small[n], 4);
            w += print_small_len[n];
            p++;
            continue;
        }
        /* Strings and doubles first: a test each beats the jump table. */
        if (tag == DOC_TAG_STRING) {
            uint64_t n = p[1];
            if (plain && n - 1 < 8) {
                uint64_t x;
                memcpy(&x, p + 2 + n - 8, 8);
                x >>= print_shift[n];
                *w = '"';
                memcpy(w + 1, &x, 8);
                memcpy(w + 1 + n, "\",", 2);
                w += n + 3;
                p += n + 2;
            } else if (plain && n - 9 < PRINT_SHORT - 8) {
                uint64_t x, y;
                memcpy(&x, p + 2, 8);
                memcpy(&y, p + 2 + n - 8, 8);
                *w = '"';
                memcpy(w + 1, &x, 8);
                memcpy(w + 1 + n - 8, &y, 8);
                memcpy(w + 1 + n, "\",", 2);
                w += n + 3;
                p += n + 2;
            } else if (!plain && n - 1 < PRINT_SHORT && (w2 = print_plain(w, p + 2, n))) {
                *w2 = ',';
                w = w2 + 1;
                p += n + 2;
            } else {
                print_pos r = print_str_slow(out, w, p + 1, plain, ',');
                if (!r.w) return PRINT_FAILED;
                w = r.w;
                p = r.p;
            }
            continue;
        }
        if (tag == DOC_TAG_DOUBLE) {
            double d;
            memcpy(&d, p + 1, 8);
            w = print_double(w, d);
            *w++ = ',';
            p += 9;
            continue;
        }
        switch (tag) {
        case DOC_TAG_I8: {
            int8_t x;
            memcpy(&x, p + 1, 1);
            w = print_i64(w, x);
            *w++ = ',';
            p += 2;
            break;
        }
        case DOC_TAG_I16: {
            int16_t x;
            memcpy(&x, p + 1, 2);
            w = print_i64(w, x);
            *w++ = ',';
            p += 3;
            break;
        }
        case DOC_TAG_I32: {
            int32_t x;
            memcpy(&x, p + 1, 4);
            w = print_i64(w, x);
            *w++ = ',';
            p += 5;
            break;
        }
        case DOC_TAG_I64: {
            int64_t x;
            memcpy(&x, p + 1, 8);
            w = print_i64(w, x);
            *w++ = ',';
            p += 9;
            break;
        }
        case DOC_TAG_NULL:
            memcpy(w, "null,", 5);
            w += 5;
            p++;
            break;
        case DOC_TAG_TRUE:
            memcpy(w, "true,", 5);
            w += 5;
            p++;
            break;
        case DOC_TAG_FALSE:
            memcpy(w, "false,", 6);
            w += 6;
            p++;
            break;
        default:
            /* DOC_TAG_OBJECT / DOC_TAG_ARRAY */
            stop = PRINT_AT_CHILD;
            goto stopped;
        }
    } while (p < lim);
stopped:
    *wp = w;
    *pp = p;
    return stop;
}

void doc_print(const uint8_t *val, doc_buf *out) {
    print_frame local[PRINT_STACK_LOCAL];
    print_frame *stack = local;
    size_t cap = PRINT_STACK_LOCAL;
    size_t depth = 0;
    size_t start = out->len;
    if (out->oom || doc_buf_reserve(out, PRINT_SLACK) < 0) return;
    char *w = out->data + out->len;

    /* The root is the one element of a container with no brackets (and no
     * plain flag: its node is not known here); its ',' is dropped at the
     * end. */
    const uint8_t *p = val;
    const uint8_t *end = val + doc_value_size(val);
    unsigned mode = 0;

    for (;;) {
        if (p == end) {
            /* The container's end: its last ',' becomes its bracket. */
            if (!depth) break;
            w = print_room(out, w, PRINT_SLACK);
            if (!w) goto fail;
            w[-1] = (mode & PRINT_OBJECT) ? '}' : ']';
            *w++ = ',';
            depth--;
            p = stack[depth].p;
            end = stack[depth].end;
            mode = stack[depth].mode;
            continue;
        }
        /* A run of entries, with room for what it can print. */
        const uint8_t *lim = (size_t)(end - p) > PRINT_CHUNK ? p + PRINT_CHUNK : end;
        w = print_room(out, w, PRINT_EXPAND * (size_t)(lim - p) + PRINT_SLACK);
        if (!w) goto fail;
        print_stop st;
        switch (mode) {
        case PRINT_OBJECT | PRINT_PLAIN: st = print_run(out, &w, &p, lim, PRINT_OBJECT | PRINT_PLAIN); break;
        case PRINT_PLAIN: st = print_run(out, &w, &p, lim, PRINT_PLAIN); break;
        case PRINT_OBJECT: st = print_run(out, &w, &p, lim, PRINT_OBJECT); break;
        default: st = print_run(out, &w, &p, lim, 0); break;
        }
        if (st == PRINT_AT_LIMIT) continue;
        if (st == PRINT_FAILED) goto fail;
        /* A child container: its bracket and its ',' fit in the room its
         * 9-byte slot was given. */
        const doc_node *c = value_child(p);
        p += 1 + sizeof(doc_node *);
        int obj = c->kind == DOC_KIND_OBJECT;
        if (!c->len) {
            memcpy(w, obj ? "{}," : "[],", 3);
            w += 3;
            continue;
        }
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
        stack[depth].p = p;
        stack[depth].end = end;
        stack[depth].mode = mode;
        depth++;
        mode = (obj ? PRINT_OBJECT : 0) | (c->flags & NODE_PLAIN ? PRINT_PLAIN : 0);
        *w++ = obj ? '{' : '[';
        p = node_cbytes(c);
        end = p + c->len;
    }

    out->len = (size_t)(w - 1 - out->data); /* without the root's ',' */
    if (stack != local) doc_free(stack);
    return;
fail_oom:
    out->oom = 1;
fail:
    out->len = start;
    if (stack != local) doc_free(stack);
}
