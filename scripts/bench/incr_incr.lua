-- incr_incr.lua - the Lua peer of DOC.INCR in bench_incr (scripts/bench/run.sh):
-- a plain Redis string holding the document's JSON, read-modify-written with
-- cjson (the "Lua cjson read-modify-write" the README compares with).
--
--   EVALSHA sha 1 key delta seg [seg ...]
--
-- adds delta to the number at doc.seg1.seg2...; a segment that is a decimal
-- number is a JSON array index (0-based, as in $.orders[5]). Returns the new
-- value. GET + cjson.decode + the change + cjson.encode + SET.

local text = redis.call('GET', KEYS[1])
if not text then return redis.error_reply('no such key') end
local doc = cjson.decode(text)
local t = doc
local function key(seg)
    local n = tonumber(seg)
    if n then return n + 1 end
    return seg
end
for i = 2, #ARGV - 1 do
    t = t[key(ARGV[i])]
end
local last = key(ARGV[#ARGV])
t[last] = (t[last] or 0) + tonumber(ARGV[1])
redis.call('SET', KEYS[1], cjson.encode(doc))
return t[last]
