-- Run by `astra-host run` to its end: what it prints is compared line by line.
print("plain", 42, 3.0, 0.5, true, nil)
print({ b = 2, a = { 1, 2, "x" }, [10] = "ten", ["not a name"] = false })
local cycle = {}
cycle.self = cycle
print(#tostring(cycle) > 0, (select(2, pcall(print, cycle))))
print(_RUNTIME.name, _RUNTIME.version.display, _RUNTIME.version.semantic.minor, _RUNTIME.host.name)
print(MAIN_SCRIPT, CURRENT_SCRIPT, Astra.main_script, #arg, arg[1], arg[2], arg[3])
print(bit.band(0xff, 0x0f), bit.bor(1, 2, 4), bit.bxor(5, 1), bit.bnot(0), bit.lshift(1, 31), bit.rshift(-1, 28))
print(bit.arshift(-256, 4), bit.tohex(255), bit.tohex(-1, -4), bit.rol(1, 33), bit.bswap(0x01020304), bit.tobit(2^32 + 5))
print(unpack({ "u", "v" }), loadstring("return 'loaded'")())
print(getenv("FROM_ENV"), getenv("NOT_SET"))
setenv("SET_HERE", "yes")
print(getenv("SET_HERE"), os.getenv("SET_HERE"))
print(pprint == print)
