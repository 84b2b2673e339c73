/* test_harness.c - the integration harness proves itself with plain Redis commands:
 * servers start and stop, several live in one test, data survives a restart through
 * the AOF and the RDB, a replica receives writes, the reply checks accept what they
 * should, and a server cannot outlive the process that started it.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* True once `pid` no longer runs (gone, or a zombie waiting for its new parent). */
static bool process_gone(void *arg) {
    pid_t pid = *(pid_t *)arg;
    char path[64], st[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return true;
    size_t n = fread(st, 1, sizeof st - 1, f);
    fclose(f);
    st[n] = '\0';
    const char *rp = strrchr(st, ')');
    return rp && (rp[2] == 'Z' || rp[2] == 'X');
}

static bool dir_exists(const char *dir) {
    struct stat sb;
    return stat(dir, &sb) == 0;
}

Test(harness, start_serves_commands_and_stop_removes_everything) {
    srv *s = srv_start(NULL);
    cr_assert_gt(s->pid, 0);
    cr_assert_gt(s->port, 0);
    char dir[sizeof s->dir];
    memcpy(dir, s->dir, sizeof dir);
    pid_t pid = s->pid;
    int port = s->port;

    redisContext *c = srv_connect(s);
    expect_ok(cmd(c, "SET greeting %s", "hello world"));
    expect_str(cmd(c, "GET greeting"), "hello world");
    /* Ours, besides any module built into the server (Redis 8: vectorset). */
    redisReply *mods = cmd(c, "MODULE LIST");
    int ours = 0;
    for (size_t i = 0; i < mods->elements; i++)
        for (size_t j = 0; j + 1 < mods->element[i]->elements; j += 2)
            if (!strcmp(mods->element[i]->element[j]->str, "name") &&
                !strcmp(mods->element[i]->element[j + 1]->str, "atomicdoc"))
                ours++;
    cr_assert_eq(ours, 1, "MODULE LIST lists atomicdoc %d times", ours);
    freeReplyObject(mods);
    cr_assert_eq(srv_info_int(c, "server", "tcp_port"), port);
    cr_assert_eq(srv_info_int(c, "server", "process_id"), pid);
    redisFree(c);

    srv_stop(s);
    cr_assert(process_gone(&pid), "redis-server %d still runs after srv_stop", (int)pid);
    cr_assert(!dir_exists(dir), "%s still exists after srv_stop", dir);
    redisContext *gone = redisConnect("127.0.0.1", port);
    cr_assert(gone->err, "port %d still accepts connections after srv_stop", port);
    redisFree(gone);
}

Test(harness, two_servers_in_one_test_are_independent) {
    srv *a = srv_start(NULL);
    srv *b = srv_start(NULL);
    cr_assert_neq(a->port, b->port);
    cr_assert_str_neq(a->dir, b->dir);
    redisContext *ca = srv_connect(a), *cb = srv_connect(b);

    expect_ok(cmd(ca, "SET k %s", "in-a"));
    expect_ok(cmd(cb, "SET k %s", "in-b"));
    expect_str(cmd(ca, "GET k"), "in-a");
    expect_str(cmd(cb, "GET k"), "in-b");
    expect_int(cmd(cb, "DEL k"), 1);
    expect_nil(cmd(cb, "GET k"));
    expect_str(cmd(ca, "GET k"), "in-a");

    redisFree(ca);
    redisFree(cb);
    srv_stop(b);
    srv_stop(a);
}

Test(harness, restart_after_a_crash_keeps_data_when_aof_is_on) {
    srv *s = srv_start(&(srv_opts){.aof = true});
    redisContext *c = srv_connect(s);
    expect_ok(cmd(c, "SET survivor %s", "yes"));
    expect_int(cmd(c, "RPUSH list a b c"), 3);
    redisFree(c);

    int port = s->port;
    srv_kill(s); /* no RDB is written: only the AOF can bring the data back */
    cr_assert_eq(s->pid, 0);
    srv_restart(s);
    cr_assert_eq(s->port, port);

    c = srv_connect(s);
    expect_str(cmd(c, "GET survivor"), "yes");
    expect_int(cmd(c, "LLEN list"), 3);
    redisFree(c);
    srv_stop(s);
}

Test(harness, restart_saves_and_reloads_the_rdb) {
    srv *s = srv_start(NULL);
    redisContext *c = srv_connect(s);
    expect_ok(cmd(c, "SET saved %s", "in-rdb"));
    char *before = srv_digest(c);
    redisFree(c);

    srv_restart(s); /* SHUTDOWN SAVE, then the same port and directory */

    c = srv_connect(s);
    expect_str(cmd(c, "GET saved"), "in-rdb");
    char *after = srv_digest(c);
    cr_assert_str_eq(after, before);
    cr_assert_eq(strlen(after), 40);
    free(before);
    free(after);
    redisFree(c);
    srv_stop(s);
}

Test(harness, replica_receives_writes_made_before_and_after_it_starts) {
    srv *p = srv_start(NULL);
    redisContext *pc = srv_connect(p);
    expect_ok(cmd(pc, "SET before %s", "full-sync"));

    srv *r = srv_start_replica(p);
    redisContext *rc = srv_connect(r);
    expect_str(cmd(rc, "GET before"), "full-sync");

    expect_ok(cmd(pc, "SET after %s", "streamed"));
    expect_int(cmd(pc, "INCRBY counter 5"), 5);
    srv_wait_replica_synced(p, r);
    expect_str(cmd(rc, "GET after"), "streamed");
    expect_str(cmd(rc, "GET counter"), "5");
    expect_err_prefix(cmd(rc, "SET k v"), "READONLY");

    char *role = srv_info_field(rc, "replication", "role");
    cr_assert_str_eq(role, "slave");
    free(role);
    char *pd = srv_digest(pc), *rd = srv_digest(rc);
    cr_assert_str_eq(rd, pd);
    free(pd);
    free(rd);

    redisFree(rc);
    redisFree(pc);
    srv_stop(r);
    srv_stop(p);
}

Test(harness, options_reach_the_server_and_reply_checks_match) {
    srv *s = srv_start(&(srv_opts){
        .config = (const char *[]){"maxmemory", "10mb", "hz", "20", NULL},
    });
    redisContext *c = srv_connect(s);

    redisReply *r = cmd(c, "CONFIG GET maxmemory");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 2);
    cr_assert_str_eq(r->element[1]->str, "10485760");
    freeReplyObject(r);
    char *app = srv_info_field(c, "persistence", "aof_enabled");
    cr_assert_str_eq(app, "0");
    free(app);
    cr_assert_null(srv_info_field(c, "server", "no_such_field"));

    /* binary-safe arguments through cmdv, and the checks on each reply type */
    const char *argv[] = {"SET", "bin", "a\0b"};
    const size_t lens[] = {3, 3, 3};
    expect_ok(cmdv(c, 3, argv, lens));
    expect_int(cmd(c, "STRLEN bin"), 3);
    expect_status(cmd(c, "TYPE bin"), "string");
    expect_err_prefix(cmd(c, "INCR bin"), "ERR");
    expect_err_prefix(cmd(c, "INCR bin"), "ERR value is not");
    expect_err_prefix(cmd(c, "NO.SUCH.COMMAND"), "ERR");
    expect_array_len(cmd(c, "KEYS *"), 1);
    expect_nil(cmd(c, "GET missing"));

    char buf[128];
    r = cmd(c, "GET bin");
    cr_assert_str_eq(reply_describe(r, buf, sizeof buf), "string \"a\\x00b\"");
    freeReplyObject(r);

    redisFree(c);
    srv_stop(s);
}

