-- cold.lua: the whole life of a one-shot script, for the cold-start benchmark: load the module,
-- make a client, one get_channel call, exit. Usage: lua5.4 bench/cold.lua ENDPOINT ARN
local ivs = require("ivs")
local client = assert(ivs.new{
  region = "us-west-2",
  endpoint = arg[1],
  credentials = { creds = {
    access_key_id = os.getenv("AWS_ACCESS_KEY_ID"),
    secret_access_key = os.getenv("AWS_SECRET_ACCESS_KEY"),
  } },
})
local out, err = client:get_channel{ arn = arg[2] }
if not out then
  io.stderr:write("cold.lua: ", tostring(err), "\n")
  os.exit(1)
end
