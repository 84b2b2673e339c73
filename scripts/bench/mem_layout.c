/*
 * mem_layout.c - where the memory of a document goes: one JSON file parsed
 * as DOC.SET parses it, then every node of the tree measured.
 *
 * Usage: mem_layout FILE      (one line of JSON on stdout)
 *
 * Prints the text's size, doc_node_memory (what MEMORY USAGE counts for
 * the tree) and its parts: node headers, index blocks, the allocator's
 * rounding up to its size classes (malloc_usable_size minus the bytes asked
 * for), growth room (cap - len) and the packed bytes, split into keys,
 * strings, integers, doubles, literals and child pointers (the 9-byte
 * values that point to a nested container's node). The parts add up to
 * doc_node_memory. Run it on the allocator Redis uses, as
 * scripts/bench/run.sh does:
 *
 *     LD_PRELOAD=libjemalloc.so.2 build/bench/mem_layout FILE
 *
 * It reads node.h, the core's private layout, on purpose: it measures it.
 *
 * Build (from the project root, after `make BUILD=build/bench/core LTO= build/bench/core/libdoc.a`, a plain -O2 build of the core):
 *     cc -O2 -std=c11 -D_GNU_SOURCE -Imodule/doc scripts/bench/mem_layout.c \
 *        build/bench/core/libdoc.a -lm -o build/bench/mem_layout
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

#include "doc.h"
#include "node.h"

typedef struct layout {
    size_t nodes, headers, index, rounding, room;
    size_t keys, nkeys, strings, nstrings, ints, nints, doubles, ndoubles, literals, pointers;
} layout;

static void measure(const doc_node *n, layout *m) {
    size_t header = sizeof(doc_node) + (n->indexed ? sizeof(doc_index *) : 0);
    doc_index *ix = node_index(n);
    m->nodes++;
    m->headers += header;
    m->rounding += malloc_usable_size((void *)n) - (header + n->cap);
    m->room += n->cap - n->len;
    if (ix) m->index += malloc_usable_size(ix);
    const uint8_t *p = node_cbytes(n), *end = p + n->len;
    while (p < end) {
        if (n->kind == DOC_KIND_OBJECT) {
            const char *key;
            size_t klen, off = doc_key_decode(p, &key, &klen);
            m->keys += off;
            m->nkeys++;
            p += off;
        }
        size_t size = node_value_size(p);
        uint8_t tag = *p;
        if (tag == DOC_TAG_OBJECT || tag == DOC_TAG_ARRAY) {
            m->pointers += size;
            measure(value_child(p), m);
        } else if (tag == DOC_TAG_STRING) {
            m->strings += size;
            m->nstrings++;
        } else if (tag == DOC_TAG_DOUBLE) {
            m->doubles += size;
            m->ndoubles++;
        } else if (tag >= DOC_TAG_SMALLINT || (tag >= DOC_TAG_I8 && tag <= DOC_TAG_I64)) {
            m->ints += size;
            m->nints++;
        } else {
            m->literals += size;
        }
        p += size;
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: mem_layout FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)size + 1);
    if (!text || fread(text, 1, (size_t)size, f) != (size_t)size) {
        perror(argv[1]);
        return 1;
    }
    fclose(f);

    doc_error err;
    doc_error_clear(&err);
    doc_node *box = doc_parse(text, (size_t)size, DOC_DEPTH_DEFAULT, &err);
    if (!box) {
        fprintf(stderr, "doc_parse: %s at %zu\n", err.msg, err.offset);
        return 1;
    }
    layout m = {0};
    measure(box, &m);
    size_t packed = m.keys + m.strings + m.ints + m.doubles + m.literals + m.pointers;
    size_t total = m.headers + m.index + m.rounding + m.room + packed;
    size_t memory = doc_node_memory(box);
    printf("{\"text\": %ld, \"memory\": %zu, \"parts\": %zu, \"nodes\": %zu, \"headers\": %zu, "
           "\"index\": %zu, \"rounding\": %zu, \"room\": %zu, \"packed\": %zu, \"keys\": %zu, "
           "\"nkeys\": %zu, \"strings\": %zu, \"nstrings\": %zu, \"ints\": %zu, \"nints\": %zu, "
           "\"doubles\": %zu, \"ndoubles\": %zu, \"literals\": %zu, \"pointers\": %zu}\n",
           size, memory, total, m.nodes, m.headers, m.index, m.rounding, m.room, packed, m.keys, m.nkeys,
           m.strings, m.nstrings, m.ints, m.nints, m.doubles, m.ndoubles, m.literals, m.pointers);
    doc_node_free(box);
    free(text);
    return total == memory ? 0 : 1;
}
