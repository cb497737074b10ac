//! Hostile callers against the contracts on the embedded revm chain, covering what
//! `defects.rs`, `emissions.rs` and `invariants.rs` do not:
//!
//! * every role-gated function not tested there, called by each kind of wrong caller (no role,
//!   another role, a role in another contract, the admin where it lacks the role), reverts with
//!   its decoded Solidity error (`AccessControlUnauthorizedAccount` naming the role and the
//!   caller, `AccessControlBadConfirmation`, `NotValidator`) and changes nothing;
//! * amounts near 2^256 on mint, transfer, transferFrom, burn, stake, unstake, slash, budgets
//!   and challenge slashes revert with a decoded error and change nothing (a challenge that
//!   would slash too much does not even invalidate the attestation);
//! * emission claims with forged proofs — random siblings, another account's proof, a flipped
//!   bit, a cut or padded proof, a larger (up to 2^256 − 1) or smaller cumulative amount, a
//!   stranger — revert `InvalidProof` and pay nothing, and the genuine proofs still pay after;
//! * reentrancy through token hooks, which cannot arise (see [`reentrancy`]).
//!
//! "Changes nothing" is checked on every account's balance, stake, roles, whitelisting and
//! locks, the protocol totals, the emission totals, the admin-set parameters, and the block
//! number (a refused transaction mines no block).

mod common;

use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall;
use common::{Env, digest, pin, setup, setup_with};
use nash::emission::{Account, MerkleTree};
use pin_chain::bindings::{EpochEmissions, PINToken, StakingManager, TrainingManager};
use pin_chain::{
    DecodedRevert, DeployParams, EmissionStatus, Error, Ledger as _, Pin, Receipt, Role, TxRequest,
    revert,
};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};

// ----------------------------------------------------------------------------------------
// Helpers
// ----------------------------------------------------------------------------------------

/// A revert decoded to the contract's error; anything else stays as it was.
fn decoded(result: Result<Receipt, Error>) -> Result<Receipt, Error> {
    match result {
        Err(Error::Reverted { data }) => {
            Err(revert::decode(&data).map_or(Error::Reverted { data }, Error::Contract))
        }
        other => other,
    }
}

/// Sends `call` to `to` from `signer`, bypassing the client's own checks.
async fn raw<C: SolCall>(
    env: &Env,
    signer: &PrivateKeySigner,
    to: Address,
    call: &C,
) -> Result<Receipt, Error> {
    decoded(
        env.p
            .ledger()
            .send(signer, TxRequest::call(to, call.abi_encode()))
            .await,
    )
}

/// The decoded revert of `result`; panics on success or any other failure.
#[track_caller]
fn reverted<T: std::fmt::Debug>(what: &str, result: Result<T, Error>) -> DecodedRevert {
    match result {
        Err(Error::Contract(d)) => d,
        other => panic!("{what}: expected a decoded contract revert, got {other:?}"),
    }
}

/// Everything a refused transaction must leave as it was.
#[derive(Debug, PartialEq)]
struct State {
    accounts: (pin_chain::Totals, Vec<pin_chain::AccountStatus>),
    emissions: EmissionStatus,
    parameters: Vec<U256>,
    treasury: Address,
    allowances: Vec<U256>,
    block: u64,
}

/// `accounts` and the contracts, as [`State`].
async fn state(env: &Env, accounts: &[Address]) -> State {
    let d = env.p.deployment();
    let mut everyone = env.everyone();
    everyone.extend_from_slice(accounts);
    let mut allowances = Vec::new();
    for &owner in &everyone {
        for spender in [d.staking, d.training, d.emissions] {
            allowances.push(
                env.read(d.token, PINToken::allowanceCall { owner, spender })
                    .await,
            );
        }
    }
    State {
        accounts: env.snapshot(&everyone).await,
        emissions: env.p.emission_status().await.expect("emission status"),
        parameters: vec![
            env.read(d.staking, StakingManager::minimumStakeCall {})
                .await,
            env.read(d.staking, StakingManager::unbondingPeriodCall {})
                .await,
            env.read(d.training, TrainingManager::challengeWindowCall {})
                .await,
            env.read(d.staking, StakingManager::totalValidatorStakeCall {})
                .await,
            env.read(d.token, PINToken::capCall {}).await,
        ],
        treasury: env.read(d.staking, StakingManager::treasuryCall {}).await,
        allowances,
        block: env.block_number(),
    }
}

fn role_id(name: &str) -> B256 {
    keccak256(name)
}

// ----------------------------------------------------------------------------------------
// Wrong roles
// ----------------------------------------------------------------------------------------

/// One role-gated call: where it goes, the role it needs, who holds it (to show the call is
/// well-formed: simulated from the holder it succeeds), and the wrong callers.
struct Gated {
    name: &'static str,
    to: Address,
    input: Vec<u8>,
    role: &'static str,
    holder: Option<Address>,
    wrong: Vec<PrivateKeySigner>,
}

