//! The miner service (DESIGN.md, "Flow": DISCOVERY): takes challenges from staked validators,
//! solves its salted view in the background with a [`Strategy`] and POSTs the signed answer to
//! the challenge's `reply_to`.
//!
//! | route | from | body → answer |
//! |---|---|---|
//! | `POST /challenges` | staked validators (signed) | [`ChallengeMsg`] → [`Accepted`] (202) |
//! | `POST /peek` | the miners it shares with (signed) | [`PeekRequest`] → [`AnswerMsg`] (404: not answered yet) |
//! | `GET /health`, `/metrics`, `/openapi.json` | anyone | see [`crate::ops`] |
//!
//! A challenge is checked and answered at once: `422 invalid_challenge` (the body does not
//! decode, the instance does not [`Challenge::validate`], or `reply_to` is not an http(s) URL;
//! the reason names the field), `410 late` (its deadline has passed), `429 busy` (more than
//! [`MinerConfig::max_in_flight`] challenges in flight), else `202` with [`Accepted`]. The solve
//! runs on tokio's blocking pool; a [`Strategy::Slow`] miner sends its answer
//! [`Strategy::latency_ms`] after the challenge arrived (or when solved, if later). An answer
//! that would leave after the deadline is not sent (counted as late). The validator's refusals
//! are logged and counted by code.
//!
//! **Copier pair** (the devnet's adversaries): a miner with [`MinerConfig::share_with`] keeps its
//! last [`RECENT_ANSWERS`] answers and serves them on `POST /peek` to those addresses only. A
//! miner with [`MinerConfig::copy_from`] does not solve: it polls its friend's `/peek` until the
//! friend has answered (or the deadline) and sends that answer as its own. It is the answer to
//! the *friend's* salted view — all the copier can see — so under the copier's own salt map it
//! names intents that do not exist, or the wrong players and actions; the validator's salt check
//! is what catches it.
//!
//! **Announce:** at start and every [`MinerConfig::announce_every`] the miner POSTs
//! [`Announce`] to `{validator}/miners` for each configured validator, so a restarted validator
//! learns it again. Failures are logged and retried sooner (from 0.5 s, doubling up to the
//! period); they are never fatal.

use crate::api::{
    Accepted, Announce, Announced, AnswerMsg, AnswerReceipt, ChallengeMsg, PeekRequest,
};
use crate::client::{ClientError, SignedClient};
use crate::directory::Directory;
use crate::http::{Guard, RefusalBody, Sender, admit, now_ms};
use crate::openapi::{ApiDoc, Auth};
use crate::ops::{RefusalLabels, Refusals, Telemetry};
use crate::wire::{Gate, GateConfig};
use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router, middleware};
use nash::challenge::Challenge;
use nash::config::Config;
use nash::settlement::Answer;
use nash::strategy::{Context, Strategy};
use nash::units::ChallengeId;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use thiserror::Error;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How often a miner announces itself by default.
pub const DEFAULT_ANNOUNCE_EVERY: Duration = Duration::from_secs(10);
/// Challenges in flight (accepted, not yet answered) by default.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 64;
/// How many recent answers a sharing miner keeps for `/peek`.
pub const RECENT_ANSWERS: usize = 1024;
/// First retry delay of a failed announce.
const ANNOUNCE_RETRY: Duration = Duration::from_millis(500);

