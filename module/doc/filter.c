/*
 * filter.c - MongoDB-style query filters: compiled once from a JSON object,
 * then matched against many values (an array element for DOC.PULL WHERE, a
 * whole document for DOC.UPDATE IF and DOC.TXN CHECK MATCH).
 *
 * The language
 * ------------
 * A query is an object; its members are ANDed, an empty query matches all.
 *   "a.b.c": cond   a field condition on a dotted member path
 *   "$and" / "$or" / "$nor": [query, ...]   non-empty arrays of queries
 *   "$gt": 5, "$in": [...], ...   a field operator as a top-level key applies
 *                   to the value itself (MongoDB's $pull condition form:
 *                   `{"$gte": 6}` on an array of numbers). Operators on the
 *                   value itself see it as it is: an array value is not
 *                   searched element by element (use $elemMatch / $all).
 * Field operators and query keys may be mixed in one query (all ANDed);
 * this applies to queries inside $and/$or/$nor and $elemMatch too.
 *
 * A field condition is a literal (implicit $eq) or an object whose keys all
 * start with '$' (operators, ANDed). An object with no '$' key is a literal
 * (`{}` included); one mixing both kinds is BADFILTER. Operators:
 *   $eq $ne        deep equality (doc_value_equal): numbers across int and
 *                  double (1 == 1.0), other types never equal each other,
 *                  objects equal with the same members in any order (MongoDB
 *                  compares embedded documents in field order; we do not,
 *                  since JSON objects are unordered and SPEC says so).
 *   $gt $gte $lt $lte   only within a type (MongoDB's type bracketing):
 *                  numbers numerically, strings by bytes (UTF-8 code point
 *                  order), false < true, null == null. Across types, and
 *                  between objects or arrays other than equal ones ($gte and
 *                  $lte hold when deep-equal), a comparison is false.
 *   $in $nin       an array of literals: equality with any of them
 *   $exists        true / false (1 / 0 accepted, as MongoDB does)
 *   $type          a name or a non-empty array of names: "null", "boolean"
 *                  / "bool", "number" (int or double, MongoDB's alias;
 *                  unlike DOC.TYPE, where "number" means a double),
 *                  "int" / "integer" / "long" (int64), "double", "string",
 *                  "object", "array"; MongoDB's numeric codes 1 2 3 4 8 10
 *                  16 18 too
 *   $size          array length equals a non-negative integer
 *   $all           every listed value is equal to the array or one of its
 *                  elements (items may be {"$elemMatch": q}); [] matches none
 *   $elemMatch     some element of the array satisfies the query q, whose
 *                  field conditions look into the element and whose operator
 *                  keys apply to the element itself ({"$gte": 80, "$lt": 85})
 *   $not           an object of operators; true when they do not all hold
 * Other MongoDB operators ($regex, $mod, $expr, $where, geo, bits, ...) are
 * BADFILTER "operator $regex is not supported"; unknown '$' keys are
 * BADFILTER unknown operator "$foo".
 *
 * Paths and arrays (MongoDB's rules)
 * ----------------------------------
 * A field path is split at every '.'; segments are member names (empty ones
 * included: "a..b" names "" in the middle). Walking a segment:
 *   object   its member of that name, or missing
 *   array    a canonical decimal segment ("0", "12"; no leading zeros) is an
 *            index: the element; past the end, nothing. Any other segment
 *            walks into every element that is an object (implicit array
 *            traversal); elements that are not objects are skipped, so an
 *            array with no object element yields nothing - not "missing"
 *            (MongoDB since 2.6: {"a": []} does not match {"a.b": null}).
 *            MongoDB also tries a decimal segment as a member name inside
 *            object elements; we do not, which keeps every walk linear
 *            (trying both makes a path's cost grow exponentially with its
 *            length).
 *   scalar   missing, except when an index reached it: nothing
 * The walk yields the values the path reaches (and "missing" for each dead
 * end in an object). An operator holds when it holds for any of them, and for
 * the operators that compare values ($eq $gt.. $in $type) also when it holds
 * for an element of a reached array (one level: `{"a": 1}` matches
 * `{"a": [1, 2]}` but not `{"a": [[1]]}`; `{"a": [1]}` matches both), except
 * for a value reached by a final index, taken whole ("b.0" on {"b": [[1]]}
 * is the array [1]). $size, $elemMatch and $exists look at the reached
 * values only. $ne, $nin, $exists: false and $not are negations of the
 * whole: `{"qty": {"$ne": 5}}` rejects `{"qty": [5, 6]}`. Each operator is
 * judged on its own, so `{"a": {"$gt": 1, "$lt": 5}}` matches
 * `{"a": [0, 9]}` (use $elemMatch to ask it of one element). $elemMatch with
 * a document query (fields, $and/$or/$nor, or {}) tries object elements
 * only; with operators only, every element.
 * Missing and null: `{"a": null}` (and $eq / $in / $gte / $lte with null)
 * also matches when "a" is missing, as in MongoDB; `{"a": {"$ne": null}}`
 * thus requires a present, non-null "a". A field condition on a value that
 * is not an object or array sees every path as missing.
 * Array elements ($pull, DOC.PULL WHERE: doc_filter_match_element) follow
 * MongoDB's $pull: a filter of operators only matches {"": element} - the
 * element is a field's value, an array element searched one level; any other
 * filter is a query on object elements, never on scalars or arrays.
 *
 * Limits
 * ------
 * Depth counts the containers the compiler walks into, the filter object
 * being 1: each query, operator object and $and/$or/$nor/$all array, plus
 * one per extra segment of a dotted path ("a.b": x counts as {"a":{"b":x}}).
 * Past max_depth is TOODEEP. Literal operands are not counted: they are
 * copied and compared without recursion. Both compiling and matching recurse
 * over the compiled filter and the path segments only, so the stack they use
 * is bounded by max_depth, whatever the document's depth. Matching walks a
 * path at most once per document node (no exponential cases), and allocates
 * only when doc_value_equal compares two containers.
 *
 * The compiled form is a tree of queries (ANDed clause arrays), clauses
 * (a path with its operators, or a logical operator with sub-queries) and
 * operators. Operands are deep copies (doc_value_copy): the filter never
 * points into its source. All arrays are zero-filled when allocated and
 * their counts set at once, so a half-built filter frees cleanly after a
 * failure.
 */
