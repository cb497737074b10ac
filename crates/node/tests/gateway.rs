//! The intent gateway on a real socket on 127.0.0.1: parties submit signed intents and read
//! where they stand, validators admitted by the gateway's directory lease batches and report
//! outcomes, every refusal comes back with its status and JSON code, and the records survive a
//! restart on the same data directory.

use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use nash::intent::{Side, Valuation, Window};
use nash::units::{Hash32, Price, Quantity, ResourceKind};
use node::api::{
    BatchRequest, IntentFill, IntentOrder, IntentRecord, IntentStatus, Outcome, OutcomeReceipt,
};
use node::client::{ClientError, SignedClient};
use node::gateway::{
    self, GatewayConfig, GatewayError, IntentStats, MAX_LEASE_MS, Running, intent_id,
};
use node::http::{RefusalBody, now_ms};
use node::wire::Credentials;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

fn key(seed: u8) -> PrivateKeySigner {
    let mut bytes = [0u8; 32];
    bytes[0] = 4;
    bytes[31] = seed;
    PrivateKeySigner::from_slice(&bytes).expect("valid key")
}

/// Nonces for raw requests: unique across the whole test binary.
static NONCE: AtomicU64 = AtomicU64::new(1);

fn next_nonce() -> u64 {
    NONCE.fetch_add(1, Ordering::Relaxed)
}

/// A gateway on `dir` whose directory admits exactly `validators`, with a small body limit
/// (so oversized bodies are cheap to send) and `max_open` intents per party.
async fn start(dir: &Path, validators: &[Address], max_open: usize) -> Running {
    let set = validators.to_vec();
    let mut config = GatewayConfig::new(
        key(99).address(),
        dir.to_path_buf(),
        Arc::new(move |a: Address| set.contains(&a)),
    );
    config.gate.max_body_bytes = 4096;
    config.max_open_per_party = max_open;
    gateway::start(config).await.expect("gateway starts")
}

/// A buy order of `units` GPU hours at 2.0 that expires in an hour.
fn order(side: Side, units: u64) -> IntentOrder {
    IntentOrder {
        side,
        resource: ResourceKind::GPU_HOURS,
        quantity: Quantity::units(units),
        min_fill: Quantity::ZERO,
        lot: Quantity::ZERO,
        valuation: Valuation::Limit {
            price: Price::new(2, 0),
        },
        window: Window { start: 0, end: 24 },
        expires_ms: now_ms() + 3_600_000,
    }
}

/// An answer: status and body bytes.
struct Answer {
    status: u16,
    body: Vec<u8>,
}

impl Answer {
    fn json<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} is not the expected JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// Asserts a refusal with `status` and `code`; returns its reason.
    fn refused(&self, status: u16, code: &str) -> String {
        let r: RefusalBody = self.json();
        assert_eq!(
            (self.status, r.error.as_str()),
            (status, code),
            "{}",
            r.reason
        );
        r.reason
    }
}

/// POSTs `body` to `base + path` signed by `signer` with `nonce` (as sent, no re-encoding).
async fn post_raw(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    signer: &PrivateKeySigner,
    nonce: u64,
    body: &[u8],
) -> Answer {
    let creds = Credentials::sign(signer, "POST", path, body, nonce, now_ms()).expect("signs");
    send_with(http, base, path, Some(&creds), body).await
}

/// POSTs `body` with the given credentials (or none).
async fn send_with(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    creds: Option<&Credentials>,
    body: &[u8],
) -> Answer {
    let mut req = http
        .post(format!("{base}{path}"))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(c) = creds {
        for (k, v) in c.headers() {
            req = req.header(k, v);
        }
    }
    let resp = req.send().await.expect("the gateway answers");
    let status = resp.status().as_u16();
    let body = resp.bytes().await.expect("a body").to_vec();
    Answer { status, body }
}

async fn get(http: &reqwest::Client, url: &str) -> Answer {
    let resp = http.get(url).send().await.expect("the gateway answers");
    let status = resp.status().as_u16();
    let body = resp.bytes().await.expect("a body").to_vec();
    Answer { status, body }
}