/// Everything a miner needs. [`MinerConfig::new`] fills in the defaults.
pub struct MinerConfig {
    /// The miner's chain key: it signs answers, announces and peeks.
    pub signer: PrivateKeySigner,
    /// Where to listen (port 0: any free port).
    pub listen: SocketAddr,
    /// The public base URL validators reach it at; `None`: `http://<bound address>` (set it
    /// when listening on `0.0.0.0`).
    pub endpoint: Option<String>,
    /// Base URLs of the validators to announce to (`http://host:port`).
    pub validators: Vec<String>,
    /// How it answers. [`Strategy::Copier`] needs [`MinerConfig::copy_from`].
    pub strategy: Strategy,
    /// The mechanism's parameters (solver limits).
    pub mechanism: Config,
    /// Base URL of a friend miner to copy from instead of solving (the friend must list this
    /// miner's address in its `share_with`). When set, `strategy` is not used.
    pub copy_from: Option<String>,
    /// Miners allowed to read this miner's answers on `POST /peek`; empty: none (and no answers
    /// are kept).
    pub share_with: Vec<Address>,
    /// Body size and clock-skew limits of the wire gate.
    pub gate: GateConfig,
    /// Who may send challenges: staked validators
    /// ([`crate::directory::ChainDirectory`] with [`crate::directory::ChainRole::Validator`]).
    pub validators_directory: Arc<dyn Directory>,
    /// Challenges accepted and not yet answered beyond which new ones get `429 busy`.
    pub max_in_flight: usize,
    /// Period of the announce to every validator.
    pub announce_every: Duration,
    /// Timeout of each outgoing request (answers, announces, peeks).
    pub request_timeout: Duration,
    /// How often a copier asks its friend for the answer.
    pub peek_every: Duration,
}

impl MinerConfig {
    /// An exact miner with key `signer` admitting challenges from `validators_directory`, on
    /// `127.0.0.1:0`, announcing to nobody, with the default mechanism, gate and limits.
    #[must_use]
    pub fn new(signer: PrivateKeySigner, validators_directory: Arc<dyn Directory>) -> Self {
        Self {
            signer,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            endpoint: None,
            validators: Vec::new(),
            strategy: Strategy::Exact,
            mechanism: Config::default(),
            copy_from: None,
            share_with: Vec::new(),
            gate: GateConfig::default(),
            validators_directory,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            announce_every: DEFAULT_ANNOUNCE_EVERY,
            request_timeout: Duration::from_secs(10),
            peek_every: Duration::from_millis(25),
        }
    }
}

impl std::fmt::Debug for MinerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MinerConfig")
            .field("address", &self.signer.address())
            .field("listen", &self.listen)
            .field("endpoint", &self.endpoint)
            .field("validators", &self.validators)
            .field("strategy", &self.strategy)
            .field("copy_from", &self.copy_from)
            .field("share_with", &self.share_with)
            .field("gate", &self.gate)
            .field("max_in_flight", &self.max_in_flight)
            .field("announce_every", &self.announce_every)
            .field("request_timeout", &self.request_timeout)
            .field("peek_every", &self.peek_every)
            .finish_non_exhaustive()
    }
}

/// Why a miner did not start or did not stop cleanly.
#[derive(Debug, Error)]
pub enum MinerError {
    /// The configuration cannot work.
    #[error("{field}: {reason}")]
    Config {
        /// The [`MinerConfig`] field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The HTTP server failed.
    #[error("server: {0}")]
    Serve(std::io::Error),
}

/// A running miner. Dropping it stops it too (without waiting).
#[derive(Debug)]
pub struct RunningMiner {
    addr: SocketAddr,
    endpoint: String,
    address: Address,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
}

impl RunningMiner {
    /// The bound socket address.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The public base URL it announces.
    #[must_use]
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The miner's chain address.
    #[must_use]
    pub fn address(&self) -> Address {
        self.address
    }

    /// Stops serving, announcing and answering (answers not yet sent are dropped), and waits
    /// for open connections to finish.
    ///
    /// # Errors
    /// [`MinerError::Serve`] if the server had failed.
    pub async fn stop(self) -> Result<(), MinerError> {
        // Receivers may all be gone already (nothing left to stop): not an error.
        let _ = self.shutdown.send(true);
        match self.server.await {
            Ok(result) => result.map_err(MinerError::Serve),
            Err(e) => Err(MinerError::Serve(std::io::Error::other(e))),
        }
    }
}

/// The miner's own metrics (prefixed `pin_` by [`Telemetry`]).
#[derive(Clone, Debug)]
struct Metrics {
    received: Counter,
    sent: Counter,
    refused: Refusals,
    late: Counter,
    unanswered: Counter,
    undelivered: Counter,
    announce_failures: Counter,
    solve_seconds: Histogram,
    in_flight: Gauge,
}

impl Metrics {
    fn new() -> Self {
        Self {
            received: Counter::default(),
            sent: Counter::default(),
            refused: Refusals::default(),
            late: Counter::default(),
            unanswered: Counter::default(),
            undelivered: Counter::default(),
            announce_failures: Counter::default(),
            // 0.1 ms … about 3.3 s.
            solve_seconds: Histogram::new(exponential_buckets(0.0001, 2.0, 16)),
            in_flight: Gauge::default(),
        }
    }

