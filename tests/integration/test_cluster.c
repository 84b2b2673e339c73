/* test_cluster.c - atomicdoc in a Redis Cluster of 3 primaries and 3 replicas.
 *
 * What a cluster user relies on: every DOC.* command is routed by its key (key specs),
 * so it runs on the primary serving the key's slot and any other node answers MOVED
 * to exactly that primary; redis-cli -c works with DOC commands; a DOC.TXN (and an
 * MGET / MSET) over one hash tag runs, across slots it is refused with CROSSSLOT and
 * changes nothing; resharding while clients write moves every document with its
 * version and loses no acknowledged write; a failover after WAIT keeps every
 * acknowledged document and version.
 *
 * Each test gets a fresh cluster from scripts/cluster.sh in a temp directory (the
 * suite's .init/.fini; Criterion runs every test in its own process, so "one cluster
 * per suite" is one per test). Cleanup is belt and braces, since a leaked cluster is
 * six servers: .fini runs `cluster.sh stop DIR` and fails the test when a node left a
 * crash or sanitizer report; an atexit handler stops it when the test failed before
 * .fini; and a reaper process, forked at .init, waits for the test's process to go
 * (a pipe reaches EOF) and then runs `cluster.sh stop DIR`, which covers crashes and
 * Criterion's timeout kill.
 *
 * The tests talk to the nodes through cluster_client.h (our own CRC16 slots, slot
 * table, MOVED/ASK/TRYAGAIN handling) and through plain connections to one node when
 * a test wants to see the raw redirect. Worker threads never assert: they record the
 * first thing that went wrong, and the test asserts on it after joining them.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cluster_client.h"
#include "harness.h"
#include "../test_util.h"

#define NODES 6                     /* 3 primaries + 3 replicas, as cluster.sh makes */
#define SCRIPT "scripts/cluster.sh" /* relative to the project root (the cwd) */
#define SCRIPT_MS 120000            /* start: 60 s for health inside, plus the nodes' start */
#define RESHARD_MS 90000            /* redis-cli --cluster reshard of RESHARD_SLOTS slots */
#define FAILOVER_MS 30000           /* node timeout 2 s + election; generous under ASan */
#define GOSSIP_MS 10000             /* for a slot change to reach every node */
#define POLL_MS 10                  /* every wait polls this often */
#define RESHARD_DOCS 1000           /* documents moved while being written */
#define RESHARD_SLOTS 64            /* they live in this many slots (~16 each) */
#define RESHARD_INCRS 3             /* INCRs before the move: versions start at 1 + 3 */
#define WRITERS 2                   /* client threads writing during the move */
#define FAILOVER_DOCS 300           /* documents on the primary that dies */

/* ---- processes ---------------------------------------------------------------- */

static void pause_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static const char *tmp_base(void) {
    const char *t = getenv("ATOMICDOC_TMP");
    return t && *t ? t : "/tmp";
}

/* Reads a whole (small) file into a malloc'd string; "" when unreadable. */
static char *slurp(const char *path) {
    FILE *f = fopen(path, "r");
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    cr_assert(buf);
    if (f) {
        size_t got;
        while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
            n += got;
            if (cap - n - 1 == 0) {
                cap *= 2;
                buf = realloc(buf, cap);
                cr_assert(buf);
            }
        }
        fclose(f);
    }
    buf[n] = '\0';
    return buf;
}

/* Forks and execs argv[0] (searched in PATH) with stdin /dev/null, stdout into
 * `outpath` and stderr into `errpath` (NULL: the same file as stdout), and no other
 * descriptor of ours (a Criterion pipe held by a server would outlive the test).
 * Returns the child's pid; -1 when fork failed. */
static pid_t spawn(const char *const *argv, const char *outpath, const char *errpath) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0) return pid;
    int in = open("/dev/null", O_RDONLY);
    int out = open(outpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = errpath ? open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644) : dup(out);
    if (in < 0 || out < 0 || err < 0) _exit(126);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    if (close_range(3, ~0U, 0) != 0)
        for (int fd = 3; fd < 65536; fd++) close(fd);
    execvp(argv[0], (char *const *)argv);
    _exit(127);
}

/* Waits up to timeout_ms for `pid`; returns its wait status, or -1 after killing
 * it (SIGKILL, this pid only) when the deadline passed. */
