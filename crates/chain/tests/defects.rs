//! Regression tests for every defect of the PoC contracts (DESIGN.md, "On-chain"), each written
//! so that the PoC's behaviour would fail it: slashing from the wallet, rewards in raw units,
//! missing access control on starting runs and whitelisting, attestations not bound to the
//! sender, withdrawal without unbonding, challenges that only emitted an event, and claims that
//! looped over every run. Also the refusals around them (double claim, claim in the window,
//! eligibility, minimum stake, cap, reclaim) and that a refused transaction changes nothing.

mod common;

use alloy::primitives::{Address, B256, U256};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolEvent;
use common::{Env, WEEK, digest, expect_revert, pin, setup, shown, wei};
use pin_chain::bindings::{PINToken, StakingManager, TrainingManager};
use pin_chain::{Ledger as _, Pin, Receipt, Role, RunId};

/// The `Slashed` event of a slash receipt.
fn slashed(env: &Env, receipt: &Receipt) -> StakingManager::Slashed {
    receipt
        .logs
        .iter()
        .filter(|l| l.address == env.p.deployment().staking)
        .find_map(|l| StakingManager::Slashed::decode_log_data(&l.data).ok())
        .expect("Slashed event")
}

/// Who attested `digest` in `run`, and whether it was invalidated.
async fn attestation(env: &Env, run: RunId, digest: B256) -> (Address, bool) {
    let r = env
        .read(
            env.p.deployment().training,
            TrainingManager::attestationOfCall {
                runId: U256::from(run.0),
                digest,
            },
        )
        .await;
    (r.node, r.invalidated)
}

/// A running run with `budget`, joined by every node in `nodes`.
async fn running_run(env: &Env, budget: Pin, nodes: &[&PrivateKeySigner]) -> RunId {
    let run = env.new_run(budget).await;
    env.p.start_run(&env.trainer, run).await.expect("start");
    for node in nodes {
        env.p.join_run(node, run, "endpoint").await.expect("join");
    }
    run
}

// ----------------------------------------------------------------------------------------
// PoC defect: slash burned from the node's wallet while the stake stayed.
// ----------------------------------------------------------------------------------------

#[tokio::test]
async fn slash_takes_the_held_stake_active_then_unbonding_and_burns_it() {
    let env = setup().await;
    let node = env.staked_node(0, pin(25_000), pin(20_000)).await;
    env.p.unstake(node, pin(5_000)).await.expect("unstake");
    let before = env.p.totals().await.expect("totals");

    // From active stake only.
    let receipt = env
        .p
        .slash(&env.admin, node.address(), pin(4_000), B256::repeat_byte(1))
        .await
        .expect("slash");
    let event = slashed(&env, &receipt);
    assert_eq!(
        (event.fromActive, event.fromUnbonding),
        (wei(4_000), U256::ZERO)
    );
    assert_eq!(event.evidence, B256::repeat_byte(1));
    let account = env.p.account(node.address()).await.expect("account");
    assert_eq!(account.stake.wei(), wei(11_000));
    assert_eq!(account.unbonding.wei(), wei(5_000));
    assert_eq!(
        account.balance.wei(),
        wei(5_000),
        "the wallet is not touched"
    );
    let after = env.p.totals().await.expect("totals");
    assert_eq!(after.supply.wei(), before.supply.wei() - wei(4_000));
    assert_eq!(after.burned.wei(), before.burned.wei() + wei(4_000));
    assert_eq!(after.minted, before.minted);
    assert_eq!(after.staked.wei(), before.staked.wei() - wei(4_000));
    assert_eq!(
        after.staking_balance.wei(),
        before.staking_balance.wei() - wei(4_000)
    );

    // Active exhausted: the rest comes from unbonding stake.
    let receipt = env
        .p
        .slash(
            &env.admin,
            node.address(),
            pin(13_000),
            B256::repeat_byte(2),
        )
        .await
        .expect("slash into unbonding");
    let event = slashed(&env, &receipt);
    assert_eq!(
        (event.fromActive, event.fromUnbonding),
        (wei(11_000), wei(2_000))
    );
    let account = env.p.account(node.address()).await.expect("account");
    assert_eq!(account.stake.wei(), U256::ZERO);
    assert_eq!(account.unbonding.wei(), wei(3_000));
    assert_eq!(
        account.balance.wei(),
        wei(5_000),
        "the wallet is not touched"
    );
    let totals = env.p.totals().await.expect("totals");
    assert_eq!(totals.burned.wei(), wei(17_000));
    assert_eq!(totals.supply.wei(), wei(25_000 - 17_000));

    // More than active + unbonding: refused, nothing changes.
    let snapshot = env.snapshot(&env.everyone()).await;
    let over = Pin::from_wei(wei(3_000) + U256::from(1));
    let d = expect_revert(
        env.p
            .slash(&env.admin, node.address(), over, B256::ZERO)
            .await,
        "StakingSlashExceedsStake",
    );
    assert_eq!(d.arg("staked"), Some("3000 PIN"));
    assert_eq!(d.arg("node"), Some(shown(node.address()).as_str()));
    assert_eq!(env.snapshot(&env.everyone()).await, snapshot);

    // Exactly what is left: the position is emptied; the wallet still untouched.
    env.p
        .slash(&env.admin, node.address(), pin(3_000), B256::ZERO)
        .await
        .expect("slash the rest");
    let account = env.p.account(node.address()).await.expect("account");
    assert_eq!((account.stake, account.unbonding), (Pin::ZERO, Pin::ZERO));
    assert_eq!(account.balance.wei(), wei(5_000));
    expect_revert(env.p.withdraw(node).await, "StakingNothingUnbonding");
}

