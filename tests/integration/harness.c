/* harness.c - start, watch and stop real redis-server processes for integration tests.
 *
 * See harness.h for the API. Inside: a server is a child process of the Criterion
 * worker running the test, exec'd with stdout/stderr sent to <dir>/stderr.log and
 * PR_SET_PDEATHSIG = SIGKILL, so it can never outlive the worker. Live servers sit in
 * a list; an atexit handler stops whatever a test left behind (a failed assertion
 * longjmps out of the test, but the worker still exits normally). Each server's
 * directory holds harness.pid while the server may be running; the Criterion runner
 * (which sees workers only from outside) sweeps, after the last test, directories of
 * its run that still hold one - left by a worker that crashed. A directory without
 * harness.pid is finished or kept on purpose and is never touched by the sweep.
 *
 * Failures are reported as Criterion assertions carrying the test's file and line,
 * then the test is aborted; the srv is unlinked and freed first so nothing leaks.
 */
#include "harness.h"
#include "../test_util.h"

#include <criterion/abort.h>
#include <criterion/criterion.h>
#include <criterion/event.h>
#include <criterion/hooks.h>
#include <criterion/stats.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Deadlines. Start and stop include loading/saving a small dataset, under ASan too. */
#define START_TIMEOUT_MS \
    30000                       /* until PING answers PONG; a restart loads its RDB or
                                     AOF first: a 20 MB document under ASan took over
                                     10 s on a loaded 2-core machine */
#define STOP_TIMEOUT_MS 10000   /* from SHUTDOWN until the process exits */
#define SYNC_TIMEOUT_MS 10000   /* until a replica has caught up */
#define POLL_MS 10              /* poll interval of every wait */
#define CONNECT_TIMEOUT_S 5     /* srv_connect() */
#define COMMAND_TIMEOUT_S 30    /* one command: a hung server fails the test */
#define PORT_ATTEMPTS 8         /* a port picked free can be taken before Redis binds */
#define LOG_TAIL_LINES 30       /* lines of redis.log / stderr.log shown on failure */
#define LOG_LINE_MAX 300        /* longer log lines (hex dumps) are cut */
#define LOG_READ_MAX (1L << 20) /* only the end of a log is read */

/* NOW: do not wait for lagging replicas (Redis 7 waits up to 10 s); nothing is
 * saved anyway. */
#define STOP_COMMAND "SHUTDOWN NOSAVE NOW"

/* Set by the runner for its workers; names the temp dirs of this run. */
#define RUN_ENV "ATOMICDOC_HARNESS_RUN"

extern char **environ;

struct srv_priv {
    char **argv;        /* exec arguments (argv[0] is the server binary), NULL-ended */
    bool crashed;       /* the harness saw it exit uncleanly: keep its directory */
    pid_t creator;      /* the process that started it; only it may stop it */
    bool aof;           /* the options, kept for srv_start_replica() */
    bool no_module;     /* start without --loadmodule (the test loads it) */
    char **module_args; /* NULL-terminated copy of srv_opts.module_args */
    char **config;      /* NULL-terminated copy of srv_opts.config (name, value pairs) */
    srv *next;          /* next live server of this process */
};

static srv *g_servers;           /* live servers of this process (a Criterion worker) */
static bool g_atexit_registered; /* stop_leftovers() is registered */

/* ---- small utilities ---------------------------------------------------------- */

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "harness: out of memory\n");
        abort();
    }
    return p;
}

static char *xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...) {
    va_list ap;
    char *out;
    va_start(ap, fmt);
    if (vasprintf(&out, fmt, ap) < 0) out = NULL;
    va_end(ap);
    if (!out) {
        fprintf(stderr, "harness: out of memory\n");
        abort();
    }
    return out;
}

static void free_words(char **w) {
    if (!w) return;
    for (char **p = w; *p; p++) free(*p);
    free(w);
}

static size_t count_words(const char *const *w) {
    size_t n = 0;
    while (w && w[n]) n++;
    return n;
}

static char **copy_words(const char *const *w) {
    size_t n = count_words(w);
    char **out = xmalloc((n + 1) * sizeof *out);
    for (size_t i = 0; i < n; i++) out[i] = xstrdup(w[i]);
    out[n] = NULL;
    return out;
}

/* A growing NULL-terminated list of words (the exec argv under construction). */
typedef struct {
    char **w;   /* the words, w[n] == NULL */
    size_t n;   /* number of words */
    size_t cap; /* allocated slots, including the terminating NULL */
} words;

static void words_add(words *v, const char *s) {
    if (v->n + 2 > v->cap) {
        v->cap = v->cap ? v->cap * 2 : 32;
        char **nw = realloc(v->w, v->cap * sizeof *nw);
        if (!nw) {
            fprintf(stderr, "harness: out of memory\n");
            abort();
        }
        v->w = nw;
    }
    v->w[v->n++] = xstrdup(s);
    v->w[v->n] = NULL;
}

/* Adds `value` split at spaces; an empty value stays one empty word (--save ""). */
static void words_add_split(words *v, const char *value) {
    if (!*value) {
        words_add(v, "");
        return;
    }
    char *copy = xstrdup(value), *save = NULL;
    for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) words_add(v, t);
    free(copy);
}

/* The lines of the last LOG_READ_MAX bytes of a file: a malloc'd buffer whose lines
 * are NUL-terminated in place, indexed by *lines (malloc'd). NULL when unreadable. */