static int wait_child(pid_t pid, int timeout_ms) {
    long long deadline = test_now_ms() + timeout_ms;
    for (;;) {
        int status;
        pid_t got = waitpid(pid, &status, WNOHANG);
        if (got == pid) return status;
        if (got < 0 && errno != EINTR) return -1;
        if (test_now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        pause_ms(POLL_MS);
    }
}

/* Runs argv to completion (at most timeout_ms); *out and *err get its stdout and
 * stderr (malloc'd). They pass through the files <prefix>.out and <prefix>.err, or
 * fresh temp files when prefix is NULL; either way they are removed afterwards.
 * Returns the wait status, -1 on timeout. */
static int run(const char *const *argv, int timeout_ms, const char *prefix, char **out, char **err) {
    char outpath[PATH_MAX + 8], errpath[PATH_MAX + 8];
    if (prefix) {
        snprintf(outpath, sizeof outpath, "%s.out", prefix);
        snprintf(errpath, sizeof errpath, "%s.err", prefix);
    } else {
        snprintf(outpath, sizeof outpath, "%s/atomicdoc-cluster-out.XXXXXX", tmp_base());
        snprintf(errpath, sizeof errpath, "%s/atomicdoc-cluster-err.XXXXXX", tmp_base());
        int fo = mkstemp(outpath), fe = mkstemp(errpath);
        cr_assert(fo >= 0 && fe >= 0, "mkstemp in %s: %s", tmp_base(), strerror(errno));
        close(fo);
        close(fe);
    }
    pid_t pid = spawn(argv, outpath, errpath);
    cr_assert(pid > 0, "fork: %s", strerror(errno));
    int status = wait_child(pid, timeout_ms);
    *out = slurp(outpath);
    *err = slurp(errpath);
    unlink(outpath);
    unlink(errpath);
    return status;
}

static bool exited_ok(int status) { return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0; }

/* ---- the cluster of this test ------------------------------------------------- */

static struct {
    char dir[PATH_MAX]; /* cluster.sh's DIR; "" when no cluster is up */
    int port[NODES];    /* node ports in cluster.sh's order (primaries first) */
    pid_t reaper;       /* the process that stops the cluster after we die; 0: none */
    int reaper_fd;      /* write end of its pipe: closing it (or dying) wakes it */
    bool atexit_done;   /* stop_at_exit is registered */
} g = {.reaper_fd = -1};

static void script_path(char *buf, size_t len) {
    snprintf(buf, len, "%s", SCRIPT);
    cr_assert(access(buf, X_OK) == 0, "%s not found in %s: run the tests from the project root", SCRIPT,
              getcwd((char[PATH_MAX]){0}, PATH_MAX));
}

/* atexit: a test that failed (or crashed its assertions) before .fini still stops
 * its cluster. Never asserts. */
static void stop_at_exit(void) {
    if (!g.dir[0]) return;
    const char *argv[] = {SCRIPT, "stop", g.dir, NULL};
    char *out = NULL, *err = NULL;
    int st = run(argv, SCRIPT_MS, g.dir, &out, &err);
    if (!exited_ok(st)) fprintf(stderr, "test_cluster: %s stop %s failed:\n%s%s\n", SCRIPT, g.dir, out, err);
    free(out);
    free(err);
    g.dir[0] = '\0';
}

/* Forks the reaper: it blocks reading a pipe whose only write end is ours (the end is
 * close-on-exec, and spawn() closes it too), so it reads EOF exactly when this process
 * exits however it exits; then it runs `cluster.sh stop DIR` (which waits for a start
 * still under way: they share a lock) and removes DIR.out and DIR.err, the output
 * files of run(). It has its own process group, so a Ctrl-C meant for the test run
 * does not stop it before it cleans up. */
static void start_reaper(void) {
    int fds[2];
    cr_assert(pipe2(fds, O_CLOEXEC) == 0, "pipe2: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    cr_assert(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        setpgid(0, 0);
        if (dup2(fds[0], 3) < 0) _exit(126);
        if (close_range(4, ~0U, 0) != 0)
            for (int fd = 4; fd < 65536; fd++) close(fd);
        char c;
        ssize_t n;
        while ((n = read(3, &c, 1)) != 0 && (n > 0 || errno == EINTR))
            ;
        close(3);
        execl("/bin/sh", "sh", "-c", "\"$0\" stop \"$1\"; rm -f \"$1.out\" \"$1.err\"", SCRIPT, g.dir,
              (char *)NULL);
        _exit(127);
    }
    close(fds[0]);
    g.reaper = pid;
    g.reaper_fd = fds[1];
}

static void cluster_up(void) {
    char script[PATH_MAX];
    script_path(script, sizeof script);
    snprintf(g.dir, sizeof g.dir, "%s/atomicdoc-cluster-XXXXXX", tmp_base());
    cr_assert(mkdtemp(g.dir), "mkdtemp %s: %s", g.dir, strerror(errno));
    if (!g.atexit_done) {
        atexit(stop_at_exit);
        g.atexit_done = true;
    }
    start_reaper();
    const char *argv[] = {script, "start", g.dir, NULL};
    char *out, *err;
    long long t0 = test_now_ms();
    int st = run(argv, SCRIPT_MS, g.dir, &out, &err);
    cr_assert(exited_ok(st), "%s start %s failed (status %d):\n%s%s", script, g.dir, st, out, err);
    int n = sscanf(out, "%d %d %d %d %d %d", &g.port[0], &g.port[1], &g.port[2], &g.port[3], &g.port[4],
                   &g.port[5]);
    cr_assert_eq(n, NODES, "%s start printed \"%s\", not %d ports", script, out, NODES);
    cr_log_info("cluster up in %lld ms: ports %s", test_now_ms() - t0, out);
    free(out);
    free(err);
}

static void close_all(void);

static void cluster_down(void) {
    close_all();
    if (!g.dir[0]) return;
    const char *argv[] = {SCRIPT, "stop", g.dir, NULL};
    char *out, *err;
    int st = run(argv, SCRIPT_MS, g.dir, &out, &err);
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", g.dir);
    g.dir[0] = '\0';
    if (g.reaper_fd >= 0) {
        close(g.reaper_fd);
        g.reaper_fd = -1;
        if (g.reaper > 0) wait_child(g.reaper, SCRIPT_MS);
        g.reaper = 0;
    }
    cr_assert(exited_ok(st), "%s stop %s failed (a node crashed?):\n%s%s", SCRIPT, dir, out, err);
    free(out);
    free(err);
}

TestSuite(cluster, .init = cluster_up, .fini = cluster_down, .timeout = 180);

/* ---- talking to nodes --------------------------------------------------------- */

/* Connections and clients the test opened, closed by .fini even when the test failed
 * halfway (sanitize builds report leaks), after the writer threads that use them are
 * stopped. */
#define MAX_OPEN 64
static struct {
    redisContext *ctx[MAX_OPEN]; /* from connect_port(); NULL: closed */
    cc_client *cc[MAX_OPEN];     /* from new_client(); NULL: freed */
    atomic_bool *stop;           /* the running writers' stop flag (static); NULL: none */
    pthread_t threads[8];        /* the running writers */
    int nthreads;                /* how many */
} open_ = {.nthreads = 0};

static void track(void **slots, void *p) {
    for (int i = 0; i < MAX_OPEN; i++)
        if (!slots[i]) {
            slots[i] = p;
            return;
        }
    cr_assert_fail("more than %d open connections or clients", MAX_OPEN);
}

static void untrack(void **slots, void *p) {
    for (int i = 0; i < MAX_OPEN; i++)
        if (slots[i] == p) slots[i] = NULL;
}

static redisContext *connect_port(int port) {
    struct timeval tv = {5, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    cr_assert(c && !c->err, "connect to 127.0.0.1:%d: %s", port, c ? c->errstr : "no memory");
    struct timeval cmd_tv = {30, 0};
    redisSetTimeout(c, cmd_tv);
    track((void **)open_.ctx, c);
    return c;
}

static void disconnect(redisContext *c) {
    untrack((void **)open_.ctx, c);
    redisFree(c);
}

/* A cluster client whose slot table comes from the node on `port`. */
static cc_client *new_client(int port) {
    cc_client *cc = cc_new(port);
    cr_assert(cc, "no slot table from the node on %d (see stderr)", port);
    track((void **)open_.cc, cc);
    return cc;
}

static void drop_client(cc_client *cc) {
    untrack((void **)open_.cc, cc);
    cc_free(cc);
}

/* Stops and joins the writer threads still running. */
static void stop_writers(void) {
    if (open_.stop) atomic_store(open_.stop, true);
    for (int i = 0; i < open_.nthreads; i++) pthread_join(open_.threads[i], NULL);
    open_.nthreads = 0;
    open_.stop = NULL;
}

static void close_all(void) {
    stop_writers();
    for (int i = 0; i < MAX_OPEN; i++) {
        if (open_.ctx[i]) redisFree(open_.ctx[i]);
        if (open_.cc[i]) cc_free(open_.cc[i]);
        open_.ctx[i] = NULL;
        open_.cc[i] = NULL;
    }
}

/* Fails unless `r` describes (reply_describe) exactly as `want`; frees r. */
static void expect_reply_at(int line, redisReply *r, const char *want, const char *what) {
    char got[4096];
    reply_describe(r, got, sizeof got);
    freeReplyObject(r);
    cr_assert_str_eq(got, want, "line %d: %s: expected %s\n got %s", line, what, want, got);
}
#define expect_reply(r, want, what) expect_reply_at(__LINE__, (r), (want), (what))

/* The value of `field` in a "name:value\r\n" text (INFO, CLUSTER INFO) into buf. */
static bool info_value(const char *text, const char *field, char *buf, size_t len) {
    size_t n = strlen(field);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (!strncmp(p, field, n) && p[n] == ':') {
            size_t k = strcspn(p + n + 1, "\r\n");
            snprintf(buf, len, "%.*s", (int)k, p + n + 1);
            return true;
        }
    }
    return false;
}

/* One node as CLUSTER NODES describes it. */
typedef struct node_info {
    char id[41];         /* node id */
    int port;            /* client port */
    bool primary;        /* flags hold "master" */
    bool failed;         /* flags hold "fail" (not "fail?") */
    char primary_id[41]; /* a replica's primary; "-" for a primary */
} node_info;

/* CLUSTER NODES as the node behind `c` sees it; returns how many nodes. */
static int cluster_nodes(redisContext *c, node_info *out, int max) {
    redisReply *r = cmd(c, "CLUSTER NODES");
    cr_assert_eq(r->type, REDIS_REPLY_STRING, "CLUSTER NODES: type %d", r->type);
    int n = 0;
    for (char *line = r->str; line && *line && n < max; n++) {
        char flags[128], addr[128];
        node_info *ni = &out[n];
        int got = sscanf(line, "%40s %127s %127s %40s", ni->id, addr, flags, ni->primary_id);
        cr_assert_eq(got, 4, "CLUSTER NODES line: %.100s", line);
        char *colon = strrchr(strtok(addr, "@"), ':');
        cr_assert(colon, "CLUSTER NODES address: %s", addr);
        ni->port = atoi(colon + 1);
        ni->primary = strstr(flags, "master") != NULL;
        ni->failed = false;
        for (char *f = strtok(flags, ","); f; f = strtok(NULL, ","))
            if (!strcmp(f, "fail")) ni->failed = true;
        line = strchr(line, '\n');
        if (line) line++;
    }
    freeReplyObject(r);
    return n;
}

static const node_info *node_by_port(const node_info *nodes, int n, int port) {
    for (int i = 0; i < n; i++)
        if (nodes[i].port == port) return &nodes[i];
    cr_assert_fail("no node with port %d in CLUSTER NODES", port);
    return NULL;
}

/* The replica of the primary on `port`. */
static int replica_of(const node_info *nodes, int n, int port) {
    const node_info *p = node_by_port(nodes, n, port);
    for (int i = 0; i < n; i++)
        if (!nodes[i].primary && !strcmp(nodes[i].primary_id, p->id)) return nodes[i].port;
    char all[1024] = "";
    for (int i = 0; i < n; i++)
        snprintf(all + strlen(all), sizeof all - strlen(all), "\n  %s %d %s %s", nodes[i].id, nodes[i].port,
                 nodes[i].primary ? "primary" : "replica", nodes[i].primary_id);
    cr_assert_fail("primary on port %d has no replica among%s", port, all);
    return 0;
}

/* The pid cluster.sh recorded for the node on `port`. */
static pid_t node_pid(int port) {
    for (int i = 1; i <= NODES; i++) {
        char path[PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/node-%d/port", g.dir, i);
        char *text = slurp(path);
        int p = atoi(text);
        free(text);
        if (p != port) continue;
        snprintf(path, sizeof path, "%s/node-%d/pid", g.dir, i);
        text = slurp(path);
        pid_t pid = (pid_t)atoi(text);
        free(text);
        cr_assert(pid > 0, "no pid in %s", path);
        return pid;
    }
    cr_assert_fail("no node directory in %s has port %d", g.dir, port);
    return 0;
}

/* True when `pid` is gone or a zombie (nothing may reap the servers' zombies here). */
static bool process_gone(pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    char *text = slurp(path);
    char *paren = strrchr(text, ')');
    bool gone = !paren || paren[1] != ' ' || paren[2] == 'Z' || paren[2] == 'X';
    free(text);
    return gone;
}

/* Slot-routed command from the test's thread: a NULL reply fails the test. */
static redisReply *ccmd_at(int line, cc_client *cc, int key_index, int argc, const char **argv) {
    redisReply *r = cc_commandv(cc, key_index, argc, argv);
    cr_assert(r, "line %d: %s %s: %s", line, argv[0], argv[key_index], cc->err);
    return r;
}
#define ccmd(cc, key_index, ...)                                                 \
    ccmd_at(__LINE__, (cc), (key_index),                                         \
            (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *)), \
            (const char *[]){__VA_ARGS__})

/* The primary ports, from a fresh slot table: owner of slot 0 first. */
static void primaries(cc_client *cc, int out[3]) {
    int n = 0;
    for (int s = 0; s < CC_SLOTS && n < 3; s++) {
        int p = cc->owner[s];
        bool seen = false;
        for (int i = 0; i < n; i++) seen |= out[i] == p;
        if (!seen) out[n++] = p;
    }
    cr_assert_eq(n, 3, "the slot table names %d primaries", n);
}

static int other_primary(const int prim[3], int not_this) {
    for (int i = 0; i < 3; i++)
        if (prim[i] != not_this) return prim[i];
    return 0;
}

static void expect_moved_at(int line, redisReply *r, int slot, int port, const char *what) {
    char want[128];
    snprintf(want, sizeof want, "error \"MOVED %d 127.0.0.1:%d\"", slot, port);
    expect_reply_at(line, r, want, what);
}
#define expect_moved(r, slot, port, what) expect_moved_at(__LINE__, (r), (slot), (port), (what))

/* ---- slots -------------------------------------------------------------------- */

/* The CRC16 and hash-tag rules agree with CLUSTER KEYSLOT: the spec's test vector,
 * every hash-tag corner the spec lists, and a thousand plain keys. */
Test(cluster, our_key_slots_agree_with_cluster_keyslot) {
    cr_assert_eq(cc_crc16("123456789", 9), 0x31C3, "CRC16 test vector of the spec");
    redisContext *c = connect_port(g.port[0]);
    const char *keys[] = {"user:1000",
                          "{user1000}.following",
                          "{user1000}.followers",
                          "foo{}{bar}",
                          "foo{{bar}}zap",
                          "foo{bar}{zap}",
                          "{}",
                          "{",
                          "}",
                          "a{b",
                          "}{x}",
                          "{u1}a",
                          "{u1}b",
                          ""};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        char what[128];
        snprintf(what, sizeof what, "CLUSTER KEYSLOT \"%s\"", keys[i]);
        redisReply *r = cmd(c, "CLUSTER KEYSLOT %s", keys[i]);
        cr_assert_eq(r->type, REDIS_REPLY_INTEGER, "%s", what);
        cr_assert_eq(r->integer, cc_key_slot(keys[i], strlen(keys[i])), "%s: redis %lld, ours %d", what,
                     r->integer, cc_key_slot(keys[i], strlen(keys[i])));
        freeReplyObject(r);
    }
    cr_assert_eq(cc_key_slot("{u1}a", 5), cc_key_slot("{u1}b", 5));
    for (int i = 0; i < 1000; i++) {
        char k[32];
        snprintf(k, sizeof k, "doc:%d", i * 7919);
        redisReply *r = cmd(c, "CLUSTER KEYSLOT %s", k);
        cr_assert(r->type == REDIS_REPLY_INTEGER && r->integer == cc_key_slot(k, strlen(k)),
                  "slot of %s: redis %lld, ours %d", k, r->integer, cc_key_slot(k, strlen(k)));
        freeReplyObject(r);
    }
    disconnect(c);
}

