/*
 * test_number.c - doc_number_parse, doc_format_double, doc_format_int.
 *
 * Tables pin the type decision (int64 vs double), exact rounding at the
 * edges (2^53, DBL_MAX, the smallest denormal, halfway cases decided by a
 * digit 800 places in), the BADJSON cases, and the printed layout. Random
 * tests prove, over 200,000 finite bit patterns, that printing round-trips
 * bit for bit and uses as few significant digits as the shortest "%.Ne"
 * that round-trips, and that parsing agrees with glibc's strtod.
 */
#include <criterion/criterion.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"

/* xorshift64*: a fixed-seed generator, so failures reproduce. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng_next(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

static uint64_t bits_of(double d) {
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static double double_of(uint64_t u) {
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* Decimal digits of v * 2^shift (a tiny bignum, most significant first). */
static char *big_pow2(uint64_t v, int shift) {
    size_t cap = 400;
    char *d = calloc(cap, 1); /* little-endian digit values */
    size_t n = 0;
    while (v) {
        d[n++] = (char)(v % 10);
        v /= 10;
    }
    for (int s = 0; s < shift; s++) {
        int carry = 0;
        for (size_t j = 0; j < n; j++) {
            int x = d[j] * 2 + carry;
            d[j] = (char)(x % 10);
            carry = x / 10;
        }
        if (carry) d[n++] = (char)carry;
    }
    char *out = malloc(n + 1);
    for (size_t j = 0; j < n; j++) out[j] = (char)('0' + d[n - 1 - j]);
    out[n] = '\0';
    free(d);
    return out;
}

/* Decimal digits of 5^k. */
static char *big_pow5(int k) {
    size_t cap = 1000;
    char *d = calloc(cap, 1);
    size_t n = 1;
    d[0] = 1;
    for (int s = 0; s < k; s++) {
        int carry = 0;
        for (size_t j = 0; j < n; j++) {
            int x = d[j] * 5 + carry;
            d[j] = (char)(x % 10);
            carry = x / 10;
        }
        if (carry) d[n++] = (char)carry;
    }
    char *out = malloc(n + 1);
    for (size_t j = 0; j < n; j++) out[j] = (char)('0' + d[n - 1 - j]);
    out[n] = '\0';
    free(d);
    return out;
}

static doc_status parse_str(const char *s, int *is_int, int64_t *i, double *d) {
    return doc_number_parse(s, strlen(s), is_int, i, d);
}

/* ---------------------------------------------------------------- */

typedef struct int_row {
    const char *text; /* token */
    int64_t want;     /* its int64 value */
} int_row;

Test(number, parse_int_table) {
    static const int_row rows[] = {
        {"0", 0},
        {"-0", 0},
        {"1", 1},
        {"-1", -1},
        {"127", 127},
        {"128", 128},
        {"-129", -129},
        {"2147483648", 2147483648ll},
        {"9007199254740993", 9007199254740993ll},
        {"999999999999999999", 999999999999999999ll},
        {"1000000000000000000", 1000000000000000000ll},
        {"9223372036854775807", INT64_MAX},
        {"-9223372036854775807", -INT64_MAX},
        {"-9223372036854775808", INT64_MIN},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        int is_int = -1;
        int64_t i = 12345;
        double d = 0;
        doc_status st = parse_str(rows[r].text, &is_int, &i, &d);
        cr_expect_eq(st, DOC_OK, "%s: status %d", rows[r].text, st);
        cr_expect_eq(is_int, 1, "%s: not an int", rows[r].text);
        cr_expect_eq(i, rows[r].want, "%s: got %lld", rows[r].text, (long long)i);
    }
}

typedef struct dbl_row {
    const char *text; /* token */
    double want;      /* the correctly rounded double (compared bitwise) */
} dbl_row;

