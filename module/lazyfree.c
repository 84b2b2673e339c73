/*
 * lazyfree.c - large committed garbage freed on a thread of the module's
 * own, as Redis frees large deleted values on its lazyfree (bio) thread.
 *
 * A write that detaches subtrees (DOC.SET over a document or a subtree,
 * DOC.DEL, a TXN) leaves them in the undo log until commit; commit hands
 * each detached tree to lazyfree_reap (the shared log's reaper, command.c),
 * then calls it with NULL: the batch is complete. The batch is weighed with
 * doc_node_free_effort, counted only up to LAZYFREE_THRESHOLD, so weighing
 * costs at most what freeing a small batch would. Below the threshold the
 * batch is freed here at once (a queue hop costs more than a few frees);
 * at or above it, the batch becomes one job on a mutex+condvar queue and
 * the thread frees it with doc_node_free, which ends in RedisModule_Free
 * (zmalloc: thread-safe) and in the core's atomic memory count.
 *
 * Invariant: a tree given to the reaper is referenced by nothing else. The
 * undo log has been emptied (commit), the live tree never pointed to it
 * (shared children of a rewrite are kept out by the core), value hashes
 * hold offsets within their own node, and the read cache holds text, not
 * nodes. So the thread and the main thread never touch the same node.
 *
 * Fork (BGSAVE, AOF rewrite): the child has no reaper thread; an atfork
 * handler makes the child free synchronously and never touch the queue's
 * mutex (which the thread may have held at the fork). jemalloc's own fork
 * handlers keep the allocator usable in the child. Shutdown: jobs still
 * queued are simply left; the process exits.
 */

#include "atomicdoc.h"

#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <string.h>

/* Redis's LAZYFREE_THRESHOLD (src/lazyfree.c): a value whose free effort is
 * above 64 allocations goes to the bio thread. Our effort unit is the same,
 * one allocation (see doc_node_free_effort). */
#define LAZYFREE_THRESHOLD 64

/* The thread's nice value. At 0, on a 2-core machine with other load, the
 * thread woken by a DOC.DEL of a 730 KB subtree (24,001 nodes) preempted
 * the main thread before its reply about one time in four: p90 of DOC.DEL
 * 640-850 µs, no better than freeing in place (560-590 µs). At 10: p50
 * 22-25 µs, p90 30-34 µs, p99 97-100 µs. Against a busy nice-0 thread on
 * the same core it gets about a tenth of that core (CFS weights 110 vs
 * 1024); on an idle core, all of it. */
#define LAZYFREE_NICE 10

/* One batch of garbage trees, freed by the thread in one go. */
typedef struct lazy_job {
    struct lazy_job *next; /* queue link */
    size_t n;              /* trees in nodes[] */
    doc_node *nodes[];     /* roots of the garbage trees */
} lazy_job;

static pthread_mutex_t queue_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_cv = PTHREAD_COND_INITIALIZER;
static lazy_job *queue_head, *queue_tail; /* under queue_mu */
static int running;                       /* 1 once the thread exists (main thread only) */
static int lazyfree_on = 1;               /* config atomicdoc.lazyfree */
static long long pending_objects;         /* trees queued, not yet freed (atomic) */
static long long freed_objects;           /* trees the thread has freed (atomic) */

/* The batch of the commit under way (main thread only): tree pointers
 * back to back, and their effort counted up to the threshold. */
static doc_buf batch;
static size_t batch_effort;

/* A fork while this thread is inside the allocator must not leave the
 * allocator's lock held in the child. jemalloc and glibc's malloc lock
 * themselves around fork (their atfork handlers); the AddressSanitizer
 * allocator of GCC 12's libasan does not, and a BGSAVE child then hung in
 * its first allocation (make sanitize's lazyfree suite). Under ASan the
 * thread frees each tree holding fork_mu, and a fork waits for it. */
#if defined(__SANITIZE_ADDRESS__)
static pthread_mutex_t fork_mu = PTHREAD_MUTEX_INITIALIZER;
static void fork_prepare(void) { pthread_mutex_lock(&fork_mu); }
static void fork_parent(void) { pthread_mutex_unlock(&fork_mu); }
#define FREE_GUARDED(stmt)              \
    do {                                \
        pthread_mutex_lock(&fork_mu);   \
        stmt;                           \
        pthread_mutex_unlock(&fork_mu); \
    } while (0)
#else
#define fork_prepare NULL
#define fork_parent NULL
#define FREE_GUARDED(stmt) stmt
#endif

