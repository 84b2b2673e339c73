/*
 * cmd_ops.c - the atomic single-key operations: INCR, MUL, MIN, MAX,
 * STRAPPEND, PUSH, POP, PULL (values or WHERE filter), ADDTOSET, INDEXOF,
 * TOGGLE, CLEAR, MERGE (RFC 7396) and CAS.
 *
 * Each is an op (parser + runner) so DOC.TXN runs the very same code. A
 * runner validates what it can, then edits through the undo log; when it
 * replies nil "without changing anything" after having created parents or
 * the document itself (INCR out of bounds), it rewinds to its savepoint.
 *
 * Replies: integer results of INCR/MUL are integer replies and double ones
 * bulk strings (as Redis INCRBY / INCRBYFLOAT); values (MIN, MAX, POP,
 * TOGGLE) are JSON text.
 *
 * Every op here but INDEXOF (a read) also takes an RFC 9535 query path: the
 * runner then runs once per match through op_each_match (command.c), with
 * o->paths[0] set to that match, and the reply is an array of what each
 * run replied, in document order. Runners therefore read their path only
 * through o->paths[0] and may consume o->values (each match gets copies).
 * CAS wraps it: the swap happens at every match or at none.
 */
#include "atomicdoc.h"

#include <math.h>
#include <string.h>

/* ---- shared helpers ---- */

/* A point to rewind an op to: the undo mark and whether the slot had a
 * document (a document created since is dropped on rewind). */
typedef struct savepoint {
    size_t mark; /* undo log position */
    adoc *doc;   /* the slot's document at the savepoint */
} savepoint;

static savepoint save(exec_ctx *x, keyslot *k) {
    savepoint sp = {doc_undo_mark(x->undo), k->doc};
    return sp;
}

static void rewind_to(exec_ctx *x, keyslot *k, savepoint sp) {
    doc_undo_rollback_to(x->undo, sp.mark);
    if (k->doc != sp.doc) {
        if (k->doc && k->doc != k->orig) adoc_free(k->doc);
        k->doc = sp.doc;
    }
}

/* Resolves the op's first path for writing (creating the document and
 * missing object members). */
static doc_status write_at(const op *o, exec_ctx *x, keyslot *k, doc_cursor *c) {
    if (!k->doc && !slot_ensure(x, k)) return x->err.code;
    doc_cursor_init(c, &k->doc->root);
    return doc_resolve_write(c, o->paths[0], x->undo, &x->err);
}

/* Resolves the op's first path for reading; 0 when there is nothing there. */
static int read_at(const op *o, keyslot *k, doc_cursor *c) {
    doc_error miss;
    doc_error_clear(&miss);
    doc_cursor_init(c, k->doc ? &k->doc->root : NULL);
    return k->doc && doc_resolve(c, o->paths[0], &miss) == DOC_OK;
}

/* A write's path: a single path, or an RFC 9535 query whose every match
 * the op then runs at (op_def.run_query). */
static doc_status parse_path(op *o, RedisModuleString *s, doc_error *err) {
    return op_add_write_path(o, s, err);
}

static doc_status parse_value(op *o, RedisModuleString *s, doc_error *err) {
    doc_node *v;
    if (arg_json(s, &v, err) || op_add_value(o, v, err)) return err->code;
    return DOC_OK;
}

static const char *type_of(const uint8_t *v) {
    doc_view view;
    doc_value_decode(v, &view);
    return doc_type_phrase(view.type);
}

static int is_number(const doc_view *v) { return v->type == DOC_INT || v->type == DOC_DOUBLE; }

/* Replies a number: integer reply for int64, a double (reply.c) otherwise. */
static void res_number(result *out, const doc_view *v) {
    if (v->type == DOC_INT)
        res_int(out, v->i);
    else
        res_double(out, v->d);
}

/* ---- DOC.INCR key path delta [MIN n] [MAX n] / DOC.MUL key path factor ---- */

#define OPF_MIN 8
#define OPF_MAX 16

/* A number argument into a view (no allocation). */
static doc_status number_arg(RedisModuleString *s, const char *what, doc_view *out, doc_error *err) {
    size_t len;
    const char *p = RedisModule_StringPtrLen(s, &len);
    int is_int;
    if (doc_number_parse(p, len, &is_int, &out->i, &out->d) != DOC_OK)
        return doc_error_set(err, DOC_SYNTAX, "%s is not a JSON number (or out of range)", what);
    out->type = is_int ? DOC_INT : DOC_DOUBLE;
    return DOC_OK;
}

static doc_status parse_incr(op *o, RedisModuleString **argv, int argc, doc_error *err) {
    /* num: the delta; lo / hi: the MIN / MAX bounds when given (flags say
     * which). Numbers stay views: no allocation. */
    if (parse_path(o, argv[0], err) || number_arg(argv[1], "delta", &o->num, err)) return err->code;
    for (int i = 2; i < argc; i += 2) {
        int is_min = arg_is(argv[i], "MIN");
        if ((!is_min && !arg_is(argv[i], "MAX")) || i + 1 >= argc)
            return doc_error_set(err, DOC_SYNTAX,
                                 "expected MIN n or MAX n: DOC.INCR key path delta [MIN n] [MAX n]");
        if (number_arg(argv[i + 1], is_min ? "MIN" : "MAX", is_min ? &o->lo : &o->hi, err)) return err->code;
        o->flags |= is_min ? OPF_MIN : OPF_MAX;
    }
    return DOC_OK;
}