/* ---- routing ------------------------------------------------------------------ */

/* One DOC command of the routing table. Keys are written K (the row's key) or KA/KB
 * (two keys of one hash tag). */
typedef struct route_case {
    const char *name;     /* the command, as COMMAND LIST names it */
    bool write;           /* a write: a READONLY replica redirects it too */
    int key_index;        /* argv position of the (first) key */
    const char *setup[8]; /* a command run on the owner first; {NULL}: none */
    const char *argv[12]; /* the command */
    const char *want;     /* reply_describe of its reply on the owner */
    bool key_exists;      /* the key is there afterwards */
} route_case;

static const route_case routes[] = {
    {"doc.set", true, 1, {NULL}, {"DOC.SET", "K", "$", "{\"n\":1}"}, "status \"OK\"", true},
    {"doc.get",
     false,
     1,
     {"DOC.SET", "K", "$", "{\"a\":[1,2]}"},
     {"DOC.GET", "K", "$.a"},
     "string \"[1,2]\"",
     true},
    {"doc.mget",
     false,
     1,
     {"DOC.MSET", "KA", "$", "1", "KB", "$", "2"},
     {"DOC.MGET", "KA", "KB", "$"},
     "array(2) [string \"1\", string \"2\"]",
     true},
    {"doc.mset", true, 1, {NULL}, {"DOC.MSET", "KA", "$", "1", "KB", "$", "2"}, "status \"OK\"", true},
    {"doc.del", true, 1, {"DOC.SET", "K", "$", "1"}, {"DOC.DEL", "K"}, "integer 1", false},
    {"doc.type",
     false,
     1,
     {"DOC.SET", "K", "$", "{\"a\":[1]}"},
     {"DOC.TYPE", "K", "$.a"},
     "status \"array\"",
     true},
    {"doc.len", false, 1, {"DOC.SET", "K", "$", "{\"a\":[1]}"}, {"DOC.LEN", "K", "$.a"}, "integer 1", true},
    {"doc.keys",
     false,
     1,
     {"DOC.SET", "K", "$", "{\"a\":[1]}"},
     {"DOC.KEYS", "K"},
     "array(1) [string \"a\"]",
     true},
    /* a missing key's version is 0 on every node (a new document's version depends
     * on what its node gave before) */
    {"doc.version", false, 1, {NULL}, {"DOC.VERSION", "K"}, "integer 0", false},
    {"doc.incr", true, 1, {NULL}, {"DOC.INCR", "K", "$.n", "5"}, "integer 5", true},
    {"doc.mul", true, 1, {"DOC.SET", "K", "$", "{\"n\":3}"}, {"DOC.MUL", "K", "$.n", "2"}, "integer 6", true},
    {"doc.min",
     true,
     1,
     {"DOC.SET", "K", "$", "{\"n\":3}"},
     {"DOC.MIN", "K", "$.n", "1"},
     "string \"1\"",
     true},
    {"doc.max",
     true,
     1,
     {"DOC.SET", "K", "$", "{\"n\":3}"},
     {"DOC.MAX", "K", "$.n", "7"},
     "string \"7\"",
     true},
    {"doc.strappend",
     true,
     1,
     {"DOC.SET", "K", "$", "{\"s\":\"ab\"}"},
     {"DOC.STRAPPEND", "K", "$.s", "cd"},
     "integer 4",
     true},
    {"doc.push", true, 1, {NULL}, {"DOC.PUSH", "K", "$.a", "1", "2"}, "integer 2", true},
    {"doc.pop",
     true,
     1,
     {"DOC.SET", "K", "$", "{\"a\":[1,2]}"},
     {"DOC.POP", "K", "$.a"},
     "string \"2\"",
     true},
    {"doc.pull",
     true,
     1,
     {"DOC.SET", "K", "$", "{\"a\":[1,2,1]}"},
     {"DOC.PULL", "K", "$.a", "1"},
     "integer 2",
     true},
    {"doc.addtoset",
     true,
     1,
     {"DOC.SET", "K", "$", "{\"a\":[1]}"},
     {"DOC.ADDTOSET", "K", "$.a", "1", "2"},
     "integer 1",
     true},
    {"doc.indexof",
     false,
     1,
     {"DOC.SET", "K", "$", "{\"a\":[5,6]}"},
     {"DOC.INDEXOF", "K", "$.a", "6"},
     "integer 1",
     true},
    {"doc.toggle",
     true,
     1,
     {"DOC.SET", "K", "$", "{\"b\":true}"},
     {"DOC.TOGGLE", "K", "$.b"},
     "string \"false\"",
     true},
    {"doc.clear",
     true,
     1,
     {"DOC.SET", "K", "$", "{\"a\":[1,2]}"},
     {"DOC.CLEAR", "K", "$.a"},
     "integer 1",
     true},
    {"doc.merge",
     true,
     1,
     {"DOC.SET", "K", "$", "{\"a\":1}"},
     {"DOC.MERGE", "K", "$", "{\"b\":2}"},
     "status \"OK\"",
     true},
    {"doc.cas",
     true,
     1,
     {"DOC.SET", "K", "$", "{\"o\":null}"},
     {"DOC.CAS", "K", "$.o", "null", "\"me\""},
     "integer 1",
     true},
    {"doc.update", true, 1, {NULL}, {"DOC.UPDATE", "K", "{\"$set\":{\"x\":1}}", "UPSERT"}, "integer 1", true},
    /* Internal (only an AOF or a primary may send it), but it names a key: a client
     * is still redirected to the owner, where it is refused. */
    {"doc.aofload",
     true,
     1,
     {NULL},
     {"DOC.AOFLOAD", "K", "7", "$", "1"},
     "error \"SYNTAX DOC.AOFLOAD is internal: only an AOF or a primary may send it\"",
     false},
    /* Last: its keys come after numkeys, the case key specs get wrong most easily. */
    {"doc.txn",
     true,
     2,
     {NULL},
     {"DOC.TXN", "2", "KA", "KB", "SET", "1", "$", "1", "INCR", "2", "$.n", "2"},
     "array(2) [status \"OK\", integer 2]",
     true},
};

