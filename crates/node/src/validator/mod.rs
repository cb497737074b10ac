//! The validator: it turns intents (from the gateway, or its own synthetic ones) into
//! challenges, sends each registered miner its own salted view with a deadline, collects the
//! signed answers, verifies and scores them, publishes the winning settlement of real intents
//! on chain, and at each epoch's end commits, reveals and settles weights with the other
//! validators (see [`crate::epochs`]) and proposes the emission root.
//!
//! A round: draw a challenge → solve it (the reference) → broadcast the salted views → wait
//! until every miner answered or the deadline passed → de-salt, refuse copies, verify → record
//! each miner's history and the challenge outcome in the [store] (one transaction) → publish
//! and report to the gateway if the intents were real.
//!
//! An epoch, once the chain's clock passes its end: the validator scores the epoch's outcomes
//! ([`nash::score::epoch`]) into weights, commits them in the commit window, reveals them in
//! the reveal window, then replays every reveal of the epoch into the shared emission book and
//! proposes its root. The commit is saved before its transaction is sent, so a restart still
//! reveals what was committed.

mod epoch;
mod round;
pub mod store;

use crate::api::{Announce, Announced, AnswerMsg, AnswerReceipt};
use crate::client::SignedClient;
use crate::directory::Directory;
use crate::epochs::{EmissionBook, EpochResult};
use crate::http::{Guard, RefusalBody, Sender, admit, now_ms};
use crate::openapi::{ApiDoc, Auth};
use crate::ops::{self, Telemetry};
use crate::wire::{Gate, GateConfig};
use alloy::primitives::{Address, B256, keccak256};
use alloy::signers::local::PrivateKeySigner;
use axum::extract::rejection::PathRejection;
use axum::extract::{Extension, Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use nash::class::ProblemClass;
use nash::config::{Config, Stratum};
use nash::generate::{Difficulty, SplitMix64};
use nash::salt::SaltMap;
use nash::score::History;
use nash::settlement::Answer;
use nash::units::{ChallengeId, Hash32};
use pin_chain::{AnyLedger, Ledger as _, Protocol};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use store::{Store, StoreError};
use thiserror::Error;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// Bootstrapping phase (DESIGN.md): how much of the challenge stream is synthetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Phase 1: synthetic intents only.
    Synthetic,
    /// Phase 2: real intents when there are any, at least half synthetic.
    Mixed,
    /// Phase 3: real-dominated; one challenge in five stays synthetic, with a known answer,
    /// so miners cannot tell which is which.
    Real,
}

impl Phase {
    /// Share of rounds that are synthetic even when real intents wait, in percent.
    #[must_use]
    pub fn synthetic_percent(self) -> u64 {
        match self {
            Phase::Synthetic => 100,
            Phase::Mixed => 50,
            Phase::Real => 20,
        }
    }
}

impl std::str::FromStr for Phase {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "1" | "synthetic" => Ok(Phase::Synthetic),
            "2" | "mixed" => Ok(Phase::Mixed),
            "3" | "real" => Ok(Phase::Real),
            other => Err(format!("phase {other:?}: expected 1, 2 or 3")),
        }
    }
}

/// Everything a validator needs.
pub struct ValidatorConfig {
    /// Its chain key (staked as a validator).
    pub signer: PrivateKeySigner,
    /// A name for logs and the dashboard.
    pub label: String,
    /// Where to listen.
    pub listen: SocketAddr,
    /// Public base URL (default `http://<bound address>`).
    pub endpoint: Option<String>,
    /// Where the store lives.
    pub data_dir: PathBuf,
    /// The chain.
    pub protocol: Arc<Protocol<AnyLedger>>,
    /// Mechanism parameters.
    pub mechanism: Config,
    /// The intent gateway's base URL, if any.
    pub gateway: Option<String>,
    /// Synthetic / real mix.
    pub phase: Phase,
    /// Classes of synthetic challenges, in turn.
    pub classes: Vec<ProblemClass>,
    /// Synthetic instance difficulty.
    pub difficulty: Difficulty,
    /// Pause between rounds.
    pub round_pause: Duration,
    /// Time miners have to answer.
    pub answer_window: Duration,
    /// Wire limits.
    pub gate: GateConfig,
    /// Who may announce and answer (production: eligible compute nodes on chain).
    pub miners: Arc<dyn Directory>,
    /// Seed of the synthetic stream (the salts come from a secret in the store).
    pub seed: u64,
    /// Where unearned emission goes.
    pub treasury: Address,
}

