/*
 * reply.c - the only place where a core error or a result becomes a Redis
 * reply. A handler builds a result (or fails with a doc_error) and calls one
 * of these once, so no code path can reply twice or reply half a result.
 *
 * Error replies are one line: the SPEC code word, the message, and where:
 * "BADJSON unexpected character at byte 7", "BADPATH ... at character 3".
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

int reply_wrongtype(RedisModuleCtx *ctx) {
    adoc_st.errors[DOC_WRONGTYPE]++;
    return RedisModule_ReplyWithError(ctx, REDISMODULE_ERRORMSG_WRONGTYPE);
}

int reply_result(RedisModuleCtx *ctx, const result *r) {
    switch (r->kind) {
    case RES_OK: return RedisModule_ReplyWithSimpleString(ctx, "OK");
    case RES_NIL:
    case RES_NONE: return RedisModule_ReplyWithNull(ctx);
    case RES_INT: return RedisModule_ReplyWithLongLong(ctx, r->i);
    case RES_DOUBLE: return RedisModule_ReplyWithDouble(ctx, r->d);
    case RES_BULK:
        if (r->text.oom) return RedisModule_ReplyWithError(ctx, "OOM reply too large");
        return RedisModule_ReplyWithStringBuffer(ctx, r->text.len ? r->text.data : "", r->text.len);
    case RES_SIMPLE:   /* res_simple() NUL-terminated it */
        return RedisModule_ReplyWithSimpleString(ctx, r->text.len ? r->text.data : "");
    case RES_ARRAY:
        RedisModule_ReplyWithArray(ctx, (long)r->n);
        for (size_t i = 0; i < r->n; i++) reply_result(ctx, &r->items[i]);
        return REDISMODULE_OK;
    }
    return RedisModule_ReplyWithNull(ctx);
}