#[tokio::test]
async fn every_role_gated_function_refuses_every_wrong_caller_and_changes_nothing() {
    let env = setup().await;
    let d = env.p.deployment().clone();
    let outsider = env.nodes[0].clone();
    let node = env.staked_node(1, pin(10_000), pin(10_000)).await.clone();
    let (admin, trainer, validator) = (
        env.admin.clone(),
        env.trainer.clone(),
        env.validator.clone(),
    );
    let minter_role = role_id("MINTER_ROLE");

    let gated = vec![
        Gated {
            name: "PINToken.mint",
            to: d.token,
            input: PINToken::mintCall {
                to: outsider.address(),
                amount: U256::from(1),
            }
            .abi_encode(),
            role: "MINTER_ROLE",
            holder: Some(admin.address()),
            wrong: vec![
                outsider.clone(),
                trainer.clone(),
                validator.clone(),
                node.clone(),
            ],
        },
        Gated {
            name: "PINToken.grantRole",
            to: d.token,
            input: PINToken::grantRoleCall {
                role: minter_role,
                account: outsider.address(),
            }
            .abi_encode(),
            role: "DEFAULT_ADMIN_ROLE",
            holder: Some(admin.address()),
            wrong: vec![outsider.clone(), trainer.clone(), validator.clone()],
        },
        Gated {
            name: "PINToken.revokeRole",
            to: d.token,
            input: PINToken::revokeRoleCall {
                role: minter_role,
                account: d.emissions,
            }
            .abi_encode(),
            role: "DEFAULT_ADMIN_ROLE",
            holder: Some(admin.address()),
            wrong: vec![outsider.clone(), validator.clone()],
        },
        Gated {
            name: "StakingManager.grantRole",
            to: d.staking,
            input: StakingManager::grantRoleCall {
                role: role_id("VALIDATOR_ROLE"),
                account: outsider.address(),
            }
            .abi_encode(),
            role: "DEFAULT_ADMIN_ROLE",
            holder: Some(admin.address()),
            wrong: vec![outsider.clone(), validator.clone(), node.clone()],
        },
        Gated {
            name: "StakingManager.revokeRole",
            to: d.staking,
            input: StakingManager::revokeRoleCall {
                role: role_id("VALIDATOR_ROLE"),
                account: validator.address(),
            }
            .abi_encode(),
            role: "DEFAULT_ADMIN_ROLE",
            holder: Some(admin.address()),
            wrong: vec![outsider.clone(), trainer.clone(), validator.clone()],
        },
        Gated {
            name: "StakingManager.lock",
            to: d.staking,
            input: StakingManager::lockCall {
                node: node.address(),
            }
            .abi_encode(),
            role: "LOCKER_ROLE",
            // Held by the training contract (checked below); a call from a contract address cannot be
            // simulated (EIP-3607).
            holder: None,
            // The admin holds every other staking role, not this one.
            wrong: vec![
                outsider.clone(),
                admin.clone(),
                validator.clone(),
                node.clone(),
            ],
        },
        Gated {
            name: "StakingManager.unlock",
            to: d.staking,
            input: StakingManager::unlockCall {
                node: node.address(),
                count: U256::ZERO,
            }
            .abi_encode(),
            role: "LOCKER_ROLE",
            // Held by the training contract (checked below); a call from a contract address cannot be
            // simulated (EIP-3607).
            holder: None,
            wrong: vec![outsider.clone(), admin.clone(), node.clone()],
        },
        Gated {
            name: "StakingManager.setMinimumStake",
            to: d.staking,
            input: StakingManager::setMinimumStakeCall {
                minimum: U256::ZERO,
            }
            .abi_encode(),
            role: "DEFAULT_ADMIN_ROLE",
            holder: Some(admin.address()),
            wrong: vec![
                outsider.clone(),
                validator.clone(),
                trainer.clone(),
                node.clone(),
            ],
        },
        Gated {
            name: "StakingManager.setUnbondingPeriod",
            to: d.staking,
            input: StakingManager::setUnbondingPeriodCall { period: U256::ZERO }.abi_encode(),
            role: "DEFAULT_ADMIN_ROLE",
            holder: Some(admin.address()),
            wrong: vec![outsider.clone(), validator.clone(), node.clone()],
        },
        Gated {
            name: "StakingManager.setTreasury",
            to: d.staking,
            input: StakingManager::setTreasuryCall {
                treasury_: outsider.address(),
            }
            .abi_encode(),
            role: "DEFAULT_ADMIN_ROLE",
            holder: Some(admin.address()),
            wrong: vec![outsider.clone(), validator.clone(), node.clone()],
        },
        Gated {
            name: "TrainingManager.grantRole",
            to: d.training,
            input: TrainingManager::grantRoleCall {
                role: role_id("MODEL_TRAINER_ROLE"),
                account: outsider.address(),
            }
            .abi_encode(),
            role: "DEFAULT_ADMIN_ROLE",
            holder: Some(admin.address()),
            wrong: vec![outsider.clone(), trainer.clone(), validator.clone()],
        },
        Gated {
            name: "TrainingManager.setChallengeWindow",
            to: d.training,
            input: TrainingManager::setChallengeWindowCall { window: U256::ZERO }.abi_encode(),
            role: "DEFAULT_ADMIN_ROLE",
            holder: Some(admin.address()),
            wrong: vec![outsider.clone(), trainer.clone(), validator.clone()],
        },
        Gated {
            name: "TrainingManager.createRun",
            to: d.training,
            input: TrainingManager::createRunCall {
                modelId: U256::from(1),
                budget: U256::from(1),
            }
            .abi_encode(),
            role: "MODEL_TRAINER_ROLE",
            holder: None,
            // The admin administers the roles; it does not hold this one.
            wrong: vec![outsider.clone(), admin.clone(), validator.clone()],
        },
        Gated {
            name: "TrainingManager.registerModelWithPermit",
            to: d.training,
            input: TrainingManager::registerModelWithPermitCall {
                name: "m".into(),
                budget: U256::from(1),
                deadline: U256::MAX,
                v: 27,
                r: B256::ZERO,
                s: B256::ZERO,
            }
            .abi_encode(),
            role: "MODEL_TRAINER_ROLE",
            holder: None,
            wrong: vec![outsider.clone(), admin.clone(), validator.clone()],
        },
        Gated {
            name: "TrainingManager.createRunWithPermit",
            to: d.training,
            input: TrainingManager::createRunWithPermitCall {
                modelId: U256::from(1),
                budget: U256::from(1),
                deadline: U256::MAX,
                v: 27,
                r: B256::ZERO,
                s: B256::ZERO,
            }
            .abi_encode(),
            role: "MODEL_TRAINER_ROLE",
            holder: None,
            wrong: vec![outsider.clone(), admin.clone(), node.clone()],
        },
    ];

    assert!(
        env.read(
            d.staking,
            StakingManager::hasRoleCall {
                role: role_id("LOCKER_ROLE"),
                account: d.training,
            },
        )
        .await,
        "the training contract is the locker"
    );
    let accounts = [d.emissions, d.training, d.staking];
    let before = state(&env, &accounts).await;
    for g in &gated {
        if let Some(holder) = g.holder {
            env.p
                .ledger()
                .call(holder, &TxRequest::call(g.to, g.input.clone()))
                .await
                .unwrap_or_else(|e| panic!("{}: the holder's simulated call fails: {e}", g.name));
        }
        for caller in &g.wrong {
            let what = format!("{} by {}", g.name, caller.address());
            let d = reverted(
                &what,
                decoded(
                    env.p
                        .ledger()
                        .send(caller, TxRequest::call(g.to, g.input.clone()))
                        .await,
                ),
            );
            assert_eq!(d.name, "AccessControlUnauthorizedAccount", "{what}: {d}");
            assert_eq!(d.arg("neededRole"), Some(g.role), "{what}: {d}");
            assert_eq!(
                d.arg("account"),
                Some(caller.address().to_checksum(None).as_str()),
                "{what}: {d}"
            );
        }
    }

    // Renouncing a role for someone else.
    for (to, role) in [
        (d.token, minter_role),
        (d.staking, role_id("VALIDATOR_ROLE")),
        (d.training, B256::ZERO),
    ] {
        let call = PINToken::renounceRoleCall {
            role,
            callerConfirmation: admin.address(),
        };
        let d = reverted(
            "renounceRole for another",
            raw(&env, &outsider, to, &call).await,
        );
        assert_eq!(d.name, "AccessControlBadConfirmation", "{d}");
    }

    assert_eq!(
        state(&env, &accounts).await,
        before,
        "a refused call changed state"
    );

    // Root proposals need a staked validator: no role, the role without stake, stake without
    // the role.
    let unstaked = &env.nodes[2];
    env.p
        .grant(&admin, Role::Validator, unstaked.address())
        .await
        .expect("grant");
    let root = keccak256("any root");
    for caller in [&outsider, unstaked, &node, &trainer] {
        let call = EpochEmissions::proposeCall {
            epoch: U256::ZERO,
            root,
        };
        let r = reverted("propose", raw(&env, caller, d.emissions, &call).await);
        assert_eq!(r.name, "NotValidator", "{r}");
        assert_eq!(
            r.arg("account"),
            Some(caller.address().to_checksum(None).as_str())
        );
    }
    env.p
        .revoke(&admin, Role::Validator, unstaked.address())
        .await
        .expect("revoke");

    // The grant and the revoke mined two blocks each (staking and training) and undid each
    // other; the refused proposals mined nothing and changed nothing.
    let after = state(&env, &accounts).await;
    assert_eq!(
        after.block,
        before.block + 4,
        "a refused transaction mined a block"
    );
    assert_eq!(
        State {
            block: before.block,
            ..after
        },
        before
    );
}

