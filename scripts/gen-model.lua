#!/usr/bin/env lua5.4
-- gen-model.lua: turns botocore-format service models into C tables.
--
--   lua5.4 scripts/gen-model.lua OUTDIR models/SERVICE/NAME.model.json... [--unicode FILE]
--
-- `make model` runs it over every models/*/ directory of the repository. Each directory holds a
-- service's doc-stripped model, its paginators-1.json and endpoint-rule-set-1.json, copied
-- unchanged from botocore, and summaries.json (ours: operation name -> one sentence); the
-- directory's name is the service's API name ("ivs", "ivschat", "ivs-realtime", as botocore and
-- the AWS CLI name it). Written into OUTDIR:
--   model_<prefix>.c  one service's shapes, operations and paginators, all named
--                     ivs_model_<prefix>_* (prefix = the endpoint prefix: ivs, ivschat, ...)
--   services.c        the service descriptor table, one line per service (model_services[])
--   model_unicode.c   the \p{L}, \p{N} and \p{Z} code point ranges of the models' patterns,
--                     from Debian's unicode-data (/usr/share/unicode/UnicodeData.txt)
--
-- So adding a service of this protocol is a models/ directory: the generator derives its
-- descriptor (endpoint prefix, signing name, the AWS_ENDPOINT_URL_* and [services] names,
-- FIPS and dual-stack support) from the model's metadata and endpoint rules.
--
-- The output is deterministic: services, shapes and operations are sorted by name, structure
-- members keep the model's order (lua-cjson loses object order, so a small order-keeping reader
-- below walks the JSON text and lua-cjson decodes each scalar token), and nothing that depends
-- on the machine (paths, dates) is written. The model's documentation prose is never emitted;
-- each operation's one-line summary is ours, from the directory's summaries.json.

local cjson = require("cjson")

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

-- Patterns that would reject the values the services really use, keyed by service, shape name
-- AND the exact pattern text, so a corrected model is enforced again automatically. Found by
-- tests/c/test_model.c, which tries every ARN-like pattern against real ARNs of each resource
-- type and fails when this list and the broken patterns disagree.
local unenforced_patterns = {
    ivs = {
        ResourceArn = {
            pattern = "arn:aws:ivs:[a-z0-9-]+:[0-9]+:[a-z-]/[a-zA-Z0-9-]+",
            why = "the class [a-z-] admits a single character before '/', so no real ARN "
                .. "(channel/..., stream-key/...) matches; enforcing it would reject every tag call",
        },
    },
    ivschat = {
        ResourceArn = {
            pattern = "arn:aws:ivschat:[a-z0-9-]+:[0-9]+:[a-z-]/[a-zA-Z0-9-]+",
            why = "the class [a-z-] admits a single character before '/', so no real ARN "
                .. "(room/..., logging-configuration/...) matches; enforcing it would reject every "
                .. "tag call",
        },
    },
    ["ivs-realtime"] = {
        ResourceArn = {
            pattern = "arn:aws:ivs:[a-z0-9-]+:[0-9]+:[a-z-]/[a-zA-Z0-9-]+",
            why = "the class [a-z-] admits a single character before '/', so no real ARN "
                .. "(stage/..., composition/...) matches; enforcing it would reject every tag call",
        },
    },
}

local type_names = {
    structure = "MT_STRUCTURE", list = "MT_LIST", map = "MT_MAP", string = "MT_STRING",
    integer = "MT_INTEGER", long = "MT_LONG", float = "MT_FLOAT", double = "MT_DOUBLE",
    boolean = "MT_BOOLEAN", timestamp = "MT_TIMESTAMP", blob = "MT_BLOB",
}
local location_names = { uri = "ML_URI", querystring = "ML_QUERY", header = "ML_HEADER" }

-- Integral numbers as C literals (no math.type: the generator runs on any Lua 5.1+).
local function int_or(v)
    if v == nil then return "0" end
    if v ~= math.floor(v) then die("non-integral min/max " .. tostring(v)) end
    return string.format("%d", v)
end

local function write_file(path, text)
    local f, e = io.open(path, "wb")
    if not f then die("cannot write " .. path .. ": " .. tostring(e)) end
    f:write(text)
    f:close()
end

-- Emits head, the items separated by ", ", then tail, wrapping lines at 100 columns.
local function emit_wrapped(emit, head, items, tail, indent)
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

local function emit_comment(emit, text, indent)
    local words = {}
    for w in text:gmatch("%S+") do words[#words + 1] = w end
    local line = indent .. "/*"
    for _, w in ipairs(words) do
        if #line + 1 + #w > 97 then
            emit(line, "\n")
            line = indent .. " *"
        end
        line = line .. " " .. w
    end
    emit(line, " */\n")