static char *read_lines(const char *path, char ***lines, size_t *nlines) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    long start = 0;
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        start = size > LOG_READ_MAX ? size - LOG_READ_MAX : 0;
    }
    fseek(f, start, SEEK_SET);
    char *buf = xmalloc(LOG_READ_MAX + 1);
    size_t n = fread(buf, 1, LOG_READ_MAX, f);
    fclose(f);
    buf[n] = '\0';
    size_t count = 0;
    for (size_t i = 0; i < n; i++) count += buf[i] == '\n';
    char **v = xmalloc((count + 2) * sizeof *v);
    size_t k = 0;
    for (char *p = buf; *p;) {
        v[k++] = p;
        char *nl = strchr(p, '\n');
        if (!nl) break;
        *nl = '\0';
        p = nl + 1;
    }
    *lines = v;
    *nlines = k;
    return buf;
}

static size_t find_line(char **v, size_t n, size_t from, const char *needle) {
    for (size_t i = from; i < n; i++)
        if (strstr(v[i], needle)) return i;
    return n;
}

/* Lines [from, to) of v, each cut at LOG_LINE_MAX characters. */
static void put_lines(FILE *out, char **v, size_t from, size_t to) {
    for (size_t i = from; i < to; i++) {
        if (strlen(v[i]) > LOG_LINE_MAX)
            fprintf(out, "%.*s...\n", LOG_LINE_MAX, v[i]);
        else
            fprintf(out, "%s\n", v[i]);
    }
}

/* What to show of redis.log: a crash report's head (signal, stack trace) and the
 * command being run, with the lines before it; otherwise the last lines. */
static void put_redis_log(FILE *out, const char *path) {
    char **v;
    size_t n;
    char *buf = read_lines(path, &v, &n);
    if (!buf) {
        fprintf(out, "  (%s: %s)\n", path, strerror(errno));
        return;
    }
    size_t crash = find_line(v, n, 0, "REDIS BUG REPORT START");
    if (crash < n) {
        size_t regs = find_line(v, n, crash, "------ REGISTERS");
        if (regs > crash + LOG_TAIL_LINES) regs = crash + LOG_TAIL_LINES;
        fprintf(out, "  --- %s: the crash report ---\n", path);
        put_lines(out, v, crash > 8 ? crash - 8 : 0, regs);
        size_t client = find_line(v, n, crash, "------ CURRENT CLIENT INFO");
        if (client < n) {
            size_t end = find_line(v, n, client + 1, "------");
            put_lines(out, v, client, end < client + 12 ? end : client + 12);
        }
    } else {
        fprintf(out, "  --- last lines of %s ---\n", path);
        put_lines(out, v, n > LOG_TAIL_LINES ? n - LOG_TAIL_LINES : 0, n);
    }
    free(v);
    free(buf);
}

/* What to show of stderr.log (nothing when empty): a sanitizer report from its
 * start, otherwise the last lines. */
static void put_stderr_log(FILE *out, const char *path) {
    char **v;
    size_t n;
    char *buf = read_lines(path, &v, &n);
    if (!buf || n == 0 || (n == 1 && !v[0][0])) {
        free(buf);
        if (buf) free(v);
        return;
    }
    size_t at = find_line(v, n, 0, "ERROR: AddressSanitizer");
    if (at == n) at = find_line(v, n, 0, "ERROR: LeakSanitizer");
    if (at == n) at = find_line(v, n, 0, "runtime error:");
    if (at < n) {
        fprintf(out, "  --- %s: the sanitizer report ---\n", path);
        put_lines(out, v, at, n < at + 2 * LOG_TAIL_LINES ? n : at + 2 * LOG_TAIL_LINES);
    } else {
        fprintf(out, "  --- last lines of %s ---\n", path);
        put_lines(out, v, n > LOG_TAIL_LINES ? n - LOG_TAIL_LINES : 0, n);
    }
    if (find_line(v, n, 0, "ASan runtime does not come first") < n)
        fprintf(out, "  (an ASan-built module needs ATOMICDOC_PRELOAD=$(gcc "
                     "-print-file-name=libasan.so), as `make sanitize` sets)\n");
    free(v);
    free(buf);
}

/* Both logs of a server, for failure messages. Returns a malloc'd string. */
static char *server_logs(const srv *s) {
    char *text = NULL, path[PATH_MAX];
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m) return xstrdup("(out of memory)");
    snprintf(path, sizeof path, "%s/redis.log", s->dir);
    put_redis_log(m, path);
    snprintf(path, sizeof path, "%s/stderr.log", s->dir);
    put_stderr_log(m, path);
    fclose(m);
    return text;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void remove_tree(const char *dir) { nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

static bool keep_dirs(void) {
    const char *k = getenv("KEEP_DIRS");
    return k && *k && strcmp(k, "0") != 0;
}

/* ---- failing the running test ------------------------------------------------- */

/* Where server directories are made: $ATOMICDOC_TMP (scripts/test.sh gives each
 * run its own, to tell its servers from those of other runs) or /tmp. */
static const char *tmp_base(void) {
    const char *t = getenv("ATOMICDOC_TMP");
    return t && *t ? t : "/tmp";
}

/* The run's id: the Criterion runner's pid, set in its PRE_ALL hook. */
static long run_id(void) {
    const char *r = getenv(RUN_ENV);
    return r && *r ? strtol(r, NULL, 10) : (long)getpid();
}

/* True in the process running the test: a Criterion worker (a child of the runner)
 * or the runner itself; false in a process the test forked. */
static bool in_test_process(void) {
    long run = run_id();
    return (long)getppid() == run || (long)getpid() == run;
}

/* Reports `msg` (malloc'd, freed here) as a failed assertion at the test's
 * file:line and aborts the test. */
static bool in_test_process(void);

static void fail_take(const char *file, int line, char *msg) __attribute__((noreturn));
static void fail_take(const char *file, int line, char *msg) {
    if (!in_test_process()) {
        /* A process the test forked cannot talk to the Criterion runner (it would
         * hang in its protocol): say it here and end that process. */
        fprintf(stderr, "harness: %s:%d (in process %d forked by the test): %s\n", file, line, (int)getpid(),
                msg);
        fflush(stderr);
        _exit(1);
    }
    struct criterion_assert_stats st = {
        .message = msg,
        .passed = false,
        .line = (unsigned)line,
        .file = file,
    };
    criterion_send_assert(&st);
    free(msg);
    criterion_abort_test();
}

static void fail_test(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));
static void fail_test(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    char *msg = NULL;
    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0) msg = NULL;
    va_end(ap);
    fail_take(file, line, msg ? msg : xstrdup("harness: out of memory"));
}