#define NROUTES (sizeof routes / sizeof *routes)

/* argv of `words` with K, KA, KB replaced by the keys of `row`; returns argc. */
static int fill_keys(const char *const *words, size_t max, const char *row, char keys[3][64],
                     const char **argv) {
    snprintf(keys[0], 64, "route:%s", row);
    snprintf(keys[1], 64, "{route:%s}a", row);
    snprintf(keys[2], 64, "{route:%s}b", row);
    int n = 0;
    for (size_t i = 0; i < max && words[i]; i++, n++) {
        const char *w = words[i];
        argv[n] = !strcmp(w, "K") ? keys[0] : !strcmp(w, "KA") ? keys[1] : !strcmp(w, "KB") ? keys[2] : w;
    }
    return n;
}

/* Every DOC.* command, sent to a primary that does not serve its key, is answered
 * MOVED naming exactly the key's slot and its primary (so the key specs point at the
 * key, for TXN past numkeys too); a READONLY replica of the owner serves the reads
 * and redirects the writes; routed by slot (with a stale table, so the client
 * follows one MOVED) it runs on the owner with the reply a single server gives; and
 * the documents end up on the owners only. The routing table covers every DOC.*
 * command the module registers. */
Test(cluster, every_doc_command_runs_on_the_primary_of_its_slot) {
    cc_client *cc = new_client(g.port[0]);
    int prim[3];
    primaries(cc, prim);
    redisContext *ctx[NODES];
    for (int i = 0; i < NODES; i++) ctx[i] = connect_port(g.port[i]);
    node_info nodes[NODES];
    int nn = cluster_nodes(ctx[0], nodes, NODES);
    cr_assert_eq(nn, NODES);

    /* The table is complete: COMMAND LIST names no DOC command it lacks. */
    redisReply *list = cmd(ctx[0], "COMMAND LIST FILTERBY PATTERN doc.*");
    cr_assert_eq(list->type, REDIS_REPLY_ARRAY);
    for (size_t i = 0; i < list->elements; i++) {
        bool found = false;
        for (size_t j = 0; j < NROUTES; j++) found |= !strcmp(list->element[i]->str, routes[j].name);
        cr_assert(found, "%s is registered but not in the routing table", list->element[i]->str);
    }
    cr_assert_eq(list->elements, NROUTES, "COMMAND LIST has %zu DOC commands, the table %zu", list->elements,
                 NROUTES);
    freeReplyObject(list);

    bool owner_used[3] = {false, false, false};
    for (size_t i = 0; i < NROUTES; i++) {
        const route_case *rc = &routes[i];
        const char *row = rc->name + 4;
        char keys[3][64];
        const char *argv[12], *setup[8];
        int argc = fill_keys(rc->argv, 12, row, keys, argv);
        int setc = fill_keys(rc->setup, 8, row, keys, setup);
        const char *key = argv[rc->key_index];
        int slot = cc_key_slot(key, strlen(key));
        int owner = cc->owner[slot], wrong = other_primary(prim, owner);
        for (int p = 0; p < 3; p++) owner_used[p] |= prim[p] == owner;
        int replica = replica_of(nodes, nn, owner);
        redisContext *oc = NULL, *wc = NULL, *rctx = NULL;
        for (int n = 0; n < NODES; n++) {
            if (g.port[n] == owner) oc = ctx[n];
            if (g.port[n] == wrong) wc = ctx[n];
            if (g.port[n] == replica) rctx = ctx[n];
        }
        char what[160];
        snprintf(what, sizeof what, "%s on key %s (slot %d, owner %d)", argv[0], key, slot, owner);

        if (setc) {
            redisReply *r = cmdv(oc, setc, setup, NULL);
            cr_assert(r->type != REDIS_REPLY_ERROR, "setup of %s: %s", what, r->str);
            freeReplyObject(r);
            expect_int(cmd(oc, "WAIT 1 5000"), 1);
        }
        /* Another primary: MOVED to the owner, for exactly this slot. */
        expect_moved(cmdv(wc, argc, argv, NULL), slot, owner, what);
        /* The owner's replica: writes are redirected even after READONLY; reads are
         * served there from the replicated data. */
        expect_ok(cmd(rctx, "READONLY"));
        if (rc->write)
            expect_moved(cmdv(rctx, argc, argv, NULL), slot, owner, what);
        else
            expect_reply(cmdv(rctx, argc, argv, NULL), rc->want, what);
        expect_ok(cmd(rctx, "READWRITE"));
        /* Routed from a stale table: one MOVED, then the owner runs it once. */
        cc->owner[slot] = (uint16_t)wrong;
        long moved = cc->stats.moved;
        expect_reply(ccmd_at(__LINE__, cc, rc->key_index, argc, argv), rc->want, what);
        cr_assert_eq(cc->stats.moved, moved + 1, "%s: the client followed %ld MOVED", what,
                     cc->stats.moved - moved);
        cr_assert_eq(cc->owner[slot], owner, "%s: MOVED did not name the owner", what);
        /* The document is on the owner (no redirect) and nowhere else. */
        redisReply *v = cmd(oc, "DOC.VERSION %s", key);
        cr_assert_eq(v->type, REDIS_REPLY_INTEGER, "DOC.VERSION after %s", what);
        cr_assert(rc->key_exists ? v->integer > 0 : v->integer == 0, "%s: the owner has version %lld", what,
                  v->integer);
        freeReplyObject(v);
        for (int p = 0; p < 3; p++)
            if (prim[p] != owner)
                for (int n = 0; n < NODES; n++)
                    if (g.port[n] == prim[p]) expect_int(cmd(ctx[n], "CLUSTER COUNTKEYSINSLOT %d", slot), 0);
    }
    cr_assert(owner_used[0] && owner_used[1] && owner_used[2],
              "the routing keys should reach all three primaries");
    for (int i = 0; i < NODES; i++) disconnect(ctx[i]);
    drop_client(cc);
}

