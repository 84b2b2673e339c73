/*
 * test_reap.c - committed garbage handed to a reaper (doc_undo_set_reaper)
 * instead of freed at commit, and the free-effort estimate that decides
 * where the module frees it (module/lazyfree.c).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "unit_doc.h"

/* What the reaper was given: trees, then end marks (NULL). */
typedef struct reaped {
    doc_node *trees[8];
    int ntrees;
    int ends;
} reaped;

static void reap_into(doc_node *n, void *arg) {
    reaped *r = arg;
    if (!n) {
        r->ends++;
        return;
    }
    cr_assert_lt(r->ntrees, 8);
    r->trees[r->ntrees++] = n;
}

static void edit_at(doc_node **root, const char *path, const char *json, doc_undo *u) {
    doc_error err;
    doc_error_clear(&err);
    doc_path *p = NULL;
    cr_assert_eq(doc_path_compile(path, strlen(path), 128, &p, &err), DOC_OK);
    doc_cursor c;
    doc_cursor_init(&c, root);
    if (json) {
        cr_assert_eq(doc_resolve_write(&c, p, u, &err), DOC_OK, "%s", err.msg);
        cr_assert_eq(doc_edit_set_take(&c, parse_ok(json), u, &err), DOC_OK, "%s", err.msg);
    } else {
        cr_assert_eq(doc_resolve(&c, p, &err), DOC_OK, "%s", err.msg);
        cr_assert_eq(doc_edit_remove(&c, u, &err), DOC_OK, "%s", err.msg);
    }
    doc_cursor_free(&c);
    doc_path_free(p);
}

Test(reap, commit_hands_each_detached_tree_to_the_reaper_then_one_end_mark) {
    long long before = doc_memory_in_use();
    doc_node *root = parse_ok("{\"a\":{\"x\":[1,2,{\"y\":3}]},\"b\":[[1],[2]],\"c\":1}");
    doc_undo *u = doc_undo_new();
    reaped r = {{0}, 0, 0};
    doc_undo_set_reaper(u, reap_into, &r);
    edit_at(&root, "$.a", "{\"new\":true}", u);
    edit_at(&root, "$.b", NULL, u);
    edit_at(&root, "$.c", "2", u); /* a scalar: nothing to reap */
    cr_assert_eq(r.ntrees, 0, "nothing is reaped before commit");
    doc_undo_commit(u);
    cr_assert_eq(r.ntrees, 2);
    cr_assert_eq(r.ends, 1);
    /* The live tree no longer reaches the garbage: freeing it first and
     * reading the document after is clean under ASan. */
    for (int i = 0; i < r.ntrees; i++) doc_node_free(r.trees[i]);
    char *s = box_text(root);
    cr_assert_str_eq(s, "{\"a\":{\"new\":true},\"c\":2}");
    free(s);
    doc_undo_commit(u); /* an empty log: no end mark */
    cr_assert_eq(r.ends, 1);
    doc_undo_free(u);
    doc_node_free(root);
    cr_assert_eq(doc_memory_in_use(), before, "every node freed once");
}

Test(reap, rollback_never_calls_the_reaper) {
    long long before = doc_memory_in_use();
    doc_node *root = parse_ok("{\"a\":{\"x\":[1,2,3]},\"b\":[[1],[2]]}");
    doc_undo *u = doc_undo_new();
    reaped r = {{0}, 0, 0};
    doc_undo_set_reaper(u, reap_into, &r);
    edit_at(&root, "$.a", "{\"attached\":[1]}", u);
    edit_at(&root, "$.b", NULL, u);
    doc_undo_rollback(u);
    cr_assert_eq(r.ntrees, 0);
    cr_assert_eq(r.ends, 0);
    char *s = box_text(root);
    cr_assert_str_eq(s, "{\"a\":{\"x\":[1,2,3]},\"b\":[[1],[2]]}");
    free(s);
    doc_undo_free(u);
    doc_node_free(root);
    cr_assert_eq(doc_memory_in_use(), before);
}

static doc_node *value_tree(doc_node *box) {
    /* The container a box holds: what a reaper would be given. */
    doc_view v;
    doc_value_decode(doc_box_value(box), &v);
    return v.node;
}

Test(reap, free_effort_counts_allocations_not_scalars_and_stops_at_the_limit) {
    /* 10,000 numbers in one array: one node and its index, and no scan
     * (a leaf container), whatever its length. */
    doc_buf t;
    doc_node *flat = parse_ok(array_text(&t, 10000, "%d"));
    cr_assert_leq(doc_node_free_effort(value_tree(flat), 64), 3);
    doc_node_free(flat);
    doc_buf_free(&t);

    /* 1,000 small objects: 1,001 nodes, capped at the limit asked. */
    doc_node *objs = parse_ok(array_text(&t, 1000, "{\"i\":%d}"));
    cr_assert_eq(doc_node_free_effort(value_tree(objs), 64), 64);
    cr_assert_eq(doc_node_free_effort(value_tree(objs), 5), 5);
    cr_assert_gt(doc_node_free_effort(value_tree(objs), 100000), 1000);
    doc_node_free(objs);
    doc_buf_free(&t);

    doc_node *small = parse_ok("{\"a\":{\"b\":{}},\"c\":[1]}");
    size_t e = doc_node_free_effort(value_tree(small), 64);
    cr_assert(e >= 4 && e < 8, "4 nodes: effort %zu", e);
    doc_node_free(small);
}
