//! The settlement registry and the epoch emissions on the embedded chain: publishing settled
//! challenges (validators only, once per challenge), validators committing to and then revealing
//! their weights after each epoch (with the commitment computed in Rust), stake-weighted 2/3
//! finalisation of epoch roots once the reveals are over, with the scheduled (capped) mint, and
//! claims whose Merkle proofs come from the Rust emission tree in `nash::emission`, so the two
//! implementations are checked against each other.

mod common;

use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolCall, SolValue};
use common::{DAY, Env, expect_revert, pin, setup_with, shown, signer};
use nash::emission::{Account, MerkleTree, accumulate};
use nash::units::Hash32;
use pin_chain::bindings::EpochEmissions;
use pin_chain::{
    DecodedRevert, DeployParams, EmbeddedLedger, EpochSchedule, Error, Ledger as _, MAX_MINERS,
    Pin, Protocol, Receipt, RevealedWeights, Role, SettlementTerm, TxRequest, WeightsError, revert,
    weights_commitment,
};

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

async fn now(env: &Env) -> u64 {
    env.p.ledger().timestamp().await.expect("now")
}

/// Moves the clock to at least `t`; the next transaction's block is later than `t`.
async fn advance_to(env: &Env, t: u64) {
    let now = now(env).await;
    if t > now {
        advance(env, t - now).await;
    }
}

async fn schedule(env: &Env) -> EpochSchedule {
    env.p.epoch_schedule().await.expect("schedule")
}

/// Moves the clock past the reveal window of `epoch`, where its roots are taken.
async fn advance_to_proposals(env: &Env, epoch: u64) {
    let opens = schedule(env).await.propose_opens(epoch);
    advance_to(env, opens).await;
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

    let d = expect_revert(env.p.propose_root(&v[0], 0, root).await, "ProposalNotOpen");
    let opens = schedule(&env).await.propose_opens(0);
    assert_eq!(
        d.arg("opensAt"),
        Some(format!("{opens} (unix time)").as_str())
    );
    // Nor while the weights of the epoch are being committed and revealed.
    advance_to(&env, schedule(&env).await.commit_opens(0)).await;
    expect_revert(env.p.propose_root(&v[0], 0, root).await, "ProposalNotOpen");
    advance_to(&env, schedule(&env).await.reveal_opens(0)).await;
    expect_revert(env.p.propose_root(&v[0], 0, root).await, "ProposalNotOpen");
    advance_to_proposals(&env, 0).await;
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
    expect_revert(env.p.propose_root(&v[0], 1, root).await, "ProposalNotOpen");
}

