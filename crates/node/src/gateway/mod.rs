//! The intent gateway (DESIGN.md, "Flow": a party signs an intent and POSTs it to the gateway):
//! parties submit signed intents; validators lease batches of them for challenges and report
//! each challenge's outcome; anyone reads where an intent stands.
//!
//! | request | who | body → answer |
//! |---|---|---|
//! | `POST /intents` | any party (signed) | [`IntentOrder`] → [`IntentRecord`] (201) |
//! | `GET /intents/{id}` | anyone | [`IntentRecord`] |
//! | `GET /intents?party=0x…&state=pending&limit=100` | anyone | `Vec<`[`IntentRecord`]`>`, oldest first, at most [`LIST_CAP`] |
//! | `GET /stats` | anyone | [`IntentStats`] |
//! | `POST /batches` | staked validators (signed) | [`BatchRequest`] → `Vec<`[`IntentRecord`]`>` |
//! | `POST /outcomes` | staked validators (signed) | [`Outcome`] → [`OutcomeReceipt`] |
//! | `GET /health`, `/metrics`, `/openapi.json` | anyone | see [`crate::ops`] |
//!
//! An intent's id is keccak256(party ‖ nonce ‖ body) ([`intent_id`]): the same signed request
//! sent twice is the same intent, so a replay that outlives the gate's memory (a restart) is still
//! refused (409 `duplicate_intent`). An intent moves Pending → Assigned (leased to one validator
//! until a time) → Settled or Unfilled; a lapsed lease goes back to Pending, and a pending intent
//! past its `expires_ms` becomes Expired. Leases and expiries are applied when a batch is asked
//! for (expiries also on submission), so a record read in between can show a lease or expiry
//! that has already passed. A validator may still report an intent whose lease lapsed, as long
//! as nobody leased it since; an intent already leased past its `expires_ms` can still be settled.
//!
//! Refusals by the handlers, besides the wire gate's ([`crate::wire::Refusal`]), each with a JSON
//! body `{"error": code, "reason": message}` whose reason names the field:
//!
//! | status | code | when |
//! |---|---|---|
//! | 400 | `malformed_body`, `malformed_id`, `malformed_query` | not JSON, not a 32-byte hex id, a bad query parameter |
//! | 404 | `unknown_intent` | no intent with that id (a read, or an outcome's fill) |
//! | 409 | `duplicate_intent` | the same party, nonce and body again |
//! | 409 | `not_leased` | an outcome names an intent not leased to the caller (the reason says who holds it) |
//! | 422 | `invalid_intent`, `invalid_batch`, `invalid_outcome` | content the mechanism refuses, an expiry in the past, a lease length out of range, an impossible fill |
//! | 429 | `too_many_intents` | the party already has [`GatewayConfig::max_open_per_party`] open intents |
//! | 500 | `storage` | the database failed |
//!
//! Storage: one redb file, [`DB_FILE`] in [`GatewayConfig::data_dir`]; see the `store` module
//! for its tables. Every change is one write transaction with immediate durability.

mod store;

use crate::api::{
    BatchRequest, IntentOrder, IntentRecord, IntentStatus, Outcome, OutcomeReceipt, hash32,
};
use crate::directory::Directory;
use crate::http::{Guard, RefusalBody, Sender, admit, now_ms};
use crate::openapi::{ApiDoc, Auth};
use crate::ops::{self, Telemetry};
use crate::wire::{Gate, GateConfig, HEADER_NONCE};
use alloy::primitives::{Address, keccak256};
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use nash::error::IntentError;
use nash::intent::Intent;
use nash::units::{Hash32, IntentId, PartyId, Quantity};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};
use store::{OutcomeRefusal, Store, SubmitRefusal};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The database file's name inside [`GatewayConfig::data_dir`].
pub const DB_FILE: &str = "gateway.redb";
/// Most records one `GET /intents` returns.
pub const LIST_CAP: usize = 1000;
/// Most intents one batch leases (a larger `max` is cut to this).
pub const MAX_BATCH: u32 = 1000;
/// Longest lease a batch may ask for: one day.
pub const MAX_LEASE_MS: u64 = 24 * 60 * 60 * 1000;
/// Default for [`GatewayConfig::max_open_per_party`].
pub const DEFAULT_MAX_OPEN_PER_PARTY: usize = 1000;

