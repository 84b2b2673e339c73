/*
 * iregexp.c - I-Regexp (RFC 9485) patterns compiled to an NFA program and
 * run by a Pike-style simulation over code points.
 *
 * Compiling parses the pattern by recursive descent (bounded: groups nest at
 * most IREGEXP_NEST_MAX deep) and emits instructions as it goes. Jumps are
 * relative to their own instruction, so the code of any atom is position
 * independent: a quantifier wraps it by inserting an instruction in front,
 * or repeats it ({n,m}) by copying it. Alternatives are chained through
 * their not-yet-patched jumps, so no side list is needed.
 *
 * Running keeps the set of live instructions for the current position
 * (deduplicated with a generation mark per instruction), and steps every
 * live thread over one code point; epsilon closures use an explicit stack.
 * Time is O(text length x program size), memory O(program size), whatever
 * the pattern: no backtracking.
 *
 * The language is RFC 9485's: NormalChar, '.', single-character escapes,
 * \p{..} / \P{..} general categories, bracket classes with ranges and
 * negation, groups, alternation and the quantifiers * + ? {n} {n,} {n,m}.
 * '.' matches any code point but \n and \r. One deliberate departure: '^'
 * and '$' outside brackets are anchors (start / end of the text), not the
 * literal characters the RFC 9485 grammar makes them, because that is what
 * the JSONPath compliance suite (and every regex library the RFC maps to)
 * expects. Character categories come from a generated table of Unicode
 * general-category runs (unicode_gc.c).
 */
#include "iregexp.h"

#include "doc.h"

#include <stdint.h>
#include <string.h>

/* Largest program, in instructions. A match costs up to text length times
 * this, so it bounds the time one match() call may take per text byte; a
 * pattern needing more (e.g. `(a{1000}){1000}`) is refused as invalid,
 * which match()/search() report as a non-match. */
#define IREGEXP_INST_MAX 20000
/* Deepest group nesting: the parser recurses once per group. */
#define IREGEXP_NEST_MAX 100
/* Largest bound a {n,m} quantifier may name; more would exceed
 * IREGEXP_INST_MAX for any non-empty atom anyway. */
#define IREGEXP_REPEAT_MAX 10000
/* Scratch for programs up to this size lives on the C stack. */
#define IREGEXP_LOCAL 128
/* "No instruction" in the alternation jump chain. */
#define NO_PC UINT32_MAX

/* Instruction opcodes. */
enum {
    OP_CHAR,  /* consume code point x */
    OP_ANY,   /* consume any code point but \n and \r */
    OP_CLASS, /* consume a code point in class x */
    OP_SPLIT, /* continue at pc + x and at pc + y */
    OP_JMP,   /* continue at pc + x */
    OP_BOL,   /* succeed only at the start of the text */
    OP_EOL,   /* succeed only at the end of the text */
    OP_MATCH  /* the pattern matched */
};

/* One instruction. */
typedef struct inst {
    int32_t op; /* OP_* */
    int32_t x;  /* CHAR: code point; CLASS: class index; SPLIT/JMP: relative target */
    int32_t y;  /* SPLIT: second relative target */
} inst;

/* One member of a bracket class (or of a lone \p / \P escape). */
typedef struct class_item {
    uint32_t lo;   /* range: first code point */
    uint32_t hi;   /* range: last code point */
    uint32_t cats; /* nonzero: a category test; bit i = general category i */
    int neg;       /* category test: 1 for \P (matches outside the categories) */
} class_item;

/* A character class: items[first .. first + count), optionally negated. */
typedef struct char_class {
    uint32_t first; /* index of its first item */
    uint32_t count; /* number of items */
    int neg;        /* 1 for [^...] */
} char_class;

struct doc_iregexp {
    inst *code;          /* the program; code[ncode - 1] is OP_MATCH */
    uint32_t ncode;      /* instructions */
    char_class *classes; /* classes referenced by OP_CLASS */
    uint32_t nclass;     /* classes */
    class_item *items;   /* members of all classes */
    uint32_t nitem;      /* members */
};

/* Compiler state. */
typedef struct rcomp {
    const unsigned char *s; /* the pattern */
    size_t len;             /* its length */
    size_t pos;             /* next unread byte */
    unsigned depth;         /* groups open */
    int bad;                /* DOC_IREGEXP_* of the first failure, 0 while fine */
    uint32_t capcode;       /* code slots allocated */
    uint32_t capclass;      /* class slots allocated */
    uint32_t capitem;       /* item slots allocated */
    doc_iregexp *re;        /* what is being built */
} rcomp;

