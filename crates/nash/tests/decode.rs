//! Hostile input for every public decoder of the mechanism's wire types — challenges
//! (`Challenge::from_json`), intents, answers (settlements, strategy profiles, coalition answers),
//! hashes and the configuration: arbitrary bytes and text, every truncation of valid JSON, valid
//! JSON with one number replaced by something hostile (huge, negative, fractional, NaN-like
//! strings, other types), and deep nesting. Nothing panics; a decode error says where the
//! document went wrong (serde's position, never before the offending token), and a validation
//! error names the field. Answers that survive decoding go through the verifier (also on
//! salted views and de-salted, as the validator does) and always get a verdict.
//!
//! A limit of serde_json, not of this crate: an error inside an internally tagged enum — any
//! `Answer`, read into a buffer first to find its `type` — comes with neither a position nor a
//! field path (`invalid type: floating point `0.5`, expected u64`); such errors are checked to
//! say what was expected. (Inside a `Challenge` the enclosing struct adds the position of the
//! end of `problem`. The services' decoder adds the path up to the tagged value, `answer: …`.)
//!
//! `tests/properties.rs` already feeds the verifier structurally random answers; here the
//! answers come from JSON, mostly one token away from the reference, so they reach the deeper
//! checks.

use nash::challenge::{Challenge, Problem};
use nash::class::{CoalitionGame, MarketInstance, ProblemClass};
use nash::config::{Config, SettlementRules};
use nash::error::Error;
use nash::generate::{Difficulty, challenge};
use nash::intent::Intent;
use nash::salt::{de_salted_digest, salt};
use nash::settlement::{Answer, CoalitionAnswer, Settlement, StrategyProfile};
use nash::solve::reference;
use nash::units::Hash32;
use nash::verify::verify;
use proptest::prelude::*;
use serde::de::DeserializeOwned;

