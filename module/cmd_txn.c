/*
 * cmd_txn.c - DOC.UPDATE (MongoDB update documents), the CHECK op, and
 * DOC.TXN: several ops over several declared keys, all or nothing.
 *
 * DOC.TXN numkeys key [key ...] op [op ...]: each op is a command name
 * without "DOC." (or a JSON.* command's full name), a key position
 * (1..numkeys), and that command's own arguments, parsed by the command's
 * own parser. Ops run in order through
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

#define UPDATE_USAGE                                                                             \
    "DOC.UPDATE key update [IF filter] [ARRAYFILTERS json] [UPSERT [EX s|PX ms|EXAT t|PXAT t]] " \
    "[RETURN BEFORE|AFTER]"

/* The core's update errors are DOC_ERR (update.c predates the code words);
 * they reach clients as BADUPDATE so an application can tell them apart. */
static doc_status update_code(doc_status st, doc_error *err) {
    if (st == DOC_ERR && err->code == DOC_ERR) err->code = DOC_BADUPDATE;
    return st == DOC_ERR ? DOC_BADUPDATE : st;
}

static int update_keyword(RedisModuleString *s) {
    return arg_is(s, "IF") || arg_is(s, "ARRAYFILTERS") || arg_is(s, "UPSERT") || arg_is(s, "RETURN");
}

static doc_status parse_update(op *o, RedisModuleString **argv, int argc, doc_error *err) {
    doc_node *update = NULL, *filters = NULL, *cond = NULL;
    if (update_keyword(argv[0])) /* `DOC.UPDATE k IF f u` */
        return arg_misplaced(argv[0], "after the update document", UPDATE_USAGE, err);
    doc_status st = arg_json(argv[0], &update, err);
    for (int i = 1; i < argc && !st; i++) {
        int took = arg_ttl(o, argv, i, argc, 0, "doc.update", err);
        if (took) {
            if (took < 0)
                st = err->code;
            else
                i += took - 1;
            continue;
        }
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
                st = doc_error_set(err, DOC_SYNTAX, "RETURN takes BEFORE or AFTER: " UPDATE_USAGE);
        } else if (arg_is(argv[i], "WHERE")) {
            st = doc_error_set(err, DOC_SYNTAX,
                               "DOC.UPDATE takes its filter after IF, not WHERE (DOC.PULL's): " UPDATE_USAGE);
        } else {
            st = doc_error_set(err, DOC_SYNTAX, "unexpected '%.40s': " UPDATE_USAGE,
                               RedisModule_StringPtrLen(argv[i], NULL));
        }
    }
    /* The TTL belongs to the document an upsert creates ($setOnInsert's
     * rule); an update of an existing document leaves its TTL alone. */
    if (!st && o->expire_ms && !(o->flags & OPF_UPSERT))
        st = doc_error_set(err, DOC_SYNTAX, "EX, PX, EXAT and PXAT need UPSERT: " UPDATE_USAGE);
    if (!st && filters && *doc_box_value(filters) != DOC_TAG_ARRAY)
        st = doc_error_set(err, DOC_BADFILTER, "ARRAYFILTERS takes a JSON array of filters");
    const uint8_t *af = filters ? doc_box_value(filters) : NULL;
    if (!st) {
        st = doc_update_compile(doc_box_value(update), af, (uint32_t)adoc_cfg.max_depth, &o->update, err);
        if (st && limit_waived(err))
            st = doc_update_compile(doc_box_value(update), af, DOC_DEPTH_LIMIT, &o->update, err);
        st = update_code(st, err);
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
        slot_ttl(k, o, 0);
        if (o->filter && doc_update_seed(&k->doc->root, o->filter, x->undo, &x->err)) return x->err.code;
    } else if (o->filter && !doc_filter_match(o->filter, doc_box_value(k->doc->root))) {
        ret_doc ? res_nil(out) : res_int(out, 0);
        return DOC_OK;
    }
    if ((o->flags & OPF_RET_BEFORE) && !inserting) res_json(out, doc_box_value(k->doc->root));
    int changed = 0;
    doc_status st = doc_update_apply(o->update, &k->doc->root, inserting, x->undo, &changed, &x->err);
    if (st) return update_code(st, &x->err);
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

