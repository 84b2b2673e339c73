/*
 * unit_doc.c - see unit_doc.h.
 */
#include "unit_doc.h"

#include <criterion/criterion.h>
#include <string.h>

doc_node *parse_ok(const char *json) {
    doc_error err;
    doc_error_clear(&err);
    doc_node *box = doc_parse(json, strlen(json), DOC_DEPTH_DEFAULT, &err);
    cr_assert(box, "parse failed: %s (%s)", err.msg, json);
    return box;
}

doc_path *path_ok(const char *text) {
    doc_error err;
    doc_error_clear(&err);
    doc_path *p = NULL;
    cr_assert_eq(doc_path_compile(text, strlen(text), 128, &p, &err), DOC_OK, "path %s: %s", text, err.msg);
    return p;
}