end

---------------------------------------------------------------------------------------------
-- Arguments.

local outdir
local model_paths = {}
local unicode_path = "/usr/share/unicode/UnicodeData.txt"
do
    local i = 1
    while i <= #arg do
        if arg[i] == "--unicode" then
            unicode_path = arg[i + 1] or die("--unicode needs a file")
            i = i + 1
        elseif not outdir then
            outdir = arg[i]
        else
            model_paths[#model_paths + 1] = arg[i]
        end
        i = i + 1
    end
end
if not outdir or #model_paths == 0 then
    die("usage: gen-model.lua OUTDIR models/SERVICE/NAME.model.json... [--unicode FILE]")
end

---------------------------------------------------------------------------------------------
-- One service.

local function load_service(model_path)
    local dir = model_path:match("^(.*)/[^/]*$") or "."
    local name = dir:match("([^/]+)$")
    local model = parse_json(read_all(model_path))
    local metadata = get(model, "metadata")
    if not (metadata and get(model, "shapes") and get(model, "operations")) then
        die(model_path .. " is not a botocore service model")
    end
    if get(metadata, "protocol") ~= "rest-json" then
        die(model_path .. ": only the rest-json protocol is supported")
    end
    local paginators = get(parse_json(read_all(dir .. "/paginators-1.json")), "pagination")
    -- summaries.json: one sentence of our own per operation (the models carry no prose), for
    -- describe(), `ivs help OP` and the reference. Every operation needs one.
    local summaries = parse_json(read_all(dir .. "/summaries.json"))
    if type(summaries) ~= "table" or not summaries.is_object then die(dir .. "/summaries.json is not an object") end
    local ops = get(model, "operations")
    for _, op in ipairs(summaries.keys) do
        if not ops.map[op] then die(dir .. "/summaries.json: " .. op .. " is not an operation of " .. name) end
    end
    for _, op in ipairs(ops.keys) do
        local line = summaries.map[op]
        if type(line) ~= "string" or line == "" then die(dir .. "/summaries.json has no summary of " .. op) end
        if line:find("[%c]") then die(dir .. "/summaries.json: the summary of " .. op .. " is not one line") end
    end
    local rules_text = read_all(dir .. "/endpoint-rule-set-1.json")
    local prefix = get(metadata, "endpointPrefix")
    -- The endpoint facts this client needs from the rule set: which host variants exist. The
    -- host is always {prefix}[-fips].{region}.{dnsSuffix | dualStackDnsSuffix}.
    local function has_url(pat) return rules_text:find(pat, 1, true) ~= nil end
    local svc = {
        name = name,
        model = model,
        metadata = metadata,
        paginators = paginators,
        summaries = summaries.map,
        prefix = prefix,
        ident = c_ident(prefix),
        signing_name = get(metadata, "signingName") or prefix,
        service_id = get(metadata, "serviceId"),
        fips = has_url('"https://' .. prefix .. '-fips.{Region}.'),
        dualstack = has_url('"https://' .. prefix .. '.{Region}.{PartitionResult#dualStackDnsSuffix}"'),
    }
    if not has_url('"https://' .. prefix .. '.{Region}.{PartitionResult#dnsSuffix}"') then
        die(name .. ": the endpoint rules have no https://" .. prefix .. ".{Region}.{dnsSuffix} host")
    end
    -- botocore's rule for configured endpoints: the service id with spaces as underscores,
    -- upper-cased for AWS_ENDPOINT_URL_<ID>, lower-cased for the [services] section key.
    svc.env_name = svc.service_id:gsub(" ", "_"):upper()
    svc.config_key = svc.service_id:gsub(" ", "_"):lower()
    return svc
end

local function gen_service(svc)
    local out = {}
    local function emit(...)
        for i = 1, select("#", ...) do out[#out + 1] = select(i, ...) end
    end
    local model, metadata = svc.model, svc.metadata
    local shapes_obj = get(model, "shapes")
    local ops_obj = get(model, "operations")
    local P = "ivs_model_" .. svc.ident
    local unenforced_for = unenforced_patterns[svc.name] or {}
    for shape_name in pairs(unenforced_for) do
        if not shapes_obj.map[shape_name] then
            die(svc.name .. ": unenforced pattern for unknown shape " .. shape_name)
        end
    end

    local shape_names = sorted_keys(shapes_obj)
    local shape_index = {}
    for i, n in ipairs(shape_names) do shape_index[n] = i - 1 end
    local function ref(r, where)
        local n = get(r, "shape")
        local idx = n and shape_index[n]
        if not idx then die(svc.name .. ": unknown shape reference in " .. where) end
        return "SH(" .. idx .. ")"
    end

    emit("/* model_", svc.ident, ".c: GENERATED by scripts/gen-model.lua; do not edit (run `make model`).\n")
    emit(" * Source: models/", svc.name, "/ (", get(metadata, "uid") or "?", ", ",
         get(metadata, "protocol") or "?", "), ", tostring(#shape_names), " shapes, ",
         tostring(#ops_obj.keys), " operations. */\n\n")
    emit('#include "model.h"\n\n')
    emit("extern const struct model_shape ", P, "_shapes[];\n")
    emit("#define SH(i) (&", P, "_shapes[i])\n\n")

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
                if loc then cloc = location_names[loc] or die("unsupported location " .. loc) end
                local lname = loc and (get(m, "locationName") or mname) or nil
                emit("    {", c_string(mname), ", ", c_string(lname), ", ", cloc, ", ",
                     ref(m, name .. "." .. mname), ", ", required[mname] and "1" or "0",
                     get(m, "idempotencyToken") and ", 1" or ", 0", "},\n")
            end
            emit("};\n")
        end
        local enum = get(s, "enum")
        if enum and #enum > 0 then
            local items = {}
            for i, v in ipairs(enum) do items[i] = c_string(v) end
            emit_wrapped(emit, "static const char *const enum_" .. c_ident(name) .. "[] = {", items,
                         "};", "    ")
        end
    end
    emit("\n")

    emit("const struct model_shape ", P, "_shapes[] = {\n")
    for i, name in ipairs(shape_names) do
        local s = shapes_obj.map[name]
        local t = get(s, "type")
        local ctype = type_names[t] or die("unsupported type " .. tostring(t) .. " in " .. name)
        local members = get(s, "members")
        local nmembers = members and #members.keys or 0
        local enum = get(s, "enum")
        local pattern = get(s, "pattern")
        local mode = pattern and "MP_SEARCH" or "MP_NONE"
        local unenforced = unenforced_for[name]
        local err = get(s, "error")
        emit("    /* ", tostring(i - 1), " */ {\n")
        emit("        .name = ", c_string(name), ",\n")
        emit("        .index = ", tostring(i - 1), ",\n")
        emit("        .type = ", ctype, ",\n")
        if nmembers > 0 then emit("        .members = members_", c_ident(name), ",\n") end
        emit("        .member_count = ", tostring(nmembers), ",\n")
        if t == "list" then emit("        .member_shape = ", ref(get(s, "member"), name), ",\n") end
        if t == "map" then
            emit("        .member_shape = ", ref(get(s, "value"), name), ",\n")
            emit("        .key_shape = ", ref(get(s, "key"), name), ",\n")
        end
        local min, max = get(s, "min"), get(s, "max")
        if min ~= nil then emit("        .has_min = 1, .min = ", int_or(min), ",\n") end
        if max ~= nil then emit("        .has_max = 1, .max = ", int_or(max), ",\n") end
        if enum and #enum > 0 then
            emit("        .enum_values = enum_", c_ident(name), ", .enum_count = ",
                 tostring(#enum), ",\n")
        end
        if pattern then
            emit("        .pattern = ", c_string(pattern), ",\n")
            if unenforced and unenforced.pattern == pattern then
                mode = "MP_NONE"
                emit_comment(emit, "Not enforced: " .. unenforced.why .. ".", "        ")
            end
            emit("        .pattern_mode = ", mode, ",\n")
        end
        if get(s, "sensitive") then emit("        .sensitive = 1,\n") end
        if get(s, "exception") then
            local status = err and get(err, "httpStatusCode") or 400
            emit("        .is_error = 1, .error_status = ", int_or(status), ",\n")
        end
        if t == "timestamp" then
            emit("        .timestamp_format = ",
                 c_string(get(s, "timestampFormat") or "iso8601"), ",\n")
        end
        emit("    },\n")
    end
    emit("};\n\n")

    local op_names = sorted_keys(ops_obj)
    for _, name in ipairs(op_names) do
        local errs = get(ops_obj.map[name], "errors") or {}
        if #errs > 0 then
            local items = {}
            for i, e in ipairs(errs) do items[i] = ref(e, name .. " errors") end
            emit_wrapped(emit, "static const struct model_shape *const errors_" .. c_ident(name)
                         .. "[] = {", items, "};", "    ")
        end
    end
    emit("\n")

    local function has_member(shape_name, member)
        local s = shape_name and shapes_obj.map[shape_name]
        local members = s and get(s, "members")
        return members and members.map[member] ~= nil
    end

    emit("const struct model_operation ", P, "_ops[] = {\n")
    for _, name in ipairs(op_names) do
        local op = ops_obj.map[name]
        local http = get(op, "http")
        local input = get(op, "input")
        local output = get(op, "output")
        local in_name = input and get(input, "shape")
        local out_name = output and get(output, "shape")
        local errs = get(op, "errors") or {}
        -- Pagination from the shapes, not from paginators-1.json, which omits some List* calls
        -- (all of Chat's); test_model checks that the two agree where both speak.
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
        emit("        .input = ", input and ref(input, name) or "NULL", ",\n")
        emit("        .output = ", output and ref(output, name) or "NULL", ",\n")
        emit("        .success_status = ", int_or(get(http, "responseCode") or 200), ",\n")
        if #errs > 0 then
            emit("        .errors = errors_", c_ident(name), ", .error_count = ", tostring(#errs),
                 ",\n")
        end
        emit("        .readonly_ = ", get(op, "readonly") and "1" or "0", ",\n")
        emit("        .idempotent = ", get(op, "idempotent") and "1" or "0", ",\n")
        emit("        .paginated = ", paginated and "1" or "0", ",\n")
        emit("        .result_key = ", c_string(result_key), ",\n")
        emit("        .summary = ", c_string(svc.summaries[name]), ",\n")
        emit("    },\n")
    end
    emit("};\n\n")

    local by_snake = {}
    for i, name in ipairs(op_names) do by_snake[i] = { snake_case(name), i - 1 } end
    table.sort(by_snake, function(a, b) return a[1] < b[1] end)
    emit("static const int ops_by_snake_name[] = {")
    for i, e in ipairs(by_snake) do
        emit(i > 1 and "," or "", (i - 1) % 16 == 0 and "\n   " or "", " ", tostring(e[2]))
    end
    emit("\n};\n\n")

    -- botocore's paginators, as they are (a string or a list of strings per key).
    local pag_names = svc.paginators and sorted_keys(svc.paginators) or {}
    local function one(v, what, opname)
        if v == nil then return "NULL" end
        if type(v) == "table" then
            if #v ~= 1 then die(opname .. ": paginator " .. what .. " with several keys") end
            v = v[1]
        end
        return c_string(v)
    end
    if #pag_names > 0 then
        emit("static const struct model_paginator paginators[] = {\n")
        for _, opname in ipairs(pag_names) do
            local p = svc.paginators.map[opname]
            if not ops_obj.map[opname] then die("paginator for unknown operation " .. opname) end
            emit("    {", c_string(opname), ", ", one(get(p, "input_token"), "input_token", opname),
                 ", ", one(get(p, "output_token"), "output_token", opname), ", ",
                 one(get(p, "limit_key"), "limit_key", opname), ", ",
                 one(get(p, "result_key"), "result_key", opname), "},\n")
        end
        emit("};\n\n")
    end

    emit("const struct model_tables ", P, " = {\n")
    emit("    .api_version = ", c_string(get(metadata, "apiVersion")), ",\n")
    emit("    .shapes = ", P, "_shapes,\n")
    emit("    .shape_count = ", tostring(#shape_names), ",\n")
    emit("    .operations = ", P, "_ops,\n")
    emit("    .operation_count = ", tostring(#op_names), ",\n")
    emit("    .operations_by_snake_name = ops_by_snake_name,\n")
    if #pag_names > 0 then emit("    .paginators = paginators,\n") end
    emit("    .paginator_count = ", tostring(#pag_names), ",\n")
    emit("};\n")
    return table.concat(out)
end

local function gen_services(services)
    local out = {}
    local function emit(...)
        for i = 1, select("#", ...) do out[#out + 1] = select(i, ...) end
    end
    emit("/* services.c: GENERATED by scripts/gen-model.lua; do not edit (run `make model`).\n")
    emit(" * The service descriptor table: everything that tells one service of the rest-json\n")
    emit(" * family from another, one line each, sorted by API name. */\n\n")
    emit('#include "model.h"\n\n')
    for _, svc in ipairs(services) do
        emit("extern const struct model_tables ivs_model_", svc.ident, ";\n")
    end
    emit("\n/* name, endpoint prefix, signing name, service id, AWS_ENDPOINT_URL_<env>, [services] key,\n")
    emit(" * FIPS hosts, dual-stack hosts, tables */\n")
    emit("const struct model_service model_services[] = {\n")
    for _, svc in ipairs(services) do
        emit("    {", c_string(svc.name), ", ", c_string(svc.prefix), ", ",
             c_string(svc.signing_name), ", ", c_string(svc.service_id), ", ",
             c_string(svc.env_name), ", ", c_string(svc.config_key), ", ",
             svc.fips and "1" or "0", ", ", svc.dualstack and "1" or "0", ", &ivs_model_",
             svc.ident, "},\n")
    end
    emit("};\n")
    emit("const size_t model_service_count = ", tostring(#services), ";\n")
    return table.concat(out)
end

local function gen_unicode()
    local out = {}
    local function emit(...)
        for i = 1, select("#", ...) do out[#out + 1] = select(i, ...) end
    end
    local uni = unicode_ranges(unicode_path)
    emit("/* model_unicode.c: GENERATED by scripts/gen-model.lua; do not edit (run `make model`).\n")
    emit(" * Unicode ", unicode_version(unicode_path),
         " UnicodeData.txt: the \\p{L} \\p{N} \\p{Z} ranges of the models' patterns. */\n\n")
    emit('#include "pattern.h"\n\n')
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
    return table.concat(out)
end

local services = {}
for _, path in ipairs(model_paths) do services[#services + 1] = load_service(path) end
table.sort(services, function(a, b) return a.name < b.name end)
for i = 2, #services do
    if services[i].name == services[i - 1].name then die("two models for " .. services[i].name) end
end
for _, svc in ipairs(services) do
    write_file(outdir .. "/model_" .. svc.ident .. ".c", gen_service(svc))
end
write_file(outdir .. "/services.c", gen_services(services))
write_file(outdir .. "/model_unicode.c", gen_unicode())
