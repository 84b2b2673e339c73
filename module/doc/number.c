/*
 * number.c - JSON number text <-> int64 / double, arithmetic on numbers, and
 * the integer arithmetic of array indexes.
 *
 * Parsing (doc_number_read, which finds where the token ends in the parser's
 * input, and doc_number_parse for a whole token) decides the type the way
 * SPEC says: an integer token that fits int64 is an int, everything else (a
 * fraction, an exponent, or an integer too large for int64) is a double,
 * correctly rounded. Integers and plain decimals (prices) are decided in the
 * one pass that finds the token's end; other tokens are validated again by
 * the general path. Most doubles take
 * the exact path (at most 19 significant digits, mantissa <= 2^53, power of
 * ten <= 10^22: one IEEE multiply or divide of two exact doubles is
 * correctly rounded). The rest go through strtod, which glibc rounds
 * correctly, fed a canonical copy of the token: digits and an exponent only,
 * so the locale's decimal point never matters and the copy has a fixed bound
 * however long the token is. A result beyond the double range is BADJSON;
 * underflow to a denormal or zero is fine.
 *
 * Formatting (doc_format_double) writes the shortest decimal that reads back
 * to the identical double, then lays it out like JavaScript's
 * Number.prototype.toString, adapted so the text always reads back as a
 * JSON double:
 *     1e-6 <= |d| < 1e21   fixed notation, with ".0" when integral:
 *                          100.0  19.99  0.000001  123456789012345680000.0
 *     otherwise            one digit, optional fraction, 'e', signed exponent
 *                          without '+' or leading zeros: 1e21  1.5e-7  5e-324
 *     -0.0 prints "-0.0"; NaN and infinities never reach here.
 * Values with few decimals (prices) take a fast path without any libc call:
 * for k = 0..8, if |d| * 10^k < 2^50 and m = round(|d| * 10^k) satisfies
 * m / 10^k == |d| (both exact doubles, so the division is what strtod of
 * "m e-k" returns), m with k decimals round-trips. Below 2^50 the error of
 * the product plus half an ulp of d scaled by 10^k stays below 1/2, so any
 * decimal with k decimals that reads back to d equals m: the first k that
 * works gives the fewest digits. Other values use printf's correctly rounded
 * %.14e, %.15e, %.16e (15, 16, 17 significant digits) and keep the first that
 * round-trips: two 15-digit decimals are never within one ulp of a normal
 * double, so if any decimal of <= 15 digits reads back to d, %.14e yields
 * it. Denormals (fewer bits) try every precision from 1 digit up.
 *
 * Arithmetic (doc_number_arith) is the one rule of DOC.INCR / DOC.MUL and
 * $inc / $mul: int64 while both operands are integers and the exact result
 * fits (else OVERFLOW), a double otherwise (OVERFLOW when not finite).
 *
 * Indexes: doc_decimal_index reads a canonical decimal path segment ("0",
 * "12", never "01") under a caller's bound; doc_index_clamp places an
 * insertion index (negative: from the end) within an array; doc_keep_window
 * is the range a capped push (PUSH KEEP, $push $slice) keeps.
 */
#include "doc.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Powers of ten that are exact doubles (10^22 < 2^53 * 2^22 is the last). */
static const double number_pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                        1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                        1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Powers of ten as integers, 10^0 .. 10^19 (the largest in uint64). */
static const uint64_t number_pow10_u64[20] = {1ull,
                                              10ull,
                                              100ull,
                                              1000ull,
                                              10000ull,
                                              100000ull,
                                              1000000ull,
                                              10000000ull,
                                              100000000ull,
                                              1000000000ull,
                                              10000000000ull,
                                              100000000000ull,
                                              1000000000000ull,
                                              10000000000000ull,
                                              100000000000000ull,
                                              1000000000000000ull,
                                              10000000000000000ull,
                                              100000000000000000ull,
                                              1000000000000000000ull,
                                              10000000000000000000ull};

