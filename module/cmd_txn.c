/*
 * cmd_txn.c - DOC.UPDATE (MongoDB update documents), the CHECK op, and
 * DOC.TXN: several ops over several declared keys, all or nothing.
 *
 * DOC.TXN numkeys key [key ...] op [op ...]: each op is a command name
 * without "DOC.", a key position (1..numkeys), and that command's own
 * arguments, parsed by the command's own parser. Ops run in order through
 * the same skeleton as every command (command.c): one undo log for the
 * whole list, so any failure rolls every document back byte for byte;
 * success bumps each changed document's version once, sends one
 * notification per changed key and replicates the TXN once, verbatim.
 *
 * Where one op ends: after its fixed arguments and any of its option
 * keywords (NX, AT i, WHERE f, ...). JSON values are never bare words, so a
 * keyword cannot be mistaken for a value. Inside a TXN a variadic command
 * takes exactly one value, and DEL/TYPE/LEN/KEYS/GET take exactly one path
 * (write `$` for the whole document).
 */
#include "atomicdoc.h"

#include <string.h>

/* ---- DOC.UPDATE key update [IF filter] [ARRAYFILTERS json] [UPSERT] [RETURN BEFORE|AFTER] ---- */

#define OPF_UPSERT 256
#define OPF_RET_BEFORE 512
#define OPF_RET_AFTER 1024

static doc_status parse_update(op *o, RedisModuleString **argv, int argc, doc_error *err) {
    doc_node *update = NULL, *filters = NULL, *cond = NULL;
    doc_status st = arg_json(argv[0], &update, err);
    for (int i = 1; i < argc && !st; i++) {
        if (arg_is(argv[i], "IF") && i + 1 < argc && !cond) {
            st = arg_json(argv[++i], &cond, err);
        } else if (arg_is(argv[i], "ARRAYFILTERS") && i + 1 < argc && !filters) {
            st = arg_json(argv[++i], &filters, err);
        } else if (arg_is(argv[i], "UPSERT")) {
            o->flags |= OPF_UPSERT;
        } else if (arg_is(argv[i], "RETURN") && i + 1 < argc) {
            i++;
            if (arg_is(argv[i], "BEFORE"))
                o->flags |= OPF_RET_BEFORE;
            else if (arg_is(argv[i], "AFTER"))
                o->flags |= OPF_RET_AFTER;
            else
                st = doc_error_set(err, DOC_ERR, "syntax error: RETURN takes BEFORE or AFTER");
        } else {
            st = doc_error_set(err, DOC_ERR, "syntax error near '%s'", RedisModule_StringPtrLen(argv[i], NULL));
        }
    }
    if (!st && filters && *doc_box_value(filters) != DOC_TAG_ARRAY)
        st = doc_error_set(err, DOC_BADFILTER, "ARRAYFILTERS takes a JSON array of filters");
    const uint8_t *af = filters ? doc_box_value(filters) : NULL;
    if (!st) {
        st = doc_update_compile(doc_box_value(update), af, (uint32_t)adoc_cfg.max_depth, &o->update, err);
        if (st && limit_waived(err))
            st = doc_update_compile(doc_box_value(update), af, DOC_DEPTH_LIMIT, &o->update, err);
    }
    if (!st && cond) {
        if (*doc_box_value(cond) != DOC_TAG_OBJECT)
            st = doc_error_set(err, DOC_BADFILTER, "IF takes a JSON object");
        else
            st = arg_filter(doc_box_value(cond), &o->filter, err);
    }
    doc_node_free(update);
    doc_node_free(filters);
    doc_node_free(cond);
    return st;
}