Test(number, parse_double_table) {
    static const dbl_row rows[] = {
        /* Integers that do not fit int64 become doubles. */
        {"9223372036854775808", 9223372036854775808.0},
        {"-9223372036854775809", -9223372036854775809.0},
        {"18446744073709551616", 18446744073709551616.0},
        {"12345678901234567890", 12345678901234567890.0},
        {"123456789012345678901234567890", 1.2345678901234568e29},
        /* Fractions and exponents are doubles even when integral. */
        {"1.0", 1.0},
        {"1e2", 100.0},
        {"1E2", 100.0},
        {"1e+2", 100.0},
        {"1e-2", 0.01},
        {"-0.0", -0.0},
        {"0.0", 0.0},
        {"0e0", 0.0},
        {"-0e-5", -0.0},
        {"0.1", 0.1},
        {"0.30000000000000004", 0.30000000000000004},
        {"19.99", 19.99},
        {"-19.99", -19.99},
        {"3.141592653589793", 3.141592653589793},
        {"1.5e-7", 1.5e-7},
        {"123456.789e3", 123456789.0},
        {"0.000000000000000000000000000001", 1e-30},
        {"1e22", 1e22},
        {"1e23", 1e23},
        {"9007199254740993.0", 9007199254740992.0}, /* tie to even */
        {"9007199254740995.0", 9007199254740996.0}, /* tie to even */
        {"9007199254740993.0000000000000000000001", 9007199254740994.0},
        {"8.98846567431158e307", 8.98846567431158e307},
        {"1.7976931348623157e308", DBL_MAX},
        {"1.7976931348623158e308", DBL_MAX},
        {"2.2250738585072014e-308", DBL_MIN},
        {"2.2250738585072011e-308", 2.2250738585072011e-308},
        {"4.9406564584124654e-324", 4.9406564584124654e-324},
        {"5e-324", 5e-324},
        {"3e-324", 5e-324},
        {"2e-324", 0.0},
        {"1e-400", 0.0},
        {"-1e-400", -0.0},
        {"1e-99999999999999999999999", 0.0},
        {"0.0e99999999999999999999", 0.0},
        {"7.2057594037927933e16", 7.2057594037927933e16},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        int is_int = -1;
        int64_t i = 0;
        double d = 12345;
        doc_status st = parse_str(rows[r].text, &is_int, &i, &d);
        cr_expect_eq(st, DOC_OK, "%s: status %d", rows[r].text, st);
        cr_expect_eq(is_int, 0, "%s: not a double", rows[r].text);
        cr_expect_eq(bits_of(d), bits_of(rows[r].want), "%s: got %.17g want %.17g", rows[r].text, d,
                     rows[r].want);
    }
}

Test(number, parse_rejects) {
    static const char *const rows[] = {
        "",
        "-",
        "+1",
        "01",
        "-01",
        "00",
        "1.",
        ".5",
        "-.5",
        "1e",
        "1e+",
        "1E-",
        "1.e5",
        "0x10",
        "1 ",
        " 1",
        "--1",
        "1-",
        "1.5.5",
        "1e5e5",
        "NaN",
        "Infinity",
        "-Infinity",
        "1e400",
        "-1e400",
        "1e309",
        "1.7976931348623159e308",
        "1e99999999999999999999999",
        "1,5",
        "\xd9\xa1",
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        int is_int = -1;
        int64_t i = 0;
        double d = 0;
        cr_expect_eq(parse_str(rows[r], &is_int, &i, &d), DOC_BADJSON, "\"%s\" accepted", rows[r]);
    }
    /* The length is honoured: no reading past it, no NUL needed. */
    int is_int;
    int64_t i;
    double d;
    cr_expect_eq(doc_number_parse("12x", 2, &is_int, &i, &d), DOC_OK);
    cr_expect_eq(i, 12);
    cr_expect_eq(doc_number_parse("1.5e", 3, &is_int, &i, &d), DOC_OK);
    cr_expect_eq(d, 1.5);
}

