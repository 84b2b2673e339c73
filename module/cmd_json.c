/*
 * cmd_json.c - RedisJSON's JSON.* commands as ops over the same documents,
 * the same core and the same skeleton (command.c) as DOC.*: a key written by
 * JSON.SET is a document DOC.PULL can edit, every change moves its version,
 * replicates verbatim and rolls back whole on error. Every single-key one
 * but JSON.RESP and JSON.DEBUG is also a DOC.TXN op, by its full name (its
 * txn_* fields): inside a TXN it replies, fails and is undone as alone.
 *
 * Paths come in RedisJSON's two dialects. A path starting with '$' is an
 * RFC 9535 query: the reply has one slot per match (nil for a match of the
 * wrong type, [] when nothing matches). Anything else is a legacy path
 * (legacy_path.c translates it to a query): a read replies the first
 * match's answer, and an error when nothing matches or the first match has
 * the wrong type; a write changes every match of the right type, skips the
 * others, and replies the last one's answer (ARRPOP: the first one's), an
 * error when no match has the right type (RedisJSON 8.0's *_legacy
 * functions in redis_json/src/commands.rs). Without a path the default is
 * `.`, for RESP2 and RESP3 clients alike (RedisJSON's Path::default in
 * redis_json/src/redisjson.rs).
 *
 * Writes apply to every match (doc_query_targets): deepest and last first,
 * each through the one undo log, so an error at any match (ARRINSERT out of
 * range, an overflow) rolls every match back; replies list matches in
 * document order. Missing parents are not created (RedisJSON's rule; DOC.*
 * create object members): JSON.SET adds a member only to an existing
 * object, new keys only at the root.
 *
 * Errors follow RedisJSON's texts where clients match them ("ERR Path '.x'
 * does not exist", "ERR new objects must be created at the root", "ERR wrong
 * type of path value - expected array but found string"); JSON syntax and
 * path syntax errors keep our words (BADJSON, BADPATH) and offsets.
 */
#include "atomicdoc.h"

#include <stdlib.h>
#include <string.h>

/* All paths of the op are legacy ones (set at parse time). */
#define OPF_LEGACY (1 << 16)
/* JSON.GET formatting given (INDENT / NEWLINE / SPACE). */
#define OPF_FORMAT (1 << 17)

/* One resolved path argument of an op. */
typedef struct jpath {
    const doc_query *q; /* the query (legacy paths translated) */
    const doc_path *p;  /* the same as a single path, or NULL when it is none */
    int legacy;         /* legacy dialect: first match only, errors when missing */
    const char *text;   /* the path as the user wrote it (for messages) */
    size_t len;         /* its length */
} jpath;

/* The default path `$` / `.`: compiled once. */
static doc_query *root_query;
static const doc_path root_path = {0, NULL, NULL, 0};

static void jpath_of(const op *o, int i, RedisModuleString *text, jpath *out) {
    if (i < o->npaths) {
        out->q = o->queries[i];
        out->p = o->paths[i];
        out->legacy = (o->flags & OPF_LEGACY) != 0;
        out->text = text ? RedisModule_StringPtrLen(text, &out->len) : "";
        if (!text) out->len = 0;
        return;
    }
    if (!root_query) {
        doc_error e;
        doc_error_clear(&e);
        doc_query_compile("$", 1, 4, &root_query, &e);
    }
    out->q = root_query;
    out->p = &root_path;
    out->legacy = 1;
    out->text = ".";
    out->len = 1;
}

/* Compiles one path argument (either dialect) into the op. */
static doc_status parse_jpath(op *o, RedisModuleString *s, doc_error *err) {
    size_t len;
    const char *t = RedisModule_StringPtrLen(s, &len);
    doc_buf text;
    doc_buf_init(&text);
    int legacy = !(len && t[0] == '$');
    if (legacy) {
        if (doc_legacy_path_to_query(t, len, &text, err)) {
            doc_buf_free(&text);
            return err->code;
        }
    } else {
        doc_buf_append(&text, t, len);
    }
    if (text.oom) {
        doc_buf_free(&text);
        return doc_error_set(err, DOC_NOMEM, "out of memory");
    }
    doc_query *q = NULL;
    doc_path *p = NULL;
    doc_status st = doc_query_compile(text.data, text.len, (uint32_t)adoc_cfg.max_depth, &q, err);
    if (st && limit_waived(err)) st = doc_query_compile(text.data, text.len, DOC_DEPTH_LIMIT, &q, err);
    if (!st && doc_query_is_single(q)) {
        doc_error ignore;
        doc_error_clear(&ignore);
        if (doc_path_compile(text.data, text.len, DOC_DEPTH_LIMIT, &p, &ignore)) p = NULL;
    }
    doc_buf_free(&text);
    if (st) {
        if (legacy) err->has_offset = 0; /* offsets would count the translated text */
        return st;
    }
    if (o->npaths == 0) o->flags |= OPF_LEGACY;
    if (!legacy) o->flags &= ~OPF_LEGACY;
    return op_add_read_path(o, p, q, err);
}

/* A JSON value argument. */
static doc_status parse_jvalue(op *o, RedisModuleString *s, doc_error *err) {
    doc_node *v;
    if (arg_json(s, &v, err) || op_add_value(o, v, err)) return err->code;
    return DOC_OK;
}

/* ---- errors in RedisJSON's words ---- */

static doc_status no_path(exec_ctx *x, const jpath *p) {
    return doc_error_set(&x->err, DOC_ERR, "Path '%.*s' does not exist", (int)(p->len > 100 ? 100 : p->len),
                         p->text);
}

static const char *json_type(const uint8_t *v) {
    doc_view view;
    doc_value_decode(v, &view);
    return doc_type_name(view.type);
}

/* A match of the wrong type: nil in a `$` reply, an error for a legacy path. */
static doc_status wrong_type(exec_ctx *x, int legacy, const char *want, const uint8_t *v, result *r) {
    if (legacy)
        return doc_error_set(&x->err, DOC_ERR, "wrong type of path value - expected %s but found %s", want,
                             json_type(v));
    res_nil(r);
    return DOC_OK;
}

/* A legacy write none of whose matches has the right type (`what`: "not an
 * array", ...): RedisJSON's text. */
static doc_status no_path_or(exec_ctx *x, const jpath *p, const char *what) {
    return doc_error_set(&x->err, DOC_ERR, "Path '%.*s' does not exist or %s",
                         (int)(p->len > 100 ? 100 : p->len), p->text, what);
}

/* A write's match of the wrong type: nil in a `$` reply; for a legacy path
 * the match is skipped (left RES_NONE for legacy_pick). */
static doc_status skip_match(int legacy, result *r) {
    if (!legacy) res_nil(r);
    return DOC_OK;
}

static doc_status no_key(exec_ctx *x) {
    return doc_error_set(&x->err, DOC_ERR, "could not perform this operation on a key that doesn't exist");
}

/* ---- running over matches ---- */

/* Reading: calls fn for every match in document order, filling one item
 * of `out` (an array) each. */
typedef doc_status (*read_fn)(op *o, exec_ctx *x, const uint8_t *v, result *r, int legacy);

static int collect(void *ctx, const uint8_t *value, const char *norm) {
    (void)norm;
    doc_buf_append(ctx, &value, sizeof value);
    return 0;
}

static doc_status each_read(op *o, exec_ctx *x, keyslot *k, const jpath *p, read_fn fn, result *out) {
    doc_buf m;
    doc_buf_init(&m);
    doc_status st = doc_query_eval(p->q, doc_box_value(k->doc->root), collect, &m, 0, &x->err);
    size_t n = m.len / sizeof(const uint8_t *);
    if (!st && m.oom) st = doc_error_set(&x->err, DOC_NOMEM, "out of memory");
    result *items = st ? NULL : res_array(out, n);
    if (!st && !items) st = doc_error_set(&x->err, DOC_NOMEM, "out of memory");
    for (size_t i = 0; !st && i < n; i++) {
        const uint8_t *v;
        memcpy(&v, m.data + i * sizeof v, sizeof v);
        st = fn(o, x, v, &items[i], p->legacy);
        if (p->legacy) break; /* the first match is the answer */
    }
    doc_buf_free(&m);
    return st;
}

/* Writing: calls fn at every target, last first (doc.h: doc_query_targets),
 * each item of `out` for the target at its document-order position. */
typedef doc_status (*write_fn)(op *o, exec_ctx *x, keyslot *k, doc_cursor *c, const doc_path *at, result *r,
                               int legacy);

/* 1 when inner lies inside outer (outer's segments are a proper prefix). */
static int nested_in(const doc_path *inner, const doc_path *outer) {
    if (outer->nseg >= inner->nseg) return 0;
    for (size_t i = 0; i < outer->nseg; i++) {
        const doc_seg *a = &inner->segs[i], *b = &outer->segs[i];
        if (a->kind != b->kind || a->index != b->index || a->len != b->len ||
            (a->len && memcmp(a->name, b->name, a->len) != 0))
            return 0;
    }
    return 1;
}