#include "doc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Location text kept for error messages ("$and.0.qty.$in"). With the
 * message after it, it must fit doc_error.msg (200 bytes); a longer
 * location keeps its start and ends with "...". */
#define FILTER_WHERE_MAX 96
/* Largest index a path segment can name: arrays count elements in 32 bits,
 * so a larger decimal can never reach an element and is just a name. */
#define FILTER_INDEX_MAX 4294967295u

typedef struct fquery fquery;
typedef struct fop fop;

/* What one compiled operator tests on each value a path reaches. */
typedef enum fop_kind {
    OP_EQ, /* deep equality with `val` ($eq, $ne, literals) */
    OP_GT, /* comparisons with `val` within one type */
    OP_GTE,
    OP_LT,
    OP_LTE,
    OP_IN,        /* equality with an element of the array `val` ($in, $nin) */
    OP_EXISTS,    /* the path reaches a value */
    OP_TYPE,      /* the value's type is in `types` */
    OP_SIZE,      /* an array of `size` elements */
    OP_ELEMMATCH, /* an array with an element matching `query` */
    OP_ALL,       /* every `sub` operator holds; none: false ($all) */
    OP_NOT        /* not every `sub` operator holds ($not) */
} fop_kind;

/* One operator of a field condition. */
struct fop {
    uint8_t kind;       /* fop_kind */
    uint8_t negate;     /* 1: the result over all reached values is inverted
                              ($ne, $nin, $exists: false) */
    uint8_t missing_ok; /* 1: a missing path satisfies the test (a null
                              operand of $eq / $gte / $lte / $in) */
    uint32_t types;     /* OP_TYPE: bit (1u << doc_type) per accepted type */
    uint32_t nsub;      /* OP_ALL / OP_NOT: entries of `sub` */
    uint64_t size;      /* OP_SIZE: the required length */
    doc_node *box;      /* OP_EQ .. OP_IN: the operand's copy (owned) */
    const uint8_t *val; /* OP_EQ .. OP_IN: the operand, inside `box` */
    doc_view view;      /* OP_GT .. OP_LTE: `val` decoded once */
    fop *sub;           /* OP_ALL / OP_NOT: sub-operators (owned) */
    fquery *query;      /* OP_ELEMMATCH: the element query (owned) */
    doc_valueset *set;  /* OP_IN with IN_SET_MIN literals or more: them, as a
                           set (owned); NULL: compared one by one */
};

/* $in / $nin arrays at least this long are looked up in a set. */
#define IN_SET_MIN 8

/* One segment of a dotted field path. */
typedef struct fseg {
    const char *name; /* member name bytes (inside the clause's key) */
    size_t len;       /* their count */
    int64_t index;    /* array index when canonical decimal, else -1 */
} fseg;

typedef enum fclause_kind {
    CL_FIELD, /* operators on the values a path reaches */
    CL_AND,   /* every sub-query matches */
    CL_OR,    /* some sub-query matches */
    CL_NOR    /* no sub-query matches */
} fclause_kind;

/* One member of a query object (all its operator keys form one clause). */
typedef struct fclause {
    uint8_t kind;   /* fclause_kind */
    uint8_t expand; /* CL_FIELD: 1 when comparison operators also try the
                              elements of a reached array (named paths); 0 for
                              operators on the value itself */
    char *key;      /* CL_FIELD: the path as written (owned); NULL for
                              the value itself */
    size_t klen;    /* its length */
    fseg *segs;     /* CL_FIELD: nseg segments, pointing into key */
    uint32_t nseg;  /* 0: the value itself */
    fop *ops;       /* CL_FIELD: nops operators, ANDed (owned) */
    uint32_t nops;  /* entries of ops */
    fquery *subs;   /* CL_AND/OR/NOR: nsub sub-queries (owned) */
    uint32_t nsub;  /* entries of subs */
} fclause;

/* A query: clauses ANDed. */
struct fquery {
    fclause *cl;        /* ncl clauses (owned) */
    uint32_t ncl;       /* entries of cl; 0 matches everything */
    uint8_t value_form; /* 1: only operators on the value itself (no field,
                              no $and/$or/$nor): $elemMatch and $pull apply it
                              to any element; otherwise (a document query, {}
                              included) to object elements only */
};

struct doc_filter {
    fquery q; /* the top-level query */
};

/* ------------------------------------------------------------------ */
/* Operator names                                                     */
/* ------------------------------------------------------------------ */

typedef enum opname {
    K_EQ,
    K_NE,
    K_GT,
    K_GTE,
    K_LT,
    K_LTE,
    K_IN,
    K_NIN,
    K_EXISTS,
    K_TYPE,
    K_SIZE,
    K_ALL,
    K_ELEMMATCH,
    K_NOT,
    K_AND,
    K_OR,
    K_NOR,
    K_UNSUPPORTED,
    K_UNKNOWN
} opname;