/* ---- the list of live servers ------------------------------------------------- */

static void stop_leftovers(void);

static void registry_add(srv *s) {
    if (!g_atexit_registered) {
        atexit(stop_leftovers);
        g_atexit_registered = true;
    }
    s->priv->next = g_servers;
    g_servers = s;
}

static void registry_remove(srv *s) {
    for (srv **p = &g_servers; *p; p = &(*p)->priv->next) {
        if (*p == s) {
            *p = s->priv->next;
            return;
        }
    }
}

static srv *registry_find_port(int port) {
    for (srv *s = g_servers; s; s = s->priv->next)
        if (s->port == port) return s;
    return NULL;
}

static void srv_free(srv *s) {
    free_words(s->priv->argv);
    free_words(s->priv->module_args);
    free_words(s->priv->config);
    free(s->priv);
    free(s);
}

static void pidfile_path(const srv *s, char *buf, size_t len) {
    snprintf(buf, len, "%s/harness.pid", s->dir);
}

/* ---- processes ---------------------------------------------------------------- */

static const char *server_binary(void) {
    static char found[PATH_MAX];
    if (found[0]) return found;
    /* $ATOMICDOC_SERVER: the server under test (make integration SERVER=...). */
    const char *chosen = getenv("ATOMICDOC_SERVER");
    if (chosen && *chosen) {
        snprintf(found, sizeof found, "%s", chosen);
        return found;
    }
    const char *path = getenv("PATH");
    char *copy = xstrdup(path ? path : "/usr/local/bin:/usr/bin:/bin"), *save = NULL;
    for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        char cand[PATH_MAX];
        snprintf(cand, sizeof cand, "%s/redis-server", *d ? d : ".");
        if (access(cand, X_OK) == 0) {
            snprintf(found, sizeof found, "%s", cand);
            break;
        }
    }
    free(copy);
    if (!found[0]) snprintf(found, sizeof found, "/usr/bin/redis-server");
    return found;
}

/* The environment of a server: ours, plus the sanitizer runtime when asked for. */
static char **server_env(void) {
    const char *preload = getenv("ATOMICDOC_PRELOAD");
    words v = {0};
    for (char **e = environ; *e; e++) {
        if (preload && *preload &&
            (!strncmp(*e, "LD_PRELOAD=", 11) || !strncmp(*e, "ASAN_OPTIONS=", 13) ||
             !strncmp(*e, "UBSAN_OPTIONS=", 14)))
            continue;
        words_add(&v, *e);
    }
    if (preload && *preload) {
        char *p = xasprintf("LD_PRELOAD=%s", preload);
        words_add(&v, p);
        free(p);
        /* Redis itself leaks at exit by design; abort so Redis logs a crash report.
         * allocator_may_return_null: a forged RESTORE length makes Redis try to
         * allocate terabytes with ztrymalloc, which expects NULL (as jemalloc returns)
         * and refuses the payload; ASan's default aborts instead, inside Redis. */
        words_add(&v, "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:allocator_may_return_null=1");
        words_add(&v, "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1");
    }
    if (!v.w) words_add(&v, "HARNESS=1");
    return v.w;
}

/* Forks and execs the server of `s`; its stdout and stderr go to <dir>/stderr.log. */
static pid_t spawn(srv *s) {
    char errpath[PATH_MAX];
    snprintf(errpath, sizeof errpath, "%s/stderr.log", s->dir);
    char **env = server_env();
    const char *bin = server_binary();
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        /* Child: only async-signal-safe calls until execve. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        for (int sig = 1; sig < NSIG; sig++) sigaction(sig, &dfl, NULL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        int in = open("/dev/null", O_RDONLY);
        int out = open(errpath, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (in < 0 || out < 0) _exit(127);
        dup2(in, 0);
        dup2(out, 1);
        dup2(out, 2);
        /* No test connection or Criterion pipe may stay open in the server. */
        if (close_range(3, ~0U, 0) != 0)
            for (int fd = 3; fd < 65536; fd++) close(fd);
        execve(bin, s->priv->argv, env);
        static const char msg[] = "harness: execve(redis-server) failed\n";
        if (write(2, msg, sizeof msg - 1) < 0) {
        }
        _exit(127);
    }
    free_words(env);
    if (pid > 0) {
        char path[PATH_MAX];
        pidfile_path(s, path, sizeof path);
        FILE *f = fopen(path, "w");
        if (f) {
            fprintf(f, "%d\n", (int)pid);
            fclose(f);
        }
    }
    return pid;
}

/* How a process ended, in words. */
static void describe_status(int status, char *buf, size_t len) {
    if (WIFEXITED(status))
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, len, "was killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(buf, len, "ended with wait status %d", status);
}

/* Non-blocking: true when the server has exited (reaped; pid set to 0). An exit
 * other than status 0 marks it crashed. */
static bool reap_if_exited(srv *s, int *status) {
    if (s->pid <= 0) return false;
    pid_t r = waitpid(s->pid, status, WNOHANG);
    if (r == s->pid || (r < 0 && errno == ECHILD)) {
        if (r < 0) *status = 0;
        s->pid = 0;
        if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) s->priv->crashed = true;
        return true;
    }
    return false;
}