/* outermost: skip targets inside another target (their items stay
 * RES_NONE), as RedisJSON's prepare_paths_for_updating does for JSON.SET and
 * JSON.DEL. Targets come in document order, so a nested one follows its
 * outermost ancestor with nothing outside that ancestor in between. */
static doc_status each_write_in(op *o, exec_ctx *x, keyslot *k, const jpath *p, write_fn fn, result *out,
                                int outermost) {
    doc_targets t;
    doc_status st = doc_query_targets(p->q, &k->doc->root, &t, &x->err);
    result *items = st ? NULL : res_array(out, t.n);
    if (!st && !items) st = doc_error_set(&x->err, DOC_NOMEM, "out of memory");
    unsigned char *skip = NULL;
    if (!st && outermost && t.n > 1) {
        skip = doc_malloc(t.n);
        if (!skip) st = doc_error_set(&x->err, DOC_NOMEM, "out of memory");
        for (size_t i = 0, top = 0; !st && i < t.n; i++) {
            skip[i] = i > 0 && nested_in(t.paths[i], t.paths[top]);
            if (!skip[i]) top = i;
        }
    }
    for (size_t i = t.n; !st && i-- > 0;) {
        if (skip && skip[i]) continue;
        doc_cursor c;
        doc_cursor_init(&c, &k->doc->root);
        st = doc_resolve(&c, t.paths[i], &x->err);
        if (!st) st = fn(o, x, k, &c, t.paths[i], &items[i], p->legacy);
        doc_cursor_free(&c);
        if (!k->doc) break; /* the root was deleted */
    }
    doc_free(skip);
    doc_targets_free(&t);
    return st;
}

static doc_status each_write(op *o, exec_ctx *x, keyslot *k, const jpath *p, write_fn fn, result *out) {
    return each_write_in(o, x, k, p, fn, out, 0);
}

/* A legacy write's reply: the last match written (first: the first one),
 * matches of the wrong type skipped; none written is an error. Replaces the
 * array `out` by that item. */
static doc_status legacy_pick(exec_ctx *x, const jpath *p, result *out, const char *what, int first) {
    if (!p->legacy) return DOC_OK;
    size_t at = out->n;
    for (size_t i = 0; out->kind == RES_ARRAY && i < out->n; i++)
        if (out->items[i].kind != RES_NONE && (!first || at == out->n)) at = i;
    if (at == out->n) return no_path_or(x, p, what);
    result pick = out->items[at];
    memset(&out->items[at], 0, sizeof out->items[at]);
    res_free(out);
    *out = pick;
    return DOC_OK;
}

/* A legacy read's reply is its first match's: replaces the array `out` by its
 * first item; no match at all is an error. */
static doc_status legacy_first(exec_ctx *x, const jpath *p, result *out) {
    if (!p->legacy) return DOC_OK;
    if (out->kind != RES_ARRAY || out->n == 0) return no_path(x, p);
    result first = out->items[0];
    memset(&out->items[0], 0, sizeof out->items[0]);
    res_free(out);
    *out = first;
    return DOC_OK;
}

/* ---- JSON.SET key path value [NX|XX] [FPHA type] ---- */

static doc_status parse_set(op *o, RedisModuleString **argv, int argc, doc_error *err) {
    if (parse_jpath(o, argv[0], err) || parse_jvalue(o, argv[1], err)) return err->code;
    o->raw = argv[0];
    for (int i = 2; i < argc; i++) {
        if (arg_is(argv[i], "NX") && !(o->flags & OPF_XX)) {
            o->flags |= OPF_NX;
        } else if (arg_is(argv[i], "XX") && !(o->flags & OPF_NX)) {
            o->flags |= OPF_XX;
        } else if (arg_is(argv[i], "FPHA") && i + 1 < argc) {
            i++; /* accepted and ignored: we store doubles exactly */
        } else {
            return doc_error_set(err, DOC_ERR, "syntax error");
        }
    }
    return DOC_OK;
}

static doc_status set_at(op *o, exec_ctx *x, keyslot *k, doc_cursor *c, const doc_path *at, result *r,
                         int legacy) {
    (void)k, (void)at;
    (void)legacy;
    doc_node *copy = doc_value_copy(doc_box_value(o->values[0]));
    if (!copy) return doc_error_set(&x->err, DOC_NOMEM, "out of memory");
    res_ok(r);
    return doc_edit_set_take(c, copy, x->undo, &x->err);
}

static doc_status run_set(op *o, exec_ctx *x, keyslot *k, result *out) {
    jpath p;
    jpath_of(o, 0, o->raw, &p);
    if (!k->doc) {
        if (!p.p || p.p->nseg != 0)
            return doc_error_set(&x->err, DOC_ERR, "new objects must be created at the root");
        if (o->flags & OPF_XX) {
            res_nil(out);
            return DOC_OK;
        }
        k->doc = adoc_new_take(o->values[0]);
        o->values[0] = NULL;
        res_ok(out);
        return DOC_OK;
    }
    result all;
    memset(&all, 0, sizeof all);
    doc_targets t;
    doc_status st = doc_query_targets(p.q, &k->doc->root, &t, &x->err);
    size_t n = t.n;
    doc_targets_free(&t);
    if (st) return st;
    if (n > 0) {
        if (o->flags & OPF_NX) {
            res_nil(out);
            return DOC_OK;
        }
        st = each_write_in(o, x, k, &p, set_at, &all, 1);
        res_free(&all);
        if (!st) res_ok(out);
        return st;
    }
    /* Nothing there: a single path whose parent is an object gets the member. */
    res_nil(out);
    if ((o->flags & OPF_XX) || !p.p || p.p->nseg == 0 || p.p->segs[p.p->nseg - 1].kind != DOC_SEG_NAME)
        return DOC_OK;
    doc_path parent = *p.p;
    parent.nseg--;
    doc_cursor c;
    doc_cursor_init(&c, &k->doc->root);
    doc_error miss;
    doc_error_clear(&miss);
    if (doc_resolve(&c, &parent, &miss) == DOC_OK && *doc_cursor_value(&c) == DOC_TAG_OBJECT &&
        doc_cursor_down(&c, &p.p->segs[p.p->nseg - 1], &miss) == DOC_NOPATH && c.missing) {
        doc_node *v = o->values[0];
        o->values[0] = NULL;
        st = doc_edit_set_take(&c, v, x->undo, &x->err);
        if (!st) res_ok(out);
    }
    doc_cursor_free(&c);
    return st;
}

/* clang-format off */
const op_def op_json_set = {"JSON.SET", "json.set", 1, 2, 5, parse_set, run_set, KF_UPDATE, NULL,
    .txn_positional = 2, .txn_options = "NX XX FPHA:1", .txn_option_place = TXN_OPT_TRAILING,
    .txn_usage = "JSON.SET k path json [NX|XX] [FPHA type]"};
/* clang-format on */
/* JSON.MSET's sets: the same op under RedisJSON's event name for them
 * (json_mset notifies "json.mset"). */
static const op_def op_json_mset_set = {"JSON.MSET", "json.mset", 1,         2,    5,
                                        parse_set,   run_set,     KF_UPDATE, NULL, .txn_usage = NULL};

/* ---- JSON.GET key [INDENT s] [NEWLINE s] [SPACE s] [NOESCAPE] [path ...] ----
 * The formatting strings are kept as values: three string boxes. */

static doc_status parse_get(op *o, RedisModuleString **argv, int argc, doc_error *err) {
    RedisModuleString *fmt[3] = {NULL, NULL, NULL};
    int i = 0;
    for (; i < argc; i++) {
        int w = arg_is(argv[i], "INDENT")    ? 0
                : arg_is(argv[i], "NEWLINE") ? 1
                : arg_is(argv[i], "SPACE")   ? 2
                                             : -1;
        if (w >= 0 && i + 1 < argc) {
            fmt[w] = argv[++i];
            o->flags |= OPF_FORMAT;
        } else if (!arg_is(argv[i], "NOESCAPE")) {
            break;
        }
    }
    for (int f = 0; f < 3; f++) {
        size_t len = 0;
        const char *s = fmt[f] ? RedisModule_StringPtrLen(fmt[f], &len) : "";
        doc_node *box = doc_box_string(s, len);
        if (!box) return doc_error_set(err, DOC_NOMEM, "out of memory");
        if (op_add_value(o, box, err)) return err->code;
    }
    /* Each path's text is kept too (a multi-path reply is keyed by it). */
    for (; i < argc; i++) {
        size_t len;
        const char *s = RedisModule_StringPtrLen(argv[i], &len);
        doc_node *box = doc_box_string(s, len);
        if (!box) return doc_error_set(err, DOC_NOMEM, "out of memory");
        if (op_add_value(o, box, err) || parse_jpath(o, argv[i], err)) return err->code;
    }
    return DOC_OK;
}