// ----------------------------------------------------------------------------------------
// Overflow-sized amounts
// ----------------------------------------------------------------------------------------

/// A successful result, for display; failures as they are.
fn done<T: std::fmt::Debug>(result: Result<T, Error>) -> Result<String, Error> {
    result.map(|v| format!("{v:?}"))
}

/// Amounts at and near 2^256, past `uint96` (how stake and budgets are stored) and one wei past
/// the supply cap.
fn huge_amounts() -> Vec<(&'static str, U256)> {
    let cap = pin(1_000_000_000).wei();
    vec![
        ("2^256-1", U256::MAX),
        ("2^256-2", U256::MAX - U256::from(1)),
        ("2^255", U256::from(1) << 255),
        ("2^160", U256::from(1) << 160),
        ("2^96", U256::from(1) << 96),
        ("2^96-1", (U256::from(1) << 96) - U256::from(1)),
        ("cap+1", cap + U256::from(1)),
    ]
}

#[tokio::test]
async fn overflow_sized_amounts_revert_with_a_decoded_error_and_change_nothing() {
    let env = setup().await;
    let d = env.p.deployment().clone();
    let node = env.staked_node(0, pin(12_000), pin(10_000)).await.clone();
    let fresh = env.nodes[1].clone();
    env.p
        .whitelist(&env.admin, fresh.address())
        .await
        .expect("whitelist");
    env.fund(fresh.address(), pin(5)).await;
    let other = env.nodes[2].address();
    // A run in its challenge window with one attestation, for slashes through challenges.
    env.fund(env.trainer.address(), pin(1_000)).await;
    let (model, run) = env
        .p
        .register_model(&env.trainer, "m", pin(500))
        .await
        .expect("register");
    env.p.start_run(&env.trainer, run).await.expect("start");
    env.p
        .join_run(&node, run, "http://node")
        .await
        .expect("join");
    env.p
        .attest(&node, run, digest("h", 0))
        .await
        .expect("attest");
    env.p.end_run(&env.trainer, run).await.expect("end");

    let accounts = [d.emissions, d.training, d.staking, other];
    let before = state(&env, &accounts).await;
    for (label, x) in huge_amounts() {
        let amount = Pin::from_wei(x);
        let transfer_from = PINToken::transferFromCall {
            from: node.address(),
            to: other,
            value: x,
        };
        let burn_from = PINToken::burnFromCall {
            account: node.address(),
            value: x,
        };
        let (p, admin, trainer) = (&env.p, &env.admin, &env.trainer);
        let results: Vec<(&str, Result<String, Error>)> = vec![
            ("mint", done(p.mint(admin, other, amount).await)),
            ("transfer", done(p.transfer(&node, other, amount).await)),
            (
                "transferFrom",
                done(raw(&env, &fresh, d.token, &transfer_from).await),
            ),
            (
                "burn",
                done(raw(&env, &node, d.token, &PINToken::burnCall { value: x }).await),
            ),
            (
                "burnFrom",
                done(raw(&env, &fresh, d.token, &burn_from).await),
            ),
            (
                "stake on a stake",
                done(decoded(p.stake(&node, amount).await)),
            ),
            ("first stake", done(decoded(p.stake(&fresh, amount).await))),
            ("unstake", done(p.unstake(&node, amount).await)),
            (
                "slash",
                done(p.slash(admin, node.address(), amount, B256::ZERO).await),
            ),
            (
                "register budget",
                done(p.register_model(trainer, "x", amount).await),
            ),
            (
                "run budget",
                done(p.create_run(trainer, model, amount).await),
            ),
            (
                "challenge slash",
                done(
                    p.challenge(&env.validator, run, digest("h", 0), amount, B256::ZERO)
                        .await,
                ),
            ),
        ];
        for (op, result) in results {
            let what = format!("{op} {label}");
            let r = reverted(&what, result);
            assert_eq!(r.name, expected_revert(op, label), "{what}: {r}");
        }
    }
    assert_eq!(state(&env, &accounts).await, before);
    // The challenge wrote its invalidation before the slash failed: all undone.
    let attestation = env
        .read(
            d.training,
            TrainingManager::attestationOfCall {
                runId: U256::from(run.0),
                digest: digest("h", 0),
            },
        )
        .await;
    assert_eq!(
        (attestation.node, attestation.invalidated),
        (node.address(), false)
    );
    assert_eq!(env.p.run(run).await.expect("run").valid_attestations, 1);
}

