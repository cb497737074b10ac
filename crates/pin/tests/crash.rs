//! Crash safety of the embedded chain as a user meets it: `pin` processes killed with SIGKILL
//! at arbitrary points while writing. Every kill leaves either the whole transaction or none of
//! it, the data dir always reopens, and nothing reported as done is lost.

use std::path::Path;
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use serde_json::Value;

fn pin(dir: &Path, key: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pin"));
    command
        .arg("--data-dir")
        .arg(dir)
        .arg("--key")
        .arg(key)
        .args(args);
    command
        .env_remove("PIN_RPC_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn ok(dir: &Path, key: &str, args: &[&str]) -> String {
    let out = pin(dir, key, args).output().expect("run pin");
    assert!(
        out.status.success(),
        "pin {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn valid_attestations(dir: &Path) -> u64 {
    let show: Value =
        serde_json::from_str(&ok(dir, "dev:0", &["--json", "run", "show", "1"])).expect("json");
    show["valid_attestations"]
        .as_u64()
        .expect("valid_attestations")
}

#[test]
fn killed_writers_lose_nothing_committed_and_half_apply_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();
    ok(dir, "dev:0", &["deploy"]);
    ok(dir, "dev:0", &["whitelist", "dev:1"]);
    ok(dir, "dev:0", &["mint", "dev:1", "10000"]);
    ok(dir, "dev:1", &["stake", "10000"]);
    ok(dir, "dev:0", &["grant", "trainer", "dev:2"]);
    ok(dir, "dev:0", &["mint", "dev:2", "100"]);
    ok(dir, "dev:2", &["model", "register", "m", "--budget", "100"]);
    ok(dir, "dev:2", &["run", "start", "1"]);
    ok(
        dir,
        "dev:1",
        &["run", "join", "1", "--endpoint", "127.0.0.1:9001"],
    );

    // Calibrate: how long one attest takes here, so the kills land across its whole length.
    let started = Instant::now();
    ok(
        dir,
        "dev:1",
        &["run", "attest", "1", &format!("0x{:064x}", 1000)],
    );
    let full = started.elapsed().as_micros().max(1000) as u64;

    let writers = 24u64;
    let (mut completed, mut killed) = (Vec::new(), Vec::new());
    for i in 0..writers {
        let digest = format!("0x{i:064x}");
        let mut child = pin(dir, "dev:1", &["run", "attest", "1", &digest])
            .spawn()
            .expect("spawn");
        // Spread the kill points over 0..300 % of a clean run: a run after a kill is slower
        // (redb repairs a file that was not closed cleanly).
        sleep(Duration::from_micros(full * (i % 12) / 4));
        match child.try_wait().expect("try_wait") {
            Some(status) => {
                assert!(status.success(), "attest {i} failed on its own");
                completed.push(digest);
            }
            None => {
                child.kill().expect("kill");
                child.wait().expect("reap");
                killed.push(digest);
            }
        }
    }
    assert!(
        !killed.is_empty(),
        "no writer was killed: the test did not test anything"
    );

    // Each killed write either happened entirely or not at all: retrying tells which.
    let counted = valid_attestations(dir);
    let mut committed_before_kill = 0;
    for digest in &killed {
        let out = pin(dir, "dev:1", &["run", "attest", "1", digest])
            .output()
            .expect("retry");
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.success() {
            continue;
        }
        assert!(
            stderr.contains("TrainingDuplicateAttestation"),
            "retry of {digest}: {stderr}"
        );
        committed_before_kill += 1;
    }
    eprintln!(
        "{} writers completed, {} killed ({committed_before_kill} of those had committed)",
        completed.len(),
        killed.len()
    );
    assert_eq!(
        counted,
        1 + completed.len() as u64 + committed_before_kill,
        "every completed write is present and every killed one is all-or-nothing"
    );
    assert_eq!(valid_attestations(dir), 1 + writers);

    // And the chain still works end to end after all that.
    ok(dir, "dev:2", &["run", "end", "1"]);
    ok(dir, "dev:0", &["dev", "advance-time", "8d"]);
    let claimed = ok(dir, "dev:1", &["claim"]);
    assert!(claimed.contains("claimed 100 PIN"), "{claimed}");
}
