--- Text and table renderings of results, as the `ivs` command prints them.
--
-- `text` follows the AWS CLI's `--output text`: one tab-separated line per record, a nested
-- structure or list on lines of its own that start with its member name in capitals. Two
-- differences, both so that a script can rely on the columns: the scalar columns of a record
-- come in the model's member order (not alphabetical; members the model does not know follow,
-- sorted), and a map (tags) prints one `NAME<TAB>key<TAB>value` line per entry instead of its
-- values without their keys. Booleans print as `True`/`False`, a null as `None` and a column a
-- record lacks as an empty field, as the AWS CLI prints them.
--
-- `table` draws the AWS CLI's `--output table` boxes: a titled section per structure, column
-- headers in alphabetical order, nested structures and lists as indented sections; a
-- one-row section becomes a two-column (name, value) section when the whole table would be
-- wider than the terminal (COLUMNS, default 80).
--
-- Portable Lua 5.1 to 5.4 and LuaJIT.
-- @module ivs.output

local M = {}

local concat, sort = table.concat, table.sort
local floor = math.floor

-- ------------------------------------------------------------------------------------------
-- Values
-- ------------------------------------------------------------------------------------------

-- is_array(v): the caller's notion of a JSON array (the CLI marks its lists).
local function kind(v, is_array)
  if type(v) ~= "table" then return "scalar" end
  if is_array(v) then return "list" end
  return "dict"
end

