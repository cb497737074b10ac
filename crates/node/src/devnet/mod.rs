//! `pin devnet`: the whole network on one machine. A chain (embedded, or any RPC endpoint),
//! the contracts deployed fresh, two validators with different stakes, eight miners with
//! different strategies, the intent gateway with parties submitting intents, a trainer whose
//! run's nodes attest, and a dashboard. Every service listens on its own port of 127.0.0.1 and
//! they talk over real sockets, exactly as separate processes would (`pin validator`, `pin
//! miner`, `pin gateway` run the same code one role per process).

pub mod setup;

use crate::api::IntentOrder;
use crate::client::SignedClient;
use crate::dashboard::{
    self, DashboardState, EpochEmission, MinerRow, SettlementRow, TrainingRun, ValidatorRow,
};
use crate::directory::{ChainDirectory, ChainRole};
use crate::gateway::{self, GatewayConfig};
use crate::http::now_ms;
use crate::miner::{self, MinerConfig, RunningMiner};
use crate::validator::{self, Phase, RunningValidator, ValidatorConfig};
use alloy::primitives::{Address, B256};
use nash::class::ProblemClass;
use nash::config::Config;
use nash::generate::{Difficulty, SplitMix64};
use nash::intent::{Side, Valuation, Window};
use nash::units::{Price, Quantity, ResourceKind};
use pin_chain::{
    AnyLedger, DeployParams, Deployment, EmbeddedLedger, Ledger as _, Pin, Protocol, RpcLedger,
    RpcOptions, RunId,
};
use serde::{Deserialize, Serialize};
use setup::Cast;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use thiserror::Error;
use tokio::sync::RwLock;
use tokio::task::JoinHandle;

/// How to run the devnet.
#[derive(Clone, Debug)]
pub struct DevnetConfig {
    /// Where the embedded chain, the deployment record and the services' stores live (wiped at
    /// launch unless `resume`).
    pub data_dir: PathBuf,
    /// Continue the devnet `data_dir` holds — the chain, the deployment, the training run and
    /// the services' stores — instead of starting fresh: after a crash or a stop.
    pub resume: bool,
    /// Use this JSON-RPC endpoint (dev accounts funded, e.g. anvil) instead of the embedded
    /// chain.
    pub rpc_url: Option<String>,
    /// Where the dashboard listens (`None`: no dashboard).
    pub dashboard: Option<SocketAddr>,
    /// Seconds per epoch.
    pub epoch_length: u64,
    /// Seconds of each of the commit and reveal windows.
    pub reveal_window: u64,
    /// PIN minted per epoch.
    pub emission_per_epoch: Pin,
    /// Seed of the synthetic challenges, intents and strategies.
    pub seed: u64,
    /// Synthetic / real mix of the validators.
    pub phase: Phase,
    /// Time miners have to answer.
    pub answer_window: Duration,
    /// Pause between a validator's rounds.
    pub round_pause: Duration,
    /// Pause between intents the parties submit.
    pub intent_every: Duration,
}

impl DevnetConfig {
    /// 30-second epochs with 4-second commit and reveal windows, 1,000 PIN per epoch, phase 2
    /// (mixed), a 2-second answer window.
    #[must_use]
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            resume: false,
            rpc_url: None,
            dashboard: Some(SocketAddr::from(([127, 0, 0, 1], 8080))),
            epoch_length: 30,
            reveal_window: 4,
            emission_per_epoch: Pin::whole(1_000),
            seed: 1,
            phase: Phase::Mixed,
            answer_window: Duration::from_secs(2),
            round_pause: Duration::from_millis(250),
            intent_every: Duration::from_millis(1500),
        }
    }
}

