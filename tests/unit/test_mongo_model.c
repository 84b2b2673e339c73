/*
 * test_mongo_model.c - randomized filters and updates checked against a small
 * model of MongoDB's documented rules, written here independently of
 * filter.c and update.c (issue 10).
 *
 * The model keeps its own values (mv), its own deep equality and ordering,
 * and evaluates a filter the way MongoDB's manual describes it: a dotted
 * path first *reaches* a list of values (each object on the way gives its
 * member or "missing"; each array gives what its object elements give for a
 * name, or its indexed element for a number; an array with no object
 * element, an index past the end, or a scalar reached by an index give
 * nothing; a value reached by a final index is taken whole), then each
 * operator asks its question of that list (comparison operators also of the
 * elements of a reached array, negations negate the whole, null matches
 * missing). Where atomicdoc deviates on purpose (README: numeric segments only
 * index, objects equal in any order, containers never ordered in filters,
 * numbers and strings only compared within their type) the model encodes
 * the documented deviation, so a disagreement is always a bug of one side.
 *
 * Each filter is also checked as a $pull / DOC.PULL WHERE condition on the
 * value as an array element (doc_filter_match_element): {"": element} for
 * operators only, a document query on object elements otherwise.
 *
 * Seeded and reproducible: the seed is printed; SEED=n replays it.
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "doc.h"

/* ------------------------------------------------------------------ */
/* Random numbers (xorshift64*, so a seed replays on any libc)        */
/* ------------------------------------------------------------------ */

static uint64_t rng_state;

static uint32_t rnd(uint32_t n) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 2685821657736338717ull) >> 33) % n;
}

static uint64_t seed_from_env(void) {
    const char *s = getenv("SEED");
    uint64_t seed = s ? strtoull(s, NULL, 10) : (uint64_t)time(NULL) ^ ((uint64_t)clock() << 20);
    if (!seed) seed = 1;
    return seed;
}

/* ------------------------------------------------------------------ */
/* Model values                                                       */
/* ------------------------------------------------------------------ */

enum { M_NULL, M_BOOL, M_INT, M_DBL, M_STR, M_OBJ, M_ARR };

#define M_MAX 8 /* most members / elements in one container */

typedef struct mv {
    int t;                /* M_* */
    long long i;          /* M_BOOL (0/1), M_INT */
    double d;             /* M_DBL */
    const char *s;        /* M_STR (static strings) */
    int n;                /* M_OBJ / M_ARR: children */
    const char *k[M_MAX]; /* M_OBJ: member names (static strings) */
    struct mv *v[M_MAX];  /* children (owned) */
} mv;

static mv *mnew(int t) {
    mv *m = calloc(1, sizeof *m);
    cr_assert(m);
    m->t = t;
    return m;
}

static void mfree(mv *m) {
    if (!m) return;
    for (int j = 0; j < m->n; j++) mfree(m->v[j]);
    free(m);
}

static const char *const names[] = {"a", "b", "x", "y"};
static const char *const strs[] = {"", "a", "b", "ab"};

static mv *gen_scalar(void) {
    mv *m;
    switch (rnd(7)) {
    case 0: return mnew(M_NULL);
    case 1:
        m = mnew(M_BOOL);
        m->i = rnd(2);
        return m;
    case 2:
        m = mnew(M_DBL);
        m->d = (double)((int)rnd(7) - 3) / 2.0;
        return m;
    case 3:
        m = mnew(M_STR);
        m->s = strs[rnd(4)];
        return m;
    default:
        m = mnew(M_INT);
        m->i = (long long)rnd(5) - 1;
        return m;
    }
}

static mv *gen_value(int depth) {
    uint32_t r = rnd(10);
    if (depth <= 0 || r < 5) return gen_scalar();
    mv *m = mnew(r < 7 ? M_OBJ : M_ARR);
    int n = (int)rnd(4);
    for (int j = 0; j < n; j++) {
        if (m->t == M_OBJ) {
            const char *k = names[rnd(4)];
            int dup = 0;
            for (int q = 0; q < m->n; q++) dup |= !strcmp(m->k[q], k);
            if (dup) continue;
            m->k[m->n] = k;
        }
        m->v[m->n++] = gen_value(depth - 1);
    }
    return m;
}

