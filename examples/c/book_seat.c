/* book_seat.c - 20 buyers try to book seat 1A at the same moment with DOC.CAS.
 *
 * Each buyer is a forked process with its own connection; all wait on a pipe, then
 * run DOC.CAS seat $.claimedBy null "<me>": set the seat's claimedBy only if it is
 * still null. The compare and the swap are one command, so exactly one buyer gets
 * the integer 1 and every other 0. DOC.TYPE's status reply and DOC.CAS ... ABSENT
 * show the remaining reply shapes.
 */
#include "example.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { BUYERS = 20 };

int main(int argc, char **argv) {
    redisContext *c = example_connect(argc, argv);
    const char *key = "example:c:seat:1A";
    freeReplyObject(redisCommand(c, "DEL %s", key));
    freeReplyObject(redisCommand(c, "DOC.SET %s $ %s", key, "{\"seat\":\"1A\",\"claimedBy\":null}"));
    /* A new document's version: above every version the server gave before. */
    redisReply *v0 = redisCommand(c, "DOC.VERSION %s", key);
    long long first = v0 && v0->type == REDIS_REPLY_INTEGER ? v0->integer : -1;
    freeReplyObject(v0);

    int go[2];
    if (pipe(go) != 0) {
        perror("pipe");
        return 1;
    }
    pid_t pids[BUYERS];
    for (int i = 0; i < BUYERS; i++) {
        pids[i] = fork();
        if (pids[i] < 0) {
            perror("fork");
            return 1;
        }
        if (pids[i] == 0) {
            close(go[1]);
            redisContext *mine = example_connect(argc, argv);
            char me[32], buf;
            snprintf(me, sizeof me, "\"buyer-%02d\"", i);
            if (read(go[0], &buf, 1) < 0) _exit(2); /* returns 0 when the parent closes the pipe */
            redisReply *r = redisCommand(mine, "DOC.CAS %s %s %s %s", key, "$.claimedBy", "null", me);
            int won = r && r->type == REDIS_REPLY_INTEGER && r->integer == 1;
            int valid = r && r->type == REDIS_REPLY_INTEGER && (r->integer == 0 || r->integer == 1);
            freeReplyObject(r);
            redisFree(mine);
            _exit(valid ? (won ? 10 : 11) : 2);
        }
    }
    close(go[0]);
    close(go[1]); /* every buyer's read() returns now */

    int winners = 0, losers = 0, broken = 0;
    for (int i = 0; i < BUYERS; i++) {
        int status;
        if (waitpid(pids[i], &status, 0) < 0 || !WIFEXITED(status)) {
            broken++;
            continue;
        }
        int code = WEXITSTATUS(status);
        winners += code == 10;
        losers += code == 11;
        broken += code != 10 && code != 11;
    }
    printf("%d buyers: %d booked, %d found it taken, %d failed\n", BUYERS, winners, losers, broken);

    redisReply *r = redisCommand(c, "DOC.GET %s %s", key, "$.claimedBy");
    printf("claimedBy -> ");
    example_print(r);
    printf("\n");
    int ok = winners == 1 && losers == BUYERS - 1 && broken == 0 && r->type == REDIS_REPLY_STRING &&
             strncmp(r->str, "\"buyer-", 7) == 0;
    freeReplyObject(r);

    r = redisCommand(c, "DOC.TYPE %s %s", key, "$.claimedBy");
    printf("DOC.TYPE $.claimedBy -> ");
    example_print(r);
    printf("\n");
    ok = ok && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "string") == 0;
    freeReplyObject(r);

    /* ABSENT: a lock that is taken only when nobody holds it. */
    for (int i = 0; i < 2; i++) {
        r = redisCommand(c, "DOC.CAS %s %s ABSENT %s", key, "$.lock", "\"worker-1\"");
        printf("DOC.CAS $.lock ABSENT \"worker-1\" -> ");
        example_print(r);
        printf("\n");
        ok = ok && r->type == REDIS_REPLY_INTEGER && r->integer == (i == 0 ? 1 : 0);
        freeReplyObject(r);
    }

    r = redisCommand(c, "DOC.VERSION %s", key);
    printf("DOC.VERSION -> ");
    example_print(r);
    printf("\n");
    ok = ok && r->type == REDIS_REPLY_INTEGER && r->integer == first + 2; /* one CAS won, one ABSENT */
    freeReplyObject(r);

    redisFree(c);
    printf(ok ? "book_seat: ok\n" : "book_seat: UNEXPECTED RESULT\n");
    return ok ? 0 : 1;
}
