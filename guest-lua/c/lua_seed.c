/*
 * The seed of Lua's string hashes. Lua makes it from the time and a few addresses, and in
 * wasm the addresses are the same in every instance of an app: all instances started in
 * one second would hash strings alike, and a client that guesses the second could pick
 * keys that collide in every table. scripts/zig-cc makes lstate.c call this instead.
 */
#include <time.h>
#include <unistd.h>

unsigned int astra_lua_seed(void) {
    unsigned int seed;
    if (getentropy(&seed, sizeof seed) != 0) {
        seed = (unsigned int)time(NULL);
    }
    return seed;
}