/* JSON text of m (doubles as atomicdoc prints them: always with a '.'). */
static void mprint(const mv *m, doc_buf *b) {
    char num[64];
    switch (m->t) {
    case M_NULL: doc_buf_append(b, "null", 4); break;
    case M_BOOL: m->i ? doc_buf_append(b, "true", 4) : doc_buf_append(b, "false", 5); break;
    case M_INT: doc_buf_append(b, num, (size_t)snprintf(num, sizeof num, "%lld", m->i)); break;
    case M_DBL:
        doc_buf_append(b, num,
                       (size_t)snprintf(num, sizeof num, m->d == (long long)m->d ? "%.1f" : "%g", m->d));
        break;
    case M_STR:
        doc_buf_putc(b, '"');
        doc_buf_append(b, m->s, strlen(m->s));
        doc_buf_putc(b, '"');
        break;
    default:
        doc_buf_putc(b, m->t == M_OBJ ? '{' : '[');
        for (int j = 0; j < m->n; j++) {
            if (j) doc_buf_putc(b, ',');
            if (m->t == M_OBJ) {
                doc_buf_putc(b, '"');
                doc_buf_append(b, m->k[j], strlen(m->k[j]));
                doc_buf_append(b, "\":", 2);
            }
            mprint(m->v[j], b);
        }
        doc_buf_putc(b, m->t == M_OBJ ? '}' : ']');
    }
}

static char *mtext(const mv *m) {
    doc_buf b;
    doc_buf_init(&b);
    mprint(m, &b);
    char *s = strdup(doc_buf_cstr(&b));
    doc_buf_free(&b);
    return s;
}

static int is_num(const mv *m) { return m->t == M_INT || m->t == M_DBL; }
static double num_of(const mv *m) { return m->t == M_INT ? (double)m->i : m->d; }

/* Deep equality: numbers by value, objects in any member order. */
static int meq(const mv *a, const mv *b) {
    if (is_num(a) && is_num(b)) return num_of(a) == num_of(b);
    if (a->t != b->t) return 0;
    switch (a->t) {
    case M_NULL: return 1;
    case M_BOOL: return a->i == b->i;
    case M_STR: return !strcmp(a->s, b->s);
    case M_ARR:
        if (a->n != b->n) return 0;
        for (int j = 0; j < a->n; j++)
            if (!meq(a->v[j], b->v[j])) return 0;
        return 1;
    default:
        if (a->n != b->n) return 0;
        for (int j = 0; j < a->n; j++) {
            int found = 0;
            for (int q = 0; q < b->n && !found; q++)
                found = !strcmp(a->k[j], b->k[q]) && meq(a->v[j], b->v[q]);
            if (!found) return 0;
        }
        return 1;
    }
}

/* Comparison within one type bracket: 1 and *c set, or 0 (not comparable).
 * Containers compare only as equal (documented deviation). */
static int mcmp(const mv *a, const mv *b, int *c) {
    if (is_num(a) && is_num(b)) {
        double x = num_of(a), y = num_of(b);
        *c = (x > y) - (x < y);
        return 1;
    }
    if (a->t != b->t) return 0;
    switch (a->t) {
    case M_NULL: *c = 0; return 1;
    case M_BOOL: *c = (int)(a->i - b->i); return 1;
    case M_STR: {
        int r = strcmp(a->s, b->s);
        *c = (r > 0) - (r < 0);
        return 1;
    }
    default: *c = 0; return meq(a, b);
    }
}

/* ------------------------------------------------------------------ */
/* Model filters                                                      */
/* ------------------------------------------------------------------ */

/* A reached value: the value (NULL: missing) and whether a final index
 * reached it (then it is not searched element by element). */
typedef struct reached {
    const mv *v;
    int whole;
} reached;

#define REACH_MAX 256

typedef struct reach_list {
    reached r[REACH_MAX];
    int n;
} reach_list;

static void emit(reach_list *l, const mv *v, int whole) {
    cr_assert(l->n < REACH_MAX);
    l->r[l->n].v = v;
    l->r[l->n].whole = whole;
    l->n++;
}

static int seg_num(const char *s) {
    if (!*s || (s[0] == '0' && s[1])) return -1;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9') return -1;
    return atoi(s);
}

static const mv *member(const mv *o, const char *k) {
    for (int j = 0; j < o->n; j++)
        if (!strcmp(o->k[j], k)) return o->v[j];
    return NULL;
}

/* MongoDB's walk of segs[i..n) from v (see the top of the file). */
static void reach(const mv *v, char **segs, int i, int n, int by_index, reach_list *out) {
    if (i == n) {
        emit(out, v, by_index);
        return;
    }
    if (v->t == M_OBJ) {
        const mv *m = member(v, segs[i]);
        if (m)
            reach(m, segs, i + 1, n, 0, out);
        else
            emit(out, NULL, 0);
    } else if (v->t == M_ARR) {
        int idx = seg_num(segs[i]);
        if (idx >= 0) {
            if (idx < v->n) reach(v->v[idx], segs, i + 1, n, 1, out);
            return;
        }
        for (int j = 0; j < v->n; j++) {
            if (v->v[j]->t != M_OBJ) continue;
            const mv *m = member(v->v[j], segs[i]);
            if (m)
                reach(m, segs, i + 1, n, 0, out);
            else
                emit(out, NULL, 0);
        }
    } else if (!by_index) {
        emit(out, NULL, 0);
    }
}

