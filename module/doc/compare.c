/*
 * compare.c - every rule that compares encoded values: deep equality, exact
 * numeric order, and the two orders commands use.
 *
 * Equality follows SPEC: values of different JSON types are never equal,
 * except that integers and doubles compare as numbers (1 == 1.0); objects are
 * equal with the same members in any order. The walk keeps a work list of
 * value pairs still to compare, so nesting depth costs heap, not stack.
 *
 * Two orders, kept apart on purpose because their users promise different
 * things:
 *   - the same-type order (doc_compare_same_type) of DOC.MIN / DOC.MAX,
 *     DOC.TXN's CHECK GT/GE/LT/LE and the $min / $max update operators:
 *     numbers with numbers (exactly, across int and double), strings with
 *     strings (bytewise, a prefix first); any other pair is not comparable
 *     and the caller fails with BADTYPE;
 *   - the total order across types (doc_compare_bson) of $push's $sort,
 *     MongoDB's BSON order: null < numbers < strings < objects < arrays <
 *     booleans, numbers numerically, strings bytewise, false < true, objects
 *     member by member (the values' types, then the key bytes, then the
 *     values), arrays element by element, a prefix first. Iterative: a
 *     doc_order holds the work list, reused across the comparisons of a sort.
 */
#include "node.h"

#include <math.h>

int doc_number_cmp(const doc_view *a, const doc_view *b) {
    if (a->type == DOC_INT && b->type == DOC_INT) return (a->i > b->i) - (a->i < b->i);
    if (a->type == DOC_DOUBLE && b->type == DOC_DOUBLE) return (a->d > b->d) - (a->d < b->d);
    /* int vs double, exactly: no rounding of the int through a double. */
    int flip = a->type == DOC_DOUBLE;
    int64_t i = flip ? b->i : a->i;
    double d = flip ? a->d : b->d;
    int r;
    if (d >= 9223372036854775808.0)
        r = -1;
    else if (d < -9223372036854775808.0)
        r = 1;
    else {
        double t = trunc(d);
        int64_t ti = (int64_t)t;
        if (i != ti)
            r = i < ti ? -1 : 1;
        else
            r = d > t ? -1 : d < t ? 1 : 0;
    }
    return flip ? -r : r;
}

/* A pair of values still to compare. */
typedef struct pair {
    const uint8_t *a; /* left value */
    const uint8_t *b; /* right value */
} pair;

/* Compares two scalars or two container headers; pushes child pairs for
 * containers. Returns 0 when unequal. strict: same encoding (int 1 is not
 * double 1.0) and same member order, i.e. the same JSON text (called so for
 * scalars only: doc_value_identical walks containers itself). */
static int step(const uint8_t *a, const uint8_t *b, doc_buf *work, int strict) {
    doc_view va, vb;
    doc_value_decode(a, &va);
    doc_value_decode(b, &vb);
    int anum = va.type == DOC_INT || va.type == DOC_DOUBLE;
    int bnum = vb.type == DOC_INT || vb.type == DOC_DOUBLE;
    if (strict && va.type != vb.type) return 0;
    if (strict && va.type == DOC_DOUBLE) return memcmp(&va.d, &vb.d, sizeof va.d) == 0;
    if (anum && bnum) return doc_number_cmp(&va, &vb) == 0;
    if (va.type != vb.type) return 0;
    switch (va.type) {
    case DOC_NULL: return 1;
    case DOC_BOOL: return va.b == vb.b;
    case DOC_STRING: return va.slen == vb.slen && memcmp(va.s, vb.s, va.slen) == 0;
    case DOC_ARRAY:
    case DOC_OBJECT: {
        if (va.node == vb.node) return 1;
        if (doc_node_count(va.node) != doc_node_count(vb.node)) return 0;
        doc_iter it;
        const char *k;
        size_t kl;
        const uint8_t *v;
        doc_iter_init(&it, va.node);
        uint32_t bi = 0;
        doc_iter itb;
        doc_iter_init(&itb, vb.node);
        while (doc_iter_next(&it, &k, &kl, &v, NULL)) {
            pair p = {v, NULL};
            if (strict) {
                const char *kb;
                size_t klb;
                doc_iter_next(&itb, &kb, &klb, &p.b, NULL);
                if (kl != klb || (kl && memcmp(k, kb, kl) != 0)) return 0;
            } else if (va.type == DOC_OBJECT)
                p.b = doc_object_get(vb.node, k, kl, NULL, NULL);
            else
                p.b = doc_array_get(vb.node, bi++, NULL);
            if (!p.b) return 0;
            doc_buf_append(work, &p, sizeof p);
        }
        return 1;
    }
    default: return 0;
    }
}