/* General categories, in the order of the generated table's category codes. */
enum {
    GC_Cn,
    GC_Lu,
    GC_Ll,
    GC_Lt,
    GC_Lm,
    GC_Lo,
    GC_Mn,
    GC_Mc,
    GC_Me,
    GC_Nd,
    GC_Nl,
    GC_No,
    GC_Pc,
    GC_Pd,
    GC_Ps,
    GC_Pe,
    GC_Pi,
    GC_Pf,
    GC_Po,
    GC_Sm,
    GC_Sc,
    GC_Sk,
    GC_So,
    GC_Zs,
    GC_Zl,
    GC_Zp,
    GC_Cc,
    GC_Cf,
    GC_Cs,
    GC_Co
};

static unsigned category_of(uint32_t cp);

/* ------------------------------------------------------------------ */
/* Characters                                                         */
/* ------------------------------------------------------------------ */

/* Decodes the code point at s[*i] (n bytes in all) and moves *i past it.
 * Malformed UTF-8 (doc_utf8_decode's rules) yields UINT32_MAX and moves one
 * byte. */
static uint32_t utf8_next(const unsigned char *s, size_t n, size_t *i) {
    uint32_t cp;
    size_t k = doc_utf8_decode(s + *i, n - *i, &cp);

    *i += k ? k : 1;
    return k ? cp : UINT32_MAX;
}

#define GCB(c) (UINT32_C(1) << GC_##c)

/* The names \p{..} accepts (RFC 9485 IsCategory) and the categories each covers. */
static const struct {
    char name[3];  /* category name */
    uint32_t cats; /* GCB() bits */
} cat_names[] = {
    {"L", GCB(Lu) | GCB(Ll) | GCB(Lt) | GCB(Lm) | GCB(Lo)},
    {"Lu", GCB(Lu)},
    {"Ll", GCB(Ll)},
    {"Lt", GCB(Lt)},
    {"Lm", GCB(Lm)},
    {"Lo", GCB(Lo)},
    {"M", GCB(Mn) | GCB(Mc) | GCB(Me)},
    {"Mn", GCB(Mn)},
    {"Mc", GCB(Mc)},
    {"Me", GCB(Me)},
    {"N", GCB(Nd) | GCB(Nl) | GCB(No)},
    {"Nd", GCB(Nd)},
    {"Nl", GCB(Nl)},
    {"No", GCB(No)},
    {"P", GCB(Pc) | GCB(Pd) | GCB(Ps) | GCB(Pe) | GCB(Pi) | GCB(Pf) | GCB(Po)},
    {"Pc", GCB(Pc)},
    {"Pd", GCB(Pd)},
    {"Ps", GCB(Ps)},
    {"Pe", GCB(Pe)},
    {"Pi", GCB(Pi)},
    {"Pf", GCB(Pf)},
    {"Po", GCB(Po)},
    {"Z", GCB(Zs) | GCB(Zl) | GCB(Zp)},
    {"Zs", GCB(Zs)},
    {"Zl", GCB(Zl)},
    {"Zp", GCB(Zp)},
    {"S", GCB(Sm) | GCB(Sc) | GCB(Sk) | GCB(So)},
    {"Sm", GCB(Sm)},
    {"Sc", GCB(Sc)},
    {"Sk", GCB(Sk)},
    {"So", GCB(So)},
    {"C", GCB(Cc) | GCB(Cf) | GCB(Cn) | GCB(Co) | GCB(Cs)},
    {"Cc", GCB(Cc)},
    {"Cf", GCB(Cf)},
    {"Cn", GCB(Cn)},
    {"Co", GCB(Co)},
};

/* ------------------------------------------------------------------ */
/* Compiling                                                          */
/* ------------------------------------------------------------------ */

static void set_bad(rcomp *rc, int why) {
    if (!rc->bad) rc->bad = why;
}

/* Makes room for one more element in *arr (cap *cap, n used), up to limit. */
static int grow(rcomp *rc, void **arr, uint32_t *cap, uint32_t n, size_t elem, uint32_t limit) {
    uint32_t ncap;
    void *p;

    if (n < *cap) return 0;
    if (n >= limit) {
        set_bad(rc, DOC_IREGEXP_INVALID);
        return -1;
    }
    ncap = *cap ? *cap * 2 : 16;
    if (ncap > limit) ncap = limit;
    p = doc_realloc(*arr, (size_t)ncap * elem);
    if (!p) {
        set_bad(rc, DOC_IREGEXP_NOMEM);
        return -1;
    }
    *arr = p;
    *cap = ncap;
    return 0;
}

