-- Plays LÖVE for scripts/examples/love/main.lua: a stand-in `love` table whose graphics.print
-- records what is drawn, then frames (love.update, love.draw) until the drawn text matches a
-- pattern or a bound is reached. Prints the result as JSON for tests/lua/love_spec.lua.
--
--   luajit love_host.lua ROOT PATTERN MAX_FRAMES
local ROOT, PATTERN, MAX_FRAMES = arg[1], arg[2], tonumber(arg[3])
local cjson = require("cjson")
local socket = require("socket")

local drawn = {}
love = { graphics = { print = function(s, x, y)
  assert(type(s) == "string" and type(x) == "number" and type(y) == "number")
  drawn[#drawn + 1] = s
end } }
dofile(ROOT .. "/scripts/examples/love/main.lua")

local record = { frames = 0, slowest_update = 0, texts = {} }
love.load()
for frame = 1, MAX_FRAMES do
  local t0 = socket.gettime()
  love.update(1 / 60)
  local dt = socket.gettime() - t0
  if dt > record.slowest_update then record.slowest_update = dt end
  drawn = {}
  love.draw()
  record.frames = frame
  local text = drawn[1] or ""
  if record.texts[#record.texts] ~= text then record.texts[#record.texts + 1] = text end
  if text:find(PATTERN) then record.matched = text break end
  socket.sleep(1 / 240)
end
love.quit()
io.write(cjson.encode(record), "\n")