static bool file_contains(const char *path, const char *needle) {
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    char line[4096];
    bool hit = false;
    while (!hit && fgets(line, sizeof line, f)) hit = strstr(line, needle) != NULL;
    fclose(f);
    return hit;
}

/* True when stderr.log holds a sanitizer report. */
static bool sanitizer_reported(const srv *s) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/stderr.log", s->dir);
    return file_contains(path, "ERROR: AddressSanitizer") || file_contains(path, "ERROR: LeakSanitizer") ||
           file_contains(path, "runtime error:");
}

/* Polls until `s` answers PING with PONG and INFO names our pid (the port may
 * belong to someone else when Redis failed to bind it). Returns 0 when ready,
 * 1 when the process exited (*status set), 2 on timeout. */
static int wait_ready(srv *s, int *status) {
    long long deadline = test_now_ms() + START_TIMEOUT_MS;
    char want[64];
    snprintf(want, sizeof want, "process_id:%d\r\n", (int)s->pid);
    for (;;) {
        if (reap_if_exited(s, status)) return 1;
        struct timeval tv = {0, 200000};
        redisContext *c = redisConnectWithTimeout("127.0.0.1", s->port, tv);
        if (c && !c->err) {
            redisSetTimeout(c, tv);
            redisReply *r = redisCommand(c, "PING");
            bool pong = r && r->type == REDIS_REPLY_STATUS && !strcmp(r->str, "PONG");
            freeReplyObject(r);
            if (pong) {
                r = redisCommand(c, "INFO server");
                bool ours = r && r->type == REDIS_REPLY_STRING && strstr(r->str, want);
                freeReplyObject(r);
                if (ours) {
                    redisFree(c);
                    return 0;
                }
            }
        }
        if (c) redisFree(c);
        if (test_now_ms() > deadline) return 2;
        sleep_ms(POLL_MS);
    }
}

/* Sends `shutdown` ("SHUTDOWN NOSAVE" or "SHUTDOWN SAVE") and waits for the exit,
 * SIGKILLing after STOP_TIMEOUT_MS. Returns NULL when the server exited with
 * status 0 and reported no sanitizer error, else a malloc'd reason. */
static char *shutdown_and_wait(srv *s, const char *shutdown) {
    int status = 0;
    char how[128];
    if (s->pid <= 0) /* srv_kill()ed, or seen dying earlier */
        return s->priv->crashed ? xasprintf("the server had crashed earlier") : NULL;
    if (reap_if_exited(s, &status)) {
        describe_status(status, how, sizeof how);
        return xasprintf("the server had already died: it %s", how);
    }
    struct timeval tv = {1, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", s->port, tv);
    char *refused = NULL;
    if (c && !c->err) {
        redisSetTimeout(c, (struct timeval){STOP_TIMEOUT_MS / 1000, 0});
        redisReply *r = redisCommand(c, shutdown);
        if (r && r->type == REDIS_REPLY_ERROR) refused = xasprintf("%s replied: %s", shutdown, r->str);
        freeReplyObject(r);
    }
    if (c) redisFree(c);
    long long deadline = test_now_ms() + STOP_TIMEOUT_MS;
    while (!reap_if_exited(s, &status)) {
        if (test_now_ms() > deadline) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &status, 0);
            s->pid = 0;
            s->priv->crashed = true;
            char *why = xasprintf("the server did not exit within %d ms of %s%s%s; "
                                  "SIGKILLed it",
                                  STOP_TIMEOUT_MS, shutdown, refused ? ": " : "", refused ? refused : "");
            free(refused);
            return why;
        }
        sleep_ms(POLL_MS);
    }
    free(refused);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        describe_status(status, how, sizeof how);
        return xasprintf("after %s the server %s", shutdown, how);
    }
    if (sanitizer_reported(s)) {
        s->priv->crashed = true;
        return xasprintf("the server reported a sanitizer error (see stderr.log)");
    }
    return NULL;
}

/* Forgets a stopped server: its harness.pid, its directory unless kept, itself. */
static void finish(srv *s, bool keep) {
    char path[PATH_MAX];
    pidfile_path(s, path, sizeof path);
    remove(path);
    if (!keep && !keep_dirs()) remove_tree(s->dir);
    registry_remove(s);
    srv_free(s);
}

/* atexit: stop whatever the test left running (it failed, or forgot srv_stop). A
 * process forked by the test leaves the servers of its parent alone. */
static void stop_leftovers(void) {
    while (g_servers) {
        srv *s = g_servers;
        if (s->priv->creator != getpid()) {
            g_servers = s->priv->next;
            continue;
        }
        bool was_running = s->pid > 0;
        char *why = shutdown_and_wait(s, STOP_COMMAND);
        if (why)
            fprintf(stderr, "harness: server on port %d: %s; kept %s\n", s->port, why, s->dir);
        else if (was_running)
            fprintf(stderr,
                    "harness: stopped server on port %d left running by the "
                    "test\n",
                    s->port);
        finish(s, why != NULL);
        free(why);
    }
}

/* ---- starting and stopping ---------------------------------------------------- */