/* Makes room for `need` instructions in all. */
static int reserve_code(rcomp *rc, uint32_t need) {
    uint32_t ncap = rc->capcode ? rc->capcode : 16;
    inst *p;

    if (rc->bad) return -1;
    if (need <= rc->capcode) return 0;
    if (need > IREGEXP_INST_MAX) {
        set_bad(rc, DOC_IREGEXP_INVALID);
        return -1;
    }
    while (ncap < need) ncap = ncap > IREGEXP_INST_MAX / 2 ? IREGEXP_INST_MAX : ncap * 2;
    p = doc_realloc(rc->re->code, (size_t)ncap * sizeof(inst));
    if (!p) {
        set_bad(rc, DOC_IREGEXP_NOMEM);
        return -1;
    }
    rc->re->code = p;
    rc->capcode = ncap;
    return 0;
}

/* Inserts an instruction at pc `at` (at == ncode appends). Code after `at`
 * moves up by one; its relative jumps stay right because nothing before
 * `at` jumps into it (see the top of the file). */
static void insert(rcomp *rc, uint32_t at, int32_t op, int32_t x, int32_t y) {
    doc_iregexp *re = rc->re;

    if (reserve_code(rc, re->ncode + 1) < 0) return;
    memmove(re->code + at + 1, re->code + at, (size_t)(re->ncode - at) * sizeof(inst));
    re->code[at].op = op;
    re->code[at].x = x;
    re->code[at].y = y;
    re->ncode++;
}

static void emit(rcomp *rc, int32_t op, int32_t x, int32_t y) { insert(rc, rc->re->ncode, op, x, y); }

static int at_end(const rcomp *rc) { return rc->pos >= rc->len; }

static unsigned char peek(const rcomp *rc) { return at_end(rc) ? 0 : rc->s[rc->pos]; }

/* The next code point of the pattern; marks the pattern bad at its end or
 * on malformed UTF-8. */
static uint32_t next_cp(rcomp *rc) {
    uint32_t c;

    if (at_end(rc)) {
        set_bad(rc, DOC_IREGEXP_INVALID);
        return 0;
    }
    c = utf8_next(rc->s, rc->len, &rc->pos);
    if (c == UINT32_MAX) {
        set_bad(rc, DOC_IREGEXP_INVALID);
        return 0;
    }
    return c;
}

/* The code point a single-character escape (after '\\') stands for, or
 * UINT32_MAX when c does not make one. */
static uint32_t single_escape(uint32_t c) {
    switch (c) {
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case '(':
    case ')':
    case '*':
    case '+':
    case '-':
    case '.':
    case '?':
    case '[':
    case '\\':
    case ']':
    case '^':
    case '{':
    case '|':
    case '}': return c;
    default: return UINT32_MAX;
    }
}

/* Appends a class item. */
static void add_item(rcomp *rc, uint32_t lo, uint32_t hi, uint32_t cats, int neg) {
    doc_iregexp *re = rc->re;

    if (rc->bad ||
        grow(rc, (void **)&re->items, &rc->capitem, re->nitem, sizeof(class_item), IREGEXP_INST_MAX) < 0)
        return;
    re->items[re->nitem].lo = lo;
    re->items[re->nitem].hi = hi;
    re->items[re->nitem].cats = cats;
    re->items[re->nitem].neg = neg;
    re->nitem++;
}

/* Parses `{Name}` after "\p" or "\P" and adds the category item. */
static void parse_category(rcomp *rc, int neg) {
    char name[3] = {0, 0, 0};
    size_t i, n = 0;

    if (peek(rc) != '{') {
        set_bad(rc, DOC_IREGEXP_INVALID);
        return;
    }
    rc->pos++;
    while (!at_end(rc) && peek(rc) != '}' && n < 2) name[n++] = (char)rc->s[rc->pos++];
    if (peek(rc) != '}' || n == 0) {
        set_bad(rc, DOC_IREGEXP_INVALID);
        return;
    }
    rc->pos++;
    for (i = 0; i < sizeof cat_names / sizeof cat_names[0]; i++) {
        if (strcmp(cat_names[i].name, name) == 0) {
            add_item(rc, 0, 0, cat_names[i].cats, neg);
            return;
        }
    }
    set_bad(rc, DOC_IREGEXP_INVALID);
}