    fn register(&self, r: &mut Registry) {
        r.register(
            "miner_challenges_received",
            "Challenges admitted by the wire gate (accepted or refused by the miner)",
            self.received.clone(),
        );
        r.register(
            "miner_answers_sent",
            "Answers the validator took",
            self.sent.clone(),
        );
        r.register(
            "miner_answers_refused",
            "Answers the validator refused, by its code",
            self.refused.clone(),
        );
        r.register(
            "miner_answers_late",
            "Answers ready only after the deadline, not sent",
            self.late.clone(),
        );
        r.register(
            "miner_challenges_unanswered",
            "Challenges taken but not answered: the solver failed, or a copier's friend had no answer by the deadline",
            self.unanswered.clone(),
        );
        r.register(
            "miner_answers_undelivered",
            "Answers that could not be sent (transport errors)",
            self.undelivered.clone(),
        );
        r.register(
            "miner_announce_failures",
            "Announces that failed (retried)",
            self.announce_failures.clone(),
        );
        r.register(
            "miner_solve_seconds",
            "Time to solve (or, for a copier, to get the friend's answer)",
            self.solve_seconds.clone(),
        );
        r.register(
            "miner_in_flight",
            "Challenges accepted and not yet answered",
            self.in_flight.clone(),
        );
    }
}

/// What the handlers and background tasks share.
struct Shared {
    client: SignedClient,
    strategy: Strategy,
    mechanism: Config,
    /// The friend's `/peek` URL, for a copier.
    peek_url: Option<String>,
    /// Whether answers are kept for `/peek`.
    keeps_answers: bool,
    /// `(validator, answer)`, oldest first.
    recent: Mutex<VecDeque<(Address, AnswerMsg)>>,
    in_flight: AtomicUsize,
    max_in_flight: usize,
    peek_every: Duration,
    metrics: Metrics,
    telemetry: Arc<Telemetry>,
    shutdown: watch::Receiver<bool>,
}

/// One in-flight challenge; gives its slot back when dropped.
struct Slot(Arc<Shared>);

impl Slot {
    fn take(shared: &Arc<Shared>) -> Option<Self> {
        let max = shared.max_in_flight;
        let before = shared
            .in_flight
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()?;
        shared
            .metrics
            .in_flight
            .set(i64::try_from(before + 1).unwrap_or(i64::MAX));
        Some(Self(Arc::clone(shared)))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let before = self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.0
            .metrics
            .in_flight
            .set(i64::try_from(before.saturating_sub(1)).unwrap_or(i64::MAX));
    }
}

/// Resolves when the miner is told to stop (or its handle is dropped).
async fn stopped(mut rx: watch::Receiver<bool>) {
    // An error means the handle is gone: stop as well.
    let _ = rx.wait_for(|&stop| stop).await;
}

/// Checks that `url` is an absolute http(s) URL with a host.
fn http_url(url: &str) -> Result<reqwest::Url, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("{url:?}: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("{url:?}: not an http(s) URL"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("{url:?}: no host"));
    }
    Ok(parsed)
}

/// `base` without trailing slashes, joined with `path`.
fn join(base: &str, path: &str) -> String {
    format!("{}{path}", base.trim_end_matches('/'))
}

/// The miner's OpenAPI description.
#[must_use]
pub fn openapi() -> serde_json::Value {
    ApiDoc::new(
        "PIN miner",
        "Takes NASH challenges from staked validators and answers them, signed, at the \
         challenge's reply_to.",
    )
    .with_ops()
    .with_body::<ChallengeMsg, Accepted>(
        "post",
        "/challenges",
        "Take a challenge (staked validators only); the answer follows at reply_to",
        Auth::Signed,
        202,
    )
    .with_body::<PeekRequest, AnswerMsg>(
        "post",
        "/peek",
        "This miner's answer to a challenge (the miners it shares with only; 404 until answered)",
        Auth::Signed,
        200,
    )
    .finish()
}