/// Why the devnet could not start.
#[derive(Debug, Error)]
pub enum DevnetError {
    /// Files.
    #[error("data dir {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The chain refused or failed.
    #[error("chain: {0}")]
    Chain(#[from] pin_chain::Error),
    /// `resume` was asked for a data dir that holds no devnet (or another chain's).
    #[error("nothing to resume in {path}: {reason}; start without --resume")]
    NothingToResume {
        /// The record looked for.
        path: PathBuf,
        /// What is missing or wrong.
        reason: String,
    },
    /// A service did not start.
    #[error("{service}: {reason}")]
    Service {
        /// Which.
        service: String,
        /// Why.
        reason: String,
    },
}

fn service<E: std::fmt::Display>(name: &str) -> impl FnOnce(E) -> DevnetError + '_ {
    move |e| DevnetError::Service {
        service: name.into(),
        reason: e.to_string(),
    }
}

/// The file, in the data dir, that lets a devnet be resumed: what the chain alone does not say.
const RECORD: &str = "devnet.json";

/// What [`RECORD`] holds: the seed the cast's keys come from, and the training run.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    seed: u64,
    run: u64,
}

/// Writes `bytes` to `path` through a synced temporary file renamed over it: a crash leaves the
/// old file or the new one.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let tmp = path.with_extension("json.tmp");
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// A running devnet.
pub struct Devnet {
    /// The chain.
    pub protocol: Arc<Protocol<AnyLedger>>,
    /// Who is who.
    pub cast: Cast,
    /// The training run.
    pub run: RunId,
    /// The gateway's URL.
    pub gateway_url: String,
    /// The dashboard's URL, if one is served.
    pub dashboard_url: Option<String>,
    /// The validators.
    pub validators: Vec<RunningValidator>,
    /// The miners.
    pub miners: Vec<RunningMiner>,
    /// What the dashboard shows.
    pub state: Arc<RwLock<DashboardState>>,
    /// The first epoch the services ran for from its start (epochs before it were spent
    /// deploying and provisioning, and pay the treasury).
    pub first_epoch: u64,
    gateway: Option<gateway::Running>,
    tasks: Vec<JoinHandle<()>>,
    /// The time of the newest validator event put on the dashboard.
    events_shown: AtomicU64,
}

impl std::fmt::Debug for Devnet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Devnet")
            .field("gateway_url", &self.gateway_url)
            .field("dashboard_url", &self.dashboard_url)
            .finish_non_exhaustive()
    }
}

async fn open_chain(config: &DevnetConfig) -> Result<AnyLedger, DevnetError> {
    Ok(match &config.rpc_url {
        Some(url) => AnyLedger::Rpc(RpcLedger::connect(url, RpcOptions::default()).await?),
        None => AnyLedger::Embedded(EmbeddedLedger::open(&config.data_dir.join("chain"))?),
    })
}

