//! The devnet dashboard: what `pin devnet` shows at `http://127.0.0.1:8080`.
//!
//! The devnet keeps one [`DashboardState`] behind an `Arc<tokio::sync::RwLock<_>>` and updates
//! it as things happen (plain pub fields, plus the updaters below for the bounded lists);
//! [`routes`] serves it:
//!
//! | route | what |
//! |---|---|
//! | `GET /` | the page: one HTML file whose vanilla JS polls `/api/state` every second and draws the charts as inline SVG |
//! | `GET /api/state` | the [`DashboardState`] as JSON |
//! | `GET /assets/dashboard.js`, `/assets/dashboard.css`, `/favicon.svg` | the page's assets |
//!
//! The assets are compiled into the binary (`include_str!`): the page needs no network, no CDN
//! and no build step. Amounts of PIN are decimal strings (`"2751.5"`, see [`Pin`]): wei overflow
//! JSON numbers. Shares, qualities and factors are floats. Times are Unix milliseconds.

use alloy::primitives::{Address, B256};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use nash::class::ProblemClass;
use nash::config::Stratum;
use nash::strategy::Strategy;
use pin_chain::{Deployment, Pin};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize, Serializer};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::RwLock;

/// Settlements kept in [`DashboardState::settlements`].
pub const MAX_SETTLEMENTS: usize = 50;
/// Log lines kept in [`DashboardState::events`].
pub const MAX_EVENTS: usize = 100;
/// Epochs kept in [`DashboardState::emissions`].
pub const MAX_EPOCHS: usize = 200;
/// Round latencies [`Latency`] keeps for its percentiles.
pub const ROUND_WINDOW: usize = 1000;
/// The default upper bounds (ms) of the answer-latency histogram's buckets.
pub const LATENCY_BOUNDS_MS: [u64; 10] = [5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000];

const INDEX_HTML: &str = include_str!("dashboard/index.html");
const DASHBOARD_JS: &str = include_str!("dashboard/dashboard.js");
const DASHBOARD_CSS: &str = include_str!("dashboard/dashboard.css");
const FAVICON_SVG: &str = include_str!("dashboard/favicon.svg");

/// Milliseconds since the Unix epoch, now.
#[must_use]
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The dashboard's name for a miner strategy (the page colours miners by it): `exact`,
/// `heuristic`, `noisy`, `slow`, `copier` or `random`.
#[must_use]
pub fn strategy_name(strategy: &Strategy) -> &'static str {
    match strategy {
        Strategy::Exact => "exact",
        Strategy::Heuristic => "heuristic",
        Strategy::Noisy { .. } => "noisy",
        Strategy::Slow { .. } => "slow",
        Strategy::Copier => "copier",
        Strategy::Random { .. } => "random",
    }
}

/// Addresses as EIP-55 checksummed hex, as the CLI prints them.
fn checksummed<S: Serializer>(address: &Address, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&address.to_checksum(None))
}

/// Everything the dashboard shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DashboardState {
    /// Chain, epoch clock, contracts.
    pub network: Network,
    /// The miners, in the order the devnet started them.
    pub miners: Vec<MinerRow>,
    /// The validators.
    pub validators: Vec<ValidatorRow>,
    /// The latest [`MAX_SETTLEMENTS`] settlements, newest first (see
    /// [`DashboardState::push_settlement`]).
    pub settlements: VecDeque<SettlementRow>,
    /// Settlements published since the start (the list above keeps only the latest).
    pub settlements_total: u64,
    /// Answer and round latencies.
    pub latency: Latency,
    /// Per epoch, oldest first (at most [`MAX_EPOCHS`]; see [`DashboardState::upsert_emission`]).
    pub emissions: Vec<EpochEmission>,
    /// The trainer's run, if one was started.
    pub training: Option<TrainingRun>,
    /// Intents at the gateway.
    pub intents: IntentCounts,
    /// The latest [`MAX_EVENTS`] log lines, newest first (see [`DashboardState::log`]).
    pub events: VecDeque<Event>,
}

