//! `pin dev …`: development chain controls.

use anyhow::Result;
use clap::Subcommand;
use pin_chain::{Ledger, dev_accounts};
use serde_json::json;

use crate::cmd::parse_duration;
use crate::context::Context;
use crate::output::Output;

/// `pin dev …`.
#[derive(Debug, Subcommand)]
pub(crate) enum DevCommand {
    /// Move the chain's clock forward (embedded chain or anvil), e.g. `8d`.
    AdvanceTime {
        /// How far: 8d, 12h, 90s, or seconds.
        #[arg(value_parser = parse_duration)]
        duration: std::time::Duration,
    },
    /// List the dev accounts (anvil's default mnemonic).
    Accounts,
    /// Measure the gas of stake, join, attest and claims on a fresh in-memory chain.
    GasReport,
}

pub(crate) async fn run(command: DevCommand, ctx: &Context) -> Result<Output> {
    match command {
        DevCommand::AdvanceTime { duration } => {
            let ledger = ctx.ledger().await?;
            let before = ledger.timestamp().await?;
            ledger.advance_time(duration.as_secs()).await?;
            let after = ledger.timestamp().await?;
            Ok(Output::new(
                format!(
                    "chain time {before} → {after} (+{})",
                    humantime::format_duration(duration)
                ),
                json!({ "before": before, "after": after, "advanced": duration.as_secs() }),
            ))
        }
        DevCommand::GasReport => crate::cmd::gas::run().await,
        DevCommand::Accounts => {
            let accounts = dev_accounts();
            let human: Vec<String> = accounts
                .iter()
                .enumerate()
                .map(|(i, (a, _))| format!("dev:{i}  {a}"))
                .collect();
            Ok(Output::new(
                human.join("\n"),
                json!(
                    accounts
                        .iter()
                        .enumerate()
                        .map(|(i, (a, _))| json!({ "name": format!("dev:{i}"), "address": a }))
                        .collect::<Vec<_>>()
                ),
            ))
        }
    }
}