/// The error each operation reverts with for each of [`huge_amounts`]: always a named error,
/// never `Panic(0x11)` — `mint` checks the cap before the supply's addition could overflow, and a
/// stake top-up refuses an amount beyond `uint96` before adding it to the stake.
fn expected_revert(op: &str, label: &str) -> &'static str {
    let fits_uint96 = matches!(label, "2^96-1" | "cap+1");
    match op {
        "mint" => "ERC20ExceededCap",
        "transfer" | "burn" => "ERC20InsufficientBalance",
        "transferFrom" | "burnFrom" => "ERC20InsufficientAllowance",
        "stake on a stake" if label == "cap+1" => "ERC20InsufficientBalance",
        "first stake" | "register budget" | "run budget" if fits_uint96 => {
            "ERC20InsufficientBalance"
        }
        "stake on a stake" | "first stake" => "SafeCastOverflowedUintDowncast",
        "register budget" | "run budget" => "TrainingBudgetTooLarge",
        "unstake" => "StakingInsufficientStake",
        "slash" | "challenge slash" => "StakingSlashExceedsStake",
        other => panic!("no expectation for {other}"),
    }
}

// ----------------------------------------------------------------------------------------
// Emission claims: a finalised root to claim against
// ----------------------------------------------------------------------------------------