#[tokio::test]
async fn only_slashers_slash() {
    let env = setup().await;
    let node = env.staked_node(0, pin(10_000), pin(10_000)).await;
    for outsider in [&env.nodes[1], &env.trainer, node] {
        let d = expect_revert(
            env.p
                .slash(outsider, node.address(), pin(1), B256::ZERO)
                .await,
            "AccessControlUnauthorizedAccount",
        );
        assert_eq!(d.arg("neededRole"), Some("SLASHER_ROLE"));
    }
}

// ----------------------------------------------------------------------------------------
// PoC defect: rewards minted as raw units.
// ----------------------------------------------------------------------------------------

#[tokio::test]
async fn a_1000_pin_budget_pays_1000_times_10_pow_18_wei_from_escrow() {
    let env = setup().await;
    let node = env.staked_node(0, pin(10_000), pin(10_000)).await;
    let run = running_run(&env, pin(1_000), &[node]).await;
    env.attest_n(node, run, "w", 1).await;
    env.end_and_close(run).await;
    let minted = env.p.totals().await.expect("totals").minted;

    let claimed = env.p.claim(node, Some(vec![run])).await.expect("claim");
    let exact = U256::from(1_000u64) * U256::from(10u64).pow(U256::from(18u64));
    assert_eq!(claimed.total.wei(), exact);
    assert_eq!(
        env.p.balance(node.address()).await.expect("balance").wei(),
        exact
    );
    // Paid from the trainer's escrow, not minted.
    let totals = env.p.totals().await.expect("totals");
    assert_eq!(totals.minted, minted);
    assert_eq!(totals.escrowed, Pin::ZERO);
}

// ----------------------------------------------------------------------------------------
// PoC defect: startTrainingRun (and the rest of the trainer's calls) had no access control.
// ----------------------------------------------------------------------------------------

#[tokio::test]
async fn only_the_runs_trainer_starts_ends_and_extends_it() {
    let env = setup().await;
    let other_trainer = &env.nodes[6];
    env.p
        .grant(&env.admin, Role::Trainer, other_trainer.address())
        .await
        .expect("grant");
    let stranger = &env.nodes[0];
    env.fund(env.trainer.address(), pin(100)).await;
    let (model, run) = env
        .p
        .register_model(&env.trainer, "owned", pin(100))
        .await
        .expect("register");

    for intruder in [stranger, other_trainer, &env.admin, &env.validator] {
        let d = expect_revert(env.p.start_run(intruder, run).await, "TrainingNotTrainer");
        assert_eq!(d.arg("caller"), Some(shown(intruder.address()).as_str()));
        assert_eq!(
            d.arg("trainer"),
            Some(shown(env.trainer.address()).as_str())
        );
    }
    env.p.start_run(&env.trainer, run).await.expect("start");
    for intruder in [stranger, other_trainer, &env.admin] {
        expect_revert(env.p.end_run(intruder, run).await, "TrainingNotTrainer");
    }
    env.fund(other_trainer.address(), pin(10)).await;
    expect_revert(
        env.p.create_run(other_trainer, model, pin(10)).await,
        "TrainingNotTrainer",
    );

    // Registering a model needs the trainer role.
    env.fund(stranger.address(), pin(10)).await;
    let d = expect_revert(
        env.p.register_model(stranger, "nope", pin(10)).await,
        "AccessControlUnauthorizedAccount",
    );
    assert_eq!(d.arg("neededRole"), Some("MODEL_TRAINER_ROLE"));
    assert_eq!(d.arg("account"), Some(shown(stranger.address()).as_str()));
    assert_eq!(
        env.p.balance(stranger.address()).await.expect("balance"),
        pin(10)
    );

    env.p
        .end_run(&env.trainer, run)
        .await
        .expect("the trainer ends it");
}

// ----------------------------------------------------------------------------------------
// PoC defect: addComputeNode had no access control.
// ----------------------------------------------------------------------------------------

#[tokio::test]
async fn only_whitelisters_whitelist() {
    let env = setup().await;
    let node = &env.nodes[0];
    for outsider in [node, &env.nodes[1], &env.trainer, &env.validator] {
        let d = expect_revert(
            env.p.whitelist(outsider, node.address()).await,
            "AccessControlUnauthorizedAccount",
        );
        assert_eq!(d.arg("neededRole"), Some("WHITELISTER_ROLE"));
    }
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
    let d = expect_revert(
        env.p.remove_from_whitelist(node, node.address()).await,
        "AccessControlUnauthorizedAccount",
    );
    assert_eq!(d.arg("neededRole"), Some("WHITELISTER_ROLE"));
}

