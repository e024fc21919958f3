error("this app fails at every start")
