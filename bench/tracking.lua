-- The requests of bench/tracking.py, built inside wrk (each wrk thread runs its own copy).
--
--   wrk -s bench/tracking.lua http://127.0.0.1:PORT -- SCENARIO WRITE_KEY RUN CONTENT_IDS [BATCH]
--
-- SCENARIO: noop (POST /bench/noop with a mix event's body), mix (single calls as a browser's
-- analytics.js sends them: 60 % page views to /v1/p, 25 % tracks to /v1/t, 15 % message views
-- to /v1/t; write key in a text/plain body), track (one `track` per POST /v1/track, Basic
-- auth: the scenario of earlier figures) or batch (BATCH track events per POST /v1/batch).
-- Every event has a unique messageId (RUN, thread, counter); anonymousIds rotate over VISITORS.
-- done() prints one line, `BENCH {json}`: requests, 200s, errors, latency percentiles.

local VISITORS = 2000
local USER_AGENT = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
  .. "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"

local threads = {}
local thread_number = 0

function setup(thread)
  thread_number = thread_number + 1
  thread:set("number", thread_number)
  table.insert(threads, thread)
end

local scenario, write_key, run, content_ids, batch_size
local counter = 0
acknowledged = 0

function init(args)
  scenario, write_key, run = args[1], args[2], args[3]
  content_ids = {}
  for id in string.gmatch(args[4] or "", "%d+") do
    table.insert(content_ids, id)
  end
  batch_size = tonumber(args[5] or "50")
end

local function visitor_id(n)
  return string.format("6f1c3d2e-0000-4000-8000-%012d", n % VISITORS)
end

local function context(path)
  return '"context":{"library":{"name":"analytics.js","version":"next-1.70.0"},'
    .. '"page":{"path":"' .. path .. '","url":"https://shop.example' .. path .. '",'
    .. '"title":"Blue shirt","referrer":"https://shop.example/","search":""},'
    .. '"userAgent":"' .. USER_AGENT .. '","locale":"fr-FR"},"integrations":{}'
end

local function common(n, kind)
  return '"anonymousId":"' .. visitor_id(n * 7919 + number) .. '",'
    .. '"messageId":"bench-' .. run .. '-' .. kind .. '-' .. number .. '-' .. n .. '",'
    .. '"timestamp":"2026-06-01T12:00:00.000Z","sentAt":"2026-06-01T12:00:00.050Z",'
end

local function page_event(n)
  local path = "/products/item-" .. (n % 50)
  return '{"type":"page","name":"",' .. common(n, "page")
    .. '"properties":{"path":"' .. path .. '","url":"https://shop.example' .. path .. '",'
    .. '"title":"Blue shirt","referrer":"https://shop.example/","search":""},'
    .. context(path)
end

local function track_event(n)
  return '{"type":"track","event":"Viewed Product",' .. common(n, "track")
    .. '"properties":{"sku":"SKU-1234","price":19.99,"currency":"EUR"},'
    .. context("/products/blue-shirt")
end

local function message_view(n)
  local content_id = content_ids[n % #content_ids + 1] or "1"
  return '{"type":"track","event":"Report Content Event",' .. common(n, "view")
    .. '"properties":{"actionType":"viewed_content","contentId":' .. content_id
    .. ',"contentType":"in_app_content"},' .. context("/pricing")
end

local function browser_call(n)
  local slot = n % 20
  if slot < 12 then
    return "/v1/p", page_event(n)
  elseif slot < 17 then
    return "/v1/t", track_event(n)
  end
  return "/v1/t", message_view(n)
end

local basic_headers, body_headers

function request()
  counter = counter + 1
  if not basic_headers then
    basic_headers = {
      ["Content-Type"] = "application/json",
      ["Authorization"] = "Basic " .. wrk_base64(write_key .. ":"),
    }
    body_headers = { ["Content-Type"] = "text/plain" }
  end
  if scenario == "track" then
    return wrk.format("POST", "/v1/track", basic_headers, track_event(counter) .. "}")
  elseif scenario == "batch" then
    local events = {}
    for i = 1, batch_size do
      events[i] = track_event(counter * batch_size + i) .. "}"
    end
    return wrk.format("POST", "/v1/batch", basic_headers,
      '{"batch":[' .. table.concat(events, ",") .. ']}')
  end
  local path, event = browser_call(counter)
  local body = event .. ',"writeKey":"' .. write_key .. '"}'
  if scenario == "noop" then
    path = "/bench/noop"
  end
  return wrk.format("POST", path, body_headers, body)
end

function response(status, headers, body)
  if status == 200 then
    acknowledged = acknowledged + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("acknowledged")
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"microseconds":%d,"acknowledged":%d,"status_errors":%d,'
      .. '"socket_errors":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, total, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end

-- wrk's Lua has no base64: enough of one for a write key.
local ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

function wrk_base64(text)
  local out = {}
  for i = 1, #text, 3 do
    local a, b, c = string.byte(text, i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local chars = {}
    for shift = 18, 0, -6 do
      local index = math.floor(n / 2 ^ shift) % 64
      table.insert(chars, string.sub(ALPHABET, index + 1, index + 1))
    end
    if not b then
      chars[3], chars[4] = "=", "="
    elseif not c then
      chars[4] = "="
    end
    table.insert(out, table.concat(chars))
  end
  return table.concat(out)
end