#[tokio::test]
async fn unequal_stake_counts_by_weight_not_by_head() {
    // 50,000 against 2 × 10,000: the big validator alone is 5/7 ≥ 2/3; the two small ones are not.
    let (env, v) = with_validators(&DeployParams::default(), &[50_000, 10_000, 10_000]).await;
    advance_to_proposals(&env, 0).await;
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
    advance_to_proposals(&env, 0).await;
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
        let root = keccak256(format!("root/{epoch}"));
        let epoch = u64::try_from(epoch).expect("small");
        advance_to_proposals(&env, epoch).await;
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
    advance_to_proposals(&env, 0).await;
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
    advance_to_proposals(&env, 1).await;
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

// ----------------------------------------------------------------------------------------
// Validator weights: commit, then reveal
// ----------------------------------------------------------------------------------------

/// A distinct miner address.
fn miner(i: u8) -> Address {
    Address::repeat_byte(0x80 + i)
}

/// `n` miners with weights derived from `seed`, given in descending miner order (the client
/// sorts them).
fn weights(n: u8, seed: u64) -> Vec<(Address, U256)> {
    (0..n)
        .rev()
        .map(|i| (miner(i), U256::from(seed * 1_000 + u64::from(i) * 37)))
        .collect()
}

/// `weights` as the contract returns them: ascending by miner.
fn sorted(mut w: Vec<(Address, U256)>) -> Vec<(Address, U256)> {
    w.sort_by_key(|(m, _)| *m);
    w
}

fn salt(tag: &str) -> B256 {
    keccak256(format!("salt/{tag}"))
}

/// Commits `v` to `w` with `salt` for `epoch`, with the Rust commitment.
async fn commit(
    env: &Env,
    v: &PrivateKeySigner,
    epoch: u64,
    w: &[(Address, U256)],
    salt: B256,
) -> Receipt {
    let c = weights_commitment(epoch, v.address(), w, salt).expect("valid weights");
    env.p
        .commit_weights(v, epoch, c)
        .await
        .expect("commit weights")
}

/// Sends `revealWeights` as given, bypassing the client's sorting and checks, and returns the
/// contract's refusal.
async fn raw_reveal(
    env: &Env,
    v: &PrivateKeySigner,
    epoch: u64,
    miners: Vec<Address>,
    weights: Vec<U256>,
    salt: B256,
) -> DecodedRevert {
    let call = EpochEmissions::revealWeightsCall {
        epoch: U256::from(epoch),
        miners,
        weights,
        salt,
    };
    let to = env.p.deployment().emissions;
    match env
        .p
        .ledger()
        .send(v, TxRequest::call(to, call.abi_encode()))
        .await
    {
        Err(Error::Reverted { data }) => revert::decode(&data).expect("a known contract error"),
        other => panic!("expected a revert, got {other:?}"),
    }
}

fn unix(t: u64) -> String {
    format!("{t} (unix time)")
}

#[tokio::test]
async fn two_validators_commit_reveal_read_back_and_then_propose() {
    let params = DeployParams::default();
    let (env, v) = with_validators(&params, &[10_000, 10_000]).await;
    let s = schedule(&env).await;
    assert_eq!(s.epoch_length, params.epoch_length);
    assert_eq!(s.reveal_window, params.reveal_window);
    assert_eq!(s.epoch_at(now(&env).await), Some(0));
    assert_eq!(s.end(0), s.genesis + params.epoch_length);
    let (w0, w1) = (weights(8, 1), weights(8, 2));
    let (s0, s1) = (salt("v0"), salt("v1"));

    // Weights for epoch 0 are committed only once it has ended.
    let c0 = weights_commitment(0, v[0].address(), &w0, s0).expect("valid");
    let d = expect_revert(env.p.commit_weights(&v[0], 0, c0).await, "CommitNotOpen");
    assert_eq!(d.arg("opensAt"), Some(unix(s.commit_opens(0)).as_str()));
    advance_to(&env, s.commit_opens(0)).await;
    assert_eq!(s.epoch_at(now(&env).await), Some(1));

    let committed0 = commit(&env, &v[0], 0, &w0, s0).await;
    let committed1 = commit(&env, &v[1], 0, &w1, s1).await;
    assert_eq!(
        env.p.commitment_of(0, v[0].address()).await.expect("read"),
        c0
    );
    assert_eq!(
        env.p.commitment_of(0, v[1].address()).await.expect("read"),
        weights_commitment(0, v[1].address(), &w1, s1).expect("valid")
    );
    assert_eq!(
        env.p
            .commitment_of(0, env.nodes[6].address())
            .await
            .expect("read"),
        B256::ZERO
    );
    // Nothing is revealed, and no root is taken, before the reveal window.
    let d = expect_revert(
        env.p.reveal_weights(&v[0], 0, &w0, s0).await,
        "RevealNotOpen",
    );
    assert_eq!(d.arg("opensAt"), Some(unix(s.reveal_opens(0)).as_str()));
    let d = expect_revert(
        env.p.propose_root(&v[0], 0, keccak256("root")).await,
        "ProposalNotOpen",
    );
    assert_eq!(d.arg("opensAt"), Some(unix(s.propose_opens(0)).as_str()));

    // The second validator reveals first: the list follows the order of the reveals.
    advance_to(&env, s.reveal_opens(0)).await;
    let revealed1 = env
        .p
        .reveal_weights(&v[1], 0, &w1, s1)
        .await
        .expect("reveal");
    assert_eq!(
        env.p.revealed_weights(0).await.expect("read"),
        vec![RevealedWeights {
            validator: v[1].address(),
            weights: sorted(w1.clone()),
        }]
    );
    let revealed0 = env
        .p
        .reveal_weights(&v[0], 0, &w0, s0)
        .await
        .expect("reveal");
    assert_eq!(
        env.p.revealed_weights(0).await.expect("read"),
        vec![
            RevealedWeights {
                validator: v[1].address(),
                weights: sorted(w1),
            },
            RevealedWeights {
                validator: v[0].address(),
                weights: sorted(w0),
            },
        ]
    );
    assert_eq!(env.p.revealed_weights(1).await.expect("read"), vec![]);
    expect_revert(
        env.p.propose_root(&v[0], 0, keccak256("root")).await,
        "ProposalNotOpen",
    );
    let gas = (committed0.gas_used, committed1.gas_used);
    let reveal_gas = (revealed0.gas_used, revealed1.gas_used);
    eprintln!("gas with 8 miners: commit {gas:?}, reveal {reveal_gas:?}");
    assert!(gas.0 < 60_000 && gas.1 < 60_000, "commit gas {gas:?}");
    assert!(
        reveal_gas.0 < 300_000 && reveal_gas.1 < 300_000,
        "reveal gas {reveal_gas:?}"
    );

    // Once the reveals are over, the root is proposed and final with both validators.
    advance_to(&env, s.propose_opens(0)).await;
    assert_eq!(env.p.next_epoch().await.expect("next"), 0);
    assert_eq!(
        env.p.total_validator_stake().await.expect("stake"),
        pin(20_000)
    );
    let root = keccak256("root/weights");
    env.p.propose_root(&v[0], 0, root).await.expect("propose");
    assert_eq!(env.p.latest_root().await.expect("root"), B256::ZERO);
    env.p.propose_root(&v[1], 0, root).await.expect("propose");
    assert_eq!(env.p.latest_root().await.expect("root"), root);
    assert_eq!(env.p.next_epoch().await.expect("next"), 1);
    assert_eq!(
        env.p.epoch_root(0).await.expect("root"),
        (root, params.emission_per_epoch)
    );
}

#[tokio::test]
async fn a_reveal_must_match_its_commitment_and_a_copy_cannot_be_revealed() {
    let (env, v) = with_validators(&DeployParams::default(), &[10_000, 10_000, 10_000]).await;
    let s = schedule(&env).await;
    let w = weights(3, 5);
    let good = salt("good");
    advance_to(&env, s.commit_opens(0)).await;
    commit(&env, &v[0], 0, &w, good).await;
    let committed = env.p.commitment_of(0, v[0].address()).await.expect("read");
    // A copier commits the same hash; it binds the first validator's address, not the copier's.
    env.p
        .commit_weights(&v[1], 0, committed)
        .await
        .expect("any nonzero commitment is taken");
    advance_to(&env, s.reveal_opens(0)).await;

    // Other weights, another salt, another epoch's commitment: each hashes to something else,
    // and the contract reports the hash it computed, which is the Rust function's.
    let mut heavier = w.clone();
    heavier[0].1 += U256::from(1u8);
    for (weights, salt) in [
        (&heavier, good),
        (&w, salt("bad")),
        (&w[..2].to_vec(), good),
    ] {
        let d = expect_revert(
            env.p.reveal_weights(&v[0], 0, weights, salt).await,
            "CommitmentMismatch",
        );
        assert_eq!(d.arg("validator"), Some(shown(v[0].address()).as_str()));
        assert_eq!(d.arg("committed"), Some(committed.to_string().as_str()));
        let expected = weights_commitment(0, v[0].address(), weights, salt).expect("valid");
        assert_eq!(d.arg("revealed"), Some(expected.to_string().as_str()));
    }
    assert_eq!(env.p.revealed_weights(0).await.expect("read"), vec![]);

    env.p
        .reveal_weights(&v[0], 0, &w, good)
        .await
        .expect("the committed weights");
    expect_revert(
        env.p.reveal_weights(&v[0], 0, &w, good).await,
        "AlreadyRevealed",
    );
    // The copier now knows the weights and the salt, and still cannot open the copied hash.
    let d = expect_revert(
        env.p.reveal_weights(&v[1], 0, &w, good).await,
        "CommitmentMismatch",
    );
    assert_eq!(d.arg("validator"), Some(shown(v[1].address()).as_str()));
    // And a validator that did not commit cannot reveal at all.
    let d = expect_revert(
        env.p.reveal_weights(&v[2], 0, &w, good).await,
        "NotCommitted",
    );
    assert_eq!(d.arg("validator"), Some(shown(v[2].address()).as_str()));
    assert_eq!(
        env.p.revealed_weights(0).await.expect("read"),
        vec![RevealedWeights {
            validator: v[0].address(),
            weights: sorted(w),
        }]
    );
}

#[tokio::test]
async fn commits_and_reveals_are_taken_only_in_their_windows() {
    let (env, v) = with_validators(&DeployParams::default(), &[10_000, 10_000]).await;
    let s = schedule(&env).await;
    let w = weights(2, 1);
    let sa = salt("late");

    advance_to(&env, s.commit_opens(0)).await;
    commit(&env, &v[0], 0, &w, sa).await;
    // Epoch 1 has not ended.
    let c = weights_commitment(1, v[1].address(), &w, sa).expect("valid");
    let d = expect_revert(env.p.commit_weights(&v[1], 1, c).await, "CommitNotOpen");
    assert_eq!(d.arg("epoch"), Some("1"));
    assert_eq!(d.arg("opensAt"), Some(unix(s.commit_opens(1)).as_str()));

    // Commitments close when reveals open.
    advance_to(&env, s.reveal_opens(0)).await;
    let c = weights_commitment(0, v[1].address(), &w, sa).expect("valid");
    let d = expect_revert(env.p.commit_weights(&v[1], 0, c).await, "CommitClosed");
    assert_eq!(d.arg("closedAt"), Some(unix(s.reveal_opens(0)).as_str()));
    assert_eq!(
        env.p.commitment_of(0, v[1].address()).await.expect("read"),
        B256::ZERO
    );

    // Reveals close when proposals open: a commitment left unrevealed stays so.
    advance_to(&env, s.propose_opens(0)).await;
    let d = expect_revert(env.p.reveal_weights(&v[0], 0, &w, sa).await, "RevealClosed");
    assert_eq!(d.arg("closedAt"), Some(unix(s.propose_opens(0)).as_str()));
    assert_eq!(env.p.revealed_weights(0).await.expect("read"), vec![]);

    // Epoch 1 follows the same schedule, one epoch later.
    advance_to(&env, s.commit_opens(1)).await;
    commit(&env, &v[1], 1, &w, sa).await;
    let d = expect_revert(
        env.p.reveal_weights(&v[1], 1, &w, sa).await,
        "RevealNotOpen",
    );
    assert_eq!(d.arg("opensAt"), Some(unix(s.reveal_opens(1)).as_str()));
    advance_to(&env, s.reveal_opens(1)).await;
    env.p
        .reveal_weights(&v[1], 1, &w, sa)
        .await
        .expect("reveal in the window");
}

#[tokio::test]
async fn only_staked_validators_commit_once_and_nonzero() {
    let (env, v) = with_validators(&DeployParams::default(), &[10_000]).await;
    let s = schedule(&env).await;
    advance_to(&env, s.commit_opens(0)).await;
    let w = weights(2, 1);
    let sa = salt("who");

    let outsider = &env.nodes[6];
    let c = weights_commitment(0, outsider.address(), &w, sa).expect("valid");
    let d = expect_revert(env.p.commit_weights(outsider, 0, c).await, "NotValidator");
    assert_eq!(d.arg("account"), Some(shown(outsider.address()).as_str()));
    // The role without stake carries no weight either.
    let unstaked = &env.nodes[5];
    env.p
        .grant(&env.admin, Role::Validator, unstaked.address())
        .await
        .expect("grant");
    expect_revert(env.p.commit_weights(unstaked, 0, c).await, "NotValidator");

    expect_revert(
        env.p.commit_weights(&v[0], 0, B256::ZERO).await,
        "ZeroCommitment",
    );
    commit(&env, &v[0], 0, &w, sa).await;
    let d = expect_revert(
        env.p
            .commit_weights(&v[0], 0, keccak256("second thoughts"))
            .await,
        "AlreadyCommitted",
    );
    assert_eq!(d.arg("validator"), Some(shown(v[0].address()).as_str()));
    assert_eq!(
        env.p.commitment_of(0, v[0].address()).await.expect("read"),
        weights_commitment(0, v[0].address(), &w, sa).expect("valid"),
        "the first commitment stays"
    );
}

#[tokio::test]
async fn miners_must_be_strictly_ascending_few_enough_and_weights_small_enough() {
    let (env, v) = with_validators(&DeployParams::default(), &[10_000]).await;
    let s = schedule(&env).await;
    advance_to(&env, s.commit_opens(0)).await;
    let sa = salt("shape");
    let w = weights(3, 1);
    commit(&env, &v[0], 0, &w, sa).await;
    advance_to(&env, s.reveal_opens(0)).await;

    // The client refuses what the contract would, and sends nothing.
    let block = env.block_number();
    let dup = [(miner(1), U256::from(1u8)), (miner(1), U256::from(2u8))];
    assert!(matches!(
        env.p.reveal_weights(&v[0], 0, &dup, sa).await,
        Err(Error::Weights(WeightsError::DuplicateMiner { miner: m })) if m == miner(1)
    ));
    assert!(matches!(
        weights_commitment(0, v[0].address(), &dup, sa),
        Err(WeightsError::DuplicateMiner { .. })
    ));
    let many: Vec<_> = (0..=MAX_MINERS)
        .map(|i| (Address::left_padding_from(&i.to_be_bytes()), U256::ZERO))
        .collect();
    assert!(matches!(
        env.p.reveal_weights(&v[0], 0, &many, sa).await,
        Err(Error::Weights(WeightsError::TooManyMiners { .. }))
    ));
    let heavy = [(miner(1), U256::from(1u8) << 96)];
    assert!(matches!(
        env.p.reveal_weights(&v[0], 0, &heavy, sa).await,
        Err(Error::Weights(WeightsError::WeightTooLarge { .. }))
    ));
    assert_eq!(env.block_number(), block, "nothing was sent");

    // The contract refuses the same when sent anyway: unsorted, repeated, too many, too heavy,
    // of different lengths.
    let (m, x) = (miner, |n: u64| U256::from(n));
    let d = raw_reveal(&env, &v[0], 0, vec![m(2), m(1), m(3)], vec![x(1); 3], sa).await;
    assert_eq!(
        (d.name.as_str(), d.arg("index")),
        ("MinersNotSorted", Some("1"))
    );
    let d = raw_reveal(&env, &v[0], 0, vec![m(1), m(2), m(2)], vec![x(1); 3], sa).await;
    assert_eq!(
        (d.name.as_str(), d.arg("index")),
        ("MinersNotSorted", Some("2"))
    );
    let d = raw_reveal(&env, &v[0], 0, vec![m(1), m(2)], vec![x(1); 3], sa).await;
    assert_eq!(d.name, "LengthMismatch");
    assert_eq!(
        (d.arg("minerCount"), d.arg("weightCount")),
        (Some("2"), Some("3"))
    );
    let (miners, zeros): (Vec<_>, Vec<_>) = many.into_iter().unzip();
    let d = raw_reveal(&env, &v[0], 0, miners, zeros, sa).await;
    assert_eq!(d.name, "TooManyMiners");
    assert_eq!(
        (d.arg("count"), d.arg("maximum")),
        (Some("257"), Some("256"))
    );
    let d = raw_reveal(&env, &v[0], 0, vec![m(1), m(2)], vec![x(1), x(1) << 96], sa).await;
    assert_eq!(
        (d.name.as_str(), d.arg("index")),
        ("WeightTooLarge", Some("1"))
    );

    // A reveal of the most the contract takes, at the largest weight it stores, reads back.
    let max = (U256::from(1u8) << 96) - U256::from(1u8);
    let full: Vec<_> = (0..MAX_MINERS)
        .map(|i| (Address::left_padding_from(&(i + 1).to_be_bytes()), max))
        .collect();
    let v1 = &env.nodes[0];
    env.p
        .grant(&env.admin, Role::Validator, v1.address())
        .await
        .expect("grant");
    env.fund(v1.address(), pin(10_000)).await;
    env.p.stake(v1, pin(10_000)).await.expect("stake");
    // Epoch 1: its commit window is the first one still ahead.
    advance_to(&env, s.commit_opens(1)).await;
    commit(&env, v1, 1, &full, sa).await;
    advance_to(&env, s.reveal_opens(1)).await;
    let receipt = env
        .p
        .reveal_weights(v1, 1, &full, sa)
        .await
        .expect("reveal 256");
    eprintln!("gas to reveal {MAX_MINERS} miners: {}", receipt.gas_used);
    let read = env.p.revealed_weights(1).await.expect("read");
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].weights, full);
}