-- How the AWS CLI prints a scalar (Python's str()).
local function scalar_str(v, null)
  if v == nil or v == null then return "None" end
  if v == true then return "True" end
  if v == false then return "False" end
  if type(v) == "number" then
    if v == floor(v) and v > -2 ^ 53 and v < 2 ^ 53 then return string.format("%d", v) end
    local s = string.format("%.15g", v)
    if tonumber(s) ~= v then s = string.format("%.17g", v) end
    return s
  end
  return tostring(v)
end

-- The keys of a table: first the members of its description in model order, then the rest
-- sorted.
local function ordered_keys(t, desc)
  local keys, seen = {}, {}
  if desc and desc.type == "structure" then
    for _, m in ipairs(desc.members or {}) do
      if t[m.name] ~= nil then
        keys[#keys + 1] = m.name
        seen[m.name] = true
      end
    end
  end
  local rest = {}
  for k in pairs(t) do
    if not seen[k] then rest[#rest + 1] = k end
  end
  sort(rest, function(a, b) return tostring(a) < tostring(b) end)
  for _, k in ipairs(rest) do keys[#keys + 1] = k end
  return keys
end

local function member_desc(desc, name)
  if not desc then return nil end
  if desc.type == "structure" then
    for _, m in ipairs(desc.members or {}) do
      if m.name == name then return m end
    end
  elseif desc.type == "map" then
    return desc.value
  end
  return nil
end

-- ------------------------------------------------------------------------------------------
-- --output text
-- ------------------------------------------------------------------------------------------

local Text = {}
Text.__index = Text

function Text:line(parts) self.lines[#self.lines + 1] = concat(parts, "\t") end

function Text:value(item, identifier, scalar_keys, desc)
  local k = kind(item, self.is_array)
  if k == "dict" then
    self:dict(item, identifier, scalar_keys, desc)
  elseif k == "list" then
    self:list(item, identifier, desc and desc.element)
  else
    self:line({ scalar_str(item, self.null) })
  end
end

function Text:dict(item, identifier, scalar_keys, desc)
  if desc and desc.type == "map" and identifier then
    -- One line per entry, so a tag's key stays beside its value.
    for _, key in ipairs(ordered_keys(item, nil)) do
      local v = item[key]
      if kind(v, self.is_array) == "scalar" then
        self:line({ identifier:upper(), tostring(key), scalar_str(v, self.null) })
      else
        self:value(v, key, nil, desc.value)
      end
    end
    return
  end
  local scalars, nested = {}, {}
  if scalar_keys then
    for _, key in ipairs(scalar_keys) do
      -- A column this record lacks is empty, as in the AWS CLI; a JSON null prints None.
      local v = item[key]
      scalars[#scalars + 1] = v == nil and "" or scalar_str(v, self.null)
    end
    local listed = {}
    for _, key in ipairs(scalar_keys) do listed[key] = true end
    for _, key in ipairs(ordered_keys(item, desc)) do
      if not listed[key] then nested[#nested + 1] = key end
    end
  else
    for _, key in ipairs(ordered_keys(item, desc)) do
      if kind(item[key], self.is_array) == "scalar" then
        scalars[#scalars + 1] = scalar_str(item[key], self.null)
      else
        nested[#nested + 1] = key
      end
    end
  end
  if #scalars > 0 then
    if identifier then table.insert(scalars, 1, identifier:upper()) end
    self:line(scalars)
  end
  for _, key in ipairs(nested) do
    self:value(item[key], key, nil, member_desc(desc, key))
  end
end

function Text:list(item, identifier, elem_desc)
  if #item == 0 then return end
  local has_dict, has_list = false, false
  for _, el in ipairs(item) do
    local k = kind(el, self.is_array)
    if k == "dict" then has_dict = true elseif k == "list" then has_list = true end
  end
  if has_dict then
    -- Every record of the list gets the same columns: the union of their scalar keys.
    local seen, keys = {}, {}
    for _, el in ipairs(item) do
      if kind(el, self.is_array) == "dict" then
        for _, key in ipairs(ordered_keys(el, elem_desc)) do
          if not seen[key] and kind(el[key], self.is_array) == "scalar" then
            seen[key] = true
            keys[#keys + 1] = key
          end
        end
      end
    end
    if not (elem_desc and elem_desc.type == "structure") then sort(keys) end
    for _, el in ipairs(item) do self:value(el, identifier, keys, elem_desc) end
  elseif has_list then
    local scalars = {}
    for _, el in ipairs(item) do
      if kind(el, self.is_array) == "scalar" then scalars[#scalars + 1] = el end
    end
    if #scalars > 0 then self:scalar_list(scalars, identifier) end
    for _, el in ipairs(item) do
      if kind(el, self.is_array) ~= "scalar" then self:value(el, identifier, nil, elem_desc) end
    end
  else
    self:scalar_list(item, identifier)
  end
end

function Text:scalar_list(items, identifier)
  if identifier then
    for _, v in ipairs(items) do self:line({ identifier:upper(), scalar_str(v, self.null) }) end
  else
    local parts = {}
    for i, v in ipairs(items) do parts[i] = scalar_str(v, self.null) end
    self:line(parts)
  end
end

--- Renders a value as `--output text` lines.
-- @param value a result (tables, scalars)
-- @tparam[opt] table desc its description (`{ type = "structure", members = ... }`, as
--   `ivs.describe` gives), for the model's column order and to know maps
-- @tparam[opt] table opts `is_array(t)` (how to tell a list; default: the JSON array marker or a
--   non-empty sequence) and `null` (the null sentinel)
-- @treturn string the text, each line ending in a newline ("" for nothing to print)
function M.text(value, desc, opts)
  opts = opts or {}
  local r = setmetatable({ lines = {}, is_array = opts.is_array or M.default_is_array,
                           null = opts.null }, Text)
  if value ~= nil and value ~= opts.null then r:value(value, nil, nil, desc) end
  if #r.lines == 0 then return "" end
  return concat(r.lines, "\n") .. "\n"
end

--- The default test for a list: a non-empty sequence, or a table whose metatable's
-- `__jsontype` is "array" (ivs.json.array marks its tables so).
function M.default_is_array(t)
  if rawget(t, 1) ~= nil then return true end
  local mt = getmetatable(t)
  return mt ~= nil and M.array_mt ~= nil and mt == M.array_mt
end

-- ------------------------------------------------------------------------------------------
-- --output table
-- ------------------------------------------------------------------------------------------

-- Display width: East Asian wide characters take two columns, as in the AWS CLI. UTF-8 lead
-- bytes of the wide ranges are recognised by code point.
local function text_width(s)
  local w = 0
  for ch in s:gmatch("[%z\1-\127\194-\244][\128-\191]*") do
    local b1, b2, b3 = ch:byte(1, 3)
    local cp
    if #ch == 1 then cp = b1
    elseif #ch == 2 then cp = (b1 - 192) * 64 + (b2 - 128)
    elseif #ch == 3 then cp = ((b1 - 224) * 64 + (b2 - 128)) * 64 + (b3 - 128)
    else cp = 0x10000 end
    if (cp >= 0x1100 and cp <= 0x115F) or (cp >= 0x2E80 and cp <= 0xA4CF) or
       (cp >= 0xAC00 and cp <= 0xD7A3) or (cp >= 0xF900 and cp <= 0xFAFF) or
       (cp >= 0xFE30 and cp <= 0xFE4F) or (cp >= 0xFF00 and cp <= 0xFF60) or
       (cp >= 0xFFE0 and cp <= 0xFFE6) or cp >= 0x20000 then
      w = w + 2
    else
      w = w + 1
    end
  end
  return w
end

local function new_section(title, indent)
  return { title = title or "", headers = {}, rows = {}, indent = indent or 0, widths = {} }
end

local function update_widths(sec, row)
  for i, el in ipairs(row) do
    local w = text_width(el)
    if not sec.widths[i] or w > sec.widths[i] then sec.widths[i] = w end
  end
end

-- Python's round() on the products used below: halves go to the even neighbour.
local function round_half_even(x)
  local f = floor(x)
  local d = x - f
  if d > 0.5 then return f + 1 end
  if d < 0.5 then return f end
  return (f % 2 == 0) and f or f + 1
end

-- Column widths scaled to fill max_width exactly (the AWS CLI's rule).
local function column_widths(sec, padding, max_width)
  local unscaled, total = {}, 0
  for i, w in ipairs(sec.widths) do
    unscaled[i] = w + padding
    total = total + unscaled[i]
  end
  if not max_width or #unscaled == 0 then return unscaled end
  local scale = max_width / total
  local scaled, sum = {}, 0
  for i, w in ipairs(unscaled) do
    scaled[i] = round_half_even(scale * w)
    sum = sum + scaled[i]
  end
  local off = sum - max_width
  while off ~= 0 do
    local first, last, step = 1, #scaled, 1
    if off < 0 then first, last, step = #scaled, 1, -1 end
    for i = first, last, step do
      if off > 0 then
        scaled[i] = scaled[i] - 1
        off = off - 1
      else
        scaled[i] = scaled[i] + 1
        off = off + 1
      end
      if off == 0 then break end
    end
  end
  return scaled
end

local function total_width(sec)
  local total = 0
  for _, w in ipairs(column_widths(sec, 0)) do total = total + w + 4 end
  total = total + 2 + 2 * sec.indent
  local title = text_width(sec.title) + 2 + 2 * sec.indent
  return title > total and title or total
end

local function center(text, length, left, right)
  local tl = text_width(text)
  local start = floor(length / 2) - floor(tl / 2) - 1
  if start < 0 then start = 0 end
  local so_far = #left + start + tl
  return left .. string.rep(" ", start) .. text .. string.rep(" ", length - #right - so_far) .. right
end

local function align_left(text, length, left, right)
  local tl = text_width(text)
  local padding = (length - (tl + 2 + #left + #right) >= 0) and 2 or 0
  local so_far = #left + padding + tl
  local fill = length - so_far - #right
  if fill < 0 then fill = 0 end
  return left .. string.rep(" ", padding) .. text .. string.rep(" ", fill) .. right
end

local function line_break(widths)
  local parts = {}
  for i, w in ipairs(widths) do
    if i == 1 then
      parts[#parts + 1] = "+" .. string.rep("-", w - 2) .. "+"
    else
      parts[#parts + 1] = string.rep("-", w - 1) .. "+"
    end
  end
  return concat(parts)
end

local Table = {}
Table.__index = Table

function Table:section(title, indent)
  self.current = new_section(title, indent)
  self.sections[#self.sections + 1] = self.current
end

function Table:header(h)
  update_widths(self.current, h)
  self.current.headers = h
end

function Table:row(r)
  local strs = {}
  for i, v in ipairs(r) do strs[i] = scalar_str(v, self.null) end
  -- ipairs stops at a nil: the row's length is the header's
  for i = #strs + 1, r.n or 0 do strs[i] = scalar_str(r[i], self.null) end
  self.current.rows[#self.current.rows + 1] = strs
  update_widths(self.current, strs)
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  return keys
end

function Table:group(current)
  local headers, more = {}, {}
  for _, k in ipairs(sorted_keys(current)) do
    if kind(current[k], self.is_array) == "scalar" then headers[#headers + 1] = k else more[#more + 1] = k end
  end
  return headers, more
end

function Table:build(title, current, indent)
  if current == nil or current == self.null or current == false or current == "" or current == 0 then
    return false
  end
  if type(current) == "table" and next(current) == nil then return false end
  if title then self:section(title, indent) end
  local k = kind(current, self.is_array)
  if k == "list" then
    if kind(current[1], self.is_array) == "dict" then
      self:sub_table_from_list(current, indent, title)
    else
      for _, item in ipairs(current) do
        local ik = kind(item, self.is_array)
        if ik == "scalar" then
          self:row({ item })
        else
          local all_scalar = ik == "list"
          if all_scalar then
            for _, el in ipairs(item) do
              if kind(el, self.is_array) ~= "scalar" then all_scalar = false break end
            end
          end
          if all_scalar then self:row(item) else self:build(nil, item, indent) end
        end
      end
    end
  elseif k == "dict" then
    self:sub_table_from_dict(current, indent)
  end
  return true
end

function Table:sub_table_from_dict(current, indent)
  local headers, more = self:group(current)
  if #headers == 1 then
    self:row({ headers[1], current[headers[1]] })
  elseif #headers > 0 then
    self:header(headers)
    local r = { n = #headers }
    for i, h in ipairs(headers) do r[i] = current[h] end
    self:row(r)
  end
  for _, key in ipairs(more) do self:build(key, current[key], indent + 1) end
end

function Table:sub_table_from_list(current, indent, title)
  local hs, ms = {}, {}
  for _, item in ipairs(current) do
    if kind(item, self.is_array) == "dict" then
      local h, m = self:group(item)
      for _, x in ipairs(h) do hs[x] = true end
      for _, x in ipairs(m) do ms[x] = true end
    end
  end
  local headers, more = sorted_keys(hs), sorted_keys(ms)
  self:header(headers)
  for i, element in ipairs(current) do
    if i > 1 and #more > 0 then
      self:section(title, indent)
      self:header(headers)
    end
    local r = { n = #headers }
    for j, h in ipairs(headers) do
      local v = ""
      if type(element) == "table" and element[h] ~= nil then v = element[h] end
      r[j] = v
    end
    self:row(r)
    for _, key in ipairs(more) do
      if type(element) == "table" and element[key] ~= nil then
        self:build(key, element[key], indent + 1)
      end
    end
  end
end

function Table:render(width)
  local function max_width()
    local m = 0
    for _, s in ipairs(self.sections) do
      local w = total_width(s)
      if w > m then m = w end
    end
    return m
  end
  local mw = max_width()
  if mw > width then
    for i, s in ipairs(self.sections) do
      if #s.rows == 1 and #s.headers > 0 then
        local ns = new_section(s.title, s.indent)
        for j, h in ipairs(s.headers) do
          local row = { h, s.rows[1][j] }
          ns.rows[#ns.rows + 1] = row
          update_widths(ns, row)
        end
        self.sections[i] = ns
      end
    end
    mw = max_width()
  end
  local out = { string.rep("-", mw) }
  for _, s in ipairs(self.sections) do
    local pre, post = string.rep("|", s.indent), string.rep("|", s.indent)
    local w = mw - 2 * s.indent
    local function emit(line) out[#out + 1] = pre .. line .. post end
    if s.title ~= "" then
      emit(center(s.title, w, "|", "|"))
      if #s.headers == 0 and #s.rows == 0 then emit("+" .. string.rep("-", w - 2) .. "+") end
    end
    if #s.headers > 0 then
      local widths = column_widths(s, 4, w)
      local cells = {}
      for i, h in ipairs(s.headers) do cells[i] = center(h, widths[i], i == 1 and "|" or "", "|") end
      emit(line_break(widths))
      emit(concat(cells))
    end
    if #s.rows > 0 then
      local widths = column_widths(s, 4, w)
      if #widths > 0 then
        emit(line_break(widths))
        for _, row in ipairs(s.rows) do
          local cells = {}
          for i, wd in ipairs(widths) do cells[i] = align_left(row[i] or "", wd, i == 1 and "|" or "", "|") end
          emit(concat(cells))
        end
        emit(line_break(widths))
      end
    end
  end
  return concat(out, "\n") .. "\n"
end

--- Renders a value as the AWS CLI's `--output table` draws it.
-- @param value a result
-- @tparam string title the outer section's title (the AWS CLI uses the operation's API name)
-- @tparam[opt] table opts `width` (terminal columns; default COLUMNS or 80), `is_array`,
--   `null` as for `text`
-- @treturn string the table ("" when there is nothing to draw)
function M.table(value, title, opts)
  opts = opts or {}
  local t = setmetatable({ sections = {}, is_array = opts.is_array or M.default_is_array,
                           null = opts.null }, Table)
  if not t:build(title, value, 0) then return "" end
  local width = opts.width or tonumber(os.getenv("COLUMNS") or "") or 80
  return t:render(width)
end

return M
