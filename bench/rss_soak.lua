-- wrk script of bench/rss_soak.py: sends the requests of a list file in turn and stops each
-- thread after its share of a given number of responses.
--
--   wrk -t2 -c16 -d600s -s bench/rss_soak.lua http://127.0.0.1:8000 \
--       -- LIST OFFSET COUNT THREADS DONE
--
-- LIST has one request a line: a path, or a path, a tab and a JWT to send as a Bearer token.
-- Thread i (0-based) sends lines OFFSET + i, OFFSET + i + THREADS, ... (wrapping around), so
-- successive runs with OFFSET advanced by COUNT walk the list once. Each thread stops after
-- its share of COUNT responses and creates the file DONE<i>; wrk waits for its whole
-- duration regardless, so the caller sends it SIGINT once every thread's file is there.
-- The last lines printed count the responses and those not 200.

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end

local lines = {}
local position, step, quota, done_prefix = 0, 1, 0, nil
seen, refused = 0, 0 -- globals: done() reads them through thread:get

function init(args)
  for line in io.lines(args[1]) do
    local path, token = line:match("^([^\t]+)\t(.+)$")
    if path then
      lines[#lines + 1] = { path, { Authorization = "Bearer " .. token } }
    else
      lines[#lines + 1] = { line, nil }
    end
  end
  local offset, count = tonumber(args[2]), tonumber(args[3])
  step = tonumber(args[4])
  quota = math.floor(count / step) + ((id < count % step) and 1 or 0)
  position = offset + id
  done_prefix = args[5]
end

function request()
  local entry = lines[(position % #lines) + 1]
  position = position + step
  return wrk.format("GET", entry[1], entry[2])
end

function response(status, headers, body)
  seen = seen + 1
  if status ~= 200 then
    refused = refused + 1
  end
  if seen == quota then
    -- wrk itself runs for its whole -d: the marker tells bench/rss_soak.py to end it (SIGINT).
    local marker = io.open(done_prefix .. id, "w")
    marker:close()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local answered, bad = 0, 0
  for _, thread in ipairs(threads) do
    answered = answered + thread:get("seen")
    bad = bad + thread:get("refused")
  end
  io.write(string.format("answered: %d\nnot 200: %d\n", answered, bad))
end
