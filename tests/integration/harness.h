/* harness.h - real redis-server processes for Criterion integration tests.
 *
 * A test starts one or more Debian redis-server processes with the atomicdoc module
 * loaded ($ATOMICDOC_MODULE, an absolute path to atomicdoc.so), talks to them through
 * hiredis, and stops them:
 *
 *     Test(doc_set, replaces_the_whole_document) {
 *         srv *s = srv_start(NULL);
 *         redisContext *c = srv_connect(s);
 *         expect_ok(cmd(c, "DOC.SET k $ %s", "{\"a\":1}"));
 *         expect_str(cmd(c, "DOC.GET k"), "{\"a\":1}");
 *         redisFree(c);
 *         srv_stop(s);
 *     }
 *
 * Each server gets a free 127.0.0.1 port and a fresh directory /tmp/atomicdoc-*
 * ($ATOMICDOC_TMP instead of /tmp when set) holding the RDB, the AOF, redis.log,
 * and stderr.log where sanitizer reports land. When
 * $ATOMICDOC_PRELOAD names libasan.so (`make sanitize`), the server runs with it
 * preloaded so an ASan-built module can load.
 *
 * Failing: every function below that can fail fails the running test itself, with a
 * message that shows the actual reply or the server's log tail, and reports the line
 * of the test that called it (they are macros over *_at functions for that). So a
 * test never checks a return value for errors: cmd() never returns NULL.
 *
 * Ownership: expect_* free the reply they are given. srv_stop() frees the srv.
 * Strings returned by srv_info_field() and srv_digest() are malloc'd: free() them.
 * Contexts from srv_connect() are the test's: redisFree() them (sanitize builds
 * check leaks).
 *
 * Cleanup when a test fails or crashes: servers are registered in a list of the
 * test's process and stopped from an atexit handler (a failed assertion still exits
 * the Criterion worker normally); a server also dies with SIGKILL when the process
 * that started it dies (PR_SET_PDEATHSIG), which covers crashed and timed-out
 * workers; and the Criterion runner removes, after the last test, any directory a
 * dead worker left. Set KEEP_DIRS=1 to keep every server directory; the directory of
 * a server that crashed after starting is always kept and its path printed.
 *
 * Servers get fixed settings a test can override through srv_opts.config:
 * appendfsync always (with .aof), disk-based full sync with no delay (a replica
 * syncs in milliseconds), no crash memory test (it confuses ASan), and the DEBUG and
 * MODULE commands enabled.
 *
 * Limits: start waits 30 s for PING, stop waits 10 s for exit, replica sync 10 s;
 * each command may take 30 s before the test fails with a timeout. Start servers
 * from the test's main thread (PR_SET_PDEATHSIG follows the thread that forked).
 * In a process the test forked, a harness failure prints its message and _exit(1)s
 * that process (only the test's own process can report to Criterion).
 */
#ifndef ATOMICDOC_HARNESS_H
#define ATOMICDOC_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <hiredis/hiredis.h>

/* How to start a server. A NULL srv_opts * means all defaults. */
typedef struct srv_opts {
    bool aof;                       /* --appendonly yes (default: no), with
                                       appendfsync always: every acknowledged
                                       write survives srv_kill() */
    bool no_module;                 /* do not --loadmodule (a test that runs MODULE
                                       LOADEX itself; $ATOMICDOC_MODULE is its path) */
    const char *const *module_args; /* words after the module path, NULL-terminated;
                                       e.g. (const char *[]){"max-depth", "64", NULL} */
    const char *const *config;      /* extra config as name, value pairs, NULL-terminated;
                                       a value is split at spaces into words:
                                       (const char *[]){"maxmemory", "10mb", NULL} */
} srv_opts;

/* A running (or killed, before srv_restart) server. Read-only for tests. */
typedef struct srv {
    pid_t pid;             /* redis-server process; 0 after srv_kill() */
    int port;              /* 127.0.0.1 TCP port; kept across srv_restart() */
    char dir[128];         /* its --dir: dump.rdb, appendonlydir/, redis.log, stderr.log */
    struct srv_priv *priv; /* private to harness.c: exec arguments, options, list link */
} srv;

/* Starts redis-server with the module and `opts` (NULL: defaults); returns once it
 * answers PING. Fails the test if $ATOMICDOC_MODULE is unset or the server does not
 * come up (the log tail is shown). Variadic only so that a compound literal with
 * commas can be passed: srv_start(&(srv_opts){ .aof = true, .config = ... }). */
#define srv_start(...) srv_start_at(__FILE__, __LINE__, __VA_ARGS__)

/* Starts a replica of `primary` (same module args and config, plus replicaof) and
 * returns once it has completed the initial sync (srv_wait_replica_synced). */
#define srv_start_replica(primary) srv_start_replica_at(__FILE__, __LINE__, (primary))

/* SHUTDOWN NOSAVE NOW (no wait for lagging replicas), waits for the exit, removes
 * the directory (unless KEEP_DIRS) and frees `s`. Fails the test, keeping the
 * directory, when the server had died or does not exit with status 0 (a crash or a
 * sanitizer report: the log tails are shown). */
#define srv_stop(s) srv_stop_at(__FILE__, __LINE__, (s))

/* Restarts `s` on the same port and directory with the same arguments, so it loads
 * its RDB or AOF. A running server is first stopped with SHUTDOWN SAVE; call
 * srv_kill() before to restart after a crash instead. */
#define srv_restart(s) srv_restart_at(__FILE__, __LINE__, (s))

/* SIGKILLs the server and reaps it; `s` stays valid for srv_restart / srv_stop. */
void srv_kill(srv *s);

