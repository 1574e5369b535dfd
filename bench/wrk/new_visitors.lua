-- wrk: a new visitor on every request (a unique anonymousId), as on a real site where most
-- page views come from first-time visitors.
--   wrk ... -s new_visitors.lua http://host:port -- "<path ending in anonymousId=>" <prefix>
-- The id is <prefix>-<thread>-<n>: pass a new prefix each run, so no id is ever asked twice.
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

function init(args)
  path = args[1]
  prefix = args[2] .. "-" .. thread_number .. "-"
  counter = 0
end

function request()
  counter = counter + 1
  return wrk.format("GET", path .. prefix .. counter)
end
