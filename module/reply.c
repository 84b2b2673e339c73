/*
 * reply.c - the only place where a core error or a result becomes a Redis
 * reply. A handler builds a result (or fails with a doc_error) and calls one
 * of these once, so no code path can reply twice or reply half a result.
 *
 * Error replies are one line: the SPEC code word, the message, and where:
 * "BADJSON unexpected character at byte 7", "BADPATH ... at character 3".
 *
 * Numbers and booleans follow Redis's own commands: an int64 is an integer
 * reply on both protocols; a double is a RESP3 double (as ZINCRBY replies)
 * and, on RESP2, its JSON text as a bulk string; a boolean (DOC.TOGGLE) is a
 * RESP3 boolean and, on RESP2, the bulk string "true" or "false". RESP2
 * replies are the same bytes as before RESP3 was supported.
 */
#include "atomicdoc.h"

#include <stdio.h>
#include <string.h>

int reply_error(RedisModuleCtx *ctx, const doc_error *err) {
    char line[320];
    doc_status code = err->code ? err->code : DOC_ERR;
    if (err->has_offset)
        snprintf(line, sizeof line, "%s %s at %s %zu", doc_status_word(code), err->msg,
                 code == DOC_BADPATH ? "character" : "byte", err->offset);
    else
        snprintf(line, sizeof line, "%s %s", doc_status_word(code), err->msg);
    if (code < DOC_STATUS_COUNT) adoc_st.errors[code]++;
    return RedisModule_ReplyWithError(ctx, line);
}

int reply_txn_error(RedisModuleCtx *ctx, const doc_error *err, int op_number) {
    doc_error wrapped;
    doc_error_clear(&wrapped);
    if (err->code == DOC_ABORTED) /* a CHECK: its message says it all */
        doc_error_set(&wrapped, DOC_ABORTED, "op %d: %s", op_number, err->msg);
    else
        doc_error_set(&wrapped, DOC_ABORTED, "op %d: %s %s", op_number, doc_status_word(err->code), err->msg);
    wrapped.has_offset = 0;
    if (err->has_offset) {
        size_t l = strlen(wrapped.msg);
        snprintf(wrapped.msg + l, sizeof wrapped.msg - l, " at %s %zu",
                 err->code == DOC_BADPATH ? "character" : "byte", err->offset);
    }
    adoc_st.txn_aborts++;
    return reply_error(ctx, &wrapped); /* counted as errors_aborted */
}

int reply_wrongtype(RedisModuleCtx *ctx) {
    adoc_st.errors[DOC_WRONGTYPE]++;
    return RedisModule_ReplyWithError(ctx, REDISMODULE_ERRORMSG_WRONGTYPE);
}

void res_double(result *r, double d) {
    char buf[32];
    r->kind = RES_DOUBLE;
    r->d = d;
    doc_buf_append(&r->text, buf, doc_format_double(d, buf));
}

void res_bool(result *r, int b) {
    r->kind = RES_BOOL;
    r->i = b != 0;
}

/* Whether the client speaks RESP3 (HELLO 3). */
static int resp3(RedisModuleCtx *ctx) {
    return (RedisModule_GetContextFlags(ctx) & REDISMODULE_CTX_FLAGS_RESP3) != 0;
}

/* A reply of `+OK\r\n`, kept to be sent verbatim (RedisModule_ReplyWithCallReply
 * appends its bytes in one call). RedisModule_ReplyWithSimpleString costs
 * ~740 instructions on Redis 7.0: it copies the text into a new sds to
 * strip \r and \n, then appends "+", the text and "\r\n" in three calls;
 * the kept reply costs ~100, the same bytes on RESP2 and RESP3. It comes
 * from UNWATCH, which replies +OK on every server and touches nothing of
 * the loading context's (it has no watched keys); when the call fails or
 * replies anything else (a renamed command), NULL and the simple string
 * again. Never freed: a module with a data type cannot be unloaded. */
static RedisModuleCallReply *ok_reply;

void reply_ok_prepare(RedisModuleCtx *ctx) {
    RedisModuleCallReply *r = RedisModule_Call(ctx, "UNWATCH", "");
    size_t len = 0;
    const char *proto = r ? RedisModule_CallReplyProto(r, &len) : NULL;
    if (proto && len == 5 && memcmp(proto, "+OK\r\n", 5) == 0)
        ok_reply = r;
    else if (r)
        RedisModule_FreeCallReply(r);
}

int reply_result(RedisModuleCtx *ctx, const result *r) {
    switch (r->kind) {
    case RES_OK:
        if (ok_reply) return RedisModule_ReplyWithCallReply(ctx, ok_reply);
        return RedisModule_ReplyWithSimpleString(ctx, "OK");
    case RES_NIL:
    case RES_NONE: return RedisModule_ReplyWithNull(ctx);
    case RES_INT: return RedisModule_ReplyWithLongLong(ctx, r->i);
    case RES_BULK:
        if (r->text.oom) return RedisModule_ReplyWithError(ctx, "OOM reply too large");
        return RedisModule_ReplyWithStringBuffer(ctx, r->text.len ? r->text.data : "", r->text.len);
    case RES_SIMPLE: /* res_simple() NUL-terminated it */
        return RedisModule_ReplyWithSimpleString(ctx, r->text.len ? r->text.data : "");
    case RES_ARRAY:
        RedisModule_ReplyWithArray(ctx, (long)r->n);
        for (size_t i = 0; i < r->n; i++) reply_result(ctx, &r->items[i]);
        return REDISMODULE_OK;
    case RES_DOUBLE:
        if (RMAPI_FUNC_SUPPORTED(RedisModule_ReplyWithDouble) && resp3(ctx))
            return RedisModule_ReplyWithDouble(ctx, r->d);
        return RedisModule_ReplyWithStringBuffer(ctx, r->text.data, r->text.len);
    case RES_BOOL:
        if (RMAPI_FUNC_SUPPORTED(RedisModule_ReplyWithBool) && resp3(ctx))
            return RedisModule_ReplyWithBool(ctx, (int)r->i);
        return RedisModule_ReplyWithStringBuffer(ctx, r->i ? "true" : "false", r->i ? 4 : 5);
    }
    return RedisModule_ReplyWithNull(ctx);
}