/* A new connection to `s` (5 s connect timeout, 30 s per command). */
#define srv_connect(s) srv_connect_at(__FILE__, __LINE__, (s))

/* Runs a command, hiredis format (%s, %b with pointer + length, %lld, ...).
 * Never returns NULL: a lost connection fails the test, showing the server's state. */
#define cmd(c, ...) cmd_at(__FILE__, __LINE__, (c), __VA_ARGS__)

/* Runs a command given as argv; `lens` may be NULL when every argument is a C
 * string. Use it for binary payloads. Never returns NULL. */
#define cmdv(c, argc, argv, lens) cmdv_at(__FILE__, __LINE__, (c), (argc), (argv), (lens))

/* Reply checks. Each frees the reply; on mismatch the test fails with the actual
 * reply (type and text). */
#define expect_ok(r) expect_status_at(__FILE__, __LINE__, (r), "OK")
/* status reply with exactly this text, e.g. TYPE's "atomicdoc" */
#define expect_status(r, text) expect_status_at(__FILE__, __LINE__, (r), (text))
/* bulk string reply with exactly these bytes */
#define expect_str(r, text) expect_str_at(__FILE__, __LINE__, (r), (text))
#define expect_int(r, n) expect_int_at(__FILE__, __LINE__, (r), (n))
#define expect_nil(r) expect_nil_at(__FILE__, __LINE__, (r))
/* error reply whose text starts with `code`: the whole first word when `code` is a
 * single word ("BADJSON" matches "BADJSON at byte 3", not "BADJSONX"), else a prefix */
#define expect_err_prefix(r, code) expect_err_prefix_at(__FILE__, __LINE__, (r), (code))
#define expect_array_len(r, n) expect_array_len_at(__FILE__, __LINE__, (r), (n))

/* Calls cond(arg) every 10 ms until it returns true (then returns true) or
 * timeout_ms passes (then returns false; the caller asserts). */
bool wait_until(bool (*cond)(void *arg), void *arg, int timeout_ms);

/* The value of `field` in INFO `section`, malloc'd, or NULL when absent. */
#define srv_info_field(c, section, field) srv_info_field_at(__FILE__, __LINE__, (c), (section), (field))

/* The same as an integer; fails the test when absent or not an integer. */
#define srv_info_int(c, section, field) srv_info_int_at(__FILE__, __LINE__, (c), (section), (field))

/* DEBUG DIGEST of the dataset (40 hex digits), malloc'd. */
#define srv_digest(c) srv_digest_at(__FILE__, __LINE__, (c))

/* Waits until `replica` is linked to `primary` and has applied everything the
 * primary had when called (replication offsets). */
#define srv_wait_replica_synced(primary, replica) \
    srv_wait_replica_synced_at(__FILE__, __LINE__, (primary), (replica))

/* One line describing a reply, e.g. `error "BADJSON at byte 3"` or
 * `array(2) [string "a", nil]`, written to buf (truncated to len). For messages. */
const char *reply_describe(const redisReply *r, char *buf, size_t len);

/* DOC.VERSION of key (fails the test unless the reply is an integer). */
#define doc_version(c, key) doc_version_at(__FILE__, __LINE__, (c), (key))
/* DOC.GET of key as malloc'd text ("(nil)" for a missing key; fails the test on
 * any other reply than a string or nil): free() it. */
#define doc_text(c, key) doc_text_at(__FILE__, __LINE__, (c), (key))

/* A suite whose every test gets a fresh default server `s` and a connection
 * `c` to it (started in .init, stopped in .fini, even when the test fails; a
 * test may call suite_stop() itself to replace them with a server of its own):
 *     SRV_SUITE(commands);
 *     Test(commands, ...) { expect_ok(cmd(c, "DOC.SET k $ 1")); }           */
#define SRV_SUITE(name)             \
    static srv *s;                  \
    static redisContext *c;         \
    static void suite_start(void) { \
        s = srv_start(NULL);        \
        c = srv_connect(s);         \
    }                               \
    static void suite_stop(void) {  \
        if (c) redisFree(c);        \
        c = NULL;                   \
        if (s) srv_stop(s);         \
        s = NULL;                   \
    }                               \
    TestSuite(name, .init = suite_start, .fini = suite_stop)

/* The functions behind the macros; `file` and `line` are the test's. */
srv *srv_start_at(const char *file, int line, const srv_opts *opts);
srv *srv_start_replica_at(const char *file, int line, const srv *primary);
void srv_stop_at(const char *file, int line, srv *s);
void srv_restart_at(const char *file, int line, srv *s);
redisContext *srv_connect_at(const char *file, int line, const srv *s);
redisReply *cmd_at(const char *file, int line, redisContext *c, const char *fmt, ...);
redisReply *cmdv_at(const char *file, int line, redisContext *c, int argc, const char **argv,
                    const size_t *lens);
void expect_status_at(const char *file, int line, redisReply *r, const char *text);
void expect_str_at(const char *file, int line, redisReply *r, const char *text);
void expect_int_at(const char *file, int line, redisReply *r, long long n);
void expect_nil_at(const char *file, int line, redisReply *r);
void expect_err_prefix_at(const char *file, int line, redisReply *r, const char *code);
void expect_array_len_at(const char *file, int line, redisReply *r, size_t n);
char *srv_info_field_at(const char *file, int line, redisContext *c, const char *section, const char *field);
long long srv_info_int_at(const char *file, int line, redisContext *c, const char *section,
                          const char *field);
char *srv_digest_at(const char *file, int line, redisContext *c);
long long doc_version_at(const char *file, int line, redisContext *c, const char *key);
char *doc_text_at(const char *file, int line, redisContext *c, const char *key);
void srv_wait_replica_synced_at(const char *file, int line, const srv *primary, const srv *replica);

#endif