struct key_probe {
    redisContext *c; /* connection to ask */
    const char *key; /* key expected to disappear */
};

static bool key_is_gone(void *arg) {
    struct key_probe *p = arg;
    redisReply *r = cmd(p->c, "EXISTS %s", p->key);
    bool gone = r->type == REDIS_REPLY_INTEGER && r->integer == 0;
    freeReplyObject(r);
    return gone;
}

Test(harness, wait_until_polls_until_the_condition_holds) {
    srv *s = srv_start(NULL);
    redisContext *c = srv_connect(s);
    /* long enough that no stall of a busy machine lets it expire before the first probe */
    expect_ok(cmd(c, "SET short-lived x PX 1000"));
    struct key_probe probe = {c, "short-lived"};
    cr_assert(!key_is_gone(&probe));
    cr_assert(wait_until(key_is_gone, &probe, 5000), "the key never expired");
    expect_ok(cmd(c, "SET long-lived x"));
    probe.key = "long-lived";
    cr_assert(!wait_until(key_is_gone, &probe, 50), "a persistent key vanished");
    redisFree(c);
    srv_stop(s);
}

/* True once our child `pid` has exited; reaps it. */
static bool child_exited(void *arg) { return waitpid(*(pid_t *)arg, NULL, WNOHANG) == *(pid_t *)arg; }

/* A test process that dies without cleaning up (a crash, a timeout kill) still takes
 * its servers with it: here a forked copy of this test starts one and _exits. */
Test(harness, a_server_dies_with_the_process_that_started_it) {
    /* The orphaned server becomes our child, so we can see it die and reap it. */
    cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t child = fork();
    cr_assert_geq(child, 0);
    if (child == 0) {
        close(fds[0]);
        srv *s = srv_start(NULL);
        char line[sizeof s->dir + 32];
        int n = snprintf(line, sizeof line, "%d %s\n", (int)s->pid, s->dir);
        if (write(fds[1], line, (size_t)n) != n) _exit(1);
        _exit(0); /* no atexit, no srv_stop: only PR_SET_PDEATHSIG can stop it */
    }
    close(fds[1]);
    char line[512] = {0};
    struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
    ssize_t n = -1;
    if (poll(&pfd, 1, 20000) == 1) /* a broken child must not hang the test */
        n = read(fds[0], line, sizeof line - 1);
    close(fds[0]);
    if (n <= 0) kill(child, SIGKILL);
    int status;
    cr_assert_eq(waitpid(child, &status, 0), child);
    cr_assert(n > 0, "the child did not report its server (see its message above)");
    int pid = 0;
    char dir[300] = {0};
    cr_assert_eq(sscanf(line, "%d %299s", &pid, dir), 2);

    pid_t server = pid;
    cr_assert(wait_until(child_exited, &server, 5000), "redis-server %d outlived the process that started it",
              pid);
    /* The runner sweeps such directories after the last test; this test tidies its
     * own so the sweep has nothing to report. */
    char rm[400];
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    cr_assert_eq(system(rm), 0);
}