static doc_status run_update(op *o, exec_ctx *x, keyslot *k, result *out) {
    int ret_doc = o->flags & (OPF_RET_BEFORE | OPF_RET_AFTER);
    int inserting = 0;
    if (!k->doc) {
        if (!(o->flags & OPF_UPSERT)) {
            ret_doc ? res_nil(out) : res_int(out, 0);
            return DOC_OK;
        }
        if (!slot_ensure(x, k)) return x->err.code;
        inserting = 1;
        if (o->filter && doc_update_seed(&k->doc->root, o->filter, x->undo, &x->err)) return x->err.code;
    } else if (o->filter && !doc_filter_match(o->filter, doc_box_value(k->doc->root))) {
        ret_doc ? res_nil(out) : res_int(out, 0);
        return DOC_OK;
    }
    if ((o->flags & OPF_RET_BEFORE) && !inserting) res_json(out, doc_box_value(k->doc->root));
    int changed = 0;
    doc_status st = doc_update_apply(o->update, &k->doc->root, inserting, x->undo, &changed, &x->err);
    if (st) return st;
    if (o->flags & OPF_RET_AFTER)
        res_json(out, doc_box_value(k->doc->root));
    else if (o->flags & OPF_RET_BEFORE) {
        if (inserting) res_nil(out);
    } else
        res_int(out, changed || inserting);
    return DOC_OK;
}

/* UPDATE reveals the document when it has IF (a match decides the reply) or
 * RETURN (the document itself); a bare update replies 1/0 as SET would. */
static uint64_t update_keyflags(RedisModuleString **argv, int argc) {
    for (int i = 1; i < argc; i++) {
        if (arg_is(argv[i], "IF") || arg_is(argv[i], "RETURN")) return KF_READ_UPDATE;
        if (arg_is(argv[i], "ARRAYFILTERS")) i++;
    }
    return KF_UPDATE;
}

const op_def op_update = {"UPDATE", "doc.update", 1, 1, 8, parse_update, run_update, KF_UPDATE, update_keyflags};

/* ---- CHECK k path EQ|NE|GT|GE|LT|LE json / EXISTS|MISSING / MATCH filter; CHECK k VERSION n ---- */

enum { CK_VERSION, CK_EQ, CK_NE, CK_GT, CK_GE, CK_LT, CK_LE, CK_EXISTS, CK_MISSING, CK_MATCH };
static const char *const check_words[] = {"VERSION", "EQ", "NE", "GT", "GE", "LT", "LE",
                                          "EXISTS", "MISSING", "MATCH"};

static doc_status parse_check(op *o, RedisModuleString **argv, int argc, doc_error *err) {
    if (arg_is(argv[0], "VERSION")) {
        if (argc != 2) return doc_error_set(err, DOC_ERR, "CHECK VERSION takes one number");
        o->n1 = CK_VERSION;
        return arg_ll(argv[1], &o->n2, "version", err);
    }
    if (argc < 2) return doc_error_set(err, DOC_ERR, "CHECK needs a path and a comparison");
    doc_path *p;
    if (arg_path(argv[0], &p, err) || op_add_path(o, p, err)) return err->code;
    o->n1 = -1;
    for (int w = CK_EQ; w <= CK_MATCH; w++)
        if (arg_is(argv[1], check_words[w])) o->n1 = w;
    if (o->n1 < 0) return doc_error_set(err, DOC_ERR, "CHECK: unknown comparison '%s'", RedisModule_StringPtrLen(argv[1], NULL));
    int wants_value = o->n1 != CK_EXISTS && o->n1 != CK_MISSING;
    if (argc != 2 + wants_value) return doc_error_set(err, DOC_ERR, "CHECK %s takes %s", check_words[o->n1], wants_value ? "one value" : "no value");
    if (!wants_value) return DOC_OK;
    doc_node *v;
    if (arg_json(argv[2], &v, err)) return err->code;
    if (o->n1 == CK_MATCH) {
        doc_status st = arg_filter(doc_box_value(v), &o->filter, err);
        doc_node_free(v);
        return st;
    }
    return op_add_value(o, v, err);
}

/* The same-type order of DOC.MIN / DOC.MAX (compare.c); else *ok = 0. */
static int check_order(const uint8_t *a, const uint8_t *b, int *ok) {
    doc_view x, y;
    doc_value_decode(a, &x);
    doc_value_decode(b, &y);
    return doc_compare_same_type(&x, &y, ok);
}

