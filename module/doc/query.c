/*
 * query.c - RFC 9535 JSONPath queries: compiling the text into a small tree,
 * and running that tree over an encoded document.
 *
 * Compiling is recursive descent over the RFC grammar, exactly: blank space
 * (space, tab, LF, CR) goes where the ABNF puts S and nowhere else, so
 * "$ .a" is a query and "$. a", " $" and "$ " are not. The text must be
 * UTF-8. Every construct is type-checked as RFC 9535 2.4.3 demands while it
 * is parsed (a non-singular query in a comparison, length() used as a test,
 * match() compared, a wrong argument count or type are all BADPATH), so a
 * compiled query never fails at run time except for memory. Errors carry the
 * character (code point) offset of the offending construct.
 *
 * The tree lives in one arena owned by the doc_query and freed with it:
 * queries are lists of segments, segments lists of selectors, filter
 * expressions trees whose AND / OR nodes are n-ary lists (a long chain of
 * `&&` is one flat node, not a deep tree). The only recursion in compiling
 * and evaluating is along the nesting of the query itself: parentheses,
 * filters and function calls. It is bounded by max_depth, and in any case by
 * QUERY_NEST_MAX, since each level costs C stack.
 *
 * Evaluating never recurses over the document. A run keeps an explicit stack
 * of frames, one per value whose selectors are being applied; a frame yields
 * one selected child at a time, and the child is either reported (last
 * segment) or becomes the frame for the next segment. Depth-first over that
 * stack gives exactly the RFC's nodelist order: for each input node in order,
 * each selector in order, each selected child in order. A descendant segment
 * frame first applies its selectors to its own value, then yields each child
 * container as a new frame of the same segment: the RFC's "node before its
 * descendants, children in document order" (object members in stored
 * order). Filters evaluate nested queries on the same stack, above the frames
 * of the run that called them, so all runs of one evaluation share one
 * allocation. Singular queries inside filters (`@.a`, `$['k'][0]`) skip the
 * stack and walk straight down.
 *
 * Normalized paths (RFC 9535 2.7) are built in one buffer while the
 * top-level run goes: each frame remembers the length of its value's path,
 * and a selected child appends `['name']` or `[index]` to it.
 */
#include "doc.h"
#include "iregexp.h"

#include <stdint.h>
#include <string.h>

/* Hard ceiling on the nesting of a query (parentheses, filters, function
 * calls inside one another), whatever max_depth says: compiling and
 * evaluating recurse once per level, a few hundred bytes of C stack each.
 * Real queries nest a handful of levels. */
#define QUERY_NEST_MAX 512
/* RFC 9535 2.1: indexes and slice bounds are I-JSON integers, |i| <= 2^53-1. */
#define QUERY_INT_MAX INT64_C(9007199254740991)
/* Arena chunks: the first is small (most queries are a few segments), later
 * ones double up to this size; bigger requests get a chunk of their own. */
#define ARENA_FIRST 512
#define ARENA_MAX 65536

/* ------------------------------------------------------------------ */
/* The compiled tree                                                  */
/* ------------------------------------------------------------------ */

typedef struct qexpr qexpr;

typedef enum sel_kind {
    SEL_NAME,  /* 'name' / "name" / .name */
    SEL_INDEX, /* 3, -1 */
    SEL_SLICE, /* start:end:step */
    SEL_WILD,  /* * */
    SEL_FILTER /* ?expr */
} sel_kind;

typedef struct qsel {
    sel_kind kind;       /* which fields below are meaningful */
    struct qsel *next;   /* next selector of the same segment */
    const char *name;    /* NAME: decoded member name (arena) */
    size_t nlen;         /* NAME: its length */
    int64_t start;       /* INDEX: the index; SLICE: start (when has_start) */
    int64_t end;         /* SLICE: end (when has_end) */
    int64_t step;        /* SLICE: step (1 when absent) */
    int has_start;       /* SLICE: start given */
    int has_end;         /* SLICE: end given */
    const qexpr *filter; /* FILTER: the logical expression */
} qsel;

typedef struct qseg {
    struct qseg *next; /* next segment */
    int desc;          /* 1: descendant segment (..) */
    qsel *sels;        /* its selectors, in order (at least one) */
} qseg;

/* A query: the main one, or one inside a filter. */
typedef struct qquery {
    int relative; /* 1: starts at the current node @, 0: at the root $ */
    int singular; /* 1: child segments of one name / index selector only */
    qseg *segs;   /* segments; NULL: the start node itself */
} qquery;

/* Types of RFC 9535 2.4.1. */
enum { T_VALUE, T_LOGICAL, T_NODES };

typedef enum ex_kind {
    EX_OR,      /* any of the operands (kids list) */
    EX_AND,     /* all of the operands (kids list) */
    EX_NOT,     /* the negation of kids */
    EX_CMP,     /* kids op kids->next */
    EX_EXISTS,  /* query's nodelist is not empty */
    EX_LITERAL, /* lit */
    EX_QUERY,   /* a query as a value (singular) or as a nodelist (function argument) */
    EX_FUNC     /* fn applied to kids (arguments in order) */
} ex_kind;

enum { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE };
enum { FN_LENGTH, FN_COUNT, FN_MATCH, FN_SEARCH, FN_VALUE, FN_COUNT_ };

/* RFC 9535 2.4: the function extensions and their declared types. */
static const struct fn_def {
    char name[8]; /* as written in a query */
    int result;   /* T_* of the result */
    int nargs;    /* parameters */
    int args[2];  /* T_* of each parameter */
} fn_defs[FN_COUNT_] = {
    [FN_LENGTH] = {"length", T_VALUE, 1, {T_VALUE, 0}},
    [FN_COUNT] = {"count", T_VALUE, 1, {T_NODES, 0}},
    [FN_MATCH] = {"match", T_LOGICAL, 2, {T_VALUE, T_VALUE}},
    [FN_SEARCH] = {"search", T_LOGICAL, 2, {T_VALUE, T_VALUE}},
    [FN_VALUE] = {"value", T_VALUE, 1, {T_NODES, 0}},
};

struct qexpr {
    ex_kind kind;        /* which fields below are meaningful */
    qexpr *next;         /* next operand / argument of the parent */
    qexpr *kids;         /* OR / AND / NOT / CMP operands, FUNC arguments */
    int op;              /* CMP: CMP_* */
    int fn;              /* FUNC: FN_* */
    doc_view lit;        /* LITERAL: its value (a string points into the arena) */
    const qquery *query; /* EXISTS / QUERY */
    doc_iregexp *re;     /* FUNC match / search with a literal pattern: its program,
                            NULL when the pattern is not an I-Regexp */
    int re_static;       /* 1: the pattern was a literal, `re` is its compiled form */
    qexpr *re_next;      /* next expression owning a program (for freeing) */
};

