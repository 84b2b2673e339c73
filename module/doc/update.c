/*
 * update.c - MongoDB update documents: compiling {"$set": {...}, "$inc":
 * {...}, ...} with array filters, and applying it to a document through
 * cursors and the undo log.
 *
 * Compiling
 * ---------
 * The update and the array filters are deep-copied into the compiled form
 * (every operand and path name points into those copies, never into the
 * caller's bytes). Each `path: operand` member of each operator becomes one
 * uop. Paths are MongoDB dotted paths: segments split at '.', none empty; a
 * canonical decimal segment ("0", "12", at most UINT32_MAX) indexes an array
 * or names a member of an object (doc.h's DOC_SEG_DOTNUM); `$[]` is every
 * element of the array there, `$[id]` every element matching array filter
 * `id`; the plain `$` is refused (it needs the query's first match, which a
 * filter does not report), and so is any other segment starting with '$'.
 * Then, before anything is applied, two paths where one equals or is a
 * dotted prefix of the other conflict (MongoDB's rule; positional segments
 * are compared as their literal text, so `a.$[]` and `a.0` do not conflict
 * although they may reach the same element - their effects then apply in
 * update order). Finding them sorts the path texts with '.' ranked below
 * every other byte: a path and its dotted extensions are then adjacent.
 *
 * Array filters
 * -------------
 * An array filter binds one identifier: its keys are `id` or `id.field`
 * (also inside top-level $and/$or/$nor). It is compiled unchanged, and an
 * element matches it when the filter matches the object {"id": element} - a
 * wrapper made of the element's encoding without copying its children, so
 * `{"id": {"$gt": 2}}` tests the element itself and `{"id.qty": ...}` its
 * member, with the filter language's array rules (filter.c) either way.
 *
 * Applying
 * --------
 * Operators apply in the order the update lists them (MongoDB orders fields
 * lexicographically; without conflicts the result is the same). Each uop
 * walks its path from the root with a fresh cursor; positional segments
 * fan out over the elements, depth first, with a stack of (segment, array
 * depth, next element) - one entry per positional segment, never recursion.
 * An edit below a positional array never changes that array's length
 * (elements are set, never removed, by every operator at or below them), so
 * the cursor's frames above the edit stay valid as doc.h promises, and the
 * walk steps back up to the array to take its next element. When the
 * positional segment is the path's last and the op replaces values ($set,
 * $setOnInsert, $unset, $inc, $mul, $min, $max), the array is rewritten once
 * instead (rewrite_elements, doc_edit_rewrite): one edit per element would
 * move the rest of the array each time, O(n^2) over a large array.
 *
 * Creating ops ($set $setOnInsert $inc $mul $min $max $push $addToSet) make
 * missing members as objects along the way and pad arrays with nulls up to
 * an index past their end (at most UPDATE_PAD_MAX nulls); the others treat
 * a missing path, or a path through a scalar, as a no-op. The array under a
 * positional segment must exist (NOPATH) and be an array (BADTYPE), for
 * every operator, and nothing is created before a positional segment.
 * The function may have edited the document when it fails: the caller rolls
 * the undo log back (doc.h). Writes that would store the same JSON text are
 * skipped, and edits whose net effect is nothing are reverted at the end
 * (doc_undo_settle), so `changed` reports real changes only.
 *
 * Orders: $min/$max compare numbers with numbers and strings with strings
 * (bytewise), anything else is BADTYPE (MongoDB orders across BSON types).
 * $push's $sort orders any values: null < numbers < strings < objects <
 * arrays < booleans (BSON's order of these types), numbers numerically,
 * strings bytewise, false < true, objects member by member (the values'
 * types, then key bytes, then values: BSON's order), arrays element by
 * element, a prefix first; missing sort fields
 * count as null. Deep equality ($pull values, $pullAll, $addToSet) is
 * doc_value_equal: 1 == 1.0, object member order ignored.
 */
#include "node.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Most nulls one write may add to pad an array up to an index past its end:
 * MongoDB's own limit, so `$set a.99999999` cannot allocate gigabytes. */
#define UPDATE_PAD_MAX 1500000u
/* Null boxes allocated per padding edit (bounds the temporary array). */
#define UPDATE_PAD_BATCH 512u
/* Bytes of a path quoted in an error message (doc_error.msg is 200). */
#define UPDATE_MSG_PATH 80

/* ------------------------------------------------------------------ */
/* The compiled form                                                  */
/* ------------------------------------------------------------------ */

typedef enum uop_kind {
    UOP_SET,
    UOP_UNSET,
    UOP_INC,
    UOP_MUL,
    UOP_MIN,
    UOP_MAX,
    UOP_RENAME,
    UOP_SET_ON_INSERT,
    UOP_PUSH,
    UOP_POP,
    UOP_PULL,
    UOP_PULL_ALL,
    UOP_ADD_TO_SET
} uop_kind;

/* Operator names, indexed by uop_kind. */
static const char *const uop_names[] = {"$set",  "$unset",   "$inc",         "$mul",  "$min",
                                        "$max",  "$rename",  "$setOnInsert", "$push", "$pop",
                                        "$pull", "$pullAll", "$addToSet"};
#define UOP_COUNT (sizeof uop_names / sizeof uop_names[0])

typedef enum useg_kind {
    USEG_NAME,    /* object member */
    USEG_NUM,     /* canonical decimal: array index or object member */
    USEG_ALL,     /* $[]: every element */
    USEG_FILTERED /* $[id]: elements matching array filter `index` */
} useg_kind;

/* One segment of an update path. */
typedef struct useg {
    useg_kind kind;   /* which fields are meaningful */
    const char *name; /* NAME / NUM: member name bytes (into the update copy) */
    size_t len;       /* NAME / NUM: their length */
    uint32_t index;   /* NUM: the array index; FILTERED: the array filter */
} useg;

/* A dotted update path. */
typedef struct upath {
    const char *text; /* the path as written (into the update copy) */
    size_t len;       /* its length */
    useg *segs;       /* nseg segments (owned) */
    size_t nseg;      /* at least 1 */
    size_t npos;      /* positional ($[] / $[id]) segments among them */
    size_t pos_end;   /* index of the last positional segment + 1; 0: none */
} upath;

/* One `path: operand` of one operator. */
typedef struct uop {
    uop_kind kind;            /* the operator */
    upath path;               /* where it applies */
    upath to;                 /* RENAME: the destination (no positional parts) */
    const uint8_t *arg;       /* the operand (into the update copy); PUSH /
                                 ADD_TO_SET with $each: the array of values */
    int each;                 /* PUSH / ADD_TO_SET: arg is an array of values */
    int has_position;         /* PUSH: $position given */
    int64_t position;         /* PUSH: insert before this index (< 0: from the end) */
    int has_slice;            /* PUSH: $slice given */
    int64_t slice;            /* PUSH: keep first n (>= 0) or last -n (< 0) */
    int sort;                 /* PUSH: 0 no $sort; 1 / -1 by whole value; 2 by sort_spec */
    const uint8_t *sort_spec; /* PUSH, sort == 2: the {"field": 1|-1, ...} object */
    int pop_first;            /* POP: 1 removes the first element, 0 the last */
    doc_filter *cond;         /* PULL: compiled condition (matched with
                                 doc_filter_match_element); NULL: equality with arg */
} uop;

/* One array filter, binding identifier id. */
typedef struct afilter {
    const char *id;     /* the identifier (into the filters copy) */
    size_t idlen;       /* its length */
    doc_filter *filter; /* the filter, matched against {id: element} */
    int used;           /* some path names $[id] */
} afilter;

struct doc_update {
    doc_node *src;  /* deep copy of the update document */
    doc_node *fsrc; /* deep copy of the array filters, or NULL */
    uop *ops;       /* the operations, in update order */
    size_t nops;    /* how many (their paths are owned, even
                                 the one that failed to compile) */
    afilter *afs;   /* the array filters, in given order */
    size_t nafs;    /* how many compiled */
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                      */
/* ------------------------------------------------------------------ */

static doc_status nomem(doc_error *err) { return doc_error_set(err, DOC_NOMEM, "out of memory"); }

static int is_number_type(doc_type t) { return t == DOC_INT || t == DOC_DOUBLE; }

static doc_type type_of(const uint8_t *v) {
    doc_view view;
    doc_value_decode(v, &view);
    return view.type;
}

/* "a" or "an", for the type name of v in messages. */
static const char *type_article(const uint8_t *v) {
    const char *name = doc_type_name(type_of(v));
    return strchr("aeiou", name[0]) ? "an" : "a";
}

static uint32_t count_of(const uint8_t *container) {
    doc_view v;
    doc_value_decode(container, &v);
    return doc_node_count(v.node);
}

/* The integer value of a number that is integral (1, 2.0), or 0. */
static int integral(const uint8_t *v, int64_t *out) {
    doc_view view;
    doc_value_decode(v, &view);
    if (view.type == DOC_INT) {
        *out = view.i;
        return 1;
    }
    if (view.type == DOC_DOUBLE && view.d == trunc(view.d) && view.d >= -9223372036854775808.0 &&
        view.d < 9223372036854775808.0) {
        *out = (int64_t)view.d;
        return 1;
    }
    return 0;
}

/* A length of s[0..n) cut to at most max bytes without splitting a UTF-8
 * character, for quoting user text in messages ("%.*s"). */
static int clip(const char *s, size_t n, size_t max) {
    if (n <= max) return (int)n;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80) max--;
    return (int)max;
}

