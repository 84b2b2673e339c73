/*
 * path.c - compiling single paths into segment lists, and printing them back.
 *
 * Two syntaxes, told apart by the first byte:
 *
 *   JSONPath (text starts with '$'): the RFC 9535 grammar, restricted to
 *   single paths: `$`, `.name` (member-name-shorthand), `["k"]` / `['k']`
 *   (name selectors with the RFC's string escapes) and `[3]` / `[-1]` (index
 *   selectors). Blank space (space, tab, LF, CR) is allowed where the RFC
 *   allows it: before a segment and around a bracket's contents, not after
 *   the last segment. Query constructs (`*`, `..`, slices, unions, filters)
 *   are BADPATH "query paths are not supported here" at the construct.
 *   Strictness follows the RFC: `$.a.0` is BADPATH (use `$.a[0]`), `\'` is
 *   only an escape inside '...' and `\"` only inside "...", indexes have no
 *   leading zeros and no "-0".
 *
 *   Dot style (anything else): segments separated by '.', with an optional
 *   leading '.'; "." alone is the root. A segment is any non-empty run of
 *   bytes other than '.', '[', ']', '"' and '\'': there are no escapes or
 *   blank space rules (" a" keeps its space), and brackets and quotes are
 *   BADPATH with a hint (`a[0]` means an index to whoever writes it: use
 *   `$.a[0]`, or `$["a[0]"]` for a name holding them). A segment that is a canonical non-negative decimal ("0", or digits
 *   not starting with '0') no larger than PATH_INDEX_MAX is DOC_SEG_DOTNUM
 *   (an array index, or a member of that name in an object); every other
 *   segment, "01" and "99999999999999999999" included, is DOC_SEG_NAME.
 *
 * Both syntaxes require valid UTF-8 (member names in documents are UTF-8, so a
 * path that is not could never match): invalid bytes are BADPATH. Offsets in
 * errors count characters (code points) from the start of the text, and point
 * at the offending character, or at the end of the text when it ended early.
 *
 * Compiling makes two passes over the text with the same scanner: the first
 * validates and counts segments and decoded name bytes, failing with TOODEEP
 * as soon as the count passes max_segments, before anything is allocated; the
 * second, which cannot fail, fills exactly sized storage. A compiled doc_path
 * is one doc_malloc block (the struct, then segs and text; those two NULL for
 * the root); doc_path_free() also frees segs and text allocated apart, so
 * other code may still build one by hand.
 *
 * Printing always writes JSONPath in canonical form, `$["a"][0]`, which
 * compiles back to the same NAME and INDEX segments. A DOTNUM segment prints
 * as the index `[3]`: it cannot print as both readings, and the index is the
 * reading a numeric dot segment usually means (`items.0`); a caller that knows
 * the segment resolved to an object member must print that member itself.
 */
#include "doc.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

/* Largest index magnitude. RFC 9535 (2.1) makes integers outside the I-JSON
 * range [-(2^53)+1, 2^53-1] an error; no array can get near it anyway (nodes
 * count children in 32 bits), so nothing is lost by refusing the rest. */
#define PATH_INDEX_MAX INT64_C(9007199254740991)

/* One pass over the path text. In the counting pass `segs` is NULL and only
 * nseg / nbytes move; in the filling pass they double as write positions. */
typedef struct scanner {
    const char *s;       /* the path text */
    size_t len;          /* its length in bytes */
    size_t pos;          /* byte offset of the next unread byte */
    size_t max_segments; /* more segments than this is TOODEEP */
    size_t nseg;         /* segments found so far */
    size_t nbytes;       /* decoded name bytes found so far */
    doc_seg *segs;       /* filling pass: nseg entries to fill; NULL when counting */
    char *text;          /* filling pass: nbytes bytes for the decoded names */
    doc_error *err;      /* where the first failure goes */
} scanner;

/* ------------------------------------------------------------------ */
/* Characters                                                         */
/* ------------------------------------------------------------------ */

/* Character offset of byte offset `at` (the text before it is valid UTF-8, or
 * at least is counted as if it were: every non-continuation byte starts one). */
static size_t char_offset(const char *s, size_t at) {
    size_t i, n = 0;

    for (i = 0; i < at; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) n++;
    return n;
}

/* RFC 9535 blank space: B = %x20 / %x09 / %x0A / %x0D. */
static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* RFC 9535 name-first: ALPHA / "_" / any non-ASCII scalar value. */
static int is_name_first(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (unsigned char)c >= 0x80;
}

