/*
 * unit_alloc.c - the failing allocator of the unit tests (unit_alloc.h).
 */
#include "unit_alloc.h"

#include <stdlib.h>

#include "doc.h"

static long budget = -1;           /* fail_after: allocations still allowed; -1 unlimited */
static size_t fail_k = (size_t)-1; /* fail_at: the allocation that fails */
static size_t calls;               /* allocation calls since armed */
static long live;                  /* blocks allocated minus freed since armed */

/* 1 when this allocation call is to fail. */
static int failing_now(void) {
    size_t k = calls++;
    if (budget >= 0) {
        if (budget == 0) return 1;
        budget--;
        return 0;
    }
    return k == fail_k;
}

static void *hook_alloc(size_t n) {
    if (failing_now()) return NULL;
    void *p = malloc(n);
    if (p) live++;
    return p;
}

static void *hook_realloc(void *old, size_t n) {
    if (failing_now()) return NULL;
    void *p = realloc(old, n);
    if (p && !old) live++;
    return p;
}

static void hook_free(void *p) {
    if (p) live--;
    free(p);
}

static const doc_allocator failing = {hook_alloc, hook_realloc, hook_free, NULL};
static const doc_allocator plain = {malloc, realloc, free, NULL};

void unit_alloc_fail_after(long n) {
    budget = n < 0 ? 0 : n;
    fail_k = (size_t)-1;
    calls = 0;
    live = 0;
    doc_alloc_set(&failing);
}

void unit_alloc_fail_at(size_t k) {
    budget = -1;
    fail_k = k;
    calls = 0;
    live = 0;
    doc_alloc_set(&failing);
}

void unit_alloc_plain(void) { doc_alloc_set(&plain); }

size_t unit_alloc_calls(void) { return calls; }

long unit_alloc_live(void) { return live; }
