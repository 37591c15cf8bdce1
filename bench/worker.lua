-- worker.lua: the Lua side of `make bench`, one measurement per process.
--
--   lua5.4 bench/worker.lua MODE ENDPOINT [ARGS...]     (or luajit, lua5.1...: it runs under each)
--
-- Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (set by bench/run.lua to the
-- emulator's key pair) and are passed to ivs.new explicitly, as a script would. Each mode prints
-- one JSON object on stdout; a failed call prints the error on stderr and exits 1.
--
-- Modes:
--   setup    ENDPOINT                      create the channel the call benchmarks read; prints its arn
--   calls    ENDPOINT ARN N WARMUP         N sequential get_channel calls after WARMUP untimed ones
--   memory   ENDPOINT ARN N CHECKPOINT     N get_channel calls; RSS after CHECKPOINT calls and at the end
--   create   ENDPOINT COUNT PREFIX         COUNT create_channel calls (one of the concurrent processes)
--   run_all  ENDPOINT TOTAL CONCURRENCY    TOTAL create_channel calls through client:run_all
--   scale    ENDPOINT N                    create N channels, then list them all with items()

local ivs = require("ivs")
local cjson = require("cjson")
local socket = require("socket")

local gettime = socket.gettime

local function fail(what, err)
  io.stderr:write("worker.lua: ", what, ": ", tostring(err), "\n")
  os.exit(1)
end

local function client_for(endpoint)
  local client, err = ivs.new{
    region = "us-west-2",
    endpoint = endpoint,
    credentials = { creds = {
      access_key_id = assert(os.getenv("AWS_ACCESS_KEY_ID"), "AWS_ACCESS_KEY_ID not set"),
      secret_access_key = assert(os.getenv("AWS_SECRET_ACCESS_KEY"), "AWS_SECRET_ACCESS_KEY not set"),
    } },
  }
  if not client then fail("ivs.new", err) end
  return client
end

-- Resident set size now and at its peak (kB), from the kernel's own accounting.
local function rss_kb()
  local f = assert(io.open("/proc/self/status"))
  local text = f:read("*a")
  f:close()
  return tonumber(text:match("VmRSS:%s*(%d+)")), tonumber(text:match("VmHWM:%s*(%d+)"))
end

local function emit(t)
  io.write(cjson.encode(t), "\n")
end

local mode, endpoint = arg[1], arg[2]
if not mode or not endpoint then
  io.stderr:write("usage: lua5.4 bench/worker.lua MODE ENDPOINT [ARGS...]\n")
  os.exit(2)
end
local client = client_for(endpoint)

if mode == "setup" then
  local out, err = client:create_channel{ name = "bench-get", latencyMode = "LOW", tags = { bench = "calls" } }
  if not out then fail("create_channel", err) end
  emit{ arn = out.channel.arn }

elseif mode == "calls" then
  local arn, n, warmup = arg[3], ivs.tointeger(tonumber(arg[4])), ivs.tointeger(tonumber(arg[5]))
  for _ = 1, warmup do
    local out, err = client:get_channel{ arn = arn }
    if not out then fail("get_channel", err) end
  end
  local cpu0, t0 = os.clock(), gettime()
  for _ = 1, n do
    local out, err = client:get_channel{ arn = arn }
    if not out then fail("get_channel", err) end
  end
  -- os.clock() is clock(3): CPU time (user + system) of this process only.
  emit{ calls = n, wall_s = gettime() - t0, cpu_s = os.clock() - cpu0 }

elseif mode == "memory" then
  local arn, n, checkpoint = arg[3], ivs.tointeger(tonumber(arg[4])), ivs.tointeger(tonumber(arg[5]))
  local at_checkpoint
  for i = 1, n do
    local out, err = client:get_channel{ arn = arn }
    if not out then fail("get_channel", err) end
    if i == checkpoint then
      -- A full collection first: what is left is what the process really holds on to.
      collectgarbage("collect")
      at_checkpoint = rss_kb()
    end
  end
  collectgarbage("collect")
  local rss, hwm = rss_kb()
  emit{ calls = n, checkpoint = checkpoint, rss_kb_checkpoint = at_checkpoint, rss_kb_end = rss, hwm_kb = hwm }

elseif mode == "create" then
  local count, prefix = ivs.tointeger(tonumber(arg[3])), arg[4]
  for i = 1, count do
    local out, err = client:create_channel{ name = prefix .. "-" .. i }
    if not out then fail("create_channel", err) end
  end
  emit{ created = count }

elseif mode == "run_all" then
  local total, concurrency = ivs.tointeger(tonumber(arg[3])), ivs.tointeger(tonumber(arg[4]))
  local warm, werr = client:list_channels{ maxResults = 1 }
  if not warm then fail("list_channels", werr) end
  local calls = {}
  for i = 1, total do calls[i] = { "create_channel", { name = "async-" .. i } } end
  local t0 = gettime()
  local results = client:run_all(calls, { concurrency = concurrency })
  local wall = gettime() - t0
  for i, r in ipairs(results) do
    if not r.result then fail("run_all create_channel " .. i, r.err) end
  end
  emit{ calls = total, concurrency = concurrency, wall_s = wall }

elseif mode == "scale" then
  local n = ivs.tointeger(tonumber(arg[3]))
  -- Connection and first-call costs paid before the clock starts, as peer.py does.
  local warm, werr = client:list_channels{ maxResults = 1 }
  if not warm then fail("list_channels", werr) end
  local t0 = gettime()
  for i = 1, n do
    local out, err = client:create_channel{ name = "scale-" .. i }
    if not out then fail("create_channel " .. i, err) end
  end
  local t1 = gettime()
  local listed = 0
  local ok, err = pcall(function()
    for _ in client:items("list_channels", { maxResults = 100 }) do listed = listed + 1 end
  end)
  if not ok then fail("items(list_channels)", err) end
  emit{ n = n, create_s = t1 - t0, list_s = gettime() - t1, listed = listed }

else
  io.stderr:write("worker.lua: unknown mode ", mode, "\n")
  os.exit(2)
end
client:close()
