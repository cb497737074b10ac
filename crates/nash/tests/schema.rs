//! The documented JSON schema of the wire types (`crates/nash/schema/*.schema.json`) is the one
//! the code produces: this test regenerates it and fails on any difference. After changing a
//! wire type, run `PIN_BLESS=1 cargo test -p pin-nash --test schema` and commit the files.

use nash::challenge::{Challenge, Problem};
use nash::class::ProblemClass;
use nash::config::Config;
use nash::generate::{Difficulty, challenge};
use nash::intent::Intent;
use nash::settlement::Answer;
use nash::solve::reference;
use schemars::{Schema, schema_for};
use std::path::PathBuf;

fn schemas() -> Vec<(&'static str, Schema)> {
    vec![
        ("intent", schema_for!(Intent)),
        ("challenge", schema_for!(Challenge)),
        ("answer", schema_for!(Answer)),
    ]
}

#[test]
fn committed_schema_matches_the_code() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schema");
    let bless = std::env::var_os("PIN_BLESS").is_some();
    let mut stale = Vec::new();
    for (name, schema) in schemas() {
        let path = dir.join(format!("{name}.schema.json"));
        let text = serde_json::to_string_pretty(&schema).expect("a schema serialises") + "\n";
        if bless {
            std::fs::write(&path, &text).expect("writes the schema");
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "out of date: {stale:?}; run PIN_BLESS=1 cargo test -p pin-nash --test schema"
    );
}

/// Every top-level field a serialised value carries is one the schema declares, for a challenge
/// and an answer of every class.
#[test]
fn serialised_values_use_only_declared_fields() {
    let config = Config::default();
    let declared = |schema: &Schema, value: &serde_json::Value| {
        let props = schema
            .get("properties")
            .and_then(|p| p.as_object())
            .map(|p| p.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default();
        let fields: Vec<String> = value
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        fields.iter().all(|f| props.contains(f)) && !fields.is_empty()
    };
    let challenge_schema = schema_for!(Challenge);
    for class in ProblemClass::ALL {
        let c = challenge(class, 3, &Difficulty::easy());
        let value = serde_json::to_value(&c).expect("serialises");
        assert!(declared(&challenge_schema, &value), "{class:?}: {value}");
        if let Problem::Market(m) = &c.problem
            && let Some(i) = m.intents.first()
        {
            let v = serde_json::to_value(i).expect("serialises");
            assert!(declared(&schema_for!(Intent), &v), "{v}");
        }
        if let Ok(a) = reference(&c, &config) {
            let v = serde_json::to_value(&a).expect("serialises");
            let back: Answer = serde_json::from_value(v).expect("round trip");
            assert_eq!(back, a);
        }
    }
}
