/*
 * unit_doc.h - documents and paths for the unit tests, made or the test
 * fails (a Criterion assertion with the parser's or compiler's message).
 */
#ifndef ATOMICDOC_UNIT_DOC_H
#define ATOMICDOC_UNIT_DOC_H

#include "doc.h"

/* doc_parse of a NUL-terminated JSON text at the default max-depth. */
doc_node *parse_ok(const char *json);
/* The compact JSON text of a box's value, malloc'd. */
char *box_text(const doc_node *box);
/* doc_path_compile of a NUL-terminated path at max-depth 128. */
doc_path *path_ok(const char *text);
/* The JSON array text [item(0),item(1),...,item(n-1)] in t (initialized
 * here; the caller frees it), item(i) being fmt with one %d printed with i:
 * array_text(&t, 3, "\"u%d\"") is ["u0","u1","u2"]. Returns the text. */
const char *array_text(doc_buf *t, int n, const char *fmt);

#endif