/* Opens a class whose items the caller adds next; returns its index. */
static uint32_t open_class(rcomp *rc, int neg) {
    doc_iregexp *re = rc->re;

    if (rc->bad ||
        grow(rc, (void **)&re->classes, &rc->capclass, re->nclass, sizeof(char_class), IREGEXP_INST_MAX) < 0)
        return 0;
    re->classes[re->nclass].first = re->nitem;
    re->classes[re->nclass].count = 0;
    re->classes[re->nclass].neg = neg;
    return re->nclass++;
}

static void close_class(rcomp *rc, uint32_t k) {
    if (!rc->bad) rc->re->classes[k].count = rc->re->nitem - rc->re->classes[k].first;
}

/* A CCchar of a bracket class: a code point other than '[', ']', '\\' and
 * '-', or a single-character escape. */
static uint32_t parse_ccchar(rcomp *rc) {
    uint32_t c = next_cp(rc);

    if (c == '\\') {
        c = single_escape(next_cp(rc));
        if (c == UINT32_MAX) set_bad(rc, DOC_IREGEXP_INVALID);
        return c;
    }
    if (c == '[' || c == ']' || c == '-') set_bad(rc, DOC_IREGEXP_INVALID);
    return c;
}

/* A bracket class "[...]", the '[' already consumed; emits OP_CLASS. */
static void parse_bracket(rcomp *rc) {
    uint32_t k, lo, hi, items = 0;
    int neg = 0;

    if (peek(rc) == '^') {
        neg = 1;
        rc->pos++;
    }
    k = open_class(rc, neg);
    while (!rc->bad) {
        if (at_end(rc)) {
            set_bad(rc, DOC_IREGEXP_INVALID);
            break;
        }
        if (peek(rc) == ']') {
            if (items == 0) /* "[]" and "[^]" are not classes */
                set_bad(rc, DOC_IREGEXP_INVALID);
            rc->pos++;
            break;
        }
        if (peek(rc) == '-') {
            /* A literal '-' only first or last. */
            if (items > 0 && (rc->pos + 1 >= rc->len || rc->s[rc->pos + 1] != ']')) {
                set_bad(rc, DOC_IREGEXP_INVALID);
                break;
            }
            rc->pos++;
            add_item(rc, '-', '-', 0, 0);
            items++;
            continue;
        }
        if (peek(rc) == '\\' && rc->pos + 1 < rc->len &&
            (rc->s[rc->pos + 1] == 'p' || rc->s[rc->pos + 1] == 'P')) {
            int cneg = rc->s[rc->pos + 1] == 'P';

            rc->pos += 2;
            parse_category(rc, cneg);
            items++;
            continue;
        }
        lo = hi = parse_ccchar(rc);
        if (peek(rc) == '-' && rc->pos + 1 < rc->len && rc->s[rc->pos + 1] != ']') {
            rc->pos++;
            hi = parse_ccchar(rc);
            if (!rc->bad && hi < lo) set_bad(rc, DOC_IREGEXP_INVALID);
        }
        add_item(rc, lo, hi, 0, 0);
        items++;
    }
    close_class(rc, k);
    emit(rc, OP_CLASS, (int32_t)k, 0);
}

static void parse_alt(rcomp *rc);

/* One atom: a character, a class, '.', an anchor or a group. */
static void parse_atom(rcomp *rc) {
    uint32_t c, k;

    c = next_cp(rc);
    if (rc->bad) return;
    switch (c) {
    case '(':
        if (++rc->depth > IREGEXP_NEST_MAX) {
            set_bad(rc, DOC_IREGEXP_INVALID);
            return;
        }
        parse_alt(rc);
        if (peek(rc) != ')') set_bad(rc, DOC_IREGEXP_INVALID);
        rc->pos++;
        rc->depth--;
        return;
    case '.': emit(rc, OP_ANY, 0, 0); return;
    case '^': emit(rc, OP_BOL, 0, 0); return;
    case '$': emit(rc, OP_EOL, 0, 0); return;
    case '[': parse_bracket(rc); return;
    case '\\':
        if (peek(rc) == 'p' || peek(rc) == 'P') {
            int neg = peek(rc) == 'P';

            rc->pos++;
            k = open_class(rc, 0);
            parse_category(rc, neg);
            close_class(rc, k);
            emit(rc, OP_CLASS, (int32_t)k, 0);
            return;
        }
        c = single_escape(next_cp(rc));
        if (c == UINT32_MAX) set_bad(rc, DOC_IREGEXP_INVALID);
        emit(rc, OP_CHAR, (int32_t)c, 0);
        return;
    case ')':
    case '*':
    case '+':
    case '?':
    case ']':
    case '{':
    case '|':
    case '}':
        set_bad(rc, DOC_IREGEXP_INVALID); /* not a NormalChar: nothing to quantify, ... */
        return;
    default: emit(rc, OP_CHAR, (int32_t)c, 0); return;
    }
}

