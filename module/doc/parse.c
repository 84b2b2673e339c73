/*
 * parse.c - JSON text to a document box, in one pass of our own.
 *
 * The parser reads the text once, left to right, and writes the packed
 * encoding of node.h as it goes: no token stream, no DOM, no size or depth
 * pass. All open containers share one scratch buffer, each owning a region:
 * from the offset where it opened to the start of the next open one (the
 * innermost: to the write position), holding its entries so far in their
 * final encoding. When a container closes, its region becomes a node (one
 * allocation, one copy) and is replaced, in the parent's region, by the
 * 9-byte value pointing at that node. The top-level value goes into the
 * box's region (frames[0]), which becomes the box.
 *
 * Nothing recurses: open containers are frames on an explicit stack (in the
 * parser on the C stack, moved to doc_malloc'd memory past
 * PARSE_FRAMES_LOCAL), bounded by max_depth, itself capped by
 * DOC_DEPTH_LIMIT, so a 100,000-deep input fails with TOODEEP at the
 * bracket that goes one level too deep.
 *
 * As strict as RFC 8259 with the I-JSON rules (RFC 7493):
 *   - white space is space, tab, LF and CR (form feed and vertical tab are
 *     not, and inside strings they are unescaped control characters);
 *   - strings: no raw byte below 0x20; the escapes \" \\ \/ \b \f \n \r \t
 *     \uXXXX; a \u escape of a surrogate must be a high one followed by a
 *     low one ("lone surrogate escape" otherwise); raw bytes must be
 *     well-formed UTF-8 (RFC 3629: no overlong forms, no encoded
 *     surrogates, nothing past U+10FFFF);
 *   - numbers: doc_number_read (int64 when an integer fits, else the
 *     correctly rounded double; beyond the double range is BADJSON);
 *   - object keys are unique: below DOC_INDEX_MIN members each key is
 *     checked as it comes, through a 64-bit filter of the keys so far (a hit
 *     scans the object's entries); larger objects once more, through the
 *     sorted index their node gets when they close;
 *   - exactly one value, then only white space.
 *
 * Errors: BADJSON, TOODEEP, NOMEM, TOOBIG (a node past 4 GB), with the
 * 0-based byte offset of the culprit: the byte that cannot start or continue
 * what is expected there (the first one that is not a digit where a number
 * needs one), the start of a bad literal, of a number out of range, of the
 * \u escape that is a lone surrogate, of an invalid UTF-8 sequence, the
 * opening quote of a duplicate key (a duplicate found through the index:
 * the closing brace of its object), the bracket one level too deep, and the
 * length of the text when it ends too early. After an error the nodes made
 * so far are freed and NULL is returned.
 *
 * Speed. Strings are copied and checked sixteen bytes at a time with SSE2
 * (eight with a word test elsewhere): one test finds the first '"', '\\',
 * control or non-ASCII byte. Integers of up to 18 digits and plain
 * decimals (prices, coordinates) are read inline; other numbers go to
 * doc_number_read. A string's varint
 * length header is reserved as one byte and moved when the string turns out
 * to be 128 bytes or longer. The scratch buffer keeps PARSE_SLACK bytes free
 * after the write position at the start of every value, so writing a
 * scalar, a container value or an 8-byte string word needs no check.
 * Keys are remembered (parse_memo): the records of an array of objects
 * repeat their keys in the same order, so a key whose text, quotes and
 * colon included, is the one of the same member of the last object at the
 * same depth is written from one 16-byte compare, without the string scan;
 * only the duplicate filter still runs for it. Containers of fewer than
 * DOC_INDEX_MIN entries become nodes here (node_make_small_uncounted),
 * their memory added to doc_mem_count once per parse (parse_count_memory,
 * before anything is freed on an error).
 */
#include "node.h"

#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Open containers tracked inside the parser before it allocates: documents
 * nesting deeper are rare (the default max-depth is 128). */
#define PARSE_FRAMES_LOCAL 32
/* Bytes kept free after the write position (see the top): a 9-byte value,
 * or the 16 bytes a string's bulk copy writes ahead plus the 4 bytes a long
 * string's header grows by. */
#define PARSE_SLACK 32
/* The scratch buffer inside the parser: small documents need no allocation
 * for it. */
#define PARSE_LOCAL_BYTES 512
/* A large document's scratch buffer starts at this size and doubles: the
 * open containers of most documents fit. */
#define PARSE_SCRATCH_MIN 4096

/* Key memos (see parse_memo): one row per nesting depth of objects, the
 * deeper ones sharing the last row; a row remembers the first
 * PARSE_MEMO_KEYS keys of the objects at its depth. Records of one shape
 * (the orders of an array) nest at the same depth, and most have fewer
 * than 16 members; 16 x 16 memos are 8 KB of the parser's stack. */
#define PARSE_MEMO_ROWS 16
#define PARSE_MEMO_KEYS 16
/* A memo is compared as 16 text bytes: the quotes and the colon take 3. */
#define PARSE_MEMO_KEY_MAX 13
/* A hit saves about what a miss (a failed compare, then a new memo) costs,
 * so memos are turned off for the rest of the text once misses outnumber
 * hits by this many: objects of ever new keys at one depth then pay at most
 * about 64 misses (1.5k instructions), never a cost per key. */
