-- The READMEs against the repository and the code: every repository path they cite exists,
-- the comparison table's claim about boto3 waiters agrees with botocore (when installed), and the
-- emulator's filterByName behaves as the READMEs state.
local ivs = require("ivs")
local emulator = require("helpers.emulator")

local ROOT = os.getenv("IVS_ROOT") or "."

local function read(path)
  local f = io.open(path)
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function exists(path)
  local f = io.open(path)
  if f then f:close() return true end
  return false
end

-- Top-level directories of the repository: a cited path starting with one of them names a file of
-- the repository. build/, docs/api/ and bench/results/ hold what make writes, never committed.
local TOP = { "bench", "core", "emulator", "lua_binding", "models", "rockspec", "scripts", "tests" }
local GENERATED = { "^build/", "^docs/api/", "^bench/results/" }

-- The repository paths a Markdown text cites (in code spans, links or plain text).
local function cited_paths(text)
  local found, seen = {}, {}
  for token in text:gmatch("[%w_./<>{}*-]+") do
    local path = token:gsub("^%./", ""):gsub("[.,:;]+$", "")
    -- a pattern such as `core/src/model_<prefix>.c` or `models/*/` names no single file
    if path:find("[<>{}*]") then path = "" end
    local first = path:match("^([%w_-]+)/")
    local is_top = false
    for _, t in ipairs(TOP) do is_top = is_top or first == t end
    local generated = false
    for _, g in ipairs(GENERATED) do generated = generated or path:find(g) ~= nil end
    if is_top and not generated and not seen[path] then
      seen[path] = true
      found[#found + 1] = path
    end
  end
  return found
end

describe("README.md and emulator/README.md", function()
  for _, doc in ipairs({ "README.md", "emulator/README.md" }) do
    it(doc .. " cites only paths that exist in the repository", function()
      local text = assert(read(ROOT .. "/" .. doc), doc .. " is missing")
      local dir = doc:match("^(.*)/") or "."
      local paths = cited_paths(text)
      assert.is_true(#paths > 0, "no repository path found in " .. doc)
      local missing = {}
      for _, path in ipairs(paths) do
        -- relative to the root, or (for a link) to the README's own directory
        local trimmed = path:gsub("/$", "")
        if not (exists(ROOT .. "/" .. trimmed) or exists(ROOT .. "/" .. dir .. "/" .. trimmed)) then
          missing[#missing + 1] = path
        end
      end
      assert.same({}, missing)
    end)
  end

  it("finds a missing path (the check itself)", function()
    local paths = cited_paths("see `emulator/no-such-file.c` and [x](scripts/examples/none.lua), " ..
      "not build/ivs-emulator, bench/results/latest.json or the pattern core/src/model_<prefix>.c")
    assert.same({ "emulator/no-such-file.c", "scripts/examples/none.lua" }, paths)
  end)

  it("does not claim boto3 has IVS waiters, and botocore agrees", function()
    local text = assert(read(ROOT .. "/README.md"))
    local row = text:match("\n(| Waiters |[^\n]*)")
    assert.is_truthy(row, "README.md's comparison has no Waiters row")
    local cells = {}
    for cell in row:gmatch("|([^|]*)") do cells[#cells + 1] = cell:match("^%s*(.-)%s*$") end
    -- | Waiters | lua-ivs | boto3 | paws | lua-resty-aws |
    local boto3 = cells[3]
    assert.is_truthy(boto3, row)
    assert.is_nil(boto3:lower():find("^yes"), "README.md says boto3 has waiters: " .. row)
    assert.is_truthy(boto3:lower():find("none", 1, true) or boto3:lower():find("^no"), row)
    -- botocore, when installed, must ship no waiter for any IVS service it knows
    local p = io.popen([[python3 -c '
import botocore.session, botocore.exceptions
session = botocore.session.get_session()
for name in ("ivs", "ivschat", "ivs-realtime"):
    if name in session.get_available_services():
        try:
            print(name, len(session.get_waiter_model(name).waiter_names))
        except botocore.exceptions.DataNotFoundError:
            print(name, 0)
' 2>/dev/null; echo "__rc=$?"]])
    local out = p:read("*a")
    p:close()
    if not out:find("__rc=0", 1, true) then
      pending("botocore is not installed: the waiter claim is checked only against README.md")
      return
    end
    local checked = 0
    for name, count in out:gmatch("([%w-]+) (%d+)") do
      checked = checked + 1
      assert.equal(0, tonumber(count), "botocore has waiters for " .. name)
    end
    assert.is_true(checked > 0, out)
  end)
end)

describe("filterByName in the emulator, as the READMEs state", function()
  local emu, client

  setup(function()
    emu = emulator.start()
    client = assert(ivs.new{ endpoint = emu.url, region = emu.region, credentials = emu.credentials })
  end)

  teardown(function()
    if client then client:close() end
    emulator.stop_all()
  end)

  it("keeps channels whose whole name equals the value, case-sensitively", function()
    local function make(name) return assert(client:create_channel{ name = name }).channel.arn end
    local a, b = make("lobby"), make("lobby")
    make("lobby-2")
    make("Lobby")
    make("the-lobby")
    local function names(filter)
      local arns = {}
      for item in client:items("list_channels", { filterByName = filter }) do arns[#arns + 1] = item.arn end
      return arns
    end
    assert.same({ a, b }, names("lobby"))
    assert.same({}, names("lob"))
    assert.same({}, names("LOBBY"))
    local readme = assert(read(ROOT .. "/emulator/README.md"))
    assert.is_truthy(readme:find("`filterByName` keeps the channels whose name equals the value exactly", 1, true))
    local out, err = client:list_channels{ filterByName = "lobby",
      filterByRecordingConfigurationArn = "arn:aws:ivs:us-west-2:123456789012:recording-configuration/AAAAAAAAAAAA" }
    assert.is_nil(out)
    assert.equal("ConflictException", err.code)
    assert.equal(409, err.status)
  end)
end)