/// The chain, the epoch clock and the contracts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Network {
    /// `"embedded"` or the JSON-RPC URL.
    pub chain: String,
    /// The chain id (31337 for the embedded chain and anvil).
    pub chain_id: u64,
    /// The current epoch of the emission contract's clock.
    pub epoch: u64,
    /// Seconds into the current epoch.
    pub epoch_elapsed_s: u64,
    /// Length of an epoch in seconds.
    pub epoch_length_s: u64,
    /// When the devnet started (Unix ms).
    pub started_at_ms: u64,
    /// The contracts' addresses.
    pub contracts: Contracts,
}

/// The deployed contracts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Contracts {
    /// `PINToken`.
    #[serde(serialize_with = "checksummed")]
    #[schemars(with = "String")]
    pub token: Address,
    /// `StakingManager`.
    #[serde(serialize_with = "checksummed")]
    #[schemars(with = "String")]
    pub staking: Address,
    /// `TrainingManager`.
    #[serde(serialize_with = "checksummed")]
    #[schemars(with = "String")]
    pub training: Address,
    /// `EpochEmissions`.
    #[serde(serialize_with = "checksummed")]
    #[schemars(with = "String")]
    pub emissions: Address,
    /// `SettlementRegistry`.
    #[serde(serialize_with = "checksummed")]
    #[schemars(with = "String")]
    pub settlements: Address,
}

impl Contracts {
    /// The addresses of a deployment record.
    #[must_use]
    pub fn from_deployment(d: &Deployment) -> Self {
        Self {
            token: d.token,
            staking: d.staking,
            training: d.training,
            emissions: d.emissions,
            settlements: d.settlements,
        }
    }
}

impl Network {
    /// A network at epoch 0, started now.
    #[must_use]
    pub fn new(
        chain: impl Into<String>,
        chain_id: u64,
        epoch_length_s: u64,
        contracts: Contracts,
    ) -> Self {
        Self {
            chain: chain.into(),
            chain_id,
            epoch: 0,
            epoch_elapsed_s: 0,
            epoch_length_s,
            started_at_ms: now_ms(),
            contracts,
        }
    }
}

/// One miner as the validators see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MinerRow {
    /// A name for tables and charts, e.g. `"exact"`.
    pub label: String,
    /// Its chain address.
    #[serde(serialize_with = "checksummed")]
    #[schemars(with = "String")]
    pub address: Address,
    /// How it answers ([`strategy_name`]); the page colours miners by it.
    pub strategy: String,
    /// Base URL of its API.
    pub endpoint: String,
    /// Challenges it answered since the start.
    pub answered: u64,
    /// Challenges sent to it since the start.
    pub sent: u64,
    /// Mean `Q` of its answers in the current epoch (0 if none).
    pub mean_q_epoch: f64,
    /// Mean `Q` of its answers since the start.
    pub mean_q: f64,
    /// Its time-weighted factor (0.5–1.5).
    pub twf: f64,
    /// Its stratum.
    #[schemars(with = "String")]
    pub stratum: Stratum,
    /// Mean PMU of the challenges it earned.
    pub pmu: f64,
    /// Its score `ΣS` in the last scored epoch.
    pub score: f64,
    /// PIN earned: its running total in the latest finalised emission root.
    #[schemars(with = "String")]
    pub earned: Pin,
    /// What the latest finalised root added to `earned`.
    #[schemars(with = "String")]
    pub earned_last_epoch: Pin,
    /// PIN it has claimed from the emission contract.
    #[schemars(with = "String")]
    pub claimed: Pin,
}

impl MinerRow {
    /// A miner that has done nothing yet (Bronze, TWF 0.7).
    #[must_use]
    pub fn new(
        label: impl Into<String>,
        address: Address,
        strategy: impl Into<String>,
        endpoint: impl Into<String>,
    ) -> Self {
        Self {
            label: label.into(),
            address,
            strategy: strategy.into(),
            endpoint: endpoint.into(),
            answered: 0,
            sent: 0,
            mean_q_epoch: 0.0,
            mean_q: 0.0,
            twf: 0.7,
            stratum: Stratum::Bronze,
            pmu: 0.0,
            score: 0.0,
            earned: Pin::ZERO,
            earned_last_epoch: Pin::ZERO,
            claimed: Pin::ZERO,
        }
    }
}