static doc_status run_arith(op *o, exec_ctx *x, keyslot *k, result *out, int mul) {
    savepoint sp = save(x, k);
    doc_cursor c;
    doc_view cur, r, arg = o->num;
    doc_status st = write_at(o, x, k, &c);
    if (st) goto done;
    if (c.missing) {
        /* MongoDB: $inc creates the field as delta, $mul as 0 of the
         * multiplier's type. */
        if (mul) {
            r.type = arg.type;
            r.i = 0;
            r.d = 0.0;
        } else {
            r = arg;
        }
    } else {
        doc_value_decode(doc_cursor_value(&c), &cur);
        if (!is_number(&cur)) {
            st = doc_error_set(&x->err, DOC_BADTYPE, "%s on %s", mul ? "MUL" : "INCR",
                               doc_type_phrase(cur.type));
            goto done;
        }
        if ((st = doc_number_arith(mul ? DOC_ARITH_MUL : DOC_ARITH_ADD, &cur, &arg, &r))) {
            doc_error_set(&x->err, st, "%s", r.type == DOC_INT ? "integer overflow" : "result is not finite");
            goto done;
        }
    }
    if (o->flags & (OPF_MIN | OPF_MAX)) {
        if (((o->flags & OPF_MIN) && doc_number_cmp(&r, &o->lo) < 0) ||
            ((o->flags & OPF_MAX) && doc_number_cmp(&r, &o->hi) > 0)) {
            rewind_to(x, k, sp);
            res_nil(out);
            goto done;
        }
    }
    uint8_t enc[16];
    size_t len = doc_encode_number(enc, &r);
    /* The op's last step: nothing below can fail. */
    st = x->final_op == o ? doc_edit_set_encoded_final(&c, enc, len, x->undo, &x->err)
                          : doc_edit_set_encoded(&c, enc, len, x->undo, &x->err);
    if (!st) res_number(out, &r);
done:
    doc_cursor_free(&c);
    return st;
}

static doc_status run_incr(op *o, exec_ctx *x, keyslot *k, result *out) { return run_arith(o, x, k, out, 0); }
static doc_status run_mul(op *o, exec_ctx *x, keyslot *k, result *out) { return run_arith(o, x, k, out, 1); }

static doc_status parse_mul(op *o, RedisModuleString **argv, int argc, doc_error *err) {
    (void)argc;
    if (parse_path(o, argv[0], err) || number_arg(argv[1], "factor", &o->num, err)) return err->code;
    return DOC_OK;
}

/* clang-format off */
const op_def op_incr = {"INCR", "doc.incr", 1, 2, 6, parse_incr, run_incr, KF_READ_UPDATE, NULL,
    .txn_positional = 2, .txn_options = "MIN:1 MAX:1",
    .txn_usage = "INCR k path delta [MIN n] [MAX n]",
    .run_query = op_each_match, .whole_values = 1};
const op_def op_mul = {"MUL", "doc.mul", 1, 2, 2, parse_mul, run_mul, KF_READ_UPDATE, NULL,
    .txn_positional = 2, .txn_options = "",
    .txn_usage = "MUL k path factor",
    .run_query = op_each_match, .whole_values = 1};
/* clang-format on */

/* ---- DOC.MIN / DOC.MAX key path json ---- */

static doc_status parse_path_value(op *o, RedisModuleString **argv, int argc, doc_error *err) {
    (void)argc;
    if (parse_path(o, argv[0], err) || parse_value(o, argv[1], err)) return err->code;
    return DOC_OK;
}

static doc_status run_minmax(op *o, exec_ctx *x, keyslot *k, result *out, int want_max) {
    doc_cursor c;
    const uint8_t *arg = doc_box_value(o->values[0]);
    doc_view av;
    doc_value_decode(arg, &av);
    if (!is_number(&av) && av.type != DOC_STRING)
        return doc_error_set(&x->err, DOC_BADTYPE, "%s takes a number or a string, not %s",
                             want_max ? "MAX" : "MIN", doc_type_phrase(av.type));
    doc_status st = write_at(o, x, k, &c);
    if (!st) {
        int replace = c.missing;
        if (!replace) {
            doc_view cur;
            int ok;
            doc_value_decode(doc_cursor_value(&c), &cur);
            int cmp = doc_compare_same_type(&av, &cur, &ok);
            if (!ok)
                st = doc_error_set(&x->err, DOC_BADTYPE, "cannot compare %s with %s",
                                   doc_type_phrase(av.type), doc_type_phrase(cur.type));
            replace = ok && (want_max ? cmp > 0 : cmp < 0);
        }
        if (!st && replace) {
            doc_node *v = o->values[0];
            o->values[0] = NULL;
            st = doc_edit_set_take(&c, v, x->undo, &x->err);
        }
        if (!st) res_json(out, doc_cursor_value(&c));
    }
    doc_cursor_free(&c);
    return st;
}

static doc_status run_min(op *o, exec_ctx *x, keyslot *k, result *out) { return run_minmax(o, x, k, out, 0); }
static doc_status run_max(op *o, exec_ctx *x, keyslot *k, result *out) { return run_minmax(o, x, k, out, 1); }

/* clang-format off */
const op_def op_min = {"MIN", "doc.min", 1, 2, 2, parse_path_value, run_min, KF_READ_UPDATE, NULL,
    .txn_positional = 2, .txn_options = "",
    .txn_usage = "MIN k path json",
    .run_query = op_each_match, .whole_values = 1};