/// A deployment with three validators of 10,000 PIN each (the env's validator, nodes 5 and 6).
async fn with_validators() -> (Env, Vec<PrivateKeySigner>) {
    let env = setup_with(&DeployParams::default()).await;
    let validators = vec![
        env.validator.clone(),
        env.nodes[5].clone(),
        env.nodes[6].clone(),
    ];
    for v in &validators {
        if v.address() != env.validator.address() {
            env.p
                .grant(&env.admin, Role::Validator, v.address())
                .await
                .expect("grant validator");
        }
        env.fund(v.address(), pin(10_000)).await;
        env.p.stake(v, pin(10_000)).await.expect("validator stakes");
    }
    (env, validators)
}

/// Finalises epoch 0 with the Merkle root of `table` (two of three validators propose it);
/// returns each row's proof.
async fn finalise(
    env: &Env,
    validators: &[PrivateKeySigner],
    table: &[(Address, u128)],
) -> Vec<Vec<B256>> {
    let rows: Vec<(Account, u128)> = table.iter().map(|(a, x)| (Account(a.0.0), *x)).collect();
    let tree = MerkleTree::from_table(&rows).expect("a tree");
    let root = B256::from(tree.root().0);
    let opens = env
        .p
        .epoch_schedule()
        .await
        .expect("schedule")
        .propose_opens(0);
    let now = env.p.ledger().timestamp().await.expect("now");
    if opens > now {
        env.p
            .ledger()
            .advance_time(opens - now)
            .await
            .expect("advance");
    }
    for v in &validators[..2] {
        env.p.propose_root(v, 0, root).await.expect("propose");
    }
    assert_eq!(env.p.latest_root().await.expect("root"), root);
    (0..table.len())
        .map(|i| {
            tree.proof(i)
                .expect("in range")
                .into_iter()
                .map(|h| B256::from(h.0))
                .collect()
        })
        .collect()
}

/// A distinct payee address.
fn payee(i: u8) -> Address {
    Address::repeat_byte(0x40 + i)
}

/// `n` whole PIN plus some odd wei, as a table amount.
fn odd(n: u64, i: u8) -> u128 {
    u128::from(n) * 1_000_000_000_000_000_000 + 12_345 + u128::from(i)
}

fn wei(x: u128) -> Pin {
    Pin::from_wei(U256::from(x))
}

/// What a forged claim must not change.
#[derive(Debug, PartialEq)]
struct Paid {
    emissions: EmissionStatus,
    balances: Vec<Pin>,
    claimed: Vec<Pin>,
    block: u64,
}

async fn paid(env: &Env, accounts: &[Address]) -> Paid {
    let mut balances = Vec::new();
    let mut claimed = Vec::new();
    for &a in accounts {
        balances.push(env.p.balance(a).await.expect("balance"));
        claimed.push(env.p.emission_claimed(a).await.expect("claimed"));
    }
    Paid {
        emissions: env.p.emission_status().await.expect("status"),
        balances,
        claimed,
        block: env.block_number(),
    }
}

// ----------------------------------------------------------------------------------------
// Forged proofs
// ----------------------------------------------------------------------------------------

/// How a claim is forged, relative to the genuine rows of the table.
#[derive(Clone, Debug)]
enum Forgery {
    /// The payee's account and amount with random siblings.
    RandomSiblings(prop::sample::Index, Vec<[u8; 32]>),
    /// The payee's account and amount with another row's proof.
    OthersProof(prop::sample::Index, prop::sample::Index),
    /// One bit of one sibling flipped.
    FlippedBit(prop::sample::Index, prop::sample::Index, u8),
    /// The proof cut short.
    Cut(prop::sample::Index, prop::sample::Index),
    /// The proof with siblings appended.
    Padded(prop::sample::Index, Vec<[u8; 32]>),
    /// The siblings in reverse order.
    Reversed(prop::sample::Index),
    /// A larger running total than the leaf's, up to 2^256 − 1.
    Larger(prop::sample::Index, Bump),
    /// A smaller running total (possibly zero).
    Smaller(prop::sample::Index, prop::sample::Index),
    /// An account that is in no leaf, any amount, a genuine proof.
    Stranger([u8; 20], [u8; 32], prop::sample::Index),
    /// The root itself, or the leaf itself, as the proof.
    RootOrLeaf(prop::sample::Index, bool),
}

/// By how much [`Forgery::Larger`] inflates the amount.
#[derive(Clone, Debug)]
enum Bump {
    One,
    ToMax,
    By(u128),
    ByWord([u8; 32]),
}

