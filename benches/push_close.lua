-- The shared wrk script (push.lua, read from the working directory) with a
-- new connection per push: every request says "Connection: close", as the
-- pushes of a fleet of short-lived jobs do (curl, Python's push_to_gateway
-- and the Go client each open a connection, push once and exit).
dofile("push.lua")
local format = wrk.format
wrk.format = function(method, path, headers, body)
  headers = headers or {}
  headers["Connection"] = "close"
  return format(method, path, headers, body)
end
