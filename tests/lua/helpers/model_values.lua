--- Spec support: valid inputs and outputs made from the model alone, so a spec can cover
-- every operation of a service without a hand-written case per operation.
--
-- local V = require("helpers.model_values")
-- local params = V.input(mod.describe("create_stage"))     -- every member set
-- local response = V.output(mod.describe("create_stage"))  -- the body a service would send
--
-- Values follow the model's constraints (lengths, ranges, enums, list and map sizes); strings
-- with a pattern get a value in the services' real formats (ARNs of the type the pattern
-- names, session ids, stream keys, PEM keys), so the client's own validation accepts them.
local M = {}

local ACCOUNT, REGION, ID = "123456789012", "us-west-2", "abcdABCD1234"

-- The ARN a generic (resource-type-free) ARN pattern stands for, per ARN service.
local GENERIC_TYPE = { ivs = "stage", ivschat = "room" }

local PUBLIC_KEY_PEM = "-----BEGIN PUBLIC KEY-----\n"
  .. "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEsKS4N9Q4Ak8PeMHCUwnYzw0PUcmDeLQT\n"
  .. "-----END PUBLIC KEY-----\n"

-- A value for a string shape with a pattern, in the services' real formats.
local function patterned(desc)
  local p = desc.pattern
  local svc = p:match("arn:aws:([%w-]+):")
  if svc then
    if svc == "lambda" then return "arn:aws:lambda:" .. REGION .. ":" .. ACCOUNT .. ":function:review" end
    local rtype = p:match(":%[0%-9%]%+:([%w-]+)/") or GENERIC_TYPE[svc]
    if svc == "mediatailor" then rtype = "playbackConfiguration" end
    return string.format("arn:aws:%s:%s:%s:%s/%s", svc, REGION, ACCOUNT, rtype, ID)
  end
  if p:find("^st%-") then
    return ("st-" .. "a1B2c3D4e5F6g7H8i9J0k1L2m3"):sub(1, desc.min or 16)
  end
  if p:find("^rt_") then return "rt_" .. ACCOUNT .. "_" .. REGION .. "_" .. ID .. "_secretAbCd1234" end
  if p:find("BEGIN PUBLIC KEY", 1, true) then return PUBLIC_KEY_PEM end
  return nil
end

local function string_value(desc)
  if desc.enum then return desc.enum[1] end
  if desc.type == "timestamp" then return "2024-05-01T12:00:00Z" end
  local v = desc.pattern and patterned(desc)
  if v then return v end
  -- Lower-case letters and digits fit every other pattern of the models.
  local n = 6
  if desc.min and n < desc.min then n = desc.min end
  if desc.max and n > desc.max then n = desc.max end
  return ("a1b2c3d4e5f6g7h8i9j0"):rep(4):sub(1, n)
end

local function number_value(desc, float)
  local v = float and 1.5 or 1
  if desc.min and v < desc.min then v = float and desc.min + 0.5 or desc.min end
  if desc.max and v > desc.max then v = desc.max end
  return v
end

local value

local function structure_value(desc, depth, skip_located)
  local out = {}
  for _, m in ipairs(desc.members or {}) do
    if not (skip_located and m.location ~= "body") and m.name ~= "nextToken" then
      out[m.name] = value(m, depth + 1)
    end
  end
  return out
end

function value(desc, depth)
  depth = depth or 0
  local t = desc.type
  if t == "string" or t == "timestamp" then return string_value(desc) end
  if t == "integer" or t == "long" then return number_value(desc, false) end
  if t == "float" or t == "double" then return number_value(desc, true) end
  if t == "boolean" then return true end
  if t == "blob" then return "YmxvYg==" end
  if t == "list" then
    local n = desc.min and desc.min > 1 and desc.min or 1
    local out = {}
    for i = 1, n do
      local v = value(desc.element, depth + 1)
      -- Several elements of an enum list must differ (services refuse duplicates).
      if desc.element.enum and desc.element.enum[i] then v = desc.element.enum[i] end
      out[i] = v
    end
    return out
  end
  if t == "map" then
    local k = value(desc.key, depth + 1)
    return { [k] = value(desc.value, depth + 1) }
  end
  if t == "structure" then
    if depth > 8 then return {} end
    return structure_value(desc, depth, false)
  end
  error("model_values: no value for type " .. tostring(t))
end

--- Every input member of an operation description (`mod.describe(op)`), `nextToken` aside.
function M.input(d)
  local out = {}
  for _, m in ipairs(d.params) do
    if m.name ~= "nextToken" then out[m.name] = value(m, 1) end
  end
  return out
end

--- A response body for an operation: every output member bound to the body.
function M.output(d)
  local out = {}
  for _, m in ipairs(d.output) do
    if m.location == "body" and m.name ~= "nextToken" then out[m.name] = value(m, 1) end
  end
  return out
end

--- The header-bound output members of an operation with a value each: { {wire, member, v} }.
function M.output_headers(d)
  local out = {}
  for _, m in ipairs(d.output) do
    if m.location == "header" then out[#out + 1] = { m.location_name, m.name, "v-" .. m.name } end
  end
  return out
end

--- Percent-encodes as URI labels are (every byte but A-Z a-z 0-9 - . _ ~).
function M.encode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

--- The wire request an input should give: method, path, query text, JSON body table (nil
-- when nothing is sent in the body).
function M.expected_request(d, params)
  local path = d.uri:gsub("{([%w_]+)%+?}", function(label)
    for _, m in ipairs(d.params) do
      if m.location == "uri" and m.location_name == label then return M.encode(params[m.name]) end
    end
    error("model_values: no member for label " .. label)
  end)
  local query, body = {}, nil
  for _, m in ipairs(d.params) do
    local v = params[m.name]
    if v ~= nil then
      if m.location == "querystring" then
        local list = type(v) == "table" and v or { v }
        for _, item in ipairs(list) do query[#query + 1] = m.location_name .. "=" .. M.encode(tostring(item)) end
      elseif m.location == "body" then
        body = body or {}
        body[m.name] = v
      end
    end
  end
  return { method = d.method, path = path, query = table.concat(query, "&"), body = body }
end

return M