/// One validator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ValidatorRow {
    /// A name for tables and charts.
    pub label: String,
    /// Its chain address.
    #[serde(serialize_with = "checksummed")]
    #[schemars(with = "String")]
    pub address: Address,
    /// Its validator stake.
    #[schemars(with = "String")]
    pub stake: Pin,
    /// Validator trust from the last consensus (share of its weight that survived clipping).
    pub trust: f64,
    /// Its dividend share from the last consensus.
    pub dividends: f64,
    /// PIN earned: its running total in the latest finalised emission root.
    #[schemars(with = "String")]
    pub earned: Pin,
    /// The last epoch it committed weights for.
    pub last_committed: Option<u64>,
    /// The last epoch it revealed weights for.
    pub last_revealed: Option<u64>,
    /// Challenges it has sent since the start.
    pub challenges_sent: u64,
}

impl ValidatorRow {
    /// A validator with `stake` that has done nothing yet.
    #[must_use]
    pub fn new(label: impl Into<String>, address: Address, stake: Pin) -> Self {
        Self {
            label: label.into(),
            address,
            stake,
            trust: 0.0,
            dividends: 0.0,
            earned: Pin::ZERO,
            last_committed: None,
            last_revealed: None,
            challenges_sent: 0,
        }
    }
}

/// One settlement published on chain.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SettlementRow {
    /// The epoch it counts in.
    pub epoch: u64,
    /// The id it was published under on chain ([`crate::api::onchain_id`]).
    #[schemars(with = "String")]
    pub challenge_id: B256,
    /// Its problem class.
    pub class: ProblemClass,
    /// The parties (labels or addresses, as the devnet knows them).
    pub parties: Vec<String>,
    /// Total welfare in whole money units (0 for games without one).
    pub welfare: f64,
    /// Label of the winning miner.
    pub winner_label: String,
    /// Address of the winning miner.
    #[serde(serialize_with = "checksummed")]
    #[schemars(with = "String")]
    pub winner: Address,
    /// Label of the validator that published it.
    pub validator: String,
    /// Hash of the publishing transaction.
    #[schemars(with = "Option<String>")]
    pub tx_hash: Option<B256>,
    /// When it was published (Unix ms).
    pub time_ms: u64,
}

/// Answer latencies (a histogram) and round latencies (percentiles over the latest
/// [`ROUND_WINDOW`] rounds).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Latency {
    /// Upper bounds (ms, inclusive) of the histogram's buckets, increasing.
    pub bounds_ms: Vec<u64>,
    /// Answers per bucket: `counts[i]` for latencies ≤ `bounds_ms[i]` (and above the previous
    /// bound); one more entry at the end for latencies above the last bound.
    pub counts: Vec<u64>,
    /// Answers recorded.
    pub answers: u64,
    /// Rounds recorded (broadcast → all answers verified).
    pub rounds: u64,
    /// Median round latency (ms) over the window; `None` before the first round.
    pub round_p50_ms: Option<u64>,
    /// 99th-percentile round latency (ms) over the window.
    pub round_p99_ms: Option<u64>,
    /// The window behind the percentiles (not serialised).
    #[serde(skip)]
    window: VecDeque<u64>,
}

impl Default for Latency {
    fn default() -> Self {
        Self::with_bounds(LATENCY_BOUNDS_MS.to_vec())
    }
}

impl Latency {
    /// An empty histogram with these bucket bounds (ms, increasing).
    #[must_use]
    pub fn with_bounds(bounds_ms: Vec<u64>) -> Self {
        let counts = vec![0; bounds_ms.len() + 1];
        Self {
            bounds_ms,
            counts,
            answers: 0,
            rounds: 0,
            round_p50_ms: None,
            round_p99_ms: None,
            window: VecDeque::new(),
        }
    }