/* Sets err to "<op> <path>: <message>", the path cut at UPDATE_MSG_PATH. */
static doc_status fail_at(doc_error *err, doc_status code, const char *opname, const char *path, size_t plen,
                          const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static doc_status fail_at(doc_error *err, doc_status code, const char *opname, const char *path, size_t plen,
                          const char *fmt, ...) {
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return doc_error_set(err, code, "%s %.*s%s: %s", opname, clip(path, plen, UPDATE_MSG_PATH), path,
                         plen > UPDATE_MSG_PATH ? "..." : "", msg);
}

#define FAIL_OP(err, code, op, p, ...) \
    fail_at((err), (code), uop_names[(op)->kind], (p)->text, (p)->len, __VA_ARGS__)

/* ------------------------------------------------------------------ */
/* Paths                                                              */
/* ------------------------------------------------------------------ */

/* MongoDB: an identifier starts with a lowercase letter and is alphanumeric. */
static int ident_valid(const char *s, size_t n) {
    if (n == 0 || !(s[0] >= 'a' && s[0] <= 'z')) return 0;
    for (size_t i = 1; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))) return 0;
    }
    return 1;
}

static void path_free(upath *p) {
    doc_free(p->segs);
    p->segs = NULL;
    p->nseg = 0;
}

/* The segment g (g->name, g->len) of path text[0..len) starts with '$': it
 * is $[] or $[id] when positional_ok (ids are looked up in u's filters,
 * marking them used); anything else is an error. */
static doc_status seg_positional(doc_update *u, const char *opname, const char *text, size_t len,
                                 int positional_ok, useg *g, doc_error *err) {
    const char *s = g->name;
    size_t n = g->len;
    if (n == 1)
        return fail_at(err, DOC_ERR, opname, text, len,
                       "the $ positional operator is not supported; use $[id]");
    if (n < 3 || s[1] != '[' || s[n - 1] != ']')
        return fail_at(err, DOC_ERR, opname, text, len, "field names cannot start with '$' (%.*s)",
                       clip(s, n, 40), s);
    if (!positional_ok)
        return fail_at(err, DOC_ERR, opname, text, len, "positional operators are not allowed here");
    if (n == 3) {
        g->kind = USEG_ALL;
        return DOC_OK;
    }
    const char *id = s + 2;
    size_t idlen = n - 3, f = 0;
    if (!ident_valid(id, idlen))
        return fail_at(err, DOC_ERR, opname, text, len,
                       "bad identifier in %.*s: it starts with a lowercase letter and is alphanumeric",
                       clip(s, n, 40), s);
    while (f < u->nafs && !(u->afs[f].idlen == idlen && !memcmp(u->afs[f].id, id, idlen))) f++;
    if (f == u->nafs)
        return fail_at(err, DOC_ERR, opname, text, len, "no array filter for identifier '%.*s'",
                       clip(id, idlen, 40), id);
    u->afs[f].used = 1;
    g->kind = USEG_FILTERED;
    g->index = (uint32_t)f;
    g->name = id;
    g->len = idlen;
    return DOC_OK;
}

/* Compiles dotted path text[0..len) for operator opname. positional_ok: $[]
 * and $[id] allowed (ids are looked up in u's filters, marking them used).
 * On failure *out holds no allocation. */
static doc_status path_parse(const char *text, size_t len, uint32_t max_depth, int positional_ok,
                             doc_update *u, const char *opname, upath *out, doc_error *err) {
    memset(out, 0, sizeof *out);
    out->text = text;
    out->len = len;
    if (len == 0) return fail_at(err, DOC_ERR, opname, "''", 2, "empty path");
    size_t nseg = 1;
    for (size_t i = 0; i < len; i++) nseg += text[i] == '.';
    if (nseg > max_depth)
        return fail_at(err, DOC_TOODEEP, opname, text, len, "path has more than %u segments",
                       (unsigned)max_depth);
    useg *segs = doc_malloc(nseg * sizeof *segs);
    if (!segs) return nomem(err);
    size_t start = 0, k = 0;
    doc_status st = DOC_OK;
    while (!st && k < nseg) {
        const char *dot = memchr(text + start, '.', len - start);
        size_t end = dot ? (size_t)(dot - text) : len;
        const char *s = text + start;
        size_t n = end - start;
        useg *g = &segs[k];
        g->name = s;
        g->len = n;
        g->index = 0;
        if (n == 0) {
            st = fail_at(err, DOC_ERR, opname, text, len, "empty field name in the path");
        } else if (s[0] == '$') {
            st = seg_positional(u, opname, text, len, positional_ok, g, err);
            if (!st) {
                out->npos++;
                out->pos_end = k + 1;
            }
        } else {
            /* Past what a 32-bit element count reaches it is just a name. */
            int64_t num = doc_decimal_index(s, n, UINT32_MAX);
            g->kind = num >= 0 ? USEG_NUM : USEG_NAME;
            g->index = num >= 0 ? (uint32_t)num : 0;
        }
        start = end + 1;
        k++;
    }
    if (st) {
        doc_free(segs);
        out->npos = out->pos_end = 0;
        return st;
    }
    out->segs = segs;
    out->nseg = nseg;
    return DOC_OK;
}

/* ------------------------------------------------------------------ */
/* Compiling                                                          */
/* ------------------------------------------------------------------ */

void doc_update_free(doc_update *u) {
    if (!u) return;
    for (size_t i = 0; i < u->nops; i++) {
        path_free(&u->ops[i].path);
        path_free(&u->ops[i].to);
        doc_filter_free(u->ops[i].cond);
    }
    doc_free(u->ops);
    for (size_t i = 0; i < u->nafs; i++) doc_filter_free(u->afs[i].filter);
    doc_free(u->afs);
    doc_node_free(u->src);
    doc_node_free(u->fsrc);
    doc_free(u);
}

static int key_is(const char *k, size_t kl, const char *lit) {
    return kl == strlen(lit) && memcmp(k, lit, kl) == 0;
}

static int is_logic_key(const char *k, size_t kl) {
    return key_is(k, kl, "$and") || key_is(k, kl, "$or") || key_is(k, kl, "$nor");
}

/* Finds the identifier array filter number i binds: the part before the
 * first '.' of every field key, at the top level and inside $and/$or/$nor
 * (walked with a heap work list, not recursion). */
static doc_status afilter_ident(const uint8_t *f, size_t i, const char **id, size_t *idlen, doc_error *err) {
    doc_buf work; /* object nodes still to scan */
    doc_buf_init(&work);
    *id = NULL;
    *idlen = 0;
    doc_node *root = NULL;
    doc_view v;
    doc_value_decode(f, &v);
    root = v.node;
    doc_buf_append(&work, &root, sizeof root);
    doc_status st = DOC_OK;
    while (!st && !work.oom && work.len) {
        doc_node *n;
        work.len -= sizeof n;
        memcpy(&n, work.data + work.len, sizeof n);
        doc_iter it;
        const char *k;
        size_t kl;
        const uint8_t *val;
        doc_iter_init(&it, n);
        while (!st && doc_iter_next(&it, &k, &kl, &val, NULL)) {
            if (is_logic_key(k, kl)) {
                /* The filter compiler judges their shape; scan what fits. */
                if (*val != DOC_TAG_ARRAY) continue;
                doc_iter ai;
                const uint8_t *q;
                doc_value_decode(val, &v);
                doc_iter_init(&ai, v.node);
                while (doc_iter_next(&ai, NULL, NULL, &q, NULL)) {
                    if (*q != DOC_TAG_OBJECT) continue;
                    doc_value_decode(q, &v);
                    doc_buf_append(&work, &v.node, sizeof v.node);
                }
                continue;
            }
            const char *dot = memchr(k, '.', kl);
            size_t il = dot ? (size_t)(dot - k) : kl;
            if (!ident_valid(k, il)) {
                st = doc_error_set(err, DOC_BADFILTER,
                                   "arrayFilters[%zu]: key '%.*s' must start with an identifier "
                                   "(a lowercase letter, then letters and digits)",
                                   i, clip(k, kl, 40), k);
            } else if (*id && (il != *idlen || memcmp(k, *id, il))) {
                st = doc_error_set(
                    err, DOC_BADFILTER,
                    "arrayFilters[%zu]: one filter binds one identifier, found '%.*s' and '%.*s'", i,
                    clip(*id, *idlen, 40), *id, clip(k, il, 40), k);
            } else {
                *id = k;
                *idlen = il;
            }
        }
    }
    if (!st && work.oom) st = nomem(err);
    if (!st && !*id)
        st = doc_error_set(
            err, DOC_BADFILTER,
            "arrayFilters[%zu]: a filter needs a key naming its identifier (\"x\" or \"x.field\")", i);
    doc_buf_free(&work);
    return st;
}