const op_def op_max = {"MAX", "doc.max", 1, 2, 2, parse_path_value, run_max, KF_READ_UPDATE, NULL,
    .txn_positional = 2, .txn_options = "",
    .txn_usage = "MAX k path json",
    .run_query = op_each_match, .whole_values = 1};
/* clang-format on */

/* ---- DOC.STRAPPEND key path string (raw bytes, valid UTF-8) ---- */

static doc_status parse_strappend(op *o, RedisModuleString **argv, int argc, doc_error *err) {
    (void)argc;
    if (parse_path(o, argv[0], err)) return err->code;
    size_t len;
    const char *s = RedisModule_StringPtrLen(argv[1], &len);
    if (!doc_utf8_valid(s, len)) return doc_error_set(err, DOC_BADJSON, "string is not valid UTF-8");
    o->raw = argv[1];
    return DOC_OK;
}

static doc_status run_strappend(op *o, exec_ctx *x, keyslot *k, result *out) {
    doc_cursor c;
    size_t alen;
    const char *add = RedisModule_StringPtrLen(o->raw, &alen);
    doc_status st = write_at(o, x, k, &c);
    if (!st) {
        doc_view cur = {.type = DOC_STRING, .s = "", .slen = 0};
        if (!c.missing) doc_value_decode(doc_cursor_value(&c), &cur);
        if (cur.type != DOC_STRING) {
            st = doc_error_set(&x->err, DOC_BADTYPE, "STRAPPEND on %s", doc_type_phrase(cur.type));
        } else if (cur.slen + alen > DOC_NODE_MAX_BYTES - 16) {
            st = doc_error_set(&x->err, DOC_TOOBIG, "string larger than 4 GB");
        } else {
            /* Build the joined string first: cur points into the document. */
            doc_buf joined;
            doc_buf_init(&joined);
            doc_buf_append(&joined, cur.s, cur.slen);
            doc_buf_append(&joined, add, alen);
            doc_node *box = joined.oom ? NULL : doc_box_string(joined.data ? joined.data : "", joined.len);
            size_t n = joined.len;
            doc_buf_free(&joined);
            if (!box)
                st = doc_error_set(&x->err, DOC_NOMEM, "out of memory");
            else
                st = doc_edit_set_take(&c, box, x->undo, &x->err);
            if (!st) res_int(out, (long long)n);
        }
    }
    doc_cursor_free(&c);
    return st;
}

/* clang-format off */
const op_def op_strappend = {"STRAPPEND", "doc.strappend", 1, 2, 2, parse_strappend, run_strappend, KF_INSERT, NULL,
    .txn_positional = 2, .txn_options = "",
    .txn_usage = "STRAPPEND k path string",
    .run_query = op_each_match, .whole_values = 1};
/* clang-format on */

/* ---- arrays: PUSH, POP, PULL, ADDTOSET, INDEXOF ---- */

#define OPF_AT 32
#define OPF_KEEP 64
#define OPF_KEEP_FIRST 2048 /* KEEP -n: n2 holds n, the count of first elements kept */

/* Makes sure the cursor's target is an array, creating [] when missing. */
static doc_status want_array(doc_cursor *c, exec_ctx *x, const char *what) {
    if (c->missing) {
        doc_node *empty = doc_box_empty(DOC_ARRAY);
        if (!empty) return doc_error_set(&x->err, DOC_NOMEM, "out of memory");
        return doc_edit_set_take(c, empty, x->undo, &x->err);
    }
    if (*doc_cursor_value(c) != DOC_TAG_ARRAY)
        return doc_error_set(&x->err, DOC_BADTYPE, "%s on %s", what, type_of(doc_cursor_value(c)));
    return DOC_OK;
}

static uint32_t array_count(const doc_cursor *c) {
    doc_view v;
    doc_value_decode(doc_cursor_value(c), &v);
    return doc_node_count(v.node);
}

#define PUSH_USAGE "DOC.PUSH key path [AT i] [KEEP n] json [json ...]"

static doc_status parse_push(op *o, RedisModuleString **argv, int argc, doc_error *err) {
    if (parse_path(o, argv[0], err)) return err->code;
    int i = 1;
    for (; i + 1 < argc; i += 2) {
        if (arg_is(argv[i], "AT")) {
            if (arg_ll(argv[i + 1], &o->n1, "AT index", err)) return err->code;
            o->flags |= OPF_AT;
        } else if (arg_is(argv[i], "KEEP")) {
            if (arg_ll(argv[i + 1], &o->n2, "KEEP count", err)) return err->code;
            o->flags |= OPF_KEEP;
            /* Keep the sign as a flag and the magnitude in n2: -INT64_MIN does
             * not exist, and any count past 2^32 keeps a whole array anyway. */
            if (o->n2 < 0) {
                o->flags |= OPF_KEEP_FIRST;
                o->n2 = o->n2 == INT64_MIN ? INT64_MAX : -o->n2;
            }
        } else {
            break;
        }
    }
    if (i >= argc) return doc_error_set(err, DOC_SYNTAX, "PUSH needs a value: " PUSH_USAGE);
    for (; i < argc; i++) {
        if (arg_is(argv[i], "AT") || arg_is(argv[i], "KEEP")) /* `DOC.PUSH k $.l 1 AT 0` */
            return arg_misplaced(argv[i], "before the values", PUSH_USAGE, err);
        if (parse_value(o, argv[i], err)) return err->code;
    }
    return DOC_OK;
}

