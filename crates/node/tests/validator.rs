//! The validator service on real sockets on 127.0.0.1, on the embedded chain: its refusals of
//! announces and answers, its ops routes, and a restart on the same data directory.
//!
//! The miners are the test's own: a small axum server takes the challenges the validator sends
//! (answering 202 as a miner would) and hands them to the test, which answers — or does not,
//! or answers late or twice — signed with the miner's key.

use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use axum::extract::{Path as UrlPath, State};
use axum::routing::post;
use axum::{Json, Router};
use nash::class::ProblemClass;
use nash::config::Config;
use nash::generate::Difficulty;
use nash::settlement::{Answer, Settlement};
use nash::solve::reference;
use nash::units::ChallengeId;
use node::api::{Accepted, Announce, Announced, AnswerMsg, AnswerReceipt, ChallengeMsg};
use node::client::{ClientError, SignedClient};
use node::http::{RefusalBody, now_ms};
use node::validator::{self, Phase, RunningValidator, ValidatorConfig};
use node::wire::{Credentials, GateConfig};
use pin_chain::{AnyLedger, DeployParams, EmbeddedLedger, Pin, Protocol, Role, dev_accounts};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

fn key(seed: u8) -> PrivateKeySigner {
    let mut bytes = [0u8; 32];
    bytes[0] = 5;
    bytes[31] = seed;
    PrivateKeySigner::from_slice(&bytes).expect("valid key")
}

fn dev(i: usize) -> PrivateKeySigner {
    let (_, k) = dev_accounts()[i];
    PrivateKeySigner::from_bytes(&k).expect("dev key")
}

/// The embedded chain with the protocol deployed (3-second epochs, 1-second commit and reveal
/// windows) and `validator` granted the role and staked.
async fn chain(admin: &PrivateKeySigner, validator: &PrivateKeySigner) -> Arc<Protocol<AnyLedger>> {
    let ledger = EmbeddedLedger::in_memory().expect("in-memory chain");
    let params = DeployParams {
        epoch_length: 3,
        reveal_window: 1,
        ..DeployParams::default()
    };
    let p = Protocol::deploy(AnyLedger::Embedded(ledger), admin, &params)
        .await
        .expect("deploy");
    p.grant(admin, Role::Validator, validator.address())
        .await
        .expect("grant validator");
    p.mint(admin, validator.address(), Pin::whole(10_000))
        .await
        .expect("mint");
    p.stake(validator, Pin::whole(10_000)).await.expect("stake");
    Arc::new(p)
}

/// Answer window of the validators under test.
const WINDOW: Duration = Duration::from_millis(1000);