#define PARSE_MEMO_CREDIT 64

/* The text of a key seen at member position i of an object at some depth,
 * as it stood in the text: '"', the key, '"', ':' with nothing between them,
 * no escape, every byte checked when it was first parsed. A later key whose
 * text starts with the same klen + 3 bytes is the same key: it is written
 * from the 16 bytes just loaded, without the string scan, its filter bit
 * taken from here; the duplicate filter is still tested (a hit goes to the
 * full path). */
typedef struct parse_memo {
    uint8_t text[16]; /* the text from the opening quote; bytes past the colon unused */
    uint64_t bit;     /* parse_key_bit of the key */
    uint32_t mask;    /* the bytes of text that must match: klen + 3 low bits */
    uint32_t klen;    /* the key's length, at most PARSE_MEMO_KEY_MAX */
} parse_memo;

/* One open container; frames[0] is the box that takes the top-level value. */
typedef struct parse_frame {
    size_t start;     /* offset of its region in the scratch buffer */
    size_t open;      /* offset of its bracket in the text */
    uint64_t keybits; /* objects: filter of the keys so far (parse_key_bit) */
    uint32_t count;   /* complete entries so far */
    uint8_t kind;     /* DOC_KIND_BOX / OBJECT / ARRAY */
    uint8_t parent;   /* node flags: NODE_PARENT once a container value was added;
                          NODE_PLAIN until a key or string held an escape */
    uint8_t row;      /* objects: its row of key memos */
} parse_frame;

typedef struct parser {
    const uint8_t *text;      /* the input */
    const uint8_t *end;       /* its end */
    uint8_t *buf;             /* the scratch buffer: the open containers' regions */
    size_t cap;               /* its size */
    uint8_t *lim;             /* buf + cap - PARSE_SLACK */
    parse_frame *frames;      /* open containers, frames[0] the box */
    uint32_t depth;           /* containers open (frames in use - 1) */
    uint32_t fcap;            /* frames allocated */
    uint32_t max_depth;       /* containers may nest this deep */
    doc_error *err;           /* where the first error goes */
    long long uncounted;      /* bytes of nodes made here not yet added to doc_mem_count */
    const uint8_t *memo_stop; /* a key memo is tried and made only before it: 16 bytes of
                                 text left, or the text's start once memos are off */
    long memo_credit;         /* PARSE_MEMO_CREDIT + hits - misses: at 0 memos are off */
    parse_frame local_frames[PARSE_FRAMES_LOCAL];      /* first frames */
    uint8_t local_buf[PARSE_LOCAL_BYTES];              /* first scratch bytes */
    uint8_t memo_n[PARSE_MEMO_ROWS];                   /* memos filled in each row (a prefix) */
    parse_memo memo[PARSE_MEMO_ROWS][PARSE_MEMO_KEYS]; /* key memos, row by depth */
} parser;

/* ------------------------------------------------------------------ */
/* Errors                                                             */
/* ------------------------------------------------------------------ */

static void parse_error(parser *ps, const uint8_t *at, const char *msg) {
    doc_error_at(ps->err, DOC_BADJSON, (size_t)(at - ps->text), "%s", msg);
}

/* Something other than what the grammar wants at `at`: the end of the
 * input, or a byte named in the message. */
static void parse_unexpected(parser *ps, const uint8_t *at) {
    size_t off = (size_t)(at - ps->text);
    if (at == ps->end)
        doc_error_at(ps->err, DOC_BADJSON, off, "unexpected end of input");
    else if (*at > 0x20 && *at < 0x7F)
        doc_error_at(ps->err, DOC_BADJSON, off, "unexpected character '%c'", *at);
    else
        doc_error_at(ps->err, DOC_BADJSON, off, "unexpected byte 0x%02x", *at);
}

/* Reports `msg` at `at`, or the end of the input when the text ended. */
static void parse_expected(parser *ps, const uint8_t *at, const char *msg) {
    if (at == ps->end)
        parse_error(ps, at, "unexpected end of input");
    else
        parse_error(ps, at, msg);
}

/* ------------------------------------------------------------------ */
/* The scratch buffer and the frames                                  */
/* ------------------------------------------------------------------ */

/* Makes room for `need` bytes after w, the slack kept. Returns the new
 * write position (the buffer may move), or NULL with NOMEM set and the
 * buffer as it was. */
static __attribute__((noinline)) uint8_t *parse_grow(parser *ps, uint8_t *w, size_t need) {
    size_t used = (size_t)(w - ps->buf);
    if (need > SIZE_MAX / 4 - used) {
        doc_error_set(ps->err, DOC_NOMEM, "out of memory");
        return NULL;
    }
    size_t want = used + need + PARSE_SLACK;
    size_t cap = ps->cap < PARSE_SCRATCH_MIN ? PARSE_SCRATCH_MIN : ps->cap * 2;
    while (cap < want) cap *= 2;
    uint8_t *m;
    if (ps->buf == ps->local_buf) {
        m = doc_malloc(cap);
        if (m) memcpy(m, ps->buf, used);
    } else {
        m = doc_realloc(ps->buf, cap);
    }
    if (!m) {
        doc_error_set(ps->err, DOC_NOMEM, "out of memory");
        return NULL;
    }
    ps->buf = m;
    ps->cap = cap;
    ps->lim = m + cap - PARSE_SLACK;
    return m + used;
}

