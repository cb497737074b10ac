//! The network's roles, one per process — `pin validator`, `pin miner`, `pin gateway` — the
//! parties' `pin intent`, the emission claims (`pin emission`), and `pin devnet`, which runs
//! them all in one process on real sockets.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{Address, B256, U256};
use anyhow::{Context as _, Result, anyhow, bail};
use clap::{Args, Subcommand};
use nash::class::ProblemClass;
use nash::config::Config;
use nash::generate::Difficulty;
use nash::intent::{Side, Valuation, Window};
use nash::strategy::Strategy;
use nash::units::{Hash32, Price, Quantity, ResourceKind};
use node::api::{IntentOrder, IntentRecord};
use node::client::SignedClient;
use node::devnet::{DevnetConfig, launch};
use node::directory::{ChainDirectory, ChainRole};
use node::gateway::{self, GatewayConfig};
use node::http::now_ms;
use node::miner::{self, MinerConfig};
use node::validator::{self, Phase, ProofBody, ValidatorConfig};
use node::wire::GateConfig;
use pin_chain::Pin;
use serde_json::json;

use crate::accounts;
use crate::cmd::parse_duration;
use crate::context::Context;
use crate::output::Output;

async fn until_stopped() {
    let _ = tokio::signal::ctrl_c().await;
}

/// `pin validator`.
#[derive(Debug, Args)]
pub(crate) struct ValidatorArgs {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:7000")]
    listen: SocketAddr,
    /// Public base URL miners answer to (default: http://<listen>).
    #[arg(long)]
    endpoint: Option<String>,
    /// The intent gateway's base URL.
    #[arg(long)]
    gateway: Option<String>,
    /// Bootstrapping phase: 1 synthetic only, 2 mixed, 3 real-dominated.
    #[arg(long, default_value = "2")]
    phase: Phase,
    /// Time miners have to answer, e.g. 2s.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    answer_window: Duration,
    /// Pause between rounds, e.g. 250ms.
    #[arg(long, default_value = "250ms", value_parser = parse_duration)]
    round_pause: Duration,
    /// Seed of the synthetic challenges.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// A name for logs.
    #[arg(long, default_value = "validator")]
    label: String,
}

pub(crate) async fn validator(args: ValidatorArgs, ctx: &Context) -> Result<Output> {
    let signer = ctx.signer()?;
    let protocol = Arc::new(ctx.protocol().await?);
    let treasury = protocol.deployment().admin;
    let me = signer.address();
    let miners = Arc::new(ChainDirectory::new(
        protocol.clone(),
        ChainRole::Miner,
        Duration::from_secs(10),
    ));
    let running = validator::start(ValidatorConfig {
        signer,
        label: args.label,
        listen: args.listen,
        endpoint: args.endpoint,
        data_dir: ctx.data_dir().join(format!("validator-{me}")),
        protocol,
        mechanism: Config::default(),
        gateway: args.gateway,
        phase: args.phase,
        classes: ProblemClass::ALL.to_vec(),
        difficulty: Difficulty::easy(),
        round_pause: args.round_pause,
        answer_window: args.answer_window,
        gate: GateConfig::default(),
        miners,
        seed: args.seed,
        treasury,
    })
    .await?;
    eprintln!("validator {me} listening on http://{}", running.addr);
    until_stopped().await;
    let status = running.status();
    running.stop();
    Ok(Output::new(
        format!("validator stopped after {} rounds", status.rounds),
        json!({ "rounds": status.rounds }),
    ))
}

fn strategy(text: &str) -> Result<Strategy> {
    let (name, arg) = text.split_once(':').unwrap_or((text, ""));
    let seed = now_ms();
    Ok(match name {
        "exact" => Strategy::Exact,
        "heuristic" => Strategy::Heuristic,
        "noisy" => Strategy::Noisy {
            level: arg.parse().map_err(|_| {
                anyhow!("--strategy noisy:LEVEL needs a level in [0, 1], got {arg:?}")
            })?,
            seed,
        },
        "slow" => Strategy::Slow {
            latency_ms: arg
                .parse()
                .map_err(|_| anyhow!("--strategy slow:MS needs milliseconds, got {arg:?}"))?,
        },
        "random" => Strategy::Random { seed },
        "copier" => Strategy::Copier,
        other => bail!(
            "--strategy {other:?}: expected exact, heuristic, noisy:LEVEL, slow:MS, random or copier"
        ),
    })
}

