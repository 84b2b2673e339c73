/*
 * doc.h - the atomicdoc document core: a compact JSON tree, its parser,
 * printer, paths, comparison and an undoable edit layer.
 *
 * This library knows nothing about Redis: libc only. The Redis glue
 * in module/ installs RedisModule_Alloc & co through doc_alloc_set(); unit
 * tests keep the default (malloc).
 *
 * Representation
 * --------------
 * A document is a tree of *nodes*. A node is one allocation holding a small
 * header and the packed encoding of its direct children, one after another:
 *
 *     array  node: value value value ...
 *     object node: key value key value ...      (key = varint length + bytes)
 *     box    node: value                        (exactly one: a document root,
 *                                                or a detached parsed value)
 *
 * A *value* is a tag byte followed by a payload whose size the tag fixes:
 *
 *     DOC_TAG_NULL / FALSE / TRUE       no payload
 *     DOC_TAG_I8 / I16 / I32 / I64      little-endian signed integer, 1/2/4/8 bytes
 *     DOC_TAG_SMALLINT + n (0..127)     the integer n, no payload
 *     DOC_TAG_DOUBLE                    8 bytes, IEEE 754 binary64, never NaN/Inf
 *     DOC_TAG_STRING                    varint length + UTF-8 bytes (NUL allowed)
 *     DOC_TAG_OBJECT / DOC_TAG_ARRAY    8-byte pointer to the child node
 *
 * Children containers are separate nodes, so an edit inside one container
 * rewrites only that container's bytes: an update costs O(depth + size of the
 * touched container), never O(document). Containers with more than
 * DOC_INDEX_MIN children also carry an index (array: offset of element i,
 * O(1); object: offsets sorted by key, O(log n) lookup).
 *
 * Ownership
 * ---------
 * A node owns its child nodes. A box returned by the parser or a builder owns
 * everything in it; doc_node_free() frees a node and all it owns. Pointers into
 * a node's bytes (doc_view.s, keys from iteration) stay valid until that node
 * is edited or freed. Functions named ..._take take ownership of an argument.
 *
 * Errors
 * ------
 * Every fallible function returns a doc_status and fills a doc_error (first
 * failure wins). A function that fails leaves its inputs as they were, except
 * the multi-edit writers whose comments say they can fail part-way
 * (doc_edit_remove_where, doc_edit_merge, doc_update_apply, doc_update_seed):
 * given an undo log, they may have logged some edits when they fail, and the
 * caller must roll the log back to a mark taken before the call
 * (doc_undo_mark / doc_undo_rollback_to) before the document is used again.
 */
#ifndef ATOMICDOC_DOC_H
#define ATOMICDOC_DOC_H

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------ */
/* Errors                                                             */
/* ------------------------------------------------------------------ */

/* One value per SPEC code word. DOC_OK is 0 so `if (st)` tests failure. */
typedef enum doc_status {
    DOC_OK = 0,
    DOC_ERR,       /* "ERR": generic error; nothing a client causes uses it */
    DOC_BADJSON,   /* malformed JSON text (offset = byte offset) */
    DOC_BADPATH,   /* malformed path (offset = character offset) */
    DOC_NOPATH,    /* the path does not exist where it must */
    DOC_BADTYPE,   /* the value at the path has the wrong JSON type */
    DOC_OVERFLOW,  /* integer overflow or non-finite result */
    DOC_TOODEEP,   /* nesting deeper than max-depth */
    DOC_BADFILTER, /* malformed filter */
    DOC_ABORTED,   /* DOC.TXN: an op failed */
    DOC_TOOBIG,    /* a size or count limit was exceeded */
    DOC_NOMEM,     /* allocation failed (reported as OOM ...) */
    DOC_WRONGTYPE, /* the key holds another Redis type (glue only) */
    DOC_SYNTAX,    /* the command's arguments do not follow its grammar */
    DOC_BADUPDATE, /* malformed update document, or one that cannot apply */
    DOC_STATUS_COUNT
} doc_status;

/* The first failure of an operation. `offset` is meaningful when has_offset. */
typedef struct doc_error {
    doc_status code; /* what went wrong; DOC_OK when nothing did */
    int has_offset;  /* 1 when `offset` says where */
    size_t offset;   /* byte offset (JSON) or character offset (path) */
    char msg[200];   /* one line, no code word, no trailing newline */
} doc_error;

/* The SPEC code word of a status ("BADJSON", "ERR", ...). */
const char *doc_status_word(doc_status st);
/* Sets err (only if err->code is DOC_OK: first failure wins); returns the
 * error's code, which is the first failure's when one was already set. */
