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

#[test]
fn adversarial_report_refuses_the_attacks_and_shows_the_colluders_falling() {
    let args = [
        "--json",
        "sim",
        "--adversarial",
        "--epochs",
        "8",
        "--seed",
        "2",
    ];
    let out = report(&args);
    assert_eq!(out["scenario"], "adversarial");
    let r = &out["report"];
    assert_eq!(r["roots"].as_array().map(Vec::len), Some(8));
    let strategies = r["strategies"].as_array().expect("strategies");
    let by = |name: &str| {
        strategies
            .iter()
            .find(|s| s["strategy"] == name)
            .unwrap_or_else(|| panic!("{name} in the report"))
    };
    // Identities and PIN staked: 1000 PIN per operator, the sybil's split over four.
    for (name, ids, stake) in [
        ("honest", 3, 3000),
        ("heuristic", 1, 1000),
        ("copier", 1, 1000),
        ("random", 2, 2000),
        ("slow", 1, 1000),
        ("precomputer", 1, 1000),
        ("sybil", 4, 1000),
    ] {
        assert_eq!(by(name)["identities"], ids, "{name}");
        assert_eq!(amount(&by(name)["stake"]), stake * 10u128.pow(18), "{name}");
    }
    for name in ["copier", "precomputer"] {
        assert_eq!(amount(&by(name)["earned"]), 0, "{name}");
    }
    let per_stake = |name: &str| by(name)["per_stake"].as_f64().expect("a number");
    for name in ["heuristic", "copier", "random", "slow", "precomputer"] {
        assert!(per_stake("honest") > per_stake(name), "{name}");
    }
    let paid: u128 = strategies.iter().map(|s| amount(&s["earned"])).sum();
    assert!(paid <= amount(&r["miner_emission"]));
    let validators = r["validators"].as_array().expect("validators");
    let colluders: Vec<&Value> = validators
        .iter()
        .filter(|v| v["colluding"] == true)
        .collect();
    assert_eq!(colluders.len(), 2);
    for v in colluders {
        let f = |k: &str| v[k].as_f64().expect("a number");
        assert!(f("trust") < f("trust_without_collusion"), "{v}");
    }
    let sybil = &r["sybils"][0];
    assert_eq!(sybil["identities"], 4);
    assert!(amount(&sybil["single_identity_earned"]) > 0);
}

#[test]
fn adversarial_table_prints_and_collude_is_refused_beside_it() {
    let out = pin(&["sim", "--adversarial", "--epochs", "2"]);
    assert!(out.status.success());
    let table = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "PIN/staked",
        "precomputer",
        "sybil",
        "colluder",
        "trust (honest)",
    ] {
        assert!(table.contains(needle), "{needle} in\n{table}");
    }
    let out = pin(&["sim", "--adversarial", "--collude"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--collude"));
}