/* Doubles the frame stack; 0, or -1 with NOMEM set. */
static __attribute__((noinline)) int parse_frames_grow(parser *ps) {
    uint32_t cap = ps->fcap * 2;
    parse_frame *m;
    if (ps->frames == ps->local_frames) {
        m = doc_malloc(cap * sizeof *m);
        if (m) memcpy(m, ps->frames, ps->fcap * sizeof *m);
    } else {
        m = doc_realloc(ps->frames, cap * sizeof *m);
    }
    if (!m) {
        doc_error_set(ps->err, DOC_NOMEM, "out of memory");
        return -1;
    }
    ps->frames = m;
    ps->fcap = cap;
    return 0;
}

/* Opens a container of `kind` whose bracket is at `at`, its region starting
 * at w. Returns the new frame or NULL (TOODEEP or NOMEM set). */
static inline __attribute__((always_inline)) parse_frame *parse_open(parser *ps, int kind, const uint8_t *at,
                                                                     const uint8_t *w) {
    if (__builtin_expect(ps->depth >= ps->max_depth, 0)) {
        doc_error_at(ps->err, DOC_TOODEEP, (size_t)(at - ps->text), "nesting deeper than max-depth %u",
                     ps->max_depth);
        return NULL;
    }
    if (__builtin_expect(ps->depth + 1 == ps->fcap, 0) && parse_frames_grow(ps) < 0) return NULL;
    parse_frame *f = &ps->frames[++ps->depth];
    f->start = (size_t)(w - ps->buf);
    f->open = (size_t)(at - ps->text);
    f->keybits = 0;
    f->count = 0;
    f->kind = (uint8_t)kind;
    f->parent = NODE_PLAIN;
    f->row = (uint8_t)(ps->depth <= PARSE_MEMO_ROWS ? ps->depth - 1 : PARSE_MEMO_ROWS - 1);
    return f;
}

/* Adds the memory of the nodes made so far that no one counted yet: before
 * any of them can be freed, and once at the end. */
static void parse_count_memory(parser *ps) {
    doc_mem_count(ps->uncounted);
    ps->uncounted = 0;
}

/* Closes the innermost container (its closing bracket at `at`, its region
 * ending at w): makes its node and puts the value pointing at it in the
 * parent's region. Returns the new write position, or NULL with the error
 * set (the region's children are then still owned by the region, or freed
 * and the region emptied: *w_fail says where the region now ends). */
static uint8_t *parse_close(parser *ps, uint8_t *w, const uint8_t *at, uint8_t **w_fail) {
    parse_frame *f = &ps->frames[ps->depth];
    uint8_t *start = ps->buf + f->start;
    size_t len = (size_t)(w - start);
    *w_fail = w;
    if (len > DOC_NODE_MAX_BYTES) {
        doc_error_at(ps->err, DOC_TOOBIG, (size_t)(at - ps->text), "container larger than 4 GB");
        return NULL;
    }
    uint32_t dup = UINT32_MAX;
    doc_node *n;
    if (__builtin_expect(f->count < DOC_INDEX_MIN, 1)) {
        /* No index, no duplicate check (done key by key): the node inline,
         * its memory counted once per parse (parse_count_memory). */
        n = node_make_small_uncounted(f->kind, start, (uint32_t)len, f->count, f->parent);
        if (n) ps->uncounted += (long long)node_small_size((uint32_t)len);
    } else {
        n = doc_node_make_known(f->kind, start, (uint32_t)len, f->count,
                                f->kind == DOC_KIND_OBJECT ? &dup : NULL, f->parent);
    }
    if (!n) {
        doc_error_set(ps->err, DOC_NOMEM, "out of memory");
        return NULL;
    }
    if (dup != UINT32_MAX) {
        parse_count_memory(ps);
        const char *k;
        size_t kl;
        doc_key_decode(doc_node_bytes(n) + dup, &k, &kl);
        doc_error_at(ps->err, DOC_BADJSON, (size_t)(at - ps->text),
                     "duplicate key \"%.*s\" in the object at byte %zu", (int)(kl > 40 ? 40 : kl), k,
                     f->open);
        doc_node_free(n); /* it adopted the region's children */
        *w_fail = start;
        return NULL;
    }
    ps->depth--;
    ps->frames[ps->depth].parent |= NODE_PARENT;
    ps->frames[ps->depth].count++;
    start[0] = f->kind == DOC_KIND_OBJECT ? DOC_TAG_OBJECT : DOC_TAG_ARRAY;
    value_set_child(start, n);
    return start + 1 + sizeof(doc_node *);
}

/* After an error: frees the nodes the open regions point to. w is where the
 * innermost region ends. An object's region may end with a key whose value
 * never came. */
