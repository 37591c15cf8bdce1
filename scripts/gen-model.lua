#!/usr/bin/env lua5.4
-- gen-model.lua: turns the botocore-format IVS service model into C tables (core/src/model_gen.c).
--
--   lua5.4 scripts/gen-model.lua [model.json [UnicodeData.txt]] > core/src/model_gen.c
--
-- Defaults: ../shared/ivs/ivs-2020-07-14.model.json (relative to the repository root) and
-- Debian's unicode-data file /usr/share/unicode/UnicodeData.txt, which supplies the code
-- point ranges behind the \p{L}, \p{N} and \p{Z} classes of the model's tag patterns.
--
-- The output is deterministic: shapes and operations are sorted by name, structure members
-- keep the model's order (lua-cjson loses object order, so a small order-keeping reader
-- below walks the JSON text and lua-cjson decodes each scalar token), and nothing that
-- depends on the machine (paths, dates) is written. Documentation prose is never emitted.

local cjson = require("cjson")

local script_dir = (arg[0]:match("^(.*)/[^/]*$") or ".")
local repo_root = script_dir .. "/.."
local model_path = arg[1] or (repo_root .. "/../shared/ivs/ivs-2020-07-14.model.json")
local unicode_path = arg[2] or "/usr/share/unicode/UnicodeData.txt"

local function die(msg)
    io.stderr:write("gen-model: ", msg, "\n")
    os.exit(1)
end

local function read_all(path)
    local f, e = io.open(path, "rb")
    if not f then die("cannot read " .. path .. ": " .. tostring(e)) end
    local s = f:read("*a")
    f:close()
    return s
end

