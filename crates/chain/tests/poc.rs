//! The PoC's nine forge test scenarios, by their original names, re-created against our
//! contracts on the embedded revm chain through the typed client: whitelisting, staking (with
//! unbonding), model registration with an escrowed budget, joining, attesting, ending, and
//! claiming several runs in one transaction. Balances are asserted exactly in wei, and the
//! multi-run claim (2,510,203 gas for the PoC's whole test) must stay under 100,000 gas.
#![allow(non_snake_case)]

mod common;

use alloy::primitives::U256;
use common::{WEEK, digest, expect_revert, pin, setup, wei};
use pin_chain::{Ledger as _, Pin, RunId, RunStatus};

/// Whitelist, stake, register a model, start, join, attest, end, wait out the window, claim.
#[tokio::test]
async fn testE2EBaseCase() {
    let env = setup().await;
    let node = &env.nodes[0];
    env.p
        .whitelist(&env.admin, node.address())
        .await
        .expect("whitelist");
    env.fund(node.address(), pin(15_000)).await;
    env.p.stake(node, pin(10_000)).await.expect("stake");

    env.fund(env.trainer.address(), pin(1_000)).await;
    let (model, run) = env
        .p
        .register_model(&env.trainer, "e2e-model", pin(1_000))
        .await
        .expect("register model");
    assert_eq!((model.0, run.0), (1, 1));
    env.p.start_run(&env.trainer, run).await.expect("start run");
    env.p
        .join_run(node, run, "http://node-0:8080")
        .await
        .expect("join");
    env.attest_n(node, run, "e2e", 3).await;
    let closes = env.p.end_run(&env.trainer, run).await.expect("end run");
    let info = env.p.run(run).await.expect("run");
    assert_eq!(info.status, RunStatus::Done);
    assert_eq!(info.valid_attestations, 3);
    assert_eq!(info.claimable_at, closes);

    env.p
        .ledger()
        .advance_time(WEEK + 1)
        .await
        .expect("advance");
    let claimed = env.p.claim(node, Some(vec![run])).await.expect("claim");
    assert_eq!(claimed.total.wei(), wei(1_000));
    assert_eq!(claimed.runs, vec![(run, pin(1_000))]);

    // The node has its unstaked 5,000 plus the whole budget; the stake is untouched.
    let account = env.p.account(node.address()).await.expect("account");
    assert_eq!(account.balance.wei(), wei(6_000));
    assert_eq!(account.stake.wei(), wei(10_000));
    assert_eq!(
        env.p
            .balance(env.trainer.address())
            .await
            .expect("balance")
            .wei(),
        U256::ZERO
    );
    let totals = env.p.totals().await.expect("totals");
    assert_eq!(totals.minted.wei(), wei(16_000));
    assert_eq!(totals.supply.wei(), wei(16_000));
    assert_eq!(totals.escrowed.wei(), U256::ZERO);
    assert_eq!(totals.training_balance.wei(), U256::ZERO);
    assert_eq!(totals.staked.wei(), wei(10_000));
    assert_eq!(totals.staking_balance.wei(), wei(10_000));
}

/// Several stakes by one node add up, and stakes of several nodes add up in the contract.
#[tokio::test]
async fn testMultipleStakes() {
    let env = setup().await;
    let a = env.staked_node(0, pin(50_000), pin(10_000)).await;
    env.p.stake(a, pin(5_000)).await.expect("second stake");
    env.p
        .stake(
            a,
            Pin::from_wei(
                U256::from(2_500u64) * U256::from(10u64).pow(U256::from(18u64)) + U256::from(7u64),
            ),
        )
        .await
        .expect("third stake");
    let b = env.staked_node(1, pin(20_000), pin(20_000)).await;

    let a_status = env.p.account(a.address()).await.expect("account a");
    let a_staked = wei(17_500) + U256::from(7u64);
    assert_eq!(a_status.stake.wei(), a_staked);
    assert_eq!(a_status.balance.wei(), wei(50_000) - a_staked);
    assert!(a_status.eligible);
    let b_status = env.p.account(b.address()).await.expect("account b");
    assert_eq!(b_status.stake.wei(), wei(20_000));
    assert_eq!(b_status.balance.wei(), U256::ZERO);

    let totals = env.p.totals().await.expect("totals");
    assert_eq!(totals.staked.wei(), a_staked + wei(20_000));
    assert_eq!(totals.staking_balance.wei(), a_staked + wei(20_000));
}