/* Filter AST (printed to JSON for atomicdoc, evaluated by the model). */
enum { Q_FIELD, Q_AND, Q_OR, Q_NOR };
enum {
    O_EQ,
    O_NE,
    O_GT,
    O_GTE,
    O_LT,
    O_LTE,
    O_IN,
    O_NIN,
    O_EXISTS,
    O_TYPE,
    O_SIZE,
    O_ELEM,
    O_NOT,
    O_ALL,
    O_LITERAL
};
static const char *const op_key[] = {"$eq",     "$ne",   "$gt",   "$gte",       "$lt",  "$lte", "$in", "$nin",
                                     "$exists", "$type", "$size", "$elemMatch", "$not", "$all", ""};

typedef struct mq mq;

typedef struct mop {
    int kind;          /* O_* */
    mv *val;           /* operand (O_IN/O_NIN/O_ALL: an array); O_EXISTS: bool */
    const char *type;  /* O_TYPE */
    int size;          /* O_SIZE */
    mq *sub;           /* O_ELEM: the element query */
    struct mop * not ; /* O_NOT: one operator */
} mop;

typedef struct mclause {
    int kind;      /* Q_* */
    char path[32]; /* Q_FIELD; "" for an operator on the value itself */
    mop ops[2];    /* Q_FIELD: ANDed */
    int nops;
    mq *subs[2]; /* Q_AND/OR/NOR */
    int nsub;
} mclause;

struct mq {
    mclause cl[3];
    int ncl;
};

static const char *const paths[] = {"a", "b", "a.x", "a.0", "a.1", "b.x", "a.x.y", "a.0.x", "x"};
static const char *const types[] = {"null", "bool", "int", "double", "number", "string", "object", "array"};

static mq *gen_query(int depth, int value_form);
static void op_free(mop *o);

static void gen_op(mop *o, int depth, int allow_literal) {
    memset(o, 0, sizeof *o);
    o->kind = (int)rnd(allow_literal ? 15 : 14);
    switch (o->kind) {
    case O_IN:
    case O_NIN:
    case O_ALL: {
        o->val = mnew(M_ARR);
        /* sometimes M_MAX: $in / $nin that long look values up in a set */
        int n = rnd(4) ? 1 + (int)rnd(2) : M_MAX;
        for (int j = 0; j < n; j++) o->val->v[o->val->n++] = rnd(4) ? gen_scalar() : gen_value(1);
        break;
    }
    case O_EXISTS:
        o->val = mnew(M_BOOL);
        o->val->i = rnd(2);
        break;
    case O_TYPE: o->type = types[rnd(8)]; break;
    case O_SIZE: o->size = (int)rnd(3); break;
    case O_ELEM:
        if (depth <= 0) {
            o->kind = O_EQ;
            o->val = gen_scalar();
        } else {
            o->sub = gen_query(depth - 1, rnd(2));
        }
        break;
    case O_NOT:
        o->not = calloc(1, sizeof *o->not );
        cr_assert(o->not );
        gen_op(o->not, depth - 1, 0);
        if (o->not ->kind == O_NOT || o->not ->kind == O_ELEM || o->not ->kind == O_ALL) {
            /* keep $not simple: one comparison */
            op_free(o->not );
            memset(o->not, 0, sizeof *o->not );
            o->not ->kind = O_GT;
            o->not ->val = gen_scalar();
        }
        break;
    default: o->val = rnd(5) ? gen_scalar() : gen_value(1);
    }
}

