/*
 * parse_bench.c - doc_parse throughput against bare YAJL on the same text.
 *
 * Usage: parse_bench [file.json] [iterations]
 * Without a file it builds a ~100 KB document of orders (ints, short
 * strings, prices, nested line items), like what DOC.SET receives. Bare
 * YAJL runs with callbacks that do nothing (yajl_number set, so it does not
 * convert numbers either) and its default UTF-8 check; doc_parse does the
 * whole job (numbers, strict UTF-8, surrogates, duplicate keys, the packed
 * tree) and frees the result each time. Prints one line: both rates in MB/s
 * and their ratio (doc_parse / yajl). Each rate is the best of 15 rounds
 * of process CPU time (steadier than wall time on a shared machine), the
 * two parsers taking turns so both see the same load.
 *
 * Build (from the project root, after `make build/libdoc.a`):
 *     cc -O2 -std=c11 -D_GNU_SOURCE -Imodule/doc scripts/bench/parse_bench.c \
 *        build/libdoc.a -lyajl -lm -o build/parse_bench
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <yajl/yajl_parse.h>

#include "doc.h"

/* Rounds per measurement; the best one counts (least disturbed). */
#define BENCH_ROUNDS 15

static int on_null(void *c) { (void)c; return 1; }
static int on_bool(void *c, int v) { (void)c; (void)v; return 1; }
static int on_number(void *c, const char *s, size_t n) { (void)c; (void)s; (void)n; return 1; }
static int on_string(void *c, const unsigned char *s, size_t n) { (void)c; (void)s; (void)n; return 1; }
static int on_event(void *c) { (void)c; return 1; }

static const yajl_callbacks empty_callbacks = {
    on_null, on_bool, NULL, NULL, on_number, on_string,
    on_event, on_string, on_event, on_event, on_event,
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The default document: orders with line items, ~100 KB. */
static char *make_orders(size_t *len)
{
    static const char *const skus[] = {"A-100", "B-220", "C-7", "D-4410", "E-9"};
    static const char *const status[] = {"new", "paid", "shipped", "cancelled"};
    static const char *const cities[] = {"Paris", "Berlin", "Shenzhen", "Austin", "Lyon"};
    size_t cap = 1 << 20, n = 0;
    char *s = malloc(cap);
    n += (size_t)snprintf(s + n, cap - n, "{\"shop\":\"atomic\",\"version\":3,\"orders\":[");
    for (int i = 0; n < 100 * 1000; i++) {
        n += (size_t)snprintf(s + n, cap - n,
                              "%s{\"id\":%d,\"customer\":{\"id\":%d,\"name\":\"user%d\",\"city\":\"%s\"},"
                              "\"status\":\"%s\",\"paid\":%s,\"total\":%d.%02d,\"items\":[",
                              i ? "," : "", 100000 + i, 5000 + i % 977, i % 977, cities[i % 5],
                              status[i % 4], i % 3 ? "true" : "false", 10 + i % 500, i % 100);
        for (int k = 0; k < 3; k++)
            n += (size_t)snprintf(s + n, cap - n,
                                  "%s{\"sku\":\"%s\",\"qty\":%d,\"price\":%d.%02d,\"note\":null}",
                                  k ? "," : "", skus[(i + k) % 5], 1 + (i + k) % 4,
                                  2 + (i * 7 + k) % 90, (i * 13 + k) % 100);
        n += (size_t)snprintf(s + n, cap - n, "]}");
    }
    n += (size_t)snprintf(s + n, cap - n, "]}");
    *len = n;
    return s;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)sz + 1);
    if (fread(s, 1, (size_t)sz, f) != (size_t)sz) {
        perror(path);
        exit(1);
    }
    fclose(f);
    *len = (size_t)sz;
    return s;
}

/* One batch of bare YAJL parses; returns the CPU seconds it took. */
static double run_yajl(const char *text, size_t len, int iters)
{
    double t0 = now();
    for (int i = 0; i < iters; i++) {
        yajl_handle h = yajl_alloc(&empty_callbacks, NULL, NULL);
        if (yajl_parse(h, (const unsigned char *)text, len) != yajl_status_ok ||
            yajl_complete_parse(h) != yajl_status_ok) {
            fprintf(stderr, "yajl refused the document\n");
            exit(1);
        }
        yajl_free(h);
    }
    return now() - t0;
}

/* One batch of doc_parse + doc_node_free; returns the CPU seconds. */
static double run_doc(const char *text, size_t len, int iters)
{
    double t0 = now();
    for (int i = 0; i < iters; i++) {
        doc_error err;
        doc_error_clear(&err);
        doc_node *box = doc_parse(text, len, DOC_DEPTH_DEFAULT, &err);
        if (!box) {
            fprintf(stderr, "doc_parse: %s at %zu\n", err.msg, err.offset);
            exit(1);
        }
        doc_node_free(box);
    }
    return now() - t0;
}

int main(int argc, char **argv)
{
    size_t len;
    char *text = argc > 1 ? read_file(argv[1], &len) : make_orders(&len);
    int iters = argc > 2 ? atoi(argv[2]) : (int)(30e6 / (double)len) + 1;
    /* Alternate the two so both see the same machine load; keep the best. */
    double by = 1e30, bd = 1e30;
    for (int r = 0; r < BENCH_ROUNDS; r++) {
        double t = run_yajl(text, len, iters);
        if (t < by)
            by = t;
        t = run_doc(text, len, iters);
        if (t < bd)
            bd = t;
    }
    double y = (double)len * iters / by / 1e6;
    double d = (double)len * iters / bd / 1e6;
    printf("%zu bytes x %d: yajl %.1f MB/s, doc_parse %.1f MB/s, ratio %.2f\n", len, iters, y, d,
           d / y);
    free(text);
    return 0;
}
