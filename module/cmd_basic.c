/*
 * cmd_basic.c - the document commands of the foundation: SET, GET, DEL,
 * TYPE, LEN, KEYS, VERSION as ops (so DOC.TXN reuses them), and the
 * multi-key DOC.MSET / DOC.MGET plus the internal DOC.AOFLOAD.
 *
 * Each op is a parser (arguments after the key) and a runner (one key slot,
 * fills a result or fails with nothing changed: command.c rolls back).
 * SET, MSET and DEL also take RFC 9535 query paths: the runner then runs
 * once per match (op_each_match, command.c), reading its path only through
 * o->paths[0].
 */
#include "atomicdoc.h"

#include <string.h>

/* Resolves the op's path (or the root) for reading in slot k's document. */
static doc_status read_at(const op *o, int i, keyslot *k, doc_cursor *c, doc_error *err) {
    static const doc_path root = {0, NULL, NULL, 0};
    doc_cursor_init(c, &k->doc->root);
    return doc_resolve(c, i < o->npaths ? o->paths[i] : &root, err);
}

static int is_root(const doc_path *p) { return !p || p->nseg == 0; }

/* ---- DOC.SET key path json [NX|XX] [EX s|PX ms|EXAT t|PXAT t|KEEPTTL] ----
 * Options in any order, each at most once, as SET takes them. */

#define SET_USAGE "DOC.SET key path json [NX|XX] [EX s|PX ms|EXAT t|PXAT t|KEEPTTL]"

static doc_status parse_set(op *o, RedisModuleString **argv, int argc, doc_error *err) {
    doc_node *v;
    /* `DOC.SET k NX $ 1`, `DOC.SET k $ EX 10 '{}'`: an option where the path or the JSON goes. */
    for (int i = 0; i < 2 && i < argc; i++)
        if (arg_is(argv[i], "NX") || arg_is(argv[i], "XX") || arg_is(argv[i], "EX") ||
            arg_is(argv[i], "PX") || arg_is(argv[i], "EXAT") || arg_is(argv[i], "PXAT") ||
            arg_is(argv[i], "KEEPTTL"))
            return arg_misplaced(argv[i], "after the path and the JSON", SET_USAGE, err);
    for (int i = 2; i < argc;) {
        int took = arg_ttl(o, argv, i, argc, 1, "doc.set", err);
        if (took < 0) return err->code;
        if (took > 0) {
            i += took;
            continue;
        }
        int nx = arg_is(argv[i], "NX");
        if (!nx && !arg_is(argv[i], "XX"))
            return doc_error_set(err, DOC_SYNTAX, "unknown option '%.40s': " SET_USAGE,
                                 RedisModule_StringPtrLen(argv[i], NULL));
        if (o->flags & (OPF_NX | OPF_XX)) return doc_error_set(err, DOC_SYNTAX, "at most one of NX, XX");
        o->flags |= nx ? OPF_NX : OPF_XX;
        i++;
    }
    if (op_add_write_path(o, argv[0], err)) return err->code;
    if (arg_json(argv[1], &v, err) || op_add_value(o, v, err)) return err->code;
    return DOC_OK;
}

static doc_status run_set(op *o, exec_ctx *x, keyslot *k, result *out) {
    const doc_path *p = o->paths[0];
    doc_cursor c;
    doc_status st;
    /* NX / XX look first, so a condition not met creates nothing. */
    if (o->flags & (OPF_NX | OPF_XX)) {
        int exists = 0;
        if (k->doc) {
            doc_error probe;
            doc_error_clear(&probe);
            exists = read_at(o, 0, k, &c, &probe) == DOC_OK;
            doc_cursor_free(&c);
        }
        if ((o->flags & OPF_NX) ? exists : !exists) {
            res_nil(out);
            return DOC_OK;
        }
    }
    /* The op runs once: its parsed value moves into the document. */
    doc_node *value = o->values[0];
    o->values[0] = NULL;
    /* A root SET replaces the value: its TTL goes unless KEEPTTL (as SET);
     * a SET below the root edits the document and keeps it. */
    slot_ttl(k, o, is_root(p));
    if (!k->doc && is_root(p)) {
        k->doc = adoc_new_take(value);
        slot_touch(k, o);
        res_ok(out);
        return DOC_OK;
    }
    if (!slot_ensure(x, k)) {
        doc_node_free(value);
        return x->err.code;
    }
    doc_cursor_init(&c, &k->doc->root);
    st = doc_resolve_write(&c, p, x->undo, &x->err);
    if (st)
        doc_node_free(value);
    else
        st = doc_edit_set_take(&c, value, x->undo, &x->err);
    doc_cursor_free(&c);
    if (st) return st;
    res_ok(out);
    return DOC_OK;
}

