//! `pin whitelist`, `unwhitelist`, `stake`, `unstake`, `withdraw`, `slash`.

use anyhow::Result;
use clap::Args;
use pin_chain::Pin;
use serde_json::json;

use crate::accounts;
use crate::context::Context;
use crate::output::Output;

/// A compute node argument.
#[derive(Debug, Args)]
pub(crate) struct Whitelist {
    /// The node: dev:N or an address.
    node: String,
}

/// An amount of PIN.
#[derive(Debug, Args)]
pub(crate) struct Amount {
    /// Amount in PIN (e.g. 10000 or 0.5).
    amount: Pin,
}

/// `pin slash <node> <amount> --evidence <hash>`.
#[derive(Debug, Args)]
pub(crate) struct Slash {
    /// The node: dev:N or an address.
    node: String,
    /// Amount in PIN, at most the node's active plus unbonding stake.
    amount: Pin,
    /// 32-byte hash of the evidence, recorded in the Slashed event.
    #[arg(long)]
    evidence: String,
}

pub(crate) async fn whitelist(args: Whitelist, ctx: &Context, add: bool) -> Result<Output> {
    let node = accounts::account(&args.node)?;
    let protocol = ctx.protocol().await?;
    let signer = ctx.signer()?;
    let receipt = if add {
        protocol.whitelist(&signer, node).await?
    } else {
        protocol.remove_from_whitelist(&signer, node).await?
    };
    let what = if add { "added to" } else { "removed from" };
    Ok(Output::new(
        format!("{node} {what} the whitelist"),
        json!({ "node": node, "whitelisted": add, "tx": receipt.tx_hash }),
    ))
}

pub(crate) async fn stake(args: Amount, ctx: &Context) -> Result<Output> {
    let protocol = ctx.protocol().await?;
    let signer = ctx.signer()?;
    let receipt = protocol.stake(&signer, args.amount).await?;
    let status = protocol.account(signer.address()).await?;
    Ok(Output::new(
        format!(
            "staked {}; active stake {}, balance {}",
            args.amount, status.stake, status.balance
        ),
        json!({ "node": signer.address(), "amount": args.amount, "stake": status.stake, "balance": status.balance,
                "gas_used": receipt.gas_used, "tx": receipt.tx_hash }),
    ))
}

pub(crate) async fn unstake(args: Amount, ctx: &Context) -> Result<Output> {
    let protocol = ctx.protocol().await?;
    let signer = ctx.signer()?;
    let receipt = protocol.unstake(&signer, args.amount).await?;
    let status = protocol.account(signer.address()).await?;
    Ok(Output::new(
        format!(
            "unbonding {}; withdrawable at unix time {} (active stake {})",
            status.unbonding, status.unbonding_release_at, status.stake
        ),
        json!({ "node": signer.address(), "amount": args.amount, "stake": status.stake, "unbonding": status.unbonding,
                "release_at": status.unbonding_release_at, "tx": receipt.tx_hash }),
    ))
}

pub(crate) async fn withdraw(ctx: &Context) -> Result<Output> {
    let protocol = ctx.protocol().await?;
    let signer = ctx.signer()?;
    let (amount, receipt) = protocol.withdraw(&signer).await?;
    Ok(Output::new(
        format!("withdrew {amount}"),
        json!({ "node": signer.address(), "amount": amount, "tx": receipt.tx_hash }),
    ))
}

pub(crate) async fn slash(args: Slash, ctx: &Context) -> Result<Output> {
    let node = accounts::account(&args.node)?;
    let evidence = accounts::digest(&args.evidence)?;
    let protocol = ctx.protocol().await?;
    let receipt = protocol
        .slash(&ctx.signer()?, node, args.amount, evidence)
        .await?;
    let status = protocol.account(node).await?;
    Ok(Output::new(
        format!(
            "slashed {} from {node}; stake now {}",
            args.amount, status.stake
        ),
        json!({ "node": node, "amount": args.amount, "stake": status.stake, "unbonding": status.unbonding,
                "evidence": evidence, "tx": receipt.tx_hash }),
    ))
}
