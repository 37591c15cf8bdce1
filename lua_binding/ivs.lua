--- Amazon Interactive Video Service (IVS) from Lua.
--
-- A thin layer over the C module `ivs.core`, which signs, sends, retries, validates and
-- converts. This file normalises options, generates one method per operation from the
-- operation table that `ivs.core` exports, and adds pagination and introspection.
--
-- **Conventions**
--
-- * Parameters and results use the API's member names (`latencyMode`, `channel.arn`,
--   `streamKey.value`), exactly as in the IVS API reference.
-- * Results are plain tables. JSON objects become tables with string keys, arrays become
--   sequences, `null` becomes `nil` (an absent field; a null list element is dropped),
--   integral numbers become Lua integers (float fields of the model stay floats), booleans
--   stay booleans, timestamps stay ISO 8601 strings. An operation without output (HTTP 204)
--   returns an empty table. An empty JSON array and an empty JSON object both become `{}`;
--   `ivs.describe` says which one a field is.
-- * Parameters: the model decides how a table is sent, so an empty table is `[]` for a
--   list and `{}` for a structure or map; Lua integers are sent as JSON integers.
-- * **Expected failures return `nil, err`**: the request broke a model rule (nothing is
--   sent), no region, no credentials, a network failure, a timeout, an error from the
--   service. `err` is a table whose metatable is `ivs.Error`:
--   `kind` (`"validation"`, `"config"`, `"credentials"`, `"network"`, `"timeout"`,
--   `"service"`, `"usage"`, `"nomem"`, `"internal"`, `"cancelled"`), `code` (the service's error type
--   such as `"ResourceNotFoundException"`, or the library's own such as
--   `"ParamValidationError"`, `"NoRegion"`), `message`, `status` (HTTP status, 0 when no
--   response), `request_id` (or nil), `retryable` (boolean), `attempts` (0 when nothing
--   was sent) and `operation` (snake_case name, nil for client creation).
--   `tostring(err)` gives one line such as
--   `ResourceNotFoundException: Channel not found (status 404, request 4f3c-..., 1 attempt)`.
-- * **Misuse raises**: a non-table where a table belongs, an unknown operation name, an
--   unknown option or an option of the wrong type, a table that cannot become JSON (mixed
--   keys, a function value), a method called on a closed client.
-- * No secret (secret key, session token, stream key value) ever appears in `tostring` of a
--   client or an error, or in a log line.
--
-- **Module state**: the module sets no globals. Its only mutable state is the default
-- client behind the module-level operation functions (`ivs.create_channel{...}`), created
-- from the environment and shared config files on first use and kept for the life of the
-- module (`ivs.reset_default()` closes it); `ivs.chat` and `ivs.realtime` keep one each.
--
-- **The family**: `require("ivs.chat")` (IVS Chat) and `require("ivs.realtime")` (IVS
-- Real-Time) are built by `ivs.service_module` from this same file, with the same options
-- and conventions; their clients share the `ivs.Client` metatable and each gets the
-- operation methods of its own service.
--
-- @module ivs
-- @usage
-- local ivs = require("ivs")
-- local client <close> = ivs{ region = "us-west-2" }
-- local out, err = client:create_channel{ name = "lobby", latencyMode = "LOW" }
-- if not out then error(tostring(err)) end
-- print(out.channel.arn, out.channel.playbackUrl)

local core = require("ivs.core")

local error = error
local getmetatable = getmetatable
local ipairs = ipairs
local math_floor = math.floor
local math_type = math.type
local pairs = pairs
local rawequal = rawequal
local setmetatable = setmetatable
local sort = table.sort
local string_format = string.format
local type = type
local io_stderr = io.stderr

local ivs = {}

-- Numbers on every Lua: 5.3 and later have integers; in 5.1, LuaJIT and 5.2 every number is a
-- double, and an integer is a number with an integral value that a double holds exactly
-- (|n| < 2^53). Past 2^53 a double has already rounded what was written, so such a value is
-- refused rather than sent rounded.
local EXACT_LIMIT = 2 ^ 53
local HAS_INTEGERS = math_type ~= nil
if not HAS_INTEGERS then
  math_type = function(v)
    if type(v) ~= "number" then return nil end
    if v == math_floor(v) and v > -EXACT_LIMIT and v < EXACT_LIMIT then return "integer" end
    return "float"
  end
end

-- What a value is, for messages: "a float", "a number beyond 2^53 ..." or its type.
local function value_kind(v)
  if math_type(v) ~= "float" then return type(v) end
  if not HAS_INTEGERS and v == math_floor(v) and v - v == 0 then
    return "a number beyond 2^53 (a double cannot hold it exactly in " .. _VERSION .. ")"
  end
  return "a float"
end

--- `math.tointeger` for every Lua: the integer `v` stands for, or nil. On Lua 5.1, LuaJIT
-- and 5.2, where numbers are doubles, an integral number below 2^53 in magnitude (what a
-- double holds exactly); strings are not converted.
-- @param v any value
-- @treturn ?integer
function ivs.tointeger(v)
  if type(v) ~= "number" then return nil end
  if HAS_INTEGERS then return math.tointeger(v) end
  if math_type(v) == "integer" then return v end
  return nil
end

--- The library version, e.g. `"0.1.0"`.
ivs.VERSION = core.VERSION
--- `"ivs <version>"`, in the style of Lua's own `_VERSION`.
ivs._VERSION = "ivs " .. core.VERSION
--- The IVS API version the operation tables were generated from (`"2020-07-14"`).
ivs.API_VERSION = core.API_VERSION
--- The metatable of every error table, so `getmetatable(err) == ivs.Error` tells an ivs
-- error from any other value. Its `__tostring` gives the one-line form.
ivs.Error = core.Error
--- The metatable of clients (`ivs.Client.__name == "ivs.Client"`).
ivs.Client = core.Client
--- The metatable of the handles `Client:start` returns (`ivs.Call.__name == "ivs.Call"`).
ivs.Call = core.Call
--- The error kinds, in status order (`"ok"`, `"validation"`, ...).
ivs.kinds = core.kinds

-- The methods every client has (call, close, start, pages, ...); the generated per-operation
-- methods live in each service's own table below.
local methods = core.client_methods

