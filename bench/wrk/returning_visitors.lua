-- wrk: returning visitors, each request from one of a pool of visitors picked at random.
--   wrk ... -s returning_visitors.lua http://host:port -- "<path ending in anonymousId=>" <id prefix> <pool size>
-- Ids are <id prefix>0 … <id prefix><pool size - 1> (the benchmark seeded their state).
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

function init(args)
  path = args[1] .. args[2]
  pool = tonumber(args[3])
  math.randomseed(thread_number * 7919)
end

function request()
  return wrk.format("GET", path .. math.random(0, pool - 1))
end