static int pick_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t alen = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &alen) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static void build_argv(srv *s, const char *module) {
    words v = {0};
    char num[16];
    snprintf(num, sizeof num, "%d", s->port);
    const char *fixed[] = {
        server_binary(),
        "--port",
        num,
        "--bind",
        "127.0.0.1",
        "--dir",
        s->dir,
        "--save",
        "",
        "--daemonize",
        "no",
        "--enable-debug-command",
        "yes",
        "--enable-module-command",
        "yes",
        /* Full syncs through an RDB file: a diskless (socket) sync starts only after
         * 5 s (repl-diskless-sync-delay), and the replica then gets no writes until
         * its first REPLCONF ACK, up to 1 s later. A test can set these back. */
        "--repl-diskless-sync",
        "no",
        "--repl-diskless-sync-delay",
        "0",
        /* After a crash Redis scans all memory; under ASan that trips over the
         * shadow memory and buries the real report under a bogus one. */
        "--crash-memcheck-enabled",
        "no",
        "--appendonly",
        s->priv->aof ? "yes" : "no",
        /* With everysec, a write acknowledged just before srv_kill() can be missing
         * from the AOF (Redis postpones the write while a background fsync runs). */
        "--appendfsync",
        "always",
        /* Frees in the foreground, as Redis 7.0 and 8.0 do by default (Valkey 8 frees
         * in the background): a counter read right after DEL/FLUSHALL is then final
         * on every server. A test of lazy freeing sets these itself. */
        "--lazyfree-lazy-user-del",
        "no",
        "--lazyfree-lazy-user-flush",
        "no",
        "--lazyfree-lazy-server-del",
        "no",
        "--lazyfree-lazy-expire",
        "no",
        "--lazyfree-lazy-eviction",
        "no",
        "--replica-lazy-flush",
        "no",
    };
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) words_add(&v, fixed[i]);
    char *log = xasprintf("%s/redis.log", s->dir);
    words_add(&v, "--logfile");
    words_add(&v, log);
    free(log);
    if (!s->priv->no_module) {
        words_add(&v, "--loadmodule");
        words_add(&v, module);
        for (char **a = s->priv->module_args; *a; a++) words_add(&v, *a);
    }
    for (char **kv = s->priv->config; kv[0] && kv[1]; kv += 2) {
        char *name = xasprintf("--%s", kv[0]);
        words_add(&v, name);
        free(name);
        words_add_split(&v, kv[1]);
    }
    free_words(s->priv->argv);
    s->priv->argv = v.w;
}

srv *srv_start_at(const char *file, int line, const srv_opts *opts) {
    const char *mod_env = getenv("ATOMICDOC_MODULE");
    if (!mod_env || !*mod_env)
        fail_test(file, line,
                  "ATOMICDOC_MODULE is not set: export it as the absolute "
                  "path of atomicdoc.so (make integration does)");
    char module[PATH_MAX];
    if (!realpath(mod_env, module))
        fail_test(file, line, "ATOMICDOC_MODULE=%s: %s", mod_env, strerror(errno));
    if (count_words(opts ? opts->config : NULL) % 2)
        fail_test(file, line, "srv_opts.config must hold name, value pairs");

    srv *s = xmalloc(sizeof *s);
    memset(s, 0, sizeof *s);
    s->priv = xmalloc(sizeof *s->priv);
    memset(s->priv, 0, sizeof *s->priv);
    s->priv->aof = opts && opts->aof;
    s->priv->no_module = opts && opts->no_module;
    s->priv->module_args = copy_words(opts ? opts->module_args : NULL);
    s->priv->config = copy_words(opts ? opts->config : NULL);
    int w = snprintf(s->dir, sizeof s->dir, "%s/atomicdoc-%ld-XXXXXX", tmp_base(), run_id());
    if (w < 0 || (size_t)w >= sizeof s->dir) {
        srv_free(s);
        fail_test(file, line, "ATOMICDOC_TMP=%s is too long a path", tmp_base());
    }
    if (!mkdtemp(s->dir)) {
        int e = errno;
        srv_free(s);
        fail_test(file, line, "mkdtemp under %s: %s", tmp_base(), strerror(e));
    }
    s->priv->creator = getpid();
    registry_add(s);

    for (int attempt = 1;; attempt++) {
        s->port = pick_port();
        if (s->port <= 0) {
            finish(s, false);
            fail_test(file, line, "cannot bind a free port on 127.0.0.1: %s", strerror(errno));
        }
        build_argv(s, module);
        s->pid = spawn(s);
        if (s->pid < 0) {
            int e = errno;
            s->pid = 0;
            finish(s, false);
            fail_test(file, line, "fork: %s", strerror(e));
        }
        int status = 0;
        int r = wait_ready(s, &status);
        if (r == 0) return s;
        char logpath[PATH_MAX];
        snprintf(logpath, sizeof logpath, "%s/redis.log", s->dir);
        if (r == 1 && attempt < PORT_ATTEMPTS && file_contains(logpath, "Address already in use")) {
            remove(logpath); /* another process took the port first: pick again */
            s->priv->crashed = false;
            continue;
        }
        char how[128];
        if (r == 1)
            describe_status(status, how, sizeof how);
        else
            snprintf(how, sizeof how, "did not answer PING within %d ms", START_TIMEOUT_MS);
        if (s->pid > 0) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &status, 0);
            s->pid = 0;
        }
        char *logs = server_logs(s);
        char *msg = xasprintf("redis-server on port %d %s\n%s", s->port, how, logs);
        free(logs);
        finish(s, false); /* what its logs say is in the message */
        fail_take(file, line, msg);
    }
}

srv *srv_start_replica_at(const char *file, int line, const srv *primary) {
    size_t n = count_words((const char *const *)primary->priv->config);
    const char **config = xmalloc((n + 3) * sizeof *config);
    for (size_t i = 0; i < n; i++) config[i] = primary->priv->config[i];
    char *of = xasprintf("127.0.0.1 %d", primary->port);
    config[n] = "replicaof";
    config[n + 1] = of;
    config[n + 2] = NULL;
    srv_opts o = {
        .aof = primary->priv->aof,
        .module_args = (const char *const *)primary->priv->module_args,
        .config = config,
    };
    srv *r = srv_start_at(file, line, &o);
    free(config);
    free(of);
    srv_wait_replica_synced_at(file, line, primary, r);
    return r;
}

