--- Spec support: a loopback IVS stand-in whose answers depend on the request, so concurrent
-- calls can be matched to their results whatever order they arrive in.
--
-- In-process (`echo.new()`): nothing runs until `server:step()` is called, so a spec can
-- interleave it with `client:poll(0)` in one thread, which only works if poll never blocks.
-- `hold = n` keeps every answer back until n requests are waiting at once (proof that n calls
-- are on the wire together).
--
-- Out of process (`echo.spawn()`): the same server as a child `lua5.4` serving until
-- `finish()` (or 30 s), for code that blocks in poll (`run_all`). `finish()` returns
-- { requests = n, connections = n }.
--
-- Answers: POST /GetChannel {"arn": A} gives {"channel": {"arn": A, "name": "n-<id>"}};
-- POST /ListChannels pages "c1".."c3" through nextToken "p2", "p3"; POST /GetStreamKey is
-- a 404 ResourceNotFoundException; anything else a 400.
local socket = require("socket")
local cjson = require("cjson")

local M = {}

local function answer_for(path, body)
  local ok, input = pcall(cjson.decode, body ~= "" and body or "{}")
  if not ok or type(input) ~= "table" then input = {} end
  if path == "/GetChannel" and type(input.arn) == "string" then
    local id = input.arn:match("/([^/]+)$") or "?"
    return 200, cjson.encode({ channel = { arn = input.arn, name = "n-" .. id } })
  elseif path == "/ListChannels" then
    local page = tonumber(type(input.nextToken) == "string" and input.nextToken:match("^p(%d+)$")) or 1
    local out = { channels = { { name = "c" .. page } } }
    if page < 3 then out.nextToken = "p" .. (page + 1) end
    return 200, cjson.encode(out)
  elseif path == "/GetStreamKey" then
    return 404, '{"message":"no such stream key"}', "ResourceNotFoundException"
  end
  return 400, '{"message":"echo server: no handler"}', "NoHandler"
end

local function format_response(status, body, error_type)
  local lines = { string.format("HTTP/1.1 %d %s", status, status == 200 and "OK" or "Error"),
    "Content-Type: application/json", "Content-Length: " .. #body }
  if error_type then lines[#lines + 1] = "x-amzn-ErrorType: " .. error_type end
  return table.concat(lines, "\r\n") .. "\r\n\r\n" .. body
end

local Server = {}
Server.__index = Server

--- Starts an in-process server on 127.0.0.1 and a free port.
-- @param opts { hold = n }
function M.new(opts)
  local listener = assert(socket.bind("127.0.0.1", 0))
  listener:settimeout(0)
  local _, port = listener:getsockname()
  return setmetatable({ listener = listener, port = port, url = "http://127.0.0.1:" .. port, conns = {},
    pending = {}, hold = opts and opts.hold or 1, requests = 0, connections = 0, quit = false }, Server)
end

-- Takes complete requests out of a connection's buffer.
local function parse(self, conn)
  while true do
    local head_end = conn.buf:find("\r\n\r\n", 1, true)
    if not head_end then return end
    local head = conn.buf:sub(1, head_end - 1)
    local len = tonumber(head:lower():match("\r\ncontent%-length:%s*(%d+)")) or 0
    if #conn.buf < head_end + 3 + len then return end
    local body = conn.buf:sub(head_end + 4, head_end + 3 + len)
    conn.buf = conn.buf:sub(head_end + 4 + len)
    local path = head:match("^%u+ ([^ ?]+)")
    if head:lower():find("\r\nx%-echo%-control: quit") then
      self.quit = true
      self.connections = self.connections - 1 -- the control connection is not a client's
      return
    end
    self.requests = self.requests + 1
    local status, rbody, etype = answer_for(path, body)
    self.pending[#self.pending + 1] = { conn = conn, wire = format_response(status, rbody, etype) }
  end
end

--- Accepts, reads and (once `hold` requests wait) answers, without blocking; `wait` is how
-- long it may wait for activity (seconds, default 0).
function Server:step(wait)
  local watch = { self.listener }
  for _, c in ipairs(self.conns) do watch[#watch + 1] = c.sock end
  local readable = socket.select(watch, nil, wait or 0)
  for _, s in ipairs(readable or {}) do
    if s == self.listener then
      local sock = self.listener:accept()
      if sock then
        sock:settimeout(0)
        self.conns[#self.conns + 1] = { sock = sock, buf = "" }
        self.connections = self.connections + 1
      end
    else
      for i, c in ipairs(self.conns) do
        if c.sock == s then
          local data, err, partial = s:receive(65536)
          c.buf = c.buf .. (data or partial or "")
          parse(self, c)
          if err == "closed" then
            s:close()
            table.remove(self.conns, i)
          end
          break
        end
      end
    end
  end
  if #self.pending >= self.hold then
    for _, p in ipairs(self.pending) do
      p.conn.sock:settimeout(2)
      p.conn.sock:send(p.wire)
      p.conn.sock:settimeout(0)
    end
    self.pending = {}
  end
end

function Server:close()
  for _, c in ipairs(self.conns) do c.sock:close() end
  self.conns = {}
  self.listener:close()
end

--- Starts the server as a child process; returns { url, finish() }.
function M.spawn()
  local root = os.getenv("IVS_ROOT") or "."
  local lua = os.getenv("IVS_TEST_LUA") or "lua5.4"
  local proc = assert(io.popen(string.format("exec %s %q", lua, root .. "/tests/lua/helpers/echo_server.lua"), "r"))
  local port = tonumber((proc:read("*l") or ""):match("^PORT (%d+)$"))
  assert(port, "echo server did not start")
  local child = { url = "http://127.0.0.1:" .. port }
  function child.finish()
    local s = socket.tcp()
    s:settimeout(5)
    if s:connect("127.0.0.1", port) then
      s:send("POST /quit HTTP/1.1\r\nHost: x\r\nX-Echo-Control: quit\r\nContent-Length: 0\r\n\r\n")
    end
    s:close()
    local line = proc:read("*l") or ""
    proc:close()
    local req, conns = line:match("^DONE (%d+) (%d+)$")
    return { requests = tonumber(req), connections = tonumber(conns) }
  end
  return child
end

-- Run as a script: serve until told to quit or for 30 seconds.
local script_arg = rawget(_G, "arg")
if script_arg and script_arg[0] and script_arg[0]:match("echo_server%.lua$") then
  local srv = M.new()
  io.stdout:write("PORT ", srv.port, "\n")
  io.stdout:flush()
  local deadline = socket.gettime() + 30
  while not srv.quit and socket.gettime() < deadline do srv:step(0.05) end
  srv:close()
  io.stdout:write("DONE ", srv.requests, " ", srv.connections, "\n")
  io.stdout:flush()
  os.exit(0)
end

return M