/* Decimal digits of a {n,m} bound; UINT32_MAX when there are none. */
static uint32_t parse_bound(rcomp *rc) {
    uint32_t v = 0;
    int any = 0;

    while (peek(rc) >= '0' && peek(rc) <= '9') {
        if (v <= IREGEXP_REPEAT_MAX) v = v * 10 + (uint32_t)(peek(rc) - '0');
        rc->pos++;
        any = 1;
    }
    if (!any) return UINT32_MAX;
    if (v > IREGEXP_REPEAT_MAX) set_bad(rc, DOC_IREGEXP_INVALID);
    return v;
}

/* Appends a copy of an atom's code. */
static void append_frag(rcomp *rc, const inst *frag, uint32_t flen) {
    doc_iregexp *re = rc->re;

    if (reserve_code(rc, re->ncode + flen) < 0) return;
    memcpy(re->code + re->ncode, frag, (size_t)flen * sizeof(inst));
    re->ncode += flen;
}

/* Replaces the atom code F at [start, ncode) by `min` to `max` copies of it
 * (max UINT32_MAX: unbounded):
 *   {min,max}  F ... F (min times), then (SPLIT +1,out; F) (max - min times)
 *   {0,}       L: SPLIT +1,out; F; JMP L; out:
 *   {min>0,}   F ... F (min - 1 times), then L: F; SPLIT L,+1 */
static void repeat(rcomp *rc, uint32_t start, uint32_t min, uint32_t max) {
    doc_iregexp *re = rc->re;
    uint32_t flen = re->ncode - start, plain, i;
    uint64_t total;
    inst *frag;

    if (rc->bad || flen == 0) return;
    /* Size first: every copy costs flen, plus one SPLIT/JMP per optional copy. */
    if (max == UINT32_MAX)
        total = (uint64_t)(min ? min : 1) * flen + 2;
    else
        total = (uint64_t)min * flen + (uint64_t)(max - min) * (flen + 1);
    if ((uint64_t)start + total > IREGEXP_INST_MAX) {
        set_bad(rc, DOC_IREGEXP_INVALID);
        return;
    }
    frag = doc_malloc((size_t)flen * sizeof(inst));
    if (!frag) {
        set_bad(rc, DOC_IREGEXP_NOMEM);
        return;
    }
    memcpy(frag, re->code + start, (size_t)flen * sizeof(inst));
    re->ncode = start;
    plain = max == UINT32_MAX && min > 0 ? min - 1 : min;
    for (i = 0; i < plain; i++) append_frag(rc, frag, flen);
    if (max == UINT32_MAX && min == 0) {
        emit(rc, OP_SPLIT, 1, (int32_t)flen + 2);
        append_frag(rc, frag, flen);
        emit(rc, OP_JMP, -(int32_t)(flen + 1), 0);
    } else if (max == UINT32_MAX) {
        append_frag(rc, frag, flen);
        emit(rc, OP_SPLIT, -(int32_t)flen, 1);
    } else {
        for (i = min; i < max && !rc->bad; i++) {
            emit(rc, OP_SPLIT, 1, (int32_t)flen + 1);
            append_frag(rc, frag, flen);
        }
    }
    doc_free(frag);
}

