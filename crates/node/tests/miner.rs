//! The miner service on real sockets on 127.0.0.1. The validator side is a small axum server in
//! the test, behind the wire gate admitting only the miners' addresses: it records the answers
//! and announces it receives. Challenges are generated, salted per miner and sent signed as the
//! validator; answers are de-salted and verified against the reference solver.

use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use axum::extract::{Extension, State};
use axum::routing::post;
use axum::{Json, Router, middleware};
use nash::challenge::{Challenge, Problem};
use nash::class::ProblemClass;
use nash::config::Config;
use nash::generate::{Difficulty, challenge};
use nash::salt::{SaltMap, copied_from, salt};
use nash::settlement::Answer;
use nash::solve::reference;
use nash::strategy::Strategy;
use nash::verify::verify;
use node::api::{
    Accepted, Announce, Announced, AnswerMsg, AnswerReceipt, ChallengeMsg, PeekRequest,
};
use node::client::{ClientError, SignedClient};
use node::directory::{ChainDirectory, ChainRole, Directory};
use node::http::{Guard, RefusalBody, Sender, admit, now_ms};
use node::miner::{MinerConfig, RunningMiner, start};
use node::ops::Refusals;
use node::wire::{Credentials, Gate, GateConfig};
use pin_chain::{AnyLedger, DeployParams, EmbeddedLedger, Pin, Protocol, Role, dev_accounts};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

fn key(seed: u8) -> PrivateKeySigner {
    let mut bytes = [0u8; 32];
    bytes[0] = 3;
    bytes[31] = seed;
    PrivateKeySigner::from_slice(&bytes).expect("valid key")
}

/// What the test validator received.
#[derive(Debug)]
enum Event {
    Answer {
        sender: Address,
        msg: AnswerMsg,
        at_ms: u64,
    },
    Announce {
        sender: Address,
        endpoint: String,
    },
}

/// The validator side: `POST /answers` and `POST /miners` behind the gate.
struct TestValidator {
    base: String,
    events: mpsc::UnboundedReceiver<Event>,
    stop: Option<oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<()>,
}

impl TestValidator {
    /// Serves on `addr` (port 0: any), admitting `miners`.
    async fn serve(addr: SocketAddr, miners: Vec<Address>) -> Self {
        let (tx, events) = mpsc::unbounded_channel();
        let guard = Guard {
            gate: Arc::new(Gate::new(GateConfig::default())),
            admits: Arc::new(move |a: Address| miners.contains(&a)),
            refusals: Refusals::default(),
        };
        let app = Router::new()
            .route("/answers", post(answers))
            .route("/miners", post(announces))
            .layer(middleware::from_fn_with_state(guard, admit))
            .with_state(tx);
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .expect("validator binds");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
                .expect("validator serves");
        });
        Self {
            base,
            events,
            stop: Some(stop),
            server,
        }
    }

    async fn start(miners: Vec<Address>) -> Self {
        Self::serve(SocketAddr::from(([127, 0, 0, 1], 0)), miners).await
    }

    fn reply_to(&self) -> String {
        format!("{}/answers", self.base)
    }

    async fn next(&mut self, within: Duration) -> Option<Event> {
        tokio::time::timeout(within, self.events.recv())
            .await
            .ok()
            .flatten()
    }

    /// The next answer (skipping announces), or `None` within `within`.
    async fn next_answer(&mut self, within: Duration) -> Option<(Address, AnswerMsg, u64)> {
        let until = tokio::time::Instant::now() + within;
        loop {
            let left = until.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await? {
                Event::Answer { sender, msg, at_ms } => return Some((sender, msg, at_ms)),
                Event::Announce { .. } => {}
            }
        }
    }

    /// The next announce (skipping answers).
    async fn next_announce(&mut self, within: Duration) -> Option<(Address, String)> {
        let until = tokio::time::Instant::now() + within;
        loop {
            let left = until.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await? {
                Event::Announce { sender, endpoint } => return Some((sender, endpoint)),
                Event::Answer { .. } => {}
            }
        }
    }

    async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.server.await.expect("validator stops");
    }
}