/// A validator failure at start.
#[derive(Debug, Error)]
pub enum ValidatorError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Binding the listener failed.
    #[error("listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A chain read failed.
    #[error("chain: {0}")]
    Chain(#[from] pin_chain::Error),
}

/// Per-miner figures the validator shows (the dashboard reads them).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct MinerStats {
    /// Where it takes challenges.
    pub endpoint: String,
    /// Challenges sent to it.
    pub sent: u64,
    /// Answers in time.
    pub answered: u64,
    /// Sum of `Q` (mean = `q_sum / answered`).
    pub q_sum: f64,
    /// Answers with `Q = 1`.
    pub frontier: u64,
    /// Challenges sent this epoch.
    pub epoch_sent: u64,
    /// Answers in time this epoch.
    pub epoch_answered: u64,
    /// Sum of `Q` this epoch.
    pub epoch_q_sum: f64,
    /// TWF at the last weight setting.
    pub twf: f64,
    /// Stratum at the last weight setting.
    pub stratum: Option<Stratum>,
    /// Mean PMU of the challenges it earned, at the last weight setting.
    pub pmu: f64,
    /// Score `ΣS` at the last weight setting.
    pub score: f64,
    /// Weight at the last weight setting.
    pub weight: String,
}

/// A settlement this validator published.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Published {
    /// Epoch.
    pub epoch: u64,
    /// On-chain id.
    pub challenge: B256,
    /// Class.
    pub class: ProblemClass,
    /// Parties.
    pub parties: usize,
    /// Welfare of the settlement, in whole money units.
    pub welfare: f64,
    /// Winning miner (the validator itself when no miner's answer was on the frontier).
    pub winner: Address,
    /// The transaction.
    pub tx: B256,
    /// When (Unix ms).
    pub at_ms: u64,
}

/// What happened at an epoch's end, as this validator saw it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EpochView {
    /// The epoch.
    pub epoch: u64,
    /// Challenges recorded.
    pub challenges: usize,
    /// Weights committed and revealed.
    pub revealed: bool,
    /// The settled result (its root is what was proposed).
    pub result: Option<EpochResult>,
    /// Whether the chain finalised the root.
    pub finalised: bool,
    /// PIN minted at finalisation (wei, decimal).
    pub minted: String,
}

/// A snapshot of the validator for dashboards and `GET /status`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ValidatorStatus {
    /// Its address.
    pub address: Address,
    /// Its label.
    pub label: String,
    /// Epoch by the chain's clock.
    pub epoch: u64,
    /// Rounds run.
    pub rounds: u64,
    /// Rounds with real intents.
    pub real_rounds: u64,
    /// Per miner.
    pub miners: BTreeMap<Address, MinerStats>,
    /// Recent answer latencies (ms), newest last.
    pub answer_latency_ms: VecDeque<u64>,
    /// Recent round latencies (broadcast → all answers verified, ms), newest last.
    pub round_latency_ms: VecDeque<u64>,
    /// Recent settlements published, newest last.
    pub settlements: VecDeque<Published>,
    /// Recent epochs, newest last.
    pub epochs: VecDeque<EpochView>,
    /// Recent notable events, newest last.
    pub events: VecDeque<(u64, String)>,
}

const RECENT: usize = 1000;

fn push_bounded<T>(q: &mut VecDeque<T>, x: T, cap: usize) {
    q.push_back(x);
    while q.len() > cap {
        q.pop_front();
    }
}

struct Metrics {
    rounds: Counter,
    answers: Counter,
    late: Counter,
    published: Counter,
    miners: Gauge,
    round_seconds: Histogram,
    answer_seconds: Histogram,
}