fn cases(n: u32) -> ProptestConfig {
    ProptestConfig {
        cases: n,
        // Failures are reported with their minimal input; no regression files are written.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Words a validation error starts its subject with: the fields of the wire types.
const FIELDS: [&str; 25] = [
    "quantity",
    "min_fill",
    "lot",
    "window",
    "price",
    "valuation",
    "counterparties",
    "bundle",
    "intents",
    "party",
    "parties",
    "problem",
    "rows",
    "cols",
    "payoffs",
    "actions",
    "players",
    "values",
    "fills",
    "prices",
    "strategies",
    "structure",
    "challenge",
    "row_payoffs",
    "col_payoffs",
];

/// Whether `message` names one of [`FIELDS`] as a word (`fills[2].quantity` names `fills`).
fn names_a_field(message: &str) -> bool {
    message
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|word| FIELDS.contains(&word))
}

/// Decoders whose errors may come without a position (see [`check`]).
const UNPLACED: [&str; 2] = ["answer", "hash"];

/// The byte offset serde_json reports (`… at line L column C`), if any.
fn position(message: &str, text: &str) -> Option<usize> {
    let (_, tail) = message.rsplit_once(" at line ")?;
    let (line, column) = tail.split_once(" column ")?;
    let line: usize = line.trim().parse().ok()?;
    let column: usize = column.trim().parse().ok()?;
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    Some(start + column)
}

/// How a document fared with one decoder.
#[derive(Debug)]
enum Outcome {
    /// Decoded and validated.
    Valid,
    /// serde_json refused it.
    Json(String),
    /// Decoded, but validation refused it.
    Invalid(String),
}

/// Decodes `text` with serde_json as `T`, then runs `validate`.
fn decode_as<T: DeserializeOwned>(
    text: &str,
    validate: impl FnOnce(&T) -> Result<(), String>,
) -> Outcome {
    match serde_json::from_str::<T>(text) {
        Err(e) => Outcome::Json(e.to_string()),
        Ok(value) => match validate(&value) {
            Ok(()) => Outcome::Valid,
            Err(e) => Outcome::Invalid(e),
        },
    }
}

/// `Challenge::from_json`, split into its two kinds of error.
fn decode_challenge(text: &str) -> Outcome {
    match Challenge::from_json(text) {
        Ok(c) => {
            // What decodes and validates also re-encodes, hashes and solves without panicking.
            let _ = nash::Canonical::hash(&c);
            Outcome::Valid
        }
        Err(Error::Json(e)) => Outcome::Json(e),
        Err(e) => Outcome::Invalid(e.to_string()),
    }
}

/// Structural validation of an answer against the shape of `ch` (or a default shape).
fn validate_answer(a: &Answer, ch: Option<&Challenge>) -> Result<(), String> {
    let config = Config::default();
    let (actions, players) = match ch.map(|c| &c.problem) {
        Some(Problem::ZeroSum(g)) => (vec![g.rows, g.cols], 2),
        Some(Problem::Bimatrix(g)) => (vec![g.rows, g.cols], 2),
        Some(Problem::ThreePlayer(g)) => (g.actions.to_vec(), 3),
        Some(Problem::Coalition(g)) => (Vec::new(), g.players),
        _ => (vec![2, 2], 3),
    };
    match a {
        Answer::Settlement(s) => s.validate(&config.settlement),
        Answer::Strategies(p) => p.validate(&actions, config.settlement.probability_tolerance),
        Answer::Coalitions(c) => c.validate(players),
    }
    .map_err(|e| e.to_string())
}

/// Every decoder on `text`, by name.
fn decode_all(text: &str) -> Vec<(&'static str, Outcome)> {
    let rules = SettlementRules::default();
    vec![
        ("challenge", decode_challenge(text)),
        (
            "intent",
            decode_as::<Intent>(text, |i| i.validate().map_err(|e| e.to_string())),
        ),
        (
            "answer",
            decode_as::<Answer>(text, |a| validate_answer(a, None)),
        ),
        (
            "settlement",
            decode_as::<Settlement>(text, |s| s.validate(&rules).map_err(|e| e.to_string())),
        ),
        (
            "strategies",
            decode_as::<StrategyProfile>(text, |p| {
                p.validate(&[2, 2], 1e-9).map_err(|e| e.to_string())
            }),
        ),
        (
            "coalitions",
            decode_as::<CoalitionAnswer>(text, |c| c.validate(3).map_err(|e| e.to_string())),
        ),
        (
            "market",
            decode_as::<MarketInstance>(text, |m| {
                m.validate(ProblemClass::ThreeParty)
                    .map_err(|e| e.to_string())
            }),
        ),
        (
            "coalition game",
            decode_as::<CoalitionGame>(text, |g| g.validate().map_err(|e| e.to_string())),
        ),
        ("hash", decode_as::<Hash32>(text, |_| Ok(()))),
        ("config", decode_as::<Config>(text, |_| Ok(()))),
    ]
}

/// Asserts the common contract of an outcome: a JSON error has a message and a position in the
/// document; a validation error names a field.
fn check(name: &str, text: &str, outcome: &Outcome) -> Result<(), TestCaseError> {
    match outcome {
        Outcome::Valid => {}
        Outcome::Json(e) => {
            prop_assert!(!e.is_empty(), "{name}: empty JSON error");
            // serde_json places every error it detects while reading; errors raised after the
            // reading — inside an internally tagged enum (`Answer`, read into a buffer first to
            // find its `type`), or by `Hash32`'s own check of a bare string — carry no position,
            // so they must say what was expected instead.
            prop_assert!(
                position(e, text).is_some() || (UNPLACED.contains(&name) && e.contains("expected")),
                "{name}: JSON error without a position or an expectation: {e}"
            );
        }
        Outcome::Invalid(e) => {
            prop_assert!(
                names_a_field(e),
                "{name}: validation error names no field: {e}"
            );
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- documents to mutate

/// A generated challenge of every class, with the reference answer where there is one.
fn corpus() -> Vec<(Challenge, Option<Answer>)> {
    let config = Config::default();
    let mut out = Vec::new();
    for class in ProblemClass::ALL {
        for seed in [1, 2] {
            let c = challenge(class, seed, &Difficulty::easy());
            let a = reference(&c, &config).ok();
            out.push((c, a));
        }
    }
    out
}

fn corpus_cached() -> &'static [(Challenge, Option<Answer>)] {
    static CORPUS: std::sync::OnceLock<Vec<(Challenge, Option<Answer>)>> =
        std::sync::OnceLock::new();
    CORPUS.get_or_init(corpus)
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("wire types serialise")
}

/// Byte ranges of the number tokens of a JSON text (outside strings).
fn number_tokens(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut in_string) = (0, false);
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
        } else if b == b'"' {
            in_string = true;
            i += 1;
        } else if b == b'-' || b.is_ascii_digit() {
            let start = i;
            while i < bytes.len()
                && matches!(bytes[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
            {
                i += 1;
            }
            out.push((start, i));
        } else {
            i += 1;
        }
    }
    out
}

/// What replaces a number: out of every integer type's range, negative, fractional, special
/// floats spelled as strings or bare words (not JSON), other types, and valid extremes.
fn hostile_number() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(vec![
            "-1",
            "-0",
            "0",
            "1.5",
            "0.0",
            "1e400",
            "-1e400",
            "1e-400",
            "1e19",
            "65536",
            "4294967296",
            "4294967295",
            "9223372036854775808",
            "-9223372036854775809",
            "-9223372036854775808",
            "18446744073709551615",
            "18446744073709551616",
            "340282366920938463463374607431768211456",
            "1000000000000000001",
            "1001",
            "17",
            "\"NaN\"",
            "\"Infinity\"",
            "\"-Infinity\"",
            "\"1\"",
            "\"\"",
            "\"\\u0000\"",
            "null",
            "true",
            "[]",
            "{}",
            "[1,2]",
            "NaN",
            "Infinity",
            "0x10",
            "+1",
            "01",
            "1.",
            ".5",
            "--1",
        ])
        .prop_map(String::from),
        1 => Just("9".repeat(400)),
        1 => Just(format!("0.{}1", "0".repeat(400))),
        1 => any::<i64>().prop_map(|v| v.to_string()),
        1 => any::<u64>().prop_map(|v| v.to_string()),
        1 => any::<f64>().prop_map(|v| format!("{v:e}")),
    ]
}