/* clang-format off */
const op_def op_set = {"SET", "doc.set", 1, 2, -1, parse_set, run_set, KF_UPDATE, NULL,
    .txn_positional = 2, .txn_options = "NX XX EX:1 PX:1 EXAT:1 PXAT:1 KEEPTTL",
    .txn_usage = "SET k path json [NX|XX] [EX s|PX ms|EXAT t|PXAT t|KEEPTTL]",
    .run_query = op_each_match, .whole_values = 1};
/* clang-format on */

/* ---- DOC.GET key [WITHVERSION] [path ...] ---- */

static doc_status parse_get(op *o, RedisModuleString **argv, int argc, doc_error *err) {
    int i = 0;
    if (argc > 0 && arg_is(argv[0], "WITHVERSION")) {
        o->flags |= OPF_WITHVERSION;
        i = 1;
    }
    for (; i < argc; i++) {
        doc_path *p;
        doc_query *q;
        /* `DOC.GET k $.a WITHVERSION` would read a member named WITHVERSION
         * (write `$.WITHVERSION` for one). */
        if (arg_is(argv[i], "WITHVERSION"))
            return arg_misplaced(argv[i], "right after the key", "DOC.GET key [WITHVERSION] [path ...]", err);
        if (arg_read_path(argv[i], &p, &q, err) || op_add_read_path(o, p, q, err)) return err->code;
    }
    return DOC_OK;
}

/* doc_query_eval callback: collects match pointers in a doc_buf. */
static int collect(void *ctx, const uint8_t *value, const char *norm) {
    (void)norm;
    doc_buf_append(ctx, &value, sizeof value);
    return 0;
}

/* The values a query matches in `root`, as an array of pointers in *out
 * (a doc_buf the caller frees); returns the count, or -1 on OOM. */
static long matches(const doc_query *q, const uint8_t *root, doc_buf *out, doc_error *err) {
    doc_buf_init(out);
    if (doc_query_eval(q, root, collect, out, 0, err) || out->oom) return -1;
    return (long)(out->len / sizeof(const uint8_t *));
}

static const uint8_t *match_at(const doc_buf *m, long i) {
    const uint8_t *v;
    memcpy(&v, m->data + (size_t)i * sizeof v, sizeof v);
    return v;
}

/* A query's matches as one JSON array text. */
static void res_json_matches(result *out, const doc_buf *m, long n) {
    out->kind = RES_BULK;
    doc_buf_putc(&out->text, '[');
    for (long i = 0; i < n; i++) {
        if (i) doc_buf_putc(&out->text, ',');
        doc_print(match_at(m, i), &out->text);
    }
    doc_buf_putc(&out->text, ']');
}

/* One path's value as JSON text, or nil; a query path: the JSON array of
 * every match, in document order. */
static doc_status get_one(const op *o, int i, keyslot *k, result *out, int borrow, doc_error *err) {
    /* The whole document: served from, or offered to, the read cache. When
     * the command writes nothing (exec_ctx.borrow) the reply is sent
     * straight from the cached text, and freshly printed text becomes the
     * cached text itself: one copy, into the reply. */
    if (i >= o->npaths || (!(o->queries && o->queries[i]) && o->paths[i]->nseg == 0)) {
        size_t len;
        const char *text = adoc_text(k->doc, &len);
        if (text && borrow) {
            out->kind = RES_BULK;
            out->text.data = (char *)text;
            out->text.len = out->text.cap = len;
            out->borrowed = 1;
        } else if (text) {
            out->kind = RES_BULK;
            doc_buf_append(&out->text, text, len);
        } else {
            res_json(out, doc_box_value(k->doc->root));
            if (out->text.oom)
                ;
            else if (borrow)
                out->borrowed = adoc_text_adopt(k->doc, &out->text);
            else
                adoc_text_offer(k->doc, out->text.data, out->text.len);
        }
        return out->text.oom ? doc_error_set(err, DOC_NOMEM, "out of memory") : DOC_OK;
    }
    if (o->queries && o->queries[i]) {
        doc_buf m;
        long n = matches(o->queries[i], doc_box_value(k->doc->root), &m, err);
        if (n >= 0) res_json_matches(out, &m, n);
        doc_buf_free(&m);
        return n < 0 ? doc_error_set(err, DOC_NOMEM, "out of memory") : DOC_OK;
    }
    doc_cursor c;
    doc_error miss;
    doc_error_clear(&miss);
    if (read_at(o, i, k, &c, &miss) == DOC_OK)
        res_json(out, doc_cursor_value(&c));
    else
        res_nil(out);
    doc_cursor_free(&c);
    return DOC_OK;
}