/// One stake: the tokens move to the staking contract and the node becomes eligible.
#[tokio::test]
async fn test_stake() {
    let env = setup().await;
    let node = &env.nodes[0];
    env.p
        .whitelist(&env.admin, node.address())
        .await
        .expect("whitelist");
    env.fund(node.address(), pin(12_000)).await;
    let before = env.p.account(node.address()).await.expect("account");
    assert!(!before.eligible);

    let receipt = env.p.stake(node, pin(10_000)).await.expect("stake");
    println!(
        "gas: stake (with permit, first position) = {}",
        receipt.gas_used
    );
    assert!(
        receipt.gas_used < 150_000,
        "stake used {}",
        receipt.gas_used
    );

    let after = env.p.account(node.address()).await.expect("account");
    assert_eq!(after.stake.wei(), wei(10_000));
    assert_eq!(after.balance.wei(), wei(2_000));
    assert_eq!(after.unbonding.wei(), U256::ZERO);
    assert!(after.eligible);
    let totals = env.p.totals().await.expect("totals");
    assert_eq!(totals.staked.wei(), wei(10_000));
    assert_eq!(totals.staking_balance.wei(), wei(10_000));
}

/// Stake, unstake, an early withdraw is refused, after the unbonding period it pays out.
#[tokio::test]
async fn test_withdraw() {
    let env = setup().await;
    let node = env.staked_node(0, pin(30_000), pin(30_000)).await;

    env.p.unstake(node, pin(30_000)).await.expect("unstake");
    let unbonding = env.p.account(node.address()).await.expect("account");
    assert_eq!(unbonding.stake.wei(), U256::ZERO);
    assert_eq!(unbonding.unbonding.wei(), wei(30_000));
    assert!(!unbonding.eligible);

    let early = expect_revert(env.p.withdraw(node).await, "StakingUnbondingPending");
    assert_eq!(
        early.arg("releaseAt"),
        Some(format!("{} (unix time)", unbonding.unbonding_release_at).as_str())
    );

    env.p.ledger().advance_time(WEEK).await.expect("advance");
    let (amount, _) = env.p.withdraw(node).await.expect("withdraw");
    assert_eq!(amount.wei(), wei(30_000));
    let after = env.p.account(node.address()).await.expect("account");
    assert_eq!(after.balance.wei(), wei(30_000));
    assert_eq!(after.unbonding.wei(), U256::ZERO);
    let totals = env.p.totals().await.expect("totals");
    assert_eq!(totals.staked.wei(), U256::ZERO);
    assert_eq!(totals.staking_balance.wei(), U256::ZERO);
    expect_revert(env.p.withdraw(node).await, "StakingNothingUnbonding");
}

/// An eligible node joins a registered run, once.
#[tokio::test]
async fn test_JoinTrainingRun() {
    let env = setup().await;
    let node = env.staked_node(0, pin(10_000), pin(10_000)).await;
    let run = env.new_run(pin(500)).await;

    env.p
        .join_run(node, run, "tcp://10.0.0.7:4000")
        .await
        .expect("join");
    let part = env
        .p
        .participation(run, node.address())
        .await
        .expect("participation");
    assert!(part.joined);
    assert_eq!(part.endpoint, "tcp://10.0.0.7:4000");
    assert_eq!(part.attestations, 0);
    assert!(!part.claimed);
    assert_eq!(
        env.p.runs_of(node.address()).await.expect("runs"),
        vec![run]
    );

    let again = expect_revert(
        env.p.join_run(node, run, "x").await,
        "TrainingAlreadyJoined",
    );
    assert_eq!(again.arg("runId"), Some("1"));
    let other = &env.nodes[1];
    let part = env
        .p
        .participation(run, other.address())
        .await
        .expect("participation");
    assert!(!part.joined);
}