/// A document of the corpus: `(which, text)`; `which` picks the decoder to check it with.
#[derive(Clone, Copy, Debug)]
enum Doc {
    Challenge,
    Intent,
    Answer(usize),
}

impl Doc {
    /// The decoder's name, as in [`decode_all`].
    fn name(self) -> &'static str {
        match self {
            Doc::Challenge => "challenge",
            Doc::Intent => "intent",
            Doc::Answer(_) => "answer",
        }
    }
}

fn docs() -> Vec<(Doc, String)> {
    let mut out = Vec::new();
    for (k, (c, a)) in corpus_cached().iter().enumerate() {
        out.push((Doc::Challenge, json(c)));
        if let Problem::Market(m) = &c.problem
            && let Some(i) = m.intents.first()
        {
            out.push((Doc::Intent, json(i)));
        }
        if let Some(a) = a {
            out.push((Doc::Answer(k), json(a)));
        }
    }
    out
}

fn docs_cached() -> &'static [(Doc, String)] {
    static DOCS: std::sync::OnceLock<Vec<(Doc, String)>> = std::sync::OnceLock::new();
    DOCS.get_or_init(docs)
}

/// Decodes `text` as the kind of `doc`; an answer that decodes goes through the verifier
/// against its challenge, as a miner's answer and as the reference.
fn decode_doc(doc: Doc, text: &str) -> Result<Outcome, TestCaseError> {
    let corpus = corpus_cached();
    let config = Config::default();
    Ok(match doc {
        Doc::Challenge => decode_challenge(text),
        Doc::Intent => decode_as::<Intent>(text, |i| i.validate().map_err(|e| e.to_string())),
        Doc::Answer(k) => {
            let (ch, good) = &corpus[k];
            let decoded = serde_json::from_str::<Answer>(text);
            if let Ok(a) = &decoded {
                let v = verify(ch, a, good.as_ref(), &config);
                prop_assert!((0.0..=1.0).contains(&v.quality), "{v:?}");
                if !v.violations.is_empty() {
                    prop_assert_eq!(v.quality, 0.0);
                }
                if let Some(good) = good {
                    let v = verify(ch, good, Some(a), &config);
                    prop_assert!((0.0..=1.0).contains(&v.quality), "{v:?}");
                }
            }
            match decoded {
                Err(e) => Outcome::Json(e.to_string()),
                Ok(a) => match validate_answer(&a, Some(ch)) {
                    Ok(()) => Outcome::Valid,
                    Err(e) => Outcome::Invalid(e),
                },
            }
        }
    })
}

