-- run.lua: `make bench`. Runs every benchmark against a local ivs-emulator, prints one table
-- and writes the figures to bench/results/latest.json (plus a timestamped copy) and
-- bench/results/latest.md (the table as Markdown, for the README).
--
-- Ours: the C core (bench/sign_bench.c, bench/conc_bench.c) and the Lua module
-- (bench/worker.lua, bench/cold.lua). The peers: botocore/boto3 (bench/peer.py,
-- bench/cold_boto3.py) and the AWS CLI, run from this machine's Python; a missing peer gets
-- "absent" and no ratio. The emulator is started on 127.0.0.1 with port 0 and stopped here.
--
-- Environment: BUILD (default "build"), BENCH_QUICK=1 (small counts, for a fast check),
-- BENCH_RUNS (runs per figure, at least 3; default 5, quick 3; cold start at least 7, quick 5),
-- BENCH_PYTHON (the interpreter for the peers; default: the real one behind `python3`),
-- BENCH_ONLY (phases to run, e.g. "calls,cold"; default all: sign calls emulator conc cold memory
-- scale).
-- Sequential calls are shown beside two floors measured in the same run (bench/floor.c): the
-- raw floor and the libcurl floor; allocations per call come from bench/malloc_count.c and
-- instructions per call from callgrind (when valgrind is installed).
-- Exits 1 when it could not run at all (no emulator, no build), 0 otherwise: a goal that is
-- not met is a finding, not a failure.

local cjson = require("cjson")
cjson.encode_sparse_array(true)
local socket = require("socket")

local gettime = socket.gettime

---------------------------------------------------------------------------------------------
-- Small helpers
---------------------------------------------------------------------------------------------

local function quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function log(...)
  io.stderr:write("bench: ", string.format(...), "\n")
  io.stderr:flush()
end

-- Runs a shell command; returns its stdout and whether it exited 0 (and the exit code).
local function capture(cmd)
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("*a")
  local ok, _, code = p:close()
  return out, ok == true, code
end

