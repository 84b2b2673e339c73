/*
 * merge.c - RFC 7396 JSON Merge Patch, applied through the edit layer.
 *
 * doc_edit_merge merges a patch into the value at a cursor (or into the
 * member the cursor is missing): a patch that is not an object replaces the
 * target; an object patch makes the target an object (replacing a non-object,
 * creating a missing one) and then removes the members whose patch value is
 * null (one by one, or in one rewrite of the object when the target has
 * MERGE_BULK_REMOVE or more of them) and merges every other member's patch value
 * into that member. Every edit goes through the undo log, so the caller can roll
 * a failed merge back; writes of the same JSON text make no edit.
 *
 * Recursion follows the patch's nesting, not the document's: the patch is a
 * parsed value, so its depth is bounded by the max-depth it was parsed with
 * (at most DOC_DEPTH_LIMIT).
 */
#include "doc.h"

static doc_status nomem(doc_error *err) { return doc_error_set(err, DOC_NOMEM, "out of memory"); }

/* A patch removing at least this many members the target has removes them
 * in one rewrite of the object (doc_edit_remove_members) instead of one
 * removal each, which moves the bytes after each member. */
#define MERGE_BULK_REMOVE 4

/* doc_edit_remove_members's predicate: the patch (an object node) has the
 * key with a null value. */
static int patch_nulls(void *ctx, const char *key, size_t klen, const uint8_t *val) {
    (void)val;
    const uint8_t *v = doc_object_get(ctx, key, klen, NULL, NULL);
    return v && *v == DOC_TAG_NULL;
}

static doc_status merge(doc_cursor *c, const uint8_t *patch, doc_undo *u, doc_error *err) {
    if (*patch != DOC_TAG_OBJECT) {
        doc_node *copy = doc_value_copy(patch);
        if (!copy) return nomem(err);
        return doc_edit_set_take(c, copy, u, err);
    }
    if (c->missing || *doc_cursor_value(c) != DOC_TAG_OBJECT) {
        doc_node *empty = doc_box_empty(DOC_OBJECT);
        if (!empty) return nomem(err);
        doc_status st = doc_edit_set_take(c, empty, u, err);
        if (st) return st;
    }
    size_t depth = c->depth;
    doc_view pv;
    doc_value_decode(patch, &pv);
    doc_iter it;
    const char *key;
    size_t klen;
    const uint8_t *pval;
    /* Members the patch removes that the target has, counted up to the bulk
     * threshold (a few lookups, not a scan of a large target). */
    doc_view tv;
    doc_value_decode(doc_cursor_value(c), &tv);
    size_t nulls = 0;
    doc_iter_init(&it, pv.node);
    while (nulls < MERGE_BULK_REMOVE && doc_iter_next(&it, &key, &klen, &pval, NULL))
        nulls += *pval == DOC_TAG_NULL && doc_object_get(tv.node, key, klen, NULL, NULL);
    int bulk = nulls >= MERGE_BULK_REMOVE;
    if (bulk) {
        doc_status st = doc_edit_remove_members(c, patch_nulls, pv.node, u, NULL, err);
        if (st) return st;
    }
    doc_iter_init(&it, pv.node);
    while (doc_iter_next(&it, &key, &klen, &pval, NULL)) {
        if (bulk && *pval == DOC_TAG_NULL) continue; /* removed above */
        doc_seg s = {DOC_SEG_NAME, key, klen, 0};
        doc_error probe;
        doc_error_clear(&probe);
        doc_status found = doc_cursor_down(c, &s, &probe);
        doc_status st = DOC_OK;
        if (*pval == DOC_TAG_NULL) {
            if (found == DOC_OK) st = doc_edit_remove(c, u, err);
        } else {
            st = merge(c, pval, u, err);
        }
        doc_cursor_up(c, depth);
        if (st) return st;
    }
    return DOC_OK;
}

doc_status doc_edit_merge(doc_cursor *c, const uint8_t *patch, doc_undo *u, doc_error *err) {
    if (u) return merge(c, patch, u, err);
    /* No log given: a private one makes the call all or nothing. */
    doc_undo *own = doc_undo_new();
    if (!own) return nomem(err);
    doc_status st = merge(c, patch, own, err);
    if (st) doc_undo_rollback(own);
    doc_undo_free(own);
    return st;
}