/* Deep equality (not strict: doc_value_identical has its own walk). */
static int compare(const uint8_t *a, const uint8_t *b) {
    doc_buf work;
    doc_buf_init(&work);
    int eq = step(a, b, &work, 0);
    while (eq && work.len && !work.oom) {
        pair p;
        work.len -= sizeof p;
        memcpy(&p, work.data + work.len, sizeof p);
        eq = step(p.a, p.b, &work, 0);
    }
    /* Out of memory mid-walk cannot prove equality; callers treat it as
     * "not equal", which is the safe answer for CAS and set semantics. */
    if (work.oom) eq = 0;
    doc_buf_free(&work);
    return eq;
}

int doc_value_equal(const uint8_t *a, const uint8_t *b) { return compare(a, b); }

/* Two scalars with the same JSON text. The same bytes always are; other
 * bytes only when one integer has a longer encoding than it needs (which
 * no writer makes today, but the rule is about text, not bytes). */
static int scalar_identical(const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
    if (an == bn && memcmp(a, b, an) == 0) return 1;
    return step(a, b, NULL, 1);
}

/* A pair of nodes still to compare (identical_nodes). */
typedef struct node_pair {
    const doc_node *a; /* left node */
    const doc_node *b; /* right node */
} node_pair;

/* Compares two nodes of the same kind entry by entry without decoding
 * scalars: keys and scalars by their bytes, child nodes pushed on work.
 * Two leaf nodes (no child pointers) with equal bytes are identical in one
 * memcmp, which is most of the nodes of a document. Returns 0 when the
 * texts differ. */
static int identical_nodes(const doc_node *a, const doc_node *b, doc_buf *work) {
    if (a == b) return 1;
    if (a->kind != b->kind || a->count != b->count) return 0;
    const uint8_t *pa = node_cbytes(a), *pb = node_cbytes(b);
    if (!((a->flags | b->flags) & NODE_PARENT) && a->len == b->len && memcmp(pa, pb, a->len) == 0) return 1;
    const uint8_t *ea = pa + a->len, *eb = pb + b->len;
    int keys = a->kind == DOC_KIND_OBJECT;
    /* Equal counts: both run out of entries together. */
    while (pa < ea && pb < eb) {
        if (keys) {
            const char *ka, *kb;
            size_t kla, klb;
            pa += doc_key_decode(pa, &ka, &kla);
            pb += doc_key_decode(pb, &kb, &klb);
            if (kla != klb || memcmp(ka, kb, kla) != 0) return 0;
        }
        size_t sa = node_value_size(pa), sb = node_value_size(pb);
        int ca = *pa == DOC_TAG_OBJECT || *pa == DOC_TAG_ARRAY;
        int cb = *pb == DOC_TAG_OBJECT || *pb == DOC_TAG_ARRAY;
        if (ca || cb) {
            if (*pa != *pb) return 0;
            node_pair np = {value_child(pa), value_child(pb)};
            /* Two leaf children with the same bytes: done here, no push. */
            if (!((np.a->flags | np.b->flags) & NODE_PARENT) && np.a->len == np.b->len &&
                np.a->count == np.b->count && np.a->kind == np.b->kind &&
                memcmp(node_cbytes(np.a), node_cbytes(np.b), np.a->len) == 0) {
                /* identical */
            } else {
                doc_buf_append(work, &np, sizeof np);
            }
        } else if (!scalar_identical(pa, sa, pb, sb)) {
            return 0;
        }
        pa += sa;
        pb += sb;
    }
    return 1;
}

int doc_value_identical(const uint8_t *a, const uint8_t *b) {
    int ca = *a == DOC_TAG_OBJECT || *a == DOC_TAG_ARRAY;
    int cb = *b == DOC_TAG_OBJECT || *b == DOC_TAG_ARRAY;
    if (!ca || !cb) return !ca && !cb && scalar_identical(a, doc_value_size(a), b, doc_value_size(b));
    if (*a != *b) return 0;
    doc_buf work;
    doc_buf_init(&work);
    int eq = identical_nodes(value_child(a), value_child(b), &work);
    while (eq && work.len && !work.oom) {
        node_pair np;
        work.len -= sizeof np;
        memcpy(&np, work.data + work.len, sizeof np);
        eq = identical_nodes(np.a, np.b, &work);
    }
    /* Out of memory mid-walk cannot prove identity: "different" is the
     * safe answer (the caller then writes what it was given). */
    if (work.oom) eq = 0;
    doc_buf_free(&work);
    return eq;
}

