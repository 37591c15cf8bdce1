-- Model validation through Lua: every problem in one nil, err; nothing sent. And the
-- conversion rules from Lua values to JSON (misuse raises, naming the parameter path).
local capture = require("helpers.capture")
local F = require("helpers.fixtures")
local ivs = require("ivs")

describe("validation", function()
  local srv, client
  before_each(function()
    srv = capture.start({})
    client = F.client(ivs, srv.url)
  end)
  after_each(function()
    client:close()
    capture.finish_all()
  end)

  local function invalid(op, params)
    local out, err = client[op](client, params)
    assert.is_nil(out)
    assert.equal(ivs.Error, getmetatable(err))
    assert.equal("validation", err.kind)
    assert.equal("ParamValidationError", err.code)
    assert.equal(0, err.attempts)
    assert.equal(0, err.status)
    assert.is_false(err.retryable)
    assert.equal(op, err.operation)
    return err.message, err
  end

  it("sends an empty table as the kind its shape wants (the C core takes JSON kinds as they are)", function()
    srv = capture.start({ { status = 200, body = { playbackRestrictionPolicy = {} } } })
    client:close()
    client = F.client(ivs, srv.url)
    local out, err = client:create_playback_restriction_policy({ allowedCountries = {}, tags = {} })
    assert.is_table(out, err and tostring(err))
    local requests = srv:finish()
    assert.equal(1, #requests)
    assert.matches('"allowedCountries":%[%]', requests[1].body)
    assert.matches('"tags":{}', requests[1].body)
  end)

  it("names an unknown parameter and suggests the closest one", function()
    local msg = invalid("create_channel", { name = "lobby", latencyMod = "LOW" })
    assert.matches("latencyMod", msg)
    assert.matches("latencyMode", msg)
  end)

  it("reports a missing required parameter", function()
    local msg = invalid("get_channel", {})
    assert.matches("arn", msg)
    msg = invalid("insert_ad_break", { channelArn = F.CHANNEL_ARN })
    assert.matches("durationSeconds", msg)
  end)

  it("reports wrong types, enums, lengths and list sizes", function()
    assert.matches("name", invalid("create_channel", { name = 5 }))
    assert.matches("authorized", invalid("create_channel", { authorized = "yes" }))
    assert.matches("latencyMode", invalid("create_channel", { latencyMode = "ULTRA" }))
    assert.matches("name", invalid("create_channel", { name = string.rep("a", 129) }))
    assert.matches("arns", invalid("batch_get_channel", { arns = {} }))
    local many = {}
    for i = 1, 51 do many[i] = F.CHANNEL_ARN end
    assert.matches("arns", invalid("batch_get_channel", { arns = many }))
    assert.matches("maxResults", invalid("list_channels", { maxResults = 0 }))
    assert.matches("durationSeconds", invalid("insert_ad_break", { channelArn = F.CHANNEL_ARN, durationSeconds = 2.5 }))
  end)

  it("reports every problem at once, each with its path", function()
    local long_key = string.rep("k", 129)
    local msg = invalid("create_channel", { name = string.rep("n", 129), latencyMode = "ULTRA",
      tags = { [long_key] = "v" }, bogus = true })
    assert.is_truthy(msg:find("create_channel", 1, true), msg)
    assert.is_truthy(msg:find("name", 1, true), msg)
    assert.is_truthy(msg:find("latencyMode", 1, true), msg)
    assert.is_truthy(msg:find('tags["kkkk', 1, true), msg)
    assert.is_truthy(msg:find("bogus", 1, true), msg)
    local _, problems = msg:gsub(";", "")
    assert.is_true(problems >= 3, msg)
  end)

  it("reports nested paths", function()
    local msg = invalid("batch_start_viewer_session_revocation",
      { viewerSessions = { { channelArn = F.CHANNEL_ARN, viewerId = string.rep("v", 41) } } })
    assert.matches("viewerSessions", msg)
    assert.matches("viewerId", msg)
  end)

  it("sends nothing when validation fails", function()
    invalid("get_channel", {})
    invalid("create_channel", { latencyMode = "ULTRA" })
    client:close()
    assert.equal(0, #srv:finish())
  end)

  it("raises, naming the path, for tables that cannot be JSON", function()
    assert.has_error(function() client:create_channel{ tags = { [1] = "a", b = "c" } } end,
      "create_channel: tags: map keys must be strings")
    assert.has_error(function() client:batch_get_channel{ arns = { [1] = "a", [3] = "c" } } end,
      "batch_get_channel: arns: a list must be a sequence (keys 1..n, no holes)")
    assert.has_error(function() client:create_channel{ name = print } end,
      "create_channel: name: cannot send a function (JSON takes strings, numbers, booleans and tables)")
    assert.has_error(function() client:create_channel{ unknownThing = { 1, x = 2 } } end,
      "create_channel: unknownThing: a table must be either a sequence or have only string keys")
    assert.has_error(function() client:create_channel{ tags = { team = 0 / 0 } } end,
      "create_channel: tags[\"team\"]: numbers must be finite (JSON has no NaN or infinity)")
    assert.has_error(function() client:create_channel{ "lobby" } end,
      "create_channel: params: structure keys must be member names (strings)")
    -- Indices and nested members in the path; a path longer than its buffer is cut short.
    local arns = {}
    for i = 1, 1234 do arns[i] = "a" end
    arns[1234] = 1 / 0
    assert.has_error(function() client:batch_get_channel{ arns = arns } end,
      "batch_get_channel: arns[1234]: numbers must be finite (JSON has no NaN or infinity)")
    assert.has_error(function() client:create_channel{ srt = { x = { y = { false, print } } } } end,
      "create_channel: srt.x.y[2]: cannot send a function (JSON takes strings, numbers, booleans and tables)")
    local long = string.rep("k", 600)
    local ok, err = pcall(client.create_channel, client, { [long] = { [long] = print } })
    assert.is_false(ok)
    assert.equal("create_channel: " .. string.rep("k", 511) .. ": cannot send a function", err:sub(1, 16 + 511 + 24))
    local t = {}
    t.self = t
    assert.has_error(function() client:create_channel{ multitrackInputConfiguration = t } end)
    client:close()
    assert.equal(0, #srv:finish())
  end)
end)