/// Submits `order` as `party` with a fresh nonce: asserts 201 and returns the record.
async fn submit(
    http: &reqwest::Client,
    gw: &Running,
    party: &PrivateKeySigner,
    order: &IntentOrder,
) -> IntentRecord {
    let body = serde_json::to_vec(order).expect("serialises");
    let nonce = next_nonce();
    let answer = post_raw(http, &gw.url(), "/intents", party, nonce, &body).await;
    assert_eq!(
        answer.status,
        201,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let record: IntentRecord = answer.json();
    assert_eq!(record.id, intent_id(party.address(), nonce, &body));
    record
}

async fn record(http: &reqwest::Client, gw: &Running, id: Hash32) -> IntentRecord {
    let answer = get(http, &format!("{}/intents/{id}", gw.url())).await;
    assert_eq!(answer.status, 200);
    answer.json()
}

async fn list(http: &reqwest::Client, gw: &Running, query: &str) -> Vec<IntentRecord> {
    let answer = get(http, &format!("{}/intents?{query}", gw.url())).await;
    assert_eq!(
        answer.status,
        200,
        "{query}: {}",
        String::from_utf8_lossy(&answer.body)
    );
    answer.json()
}

async fn stats(http: &reqwest::Client, gw: &Running) -> IntentStats {
    let answer = get(http, &format!("{}/stats", gw.url())).await;
    assert_eq!(answer.status, 200);
    answer.json()
}

/// `(status, code, reason)` of a refusal through the signing client.
fn refused<T: std::fmt::Debug>(result: Result<T, ClientError>) -> (u16, String, String) {
    match result {
        Err(ClientError::Refused {
            status,
            error,
            reason,
            ..
        }) => (status, error, reason),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn client(signer: &PrivateKeySigner) -> SignedClient {
    SignedClient::new(signer.clone(), Duration::from_secs(10))
}

fn fill(intent: Hash32, units: u64) -> IntentFill {
    IntentFill {
        intent,
        filled: Quantity::units(units),
        price: Price::new(1, 500_000),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_party_submits_a_signed_intent_and_reads_it_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    let gw = start(dir.path(), &[], 100).await;
    let http = reqwest::Client::new();
    let (alice, bob) = (key(1), key(2));

    let before = now_ms();
    let mine = order(Side::Buy, 10);
    let a = submit(&http, &gw, &alice, &mine).await;
    assert_eq!(a.party, alice.address());
    assert_eq!(a.order, mine);
    assert_eq!(a.status, IntentStatus::Pending);
    assert!(a.submitted_ms >= before && a.submitted_ms <= now_ms());

    // The signing client gets the same kind of record (it reads the 201 as a success).
    let theirs = order(Side::Sell, 4);
    let b: IntentRecord = client(&bob)
        .post(&format!("{}/intents", gw.url()), &theirs)
        .await
        .expect("bob's intent is taken");
    assert_eq!((b.party, &b.order), (bob.address(), &theirs));
    let a2 = submit(&http, &gw, &alice, &order(Side::Buy, 3)).await;

    assert_eq!(record(&http, &gw, a.id).await, a);
    assert_eq!(record(&http, &gw, b.id).await, b);

    // By party (oldest first), by state, both, with a limit.
    let alices = list(&http, &gw, &format!("party={}", alice.address())).await;
    assert_eq!(alices, vec![a.clone(), a2.clone()]);
    let lower = format!("{:#x}", alice.address()).to_lowercase();
    assert_eq!(list(&http, &gw, &format!("party={lower}")).await.len(), 2);
    assert_eq!(
        list(
            &http,
            &gw,
            &format!("party={}&state=pending", bob.address())
        )
        .await,
        vec![b.clone()]
    );
    assert!(
        list(
            &http,
            &gw,
            &format!("party={}&state=settled", alice.address())
        )
        .await
        .is_empty()
    );
    assert_eq!(
        list(&http, &gw, "state=pending").await,
        vec![a.clone(), b.clone(), a2.clone()]
    );
    assert_eq!(list(&http, &gw, "limit=1").await, vec![a.clone()]);
    assert!(
        list(&http, &gw, &format!("party={}", key(3).address()))
            .await
            .is_empty()
    );
    let s = stats(&http, &gw).await;
    assert_eq!((s.pending, s.total, s.settled), (3, 3, 0));

    // Reads that cannot be answered.
    let unknown = Hash32([0xab; 32]);
    let reason = get(&http, &format!("{}/intents/{unknown}", gw.url()))
        .await
        .refused(404, "unknown_intent");
    assert!(reason.contains(&unknown.to_string()), "{reason}");
    get(&http, &format!("{}/intents/0x1234", gw.url()))
        .await
        .refused(400, "malformed_id");
    let reason = get(&http, &format!("{}/intents?state=lost", gw.url()))
        .await
        .refused(400, "malformed_query");
    assert!(reason.starts_with("state"), "{reason}");
    let reason = get(&http, &format!("{}/intents?party=0x12", gw.url()))
        .await
        .refused(400, "malformed_query");
    assert!(reason.starts_with("party"), "{reason}");
    let reason = get(&http, &format!("{}/intents?limit=-1", gw.url()))
        .await
        .refused(400, "malformed_query");
    assert!(reason.starts_with("limit"), "{reason}");
    let reason = get(&http, &format!("{}/intents?owner=me", gw.url()))
        .await
        .refused(400, "malformed_query");
    assert!(reason.starts_with("owner"), "{reason}");

    gw.shutdown().await.expect("stops cleanly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_validator_leases_a_batch_and_its_outcome_settles_the_intents() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (alice, bob, v, w) = (key(1), key(2), key(10), key(11));
    let gw = start(dir.path(), &[v.address(), w.address()], 100).await;
    let http = reqwest::Client::new();
    let buy = submit(&http, &gw, &alice, &order(Side::Buy, 10)).await;
    let sell = submit(&http, &gw, &bob, &order(Side::Sell, 6)).await;
    let (vc, wc) = (client(&v), client(&w));
    let batches = format!("{}/batches", gw.url());
    let outcomes = format!("{}/outcomes", gw.url());

    let before = now_ms();
    let leased: Vec<IntentRecord> = vc
        .post(
            &batches,
            &BatchRequest {
                max: 10,
                lease_ms: 60_000,
            },
        )
        .await
        .expect("a batch");
    assert_eq!(
        leased.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![buy.id, sell.id],
        "oldest first"
    );
    for r in &leased {
        match r.status {
            IntentStatus::Assigned {
                validator,
                until_ms,
            } => {
                assert_eq!(validator, v.address());
                assert!(until_ms >= before + 60_000 && until_ms <= now_ms() + 60_000);
            }
            ref other => panic!("leased but {other:?}"),
        }
        assert_eq!(record(&http, &gw, r.id).await, *r);
    }
    assert_eq!(list(&http, &gw, "state=assigned").await, leased);
    // Nothing is left for the other validator.
    let none: Vec<IntentRecord> = wc
        .post(
            &batches,
            &BatchRequest {
                max: 10,
                lease_ms: 60_000,
            },
        )
        .await
        .expect("an empty batch");
    assert!(none.is_empty(), "{none:?}");

    // The other validator cannot report on intents leased to v.
    let challenge = Hash32([7; 32]);
    let tx = Some(Hash32([8; 32]));
    let outcome = Outcome {
        challenge,
        tx,
        fills: vec![fill(buy.id, 6), fill(sell.id, 6)],
    };
    let (status, code, reason) = refused(wc.post::<_, OutcomeReceipt>(&outcomes, &outcome).await);
    assert_eq!((status, code.as_str()), (409, "not_leased"), "{reason}");
    assert!(reason.contains(&v.address().to_string()), "{reason}");

    // An impossible fill (more than the seller offers) is refused, naming the fill; nothing
    // of the outcome is applied.
    let greedy = Outcome {
        fills: vec![fill(buy.id, 7), fill(sell.id, 7)],
        ..outcome.clone()
    };
    let (status, code, reason) = refused(vc.post::<_, OutcomeReceipt>(&outcomes, &greedy).await);
    assert_eq!(
        (status, code.as_str()),
        (422, "invalid_outcome"),
        "{reason}"
    );
    assert!(reason.starts_with("fills[1].filled"), "{reason}");
    assert!(matches!(
        record(&http, &gw, buy.id).await.status,
        IntentStatus::Assigned { .. }
    ));

    // An empty outcome, an intent the gateway never held, the same intent twice.
    let empty = Outcome {
        fills: Vec::new(),
        ..outcome.clone()
    };
    let (status, code, reason) = refused(vc.post::<_, OutcomeReceipt>(&outcomes, &empty).await);
    assert_eq!((status, code.as_str()), (422, "invalid_outcome"));
    assert!(reason.starts_with("fills"), "{reason}");
    let ghost = Hash32([0xee; 32]);
    let stray = Outcome {
        fills: vec![fill(buy.id, 6), fill(ghost, 6)],
        ..outcome.clone()
    };
    let (status, code, reason) = refused(vc.post::<_, OutcomeReceipt>(&outcomes, &stray).await);
    assert_eq!((status, code.as_str()), (404, "unknown_intent"));
    assert!(reason.contains(&ghost.to_string()), "{reason}");
    let twice = Outcome {
        fills: vec![fill(buy.id, 6), fill(buy.id, 6)],
        ..outcome.clone()
    };
    let (status, code, reason) = refused(vc.post::<_, OutcomeReceipt>(&outcomes, &twice).await);
    assert_eq!((status, code.as_str()), (422, "invalid_outcome"));
    assert!(reason.contains("twice"), "{reason}");

    // The real outcome: the buyer gets 6 of its 10, the seller sells all 6.
    let receipt: OutcomeReceipt = vc
        .post(&outcomes, &outcome)
        .await
        .expect("the outcome is taken");
    assert_eq!(receipt.updated, 2);
    let settled = record(&http, &gw, buy.id).await;
    assert_eq!(
        settled.status,
        IntentStatus::Settled {
            validator: v.address(),
            challenge,
            filled: Quantity::units(6),
            price: Price::new(1, 500_000),
            tx,
        }
    );
    assert_eq!(
        list(
            &http,
            &gw,
            &format!("party={}&state=settled", bob.address())
        )
        .await
        .len(),
        1
    );
    let s = stats(&http, &gw).await;
    assert_eq!(
        (s.pending, s.assigned, s.settled, s.unfilled, s.total),
        (0, 0, 2, 0, 2)
    );

    // The same outcome again (a retry after a lost answer) changes nothing and is not refused;
    // a different outcome for the settled intents is.
    let again: OutcomeReceipt = vc.post(&outcomes, &outcome).await.expect("a retry");
    assert_eq!(again.updated, 0);
    let other = Outcome {
        challenge: Hash32([9; 32]),
        ..outcome.clone()
    };
    let (status, code, reason) = refused(vc.post::<_, OutcomeReceipt>(&outcomes, &other).await);
    assert_eq!((status, code.as_str()), (409, "not_leased"), "{reason}");
    assert!(reason.contains("settled"), "{reason}");
    assert_eq!(record(&http, &gw, buy.id).await, settled);

    // An unfilled intent: leased, reported with a zero fill.
    let late = submit(&http, &gw, &alice, &order(Side::Buy, 2)).await;
    let leased: Vec<IntentRecord> = wc
        .post(
            &batches,
            &BatchRequest {
                max: 10,
                lease_ms: 60_000,
            },
        )
        .await
        .expect("a batch");
    assert_eq!(leased.len(), 1);
    let nothing = Outcome {
        challenge: Hash32([10; 32]),
        tx: None,
        fills: vec![fill(late.id, 0)],
    };
    let receipt: OutcomeReceipt = wc.post(&outcomes, &nothing).await.expect("taken");
    assert_eq!(receipt.updated, 1);
    assert_eq!(
        record(&http, &gw, late.id).await.status,
        IntentStatus::Unfilled {
            validator: w.address(),
            challenge: Hash32([10; 32]),
        }
    );
    assert_eq!(stats(&http, &gw).await.unfilled, 1);

    // Bad batch requests name the field.
    for lease_ms in [0, MAX_LEASE_MS + 1] {
        let (status, code, reason) = refused(
            vc.post::<_, Vec<IntentRecord>>(&batches, &BatchRequest { max: 1, lease_ms })
                .await,
        );
        assert_eq!((status, code.as_str()), (422, "invalid_batch"));
        assert!(reason.starts_with("lease_ms"), "{reason}");
    }
    let (status, code, reason) = refused(
        vc.post::<_, Vec<IntentRecord>>(&batches, &serde_json::json!({"max": 1}))
            .await,
    );
    assert_eq!((status, code.as_str()), (422, "invalid_batch"));
    assert!(reason.contains("lease_ms"), "{reason}");
    let (status, code, _) = refused(vc.post::<_, Vec<IntentRecord>>(&batches, "{not json").await);
    assert_eq!(
        (status, code.as_str()),
        (422, "invalid_batch"),
        "a JSON string"
    );
    let answer = post_raw(&http, &gw.url(), "/batches", &v, next_nonce(), b"{not json").await;
    answer.refused(400, "malformed_body");
    let answer = post_raw(
        &http,
        &gw.url(),
        "/outcomes",
        &v,
        next_nonce(),
        b"{\"challenge\":",
    )
    .await;
    answer.refused(400, "malformed_body");

    gw.shutdown().await.expect("stops cleanly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lapsed_lease_goes_to_the_next_validator_and_a_lapsed_intent_expires() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (alice, v, w) = (key(1), key(10), key(11));
    let gw = start(dir.path(), &[v.address(), w.address()], 100).await;
    let http = reqwest::Client::new();
    let batches = format!("{}/batches", gw.url());
    let (vc, wc) = (client(&v), client(&w));

    let intent = submit(&http, &gw, &alice, &order(Side::Buy, 5)).await;
    let leased: Vec<IntentRecord> = vc
        .post(
            &batches,
            &BatchRequest {
                max: 1,
                lease_ms: 150,
            },
        )
        .await
        .expect("a batch");
    let IntentStatus::Assigned { until_ms, .. } = leased[0].status else {
        panic!("not leased: {:?}", leased[0].status);
    };
    // Until the lease ends the other validator gets nothing; after it, the intent.
    let ask = BatchRequest {
        max: 1,
        lease_ms: 60_000,
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let taken = loop {
        let now = now_ms();
        let got: Vec<IntentRecord> = wc.post(&batches, &ask).await.expect("a batch");
        if now <= until_ms {
            assert!(
                got.is_empty() || now_ms() > until_ms,
                "leased twice: {got:?}"
            );
        }
        if let Some(r) = got.into_iter().next() {
            break r;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the lease never lapsed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(taken.id, intent.id);
    assert!(
        matches!(taken.status, IntentStatus::Assigned { validator, .. } if validator == w.address())
    );
    // The first validator's outcome comes too late: someone else holds the intent.
    let outcome = Outcome {
        challenge: Hash32([1; 32]),
        tx: None,
        fills: vec![fill(intent.id, 5)],
    };
    let (status, code, reason) = refused(
        vc.post::<_, OutcomeReceipt>(&format!("{}/outcomes", gw.url()), &outcome)
            .await,
    );
    assert_eq!((status, code.as_str()), (409, "not_leased"));
    assert!(reason.contains(&w.address().to_string()), "{reason}");

    // A pending intent past its expiry is marked expired at the next batch, and not leased.
    let mut short = order(Side::Sell, 1);
    short.expires_ms = now_ms() + 150;
    let soon = submit(&http, &gw, &alice, &short).await;
    let wait = short.expires_ms.saturating_sub(now_ms()) + 1;
    tokio::time::sleep(Duration::from_millis(wait)).await;
    let got: Vec<IntentRecord> = vc.post(&batches, &ask).await.expect("a batch");
    assert!(got.is_empty(), "an expired intent was leased: {got:?}");
    assert_eq!(
        record(&http, &gw, soon.id).await.status,
        IntentStatus::Expired
    );
    assert_eq!(list(&http, &gw, "state=expired").await.len(), 1);
    let s = stats(&http, &gw).await;
    assert_eq!((s.expired, s.assigned, s.pending), (1, 1, 0));

    gw.shutdown().await.expect("stops cleanly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refused_submission_has_its_status_and_code() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (alice, mallory, v) = (key(1), key(6), key(10));
    let gw = start(dir.path(), &[v.address()], 2).await;
    let http = reqwest::Client::new();
    let base = gw.url();
    let good = serde_json::to_vec(&order(Side::Buy, 10)).expect("serialises");

    // Oversized: a body over the gate's limit, genuinely signed.
    let mut big = serde_json::to_value(order(Side::Buy, 10)).expect("value");
    big["padding"] = serde_json::Value::String("x".repeat(8192));
    let big = serde_json::to_vec(&big).expect("serialises");
    let reason = post_raw(&http, &base, "/intents", &alice, next_nonce(), &big)
        .await
        .refused(413, "oversized");
    assert!(reason.contains("4096"), "{reason}");

    // Not JSON.
    let reason = post_raw(
        &http,
        &base,
        "/intents",
        &alice,
        next_nonce(),
        b"{\"side\":",
    )
    .await
    .refused(400, "malformed_body");
    assert!(!reason.is_empty());

    // JSON of the wrong shape: the reason names the field.
    let mut missing = serde_json::to_value(order(Side::Buy, 10)).expect("value");
    missing.as_object_mut().expect("object").remove("quantity");
    let body = serde_json::to_vec(&missing).expect("serialises");
    let reason = post_raw(&http, &base, "/intents", &alice, next_nonce(), &body)
        .await
        .refused(422, "invalid_intent");
    assert!(reason.contains("quantity"), "{reason}");
    let mut mistyped = serde_json::to_value(order(Side::Buy, 10)).expect("value");
    mistyped["expires_ms"] = serde_json::json!("tomorrow");
    let body = serde_json::to_vec(&mistyped).expect("serialises");
    let reason = post_raw(&http, &base, "/intents", &alice, next_nonce(), &body)
        .await
        .refused(422, "invalid_intent");
    assert!(reason.contains("expires_ms"), "{reason}");
    let mut side = serde_json::to_value(order(Side::Buy, 10)).expect("value");
    side["side"] = serde_json::json!("steal");
    let body = serde_json::to_vec(&side).expect("serialises");
    let reason = post_raw(&http, &base, "/intents", &alice, next_nonce(), &body)
        .await
        .refused(422, "invalid_intent");
    assert!(reason.contains("side"), "{reason}");

    // Orders the mechanism refuses, each naming its field (see validate_order).
    let mut zero = order(Side::Buy, 10);
    zero.quantity = Quantity::ZERO;
    let mut expired = order(Side::Buy, 10);
    expired.expires_ms = now_ms() - 1_000;
    let mut window = order(Side::Buy, 10);
    window.window = Window { start: 5, end: 5 };
    let mut min_fill = order(Side::Buy, 10);
    min_fill.min_fill = Quantity::units(11);
    let mut lot = order(Side::Buy, 10);
    lot.lot = Quantity::units(20);
    for (bad, field) in [
        (zero, "quantity"),
        (expired, "expires_ms"),
        (window, "window"),
        (min_fill, "min_fill"),
        (lot, "lot"),
    ] {
        let body = serde_json::to_vec(&bad).expect("serialises");
        let reason = post_raw(&http, &base, "/intents", &alice, next_nonce(), &body)
            .await
            .refused(422, "invalid_intent");
        assert!(reason.starts_with(field), "{field}: {reason}");
    }

    // A bad signature: signed over one body, sent with another; and a signature by someone
    // else claiming to be alice.
    let creds = Credentials::sign(&alice, "POST", "/intents", &good, next_nonce(), now_ms())
        .expect("signs");
    let other = serde_json::to_vec(&order(Side::Buy, 11)).expect("serialises");
    send_with(&http, &base, "/intents", Some(&creds), &other)
        .await
        .refused(401, "bad_signature");
    let forged = Credentials {
        sender: alice.address(),
        ..Credentials::sign(&mallory, "POST", "/intents", &good, next_nonce(), now_ms())
            .expect("signs")
    };
    send_with(&http, &base, "/intents", Some(&forged), &good)
        .await
        .refused(401, "bad_signature");
    // Signed for another path.
    let elsewhere = Credentials::sign(&alice, "POST", "/batches", &good, next_nonce(), now_ms())
        .expect("signs");
    send_with(&http, &base, "/intents", Some(&elsewhere), &good)
        .await
        .refused(401, "bad_signature");
    // Unsigned, and stale.
    let reason = send_with(&http, &base, "/intents", None, &good)
        .await
        .refused(400, "missing_header");
    assert!(reason.contains("x-pin-sender"), "{reason}");
    let stale = Credentials::sign(
        &alice,
        "POST",
        "/intents",
        &good,
        next_nonce(),
        now_ms() - 120_000,
    )
    .expect("signs");
    send_with(&http, &base, "/intents", Some(&stale), &good)
        .await
        .refused(401, "stale");

    // None of the refusals above stored anything.
    assert_eq!(stats(&http, &gw).await.total, 0);

    // A replayed request: taken once, then refused by the gate.
    let creds = Credentials::sign(&alice, "POST", "/intents", &good, next_nonce(), now_ms())
        .expect("signs");
    let first = send_with(&http, &base, "/intents", Some(&creds), &good).await;
    assert_eq!(first.status, 201);
    let reason = send_with(&http, &base, "/intents", Some(&creds), &good)
        .await
        .refused(409, "replay");
    assert!(reason.contains(&creds.nonce.to_string()), "{reason}");

    // The party's limit of open intents (2 here).
    submit(&http, &gw, &alice, &order(Side::Buy, 1)).await;
    let body = serde_json::to_vec(&order(Side::Buy, 2)).expect("serialises");
    let reason = post_raw(&http, &base, "/intents", &alice, next_nonce(), &body)
        .await
        .refused(429, "too_many_intents");
    assert!(reason.contains(&alice.address().to_string()), "{reason}");

    // Validator-only routes: a party is not admitted, nor anyone unsigned.
    let batch = serde_json::to_vec(&BatchRequest {
        max: 5,
        lease_ms: 1_000,
    })
    .expect("serialises");
    let reason = post_raw(&http, &base, "/batches", &alice, next_nonce(), &batch)
        .await
        .refused(403, "unknown_sender");
    assert!(reason.contains(&alice.address().to_string()), "{reason}");
    send_with(&http, &base, "/batches", None, &batch)
        .await
        .refused(400, "missing_header");
    let outcome = serde_json::to_vec(&Outcome {
        challenge: Hash32([1; 32]),
        tx: None,
        fills: vec![fill(first.json::<IntentRecord>().id, 10)],
    })
    .expect("serialises");
    post_raw(&http, &base, "/outcomes", &mallory, next_nonce(), &outcome)
        .await
        .refused(403, "unknown_sender");
    // An oversized batch request from a real validator is refused before anything else.
    post_raw(&http, &base, "/batches", &v, next_nonce(), &big)
        .await
        .refused(413, "oversized");
    // Nothing was leased by the refused requests.
    assert_eq!(stats(&http, &gw).await.pending, 2);

    // Every refusal is counted by code.
    let metrics = get(&http, &format!("{base}/metrics")).await;
    assert_eq!(metrics.status, 200);
    let text = String::from_utf8(metrics.body).expect("text");
    for code in [
        "oversized",
        "malformed_body",
        "invalid_intent",
        "bad_signature",
        "missing_header",
        "stale",
        "replay",
        "too_many_intents",
        "unknown_sender",
    ] {
        assert!(
            text.contains(&format!("pin_refused_requests_total{{code=\"{code}\"}}")),
            "{code} not counted: {text}"
        );
    }
    let health = get(&http, &format!("{base}/health")).await;
    assert_eq!(health.status, 200);
    let health: serde_json::Value = health.json();
    assert_eq!(health["role"], "gateway");
    // The OpenAPI description lists every route, with the request's schema.
    let doc: serde_json::Value = get(&http, &format!("{base}/openapi.json")).await.json();
    for path in [
        "/intents",
        "/intents/{id}",
        "/stats",
        "/batches",
        "/outcomes",
        "/health",
        "/metrics",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing: {doc}");
    }
    assert!(
        doc["paths"]["/intents"]["post"]["requestBody"].is_object(),
        "POST /intents has no request body: {doc}"
    );

    gw.shutdown().await.expect("stops cleanly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_and_statuses_survive_a_restart_on_the_same_data_dir() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (alice, bob, v) = (key(1), key(2), key(10));
    let gw = start(dir.path(), &[v.address()], 100).await;
    let http = reqwest::Client::new();

    // A second gateway cannot open the same database while the first runs.
    let set = [v.address()];
    let clash = gateway::start(GatewayConfig::new(
        key(98).address(),
        dir.path().to_path_buf(),
        Arc::new(move |a: Address| set.contains(&a)),
    ))
    .await;
    assert!(
        matches!(clash, Err(GatewayError::Locked { .. })),
        "{clash:?}"
    );

    let buy_body = serde_json::to_vec(&order(Side::Buy, 10)).expect("serialises");
    let buy_creds =
        Credentials::sign(&alice, "POST", "/intents", &buy_body, 77, now_ms()).expect("signs");
    let answer = send_with(&http, &gw.url(), "/intents", Some(&buy_creds), &buy_body).await;
    assert_eq!(answer.status, 201);
    let buy: IntentRecord = answer.json();
    let sell = submit(&http, &gw, &bob, &order(Side::Sell, 10)).await;
    let vc = client(&v);
    let leased: Vec<IntentRecord> = vc
        .post(
            &format!("{}/batches", gw.url()),
            &BatchRequest {
                max: 1,
                lease_ms: 60_000,
            },
        )
        .await
        .expect("a batch");
    assert_eq!(leased[0].id, buy.id);
    let outcome = Outcome {
        challenge: Hash32([3; 32]),
        tx: Some(Hash32([4; 32])),
        fills: vec![fill(buy.id, 10)],
    };
    let _: OutcomeReceipt = vc
        .post(&format!("{}/outcomes", gw.url()), &outcome)
        .await
        .expect("the outcome is taken");
    let pending = submit(&http, &gw, &alice, &order(Side::Buy, 3)).await;

    let before_stats = stats(&http, &gw).await;
    let before_all = list(&http, &gw, "").await;
    assert_eq!(
        (
            before_stats.settled,
            before_stats.pending,
            before_stats.total
        ),
        (1, 2, 3)
    );
    assert_eq!(before_all.len(), 3);
    drop(vc);
    gw.shutdown().await.expect("stops cleanly");

    let gw = start(dir.path(), &[v.address()], 100).await;
    assert_eq!(stats(&http, &gw).await, before_stats);
    assert_eq!(list(&http, &gw, "").await, before_all);
    let settled = record(&http, &gw, buy.id).await;
    let ten = Quantity::units(10);
    assert!(
        matches!(settled.status, IntentStatus::Settled { filled, .. } if filled == ten),
        "{settled:?}"
    );
    assert_eq!(
        record(&http, &gw, sell.id).await.status,
        IntentStatus::Pending
    );
    assert_eq!(
        list(
            &http,
            &gw,
            &format!("party={}&state=pending", alice.address())
        )
        .await,
        vec![pending.clone()]
    );

    // The same signed request again: the new gate does not remember the nonce, but the store
    // knows the intent.
    let reason = send_with(&http, &gw.url(), "/intents", Some(&buy_creds), &buy_body)
        .await
        .refused(409, "duplicate_intent");
    assert!(reason.contains(&buy.id.to_string()), "{reason}");

    // Leasing continues where it left off: the oldest pending intent is bob's sell.
    let leased: Vec<IntentRecord> = client(&v)
        .post(
            &format!("{}/batches", gw.url()),
            &BatchRequest {
                max: 10,
                lease_ms: 60_000,
            },
        )
        .await
        .expect("a batch");
    assert_eq!(
        leased.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![sell.id, pending.id]
    );
    gw.shutdown().await.expect("stops cleanly");
}