/* doc_number_read finds where a token ends inside a longer text: the first
 * byte that cannot continue it. Cut short: BADJSON at the byte where a digit
 * was needed; beyond the double range: OVERFLOW past the token. */
Test(number, read_finds_the_token_end) {
    static const struct {
        const char *text; /* input (the token, then other bytes) */
        doc_status st;    /* expected status */
        size_t stop;      /* expected *stop offset */
        int is_int;       /* on DOC_OK: the type */
        double value;     /* on DOC_OK: the value (ints compared as doubles) */
    } rows[] = {
        {"0,", DOC_OK, 1, 1, 0},
        {"01", DOC_OK, 1, 1, 0},
        {"-0]", DOC_OK, 2, 1, 0},
        {"42}", DOC_OK, 2, 1, 42},
        {"-9223372036854775808 ", DOC_OK, 20, 1, -9223372036854775808.0},
        {"9223372036854775808,", DOC_OK, 19, 0, 9223372036854775808.0},
        {"93.78,", DOC_OK, 5, 0, 93.78},
        {"-0.0]", DOC_OK, 4, 0, -0.0},
        {"1e2x", DOC_OK, 3, 0, 100},
        {"1.5E-1}", DOC_OK, 6, 0, 0.15},
        {"0.1234567890123456789,", DOC_OK, 21, 0, 0.1234567890123456789},
        {"12345678901234567890.5,", DOC_OK, 22, 0, 12345678901234567890.5},
        {"1.-", DOC_BADJSON, 2, 0, 0},
        {"1e,", DOC_BADJSON, 2, 0, 0},
        {"1e+]", DOC_BADJSON, 3, 0, 0},
        {"-x", DOC_BADJSON, 1, 0, 0},
        {"-", DOC_BADJSON, 1, 0, 0},
        {"1.", DOC_BADJSON, 2, 0, 0},
        {"1e400,", DOC_OVERFLOW, 5, 0, 0},
        {"-2e308]", DOC_OVERFLOW, 6, 0, 0},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        const char *t = rows[r].text, *stop = NULL;
        int is_int = -1;
        int64_t i = 0;
        double d = 0;
        doc_status st = doc_number_read(t, t + strlen(t), &stop, &is_int, &i, &d);
        cr_expect_eq(st, rows[r].st, "%s: status %d", t, st);
        cr_expect_eq((size_t)(stop - t), rows[r].stop, "%s: stop %zu", t, (size_t)(stop - t));
        if (st != DOC_OK || rows[r].st != DOC_OK) continue;
        cr_expect_eq(is_int, rows[r].is_int, "%s: type", t);
        double got = is_int ? (double)i : d;
        cr_expect_eq(bits_of(got), bits_of(rows[r].value), "%s: %.17g", t, got);
    }
}

/* Halfway cases decided by digits far to the right, and the top of the
 * double range, computed exactly with a tiny bignum. */
