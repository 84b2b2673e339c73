/*
 * test_stage.c - doc_stage (edit.c): writes to many elements of one array
 * through a stand-in element and one flush equal the same writes made one
 * by one on the document (byte for byte), a rollback puts the array back
 * byte for byte, a commit and a rollback free exactly what they must (the
 * memory counter returns to its baseline), and out of memory at any
 * allocation leaves the document as it was.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "unit_doc.h"
#include "unit_alloc.h"

/* Values an element may become: scalars of every size, containers. */
static const char *const NEW[] = {"0",
                                  "1",
                                  "300",
                                  "-70000",
                                  "2.5",
                                  "\"\"",
                                  "\"abc\"",
                                  "true",
                                  "null",
                                  "[]",
                                  "{}",
                                  "[1,[2]]",
                                  "{\"a\":{\"b\":1}}",
                                  "\"a longer string than any element had\""};
#define NNEW (sizeof NEW / sizeof NEW[0])

/* One write at element i of $.x.l: -1 removes it, else NEW[w] replaces it. */
static doc_status write_at(doc_node **rootp, const doc_path *p, int w, doc_undo *u, doc_error *err) {
    doc_cursor c;
    doc_cursor_init(&c, rootp);
    doc_status st = doc_resolve_write(&c, p, u, err);
    doc_node *box = st || w < 0 ? NULL : doc_parse(NEW[w], strlen(NEW[w]), DOC_DEPTH_DEFAULT, err);
    if (!st && w >= 0 && !box) st = err->code; /* out of memory (the unit allocator) */
    if (!st) st = w < 0 ? doc_edit_remove(&c, u, err) : doc_edit_set_take(&c, box, u, err);
    doc_cursor_free(&c);
    return st;
}

/* The array $.x.l of `doc`, written at the chosen elements (last first) by a
 * stage and a flush; *u holds the edits. Returns the status. */
static doc_status staged(doc_node **rootp, const doc_path *parent, const int *idx, const int *what, size_t n,
                         doc_undo *u, doc_error *err) {
    doc_stage *s = doc_stage_new(3, u);
    if (!s) return doc_error_set(err, DOC_NOMEM, "out of memory");
    doc_node *sroot = *doc_stage_root(s);
    doc_cursor c;
    doc_cursor_init(&c, rootp);
    doc_status st = doc_resolve(&c, parent, err);
    for (size_t k = n; !st && k-- > 0;) {
        int loaded;
        st = doc_stage_load(s, &c, (uint32_t)idx[k], 1, &loaded, err);
        cr_assert(st || loaded);
        if (!st) st = write_at(&sroot, doc_stage_path(s), what[k], doc_stage_undo(s), err);
        if (st)
            doc_stage_drop(s);
        else
            st = doc_stage_keep(s, err);
    }
    if (!st) st = doc_stage_flush(s, &c, u, err);
    doc_cursor_free(&c);
    doc_stage_free(s);
    return st;
}

static const char *const DOCS[] = {
    "{\"x\":{\"l\":[1,2,3,4,5,6,7,8]}}",
    "{\"x\":{\"l\":[1,{\"a\":[1]},\"s\",[2,3],null,true,4.5,{\"b\":{}},\"long string here\",[]]}}",
    NULL, /* 100 mixed elements, made below */
};