void srv_stop_at(const char *file, int line, srv *s) {
    char *why = shutdown_and_wait(s, STOP_COMMAND);
    if (!why) {
        finish(s, false);
        return;
    }
    char *logs = server_logs(s);
    char *msg = xasprintf("redis-server on port %d: %s (directory kept: %s)\n%s", s->port, why, s->dir, logs);
    free(logs);
    free(why);
    finish(s, true);
    fail_take(file, line, msg);
}

void srv_restart_at(const char *file, int line, srv *s) {
    char *why = shutdown_and_wait(s, "SHUTDOWN SAVE");
    if (why) {
        char *logs = server_logs(s);
        char *msg = xasprintf("srv_restart: redis-server on port %d: %s\n%s", s->port, why, logs);
        free(why);
        free(logs);
        fail_take(file, line, msg);
    }
    s->pid = spawn(s);
    if (s->pid < 0) {
        s->pid = 0;
        fail_test(file, line, "srv_restart: fork: %s", strerror(errno));
    }
    int status = 0;
    int r = wait_ready(s, &status);
    if (r == 0) return;
    char how[128];
    if (r == 1)
        describe_status(status, how, sizeof how);
    else
        snprintf(how, sizeof how, "did not answer PING within %d ms", START_TIMEOUT_MS);
    char *logs = server_logs(s);
    char *msg = xasprintf("srv_restart: redis-server on port %d %s (directory kept: %s)\n%s", s->port, how,
                          s->dir, logs);
    free(logs);
    s->priv->crashed = true;
    fail_take(file, line, msg);
}

void srv_kill(srv *s) {
    if (s->pid <= 0) return;
    kill(s->pid, SIGKILL);
    int status;
    while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR) {
    }
    s->pid = 0;
}

/* ---- talking to a server ------------------------------------------------------ */