#[tokio::test]
async fn the_rust_commitment_is_the_contracts_encoding() {
    // The contract's own hash of the revealed values (reported by CommitmentMismatch) equals the
    // Rust function's, for an empty reveal, one miner and the 8-miner case with large values.
    let (env, v) = with_validators(&DeployParams::default(), &[10_000]).await;
    let s = schedule(&env).await;
    advance_to(&env, s.commit_opens(0)).await;
    env.p
        .commit_weights(&v[0], 0, keccak256("placeholder"))
        .await
        .expect("commit");
    advance_to(&env, s.reveal_opens(0)).await;
    let max = (U256::from(1u8) << 96) - U256::from(1u8);
    let cases: Vec<Vec<(Address, U256)>> = vec![
        vec![],
        vec![(miner(9), U256::from(1u8))],
        sorted(weights(8, 3))
            .into_iter()
            .map(|(m, w)| (m, max - w))
            .collect(),
    ];
    for w in cases {
        let sa = salt(&format!("{}", w.len()));
        let (miners, ws): (Vec<_>, Vec<_>) = w.iter().copied().unzip();
        let d = raw_reveal(&env, &v[0], 0, miners.clone(), ws.clone(), sa).await;
        assert_eq!(d.name, "CommitmentMismatch");
        let rust = weights_commitment(0, v[0].address(), &w, sa).expect("valid");
        assert_eq!(d.arg("revealed"), Some(rust.to_string().as_str()));
        // And the encoding is Solidity's abi.encode of the five values.
        let by_hand = keccak256((U256::ZERO, v[0].address(), miners, ws, sa).abi_encode_params());
        assert_eq!(rust, by_hand);
    }
}

#[tokio::test]
async fn a_zero_reveal_window_is_refused_at_deployment() {
    let params = DeployParams {
        reveal_window: 0,
        ..DeployParams::default()
    };
    let ledger = EmbeddedLedger::in_memory().expect("in-memory chain");
    let result = Protocol::deploy(ledger, &signer(0), &params).await;
    expect_revert(result.map(|_| ()), "EmissionsZeroRevealWindow");
    assert_eq!(DeployParams::default().reveal_window, DAY / 24);
}