/* The string in value box i. */
static const char *box_str(const op *o, int i, size_t *len) {
    doc_view v;
    doc_value_decode(doc_box_value(o->values[i]), &v);
    *len = v.slen;
    return v.s;
}

/* Prints one path's answer into out: the first match (legacy) or the array
 * of matches. */
static doc_status get_path(op *o, exec_ctx *x, keyslot *k, int i, doc_buf *out) {
    jpath p;
    jpath_of(o, i, NULL, &p);
    if (i < o->npaths) p.text = box_str(o, 3 + i, &p.len);
    doc_buf m;
    doc_buf_init(&m);
    doc_status st = doc_query_eval(p.q, doc_box_value(k->doc->root), collect, &m, 0, &x->err);
    size_t n = m.len / sizeof(const uint8_t *);
    if (!st && m.oom) st = doc_error_set(&x->err, DOC_NOMEM, "out of memory");
    if (!st && p.legacy && n == 0) st = no_path(x, &p);
    if (!st && !p.legacy) doc_buf_putc(out, '[');
    for (size_t j = 0; !st && j < (p.legacy ? 1 : n); j++) {
        const uint8_t *v;
        memcpy(&v, m.data + j * sizeof v, sizeof v);
        if (j) doc_buf_putc(out, ',');
        doc_print(v, out);
    }
    if (!st && !p.legacy) doc_buf_putc(out, ']');
    doc_buf_free(&m);
    return st;
}

static doc_status run_get(op *o, exec_ctx *x, keyslot *k, result *out) {
    if (!k->doc) {
        res_nil(out);
        return DOC_OK;
    }
    doc_buf text;
    doc_buf_init(&text);
    doc_status st = DOC_OK;
    if (o->npaths <= 1) {
        st = get_path(o, x, k, 0, &text);
    } else {
        doc_buf_putc(&text, '{');
        for (int i = 0; !st && i < o->npaths; i++) {
            size_t len;
            const char *name = box_str(o, 3 + i, &len);
            if (i) doc_buf_putc(&text, ',');
            doc_buf_putc(&text, '"');
            doc_string_escape(name, len, '"', &text);
            doc_buf_append(&text, "\":", 2);
            st = get_path(o, x, k, i, &text);
        }
        doc_buf_putc(&text, '}');
    }
    if (!st && text.oom) st = doc_error_set(&x->err, DOC_NOMEM, "out of memory");
    if (!st) {
        out->kind = RES_BULK;
        if (o->flags & OPF_FORMAT) {
            size_t il, nl, sl;
            const char *ind = box_str(o, 0, &il), *nlc = box_str(o, 1, &nl), *sp = box_str(o, 2, &sl);
            doc_json_format(text.data, text.len, ind, il, nlc, nl, sp, sl, &out->text);
            if (out->text.oom) st = doc_error_set(&x->err, DOC_NOMEM, "out of memory");
        } else {
            out->text = text;
            doc_buf_init(&text);
        }
    }
    doc_buf_free(&text);
    return st;
}

/* clang-format off */
const op_def op_json_get = {"JSON.GET", NULL, 0, 0, -1, parse_get, run_get, KF_READ, NULL,
    .txn_positional = 1, .txn_options = "INDENT:1 NEWLINE:1 SPACE:1 NOESCAPE", .txn_option_place = TXN_OPT_LEADING,
    .txn_usage = "JSON.GET k [INDENT s] [NEWLINE s] [SPACE s] path (one path inside DOC.TXN)"};
/* clang-format on */

/* ---- ops of the shape: key [path] ---- */

static doc_status parse_opt_path(op *o, RedisModuleString **argv, int argc, doc_error *err) {
    if (argc >= 1) {
        o->raw = argv[0];
        return parse_jpath(o, argv[0], err);
    }
    return DOC_OK;
}

/* JSON.DEL / JSON.FORGET key [path]: how many values were deleted. */
static doc_status del_at(op *o, exec_ctx *x, keyslot *k, doc_cursor *c, const doc_path *at, result *r,
                         int legacy) {
    (void)legacy, (void)at;
    res_int(r, 1);
    if (c->depth <= 1) { /* the root: the key goes */
        slot_delete(x, k, o);
        return DOC_OK;
    }
    return doc_edit_remove(c, x->undo, &x->err);
}

/* Counts the outermost matches only (a match inside another goes with it),
 * and a root left an empty object or array deletes the key: RedisJSON's
 * json_del (its MOD-9117, "DEL key upon JSON.DEL emptying root"). */
static doc_status run_del(op *o, exec_ctx *x, keyslot *k, result *out) {
    jpath p;
    jpath_of(o, 0, o->raw, &p);
    res_int(out, 0);
    if (!k->doc) return DOC_OK;
    result all;
    memset(&all, 0, sizeof all);
    doc_status st = each_write_in(o, x, k, &p, del_at, &all, 1);
    long long n = 0;
    for (size_t i = 0; i < all.n; i++) n += all.items[i].kind != RES_NONE;
    res_free(&all);
    if (st) return st;
    res_int(out, n);
    if (n && k->doc) {
        doc_view root;
        doc_value_decode(doc_box_value(k->doc->root), &root);
        if ((root.type == DOC_OBJECT || root.type == DOC_ARRAY) && doc_node_count(root.node) == 0)
            slot_delete(x, k, o);
    }
    return DOC_OK;
}

/* clang-format off */
const op_def op_json_del = {"JSON.DEL", "json.del", 1, 0, 1, parse_opt_path, run_del, KF_DELETE, NULL,
    .txn_positional = 1, .txn_options = "",
    .txn_usage = "JSON.DEL k path (JSON.FORGET alike; one path inside DOC.TXN)"};
/* clang-format on */

/* Shared runner of the reads that answer per match: nil for a missing key,
 * the first match's answer (legacy) or one per match. */
static doc_status run_read(op *o, exec_ctx *x, keyslot *k, result *out, read_fn fn) {
    jpath p;
    jpath_of(o, 0, o->raw, &p);
    if (!k->doc) {
        res_nil(out);
        return DOC_OK;
    }
    doc_status st = each_read(o, x, k, &p, fn, out);
    return st ? st : legacy_first(x, &p, out);
}

static doc_status type_of(op *o, exec_ctx *x, const uint8_t *v, result *r, int legacy) {
    (void)o, (void)x, (void)legacy;
    res_simple(r, json_type(v));
    return DOC_OK;
}

static doc_status run_type(op *o, exec_ctx *x, keyslot *k, result *out) {
    jpath p;
    jpath_of(o, 0, o->raw, &p);
    doc_status st = k->doc ? each_read(o, x, k, &p, type_of, out) : DOC_OK;
    if (!k->doc) res_nil(out);
    if (!st && k->doc && p.legacy) {
        if (out->n == 0) { /* RedisJSON: a missing legacy path is nil here */
            res_free(out);
            res_nil(out);
        } else {
            st = legacy_first(x, &p, out);
        }
    }
    if (!st && cmd_resp3()) { /* RESP3: one more array around it (a nil too: [nil]) */
        result inner = *out;
        memset(out, 0, sizeof *out);
        result *one = res_array(out, 1);
        if (!one) {
            res_free(&inner);
            return doc_error_set(&x->err, DOC_NOMEM, "out of memory");
        }
        one[0] = inner;
    }
    return st;
}

/* clang-format off */
const op_def op_json_type = {"JSON.TYPE", NULL, 0, 0, 1, parse_opt_path, run_type, KF_READ, NULL,
    .txn_positional = 1, .txn_options = "",
    .txn_usage = "JSON.TYPE k path (one path inside DOC.TXN)"};
/* clang-format on */

/* The length of v when it has type `want` (a string's bytes, a container's
 * members or elements); a wrong-type reply otherwise (`what` names want). */
static doc_status length_of(exec_ctx *x, const uint8_t *v, result *r, int legacy, doc_type want,
                            const char *what) {
    doc_view view;
    doc_value_decode(v, &view);
    if (view.type != want) return wrong_type(x, legacy, what, v, r);
    res_int(r, want == DOC_STRING ? (long long)view.slen : (long long)doc_node_count(view.node));
    return DOC_OK;
}
static doc_status strlen_of(op *o, exec_ctx *x, const uint8_t *v, result *r, int legacy) {
    (void)o;
    return length_of(x, v, r, legacy, DOC_STRING, "string");
}
static doc_status arrlen_of(op *o, exec_ctx *x, const uint8_t *v, result *r, int legacy) {
    (void)o;
    return length_of(x, v, r, legacy, DOC_ARRAY, "array");
}
static doc_status objlen_of(op *o, exec_ctx *x, const uint8_t *v, result *r, int legacy) {
    (void)o;
    return length_of(x, v, r, legacy, DOC_OBJECT, "object");
}
/* The per-match reads of RedisJSON 8.0 (json_str_len, json_arr_len,
 * json_obj_len, json_obj_keys) refuse a missing key for a `$` path and reply
 * nil for a legacy one; a legacy path that matches nothing is an error for
 * STRLEN and ARRLEN, nil for OBJLEN and OBJKEYS (missing_nil). */