// ----------------------------------------------------------------------------------------
// PoC defect: submitAttestation did not check msg.sender.
// ----------------------------------------------------------------------------------------

#[tokio::test]
async fn attestations_are_the_senders_own_and_need_participation() {
    let env = setup().await;
    let a = env.staked_node(0, pin(10_000), pin(10_000)).await;
    let b = env.staked_node(1, pin(10_000), pin(10_000)).await;
    let run = running_run(&env, pin(100), &[a]).await;

    // b is eligible but has not joined.
    let d = expect_revert(
        env.p.attest(b, run, digest("b", 0)).await,
        "TrainingNotParticipant",
    );
    assert_eq!(d.arg("node"), Some(shown(b.address()).as_str()));
    // Neither has the trainer nor anyone else.
    expect_revert(
        env.p.attest(&env.trainer, run, digest("t", 0)).await,
        "TrainingNotParticipant",
    );

    env.p.attest(a, run, digest("a", 0)).await.expect("attest");
    assert_eq!(
        attestation(&env, run, digest("a", 0)).await,
        (a.address(), false)
    );
    assert_eq!(
        env.p
            .participation(run, a.address())
            .await
            .expect("a")
            .attestations,
        1
    );

    env.p.join_run(b, run, "b").await.expect("join b");
    // A digest counts once: b cannot take a's, a cannot repeat it.
    for who in [b, a] {
        let d = expect_revert(
            env.p.attest(who, run, digest("a", 0)).await,
            "TrainingDuplicateAttestation",
        );
        assert_eq!(d.arg("digest"), Some(digest("a", 0).to_string().as_str()));
    }
    env.p
        .attest(b, run, digest("b", 0))
        .await
        .expect("attest b");
    assert_eq!(
        attestation(&env, run, digest("b", 0)).await,
        (b.address(), false)
    );
    assert_eq!(
        env.p
            .participation(run, a.address())
            .await
            .expect("a")
            .attestations,
        1
    );
    assert_eq!(
        env.p
            .participation(run, b.address())
            .await
            .expect("b")
            .attestations,
        1
    );
    assert_eq!(env.p.run(run).await.expect("run").valid_attestations, 2);
    assert_eq!(
        attestation(&env, run, digest("never", 0)).await,
        (Address::ZERO, false)
    );
}

// ----------------------------------------------------------------------------------------
// PoC defect: withdraw had no unbonding.
// ----------------------------------------------------------------------------------------

#[tokio::test]
async fn withdraw_waits_out_the_unbonding_period() {
    let env = setup().await;
    let node = env.staked_node(0, pin(20_000), pin(20_000)).await;
    env.p.unstake(node, pin(10_000)).await.expect("unstake");
    let d = expect_revert(env.p.withdraw(node).await, "StakingUnbondingPending");
    assert_eq!(d.arg("node"), Some(shown(node.address()).as_str()));
    env.p
        .ledger()
        .advance_time(WEEK - 3_600)
        .await
        .expect("advance");
    expect_revert(env.p.withdraw(node).await, "StakingUnbondingPending");
    let still = env.p.account(node.address()).await.expect("account");
    assert_eq!(still.unbonding.wei(), wei(10_000));
    assert_eq!(still.balance, Pin::ZERO);

    env.p.ledger().advance_time(3_600).await.expect("advance");
    let (amount, _) = env.p.withdraw(node).await.expect("withdraw");
    assert_eq!(amount.wei(), wei(10_000));
    let after = env.p.account(node.address()).await.expect("account");
    assert_eq!(after.balance.wei(), wei(10_000));
    assert_eq!(after.stake.wei(), wei(10_000));
    assert_eq!(after.unbonding, Pin::ZERO);
}

#[tokio::test]
async fn unstaking_cannot_leave_dust_below_the_minimum_nor_exceed_the_stake() {
    let env = setup().await;
    let node = env.staked_node(0, pin(15_000), pin(15_000)).await;
    let d = expect_revert(env.p.unstake(node, pin(6_000)).await, "StakingBelowMinimum");
    assert_eq!(d.arg("stake"), Some("9000 PIN"));
    expect_revert(
        env.p.unstake(node, pin(15_001)).await,
        "StakingInsufficientStake",
    );
    expect_revert(env.p.unstake(node, Pin::ZERO).await, "StakingZeroAmount");
    env.p
        .unstake(node, pin(5_000))
        .await
        .expect("unstake to the minimum");
}

// ----------------------------------------------------------------------------------------
// PoC defect: challenge only emitted an event.
// ----------------------------------------------------------------------------------------