static void parse_free_open(parser *ps, const uint8_t *w) {
    for (uint32_t k = 0; k <= ps->depth; k++) {
        const parse_frame *f = &ps->frames[k];
        const uint8_t *p = ps->buf + f->start;
        const uint8_t *stop = k < ps->depth ? ps->buf + ps->frames[k + 1].start : w;
        size_t whole = (size_t)(stop - p);
        if (f->kind == DOC_KIND_OBJECT) {
            size_t off = 0;
            whole = 0;
            while (p + off < stop) {
                const char *key;
                size_t kl;
                off += doc_key_decode(p + off, &key, &kl);
                if (p + off >= stop) break;
                off += node_value_size(p + off);
                whole = off;
            }
        }
        doc_bytes_free_children(p, (uint32_t)whole, f->kind);
    }
}

/* ------------------------------------------------------------------ */
/* Strings                                                            */
/* ------------------------------------------------------------------ */

/* Length of the well-formed UTF-8 sequence at s[0..n) (RFC 3629, table 3-7
 * of Unicode), or 0 when it is not one. s[0] >= 0x80. */
static size_t parse_utf8_seq(const unsigned char *s, size_t n) {
    unsigned char c0 = s[0];
    if (c0 >= 0xC2 && c0 <= 0xDF) return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c0 >= 0xE0 && c0 <= 0xEF) {
        if (n < 3 || (s[2] & 0xC0) != 0x80) return 0;
        unsigned char lo = c0 == 0xE0 ? 0xA0 : 0x80; /* no overlong */
        unsigned char hi = c0 == 0xED ? 0x9F : 0xBF; /* no surrogates */
        return s[1] >= lo && s[1] <= hi ? 3 : 0;
    }
    if (c0 >= 0xF0 && c0 <= 0xF4) {
        if (n < 4 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) return 0;
        unsigned char lo = c0 == 0xF0 ? 0x90 : 0x80; /* no overlong */
        unsigned char hi = c0 == 0xF4 ? 0x8F : 0xBF; /* <= U+10FFFF */
        return s[1] >= lo && s[1] <= hi ? 4 : 0;
    }
    return 0;
}

int doc_utf8_valid(const char *s, size_t len) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        while (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, u + i, sizeof w);
            if (w & 0x8080808080808080ull) break;
            i += 8;
        }
        while (i < len && u[i] < 0x80) i++;
        if (i == len) break;
        size_t k = parse_utf8_seq(u + i, len - i);
        if (!k) return 0;
        i += k;
    }
    return 1;
}

/* The high bit of the lowest byte of x that is '"', '\\', below 0x20 or
 * above 0x7F is set in the result; no lower byte's is. (A borrow can flag
 * bytes above a flagged one falsely; only the lowest flag is used.) The
 * usual "has a zero byte" trick, (v - 1) & ~v & 0x80, merged for three
 * byte values; with the non-ASCII test (x & 0x80) the ~x terms drop out. */
static inline uint64_t parse_special8(uint64_t x) {
    const uint64_t ones = 0x0101010101010101ull;
    return ((x - ones * 0x20) | ((x ^ ones * '"') - ones) | ((x ^ ones * '\\') - ones) | x) & (ones * 0x80);
}