static doc_status run_read_key(op *o, exec_ctx *x, keyslot *k, result *out, read_fn fn, int missing_nil) {
    jpath p;
    jpath_of(o, 0, o->raw, &p);
    if (!k->doc && !p.legacy) return no_key(x);
    if (!k->doc) {
        res_nil(out);
        return DOC_OK;
    }
    doc_status st = each_read(o, x, k, &p, fn, out);
    if (!st && p.legacy && missing_nil && out->n == 0) {
        res_free(out);
        res_nil(out);
        return DOC_OK;
    }
    return st ? st : legacy_first(x, &p, out);
}
static doc_status run_strlen(op *o, exec_ctx *x, keyslot *k, result *out) {
    return run_read_key(o, x, k, out, strlen_of, 0);
}
static doc_status run_arrlen(op *o, exec_ctx *x, keyslot *k, result *out) {
    return run_read_key(o, x, k, out, arrlen_of, 0);
}
static doc_status run_objlen(op *o, exec_ctx *x, keyslot *k, result *out) {
    return run_read_key(o, x, k, out, objlen_of, 1);
}
/* clang-format off */
const op_def op_json_strlen = {"JSON.STRLEN", NULL, 0, 0, 1, parse_opt_path, run_strlen, KF_READ, NULL,
    .txn_positional = 1, .txn_options = "",
    .txn_usage = "JSON.STRLEN k path (one path inside DOC.TXN)"};
const op_def op_json_arrlen = {"JSON.ARRLEN", NULL, 0, 0, 1, parse_opt_path, run_arrlen, KF_READ, NULL,
    .txn_positional = 1, .txn_options = "",
    .txn_usage = "JSON.ARRLEN k path (one path inside DOC.TXN)"};
const op_def op_json_objlen = {"JSON.OBJLEN", NULL, 0, 0, 1, parse_opt_path, run_objlen, KF_READ, NULL,
    .txn_positional = 1, .txn_options = "",
    .txn_usage = "JSON.OBJLEN k path (one path inside DOC.TXN)"};
/* clang-format on */

static doc_status objkeys_of(op *o, exec_ctx *x, const uint8_t *v, result *r, int legacy) {
    (void)o;
    doc_view view;
    doc_value_decode(v, &view);
    if (view.type != DOC_OBJECT) return wrong_type(x, legacy, "object", v, r);
    result *items = res_array(r, doc_node_count(view.node));
    if (!items) return doc_error_set(&x->err, DOC_NOMEM, "out of memory");
    doc_iter it;
    const char *key;
    size_t klen;
    doc_iter_init(&it, view.node);
    for (size_t i = 0; doc_iter_next(&it, &key, &klen, NULL, NULL); i++) {
        items[i].kind = RES_BULK;
        doc_buf_append(&items[i].text, key, klen);
    }
    return DOC_OK;
}
static doc_status run_objkeys(op *o, exec_ctx *x, keyslot *k, result *out) {
    return run_read_key(o, x, k, out, objkeys_of, 1);
}
/* clang-format off */
const op_def op_json_objkeys = {"JSON.OBJKEYS", NULL, 0, 0, 1, parse_opt_path, run_objkeys, KF_READ, NULL,
    .txn_positional = 1, .txn_options = "",
    .txn_usage = "JSON.OBJKEYS k path (one path inside DOC.TXN)"};
/* clang-format on */

/* JSON.RESP: the value as RESP (null: nil, booleans: simple strings, integers:
 * integers, doubles: bulk text in RESP2 and doubles in RESP3, strings: bulk,
 * arrays ["[", ...], objects ["{", key, value, ...]). Recursion follows the
 * document's depth, which max-depth bounds. */
static doc_status resp_value(exec_ctx *x, const uint8_t *v, result *r) {
    doc_view view;
    doc_value_decode(v, &view);
    switch (view.type) {
    case DOC_NULL: res_nil(r); return DOC_OK;
    case DOC_BOOL: res_simple(r, view.b ? "true" : "false"); return DOC_OK;
    case DOC_INT: res_int(r, view.i); return DOC_OK;
    case DOC_DOUBLE:
        res_double(r, view.d);
        return DOC_OK; /* RESP3: a double, as RedisJSON's RedisValue::Float */
    case DOC_STRING: res_json(r, v); break;
    case DOC_OBJECT:
    case DOC_ARRAY: {
        int obj = view.type == DOC_OBJECT;
        uint32_t n = doc_node_count(view.node);
        result *items = res_array(r, 1 + (size_t)n * (obj ? 2 : 1));
        if (!items) return doc_error_set(&x->err, DOC_NOMEM, "out of memory");
        res_simple(&items[0], obj ? "{" : "[");
        doc_iter it;
        const char *key;
        size_t klen;
        const uint8_t *el;
        size_t at = 1;
        doc_iter_init(&it, view.node);
        while (doc_iter_next(&it, &key, &klen, &el, NULL)) {
            if (obj) {
                items[at].kind = RES_BULK;
                doc_buf_append(&items[at++].text, key, klen);
            }
            if (resp_value(x, el, &items[at++])) return x->err.code;
        }
        return DOC_OK;
    }
    }
    if (view.type == DOC_STRING) { /* the bulk is the string itself, not its JSON */
        doc_buf_free(&r->text);
        doc_buf_init(&r->text);
        doc_buf_append(&r->text, view.s, view.slen);
    }
    return DOC_OK;
}
static doc_status resp_of(op *o, exec_ctx *x, const uint8_t *v, result *r, int legacy) {
    (void)o, (void)legacy;
    return resp_value(x, v, r);
}
static doc_status run_resp(op *o, exec_ctx *x, keyslot *k, result *out) {
    return run_read(o, x, k, out, resp_of);
}
const op_def op_json_resp = {"JSON.RESP",    NULL,     0,       0,    1,
                             parse_opt_path, run_resp, KF_READ, NULL, .txn_usage = NULL};

/* JSON.DEBUG MEMORY key [path]: bytes a value takes (its nodes for a
 * container, its encoding for a scalar). */
static doc_status memory_of(op *o, exec_ctx *x, const uint8_t *v, result *r, int legacy) {
    (void)o, (void)x, (void)legacy;
    doc_view view;
    doc_value_decode(v, &view);
    long long bytes = (long long)doc_value_size(v);
    if (view.type == DOC_OBJECT || view.type == DOC_ARRAY) bytes += (long long)doc_node_memory(view.node);
    res_int(r, bytes);
    return DOC_OK;
}
static doc_status run_memory(op *o, exec_ctx *x, keyslot *k, result *out) {
    jpath p;
    jpath_of(o, 0, o->raw, &p);
    if (!k->doc) {
        if (p.legacy)
            res_int(out, 0);
        else
            res_array(out, 0);
        return DOC_OK;
    }
    return run_read(o, x, k, out, memory_of);
}
const op_def op_json_debug_memory = {"JSON.DEBUG MEMORY", NULL,       0,       0,    1,
                                     parse_opt_path,      run_memory, KF_READ, NULL, .txn_usage = NULL};

/* ---- ops that write at every match ---- */

/* Shared runner: a missing key is an error (RedisJSON), then the write at
 * every match and the legacy reply (legacy_pick; `what` names the type). */
static doc_status run_write(op *o, exec_ctx *x, keyslot *k, result *out, write_fn fn, const char *what) {
    jpath p;
    jpath_of(o, 0, o->raw, &p);
    if (!k->doc) return no_key(x);
    doc_status st = each_write(o, x, k, &p, fn, out);
    return st ? st : legacy_pick(x, &p, out, what, o->def == &op_json_arrpop);
}

/* Path, then a number (NUMINCRBY / NUMMULTBY). */
static doc_status parse_path_number(op *o, RedisModuleString **argv, int argc, doc_error *err) {
    (void)argc;
    o->raw = argv[0];
    if (parse_jpath(o, argv[0], err)) return err->code;
    size_t len;
    const char *s = RedisModule_StringPtrLen(argv[1], &len);
    int is_int;
    if (doc_number_parse(s, len, &is_int, &o->num.i, &o->num.d) != DOC_OK)
        return doc_error_set(err, DOC_ERR, "expected a number, got '%.*s'", (int)(len > 40 ? 40 : len), s);
    o->num.type = is_int ? DOC_INT : DOC_DOUBLE;
    return DOC_OK;
}

/* Runs a DOC op's runner on one target (a borrowed single path): the JSON
 * face reuses DOC.INCR, DOC.MUL and DOC.MERGE rather than repeating them. */