/// A round: what was sent to whom, and what came back. It stays in [`Shared::rounds`] for one
/// answer window after it closes, so that an answer after the deadline is refused as `late`
/// (and a repeated one as `duplicate_answer`), not as an unknown challenge.
struct Round {
    sent_at: Instant,
    /// When each miner's challenge left: its answer's latency counts from there, so a miner the
    /// round happened to send to later is not the slower for it.
    sent: Mutex<HashMap<Address, Instant>>,
    deadline_ms: u64,
    maps: HashMap<Address, SaltMap>,
    collected: Mutex<Collected>,
    done: Notify,
}

/// What a round took in.
#[derive(Default)]
struct Collected {
    /// Answers in time (miner, answer, microseconds from its challenge's send), until the
    /// round closes and takes them for verification.
    answers: Vec<(Address, Answer, u64)>,
    /// Every miner that answered in time (kept after the answers are taken).
    answered: Vec<Address>,
    /// Whether the round stopped taking answers.
    closed: bool,
}

struct Shared {
    signer: PrivateKeySigner,
    label: String,
    endpoint: RwLock<String>,
    protocol: Arc<Protocol<AnyLedger>>,
    mechanism: Config,
    gateway: Option<String>,
    phase: Phase,
    classes: Vec<ProblemClass>,
    difficulty: Difficulty,
    round_pause: Duration,
    answer_window: Duration,
    treasury: Address,
    schedule: pin_chain::EpochSchedule,
    /// PIN minted per finalised epoch (wei).
    emission: u128,
    store: Store,
    client: SignedClient,
    telemetry: Arc<Telemetry>,
    metrics: Metrics,
    secret: [u8; 32],
    rng: Mutex<SplitMix64>,
    miners: RwLock<BTreeMap<Address, String>>,
    rounds: Mutex<HashMap<ChallengeId, Arc<Round>>>,
    /// Intents leased from the gateway and not yet in a challenge, with their lease ends:
    /// single intents wait here for counterparties.
    pool: Mutex<Vec<(crate::api::IntentRecord, u64)>>,
    histories: Mutex<BTreeMap<Address, History>>,
    book: Mutex<EmissionBook>,
    status: RwLock<ValidatorStatus>,
    /// One transaction at a time from this key (nonces).
    tx_lock: tokio::sync::Mutex<()>,
}

/// A running validator.
pub struct RunningValidator {
    /// The bound address.
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for RunningValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningValidator")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl RunningValidator {
    /// A snapshot of its figures.
    #[must_use]
    pub fn status(&self) -> ValidatorStatus {
        self.shared
            .status
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Its address.
    #[must_use]
    pub fn address(&self) -> Address {
        self.shared.signer.address()
    }

    /// `miner`'s rolling history as this validator scores it (what its TWF comes from; kept in
    /// the store, so it survives a restart), if the miner was ever sent a challenge.
    #[must_use]
    pub fn history(&self, miner: Address) -> Option<History> {
        self.shared
            .histories
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&miner)
            .cloned()
    }

    /// The cumulative amount and proof `who` can claim with against the latest root this
    /// validator settled.
    #[must_use]
    pub fn proof(&self, who: Address) -> Option<(u128, Vec<Hash32>)> {
        self.shared
            .book
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .proof(who)
    }

    /// The root of the emission book (the epochs it has settled), if it has settled any.
    pub fn root(&self) -> Option<Hash32> {
        self.shared
            .book
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .root()
    }

