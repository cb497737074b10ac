//! Load bench: one validator and up to 64 miners on 127.0.0.1, the real services end to end
//! (`cargo bench -p pin-node --bench load`).
//!
//! The embedded chain (in memory) gets the contracts deployed and is provisioned as the devnet
//! is ([`node::devnet::setup::provision`]): the validator is granted its role and stakes, every
//! miner is whitelisted and stakes, so each side admits the other through a
//! [`ChainDirectory`] as `pin validator` / `pin miner` do. For each case a fresh validator
//! (its own redb store) runs rounds back to back (`round_pause` 0) of one synthetic class at
//! one size, and `miners` exact miners (`MinerConfig::new`) announce themselves to it. Every
//! message is signed and checked by the wire gate; every answer is de-salted and verified.
//!
//! What is measured is what the validator itself records: a round's latency runs from the
//! broadcast of the salted views to the moment all answers are verified and the round is
//! recorded in its store (`ValidatorStatus::round_latency_ms`, whole milliseconds; the mean is
//! read from its `pin_round_seconds` histogram, which keeps full precision). Rounds/s counts
//! whole rounds (draw and reference solve included); challenges/s counts the salted challenge
//! views that were answered in time and verified. Memory is this process's resident set after
//! each case and its peak (`/proc/self/status`): the chain, the validator and every miner.
//!
//! Party counts map to classes: 2 parties is a simple swap (the two-party market), 3 or more a
//! resource triangle of that many parties (each sells one resource and buys the next), at
//! [`Difficulty::for_size`] as in `cargo bench -p pin-nash`.
//!
//! Environment (all optional):
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `PIN_LOAD_MINERS` | `16,64` | miner counts |
//! | `PIN_LOAD_PARTIES` | `2,8,16` | parties per challenge |
//! | `PIN_LOAD_ROUNDS` | `300` | rounds measured per case |
//! | `PIN_LOAD_SECS` | `15` | at most this many seconds measured per case |
//! | `PIN_LOAD_WARMUP` | `10` | rounds run with every miner registered before measuring |

mod common;

use alloy::primitives::{Address, keccak256};
use alloy::signers::local::PrivateKeySigner;
use common::{peak_rss_kib, rss_kib};
use nash::class::ProblemClass;
use nash::config::Config;
use nash::generate::Difficulty;
use nash::strategy::Strategy;
use node::devnet::setup::{Cast, Member, MinerPlan, provision};
use node::directory::{ChainDirectory, ChainRole};
use node::miner::{self, MinerConfig, RunningMiner};
use node::validator::{self, Phase, RunningValidator, ValidatorConfig, ValidatorStatus};
use node::wire::GateConfig;
use pin_chain::{AnyLedger, DeployParams, EmbeddedLedger, Protocol, dev_accounts};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

type Failure = Box<dyn std::error::Error + Send + Sync>;

/// Time miners have to answer (the devnet's).
const ANSWER_WINDOW: Duration = Duration::from_secs(2);
/// How long the chain directories cache an answer (the `pin` binary's).
const DIRECTORY_TTL: Duration = Duration::from_secs(10);
/// How often the bench reads the validator's status while measuring.
const POLL: Duration = Duration::from_millis(50);
/// Longest wait for every miner to register and the warm-up rounds to run.
const SETTLE: Duration = Duration::from_secs(30);

fn env_list(name: &str, default: &[usize]) -> Vec<usize> {
    match std::env::var(name) {
        Ok(v) => v.split(',').filter_map(|s| s.trim().parse().ok()).collect(),
        Err(_) => default.to_vec(),
    }
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn member(label: &str, key: &[u8; 32]) -> Result<Member, Failure> {
    Ok(Member {
        label: label.into(),
        signer: PrivateKeySigner::from_slice(key)?,
    })
}

fn dev(i: usize, label: &str) -> Result<Member, Failure> {
    member(label, &dev_accounts()[i].1)
}

/// A deterministic key per label.
fn derived(label: &str) -> Result<Member, Failure> {
    member(
        label,
        &keccak256(format!("PIN load bench/{label}").as_bytes()).0,
    )
}

/// The class that has `parties` parties.
fn class_of(parties: usize) -> ProblemClass {
    if parties <= 2 {
        ProblemClass::SimpleSwap
    } else {
        ProblemClass::ResourceTriangle
    }
}

fn class_name(class: ProblemClass) -> &'static str {
    match class {
        ProblemClass::SimpleSwap => "simple swap",
        ProblemClass::ResourceTriangle => "triangle",
        _ => "other",
    }
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// `(sum, count)` of the validator's round-latency histogram.
async fn round_histogram(http: &reqwest::Client, validator: SocketAddr) -> (f64, f64) {
    let text = match http.get(format!("http://{validator}/metrics")).send().await {
        Ok(r) => r.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    };
    let value = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
            .unwrap_or(0.0)
    };
    (
        value("pin_round_seconds_sum"),
        value("pin_round_seconds_count"),
    )
}

