-- client:pages and client:items across scripted pages.
local capture = require("helpers.capture")
local F = require("helpers.fixtures")
local ivs = require("ivs")

local function channel(n)
  return { arn = "arn:aws:ivs:us-west-2:123456789012:channel/ch" .. n, name = "ch" .. n, latencyMode = "LOW",
    authorized = false, insecureIngest = false, type = "STANDARD", preset = "", tags = {} }
end

describe("pagination", function()
  after_each(capture.finish_all)

  it("follows nextToken across 3 pages and stops at the last", function()
    local srv = capture.start({
      { body = { channels = { channel(1), channel(2) }, nextToken = "dG9rZW4tMQ==" } },
      { body = { channels = { channel(3) }, nextToken = "dG9rZW4tMg==" } },
      { body = { channels = { channel(4) } } },
    })
    local c = F.client(ivs, srv.url)
    finally(function() c:close() end)
    local params = { maxResults = 2, filterByName = "ch" }
    local names = {}
    local pages = 0
    for page in c:pages("list_channels", params) do
      pages = pages + 1
      for _, ch in ipairs(page.channels) do names[#names + 1] = ch.name end
    end
    assert.equal(3, pages)
    assert.same({ "ch1", "ch2", "ch3", "ch4" }, names)
    assert.is_nil(params.nextToken) -- the caller's table is not modified
    local reqs = srv:finish()
    assert.equal(3, #reqs)
    assert.same({ maxResults = 2, filterByName = "ch" }, reqs[1].json)
    assert.same({ maxResults = 2, filterByName = "ch", nextToken = "dG9rZW4tMQ==" }, reqs[2].json)
    assert.same({ maxResults = 2, filterByName = "ch", nextToken = "dG9rZW4tMg==" }, reqs[3].json)
  end)

  it("yields items across pages, honouring max_items", function()
    local srv = capture.start({
      { body = { channels = { channel(1), channel(2) }, nextToken = "p2" } },
      { body = { channels = { channel(3) }, nextToken = "p3" } },
      { body = { channels = { channel(4) } } },
    })
    local c = F.client(ivs, srv.url)
    finally(function() c:close() end)
    local names = {}
    for ch in c:items("ListChannels") do names[#names + 1] = ch.name end
    assert.same({ "ch1", "ch2", "ch3", "ch4" }, names)
    assert.equal(3, #srv:finish())

    local srv2 = capture.start({
      { body = { channels = { channel(1), channel(2) }, nextToken = "p2" } },
      { body = { channels = { channel(3) }, nextToken = "p3" } },
    })
    local c2 = F.client(ivs, srv2.url)
    finally(function() c2:close() end)
    names = {}
    for ch in c2:items("list_channels", nil, { max_items = 3 }) do names[#names + 1] = ch.name end
    assert.same({ "ch1", "ch2", "ch3" }, names)
    assert.equal(2, #srv2:finish())
  end)

  it("stops on an empty token and on a token the service already gave", function()
    local srv = capture.start({
      { body = { streamSessions = { { streamId = "st-a" } }, nextToken = "same" } },
      { body = { streamSessions = { { streamId = "st-b" } }, nextToken = "same" } },
      { body = { streamSessions = { { streamId = "st-c" } }, nextToken = "never-fetched" } },
    })
    local c = F.client(ivs, srv.url)
    finally(function() c:close() end)
    local ids = {}
    for s in c:items("list_stream_sessions", { channelArn = F.CHANNEL_ARN }) do ids[#ids + 1] = s.streamId end
    assert.same({ "st-a", "st-b" }, ids)
    assert.equal(2, #srv:finish())

    local srv2 = capture.start({ { body = { playbackRestrictionPolicies = { F.policy }, nextToken = "" } } })
    local c2 = F.client(ivs, srv2.url)
    finally(function() c2:close() end)
    local n = 0
    for p in c2:items("list_playback_restriction_policies") do
      n = n + 1
      assert.equal(F.POLICY_ARN, p.arn)
    end
    assert.equal(1, n)
    assert.equal(1, #srv2:finish())
  end)

  it("raises the error table when a page fails", function()
    local srv = capture.start({
      { body = { streamKeys = { F.stream_key_summary }, nextToken = "p2" } },
      { status = 404, headers = { ["x-amzn-ErrorType"] = "ResourceNotFoundException" },
        body = { exceptionMessage = "Channel deleted" } },
    })
    local c = F.client(ivs, srv.url)
    finally(function() c:close() end)
    local seen = 0
    local ok, err = pcall(function()
      for _ in c:items("list_stream_keys", { channelArn = F.CHANNEL_ARN }) do seen = seen + 1 end
    end)
    assert.is_false(ok)
    assert.equal(1, seen)
    assert.equal(ivs.Error, getmetatable(err))
    assert.equal("ResourceNotFoundException", err.code)
    assert.equal("Channel deleted", err.message)
  end)

  it("stops after max_pages", function()
    local srv = capture.start({
      { body = { keyPairs = {}, nextToken = "p2" } },
      { body = { keyPairs = {}, nextToken = "p3" } },
    })
    local c = F.client(ivs, srv.url)
    finally(function() c:close() end)
    local n = 0
    for _ in c:pages("list_playback_key_pairs", {}, { max_pages = 2 }) do n = n + 1 end
    assert.equal(2, n)
    assert.equal(2, #srv:finish())
    assert.has_error(function() c:pages("list_playback_key_pairs", {}, { max_pages = 0 }) end,
      "bad argument #3 to 'pages' (max_pages must be an integer >= 1)")
  end)

  it("works for every operation that takes a nextToken", function()
    local n = 0
    for _, name in ipairs(ivs.operations()) do
      local d = ivs.describe(name)
      local has_token = false
      for _, p in ipairs(d.params) do has_token = has_token or p.name == "nextToken" end
      assert.equal(has_token, d.paginated, name)
      if has_token then
        n = n + 1
        assert.is_string(d.result_key, name)
      end
    end
    assert.equal(8, n)
  end)
end)
