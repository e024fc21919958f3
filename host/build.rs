//! Embeds the Lua guest component, so `astra-host` is one self-contained binary.
//! The Makefile builds the guest first (it needs the wasm32-wasip2 target and zig's clang).

use std::path::PathBuf;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let guest = std::env::var("ASTRA_GUEST_WASM")
        .map(PathBuf::from)
        .unwrap_or_else(|_| manifest_dir.join("../target/wasm32-wasip2/guest/astra_guest.wasm"));
    println!("cargo:rerun-if-env-changed=ASTRA_GUEST_WASM");
    println!("cargo:rerun-if-changed={}", guest.display());
    if !guest.is_file() {
        eprintln!(
            "error: the Lua guest component is missing at {}\n\
             Build with `make build` (it builds the guest first), or build the guest with\n  \
             cargo build -p astra-guest --target wasm32-wasip2 --profile guest",
            guest.display()
        );
        std::process::exit(1);
    }
    println!("cargo:rustc-env=ASTRA_GUEST_WASM={}", guest.display());
}