static doc_status compile_filters(doc_update *u, const uint8_t *array_filters, uint32_t max_depth,
                                  doc_error *err) {
    doc_view v;
    doc_value_decode(array_filters, &v);
    if (v.type != DOC_ARRAY)
        return doc_error_set(err, DOC_BADFILTER, "arrayFilters must be an array of filter objects, not %s",
                             doc_type_name(v.type));
    u->fsrc = doc_value_copy(array_filters);
    if (!u->fsrc) return nomem(err);
    doc_value_decode(doc_box_value(u->fsrc), &v);
    uint32_t n = doc_node_count(v.node);
    if (n) {
        u->afs = doc_malloc(n * sizeof *u->afs);
        if (!u->afs) return nomem(err);
    }
    doc_iter it;
    const uint8_t *f;
    doc_iter_init(&it, v.node);
    for (size_t i = 0; doc_iter_next(&it, NULL, NULL, &f, NULL); i++) {
        if (*f != DOC_TAG_OBJECT)
            return doc_error_set(err, DOC_BADFILTER, "arrayFilters[%zu] must be an object, not %s", i,
                                 doc_type_name(type_of(f)));
        afilter *a = &u->afs[u->nafs];
        if (afilter_ident(f, i, &a->id, &a->idlen, err)) return err->code;
        for (size_t j = 0; j < u->nafs; j++)
            if (u->afs[j].idlen == a->idlen && !memcmp(u->afs[j].id, a->id, a->idlen))
                return doc_error_set(err, DOC_BADFILTER,
                                     "arrayFilters[%zu]: identifier '%.*s' is bound twice", i,
                                     clip(a->id, a->idlen, 40), a->id);
        doc_error fe;
        doc_error_clear(&fe);
        a->filter = NULL;
        a->used = 0;
        if (doc_filter_compile(f, max_depth, &a->filter, &fe))
            return doc_error_set(err, fe.code, "arrayFilters[%zu]: %s", i, fe.msg);
        u->nafs++;
    }
    return DOC_OK;
}

/* $push's operand: a value, or {"$each": [...], "$position": i, "$slice":
 * n, "$sort": s}. */
static doc_status compile_push(uop *op, const uint8_t *val, doc_error *err) {
    op->arg = val;
    if (*val != DOC_TAG_OBJECT) return DOC_OK;
    doc_view v;
    doc_value_decode(val, &v);
    int dollar = 0;
    doc_iter it;
    const char *k;
    size_t kl;
    const uint8_t *m;
    doc_iter_init(&it, v.node);
    while (doc_iter_next(&it, &k, &kl, &m, NULL)) dollar |= kl && k[0] == '$';
    if (!dollar) return DOC_OK; /* a plain object to push */
    const uint8_t *each = doc_object_get(v.node, "$each", 5, NULL, NULL);
    const char *what = op->kind == UOP_PUSH ? "$push" : "$addToSet";
    if (!each) return FAIL_OP(err, DOC_ERR, op, &op->path, "%s modifiers need $each", what);
    if (*each != DOC_TAG_ARRAY)
        return FAIL_OP(err, DOC_ERR, op, &op->path, "$each needs an array, not %s",
                       doc_type_name(type_of(each)));
    op->each = 1;
    op->arg = each;
    doc_iter_init(&it, v.node);
    while (doc_iter_next(&it, &k, &kl, &m, NULL)) {
        int64_t n;
        if (key_is(k, kl, "$each")) continue;
        if (op->kind == UOP_PUSH && key_is(k, kl, "$position")) {
            if (!integral(m, &n)) return FAIL_OP(err, DOC_ERR, op, &op->path, "$position needs an integer");
            op->has_position = 1;
            op->position = n;
        } else if (op->kind == UOP_PUSH && key_is(k, kl, "$slice")) {
            if (!integral(m, &n)) return FAIL_OP(err, DOC_ERR, op, &op->path, "$slice needs an integer");
            op->has_slice = 1;
            op->slice = n;
        } else if (op->kind == UOP_PUSH && key_is(k, kl, "$sort")) {
            if (integral(m, &n)) {
                if (n != 1 && n != -1) return FAIL_OP(err, DOC_ERR, op, &op->path, "$sort takes 1 or -1");
                op->sort = (int)n;
            } else if (*m == DOC_TAG_OBJECT && count_of(m) > 0) {
                doc_view sv;
                doc_iter si;
                const char *sk;
                size_t skl;
                const uint8_t *sd;
                doc_value_decode(m, &sv);
                doc_iter_init(&si, sv.node);
                while (doc_iter_next(&si, &sk, &skl, &sd, NULL)) {
                    if (!integral(sd, &n) || (n != 1 && n != -1))
                        return FAIL_OP(err, DOC_ERR, op, &op->path, "$sort fields take 1 or -1");
                    int empty_seg = skl == 0 || sk[0] == '.' || sk[skl - 1] == '.';
                    for (size_t i = 0; i + 1 < skl && !empty_seg; i++)
                        empty_seg = sk[i] == '.' && sk[i + 1] == '.';
                    if (empty_seg)
                        return FAIL_OP(err, DOC_ERR, op, &op->path, "$sort field names cannot be empty");
                }
                op->sort = 2;
                op->sort_spec = m;
            } else {
                return FAIL_OP(err, DOC_ERR, op, &op->path,
                               "$sort takes 1, -1 or a non-empty {\"field\": 1|-1} object");
            }
        } else {
            return FAIL_OP(err, DOC_ERR, op, &op->path, "unknown %s modifier %.*s", what, clip(k, kl, 40), k);
        }
    }
    return DOC_OK;
}

/* $pull's operand: a condition object (a filter on each element), or a
 * value (deep equality). */
static doc_status compile_pull(uop *op, const uint8_t *val, uint32_t max_depth, doc_error *err) {
    op->arg = val;
    if (*val != DOC_TAG_OBJECT) return DOC_OK;
    doc_error fe;
    doc_error_clear(&fe);
    if (doc_filter_compile(val, max_depth, &op->cond, &fe))
        return FAIL_OP(err, fe.code, op, &op->path, "%s", fe.msg);
    return DOC_OK;
}

/* One `path: operand` member of operator `kind`. */
static doc_status compile_op(doc_update *u, uop *op, uop_kind kind, const char *key, size_t klen,
                             const uint8_t *val, uint32_t max_depth, doc_error *err) {
    memset(op, 0, sizeof *op);
    op->kind = kind;
    op->arg = val;
    if (path_parse(key, klen, max_depth, kind != UOP_RENAME, u, uop_names[kind], &op->path, err))
        return err->code;
    doc_view v;
    doc_value_decode(val, &v);
    int64_t n;
    switch (kind) {
    case UOP_INC:
    case UOP_MUL:
        if (!is_number_type(v.type))
            return FAIL_OP(err, DOC_ERR, op, &op->path, "needs a number, not %s", doc_type_name(v.type));
        return DOC_OK;
    case UOP_RENAME:
        if (v.type != DOC_STRING)
            return FAIL_OP(err, DOC_ERR, op, &op->path, "the new name must be a string, not %s",
                           doc_type_name(v.type));
        if (path_parse(v.s, v.slen, max_depth, 0, u, "$rename", &op->to, err)) return err->code;
        if (v.slen == klen && !memcmp(v.s, key, klen))
            return FAIL_OP(err, DOC_ERR, op, &op->path, "the source and the target must differ");
        return DOC_OK;
    case UOP_PUSH:
    case UOP_ADD_TO_SET: return compile_push(op, val, err);
    case UOP_POP:
        if (!integral(val, &n) || (n != 1 && n != -1))
            return FAIL_OP(err, DOC_ERR, op, &op->path, "takes 1 (last) or -1 (first)");
        op->pop_first = n == -1;
        return DOC_OK;
    case UOP_PULL: return compile_pull(op, val, max_depth, err);
    case UOP_PULL_ALL:
        if (v.type != DOC_ARRAY)
            return FAIL_OP(err, DOC_ERR, op, &op->path, "needs an array, not %s", doc_type_name(v.type));
        return DOC_OK;
    default: return DOC_OK;
    }
}

/* A path as it takes part in conflict detection. */
typedef struct pathref {
    const char *text; /* the path as written */
    size_t len;       /* its length */
} pathref;

/* Byte order with '.' below every other byte: a path is then directly
 * followed by its dotted extensions ("a", "a.b", "a!"). */
static int pathref_cmp(const void *pa, const void *pb) {
    const pathref *a = pa, *b = pb;
    size_t n = a->len < b->len ? a->len : b->len;
    for (size_t i = 0; i < n; i++) {
        int x = a->text[i] == '.' ? 0 : (unsigned char)a->text[i] + 1;
        int y = b->text[i] == '.' ? 0 : (unsigned char)b->text[i] + 1;
        if (x != y) return x < y ? -1 : 1;
    }
    return (a->len > b->len) - (a->len < b->len);
}

static doc_status check_conflicts(const doc_update *u, doc_error *err) {
    size_t n = 0;
    for (size_t i = 0; i < u->nops; i++) n += u->ops[i].kind == UOP_RENAME ? 2 : 1;
    pathref *refs = doc_malloc(n * sizeof *refs);
    if (!refs) return nomem(err);
    n = 0;
    for (size_t i = 0; i < u->nops; i++) {
        refs[n].text = u->ops[i].path.text;
        refs[n++].len = u->ops[i].path.len;
        if (u->ops[i].kind == UOP_RENAME) {
            refs[n].text = u->ops[i].to.text;
            refs[n++].len = u->ops[i].to.len;
        }
    }
    qsort(refs, n, sizeof *refs, pathref_cmp);
    doc_status st = DOC_OK;
    for (size_t i = 0; i + 1 < n && !st; i++) {
        const pathref *a = &refs[i], *b = &refs[i + 1];
        if (b->len >= a->len && !memcmp(a->text, b->text, a->len) &&
            (b->len == a->len || b->text[a->len] == '.')) {
            size_t half = UPDATE_MSG_PATH / 2;
            st = doc_error_set(err, DOC_ERR, "conflicting paths %.*s%s and %.*s%s",
                               clip(a->text, a->len, half), a->text, a->len > half ? "..." : "",
                               clip(b->text, b->len, half), b->text, b->len > half ? "..." : "");
        }
    }
    doc_free(refs);
    return st;
}