fn doc_index() -> impl Strategy<Value = usize> {
    0..docs_cached().len()
}

// ---------------------------------------------------------------- properties

proptest! {
    #![proptest_config(cases(512))]

    /// Arbitrary bytes and arbitrary text: every decoder answers, none panics.
    #[test]
    fn arbitrary_bytes_and_text_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        text in ".{0,256}",
    ) {
        let lossy = String::from_utf8_lossy(&bytes).into_owned();
        for input in [lossy.as_str(), text.as_str()] {
            for (name, outcome) in decode_all(input) {
                check(name, input, &outcome)?;
            }
        }
        // Bytes that are not UTF-8 at all are refused by the byte decoders too.
        let _ = serde_json::from_slice::<Challenge>(&bytes);
        let _ = serde_json::from_slice::<Answer>(&bytes);
        let _ = serde_json::from_slice::<Intent>(&bytes);
    }

    /// Every proper prefix of a valid document is refused as JSON, with a position inside the
    /// prefix (the end of input); never a partial value.
    #[test]
    fn truncated_valid_json_is_refused_at_its_end(k in doc_index(), cut in any::<prop::sample::Index>()) {
        let (doc, text) = &docs_cached()[k];
        let at = cut.index(text.len());
        let prefix = &text[..at];
        match decode_doc(*doc, prefix)? {
            Outcome::Json(e) => {
                let pos = position(&e, prefix);
                prop_assert!(pos.is_some_and(|p| p <= prefix.len() + 1), "{e} (prefix of {} bytes)", prefix.len());
            }
            other => prop_assert!(false, "a {}-byte prefix of {doc:?} was {other:?}", prefix.len()),
        }
    }

    /// One number of a valid document replaced by something hostile: a JSON error positioned
    /// at or after the replacement (never blaming earlier bytes), a validation error naming a
    /// field, or a valid document that then verifies without panicking.
    #[test]
    fn a_hostile_number_is_refused_by_position_or_field(
        k in doc_index(),
        pick in any::<prop::sample::Index>(),
        replacement in hostile_number(),
    ) {
        let (doc, text) = &docs_cached()[k];
        let tokens = number_tokens(text);
        prop_assume!(!tokens.is_empty());
        let (start, end) = tokens[pick.index(tokens.len())];
        let mutated = format!("{}{}{}", &text[..start], replacement, &text[end..]);
        let outcome = decode_doc(*doc, &mutated)?;
        check(doc.name(), &mutated, &outcome)?;
        if let Outcome::Json(e) = &outcome
            && let Some(pos) = position(e, &mutated)
        {
            prop_assert!(pos >= start, "{doc:?}: error at byte {pos}, before the replacement at {start}: {e}");
        }
    }

    /// Several numbers replaced at once (so validation sees combinations of bad values).
    #[test]
    fn many_hostile_numbers_never_panic(
        k in doc_index(),
        picks in prop::collection::vec((any::<prop::sample::Index>(), hostile_number()), 1..6),
    ) {
        let (doc, text) = &docs_cached()[k];
        let tokens = number_tokens(text);
        prop_assume!(!tokens.is_empty());
        let mut chosen: Vec<(usize, usize, String)> = picks
            .into_iter()
            .map(|(i, r)| { let (s, e) = tokens[i.index(tokens.len())]; (s, e, r) })
            .collect();
        chosen.sort_by_key(|c| std::cmp::Reverse(c.0));
        chosen.dedup_by_key(|c| c.0);
        let mut mutated = text.clone();
        for (s, e, r) in chosen {
            mutated.replace_range(s..e, &r);
        }
        let outcome = decode_doc(*doc, &mutated)?;
        check(doc.name(), &mutated, &outcome)?;
    }

    /// Answers that decode against the miner's salted view are de-salted and verified against
    /// the canonical challenge, as the validator does with what a miner sends; nothing panics and
    /// the digest identical answers are grouped by is always computed.
    #[test]
    fn hostile_answers_to_salted_views_desalt_and_verify(
        k in 0..corpus_cached().len(),
        seed in any::<[u8; 32]>(),
        pick in any::<prop::sample::Index>(),
        replacement in hostile_number(),
    ) {
        let config = Config::default();
        let (ch, good) = &corpus_cached()[k];
        let (view, map) = salt(ch, &seed);
        let Ok(answer) = reference(&view, &config) else { return Ok(()) };
        let text = json(&answer);
        let tokens = number_tokens(&text);
        prop_assume!(!tokens.is_empty());
        let (start, end) = tokens[pick.index(tokens.len())];
        let mutated = format!("{}{}{}", &text[..start], replacement, &text[end..]);
        if let Ok(a) = serde_json::from_str::<Answer>(&mutated) {
            let back = map.desalt(&a);
            let _ = de_salted_digest(&map, &a, &config.pmu);
            let v = verify(ch, &back, good.as_ref(), &config);
            prop_assert!((0.0..=1.0).contains(&v.quality), "{v:?}");
            if !v.violations.is_empty() {
                prop_assert_eq!(v.quality, 0.0);
            }
            // The answer to the view, de-salted, is a valid answer to the challenge when the
            // replacement left it unchanged in value.
            if a == answer {
                prop_assert!(v.violations.is_empty(), "{:?}", v.violations);
            }
        }
    }
}

