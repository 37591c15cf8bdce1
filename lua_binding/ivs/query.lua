--- JMESPath for lua-ivs: `ivs.query(data, expression)` and the CLI's `--query`.
--
-- Written from the JMESPath specification (jmespath.org): the whole grammar (sub-expressions,
-- indices, slices, the four projections, pipes, multi-selects, comparisons, `||` `&&` `!`,
-- literals, raw strings, `@`, expression references) and the 26 built-in functions.
--
-- Values are the tables `ivs.json.decode` and the clients return. JSON null is the sentinel
-- given to `new` (ivs.json.null); a missing key reads as null. Arrays are recognised by the
-- array marker metatable or by a non-empty sequence; an empty table without the marker is an
-- empty object, but the places that need a list (projections, indices, slices, flatten,
-- filters) also take it as an empty list, because an API result's empty list is such a table.
-- Arrays this module builds carry the marker, so they encode back as `[]`.
--
-- Portable Lua 5.1 to 5.4 and LuaJIT: no integer division, no bit operations, no goto.
-- @module ivs.query

local M = {}

local floor, huge = math.floor, math.huge
local tconcat, tsort = table.concat, table.sort

-- An error raised inside the engine: caught at the API boundary and turned into `nil, err`.
local QueryError = {}
QueryError.__index = QueryError
QueryError.__tostring = function(e) return e.message end

local function raise(kind, fmt, ...)
  error(setmetatable({ kind = kind, message = string.format(fmt, ...) }, QueryError), 0)
end

-- ------------------------------------------------------------------------------------------
-- Lexer
-- ------------------------------------------------------------------------------------------

local SINGLE = {
  ["."] = "dot", ["*"] = "star", ["]"] = "rbracket", [","] = "comma", [":"] = "colon",
  ["@"] = "current", ["("] = "lparen", [")"] = "rparen", ["{"] = "lbrace", ["}"] = "rbrace",
}

-- Decodes the body of a JSON string literal (without its quotes) through the JSON decoder, so
-- \uXXXX escapes and surrogate pairs follow JSON exactly.
local function json_string(env, body, pos)
  local v = env.decode('"' .. body .. '"')
  if type(v) ~= "string" then raise("syntax", "invalid quoted identifier at position %d", pos) end
  return v
end

-- Finds the closing delimiter `q` from position i (just after the opening one), skipping
-- backslash escapes. Returns the index of the closing delimiter.
local function scan_to(expr, i, q, what, start)
  local n = #expr
  while i <= n do
    local c = expr:sub(i, i)
    if c == "\\" then
      i = i + 2
    elseif c == q then
      return i
    else
      i = i + 1
    end
  end
  raise("syntax", "unterminated %s starting at position %d", what, start)
end

