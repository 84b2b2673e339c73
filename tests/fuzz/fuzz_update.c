/*
 * fuzz_update.c - libFuzzer target for doc_update_compile / doc_update_apply.
 *
 * Input: an update line, a newline, then the document's JSON text. The
 * update line is either an update document, or an array
 * [update, arrayFilters, is_insert] (the last two optional; is_insert is
 * true when it is `true`), so the fuzzer reaches $[id] and $setOnInsert.
 *
 * Checked, with a trap on any violation:
 *   - a failed compile returns NULL, an ERR / BADFILTER / TOODEEP / NOMEM
 *     status equal to the error's code, and a one-line message;
 *   - a failed apply has one of the statuses doc.h names for it, and after
 *     rolling the undo log back the document prints byte-identical;
 *   - a successful apply prints valid JSON, reports `changed` when the text
 *     changed and, but for doc_undo_changed_since's limit (an edit below
 *     an edited node), only then; it rolls back byte-identical too;
 *   - applying again and committing leaks and corrupts nothing (ASan).
 */
#include <stdint.h>
#include <string.h>

#include "doc.h"

/* Small, so TOODEEP paths and filters are reached too. */
#define FUZZ_MAX_DEPTH 64

#define CHECK(cond)                    \
    do {                               \
        if (!(cond)) __builtin_trap(); \
    } while (0)

static void print_to(const doc_node *box, doc_buf *out) {
    doc_buf_init(out);
    doc_print(doc_box_value(box), out);
    CHECK(!out->oom);
}

static int same(const doc_buf *a, const doc_buf *b) {
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static int one_line(const doc_error *err) { return err->msg[0] != '\0' && strchr(err->msg, '\n') == NULL; }

static void run(const uint8_t *update, const uint8_t *filters, int is_insert, const char *doc_text,
                size_t doc_len) {
    doc_error err;
    doc_error_clear(&err);
    doc_update *u = (doc_update *)&u; /* must become NULL on failure */
    doc_status st = doc_update_compile(update, filters, FUZZ_MAX_DEPTH, &u, &err);
    if (st) {
        CHECK(u == NULL && err.code == st && one_line(&err));
        CHECK(st == DOC_ERR || st == DOC_BADFILTER || st == DOC_TOODEEP || st == DOC_NOMEM);
        return;
    }
    doc_node *doc = doc_parse(doc_text, doc_len, FUZZ_MAX_DEPTH, &err);
    if (!doc) {
        doc_update_free(u);
        return;
    }
    doc_buf before, after;
    print_to(doc, &before);
    doc_undo *undo = doc_undo_new();
    CHECK(undo);
    /* Edits may nest no deeper than the parser does, so TOODEEP from the
     * edit layer is reachable with 64-deep inputs. */
    static const doc_limits limits = {FUZZ_MAX_DEPTH, NULL};
    doc_undo_set_limits(undo, &limits);
    int changed = -1;
    doc_error_clear(&err);
    st = doc_update_apply(u, &doc, is_insert, undo, &changed, &err);
    if (st) {
        CHECK(err.code == st && one_line(&err) && changed == 0);
        CHECK(st == DOC_ERR || st == DOC_BADTYPE || st == DOC_OVERFLOW || st == DOC_NOPATH ||
              st == DOC_TOOBIG || st == DOC_TOODEEP || st == DOC_NOMEM);
    } else {
        doc_buf mid;
        print_to(doc, &mid);
        doc_error perr;
        doc_error_clear(&perr);
        doc_node *again = doc_parse(mid.data, mid.len, DOC_DEPTH_LIMIT, &perr);
        CHECK(again != NULL);
        doc_node_free(again);
        /* A net change is always reported; operators that cancel out
         * (`$[]` then one index of the same array) report none, except when
         * an edited node's ancestor was edited too (doc_undo_changed_since's
         * documented limit), which reports one. */
        CHECK(changed == 1 || same(&mid, &before));
        CHECK(changed == 0 || changed == 1);
        doc_buf_free(&mid);
    }
    doc_undo_rollback(undo);
    print_to(doc, &after);
    CHECK(same(&before, &after));
    doc_buf_free(&after);

    /* Once more, made permanent this time. */
    doc_error_clear(&err);
    st = doc_update_apply(u, &doc, is_insert, undo, &changed, &err);
    if (st)
        doc_undo_rollback(undo);
    else
        doc_undo_commit(undo);
    doc_undo_free(undo);
    doc_buf_free(&before);
    doc_node_free(doc);
    doc_update_free(u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *nl = memchr(data, '\n', size);
    if (!nl) return 0;
    size_t ulen = (size_t)(nl - data);
    doc_error err;
    doc_error_clear(&err);
    doc_node *ubox = doc_parse((const char *)data, ulen, FUZZ_MAX_DEPTH, &err);
    if (!ubox) return 0;
    const uint8_t *update = doc_box_value(ubox), *filters = NULL;
    int is_insert = 0;
    doc_view v;
    doc_value_decode(update, &v);
    if (v.type == DOC_ARRAY) {
        uint32_t n = doc_node_count(v.node);
        if (n == 0 || n > 3) {
            doc_node_free(ubox);
            return 0;
        }
        update = doc_array_get(v.node, 0, NULL);
        if (n >= 2) filters = doc_array_get(v.node, 1, NULL);
        if (n == 3) is_insert = *doc_array_get(v.node, 2, NULL) == DOC_TAG_TRUE;
        if (filters && *filters == DOC_TAG_NULL) filters = NULL;
    }
    run(update, filters, is_insert, (const char *)nl + 1, size - ulen - 1);
    doc_node_free(ubox);
    return 0;
}