/* An atom and its quantifier, if any. */
static void parse_piece(rcomp *rc) {
    uint32_t start = rc->re->ncode, min, max;

    parse_atom(rc);
    if (rc->bad) return;
    switch (peek(rc)) {
    case '*':
        rc->pos++;
        repeat(rc, start, 0, UINT32_MAX);
        return;
    case '+':
        rc->pos++;
        repeat(rc, start, 1, UINT32_MAX);
        return;
    case '?':
        rc->pos++;
        repeat(rc, start, 0, 1);
        return;
    case '{':
        rc->pos++;
        min = parse_bound(rc);
        max = min;
        if (peek(rc) == ',') {
            rc->pos++;
            max = parse_bound(rc); /* none: unbounded */
        }
        if (min == UINT32_MAX || peek(rc) != '}' || (max != UINT32_MAX && max < min)) {
            set_bad(rc, DOC_IREGEXP_INVALID);
            return;
        }
        rc->pos++;
        repeat(rc, start, min, max);
        return;
    default: return;
    }
}

/* Alternatives separated by '|', up to ')' or the end. Each alternative but
 * the last is preceded by a SPLIT to the next one and followed by a JMP to
 * the end; until the end is known those JMPs form a chain through x (the
 * absolute pc of the previous one). */
static void parse_alt(rcomp *rc) {
    uint32_t chain = NO_PC, bstart, next;
    doc_iregexp *re = rc->re;

    for (;;) {
        bstart = re->ncode;
        while (!rc->bad && !at_end(rc) && peek(rc) != '|' && peek(rc) != ')') parse_piece(rc);
        if (rc->bad || peek(rc) != '|') break;
        rc->pos++;
        insert(rc, bstart, OP_SPLIT, 1, 0);
        emit(rc, OP_JMP, (int32_t)chain, 0);
        if (rc->bad) break;
        chain = re->ncode - 1;
        re->code[bstart].y = (int32_t)(re->ncode - bstart);
    }
    if (rc->bad) return;
    while (chain != NO_PC) {
        next = (uint32_t)re->code[chain].x;
        re->code[chain].x = (int32_t)(re->ncode - chain);
        chain = next;
    }
}

void doc_iregexp_free(doc_iregexp *re) {
    if (!re) return;
    doc_free(re->code);
    doc_free(re->classes);
    doc_free(re->items);
    doc_free(re);
}

doc_iregexp_status doc_iregexp_compile(const char *pat, size_t len, doc_iregexp **out) {
    rcomp rc;

    *out = NULL;
    memset(&rc, 0, sizeof rc);
    rc.s = (const unsigned char *)pat;
    rc.len = len;
    rc.re = doc_malloc(sizeof *rc.re);
    if (!rc.re) return DOC_IREGEXP_NOMEM;
    memset(rc.re, 0, sizeof *rc.re);
    parse_alt(&rc);
    if (!rc.bad && !at_end(&rc)) /* a ')' without its '(' */
        set_bad(&rc, DOC_IREGEXP_INVALID);
    emit(&rc, OP_MATCH, 0, 0);
    if (rc.bad) {
        doc_iregexp_free(rc.re);
        return (doc_iregexp_status)rc.bad;
    }
    *out = rc.re;
    return DOC_IREGEXP_OK;
}

/* ------------------------------------------------------------------ */
/* Matching                                                           */
/* ------------------------------------------------------------------ */

/* Scratch of one run: two thread lists, generation marks and a stack for
 * epsilon closures, each one slot per instruction. */
typedef struct vm {
    const doc_iregexp *re; /* the program */
    uint32_t *mark;        /* mark[pc] == gen: pc already in the list being built */
    uint32_t *stack;       /* closure work stack */
    uint32_t gen;          /* current generation */
} vm;

/* A thread list. */
typedef struct tlist {
    uint32_t *pc; /* consuming (or MATCH) instructions */
    uint32_t n;   /* entries */
} tlist;

static int class_match(const doc_iregexp *re, const char_class *c, uint32_t cp) {
    const class_item *it = re->items + c->first;
    uint32_t i;
    int hit = 0;

    for (i = 0; i < c->count && !hit; i++) {
        if (it[i].cats)
            hit = (int)((it[i].cats >> category_of(cp)) & 1) != it[i].neg;
        else
            hit = cp >= it[i].lo && cp <= it[i].hi;
    }
    return hit != c->neg;
}

/* Adds pc and everything reachable from it without consuming input to l;
 * bol / eol say whether the position is the start / end of the text. */
