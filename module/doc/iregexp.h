/*
 * iregexp.h - I-Regexp (RFC 9485) matching for the JSONPath functions
 * match() and search() (query.c). Internal to module/doc/.
 *
 * A pattern compiles to a small NFA program that runs in time linear in the
 * text (Thompson / Pike simulation over code points): no backtracking, so a
 * hostile pattern from a document cannot stall the server. The compiled
 * program is immutable; any number of matches may run on it.
 */
#ifndef ATOMICDOC_IREGEXP_H
#define ATOMICDOC_IREGEXP_H

#include <stddef.h>

typedef struct doc_iregexp doc_iregexp;

/* Outcome of doc_iregexp_compile. */
typedef enum doc_iregexp_status {
    DOC_IREGEXP_OK = 0,     /* *out is the compiled pattern */
    DOC_IREGEXP_INVALID,    /* not an I-Regexp, or past a size limit (see iregexp.c) */
    DOC_IREGEXP_NOMEM       /* allocation failed */
} doc_iregexp_status;

/* Compiles pat[0..len) (UTF-8). On failure *out is NULL. */
doc_iregexp_status doc_iregexp_compile(const char *pat, size_t len, doc_iregexp **out);
void doc_iregexp_free(doc_iregexp *re);

/* Matches text s[0..len) (UTF-8): whole = 1 asks whether all of s matches
 * (match()), whole = 0 whether some substring does (search()). Returns 1 on
 * a match, 0 on none, -1 when scratch memory could not be allocated. */
int doc_iregexp_exec(const doc_iregexp *re, const char *s, size_t len, int whole);

#endif
