//! Property tests: random operation sequences (mint, stake, unstake, withdraw, time, slash,
//! whitelist, register, start, join, attest, end, challenge, claim, reclaim) by a few nodes, a
//! trainer and a validator against the contracts on the in-memory revm chain. A model in the
//! test predicts which operations succeed and tracks stake, escrow and claims; after every
//! operation the chain must agree with it and keep the protocol's invariants: minted = supply +
//! burned, balances sum to the supply, the contracts hold what they owe, no stake exceeds what
//! was put in minus what was slashed or withdrawn, each (run, node) is paid at most once and no
//! run pays more than its budget, and a refused operation changes nothing.

mod common;

use alloy::primitives::{Address, B256, U256};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolEvent;
use common::{DAY, Env, digest, pin, setup_with, wei};
use pin_chain::bindings::{StakingManager, TrainingManager};
use pin_chain::{DeployParams, Error, Ledger as _, Pin, Receipt, RunId, Totals, dev_accounts};
use proptest::prelude::*;

/// Compute nodes in play; the last one starts off the whitelist.
const NODES: usize = 4;
/// Distinct digests per run, so duplicates happen.
const DIGESTS: u8 = 5;
/// Seconds of wall-clock drift a case may accumulate; predictions closer to a deadline than
/// this are not asserted.
const SLACK: u64 = 30;
/// Run indices an operation draws from (the last one names an unknown run).
const RUN_PICKS: usize = 8;

#[derive(Clone, Debug)]
enum Amt {
    Zero,
    OneWei,
    Whole(u64),
    Odd(u64, u64),
}

impl Amt {
    fn wei(&self) -> U256 {
        match self {
            Self::Zero => U256::ZERO,
            Self::OneWei => U256::from(1),
            Self::Whole(n) => wei(*n),
            Self::Odd(n, w) => wei(*n) + U256::from(*w),
        }
    }
}

/// An amount relative to a stake: per-mille of it (above 1000 is more than the stake), or fixed.
#[derive(Clone, Debug)]
enum Rel {
    Permille(u64),
    Fixed(Amt),
}

impl Rel {
    fn of(&self, base: U256) -> U256 {
        match self {
            Self::Permille(m) => base * U256::from(*m) / U256::from(1000),
            Self::Fixed(a) => a.wei(),
        }
    }
}

#[derive(Clone, Debug)]
enum Op {
    Mint {
        to: usize,
        amount: Amt,
        by_admin: bool,
    },
    Stake {
        node: usize,
        amount: Amt,
    },
    Unstake {
        node: usize,
        amount: Rel,
    },
    Withdraw {
        node: usize,
    },
    Advance {
        secs: u64,
    },
    Slash {
        node: usize,
        amount: Rel,
        by_admin: bool,
    },
    Whitelist {
        node: usize,
    },
    Register {
        budget: Amt,
    },
    Start {
        run: usize,
    },
    Join {
        node: usize,
        run: usize,
    },
    Attest {
        node: usize,
        run: usize,
        digest: u8,
    },
    End {
        run: usize,
    },
    Challenge {
        run: usize,
        pick: usize,
        slash: Rel,
        by_validator: bool,
    },
    Claim {
        node: usize,
        runs: Vec<usize>,
        twice: bool,
    },
    Reclaim {
        run: usize,
    },
}

fn amt() -> impl Strategy<Value = Amt> {
    prop_oneof![
        1 => Just(Amt::Zero),
        1 => Just(Amt::OneWei),
        5 => prop::sample::select(vec![100u64, 1_000, 5_000, 9_999, 10_000, 15_000, 25_000])
            .prop_map(Amt::Whole),
        2 => (1u64..40_000, 0u64..1_000_000_000_000_000_000).prop_map(|(n, w)| Amt::Odd(n, w)),
    ]
}