/// Starts everything: deploys, provisions the cast, starts the gateway, the validators, the
/// miners, the parties, the trainer's attestations, the claims and the dashboard.
///
/// # Errors
/// [`DevnetError`].
pub async fn launch(
    config: DevnetConfig,
    on: &mut dyn FnMut(String),
) -> Result<Devnet, DevnetError> {
    let io = |path: &PathBuf| {
        let path = path.clone();
        move |source| DevnetError::Io { path, source }
    };
    if !config.resume && config.data_dir.exists() {
        std::fs::remove_dir_all(&config.data_dir).map_err(io(&config.data_dir))?;
    }
    std::fs::create_dir_all(&config.data_dir).map_err(io(&config.data_dir))?;
    let ledger = open_chain(&config).await?;
    let chain_name = config.rpc_url.clone().unwrap_or_else(|| "embedded".into());
    // The deployment record where `pin --data-dir <data_dir>` looks for it, so the CLI works on
    // a devnet's chain (e.g. `pin emission status` after a stop).
    let deployment_path = config.data_dir.join(match &config.rpc_url {
        None => "deployment.json".to_string(),
        Some(_) => format!("deployment-rpc-{}.json", ledger.chain_id().await?),
    });
    let record_path = config.data_dir.join(RECORD);
    let (protocol, cast, run, seed) = if config.resume {
        let missing = |reason: String| DevnetError::NothingToResume {
            path: config.data_dir.clone(),
            reason,
        };
        let deployment = Deployment::load(&deployment_path).map_err(|e| missing(e.to_string()))?;
        let text = std::fs::read_to_string(&record_path)
            .map_err(|e| missing(format!("{}: {e}", record_path.display())))?;
        let record: Record = serde_json::from_str(&text)
            .map_err(|e| missing(format!("{}: {e}", record_path.display())))?;
        let protocol = Arc::new(
            Protocol::attach(ledger, deployment)
                .await
                .map_err(|e| missing(e.to_string()))?,
        );
        on(format!(
            "resumed on {chain_name}: token {}, emissions {}, training run {}, seed {}",
            protocol.deployment().token,
            protocol.deployment().emissions,
            record.run,
            record.seed
        ));
        (
            protocol,
            Cast::standard(record.seed),
            RunId(record.run),
            record.seed,
        )
    } else {
        let cast = Cast::standard(config.seed);
        let params = DeployParams {
            epoch_length: config.epoch_length,
            reveal_window: config.reveal_window,
            emission_per_epoch: config.emission_per_epoch,
            ..DeployParams::default()
        };
        let protocol = Arc::new(Protocol::deploy(ledger, &cast.admin.signer, &params).await?);
        let deployment = protocol.deployment().clone();
        deployment.save(&deployment_path)?;
        on(format!(
            "deployed on {chain_name}: token {}, emissions {}, settlements {}",
            deployment.token, deployment.emissions, deployment.settlements
        ));
        let run = setup::provision(&protocol, &cast, on).await?;
        let record = Record {
            seed: config.seed,
            run: run.0,
        };
        write_atomically(
            &record_path,
            &serde_json::to_vec_pretty(&record).map_err(|e| DevnetError::Io {
                path: record_path.clone(),
                source: std::io::Error::other(e),
            })?,
        )
        .map_err(io(&record_path))?;
        (protocol, cast, run, config.seed)
    };
    let attested = protocol.run(run).await?.valid_attestations;
    let deployment = protocol.deployment().clone();

    // Dashboard state first, so every task can log into it.
    let network = dashboard::Network::new(
        chain_name,
        deployment.chain_id,
        config.epoch_length,
        dashboard::Contracts::from_deployment(&deployment),
    );
    let state = Arc::new(RwLock::new(DashboardState::new(network)));

    // Gateway.
    let validators_dir = Arc::new(ChainDirectory::new(
        protocol.clone(),
        ChainRole::Validator,
        Duration::from_secs(5),
    ));
    let mut gw = GatewayConfig::new(
        cast.admin.signer.address(),
        config.data_dir.join("gateway"),
        validators_dir.clone(),
    );
    gw.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    let gateway = gateway::start(gw).await.map_err(service("gateway"))?;
    let gateway_url = gateway.url();
    on(format!("gateway listening on {gateway_url}"));

    // Validators.
    let miners_dir = Arc::new(ChainDirectory::new(
        protocol.clone(),
        ChainRole::Miner,
        Duration::from_secs(5),
    ));
    let mut validators = Vec::new();
    for (i, (v, _)) in cast.validators.iter().enumerate() {
        let running = validator::start(ValidatorConfig {
            signer: v.signer.clone(),
            label: v.label.clone(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            endpoint: None,
            data_dir: config.data_dir.join(&v.label),
            protocol: protocol.clone(),
            mechanism: Config::default(),
            gateway: Some(gateway_url.clone()),
            phase: config.phase,
            classes: ProblemClass::ALL.to_vec(),
            difficulty: Difficulty::easy(),
            round_pause: config.round_pause,
            answer_window: config.answer_window,
            gate: crate::wire::GateConfig::default(),
            miners: miners_dir.clone(),
            seed: seed ^ (i as u64 + 1),
            treasury: cast.admin.signer.address(),
        })
        .await
        .map_err(service(&v.label))?;
        on(format!("{} listening on http://{}", v.label, running.addr));
        validators.push(running);
    }
    let validator_urls: Vec<String> = validators
        .iter()
        .map(|v| format!("http://{}", v.addr))
        .collect();

    // Miners: the copier's friend shares with it.
    let mut miners: Vec<RunningMiner> = Vec::new();
    let mut urls: Vec<Option<String>> = vec![None; cast.miners.len()];
    let mut order: Vec<usize> = (0..cast.miners.len()).collect();
    order.sort_by_key(|&i| cast.miners[i].copies.is_some());
    let mut by_index: BTreeMap<usize, RunningMiner> = BTreeMap::new();
    for i in order {
        let plan = &cast.miners[i];
        let mut mc = MinerConfig::new(plan.member.signer.clone(), validators_dir.clone());
        mc.validators = validator_urls.clone();
        mc.strategy = plan.strategy.clone();
        mc.announce_every = Duration::from_secs(5);
        mc.share_with = cast
            .miners
            .iter()
            .filter(|m| m.copies == Some(i))
            .map(|m| m.member.signer.address())
            .collect();
        if let Some(t) = plan.copies {
            mc.copy_from = urls[t].clone();
        }
        let running = miner::start(mc)
            .await
            .map_err(service(&plan.member.label))?;
        urls[i] = Some(running.endpoint().to_string());
        on(format!(
            "miner {} ({}) listening on {}",
            plan.member.label,
            dashboard::strategy_name(&plan.strategy),
            running.endpoint()
        ));
        by_index.insert(i, running);
    }
    miners.extend(by_index.into_values());

    {
        let mut s = state.write().await;
        for (plan, m) in cast.miners.iter().zip(&miners) {
            s.upsert_miner(MinerRow::new(
                plan.member.label.clone(),
                plan.member.signer.address(),
                dashboard::strategy_name(&plan.strategy),
                m.endpoint(),
            ));
        }
        for (v, stake) in &cast.validators {
            s.upsert_validator(ValidatorRow::new(
                v.label.clone(),
                v.signer.address(),
                Pin::whole(*stake),
            ));
        }
        s.training = Some(TrainingRun {
            run_id: run.0,
            model: "devnet-llm".into(),
            status: "running".into(),
            nodes: cast
                .miners
                .iter()
                .take(setup::RUN_NODES)
                .map(|m| m.member.label.clone())
                .collect(),
            attestations: attested,
            budget: Pin::whole(setup::RUN_BUDGET),
        });
        s.info("devnet started");
    }

    let mut tasks = Vec::new();
    tasks.push(tokio::spawn(parties(
        cast.clone(),
        gateway_url.clone(),
        seed,
        config.intent_every,
        state.clone(),
    )));
    // Attestation digests are per step: a resumed devnet numbers its steps from the clock,
    // above every step an earlier run of it used (one step per five seconds from 1).
    let first_step = if config.resume { now_ms() / 1000 } else { 1 };
    tasks.push(tokio::spawn(trainer(
        protocol.clone(),
        cast.clone(),
        run,
        first_step,
        state.clone(),
    )));
    let dashboard_url = match config.dashboard {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(service(&format!("dashboard on {addr}")))?;
            let bound = listener.local_addr().map_err(service("dashboard"))?;
            let app = dashboard::routes(state.clone());
            tasks.push(tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, app).await {
                    tracing::error!(error = %e, "dashboard stopped");
                }
            }));
            Some(format!("http://{bound}"))
        }
        None => None,
    };
    let schedule = protocol.epoch_schedule().await?;
    let first_epoch = schedule.epoch_at(now_ms() / 1000).unwrap_or(0) + 1;
    on(format!(
        "services up in epoch {}; epoch {first_epoch} is the first they run whole",
        first_epoch - 1
    ));
    Ok(Devnet {
        first_epoch,
        protocol,
        cast,
        run,
        gateway_url,
        dashboard_url,
        validators,
        miners,
        state,
        gateway: Some(gateway),
        tasks,
        events_shown: AtomicU64::new(0),
    })
}