    /// Stops the validator (its store is closed when the last reference goes).
    pub fn stop(self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Drop for RunningValidator {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn refuse(status: StatusCode, code: &str, reason: String, telemetry: &Telemetry) -> Response {
    telemetry.refused(code);
    (
        status,
        Json(RefusalBody {
            error: code.into(),
            reason,
        }),
    )
        .into_response()
}

/// The validator's HTTP API description.
#[must_use]
pub fn openapi() -> serde_json::Value {
    ApiDoc::new(
        "PIN validator",
        "Miners announce themselves and send signed answers to the challenges the validator \
         broadcast; anyone reads its status and emission proofs.",
    )
    .with_ops()
    .with_body::<Announce, Announced>(
        "post",
        "/miners",
        "A miner announces its endpoint",
        Auth::Signed,
        200,
    )
    .with_body::<AnswerMsg, AnswerReceipt>(
        "post",
        "/answers",
        "A miner's answer to a challenge",
        Auth::Signed,
        200,
    )
    .get::<ProofBody>(
        "/emissions/{account}",
        "Cumulative emission and Merkle proof",
        &["account"],
    )
    .get::<serde_json::Value>("/status", "The validator's figures", &[])
    .finish()
}

/// `GET /emissions/{account}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProofBody {
    /// The account.
    #[schemars(with = "String")]
    pub account: Address,
    /// Epochs settled into the root.
    pub epochs: u64,
    /// The root (of the cumulative table).
    pub root: Hash32,
    /// The account's cumulative amount, wei, decimal.
    pub cumulative: String,
    /// The Merkle proof.
    pub proof: Vec<Hash32>,
}

/// Starts a validator: opens its store, binds, and runs its round and epoch loops.
///
/// # Errors
/// [`ValidatorError`].
pub async fn start(config: ValidatorConfig) -> Result<RunningValidator, ValidatorError> {
    let store = Store::open(&config.data_dir)?;
    let secret = store.salt_secret(|| {
        let k = PrivateKeySigner::random();
        keccak256(k.to_bytes()).0
    })?;
    let histories: BTreeMap<Address, History> = store.histories()?.into_iter().collect();
    let miners: BTreeMap<Address, String> = store.miners()?.into_iter().collect();
    let book = store.book()?.unwrap_or_default();
    let schedule = config.protocol.epoch_schedule().await?;
    let emission =
        u128::try_from(config.protocol.emission_per_epoch().await?.wei()).unwrap_or(u128::MAX);
    let metrics = Metrics {
        rounds: Counter::default(),
        answers: Counter::default(),
        late: Counter::default(),
        published: Counter::default(),
        miners: Gauge::default(),
        round_seconds: Histogram::new(exponential_buckets(0.001, 2.0, 14)),
        answer_seconds: Histogram::new(exponential_buckets(0.001, 2.0, 14)),
    };
    let address = config.signer.address();
    let telemetry = Arc::new(Telemetry::new("validator", address, |r| {
        r.register("rounds", "Challenge rounds run", metrics.rounds.clone());
        r.register(
            "answers",
            "Answers received in time",
            metrics.answers.clone(),
        );
        r.register(
            "late_answers",
            "Answers refused as late",
            metrics.late.clone(),
        );
        r.register(
            "settlements_published",
            "Settlements published on chain",
            metrics.published.clone(),
        );
        r.register("miners", "Registered miners", metrics.miners.clone());
        r.register(
            "round_seconds",
            "Broadcast to all answers verified",
            metrics.round_seconds.clone(),
        );
        r.register(
            "answer_seconds",
            "Broadcast to answer received",
            metrics.answer_seconds.clone(),
        );
    }));
    metrics.miners.set(miners.len() as i64);
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ValidatorError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener
        .local_addr()
        .map_err(|source| ValidatorError::Bind {
            addr: config.listen,
            source,
        })?;
    let endpoint = config
        .endpoint
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let mut status = ValidatorStatus {
        address,
        label: config.label.clone(),
        ..ValidatorStatus::default()
    };
    for (m, e) in &miners {
        status.miners.entry(*m).or_default().endpoint = e.clone();
    }
    let shared = Arc::new(Shared {
        client: SignedClient::new(config.signer.clone(), config.answer_window * 4),
        signer: config.signer,
        label: config.label,
        endpoint: RwLock::new(endpoint),
        protocol: config.protocol,
        mechanism: config.mechanism,
        gateway: config.gateway,
        phase: config.phase,
        classes: config.classes,
        difficulty: config.difficulty,
        round_pause: config.round_pause,
        answer_window: config.answer_window,
        treasury: config.treasury,
        schedule,
        emission,
        store,
        telemetry: telemetry.clone(),
        metrics,
        secret,
        rng: Mutex::new(SplitMix64::new(config.seed)),
        miners: RwLock::new(miners),
        rounds: Mutex::new(HashMap::new()),
        pool: Mutex::new(Vec::new()),
        histories: Mutex::new(histories),
        book: Mutex::new(book),
        status: RwLock::new(status),
        tx_lock: tokio::sync::Mutex::new(()),
    });
    let guard = Guard {
        gate: Arc::new(Gate::new(config.gate)),
        admits: config.miners,
        refusals: telemetry.refusals().clone(),
    };
    let signed = Router::new()
        .route("/miners", post(announce))
        .route("/answers", post(answer))
        .layer(middleware::from_fn_with_state(guard, admit))
        .with_state(shared.clone());
    let open = Router::new()
        .route("/emissions/{account}", get(emission_proof))
        .route("/status", get(status_json))
        .with_state(shared.clone());
    let app = signed
        .merge(open)
        .merge(ops::routes(telemetry, openapi()))
        .method_not_allowed_fallback(ops::method_not_allowed);
    let server = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "validator server stopped");
        }
    });
    let rounds = tokio::spawn(round_loop(shared.clone()));
    let epochs = tokio::spawn(epoch::run(shared.clone()));
    Ok(RunningValidator {
        addr,
        shared,
        tasks: vec![server, rounds, epochs],
    })
}