doc_status doc_update_compile(const uint8_t *update, const uint8_t *array_filters, uint32_t max_depth,
                              doc_update **out, doc_error *err) {
    *out = NULL;
    if (max_depth == 0) max_depth = 1;
    if (max_depth > DOC_DEPTH_LIMIT) max_depth = DOC_DEPTH_LIMIT;
    doc_view v;
    doc_value_decode(update, &v);
    if (v.type != DOC_OBJECT)
        return doc_error_set(err, DOC_ERR, "an update must be an object of operators, not %s",
                             doc_type_name(v.type));
    if (doc_node_count(v.node) == 0)
        return doc_error_set(err, DOC_ERR, "empty update: give at least one operator ($set, $inc, ...)");
    doc_update *u = doc_malloc(sizeof *u);
    if (!u) return nomem(err);
    memset(u, 0, sizeof *u);
    doc_status st = DOC_OK;
    u->src = doc_value_copy(update);
    if (!u->src) st = nomem(err);
    if (!st && array_filters) st = compile_filters(u, array_filters, max_depth, err);

    /* Pass 1: every key an operator, every operand an object; count ops. */
    size_t total = 0;
    doc_iter it;
    const char *k;
    size_t kl;
    const uint8_t *operand;
    if (!st) {
        doc_value_decode(doc_box_value(u->src), &v);
        doc_iter_init(&it, v.node);
    }
    while (!st && doc_iter_next(&it, &k, &kl, &operand, NULL)) {
        if (!kl || k[0] != '$') {
            st = doc_error_set(err, DOC_ERR,
                               "update keys must be operators ($set, $inc, ...), found '%.*s' "
                               "(DOC.SET replaces documents)",
                               clip(k, kl, 40), k);
            break;
        }
        size_t kind = 0;
        while (kind < UOP_COUNT && !key_is(k, kl, uop_names[kind])) kind++;
        if (kind == UOP_COUNT) {
            st = doc_error_set(err, DOC_ERR, "unknown update operator %.*s", clip(k, kl, 40), k);
        } else if (*operand != DOC_TAG_OBJECT) {
            st = doc_error_set(err, DOC_ERR, "%s needs an object of {path: value}, not %s", uop_names[kind],
                               doc_type_name(type_of(operand)));
        } else {
            total += count_of(operand);
        }
    }
    if (!st && total) {
        u->ops = doc_malloc(total * sizeof *u->ops);
        if (!u->ops) st = nomem(err);
    }

    /* Pass 2: compile each path: operand. */
    if (!st) doc_iter_init(&it, v.node);
    while (!st && doc_iter_next(&it, &k, &kl, &operand, NULL)) {
        uop_kind kind = 0;
        while (!key_is(k, kl, uop_names[kind])) kind++;
        doc_view ov;
        doc_iter oi;
        const char *pk;
        size_t pkl;
        const uint8_t *pv;
        doc_value_decode(operand, &ov);
        doc_iter_init(&oi, ov.node);
        while (!st && doc_iter_next(&oi, &pk, &pkl, &pv, NULL)) {
            st = compile_op(u, &u->ops[u->nops], kind, pk, pkl, pv, max_depth, err);
            u->nops++; /* counted even on failure: its parts are freed below */
        }
    }
    for (size_t i = 0; !st && i < u->nafs; i++)
        if (!u->afs[i].used)
            st = doc_error_set(err, DOC_ERR,
                               "the array filter for identifier '%.*s' is not used in the update",
                               clip(u->afs[i].id, u->afs[i].idlen, 40), u->afs[i].id);
    if (!st && u->nops) st = check_conflicts(u, err);
    if (st) {
        doc_update_free(u);
        return st;
    }
    *out = u;
    return DOC_OK;
}

/* ------------------------------------------------------------------ */
/* Sorting values ($push $sort, in compare.c's BSON order)           */
/* ------------------------------------------------------------------ */

/* State of one $sort: the op and the work space its comparisons share. */
typedef struct sorter {
    const uop *op;   /* sort and sort_spec */
    doc_order order; /* doc_compare_bson's work list; order.oom abandons the sort */
} sorter;

/* The value at dotted `path` inside v (members of objects, canonical
 * indexes of arrays), or NULL. */
static const uint8_t *field_get(const uint8_t *v, const char *path, size_t plen) {
    size_t start = 0;
    for (;;) {
        const char *dot = memchr(path + start, '.', plen - start);
        size_t end = dot ? (size_t)(dot - path) : plen;
        doc_view view;
        doc_value_decode(v, &view);
        if (view.type == DOC_OBJECT) {
            v = doc_object_get(view.node, path + start, end - start, NULL, NULL);
        } else if (view.type == DOC_ARRAY) {
            int64_t i = doc_decimal_index(path + start, end - start, UINT32_MAX);
            v = i >= 0 ? doc_array_get(view.node, (uint32_t)i, NULL) : NULL;
        } else {
            v = NULL;
        }
        if (!v || !dot) return v;
        start = end + 1;
    }
}

static int sort_cmp(sorter *s, const uint8_t *a, const uint8_t *b) {
    if (s->op->sort != 2) return s->op->sort * doc_compare_bson(&s->order, a, b);
    static const uint8_t null_enc = DOC_TAG_NULL;
    doc_view spec;
    doc_iter it;
    const char *k;
    size_t kl;
    const uint8_t *dir;
    doc_value_decode(s->op->sort_spec, &spec);
    doc_iter_init(&it, spec.node);
    while (doc_iter_next(&it, &k, &kl, &dir, NULL)) {
        const uint8_t *fa = field_get(a, k, kl), *fb = field_get(b, k, kl);
        int64_t d = 1;
        integral(dir, &d);
        int r = doc_compare_bson(&s->order, fa ? fa : &null_enc, fb ? fb : &null_enc);
        if (r) return d < 0 ? -r : r;
    }
    return 0;
}

/* Stable bottom-up merge sort of n value pointers. 0 ok, -1 out of memory. */
static int sort_values(sorter *s, const uint8_t **v, size_t n) {
    if (n < 2) return 0;
    const uint8_t **tmp = doc_malloc(n * sizeof *tmp);
    if (!tmp) return -1;
    for (size_t width = 1; width < n && !s->order.oom; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = mid + width < n ? mid + width : n;
            size_t i = lo, j = mid, o = lo;
            while (i < mid && j < hi) tmp[o++] = sort_cmp(s, v[j], v[i]) < 0 ? v[j++] : v[i++];
            while (i < mid) tmp[o++] = v[i++];
            while (j < hi) tmp[o++] = v[j++];
        }
        memcpy(v, tmp, n * sizeof *v);
    }
    doc_free(tmp);
    return s->order.oom ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* Applying                                                           */
/* ------------------------------------------------------------------ */

/* Where a walk ended. */
typedef enum target_state {
    T_FOUND,  /* the cursor is at the value */
    T_MEMBER, /* the cursor is `missing` the member (doc.h) */
    T_SLOT,   /* the cursor is at an array; the target is index `slot` past its end */
    T_ABSENT  /* nothing there, and this op does not create */
} target_state;

/* One positional segment being fanned out. */
typedef struct pos_frame {
    size_t seg;    /* index of the positional segment */
    size_t depth;  /* cursor depth with the array as target */
    uint32_t next; /* next element to consider */
} pos_frame;

/* State of one doc_update_apply or doc_update_seed call. */
typedef struct apply_ctx {
    const doc_update *u; /* the update (array filters) */
    doc_undo *undo;      /* where every edit is logged */
    doc_error *err;      /* first failure */
    doc_cursor c;        /* the one cursor, re-walked from the root per op */
} apply_ctx;

static int op_creates(uop_kind k) {
    return k == UOP_SET || k == UOP_SET_ON_INSERT || k == UOP_INC || k == UOP_MUL || k == UOP_MIN ||
           k == UOP_MAX || k == UOP_PUSH || k == UOP_ADD_TO_SET;
}

/* 1 when element el matches array filter af, 0 when not, -1 out of memory.
 * The filter sees {"id": el}: a one-member object whose value bytes are
 * el's own encoding, child pointers included, freed as a shell only.
 * *wrap: NULL, or such an object from an earlier call, reused (its value
 * spliced; made anew for another identifier) and kept for the next call:
 * one allocation per fan-out, not per element. The caller frees it with
 * doc_box_free_shell (its child pointer is borrowed). */