static const struct {
    const char *name; /* the key, '$' included */
    opname code;      /* what it is */
} op_names[] = {
    {"$eq", K_EQ},
    {"$ne", K_NE},
    {"$gt", K_GT},
    {"$gte", K_GTE},
    {"$lt", K_LT},
    {"$lte", K_LTE},
    {"$in", K_IN},
    {"$nin", K_NIN},
    {"$exists", K_EXISTS},
    {"$type", K_TYPE},
    {"$size", K_SIZE},
    {"$all", K_ALL},
    {"$elemMatch", K_ELEMMATCH},
    {"$not", K_NOT},
    {"$and", K_AND},
    {"$or", K_OR},
    {"$nor", K_NOR},
    /* MongoDB query operators we know of and do not implement. */
    {"$regex", K_UNSUPPORTED},
    {"$options", K_UNSUPPORTED},
    {"$mod", K_UNSUPPORTED},
    {"$text", K_UNSUPPORTED},
    {"$where", K_UNSUPPORTED},
    {"$expr", K_UNSUPPORTED},
    {"$jsonSchema", K_UNSUPPORTED},
    {"$comment", K_UNSUPPORTED},
    {"$geoWithin", K_UNSUPPORTED},
    {"$geoIntersects", K_UNSUPPORTED},
    {"$near", K_UNSUPPORTED},
    {"$nearSphere", K_UNSUPPORTED},
    {"$box", K_UNSUPPORTED},
    {"$center", K_UNSUPPORTED},
    {"$centerSphere", K_UNSUPPORTED},
    {"$geometry", K_UNSUPPORTED},
    {"$polygon", K_UNSUPPORTED},
    {"$maxDistance", K_UNSUPPORTED},
    {"$minDistance", K_UNSUPPORTED},
    {"$bitsAllClear", K_UNSUPPORTED},
    {"$bitsAllSet", K_UNSUPPORTED},
    {"$bitsAnyClear", K_UNSUPPORTED},
    {"$bitsAnySet", K_UNSUPPORTED},
    {"$rand", K_UNSUPPORTED},
    {"$sampleRate", K_UNSUPPORTED},
};

static opname op_lookup(const char *k, size_t kl) {
    for (size_t i = 0; i < sizeof op_names / sizeof op_names[0]; i++)
        if (strlen(op_names[i].name) == kl && memcmp(op_names[i].name, k, kl) == 0) return op_names[i].code;
    return K_UNKNOWN;
}

/* $type names and MongoDB's numeric type codes. */
static const struct {
    const char *name; /* type name */
    int64_t code;     /* MongoDB's BSON type number, or 0 */
    uint32_t mask;    /* bits (1u << doc_type) it accepts */
} type_names[] = {
    {"double", 1, 1u << DOC_DOUBLE},
    {"string", 2, 1u << DOC_STRING},
    {"object", 3, 1u << DOC_OBJECT},
    {"array", 4, 1u << DOC_ARRAY},
    {"bool", 8, 1u << DOC_BOOL},
    {"boolean", 0, 1u << DOC_BOOL},
    {"null", 10, 1u << DOC_NULL},
    {"int", 16, 1u << DOC_INT},
    {"long", 18, 1u << DOC_INT},
    {"integer", 0, 1u << DOC_INT},
    {"number", 0, (1u << DOC_INT) | (1u << DOC_DOUBLE)},
};

