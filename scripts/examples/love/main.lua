-- A LÖVE (love2d.org) game loop that shows an IVS channel's live stream state without ever
-- blocking a frame: GetStream is started with client:start and the client is polled with a
-- zero timeout from love.update, so a slow network costs no frame time.
--
--   IVS_CHANNEL_ARN=arn:aws:ivs:... love scripts/examples/love
--
-- LÖVE runs LuaJIT: install the `ivs` rock for Lua 5.1 (README.md, "Lua versions"). AWS
-- configuration comes from the environment as for any ivs client (AWS_PROFILE, AWS_REGION,
-- AWS_ENDPOINT_URL_IVS for a local ivs-emulator...).
local ivs = require("ivs")

local REFRESH_SECONDS = 5

local client, call
local channel_arn = os.getenv("IVS_CHANNEL_ARN")
if channel_arn == "" then channel_arn = nil end
local text = "starting"
local since_refresh = REFRESH_SECONDS -- ask at once

function love.load()
  local err
  client, err = ivs.new{ app_id = "ivs-love-example" }
  if not client then
    text = "no IVS client: " .. tostring(err)
  elseif not channel_arn then
    text = "set IVS_CHANNEL_ARN to the channel to watch"
  end
end

-- What a finished GetStream says, as one line.
local function describe(out, err)
  if out then
    local s = out.stream
    return string.format("%s, %s, %d viewers", s.state, s.health, s.viewerCount or 0)
  elseif err.code == "ChannelNotBroadcasting" then
    return "offline"
  end
  return "error: " .. tostring(err)
end

function love.update(dt)
  if not client or not channel_arn then return end
  client:poll(0) -- never waits: moves the request along and returns
  if call and call:done() then
    text = describe(call:result())
    call = nil
  end
  since_refresh = since_refresh + dt
  if not call and since_refresh >= REFRESH_SECONDS then
    since_refresh = 0
    local err
    call, err = client:start("get_stream", { channelArn = channel_arn })
    if not call then text = "error: " .. tostring(err) end
  end
end

function love.draw()
  love.graphics.print("IVS stream: " .. text, 20, 20)
end

function love.quit()
  if client then client:close() end -- also cancels a request in flight
end
