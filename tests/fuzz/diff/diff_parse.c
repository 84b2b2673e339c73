/*
 * diff_parse.c - differential libFuzzer target: doc_parse against a
 * reference parser (the parse.c of an earlier commit, its doc_parse renamed
 * ref_doc_parse; scripts/fuzz_parse_diff.sh builds it).
 *
 * For any bytes and a depth limit taken from the first byte, both parsers
 * must agree exactly: the same error code, offset and message, or trees that
 * are identical node by node (kind, count, length, flags, index, every packed
 * byte, child nodes compared in place of their pointers) and that add the
 * same bytes to doc_memory_in_use. A failed parse must leave
 * doc_memory_in_use where it was. Any difference traps.
 */
#include <stdint.h>
#include <string.h>

#include "node.h"

doc_node *ref_doc_parse(const char *text, size_t len, uint32_t max_depth, doc_error *err);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                    \
    do {                               \
        if (!(cond)) __builtin_trap(); \
    } while (0)

/* Node by node; child pointers are compared as the trees they point to. */
static void same_tree(const doc_node *a, const doc_node *b, int depth) {
    CHECK(depth < 20000);
    CHECK(a->kind == b->kind && a->count == b->count && a->len == b->len && a->flags == b->flags &&
          a->indexed == b->indexed);
    const uint8_t *pa = node_cbytes(a), *pb = node_cbytes(b);
    if (a->indexed) {
        const doc_index *ia = node_index(a), *ib = node_index(b);
        CHECK(memcmp(ia->off, ib->off, a->count * sizeof(uint32_t)) == 0);
    }
    uint32_t off = 0;
    for (uint32_t i = 0; i < a->count; i++) {
        CHECK(off < a->len);
        if (a->kind == DOC_KIND_OBJECT) {
            const char *k;
            size_t kl;
            size_t h = doc_key_decode(pa + off, &k, &kl);
            CHECK(memcmp(pa + off, pb + off, h) == 0);
            off += (uint32_t)h;
        }
        size_t vs = node_value_size(pa + off);
        CHECK(pa[off] == pb[off]);
        if (pa[off] == DOC_TAG_OBJECT || pa[off] == DOC_TAG_ARRAY)
            same_tree(value_child(pa + off), value_child(pb + off), depth + 1);
        else
            CHECK(memcmp(pa + off, pb + off, vs) == 0);
        off += (uint32_t)vs;
    }
    CHECK(off == a->len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* The first byte picks a depth limit: small ones test TOODEEP offsets. */
    uint32_t depth = DOC_DEPTH_DEFAULT;
    if (size > 0 && data[0] < 8) {
        depth = data[0] * 3u;
        data++, size--;
    }
    doc_error ea, eb;
    doc_error_clear(&ea);
    doc_error_clear(&eb);
    long long m0 = doc_memory_in_use();
    doc_node *a = doc_parse((const char *)data, size, depth, &ea);
    long long m1 = doc_memory_in_use();
    doc_node *b = ref_doc_parse((const char *)data, size, depth, &eb);
    long long m2 = doc_memory_in_use();
    CHECK((a == NULL) == (b == NULL));
    CHECK(ea.code == eb.code && ea.has_offset == eb.has_offset);
    if (!a) {
        CHECK(m1 == m0 && m2 == m0);
        CHECK(ea.offset == eb.offset && strcmp(ea.msg, eb.msg) == 0);
        return 0;
    }
    CHECK(m1 - m0 == m2 - m1);
    same_tree(a, b, 0);
    doc_node_free(a);
    doc_node_free(b);
    CHECK(doc_memory_in_use() == m0);
    return 0;
}