-- The services of the family ("ivs", "ivschat", "ivs-realtime"), from the C core's tables:
-- each with its operation summaries, their lookup by API and by snake name, and its
-- generated client methods. One implementation serves all: `require("ivs.chat")` and
-- `require("ivs.realtime")` are `ivs.service_module` for their service. Each is built when
-- first used (see add_methods below), so loading the module costs only the services a
-- script touches; an unknown name gives nil.
local add_methods -- (svc): fills svc.methods; defined with the client methods below
local services = setmetatable({}, { __index = function(t, name)
  local s = type(name) == "string" and core.services[name]
  if not s then return nil end
  local svc = {
    name = name, api_version = s.api_version, operations = s.operations, op_by_name = {}, methods = {},
  }
  for _, op in ipairs(s.operations) do
    svc.op_by_name[op.name] = op
    svc.op_by_name[op.snake_name] = op
  end
  if add_methods then add_methods(svc) end -- (a service built before it exists gets them there)
  rawset(t, name, svc)
  return svc
end })

-- Clients share one metatable (ivs.Client); the service a client was made for picks its
-- operation methods. The service is recorded when the client is made (a weak table, so it
-- never keeps a client alive) and asked of the core only for a client made elsewhere.
local client_service = methods.service
local service_of = setmetatable({}, { __mode = "k" })

local function service_of_client(self)
  local name = service_of[self]
  if not name then
    name = client_service(self)
    service_of[self] = name
  end
  return services[name]
end

core.Client.__index = function(self, key)
  local m = methods[key]
  if m ~= nil then return m end
  local name = service_of[self] -- (inline: this runs for every operation method called)
  if name then return services[name].methods[key] end
  return service_of_client(self).methods[key]
end

-- ========================================================================================
-- Option handling
-- ========================================================================================

-- The nearest candidate for a "did you mean" (core.closest: a bounded edit distance in C, so
-- a huge bad name costs no more than a short one).
local closest = core.closest

-- Option name -> expected Lua type ("number+" = positive number up to max, "integer+" =
-- integer from min to max). The one option table is the C library's (core/src/options.c, as
-- core.options): the binding and the C library check the same names, types and ranges, so a
-- value passes all of them or none.
local OPTION_TYPES, OPTION_RANGES = {}, {}
for name, spec in pairs(core.options) do
  OPTION_TYPES[name] = spec.type
  if spec.max then OPTION_RANGES[name] = spec end
end
local CREDENTIALS_TYPES = { creds = "table", profile = "string", anonymous = "boolean" }
local CREDS_TYPES = { access_key_id = "string", secret_access_key = "string", session_token = "string" }