async fn answers(
    State(tx): State<mpsc::UnboundedSender<Event>>,
    Extension(Sender(sender)): Extension<Sender>,
    Json(msg): Json<AnswerMsg>,
) -> Json<AnswerReceipt> {
    let challenge = msg.challenge;
    let _ = tx.send(Event::Answer {
        sender,
        msg,
        at_ms: now_ms(),
    });
    Json(AnswerReceipt {
        challenge,
        latency_ms: 0,
    })
}

async fn announces(
    State(tx): State<mpsc::UnboundedSender<Event>>,
    Extension(Sender(sender)): Extension<Sender>,
    Json(a): Json<Announce>,
) -> Json<Announced> {
    let _ = tx.send(Event::Announce {
        sender,
        endpoint: a.endpoint,
    });
    Json(Announced {
        miner: sender,
        miners: 1,
    })
}

/// A market challenge (three-party) whose reference trades, with a deadline `ms` from now, and
/// its reference answer.
fn market(ms: u64) -> (Challenge, Answer) {
    let config = Config::default();
    for seed in 0..100 {
        let mut c = challenge(ProblemClass::ThreeParty, seed, &Difficulty::easy());
        c.deadline_ms = now_ms() + ms;
        let r = reference(&c, &config).expect("reference solves");
        if matches!(&r, Answer::Settlement(s) if !s.fills.is_empty()) {
            return (c, r);
        }
    }
    panic!("no trading market among 100 seeds");
}

fn salt_of(miner: u8) -> [u8; 32] {
    let mut s = [0x5a; 32];
    s[0] = miner;
    s
}

/// `canonical` as miner `miner` sees it, to answer at `reply_to`.
fn view(canonical: &Challenge, miner: u8, reply_to: &str) -> (ChallengeMsg, SaltMap) {
    let (view, map) = salt(canonical, &salt_of(miner));
    let msg = ChallengeMsg {
        epoch: 0,
        challenge: view,
        reply_to: reply_to.into(),
    };
    (msg, map)
}

/// A directory admitting exactly `who`.
fn only(who: Vec<Address>) -> Arc<dyn Directory> {
    Arc::new(move |a: Address| who.contains(&a))
}

fn client(signer: &PrivateKeySigner) -> SignedClient {
    SignedClient::new(signer.clone(), Duration::from_secs(10))
}