/* Pairs of decimal digits "00".."99", for writing two digits per division. */
static const char number_digits2[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* 2^53: every integer up to it is an exact double. */
#define NUMBER_EXACT_MAX (1ull << 53)
/* The formatter's fast path stays below 2^50 so its rounding slack is < 1/2
 * (see the top of this file). */
#define NUMBER_FAST_LIMIT 1125899906842624.0
/* Decimals the formatter's fast path tries (prices, percentages, rates). */
#define NUMBER_FAST_DECIMALS 8
/* Significant digits kept for strtod. Every midpoint between two adjacent
 * doubles has at most 767 significant digits, so a decimal cut after 800
 * digits with a nonzero digit appended (when digits were dropped) lies
 * between the same two midpoints as the full one and rounds the same. */
#define NUMBER_STRTOD_DIGITS 800
/* Exponent digits beyond this magnitude cannot matter: with tokens shorter
 * than NUMBER_TOKEN_MAX the value is then far outside the double range. */
#define NUMBER_EXP_CLAMP 1000000000000000ll
/* Tokens this long or longer are refused so that exponent arithmetic in
 * int64 cannot overflow; no real input comes near (it is a petabyte). */
#define NUMBER_TOKEN_MAX (1ull << 50)

static int number_is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* Value of the significant digits of the token, seen as one digit string. */
typedef struct number_digits {
    const unsigned char *ip; /* integer part digits */
    size_t ilen;             /* their count */
    const unsigned char *fp; /* fraction digits (NULL when none) */
    size_t flen;             /* their count */
} number_digits;

/* Digit j (0-based) of the integer part followed by the fraction. */
static unsigned char number_digit_at(const number_digits *nd, size_t j) {
    return j < nd->ilen ? nd->ip[j] : nd->fp[j - nd->ilen];
}

/* Slow path: strtod on a canonical copy "DDDD[1]e<exp>" of the first
 * NUMBER_STRTOD_DIGITS significant digits. `first` is the index of the first
 * significant digit, `nsig` the count up to the last nonzero one, and the
 * value is digits(first .. first+nsig) * 10^e10. */
static double number_strtod(const number_digits *nd, size_t first, size_t nsig, int64_t e10) {
    char buf[NUMBER_STRTOD_DIGITS + 32];
    size_t keep = nsig < NUMBER_STRTOD_DIGITS ? nsig : NUMBER_STRTOD_DIGITS;
    size_t n = 0;
    for (size_t j = 0; j < keep; j++) buf[n++] = (char)number_digit_at(nd, first + j);
    int64_t e = e10 + (int64_t)(nsig - keep);
    if (keep < nsig) {
        /* Sticky digit: the last significant digit is nonzero, so dropped
         * digits are never all zero. */
        buf[n++] = '1';
        e -= 1;
    }
    /* e is within a few thousand here (the caller checked the magnitude). */
    snprintf(buf + n, sizeof buf - n, "e%lld", (long long)e);
    int saved = errno;
    double d = strtod(buf, NULL);
    errno = saved; /* ERANGE on underflow is not an error for us */
    return d;
}

/* The general path: the token s[0..end) in full (grammar checked again,
 * then the exact conversion). BADJSON for bad syntax, OVERFLOW for a value
 * beyond the double range. */
static doc_status number_parse_slow(const unsigned char *p, const unsigned char *end, int *is_int, int64_t *i,
                                    double *d) {
    if (end == p || (size_t)(end - p) >= NUMBER_TOKEN_MAX) return DOC_BADJSON;
    /* Grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
    int neg = 0;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    number_digits nd = {p, 0, NULL, 0};
    if (p == end) return DOC_BADJSON;
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < end && number_is_digit(*p)) p++;
    } else {
        return DOC_BADJSON;
    }
    nd.ilen = (size_t)(p - nd.ip);
    int has_frac = 0, has_exp = 0;
    if (p < end && *p == '.') {
        p++;
        nd.fp = p;
        while (p < end && number_is_digit(*p)) p++;
        nd.flen = (size_t)(p - nd.fp);
        if (nd.flen == 0) return DOC_BADJSON;
        has_frac = 1;
    }
    int64_t exp = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0;
        if (p < end && (*p == '+' || *p == '-')) {
            eneg = *p == '-';
            p++;
        }
        const unsigned char *ep = p;
        while (p < end && number_is_digit(*p)) {
            if (exp < NUMBER_EXP_CLAMP) exp = exp * 10 + (*p - '0');
            p++;
        }
        if (p == ep) return DOC_BADJSON;
        if (eneg) exp = -exp;
        has_exp = 1;
    }
    if (p != end) return DOC_BADJSON;

    /* Integer syntax: int64 when it fits (19 digits fit in uint64). */
    if (!has_frac && !has_exp && nd.ilen <= 19) {
        uint64_t u = 0;
        for (size_t j = 0; j < nd.ilen; j++) u = u * 10 + (uint64_t)(nd.ip[j] - '0');
        uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        if (u <= limit) {
            *is_int = 1;
            /* -(2^63) is computed without signed overflow. */
            *i = neg ? (int64_t)(0 - u) : (int64_t)u;
            return DOC_OK;
        }
    }

    /* A double: value = digits * 10^(exp - flen). Skip leading zeros, keep
     * the first 19 significant digits in m, count trailing zeros. */
    size_t total = nd.ilen + nd.flen;
    size_t first = 0;
    while (first < total && number_digit_at(&nd, first) == '0') first++;
    double v;
    if (first == total) {
        v = 0.0;
    } else {
        size_t last = total - 1;
        while (number_digit_at(&nd, last) == '0') last--;
        size_t nsig = last - first + 1;
        int64_t e10 = exp - (int64_t)nd.flen + (int64_t)(total - 1 - last);
        /* nsig significant digits: the value lies in [10^(top-1), 10^top). */
        int64_t top = e10 + (int64_t)nsig;
        if (top - 1 > 308) return DOC_OVERFLOW; /* >= 1e309: beyond DBL_MAX */
        if (top <= -324) {
            v = 0.0; /* < 1e-324: rounds to zero */
        } else if (nsig <= 19) {
            uint64_t m = 0;
            for (size_t j = first; j <= last; j++) m = m * 10 + (uint64_t)(number_digit_at(&nd, j) - '0');
            if (m <= NUMBER_EXACT_MAX && e10 >= -22 && e10 <= 22) {
                v = e10 < 0 ? (double)m / number_pow10[-e10] : (double)m * number_pow10[e10];
            } else if (m <= NUMBER_EXACT_MAX && e10 > 22 && e10 <= 22 + 15 &&
                       m <= NUMBER_EXACT_MAX / number_pow10_u64[e10 - 22]) {
                /* m * 10^(e10-22) is still an exact integer double. */
                v = (double)(m * number_pow10_u64[e10 - 22]) * 1e22;
            } else {
                v = number_strtod(&nd, first, nsig, e10);
            }
        } else {
            v = number_strtod(&nd, first, nsig, e10);
        }
        if (isinf(v)) return DOC_OVERFLOW;
    }
    *is_int = 0;
    *d = neg ? -v : v;
    return DOC_OK;
}

doc_status doc_number_read(const char *s, const char *end, const char **stop, int *is_int, int64_t *i,
                           double *d) {
    /* One pass: the grammar -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
     * and, on the way, the mantissa of the common tokens: an integer of at
     * most 19 digits (int64 when it fits), or digits '.' digits with at most
     * 19 digits in all, no exponent and a mantissa <= 2^53 (prices): m /
     * 10^f is one IEEE division of two exact doubles, so correctly rounded.
     * Anything else goes to the general path. */
    const unsigned char *p = (const unsigned char *)s, *e = (const unsigned char *)end;
    int neg = 0;
    if (p < e && *p == '-') {
        neg = 1;
        p++;
    }
    if (p == e || !number_is_digit(*p)) {
        *stop = (const char *)p;
        return DOC_BADJSON;
    }
    const unsigned char *digits = p;
    uint64_t m = 0; /* may wrap past 19 digits (unsigned: defined); unused then */
    if (*p == '0')
        p++;
    else
        while (p < e && number_is_digit(*p)) m = m * 10 + (uint64_t)(*p++ - '0');
    size_t ndig = (size_t)(p - digits), frac = 0;
    int plain = 1; /* no exponent */
    if (p < e && *p == '.') {
        const unsigned char *f = ++p;
        while (p < e && number_is_digit(*p)) m = m * 10 + (uint64_t)(*p++ - '0');
        frac = (size_t)(p - f);
        if (frac == 0) {
            *stop = (const char *)p;
            return DOC_BADJSON;
        }
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-')) p++;
        if (p == e || !number_is_digit(*p)) {
            *stop = (const char *)p;
            return DOC_BADJSON;
        }
        while (p < e && number_is_digit(*p)) p++;
        plain = 0;
    }
    *stop = (const char *)p;
    if (plain && ndig + frac <= 19) {
        if (frac == 0) {
            uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
            if (m <= limit) {
                *is_int = 1;
                /* -(2^63) is computed without signed overflow. */
                *i = neg ? (int64_t)(0 - m) : (int64_t)m;
                return DOC_OK;
            }
        } else if (m <= NUMBER_EXACT_MAX) {
            double v = (double)m / number_pow10[frac]; /* frac <= 19 < 23 */
            *is_int = 0;
            *d = neg ? -v : v;
            return DOC_OK;
        }
    }
    return number_parse_slow((const unsigned char *)s, p, is_int, i, d);
}

/* doc_number_parse past its short-integer case (kept out of line so that
 * case costs a handful of instructions). */
static __attribute__((noinline)) doc_status number_parse_any(const char *s, size_t len, int *is_int,
                                                             int64_t *i, double *d) {
    const char *stop;
    doc_status st = doc_number_read(s, s + len, &stop, is_int, i, d);
    if (st == DOC_OK && stop != s + len) return DOC_BADJSON;
    return st == DOC_OK ? DOC_OK : DOC_BADJSON;
}

doc_status doc_number_parse(const char *s, size_t len, int *is_int, int64_t *i, double *d) {
    if (len == 0) return DOC_BADJSON;
    /* The common argument, a short integer (an INCR's delta): up to 18
     * digits, no leading zero, always an int64; anything else is read by
     * doc_number_read, which gives the same result for these. */
    if (len <= 18) {
        const unsigned char *p = (const unsigned char *)s, *e = p + len;
        int neg = *p == '-';
        p += neg;
        if (p < e && (*p != '0' || e - p == 1)) {
            uint64_t m = 0;
            while (p < e && number_is_digit(*p)) m = m * 10 + (uint64_t)(*p++ - '0');
            if (p == e) {
                *is_int = 1;
                *i = neg ? -(int64_t)m : (int64_t)m;
                return DOC_OK;
            }
        }
    }
    return number_parse_any(s, len, is_int, i, d);
}

/* Writes the decimal digits of u (no sign) ending just before `end`;
 * returns where they start. */
static char *number_write_u64(uint64_t u, char *end) {
    char *p = end;
    while (u >= 100) {
        unsigned k = (unsigned)(u % 100) * 2;
        u /= 100;
        *--p = number_digits2[k + 1];
        *--p = number_digits2[k];
    }
    if (u >= 10) {
        unsigned k = (unsigned)u * 2;
        *--p = number_digits2[k + 1];
        *--p = number_digits2[k];
    } else {
        *--p = (char)('0' + u);
    }
    return p;
}

size_t doc_format_int(int64_t v, char *out) {
    char tmp[24];
    char *end = tmp + sizeof tmp;
    /* 0 - (uint64_t)v is |v| also for INT64_MIN. */
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    char *p = number_write_u64(u, end);
    if (v < 0) *--p = '-';
    size_t n = (size_t)(end - p);
    memcpy(out, p, n);
    out[n] = '\0';
    return n;
}

/* Lays out `nd` significant digits (no leading or trailing zeros, except
 * the single digit of zero) whose decimal point sits `pt` digits from the
 * left (value = 0.DIGITS * 10^pt), as described at the top of this file. */
static size_t number_layout(int neg, const char *dig, int nd, int pt, char *out) {
    char *w = out;
    if (neg) *w++ = '-';
    if (pt >= nd && pt <= 21) {
        /* Integral: digits, zeros, ".0". */
        memcpy(w, dig, (size_t)nd);
        w += nd;
        for (int z = nd; z < pt; z++) *w++ = '0';
        *w++ = '.';
        *w++ = '0';
    } else if (pt > 0 && pt <= 21) {
        memcpy(w, dig, (size_t)pt);
        w += pt;
        *w++ = '.';
        memcpy(w, dig + pt, (size_t)(nd - pt));
        w += nd - pt;
    } else if (pt > -6 && pt <= 0) {
        *w++ = '0';
        *w++ = '.';
        for (int z = pt; z < 0; z++) *w++ = '0';
        memcpy(w, dig, (size_t)nd);
        w += nd;
    } else {
        *w++ = dig[0];
        if (nd > 1) {
            *w++ = '.';
            memcpy(w, dig + 1, (size_t)(nd - 1));
            w += nd - 1;
        }
        *w++ = 'e';
        int x = pt - 1;
        if (x < 0) {
            *w++ = '-';
            x = -x;
        }
        char tmp[8];
        char *p = number_write_u64((uint64_t)x, tmp + sizeof tmp);
        memcpy(w, p, (size_t)(tmp + sizeof tmp - p));
        w += tmp + sizeof tmp - p;
    }
    *w = '\0';
    return (size_t)(w - out);
}

size_t doc_format_double(double d, char *out) {
    int neg = signbit(d) != 0;
    double a = fabs(d);
    char dig[32];
    int nd, pt;

    if (a == 0.0) return number_layout(neg, "0", 1, 1, out);

    /* Fast path: few decimals (see the top of this file). */
    for (int k = 0; k <= NUMBER_FAST_DECIMALS; k++) {
        double x = a * number_pow10[k];
        if (x >= NUMBER_FAST_LIMIT) break;
        /* x < 2^50, so x + 0.5 is exact and truncation rounds half up. */
        uint64_t m = (uint64_t)(x + 0.5);
        if (m != 0 && (double)m / number_pow10[k] == a) {
            char *end = dig + sizeof dig;
            char *p = number_write_u64(m, end);
            nd = (int)(end - p);
            pt = nd - k;
            while (nd > 1 && p[nd - 1] == '0') nd--;
            return number_layout(neg, p, nd, pt, out);
        }
    }

    /* Slow path: 15, 16, then 17 significant digits. Denormals carry fewer
     * bits, so two short decimals can read back to the same one: try every
     * precision from 1 (they are rare). */
    char buf[40];
    for (int prec = a < DBL_MIN ? 0 : 14; prec <= 16; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec, a);
        if (prec == 16 || strtod(buf, NULL) == a) break;
    }
    /* buf is "D.DDDDe[+-]XX" (the point may be another locale's). */
    const char *p = buf;
    nd = 0;
    while (*p != 'e') {
        if (*p >= '0' && *p <= '9') dig[nd++] = *p;
        p++;
    }
    p++;
    int xneg = *p == '-';
    p++;
    int x = 0;
    while (*p >= '0' && *p <= '9') x = x * 10 + (*p++ - '0');
    pt = (xneg ? -x : x) + 1;
    while (nd > 1 && dig[nd - 1] == '0') nd--;
    return number_layout(neg, dig, nd, pt, out);
}