Test(number, parse_exact_halfway) {
    char buf[2000];
    int is_int;
    int64_t i;
    double d;

    /* 2^-1075 is exactly halfway between 0 and the smallest denormal:
     * it rounds to even (0); anything above it rounds up. */
    char *h = big_pow5(1075); /* 2^-1075 = 5^1075 * 10^-1075 */
    snprintf(buf, sizeof buf, "%se-1075", h);
    cr_assert_eq(parse_str(buf, &is_int, &i, &d), DOC_OK);
    cr_expect_eq(bits_of(d), bits_of(0.0), "halfway to denormal: %g", d);

    /* The same plus a 1 far beyond digit 800: the sticky digit must keep it. */
    size_t n = (size_t)snprintf(buf, sizeof buf, "0.");
    for (int z = 0; z < 323; z++) buf[n++] = '0';
    n += (size_t)snprintf(buf + n, sizeof buf - n, "%s", h);
    for (int z = 0; z < 200; z++) buf[n++] = '0';
    buf[n++] = '1';
    buf[n] = '\0';
    cr_assert_eq(parse_str(buf, &is_int, &i, &d), DOC_OK);
    cr_expect_eq(bits_of(d), bits_of(5e-324), "just above halfway: %g", d);

    /* Same digits followed by zeros only: still exactly halfway. */
    buf[n - 1] = '0';
    cr_assert_eq(parse_str(buf, &is_int, &i, &d), DOC_OK);
    cr_expect_eq(bits_of(d), bits_of(0.0), "halfway with zeros: %g", d);
    free(h);

    /* 2^1024 - 2^970 is halfway between DBL_MAX and 2^1024: rounds to even,
     * which overflows. One less rounds down to DBL_MAX. */
    char *m = big_pow2((1ull << 54) - 1, 970);
    cr_expect_eq(parse_str(m, &is_int, &i, &d), DOC_BADJSON, "midpoint above DBL_MAX");
    snprintf(buf, sizeof buf, "%s.0", m);
    cr_expect_eq(parse_str(buf, &is_int, &i, &d), DOC_BADJSON);
    size_t ml = strlen(m);
    size_t k = ml - 1;
    while (m[k] == '0') m[k--] = '9';
    m[k]--;
    cr_expect_eq(parse_str(m, &is_int, &i, &d), DOC_OK);
    cr_expect_eq(is_int, 0);
    cr_expect_eq(d, DBL_MAX);
    snprintf(buf, sizeof buf, "%s.999999999999999999999999999", m);
    cr_expect_eq(parse_str(buf, &is_int, &i, &d), DOC_OK);
    cr_expect_eq(d, DBL_MAX);
    free(m);
}

/* A long token (far more digits than strtod gets) parses without trouble. */
Test(number, parse_long_tokens) {
    size_t n = 100000;
    char *s = malloc(n + 8);
    s[0] = '1';
    memset(s + 1, '0', n - 1);
    memcpy(s + n, "e-99999", 8);
    int is_int;
    int64_t i;
    double d;
    cr_expect_eq(doc_number_parse(s, n + 7, &is_int, &i, &d), DOC_OK);
    cr_expect_eq(d, 1.0);
    /* 100,000 digits without exponent: out of range. */
    cr_expect_eq(doc_number_parse(s, n, &is_int, &i, &d), DOC_BADJSON);
    /* 0.000...0001234 */
    memcpy(s, "0.", 2);
    memset(s + 2, '0', n - 6);
    memcpy(s + n - 4, "1234", 4);
    memcpy(s + n, "e99995", 7); /* 1234 * 10^-(n-2) * 10^99995 */
    cr_expect_eq(doc_number_parse(s, n + 6, &is_int, &i, &d), DOC_OK);
    cr_expect_eq(d, 1.234, "got %.17g", d);
    free(s);
}

/* Random decimal tokens agree with strtod (glibc rounds correctly). */
Test(number, parse_random_vs_strtod) {
    char buf[64];
    for (int r = 0; r < 200000; r++) {
        uint64_t x = rng_next();
        int ndig = 1 + (int)(x % 25);
        int point = (int)((x >> 8) % (uint64_t)(ndig + 1));
        int exp = (int)((x >> 16) % 700) - 350;
        int use_exp = (int)((x >> 28) & 1);
        size_t n = 0;
        if ((x >> 30) & 1) buf[n++] = '-';
        uint64_t y = rng_next();
        for (int j = 0; j < ndig; j++) {
            if (j == point && j > 0) buf[n++] = '.';
            int dj = (int)(y % 10);
            y = y / 10 ^ rng_next();
            if (j == 0 && (dj == 0 && (point != 1 || ndig == 1))) dj = 1;
            buf[n++] = (char)('0' + dj);
        }
        if (use_exp) n += (size_t)snprintf(buf + n, sizeof buf - n, "e%d", exp);
        buf[n] = '\0';
        int is_int;
        int64_t i;
        double d;
        doc_status st = doc_number_parse(buf, n, &is_int, &i, &d);
        double want = strtod(buf, NULL);
        if (isinf(want)) {
            cr_assert_eq(st, DOC_BADJSON, "%s accepted", buf);
            continue;
        }
        cr_assert_eq(st, DOC_OK, "%s refused", buf);
        if (is_int) {
            cr_assert_eq((double)i, want, "%s", buf);
            cr_assert(strchr(buf, '.') == NULL && strchr(buf, 'e') == NULL, "%s", buf);
        } else {
            cr_assert_eq(bits_of(d), bits_of(want), "%s: got %.17g want %.17g", buf, d, want);
        }
    }
}

