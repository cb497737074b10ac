//! The settlement registry and the epoch emissions on the embedded chain: publishing settled
//! challenges (validators only, once per challenge), stake-weighted 2/3 finalisation of epoch
//! roots with the scheduled (capped) mint, and claims whose Merkle proofs come from the Rust
//! emission tree in `nash::emission`, so the two implementations are checked against each other.

mod common;

use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::signers::local::PrivateKeySigner;
use common::{DAY, Env, expect_revert, pin, setup_with, shown};
use nash::emission::{Account, MerkleTree, accumulate};
use nash::units::Hash32;
use pin_chain::{DeployParams, Ledger as _, Pin, Role, SettlementTerm};

/// A deployment whose validators are the env's validator and nodes 0, 1, …, staking `stakes`
/// PIN each (in that order).
async fn with_validators(params: &DeployParams, stakes: &[u64]) -> (Env, Vec<PrivateKeySigner>) {
    let env = setup_with(params).await;
    let mut validators = vec![env.validator.clone()];
    validators.extend(env.nodes.iter().take(stakes.len() - 1).cloned());
    for (v, &stake) in validators.iter().zip(stakes) {
        if v.address() != env.validator.address() {
            env.p
                .grant(&env.admin, Role::Validator, v.address())
                .await
                .expect("grant validator");
        }
        env.fund(v.address(), pin(stake)).await;
        env.p.stake(v, pin(stake)).await.expect("validator stakes");
    }
    (env, validators)
}

fn account(a: Address) -> Account {
    Account(a.0.0)
}

fn b256(h: Hash32) -> B256 {
    B256::from(h.0)
}

fn amount(wei: u128) -> Pin {
    Pin::from_wei(U256::from(wei))
}

/// A distinct payee address.
fn payee(i: u8) -> Address {
    Address::repeat_byte(0x40 + i)
}

async fn supply(env: &Env) -> Pin {
    env.p.totals().await.expect("totals").supply
}

async fn advance(env: &Env, seconds: u64) {
    env.p
        .ledger()
        .advance_time(seconds)
        .await
        .expect("advance time");
}

// ----------------------------------------------------------------------------------------
// Settlements
// ----------------------------------------------------------------------------------------

#[tokio::test]
async fn validator_publishes_a_settlement_and_it_reads_back() {
    let (env, validators) = with_validators(&DeployParams::default(), &[10_000]).await;
    let id = keccak256("challenge/1");
    let hash = keccak256("settlement/1");
    let winner = env.nodes[5].address();
    let terms = vec![
        SettlementTerm {
            party: payee(1),
            resource: 0,
            quantity: 40,
            price: 3_000_000_000_000_000_000,
        },
        SettlementTerm {
            party: payee(2),
            resource: 0,
            quantity: -40,
            price: 3_000_000_000_000_000_000,
        },
    ];
    assert_eq!(env.p.settlement(id).await.expect("read"), None);
    env.p
        .publish_settlement(&validators[0], id, hash, winner, &terms)
        .await
        .expect("publish");
    let record = env
        .p
        .settlement(id)
        .await
        .expect("read")
        .expect("published");
    assert_eq!(record.challenge_id, id);
    assert_eq!(record.settlement_hash, hash);
    assert_eq!(record.winner, winner);
    assert_eq!(record.publisher, validators[0].address());
    assert_eq!(
        record.published_at,
        env.p.ledger().timestamp().await.expect("now")
    );
    assert_eq!(record.terms, terms);
}

#[tokio::test]
async fn only_staked_validators_publish_and_only_once() {
    let (env, validators) = with_validators(&DeployParams::default(), &[10_000]).await;
    let id = keccak256("challenge/2");
    let hash = keccak256("settlement/2");
    let winner = env.nodes[5].address();

    // No validator role.
    let outsider = &env.nodes[4];
    let d = expect_revert(
        env.p
            .publish_settlement(outsider, id, hash, winner, &[])
            .await,
        "NotValidator",
    );
    assert_eq!(d.arg("account"), Some(shown(outsider.address()).as_str()));
    // The role without stake carries no weight either.
    let unstaked = &env.nodes[3];
    env.p
        .grant(&env.admin, Role::Validator, unstaked.address())
        .await
        .expect("grant");
    expect_revert(
        env.p
            .publish_settlement(unstaked, id, hash, winner, &[])
            .await,
        "NotValidator",
    );
    assert_eq!(env.p.settlement(id).await.expect("read"), None);

    env.p
        .publish_settlement(&validators[0], id, hash, winner, &[])
        .await
        .expect("publish");
    let d = expect_revert(
        env.p
            .publish_settlement(&validators[0], id, keccak256("other"), winner, &[])
            .await,
        "AlreadyPublished",
    );
    assert_eq!(d.arg("challengeId"), Some(id.to_string().as_str()));
    let record = env.p.settlement(id).await.expect("read").expect("kept");
    assert_eq!(record.settlement_hash, hash, "the first record stays");
}