/// How to run a gateway.
#[derive(Clone)]
pub struct GatewayConfig {
    /// The gateway's own chain address (shown by `GET /health`; the gateway signs nothing).
    pub address: Address,
    /// Where to listen (port 0: any free port; [`Running::addr`] tells which).
    pub listen: SocketAddr,
    /// Directory of the database file [`DB_FILE`]; created if missing.
    pub data_dir: PathBuf,
    /// Limits of the wire gate (body size, clock skew).
    pub gate: GateConfig,
    /// Who may lease batches and report outcomes; in production a
    /// [`crate::directory::ChainDirectory`] of [`crate::directory::ChainRole::Validator`].
    pub validators: Arc<dyn Directory>,
    /// Most pending or assigned intents one party may hold at once.
    pub max_open_per_party: usize,
}

impl std::fmt::Debug for GatewayConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayConfig")
            .field("address", &self.address)
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("gate", &self.gate)
            .field("max_open_per_party", &self.max_open_per_party)
            .finish_non_exhaustive()
    }
}

impl GatewayConfig {
    /// A gateway on `127.0.0.1:0` with data in `data_dir`, the default gate and
    /// [`DEFAULT_MAX_OPEN_PER_PARTY`].
    #[must_use]
    pub fn new(address: Address, data_dir: PathBuf, validators: Arc<dyn Directory>) -> Self {
        Self {
            address,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir,
            gate: GateConfig::default(),
            validators,
            max_open_per_party: DEFAULT_MAX_OPEN_PER_PARTY,
        }
    }
}

/// Why the gateway could not start, or a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The data directory could not be created.
    #[error("creating {path}: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The database file could not be opened.
    #[error("opening {path}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// What redb said.
        source: redb::DatabaseError,
    },
    /// Another gateway (in this or another process) has the database open.
    #[error("{path} is in use by another gateway")]
    Locked {
        /// The file.
        path: PathBuf,
    },
    /// A database operation failed.
    #[error("storage ({op}): {source}")]
    Storage {
        /// What was being done.
        op: &'static str,
        /// What redb said.
        source: redb::Error,
    },
    /// The database holds something it should not (a record that does not decode, an index
    /// naming a missing record).
    #[error("corrupt gateway database: {what}")]
    Corrupt {
        /// What is wrong.
        what: String,
    },
    /// The listening address could not be bound.
    #[error("binding {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The server stopped with an error.
    #[error("serving: {0}")]
    Serve(std::io::Error),
    /// A task of the gateway panicked or was cancelled.
    #[error("gateway task: {0}")]
    Task(String),
}

/// The states of [`IntentStatus`], without their data (for queries and counts).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, PartialOrd, Ord,
)]
#[serde(rename_all = "snake_case")]
pub enum IntentState {
    /// [`IntentStatus::Pending`].
    Pending,
    /// [`IntentStatus::Assigned`].
    Assigned,
    /// [`IntentStatus::Settled`].
    Settled,
    /// [`IntentStatus::Unfilled`].
    Unfilled,
    /// [`IntentStatus::Expired`].
    Expired,
}

impl IntentState {
    /// Every state, in lifecycle order.
    pub const ALL: [Self; 5] = [
        Self::Pending,
        Self::Assigned,
        Self::Settled,
        Self::Unfilled,
        Self::Expired,
    ];

    /// The state of `status`.
    #[must_use]
    pub fn of(status: &IntentStatus) -> Self {
        match status {
            IntentStatus::Pending => Self::Pending,
            IntentStatus::Assigned { .. } => Self::Assigned,
            IntentStatus::Settled { .. } => Self::Settled,
            IntentStatus::Unfilled { .. } => Self::Unfilled,
            IntentStatus::Expired => Self::Expired,
        }
    }

    /// The name used in JSON, queries and metric labels (`pending`, …).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Assigned => "assigned",
            Self::Settled => "settled",
            Self::Unfilled => "unfilled",
            Self::Expired => "expired",
        }
    }
}

impl FromStr for IntentState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| {
                format!("{s:?} is not a state (pending, assigned, settled, unfilled or expired)")
            })
    }
}

/// How many intents the gateway holds in each state (`GET /stats`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IntentStats {
    /// Waiting for a validator.
    pub pending: u64,
    /// Leased to a validator.
    pub assigned: u64,
    /// Settled with a positive fill.
    pub settled: u64,
    /// Settled without a fill.
    pub unfilled: u64,
    /// Expired before they traded.
    pub expired: u64,
    /// All of them.
    pub total: u64,
}