/* Spawns redis-cli with argv (after "redis-cli"); returns its stdout (malloc'd),
 * failing the test when it does not exit 0. */
static char *redis_cli(const char *const *args) {
    const char *argv[32] = {"redis-cli"};
    int n = 1;
    for (; args[n - 1]; n++) {
        cr_assert(n < 31, "too many redis-cli arguments");
        argv[n] = args[n - 1];
    }
    argv[n] = NULL;
    char *out, *err;
    int st = run(argv, 30000, NULL, &out, &err);
    cr_assert(exited_ok(st), "redis-cli %s %s %s ... failed (%d): %s%s", args[0], args[1], args[2], st, out,
              err);
    free(err);
    return out;
}

/* redis-cli in cluster mode (-c) follows the redirects of DOC commands: a DOC.SET
 * sent to a node that does not serve the key lands on the owner, a DOC.GET through yet
 * another node reads it back, and so does a DOC.TXN over one hash tag. */
Test(cluster, redis_cli_in_cluster_mode_follows_doc_redirects) {
    cc_client *cc = new_client(g.port[0]);
    const char *key = "cli:doc";
    int owner = cc->owner[cc_key_slot(key, strlen(key))];
    int tag_owner = cc->owner[cc_key_slot("{cli}a", 6)];
    /* p1 and p2: two other nodes; p3: a primary that does not serve the tag. */
    int via[2], nv = 0;
    for (int i = 0; i < NODES && nv < 2; i++)
        if (g.port[i] != owner) via[nv++] = g.port[i];
    int prim[3];
    primaries(cc, prim);
    char p1[16], p2[16], p3[16];
    snprintf(p1, sizeof p1, "%d", via[0]);
    snprintf(p2, sizeof p2, "%d", via[1]);
    snprintf(p3, sizeof p3, "%d", other_primary(prim, tag_owner));

    char *out =
        redis_cli((const char *[]){"-c", "-h", "127.0.0.1", "-p", p1, "DOC.SET", key, "$", "1", NULL});
    cr_assert_str_eq(out, "OK\n", "redis-cli -c -p %s DOC.SET", p1);
    free(out);
    out = redis_cli((const char *[]){"-c", "-h", "127.0.0.1", "-p", p2, "DOC.GET", key, NULL});
    cr_assert_str_eq(out, "1\n", "redis-cli -c -p %s DOC.GET", p2);
    free(out);
    out = redis_cli((const char *[]){"-c", "-h", "127.0.0.1", "-p", p3, "DOC.TXN", "2", "{cli}a", "{cli}b",
                                     "INCR", "1", "$.n", "4", "GET", "2", "$", NULL});
    cr_assert_str_eq(out, "4\n\n", "redis-cli -c -p %s DOC.TXN", p3);
    free(out);

    redisContext *oc = connect_port(owner);
    expect_str(cmd(oc, "DOC.GET %s", key), "1");
    expect_int(cmd(oc, "DOC.VERSION %s", key), 1);
    disconnect(oc);
    redisContext *tc = connect_port(tag_owner);
    expect_reply(cmd(tc, "DOC.GET {cli}a WITHVERSION"), "array(2) [integer 1, string \"{\\\"n\\\":4}\"]",
                 "{cli}a on the primary of its slot");
    disconnect(tc);
    drop_client(cc);
}

/* ---- hash tags and CROSSSLOT -------------------------------------------------- */

/* Two keys whose slots differ; with `same_node`, both served by one primary. */
static void keys_in_two_slots(cc_client *cc, bool same_node, char a[32], char b[32]) {
    snprintf(a, 32, "xs:a");
    int sa = cc_key_slot(a, strlen(a));
    for (int i = 0; i < 100000; i++) {
        snprintf(b, 32, "xs:b%d", i);
        int sb = cc_key_slot(b, strlen(b));
        if (sb != sa && (cc->owner[sb] == cc->owner[sa]) == same_node) return;
    }
    cr_assert_fail("no second key found");
}

/* A DOC.TXN over {u1}a and {u1}b commits on the primary of the tag's slot (followed
 * from another node), replicates, and aborts whole when a CHECK fails; DOC.TXN,
 * DOC.MGET and DOC.MSET over two slots are refused with CROSSSLOT by every node (even
 * when one primary serves both slots) and change nothing. */