// ----------------------------------------------------------------------------------------
// Epoch roots
// ----------------------------------------------------------------------------------------

#[tokio::test]
async fn a_root_finalises_at_two_thirds_of_validator_stake_and_mints_the_emission() {
    let params = DeployParams::default();
    let (env, v) = with_validators(&params, &[10_000, 10_000, 10_000]).await;
    let root = keccak256("root/a");
    let rival = keccak256("root/b");

    expect_revert(env.p.propose_root(&v[0], 0, root).await, "EpochNotEnded");
    advance(&env, DAY + 1).await;
    expect_revert(
        env.p.propose_root(&env.nodes[6], 0, root).await,
        "NotValidator",
    );
    expect_revert(env.p.propose_root(&v[0], 1, root).await, "EpochNotOpen");

    let before = supply(&env).await;
    // One third: not final.
    env.p.propose_root(&v[0], 0, root).await.expect("propose");
    expect_revert(env.p.propose_root(&v[0], 0, root).await, "AlreadyProposed");
    // A dissenting third: still nothing final.
    env.p.propose_root(&v[1], 0, rival).await.expect("propose");
    assert_eq!(
        env.p.root_support(0, root).await.expect("support"),
        (pin(10_000), pin(30_000))
    );
    let status = env.p.emission_status().await.expect("status");
    assert_eq!(status.next_epoch, 0);
    assert_eq!(status.latest_root, B256::ZERO);
    assert_eq!(status.emitted, Pin::ZERO);
    assert_eq!(supply(&env).await, before);
    expect_revert(
        env.p.finalise_epoch(&v[2], 0, root).await,
        "QuorumNotReached",
    );

    // Two thirds: final, and exactly the scheduled emission is minted to the contract.
    env.p.propose_root(&v[2], 0, root).await.expect("propose");
    let status = env.p.emission_status().await.expect("status");
    assert_eq!(status.next_epoch, 1);
    assert_eq!(status.latest_root, root);
    assert_eq!(status.emitted, params.emission_per_epoch);
    assert_eq!(status.balance, params.emission_per_epoch);
    assert_eq!(
        env.p.epoch_root(0).await.expect("root"),
        (root, params.emission_per_epoch)
    );
    assert_eq!(
        supply(&env).await,
        before
            .checked_add(params.emission_per_epoch)
            .expect("no overflow")
    );
    // The epoch is closed; the next one has not ended.
    expect_revert(env.p.propose_root(&v[1], 0, root).await, "EpochNotOpen");
    expect_revert(env.p.propose_root(&v[0], 1, root).await, "EpochNotEnded");
}

#[tokio::test]
async fn unequal_stake_counts_by_weight_not_by_head() {
    // 50,000 against 2 × 10,000: the big validator alone is 5/7 ≥ 2/3; the two small ones are not.
    let (env, v) = with_validators(&DeployParams::default(), &[50_000, 10_000, 10_000]).await;
    advance(&env, DAY + 1).await;
    let root = keccak256("root/weighted");
    env.p.propose_root(&v[1], 0, root).await.expect("propose");
    env.p.propose_root(&v[2], 0, root).await.expect("propose");
    assert_eq!(env.p.emission_status().await.expect("status").next_epoch, 0);
    env.p.propose_root(&v[0], 0, root).await.expect("propose");
    assert_eq!(env.p.emission_status().await.expect("status").next_epoch, 1);
}