impl IntentStats {
    /// The count of `state`.
    #[must_use]
    pub fn get(&self, state: IntentState) -> u64 {
        match state {
            IntentState::Pending => self.pending,
            IntentState::Assigned => self.assigned,
            IntentState::Settled => self.settled,
            IntentState::Unfilled => self.unfilled,
            IntentState::Expired => self.expired,
        }
    }

    fn get_mut(&mut self, state: IntentState) -> &mut u64 {
        match state {
            IntentState::Pending => &mut self.pending,
            IntentState::Assigned => &mut self.assigned,
            IntentState::Settled => &mut self.settled,
            IntentState::Unfilled => &mut self.unfilled,
            IntentState::Expired => &mut self.expired,
        }
    }
}

/// An intent's id: keccak256 of the party's address, the request's nonce (8 bytes, big-endian)
/// and the body bytes exactly as signed.
#[must_use]
pub fn intent_id(party: Address, nonce: u64, body: &[u8]) -> Hash32 {
    let mut bytes = Vec::with_capacity(28 + body.len());
    bytes.extend_from_slice(party.as_slice());
    bytes.extend_from_slice(&nonce.to_be_bytes());
    bytes.extend_from_slice(body);
    hash32(keccak256(bytes))
}

/// The mechanism's [`Intent`] for an order, with placeholder id and party 0 (a validator
/// numbers intents per challenge); a `lot` of 0 means divisible (one micro-unit).
pub(crate) fn order_intent(order: &IntentOrder) -> Intent {
    Intent {
        id: IntentId(0),
        party: PartyId(0),
        side: order.side,
        resource: order.resource,
        quantity: order.quantity,
        min_fill: order.min_fill,
        lot: if order.lot == Quantity::ZERO {
            Quantity::EPSILON
        } else {
            order.lot
        },
        valuation: order.valuation.clone(),
        window: order.window,
        counterparties: Vec::new(),
        bundle: None,
    }
}

/// The order field an [`IntentError`] is about.
fn field_of(e: &IntentError) -> &'static str {
    match e {
        IntentError::ZeroQuantity { .. } | IntentError::QuantityTooLarge { .. } => "quantity",
        IntentError::MinFillAboveQuantity { .. } => "min_fill",
        IntentError::ZeroLot { .. }
        | IntentError::LotAboveQuantity { .. }
        | IntentError::NoFeasibleLot { .. } => "lot",
        IntentError::EmptyWindow { .. } => "window",
        IntentError::PriceTooLarge { .. } => "valuation",
        IntentError::EmptyValuation { .. }
        | IntentError::ZeroLengthSegment { .. }
        | IntentError::SegmentsDoNotCoverQuantity { .. }
        | IntentError::NotConcave { .. }
        | IntentError::NotConvex { .. } => "valuation.segments",
        IntentError::SelfCounterparty { .. } | IntentError::DuplicateCounterparty { .. } => {
            "counterparties"
        }
    }
}

/// Checks an order as the gateway does before taking it: the mechanism's validation, and an
/// expiry after `now_ms`.
///
/// # Errors
/// A reason that starts with the field at fault (`"min_fill: …"`, `"expires_ms: …"`).
pub fn validate_order(order: &IntentOrder, now_ms: u64) -> Result<(), String> {
    if let Err(e) = order_intent(order).validate() {
        let message = e.to_string();
        // The mechanism's messages start "intent <id>: "; the id here is a placeholder.
        let detail = message
            .split_once(": ")
            .map_or(message.as_str(), |(_, rest)| rest);
        return Err(format!("{}: {detail}", field_of(&e)));
    }
    if order.expires_ms <= now_ms {
        return Err(format!(
            "expires_ms: {} is not after the gateway's clock ({now_ms})",
            order.expires_ms
        ));
    }
    Ok(())
}

/// Labels of the intents-by-state gauge.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: String,
}

/// The gateway's own metrics (each a clone sharing the registered one).
#[derive(Clone, Debug, Default)]
struct Metrics {
    submitted: Counter,
    by_state: Family<StateLabels, Gauge>,
    batches: Counter,
    leased: Counter,
    returned: Counter,
    expired: Counter,
    outcomes: Counter,
}

impl Metrics {
    fn observe(&self, stats: &IntentStats) {
        for state in IntentState::ALL {
            self.by_state
                .get_or_create(&StateLabels {
                    state: state.as_str().into(),
                })
                .set(i64::try_from(stats.get(state)).unwrap_or(i64::MAX));
        }
    }
}