/* Value + 1 of each hex digit, 0 for other bytes. */
static const uint8_t parse_hexval[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

/* The four hex digits at p, or -1 with the error set. */
static long parse_hex4(parser *ps, const uint8_t *p) {
    long v = 0;
    for (int j = 0; j < 4; j++) {
        if (p + j == ps->end) {
            parse_error(ps, p + j, "unexpected end of input");
            return -1;
        }
        int d = parse_hexval[p[j]];
        if (!d) {
            parse_error(ps, p + j, "invalid \\u escape in string");
            return -1;
        }
        v = v * 16 + d - 1;
    }
    return v;
}

/* Decodes the escape whose backslash is at p into *wp (at most 4 bytes).
 * Returns the byte after the escape, or NULL with the error set. */
static __attribute__((noinline)) const uint8_t *parse_escape(parser *ps, const uint8_t *p, uint8_t **wp) {
    uint8_t *w = *wp;
    if (ps->end - p < 2) {
        parse_error(ps, ps->end, "unexpected end of input");
        return NULL;
    }
    uint8_t c;
    switch (p[1]) {
    case '"': c = '"'; break;
    case '\\': c = '\\'; break;
    case '/': c = '/'; break;
    case 'b': c = '\b'; break;
    case 'f': c = '\f'; break;
    case 'n': c = '\n'; break;
    case 'r': c = '\r'; break;
    case 't': c = '\t'; break;
    case 'u': {
        long cp = parse_hex4(ps, p + 2);
        const uint8_t *next = p + 6;
        if (cp < 0) return NULL;
        if (cp >= 0xDC00 && cp <= 0xDFFF) {
            parse_error(ps, p, "lone surrogate escape");
            return NULL;
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            /* A high surrogate: the next escape must be a low one. */
            if (ps->end - next < 2 && (next == ps->end || *next == '\\')) {
                parse_error(ps, ps->end, "unexpected end of input");
                return NULL;
            }
            long lo = -1;
            if (next[0] == '\\' && next[1] == 'u') {
                lo = parse_hex4(ps, next + 2);
                if (lo < 0) return NULL;
            }
            if (lo < 0xDC00 || lo > 0xDFFF) {
                parse_error(ps, p, "lone surrogate escape");
                return NULL;
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            next += 6;
        }
        *wp = w + doc_utf8_encode((uint32_t)cp, (char *)w);
        return next;
    }
    default: parse_error(ps, p + 1, "invalid escape in string"); return NULL;
    }
    *w = c;
    *wp = w + 1;
    return p + 2;
}

/* The bytes of a string body that stop the bulk copy: '"', '\\', below 0x20
 * or above 0x7F. SSE2 (every x86-64) looks at 16 bytes per step: a signed
 * compare with 0x20 flags both the control bytes and the non-ASCII ones;
 * elsewhere parse_special8 looks at 8. PARSE_WORD is the step. */
#if defined(__SSE2__)
#define PARSE_WORD 16
/* Bit i set when byte i of the 16 at p stops the copy; also copies them to w. */
static inline unsigned parse_special_copy(const uint8_t *p, uint8_t *w) {
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    _mm_storeu_si128((__m128i *)(void *)w, x);
    __m128i m = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')), _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))),
        _mm_cmplt_epi8(x, _mm_set1_epi8(0x20)));
    return (unsigned)_mm_movemask_epi8(m);
}
static inline unsigned parse_first_special(unsigned m) { return (unsigned)__builtin_ctz(m); }
#else
#define PARSE_WORD 8
static inline uint64_t parse_special_copy(const uint8_t *p, uint8_t *w) {
    uint64_t x;
    memcpy(&x, p, 8);
    memcpy(w, &x, 8);
    return parse_special8(x);
}
static inline unsigned parse_first_special(uint64_t m) { return (unsigned)__builtin_ctzll(m) >> 3; }
#endif

/* Copies the body of the string whose opening quote is just before p to
 * *wp, decoding escapes and checking every byte. Returns the byte after the
 * closing quote, *wp then past the copy; NULL with the error set. end and
 * lim are ps->end and ps->lim, passed in registers. *hp is a
 * position in the scratch buffer before *wp (the string's header): when the
 * buffer grows, both move with it. The bulk copy writes up to PARSE_WORD
 * bytes past the string (the slack has room; they are overwritten later). */
static inline __attribute__((always_inline)) const uint8_t *
parse_string(parser *ps, const uint8_t *p, const uint8_t *end, uint8_t *lim, uint8_t **hp, uint8_t **wp) {
    uint8_t *w = *wp;
    for (;;) {
        if (__builtin_expect(w > lim, 0)) {
            size_t hoff = (size_t)(*hp - ps->buf);
            w = parse_grow(ps, w, 16);
            if (!w) return NULL;
            *hp = ps->buf + hoff;
            lim = ps->lim;
        }
        uint8_t c;
        if (__builtin_expect(end - p >= PARSE_WORD, 1)) {
            __typeof__(parse_special_copy(p, w)) m = parse_special_copy(p, w);
            if (!m) {
                p += PARSE_WORD;
                w += PARSE_WORD;
                continue;
            }
            unsigned k = parse_first_special(m);
            p += k;
            w += k;
            c = *p;
            if (__builtin_expect(c == '"', 1)) {
                *wp = w;
                return p + 1;
            }
        } else {
            if (p == end) {
                parse_error(ps, p, "unexpected end of input");
                return NULL;
            }
            c = *p;
            if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
                *w++ = c;
                p++;
                continue;
            }
            if (c == '"') {
                *wp = w;
                return p + 1;
            }
        }
        if (c == '\\') {
            /* Through a copy of w: its address taken, w itself would live in
             * memory for the whole loop. */
            uint8_t *we = w;
            ps->frames[ps->depth].parent &= (uint8_t)~NODE_PLAIN;
            p = parse_escape(ps, p, &we);
            if (!p) return NULL;
            w = we;
            continue;
        }
        if (c < 0x20) {
            parse_error(ps, p, "unescaped control character in string");
            return NULL;
        }
        size_t n = parse_utf8_seq(p, (size_t)(end - p));
        if (!n) {
            parse_error(ps, p, "invalid UTF-8");
            return NULL;
        }
        for (size_t j = 0; j < n; j++) w[j] = p[j];
        p += n;
        w += n;
    }
}

/* A string of n bytes was copied to h + 1 with one byte reserved at h for
 * its length: writes the varint there, moving the bytes when it needs more
 * than one (the slack has room). Returns the end of the string. */
static inline uint8_t *parse_put_length(uint8_t *h, size_t n) {
    if (__builtin_expect(n < 128, 1)) {
        *h = (uint8_t)n;
        return h + 1 + n;
    }
    uint8_t v[DOC_VARINT_MAX];
    size_t hl = doc_varint_put(v, n);
    memmove(h + hl, h + 1, n);
    memcpy(h, v, hl);
    return h + hl + n;
}

/* Bit of the key filter for a key (length, first and last byte). */
static inline uint64_t parse_key_bit(const uint8_t *s, size_t len) {
    unsigned h = len ? (unsigned)len * 4u + s[0] + ((unsigned)s[len - 1] << 1) : 0;
    return 1ull << (h & 63);
}

/* 1 when the 16 text bytes at p start with memo m's key (its klen + 3
 * bytes); the 16 bytes are copied to w either way. */
