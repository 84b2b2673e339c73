/*
 * legacy_path.c - RedisJSON's legacy path dialect, translated to RFC 9535
 * query text so one compiler and one evaluator serve both dialects.
 *
 * A legacy path is what RedisJSON accepted before JSONPath: `.` (the root),
 * `.a.b[0]`, `a.b` (the leading dot is optional), `["k"]`, `[-1]`, and the
 * wildcards and descendants RedisJSON 2 also takes there (`.a[*]`, `..a`,
 * `.*`). The translation is purely textual and linear:
 *
 *     .name / name     ->  ['name']     (any bytes up to the next '.' or '[',
 *                                         quotes and backslashes escaped)
 *     .*               ->  [*]
 *     ..name / ..*     ->  ..['name'] / ..*
 *     [ ... ]          ->  [ ... ]      (copied; the RFC grammar judges it)
 *
 * so `.a-b` and `.1` (names RFC shorthand cannot spell) keep RedisJSON's
 * meaning: members named "a-b" and "1". What a legacy path *means* beyond
 * its matches (first match only, an error when nothing matches) is the
 * command layer's business (cmd_json.c).
 */
#include "doc.h"

#include <string.h>

/* Index just past the bracket that opens at text[i] ('['), skipping quoted
 * strings with their escapes; 0 when it never closes. */
static size_t bracket_end(const char *text, size_t len, size_t i) {
    char quote = 0;
    for (i++; i < len; i++) {
        char c = text[i];
        if (quote) {
            if (c == '\\')
                i++;
            else if (c == quote)
                quote = 0;
        } else if (c == '\'' || c == '"') {
            quote = c;
        } else if (c == ']') {
            return i + 1;
        }
    }
    return 0;
}

/* Appends the selector for the dot name text[i..j): `*` or `['name']`. */
static void put_name(const char *name, size_t n, doc_buf *out) {
    if (n == 1 && name[0] == '*') {
        doc_buf_append(out, "[*]", 3);
        return;
    }
    doc_buf_append(out, "['", 2);
    doc_string_escape(name, n, '\'', out);
    doc_buf_append(out, "']", 2);
}

doc_status doc_legacy_path_to_query(const char *text, size_t len, doc_buf *out, doc_error *err) {
    if (len == 0) return doc_error_at(err, DOC_BADPATH, 0, "empty path");
    doc_buf_putc(out, '$');
    if (len == 1 && text[0] == '.') return DOC_OK;
    size_t i = 0;
    while (i < len) {
        int descend = 0;
        if (text[i] == '[') {
            size_t end = bracket_end(text, len, i);
            if (!end) return doc_error_at(err, DOC_BADPATH, i, "unclosed '['");
            doc_buf_append(out, text + i, end - i);
            i = end;
            continue;
        }
        if (text[i] == '.') {
            i++;
            if (i < len && text[i] == '.') {
                descend = 1;
                i++;
                doc_buf_append(out, "..", 2);
            }
            if (i < len && text[i] == '[') {
                if (!descend) continue; /* `.[...]`: the bracket alone */
                size_t end = bracket_end(text, len, i);
                if (!end) return doc_error_at(err, DOC_BADPATH, i, "unclosed '['");
                doc_buf_append(out, text + i, end - i);
                i = end;
                continue;
            }
        } else if (i > 0) {
            return doc_error_at(err, DOC_BADPATH, i, "expected '.' or '['");
        }
        size_t j = i;
        while (j < len && text[j] != '.' && text[j] != '[') j++;
        if (j == i) return doc_error_at(err, DOC_BADPATH, i, "empty member name");
        if (descend && j - i == 1 && text[i] == '*')
            doc_buf_putc(out, '*');
        else
            put_name(text + i, j - i, out);
        i = j;
    }
    if (out->oom) return doc_error_set(err, DOC_NOMEM, "out of memory");
    return DOC_OK;
}
