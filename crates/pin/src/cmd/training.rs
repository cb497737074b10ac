//! `pin model`, `pin run …`, `challenge`, `claim`.

use anyhow::Result;
use clap::{Args, Subcommand};
use pin_chain::{ModelId, Pin, RunId};
use serde_json::json;

use crate::accounts;
use crate::context::Context;
use crate::output::Output;

/// `pin model …`.
#[derive(Debug, Subcommand)]
pub(crate) enum ModelCommand {
    /// Register a model and its first training run, escrowing the budget (trainer role).
    /// Prints the run id.
    Register {
        /// Model name, 1 to 64 bytes.
        name: String,
        /// Budget of the run, in PIN, taken from the signer's wallet.
        #[arg(long)]
        budget: Pin,
    },
}

/// `pin run …`.
#[derive(Debug, Subcommand)]
pub(crate) enum RunCommand {
    /// Register another run of one of the signer's models, escrowing the budget.
    Create {
        /// The model id.
        model: u64,
        /// Budget in PIN.
        #[arg(long)]
        budget: Pin,
    },
    /// Start a run (its trainer).
    Start {
        /// The run id.
        run: u64,
    },
    /// Join a run as the signer (whitelisted, staked).
    Join {
        /// The run id.
        run: u64,
        /// Where the trainer reaches this node, e.g. 127.0.0.1:9001.
        #[arg(long)]
        endpoint: String,
    },
    /// Leave a run before attesting anything (releases the stake lock of the join).
    Leave {
        /// The run id.
        run: u64,
    },
    /// Attest a 32-byte digest of the signer's work in a running run.
    Attest {
        /// The run id.
        run: u64,
        /// The digest, 0x followed by 64 hex digits.
        digest: String,
    },
    /// End a run and open its challenge window (its trainer).
    End {
        /// The run id.
        run: u64,
    },
    /// Take back the budget of a finished run nobody earned (its trainer).
    Reclaim {
        /// The run id.
        run: u64,
    },
    /// Show a run.
    Show {
        /// The run id.
        run: u64,
    },
}

/// `pin challenge <run> <digest>`.
#[derive(Debug, Args)]
pub(crate) struct Challenge {
    /// The run id.
    run: u64,
    /// The attestation's digest.
    digest: String,
    /// Stake to slash from the attesting node, in PIN.
    #[arg(long, default_value = "0")]
    slash: Pin,
    /// 32-byte hash of the evidence (default: the digest itself).
    #[arg(long)]
    evidence: Option<String>,
}

/// `pin claim [runs…]`.
#[derive(Debug, Args)]
pub(crate) struct Claim {
    /// Runs to claim; none: every run the signer can claim.
    runs: Vec<u64>,
}

pub(crate) async fn model(command: ModelCommand, ctx: &Context) -> Result<Output> {
    let ModelCommand::Register { name, budget } = command;
    let protocol = ctx.protocol().await?;
    let (model, run) = protocol
        .register_model(&ctx.signer()?, &name, budget)
        .await?;
    Ok(Output::new(
        format!("{run}\nregistered model {model} {name:?}; run {run} with {budget} escrowed"),
        json!({ "model_id": model, "run_id": run, "name": name, "budget": budget }),
    ))
}