static inline int parse_memo_match(const parse_memo *m, const uint8_t *p, uint8_t *w) {
#if defined(__SSE2__)
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    _mm_storeu_si128((__m128i *)(void *)w, x);
    unsigned eq = (unsigned)_mm_movemask_epi8(
        _mm_cmpeq_epi8(x, _mm_loadu_si128((const __m128i *)(const void *)m->text)));
    return (eq & m->mask) == m->mask;
#else
    uint64_t x0, x1, t0, t1;
    memcpy(&x0, p, 8);
    memcpy(&x1, p + 8, 8);
    memcpy(w, &x0, 8);
    memcpy(w + 8, &x1, 8);
    memcpy(&t0, m->text, 8);
    memcpy(&t1, m->text + 8, 8);
    /* klen + 3 >= 3 bytes: the low word's mask, then the high word's. */
    unsigned nb = m->klen + 3;
    uint64_t k0 = nb >= 8 ? ~0ull : (1ull << (nb * 8)) - 1;
    uint64_t k1 = nb <= 8 ? 0 : (1ull << ((nb - 8) * 8)) - 1;
    return (((x0 ^ t0) & k0) | ((x1 ^ t1) & k1)) == 0;
#endif
}

/* 1 when the object entries at p[0..stop) have the key s[0..len). */
static __attribute__((noinline)) int parse_has_key(const uint8_t *p, const uint8_t *stop, const uint8_t *s,
                                                   size_t len) {
    while (p < stop) {
        const char *k;
        size_t kl;
        p += doc_key_decode(p, &k, &kl);
        if (kl == len && memcmp(k, s, len) == 0) return 1;
        p += node_value_size(p);
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* The grammar                                                        */
/* ------------------------------------------------------------------ */

static inline const uint8_t *parse_skip_space(const uint8_t *p, const uint8_t *end) {
    while (p < end && *p <= ' ' && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
    return p;
}

/* Powers of ten that are exact doubles, for the parser's own number fast
 * path (the one of doc_number_read: m / 10^f with m <= 2^53 is one IEEE
 * division of two exact doubles, so correctly rounded). */
static const double parse_pow10[20] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,
                                       1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19};

/* Integer digits the parser's fast path takes: 10^18 - 1 fits int64 with
 * room; longer integers go to doc_number_read. */
#define PARSE_FAST_INT_DIGITS 18
/* Significant digits of a fast-path decimal (the mantissa fits uint64). */
#define PARSE_FAST_DIGITS 19

/* Writes the number at p (its first byte, '-' or a digit) to *wp. The
 * common tokens (an integer of at most 18 digits, or digits '.' digits of
 * at most 19 in all with a mantissa <= 2^53, no exponent) are read here;
 * any other token, and every malformed one, goes to doc_number_read, which
 * reads it from the start again. Returns the byte after the token, or NULL
 * with the error set. */
static inline __attribute__((always_inline)) const uint8_t *parse_number(parser *ps, const uint8_t *p,
                                                                         uint8_t **wp) {
    const uint8_t *end = ps->end;
    int neg = *p == '-';
    const uint8_t *q = p + neg, *digits = q;
    unsigned d;
    if (__builtin_expect(q < end && (d = (unsigned)*q - '0') <= 9, 1)) {
        uint64_t m = d;
        q++;
        if (d)
            while (q < end && (d = (unsigned)*q - '0') <= 9) {
                m = m * 10 + d;
                q++;
            }
        size_t nint = (size_t)(q - digits);
        if (__builtin_expect(nint <= PARSE_FAST_INT_DIGITS, 1)) {
            if (q == end || (*q != '.' && (*q | 0x20) != 'e')) {
                uint8_t *w = *wp;
                /* doc_encode_int's encodings, the non-negative ones inline. */
                if (neg) {
                    w += doc_encode_int(w, -(int64_t)m);
                } else if (m < 128) {
                    *w++ = (uint8_t)(DOC_TAG_SMALLINT + m);
                } else if (m <= INT16_MAX) {
                    int16_t x = (int16_t)m;
                    w[0] = DOC_TAG_I16;
                    memcpy(w + 1, &x, 2);
                    w += 3;
                } else if (m <= INT32_MAX) {
                    int32_t x = (int32_t)m;
                    w[0] = DOC_TAG_I32;
                    memcpy(w + 1, &x, 4);
                    w += 5;
                } else {
                    w[0] = DOC_TAG_I64;
                    memcpy(w + 1, &m, 8);
                    w += 9;
                }
                *wp = w;
                return q;
            }
            if (*q == '.') {
                const uint8_t *frac = ++q;
                while (q < end && (d = (unsigned)*q - '0') <= 9) {
                    m = m * 10 + d; /* may wrap past 19 digits (unsigned): unused then */
                    q++;
                }
                size_t nfrac = (size_t)(q - frac);
                if (nfrac && nint + nfrac <= PARSE_FAST_DIGITS && m <= (1ull << 53) &&
                    (q == end || (*q | 0x20) != 'e')) {
                    double v = (double)m / parse_pow10[nfrac];
                    if (neg) v = -v;
                    uint8_t *w = *wp;
                    w[0] = DOC_TAG_DOUBLE;
                    memcpy(w + 1, &v, 8);
                    *wp = w + 9;
                    return q;
                }
            }
        }
    }
    const char *stop;
    int is_int;
    int64_t iv;
    double dv;
    doc_status st = doc_number_read((const char *)p, (const char *)end, &stop, &is_int, &iv, &dv);
    if (st) {
        if (st == DOC_OVERFLOW)
            parse_error(ps, p, "number out of range");
        else
            parse_expected(ps, (const uint8_t *)stop, "invalid number");
        return NULL;
    }
    uint8_t *w = *wp;
    if (is_int) {
        w += doc_encode_int(w, iv);
    } else {
        w[0] = DOC_TAG_DOUBLE;
        memcpy(w + 1, &dv, 8);
        w += 9;
    }
    *wp = w;
    return (const uint8_t *)stop;
}

/* Parses the whole text; returns the box or NULL (error set).
 *
 * One loop of labels: `value` reads a value (any white space first),
 * `after` what may follow a complete value, `key` an object member's key
 * and its colon. The kind of the innermost container is kept in `kind` and
 * the scratch limit in `lim`, so the common paths touch no parser field. */
static doc_node *parse_run(parser *ps) {
    const uint8_t *p = ps->text, *end = ps->end;
    uint8_t *w = ps->buf, *lim = ps->lim;
    parse_frame *f = &ps->frames[0];
    int kind = DOC_KIND_BOX;
    uint8_t c;

value:
    if (__builtin_expect(w > lim, 0)) {
        uint8_t *m = parse_grow(ps, w, 16);
        if (!m) goto fail;
        w = m;
        lim = ps->lim;
    }
    if (__builtin_expect(p == end, 0)) {
        parse_unexpected(ps, p);
        goto fail;
    }
    c = *p;
    if (c <= ' ') {
        p = parse_skip_space(p, end);
        if (p == end) {
            parse_unexpected(ps, p);
            goto fail;
        }
        c = *p;
    }
    /* Strings first: a switch would test them after other cases. */
    if (c == '"') goto string_value;
    switch (c) {
    case '"':
    string_value : {
        uint8_t *h = w;
        uint8_t *body = w + 2;
        const uint8_t *q = parse_string(ps, p + 1, end, lim, &h, &body);
        if (!q) {
            w = h;
            goto fail;
        }
        lim = ps->lim;
        h[0] = DOC_TAG_STRING;
        w = parse_put_length(h + 1, (size_t)(body - (h + 2)));
        p = q;
        break;
    }
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        p = parse_number(ps, p, &w);
        if (!p) goto fail;
        break;
    case '{':
        f = parse_open(ps, DOC_KIND_OBJECT, p, w);
        if (!f) goto fail;
        kind = DOC_KIND_OBJECT;
        p++;
        if (p < end && *p <= ' ') p = parse_skip_space(p, end);
        if (p < end && *p == '}') {
            p++;
            goto close;
        }
        goto key;
    case '[':
        f = parse_open(ps, DOC_KIND_ARRAY, p, w);
        if (!f) goto fail;
        kind = DOC_KIND_ARRAY;
        p++;
        if (p < end && *p <= ' ') p = parse_skip_space(p, end);
        if (p < end && *p == ']') {
            p++;
            goto close;
        }
        goto value;
    case 't':
        if (end - p < 4 || memcmp(p, "true", 4) != 0) goto bad_literal;
        *w++ = DOC_TAG_TRUE;
        p += 4;
        break;
    case 'f':
        if (end - p < 5 || memcmp(p, "false", 5) != 0) goto bad_literal;
        *w++ = DOC_TAG_FALSE;
        p += 5;
        break;
    case 'n':
        if (end - p < 4 || memcmp(p, "null", 4) != 0) goto bad_literal;
        *w++ = DOC_TAG_NULL;
        p += 4;
        break;
    default: parse_unexpected(ps, p); goto fail;
    }
    f->count++;

after:
    /* A value (or a container) is complete: what may follow it. */
    if (p < end && *p <= ' ') p = parse_skip_space(p, end);
    if (kind == DOC_KIND_OBJECT) {
        if (p < end && *p == ',') {
            p++;
            goto key;
        }
        if (p < end && *p == '}') {
            p++;
            goto close;
        }
        parse_expected(ps, p, "expected ',' or '}' in an object");
        goto fail;
    }
    if (kind == DOC_KIND_ARRAY) {
        if (p < end && *p == ',') {
            p++;
            goto value;
        }
        if (p < end && *p == ']') {
            p++;
            goto close;
        }
        parse_expected(ps, p, "expected ',' or ']' in an array");
        goto fail;
    }
    /* The box: only white space may follow. */
    if (p != end) {
        parse_error(ps, p, "unexpected data after the JSON value");
        goto fail;
    }
    if ((size_t)(w - ps->buf) > DOC_NODE_MAX_BYTES) {
        doc_error_at(ps->err, DOC_TOOBIG, 0, "value larger than 4 GB");
        goto fail;
    }
    {
        doc_node *box =
            doc_node_make_known(DOC_KIND_BOX, ps->buf, (uint32_t)(w - ps->buf), 1, NULL, f->parent);
        if (!box) {
            doc_error_set(ps->err, DOC_NOMEM, "out of memory");
            goto fail;
        }
        parse_count_memory(ps);
        return box;
    }

key:
    /* p is where a member's key must start (after white space). */
    if (p < end && *p <= ' ') p = parse_skip_space(p, end);
    if (p < ps->memo_stop && f->count < ps->memo_n[f->row] && w <= ps->lim) {
        /* The key of this position in the last object at this depth, and
         * its colon: written from the bytes parse_memo_match copied. */
        const parse_memo *m = &ps->memo[f->row][f->count];
        if (parse_memo_match(m, p, w) && !(f->keybits & m->bit)) {
            f->keybits |= m->bit;
            w[0] = (uint8_t)m->klen;
            w += m->klen + 1;
            p += m->klen + 3;
            ps->memo_credit++;
            goto value;
        }
        if (--ps->memo_credit <= 0) ps->memo_stop = ps->text; /* memos stop paying: off */
    }
    if (__builtin_expect(p == end || *p != '"', 0)) {
        parse_expected(ps, p, "object key must be a string");
        goto fail;
    }
    {
        /* parse_string makes room for the key (h moves with the buffer). */
        uint8_t *h = w;
        uint8_t *body = w + 1;
        const uint8_t *q = parse_string(ps, p + 1, end, lim, &h, &body);
        if (!q) {
            w = h;
            goto fail;
        }
        lim = ps->lim;
        size_t n = (size_t)(body - (h + 1));
        uint64_t bit = parse_key_bit(h + 1, n);
        if (__builtin_expect((f->keybits & bit) != 0, 0) && f->count < DOC_INDEX_MIN &&
            parse_has_key(ps->buf + f->start, h, h + 1, n)) {
            doc_error_at(ps->err, DOC_BADJSON, (size_t)(p - ps->text), "duplicate key \"%.*s\"",
                         (int)(n > 40 ? 40 : n), (const char *)(h + 1));
            w = h;
            goto fail;
        }
        f->keybits |= bit;
        w = parse_put_length(h, n);
        uint32_t i = f->count;
        if (p < ps->memo_stop && i < PARSE_MEMO_KEYS && i <= ps->memo_n[f->row] && n <= PARSE_MEMO_KEY_MAX &&
            (size_t)(q - p) == n + 2 && q < end && *q == ':') {
            /* No escape (the text is as long as the key) and the colon next:
             * remembered for the objects that follow at this depth. */
            parse_memo *m = &ps->memo[f->row][i];
            memcpy(m->text, p, 16);
            m->bit = bit;
            m->mask = (1u << (n + 3)) - 1;
            m->klen = (uint32_t)n;
            if (i == ps->memo_n[f->row]) ps->memo_n[f->row] = (uint8_t)(i + 1);
        }
        p = q;
    }
    if (__builtin_expect(p < end && *p == ':', 1)) {
        p++;
        goto value;
    }
    if (p < end && *p <= ' ') p = parse_skip_space(p, end);
    if (p == end || *p != ':') {
        parse_expected(ps, p, "expected ':' after an object key");
        goto fail;
    }
    p++;
    goto value;

close:
    /* p is just past the closing bracket of the innermost container. */
    {
        uint8_t *w_fail;
        uint8_t *m = parse_close(ps, w, p - 1, &w_fail);
        if (!m) {
            w = w_fail;
            goto fail;
        }
        w = m;
        f = &ps->frames[ps->depth];
        kind = f->kind;
    }
    goto after;

bad_literal:
    parse_error(ps, p, "invalid literal");
fail:
    parse_count_memory(ps);
    parse_free_open(ps, w);
    return NULL;
}

doc_node *doc_parse(const char *text, size_t len, uint32_t max_depth, doc_error *err) {
    doc_error local;
    if (!err) {
        doc_error_clear(&local);
        err = &local;
    }
    if (!text) text = "", len = 0;
    parser ps;
    ps.text = (const uint8_t *)text;
    ps.end = ps.text + len;
    ps.buf = ps.local_buf;
    ps.cap = sizeof ps.local_buf;
    ps.lim = ps.buf + ps.cap - PARSE_SLACK;
    ps.frames = ps.local_frames;
    ps.fcap = PARSE_FRAMES_LOCAL;
    ps.depth = 0;
    memset(ps.memo_n, 0, sizeof ps.memo_n);
    ps.max_depth = max_depth > DOC_DEPTH_LIMIT ? DOC_DEPTH_LIMIT : max_depth;
    ps.err = err;
    ps.uncounted = 0;
    ps.memo_stop = len >= 16 ? ps.end - 15 : ps.text;
    ps.memo_credit = PARSE_MEMO_CREDIT;
    parse_frame *box = &ps.frames[0];
    box->start = 0;
    box->open = 0;
    box->keybits = 0;
    box->count = 0;
    box->kind = DOC_KIND_BOX;
    box->parent = NODE_PLAIN;
    box->row = 0;

    doc_node *n = parse_run(&ps);
    if (ps.buf != ps.local_buf) doc_free(ps.buf);
    if (ps.frames != ps.local_frames) doc_free(ps.frames);
    return n;
}
