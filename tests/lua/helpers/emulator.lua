--- Spec support: run build/ivs-emulator on a free loopback port for the length of a spec.
--
-- local emulator = require("helpers.emulator")
-- local emu = emulator.start()          -- raises if it does not come up within 10 s
-- local c = ivs.new{ endpoint = emu.url, region = emu.region, credentials = emu.credentials }
-- os.execute(emu:env() .. " lua5.4 script.lua")   -- a subprocess configured for it
-- emu:stop()                            -- idempotent; also on __close, __gc and owner death
--
-- Robustness: every wait is bounded; stop() escalates from SIGTERM to SIGKILL; a watchdog shell
-- kills the emulator when the Lua process that started it dies (a crashed or killed busted run
-- leaves nothing behind) or after `lifetime` seconds in any case. emulator.stop_all() (for
-- after_each/teardown) stops whatever a failing spec left running.
local compat = require("helpers.compat")
local M = {}

local ROOT = os.getenv("IVS_ROOT") or "."
local BUILD = os.getenv("IVS_BUILD") or (ROOT .. "/build")

--- The emulator's built-in test key pair (emulator/main.c) and its defaults.
M.ACCESS_KEY_ID = "AKIAIVSEMULATOR00001"
M.SECRET_ACCESS_KEY = "ivsEmulatorTestSecretAccessKey0000000000"
M.REGION = "us-west-2"
M.ACCOUNT = "123456789012"

local live = setmetatable({}, { __mode = "k" })

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
M.shell_quote = shell_quote

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function sleep(seconds)
  os.execute("sleep " .. seconds)
end

-- A process that exited but was not reaped (our parent shell is gone, and PID 1 in a container
-- may not reap) still answers kill -0; /proc tells a zombie from a running process.
local function alive(pid)
  local stat = read_file("/proc/" .. pid .. "/stat")
  if stat then return not stat:match("^%d+ %b() [ZX]") end
  return (compat.execute("kill -0 " .. pid .. " 2>/dev/null"))
end

local Emulator = {}
Emulator.__index = Emulator

--- Starts an emulator.
-- @param opts optional: `args` (extra command-line arguments, a list), `timeout` (seconds to
--   wait for it to listen, default 10), `lifetime` (seconds after which the watchdog kills it
--   whatever happens, default 900), `binary` (default $IVS_BUILD/ivs-emulator)
-- @return an emulator object: `url`, `port`, `pid`, `region`, `access_key_id`,
--   `secret_access_key`, `credentials` (the ivs.new option shape), methods `env`, `stop`,
--   `stderr`
function M.start(opts)
  opts = opts or {}
  local binary = opts.binary or (BUILD .. "/ivs-emulator")
  local probe = io.open(binary, "rb")
  if not probe then error("ivs-emulator not built: " .. binary .. " (run make)", 2) end
  probe:close()
  local dir_pipe = assert(io.popen("mktemp -d 2>/dev/null"))
  local dir = dir_pipe:read("*l")
  dir_pipe:close()
  if not dir or dir == "" then error("mktemp -d failed", 2) end
  local args = {}
  for i, a in ipairs(opts.args or {}) do args[i] = shell_quote(a) end
  local timeout = opts.timeout or 10
  local lifetime = math.floor(tonumber(opts.lifetime) or 900)
  -- $PPID of the popen shell is this Lua process: the watchdog's owner.
  local script = string.format([[
owner=$PPID
%s --host 127.0.0.1 --port 0 %s >%s 2>%s </dev/null &
emu=$!
(
  running() { [ -e /proc/$emu ] && ! grep -q '^[0-9]* (.*) [ZX]' /proc/$emu/stat 2>/dev/null; }
  left=%d
  while [ "$left" -gt 0 ] && kill -0 "$owner" 2>/dev/null && running; do
    sleep 1; left=$((left - 1))
  done
  if running; then
    kill -TERM "$emu" 2>/dev/null; sleep 2; running && kill -KILL "$emu" 2>/dev/null
  fi
) >/dev/null 2>&1 </dev/null &
echo "$emu"
]], shell_quote(binary), table.concat(args, " "), shell_quote(dir .. "/out"), shell_quote(dir .. "/err"),
    lifetime)
  local p = assert(io.popen(script, "r"))
  local pid = p:read("*l")
  p:close()
  pid = tonumber(pid)
  if not pid then
    os.execute("rm -rf " .. shell_quote(dir))
    error("could not start ivs-emulator", 2)
  end
  local self = setmetatable({ pid = pid, dir = dir, region = M.REGION, access_key_id = M.ACCESS_KEY_ID,
    secret_access_key = M.SECRET_ACCESS_KEY }, Emulator)
  live[self] = true
  local deadline = os.time() + timeout + 1
  local polls = math.ceil(timeout / 0.05)
  for _ = 1, polls do
    local port = (read_file(dir .. "/out") or ""):match("listening on http://127%.0%.0%.1:(%d+)")
    if port then
      self.port = tonumber(port)
      self.url = "http://127.0.0.1:" .. port
      break
    end
    if not alive(pid) or os.time() > deadline then break end
    sleep(0.05)
  end
  if not self.url then
    local err = self:stderr()
    self:stop()
    error("ivs-emulator did not start within " .. timeout .. " s" .. (err ~= "" and (": " .. err) or ""), 2)
  end
  self.credentials = { creds = { access_key_id = self.access_key_id, secret_access_key = self.secret_access_key } }
  return self
end

--- What the emulator wrote to stderr so far.
function Emulator:stderr()
  return read_file(self.dir .. "/err") or ""
end

--- Environment assignments, as a shell prefix, that point a subprocess (an SDK, the AWS CLI, an
-- example script) at this emulator with its test credentials and no shared config files.
function Emulator:env()
  local vars = {
    AWS_ENDPOINT_URL_IVS = self.url, AWS_ENDPOINT_URL_IVSCHAT = self.url,
    AWS_ENDPOINT_URL_IVS_REALTIME = self.url, AWS_REGION = self.region, AWS_ACCESS_KEY_ID = self.access_key_id,
    AWS_SECRET_ACCESS_KEY = self.secret_access_key, AWS_CONFIG_FILE = "/nonexistent/ivs-emulator-config",
    AWS_SHARED_CREDENTIALS_FILE = "/nonexistent/ivs-emulator-credentials", AWS_EC2_METADATA_DISABLED = "true",
  }
  local names = {}
  for k in pairs(vars) do names[#names + 1] = k end
  table.sort(names)
  local out = { "env -u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_ENDPOINT_URL" }
  for _, k in ipairs(names) do out[#out + 1] = k .. "=" .. shell_quote(vars[k]) end
  return table.concat(out, " ")
end

--- Stops the emulator (SIGTERM, then SIGKILL after 5 s) and removes its files. Idempotent.
function Emulator:stop()
  if self.stopped then return end
  self.stopped = true
  live[self] = nil
  if alive(self.pid) then
    os.execute("kill -TERM " .. self.pid .. " 2>/dev/null")
    for _ = 1, 100 do
      if not alive(self.pid) then break end
      sleep(0.05)
    end
    if alive(self.pid) then os.execute("kill -KILL " .. self.pid .. " 2>/dev/null") end
  end
  os.execute("rm -rf " .. shell_quote(self.dir))
end

Emulator.__close = Emulator.stop
Emulator.__gc = Emulator.stop

--- Stops every emulator this process started and has not stopped yet.
function M.stop_all()
  local all = {}
  for e in pairs(live) do all[#all + 1] = e end
  for _, e in ipairs(all) do e:stop() end
end

return M