    /// Counts one answer that took `ms` from broadcast to receipt.
    pub fn record_answer(&mut self, ms: u64) {
        let bucket = self
            .bounds_ms
            .iter()
            .position(|&b| ms <= b)
            .unwrap_or(self.bounds_ms.len());
        if self.counts.len() != self.bounds_ms.len() + 1 {
            self.counts.resize(self.bounds_ms.len() + 1, 0);
        }
        self.counts[bucket] += 1;
        self.answers += 1;
    }

    /// Records one round (broadcast → all answers verified) that took `ms`, and updates the
    /// percentiles.
    pub fn record_round(&mut self, ms: u64) {
        self.window.push_back(ms);
        while self.window.len() > ROUND_WINDOW {
            self.window.pop_front();
        }
        self.rounds += 1;
        let mut sorted: Vec<u64> = self.window.iter().copied().collect();
        sorted.sort_unstable();
        self.round_p50_ms = percentile(&sorted, 50);
        self.round_p99_ms = percentile(&sorted, 99);
    }
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[u64], p: usize) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

/// One epoch's emission.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EpochEmission {
    /// The epoch.
    pub epoch: u64,
    /// The Merkle root proposed (the one with most support), if any.
    #[schemars(with = "Option<String>")]
    pub root: Option<B256>,
    /// PIN minted for the epoch (zero until finalised).
    #[schemars(with = "String")]
    pub minted: Pin,
    /// Share of validator stake that proposed the root (final at ≥ 2/3).
    pub support: f64,
    /// Whether the root is final.
    pub finalised: bool,
    /// Claims made against this root.
    pub claims: u64,
}

/// The trainer's run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TrainingRun {
    /// The run id on chain.
    pub run_id: u64,
    /// The model's name.
    pub model: String,
    /// `registered`, `running` or `done`.
    pub status: String,
    /// The nodes that joined (labels).
    pub nodes: Vec<String>,
    /// Attestations submitted.
    pub attestations: u64,
    /// The escrowed budget.
    #[schemars(with = "String")]
    pub budget: Pin,
}

/// Intents at the gateway, by state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IntentCounts {
    /// Submitted since the start.
    pub submitted: u64,
    /// Waiting for a batch or an outcome.
    pub pending: u64,
    /// Settled (filled, at least partly).
    pub settled: u64,
    /// Batched but not filled.
    pub unfilled: u64,
    /// Expired before settling.
    pub expired: u64,
}

/// A log line's level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Routine.
    Info,
    /// Unexpected but handled.
    Warn,
    /// Failed.
    Error,
}

/// One log line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Event {
    /// When (Unix ms).
    pub time_ms: u64,
    /// How serious.
    pub level: Level,
    /// What happened.
    pub text: String,
}

impl DashboardState {
    /// An empty dashboard for `network`: the page shows "waiting for the devnet" until miners,
    /// validators or settlements appear.
    #[must_use]
    pub fn new(network: Network) -> Self {
        Self {
            network,
            miners: Vec::new(),
            validators: Vec::new(),
            settlements: VecDeque::new(),
            settlements_total: 0,
            latency: Latency::default(),
            emissions: Vec::new(),
            training: None,
            intents: IntentCounts::default(),
            events: VecDeque::new(),
        }
    }

    /// Sets the epoch clock.
    pub fn set_epoch(&mut self, epoch: u64, elapsed_s: u64) {
        self.network.epoch = epoch;
        self.network.epoch_elapsed_s = elapsed_s;
    }

    /// The miner with `address`, to update in place.
    pub fn miner_mut(&mut self, address: Address) -> Option<&mut MinerRow> {
        self.miners.iter_mut().find(|m| m.address == address)
    }

    /// Replaces the miner with the same address, or adds it at the end.
    pub fn upsert_miner(&mut self, row: MinerRow) {
        match self.miner_mut(row.address) {
            Some(m) => *m = row,
            None => self.miners.push(row),
        }
    }

