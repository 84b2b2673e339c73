/*
 * cmdinfo.c - the argument descriptions COMMAND DOCS shows for every
 * command (RedisModule_SetCommandInfo), so redis-cli hints and client
 * libraries know each command's shape. Key arguments point at key spec 0,
 * which module.c declares for every command.
 *
 * Every argument that takes a value carries its display_text (its name, as
 * Redis's own command tables do); pure tokens and groups carry none (servers
 * show a token's name). The
 * struct comes from the Redis 8.0 header: servers from 7.2 on read
 * display_text, Redis 7.0 reads the same array with the size the header
 * announces (REDISMODULE_COMMAND_INFO_VERSION) and skips the field it does
 * not know.
 */
#include "atomicdoc.h"

#include <string.h>

/* Shorthands for the table below. */
#define KEY(n) {.name = n, .display_text = n, .type = REDISMODULE_ARG_TYPE_KEY, .key_spec_index = 0}
#define KEYS(n) {.name = n, .display_text = n, .type = REDISMODULE_ARG_TYPE_KEY, .key_spec_index = 0, .flags = REDISMODULE_CMD_ARG_MULTIPLE}
#define STR(n) {.name = n, .display_text = n, .type = REDISMODULE_ARG_TYPE_STRING, .key_spec_index = -1}
#define STR_OPT(n) {.name = n, .display_text = n, .type = REDISMODULE_ARG_TYPE_STRING, .key_spec_index = -1, .flags = REDISMODULE_CMD_ARG_OPTIONAL}
#define STRS(n) {.name = n, .display_text = n, .type = REDISMODULE_ARG_TYPE_STRING, .key_spec_index = -1, .flags = REDISMODULE_CMD_ARG_MULTIPLE}
#define STRS_OPT(n) {.name = n, .display_text = n, .type = REDISMODULE_ARG_TYPE_STRING, .key_spec_index = -1, .flags = REDISMODULE_CMD_ARG_OPTIONAL | REDISMODULE_CMD_ARG_MULTIPLE}
#define INT(n) {.name = n, .display_text = n, .type = REDISMODULE_ARG_TYPE_INTEGER, .key_spec_index = -1}
#define TOKEN(n, t) {.name = n, .type = REDISMODULE_ARG_TYPE_PURE_TOKEN, .key_spec_index = -1, .token = t}
#define TOKEN_OPT(n, t) {.name = n, .type = REDISMODULE_ARG_TYPE_PURE_TOKEN, .key_spec_index = -1, .token = t, .flags = REDISMODULE_CMD_ARG_OPTIONAL}
#define WITH_TOKEN(n, t, ty) {.name = n, .display_text = n, .type = ty, .key_spec_index = -1, .token = t, .flags = REDISMODULE_CMD_ARG_OPTIONAL}
#define END {0}

static RedisModuleCommandArg nx_xx[] = {TOKEN("nx", "NX"), TOKEN("xx", "XX"), END};
#define TTL_ARG(n, t, ty) {.name = n, .type = ty, .key_spec_index = -1, .token = t}
static RedisModuleCommandArg expiration[] = {
    TTL_ARG("seconds", "EX", REDISMODULE_ARG_TYPE_INTEGER),
    TTL_ARG("milliseconds", "PX", REDISMODULE_ARG_TYPE_INTEGER),
    TTL_ARG("unix-time-seconds", "EXAT", REDISMODULE_ARG_TYPE_UNIX_TIME),
    TTL_ARG("unix-time-milliseconds", "PXAT", REDISMODULE_ARG_TYPE_UNIX_TIME),
    TOKEN("keepttl", "KEEPTTL"), END};
static RedisModuleCommandArg set_args[] = {
    KEY("key"), STR("path"), STR("json"),
    {.name = "condition", .type = REDISMODULE_ARG_TYPE_ONEOF, .key_spec_index = -1,
     .flags = REDISMODULE_CMD_ARG_OPTIONAL, .subargs = nx_xx},
    {.name = "expiration", .type = REDISMODULE_ARG_TYPE_ONEOF, .key_spec_index = -1,
     .flags = REDISMODULE_CMD_ARG_OPTIONAL, .subargs = expiration},
    END};
static RedisModuleCommandArg mset_triple[] = {KEY("key"), STR("path"), STR("json"), END};
static RedisModuleCommandArg mset_args[] = {
    {.name = "data", .type = REDISMODULE_ARG_TYPE_BLOCK, .key_spec_index = -1,
     .flags = REDISMODULE_CMD_ARG_MULTIPLE, .subargs = mset_triple},
    END};
static RedisModuleCommandArg get_args[] = {KEY("key"), TOKEN_OPT("withversion", "WITHVERSION"),
                                           STRS_OPT("path"), END};
static RedisModuleCommandArg mget_args[] = {KEYS("key"), STR("path"), END};
static RedisModuleCommandArg key_optpath_args[] = {KEY("key"), STR_OPT("path"), END};
static RedisModuleCommandArg key_args[] = {KEY("key"), END};
static RedisModuleCommandArg key_path_args[] = {KEY("key"), STR("path"), END};
static RedisModuleCommandArg incr_args[] = {
    KEY("key"), STR("path"), STR("delta"),
    WITH_TOKEN("min", "MIN", REDISMODULE_ARG_TYPE_STRING),
    WITH_TOKEN("max", "MAX", REDISMODULE_ARG_TYPE_STRING), END};