static int afilter_match_reuse(const afilter *af, const uint8_t *el, doc_node **wrap) {
    if (*wrap) {
        /* Made for another identifier (another positional of the path): anew. */
        const char *k;
        size_t kl;
        doc_key_decode(doc_node_bytes(*wrap), &k, &kl);
        if (kl != af->idlen || memcmp(k, af->id, kl)) {
            doc_box_free_shell(*wrap);
            *wrap = NULL;
        }
    }
    if (!*wrap) {
        uint8_t h[DOC_VARINT_MAX];
        size_t hl = doc_varint_put(h, af->idlen);
        size_t vlen = doc_value_size(el);
        if (vlen > DOC_NODE_MAX_BYTES - hl - af->idlen) return -1;
        doc_buf b;
        doc_buf_init(&b);
        doc_buf_append(&b, h, hl);
        doc_buf_append(&b, af->id, af->idlen);
        doc_buf_append(&b, el, vlen);
        *wrap =
            b.oom ? NULL : doc_node_make(DOC_KIND_OBJECT, (const uint8_t *)b.data, (uint32_t)b.len, 1, NULL);
        doc_buf_free(&b);
        if (!*wrap) return -1;
    } else {
        const char *k;
        size_t kl;
        uint32_t voff = (uint32_t)doc_key_decode(doc_node_bytes(*wrap), &k, &kl);
        uint32_t vlen = doc_node_len(*wrap) - voff;
        if (doc_node_splice(wrap, voff, vlen, el, (uint32_t)doc_value_size(el), 0, 0)) return -1;
    }
    uint8_t enc[1 + sizeof(doc_node *)];
    enc[0] = DOC_TAG_OBJECT;
    value_set_child(enc, *wrap);
    return doc_filter_match(af->filter, enc);
}

/* Writes box (consumed) at index slot of the array at the cursor, first
 * padding the array with nulls up to slot. The cursor stays at the array. */
static doc_status slot_put(apply_ctx *x, const uop *op, const upath *p, uint32_t slot, doc_node *box) {
    uint32_t n = count_of(doc_cursor_value(&x->c));
    if (slot - n > UPDATE_PAD_MAX) {
        doc_node_free(box);
        return FAIL_OP(x->err, DOC_TOOBIG, op, p, "cannot pad an array with more than %u nulls",
                       UPDATE_PAD_MAX);
    }
    doc_node *pads[UPDATE_PAD_BATCH];
    while (n < slot) {
        uint32_t m = slot - n < UPDATE_PAD_BATCH ? slot - n : UPDATE_PAD_BATCH;
        for (uint32_t i = 0; i < m; i++) {
            pads[i] = doc_box_null();
            if (!pads[i]) {
                while (i) doc_node_free(pads[--i]);
                doc_node_free(box);
                return nomem(x->err);
            }
        }
        if (doc_edit_insert_many_take(&x->c, n, pads, m, x->undo, x->err)) {
            doc_node_free(box);
            return x->err->code;
        }
        n += m;
    }
    return doc_edit_insert_take(&x->c, slot, box, x->undo, x->err);
}

/* Makes the cursor's target (or its missing member) an empty object. */
static doc_status set_empty_object(apply_ctx *x) {
    doc_node *box = doc_box_empty(DOC_OBJECT);
    if (!box) return nomem(x->err);
    return doc_edit_set_take(&x->c, box, x->undo, x->err);
}

/* Stores box (consumed) at the walk's target. */
static doc_status put_box(apply_ctx *x, const uop *op, const upath *p, target_state state, uint32_t slot,
                          doc_node *box) {
    if (!box) return nomem(x->err);
    if (state == T_SLOT) return slot_put(x, op, p, slot, box);
    return doc_edit_set_take(&x->c, box, x->undo, x->err);
}

/* Stores a deep copy of v at the target; an existing identical value is
 * left alone (no edit, so no change is reported). */
static doc_status put_copy(apply_ctx *x, const uop *op, const upath *p, target_state state, uint32_t slot,
                           const uint8_t *v) {
    if (state == T_FOUND && doc_value_identical(doc_cursor_value(&x->c), v)) return DOC_OK;
    return put_box(x, op, p, state, slot, doc_value_copy(v));
}

/* Walks segments from *k until a positional segment or the end; *k is then
 * that segment, or p->nseg when a target was reached (T_FOUND, T_MEMBER,
 * T_SLOT). */
static doc_status descend(apply_ctx *x, const uop *op, const upath *p, size_t *k, target_state *state,
                          uint32_t *slot) {
    doc_cursor *c = &x->c;
    int creates = op_creates(op->kind);
    *state = T_FOUND;
    for (; *k < p->nseg; (*k)++) {
        const useg *s = &p->segs[*k];
        if (s->kind == USEG_ALL || s->kind == USEG_FILTERED) return DOC_OK;
        int last = *k + 1 == p->nseg;
        int ahead = *k + 1 < p->pos_end; /* a positional segment follows */
        int may_create = creates && *k >= p->pos_end;
        const uint8_t *v = doc_cursor_value(c);
        doc_error probe;
        doc_error_clear(&probe);
        if (*v == DOC_TAG_OBJECT) {
            doc_seg ds = {DOC_SEG_NAME, s->name, s->len, 0};
            if (doc_cursor_down(c, &ds, &probe) == DOC_OK) continue;
            if (probe.code != DOC_NOPATH) return doc_error_set(x->err, probe.code, "%s", probe.msg);
            if (last) {
                *state = T_MEMBER;
                *k = p->nseg;
                return DOC_OK;
            }
            if (ahead)
                return FAIL_OP(x->err, DOC_NOPATH, op, p,
                               "'%.*s' is missing: the array of a positional operator must exist",
                               clip(s->name, s->len, 40), s->name);
            if (!may_create) {
                doc_cursor_up(c, c->depth);
                *state = T_ABSENT;
                return DOC_OK;
            }
            if (set_empty_object(x)) return x->err->code;
            continue;
        }
        if (*v == DOC_TAG_ARRAY && s->kind == USEG_NUM) {
            if (s->index < count_of(v)) {
                doc_seg ds = {DOC_SEG_INDEX, NULL, 0, s->index};
                if (doc_cursor_down(c, &ds, x->err)) return x->err->code;
                continue;
            }
            if (last) {
                *state = T_SLOT;
                *slot = s->index;
                *k = p->nseg;
                return DOC_OK;
            }
            if (ahead)
                return FAIL_OP(x->err, DOC_NOPATH, op, p,
                               "index %u is missing: the array of a positional operator must exist",
                               s->index);
            if (!may_create) {
                *state = T_ABSENT;
                return DOC_OK;
            }
            doc_node *obj = doc_box_empty(DOC_OBJECT);
            if (!obj) return nomem(x->err);
            if (slot_put(x, op, p, s->index, obj)) return x->err->code;
            doc_seg ds = {DOC_SEG_INDEX, NULL, 0, s->index};
            if (doc_cursor_down(c, &ds, x->err)) return x->err->code;
            continue;
        }
        /* A scalar, or a member name asked of an array. */
        if (ahead || may_create || (creates && last))
            return FAIL_OP(x->err, DOC_BADTYPE, op, p, "cannot %s field '%.*s' in %s %s",
                           ahead ? "reach" : "create", clip(s->name, s->len, 40), s->name, type_article(v),
                           doc_type_name(type_of(v)));
        *state = T_ABSENT;
        return DOC_OK;
    }
    return DOC_OK;
}

/* Ops that replace a value found at their target by a value computed from
 * it (a positional array is rewritten at once for these: run_op). */
static int op_replaces(uop_kind k) {
    return k == UOP_SET || k == UOP_SET_ON_INSERT || k == UOP_UNSET || k == UOP_INC || k == UOP_MUL ||
           k == UOP_MIN || k == UOP_MAX;
}

/* What an op_replaces op makes of the value cur it found. $unset comes
 * here for array elements only (they become null; a member is removed). */
typedef struct new_value {
    int keep;             /* 1: cur stays as it is (nothing else is set) */
    const uint8_t *bytes; /* else: the new value's encoding ... */
    size_t len;           /* ... of len bytes: into enc, the update copy or box */
    doc_node *box;        /* a deep copy made for a container operand (the
                              caller's), or NULL */
    uint8_t enc[16];      /* a computed number, or null */
} new_value;

/* The one rule of these ops for a value that is there; per element and per
 * path alike. Errors as the op reports them. */
static doc_status replace_value(apply_ctx *x, const uop *op, const uint8_t *cur, new_value *nv) {
    doc_view arg, cv, r;
    int ok;
    nv->keep = 0;
    nv->box = NULL;
    switch (op->kind) {
    case UOP_SET:
    case UOP_SET_ON_INSERT:
        if (doc_value_identical(cur, op->arg)) {
            nv->keep = 1;
            return DOC_OK;
        }
        if (*op->arg == DOC_TAG_OBJECT || *op->arg == DOC_TAG_ARRAY) {
            /* The copy's children go to the document; its shell is the caller's. */
            if (!(nv->box = doc_value_copy(op->arg))) return nomem(x->err);
            nv->bytes = doc_box_value(nv->box);
        } else {
            nv->bytes = op->arg;
        }
        nv->len = doc_value_size(nv->bytes);
        return DOC_OK;
    case UOP_UNSET:
        nv->enc[0] = DOC_TAG_NULL;
        nv->bytes = nv->enc;
        nv->len = 1;
        return DOC_OK;
    case UOP_INC:
    case UOP_MUL: {
        int mul = op->kind == UOP_MUL;
        doc_value_decode(op->arg, &arg);
        doc_value_decode(cur, &cv);
        if (!is_number_type(cv.type))
            return FAIL_OP(x->err, DOC_BADTYPE, op, &op->path, "cannot %s %s", mul ? "multiply" : "increment",
                           doc_type_phrase(cv.type));
        if (doc_number_arith(mul ? DOC_ARITH_MUL : DOC_ARITH_ADD, &cv, &arg, &r))
            return FAIL_OP(x->err, DOC_OVERFLOW, op, &op->path, "%s",
                           r.type == DOC_DOUBLE ? "the result is not finite" : "integer overflow");
        nv->len = doc_encode_number(nv->enc, &r);
        nv->bytes = nv->enc;
        return DOC_OK;
    }
    default: { /* UOP_MIN, UOP_MAX */
        doc_value_decode(cur, &cv);
        doc_value_decode(op->arg, &arg);
        int cmp = doc_compare_same_type(&arg, &cv, &ok);
        if (!ok)
            return FAIL_OP(x->err, DOC_BADTYPE, op, &op->path,
                           "cannot compare %s with %s (numbers "
                           "compare with numbers, strings with strings)",
                           doc_type_name(arg.type), doc_type_name(cv.type));
        /* Comparable: the operand is a number or a string, a scalar. */
        nv->keep = !(op->kind == UOP_MAX ? cmp > 0 : cmp < 0);
        nv->bytes = op->arg;
        nv->len = doc_value_size(op->arg);
        return DOC_OK;
    }
    }
}