#[tokio::test]
async fn challenge_invalidates_slashes_and_changes_the_split() {
    let env = setup().await;
    let a = env.staked_node(0, pin(10_500), pin(10_500)).await;
    let b = env.staked_node(1, pin(10_000), pin(10_000)).await;
    let run = running_run(&env, pin(900), &[a, b]).await;
    env.attest_n(a, run, "a", 3).await;
    env.attest_n(b, run, "b", 1).await;

    // Not while running.
    let d = expect_revert(
        env.p
            .challenge(&env.validator, run, digest("a", 0), Pin::ZERO, B256::ZERO)
            .await,
        "TrainingWrongStatus",
    );
    assert_eq!(d.arg("status"), Some("Running"));

    env.p.end_run(&env.trainer, run).await.expect("end");
    assert_eq!(
        env.p
            .pending_reward(run, a.address())
            .await
            .expect("pending")
            .wei(),
        wei(900) * U256::from(3) / U256::from(4)
    );

    // Not by anyone without the validator role.
    for outsider in [b, &env.trainer, &env.nodes[2]] {
        let d = expect_revert(
            env.p
                .challenge(outsider, run, digest("a", 0), pin(1), B256::ZERO)
                .await,
            "AccessControlUnauthorizedAccount",
        );
        assert_eq!(d.arg("neededRole"), Some("VALIDATOR_ROLE"));
    }

    let supply = env.p.totals().await.expect("totals").supply;
    let evidence = B256::repeat_byte(0xee);
    let receipt = env
        .p
        .challenge(&env.validator, run, digest("a", 0), pin(1_000), evidence)
        .await
        .expect("challenge");
    let event = slashed(&env, &receipt);
    assert_eq!(event.node, a.address());
    assert_eq!(event.slasher, env.p.deployment().training);
    assert_eq!(event.evidence, evidence);
    assert_eq!(event.amount, wei(1_000));

    assert_eq!(
        attestation(&env, run, digest("a", 0)).await,
        (a.address(), true)
    );
    assert_eq!(
        env.p
            .participation(run, a.address())
            .await
            .expect("a")
            .attestations,
        2
    );
    assert_eq!(
        env.p
            .participation(run, b.address())
            .await
            .expect("b")
            .attestations,
        1
    );
    assert_eq!(env.p.run(run).await.expect("run").valid_attestations, 3);
    let account = env.p.account(a.address()).await.expect("account");
    assert_eq!(account.stake.wei(), wei(9_500));
    assert!(!account.eligible, "slashed below the minimum");
    assert_eq!(account.balance, Pin::ZERO);
    assert_eq!(
        env.p.totals().await.expect("totals").supply.wei(),
        supply.wei() - wei(1_000)
    );

    // Twice, or an unknown digest: refused.
    expect_revert(
        env.p
            .challenge(&env.validator, run, digest("a", 0), Pin::ZERO, B256::ZERO)
            .await,
        "TrainingAlreadyInvalidated",
    );
    expect_revert(
        env.p
            .challenge(&env.validator, run, digest("zz", 0), Pin::ZERO, B256::ZERO)
            .await,
        "TrainingUnknownAttestation",
    );

    // The window closes: no more challenges; the remaining valid attestations split the budget.
    env.p.ledger().advance_time(WEEK).await.expect("advance");
    let d = expect_revert(
        env.p
            .challenge(&env.validator, run, digest("a", 1), Pin::ZERO, B256::ZERO)
            .await,
        "TrainingChallengeWindowClosed",
    );
    assert_eq!(d.arg("runId"), Some("1"));
    assert!(!attestation(&env, run, digest("a", 1)).await.1);

    let paid_a = env
        .p
        .claim(a, Some(vec![run]))
        .await
        .expect("claim a")
        .total;
    let paid_b = env
        .p
        .claim(b, Some(vec![run]))
        .await
        .expect("claim b")
        .total;
    assert_eq!(paid_a.wei(), wei(600));
    assert_eq!(paid_b.wei(), wei(300));
    assert_eq!(env.p.totals().await.expect("totals").escrowed, Pin::ZERO);
}

// ----------------------------------------------------------------------------------------
// PoC defect: claiming looped over every run.
// ----------------------------------------------------------------------------------------

