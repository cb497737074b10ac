//! The subcommands.

mod deploy;
mod dev;
mod gas;
mod network;
mod sim;
mod staking;
mod status;
mod token;
mod training;

use std::time::Duration;

use anyhow::{Result, anyhow};
use clap::Subcommand;

use crate::context::Context;
use crate::output::Output;

/// Everything `pin` does.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Deploy the token, staking and training contracts (the signer becomes admin).
    Deploy(deploy::Deploy),
    /// Mint PIN to an account (minter role).
    Mint(token::Mint),
    /// Transfer PIN from the signer to an account.
    Transfer(token::Transfer),
    /// Grant a role: admin, minter, whitelister, slasher, validator or trainer.
    Grant(token::Grant),
    /// Revoke a role.
    Revoke(token::Grant),
    /// Add a compute node to the whitelist (whitelister role).
    Whitelist(staking::Whitelist),
    /// Remove a compute node from the whitelist (whitelister role).
    Unwhitelist(staking::Whitelist),
    /// Stake PIN from the signer's wallet.
    Stake(staking::Amount),
    /// Start unbonding part of the signer's stake.
    Unstake(staking::Amount),
    /// Withdraw stake whose unbonding period has passed.
    Withdraw,
    /// Slash a node's stake (slasher role).
    Slash(staking::Slash),
    /// Models: register one with its first training run.
    #[command(subcommand)]
    Model(training::ModelCommand),
    /// Training runs: create, start, join, attest, end, show, reclaim.
    #[command(subcommand)]
    Run(training::RunCommand),
    /// Invalidate an attestation during a run's challenge window and slash its node (validator role).
    Challenge(training::Challenge),
    /// Claim the signer's rewards (every claimable run, or the runs given).
    Claim(training::Claim),
    /// Balance, stake, roles and runs of an account (default: the signer).
    Status(status::Who),
    /// PIN balance of an account (default: the signer).
    Balance(status::Who),
    /// Supply, stake and escrow totals of the deployment.
    Totals,
    /// Development chain controls and reports.
    #[command(subcommand)]
    Dev(dev::DevCommand),
    /// Simulate NASH epochs in process: validators, miners with different strategies,
    /// verification, scoring, Yuma consensus and the emission root.
    Sim(sim::Sim),
    /// Run the whole network on this machine: chain, validators, miners, gateway, trainer
    /// and a dashboard at http://127.0.0.1:8080.
    Devnet(network::DevnetArgs),
    /// Run a validator (the signer must hold validator stake).
    Validator(network::ValidatorArgs),
    /// Run a miner (the signer must be a whitelisted, staked compute node).
    Miner(network::MinerArgs),
    /// Run the intent gateway.
    Gateway(network::GatewayArgs),
    /// Submit or look up trade intents at a gateway.
    #[command(subcommand)]
    Intent(network::IntentCommand),
    /// Epoch emissions: status, and claims with a validator's proof.
    #[command(subcommand)]
    Emission(network::EmissionCommand),
}

pub(crate) async fn run(command: Command, ctx: &Context) -> Result<Output> {
    match command {
        Command::Deploy(args) => deploy::run(args, ctx).await,
        Command::Mint(args) => token::mint(args, ctx).await,
        Command::Transfer(args) => token::transfer(args, ctx).await,
        Command::Grant(args) => token::grant(args, ctx, true).await,
        Command::Revoke(args) => token::grant(args, ctx, false).await,
        Command::Whitelist(args) => staking::whitelist(args, ctx, true).await,
        Command::Unwhitelist(args) => staking::whitelist(args, ctx, false).await,
        Command::Stake(args) => staking::stake(args, ctx).await,
        Command::Unstake(args) => staking::unstake(args, ctx).await,
        Command::Withdraw => staking::withdraw(ctx).await,
        Command::Slash(args) => staking::slash(args, ctx).await,
        Command::Model(command) => training::model(command, ctx).await,
        Command::Run(command) => training::run(command, ctx).await,
        Command::Challenge(args) => training::challenge(args, ctx).await,
        Command::Claim(args) => training::claim(args, ctx).await,
        Command::Status(args) => status::status(args, ctx).await,
        Command::Balance(args) => status::balance(args, ctx).await,
        Command::Totals => status::totals(ctx).await,
        Command::Dev(command) => dev::run(command, ctx).await,
        Command::Sim(args) => sim::run(args),
        Command::Devnet(args) => network::devnet(args, ctx).await,
        Command::Validator(args) => network::validator(args, ctx).await,
        Command::Miner(args) => network::miner(args, ctx).await,
        Command::Gateway(args) => network::gateway(args, ctx).await,
        Command::Intent(command) => network::intent(command, ctx).await,
        Command::Emission(command) => network::emission(command, ctx).await,
    }
}

/// Parses a duration such as `8d`, `12h`, `90s` or `1w 2d`; a bare number is seconds.
pub(crate) fn parse_duration(text: &str) -> Result<Duration> {
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    humantime::parse_duration(text)
        .map_err(|e| anyhow!("{text:?} is not a duration (e.g. 8d, 12h, 90s): {e}"))
}
