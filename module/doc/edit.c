/*
 * edit.c - paths resolved to cursors, and every write to a document tree.
 *
 * All writes go through apply(): it splices one node's packed bytes and, in
 * the undo log, records the inverse: where the node is (the value offsets
 * leading to it from the root box), the byte range and the bytes it replaced.
 * Rollback replays the log newest first; because it runs in exactly reverse
 * order, each record finds the tree as it was right after that edit, so the
 * recorded offsets lead to the same node even if nodes moved in memory.
 *
 * Nodes an edit detaches (a replaced object, a removed element) stay alive
 * until commit, referenced by the old bytes kept in the log; rollback frees
 * instead the nodes the edits attached. Restoring never needs memory: node
 * bytes and index slots only ever grow, so the old size still fits.
 *
 * Cost: an edit logs its old bytes and depth offsets, nothing else; undoing
 * one INCR in a 1 MB document copies a few bytes, never the document.
 *
 * Commit frees the detached nodes itself, or hands each detached tree to a
 * reaper (doc_undo_set_reaper; the module frees large garbage on a thread
 * of its own): by then the log no longer counts them and the live tree
 * never points to them, so a reaper may free them whenever and wherever.
 *
 * Shared children: a rewrite of every element of an array (doc_edit_rewrite)
 * may leave some container elements as they were, so their child nodes are
 * referenced by both the old bytes (in the log) and the new ones (in the
 * node). Its record then carries a bitmap of those elements (RANGE_SHARED),
 * and neither commit nor rollback frees their children: they belong to
 * whichever bytes survive. A flush of a stage (doc_stage_flush: the new
 * values of some elements, some removed) writes such a record too; when it
 * removed elements, a second bitmap by new position follows the first. So
 * do the removals of many elements (doc_edit_remove_where / _equal) and of
 * many object members (doc_edit_remove_members: RANGE_SHARED_OBJECT, bits
 * by entry).
 */
#include "node.h"

#include <assert.h>
#include <stdlib.h>

uint32_t doc_node_entry_offset(const doc_node *n, uint32_t i);

/* range_kind of a record whose range is array elements, some of them shared
 * by the old and the new bytes: a bitmap of them (bit i: element i, one bit
 * per element of the node) follows the old bytes. */
#define RANGE_SHARED 3
/* The same for a range of object entries (key and value; bit i: entry i). */
#define RANGE_SHARED_OBJECT 4

/* One log record, followed in the log by uint32_t voff[depth], then the
 * old bytes, then (RANGE_SHARED only) the shared-element bitmap, padded to 8. */
typedef struct undo_rec {
    doc_node **rootp;     /* the root box slot of the document edited */
    uint32_t depth;       /* value offsets from the root box to the node */
    uint32_t off;         /* edited range start within the node's bytes */
    uint32_t oldlen;      /* bytes the edit removed (kept after voff[]) */
    uint32_t newlen;      /* bytes the edit inserted */
    int32_t count_delta;  /* entries added by the edit */
    uint32_t entry_index; /* position of the entry edited */
    int32_t range_kind;   /* DOC_KIND_OBJECT if the range starts at a key;
                             RANGE_SHARED (_OBJECT): array elements (object
                             entries), bitmap after the old bytes */
    uint32_t size;        /* bytes of this record, padding included */
} undo_rec;

struct doc_undo {
    doc_buf log;        /* records back to back */
    doc_buf starts;     /* size_t offset of each record in log */
    size_t count;       /* records */
    size_t unlogged;    /* edits made in place without a record since the
                           last commit (doc_edit_set_encoded_final) */
    size_t unlogged_at; /* count when the last of them was made */
    doc_limits limits;  /* what edits logged here may do (max-depth) */
    doc_reap_fn reap;   /* where commit sends detached trees; NULL: freed here */
    void *reap_arg;     /* reap's argument */
};

doc_undo *doc_undo_new(void) {
    doc_undo *u = doc_malloc(sizeof *u);
    if (!u) return NULL;
    doc_buf_init(&u->log);
    doc_buf_init(&u->starts);
    u->count = 0;
    u->unlogged = 0;
    u->unlogged_at = 0;
    u->limits.max_depth = DOC_DEPTH_DEFAULT;
    u->limits.waive_depth = NULL;
    u->reap = NULL;
    u->reap_arg = NULL;
    return u;
}

void doc_undo_set_reaper(doc_undo *u, doc_reap_fn reap, void *arg) {
    u->reap = reap;
    u->reap_arg = arg;
}

void doc_undo_set_limits(doc_undo *u, const doc_limits *limits) { u->limits = *limits; }

size_t doc_undo_size(const doc_undo *u) { return u->count; }
size_t doc_undo_unlogged(const doc_undo *u) { return u->unlogged; }
size_t doc_undo_bytes(const doc_undo *u) { return u->log.cap + u->starts.cap; }

static undo_rec *rec_at(doc_undo *u, size_t i) {
    size_t at;
    memcpy(&at, u->starts.data + i * sizeof at, sizeof at);
    return (undo_rec *)(void *)(u->log.data + at);
}

static int is_shared(const undo_rec *r) {
    return r->range_kind == RANGE_SHARED || r->range_kind == RANGE_SHARED_OBJECT;
}

/* The entry at p of a record's range (an object's when object): its value
 * in *v; returns the entry's size. */
static uint32_t range_entry(const uint8_t *p, int object, const uint8_t **v) {
    size_t k = 0;
    if (object) {
        const char *key;
        size_t klen;
        k = doc_key_decode(p, &key, &klen);
    }
    *v = p + k;
    return (uint32_t)(k + doc_value_size(p + k));
}

/* Entries in the packed bytes p[0..len) (object entries when object). */
static uint32_t count_values(const uint8_t *p, uint32_t len, int object) {
    uint32_t n = 0;
    const uint8_t *v;
    for (uint32_t off = 0; off < len; n++) off += range_entry(p + off, object, &v);
    return n;
}

/* Frees the child nodes a record's range p[0..len) owns alone: its old
 * bytes (new_side 0, at commit) or its new ones in the node (new_side 1, at
 * rollback). All of them, but for RANGE_SHARED the elements marked in the
 * record's bitmap of that side, which both sides reference, and never
 * `keep` (a node the caller knows someone else owns; NULL: none). With a
 * reaper (commit only), each such child goes to it instead. */
static void free_range_children(const undo_rec *r, const uint8_t *p, uint32_t len, int new_side,
                                const doc_node *keep, const doc_undo *reaper) {
    /* One scalar (an INCR's number, a TOGGLE's boolean): no child, no scan. */
    if (r->range_kind == DOC_KIND_ARRAY && len && len <= 1 + sizeof(doc_node *) && p[0] != DOC_TAG_OBJECT &&
        p[0] != DOC_TAG_ARRAY && doc_value_size(p) == len)
        return;
    int object = r->range_kind == DOC_KIND_OBJECT || r->range_kind == RANGE_SHARED_OBJECT;
    if (!is_shared(r) && !keep) {
        if (reaper)
            doc_bytes_reap_children(p, len, r->range_kind, reaper->reap, reaper->reap_arg);
        else
            doc_bytes_free_children(p, len, r->range_kind);
        return;
    }
    const uint8_t *bits = NULL;
    if (is_shared(r)) {
        /* The old side's bitmap; a rewrite that changed the element count
         * has the new side's right after it. */
        const uint8_t *old = (const uint8_t *)(r + 1) + r->depth * sizeof(uint32_t);
        bits = old + r->oldlen;
        if (new_side && r->count_delta) bits += (count_values(old, r->oldlen, object) + 7) / 8;
    }
    uint32_t off = 0;
    for (uint32_t i = 0; off < len; i++) {
        const uint8_t *v;
        uint32_t size = range_entry(p + off, object, &v);
        if ((*v == DOC_TAG_OBJECT || *v == DOC_TAG_ARRAY) && value_child(v) != keep &&
            !(bits && (bits[i / 8] & (1u << (i % 8))))) {
            if (reaper)
                reaper->reap(value_child(v), reaper->reap_arg);
            else
                doc_node_free(value_child(v));
        }
        off += size;
    }
}

/* doc_undo_commit, but the node `keep` (detached by some edit) is not
 * freed: it belongs to someone else (the stage's borrowed element). */
static void commit_keep(doc_undo *u, const doc_node *keep) {
    u->unlogged = 0;
    if (!u->count) return; /* nothing logged (a final edit, a read) */
    const doc_undo *reaper = u->reap ? u : NULL;
    for (size_t i = 0; i < u->count; i++) {
        undo_rec *r = rec_at(u, i);
        const uint8_t *old = (const uint8_t *)(r + 1) + r->depth * sizeof(uint32_t);
        free_range_children(r, old, r->oldlen, 0, keep, reaper);
    }
    u->log.len = 0;
    u->starts.len = 0;
    u->count = 0;
    /* The end of this commit's garbage: the reaper may now decide where it
     * is freed. Records are emptied first, so nothing here points to it. */
    if (reaper) u->reap(NULL, u->reap_arg);
}