pub(crate) async fn run(command: RunCommand, ctx: &Context) -> Result<Output> {
    let protocol = ctx.protocol().await?;
    let signer = ctx.signer()?;
    Ok(match command {
        RunCommand::Create { model, budget } => {
            let run = protocol.create_run(&signer, ModelId(model), budget).await?;
            Output::new(
                format!("{run}\nrun {run} of model {model} with {budget} escrowed"),
                json!({ "run_id": run, "model_id": model, "budget": budget }),
            )
        }
        RunCommand::Start { run } => {
            let receipt = protocol.start_run(&signer, RunId(run)).await?;
            Output::new(
                format!("run {run} started"),
                json!({ "run_id": run, "status": "running", "tx": receipt.tx_hash }),
            )
        }
        RunCommand::Join { run, endpoint } => {
            let receipt = protocol.join_run(&signer, RunId(run), &endpoint).await?;
            Output::new(
                format!("{} joined run {run} at {endpoint}", signer.address()),
                json!({ "run_id": run, "node": signer.address(), "endpoint": endpoint, "tx": receipt.tx_hash }),
            )
        }
        RunCommand::Leave { run } => {
            let receipt = protocol.leave_run(&signer, RunId(run)).await?;
            Output::new(
                format!("{} left run {run}", signer.address()),
                json!({ "run_id": run, "node": signer.address(), "tx": receipt.tx_hash }),
            )
        }
        RunCommand::Attest { run, digest } => {
            let digest = accounts::digest(&digest)?;
            let receipt = protocol.attest(&signer, RunId(run), digest).await?;
            let part = protocol.participation(RunId(run), signer.address()).await?;
            Output::new(
                format!(
                    "attested {digest} in run {run} ({} valid attestations)",
                    part.attestations
                ),
                json!({ "run_id": run, "digest": digest, "attestations": part.attestations, "gas_used": receipt.gas_used, "tx": receipt.tx_hash }),
            )
        }
        RunCommand::End { run } => {
            let deadline = protocol.end_run(&signer, RunId(run)).await?;
            Output::new(
                format!("run {run} ended; challenge window closes at unix time {deadline}"),
                json!({ "run_id": run, "status": "done", "claimable_at": deadline }),
            )
        }
        RunCommand::Reclaim { run } => {
            let info = protocol.run(RunId(run)).await?;
            let receipt = protocol.reclaim(&signer, RunId(run)).await?;
            Output::new(
                format!("reclaimed {} from run {run}", info.budget),
                json!({ "run_id": run, "amount": info.budget, "tx": receipt.tx_hash }),
            )
        }
        RunCommand::Show { run } => {
            let info = protocol.run(RunId(run)).await?;
            Output::new(
                format!(
                    "run {}: model {} {:?}, trainer {}, {:?}, budget {}, {} valid attestations, claimable at {}",
                    info.id,
                    info.model_id,
                    info.model_name,
                    info.trainer,
                    info.status,
                    info.budget,
                    info.valid_attestations,
                    info.claimable_at
                ),
                json!(info),
            )
        }
    })
}

pub(crate) async fn challenge(args: Challenge, ctx: &Context) -> Result<Output> {
    let digest = accounts::digest(&args.digest)?;
    let evidence = match &args.evidence {
        Some(e) => accounts::digest(e)?,
        None => digest,
    };
    let protocol = ctx.protocol().await?;
    let receipt = protocol
        .challenge(
            &ctx.signer()?,
            RunId(args.run),
            digest,
            args.slash,
            evidence,
        )
        .await?;
    Ok(Output::new(
        format!(
            "invalidated {digest} in run {}; slashed {}",
            args.run, args.slash
        ),
        json!({ "run_id": args.run, "digest": digest, "slashed": args.slash, "evidence": evidence, "tx": receipt.tx_hash }),
    ))
}

pub(crate) async fn claim(args: Claim, ctx: &Context) -> Result<Output> {
    let protocol = ctx.protocol().await?;
    let signer = ctx.signer()?;
    let runs = if args.runs.is_empty() {
        None
    } else {
        Some(args.runs.into_iter().map(RunId).collect())
    };
    let claimed = protocol.claim(&signer, runs).await?;
    let balance = protocol.balance(signer.address()).await?;
    let per_run: Vec<String> = claimed
        .runs
        .iter()
        .map(|(run, amount)| format!("run {run}: {amount}"))
        .collect();
    Ok(Output::new(
        format!(
            "claimed {} ({}); balance {balance}",
            claimed.total,
            per_run.join(", ")
        ),
        json!({ "node": signer.address(), "total": claimed.total,
                "runs": claimed.runs.iter().map(|(r, a)| json!({ "run_id": r, "amount": a })).collect::<Vec<_>>(),
                "balance": balance, "gas_used": claimed.receipt.gas_used, "tx": claimed.receipt.tx_hash }),
    ))
}