static doc_status run_check(op *o, exec_ctx *x, keyslot *k, result *out) {
    if (o->n1 == CK_VERSION) {
        long long v = k->doc ? (long long)k->doc->version : 0;
        if (v != o->n2)
            return doc_error_set(&x->err, DOC_ABORTED, "CHECK VERSION failed: version is %lld, not %lld", v, o->n2);
        res_ok(out);
        return DOC_OK;
    }
    doc_cursor c;
    doc_error miss;
    doc_error_clear(&miss);
    doc_cursor_init(&c, k->doc ? &k->doc->root : NULL);
    const uint8_t *v = k->doc && doc_resolve(&c, o->paths[0], &miss) == DOC_OK ? doc_cursor_value(&c) : NULL;
    int pass = 0, ok = 1;
    switch (o->n1) {
    case CK_EXISTS: pass = v != NULL; break;
    case CK_MISSING: pass = v == NULL; break;
    case CK_MATCH: pass = v && doc_filter_match(o->filter, v); break;
    case CK_EQ: pass = v && doc_value_equal(v, doc_box_value(o->values[0])); break;
    case CK_NE: pass = !v || !doc_value_equal(v, doc_box_value(o->values[0])); break;
    default: {
        int cmp = v ? check_order(v, doc_box_value(o->values[0]), &ok) : 0;
        ok = ok && v;
        pass = ok && (o->n1 == CK_GT ? cmp > 0 : o->n1 == CK_GE ? cmp >= 0 : o->n1 == CK_LT ? cmp < 0 : cmp <= 0);
    }
    }
    doc_status st = DOC_OK;
    if (!pass) {
        doc_buf where, now;
        doc_buf_init(&where);
        doc_buf_init(&now);
        doc_path_print(o->paths[0], o->paths[0]->nseg, &where);
        if (v) doc_print(v, &now);
        st = doc_error_set(&x->err, DOC_ABORTED, "CHECK %s failed: %.*s is %.*s%s", check_words[o->n1],
                           (int)(where.len > 80 ? 80 : where.len), where.data ? where.data : "$",
                           v ? (int)(now.len > 60 ? 60 : now.len) : 7, v ? now.data : "missing",
                           v && now.len > 60 ? "..." : "");
        doc_buf_free(&where);
        doc_buf_free(&now);
    } else {
        res_ok(out);
    }
    doc_cursor_free(&c);
    return st;
}

const op_def op_check = {"CHECK", NULL, 0, 2, 3, parse_check, run_check, KF_READ, NULL};

/* ---- DOC.TXN ---- */

/* How an op's arguments are laid out inside a TXN. */
typedef struct txn_form {
    const op_def *def;       /* the op */
    int positional;          /* required arguments after the key */
    const char *options;     /* keywords allowed after the first argument;
                                "AT:1" takes one parameter, "#" an integer */
} txn_form;

static const txn_form forms[] = {
    {&op_set, 2, "NX XX"},           {&op_get, 1, "WITHVERSION"},  {&op_del, 1, ""},
    {&op_type, 1, ""},               {&op_len, 1, ""},             {&op_keys, 1, ""},
    {&op_version, 0, ""},            {&op_incr, 2, "MIN:1 MAX:1"}, {&op_mul, 2, ""},
    {&op_min, 2, ""},                {&op_max, 2, ""},             {&op_strappend, 2, ""},
    {&op_push, 2, "AT:1 KEEP:1"},    {&op_pop, 1, "FIRST LAST #"}, {&op_pull, 2, "WHERE:1"},
    {&op_addtoset, 2, ""},           {&op_indexof, 2, ""},         {&op_toggle, 1, ""},
    {&op_clear, 1, ""},              {&op_merge, 2, ""},           {&op_cas, 3, ""},
    {&op_update, 1, "IF:1 ARRAYFILTERS:1 UPSERT RETURN:1"},
    {&op_check, 0, ""},
};

/* Parameters the keyword takes, or -1 when it is not an option of `f`. */
static int option_params(const txn_form *f, RedisModuleString *tok) {
    size_t tl;
    const char *t = RedisModule_StringPtrLen(tok, &tl);
    const char *o = f->options;
    while (*o) {
        const char *end = strchr(o, ' ');
        size_t wl = end ? (size_t)(end - o) : strlen(o);
        const char *colon = memchr(o, ':', wl);
        size_t name_len = colon ? (size_t)(colon - o) : wl;
        if (name_len == 1 && o[0] == '#') {
            long long dummy;
            if (RedisModule_StringToLongLong(tok, &dummy) == REDISMODULE_OK) return 0;
        } else if (name_len == tl && strncasecmp(o, t, tl) == 0) {
            return colon ? o[name_len + 1] - '0' : 0;
        }
        o += wl;
        while (*o == ' ') o++;
    }
    return -1;
}