/* ------------------------------------------------------------------ */
/* Scanner helpers                                                    */
/* ------------------------------------------------------------------ */

/* BADPATH at byte offset `at`, reported as a character offset. */
static doc_status fail(scanner *sc, size_t at, const char *msg) {
    doc_error_at(sc->err, DOC_BADPATH, char_offset(sc->s, at), "%s", msg);
    return DOC_BADPATH;
}

static doc_status fail_query(scanner *sc, size_t at) {
    return fail(sc, at, "query paths are not supported here");
}

/* The whole text must be UTF-8 before any other check runs, so that later
 * code may step over multi-byte characters without checking them again. */
static doc_status check_utf8(scanner *sc) {
    const unsigned char *p = (const unsigned char *)sc->s;
    size_t i = 0, n;
    uint32_t cp;

    while (i < sc->len) {
        n = doc_utf8_decode(p + i, sc->len - i, &cp);
        if (n == 0) return fail(sc, i, "invalid UTF-8");
        i += n;
    }
    return DOC_OK;
}

static void skip_blanks(scanner *sc) {
    while (sc->pos < sc->len && is_blank(sc->s[sc->pos])) sc->pos++;
}

/* Called before each segment is scanned: refuses the one past the limit. */
static doc_status seg_room(scanner *sc) {
    if (sc->nseg < sc->max_segments) return DOC_OK;
    doc_error_set(sc->err, DOC_TOODEEP, "path has more than %zu segments", sc->max_segments);
    return DOC_TOODEEP;
}

/* Appends decoded name bytes (filling pass only writes). */
static void put(scanner *sc, const char *p, size_t n) {
    if (sc->segs) memcpy(sc->text + sc->nbytes, p, n);
    sc->nbytes += n;
}

/* Records a segment. Names were put() just before: they are the bytes from
 * name_start to the current end of the decoded text. */
static void add_seg(scanner *sc, doc_seg_kind kind, size_t name_start, int64_t index) {
    if (sc->segs) {
        doc_seg *g = &sc->segs[sc->nseg];

        g->kind = kind;
        g->index = index;
        if (kind == DOC_SEG_INDEX) {
            g->name = NULL;
            g->len = 0;
        } else {
            g->name = sc->text + name_start;
            g->len = sc->nbytes - name_start;
        }
    }
    sc->nseg++;
}

/* ------------------------------------------------------------------ */
/* JSONPath                                                           */
/* ------------------------------------------------------------------ */

/* put() for the string literal decoder. */
static void put_piece(void *ctx, const char *p, size_t n) { put(ctx, p, n); }

/* A string literal at sc->pos (on its quote); its decoded bytes are put(). */
static doc_status scan_string(scanner *sc) {
    size_t at;
    const char *msg;

    if (doc_string_literal_decode(sc->s, sc->len, &sc->pos, put_piece, sc, &at, &msg))
        return fail(sc, at, msg);
    return DOC_OK;
}

/* An RFC 9535 int at sc->pos: "0" / ["-"] DIGIT1 *DIGIT, within the I-JSON range. */
static doc_status scan_int(scanner *sc, int64_t *out) {
    size_t start = sc->pos;
    int neg = 0;
    int64_t v = 0, d;

    if (sc->s[sc->pos] == '-') {
        neg = 1;
        sc->pos++;
    }
    if (sc->pos == sc->len || !is_digit(sc->s[sc->pos])) return fail(sc, sc->pos, "expected a digit");
    if (sc->s[sc->pos] == '0' && (neg || (sc->pos + 1 < sc->len && is_digit(sc->s[sc->pos + 1]))))
        return fail(sc, start, "an index cannot be -0 or have leading zeros");
    while (sc->pos < sc->len && is_digit(sc->s[sc->pos])) {
        d = sc->s[sc->pos] - '0';
        if (v > (PATH_INDEX_MAX - d) / 10) return fail(sc, start, "index out of range");
        v = v * 10 + d;
        sc->pos++;
    }
    *out = neg ? -v : v;
    return DOC_OK;
}

