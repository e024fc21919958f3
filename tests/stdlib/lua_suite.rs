//! The project's own Lua test suite (`tests/lua/`), written with its `require("test")`,
//! run by the real binary as a script: every module case by case.

use std::process::Command;

use astra_tests::{binary, scratch_dir, workspace};

#[test]
fn the_lua_suite_passes() {
    let data = scratch_dir("data");
    let output = Command::new(binary())
        .args(["run", "tests/lua", "--data-dir", &data.display().to_string(), "--", "nocolor"])
        .current_dir(workspace())
        .env("ASTRA_CACHE_DIR", workspace().join("target/test-cache"))
        .output()
        .expect("astra-host runs");
    let printed = String::from_utf8_lossy(&output.stdout);
    let errors = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{printed}{errors}");
    assert!(printed.lines().any(|line| line.ends_with(" passed, 0 failed ")), "{printed}");
    assert!(!printed.contains("FAIL"), "{printed}");
}