/// Starts a miner: binds, serves, announces. Returns once it is listening.
///
/// # Errors
/// [`MinerError::Config`] for a configuration that cannot work (no in-flight slots, a copier
/// with nothing to copy, a URL that is not http(s), a zero period), [`MinerError::Bind`] if the
/// address cannot be bound.
pub async fn start(config: MinerConfig) -> Result<RunningMiner, MinerError> {
    let bad = |field, reason: String| MinerError::Config { field, reason };
    if config.max_in_flight == 0 {
        return Err(bad("max_in_flight", "must be at least 1".into()));
    }
    if config.announce_every.is_zero() {
        return Err(bad("announce_every", "must be positive".into()));
    }
    if config.peek_every.is_zero() {
        return Err(bad("peek_every", "must be positive".into()));
    }
    if config.strategy == Strategy::Copier && config.copy_from.is_none() {
        return Err(bad(
            "copy_from",
            "the Copier strategy needs a miner to copy from".into(),
        ));
    }
    if let Some(url) = &config.copy_from {
        http_url(url).map_err(|r| bad("copy_from", r))?;
    }
    for url in &config.validators {
        http_url(url).map_err(|r| bad("validators", r))?;
    }
    if let Some(url) = &config.endpoint {
        http_url(url).map_err(|r| bad("endpoint", r))?;
    }

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| MinerError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| MinerError::Bind {
        addr: config.listen,
        source,
    })?;
    let endpoint = config
        .endpoint
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let address = config.signer.address();
    let metrics = Metrics::new();
    let telemetry = Arc::new(Telemetry::new("miner", address, |r| metrics.register(r)));
    let (shutdown, shutdown_rx) = watch::channel(false);
    let shared = Arc::new(Shared {
        client: SignedClient::new(config.signer, config.request_timeout),
        strategy: config.strategy,
        mechanism: config.mechanism,
        peek_url: config.copy_from.as_deref().map(|u| join(u, "/peek")),
        keeps_answers: !config.share_with.is_empty(),
        recent: Mutex::new(VecDeque::new()),
        in_flight: AtomicUsize::new(0),
        max_in_flight: config.max_in_flight,
        peek_every: config.peek_every,
        metrics,
        telemetry: Arc::clone(&telemetry),
        shutdown: shutdown_rx.clone(),
    });

    let gate = Arc::new(Gate::new(config.gate));
    let guard = |admits: Arc<dyn Directory>| Guard {
        gate: Arc::clone(&gate),
        admits,
        refusals: telemetry.refusals().clone(),
    };
    let challenges = Router::new()
        .route("/challenges", post(take_challenge))
        .route_layer(middleware::from_fn_with_state(
            guard(config.validators_directory),
            admit,
        ))
        .with_state(Arc::clone(&shared));
    let friends = config.share_with;
    let peeks = Router::new()
        .route("/peek", post(peek))
        .route_layer(middleware::from_fn_with_state(
            guard(Arc::new(move |a: Address| friends.contains(&a))),
            admit,
        ))
        .with_state(Arc::clone(&shared));
    let app = challenges
        .merge(peeks)
        .merge(crate::ops::routes(Arc::clone(&telemetry), openapi()))
        .method_not_allowed_fallback(crate::ops::method_not_allowed);

    let signal = stopped(shutdown_rx);
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(signal)
            .await
    });
    for validator in &config.validators {
        tokio::spawn(announce_loop(
            Arc::clone(&shared),
            join(validator, "/miners"),
            endpoint.clone(),
            config.announce_every,
        ));
    }
    tracing::info!(%address, %addr, %endpoint, copier = shared.peek_url.is_some(), "miner started");
    Ok(RunningMiner {
        addr,
        endpoint,
        address,
        shutdown,
        server,
    })
}

/// A refusal by the miner itself (not the gate): counted, and answered as a [`RefusalBody`].
fn refuse(shared: &Shared, status: StatusCode, code: &str, reason: String) -> Response {
    shared.telemetry.refused(code);
    tracing::debug!(status = status.as_u16(), code, %reason, "refused");
    let body = RefusalBody {
        error: code.into(),
        reason,
    };
    (status, Json(body)).into_response()
}