/// Starts a validator on `dir` admitting `miners`; retries while a previous validator on the
/// same directory still holds its store (its connections close asynchronously).
async fn start(
    signer: &PrivateKeySigner,
    protocol: &Arc<Protocol<AnyLedger>>,
    dir: &Path,
    miners: &[Address],
) -> RunningValidator {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let set = miners.to_vec();
        let config = ValidatorConfig {
            signer: signer.clone(),
            label: "validator-under-test".into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            endpoint: None,
            data_dir: dir.to_path_buf(),
            protocol: protocol.clone(),
            mechanism: Config::default(),
            gateway: None,
            phase: Phase::Synthetic,
            classes: vec![ProblemClass::SimpleSwap],
            difficulty: Difficulty::easy(),
            round_pause: Duration::from_millis(20),
            answer_window: WINDOW,
            gate: GateConfig::default(),
            miners: Arc::new(move |a: Address| set.contains(&a)),
            seed: 7,
            treasury: dev(0).address(),
        };
        match validator::start(config).await {
            Ok(v) => return v,
            Err(e) if tokio::time::Instant::now() < deadline => {
                eprintln!("validator not started yet: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("validator does not start: {e}"),
        }
    }
}

/// A challenge the validator sent to one of the test's miners.
#[derive(Debug)]
struct Sent {
    miner: String,
    msg: ChallengeMsg,
}

/// The test's miners: `POST /{name}/challenges` takes a challenge for miner `name`.
struct Miners {
    base: String,
    sent: mpsc::UnboundedReceiver<Sent>,
}

impl Miners {
    async fn start() -> Self {
        let (tx, sent) = mpsc::unbounded_channel();
        let app = Router::new()
            .route("/{miner}/challenges", post(take))
            .with_state(tx);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("miners bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { base, sent }
    }

    fn endpoint(&self, name: &str) -> String {
        format!("{}/{name}", self.base)
    }

    /// The first challenge sent to both `x` and `y` (skipping others), and their views of it.
    async fn both(&mut self, x: &str, y: &str, within: Duration) -> (ChallengeMsg, ChallengeMsg) {
        let until = tokio::time::Instant::now() + within;
        let mut seen: HashMap<ChallengeId, (Option<ChallengeMsg>, Option<ChallengeMsg>)> =
            HashMap::new();
        loop {
            let left = until.saturating_duration_since(tokio::time::Instant::now());
            let s = match tokio::time::timeout(left, self.sent.recv()).await {
                Ok(Some(s)) => s,
                _ => panic!("no challenge for both {x} and {y} within {within:?}"),
            };
            let views = seen.entry(s.msg.challenge.id).or_default();
            if s.miner == x {
                views.0 = Some(s.msg);
            } else if s.miner == y {
                views.1 = Some(s.msg);
            }
            if let (Some(_), Some(_)) = views {
                let (Some(vx), Some(vy)) = std::mem::take(views) else {
                    unreachable!("both views are present");
                };
                return (vx, vy);
            }
        }
    }

    /// The next challenge sent to `name` (skipping others'), within `within`.
    async fn next(&mut self, name: &str, within: Duration) -> ChallengeMsg {
        let until = tokio::time::Instant::now() + within;
        loop {
            let left = until.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left, self.sent.recv()).await {
                Ok(Some(s)) if s.miner == name => return s.msg,
                Ok(Some(_)) => {}
                _ => panic!("no challenge for {name} within {within:?}"),
            }
        }
    }
}

async fn take(
    State(tx): State<mpsc::UnboundedSender<Sent>>,
    UrlPath(miner): UrlPath<String>,
    Json(msg): Json<ChallengeMsg>,
) -> (axum::http::StatusCode, Json<Accepted>) {
    let challenge = msg.challenge.id;
    let _ = tx.send(Sent { miner, msg });
    (
        axum::http::StatusCode::ACCEPTED,
        Json(Accepted { challenge }),
    )
}

fn client(signer: &PrivateKeySigner) -> SignedClient {
    SignedClient::new(signer.clone(), Duration::from_secs(10))
}

/// `(status, code, reason)` of a refused request.
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

/// The exact answer to the miner's own view.
fn solve(msg: &ChallengeMsg) -> AnswerMsg {
    let answer = reference(&msg.challenge, &Config::default()).expect("reference solves");
    AnswerMsg {
        challenge: msg.challenge.id,
        answer,
    }
}

/// An empty settlement naming `challenge` (well-formed, worth nothing).
fn empty(challenge: ChallengeId) -> AnswerMsg {
    AnswerMsg {
        challenge,
        answer: Answer::Settlement(Settlement {
            challenge,
            fills: Vec::new(),
            prices: Vec::new(),
        }),
    }
}

async fn post_answer(
    c: &SignedClient,
    v: &RunningValidator,
    msg: &AnswerMsg,
) -> Result<AnswerReceipt, ClientError> {
    c.post(&format!("http://{}/answers", v.addr), msg).await
}

async fn announce(
    c: &SignedClient,
    v: &RunningValidator,
    endpoint: &str,
) -> Result<Announced, ClientError> {
    c.post(
        &format!("http://{}/miners", v.addr),
        &Announce {
            endpoint: endpoint.into(),
        },
    )
    .await
}

/// The value of the metric line `name` (without labels), 0 if absent.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| {
            l.strip_prefix(name)
                .and_then(|rest| rest.strip_prefix(' '))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0.0)
}

