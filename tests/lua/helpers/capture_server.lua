#!/usr/bin/env lua5.4
-- A loopback HTTP server for the specs: records every request and answers from a script.
--
--   lua5.4 capture_server.lua SCRIPT.json
--
-- SCRIPT.json is {"responses": [{"status": 200, "headers": {...}, "body": "...",
-- "delay": seconds, "close": bool}, ...], "limit": seconds}. Responses are used in order; a
-- request beyond the script gets a 400 "NoScriptedResponse" (not retryable, so a surprise
-- request fails loudly instead of looping).
--
-- stdout protocol (line by line, flushed): "PORT <n>" once bound to 127.0.0.1:0, then
-- "REQ <json>" for each request (method, path, query, headers = {{name, value}...}, body),
-- then "DONE <count>" when it stops. It stops on a request carrying the header
-- "X-Capture-Control: quit", or when `limit` seconds (default 30) have passed, whichever
-- comes first, so a spec that dies half-way never leaves it running.
local socket = require("socket")
local cjson = require("cjson")

local script_path = assert(arg[1], "usage: capture_server.lua SCRIPT.json")
local fh = assert(io.open(script_path, "rb"))
local script = cjson.decode(fh:read("*a"))
fh:close()
local responses = script.responses or {}
local deadline = socket.gettime() + (script.limit or 30)

local REASONS = {
  [200] = "OK", [204] = "No Content", [400] = "Bad Request", [402] = "Payment Required",
  [403] = "Forbidden", [404] = "Not Found", [409] = "Conflict", [429] = "Too Many Requests",
  [500] = "Internal Server Error", [503] = "Service Unavailable",
}

local server = assert(socket.bind("127.0.0.1", 0))
server:settimeout(0)
local _, port = server:getsockname()
io.stdout:write("PORT ", port, "\n")
io.stdout:flush()

local conns = {}
local served = 0
local running = true

local function drop(c)
  for i, x in ipairs(conns) do
    if x == c then
      table.remove(conns, i)
      break
    end
  end
  c:close()
end

local function read_chunked(c)
  local parts = {}
  while true do
    local line = c:receive("*l")
    if not line then return nil end
    local size = tonumber(line:match("^%x+"), 16)
    if not size then return nil end
    if size == 0 then
      repeat line = c:receive("*l") until not line or line == ""
      return table.concat(parts)
    end
    parts[#parts + 1] = c:receive(size)
    c:receive("*l")
  end
end

-- Reads one request from c and answers it; returns false when the connection is finished.
local function serve(c)
  local line = c:receive("*l")
  if not line or line == "" then return false end
  local method, target = line:match("^(%S+)%s+(%S+)%s+HTTP/%d%.%d$")
  if not method then return false end
  local headers, lower = {}, {}
  while true do
    local h = c:receive("*l")
    if not h then return false end
    if h == "" then break end
    local name, value = h:match("^([^:]+):%s*(.-)%s*$")
    if name then
      headers[#headers + 1] = { name, value }
      lower[name:lower()] = value
    end
  end
  if (lower["expect"] or ""):lower() == "100-continue" then c:send("HTTP/1.1 100 Continue\r\n\r\n") end
  local body = ""
  if lower["content-length"] then
    local n = tonumber(lower["content-length"])
    if n and n > 0 then body = c:receive(n) or "" end
  elseif (lower["transfer-encoding"] or ""):lower():find("chunked", 1, true) then
    body = read_chunked(c) or ""
  end
  if (lower["x-capture-control"] or "") == "quit" then
    c:send("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    running = false
    return false
  end
  local path, query = target:match("^([^?]*)%??(.*)$")
  served = served + 1
  io.stdout:write("REQ ", cjson.encode({ method = method, path = path, query = query, headers = headers,
    body = body, n = served }), "\n")
  io.stdout:flush()

  local r = responses[served] or {
    status = 400, body = '{"exceptionMessage":"capture server: no scripted response"}',
    headers = { ["x-amzn-ErrorType"] = "NoScriptedResponse" },
  }
  if r.delay then socket.sleep(r.delay) end
  local status = r.status or 200
  local rbody = r.body or ""
  local out = { string.format("HTTP/1.1 %d %s", status, REASONS[status] or "Status") }
  local rh = r.headers or {}
  local has_type, has_id = false, false
  for k, v in pairs(rh) do
    out[#out + 1] = k .. ": " .. v
    if k:lower() == "content-type" then has_type = true end
    if k:lower() == "x-amzn-requestid" then has_id = true end
  end
  if not has_type and rbody ~= "" then out[#out + 1] = "Content-Type: application/json" end
  if not has_id then out[#out + 1] = string.format("x-amzn-RequestId: req-%04d-capture", served) end
  if status ~= 204 then out[#out + 1] = "Content-Length: " .. #rbody end
  local close = r.close or (lower["connection"] or ""):lower() == "close"
  if close then out[#out + 1] = "Connection: close" end
  c:send(table.concat(out, "\r\n") .. "\r\n\r\n" .. (status ~= 204 and rbody or ""))
  return not close
end

while running and socket.gettime() < deadline do
  local watch = { server }
  for _, c in ipairs(conns) do watch[#watch + 1] = c end
  local readable = socket.select(watch, nil, 0.2)
  for _, s in ipairs(readable or {}) do
    if s == server then
      local c = server:accept()
      if c then
        c:settimeout(5)
        conns[#conns + 1] = c
      end
    elseif not serve(s) then
      drop(s)
    end
    if not running then break end
  end
end
for _, c in ipairs(conns) do c:close() end
server:close()
io.stdout:write("DONE ", served, "\n")
io.stdout:flush()