/// Decodes a JSON body ([`crate::http::decode_json`]), counting a refusal.
// The error is the finished response, built once per refused request: boxing it buys nothing.
#[allow(clippy::result_large_err)]
fn decode<T: serde::de::DeserializeOwned>(
    shared: &Shared,
    body: &[u8],
    invalid: &'static str,
) -> Result<T, Response> {
    crate::http::decode_json(body, invalid)
        .map_err(|(status, code, reason)| refuse(shared, status, code, reason))
}

async fn take_challenge(
    State(shared): State<Arc<Shared>>,
    Extension(Sender(validator)): Extension<Sender>,
    body: Bytes,
) -> Response {
    shared.metrics.received.inc();
    let msg: ChallengeMsg = match decode(&shared, &body, "invalid_challenge") {
        Ok(m) => m,
        Err(response) => return response,
    };
    let invalid = |reason| {
        refuse(
            &shared,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_challenge",
            reason,
        )
    };
    if let Err(e) = msg.challenge.validate() {
        return invalid(format!("challenge: {e}"));
    }
    if let Err(e) = http_url(&msg.reply_to) {
        return invalid(format!("reply_to: {e}"));
    }
    let now = now_ms();
    let id = msg.challenge.id;
    if now > msg.challenge.deadline_ms {
        return refuse(
            &shared,
            StatusCode::GONE,
            "late",
            format!(
                "challenge {id}: deadline_ms {} passed {} ms ago",
                msg.challenge.deadline_ms,
                now - msg.challenge.deadline_ms
            ),
        );
    }
    let Some(slot) = Slot::take(&shared) else {
        return refuse(
            &shared,
            StatusCode::TOO_MANY_REQUESTS,
            "busy",
            format!(
                "{} challenges in flight, the most this miner takes",
                shared.max_in_flight
            ),
        );
    };
    let received = Instant::now();
    let signal = stopped(shared.shutdown.clone());
    tokio::spawn(async move {
        tokio::select! {
            () = signal => {}
            () = work(&slot.0, validator, msg, received) => {}
        }
        drop(slot);
    });
    (StatusCode::ACCEPTED, Json(Accepted { challenge: id })).into_response()
}

/// Solves (or copies) one challenge and sends the answer, unless it is late.
async fn work(shared: &Arc<Shared>, validator: Address, msg: ChallengeMsg, received: Instant) {
    let ChallengeMsg {
        challenge: view,
        reply_to,
        ..
    } = msg;
    let (id, deadline_ms) = (view.id, view.deadline_ms);
    let started = Instant::now();
    let answer = match &shared.peek_url {
        Some(url) => copy(shared, url, validator, id, deadline_ms).await,
        None => solve(shared, view).await,
    };
    let answer = match answer {
        Ok(a) => a,
        Err(reason) => {
            shared.metrics.unanswered.inc();
            tracing::warn!(challenge = %id, %validator, %reason, "not answered");
            return;
        }
    };
    shared
        .metrics
        .solve_seconds
        .observe(started.elapsed().as_secs_f64());
    let msg = AnswerMsg {
        challenge: id,
        answer,
    };
    if shared.keeps_answers {
        let mut recent = shared.recent.lock().unwrap_or_else(|p| p.into_inner());
        if recent.len() >= RECENT_ANSWERS {
            recent.pop_front();
        }
        recent.push_back((validator, msg.clone()));
    }
    // A slow miner's answer leaves its fixed latency after the challenge arrived.
    let wait = match (shared.peek_url.is_none(), shared.strategy.latency_ms()) {
        (true, Some(ms)) => {
            (received + Duration::from_millis(ms)).saturating_duration_since(Instant::now())
        }
        _ => Duration::ZERO,
    };
    let leaves_ms = now_ms().saturating_add(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX));
    if leaves_ms > deadline_ms {
        shared.metrics.late.inc();
        tracing::info!(challenge = %id, %validator, late_ms = leaves_ms - deadline_ms, "answer late; not sent");
        return;
    }
    tokio::time::sleep(wait).await;
    match shared
        .client
        .post::<_, AnswerReceipt>(&reply_to, &msg)
        .await
    {
        Ok(receipt) => {
            shared.metrics.sent.inc();
            tracing::debug!(challenge = %id, %validator, latency_ms = receipt.latency_ms, "answer taken");
        }
        Err(ClientError::Refused {
            status,
            error,
            reason,
            ..
        }) => {
            shared
                .metrics
                .refused
                .get_or_create(&RefusalLabels {
                    code: error.clone(),
                })
                .inc();
            tracing::warn!(challenge = %id, %validator, status, code = %error, %reason, "answer refused by the validator");
        }
        Err(e) => {
            shared.metrics.undelivered.inc();
            tracing::warn!(challenge = %id, %validator, error = %e, "answer not delivered");
        }
    }
}