async fn send(
    validator: &SignedClient,
    miner: &RunningMiner,
    msg: &ChallengeMsg,
) -> Result<Accepted, ClientError> {
    validator
        .post(&format!("{}/challenges", miner.endpoint()), msg)
        .await
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

/// The value of the metric line starting with `name` (e.g. `pin_miner_answers_sent_total`).
async fn metric(miner: &RunningMiner, name: &str) -> f64 {
    let text = reqwest::get(format!("{}/metrics", miner.endpoint()))
        .await
        .expect("metrics answer")
        .text()
        .await
        .expect("metrics body");
    text.lines()
        .find_map(|l| {
            l.strip_prefix(name)
                .and_then(|rest| rest.strip_prefix(' '))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0.0)
}

/// Waits until `name` reaches `want` (metrics are updated just after the event the test sees).
async fn metric_reaches(miner: &RunningMiner, name: &str, want: f64) {
    for _ in 0..100 {
        if metric(miner, name).await >= want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{name} never reached {want}: {}", metric(miner, name).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exact_answer_arrives_signed_before_the_deadline_and_verifies() {
    let (v, m) = (key(1), key(2));
    let mut validator = TestValidator::start(vec![m.address()]).await;
    let mut config = MinerConfig::new(m.clone(), only(vec![v.address()]));
    config.validators = vec![validator.base.clone()];
    let miner = start(config).await.expect("miner starts");

    // It announced itself, signed, with its endpoint.
    let (sender, endpoint) = validator
        .next_announce(Duration::from_secs(5))
        .await
        .expect("an announce");
    assert_eq!((sender, endpoint.as_str()), (m.address(), miner.endpoint()));
    assert_eq!(miner.endpoint(), format!("http://{}", miner.addr()));

    let (canonical, reference) = market(10_000);
    let (msg, map) = view(&canonical, 2, &validator.reply_to());
    let vc = client(&v);
    let sent_ms = now_ms();
    let accepted = send(&vc, &miner, &msg).await.expect("202");
    assert_eq!(accepted.challenge, canonical.id);

    let (sender, answer, at_ms) = validator
        .next_answer(Duration::from_secs(5))
        .await
        .expect("an answer");
    // The gate admitted it only with the miner's signature over the exact bytes.
    assert_eq!(sender, m.address());
    assert_eq!(answer.challenge, canonical.id);
    assert!(at_ms <= canonical.deadline_ms, "{at_ms} > deadline");
    eprintln!("exact answer round trip: {} ms", at_ms - sent_ms);
    let verdict = verify(
        &canonical,
        &map.desalt(&answer.answer),
        Some(&reference),
        &Config::default(),
    );
    assert_eq!(verdict.quality, 1.0, "{:?}", verdict.violations);

    metric_reaches(&miner, "pin_miner_answers_sent_total", 1.0).await;
    assert_eq!(
        metric(&miner, "pin_miner_challenges_received_total").await,
        1.0
    );
    assert_eq!(metric(&miner, "pin_miner_solve_seconds_count").await, 1.0);
    assert_eq!(metric(&miner, "pin_miner_in_flight").await, 0.0);

    let doc: serde_json::Value = reqwest::get(format!("{}/openapi.json", miner.endpoint()))
        .await
        .expect("openapi answers")
        .json()
        .await
        .expect("JSON");
    for path in ["/challenges", "/peek", "/health", "/metrics"] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    miner.stop().await.expect("stops cleanly");
    validator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_challenges_and_senders_are_refused() {
    let (v, m, stranger) = (key(1), key(2), key(3));
    let miner = start(MinerConfig::new(m.clone(), only(vec![v.address()])))
        .await
        .expect("miner starts");
    let vc = client(&v);
    let reply_to = "http://127.0.0.1:9/answers";
    let (canonical, _) = market(10_000);

    // Past its deadline.
    let mut late = canonical.clone();
    late.deadline_ms = now_ms() - 1_000;
    let (msg, _) = view(&late, 2, reply_to);
    let (status, code, reason) = refused(send(&vc, &miner, &msg).await);
    assert_eq!((status, code.as_str()), (410, "late"), "{reason}");

    // An instance that does not validate: the reason names the field.
    let (mut msg, _) = view(&canonical, 2, reply_to);
    let first = msg.challenge.parties[0];
    msg.challenge.parties.push(first);
    let (status, code, reason) = refused(send(&vc, &miner, &msg).await);
    assert_eq!((status, code.as_str()), (422, "invalid_challenge"));
    assert!(reason.contains("parties"), "{reason}");

    // The wrong problem for the class.
    let (mut msg, _) = view(&canonical, 2, reply_to);
    msg.challenge.class = ProblemClass::ZeroSumGame;
    let (status, _, reason) = refused(send(&vc, &miner, &msg).await);
    assert_eq!(status, 422);
    assert!(reason.contains("problem"), "{reason}");

    // reply_to not an http(s) URL.
    let (mut msg, _) = view(&canonical, 2, reply_to);
    msg.reply_to = "ftp://127.0.0.1/answers".into();
    let (status, code, reason) = refused(send(&vc, &miner, &msg).await);
    assert_eq!((status, code.as_str()), (422, "invalid_challenge"));
    assert!(reason.contains("reply_to"), "{reason}");

    // A body missing a field.
    let (msg, _) = view(&canonical, 2, reply_to);
    let mut json = serde_json::to_value(&msg).expect("serialises");
    json.as_object_mut().expect("object").remove("reply_to");
    let result: Result<Accepted, _> = vc
        .post(&format!("{}/challenges", miner.endpoint()), &json)
        .await;
    let (status, _, reason) = refused(result);
    assert_eq!(status, 422);
    assert!(reason.contains("reply_to"), "{reason}");

    // Not JSON.
    let result: Result<Accepted, _> = vc
        .post(&format!("{}/challenges", miner.endpoint()), "{not json")
        .await;
    assert_eq!(refused(result).0, 422, "a JSON string of the wrong shape");

    // An unknown sender.
    let (msg, _) = view(&canonical, 2, reply_to);
    let (status, code, _) = refused(send(&client(&stranger), &miner, &msg).await);
    assert_eq!((status, code.as_str()), (403, "unknown_sender"));

    // A replay of a signed request the miner took.
    let body = serde_json::to_vec(&msg).expect("serialises");
    let creds = Credentials::sign(&v, "POST", "/challenges", &body, 7, now_ms()).expect("signs");
    let raw = reqwest::Client::new();
    let post = || {
        let mut req = raw
            .post(format!("{}/challenges", miner.endpoint()))
            .header("content-type", "application/json")
            .body(body.clone());
        for (k, val) in creds.headers() {
            req = req.header(k, val);
        }
        req.send()
    };
    assert_eq!(post().await.expect("answers").status().as_u16(), 202);
    let again = post().await.expect("answers");
    assert_eq!(again.status().as_u16(), 409);
    let r: RefusalBody = again.json().await.expect("refusal body");
    assert_eq!(r.error, "replay");

    // The refusals are counted by code.
    let text = reqwest::get(format!("{}/metrics", miner.endpoint()))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("body");
    for code in ["late", "invalid_challenge", "unknown_sender", "replay"] {
        assert!(
            text.contains(&format!("pin_refused_requests_total{{code=\"{code}\"}}")),
            "{code}: {text}"
        );
    }
    miner.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_miner_refuses_and_a_slow_one_takes_its_latency_or_drops_late_answers() {
    let (v, m) = (key(1), key(2));
    let mut validator = TestValidator::start(vec![m.address()]).await;
    let mut config = MinerConfig::new(m.clone(), only(vec![v.address()]));
    config.strategy = Strategy::Slow { latency_ms: 600 };
    config.max_in_flight = 1;
    let miner = start(config).await.expect("miner starts");
    let vc = client(&v);

    let (first, _) = market(10_000);
    let (msg, _) = view(&first, 2, &validator.reply_to());
    let t0 = now_ms();
    send(&vc, &miner, &msg).await.expect("the first is taken");
    let mut second = first.clone();
    second.id.0 += 1;
    let (msg2, _) = view(&second, 2, &validator.reply_to());
    let (status, code, reason) = refused(send(&vc, &miner, &msg2).await);
    assert_eq!((status, code.as_str()), (429, "busy"), "{reason}");
    assert_eq!(metric(&miner, "pin_miner_in_flight").await, 1.0);

    let (sender, answer, at_ms) = validator
        .next_answer(Duration::from_secs(5))
        .await
        .expect("the slow answer");
    assert_eq!((sender, answer.challenge), (m.address(), first.id));
    let took = at_ms - t0;
    eprintln!("slow (600 ms) answer arrived after {took} ms");
    assert!((600..2_000).contains(&took), "{took} ms");

    // Free again. A challenge whose deadline falls inside the latency: the answer is dropped.
    metric_reaches(&miner, "pin_miner_answers_sent_total", 1.0).await;
    let mut tight = first.clone();
    tight.id.0 += 2;
    tight.deadline_ms = now_ms() + 200;
    let (msg3, _) = view(&tight, 2, &validator.reply_to());
    send(&vc, &miner, &msg3).await.expect("taken once free");
    metric_reaches(&miner, "pin_miner_answers_late_total", 1.0).await;
    assert!(
        validator
            .next_answer(Duration::from_millis(800))
            .await
            .is_none(),
        "a late answer was sent"
    );
    assert_eq!(metric(&miner, "pin_miner_answers_sent_total").await, 1.0);
    miner.stop().await.expect("stops");
    validator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copier_sends_its_friends_answer_which_fails_under_its_own_salt() {
    let (v, friend_key, copier_key, other) = (key(1), key(2), key(3), key(4));
    let mut validator =
        TestValidator::start(vec![friend_key.address(), copier_key.address()]).await;
    let mut config = MinerConfig::new(friend_key.clone(), only(vec![v.address()]));
    config.share_with = vec![copier_key.address()];
    let friend = start(config).await.expect("friend starts");
    let mut config = MinerConfig::new(copier_key.clone(), only(vec![v.address()]));
    config.strategy = Strategy::Copier;
    config.copy_from = Some(friend.endpoint().to_string());
    let copier = start(config).await.expect("copier starts");

    let (canonical, reference) = market(10_000);
    let (to_friend, friend_map) = view(&canonical, 2, &validator.reply_to());
    let (to_copier, copier_map) = view(&canonical, 3, &validator.reply_to());
    let vc = client(&v);
    // The copier first: it waits for its friend.
    send(&vc, &copier, &to_copier)
        .await
        .expect("copier takes it");
    tokio::time::sleep(Duration::from_millis(100)).await;
    send(&vc, &friend, &to_friend)
        .await
        .expect("friend takes it");

    let mut got = Vec::new();
    for _ in 0..2 {
        got.push(
            validator
                .next_answer(Duration::from_secs(5))
                .await
                .expect("two answers"),
        );
    }
    let by = |who: Address| {
        got.iter()
            .find(|(s, _, _)| *s == who)
            .map(|(_, a, _)| a.answer.clone())
            .expect("an answer from each")
    };
    let (honest, copied) = (by(friend_key.address()), by(copier_key.address()));
    assert_eq!(honest, copied, "the copier sends its friend's bytes");

    let config = Config::default();
    let good = verify(
        &canonical,
        &friend_map.desalt(&honest),
        Some(&reference),
        &config,
    );
    assert_eq!(good.quality, 1.0, "{:?}", good.violations);
    let bad = verify(
        &canonical,
        &copier_map.desalt(&copied),
        Some(&reference),
        &config,
    );
    eprintln!(
        "copied answer under the copier's salt: Q = {}, violations: {:?}",
        bad.quality, bad.violations
    );
    assert!(!bad.is_valid() && bad.quality < 1.0, "{bad:?}");
    // And the validator's copy check finds it.
    let good = verify(
        &canonical,
        &friend_map.desalt(&honest),
        Some(&reference),
        &config,
    );
    let found = copied_from(
        &[
            (&friend_map, &honest, good.quality),
            (&copier_map, &copied, bad.quality),
        ],
        &config.pmu,
    );
    assert_eq!(found, vec![None, Some(0)]);
    // Racing ahead of its source does not make the copier the author.
    let raced = copied_from(
        &[
            (&copier_map, &copied, bad.quality),
            (&friend_map, &honest, good.quality),
        ],
        &config.pmu,
    );
    assert_eq!(raced, vec![Some(1), None]);

    // Peeking is for friends only; and nothing to see for an unanswered challenge.
    let peek_url = format!("{}/peek", friend.endpoint());
    let ask = PeekRequest {
        challenge: canonical.id,
        validator: None,
    };
    let (status, code, _) = refused(client(&v).post::<_, AnswerMsg>(&peek_url, &ask).await);
    assert_eq!((status, code.as_str()), (403, "unknown_sender"));
    let (status, _, _) = refused(client(&other).post::<_, AnswerMsg>(&peek_url, &ask).await);
    assert_eq!(status, 403);
    let seen: AnswerMsg = client(&copier_key)
        .post(&peek_url, &ask)
        .await
        .expect("the friend sees it");
    assert_eq!(seen.answer, honest);
    let unknown = PeekRequest {
        challenge: nash::units::ChallengeId(canonical.id.0 + 99),
        validator: Some(v.address()),
    };
    let (status, code, _) = refused(
        client(&copier_key)
            .post::<_, AnswerMsg>(&peek_url, &unknown)
            .await,
    );
    assert_eq!((status, code.as_str()), (404, "not_found"));
    // The peek is per validator: another validator's challenge with this id is not this one.
    let elsewhere = PeekRequest {
        challenge: canonical.id,
        validator: Some(other.address()),
    };
    let (status, _, _) = refused(
        client(&copier_key)
            .post::<_, AnswerMsg>(&peek_url, &elsewhere)
            .await,
    );
    assert_eq!(status, 404);

    copier.stop().await.expect("stops");
    friend.stop().await.expect("stops");
    validator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_miner_announces_again_to_a_restarted_validator() {
    let m = key(2);
    let mut validator = TestValidator::start(vec![m.address()]).await;
    let addr: SocketAddr = validator
        .base
        .trim_start_matches("http://")
        .parse()
        .expect("socket address");
    let mut config = MinerConfig::new(m.clone(), only(vec![]));
    config.validators = vec![format!("{}/", validator.base)];
    config.announce_every = Duration::from_millis(300);
    let miner = start(config).await.expect("miner starts");
    for _ in 0..2 {
        let (sender, endpoint) = validator
            .next_announce(Duration::from_secs(3))
            .await
            .expect("announced, and again after the period");
        assert_eq!((sender, endpoint.as_str()), (m.address(), miner.endpoint()));
    }
    validator.shutdown().await;
    // While the validator is away announces fail; they are retried, and the new instance on the
    // same address learns the miner.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let mut validator = TestValidator::serve(addr, vec![m.address()]).await;
    let (sender, _) = validator
        .next_announce(Duration::from_secs(3))
        .await
        .expect("announced to the restarted validator");
    assert_eq!(sender, m.address());
    assert!(metric(&miner, "pin_miner_announce_failures_total").await >= 1.0);
    miner.stop().await.expect("stops");
    validator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_configurations_are_refused_with_the_field() {
    let dir = only(vec![]);
    let mut c = MinerConfig::new(key(2), Arc::clone(&dir));
    c.strategy = Strategy::Copier;
    let e = start(c).await.expect_err("a copier needs copy_from");
    assert!(e.to_string().starts_with("copy_from"), "{e}");
    let mut c = MinerConfig::new(key(2), Arc::clone(&dir));
    c.validators = vec!["127.0.0.1:9000".into()];
    let e = start(c).await.expect_err("not a URL");
    assert!(e.to_string().starts_with("validators"), "{e}");
    let mut c = MinerConfig::new(key(2), dir);
    c.max_in_flight = 0;
    let e = start(c).await.expect_err("no slots");
    assert!(e.to_string().starts_with("max_in_flight"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_directory_admits_staked_validators_only() {
    let signer = |i: usize| {
        let (_, k) = dev_accounts()[i];
        PrivateKeySigner::from_bytes(&k).expect("dev key")
    };
    let (admin, staked, unstaked) = (signer(0), signer(2), signer(3));
    let ledger = EmbeddedLedger::in_memory().expect("in-memory chain");
    let p = Protocol::deploy(
        AnyLedger::Embedded(ledger),
        &admin,
        &DeployParams::default(),
    )
    .await
    .expect("deploy");
    for v in [&staked, &unstaked] {
        p.grant(&admin, Role::Validator, v.address())
            .await
            .expect("grant validator");
    }
    p.mint(&admin, staked.address(), Pin::whole(10_000))
        .await
        .expect("mint");
    p.stake(&staked, Pin::whole(10_000)).await.expect("stake");
    let directory = ChainDirectory::new(Arc::new(p), ChainRole::Validator, Duration::from_secs(5));

    let m = key(2);
    let mut validator = TestValidator::start(vec![m.address()]).await;
    let miner = start(MinerConfig::new(m.clone(), Arc::new(directory)))
        .await
        .expect("miner starts");
    let (canonical, _) = market(10_000);
    let (msg, _) = view(&canonical, 2, &validator.reply_to());
    send(&client(&staked), &miner, &msg)
        .await
        .expect("a staked validator is admitted");
    let (status, code, _) = refused(send(&client(&unstaked), &miner, &msg).await);
    assert_eq!(
        (status, code.as_str()),
        (403, "unknown_sender"),
        "the validator role without stake is not enough"
    );
    let (sender, answer, _) = validator
        .next_answer(Duration::from_secs(5))
        .await
        .expect("answered");
    assert_eq!((sender, answer.challenge), (m.address(), canonical.id));
    // (A game challenge would do as well; markets are what the copier test needs.)
    assert!(matches!(canonical.problem, Problem::Market(_)));
    miner.stop().await.expect("stops");
    validator.shutdown().await;
}
