/*
 * fuzz_undo.c - libFuzzer target for the undo log (edit.c): any sequence of
 * edits made through one doc_undo, rolled back, gives back the document byte
 * for byte.
 *
 * The input is a small program. Each op is an opcode byte, a path, and its
 * operands, all read from the input bytes (a short input simply ends the
 * program):
 *
 *   set        doc_resolve_write + doc_edit_set_take of a value from a table
 *   scalar     doc_resolve_write + doc_edit_set_encoded of a number/bool/null
 *   insert     doc_edit_insert_take at an index (one past the end: NOPATH)
 *   remove     doc_edit_remove
 *   range      doc_edit_remove_range (from, count; may be out of bounds)
 *   many       doc_edit_insert_many_take of 0..35 values
 *   resolve    doc_resolve_write alone (it creates missing parents)
 *   down       doc_resolve_write, doc_cursor_down one more segment, then
 *              doc_edit_set_take there (a missing member is appended), as
 *              the update engine walks
 *   mark       doc_undo_mark, remembering the document text at that point
 *   where      doc_edit_remove_where with a predicate from the input (the
 *              elements whose JSON type is in a type mask)
 *
 * Any op may also run with allocation failure armed: the allocator hook
 * fails after the next k allocations (k from the input) during the resolve
 * or the edit, so the out-of-memory paths must keep the same promises.
 * Edits may nest at most FUZZ_EDIT_DEPTH deep, so TOODEEP is reached too.
 *
 * Paths are built from names that the seed document uses at several levels
 * and from indexes around its arrays' sizes (negative ones too), so programs
 * go deep, create parents, cross the DOC_INDEX_MIN boundary of indexed nodes
 * both ways, and hit every error path. Every edit runs on a fixed seed
 * document parsed afresh per input.
 *
 * Properties checked (any violation traps):
 *   - a resolve or an edit that fails (any code, NOMEM included) logs
 *     nothing and leaves the document as it was; doc_edit_remove_where,
 *     which may fail part-way (doc.h), leaves it as it was once the log is
 *     rolled back to the mark before it, and when it succeeds no element
 *     it matches is left and *removed is what the array lost;
 *   - doc_undo_rollback_to(mark) gives back the text printed at the mark;
 *   - doc_undo_rollback then gives back the seed's text, with an empty log;
 *   - replaying the program on a fresh copy of the seed reaches the same
 *     text as the first run, and doc_undo_commit keeps it (ASan/LSan then
 *     check that commit and rollback free exactly what they must).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"

#define CHECK(cond)                    \
    do {                               \
        if (!(cond)) __builtin_trap(); \
    } while (0)

/* Ops per input: enough for long interleavings, few enough to stay fast. */
#define MAX_OPS 48
/* Segments per path: the seed nests 4 deep; one more reaches missing parents. */
#define MAX_SEGS 5
/* Past this many bytes of document text, the program stops: each op prints
 * the document once, so this bounds an input's cost. */
#define MAX_TEXT 16384

/* Deepest nesting edits may create: the seed nests 5 deep and the table's
 * values up to 4, so a deep set crosses it. */
#define FUZZ_EDIT_DEPTH 8

/* Allocations left before the hook fails them all; -1: never fail. Armed
 * only around one resolve or one edit at a time. */
static long fail_after = -1;

static void *fuzz_alloc(size_t n) {
    if (fail_after == 0) return NULL;
    if (fail_after > 0) fail_after--;
    return malloc(n);
}

static void *fuzz_realloc(void *p, size_t n) {
    if (fail_after == 0) return NULL;
    if (fail_after > 0) fail_after--;
    return realloc(p, n);
}

static void fuzz_free(void *p) { free(p); }

static const doc_allocator fuzz_allocator = {fuzz_alloc, fuzz_realloc, fuzz_free, NULL};

/* Member names: the seed's own (at several levels) and a few it lacks. */
static const char *const names[] = {"a",   "b",  "c",  "d",   "e",   "f",   "g",       "x",
                                    "new", "k0", "k7", "k31", "k32", "k40", "\xc3\xa9"};
#define NNAMES (sizeof names / sizeof names[0])

/* Values for set / insert: every encoding width, strings, nesting, and
 * containers at and around DOC_INDEX_MIN children. Filled by seed_init. */
static const char *const small_values[] = {
    "0",
    "-1",
    "127",
    "128",
    "-129",
    "32767",
    "32768",
    "-2147483649",
    "9223372036854775807",
    "-9223372036854775808",
    "1.5",
    "-0.0",
    "1e300",
    "\"\"",
    "\"s\"",
    "\"\\u0000\\u00e9\"",
    "true",
    "false",
    "null",
    "[]",
    "{}",
    "[1,[2,[3,[4]]]]",
    "{\"a\":{\"b\":[1,2,{\"c\":null}]}}",
};
#define NSMALL (sizeof small_values / sizeof small_values[0])
#define NVALUES (NSMALL + 3)