/// Answers, sends and `ΣQ` over `miners` in a status snapshot.
fn answered(s: &ValidatorStatus, miners: &[Address]) -> (u64, u64, f64) {
    miners
        .iter()
        .filter_map(|m| s.miners.get(m))
        .fold((0, 0, 0.0), |(a, n, q), st| {
            (a + st.answered, n + st.sent, q + st.q_sum)
        })
}

struct Case {
    miners: usize,
    parties: usize,
}

struct Measured {
    class: ProblemClass,
    rounds: u64,
    secs: f64,
    answers: u64,
    sent: u64,
    q_sum: f64,
    mean_ms: f64,
    /// Round latencies (ms), sorted.
    latencies: Vec<u64>,
}

struct Bench {
    protocol: Arc<Protocol<AnyLedger>>,
    cast: Cast,
    http: reqwest::Client,
    rounds: u64,
    secs: Duration,
    warmup: u64,
}

impl Bench {
    async fn run(&self, case: &Case) -> Result<Measured, Failure> {
        let class = class_of(case.parties);
        let (validator_member, _) = &self.cast.validators[0];
        let dir = tempfile::tempdir()?;
        let validator = validator::start(ValidatorConfig {
            signer: validator_member.signer.clone(),
            label: "load".into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            endpoint: None,
            data_dir: dir.path().to_path_buf(),
            protocol: self.protocol.clone(),
            mechanism: Config::default(),
            gateway: None,
            phase: Phase::Synthetic,
            classes: vec![class],
            difficulty: Difficulty::for_size(class, case.parties),
            round_pause: Duration::ZERO,
            answer_window: ANSWER_WINDOW,
            gate: GateConfig::default(),
            miners: Arc::new(ChainDirectory::new(
                self.protocol.clone(),
                ChainRole::Miner,
                DIRECTORY_TTL,
            )),
            seed: 0x10ad ^ case.parties as u64,
            treasury: self.cast.admin.signer.address(),
        })
        .await?;
        let validators_dir = Arc::new(ChainDirectory::new(
            self.protocol.clone(),
            ChainRole::Validator,
            DIRECTORY_TTL,
        ));
        let mut miners: Vec<RunningMiner> = Vec::new();
        for plan in self.cast.miners.iter().take(case.miners) {
            let mut mc = MinerConfig::new(plan.member.signer.clone(), validators_dir.clone());
            mc.validators = vec![format!("http://{}", validator.addr)];
            miners.push(miner::start(mc).await?);
        }
        let addresses: Vec<Address> = miners.iter().map(RunningMiner::address).collect();
        let result = self.measure(&validator, &addresses, class).await;
        validator.stop();
        for m in miners {
            m.stop().await?;
        }
        result
    }

