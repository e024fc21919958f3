//! Lua's C code raises errors with setjmp/longjmp, which the wasm target lowers to Wasm
//! exceptions. Rust's bundled wasi-libc has neither the runtime half of that lowering nor
//! the emulated-signal library that lua-src links against, so both are compiled here with
//! the same compiler as Lua itself (scripts/zig-cc, set in .cargo/config.toml).

fn main() {
    println!("cargo:rerun-if-changed=c");
    let target = std::env::var("TARGET").unwrap_or_default();
    if !target.starts_with("wasm32-wasi") {
        return;
    }
    cc::Build::new().file("c/setjmp.c").compile("setjmp");
    cc::Build::new().file("c/signal.c").compile("wasi-emulated-signal");
}