#[tokio::test]
async fn support_is_current_stake_and_anyone_finalises_once_it_suffices() {
    // 20,000 of 40,000 proposed: one half, not final. When the silent validator loses its role,
    // the same proposal holds 2/3 of what remains and anyone may finalise it.
    let (env, v) = with_validators(&DeployParams::default(), &[20_000, 10_000, 10_000]).await;
    advance(&env, DAY + 1).await;
    let root = keccak256("root/late");
    let anyone = &env.nodes[6];
    expect_revert(
        env.p
            .claim_emission(anyone, anyone.address(), pin(1), &[])
            .await,
        "NoRoot",
    );
    env.p.propose_root(&v[0], 0, root).await.expect("propose");
    let d = expect_revert(
        env.p.finalise_epoch(anyone, 0, root).await,
        "QuorumNotReached",
    );
    assert_eq!(d.arg("support"), Some(pin(20_000).to_string().as_str()));
    assert_eq!(d.arg("totalStake"), Some(pin(40_000).to_string().as_str()));
    env.p
        .revoke(&env.admin, Role::Validator, v[2].address())
        .await
        .expect("revoke");
    assert_eq!(
        env.p.root_support(0, root).await.expect("support"),
        (pin(20_000), pin(30_000))
    );
    env.p
        .finalise_epoch(anyone, 0, root)
        .await
        .expect("finalise");
    assert_eq!(
        env.p.emission_status().await.expect("status").latest_root,
        root
    );
    expect_revert(env.p.finalise_epoch(anyone, 0, root).await, "EpochNotOpen");
}

#[tokio::test]
async fn emissions_stop_at_the_supply_cap() {
    // 30,000 PIN staked by validators; 100,000 per epoch; a 150,000 cap leaves 20,000 for epoch 1.
    let params = DeployParams {
        supply_cap: pin(150_000),
        ..DeployParams::default()
    };
    let (env, v) = with_validators(&params, &[10_000, 10_000, 10_000]).await;
    let expected = [pin(100_000), pin(20_000), Pin::ZERO];
    for (epoch, minted) in expected.into_iter().enumerate() {
        advance(&env, DAY + 1).await;
        let root = keccak256(format!("root/{epoch}"));
        let epoch = u64::try_from(epoch).expect("small");
        env.p
            .propose_root(&v[0], epoch, root)
            .await
            .expect("propose");
        env.p
            .propose_root(&v[1], epoch, root)
            .await
            .expect("propose");
        assert_eq!(env.p.epoch_root(epoch).await.expect("root"), (root, minted));
    }
    assert_eq!(supply(&env).await, pin(150_000));
}

// ----------------------------------------------------------------------------------------
// Claims with the Rust Merkle tree
// ----------------------------------------------------------------------------------------

/// Proposes `root` for `epoch` with the first two of three equal validators (2/3: final).
async fn finalise(env: &Env, v: &[PrivateKeySigner], epoch: u64, root: B256) {
    for validator in &v[..2] {
        env.p
            .propose_root(validator, epoch, root)
            .await
            .expect("propose");
    }
    assert_eq!(
        env.p.emission_status().await.expect("status").latest_root,
        root
    );
}

fn proof_of(tree: &MerkleTree, i: usize) -> Vec<B256> {
    tree.proof(i)
        .expect("in range")
        .into_iter()
        .map(b256)
        .collect()
}