/// A refusal by a handler: status, code and a reason naming the field.
#[derive(Debug)]
struct Refused {
    status: StatusCode,
    code: &'static str,
    reason: String,
}

impl Refused {
    fn new(status: StatusCode, code: &'static str, reason: impl Into<String>) -> Self {
        Self {
            status,
            code,
            reason: reason.into(),
        }
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let body = RefusalBody {
            error: self.code.into(),
            reason: self.reason,
        };
        (self.status, Json(body)).into_response()
    }
}

/// Decodes a JSON body: not JSON is 400 `malformed_body`, JSON of the wrong shape (a missing
/// field, a wrong type) is 422 `invalid`. axum's decoder tracks where in the document a value
/// failed, so the reason names the field even for a wrong type (`expires_ms: invalid type: …`),
/// which serde_json's own message does not.
fn parse_body<T: DeserializeOwned>(body: &[u8], invalid: &'static str) -> Result<T, Refused> {
    crate::http::decode_json(body, invalid)
        .map_err(|(status, code, reason)| Refused::new(status, code, reason))
}

/// The `GET /intents` query.
struct ListQuery {
    party: Option<Address>,
    state: Option<IntentState>,
    limit: usize,
}

fn parse_list_query(query: Option<&str>) -> Result<ListQuery, Refused> {
    let bad = |reason: String| Refused::new(StatusCode::BAD_REQUEST, "malformed_query", reason);
    let mut out = ListQuery {
        party: None,
        state: None,
        limit: LIST_CAP,
    };
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "party" => {
                let party = Address::from_str(value)
                    .map_err(|e| bad(format!("party: {value:?} is not an address: {e}")))?;
                out.party = Some(party);
            }
            "state" => out.state = Some(value.parse().map_err(|e| bad(format!("state: {e}")))?),
            "limit" => {
                let limit: usize = value
                    .parse()
                    .map_err(|e| bad(format!("limit: {value:?}: {e}")))?;
                out.limit = limit.min(LIST_CAP);
            }
            other => {
                return Err(bad(format!(
                    "{other}: unknown parameter (party, state and limit are known)"
                )));
            }
        }
    }
    Ok(out)
}