int doc_bytes_cmp(const char *a, size_t an, const char *b, size_t bn) {
    int r = an && bn ? memcmp(a, b, an < bn ? an : bn) : 0;
    if (r) return r < 0 ? -1 : 1;
    return (an > bn) - (an < bn);
}

int doc_compare_same_type(const doc_view *a, const doc_view *b, int *ok) {
    int anum = a->type == DOC_INT || a->type == DOC_DOUBLE;
    int bnum = b->type == DOC_INT || b->type == DOC_DOUBLE;
    *ok = 1;
    if (anum && bnum) return doc_number_cmp(a, b);
    if (a->type == DOC_STRING && b->type == DOC_STRING) return doc_bytes_cmp(a->s, a->slen, b->s, b->slen);
    *ok = 0;
    return 0;
}

/* Rank of a type in the BSON order across types. */
static int bson_rank(doc_type t) {
    switch (t) {
    case DOC_NULL: return 0;
    case DOC_INT:
    case DOC_DOUBLE: return 1;
    case DOC_STRING: return 2;
    case DOC_OBJECT: return 3;
    case DOC_ARRAY: return 4;
    default: return 5; /* DOC_BOOL */
    }
}

static int bson_rank_of(const uint8_t *v) {
    doc_view view;
    doc_value_decode(v, &view);
    return bson_rank(view.type);
}

/* Two scalars of the same rank. */
static int scalar_cmp(const doc_view *a, const doc_view *b) {
    switch (a->type) {
    case DOC_INT:
    case DOC_DOUBLE: return doc_number_cmp(a, b);
    case DOC_STRING: return doc_bytes_cmp(a->s, a->slen, b->s, b->slen);
    case DOC_BOOL: return (a->b > b->b) - (a->b < b->b);
    default: return 0;
    }
}

/* A pair of containers being compared entry by entry. */
typedef struct cmp_frame {
    doc_iter a; /* next entry of the left container */
    doc_iter b; /* next entry of the right container */
} cmp_frame;

void doc_order_init(doc_order *o) {
    doc_buf_init(&o->stack);
    o->oom = 0;
}

void doc_order_free(doc_order *o) { doc_buf_free(&o->stack); }

int doc_compare_bson(doc_order *o, const uint8_t *a, const uint8_t *b) {
    o->stack.len = 0;
    for (;;) {
        doc_view va, vb;
        doc_value_decode(a, &va);
        doc_value_decode(b, &vb);
        int ra = bson_rank(va.type), rb = bson_rank(vb.type);
        if (ra != rb) return ra < rb ? -1 : 1;
        if (va.type == DOC_OBJECT || va.type == DOC_ARRAY) {
            cmp_frame f;
            doc_iter_init(&f.a, va.node);
            doc_iter_init(&f.b, vb.node);
            doc_buf_append(&o->stack, &f, sizeof f);
            if (o->stack.oom) {
                o->oom = 1;
                return 0;
            }
        } else {
            int r = scalar_cmp(&va, &vb);
            if (r) return r;
        }
        /* The next pair of entries to compare, or the end. */
        for (;;) {
            if (!o->stack.len) return 0;
            cmp_frame *f = (cmp_frame *)(void *)(o->stack.data + o->stack.len - sizeof *f);
            const char *ka, *kb;
            size_t kla, klb;
            int na = doc_iter_next(&f->a, &ka, &kla, &a, NULL);
            int nb = doc_iter_next(&f->b, &kb, &klb, &b, NULL);
            if (!na && !nb) {
                o->stack.len -= sizeof *f;
                continue;
            }
            if (!na) return -1;
            if (!nb) return 1;
            if (ka) {
                /* Objects, pair by pair: the values' types, then the
                 * names, then the values (BSON's order). */
                int ta = bson_rank_of(a), tb = bson_rank_of(b);
                if (ta != tb) return ta < tb ? -1 : 1;
                int r = doc_bytes_cmp(ka, kla, kb, klb);
                if (r) return r;
            }
            break;
        }
    }
}