static char seed_text[4096];  /* the document every input starts from */
static char long_string[300]; /* a string needing a 2-byte length */
static char arr31[256];       /* 31 elements: one insert makes it indexed */
static char obj33[512];       /* 33 members: indexed; two removals unindex it */
static const char *values[NVALUES];

static void seed_init(void) {
    if (seed_text[0]) return;
    doc_alloc_set(&fuzz_allocator);
    size_t n = 0;
    long_string[n++] = '"';
    while (n < sizeof long_string - 2) {
        long_string[n] = (char)('a' + n % 26);
        n++;
    }
    long_string[n++] = '"';
    long_string[n] = '\0';

    n = (size_t)snprintf(arr31, sizeof arr31, "[");
    for (int i = 0; i < 31; i++)
        n += (size_t)snprintf(arr31 + n, sizeof arr31 - n, "%s%d", i ? "," : "", i * 37);
    snprintf(arr31 + n, sizeof arr31 - n, "]");

    n = (size_t)snprintf(obj33, sizeof obj33, "{");
    for (int i = 0; i < 33; i++)
        n += (size_t)snprintf(obj33 + n, sizeof obj33 - n, "%s\"k%d\":%d", i ? "," : "", i, i);
    snprintf(obj33 + n, sizeof obj33 - n, "}");

    for (size_t i = 0; i < NSMALL; i++) values[i] = small_values[i];
    values[NSMALL] = long_string;
    values[NSMALL + 1] = arr31;
    values[NSMALL + 2] = obj33;

    snprintf(seed_text, sizeof seed_text,
             "{\"a\":{\"a\":[1,{\"b\":2,\"a\":[[]]},[3]],\"b\":\"str\",\"c\":{\"a\":{\"b\":{}}}},"
             "\"b\":%s,\"c\":%s,\"d\":null,\"e\":1.5,\"f\":true,"
             "\"g\":[[],{},[{\"a\":1}],\"x\",{\"x\":{\"x\":[0]}}],\"x\":%s}",
             arr31, obj33, long_string);
}

/* The program's bytes; reading past the end gives 0. */
typedef struct input {
    const uint8_t *p; /* next byte */
    size_t n;         /* bytes left */
} input;

static unsigned take(input *in) {
    if (!in->n) return 0;
    in->n--;
    return *in->p++;
}

/* A path from the input: $ then up to MAX_SEGS names or indexes. */
static doc_path *take_path(input *in) {
    char text[256];
    size_t len = 1;
    text[0] = '$';
    unsigned nseg = take(in) % (MAX_SEGS + 1);
    for (unsigned k = 0; k < nseg; k++) {
        unsigned b = take(in);
        if (b & 1)
            len += (size_t)snprintf(text + len, sizeof text - len, "[%d]", (int)(b >> 1) % 40 - 4);
        else
            len += (size_t)snprintf(text + len, sizeof text - len, "[\"%s\"]", names[(b >> 1) % NNAMES]);
    }
    doc_path *p = NULL;
    doc_error err;
    doc_error_clear(&err);
    CHECK(doc_path_compile(text, len, 64, &p, &err) == DOC_OK);
    return p;
}

static doc_node *take_value(input *in) {
    const char *t = values[take(in) % NVALUES];
    doc_error err;
    doc_error_clear(&err);
    doc_node *box = doc_parse(t, strlen(t), DOC_DEPTH_DEFAULT, &err);
    CHECK(box != NULL);
    return box;
}

/* Elements of the array at the cursor, or 0 when it is not at an array. */
static uint32_t array_count(const doc_cursor *c) {
    const uint8_t *v = doc_cursor_value(c);
    if (!v || *v != DOC_TAG_ARRAY) return 0;
    doc_view view;
    doc_value_decode(v, &view);
    return doc_node_count(view.node);
}

/* The document's text, into b (reset first). */
static void print_doc(doc_node *root, doc_buf *b) {
    b->len = 0;
    doc_print(doc_box_value(root), b);
    CHECK(!b->oom);
}