/// The parties: every `every`, one of them offers to buy, sell or defer a resource at a
/// price around 100 per unit; now and then three of them offer a cycle over three resources.
async fn parties(
    cast: Cast,
    gateway: String,
    seed: u64,
    every: Duration,
    state: Arc<RwLock<DashboardState>>,
) {
    let clients: Vec<SignedClient> = cast
        .parties
        .iter()
        .map(|p| SignedClient::new(p.signer.clone(), Duration::from_secs(5)))
        .collect();
    let mut rng = SplitMix64::new(seed ^ 0x5eed);
    let url = format!("{gateway}/intents");
    loop {
        tokio::time::sleep(every).await;
        let resource = ResourceKind(rng.below(3) as u16);
        let side = match rng.below(5) {
            0 | 1 => Side::Buy,
            2 | 3 => Side::Sell,
            _ => Side::Defer,
        };
        let base = 100 + rng.below(21) as i64 - 10;
        let price = match side {
            Side::Buy => base + 8,
            _ => base - 8,
        };
        let order = IntentOrder {
            side,
            resource,
            quantity: Quantity::units(1 + rng.below(8)),
            min_fill: Quantity(0),
            lot: Quantity(0),
            valuation: Valuation::Limit {
                price: Price::new(price.max(1) as u64, 0),
            },
            window: Window { start: 0, end: 4 },
            expires_ms: now_ms() + 120_000,
        };
        let who = rng.below(clients.len() as u64) as usize;
        let result = clients[who]
            .post::<_, crate::api::IntentRecord>(&url, &order)
            .await;
        let mut s = state.write().await;
        match result {
            Ok(_) => s.intents.submitted += 1,
            Err(e) => s.warn(format!("intent refused: {e}")),
        }
    }
}

