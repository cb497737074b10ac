//! Every refusal path of the wire protocol's gate, with real secp256k1 keys.

use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use node::wire::{
    Credentials, Gate, GateConfig, HEADER_NONCE, HEADER_SENDER, HEADER_SIGNATURE, HEADER_TIMESTAMP,
    Refusal,
};
use proptest::prelude::*;
use std::collections::HashMap;

const NOW: u64 = 1_800_000_000_000;
const PATH: &str = "/v1/answers";
const BODY: &[u8] = br#"{"challenge":"0x01","answer":{"settlement":{"fills":[]}}}"#;

fn key(seed: u8) -> PrivateKeySigner {
    let mut bytes = [0u8; 32];
    bytes[31] = seed;
    bytes[0] = 1;
    PrivateKeySigner::from_slice(&bytes).expect("valid key")
}

fn headers(c: &Credentials) -> HashMap<String, String> {
    c.headers()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

fn signed(signer: &PrivateKeySigner, nonce: u64, ts: u64, body: &[u8]) -> HashMap<String, String> {
    headers(&Credentials::sign(signer, "POST", PATH, body, nonce, ts).expect("signs"))
}

fn admit(
    gate: &Gate,
    h: &HashMap<String, String>,
    body: &[u8],
    known: &[Address],
) -> Result<Address, Refusal> {
    gate.admit(
        "POST",
        PATH,
        |name| h.get(name).map(String::as_str),
        body,
        NOW,
        |a| known.contains(&a),
    )
}

#[test]
fn a_signed_request_is_admitted_once() {
    let gate = Gate::default();
    let miner = key(1);
    let h = signed(&miner, 7, NOW, BODY);
    assert_eq!(
        admit(&gate, &h, BODY, &[miner.address()]),
        Ok(miner.address())
    );
    let again = admit(&gate, &h, BODY, &[miner.address()]).expect_err("replay");
    assert_eq!(
        again,
        Refusal::Replay {
            sender: miner.address(),
            nonce: 7
        }
    );
    assert_eq!(again.status(), 409);
    // The next nonce is fine, and nonces need not increase.
    assert!(
        admit(
            &gate,
            &signed(&miner, 8, NOW, BODY),
            BODY,
            &[miner.address()]
        )
        .is_ok()
    );
    assert!(
        admit(
            &gate,
            &signed(&miner, 3, NOW, BODY),
            BODY,
            &[miner.address()]
        )
        .is_ok()
    );
    assert_eq!(gate.remembered(), 3);
}

#[test]
fn oversized_bodies_are_refused_before_anything_else() {
    let gate = Gate::new(GateConfig {
        max_body_bytes: 16,
        ..GateConfig::default()
    });
    let err = admit(&gate, &HashMap::new(), BODY, &[]).expect_err("too big");
    assert_eq!(
        err,
        Refusal::Oversized {
            len: BODY.len(),
            max: 16
        }
    );
    assert_eq!(err.status(), 413);
    assert!(
        err.to_string().contains("exceeds the limit of 16 bytes"),
        "{err}"
    );
    assert_eq!(gate.check_size(17).map_err(|e| e.code()), Err("oversized"));
    assert!(gate.check_size(16).is_ok());
}

#[test]
fn each_missing_header_is_named() {
    let gate = Gate::default();
    let miner = key(1);
    let full = signed(&miner, 1, NOW, BODY);
    for name in [
        HEADER_SENDER,
        HEADER_NONCE,
        HEADER_TIMESTAMP,
        HEADER_SIGNATURE,
    ] {
        let mut h = full.clone();
        h.remove(name);
        let err = admit(&gate, &h, BODY, &[miner.address()]).expect_err("missing");
        assert_eq!(err, Refusal::MissingHeader(name));
        assert_eq!(err.status(), 400);
        assert!(err.to_string().contains(name), "{err}");
    }
    assert_eq!(gate.remembered(), 0);
}

#[test]
fn each_malformed_header_is_named() {
    let gate = Gate::default();
    let miner = key(1);
    let full = signed(&miner, 1, NOW, BODY);
    let cases = [
        (HEADER_SENDER, "0x1234"),
        (HEADER_SENDER, "not an address"),
        (HEADER_NONCE, "-1"),
        (HEADER_NONCE, "18446744073709551616"),
        (HEADER_TIMESTAMP, "yesterday"),
        (HEADER_SIGNATURE, "0xzz"),
        (HEADER_SIGNATURE, "0x00"),
    ];
    for (name, value) in cases {
        let mut h = full.clone();
        h.insert(name.to_string(), value.to_string());
        match admit(&gate, &h, BODY, &[miner.address()]) {
            Err(Refusal::MalformedHeader { name: n, reason }) => {
                assert_eq!(n, name, "{value}: {reason}");
                assert!(!reason.is_empty());
            }
            other => panic!("{name}={value}: expected a malformed header, got {other:?}"),
        }
    }
}

#[test]
fn any_change_to_the_signed_request_breaks_the_signature() {
    let gate = Gate::default();
    let miner = key(1);
    let known = [miner.address()];
    let h = signed(&miner, 1, NOW, BODY);

    let mut tampered = BODY.to_vec();
    tampered[20] ^= 1;
    let err = admit(&gate, &h, &tampered, &known).expect_err("body changed");
    assert!(matches!(err, Refusal::BadSignature { claimed, .. } if claimed == miner.address()));
    assert_eq!(err.status(), 401);

    for (method, path) in [("PUT", PATH), ("POST", "/v1/intents")] {
        let err = gate
            .admit(
                method,
                path,
                |n| h.get(n).map(String::as_str),
                BODY,
                NOW,
                |_| true,
            )
            .expect_err("other endpoint");
        assert_eq!(err.code(), "bad_signature", "{method} {path}");
    }

    let mut later = h.clone();
    later.insert(HEADER_NONCE.into(), "2".into());
    assert_eq!(
        admit(&gate, &later, BODY, &known).map_err(|e| e.code()),
        Err("bad_signature")
    );
    let mut moved = h.clone();
    moved.insert(HEADER_TIMESTAMP.into(), (NOW + 1).to_string());
    assert_eq!(
        admit(&gate, &moved, BODY, &known).map_err(|e| e.code()),
        Err("bad_signature")
    );
    // None of the refusals burnt the nonce: the genuine request still goes through.
    assert_eq!(admit(&gate, &h, BODY, &known), Ok(miner.address()));
}

#[test]
fn claiming_another_senders_address_fails() {
    let gate = Gate::default();
    let (miner, thief) = (key(1), key(2));
    let mut h = signed(&thief, 1, NOW, BODY);
    h.insert(HEADER_SENDER.into(), miner.address().to_string());
    match admit(&gate, &h, BODY, &[miner.address()]) {
        // The sender is part of the signed bytes, so the thief's signature recovers to neither.
        Err(Refusal::BadSignature { claimed, recovered }) => {
            assert_eq!(claimed, miner.address());
            assert_ne!(recovered, Some(miner.address()));
        }
        other => panic!("expected a bad signature, got {other:?}"),
    }
    // The thief's own signature over the miner's claim: refused the same way.
    let miners_request = Credentials::sign(&thief, "POST", PATH, BODY, 1, NOW).expect("signs");
    let forged = Credentials {
        sender: miner.address(),
        ..miners_request
    };
    let err = admit(&gate, &headers(&forged), BODY, &[miner.address()]).expect_err("forged");
    assert_eq!(err.code(), "bad_signature");
    assert!(
        err.to_string().contains(&miner.address().to_string()),
        "{err}"
    );
}

#[test]
fn unknown_senders_are_refused_after_authentication() {
    let gate = Gate::default();
    let stranger = key(3);
    let h = signed(&stranger, 1, NOW, BODY);
    let err = admit(&gate, &h, BODY, &[key(1).address()]).expect_err("unknown");
    assert_eq!(err, Refusal::UnknownSender(stranger.address()));
    assert_eq!(err.status(), 403);
    // Once registered, the same request is admitted: the refusal recorded nothing.
    assert!(admit(&gate, &h, BODY, &[stranger.address()]).is_ok());
}

#[test]
fn stale_and_future_timestamps_are_refused() {
    let gate = Gate::default();
    let miner = key(1);
    let known = [miner.address()];
    let max = gate.config().max_skew_ms;
    assert!(admit(&gate, &signed(&miner, 1, NOW - max, BODY), BODY, &known).is_ok());
    assert!(admit(&gate, &signed(&miner, 2, NOW + max, BODY), BODY, &known).is_ok());
    for (nonce, ts) in [(3, NOW - max - 1), (4, NOW + max + 1), (5, 0)] {
        let err = admit(&gate, &signed(&miner, nonce, ts, BODY), BODY, &known).expect_err("stale");
        assert_eq!(err.code(), "stale", "{ts}");
        assert_eq!(err.status(), 401);
    }
}

#[test]
fn replays_stay_refused_after_the_nonce_is_forgotten() {
    let gate = Gate::default();
    let miner = key(1);
    let known = [miner.address()];
    let max = gate.config().max_skew_ms;
    let h = signed(&miner, 9, NOW, BODY);
    assert!(admit(&gate, &h, BODY, &known).is_ok());
    // Later, past the window: the gate forgets nonce 9 and the copy is refused as stale.
    let later = NOW + max + 1;
    let fresh = signed(&miner, 10, later, BODY);
    assert!(
        gate.admit(
            "POST",
            PATH,
            |n| fresh.get(n).map(String::as_str),
            BODY,
            later,
            |_| true
        )
        .is_ok()
    );
    assert_eq!(gate.remembered(), 1, "nonce 9 was forgotten");
    let copy = gate
        .admit(
            "POST",
            PATH,
            |n| h.get(n).map(String::as_str),
            BODY,
            later,
            |_| true,
        )
        .expect_err("old copy");
    assert_eq!(copy.code(), "stale");
}

#[test]
fn senders_have_separate_nonces() {
    let gate = Gate::default();
    let (a, b) = (key(1), key(2));
    let known = [a.address(), b.address()];
    assert!(admit(&gate, &signed(&a, 1, NOW, BODY), BODY, &known).is_ok());
    assert!(admit(&gate, &signed(&b, 1, NOW, BODY), BODY, &known).is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary header values and bodies never panic the gate and are never admitted unless
    /// they are a genuine signature over exactly that body.
    #[test]
    fn hostile_headers_never_panic(
        sender in ".{0,60}",
        nonce in ".{0,30}",
        ts in ".{0,30}",
        sig in ".{0,140}",
        body in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let gate = Gate::default();
        let h: HashMap<String, String> = [
            (HEADER_SENDER, sender), (HEADER_NONCE, nonce), (HEADER_TIMESTAMP, ts), (HEADER_SIGNATURE, sig),
        ].into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        let r = gate.admit("POST", PATH, |n| h.get(n).map(String::as_str), &body, NOW, |_| true);
        prop_assert!(r.is_err());
        prop_assert_eq!(gate.remembered(), 0);
    }

    /// Flipping any bit of a signed body is caught.
    #[test]
    fn any_flipped_body_bit_is_caught(at in 0..BODY.len(), bit in 0u8..8) {
        let gate = Gate::default();
        let miner = key(1);
        let h = signed(&miner, 1, NOW, BODY);
        let mut body = BODY.to_vec();
        body[at] ^= 1 << bit;
        let r = gate.admit("POST", PATH, |n| h.get(n).map(String::as_str), &body, NOW, |_| true);
        prop_assert_eq!(r.map_err(|e| e.code()), Err("bad_signature"));
    }
}
