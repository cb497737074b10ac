//! `pin dev gas-report`: gas of the protocol's hot paths, measured on a fresh in-memory chain.

use alloy::primitives::B256;
use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context as _, Result};
use pin_chain::{DeployParams, EmbeddedLedger, Ledger, Pin, Protocol, Role, RunId, dev_accounts};
use serde_json::json;

use crate::output::Output;

/// Gas the PoC's `testClaimMultipleRuns` used as a whole (forge report in the PoC's README).
const POC_MULTI_RUN_TEST_GAS: u64 = 2_510_203;

fn signer(index: usize) -> Result<PrivateKeySigner> {
    let (_, key) = dev_accounts()[index];
    PrivateKeySigner::from_bytes(&key).context("dev key")
}

fn digest(run: u64, i: u64) -> B256 {
    B256::from(alloy::primitives::U256::from((run << 32) | i))
}

pub(crate) async fn run() -> Result<Output> {
    let admin = signer(0)?;
    let node = signer(1)?;
    let trainer = signer(2)?;
    let protocol = Protocol::deploy(
        EmbeddedLedger::in_memory()?,
        &admin,
        &DeployParams::default(),
    )
    .await?;
    protocol.whitelist(&admin, node.address()).await?;
    protocol
        .mint(&admin, node.address(), Pin::whole(20_000))
        .await?;
    protocol
        .grant(&admin, Role::Trainer, trainer.address())
        .await?;
    protocol
        .mint(&admin, trainer.address(), Pin::whole(6_000))
        .await?;

    let stake = protocol.stake(&node, Pin::whole(10_000)).await?.gas_used;

    // The PoC's multi-run scenario: three runs with 10, 5 and 8 attestations by one node.
    let (model, first) = protocol
        .register_model(&trainer, "tiny-llm", Pin::whole(1_000))
        .await?;
    let mut runs = vec![first];
    for _ in 0..2 {
        runs.push(
            protocol
                .create_run(&trainer, model, Pin::whole(1_000))
                .await?,
        );
    }
    let mut attest = Vec::new();
    let mut join = 0;
    for (run, count) in runs.iter().zip([10u64, 5, 8]) {
        protocol.start_run(&trainer, *run).await?;
        join = protocol
            .join_run(&node, *run, "127.0.0.1:9001")
            .await?
            .gas_used;
        for i in 0..count {
            attest.push(
                protocol
                    .attest(&node, *run, digest(run.0, i))
                    .await?
                    .gas_used,
            );
        }
        protocol.end_run(&trainer, *run).await?;
    }
    protocol.ledger().advance_time(8 * 24 * 3600).await?;
    let claim_one = protocol
        .claim(&node, Some(vec![runs[0]]))
        .await?
        .receipt
        .gas_used;
    let claim_rest = protocol.claim(&node, Some(vec![runs[1], runs[2]])).await?;

    // And the three runs in one call, on a second node that did the same work.
    let three = three_run_claim(&protocol, &admin, &trainer, model).await?;
    let attest_mean = attest.iter().sum::<u64>() / attest.len() as u64;

    let rows = [
        ("stake (with permit)", stake),
        ("join run", join),
        ("attest (mean of 23)", attest_mean),
        ("claim 1 run", claim_one),
        ("claim 2 runs", claim_rest.receipt.gas_used),
        (
            "claim 3 runs (PoC scenario: 10 + 5 + 8 attestations)",
            three,
        ),
    ];
    let mut human = String::from("operation                                              gas\n");
    for (name, gas) in rows {
        human.push_str(&format!("{name:<52} {gas:>8}\n"));
    }
    human.push_str(&format!(
        "the PoC's whole multi-run test used {POC_MULTI_RUN_TEST_GAS} gas; our 3-run claim is {:.1}% of it",
        100.0 * three as f64 / POC_MULTI_RUN_TEST_GAS as f64
    ));
    let table: Vec<_> = rows
        .iter()
        .map(|(name, gas)| json!({ "operation": name, "gas": gas }))
        .collect();
    Ok(Output::new(
        human,
        json!({ "gas": table, "poc_multi_run_test_gas": POC_MULTI_RUN_TEST_GAS }),
    ))
}

async fn three_run_claim(
    protocol: &Protocol<EmbeddedLedger>,
    admin: &PrivateKeySigner,
    trainer: &PrivateKeySigner,
    model: pin_chain::ModelId,
) -> Result<u64> {
    let node = signer(3)?;
    protocol.whitelist(admin, node.address()).await?;
    protocol
        .mint(admin, node.address(), Pin::whole(20_000))
        .await?;
    protocol.stake(&node, Pin::whole(10_000)).await?;
    let mut runs: Vec<RunId> = Vec::new();
    for count in [10u64, 5, 8] {
        let run = protocol
            .create_run(trainer, model, Pin::whole(1_000))
            .await?;
        protocol.start_run(trainer, run).await?;
        protocol.join_run(&node, run, "127.0.0.1:9002").await?;
        for i in 0..count {
            protocol.attest(&node, run, digest(run.0, i)).await?;
        }
        protocol.end_run(trainer, run).await?;
        runs.push(run);
    }
    protocol.ledger().advance_time(8 * 24 * 3600).await?;
    let claimed = protocol.claim(&node, Some(runs)).await?;
    Ok(claimed.receipt.gas_used)
}