/* value_form: a query of operators on the value itself only. */
static mq *gen_query(int depth, int value_form) {
    mq *q = calloc(1, sizeof *q);
    cr_assert(q);
    if (value_form) {
        q->ncl = 1;
        q->cl[0].kind = Q_FIELD;
        q->cl[0].nops = 1;
        gen_op(&q->cl[0].ops[0], depth, 0);
        if (rnd(3) == 0) {
            gen_op(&q->cl[0].ops[1], depth, 0);
            if (q->cl[0].ops[1].kind != q->cl[0].ops[0].kind) {
                q->cl[0].nops = 2;
            } else {
                op_free(&q->cl[0].ops[1]);
                memset(&q->cl[0].ops[1], 0, sizeof q->cl[0].ops[1]);
            }
        }
        return q;
    }
    q->ncl = (int)rnd(3);
    int used_logic = 0; /* one $and / $or / $nor key each per object */
    for (int c = 0; c < q->ncl; c++) {
        mclause *cl = &q->cl[c];
        int lk = Q_AND + (int)rnd(3);
        if (depth > 0 && rnd(6) == 0 && !(used_logic & (1 << lk))) {
            used_logic |= 1 << lk;
            cl->kind = lk;
            cl->nsub = 1 + (int)rnd(2);
            for (int j = 0; j < cl->nsub; j++) cl->subs[j] = gen_query(depth - 1, 0);
            continue;
        }
        cl->kind = Q_FIELD;
        /* distinct paths in one query object */
        int ok;
        do {
            snprintf(cl->path, sizeof cl->path, "%s", paths[rnd(sizeof paths / sizeof paths[0])]);
            ok = 1;
            for (int p = 0; p < c; p++) ok &= q->cl[p].kind != Q_FIELD || strcmp(q->cl[p].path, cl->path);
        } while (!ok);
        cl->nops = 1;
        gen_op(&cl->ops[0], depth, 1);
        if (cl->ops[0].kind != O_LITERAL && rnd(3) == 0) {
            gen_op(&cl->ops[1], depth, 0);
            if (cl->ops[1].kind != cl->ops[0].kind) {
                cl->nops = 2;
            } else {
                op_free(&cl->ops[1]);
                memset(&cl->ops[1], 0, sizeof cl->ops[1]);
            }
        }
    }
    return q;
}

static void query_free(mq *q) {
    if (!q) return;
    for (int c = 0; c < q->ncl; c++) {
        for (int j = 0; j < q->cl[c].nops; j++) op_free(&q->cl[c].ops[j]);
        for (int j = 0; j < q->cl[c].nsub; j++) query_free(q->cl[c].subs[j]);
    }
    free(q);
}

static void op_free(mop *o) {
    mfree(o->val);
    query_free(o->sub);
    if (o->not ) {
        op_free(o->not );
        free(o->not );
    }
}

static void print_query(const mq *q, doc_buf *b);

static void print_op_value(const mop *o, doc_buf *b) {
    char num[16];
    switch (o->kind) {
    case O_TYPE:
        doc_buf_putc(b, '"');
        doc_buf_append(b, o->type, strlen(o->type));
        doc_buf_putc(b, '"');
        break;
    case O_SIZE: doc_buf_append(b, num, (size_t)snprintf(num, sizeof num, "%d", o->size)); break;
    case O_ELEM: print_query(o->sub, b); break;
    case O_NOT:
        doc_buf_append(b, "{\"", 2);
        doc_buf_append(b, op_key[o->not ->kind], strlen(op_key[o->not ->kind]));
        doc_buf_append(b, "\":", 2);
        print_op_value(o->not, b);
        doc_buf_putc(b, '}');
        break;
    default: mprint(o->val, b);
    }
}

static void print_query(const mq *q, doc_buf *b) {
    doc_buf_putc(b, '{');
    int first = 1;
    for (int c = 0; c < q->ncl; c++) {
        const mclause *cl = &q->cl[c];
        if (cl->kind != Q_FIELD) {
            if (!first) doc_buf_putc(b, ',');
            first = 0;
            static const char *const lk[] = {"", "$and", "$or", "$nor"};
            doc_buf_append(b, "\"", 1);
            doc_buf_append(b, lk[cl->kind], strlen(lk[cl->kind]));
            doc_buf_append(b, "\":[", 3);
            for (int j = 0; j < cl->nsub; j++) {
                if (j) doc_buf_putc(b, ',');
                print_query(cl->subs[j], b);
            }
            doc_buf_putc(b, ']');
            continue;
        }
        if (!cl->path[0]) { /* operators on the value itself: top-level keys */
            for (int j = 0; j < cl->nops; j++) {
                if (!first) doc_buf_putc(b, ',');
                first = 0;
                doc_buf_putc(b, '"');
                doc_buf_append(b, op_key[cl->ops[j].kind], strlen(op_key[cl->ops[j].kind]));
                doc_buf_append(b, "\":", 2);
                print_op_value(&cl->ops[j], b);
            }
            continue;
        }
        if (!first) doc_buf_putc(b, ',');
        first = 0;
        doc_buf_putc(b, '"');
        doc_buf_append(b, cl->path, strlen(cl->path));
        doc_buf_append(b, "\":", 2);
        if (cl->ops[0].kind == O_LITERAL) {
            mprint(cl->ops[0].val, b);
            continue;
        }
        doc_buf_putc(b, '{');
        for (int j = 0; j < cl->nops; j++) {
            if (j) doc_buf_putc(b, ',');
            doc_buf_putc(b, '"');
            doc_buf_append(b, op_key[cl->ops[j].kind], strlen(op_key[cl->ops[j].kind]));
            doc_buf_append(b, "\":", 2);
            print_op_value(&cl->ops[j], b);
        }
        doc_buf_putc(b, '}');
    }
    doc_buf_putc(b, '}');
}

