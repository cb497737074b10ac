//! `pin sim` as a user runs it: the JSON report, determinism by seed, and refused arguments.

use serde_json::Value;
use std::process::{Command, Output};

fn pin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pin"))
        .args(args)
        .output()
        .expect("runs the pin binary")
}

fn report(args: &[&str]) -> Value {
    let out = pin(args);
    assert!(
        out.status.success(),
        "pin {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("--json prints one JSON document")
}

fn amount(v: &Value) -> u128 {
    v.as_str()
        .expect("amounts are decimal strings")
        .parse()
        .expect("a decimal amount")
}

#[test]
fn json_report_is_exact_and_deterministic() {
    let args = [
        "--json",
        "sim",
        "--epochs",
        "2",
        "--challenges",
        "7",
        "--seed",
        "3",
    ];
    let a = report(&args);
    assert_eq!(a["epochs"], 2);
    assert_eq!(a["roots"].as_array().map(Vec::len), Some(2));
    let last = &a["last"];
    let miners = last["miners"].as_array().expect("miners");
    let validators = last["validators"].as_array().expect("validators");
    let paid: u128 = miners
        .iter()
        .chain(validators)
        .map(|m| amount(&m["total"]))
        .sum();
    // Two epochs, every unit of both epochs' emission paid to someone.
    assert_eq!(paid, 2 * amount(&last["emitted"]));
    let earned = |label: &str| {
        miners
            .iter()
            .find(|m| m["label"] == label)
            .map(|m| amount(&m["total"]))
            .expect("miner in the report")
    };
    assert!(earned("exact") > earned("copier"));
    assert!(earned("exact") > earned("random"));
    assert_eq!(report(&args), a, "the same seed gives the same report");
}

#[test]
fn zero_epochs_is_refused() {
    let out = pin(&["sim", "--epochs", "0"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--epochs"));
}