-- Order-keeping JSON reader. Objects become { keys = {k1, k2, ...}, map = {k = v} } wrapped
-- in a metatable-free table tagged with is_object; arrays are plain sequences.
local function parse_json(text)
    local pos = 1
    local function skip_ws()
        pos = text:find("[^ \t\r\n]", pos) or (#text + 1)
    end
    local parse_value
    local function parse_string()
        local i = pos + 1
        while true do
            local c = text:sub(i, i)
            if c == "" then die("unterminated string in model") end
            if c == "\\" then
                i = i + 2
            elseif c == '"' then
                break
            else
                i = i + 1
            end
        end
        local token = text:sub(pos, i)
        pos = i + 1
        return cjson.decode(token)
    end
    function parse_value()
        skip_ws()
        local c = text:sub(pos, pos)
        if c == "{" then
            pos = pos + 1
            local obj = { is_object = true, keys = {}, map = {} }
            skip_ws()
            if text:sub(pos, pos) == "}" then
                pos = pos + 1
                return obj
            end
            while true do
                skip_ws()
                if text:sub(pos, pos) ~= '"' then die("object key expected at byte " .. pos) end
                local k = parse_string()
                skip_ws()
                if text:sub(pos, pos) ~= ":" then die("':' expected at byte " .. pos) end
                pos = pos + 1
                local v = parse_value()
                if obj.map[k] == nil then obj.keys[#obj.keys + 1] = k end
                obj.map[k] = v
                skip_ws()
                local d = text:sub(pos, pos)
                pos = pos + 1
                if d == "}" then return obj end
                if d ~= "," then die("',' or '}' expected at byte " .. (pos - 1)) end
            end
        elseif c == "[" then
            pos = pos + 1
            local arr = {}
            skip_ws()
            if text:sub(pos, pos) == "]" then
                pos = pos + 1
                return arr
            end
            while true do
                arr[#arr + 1] = parse_value()
                skip_ws()
                local d = text:sub(pos, pos)
                pos = pos + 1
                if d == "]" then return arr end
                if d ~= "," then die("',' or ']' expected at byte " .. (pos - 1)) end
            end
        elseif c == '"' then
            return parse_string()
        else
            local token = text:match("^[%w%.%+%-]+", pos)
            if not token then die("unexpected character at byte " .. pos) end
            pos = pos + #token
            return cjson.decode(token)
        end
    end
    local v = parse_value()
    skip_ws()
    if pos <= #text then die("trailing data after the model") end
    return v
end

-- Plain (unordered) view of an ordered object, for convenient field access.
local function get(obj, key)
    if type(obj) ~= "table" or not obj.is_object then return nil end
    return obj.map[key]
end

local function sorted_keys(obj)
    local ks = {}
    for _, k in ipairs(obj.keys) do ks[#ks + 1] = k end
    table.sort(ks)
    return ks
end

local function c_string(s)
    if s == nil then return "NULL" end
    local out = s:gsub('[%c"\\%?]', function(ch)
        if ch == '"' then return '\\"' end
        if ch == "\\" then return "\\\\" end
        if ch == "?" then return "\\?" end -- no accidental trigraphs
        return string.format("\\%03o", ch:byte())
    end)
    return '"' .. out .. '"'
end

local function c_ident(s)
    return (s:gsub("[^%w_]", "_"))
end

local function snake_case(name)
    local s = name:gsub("(%u)(%u%l)", "%1_%2")
    s = s:gsub("([%l%d])(%u)", "%1_%2")
    return s:lower()
end

-- Patterns known not to match the values the service really uses. Keyed by shape name AND
-- the exact pattern text, so a corrected model is enforced again automatically.
local unenforced_patterns = {
    ResourceArn = {
        pattern = "arn:aws:ivs:[a-z0-9-]+:[0-9]+:[a-z-]/[a-zA-Z0-9-]+",
        why = "the class [a-z-] admits a single character before '/', so no real ARN "
            .. "(channel/..., stream-key/...) matches; enforcing it would reject every tag call",
    },
}

---------------------------------------------------------------------------------------------
-- Unicode general categories L, N and Z as merged code point ranges.

local function unicode_ranges(path)
    local f, e = io.open(path, "r")
    if not f then
        die("cannot read " .. path .. " (install Debian's unicode-data): " .. tostring(e))
    end
    local cats = { L = {}, N = {}, Z = {} }
    local pending_first
    local function add(list, lo, hi)
        local last = list[#list]
        if last and last[2] + 1 == lo then
            last[2] = hi
        else
            list[#list + 1] = { lo, hi }
        end
    end
    for line in f:lines() do
        local cp_hex, name, gc = line:match("^(%x+);([^;]*);([^;]*);")
        if cp_hex then
            local cp = tonumber(cp_hex, 16)
            local major = gc:sub(1, 1)
            if name:match(", First>$") then
                pending_first = cp
            else
                local lo = cp
                if name:match(", Last>$") then
                    lo = pending_first or cp
                    pending_first = nil
                end
                if cats[major] then add(cats[major], lo, cp) end
            end
        end
    end
    f:close()
    return cats
end

local function unicode_version(path)
    local dir = path:match("^(.*)/[^/]*$") or "."
    local f = io.open(dir .. "/ReadMe.txt", "r")
    if not f then return "unknown" end
    local text = f:read("*a")
    f:close()
    return text:match("for Version ([%d%.]+) of the Unicode Standard") or "unknown"
end

---------------------------------------------------------------------------------------------

local model = parse_json(read_all(model_path))
local metadata = get(model, "metadata")
local shapes_obj = get(model, "shapes")
local ops_obj = get(model, "operations")
if not (metadata and shapes_obj and ops_obj) then die("not a botocore service model") end

local shape_names = sorted_keys(shapes_obj)
local shape_index = {}
for i, n in ipairs(shape_names) do shape_index[n] = i - 1 end

local function ref_index(ref, where)
    local n = get(ref, "shape")
    local idx = n and shape_index[n]
    if not idx then die("unknown shape reference in " .. where) end
    return idx
end

local type_names = {
    structure = "MT_STRUCTURE", list = "MT_LIST", map = "MT_MAP", string = "MT_STRING",
    integer = "MT_INTEGER", long = "MT_LONG", float = "MT_FLOAT", double = "MT_DOUBLE",
    boolean = "MT_BOOLEAN", timestamp = "MT_TIMESTAMP", blob = "MT_BLOB",
}
local location_names = { uri = "ML_URI", querystring = "ML_QUERY", header = "ML_HEADER" }

local out = {}
local function emit(...)
    for i = 1, select("#", ...) do out[#out + 1] = select(i, ...) end
end

-- Emits head, the items separated by ", ", then tail, wrapping lines at 100 columns.
local function emit_wrapped(head, items, tail, indent)
    local line = head
    for i, item in ipairs(items) do
        local piece = item .. (i < #items and "," or "")
        if #line + 1 + #piece > 100 - #tail then
            emit(line, "\n")
            line = indent .. piece
        else
            line = line .. ((line:sub(-1) == "{" or line == indent) and "" or " ") .. piece
        end
    end
    emit(line, tail, "\n")
end

local uni = unicode_ranges(unicode_path)

emit("/* model_gen.c: GENERATED by scripts/gen-model.lua; do not edit (run `make model`).\n")
emit(" * Source: service model ", get(metadata, "uid") or "?", " (",
     get(metadata, "protocol") or "?",
     ", apiVersion ", get(metadata, "apiVersion") or "?", "), ", tostring(#shape_names),
     " shapes,\n * ", tostring(#ops_obj.keys), " operations;")
emit(" Unicode ", unicode_version(unicode_path),
     " UnicodeData.txt for the \\p{L} \\p{N} \\p{Z} ranges. */\n\n")
emit('#include "model.h"\n#include "pattern.h"\n\n')

emit("const char ivs_model_api_version[] = ", c_string(get(metadata, "apiVersion")), ";\n")
emit("const char ivs_model_signing_name[] = ",
     c_string(get(metadata, "signingName") or get(metadata, "endpointPrefix")), ";\n")
emit("const char ivs_model_endpoint_prefix[] = ", c_string(get(metadata, "endpointPrefix")),
     ";\n\n")

-- Unicode tables.
for _, cat in ipairs({ "L", "N", "Z" }) do
    local list = uni[cat]
    emit("const struct pattern_range pattern_unicode_", cat, "[] = {\n")
    local line = "   "
    for _, r in ipairs(list) do
        local item = string.format(" {0x%X, 0x%X},", r[1], r[2])
        if #line + #item > 99 then
            emit(line, "\n")
            line = "   "
        end
        line = line .. item
    end
    emit(line, "\n};\n")
    emit("const size_t pattern_unicode_", cat, "_count = ", tostring(#list), ";\n\n")
end

-- Per-shape member and enum arrays.
for _, name in ipairs(shape_names) do
    local s = shapes_obj.map[name]
    local members = get(s, "members")
    if members and #members.keys > 0 then
        local required = {}
        for _, r in ipairs(get(s, "required") or {}) do required[r] = true end
        emit("static const struct model_member members_", c_ident(name), "[] = {\n")
        for _, mname in ipairs(members.keys) do
            local m = members.map[mname]
            local loc = get(m, "location")
            local cloc = "ML_BODY"
            if loc then
                cloc = location_names[loc] or die("unsupported location " .. loc)
            end
            local lname = loc and (get(m, "locationName") or mname) or nil
            emit("    {", c_string(mname), ", ", c_string(lname), ", ", cloc, ", ",
                 tostring(ref_index(m, name .. "." .. mname)), ", ", required[mname] and "1" or "0",
                 "},\n")
        end
        emit("};\n")
    end
    local enum = get(s, "enum")
    if enum and #enum > 0 then
        local items = {}
        for i, v in ipairs(enum) do items[i] = c_string(v) end
        emit_wrapped("static const char *const enum_" .. c_ident(name) .. "[] = {", items, "};",
                     "    ")
    end
end
emit("\n")

local function int_or(v)
    if v == nil then return "0" end
    if math.type(v) ~= "integer" then
        if v ~= math.floor(v) then die("non-integral min/max " .. tostring(v)) end
        v = math.tointeger(v)
    end
    return tostring(v)
end

emit("const struct model_shape ivs_model_shapes[] = {\n")
for i, name in ipairs(shape_names) do
    local s = shapes_obj.map[name]
    local t = get(s, "type")
    local ctype = type_names[t] or die("unsupported type " .. tostring(t) .. " in " .. name)
    local members = get(s, "members")
    local nmembers = members and #members.keys or 0
    local member_shape, key_shape = -1, -1
    if t == "list" then member_shape = ref_index(get(s, "member"), name) end
    if t == "map" then
        member_shape = ref_index(get(s, "value"), name)
        key_shape = ref_index(get(s, "key"), name)
    end
    local enum = get(s, "enum")
    local pattern = get(s, "pattern")
    local mode = pattern and "MP_SEARCH" or "MP_NONE"
    local unenforced = unenforced_patterns[name]
    local err = get(s, "error")
    emit("    /* ", tostring(i - 1), " */ {\n")
    emit("        .name = ", c_string(name), ",\n")
    emit("        .type = ", ctype, ",\n")
    if nmembers > 0 then
        emit("        .members = members_", c_ident(name), ",\n")
    end
    emit("        .member_count = ", tostring(nmembers), ",\n")
    emit("        .member_shape = ", tostring(member_shape), ",\n")
    emit("        .key_shape = ", tostring(key_shape), ",\n")
    local min, max = get(s, "min"), get(s, "max")
    if min ~= nil then emit("        .has_min = 1, .min = ", int_or(min), ",\n") end
    if max ~= nil then emit("        .has_max = 1, .max = ", int_or(max), ",\n") end
    if enum and #enum > 0 then
        emit("        .enum_values = enum_", c_ident(name), ", .enum_count = ", tostring(#enum),
             ",\n")
    end
    if pattern then
        emit("        .pattern = ", c_string(pattern), ",\n")
        if unenforced and unenforced.pattern == pattern then
            mode = "MP_NONE"
            local words = {}
            for w in ("Not enforced: " .. unenforced.why .. ".  */"):gmatch("%S+") do
                words[#words + 1] = w
            end
            words[#words] = "*/"
            local line = "        /*"
            for _, w in ipairs(words) do
                if #line + 1 + #w > 100 then
                    emit(line, "\n")
                    line = "         *"
                end
                line = line .. " " .. w
            end
            emit(line, "\n")
        end
        emit("        .pattern_mode = ", mode, ",\n")
    end
    if get(s, "sensitive") then emit("        .sensitive = 1,\n") end
    if get(s, "exception") then
        local status = err and get(err, "httpStatusCode") or 400
        emit("        .is_error = 1, .error_status = ", int_or(status), ",\n")
    end
    if t == "timestamp" then
        local format = get(s, "timestampFormat") or "iso8601"
        emit("        .timestamp_format = ", c_string(format), ",\n")
    end
    emit("    },\n")
end
emit("};\n")
emit("const size_t ivs_model_shape_count = ", tostring(#shape_names), ";\n\n")

-- Operations.
local op_names = sorted_keys(ops_obj)
for _, name in ipairs(op_names) do
    local op = ops_obj.map[name]
    local errs = get(op, "errors") or {}
    if #errs > 0 then
        local items = {}
        for i, e in ipairs(errs) do items[i] = tostring(ref_index(e, name .. " errors")) end
        emit_wrapped("static const int errors_" .. c_ident(name) .. "[] = {", items, "};", "    ")
    end
end
emit("\n")

local function has_member(shape_name, member)
    local s = shape_name and shapes_obj.map[shape_name]
    local members = s and get(s, "members")
    return members and members.map[member] ~= nil
end

emit("const struct model_operation ivs_model_operations[] = {\n")
for _, name in ipairs(op_names) do
    local op = ops_obj.map[name]
    local http = get(op, "http")
    local input = get(op, "input")
    local output = get(op, "output")
    local in_name = input and get(input, "shape")
    local out_name = output and get(output, "shape")
    local errs = get(op, "errors") or {}
    -- Pagination from the shapes, not from paginators-1.json, which omits some List* calls.
    local paginated = has_member(in_name, "nextToken") and has_member(out_name, "nextToken")
    local result_key
    if paginated then
        local members = get(shapes_obj.map[out_name], "members")
        for _, m in ipairs(members.keys) do
            local target = shapes_obj.map[get(members.map[m], "shape")]
            if get(target, "type") == "list" then
                if result_key then die(name .. ": several list members in a paginated output") end
                result_key = m
            end
        end
    end
    emit("    {\n")
    emit("        .name = ", c_string(name), ",\n")
    emit("        .snake_name = ", c_string(snake_case(name)), ",\n")
    emit("        .method = ", c_string(get(http, "method")), ",\n")
    emit("        .uri = ", c_string(get(http, "requestUri")), ",\n")
    emit("        .input = ", input and tostring(ref_index(input, name)) or "-1", ",\n")
    emit("        .output = ", output and tostring(ref_index(output, name)) or "-1", ",\n")
    emit("        .success_status = ", int_or(get(http, "responseCode") or 200), ",\n")
    if #errs > 0 then
        emit("        .errors = errors_", c_ident(name), ", .error_count = ", tostring(#errs),
             ",\n")
    end
    emit("        .readonly_ = ", get(op, "readonly") and "1" or "0", ",\n")
    emit("        .idempotent = ", get(op, "idempotent") and "1" or "0", ",\n")
    emit("        .paginated = ", paginated and "1" or "0", ",\n")
    emit("        .result_key = ", c_string(result_key), ",\n")
    emit("    },\n")
end
emit("};\n")
emit("const size_t ivs_model_operation_count = ", tostring(#op_names), ";\n\n")

local by_snake = {}
for i, name in ipairs(op_names) do by_snake[i] = { snake_case(name), i - 1 } end
table.sort(by_snake, function(a, b) return a[1] < b[1] end)
emit("const int ivs_model_operations_by_snake_name[] = {")
for i, e in ipairs(by_snake) do
    emit(i > 1 and "," or "", (i - 1) % 16 == 0 and "\n   " or "", " ", tostring(e[2]))
end
emit("\n};\n")

io.write(table.concat(out))