static const txn_form *form_of(RedisModuleString *name);

/* Number of arguments after the key the op starting at argv[at] takes. */
static int op_extent(const txn_form *f, RedisModuleString **argv, int at, int argc) {
    if (f->def == &op_check) {
        if (at < argc && arg_is(argv[at], "VERSION")) return 2;
        if (at + 1 >= argc) return -1;
        RedisModuleString *w = argv[at + 1];
        return arg_is(w, "EXISTS") || arg_is(w, "MISSING") ? 2 : 3;
    }
    int j = at, pos = 0;
    while (j < argc) {
        int params = pos >= 1 ? option_params(f, argv[j]) : -1;
        /* A keyword that also names an op (INCR's MIN / MAX) is the option
         * only when the end or another op follows its parameter; otherwise
         * it starts the next op: `INCR 1 $.n 1 MIN 1 $.m 3` is two ops. */
        if (params >= 0 && pos >= f->positional && form_of(argv[j])) {
            int next = j + 1 + params;
            if (next < argc && !form_of(argv[next])) params = -1;
        }
        if (params >= 0) {
            /* WHERE stands in for PULL's value. */
            if (f->def == &op_pull) pos++;
            j += 1 + params;
            continue;
        }
        if (pos < f->positional) {
            pos++;
            j++;
            continue;
        }
        break;
    }
    return pos < f->positional || j > argc ? -1 : j - at;
}

/* The op a word names, or NULL. */
static const txn_form *form_of(RedisModuleString *name) {
    for (size_t t = 0; t < sizeof forms / sizeof forms[0]; t++)
        if (arg_is(name, forms[t].def->name)) return &forms[t];
    return NULL;
}

/* Answers Redis's key-position request (cluster routing, ACL, COMMAND
 * GETKEYS): each declared key with the flags of what the ops do to it, so a
 * read-only ACL user may run a TXN of reads and a write-only user may not
 * read through one (GET, CHECK, INCR's reply...). A malformed TXN reports
 * every key as read and written: it will fail anyway, and says no less. */
static void txn_keys(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    long long numkeys;
    if (argc < 3 || RedisModule_StringToLongLong(argv[1], &numkeys) != REDISMODULE_OK ||
        numkeys < 1 || numkeys > argc - 2)
        return;
    uint64_t *flags = RedisModule_Calloc((size_t)numkeys, sizeof *flags);
    int ok = 1;
    for (int i = 2 + (int)numkeys; i < argc && ok;) {
        const txn_form *f = form_of(argv[i]);
        long long kpos;
        int len = f ? op_extent(f, argv, i + 2, argc) : -1;
        ok = f && i + 1 < argc && RedisModule_StringToLongLong(argv[i + 1], &kpos) == REDISMODULE_OK &&
             kpos >= 1 && kpos <= numkeys && len >= 0 && i + 2 + len <= argc;
        if (ok) flags[kpos - 1] |= op_keyflags(f->def, argv + i + 2, len);
        if (ok) i += 2 + len;
    }
    for (int k = 0; k < numkeys; k++) {
        uint64_t fl = ok ? flags[k] : KF_READ_UPDATE;
        if (fl & REDISMODULE_CMD_KEY_RW) fl &= ~(uint64_t)REDISMODULE_CMD_KEY_RO;
        if (!fl) fl = KF_READ;   /* declared, unused: still a key of the command */
        RedisModule_KeyAtPosWithFlags(ctx, 2 + k, (int)fl);
    }
    RedisModule_Free(flags);
}

