/*
 * format.c - pretty printing of compact JSON text, as RedisJSON's JSON.GET
 * INDENT / NEWLINE / SPACE do: after every opening bracket and comma a
 * newline and one indent per open container, a newline and the outer indent
 * before a closing bracket, the space after every ':'; empty containers
 * stay `{}` and `[]`. One pass over text doc_print wrote (valid, compact,
 * strings escaped), so it only has to skip strings.
 */
#include "doc.h"

static void newline(doc_buf *out, const char *nl, size_t nll, const char *ind, size_t il, size_t depth) {
    doc_buf_append(out, nl, nll);
    for (size_t i = 0; i < depth; i++) doc_buf_append(out, ind, il);
}

void doc_json_format(const char *text, size_t len, const char *indent, size_t il, const char *nl, size_t nll,
                     const char *space, size_t sl, doc_buf *out) {
    size_t depth = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == '"') { /* a string: copied up to its closing quote */
            size_t j = i + 1;
            while (j < len && text[j] != '"') j += text[j] == '\\' ? 2 : 1;
            doc_buf_append(out, text + i, (j < len ? j + 1 : len) - i);
            i = j;
        } else if (c == '{' || c == '[') {
            if (i + 1 < len && (text[i + 1] == '}' || text[i + 1] == ']')) {
                doc_buf_append(out, text + i, 2);
                i++;
            } else {
                doc_buf_putc(out, c);
                newline(out, nl, nll, indent, il, ++depth);
            }
        } else if (c == '}' || c == ']') {
            newline(out, nl, nll, indent, il, --depth);
            doc_buf_putc(out, c);
        } else if (c == ',') {
            doc_buf_putc(out, c);
            newline(out, nl, nll, indent, il, depth);
        } else if (c == ':') {
            doc_buf_putc(out, c);
            doc_buf_append(out, space, sl);
        } else {
            doc_buf_putc(out, c);
        }
    }
}
