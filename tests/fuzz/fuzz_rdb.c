/*
 * fuzz_rdb.c - libFuzzer target for doc_tree_load, the loader of RDB and
 * RESTORE payloads (encver 2), which must survive hostile bytes.
 *
 * Any bytes either fail cleanly (BADJSON with an offset no larger than the
 * input, or TOODEEP) or load to a tree that
 *   - serializes back to exactly the input (the loader accepts only the
 *     canonical form doc_tree_serialize writes: nothing slips through
 *     unchecked),
 *   - prints to JSON that doc_parse accepts, and the parsed tree is identical
 *     to the loaded one, serializes to the same bytes and holds the same
 *     memory (a loaded tree is the tree the parser makes of that JSON).
 * Any violation traps.
 *
 * Seeds (tests/fuzz/corpus/rdb/): the serialized trees of several documents
 * (scalars, empty and nested containers, objects large enough for an index,
 * escapes, non-ASCII text, every integer width, doubles) and truncations of
 * some of them.
 */
#include <stdint.h>
#include <string.h>

#include "doc.h"

#define CHECK(cond)                    \
    do {                               \
        if (!(cond)) __builtin_trap(); \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    doc_error err;
    doc_error_clear(&err);
    doc_node *a = doc_tree_load(data, size, DOC_DEPTH_DEFAULT, &err);
    if (!a) {
        CHECK(err.code == DOC_BADJSON || err.code == DOC_TOODEEP);
        CHECK(err.code != DOC_BADJSON || (err.has_offset && err.offset <= size));
        CHECK(strchr(err.msg, '\n') == NULL &&
              err.msg[0] != '\0'); /* a C string: bytes after its NUL are stale (doc.h) */
        return 0;
    }
    CHECK(err.code == DOC_OK);

    doc_buf sa, text, sb;
    doc_buf_init(&sa);
    CHECK(doc_tree_serialize(a, &sa) == DOC_OK);
    CHECK(sa.len == size && memcmp(sa.data, data, size) == 0);

    doc_buf_init(&text);
    doc_print(doc_box_value(a), &text);
    CHECK(!text.oom);
    doc_node *b = doc_parse(text.data, text.len, DOC_DEPTH_DEFAULT, &err);
    CHECK(b != NULL);
    CHECK(doc_value_identical(doc_box_value(a), doc_box_value(b)));
    doc_buf_init(&sb);
    CHECK(doc_tree_serialize(b, &sb) == DOC_OK);
    CHECK(sb.len == sa.len && memcmp(sb.data, sa.data, sa.len) == 0);
    CHECK(doc_node_memory(a) == doc_node_memory(b));

    doc_buf_free(&sa);
    doc_buf_free(&sb);
    doc_buf_free(&text);
    doc_node_free(a);
    doc_node_free(b);
    return 0;
}
