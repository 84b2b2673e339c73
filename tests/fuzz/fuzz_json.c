/*
 * fuzz_json.c - libFuzzer target for doc_parse / doc_print / doc_value_equal /
 * doc_value_identical.
 *
 * Any bytes either fail cleanly (BADJSON with a byte offset no larger than
 * the input, or TOODEEP) or parse to a value whose compact print parses back
 * to an equal value that prints to the very same bytes. Any violation traps.
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
    doc_node *a, *b;
    doc_error err;
    doc_buf pa, pb;

    doc_error_clear(&err);
    a = doc_parse((const char *)data, size, DOC_DEPTH_DEFAULT, &err);
    if (!a) {
        CHECK(err.code == DOC_BADJSON || err.code == DOC_TOODEEP);
        CHECK(err.code != DOC_BADJSON || (err.has_offset && err.offset <= size));
        CHECK(strchr(err.msg, '\n') == NULL && err.msg[0] != '\0');
        return 0;
    }
    CHECK(err.code == DOC_OK);
    doc_buf_init(&pa);
    doc_print(doc_box_value(a), &pa);
    CHECK(!pa.oom);

    b = doc_parse(pa.data, pa.len, DOC_DEPTH_DEFAULT, &err);
    CHECK(b != NULL);
    CHECK(doc_value_equal(doc_box_value(a), doc_box_value(b)));
    CHECK(doc_value_equal(doc_box_value(b), doc_box_value(a)));
    /* Print then parse gives the same text: identical, both ways. */
    CHECK(doc_value_identical(doc_box_value(a), doc_box_value(b)));
    CHECK(doc_value_identical(doc_box_value(b), doc_box_value(a)));
    doc_buf_init(&pb);
    doc_print(doc_box_value(b), &pb);
    CHECK(!pb.oom && pb.len == pa.len && memcmp(pb.data, pa.data, pa.len) == 0);

    doc_buf_free(&pa);
    doc_buf_free(&pb);
    doc_node_free(a);
    doc_node_free(b);
    return 0;
}
