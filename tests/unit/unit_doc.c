/*
 * unit_doc.c - see unit_doc.h.
 */
#include "unit_doc.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

doc_node *parse_ok(const char *json) {
    doc_error err;
    doc_error_clear(&err);
    doc_node *box = doc_parse(json, strlen(json), DOC_DEPTH_DEFAULT, &err);
    cr_assert(box, "parse failed: %s (%s)", err.msg, json);
    return box;
}

char *box_text(const doc_node *box) {
    doc_buf b;
    doc_buf_init(&b);
    doc_print(doc_box_value(box), &b);
    cr_assert(!b.oom, "out of memory printing");
    char *s = strdup(doc_buf_cstr(&b));
    doc_buf_free(&b);
    return s;
}

doc_path *path_ok(const char *text) {
    doc_error err;
    doc_error_clear(&err);
    doc_path *p = NULL;
    cr_assert_eq(doc_path_compile(text, strlen(text), 128, &p, &err), DOC_OK, "path %s: %s", text, err.msg);
    return p;
}

const char *array_text(doc_buf *t, int n, const char *fmt) {
    doc_buf_init(t);
    doc_buf_putc(t, '[');
    for (int i = 0; i < n; i++) {
        char item[128];
        int len = snprintf(item, sizeof item, fmt, i);
        cr_assert(len > 0 && (size_t)len < sizeof item);
        if (i) doc_buf_putc(t, ',');
        doc_buf_append(t, item, (size_t)len);
    }
    doc_buf_putc(t, ']');
    return doc_buf_cstr(t);
}
