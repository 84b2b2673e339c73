/* example.c - connecting and printing replies for the hiredis examples. */
#include "example.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

redisContext *example_connect(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 6379;
    redisContext *c = redisConnect("127.0.0.1", port);
    if (!c || c->err) {
        fprintf(stderr, "cannot connect to 127.0.0.1:%d: %s\n", port, c ? c->errstr : "out of memory");
        exit(1);
    }
    return c;
}

void example_print(const redisReply *r) {
    switch (r->type) {
    case REDIS_REPLY_STRING: printf("(string) %.*s", (int)r->len, r->str); break;
    case REDIS_REPLY_STATUS: printf("%.*s", (int)r->len, r->str); break;
    case REDIS_REPLY_ERROR: printf("(error) %.*s", (int)r->len, r->str); break;
    case REDIS_REPLY_INTEGER: printf("(integer) %lld", r->integer); break;
    case REDIS_REPLY_NIL: printf("(nil)"); break;
    case REDIS_REPLY_ARRAY:
        printf("[");
        for (size_t i = 0; i < r->elements; i++) {
            if (i) printf(", ");
            example_print(r->element[i]);
        }
        printf("]");
        break;
    default: printf("(reply type %d)", r->type); break;
    }
}

redisReply *example_argv(redisContext *c, int argc, const char **argv) {
    redisReply *r = redisCommandArgv(c, argc, argv, NULL);
    if (!r) {
        fprintf(stderr, "connection error: %s\n", c->errstr);
        exit(1);
    }
    return r;
}