/// Runs the strategy on the blocking pool.
async fn solve(shared: &Arc<Shared>, view: Challenge) -> Result<Answer, String> {
    let shared = Arc::clone(shared);
    tokio::task::spawn_blocking(move || {
        let ctx = Context {
            config: &shared.mechanism,
            copied: None,
        };
        shared.strategy.answer(&view, &ctx)
    })
    .await
    .map_err(|e| format!("solver task: {e}"))?
    .map_err(|e| e.to_string())
}

/// Polls the friend's `/peek` until it has an answer to `id` from `validator`, or the deadline.
async fn copy(
    shared: &Shared,
    url: &str,
    validator: Address,
    id: ChallengeId,
    deadline_ms: u64,
) -> Result<Answer, String> {
    let request = PeekRequest {
        challenge: id,
        validator: Some(validator),
    };
    loop {
        match shared.client.post::<_, AnswerMsg>(url, &request).await {
            Ok(friend) => return Ok(friend.answer),
            Err(ClientError::Refused { status: 404, .. }) => {}
            Err(ClientError::Refused {
                status,
                error,
                reason,
                ..
            }) if status != 429 && status < 500 => {
                return Err(format!(
                    "the friend refused the peek ({status} {error}): {reason}"
                ));
            }
            Err(e) => tracing::debug!(challenge = %id, error = %e, "peek failed; retrying"),
        }
        let step = u64::try_from(shared.peek_every.as_millis()).unwrap_or(u64::MAX);
        if now_ms().saturating_add(step) > deadline_ms {
            return Err("the friend had no answer by the deadline".into());
        }
        tokio::time::sleep(shared.peek_every).await;
    }
}

async fn peek(
    State(shared): State<Arc<Shared>>,
    Extension(Sender(_friend)): Extension<Sender>,
    body: Bytes,
) -> Response {
    let request: PeekRequest = match decode(&shared, &body, "invalid_request") {
        Ok(r) => r,
        Err(response) => return response,
    };
    let found = shared
        .recent
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .rev()
        .find(|(v, m)| {
            m.challenge == request.challenge && request.validator.is_none_or(|want| want == *v)
        })
        .map(|(_, m)| m.clone());
    match found {
        Some(answer) => Json(answer).into_response(),
        None => {
            let body = RefusalBody {
                error: "not_found".into(),
                reason: format!("no answer to challenge {} yet", request.challenge),
            };
            (StatusCode::NOT_FOUND, Json(body)).into_response()
        }
    }
}

/// Announces `endpoint` at `url` now and every `every` until the miner stops; a failure is
/// retried sooner (from [`ANNOUNCE_RETRY`], doubling up to `every`).
async fn announce_loop(shared: Arc<Shared>, url: String, endpoint: String, every: Duration) {
    let body = Announce { endpoint };
    let mut retry = ANNOUNCE_RETRY;
    let mut known = false;
    loop {
        let delay = match shared.client.post::<_, Announced>(&url, &body).await {
            Ok(a) => {
                if known {
                    tracing::debug!(%url, miners = a.miners, "announced");
                } else {
                    tracing::info!(%url, miners = a.miners, "announced to the validator");
                }
                known = true;
                retry = ANNOUNCE_RETRY;
                every
            }
            Err(e) => {
                shared.metrics.announce_failures.inc();
                tracing::warn!(%url, error = %e, retry_in_ms = retry.min(every).as_millis(), "announce failed");
                known = false;
                let delay = retry.min(every);
                retry = retry.saturating_mul(2);
                delay
            }
        };
        tokio::select! {
            () = stopped(shared.shutdown.clone()) => return,
            () = tokio::time::sleep(delay) => {}
        }
    }
}