redisContext *srv_connect_at(const char *file, int line, const srv *s) {
    struct timeval tv = {CONNECT_TIMEOUT_S, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", s->port, tv);
    if (!c || c->err) {
        char *err = xstrdup(c ? c->errstr : "cannot allocate a context");
        if (c) redisFree(c);
        fail_test(file, line, "cannot connect to redis-server on port %d: %s", s->port, err);
    }
    redisSetTimeout(c, (struct timeval){COMMAND_TIMEOUT_S, 0});
    return c;
}

/* A NULL reply: the connection broke or timed out. Say what became of the server. */
static void fail_no_reply(const char *file, int line, redisContext *c) {
    srv *s = registry_find_port(c->tcp.port);
    if (!s) fail_test(file, line, "no reply from port %d: %s", c->tcp.port, c->errstr);
    int status = 0;
    char how[160];
    bool exited = reap_if_exited(s, &status);
    /* A crashing server closes connections before it has written its report. */
    for (long long t = test_now_ms() + STOP_TIMEOUT_MS;
         !exited && s->pid > 0 && c->err == REDIS_ERR_EOF && test_now_ms() < t;) {
        sleep_ms(POLL_MS);
        exited = reap_if_exited(s, &status);
    }
    if (exited)
        describe_status(status, how, sizeof how);
    else if (s->pid > 0)
        snprintf(how, sizeof how, "is still running (pid %d)", (int)s->pid);
    else
        snprintf(how, sizeof how, "had been killed by the test");
    char *logs = server_logs(s);
    char *msg = xasprintf("no reply from redis-server on port %d (%s); the server %s\n%s", s->port, c->errstr,
                          how, logs);
    free(logs);
    fail_take(file, line, msg);
}

redisReply *cmd_at(const char *file, int line, redisContext *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    if (!r) fail_no_reply(file, line, c);
    return r;
}

redisReply *cmdv_at(const char *file, int line, redisContext *c, int argc, const char **argv,
                    const size_t *lens) {
    redisReply *r = redisCommandArgv(c, argc, argv, lens);
    if (!r) fail_no_reply(file, line, c);
    return r;
}

/* ---- describing and checking replies ------------------------------------------ */

/* A bounded writer: appends while there is room, marks truncation with "...". */
typedef struct {
    char *buf;  /* output, always NUL-terminated */
    size_t len; /* size of buf */
    size_t pos; /* bytes written so far */
} out_t;

static void out_put(out_t *o, const char *s, size_t n) {
    for (size_t i = 0; i < n && o->pos + 1 < o->len; i++) o->buf[o->pos++] = s[i];
    o->buf[o->pos] = '\0';
    if (o->pos + 1 >= o->len && o->len >= 4) memcpy(o->buf + o->len - 4, "...", 4);
}

static void out_str(out_t *o, const char *s) { out_put(o, s, strlen(s)); }

/* A string in double quotes, non-printable bytes as \xNN, cut after 300 bytes. */
static void out_quoted(out_t *o, const char *s, size_t n) {
    enum { SHOWN = 300 }; /* enough to read a JSON document or an error */
    out_str(o, "\"");
    for (size_t i = 0; i < n && i < SHOWN; i++) {
        unsigned char ch = (unsigned char)s[i];
        char esc[8];
        if (ch == '"' || ch == '\\') {
            esc[0] = '\\';
            esc[1] = (char)ch;
            out_put(o, esc, 2);
        } else if (ch < 0x20 || ch >= 0x7f) {
            snprintf(esc, sizeof esc, "\\x%02x", ch);
            out_str(o, esc);
        } else {
            out_put(o, (const char *)&s[i], 1);
        }
    }
    out_str(o, "\"");
    if (n > SHOWN) {
        char more[48];
        snprintf(more, sizeof more, "... (%zu bytes)", n);
        out_str(o, more);
    }
}

static void out_reply(out_t *o, const redisReply *r, int depth) {
    char num[64];
    if (!r) {
        out_str(o, "no reply");
        return;
    }
    switch (r->type) {
    case REDIS_REPLY_STATUS:
        out_str(o, "status ");
        out_quoted(o, r->str, r->len);
        break;
    case REDIS_REPLY_ERROR:
        out_str(o, "error ");
        out_quoted(o, r->str, r->len);
        break;
    case REDIS_REPLY_STRING:
        out_str(o, "string ");
        out_quoted(o, r->str, r->len);
        break;
    case REDIS_REPLY_INTEGER:
        snprintf(num, sizeof num, "integer %lld", r->integer);
        out_str(o, num);
        break;
    case REDIS_REPLY_NIL: out_str(o, "nil"); break;
    case REDIS_REPLY_ARRAY:
        snprintf(num, sizeof num, "array(%zu) [", r->elements);
        out_str(o, num);
        for (size_t i = 0; i < r->elements && depth < 8; i++) {
            if (i) out_str(o, ", ");
            out_reply(o, r->element[i], depth + 1);
        }
        out_str(o, "]");
        break;
    default: snprintf(num, sizeof num, "reply of type %d", r->type); out_str(o, num);
    }
}

const char *reply_describe(const redisReply *r, char *buf, size_t len) {
    out_t o = {buf, len, 0};
    if (len) buf[0] = '\0';
    out_reply(&o, r, 0);
    return buf;
}

/* Frees `r` and fails: "expected <what>, got <reply>". */
static void fail_reply(const char *file, int line, redisReply *r, const char *what) __attribute__((noreturn));
static void fail_reply(const char *file, int line, redisReply *r, const char *what) {
    char got[2048];
    reply_describe(r, got, sizeof got);
    freeReplyObject(r);
    fail_test(file, line, "expected %s, got %s", what, got);
}

/* Replies built by hiredis directly may be NULL; cmd() never returns one. */
static void need_reply(const char *file, int line, const redisReply *r) {
    if (!r) fail_test(file, line, "no reply (NULL): use cmd(), which reports why");
}

void expect_status_at(const char *file, int line, redisReply *r, const char *text) {
    need_reply(file, line, r);
    if (r->type == REDIS_REPLY_STATUS && !strcmp(r->str, text)) {
        freeReplyObject(r);
        return;
    }
    char what[512];
    snprintf(what, sizeof what, "status \"%s\"", text);
    fail_reply(file, line, r, what);
}

void expect_str_at(const char *file, int line, redisReply *r, const char *text) {
    need_reply(file, line, r);
    size_t n = strlen(text);
    if (r->type == REDIS_REPLY_STRING && r->len == n && !memcmp(r->str, text, n)) {
        freeReplyObject(r);
        return;
    }
    char what[2048];
    out_t o = {what, sizeof what, 0};
    out_str(&o, "string ");
    out_quoted(&o, text, n);
    fail_reply(file, line, r, what);
}

void expect_int_at(const char *file, int line, redisReply *r, long long n) {
    need_reply(file, line, r);
    if (r->type == REDIS_REPLY_INTEGER && r->integer == n) {
        freeReplyObject(r);
        return;
    }
    char what[64];
    snprintf(what, sizeof what, "integer %lld", n);
    fail_reply(file, line, r, what);
}

void expect_nil_at(const char *file, int line, redisReply *r) {
    need_reply(file, line, r);
    if (r->type == REDIS_REPLY_NIL) {
        freeReplyObject(r);
        return;
    }
    fail_reply(file, line, r, "nil");
}

void expect_err_prefix_at(const char *file, int line, redisReply *r, const char *code) {
    need_reply(file, line, r);
    size_t n = strlen(code);
    bool word = !strchr(code, ' ');
    if (r->type == REDIS_REPLY_ERROR && r->len >= n && !memcmp(r->str, code, n) &&
        (!word || r->str[n] == ' ' || r->str[n] == '\0')) {
        freeReplyObject(r);
        return;
    }
    char what[512];
    snprintf(what, sizeof what, "an error starting with \"%s\"", code);
    fail_reply(file, line, r, what);
}

void expect_array_len_at(const char *file, int line, redisReply *r, size_t n) {
    need_reply(file, line, r);
    if (r->type == REDIS_REPLY_ARRAY && r->elements == n) {
        freeReplyObject(r);
        return;
    }
    char what[64];
    snprintf(what, sizeof what, "an array of %zu elements", n);
    fail_reply(file, line, r, what);
}

/* ---- waiting and inspecting --------------------------------------------------- */

bool wait_until(bool (*cond)(void *arg), void *arg, int timeout_ms) {
    long long deadline = test_now_ms() + timeout_ms;
    for (;;) {
        if (cond(arg)) return true;
        if (test_now_ms() > deadline) return false;
        sleep_ms(POLL_MS);
    }
}

/* The value of `field` in an INFO text, malloc'd, or NULL. */
static char *info_lookup(const char *info, const char *field) {
    size_t n = strlen(field);
    for (const char *p = info; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (!strncmp(p, field, n) && p[n] == ':') {
            const char *v = p + n + 1;
            size_t len = strcspn(v, "\r\n");
            char *out = xmalloc(len + 1);
            memcpy(out, v, len);
            out[len] = '\0';
            return out;
        }
    }
    return NULL;
}

char *srv_info_field_at(const char *file, int line, redisContext *c, const char *section, const char *field) {
    redisReply *r = cmd_at(file, line, c, "INFO %s", section);
    if (r->type != REDIS_REPLY_STRING) fail_reply(file, line, r, "the INFO text");
    char *v = info_lookup(r->str, field);
    freeReplyObject(r);
    return v;
}

long long srv_info_int_at(const char *file, int line, redisContext *c, const char *section,
                          const char *field) {
    char *v = srv_info_field_at(file, line, c, section, field);
    if (!v) fail_test(file, line, "INFO %s has no field %s", section, field);
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || end == v || *end) {
        char *msg = xasprintf("INFO %s: %s is \"%s\", not an integer", section, field, v);
        free(v);
        fail_take(file, line, msg);
    }
    free(v);
    return n;
}