void doc_undo_commit(doc_undo *u) { commit_keep(u, NULL); }

/* The node `depth` value offsets below the root box; *parent and *pslot say
 * where its pointer lives (parent NULL: it is the root, in *rootp). */
static doc_node *walk(doc_node **rootp, const uint32_t *voff, uint32_t depth, doc_node **parent,
                      uint32_t *pslot) {
    doc_node *n = *rootp;
    *parent = NULL;
    *pslot = 0;
    for (uint32_t k = 0; k < depth; k++) {
        *parent = n;
        *pslot = voff[k];
        n = value_child(node_bytes(n) + voff[k]);
    }
    return n;
}

/* Before a RANGE_SHARED record's old bytes go back: the containers both
 * sides share may have moved since the rewrite (a later edit inside one,
 * already undone, can leave it reallocated elsewhere, and only the current
 * bytes `cur` were told). Each shared pointer in the old bytes is set to
 * the current one: shared elements keep their order, so the k-th marked
 * element of the old side is the k-th marked element of the new side (the
 * new side's bitmap follows the old one's when the count changed; when it
 * did not, positions match and one bitmap serves both). */
static void shared_repoint(const undo_rec *r, uint8_t *old, const uint8_t *cur, uint32_t curlen) {
    int object = r->range_kind == RANGE_SHARED_OBJECT;
    const uint8_t *obits = old + r->oldlen, *nbits = obits;
    if (r->count_delta) nbits += (count_values(old, r->oldlen, object) + 7) / 8;
    uint32_t noff = 0, ni = 0;
    for (uint32_t ooff = 0, oi = 0; ooff < r->oldlen; oi++) {
        const uint8_t *cv;
        uint32_t size = range_entry(old + ooff, object, &cv);
        uint8_t *v = (uint8_t *)cv; /* inside old, which this writes */
        ooff += size;
        if ((*v != DOC_TAG_OBJECT && *v != DOC_TAG_ARRAY) || !(obits[oi / 8] & (1u << (oi % 8)))) continue;
        while (noff < curlen) {
            const uint8_t *w;
            noff += range_entry(cur + noff, object, &w);
            int marked = (*w == DOC_TAG_OBJECT || *w == DOC_TAG_ARRAY) && (nbits[ni / 8] & (1u << (ni % 8)));
            ni++;
            if (marked) {
                value_set_child(v, value_child(w));
                break;
            }
        }
    }
}

/* Reverts the records after the first `keep`, newest first. An unlogged
 * edit cannot be reverted: its caller promised no rollback would cross it
 * (doc_edit_set_encoded_final). */
static void rollback_to(doc_undo *u, size_t keep) {
    assert(!u->unlogged || keep >= u->unlogged_at);
    while (u->count > keep) {
        undo_rec *r = rec_at(u, --u->count);
        const uint32_t *voff = (const uint32_t *)(r + 1);
        const uint8_t *old = (const uint8_t *)(voff + r->depth);
        doc_node *parent;
        uint32_t pslot;
        doc_node *n = walk(r->rootp, voff, r->depth, &parent, &pslot);
        if (is_shared(r)) shared_repoint(r, (uint8_t *)old, node_bytes(n) + r->off, r->newlen);
        free_range_children(r, node_bytes(n) + r->off, r->newlen, 1, NULL, NULL);
        doc_node *m = n;
        /* Cannot fail: see the file comment (sizes only shrink back). */
        doc_node_splice(&m, r->off, r->newlen, old, r->oldlen, -r->count_delta, r->entry_index);
        if (m != n) {
            if (parent)
                value_set_child(node_bytes(parent) + pslot, m);
            else
                *r->rootp = m;
        }
        u->log.len = (size_t)((char *)r - u->log.data);
    }
    u->starts.len = keep * sizeof(size_t);
}

void doc_undo_rollback(doc_undo *u) {
    rollback_to(u, 0);
    u->unlogged = 0;
}
size_t doc_undo_mark(const doc_undo *u) { return u->count; }
void doc_undo_rollback_to(doc_undo *u, size_t mark) {
    if (mark < u->count) rollback_to(u, mark);
}

/* ------------------------------------------------------------------ */
/* Net change of a span of edits                                      */
/* ------------------------------------------------------------------ */

/* Whether the edits logged after `mark` changed anything, decided per edited
 * node and never by comparing whole documents. Records are grouped by the
 * node they edited (same root slot, same value offsets). A node's bytes
 * before the span are rebuilt from its bytes now by undoing, on a scratch
 * copy, only that node's records, newest first; then the two are compared
 * entry by entry, keys and scalars by bytes, and a child container that was
 * replaced by deep identity (doc_value_identical: same JSON text). The cost
 * is the edited nodes' bytes plus the containers written - what the edits
 * themselves cost.
 *
 * Offsets identify a node only while none of its ancestors is edited in the
 * span. When one is (say `$set a.b.c` creating objects, then `$unset a`),
 * the answer is "changed", exact or not: a deliberate, documented limit. */

/* A record of the span, for sorting by the node it edited. */
typedef struct span_ref {
    const undo_rec *r; /* the record */
    size_t i;          /* its position in the log */
} span_ref;

/* Orders records by root slot, then value offsets (a path before its
 * extensions), then log order: each node's records end up together, in the
 * order they were made, and a node's descendants right after it. */
