local greet = {}

function greet.hello(name)
    return "hello, " .. name
end

function greet.fail()
    error("greet failed on purpose")
end

return greet
