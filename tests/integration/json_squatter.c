/*
 * json_squatter.c - a tiny Redis module for the tests: it registers JSON.GET
 * and JSON.SET, and nothing else, as RedisJSON would if it were loaded before
 * atomicdoc. tests/integration/test_json.c (suite json_taken) loads it first
 * and checks that atomicdoc still loads, without its JSON.* commands, and says
 * so in its log line and in INFO atomicdoc.
 *
 * Built by the Makefile as $(BUILD)/json_squatter.so (not part of the
 * integration_tests binary); the harness finds it through $ATOMICDOC_SQUATTER.
 */
#include "redismodule.h"

/* Both commands answer the same status, so a test can tell who answered. */
static int squat(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argv;
    (void)argc;
    return RedisModule_ReplyWithSimpleString(ctx, "SQUATTER");
}

int RedisModule_OnLoad(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
__attribute__((visibility("default"))) int RedisModule_OnLoad(RedisModuleCtx *ctx, RedisModuleString **argv,
                                                              int argc) {
    (void)argv;
    (void)argc;
    if (RedisModule_Init(ctx, "jsonsquatter", 1, REDISMODULE_APIVER_1) == REDISMODULE_ERR ||
        RedisModule_CreateCommand(ctx, "json.get", squat, "readonly", 1, 1, 1) == REDISMODULE_ERR ||
        RedisModule_CreateCommand(ctx, "json.set", squat, "write", 1, 1, 1) == REDISMODULE_ERR)
        return REDISMODULE_ERR;
    return REDISMODULE_OK;
}
