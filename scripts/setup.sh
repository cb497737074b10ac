#!/usr/bin/env bash
# Installs what the build and the tests need beyond cargo: the npm toolchain of
# package-lock.json (solcjs, OpenZeppelin Contracts, anvil), pinned, and Debian's Chromium
# for the dashboard's page test (crates/node/tests/dashboard.rs).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v npm >/dev/null 2>&1; then
    echo "setup: installing Node.js and npm from Debian" >&2
    apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi

# The page test runs /usr/bin/chromium headless; no browser is downloaded from elsewhere.
if [ ! -x /usr/bin/chromium ]; then
    echo "setup: installing Chromium from Debian" >&2
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi

# --ignore-scripts: anvil's binary comes in its platform package
# (@foundry-rs/anvil-<os>-<arch>); its postinstall hook is not needed.
if ! npm ls --depth=0 >/dev/null 2>&1; then
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
fi
