/*
 * parse_bench.c - the cost per byte of doc_parse and doc_print on one JSON
 * file, the two halves of DOC.SET and an uncached DOC.GET.
 *
 * Usage: parse_bench parse|print|load|save FILE [iterations]
 *
 * parse: doc_parse of the file `iterations` times (each tree freed outside
 *        doc_parse).
 * print: the file parsed once, then doc_print of its value into a fresh
 *        doc_buf `iterations` times (as DOC.GET does: the buffer grows as the
 *        text is written; freeing it is outside doc_print).
 * load:  the file parsed once and serialized (doc_tree_serialize, the RDB
 *        encoding), then doc_tree_load of those bytes `iterations` times
 *        (each tree freed outside doc_tree_load): what loading the document
 *        from an RDB or a RESTORE payload costs. Per byte of the JSON file,
 *        so the figure compares with parse's.
 * save:  doc_tree_serialize of the parsed file into a fresh doc_buf.
 *
 * Timings on a shared 2-core machine mean little, so the figure that counts
 * is the instruction count, from callgrind, of the function measured only:
 *
 *     valgrind --tool=callgrind --toggle-collect=doc_parse \
 *         --callgrind-out-file=/dev/null build/bench/parse_bench parse FILE 20
 *
 * prints "Collected : N" on stderr; N / (iterations x bytes) is the cost per
 * byte (scripts/bench/run.sh does that division). Run without valgrind the
 * program prints CPU-time MB/s too, for a rough look.
 *
 * Build (from the project root, after `make BUILD=build/bench/core LTO= build/bench/core/libdoc.a`, a plain -O2 build of the core):
 *     cc -O2 -std=c11 -D_GNU_SOURCE -Imodule/doc scripts/bench/parse_bench.c \
 *        build/bench/core/libdoc.a -lm -o build/bench/parse_bench
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "doc.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
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
    if (!s || fread(s, 1, (size_t)sz, f) != (size_t)sz) {
        perror(path);
        exit(1);
    }
    fclose(f);
    *len = (size_t)sz;
    return s;
}

static doc_node *parse_or_die(const char *text, size_t len)
{
    doc_error err;
    doc_error_clear(&err);
    doc_node *box = doc_parse(text, len, DOC_DEPTH_DEFAULT, &err);
    if (!box) {
        fprintf(stderr, "doc_parse: %s at %zu\n", err.msg, err.offset);
        exit(1);
    }
    return box;
}

int main(int argc, char **argv)
{
    if (argc < 3 || (strcmp(argv[1], "parse") && strcmp(argv[1], "print") &&
                     strcmp(argv[1], "load") && strcmp(argv[1], "save"))) {
        fprintf(stderr, "usage: parse_bench parse|print|load|save FILE [iterations]\n");
        return 2;
    }
    int printing = strcmp(argv[1], "print") == 0;
    int loading = strcmp(argv[1], "load") == 0;
    int saving = strcmp(argv[1], "save") == 0;
    size_t len;
    char *text = read_file(argv[2], &len);
    int iters = argc > 3 ? atoi(argv[3]) : (int)(30e6 / (double)len) + 1;
    doc_node *doc = printing || loading || saving ? parse_or_die(text, len) : NULL;
    doc_buf tree;
    doc_buf_init(&tree);
    if (loading && doc_tree_serialize(doc, &tree) != DOC_OK) {
        fprintf(stderr, "doc_tree_serialize: out of memory\n");
        return 1;
    }
    size_t out_len = 0;
    double t0 = now();
    for (int i = 0; i < iters; i++) {
        if (loading) {
            doc_error err;
            doc_error_clear(&err);
            doc_node *t = doc_tree_load((const uint8_t *)tree.data, tree.len, DOC_DEPTH_LIMIT, &err);
            if (!t) {
                fprintf(stderr, "doc_tree_load: %s at %zu\n", err.msg, err.offset);
                return 1;
            }
            doc_node_free(t);
        } else if (saving) {
            doc_buf b;
            doc_buf_init(&b);
            if (doc_tree_serialize(doc, &b) != DOC_OK) {
                fprintf(stderr, "doc_tree_serialize: out of memory\n");
                return 1;
            }
            out_len = b.len;
            doc_buf_free(&b);
        } else if (printing) {
            doc_buf b;
            doc_buf_init(&b);
            doc_print(doc_box_value(doc), &b);
            if (b.oom) {
                fprintf(stderr, "doc_print: out of memory\n");
                return 1;
            }
            out_len = b.len;
            doc_buf_free(&b);
        } else {
            doc_node_free(parse_or_die(text, len));
        }
    }
    double t = now() - t0;
    if (printing && out_len != len)
        fprintf(stderr, "note: printed %zu bytes for a %zu-byte file (not compact?)\n", out_len,
                len);
    if (loading) printf("serialized: %zu bytes for %zu bytes of JSON\n", tree.len, len);
    doc_buf_free(&tree);
    printf("%s %zu bytes x %d: %.1f MB/s\n", argv[1], len, iters,
           (double)len * iters / (t > 0 ? t : 1e-9) / 1e6);
    doc_node_free(doc);
    free(text);
    return 0;
}