fn forgery() -> impl Strategy<Value = Forgery> {
    let i = any::<prop::sample::Index>;
    let words = |r: std::ops::Range<usize>| prop::collection::vec(any::<[u8; 32]>(), r);
    let bump = prop_oneof![
        Just(Bump::One),
        Just(Bump::ToMax),
        any::<u128>().prop_map(Bump::By),
        any::<[u8; 32]>().prop_map(Bump::ByWord),
    ];
    prop_oneof![
        (i(), words(0..8)).prop_map(|(a, w)| Forgery::RandomSiblings(a, w)),
        (i(), i()).prop_map(|(a, b)| Forgery::OthersProof(a, b)),
        (i(), i(), 0u8..=255).prop_map(|(a, b, c)| Forgery::FlippedBit(a, b, c)),
        (i(), i()).prop_map(|(a, b)| Forgery::Cut(a, b)),
        (i(), words(1..4)).prop_map(|(a, w)| Forgery::Padded(a, w)),
        i().prop_map(Forgery::Reversed),
        (i(), bump).prop_map(|(a, b)| Forgery::Larger(a, b)),
        (i(), i()).prop_map(|(a, b)| Forgery::Smaller(a, b)),
        (any::<[u8; 20]>(), any::<[u8; 32]>(), i())
            .prop_map(|(a, x, w)| Forgery::Stranger(a, x, w)),
        (i(), any::<bool>()).prop_map(|(a, r)| Forgery::RootOrLeaf(a, r)),
    ]
}

impl Forgery {
    /// The forged `(account, cumulativeAmount, proof)`, or `None` when the draw happens to be
    /// the genuine claim (another row's identical proof, a reversal of one sibling, …).
    fn forge(
        &self,
        table: &[(Address, u128)],
        proofs: &[Vec<B256>],
        root: B256,
    ) -> Option<(Address, U256, Vec<B256>)> {
        let n = table.len();
        let row = |i: &prop::sample::Index| {
            let k = i.index(n);
            (table[k].0, U256::from(table[k].1), proofs[k].clone(), k)
        };
        let forged = match self {
            Forgery::RandomSiblings(i, words) => {
                let (a, x, _, _) = row(i);
                (a, x, words.iter().map(|w| B256::from(*w)).collect())
            }
            Forgery::OthersProof(i, j) => {
                let (a, x, _, k) = row(i);
                let other = j.index(n);
                if other == k {
                    return None;
                }
                (a, x, proofs[other].clone())
            }
            Forgery::FlippedBit(i, at, bit) => {
                let (a, x, mut p, _) = row(i);
                if p.is_empty() {
                    return None;
                }
                let at = at.index(p.len());
                p[at].0[usize::from(bit / 8)] ^= 1 << (bit % 8);
                (a, x, p)
            }
            Forgery::Cut(i, keep) => {
                let (a, x, mut p, _) = row(i);
                if p.is_empty() {
                    return None;
                }
                p.truncate(keep.index(p.len()));
                (a, x, p)
            }
            Forgery::Padded(i, words) => {
                let (a, x, mut p, _) = row(i);
                p.extend(words.iter().map(|w| B256::from(*w)));
                (a, x, p)
            }
            Forgery::Reversed(i) => {
                let (a, x, p, _) = row(i);
                let r: Vec<B256> = p.iter().rev().copied().collect();
                if r == p {
                    return None;
                }
                (a, x, r)
            }
            Forgery::Larger(i, bump) => {
                let (a, x, p, _) = row(i);
                let room = U256::MAX - x;
                let delta = match bump {
                    Bump::One => U256::from(1),
                    Bump::ToMax => room,
                    Bump::By(d) => U256::from(*d).max(U256::from(1)),
                    Bump::ByWord(w) => U256::from_be_bytes(*w).max(U256::from(1)),
                };
                (a, x.saturating_add(delta.min(room)), p)
            }
            Forgery::Smaller(i, by) => {
                let (a, x, p, k) = row(i);
                let by =
                    U256::from(by.index(usize::try_from(table[k].1.min(1 << 60)).unwrap_or(1)) + 1);
                (a, x.saturating_sub(by), p)
            }
            Forgery::Stranger(account, x, whose) => {
                let a = Address::from(*account);
                if table.iter().any(|(b, _)| *b == a) {
                    return None;
                }
                (a, U256::from_be_bytes(*x), proofs[whose.index(n)].clone())
            }
            Forgery::RootOrLeaf(i, use_root) => {
                let (a, x, _, _) = row(i);
                let proof = if *use_root {
                    vec![root]
                } else {
                    let leaf =
                        nash::emission::leaf(&Account(a.0.0), u128::try_from(x).unwrap_or(0));
                    vec![B256::from(leaf.0)]
                };
                (a, x, proof)
            }
        };
        Some(forged)
    }
}

