-- models/<service>/summaries.json: one sentence of our own per operation of every service of the
-- family. Every operation has one (an operation added to a model without one fails here), each
-- is a single short sentence, and none repeats the AWS documentation (checked against botocore's
-- documented models when they are installed; the models in the repository are doc-stripped).
local ivs = require("ivs")
local compat = require("helpers.compat")

local ROOT = os.getenv("IVS_ROOT") or "."
local SERVICES = { "ivs", "ivschat", "ivs-realtime" }

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- The operation names of a service's model: the repository's copy, else ../shared's.
local function model_operations(svc)
  for _, path in ipairs({
    ROOT .. "/models/" .. svc .. "/" .. svc .. "-2020-07-14.model.json",
    ROOT .. "/../shared/" .. svc .. "/" .. svc .. "-2020-07-14.model.json",
  }) do
    local text = read(path)
    if text then
      local model = assert(ivs.json.decode(text))
      local names = {}
      for name in pairs(model.operations) do names[#names + 1] = name end
      table.sort(names)
      return names
    end
  end
end

-- The Lua module of each service and the word the CLI takes before its operations.
local MODULES = { ivs = "ivs", ivschat = "ivs.chat", ["ivs-realtime"] = "ivs.realtime" }
local CLI_WORDS = { ivs = nil, ivschat = "chat", ["ivs-realtime"] = "realtime" }

-- Runs `ivs args...` under this run's interpreter; returns exit status and stdout.
local function cli(args)
  local quoted = {}
  for i, a in ipairs(args) do quoted[i] = q(a) end
  local p = assert(io.popen(string.format("AWS_REGION=us-west-2 timeout 60 %s %s %s 2>&1; echo \"__rc=$?\"",
    compat.LUA, q(ROOT .. "/scripts/ivs"), table.concat(quoted, " "))))
  local out = p:read("*a")
  p:close()
  return tonumber(out:match("__rc=(%d+)%s*$")), (out:gsub("__rc=%d+%s*$", ""))
end

local function summaries(svc)
  local text = assert(read(ROOT .. "/models/" .. svc .. "/summaries.json"), "models/" .. svc .. "/summaries.json")
  return assert(ivs.json.decode(text))
end

describe("operation summaries", function()
  for _, svc in ipairs(SERVICES) do
    it(svc .. ": every operation has one short sentence, and nothing else is there", function()
      local ops = model_operations(svc)
      if not ops then
        pending("no model of " .. svc .. " in models/ or ../shared")
        return
      end
      local s = summaries(svc)
      local problems = {}
      for _, op in ipairs(ops) do
        local line = s[op]
        if type(line) ~= "string" or line == "" then
          problems[#problems + 1] = op .. ": no summary"
        else
          if line:find("[\r\n]") then problems[#problems + 1] = op .. ": more than one line" end
          if not line:find("^%u") then problems[#problems + 1] = op .. ": does not start with a capital" end
          if not line:find("%.$") then problems[#problems + 1] = op .. ": does not end with a period" end
          if #line > 150 then problems[#problems + 1] = op .. ": longer than 150 characters" end
          if line:find("[`*<>]") then problems[#problems + 1] = op .. ": markup in a plain sentence" end
        end
      end
      local known = {}
      for _, op in ipairs(ops) do known[op] = true end
      for op in pairs(s) do
        if not known[op] then problems[#problems + 1] = op .. ": not an operation of " .. svc end
      end
      table.sort(problems)
      assert.same({}, problems)
    end)
  end

  for _, svc in ipairs(SERVICES) do
    it(svc .. ": describe() gives each summary, and the CLI's help shows it", function()
      local mod = require(MODULES[svc])
      local s = summaries(svc)
      local word = CLI_WORDS[svc]
      local code, overview = cli(word and { word, "help" } or { "help" })
      assert.equal(0, code, overview)
      local count = 0
      for _, snake in ipairs(mod.operations()) do
        local d = mod.describe(snake)
        assert.equal(s[d.name], d.summary, svc .. " " .. d.name)
        -- `ivs [chat|realtime] help` lists the operation with its summary on the same line
        local kebab = snake:gsub("_", "-")
        local pattern = "\n  " .. kebab:gsub("%-", "%%-") .. " +([^\n]+)"
        assert.equal(d.summary, overview:match(pattern), kebab .. " in:\n" .. overview)
        count = count + 1
      end
      local ops = model_operations(svc)
      if ops then assert.equal(#ops, count) end
      -- and `ivs [chat|realtime] help OP` starts with it
      local first = mod.operations()[1]
      local args = word and { word, "help", first } or { "help", first }
      local out
      code, out = cli(args)
      assert.equal(0, code, out)
      assert.is_truthy(out:find("\n\n" .. mod.describe(first).summary .. "\n", 1, true), out)
    end)
  end

  it("none repeats the documentation of botocore's models", function()
    -- botocore's service-2.json keeps the documentation the repository's models leave out;
    -- a summary must not be (or contain) its first sentence.
    local script = [[
import json, sys
import botocore.session
session = botocore.session.get_session()
out = {}
for name in sys.argv[1:]:
    if name in session.get_available_services():
        model = session.get_service_model(name)
        out[name] = {op: model.operation_model(op).documentation or "" for op in model.operation_names}
print(json.dumps(out))
]]
    local p = io.popen("python3 -c " .. q(script) .. " " .. table.concat(SERVICES, " ") .. " 2>/dev/null")
    local text = p:read("*a")
    p:close()
    local docs = text ~= "" and ivs.json.decode(text)
    if not docs or next(docs) == nil then
      pending("botocore with the IVS models is not installed")
      return
    end
    local function plain(s)
      return (s:gsub("<[^>]+>", " "):gsub("%s+", " "):lower():gsub("^%s+", ""):gsub("%s+$", ""))
    end
    local checked, copied = 0, {}
    for svc, ops in pairs(docs) do
      local s = summaries(svc)
      for op, doc in pairs(ops) do
        local ours = plain(s[op] or "")
        local first = plain(doc):match("^(.-%.)%s") or plain(doc)
        checked = checked + 1
        if ours ~= "" and (plain(doc):find(ours:gsub("%.$", ""), 1, true) or ours == first) then
          copied[#copied + 1] = svc .. " " .. op
        end
      end
    end
    assert.is_true(checked > 0)
    table.sort(copied)
    assert.same({}, copied)
  end)
end)