/* ------------------------------------------------------------------ */
/* Arithmetic and indexes                                             */
/* ------------------------------------------------------------------ */

doc_status doc_number_arith(doc_arith_op op, const doc_view *a, const doc_view *b, doc_view *r) {
    int mul = op == DOC_ARITH_MUL;
    if (a->type == DOC_INT && b->type == DOC_INT) {
        int64_t v;
        r->type = DOC_INT;
        if (mul ? __builtin_mul_overflow(a->i, b->i, &v) : __builtin_add_overflow(a->i, b->i, &v))
            return DOC_OVERFLOW;
        r->i = v;
        return DOC_OK;
    }
    double x = a->type == DOC_INT ? (double)a->i : a->d;
    double y = b->type == DOC_INT ? (double)b->i : b->d;
    r->type = DOC_DOUBLE;
    r->d = mul ? x * y : x + y;
    return isfinite(r->d) ? DOC_OK : DOC_OVERFLOW;
}

int64_t doc_decimal_index(const char *s, size_t n, int64_t max) {
    if (n == 0 || (n > 1 && s[0] == '0')) return -1;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        int64_t d = s[i] - '0';
        if (v > (max - d) / 10) return -1;
        v = v * 10 + d;
    }
    return v;
}

uint32_t doc_index_clamp(int64_t at, uint32_t n) {
    if (at < 0) return at < -(int64_t)n ? 0 : (uint32_t)(n + at);
    return at < (int64_t)n ? (uint32_t)at : n;
}

void doc_keep_window(uint64_t total, uint64_t count, int from_end, uint64_t *from, uint64_t *to) {
    uint64_t kept = count < total ? count : total;
    *from = from_end ? total - kept : 0;
    *to = from_end ? total : kept;
}
