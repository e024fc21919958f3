-- `require("bit")` (and the global `bit`): LuaJIT's bit library, for apps written for
-- Astra's default VM: 32-bit operations whose results are signed 32-bit numbers.

local function tobit(x)
    x = math.tointeger(x) or math.floor(x + 0.5)
    x = x & 0xffffffff
    if x >= 0x80000000 then x = x - 0x100000000 end
    return x
end
local function fold(op)
    return function(x, ...)
        local result = tobit(x)
        for i = 1, select("#", ...) do result = op(result, tobit((select(i, ...)))) end
        return tobit(result)
    end
end
local function rotate_left(x, n)
    n = n & 31
    local unsigned = tobit(x) & 0xffffffff
    return tobit((unsigned << n) | (unsigned >> (32 - n)))
end
return {
    tobit = tobit,
    bnot = function(x) return tobit(~tobit(x)) end,
    band = fold(function(a, b) return a & b end),
    bor = fold(function(a, b) return a | b end),
    bxor = fold(function(a, b) return a ~ b end),
    lshift = function(x, n) return tobit(tobit(x) << (n & 31)) end,
    rshift = function(x, n) return tobit((tobit(x) & 0xffffffff) >> (n & 31)) end,
    arshift = function(x, n) return tobit(tobit(x) // (1 << (n & 31))) end,
    rol = rotate_left,
    ror = function(x, n) return rotate_left(x, 32 - (n & 31)) end,
    bswap = function(x)
        local u = tobit(x) & 0xffffffff
        return tobit(((u & 0xff) << 24) | ((u & 0xff00) << 8) | ((u >> 8) & 0xff00) | (u >> 24))
    end,
    tohex = function(x, n)
        n = n or 8
        local digits = math.min(math.max(math.abs(n), 1), 8)
        local value = (tobit(x) & 0xffffffff) & ((1 << (4 * digits)) - 1)
        return string.format("%0" .. digits .. (n < 0 and "X" or "x"), value)
    end,
}