static int type_is(const mv *v, const char *t) {
    if (!strcmp(t, "number")) return is_num(v);
    static const char *const tn[] = {"null", "bool", "int", "double", "string", "object", "array"};
    return !strcmp(tn[v->t], t);
}

static int query_holds(const mq *q, const mv *v);

/* Whether a comparison-like test holds for one candidate value. */
static int test_one(const mop *o, const mv *c) {
    int cmp;
    switch (o->kind) {
    case O_EQ:
    case O_LITERAL: return meq(c, o->val);
    case O_GT: return mcmp(c, o->val, &cmp) && cmp > 0;
    case O_GTE: return mcmp(c, o->val, &cmp) && cmp >= 0;
    case O_LT: return mcmp(c, o->val, &cmp) && cmp < 0;
    case O_LTE: return mcmp(c, o->val, &cmp) && cmp <= 0;
    case O_TYPE: return type_is(c, o->type);
    default: return 0;
    }
}

/* Whether operator o holds over the list of reached values; `expand`: the
 * elements of a reached array are candidates too (named paths). */
static int op_holds(const mop *o, const reach_list *l, int expand) {
    switch (o->kind) {
    case O_NE: {
        mop eq = *o;
        eq.kind = O_EQ;
        return !op_holds(&eq, l, expand);
    }
    case O_NIN: {
        mop in = *o;
        in.kind = O_IN;
        return !op_holds(&in, l, expand);
    }
    case O_IN:
    case O_ALL: {
        int all = o->kind == O_ALL, any = 0;
        if (all && !o->val->n) return 0;
        for (int j = 0; j < o->val->n; j++) {
            mop eq = {O_EQ, o->val->v[j], NULL, 0, NULL, NULL};
            int h = op_holds(&eq, l, expand);
            if (all && !h) return 0;
            any |= h;
        }
        return all ? 1 : any;
    }
    case O_EXISTS: {
        int present = 0;
        for (int i = 0; i < l->n; i++) present |= l->r[i].v != NULL;
        return o->val->i ? present : !present;
    }
    case O_SIZE:
        for (int i = 0; i < l->n; i++)
            if (l->r[i].v && l->r[i].v->t == M_ARR && l->r[i].v->n == o->size) return 1;
        return 0;
    case O_ELEM: {
        int value_form = o->sub->ncl == 1 && o->sub->cl[0].kind == Q_FIELD && !o->sub->cl[0].path[0];
        for (int i = 0; i < l->n; i++) {
            const mv *a = l->r[i].v;
            if (!a || a->t != M_ARR) continue;
            for (int j = 0; j < a->n; j++)
                if ((value_form || a->v[j]->t == M_OBJ) && query_holds(o->sub, a->v[j])) return 1;
        }
        return 0;
    }
    case O_NOT: return !op_holds(o->not, l, expand);
    default: {
        /* null (for $eq, $gte, $lte) matches a missing value */
        int null_ok = (o->kind == O_EQ || o->kind == O_LITERAL || o->kind == O_GTE || o->kind == O_LTE) &&
                      o->val && o->val->t == M_NULL;
        for (int i = 0; i < l->n; i++) {
            const mv *c = l->r[i].v;
            if (!c) {
                if (null_ok) return 1;
                continue;
            }
            if (test_one(o, c)) return 1;
            if (expand && !l->r[i].whole && c->t == M_ARR)
                for (int j = 0; j < c->n; j++)
                    if (test_one(o, c->v[j])) return 1;
        }
        return 0;
    }
    }
}

static int clause_holds(const mclause *cl, const mv *v) {
    switch (cl->kind) {
    case Q_AND:
        for (int j = 0; j < cl->nsub; j++)
            if (!query_holds(cl->subs[j], v)) return 0;
        return 1;
    case Q_OR:
        for (int j = 0; j < cl->nsub; j++)
            if (query_holds(cl->subs[j], v)) return 1;
        return 0;
    case Q_NOR:
        for (int j = 0; j < cl->nsub; j++)
            if (query_holds(cl->subs[j], v)) return 0;
        return 1;
    }
    reach_list l;
    l.n = 0;
    if (!cl->path[0]) {
        emit(&l, v, 0);
    } else {
        char buf[32];
        char *segs[8];
        int n = 0;
        snprintf(buf, sizeof buf, "%s", cl->path);
        for (char *p = strtok(buf, "."); p; p = strtok(NULL, ".")) segs[n++] = p;
        reach(v, segs, 0, n, 0, &l);
    }
    for (int j = 0; j < cl->nops; j++)
        if (!op_holds(&cl->ops[j], &l, cl->path[0] != 0)) return 0;
    return 1;
}