/// The trainer's run: its nodes attest every few seconds.
async fn trainer(
    p: Arc<Protocol<AnyLedger>>,
    cast: Cast,
    run: RunId,
    first_step: u64,
    state: Arc<RwLock<DashboardState>>,
) {
    let mut step = first_step;
    loop {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let attested = setup::attest_round(&p, &cast, run, step).await;
        step += 1;
        match attested {
            Ok(n) => {
                let mut s = state.write().await;
                if let Some(t) = s.training.as_mut() {
                    t.attestations += n;
                }
            }
            Err(e) => state.write().await.warn(format!("attestation failed: {e}")),
        }
    }
}

/// Totals per account claimed so far (wei).
async fn claimed(p: &Protocol<AnyLedger>, a: Address) -> Pin {
    p.emission_claimed(a).await.unwrap_or(Pin::ZERO)
}

impl Devnet {
    /// The epochs the chain has finalised since the services ran whole epochs.
    ///
    /// # Errors
    /// A chain read failure.
    pub async fn finalised(&self) -> Result<u64, DevnetError> {
        Ok(self
            .protocol
            .next_epoch()
            .await?
            .saturating_sub(self.first_epoch))
    }

    /// One refresh: the dashboard from the validators and the chain, and every member's
    /// outstanding emission claimed (the devnet claims for its miners and validators, as
    /// their operators would). Returns the lines worth printing.
    pub async fn tick(&self) -> Vec<String> {
        let mut lines = Vec::new();
        let p = &self.protocol;
        let now_s = now_ms() / 1000;
        let schedule = p.epoch_schedule().await.ok();
        let statuses: Vec<_> = self
            .validators
            .iter()
            .map(RunningValidator::status)
            .collect();
        // Claims against the root the first validator settled (it equals the chain's: the
        // validators agree or the epoch would not finalise).
        let latest = p.latest_root().await.unwrap_or(B256::ZERO);
        let members: Vec<(String, &alloy::signers::local::PrivateKeySigner)> = self
            .cast
            .miners
            .iter()
            .map(|m| (m.member.label.clone(), &m.member.signer))
            .chain(
                self.cast
                    .validators
                    .iter()
                    .map(|(v, _)| (v.label.clone(), &v.signer)),
            )
            .collect();
        // Only once the validator's book has caught up with the chain: its proofs hold
        // against the root it computed, and a claim against another root would be refused.
        let mut claims = 0;
        if latest != B256::ZERO
            && let Some(v) = self.validators.first()
            && v.root().is_some_and(|r| B256::from(r.0) == latest)
        {
            for (label, signer) in &members {
                let a = signer.address();
                let Some((cumulative, proof)) = v.proof(a) else {
                    continue;
                };
                let have = claimed(p, a).await;
                let cumulative = Pin::from_wei(alloy::primitives::U256::from(cumulative));
                if cumulative <= have {
                    continue;
                }
                let proof: Vec<B256> = proof.iter().map(|h| B256::from(h.0)).collect();
                match p.claim_emission(signer, a, cumulative, &proof).await {
                    Ok((amount, _)) => {
                        claims += 1;
                        lines.push(format!("{label} claimed {amount}"));
                    }
                    Err(e) => lines.push(format!("{label}: claim failed: {e}")),
                }
            }
        }
        let mut s = self.state.write().await;
        if let Some(sc) = &schedule {
            let epoch = sc.epoch_at(now_s).unwrap_or(0);
            let start = sc.end(epoch).saturating_sub(sc.epoch_length);
            s.set_epoch(epoch, now_s.saturating_sub(start));
        }
        if let Ok(stats) = self.gateway_stats().await {
            s.intents.pending = stats.0;
            s.intents.settled = stats.1;
            s.intents.unfilled = stats.2;
            s.intents.expired = stats.3;
        }
        let label_of = |a: Address| -> String {
            self.cast
                .miners
                .iter()
                .find(|m| m.member.signer.address() == a)
                .map(|m| m.member.label.clone())
                .or_else(|| {
                    self.cast
                        .validators
                        .iter()
                        .find(|(v, _)| v.signer.address() == a)
                        .map(|(v, _)| v.label.clone())
                })
                .unwrap_or_else(|| a.to_string())
        };
        // Miners: figures from the first validator, earnings from its book.
        if let Some(first) = statuses.first() {
            for plan in &self.cast.miners {
                let a = plan.member.signer.address();
                let earned = self.validators[0].proof(a).map_or(Pin::ZERO, |(x, _)| {
                    Pin::from_wei(alloy::primitives::U256::from(x))
                });
                let have = claimed(p, a).await;
                if let (Some(row), Some(st)) = (s.miner_mut(a), first.miners.get(&a)) {
                    row.sent = st.sent;
                    row.answered = st.answered;
                    row.mean_q = if st.answered == 0 {
                        0.0
                    } else {
                        st.q_sum / st.answered as f64
                    };
                    row.mean_q_epoch = if st.epoch_answered == 0 {
                        0.0
                    } else {
                        st.epoch_q_sum / st.epoch_answered as f64
                    };
                    row.twf = st.twf;
                    if let Some(stratum) = st.stratum {
                        row.stratum = stratum;
                    }
                    row.pmu = st.pmu;
                    row.score = st.score;
                    row.earned = earned;
                    row.claimed = have;
                }
            }
        }
        for (status, (v, _)) in statuses.iter().zip(&self.cast.validators) {
            let a = v.signer.address();
            let earned = self.validators[0].proof(a).map_or(Pin::ZERO, |(x, _)| {
                Pin::from_wei(alloy::primitives::U256::from(x))
            });
            let stake = p.validator_stake(a).await.unwrap_or(Pin::ZERO);
            let last = status.epochs.iter().rev().find_map(|e| e.result.as_ref());
            if let Some(row) = s.validator_mut(a) {
                row.stake = stake;
                row.earned = earned;
                row.challenges_sent = status.rounds;
                if let Some(r) = last
                    && let Some((_, _, trust, dividends)) = r.validators.iter().find(|x| x.0 == a)
                {
                    row.trust = *trust;
                    row.dividends = *dividends;
                }
                row.last_revealed = status
                    .epochs
                    .iter()
                    .rev()
                    .find(|e| e.revealed)
                    .map(|e| e.epoch);
            }
            for pb in &status.settlements {
                if s.settlements.iter().any(|x| x.challenge_id == pb.challenge) {
                    continue;
                }
                s.push_settlement(SettlementRow {
                    epoch: pb.epoch,
                    challenge_id: pb.challenge,
                    class: pb.class,
                    parties: vec![format!("{} parties", pb.parties)],
                    welfare: pb.welfare,
                    winner_label: label_of(pb.winner),
                    winner: pb.winner,
                    validator: v.label.clone(),
                    tx_hash: Some(pb.tx),
                    time_ms: pb.at_ms,
                });
            }
        }
        if let Some(first) = statuses.first() {
            s.latency = dashboard::Latency::with_bounds(dashboard::LATENCY_BOUNDS_MS.to_vec());
            for ms in &first.answer_latency_ms {
                s.latency.record_answer(*ms);
            }
            for ms in &first.round_latency_ms {
                s.latency.record_round(*ms);
            }
            for e in &first.epochs {
                let minted: u128 = e.minted.parse().unwrap_or(0);
                let root = e.result.as_ref().map(|r| B256::from(r.root.0));
                let had = s.emission_mut(e.epoch).map(|x| x.finalised);
                let before = s.emission_mut(e.epoch).map_or(0, |x| x.claims);
                // This tick's claims were against the newest final root.
                let newest = first.epochs.back().map(|x| x.epoch) == Some(e.epoch);
                s.upsert_emission(EpochEmission {
                    epoch: e.epoch,
                    root,
                    minted: Pin::from_wei(alloy::primitives::U256::from(minted)),
                    support: if e.finalised { 1.0 } else { 0.0 },
                    finalised: e.finalised,
                    claims: before + if newest { claims } else { 0 },
                });
                if e.finalised && had != Some(true) {
                    lines.push(format!(
                        "epoch {} finalised: root {}, {} minted",
                        e.epoch,
                        root.unwrap_or_default(),
                        Pin::from_wei(alloy::primitives::U256::from(minted))
                    ));
                }
            }
            // The validator's events not shown yet (they carry the validator's own times).
            let shown = self.events_shown.load(Ordering::Relaxed);
            let mut newest = shown;
            for (t, text) in &first.events {
                if *t > shown {
                    s.info(text.clone());
                    newest = newest.max(*t);
                }
            }
            self.events_shown.store(newest, Ordering::Relaxed);
        }
        for l in &lines {
            s.info(l.clone());
        }
        lines
    }

    async fn gateway_stats(&self) -> Result<(u64, u64, u64, u64), String> {
        let v: serde_json::Value = reqwest::get(format!("{}/stats", self.gateway_url))
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        let n = |k: &str| v.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
        Ok((
            n("pending") + n("assigned"),
            n("settled"),
            n("unfilled"),
            n("expired"),
        ))
    }

    /// Stops every service and task.
    pub async fn stop(mut self) {
        for t in &self.tasks {
            t.abort();
        }
        for v in self.validators.drain(..) {
            v.stop();
        }
        for m in self.miners.drain(..) {
            let _ = m.stop().await;
        }
        if let Some(g) = self.gateway.take() {
            let _ = g.shutdown().await;
        }
    }
}