static doc_status run_push(op *o, exec_ctx *x, keyslot *k, result *out) {
    doc_cursor c;
    doc_status st = write_at(o, x, k, &c);
    if (!st) st = want_array(&c, x, "PUSH");
    int unchanged = 0;
    if (!st) {
        int64_t n = array_count(&c);
        int64_t at = (o->flags & OPF_AT) ? doc_index_clamp(o->n1, (uint32_t)n) : n;
        /* The window KEEP leaves over the combined array: when it is
         * exactly the old elements, the push changes nothing at all. */
        int64_t nv = o->nvalues, total = n + nv;
        uint64_t a = 0, b = (uint64_t)total;
        if (o->flags & OPF_KEEP)
            doc_keep_window((uint64_t)total, (uint64_t)o->n2, !(o->flags & OPF_KEEP_FIRST), &a, &b);
        unchanged = (int64_t)(b - a) == n && (at + nv <= (int64_t)a || at >= (int64_t)b);
        if (!unchanged)
            st = doc_edit_insert_many_take(&c, (uint32_t)at, o->values, (size_t)o->nvalues, x->undo, &x->err);
        o->nvalues = unchanged ? o->nvalues : 0;
    }
    if (unchanged) {
        res_int(out, array_count(&c));
        doc_cursor_free(&c);
        return DOC_OK;
    }
    if (!st && (o->flags & OPF_KEEP)) {
        /* KEEP n >= 0: the last n; KEEP -n: the first n (SPEC). */
        uint64_t n = array_count(&c), from, to;
        doc_keep_window(n, (uint64_t)o->n2, !(o->flags & OPF_KEEP_FIRST), &from, &to);
        if (to < n) st = doc_edit_remove_range(&c, (uint32_t)to, (uint32_t)(n - to), x->undo, &x->err);
        if (!st && from > 0) st = doc_edit_remove_range(&c, 0, (uint32_t)from, x->undo, &x->err);
    }
    if (!st) res_int(out, array_count(&c));
    doc_cursor_free(&c);
    return st;
}

/* clang-format off */
const op_def op_push = {"PUSH", "doc.push", 1, 2, -1, parse_push, run_push, KF_INSERT, NULL,
    .txn_positional = 2, .txn_options = "AT:1 KEEP:1",
    .txn_usage = "PUSH k path [AT i] [KEEP n] json (one value inside DOC.TXN)",
    .run_query = op_each_match};
/* clang-format on */

static doc_status parse_pop(op *o, RedisModuleString **argv, int argc, doc_error *err) {
    if (parse_path(o, argv[0], err)) return err->code;
    o->n1 = -1; /* LAST */
    if (argc == 2) {
        if (arg_is(argv[1], "FIRST"))
            o->n1 = 0;
        else if (!arg_is(argv[1], "LAST") && RedisModule_StringToLongLong(argv[1], &o->n1) != REDISMODULE_OK)
            return doc_error_set(
                err, DOC_SYNTAX,
                "POP takes FIRST|LAST|index, not '%.40s': DOC.POP key path [FIRST|LAST|index]",
                RedisModule_StringPtrLen(argv[1], NULL));
    }
    return DOC_OK;
}

static doc_status run_pop(op *o, exec_ctx *x, keyslot *k, result *out) {
    doc_cursor c;
    doc_status st = DOC_OK;
    res_nil(out);
    if (read_at(o, k, &c)) {
        if (*doc_cursor_value(&c) != DOC_TAG_ARRAY) {
            st = doc_error_set(&x->err, DOC_BADTYPE, "POP on %s", type_of(doc_cursor_value(&c)));
        } else {
            int64_t n = array_count(&c), i = o->n1 < 0 ? n + o->n1 : o->n1;
            if (i >= 0 && i < n) {
                doc_view arr;
                doc_value_decode(doc_cursor_value(&c), &arr);
                res_json(out, doc_array_get(arr.node, (uint32_t)i, NULL));
                st = doc_edit_remove_range(&c, (uint32_t)i, 1, x->undo, &x->err);
            }
        }
    }
    doc_cursor_free(&c);
    return st;
}

/* clang-format off */
const op_def op_pop = {"POP", "doc.pop", 1, 1, 2, parse_pop, run_pop, KF_READ_DELETE, NULL,
    .txn_positional = 1, .txn_options = "FIRST LAST #",
    .txn_usage = "POP k path [FIRST|LAST|index]",
    .run_query = op_each_match};
/* clang-format on */

/* PULL: values, or WHERE filter (kept compiled in o->raw's place: n1 holds
 * the filter pointer). */
static doc_status parse_pull(op *o, RedisModuleString **argv, int argc, doc_error *err) {
    if (parse_path(o, argv[0], err)) return err->code;
    if (argc >= 2 && arg_is(argv[1], "WHERE")) {
        if (argc != 3)
            return doc_error_set(err, DOC_SYNTAX, "WHERE takes one filter: DOC.PULL key path WHERE filter");
        doc_node *f;
        doc_filter *compiled;
        if (arg_json(argv[2], &f, err)) return err->code;
        doc_status st = arg_filter(doc_box_value(f), &compiled, err);
        doc_node_free(f);
        if (st) return st;
        o->filter = compiled;
        return DOC_OK;
    }
    for (int i = 1; i < argc; i++) {
        if (arg_is(argv[i], "WHERE")) /* `DOC.PULL k $.a 1 WHERE f` */
            return arg_misplaced(argv[i], "right after the path, instead of values",
                                 "DOC.PULL key path json [json ...] | DOC.PULL key path WHERE filter", err);
        if (parse_value(o, argv[i], err)) return err->code;
    }
    return DOC_OK;
}

