/* example.h - what the three hiredis examples share: connecting from the command line
 * and printing any reply, so each example shows how every reply type of DOC.* reads.
 *
 * DOC.* replies come in five RESP2 types (README "Commands"):
 *   REDIS_REPLY_STRING   JSON text (DOC.GET, DOC.POP, DOC.MIN/MAX, a double from DOC.INCR)
 *   REDIS_REPLY_INTEGER  counts, versions, 1/0, an int64 from DOC.INCR
 *   REDIS_REPLY_STATUS   OK, and DOC.TYPE's type names
 *   REDIS_REPLY_NIL      missing key or path, INCR out of bounds, NX/XX not met
 *   REDIS_REPLY_ARRAY    several paths, WITHVERSION, DOC.MGET, DOC.TXN (one per op)
 *   REDIS_REPLY_ERROR    one line starting with a code word: "ABORTED op 2: ..."
 * Usage of every example: ./example [port] (default 6379, host 127.0.0.1).
 */
#ifndef EXAMPLE_H
#define EXAMPLE_H

#include <hiredis/hiredis.h>

/* Connects to 127.0.0.1 on argv[1] (or 6379); exits with a message on failure. */
redisContext *example_connect(int argc, char **argv);

/* Prints a reply on one line with its type ("(integer) 3", "(string) {...}", "(nil)"),
 * arrays as [a, b]. */
void example_print(const redisReply *r);

/* Runs a command built from argv (binary-safe: any JSON, no quoting), exits on a
 * connection failure. The caller frees the reply. */
redisReply *example_argv(redisContext *c, int argc, const char **argv);

#endif