// ---------------------------------------------------------------- fixed hostile documents

/// Nesting far beyond serde_json's recursion limit (128), bare and inside each field that takes
/// a value: refused as JSON, no stack overflow.
#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    let depth = 100_000;
    let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let objects = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
    let unclosed = "[{\"a\":".repeat(depth);
    for nest in [&arrays, &objects, &unclosed] {
        for (name, outcome) in decode_all(nest) {
            // `Config` fills every field with its default and skips unknown keys; serde_json
            // skips a value iteratively, without recursion, so `{"a": <deep nest>}` is a
            // default configuration, not a stack overflow.
            let skipped = name == "config" && nest == &objects;
            assert!(
                matches!(outcome, Outcome::Json(_)) || skipped,
                "{name}: {outcome:?}"
            );
        }
    }
    // A deep nest in place of each value of each document of the corpus.
    let nest = format!("{}{}", "[".repeat(5_000), "]".repeat(5_000));
    for (doc, text) in docs_cached() {
        for (start, end) in number_tokens(text) {
            let mutated = format!("{}{}{}", &text[..start], nest, &text[end..]);
            let outcome = decode_doc(*doc, &mutated).expect("verifies");
            assert!(matches!(outcome, Outcome::Json(_)), "{doc:?}: {outcome:?}");
        }
    }
    // Deep, but within the limit, where the type wants nested arrays: refused by type.
    let strategies = format!(
        "{{\"type\":\"strategies\",\"challenge\":1,\"strategies\":{}0.5{}}}",
        "[".repeat(100),
        "]".repeat(100)
    );
    for (name, outcome) in decode_all(&strategies) {
        if matches!(name, "answer" | "strategies") {
            assert!(matches!(outcome, Outcome::Json(_)), "{name}: {outcome:?}");
        }
    }
}