static int pull_matches(void *ctx, const uint8_t *el) {
    const op *o = ctx;
    if (o->filter) return doc_filter_match_element(o->filter, el);
    for (int i = 0; i < o->nvalues; i++)
        if (doc_value_equal(el, doc_box_value(o->values[i]))) return 1;
    return 0;
}

static doc_status run_pull(op *o, exec_ctx *x, keyslot *k, result *out) {
    doc_cursor c;
    doc_status st = DOC_OK;
    long long removed = 0;
    if (read_at(o, k, &c)) {
        if (*doc_cursor_value(&c) != DOC_TAG_ARRAY) {
            st = doc_error_set(&x->err, DOC_BADTYPE, "PULL on %s", type_of(doc_cursor_value(&c)));
        } else {
            uint32_t n = 0;
            if (o->filter) {
                st = doc_edit_remove_where(&c, pull_matches, o, x->undo, &n, &x->err);
            } else {
                /* By value: found through the array's value hash when large. */
                st = doc_edit_remove_equal(&c, o->values, (size_t)o->nvalues, x->undo, &n, &x->err);
            }
            removed = n;
        }
    }
    if (!st) res_int(out, removed);
    doc_cursor_free(&c);
    return st;
}

/* clang-format off */
const op_def op_pull = {"PULL", "doc.pull", 1, 2, -1, parse_pull, run_pull, KF_DELETE, NULL,
    .txn_positional = 2, .txn_options = "WHERE:1",
    .txn_usage = "PULL k path json | PULL k path WHERE filter (one value inside DOC.TXN)",
    .run_query = op_each_match};
/* clang-format on */

static doc_status parse_path_values(op *o, RedisModuleString **argv, int argc, doc_error *err) {
    if (parse_path(o, argv[0], err)) return err->code;
    for (int i = 1; i < argc; i++)
        if (parse_value(o, argv[i], err)) return err->code;
    return DOC_OK;
}

static doc_status run_addtoset(op *o, exec_ctx *x, keyslot *k, result *out) {
    doc_cursor c;
    doc_status st = write_at(o, x, k, &c);
    if (!st) st = want_array(&c, x, "ADDTOSET");
    if (!st) {
        doc_view arr;
        doc_value_decode(doc_cursor_value(&c), &arr);
        /* Keep the values not in the array and not repeated among themselves
         * (many values: looked up in a set). */
        doc_valueset *seen = o->nvalues >= 8 ? doc_valueset_new((size_t)o->nvalues) : NULL;
        int keep = 0;
        for (int i = 0; i < o->nvalues; i++) {
            const uint8_t *v = doc_box_value(o->values[i]);
            int dup = 0;
            if (seen)
                dup = doc_valueset_has(seen, v);
            else
                for (int j = 0; j < keep && !dup; j++) dup = doc_value_equal(v, doc_box_value(o->values[j]));
            if (!dup) dup = doc_array_find(arr.node, v, 0) >= 0;
            if (!dup && seen) doc_valueset_add(seen, v); /* kept: its box lives on */
            if (dup) {
                doc_node_free(o->values[i]);
            } else {
                o->values[keep++] = o->values[i];
            }
            if (keep - 1 != i || dup) o->values[i] = NULL;
        }
        doc_valueset_free(seen);
        o->nvalues = keep;
        st = doc_edit_insert_many_take(&c, doc_node_count(arr.node), o->values, (size_t)keep, x->undo,
                                       &x->err);
        o->nvalues = 0;
        if (!st) res_int(out, keep);
    }
    doc_cursor_free(&c);
    return st;
}

/* clang-format off */
const op_def op_addtoset = {"ADDTOSET", "doc.addtoset", 1, 2, -1, parse_path_values, run_addtoset, KF_INSERT, NULL,
    .txn_positional = 2, .txn_options = "",
    .txn_usage = "ADDTOSET k path json (one value inside DOC.TXN)",
    .run_query = op_each_match};
/* clang-format on */

/* INDEXOF is a read of one array: a single path (a query is BADPATH). */
static doc_status parse_indexof(op *o, RedisModuleString **argv, int argc, doc_error *err) {
    (void)argc;
    doc_path *p;
    if (arg_path(argv[0], &p, err) || op_add_path(o, p, err)) return err->code;
    return parse_value(o, argv[1], err);
}

static doc_status run_indexof(op *o, exec_ctx *x, keyslot *k, result *out) {
    doc_cursor c;
    doc_status st = DOC_OK;
    long long found = -1;
    if (read_at(o, k, &c)) {
        if (*doc_cursor_value(&c) != DOC_TAG_ARRAY) {
            st = doc_error_set(&x->err, DOC_BADTYPE, "INDEXOF on %s", type_of(doc_cursor_value(&c)));
        } else {
            doc_view arr;
            doc_value_decode(doc_cursor_value(&c), &arr);
            found = doc_array_find(arr.node, doc_box_value(o->values[0]), 0);
        }
    }
    if (!st) res_int(out, found);
    doc_cursor_free(&c);
    return st;
}