/* Applies an op_replaces op to the value at the cursor. */
static doc_status replace_found(apply_ctx *x, const uop *op) {
    new_value nv;
    if (replace_value(x, op, doc_cursor_value(&x->c), &nv)) return x->err->code;
    if (nv.keep) return DOC_OK;
    if (nv.box) return doc_edit_set_take(&x->c, nv.box, x->undo, x->err);
    return doc_edit_set_encoded(&x->c, nv.bytes, nv.len, x->undo, x->err);
}

static doc_status do_arith(apply_ctx *x, const uop *op, target_state state, uint32_t slot) {
    if (state == T_FOUND) return replace_found(x, op);
    /* MongoDB: $inc creates the field as the delta, $mul as a zero of the
     * multiplier's type. */
    if (op->kind == UOP_INC) return put_box(x, op, &op->path, state, slot, doc_value_copy(op->arg));
    doc_view arg;
    doc_value_decode(op->arg, &arg);
    return put_box(x, op, &op->path, state, slot, arg.type == DOC_INT ? doc_box_int(0) : doc_box_double(0.0));
}

static doc_status do_minmax(apply_ctx *x, const uop *op, target_state state, uint32_t slot) {
    if (state == T_FOUND) return replace_found(x, op);
    return put_box(x, op, &op->path, state, slot, doc_value_copy(op->arg));
}

/* The values an op adds: the $each array's elements, or the one operand. */
typedef struct values {
    const uint8_t **v; /* n value pointers (into the update copy) */
    size_t n;
} values;

static doc_status values_of(apply_ctx *x, const uop *op, size_t extra, values *out) {
    size_t n = op->each ? count_of(op->arg) : 1;
    out->n = 0;
    out->v = doc_malloc((n + extra ? n + extra : 1) * sizeof *out->v);
    if (!out->v) return nomem(x->err);
    if (!op->each) {
        out->v[out->n++] = op->arg;
        return DOC_OK;
    }
    doc_view av;
    doc_iter it;
    const uint8_t *e;
    doc_value_decode(op->arg, &av);
    doc_iter_init(&it, av.node);
    while (doc_iter_next(&it, NULL, NULL, &e, NULL)) out->v[out->n++] = e;
    return DOC_OK;
}

/* A new box holding the array of the n values (deep copies). */
static doc_node *array_of(const uint8_t **v, size_t n) {
    doc_builder *b = doc_builder_new(DOC_DEPTH_LIMIT);
    if (!b) return NULL;
    doc_builder_begin_array(b);
    for (size_t i = 0; i < n; i++) doc_builder_copy(b, v[i]);
    doc_builder_end(b);
    doc_node *box = doc_builder_finish(b, NULL);
    doc_builder_free(b);
    return box;
}

/* Boxes (deep copies) of n values, for doc_edit_insert_many_take. */
static doc_node **boxes_of(const uint8_t **v, size_t n) {
    doc_node **boxes = doc_malloc((n ? n : 1) * sizeof *boxes);
    if (!boxes) return NULL;
    for (size_t i = 0; i < n; i++) {
        boxes[i] = doc_value_copy(v[i]);
        if (!boxes[i]) {
            while (i) doc_node_free(boxes[--i]);
            doc_free(boxes);
            return NULL;
        }
    }
    return boxes;
}

/* Inserts copies of v[0..n) before element `at` of the array at the cursor. */
static doc_status insert_copies(apply_ctx *x, uint32_t at, const uint8_t **v, size_t n) {
    if (!n) return DOC_OK;
    doc_node **boxes = boxes_of(v, n);
    if (!boxes) return nomem(x->err);
    doc_status st = doc_edit_insert_many_take(&x->c, at, boxes, n, x->undo, x->err);
    doc_free(boxes);
    return st;
}

static doc_status do_push(apply_ctx *x, const uop *op, target_state state, uint32_t slot) {
    doc_node *arr = NULL;
    uint32_t n = 0;
    if (state == T_FOUND) {
        const uint8_t *cur = doc_cursor_value(&x->c);
        if (*cur != DOC_TAG_ARRAY)
            return FAIL_OP(x->err, DOC_BADTYPE, op, &op->path, "cannot push to %s %s", type_article(cur),
                           doc_type_name(type_of(cur)));
        doc_view av;
        doc_value_decode(cur, &av);
        arr = av.node;
        n = doc_node_count(arr);
    }
    uint32_t pos = op->has_position ? doc_index_clamp(op->position, n) : n;
    values vals;
    if (values_of(x, op, n, &vals)) return x->err->code;
    size_t total = n + vals.n;
    uint64_t from = 0, to = total; /* the range $slice keeps: first n, or last -n */
    if (op->has_slice)
        doc_keep_window(total, op->slice >= 0 ? (uint64_t)op->slice : 0 - (uint64_t)op->slice, op->slice < 0,
                        &from, &to);
    doc_status st = DOC_OK;
    if (state == T_FOUND && !op->sort) {
        /* Cheap edits: one insert, then at most one removal. */
        st = insert_copies(x, pos, vals.v, vals.n);
        if (!st && to < total)
            st = doc_edit_remove_range(&x->c, (uint32_t)to, (uint32_t)(total - to), x->undo, x->err);
        if (!st && from > 0) st = doc_edit_remove_range(&x->c, 0, (uint32_t)from, x->undo, x->err);
        doc_free(vals.v);
        return st;
    }
    /* Build the final array: existing[0..pos) + values + existing[pos..n),
     * sorted, sliced; write it as one value. */
    const uint8_t **all = vals.v; /* room for total pointers */
    memmove(all + pos, all, vals.n * sizeof *all);
    doc_iter it;
    const uint8_t *e;
    uint32_t i = 0;
    if (arr) {
        doc_iter_init(&it, arr);
        while (doc_iter_next(&it, NULL, NULL, &e, NULL)) {
            all[i < pos ? i : i + vals.n] = e;
            i++;
        }
    }
    if (op->sort) {
        sorter s;
        s.op = op;
        doc_order_init(&s.order);
        int r = sort_values(&s, all, total);
        doc_order_free(&s.order);
        if (r) st = nomem(x->err);
    }
    if (!st && arr && to - from == n) {
        /* Unchanged (e.g. an empty $each on a sorted array): no edit. */
        int same = 1;
        doc_iter_init(&it, arr);
        for (size_t j = from; same && doc_iter_next(&it, NULL, NULL, &e, NULL); j++)
            same = doc_value_identical(e, all[j]);
        if (same) {
            doc_free(vals.v);
            return DOC_OK;
        }
    }
    if (!st) st = put_box(x, op, &op->path, state, slot, array_of(all + from, to - from));
    doc_free(vals.v);
    return st;
}

/* $addToSet / $pullAll with at least this many values look them up in a set
 * (doc_valueset) instead of comparing each with each. */
#define SEEN_SET_MIN 8

static doc_status do_add_to_set(apply_ctx *x, const uop *op, target_state state, uint32_t slot) {
    doc_node *arr = NULL;
    if (state == T_FOUND) {
        const uint8_t *cur = doc_cursor_value(&x->c);
        if (*cur != DOC_TAG_ARRAY)
            return FAIL_OP(x->err, DOC_BADTYPE, op, &op->path, "cannot add to %s %s", type_article(cur),
                           doc_type_name(type_of(cur)));
        doc_view av;
        doc_value_decode(cur, &av);
        arr = av.node;
    }
    values vals;
    if (values_of(x, op, 0, &vals)) return x->err->code;
    /* Keep the values neither in the array (doc_array_find: its value hash
     * when large) nor repeated before them (a set when there are many). */
    doc_valueset *seen = vals.n >= SEEN_SET_MIN ? doc_valueset_new(vals.n) : NULL;
    size_t keep = 0;
    for (size_t i = 0; i < vals.n; i++) {
        int dup = 0;
        if (seen)
            dup = doc_valueset_has(seen, vals.v[i]);
        else
            for (size_t j = 0; j < keep && !dup; j++) dup = doc_value_equal(vals.v[i], vals.v[j]);
        if (!dup && arr) dup = doc_array_find(arr, vals.v[i], 0) >= 0;
        if (!dup && seen) doc_valueset_add(seen, vals.v[i]);
        if (!dup) vals.v[keep++] = vals.v[i];
    }
    doc_valueset_free(seen);
    doc_status st;
    if (arr)
        st = insert_copies(x, doc_node_count(arr), vals.v, keep);
    else
        st = put_box(x, op, &op->path, state, slot, array_of(vals.v, keep));
    doc_free(vals.v);
    return st;
}