#[tokio::test]
async fn claim_gas_grows_with_runs_claimed_not_runs_existing() {
    let env = setup().await;
    // Wallets keep 1 PIN so every claim credits a non-zero balance (same storage cost).
    let x = env.staked_node(0, pin(10_001), pin(10_000)).await;
    let y = env.staked_node(1, pin(10_001), pin(10_000)).await;
    let z = env.staked_node(2, pin(10_001), pin(10_000)).await;
    let filler = env.staked_node(3, pin(10_001), pin(10_000)).await;
    let w = env.staked_node(4, pin(10_001), pin(10_000)).await;

    env.fund(env.trainer.address(), pin(100_000)).await;
    let (model, first) = env
        .p
        .register_model(&env.trainer, "gas", pin(100))
        .await
        .expect("register");
    let mut runs = vec![first];
    for _ in 1..10 {
        runs.push(
            env.p
                .create_run(&env.trainer, model, pin(100))
                .await
                .expect("run"),
        );
    }
    for (i, &run) in runs.iter().enumerate() {
        env.p.start_run(&env.trainer, run).await.expect("start");
        let mut members = vec![filler, z];
        if i < 3 {
            members.push(y);
        }
        if i < 1 {
            members.push(x);
        }
        for (k, node) in members.into_iter().enumerate() {
            env.p.join_run(node, run, "n").await.expect("join");
            env.attest_n(node, run, &format!("{i}-{k}"), 2).await;
        }
        env.p.end_run(&env.trainer, run).await.expect("end");
    }
    env.p
        .ledger()
        .advance_time(WEEK + 1)
        .await
        .expect("advance");

    let gas1 = env
        .p
        .claim(x, Some(runs[..1].to_vec()))
        .await
        .expect("claim 1")
        .receipt
        .gas_used;
    let gas3 = env
        .p
        .claim(y, Some(runs[..3].to_vec()))
        .await
        .expect("claim 3")
        .receipt
        .gas_used;
    let gas10 = env
        .p
        .claim(z, Some(runs.clone()))
        .await
        .expect("claim 10")
        .receipt
        .gas_used;
    println!("gas: claim of 1 run = {gas1}, 3 runs = {gas3}, 10 runs = {gas10}");
    let per_run_low = (gas3 - gas1) / 2;
    let per_run_high = (gas10 - gas3) / 7;
    println!("gas: per extra run claimed = {per_run_low} (1→3), {per_run_high} (3→10)");
    assert!(
        per_run_low.abs_diff(per_run_high) <= 100,
        "{per_run_low} vs {per_run_high}"
    );
    assert!(
        per_run_high < 15_000,
        "each run claimed costs {per_run_high}"
    );
    assert!(gas10 < 200_000, "ten runs in one claim cost {gas10}");

    // Twenty unrelated runs, w joined in all of them with unclaimed attestations.
    for i in 0..20 {
        let run = env
            .p
            .create_run(&env.trainer, model, pin(100))
            .await
            .expect("run");
        env.p.start_run(&env.trainer, run).await.expect("start");
        for (k, node) in [filler, w].into_iter().enumerate() {
            env.p.join_run(node, run, "n").await.expect("join");
            env.attest_n(node, run, &format!("noise-{i}-{k}"), 2).await;
        }
        env.p.end_run(&env.trainer, run).await.expect("end");
    }
    let run = env
        .p
        .create_run(&env.trainer, model, pin(100))
        .await
        .expect("run");
    assert_eq!(run, RunId(31));
    env.p.start_run(&env.trainer, run).await.expect("start");
    for (k, node) in [filler, w].into_iter().enumerate() {
        env.p.join_run(node, run, "n").await.expect("join");
        env.attest_n(node, run, &format!("late-{k}"), 2).await;
    }
    env.end_and_close(run).await;
    assert_eq!(env.p.runs_of(w.address()).await.expect("runs").len(), 21);
    let late = env
        .p
        .claim(w, Some(vec![run]))
        .await
        .expect("claim late")
        .receipt
        .gas_used;
    println!("gas: claim of 1 run after 20 other runs = {late}");
    // x's claim released its last stake lock, and clearing that slot refunds 4,800 gas
    // (EIP-3529); w still holds 20 locks after its claim. Beyond that the cost is the same.
    const CLEARED_SLOT_REFUND: u64 = 4_800;
    assert!(
        late.abs_diff(gas1 + CLEARED_SLOT_REFUND) <= 50,
        "1-run claim: {gas1} with 10 runs, {late} with 30"
    );
}

// ----------------------------------------------------------------------------------------
// Claims
// ----------------------------------------------------------------------------------------

#[tokio::test]
async fn claims_wait_for_the_window_and_pay_once() {
    let env = setup().await;
    let node = env.staked_node(0, pin(10_000), pin(10_000)).await;
    let run = running_run(&env, pin(100), &[node]).await;
    env.attest_n(node, run, "c", 2).await;
    let d = expect_revert(
        env.p.claim(node, Some(vec![run])).await,
        "TrainingWrongStatus",
    );
    assert_eq!(d.arg("required"), Some("Done"));
    let closes = env.p.end_run(&env.trainer, run).await.expect("end");

    let d = expect_revert(
        env.p.claim(node, Some(vec![run])).await,
        "TrainingChallengeWindowOpen",
    );
    assert_eq!(
        d.arg("closesAt"),
        Some(format!("{closes} (unix time)").as_str())
    );
    env.p
        .ledger()
        .advance_time(WEEK + 1)
        .await
        .expect("advance");

    let outsider = env.staked_node(1, pin(10_000), pin(10_000)).await;
    expect_revert(
        env.p.claim(outsider, Some(vec![run])).await,
        "TrainingNotParticipant",
    );
    env.p.claim(node, Some(vec![run])).await.expect("claim");
    let snapshot = env.snapshot(&env.everyone()).await;
    let d = expect_revert(
        env.p.claim(node, Some(vec![run])).await,
        "TrainingAlreadyClaimed",
    );
    assert_eq!(d.arg("runId"), Some("1"));
    assert_eq!(env.snapshot(&env.everyone()).await, snapshot);
    // The same run twice in one call is a double claim too.
    let other = running_run(&env, pin(100), &[outsider]).await;
    env.attest_n(outsider, other, "o", 1).await;
    env.end_and_close(other).await;
    expect_revert(
        env.p.claim(outsider, Some(vec![other, other])).await,
        "TrainingAlreadyClaimed",
    );
    assert_eq!(
        env.p.balance(outsider.address()).await.expect("balance"),
        Pin::ZERO
    );
}