/* clang-format off */
const op_def op_indexof = {"INDEXOF", NULL, 0, 2, 2, parse_indexof, run_indexof, KF_READ, NULL,
    .txn_positional = 2, .txn_options = "",
    .txn_usage = "INDEXOF k path json"};
/* clang-format on */

/* ---- TOGGLE, CLEAR ---- */

static doc_status parse_one_path(op *o, RedisModuleString **argv, int argc, doc_error *err) {
    (void)argc;
    return parse_path(o, argv[0], err);
}

static doc_status run_toggle(op *o, exec_ctx *x, keyslot *k, result *out) {
    doc_cursor c;
    doc_status st;
    if (!read_at(o, k, &c)) {
        st = doc_error_set(&x->err, DOC_NOPATH, "path does not exist");
    } else {
        const uint8_t *v = doc_cursor_value(&c);
        if (*v != DOC_TAG_TRUE && *v != DOC_TAG_FALSE) {
            st = doc_error_set(&x->err, DOC_BADTYPE, "TOGGLE on %s", type_of(v));
        } else {
            uint8_t now = *v == DOC_TAG_TRUE ? DOC_TAG_FALSE : DOC_TAG_TRUE;
            st = doc_edit_set_encoded(&c, &now, 1, x->undo, &x->err);
            if (!st) res_bool(out, now == DOC_TAG_TRUE);
        }
    }
    doc_cursor_free(&c);
    return st;
}

/* clang-format off */
const op_def op_toggle = {"TOGGLE", "doc.toggle", 1, 1, 1, parse_one_path, run_toggle, KF_READ_UPDATE, NULL,
    .txn_positional = 1, .txn_options = "",
    .txn_usage = "TOGGLE k path",
    .run_query = op_each_match, .whole_values = 1};
/* clang-format on */

static doc_status run_clear(op *o, exec_ctx *x, keyslot *k, result *out) {
    doc_cursor c;
    doc_status st = DOC_OK;
    long long cleared = 0;
    if (read_at(o, k, &c)) {
        doc_view v;
        doc_value_decode(doc_cursor_value(&c), &v);
        if ((v.type == DOC_OBJECT || v.type == DOC_ARRAY) && doc_node_count(v.node)) {
            doc_node *empty = doc_box_empty(v.type);
            st = empty ? doc_edit_set_take(&c, empty, x->undo, &x->err)
                       : doc_error_set(&x->err, DOC_NOMEM, "out of memory");
            cleared = 1;
        } else if ((v.type == DOC_INT && v.i != 0) || (v.type == DOC_DOUBLE && v.d != 0.0)) {
            doc_view zero = v;
            zero.i = 0;
            zero.d = 0.0;
            uint8_t enc[16];
            st = doc_edit_set_encoded(&c, enc, doc_encode_number(enc, &zero), x->undo, &x->err);
            cleared = 1;
        }
    }
    if (!st) res_int(out, cleared);
    doc_cursor_free(&c);
    return st;
}

/* clang-format off */
const op_def op_clear = {"CLEAR", "doc.clear", 1, 1, 1, parse_one_path, run_clear, KF_UPDATE, NULL,
    .txn_positional = 1, .txn_options = "",
    .txn_usage = "CLEAR k path",
    .run_query = op_each_match, .whole_values = 1};
/* clang-format on */

/* ---- DOC.MERGE key path patch (RFC 7396) ---- */

static doc_status run_merge(op *o, exec_ctx *x, keyslot *k, result *out) {
    doc_cursor c;
    doc_status st = write_at(o, x, k, &c);
    if (!st) st = doc_edit_merge(&c, doc_box_value(o->values[0]), x->undo, &x->err);
    if (!st) res_ok(out);
    doc_cursor_free(&c);
    return st;
}

/* clang-format off */
const op_def op_merge = {"MERGE", "doc.merge", 1, 2, 2, parse_path_value, run_merge, KF_UPDATE, NULL,
    .txn_positional = 2, .txn_options = "",
    .txn_usage = "MERGE k path patch",
    .run_query = op_each_match};
/* clang-format on */

/* ---- DOC.CAS key path expected|ABSENT new|ABSENT ---- */

/* ABSENT as `expected`: swap only when nothing is at the path (null is a
 * value, not absence). ABSENT as `new`: the swap deletes the member or
 * element, as DOC.DEL does (the whole key at the root), so a lock taken with
 * `ABSENT '"w1"'` is released with `'"w1"' ABSENT` and can be taken again. */
#define OPF_ABSENT 128
#define OPF_TO_ABSENT 256

static doc_status parse_cas(op *o, RedisModuleString **argv, int argc, doc_error *err) {
    (void)argc;
    if (parse_path(o, argv[0], err)) return err->code;
    if (arg_is(argv[1], "ABSENT")) {
        o->flags |= OPF_ABSENT;
        if (op_add_value(o, doc_box_null(), err)) return err->code;
    } else if (parse_value(o, argv[1], err)) {
        return err->code;
    }
    if (arg_is(argv[2], "ABSENT")) {
        o->flags |= OPF_TO_ABSENT;
        return DOC_OK;
    }
    return parse_value(o, argv[2], err);
}

