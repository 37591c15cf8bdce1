--- Spec support: the emulator's admin API (/_emulator/...) and raw IVS requests, through curl.
--
-- local admin = require("helpers.admin").new(emu)      -- emu from helpers.emulator
-- local status, body = admin:post("/streams/start", { channelArn = arn })
-- admin:start_stream{ channelArn = arn }                 -- raises unless 200; returns the body
-- local r = admin:raw{ path = "/CreateChannel", body = "{", sign = true }
--
-- Every request goes through curl with a bounded --max-time, so a wedged emulator fails the spec
-- instead of hanging it. `raw` sends IVS API requests the Lua client would refuse to send
-- (malformed JSON, a stale X-Amz-Date, no signature), signed by curl's own SigV4 (--aws-sigv4)
-- when `sign` is true: an independent signer, so the emulator's checks are not tested against
-- the code they share with the client.
local compat = require("helpers.compat")
local cjson = require("cjson.safe")
local emulator = require("helpers.emulator")

local q = emulator.shell_quote

local M = {}

local Admin = {}
Admin.__index = Admin

--- An admin handle for a started emulator.
function M.new(emu)
  return setmetatable({ emu = emu }, Admin)
end

local function tmpname()
  local p = assert(io.popen("mktemp 2>/dev/null"))
  local name = p:read("*l")
  p:close()
  assert(name and name ~= "", "mktemp failed")
  return name
end

-- Runs curl; returns status (number), headers (lower-case names), body text.
local function curl(args, body, max_time)
  local file
  -- No "-H Expect:": curl's --aws-sigv4 would sign the removed header and break the signature.
  local cmd = { "curl -sS -i --max-time", tostring(max_time or 10) }
  for _, a in ipairs(args) do cmd[#cmd + 1] = q(a) end
  if body then
    file = tmpname()
    local f = assert(io.open(file, "wb"))
    f:write(body)
    f:close()
    cmd[#cmd + 1] = "--data-binary @" .. q(file)
  end
  local p = assert(io.popen(table.concat(cmd, " ") .. " 2>&1"))
  local out = p:read("*a")
  p:close()
  if file then os.remove(file) end
  local head, rest = out:match("^(HTTP/[%d.]+ %d%d%d.-)\r\n\r\n(.*)$")
  if not head then error("curl failed: " .. out, 3) end
  local status = tonumber(head:match("^HTTP/[%d.]+ (%d%d%d)"))
  local headers = {}
  for name, value in head:gmatch("\r\n([^:\r\n]+):%s*([^\r\n]*)") do headers[name:lower()] = value end
  return status, headers, rest
end
M.curl = curl

--- Sends METHOD to /_emulator<path> with an optional body (a table becomes JSON).
-- @return status, decoded JSON body (nil when not JSON), raw body text
function Admin:request(method, path, body)
  if type(body) == "table" then body = assert(cjson.encode(body)) end
  local args = { "-X", method, self.emu.url .. "/_emulator" .. path }
  if body then
    table.insert(args, 1, "content-type: application/json")
    table.insert(args, 1, "-H")
  end
  local status, _, text = curl(args, body)
  return status, cjson.decode(text), text
end

function Admin:get(path) return self:request("GET", path) end
function Admin:post(path, body) return self:request("POST", path, body or {}) end
function Admin:delete(path) return self:request("DELETE", path) end

-- Raises unless the answer is 200; returns the decoded body.
local function ok(self, method, path, body)
  local status, decoded, text = self:request(method, path, body)
  if status ~= 200 then
    error(string.format("admin %s %s: HTTP %s %s", method, path, tostring(status), text), 3)
  end
  return decoded
end

function Admin:health() return ok(self, "GET", "/health") end
function Admin:reset() return ok(self, "POST", "/reset", {}) end
function Admin:start_stream(body) return ok(self, "POST", "/streams/start", body) end
function Admin:stop_stream(body) return ok(self, "POST", "/streams/stop", body) end
function Admin:stream_health(body) return ok(self, "POST", "/streams/health", body) end
function Admin:add_fault(body) return ok(self, "POST", "/faults", body) end
function Admin:faults() return ok(self, "GET", "/faults").faults end
function Admin:clear_faults() return ok(self, "DELETE", "/faults") end
function Admin:clear_events() return ok(self, "DELETE", "/events") end

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

--- The recorded EventBridge events, optionally filtered: `{ channelArn = ..., detailType = ... }`.
function Admin:events(filter)
  local query = {}
  for _, k in ipairs({ "channelArn", "detailType" }) do
    if filter and filter[k] then query[#query + 1] = k .. "=" .. urlencode(filter[k]) end
  end
  local path = "/events" .. (#query > 0 and ("?" .. table.concat(query, "&")) or "")
  return ok(self, "GET", path).events
end

--- A raw IVS API request.
-- opts: `path` ("/CreateChannel"), `body` (text, default "{}"), `method` (default POST),
-- `sign` (curl's SigV4 with the emulator's key unless `access_key_id`/`secret_access_key`
-- are given), `headers` (list of "Name: value"), `content_type` (default application/json;
-- false for none).
-- @return a table: status, headers, body (text), json (decoded or nil)
function Admin:raw(opts)
  local args = { "-X", opts.method or "POST" }
  local ctype = opts.content_type
  if ctype == nil then ctype = "application/json" end
  if ctype then args[#args + 1] = "-H"; args[#args + 1] = "content-type: " .. ctype end
  for _, h in ipairs(opts.headers or {}) do args[#args + 1] = "-H"; args[#args + 1] = h end
  if opts.sign then
    args[#args + 1] = "--aws-sigv4"
    args[#args + 1] = "aws:amz:" .. (opts.region or self.emu.region) .. ":ivs"
    args[#args + 1] = "--user"
    args[#args + 1] = (opts.access_key_id or self.emu.access_key_id) .. ":"
      .. (opts.secret_access_key or self.emu.secret_access_key)
  end
  args[#args + 1] = self.emu.url .. opts.path
  local body = opts.body
  if body == nil then body = "{}" end
  local status, headers, text = curl(args, body ~= false and body or nil)
  return { status = status, headers = headers, body = text, json = cjson.decode(text) }
end

--- A fresh EC public key in PEM, made by openssl in a temporary directory (removed again).
-- @param curve openssl curve name, default "secp384r1" (the only one IVS accepts)
function M.ec_public_key(curve)
  local p = assert(io.popen("mktemp -d 2>/dev/null"))
  local dir = p:read("*l")
  p:close()
  assert(dir and dir ~= "", "mktemp -d failed")
  local key, pub = dir .. "/key.pem", dir .. "/pub.pem"
  local okay = compat.execute(string.format("openssl ecparam -name %s -genkey -noout -out %s 2>/dev/null && "
    .. "openssl ec -in %s -pubout -out %s 2>/dev/null", q(curve or "secp384r1"), q(key), q(key), q(pub)))
  local f = okay and io.open(pub, "rb")
  local pem = f and f:read("*a")
  if f then f:close() end
  os.execute("rm -rf " .. q(dir))
  assert(pem and pem:find("BEGIN PUBLIC KEY", 1, true), "openssl could not make a key")
  return pem
end

return M
