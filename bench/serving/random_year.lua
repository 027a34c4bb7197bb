-- P2: the monthly report over random one-year ranges (365 whole days) inside the data,
-- 2013-06-01 .. 2020-04-30. Each request draws its own start day.
local first = os.time({year = 2013, month = 6, day = 1, hour = 12})
local span_days = 2526 - 365
math.randomseed(os.time())
request = function()
  local s = first + math.random(0, span_days) * 86400
  local e = s + 364 * 86400
  return wrk.format("GET", "/trips/monthly?start_range=" .. os.date("!%Y-%m-%d", s) .. "&end_range=" .. os.date("!%Y-%m-%d", e))
end