static doc_status run_doc_op(const op_def *def, op *o, exec_ctx *x, keyslot *k, const doc_path *at,
                             doc_node *value, result *r) {
    op sub;
    memset(&sub, 0, sizeof sub);
    sub.def = def;
    sub.paths = sub.path_slot;
    sub.paths[0] = (doc_path *)at;
    sub.npaths = 1;
    sub.values = sub.value_slot;
    sub.values[0] = value;
    sub.nvalues = value ? 1 : 0;
    sub.num = o->num;
    return def->run(&sub, x, k, r); /* nothing to free: sub only borrows */
}

/* NUMINCRBY / NUMMULTBY at one match: DOC.INCR / DOC.MUL's runner (one
 * arithmetic rule for both faces); the reply is a number (RES_INT, or the
 * double's text, turned into RES_DOUBLE for RESP3 below). */
static doc_status arith_at(op *o, exec_ctx *x, keyslot *k, doc_cursor *c, const doc_path *at, result *r,
                           int legacy) {
    doc_view cur;
    doc_value_decode(doc_cursor_value(c), &cur);
    if (cur.type != DOC_INT && cur.type != DOC_DOUBLE) return skip_match(legacy, r);
    return run_doc_op(o->def == &op_json_nummultby ? &op_mul : &op_incr, o, x, k, at, NULL, r);
}

/* The RESP2 / RESP3 shape of NUMINCRBY's numbers. RESP2: `$` paths reply the
 * JSON array text ("[3,null]"), legacy ones the number's text; RESP3: numbers
 * (integers and doubles), in an array for `$` paths. */
static doc_status shape_numbers(exec_ctx *x, const jpath *p, result *out) {
    result *items = out->kind == RES_ARRAY ? out->items : out;
    size_t n = out->kind == RES_ARRAY ? out->n : 1;
    if (cmd_resp3()) {
        for (size_t i = 0; i < n; i++)
            if (items[i].kind == RES_BULK) {
                doc_buf_cstr(&items[i].text);
                double d = strtod(items[i].text.data, NULL);
                doc_buf_free(&items[i].text);
                doc_buf_init(&items[i].text);
                res_double(&items[i], d);
            }
        return DOC_OK;
    }
    doc_buf text;
    doc_buf_init(&text);
    if (!p->legacy) doc_buf_putc(&text, '[');
    for (size_t i = 0; i < n; i++) {
        if (i) doc_buf_putc(&text, ',');
        if (items[i].kind == RES_INT) {
            char num[24];
            doc_buf_append(&text, num, doc_format_int(items[i].i, num));
        } else if (items[i].kind == RES_BULK || items[i].kind == RES_DOUBLE) {
            doc_buf_append(&text, items[i].text.data, items[i].text.len); /* a double's JSON text */
        } else {
            doc_buf_append(&text, "null", 4);
        }
    }
    if (!p->legacy) doc_buf_putc(&text, ']');
    res_free(out);
    if (text.oom) {
        doc_buf_free(&text);
        return doc_error_set(&x->err, DOC_NOMEM, "out of memory");
    }
    out->kind = RES_BULK;
    out->text = text;
    return DOC_OK;
}

/* RESP3: one number (nil for a non-number) per match whichever the dialect,
 * as RedisJSON's json_num_op does. */
static doc_status run_arith(op *o, exec_ctx *x, keyslot *k, result *out) {
    jpath p;
    jpath_of(o, 0, o->raw, &p);
    if (!k->doc) return no_key(x);
    if (cmd_resp3()) p.legacy = 0;
    doc_status st = each_write(o, x, k, &p, arith_at, out);
    if (!st) st = legacy_pick(x, &p, out, "does not contains a number", 0);
    return st ? st : shape_numbers(x, &p, out);
}

/* clang-format off */
const op_def op_json_numincrby = {"JSON.NUMINCRBY", "json.numincrby", 1, 2, 2, parse_path_number, run_arith, KF_READ_UPDATE, NULL,
    .txn_positional = 2, .txn_options = "",
    .txn_usage = "JSON.NUMINCRBY k path number"};
const op_def op_json_nummultby = {"JSON.NUMMULTBY", "json.nummultby", 1, 2, 2, parse_path_number, run_arith, KF_READ_UPDATE, NULL,
    .txn_positional = 2, .txn_options = "",
    .txn_usage = "JSON.NUMMULTBY k path number"};
/* clang-format on */

/* ---- JSON.STRAPPEND key [path] value (a JSON string) ---- */

static doc_status parse_strappend(op *o, RedisModuleString **argv, int argc, doc_error *err) {
    if (argc == 2 && parse_opt_path(o, argv, 1, err)) return err->code;
    if (parse_jvalue(o, argv[argc - 1], err)) return err->code;
    if (*doc_box_value(o->values[0]) != DOC_TAG_STRING)
        return doc_error_set(err, DOC_ERR, "wrong type of value - expected a JSON string");
    return DOC_OK;
}

static doc_status strappend_at(op *o, exec_ctx *x, keyslot *k, doc_cursor *c, const doc_path *at, result *r,
                               int legacy) {
    (void)k, (void)at;
    doc_view cur, add;
    doc_value_decode(doc_cursor_value(c), &cur);
    if (cur.type != DOC_STRING) return skip_match(legacy, r);
    doc_value_decode(doc_box_value(o->values[0]), &add);
    if (cur.slen + add.slen > DOC_NODE_MAX_BYTES - 16)
        return doc_error_set(&x->err, DOC_TOOBIG, "string larger than 4 GB");
    doc_buf joined; /* built first: cur points into the document */
    doc_buf_init(&joined);
    doc_buf_append(&joined, cur.s, cur.slen);
    doc_buf_append(&joined, add.s, add.slen);
    doc_node *box = joined.oom ? NULL : doc_box_string(joined.data ? joined.data : "", joined.len);
    size_t n = joined.len;
    doc_buf_free(&joined);
    if (!box) return doc_error_set(&x->err, DOC_NOMEM, "out of memory");
    res_int(r, (long long)n);
    return doc_edit_set_take(c, box, x->undo, &x->err);
}
static doc_status run_strappend(op *o, exec_ctx *x, keyslot *k, result *out) {
    return run_write(o, x, k, out, strappend_at, "not a string");
}
/* clang-format off */
const op_def op_json_strappend = {"JSON.STRAPPEND", "json.strappend", 1, 1, 2, parse_strappend, run_strappend, KF_INSERT, NULL,
    .txn_positional = 2, .txn_options = "",
    .txn_usage = "JSON.STRAPPEND k path json-string (the path is required inside DOC.TXN)"};
/* clang-format on */

/* ---- arrays ---- */

/* The array at the cursor (NULL: not an array). */
static doc_node *array_at(const doc_cursor *c) {
    doc_view v;
    doc_value_decode(doc_cursor_value(c), &v);
    return v.type == DOC_ARRAY ? v.node : NULL;
}

/* Inserts copies of values [from, nvalues) before element `index`. */
static doc_status insert_copies(op *o, int from, exec_ctx *x, doc_cursor *c, uint32_t index) {
    size_t n = (size_t)(o->nvalues - from);
    doc_node *stack[8];
    doc_node **boxes = n <= 8 ? stack : doc_malloc(n * sizeof *boxes);
    if (!boxes) return doc_error_set(&x->err, DOC_NOMEM, "out of memory");
    size_t made = 0;
    for (; made < n; made++)
        if (!(boxes[made] = doc_value_copy(doc_box_value(o->values[from + (int)made])))) break;
    doc_status st;
    if (made < n) {
        for (size_t i = 0; i < made; i++) doc_node_free(boxes[i]);
        st = doc_error_set(&x->err, DOC_NOMEM, "out of memory");
    } else {
        st = doc_edit_insert_many_take(c, index, boxes, n, x->undo, &x->err);
    }
    if (boxes != stack) doc_free(boxes);
    return st;
}

/* JSON.ARRAPPEND key path value [value ...] */
static doc_status parse_path_values(op *o, RedisModuleString **argv, int argc, doc_error *err) {
    o->raw = argv[0];
    if (parse_jpath(o, argv[0], err)) return err->code;
    for (int i = 1; i < argc; i++)
        if (parse_jvalue(o, argv[i], err)) return err->code;
    return DOC_OK;
}

static doc_status arrappend_at(op *o, exec_ctx *x, keyslot *k, doc_cursor *c, const doc_path *at, result *r,
                               int legacy) {
    (void)k, (void)at;
    doc_node *arr = array_at(c);
    if (!arr) return skip_match(legacy, r);
    doc_status st = insert_copies(o, 0, x, c, doc_node_count(arr));
    if (!st) res_int(r, doc_node_count(array_at(c)));
    return st;
}
static doc_status run_arrappend(op *o, exec_ctx *x, keyslot *k, result *out) {
    return run_write(o, x, k, out, arrappend_at, "not an array");
}
/* clang-format off */
const op_def op_json_arrappend = {"JSON.ARRAPPEND", "json.arrappend", 1, 2, -1, parse_path_values, run_arrappend, KF_INSERT, NULL,
    .txn_positional = 2, .txn_options = "",
    .txn_usage = "JSON.ARRAPPEND k path json (one value inside DOC.TXN)"};