static int same_text(const doc_buf *a, const doc_buf *b) {
    return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

/* One scalar encoding from the input: a number of some width, or a literal. */
static size_t take_scalar(input *in, uint8_t *enc) {
    unsigned kind = take(in) % 5;
    if (kind == 3) {
        enc[0] = (uint8_t)(DOC_TAG_NULL + take(in) % 3); /* null, false, true */
        return 1;
    }
    uint64_t bits = 0;
    unsigned width = kind == 0 ? 1 : kind == 1 ? 2 : kind == 2 ? 4 : 8;
    for (unsigned i = 0; i < width; i++) bits |= (uint64_t)take(in) << (8 * i);
    doc_view v;
    memset(&v, 0, sizeof v);
    if (kind == 4) {
        double d;
        memcpy(&d, &bits, sizeof d);
        v.type = DOC_DOUBLE;
        v.d = isfinite(d) ? d : 0.25;
    } else {
        v.type = DOC_INT;
        v.i = width == 8   ? (int64_t)bits
              : width == 4 ? (int32_t)bits
              : width == 2 ? (int16_t)bits
                           : (int8_t)bits;
    }
    return doc_encode_number(enc, &v);
}

enum {
    OP_SET,
    OP_SCALAR,
    OP_INSERT,
    OP_REMOVE,
    OP_RANGE,
    OP_MANY,
    OP_RESOLVE,
    OP_DOWN,
    OP_MARK,
    OP_WHERE,
    OP_COUNT
};

/* OP_WHERE's predicate: the element's JSON type is in the mask (bit doc_type). */
static int type_in_mask(void *ctx, const uint8_t *el) {
    doc_view v;
    doc_value_decode(el, &v);
    return (*(const unsigned *)ctx >> v.type) & 1;
}

/* One more path segment from the input, for doc_cursor_down. */
static doc_seg take_seg(input *in) {
    doc_seg s;
    unsigned b = take(in);
    memset(&s, 0, sizeof s);
    if (b & 1) {
        s.kind = DOC_SEG_INDEX;
        s.index = (int)(b >> 1) % 40 - 4;
    } else {
        s.kind = DOC_SEG_NAME;
        s.name = names[(b >> 1) % NNAMES];
        s.len = strlen(s.name);
    }
    return s;
}

/* From the input: whether to fail allocations in the next step, and after
 * how many; -1 for no. */
static long take_failure(input *in) {
    unsigned b = take(in);
    return b % 4 == 0 ? (long)(b >> 2) % 8 : -1;
}

/* Runs the program on *rootp through u. Records the text at the first mark in
 * at_mark (and the mark in *mark; SIZE_MAX when none). */
static void run(const uint8_t *data, size_t size, doc_node **rootp, doc_undo *u, doc_buf *at_mark,
                size_t *mark) {
    input in = {data, size};
    doc_buf before;
    doc_buf_init(&before);
    *mark = SIZE_MAX;
    for (int op = 0; op < MAX_OPS && in.n; op++) {
        unsigned code = take(&in) % OP_COUNT;
        if (code == OP_MARK) {
            if (*mark == SIZE_MAX) {
                *mark = doc_undo_mark(u);
                print_doc(*rootp, at_mark);
            }
            continue;
        }
        doc_path *p = take_path(&in);
        doc_cursor c;
        doc_cursor_init(&c, rootp);
        doc_error err;
        doc_error_clear(&err);
        long fail_resolve = take_failure(&in), fail_edit = take_failure(&in);
        size_t logged = doc_undo_size(u);
        print_doc(*rootp, &before);
        if (before.len > MAX_TEXT) {
            doc_path_free(p);
            break;
        }
        fail_after = fail_resolve;
        doc_status st = doc_resolve_write(&c, p, u, &err);
        fail_after = -1;
        if (st) {
            /* a failed resolve undoes the parents it created */
            CHECK(doc_undo_size(u) == logged);
            doc_buf now;
            doc_buf_init(&now);
            print_doc(*rootp, &now);
            CHECK(same_text(&now, &before));
            doc_buf_free(&now);
        } else if (code != OP_RESOLVE) {
            /* the edit alone must be all or nothing: compare from here */
            logged = doc_undo_size(u);
            print_doc(*rootp, &before);
            uint32_t count = array_count(&c);
            doc_error_clear(&err);
            doc_seg down = code == OP_DOWN ? take_seg(&in) : (doc_seg){0};
            /* values are parsed before arming: only the edit may fail */
            doc_node *value = code == OP_SET || code == OP_INSERT || code == OP_DOWN ? take_value(&in) : NULL;
            fail_after = fail_edit;
            switch (code) {
            case OP_SET: st = doc_edit_set_take(&c, value, u, &err); break;
            case OP_DOWN:
                /* A step that fails (BADTYPE, NOPATH on an array, NOMEM)
                 * changes nothing: then the "failed" checks below apply.
                 * A missing member of an object is where the value goes. */
                st = doc_cursor_down(&c, &down, &err);
                CHECK(doc_undo_size(u) == logged);
                if (st == DOC_OK || (st == DOC_NOPATH && c.missing)) {
                    doc_error_clear(&err);
                    st = doc_edit_set_take(&c, value, u, &err);
                } else {
                    doc_node_free(value);
                }
                break;
            case OP_SCALAR: {
                uint8_t enc[16];
                size_t len = take_scalar(&in, enc);
                st = doc_edit_set_encoded(&c, enc, len, u, &err);
                break;
            }
            case OP_INSERT: st = doc_edit_insert_take(&c, take(&in) % (count + 2), value, u, &err); break;
            case OP_REMOVE: st = doc_edit_remove(&c, u, &err); break;
            case OP_RANGE: {
                uint32_t from = take(&in) % (count + 2);
                st = doc_edit_remove_range(&c, from, take(&in) % (count + 2), u, &err);
                break;
            }
            case OP_WHERE: {
                unsigned mask = take(&in);
                uint32_t removed = 0;
                st = doc_edit_remove_where(&c, type_in_mask, &mask, u, &removed, &err);
                fail_after = -1;
                if (st == DOC_OK) {
                    CHECK(array_count(&c) + removed == count);
                    doc_view arr;
                    doc_iter it;
                    const uint8_t *el;
                    doc_value_decode(doc_cursor_value(&c), &arr);
                    doc_iter_init(&it, arr.node);
                    while (doc_iter_next(&it, NULL, NULL, &el, NULL)) CHECK(!type_in_mask(&mask, el));
                } else {
                    /* part-way: the caller's rollback to its mark restores it */
                    CHECK(st == DOC_BADTYPE || st == DOC_NOMEM);
                    doc_undo_rollback_to(u, logged);
                }
                break;
            }
            case OP_MANY: {
                doc_node *boxes[36];
                size_t n = take(&in) % 36;
                uint32_t at = take(&in) % (count + 2);
                fail_after = -1;
                for (size_t i = 0; i < n; i++) boxes[i] = take_value(&in);
                fail_after = fail_edit;
                st = doc_edit_insert_many_take(&c, at, boxes, n, u, &err);
                for (size_t i = 0; i < n; i++) CHECK(boxes[i] == NULL); /* all consumed */
                break;
            }
            }
            fail_after = -1;
            if (st) {
                CHECK(err.code == st && err.msg[0] != '\0');
                CHECK(doc_undo_size(u) == logged);
                doc_buf now;
                doc_buf_init(&now);
                print_doc(*rootp, &now);
                CHECK(same_text(&now, &before));
                doc_buf_free(&now);
            }
        }
        doc_cursor_free(&c);
        doc_path_free(p);
    }
    doc_buf_free(&before);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    seed_init();
    doc_error err;
    doc_error_clear(&err);
    doc_node *root = doc_parse(seed_text, strlen(seed_text), DOC_DEPTH_DEFAULT, &err);
    CHECK(root != NULL);
    doc_buf original, at_mark, final, now;
    doc_buf_init(&original);
    doc_buf_init(&at_mark);
    doc_buf_init(&final);
    doc_buf_init(&now);
    print_doc(root, &original);
    static const doc_limits limits = {FUZZ_EDIT_DEPTH, NULL};
    doc_undo *u = doc_undo_new();
    CHECK(u != NULL);
    doc_undo_set_limits(u, &limits);

    size_t mark;
    run(data, size, &root, u, &at_mark, &mark);
    print_doc(root, &final);
    if (mark != SIZE_MAX) {
        doc_undo_rollback_to(u, mark);
        CHECK(doc_undo_size(u) == mark);
        print_doc(root, &now);
        CHECK(same_text(&now, &at_mark));
    }
    doc_undo_rollback(u);
    CHECK(doc_undo_size(u) == 0);
    print_doc(root, &now);
    CHECK(same_text(&now, &original));

    doc_undo_free(u);
    doc_node_free(root);

    /* The same program again, on a fresh copy of the seed and a fresh log (so
     * the armed allocation failures hit the same allocations), then committed. */
    root = doc_parse(seed_text, strlen(seed_text), DOC_DEPTH_DEFAULT, &err);
    CHECK(root != NULL);
    u = doc_undo_new();
    CHECK(u != NULL);
    doc_undo_set_limits(u, &limits);
    run(data, size, &root, u, &at_mark, &mark);
    print_doc(root, &now);
    CHECK(same_text(&now, &final));
    doc_undo_commit(u);
    CHECK(doc_undo_size(u) == 0);
    print_doc(root, &now);
    CHECK(same_text(&now, &final));
    doc_undo_free(u);
    doc_node_free(root);
    doc_buf_free(&original);
    doc_buf_free(&at_mark);
    doc_buf_free(&final);
    doc_buf_free(&now);
    return 0;
}