impl Shared {
    /// Now by the chain's clock: the wall clock, or the latest block's time if that is ahead
    /// (a chain whose blocks come faster than a second each runs ahead of the wall), since
    /// the contract judges every window by block time.
    async fn chain_now(&self) -> u64 {
        let wall = now_ms() / 1000;
        match self.protocol.ledger().timestamp().await {
            Ok(t) => wall.max(t),
            Err(_) => wall,
        }
    }

    fn event(&self, text: String) {
        tracing::info!(validator = %self.label, "{text}");
        let mut s = self.status.write().unwrap_or_else(|p| p.into_inner());
        push_bounded(&mut s.events, (now_ms(), text), 100);
    }

    fn status_mut(&self) -> std::sync::RwLockWriteGuard<'_, ValidatorStatus> {
        self.status.write().unwrap_or_else(|p| p.into_inner())
    }
}

async fn announce(
    State(shared): State<Arc<Shared>>,
    Extension(Sender(miner)): Extension<Sender>,
    body: axum::body::Bytes,
) -> Response {
    let t = &shared.telemetry;
    let msg: Announce = match crate::http::decode_json(&body, "invalid_announce") {
        Ok(m) => m,
        Err((status, code, reason)) => return refuse(status, code, reason, t),
    };
    match reqwest::Url::parse(&msg.endpoint) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => {}
        _ => {
            return refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_endpoint",
                format!("endpoint {:?}: not an http(s) URL", msg.endpoint),
                t,
            );
        }
    }
    let known = shared
        .miners
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get(&miner)
        .cloned();
    if known.as_deref() != Some(msg.endpoint.as_str()) {
        if let Err(e) = shared.store.put_miner(miner, &msg.endpoint) {
            return refuse(StatusCode::SERVICE_UNAVAILABLE, "store", e.to_string(), t);
        }
        shared
            .miners
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(miner, msg.endpoint.clone());
        shared
            .status_mut()
            .miners
            .entry(miner)
            .or_default()
            .endpoint = msg.endpoint.clone();
        shared.event(format!("miner {miner} registered at {}", msg.endpoint));
    }
    let n = shared
        .miners
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .len();
    shared.metrics.miners.set(n as i64);
    Json(Announced { miner, miners: n }).into_response()
}