/* The mask of one $type entry, 0 when it names no JSON type. */
static uint32_t type_mask(const doc_view *v) {
    for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++) {
        if (v->type == DOC_STRING) {
            size_t n = strlen(type_names[i].name);
            if (n == v->slen && memcmp(type_names[i].name, v->s, n) == 0) return type_names[i].mask;
        } else if (v->type == DOC_INT && type_names[i].code && v->i == type_names[i].code) {
            return type_names[i].mask;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Freeing (also of half-built filters: see the top of this file)     */
/* ------------------------------------------------------------------ */

static void query_clear(fquery *q);

static void ops_free(fop *ops, uint32_t n) {
    if (!ops) return;
    for (uint32_t i = 0; i < n; i++) {
        doc_node_free(ops[i].box);
        doc_valueset_free(ops[i].set);
        ops_free(ops[i].sub, ops[i].nsub);
        if (ops[i].query) {
            query_clear(ops[i].query);
            doc_free(ops[i].query);
        }
    }
    doc_free(ops);
}

/* Frees what q owns (not q itself). */
static void query_clear(fquery *q) {
    for (uint32_t i = 0; i < q->ncl; i++) {
        fclause *cl = &q->cl[i];
        doc_free(cl->key);
        doc_free(cl->segs);
        ops_free(cl->ops, cl->nops);
        if (cl->subs) {
            for (uint32_t j = 0; j < cl->nsub; j++) query_clear(&cl->subs[j]);
            doc_free(cl->subs);
        }
    }
    doc_free(q->cl);
    q->cl = NULL;
    q->ncl = 0;
}

void doc_filter_free(doc_filter *f) {
    if (!f) return;
    query_clear(&f->q);
    doc_free(f);
}

/* ------------------------------------------------------------------ */
/* Compiling                                                          */
/* ------------------------------------------------------------------ */

/* State of one compilation. */
typedef struct compiler {
    uint32_t max_depth;           /* deepest nesting allowed */
    doc_error *err;               /* where the first failure goes */
    char where[FILTER_WHERE_MAX]; /* location of the member being compiled */
    size_t wlen;                  /* its full length (may exceed the buffer) */
} compiler;

static void where_put(compiler *c, const char *s, size_t n) {
    if (c->wlen < FILTER_WHERE_MAX) {
        size_t room = FILTER_WHERE_MAX - c->wlen;
        memcpy(c->where + c->wlen, s, n < room ? n : room);
    }
    c->wlen += n;
}

/* Appends ".s" (or "s" first); returns the length to restore afterwards. */
static size_t where_push(compiler *c, const char *s, size_t n) {
    size_t saved = c->wlen;
    if (c->wlen) where_put(c, ".", 1);
    where_put(c, s, n);
    return saved;
}

static size_t where_push_index(compiler *c, uint32_t i) {
    char num[16];
    int n = snprintf(num, sizeof num, "%u", (unsigned)i);
    return where_push(c, num, (size_t)n);
}

/* Fails with `code` and "at <where>: <message>". */
static doc_status fail(compiler *c, doc_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static doc_status fail(compiler *c, doc_status code, const char *fmt, ...) {
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!c->wlen) return doc_error_set(c->err, code, "%s", msg);
    size_t shown = c->wlen < FILTER_WHERE_MAX ? c->wlen : FILTER_WHERE_MAX;
    return doc_error_set(c->err, code, "at %.*s%s: %s", (int)shown, c->where, shown < c->wlen ? "..." : "",
                         msg);
}

static doc_status too_deep(compiler *c) {
    return fail(c, DOC_TOODEEP, "filter nesting deeper than max-depth %u", (unsigned)c->max_depth);
}

/* n zeroed elements of `size` bytes; NULL (and NOMEM set) on failure. n > 0. */
static void *zalloc(compiler *c, size_t n, size_t size) {
    void *p = NULL;
    if (n <= SIZE_MAX / size) p = doc_malloc(n * size);
    if (!p) {
        doc_error_set(c->err, DOC_NOMEM, "out of memory");
        return NULL;
    }
    memset(p, 0, n * size);
    return p;
}

/* 1: every key of the object starts with '$' (an operator object);
 * 0: none does, or it is empty (a literal); -1: both kinds. */
static int object_form(const doc_node *obj) {
    doc_iter it;
    const char *k;
    size_t kl;
    const uint8_t *v;
    int ops = 0, fields = 0;
    doc_iter_init(&it, obj);
    while (doc_iter_next(&it, &k, &kl, &v, NULL)) {
        if (kl && k[0] == '$')
            ops = 1;
        else
            fields = 1;
    }
    return ops && fields ? -1 : ops;
}

/* Makes op a comparison of `kind` with a copy of val. */
static doc_status set_operand(compiler *c, fop *op, fop_kind kind, const uint8_t *val) {
    op->kind = (uint8_t)kind;
    op->box = doc_value_copy(val);
    if (!op->box) return doc_error_set(c->err, DOC_NOMEM, "out of memory");
    op->val = doc_box_value(op->box);
    doc_value_decode(op->val, &op->view);
    if (op->view.type == DOC_NULL && (kind == OP_EQ || kind == OP_GTE || kind == OP_LTE)) op->missing_ok = 1;
    return DOC_OK;
}

static doc_status compile_query(compiler *c, const doc_node *obj, uint32_t level, fquery *q);
static doc_status compile_ops(compiler *c, const doc_node *obj, uint32_t level, fop **ops, uint32_t *nops);

/* Fails on a $type entry that names no JSON type. */
static doc_status bad_type(compiler *c, const doc_view *v) {
    if (v->type == DOC_STRING)
        return fail(c, DOC_BADFILTER, "$type: unknown type \"%.*s\"", (int)(v->slen > 40 ? 40 : v->slen),
                    v->s);
    if (v->type == DOC_INT) return fail(c, DOC_BADFILTER, "$type: unknown type %lld", (long long)v->i);
    return fail(c, DOC_BADFILTER, "$type needs a type name or a non-empty array of them");
}

static doc_status compile_type(compiler *c, const doc_view *v, fop *op) {
    op->kind = OP_TYPE;
    if (v->type != DOC_ARRAY) {
        op->types = type_mask(v);
        return op->types ? DOC_OK : bad_type(c, v);
    }
    doc_iter it;
    const uint8_t *e;
    doc_iter_init(&it, v->node);
    while (doc_iter_next(&it, NULL, NULL, &e, NULL)) {
        doc_view ev;
        doc_value_decode(e, &ev);
        uint32_t m = type_mask(&ev);
        if (!m) return bad_type(c, ev.type == DOC_ARRAY ? v : &ev);
        op->types |= m;
    }
    return op->types ? DOC_OK : bad_type(c, v);
}

static doc_status compile_size(compiler *c, const doc_view *v, fop *op) {
    op->kind = OP_SIZE;
    if (v->type == DOC_INT && v->i >= 0) {
        op->size = (uint64_t)v->i;
        return DOC_OK;
    }
    /* 2.0 is the number 2 (SPEC: numbers compare across int and double);
     * 2^63 and up are beyond any array anyway. */
    if (v->type == DOC_DOUBLE && v->d >= 0 && v->d < 9223372036854775808.0 && v->d == (double)(int64_t)v->d) {
        op->size = (uint64_t)v->d;
        return DOC_OK;
    }
    return fail(c, DOC_BADFILTER, "$size needs a non-negative integer");
}

/* The operator key k (val its operand) of an object at nesting `level`. */
static doc_status compile_op(compiler *c, const char *k, size_t kl, const uint8_t *val, uint32_t level,
                             fop *op);

/* $all: every element of the array v a plain value (equality) or an
 * {"$elemMatch": query}; each becomes one sub-op, all of which must hold. */
static doc_status compile_all(compiler *c, const doc_view *v, uint32_t level, fop *op) {
    op->kind = OP_ALL;
    if (v->type != DOC_ARRAY) return fail(c, DOC_BADFILTER, "$all needs an array");
    if (level + 1 > c->max_depth) return too_deep(c);
    uint32_t n = doc_node_count(v->node);
    if (!n) return DOC_OK;
    op->sub = zalloc(c, n, sizeof *op->sub);
    if (!op->sub) return DOC_NOMEM;
    op->nsub = n;
    doc_iter it;
    const uint8_t *e;
    doc_iter_init(&it, v->node);
    for (uint32_t i = 0; doc_iter_next(&it, NULL, NULL, &e, NULL); i++) {
        size_t saved = where_push_index(c, i);
        doc_view ev;
        doc_value_decode(e, &ev);
        doc_status st;
        int form = ev.type == DOC_OBJECT ? object_form(ev.node) : 0;
        if (form == 0) {
            st = set_operand(c, &op->sub[i], OP_EQ, e);
        } else {
            const char *ek = NULL;
            size_t ekl = 0;
            const uint8_t *eval = NULL;
            doc_iter eit;
            doc_iter_init(&eit, ev.node);
            doc_iter_next(&eit, &ek, &ekl, &eval, NULL);
            if (form < 0 || doc_node_count(ev.node) != 1 || op_lookup(ek, ekl) != K_ELEMMATCH) {
                st = fail(c, DOC_BADFILTER, "$all takes values or {\"$elemMatch\": query}");
            } else {
                size_t saved2 = where_push(c, ek, ekl);
                st = compile_op(c, ek, ekl, eval, level + 2, &op->sub[i]);
                c->wlen = saved2;
            }
        }
        c->wlen = saved;
        if (st) return st;
    }
    return DOC_OK;
}

static doc_status compile_op(compiler *c, const char *k, size_t kl, const uint8_t *val, uint32_t level,
                             fop *op) {
    doc_view v;
    doc_value_decode(val, &v);
    opname code = op_lookup(k, kl);
    switch (code) {
    case K_EQ:
    case K_NE: op->negate = code == K_NE; return set_operand(c, op, OP_EQ, val);
    case K_GT: return set_operand(c, op, OP_GT, val);
    case K_GTE: return set_operand(c, op, OP_GTE, val);
    case K_LT: return set_operand(c, op, OP_LT, val);
    case K_LTE: return set_operand(c, op, OP_LTE, val);
    case K_IN:
    case K_NIN: {
        if (v.type != DOC_ARRAY) return fail(c, DOC_BADFILTER, "%.*s needs an array", (int)kl, k);
        op->negate = code == K_NIN;
        doc_status st = set_operand(c, op, OP_IN, val);
        if (st) return st;
        doc_iter it;
        const uint8_t *e;
        uint32_t n = doc_node_count(op->view.node);
        /* Many literals: a set (without memory for it, one by one). */
        if (n >= IN_SET_MIN) op->set = doc_valueset_new(n);
        doc_iter_init(&it, op->view.node);
        while (doc_iter_next(&it, NULL, NULL, &e, NULL)) {
            if (*e == DOC_TAG_NULL) op->missing_ok = 1;
            if (op->set) doc_valueset_add(op->set, e);
        }
        return DOC_OK;
    }
    case K_EXISTS:
        op->kind = OP_EXISTS;
        if (v.type == DOC_BOOL)
            op->negate = !v.b;
        else if (v.type == DOC_INT && (v.i == 0 || v.i == 1))
            op->negate = v.i == 0;
        else
            return fail(c, DOC_BADFILTER, "$exists needs true or false");
        return DOC_OK;
    case K_TYPE: return compile_type(c, &v, op);
    case K_SIZE: return compile_size(c, &v, op);
    case K_ELEMMATCH:
        op->kind = OP_ELEMMATCH;
        if (v.type != DOC_OBJECT) return fail(c, DOC_BADFILTER, "$elemMatch needs an object");
        op->query = zalloc(c, 1, sizeof *op->query);
        if (!op->query) return DOC_NOMEM;
        return compile_query(c, v.node, level + 1, op->query);
    case K_NOT:
        op->kind = OP_NOT;
        if (v.type != DOC_OBJECT || object_form(v.node) != 1)
            return fail(c, DOC_BADFILTER, "$not needs a non-empty object of operators");
        return compile_ops(c, v.node, level + 1, &op->sub, &op->nsub);
    case K_ALL: return compile_all(c, &v, level, op);
    case K_AND:
    case K_OR:
    case K_NOR:
        return fail(c, DOC_BADFILTER, "%.*s is not a field operator (use it at a query's top level)", (int)kl,
                    k);
    case K_UNSUPPORTED: return fail(c, DOC_BADFILTER, "operator %.*s is not supported", (int)kl, k);
    case K_UNKNOWN: break;
    }
    return fail(c, DOC_BADFILTER, "unknown operator \"%.*s\"", (int)(kl > 40 ? 40 : kl), k);
}

/* The operator object obj, at nesting `level`, into *ops / *nops. */
static doc_status compile_ops(compiler *c, const doc_node *obj, uint32_t level, fop **ops, uint32_t *nops) {
    if (level > c->max_depth) return too_deep(c);
    uint32_t n = doc_node_count(obj);
    if (!n) return DOC_OK;
    *ops = zalloc(c, n, sizeof **ops);
    if (!*ops) return DOC_NOMEM;
    *nops = n;
    doc_iter it;
    const char *k;
    size_t kl;
    const uint8_t *v;
    doc_iter_init(&it, obj);
    for (uint32_t i = 0; doc_iter_next(&it, &k, &kl, &v, NULL); i++) {
        size_t saved = where_push(c, k, kl);
        doc_status st = compile_op(c, k, kl, v, level, &(*ops)[i]);
        c->wlen = saved;
        if (st) return st;
    }
    return DOC_OK;
}

/* The field condition `key: val` of a query at nesting `level`. */
static doc_status compile_field(compiler *c, const char *key, size_t klen, const uint8_t *val, uint32_t level,
                                fclause *cl) {
    cl->kind = CL_FIELD;
    cl->expand = 1;
    size_t nseg = 1;
    for (size_t i = 0; i < klen; i++)
        if (key[i] == '.') nseg++;
    /* "a.b.c": x stands for {"a":{"b":{"c":x}}}: nseg - 1 more objects. */
    if ((uint64_t)level + nseg - 1 > c->max_depth) return too_deep(c);
    cl->key = doc_malloc(klen ? klen : 1);
    if (!cl->key) return doc_error_set(c->err, DOC_NOMEM, "out of memory");
    memcpy(cl->key, key, klen);
    cl->klen = klen;
    cl->segs = zalloc(c, nseg, sizeof *cl->segs);
    if (!cl->segs) return DOC_NOMEM;
    cl->nseg = (uint32_t)nseg; /* klen < 2^32: node sizes are 32-bit */
    size_t start = 0, s = 0;
    for (size_t i = 0; i <= klen; i++) {
        if (i < klen && key[i] != '.') continue;
        cl->segs[s].name = cl->key + start;
        cl->segs[s].len = i - start;
        cl->segs[s].index = doc_decimal_index(cl->key + start, i - start, FILTER_INDEX_MAX);
        s++;
        start = i + 1;
    }

    doc_view v;
    doc_value_decode(val, &v);
    int form = v.type == DOC_OBJECT ? object_form(v.node) : 0;
    if (form < 0) return fail(c, DOC_BADFILTER, "cannot mix operators and field names in one object");
    if (form > 0) return compile_ops(c, v.node, (uint32_t)(level + nseg), &cl->ops, &cl->nops);
    cl->ops = zalloc(c, 1, sizeof *cl->ops);
    if (!cl->ops) return DOC_NOMEM;
    cl->nops = 1;
    return set_operand(c, &cl->ops[0], OP_EQ, val);
}

/* `$and` / `$or` / `$nor` (k) with operand val, in a query at `level`. */
static doc_status compile_logic(compiler *c, opname code, const char *k, size_t kl, const uint8_t *val,
                                uint32_t level, fclause *cl) {
    cl->kind = code == K_AND ? CL_AND : code == K_OR ? CL_OR : CL_NOR;
    doc_view v;
    doc_value_decode(val, &v);
    if (v.type != DOC_ARRAY || doc_node_count(v.node) == 0)
        return fail(c, DOC_BADFILTER, "%.*s needs a non-empty array of queries", (int)kl, k);
    if (level + 1 > c->max_depth) return too_deep(c);
    uint32_t n = doc_node_count(v.node);
    cl->subs = zalloc(c, n, sizeof *cl->subs);
    if (!cl->subs) return DOC_NOMEM;
    cl->nsub = n;
    doc_iter it;
    const uint8_t *e;
    doc_iter_init(&it, v.node);
    for (uint32_t i = 0; doc_iter_next(&it, NULL, NULL, &e, NULL); i++) {
        size_t saved = where_push_index(c, i);
        doc_view ev;
        doc_value_decode(e, &ev);
        doc_status st;
        if (ev.type != DOC_OBJECT)
            st = fail(c, DOC_BADFILTER, "each %.*s entry must be a query object", (int)kl, k);
        else
            st = compile_query(c, ev.node, level + 2, &cl->subs[i]);
        c->wlen = saved;
        if (st) return st;
    }
    return DOC_OK;
}

/* The query object obj at nesting `level` into q. Its operator keys other
 * than $and/$or/$nor form one clause on the value itself, placed first
 * (cheapest); the other clauses follow in the object's order. */
static doc_status compile_query(compiler *c, const doc_node *obj, uint32_t level, fquery *q) {
    if (level > c->max_depth) return too_deep(c);
    doc_iter it;
    const char *k;
    size_t kl;
    const uint8_t *v;
    uint32_t nself = 0, nother = 0;
    doc_iter_init(&it, obj);
    while (doc_iter_next(&it, &k, &kl, &v, NULL)) {
        opname code = kl && k[0] == '$' ? op_lookup(k, kl) : K_UNKNOWN;
        if (kl && k[0] == '$' && code != K_AND && code != K_OR && code != K_NOR)
            nself++;
        else
            nother++;
    }
    uint32_t n = nother + (nself ? 1 : 0);
    q->value_form = nself && !nother;
    if (!n) return DOC_OK;
    q->cl = zalloc(c, n, sizeof *q->cl);
    if (!q->cl) return DOC_NOMEM;
    q->ncl = n;
    fclause *self = NULL;
    if (nself) {
        self = &q->cl[0];
        self->kind = CL_FIELD;
        self->ops = zalloc(c, nself, sizeof *self->ops);
        if (!self->ops) return DOC_NOMEM;
        self->nops = nself;
    }
    uint32_t ci = nself ? 1 : 0, si = 0;
    doc_iter_init(&it, obj);
    while (doc_iter_next(&it, &k, &kl, &v, NULL)) {
        size_t saved = where_push(c, k, kl);
        doc_status st;
        if (kl && k[0] == '$') {
            opname code = op_lookup(k, kl);
            if (code == K_AND || code == K_OR || code == K_NOR)
                st = compile_logic(c, code, k, kl, v, level, &q->cl[ci++]);
            else
                st = compile_op(c, k, kl, v, level, &self->ops[si++]);
        } else {
            st = compile_field(c, k, kl, v, level, &q->cl[ci++]);
        }
        c->wlen = saved;
        if (st) return st;
    }
    return DOC_OK;
}

doc_status doc_filter_compile(const uint8_t *f, uint32_t max_depth, doc_filter **out, doc_error *err) {
    *out = NULL;
    compiler c;
    c.max_depth = max_depth > DOC_DEPTH_LIMIT ? DOC_DEPTH_LIMIT : max_depth;
    c.err = err;
    c.wlen = 0;
    doc_view v;
    doc_value_decode(f, &v);
    if (v.type != DOC_OBJECT)
        return fail(&c, DOC_BADFILTER, "a filter must be a JSON object, not %s", doc_type_name(v.type));
    doc_filter *flt = zalloc(&c, 1, sizeof *flt);
    if (!flt) return DOC_NOMEM;
    doc_status st = compile_query(&c, v.node, 1, &flt->q);
    if (st) {
        doc_filter_free(flt);
        return st;
    }
    *out = flt;
    return DOC_OK;
}

/* ------------------------------------------------------------------ */
/* Matching                                                           */
/* ------------------------------------------------------------------ */

static int query_match(const fquery *q, const uint8_t *v);

/* Compares v with the operand b (bval its bytes) within one type: sets *cmp
 * to -1/0/1 and returns 1, or returns 0 when they are not comparable. */
static int value_cmp(const uint8_t *v, const doc_view *b, const uint8_t *bval, int *cmp) {
    doc_view a;
    doc_value_decode(v, &a);
    int anum = a.type == DOC_INT || a.type == DOC_DOUBLE;
    int bnum = b->type == DOC_INT || b->type == DOC_DOUBLE;
    if (anum && bnum) {
        *cmp = doc_number_cmp(&a, b);
        return 1;
    }
    if (a.type != b->type) return 0;
    switch (a.type) {
    case DOC_NULL: *cmp = 0; return 1;
    case DOC_BOOL: *cmp = (a.b != 0) - (b->b != 0); return 1;
    case DOC_STRING: {
        size_t n = a.slen < b->slen ? a.slen : b->slen;
        int r = n ? memcmp(a.s, b->s, n) : 0;
        *cmp = r ? (r > 0 ? 1 : -1) : (a.slen > b->slen) - (a.slen < b->slen);
        return 1;
    }
    default:
        /* Containers have no order here, only equality. */
        *cmp = 0;
        return doc_value_equal(v, bval);
    }
}

/* The operator's test on one reached value (not negated). */
static int op_test(const fop *op, const uint8_t *v) {
    int c;
    switch (op->kind) {
    case OP_EQ: return doc_value_equal(v, op->val);
    case OP_GT: return value_cmp(v, &op->view, op->val, &c) && c > 0;
    case OP_GTE: return value_cmp(v, &op->view, op->val, &c) && c >= 0;
    case OP_LT: return value_cmp(v, &op->view, op->val, &c) && c < 0;
    case OP_LTE: return value_cmp(v, &op->view, op->val, &c) && c <= 0;
    case OP_IN: {
        if (op->set) return doc_valueset_has(op->set, v);
        doc_iter it;
        const uint8_t *e;
        doc_iter_init(&it, op->view.node);
        while (doc_iter_next(&it, NULL, NULL, &e, NULL))
            if (doc_value_equal(v, e)) return 1;
        return 0;
    }
    case OP_EXISTS: return 1;
    case OP_TYPE: {
        doc_view dv;
        doc_value_decode(v, &dv);
        return (op->types >> dv.type) & 1u;
    }
    case OP_SIZE: {
        doc_view dv;
        doc_value_decode(v, &dv);
        return dv.type == DOC_ARRAY && doc_node_count(dv.node) == op->size;
    }
    case OP_ELEMMATCH: {
        doc_view dv;
        doc_value_decode(v, &dv);
        if (dv.type != DOC_ARRAY) return 0;
        doc_iter it;
        const uint8_t *e;
        doc_iter_init(&it, dv.node);
        while (doc_iter_next(&it, NULL, NULL, &e, NULL))
            if ((op->query->value_form || *e == DOC_TAG_OBJECT) && query_match(op->query, e)) return 1;
        return 0;
    }
    default: return 0;
    }
}

/* The test on a value a path reached, and for comparing operators on named
 * paths, on each element when it is an array (one level). A value reached by
 * a final array index (`whole`) is taken as it is, as MongoDB does: "b.0"
 * on {"b": [[1]]} reaches [1], an array, and never the 1 inside it. */
static int leaf_any(const fclause *cl, const fop *op, const uint8_t *v, int whole) {
    if (op_test(op, v)) return 1;
    if (whole || !cl->expand || op->kind == OP_EXISTS || op->kind == OP_SIZE || op->kind == OP_ELEMMATCH ||
        *v != DOC_TAG_ARRAY)
        return 0;
    doc_view dv;
    doc_value_decode(v, &dv);
    doc_iter it;
    const uint8_t *e;
    doc_iter_init(&it, dv.node);
    while (doc_iter_next(&it, NULL, NULL, &e, NULL))
        if (op_test(op, e)) return 1;
    return 0;
}

/* 1 when some value the path reaches from v (segments i..) passes op's test.
 * MongoDB's walk: an object lacking the member, or a scalar met by a member
 * name, yields "missing" (op->missing_ok decides); an array yields only what
 * its elements yield - the object elements for a name, the indexed element
 * for an index - so an array with no object element, or an index past the
 * end, yields nothing at all (not even "missing"), and so does a scalar
 * reached by an index with path left (`by_index`). Recursion: one level per
 * segment. */
static int path_any(const fclause *cl, const fop *op, const uint8_t *v, uint32_t i, int by_index) {
    if (i == cl->nseg) return leaf_any(cl, op, v, by_index);
    const fseg *sg = &cl->segs[i];
    doc_view dv;
    doc_value_decode(v, &dv);
    if (dv.type == DOC_OBJECT) {
        const uint8_t *m = doc_object_get(dv.node, sg->name, sg->len, NULL, NULL);
        return m ? path_any(cl, op, m, i + 1, 0) : op->missing_ok;
    }
    if (dv.type != DOC_ARRAY) return by_index ? 0 : op->missing_ok;
    if (sg->index >= 0) {
        const uint8_t *e = doc_array_get(dv.node, (uint32_t)sg->index, NULL);
        return e ? path_any(cl, op, e, i + 1, 1) : 0;
    }
    /* Implicit traversal: the same segment in every object element. */
    doc_iter it;
    const uint8_t *e;
    doc_iter_init(&it, dv.node);
    while (doc_iter_next(&it, NULL, NULL, &e, NULL)) {
        doc_view ev;
        doc_value_decode(e, &ev);
        if (ev.type != DOC_OBJECT) continue;
        const uint8_t *m = doc_object_get(ev.node, sg->name, sg->len, NULL, NULL);
        if (m ? path_any(cl, op, m, i + 1, 0) : op->missing_ok) return 1;
    }
    return 0;
}

/* One operator of a field clause, over everything its path reaches. */
static int op_eval(const fclause *cl, const fop *op, const uint8_t *root) {
    switch (op->kind) {
    case OP_NOT:
        for (uint32_t i = 0; i < op->nsub; i++)
            if (!op_eval(cl, &op->sub[i], root)) return 1;
        return 0;
    case OP_ALL:
        if (!op->nsub) return 0;
        for (uint32_t i = 0; i < op->nsub; i++)
            if (!op_eval(cl, &op->sub[i], root)) return 0;
        return 1;
    default: {
        int r = path_any(cl, op, root, 0, 0);
        return op->negate ? !r : r;
    }
    }
}

static int clause_match(const fclause *cl, const uint8_t *v) {
    switch (cl->kind) {
    case CL_FIELD:
        for (uint32_t i = 0; i < cl->nops; i++)
            if (!op_eval(cl, &cl->ops[i], v)) return 0;
        return 1;
    case CL_AND:
        for (uint32_t i = 0; i < cl->nsub; i++)
            if (!query_match(&cl->subs[i], v)) return 0;
        return 1;
    case CL_OR:
        for (uint32_t i = 0; i < cl->nsub; i++)
            if (query_match(&cl->subs[i], v)) return 1;
        return 0;
    case CL_NOR:
        for (uint32_t i = 0; i < cl->nsub; i++)
            if (query_match(&cl->subs[i], v)) return 0;
        return 1;
    }
    return 0;
}

static int query_match(const fquery *q, const uint8_t *v) {
    for (uint32_t i = 0; i < q->ncl; i++)
        if (!clause_match(&q->cl[i], v)) return 0;
    return 1;
}

int doc_filter_match(const doc_filter *f, const uint8_t *value) { return query_match(&f->q, value); }

int doc_filter_match_element(const doc_filter *f, const uint8_t *el) {
    if (!f->q.value_form) return *el == DOC_TAG_OBJECT && query_match(&f->q, el);
    /* MongoDB matches {"": el} against {"": condition}: the operators see el
     * as a named field's value, so an array element is also searched one
     * level, and the negations negate the whole. */
    fclause self = f->q.cl[0];
    self.expand = 1;
    return clause_match(&self, el);
}

/* ------------------------------------------------------------------ */
/* Equalities (DOC.UPDATE UPSERT)                                     */
/* ------------------------------------------------------------------ */

/* Reports `path: value` and `path: {"$eq": value}` of q, then recurses into
 * its $and clauses (bounded by the filter's depth). 1 when fn stopped. */
static int query_equalities(const fquery *q,
                            int (*fn)(void *ctx, const char *path, size_t plen, const uint8_t *val),
                            void *ctx) {
    for (uint32_t i = 0; i < q->ncl; i++) {
        const fclause *cl = &q->cl[i];
        if (cl->kind == CL_FIELD && cl->key) {
            for (uint32_t j = 0; j < cl->nops; j++) {
                const fop *op = &cl->ops[j];
                if (op->kind == OP_EQ && !op->negate && fn(ctx, cl->key, cl->klen, op->val)) return 1;
            }
        } else if (cl->kind == CL_AND) {
            for (uint32_t j = 0; j < cl->nsub; j++)
                if (query_equalities(&cl->subs[j], fn, ctx)) return 1;
        }
    }
    return 0;
}

void doc_filter_equalities(const doc_filter *f,
                           int (*fn)(void *ctx, const char *path, size_t plen, const uint8_t *val),
                           void *ctx) {
    query_equalities(&f->q, fn, ctx);
}
