--- Spec support: start the loopback capture server, script its answers, read what it saw.
--
-- local capture = require("helpers.capture")
-- local srv = capture.start({ { status = 200, body = '{"channel":{}}' } })
-- ... point a client at srv.url ...
-- local requests = srv:finish()   -- each: method, path, query, headers, header(name), body, json
--
-- Every server stops by itself after `limit` seconds (default 30); capture.finish_all() (call
-- it from after_each) stops whatever a failing spec left behind.
local socket = require("socket")
local cjson = require("cjson")

local M = {}

local ROOT = os.getenv("IVS_ROOT") or "."
local SERVER = ROOT .. "/tests/lua/helpers/capture_server.lua"
local LUA = os.getenv("IVS_TEST_LUA") or "lua5.4"
local live = {}

local Server = {}
Server.__index = Server

local function lower_headers(list)
  local map = {}
  for _, h in ipairs(list) do
    local k = h[1]:lower()
    map[k] = map[k] and (map[k] .. "," .. h[2]) or h[2]
  end
  return map
end

--- Starts a server answering with `responses` in order.
-- @param responses list of {status, headers, body, delay, close}; body may be a table (JSON)
-- @param opts {limit = seconds}
function M.start(responses, opts)
  local scripted = {}
  for i, r in ipairs(responses or {}) do
    local body = r.body
    if type(body) == "table" then body = cjson.encode(body) end
    scripted[i] = { status = r.status or 200, headers = r.headers or {}, body = body or "", delay = r.delay,
      close = r.close }
  end
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  -- cjson encodes an empty list as {}; the server treats either the same.
  f:write(cjson.encode({ responses = scripted, limit = (opts and opts.limit) or 30 }))
  f:close()
  local proc = assert(io.popen(string.format("exec %s %q %q", LUA, SERVER, path), "r"))
  local line = proc:read("*l")
  local port = line and tonumber(line:match("^PORT (%d+)$"))
  if not port then
    proc:close()
    os.remove(path)
    error("capture server did not start: " .. tostring(line))
  end
  local self = setmetatable({ proc = proc, port = port, url = "http://127.0.0.1:" .. port, script = path },
    Server)
  live[self] = true
  return self
end

--- Stops the server and returns the requests it recorded (idempotent).
function Server:finish()
  if self.requests then return self.requests end
  local sock = socket.tcp()
  sock:settimeout(5)
  if sock:connect("127.0.0.1", self.port) then
    sock:send("GET /__quit HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Capture-Control: quit\r\nContent-Length: 0\r\n\r\n")
    sock:receive("*l")
  end
  sock:close()
  local requests = {}
  for line in self.proc:lines() do
    local json = line:match("^REQ (.*)$")
    if json then
      local r = cjson.decode(json)
      r.headers_map = lower_headers(r.headers)
      r.header = function(name) return r.headers_map[name:lower()] end
      if r.body ~= "" then
        local ok, decoded = pcall(cjson.decode, r.body)
        r.json = ok and decoded or nil
      end
      requests[#requests + 1] = r
    elseif line:match("^DONE") then
      break
    end
  end
  self.proc:close()
  os.remove(self.script)
  live[self] = nil
  self.requests = requests
  return requests
end

--- Stops every server still running (for after_each).
function M.finish_all()
  for s in pairs(live) do s:finish() end
end

--- Splits a raw query string into a list of {name, value} pairs (still encoded).
function M.query_pairs(query)
  local out = {}
  for part in (query or ""):gmatch("[^&]+") do
    local k, v = part:match("^([^=]*)=?(.*)$")
    out[#out + 1] = { k, v }
  end
  return out
end

return M
