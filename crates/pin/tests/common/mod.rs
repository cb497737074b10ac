//! What the cross-process tests share: running `pin` against a chain, free ports, reading a
//! service's JSON, and waiting for a condition with a deadline.

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

/// `pin` with its data dir, chain, key and arguments; the environment's `PIN_*` ignored.
pub(crate) fn pin_command(data_dir: &Path, rpc_url: &str, key: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pin"));
    command
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--rpc-url")
        .arg(rpc_url)
        .arg("--key")
        .arg(key)
        .args(args)
        .env_remove("PIN_KEY")
        .env_remove("PIN_RPC_URL")
        .env_remove("PIN_DATA_DIR");
    command
}

/// A port of 127.0.0.1 free a moment ago.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// GETs `url` and decodes its JSON, or `None` on any failure (for polling).
pub(crate) fn get(url: &str) -> Option<Value> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    rt.block_on(async {
        reqwest::Client::new()
            .get(url)
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()
    })
}

/// Polls `f` until it gives a value or `timeout` passes.
pub(crate) fn try_wait_for<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        if let Some(x) = f() {
            return Some(x);
        }
        if start.elapsed() > timeout {
            return None;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Polls `f` until it gives a value; panics naming `what` after `timeout`.
pub(crate) fn wait_for<T>(what: &str, timeout: Duration, f: impl FnMut() -> Option<T>) -> T {
    try_wait_for(timeout, f).unwrap_or_else(|| panic!("timed out waiting for {what}"))
}
