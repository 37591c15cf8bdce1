-- LuaRocks package for the Lua module: `ivs` (Lua layer) and `ivs.core` (C, with libivs built in).
--
--   luarocks --lua-version 5.4 make rockspec/lua-ivs-scm-1.rockspec     (from the checkout)
--   luarocks --lua-version 5.1 make rockspec/lua-ivs-scm-1.rockspec     (Lua 5.1 and LuaJIT,
--                                                                        e.g. for OBS Studio)
--
-- The build needs only the system C libraries below and Lua 5.1 to 5.4 (LuaJIT loads the 5.1
-- build): nothing is downloaded. The one C source serves every version (lua_binding/compat.h).
-- ivs-emulator is not part of the rock: it is a C program linked with libmicrohttpd, which the
-- builtin backend cannot build; `make install` installs it (and libivs, ivs.h, ivs.pc).
--
-- build.modules["ivs.core"].sources must list every core/src/*.c and lua_binding/*.c file:
-- tests/lua/rockspec_spec.lua fails when one is missing or stale.
rockspec_format = "3.0"
package = "lua-ivs"
version = "scm-1"

source = {
  url = "git+https://github.com/lua-ivs/lua-ivs.git",
}

description = {
  summary = "Amazon Interactive Video Service (IVS) client for Lua",
  detailed = [[
Every operation of the IVS API (2020-07-14), validated against the service model before
anything is sent; SigV4 signing, the standard AWS configuration and credential chain,
standard retries and pagination. The work is done by a small C core (libcurl, OpenSSL,
cJSON) compiled into the module.]],
  homepage = "https://github.com/lua-ivs/lua-ivs",
  labels = { "aws", "ivs", "video", "streaming" },
}

dependencies = {
  "lua >= 5.1, < 5.5",
}

external_dependencies = {
  -- Only the library is looked up for libcurl: Debian and Ubuntu keep curl/curl.h in the
  -- multiarch directory (/usr/include/<triplet>), where LuaRocks does not look but the
  -- compiler does, so a header check would fail on a machine that builds fine.
  CURL = { library = "curl" },
  OPENSSL = { header = "openssl/evp.h", library = "crypto" },
  CJSON = { header = "cjson/cJSON.h", library = "cjson" },
  EXPAT = { header = "expat.h", library = "expat" },
}

-- `luarocks test` from a checkout: the whole spec suite under every installed Lua (busted comes
-- from the system, as on Debian; nothing is fetched).
test = {
  type = "command",
  command = "make tests && scripts/run-tests --lua-only",
}

build = {
  type = "builtin",
  modules = {
    ivs = "lua_binding/ivs.lua",
    ["ivs.chat"] = "lua_binding/ivs/chat.lua",
    ["ivs.realtime"] = "lua_binding/ivs/realtime.lua",
    ["ivs.output"] = "lua_binding/ivs/output.lua",
    ["ivs.query"] = "lua_binding/ivs/query.lua",
    ["ivs.core"] = {
      -- The builtin backend takes CFLAGS from the LuaRocks configuration, so -std=c11 cannot
      -- be added here; the sources are plain C11 and build with the compiler's default
      -- (gnu17 for GCC 12), and _GNU_SOURCE is what the Makefile defines as well.
      sources = {
        "core/src/async.c",
        "core/src/buf.c",
        "core/src/client.c",
        "core/src/config.c",
        "core/src/credentials.c",
        "core/src/error.c",
        "core/src/http.c",
        "core/src/identity_http.c",
        "core/src/json_scan.c",
        "core/src/jws.c",
        "core/src/model.c",
        "core/src/model_ivs.c",
        "core/src/model_ivschat.c",
        "core/src/model_ivsrealtime.c",
        "core/src/model_unicode.c",
        "core/src/options.c",
        "core/src/participant_token.c",
        "core/src/partitions.c",
        "core/src/partitions_gen.c",
        "core/src/pattern.c",
        "core/src/playback_token.c",
        "core/src/profile.c",
        "core/src/redact.c",
        "core/src/retry.c",
        "core/src/serialize.c",
        "core/src/services.c",
        "core/src/sign.c",
        "core/src/sigv4.c",
        "core/src/sso_login.c",
        "core/src/suggest.c",
        "core/src/timeutil.c",
        "core/src/url.c",
        "core/src/validate.c",
        "core/src/version.c",
        "lua_binding/ivs_core.c",
        "lua_binding/lua_error.c",
        "lua_binding/lua_options.c",
        "lua_binding/lua_participant_token.c",
        "lua_binding/lua_playback_token.c",
        "lua_binding/lua_sign.c",
      },
      defines = { "_GNU_SOURCE" },
      incdirs = {
        "core/include",
        "core/src",
        "$(CURL_INCDIR)",
        "$(OPENSSL_INCDIR)",
        -- the core includes <cJSON.h>, as pkg-config's libcjson cflags expect
        "$(CJSON_INCDIR)/cjson",
        "$(EXPAT_INCDIR)",
      },
      libdirs = { "$(CURL_LIBDIR)", "$(OPENSSL_LIBDIR)", "$(CJSON_LIBDIR)", "$(EXPAT_LIBDIR)" },
      libraries = { "curl", "crypto", "cjson", "expat", "pthread", "m" },
    },
  },
  install = {
    bin = { ivs = "scripts/ivs" },
  },
}