local function read_file(path)
  local f = io.open(path, "r")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function write_file(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

local function sleep(s)
  socket.sleep(s)
end

local function median(list)
  local t = {}
  for i, v in ipairs(list) do t[i] = v end
  if #t == 0 then return nil end
  table.sort(t)
  local m = (#t + 1) // 2
  if #t % 2 == 1 then return t[m] end
  return (t[m] + t[m + 1]) / 2
end

-- Every JSON object printed one per line by a worker.
local function json_lines(text)
  local out = {}
  for line in text:gmatch("[^\n]+") do
    local ok, v = pcall(cjson.decode, line)
    if ok and type(v) == "table" then out[#out + 1] = v end
  end
  return out
end

local function json_one(text, what)
  local v = json_lines(text)[1]
  if not v then error(what .. " printed no result", 0) end
  return v
end

---------------------------------------------------------------------------------------------
-- Settings
---------------------------------------------------------------------------------------------

local root = capture("cd " .. quote((arg[0]:match("^(.*)/[^/]*$") or ".") .. "/..") .. " && pwd"):gsub("%s+$", "")
local build = os.getenv("BUILD") or "build"
if build:sub(1, 1) ~= "/" then build = root .. "/" .. build end
local quick = os.getenv("BENCH_QUICK") == "1"
local runs = math.max(3, math.tointeger(tonumber(os.getenv("BENCH_RUNS") or "")) or (quick and 3 or 5))
local results_dir = root .. "/bench/results"

local C = quick and {
  sign_seconds = 0.3, calls = 300, peer_calls = 150, warmup = 30, conc_total = 200, threads = 32,
  cold_runs = 5, memory_calls = 2000, memory_checkpoint = 200, scale = { 50, 200, 500 }, count_calls = { 20, 220 },
} or {
  sign_seconds = 1.0, calls = 5000, peer_calls = 2000, warmup = 200, conc_total = 1000, threads = 32,
  cold_runs = 7, memory_calls = 10000, memory_checkpoint = 1000, scale = { 100, 1000, 5000 },
  count_calls = { 100, 1100 },
}
C.cold_runs = math.max(C.cold_runs, runs)

-- The emulator's key pair for this run; every client gets it explicitly.
local ACCESS_KEY_ID = "AKIDBENCH00000000001"
local SECRET_KEY = "benchSecretKey000000000000000000000000001"

local paths = {
  emulator = build .. "/ivs-emulator",
  sign_bench = build .. "/bench/sign_bench",
  conc_bench = build .. "/bench/conc_bench",
  spawn = build .. "/bench/spawn",
  floor = build .. "/bench/floor",
  malloc_count = build .. "/bench/malloc_count.so",
  worker = root .. "/bench/worker.lua",
  cold = root .. "/bench/cold.lua",
  peer = root .. "/bench/peer.py",
  cold_boto3 = root .. "/bench/cold_boto3.py",
}
local lua = "lua5.4"

-- Every child runs with the built module, the emulator's keys, no shared config files, no
-- instance metadata and no proxy: nothing outside this machine is consulted.
local env = table.concat({
  "env -u HTTP_PROXY -u http_proxy -u HTTPS_PROXY -u https_proxy -u ALL_PROXY -u all_proxy",
  "-u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_ENDPOINT_URL -u AWS_ENDPOINT_URL_IVS -u IVS_LOG",
  "LUA_PATH=" .. quote(root .. "/lua_binding/?.lua;" .. root .. "/lua_binding/?/init.lua;;"),
  "LUA_CPATH=" .. quote(build .. "/lua/?.so;;"),
  "AWS_ACCESS_KEY_ID=" .. ACCESS_KEY_ID,
  "AWS_SECRET_ACCESS_KEY=" .. SECRET_KEY,
  "AWS_DEFAULT_REGION=us-west-2",
  "AWS_CONFIG_FILE=/nonexistent/bench-config",
  "AWS_SHARED_CREDENTIALS_FILE=/nonexistent/bench-credentials",
  "AWS_EC2_METADATA_DISABLED=true",
  "AWS_PAGER=",
  "NO_PROXY=127.0.0.1 no_proxy=127.0.0.1",
}, " ") .. " "

local function file_exists(path)
  local f = io.open(path, "r")
  if f then f:close() return true end
  return false
end

---------------------------------------------------------------------------------------------
-- The emulator
---------------------------------------------------------------------------------------------

local emulator -- { pid =, endpoint =, log = }
local tmpdir = capture("mktemp -d /tmp/ivs-bench.XXXXXX"):gsub("%s+$", "")

local function stop_emulator()
  if not emulator then return end
  os.execute("kill -TERM " .. emulator.pid .. " 2>/dev/null")
  local deadline = gettime() + 5
  while gettime() < deadline do
    local _, alive = capture("kill -0 " .. emulator.pid .. " 2>/dev/null")
    if not alive then break end
    sleep(0.02)
  end
  local _, alive = capture("kill -0 " .. emulator.pid .. " 2>/dev/null")
  if alive then
    log("emulator %d ignored SIGTERM; killing it", emulator.pid)
    os.execute("kill -KILL " .. emulator.pid .. " 2>/dev/null")
  end
  emulator = nil
end

-- A fresh emulator (empty state) on 127.0.0.1, port 0; returns its endpoint.
local function start_emulator()
  stop_emulator()
  local logfile = tmpdir .. "/emulator.log"
  local pid = capture(table.concat({
    env, quote(paths.emulator), "--host 127.0.0.1 --port 0",
    "--credentials", quote(ACCESS_KEY_ID .. ":" .. SECRET_KEY),
    ">", quote(logfile), "2>&1 & echo $!",
  }, " ")):gsub("%s+$", "")
  pid = math.tointeger(tonumber(pid))
  if not pid then error("could not start " .. paths.emulator, 0) end
  emulator = { pid = pid, log = logfile }
  local deadline = gettime() + 10
  while gettime() < deadline do
    local text = read_file(logfile) or ""
    local url = text:match("listening on (http://[%w%.%-:%[%]]+)")
    if url then
      if not url:match("^http://127%.0%.0%.1:%d+$") then
        stop_emulator()
        error("the emulator listens on " .. url .. ", not on 127.0.0.1", 0)
      end
      emulator.endpoint = url
      return url
    end
    local _, alive = capture("kill -0 " .. pid .. " 2>/dev/null")
    if not alive then
      emulator = nil
      error("ivs-emulator exited at start: " .. text:gsub("%s+$", ""), 0)
    end
    sleep(0.01)
  end
  stop_emulator()
  error("ivs-emulator did not say where it listens within 10 s", 0)
end

---------------------------------------------------------------------------------------------
-- Workers
---------------------------------------------------------------------------------------------

-- The worker under LuaJIT (what OBS and LÖVE embed), with LuaJIT's build of the module; nil
-- when luajit or that build is missing.
local luajit_env
if os.execute("command -v luajit >/dev/null 2>&1") and io.open(build .. "/luajit/ivs/core.so", "rb") then
  luajit_env = env:gsub("LUA_CPATH=%S+", function() return "LUA_CPATH=" .. quote(build .. "/luajit/?.so;;") end)
end

local function lua_worker_under(interp, interp_env, ...)
  local args = { ... }
  for i, a in ipairs(args) do args[i] = quote(a) end
  local cmd = interp_env .. interp .. " " .. quote(paths.worker) .. " " .. table.concat(args, " ")
  local out, ok = capture(cmd)
  if not ok then error("worker.lua " .. tostring(args[1]) .. " failed", 0) end
  return json_one(out, "worker.lua")
end

local function lua_worker(...) return lua_worker_under(lua, env, ...) end

local python -- the peers' interpreter, nil when boto3 is absent
local aws_cli -- the AWS CLI command, nil when absent

local function peer_worker(...)
  local args = { ... }
  for i, a in ipairs(args) do args[i] = quote(a) end
  local cmd = env .. quote(python) .. " " .. quote(paths.peer) .. " " .. table.concat(args, " ")
  local out, ok = capture(cmd)
  if not ok then error("peer.py " .. tostring(args[1]) .. " failed", 0) end
  return out
end

-- Runs argv `runs` times under bench/spawn; returns the list of per-run records.
local function spawn(n, cmdline, outfile)
  local cmd = env .. quote(paths.spawn) .. (outfile and (" -o " .. quote(outfile)) or "") .. " " .. n ..
    " " .. cmdline
  local out, ok = capture(cmd)
  local v = json_one(out, "spawn")
  if not ok then
    local statuses = {}
    for _, r in ipairs(v.runs) do statuses[#statuses + 1] = string.format("%d", r.status) end
    error("a run failed (exit statuses " .. table.concat(statuses, ",") .. "): " .. cmdline, 0)
  end
  return v.runs
end

local function field(list, key)
  local out = {}
  for i, v in ipairs(list) do out[i] = v[key] end
  return out
end

-- A fresh emulator holding the channel the call benchmarks read.
local function fresh_with_channel()
  local endpoint = start_emulator()
  return endpoint, lua_worker("setup", endpoint).arn
end

---------------------------------------------------------------------------------------------
-- Peers: present or absent
---------------------------------------------------------------------------------------------

local function find_peers()
  local exe = os.getenv("BENCH_PYTHON")
  if not exe or exe == "" then
    -- The real interpreter, not a pyenv shim: a shim adds a shell script and `pyenv exec`
    -- to every start, which would count against the peers in the cold-start figures.
    local out, ok = capture("python3 -c 'import sys; print(sys.executable)' 2>/dev/null")
    exe = ok and out:gsub("%s+$", "") or nil
  end
  local info = { python = "absent", boto3 = "absent", aws_cli = "absent" }
  if exe and exe ~= "" then
    local out, ok = capture(quote(exe) .. " " .. quote(paths.peer) .. " probe 2>/dev/null")
    if ok then
      python = exe
      local v = json_one(out, "peer.py probe")
      info.python, info.boto3, info.botocore = v.python, v.boto3, v.botocore
    end
    info.python = info.python ~= "absent" and info.python or exe
  end
  local cli = capture("command -v aws 2>/dev/null"):gsub("%s+$", "")
  if cli ~= "" then
    if cli:find("/shims/", 1, true) then
      local real, ok = capture("pyenv which aws 2>/dev/null")
      real = real:gsub("%s+$", "")
      cli = (ok and real ~= "") and real or cli
    end
    local ver, ok = capture(env .. quote(cli) .. " --version 2>&1")
    if ok then
      aws_cli = cli
      info.aws_cli = ver:match("aws%-cli/(%S+)") or ver:gsub("%s+$", "")
    end
  end
  return info
end

---------------------------------------------------------------------------------------------
-- The benchmarks. Each returns a table of figures; a failure becomes an "error" entry.
---------------------------------------------------------------------------------------------

local function bench_sign()
  local r = { ours = {}, peer = {} }
  local out, ok = capture(quote(paths.sign_bench) .. " " .. C.sign_seconds .. " " .. runs)
  if not ok then error("sign_bench failed", 0) end
  for _, v in ipairs(json_lines(out)) do
    if v.what ~= "warmup" then
      local key = v.what .. " " .. v.request
      r.ours[key] = r.ours[key] or {}
      table.insert(r.ours[key], v.per_second)
    end
  end
  if python then
    for _, v in ipairs(json_lines(peer_worker("sign", C.sign_seconds, runs))) do
      if v.what ~= "warmup" then
        r.peer[v.request] = r.peer[v.request] or {}
        table.insert(r.peer[v.request], v.per_second)
      end
    end
  end
  -- Through the Lua module: only if it exposes a signer. ivs.sign is timed on the same
  -- POST /CreateChannel request (the median of `runs` runs); any other name is only named.
  local probe = capture(env .. lua .. " -e " .. quote([[
    local ok, ivs = pcall(require, "ivs")
    if not ok then print("nomodule") return end
    if type(ivs.sign) == "function" then
      local socket = require("socket")
      local req = { method = "POST", url = "https://ivs.us-west-2.amazonaws.com/CreateChannel",
        headers = { ["Content-Type"] = "application/json" },
        body = '{"name":"bench-channel","latencyMode":"LOW","type":"STANDARD","authorized":false,' ..
          '"tags":{"team":"games","env":"bench"}}',
        region = "us-west-2", credentials = { access_key_id = "AKIDEXAMPLEBENCH0001",
          secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" } }
      local rates = {}
      for run = 0, ]] .. runs .. [[ do
        local limit, n, t0 = run == 0 and ]] .. C.sign_seconds / 10 .. [[ or ]] .. C.sign_seconds .. [[, 0,
          socket.gettime()
        repeat
          for _ = 1, 64 do req.time = nil; assert(ivs.sign(req)) end
          n = n + 64
        until socket.gettime() - t0 >= limit
        if run > 0 then rates[#rates + 1] = n / (socket.gettime() - t0) end
      end
      table.sort(rates)
      print("sign " .. rates[(#rates + 1) // 2])
      return
    end
    for _, k in ipairs{ "sign_request", "presign" } do
      if type(ivs[k]) == "function" then print(k) return end
    end
    print("none")]]))
  probe = probe:gsub("%s+$", "")
  r.lua_signer = probe:match("^(%S+)")
  r.lua_sign_rate = tonumber(probe:match("^sign (%S+)$"))
  return r
end

-- The floors and ours, interleaved run by run against one emulator, so that whatever else the
-- machine is doing weighs on every side alike. bench/floor.c is the raw floor, the libcurl
-- floor and the C API; worker.lua is the Lua module; peer.py is boto3.
local function floor_run(mode, endpoint, arn, n, warmup)
  local out, ok = capture(env .. quote(paths.floor) .. " " .. mode .. " " .. quote(endpoint) .. " " .. quote(arn) ..
    " " .. n .. " " .. warmup)
  if not ok then error("floor " .. mode .. " failed", 0) end
  return json_one(out, "floor " .. mode)
end

-- Per-call counts that leave start-up and exit out: the same command with N1 and N2 calls,
-- (count(N2) - count(N1)) / (N2 - N1). cmd(n) gives the command line for n calls; count(cmdline)
-- runs it and returns the count.
local function per_call(cmd, count, n1, n2)
  local a, b = count(cmd(n1)), count(cmd(n2))
  if not a or not b then return nil end
  return (b - a) / (n2 - n1)
end

local function count_allocations(cmdline)
  local out = tmpdir .. "/malloc.out"
  os.remove(out)
  local _, ok = capture(env .. "LD_PRELOAD=" .. quote(paths.malloc_count) .. " MALLOC_COUNT_OUT=" .. quote(out) ..
    " " .. cmdline .. " >/dev/null 2>&1")
  if not ok then return nil end
  -- The shim appends one line per process that exits; the measured process is the last.
  local lines = json_lines(read_file(out) or "")
  return lines[#lines] and lines[#lines].allocations
end

local have_valgrind = os.execute("command -v valgrind >/dev/null 2>&1")

local have_annotate = have_valgrind and os.execute("command -v callgrind_annotate >/dev/null 2>&1")

-- Inclusive instructions per function of one callgrind profile: name -> count. A name listed
-- twice (a symbol seen through its file and through its object) keeps its larger count;
-- recursion levels (name'2) are left out, since the outermost level already includes them.
local function callgrind_functions(file)
  if not have_annotate then return nil end
  local out, ok = capture("callgrind_annotate --inclusive=yes --threshold=100 " .. quote(file) .. " 2>/dev/null")
  if not ok then return nil end
  local fns = {}
  for line in out:gmatch("[^\n]+") do
    local n, where = line:match("^%s*([%d,]+)%s+%b()%s+(.+)$")
    if n then
      where = where:gsub("%s+%[[^%]]*%]%s*$", "")
      local name = where:match(":([^:]+)$")
      if name and not name:find("'", 1, true) then
        local v = tonumber((n:gsub(",", "")))
        if not fns[name] or v > fns[name] then fns[name] = v end
      end
    end
  end
  return fns
end

-- libcurl formats request lines with its own printf engine, an internal function with no
-- symbol (callgrind names it by address). It is the function curl_mvsnprintf calls; its
-- inclusive count (every caller, its one-byte appends included) comes from the raw profile:
-- the sum of the costs of all calls into it. Returns nil when it cannot be found.
local function printf_engine_cost(file)
  local f = io.open(file, "r")
  if not f then return nil end
  local names, current, callee, pending = {}, nil, nil, false
  local calls_into = {} -- callee id -> caller id -> inclusive instructions
  local function id_of(rest)
    local id, name = rest:match("^%((%d+)%)%s*(.*)$")
    if id and name ~= "" then names[id] = name end
    return id
  end
  for line in f:lines() do
    if pending then
      local cost = tonumber(line:match("(%d+)%s*$"))
      if cost and callee and current and callee ~= current then
        local by = calls_into[callee] or {}
        calls_into[callee] = by
        by[current] = (by[current] or 0) + cost
      end
      pending = false
    elseif line:sub(1, 3) == "fn=" then
      current = id_of(line:sub(4))
    elseif line:sub(1, 4) == "cfn=" then
      callee = id_of(line:sub(5))
    elseif line:sub(1, 6) == "calls=" then
      pending = true
    end
  end
  f:close()
  local vsn
  for id, name in pairs(names) do
    if name == "curl_mvsnprintf" then vsn = id end
  end
  if not vsn then return nil end
  local engine, best = nil, -1
  for id, by in pairs(calls_into) do
    if by[vsn] and by[vsn] > best then engine, best = id, by[vsn] end
  end
  if not engine then return nil end
  local total = 0
  for _, v in pairs(calls_into[engine]) do total = total + v end
  return total
end

-- Runs cmdline under callgrind; returns its total instruction count and, when
-- callgrind_annotate is there, the inclusive count of every function (see above).
local function count_instructions(cmdline)
  if not have_valgrind then return nil end
  local file = tmpdir .. "/callgrind.out"
  os.remove(file)
  local out, ok = capture(env .. "valgrind --tool=callgrind --callgrind-out-file=" .. quote(file) .. " " .. cmdline ..
    " 2>&1 >/dev/null")
  if not ok then return nil end
  local n = out:match("Collected%s*:%s*(%d+)")
  local fns = callgrind_functions(file)
  if fns then fns["libcurl printf engine"] = printf_engine_cost(file) end
  os.remove(file)
  return tonumber(n), fns
end

-- Instructions per call and where they go: totals and each function's inclusive count from
-- two runs of N1 and N2 calls, (count(N2) - count(N1)) / (N2 - N1), so start-up and exit
-- cancel out. Returns the total per call and a table name -> instructions per call (nil when
-- callgrind_annotate is missing).
local function instructions_per_call(cmd, n1, n2)
  local ta, fa = count_instructions(cmd(n1))
  local tb, fb = count_instructions(cmd(n2))
  if not ta or not tb then return nil end
  local per
  if fa and fb then
    per = {}
    for name, v in pairs(fb) do per[name] = (v - (fa[name] or 0)) / (n2 - n1) end
  end
  return (tb - ta) / (n2 - n1), per
end

local function bench_calls()
  local endpoint, arn = fresh_with_channel()
  local r = { ours = {}, peer = {}, luajit = {}, raw = {}, libcurl = {}, capi = {}, counts = {} }
  local have_floor = file_exists(paths.floor)
  for _ = 1, runs do
    if have_floor then
      r.raw[#r.raw + 1] = floor_run("raw", endpoint, arn, C.calls, C.warmup)
      r.libcurl[#r.libcurl + 1] = floor_run("libcurl", endpoint, arn, C.calls, C.warmup)
      r.capi[#r.capi + 1] = floor_run("capi", endpoint, arn, C.calls, C.warmup)
    end
    r.ours[#r.ours + 1] = lua_worker("calls", endpoint, arn, C.calls, C.warmup)
    if luajit_env then
      r.luajit[#r.luajit + 1] = lua_worker_under("luajit", luajit_env, "calls", endpoint, arn, C.calls, C.warmup)
    end
    if python then
      r.peer[#r.peer + 1] = json_one(peer_worker("calls", endpoint, arn, C.peer_calls, C.warmup), "peer.py calls")
    end
  end
  -- Allocations and instructions per call: not timings, so one run each is enough.
  local sides = {
    lua = function(n) return lua .. " " .. quote(paths.worker) .. " calls " .. quote(endpoint) .. " " .. quote(arn) ..
      " " .. n .. " 0" end,
  }
  if have_floor then
    for _, mode in ipairs{ "raw", "libcurl", "capi" } do
      sides[mode] = function(n) return quote(paths.floor) .. " " .. mode .. " " .. quote(endpoint) .. " " ..
        quote(arn) .. " " .. n .. " 0" end
    end
  end
  for side, cmd in pairs(sides) do
    r.counts[side] = {
      allocations = file_exists(paths.malloc_count) and per_call(cmd, count_allocations, C.count_calls[1],
        C.count_calls[2]),
    }
    r.counts[side].instructions, r.counts[side].functions =
      instructions_per_call(cmd, C.count_calls[1], C.count_calls[2])
  end
  return r
end

-- The emulator's own ceiling: bench/floor.c's load mode, 4 threads each writing the pre-signed
-- GetChannel over its own kept-alive socket for a few seconds (every answer must be a 200, so
-- SigV4 and validation run on every request). The client side costs next to nothing.
local function bench_emulator()
  if not file_exists(paths.floor) then error("skipped (no floor tool)", 0) end
  local r = { per_second = {} }
  for _ = 1, runs do
    local endpoint, arn = fresh_with_channel()
    local out, ok = capture(env .. quote(paths.floor) .. " load " .. quote(endpoint) .. " " .. quote(arn) .. " " ..
      (quick and 1 or 3) .. " 4")
    if not ok then error("floor load failed", 0) end
    r.per_second[#r.per_second + 1] = json_one(out, "floor load").per_second
  end
  return r
end

-- 32 Lua processes share TOTAL calls; returns the wall time of the whole batch.
local function lua_processes(endpoint, total, procs, tag)
  local parts = { "pids=''" }
  for p = 1, procs do
    local count = total // procs + ((p <= total % procs) and 1 or 0)
    parts[#parts + 1] = string.format("%s%s %s create %s %d %s >/dev/null & pids=\"$pids $!\"", env, lua,
      quote(paths.worker), quote(endpoint), count, quote(tag .. "-p" .. p))
  end
  parts[#parts + 1] = "rc=0; for p in $pids; do wait $p || rc=1; done; exit $rc"
  local t0 = gettime()
  local _, ok = capture("sh -c " .. quote(table.concat(parts, "\n")))
  local wall = gettime() - t0
  if not ok then error("a Lua process of the concurrent batch failed", 0) end
  return wall
end

local function bench_conc()
  local r = { threads = {}, processes = {}, run_all = {}, peer = {} }
  local _, has_run_all = capture(env .. lua .. " -e " ..
    quote("local c = require('ivs').new{ region = 'us-west-2' }; os.exit(c and c.run_all and 0 or 1)"))
  local have_threads = file_exists(paths.conc_bench)
  for i = 1, runs do
    if have_threads then
      local endpoint = start_emulator()
      local out, ok = capture(env .. quote(paths.conc_bench) .. " " .. quote(endpoint) .. " " .. C.conc_total .. " " ..
        C.threads)
      if not ok then error("conc_bench failed", 0) end
      r.threads[#r.threads + 1] = json_one(out, "conc_bench").wall_s
    end
    if has_run_all then
      r.run_all[#r.run_all + 1] = lua_worker("run_all", start_emulator(), C.conc_total, C.threads).wall_s
    end
    r.processes[#r.processes + 1] = lua_processes(start_emulator(), C.conc_total, C.threads, "conc" .. i)
    if python then
      local endpoint = start_emulator()
      r.peer[#r.peer + 1] = json_one(peer_worker("conc", endpoint, C.conc_total, C.threads), "peer.py conc").wall_s
    end
  end
  stop_emulator()
  return r
end

local function bench_cold()
  local endpoint, arn = fresh_with_channel()
  local r = {}
  -- The floors of a cold start: the bare interpreter, then the interpreter loading the module.
  r.floor_exec = field(spawn(C.cold_runs, lua .. " -e ''"), "wall_s")
  r.floor_require = field(spawn(C.cold_runs, lua .. " -e " .. quote("require('ivs')")), "wall_s")
  r.ours = field(spawn(C.cold_runs, lua .. " " .. quote(paths.cold) .. " " .. quote(endpoint) .. " " .. quote(arn)),
    "wall_s")
  if python then
    r.boto3 = field(spawn(C.cold_runs, quote(python) .. " " .. quote(paths.cold_boto3) .. " " ..
      quote(endpoint) .. " " .. quote(arn)), "wall_s")
  end
  if aws_cli then
    r.aws_cli = field(spawn(C.cold_runs, quote(aws_cli) .. " ivs get-channel --output json"
      .. " --region us-west-2 --endpoint-url " .. quote(endpoint) .. " --arn " .. quote(arn)), "wall_s")
  end
  return r
end

local function bench_memory()
  local endpoint, arn = fresh_with_channel()
  local r = { ours = {}, peer = {} }
  local args = quote(endpoint) .. " " .. quote(arn) .. " " .. C.memory_calls .. " " .. C.memory_checkpoint
  for _ = 1, runs do
    local out = tmpdir .. "/memory.out"
    local run = spawn(1, lua .. " " .. quote(paths.worker) .. " memory " .. args, out)[1]
    local v = json_one(read_file(out) or "", "worker.lua memory")
    v.maxrss_kb = run.maxrss_kb
    r.ours[#r.ours + 1] = v
  end
  if python then
    for _ = 1, runs do
      local out = tmpdir .. "/memory.out"
      local run = spawn(1, quote(python) .. " " .. quote(paths.peer) .. " memory " .. args, out)[1]
      local v = json_one(read_file(out) or "", "peer.py memory")
      v.maxrss_kb = run.maxrss_kb
      r.peer[#r.peer + 1] = v
    end
  end
  return r
end

local function bench_scale()
  local r = { ours = {}, peer = {}, limits = {} }
  for _, n in ipairs(C.scale) do
    r.ours[n], r.peer[n] = {}, {}
    for _ = 1, runs do
      local v = lua_worker("scale", start_emulator(), n)
      if v.listed ~= n then r.limits[#r.limits + 1] = string.format("ours listed %d of %d", v.listed, n) end
      table.insert(r.ours[n], v)
      if python then
        local p = json_one(peer_worker("scale", start_emulator(), n), "peer.py scale")
        if p.listed ~= n then r.limits[#r.limits + 1] = string.format("boto3 listed %d of %d", p.listed, n) end
        table.insert(r.peer[n], p)
      end
    end
  end
  stop_emulator()
  return r
end

---------------------------------------------------------------------------------------------
-- The table
---------------------------------------------------------------------------------------------

local function commas(n)
  local s = string.format("%.0f", n)
  local out = s:reverse():gsub("(%d%d%d)", "%1,"):reverse()
  return (out:gsub("^,", ""))
end

local function fmt_rate(v) return v and (commas(v) .. "/s") or nil end
local function fmt_ms(v) return v and string.format("%.1f ms", v * 1e3) or nil end
local function fmt_s(v) return v and string.format("%.2f s", v) or nil end
local function fmt_us(v) return v and string.format("%.1f µs", v * 1e6) or nil end
local function fmt_mb(kb) return kb and string.format("%.1f MB", kb / 1024) or nil end

local rows = {}
local figures = {}
-- The floor table (sequential GetChannel): one list of cells per side.
local floor_rows = {}
-- Where one sequential GetChannel's instructions go (callgrind, inclusive, per call).
local breakdown_rows = {}
local breakdown_header = { "Where one GetChannel's instructions go", "libcurl floor", "C API", "Lua 5.4" }
local floor_header = { "Sequential GetChannel", "calls/s", "of raw", "of libcurl", "× boto3", "client CPU/call",
  "× raw CPU", "× libcurl CPU", "allocs/call", "instr/call" }

-- ratio: how many times better ours is (higher is better for ours), nil when a side is absent.
local function row(t)
  if t.peer == nil then t.peer_text = t.peer_text or "absent" end
  rows[#rows + 1] = t
end

-- Whether a goal is met: nil (blank) when the figure is missing, else true or false.
local function at_least(x, goal)
  if x == nil then return nil end
  return x >= goal
end

local function at_most(x, goal)
  if x == nil then return nil end
  return x <= goal
end

local function ratio_text(x)
  if not x then return "" end
  if x >= 10 then return string.format("%.0f×", x) end
  return string.format("%.1f×", x)
end

local function goal_text(met)
  if met == nil then return "" end
  return met and "yes" or "NO"
end

local function render_cells(header, cells, markdown)
  local lines = {}
  if markdown then
    lines[#lines + 1] = "| " .. table.concat(header, " | ") .. " |"
    lines[#lines + 1] = "|" .. string.rep("---|", #header)
    for _, c in ipairs(cells) do lines[#lines + 1] = "| " .. table.concat(c, " | ") .. " |" end
    return table.concat(lines, "\n") .. "\n"
  end
  local width = {}
  local function len(s) return utf8.len(s) or #s end
  for i, h in ipairs(header) do width[i] = len(h) end
  for _, c in ipairs(cells) do
    for i, s in ipairs(c) do width[i] = math.max(width[i], len(s)) end
  end
  local function line(c)
    local parts = {}
    for i, s in ipairs(c) do parts[i] = s .. string.rep(" ", width[i] - len(s)) end
    return (table.concat(parts, "  "):gsub("%s+$", ""))
  end
  lines[#lines + 1] = line(header)
  local rule = {}
  for i = 1, #header do rule[i] = string.rep("-", width[i]) end
  lines[#lines + 1] = line(rule)
  for _, c in ipairs(cells) do lines[#lines + 1] = line(c) end
  return table.concat(lines, "\n") .. "\n"
end

local function render(markdown)
  local cells = {}
  for _, r in ipairs(rows) do
    cells[#cells + 1] = {
      r.what, r.ours_text or "", r.peer_text or "", r.ratio and ratio_text(r.ratio) or "",
      r.goal or "", goal_text(r.met),
    }
  end
  local text = render_cells({ "What", "Ours", "Peer", "Ratio", "Goal", "Met" }, cells, markdown)
  if #breakdown_rows > 0 then text = render_cells(breakdown_header, breakdown_rows, markdown) .. "\n" .. text end
  if #floor_rows > 0 then text = render_cells(floor_header, floor_rows, markdown) .. "\n" .. text end
  return text
end

local function failed_row(what, err)
  if tostring(err):match("^skipped") then return end
  local msg = tostring(err)
  if #msg > 70 then msg = msg:sub(1, 67) .. "..." end
  row{ what = what, ours_text = "failed: " .. msg, peer_text = "" }
end

---------------------------------------------------------------------------------------------
-- Main
---------------------------------------------------------------------------------------------

local function loadavg()
  return (read_file("/proc/loadavg") or ""):match("^(%S+ %S+ %S+)") or "?"
end

local function machine()
  local cpu = (read_file("/proc/cpuinfo") or ""):match("model name%s*:%s*([^\n]+)") or "unknown CPU"
  local cores = capture("nproc"):gsub("%s+$", "")
  local mem = (read_file("/proc/meminfo") or ""):match("MemTotal:%s*(%d+)")
  local os_name = (read_file("/etc/os-release") or ""):match('PRETTY_NAME="([^"]+)"') or "Linux"
  return string.format("%s, %s cores, %.0f GB RAM, %s", cpu, cores, (tonumber(mem) or 0) / 1048576, os_name)
end

local function main()
  for _, k in ipairs{ "emulator", "sign_bench", "spawn" } do
    if not file_exists(paths[k]) then
      log("%s is missing: run `make bench` (it builds everything first)", paths[k])
      return 1
    end
  end
  local peers = find_peers()
  log("peers: python %s, boto3 %s, aws CLI %s", peers.python, peers.boto3, peers.aws_cli)
  log("%s mode, %d runs per figure", quick and "quick" or "full", runs)

  -- Can we run at all? One emulator start and one Lua call.
  local ok, err = pcall(fresh_with_channel)
  if not ok then
    log("cannot run: %s", err)
    stop_emulator()
    return 1
  end

  local started = gettime()
  local load_start = loadavg()
  local only = os.getenv("BENCH_ONLY")
  local function phase(name, fn)
    if only and only ~= "" and not (" " .. only:gsub(",", " ") .. " "):find(" " .. name .. " ", 1, true) then
      return nil, "skipped (BENCH_ONLY)"
    end
    log("%s...", name)
    local t0 = gettime()
    local pok, res = pcall(fn)
    stop_emulator()
    if not pok then
      log("%s failed: %s", name, res)
      figures[name] = { error = tostring(res) }
      return nil, res
    end
    log("%s done in %.1f s", name, gettime() - t0)
    figures[name] = res
    return res
  end

  local ours_any = false

  -- 1. Signing
  local sign, serr = phase("sign", bench_sign)
  if sign then
    ours_any = true
    local requests = { { "create_channel", "POST /CreateChannel (JSON body)" }, { "list_tags", "GET /tags/{arn}" } }
    local variants = { { "sigv4_sign+cache", "C sigv4_sign + key cache" }, { "ivs_sign", "C ivs_sign (public)" } }
    for _, req in ipairs(requests) do
      local peer = median(sign.peer[req[1]] or {})
      for _, variant in ipairs(variants) do
        local ours = median(sign.ours[variant[1] .. " " .. req[1]] or {})
        local ratio = ours and peer and ours / peer
        row{ what = "Sign " .. req[2] .. ": " .. variant[2] .. " vs botocore add_auth",
          ours = ours, ours_text = fmt_rate(ours),
          peer = peer, peer_text = fmt_rate(peer), ratio = ratio, goal = "≥ 30×",
          met = at_least(ratio, 30) }
      end
    end
    local lua_sign = sign.lua_signer
    if sign.lua_sign_rate then
      local ours, peer = sign.lua_sign_rate, median(sign.peer.create_channel or {})
      row{ what = "Sign POST /CreateChannel through the Lua module: ivs.sign vs botocore add_auth",
        ours = ours, ours_text = fmt_rate(ours), peer = peer, peer_text = fmt_rate(peer),
        ratio = ours and peer and ours / peer, goal = "" }
    else
      row{ what = "Sign through the Lua module", ours_text = (lua_sign == "none" or lua_sign == "nomodule") and
        "not exposed" or ("ivs." .. lua_sign .. " exists (not timed)"), peer = false, peer_text = "", goal = "" }
    end
  else
    failed_row("Signing", serr)
  end

  -- 2. Sequential calls, beside the floors
  local calls, cerr = phase("calls", bench_calls)
  if calls then
    ours_any = true
    local function rate(list)
      local t = {}
      for i, v in ipairs(list) do t[i] = v.calls / v.wall_s end
      return median(t)
    end
    local function cpu(list)
      local t = {}
      for i, v in ipairs(list) do t[i] = v.cpu_s / v.calls end
      return median(t)
    end
    local ours, peer = rate(calls.ours), python and rate(calls.peer)
    local ratio = ours and peer and ours / peer
    row{ what = "GetChannel calls/s, sequential, keep-alive: Lua client vs boto3",
      ours = ours, ours_text = fmt_rate(ours),
      peer = peer, peer_text = fmt_rate(peer), ratio = ratio, goal = "≥ 10×", met = at_least(ratio, 10) }
    local jit = luajit_env and rate(calls.luajit)
    row{ what = "GetChannel calls/s, sequential, keep-alive: LuaJIT 2.1 vs Lua 5.4 (same C core)",
      ours = jit, ours_text = luajit_env and fmt_rate(jit) or "luajit not built", peer = ours,
      peer_text = fmt_rate(ours), ratio = jit and ours and jit / ours }
    local ocpu, pcpu = cpu(calls.ours), python and cpu(calls.peer)
    row{ what = "Client CPU per GetChannel (client process only)", ours = ocpu, ours_text = fmt_us(ocpu), peer = pcpu,
      peer_text = fmt_us(pcpu), ratio = ocpu and pcpu and pcpu / ocpu }

    -- The floor table: every sequential figure as a fraction of both floors and beside boto3.
    local raw_rate, curl_rate = rate(calls.raw), rate(calls.libcurl)
    local raw_cpu, curl_cpu = cpu(calls.raw), cpu(calls.libcurl)
    local function frac(x, f) return x and f and string.format("%.2f", x / f) or "" end
    local function times(x, f) return x and f and string.format("%.1f×", x / f) or "" end
    local function count_text(side, key, scale)
      local c = calls.counts[side] and calls.counts[side][key]
      if not c then return "" end
      return commas(c / scale) .. (scale == 1000 and "k" or "")
    end
    local sides = {
      { "Raw floor: pre-signed, one kept-alive socket (C)", calls.raw, "raw" },
      { "libcurl floor: pre-signed, bare easy handle (C)", calls.libcurl, "libcurl" },
      { "C API: ivs_client_call GetChannel", calls.capi, "capi" },
      { "Lua 5.4: client:get_channel", calls.ours, "lua" },
      { "LuaJIT 2.1: client:get_channel", luajit_env and calls.luajit or {}, nil },
      { "boto3: get_channel", python and calls.peer or {}, nil },
    }
    for _, sd in ipairs(sides) do
      local rt, c = rate(sd[2]), cpu(sd[2])
      if rt then
        floor_rows[#floor_rows + 1] = {
          sd[1], fmt_rate(rt), frac(rt, raw_rate), frac(rt, curl_rate),
          peer and string.format("%.1f×", rt / peer) or "",
          fmt_us(c), times(c, raw_cpu), times(c, curl_cpu),
          sd[3] and count_text(sd[3], "allocations", 1) or "", sd[3] and count_text(sd[3], "instructions", 1000) or "",
        }
      end
    end
    -- Where the instructions of one call go, side by side: what lies in libcurl (and within
    -- it, the parts the issue named) and what is ours, from the same callgrind runs.
    local fsides = { { "libcurl floor", "libcurl" }, { "C API", "capi" }, { "Lua 5.4", "lua" } }
    local function fn(side, ...)
      local f = calls.counts[side] and calls.counts[side].functions
      if not f then return nil end
      local sum, any = 0, false
      for _, name in ipairs{ ... } do
        if f[name] then sum, any = sum + f[name], true end
      end
      return any and sum or nil
    end
    local parts = {
      { "libcurl: curl_easy_perform, less our callbacks", function(sd)
        local perform = fn(sd, "curl_easy_perform")
        return perform and perform - (fn(sd, "on_header", "on_body") or 0)
      end },
      { "  of it: its printf engine (request lines, a byte at a time)", function(sd)
        return fn(sd, "libcurl printf engine")
      end },
      { "  of it: URL parsing (curl_url_set/get)", function(sd) return fn(sd, "curl_url_set", "curl_url_get") end },
      { "  of it: header name compares", function(sd) return fn(sd, "curl_strnequal", "curl_strequal") end },
      { "SigV4 signing", function(sd) return fn(sd, "sigv4_sign") end },
      { "Validation and serialization", function(sd) return fn(sd, "model_validate_cached", "model_serialize") end },
      { "Response check, retry bookkeeping", function(sd) return fn(sd, "call_finish_attempt") end },
      { "Lua binding: parameters to request, call frame", function(sd)
        local call = fn(sd, "l_client_call")
        return call and call - (fn(sd, "client_call_text") or 0) - (fn(sd, "s_text_value") or 0)
      end },
      { "Lua: response text to tables", function(sd) return fn(sd, "s_text_value") end },
    }
    local have_profile = false
    for _, sd in ipairs(fsides) do
      if calls.counts[sd[2]] and calls.counts[sd[2]].functions then have_profile = true end
    end
    if have_profile then
      local function k(v) return v and string.format("%.1fk", v / 1000) or "" end
      local top = { 1, 5, 6, 7, 8, 9 } -- the rows that do not overlap, for "everything else"
      for i, part in ipairs(parts) do
        local cells = { part[1] }
        for _, sd in ipairs(fsides) do cells[#cells + 1] = k(part[2](sd[2])) end
        breakdown_rows[#breakdown_rows + 1] = cells
        if i == #parts then
          local rest, total = { "Everything else: the call, buffers, malloc, ivs.lua, Lua VM" },
            { "Total per call" }
          for _, sd in ipairs(fsides) do
            local t = calls.counts[sd[2]] and calls.counts[sd[2]].instructions
            local sum = 0
            for _, j in ipairs(top) do sum = sum + (parts[j][2](sd[2]) or 0) end
            rest[#rest + 1] = t and k(t - sum) or ""
            total[#total + 1] = k(t)
          end
          breakdown_rows[#breakdown_rows + 1] = rest
          breakdown_rows[#breakdown_rows + 1] = total
        end
      end
    end
  else
    failed_row("GetChannel calls", cerr)
  end

  -- 3. Concurrency
  local conc, ccerr = phase("conc", bench_conc)
  if conc then
    ours_any = true
    local peer = median(conc.peer)
    local n = commas(C.conc_total)
    local threads = median(conc.threads)
    if threads then
      row{ what = string.format("%s CreateChannel, %d in flight: C, %d threads × own client vs boto3 pool(%d)", n,
        C.threads, C.threads, C.threads), ours = threads, ours_text = fmt_s(threads),
        peer = peer, peer_text = fmt_s(peer),
        ratio = peer and peer / threads }
    else
      row{ what = string.format("%s CreateChannel, %d in flight: C threads", n, C.threads),
        ours_text = "not built (no client in the core)", peer = false, peer_text = "" }
    end
    local async = median(conc.run_all)
    row{ what = string.format("%s CreateChannel, %d in flight: Lua client:run_all (one process) vs boto3 pool(%d)", n,
      C.threads, C.threads), ours = async, ours_text = fmt_s(async) or "no async API in the Lua module",
      peer = peer, peer_text = fmt_s(peer), ratio = peer and async and peer / async, goal = "≥ 15×",
      met = at_least(peer and async and peer / async, 15) }
    local procs = median(conc.processes)
    row{ what = string.format("%s CreateChannel, %d in flight: %d Lua processes vs boto3 pool(%d)", n, C.threads,
      C.threads, C.threads), ours = procs, ours_text = fmt_s(procs), peer = peer, peer_text = fmt_s(peer),
      ratio = peer and procs and peer / procs }
  else
    failed_row("Concurrent CreateChannel", ccerr)
  end

  -- 3b. The emulator's ceiling
  local emu, eerr = phase("emulator", bench_emulator)
  if emu then
    ours_any = true
    local v = median(emu.per_second)
    row{ what = "Emulator: signed GetChannel/s, 4 kept-alive connections (SigV4 and validation on)",
      ours = v, ours_text = fmt_rate(v), peer_text = "", goal = "≥ 40,000/s", met = at_least(v, 40000) }
  else
    failed_row("Emulator load", eerr)
  end

  -- 4. Cold start
  local cold, colderr = phase("cold", bench_cold)
  if cold then
    ours_any = true
    local ours, boto, cli = median(cold.ours), cold.boto3 and median(cold.boto3), cold.aws_cli and median(cold.aws_cli)
    local fexec, freq = median(cold.floor_exec), median(cold.floor_require)
    row{ what = "Cold start floor: `lua5.4 -e ''` (exec and exit) vs the whole script",
      ours = fexec, ours_text = fmt_ms(fexec), peer = ours, peer_text = fmt_ms(ours) }
    row{ what = "Cold start floor: `lua5.4 -e \"require('ivs')\"` vs the whole script",
      ours = freq, ours_text = fmt_ms(freq), peer = ours, peer_text = fmt_ms(ours) }
    row{ what = "Cold start + 1 GetChannel: lua5.4 script vs boto3 script",
      ours = ours, ours_text = fmt_ms(ours), peer = boto,
      peer_text = fmt_ms(boto), ratio = boto and boto / ours }
    local ratio = cli and cli / ours
    row{ what = "Cold start + 1 GetChannel: lua5.4 script vs `aws ivs get-channel`",
      ours = ours, ours_text = fmt_ms(ours),
      peer = cli, peer_text = fmt_ms(cli), ratio = ratio, goal = "≥ 20× (< 1/20 of the CLI)",
      met = at_least(ratio, 20) }
  else
    failed_row("Cold start", colderr)
  end

  -- 5. Memory
  local mem, merr = phase("memory", bench_memory)
  if mem then
    ours_any = true
    local function med(list, key) return median(field(list, key)) end
    local ours, peer = med(mem.ours, "maxrss_kb"), python and med(mem.peer, "maxrss_kb")
    row{ what = string.format("Peak RSS, %s GetChannel calls in one process", commas(C.memory_calls)),
      ours = ours, ours_text = fmt_mb(ours), peer = peer, peer_text = fmt_mb(peer), ratio = peer and peer / ours }
    local function growth(list)
      local a, b = med(list, "rss_kb_checkpoint"), med(list, "rss_kb_end")
      return a, b, b - a
    end
    local a, b, d = growth(mem.ours)
    local pa, pb, pd
    if python then pa, pb, pd = growth(mem.peer) end
    row{ what = string.format("RSS after %s → after %s calls (growth)", commas(C.memory_checkpoint),
      commas(C.memory_calls)),
      ours_text = string.format("%s → %s (%+d kB)", fmt_mb(a), fmt_mb(b), d), peer = pa,
      peer_text = pa and string.format("%s → %s (%+d kB)", fmt_mb(pa), fmt_mb(pb), pd),
      goal = "< 1 MB growth", met = at_most(d, 1023) }
  else
    failed_row("Memory", merr)
  end

  -- 6. Scaling
  local scale, scerr = phase("scale", bench_scale)
  if scale then
    ours_any = true
    local per = { ours = { create = {}, list = {} }, peer = { create = {}, list = {} } }
    for _, n in ipairs(C.scale) do
      for _, side in ipairs{ "ours", "peer" } do
        local list = scale[side][n]
        if list and #list > 0 then
          per[side].create[n] = median(field(list, "create_s")) / n
          per[side].list[n] = median(field(list, "list_s")) / n
        end
      end
      for _, kind in ipairs{ "create", "list" } do
        local o, p = per.ours[kind][n], per.peer[kind][n]
        row{ what = string.format("%s, N = %s: time per channel (%s)", kind == "create" and "Create N channels" or
          "List N channels", commas(n), kind == "create" and "create_channel" or "items() vs paginator, 100/page"),
          ours = o, ours_text = fmt_us(o), peer = p, peer_text = fmt_us(p), ratio = p and p / o }
      end
    end
    local first, last = C.scale[1], C.scale[#C.scale]
    for _, kind in ipairs{ "create", "list" } do
      local o, p = per.ours[kind], per.peer[kind]
      local og = o[last] and o[first] and o[last] / o[first]
      local pg = p[last] and p[first] and p[last] / p[first]
      row{ what = string.format("%s: µs/channel at N = %s ÷ at N = %s (1.0 = flat)", kind == "create" and "Create" or
        "List", commas(last), commas(first)), ours_text = og and string.format("%.2f", og), peer = pg,
        peer_text = pg and string.format("%.2f", pg), goal = "≤ 2 (no quadratic growth)", met = at_most(og, 2) }
    end
    if #scale.limits > 0 then
      log("scaling limits hit: %s", table.concat(scale.limits, "; "))
    end
  else
    failed_row("Scaling", scerr)
  end

  stop_emulator()
  os.execute("rm -rf " .. quote(tmpdir))
  if not ours_any then
    log("no benchmark could run")
    return 1
  end

  local date = os.date("!%Y-%m-%d %H:%M UTC")
  local text = render(false)
  io.stderr:flush()
  io.write("\n", text)
  io.write("Ratio: how many times better ours is (peer ÷ ours for times and sizes, ours ÷ peer for rates).\n")
  local load_text = "load average " .. load_start .. " at start, " .. loadavg() .. " at end"
  io.write(string.format("\n%s; %s; %s mode, medians of %d runs (cold start: %d runs); %s; total %.0f s\n", date,
    machine(), quick and "quick" or "full", runs, C.cold_runs, load_text, gettime() - started))

  os.execute("mkdir -p " .. quote(results_dir))
  local doc = {
    date = date,
    machine = machine(),
    mode = quick and "quick" or "full",
    runs = runs,
    cold_runs = C.cold_runs,
    counts = C,
    peers = peers,
    table = rows,
    floor_table = floor_rows,
    breakdown_table = breakdown_rows,
    raw = figures,
  }
  local json = cjson.encode(doc)
  write_file(results_dir .. "/latest.json", json .. "\n")
  write_file(results_dir .. "/" .. os.date("!%Y%m%dT%H%M%SZ") .. ".json", json .. "\n")
  write_file(results_dir .. "/latest.md", render(true) .. "\n" .. date .. "; " .. machine() .. "; " ..
    string.format("%s mode, medians of %d runs (cold start: %d); %s.\n", quick and "quick" or "full", runs, C.cold_runs,
      load_text))
  log("wrote %s/latest.json and latest.md", results_dir)
  return 0
end

local ok, rc = pcall(main)
stop_emulator()
if not ok then
  io.stderr:write("bench: ", tostring(rc), "\n")
  os.exit(1)
end
os.exit(rc)