/// The trainer starts the run; joined nodes' attestations are counted, per node and per run.
#[tokio::test]
async fn test_StartAndSubmit() {
    let env = setup().await;
    let a = env.staked_node(0, pin(10_000), pin(10_000)).await;
    let b = env.staked_node(1, pin(10_000), pin(10_000)).await;
    let run = env.new_run(pin(500)).await;
    env.p.join_run(a, run, "a").await.expect("join a");
    env.p.join_run(b, run, "b").await.expect("join b");

    // Attesting before the start is refused.
    let early = expect_revert(
        env.p.attest(a, run, digest("early", 0)).await,
        "TrainingWrongStatus",
    );
    assert_eq!(early.arg("status"), Some("Registered"));

    env.p.start_run(&env.trainer, run).await.expect("start");
    assert_eq!(
        env.p.run(run).await.expect("run").status,
        RunStatus::Running
    );
    let first = env.p.attest(a, run, digest("a", 0)).await.expect("attest");
    println!("gas: attest (first of a run) = {}", first.gas_used);
    let second = env.p.attest(a, run, digest("a", 1)).await.expect("attest");
    println!("gas: attest (later) = {}", second.gas_used);
    assert!(second.gas_used < 80_000, "attest used {}", second.gas_used);
    for i in 2..5 {
        env.p.attest(a, run, digest("a", i)).await.expect("attest");
    }
    env.attest_n(b, run, "b", 2).await;

    assert_eq!(
        env.p
            .participation(run, a.address())
            .await
            .expect("a")
            .attestations,
        5
    );
    assert_eq!(
        env.p
            .participation(run, b.address())
            .await
            .expect("b")
            .attestations,
        2
    );
    assert_eq!(env.p.run(run).await.expect("run").valid_attestations, 7);
    assert_eq!(
        env.p
            .pending_reward(run, a.address())
            .await
            .expect("pending")
            .wei(),
        wei(500) * U256::from(5) / U256::from(7)
    );
}

/// The admin (whitelister) registers a compute node: whitelisted, not yet eligible.
#[tokio::test]
async fn test_registerComputeNode() {
    let env = setup().await;
    let node = &env.nodes[0];
    assert!(
        !env.p
            .account(node.address())
            .await
            .expect("account")
            .whitelisted
    );
    env.p
        .whitelist(&env.admin, node.address())
        .await
        .expect("whitelist");
    let status = env.p.account(node.address()).await.expect("account");
    assert!(status.whitelisted);
    assert!(!status.eligible, "eligible needs the minimum stake too");
    expect_revert(
        env.p.whitelist(&env.admin, node.address()).await,
        "StakingAlreadyWhitelisted",
    );
    env.p
        .remove_from_whitelist(&env.admin, node.address())
        .await
        .expect("remove");
    assert!(
        !env.p
            .account(node.address())
            .await
            .expect("account")
            .whitelisted
    );
}

/// A trainer registers a model; its budget moves from the trainer into escrow.
#[tokio::test]
async fn test_registerNewModel() {
    let env = setup().await;
    env.fund(env.trainer.address(), pin(2_500)).await;
    let (model, run) = env
        .p
        .register_model(&env.trainer, "gpt-pin-1b", pin(2_000))
        .await
        .expect("register");
    let info = env.p.run(run).await.expect("run");
    assert_eq!(info.model_id, model);
    assert_eq!(info.model_name, "gpt-pin-1b");
    assert_eq!(info.trainer, env.trainer.address());
    assert_eq!(info.status, RunStatus::Registered);
    assert_eq!(info.budget.wei(), wei(2_000));
    assert_eq!(info.valid_attestations, 0);
    assert_eq!(info.claimable_at, 0);

    assert_eq!(
        env.p
            .balance(env.trainer.address())
            .await
            .expect("balance")
            .wei(),
        wei(500)
    );
    let totals = env.p.totals().await.expect("totals");
    assert_eq!(totals.escrowed.wei(), wei(2_000));
    assert_eq!(totals.training_balance.wei(), wei(2_000));

    // A second run of the same model escrows its own budget.
    let second = env
        .p
        .create_run(&env.trainer, model, pin(500))
        .await
        .expect("create run");
    assert_eq!(second, RunId(2));
    let totals = env.p.totals().await.expect("totals");
    assert_eq!(totals.escrowed.wei(), wei(2_500));
    assert_eq!(
        env.p
            .balance(env.trainer.address())
            .await
            .expect("balance")
            .wei(),
        U256::ZERO
    );
    expect_revert(
        env.p.register_model(&env.trainer, "", pin(1)).await,
        "TrainingInvalidName",
    );
}