int cmd_txn(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int cmd_txn(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    long long numkeys;
    /* Redis 7.0's cluster routing (and CROSSSLOT) reads keys from the legacy
     * positions or from this callback, not from key specs; DOC.TXN's keys
     * sit after numkeys, like EVAL's, so it answers here. */
    if (RedisModule_IsKeysPositionRequest(ctx)) {
        txn_keys(ctx, argv, argc);
        return REDISMODULE_OK;
    }
    if (argc < 3) return RedisModule_WrongArity(ctx);
    cmd_begin(ctx);
    if (RedisModule_StringToLongLong(argv[1], &numkeys) != REDISMODULE_OK || numkeys < 1 ||
        numkeys > argc - 2)
        return RedisModule_ReplyWithError(ctx, "ERR numkeys must be between 1 and the number of keys given");
    int first_op = 2 + (int)numkeys;
    if (first_op >= argc) return RedisModule_ReplyWithError(ctx, "ERR DOC.TXN needs at least one op");

    /* First find where each op ends (and refuse malformed or too many ops),
     * then size the op array once: parsed ops hold pointers into themselves
     * and must not move. Then parse every op before running any. */
    doc_error err;
    doc_error_clear(&err);
    int n = 0, bad_op = 0;
    for (int i = first_op; i < argc;) {
        bad_op = n + 1;
        if (n == adoc_cfg.max_txn_ops && !cmd_replaying()) {
            doc_error_set(&err, DOC_ERR, "more than max-txn-ops (%lld) ops", adoc_cfg.max_txn_ops);
            break;
        }
        const txn_form *f = form_of(argv[i]);
        if (!f) {
            doc_error_set(&err, DOC_ERR, "unknown op '%.40s'", RedisModule_StringPtrLen(argv[i], NULL));
            break;
        }
        long long kpos;
        if (i + 1 >= argc || RedisModule_StringToLongLong(argv[i + 1], &kpos) != REDISMODULE_OK ||
            kpos < 1 || kpos > numkeys) {
            doc_error_set(&err, DOC_ERR, "%s needs a key position between 1 and %lld", f->def->name, numkeys);
            break;
        }
        int len = op_extent(f, argv, i + 2, argc);
        if (len < 0 || i + 2 + len > argc) {
            doc_error_set(&err, DOC_ERR, "%s: missing arguments", f->def->name);
            break;
        }
        n++;
        i += 2 + len;
    }
    op *ops = err.code ? NULL : RedisModule_Calloc((size_t)n, sizeof *ops);
    for (int i = first_op, k = 0; !err.code && k < n; k++) {
        const txn_form *f = form_of(argv[i]);
        long long kpos;
        RedisModule_StringToLongLong(argv[i + 1], &kpos);
        int len = op_extent(f, argv, i + 2, argc);
        op *o = &ops[k];
        o->def = f->def;
        o->key = (int)kpos - 1;
        bad_op = k + 1;
        if (f->def->parse) f->def->parse(o, argv + i + 2, len, &err);
        i += 2 + len;
    }
    int ret;
    if (err.code) {
        doc_error wrapped;
        doc_error_clear(&wrapped);
        doc_error_set(&wrapped, DOC_ABORTED, "op %d: %s %s", bad_op, doc_status_word(err.code), err.msg);
        if (err.has_offset) {
            size_t l = strlen(wrapped.msg);
            snprintf(wrapped.msg + l, sizeof wrapped.msg - l, " at %s %zu",
                     err.code == DOC_BADPATH ? "character" : "byte", err.offset);
        }
        adoc_st.txn_aborts++;
        ret = reply_error(ctx, &wrapped);
    } else {
        /* The same key named twice shares one slot. */
        RedisModuleString **names = RedisModule_Alloc((size_t)numkeys * sizeof *names);
        int *slot_of = RedisModule_Alloc((size_t)numkeys * sizeof *slot_of);
        int u = 0;
        for (int i = 0; i < numkeys; i++) {
            int j = 0;
            while (j < u && RedisModule_StringCompare(names[j], argv[2 + i]) != 0) j++;
            if (j == u) names[u++] = argv[2 + i];
            slot_of[i] = j;
        }
        for (int i = 0; i < n; i++) ops[i].key = slot_of[ops[i].key];
        ret = exec_ops(ctx, names, u, ops, n, 1, 1);
        RedisModule_Free(names);
        RedisModule_Free(slot_of);
    }
    if (ops) {
        for (int i = 0; i < n; i++) op_reset(&ops[i]);
        RedisModule_Free(ops);
    }
    return ret;
}