/* What $pull / $pullAll match elements with: the op, and for $pullAll
 * of many values a set of them. */
typedef struct pull_ctx {
    const uop *op;
    doc_valueset *all;
} pull_ctx;

/* 1 when element el is to be pulled. */
static int pull_match(const pull_ctx *p, const uint8_t *el) {
    const uop *op = p->op;
    if (op->kind == UOP_PULL_ALL) {
        if (p->all) return doc_valueset_has(p->all, el);
        doc_view av;
        doc_iter it;
        const uint8_t *v;
        doc_value_decode(op->arg, &av);
        doc_iter_init(&it, av.node);
        while (doc_iter_next(&it, NULL, NULL, &v, NULL))
            if (doc_value_equal(el, v)) return 1;
        return 0;
    }
    if (op->cond) return doc_filter_match_element(op->cond, el);
    return doc_value_equal(el, op->arg);
}

/* doc_edit_remove_where's predicate: the op's $pull / $pullAll match. */
static int pull_match_el(void *ctx, const uint8_t *el) { return pull_match(ctx, el); }

static doc_status do_pull(apply_ctx *x, const uop *op) {
    const uint8_t *cur = doc_cursor_value(&x->c);
    if (*cur != DOC_TAG_ARRAY)
        return FAIL_OP(x->err, DOC_BADTYPE, op, &op->path, "cannot pull from %s %s", type_article(cur),
                       doc_type_name(type_of(cur)));
    pull_ctx p = {op, NULL};
    if (op->kind == UOP_PULL_ALL) {
        doc_view av;
        doc_value_decode(op->arg, &av);
        uint32_t n = doc_node_count(av.node);
        if (n >= SEEN_SET_MIN && (p.all = doc_valueset_new(n))) {
            doc_iter it;
            const uint8_t *v;
            doc_iter_init(&it, av.node);
            while (doc_iter_next(&it, NULL, NULL, &v, NULL)) doc_valueset_add(p.all, v);
        }
    }
    doc_status st = doc_edit_remove_where(&x->c, pull_match_el, &p, x->undo, NULL, x->err);
    doc_valueset_free(p.all);
    return st;
}

/* Applies op at the target the walk reached. */
static doc_status at_target(apply_ctx *x, const uop *op, target_state state, uint32_t slot) {
    switch (op->kind) {
    case UOP_SET:
    case UOP_SET_ON_INSERT:
        if (state == T_FOUND) return replace_found(x, op);
        return put_copy(x, op, &op->path, state, slot, op->arg);
    case UOP_UNSET: {
        if (state != T_FOUND) return DOC_OK;
        /* MongoDB: an array element is set to null, not removed. */
        if (doc_node_kind(x->c.frames[x->c.depth - 1].node) == DOC_KIND_ARRAY) {
            uint8_t null_enc = DOC_TAG_NULL;
            return doc_edit_set_encoded(&x->c, &null_enc, 1, x->undo, x->err);
        }
        return doc_edit_remove(&x->c, x->undo, x->err);
    }
    case UOP_INC:
    case UOP_MUL: return do_arith(x, op, state, slot);
    case UOP_MIN:
    case UOP_MAX: return do_minmax(x, op, state, slot);
    case UOP_PUSH: return do_push(x, op, state, slot);
    case UOP_ADD_TO_SET: return do_add_to_set(x, op, state, slot);
    case UOP_POP: {
        if (state != T_FOUND) return DOC_OK;
        const uint8_t *cur = doc_cursor_value(&x->c);
        if (*cur != DOC_TAG_ARRAY)
            return FAIL_OP(x->err, DOC_BADTYPE, op, &op->path, "cannot pop from %s %s", type_article(cur),
                           doc_type_name(type_of(cur)));
        uint32_t n = count_of(cur);
        if (!n) return DOC_OK;
        return doc_edit_remove_range(&x->c, op->pop_first ? 0 : n - 1, 1, x->undo, x->err);
    }
    case UOP_PULL:
    case UOP_PULL_ALL: return state == T_FOUND ? do_pull(x, op) : DOC_OK;
    default: return DOC_OK; /* UOP_RENAME: see run_rename */
    }
}

/* Applies op_replaces op to every element of the array at the cursor that
 * positional segment s selects (the path's last), as one rewrite of the
 * array's bytes: O(array) where an edit per element would move the rest of
 * the array each time (O(n^2) when sizes change). Elements are judged in
 * order, as the edits one by one would be, and the first failure is theirs;
 * nothing is written then. Kept elements keep their bytes (and children). */
static doc_status rewrite_elements(apply_ctx *x, const uop *op, const useg *s) {
    doc_view av;
    doc_value_decode(doc_cursor_value(&x->c), &av);
    doc_buf out;   /* the new elements */
    doc_buf boxes; /* doc_node *: copies whose children go into out */
    doc_buf_init(&out);
    doc_buf_init(&boxes);
    doc_status st = DOC_OK;
    int changed = 0;
    doc_node *wrap = NULL; /* the array filter's {"id": element}, reused */
    doc_iter it;
    const uint8_t *el;
    doc_iter_init(&it, av.node);
    while (!st && doc_iter_next(&it, NULL, NULL, &el, NULL)) {
        new_value nv;
        nv.keep = 1;
        nv.box = NULL;
        if (s->kind == USEG_FILTERED) {
            int m = afilter_match_reuse(&x->u->afs[s->index], el, &wrap);
            if (m < 0) st = nomem(x->err);
            if (m <= 0)
                nv.keep = 1;
            else
                st = replace_value(x, op, el, &nv);
        } else {
            st = replace_value(x, op, el, &nv);
        }
        if (st) break;
        if (nv.box) doc_buf_append(&boxes, &nv.box, sizeof nv.box);
        if (nv.keep) {
            doc_buf_append(&out, el, doc_value_size(el));
        } else {
            doc_buf_append(&out, nv.bytes, nv.len);
            changed = 1;
        }
        if (boxes.oom && nv.box) doc_node_free(nv.box); /* not recorded: freed here */
        if (out.oom || boxes.oom) st = nomem(x->err);
    }
    if (!st && changed) st = doc_edit_rewrite(&x->c, (const uint8_t *)out.data, out.len, x->undo, x->err);
    /* Taken: the array holds the copies' children now, the shells go. */
    doc_node **b = (doc_node **)(void *)boxes.data;
    for (size_t i = 0; i < boxes.len / sizeof *b; i++) {
        if (st)
            doc_node_free(b[i]);
        else
            doc_box_free_shell(b[i]);
    }
    doc_buf_free(&boxes);
    doc_buf_free(&out);
    doc_box_free_shell(wrap);
    return st;
}

static doc_status cursor_root(apply_ctx *x) {
    doc_path root = {0, NULL, NULL, 0};
    return doc_resolve(&x->c, &root, x->err);
}

/* Walks op's path, fanning out at positional segments, and applies op at
 * every target. */
static doc_status run_op(apply_ctx *x, const uop *op) {
    const upath *p = &op->path;
    pos_frame *stack = NULL;
    doc_node *wrap = NULL; /* an array filter's {"id": element}, reused */
    size_t top = 0, k = 0;
    if (p->npos && !(stack = doc_malloc(p->npos * sizeof *stack))) return nomem(x->err);
    doc_status st = cursor_root(x);
    while (!st) {
        target_state state;
        uint32_t slot = 0;
        st = descend(x, op, p, &k, &state, &slot);
        if (st) break;
        if (state != T_ABSENT) {
            if (k == p->nseg) {
                st = at_target(x, op, state, slot);
                if (st) break;
            } else {
                const uint8_t *v = doc_cursor_value(&x->c);
                if (*v != DOC_TAG_ARRAY) {
                    st =
                        FAIL_OP(x->err, DOC_BADTYPE, op, p, "a positional operator needs an array, not %s %s",
                                type_article(v), doc_type_name(type_of(v)));
                    break;
                }
                stack[top].seg = k;
                stack[top].depth = x->c.depth;
                stack[top].next = 0;
                top++;
            }
        }
        /* The next element of the innermost positional array, if any. */
        int found = 0;
        while (top && !found && !st) {
            pos_frame *f = &stack[top - 1];
            doc_cursor_up(&x->c, f->depth);
            const uint8_t *arr = doc_cursor_value(&x->c);
            doc_view av;
            doc_value_decode(arr, &av);
            const useg *s = &p->segs[f->seg];
            if (f->seg + 1 == p->nseg && op_replaces(op->kind) && f->next == 0) {
                /* Every element's own value replaced: one rewrite. */
                st = rewrite_elements(x, op, s);
                f->next = UINT32_MAX;
                if (!st) doc_value_decode(doc_cursor_value(&x->c), &av); /* it may have moved */
            }
            while (!st && f->next < doc_node_count(av.node)) {
                uint32_t i = f->next++;
                if (s->kind == USEG_FILTERED) {
                    int m = afilter_match_reuse(&x->u->afs[s->index], doc_array_get(av.node, i, NULL), &wrap);
                    if (m < 0) {
                        st = nomem(x->err);
                        break;
                    }
                    if (!m) continue;
                }
                doc_seg ds = {DOC_SEG_INDEX, NULL, 0, i};
                st = doc_cursor_down(&x->c, &ds, x->err);
                k = f->seg + 1;
                found = 1;
                break;
            }
            if (!found) top--;
        }
        if (!found) break;
    }
    doc_free(stack);
    doc_box_free_shell(wrap);
    return st;
}