/// Valid JSON of absurd size where the mechanism bounds it: refused by validation with the
/// field, before any work proportional to the claimed size.
#[test]
fn oversized_shapes_are_refused_with_their_field() {
    let payoffs = vec!["1"; 1_000_001].join(",");
    let cases = [
        // A 2×2 game with a million payoffs.
        format!(
            r#"{{"id":1,"class":"zero_sum_game","parties":[1,2],"salt":"0x{z}","deadline_ms":1,"problem":{{"type":"zero_sum","rows":2,"cols":2,"payoffs":[{payoffs}]}}}}"#,
            z = "0".repeat(64)
        ),
        // Dimensions past the limits (and whose product overflows usize).
        format!(
            r#"{{"id":1,"class":"zero_sum_game","parties":[1,2],"salt":"0x{z}","deadline_ms":1,"problem":{{"type":"zero_sum","rows":{m},"cols":{m},"payoffs":[]}}}}"#,
            z = "0".repeat(64),
            m = u64::MAX
        ),
        format!(
            r#"{{"id":1,"class":"general_game","parties":[1,2,3],"salt":"0x{z}","deadline_ms":1,"problem":{{"type":"three_player","actions":[{m},{m},{m}],"payoffs":[[],[],[]]}}}}"#,
            z = "0".repeat(64),
            m = u64::MAX
        ),
        format!(
            r#"{{"id":1,"class":"coalition_formation","parties":[1],"salt":"0x{z}","deadline_ms":1,"problem":{{"type":"coalition","players":64,"values":[0]}}}}"#,
            z = "0".repeat(64)
        ),
        // A hundred thousand parties for a two-player game.
        format!(
            r#"{{"id":1,"class":"zero_sum_game","parties":[{p}],"salt":"0x{z}","deadline_ms":1,"problem":{{"type":"zero_sum","rows":1,"cols":1,"payoffs":[0]}}}}"#,
            z = "0".repeat(64),
            p = (0..100_000)
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",")
        ),
    ];
    for text in &cases {
        match decode_challenge(text) {
            Outcome::Invalid(e) => assert!(names_a_field(&e), "{e}"),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }
    // Answers far larger than any game: refused by their shape check, naming the field that is
    // too long (and only that one).
    let many = vec!["0"; 100_000].join(",");
    let fill = r#"{"seller":1,"buyer":2,"resource":0,"slot":0,"quantity":1}"#;
    let answers = [
        (
            format!(r#"{{"type":"strategies","challenge":1,"strategies":[[{many}],[1]]}}"#),
            "strategies[0]: 100000 probabilities",
        ),
        (
            format!(
                r#"{{"type":"coalitions","challenge":1,"structure":[{many}],"payoffs":[0,0,0]}}"#
            ),
            "structure: 100000 coalitions",
        ),
        (
            format!(
                r#"{{"type":"settlement","challenge":1,"fills":[{}],"prices":[]}}"#,
                vec![fill; 100_001].join(",")
            ),
            "fills: 100001 entries",
        ),
        (
            format!(
                r#"{{"type":"settlement","challenge":1,"fills":[],"prices":[{}]}}"#,
                vec![r#"{"intent":1,"price":1}"#; 100_001].join(",")
            ),
            "prices: 100001 entries",
        ),
    ];
    for (text, expected) in &answers {
        match decode_as::<Answer>(text, |a| validate_answer(a, None)) {
            Outcome::Invalid(e) => assert!(e.starts_with(expected), "{e}"),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }
}

/// Strings where numbers, hashes and enum tags are expected: unicode, control characters,
/// right-to-left overrides, overlong hex, a tag of the wrong variant.
#[test]
fn hostile_strings_are_refused() {
    let z = "0".repeat(64);
    let challenge_with = |class: &str, salt: &str, problem: &str| {
        format!(
            r#"{{"id":1,"class":{class},"parties":[1,2],"salt":{salt},"deadline_ms":1,"problem":{problem}}}"#
        )
    };
    let game = r#"{"type":"zero_sum","rows":1,"cols":1,"payoffs":[0]}"#;
    let good_salt = format!("\"0x{z}\"");
    let bad: Vec<String> = vec![
        challenge_with("\"zero_sum_game\u{202e}\"", &good_salt, game),
        challenge_with("\"ZERO_SUM_GAME\"", &good_salt, game),
        challenge_with("\"\"", &good_salt, game),
        challenge_with(
            "\"zero_sum_game\"",
            &format!("\"0x{}\"", "é".repeat(32)),
            game,
        ),
        challenge_with("\"zero_sum_game\"", &format!("\"0x{z}00\""), game),
        challenge_with(
            "\"zero_sum_game\"",
            &format!("\"0x{}\"", "g".repeat(64)),
            game,
        ),
        challenge_with("\"zero_sum_game\"", "\"0x\"", game),
        challenge_with(
            "\"zero_sum_game\"",
            &good_salt,
            r#"{"type":"zero_sum\u0000","rows":1,"cols":1,"payoffs":[0]}"#,
        ),
        challenge_with(
            "\"zero_sum_game\"",
            &good_salt,
            r#"{"type":"market","intents":[]}"#,
        ),
        challenge_with(
            "\"zero_sum_game\"",
            &good_salt,
            r#"{"rows":1,"cols":1,"payoffs":[0]}"#,
        ),
        format!(
            "\u{feff}{}",
            challenge_with("\"zero_sum_game\"", &good_salt, game)
        ),
        format!(
            "{} trailing",
            challenge_with("\"zero_sum_game\"", &good_salt, game)
        ),
        challenge_with("\"zero_sum_game\"", &good_salt, game)
            .replace("\"id\":1", "\"id\":1,\"id\":2"),
    ];
    // The unmodified document is valid, so each refusal is the mutation's.
    assert!(matches!(
        decode_challenge(&challenge_with("\"zero_sum_game\"", &good_salt, game)),
        Outcome::Valid
    ));
    for text in &bad {
        let outcome = decode_challenge(text);
        assert!(!matches!(outcome, Outcome::Valid), "{text}");
        check("challenge", text, &outcome).expect("error contract");
    }
    for text in [
        r#"{"type":"Settlement","challenge":1,"fills":[],"prices":[]}"#,
        r#"{"type":"settlement","challenge":"1","fills":[],"prices":[]}"#,
        r#"{"type":"strategies","challenge":1,"strategies":[["0.5","0.5"]]}"#,
        r#"{"type":"coalitions","challenge":1,"structure":[-1],"payoffs":[]}"#,
        r#"{"type":"coalitions","challenge":1,"structure":[4294967296],"payoffs":[]}"#,
        r#"{"challenge":1,"fills":[],"prices":[]}"#,
    ] {
        let outcome = decode_as::<Answer>(text, |a| validate_answer(a, None));
        assert!(matches!(outcome, Outcome::Json(_)), "{text}: {outcome:?}");
        check("answer", text, &outcome).expect("error contract");
    }
}

/// The error-contract helpers themselves, on known messages.
#[test]
fn helpers_read_positions_and_fields() {
    assert_eq!(
        position("EOF while parsing at line 1 column 5", "abcd"),
        Some(5)
    );
    assert_eq!(position("x at line 2 column 1", "ab\ncd"), Some(4));
    assert_eq!(position("no position", "ab"), None);
    assert!(names_a_field("fills[2].quantity is zero"));
    assert!(names_a_field("intent 3: lot 5 is above quantity 2"));
    assert!(!names_a_field("linear program is infeasible"));
    assert_eq!(
        number_tokens(r#"{"a":"1-2","b":-3.5e1,"c":[7]}"#),
        vec![(15, 21), (27, 28)]
    );
}