static RedisModuleCommandArg mul_args[] = {KEY("key"), STR("path"), STR("factor"), END};
static RedisModuleCommandArg key_path_json_args[] = {KEY("key"), STR("path"), STR("json"), END};
static RedisModuleCommandArg strappend_args[] = {KEY("key"), STR("path"), STR("string"), END};
static RedisModuleCommandArg push_args[] = {
    KEY("key"), STR("path"), WITH_TOKEN("index", "AT", REDISMODULE_ARG_TYPE_INTEGER),
    WITH_TOKEN("count", "KEEP", REDISMODULE_ARG_TYPE_INTEGER), STRS("json"), END};
static RedisModuleCommandArg pop_where[] = {TOKEN("first", "FIRST"), TOKEN("last", "LAST"),
                                            INT("index"), END};
static RedisModuleCommandArg pop_args[] = {
    KEY("key"), STR("path"),
    {.name = "which", .type = REDISMODULE_ARG_TYPE_ONEOF, .key_spec_index = -1,
     .flags = REDISMODULE_CMD_ARG_OPTIONAL, .subargs = pop_where},
    END};
static RedisModuleCommandArg pull_what[] = {
    STRS("json"), {.name = "filter", .display_text = "filter", .type = REDISMODULE_ARG_TYPE_STRING, .key_spec_index = -1, .token = "WHERE"},
    END};
static RedisModuleCommandArg pull_args[] = {
    KEY("key"), STR("path"),
    {.name = "what", .type = REDISMODULE_ARG_TYPE_ONEOF, .key_spec_index = -1, .subargs = pull_what},
    END};
static RedisModuleCommandArg addtoset_args[] = {KEY("key"), STR("path"), STRS("json"), END};
static RedisModuleCommandArg merge_args[] = {KEY("key"), STR("path"), STR("patch"), END};
static RedisModuleCommandArg cas_args[] = {KEY("key"), STR("path"), STR("expected"), STR("new"), END};
static RedisModuleCommandArg ret_which[] = {TOKEN("before", "BEFORE"), TOKEN("after", "AFTER"), END};
static RedisModuleCommandArg update_expiration[] = {
    TTL_ARG("seconds", "EX", REDISMODULE_ARG_TYPE_INTEGER),
    TTL_ARG("milliseconds", "PX", REDISMODULE_ARG_TYPE_INTEGER),
    TTL_ARG("unix-time-seconds", "EXAT", REDISMODULE_ARG_TYPE_UNIX_TIME),
    TTL_ARG("unix-time-milliseconds", "PXAT", REDISMODULE_ARG_TYPE_UNIX_TIME), END};
static RedisModuleCommandArg update_args[] = {
    KEY("key"), STR("update"), WITH_TOKEN("filter", "IF", REDISMODULE_ARG_TYPE_STRING),
    WITH_TOKEN("arrayfilters", "ARRAYFILTERS", REDISMODULE_ARG_TYPE_STRING), TOKEN_OPT("upsert", "UPSERT"),
    /* the first four of SET's: the TTL of the document an upsert creates */
    {.name = "expiration", .type = REDISMODULE_ARG_TYPE_ONEOF, .key_spec_index = -1,
     .flags = REDISMODULE_CMD_ARG_OPTIONAL, .subargs = update_expiration},
    {.name = "return", .type = REDISMODULE_ARG_TYPE_ONEOF, .key_spec_index = -1, .token = "RETURN",
     .flags = REDISMODULE_CMD_ARG_OPTIONAL, .subargs = ret_which},
    END};
static RedisModuleCommandArg txn_args[] = {INT("numkeys"), KEYS("key"), STRS("op"), END};
static RedisModuleCommandArg aofload_args[] = {KEY("key"), INT("version"), STR("path"), STR("json"), END};

/* Command name -> its arguments. */
static const struct {
    const char *name;               /* registered name */
    RedisModuleCommandArg *args;    /* its arguments */
} table[] = {
    {"doc.set", set_args},          {"doc.mset", mset_args},
    {"doc.get", get_args},          {"doc.mget", mget_args},
    {"doc.del", key_optpath_args},  {"doc.type", key_optpath_args},
    {"doc.len", key_optpath_args},  {"doc.keys", key_optpath_args},
    {"doc.version", key_args},      {"doc.incr", incr_args},
    {"doc.mul", mul_args},          {"doc.min", key_path_json_args},
    {"doc.max", key_path_json_args}, {"doc.strappend", strappend_args},
    {"doc.push", push_args},        {"doc.pop", pop_args},
    {"doc.pull", pull_args},        {"doc.addtoset", addtoset_args},
    {"doc.indexof", key_path_json_args}, {"doc.toggle", key_path_args},
    {"doc.clear", key_path_args},   {"doc.merge", merge_args},
    {"doc.cas", cas_args},          {"doc.update", update_args},
    {"doc.txn", txn_args},          {"doc.aofload", aofload_args},
};

RedisModuleCommandArg *cmdinfo_args(const char *name);
RedisModuleCommandArg *cmdinfo_args(const char *name) {
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (!strcmp(table[i].name, name)) return table[i].args;
    return NULL;
}