/* An arena chunk. */
typedef struct chunk {
    struct chunk *next; /* older chunk */
    size_t used;        /* bytes handed out */
    size_t cap;         /* bytes in data */
    uint64_t data[];    /* the bytes, 8-aligned */
} chunk;

struct doc_query {
    qquery main;    /* the query */
    chunk *arena;   /* everything the tree points to, newest chunk first */
    qexpr *regexes; /* expressions whose `re` must be freed */
};

/* ------------------------------------------------------------------ */
/* Arena                                                              */
/* ------------------------------------------------------------------ */

/* n bytes, 8-aligned, zeroed; NULL when memory runs out. */
static void *arena_alloc(doc_query *q, size_t n) {
    chunk *c = q->arena;
    size_t cap;
    void *p;

    if (n > SIZE_MAX - 7) return NULL;
    n = (n + 7) & ~(size_t)7;
    if (!c || c->cap - c->used < n) {
        cap = c ? (c->cap * 2 > ARENA_MAX ? ARENA_MAX : c->cap * 2) : ARENA_FIRST;
        if (cap < n) cap = n;
        if (cap > SIZE_MAX - sizeof(chunk)) return NULL;
        c = doc_malloc(sizeof(chunk) + cap);
        if (!c) return NULL;
        c->cap = cap;
        c->used = 0;
        /* A chunk of its own for a big request keeps the current chunk current. */
        if (q->arena && cap == n && q->arena->cap - q->arena->used > 64) {
            c->next = q->arena->next;
            q->arena->next = c;
        } else {
            c->next = q->arena;
            q->arena = c;
        }
    }
    p = (char *)c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

void doc_query_free(doc_query *q) {
    chunk *c, *next;
    qexpr *e;

    if (!q) return;
    for (e = q->regexes; e; e = e->re_next) doc_iregexp_free(e->re);
    for (c = q->arena; c; c = next) {
        next = c->next;
        doc_free(c);
    }
    doc_free(q);
}

/* ------------------------------------------------------------------ */
/* Parser                                                             */
/* ------------------------------------------------------------------ */

typedef struct parser {
    const char *s;      /* the query text (valid UTF-8) */
    size_t len;         /* its length in bytes */
    size_t pos;         /* byte offset of the next unread byte */
    unsigned depth;     /* nesting levels open */
    unsigned max_depth; /* more is TOODEEP */
    doc_query *q;       /* owner of the arena */
    doc_buf scratch;    /* decoding space for string literals */
    doc_error *err;     /* where the first failure goes */
    doc_status st;      /* the first failure; DOC_OK while none */
} parser;

/* Length of the well-formed UTF-8 sequence at p (n >= 1 bytes), or 0. */
static size_t utf8_len(const unsigned char *p, size_t n) {
    uint32_t cp;
    return doc_utf8_decode(p, n, &cp);
}

/* BADPATH at byte offset `at`, reported in characters. Returns NULL so that
 * parse functions can `return fail(...)`. */
static void *fail(parser *p, size_t at, const char *msg) {
    size_t i, n = 0;

    if (p->st) return NULL;
    for (i = 0; i < at && i < p->len; i++)
        if (((unsigned char)p->s[i] & 0xC0) != 0x80) n++;
    p->st = doc_error_at(p->err, DOC_BADPATH, n, "%s", msg);
    return NULL;
}

static void *fail_nomem(parser *p) {
    if (!p->st) p->st = doc_error_set(p->err, DOC_NOMEM, "out of memory compiling a query");
    return NULL;
}

static void *alloc(parser *p, size_t n) {
    void *m = arena_alloc(p->q, n);

    return m ? m : fail_nomem(p);
}

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int is_lower(char c) { return c >= 'a' && c <= 'z'; }

/* RFC 9535 name-first: ALPHA / "_" / any non-ASCII (the text is UTF-8). */
static int is_name_first(char c) {
    return is_lower(c) || (c >= 'A' && c <= 'Z') || c == '_' || (unsigned char)c >= 0x80;
}

static char peek(const parser *p) { return p->pos < p->len ? p->s[p->pos] : '\0'; }

static char peek_at(const parser *p, size_t k) { return p->len - p->pos > k ? p->s[p->pos + k] : '\0'; }

static int at_end(const parser *p) { return p->pos >= p->len; }

static void skip_s(parser *p) {
    while (p->pos < p->len && is_blank(p->s[p->pos])) p->pos++;
}

/* The first byte after any blank space at p->pos, without moving. */
static char peek_past_blanks(const parser *p) {
    size_t i = p->pos;

    while (i < p->len && is_blank(p->s[i])) i++;
    return i < p->len ? p->s[i] : '\0';
}

/* Opens one nesting level; 0 when that is one too many. */
static int nest_enter(parser *p) {
    if (p->depth >= p->max_depth) {
        if (!p->st)
            p->st = doc_error_set(p->err, DOC_TOODEEP, "query nests deeper than %u levels", p->max_depth);
        return 0;
    }
    p->depth++;
    return 1;
}

/* put() for the string literal decoder: into the parser's scratch. */
static void put_piece(void *ctx, const char *bytes, size_t n) { doc_buf_append(ctx, bytes, n); }

/* A string literal at p->pos (on its quote), decoded into the arena. */
static const char *parse_string(parser *p, size_t *out_len) {
    size_t at;
    const char *msg;
    char *copy;

    p->scratch.len = 0;
    if (doc_string_literal_decode(p->s, p->len, &p->pos, put_piece, &p->scratch, &at, &msg))
        return fail(p, at, msg);
    if (p->scratch.oom) return fail_nomem(p);
    copy = alloc(p, p->scratch.len + 1);
    if (!copy) return NULL;
    if (p->scratch.len) memcpy(copy, p->scratch.data, p->scratch.len);
    *out_len = p->scratch.len;
    return copy;
}

/* An RFC 9535 int at p->pos: "0" / ["-"] DIGIT1 *DIGIT, |v| <= 2^53-1. */
static int parse_int(parser *p, int64_t *out) {
    size_t start = p->pos;
    int neg = 0;
    int64_t v = 0, d;

    if (peek(p) == '-') {
        neg = 1;
        p->pos++;
    }
    if (!is_digit(peek(p))) {
        fail(p, p->pos, "expected a digit");
        return -1;
    }
    if (peek(p) == '0' && (neg || is_digit(peek_at(p, 1)))) {
        fail(p, start, "an integer cannot be -0 or have leading zeros");
        return -1;
    }
    while (is_digit(peek(p))) {
        d = peek(p) - '0';
        if (v > (QUERY_INT_MAX - d) / 10) {
            fail(p, start, "integer out of range");
            return -1;
        }
        v = v * 10 + d;
        p->pos++;
    }
    *out = neg ? -v : v;
    return 0;
}

static qquery *parse_query(parser *p);
static qexpr *parse_or(parser *p, qexpr *first);
static qexpr *parse_primary(parser *p);

/* A member-name-shorthand at p->pos (on its first byte), copied into the arena. */
static const char *parse_shorthand(parser *p, size_t *out_len) {
    size_t start = p->pos, n;
    char *copy;

    while (!at_end(p) && (is_name_first(peek(p)) || is_digit(peek(p)))) p->pos++;
    n = p->pos - start;
    copy = alloc(p, n + 1);
    if (!copy) return NULL;
    memcpy(copy, p->s + start, n);
    *out_len = n;
    return copy;
}

/* One selector inside brackets. */
static qsel *parse_selector(parser *p) {
    qsel *sel = alloc(p, sizeof *sel);
    char c = peek(p);

    if (!sel) return NULL;
    if (c == '\'' || c == '"') {
        sel->kind = SEL_NAME;
        sel->name = parse_string(p, &sel->nlen);
        return sel->name ? sel : NULL;
    }
    if (c == '*') {
        p->pos++;
        sel->kind = SEL_WILD;
        return sel;
    }
    if (c == '?') {
        p->pos++;
        skip_s(p);
        sel->kind = SEL_FILTER;
        sel->filter = parse_or(p, NULL);
        return sel->filter ? sel : NULL;
    }
    if (c != '-' && c != ':' && !is_digit(c)) return fail(p, p->pos, "expected a selector");
    if (c != ':') {
        if (parse_int(p, &sel->start) < 0) return NULL;
        sel->has_start = 1;
        {
            size_t save = p->pos;

            skip_s(p);
            if (peek(p) != ':') {
                p->pos = save;
                sel->kind = SEL_INDEX;
                return sel;
            }
        }
    }
    /* A slice: [start S] ":" S [end S] [":" [S step]] */
    sel->kind = SEL_SLICE;
    sel->step = 1;
    p->pos++;
    skip_s(p);
    if (peek(p) == '-' || is_digit(peek(p))) {
        if (parse_int(p, &sel->end) < 0) return NULL;
        sel->has_end = 1;
        skip_s(p);
    }
    if (peek(p) == ':') {
        p->pos++;
        skip_s(p);
        if (peek(p) == '-' || is_digit(peek(p))) {
            if (parse_int(p, &sel->step) < 0) return NULL;
        }
    }
    return sel;
}

/* A bracketed selection at p->pos (on the '['). */
static qsel *parse_bracket(parser *p) {
    qsel *first = NULL, **tail = &first, *sel;

    p->pos++;
    for (;;) {
        skip_s(p);
        sel = parse_selector(p);
        if (!sel) return NULL;
        *tail = sel;
        tail = &sel->next;
        skip_s(p);
        if (peek(p) == ']') {
            p->pos++;
            return first;
        }
        if (peek(p) != ',') return fail(p, p->pos, "expected ',' or ']'");
        p->pos++;
    }
}

/* One segment at p->pos (on its '.' or '['). */
static qseg *parse_segment(parser *p) {
    qseg *seg = alloc(p, sizeof *seg);
    qsel *sel;

    if (!seg) return NULL;
    if (peek(p) == '[') {
        seg->sels = parse_bracket(p);
        return seg->sels ? seg : NULL;
    }
    p->pos++; /* '.' */
    if (peek(p) == '.') {
        p->pos++;
        seg->desc = 1;
        if (peek(p) == '[') {
            seg->sels = parse_bracket(p);
            return seg->sels ? seg : NULL;
        }
    }
    sel = alloc(p, sizeof *sel);
    if (!sel) return NULL;
    if (peek(p) == '*') {
        p->pos++;
        sel->kind = SEL_WILD;
    } else if (!at_end(p) && is_name_first(peek(p))) {
        sel->kind = SEL_NAME;
        sel->name = parse_shorthand(p, &sel->nlen);
        if (!sel->name) return NULL;
    } else {
        return fail(p, p->pos,
                    seg->desc ? "expected a member name, '*' or '[' after '..'"
                              : "expected a member name or '*' after '.'");
    }
    seg->sels = sel;
    return seg;
}

/* A query at p->pos (on its '$' or '@'): the identifier, then *(S segment). */
static qquery *parse_query(parser *p) {
    qquery *q = alloc(p, sizeof *q);
    qseg **tail, *seg;
    size_t save;

    if (!q) return NULL;
    q->relative = peek(p) == '@';
    q->singular = 1;
    p->pos++;
    tail = &q->segs;
    for (;;) {
        save = p->pos;
        skip_s(p);
        if (peek(p) != '.' && peek(p) != '[') {
            p->pos = save; /* blank space belongs to what follows the query */
            return q;
        }
        seg = parse_segment(p);
        if (!seg) return NULL;
        if (seg->desc || seg->sels->next || (seg->sels->kind != SEL_NAME && seg->sels->kind != SEL_INDEX))
            q->singular = 0;
        *tail = seg;
        tail = &seg->next;
    }
}

/* ------------------------------------------------------------------ */
/* Filter expressions                                                 */
/* ------------------------------------------------------------------ */

static qexpr *new_expr(parser *p, ex_kind kind) {
    qexpr *e = alloc(p, sizeof *e);

    if (e) e->kind = kind;
    return e;
}

/* The declared type of an expression (RFC 9535 2.4.1). */
static int expr_type(const qexpr *e) {
    switch (e->kind) {
    case EX_LITERAL: return T_VALUE;
    case EX_QUERY: return T_NODES;
    case EX_FUNC: return fn_defs[e->fn].result;
    default: return T_LOGICAL;
    }
}

/* Whether e may be passed for a parameter of type `want` (RFC 9535 2.4.3);
 * a query given for a LogicalType parameter becomes an existence test. */
static int arg_fits(qexpr *e, int want) {
    int t = expr_type(e);

    switch (want) {
    case T_VALUE:
        return e->kind == EX_LITERAL || (e->kind == EX_QUERY && e->query->singular) ||
               (e->kind == EX_FUNC && t == T_VALUE);
    case T_LOGICAL:
        if (e->kind == EX_QUERY) e->kind = EX_EXISTS;
        return e->kind != EX_LITERAL && (e->kind != EX_FUNC || t != T_VALUE);
    default: return t == T_NODES;
    }
}

/* e in a comparison: a literal, a singular query or a ValueType function. */
static qexpr *as_comparable(parser *p, qexpr *e, size_t at) {
    if (e->kind == EX_QUERY && !e->query->singular)
        return fail(p, at, "only a singular query can be compared");
    if (e->kind == EX_FUNC && fn_defs[e->fn].result != T_VALUE)
        return fail(p, at, "the result of this function cannot be compared");
    return e;
}

/* e used as a test: a query (existence) or a Logical/Nodes function. */
static qexpr *as_test(parser *p, qexpr *e, size_t at) {
    if (e->kind == EX_QUERY) {
        e->kind = EX_EXISTS;
        return e;
    }
    if (e->kind == EX_LITERAL) return fail(p, at, "a literal is not a test (compare it)");
    if (e->kind == EX_FUNC && fn_defs[e->fn].result == T_VALUE)
        return fail(p, at, "the result of this function must be compared");
    return e;
}

/* A number literal at p->pos: (int / "-0") [frac] [exp], the JSON syntax. */
static qexpr *parse_number(parser *p) {
    size_t start = p->pos;
    qexpr *e;
    int is_int;

    if (peek(p) == '-') p->pos++;
    if (!is_digit(peek(p))) return fail(p, p->pos, "expected a digit");
    if (peek(p) == '0' && is_digit(peek_at(p, 1)))
        return fail(p, start, "a number cannot have leading zeros");
    while (is_digit(peek(p))) p->pos++;
    if (peek(p) == '.') {
        p->pos++;
        if (!is_digit(peek(p))) return fail(p, p->pos, "expected a digit after '.'");
        while (is_digit(peek(p))) p->pos++;
    }
    if (peek(p) == 'e' || peek(p) == 'E') {
        p->pos++;
        if (peek(p) == '+' || peek(p) == '-') p->pos++;
        if (!is_digit(peek(p))) return fail(p, p->pos, "expected a digit in the exponent");
        while (is_digit(peek(p))) p->pos++;
    }
    e = new_expr(p, EX_LITERAL);
    if (!e) return NULL;
    if (doc_number_parse(p->s + start, p->pos - start, &is_int, &e->lit.i, &e->lit.d))
        return fail(p, start, "number out of range");
    e->lit.type = is_int ? DOC_INT : DOC_DOUBLE;
    return e;
}

/* A function call at p->pos (on the '(' after its name name[0..n)). */
static qexpr *parse_function(parser *p, const char *name, size_t n, size_t at) {
    qexpr *e, *arg, **tail;
    const struct fn_def *def;
    int fn, nargs = 0;
    size_t arg_at[3];

    for (fn = 0; fn < FN_COUNT_; fn++)
        if (strlen(fn_defs[fn].name) == n && memcmp(fn_defs[fn].name, name, n) == 0) break;
    if (fn == FN_COUNT_) return fail(p, at, "unknown function");
    def = &fn_defs[fn];
    if (!nest_enter(p)) return NULL;
    e = new_expr(p, EX_FUNC);
    if (!e) return NULL;
    e->fn = fn;
    tail = &e->kids;
    p->pos++; /* '(' */
    skip_s(p);
    if (peek(p) != ')') {
        for (;;) {
            /* function-argument = literal / filter-query / logical-expr /
             * function-expr: a primary stands alone when ',' or ')' follows,
             * else it starts a logical expression. */
            if (nargs < 3) arg_at[nargs] = p->pos;
            if (peek(p) == '!' || peek(p) == '(') {
                arg = parse_or(p, NULL);
            } else {
                arg = parse_primary(p);
                if (arg && peek_past_blanks(p) != ',' && peek_past_blanks(p) != ')') arg = parse_or(p, arg);
            }
            if (!arg) return NULL;
            *tail = arg;
            tail = &arg->next;
            nargs++;
            skip_s(p);
            if (peek(p) != ',') break;
            p->pos++;
            skip_s(p);
        }
    }
    if (peek(p) != ')') return fail(p, p->pos, "expected ',' or ')'");
    p->pos++;
    if (nargs != def->nargs)
        return fail(p, at,
                    def->nargs == 1 ? "this function takes 1 argument" : "this function takes 2 arguments");
    nargs = 0;
    for (arg = e->kids; arg; arg = arg->next, nargs++)
        if (!arg_fits(arg, def->args[nargs]))
            return fail(p, arg_at[nargs], "argument of the wrong type for this function");
    /* A literal pattern compiles once, here; one that is not an I-Regexp
     * makes the call false (RFC 9535 2.4.6), not the query invalid. */
    arg = e->kids ? e->kids->next : NULL;
    if ((fn == FN_MATCH || fn == FN_SEARCH) && arg->kind == EX_LITERAL && arg->lit.type == DOC_STRING) {
        if (doc_iregexp_compile(arg->lit.s, arg->lit.slen, &e->re) == DOC_IREGEXP_NOMEM) return fail_nomem(p);
        e->re_static = 1;
        if (e->re) {
            e->re_next = p->q->regexes;
            p->q->regexes = e;
        }
    }
    p->depth--;
    return e;
}

/* A literal, a query or a function call, at p->pos. */
static qexpr *parse_primary(parser *p) {
    size_t at = p->pos, n;
    char c = peek(p);
    qexpr *e;

    if (c == '@' || c == '$') {
        e = new_expr(p, EX_QUERY);
        if (!e || !(e->query = parse_query(p))) return NULL;
        return e;
    }
    if (c == '\'' || c == '"') {
        e = new_expr(p, EX_LITERAL);
        if (!e || !(e->lit.s = parse_string(p, &e->lit.slen))) return NULL;
        e->lit.type = DOC_STRING;
        return e;
    }
    if (c == '-' || is_digit(c)) return parse_number(p);
    if (!is_lower(c)) return fail(p, at, "expected a query, a literal or a function");
    /* function-name = LCALPHA *(LCALPHA / "_" / DIGIT) */
    while (is_lower(peek(p)) || is_digit(peek(p)) || peek(p) == '_') p->pos++;
    n = p->pos - at;
    if (peek(p) == '(') return parse_function(p, p->s + at, n, at);
    e = new_expr(p, EX_LITERAL);
    if (!e) return NULL;
    if (n == 4 && memcmp(p->s + at, "true", 4) == 0) {
        e->lit.type = DOC_BOOL;
        e->lit.b = 1;
    } else if (n == 5 && memcmp(p->s + at, "false", 5) == 0) {
        e->lit.type = DOC_BOOL;
    } else if (n == 4 && memcmp(p->s + at, "null", 4) == 0) {
        e->lit.type = DOC_NULL;
    } else {
        return fail(p, at, "expected a query, a literal or a function");
    }
    return e;
}

/* A comparison operator at p->pos: its CMP_* and length, or -1. */
static int cmp_op(const parser *p, size_t *n) {
    char c = peek(p), d = peek_at(p, 1);

    *n = 2;
    if (c == '=' && d == '=') return CMP_EQ;
    if (c == '!' && d == '=') return CMP_NE;
    if (c == '<' && d == '=') return CMP_LE;
    if (c == '>' && d == '=') return CMP_GE;
    *n = 1;
    if (c == '<') return CMP_LT;
    if (c == '>') return CMP_GT;
    return -1;
}

/* "(" S logical-expr S ")" at p->pos. */
static qexpr *parse_paren(parser *p) {
    qexpr *e;

    p->pos++;
    skip_s(p);
    e = parse_or(p, NULL);
    if (!e) return NULL;
    skip_s(p);
    if (peek(p) != ')') return fail(p, p->pos, "expected ')'");
    p->pos++;
    return e;
}

/* basic-expr: paren-expr / comparison-expr / test-expr. `first`, when not
 * NULL, is a primary the caller already parsed at `at`. */
static qexpr *parse_basic(parser *p, qexpr *first) {
    size_t at = p->pos, save, n;
    qexpr *e, *rhs;
    int op;

    if (!first) {
        if (peek(p) == '!') {
            p->pos++;
            skip_s(p);
            at = p->pos;
            if (peek(p) == '(') {
                rhs = parse_paren(p);
            } else {
                rhs = parse_primary(p);
                if (rhs) rhs = as_test(p, rhs, at);
                save = p->pos;
                skip_s(p);
                if (rhs && cmp_op(p, &n) >= 0)
                    return fail(p, p->pos, "'!' cannot apply to a comparison (use parentheses)");
                p->pos = save;
            }
            if (!rhs || !(e = new_expr(p, EX_NOT))) return NULL;
            e->kids = rhs;
            return e;
        }
        if (peek(p) == '(') return parse_paren(p);
        first = parse_primary(p);
        if (!first) return NULL;
    }
    save = p->pos;
    skip_s(p);
    op = cmp_op(p, &n);
    if (op < 0) {
        p->pos = save;
        return as_test(p, first, at);
    }
    if (!as_comparable(p, first, at)) return NULL;
    p->pos += n;
    skip_s(p);
    at = p->pos;
    rhs = parse_primary(p);
    if (!rhs || !as_comparable(p, rhs, at) || !(e = new_expr(p, EX_CMP))) return NULL;
    e->op = op;
    e->kids = first;
    first->next = rhs;
    return e;
}

/* A list of operands joined by a two-character operator ("&&" or "||"):
 * one n-ary node, or the operand itself when it stands alone. */
static qexpr *parse_list(parser *p, qexpr *first, ex_kind kind) {
    const char *tok = kind == EX_OR ? "||" : "&&";
    qexpr *e, *list = NULL, **tail = &list, *x;
    size_t save, count = 0;

    for (;;) {
        x = kind == EX_OR ? parse_list(p, first, EX_AND) : parse_basic(p, first);
        first = NULL;
        if (!x) return NULL;
        *tail = x;
        tail = &x->next;
        count++;
        save = p->pos;
        skip_s(p);
        if (peek(p) != tok[0] || peek_at(p, 1) != tok[1]) {
            p->pos = save;
            break;
        }
        p->pos += 2;
        skip_s(p);
    }
    if (count == 1) return list;
    e = new_expr(p, kind);
    if (e) e->kids = list;
    return e;
}

/* logical-expr: one nesting level. */
static qexpr *parse_or(parser *p, qexpr *first) {
    qexpr *e;

    if (!nest_enter(p)) return NULL;
    e = parse_list(p, first, EX_OR);
    p->depth--;
    return e;
}

/* ------------------------------------------------------------------ */
/* Evaluation                                                         */
/* ------------------------------------------------------------------ */

/* Receives each node a run selects; non-zero stops the run. norm is the
 * node's normalized path in the top-level run, NULL in nested ones. */
typedef int (*emit_fn)(void *ctx, const uint8_t *value, const char *norm);

/* Where a frame is in its current selector. */
typedef enum sel_state {
    SEL_NOT_BEGUN = 0, /* nothing selected yet (a fresh frame is zeroed) */
    SEL_GOING,         /* a slice or a child walk is under way */
    SEL_EXHAUSTED      /* the selector has nothing more to give */
} sel_state;

/* One value whose segment's selectors are being applied. */
typedef struct frame {
    const uint8_t *val; /* the value the selectors apply to */
    const qseg *seg;    /* the segment being applied */
    const qsel *sel;    /* the current selector; NULL once all are done */
    sel_state state;    /* how far the current selector got */
    int walking;        /* descendant segment: 1 once its children are being walked */
    doc_iter it;        /* wildcard / filter / descendant walk over val's children */
    int64_t pos;        /* slice: next index */
    int64_t stop;       /* slice: first index not to take (in the step's direction) */
    int64_t step;       /* slice: the step; 0 when nothing is left */
    size_t norm_len;    /* top-level run: length of val's normalized path */
} frame;

/* State of one doc_query_eval. */
typedef struct ev {
    const uint8_t *root; /* the document's root value, for $ */
    doc_buf stack;       /* frames of every run in progress, innermost run on top */
    size_t nframes;      /* frames in use */
    doc_buf norm;        /* top-level run: normalized path of the current value */
    doc_status st;       /* DOC_NOMEM once memory ran out, DOC_TOOBIG once the
                            steps ran out; everything then winds down */
    uint64_t steps;      /* children picked or looked at so far */
    uint64_t budget;     /* steps allowed (see step) */
    int sized;           /* 1 once budget was set from the document's size */
} ev;

/* A query may take QUERY_STEPS_PER_VALUE steps per value of the document,
 * and QUERY_STEPS_MIN whatever its size: a query's nodelist keeps
 * duplicates (RFC 9535), so each '..' after a '..' revisits the values
 * below every node the first one reached: `$..*..*..*..*..*` on a 200-byte
 * document of 100 nested arrays is 2.5 GB of reply. */
#define QUERY_STEPS_MIN 100000
#define QUERY_STEPS_PER_VALUE 16

/* The step budget is spent: the first time, it becomes the document's
 * (counting its values costs about what the steps so far did); 1 when
 * that is spent too (e->st then DOC_TOOBIG). */
static int steps_spent(ev *e) {
    if (!e->sized) {
        e->sized = 1;
        doc_view v;
        doc_value_decode(e->root, &v);
        uint64_t values = v.type == DOC_OBJECT || v.type == DOC_ARRAY ? doc_node_values(v.node) : 1;
        uint64_t b =
            values > UINT64_MAX / QUERY_STEPS_PER_VALUE ? UINT64_MAX : values * QUERY_STEPS_PER_VALUE;
        if (b > e->budget) e->budget = b;
        if (e->steps <= e->budget) return 0;
    }
    e->st = DOC_TOOBIG;
    return 1;
}

/* One more step: 1 when the budget is spent. */
#define STEP(e) (++(e)->steps > (e)->budget && steps_spent(e))

/* A value in a filter expression: a node's value, a literal, a computed
 * number, or Nothing (RFC 9535 2.4.1). */
typedef struct qval {
    int has;            /* 0: Nothing */
    doc_view v;         /* the value */
    const uint8_t *enc; /* its encoding when it is a node's (containers always are) */
} qval;

/* A child a frame selected. */
typedef struct pick {
    const uint8_t *val; /* its value */
    int member;         /* 1: an object member (key, klen); 0: an array element (index) */
    const char *key;    /* member name */
    size_t klen;        /* its length */
    int64_t index;      /* element index */
    int desc;           /* 1: a descendant-walk step (the same segment goes on) */
} pick;

static int eval_logical(ev *e, const qexpr *x, const uint8_t *cur);
static void eval_value(ev *e, const qexpr *x, const uint8_t *cur, qval *out);

static frame *frame_at(ev *e, size_t i) { return (frame *)(void *)e->stack.data + i; }

static int push_frame(ev *e, const uint8_t *val, const qseg *seg, size_t norm_len) {
    frame *f;

    if (e->nframes > SIZE_MAX / sizeof(frame) - 1 || doc_buf_reserve(&e->stack, sizeof(frame)) < 0) {
        e->st = DOC_NOMEM;
        return -1;
    }
    f = frame_at(e, e->nframes++);
    e->stack.len += sizeof(frame);
    memset(f, 0, sizeof *f);
    f->val = val;
    f->seg = seg;
    f->sel = seg->sels;
    f->norm_len = norm_len;
    return 0;
}

static void pop_to(ev *e, size_t n) {
    e->nframes = n;
    e->stack.len = n * sizeof(frame);
}

static int is_container(const uint8_t *v) { return *v == DOC_TAG_OBJECT || *v == DOC_TAG_ARRAY; }

/* Fills the slice iteration of f over an array of n elements (RFC 9535
 * 2.3.4.2.2); a step of 0 selects nothing. */
static void slice_bounds(frame *f, const qsel *sel, int64_t n) {
    int64_t start, end, lo, hi;

    f->step = sel->step;
    if (sel->step > 0) {
        start = sel->has_start ? sel->start : 0;
        end = sel->has_end ? sel->end : n;
    } else {
        start = sel->has_start ? sel->start : n - 1;
        end = sel->has_end ? sel->end : -n - 1;
    }
    if (start < 0) start += n;
    if (end < 0) end += n;
    if (sel->step > 0) {
        lo = start < 0 ? 0 : start > n ? n : start;
        hi = end < 0 ? 0 : end > n ? n : end;
        f->pos = lo;
        f->stop = hi;
    } else {
        hi = start < -1 ? -1 : start > n - 1 ? n - 1 : start;
        lo = end < -1 ? -1 : end > n - 1 ? n - 1 : end;
        f->pos = hi;
        f->stop = lo;
    }
}

/* Name and index selectors give at most one node. */
static int sel_next_name(frame *f, const doc_view *v, pick *out) {
    const qsel *sel = f->sel;
    const uint8_t *c;

    if (f->state != SEL_NOT_BEGUN) return 0;
    f->state = SEL_EXHAUSTED;
    if (v->type != DOC_OBJECT) return 0;
    c = doc_object_get(v->node, sel->name, sel->nlen, NULL, NULL);
    if (!c) return 0;
    out->val = c;
    out->member = 1;
    out->key = sel->name;
    out->klen = sel->nlen;
    return 1;
}

static int sel_next_index(frame *f, const doc_view *v, pick *out) {
    const qsel *sel = f->sel;
    int64_t n, i;

    if (f->state != SEL_NOT_BEGUN) return 0;
    f->state = SEL_EXHAUSTED;
    if (v->type != DOC_ARRAY) return 0;
    n = doc_node_count(v->node);
    i = sel->start < 0 ? sel->start + n : sel->start;
    if (i < 0 || i >= n) return 0;
    out->val = doc_array_get(v->node, (uint32_t)i, NULL);
    out->index = i;
    return 1;
}

static int sel_next_slice(frame *f, const doc_view *v, pick *out) {
    int64_t i;

    if (f->state == SEL_NOT_BEGUN) {
        f->state = SEL_GOING;
        if (v->type == DOC_ARRAY) slice_bounds(f, f->sel, doc_node_count(v->node));
    }
    if (f->step > 0 ? f->pos >= f->stop : f->step < 0 ? f->pos <= f->stop : 1) return 0;
    i = f->pos;
    f->pos += f->step;
    out->val = doc_array_get(v->node, (uint32_t)i, NULL);
    out->index = i;
    return 1;
}

/* Wildcard and filter selectors walk the children; a filter evaluates its
 * expression on each (which may run nested queries: -1 when that failed). */
static int sel_next_child(ev *e, size_t fi, const doc_view *v, pick *out) {
    frame *f = frame_at(e, fi);
    const qsel *sel = f->sel;
    const uint8_t *c;
    int r;

    if (f->state == SEL_NOT_BEGUN) {
        f->state = SEL_GOING;
        if (v->type != DOC_OBJECT && v->type != DOC_ARRAY)
            f->state = SEL_EXHAUSTED;
        else
            doc_iter_init(&f->it, v->node);
    }
    if (f->state == SEL_EXHAUSTED) return 0;
    while (doc_iter_next(&f->it, &out->key, &out->klen, &c, NULL)) {
        if (STEP(e)) return -1;
        out->val = c;
        out->member = v->type == DOC_OBJECT;
        out->index = (int64_t)f->it.index - 1;
        if (sel->kind == SEL_WILD) return 1;
        r = eval_logical(e, sel->filter, c);
        if (e->st) return -1;
        f = frame_at(e, fi); /* nested runs may have moved the stack */
        if (r) return 1;
    }
    f->state = SEL_EXHAUSTED;
    return 0;
}

/* The next child the current selector of frame fi picks: 1 and *out, 0
 * when the selector has nothing more, -1 on memory failure. */
static int sel_next(ev *e, size_t fi, pick *out) {
    frame *f = frame_at(e, fi);
    doc_view v;

    doc_value_decode(f->val, &v);
    memset(out, 0, sizeof *out);
    switch (f->sel->kind) {
    case SEL_NAME: return sel_next_name(f, &v, out);
    case SEL_INDEX: return sel_next_index(f, &v, out);
    case SEL_SLICE: return sel_next_slice(f, &v, out);
    default: /* SEL_WILD, SEL_FILTER */ return sel_next_child(e, fi, &v, out);
    }
}

/* The next child frame fi yields: from its selectors in order, then (for a
 * descendant segment) its child containers. 1, 0 when done, -1 on error. */
static int next_child(ev *e, size_t fi, pick *out) {
    frame *f;
    const uint8_t *c;
    doc_view v;
    int r;

    for (;;) {
        f = frame_at(e, fi);
        if (!f->sel) break;
        r = sel_next(e, fi, out);
        if (r) return r;
        f = frame_at(e, fi);
        f->sel = f->sel->next;
        f->state = SEL_NOT_BEGUN;
    }
    if (!f->seg->desc) return 0;
    if (!f->walking) {
        f->walking = 1;
        if (!is_container(f->val)) return 0;
        doc_value_decode(f->val, &v);
        doc_iter_init(&f->it, v.node);
    }
    memset(out, 0, sizeof *out);
    while (doc_iter_next(&f->it, &out->key, &out->klen, &c, NULL)) {
        if (STEP(e)) return -1;
        if (!is_container(c)) continue; /* selectors pick nothing from a scalar */
        out->val = c;
        out->member = doc_node_kind(f->it.node) == DOC_KIND_OBJECT;
        out->index = (int64_t)f->it.index - 1;
        out->desc = 1;
        return 1;
    }
    return 0;
}

/* Appends the normalized path step of pk: ['name'] or [index]. */
static void norm_append(doc_buf *b, const pick *pk) {
    char num[24];

    if (!pk->member) {
        doc_buf_putc(b, '[');
        doc_buf_append(b, num, doc_format_int(pk->index, num));
        doc_buf_putc(b, ']');
        return;
    }
    doc_buf_append(b, "['", 2);
    doc_string_escape(pk->key, pk->klen, '\'', b);
    doc_buf_append(b, "']", 2);
}

/* Runs query q from `start`, calling emit for each node in order. Returns
 * 1 when emit stopped it, 0 when it ran out, -1 on memory failure. track:
 * keep normalized paths (the top-level run only). */
static int run(ev *e, const qquery *q, const uint8_t *start, emit_fn emit, void *ctx, int track) {
    size_t base = e->nframes, fi;
    const qseg *seg;
    const char *norm = NULL;
    pick pk;
    int r;

    if (!q->segs) {
        if (track) {
            norm = doc_buf_cstr(&e->norm);
            if (e->norm.oom) {
                e->st = DOC_NOMEM;
                return -1;
            }
        }
        return emit(ctx, start, norm) ? 1 : 0;
    }
    if (push_frame(e, start, q->segs, track ? e->norm.len : 0) < 0) return -1;
    while (e->nframes > base) {
        fi = e->nframes - 1;
        if (track) e->norm.len = frame_at(e, fi)->norm_len;
        r = next_child(e, fi, &pk);
        if (r < 0 || (r > 0 && STEP(e))) break;
        if (r == 0) {
            pop_to(e, fi);
            continue;
        }
        if (track) norm_append(&e->norm, &pk);
        seg = frame_at(e, fi)->seg;
        if (pk.desc || seg->next) {
            if (push_frame(e, pk.val, pk.desc ? seg : seg->next, e->norm.len) < 0) break;
            continue;
        }
        if (track) {
            norm = doc_buf_cstr(&e->norm);
            if (e->norm.oom) {
                e->st = DOC_NOMEM;
                break;
            }
        }
        if (emit(ctx, pk.val, norm)) {
            pop_to(e, base);
            return 1;
        }
    }
    pop_to(e, base);
    return e->st ? -1 : 0;
}

/* A singular query from v, walked directly: the node or NULL. */
static const uint8_t *walk(const qquery *q, const uint8_t *v) {
    const qseg *seg;
    const qsel *sel;
    doc_view dv;
    int64_t n, i;

    for (seg = q->segs; seg && v; seg = seg->next) {
        sel = seg->sels;
        doc_value_decode(v, &dv);
        if (sel->kind == SEL_NAME) {
            v = dv.type == DOC_OBJECT ? doc_object_get(dv.node, sel->name, sel->nlen, NULL, NULL) : NULL;
        } else if (dv.type == DOC_ARRAY) {
            n = doc_node_count(dv.node);
            i = sel->start < 0 ? sel->start + n : sel->start;
            v = i >= 0 && i < n ? doc_array_get(dv.node, (uint32_t)i, NULL) : NULL;
        } else {
            v = NULL;
        }
    }
    return v;
}

/* Sinks for nested runs. */
static int sink_stop(void *ctx, const uint8_t *v, const char *norm) {
    (void)ctx, (void)v, (void)norm;
    return 1;
}

static int sink_count(void *ctx, const uint8_t *v, const char *norm) {
    (void)v, (void)norm;
    ++*(int64_t *)ctx;
    return 0;
}

/* value(): keeps the first node, stops at the second (then: Nothing). */
typedef struct one_node {
    const uint8_t *val; /* the first node */
    int count;          /* nodes seen, up to 2 */
} one_node;

static int sink_one(void *ctx, const uint8_t *v, const char *norm) {
    one_node *o = ctx;

    (void)norm;
    if (o->count++ == 0) o->val = v;
    return o->count > 1;
}

static const uint8_t *query_start(const ev *e, const qquery *q, const uint8_t *cur) {
    return q->relative ? cur : e->root;
}

static void set_node(qval *out, const uint8_t *v) {
    out->has = v != NULL;
    if (v) {
        doc_value_decode(v, &out->v);
        out->enc = v;
    }
}

static int is_number(const qval *a) { return a->v.type == DOC_INT || a->v.type == DOC_DOUBLE; }

/* RFC 9535 2.3.5.2.2: ==. Nothing equals only Nothing. */
static int val_eq(const qval *a, const qval *b) {
    if (!a->has || !b->has) return a->has == b->has;
    if (is_number(a) && is_number(b)) return doc_number_cmp(&a->v, &b->v) == 0;
    if (a->v.type != b->v.type) return 0;
    switch (a->v.type) {
    case DOC_NULL: return 1;
    case DOC_BOOL: return a->v.b == b->v.b;
    case DOC_STRING:
        return a->v.slen == b->v.slen && (a->v.slen == 0 || memcmp(a->v.s, b->v.s, a->v.slen) == 0);
    default: /* containers come from the document only */ return doc_value_equal(a->enc, b->enc);
    }
}

/* <: numbers by value, strings by code points (UTF-8 byte order is code
 * point order); anything else is never less. */
static int val_lt(const qval *a, const qval *b) {
    size_t n;
    int c;

    if (!a->has || !b->has) return 0;
    if (is_number(a) && is_number(b)) return doc_number_cmp(&a->v, &b->v) < 0;
    if (a->v.type != DOC_STRING || b->v.type != DOC_STRING) return 0;
    n = a->v.slen < b->v.slen ? a->v.slen : b->v.slen;
    c = n ? memcmp(a->v.s, b->v.s, n) : 0;
    return c < 0 || (c == 0 && a->v.slen < b->v.slen);
}

static int compare(int op, const qval *a, const qval *b) {
    switch (op) {
    case CMP_EQ: return val_eq(a, b);
    case CMP_NE: return !val_eq(a, b);
    case CMP_LT: return val_lt(a, b);
    case CMP_LE: return val_lt(a, b) || val_eq(a, b);
    case CMP_GT: return val_lt(b, a);
    default: return val_lt(b, a) || val_eq(a, b);
    }
}

/* match() / search(). */
static int eval_regex(ev *e, const qexpr *x, const uint8_t *cur) {
    doc_iregexp *re = x->re;
    doc_iregexp_status rs;
    qval a, b;
    int r;

    eval_value(e, x->kids, cur, &a);
    if (!a.has || a.v.type != DOC_STRING) return 0;
    if (!x->re_static) {
        eval_value(e, x->kids->next, cur, &b);
        if (!b.has || b.v.type != DOC_STRING) return 0;
        rs = doc_iregexp_compile(b.v.s, b.v.slen, &re);
        if (rs == DOC_IREGEXP_NOMEM) e->st = DOC_NOMEM;
    }
    if (!re) return 0;
    r = doc_iregexp_exec(re, a.v.s, a.v.slen, x->fn == FN_MATCH);
    if (!x->re_static) doc_iregexp_free(re);
    if (r < 0) {
        e->st = DOC_NOMEM;
        return 0;
    }
    return r;
}

/* A ValueType expression's value. */
static void eval_value(ev *e, const qexpr *x, const uint8_t *cur, qval *out) {
    const qquery *q;
    const uint8_t *start;
    qval a;
    int64_t n = 0;
    one_node one = {NULL, 0};
    size_t i;

    memset(out, 0, sizeof *out);
    if (e->st) return;
    switch (x->kind) {
    case EX_LITERAL:
        out->has = 1;
        out->v = x->lit;
        return;
    case EX_QUERY: /* singular (checked when compiled) */
        set_node(out, walk(x->query, query_start(e, x->query, cur)));
        return;
    case EX_FUNC: break;
    default: return;
    }
    switch (x->fn) {
    case FN_LENGTH:
        eval_value(e, x->kids, cur, &a);
        if (!a.has) return;
        if (a.v.type == DOC_STRING) {
            for (i = 0; i < a.v.slen; i++)
                if (((unsigned char)a.v.s[i] & 0xC0) != 0x80) n++;
        } else if (a.v.type == DOC_ARRAY || a.v.type == DOC_OBJECT) {
            n = doc_node_count(a.v.node);
        } else {
            return;
        }
        break;
    case FN_COUNT:
        q = x->kids->query;
        start = query_start(e, q, cur);
        if (q->singular)
            n = walk(q, start) != NULL;
        else if (run(e, q, start, sink_count, &n, 0) < 0)
            return;
        break;
    case FN_VALUE:
        q = x->kids->query;
        start = query_start(e, q, cur);
        if (q->singular)
            set_node(out, walk(q, start));
        else if (run(e, q, start, sink_one, &one, 0) >= 0 && one.count == 1)
            set_node(out, one.val);
        return;
    default: return;
    }
    out->has = 1;
    out->v.type = DOC_INT;
    out->v.i = n;
}

/* A LogicalType expression's truth. After a memory failure (e->st) the
 * answer is meaningless and callers unwind. */
static int eval_logical(ev *e, const qexpr *x, const uint8_t *cur) {
    const qexpr *k;
    const qquery *q;
    qval a, b;

    if (e->st) return 0;
    switch (x->kind) {
    case EX_OR:
        for (k = x->kids; k; k = k->next)
            if (eval_logical(e, k, cur)) return 1;
        return 0;
    case EX_AND:
        for (k = x->kids; k; k = k->next)
            if (!eval_logical(e, k, cur)) return 0;
        return 1;
    case EX_NOT: return !eval_logical(e, x->kids, cur);
    case EX_CMP:
        eval_value(e, x->kids, cur, &a);
        eval_value(e, x->kids->next, cur, &b);
        return compare(x->op, &a, &b);
    case EX_EXISTS:
        q = x->query;
        if (q->singular) return walk(q, query_start(e, q, cur)) != NULL;
        return run(e, q, query_start(e, q, cur), sink_stop, NULL, 0) == 1;
    case EX_FUNC:
        if (x->fn == FN_MATCH || x->fn == FN_SEARCH) return eval_regex(e, x, cur);
        return 0;
    default: return 0;
    }
}

doc_status doc_query_eval(const doc_query *q, const uint8_t *root,
                          int (*fn)(void *ctx, const uint8_t *value, const char *norm), void *ctx,
                          int want_norm, doc_error *err) {
    ev e;

    memset(&e, 0, sizeof e);
    e.root = root;
    e.budget = QUERY_STEPS_MIN;
    doc_buf_init(&e.stack);
    doc_buf_init(&e.norm);
    if (want_norm) doc_buf_putc(&e.norm, '$');
    run(&e, &q->main, root, fn, ctx, want_norm);
    if (e.norm.oom || e.stack.oom) e.st = DOC_NOMEM;
    doc_buf_free(&e.stack);
    doc_buf_free(&e.norm);
    if (e.st == DOC_TOOBIG)
        return doc_error_set(err, DOC_TOOBIG,
                             "query takes more than %llu steps (%d per value of the document, at least %d): "
                             "each '..' after a '..' revisits every value below; use fewer '..' segments",
                             (unsigned long long)e.budget, QUERY_STEPS_PER_VALUE, QUERY_STEPS_MIN);
    if (e.st) return doc_error_set(err, DOC_NOMEM, "out of memory evaluating a query");
    return DOC_OK;
}

/* ------------------------------------------------------------------ */
/* Compiling                                                          */
/* ------------------------------------------------------------------ */

doc_status doc_query_compile(const char *text, size_t len, uint32_t max_depth, doc_query **out,
                             doc_error *err) {
    parser p;
    size_t i, n;

    *out = NULL;
    memset(&p, 0, sizeof p);
    p.s = text;
    p.len = len;
    p.err = err;
    p.max_depth = max_depth < QUERY_NEST_MAX ? max_depth : QUERY_NEST_MAX;
    for (i = 0; i < len; i += n) {
        n = utf8_len((const unsigned char *)text + i, len - i);
        if (n == 0) {
            fail(&p, i, "invalid UTF-8");
            return p.st;
        }
    }
    if (len == 0 || text[0] != '$') {
        fail(&p, 0, "a query starts with '$'");
        return p.st;
    }
    p.q = doc_malloc(sizeof *p.q);
    if (!p.q) return doc_error_set(err, DOC_NOMEM, "out of memory compiling a query");
    memset(p.q, 0, sizeof *p.q);
    doc_buf_init(&p.scratch);
    {
        qquery *main = parse_query(&p);

        if (main && !at_end(&p)) fail(&p, p.pos, "expected a segment ('.' or '[') or the end");
        if (main && !p.st) p.q->main = *main;
    }
    doc_buf_free(&p.scratch);
    if (p.st) {
        doc_query_free(p.q);
        return p.st;
    }
    *out = p.q;
    return DOC_OK;
}

int doc_query_is_single(const doc_query *q) { return q->main.singular; }
