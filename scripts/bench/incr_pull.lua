-- incr_pull.lua - the Lua peer of DOC.PULL / DOC.PUSH in bench_pull
-- (scripts/bench/run.sh): a plain Redis string holding the document's JSON,
-- read-modify-written with cjson, as applications do without atomicdoc.
--
--   EVALSHA sha 1 key pull JSON   removes every element of doc.items equal to
--                                 JSON (deep equality); returns the number
--                                 removed (DOC.PULL key $.items JSON)
--   EVALSHA sha 1 key push JSON   appends JSON to doc.items; returns the new
--                                 length (DOC.PUSH key $.items JSON)
--   EVALSHA sha 1 key pair JSON   pull then push in one decode/encode;
--                                 returns {removed, length} (DOC.TXN 1 key
--                                 PULL 1 $.items JSON PUSH 1 $.items JSON)
--
-- Each call is GET + cjson.decode + the change + cjson.encode + SET.

local function equal(a, b)
    if type(a) ~= type(b) then return false end
    if type(a) ~= 'table' then return a == b end
    for k, v in pairs(a) do
        if b[k] == nil or not equal(v, b[k]) then return false end
    end
    for k in pairs(b) do
        if a[k] == nil then return false end
    end
    return true
end

local function pull(items, value)
    local kept, removed = {}, 0
    for i = 1, #items do
        if equal(items[i], value) then
            removed = removed + 1
        else
            kept[#kept + 1] = items[i]
        end
    end
    return kept, removed
end

local mode = ARGV[1]
local text = redis.call('GET', KEYS[1])
if not text then return redis.error_reply('no such key') end
local doc = cjson.decode(text)
local value = cjson.decode(ARGV[2])
local removed
if mode == 'pull' or mode == 'pair' then
    doc.items, removed = pull(doc.items, value)
end
if mode == 'push' or mode == 'pair' then
    doc.items[#doc.items + 1] = value
end
redis.call('SET', KEYS[1], cjson.encode(doc))
if mode == 'pull' then return removed end
if mode == 'push' then return #doc.items end
return {removed, #doc.items}
