/*
 * test_util.h - helpers every test program shares (unit, integration and
 * fuzz binaries link apart, so they are static inline here, written once):
 * a monotonic clock in milliseconds and the lookup of the public
 * conformance suites.
 */
#ifndef ATOMICDOC_TEST_UTIL_H
#define ATOMICDOC_TEST_UTIL_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Milliseconds of CLOCK_MONOTONIC (for deadlines). */
static inline long long test_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The same with the fraction (for measuring short operations). */
static inline double test_now_ms_precise(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static inline int test_path_is(const char *path, int want_dir) {
    struct stat sb;
    return stat(path, &sb) == 0 && (want_dir ? S_ISDIR(sb.st_mode) : S_ISREG(sb.st_mode));
}

/* Writes to out the path of `sub` (e.g. "conformance/jsonpath-cts/cts.json")
 * inside the shared directory of the conformance suites: $ATOMICDOC_SHARED
 * when set (scripts/test.sh sets it), else shared/ in the current directory
 * or its nearest ancestor that has one. want_dir: sub is a directory, else a
 * file. Returns 0 when it cannot be found. */
static inline int test_find_shared(const char *sub, int want_dir, char *out, size_t len) {
    const char *shared = getenv("ATOMICDOC_SHARED");
    char dir[PATH_MAX], *slash;
    int w;

    if (shared && *shared) {
        w = snprintf(out, len, "%s/%s", shared, sub);
        return w > 0 && (size_t)w < len && test_path_is(out, want_dir);
    }
    if (!getcwd(dir, sizeof dir)) return 0;
    for (;;) {
        w = snprintf(out, len, "%s/shared/%s", strcmp(dir, "/") ? dir : "", sub);
        if (w > 0 && (size_t)w < len && test_path_is(out, want_dir)) return 1;
        if (!strcmp(dir, "/")) return 0;
        slash = strrchr(dir, '/');
        if (!slash || slash == dir)
            strcpy(dir, "/");
        else
            *slash = '\0';
    }
}

#endif