static int query_holds(const mq *q, const mv *v) {
    for (int c = 0; c < q->ncl; c++)
        if (!clause_holds(&q->cl[c], v)) return 0;
    return 1;
}

/* $pull / DOC.PULL WHERE on one element: {"": el} for operators only, a
 * document query on object elements otherwise. */
static int element_holds(const mq *q, const mv *el) {
    int value_form = q->ncl == 1 && q->cl[0].kind == Q_FIELD && !q->cl[0].path[0];
    if (!value_form) return el->t == M_OBJ && query_holds(q, el);
    reach_list l;
    l.n = 0;
    emit(&l, el, 0);
    for (int j = 0; j < q->cl[0].nops; j++)
        if (!op_holds(&q->cl[0].ops[j], &l, 1)) return 0;
    return 1;
}

static doc_node *parse_text(const char *text) {
    doc_error err;
    doc_error_clear(&err);
    doc_node *box = doc_parse(text, strlen(text), DOC_DEPTH_DEFAULT, &err);
    cr_assert(box, "model text does not parse: %s (%s)", text, err.msg);
    return box;
}

#define FILTER_ROUNDS 4000

Test(mongo_model, random_filters_agree_with_the_model) {
    uint64_t seed = seed_from_env();
    rng_state = seed;
    fprintf(stderr, "mongo_model filters: SEED=%llu\n", (unsigned long long)seed);
    for (int round = 0; round < FILTER_ROUNDS; round++) {
        int value_form = rnd(4) == 0;
        mq *q = gen_query(2, value_form);
        doc_buf fb;
        doc_buf_init(&fb);
        print_query(q, &fb);
        const char *ftext = doc_buf_cstr(&fb);
        doc_node *fbox = parse_text(ftext);
        doc_filter *f;
        doc_error err;
        doc_error_clear(&err);
        cr_assert_eq(doc_filter_compile(doc_box_value(fbox), DOC_DEPTH_DEFAULT, &f, &err), DOC_OK,
                     "SEED=%llu round %d: %s: %s", (unsigned long long)seed, round, ftext, err.msg);
        for (int d = 0; d < 4; d++) {
            mv *doc = gen_value(3);
            if (!value_form && rnd(3)) { /* mostly documents */
                mfree(doc);
                doc = mnew(M_OBJ);
                const char *ks[] = {"a", "b", "x"};
                for (int j = 0; j < 3; j++)
                    if (rnd(4)) {
                        doc->k[doc->n] = ks[j];
                        doc->v[doc->n++] = gen_value(3);
                    }
            }
            char *dtext = mtext(doc);
            doc_node *dbox = parse_text(dtext);
            int want = query_holds(q, doc);
            int got = doc_filter_match(f, doc_box_value(dbox));
            cr_assert_eq(got, want, "SEED=%llu round %d: filter %s on %s: atomicdoc %d, model %d",
                         (unsigned long long)seed, round, ftext, dtext, got, want);
            int want_el = element_holds(q, doc);
            int got_el = doc_filter_match_element(f, doc_box_value(dbox));
            cr_assert_eq(got_el, want_el, "SEED=%llu round %d: element rule %s on %s: atomicdoc %d, model %d",
                         (unsigned long long)seed, round, ftext, dtext, got_el, want_el);
            doc_node_free(dbox);
            free(dtext);
            mfree(doc);
        }
        doc_filter_free(f);
        doc_node_free(fbox);
        doc_buf_free(&fb);
        query_free(q);
    }
}

/* ------------------------------------------------------------------ */
/* Updates                                                            */
/* ------------------------------------------------------------------ */

/* The update model: one operator over one or two top-level fields (a
 * `p.q` path for $set and $inc), applied to a copy of the model document by
 * the rules MongoDB's manual gives each operator, with README's documented
 * decisions where atomicdoc differs ($min/$max compare numbers only; a field
 * created inside a scalar or an array is an error). A failing field fails the
 * whole update and leaves the document as it was. */

static mv *mcopy(const mv *m) {
    mv *c = mnew(m->t);
    *c = *m;
    for (int j = 0; j < m->n; j++) c->v[j] = mcopy(m->v[j]);
    return c;
}