/// Sleeps until the wall clock is past `deadline_ms`.
async fn until_past(deadline_ms: u64) {
    let wait = deadline_ms.saturating_sub(now_ms()) + 1;
    tokio::time::sleep(Duration::from_millis(wait)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn announces_and_answers_are_refused_with_their_codes() {
    let (admin, v) = (dev(0), dev(1));
    let (a, b, idle, stranger) = (key(1), key(2), key(3), key(4));
    let protocol = chain(&admin, &v).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut miners = Miners::start().await;
    let validator = start(
        &v,
        &protocol,
        dir.path(),
        &[a.address(), b.address(), idle.address()],
    )
    .await;
    let base = format!("http://{}", validator.addr);
    let http = reqwest::Client::new();
    let (ac, bc) = (client(&a), client(&b));

    // Announces: a stranger, nobody, a bad endpoint, a body that is not an announce.
    let (status, code, reason) =
        refused(announce(&client(&stranger), &validator, &miners.endpoint("s")).await);
    assert_eq!((status, code.as_str()), (403, "unknown_sender"));
    assert!(reason.contains(&stranger.address().to_string()), "{reason}");
    let resp = http
        .post(format!("{base}/miners"))
        .json(&Announce {
            endpoint: miners.endpoint("a"),
        })
        .send()
        .await
        .expect("answers");
    assert_eq!(resp.status().as_u16(), 400);
    let r: RefusalBody = resp.json().await.expect("refusal body");
    assert_eq!(r.error, "missing_header");
    let (status, code, reason) = refused(announce(&ac, &validator, "ftp://127.0.0.1/a").await);
    assert_eq!((status, code.as_str()), (422, "invalid_endpoint"));
    assert!(reason.contains("ftp://"), "{reason}");
    let (status, code, _) = refused(
        ac.post::<_, Announced>(&format!("{base}/miners"), &serde_json::json!({"url": "x"}))
            .await,
    );
    assert_eq!((status, code.as_str()), (422, "invalid_announce"));
    // Not JSON at all, properly signed.
    let junk = b"{not json".to_vec();
    let creds = Credentials::sign(&a, "POST", "/miners", &junk, 7, now_ms()).expect("signs");
    let mut req = http
        .post(format!("{base}/miners"))
        .header("content-type", "application/json")
        .body(junk);
    for (k, val) in creds.headers() {
        req = req.header(k, val);
    }
    let resp = req.send().await.expect("announces");
    assert_eq!(resp.status().as_u16(), 400);
    let r: RefusalBody = resp.json().await.expect("refusal body");
    assert_eq!(r.error, "malformed_body");
    assert!(
        validator.status().miners.is_empty(),
        "a refused announce registered"
    );

    // Two miners announce; the validator starts sending them challenges.
    let announced = announce(&ac, &validator, &miners.endpoint("a"))
        .await
        .expect("a announces");
    assert_eq!((announced.miner, announced.miners), (a.address(), 1));
    let announced = announce(&bc, &validator, &miners.endpoint("b"))
        .await
        .expect("b announces");
    assert_eq!(announced.miners, 2);
    // (A round may have started with a alone; the first one sent to both is used.)
    let (to_a, to_b) = miners.both("a", "b", Duration::from_secs(5)).await;
    let id = to_a.challenge.id;
    assert_eq!(to_a.reply_to, format!("{base}/answers"));
    assert!(
        to_a.challenge.deadline_ms > now_ms(),
        "sent after its deadline"
    );

    // a's answer as a raw signed request, so that it can be replayed as is.
    let body = serde_json::to_vec(&solve(&to_a)).expect("serialises");
    let creds = Credentials::sign(&a, "POST", "/answers", &body, 1, now_ms()).expect("signs");
    let send_raw = || {
        let mut req = http
            .post(format!("{base}/answers"))
            .header("content-type", "application/json")
            .body(body.clone());
        for (k, val) in creds.headers() {
            req = req.header(k, val);
        }
        req.send()
    };

    // The answer, first (it must arrive in time); then the same request again (refused by the
    // gate before the handler), and a new answer by the same miner.
    let first = send_raw().await.expect("answers");
    assert_eq!(first.status().as_u16(), 200);
    let receipt: AnswerReceipt = first.json().await.expect("a receipt");
    assert_eq!(receipt.challenge, id);
    assert!(
        receipt.latency_ms <= WINDOW.as_millis() as u64,
        "{receipt:?}"
    );
    let replay = send_raw().await.expect("answers");
    assert_eq!(replay.status().as_u16(), 409);
    let r: RefusalBody = replay.json().await.expect("refusal body");
    assert_eq!(r.error, "replay");
    let (status, code, reason) = refused(post_answer(&ac, &validator, &empty(id)).await);
    assert_eq!(
        (status, code.as_str()),
        (409, "duplicate_answer"),
        "{reason}"
    );
    assert!(reason.contains(&a.address().to_string()), "{reason}");

    // The refusals that do not depend on time. An answer naming another challenge than its
    // message.
    let mut mismatched = solve(&to_a);
    mismatched.challenge = ChallengeId(id.0 + 1);
    let (status, code, reason) = refused(post_answer(&ac, &validator, &mismatched).await);
    assert_eq!((status, code.as_str()), (422, "invalid_answer"), "{reason}");
    // A body that is not an answer at all.
    let (status, code, _) = refused(
        ac.post::<_, AnswerReceipt>(
            &format!("{base}/answers"),
            &serde_json::json!({"challenge": id.0}),
        )
        .await,
    );
    assert_eq!((status, code.as_str()), (422, "invalid_answer"));
    // A challenge the validator never opened.
    let (status, code, reason) =
        refused(post_answer(&ac, &validator, &empty(ChallengeId(id.0 + 1_000))).await);
    assert_eq!((status, code.as_str()), (404, "unknown_challenge"));
    assert!(reason.contains(&(id.0 + 1_000).to_string()), "{reason}");
    // An admitted miner the challenge was not sent to (it never announced).
    let (status, code, reason) = refused(post_answer(&client(&idle), &validator, &empty(id)).await);
    assert_eq!((status, code.as_str()), (403, "not_sent"));
    assert!(reason.contains(&idle.address().to_string()), "{reason}");
    // A sender the directory does not admit never reaches the handler.
    let (status, code, _) = refused(post_answer(&client(&stranger), &validator, &empty(id)).await);
    assert_eq!((status, code.as_str()), (403, "unknown_sender"));

    // b never answered: after the deadline its answer is late.
    assert_ne!(
        to_b.challenge, to_a.challenge,
        "each miner has its own salted view"
    );
    until_past(to_b.challenge.deadline_ms).await;
    let (status, code, reason) = refused(post_answer(&bc, &validator, &solve(&to_b)).await);
    assert_eq!((status, code.as_str()), (410, "late"), "{reason}");
    assert!(reason.contains(&id.to_string()), "{reason}");

    // The round was recorded: a answered, b missed.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let s = validator.status();
        let (sa, sb) = (&s.miners[&a.address()], &s.miners[&b.address()]);
        if sa.sent >= 1 && sb.sent >= 1 {
            // b's first challenge was the one above, so that round is in: a answered it (and
            // nothing else), b nothing, its late answer not counted.
            assert_eq!(sa.answered, 1, "{sa:?}");
            assert_eq!(sb.answered, 0, "{sb:?}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the round was never recorded"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Ops routes and the open reads.
    let health: serde_json::Value = http
        .get(format!("{base}/health"))
        .send()
        .await
        .expect("health answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(health["status"], "ok");
    let doc: serde_json::Value = http
        .get(format!("{base}/openapi.json"))
        .send()
        .await
        .expect("openapi answers")
        .json()
        .await
        .expect("JSON");
    for path in [
        "/miners",
        "/answers",
        "/emissions/{account}",
        "/status",
        "/health",
        "/metrics",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing: {doc}");
    }
    assert_eq!(health["role"], "validator");
    assert_eq!(health["address"], v.address().to_checksum(None));
    let text = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("metrics answer")
        .text()
        .await
        .expect("text");
    assert!(metric(&text, "pin_late_answers_total") >= 1.0, "{text}");
    assert!(metric(&text, "pin_answers_total") >= 1.0, "{text}");
    assert!(metric(&text, "pin_rounds_total") >= 1.0, "{text}");
    assert_eq!(metric(&text, "pin_miners"), 2.0, "{text}");
    for code in [
        "unknown_sender",
        "missing_header",
        "invalid_endpoint",
        "invalid_announce",
        "malformed_body",
        "invalid_answer",
        "unknown_challenge",
        "not_sent",
        "replay",
        "duplicate_answer",
        "late",
    ] {
        assert!(
            text.contains(&format!("pin_refused_requests_total{{code=\"{code}\"}}")),
            "{code} not counted: {text}"
        );
    }
    let status: serde_json::Value = http
        .get(format!("{base}/status"))
        .send()
        .await
        .expect("status answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(status["label"], "validator-under-test");
    assert_eq!(status["miners"].as_object().map(|m| m.len()), Some(2));
    let resp = http
        .get(format!("{base}/emissions/nobody"))
        .send()
        .await
        .expect("answers");
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!(
        resp.json::<RefusalBody>().await.expect("refusal").error,
        "malformed_account"
    );
    let resp = http
        .get(format!("{base}/emissions/{}", stranger.address()))
        .send()
        .await
        .expect("answers");
    assert_eq!(resp.status().as_u16(), 404);
    assert_eq!(
        resp.json::<RefusalBody>().await.expect("refusal").error,
        "nothing_earned"
    );
    validator.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_validator_keeps_its_miners_and_their_histories() {
    let (admin, v) = (dev(0), dev(2));
    let a = key(1);
    let protocol = chain(&admin, &v).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut miners = Miners::start().await;
    let validator = start(&v, &protocol, dir.path(), &[a.address()]).await;
    let ac = client(&a);
    announce(&ac, &validator, &miners.endpoint("a"))
        .await
        .expect("a announces");

    // One challenge answered exactly, the next one left unanswered.
    let first = miners.next("a", Duration::from_secs(5)).await;
    post_answer(&ac, &validator, &solve(&first))
        .await
        .expect("answered in time");
    // The round closed as soon as its only miner answered; a second answer is still told it
    // is a duplicate.
    let (status, code, _) = refused(post_answer(&ac, &validator, &empty(first.challenge.id)).await);
    assert_eq!((status, code.as_str()), (409, "duplicate_answer"));
    let second = miners.next("a", Duration::from_secs(5)).await;
    assert!(second.challenge.id.0 > first.challenge.id.0);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let before = loop {
        if let Some(h) = validator.history(a.address())
            && h.window.len() >= 2
        {
            break h;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no history recorded"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(before.window[0].answered, "{before:?}");
    assert!(!before.window[1].answered, "{before:?}");
    assert_eq!(before.answered_total, 1);
    let status = validator.status();
    assert_eq!(status.miners[&a.address()].endpoint, miners.endpoint("a"));
    assert!(validator.history(key(9).address()).is_none());

    // Stop it (dropping our connections, which hold its server's state) and start another
    // on the same directory, on a new port.
    let old = validator.addr;
    validator.stop();
    drop(ac);
    let validator = start(&v, &protocol, dir.path(), &[a.address()]).await;
    assert_ne!(validator.addr, old);

    // It knows the miner without a new announce, and its history as recorded (later rounds
    // may have added to it since).
    let status = validator.status();
    assert_eq!(status.miners[&a.address()].endpoint, miners.endpoint("a"));
    let after = validator
        .history(a.address())
        .expect("the history survived");
    assert!(after.window.len() >= before.window.len());
    assert!(
        after.window.iter().zip(&before.window).all(|(x, y)| x == y),
        "before: {before:?}\nafter: {after:?}"
    );
    assert!(after.answered_total >= before.answered_total);
    // It sends the known miner challenges, numbered after the ones it sent before.
    let reply_to = format!("http://{}/answers", validator.addr);
    let until = tokio::time::Instant::now() + Duration::from_secs(5);
    let next = loop {
        let msg = miners
            .next(
                "a",
                until.saturating_duration_since(tokio::time::Instant::now()),
            )
            .await;
        if msg.reply_to == reply_to {
            break msg;
        }
    };
    assert!(
        next.challenge.id.0 > second.challenge.id.0,
        "challenge ids restarted"
    );
    post_answer(&client(&a), &validator, &solve(&next))
        .await
        .expect("the restarted validator takes answers");
    validator.stop();
}