local function sorted_keys(t, extra)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  if extra then out[#out + 1] = extra end
  sort(out)
  return out
end

local function check_value(where, value, want)
  local ok, range_checked
  if want == "number+" then
    local range = OPTION_RANGES[where:match("[%w_]+$")]
    ok = type(value) == "number" and value > 0 and value <= (range and range.max or math.huge)
    want = "a positive number"
    if range and type(value) == "number" then
      want = string_format("a positive number of seconds up to %d", range.max)
      range_checked = true
    end
  elseif want == "integer+" then
    local range = OPTION_RANGES[where:match("[%w_]+$")]
    ok = math_type(value) == "integer" and value >= range.min and value <= range.max
    want = string_format("an integer from %d to %d", range.min, range.max)
    range_checked = true
  elseif want == "log" then
    ok = type(value) == "function" or type(value) == "boolean"
    want = "a function or a boolean"
  else
    ok = type(value) == want
    want = "a " .. want
  end
  if not ok then
    local got = type(value) == "number" and range_checked and tostring(value) or type(value)
    error(string_format("ivs: option '%s' must be %s, got %s", where, want, got), 5)
  end
end

-- Checks every key of t against the allowed table; raises naming the closest valid name.
local function check_table(prefix, t, allowed, extra)
  for k, v in pairs(t) do
    if type(k) ~= "string" then
      error(string_format("ivs: option names must be strings, got %s in %s", type(k), prefix ~= "" and prefix
        or "options"), 4)
    end
    local want = allowed[k]
    if not want and k ~= extra then
      error(string_format("ivs: unknown option '%s%s' (did you mean '%s%s'?)", prefix, k, prefix,
        closest(k, sorted_keys(allowed, extra))), 4)
    end
    if want then check_value(prefix .. k, v, want) end
  end
end

-- Turns the R-SDK style options (config = {...} or the same keys at the top level) into the
-- flat table ivs.core.new_client reads.
local function normalize_options(opts)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then
    error(string_format("bad argument #1 to 'new' (table of options expected, got %s)", type(opts)), 3)
  end
  check_table("", opts, OPTION_TYPES, "config")
  local config = opts.config
  if config ~= nil then
    if type(config) ~= "table" then
      error(string_format("ivs: option 'config' must be a table, got %s", type(config)), 3)
    end
    check_table("config.", config, OPTION_TYPES)
  end
  local merged = {}
  for k, v in pairs(config or {}) do merged[k] = v end
  for k, v in pairs(opts) do
    if k ~= "config" then
      if merged[k] ~= nil and not rawequal(merged[k], v) then
        error(string_format("ivs: option '%s' is given both at the top level and in config", k), 3)
      end
      merged[k] = v
    end
  end

  local flat = {}
  for _, k in ipairs({ "endpoint", "region", "profile", "close_connection", "timeout", "connect_timeout",
    "max_attempts", "retry_mode", "ca_bundle", "app_id", "use_fips_endpoint", "use_dualstack_endpoint",
    "max_connections",
    "anonymous", "mfa_token" }) do
    flat[k] = merged[k]
  end
  -- s3_force_path_style: accepted for the R SDK's config shape; IVS has no buckets, so it has
  -- no effect.
  local creds_cfg = merged.credentials
  if creds_cfg ~= nil then
    check_table("credentials.", creds_cfg, CREDENTIALS_TYPES)
    if creds_cfg.profile ~= nil then
      if flat.profile ~= nil and flat.profile ~= creds_cfg.profile then
        error("ivs: option 'profile' is given twice with different values", 3)
      end
      flat.profile = creds_cfg.profile
    end
    if creds_cfg.anonymous ~= nil then flat.anonymous = creds_cfg.anonymous end
    local creds = creds_cfg.creds
    if creds ~= nil then
      check_table("credentials.creds.", creds, CREDS_TYPES)
      if (creds.access_key_id == nil) ~= (creds.secret_access_key == nil) then
        error("ivs: option 'credentials.creds' needs both access_key_id and secret_access_key", 3)
      end
      flat.access_key_id = creds.access_key_id
      flat.secret_access_key = creds.secret_access_key
      flat.session_token = creds.session_token
    end
  end
  local log = merged.log
  if log == true then
    flat.log = function(line) io_stderr:write(line, "\n") end
  elseif type(log) == "function" then
    flat.log = log
  end
  return flat
end

-- ========================================================================================
-- Clients
-- ========================================================================================

-- A client of service svc from the flat options (nil, err when the core refuses them).
local function new_client(flat, svc)
  flat.service = svc.name
  local c, err = core.new_client(flat)
  if c then service_of[c] = svc.name end
  return c, err
end

local function check_params(params, name, level)
  if params ~= nil and type(params) ~= "table" then
    error(string_format("bad argument #1 to '%s' (table of parameters expected, got %s)", name,
      type(params)), level)
  end
end

-- ========================================================================================
-- The module-level API of a service: new, a default client, one function per operation,
-- introspection. `ivs` gets it for low-latency IVS; `ivs.service_module` builds the same for
-- the other services.
-- ========================================================================================

local function install_service_api(mod, svc)
  -- Creates a client (documented below, at `new`).
  mod.new = function(opts)
    return new_client(normalize_options(opts), svc)
  end

  local mt = getmetatable(mod) or {}
  -- `ivs(opts)` is `ivs.new(opts)`.
  mt.__call = function(_, opts) return new_client(normalize_options(opts), svc) end
  setmetatable(mod, mt)

  local default_client

  local function get_default()
    if default_client and not default_client:is_closed() then return default_client end
    local c, err = new_client({}, svc)
    if not c then return nil, err end
    default_client = c
    return c
  end

  mod.default_client = function() return get_default() end

  mod.reset_default = function()
    if default_client then default_client:close() end
    default_client = nil
  end

  for _, op in ipairs(svc.operations) do
    local api_name, snake = op.name, op.snake_name
    -- Module-level form of each operation: `ivs.create_channel{...}` on the default client.
    -- Returns nil, err when the default client cannot be built (no region...).
    mod[snake] = function(params)
      check_params(params, snake, 3)
      local c, err = get_default()
      if not c then return nil, err end
      return c:call(api_name, params)
    end
  end

  mod.call = function(operation, params)
    local c, err = get_default()
    if not c then return nil, err end
    return c:call(operation, params)
  end

  mod.operations = function()
    local out = {}
    for _, op in ipairs(svc.operations) do out[#out + 1] = op.snake_name end
    sort(out)
    return out
  end

  mod.describe = function(operation)
    if type(operation) ~= "string" then
      error(string_format("bad argument #1 to 'describe' (operation name expected, got %s)", type(operation)), 2)
    end
    return core.describe(operation, svc.name)
  end

  mod.API_VERSION = svc.api_version
  mod.SERVICE = svc.name
  return mod
end

--- Creates a client.
--
-- Options mirror the R SDK's `paws::ivs(config, credentials, endpoint, region)`: the keys
-- may sit inside `config = {...}` or at the top level (not both for the same key).
--
-- * `region` (string), `endpoint` (full URL; wins over everything), `profile` (string)
-- * `credentials`: a table with `creds = { access_key_id, secret_access_key, session_token }`,
--   `profile = "name"` or `anonymous = true`
-- * `timeout` (seconds per attempt), `connect_timeout` (seconds), `close_connection`
--   (boolean: no connection reuse)
-- * `max_attempts` (integer >= 1, total attempts), `retry_mode` (`"standard"`, `"legacy"` or
--   `"adaptive"`: standard plus a client-side rate limiter)
-- * `max_connections` (integer >= 1, default 32): connections open at once for calls made
--   with `Client:start` and `Client:run_all`
-- * `log`: a function receiving `(line, level)` for each redacted log line (level is
--   `"error"`, `"warn"`, `"info"` or `"debug"`), or `true` for stderr
-- * `ca_bundle`, `app_id` (added to the User-Agent), `use_fips_endpoint`,
--   `use_dualstack_endpoint` (booleans)
-- * `mfa_token`: `function(serial) return "123456" end`, asked for the current code of the
--   MFA device `serial` whenever an assume-role profile with `mfa_serial` assumes its role
--   (first use and each refresh); without it such a profile fails with `MfaTokenRequired`
-- * `s3_force_path_style`: accepted for compatibility with the R SDK's config; it has no
--   effect on IVS.
--
-- Anything unset is resolved the standard AWS way (environment, then shared config files).
-- An unknown option name or a value of the wrong type raises (naming the option and, for
-- unknown names, the closest valid one). A configuration the core rejects (no region, a bad
-- endpoint...) returns `nil, err`. `ivs(opts)` is the same as `ivs.new(opts)`.
-- @tparam[opt] table opts options as above
-- @treturn ivs.Client|nil the client
-- @treturn ivs.Error|nil the error when the client could not be created
-- @usage local c, err = ivs.new{ region = "us-west-2", credentials = { profile = "media" } }
-- @usage local c = ivs{ config = { region = "eu-west-1", timeout = 10 } }
-- @function new

--- The default client behind the module-level functions, created on first use from the
-- environment and shared config files (region, credentials, endpoint...).
-- @treturn ivs.Client|nil the client
-- @treturn ivs.Error|nil why it could not be created (it is tried again next time)
-- @function default_client

--- Closes and forgets the default client; the next module-level call builds a new one
-- (useful after changing the environment).
-- @function reset_default

--- Calls an operation on the default client by name.
-- @tparam string operation API or snake_case name
-- @tparam[opt] table params
-- @treturn table|nil the result
-- @treturn ivs.Error|nil the error
-- @function call

--- The snake_case names of every operation, sorted.
-- @treturn {string,...} e.g. `{"batch_get_channel", ..., "update_playback_restriction_policy"}`
-- @function operations

--- Describes an operation from the model.
--
-- The result has `name`, `snake_name`, `summary` (one sentence saying what the operation
-- does, ours, not AWS's documentation), `method`, `uri`, `success_status`, `readonly`,
-- `idempotent`, `paginated`, `result_key`, and `params` / `output`: sequences of member
-- descriptions. A member description has `name`, `type` (`"string"`, `"integer"`, `"long"`,
-- `"float"`, `"double"`, `"boolean"`, `"timestamp"`, `"blob"`, `"structure"`, `"list"`,
-- `"map"`), `required`, `location` (`"body"`, `"uri"`, `"querystring"`, `"header"`),
-- `location_name` (the wire name for non-body members), `shape` (the model's shape name),
-- and when the model says so `min`, `max` (length, size or range), `enum` (sequence of
-- strings), `pattern`, `sensitive`; structures have `members`, lists an `element`, maps a
-- `key` and a `value` description.
-- @tparam string operation snake_case or API name
-- @treturn table the description (a fresh table each call)
-- @usage for _, p in ipairs(ivs.describe("create_channel").params) do print(p.name, p.type) end
-- @function describe

install_service_api(ivs, services.ivs)

--- The API name of the service this module calls (`"ivs"`; `"ivschat"` for `ivs.chat`,
-- `"ivs-realtime"` for `ivs.realtime`).
-- @field SERVICE

--- The API names of the services of the family, sorted: `{"ivs", "ivs-realtime", "ivschat"}`.
-- @treturn {string,...}
function ivs.services()
  local out = {}
  for i, name in ipairs(core.service_names) do out[i] = name end
  return out
end

local service_modules = { ivs = ivs }

--- The module of a service of the family, with the same conventions as `ivs` itself:
-- `new` (the same options), `default_client`, `reset_default`, one function per operation
-- on the default client, `call`, `operations`, `describe`, `API_VERSION`, `SERVICE`, and the
-- shared `Error`, `Client`, `Call`, `kinds`, `is_error`, `is_client`, `json`.
-- `require("ivs.chat")` is `ivs.service_module("ivschat")` and `require("ivs.realtime")`
-- adds self-signed participant tokens to `ivs.service_module("ivs-realtime")`.
-- An unknown name raises.
-- @tparam string name `"ivs"`, `"ivschat"` or `"ivs-realtime"`
-- @treturn table the module (the same table each time)
function ivs.service_module(name)
  local svc = type(name) == "string" and services[name]
  if not svc then
    error(string_format("bad argument #1 to 'service_module' (unknown service %s; expected one of %s)",
      type(name) == "string" and ("'" .. name .. "'") or type(name), table.concat(core.service_names, ", ")), 2)
  end
  local mod = service_modules[name]
  if mod then return mod end
  mod = {
    VERSION = ivs.VERSION, _VERSION = ivs._VERSION, Error = ivs.Error, Client = ivs.Client,
    Call = ivs.Call, kinds = ivs.kinds, is_error = ivs.is_error, is_client = ivs.is_client, json = ivs.json,
  }
  install_service_api(mod, svc)
  service_modules[name] = mod
  return mod
end

-- ========================================================================================
-- JSON
-- ========================================================================================

--- A plain JSON encoder and decoder (no model involved), over the cJSON the core links.
--
-- Used by the `ivs` command line tool; handy for scripts that read or write JSON files.
--
-- * **Encoding**: a sequence (keys 1..n) becomes an array; a table with only string keys
--   becomes an object, written with its keys sorted (byte order), so equal values always give
--   the same text; an empty table becomes `{}`, or `[]` when marked with `ivs.json.array`.
--   Integers are written exactly, floats with up to 17 significant digits (enough to read
--   back the same number); strings are written byte for byte with `"`, the backslash and control
--   characters escaped (give UTF-8). Anything else (mixed keys, a function, NaN, a table that
--   contains itself) raises.
-- * **Decoding**: objects become tables with string keys, arrays become sequences marked
--   with `ivs.json.array` (so `[]` encodes back as `[]`), integral numbers become integers
--   (numbers pass through a double: integers beyond 2^53 lose precision), `null` becomes
--   `nil` (an object member is absent, an array element is dropped), unless the options say
--   `{ null = ivs.json.null }`: then every `null` becomes that value and nothing is dropped.
--   Text that is not JSON gives `nil, err` with `err.code == "InvalidJSON"` and the line and
--   column in the message (never a quote of the text).
-- @table json
-- @field encode `ivs.json.encode(value [, pretty])` returns the JSON text; `pretty` indents
--   with four spaces, one member or element per line; `ivs.json.null` encodes as `null`
-- @field decode `ivs.json.decode(text [, options])` returns the value, or `nil, err`;
--   `options.null` is the value JSON `null` becomes (default: left out)
-- @field array `ivs.json.array([t])` marks `t` (default a new table) as an array and returns
--   it, so it encodes as `[]` even when empty
-- @field null the JSON null sentinel (a light userdata, the same value in every Lua state):
--   where a table must hold a null (an array element, a query result), this stands for it
-- @usage
-- local text = ivs.json.encode({ name = "lobby", tags = {} }, true)
-- local value, err = ivs.json.decode('{"channels":[],"nextToken":null}')
-- print(ivs.json.encode(value))   --> {"channels":[]}
ivs.json = {
  encode = core.json_encode,
  decode = core.json_decode,
  array = function(t)
    if t ~= nil and type(t) ~= "table" then
      error(string_format("bad argument #1 to 'array' (table expected, got %s)", type(t)), 2)
    end
    return setmetatable(t or {}, core.json_array_mt)
  end,
  null = core.json_null,
}

local query_engine -- made on first use: most scripts never query

--- Searches a value with a JMESPath expression, as the AWS CLI's query option does.
--
-- The `ivs` command's `--query` uses it.
-- The whole JMESPath language (jmespath.org): `channels[?latencyMode=='LOW'].arn`,
-- `length(channels)`, `sort_by(items, &name)[-1]`, slices, pipes, multi-selects, literals and
-- the built-in functions. `data` is any value this module returns or `ivs.json.decode` gives
-- (decode with `{ null = ivs.json.null }` to keep nulls a query can see).
-- @param data the value to search
-- @tparam string expression the JMESPath expression
-- @return the result; `nil` when it is JSON null (a missing key, an empty projection's
--   member, `null` itself). A null inside a returned array or object is `ivs.json.null`.
-- @treturn ivs.Error|nil for a bad expression (`code` "InvalidQuery", kind "validation")
--   or an error while evaluating it (`code` "QueryError", e.g. a function given the wrong
--   type); `err.query_error` names the JMESPath error kind ("syntax", "invalid-type",
--   "invalid-arity", "invalid-value", "unknown-function")
-- @usage
-- local arns = ivs.query(out, "channels[?latencyMode=='LOW'].arn")
function ivs.query(data, expression)
  if type(expression) ~= "string" then
    error(string_format("bad argument #2 to 'query' (string expected, got %s)", type(expression)), 2)
  end
  if not query_engine then
    local null = core.json_null
    query_engine = require("ivs.query").new({
      null = null,
      array_mt = core.json_array_mt,
      encode = core.json_encode,
      decode = function(text)
        local v, err = core.json_decode(text, { null = null })
        if v == nil and err then error(err, 0) end
        return v
      end,
    })
  end
  local protect = require("ivs.query").protect
  local ok, ast, message = protect(query_engine.compile, query_engine, expression)
  local kind = ast
  if ok then
    local result
    ok, result, message = protect(query_engine.search, query_engine, ast, data)
    if ok then
      if result == core.json_null then return nil end
      return result
    end
    kind = result
  end
  return nil, setmetatable({
    kind = "validation",
    code = kind == "syntax" and "InvalidQuery" or "QueryError",
    query_error = kind,
    message = message,
    status = 0,
    retryable = false,
    attempts = 0,
  }, ivs.Error)
end

--- Whether a value is an error returned by this module.
-- @param v any value
-- @treturn boolean
function ivs.is_error(v)
  return type(v) == "table" and getmetatable(v) == ivs.Error
end

--- Whether a value is a client.
-- @param v any value
-- @treturn boolean
function ivs.is_client(v)
  return core.is_client(v)
end

--- Methods of a client (`ivs.Client`).
--
-- Besides the methods below, a client has one method per IVS operation, named in
-- snake_case (`client:create_channel{...}`, `client:list_tags_for_resource{...}`): each
-- takes one table of parameters (or nothing) and returns the result table, or `nil, err`.
-- The implemented-in-C methods are `call`, `close`, `is_closed`, `region`, `endpoint`, `service`,
-- `identity`, `whoami`, `start`, `poll`, `in_flight` and `cancel_all`.
-- Release a client with `client:close()` or `local c <close> = ivs.new{...}`; garbage
-- collection closes it too, but only eventually.
-- @type Client

--- Calls an operation by its API or snake_case name.
-- @function Client:call
-- @tparam string operation `"CreateChannel"` or `"create_channel"`
-- @tparam[opt] table params the input members
-- @treturn table|nil the result
-- @treturn ivs.Error|nil the error

--- Closes the client (idempotent); later method calls raise.
-- @function Client:close

--- Whether the client has been closed.
-- @function Client:is_closed
-- @treturn boolean

--- The resolved region.
-- @function Client:region
-- @treturn string

--- The resolved endpoint URL.
-- @function Client:endpoint
-- @treturn string

--- The API name of the client's service: `"ivs"`, `"ivschat"` or `"ivs-realtime"`.
-- @function Client:service
-- @treturn string

--- Who the client is: where its settings and credentials come from (resolving the
-- credentials now if needed). Fields: `profile`, `profile_source`, `region`,
-- `region_source`, `endpoint`, `endpoint_source`, `config_file`, `credentials_file`,
-- `credential_provider` (`"assume-role"`, `"sso"`, `"environment"`...), `credential_source`
-- (the profile, file or role), `access_key_id` (all but the last four characters masked),
-- `session_token` (boolean), `expires_at` (ISO 8601, absent for long-term keys). When no
-- credentials resolve, `credential_provider` is absent and `credential_error_code` /
-- `credential_error` say why. Never contains a secret.
-- @function Client:identity
-- @treturn table|nil the description
-- @treturn ivs.Error|nil the error

--- Asks STS who the credentials belong to (GetCallerIdentity, signed with them).
-- @function Client:whoami
-- @treturn table|nil `{ UserId = ..., Account = ..., Arn = ... }`
-- @treturn ivs.Error|nil the error

local function check_self(self, name)
  if not core.is_client(self) then
    error(string_format("bad argument #1 to '%s' (ivs.Client expected, got %s; use client:%s{...})",
      name, type(self), name), 3)
  end
end


do
  -- The core's Client:call. Named `call` so that debug.getinfo names it as before (a traceback,
  -- hostile_spec's "inside a call").
  local call = methods.call

  function add_methods(svc)
    local svc_name = svc.name
    for _, op in ipairs(svc.operations) do
      local api_name, snake = op.name, op.snake_name
      svc.methods[snake] = function(self, params)
        -- A client of this service (only clients are keys of service_of) goes straight to the
        -- core's call; anything else takes the checks and the call by name, and raises what
        -- they raise (a client of another service: the core's unknown operation).
        if service_of[self] ~= svc_name then
          check_self(self, snake)
          check_params(params, snake, 3)
          return self:call(api_name, params)
        end
        if params ~= nil and type(params) ~= "table" then check_params(params, snake, 3) end
        return call(self, api_name, params)
      end
    end
  end
end
for _, svc in pairs(services) do add_methods(svc) end -- the ones built so far (ivs)

local function find_paginated(self, name, fname)
  if type(name) ~= "string" then
    error(string_format("bad argument #1 to '%s' (operation name expected, got %s)", fname, type(name)), 3)
  end
  local svc = service_of_client(self)
  local op = svc.op_by_name[name]
  if not op then
    local names = {}
    for _, o in ipairs(svc.operations) do names[#names + 1] = o.snake_name end
    error(string_format("bad argument #1 to '%s' (unknown operation '%s'; did you mean '%s'?)", fname, name,
      closest(name, names)), 3)
  end
  if not op.paginated then
    error(string_format("bad argument #1 to '%s' (%s is not paginated)", fname, op.snake_name), 3)
  end
  return op
end

local function check_limit(opts, key, fname)
  local v = opts[key]
  if v ~= nil and (math_type(v) ~= "integer" or v < 1) then
    error(string_format("bad argument #3 to '%s' (%s must be an integer >= 1)", fname, key), 3)
  end
  return v
end

local function page_iterator(self, op, params, max_pages)
  local base = {}
  for k, v in pairs(params or {}) do base[k] = v end
  local token = base.nextToken
  local seen = {}
  local done = false
  local count = 0
  return function()
    if done then return nil end
    if max_pages and count >= max_pages then
      done = true
      return nil
    end
    base.nextToken = token
    local page, err = self:call(op.name, base)
    if not page then
      done = true
      error(err, 0)
    end
    count = count + 1
    local next_token = page.nextToken
    if next_token == nil or next_token == "" or seen[next_token] then
      -- The last page, or the service handed back a token it already gave (it would loop).
      done = true
    else
      seen[next_token] = true
      token = next_token
    end
    return page
  end
end

--- Iterates over the pages of a paginated operation.
--
-- Sends the request with `params` (not modified), then again with each `nextToken` the
-- service returns, and stops when a page has no (or an empty) `nextToken`, or repeats a
-- token already seen. A failing page raises its `ivs.Error` table from the iterator (catch it
-- with `pcall`). Every operation with a `nextToken` works, including `list_stream_sessions`
-- and `list_playback_restriction_policies`.
-- @tparam string operation snake_case or API name of a paginated operation
-- @tparam[opt] table params the input members (`maxResults` is the page size)
-- @tparam[opt] table opts `max_pages` (integer): stop after that many pages
-- @return an iterator yielding each page (the operation's result table)
-- @function Client:pages
-- @usage for page in client:pages("list_channels", { maxResults = 50 }) do print(#page.channels) end
function methods:pages(operation, params, opts)
  check_self(self, "pages")
  local op = find_paginated(self, operation, "pages")
  check_params(params, "pages", 3)
  opts = opts or {}
  return page_iterator(self, op, params, check_limit(opts, "max_pages", "pages"))
end

--- Iterates over the items of a paginated operation, across pages.
--
-- Yields each element of the operation's result list (`channels` for list_channels,
-- `streamSessions` for list_stream_sessions, ...), fetching pages as `pages` does; a failing
-- page raises its `ivs.Error`.
-- @tparam string operation snake_case or API name of a paginated operation
-- @tparam[opt] table params the input members
-- @tparam[opt] table opts `max_items` (integer): stop after that many items;
--   `max_pages` as for `pages`
-- @return an iterator yielding each item
-- @function Client:items
-- @usage for ch in client:items("list_channels") do print(ch.arn, ch.name) end
function methods:items(operation, params, opts)
  check_self(self, "items")
  local op = find_paginated(self, operation, "items")
  check_params(params, "items", 3)
  opts = opts or {}
  local max_items = check_limit(opts, "max_items", "items")
  local key = op.result_key
  if not key then
    error(string_format("bad argument #1 to 'items' (%s has no result list)", op.snake_name), 2)
  end
  local next_page = page_iterator(self, op, params, check_limit(opts, "max_pages", "items"))
  local list, i, count = nil, 0, 0
  return function()
    if max_items and count >= max_items then return nil end
    while true do
      if list and i < #list then
        i = i + 1
        count = count + 1
        return list[i]
      end
      local page = next_page()
      if not page then return nil end
      list, i = page[key] or {}, 0
      if type(list) ~= "table" then
        -- The service broke the model: report it as any other failing page would be.
        error(setmetatable({ kind = "internal", code = "InvalidResponse", status = 0, retryable = false,
          attempts = 0, operation = op.snake_name,
          message = string_format("%s: the response's '%s' is a %s, not a list", op.snake_name, key, type(list)) },
          core.Error), 0)
      end
    end
  end
end

-- ========================================================================================
-- Non-blocking calls
-- ========================================================================================

--- Starts a call without waiting for it (for game loops, UIs and other event loops).
--
-- The call goes through the same steps as `Client:call` (validation, signing, retries with
-- backoff, error parsing); `Client:poll` moves it forward. Many calls may be in flight on one
-- client; connections are kept alive and shared, at most `max_connections` at once (client
-- option, default 32; further calls queue). Backoffs between retries are timers checked by
-- `poll`, so nothing ever sleeps. The first attempt of a client resolves its credentials,
-- which may block once for a credential process or instance metadata.
--
-- A request that breaks a model rule returns `nil, err` at once (nothing is sent or queued);
-- misuse raises as for `call`. Every later failure is reported by the handle's `result`.
-- Closing the client cancels its calls in flight (their `result` is `nil, err` with
-- `err.kind == "cancelled"`). The handle keeps its client alive.
-- @function Client:start
-- @tparam string operation `"get_channel"` or `"GetChannel"`
-- @tparam[opt] table params the input members
-- @treturn ivs.Call|nil the call in flight
-- @treturn ivs.Error|nil the validation error
-- @usage
-- local call = client:start("get_channel", { arn = arn })
-- -- once per frame:
-- client:poll(0)
-- if call:done() then local out, err = call:result() end

--- Moves the client's calls forward: sends, receives, runs retries whose backoff is over.
-- Returns as soon as at least one call completed, when none is in flight, or after
-- `timeout_ms` milliseconds (default 0: never waits; a negative value waits until a call
-- completes).
-- @function Client:poll
-- @tparam[opt] integer timeout_ms
-- @treturn integer how many calls are still in flight

--- How many calls started with `start` have not completed.
-- @function Client:in_flight
-- @treturn integer

--- Cancels every call in flight; each completes at once with `kind == "cancelled"`
-- (a request already sent may still take effect on the service).
-- @function Client:cancel_all

--- Runs many calls concurrently and waits for all of them.
--
-- Starts up to `concurrency` calls at once on this client and polls until every one has
-- completed. Each entry of `calls` is `{ operation, params }`. The result has one entry per
-- call, in the same order: `{ result = table }` on success or `{ err = ivs.Error }`
-- (validation errors included: a bad entry does not stop the others). An unknown operation
-- or a non-table entry raises before anything starts.
-- @function Client:run_all
-- @tparam table calls a sequence of `{ operation, params }`
-- @tparam[opt] table opts `concurrency` (integer >= 1, default 32)
-- @treturn table a sequence of `{ result = ..., err = ... }`
-- @usage
-- local out = client:run_all({ { "get_channel", { arn = a } }, { "get_channel", { arn = b } } })
-- for i, r in ipairs(out) do print(i, r.result and r.result.channel.name or tostring(r.err)) end
function methods:run_all(calls, opts)
  check_self(self, "run_all")
  if type(calls) ~= "table" then
    error(string_format("bad argument #1 to 'run_all' (table of calls expected, got %s)", type(calls)), 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error(string_format("bad argument #2 to 'run_all' (table of options expected, got %s)", type(opts)), 2)
  end
  opts = opts or {}
  for k in pairs(opts) do
    if k ~= "concurrency" then
      error(string_format("bad argument #2 to 'run_all' (unknown option '%s'; did you mean 'concurrency'?)",
        tostring(k)), 2)
    end
  end
  local concurrency = opts.concurrency or 32
  if math_type(concurrency) ~= "integer" or concurrency < 1 then
    error("bad argument #2 to 'run_all' (concurrency must be an integer >= 1)", 2)
  end
  local n = #calls
  local op_by_name = service_of_client(self).op_by_name
  for i = 1, n do
    local entry = calls[i]
    if type(entry) ~= "table" or type(entry[1]) ~= "string" or not op_by_name[entry[1]] then
      error(string_format("bad argument #1 to 'run_all' (entry %d must be { operation, params } with a known "
        .. "operation)", i), 2)
    end
    if entry[2] ~= nil and type(entry[2]) ~= "table" then
      error(string_format("bad argument #1 to 'run_all' (entry %d: params must be a table, got %s)", i,
        type(entry[2])), 2)
    end
  end

  local results, running = {}, {}
  local next_i, finished = 1, 0
  while finished < n do
    while #running < concurrency and next_i <= n do
      local call, err = self:start(calls[next_i][1], calls[next_i][2])
      if call then
        running[#running + 1] = { call = call, index = next_i }
      else
        results[next_i] = { err = err }
        finished = finished + 1
      end
      next_i = next_i + 1
    end
    if #running > 0 then
      self:poll(-1)
      local still = {}
      for _, r in ipairs(running) do
        if r.call:done() then
          local out, err = r.call:result()
          results[r.index] = out and { result = out } or { err = err }
          finished = finished + 1
        else
          still[#still + 1] = r
        end
      end
      running = still
    end
  end
  return results
end

--- Handles of calls in flight (`ivs.Call`), as `Client:start` returns them.
-- @type Call

--- Whether the call has completed (successfully or not).
-- @function Call:done
-- @treturn boolean

--- The outcome of a completed call, as `Client:call` returns it: the result table, or
-- `nil, err`. Raises while the call is still in flight.
-- @function Call:result
-- @treturn table|nil the result
-- @treturn ivs.Error|nil the error

--- The call's operation, in snake_case.
-- @function Call:operation
-- @treturn string

--- Playback tokens and request signing.
--
-- Functions of the module (`ivs.playback_token{...}`), not methods of a client: they need
-- no client and send nothing.
-- @section signing

-- ========================================================================================
-- Playback tokens (private channels)
-- ========================================================================================

-- Option name -> Lua type for ivs.playback_token.
local TOKEN_OPTION_TYPES = {
  private_key = "string", channel_arn = "string", expires_in = "integer", expires_at = "integer",
  now = "integer", access_control_allow_origin = "string", strict_origin_enforcement = "boolean",
  single_use_uuid = "string", viewer_id = "string", viewer_session_version = "integer",
  maximum_resolution = "string",
}

--- Makes a playback authorization token for a private channel (`authorized = true`).
--
-- The token is a JWT signed ES384 with the private half of a playback key pair whose public
-- half was given to `import_playback_key_pair`. Signing happens locally; nothing is sent and
-- no client is needed. Give the token to the player with `ivs.playback_url`.
--
-- Options (IVS claim in brackets):
--
-- * `private_key` (required): PEM text of an EC P-384 private key, as made by
--   `openssl ecparam -name secp384r1 -genkey -noout` (SEC1 or unencrypted PKCS#8).
-- * `channel_arn` (required) [`aws:channel-arn`].
-- * `expires_in` seconds from now, or `expires_at` Unix time in seconds (one of them
--   required) [`exp`]. At most 600 s ahead when `single_use_uuid` or `viewer_id` is set.
-- * `access_control_allow_origin` [`aws:access-control-allow-origin`]: comma-separated
--   origins.
-- * `strict_origin_enforcement` (boolean) [`aws:strict-origin-enforcement`]: then at most
--   5 origins.
-- * `single_use_uuid` [`aws:single-use-uuid`].
-- * `viewer_id` (1 to 40 characters, not PII) [`aws:viewer-id`], so the session can be
--   revoked with `start_viewer_session_revocation`.
-- * `viewer_session_version` (integer >= 0, needs `viewer_id`) [`aws:viewer-session-version`].
-- * `maximum_resolution`: `"SD"`, `"HD"` or `"FULL_HD"` [`aws:maximum-resolution`].
-- * `now`: the current Unix time to check against (default `os.time()`), for tests.
--
-- Invalid claims give `nil, err` with `err.code == "InvalidPlaybackTokenClaims"` (the message
-- names every claim at fault); a key that is not a P-384 private key gives
-- `"InvalidPrivateKey"` (the message never quotes the key). Unknown options and options of
-- the wrong type raise.
-- @tparam table opts
-- @treturn string|nil the token
-- @treturn ivs.Error|nil the error
-- @usage
-- local token = assert(ivs.playback_token{ private_key = pem, channel_arn = channel.arn,
--   expires_in = 300, viewer_id = "player-7" })
-- local url = ivs.playback_url(channel.playbackUrl, token)
function ivs.playback_token(opts)
  if type(opts) ~= "table" then
    error(string_format("bad argument #1 to 'playback_token' (table of options expected, got %s)", type(opts)), 2)
  end
  for k, v in pairs(opts) do
    local want = type(k) == "string" and TOKEN_OPTION_TYPES[k]
    if not want then
      error(string_format("ivs: unknown playback_token option '%s' (did you mean '%s'?)", tostring(k),
        closest(tostring(k), sorted_keys(TOKEN_OPTION_TYPES))), 2)
    end
    local ok = want == "integer" and math_type(v) == "integer" or want ~= "integer" and type(v) == want
    if not ok then
      error(string_format("ivs: playback_token option '%s' must be a%s %s, got %s", k,
        want == "integer" and "n" or "", want, value_kind(v)), 2)
    end
  end
  if opts.private_key == nil then
    error("ivs: playback_token needs 'private_key' (PEM text of the P-384 private key)", 2)
  end
  if opts.expires_in ~= nil and opts.expires_at ~= nil then
    error("ivs: playback_token takes 'expires_in' or 'expires_at', not both", 2)
  end
  local now = opts.now or os.time()
  return core.playback_token(opts.private_key, {
    channel_arn = opts.channel_arn,
    expires_at = opts.expires_at or (opts.expires_in and now + opts.expires_in),
    now = now,
    access_control_allow_origin = opts.access_control_allow_origin,
    strict_origin_enforcement = opts.strict_origin_enforcement,
    single_use_uuid = opts.single_use_uuid,
    viewer_id = opts.viewer_id,
    viewer_session_version = opts.viewer_session_version,
    maximum_resolution = opts.maximum_resolution,
  })
end

--- Adds a playback token to a channel's `playbackUrl`, as its `token` query parameter.
--
-- Uses `?token=` or `&token=` as the URL requires, keeps any fragment last, and replaces a
-- `token` parameter already present (so a URL can be refreshed with a new token).
-- @tparam string playback_url the channel's `playbackUrl`
-- @tparam string token from `ivs.playback_token`
-- @treturn string|nil the URL to give the player
-- @treturn ivs.Error|nil the error (only when out of memory)
function ivs.playback_url(playback_url, token)
  if type(playback_url) ~= "string" or playback_url == "" then
    error(string_format("bad argument #1 to 'playback_url' (URL expected, got %s)", type(playback_url)), 2)
  end
  if type(token) ~= "string" or token == "" then
    error(string_format("bad argument #2 to 'playback_url' (token expected, got %s)", type(token)), 2)
  end
  return core.playback_url(playback_url, token)
end


-- ========================================================================================
-- SigV4 signing for requests built by hand
-- ========================================================================================

-- Option name -> Lua type for ivs.sign and ivs.presign.
local SIGN_OPTION_TYPES = {
  method = "string", url = "string", headers = "table", body = "string", region = "string",
  service = "string", credentials = "table", time = "integer",
}

local function sign_options(fname, opts, extra)
  if type(opts) ~= "table" then
    error(string_format("bad argument #1 to '%s' (table of options expected, got %s)", fname, type(opts)), 3)
  end
  for k, v in pairs(opts) do
    local want = type(k) == "string" and (SIGN_OPTION_TYPES[k] or (k == extra and "integer"))
    if not want then
      error(string_format("ivs: unknown %s option '%s' (did you mean '%s'?)", fname, tostring(k),
        closest(tostring(k), sorted_keys(SIGN_OPTION_TYPES, extra))), 3)
    end
    local ok = want == "integer" and math_type(v) == "integer" or want ~= "integer" and type(v) == want
    if not ok then
      error(string_format("ivs: %s option '%s' must be a%s %s, got %s", fname, k,
        want == "integer" and "n" or "", want, value_kind(v)), 3)
    end
  end
  local creds = opts.credentials
  if creds == nil then
    error(string_format("ivs: %s needs 'credentials' ({ access_key_id =, secret_access_key = })", fname), 3)
  end
  for k, v in pairs(creds) do
    if not CREDS_TYPES[k] then
      error(string_format("ivs: unknown %s option 'credentials.%s' (did you mean 'credentials.%s'?)", fname,
        tostring(k), closest(tostring(k), sorted_keys(CREDS_TYPES))), 3)
    end
    if type(v) ~= "string" then
      error(string_format("ivs: %s option 'credentials.%s' must be a string, got %s", fname, k, type(v)), 3)
    end
  end
  return {
    method = opts.method, url = opts.url, headers = opts.headers, body = opts.body,
    region = opts.region, service = opts.service, time = opts.time,
    access_key_id = creds.access_key_id, secret_access_key = creds.secret_access_key,
    session_token = creds.session_token,
  }
end

--- Signs a request you send yourself (AWS Signature Version 4, header mode).
--
-- For requests this module does not make for you: another AWS service's endpoint, a proxy,
-- or your own HTTP stack. The signature covers the method, the URL's path and query, the
-- body and every header in `headers` (plus Host, taken from the URL when `headers` has
-- none). Send the request with exactly those headers, the body unchanged, and the ones
-- returned here added. Signing is local and keeps the derived key of the last few
-- (secret, day, region, service) combinations, so signing in a loop is cheap.
--
-- Options:
--
-- * `method` (required): `"GET"`, `"POST"`...
-- * `url` (required): the absolute URL as sent, path and query already percent-encoded.
-- * `headers`: table of header name -> string value that will be sent and signed.
-- * `body`: the body as sent (default empty).
-- * `region` (required), `service` (default `"ivs"`).
-- * `credentials` (required): `{ access_key_id =, secret_access_key =, session_token = }`.
-- * `time`: the signing time, Unix seconds (default now).
--
-- Problems the signer finds (a missing method, a bad URL, a header the signer sets itself)
-- give `nil, err` with `err.code == "InvalidArgument"`. Unknown options and options of the
-- wrong type raise.
-- @tparam table opts
-- @treturn table|nil headers to add: `X-Amz-Date`, `Authorization` and, with a session
--   token, `X-Amz-Security-Token`
-- @treturn ivs.Error|nil the error
-- @usage
-- local add = assert(ivs.sign{ method = "POST", url = "https://ivs.us-west-2.amazonaws.com/GetChannel",
--   headers = { ["Content-Type"] = "application/json" }, body = body, region = "us-west-2",
--   credentials = { access_key_id = id, secret_access_key = secret } })
-- for name, value in pairs(add) do request_headers[name] = value end
function ivs.sign(opts)
  return core.sign(sign_options("sign", opts))
end

--- Presigns a URL (AWS Signature Version 4, query mode).
--
-- The URL works without any header but Host for `expires` seconds. The options are those of
-- `ivs.sign` (only Host is signed, so `headers` matters only for a `Host` override, and the
-- body is not signed) plus `expires`: seconds the URL stays valid, 1 to 604800 (default 900).
-- @tparam table opts
-- @treturn string|nil the URL with `X-Amz-*` parameters added to its query
-- @treturn ivs.Error|nil the error
-- @usage
-- local url = assert(ivs.presign{ method = "GET", url = "https://example.com/path", region = "us-east-1",
--   service = "execute-api", credentials = creds, expires = 300 })
function ivs.presign(opts)
  local t = sign_options("presign", opts, "expires")
  t.expires = opts.expires or 900
  return core.presign(t)
end

return ivs
