/* pull_item.c - remove an item from an order, as a cloud function would.
 *
 * Builds DOC.* commands with redisCommand's printf-like format (%s for each argument,
 * so JSON with spaces or quotes needs no escaping) and reads the reply types: status
 * (OK), integer (how many were removed, the version), string (JSON text) and array
 * (DOC.GET WITHVERSION).
 */
#include "example.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    redisContext *c = example_connect(argc, argv);
    const char *key = "example:c:order:7";

    redisReply *r = redisCommand(c, "DEL %s", key);
    freeReplyObject(r);
    r = redisCommand(c, "DOC.SET %s %s %s", key, "$",
                     "{\"items\":[{\"sku\":\"A\",\"qty\":1},{\"sku\":\"X\",\"qty\":2}],\"total\":30}");
    printf("DOC.SET -> ");
    example_print(r);
    printf("\n");
    int ok = r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0;
    freeReplyObject(r);

    /* Two pulls of the same item: the first removes it, the second finds nothing. */
    for (int i = 0; i < 2; i++) {
        r = redisCommand(c, "DOC.PULL %s %s WHERE %s", key, "$.items", "{\"sku\":\"X\"}");
        printf("DOC.PULL $.items WHERE {\"sku\":\"X\"} -> ");
        example_print(r);
        printf("\n");
        ok = ok && r->type == REDIS_REPLY_INTEGER && r->integer == (i == 0 ? 1 : 0);
        freeReplyObject(r);
    }

    r = redisCommand(c, "DOC.INCR %s %s %s", key, "$.total", "-12");
    printf("DOC.INCR $.total -12 -> ");
    example_print(r);
    printf("\n");
    ok = ok && r->type == REDIS_REPLY_INTEGER && r->integer == 18;
    freeReplyObject(r);

    /* WITHVERSION: an array of [integer version, string JSON]. */
    r = redisCommand(c, "DOC.GET %s WITHVERSION", key);
    printf("DOC.GET WITHVERSION -> ");
    example_print(r);
    printf("\n");
    ok = ok && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
         r->element[0]->type == REDIS_REPLY_INTEGER && r->element[0]->integer == 3 &&
         r->element[1]->type == REDIS_REPLY_STRING &&
         strcmp(r->element[1]->str, "{\"items\":[{\"sku\":\"A\",\"qty\":1}],\"total\":18}") == 0;
    freeReplyObject(r);

    /* A missing path is nil; a malformed path an error starting with its code word. */
    r = redisCommand(c, "DOC.GET %s %s", key, "$.nope");
    printf("DOC.GET $.nope -> ");
    example_print(r);
    printf("\n");
    ok = ok && r->type == REDIS_REPLY_NIL;
    freeReplyObject(r);
    r = redisCommand(c, "DOC.GET %s %s", key, "$[");
    printf("DOC.GET $[ -> ");
    example_print(r);
    printf("\n");
    ok = ok && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "BADPATH ", 8) == 0;
    freeReplyObject(r);

    redisFree(c);
    printf(ok ? "pull_item: ok\n" : "pull_item: UNEXPECTED REPLY\n");
    return ok ? 0 : 1;
}