/* The index of member k of object o, or -1. */
static int member_at(const mv *o, const char *k) {
    for (int j = 0; j < o->n; j++)
        if (!strcmp(o->k[j], k)) return j;
    return -1;
}

/* Sets member k of object o to v (owned): in place, or appended. */
static void put(mv *o, const char *k, mv *v) {
    int j = member_at(o, k);
    if (j >= 0) {
        mfree(o->v[j]);
        o->v[j] = v;
    } else {
        o->k[o->n] = k;
        o->v[o->n++] = v;
    }
}

enum { U_SET, U_UNSET, U_INC, U_PUSH, U_ADDTOSET, U_POP, U_PULL, U_MIN, U_MAX, U_COUNT };
static const char *const uop_names[] = {"$set", "$unset", "$inc", "$push", "$addToSet",
                                        "$pop", "$pull",  "$min", "$max"};

typedef struct ufield {
    const char *f;   /* top-level field */
    const char *sub; /* $set / $inc: a member of f (path f.sub), or NULL */
    mv *v;           /* the operand */
} ufield;

/* Applies one field of operator op to doc; 0 on a model error. */
static int apply_field(int op, const ufield *u, mv *doc) {
    mv *parent = doc;
    const char *name = u->f;
    if (u->sub) { /* f.sub: f must be an object, created when missing */
        int j = member_at(doc, u->f);
        if (j < 0) {
            put(doc, u->f, mnew(M_OBJ));
            j = member_at(doc, u->f);
        }
        if (doc->v[j]->t != M_OBJ) return 0;
        parent = doc->v[j];
        name = u->sub;
    }
    int j = member_at(parent, name);
    mv *cur = j >= 0 ? parent->v[j] : NULL;
    switch (op) {
    case U_SET: put(parent, name, mcopy(u->v)); return 1;
    case U_UNSET:
        if (cur) {
            mfree(cur);
            for (int q = j; q + 1 < parent->n; q++) {
                parent->k[q] = parent->k[q + 1];
                parent->v[q] = parent->v[q + 1];
            }
            parent->n--;
        }
        return 1;
    case U_INC:
        if (!cur) {
            put(parent, name, mcopy(u->v));
            return 1;
        }
        if (!is_num(cur)) return 0;
        if (cur->t == M_INT && u->v->t == M_INT)
            cur->i += u->v->i;
        else {
            cur->d = num_of(cur) + num_of(u->v);
            cur->t = M_DBL;
        }
        return 1;
    case U_PUSH:
    case U_ADDTOSET:
        if (!cur) {
            mv *a = mnew(M_ARR);
            a->v[a->n++] = mcopy(u->v);
            put(parent, name, a);
            return 1;
        }
        if (cur->t != M_ARR) return 0;
        if (op == U_ADDTOSET)
            for (int q = 0; q < cur->n; q++)
                if (meq(cur->v[q], u->v)) return 1;
        cur->v[cur->n++] = mcopy(u->v);
        return 1;
    case U_POP:
        if (!cur) return 1;
        if (cur->t != M_ARR) return 0;
        if (cur->n) {
            int first = u->v->i < 0;
            mfree(cur->v[first ? 0 : cur->n - 1]);
            if (first)
                for (int q = 0; q + 1 < cur->n; q++) cur->v[q] = cur->v[q + 1];
            cur->n--;
        }
        return 1;
    case U_PULL:
        if (!cur) return 1;
        if (cur->t != M_ARR) return 0;
        for (int q = 0; q < cur->n;) {
            if (meq(cur->v[q], u->v)) {
                mfree(cur->v[q]);
                for (int r = q; r + 1 < cur->n; r++) cur->v[r] = cur->v[r + 1];
                cur->n--;
            } else {
                q++;
            }
        }
        return 1;
    default: /* U_MIN / U_MAX: numbers only */
        if (!cur) {
            put(parent, name, mcopy(u->v));
            return 1;
        }
        if (!is_num(cur)) return 0;
        if (op == U_MIN ? num_of(u->v) < num_of(cur) : num_of(u->v) > num_of(cur))
            put(parent, name, mcopy(u->v));
        return 1;
    }
}

/* A random operand for op. */
static mv *gen_operand(int op) {
    mv *m;
    switch (op) {
    case U_INC:
    case U_MIN:
    case U_MAX:
        if (rnd(3) == 0) {
            m = mnew(M_DBL);
            m->d = (double)((int)rnd(5) - 2) / 2.0;
            return m;
        }
        m = mnew(M_INT);
        m->i = (long long)rnd(5) - 2;
        return m;
    case U_POP:
        m = mnew(M_INT);
        m->i = rnd(2) ? 1 : -1;
        return m;
    case U_UNSET:
        m = mnew(M_STR);
        m->s = "";
        return m;
    case U_PULL: return gen_scalar();
    default: return gen_value(2);
    }
}