#[tokio::test]
async fn rust_merkle_tree_and_contract_agree_on_cumulative_claims() {
    let params = DeployParams::default();
    let (env, v) = with_validators(&params, &[10_000, 10_000, 10_000]).await;
    let e18: u128 = 1_000_000_000_000_000_000;

    // Epoch 0: five payees, odd wei amounts, summing to less than the 100,000 PIN emission.
    let epoch0: Vec<(Account, u128)> = (0..5u8)
        .map(|i| {
            (
                account(payee(i)),
                (1_000 + 3_777 * u128::from(i)) * e18 + 12_345 + u128::from(i),
            )
        })
        .collect();
    let cumulative0 = accumulate(&[], &epoch0).expect("table");
    let tree0 = MerkleTree::from_table(&cumulative0).expect("tree");
    advance(&env, DAY + 1).await;
    finalise(&env, &v, 0, b256(tree0.root())).await;

    // Every payee but the last claims with the Rust proof (the sender is anyone: the admin).
    let skipper = cumulative0.len() - 1;
    for (i, (a, total)) in cumulative0.iter().enumerate().take(skipper) {
        let to = Address::from(a.0);
        let (paid, _) = env
            .p
            .claim_emission(&env.admin, to, amount(*total), &proof_of(&tree0, i))
            .await
            .expect("claim");
        assert_eq!(paid, amount(*total));
        assert_eq!(env.p.balance(to).await.expect("balance"), amount(*total));
    }

    // A second claim pays nothing.
    let (a0, total0) = cumulative0[0];
    let to0 = Address::from(a0.0);
    let d = expect_revert(
        env.p
            .claim_emission(&env.admin, to0, amount(total0), &proof_of(&tree0, 0))
            .await,
        "NothingToClaim",
    );
    assert_eq!(d.arg("account"), Some(shown(to0).as_str()));
    assert_eq!(env.p.balance(to0).await.expect("balance"), amount(total0));

    // Forgeries: a wrong amount, someone else's proof, a padded proof, an outsider.
    let (a1, total1) = cumulative0[1];
    let to1 = Address::from(a1.0);
    for (to, total, proof) in [
        (to1, total1 + 1, proof_of(&tree0, 1)),
        (to1, total1, proof_of(&tree0, 2)),
        (to1, total1, {
            let mut p = proof_of(&tree0, 1);
            p.push(keccak256("padding"));
            p
        }),
        (payee(99), total1, proof_of(&tree0, 1)),
    ] {
        expect_revert(
            env.p
                .claim_emission(&env.admin, to, amount(total), &proof)
                .await,
            "InvalidProof",
        );
    }
    assert_eq!(env.p.balance(to1).await.expect("balance"), amount(total1));

    // Epoch 1: payees 1 and 3 earn more, payee 0 nothing, a new payee joins; the root covers the
    // running totals.
    let epoch1: Vec<(Account, u128)> = vec![
        (account(payee(1)), 500 * e18 + 1),
        (account(payee(3)), 7 * e18),
        (account(payee(7)), 2_000 * e18 + 99),
    ];
    let cumulative1 = accumulate(&cumulative0, &epoch1).expect("table");
    let tree1 = MerkleTree::from_table(&cumulative1).expect("tree");
    advance(&env, DAY).await;
    finalise(&env, &v, 1, b256(tree1.root())).await;

    // An old proof does not verify against the new root.
    expect_revert(
        env.p
            .claim_emission(&env.admin, to1, amount(total1), &proof_of(&tree0, 1))
            .await,
        "InvalidProof",
    );
    let mut paid_total = Pin::ZERO;
    for (i, (a, total)) in cumulative1.iter().enumerate() {
        let to = Address::from(a.0);
        let before = env.p.balance(to).await.expect("balance");
        let earlier = cumulative0
            .iter()
            .enumerate()
            .find(|(_, (b, _))| b == a)
            .map_or(0, |(j, (_, x))| if j == skipper { 0 } else { *x });
        let result = env
            .p
            .claim_emission(&env.admin, to, amount(*total), &proof_of(&tree1, i))
            .await;
        if *total == earlier {
            // Payees 0 and 2 earned nothing new: nothing to claim.
            expect_revert(result, "NothingToClaim");
        } else {
            let (paid, _) = result.expect("claim");
            assert_eq!(paid, amount(total - earlier), "only the difference is paid");
            paid_total = paid_total.checked_add(paid).expect("no overflow");
        }
        assert_eq!(env.p.balance(to).await.expect("balance"), amount(*total));
        assert_eq!(
            env.p.emission_claimed(to).await.expect("claimed"),
            amount(*total)
        );
        assert!(before <= amount(*total));
    }

    // Solvency: everything the tables granted was paid, the rest stays in the contract.
    let granted: u128 = cumulative1.iter().map(|(_, x)| x).sum();
    let status = env.p.emission_status().await.expect("status");
    assert_eq!(status.claimed, amount(granted));
    assert_eq!(
        status.emitted,
        params
            .emission_per_epoch
            .checked_add(params.emission_per_epoch)
            .expect("no overflow")
    );
    assert_eq!(
        status.balance,
        status.emitted.checked_sub(status.claimed).expect("solvent")
    );
    assert!(paid_total > Pin::ZERO);
}