/// Six payees with odd amounts; the first two have claimed. Forged claims — for claimed and
/// unclaimed payees, and strangers — are all `InvalidProof`, name the account and amount
/// claimed, and pay nothing; afterwards the genuine proofs pay the unclaimed exactly once.
#[test]
fn forged_emission_proofs_revert_invalid_proof_and_pay_nothing() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let table: Vec<(Address, u128)> = (0..6u8)
        .map(|i| (payee(i), odd(1_000 + 3_777 * u64::from(i), i)))
        .collect();
    let accounts: Vec<Address> = table.iter().map(|(a, _)| *a).collect();
    let (env, validators, proofs) = rt.block_on(async {
        let (env, validators) = with_validators().await;
        let proofs = finalise(&env, &validators, &table).await;
        for k in 0..2 {
            let (a, x) = table[k];
            let (got, _) = env
                .p
                .claim_emission(&env.admin, a, wei(x), &proofs[k])
                .await
                .expect("genuine claim");
            assert_eq!(got, wei(x));
        }
        (env, validators, proofs)
    });
    let _ = validators;
    let root = rt.block_on(env.p.latest_root()).expect("root");
    let before = rt.block_on(paid(&env, &accounts));

    let mut runner = TestRunner::new(ProptestConfig {
        cases: 192,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    runner
        .run(&forgery(), |f| {
            let Some((account, amount, proof)) = f.forge(&table, &proofs, root) else {
                return Ok(());
            };
            rt.block_on(async {
                let what = format!("{f:?}");
                let r = reverted(
                    &what,
                    env.p
                        .claim_emission(&env.admin, account, Pin::from_wei(amount), &proof)
                        .await,
                );
                assert_eq!(r.name, "InvalidProof", "{what}: {r}");
                assert_eq!(
                    r.arg("account"),
                    Some(account.to_checksum(None).as_str()),
                    "{what}"
                );
                assert_eq!(
                    r.arg("cumulativeAmount"),
                    Some(Pin::from_wei(amount).to_string().as_str()),
                    "{what}"
                );
                assert_eq!(
                    env.p.balance(account).await.expect("balance"),
                    before_balance(&before, &accounts, account)
                );
                assert_eq!(
                    paid(&env, &accounts).await,
                    before,
                    "{what} changed something"
                );
            });
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));

    rt.block_on(async {
        for (k, (a, x)) in table.iter().enumerate() {
            let result = env
                .p
                .claim_emission(&env.admin, *a, wei(*x), &proofs[k])
                .await;
            if k < 2 {
                assert_eq!(reverted("a second claim", result).name, "NothingToClaim");
            } else {
                assert_eq!(result.expect("the genuine proof still pays").0, wei(*x));
            }
            assert_eq!(env.p.balance(*a).await.expect("balance"), wei(*x));
        }
        let status = env.p.emission_status().await.expect("status");
        let granted: u128 = table.iter().map(|(_, x)| x).sum();
        assert_eq!(status.claimed, wei(granted));
        assert_eq!(
            status.balance,
            status.emitted.checked_sub(status.claimed).expect("solvent")
        );
    });
}

/// The balance of `account` in `before` (zero for a stranger).
fn before_balance(before: &Paid, accounts: &[Address], account: Address) -> Pin {
    accounts
        .iter()
        .position(|a| *a == account)
        .map_or(Pin::ZERO, |k| before.balances[k])
}

// ----------------------------------------------------------------------------------------
// Reentrancy
// ----------------------------------------------------------------------------------------

/// Init code that deploys `runtime` as a contract's code.
fn deployable(runtime: &[u8]) -> Vec<u8> {
    let len = u16::try_from(runtime.len())
        .expect("a small contract")
        .to_be_bytes();
    // PUSH2 len, DUP1, PUSH1 10, PUSH0, CODECOPY, PUSH0, RETURN — then the runtime.
    let mut code = vec![
        0x61, len[0], len[1], 0x80, 0x60, 0x0a, 0x5f, 0x39, 0x5f, 0xf3,
    ];
    code.extend_from_slice(runtime);
    code
}

/// A contract that, whenever it runs, calls `target` with the calldata it was given, `times`
/// times in a row, and reverts with the callee's revert data as soon as one call fails.
fn forwarder(target: Address, times: usize) -> Vec<u8> {
    // CALLDATACOPY(0, 0, CALLDATASIZE)
    let mut code = vec![0x36, 0x5f, 0x5f, 0x37];
    let mut jumps = Vec::new();
    for _ in 0..times {
        // CALL(GAS, target, 0, 0, CALLDATASIZE, 0, 0); ISZERO; PUSH2 fail; JUMPI
        code.extend_from_slice(&[0x5f, 0x5f, 0x36, 0x5f, 0x5f, 0x73]);
        code.extend_from_slice(target.as_slice());
        code.extend_from_slice(&[0x5a, 0xf1, 0x15, 0x61, 0, 0, 0x57]);
        jumps.push(code.len() - 3);
    }
    // STOP; fail: JUMPDEST; RETURNDATACOPY(0, 0, RETURNDATASIZE); REVERT(0, RETURNDATASIZE)
    code.push(0x00);
    let fail = u16::try_from(code.len()).expect("small").to_be_bytes();
    code.extend_from_slice(&[0x5b, 0x3d, 0x5f, 0x5f, 0x3e, 0x3d, 0x5f, 0xfd]);
    for at in jumps {
        code[at..at + 2].copy_from_slice(&fail);
    }
    code
}

async fn deploy(env: &Env, runtime: &[u8]) -> Address {
    env.p
        .ledger()
        .send(&env.admin, TxRequest::create(deployable(runtime)))
        .await
        .expect("deploys")
        .contract_address
        .expect("a contract address")
}

/// Reentrancy through token hooks cannot arise, and claims by or for contracts pay once.
///
/// PINToken is OpenZeppelin's ERC-20 with Burnable, Capped, Permit and AccessControl; its one
/// override, `_update`, only counts mints and burns. It has no ERC-777/ERC-1363-style hooks: a
/// transfer never calls the recipient (or the sender), so it runs no code but the token's.
/// `EpochEmissions.claim` makes one external call, `token.safeTransfer(account, amount)`, after
/// recording the claim (checks-effects-interactions), under `nonReentrant`; it pays the account
/// in the leaf and never calls it. (`StakingManager.withdraw` and `TrainingManager.claim` pay
/// `msg.sender` the same way, after their state is written.) So a contract that receives an
/// emission gets no control during the claim, and one that claims gets the control it had
/// before the call, with the claim already recorded.
///
/// Shown here: a payee whose code always reverts, and one whose code re-enters `claim`, are paid
/// (had the transfer run their code, the claim would have reverted); the re-entering code is
/// live (called directly, it does claim); a contract that claims twice in one transaction gets
/// `NothingToClaim` and the whole transaction, first payment included, is undone.
#[tokio::test]
async fn reentrancy() {
    // The token's interface has no hook a transfer could call.
    let abi: serde_json::Value =
        serde_json::from_str(pin_chain::bindings::artifacts::PIN_TOKEN).expect("artifact JSON");
    let functions: Vec<&str> = abi["abi"]
        .as_array()
        .expect("an ABI")
        .iter()
        .filter(|item| item["type"] == "function")
        .filter_map(|item| item["name"].as_str())
        .collect();
    for hook in [
        "transferAndCall",
        "transferFromAndCall",
        "approveAndCall",
        "tokensReceived",
        "tokensToSend",
        "onTransferReceived",
        "onApprovalReceived",
        "send",
        "operatorSend",
    ] {
        assert!(!functions.contains(&hook), "PINToken has {hook}");
    }

    let (env, validators) = with_validators().await;
    let emissions = env.p.deployment().emissions;
    let reverter = deploy(&env, &[0x5f, 0x5f, 0xfd]).await;
    let reenterer = deploy(&env, &forwarder(emissions, 1)).await;
    let double = deploy(&env, &forwarder(emissions, 2)).await;
    // The reverter reverts whenever it is called.
    assert!(matches!(
        env.p
            .ledger()
            .send(&env.admin, TxRequest::call(reverter, b"anything".to_vec()))
            .await,
        Err(Error::Reverted { .. })
    ));

    let table = vec![
        (reverter, odd(1_000, 0)),
        (reenterer, odd(2_000, 1)),
        (payee(0), odd(3_000, 2)),
        (payee(1), odd(4_000, 3)),
    ];
    let proofs = finalise(&env, &validators, &table).await;
    let claim = |k: usize| EpochEmissions::claimCall {
        account: table[k].0,
        cumulativeAmount: U256::from(table[k].1),
        proof: proofs[k].clone(),
    };

    // Contract payees are paid without their code running.
    for k in [0, 1] {
        let (got, _) = env
            .p
            .claim_emission(&env.admin, table[k].0, wei(table[k].1), &proofs[k])
            .await
            .expect("a contract payee is paid");
        assert_eq!(got, wei(table[k].1));
        assert_eq!(
            env.p.balance(table[k].0).await.expect("balance"),
            wei(table[k].1)
        );
    }

    // The re-entering code is live: called with a claim, it claims (for payee 0, as anyone may).
    raw(&env, &env.admin, reenterer, &claim(2))
        .await
        .expect("the forwarded claim pays");
    assert_eq!(
        env.p.balance(payee(0)).await.expect("balance"),
        wei(table[2].1)
    );
    assert_eq!(
        env.p.balance(reenterer).await.expect("balance"),
        wei(table[1].1)
    );

    // Two claims in one transaction: the second is refused and the first undone with it.
    let accounts = [payee(1), double, emissions];
    let before = paid(&env, &accounts).await;
    let r = reverted(
        "a double claim",
        raw(&env, &env.admin, double, &claim(3)).await,
    );
    assert_eq!(r.name, "NothingToClaim", "{r}");
    assert_eq!(paid(&env, &accounts).await, before);
    let (got, _) = env
        .p
        .claim_emission(&env.admin, payee(1), wei(table[3].1), &proofs[3])
        .await
        .expect("the genuine claim pays");
    assert_eq!(got, wei(table[3].1));
    assert_eq!(
        reverted(
            "again",
            env.p
                .claim_emission(&env.admin, payee(1), wei(table[3].1), &proofs[3])
                .await
        )
        .name,
        "NothingToClaim"
    );

    let status = env.p.emission_status().await.expect("status");
    let granted: u128 = table.iter().map(|(_, x)| x).sum();
    assert_eq!(status.claimed, wei(granted));
    assert_eq!(
        status.balance,
        status.emitted.checked_sub(status.claimed).expect("solvent")
    );
}