    /// The validator with `address`, to update in place.
    pub fn validator_mut(&mut self, address: Address) -> Option<&mut ValidatorRow> {
        self.validators.iter_mut().find(|v| v.address == address)
    }

    /// Replaces the validator with the same address, or adds it at the end.
    pub fn upsert_validator(&mut self, row: ValidatorRow) {
        match self.validator_mut(row.address) {
            Some(v) => *v = row,
            None => self.validators.push(row),
        }
    }

    /// Adds a published settlement at the front, dropping the oldest beyond
    /// [`MAX_SETTLEMENTS`].
    pub fn push_settlement(&mut self, row: SettlementRow) {
        self.settlements.push_front(row);
        self.settlements.truncate(MAX_SETTLEMENTS);
        self.settlements_total += 1;
    }

    /// The emission of `epoch`, to update in place.
    pub fn emission_mut(&mut self, epoch: u64) -> Option<&mut EpochEmission> {
        self.emissions.iter_mut().find(|e| e.epoch == epoch)
    }

    /// Replaces the emission of the same epoch, or inserts it in epoch order, dropping the
    /// oldest beyond [`MAX_EPOCHS`].
    pub fn upsert_emission(&mut self, row: EpochEmission) {
        match self.emissions.binary_search_by_key(&row.epoch, |e| e.epoch) {
            Ok(i) => self.emissions[i] = row,
            Err(i) => self.emissions.insert(i, row),
        }
        let excess = self.emissions.len().saturating_sub(MAX_EPOCHS);
        self.emissions.drain(..excess);
    }

    /// Adds a log line stamped now at the front, dropping the oldest beyond [`MAX_EVENTS`].
    pub fn log(&mut self, level: Level, text: impl Into<String>) {
        self.events.push_front(Event {
            time_ms: now_ms(),
            level,
            text: text.into(),
        });
        self.events.truncate(MAX_EVENTS);
    }

    /// [`DashboardState::log`] at [`Level::Info`].
    pub fn info(&mut self, text: impl Into<String>) {
        self.log(Level::Info, text);
    }

    /// [`DashboardState::log`] at [`Level::Warn`].
    pub fn warn(&mut self, text: impl Into<String>) {
        self.log(Level::Warn, text);
    }

    /// [`DashboardState::log`] at [`Level::Error`].
    pub fn error(&mut self, text: impl Into<String>) {
        self.log(Level::Error, text);
    }
}

/// The dashboard's shared state.
pub type SharedState = Arc<RwLock<DashboardState>>;

/// `GET /`, `GET /api/state` and the assets, serving `state`.
pub fn routes(state: SharedState) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/api/state", get(api_state))
        .route("/assets/dashboard.js", get(script))
        .route("/assets/dashboard.css", get(style))
        .route("/favicon.svg", get(favicon))
        .with_state(state)
}

/// Adds the dashboard's routes to an API description.
#[must_use]
pub fn describe(doc: crate::openapi::ApiDoc) -> crate::openapi::ApiDoc {
    doc.get_text("/", "The dashboard page", "text/html")
        .get::<DashboardState>("/api/state", "The dashboard's state", &[])
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}

async fn index() -> Html<&'static str> {
    Html(INDEX_HTML)
}

async fn script() -> Response {
    asset("text/javascript; charset=utf-8", DASHBOARD_JS)
}

async fn style() -> Response {
    asset("text/css; charset=utf-8", DASHBOARD_CSS)
}

async fn favicon() -> Response {
    asset("image/svg+xml", FAVICON_SVG)
}

