/*
 * unit_alloc.h - the failing allocator of the unit tests: installed as the
 * core's allocator hook (doc_alloc_set), it fails allocations on purpose so a
 * test can prove a core function reports NOMEM, leaks nothing and leaves its
 * inputs as they were. One test process at a time uses it (Criterion runs
 * each test in its own process).
 */
#ifndef ATOMICDOC_UNIT_ALLOC_H
#define ATOMICDOC_UNIT_ALLOC_H

#include <stddef.h>

/* Installs the hook: the next n allocations (alloc or realloc) succeed and
 * every later one fails. Resets the counters. */
void unit_alloc_fail_after(long n);
/* Installs the hook: only allocation number k (0-based, counted from now)
 * fails; (size_t)-1 never fails, so the hook only counts. Resets the counters. */
void unit_alloc_fail_at(size_t k);
/* Back to malloc & co. */
void unit_alloc_plain(void);
/* Allocation calls since the hook was armed. */
size_t unit_alloc_calls(void);
/* Blocks allocated through the hook and not yet freed through it, since it
 * was armed (frees of blocks made before count too: arm before allocating). */
long unit_alloc_live(void);

#endif