static doc_status run_get(op *o, exec_ctx *x, keyslot *k, result *out) {
    result *body = out;
    if (o->flags & OPF_WITHVERSION) {
        result *two = res_array(out, 2);
        if (!two) return doc_error_set(&x->err, DOC_NOMEM, "out of memory");
        res_int(&two[0], k->doc ? (long long)k->doc->version : 0);
        body = &two[1];
    }
    if (!k->doc) {
        res_nil(body);
    } else if (o->npaths <= 1) {
        return get_one(o, 0, k, body, x->borrow, &x->err);
    } else {
        result *items = res_array(body, (size_t)o->npaths);
        if (!items) return doc_error_set(&x->err, DOC_NOMEM, "out of memory");
        for (int i = 0; i < o->npaths; i++)
            if (get_one(o, i, k, &items[i], x->borrow, &x->err)) return x->err.code;
    }
    return DOC_OK;
}

/* clang-format off */
const op_def op_get = {"GET", NULL, 0, 0, -1, parse_get, run_get, KF_READ, NULL,
    .txn_positional = 1, .txn_options = "",
    .txn_usage = "GET k [WITHVERSION] path (one path inside DOC.TXN)"};
/* clang-format on */

/* ---- single optional path: DEL, TYPE, LEN, KEYS ---- */

/* DEL's path: single, or a query (every match is deleted). */
static doc_status parse_opt_path(op *o, RedisModuleString **argv, int argc, doc_error *err) {
    if (argc == 1 && op_add_write_path(o, argv[0], err)) return err->code;
    return DOC_OK;
}

static doc_status parse_opt_read_path(op *o, RedisModuleString **argv, int argc, doc_error *err) {
    doc_path *p;
    doc_query *q;
    if (argc == 1 && (arg_read_path(argv[0], &p, &q, err) || op_add_read_path(o, p, q, err)))
        return err->code;
    return DOC_OK;
}

static doc_status run_del(op *o, exec_ctx *x, keyslot *k, result *out) {
    if (!k->doc) {
        res_int(out, 0);
        return DOC_OK;
    }
    if (o->npaths == 0 || is_root(o->paths[0])) {
        slot_delete(x, k, o);
        res_int(out, 1);
        return DOC_OK;
    }
    doc_cursor c;
    doc_error miss;
    doc_error_clear(&miss);
    doc_status st = DOC_OK;
    if (read_at(o, 0, k, &c, &miss) != DOC_OK) {
        res_int(out, 0);
    } else {
        st = doc_edit_remove(&c, x->undo, &x->err);
        if (!st) {
            res_int(out, 1);
        }
    }
    doc_cursor_free(&c);
    return st;
}

/* clang-format off */
const op_def op_del = {"DEL", "doc.del", 1, 0, 1, parse_opt_path, run_del, KF_DELETE, NULL,
    .txn_positional = 1, .txn_options = "",
    .txn_usage = "DEL k path (one path inside DOC.TXN)",
    .run_query = op_each_match, .whole_values = 1};
/* clang-format on */

/* What an inspecting op replies for one value. In a query's array, a value
 * of the wrong type gives nil instead of an error (one bad match does not
 * hide the others). */
typedef doc_status (*inspect_fn)(const uint8_t *v, result *out, int in_query, doc_error *err);

static doc_status inspect_type(const uint8_t *v, result *out, int in_query, doc_error *err) {
    (void)in_query;
    (void)err;
    doc_view view;
    doc_value_decode(v, &view);
    res_simple(out, doc_type_name(view.type));
    return DOC_OK;
}

static doc_status inspect_len(const uint8_t *v, result *out, int in_query, doc_error *err) {
    doc_view view;
    doc_value_decode(v, &view);
    if (view.type == DOC_OBJECT || view.type == DOC_ARRAY)
        res_int(out, doc_node_count(view.node));
    else if (view.type == DOC_STRING)
        res_int(out, (long long)view.slen);
    else if (in_query)
        res_nil(out);
    else
        return doc_error_set(err, DOC_BADTYPE, "LEN of %s", doc_type_phrase(view.type));
    return DOC_OK;
}