async fn api_state(State(state): State<SharedState>) -> Response {
    let body = {
        let state = state.read().await;
        serde_json::to_vec(&*state)
    };
    match body {
        Ok(body) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            body,
        )
            .into_response(),
        // Serialising plain data cannot fail; answer like any other server error if it does.
        Err(e) => (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            format!("state: {e}"),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> DashboardState {
        DashboardState::new(Network::new("embedded", 31337, 60, Contracts::default()))
    }

    fn settlement(epoch: u64, n: u8) -> SettlementRow {
        SettlementRow {
            epoch,
            challenge_id: B256::repeat_byte(n),
            class: ProblemClass::SimpleSwap,
            parties: vec!["a".into(), "b".into()],
            welfare: 1.5,
            winner_label: "exact".into(),
            winner: Address::repeat_byte(1),
            validator: "v0".into(),
            tx_hash: None,
            time_ms: 0,
        }
    }

    #[test]
    fn lists_keep_the_newest_within_their_bounds() {
        let mut s = state();
        for n in 0..60u8 {
            s.push_settlement(settlement(1, n));
        }
        assert_eq!(s.settlements.len(), MAX_SETTLEMENTS);
        assert_eq!(s.settlements_total, 60);
        assert_eq!(s.settlements[0].challenge_id, B256::repeat_byte(59));
        for n in 0..150 {
            s.info(format!("line {n}"));
        }
        assert_eq!(s.events.len(), MAX_EVENTS);
        assert_eq!(s.events[0].text, "line 149");
        for e in (0..250).rev() {
            s.upsert_emission(EpochEmission {
                epoch: e,
                root: None,
                minted: Pin::ZERO,
                support: 0.0,
                finalised: false,
                claims: 0,
            });
        }
        assert_eq!(s.emissions.len(), MAX_EPOCHS);
        assert_eq!(s.emissions[0].epoch, 50);
        assert!(s.emissions.windows(2).all(|w| w[0].epoch < w[1].epoch));
    }

    #[test]
    fn upserts_replace_by_address() {
        let mut s = state();
        let a = Address::repeat_byte(7);
        s.upsert_miner(MinerRow::new("m", a, "exact", "http://x"));
        let mut row = MinerRow::new("m", a, "exact", "http://x");
        row.answered = 3;
        s.upsert_miner(row);
        assert_eq!(s.miners.len(), 1);
        assert_eq!(s.miners[0].answered, 3);
        s.upsert_validator(ValidatorRow::new("v", a, Pin::whole(10)));
        s.validator_mut(a).expect("added").trust = 0.5;
        assert_eq!(s.validators[0].trust, 0.5);
    }

    #[test]
    fn latency_histogram_and_percentiles() {
        let mut l = Latency::default();
        for ms in [1, 5, 6, 50, 10_000] {
            l.record_answer(ms);
        }
        assert_eq!(l.counts.len(), l.bounds_ms.len() + 1);
        assert_eq!(l.counts[0], 2); // 1 and 5: ≤ 5
        assert_eq!(l.counts[1], 1); // 6: ≤ 10
        assert_eq!(l.counts[3], 1); // 50: ≤ 50
        assert_eq!(l.counts[l.bounds_ms.len()], 1); // above 5000
        assert_eq!(l.answers, 5);
        assert_eq!(l.round_p50_ms, None);
        for ms in 1..=100 {
            l.record_round(ms);
        }
        assert_eq!((l.round_p50_ms, l.round_p99_ms), (Some(50), Some(99)));
        for _ in 0..ROUND_WINDOW {
            l.record_round(7);
        }
        assert_eq!((l.round_p50_ms, l.round_p99_ms), (Some(7), Some(7)));
        assert_eq!(l.rounds, 100 + ROUND_WINDOW as u64);
    }

    #[test]
    fn json_has_amounts_as_decimal_strings_and_checksummed_addresses() {
        let mut s = state();
        let a: Address = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"
            .parse()
            .expect("address");
        let mut row = MinerRow::new("m", a, "exact", "http://x");
        row.earned = "2751.5".parse().expect("amount");
        s.upsert_miner(row);
        let v = serde_json::to_value(&s).expect("serialises");
        assert_eq!(v["miners"][0]["earned"], "2751.5");
        assert_eq!(
            v["miners"][0]["address"],
            "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
        );
        assert_eq!(v["miners"][0]["stratum"], "bronze");
        assert!(v["latency"].get("window").is_none());
        let back: DashboardState = serde_json::from_value(v).expect("reads back");
        assert_eq!(back, s);
    }
}