Test(stage, many_element_writes_equal_one_by_one_and_roll_back_byte_for_byte) {
    char big[4096];
    size_t at = (size_t)snprintf(big, sizeof big, "{\"x\":{\"l\":[");
    for (int i = 0; i < 100; i++)
        at += (size_t)snprintf(big + at, sizeof big - at, "%s%s", i ? "," : "",
                               i % 7 == 3   ? "{\"k\":[1,2]}"
                               : i % 5 == 1 ? "\"str\""
                                            : "12");
    snprintf(big + at, sizeof big - at, "]}}");
    srand(7);
    long long baseline = doc_memory_in_use();
    for (int round = 0; round < 300; round++) {
        const char *text = DOCS[round % 3] ? DOCS[round % 3] : big;
        doc_node *a = parse_ok(text), *b = parse_ok(text);
        doc_view v;
        doc_value_decode(doc_box_value(a), &v);
        uint32_t count = (uint32_t)(strstr(text, "[1,2,3,4") ? 8 : strstr(text, "long string") ? 10 : 100);
        int idx[100], what[100];
        size_t n = 0;
        for (uint32_t i = 0; i < count; i++)
            if (rand() % 3) {
                idx[n] = (int)i;
                what[n++] = rand() % 4 == 0 ? -1 : rand() % (int)NNEW;
            }
        doc_undo *ua = doc_undo_new(), *ub = doc_undo_new();
        doc_error err;
        doc_error_clear(&err);
        doc_path *parent = path_ok("$.x.l");
        cr_assert_eq(staged(&a, parent, idx, what, n, ua, &err), DOC_OK, "%s", err.msg);
        doc_path_free(parent);
        for (size_t k = n; k-- > 0;) {
            char p[32];
            snprintf(p, sizeof p, "$.x.l[%d]", idx[k]);
            doc_path *path = path_ok(p);
            cr_assert_eq(write_at(&b, path, what[k], ub, &err), DOC_OK, "%s", err.msg);
            doc_path_free(path);
        }
        char *ta = box_text(a), *tb = box_text(b);
        cr_assert_str_eq(ta, tb, "round %d", round);
        free(ta);
        free(tb);
        if (round % 2) {
            doc_undo_rollback(ua);
            ta = box_text(a);
            cr_assert_str_eq(ta, text, "round %d: rollback", round);
            free(ta);
        }
        doc_undo_free(ua);
        doc_undo_free(ub);
        doc_node_free(a);
        doc_node_free(b);
    }
    cr_assert_eq(doc_memory_in_use(), baseline, "bytes leaked from the count: %lld",
                 doc_memory_in_use() - baseline);
}

Test(stage, out_of_memory_anywhere_leaves_the_array_as_it_was) {
    const char *text = DOCS[1];
    int idx[] = {0, 1, 2, 3, 5, 7, 8}, what[] = {12, -1, 13, 9, -1, 0, 6};
    size_t n = sizeof idx / sizeof idx[0];
    int ok = 0;
    doc_path *parent = path_ok("$.x.l");
    for (size_t k = 0; k < 400 && !ok; k++) {
        doc_node *a = parse_ok(text);
        doc_undo *u = doc_undo_new();
        doc_error err;
        doc_error_clear(&err);
        unit_alloc_fail_at(k);
        doc_status st = staged(&a, parent, idx, what, n, u, &err);
        unit_alloc_plain();
        cr_assert(st == DOC_OK || st == DOC_NOMEM, "allocation %zu: %s", k, err.msg);
        if (st) doc_undo_rollback(u);
        char *t = box_text(a);
        if (st) cr_assert_str_eq(t, text, "allocation %zu failed: the document is as it was", k);
        ok = st == DOC_OK;
        free(t);
        doc_undo_free(u);
        doc_node_free(a);
    }
    doc_path_free(parent);
    cr_assert(ok, "never got through without a failure");
}

Test(stage, siblings_are_elements_of_the_same_array) {
    doc_path *a = path_ok("$['l'][3]"), *b = path_ok("$['l'][0]"), *d = path_ok("$['m'][0]"),
             *e = path_ok("$['l'][3]['x']"), *f = path_ok("$['l']");
    cr_assert(doc_target_siblings(a, b));
    cr_assert(!doc_target_siblings(a, d));
    cr_assert(!doc_target_siblings(a, e));
    cr_assert(!doc_target_siblings(f, f));
    doc_path_free(a);
    doc_path_free(b);
    doc_path_free(d);
    doc_path_free(e);
    doc_path_free(f);
}