// ----------------------------------------------------------------------------------------
// Eligibility and amounts
// ----------------------------------------------------------------------------------------

#[tokio::test]
async fn only_whitelisted_nodes_with_the_minimum_stake_join() {
    let env = setup().await;
    let run = env.new_run(pin(100)).await;

    let stranger = &env.nodes[0];
    let d = expect_revert(
        env.p.join_run(stranger, run, "x").await,
        "TrainingNodeNotWhitelisted",
    );
    assert_eq!(d.arg("node"), Some(shown(stranger.address()).as_str()));

    // Whitelisted without stake.
    let unstaked = &env.nodes[1];
    env.p
        .whitelist(&env.admin, unstaked.address())
        .await
        .expect("whitelist");
    let d = expect_revert(
        env.p.join_run(unstaked, run, "x").await,
        "TrainingInsufficientStake",
    );
    assert_eq!(d.arg("stake"), Some("0 PIN"));
    assert_eq!(d.arg("minimum"), Some("10000 PIN"));

    // Slashed below the minimum.
    let slashed_node = env.staked_node(2, pin(10_000), pin(10_000)).await;
    env.p
        .slash(&env.admin, slashed_node.address(), pin(1), B256::ZERO)
        .await
        .expect("slash");
    let d = expect_revert(
        env.p.join_run(slashed_node, run, "x").await,
        "TrainingInsufficientStake",
    );
    assert_eq!(d.arg("stake"), Some("9999 PIN"));

    // Eligible, then removed from the whitelist mid-run: can no longer attest.
    let node = env.staked_node(3, pin(10_000), pin(10_000)).await;
    env.p.join_run(node, run, "x").await.expect("join");
    env.p.start_run(&env.trainer, run).await.expect("start");
    env.p
        .attest(node, run, digest("n", 0))
        .await
        .expect("attest");
    env.p
        .remove_from_whitelist(&env.admin, node.address())
        .await
        .expect("remove");
    expect_revert(
        env.p.attest(node, run, digest("n", 1)).await,
        "TrainingNodeNotWhitelisted",
    );
}

#[tokio::test]
async fn staking_needs_the_whitelist_and_the_minimum() {
    let env = setup().await;
    let node = &env.nodes[0];
    env.fund(node.address(), pin(20_000)).await;
    expect_revert(
        env.p.stake(node, pin(10_000)).await,
        "StakingNotWhitelisted",
    );
    env.p
        .whitelist(&env.admin, node.address())
        .await
        .expect("whitelist");
    let d = expect_revert(env.p.stake(node, pin(9_999)).await, "StakingBelowMinimum");
    assert_eq!(d.arg("stake"), Some("9999 PIN"));
    assert_eq!(d.arg("minimum"), Some("10000 PIN"));
    expect_revert(env.p.stake(node, Pin::ZERO).await, "StakingZeroAmount");
    // More than the wallet holds: the token refuses the transfer.
    expect_revert(
        env.p.stake(node, pin(20_001)).await,
        "ERC20InsufficientBalance",
    );
    env.p
        .stake(node, pin(10_000))
        .await
        .expect("stake the minimum");
    // Once at the minimum, small top-ups are fine.
    env.p.stake(node, pin(1)).await.expect("top up");
    assert_eq!(
        env.p.account(node.address()).await.expect("account").stake,
        pin(10_001)
    );
}