static void add_thread(vm *m, tlist *l, uint32_t pc, int bol, int eol) {
    const inst *code = m->re->code;
    uint32_t sp = 0;

    if (m->mark[pc] == m->gen) return;
    m->mark[pc] = m->gen;
    m->stack[sp++] = pc;
    while (sp > 0) {
        uint32_t t[2];
        int nt = 0, k;

        pc = m->stack[--sp];
        switch (code[pc].op) {
        case OP_JMP: t[nt++] = pc + (uint32_t)code[pc].x; break;
        case OP_SPLIT:
            t[nt++] = pc + (uint32_t)code[pc].y;
            t[nt++] = pc + (uint32_t)code[pc].x;
            break;
        case OP_BOL:
            if (bol) t[nt++] = pc + 1;
            break;
        case OP_EOL:
            if (eol) t[nt++] = pc + 1;
            break;
        default: l->pc[l->n++] = pc; break;
        }
        for (k = 0; k < nt; k++) {
            if (m->mark[t[k]] != m->gen) {
                m->mark[t[k]] = m->gen;
                m->stack[sp++] = t[k];
            }
        }
    }
}

/* Next generation; marks are cleared when the counter wraps. */
static void next_gen(vm *m) {
    if (++m->gen == 0) {
        memset(m->mark, 0, (size_t)m->re->ncode * sizeof(uint32_t));
        m->gen = 1;
    }
}

static int has_match(const vm *m, const tlist *l) {
    uint32_t i;

    for (i = 0; i < l->n; i++)
        if (m->re->code[l->pc[i]].op == OP_MATCH) return 1;
    return 0;
}

static int run(vm *m, tlist *cl, tlist *nl, const unsigned char *s, size_t len, int whole) {
    const inst *code = m->re->code;
    size_t pos = 0, next;
    uint32_t i, cp;
    tlist *tmp;

    m->gen = 1;
    cl->n = 0;
    add_thread(m, cl, 0, 1, len == 0);
    for (;;) {
        if (!whole && has_match(m, cl)) return 1;
        if (pos >= len) return has_match(m, cl);
        next = pos;
        cp = utf8_next(s, len, &next);
        if (cp == UINT32_MAX) cp = 0xFFFD; /* documents hold valid UTF-8; be safe anyway */
        next_gen(m);
        nl->n = 0;
        for (i = 0; i < cl->n; i++) {
            const inst *in = &code[cl->pc[i]];
            int ok;

            switch (in->op) {
            case OP_CHAR: ok = cp == (uint32_t)in->x; break;
            case OP_ANY: ok = cp != '\n' && cp != '\r'; break;
            case OP_CLASS: ok = class_match(m->re, &m->re->classes[in->x], cp); break;
            default: ok = 0; break;
            }
            if (ok) add_thread(m, nl, cl->pc[i] + 1, 0, next == len);
        }
        pos = next;
        if (!whole)
            add_thread(m, nl, 0, 0, pos == len);
        else if (nl->n == 0)
            return 0;
        tmp = cl;
        cl = nl;
        nl = tmp;
    }
}

int doc_iregexp_exec(const doc_iregexp *re, const char *s, size_t len, int whole) {
    uint32_t local[4 * IREGEXP_LOCAL];
    uint32_t *mem = local;
    uint32_t n = re->ncode;
    tlist a, b;
    vm m;
    int r;

    if (n > IREGEXP_LOCAL) {
        mem = doc_malloc((size_t)n * 4 * sizeof(uint32_t));
        if (!mem) return -1;
    }
    m.re = re;
    m.mark = mem;
    m.stack = mem + n;
    a.pc = mem + 2 * (size_t)n;
    b.pc = mem + 3 * (size_t)n;
    memset(m.mark, 0, (size_t)n * sizeof(uint32_t));
    r = run(&m, &a, &b, (const unsigned char *)s, len, whole);
    if (mem != local) doc_free(mem);
    return r;
}

/* ------------------------------------------------------------------ */
/* Unicode general categories                                         */
/* ------------------------------------------------------------------ */

/* The generated table (unicode_gc.c, made by
 * scripts/gen_unicode_categories.py): the last run starting at or before cp
 * gives its category. */

static unsigned category_of(uint32_t cp) {
    size_t lo = 0, hi = doc_unicode_gc_nruns, mid;
    uint32_t key = (cp << 5) | 31;

    /* The last run starting at or before cp (the first run starts at 0). */
    while (hi - lo > 1) {
        mid = lo + (hi - lo) / 2;
        if (doc_unicode_gc_runs[mid] <= key)
            lo = mid;
        else
            hi = mid;
    }
    return doc_unicode_gc_runs[lo] & 31;
}
