#!/usr/bin/env bash
# Installs what building astra-host needs, once, and says what it is doing.
#  - the wasm32-wasip2 Rust target (the Lua guest is compiled to it);
#  - zig's clang, from PyPI, into a project-local venv (.tools/venv): Lua's C sources need
#    a clang >= 20 that lowers setjmp/longjmp to Wasm exceptions (see guest-lua/README.md);
#  - with `test` (as `make test` runs it): the Debian packages the tests use, each checked
#    by a file it installs: tzdata (the zone database apps' `timezone` is read from) and
#    postgresql (the server the SQL tests start, each in a scratch folder of its own).
# Every step checks first, so running it again costs well under a second.
set -euo pipefail
cd "$(dirname "$0")/.."

ZIG_VERSION="0.17.1"
VENV=".tools/venv"

say() { printf 'bootstrap: %s\n' "$*" >&2; }

if ! command -v rustup >/dev/null 2>&1; then
    say "rustup not found: install Rust with rustup (https://rustup.rs) and run this again"
    exit 1
fi
if ! rustup target list --installed | grep -qx wasm32-wasip2; then
    say "adding the Rust target wasm32-wasip2"
    rustup target add wasm32-wasip2
fi

if [ ! -x "$VENV/bin/python" ]; then
    say "creating the tool venv in $VENV"
    python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('ziglang') != '$ZIG_VERSION')" 2>/dev/null; then
    say "installing ziglang==$ZIG_VERSION (clang for the wasm guest) into $VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "ziglang==$ZIG_VERSION"
fi

# A stable path to the zig binary for scripts/zig-cc (the venv's site-packages path
# carries the Python version).
ZIG_BIN="$(ls -d "$VENV"/lib/python3*/site-packages/ziglang/zig 2>/dev/null | head -n 1)"
if [ -z "$ZIG_BIN" ]; then
    say "ziglang is installed but its zig binary was not found under $VENV"
    exit 1
fi
if [ "$(readlink .tools/zig 2>/dev/null)" != "${ZIG_BIN#.tools/}" ]; then
    ln -sfn "${ZIG_BIN#.tools/}" .tools/zig
fi

# Debian packages for the tests: "package file-it-installs" pairs (the file may be a
# glob), installed with apt-get (through sudo when not root) only when no file matches.
if [ "${1:-}" = "test" ]; then
    missing=()
    while read -r package file; do
        compgen -G "$file" >/dev/null || missing+=("$package")
    done <<'PACKAGES'
tzdata /usr/share/zoneinfo/Europe/Berlin
postgresql /usr/lib/postgresql/*/bin/initdb
PACKAGES
    if [ "${#missing[@]}" -gt 0 ]; then
        say "installing Debian packages for the tests: ${missing[*]}"
        sudo=""
        if [ "$(id -u)" -ne 0 ]; then
            if ! command -v sudo >/dev/null 2>&1; then
                say "not root and no sudo: install ${missing[*]} (apt-get install ${missing[*]}) and run this again"
                exit 1
            fi
            sudo="sudo"
        fi
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
fi
