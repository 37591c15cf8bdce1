#!/usr/bin/env lua5.4
-- Writes the operation reference for LDoc: one page per service of the family (IVS, IVS Chat,
-- IVS Real-Time), with one documented function per operation, every input member (name,
-- type, required, constraints, nesting) and the output members, read from the built modules
-- through operations() and describe().
--
--   lua5.4 scripts/gen-ops-doc.lua DIR    writes DIR/operations.lua, DIR/chat_operations.lua and
--                                         DIR/realtime_operations.lua (LUA_PATH/LUA_CPATH must
--                                         find the built `ivs`; `make docs` sets them)
--
-- Each output is a Lua file made only of doc comments; config.ld lists them next to the
-- modules.

local out_dir = arg[1]
if not out_dir then
  io.stderr:write("usage: gen-ops-doc.lua DIR\n")
  os.exit(2)
end

local ok, why = pcall(require, "ivs")
if not ok then
  io.stderr:write("gen-ops-doc: cannot load the ivs module (run `make` first): ", tostring(why), "\n")
  os.exit(1)
end

local MAX_NESTING = 5
local concat, format = table.concat, string.format

-- The input members of a description. ivs.describe() returns them as `params`; an older draft
-- of the contract had them under `input.members`, accepted so the page cannot silently empty.
local function input_members(d)
  if d.params then return d.params end
  if d.input and d.input.members then return d.input.members end
  error("ivs.describe(" .. tostring(d.name) .. ") has no params")
end

local function output_members(d)
  if d.output and d.output.members then return d.output.members end
  return d.output or {}
end

-- Inline code that survives Markdown: backticks inside are rare (none in IVS) but must not
-- end the span early.
local function code(s)
  s = tostring(s)
  local fence = s:find("`", 1, true) and "`` " or "`"
  local close = fence == "`" and "`" or " ``"
  return fence .. s .. close
end

local function type_name(m)
  local t = m.type or "unknown"
  if t == "list" and m.element then
    return "list of " .. type_name(m.element)
  elseif t == "map" and m.key and m.value then
    return "map " .. type_name(m.key) .. " to " .. type_name(m.value)
  end
  return t
end

local function range_text(m)
  local unit = ({ string = "length", blob = "length", list = "size", map = "size" })[m.type] or "value"
  if m.min and m.max then
    if m.min == m.max then return format("%s %s", unit, m.min) end
    return format("%s %s..%s", unit, m.min, m.max)
  elseif m.min then
    return format("%s >= %s", unit, m.min)
  elseif m.max then
    return format("%s <= %s", unit, m.max)
  end
end