/* ---------------------------------------------------------------- */

Test(number, format_int_table) {
    static const struct {
        int64_t v;        /* value */
        const char *want; /* its text */
    } rows[] = {
        {0, "0"},
        {7, "7"},
        {-7, "-7"},
        {10, "10"},
        {99, "99"},
        {100, "100"},
        {-100, "-100"},
        {1234567890, "1234567890"},
        {INT64_MAX, "9223372036854775807"},
        {-INT64_MAX, "-9223372036854775807"},
        {INT64_MIN, "-9223372036854775808"},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        char out[21];
        size_t n = doc_format_int(rows[r].v, out);
        cr_expect_eq(n, strlen(rows[r].want));
        cr_expect_str_eq(out, rows[r].want);
    }
    /* Round trip over random values of every magnitude. */
    for (int r = 0; r < 100000; r++) {
        int64_t v = (int64_t)(rng_next() >> (rng_next() % 64));
        if (r & 1) v = -v;
        char out[21];
        size_t n = doc_format_int(v, out);
        char want[32];
        snprintf(want, sizeof want, "%lld", (long long)v);
        cr_assert_eq(n, strlen(want));
        cr_assert_str_eq(out, want);
    }
}

typedef struct fmt_row {
    double v;         /* value */
    const char *want; /* its shortest text */
} fmt_row;

Test(number, format_double_table) {
    static const fmt_row rows[] = {
        {0.0, "0.0"},
        {-0.0, "-0.0"},
        {1.0, "1.0"},
        {-1.0, "-1.0"},
        {100.0, "100.0"},
        {0.1, "0.1"},
        {0.5, "0.5"},
        {19.99, "19.99"},
        {-19.99, "-19.99"},
        {0.01, "0.01"},
        {1234.5678, "1234.5678"},
        {0.30000000000000004, "0.30000000000000004"},
        {1.0 / 3.0, "0.3333333333333333"},
        {2.0 / 3.0, "0.6666666666666666"},
        {3.141592653589793, "3.141592653589793"},
        {5e-324, "5e-324"},
        {DBL_MAX, "1.7976931348623157e308"},
        {DBL_MIN, "2.2250738585072014e-308"},
        {1e21, "1e21"},
        {1e20, "100000000000000000000.0"},
        {123456789012345680000.0, "123456789012345680000.0"},
        {1e16, "10000000000000000.0"},
        {9007199254740992.0, "9007199254740992.0"},
        {9223372036854775808.0, "9223372036854776000.0"},
        {1.5e300, "1.5e300"},
        {-1e-300, "-1e-300"},
        {1e-7, "1e-7"},
        {1.5e-7, "1.5e-7"},
        {1e-6, "0.000001"},
        {1.25e-5, "0.0000125"},
        {0.00001, "0.00001"},
        {123e-20, "1.23e-18"},
        {0.1 + 0.2, "0.30000000000000004"},
        {1e15 + 0.3, "1000000000000000.2"},
        {4503599627370495.5, "4503599627370495.5"},
        {12345678.123456789, "12345678.12345679"},
        {2.5e-8, "2.5e-8"},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        char out[32];
        size_t n = doc_format_double(rows[r].v, out);
        cr_expect_eq(n, strlen(rows[r].want), "%s: length %zu", rows[r].want, n);
        cr_expect_str_eq(out, rows[r].want);
    }
}