    /// Waits for every miner to register and the warm-up rounds, then measures.
    async fn measure(
        &self,
        validator: &RunningValidator,
        miners: &[Address],
        class: ProblemClass,
    ) -> Result<Measured, Failure> {
        let settle_by = Instant::now() + SETTLE;
        let registered = loop {
            let s = validator.status();
            if miners.iter().all(|m| s.miners.contains_key(m)) {
                break s.rounds;
            }
            if Instant::now() > settle_by {
                return Err(format!(
                    "{} of {} miners registered within {SETTLE:?}",
                    s.miners.len(),
                    miners.len()
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        // The round running at registration may have gone to fewer miners: skip it too.
        while validator.status().rounds < registered + 1 + self.warmup {
            if Instant::now() > settle_by {
                return Err("warm-up rounds did not finish".into());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }

        let (sum0, count0) = round_histogram(&self.http, validator.addr).await;
        let start = validator.status();
        let t0 = Instant::now();
        let (a0, n0, q0) = answered(&start, miners);
        let mut seen = start.rounds;
        let mut latencies = Vec::new();
        let mut lost = 0;
        let end = loop {
            tokio::time::sleep(POLL).await;
            let s = validator.status();
            let new = s.rounds - seen;
            let have = s.round_latency_ms.len() as u64;
            lost += new.saturating_sub(have);
            latencies.extend(
                s.round_latency_ms
                    .iter()
                    .skip(have.saturating_sub(new) as usize),
            );
            seen = s.rounds;
            if s.rounds - start.rounds >= self.rounds || t0.elapsed() >= self.secs {
                break s;
            }
        };
        let secs = t0.elapsed().as_secs_f64();
        let (sum1, count1) = round_histogram(&self.http, validator.addr).await;
        if lost > 0 {
            return Err(format!("{lost} round latencies fell out of the status window").into());
        }
        let (a1, n1, q1) = answered(&end, miners);
        latencies.sort_unstable();
        let rounds = end.rounds - start.rounds;
        let timed = count1 - count0;
        Ok(Measured {
            class,
            rounds,
            secs,
            answers: a1 - a0,
            sent: n1 - n0,
            q_sum: q1 - q0,
            mean_ms: if timed > 0.0 {
                (sum1 - sum0) / timed * 1000.0
            } else {
                0.0
            },
            latencies,
        })
    }
}

async fn main_async() -> Result<(), Failure> {
    let miner_counts = env_list("PIN_LOAD_MINERS", &[16, 64]);
    let party_counts = env_list("PIN_LOAD_PARTIES", &[2, 8, 16]);
    let most = miner_counts.iter().copied().max().unwrap_or(0);

    let t = Instant::now();
    let cast = Cast {
        admin: dev(0, "admin")?,
        validators: vec![(dev(1, "validator")?, 60_000)],
        miners: (0..most)
            .map(|i| {
                Ok(MinerPlan {
                    member: derived(&format!("miner-{i}"))?,
                    strategy: Strategy::Exact,
                    copies: None,
                })
            })
            .collect::<Result<_, Failure>>()?,
        trainer: derived("trainer")?,
        parties: Vec::new(),
    };
    let ledger = AnyLedger::Embedded(EmbeddedLedger::in_memory()?);
    let protocol =
        Arc::new(Protocol::deploy(ledger, &cast.admin.signer, &DeployParams::default()).await?);
    provision(&protocol, &cast, &mut |line| eprintln!("  {line}")).await?;
    eprintln!(
        "embedded chain: deployed and provisioned {most} miners in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let bench = Bench {
        protocol,
        cast,
        http: reqwest::Client::new(),
        rounds: env_num("PIN_LOAD_ROUNDS", 300),
        secs: Duration::from_secs(env_num("PIN_LOAD_SECS", 15)),
        warmup: env_num("PIN_LOAD_WARMUP", 10),
    };
    let mut rows = Vec::new();
    for &miners in &miner_counts {
        for &parties in &party_counts {
            let case = Case { miners, parties };
            let m = bench.run(&case).await?;
            eprintln!(
                "{miners} miners, {parties} parties: {} rounds in {:.1} s, p50 {} ms, p99 {} ms",
                m.rounds,
                m.secs,
                percentile(&m.latencies, 0.5),
                percentile(&m.latencies, 0.99),
            );
            let rss = rss_kib();
            rows.push((case, m, rss));
        }
    }

    println!();
    println!(
        "| miners | parties | class | rounds | rounds/s | challenges/s | round p50 | round p99 | round max | round mean | answered | mean Q | RSS after |"
    );
    println!("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (case, m, rss) in &rows {
        println!(
            "| {} | {} | {} | {} | {:.1} | {:.0} | {} ms | {} ms | {} ms | {:.2} ms | {:.1} % | {:.3} | {} |",
            case.miners,
            case.parties,
            class_name(m.class),
            m.rounds,
            m.rounds as f64 / m.secs,
            m.answers as f64 / m.secs,
            percentile(&m.latencies, 0.5),
            percentile(&m.latencies, 0.99),
            m.latencies.last().copied().unwrap_or(0),
            m.mean_ms,
            if m.sent > 0 {
                100.0 * m.answers as f64 / m.sent as f64
            } else {
                0.0
            },
            if m.answers > 0 {
                m.q_sum / m.answers as f64
            } else {
                0.0
            },
            mib(*rss),
        );
    }
    println!(
        "memory: one process holds the chain, the validator and every miner; peak RSS {}",
        mib(peak_rss_kib())
    );
    let verdict = rows
        .iter()
        .filter(|(c, _, _)| c.parties == 16)
        .map(|(c, m, _)| (c.miners, percentile(&m.latencies, 0.99)))
        .collect::<Vec<_>>();
    for (miners, p99) in verdict {
        println!(
            "goal p99 < 50 ms at 16 parties, {miners} miners: {p99} ms ({})",
            if p99 < 50 { "met" } else { "NOT met" }
        );
    }
    Ok(())
}

/// KiB as MiB for the table ("n/a" where the OS does not say).
fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(|| "n/a".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}

fn main() -> Result<(), Failure> {
    // `cargo bench` passes `--bench`; there are no other options (see the environment above).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(main_async())
}