/// `pin miner`.
#[derive(Debug, Args)]
pub(crate) struct MinerArgs {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:7100")]
    listen: SocketAddr,
    /// Public base URL validators reach it at (default: http://<listen>).
    #[arg(long)]
    endpoint: Option<String>,
    /// A validator's base URL to announce to (repeat for several).
    #[arg(long = "validator", required = true)]
    validators: Vec<String>,
    /// exact, heuristic, noisy:LEVEL, slow:MS, random, or copier (with --copy-from).
    #[arg(long, default_value = "exact")]
    strategy: String,
    /// A friend miner's URL to copy answers from (the copier).
    #[arg(long)]
    copy_from: Option<String>,
    /// Miners (addresses) allowed to read this miner's answers.
    #[arg(long)]
    share_with: Vec<String>,
}

pub(crate) async fn miner(args: MinerArgs, ctx: &Context) -> Result<Output> {
    let signer = ctx.signer()?;
    let me = signer.address();
    let protocol = Arc::new(ctx.protocol().await?);
    let validators = Arc::new(ChainDirectory::new(
        protocol,
        ChainRole::Validator,
        Duration::from_secs(10),
    ));
    let mut config = MinerConfig::new(signer, validators);
    config.listen = args.listen;
    config.endpoint = args.endpoint;
    config.validators = args.validators;
    config.strategy = strategy(&args.strategy)?;
    config.copy_from = args.copy_from;
    config.share_with = args
        .share_with
        .iter()
        .map(|a| accounts::account(a))
        .collect::<Result<_>>()?;
    if config.strategy == Strategy::Copier && config.copy_from.is_none() {
        bail!("--strategy copier needs --copy-from <friend miner URL>");
    }
    let running = miner::start(config).await?;
    eprintln!("miner {me} listening on {}", running.endpoint());
    until_stopped().await;
    running.stop().await?;
    Ok(Output::new("miner stopped", json!({ "stopped": true })))
}

/// `pin gateway`.
#[derive(Debug, Args)]
pub(crate) struct GatewayArgs {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:7200")]
    listen: SocketAddr,
}

pub(crate) async fn gateway(args: GatewayArgs, ctx: &Context) -> Result<Output> {
    let signer = ctx.signer()?;
    let protocol = Arc::new(ctx.protocol().await?);
    let validators = Arc::new(ChainDirectory::new(
        protocol,
        ChainRole::Validator,
        Duration::from_secs(10),
    ));
    let mut config =
        GatewayConfig::new(signer.address(), ctx.data_dir().join("gateway"), validators);
    config.listen = args.listen;
    let running = gateway::start(config).await?;
    eprintln!("gateway listening on {}", running.url());
    running.run_until(until_stopped()).await?;
    Ok(Output::new("gateway stopped", json!({ "stopped": true })))
}

/// `pin intent`.
#[derive(Debug, Subcommand)]
pub(crate) enum IntentCommand {
    /// Sign and submit an intent to the gateway (the signer is the party).
    Submit(Submit),
    /// An intent's status and settlement.
    Show(Show),
}

/// `pin intent submit`.
#[derive(Debug, Args)]
pub(crate) struct Submit {
    /// The gateway's base URL.
    #[arg(long)]
    gateway: String,
    /// buy, sell or defer.
    #[arg(long)]
    side: String,
    /// Resource number (0 GPU hours, 1 CPU hours, 2 storage, 3 bandwidth, …).
    #[arg(long, default_value_t = 0)]
    resource: u16,
    /// Whole units.
    #[arg(long)]
    quantity: u64,
    /// Limit price per unit (whole money units).
    #[arg(long)]
    price: u64,
    /// If filled at all, at least this many units.
    #[arg(long, default_value_t = 0)]
    min_fill: u64,
    /// Delivery slots, `START..END`.
    #[arg(long, default_value = "0..4")]
    window: String,
    /// How long the offer stands, e.g. 10m.
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    expires: Duration,
}

/// `pin intent show`.
#[derive(Debug, Args)]
pub(crate) struct Show {
    /// The gateway's base URL.
    #[arg(long)]
    gateway: String,
    /// The intent id (0x…).
    id: String,
}