Test(cluster, txn_runs_within_one_hash_tag_and_crossslot_is_refused) {
    cc_client *cc = new_client(g.port[0]);
    int slot = cc_key_slot("{u1}a", 5);
    int owner = cc->owner[slot];
    int prim[3];
    primaries(cc, prim);
    expect_reply(ccmd(cc, 1, "DOC.SET", "{u1}a", "$", "{\"balance\":100}"), "status \"OK\"", "DOC.SET {u1}a");
    cr_assert_eq(cc->stats.moved, 0);
    redisReply *v = ccmd(cc, 1, "DOC.VERSION", "{u1}a");
    cr_assert_eq(v->type, REDIS_REPLY_INTEGER);
    long long va = v->integer; /* a new document's version: above all its node gave */
    freeReplyObject(v);
    cc->owner[slot] = (uint16_t)other_primary(prim, owner); /* the TXN follows one MOVED */
    expect_reply(ccmd(cc, 2, "DOC.TXN", "2", "{u1}a", "{u1}b", "CHECK", "1", "$.balance", "GE", "30", "INCR",
                      "1", "$.balance", "-30", "INCR", "2", "$.balance", "30"),
                 "array(3) [status \"OK\", integer 70, integer 30]",
                 "DOC.TXN over {u1}a {u1}b sent to a primary that does not serve their slot "
                 "(it must answer MOVED, then the owner runs it)");
    redisReply *r = ccmd(cc, 2, "DOC.TXN", "2", "{u1}a", "{u1}b", "INCR", "2", "$.balance", "1000", "CHECK",
                         "1", "$.balance", "GE", "1000");
    cr_assert(r->type == REDIS_REPLY_ERROR && !strncmp(r->str, "ABORTED op 2", 12),
              "a TXN whose CHECK fails: %s", r->type == REDIS_REPLY_ERROR ? r->str : "no error");
    freeReplyObject(r);
    cr_assert_eq(cc->stats.moved, 1, "one MOVED, then the table is right");

    redisContext *oc = connect_port(owner);
    expect_str(cmd(oc, "DOC.GET {u1}a"), "{\"balance\":70}");
    expect_str(cmd(oc, "DOC.GET {u1}b"), "{\"balance\":30}");
    expect_int(cmd(oc, "DOC.VERSION {u1}a"), va + 1);
    redisReply *vb = cmd(oc, "DOC.VERSION {u1}b");
    cr_assert(vb->type == REDIS_REPLY_INTEGER && vb->integer > va + 1,
              "{u1}b, created by the TXN after {u1}a moved to %lld, has version %lld", va + 1, vb->integer);
    long long vb_now = vb->integer;
    freeReplyObject(vb);
    expect_int(cmd(oc, "WAIT 1 5000"), 1);
    node_info nodes[NODES];
    int nn = cluster_nodes(oc, nodes, NODES);
    redisContext *rc = connect_port(replica_of(nodes, nn, owner));
    expect_ok(cmd(rc, "READONLY"));
    char want[128];
    snprintf(want, sizeof want, "array(2) [integer %lld, string \"{\\\"balance\\\":30}\"]", vb_now);
    expect_reply(cmd(rc, "DOC.GET {u1}b WITHVERSION"), want, "the replica's {u1}b");
    snprintf(want, sizeof want, "array(2) [integer %lld, string \"{\\\"balance\\\":70}\"]", va + 1);
    expect_reply(cmd(rc, "DOC.GET {u1}a WITHVERSION"), want, "the replica's {u1}a");
    disconnect(rc);
    disconnect(oc);

    for (int same = 0; same <= 1; same++) {
        char a[32], b[32];
        keys_in_two_slots(cc, same, a, b);
        for (int n = 0; n < NODES; n++) {
            redisContext *c = connect_port(g.port[n]);
            char what[128];
            snprintf(what, sizeof what, "%s and %s (%s node) sent to %d", a, b, same ? "one" : "two",
                     g.port[n]);
            r = cmd(c, "DOC.MSET %s $ 1 %s $ 2", a, b);
            cr_assert(r->type == REDIS_REPLY_ERROR && !strncmp(r->str, "CROSSSLOT ", 10),
                      "DOC.MSET over %s: %s", what, r->type == REDIS_REPLY_ERROR ? r->str : "no error");
            freeReplyObject(r);
            r = cmd(c, "DOC.MGET %s %s $", a, b);
            cr_assert(r->type == REDIS_REPLY_ERROR && !strncmp(r->str, "CROSSSLOT ", 10),
                      "DOC.MGET over %s: %s", what, r->type == REDIS_REPLY_ERROR ? r->str : "no error");
            freeReplyObject(r);
            r = cmd(c, "DOC.TXN 2 %s %s SET 1 $ 1 SET 2 $ 2", a, b);
            char got[256];
            reply_describe(r, got, sizeof got);
            cr_assert(r->type == REDIS_REPLY_ERROR && !strncmp(r->str, "CROSSSLOT ", 10),
                      "DOC.TXN over %s: %s", what, got);
            freeReplyObject(r);
            disconnect(c);
        }
        expect_reply(ccmd(cc, 1, "DOC.VERSION", a), "integer 0", "nothing was written");
        expect_reply(ccmd(cc, 1, "DOC.VERSION", b), "integer 0", "nothing was written");
    }
    /* One tag is fine for MSET and MGET too. */
    expect_reply(ccmd(cc, 1, "DOC.MSET", "{u2}a", "$", "1", "{u2}b", "$", "[2]"), "status \"OK\"",
                 "DOC.MSET over one tag");
    expect_reply(ccmd(cc, 1, "DOC.MGET", "{u2}a", "{u2}b", "{u2}c", "$"),
                 "array(3) [string \"1\", string \"[2]\", nil]", "DOC.MGET over one tag");
    drop_client(cc);
}

/* ---- resharding under writes -------------------------------------------------- */

/* What all_nodes_route() waits for. */
typedef struct routes_wait {
    const int *slots; /* these slots */
    int nslots;       /* how many */
    int port;         /* must be served by the primary on this port */
    int skip;         /* a dead node's port, not asked; 0: none */
    char why[256];    /* what is still missing, for the failure message */
} routes_wait;

/* True when every node (but rw->skip) routes every slot of rw to rw->port. */
static bool all_nodes_route(void *arg) {
    routes_wait *rw = arg;
    for (int n = 0; n < NODES; n++) {
        if (g.port[n] == rw->skip) continue;
        cc_client *view = cc_new(g.port[n]);
        if (!view) {
            snprintf(rw->why, sizeof rw->why, "no slot table from node %d", g.port[n]);
            return false;
        }
        for (int i = 0; i < rw->nslots; i++) {
            int owner = view->owner[rw->slots[i]];
            if (owner != rw->port) {
                snprintf(rw->why, sizeof rw->why, "node %d routes slot %d to %d, not %d", g.port[n],
                         rw->slots[i], owner, rw->port);
                cc_free(view);
                return false;
            }
        }
        cc_free(view);
    }
    return true;
}

/* One writer thread of the resharding test. */
typedef struct writer {
    pthread_t thread;         /* the thread */
    cc_client *cc;            /* its own cluster client */
    char (*keys)[24];         /* the documents, shared read-only */
    int nkeys;                /* how many */
    unsigned seed;            /* its key choice */
    atomic_bool *stop;        /* set by the test: finish the current command and return */
    long acked[RESHARD_DOCS]; /* INCRs acknowledged per document */
    atomic_long total;        /* all INCRs acknowledged so far */
    char error[600];          /* the first thing that went wrong; "" when nothing */
} writer;

static void *writer_main(void *arg) {
    writer *w = arg;
    while (!atomic_load(w->stop)) {
        w->seed = w->seed * 1103515245u + 12345u;
        int i = (int)((w->seed >> 8) % (unsigned)w->nkeys);
        const char *argv[] = {"DOC.INCR", w->keys[i], "$.n", "1"};
        redisReply *r = cc_commandv(w->cc, 1, 4, argv);
        if (!r) {
            snprintf(w->error, sizeof w->error, "DOC.INCR %s: %s", w->keys[i], w->cc->err);
            break;
        }
        if (r->type != REDIS_REPLY_INTEGER || r->integer < RESHARD_INCRS + 1 + w->acked[i]) {
            char got[256];
            snprintf(w->error, sizeof w->error, "DOC.INCR %s replied %s after %ld of ours", w->keys[i],
                     reply_describe(r, got, sizeof got), w->acked[i]);
            freeReplyObject(r);
            break;
        }
        freeReplyObject(r);
        w->acked[i]++;
        atomic_fetch_add(&w->total, 1);
    }
    return NULL;
}

