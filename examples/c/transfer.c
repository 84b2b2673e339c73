/* transfer.c - move money between two accounts with DOC.TXN and CHECK.
 *
 * Builds the TXN with redisCommandArgv (an argument vector: the op list grows with
 * the transfer, and JSON goes through untouched) and reads its replies: an array with
 * one element per op (status OK for CHECK, integers for INCR), or an error
 * "ABORTED op N: <the op's error>" when a CHECK fails, after which nothing changed.
 */
#include "example.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* DOC.TXN 2 from to CHECK 1 $.balance GE amount INCR 1 $.balance -amount INCR 2 $.balance amount */
static redisReply *transfer(redisContext *c, const char *from, const char *to, long amount) {
    char plus[32], minus[32];
    snprintf(plus, sizeof plus, "%ld", amount);
    snprintf(minus, sizeof minus, "%ld", -amount);
    const char *argv[] = {"DOC.TXN", "2", from,        to,    "CHECK", "1", "$.balance", "GE", plus,
                          "INCR",    "1", "$.balance", minus, "INCR",  "2", "$.balance", plus};
    return example_argv(c, (int)(sizeof argv / sizeof argv[0]), argv);
}

/* The op number and the op's own error of an "ABORTED op N: ..." reply; 0 otherwise. */
static long aborted_op(const redisReply *r, const char **why) {
    if (r->type != REDIS_REPLY_ERROR || strncmp(r->str, "ABORTED op ", 11) != 0) return 0;
    char *end;
    long op = strtol(r->str + 11, &end, 10);
    *why = strncmp(end, ": ", 2) == 0 ? end + 2 : end;
    return op;
}

static long long balance(redisContext *c, const char *key) {
    redisReply *r = redisCommand(c, "DOC.GET %s %s", key, "$.balance");
    long long v = r && r->type == REDIS_REPLY_STRING ? atoll(r->str) : -1;
    freeReplyObject(r);
    return v;
}

int main(int argc, char **argv) {
    redisContext *c = example_connect(argc, argv);
    const char *alice = "example:c:{bank}:alice", *bob = "example:c:{bank}:bob";
    freeReplyObject(redisCommand(c, "DEL %s %s", alice, bob));
    freeReplyObject(redisCommand(c, "DOC.SET %s $ %s", alice, "{\"owner\":\"alice\",\"balance\":100}"));
    freeReplyObject(redisCommand(c, "DOC.SET %s $ %s", bob, "{\"owner\":\"bob\",\"balance\":20}"));

    redisReply *r = transfer(c, alice, bob, 30);
    printf("alice pays bob 30 -> ");
    example_print(r);
    printf("\n");
    int ok = r->type == REDIS_REPLY_ARRAY && r->elements == 3 && r->element[0]->type == REDIS_REPLY_STATUS &&
             strcmp(r->element[0]->str, "OK") == 0 && r->element[1]->type == REDIS_REPLY_INTEGER &&
             r->element[1]->integer == 70 && r->element[2]->type == REDIS_REPLY_INTEGER &&
             r->element[2]->integer == 50;
    freeReplyObject(r);

    r = transfer(c, bob, alice, 500);
    const char *why = "";
    long op = aborted_op(r, &why);
    printf("bob pays alice 500 -> ");
    example_print(r);
    printf("\n  aborted at op %ld because: %s\n", op, why);
    ok = ok && op == 1 && strncmp(why, "CHECK GE failed", 15) == 0;
    freeReplyObject(r);

    long long a = balance(c, alice), b = balance(c, bob);
    printf("balances: alice %lld, bob %lld, total %lld\n", a, b, a + b);
    ok = ok && a == 70 && b == 50;

    redisFree(c);
    printf(ok ? "transfer: ok\n" : "transfer: UNEXPECTED REPLY\n");
    return ok ? 0 : 1;
}
