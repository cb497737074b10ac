//! `pin deploy`.

use anyhow::{Result, bail};
use clap::Args;
use pin_chain::{DeployParams, Pin, Protocol};
use serde_json::json;

use crate::cmd::parse_duration;
use crate::context::Context;
use crate::output::Output;

/// Deployment parameters (defaults from DESIGN.md).
#[derive(Debug, Args)]
pub(crate) struct Deploy {
    /// Minimum active stake of a compute node, in PIN.
    #[arg(long, default_value = "10000")]
    minimum_stake: Pin,
    /// Unbonding period, e.g. 7d.
    #[arg(long, default_value = "7d", value_parser = parse_duration)]
    unbonding_period: std::time::Duration,
    /// Challenge window after a run ends, e.g. 7d.
    #[arg(long, default_value = "7d", value_parser = parse_duration)]
    challenge_window: std::time::Duration,
    /// Maximum PIN supply.
    #[arg(long, default_value = "1000000000")]
    supply_cap: Pin,
    /// Length of an emission epoch, e.g. 1d or 30s.
    #[arg(long, default_value = "1d", value_parser = parse_duration)]
    epoch_length: std::time::Duration,
    /// PIN minted per epoch when its root finalises.
    #[arg(long, default_value = "100000")]
    emission_per_epoch: Pin,
    /// Window after an epoch for committing weights, and again for revealing them, e.g. 1h.
    #[arg(long, default_value = "1h", value_parser = parse_duration)]
    reveal_window: std::time::Duration,
    /// Deploy again even if this data dir already records a deployment on this chain.
    #[arg(long)]
    force: bool,
}

pub(crate) async fn run(args: Deploy, ctx: &Context) -> Result<Output> {
    let signer = ctx.signer()?;
    let ledger = ctx.ledger().await?;
    let path = ctx.deployment_path(&ledger).await?;
    if path.exists() && !args.force {
        bail!(
            "{} already records a deployment; use a fresh --data-dir or --force",
            path.display()
        );
    }
    let params = DeployParams {
        supply_cap: args.supply_cap,
        minimum_stake: args.minimum_stake,
        unbonding_period: args.unbonding_period.as_secs(),
        challenge_window: args.challenge_window.as_secs(),
        epoch_length: args.epoch_length.as_secs(),
        emission_per_epoch: args.emission_per_epoch,
        reveal_window: args.reveal_window.as_secs(),
    };
    if params.epoch_length == 0 || params.reveal_window == 0 {
        bail!("--epoch-length and --reveal-window must be at least one second");
    }
    let protocol = Protocol::deploy(ledger, &signer, &params).await?;
    let d = protocol.deployment();
    d.save(&path)?;
    let human = format!(
        "deployed on chain {} (admin {})\n  token       {}\n  staking     {}\n  training    {}\n  settlements {}\n  emissions   {}",
        d.chain_id, d.admin, d.token, d.staking, d.training, d.settlements, d.emissions
    );
    Ok(Output::new(
        human,
        json!({ "deployment": d, "params": params, "record": path }),
    ))
}