/* clang-format on */

/* JSON.ARRINSERT key path index value [value ...] */
static doc_status parse_arrinsert(op *o, RedisModuleString **argv, int argc, doc_error *err) {
    o->raw = argv[0];
    if (parse_jpath(o, argv[0], err) || arg_ll(argv[1], &o->n1, "index", err)) return err->code;
    for (int i = 2; i < argc; i++)
        if (parse_jvalue(o, argv[i], err)) return err->code;
    return DOC_OK;
}

static doc_status arrinsert_at(op *o, exec_ctx *x, keyslot *k, doc_cursor *c, const doc_path *at, result *r,
                               int legacy) {
    (void)k, (void)at;
    doc_node *arr = array_at(c);
    if (!arr) return skip_match(legacy, r);
    long long n = doc_node_count(arr), i = o->n1 < 0 ? n + o->n1 : o->n1;
    if (i < 0 || i > n) return doc_error_set(&x->err, DOC_ERR, "index out of bounds");
    doc_status st = insert_copies(o, 0, x, c, (uint32_t)i);
    if (!st) res_int(r, doc_node_count(array_at(c)));
    return st;
}
static doc_status run_arrinsert(op *o, exec_ctx *x, keyslot *k, result *out) {
    return run_write(o, x, k, out, arrinsert_at, "not an array");
}
/* clang-format off */
const op_def op_json_arrinsert = {"JSON.ARRINSERT", "json.arrinsert", 1, 3, -1, parse_arrinsert, run_arrinsert, KF_INSERT, NULL,
    .txn_positional = 3, .txn_options = "",
    .txn_usage = "JSON.ARRINSERT k path index json (one value inside DOC.TXN)"};
/* clang-format on */

/* JSON.ARRINDEX key path value [start [stop]]: first index in [start, stop)
 * (negative: from the end; stop 0 or missing: to the end), or -1. */
static doc_status parse_arrindex(op *o, RedisModuleString **argv, int argc, doc_error *err) {
    o->raw = argv[0];
    if (parse_jpath(o, argv[0], err) || parse_jvalue(o, argv[1], err)) return err->code;
    if (argc > 2 && arg_ll(argv[2], &o->n1, "start", err)) return err->code;
    if (argc > 3 && arg_ll(argv[3], &o->n2, "stop", err)) return err->code;
    return DOC_OK;
}

static doc_status arrindex_of(op *o, exec_ctx *x, const uint8_t *v, result *r, int legacy) {
    doc_view view;
    doc_value_decode(v, &view);
    if (view.type != DOC_ARRAY) return wrong_type(x, legacy, "array", v, r);
    long long n = doc_node_count(view.node), a = o->n1, b = o->n2;
    if (a < 0) a = a + n < 0 ? 0 : a + n;
    if (b <= 0) b = b == 0 ? n : b + n;
    if (b > n) b = n;
    long long found = -1;
    doc_iter it;
    const uint8_t *el;
    doc_iter_init(&it, view.node);
    for (long long i = 0; found < 0 && i < b && doc_iter_next(&it, NULL, NULL, &el, NULL); i++)
        if (i >= a && doc_value_identical(el, doc_box_value(o->values[0]))) found = i;
    res_int(r, found);
    return DOC_OK;
}
/* A missing key: "Path '...' does not exist", either dialect (RedisJSON
 * 8.0's json_arr_index). */
static doc_status run_arrindex(op *o, exec_ctx *x, keyslot *k, result *out) {
    jpath p;
    jpath_of(o, 0, o->raw, &p);
    if (!k->doc) return no_path(x, &p);
    return run_read(o, x, k, out, arrindex_of);
}
/* clang-format off */
const op_def op_json_arrindex = {"JSON.ARRINDEX", NULL, 0, 2, 4, parse_arrindex, run_arrindex, KF_READ, NULL,
    .txn_positional = 2, .txn_options = "#", .txn_option_place = TXN_OPT_TRAILING,
    .txn_usage = "JSON.ARRINDEX k path json [start [stop]]"};
/* clang-format on */

/* JSON.ARRPOP key [path [index]]: the removed element's JSON, nil when the
 * array is empty; the index is clamped to the array (default -1). */
static doc_status parse_arrpop(op *o, RedisModuleString **argv, int argc, doc_error *err) {
    o->n1 = -1;
    if (parse_opt_path(o, argv, argc > 0 ? 1 : 0, err)) return err->code;
    if (argc > 1 && arg_ll(argv[1], &o->n1, "index", err)) return err->code;
    return DOC_OK;
}

static doc_status arrpop_at(op *o, exec_ctx *x, keyslot *k, doc_cursor *c, const doc_path *at, result *r,
                            int legacy) {
    (void)k, (void)at;
    doc_node *arr = array_at(c);
    if (!arr) return skip_match(legacy, r);
    long long n = doc_node_count(arr), i = o->n1 < 0 ? n + o->n1 : o->n1;
    if (n == 0) {
        res_nil(r);
        return DOC_OK;
    }
    if (i < 0) i = 0;
    if (i >= n) i = n - 1;
    res_json(r, doc_array_get(arr, (uint32_t)i, NULL));
    return doc_edit_remove_range(c, (uint32_t)i, 1, x->undo, &x->err);
}
static doc_status run_arrpop(op *o, exec_ctx *x, keyslot *k, result *out) {
    return run_write(o, x, k, out, arrpop_at, "not an array");
}
/* clang-format off */
const op_def op_json_arrpop = {"JSON.ARRPOP", "json.arrpop", 1, 0, 2, parse_arrpop, run_arrpop, KF_READ_DELETE, NULL,
    .txn_positional = 1, .txn_options = "#", .txn_option_place = TXN_OPT_TRAILING,
    .txn_usage = "JSON.ARRPOP k path [index] (the path is required inside DOC.TXN)"};
/* clang-format on */

/* JSON.ARRTRIM key path start stop: keeps [start, stop] (inclusive,
 * negative from the end, clamped); the new length. */
static doc_status parse_arrtrim(op *o, RedisModuleString **argv, int argc, doc_error *err) {
    (void)argc;
    o->raw = argv[0];
    if (parse_jpath(o, argv[0], err) || arg_ll(argv[1], &o->n1, "start", err) ||
        arg_ll(argv[2], &o->n2, "stop", err))
        return err->code;
    return DOC_OK;
}

static doc_status arrtrim_at(op *o, exec_ctx *x, keyslot *k, doc_cursor *c, const doc_path *at, result *r,
                             int legacy) {
    (void)k, (void)at;
    doc_node *arr = array_at(c);
    if (!arr) return skip_match(legacy, r);
    long long n = doc_node_count(arr), a = o->n1, b = o->n2;
    /* RedisJSON's normalize (redis_json/src/array_index.rs): a negative index
     * counts from the end and stops at 0, a large one stops at the last. */
    if (a < 0) a = a + n < 0 ? 0 : a + n;
    if (b < 0) b = b + n < 0 ? 0 : b + n;
    if (b >= n) b = n - 1;
    doc_status st = DOC_OK;
    if (a >= n || a > b) {
        if (n) st = doc_edit_remove_range(c, 0, (uint32_t)n, x->undo, &x->err);
    } else {
        if (b + 1 < n)
            st = doc_edit_remove_range(c, (uint32_t)(b + 1), (uint32_t)(n - b - 1), x->undo, &x->err);
        if (!st && a > 0) st = doc_edit_remove_range(c, 0, (uint32_t)a, x->undo, &x->err);
    }
    if (!st) res_int(r, doc_node_count(array_at(c)));
    return st;
}
static doc_status run_arrtrim(op *o, exec_ctx *x, keyslot *k, result *out) {
    return run_write(o, x, k, out, arrtrim_at, "not an array");
}
/* clang-format off */
const op_def op_json_arrtrim = {"JSON.ARRTRIM", "json.arrtrim", 1, 3, 3, parse_arrtrim, run_arrtrim, KF_DELETE, NULL,
    .txn_positional = 3, .txn_options = "",
    .txn_usage = "JSON.ARRTRIM k path start stop"};
/* clang-format on */

/* ---- JSON.CLEAR, JSON.TOGGLE, JSON.MERGE ---- */

/* CLEAR: non-empty containers emptied, non-zero numbers set to 0; counts
 * those (what is already empty or 0 is left and not counted), as RedisJSON
 * 8.0's json_clear filters its matches. */
