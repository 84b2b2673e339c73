/*
 * alloc.c - the one allocator hook of the core. Inside Redis the glue points
 * it at RedisModule_Alloc & co, so Redis accounts for every document byte;
 * unit tests keep malloc, or install a failing allocator to test DOC_NOMEM.
 */
#include "doc.h"

#include <malloc.h>
#include <stdlib.h>

static size_t libc_usable(void *p) { return malloc_usable_size(p); }

/* The active hooks. Set once at load time, before any document exists. */
static doc_allocator hooks = {malloc, realloc, free, libc_usable};

void doc_alloc_set(const doc_allocator *a) { hooks = *a; }
void *doc_malloc(size_t size) { return hooks.alloc(size ? size : 1); }
void *doc_realloc(void *ptr, size_t size) { return hooks.realloc(ptr, size ? size : 1); }
void doc_free(void *ptr) {
    if (ptr) hooks.free(ptr);
}
size_t doc_alloc_size(void *ptr, size_t requested) {
    return hooks.usable && ptr ? hooks.usable(ptr) : requested;
}
