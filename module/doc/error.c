/*
 * error.c - status codes, their SPEC code words, and filling a doc_error.
 * The first failure of an operation wins: later doc_error_set calls on an
 * error that is already set change nothing, so deep code can report without
 * checking whether something above it already did.
 */
#include "doc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Indexed by doc_status; the word an error reply starts with. */
static const char *const words[DOC_STATUS_COUNT] = {
    [DOC_OK] = "OK",
    [DOC_ERR] = "ERR",
    [DOC_BADJSON] = "BADJSON",
    [DOC_BADPATH] = "BADPATH",
    [DOC_NOPATH] = "NOPATH",
    [DOC_BADTYPE] = "BADTYPE",
    [DOC_OVERFLOW] = "OVERFLOW",
    [DOC_TOODEEP] = "TOODEEP",
    [DOC_BADFILTER] = "BADFILTER",
    [DOC_ABORTED] = "ABORTED",
    [DOC_TOOBIG] = "TOOBIG",
    [DOC_NOMEM] = "OOM",
    [DOC_WRONGTYPE] = "WRONGTYPE",
    [DOC_SYNTAX] = "SYNTAX",
    [DOC_BADUPDATE] = "BADUPDATE",
};

const char *doc_status_word(doc_status st) { return st < DOC_STATUS_COUNT ? words[st] : "ERR"; }

static doc_status fill(doc_error *err, doc_status code, int has_offset, size_t offset, const char *fmt,
                       va_list ap) {
    if (!err || err->code) return err ? err->code : code;
    err->code = code;
    err->has_offset = has_offset;
    err->offset = offset;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    /* One line: a message never carries a newline into a Redis reply. */
    for (char *p = err->msg; *p; p++)
        if (*p == '\r' || *p == '\n') *p = ' ';
    return code;
}

doc_status doc_error_set(doc_error *err, doc_status code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    doc_status st = fill(err, code, 0, 0, fmt, ap);
    va_end(ap);
    return st;
}

doc_status doc_error_at(doc_error *err, doc_status code, size_t offset, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    doc_status st = fill(err, code, 1, offset, fmt, ap);
    va_end(ap);
    return st;
}