static doc_status inspect_keys(const uint8_t *v, result *out, int in_query, doc_error *err) {
    doc_view view;
    doc_value_decode(v, &view);
    if (view.type != DOC_OBJECT) {
        if (in_query) {
            res_nil(out);
            return DOC_OK;
        }
        return doc_error_set(err, DOC_BADTYPE, "KEYS of %s", doc_type_phrase(view.type));
    }
    result *items = res_array(out, doc_node_count(view.node));
    if (!items) return doc_error_set(err, DOC_NOMEM, "out of memory");
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

/* Runs an inspecting op: nil when nothing is there; for a query, an array
 * with one reply per match. */
static doc_status inspect(const op *o, exec_ctx *x, keyslot *k, result *out, inspect_fn fn) {
    if (!k->doc) {
        res_nil(out);
        return DOC_OK;
    }
    if (o->queries && o->queries[0]) {
        doc_buf m;
        long n = matches(o->queries[0], doc_box_value(k->doc->root), &m, &x->err);
        result *items = n >= 0 ? res_array(out, (size_t)n) : NULL;
        doc_status st = items ? DOC_OK : doc_error_set(&x->err, DOC_NOMEM, "out of memory");
        for (long i = 0; !st && i < n; i++) st = fn(match_at(&m, i), &items[i], 1, &x->err);
        doc_buf_free(&m);
        return st;
    }
    doc_cursor c;
    doc_error miss;
    doc_error_clear(&miss);
    doc_status st = DOC_OK;
    if (read_at(o, 0, k, &c, &miss) == DOC_OK)
        st = fn(doc_cursor_value(&c), out, 0, &x->err);
    else
        res_nil(out);
    doc_cursor_free(&c);
    return st;
}

static doc_status run_type(op *o, exec_ctx *x, keyslot *k, result *out) {
    return inspect(o, x, k, out, inspect_type);
}
static doc_status run_len(op *o, exec_ctx *x, keyslot *k, result *out) {
    return inspect(o, x, k, out, inspect_len);
}
static doc_status run_keys(op *o, exec_ctx *x, keyslot *k, result *out) {
    return inspect(o, x, k, out, inspect_keys);
}

/* clang-format off */
const op_def op_type = {"TYPE", NULL, 0, 0, 1, parse_opt_read_path, run_type, KF_READ, NULL,
    .txn_positional = 1, .txn_options = "",
    .txn_usage = "TYPE k path (one path inside DOC.TXN)"};
const op_def op_len = {"LEN", NULL, 0, 0, 1, parse_opt_read_path, run_len, KF_READ, NULL,
    .txn_positional = 1, .txn_options = "",
    .txn_usage = "LEN k path (one path inside DOC.TXN)"};
const op_def op_keys = {"KEYS", NULL, 0, 0, 1, parse_opt_read_path, run_keys, KF_READ, NULL,
    .txn_positional = 1, .txn_options = "",
    .txn_usage = "KEYS k path (one path inside DOC.TXN)"};
/* clang-format on */

static doc_status run_version(op *o, exec_ctx *x, keyslot *k, result *out) {
    (void)o;
    (void)x;
    res_int(out, k->doc ? (long long)k->doc->version : 0);
    return DOC_OK;
}

/* clang-format off */
const op_def op_version = {"VERSION", NULL, 0, 0, 0, NULL, run_version, KF_READ, NULL,
    .txn_positional = 0, .txn_options = "",
    .txn_usage = "VERSION k"};
/* clang-format on */

/* ---- DOC.MSET key path json [key path json ...] ---- */

/* Maps argv key names to distinct slots: returns the number of distinct
 * names; slot_of[i] is the slot of the i-th name. */
static int distinct_keys(RedisModuleString **names, int n, int stride, RedisModuleString **uniq,
                         int *slot_of) {
    int u = 0;
    for (int i = 0; i < n; i++) {
        RedisModuleString *s = names[i * stride];
        int j = 0;
        while (j < u && RedisModule_StringCompare(uniq[j], s) != 0) j++;
        if (j == u) uniq[u++] = s;
        slot_of[i] = j;
    }
    return u;
}

int cmd_mset(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int cmd_mset(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 4 || (argc - 1) % 3 != 0) return reply_arity(ctx, argv[0]);
    cmd_begin(ctx);
    int n = (argc - 1) / 3;
    op *ops = RedisModule_Calloc((size_t)n, sizeof *ops);
    RedisModuleString **uniq = RedisModule_Alloc((size_t)n * sizeof *uniq);
    int *slot_of = RedisModule_Alloc((size_t)n * sizeof *slot_of);
    int nkeys = distinct_keys(argv + 1, n, 3, uniq, slot_of);
    doc_error err;
    doc_error_clear(&err);
    int ret = -1;
    for (int i = 0; i < n && ret < 0; i++) {
        ops[i].def = &op_set;
        ops[i].key = slot_of[i];
        /* A query path sets every match and still replies OK. */
        ops[i].flags = OPF_REPLY_OK;
        if (parse_set(&ops[i], argv + 2 + 3 * i, 2, &err)) ret = reply_error(ctx, &err);
    }
    if (ret < 0) {
        /* Same machinery as one command: all or nothing; one reply. */
        ret = exec_ops(ctx, argv, argc, uniq, nkeys, ops, n, EXEC_WRITE);
    }
    for (int i = 0; i < n; i++) op_reset(&ops[i]);
    RedisModule_Free(ops);
    RedisModule_Free(uniq);
    RedisModule_Free(slot_of);
    return ret;
}

/* ---- DOC.MGET key [key ...] path ----
 * One GET op per key, all reading the one parsed path, through the shared
 * skeleton: a reply array of one result per key (nil for a missing key, a
 * missing path or a key of another type, as MGET answers for non-strings),
 * whole documents served from and offered to the read cache like DOC.GET's,
 * and any core error (out of memory) an error reply through reply.c. */

static const op_def op_mget = {"MGET", NULL, 0, 0, 0, NULL, run_get, KF_READ, NULL, .txn_usage = NULL};

int cmd_mget(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int cmd_mget(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 3) return reply_arity(ctx, argv[0]);
    cmd_begin(ctx);
    int n = argc - 2;
    doc_error err;
    doc_error_clear(&err);
    doc_path *p;
    doc_query *q;
    op *ops = RedisModule_Calloc((size_t)n, sizeof *ops);
    if (arg_read_path(argv[argc - 1], &p, &q, &err) || op_add_read_path(&ops[0], p, q, &err)) {
        RedisModule_Free(ops);
        return reply_error(ctx, &err);
    }
    RedisModuleString **uniq = RedisModule_Alloc((size_t)n * sizeof *uniq);
    int *slot_of = RedisModule_Alloc((size_t)n * sizeof *slot_of);
    int nkeys = distinct_keys(argv + 1, n, 1, uniq, slot_of);
    /* ops[0] owns the path; the others borrow it (read only while they run)
     * and are cleared, not reset, afterwards. */
    for (int i = 0; i < n; i++) {
        if (i) {
            ops[i].paths = ops[0].paths;
            ops[i].queries = ops[0].queries;
            ops[i].npaths = 1;
        }
        ops[i].def = &op_mget;
        ops[i].key = slot_of[i];
    }
    int ret = exec_ops(ctx, argv, argc, uniq, nkeys, ops, n, EXEC_PER_OP | EXEC_OTHER_TYPE_NIL);
    op_reset(&ops[0]);
    RedisModule_Free(ops);
    RedisModule_Free(uniq);
    RedisModule_Free(slot_of);
    return ret;
}

/* ---- DOC.AOFLOAD key version path json (internal: AOF rewrite) ----
 * Path $ sets the whole document; another path names an existing container
 * of the same kind as json, which receives json's elements (array) or
 * members (object) at its end. Either way the version becomes `version`.
 * This is how a document of any size is rebuilt from commands that each
 * stay small (type.c emits them). */

static doc_status parse_aofload(op *o, RedisModuleString **argv, int argc, doc_error *err) {
    (void)argc;
    if (arg_ll(argv[0], &o->n1, "version", err)) return err->code;
    if (o->n1 < 1) return doc_error_set(err, DOC_SYNTAX, "version must be positive");
    doc_path *p;
    doc_node *v;
    if (arg_path(argv[1], &p, err) || op_add_path(o, p, err)) return err->code;
    /* The document was valid when saved: accept up to the hard depth limit
     * so lowering max-depth never makes an AOF unloadable. */
    size_t len;
    const char *text = RedisModule_StringPtrLen(argv[2], &len);
    v = doc_parse(text, len, DOC_DEPTH_LIMIT, err);
    if (!v || op_add_value(o, v, err)) return err->code;
    return DOC_OK;
}

static doc_status run_aofload(op *o, exec_ctx *x, keyslot *k, result *out) {
    const doc_path *p = o->paths[0];
    const uint8_t *val = doc_box_value(o->values[0]);
    doc_cursor c;
    doc_status st = DOC_OK;
    if (is_root(p)) {
        doc_node *copy = doc_value_copy(val);
        if (!copy) return doc_error_set(&x->err, DOC_NOMEM, "out of memory");
        if (!k->doc) {
            k->doc = adoc_new_take(copy);
        } else {
            doc_cursor_init(&c, &k->doc->root);
            st = doc_resolve(&c, p, &x->err);
            if (!st)
                st = doc_edit_set_take(&c, copy, x->undo, &x->err);
            else
                doc_node_free(copy);
            doc_cursor_free(&c);
        }
    } else {
        if (!k->doc) return doc_error_set(&x->err, DOC_NOPATH, "no document to extend");
        doc_cursor_init(&c, &k->doc->root);
        st = doc_resolve(&c, p, &x->err);
        doc_view target, src;
        if (!st) {
            doc_value_decode(doc_cursor_value(&c), &target);
            doc_value_decode(val, &src);
            if (target.type != src.type || (src.type != DOC_ARRAY && src.type != DOC_OBJECT))
                st = doc_error_set(&x->err, DOC_BADTYPE, "AOFLOAD extends a container of the same type");
        }
        size_t depth = c.depth;
        doc_iter it;
        const char *key;
        size_t klen;
        const uint8_t *child;
        if (!st) doc_iter_init(&it, src.node);
        while (!st && doc_iter_next(&it, &key, &klen, &child, NULL)) {
            doc_node *copy = doc_value_copy(child);
            if (!copy) {
                st = doc_error_set(&x->err, DOC_NOMEM, "out of memory");
                break;
            }
            doc_view now;
            c.depth = depth;
            doc_value_decode(doc_cursor_value(&c), &now);
            if (src.type == DOC_ARRAY) {
                st = doc_edit_insert_take(&c, doc_node_count(now.node), copy, x->undo, &x->err);
            } else if (doc_object_get(now.node, key, klen, NULL, NULL)) {
                doc_node_free(copy);
                st = doc_error_set(&x->err, DOC_BADJSON, "duplicate key \"%.*s\"",
                                   (int)(klen > 40 ? 40 : klen), key);
            } else {
                c.missing = 1;
                c.missing_key = key;
                c.missing_klen = klen;
                st = doc_edit_set_take(&c, copy, x->undo, &x->err);
            }
        }
        doc_cursor_free(&c);
    }
    if (st) return st;
    k->set_version = o->n1;
    slot_touch(k, o);
    res_ok(out);
    return DOC_OK;
}

const op_def op_aofload = {"AOFLOAD",     "doc.set",   1,         3,    3,
                           parse_aofload, run_aofload, KF_UPDATE, NULL, .txn_usage = NULL};

/* A document sent as slices of its JSON text (DOC.AOFLOAD key version PARTS
 * i n slice): the slices so far. An AOF rewrite emits the slices of one key
 * back to back, so one pending text suffices; a slice out of order, or of
 * another key, is an error (a damaged AOF) and drops what was pending. */
static struct {
    RedisModuleString *key; /* the key being assembled, or NULL */
    long long version;      /* its version */
    long long next, total;  /* the slice expected next, of how many */
    doc_buf text;           /* the slices joined so far */
} parts;

static void parts_drop(void) {
    if (parts.key) RedisModule_FreeString(NULL, parts.key);
    parts.key = NULL;
    doc_buf_free(&parts.text);
}

/* A SYNTAX error of DOC.AOFLOAD (a damaged AOF or stream), through reply.c. */
static int aofload_error(RedisModuleCtx *ctx, doc_status code, const char *msg) {
    doc_error err;
    doc_error_clear(&err);
    doc_error_set(&err, code, "%s", msg);
    return reply_error(ctx, &err);
}

static int aofload_parts(RedisModuleCtx *ctx, RedisModuleString **argv) {
    long long version, i, n;
    if (RedisModule_StringToLongLong(argv[2], &version) != REDISMODULE_OK || version < 1 ||
        RedisModule_StringToLongLong(argv[4], &i) != REDISMODULE_OK ||
        RedisModule_StringToLongLong(argv[5], &n) != REDISMODULE_OK || i < 1 || n < i) {
        parts_drop();
        return aofload_error(ctx, DOC_SYNTAX, "DOC.AOFLOAD PARTS: bad version or slice numbers");
    }
    if (i == 1) {
        parts_drop();
        parts.key = RedisModule_CreateStringFromString(NULL, argv[1]);
        parts.version = version;
        parts.total = n;
        parts.next = 1;
        doc_buf_init(&parts.text);
    } else if (!parts.key || i != parts.next || n != parts.total || version != parts.version ||
               RedisModule_StringCompare(parts.key, argv[1]) != 0) {
        parts_drop();
        return aofload_error(ctx, DOC_SYNTAX, "DOC.AOFLOAD PARTS: slice out of order");
    }
    size_t len;
    const char *slice = RedisModule_StringPtrLen(argv[6], &len);
    doc_buf_append(&parts.text, slice, len);
    if (parts.text.oom) {
        parts_drop();
        return aofload_error(ctx, DOC_NOMEM, "DOC.AOFLOAD PARTS: out of memory");
    }
    parts.next++;
    if (i < n) return RedisModule_ReplyWithSimpleString(ctx, "OK");
    /* The last slice: load the whole text like DOC.AOFLOAD key version $ json. */
    RedisModuleString *whole[5] = {argv[0], argv[1], argv[2], RedisModule_CreateString(ctx, "$", 1),
                                   RedisModule_CreateString(ctx, parts.text.data, parts.text.len)};
    parts_drop();
    int ret = exec_single(ctx, whole, 5, &op_aofload);
    RedisModule_FreeString(ctx, whole[3]);
    RedisModule_FreeString(ctx, whole[4]);
    return ret;
}

/* DOC.AOFLOAD sets versions, so only the AOF loader and a primary's
 * replication stream may send it; clients get an error. */
int cmd_aofload(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int cmd_aofload(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    int flags = RedisModule_GetContextFlags(ctx);
    if (!(flags & (REDISMODULE_CTX_FLAGS_LOADING | REDISMODULE_CTX_FLAGS_REPLICATED)))
        return aofload_error(ctx, DOC_SYNTAX,
                             "DOC.AOFLOAD is internal: only an AOF or a primary may send it");
    if (argc == 7 && arg_is(argv[3], "PARTS")) return aofload_parts(ctx, argv);
    if (argc == 5 && arg_is(argv[3], "FLOOR")) { /* the version floor, first in a rewrite */
        long long floor;
        if (RedisModule_StringToLongLong(argv[4], &floor) != REDISMODULE_OK || floor < 0)
            return aofload_error(ctx, DOC_SYNTAX, "DOC.AOFLOAD FLOOR: bad version");
        version_seen((uint64_t)floor);
        return RedisModule_ReplyWithSimpleString(ctx, "OK");
    }
    if (argc != 5) return reply_arity(ctx, argv[0]);
    return exec_single(ctx, argv, argc, &op_aofload);
}

/* ---- the commands of this file: registration, COMMAND DOCS, INFO counters
 * (ADOC_COMMAND, atomicdoc.h) ---- */

static RedisModuleCommandArg nx_xx[] = {TOKEN("nx", "NX"), TOKEN("xx", "XX"), END};
static RedisModuleCommandArg expiration[] = {
    TTL_ARG("seconds", "EX", REDISMODULE_ARG_TYPE_INTEGER),
    TTL_ARG("milliseconds", "PX", REDISMODULE_ARG_TYPE_INTEGER),
    TTL_ARG("unix-time-seconds", "EXAT", REDISMODULE_ARG_TYPE_UNIX_TIME),
    TTL_ARG("unix-time-milliseconds", "PXAT", REDISMODULE_ARG_TYPE_UNIX_TIME),
    TOKEN("keepttl", "KEEPTTL"),
    END};
static RedisModuleCommandArg set_args[] = {KEY("key"),
                                           STR("path"),
                                           STR("json"),
                                           {.name = "condition",
                                            .type = REDISMODULE_ARG_TYPE_ONEOF,
                                            .key_spec_index = -1,
                                            .flags = REDISMODULE_CMD_ARG_OPTIONAL,
                                            .subargs = nx_xx},
                                           {.name = "expiration",
                                            .type = REDISMODULE_ARG_TYPE_ONEOF,
                                            .key_spec_index = -1,
                                            .flags = REDISMODULE_CMD_ARG_OPTIONAL,
                                            .subargs = expiration},
                                           END};
static RedisModuleCommandArg mset_triple[] = {KEY("key"), STR("path"), STR("json"), END};
static RedisModuleCommandArg mset_args[] = {{.name = "data",
                                             .type = REDISMODULE_ARG_TYPE_BLOCK,
                                             .key_spec_index = -1,
                                             .flags = REDISMODULE_CMD_ARG_MULTIPLE,
                                             .subargs = mset_triple},
                                            END};
static RedisModuleCommandArg get_args[] = {KEY("key"), TOKEN_OPT("withversion", "WITHVERSION"),
                                           STRS_OPT("path"), END};
static RedisModuleCommandArg mget_args[] = {KEYS("key"), STR("path"), END};
static RedisModuleCommandArg key_optpath_args[] = {KEY("key"), STR_OPT("path"), END};
static RedisModuleCommandArg key_args[] = {KEY("key"), END};
static RedisModuleCommandArg aofload_args[] = {KEY("key"), INT("version"), STR("path"), STR("json"), END};

ADOC_COMMAND(doc_set, .name = "doc.set", .op = &op_set, .flags = "write deny-oom", .arity = -4,
             .keyshape = KS_ONE,
             .summary = "Sets the JSON value at a path, creating the document and missing parents; an RFC "
                        "9535 query path writes every match (an array reply)",
             .complexity = "O(depth + size of the value + size of the container changed)", .args = set_args)

ADOC_COMMAND(
    doc_mset, .name = "doc.mset", .op = NULL, .handler = cmd_mset, .flags = "write deny-oom", .arity = -4,
    .keyshape = KS_MSET, .keyflags = KF_UPDATE,
    .summary =
        "Sets several values in several documents, all or nothing; an RFC 9535 query path writes every match",
    .complexity = "O(sum of the DOC.SET costs)", .args = mset_args)

ADOC_COMMAND(doc_get, .name = "doc.get", .op = &op_get, .flags = "readonly fast", .arity = -2,
             .keyshape = KS_ONE, .summary = "Returns the JSON text at one or more paths",
             .complexity = "O(depth + size of the reply)", .args = get_args)

ADOC_COMMAND(doc_mget, .name = "doc.mget", .op = NULL, .handler = cmd_mget, .flags = "readonly", .arity = -3,
             .keyshape = KS_MGET, .keyflags = KF_READ,
             .summary = "Returns the JSON text at one path of several documents",
             .complexity = "O(keys x (depth + reply))", .args = mget_args)

ADOC_COMMAND(doc_del, .name = "doc.del", .op = &op_del, .flags = "write", .arity = -2, .keyshape = KS_ONE,
             .summary = "Deletes a document, or the member or element at a path; an RFC 9535 query path "
                        "writes every match (an array reply)",
             .complexity = "O(depth + size of the container)", .args = key_optpath_args)

ADOC_COMMAND(doc_type, .name = "doc.type", .op = &op_type, .flags = "readonly fast", .arity = -2,
             .keyshape = KS_ONE, .summary = "Returns the JSON type at a path", .complexity = "O(depth)",
             .args = key_optpath_args)

ADOC_COMMAND(doc_len, .name = "doc.len", .op = &op_len, .flags = "readonly fast", .arity = -2,
             .keyshape = KS_ONE, .summary = "Returns the size of the object, array or string at a path",
             .complexity = "O(depth)", .args = key_optpath_args)

ADOC_COMMAND(doc_keys, .name = "doc.keys", .op = &op_keys, .flags = "readonly fast", .arity = -2,
             .keyshape = KS_ONE, .summary = "Returns the member names of the object at a path",
             .complexity = "O(depth + members)", .args = key_optpath_args)

ADOC_COMMAND(doc_version, .name = "doc.version", .op = &op_version, .flags = "readonly fast", .arity = 2,
             .keyshape = KS_ONE, .summary = "Returns the version of a document (0 when missing)",
             .complexity = "O(1)", .args = key_args)

ADOC_COMMAND(doc_aofload, .name = "doc.aofload", .op = NULL, .handler = cmd_aofload,
             .flags = "write deny-oom", .arity = -5, .keyshape = KS_ONE, .keyflags = KF_UPDATE,
             .summary = "Internal: rebuilds a document and its version from an AOF rewrite",
             .complexity = "O(size of the value)", .args = aofload_args)