static doc_status clear_at(op *o, exec_ctx *x, keyslot *k, doc_cursor *c, const doc_path *at, result *r,
                           int legacy) {
    (void)o, (void)k, (void)at, (void)legacy;
    doc_view v;
    doc_value_decode(doc_cursor_value(c), &v);
    res_int(r, 0);
    if (v.type == DOC_OBJECT || v.type == DOC_ARRAY) {
        if (!doc_node_count(v.node)) return DOC_OK;
        res_int(r, 1);
        doc_node *empty = doc_parse(v.type == DOC_OBJECT ? "{}" : "[]", 2, 2, &x->err);
        return empty ? doc_edit_set_take(c, empty, x->undo, &x->err) : x->err.code;
    }
    if ((v.type == DOC_INT && v.i != 0) || (v.type == DOC_DOUBLE && v.d != 0.0)) {
        res_int(r, 1);
        doc_view zero = {.type = DOC_INT};
        uint8_t enc[16];
        return doc_edit_set_encoded(c, enc, doc_encode_number(enc, &zero), x->undo, &x->err);
    }
    return DOC_OK;
}
static doc_status run_clear(op *o, exec_ctx *x, keyslot *k, result *out) {
    jpath p;
    jpath_of(o, 0, o->raw, &p);
    res_int(out, 0);
    if (!k->doc) return no_key(x);
    result all;
    memset(&all, 0, sizeof all);
    doc_status st = each_write(o, x, k, &p, clear_at, &all);
    long long n = 0;
    for (size_t i = 0; i < all.n; i++) n += all.items[i].i;
    res_free(&all);
    if (!st) res_int(out, n);
    return st;
}
/* clang-format off */
const op_def op_json_clear = {"JSON.CLEAR", "json.clear", 1, 0, 1, parse_opt_path, run_clear, KF_UPDATE, NULL,
    .txn_positional = 1, .txn_options = "",
    .txn_usage = "JSON.CLEAR k path (one path inside DOC.TXN)"};
/* clang-format on */

/* TOGGLE: `$` paths reply the new values as 1 / 0, legacy ones "true" /
 * "false" (RedisJSON's shapes). */
static doc_status toggle_at(op *o, exec_ctx *x, keyslot *k, doc_cursor *c, const doc_path *at, result *r,
                            int legacy) {
    (void)o, (void)k, (void)at;
    const uint8_t *v = doc_cursor_value(c);
    if (*v != DOC_TAG_TRUE && *v != DOC_TAG_FALSE) return skip_match(legacy, r);
    uint8_t now = *v == DOC_TAG_TRUE ? DOC_TAG_FALSE : DOC_TAG_TRUE;
    if (legacy)
        res_json(r, &now);
    else
        res_int(r, now == DOC_TAG_TRUE);
    return doc_edit_set_encoded(c, &now, 1, x->undo, &x->err);
}
static doc_status run_toggle(op *o, exec_ctx *x, keyslot *k, result *out) {
    return run_write(o, x, k, out, toggle_at, "not a bool");
}
/* clang-format off */
const op_def op_json_toggle = {"JSON.TOGGLE", "json.toggle", 1, 0, 1, parse_opt_path, run_toggle, KF_READ_UPDATE, NULL,
    .txn_positional = 1, .txn_options = "",
    .txn_usage = "JSON.TOGGLE k path (one path inside DOC.TXN)"};
/* clang-format on */

/* MERGE: RFC 7396 at every match, through DOC.MERGE's runner. Nothing
 * matched: like JSON.SET, a single path whose parent is an object gets the
 * member (the patch with its nulls dropped), a missing key only at the root. */
static doc_status merge_at(op *o, exec_ctx *x, keyslot *k, doc_cursor *c, const doc_path *at, result *r,
                           int legacy) {
    (void)c, (void)legacy;
    return run_doc_op(&op_merge, o, x, k, at, o->values[0], r);
}
static doc_status run_json_merge(op *o, exec_ctx *x, keyslot *k, result *out) {
    jpath p;
    jpath_of(o, 0, o->raw, &p);
    if (!k->doc && (!p.p || p.p->nseg != 0))
        return doc_error_set(&x->err, DOC_ERR, "new objects must be created at the root");
    if (!k->doc) return run_doc_op(&op_merge, o, x, k, p.p, o->values[0], out);
    result all;
    memset(&all, 0, sizeof all);
    doc_status st = each_write(o, x, k, &p, merge_at, &all);
    size_t n = all.n;
    res_free(&all);
    if (st) return st;
    if (n) {
        res_ok(out);
        return DOC_OK;
    }
    res_nil(out); /* nothing matched and nowhere to add: nil, as RedisJSON's json_merge */
    if (!p.p || p.p->nseg == 0 || p.p->segs[p.p->nseg - 1].kind != DOC_SEG_NAME) return DOC_OK;
    doc_path parent = *p.p;
    parent.nseg--;
    doc_cursor c;
    doc_cursor_init(&c, &k->doc->root);
    doc_error miss;
    doc_error_clear(&miss);
    if (doc_resolve(&c, &parent, &miss) == DOC_OK && *doc_cursor_value(&c) == DOC_TAG_OBJECT)
        st = run_doc_op(&op_merge, o, x, k, p.p, o->values[0], out);
    doc_cursor_free(&c);
    return st;
}
static doc_status parse_path_value(op *o, RedisModuleString **argv, int argc, doc_error *err) {
    (void)argc;
    o->raw = argv[0];
    if (parse_jpath(o, argv[0], err) || parse_jvalue(o, argv[1], err)) return err->code;
    return DOC_OK;
}
/* clang-format off */
const op_def op_json_merge = {"JSON.MERGE", "json.merge", 1, 2, 2, parse_path_value, run_json_merge, KF_UPDATE, NULL,
    .txn_positional = 2, .txn_options = "",
    .txn_usage = "JSON.MERGE k path json"};
/* clang-format on */

/* ------------------------------------------------------------------ */
/* Handlers                                                           */
/* ------------------------------------------------------------------ */

/* JSON.DEBUG MEMORY key [path] | JSON.DEBUG HELP */
int cmd_json_debug(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (RedisModule_IsKeysPositionRequest(ctx)) return REDISMODULE_OK;
    if (argc == 2 && arg_is(argv[1], "HELP")) {
        RedisModule_ReplyWithArray(ctx, 2);
        RedisModule_ReplyWithSimpleString(ctx, "MEMORY <key> [path] - reports memory usage");
        RedisModule_ReplyWithSimpleString(ctx, "HELP                - this message");
        return REDISMODULE_OK;
    }
    if (argc < 3 || argc > 4 || !arg_is(argv[1], "MEMORY"))
        return argc < 2 ? RedisModule_WrongArity(ctx)
                        : RedisModule_ReplyWithError(ctx, "ERR unknown subcommand - try `JSON.DEBUG HELP`");
    return exec_single(ctx, argv + 1, argc - 1, &op_json_debug_memory);
}

/* JSON.MGET key [key ...] path: per key the path's answer as JSON text (the
 * first match for a legacy path, the array of matches for `$`), nil for a
 * missing key, a missing legacy path or a key of another type. */
int cmd_json_mget(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 3) return RedisModule_WrongArity(ctx);
    cmd_begin(ctx);
    op o;
    memset(&o, 0, sizeof o);
    o.def = &op_json_get;
    doc_error err;
    doc_error_clear(&err);
    for (int f = 0; f < 3; f++)
        if (op_add_value(&o, doc_box_string("", 0), &err)) break;
    size_t plen;
    const char *ptext = RedisModule_StringPtrLen(argv[argc - 1], &plen);
    doc_node *pbox = doc_box_string(ptext, plen);
    if (err.code || !pbox || op_add_value(&o, pbox, &err) || parse_jpath(&o, argv[argc - 1], &err)) {
        if (!err.code) doc_error_set(&err, DOC_NOMEM, "out of memory");
        op_reset(&o);
        return reply_error(ctx, &err);
    }
    RedisModule_ReplyWithArray(ctx, argc - 2);
    for (int i = 1; i < argc - 1; i++) {
        RedisModuleKey *key = RedisModule_OpenKey(ctx, argv[i], REDISMODULE_READ);
        keyslot k;
        memset(&k, 0, sizeof k);
        if (RedisModule_KeyType(key) == REDISMODULE_KEYTYPE_MODULE &&
            RedisModule_ModuleTypeGetType(key) == adoc_type)
            k.doc = RedisModule_ModuleTypeGetValue(key);
        exec_ctx x;
        memset(&x, 0, sizeof x);
        x.ctx = ctx;
        result r;
        memset(&r, 0, sizeof r);
        if (!k.doc || run_get(&o, &x, &k, &r)) {
            res_free(&r);
            res_nil(&r);
        }
        reply_result(ctx, &r);
        res_free(&r);
        RedisModule_CloseKey(key);
    }
    op_reset(&o);
    return REDISMODULE_OK;
}

/* JSON.MSET key path value [key path value ...]: JSON.SET ops, all or
 * nothing, one reply (OK). */