/* A bracketed selection at sc->pos (on the '['): one name or one index. */
static doc_status scan_bracket(scanner *sc) {
    size_t name_start = sc->nbytes;
    doc_seg_kind kind;
    doc_status st;
    int64_t index = 0;
    char c;

    sc->pos++;
    skip_blanks(sc);
    if (sc->pos == sc->len) return fail(sc, sc->pos, "expected a name or an index");
    c = sc->s[sc->pos];
    if (c == '"' || c == '\'') {
        if ((st = seg_room(sc)) || (st = scan_string(sc))) return st;
        kind = DOC_SEG_NAME;
    } else if (c == '-' || is_digit(c)) {
        if ((st = seg_room(sc)) || (st = scan_int(sc, &index))) return st;
        kind = DOC_SEG_INDEX;
    } else if (c == '*' || c == '?' || c == ':') {
        return fail_query(sc, sc->pos);
    } else {
        return fail(sc, sc->pos, "expected a name or an index");
    }
    skip_blanks(sc);
    if (sc->pos < sc->len) {
        c = sc->s[sc->pos];
        if (c == ']') {
            sc->pos++;
            add_seg(sc, kind, name_start, index);
            return DOC_OK;
        }
        if (c == ',' || (c == ':' && kind == DOC_SEG_INDEX)) return fail_query(sc, sc->pos);
    }
    return fail(sc, sc->pos, "expected ']'");
}

/* A member-name-shorthand after '.', at sc->pos. */
static doc_status scan_shorthand(scanner *sc) {
    size_t start = sc->pos, name_start = sc->nbytes;
    doc_status st;
    char c;

    if (sc->pos == sc->len) return fail(sc, sc->pos, "expected a member name after '.'");
    c = sc->s[sc->pos];
    if (c == '*' || c == '.') return fail_query(sc, sc->pos); /* `..` descendants: at the 2nd dot */
    if (is_digit(c)) return fail(sc, sc->pos, "a member name after '.' cannot start with a digit");
    if (!is_name_first(c)) return fail(sc, sc->pos, "expected a member name after '.'");
    if ((st = seg_room(sc))) return st;
    /* Multi-byte characters are all name characters, so walking bytes is enough:
     * check_utf8() guarantees the run ends on a character boundary. */
    while (sc->pos < sc->len && (is_name_first(sc->s[sc->pos]) || is_digit(sc->s[sc->pos]))) sc->pos++;
    put(sc, sc->s + start, sc->pos - start);
    add_seg(sc, DOC_SEG_NAME, name_start, 0);
    return DOC_OK;
}

static doc_status scan_jsonpath(scanner *sc) {
    size_t blanks;
    doc_status st;
    char c;

    sc->pos = 1; /* past the '$' */
    for (;;) {
        blanks = sc->pos;
        skip_blanks(sc);
        if (sc->pos == sc->len) {
            if (sc->pos != blanks) return fail(sc, blanks, "blank space after the end of the path");
            return DOC_OK;
        }
        c = sc->s[sc->pos];
        if (c == '.') {
            sc->pos++;
            st = scan_shorthand(sc);
        } else if (c == '[') {
            st = scan_bracket(sc);
        } else {
            st = fail(sc, sc->pos, "expected '.' or '['");
        }
        if (st) return st;
    }
}

/* ------------------------------------------------------------------ */
/* Dot style                                                          */
/* ------------------------------------------------------------------ */

/* Brackets and quotes have no meaning in dot style, and a RedisJSON or
 * JavaScript user who writes `.a[0]` or `a["b"]` means an index or a quoted
 * name, never a member called "a[0]": BADPATH at the first of them, with the
 * JSONPath spelling when it is a bracket (`$.a[0]`). Names that do contain
 * these characters are written in JSONPath (`$["a[0]"]`). */
static doc_status dot_refuse(scanner *sc, size_t start, size_t end) {
    size_t i;
    const char *lead;

    for (i = start; i < end; i++)
        if (sc->s[i] == '[' || sc->s[i] == ']' || sc->s[i] == '"' || sc->s[i] == '\'') break;
    if (i == end) return DOC_OK;
    if (sc->s[i] != '[' || sc->len > 80) {
        doc_error_at(sc->err, DOC_BADPATH, char_offset(sc->s, i),
                     "'%c' in a dot-style path: names with brackets or quotes need JSONPath "
                     "($[\"name\"])",
                     sc->s[i]);
        return DOC_BADPATH;
    }
    lead = sc->s[0] == '.' ? "$" : "$.";
    doc_error_at(sc->err, DOC_BADPATH, char_offset(sc->s, i),
                 "'[' in a dot-style path: indexes need JSONPath, e.g. %s%.*s", lead, (int)sc->len, sc->s);
    return DOC_BADPATH;
}

