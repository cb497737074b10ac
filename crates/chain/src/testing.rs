//! Test support: a real anvil from the project's pinned npm toolchain.

use std::path::PathBuf;

use alloy::node_bindings::{Anvil, AnvilInstance};

/// Where `npm ci` (scripts/setup.sh) puts the anvil binary for this platform.
#[must_use]
pub fn anvil_path() -> PathBuf {
    if let Some(path) = std::env::var_os("PIN_ANVIL") {
        return PathBuf::from(path);
    }
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../node_modules/@foundry-rs")
        .join(format!("anvil-{os}-{arch}"))
        .join("bin/anvil")
}

/// Starts anvil on a free port of 127.0.0.1 with its default dev accounts (the same as the
/// embedded chain's). Panics with the fix if the binary is missing: tests need it.
#[must_use]
pub fn spawn_anvil() -> AnvilInstance {
    let path = anvil_path();
    assert!(
        path.is_file(),
        "anvil not found at {} — run scripts/setup.sh (npm ci) first",
        path.display()
    );
    Anvil::at(path).arg("--host").arg("127.0.0.1").spawn()
}
