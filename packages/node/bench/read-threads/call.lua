-- eth_call of a view (a mapping read: SLOAD(keccak(arg))) with a different argument per request
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local n = 0
local to = os.getenv("CALL_TO")
local tid = 0
setup = function(thread) tid = tid + 1; thread:set("base", tid * 100000000) end
request = function()
  n = n + 1
  local arg = string.format("%064x", base + n)
  local body = '{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"' .. to .. '","data":"0x70a08231' .. arg .. '"},"latest"]}'
  return wrk.format(nil, nil, nil, body)
end