/* clang-format off */
const op_def op_update = {"UPDATE", "doc.update", 1, 1, -1, parse_update, run_update, KF_UPDATE, update_keyflags,
    .txn_positional = 1, .txn_options = "IF:1 ARRAYFILTERS:1 UPSERT RETURN:1 EX:1 PX:1 EXAT:1 PXAT:1",
    .txn_usage = "UPDATE k update [IF filter] [ARRAYFILTERS json] [UPSERT [EX s|PX ms|EXAT t|PXAT t]] [RETURN BEFORE|AFTER]"};
/* clang-format on */

/* ---- CHECK k path EQ|NE|GT|GE|LT|LE json / EXISTS|MISSING / MATCH filter; CHECK k VERSION n ---- */

enum { CK_VERSION, CK_EQ, CK_NE, CK_GT, CK_GE, CK_LT, CK_LE, CK_EXISTS, CK_MISSING, CK_MATCH };
/* The comparison's value is a bare JSON number, kept in o->num: no parse
 * into a node and no node to free (a transfer's `GE 10`). */
#define OPF_CHECK_NUM 4096
static const char *const check_words[] = {"VERSION", "EQ", "NE",     "GT",      "GE",
                                          "LT",      "LE", "EXISTS", "MISSING", "MATCH"};
static const unsigned char check_word_len[] = {7, 2, 2, 2, 2, 2, 2, 6, 7, 5}; /* their lengths */
_Static_assert(sizeof check_word_len == sizeof check_words / sizeof check_words[0], "one length a word");

