//! The end-to-end scenario, run through the `pin` binary exactly as a user types it:
//! once on the embedded chain and once against a real anvil with `--rpc-url`.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

struct Pin<'a> {
    data_dir: &'a Path,
    rpc_url: Option<String>,
}

impl Pin<'_> {
    fn run(&self, key: Option<&str>, args: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_pin"));
        command.arg("--data-dir").arg(self.data_dir);
        if let Some(url) = &self.rpc_url {
            command.arg("--rpc-url").arg(url);
        }
        if let Some(key) = key {
            command.arg("--key").arg(key);
        }
        command
            .args(args)
            .env_remove("PIN_KEY")
            .env_remove("PIN_RPC_URL")
            .env_remove("PIN_DATA_DIR");
        command.output().expect("run pin")
    }

    fn ok(&self, key: Option<&str>, args: &[&str]) -> String {
        let out = self.run(key, args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "pin {args:?} failed ({}):\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    /// Runs a command that must be refused by a contract: exit code 3, the error named.
    fn refused(&self, key: Option<&str>, args: &[&str], error: &str) {
        let out = self.run(key, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(3),
            "pin {args:?} should be refused; stderr: {stderr}"
        );
        assert!(
            stderr.contains(error),
            "pin {args:?}: expected {error} in {stderr}"
        );
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(None, &all)).expect("json output")
    }
}

fn digest(i: u64) -> String {
    format!("0x{i:064x}")
}

fn scenario(pin: &Pin<'_>) {
    pin.ok(None, &["deploy"]);
    pin.ok(Some("dev:0"), &["whitelist", "dev:1"]);
    pin.ok(Some("dev:0"), &["mint", "dev:1", "20000"]);

    let before = pin.json(&["status", "dev:1"]);
    pin.refused(Some("dev:1"), &["stake", "5000"], "StakingBelowMinimum");
    assert_eq!(
        pin.json(&["status", "dev:1"]),
        before,
        "a refused stake must change nothing"
    );

    pin.ok(Some("dev:1"), &["stake", "10000"]);
    pin.ok(Some("dev:0"), &["grant", "trainer", "dev:2"]);
    pin.ok(Some("dev:0"), &["mint", "dev:2", "1000"]);
    let registered = pin.ok(
        Some("dev:2"),
        &["model", "register", "tiny-llm", "--budget", "1000"],
    );
    assert_eq!(
        registered.lines().next(),
        Some("1"),
        "model register prints the run id first: {registered}"
    );
    pin.ok(Some("dev:2"), &["run", "start", "1"]);
    pin.ok(
        Some("dev:1"),
        &["run", "join", "1", "--endpoint", "127.0.0.1:9001"],
    );
    for i in 1..=10 {
        pin.ok(Some("dev:1"), &["run", "attest", "1", &digest(i)]);
    }
    pin.refused(
        Some("dev:3"),
        &["run", "attest", "1", &digest(99)],
        "TrainingNotParticipant",
    );
    pin.ok(Some("dev:2"), &["run", "end", "1"]);
    pin.refused(Some("dev:1"), &["claim"], "TrainingChallengeWindowOpen");
    pin.ok(None, &["dev", "advance-time", "8d"]);
    let claimed = pin.ok(Some("dev:1"), &["claim"]);
    assert!(claimed.contains("claimed 1000 PIN"), "{claimed}");
    pin.ok(
        Some("dev:0"),
        &["slash", "dev:1", "2500", "--evidence", &digest(7)],
    );

    let status = pin.json(&["status", "dev:1"]);
    assert_eq!(status["stake"], "7500", "{status}");
    assert_eq!(status["balance"], "11000", "{status}");
    assert_eq!(status["runs"], serde_json::json!([1]), "{status}");

    let totals = pin.json(&["totals"]);
    assert_eq!(totals["minted"], "21000", "{totals}");
    assert_eq!(totals["burned"], "2500", "{totals}");
    assert_eq!(totals["supply"], "18500", "{totals}");
    assert_eq!(totals["escrowed"], "0", "{totals}");
}

#[test]
fn scenario_on_the_embedded_chain() {
    let dir = tempfile::tempdir().expect("tempdir");
    scenario(&Pin {
        data_dir: dir.path(),
        rpc_url: None,
    });
}

#[test]
fn scenario_against_anvil() {
    let anvil = pin_chain::testing::spawn_anvil();
    let dir = tempfile::tempdir().expect("tempdir");
    scenario(&Pin {
        data_dir: dir.path(),
        rpc_url: Some(anvil.endpoint()),
    });
}

#[test]
fn bad_input_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pin = Pin {
        data_dir: dir.path(),
        rpc_url: None,
    };

    let out = pin.run(None, &["status", "dev:1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("pin deploy"),
        "not deployed yet"
    );

    pin.ok(None, &["deploy"]);
    let out = pin.run(None, &["deploy"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("already records a deployment"));

    for (args, message) in [
        (&["mint", "dev:1", "12abc"][..], "not an amount"),
        (&["mint", "dev:42", "1"][..], "dev:0 to dev:9"),
        (&["mint", "0x1234", "1"][..], "not an account"),
        (&["run", "attest", "1", "0xabc"][..], "32-byte hex digest"),
        (&["grant", "emperor", "dev:1"][..], "unknown role"),
        (&["dev", "advance-time", "soon"][..], "not a duration"),
    ] {
        let out = pin.run(Some("dev:0"), args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(
            stderr.contains(message),
            "{args:?}: expected {message:?} in {stderr}"
        );
    }
    let out = pin.run(Some("0x1234"), &["status"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--key"));

    pin.refused(
        Some("dev:5"),
        &["mint", "dev:5", "1"],
        "AccessControlUnauthorizedAccount",
    );
    pin.refused(Some("dev:5"), &["whitelist", "dev:5"], "WHITELISTER_ROLE");
    pin.refused(Some("dev:0"), &["run", "start", "7"], "TrainingUnknownRun");
    pin.refused(Some("dev:1"), &["claim", "1"], "TrainingUnknownRun");
    pin.refused(
        Some("dev:0"),
        &["slash", "dev:1", "1", "--evidence", &digest(1)],
        "StakingSlashExceedsStake",
    );

    let out = pin.run(Some("dev:0"), &["--json", "mint", "dev:5", "2000000000"]);
    assert_eq!(out.status.code(), Some(3));
    let error: Value = serde_json::from_slice(&out.stdout).expect("json error");
    assert_eq!(
        error["contract_error"]["name"], "ERC20ExceededCap",
        "{error}"
    );
}