/// One node attests 10, 5 and 8 times in three runs and claims all three in one call.
#[tokio::test]
async fn testClaimMultipleRuns() {
    let env = setup().await;
    let node = env.staked_node(0, pin(10_100), pin(10_000)).await;
    let other = env.staked_node(1, pin(10_000), pin(10_000)).await;
    let budgets = [1_000, 500, 800];
    let mine = [10, 5, 8];
    let theirs = [5, 0, 2];

    env.fund(env.trainer.address(), pin(2_300)).await;
    let (model, first) = env
        .p
        .register_model(&env.trainer, "multi", pin(budgets[0]))
        .await
        .expect("register");
    let mut runs = vec![first];
    for &budget in &budgets[1..] {
        runs.push(
            env.p
                .create_run(&env.trainer, model, pin(budget))
                .await
                .expect("create run"),
        );
    }
    for (i, &run) in runs.iter().enumerate() {
        env.p.start_run(&env.trainer, run).await.expect("start");
        env.p.join_run(node, run, "node").await.expect("join");
        env.p.join_run(other, run, "other").await.expect("join");
        env.attest_n(node, run, &format!("mine-{i}"), mine[i]).await;
        env.attest_n(other, run, &format!("theirs-{i}"), theirs[i])
            .await;
        env.p.end_run(&env.trainer, run).await.expect("end");
    }
    env.p
        .ledger()
        .advance_time(WEEK + 1)
        .await
        .expect("advance");

    let expected: Vec<U256> = (0..3)
        .map(|i| wei(budgets[i]) * U256::from(mine[i]) / U256::from(mine[i] + theirs[i]))
        .collect();
    // 1000 × 10/15 rounds down in wei; the others are exact.
    assert_eq!(expected[0], U256::from(666_666_666_666_666_666_666u128));
    assert_eq!(expected[1], wei(500));
    assert_eq!(expected[2], wei(640));

    let claimed = env.p.claim(node, Some(runs.clone())).await.expect("claim");
    let total: U256 = expected.iter().copied().sum();
    assert_eq!(claimed.total.wei(), total);
    let paid: Vec<(RunId, U256)> = claimed.runs.iter().map(|(r, a)| (*r, a.wei())).collect();
    let want: Vec<(RunId, U256)> = runs.iter().copied().zip(expected.iter().copied()).collect();
    assert_eq!(paid, want);
    assert_eq!(
        env.p.balance(node.address()).await.expect("balance").wei(),
        wei(100) + total
    );
    for &run in &runs {
        assert!(
            env.p
                .participation(run, node.address())
                .await
                .expect("part")
                .claimed
        );
    }

    let gas = claimed.receipt.gas_used;
    println!(
        "gas: claim of the PoC's 3 runs (10/5/8 attestations) in one tx = {gas} (PoC test: 2,510,203)"
    );
    assert!(gas < 100_000, "the 3-run claim used {gas} gas");

    // The other node's shares plus ours never exceed the budgets; the rest stays escrowed.
    let totals = env.p.totals().await.expect("totals");
    assert_eq!(totals.escrowed.wei(), wei(2_300) - total);
    assert_eq!(totals.training_balance.wei(), wei(2_300) - total);
}