static int span_cmp(const void *pa, const void *pb) {
    const span_ref *a = pa, *b = pb;
    if (a->r->rootp != b->r->rootp) return (uintptr_t)a->r->rootp < (uintptr_t)b->r->rootp ? -1 : 1;
    const uint32_t *va = (const uint32_t *)(a->r + 1), *vb = (const uint32_t *)(b->r + 1);
    uint32_t n = a->r->depth < b->r->depth ? a->r->depth : b->r->depth;
    for (uint32_t k = 0; k < n; k++)
        if (va[k] != vb[k]) return va[k] < vb[k] ? -1 : 1;
    if (a->r->depth != b->r->depth) return a->r->depth < b->r->depth ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

/* 1 when a's node is b's node (same = 1) or a proper ancestor of it (same = 0). */
static int path_prefix(const undo_rec *a, const undo_rec *b, int same) {
    return a->rootp == b->rootp && (same ? a->depth == b->depth : a->depth < b->depth) &&
           !memcmp(a + 1, b + 1, a->depth * sizeof(uint32_t));
}

/* Encoded size of the entry at p in a node of `kind` (key included). */
static size_t entry_size(const uint8_t *p, int kind) {
    size_t k = 0;
    if (kind == DOC_KIND_OBJECT) {
        const char *key;
        size_t klen;
        k = doc_key_decode(p, &key, &klen);
    }
    return k + doc_value_size(p + k);
}

/* 1 when the packed entries a[0..al) and b[0..bl) of a node of `kind` hold
 * the same JSON text. */
static int entries_identical(const uint8_t *a, size_t al, const uint8_t *b, size_t bl, int kind) {
    if (al == bl && !memcmp(a, b, al)) return 1;
    size_t i = 0, j = 0;
    while (i < al && j < bl) {
        size_t ka = 0, kb = 0;
        if (kind == DOC_KIND_OBJECT) {
            const char *x, *y;
            size_t xl, yl;
            ka = doc_key_decode(a + i, &x, &xl);
            kb = doc_key_decode(b + j, &y, &yl);
            if (xl != yl || memcmp(x, y, xl)) return 0;
        }
        if (!doc_value_identical(a + i + ka, b + j + kb)) return 0;
        i += entry_size(a + i, kind);
        j += entry_size(b + j, kind);
    }
    return i == al && j == bl;
}

/* Rebuilds in `scratch` the bytes the node of records g[0..n) (one node, in
 * log order) had before them, and compares with its bytes now. 1 unchanged,
 * 0 changed, -1 out of memory. */
static int node_unchanged(const span_ref *g, size_t n, doc_buf *scratch) {
    const undo_rec *r0 = g[0].r;
    doc_node *parent;
    uint32_t pslot;
    doc_node *node = walk(r0->rootp, (const uint32_t *)(r0 + 1), r0->depth, &parent, &pslot);
    scratch->len = 0;
    doc_buf_append(scratch, node_cbytes(node), node->len);
    for (size_t i = n; i-- > 0;) {
        const undo_rec *r = g[i].r;
        const uint8_t *old = (const uint8_t *)(r + 1) + r->depth * sizeof(uint32_t);
        if (doc_buf_reserve(scratch, r->oldlen) < 0) return -1;
        size_t tail = scratch->len - r->off - r->newlen;
        if (r->oldlen != r->newlen) /* same size: in place, as the edit was */
            memmove(scratch->data + r->off + r->oldlen, scratch->data + r->off + r->newlen, tail);
        memcpy(scratch->data + r->off, old, r->oldlen);
        scratch->len = r->off + r->oldlen + tail;
    }
    return entries_identical((const uint8_t *)scratch->data, scratch->len, node_cbytes(node), node->len,
                             node->kind);
}

/* doc_undo_changed_since over the records of one document (rootp), or of
 * all when rootp is NULL. */
static int changed_since(doc_undo *u, size_t mark, doc_node **rootp) {
    /* An edit without a record since the mark (a mark equal to its position
     * may have been taken before it: counted as a change, never reverted). */
    if (u->unlogged && mark <= u->unlogged_at) return 1;
    if (mark >= u->count) return 0;
    /* One splice never writes the bytes it replaces (apply() skips those). */
    size_t n = u->count - mark;
    if (rootp) {
        n = 0;
        for (size_t i = mark; i < u->count; i++) n += rec_at(u, i)->rootp == rootp;
        if (n == 0) return 0;
    }
    if (n == 1) return 1;
    span_ref *refs = doc_malloc(n * sizeof *refs);
    if (!refs) return 1;
    for (size_t i = mark, k = 0; i < u->count; i++) {
        const undo_rec *r = rec_at(u, i);
        if (rootp && r->rootp != rootp) continue;
        refs[k].r = r;
        refs[k++].i = i;
    }
    /* The common case, one node (a PULL of many runs, an AOFLOAD batch of
     * many inserts): no sort; its entry count moving means a change. */
    const undo_rec *r0 = refs[0].r;
    long long moved = 0;
    size_t same = 0;
    while (same < n && path_prefix(r0, refs[same].r, 1)) moved += refs[same++].r->count_delta;
    if (same == n && moved != 0) {
        doc_free(refs);
        return 1;
    }
    if (same < n) qsort(refs, n, sizeof *refs, span_cmp); /* else: one node, in log order */
    doc_buf scratch;
    doc_buf_init(&scratch);
    int changed = 0;
    for (size_t g = 0; g < n && !changed;) {
        size_t end = g + 1;
        long long entries = refs[g].r->count_delta;
        while (end < n && path_prefix(refs[g].r, refs[end].r, 1)) entries += refs[end++].r->count_delta;
        /* A node edited by one splice changed; a node whose ancestor was
         * edited too: see above (sorted, a descendant follows its node). */
        if (end - g == 1 || entries != 0 || (end < n && path_prefix(refs[g].r, refs[end].r, 0)))
            changed = 1; /* ... and a node whose entry count moved changed */
        else
            changed = node_unchanged(refs + g, end - g, &scratch) != 1;
        g = end;
    }
    doc_buf_free(&scratch);
    doc_free(refs);
    return changed;
}

int doc_undo_changed_since(doc_undo *u, size_t mark) { return changed_since(u, mark, NULL); }

int doc_undo_resized_since(doc_undo *u, size_t mark, uint32_t depth) {
    for (size_t i = mark; i < u->count; i++) {
        const undo_rec *r = rec_at(u, i);
        if (r->depth == depth && (r->oldlen != r->newlen || r->count_delta)) return 1;
    }
    return 0;
}

int doc_undo_changed_doc(doc_undo *u, size_t mark, doc_node **rootp) { return changed_since(u, mark, rootp); }

int doc_undo_settle(doc_undo *u, size_t mark) {
    if (mark >= u->count || doc_undo_changed_since(u, mark)) return 0;
    rollback_to(u, mark);
    return 1;
}

void doc_undo_free(doc_undo *u) {
    if (!u) return;
    doc_undo_commit(u);
    doc_buf_free(&u->log);
    doc_buf_free(&u->starts);
    doc_free(u);
}

/* ------------------------------------------------------------------ */
/* Cursors                                                            */
/* ------------------------------------------------------------------ */

/* Doubles the frames of a cursor (past its local ones); kept out of line so
 * push_frame inlines into the path walks. */
static __attribute__((noinline)) doc_status grow_frames(doc_cursor *c, doc_error *err) {
    size_t cap = c->cap * 2;
    doc_frame *m;
    if (c->frames == c->local) {
        m = doc_malloc(cap * sizeof *m);
        if (m) memcpy(m, c->local, sizeof c->local);
    } else {
        m = doc_realloc(c->frames, cap * sizeof *m);
    }
    if (!m) return doc_error_set(err, DOC_NOMEM, "out of memory");
    c->frames = m;
    c->cap = cap;
    return DOC_OK;
}

static inline doc_status push_frame(doc_cursor *c, doc_node *n, uint32_t entry_off, uint32_t val_off,
                                    uint32_t index, doc_error *err) {
    if (c->depth == c->cap && grow_frames(c, err)) return err->code;
    doc_frame *f = &c->frames[c->depth++];
    f->node = n;
    f->entry_off = entry_off;
    f->val_off = val_off;
    f->index = index;
    return DOC_OK;
}

static doc_status cursor_reset(doc_cursor *c, doc_error *err) {
    c->depth = 0;
    c->missing = 0;
    c->missing_key = NULL;
    c->missing_klen = 0;
    return push_frame(c, *c->rootp, 0, 0, 0, err);
}

static const uint8_t *frame_value(const doc_frame *f) { return node_cbytes(f->node) + f->val_off; }

const uint8_t *doc_cursor_value(const doc_cursor *c) {
    return c->missing || !c->depth ? NULL : frame_value(&c->frames[c->depth - 1]);
}

/* Looks one segment up in the container value v. Returns 1 and fills the
 * frame fields when found, 0 when missing, -1 when the segment does not fit
 * the container's type (or v is not a container). Negative indexes count
 * from the end. */
static inline __attribute__((always_inline)) int step(const uint8_t *v, const doc_seg *s, doc_node **child,
                                                      uint32_t *entry_off, uint32_t *val_off,
                                                      uint32_t *index) {
    if (*v != DOC_TAG_OBJECT && *v != DOC_TAG_ARRAY) return -1;
    doc_node *n = value_child(v);
    *child = n;
    if (*v == DOC_TAG_OBJECT) {
        if (s->kind == DOC_SEG_INDEX) return -1;
        *index = 0; /* unused for objects: their index is keyed */
        if (n->indexed) return doc_object_get(n, s->name, s->len, entry_off, val_off) != NULL;
        return node_object_scan(n, s->name, s->len, entry_off, val_off) != UINT32_MAX;
    }
    if (s->kind == DOC_SEG_NAME) return -1;
    int64_t i = s->index;
    if (i < 0) i += n->count;
    if (i < 0 || i >= (int64_t)n->count) return 0;
    *val_off = n->indexed ? node_index(n)->off[i] : node_array_scan(n, (uint32_t)i);
    *entry_off = *val_off;
    *index = (uint32_t)i;
    return 1;
}

doc_status doc_resolve(doc_cursor *c, const doc_path *p, doc_error *err) {
    if (cursor_reset(c, err)) return err->code;
    for (size_t k = 0; k < p->nseg; k++) {
        doc_node *child;
        uint32_t eo, vo, ix;
        int r = step(frame_value(&c->frames[c->depth - 1]), &p->segs[k], &child, &eo, &vo, &ix);
        if (r <= 0) return doc_error_set(err, DOC_NOPATH, "path does not exist");
        if (push_frame(c, child, eo, vo, ix, err)) return err->code;
    }
    return DOC_OK;
}

/* ------------------------------------------------------------------ */
/* The one write primitive                                            */
/* ------------------------------------------------------------------ */

/* The node reached by the first nvoff frames' value offsets. */
static doc_node *node_at(doc_cursor *c, size_t nvoff) {
    if (nvoff == 0) return *c->rootp;
    const doc_frame *f = &c->frames[nvoff - 1];
    return value_child(node_cbytes(f->node) + f->val_off);
}

/* Splices the node at nvoff (see node_at) and logs the inverse in u. On
 * failure nothing changed. Keeps the cursor's node pointers current.
 * shared: NULL, or the RANGE_SHARED(_OBJECT) bitmap (shared_len bytes) of
 * a rewrite of every element of an array (entry of an object). */
static doc_status apply_ex(doc_cursor *c, size_t nvoff, uint32_t off, uint32_t oldlen, const uint8_t *nb,
                           uint32_t newlen, int count_delta, uint32_t entry_index, const uint8_t *shared,
                           size_t shared_len, doc_undo *u, doc_error *err) {
    doc_node *n = node_at(c, nvoff);
    /* Writing the same bytes changes nothing: no log, no version bump. */
    if (count_delta == 0 && oldlen == newlen && (newlen == 0 || memcmp(node_bytes(n) + off, nb, newlen) == 0))
        return DOC_OK;
    int range_kind = shared && n->kind == DOC_KIND_OBJECT        ? RANGE_SHARED_OBJECT
                     : shared                                    ? RANGE_SHARED
                     : n->kind == DOC_KIND_OBJECT && count_delta ? DOC_KIND_OBJECT
                                                                 : DOC_KIND_ARRAY;

    /* Log first, so a failed log leaves the tree alone. */
    size_t rec_size = sizeof(undo_rec) + nvoff * sizeof(uint32_t) + oldlen + shared_len;
    rec_size = (rec_size + 7) & ~(size_t)7;
    size_t at = u->log.len;
    /* Room first (the log's buffers are reused: usually there already). */
    if ((u->log.cap - u->log.len < rec_size && doc_buf_reserve(&u->log, rec_size) < 0) ||
        (u->starts.cap - u->starts.len < sizeof at && doc_buf_reserve(&u->starts, sizeof at) < 0))
        return doc_error_set(err, DOC_NOMEM, "out of memory");
    undo_rec r = {c->rootp,   (uint32_t)nvoff,   off, oldlen, newlen, count_delta, entry_index,
                  range_kind, (uint32_t)rec_size};
    uint8_t *dst = (uint8_t *)u->log.data + at;
    memcpy(dst, &r, sizeof r);
    for (size_t k = 0; k < nvoff; k++) {
        uint32_t vo = c->frames[k].val_off;
        memcpy(dst + sizeof r + k * sizeof vo, &vo, sizeof vo);
    }
    memcpy(dst + sizeof r + nvoff * sizeof(uint32_t), node_bytes(n) + off, oldlen);
    if (shared_len) memcpy(dst + sizeof r + nvoff * sizeof(uint32_t) + oldlen, shared, shared_len);

    doc_node *m = n;
    doc_status st = doc_node_splice(&m, off, oldlen, nb, newlen, count_delta, entry_index);
    if (st) {
        return st == DOC_TOOBIG ? doc_error_set(err, st, "container larger than 4 GB")
                                : doc_error_set(err, st, "out of memory");
    }
    u->log.len = at + rec_size;
    memcpy(u->starts.data + u->starts.len, &at, sizeof at); /* room reserved above */
    u->starts.len += sizeof at;
    u->count++;
    if (m != n) {
        if (nvoff == 0)
            *c->rootp = m;
        else
            value_set_child(node_bytes(c->frames[nvoff - 1].node) + c->frames[nvoff - 1].val_off, m);
        if (nvoff < c->depth) c->frames[nvoff].node = m;
    }
    return DOC_OK;
}

static doc_status apply(doc_cursor *c, size_t nvoff, uint32_t off, uint32_t oldlen, const uint8_t *nb,
                        uint32_t newlen, int count_delta, uint32_t entry_index, doc_undo *u, doc_error *err) {
    return apply_ex(c, nvoff, off, oldlen, nb, newlen, count_delta, entry_index, NULL, 0, u, err);
}

/* Runs an edit with a private log committed at once when the caller gave
 * none (the edit is then final). */
#define WITH_LOG(u, call)                                                 \
    do {                                                                  \
        if (u) return (call);                                             \
        doc_undo *tmp_ = doc_undo_new();                                  \
        if (!tmp_) return doc_error_set(err, DOC_NOMEM, "out of memory"); \
        (u) = tmp_;                                                       \
        doc_status st_ = (call);                                          \
        doc_undo_free(tmp_);                                              \
        return st_;                                                       \
    } while (0)

/* Appends member key = value-bytes to the object that is the child of the
 * target value; the cursor then points at the new member. */
static doc_status object_append(doc_cursor *c, const char *key, size_t klen, const uint8_t *val,
                                uint32_t vlen, doc_undo *u, doc_error *err) {
    doc_node *obj = node_at(c, c->depth);
    uint8_t h[DOC_VARINT_MAX];
    size_t hl = doc_varint_put(h, klen);
    if (klen > DOC_NODE_MAX_BYTES || (uint64_t)hl + klen + vlen > DOC_NODE_MAX_BYTES)
        return doc_error_set(err, DOC_TOOBIG, "member larger than 4 GB");
    doc_buf e;
    doc_buf_init(&e);
    doc_buf_append(&e, h, hl);
    doc_buf_append(&e, key, klen);
    doc_buf_append(&e, val, vlen);
    if (e.oom) {
        doc_buf_free(&e);
        return doc_error_set(err, DOC_NOMEM, "out of memory");
    }
    uint32_t at = obj->len, index = obj->count;
    doc_status st = apply(c, c->depth, at, 0, (const uint8_t *)e.data, (uint32_t)e.len, 1, index, u, err);
    doc_buf_free(&e);
    if (st) return st;
    obj = node_at(c, c->depth);
    return push_frame(c, obj, at, at + (uint32_t)(hl + klen), index, err);
}

static doc_status resolve_write(doc_cursor *c, const doc_path *p, doc_undo *u, doc_error *err) {
    if (cursor_reset(c, err)) return err->code;
    size_t logged = doc_undo_size(u);
    for (size_t k = 0; k < p->nseg; k++) {
        const doc_seg *s = &p->segs[k];
        const uint8_t *v = frame_value(&c->frames[c->depth - 1]);
        doc_node *child;
        uint32_t eo, vo, ix;
        int r = step(v, s, &child, &eo, &vo, &ix);
        if (r > 0) {
            if (push_frame(c, child, eo, vo, ix, err)) return err->code;
            continue;
        }
        if (r < 0) {
            doc_view view;
            doc_value_decode(v, &view);
            doc_buf where;
            doc_buf_init(&where);
            doc_path_print(p, k, &where);
            doc_error_set(err, DOC_BADTYPE, "%s at %.*s is %s",
                          s->kind == DOC_SEG_INDEX ? "cannot index: the value"
                          : s->kind == DOC_SEG_NAME && view.type == DOC_ARRAY
                              ? "cannot take a member name: the value"
                              : "cannot descend: the value",
                          where.oom ? 1 : (int)(where.len > 100 ? 100 : where.len),
                          where.oom ? "$" : where.data, doc_type_phrase(view.type));
            doc_buf_free(&where);
            goto fail;
        }
        if (*v == DOC_TAG_ARRAY) {
            doc_error_set(err, DOC_NOPATH, "array index %lld out of range", (long long)s->index);
            goto fail;
        }
        /* A missing member of an object. */
        if (k + 1 == p->nseg) {
            c->missing = 1;
            c->missing_key = s->name;
            c->missing_klen = s->len;
            return DOC_OK;
        }
        uint8_t e[1 + sizeof(doc_node *)];
        doc_node *fresh = doc_node_make(DOC_KIND_OBJECT, NULL, 0, 0, NULL);
        if (!fresh) {
            doc_error_set(err, DOC_NOMEM, "out of memory");
            goto fail;
        }
        e[0] = DOC_TAG_OBJECT;
        value_set_child(e, fresh);
        if (object_append(c, s->name, s->len, e, sizeof e, u, err)) {
            doc_node_free(fresh);
            goto fail;
        }
    }
    return DOC_OK;
fail:
    /* Undo the members this call created, and only those. */
    rollback_to(u, logged);
    c->depth = 0;
    return err->code;
}

doc_status doc_resolve_write(doc_cursor *c, const doc_path *p, doc_undo *u, doc_error *err) {
    WITH_LOG(u, resolve_write(c, p, u, err));
}

/* ------------------------------------------------------------------ */
/* Edits                                                              */
/* ------------------------------------------------------------------ */

/* TOODEEP when a value of depth vdepth placed at nesting level `level`
 * (0: the root) would make the document deeper than the log's max-depth
 * (and its waiver, if any, does not let this edit through). */
static doc_status check_depth(uint32_t level, const uint8_t *val, const doc_undo *u, doc_error *err) {
    const doc_limits *lim = &u->limits;
    uint32_t vd = doc_value_depth(val);
    if (vd == UINT32_MAX) return doc_error_set(err, DOC_NOMEM, "out of memory");
    if (vd && (uint64_t)level + vd > lim->max_depth &&
        !((uint64_t)level + vd <= DOC_DEPTH_LIMIT && lim->waive_depth && lim->waive_depth()))
        return doc_error_set(err, DOC_TOODEEP, "the document would nest deeper than max-depth %u",
                             lim->max_depth);
    return DOC_OK;
}

static doc_status set_take(doc_cursor *c, doc_node *box, doc_undo *u, doc_error *err) {
    /* The same JSON text already there: nothing to change (no edit, so no
     * version bump). Checked here once for every command that sets. */
    if (!c->missing && c->depth && doc_value_identical(doc_cursor_value(c), node_cbytes(box))) {
        doc_node_free(box);
        return DOC_OK;
    }
    doc_status st = check_depth((uint32_t)c->depth - 1 + (c->missing ? 1 : 0), node_cbytes(box), u, err);
    if (st) {
        doc_node_free(box);
        return st;
    }
    if (c->missing) {
        st = object_append(c, c->missing_key, c->missing_klen, node_cbytes(box), box->len, u, err);
        if (!st) c->missing = 0;
    } else {
        doc_frame *f = &c->frames[c->depth - 1];
        uint32_t oldlen = (uint32_t)doc_value_size(frame_value(f));
        st = apply(c, c->depth - 1, f->val_off, oldlen, node_cbytes(box), box->len, 0, f->index, u, err);
    }
    if (st)
        doc_node_free(box);
    else
        doc_box_free_shell(box);
    return st;
}

doc_status doc_edit_set_take(doc_cursor *c, doc_node *box, doc_undo *u, doc_error *err) {
    WITH_LOG(u, set_take(c, box, u, err));
}

static doc_status remove_target(doc_cursor *c, doc_undo *u, doc_error *err) {
    if (c->missing || c->depth < 2) return doc_error_set(err, DOC_NOPATH, "nothing to remove");
    doc_frame *f = &c->frames[c->depth - 1];
    uint32_t end = f->val_off + (uint32_t)doc_value_size(frame_value(f));
    doc_status st = apply(c, c->depth - 1, f->entry_off, end - f->entry_off, NULL, 0, -1, f->index, u, err);
    if (!st) c->depth--;
    return st;
}

doc_status doc_edit_remove(doc_cursor *c, doc_undo *u, doc_error *err) {
    WITH_LOG(u, remove_target(c, u, err));
}

static doc_status insert_take(doc_cursor *c, uint32_t index, doc_node *box, doc_undo *u, doc_error *err) {
    const uint8_t *v = doc_cursor_value(c);
    doc_status st;
    if (!v || *v != DOC_TAG_ARRAY) {
        st = doc_error_set(err, DOC_BADTYPE, "not an array");
    } else if ((st = check_depth((uint32_t)c->depth, node_cbytes(box), u, err))) {
        /* too deep */
    } else {
        doc_node *arr = value_child(v);
        if (index > arr->count) {
            st = doc_error_set(err, DOC_NOPATH, "index %u out of range", index);
        } else {
            uint32_t off = index == arr->count ? arr->len : doc_node_entry_offset(arr, index);
            st = apply(c, c->depth, off, 0, node_cbytes(box), box->len, 1, index, u, err);
        }
    }
    if (st)
        doc_node_free(box);
    else
        doc_box_free_shell(box);
    return st;
}

doc_status doc_edit_insert_take(doc_cursor *c, uint32_t index, doc_node *box, doc_undo *u, doc_error *err) {
    WITH_LOG(u, insert_take(c, index, box, u, err));
}

/* ------------------------------------------------------------------ */
/* Stepping, scalar writes, runs of elements                          */
/* ------------------------------------------------------------------ */

doc_status doc_cursor_down(doc_cursor *c, const doc_seg *s, doc_error *err) {
    if (c->missing) return doc_error_set(err, DOC_NOPATH, "path does not exist");
    doc_node *child;
    uint32_t eo, vo, ix;
    int r = step(doc_cursor_value(c), s, &child, &eo, &vo, &ix);
    if (r > 0) return push_frame(c, child, eo, vo, ix, err);
    if (r < 0)
        return doc_error_set(err, DOC_BADTYPE, "cannot descend into %s",
                             *doc_cursor_value(c) == DOC_TAG_ARRAY    ? "an array by name"
                             : *doc_cursor_value(c) == DOC_TAG_OBJECT ? "an object by index"
                                                                      : "a scalar");
    if (*doc_cursor_value(c) == DOC_TAG_OBJECT) {
        c->missing = 1;
        c->missing_key = s->name;
        c->missing_klen = s->len;
    }
    return doc_error_set(err, DOC_NOPATH, "path does not exist");
}

void doc_cursor_up(doc_cursor *c, size_t depth) {
    c->missing = 0;
    if (depth < c->depth) c->depth = depth;
}

doc_status doc_edit_set_encoded(doc_cursor *c, const uint8_t *enc, size_t len, doc_undo *u, doc_error *err) {
    if (c->missing) {
        /* A new member goes through a box like any appended value. */
        doc_node *box = doc_node_make(DOC_KIND_BOX, enc, (uint32_t)len, 1, NULL);
        if (!box) return doc_error_set(err, DOC_NOMEM, "out of memory");
        return doc_edit_set_take(c, box, u, err);
    }
    doc_frame *f = &c->frames[c->depth - 1];
    uint32_t oldlen = (uint32_t)doc_value_size(frame_value(f));
    WITH_LOG(u, apply(c, c->depth - 1, f->val_off, oldlen, enc, (uint32_t)len, 0, f->index, u, err));
}

doc_status doc_edit_set_encoded_final(doc_cursor *c, const uint8_t *enc, size_t len, doc_undo *u,
                                      doc_error *err) {
    if (c->missing || !u || !len || enc[0] == DOC_TAG_OBJECT || enc[0] == DOC_TAG_ARRAY)
        return doc_edit_set_encoded(c, enc, len, u, err);
    doc_frame *f = &c->frames[c->depth - 1];
    doc_node *n = node_at(c, c->depth - 1);
    const uint8_t *v = node_cbytes(n) + f->val_off;
    /* A container's inverse frees nothing but owns its child at commit, a
     * size change may fail (realloc): those go through the log. */
    if (*v == DOC_TAG_OBJECT || *v == DOC_TAG_ARRAY || node_value_size(v) != len)
        return doc_edit_set_encoded(c, enc, len, u, err);
    /* Writing the same bytes changes nothing (as in apply_ex). */
    size_t same = 0;
    while (same < len && v[same] == enc[same]) same++;
    if (same == len) return DOC_OK;
    if (n->indexed && n->kind == DOC_KIND_ARRAY) {
        /* The value hash follows every element: the full splice (same
         * size, no entry added: cannot fail, never moves the node). */
        doc_node *m = n;
        doc_status st = doc_node_splice(&m, f->val_off, (uint32_t)len, enc, (uint32_t)len, 0, f->index);
        assert(st == DOC_OK && m == n);
        (void)st;
    } else { /* doc_node_splice's same-size case, for a scalar */
        n->flags &= (uint16_t)~NODE_PLAIN;
        memcpy(node_bytes(n) + f->val_off, enc, len);
    }
    u->unlogged++;
    u->unlogged_at = u->count;
    return DOC_OK;
}

static doc_status insert_many(doc_cursor *c, uint32_t index, doc_node **boxes, size_t n, doc_undo *u,
                              doc_error *err) {
    const uint8_t *v = doc_cursor_value(c);
    if (!v || *v != DOC_TAG_ARRAY) return doc_error_set(err, DOC_BADTYPE, "not an array");
    doc_node *arr = value_child(v);
    if (index > arr->count) return doc_error_set(err, DOC_NOPATH, "index %u out of range", index);
    if (n > DOC_NODE_MAX_BYTES - arr->count) return doc_error_set(err, DOC_TOOBIG, "too many elements");
    for (size_t i = 0; i < n; i++)
        if (check_depth((uint32_t)c->depth, node_cbytes(boxes[i]), u, err)) return err->code;
    doc_buf all;
    doc_buf_init(&all);
    for (size_t i = 0; i < n; i++) doc_buf_append(&all, node_cbytes(boxes[i]), boxes[i]->len);
    doc_status st;
    if (all.oom || all.len > DOC_NODE_MAX_BYTES) {
        st = doc_error_set(err, DOC_NOMEM, "out of memory");
    } else {
        uint32_t off = index == arr->count ? arr->len : doc_node_entry_offset(arr, index);
        st = apply(c, c->depth, off, 0, (const uint8_t *)all.data, (uint32_t)all.len, (int)n, index, u, err);
    }
    doc_buf_free(&all);
    return st;
}

doc_status doc_edit_insert_many_take(doc_cursor *c, uint32_t index, doc_node **boxes, size_t n, doc_undo *u,
                                     doc_error *err) {
    doc_status st;
    if (!n) return DOC_OK;
    if (u) {
        st = insert_many(c, index, boxes, n, u, err);
    } else {
        doc_undo *tmp = doc_undo_new();
        if (!tmp) {
            st = doc_error_set(err, DOC_NOMEM, "out of memory");
        } else {
            st = insert_many(c, index, boxes, n, tmp, err);
            doc_undo_free(tmp);
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (st)
            doc_node_free(boxes[i]);
        else
            doc_box_free_shell(boxes[i]);
        boxes[i] = NULL;
    }
    return st;
}

static doc_status remove_range(doc_cursor *c, uint32_t from, uint32_t count, doc_undo *u, doc_error *err) {
    const uint8_t *v = doc_cursor_value(c);
    if (!v || *v != DOC_TAG_ARRAY) return doc_error_set(err, DOC_BADTYPE, "not an array");
    doc_node *arr = value_child(v);
    if (from > arr->count || count > arr->count - from)
        return doc_error_set(err, DOC_NOPATH, "range out of bounds");
    if (!count) return DOC_OK;
    uint32_t a = doc_node_entry_offset(arr, from);
    uint32_t b = from + count == arr->count ? arr->len : doc_node_entry_offset(arr, from + count);
    return apply(c, c->depth, a, b - a, NULL, 0, -(int)count, from, u, err);
}

doc_status doc_edit_remove_range(doc_cursor *c, uint32_t from, uint32_t count, doc_undo *u, doc_error *err) {
    WITH_LOG(u, remove_range(c, from, count, u, err));
}

/* Writes the array (or object) at the cursor again with some elements
 * (entries) changed: next() gives them in increasing storage order, each
 * as its new value's bytes (len 0: removed; an object's entries can only
 * be removed). One edit (apply_ex over the whole node) whose record holds
 * the old bytes and, when containers are kept, a bitmap of them by old
 * position and, if the count changes, one by new position (commit frees
 * the replaced containers, rollback the new ones). O(node + new bytes). On
 * failure (NOMEM, TOOBIG) nothing changed. */
static doc_status
rewrite_changes(doc_cursor *c, int (*next)(void *ctx, uint32_t *index, const uint8_t **bytes, uint32_t *len),
                void *ctx, doc_undo *u, doc_error *err) {
    const doc_node *arr = value_child(doc_cursor_value(c));
    int object = arr->kind == DOC_KIND_OBJECT;
    const uint8_t *p = node_cbytes(arr);
    doc_buf out, bits;
    doc_buf_init(&out);
    doc_buf_init(&bits);
    size_t ob = ((size_t)arr->count + 7) / 8, newcount = 0, shared = 0;
    int parent = (arr->flags & NODE_PARENT) != 0;
    if (doc_buf_reserve(&out, arr->len) == 0 && parent && doc_buf_reserve(&bits, 2 * ob) == 0) {
        memset(bits.data, 0, 2 * ob);
        bits.len = 2 * ob;
    }
    uint32_t off = 0, run = 0, at, len;
    const uint8_t *nb;
    int have = next(ctx, &at, &nb, &len);
    for (uint32_t i = 0; i < arr->count; i++) {
        const uint8_t *v;
        uint32_t sz = range_entry(p + off, object, &v);
        if (have && at == i) {
            doc_buf_append(&out, p + run, off - run);
            doc_buf_append(&out, nb, len);
            newcount += len != 0;
            run = off + sz;
            have = next(ctx, &at, &nb, &len);
        } else {
            if (bits.len && (*v == DOC_TAG_OBJECT || *v == DOC_TAG_ARRAY)) {
                bits.data[i / 8] |= (char)(1u << (i % 8));
                bits.data[ob + newcount / 8] |= (char)(1u << (newcount % 8));
                shared++;
            }
            newcount++;
        }
        off += sz;
    }
    doc_buf_append(&out, p + run, arr->len - run);
    int delta = (int)((long long)newcount - (long long)arr->count);
    doc_status st;
    if (out.oom || bits.oom || (parent && !bits.len))
        st = doc_error_set(err, DOC_NOMEM, "out of memory");
    else if (out.len > DOC_NODE_MAX_BYTES)
        st = doc_error_set(err, DOC_TOOBIG, "container larger than 4 GB");
    else
        st = apply_ex(c, c->depth, 0, arr->len, (const uint8_t *)out.data, (uint32_t)out.len, delta, 0,
                      shared ? (const uint8_t *)bits.data : NULL, shared ? (delta ? 2 * ob : ob) : 0, u, err);
    doc_buf_free(&out);
    doc_buf_free(&bits);
    return st;
}

/* Runs (from, count) of elements to remove, ascending: rewrite_changes's
 * iterator, every element of every run removed. */
typedef struct run_walk {
    const uint32_t *runs;
    size_t nruns, at; /* runs[2 * at]: the run under way */
    uint32_t done;    /* of it */
} run_walk;

static int run_next(void *ctx, uint32_t *index, const uint8_t **bytes, uint32_t *len) {
    run_walk *w = ctx;
    if (w->at < w->nruns && w->done == w->runs[2 * w->at + 1]) {
        w->at++;
        w->done = 0;
    }
    if (w->at == w->nruns) return 0;
    *index = w->runs[2 * w->at] + w->done++;
    *bytes = NULL;
    *len = 0;
    return 1;
}

static doc_status remove_runs_at_once(doc_cursor *c, const uint32_t *runs, size_t nruns, doc_undo *u,
                                      doc_error *err) {
    run_walk w = {runs, nruns, 0, 0};
    WITH_LOG(u, rewrite_changes(c, run_next, &w, u, err));
}

/* More runs than this are removed by one rewrite of the array (O(array)),
 * fewer by one edit each (O(array) each: the tail moves). */
#define REMOVE_RUN_EDITS 4

/* Removes the runs (from, count: nruns uint32_t pairs, ascending, apart)
 * of the array at the cursor; *removed (when given) counts the elements.
 * One rewrite, or one edit per run (last first, so earlier positions stay
 * valid) when there are few. */
static doc_status remove_runs(doc_cursor *c, const uint32_t *runs, size_t nruns, doc_undo *u,
                              uint32_t *removed, doc_error *err) {
    doc_status st = DOC_OK;
    uint32_t total = 0;
    for (size_t r = 0; r < nruns; r++) total += runs[2 * r + 1];
    if (nruns > REMOVE_RUN_EDITS) {
        st = remove_runs_at_once(c, runs, nruns, u, err);
        if (!st && removed) *removed = total;
        return st;
    }
    for (size_t r = nruns; !st && r > 0; r--) {
        st = doc_edit_remove_range(c, runs[2 * r - 2], runs[2 * r - 1], u, err);
        if (!st && removed) *removed += runs[2 * r - 1];
    }
    return st;
}

/* Appends to runs the (from, count) pairs of the runs of neighbouring
 * entries of n for which match(ctx, key, klen, val) is 1 (key NULL in an
 * array); returns how many entries matched. */
static uint32_t match_runs(const doc_node *n,
                           int (*match)(void *ctx, const char *key, size_t klen, const uint8_t *val),
                           void *ctx, doc_buf *runs) {
    doc_iter it;
    const char *key;
    size_t klen;
    const uint8_t *val;
    uint32_t i = 0, from = 0, len = 0, total = 0;
    doc_iter_init(&it, n);
    for (;; i++) {
        int more = doc_iter_next(&it, &key, &klen, &val, NULL);
        if (more && match(ctx, key, klen, val)) {
            if (!len) from = i;
            len++;
            continue;
        }
        if (len) {
            uint32_t r[2] = {from, len};
            doc_buf_append(runs, r, sizeof r);
            total += len;
            len = 0;
        }
        if (!more) return total;
    }
}

/* doc_edit_remove_where's predicate as match_runs asks for it. */
typedef struct element_match {
    int (*match)(void *ctx, const uint8_t *el);
    void *ctx;
} element_match;

static int match_element(void *ctx, const char *key, size_t klen, const uint8_t *val) {
    (void)key, (void)klen;
    const element_match *m = ctx;
    return m->match(m->ctx, val);
}

doc_status doc_edit_remove_where(doc_cursor *c, int (*match)(void *ctx, const uint8_t *el), void *ctx,
                                 doc_undo *u, uint32_t *removed, doc_error *err) {
    const uint8_t *v = doc_cursor_value(c);
    if (removed) *removed = 0;
    if (!v || *v != DOC_TAG_ARRAY) return doc_error_set(err, DOC_BADTYPE, "not an array");
    /* Runs of matching elements (see remove_runs). */
    doc_buf runs; /* uint32_t pairs (from, count) */
    doc_buf_init(&runs);
    element_match m = {match, ctx};
    match_runs(value_child(v), match_element, &m, &runs);
    doc_status st = runs.oom ? doc_error_set(err, DOC_NOMEM, "out of memory")
                             : remove_runs(c, (const uint32_t *)(void *)runs.data,
                                           runs.len / (2 * sizeof(uint32_t)), u, removed, err);
    doc_buf_free(&runs);
    return st;
}

static int pos_cmp(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

doc_status doc_edit_remove_equal(doc_cursor *c, doc_node *const *vals, size_t nvals, doc_undo *u,
                                 uint32_t *removed, doc_error *err) {
    const uint8_t *v = doc_cursor_value(c);
    if (removed) *removed = 0;
    if (!v || *v != DOC_TAG_ARRAY) return doc_error_set(err, DOC_BADTYPE, "not an array");
    doc_node *arr = value_child(v);
    doc_buf pos; /* uint32_t positions of matching elements */
    doc_buf_init(&pos);
    for (size_t k = 0; k < nvals; k++)
        for (int64_t i = doc_array_find(arr, node_cbytes(vals[k]), 0); i >= 0;
             i = doc_array_find(arr, node_cbytes(vals[k]), (uint32_t)i + 1)) {
            uint32_t p = (uint32_t)i;
            doc_buf_append(&pos, &p, sizeof p);
        }
    if (pos.oom) {
        doc_buf_free(&pos);
        return doc_error_set(err, DOC_NOMEM, "out of memory");
    }
    /* Ascending, without the repeats two equal vals found; then runs of
     * neighbours, removed last run first so earlier positions stay valid. */
    uint32_t *p = (uint32_t *)(void *)pos.data;
    size_t n = pos.len / sizeof *p, w = 0;
    if (nvals > 1 && n > 1) qsort(p, n, sizeof *p, pos_cmp);
    for (size_t i = 0; i < n; i++)
        if (!w || p[i] != p[w - 1]) p[w++] = p[i];
    /* Runs of neighbours: (from, count) pairs. */
    doc_buf runs;
    doc_buf_init(&runs);
    for (size_t i = 0; i < w;) {
        size_t j = i + 1;
        while (j < w && p[j] == p[j - 1] + 1) j++;
        uint32_t r[2] = {p[i], (uint32_t)(j - i)};
        doc_buf_append(&runs, r, sizeof r);
        i = j;
    }
    doc_buf_free(&pos);
    doc_status st = runs.oom ? doc_error_set(err, DOC_NOMEM, "out of memory")
                             : remove_runs(c, (const uint32_t *)(void *)runs.data,
                                           runs.len / (2 * sizeof(uint32_t)), u, removed, err);
    doc_buf_free(&runs);
    return st;
}

doc_status doc_edit_remove_members(doc_cursor *c,
                                   int (*match)(void *ctx, const char *key, size_t klen, const uint8_t *val),
                                   void *ctx, doc_undo *u, uint32_t *removed, doc_error *err) {
    const uint8_t *v = doc_cursor_value(c);
    if (removed) *removed = 0;
    if (!v || *v != DOC_TAG_OBJECT) return doc_error_set(err, DOC_BADTYPE, "not an object");
    /* Runs of matching entries in storage order: (from, count) pairs. */
    doc_buf runs;
    doc_buf_init(&runs);
    uint32_t total = match_runs(value_child(v), match, ctx, &runs);
    doc_status st = DOC_OK;
    if (runs.oom)
        st = doc_error_set(err, DOC_NOMEM, "out of memory");
    else if (total)
        st = remove_runs_at_once(c, (const uint32_t *)(void *)runs.data, runs.len / (2 * sizeof(uint32_t)), u,
                                 err);
    if (!st && removed) *removed = total;
    doc_buf_free(&runs);
    return st;
}

/* ------------------------------------------------------------------ */
/* Rewriting every element of an array                                */
/* ------------------------------------------------------------------ */

static doc_status rewrite(doc_cursor *c, const uint8_t *bytes, size_t len, doc_undo *u, doc_error *err) {
    const uint8_t *v = doc_cursor_value(c);
    if (!v || *v != DOC_TAG_ARRAY) return doc_error_set(err, DOC_BADTYPE, "not an array");
    doc_node *arr = value_child(v);
    if (len > DOC_NODE_MAX_BYTES) return doc_error_set(err, DOC_TOOBIG, "container larger than 4 GB");
    /* Element by element, old and new side by side: the same count, and
     * which containers are kept (the same child at the same place). */
    const uint8_t *old = node_cbytes(arr);
    doc_buf shared; /* the RANGE_SHARED bitmap, made at the first kept container */
    doc_buf_init(&shared);
    uint32_t i = 0, po = 0;
    size_t pn = 0;
    doc_status st = DOC_OK;
    for (; pn < len && po < arr->len && !st; i++) {
        size_t sn = doc_value_size(bytes + pn), so = doc_value_size(old + po);
        if (bytes[pn] == DOC_TAG_OBJECT || bytes[pn] == DOC_TAG_ARRAY) {
            if (bytes[pn] == old[po] && value_child(bytes + pn) == value_child(old + po)) {
                if (!shared.len) {
                    size_t nb = ((size_t)arr->count + 7) / 8;
                    if (doc_buf_reserve(&shared, nb) == 0) {
                        memset(shared.data, 0, nb);
                        shared.len = nb;
                    }
                }
                if (shared.oom)
                    st = doc_error_set(err, DOC_NOMEM, "out of memory");
                else
                    shared.data[i / 8] |= (char)(1u << (i % 8));
            } else {
                st = check_depth((uint32_t)c->depth, bytes + pn, u, err);
            }
        }
        pn += sn;
        po += (uint32_t)so;
    }
    if (!st && (pn != len || po != arr->len || i != arr->count))
        st = doc_error_set(err, DOC_ERR, "a rewrite must keep the element count");
    if (!st)
        st = apply_ex(c, c->depth, 0, arr->len, bytes, (uint32_t)len, 0, 0,
                      shared.len ? (const uint8_t *)shared.data : NULL, shared.len, u, err);
    doc_buf_free(&shared);
    return st;
}

doc_status doc_edit_rewrite(doc_cursor *c, const uint8_t *bytes, size_t len, doc_undo *u, doc_error *err) {
    WITH_LOG(u, rewrite(c, bytes, len, u, err));
}

/* ------------------------------------------------------------------ */
/* The stage: many elements of one array, one rewrite (doc.h)         */
/* ------------------------------------------------------------------ */

/* One value set aside: the new value of element `index`, or its removal. */
typedef struct stage_mark {
    uint32_t index; /* the element's position in the document's array */
    uint32_t off;   /* where its new value starts in doc_stage.vals */
    uint32_t len;   /* the new value's bytes; 0: the element is removed */
} stage_mark;

struct doc_stage {
    doc_node *root;  /* box -> [ -> ... -> [ element ] ]: `levels` arrays;
                        never moves (no edit reaches the box) */
    uint32_t levels; /* arrays in the chain: the element's path length */
    doc_path *path;  /* `[0]` levels times: the element in the chain */
    doc_undo *log;   /* the op's edits on the stage (empty between elements) */
    int loaded;      /* 1 between doc_stage_load and keep / drop */
    doc_buf orig;    /* the loaded element's bytes, as in the document */
    uint32_t index;  /* its position in the document's array */
    doc_buf vals;    /* new values set aside, back to back; their new
                        containers are the stage's until a flush */
    doc_buf marks;   /* one stage_mark per value set aside, in decreasing
                        index order (the order of the loads) */
};

/* The innermost array of the chain; *val: its value (tag + pointer) in its
 * parent's bytes. */
static doc_node *stage_inner(doc_stage *s, uint8_t **val) {
    doc_node *n = s->root;
    *val = NULL;
    for (uint32_t k = 0; k < s->levels; k++) {
        *val = node_bytes(n);
        n = value_child(*val);
    }
    return n;
}

/* Makes the innermost array hold bytes[0..len) (count values), never
 * freeing what it held (a borrowed element, or values set aside). Emptying
 * cannot fail (a node never shrinks its allocation). */
static doc_status stage_set(doc_stage *s, const uint8_t *bytes, uint32_t len, uint32_t count) {
    uint8_t *val;
    doc_node *n = stage_inner(s, &val), *m = n;
    if (!len && !n->len) return DOC_OK; /* empty already (a removed element) */
    doc_status st = doc_node_splice(&m, 0, n->len, bytes, len, (int)count - (int)n->count, 0);
    if (m != n && val) value_set_child(val, m);
    return st;
}

doc_stage *doc_stage_new(uint32_t levels, const doc_undo *like) {
    if (levels == 0 || levels > DOC_DEPTH_LIMIT) return NULL;
    doc_stage *s = doc_malloc(sizeof *s);
    if (!s) return NULL;
    memset(s, 0, sizeof *s);
    doc_buf_init(&s->orig);
    doc_buf_init(&s->vals);
    doc_buf_init(&s->marks);
    s->levels = levels;
    /* The chain, inside out: [], then [[]], ..., then the box. */
    doc_node *n = doc_node_make(DOC_KIND_ARRAY, NULL, 0, 0, NULL);
    for (uint32_t k = 0; n && k < levels; k++) {
        uint8_t e[1 + sizeof(doc_node *)];
        e[0] = DOC_TAG_ARRAY;
        value_set_child(e, n);
        doc_node *up = doc_node_make(k + 1 < levels ? DOC_KIND_ARRAY : DOC_KIND_BOX, e, sizeof e, 1, NULL);
        if (!up) doc_node_free(n);
        n = up;
    }
    s->root = n;
    doc_buf text;
    doc_buf_init(&text);
    doc_buf_putc(&text, '$');
    for (uint32_t k = 0; k < levels; k++) doc_buf_append(&text, "[0]", 3);
    doc_error err;
    doc_error_clear(&err);
    if (!text.oom && doc_path_compile(text.data, text.len, levels, &s->path, &err) != DOC_OK) s->path = NULL;
    doc_buf_free(&text);
    s->log = doc_undo_new();
    if (!s->root || !s->path || !s->log) {
        doc_stage_free(s);
        return NULL;
    }
    s->log->limits = like->limits;
    return s;
}

/* Frees the new containers of the values set aside from mark `from` on. */
static void stage_free_vals(doc_stage *s, size_t from) {
    const stage_mark *m = (const stage_mark *)(void *)s->marks.data;
    size_t n = s->marks.len / sizeof *m;
    for (size_t i = from; i < n; i++) {
        const uint8_t *v = (const uint8_t *)s->vals.data + m[i].off;
        if (m[i].len && (*v == DOC_TAG_OBJECT || *v == DOC_TAG_ARRAY)) doc_node_free(value_child(v));
    }
}

void doc_stage_free(doc_stage *s) {
    if (!s) return;
    if (s->loaded) doc_stage_drop(s);
    stage_free_vals(s, 0);
    doc_node_free(s->root); /* the chain, its innermost array empty */
    doc_undo_free(s->log);  /* empty: nothing to commit */
    doc_path_free(s->path);
    doc_buf_free(&s->orig);
    doc_buf_free(&s->vals);
    doc_buf_free(&s->marks);
    doc_free(s);
}

doc_node **doc_stage_root(doc_stage *s) { return &s->root; }
doc_path *doc_stage_path(const doc_stage *s) { return s->path; }
doc_undo *doc_stage_undo(doc_stage *s) { return s->log; }

doc_status doc_stage_load(doc_stage *s, const doc_cursor *c, uint32_t index, int containers, int *loaded,
                          doc_error *err) {
    *loaded = 0;
    const uint8_t *v = doc_cursor_value(c);
    if (!v || *v != DOC_TAG_ARRAY) return doc_error_set(err, DOC_BADTYPE, "not an array");
    uint32_t off;
    const uint8_t *el = doc_array_get(value_child(v), index, &off);
    if (!el) return doc_error_set(err, DOC_NOPATH, "array index %u out of range", index);
    if (!containers && (*el == DOC_TAG_OBJECT || *el == DOC_TAG_ARRAY)) return DOC_OK;
    size_t len = doc_value_size(el);
    s->orig.len = 0;
    doc_buf_append(&s->orig, el, len);
    if (s->orig.oom || stage_set(s, el, (uint32_t)len, 1)) {
        s->orig.oom = 0;
        return doc_error_set(err, DOC_NOMEM, "out of memory");
    }
    s->index = index;
    s->loaded = *loaded = 1;
    return DOC_OK;
}

/* The node of the loaded element's own container, or NULL (a scalar). */
static const doc_node *stage_borrowed(const doc_stage *s) {
    const uint8_t *o = (const uint8_t *)s->orig.data;
    return *o == DOC_TAG_OBJECT || *o == DOC_TAG_ARRAY ? value_child(o) : NULL;
}

void doc_stage_drop(doc_stage *s) {
    if (!s->loaded) return;
    doc_undo_rollback(s->log); /* frees what the op attached; the element is back */
    stage_set(s, NULL, 0, 0);
    s->loaded = 0;
}

doc_status doc_stage_keep(doc_stage *s, doc_error *err) {
    if (!s->loaded) return DOC_OK;
    uint8_t *val;
    const doc_node *n = stage_inner(s, &val), *borrowed = stage_borrowed(s);
    if (n->count > 1) { /* no op adds elements next to its target */
        doc_stage_drop(s);
        return doc_error_set(err, DOC_ERR, "an op wrote beside its element");
    }
    const uint8_t *now = node_cbytes(n);
    if (!(n->count == 1 && n->len == s->orig.len && memcmp(now, s->orig.data, n->len) == 0)) {
        stage_mark m = {s->index, (uint32_t)s->vals.len, n->count ? n->len : 0};
        if (s->vals.len + m.len > DOC_NODE_MAX_BYTES) {
            doc_stage_drop(s);
            return doc_error_set(err, DOC_TOOBIG, "container larger than 4 GB");
        }
        if (doc_buf_reserve(&s->vals, m.len) < 0 || doc_buf_reserve(&s->marks, sizeof m) < 0) {
            s->vals.oom = s->marks.oom = 0;
            doc_stage_drop(s);
            return doc_error_set(err, DOC_NOMEM, "out of memory");
        }
        doc_buf_append(&s->vals, now, m.len); /* room reserved: cannot fail */
        doc_buf_append(&s->marks, &m, sizeof m);
    }
    /* What the op detached is freed now, but for the borrowed element, which
     * the document's array still holds (a flush logs it there). */
    commit_keep(s->log, borrowed);
    stage_set(s, NULL, 0, 0);
    s->loaded = 0;
    return DOC_OK;
}

/* Every value set aside replaces an element of its own size: one in-place
 * edit each (no byte moves, the index and the value hash stay), the log's
 * room reserved first so that none can fail half-way. */
static doc_status flush_in_place(doc_stage *s, doc_cursor *c, const stage_mark *m, size_t n, doc_undo *u,
                                 doc_error *err) {
    doc_node *arr = node_at(c, c->depth);
    size_t need = 0;
    for (size_t i = 0; i < n; i++)
        need += (sizeof(undo_rec) + c->depth * sizeof(uint32_t) + m[i].len + 7) & ~(size_t)7;
    if (doc_buf_reserve(&u->log, need) < 0 || doc_buf_reserve(&u->starts, n * sizeof(size_t)) < 0) {
        u->log.oom = u->starts.oom = 0;
        return doc_error_set(err, DOC_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t off;
        doc_array_get(arr, m[i].index, &off);
        doc_status st = apply(c, c->depth, off, m[i].len, (const uint8_t *)s->vals.data + m[i].off, m[i].len,
                              0, m[i].index, u, err);
        if (st) return st; /* cannot happen: room reserved, no size change */
        arr = node_at(c, c->depth);
    }
    return DOC_OK;
}

/* The stage's values set aside, in increasing element order (marks are
 * kept in decreasing order): rewrite_changes's iterator. */
typedef struct stage_changes {
    const doc_stage *s;
    const stage_mark *m;
    size_t next; /* m[next - 1]: the next one */
} stage_changes;

static int stage_next(void *ctx, uint32_t *index, const uint8_t **bytes, uint32_t *len) {
    stage_changes *ch = ctx;
    if (!ch->next) return 0;
    const stage_mark *k = &ch->m[--ch->next];
    *index = k->index;
    *bytes = (const uint8_t *)ch->s->vals.data + k->off;
    *len = k->len;
    return 1;
}

doc_status doc_stage_flush(doc_stage *s, doc_cursor *c, doc_undo *u, doc_error *err) {
    const stage_mark *m = (const stage_mark *)(void *)s->marks.data;
    size_t nm = s->marks.len / sizeof *m;
    if (nm == 0) return DOC_OK;
    const uint8_t *v = doc_cursor_value(c);
    if (!v || *v != DOC_TAG_ARRAY) return doc_error_set(err, DOC_BADTYPE, "not an array");
    const doc_node *arr = value_child(v);
    /* New containers: checked against max-depth here as the op did on the
     * stage (same depth, same limits), so a flush is safe on its own. */
    int same_size = 1;
    for (size_t i = 0; i < nm; i++) {
        const uint8_t *nv = (const uint8_t *)s->vals.data + m[i].off;
        if (m[i].len && (*nv == DOC_TAG_OBJECT || *nv == DOC_TAG_ARRAY) &&
            check_depth((uint32_t)c->depth, nv, u, err))
            return err->code;
        uint32_t off;
        const uint8_t *el = doc_array_get(arr, m[i].index, &off);
        if (!el || (i && m[i].index >= m[i - 1].index))
            return doc_error_set(err, DOC_ERR, "values set aside out of order or out of range");
        same_size = same_size && m[i].len && doc_value_size(el) == m[i].len;
    }
    doc_status st;
    if (same_size) {
        st = flush_in_place(s, c, m, nm, u, err);
    } else {
        stage_changes ch = {s, m, nm};
        st = rewrite_changes(c, stage_next, &ch, u, err);
    }
    if (st) return st;
    s->marks.len = 0; /* the values are the array's now */
    s->vals.len = 0;
    return DOC_OK;
}