static void *reaper_main(void *arg) {
    (void)arg;
    /* Lower priority (Linux: a thread's own nice value), so that waking it
     * does not preempt the main thread in the middle of its command on a
     * busy core. Best effort (raising one's nice value needs no privilege;
     * should it fail, the thread frees at the priority it has). */
    (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), LAZYFREE_NICE);
    pthread_mutex_lock(&queue_mu);
    for (;;) {
        while (!queue_head) pthread_cond_wait(&queue_cv, &queue_mu);
        lazy_job *j = queue_head;
        queue_head = j->next;
        if (!queue_head) queue_tail = NULL;
        pthread_mutex_unlock(&queue_mu);
        for (size_t i = 0; i < j->n; i++) FREE_GUARDED(doc_node_free(j->nodes[i]));
        __atomic_sub_fetch(&pending_objects, (long long)j->n, __ATOMIC_RELAXED);
        __atomic_add_fetch(&freed_objects, (long long)j->n, __ATOMIC_RELAXED);
        FREE_GUARDED(doc_free(j));
        pthread_mutex_lock(&queue_mu);
    }
    return NULL;
}

/* In a forked child (only the forking thread survives): free in place. */
static void after_fork_child(void) {
    running = 0;
#if defined(__SANITIZE_ADDRESS__)
    pthread_mutex_unlock(&fork_mu); /* taken by fork_prepare, in this thread */
#endif
}

int lazyfree_start(RedisModuleCtx *ctx) {
    pthread_t t;
    sigset_t all, old;
    /* Signals (SIGTERM, SIGALRM of the watchdog...) stay with Redis's
     * threads: the new thread inherits a mask blocking them all. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&t, NULL, reaper_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        RedisModule_Log(ctx, "warning", "atomicdoc: no lazyfree thread (%s): garbage is freed synchronously",
                        strerror(rc));
        return REDISMODULE_OK;
    }
    pthread_setname_np(t, "atomicdoc-free");
    pthread_detach(t);
    pthread_atfork(fork_prepare, fork_parent, after_fork_child);
    running = 1;
    return REDISMODULE_OK;
}

static void free_batch_here(doc_node **nodes, size_t n) {
    for (size_t i = 0; i < n; i++) doc_node_free(nodes[i]);
}

/* The batch is complete: free it here, or queue it whole for the thread. */
static void batch_end(void) {
    size_t n = batch.len / sizeof(doc_node *);
    doc_node **nodes = (doc_node **)(void *)batch.data;
    lazy_job *j = NULL;
    if (batch_effort >= LAZYFREE_THRESHOLD && running)
        j = doc_malloc(sizeof *j + n * sizeof *nodes); /* NULL: freed here */
    if (j) {
        j->next = NULL;
        j->n = n;
        memcpy(j->nodes, nodes, n * sizeof *nodes);
        __atomic_add_fetch(&pending_objects, (long long)n, __ATOMIC_RELAXED);
        pthread_mutex_lock(&queue_mu);
        if (queue_tail)
            queue_tail->next = j;
        else
            queue_head = j;
        queue_tail = j;
        pthread_cond_signal(&queue_cv);
        pthread_mutex_unlock(&queue_mu);
    } else {
        free_batch_here(nodes, n);
    }
    batch.len = 0;
    batch_effort = 0;
    /* A DOC.DEL of a million small elements leaves a large batch buffer:
     * do not keep it for the next command. */
    if (batch.cap > 64 * 1024) doc_buf_free(&batch);
}

void lazyfree_reap(doc_node *n, void *arg) {
    (void)arg;
    if (!n) {
        if (batch.len) batch_end();
        return;
    }
    if (!lazyfree_on || !running) { /* as before: freed at commit */
        doc_node_free(n);
        return;
    }
    size_t len = batch.len;
    doc_buf_append(&batch, &n, sizeof n);
    if (batch.len == len) { /* no memory for the batch: free this one now */
        batch.oom = 0;
        doc_node_free(n);
        return;
    }
    if (batch_effort < LAZYFREE_THRESHOLD)
        batch_effort += doc_node_free_effort(n, LAZYFREE_THRESHOLD - batch_effort);
}

int lazyfree_config_get(const char *name, void *privdata) {
    (void)name;
    (void)privdata;
    return lazyfree_on;
}

int lazyfree_config_set(const char *name, int val, void *privdata, RedisModuleString **err) {
    (void)name;
    (void)privdata;
    (void)err;
    lazyfree_on = val;
    return REDISMODULE_OK;
}

void lazyfree_info(RedisModuleInfoCtx *ctx) {
    RedisModule_InfoAddFieldCString(ctx, "lazyfree", lazyfree_on && running ? "yes" : "no");
    RedisModule_InfoAddFieldLongLong(ctx, "lazyfree_pending_objects",
                                     __atomic_load_n(&pending_objects, __ATOMIC_RELAXED));
    RedisModule_InfoAddFieldLongLong(ctx, "lazyfreed_objects",
                                     __atomic_load_n(&freed_objects, __ATOMIC_RELAXED));
}