fn rel() -> impl Strategy<Value = Rel> {
    prop_oneof![
        4 => prop::sample::select(vec![0u64, 1, 100, 500, 999, 1000, 1001, 1500]).prop_map(Rel::Permille),
        1 => amt().prop_map(Rel::Fixed),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let node = 0..NODES;
    let run = 0..RUN_PICKS;
    prop_oneof![
        2 => (0..=NODES, amt(), prop::bool::weighted(0.9))
            .prop_map(|(to, amount, by_admin)| Op::Mint { to, amount, by_admin }),
        4 => (node.clone(), amt()).prop_map(|(node, amount)| Op::Stake { node, amount }),
        2 => (node.clone(), rel()).prop_map(|(node, amount)| Op::Unstake { node, amount }),
        2 => node.clone().prop_map(|node| Op::Withdraw { node }),
        4 => prop::sample::select(vec![600u64, DAY, DAY, 2 * DAY, 3 * DAY])
            .prop_map(|secs| Op::Advance { secs }),
        2 => (node.clone(), rel(), prop::bool::weighted(0.85))
            .prop_map(|(node, amount, by_admin)| Op::Slash { node, amount, by_admin }),
        1 => node.clone().prop_map(|node| Op::Whitelist { node }),
        3 => amt().prop_map(|budget| Op::Register { budget }),
        3 => run.clone().prop_map(|run| Op::Start { run }),
        4 => (node.clone(), run.clone()).prop_map(|(node, run)| Op::Join { node, run }),
        6 => (node.clone(), run.clone(), 0..DIGESTS)
            .prop_map(|(node, run, digest)| Op::Attest { node, run, digest }),
        3 => run.clone().prop_map(|run| Op::End { run }),
        3 => (run.clone(), 0usize..16, rel(), prop::bool::weighted(0.9)).prop_map(
            |(run, pick, slash, by_validator)| Op::Challenge { run, pick, slash, by_validator }
        ),
        6 => (node, prop_oneof![3 => prop::collection::vec(run.clone(), 1..=1), 1 => prop::collection::vec(run.clone(), 2..=3)], prop::bool::weighted(0.3))
            .prop_map(|(node, runs, twice)| Op::Claim { node, runs, twice }),
        1 => run.prop_map(|run| Op::Reclaim { run }),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum St {
    Registered,
    Running,
    Done,
}

#[derive(Clone, Debug, Default)]
struct NodeM {
    whitelisted: bool,
    active: U256,
    unbonding: U256,
    release_at: u64,
    deposited: U256,
    withdrawn: U256,
    slashed: U256,
}

#[derive(Clone, Debug)]
struct AttM {
    digest: B256,
    node: usize,
    invalidated: bool,
}

#[derive(Clone, Debug)]
struct RunM {
    id: RunId,
    budget: U256,
    status: St,
    claimable_at: u64,
    valid: u64,
    joined: [bool; NODES],
    counts: [u64; NODES],
    claimed: [bool; NODES],
    atts: Vec<AttM>,
    paid: U256,
    reclaimed: bool,
}

/// What the chain shows after an operation.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Obs {
    totals: Totals,
    /// Dev accounts, then the staking, training and token contracts.
    balances: Vec<U256>,
    /// (active, unbonding, releaseAt, whitelisted) of each node.
    positions: Vec<(U256, U256, u64, bool)>,
    /// (status, valid attestations) of each run.
    runs: Vec<(u8, u64)>,
    /// Stake locks of each node (runs joined and not settled).
    locks: Vec<U256>,
    timestamp: u64,
}

struct Sim {
    env: Env,
    nodes: Vec<NodeM>,
    runs: Vec<RunM>,
    minimum: U256,
    model: Option<u64>,
    paid_once: std::collections::HashSet<(u64, usize)>,
}

/// `Some(true)` if a deadline at `at` has surely passed for the next transaction, `Some(false)`
/// if surely not, `None` if too close to call.
fn passed(at: u64, now: u64) -> Option<bool> {
    if at <= now + 1 {
        Some(true)
    } else if at > now + SLACK {
        Some(false)
    } else {
        None
    }
}

/// `a && b` over known/unknown truths (`None`: unknown).
fn and(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

fn slashed_event(receipt: &Receipt) -> Option<StakingManager::Slashed> {
    receipt
        .logs
        .iter()
        .find_map(|l| StakingManager::Slashed::decode_log_data(&l.data).ok())
}

impl Sim {
    async fn new() -> Self {
        // Short periods so that sequences of a few dozen operations reach claims and withdrawals.
        let params = DeployParams {
            unbonding_period: 2 * DAY,
            challenge_window: DAY,
            ..DeployParams::default()
        };
        let env = setup_with(&params).await;
        let mut nodes = vec![NodeM::default(); NODES];
        // Nodes start funded; all but the last whitelisted with a stake, so runs get going.
        for (i, m) in nodes.iter_mut().enumerate() {
            let node = &env.nodes[i];
            env.fund(node.address(), pin(30_000)).await;
            if i + 1 < NODES {
                // 10,000, 12,500 and 15,000 PIN.
                let stake = wei(10_000 + 2_500 * i as u64);
                env.p
                    .whitelist(&env.admin, node.address())
                    .await
                    .expect("whitelist");
                env.p
                    .stake(node, Pin::from_wei(stake))
                    .await
                    .expect("stake");
                m.whitelisted = true;
                m.active = stake;
                m.deposited = stake;
            }
        }
        env.fund(env.trainer.address(), pin(100_000)).await;
        let minimum = env.p.minimum_stake().await.expect("minimum").wei();
        let mut sim = Self {
            env,
            nodes,
            runs: Vec::new(),
            minimum,
            model: None,
            paid_once: std::collections::HashSet::new(),
        };
        // Two runs to start from: run 1 ended (its window open) with attestations of nodes 0
        // and 1, run 2 running, joined by the staked nodes. Set up through `apply`, so the
        // model follows and predicts every step.
        let mut script = vec![
            Op::Register {
                budget: Amt::Whole(600),
            },
            Op::Start { run: 0 },
            Op::Join { node: 0, run: 0 },
            Op::Join { node: 1, run: 0 },
        ];
        for (node, d) in [(0, 0), (1, 1), (0, 2)] {
            script.push(Op::Attest {
                node,
                run: 0,
                digest: d,
            });
        }
        script.extend([
            Op::End { run: 0 },
            Op::Register {
                budget: Amt::Odd(1_000, 1),
            },
            Op::Start { run: 0 },
        ]);
        for node in 0..NODES - 1 {
            script.push(Op::Join { node, run: 0 });
        }
        // And some stake unbonding.
        script.push(Op::Unstake {
            node: 2,
            amount: Rel::Fixed(Amt::Whole(2_500)),
        });
        for op in &script {
            let before = sim.observe().await;
            assert!(sim.apply(op, &before).await, "set-up step {op:?}");
            sim.check(&sim.observe().await);
        }
        sim
    }

    fn node(&self, i: usize) -> &PrivateKeySigner {
        &self.env.nodes[i]
    }

    fn eligible(&self, i: usize) -> bool {
        let n = &self.nodes[i];
        n.whitelisted && n.active >= self.minimum && !n.active.is_zero()
    }

    /// The run an index picks. Most indices pick among the runs `fits` accepts (any run if
    /// none does), so sequences get through the run life cycle; the second-to-last index picks
    /// among all runs, the last one (or any, before the first run) names an unknown run.
    fn pick(&self, run: usize, fits: impl Fn(&RunM) -> bool) -> (Option<usize>, RunId) {
        if self.runs.is_empty() || run == RUN_PICKS - 1 {
            return (None, RunId(self.runs.len() as u64 + 1));
        }
        let fitting: Vec<usize> = (0..self.runs.len())
            .filter(|&k| fits(&self.runs[k]))
            .collect();
        let k = if run == RUN_PICKS - 2 || fitting.is_empty() {
            run % self.runs.len()
        } else {
            fitting[run % fitting.len()]
        };
        (Some(k), self.runs[k].id)
    }

    /// The node an index picks: the first from `node` on (cyclically) that `fits`, else `node`.
    fn pick_node(&self, node: usize, fits: impl Fn(usize) -> bool) -> usize {
        (0..NODES)
            .map(|d| (node + d) % NODES)
            .find(|&n| fits(n))
            .unwrap_or(node)
    }

    async fn observe(&self) -> Obs {
        let p = &self.env.p;
        let d = p.deployment();
        let totals = p.totals().await.expect("totals");
        let mut holders: Vec<Address> = dev_accounts().into_iter().map(|(a, _)| a).collect();
        holders.extend([d.staking, d.training, d.token]);
        let mut balances = Vec::new();
        for a in holders {
            balances.push(p.balance(a).await.expect("balance").wei());
        }
        let mut positions = Vec::new();
        for i in 0..NODES {
            let r = self
                .env
                .read(
                    d.staking,
                    StakingManager::positionOfCall {
                        account: self.node(i).address(),
                    },
                )
                .await;
            let release = u64::try_from(r.releaseAt).expect("releaseAt fits");
            positions.push((r.active, r.unbonding, release, r.whitelisted));
        }
        let mut locks = Vec::new();
        for i in 0..NODES {
            let call = StakingManager::locksOfCall {
                account: self.node(i).address(),
            };
            locks.push(self.env.read(d.staking, call).await);
        }
        let mut runs = Vec::new();
        for run in &self.runs {
            let r = self
                .env
                .read(
                    d.training,
                    TrainingManager::getRunCall {
                        runId: U256::from(run.id.0),
                    },
                )
                .await;
            let valid = u64::try_from(r.validAttestations).expect("fits");
            runs.push((r.status, valid));
        }
        let timestamp = p.ledger().timestamp().await.expect("timestamp");
        Obs {
            locks,
            totals,
            balances,
            positions,
            runs,
            timestamp,
        }
    }

    /// Takes `amount` from node `i`'s model stake, active first; checks the event's split.
    fn slash_model(&mut self, i: usize, amount: U256, receipt: &Receipt) {
        let n = &mut self.nodes[i];
        let from_active = amount.min(n.active);
        let event = slashed_event(receipt).expect("a slash emits Slashed");
        assert_eq!(event.amount, amount, "slashed amount");
        assert_eq!(
            (event.fromActive, event.fromUnbonding),
            (from_active, amount - from_active),
            "slash takes active stake first"
        );
        n.active -= from_active;
        n.unbonding -= amount - from_active;
        n.slashed += amount;
    }

    /// Runs one operation; returns whether it succeeded.
    async fn apply(&mut self, op: &Op, before: &Obs) -> bool {
        let now = before.timestamp;
        let p = &self.env.p;
        let env = &self.env;
        // (result, expected success: None when too close to a deadline to call)
        let (ok, expected): (Result<(), Error>, Option<bool>) = match op {
            Op::Mint {
                to,
                amount,
                by_admin,
            } => {
                let to_addr = if *to == NODES {
                    env.trainer.address()
                } else {
                    self.node(*to).address()
                };
                let minter = if *by_admin { &env.admin } else { self.node(0) };
                let r = p.mint(minter, to_addr, Pin::from_wei(amount.wei())).await;
                (r.map(|_| ()), Some(*by_admin))
            }
            Op::Stake { node, amount } => {
                let a = amount.wei();
                let n = &self.nodes[*node];
                let balance = before.balances[3 + node];
                let expect =
                    !a.is_zero() && n.whitelisted && n.active + a >= self.minimum && balance >= a;
                let r = p.stake(self.node(*node), Pin::from_wei(a)).await;
                if r.is_ok() {
                    let n = &mut self.nodes[*node];
                    n.active += a;
                    n.deposited += a;
                }
                (r.map(|_| ()), Some(expect))
            }
            Op::Unstake { node, amount } => {
                let node = &self.pick_node(*node, |n| !self.nodes[n].active.is_zero());
                let n = &self.nodes[*node];
                let a = amount.of(n.active);
                let expect = !a.is_zero()
                    && a <= n.active
                    && (a == n.active || n.active - a >= self.minimum);
                let r = p.unstake(self.node(*node), Pin::from_wei(a)).await;
                if r.is_ok() {
                    let n = &mut self.nodes[*node];
                    n.active -= a;
                    n.unbonding += a;
                }
                (r.map(|_| ()), Some(expect))
            }
            Op::Withdraw { node } => {
                let node = &self.pick_node(*node, |n| !self.nodes[n].unbonding.is_zero());
                let n = &self.nodes[*node];
                // Every run joined and not yet settled keeps the stake locked.
                let locked = self
                    .runs
                    .iter()
                    .any(|r| r.joined[*node] && !r.claimed[*node]);
                let expect = if n.unbonding.is_zero() {
                    Some(false)
                } else {
                    and(passed(n.release_at, now), Some(!locked))
                };
                let r = p.withdraw(self.node(*node)).await;
                if let Ok((amount, _)) = &r {
                    let n = &mut self.nodes[*node];
                    assert_eq!(
                        amount.wei(),
                        n.unbonding,
                        "withdraw pays the unbonded stake"
                    );
                    n.withdrawn += n.unbonding;
                    n.unbonding = U256::ZERO;
                }
                (r.map(|_| ()), expect)
            }
            Op::Advance { secs } => {
                p.ledger().advance_time(*secs).await.expect("advance time");
                (Ok(()), Some(true))
            }
            Op::Slash {
                node,
                amount,
                by_admin,
            } => {
                let n = &self.nodes[*node];
                let a = amount.of(n.active + n.unbonding);
                let expect = *by_admin && !a.is_zero() && a <= n.active + n.unbonding;
                let slasher = if *by_admin {
                    &env.admin
                } else {
                    &env.validator
                };
                let r = p
                    .slash(
                        slasher,
                        self.node(*node).address(),
                        Pin::from_wei(a),
                        B256::ZERO,
                    )
                    .await;
                if let Ok(receipt) = &r {
                    self.slash_model(*node, a, receipt);
                }
                (r.map(|_| ()), Some(expect))
            }
            Op::Whitelist { node } => {
                let addr = self.node(*node).address();
                let r = if self.nodes[*node].whitelisted {
                    p.remove_from_whitelist(&env.admin, addr).await
                } else {
                    p.whitelist(&env.admin, addr).await
                };
                if r.is_ok() {
                    self.nodes[*node].whitelisted ^= true;
                }
                (r.map(|_| ()), Some(true))
            }
            Op::Register { budget } => {
                let b = budget.wei();
                let balance = before.balances[1];
                let expect = !b.is_zero() && balance >= b;
                let r = match self.model {
                    None => p
                        .register_model(&env.trainer, "prop", Pin::from_wei(b))
                        .await
                        .map(|(m, r)| (Some(m.0), r)),
                    Some(m) => p
                        .create_run(&env.trainer, pin_chain::ModelId(m), Pin::from_wei(b))
                        .await
                        .map(|r| (None, r)),
                };
                let r = r.map(|(model, id)| {
                    if model.is_some() {
                        self.model = model;
                    }
                    assert_eq!(id.0, self.runs.len() as u64 + 1, "run ids are sequential");
                    self.runs.push(RunM {
                        id,
                        budget: b,
                        status: St::Registered,
                        claimable_at: 0,
                        valid: 0,
                        joined: [false; NODES],
                        counts: [0; NODES],
                        claimed: [false; NODES],
                        atts: Vec::new(),
                        paid: U256::ZERO,
                        reclaimed: false,
                    });
                });
                (r, Some(expect))
            }
            Op::Start { run } => {
                let (k, id) = self.pick(*run, |r| r.status == St::Registered);
                let expect = k.is_some_and(|k| self.runs[k].status == St::Registered);
                let r = p.start_run(&env.trainer, id).await;
                if let (Ok(_), Some(k)) = (&r, k) {
                    self.runs[k].status = St::Running;
                }
                (r.map(|_| ()), Some(expect))
            }
            Op::Join { node, run } => {
                let (k, id) = self.pick(*run, |r| r.status != St::Done && !r.joined[*node]);
                let expect = k.is_some_and(|k| {
                    let rm = &self.runs[k];
                    rm.status != St::Done && !rm.joined[*node] && self.eligible(*node)
                });
                let r = p.join_run(self.node(*node), id, "prop").await;
                if let (Ok(_), Some(k)) = (&r, k) {
                    self.runs[k].joined[*node] = true;
                }
                (r.map(|_| ()), Some(expect))
            }
            Op::Attest {
                node,
                run,
                digest: d,
            } => {
                let running = |n: usize| {
                    self.runs
                        .iter()
                        .any(|r| r.status == St::Running && r.joined[n])
                };
                let node = &self.pick_node(*node, running);
                let (k, id) = self.pick(*run, |r| r.status == St::Running && r.joined[*node]);
                let dg = digest("prop", u64::from(*d));
                let expect = k.is_some_and(|k| {
                    let rm = &self.runs[k];
                    rm.status == St::Running
                        && rm.joined[*node]
                        && self.eligible(*node)
                        && rm.atts.iter().all(|a| a.digest != dg)
                });
                let r = p.attest(self.node(*node), id, dg).await;
                if let (Ok(_), Some(k)) = (&r, k) {
                    let rm = &mut self.runs[k];
                    rm.atts.push(AttM {
                        digest: dg,
                        node: *node,
                        invalidated: false,
                    });
                    rm.counts[*node] += 1;
                    rm.valid += 1;
                }
                (r.map(|_| ()), Some(expect))
            }
            Op::End { run } => {
                let (k, id) = self.pick(*run, |r| r.status == St::Running);
                let expect = k.is_some_and(|k| self.runs[k].status == St::Running);
                let r = p.end_run(&env.trainer, id).await;
                if let (Ok(closes), Some(k)) = (&r, k) {
                    self.runs[k].status = St::Done;
                    self.runs[k].claimable_at = *closes;
                }
                (r.map(|_| ()), Some(expect))
            }
            Op::Challenge {
                run,
                pick,
                slash,
                by_validator,
            } => {
                let (k, id) = self.pick(*run, |r| {
                    r.status == St::Done && r.atts.iter().any(|a| !a.invalidated)
                });
                let target = k.and_then(|k| {
                    let atts = &self.runs[k].atts;
                    (!atts.is_empty()).then(|| atts[pick % atts.len()].clone())
                });
                let (dg, amount) = match &target {
                    Some(a) => {
                        let n = &self.nodes[a.node];
                        (a.digest, slash.of(n.active + n.unbonding))
                    }
                    None => (digest("nobody", 0), slash.of(U256::ZERO)),
                };
                let expect = match (k, &target) {
                    (Some(k), Some(a)) if *by_validator => {
                        let rm = &self.runs[k];
                        let n = &self.nodes[a.node];
                        let static_ok = rm.status == St::Done
                            && !a.invalidated
                            && amount <= n.active + n.unbonding;
                        let window_open = if rm.status == St::Done {
                            passed(rm.claimable_at, now).map(|closed| !closed)
                        } else {
                            Some(false)
                        };
                        and(Some(static_ok), window_open)
                    }
                    _ => Some(false),
                };
                let challenger = if *by_validator {
                    &env.validator
                } else {
                    self.node(0)
                };
                let r = p
                    .challenge(challenger, id, dg, Pin::from_wei(amount), B256::ZERO)
                    .await;
                if let (Ok(receipt), Some(k), Some(a)) = (&r, k, &target) {
                    let rm = &mut self.runs[k];
                    let att = rm
                        .atts
                        .iter_mut()
                        .find(|x| x.digest == a.digest)
                        .expect("known attestation");
                    att.invalidated = true;
                    rm.counts[a.node] -= 1;
                    rm.valid -= 1;
                    if amount.is_zero() {
                        assert!(slashed_event(receipt).is_none(), "no slash asked");
                    } else {
                        self.slash_model(a.node, amount, receipt);
                    }
                }
                (r.map(|_| ()), expect)
            }
            Op::Claim { node, runs, twice } => {
                // A run with no valid attestation of the node is claimed too: for zero, which
                // settles it and releases the node's stake lock.
                let owed =
                    |r: &RunM, n: usize| r.status == St::Done && r.joined[n] && !r.claimed[n];
                let node = &self.pick_node(*node, |n| self.runs.iter().any(|r| owed(r, n)));
                let mut picks: Vec<(Option<usize>, RunId)> = Vec::new();
                for r in runs {
                    let chosen: Vec<RunId> = picks.iter().map(|(_, id)| *id).collect();
                    picks.push(self.pick(*r, |x| owed(x, *node) && !chosen.contains(&x.id)));
                }
                let mut expect = Some(true);
                let mut seen = Vec::new();
                let mut amounts = Vec::new();
                for (k, _) in &picks {
                    let Some(k) = *k else {
                        expect = Some(false);
                        break;
                    };
                    let rm = &self.runs[k];
                    let ok = rm.status == St::Done
                        && rm.joined[*node]
                        && !rm.claimed[*node]
                        && !seen.contains(&k);
                    let closed = if rm.status == St::Done {
                        passed(rm.claimable_at, now)
                    } else {
                        Some(true)
                    };
                    expect = and(expect, and(Some(ok), closed));
                    if !ok {
                        break;
                    }
                    seen.push(k);
                    amounts.push(if rm.counts[*node] == 0 {
                        U256::ZERO
                    } else {
                        rm.budget * U256::from(rm.counts[*node]) / U256::from(rm.valid)
                    });
                }
                let ids: Vec<RunId> = picks.iter().map(|(_, id)| *id).collect();
                let r = p.claim(self.node(*node), Some(ids.clone())).await;
                if let Ok(claimed) = &r {
                    let paid: Vec<(RunId, U256)> =
                        claimed.runs.iter().map(|(id, a)| (*id, a.wei())).collect();
                    let want: Vec<(RunId, U256)> =
                        ids.iter().copied().zip(amounts.iter().copied()).collect();
                    assert_eq!(paid, want, "claim pays budget × share, per run");
                    for (&k, amount) in seen.iter().zip(&amounts) {
                        let rm = &mut self.runs[k];
                        assert!(
                            self.paid_once.insert((rm.id.0, *node)),
                            "run {} paid node {node} twice",
                            rm.id
                        );
                        rm.claimed[*node] = true;
                        rm.paid += *amount;
                        assert!(rm.paid <= rm.budget, "run {} paid beyond its budget", rm.id);
                    }
                    if *twice {
                        let again = p.claim(self.node(*node), Some(ids)).await;
                        match again {
                            Err(Error::Contract(d)) => {
                                assert_eq!(d.name, "TrainingAlreadyClaimed", "second claim");
                            }
                            other => panic!("a second claim was not refused: {other:?}"),
                        }
                    }
                }
                (r.map(|_| ()), expect)
            }
            Op::Reclaim { run } => {
                let (k, id) = self.pick(*run, |r| r.status == St::Done && r.valid == 0);
                let expect = match k {
                    Some(k) => {
                        let rm = &self.runs[k];
                        if rm.status == St::Done && rm.valid == 0 && !rm.reclaimed {
                            passed(rm.claimable_at, now)
                        } else {
                            Some(false)
                        }
                    }
                    None => Some(false),
                };
                let r = p.reclaim(&env.trainer, id).await;
                if let (Ok(_), Some(k)) = (&r, k) {
                    self.runs[k].reclaimed = true;
                }
                (r.map(|_| ()), expect)
            }
        };
        if let Some(expected) = expected {
            assert_eq!(
                ok.is_ok(),
                expected,
                "{op:?}: expected {} but got {ok:?}",
                if expected { "success" } else { "a refusal" }
            );
        }
        if let Err(e) = &ok {
            assert!(
                matches!(e, Error::Contract(_)),
                "{op:?}: refused without a decoded contract error: {e:?}"
            );
        }
        ok.is_ok()
    }

    /// The invariants, and the chain against the model.
    fn check(&mut self, obs: &Obs) {
        let t = &obs.totals;
        let w = |p: Pin| p.wei();
        assert_eq!(
            w(t.minted),
            w(t.supply) + w(t.burned),
            "minted = supply + burned"
        );
        let sum: U256 = obs.balances.iter().copied().sum();
        assert_eq!(sum, w(t.supply), "balances sum to the supply");
        assert!(w(t.staking_balance) >= w(t.staked), "staking is solvent");
        assert!(
            w(t.training_balance) >= w(t.escrowed),
            "training is solvent"
        );

        let mut staked = U256::ZERO;
        for (i, n) in self.nodes.iter_mut().enumerate() {
            let (active, unbonding, release_at, whitelisted) = obs.positions[i];
            assert_eq!(
                (active, unbonding),
                (n.active, n.unbonding),
                "node {i} stake"
            );
            assert_eq!(whitelisted, n.whitelisted, "node {i} whitelist");
            assert!(
                active + unbonding + n.slashed + n.withdrawn == n.deposited,
                "node {i}: stake exceeds deposits minus slashes and withdrawals"
            );
            n.release_at = release_at;
            staked += active + unbonding;
        }
        assert_eq!(w(t.staked), staked, "total staked");
        for (i, locks) in obs.locks.iter().enumerate() {
            let open = self
                .runs
                .iter()
                .filter(|r| r.joined[i] && !r.claimed[i])
                .count();
            assert_eq!(
                *locks,
                U256::from(open),
                "node {i}: one stake lock per unsettled run"
            );
        }
        assert_eq!(
            w(t.staking_balance),
            staked,
            "the staking contract holds the stake"
        );

        let mut escrow = U256::ZERO;
        for (k, rm) in self.runs.iter().enumerate() {
            let status = match rm.status {
                St::Registered => 1,
                St::Running => 2,
                St::Done => 3,
            };
            assert_eq!(obs.runs[k], (status, rm.valid), "run {} state", rm.id);
            assert_eq!(
                rm.counts.iter().sum::<u64>(),
                rm.valid,
                "run {} counts",
                rm.id
            );
            assert!(rm.paid <= rm.budget, "run {} paid beyond its budget", rm.id);
            if !rm.reclaimed {
                escrow += rm.budget - rm.paid;
            }
        }
        assert_eq!(
            w(t.escrowed),
            escrow,
            "escrow = budgets − payouts − reclaims"
        );
        assert_eq!(
            w(t.training_balance),
            escrow,
            "the training contract holds the escrow"
        );
    }
}

async fn run_case(ops: Vec<Op>) {
    let mut sim = Sim::new().await;
    let mut before = sim.observe().await;
    sim.check(&before);
    for op in &ops {
        let ok = sim.apply(op, &before).await;
        let after = sim.observe().await;
        if !ok {
            assert_eq!(after, before, "the refused {op:?} changed state");
        }
        sim.check(&after);
        before = after;
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 24,
        max_shrink_iters: 200,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_operations_keep_the_invariants(ops in prop::collection::vec(op(), 10..=40)) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(run_case(ops));
    }
}