/* $rename: a deep copy of the source goes to the destination, then the
 * source is removed (an edit never carries one node in both its old and its
 * new bytes). Neither path may run through an array. */
static doc_status run_rename(apply_ctx *x, const uop *op) {
    doc_cursor *c = &x->c;
    if (cursor_root(x)) return x->err->code;
    for (size_t k = 0; k < op->path.nseg; k++) {
        const uint8_t *v = doc_cursor_value(c);
        if (*v == DOC_TAG_ARRAY)
            return FAIL_OP(x->err, DOC_ERR, op, &op->path, "cannot rename a field inside an array");
        if (*v != DOC_TAG_OBJECT) return DOC_OK; /* nothing to rename */
        doc_error probe;
        doc_error_clear(&probe);
        doc_seg ds = {DOC_SEG_NAME, op->path.segs[k].name, op->path.segs[k].len, 0};
        if (doc_cursor_down(c, &ds, &probe)) {
            if (probe.code != DOC_NOPATH) return doc_error_set(x->err, probe.code, "%s", probe.msg);
            return DOC_OK;
        }
    }
    doc_node *copy = doc_value_copy(doc_cursor_value(c));
    if (!copy) return nomem(x->err);
    if (doc_edit_remove(c, x->undo, x->err)) {
        doc_node_free(copy);
        return x->err->code;
    }
    if (cursor_root(x)) {
        doc_node_free(copy);
        return x->err->code;
    }
    for (size_t k = 0; k < op->to.nseg; k++) {
        const useg *s = &op->to.segs[k];
        const uint8_t *v = doc_cursor_value(c);
        doc_status st = DOC_OK;
        if (*v == DOC_TAG_ARRAY) {
            st = FAIL_OP(x->err, DOC_ERR, op, &op->path, "cannot rename into an array (%.*s)",
                         clip(op->to.text, op->to.len, 40), op->to.text);
        } else if (*v != DOC_TAG_OBJECT) {
            st = FAIL_OP(x->err, DOC_BADTYPE, op, &op->path, "cannot create field '%.*s' in %s %s",
                         clip(s->name, s->len, 40), s->name, type_article(v), doc_type_name(type_of(v)));
        } else {
            doc_error probe;
            doc_error_clear(&probe);
            doc_seg ds = {DOC_SEG_NAME, s->name, s->len, 0};
            if (doc_cursor_down(c, &ds, &probe) && probe.code != DOC_NOPATH)
                st = doc_error_set(x->err, probe.code, "%s", probe.msg);
            else if (c->missing && k + 1 < op->to.nseg)
                st = set_empty_object(x);
        }
        if (st) {
            doc_node_free(copy);
            return st;
        }
    }
    return doc_edit_set_take(c, copy, x->undo, x->err);
}

/* A private log when the caller gave none (*undo NULL): end_log() commits
 * it on success and rolls it back on failure, so the call is all or nothing. */
static doc_status with_log(doc_undo **undo, doc_undo **own, doc_error *err) {
    *own = NULL;
    if (*undo) return DOC_OK;
    *own = doc_undo_new();
    if (!*own) return nomem(err);
    *undo = *own;
    return DOC_OK;
}

static void end_log(doc_undo *own, doc_status st) {
    if (!own) return;
    if (st) doc_undo_rollback(own);
    doc_undo_free(own);
}

/* $unset ops in a row naming at least this many members one object has
 * remove them in one rewrite of the object (doc_edit_remove_members)
 * instead of one removal each, which moves the bytes after each. */
#define UNSET_BULK_MIN 4

/* 1 when ops a and b are $unset of plain paths (no positional segment)
 * with the same parent path. */
static int unset_siblings(const uop *a, const uop *b) {
    const upath *p = &a->path, *q = &b->path;
    if (a->kind != UOP_UNSET || b->kind != UOP_UNSET || p->npos || q->npos || p->nseg != q->nseg) return 0;
    for (size_t i = 0; i + 1 < p->nseg; i++)
        if (p->segs[i].len != q->segs[i].len || memcmp(p->segs[i].name, q->segs[i].name, p->segs[i].len))
            return 0;
    return 1;
}

/* The last segments of a group of sibling $unset ops, sorted by name: what
 * doc_edit_remove_members's predicate looks keys up in. */
typedef struct unset_names {
    const useg **segs;
    size_t n;
} unset_names;

static int seg_name_cmp(const char *a, size_t al, const char *b, size_t bl) {
    int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : (al > bl) - (al < bl);
}

static int seg_sort_cmp(const void *a, const void *b) {
    const useg *x = *(const useg *const *)a, *y = *(const useg *const *)b;
    return seg_name_cmp(x->name, x->len, y->name, y->len);
}

static int unset_names_has(void *ctx, const char *key, size_t klen, const uint8_t *val) {
    (void)val;
    const unset_names *un = ctx;
    size_t lo = 0, hi = un->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = seg_name_cmp(un->segs[mid]->name, un->segs[mid]->len, key, klen);
        if (c == 0) return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* Runs ops[0..n) (sibling $unsets, see unset_siblings): when their parent is
 * an object holding UNSET_BULK_MIN or more of the members they name, in one
 * rewrite; else one by one as always. */
static doc_status run_unset_group(apply_ctx *x, const uop *ops, size_t n) {
    const upath *p = &ops[0].path;
    upath parent = *p;
    parent.nseg--;
    size_t k = 0, present = 0;
    target_state state = T_ABSENT;
    uint32_t slot = 0;
    doc_status st = cursor_root(x);
    if (!st && parent.nseg) st = descend(x, &ops[0], &parent, &k, &state, &slot);
    if (st) return st;
    const uint8_t *v = state == T_FOUND || !parent.nseg ? doc_cursor_value(&x->c) : NULL;
    if (v && *v == DOC_TAG_OBJECT) {
        doc_view ov;
        doc_value_decode(v, &ov);
        for (size_t i = 0; i < n && present < UNSET_BULK_MIN; i++) {
            const useg *last = &ops[i].path.segs[p->nseg - 1];
            present += doc_object_get(ov.node, last->name, last->len, NULL, NULL) != NULL;
        }
    }
    if (present < UNSET_BULK_MIN) {
        for (size_t i = 0; i < n && !st; i++) st = run_op(x, &ops[i]);
        return st;
    }
    unset_names un = {doc_malloc(n * sizeof *un.segs), n};
    if (!un.segs) return nomem(x->err);
    for (size_t i = 0; i < n; i++) un.segs[i] = &ops[i].path.segs[p->nseg - 1];
    qsort(un.segs, n, sizeof *un.segs, seg_sort_cmp);
    st = doc_edit_remove_members(&x->c, unset_names_has, &un, x->undo, NULL, x->err);
    doc_free(un.segs);
    return st;
}

doc_status doc_update_apply(const doc_update *u, doc_node **rootp, int is_insert, doc_undo *undo,
                            int *changed, doc_error *err) {
    doc_undo *own;
    int dummy;
    if (!changed) changed = &dummy;
    *changed = 0;
    if (with_log(&undo, &own, err)) return err->code;
    apply_ctx x = {u, undo, err, {0}};
    doc_cursor_init(&x.c, rootp);
    size_t mark = doc_undo_mark(undo);
    doc_status st = DOC_OK;
    for (size_t i = 0; i < u->nops && !st; i++) {
        const uop *op = &u->ops[i];
        if (op->kind == UOP_SET_ON_INSERT && !is_insert) continue;
        size_t group = 1;
        while (i + group < u->nops && unset_siblings(op, &u->ops[i + group])) group++;
        if (group >= UNSET_BULK_MIN) {
            st = run_unset_group(&x, op, group);
            i += group - 1;
            continue;
        }
        st = op->kind == UOP_RENAME ? run_rename(&x, op) : run_op(&x, op);
    }
    doc_cursor_free(&x.c);
    /* Operators that cancel out (a member set then unset, +1 then -1) leave
     * the document as it was: their edits are reverted, nothing changed. */
    if (!st) doc_undo_settle(undo, mark);
    *changed = !st && doc_undo_mark(undo) != mark;
    end_log(own, st);
    return st;
}

/* ------------------------------------------------------------------ */
/* Upsert seeding                                                     */
/* ------------------------------------------------------------------ */

typedef struct seed_ctx {
    apply_ctx x;   /* cursor, log and error of the seeding */
    doc_status st; /* first failure */
} seed_ctx;

static int seed_one(void *vctx, const char *path, size_t plen, const uint8_t *val) {
    seed_ctx *s = vctx;
    uop op;
    memset(&op, 0, sizeof op);
    op.kind = UOP_SET;
    op.arg = val;
    s->st = path_parse(path, plen, DOC_DEPTH_LIMIT, 0, NULL, "UPSERT filter field", &op.path, s->x.err);
    if (!s->st) s->st = run_op(&s->x, &op);
    path_free(&op.path);
    return s->st != DOC_OK;
}

doc_status doc_update_seed(doc_node **rootp, const doc_filter *f, doc_undo *undo, doc_error *err) {
    doc_undo *own;
    if (with_log(&undo, &own, err)) return err->code;
    seed_ctx s = {{NULL, undo, err, {0}}, DOC_OK};
    doc_cursor_init(&s.x.c, rootp);
    doc_filter_equalities(f, seed_one, &s);
    doc_cursor_free(&s.x.c);
    end_log(own, s.st);
    return s.st;
}