static doc_status run_cas(op *o, exec_ctx *x, keyslot *k, result *out) {
    doc_cursor c;
    doc_status st = DOC_OK;
    int exists = read_at(o, k, &c);
    int swap = (o->flags & OPF_ABSENT)
                   ? !exists
                   : exists && doc_value_equal(doc_cursor_value(&c), doc_box_value(o->values[0]));
    if (swap && (o->flags & OPF_TO_ABSENT)) {
        /* Absent to absent is a swap that changes nothing. */
        if (exists && o->paths[0]->nseg == 0)
            slot_delete(x, k, o);
        else if (exists)
            st = doc_edit_remove(&c, x->undo, &x->err);
        doc_cursor_free(&c);
    } else {
        doc_cursor_free(&c);
        if (swap) {
            st = write_at(o, x, k, &c);
            if (!st) {
                doc_node *v = o->values[1];
                o->values[1] = NULL;
                st = doc_edit_set_take(&c, v, x->undo, &x->err);
            }
            doc_cursor_free(&c);
        }
    }
    if (!st) res_int(out, swap);
    return st;
}

/* CAS at a query path: the swap happens at every match or at none. Every
 * match is compared with `expected` first, on the document as it was; when
 * all of them deep-equal it, each is swapped (deepest and last first: no
 * two of them nest, as no JSON value equals a part of itself) and every
 * slot is 1; otherwise nothing changes and every slot is 0. ABSENT as
 * `expected` never holds at a match (a match is a value that exists). */
typedef struct cas_probe {
    const uint8_t *expected; /* the value every match must equal */
    int differs;             /* a match that does not (stops the walk) */
} cas_probe;

static int cas_compare(void *ctx, const uint8_t *value, const char *norm) {
    (void)norm;
    cas_probe *p = ctx;
    p->differs = !doc_value_equal(value, p->expected);
    return p->differs;
}

static doc_status run_cas_query(op *o, exec_ctx *x, keyslot *k, result *out) {
    if (!k->doc) return res_array(out, 0) ? DOC_OK : doc_error_set(&x->err, DOC_NOMEM, "out of memory");
    cas_probe probe = {doc_box_value(o->values[0]), (o->flags & OPF_ABSENT) != 0};
    if (!probe.differs &&
        doc_query_eval(o->queries[0], doc_box_value(k->doc->root), cas_compare, &probe, 0, &x->err))
        return x->err.code;
    if (!probe.differs) return op_each_match(o, x, k, out);
    /* No swap: one 0 per match (each matched node once, as op_each_match
     * counts them). */
    doc_targets t;
    doc_status st = doc_query_targets(o->queries[0], &k->doc->root, &t, &x->err);
    result *items = st ? NULL : res_array(out, t.n);
    if (!st && !items) st = doc_error_set(&x->err, DOC_NOMEM, "out of memory");
    for (size_t i = 0; !st && i < t.n; i++) res_int(&items[i], 0);
    doc_targets_free(&t);
    return st;
}

/* clang-format off */
const op_def op_cas = {"CAS", "doc.cas", 1, 3, 3, parse_cas, run_cas, KF_READ_UPDATE, NULL,
    .txn_positional = 3, .txn_options = "",
    .txn_usage = "CAS k path expected|ABSENT new",
    .run_query = run_cas_query, .whole_values = 1};
/* clang-format on */

/* ---- the commands of this file: registration, COMMAND DOCS, INFO counters
 * (ADOC_COMMAND, atomicdoc.h) ---- */

static RedisModuleCommandArg key_path_args[] = {KEY("key"), STR("path"), END};
static RedisModuleCommandArg incr_args[] = {KEY("key"),
                                            STR("path"),
                                            STR("delta"),
                                            WITH_TOKEN("min", "MIN", REDISMODULE_ARG_TYPE_STRING),
                                            WITH_TOKEN("max", "MAX", REDISMODULE_ARG_TYPE_STRING),
                                            END};
static RedisModuleCommandArg mul_args[] = {KEY("key"), STR("path"), STR("factor"), END};
static RedisModuleCommandArg key_path_json_args[] = {KEY("key"), STR("path"), STR("json"), END};
static RedisModuleCommandArg strappend_args[] = {KEY("key"), STR("path"), STR("string"), END};
static RedisModuleCommandArg push_args[] = {KEY("key"),
                                            STR("path"),
                                            WITH_TOKEN("index", "AT", REDISMODULE_ARG_TYPE_INTEGER),
                                            WITH_TOKEN("count", "KEEP", REDISMODULE_ARG_TYPE_INTEGER),
                                            STRS("json"),
                                            END};
static RedisModuleCommandArg pop_where[] = {TOKEN("first", "FIRST"), TOKEN("last", "LAST"), INT("index"),
                                            END};
static RedisModuleCommandArg pop_args[] = {KEY("key"),
                                           STR("path"),
                                           {.name = "which",
                                            .type = REDISMODULE_ARG_TYPE_ONEOF,
                                            .key_spec_index = -1,
                                            .flags = REDISMODULE_CMD_ARG_OPTIONAL,
                                            .subargs = pop_where},
                                           END};
static RedisModuleCommandArg pull_what[] = {STRS("json"),
                                            {.name = "filter",
                                             .display_text = "filter",
                                             .type = REDISMODULE_ARG_TYPE_STRING,
                                             .key_spec_index = -1,
                                             .token = "WHERE"},
                                            END};
static RedisModuleCommandArg pull_args[] = {
    KEY("key"),
    STR("path"),
    {.name = "what", .type = REDISMODULE_ARG_TYPE_ONEOF, .key_spec_index = -1, .subargs = pull_what},
    END};