static doc_status scan_dot(scanner *sc) {
    const char *dot;
    size_t start, end, name_start;
    int64_t index;
    doc_status st;

    sc->pos = 0;
    if (sc->s[0] == '.') {
        sc->pos = 1;
        if (sc->len == 1) return DOC_OK; /* "." is the root */
    }
    for (;;) {
        start = sc->pos;
        dot = memchr(sc->s + start, '.', sc->len - start);
        end = dot ? (size_t)(dot - sc->s) : sc->len;
        if (end == start) return fail(sc, start, "empty path segment");
        if ((st = dot_refuse(sc, start, end))) return st;
        if ((st = seg_room(sc))) return st;
        name_start = sc->nbytes;
        put(sc, sc->s + start, end - start);
        index = doc_decimal_index(sc->s + start, end - start, PATH_INDEX_MAX);
        if (index < 0)
            add_seg(sc, DOC_SEG_NAME, name_start, 0);
        else
            add_seg(sc, DOC_SEG_DOTNUM, name_start, index);
        if (end == sc->len) return DOC_OK;
        sc->pos = end + 1;
    }
}

/* ------------------------------------------------------------------ */
/* Public API                                                         */
/* ------------------------------------------------------------------ */

static doc_status scan(scanner *sc) {
    sc->nseg = 0;
    sc->nbytes = 0;
    return sc->s[0] == '$' ? scan_jsonpath(sc) : scan_dot(sc);
}

static doc_status nomem(doc_error *err) {
    doc_error_set(err, DOC_NOMEM, "out of memory compiling a path");
    return DOC_NOMEM;
}

/* On failure *out is NULL and err says why; nothing is left allocated. */
doc_status doc_path_compile(const char *text, size_t len, size_t max_segments, doc_path **out,
                            doc_error *err) {
    scanner sc;
    doc_path *p;
    doc_status st;
    size_t nseg, nbytes;

    *out = NULL;
    if (len == 0) {
        doc_error_at(err, DOC_BADPATH, 0, "empty path");
        return DOC_BADPATH;
    }
    memset(&sc, 0, sizeof sc);
    sc.s = text;
    sc.len = len;
    sc.max_segments = max_segments;
    sc.err = err;
    if ((st = check_utf8(&sc)) || (st = scan(&sc))) return st;
    nseg = sc.nseg;
    nbytes = sc.nbytes;

    /* One allocation: the struct, then the segments, then the names (a
     * compiled path is made on every command, so this is a hot path).
     * nseg and nbytes are at most len, so the sum cannot wrap in practice;
     * checked all the same. The +1 keeps empty names pointing somewhere. */
    if (nseg > (SIZE_MAX - sizeof *p) / sizeof(doc_seg) / 2 || nbytes > SIZE_MAX / 2) return nomem(err);
    p = doc_malloc(sizeof *p + nseg * sizeof(doc_seg) + nbytes + 1);
    if (!p) return nomem(err);
    p->nseg = nseg;
    p->segs = NULL;
    p->text = NULL;
    p->refs = 0;
    if (nseg > 0) {
        p->segs = (doc_seg *)(void *)(p + 1);
        p->text = (char *)(p->segs + nseg);
        sc.segs = p->segs;
        sc.text = p->text;
        st = scan(&sc);
        assert(st == DOC_OK && sc.nseg == nseg && sc.nbytes == nbytes);
        (void)st;
        p->text[nbytes] = '\0';
    }
    *out = p;
    return DOC_OK;
}

doc_path *doc_path_ref(doc_path *p) {
    p->refs++;
    return p;
}

void doc_path_free(doc_path *p) {
    if (!p) return;
    if (p->refs) {
        p->refs--;
        return;
    }
    /* Compiled paths hold segs and text in their own block; a path built
     * by hand may have them allocated apart. */
    char *block_end = (char *)(p + 1) + p->nseg * sizeof(doc_seg);
    if (p->segs && (void *)p->segs != (void *)(p + 1)) doc_free(p->segs);
    if (p->text && p->text != block_end) doc_free(p->text);
    doc_free(p);
}

/* Appends name as the body of a double-quoted RFC 9535 string literal. */
static void print_name(const char *name, size_t len, doc_buf *out) { doc_string_escape(name, len, '"', out); }

void doc_path_print(const doc_path *p, size_t n, doc_buf *out) {
    char num[32];
    size_t i;

    if (n > p->nseg) n = p->nseg;
    doc_buf_putc(out, '$');
    for (i = 0; i < n; i++) {
        const doc_seg *g = &p->segs[i];

        doc_buf_putc(out, '[');
        if (g->kind == DOC_SEG_NAME) {
            doc_buf_putc(out, '"');
            print_name(g->name, g->len, out);
            doc_buf_putc(out, '"');
        } else {
            doc_buf_append(out, num, doc_format_int(g->index, num));
        }
        doc_buf_putc(out, ']');
    }
}
