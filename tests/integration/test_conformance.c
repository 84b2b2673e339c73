/* test_conformance.c - the JSONTestSuite parsing files through a real server.
 *
 * Every file of JSONTestSuite/test_parsing goes through DOC.SET on one server:
 *   y_*  must be accepted, and what DOC.GET prints must be accepted again and print
 *        byte for byte the same (except the duplicate-key files: SPEC makes a
 *        duplicate key an error, so those must be BADJSON);
 *   n_*  must be refused with BADJSON (TOODEEP allowed for the two files nested
 *        deeper than max-depth), leaving no key behind;
 *   i_*  may go either way, but the server must keep answering, a refusal must leave
 *        no key, and whatever is accepted must print and re-read the same way.
 * All failures are collected and reported in one assertion.
 *
 * The suite is found at $ATOMICDOC_SHARED/conformance/JSONTestSuite/test_parsing, or
 * at shared/conformance/... in the current directory or an ancestor of it (the
 * tests run from the project root, which sits next to shared/).
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "../test_util.h"

#define SUITE_SUBDIR "conformance/JSONTestSuite/test_parsing"

/* SPEC: "a duplicate key in input text is an error", though JSON allows it. */
static const char *const duplicate_key_files[] = {
    "y_object_duplicated_key.json",
    "y_object_duplicated_key_and_value.json",
};

/* Nested far deeper than max-depth (default 128): TOODEEP is as right as BADJSON. */
static const char *const too_deep_files[] = {
    "n_structure_100000_opening_arrays.json",
    "n_structure_open_array_object.json",
};

static bool in_list(const char *name, const char *const *list, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(name, list[i])) return true;
    return false;
}

static int wanted(const struct dirent *e) {
    size_t n = strlen(e->d_name);
    return n > 7 && strchr("yni", e->d_name[0]) && e->d_name[1] == '_' && !strcmp(e->d_name + n - 5, ".json");
}

/* The whole file, malloc'd, or NULL. */
static char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    fclose(f);
    *len = n;
    return buf;
}

/* One run through the suite: the connection, the failures so far. */
typedef struct {
    redisContext *c; /* the server under test */
    FILE *fails;     /* one line per failure */
    int nfail;       /* failures written to `fails` */
    bool lost;       /* the connection broke: stop */
} run_t;

/* Sends argv; NULL (recorded as a failure of `file`) when the connection broke. */
static redisReply *call(run_t *run, const char *file, int argc, const char **argv, const size_t *lens) {
    redisReply *r = redisCommandArgv(run->c, argc, argv, lens);
    if (!r) {
        fprintf(run->fails, "  %s: %s: no reply (%s); did the server crash?\n", file, argv[0],
                run->c->errstr);
        run->nfail++;
        run->lost = true;
    }
    return r;
}

static void failed(run_t *run, const char *file, const char *what, const redisReply *r) {
    char got[600];
    fprintf(run->fails, "  %s: %s, got %s\n", file, what, reply_describe(r, got, sizeof got));
    run->nfail++;
}

static redisReply *doc_set(run_t *run, const char *file, const char *key, const char *json, size_t len) {
    const char *argv[] = {"DOC.SET", key, "$", json};
    const size_t lens[] = {7, strlen(key), 1, len};
    return call(run, file, 4, argv, lens);
}

static redisReply *simple(run_t *run, const char *file, const char *c1, const char *c2) {
    const char *argv[] = {c1, c2};
    return call(run, file, c2 ? 2 : 1, argv, NULL);
}

static bool is_ok(const redisReply *r) { return r->type == REDIS_REPLY_STATUS && !strcmp(r->str, "OK"); }

static bool is_error_code(const redisReply *r, const char *code) {
    size_t n = strlen(code);
    return r->type == REDIS_REPLY_ERROR && r->len >= n && !memcmp(r->str, code, n) &&
           (r->str[n] == ' ' || r->str[n] == '\0');
}

/* After a refusal: the key must not exist. */
static void expect_no_key(run_t *run, const char *file) {
    redisReply *r = simple(run, file, "EXISTS", "k");
    if (!r) return;
    if (r->type != REDIS_REPLY_INTEGER || r->integer != 0)
        failed(run, file, "EXISTS k after the refusal: expected integer 0", r);
    freeReplyObject(r);
}

/* After acceptance: DOC.GET k prints text that DOC.SET takes again and that then
 * prints byte for byte the same. */