char *srv_digest_at(const char *file, int line, redisContext *c) {
    redisReply *r = cmd_at(file, line, c, "DEBUG DIGEST");
    if (r->type != REDIS_REPLY_STATUS && r->type != REDIS_REPLY_STRING) fail_reply(file, line, r, "a digest");
    char *d = xstrdup(r->str);
    freeReplyObject(r);
    return d;
}

void srv_wait_replica_synced_at(const char *file, int line, const srv *primary, const srv *replica) {
    redisContext *pc = srv_connect_at(file, line, primary);
    redisContext *rc = srv_connect_at(file, line, replica);
    long long deadline = test_now_ms() + SYNC_TIMEOUT_MS;
    long long target = -1;
    for (;;) {
        redisReply *r = cmd_at(file, line, rc, "INFO replication");
        char *link = r->type == REDIS_REPLY_STRING ? info_lookup(r->str, "master_link_status") : NULL;
        char *off = r->type == REDIS_REPLY_STRING ? info_lookup(r->str, "slave_repl_offset") : NULL;
        bool up = link && !strcmp(link, "up");
        if (up && target < 0) {
            /* Everything the primary had when the link was up. */
            char *p = srv_info_field_at(file, line, pc, "replication", "master_repl_offset");
            target = p ? strtoll(p, NULL, 10) : 0;
            free(p);
        }
        bool done = up && target >= 0 && off && strtoll(off, NULL, 10) >= target;
        free(link);
        free(off);
        if (done) {
            freeReplyObject(r);
            break;
        }
        if (test_now_ms() > deadline) {
            char info[2048];
            reply_describe(r, info, sizeof info);
            freeReplyObject(r);
            redisFree(pc);
            redisFree(rc);
            char *logs = server_logs(replica);
            char *msg = xasprintf("replica on port %d not synced with port %d within %d ms "
                                  "(primary offset %lld); replica INFO replication: %s\n%s",
                                  replica->port, primary->port, SYNC_TIMEOUT_MS, target, info, logs);
            free(logs);
            fail_take(file, line, msg);
        }
        freeReplyObject(r);
        sleep_ms(POLL_MS);
    }
    redisFree(pc);
    redisFree(rc);
}

/* ---- the Criterion runner's side ---------------------------------------------- */

/* Runs in the runner before any worker is started: workers inherit the run id. */
ReportHook(PRE_ALL)(struct criterion_test_set *set) {
    (void)set;
    char id[32];
    snprintf(id, sizeof id, "%ld", (long)getpid());
    setenv(RUN_ENV, id, 1);
}

/* True when `pid` is alive (not a zombie) with `dir` as its working directory: a
 * server Redis chdir'd into its --dir, so the pid was not recycled by another. */
static bool is_our_server(pid_t pid, const char *dir) {
    char path[64], cwd[PATH_MAX], st[512];
    snprintf(path, sizeof path, "/proc/%d/cwd", (int)pid);
    ssize_t n = readlink(path, cwd, sizeof cwd - 1);
    if (n < 0) return false;
    cwd[n] = '\0';
    if (strcmp(cwd, dir) != 0) return false;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return false;
    size_t len = fread(st, 1, sizeof st - 1, f);
    fclose(f);
    st[len] = '\0';
    const char *rp = strrchr(st, ')');
    return rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

/* Runs in the runner after the last test: removes what crashed workers left. */
ReportHook(POST_ALL)(struct criterion_global_stats *stats) {
    (void)stats;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "atomicdoc-%ld-", (long)getpid());
    DIR *d = opendir(tmp_base());
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0) continue;
        char dir[PATH_MAX], pidpath[PATH_MAX + 16];
        snprintf(dir, sizeof dir, "%s/%s", tmp_base(), e->d_name);
        snprintf(pidpath, sizeof pidpath, "%s/harness.pid", dir);
        FILE *f = fopen(pidpath, "r");
        if (!f) continue; /* stopped, or kept on purpose */
        int pid = 0;
        if (fscanf(f, "%d", &pid) != 1) pid = 0;
        fclose(f);
        if (pid > 0 && is_our_server(pid, dir)) {
            kill(pid, SIGKILL);
            long long deadline = test_now_ms() + STOP_TIMEOUT_MS;
            while (is_our_server(pid, dir) && test_now_ms() < deadline) sleep_ms(POLL_MS);
        }
        remove(pidpath);
        if (keep_dirs()) {
            fprintf(stderr, "harness: a crashed test left server pid %d; kept %s\n", pid, dir);
        } else {
            fprintf(stderr, "harness: a crashed test left server pid %d; removed %s\n", pid, dir);
            remove_tree(dir);
        }
    }
    closedir(d);
}

/* ---- documents ----------------------------------------------------------------- */

long long doc_version_at(const char *file, int line, redisContext *c, const char *key) {
    redisReply *r = cmd_at(file, line, c, "DOC.VERSION %s", key);
    if (r->type != REDIS_REPLY_INTEGER) {
        char what[160];
        snprintf(what, sizeof what, "an integer from DOC.VERSION %s", key);
        fail_reply(file, line, r, what);
    }
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}

char *doc_text_at(const char *file, int line, redisContext *c, const char *key) {
    redisReply *r = cmd_at(file, line, c, "DOC.GET %s", key);
    if (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_NIL) {
        char what[160];
        snprintf(what, sizeof what, "a string or nil from DOC.GET %s", key);
        fail_reply(file, line, r, what);
    }
    char *t = strdup(r->type == REDIS_REPLY_NIL ? "(nil)" : r->str);
    freeReplyObject(r);
    return t;
}
