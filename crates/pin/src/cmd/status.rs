//! `pin status`, `balance`, `totals`.

use anyhow::Result;
use clap::Args;
use serde_json::json;

use crate::accounts;
use crate::context::Context;
use crate::output::Output;

/// An optional account argument.
#[derive(Debug, Args)]
pub(crate) struct Who {
    /// dev:N or an address (default: the signer).
    account: Option<String>,
}

impl Who {
    fn resolve(&self, ctx: &Context) -> Result<alloy::primitives::Address> {
        match &self.account {
            Some(a) => accounts::account(a),
            None => Ok(ctx.signer()?.address()),
        }
    }
}

pub(crate) async fn status(who: Who, ctx: &Context) -> Result<Output> {
    let account = who.resolve(ctx)?;
    let protocol = ctx.protocol().await?;
    let s = protocol.account(account).await?;
    let roles: Vec<String> = s.roles.iter().map(ToString::to_string).collect();
    let runs: Vec<String> = s.runs.iter().map(ToString::to_string).collect();
    let human = format!(
        "{}\n  balance    {}\n  stake      {}\n  unbonding  {}{}\n  whitelisted {}, eligible {}\n  roles      {}\n  runs       {} ({} open: stake cannot be withdrawn until they are claimed)",
        s.address,
        s.balance,
        s.stake,
        s.unbonding,
        if s.unbonding_release_at > 0 {
            format!(" (withdrawable at unix time {})", s.unbonding_release_at)
        } else {
            String::new()
        },
        s.whitelisted,
        s.eligible,
        if roles.is_empty() {
            "-".into()
        } else {
            roles.join(", ")
        },
        if runs.is_empty() {
            "-".into()
        } else {
            runs.join(", ")
        },
        s.open_runs,
    );
    Ok(Output::new(human, json!(s)))
}

pub(crate) async fn balance(who: Who, ctx: &Context) -> Result<Output> {
    let account = who.resolve(ctx)?;
    let protocol = ctx.protocol().await?;
    let balance = protocol.balance(account).await?;
    Ok(Output::new(
        balance.to_string(),
        json!({ "account": account, "balance": balance }),
    ))
}

pub(crate) async fn totals(ctx: &Context) -> Result<Output> {
    let protocol = ctx.protocol().await?;
    let t = protocol.totals().await?;
    let human = format!(
        "minted {} = supply {} + burned {}\nstaking holds {} for {} staked\ntraining holds {} for {} escrowed",
        t.minted, t.supply, t.burned, t.staking_balance, t.staked, t.training_balance, t.escrowed
    );
    Ok(Output::new(human, json!(t)))
}
