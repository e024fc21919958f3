//! Astra 0.52's runtime: `astra-host run` as `astra run`, `print` as it formats, the
//! script globals, `getenv`/`setenv`, and the LuaJIT shim.

use std::process::{Command, Output};

use astra_tests::{binary, scratch_dir, workspace};

/// `astra-host run ARGS...` in `dir`, to its end.
fn run(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(binary())
        .arg("run")
        .args(args)
        .current_dir(dir)
        .env("ASTRA_CACHE_DIR", workspace().join("target/test-cache"))
        .env_remove("ASTRA_LOG")
        .output()
        .expect("astra-host runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn a_script_runs_to_its_end_and_prints_as_astra_does() {
    let dir = workspace().join("tests/apps/stdlib/runtime");
    let data = scratch_dir("data");
    let output = run(&dir, &["script.lua", "--data-dir", &data.display().to_string(), "--", "one", "two"]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(String::from_utf8_lossy(&output.stderr), "", "a script's run is quiet on stderr");
    let expected = [
        "plain 42 3 0.5 true nil ",
        "{",
        "  [10] = \"ten\",",
        "  a = {",
        "    1,",
        "    2,",
        "    \"x\",",
        "  },",
        "  b = 2,",
        "  [\"not a name\"] = false,",
        "} ",
    ];
    let printed = stdout(&output);
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(&lines[..expected.len()], expected, "{printed}");
    let rest = &lines[expected.len()..];
    assert!(rest[0].starts_with("{") && rest.iter().any(|line| line.starts_with("  self = table: 0x")), "{printed}");
    let after_cycle: Vec<&str> = rest.iter().copied().skip_while(|line| !line.starts_with("true ")).collect();
    assert_eq!(
        after_cycle,
        [
            "true nil ",
            "astra-host 0.52.0 52 astra-host ",
            "script.lua script.lua script.lua 3 script.lua one two ",
            "15 7 4 -1 -2147483648 15 ",
            "-16 000000ff FFFF 2 67305985 5 ",
            "u loaded ",
            "from astra.toml nil ",
            "yes yes ",
            "true ",
        ]
    );
}

#[test]
fn a_failing_script_exits_non_zero_naming_file_and_line() {
    let dir = workspace().join("tests/apps/stdlib/runtime");
    let output = run(&dir, &["failing.lua"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(stdout(&output), "before the error \n");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("error: failing.lua:2: the script failed here"), "{stderr}");
}

#[test]
fn run_takes_a_folder_or_nothing_for_init_lua() {
    let luau = scratch_dir("run-luau");
    std::fs::write(
        luau.join("init.luau"),
        "#!/usr/bin/env astra\nprint('luau, from ' .. MAIN_SCRIPT)\nerror('on line 3')\n",
    )
    .unwrap();
    let output = run(&luau, &[]);
    assert_eq!(stdout(&output), "luau, from init.luau \n", "a folder without init.lua runs its init.luau: {output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("error: init.luau:3: on line 3"), "a `#!` line is skipped and counted: {stderr}");

    let dir = scratch_dir("run");
    std::fs::create_dir_all(dir.join("app")).unwrap();
    std::fs::write(dir.join("app/init.lua"), "print('from ' .. MAIN_SCRIPT)\n").unwrap();
    let output = run(&dir, &["app"]);
    assert_eq!(stdout(&output), "from init.lua \n", "{output:?}");
    let output = run(&dir.join("app"), &[]);
    assert_eq!(stdout(&output), "from init.lua \n", "{output:?}");
    let output = run(&dir, &["missing.lua"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("missing.lua is not a script"), "{output:?}");
}