/// The gateway's state: the store, the wire gate, the validator directory, telemetry.
pub struct Gateway {
    store: Store,
    gate: Arc<Gate>,
    validators: Arc<dyn Directory>,
    telemetry: Arc<Telemetry>,
    metrics: Metrics,
    max_open_per_party: usize,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("store", &self.store)
            .field("max_open_per_party", &self.max_open_per_party)
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// Opens (or creates) the database in `config.data_dir`. Blocking: call it off the async
    /// runtime or at start-up ([`start`] does).
    ///
    /// # Errors
    /// The directory or the database cannot be opened ([`GatewayError::Locked`] if another
    /// gateway has it).
    pub fn open(config: &GatewayConfig) -> Result<Arc<Self>, GatewayError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| GatewayError::CreateDir {
            path: config.data_dir.clone(),
            source,
        })?;
        let store = Store::open(&config.data_dir.join(DB_FILE))?;
        let metrics = Metrics::default();
        let registered = metrics.clone();
        let telemetry = Telemetry::new("gateway", config.address, move |r| {
            r.register(
                "intents_submitted",
                "Intents accepted",
                registered.submitted,
            );
            r.register("intents", "Intents held, by state", registered.by_state);
            r.register(
                "batches_leased",
                "Batches answered to validators",
                registered.batches,
            );
            r.register(
                "intents_leased",
                "Intents leased to validators",
                registered.leased,
            );
            r.register(
                "leases_returned",
                "Intents whose lapsed lease returned them to pending",
                registered.returned,
            );
            r.register(
                "intents_expired",
                "Pending intents marked expired",
                registered.expired,
            );
            r.register(
                "outcomes_applied",
                "Challenge outcomes applied",
                registered.outcomes,
            );
        });
        metrics.observe(&store.stats()?);
        Ok(Arc::new(Self {
            store,
            gate: Arc::new(Gate::new(config.gate.clone())),
            validators: config.validators.clone(),
            telemetry: Arc::new(telemetry),
            metrics,
            max_open_per_party: config.max_open_per_party,
        }))
    }

    /// The service's telemetry (health, metrics, refusal counts).
    #[must_use]
    pub fn telemetry(&self) -> &Arc<Telemetry> {
        &self.telemetry
    }

    /// How many intents are in each state.
    ///
    /// # Errors
    /// A storage failure.
    pub fn stats(&self) -> Result<IntentStats, GatewayError> {
        self.store.stats()
    }

    /// The whole HTTP API: the open reads, `POST /intents` behind a gate that admits any signer,
    /// `POST /batches` and `POST /outcomes` behind one that admits only the configured
    /// validators (both share one replay memory), and the [`ops::routes`].
    pub fn router(self: &Arc<Self>) -> Router {
        let guard = |admits: Arc<dyn Directory>| Guard {
            gate: self.gate.clone(),
            admits,
            refusals: self.telemetry.refusals().clone(),
        };
        let open = Router::new()
            .route("/intents", get(list_intents))
            .route("/intents/{id}", get(get_intent))
            .route("/stats", get(stats))
            .with_state(self.clone());
        let parties = Router::new()
            .route("/intents", post(submit))
            .route_layer(middleware::from_fn_with_state(
                guard(Arc::new(|_: Address| true)),
                admit,
            ))
            .with_state(self.clone());
        let validators = Router::new()
            .route("/batches", post(batch))
            .route("/outcomes", post(outcome))
            .route_layer(middleware::from_fn_with_state(
                guard(self.validators.clone()),
                admit,
            ))
            .with_state(self.clone());
        open.merge(parties)
            .merge(validators)
            .merge(ops::routes(self.telemetry.clone(), openapi()))
            .method_not_allowed_fallback(ops::method_not_allowed)
    }

    fn refuse(&self, refused: Refused) -> Response {
        self.telemetry.refused(refused.code);
        refused.into_response()
    }

    /// Runs a store operation on the blocking pool.
    async fn blocking<T: Send + 'static>(
        self: &Arc<Self>,
        op: impl FnOnce(&Store) -> Result<T, GatewayError> + Send + 'static,
    ) -> Result<T, Refused> {
        let me = self.clone();
        let result = tokio::task::spawn_blocking(move || op(&me.store))
            .await
            .map_err(|e| GatewayError::Task(e.to_string()))
            .and_then(|r| r);
        result.map_err(|e| {
            tracing::error!(error = %e, "gateway storage failed");
            Refused::new(StatusCode::INTERNAL_SERVER_ERROR, "storage", e.to_string())
        })
    }

    async fn submit(
        self: &Arc<Self>,
        party: Address,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Response, Refused> {
        // The gate has parsed this header already; it cannot be missing here.
        let nonce = headers
            .get(HEADER_NONCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .ok_or_else(|| {
                Refused::new(
                    StatusCode::BAD_REQUEST,
                    "malformed_header",
                    format!("{HEADER_NONCE} is missing or malformed"),
                )
            })?;
        let order: IntentOrder = parse_body(body, "invalid_intent")?;
        let now = now_ms();
        validate_order(&order, now).map_err(|reason| {
            Refused::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_intent", reason)
        })?;
        let record = IntentRecord {
            id: intent_id(party, nonce, body),
            party,
            order,
            submitted_ms: now,
            status: IntentStatus::Pending,
        };
        let max = self.max_open_per_party;
        let (answer, stats) = self
            .blocking(move |store| store.submit(record, max, now))
            .await?;
        self.metrics.observe(&stats);
        match answer {
            Ok(record) => {
                self.metrics.submitted.inc();
                tracing::debug!(id = %record.id, %party, "intent submitted");
                Ok((StatusCode::CREATED, Json(record)).into_response())
            }
            Err(SubmitRefusal::Duplicate(id)) => Err(Refused::new(
                StatusCode::CONFLICT,
                "duplicate_intent",
                format!("intent {id} (this party, nonce and body) is already held"),
            )),
            Err(SubmitRefusal::TooMany { open }) => Err(Refused::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_intents",
                format!(
                    "party {party} has {open} open intents, the most this gateway holds per party ({max})"
                ),
            )),
        }
    }

    async fn batch(self: &Arc<Self>, validator: Address, body: &[u8]) -> Result<Response, Refused> {
        let request: BatchRequest = parse_body(body, "invalid_batch")?;
        if request.lease_ms == 0 || request.lease_ms > MAX_LEASE_MS {
            return Err(Refused::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_batch",
                format!(
                    "lease_ms: {} is outside 1..={MAX_LEASE_MS}",
                    request.lease_ms
                ),
            ));
        }
        let max = usize::try_from(request.max.min(MAX_BATCH)).unwrap_or(0);
        let lease_ms = request.lease_ms;
        let now = now_ms();
        let leased = self
            .blocking(move |store| store.lease(validator, max, lease_ms, now))
            .await?;
        self.metrics.observe(&leased.stats);
        self.metrics.batches.inc();
        self.metrics.leased.inc_by(leased.records.len() as u64);
        self.metrics.returned.inc_by(leased.returned as u64);
        self.metrics.expired.inc_by(leased.expired as u64);
        tracing::debug!(
            %validator,
            leased = leased.records.len(),
            returned = leased.returned,
            expired = leased.expired,
            "batch leased"
        );
        Ok(Json(leased.records).into_response())
    }

    async fn outcome(
        self: &Arc<Self>,
        validator: Address,
        body: &[u8],
    ) -> Result<Response, Refused> {
        let outcome: Outcome = parse_body(body, "invalid_outcome")?;
        if outcome.fills.is_empty() {
            return Err(Refused::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_outcome",
                "fills: empty (an outcome lists every leased intent of its challenge)",
            ));
        }
        let (answer, stats) = self
            .blocking(move |store| store.apply(validator, &outcome))
            .await?;
        self.metrics.observe(&stats);
        match answer {
            Ok(updated) => {
                self.metrics.outcomes.inc();
                Ok(Json(OutcomeReceipt { updated }).into_response())
            }
            Err(OutcomeRefusal::Unknown(id)) => Err(Refused::new(
                StatusCode::NOT_FOUND,
                "unknown_intent",
                format!("fills: intent {id} is not held by this gateway"),
            )),
            Err(OutcomeRefusal::NotLeased { intent, holder }) => Err(Refused::new(
                StatusCode::CONFLICT,
                "not_leased",
                format!("fills: intent {intent} is not leased to {validator}: {holder}"),
            )),
            Err(OutcomeRefusal::Invalid(reason)) => Err(Refused::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_outcome",
                reason,
            )),
        }
    }
}