int cmd_json_mset(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 4 || (argc - 1) % 3 != 0) return RedisModule_WrongArity(ctx);
    cmd_begin(ctx);
    int n = (argc - 1) / 3;
    op *ops = RedisModule_Calloc((size_t)n, sizeof *ops);
    RedisModuleString **uniq = RedisModule_Alloc((size_t)n * sizeof *uniq);
    int nkeys = 0;
    doc_error err;
    doc_error_clear(&err);
    int ret = -1;
    for (int i = 0; i < n && ret < 0; i++) {
        RedisModuleString *name = argv[1 + 3 * i];
        int j = 0;
        while (j < nkeys && RedisModule_StringCompare(uniq[j], name) != 0) j++;
        if (j == nkeys) uniq[nkeys++] = name;
        ops[i].def = &op_json_mset_set;
        ops[i].key = j;
        if (parse_set(&ops[i], argv + 2 + 3 * i, 2, &err)) ret = reply_error(ctx, &err);
    }
    if (ret < 0) ret = exec_ops(ctx, argv, argc, uniq, nkeys, ops, n, EXEC_WRITE);
    for (int i = 0; i < n; i++) op_reset(&ops[i]);
    RedisModule_Free(ops);
    RedisModule_Free(uniq);
    return ret;
}

/* ---- the commands of this file: registration, COMMAND DOCS, INFO counters
 * (ADOC_COMMAND, atomicdoc.h) ---- */

ADOC_COMMAND(json_set, .name = "json.set", .op = &op_json_set, .flags = "write deny-oom", .arity = -4,
             .keyshape = KS_ONE, .summary = "Sets the JSON value at a path (RedisJSON)",
             .complexity = "O(size of the value x matches)", .json = 1)

ADOC_COMMAND(json_get, .name = "json.get", .op = &op_json_get, .flags = "readonly", .arity = -2,
             .keyshape = KS_ONE, .summary = "Returns the JSON text at one or more paths (RedisJSON)",
             .complexity = "O(size of the reply)", .json = 1)

ADOC_COMMAND(json_del, .name = "json.del", .op = &op_json_del, .flags = "write", .arity = -2,
             .keyshape = KS_ONE, .summary = "Deletes the values at a path (RedisJSON)",
             .complexity = "O(matches x size of their containers)", .json = 1)

ADOC_COMMAND(json_forget, .name = "json.forget", .op = &op_json_del, .flags = "write", .arity = -2,
             .keyshape = KS_ONE, .summary = "Deletes the values at a path (RedisJSON)",
             .complexity = "O(matches x size of their containers)", .json = 1)

ADOC_COMMAND(json_type, .name = "json.type", .op = &op_json_type, .flags = "readonly", .arity = -2,
             .keyshape = KS_ONE, .summary = "Returns the JSON types at a path (RedisJSON)",
             .complexity = "O(matches)", .json = 1)

ADOC_COMMAND(json_mget, .name = "json.mget", .op = NULL, .handler = cmd_json_mget, .flags = "readonly",
             .arity = -3, .keyshape = KS_MGET, .keyflags = KF_READ,
             .summary = "Returns the JSON text at one path of several keys (RedisJSON)",
             .complexity = "O(keys x reply)", .json = 1)

ADOC_COMMAND(json_mset, .name = "json.mset", .op = NULL, .handler = cmd_json_mset, .flags = "write deny-oom",
             .arity = -4, .keyshape = KS_MSET, .keyflags = KF_UPDATE,
             .summary = "Sets values in several keys, all or nothing (RedisJSON)",
             .complexity = "O(sum of the JSON.SET costs)", .json = 1)

ADOC_COMMAND(json_numincrby, .name = "json.numincrby", .op = &op_json_numincrby, .flags = "write", .arity = 4,
             .keyshape = KS_ONE, .summary = "Adds to the numbers at a path (RedisJSON)",
             .complexity = "O(matches x size of their containers)", .json = 1)

ADOC_COMMAND(json_nummultby, .name = "json.nummultby", .op = &op_json_nummultby, .flags = "write", .arity = 4,
             .keyshape = KS_ONE, .summary = "Multiplies the numbers at a path (RedisJSON)",
             .complexity = "O(matches x size of their containers)", .json = 1)

ADOC_COMMAND(json_strappend, .name = "json.strappend", .op = &op_json_strappend, .flags = "write deny-oom",
             .arity = -3, .keyshape = KS_ONE, .summary = "Appends to the strings at a path (RedisJSON)",
             .complexity = "O(matches x length of the strings)", .json = 1)

ADOC_COMMAND(json_strlen, .name = "json.strlen", .op = &op_json_strlen, .flags = "readonly", .arity = -2,
             .keyshape = KS_ONE, .summary = "Returns the lengths of the strings at a path (RedisJSON)",
             .complexity = "O(matches)", .json = 1)

ADOC_COMMAND(json_arrappend, .name = "json.arrappend", .op = &op_json_arrappend, .flags = "write deny-oom",
             .arity = -4, .keyshape = KS_ONE, .summary = "Appends values to the arrays at a path (RedisJSON)",
             .complexity = "O(matches x size of the arrays)", .json = 1)

ADOC_COMMAND(json_arrindex, .name = "json.arrindex", .op = &op_json_arrindex, .flags = "readonly",
             .arity = -4, .keyshape = KS_ONE,
             .summary = "Returns the first index of a value in the arrays at a path (RedisJSON)",
             .complexity = "O(matches x size of the arrays)", .json = 1)

ADOC_COMMAND(json_arrinsert, .name = "json.arrinsert", .op = &op_json_arrinsert, .flags = "write deny-oom",
             .arity = -5, .keyshape = KS_ONE,
             .summary = "Inserts values into the arrays at a path (RedisJSON)",
             .complexity = "O(matches x size of the arrays)", .json = 1)

ADOC_COMMAND(json_arrlen, .name = "json.arrlen", .op = &op_json_arrlen, .flags = "readonly", .arity = -2,
             .keyshape = KS_ONE, .summary = "Returns the lengths of the arrays at a path (RedisJSON)",
             .complexity = "O(matches)", .json = 1)

ADOC_COMMAND(json_arrpop, .name = "json.arrpop", .op = &op_json_arrpop, .flags = "write", .arity = -2,
             .keyshape = KS_ONE,
             .summary = "Removes and returns an element of the arrays at a path (RedisJSON)",
             .complexity = "O(matches x size of the arrays)", .json = 1)

ADOC_COMMAND(json_arrtrim, .name = "json.arrtrim", .op = &op_json_arrtrim, .flags = "write", .arity = 5,
             .keyshape = KS_ONE, .summary = "Trims the arrays at a path to a range (RedisJSON)",
             .complexity = "O(matches x size of the arrays)", .json = 1)

ADOC_COMMAND(json_objkeys, .name = "json.objkeys", .op = &op_json_objkeys, .flags = "readonly", .arity = -2,
             .keyshape = KS_ONE, .summary = "Returns the member names of the objects at a path (RedisJSON)",
             .complexity = "O(matches x members)", .json = 1)

ADOC_COMMAND(json_objlen, .name = "json.objlen", .op = &op_json_objlen, .flags = "readonly", .arity = -2,
             .keyshape = KS_ONE, .summary = "Returns the member counts of the objects at a path (RedisJSON)",
             .complexity = "O(matches)", .json = 1)

ADOC_COMMAND(json_clear, .name = "json.clear", .op = &op_json_clear, .flags = "write", .arity = -2,
             .keyshape = KS_ONE, .summary = "Empties containers and zeroes numbers at a path (RedisJSON)",
             .complexity = "O(matches x size of what is cleared)", .json = 1)

ADOC_COMMAND(json_toggle, .name = "json.toggle", .op = &op_json_toggle, .flags = "write deny-oom",
             .arity = -2, .keyshape = KS_ONE, .summary = "Flips the booleans at a path (RedisJSON)",
             .complexity = "O(matches)", .json = 1)

ADOC_COMMAND(json_merge, .name = "json.merge", .op = &op_json_merge, .flags = "write deny-oom", .arity = 4,
             .keyshape = KS_ONE, .summary = "Applies a JSON Merge Patch at a path (RedisJSON)",
             .complexity = "O(matches x size of the patch)", .json = 1)

ADOC_COMMAND(json_resp, .name = "json.resp", .op = &op_json_resp, .flags = "readonly", .arity = -2,
             .keyshape = KS_ONE, .summary = "Returns the value at a path in RESP form (RedisJSON)",
             .complexity = "O(size of the reply)", .json = 1)

ADOC_COMMAND(json_debug, .name = "json.debug", .op = NULL, .handler = cmd_json_debug, .flags = "readonly",
             .first = 2, .last = 2, .step = 1, .arity = -2, .keyshape = KS_ONE, .keyflags = KF_READ,
             .summary = "JSON.DEBUG MEMORY key [path] / JSON.DEBUG HELP (RedisJSON)",
             .complexity = "O(size of the value)", .json = 1)