static void expect_round_trip(run_t *run, const char *file) {
    redisReply *g1 = simple(run, file, "DOC.GET", "k");
    if (!g1) return;
    if (g1->type != REDIS_REPLY_STRING) {
        failed(run, file, "DOC.GET k: expected the document text", g1);
        freeReplyObject(g1);
        return;
    }
    redisReply *s2 = doc_set(run, file, "k2", g1->str, g1->len);
    if (s2 && !is_ok(s2)) {
        char what[700], text[600];
        snprintf(what, sizeof what, "DOC.SET k2 $ <DOC.GET k: %s>: expected status \"OK\"",
                 reply_describe(g1, text, sizeof text));
        failed(run, file, what, s2);
    }
    bool retry = s2 && is_ok(s2);
    freeReplyObject(s2);
    redisReply *g2 = retry ? simple(run, file, "DOC.GET", "k2") : NULL;
    if (g2 &&
        (g2->type != REDIS_REPLY_STRING || g2->len != g1->len || memcmp(g2->str, g1->str, g1->len) != 0)) {
        char what[700], text[600];
        snprintf(what, sizeof what, "DOC.GET k2: expected the first print %s",
                 reply_describe(g1, text, sizeof text));
        failed(run, file, what, g2);
    }
    freeReplyObject(g2);
    freeReplyObject(g1);
}

static void check_file(run_t *run, const char *file, const char *json, size_t len) {
    const char *del[] = {"DEL", "k", "k2"};
    redisReply *r = call(run, file, 3, del, NULL);
    if (!r) return;
    freeReplyObject(r);

    redisReply *set = doc_set(run, file, "k", json, len);
    if (!set) return;
    char kind = file[0];
    if (kind == 'y' && !in_list(file, duplicate_key_files, 2)) {
        if (is_ok(set))
            expect_round_trip(run, file);
        else
            failed(run, file, "DOC.SET: expected status \"OK\"", set);
    } else if (kind == 'y' || kind == 'n') {
        bool deep = in_list(file, too_deep_files, 2);
        if (is_error_code(set, "BADJSON") || (deep && is_error_code(set, "TOODEEP")))
            expect_no_key(run, file);
        else
            failed(run, file,
                   deep ? "DOC.SET: expected a BADJSON or TOODEEP error"
                        : "DOC.SET: expected a BADJSON error",
                   set);
    } else {
        if (is_ok(set))
            expect_round_trip(run, file);
        else if (set->type == REDIS_REPLY_ERROR)
            expect_no_key(run, file);
        else
            failed(run, file, "DOC.SET: expected OK or an error", set);
        redisReply *pong = run->lost ? NULL : simple(run, file, "PING", NULL);
        if (pong && !(pong->type == REDIS_REPLY_STATUS && !strcmp(pong->str, "PONG")))
            failed(run, file, "PING afterwards: expected status \"PONG\"", pong);
        freeReplyObject(pong);
    }
    freeReplyObject(set);
}

Test(conformance, json_test_suite_files_are_accepted_refused_and_reprinted_as_specified) {
    char suite[PATH_MAX];
    cr_assert(test_find_shared(SUITE_SUBDIR, 1, suite, sizeof suite),
              "JSONTestSuite not found: set ATOMICDOC_SHARED to the directory holding " SUITE_SUBDIR
              ", or run from the project root next to shared/");
    struct dirent **names;
    int n = scandir(suite, &names, wanted, alphasort);
    cr_assert_gt(n, 0, "no y_/n_/i_ *.json files in %s", suite);

    srv *s = srv_start(NULL);
    /* static: still reachable when a failed assertion leaves the test, so the leak
     * checker of `make sanitize` stays quiet */
    static char *text;
    size_t textlen = 0;
    run_t run = {srv_connect(s), open_memstream(&text, &textlen), 0, false};
    cr_assert_not_null(run.fails);
    int tried = 0;
    for (int i = 0; i < n; i++) {
        const char *file = names[i]->d_name;
        if (!run.lost) {
            char path[PATH_MAX + 256];
            snprintf(path, sizeof path, "%s/%s", suite, file);
            size_t len = 0;
            char *json = read_all(path, &len);
            if (!json) {
                fprintf(run.fails, "  %s: cannot read %s\n", file, path);
                run.nfail++;
            } else {
                check_file(&run, file, json, len);
                tried++;
            }
            free(json);
        }
        free(names[i]);
    }
    free(names);
    fclose(run.fails);
    redisFree(run.c);

    if (run.lost) {
        /* The server died: show the failures so far, then srv_stop shows why. */
        cr_log_error("JSONTestSuite: %d failures before the connection broke:\n%s", run.nfail, text);
        free(text);
        srv_stop(s);
        cr_assert_fail("the connection to the server broke (see above)");
    }
    srv_stop(s);
    cr_assert_eq(run.nfail, 0, "%d failures in %d JSONTestSuite files (%s):\n%s", run.nfail, tried, suite,
                 text);
    free(text);
}
