-- ivs.query: JMESPath, against the official compliance cases in ../shared/jmespath (skipped
-- when absent) and our own cases for the parts of the language those files do not cover.

local ivs = require("ivs")

local ROOT = os.getenv("IVS_ROOT") or "."
local SUITE = ROOT .. "/../shared/jmespath"
local NULL = ivs.json.null

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function decode(text)
  return assert(ivs.json.decode(text, { null = NULL }))
end

-- Canonical text for a value: keys sorted, null as null.
local function canon(v)
  if v == nil then return "null" end
  return ivs.json.encode(v)
end

local function q(data, expr)
  local r, err = ivs.query(data, expr)
  return r, err
end

describe("ivs.query (JMESPath compliance suite)", function()
  local files = { "basic", "boolean", "current", "escape", "filters", "identifiers",
                  "multiselect", "pipe", "wildcard" }
  for _, name in ipairs(files) do
    it(name .. ".json", function()
      local text = read(SUITE .. "/" .. name .. ".json")
      if not text then
        pending("the JMESPath compliance files are not here (" .. SUITE .. ")")
        return
      end
      local suites = decode(text)
      local count, failures = 0, {}
      for _, suite in ipairs(suites) do
        for _, case in ipairs(suite.cases) do
          count = count + 1
          local r, err = q(suite.given, case.expression)
          if case.error ~= nil then
            if err == nil then
              failures[#failures + 1] = string.format("%s: expected %s error, got %s",
                case.expression, case.error, canon(r))
            elseif case.error == "syntax" and err.code ~= "InvalidQuery" then
              failures[#failures + 1] = string.format("%s: expected a syntax error, got %s",
                case.expression, tostring(err))
            end
          elseif err then
            failures[#failures + 1] = string.format("%s: %s", case.expression, tostring(err))
          else
            local want = case.result == NULL and "null" or canon(case.result)
            if canon(r) ~= want then
              failures[#failures + 1] = string.format("%s: got %s, want %s", case.expression,
                canon(r), want)
            end
          end
        end
      end
      assert.is_true(count > 0)
      assert.are.same({}, failures)
    end)
  end
end)

describe("ivs.query (the rest of the specification)", function()
  local data = decode([[{
    "people": [
      {"name": "b", "age": 30, "tags": ["x"]},
      {"name": "a", "age": 50, "tags": []},
      {"name": "c", "age": 40, "tags": ["y", "z"]}
    ],
    "nums": [5, -2, 10, 3.5],
    "strs": ["b", "a", "c"],
    "obj": {"k1": 1, "k2": 2},
    "s": "héllo",
    "empty": [],
    "n": null
  }]])

  local cases = {
    -- functions
    { "abs(nums[1])", "2" }, { "avg(nums)", "4.125" }, { "ceil(`1.2`)", "2" }, { "floor(`1.8`)", "1" },
    { "contains(strs, 'a')", "true" }, { "contains(s, 'll')", "true" }, { "contains(strs, 'q')", "false" },
    { "ends_with(s, 'llo')", "true" }, { "starts_with(s, 'hé')", "true" },
    { "join(', ', strs)", '"b, a, c"' }, { "keys(obj)", '["k1","k2"]' }, { "values(obj)", "[1,2]" },
    { "length(s)", "5" }, { "length(people)", "3" }, { "length(obj)", "2" },
    { "map(&name, people)", '["b","a","c"]' }, { "max(nums)", "10" }, { "min(strs)", '"a"' },
    { "max_by(people, &age).name", '"a"' }, { "min_by(people, &age).name", '"b"' },
    { "merge(obj, `{\"k2\": 3, \"k3\": 4}`)", '{"k1":1,"k2":3,"k3":4}' },
    { "not_null(n, missing, 'x')", '"x"' }, { "not_null(n)", "null" },
    { "reverse(strs)", '["c","a","b"]' }, { "reverse(s)", '"olléh"' },
    { "sort(strs)", '["a","b","c"]' }, { "sort(nums)", "[-2,3.5,5,10]" },
    { "sort_by(people, &age)[*].name", '["b","c","a"]' }, { "sum(nums)", "16.5" },
    { "to_array(s)", '["héllo"]' }, { "to_array(strs)", '["b","a","c"]' },
    { "to_string(obj)", '"{\\"k1\\":1,\\"k2\\":2}"' }, { "to_string(s)", '"héllo"' },
    { "to_number('12')", "12" }, { "to_number('x')", "null" }, { "type(n)", '"null"' },
    { "type(empty)", '"array"' }, { "type(obj)", '"object"' }, { "type(`true`)", '"boolean"' },
    { "max(empty)", "null" }, { "avg(empty)", "null" },
    -- slices
    { "nums[1:3]", "[-2,10]" }, { "nums[::-1]", "[3.5,10,-2,5]" }, { "nums[-2:]", "[10,3.5]" },
    { "nums[::2]", "[5,10]" }, { "people[:2].name", '["b","a"]' }, { "nums[10:]", "[]" },
    -- literals, raw strings, comparisons, logic
    { "`[1, 2]`", "[1,2]" }, { "'it\\'s'", '"it\'s"' }, { "`\"a\"` == 'a'", "true" },
    { "people[?age > `35`].name", '["a","c"]' }, { "people[?tags == `[]`].name", '["a"]' },
    { "people[?!(age < `40`)].name", '["a","c"]' }, { "n || 'd'", '"d"' }, { "s && 'y'", '"y"' },
    { "people[].tags[]", '["x","y","z"]' }, { "people[?age >= `40`] | [0].name", '"a"' },
    { "s < 'z'", "null" },
  }
  for _, c in ipairs(cases) do
    it(c[1], function()
      local r, err = q(data, c[1])
      assert.is_nil(err)
      assert.are.equal(c[2], canon(r))
    end)
  end

  it("reports the kind of each error", function()
    local errs = {
      { "abs('x')", "invalid-type" }, { "abs(`1`, `2`)", "invalid-arity" },
      { "nope(@)", "unknown-function" }, { "nums[::0]", "invalid-value" },
      { "a.", "syntax" }, { "[?", "syntax" }, { "foo = 1", "syntax" }, { "`\"open`", "syntax" },
      { "sort(people)", "invalid-type" }, { "'unterminated", "syntax" },
    }
    for _, e in ipairs(errs) do
      local r, err = q(data, e[1])
      assert.is_nil(r, e[1])
      assert.is_truthy(err, e[1])
      assert.are.equal(e[2], err.query_error, e[1])
      assert.are.equal(ivs.Error, getmetatable(err))
      assert.are.equal(e[2] == "syntax" and "InvalidQuery" or "QueryError", err.code)
    end
  end)

  it("treats an API result's empty list as a list", function()
    local r = q({ channels = {} }, "channels[*].arn")
    assert.are.equal("[]", canon(r))
    assert.are.equal(0, q({ channels = {} }, "length(channels)"))
  end)

  it("returns nil for null and refuses a non-string expression", function()
    assert.is_nil((q({}, "missing")))
    assert.is_nil(select(2, q({}, "missing")))
    assert.has_error(function() ivs.query({}, 42) end)
  end)
end)

describe("ivs.json.null", function()
  it("round-trips nulls when asked and drops them by default", function()
    local v = assert(ivs.json.decode('{"a":null,"b":[1,null,2]}', { null = ivs.json.null }))
    assert.are.equal(ivs.json.null, v.a)
    assert.are.equal(ivs.json.null, v.b[2])
    assert.are.equal('{"a":null,"b":[1,null,2]}', ivs.json.encode(v))
    local plain = assert(ivs.json.decode('{"a":null,"b":[1,null,2]}'))
    assert.is_nil(plain.a)
    assert.are.equal('{"b":[1,2]}', ivs.json.encode(plain))
    assert.are.equal("null", ivs.json.encode(ivs.json.null))
  end)

  it("refuses options that are not a table", function()
    assert.has_error(function() ivs.json.decode("{}", 5) end)
  end)
end)
