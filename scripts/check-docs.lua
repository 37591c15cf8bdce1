#!/usr/bin/env lua5.4
-- Fails when the LDoc reference was written unformatted: LDoc without a Markdown module (an
-- interpreter whose path lacks markdown.lua) falls back to plain text and still exits 0,
-- leaving the source's Markdown in the pages. Markdown that reached the HTML as text is the
-- sign: a backtick or `**` outside <pre> and <code>, or a page with no <code> or <p> at all
-- (every page's source has code spans and paragraphs).
--
--   lua5.4 scripts/check-docs.lua DIR      (make docs runs it on docs/api)

local dir = arg[1]
if not dir then
  io.stderr:write("usage: check-docs.lua DIR\n")
  os.exit(2)
end

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local pages = {}
local list = assert(io.popen("find " .. q(dir) .. " -name '*.html' | sort"))
for path in list:lines() do pages[#pages + 1] = path end
list:close()

local problems = {}
local function problem(path, fmt, ...)
  problems[#problems + 1] = path .. ": " .. string.format(fmt, ...)
end

if #pages == 0 then problem(dir, "no HTML pages") end

-- Text left once code blocks and code spans are taken out; entities are left as they are
-- (a backtick the source wanted shown is written as an entity or inside <code>).
local function prose(html)
  return (html:gsub("<pre.-</pre>", " "):gsub("<code>.-</code>", " "))
end

for _, path in ipairs(pages) do
  local f = assert(io.open(path, "rb"))
  local html = f:read("*a")
  f:close()
  if not html:find("<code>", 1, true) then problem(path, "no <code> element: code spans were not formatted") end
  if not html:find("<p>", 1, true) then problem(path, "no <p> element: paragraphs were not formatted") end
  local text = prose(html)
  for _, marker in ipairs({ "`", "**" }) do
    local at = text:find(marker, 1, true)
    if at then
      local around = text:sub(math.max(1, at - 60), at + 40):gsub("%s+", " ")
      problem(path, "Markdown %q left as text near: %s", marker, around)
    end
  end
end

if #problems > 0 then
  io.stderr:write("check-docs: the reference is not formatted (is LDoc's markdown.lua on its path?)\n")
  for _, p in ipairs(problems) do io.stderr:write("  ", p, "\n") end
  os.exit(1)
end
print(string.format("check-docs: %d pages formatted", #pages))