static RedisModuleCommandArg addtoset_args[] = {KEY("key"), STR("path"), STRS("json"), END};
static RedisModuleCommandArg merge_args[] = {KEY("key"), STR("path"), STR("patch"), END};
static RedisModuleCommandArg cas_args[] = {KEY("key"), STR("path"), STR("expected"), STR("new"), END};

ADOC_COMMAND(doc_incr, .name = "doc.incr", .op = &op_incr, .flags = "write deny-oom fast", .arity = -4,
             .keyshape = KS_ONE,
             .summary = "Adds to a number (int64 exact, else double), optionally within MIN/MAX bounds; an "
                        "RFC 9535 query path writes every match (an array reply)",
             .complexity = "O(depth + size of the container changed)", .args = incr_args)

ADOC_COMMAND(doc_mul, .name = "doc.mul", .op = &op_mul, .flags = "write deny-oom fast", .arity = 4,
             .keyshape = KS_ONE,
             .summary = "Multiplies a number (int64 exact, else double); an RFC 9535 query path writes every "
                        "match (an array reply)",
             .complexity = "O(depth + size of the container changed)", .args = mul_args)

ADOC_COMMAND(doc_min, .name = "doc.min", .op = &op_min, .flags = "write deny-oom", .arity = 4,
             .keyshape = KS_ONE,
             .summary = "Keeps the smaller of the value at a path and the given one; an RFC 9535 query path "
                        "writes every match (an array reply)",
             .complexity = "O(depth + size of the container changed)", .args = key_path_json_args)

ADOC_COMMAND(doc_max, .name = "doc.max", .op = &op_max, .flags = "write deny-oom", .arity = 4,
             .keyshape = KS_ONE,
             .summary = "Keeps the larger of the value at a path and the given one; an RFC 9535 query path "
                        "writes every match (an array reply)",
             .complexity = "O(depth + size of the container changed)", .args = key_path_json_args)

ADOC_COMMAND(doc_strappend, .name = "doc.strappend", .op = &op_strappend, .flags = "write deny-oom",
             .arity = 4, .keyshape = KS_ONE,
             .summary = "Appends to a string; an RFC 9535 query path writes every match (an array reply)",
             .complexity = "O(depth + length of the string)", .args = strappend_args)

ADOC_COMMAND(doc_push, .name = "doc.push", .op = &op_push, .flags = "write deny-oom", .arity = -4,
             .keyshape = KS_ONE,
             .summary = "Appends or inserts values into an array, optionally keeping only n elements; an RFC "
                        "9535 query path writes every match (an array reply)",
             .complexity = "O(depth + size of the array)", .args = push_args)

ADOC_COMMAND(doc_pop, .name = "doc.pop", .op = &op_pop, .flags = "write deny-oom", .arity = -3,
             .keyshape = KS_ONE,
             .summary = "Removes and returns one element of an array; an RFC 9535 query path writes every "
                        "match (an array reply)",
             .complexity = "O(depth + size of the array)", .args = pop_args)

ADOC_COMMAND(doc_pull, .name = "doc.pull", .op = &op_pull, .flags = "write deny-oom", .arity = -4,
             .keyshape = KS_ONE,
             .summary = "Removes every array element equal to a value or matching a filter; an RFC 9535 "
                        "query path writes every match (an array reply)",
             .complexity = "O(depth + size of the array)", .args = pull_args)

ADOC_COMMAND(doc_addtoset, .name = "doc.addtoset", .op = &op_addtoset, .flags = "write deny-oom", .arity = -4,
             .keyshape = KS_ONE,
             .summary = "Appends the values an array does not hold yet; an RFC 9535 query path writes every "
                        "match (an array reply)",
             .complexity = "O(depth + size of the array x values)", .args = addtoset_args)

ADOC_COMMAND(doc_indexof, .name = "doc.indexof", .op = &op_indexof, .flags = "readonly fast", .arity = 4,
             .keyshape = KS_ONE, .summary = "Returns the first index of a value in an array, or -1",
             .complexity = "O(depth + size of the array)", .args = key_path_json_args)

ADOC_COMMAND(doc_toggle, .name = "doc.toggle", .op = &op_toggle, .flags = "write deny-oom fast", .arity = 3,
             .keyshape = KS_ONE,
             .summary = "Flips a boolean; an RFC 9535 query path writes every match (an array reply)",
             .complexity = "O(depth)", .args = key_path_args)

ADOC_COMMAND(
    doc_clear, .name = "doc.clear", .op = &op_clear, .flags = "write deny-oom", .arity = 3,
    .keyshape = KS_ONE,
    .summary =
        "Empties a container or zeroes a number; an RFC 9535 query path writes every match (an array reply)",
    .complexity = "O(depth + size of what is cleared)", .args = key_path_args)

ADOC_COMMAND(
    doc_merge, .name = "doc.merge", .op = &op_merge, .flags = "write deny-oom", .arity = 4,
    .keyshape = KS_ONE,
    .summary =
        "Applies a JSON Merge Patch (RFC 7396); an RFC 9535 query path writes every match (an array reply)",
    .complexity = "O(depth + size of the patch x containers touched)", .args = merge_args)

ADOC_COMMAND(
    doc_cas, .name = "doc.cas", .op = &op_cas, .flags = "write deny-oom", .arity = 5, .keyshape = KS_ONE,
    .summary = "Sets a value (or removes it: ABSENT) only if the current one deep-equals the expected one "
               "(or is ABSENT); an RFC 9535 query path writes every match (an array reply)",
    .complexity = "O(depth + size of the values)", .args = cas_args)