static long writers_total(writer *w, int n) {
    long t = 0;
    for (int i = 0; i < n; i++) t += atomic_load(&w[i].total);
    return t;
}

/* Waits until the writers together acknowledged `more` INCRs beyond `from`, or one
 * of them stopped with an error. */
static void wait_for_writes(writer *w, long from, long more) {
    long long deadline = test_now_ms() + 30000;
    while (writers_total(w, WRITERS) < from + more) {
        for (int i = 0; i < WRITERS; i++) cr_assert(!w[i].error[0], "writer %d: %s", i, w[i].error);
        cr_assert(test_now_ms() < deadline, "the writers made %ld of %ld INCRs in 30 s",
                  writers_total(w, WRITERS) - from, more);
        pause_ms(POLL_MS);
    }
}

static void node_id(int port, char id[41]) {
    redisContext *c = connect_port(port);
    redisReply *r = cmd(c, "CLUSTER MYID");
    cr_assert(r->type == REDIS_REPLY_STRING && r->len == 40, "CLUSTER MYID on %d", port);
    memcpy(id, r->str, 41);
    freeReplyObject(r);
    disconnect(c);
}

/* 1,000 documents with versions past 1 live in the lowest RESHARD_SLOTS slots of one
 * primary; redis-cli --cluster reshard moves those slots to another primary while two
 * clients keep incrementing the documents (following MOVED and ASK). Afterwards the
 * other primary serves every one of those slots, the first keeps no key in them, and
 * every document's counter and version are exactly its initial ones plus the INCRs
 * that were acknowledged: none lost, none applied twice. */
Test(cluster, resharding_under_writes_keeps_every_acknowledged_incr_and_version) {
    cc_client *cc = new_client(g.port[0]);
    int prim[3];
    primaries(cc, prim);
    int src = cc->owner[0], dst = cc->owner[CC_SLOTS - 1];
    cr_assert_neq(src, dst);
    /* redis-cli takes the slots to move from the source's lowest ones up. */
    int moving[RESHARD_SLOTS], nm = 0;
    for (int s = 0; s < CC_SLOTS && nm < RESHARD_SLOTS; s++)
        if (cc->owner[s] == src) moving[nm++] = s;
    cr_assert_eq(nm, RESHARD_SLOTS);
    bool is_moving[CC_SLOTS] = {false};
    for (int i = 0; i < nm; i++) is_moving[moving[i]] = true;

    static char keys[RESHARD_DOCS][24];
    int nk = 0;
    for (int i = 0; nk < RESHARD_DOCS; i++) {
        snprintf(keys[nk], sizeof keys[nk], "rs:%d", i);
        if (is_moving[cc_key_slot(keys[nk], strlen(keys[nk]))]) nk++;
    }
    /* Create them on the source, pipelined: SET, then RESHARD_INCRS INCRs each. */
    redisContext *sc = connect_port(src);
    for (int i = 0; i < nk; i++) {
        redisAppendCommand(sc, "DOC.SET %s $ {\"n\":0,\"k\":\"%s\"}", keys[i], keys[i]);
        for (int j = 0; j < RESHARD_INCRS; j++) redisAppendCommand(sc, "DOC.INCR %s $.n 1", keys[i]);
    }
    for (int i = 0; i < nk; i++) {
        redisReply *r = NULL;
        cr_assert(redisGetReply(sc, (void **)&r) == REDIS_OK && r, "DOC.SET %s", keys[i]);
        expect_ok(r);
        for (int j = 0; j < RESHARD_INCRS; j++) {
            cr_assert(redisGetReply(sc, (void **)&r) == REDIS_OK && r, "DOC.INCR %s", keys[i]);
            expect_int(r, j + 1);
        }
    }
    /* Each document's version now: where it started depends on what src gave before. */
    static long long base[RESHARD_DOCS];
    for (int i = 0; i < nk; i++) {
        redisReply *v = cmd(sc, "DOC.VERSION %s", keys[i]);
        cr_assert_eq(v->type, REDIS_REPLY_INTEGER);
        base[i] = v->integer;
        freeReplyObject(v);
    }
    disconnect(sc);

    static writer w[WRITERS];
    static atomic_bool stop;
    atomic_store(&stop, false);
    open_.stop = &stop;
    for (int i = 0; i < WRITERS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].cc = new_client(src);
        w[i].keys = keys;
        w[i].nkeys = nk;
        w[i].seed = 17u + 31u * (unsigned)i;
        w[i].stop = &stop;
        atomic_init(&w[i].total, 0);
        cr_assert_eq(pthread_create(&w[i].thread, NULL, writer_main, &w[i]), 0);
        open_.threads[open_.nthreads++] = w[i].thread;
    }
    wait_for_writes(w, 0, 200);

    char src_id[41], dst_id[41], nslots[16], from[32], logpath[PATH_MAX + 32];
    node_id(src, src_id);
    node_id(dst, dst_id);
    snprintf(nslots, sizeof nslots, "%d", RESHARD_SLOTS);
    snprintf(from, sizeof from, "127.0.0.1:%d", src);
    snprintf(logpath, sizeof logpath, "%s/reshard.log", g.dir);
    const char *argv[] = {"redis-cli",    "--cluster", "reshard",         from,   "--cluster-from", src_id,
                          "--cluster-to", dst_id,      "--cluster-slots", nslots, "--cluster-yes",  NULL};
    long before = writers_total(w, WRITERS);
    long long t0 = test_now_ms();
    pid_t pid = spawn(argv, logpath, NULL);
    cr_assert(pid > 0);
    int st = wait_child(pid, RESHARD_MS);
    long long took = test_now_ms() - t0;
    long during = writers_total(w, WRITERS) - before;
    if (!exited_ok(st)) {
        stop_writers();
        char *log = slurp(logpath);
        size_t len = strlen(log);
        cr_assert_fail("redis-cli --cluster reshard failed (status %d) after %lld ms:\n%s", st, took,
                       len > 3000 ? log + len - 3000 : log);
    }
    /* Keep writing a little after the move: stale tables now get MOVED. */
    wait_for_writes(w, writers_total(w, WRITERS), 200);
    stop_writers();
    long redirects = 0, asks = 0;
    for (int i = 0; i < WRITERS; i++) {
        cr_assert(!w[i].error[0], "writer %d: %s", i, w[i].error);
        redirects += w[i].cc->stats.moved + w[i].cc->stats.ask;
        asks += w[i].cc->stats.ask;
    }
    cr_log_info("reshard of %d slots / %d docs took %lld ms; %ld INCRs during it, %ld in all; "
                "%ld redirects followed (%ld ASK)",
                RESHARD_SLOTS, nk, took, during, writers_total(w, WRITERS), redirects, asks);
    cr_assert(during > 0, "no INCR was acknowledged while the slots moved");
    cr_assert(redirects > 0, "the writers never saw a redirect: they did not write to moving slots");

    /* Every moved slot is served by dst, as every node says once gossip has reached
     * the replicas (redis-cli tells the primaries only), and src kept no key. */
    routes_wait rw = {.slots = moving, .nslots = nm, .port = dst};
    cr_assert(wait_until(all_nodes_route, &rw, GOSSIP_MS), "after %d ms: %s", GOSSIP_MS, rw.why);
    redisContext *src_c = connect_port(src), *dst_c = connect_port(dst);
    for (int i = 0; i < nm; i++) expect_int(cmd(src_c, "CLUSTER COUNTKEYSINSLOT %d", moving[i]), 0);
    /* Every document, read on dst directly (a MOVED would fail the comparison). */
    for (int i = 0; i < nk; i++) {
        long acked = 0;
        for (int t = 0; t < WRITERS; t++) acked += w[t].acked[i];
        char want[256], what[64];
        snprintf(want, sizeof want,
                 "array(2) [integer %lld, string \"{\\\"n\\\":%ld,\\\"k\\\":\\\"%s\\\"}\"]", base[i] + acked,
                 RESHARD_INCRS + acked, keys[i]);
        snprintf(what, sizeof what, "%s after %ld acknowledged INCRs", keys[i], acked);
        expect_reply(cmd(dst_c, "DOC.GET %s WITHVERSION", keys[i]), want, what);
    }
    disconnect(src_c);
    disconnect(dst_c);
    for (int i = 0; i < WRITERS; i++) drop_client(w[i].cc);
    drop_client(cc);
}

