-- IVS Chat and IVS Real-Time through their Lua clients against ivs-emulator (one process on
-- one port serves the whole family): every operation of both services with inputs made from
-- the model (answered with success or one of the service's own errors, never a routing or
-- server failure), then the main flows with state: rooms, logging configurations and chat
-- tokens; stages, API-issued and self-signed participant tokens joined through the admin
-- API, sessions, participants and events; compositions holding their encoder configuration.
local compat = require("helpers.compat")
local emulator = require("helpers.emulator")
local Admin = require("helpers.admin")
local V = require("helpers.model_values")
local chat = require("ivs.chat")
local realtime = require("ivs.realtime")

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

describe("IVS Chat and Real-Time against ivs-emulator", function()
  local emu, admin

  local serves_family

  lazy_setup(function()
    emu = emulator.start()
    admin = Admin.new(emu)
    -- An emulator from before the family (low-latency IVS only) answers Chat's routes as
    -- unknown; these specs wait for one that serves all three services.
    local c = assert(chat.new{ endpoint = emu.url, region = emu.region, credentials = emu.credentials,
      max_attempts = 1 })
    local _, err = c:list_rooms{}
    c:close()
    serves_family = not (err and err.code == "MissingAuthenticationTokenException")
  end)
  lazy_teardown(function() if emu then emu:stop() end end)

  -- Marks the test pending (and says to return) when the emulator predates the family.
  local function unsupported()
    if serves_family then return false end
    pending("this ivs-emulator does not serve IVS Chat and Real-Time yet")
    return true
  end

  local function client(mod)
    return assert(mod.new{ endpoint = emu.url, region = emu.region, credentials = emu.credentials,
      max_attempts = 1, timeout = 10 })
  end

  local SERVICES = {
    { mod = chat, name = "ivschat", count = 17 },
    { mod = realtime, name = "ivs-realtime", count = 39 },
  }
  for _, S in ipairs(SERVICES) do
    it("answers every " .. S.name .. " operation with a result or one of the service's errors", function()
      if unsupported() then return end
      admin:reset()
      local c = client(S.mod)
      local ops = S.mod.operations()
      assert.equal(S.count, #ops)
      local wrong, succeeded = {}, 0
      for _, op in ipairs(ops) do
        local out, err = c[op](c, V.input(S.mod.describe(op)))
        if out then
          succeeded = succeeded + 1
        elseif err.kind ~= "service" or err.status == 403 or err.status == 401 or err.status >= 500
            or not err.code:find("Exception$") then
          wrong[#wrong + 1] = op .. ": " .. tostring(err)
        end
      end
      c:close()
      assert.same({}, wrong)
      -- The creates succeed; most others name resources that do not exist (a modelled error).
      assert.is_true(succeeded >= 2, "only " .. succeeded .. " operations succeeded")
    end)
  end

  it("keeps rooms, logging configurations and chat tokens", function()
    if unsupported() then return end
    admin:reset()
    local c = client(chat)
    local log = assert(c:create_logging_configuration{ name = "archive",
      destinationConfiguration = { s3 = { bucketName = "chat-logs" } }, tags = { team = "games" } })
    assert.matches("^arn:aws:ivschat:us%-west%-2:%d+:logging%-configuration/[%w]+$", log.arn)
    local room = assert(c:create_room{ name = "lobby", maximumMessageLength = 200,
      loggingConfigurationIdentifiers = { log.arn } })
    assert.matches("^arn:aws:ivschat:us%-west%-2:%d+:room/[%w]+$", room.arn)
    local got = assert(c:get_room{ identifier = room.arn })
    assert.equal("lobby", got.name)
    assert.equal(200, got.maximumMessageLength)
    assert.same({ log.arn }, got.loggingConfigurationIdentifiers)
    local n = 0
    for r in c:items("list_rooms", { maxResults = 1 }) do
      n = n + 1
      assert.equal(room.arn, r.arn)
    end
    assert.equal(1, n)
    local tok = assert(c:create_chat_token{ roomIdentifier = room.arn, userId = "viewer-1",
      capabilities = { "SEND_MESSAGE" }, sessionDurationInMinutes = 30 })
    assert.is_string(tok.token)
    assert.is_string(tok.tokenExpirationTime)
    assert.is_string(tok.sessionExpirationTime)
    assert(c:tag_resource{ resourceArn = room.arn, tags = { env = "dev" } })
    assert.same({ env = "dev" }, assert(c:list_tags_for_resource{ resourceArn = room.arn }).tags)
    assert(c:untag_resource{ resourceArn = room.arn, tagKeys = { "env" } })
    assert.same({}, assert(c:list_tags_for_resource{ resourceArn = room.arn }).tags)
    assert(c:update_room{ identifier = room.arn, name = "lobby-2" })
    assert.equal("lobby-2", assert(c:get_room{ identifier = room.arn }).name)
    assert(c:delete_room{ identifier = room.arn })
    local none, err = c:get_room{ identifier = room.arn }
    assert.is_nil(none)
    assert.equal("ResourceNotFoundException", err.code)
    assert.equal(404, err.status)
    assert(c:delete_logging_configuration{ identifier = log.arn })
    c:close()
  end)

  it("joins a stage with API-issued and self-signed participant tokens", function()
    if unsupported() then return end
    admin:reset()
    local c = client(realtime)
    local created = assert(c:create_stage{ name = "studio",
      participantTokenConfigurations = { { userId = "host", capabilities = { "PUBLISH", "SUBSCRIBE" } } } })
    local stage = created.stage
    assert.matches("^arn:aws:ivs:us%-west%-2:%d+:stage/[%w]+$", stage.arn)
    assert.equal(1, #created.participantTokens)
    local api_token = assert(c:create_participant_token{ stageArn = stage.arn, userId = "guest",
      capabilities = { "SUBSCRIBE" } }).participantToken
    assert.is_string(api_token.token)

    -- A self-signed token: the public half imported, the private half signing here.
    local p = assert(io.popen("mktemp -d"))
    local dir = p:read("*l")
    p:close()
    assert.is_true(compat.execute("openssl ecparam -name secp384r1 -genkey -noout -out " .. q(dir .. "/k.pem")
      .. " 2>/dev/null && openssl ec -in " .. q(dir .. "/k.pem") .. " -pubout -out " .. q(dir .. "/p.pem")
      .. " 2>/dev/null") == true)
    local f = assert(io.open(dir .. "/k.pem"))
    local private = f:read("*a")
    f:close()
    f = assert(io.open(dir .. "/p.pem"))
    local public = f:read("*a")
    f:close()
    os.execute("rm -rf " .. q(dir))
    local key = assert(c:import_public_key{ publicKeyMaterial = public, name = "signer" }).publicKey
    assert.matches("^arn:aws:ivs:us%-west%-2:%d+:public%-key/[%w]+$", key.arn)
    local self_signed = assert(realtime.participant_token{ private_key = private, public_key_arn = key.arn,
      stage_arn = stage.arn, events_url = stage.endpoints.events, whip_url = stage.endpoints.whip,
      user_id = "self", participant_id = "selfsigned1", capabilities = { "PUBLISH" }, expires_in = 600 })

    local status, joined = admin:request("POST", "/stages/join", { token = api_token.token })
    assert.equal(200, status)
    status = admin:request("POST", "/stages/join", { token = self_signed })
    assert.equal(200, status)
    -- A token signed with another key is refused.
    local other = assert(realtime.participant_token{ private_key = private, public_key_arn = key.arn:gsub("[%w]+$",
      "AAAAAAAAAAAA"), stage_arn = stage.arn, events_url = stage.endpoints.events,
      whip_url = stage.endpoints.whip, expires_in = 600 })
    status = admin:request("POST", "/stages/join", { token = other })
    assert.equal(401, status)

    local session = assert(c:get_stage{ arn = stage.arn }).stage.activeSessionId
    assert.equal(joined.sessionId or session, session)
    assert.matches("^st%-[%w]+$", session)
    local ids = {}
    for part in c:items("list_participants", { stageArn = stage.arn, sessionId = session }) do
      ids[part.participantId] = part.userId
    end
    assert.equal("self", ids.selfsigned1)
    assert.equal("guest", ids[api_token.participantId])
    local events = assert(c:list_participant_events{ stageArn = stage.arn, sessionId = session,
      participantId = "selfsigned1" }).events
    assert.equal("JOINED", events[#events].name)
    assert.is_truthy(assert(c:get_stage_session{ stageArn = stage.arn, sessionId = session }).stageSession)
    c:close()
  end)

  it("keeps an encoder configuration while a composition uses it", function()
    if unsupported() then return end
    admin:reset()
    local c = client(realtime)
    local stage = assert(c:create_stage{ name = "show" }).stage
    local enc = assert(c:create_encoder_configuration{ name = "hd",
      video = { width = 1280, height = 720, framerate = 30, bitrate = 2500000 } }).encoderConfiguration
    local storage = assert(c:create_storage_configuration{ name = "rec",
      s3 = { bucketName = "show-recordings" } }).storageConfiguration
    local comp, err = c:start_composition{ stageArn = stage.arn, destinations = { { s3 = {
      storageConfigurationArn = storage.arn, encoderConfigurationArns = { enc.arn } } } } }
    assert.is_table(comp, err and tostring(err))
    local arn = comp.composition.arn
    local none
    none, err = c:delete_encoder_configuration{ arn = enc.arn }
    assert.is_nil(none)
    assert.equal("ConflictException", err.code)
    assert.equal(409, err.status)
    local listed = {}
    for item in c:items("list_compositions", { filterByStageArn = stage.arn }) do listed[#listed + 1] = item.arn end
    assert.same({ arn }, listed)
    assert(c:stop_composition{ arn = arn })
    c:close()
  end)
end)