fn answer(gateway: &Gateway, result: Result<Response, Refused>) -> Response {
    result.unwrap_or_else(|refused| gateway.refuse(refused))
}

async fn submit(
    State(gw): State<Arc<Gateway>>,
    Extension(Sender(party)): Extension<Sender>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = gw.submit(party, &headers, &body).await;
    answer(&gw, result)
}

async fn batch(
    State(gw): State<Arc<Gateway>>,
    Extension(Sender(validator)): Extension<Sender>,
    body: Bytes,
) -> Response {
    let result = gw.batch(validator, &body).await;
    answer(&gw, result)
}

async fn outcome(
    State(gw): State<Arc<Gateway>>,
    Extension(Sender(validator)): Extension<Sender>,
    body: Bytes,
) -> Response {
    let result = gw.outcome(validator, &body).await;
    answer(&gw, result)
}

async fn get_intent(
    State(gw): State<Arc<Gateway>>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let result = async {
        // A path segment that does not percent-decode to UTF-8 is refused like any bad id.
        let Path(id) = id.map_err(|e| {
            Refused::new(
                StatusCode::BAD_REQUEST,
                "malformed_id",
                format!("id: {}", e.body_text()),
            )
        })?;
        let id = Hash32::from_hex(&id).ok_or_else(|| {
            Refused::new(
                StatusCode::BAD_REQUEST,
                "malformed_id",
                format!("id: {id:?} is not 0x and 64 hex digits"),
            )
        })?;
        match gw.blocking(move |store| store.get(&id)).await? {
            Some(record) => Ok(Json(record).into_response()),
            None => Err(Refused::new(
                StatusCode::NOT_FOUND,
                "unknown_intent",
                format!("id: no intent {id} at this gateway"),
            )),
        }
    }
    .await;
    answer(&gw, result)
}

async fn list_intents(State(gw): State<Arc<Gateway>>, RawQuery(query): RawQuery) -> Response {
    let result = async {
        let q = parse_list_query(query.as_deref())?;
        let records = gw
            .blocking(move |store| store.list(q.party, q.state, q.limit))
            .await?;
        Ok(Json(records).into_response())
    }
    .await;
    answer(&gw, result)
}

async fn stats(State(gw): State<Arc<Gateway>>) -> Response {
    let result = gw
        .blocking(Store::stats)
        .await
        .map(|s| Json(s).into_response());
    answer(&gw, result)
}