/* ---- failover ----------------------------------------------------------------- */

/* The cluster agrees the replica on `port` took over: it is a primary, and it and every
 * other live node report cluster_state:ok. */
typedef struct failover_wait {
    int promoted;  /* the replica's port */
    int dead;      /* the killed primary's port: not asked */
    char why[256]; /* what is still missing, for the failure message */
} failover_wait;

static bool failed_over(void *arg) {
    failover_wait *fw = arg;
    for (int n = 0; n < NODES; n++) {
        if (g.port[n] == fw->dead) continue;
        struct timeval tv = {1, 0};
        redisContext *c = redisConnectWithTimeout("127.0.0.1", g.port[n], tv);
        if (!c || c->err) {
            snprintf(fw->why, sizeof fw->why, "cannot connect to %d", g.port[n]);
            if (c) redisFree(c);
            return false;
        }
        redisSetTimeout(c, tv);
        bool ok = true;
        char val[64] = "?";
        redisReply *r = redisCommand(c, "CLUSTER INFO");
        if (!r || r->type != REDIS_REPLY_STRING || !info_value(r->str, "cluster_state", val, sizeof val) ||
            strcmp(val, "ok")) {
            snprintf(fw->why, sizeof fw->why, "node %d: cluster_state %s", g.port[n],
                     r && r->type == REDIS_REPLY_STRING ? val : "?");
            ok = false;
        }
        if (r) freeReplyObject(r);
        if (ok && g.port[n] == fw->promoted) {
            r = redisCommand(c, "ROLE");
            if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
                r->element[0]->type != REDIS_REPLY_STRING || strcmp(r->element[0]->str, "master")) {
                snprintf(fw->why, sizeof fw->why, "node %d is not a primary yet", g.port[n]);
                ok = false;
            }
            if (r) freeReplyObject(r);
        }
        redisFree(c);
        if (!ok) return false;
    }
    return true;
}

/* Documents written to one primary, acknowledged by its replica (WAIT 1 returns 1),
 * survive that primary's SIGKILL: once the replica is promoted and the cluster is ok
 * again, every document and version is on the new primary, every node routes the
 * slots there, and it takes new writes. */
Test(cluster, failover_after_wait_keeps_every_document_and_version) {
    cc_client *cc = new_client(g.port[0]);
    int victim = cc->owner[0];
    redisContext *vc = connect_port(victim);
    node_info nodes[NODES];
    int nn = cluster_nodes(vc, nodes, NODES);
    int heir = replica_of(nodes, nn, victim);

    static char keys[FAILOVER_DOCS][24];
    int nk = 0;
    for (int i = 0; nk < FAILOVER_DOCS; i++) {
        snprintf(keys[nk], sizeof keys[nk], "fo:%d", i);
        if (cc->owner[cc_key_slot(keys[nk], strlen(keys[nk]))] == victim) nk++;
    }
    /* Document i: {"i":i,"n":i%5,"tags":[...]}, moved i%5 + (i%3 ? 1 : 0) times. */
    for (int i = 0; i < nk; i++) {
        redisAppendCommand(vc, "DOC.SET %s $ {\"i\":%d,\"n\":0,\"tags\":[]}", keys[i], i);
        for (int j = 0; j < i % 5; j++) redisAppendCommand(vc, "DOC.INCR %s $.n 1", keys[i]);
        if (i % 3) redisAppendCommand(vc, "DOC.PUSH %s $.tags \"t%d\"", keys[i], i);
    }
    for (int i = 0; i < nk; i++) {
        int replies = 1 + i % 5 + (i % 3 ? 1 : 0);
        for (int j = 0; j < replies; j++) {
            redisReply *r = NULL;
            cr_assert(redisGetReply(vc, (void **)&r) == REDIS_OK && r, "writing %s", keys[i]);
            cr_assert(r->type != REDIS_REPLY_ERROR, "writing %s: %s", keys[i], r->str);
            freeReplyObject(r);
        }
    }
    expect_int(cmd(vc, "WAIT 1 5000"), 1);
    /* Their versions: each started above what the victim gave before it. */
    static long long fo_version[FAILOVER_DOCS];
    for (int i = 0; i < nk; i++) {
        redisReply *v = cmd(vc, "DOC.VERSION %s", keys[i]);
        cr_assert_eq(v->type, REDIS_REPLY_INTEGER);
        fo_version[i] = v->integer;
        freeReplyObject(v);
    }

    pid_t pid = node_pid(victim);
    redisReply *info = cmd(vc, "INFO server");
    char val[32];
    cr_assert(info_value(info->str, "process_id", val, sizeof val) && atoi(val) == pid,
              "the pid file of %d says %d, INFO says %s", victim, (int)pid, val);
    freeReplyObject(info);
    disconnect(vc);
    long long t0 = test_now_ms();
    cr_assert_eq(kill(pid, SIGKILL), 0, "kill %d: %s", (int)pid, strerror(errno));

    failover_wait fw = {.promoted = heir, .dead = victim};
    bool done = wait_until(failed_over, &fw, FAILOVER_MS);
    cr_assert(done, "no failover within %d ms: %s", FAILOVER_MS, fw.why);
    cr_assert(process_gone(pid), "the killed primary (pid %d) still runs", (int)pid);
    cr_log_info("failover from %d to %d took %lld ms", victim, heir, test_now_ms() - t0);

    /* Every live node routes the victim's slots to the heir. */
    static int slots[FAILOVER_DOCS];
    for (int i = 0; i < nk; i++) slots[i] = cc_key_slot(keys[i], strlen(keys[i]));
    routes_wait rw = {.slots = slots, .nslots = nk, .port = heir, .skip = victim};
    cr_assert(wait_until(all_nodes_route, &rw, GOSSIP_MS), "after %d ms: %s", GOSSIP_MS, rw.why);
    redisContext *hc = connect_port(heir);
    for (int i = 0; i < nk; i++) {
        char want[256], tags[32] = "";
        if (i % 3) snprintf(tags, sizeof tags, "\\\"t%d\\\"", i);
        snprintf(want, sizeof want,
                 "array(2) [integer %lld, string \"{\\\"i\\\":%d,\\\"n\\\":%d,\\\"tags\\\":[%s]}\"]",
                 fo_version[i], i, i % 5, tags);
        expect_reply(cmd(hc, "DOC.GET %s WITHVERSION", keys[i]), want, keys[i]);
    }
    expect_int(cmd(hc, "DOC.INCR %s $.n 10", keys[0]), 10);
    expect_int(cmd(hc, "DOC.VERSION %s", keys[0]), fo_version[0] + 1);
    disconnect(hc);
    drop_client(cc);
}
