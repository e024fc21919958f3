print("before the error")
local function fails() error("the script failed here") end
fails()
print("never printed")