doc_status doc_error_set(doc_error *err, doc_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same, with an offset. */
doc_status doc_error_at(doc_error *err, doc_status code, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Resets err to "no error": code DOC_OK, no offset, msg the empty string.
 * msg is a C string: the bytes after its NUL are unspecified. Every reader
 * tests `code` first and a message is always written whole (vsnprintf), so
 * the fields and the message's first byte are enough (a memset of the
 * 200-byte message ran several times per command); inline, as it runs a few
 * times per command. */
static inline void doc_error_clear(doc_error *err) {
    err->code = DOC_OK;
    err->has_offset = 0;
    err->offset = 0;
    err->msg[0] = '\0';
}

/* ------------------------------------------------------------------ */
/* Allocation                                                         */
/* ------------------------------------------------------------------ */

/* Every byte the core allocates goes through these. Defaults: malloc & co.
 * The hooks may return NULL (unit tests make them fail on purpose); the core
 * then fails with DOC_NOMEM and leaves its inputs unchanged. */
typedef struct doc_allocator {
    void *(*alloc)(size_t size);
    void *(*realloc)(void *ptr, size_t size);
    void (*free)(void *ptr);
    size_t (*usable)(void *ptr); /* allocated size of ptr; may be NULL */
} doc_allocator;

void doc_alloc_set(const doc_allocator *a);
void *doc_malloc(size_t size);
void *doc_realloc(void *ptr, size_t size);
void doc_free(void *ptr);
/* Allocated size of ptr (its usable size when the hook knows it). */
size_t doc_alloc_size(void *ptr, size_t requested);

/* ------------------------------------------------------------------ */
/* Growable byte buffer (for printing and building)                   */
/* ------------------------------------------------------------------ */

/* A byte string that grows. `oom` is sticky: once an append fails every
 * later append is a no-op, and the caller checks oom once at the end. */
typedef struct doc_buf {
    char *data; /* bytes; not NUL-terminated unless doc_buf_cstr() */
    size_t len; /* bytes used */
    size_t cap; /* bytes allocated */
    int oom;    /* 1 after a failed allocation */
} doc_buf;

/* An empty buffer (inline: several per command). */
static inline void doc_buf_init(doc_buf *b) {
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}
void doc_buf_free(doc_buf *b);
int doc_buf_reserve(doc_buf *b, size_t extra); /* 0 ok, -1 oom */
void doc_buf_append(doc_buf *b, const void *p, size_t n);
void doc_buf_putc(doc_buf *b, char c);
const char *doc_buf_cstr(doc_buf *b); /* NUL-terminates */

/* ------------------------------------------------------------------ */
/* Limits                                                             */
/* ------------------------------------------------------------------ */

/* Hard ceiling for max-depth: the config cannot go above it. */
#define DOC_DEPTH_LIMIT 10000
/* Default max-depth (SPEC). */
#define DOC_DEPTH_DEFAULT 128
/* A node's packed bytes are addressed with 32-bit offsets. */
#define DOC_NODE_MAX_BYTES 0xFFFFFFF0u
/* Containers with at least this many children carry a lookup index; below
 * it a linear scan over a few dozen packed entries is faster than any index. */
#define DOC_INDEX_MIN 32

/* ------------------------------------------------------------------ */
/* Values and nodes                                                   */
/* ------------------------------------------------------------------ */

typedef enum doc_type {
    DOC_NULL,
    DOC_BOOL,
    DOC_INT,    /* int64 */
    DOC_DOUBLE, /* finite IEEE double */
    DOC_STRING,
    DOC_OBJECT,
    DOC_ARRAY
} doc_type;

/* Tag bytes of the packed encoding (see the top of this file). */
enum {
    DOC_TAG_NULL = 0x00,
    DOC_TAG_FALSE = 0x01,
    DOC_TAG_TRUE = 0x02,
    DOC_TAG_I8 = 0x03,
    DOC_TAG_I16 = 0x04,
    DOC_TAG_I32 = 0x05,
    DOC_TAG_I64 = 0x06,
    DOC_TAG_DOUBLE = 0x07,
    DOC_TAG_STRING = 0x08,
    DOC_TAG_OBJECT = 0x09,
    DOC_TAG_ARRAY = 0x0A,
    DOC_TAG_SMALLINT = 0x80 /* 0x80 + n encodes the integer n, 0 <= n <= 127 */
};

/* Node kinds. */
enum { DOC_KIND_BOX = 0, DOC_KIND_OBJECT = 1, DOC_KIND_ARRAY = 2 };

typedef struct doc_node doc_node;

/* The name of a JSON type as DOC.TYPE replies it. */
const char *doc_type_name(doc_type t);
/* The type with its article, for messages: "an integer", "a string", "null". */
const char *doc_type_phrase(doc_type t);

/* A decoded look at one encoded value. Borrowed: valid while its node is
 * neither edited nor freed. */
typedef struct doc_view {
    doc_type type;  /* which of the fields below is meaningful */
    int b;          /* DOC_BOOL */
    int64_t i;      /* DOC_INT */
    double d;       /* DOC_DOUBLE */
    const char *s;  /* DOC_STRING: bytes (not NUL-terminated) */
    size_t slen;    /* DOC_STRING: length */
    doc_node *node; /* DOC_OBJECT / DOC_ARRAY: the child node */
} doc_view;

/* Decodes the value starting at p; returns the pointer just past it. The
 * encoding is trusted (it was built by this library). */
const uint8_t *doc_value_decode(const uint8_t *p, doc_view *out);
/* Encoded size of the value starting at p. */
size_t doc_value_size(const uint8_t *p);

/* Node accessors. */
int doc_node_kind(const doc_node *n);             /* DOC_KIND_* */
uint32_t doc_node_count(const doc_node *n);       /* children */
uint32_t doc_node_len(const doc_node *n);         /* packed bytes used */
const uint8_t *doc_node_bytes(const doc_node *n); /* packed bytes */
/* Frees a node and everything it owns (iterative: no recursion on depth). */
void doc_node_free(doc_node *n);
/* Receives a tree that is no longer referenced by anything (committed
 * garbage, see doc_undo_set_reaper) and must free it with doc_node_free,
 * now or later, on any thread: the tree shares nothing with live nodes. */
typedef void (*doc_reap_fn)(doc_node *n, void *arg);
/* What freeing n's tree would cost: allocations, plus entries scanned / 8;
 * stops counting at `limit` (returns at most limit). Iterative. */
size_t doc_node_free_effort(const doc_node *n, size_t limit);
/* Bytes allocated for n and everything it owns. */
size_t doc_node_memory(const doc_node *n);
/* The values in the tree under container n, n's own value included (1 +
 * the element and member counts of every container): O(entries of the
 * containers that hold containers). Iterative. */
uint64_t doc_node_values(const doc_node *n);
/* Nesting depth of a value: 0 for a scalar, 1 for [] or {}, ... Iterative;
 * UINT32_MAX when it ran out of memory. */
uint32_t doc_value_depth(const uint8_t *val);
/* Bytes all live nodes and their indexes hold, as requested from the
 * allocator (INFO's memory figure; thread-safe). */
long long doc_memory_in_use(void);
/* Number of nodes in n's tree, counting stops at `limit` (cheap effort hint). */
size_t doc_node_count_nodes(const doc_node *n, size_t limit);

/* The single value of a box. */
const uint8_t *doc_box_value(const doc_node *box);

/* Iteration over the children of an object or array node, in order. */
typedef struct doc_iter {
    const doc_node *node; /* the container */
    uint32_t off;         /* offset of the next entry in the packed bytes */
    uint32_t index;       /* position of the next entry */
} doc_iter;

void doc_iter_init(doc_iter *it, const doc_node *n);
/* Next child: fills key/klen (objects; NULL/0 for arrays), the value's bytes
 * and, if asked, its offset in the node. Returns 0 at the end. */
int doc_iter_next(doc_iter *it, const char **key, size_t *klen, const uint8_t **val, uint32_t *val_off);

/* Object member lookup: the value's bytes or NULL. O(log n) on indexed nodes. */
const uint8_t *doc_object_get(const doc_node *obj, const char *key, size_t klen, uint32_t *entry_off,
                              uint32_t *val_off);
/* Array element i (0-based, no negatives here): bytes or NULL. O(1) when indexed. */
const uint8_t *doc_array_get(const doc_node *arr, uint32_t i, uint32_t *val_off);
/* Smallest position >= from of an element deep-equal to val (doc_value_equal),
 * or -1. Arrays of 64 elements or more answer a scalar val from a hash of
 * their scalar elements, built by the first such search and then kept with
 * the array (memory counted, updated by every edit, freed with the node;
 * which is why arr is not const): O(1) instead of O(n) when from is 0 or at
 * most the first equal element's position, else a scan from `from`. Never
 * fails: without memory for the hash it scans. */
int64_t doc_array_find(doc_node *arr, const uint8_t *val, uint32_t from);
/* A set of values under doc_value_equal (1 and 1.0 one value), for
 * membership tests against many values at once ($in, $pullAll, the values
 * of an ADDTOSET): O(1) per scalar, containers compared one by one. It
 * holds pointers: the values' bytes must outlive it. */
typedef struct doc_valueset doc_valueset;
/* A set with room for n values; NULL out of memory. */
doc_valueset *doc_valueset_new(size_t n);
/* Adds v: 1 when added, 0 when an equal value is there, -1 when the set
 * is full (it was made for fewer values). */
int doc_valueset_add(doc_valueset *s, const uint8_t *v);
/* 1 when a value equal to v is in the set. */
int doc_valueset_has(const doc_valueset *s, const uint8_t *v);
void doc_valueset_free(doc_valueset *s);
/* Distinct scalar values in arr's value hash (one slot each), 0 with none
 * built: for tests. */
uint32_t doc_array_hashed_values(const doc_node *arr);

/* ------------------------------------------------------------------ */
/* Building values (used by the parser, copying, and commands)        */
/* ------------------------------------------------------------------ */

/* Builds one value bottom-up, in document order, without recursion. Errors
 * are sticky: after the first one, calls are no-ops returning that status.
 * Duplicate keys in one object are BADJSON (offset: the caller's position,
 * set with doc_builder_set_offset). Nesting deeper than max_depth is TOODEEP. */
typedef struct doc_builder doc_builder;

doc_builder *doc_builder_new(uint32_t max_depth);
void doc_builder_free(doc_builder *b);
/* Where the caller is in its input, used for error offsets. */
void doc_builder_set_offset(doc_builder *b, size_t offset);
doc_status doc_builder_null(doc_builder *b);
doc_status doc_builder_bool(doc_builder *b, int v);
doc_status doc_builder_int(doc_builder *b, int64_t v);
doc_status doc_builder_double(doc_builder *b, double v); /* OVERFLOW if !finite */
doc_status doc_builder_string(doc_builder *b, const char *s, size_t len);
doc_status doc_builder_key(doc_builder *b, const char *s, size_t len);
doc_status doc_builder_begin_object(doc_builder *b);
doc_status doc_builder_begin_array(doc_builder *b);
doc_status doc_builder_end(doc_builder *b); /* closes the innermost container */
/* Appends an existing encoded value (deep-copied: the builder owns the copy). */
doc_status doc_builder_copy(doc_builder *b, const uint8_t *val);
/* Returns the finished value as a box (caller owns), or NULL and fills err
 * when it failed or is incomplete. The builder may then only be freed. */
doc_node *doc_builder_finish(doc_builder *b, doc_error *err);
/* The builder's error so far. */
const doc_error *doc_builder_error(const doc_builder *b);

/* Boxes of a scalar, for commands that make values (INCR results, ...). */
doc_node *doc_box_int(int64_t v);
doc_node *doc_box_double(double v);
doc_node *doc_box_string(const char *s, size_t len);
doc_node *doc_box_bool(int v);
doc_node *doc_box_null(void);
/* A box holding an empty container: [] for DOC_ARRAY, {} for DOC_OBJECT
 * (the one way the core and the commands make one); NULL out of memory. */
doc_node *doc_box_empty(doc_type container);
/* Deep copy of an encoded value into a new box (iterative). */
doc_node *doc_value_copy(const uint8_t *val);

/* ------------------------------------------------------------------ */
/* Parsing and printing (parse.c, print.c)                            */
/* ------------------------------------------------------------------ */

/* Parses exactly one JSON text (RFC 8259, I-JSON rules) into a new box.
 * BADJSON with byte offset on: syntax errors, invalid UTF-8, lone surrogate
 * escapes, duplicate object keys, numbers out of double range, trailing
 * garbage. TOODEEP when nesting exceeds max_depth. Never recurses. */
doc_node *doc_parse(const char *text, size_t len, uint32_t max_depth, doc_error *err);

/* Appends the compact JSON text of the value at `val` to out. Iterative.
 * Doubles print in the shortest form that reads back to the same double and
 * always look like doubles (contain '.', or 'e'). Control characters, '"' and
 * '\\' are escaped; other UTF-8 is copied as is. */
void doc_print(const uint8_t *val, doc_buf *out);

/* The binary form of a whole tree (tree.c; the RDB encoding, encver 2):
 * each node's packed bytes with its child pointers zeroed, nodes in
 * depth-first pre-order, each after its entry count and byte length.
 * Position-independent; little-endian. */
/* Appends the serialized form of the tree in `box` to out. DOC_OK, or
 * DOC_NOMEM (out->oom set; out then holds a partial form to be discarded). */
doc_status doc_tree_serialize(const doc_node *box, doc_buf *out);
/* Makes a new box (caller owns) from a serialized tree data[0..len), which
 * may be hostile: validated completely (lengths, counts, tags, smallest
 * integer encodings, finite doubles, UTF-8 of keys and strings, duplicate
 * keys, zeroed child slots, nesting <= max_depth, nothing left over) before
 * any node is made from it; never reads outside data[0..len). NULL with err
 * filled on failure: BADJSON (malformed; offset into data), TOODEEP, NOMEM.
 * Iterative. */
doc_node *doc_tree_load(const uint8_t *data, size_t len, uint32_t max_depth, doc_error *err);

/* Number formatting / parsing shared by the printer and commands. */
/* Writes the shortest round-trip text of finite d into out (>= 32 bytes);
 * returns its length. */
size_t doc_format_double(double d, char *out);
/* Writes the decimal text of v into out (>= 21 bytes); returns its length. */
size_t doc_format_int(int64_t v, char *out);
/* Parses a JSON number token exactly: int64 when it is an integer that fits,
 * else a double (correctly rounded). Returns DOC_OK, DOC_BADJSON (syntax or
 * out of double range). is_int tells which of *i / *d was set. */
doc_status doc_number_parse(const char *s, size_t len, int *is_int, int64_t *i, double *d);
/* Reads the JSON number token that starts at s (s < end): it ends at the
 * first byte that cannot continue it, *stop is set just past it, and the
 * value is decided as by doc_number_parse. BADJSON when the token is cut
 * short (*stop: where a digit was needed, possibly end); OVERFLOW when it is
 * beyond the double range (*stop: past the token). The parser's hot path. */
doc_status doc_number_read(const char *s, const char *end, const char **stop, int *is_int, int64_t *i,
                           double *d);

/* Arithmetic (number.c), one rule for DOC.INCR / DOC.MUL and $inc / $mul. */
typedef enum doc_arith_op { DOC_ARITH_ADD, DOC_ARITH_MUL } doc_arith_op;
/* *r = a + b or a * b (two number views): an int64 when both are integers
 * (OVERFLOW when the exact result does not fit), else a double (OVERFLOW
 * when not finite). On OVERFLOW r->type still says which of the two failed;
 * the caller words the error. */
doc_status doc_number_arith(doc_arith_op op, const doc_view *a, const doc_view *b, doc_view *r);

/* Array index arithmetic (number.c). */
/* The index a canonical decimal segment s[0..n) names ("0", or digits not
 * starting with '0'), when it is at most max; -1 otherwise (empty, not
 * digits, a leading zero, or past max). Each caller states its bound:
 * what a 32-bit element count can reach, or RFC 9535's 2^53-1. */
int64_t doc_decimal_index(const char *s, size_t n, int64_t max);
/* An insertion point `at` in an array of n elements: at >= 0 counts from the
 * start, at < 0 from the end (-1: before the last); clamped into [0, n]. */
uint32_t doc_index_clamp(int64_t at, uint32_t n);
/* The range [*from, *to) of `total` elements that a capped push keeps: the
 * first `count` (from_end 0) or the last `count` (from_end 1), all of them
 * when count >= total. PUSH KEEP n / KEEP -n and $push $slice -n / n. */
void doc_keep_window(uint64_t total, uint64_t count, int from_end, uint64_t *from, uint64_t *to);

/* ------------------------------------------------------------------ */
/* Comparison                                                         */
/* ------------------------------------------------------------------ */

/* Deep equality of two encoded values: same JSON type (int and double compare
 * numerically: 1 == 1.0), strings byte-equal, objects with the same members in
 * any order, arrays element-wise. Iterative. */
int doc_value_equal(const uint8_t *a, const uint8_t *b);
/* Same JSON text: same types (1 is not 1.0), same member order. */
int doc_value_identical(const uint8_t *a, const uint8_t *b);
/* 1 when s[0..len) is valid UTF-8 (RFC 3629). */
int doc_utf8_valid(const char *s, size_t len);
/* One UTF-8 sequence at p (n >= 1 bytes): its length and code point, or 0
 * when not well-formed (overlong, surrogate, past U+10FFFF). */
size_t doc_utf8_decode(const unsigned char *p, size_t n, uint32_t *cp);
/* Code point cp (a Unicode scalar value) as UTF-8 into out; its length. */
size_t doc_utf8_encode(uint32_t cp, char out[4]);
/* Appends s[0..len) as the body of a string literal quoted with `quote`
 * (' or "): the quote, backslash and control characters escaped, as RFC 9535
 * normalized paths and JSON want. */
void doc_string_escape(const char *s, size_t len, char quote, doc_buf *out);
/* Decodes the RFC 9535 string literal whose quote (' or ") is at s[*pos],
 * in valid UTF-8 text s[0..len) (utf8.c; the path and query compilers share
 * it): escapes \b \f \n \r \t \/ \\, the literal's own quote, and \uXXXX
 * (surrogates only as a pair). The decoded bytes go to put(ctx, bytes, n)
 * in pieces. DOC_OK: *pos is past the closing quote. DOC_BADPATH: *bad_at
 * is the byte offset of the fault (the opening quote when unterminated, the
 * backslash of a bad escape, the control character) and *bad_msg a constant
 * message; the caller words the error (e.g. in characters). */
doc_status doc_string_literal_decode(const char *s, size_t len, size_t *pos,
                                     void (*put)(void *ctx, const char *bytes, size_t n), void *ctx,
                                     size_t *bad_at, const char **bad_msg);
/* Numeric comparison of two number views: -1, 0, 1 (exact across int/double). */
int doc_number_cmp(const doc_view *a, const doc_view *b);
/* Bytewise order of two byte strings: -1, 0, 1 (a prefix first). */
int doc_bytes_cmp(const char *a, size_t an, const char *b, size_t bn);
/* The same-type order (compare.c) of DOC.MIN / DOC.MAX, CHECK GT/GE/LT/LE and
 * $min / $max: numbers with numbers (exactly), strings with strings
 * (bytewise); -1, 0, 1. Any other pair is not comparable: *ok = 0, returns 0. */
int doc_compare_same_type(const doc_view *a, const doc_view *b, int *ok);
/* Work space of doc_compare_bson, reused across the comparisons of one sort. */
typedef struct doc_order {
    doc_buf stack; /* pairs of containers being walked */
    int oom;       /* 1 once a comparison ran out of memory (its answer was 0) */
} doc_order;
void doc_order_init(doc_order *o);
void doc_order_free(doc_order *o);
/* The total order across types of $push $sort (MongoDB's BSON order, see
 * compare.c): -1, 0, 1. Iterative. Out of memory answers 0 and sets o->oom
 * (sticky), so a sort can finish and then report it. */
int doc_compare_bson(doc_order *o, const uint8_t *a, const uint8_t *b);

/* ------------------------------------------------------------------ */
/* Paths (path.c)                                                     */
/* ------------------------------------------------------------------ */

typedef enum doc_seg_kind {
    DOC_SEG_NAME,  /* object member: $.a, $["a"], $['a'], a (dot style) */
    DOC_SEG_INDEX, /* array index: $[3], $[-1] (negative: from the end) */
    DOC_SEG_DOTNUM /* dot-style digits "3": array index, or member "3" of an object */
} doc_seg_kind;

typedef struct doc_seg {
    doc_seg_kind kind; /* which fields are meaningful */
    const char *name;  /* NAME / DOTNUM: decoded member name (points into path storage) */
    size_t len;        /* NAME / DOTNUM: its length */
    int64_t index;     /* INDEX / DOTNUM: the index */
} doc_seg;

/* A compiled single path: a list of segments; zero segments is the root. */
typedef struct doc_path {
    size_t nseg;   /* segments */
    doc_seg *segs; /* nseg segments */
    char *text;    /* decoded names live here (owned) */
    size_t refs;   /* owners beyond the first (doc_path_ref); 0: one owner */
} doc_path;

/* Compiles a single path in either style:
 *   JSONPath (starts with '$'): $  $.a  $["a b"]  $['a']  $.a[0]  $.a[-1]
 *   dot style: a.b.0   .a.b   .  (leading '.' optional; '.' alone is the root)
 * BADPATH with the character offset of the problem; TOODEEP when it has more
 * than max_segments segments. An empty path is BADPATH. */
doc_status doc_path_compile(const char *text, size_t len, size_t max_segments, doc_path **out,
                            doc_error *err);
/* Drops one owner's hold; the last owner frees the path. */
void doc_path_free(doc_path *p);
/* Adds an owner (a compiled path is immutable, so owners may share it). */
doc_path *doc_path_ref(doc_path *p);
/* Appends a canonical JSONPath text ($["a"][0]) of the first n segments. */
void doc_path_print(const doc_path *p, size_t n, doc_buf *out);

/* ------------------------------------------------------------------ */
/* Documents, cursors and undoable edits (edit.c)                     */
/* ------------------------------------------------------------------ */

/* Where a path led: frames[0] is the root box; frames[k].node contains, at
 * frames[k].val_off, the value that frames[k+1] is about. The target value is
 * in frames[depth-1].node at frames[depth-1].val_off. */
typedef struct doc_frame {
    doc_node *node;     /* container (box, object or array) */
    uint32_t entry_off; /* offset of the entry (the key for objects) */
    uint32_t val_off;   /* offset of the value within node */
    uint32_t index;     /* position of the entry within node */
} doc_frame;

typedef struct doc_cursor {
    doc_node **rootp;        /* where the root box pointer lives (updated on realloc) */
    size_t depth;            /* frames used */
    size_t cap;              /* frames allocated */
    doc_frame *frames;       /* the frames */
    int missing;             /* 1: the last segment names a member that does not exist;
                            frames[depth-1] then is the object it would go in */
    const char *missing_key; /* that member's name (points into the path) */
    size_t missing_klen;     /* its length */
    doc_frame local[8];      /* first frames: most paths are shallow (no allocation);
                                a cursor must therefore not be copied by value */
} doc_cursor;

/* A cursor on the document whose root box pointer is *rootp; free it with
 * doc_cursor_free (inline: both run on every path op). */
static inline void doc_cursor_init(doc_cursor *c, doc_node **rootp) {
    c->rootp = rootp;
    c->depth = 0;
    c->cap = sizeof c->local / sizeof c->local[0];
    c->frames = c->local;
    c->missing = 0;
    c->missing_key = NULL;
    c->missing_klen = 0;
}
static inline void doc_cursor_free(doc_cursor *c) {
    if (c->frames != c->local) doc_free(c->frames);
    c->frames = c->local;
    c->cap = sizeof c->local / sizeof c->local[0];
    c->depth = 0;
}
/* The target value's bytes (NULL when c->missing). */
const uint8_t *doc_cursor_value(const doc_cursor *c);

/* An undo log: every edit made through it records its inverse, and costs what
 * the edit costs. Nodes an edit detaches are kept until commit. */
typedef struct doc_undo doc_undo;

/* What the edits logged in one undo log may do: passed with the log (no
 * global state), so two callers with different configs cannot interfere. */
typedef struct doc_limits {
    uint32_t max_depth;       /* deepest nesting an edit may create (max-depth);
                                  an edit placing a value deeper is TOODEEP */
    int (*waive_depth)(void); /* past max_depth (but within DOC_DEPTH_LIMIT) an edit
                                  asks it whether it may go deeper anyway; NULL: never.
                                  The glue waives the limit for writes it must replay
                                  exactly (a primary's stream, the AOF). */
} doc_limits;

/* A new log with the default limits {DOC_DEPTH_DEFAULT, NULL}. Functions that
 * take a NULL log use a private one with these defaults. */
doc_undo *doc_undo_new(void);
/* The limits every later edit logged in u obeys (copied). */
void doc_undo_set_limits(doc_undo *u, const doc_limits *limits);
/* Makes the edits permanent: frees detached nodes, empties the log. */
void doc_undo_commit(doc_undo *u);
/* From now on commit hands each detached tree to reap (see doc_reap_fn)
 * instead of freeing it, then calls reap(NULL, arg) once at the end of a
 * commit that logged anything: the batch is complete. NULL: commit frees. */
void doc_undo_set_reaper(doc_undo *u, doc_reap_fn reap, void *arg);
/* Reverts every edit since the last commit, newest first; the trees are then
 * byte-identical to what they were. */
void doc_undo_rollback(doc_undo *u);
void doc_undo_free(doc_undo *u); /* commits first */
/* Moves the cursor one segment down from its target value: DOC_OK when the
 * child exists; NOPATH when it does not (for a member of an object, the
 * cursor is then `missing` that member, ready for doc_edit_set_take);
 * BADTYPE when the segment does not fit the value's type. */
doc_status doc_cursor_down(doc_cursor *c, const doc_seg *s, doc_error *err);
/* Back up to `depth` frames (and not missing any more). */
void doc_cursor_up(doc_cursor *c, size_t depth);

/* Replaces the target value (or adds the missing member) with one encoded
 * scalar (no containers inside). */
doc_status doc_edit_set_encoded(doc_cursor *c, const uint8_t *enc, size_t len, doc_undo *u, doc_error *err);
/* doc_edit_set_encoded for the last edit of a change that is then committed:
 * the caller promises never to roll u back past this edit (nothing after it
 * can fail; a single-op command's last step). A scalar replaced by a scalar
 * of the same encoded size (an INCR, a TOGGLE) is then written in place with
 * no record, since its inverse would never be replayed and its old bytes free
 * nothing at commit; it counts in doc_undo_unlogged and as a change for
 * doc_undo_changed_since / doc_undo_settle of any earlier mark. Any other
 * edit is doc_edit_set_encoded's, logged. Same errors. */
doc_status doc_edit_set_encoded_final(doc_cursor *c, const uint8_t *enc, size_t len, doc_undo *u,
                                      doc_error *err);
/* Inserts the values of n boxes (all consumed) as a run before element
 * `index` of the array at the cursor: one edit. */
doc_status doc_edit_insert_many_take(doc_cursor *c, uint32_t index, doc_node **boxes, size_t n, doc_undo *u,
                                     doc_error *err);
/* Removes elements [from, from + count) of the array at the cursor: one edit. */
doc_status doc_edit_remove_range(doc_cursor *c, uint32_t from, uint32_t count, doc_undo *u, doc_error *err);
/* Removes every element of the array at the cursor deep-equal to the value
 * of one of the boxes vals[0..nvals) (not taken), found with doc_array_find
 * (in a large array of scalars: O(1) when there is none, one pass over the
 * array from the first equal one otherwise), removed as doc_edit_remove_where
 * removes (an edit per run up to four runs, else one rewrite);
 * *removed counts them. BADTYPE when the target is not an array. */
doc_status doc_edit_remove_equal(doc_cursor *c, doc_node *const *vals, size_t nvals, doc_undo *u,
                                 uint32_t *removed, doc_error *err);
/* Removes every member of the object at the cursor for which match(ctx,
 * key, klen, value) is 1, in one rewrite of the object (O(object), where one
 * removal per member moves the bytes after each); *removed counts them.
 * BADTYPE when the target is not an object. On failure nothing changed. */
doc_status doc_edit_remove_members(doc_cursor *c,
                                   int (*match)(void *ctx, const char *key, size_t klen, const uint8_t *val),
                                   void *ctx, doc_undo *u, uint32_t *removed, doc_error *err);
/* Removes every element of the array at the cursor for which match(ctx, el)
 * is 1: one edit per run of neighbours (last run first) when there are at
 * most four runs, else one rewrite of the array (O(array) however many);
 * *removed counts them. BADTYPE when the target is not an array (nothing
 * changed). With a few runs it can fail part-way (NOMEM after some runs were
 * removed; *removed counts those): with a log u, the caller rolls u back to
 * its mark taken before the call; with u NULL each run's removal is final,
 * so a failure may leave some removed - pass a log when all or nothing
 * matters. */
doc_status doc_edit_remove_where(doc_cursor *c, int (*match)(void *ctx, const uint8_t *el), void *ctx,
                                 doc_undo *u, uint32_t *removed, doc_error *err);
/* Replaces every element of the array at the cursor at once with the values
 * packed in bytes[0..len) (not taken), as many as the array has: one edit
 * and one log record (the old bytes), O(old + new bytes), where one edit per
 * element moves the tail each time (O(n^2) when sizes change). A value may
 * be an element's own bytes left in place (a container then keeps its child
 * node, which the old and new bytes share); any other container value is a
 * new node the array takes over (freed by a rollback). New containers are
 * depth-checked (TOODEEP). BADTYPE when the target is not an array; ERR when
 * the count differs. The same bytes make no edit. On failure nothing
 * changed and no new node was taken. */
doc_status doc_edit_rewrite(doc_cursor *c, const uint8_t *bytes, size_t len, doc_undo *u, doc_error *err);

/* A stage: how a write of many elements of one array (a query path's
 * matches, `$.l[*]`) runs element by element through the single-path code
 * of its op yet moves the array's bytes once. Each element is put alone on
 * the stage (doc_stage_load): a stand-in document of nested one-element
 * arrays where it sits at the depth it has in the document (so depth limits
 * and messages are the same), written through the stage's own log
 * (doc_stage_undo, with the limits of the document's log). Its new value (or
 * its removal) is then set aside (doc_stage_keep), and one rewrite of the
 * array writes every value set aside (doc_stage_flush): O(array + values)
 * instead of one move of the array's tail per element.
 *
 * Ownership: a loaded container element's node stays the array's (the stage
 * borrows it and never frees it); new containers the op made are the
 * stage's until a flush hands them to the array. Elements are loaded in
 * decreasing index order between two flushes, and the array must not be
 * edited between the loads and the flush but through the flush. */
typedef struct doc_stage doc_stage;

/* A stage for elements at `levels` segments below the root (the length of
 * their path; at least 1), whose edits obey the limits of log `like`. NULL
 * out of memory. */
doc_stage *doc_stage_new(uint32_t levels, const doc_undo *like);
/* Frees the stage and the values set aside but not flushed. Nothing may be
 * loaded (keep or drop first). */
void doc_stage_free(doc_stage *s);
/* The stand-in document's root box slot, the path of the element in it,
 * and the log the op writes through. */
doc_node **doc_stage_root(doc_stage *s);
doc_path *doc_stage_path(const doc_stage *s);
doc_undo *doc_stage_undo(doc_stage *s);
/* Puts element `index` of the array at cursor c on the stage (*loaded 1).
 * A container element is put there only when `containers` is 1, which the
 * caller may say only for an op that replaces or removes its target whole
 * and never edits inside it (an edit inside would move the borrowed node
 * away from the array): else *loaded is 0 and the stage is left as it was.
 * BADTYPE when the target is not an array, NOPATH when there is no such
 * element, NOMEM. */
doc_status doc_stage_load(doc_stage *s, const doc_cursor *c, uint32_t index, int containers, int *loaded,
                          doc_error *err);
/* After the op succeeded on the loaded element: sets its new value (or its
 * removal) aside for the next flush, unless it is unchanged, frees what the
 * op detached (not the borrowed element) and empties the stage. On failure
 * (NOMEM, TOOBIG: past 4 GB set aside) the op's edits are undone and the
 * stage emptied. */
doc_status doc_stage_keep(doc_stage *s, doc_error *err);
/* After the op failed on the loaded element: undoes its edits on the stage
 * and empties it. */
void doc_stage_drop(doc_stage *s);
/* Writes every value set aside into the array at cursor c (the one they were
 * loaded from): one edit in u (or, when every one is a same-size replacement,
 * one in-place edit each), the value hash then dropped if the element count
 * or any size changed. Values set aside are then the array's. DOC_OK with no
 * edit when nothing was set aside. On failure (NOMEM, TOODEEP, TOOBIG) nothing
 * changed and the values stay set aside (doc_stage_free frees them). */
doc_status doc_stage_flush(doc_stage *s, doc_cursor *c, doc_undo *u, doc_error *err);
/* The encoding of a scalar into out (>= 16 bytes for numbers/bools/null;
 * strings need 1 + 10 + len): returns bytes written. */
size_t doc_encode_number(uint8_t *out, const doc_view *v);

/* A savepoint: the number of edits logged so far. */
size_t doc_undo_mark(const doc_undo *u);
/* Reverts the edits made after `mark`, newest first. */
void doc_undo_rollback_to(doc_undo *u, size_t mark);
/* 1 when the edits logged after `mark` changed the JSON text of some
 * document, 0 when their net effect is nothing (e.g. a member added then
 * removed, +1 then -1). Decided per edited node (edit.c), never by comparing
 * whole documents. An edit below a node the span also edits counts as a
 * change. Out of memory counts as a change. */
int doc_undo_changed_since(doc_undo *u, size_t mark);
/* The same, over the edits of one document only (the root box slot its
 * cursors were made on): a multi-op command (DOC.TXN, DOC.MSET) asks it per
 * document, so ops that cancel each other out change nothing. */
int doc_undo_changed_doc(doc_undo *u, size_t mark, doc_node **rootp);
/* 1 when an edit logged after `mark` to a node `depth` value offsets below
 * its root box (an array at a path of `depth` segments: a replacement or
 * removal of its elements) replaced bytes by a different number of bytes or
 * changed the entry count, so it moved the bytes after it. */
int doc_undo_resized_since(doc_undo *u, size_t mark, uint32_t depth);
/* When the edits after `mark` changed nothing (doc_undo_changed_since),
 * reverts them so no edit stays logged and returns 1; else 0. The trees are
 * byte-identical either way as far as JSON text goes. */
int doc_undo_settle(doc_undo *u, size_t mark);
/* Number of edits logged since the last commit. */
size_t doc_undo_size(const doc_undo *u);
/* Number of edits made without a record (doc_edit_set_encoded_final) since
 * the last commit or full rollback: a caller's sign that something changed. */
size_t doc_undo_unlogged(const doc_undo *u);
/* Bytes the log holds (for measuring undo cost). */
size_t doc_undo_bytes(const doc_undo *u);

/* Resolves a path for reading. Returns DOC_OK with the cursor at the value,
 * or DOC_NOPATH (missing member / index out of range / type mismatch: reads
 * treat them all as "nothing there"). */
doc_status doc_resolve(doc_cursor *c, const doc_path *p, doc_error *err);

/* Resolves a path for writing: missing object members on the way are created
 * as empty objects (logged in u); a missing last member sets c->missing.
 * NOPATH: index out of range; BADTYPE: a scalar on the way, an index into an
 * object or a name into an array. On failure nothing was created. */
doc_status doc_resolve_write(doc_cursor *c, const doc_path *p, doc_undo *u, doc_error *err);

/* Replaces the target value with the value of `box` (consumed: its children
 * move into the document, its shell is freed). c->missing: appends the member
 * instead. The cursor stays valid and points at the new value. Setting the
 * same JSON text as the one there makes no edit. */
doc_status doc_edit_set_take(doc_cursor *c, doc_node *box, doc_undo *u, doc_error *err);
/* Removes the target member/element (not the root). The cursor then points at
 * the container (depth - 1). */
doc_status doc_edit_remove(doc_cursor *c, doc_undo *u, doc_error *err);
/* Inserts the value of `box` (consumed) into the array at the cursor, before
 * element `index` (index == count appends). */
doc_status doc_edit_insert_take(doc_cursor *c, uint32_t index, doc_node *box, doc_undo *u, doc_error *err);
/* Merges the RFC 7396 merge patch `patch` (an encoded value, not consumed)
 * into the target value, or into the member the cursor is missing (merge.c);
 * the cursor then points at the merged value. Fails part-way (TOODEEP, NOMEM) with
 * some members already merged: the caller rolls u back to its mark
 * (doc_undo_rollback_to) - with u NULL a private log does it and a failed
 * call leaves the document as it was. */
doc_status doc_edit_merge(doc_cursor *c, const uint8_t *patch, doc_undo *u, doc_error *err);

/* ------------------------------------------------------------------ */
/* Filters (filter.c): MongoDB query semantics on a JSON value        */
/* ------------------------------------------------------------------ */

/* A compiled filter: `{"qty": {"$gt": 2}, "tags": "red", "$or": [...]}`.
 * Compiled once per command, then matched against many values. */
typedef struct doc_filter doc_filter;

/* Compiles the filter held in the encoded value `f` (must be an object).
 * BADFILTER with a message naming where in the filter the problem is
 * (e.g. "at qty.$in: $in needs an array"). TOODEEP past max_depth. The
 * compiled filter does not point into `f` (f may be freed after). */
doc_status doc_filter_compile(const uint8_t *f, uint32_t max_depth, doc_filter **out, doc_error *err);
/* 1 when the value matches. Never fails; bounded by the filter's depth. */
int doc_filter_match(const doc_filter *f, const uint8_t *value);
/* 1 when array element `el` is one $pull and DOC.PULL WHERE remove (MongoDB's
 * rule): a filter of operators only (`{"$gte": 6}`) tests el as a field's
 * value (an array element is also searched one level); any other filter
 * (fields, $and/$or/$nor, `{}`) is a query on object elements only. */
int doc_filter_match_element(const doc_filter *f, const uint8_t *el);
void doc_filter_free(doc_filter *f);
/* The equality fields of a filter (top-level `field: value` and `$eq`, and
 * those inside a top-level `$and`), for DOC.UPDATE UPSERT: calls fn for each
 * (dotted path, value) pair; stops early when fn returns non-zero. */
void doc_filter_equalities(const doc_filter *f,
                           int (*fn)(void *ctx, const char *path, size_t plen, const uint8_t *val),
                           void *ctx);

/* ------------------------------------------------------------------ */
/* Query paths (query.c): RFC 9535 JSONPath                           */
/* ------------------------------------------------------------------ */

/* A compiled RFC 9535 query: any JSONPath, with wildcards, descendants,
 * slices, unions and filter expressions. A single path (doc_path) is the
 * special case of names and indexes only. */
typedef struct doc_query doc_query;

/* Compiles an RFC 9535 query (must start with '$'). BADPATH with character
 * offset; TOODEEP when nesting of the query itself passes max_depth. */
doc_status doc_query_compile(const char *text, size_t len, uint32_t max_depth, doc_query **out,
                             doc_error *err);
void doc_query_free(doc_query *q);
/* 1 when the query is a single path (only names and indexes). */
int doc_query_is_single(const doc_query *q);

/* Evaluates q on the value `root`; calls fn for each match in document
 * order (RFC 9535 "nodelist" order), stopping when fn returns non-zero.
 * Returns DOC_OK, DOC_NOMEM or DOC_TOOBIG (below). Never recurses on document depth beyond
 * what max-depth bounds. `norm` receives the normalized path of each match
 * ($['a'][0] form, RFC 9535 section 2.7) when non-NULL: fn then gets it as
 * a NUL-terminated string. TOOBIG when the evaluation takes more than 16
 * steps (children looked at or picked) per value of root's tree and more
 * than 100,000: repeated descendant segments multiply (the nodelist keeps
 * duplicates). */
doc_status doc_query_eval(const doc_query *q, const uint8_t *root,
                          int (*fn)(void *ctx, const uint8_t *value, const char *norm), void *ctx,
                          int want_norm, doc_error *err);

/* ------------------------------------------------------------------ */
/* Update documents (update.c): MongoDB's update operators            */
/* ------------------------------------------------------------------ */

/* A compiled update document, e.g.
 *   {"$set": {"a.b": 1}, "$inc": {"n": 2}, "$push": {"log": {"$each": [1], "$slice": -5}}}
 * with MongoDB's dotted paths, the all-positional $[] and filtered $[id]
 * (identifiers bound by array filters). Compiled once, applied once. */
typedef struct doc_update doc_update;

/* Compiles `update` (an object of operators) and `array_filters` (NULL, or
 * an array of filter objects whose top-level keys start with an identifier:
 * [{"x.qty": {"$gt": 2}}] binds $[x]). An unknown operator, a malformed
 * operand, conflicting paths ($set a with $inc a.b), an identifier without
 * an array filter, or an empty update is DOC_ERR with a message naming the
 * operator and path; a malformed array filter is DOC_BADFILTER. */
doc_status doc_update_compile(const uint8_t *update, const uint8_t *array_filters, uint32_t max_depth,
                              doc_update **out, doc_error *err);
void doc_update_free(doc_update *u);

/* Applies the update to the document whose root box is *rootp, through
 * cursors and the undo log `undo` (so the caller can roll everything back).
 * is_insert: the document was just created by an upsert ($setOnInsert
 * applies only then). *changed: 1 when any edit was made (writes of the
 * same JSON text are skipped). Fails part-way: the operators before the
 * failing one (and part of a fanned-out $[] one) stay applied and logged in
 * undo, so on any error the caller must roll undo back to a mark taken
 * before the call (doc_undo_rollback_to) - *changed is then 0 and the
 * document must not be used before that rollback. With undo NULL a private
 * log is used and rolled back: a failed call leaves the document as it was.
 * NOMEM may come from any step. The update may be applied any number of
 * times. Errors carry SPEC words: BADTYPE ($inc on a string, $push
 * on an object, a field created inside a scalar...), OVERFLOW, NOPATH (the
 * array of a $[] / $[id] segment is missing; a missing field is otherwise
 * no error: $pop/$pull/$unset/$rename no-op, the others create it), TOOBIG
 * (padding an array with more than 1,500,000 nulls), ERR ($rename into or
 * out of an array). */
doc_status doc_update_apply(const doc_update *u, doc_node **rootp, int is_insert, doc_undo *undo,
                            int *changed, doc_error *err);

/* For UPSERT: writes the equality fields of filter f (doc_filter_equalities)
 * into the document at *rootp (dotted paths, creating objects), as $set
 * would. A field path that is no valid update path ("a..b", "a.$[]") is
 * ERR; `{"a": 1, "a.b": 2}` is BADTYPE. Fails part-way like
 * doc_update_apply (fields before the failing one stay written): with undo
 * given the caller rolls back to its mark; with undo NULL a private log
 * makes the call all or nothing. */
doc_status doc_update_seed(doc_node **rootp, const doc_filter *f, doc_undo *undo, doc_error *err);

/* ------------------------------------------------------------------ */
/* Write targets of a query (target.c)                                */
/* ------------------------------------------------------------------ */

/* The nodes a query matches, as single paths a write can resolve one by
 * one: each matched node once (a union naming a node twice yields it once),
 * in document order (a container before its descendants, members in stored
 * order, elements by index). */
typedef struct doc_targets {
    size_t n;         /* matched nodes */
    doc_path **paths; /* n single paths, document order (owned) */
} doc_targets;

/* Evaluates q on the document whose root box is *rootp and fills out (the
 * caller frees it with doc_targets_free, also after a failure). NOMEM, or TOOBIG as
 * doc_query_eval.
 *
 * How a write uses it: apply to paths[n-1] first and paths[0] last. In that
 * order no edit can move a target not yet visited: an edit only shifts
 * later elements of its own array (already done) or changes the inside of
 * its own node (descendants, already done). Nested matches are therefore
 * applied deepest first, and an ancestor's edit sees (and may replace) what
 * its descendants' edits did. */
doc_status doc_query_targets(const doc_query *q, doc_node **rootp, doc_targets *out, doc_error *err);
void doc_targets_free(doc_targets *t);
/* 1 when targets a and b are elements of the same array: both end with an
 * index and name the same node before it (a write may then batch them:
 * doc_stage). */
int doc_target_siblings(const doc_path *a, const doc_path *b);

/* Appends a pretty-printed copy of compact JSON text (as doc_print writes
 * it) to out: RedisJSON's JSON.GET INDENT / NEWLINE / SPACE (format.c). */
void doc_json_format(const char *text, size_t len, const char *indent, size_t il, const char *nl, size_t nll,
                     const char *space, size_t sl, doc_buf *out);

/* ------------------------------------------------------------------ */
/* RedisJSON legacy paths (legacy_path.c)                             */
/* ------------------------------------------------------------------ */

/* Appends to out the RFC 9535 query text of a RedisJSON legacy path (one
 * that does not start with '$'): `.` is the root `$`; `.a.b[0]`, `a.b`,
 * `["k"]`, `[-1]`, `.a[*]`, `..a` and `.*` work as in RedisJSON. A dot name
 * runs to the next '.' or '[' and may hold any other byte (`.a-b`, `.1`),
 * so it is written as a bracketed name; bracket contents are copied as they
 * are (RFC 9535 grammar then applies to them). BADPATH (character offset in
 * the legacy text) for an empty path, an empty name (`.a..` at the end,
 * `a.`), or an unclosed bracket or quote. */
doc_status doc_legacy_path_to_query(const char *text, size_t len, doc_buf *out, doc_error *err);

#endif