/// The gateway's OpenAPI description.
#[must_use]
pub fn openapi() -> serde_json::Value {
    let mut doc = ApiDoc::new(
        "PIN intent gateway",
        "Parties submit signed trade intents; staked validators lease batches of them for \
         challenges and report each challenge's outcome; anyone reads where an intent stands.",
    )
    .with_ops()
    .with_body::<IntentOrder, IntentRecord>(
        "post",
        "/intents",
        "Submit an intent, signed by the party",
        Auth::Signed,
        201,
    )
    .get::<Vec<IntentRecord>>(
        "/intents",
        "Intents, oldest first, optionally of one party and in one state",
        &[],
    )
    .get::<IntentRecord>("/intents/{id}", "One intent and where it stands", &["id"])
    .get::<IntentStats>("/stats", "How many intents are in each state", &[])
    .with_body::<BatchRequest, Vec<IntentRecord>>(
        "post",
        "/batches",
        "Lease pending intents for a challenge (validators)",
        Auth::Signed,
        200,
    )
    .with_body::<Outcome, OutcomeReceipt>(
        "post",
        "/outcomes",
        "Report the outcome of a challenge's leased intents (validators)",
        Auth::Signed,
        200,
    )
    .finish();
    doc["paths"]["/intents"]["get"]["parameters"] = serde_json::json!([
        {"name": "party", "in": "query", "required": false,
         "description": "Only this party's intents (0x address)", "schema": {"type": "string"}},
        {"name": "state", "in": "query", "required": false,
         "description": "Only intents in this state",
         "schema": {"type": "string", "enum": IntentState::ALL.map(IntentState::as_str)}},
        {"name": "limit", "in": "query", "required": false,
         "description": format!("At most this many (and never more than {LIST_CAP})"),
         "schema": {"type": "integer", "minimum": 0}},
    ]);
    doc
}

/// A running gateway: its address, and the handle to stop it.
#[derive(Debug)]
pub struct Running {
    addr: SocketAddr,
    gateway: Weak<Gateway>,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// The address it listens on.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its base URL, `http://<addr>`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops taking connections, lets requests in flight finish, and returns once the database
    /// is closed (so another gateway can open the same directory).
    ///
    /// # Errors
    /// The server had failed, or its task panicked.
    pub async fn shutdown(self) -> Result<(), GatewayError> {
        // The server may already have stopped; then there is nobody to tell.
        let _ = self.shutdown.send(());
        let served = self.task.await;
        // Blocking store operations of requests whose clients went away may still hold the
        // database for a moment.
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.gateway.strong_count() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        match served {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(GatewayError::Serve(e)),
            Err(e) => Err(GatewayError::Task(e.to_string())),
        }
    }

    /// Serves until `signal` completes (e.g. `tokio::signal::ctrl_c()`), then shuts down as
    /// [`Running::shutdown`] does.
    ///
    /// # Errors
    /// The server failed before the signal, or as [`Running::shutdown`].
    pub async fn run_until(mut self, signal: impl Future<Output = ()>) -> Result<(), GatewayError> {
        let served = tokio::select! {
            () = signal => None,
            served = &mut self.task => Some(served),
        };
        match served {
            None => self.shutdown().await,
            Some(Ok(Ok(()))) => Ok(()),
            Some(Ok(Err(e))) => Err(GatewayError::Serve(e)),
            Some(Err(e)) => Err(GatewayError::Task(e.to_string())),
        }
    }
}

/// Opens the database, binds `config.listen` and serves the gateway's [`Gateway::router`] until
/// [`Running::shutdown`].
///
/// # Errors
/// The database cannot be opened, or the address cannot be bound.
pub async fn start(config: GatewayConfig) -> Result<Running, GatewayError> {
    let listen = config.listen;
    let gateway = tokio::task::spawn_blocking(move || Gateway::open(&config))
        .await
        .map_err(|e| GatewayError::Task(e.to_string()))??;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| GatewayError::Bind {
            addr: listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| GatewayError::Bind {
        addr: listen,
        source,
    })?;
    let app = gateway.router();
    let weak = Arc::downgrade(&gateway);
    drop(gateway);
    let (shutdown, stop) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop.await;
            })
            .await
    });
    tracing::info!(%addr, "intent gateway listening");
    Ok(Running {
        addr,
        gateway: weak,
        shutdown,
        task,
    })
}