fn record_output(r: &IntentRecord) -> Result<Output> {
    let state = serde_json::to_value(&r.status)?;
    Ok(Output::new(
        format!(
            "intent {} by {}: {}",
            r.id,
            r.party,
            state
                .get("state")
                .and_then(|s| s.as_str())
                .unwrap_or("unknown")
        ),
        serde_json::to_value(r)?,
    ))
}

pub(crate) async fn intent(command: IntentCommand, ctx: &Context) -> Result<Output> {
    match command {
        IntentCommand::Submit(a) => {
            let side = match a.side.as_str() {
                "buy" => Side::Buy,
                "sell" => Side::Sell,
                "defer" => Side::Defer,
                other => bail!("--side {other:?}: expected buy, sell or defer"),
            };
            let (start, end) = a
                .window
                .split_once("..")
                .and_then(|(s, e)| Some((s.parse().ok()?, e.parse().ok()?)))
                .ok_or_else(|| anyhow!("--window {:?}: expected START..END", a.window))?;
            let order = IntentOrder {
                side,
                resource: ResourceKind(a.resource),
                quantity: Quantity::units(a.quantity),
                min_fill: Quantity::units(a.min_fill),
                lot: Quantity(0),
                valuation: Valuation::Limit {
                    price: Price::new(a.price, 0),
                },
                window: Window { start, end },
                expires_ms: now_ms() + u64::try_from(a.expires.as_millis()).unwrap_or(u64::MAX / 2),
            };
            let client = SignedClient::new(ctx.signer()?, Duration::from_secs(10));
            let r: IntentRecord = client
                .post(
                    &format!("{}/intents", a.gateway.trim_end_matches('/')),
                    &order,
                )
                .await?;
            record_output(&r)
        }
        IntentCommand::Show(a) => {
            let id = Hash32::from_hex(&a.id)
                .ok_or_else(|| anyhow!("{:?} is not a 32-byte hex intent id", a.id))?;
            let client = SignedClient::new(ctx.signer()?, Duration::from_secs(10));
            let r: IntentRecord = client
                .get(&format!("{}/intents/{id}", a.gateway.trim_end_matches('/')))
                .await?;
            record_output(&r)
        }
    }
}

/// `pin emission`.
#[derive(Debug, Subcommand)]
pub(crate) enum EmissionCommand {
    /// Epochs finalised, PIN emitted and claimed.
    Status,
    /// Claim an account's emission with the proof a validator serves.
    Claim(ClaimArgs),
}

/// `pin emission claim`.
#[derive(Debug, Args)]
pub(crate) struct ClaimArgs {
    /// A validator's base URL (it serves the proofs).
    #[arg(long)]
    validator: String,
    /// The account (default: the signer).
    #[arg(long)]
    account: Option<String>,
}

pub(crate) async fn emission(command: EmissionCommand, ctx: &Context) -> Result<Output> {
    let protocol = ctx.protocol().await?;
    match command {
        EmissionCommand::Status => {
            let s = protocol.emission_status().await?;
            Ok(Output::new(
                format!(
                    "epoch {} (next to finalise {}), emitted {}, claimed {}, latest root {}",
                    s.current_epoch, s.next_epoch, s.emitted, s.claimed, s.latest_root
                ),
                serde_json::to_value(&s)?,
            ))
        }
        EmissionCommand::Claim(a) => {
            let signer = ctx.signer()?;
            let who: Address = match &a.account {
                Some(x) => accounts::account(x)?,
                None => signer.address(),
            };
            let client = SignedClient::new(signer.clone(), Duration::from_secs(10));
            let body: ProofBody = client
                .get(&format!(
                    "{}/emissions/{who}",
                    a.validator.trim_end_matches('/')
                ))
                .await
                .context("asking the validator for the proof")?;
            // A validator can be an epoch ahead of the chain (it settled an epoch whose root is
            // not final yet) or behind it; its proof holds only against the root it names.
            let finalised = protocol.emission_status().await?.latest_root;
            if B256::from(body.root.0) != finalised {
                bail!(
                    "the validator's root {} (after {} epochs) is not the chain's finalised root {finalised}; \
                     retry once they agree",
                    B256::from(body.root.0),
                    body.epochs
                );
            }
            let cumulative = Pin::from_wei(
                body.cumulative
                    .parse::<U256>()
                    .map_err(|e| anyhow!("validator sent a bad amount: {e}"))?,
            );
            let proof: Vec<B256> = body.proof.iter().map(|h| B256::from(h.0)).collect();
            let (paid, receipt) = protocol
                .claim_emission(&signer, who, cumulative, &proof)
                .await?;
            Ok(Output::new(
                format!("{who} claimed {paid} (cumulative {cumulative})"),
                json!({ "account": who, "paid": paid.wei().to_string(), "cumulative": cumulative.wei().to_string(), "tx": receipt.tx_hash }),
            ))
        }
    }
}

