//! `pin mint`, `transfer`, `grant`, `revoke`.

use anyhow::Result;
use clap::Args;
use pin_chain::{Pin, Role};
use serde_json::json;

use crate::accounts;
use crate::context::Context;
use crate::output::Output;

/// `pin mint <to> <amount>`.
#[derive(Debug, Args)]
pub(crate) struct Mint {
    /// Recipient: dev:N or an address.
    to: String,
    /// Amount in PIN (e.g. 20000 or 0.5).
    amount: Pin,
}

/// `pin transfer <to> <amount>`.
#[derive(Debug, Args)]
pub(crate) struct Transfer {
    /// Recipient: dev:N or an address.
    to: String,
    /// Amount in PIN.
    amount: Pin,
}

/// `pin grant|revoke <role> <account>`.
#[derive(Debug, Args)]
pub(crate) struct Grant {
    /// admin, minter, whitelister, slasher, validator or trainer.
    role: Role,
    /// The account: dev:N or an address.
    account: String,
}

pub(crate) async fn mint(args: Mint, ctx: &Context) -> Result<Output> {
    let to = accounts::account(&args.to)?;
    let protocol = ctx.protocol().await?;
    let receipt = protocol.mint(&ctx.signer()?, to, args.amount).await?;
    let balance = protocol.balance(to).await?;
    Ok(Output::new(
        format!("minted {} to {to} (balance {balance})", args.amount),
        json!({ "to": to, "amount": args.amount, "balance": balance, "tx": receipt.tx_hash }),
    ))
}

pub(crate) async fn transfer(args: Transfer, ctx: &Context) -> Result<Output> {
    let to = accounts::account(&args.to)?;
    let protocol = ctx.protocol().await?;
    let receipt = protocol.transfer(&ctx.signer()?, to, args.amount).await?;
    Ok(Output::new(
        format!("transferred {} to {to}", args.amount),
        json!({ "to": to, "amount": args.amount, "tx": receipt.tx_hash }),
    ))
}

pub(crate) async fn grant(args: Grant, ctx: &Context, grant: bool) -> Result<Output> {
    let account = accounts::account(&args.account)?;
    let protocol = ctx.protocol().await?;
    let signer = ctx.signer()?;
    let receipts = if grant {
        protocol.grant(&signer, args.role, account).await?
    } else {
        protocol.revoke(&signer, args.role, account).await?
    };
    let verb = if grant { "granted" } else { "revoked" };
    Ok(Output::new(
        format!(
            "{verb} {} {} {account}",
            args.role,
            if grant { "to" } else { "from" }
        ),
        json!({ "role": args.role, "account": account, verb: true,
                "txs": receipts.iter().map(|r| r.tx_hash).collect::<Vec<_>>() }),
    ))
}