/* Significant digits in a printed number (mantissa only). */
static int sig_digits(const char *s) {
    char dig[40];
    int n = 0;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9') dig[n++] = *s;
    int a = 0;
    while (a < n && dig[a] == '0') a++;
    while (n > a && dig[n - 1] == '0') n--;
    return n - a > 0 ? n - a : 1;
}

/* The fewest significant digits with which "%.Ne" round-trips d. */
static int shortest_printf(double d) {
    char buf[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, sizeof buf, "%.*e", p - 1, d);
        if (strtod(buf, NULL) == d) return p;
    }
    return 17;
}

/* One printed double: re-reads bit for bit, looks like a double under JSON
 * rules, parses back as a double, and is as short as printf can be. */
static void check_format(double d) {
    char out[40];
    memset(out, 'X', sizeof out);
    size_t n = doc_format_double(d, out);
    cr_assert_eq(strlen(out), n);
    cr_assert(n < 32, "%s too long", out);
    cr_assert(strchr(out, '.') || strchr(out, 'e'), "%s does not look like a double", out);
    cr_assert_eq(bits_of(strtod(out, NULL)), bits_of(d), "%s != %.17g", out, d);
    int is_int = -1;
    int64_t i;
    double back;
    cr_assert_eq(doc_number_parse(out, n, &is_int, &i, &back), DOC_OK, "%s", out);
    cr_assert_eq(is_int, 0, "%s", out);
    cr_assert_eq(bits_of(back), bits_of(d), "%s", out);
    cr_assert_leq(sig_digits(out), shortest_printf(d), "%s is not the shortest for %.17g", out, d);
}

Test(number, format_random_bits) {
    int done = 0;
    while (done < 200000) {
        double d = double_of(rng_next());
        if (!isfinite(d)) continue;
        check_format(d);
        done++;
    }
}

Test(number, format_edges) {
    /* Every power of two (the asymmetric rounding intervals). */
    for (int e = -1074; e <= 1023; e++) {
        check_format(ldexp(1.0, e));
        check_format(-ldexp(1.0, e));
    }
    /* Denormals, neighbours of powers of ten, and fast-path boundaries. */
    for (int k = 1; k < 2000; k++) check_format(double_of((uint64_t)k));
    for (int e = -320; e <= 308; e++) {
        double p = pow(10.0, e);
        check_format(p);
        check_format(nextafter(p, 0));
        check_format(nextafter(p, INFINITY));
    }
    check_format(1125899906842624.0);
    check_format(1125899906842623.0);
    check_format(1125899906842623.5);
    check_format(nextafter(1125899906842624.0, 0));
    check_format(DBL_MAX);
    check_format(-DBL_MAX);
}

/* Prices and other few-decimal values: short, exact, and fast-path sized. */
Test(number, format_few_decimals) {
    char out[32], want[40];
    for (int r = 0; r < 200000; r++) {
        uint64_t x = rng_next();
        int k = (int)(x % 9);
        int64_t m = (int64_t)((x >> 8) % 100000000000ull);
        double d = (double)m / pow(10.0, k);
        doc_format_double(d, out);
        check_format(d);
        /* The text is the decimal m * 10^-k itself, trimmed. */
        snprintf(want, sizeof want, "%.*f", k, d);
        char *w = want;
        size_t wl = strlen(w);
        if (strchr(w, '.')) {
            while (w[wl - 1] == '0') w[--wl] = '\0';
            if (w[wl - 1] == '.') {
                w[wl++] = '0';
                w[wl] = '\0';
            }
        } else {
            strcat(w, ".0");
        }
        if (d >= 1e-6 || d == 0) cr_assert_str_eq(out, w, "m=%lld k=%d", (long long)m, k);
    }
}