/// `pin devnet`.
#[derive(Debug, Args)]
pub(crate) struct DevnetArgs {
    /// Stop after this many epochs are finalised (default: run until Ctrl-C).
    #[arg(long)]
    epochs: Option<u64>,
    /// Where the dashboard listens.
    #[arg(long, default_value = "127.0.0.1:8080")]
    dashboard: SocketAddr,
    /// Serve no dashboard.
    #[arg(long)]
    no_dashboard: bool,
    /// Epoch length, e.g. 30s.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    epoch_length: Duration,
    /// Commit and reveal windows, e.g. 4s.
    #[arg(long, default_value = "4s", value_parser = parse_duration)]
    reveal_window: Duration,
    /// PIN minted per epoch.
    #[arg(long, default_value = "1000")]
    emission: Pin,
    /// Bootstrapping phase: 1, 2 or 3.
    #[arg(long, default_value = "2")]
    phase: Phase,
    /// Seed of the synthetic stream.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Continue the devnet in the data dir (its chain, deployment, training run, validator and
    /// gateway stores) instead of starting a fresh one, e.g. after a crash; the chain's epoch
    /// length, windows and emission and the first run's seed stay as they were.
    #[arg(long)]
    resume: bool,
}

pub(crate) async fn devnet(args: DevnetArgs, ctx: &Context) -> Result<Output> {
    let mut config = DevnetConfig::new(ctx.data_dir().join("devnet"));
    config.rpc_url = ctx.rpc_url().map(str::to_string);
    config.dashboard = (!args.no_dashboard).then_some(args.dashboard);
    config.epoch_length = args.epoch_length.as_secs().max(1);
    config.reveal_window = args.reveal_window.as_secs().max(1);
    config.emission_per_epoch = args.emission;
    config.phase = args.phase;
    config.seed = args.seed;
    config.resume = args.resume;
    let mut say = |line: String| eprintln!("{line}");
    let net = launch(config, &mut say).await?;
    if let Some(url) = &net.dashboard_url {
        eprintln!("dashboard: {url}");
    }
    eprintln!(
        "running{} (Ctrl-C to stop)",
        args.epochs
            .map(|n| format!(" until {n} epochs are final"))
            .unwrap_or_default()
    );
    let stop = until_stopped();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => break,
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
        for line in net.tick().await {
            eprintln!("{line}");
        }
        if let Some(n) = args.epochs
            && net.finalised().await? >= n
        {
            break;
        }
    }
    let state = net.state.read().await.clone();
    net.stop().await;
    let mut human = String::from(
        "\nminer        strategy     answered  mean Q   TWF   PIN earned  PIN claimed\n",
    );
    for m in &state.miners {
        human.push_str(&format!(
            "{:<12} {:<12} {:>8} {:>7.3} {:>5.2} {:>11.2} {:>12.2}\n",
            m.label,
            m.strategy,
            m.answered,
            m.mean_q,
            m.twf,
            whole(m.earned),
            whole(m.claimed)
        ));
    }
    human.push_str("\nvalidator     PIN stake    trust  dividends  PIN earned\n");
    for v in &state.validators {
        human.push_str(&format!(
            "{:<12} {:>10.0} {:>8.3} {:>10.3} {:>11.2}\n",
            v.label,
            whole(v.stake),
            v.trust,
            v.dividends,
            whole(v.earned)
        ));
    }
    human.push_str(&format!(
        "\n{} settlements published; intents: {} submitted, {} settled",
        state.settlements_total, state.intents.submitted, state.intents.settled
    ));
    Ok(Output::new(human, serde_json::to_value(&state)?))
}

/// PIN as a float, for tables only (amounts on the wire and in JSON stay exact wei).
#[allow(clippy::cast_precision_loss)]
fn whole(p: Pin) -> f64 {
    u128::try_from(p.wei()).map_or(f64::INFINITY, |w| w as f64 / 1e18)
}
