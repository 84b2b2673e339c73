/*
 * equal.c - deep equality and exact numeric comparison of encoded values.
 *
 * Equality follows SPEC: values of different JSON types are never equal,
 * except that integers and doubles compare as numbers (1 == 1.0); objects are
 * equal with the same members in any order. The walk keeps a work list of
 * value pairs still to compare, so nesting depth costs heap, not stack.
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
    const uint8_t *a;   /* left value */
    const uint8_t *b;   /* right value */
} pair;

/* Compares two scalars or two container headers; pushes child pairs for
 * containers. Returns 0 when unequal. strict: same encoding (int 1 is not
 * double 1.0) and same member order, i.e. the same JSON text. */
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

static int compare(const uint8_t *a, const uint8_t *b, int strict) {
    doc_buf work;
    doc_buf_init(&work);
    int eq = step(a, b, &work, strict);
    while (eq && work.len && !work.oom) {
        pair p;
        work.len -= sizeof p;
        memcpy(&p, work.data + work.len, sizeof p);
        eq = step(p.a, p.b, &work, strict);
    }
    /* Out of memory mid-walk cannot prove equality; callers treat it as
     * "not equal", which is the safe answer for CAS and set semantics. */
    if (work.oom) eq = 0;
    doc_buf_free(&work);
    return eq;
}

int doc_value_equal(const uint8_t *a, const uint8_t *b) { return compare(a, b, 0); }
int doc_value_identical(const uint8_t *a, const uint8_t *b) { return compare(a, b, 1); }