/* The canonical text of JSON text t (atomicdoc's printing). */
static char *canonical(const char *t) {
    doc_node *box = parse_text(t);
    doc_buf b;
    doc_buf_init(&b);
    doc_print(doc_box_value(box), &b);
    char *s = strdup(doc_buf_cstr(&b));
    doc_buf_free(&b);
    doc_node_free(box);
    return s;
}

#define UPDATE_ROUNDS 3000

Test(mongo_model, random_updates_agree_with_the_model) {
    uint64_t seed = seed_from_env();
    rng_state = seed;
    fprintf(stderr, "mongo_model updates: SEED=%llu\n", (unsigned long long)seed);
    for (int round = 0; round < UPDATE_ROUNDS; round++) {
        mv *doc = mnew(M_OBJ);
        for (int j = 0; j < 4; j++)
            if (rnd(3)) {
                doc->k[doc->n] = names[j];
                doc->v[doc->n++] = rnd(3) ? gen_value(2) : mnew(M_ARR);
            }
        int op = (int)rnd(U_COUNT);
        ufield u[2];
        int nu = 1 + (int)rnd(2);
        u[0].f = names[rnd(4)];
        u[1].f = u[0].f;
        while (nu == 2 && u[1].f == u[0].f) u[1].f = names[rnd(4)];
        for (int j = 0; j < nu; j++) {
            u[j].sub = (op == U_SET || op == U_INC) && rnd(3) == 0 ? "q" : NULL;
            u[j].v = gen_operand(op);
        }
        /* the update document */
        doc_buf ub;
        doc_buf_init(&ub);
        doc_buf_append(&ub, "{\"", 2);
        doc_buf_append(&ub, uop_names[op], strlen(uop_names[op]));
        doc_buf_append(&ub, "\":{", 3);
        for (int j = 0; j < nu; j++) {
            char path[16];
            snprintf(path, sizeof path, "%s%s%s", u[j].f, u[j].sub ? "." : "", u[j].sub ? u[j].sub : "");
            if (j) doc_buf_putc(&ub, ',');
            doc_buf_putc(&ub, '"');
            doc_buf_append(&ub, path, strlen(path));
            doc_buf_append(&ub, "\":", 2);
            mprint(u[j].v, &ub);
        }
        doc_buf_append(&ub, "}}", 2);
        const char *utext = doc_buf_cstr(&ub);
        char *dtext = mtext(doc);
        /* the model */
        mv *want = mcopy(doc);
        int ok = 1;
        for (int j = 0; j < nu && ok; j++) ok = apply_field(op, &u[j], want);
        char *before = canonical(dtext);
        char *wtext = mtext(want);
        char *expect = ok ? canonical(wtext) : strdup(before);
        /* atomicdoc */
        doc_node *ubox = parse_text(utext), *dbox = parse_text(dtext);
        doc_update *cu;
        doc_error err;
        doc_error_clear(&err);
        cr_assert_eq(doc_update_compile(doc_box_value(ubox), NULL, DOC_DEPTH_DEFAULT, &cu, &err), DOC_OK,
                     "SEED=%llu round %d: %s: %s", (unsigned long long)seed, round, utext, err.msg);
        int changed = 0;
        doc_status st = doc_update_apply(cu, &dbox, 0, NULL, &changed, &err);
        doc_buf gb;
        doc_buf_init(&gb);
        doc_print(doc_box_value(dbox), &gb);
        const char *got = doc_buf_cstr(&gb);
        cr_assert_eq(st == DOC_OK, ok, "SEED=%llu round %d: %s on %s: atomicdoc %s (%s), model %s",
                     (unsigned long long)seed, round, utext, dtext, st ? doc_status_word(st) : "OK", err.msg,
                     ok ? "OK" : "an error");
        cr_assert_str_eq(got, expect, "SEED=%llu round %d: %s on %s", (unsigned long long)seed, round, utext,
                         dtext);
        cr_assert_eq(changed, ok && strcmp(expect, before) != 0, "SEED=%llu round %d: %s on %s: changed %d",
                     (unsigned long long)seed, round, utext, dtext, changed);
        doc_buf_free(&gb);
        doc_update_free(cu);
        doc_node_free(ubox);
        doc_node_free(dbox);
        free(before);
        free(wtext);
        free(expect);
        free(dtext);
        mfree(want);
        mfree(doc);
        for (int j = 0; j < nu; j++) mfree(u[j].v);
        doc_buf_free(&ub);
    }
}
