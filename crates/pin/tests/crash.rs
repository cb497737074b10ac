//! Crash safety of the embedded chain as a user meets it: `pin` processes killed with SIGKILL
//! at arbitrary points while writing. Every kill leaves either the whole transaction or none of
//! it, the data dir always reopens, and nothing reported as done is lost. And the whole devnet
//! (chain, validators, miners, gateway in one process) killed mid-epoch: `pin devnet --resume`
//! continues it — epochs finalise, claims pay what the validators' books owe, once.

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

/// `pin emission status` of the devnet under `dir` (read offline, while no devnet runs):
/// next epoch to finalise, PIN emitted, claimed, and held by the emissions contract.
fn emission_status(dir: &Path) -> (u64, f64, f64, f64) {
    let s: Value = serde_json::from_str(&ok(
        &dir.join("devnet"),
        "dev:0",
        &["--json", "emission", "status"],
    ))
    .expect("json");
    let pin = |k: &str| -> f64 {
        s[k].as_str()
            .and_then(|x| x.parse().ok())
            .unwrap_or_else(|| panic!("{k} in {s}"))
    };
    let next = s["next_epoch"].as_u64().expect("next_epoch");
    (next, pin("emitted"), pin("claimed"), pin("balance"))
}

/// The PIN amounts of the `<member> claimed <amount> PIN` lines of a devnet's log.
fn logged_claims(log: &str) -> Vec<f64> {
    log.lines()
        .filter_map(|l| {
            l.split_once(" claimed ")?
                .1
                .strip_suffix(" PIN")?
                .parse()
                .ok()
        })
        .collect()
}

/// Runs `pin --data-dir <dir> devnet …` to completion, or kills it and fails after `limit`.
fn devnet_until_done(dir: &Path, args: &[&str], limit: Duration) -> String {
    let log = dir.join("resumed.log");
    let mut child = pin(dir, "dev:0", args)
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("spawn");
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            let text = std::fs::read_to_string(&log).expect("log");
            assert!(status.success(), "devnet {args:?} failed:\n{text}");
            return text;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "devnet {args:?} did not finish in {limit:?}:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_devnet_killed_mid_epoch_resumes_losing_nothing_and_paying_nothing_twice() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();
    let first = dir.join("first.log");
    let mut child = pin(
        dir,
        "dev:0",
        &[
            "devnet",
            "--no-dashboard",
            "--epoch-length",
            "10s",
            "--reveal-window",
            "2s",
        ],
    )
    .stderr(std::fs::File::create(&first).expect("log"))
    .spawn()
    .expect("spawn");
    // Until an epoch is final and claimed, then into the next epoch, and kill (SIGKILL).
    let started = Instant::now();
    while logged_claims(&std::fs::read_to_string(&first).unwrap_or_default()).is_empty() {
        if started.elapsed() > Duration::from_secs(180) || child.try_wait().ok().flatten().is_some()
        {
            let _ = child.kill();
            panic!(
                "no claim in the devnet's log:\n{}",
                std::fs::read_to_string(&first).unwrap_or_default()
            );
        }
        sleep(Duration::from_millis(200));
    }
    sleep(Duration::from_secs(3));
    child.kill().expect("kill");
    child.wait().expect("reap");
    let log = std::fs::read_to_string(&first).expect("log");
    let paid: f64 = logged_claims(&log).iter().sum();
    let attested = valid_attestations(&dir.join("devnet"));

    // Everything the devnet reported done is on the chain it left behind.
    let (next, emitted, claimed, balance) = emission_status(dir);
    assert!(next >= 1, "an epoch was final before the kill");
    assert!(
        claimed >= paid - 1e-9,
        "the log reports {paid} PIN claimed, the chain {claimed}"
    );
    assert!(claimed <= emitted && (emitted - claimed - balance).abs() < 1e-6);
    assert!(attested > 0);

    // Resumed, it runs two more epochs to the end and stops by itself.
    let resumed = devnet_until_done(
        dir,
        &["devnet", "--no-dashboard", "--resume", "--epochs", "2"],
        Duration::from_secs(240),
    );
    assert!(resumed.contains("resumed on embedded"), "{resumed}");
    for refused in ["claim failed", "attestation failed"] {
        assert!(!resumed.contains(refused), "{refused}:\n{resumed}");
    }
    // The validators' books survived: members claim again against the new roots, which
    // include what was paid before (a book that lost it would owe less than was claimed).
    assert!(!logged_claims(&resumed).is_empty(), "{resumed}");
    let (next_after, emitted_after, claimed_after, balance_after) = emission_status(dir);
    assert!(next_after >= next + 2, "{next} → {next_after}");
    assert!(claimed_after > claimed && claimed_after <= emitted_after);
    assert!((emitted_after - claimed_after - balance_after).abs() < 1e-6);
    assert!(valid_attestations(&dir.join("devnet")) > attested);
}