static doc_status parse_check(op *o, RedisModuleString **argv, int argc, doc_error *err) {
    size_t fl;
    const char *first = RedisModule_StringPtrLen(argv[0], &fl);
    if (word_is(first, fl, "VERSION", 7)) {
        if (argc != 2) return doc_error_set(err, DOC_SYNTAX, "CHECK VERSION takes one number");
        o->n1 = CK_VERSION;
        return arg_ll(argv[1], &o->n2, "version", err);
    }
    if (argc < 2) return doc_error_set(err, DOC_SYNTAX, "CHECK needs a path and a comparison");
    doc_path *p;
    if (arg_path(argv[0], &p, err) || op_add_path(o, p, err)) return err->code;
    o->n1 = -1;
    size_t wl;
    const char *word = RedisModule_StringPtrLen(argv[1], &wl);
    for (int w = CK_EQ; w <= CK_MATCH && o->n1 < 0; w++)
        if (word_is(word, wl, check_words[w], check_word_len[w])) o->n1 = w;
    if (o->n1 < 0)
        return doc_error_set(err, DOC_SYNTAX,
                             "CHECK: unknown comparison '%.40s', expected EQ|NE|GT|GE|LT|LE json, EXISTS, "
                             "MISSING or MATCH filter",
                             RedisModule_StringPtrLen(argv[1], NULL));
    int wants_value = o->n1 != CK_EXISTS && o->n1 != CK_MISSING;
    if (argc != 2 + wants_value)
        return doc_error_set(err, DOC_SYNTAX, "CHECK %s takes %s", check_words[o->n1],
                             wants_value ? "one value" : "no value");
    if (!wants_value) return DOC_OK;
    size_t nl;
    const char *num = RedisModule_StringPtrLen(argv[2], &nl);
    int is_int;
    if (o->n1 != CK_MATCH && nl <= 32 && doc_number_parse(num, nl, &is_int, &o->num.i, &o->num.d) == DOC_OK) {
        o->num.type = is_int ? DOC_INT : DOC_DOUBLE; /* the value doc_parse would give */
        o->flags |= OPF_CHECK_NUM;
        return DOC_OK;
    }
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
            return doc_error_set(&x->err, DOC_ABORTED, "CHECK VERSION failed: version is %lld, not %lld", v,
                                 o->n2);
        res_ok(out);
        return DOC_OK;
    }
    doc_cursor c;
    doc_error miss;
    doc_error_clear(&miss);
    doc_cursor_init(&c, k->doc ? &k->doc->root : NULL);
    const uint8_t *v = k->doc && doc_resolve(&c, o->paths[0], &miss) == DOC_OK ? doc_cursor_value(&c) : NULL;
    uint8_t enc[16];
    const uint8_t *want = NULL;
    if (o->flags & OPF_CHECK_NUM) {
        doc_encode_number(enc, &o->num);
        want = enc;
    } else if (o->nvalues) {
        want = doc_box_value(o->values[0]);
    }
    int pass = 0, ok = 1;
    switch (o->n1) {
    case CK_EXISTS: pass = v != NULL; break;
    case CK_MISSING: pass = v == NULL; break;
    case CK_MATCH: pass = v && doc_filter_match(o->filter, v); break;
    case CK_EQ: pass = v && doc_value_equal(v, want); break;
    case CK_NE: pass = !v || !doc_value_equal(v, want); break;
    default: {
        int cmp = v ? check_order(v, want, &ok) : 0;
        ok = ok && v;
        pass = ok && (o->n1 == CK_GT   ? cmp > 0
                      : o->n1 == CK_GE ? cmp >= 0
                      : o->n1 == CK_LT ? cmp < 0
                                       : cmp <= 0);
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

/* clang-format off */
const op_def op_check = {"CHECK", NULL, 0, 2, 3, parse_check, run_check, KF_READ, NULL,
    .txn_positional = 0, .txn_options = "",
    .txn_usage = "CHECK k path EQ|NE|GT|GE|LT|LE json | CHECK k path EXISTS|MISSING | CHECK k path MATCH filter | CHECK k VERSION n"};
/* clang-format on */

/* ---- DOC.TXN ---- */

/* How an op's arguments are laid out inside a TXN: its op_def's txn_* fields
 * (the op is described once, in its own file). */
typedef op_def txn_form;

/* Parameters the keyword takes, or -1 when it is not an option of `f`. */
static int option_params(const txn_form *f, RedisModuleString *tok) {
    size_t tl;
    const char *t = RedisModule_StringPtrLen(tok, &tl);
    const char *o = f->txn_options;
    /* Option keywords are words: a path, a JSON value or a number is not
     * one, unless the op takes integers ("#"). */
    unsigned char c0 = tl ? (unsigned char)(t[0] | 0x20) : 0;
    int word = c0 >= 'a' && c0 <= 'z';
    if (!word && !strchr(o, '#')) return -1;
    /* One pass over "NAME[:n] ...", by hand: the libc calls per word
     * (strchr, memchr, strncasecmp) cost more than the words are long. */
    while (*o) {
        const char *name = o;
        while (*o && *o != ' ' && *o != ':') o++;
        size_t name_len = (size_t)(o - name);
        int params = *o == ':' ? o[1] - '0' : 0;
        while (*o && *o != ' ') o++;
        while (*o == ' ') o++;
        if (name_len == 1 && name[0] == '#') {
            long long dummy;
            if (RedisModule_StringToLongLong(tok, &dummy) == REDISMODULE_OK) return 0;
        } else if (word && word_is(t, tl, name, name_len)) {
            return params;
        }
    }
    return -1;
}

static const txn_form *form_of(RedisModuleString *name);

/* 1 when argv[j] starts a well-formed op: an op name, then a key position
 * between 1 and numkeys. */
static int op_starts(RedisModuleString **argv, int j, int argc, long long numkeys) {
    long long kpos;
    return j + 1 < argc && form_of(argv[j]) &&
           RedisModule_StringToLongLong(argv[j + 1], &kpos) == REDISMODULE_OK && kpos >= 1 && kpos <= numkeys;
}

/* 1 when s is a JSON number (INCR's bounds are). */
static int is_number_arg(RedisModuleString *s) {
    size_t len;
    const char *p = RedisModule_StringPtrLen(s, &len);
    int is_int;
    int64_t i;
    double d;
    return doc_number_parse(p, len, &is_int, &i, &d) == DOC_OK;
}

/* 1 when the keyword at argv[j], an option of f that also names an op (INCR's
 * MIN / MAX), is the option: its parameter is a number, and what follows it is
 * the end, a well-formed op, or another such option (`MIN 0 MAX 9 GET 1 $`). */
static int bound_at(const txn_form *f, RedisModuleString **argv, int j, int argc, long long numkeys) {
    if (j + 1 >= argc) return 1; /* INCR ... MIN at the end: INCR lacks its bound */
    if (!is_number_arg(argv[j + 1])) return 0;
    int next = j + 2;
    if (next == argc || op_starts(argv, next, argc, numkeys)) return 1;
    return option_params(f, argv[next]) == 1 && form_of(argv[next]) && bound_at(f, argv, next, argc, numkeys);
}

/* Number of arguments after the key the op starting at argv[at] takes, or -1
 * when too few are left. */
static int op_extent(const txn_form *f, RedisModuleString **argv, int at, int argc, long long numkeys) {
    if (f == &op_check) {
        size_t l;
        const char *w = at < argc ? RedisModule_StringPtrLen(argv[at], &l) : NULL;
        if (w && word_is(w, l, "VERSION", 7)) return 2;
        if (at + 1 >= argc) return -1;
        w = RedisModule_StringPtrLen(argv[at + 1], &l);
        return word_is(w, l, "EXISTS", 6) || word_is(w, l, "MISSING", 7) ? 2 : 3;
    }
    if (f == &op_get) /* GET k [WITHVERSION] path */
        return at < argc && arg_is(argv[at], "WITHVERSION") ? (at + 1 < argc ? 2 : -1) : (at < argc ? 1 : -1);
    int j = at, pos = 0;
    while (j < argc) {
        int place = f->txn_option_place;
        int here = place == TXN_OPT_LEADING    ? pos == 0
                   : place == TXN_OPT_TRAILING ? pos >= f->txn_positional
                                               : pos >= 1;
        int params = here ? option_params(f, argv[j]) : -1;
        /* A keyword that also names an op (INCR's MIN / MAX) is the option
         * only by bound_at()'s rule; otherwise it starts the next op:
         * `INCR 1 $.n 1 MIN 1 $.m 3` and `INCR 1 $.n 1 MIN 1 GET 3` (with
         * one key) are two ops each. */
        if (params == 1 && pos >= f->txn_positional && form_of(argv[j]) &&
            !bound_at(f, argv, j, argc, numkeys))
            params = -1;
        if (params >= 0) {
            /* WHERE stands in for PULL's value. */
            if (f == &op_pull) pos++;
            j += 1 + params;
            continue;
        }
        if (pos < f->txn_positional) {
            pos++;
            j++;
            continue;
        }
        break;
    }
    return pos < f->txn_positional || j > argc ? -1 : j - at;
}

/* The op a word names, or NULL: CHECK, or an op of a registered command that
 * DOC.TXN accepts (module.c). */
static const txn_form *form_of(RedisModuleString *name) { return txn_op_named(name); }

/* Answers Redis's key-position request (cluster routing, ACL, COMMAND
 * GETKEYS): each declared key with the flags of what the ops do to it, so a
 * read-only ACL user may run a TXN of reads and a write-only user may not
 * read through one (GET, CHECK, INCR's reply...). A malformed TXN reports
 * every key as read and written: it will fail anyway, and says no less. */
static void txn_keys(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    long long numkeys;
    if (argc < 3 || RedisModule_StringToLongLong(argv[1], &numkeys) != REDISMODULE_OK || numkeys < 1 ||
        numkeys > argc - 2)
        return;
    uint64_t *flags = RedisModule_Calloc((size_t)numkeys, sizeof *flags);
    int ok = 1;
    for (int i = 2 + (int)numkeys; i < argc && ok;) {
        const txn_form *f = form_of(argv[i]);
        long long kpos;
        int len = f ? op_extent(f, argv, i + 2, argc, numkeys) : -1;
        ok = f && i + 1 < argc && RedisModule_StringToLongLong(argv[i + 1], &kpos) == REDISMODULE_OK &&
             kpos >= 1 && kpos <= numkeys && len >= 0 && i + 2 + len <= argc;
        if (ok) flags[kpos - 1] |= op_keyflags(f, argv + i + 2, len);
        if (ok) i += 2 + len;
    }
    for (int k = 0; k < numkeys; k++) {
        uint64_t fl = ok ? flags[k] : KF_READ_UPDATE;
        if (fl & REDISMODULE_CMD_KEY_RW) fl &= ~(uint64_t)REDISMODULE_CMD_KEY_RO;
        if (!fl) fl = KF_READ; /* declared, unused: still a key of the command */
        RedisModule_KeyAtPosWithFlags(ctx, 2 + k, (int)fl);
    }
    RedisModule_Free(flags);
}

/* DOC.TXN runs in four steps, one function each: read the header
 * (txn_header), find and parse every op before any runs (txn_parse_ops),
 * name each declared key's slot (txn_slots), then run the ops through the
 * shared skeleton (exec_ops: open the keys, run each op under the one undo
 * log, commit or roll back, version, notify, replicate, reply). */

/* Reads `numkeys key [key ...]`; returns the index of the first op, or 0
 * with err set. */
static int txn_header(RedisModuleString **argv, int argc, long long *numkeys, doc_error *err) {
    if (RedisModule_StringToLongLong(argv[1], numkeys) != REDISMODULE_OK || *numkeys < 1 ||
        *numkeys > argc - 2) {
        doc_error_set(err, DOC_SYNTAX,
                      "numkeys must be between 1 and the number of keys given: "
                      "DOC.TXN numkeys key [key ...] op [op ...]");
        return 0;
    }
    int first_op = 2 + (int)*numkeys;
    if (first_op >= argc) {
        doc_error_set(err, DOC_SYNTAX, "DOC.TXN needs at least one op after its %lld key%s", *numkeys,
                      *numkeys == 1 ? "" : "s");
        return 0;
    }
    return first_op;
}

/* The op starting at argv[i] (op number n + 1, after `prev`): its form, the
 * number of arguments after its key position and that position (*key, from
 * 0), or NULL with err set. */
static const txn_form *txn_op_at(RedisModuleString **argv, int i, int argc, long long numkeys, int first_op,
                                 int n, const txn_form *prev, int *len, int *key, doc_error *err) {
    const txn_form *f = form_of(argv[i]);
    const char *word = RedisModule_StringPtrLen(argv[i], NULL);
    if (!f && strncasecmp(word, "JSON.", 5) == 0) {
        doc_error_set(err, DOC_SYNTAX,
                      "%.40s is not a DOC.TXN op: JSON.* ops are the single-key JSON commands but JSON.RESP "
                      "and JSON.DEBUG, when json-commands is on",
                      word);
        return NULL;
    }
    if (!f && !prev) {
        /* Most often numkeys counts one key too many or too few. */
        const txn_form *last_key = form_of(argv[first_op - 1]);
        if (last_key)
            doc_error_set(err, DOC_SYNTAX,
                          "expected an op name after the %lld keys, got '%.40s'; '%s' was read as a key: is "
                          "numkeys right?",
                          numkeys, word, last_key->name);
        else
            doc_error_set(err, DOC_SYNTAX,
                          "expected an op name after the %lld keys, got '%.40s': is numkeys right?", numkeys,
                          word);
        return NULL;
    }
    if (!f) {
        doc_error_set(err, DOC_SYNTAX, "expected an op name after op %d, got '%.40s'; op %d was %s", n, word,
                      n, prev->txn_usage);
        return NULL;
    }
    long long kpos;
    if (i + 1 >= argc || RedisModule_StringToLongLong(argv[i + 1], &kpos) != REDISMODULE_OK || kpos < 1 ||
        kpos > numkeys) {
        doc_error_set(err, DOC_SYNTAX, "%s needs a key position between 1 and %lld, got '%.20s': %s", f->name,
                      numkeys, i + 1 < argc ? RedisModule_StringPtrLen(argv[i + 1], NULL) : "", f->txn_usage);
        return NULL;
    }
    *key = (int)kpos - 1;
    *len = op_extent(f, argv, i + 2, argc, numkeys);
    if (*len < 0 || i + 2 + *len > argc) {
        doc_error_set(err, DOC_SYNTAX, "%s is missing arguments: %s", f->name, f->txn_usage);
        return NULL;
    }
    if (*len < f->min_args || (f->max_args >= 0 && *len > f->max_args)) {
        doc_error_set(err, DOC_SYNTAX, "%s has too %s arguments: %s", f->name,
                      *len < f->min_args ? "few" : "many", f->txn_usage);
        return NULL;
    }
    return f;
}

/* Room for the ops, spans and key slots of most TXNs without allocating. */
#define TXN_STACK_OPS 8
#define TXN_STACK_KEYS 8

/* Where one op is in argv, found once by the first pass (txn_parse_ops). */
typedef struct txn_span {
    const txn_form *f; /* its op */
    int at;            /* argv index of its name */
    int len;           /* arguments after its key position */
    int key;           /* its key position, from 0 */
} txn_span;

/* Finds where each op ends (refusing a malformed TXN or too many ops), then
 * parses every op into ops (stack_ops when they fit, else an array the
 * caller frees; parsed ops hold pointers into themselves and must not move).
 * Returns the ops (*n of them; the caller resets them, parsed or not), or
 * NULL with err set; on any error *bad_op is the number of the op at fault. */
static op *txn_parse_ops(RedisModuleString **argv, int argc, long long numkeys, int first_op, op *stack_ops,
                         int *n, int *bad_op, doc_error *err) {
    txn_span stack_spans[TXN_STACK_OPS], *spans = stack_spans;
    int cap = TXN_STACK_OPS;
    const txn_form *f = NULL;
    int len, key;
    *n = 0;
    for (int i = first_op; i < argc; i += 2 + len) {
        *bad_op = *n + 1;
        if (*n == adoc_cfg.max_txn_ops && !cmd_replaying()) {
            doc_error_set(err, DOC_TOOBIG, "more than max-txn-ops (%lld) ops", adoc_cfg.max_txn_ops);
            break;
        }
        if (!(f = txn_op_at(argv, i, argc, numkeys, first_op, *n, f, &len, &key, err))) break;
        if (*n == cap) {
            cap *= 2;
            txn_span *m = RedisModule_Alloc((size_t)cap * sizeof *m);
            memcpy(m, spans, (size_t)*n * sizeof *m);
            if (spans != stack_spans) RedisModule_Free(spans);
            spans = m;
        }
        spans[*n].f = f;
        spans[*n].at = i;
        spans[*n].len = len;
        spans[*n].key = key;
        ++*n;
    }
    op *ops = NULL;
    if (!err->code) {
        ops = *n <= TXN_STACK_OPS ? stack_ops : RedisModule_Alloc((size_t)*n * sizeof *ops);
        memset(ops, 0, (size_t)*n * sizeof *ops);
    }
    for (int k = 0; ops && k < *n; k++) {
        ops[k].def = spans[k].f;
        ops[k].key = spans[k].key;
        *bad_op = k + 1;
        if (spans[k].f->parse && spans[k].f->parse(&ops[k], argv + spans[k].at + 2, spans[k].len, err)) break;
    }
    if (spans != stack_spans) RedisModule_Free(spans);
    return ops;
}

/* Gives each op the slot of its key: the same key named twice shares one
 * slot. Fills names[] with the distinct keys; returns how many. */
static int txn_slots(RedisModuleString **keys, long long numkeys, op *ops, int n, RedisModuleString **names) {
    int stack_slot_of[TXN_STACK_KEYS];
    int *slot_of =
        numkeys <= TXN_STACK_KEYS ? stack_slot_of : RedisModule_Alloc((size_t)numkeys * sizeof *slot_of);
    int u = 0;
    for (int i = 0; i < numkeys; i++) {
        int j = 0;
        while (j < u && RedisModule_StringCompare(names[j], keys[i]) != 0) j++;
        if (j == u) names[u++] = keys[i];
        slot_of[i] = j;
    }
    for (int i = 0; i < n; i++) ops[i].key = slot_of[ops[i].key];
    if (slot_of != stack_slot_of) RedisModule_Free(slot_of);
    return u;
}

int cmd_txn(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int cmd_txn(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    /* Redis 7.0's cluster routing (and CROSSSLOT) reads keys from the legacy
     * positions or from this callback, not from key specs; DOC.TXN's keys
     * sit after numkeys, like EVAL's, so it answers here. */
    if (RedisModule_IsKeysPositionRequest(ctx)) {
        txn_keys(ctx, argv, argc);
        return REDISMODULE_OK;
    }
    if (argc < 3) return reply_arity(ctx, argv[0]);
    cmd_begin(ctx);
    doc_error err;
    doc_error_clear(&err);
    long long numkeys;
    int first_op = txn_header(argv, argc, &numkeys, &err);
    if (!first_op) return reply_error(ctx, &err);
    int n = 0, bad_op = 0, ret;
    op stack_ops[TXN_STACK_OPS];
    op *ops = txn_parse_ops(argv, argc, numkeys, first_op, stack_ops, &n, &bad_op, &err);
    if (err.code) {
        ret = reply_txn_error(ctx, &err, bad_op);
    } else {
        RedisModuleString *stack_names[TXN_STACK_KEYS];
        RedisModuleString **names =
            numkeys <= TXN_STACK_KEYS ? stack_names : RedisModule_Alloc((size_t)numkeys * sizeof *names);
        int nkeys = txn_slots(argv + 2, numkeys, ops, n, names);
        ret = exec_ops(ctx, argv, argc, names, nkeys, ops, n, EXEC_WRITE | EXEC_PER_OP | EXEC_TXN);
        if (names != stack_names) RedisModule_Free(names);
    }
    if (ops) {
        for (int i = 0; i < n; i++) op_reset(&ops[i]);
        if (ops != stack_ops) RedisModule_Free(ops);
    }
    return ret;
}

/* ---- the commands of this file: registration, COMMAND DOCS, INFO counters
 * (ADOC_COMMAND, atomicdoc.h) ---- */

static RedisModuleCommandArg ret_which[] = {TOKEN("before", "BEFORE"), TOKEN("after", "AFTER"), END};
static RedisModuleCommandArg update_expiration[] = {
    TTL_ARG("seconds", "EX", REDISMODULE_ARG_TYPE_INTEGER),
    TTL_ARG("milliseconds", "PX", REDISMODULE_ARG_TYPE_INTEGER),
    TTL_ARG("unix-time-seconds", "EXAT", REDISMODULE_ARG_TYPE_UNIX_TIME),
    TTL_ARG("unix-time-milliseconds", "PXAT", REDISMODULE_ARG_TYPE_UNIX_TIME), END};
static RedisModuleCommandArg update_args[] = {
    KEY("key"),
    STR("update"),
    WITH_TOKEN("filter", "IF", REDISMODULE_ARG_TYPE_STRING),
    WITH_TOKEN("arrayfilters", "ARRAYFILTERS", REDISMODULE_ARG_TYPE_STRING),
    TOKEN_OPT("upsert", "UPSERT"),
    /* the first four of SET's: the TTL of the document an upsert creates */
    {.name = "expiration",
     .type = REDISMODULE_ARG_TYPE_ONEOF,
     .key_spec_index = -1,
     .flags = REDISMODULE_CMD_ARG_OPTIONAL,
     .subargs = update_expiration},
    {.name = "return",
     .type = REDISMODULE_ARG_TYPE_ONEOF,
     .key_spec_index = -1,
     .token = "RETURN",
     .flags = REDISMODULE_CMD_ARG_OPTIONAL,
     .subargs = ret_which},
    END};
static RedisModuleCommandArg txn_args[] = {INT("numkeys"), KEYS("key"), STRS("op"), END};

ADOC_COMMAND(
    doc_update, .name = "doc.update", .op = &op_update, .flags = "write deny-oom getkeys-api", .arity = -3,
    .keyshape = KS_ONE, .keyflags = KF_VARIES,
    .summary = "Applies a MongoDB-style update document, optionally only if the document matches a filter",
    .complexity = "O(size of the document touched by the operators)", .args = update_args)

ADOC_COMMAND(doc_txn, .name = "doc.txn", .op = NULL, .handler = cmd_txn,
             .flags = "write deny-oom getkeys-api", .arity = -4, .keyshape = KS_TXN, .keyflags = KF_VARIES,
             .summary = "Runs several ops on several documents atomically, all or nothing, with CHECK "
                        "assertions; an op at an RFC 9535 query path writes every match",
             .complexity = "O(sum of the ops' costs)", .args = txn_args)