-- Constraints of one shape (enum, range, pattern), without those of nested shapes.
local function constraints(m)
  local parts = {}
  if m.enum and #m.enum > 0 then
    local values = {}
    for i, v in ipairs(m.enum) do values[i] = code(v) end
    parts[#parts + 1] = "one of " .. concat(values, ", ")
  end
  local range = range_text(m)
  if range then parts[#parts + 1] = range end
  if m.pattern then parts[#parts + 1] = "pattern " .. code(m.pattern) end
  if m.timestamp_format then parts[#parts + 1] = "format " .. m.timestamp_format end
  if m.sensitive then parts[#parts + 1] = "sensitive" end
  return parts
end

local function location_text(m)
  if m.location == "uri" then
    return "in the URI path as " .. code("{" .. (m.location_name or m.name) .. "}")
  elseif m.location == "querystring" then
    return "in the query string as " .. code(m.location_name or m.name)
  elseif m.location == "header" then
    return "in the header " .. code(m.location_name or m.name)
  end
end

local emit_members

-- The members a value of this shape is made of (a structure's, or a list's / map's
-- elements), with what to call them in the text.
local function nested(m)
  if m.type == "structure" and m.members and #m.members > 0 then
    return m.members, nil
  elseif m.type == "list" and m.element then
    local e = m.element
    local extra = constraints(e)
    if e.type == "structure" and e.members and #e.members > 0 then
      return e.members, "each element", extra
    end
    return nil, "each element", extra
  elseif m.type == "map" and m.value then
    local extra = {}
    for _, c in ipairs(constraints(m.key or {})) do extra[#extra + 1] = "key " .. c end
    for _, c in ipairs(constraints(m.value)) do extra[#extra + 1] = "value " .. c end
    if m.value.type == "structure" and m.value.members and #m.value.members > 0 then
      return m.value.members, "each value", extra
    end
    return nil, nil, extra
  end
end

local function emit_member(lines, m, depth, with_required)
  local indent = string.rep("    ", depth)
  local head = { type_name(m) }
  if with_required then head[#head + 1] = m.required and "**required**" or "optional" end
  local where = location_text(m)
  if where then head[#head + 1] = where end
  local parts = constraints(m)
  local members, label, extra = nested(m)
  if extra and #extra > 0 then
    if label == "each element" then
      parts[#parts + 1] = "each element " .. concat(extra, ", ")
    else
      for _, c in ipairs(extra) do parts[#parts + 1] = c end
    end
  end
  local line = format("%s* %s (%s)", indent, code(m.name), concat(head, ", "))
  if #parts > 0 then line = line .. ": " .. concat(parts, "; ") end
  lines[#lines + 1] = line
  if members and depth + 1 < MAX_NESTING then
    if label then lines[#lines + 1] = format("%s    * %s has:", indent, label) end
    emit_members(lines, members, label and depth + 2 or depth + 1, with_required)
  end
end

emit_members = function(lines, members, depth, with_required)
  for _, m in ipairs(members) do emit_member(lines, m, depth, with_required) end
end

local function doc_block(lines)
  local outl = {}
  for i, l in ipairs(lines) do
    outl[i] = (i == 1 and "--- " or "-- ") .. l
    outl[i] = outl[i]:gsub("%s+$", "")
  end
  return concat(outl, "\n") .. "\n"
end

-- One page per service: the module, what to call the page, how its examples name things.
local PAGES = {
  { module = "ivs", file = "operations.lua", page = "operations", title = "IVS API", var = "ivs",
    example = "create_channel" },
  { module = "ivs.chat", file = "chat_operations.lua", page = "chat_operations", title = "IVS Chat API",
    var = "chat", example = "create_room" },
  { module = "ivs.realtime", file = "realtime_operations.lua", page = "realtime_operations",
    title = "IVS Real-Time API", var = "realtime", example = "create_stage" },
}

local function write_page(P)
  local mod = require(P.module)
  local names = mod.operations()
  local chunks = {}
  chunks[#chunks + 1] = doc_block({
    format("The %d operations of the %s (%s), generated from the service model.", #names, P.title,
      mod.API_VERSION or "2020-07-14"),
    "",
    format("Each operation is a method of a client (`client:%s{...}`) and a function of", P.example),
    format("the module `%s` that uses the default client (`%s.%s{...}`). It takes one table", P.module, P.var,
      P.example),
    "of parameters with the API's member names and returns the result table, or `nil, err`",
    "(see `ivs`). Parameters are checked against the constraints below before anything is",
    "sent; a request that breaks any of them fails with a `validation` error that lists every",
    "problem.",
    "",
    "This page is written by `scripts/gen-ops-doc.lua` from `describe()`.",
    "@operations " .. P.page,
  })

  for _, snake in ipairs(names) do
    local d = mod.describe(snake)
    local http = d.http or {}
    local method, uri = d.method or http.method, d.uri or http.uri
    local lines = {}
    -- The one-line summary first: LDoc shows the first sentence in the page's index.
    if not d.summary or d.summary == "" then error(snake .. " has no summary (models/<service>/summaries.json)") end
    lines[#lines + 1] = d.summary
    lines[#lines + 1] = ""
    lines[#lines + 1] = format("%s: %s.", code(d.name or d.api_name or snake),
      code((method or "?") .. " " .. (uri or "?")))
    lines[#lines + 1] = ""
    local facts = {}
    if d.readonly then facts[#facts + 1] = "reads only" end
    if d.idempotent then facts[#facts + 1] = "idempotent" end
    if d.paginated then
      facts[#facts + 1] = format("paginated: %s iterates over %s", code(format('client:items("%s", params)', snake)),
        code(d.result_key or "the results"))
    end
    if #facts > 0 then
      lines[#lines + 1] = (concat(facts, "; "):gsub("^%l", string.upper)) .. "."
      lines[#lines + 1] = ""
    end
    local params = input_members(d)
    local any_required = false
    for _, m in ipairs(params) do any_required = any_required or m.required end
    if #params == 0 then
      lines[#lines + 1] = "**Parameters**: none."
    else
      lines[#lines + 1] = "**Parameters**"
      lines[#lines + 1] = ""
      emit_members(lines, params, 0, true)
    end
    lines[#lines + 1] = ""
    local outputs = output_members(d)
    if #outputs == 0 then
      lines[#lines + 1] = "**Result**: an empty table."
    else
      lines[#lines + 1] = "**Result**"
      lines[#lines + 1] = ""
      emit_members(lines, outputs, 0, false)
    end
    lines[#lines + 1] = "@function " .. snake
    lines[#lines + 1] = format("@tparam%s table params the parameters listed above", any_required and "" or "[opt]")
    lines[#lines + 1] = "@treturn[1] table the result"
    lines[#lines + 1] = "@treturn[2] nil"
    lines[#lines + 1] = "@treturn[2] ivs.Error what went wrong"
    chunks[#chunks + 1] = doc_block(lines)
  end

  local text = concat(chunks, "\n") .. "\nreturn nil\n"
  local f = assert(io.open(out_dir .. "/" .. P.file, "w"))
  f:write(text)
  f:close()
end

os.execute("mkdir -p '" .. out_dir:gsub("'", "'\\''") .. "'")
for _, P in ipairs(PAGES) do write_page(P) end