async fn answer(
    State(shared): State<Arc<Shared>>,
    Extension(Sender(miner)): Extension<Sender>,
    body: axum::body::Bytes,
) -> Response {
    let t = &shared.telemetry;
    let msg: AnswerMsg = match crate::http::decode_json(&body, "invalid_answer") {
        Ok(m) => m,
        Err((status, code, reason)) => return refuse(status, code, reason, t),
    };
    if msg.answer.challenge() != msg.challenge {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_answer",
            format!(
                "answer names challenge {} but the message is for {}",
                msg.answer.challenge(),
                msg.challenge
            ),
            t,
        );
    }
    let round = shared
        .rounds
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&msg.challenge)
        .cloned();
    let Some(round) = round else {
        return refuse(
            StatusCode::NOT_FOUND,
            "unknown_challenge",
            format!("challenge {} is not open here", msg.challenge),
            t,
        );
    };
    if !round.maps.contains_key(&miner) {
        return refuse(
            StatusCode::FORBIDDEN,
            "not_sent",
            format!("challenge {} was not sent to {miner}", msg.challenge),
            t,
        );
    }
    let now = now_ms();
    let sent = round
        .sent
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&miner)
        .copied()
        .unwrap_or(round.sent_at);
    let latency_us = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX);
    let latency_ms = latency_us / 1000;
    {
        let mut collected = round.collected.lock().unwrap_or_else(|p| p.into_inner());
        if collected.answered.contains(&miner) {
            return refuse(
                StatusCode::CONFLICT,
                "duplicate_answer",
                format!("{miner} already answered challenge {}", msg.challenge),
                t,
            );
        }
        if now > round.deadline_ms || collected.closed {
            drop(collected);
            shared.metrics.late.inc();
            let reason = if now > round.deadline_ms {
                format!(
                    "challenge {} closed at {} ms, answer came {} ms later",
                    msg.challenge,
                    round.deadline_ms,
                    now - round.deadline_ms
                )
            } else {
                format!(
                    "challenge {} closed before its deadline: every miner that took it \
                     had answered",
                    msg.challenge
                )
            };
            return refuse(StatusCode::GONE, "late", reason, t);
        }
        collected.answers.push((miner, msg.answer, latency_us));
        collected.answered.push(miner);
        if collected.answered.len() == round.maps.len() {
            round.done.notify_one();
        }
    }
    shared.metrics.answers.inc();
    shared
        .metrics
        .answer_seconds
        .observe(latency_us as f64 / 1e6);
    Json(AnswerReceipt {
        challenge: msg.challenge,
        latency_ms,
    })
    .into_response()
}

async fn emission_proof(
    State(shared): State<Arc<Shared>>,
    account: Result<UrlPath<String>, PathRejection>,
) -> Response {
    let t = &shared.telemetry;
    // A path segment that does not percent-decode to UTF-8 is refused like any bad account.
    let account = match account {
        Ok(UrlPath(account)) => account,
        Err(e) => {
            let reason = format!("account: {}", e.body_text());
            return refuse(StatusCode::BAD_REQUEST, "malformed_account", reason, t);
        }
    };
    let Ok(who) = account.parse::<Address>() else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "malformed_account",
            format!("account {account:?}: not a 20-byte hex address"),
            t,
        );
    };
    let book = shared
        .book
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    match (book.proof(who), book.root()) {
        (Some((cumulative, proof)), Some(root)) => Json(ProofBody {
            account: who,
            epochs: book.next_epoch,
            root,
            cumulative: cumulative.to_string(),
            proof,
        })
        .into_response(),
        _ => refuse(
            StatusCode::NOT_FOUND,
            "nothing_earned",
            format!(
                "{who} has no emission in the {} epochs settled",
                book.next_epoch
            ),
            t,
        ),
    }
}

async fn status_json(State(shared): State<Arc<Shared>>) -> Json<ValidatorStatus> {
    Json(
        shared
            .status
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone(),
    )
}

async fn round_loop(shared: Arc<Shared>) {
    loop {
        let miners: Vec<(Address, String)> = shared
            .miners
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(m, e)| (*m, e.clone()))
            .collect();
        if miners.is_empty() {
            tokio::time::sleep(round::IDLE).await;
            continue;
        }
        if let Err(e) = round::run(&shared, &miners).await {
            shared.event(format!("round failed: {e}"));
            tokio::time::sleep(round::IDLE).await;
        }
        tokio::time::sleep(shared.round_pause).await;
    }
}