#[tokio::test]
async fn refused_transactions_change_nothing() {
    let env = setup().await;
    let node = env.staked_node(0, pin(12_000), pin(10_000)).await;
    let run = running_run(&env, pin(500), &[node]).await;
    env.attest_n(node, run, "r", 1).await;

    let everyone = env.everyone();
    let before = env.snapshot(&everyone).await;
    let block = env.block_number();
    let staking = env.p.deployment().staking;
    let training = env.p.deployment().training;

    let failures: Vec<(&str, pin_chain::Error)> = vec![
        (
            "stake below minimum",
            env.p.stake(&env.nodes[1], pin(5)).await.expect_err(""),
        ),
        (
            "stake beyond wallet",
            env.p.stake(node, pin(2_001)).await.expect_err(""),
        ),
        (
            "unstake beyond stake",
            env.p.unstake(node, pin(10_001)).await.expect_err(""),
        ),
        ("early withdraw", env.p.withdraw(node).await.expect_err("")),
        (
            "slash beyond stake",
            env.p
                .slash(&env.admin, node.address(), pin(10_001), B256::ZERO)
                .await
                .expect_err(""),
        ),
        (
            "mint beyond cap",
            env.p
                .mint(&env.admin, node.address(), pin(1_000_000_000))
                .await
                .expect_err(""),
        ),
        (
            "mint without role",
            env.p
                .mint(node, node.address(), pin(1))
                .await
                .expect_err(""),
        ),
        (
            "register beyond balance",
            env.p
                .register_model(&env.trainer, "m", pin(1))
                .await
                .expect_err(""),
        ),
        (
            "duplicate attest",
            env.p.attest(node, run, digest("r", 0)).await.expect_err(""),
        ),
        (
            "claim while running",
            env.p.claim(node, Some(vec![run])).await.expect_err(""),
        ),
        (
            "challenge while running",
            env.p
                .challenge(&env.validator, run, digest("r", 0), pin(10_000), B256::ZERO)
                .await
                .expect_err(""),
        ),
        (
            "reclaim while running",
            env.p.reclaim(&env.trainer, run).await.expect_err(""),
        ),
    ];
    for (what, error) in &failures {
        assert!(
            matches!(error, pin_chain::Error::Contract(_)),
            "{what}: not a decoded contract error: {error:?}"
        );
    }
    assert_eq!(env.snapshot(&everyone).await, before);
    assert_eq!(
        env.block_number(),
        block,
        "a refused transaction mined a block"
    );
    // A refused permit-based stake leaves no allowance behind.
    for spender in [staking, training] {
        for owner in [
            node.address(),
            env.nodes[1].address(),
            env.trainer.address(),
        ] {
            let allowance = env
                .read(
                    env.p.deployment().token,
                    PINToken::allowanceCall { owner, spender },
                )
                .await;
            assert_eq!(allowance, U256::ZERO);
        }
    }
}

#[tokio::test]
async fn minting_stops_at_the_cap() {
    let env = setup().await;
    let to = env.nodes[0].address();
    env.fund(to, pin(999_999_999)).await;
    let one_over = Pin::from_wei(wei(1) + U256::from(1));
    let d = expect_revert(
        env.p.mint(&env.admin, to, one_over).await,
        "ERC20ExceededCap",
    );
    assert_eq!(d.arg("cap"), Some("1000000000 PIN"));
    assert_eq!(
        d.arg("increasedSupply"),
        Some("1000000000.000000000000000001 PIN")
    );
    env.fund(to, pin(1)).await;
    let totals = env.p.totals().await.expect("totals");
    assert_eq!(totals.supply.wei(), wei(1_000_000_000));
    expect_revert(
        env.p
            .mint(&env.admin, to, Pin::from_wei(U256::from(1)))
            .await,
        "ERC20ExceededCap",
    );
}

// ----------------------------------------------------------------------------------------
// Reclaim
// ----------------------------------------------------------------------------------------

#[tokio::test]
async fn trainer_reclaims_only_budgets_nobody_earned() {
    let env = setup().await;
    let node = env.staked_node(0, pin(10_000), pin(10_000)).await;
    let run = running_run(&env, pin(700), &[node]).await;
    env.attest_n(node, run, "bad", 2).await;
    env.p.end_run(&env.trainer, run).await.expect("end");
    let owed = running_run(&env, pin(300), &[node]).await;
    env.attest_n(node, owed, "good", 1).await;
    env.p.end_run(&env.trainer, owed).await.expect("end");

    for i in 0..2 {
        env.p
            .challenge(&env.validator, run, digest("bad", i), Pin::ZERO, B256::ZERO)
            .await
            .expect("challenge");
    }
    assert_eq!(env.p.run(run).await.expect("run").valid_attestations, 0);
    expect_revert(
        env.p.reclaim(&env.trainer, run).await,
        "TrainingChallengeWindowOpen",
    );
    env.p
        .ledger()
        .advance_time(WEEK + 1)
        .await
        .expect("advance");

    expect_revert(
        env.p.reclaim(&env.nodes[1], run).await,
        "TrainingNotTrainer",
    );
    let trainer_before = env.p.balance(env.trainer.address()).await.expect("balance");
    env.p.reclaim(&env.trainer, run).await.expect("reclaim");
    let trainer_after = env.p.balance(env.trainer.address()).await.expect("balance");
    assert_eq!(trainer_after.wei() - trainer_before.wei(), wei(700));
    assert!(env.p.run(run).await.expect("run").reclaimed);
    expect_revert(
        env.p.reclaim(&env.trainer, run).await,
        "TrainingAlreadyReclaimed",
    );
    // Every attestation was invalidated: the claim pays nothing but settles the run, which
    // releases the node's stake lock; a second claim is refused.
    let settled = env.p.claim(node, Some(vec![run])).await.expect("settle");
    assert_eq!(settled.total, Pin::ZERO);
    expect_revert(
        env.p.claim(node, Some(vec![run])).await,
        "TrainingAlreadyClaimed",
    );

    let d = expect_revert(
        env.p.reclaim(&env.trainer, owed).await,
        "TrainingBudgetOwed",
    );
    assert_eq!(d.arg("validAttestations"), Some("1"));
    let totals = env.p.totals().await.expect("totals");
    assert_eq!(totals.escrowed.wei(), wei(300));
    env.p
        .claim(node, Some(vec![owed]))
        .await
        .expect("claim owed");
    assert_eq!(
        env.p.balance(node.address()).await.expect("balance").wei(),
        wei(300)
    );
    assert_eq!(
        env.p.totals().await.expect("totals").training_balance,
        Pin::ZERO
    );
}