local function tokenize(env, expr)
  local toks, n, i = {}, #expr, 1
  local function push(kind, value, pos) toks[#toks + 1] = { type = kind, value = value, pos = pos } end
  while i <= n do
    local c = expr:sub(i, i)
    local c2 = expr:sub(i, i + 1)
    if c:match("^[%a_]") then
      local s, e = expr:find("^[%w_]+", i)
      push("unquoted_identifier", expr:sub(s, e), i)
      i = e + 1
    elseif c:match("^[ \t\r\n]") then
      i = i + 1
    elseif c:match("^%d") or (c == "-" and expr:sub(i + 1, i + 1):match("^%d")) then
      local s, e = expr:find("^%-?%d+", i)
      push("number", tonumber(expr:sub(s, e)), i)
      i = e + 1
    elseif c2 == "[?" then
      push("filter", nil, i); i = i + 2
    elseif c2 == "[]" then
      push("flatten", nil, i); i = i + 2
    elseif c == "[" then
      push("lbracket", nil, i); i = i + 1
    elseif c2 == "||" then
      push("or", nil, i); i = i + 2
    elseif c2 == "&&" then
      push("and", nil, i); i = i + 2
    elseif c2 == "==" then
      push("eq", nil, i); i = i + 2
    elseif c2 == "!=" then
      push("ne", nil, i); i = i + 2
    elseif c2 == "<=" then
      push("lte", nil, i); i = i + 2
    elseif c2 == ">=" then
      push("gte", nil, i); i = i + 2
    elseif c == "<" then
      push("lt", nil, i); i = i + 1
    elseif c == ">" then
      push("gt", nil, i); i = i + 1
    elseif c == "!" then
      push("not", nil, i); i = i + 1
    elseif c == "|" then
      push("pipe", nil, i); i = i + 1
    elseif c == "&" then
      push("expref", nil, i); i = i + 1
    elseif SINGLE[c] then
      push(SINGLE[c], nil, i); i = i + 1
    elseif c == '"' then
      local e = scan_to(expr, i + 1, '"', "quoted identifier", i)
      push("quoted_identifier", json_string(env, expr:sub(i + 1, e - 1), i), i)
      i = e + 1
    elseif c == "'" then
      local e = scan_to(expr, i + 1, "'", "raw string", i)
      -- The grammar's raw-string-escape: \' is a quote and \\ a backslash; any other
      -- backslash is kept as it is.
      local body = expr:sub(i + 1, e - 1):gsub("\\([\\'])", "%1")
      push("literal", body, i)
      i = e + 1
    elseif c == "`" then
      local e = scan_to(expr, i + 1, "`", "literal", i)
      local body = expr:sub(i + 1, e - 1):gsub("\\`", "`")
      local ok, v = pcall(env.decode, body)
      if not ok or v == nil then
        -- An unquoted string inside backticks is the specification's deprecated form of a
        -- string literal; accept it as jmespath.py does, or report a syntax error.
        ok, v = pcall(env.decode, '"' .. (body:gsub("^%s+", ""):gsub("%s+$", "")) .. '"')
        if not ok or v == nil then raise("syntax", "invalid JSON literal at position %d", i) end
      end
      push("literal", v, i)
      i = e + 1
    elseif c == "=" then
      raise("syntax", "unexpected '=' at position %d (did you mean '=='?)", i)
    else
      raise("syntax", "unexpected character %q at position %d", c, i)
    end
  end
  push("eof", nil, n + 1)
  return toks
end

-- ------------------------------------------------------------------------------------------
-- Parser: a Pratt parser with the specification's binding powers
-- ------------------------------------------------------------------------------------------

local BP = {
  eof = 0, unquoted_identifier = 0, quoted_identifier = 0, literal = 0, rbracket = 0,
  rparen = 0, comma = 0, rbrace = 0, number = 0, current = 0, expref = 0, colon = 0,
  pipe = 1, ["or"] = 2, ["and"] = 3, eq = 5, ne = 5, gt = 5, gte = 5, lt = 5, lte = 5,
  flatten = 9, star = 20, filter = 21, dot = 40, ["not"] = 45, lbrace = 50, lbracket = 55,
  lparen = 60,
}

local COMPARATORS = { eq = true, ne = true, gt = true, gte = true, lt = true, lte = true }
local IDENTITY = { type = "identity" }

local Parser = {}
Parser.__index = Parser

function Parser:peek(k) return self.toks[self.i + (k or 0)] end
function Parser:advance() self.i = self.i + 1 end

function Parser.fail(_, tok, what)
  if tok.type == "eof" then raise("syntax", "unexpected end of expression (%s)", what) end
  raise("syntax", "unexpected %s at position %d (%s)", tok.type, tok.pos, what)
end

function Parser:match(kind)
  local t = self:peek()
  if t.type ~= kind then self:fail(t, "expected " .. kind) end
  self:advance()
end

function Parser:expression(rbp)
  local left = self:nud()
  while rbp < BP[self:peek().type] do
    left = self:led(left)
  end
  return left
end

function Parser:nud()
  local t = self:peek()
  self:advance()
  local k = t.type
  if k == "literal" then
    return { type = "literal", value = t.value }
  elseif k == "unquoted_identifier" then
    return { type = "field", name = t.value }
  elseif k == "quoted_identifier" then
    if self:peek().type == "lparen" then self:fail(self:peek(), "a quoted identifier cannot name a function") end
    return { type = "field", name = t.value }
  elseif k == "star" then
    return { type = "value_projection", left = IDENTITY, right = self:projection_rhs(BP.star) }
  elseif k == "filter" then
    return self:filter_rest(IDENTITY)
  elseif k == "lbrace" then
    return self:multi_select_hash()
  elseif k == "lparen" then
    local e = self:expression(0)
    self:match("rparen")
    return e
  elseif k == "flatten" then
    return { type = "projection", left = { type = "flatten", child = IDENTITY },
             right = self:projection_rhs(BP.flatten) }
  elseif k == "not" then
    return { type = "not", child = self:expression(BP["not"]) }
  elseif k == "lbracket" then
    local nt = self:peek().type
    if nt == "number" or nt == "colon" then
      return self:project_if_slice(IDENTITY, self:index_expression())
    elseif nt == "star" and self:peek(1).type == "rbracket" then
      self:advance(); self:advance()
      return { type = "projection", left = IDENTITY, right = self:projection_rhs(BP.star) }
    end
    return self:multi_select_list()
  elseif k == "current" then
    return { type = "current" }
  elseif k == "expref" then
    return { type = "expref", child = self:expression(BP.expref) }
  end
  self:fail(t, "expected an expression")
end

function Parser:led(left)
  local t = self:peek()
  local k = t.type
  self:advance()
  if k == "dot" then
    if self:peek().type == "star" then
      self:advance()
      return { type = "value_projection", left = left, right = self:projection_rhs(BP.dot) }
    end
    return { type = "subexpression", left = left, right = self:dot_rhs(BP.dot) }
  elseif k == "pipe" then
    return { type = "pipe", left = left, right = self:expression(BP.pipe) }
  elseif k == "or" then
    return { type = "or", left = left, right = self:expression(BP["or"]) }
  elseif k == "and" then
    return { type = "and", left = left, right = self:expression(BP["and"]) }
  elseif k == "lparen" then
    if left.type ~= "field" then self:fail(t, "only a name can be called as a function") end
    local args = {}
    while self:peek().type ~= "rparen" do
      args[#args + 1] = self:expression(0)
      if self:peek().type == "comma" then
        self:match("comma")
        if self:peek().type == "rparen" then self:fail(self:peek(), "expected an argument") end
      end
    end
    self:match("rparen")
    return { type = "function", name = left.name, args = args, pos = t.pos }
  elseif k == "filter" then
    return self:filter_rest(left)
  elseif COMPARATORS[k] then
    return { type = "comparator", op = k, left = left, right = self:expression(BP[k]) }
  elseif k == "flatten" then
    return { type = "projection", left = { type = "flatten", child = left },
             right = self:projection_rhs(BP.flatten) }
  elseif k == "lbracket" then
    local nt = self:peek().type
    if nt == "number" or nt == "colon" then
      return self:project_if_slice(left, self:index_expression())
    end
    self:match("star")
    self:match("rbracket")
    return { type = "projection", left = left, right = self:projection_rhs(BP.star) }
  end
  self:fail(t, "expected an operator")
end

function Parser:filter_rest(left)
  local cond = self:expression(0)
  self:match("rbracket")
  local right
  if self:peek().type == "flatten" then
    right = IDENTITY
  else
    right = self:projection_rhs(BP.filter)
  end
  return { type = "filter_projection", left = left, right = right, cond = cond }
end

function Parser:projection_rhs(rbp)
  local t = self:peek()
  if BP[t.type] < 10 then return IDENTITY end
  if t.type == "lbracket" or t.type == "filter" then return self:expression(rbp) end
  if t.type == "dot" then
    self:advance()
    return self:dot_rhs(rbp)
  end
  self:fail(t, "expected '.', '[' or an operator after a projection")
end

function Parser:dot_rhs(rbp)
  local t = self:peek()
  local k = t.type
  if k == "unquoted_identifier" or k == "quoted_identifier" or k == "star" then
    return self:expression(rbp)
  elseif k == "lbracket" then
    self:advance()
    return self:multi_select_list()
  elseif k == "lbrace" then
    self:advance()
    return self:multi_select_hash()
  end
  self:fail(t, "expected a name, '*', '[' or '{' after '.'")
end

function Parser:index_expression()
  if self:peek().type == "colon" or self:peek(1).type == "colon" then
    local parts, n = {}, 1
    while self:peek().type ~= "rbracket" do
      local t = self:peek()
      if t.type == "colon" then
        n = n + 1
        if n > 3 then self:fail(t, "a slice has at most three parts") end
        self:advance()
      elseif t.type == "number" then
        if parts[n] ~= nil then self:fail(t, "expected ':' or ']'") end
        parts[n] = t.value
        self:advance()
      else
        self:fail(t, "expected a number, ':' or ']' in a slice")
      end
    end
    self:match("rbracket")
    return { type = "slice", start = parts[1], stop = parts[2], step = parts[3] }
  end
  local t = self:peek()
  self:match("number")
  self:match("rbracket")
  return { type = "index", index = t.value }
end

function Parser:project_if_slice(left, right)
  local ix = { type = "index_expression", left = left, right = right }
  if right.type == "slice" then
    return { type = "projection", left = ix, right = self:projection_rhs(BP.star) }
  end
  return ix
end

function Parser:multi_select_list()
  local items = {}
  repeat
    items[#items + 1] = self:expression(0)
    local t = self:peek()
    if t.type == "comma" then
      self:advance()
    elseif t.type ~= "rbracket" then
      self:fail(t, "expected ',' or ']'")
    end
  until t.type == "rbracket"
  self:match("rbracket")
  return { type = "multi_select_list", items = items }
end

function Parser:multi_select_hash()
  local pairs_ = {}
  repeat
    local kt = self:peek()
    if kt.type ~= "quoted_identifier" and kt.type ~= "unquoted_identifier" then
      self:fail(kt, "expected a key name")
    end
    self:advance()
    self:match("colon")
    pairs_[#pairs_ + 1] = { key = kt.value, value = self:expression(0) }
    local t = self:peek()
    if t.type == "comma" then
      self:advance()
    elseif t.type ~= "rbrace" then
      self:fail(t, "expected ',' or '}'")
    end
  until t.type == "rbrace"
  self:match("rbrace")
  return { type = "multi_select_hash", pairs = pairs_ }
end

-- ------------------------------------------------------------------------------------------
-- Values
-- ------------------------------------------------------------------------------------------

-- One engine per (null, array marker) pair: the interpreter's view of JSON values.
local Engine = {}
Engine.__index = Engine

function Engine:is_null(v) return v == nil or v == self.null end

function Engine:is_array(v)
  if type(v) ~= "table" then return false end
  local mt = getmetatable(v)
  if mt == self.array_mt then return true end
  if mt ~= nil and mt ~= self.object_mt then return false end
  return rawget(v, 1) ~= nil
end

function Engine:is_object(v)
  return type(v) == "table" and v ~= self.null and not self:is_array(v)
end

-- A list for the places that need one: an array, or an empty table without a marker.
function Engine:as_list(v)
  if self:is_array(v) then return v end
  if type(v) == "table" and v ~= self.null and getmetatable(v) == nil and next(v) == nil then
    return v
  end
  return nil
end

function Engine:array(t) return setmetatable(t or {}, self.array_mt) end

-- The length of an array, counting null sentinels (a sequence may hold them).
local function alen(a)
  local n = #a
  while a[n + 1] ~= nil do n = n + 1 end
  return n
end

function Engine:type_of(v)
  if self:is_null(v) then return "null" end
  local t = type(v)
  if t == "string" or t == "number" or t == "boolean" then return t end
  if t == "table" then
    if v.__expref then return "expref" end
    return self:is_array(v) and "array" or "object"
  end
  return t
end

function Engine:truthy(v)
  if self:is_null(v) or v == false then return false end
  if v == "" then return false end
  if type(v) == "table" then return next(v) ~= nil end
  return true
end

function Engine:equal(a, b)
  if self:is_null(a) and self:is_null(b) then return true end
  local ta, tb = self:type_of(a), self:type_of(b)
  if ta ~= tb then return false end
  if ta == "array" then
    local n = alen(a)
    if n ~= alen(b) then return false end
    for i = 1, n do
      if not self:equal(a[i], b[i]) then return false end
    end
    return true
  elseif ta == "object" then
    for k, v in pairs(a) do
      if not self:equal(v, b[k]) then return false end
    end
    for k, v in pairs(b) do
      if self:is_null(a[k]) and not self:is_null(v) then return false end
    end
    return true
  end
  return a == b
end

-- Strings compare by code point, which for UTF-8 is byte order.
local function ordered(op, a, b)
  if op == "lt" then return a < b elseif op == "lte" then return a <= b
  elseif op == "gt" then return a > b else return a >= b end
end

-- ------------------------------------------------------------------------------------------
-- Interpreter
-- ------------------------------------------------------------------------------------------

function Engine:eval(node, v)
  local k = node.type
  if k == "field" then
    if self:is_object(v) then
      local r = v[node.name]
      if r == nil then return self.null end
      return r
    end
    return self.null
  elseif k == "subexpression" then
    return self:eval(node.right, self:eval(node.left, v))
  elseif k == "identity" or k == "current" then
    if v == nil then return self.null end
    return v
  elseif k == "literal" then
    if node.value == nil then return self.null end
    return node.value
  elseif k == "index_expression" then
    return self:eval(node.right, self:eval(node.left, v))
  elseif k == "index" then
    local list = self:as_list(v)
    if not list then return self.null end
    local n, i = alen(list), node.index
    if i < 0 then i = n + i end
    if i < 0 or i >= n then return self.null end
    local r = list[i + 1]
    if r == nil then return self.null end
    return r
  elseif k == "slice" then
    return self:slice(v, node)
  elseif k == "projection" then
    local list = self:as_list(self:eval(node.left, v))
    if not list then return self.null end
    local out = self:array()
    for i = 1, alen(list) do
      local r = self:eval(node.right, list[i])
      if not self:is_null(r) then out[#out + 1] = r end
    end
    return out
  elseif k == "value_projection" then
    local base = self:eval(node.left, v)
    if not self:is_object(base) then return self.null end
    local keys = {}
    for key in pairs(base) do keys[#keys + 1] = key end
    tsort(keys)
    local out = self:array()
    for _, key in ipairs(keys) do
      local r = self:eval(node.right, base[key])
      if not self:is_null(r) then out[#out + 1] = r end
    end
    return out
  elseif k == "filter_projection" then
    local list = self:as_list(self:eval(node.left, v))
    if not list then return self.null end
    local out = self:array()
    for i = 1, alen(list) do
      local item = list[i]
      if self:truthy(self:eval(node.cond, item)) then
        local r = self:eval(node.right, item)
        if not self:is_null(r) then out[#out + 1] = r end
      end
    end
    return out
  elseif k == "flatten" then
    local list = self:as_list(self:eval(node.child, v))
    if not list then return self.null end
    local out = self:array()
    for i = 1, alen(list) do
      local item = list[i]
      local inner = self:is_array(item) and item or nil
      if inner then
        for j = 1, alen(inner) do out[#out + 1] = inner[j] end
      else
        out[#out + 1] = item == nil and self.null or item
      end
    end
    return out
  elseif k == "comparator" then
    local a, b = self:eval(node.left, v), self:eval(node.right, v)
    if node.op == "eq" then return self:equal(a, b) end
    if node.op == "ne" then return not self:equal(a, b) end
    if type(a) == "number" and type(b) == "number" then return ordered(node.op, a, b) end
    return self.null
  elseif k == "or" then
    local a = self:eval(node.left, v)
    if self:truthy(a) then return a end
    return self:eval(node.right, v)
  elseif k == "and" then
    local a = self:eval(node.left, v)
    if not self:truthy(a) then return a end
    return self:eval(node.right, v)
  elseif k == "not" then
    return not self:truthy(self:eval(node.child, v))
  elseif k == "pipe" then
    return self:eval(node.right, self:eval(node.left, v))
  elseif k == "multi_select_list" then
    if self:is_null(v) then return self.null end
    local out = self:array()
    for i, item in ipairs(node.items) do out[i] = self:eval(item, v) end
    return out
  elseif k == "multi_select_hash" then
    if self:is_null(v) then return self.null end
    local out = setmetatable({}, self.object_mt)
    for _, p in ipairs(node.pairs) do out[p.key] = self:eval(p.value, v) end
    return out
  elseif k == "expref" then
    return { __expref = node.child }
  elseif k == "function" then
    return self:call(node, v)
  end
  raise("syntax", "unknown expression node %s", tostring(k))
end

function Engine:slice(v, node)
  local step = node.step or 1
  if step == 0 then raise("invalid-value", "a slice step cannot be 0") end
  local list = self:as_list(v)
  local is_string = type(v) == "string"
  if not list and not is_string then return self.null end
  local n = is_string and #v or alen(list)
  -- Python's slice rules (the specification's): clamp start and stop into range.
  local function adjust(x, default)
    if x == nil then return default end
    if x < 0 then
      x = x + n
      if x < 0 then x = step < 0 and -1 or 0 end
    elseif x >= n then
      x = step < 0 and n - 1 or n
    end
    return x
  end
  local start = adjust(node.start, step < 0 and n - 1 or 0)
  local stop = adjust(node.stop, step < 0 and -1 or n)
  local out = self:array()
  local i = start
  while (step > 0 and i < stop) or (step < 0 and i > stop) do
    out[#out + 1] = is_string and v:sub(i + 1, i + 1) or list[i + 1]
    i = i + step
  end
  if is_string then return tconcat(out) end
  return out
end

-- ------------------------------------------------------------------------------------------
-- Functions
-- ------------------------------------------------------------------------------------------

local FUNCTIONS = {}

local function check_arity(name, args, min, max)
  local n = #args
  if n < min or (max and n > max) then
    local want = max == min and tostring(min) or (max and (min .. " to " .. max) or (min .. " or more"))
    raise("invalid-arity", "%s() takes %s argument%s, got %d", name, want, want == "1" and "" or "s", n)
  end
end

-- Checks that value has one of the given JMESPath types ("array-number" and "array-string"
-- mean arrays whose every element has that type).
function Engine:check_type(name, pos, value, ...)
  local t = self:type_of(value)
  for i = 1, select("#", ...) do
    local want = select(i, ...)
    if want == "any" or want == t then return t end
    if t == "array" and (want == "array-number" or want == "array-string") then
      local et = want == "array-number" and "number" or "string"
      local ok = true
      for j = 1, alen(value) do
        if self:type_of(value[j]) ~= et then ok = false break end
      end
      if ok then return want end
    end
  end
  raise("invalid-type", "%s(): argument %d must be %s, got %s", name, pos,
        tconcat({ ... }, " or "), t)
end

function Engine:call(node, v)
  local f = FUNCTIONS[node.name]
  if not f then raise("unknown-function", "unknown function %s()", node.name) end
  local args = {}
  for i, a in ipairs(node.args) do
    args[i] = self:eval(a, v)
  end
  check_arity(node.name, args, f.min, f.max)
  local r = f.fn(self, args, node.name)
  if r == nil then return self.null end
  return r
end

-- Numbers that are integral print and encode as integers on every Lua version.
local function as_integer(x)
  if x == floor(x) and x > -2 ^ 53 and x < 2 ^ 53 then
    return math.tointeger and math.tointeger(x) or x
  end
  return x
end

function Engine:expref_apply(name, pos, ref, item)
  if type(ref) ~= "table" or not ref.__expref then
    raise("invalid-type", "%s(): argument %d must be an expression reference (&expr)", name, pos)
  end
  return self:eval(ref.__expref, item)
end

-- A stable sort of `list` by key(item), keys all numbers or all strings.
function Engine:sort_by_keys(name, list, key)
  local decorated, kind = {}, nil
  for i = 1, alen(list) do
    local k = key(list[i])
    local kt = self:type_of(k)
    if kt ~= "number" and kt ~= "string" then
      raise("invalid-type", "%s(): the sort key must be a number or a string, got %s", name, kt)
    end
    if kind and kt ~= kind then
      raise("invalid-type", "%s(): sort keys mix numbers and strings", name)
    end
    kind = kt
    decorated[i] = { k = k, i = i, v = list[i] }
  end
  tsort(decorated, function(a, b)
    if a.k ~= b.k then return a.k < b.k end
    return a.i < b.i
  end)
  local out = self:array()
  for i, d in ipairs(decorated) do out[i] = d.v end
  return out
end

function Engine:extreme_by(name, args, want_max)
  self:check_type(name, 1, args[1], "array")
  local best, best_key, kind
  for i = 1, alen(args[1]) do
    local item = args[1][i]
    local k = self:expref_apply(name, 2, args[2], item)
    local kt = self:type_of(k)
    if (kt ~= "number" and kt ~= "string") or (kind and kt ~= kind) then
      raise("invalid-type", "%s(): the expression must give all numbers or all strings", name)
    end
    kind = kt
    if best_key == nil or (want_max and k > best_key) or (not want_max and k < best_key) then
      best, best_key = item, k
    end
  end
  return best
end

function Engine:extreme(name, args, want_max)
  local t = self:check_type(name, 1, args[1], "array-number", "array-string")
  local list = args[1]
  local best
  for i = 1, alen(list) do
    local x = list[i]
    if best == nil or (want_max and x > best) or (not want_max and x < best) then best = x end
  end
  if t == "array" then return nil end
  return best
end

local function utf8_length(s)
  local _, count = s:gsub("[^\128-\191]", "")
  return count
end

FUNCTIONS.abs = { min = 1, max = 1, fn = function(e, a, n)
  e:check_type(n, 1, a[1], "number")
  return as_integer(math.abs(a[1]))
end }
FUNCTIONS.avg = { min = 1, max = 1, fn = function(e, a, n)
  e:check_type(n, 1, a[1], "array-number")
  local count = alen(a[1])
  if count == 0 then return nil end
  local sum = 0
  for i = 1, count do sum = sum + a[1][i] end
  return sum / count
end }
FUNCTIONS.ceil = { min = 1, max = 1, fn = function(e, a, n)
  e:check_type(n, 1, a[1], "number")
  return as_integer(math.ceil(a[1]))
end }
FUNCTIONS.floor = { min = 1, max = 1, fn = function(e, a, n)
  e:check_type(n, 1, a[1], "number")
  return as_integer(floor(a[1]))
end }
FUNCTIONS.contains = { min = 2, max = 2, fn = function(e, a, n)
  local t = e:check_type(n, 1, a[1], "array", "string")
  if t == "string" then
    if type(a[2]) ~= "string" then return false end
    return a[1]:find(a[2], 1, true) ~= nil
  end
  for i = 1, alen(a[1]) do
    if e:equal(a[1][i], a[2]) then return true end
  end
  return false
end }
FUNCTIONS.ends_with = { min = 2, max = 2, fn = function(e, a, n)
  e:check_type(n, 1, a[1], "string")
  e:check_type(n, 2, a[2], "string")
  return a[2] == "" or a[1]:sub(-#a[2]) == a[2]
end }
FUNCTIONS.starts_with = { min = 2, max = 2, fn = function(e, a, n)
  e:check_type(n, 1, a[1], "string")
  e:check_type(n, 2, a[2], "string")
  return a[1]:sub(1, #a[2]) == a[2]
end }
FUNCTIONS.join = { min = 2, max = 2, fn = function(e, a, n)
  e:check_type(n, 1, a[1], "string")
  e:check_type(n, 2, a[2], "array-string")
  local parts = {}
  for i = 1, alen(a[2]) do parts[i] = a[2][i] end
  return tconcat(parts, a[1])
end }
FUNCTIONS.keys = { min = 1, max = 1, fn = function(e, a, n)
  e:check_type(n, 1, a[1], "object")
  local out = e:array()
  for k in pairs(a[1]) do out[#out + 1] = k end
  tsort(out)
  return out
end }
FUNCTIONS.values = { min = 1, max = 1, fn = function(e, a, n)
  e:check_type(n, 1, a[1], "object")
  local keys = {}
  for k in pairs(a[1]) do keys[#keys + 1] = k end
  tsort(keys)
  local out = e:array()
  for i, k in ipairs(keys) do out[i] = a[1][k] end
  return out
end }
FUNCTIONS.length = { min = 1, max = 1, fn = function(e, a, n)
  local t = e:check_type(n, 1, a[1], "string", "array", "object")
  if t == "string" then return utf8_length(a[1]) end
  if t == "array" then return alen(a[1]) end
  local count = 0
  for _ in pairs(a[1]) do count = count + 1 end
  return count
end }
FUNCTIONS.map = { min = 2, max = 2, fn = function(e, a, n)
  e:check_type(n, 2, a[2], "array")
  local out = e:array()
  for i = 1, alen(a[2]) do
    local r = e:expref_apply(n, 1, a[1], a[2][i])
    out[i] = r == nil and e.null or r
  end
  return out
end }
FUNCTIONS.max = { min = 1, max = 1, fn = function(e, a, n) return e:extreme(n, a, true) end }
FUNCTIONS.min = { min = 1, max = 1, fn = function(e, a, n) return e:extreme(n, a, false) end }
FUNCTIONS.max_by = { min = 2, max = 2, fn = function(e, a, n) return e:extreme_by(n, a, true) end }
FUNCTIONS.min_by = { min = 2, max = 2, fn = function(e, a, n) return e:extreme_by(n, a, false) end }
FUNCTIONS.merge = { min = 1, fn = function(e, a, n)
  local out = setmetatable({}, e.object_mt)
  for i = 1, #a do
    e:check_type(n, i, a[i], "object")
    for k, v in pairs(a[i]) do out[k] = v end
  end
  return out
end }
FUNCTIONS.not_null = { min = 1, fn = function(e, a)
  for i = 1, #a do
    if not e:is_null(a[i]) then return a[i] end
  end
  return nil
end }
FUNCTIONS.reverse = { min = 1, max = 1, fn = function(e, a, n)
  local t = e:check_type(n, 1, a[1], "array", "string")
  if t == "string" then
    local chars = {}
    for ch in a[1]:gmatch("[%z\1-\127\194-\244][\128-\191]*") do table.insert(chars, 1, ch) end
    return tconcat(chars)
  end
  local out, count = e:array(), alen(a[1])
  for i = 1, count do out[i] = a[1][count - i + 1] end
  return out
end }
FUNCTIONS.sort = { min = 1, max = 1, fn = function(e, a, n)
  e:check_type(n, 1, a[1], "array-number", "array-string")
  return e:sort_by_keys(n, a[1], function(x) return x end)
end }
FUNCTIONS.sort_by = { min = 2, max = 2, fn = function(e, a, n)
  e:check_type(n, 1, a[1], "array")
  return e:sort_by_keys(n, a[1], function(x) return e:expref_apply(n, 2, a[2], x) end)
end }
FUNCTIONS.sum = { min = 1, max = 1, fn = function(e, a, n)
  e:check_type(n, 1, a[1], "array-number")
  local sum = 0
  for i = 1, alen(a[1]) do sum = sum + a[1][i] end
  return sum
end }
FUNCTIONS.to_array = { min = 1, max = 1, fn = function(e, a)
  if e:is_array(a[1]) then return a[1] end
  return e:array({ a[1] })
end }
FUNCTIONS.to_string = { min = 1, max = 1, fn = function(e, a)
  if type(a[1]) == "string" then return a[1] end
  return e.encode(a[1])
end }
FUNCTIONS.to_number = { min = 1, max = 1, fn = function(_, a)
  local v = a[1]
  if type(v) == "number" then return v end
  if type(v) == "string" and v:match("^%-?%d+%.?%d*[eE]?[-+]?%d*$") then
    local x = tonumber(v)
    if x and x == x and x ~= huge and x ~= -huge then return x end
  end
  return nil
end }
FUNCTIONS.type = { min = 1, max = 1, fn = function(e, a) return e:type_of(a[1]) end }

-- ------------------------------------------------------------------------------------------
-- API
-- ------------------------------------------------------------------------------------------

--- Makes a query engine.
-- @tparam table env `null` (the JSON null sentinel), `array_mt` (the array marker
--   metatable), `encode` (value → JSON text, for to_string) and `decode` (JSON text → value,
--   keeping nulls as `null`, for literals)
-- @treturn table an engine with `compile(expression)` and `search(compiled, data)`
function M.new(env)
  local e = setmetatable({
    null = env.null, array_mt = env.array_mt, encode = env.encode, decode = env.decode,
    cache = {}, cached = 0,
  }, Engine)
  return e
end

--- Compiles an expression, or raises a QueryError (a table with `kind` and `message`).
function Engine:compile(expression)
  local hit = self.cache[expression]
  if hit then return hit end
  local p = setmetatable({ toks = tokenize(self, expression), i = 1 }, Parser)
  local ast = p:expression(0)
  local t = p:peek()
  if t.type ~= "eof" then p:fail(t, "expected the end of the expression") end
  -- A small bounded cache: scripts tend to reuse a handful of expressions.
  if self.cached >= 64 then self.cache, self.cached = {}, 0 end
  self.cache[expression] = ast
  self.cached = self.cached + 1
  return ast
end

--- Evaluates a compiled expression against data; raises a QueryError on a runtime error
-- (a wrong argument type, an unknown function...). A null result is returned as `null`.
function Engine:search(ast, data)
  return self:eval(ast, data)
end

--- Runs fn(...) and turns a QueryError into `nil, kind, message`; other errors propagate.
function M.protect(fn, ...)
  local ok, r = pcall(fn, ...)
  if ok then return true, r end
  if getmetatable(r) == QueryError then return false, r.kind, r.message end
  error(r, 0)
end

return M