// ----------------------------------------------------------------------------------------
// Found while writing these tests: a node could escape the slash of a challenge by unbonding.
// Fixed by locking the stake of every run a node joins until it settles (claims) the run.
// ----------------------------------------------------------------------------------------

/// A node attests, unstakes everything right after its last attestation (while the run is
/// still running), and withdraws once the unbonding period has passed, which is before the
/// run's challenge window closes (the window starts at the run's end, the unbonding at the
/// unstake). A validator who then proves the attestation invalid cannot slash anything: the
/// challenge with a slash reverted `StakingSlashExceedsStake`, and the node kept its stake.
/// Now the withdrawal is refused while the run is unsettled, and the slash lands.
#[tokio::test]
async fn a_challenged_node_cannot_escape_the_slash_by_unbonding_before_the_run_ends() {
    let env = setup().await;
    let node = env.staked_node(0, pin(10_000), pin(10_000)).await;
    let run = running_run(&env, pin(1_000), &[node]).await;
    env.attest_n(node, run, "fake", 1).await;
    env.p.unstake(node, pin(10_000)).await.expect("unstake");
    env.p.ledger().advance_time(3_600).await.expect("advance");
    let closes = env.p.end_run(&env.trainer, run).await.expect("end");

    // Just before the window closes (the unbonding, started an hour earlier, is over).
    env.p
        .ledger()
        .advance_time(WEEK - 600)
        .await
        .expect("advance");
    let withdrawn = env.p.withdraw(node).await;
    let d = expect_revert(withdrawn, "StakingLocked");
    assert_eq!(d.arg("openRuns"), Some("1"));
    let now = env.p.ledger().timestamp().await.expect("timestamp");
    assert!(now < closes, "the challenge window is still open");

    let challenge = env
        .p
        .challenge(
            &env.validator,
            run,
            digest("fake", 0),
            pin(10_000),
            B256::repeat_byte(9),
        )
        .await;
    assert!(
        challenge.is_ok(),
        "a validator could not slash the invalid attestation's node within the window: {challenge:?}"
    );
    let account = env.p.account(node.address()).await.expect("account");
    assert_eq!(
        account.unbonding,
        Pin::ZERO,
        "the whole unbonding stake was slashed"
    );

    // After the window the node settles the run (nothing to be paid) and the lock is gone.
    env.p.ledger().advance_time(3_600).await.expect("advance");
    let settled = env.p.claim(node, None).await.expect("settle");
    assert_eq!(settled.total, Pin::ZERO);
    assert_eq!(
        env.p
            .account(node.address())
            .await
            .expect("account")
            .open_runs,
        0
    );
}

/// A node that joined a run and did no work can leave it, so a run that is never ended does
/// not hold its stake; once it has attested it settles only by claiming.
#[tokio::test]
async fn a_node_leaves_a_run_it_did_no_work_in_and_withdraws() {
    let env = setup().await;
    let idle = env.staked_node(0, pin(10_000), pin(10_000)).await;
    let worker = env.staked_node(1, pin(10_000), pin(10_000)).await;
    let run = running_run(&env, pin(1_000), &[idle, worker]).await;
    env.attest_n(worker, run, "work", 1).await;
    assert_eq!(
        env.p
            .account(idle.address())
            .await
            .expect("account")
            .open_runs,
        1
    );

    let d = expect_revert(env.p.leave_run(worker, run).await, "TrainingCannotLeave");
    assert_eq!(d.arg("attestations"), Some("1"));
    env.p.leave_run(idle, run).await.expect("leave");
    expect_revert(env.p.leave_run(idle, run).await, "TrainingNotParticipant");
    expect_revert(
        env.p.attest(idle, run, digest("late", 0)).await,
        "TrainingNotParticipant",
    );
    env.p.unstake(idle, pin(10_000)).await.expect("unstake");
    env.p
        .ledger()
        .advance_time(WEEK + 1)
        .await
        .expect("advance");
    let (amount, _) = env.p.withdraw(idle).await.expect("withdraw after leaving");
    assert_eq!(amount, pin(10_000));
    env.p.unstake(worker, pin(10_000)).await.expect("unstake");
    env.p
        .ledger()
        .advance_time(WEEK + 1)
        .await
        .expect("advance");
    expect_revert(env.p.withdraw(worker).await, "StakingLocked");
}
