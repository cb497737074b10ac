//! A deterministic, in-process simulation of the NASH mechanism's epochs: validators with stake
//! send synthetic challenges of every class to miners that answer with the strategies of
//! [`nash::strategy`]; each validator de-salts, verifies and scores the answers and turns its
//! epoch table into weights; Yuma consensus over those weights gives the emission table and its
//! Merkle root.
//!
//! It is the mechanism alone — no chain, no network, no clock. Latency is a model (a per-miner
//! base with a seeded jitter, or a [`Strategy::Slow`] miner's fixed latency), so two runs with the
//! same [`SimConfig`] produce the same tables and roots bit for bit. The network services run
//! the same steps with real sockets and real time.
//!
//! One epoch, per validator `v`:
//!
//! 1. `challenges_per_epoch` synthetic challenges, the classes in turn;
//! 2. for each miner, its salted view (salt = keccak of the run seed, validator, challenge and
//!    miner); the miner answers its view (a copier gets its target's answer to the *target's*
//!    view, which is all it can see; a [`Role::Replay`] precomputer sends its answer to the
//!    previous epoch's challenge in the same slot; a [`Role::Sybil`] identity answers its own
//!    view after the group's earlier identities, all from one solver);
//! 3. the answer is de-salted with that miner's map and verified against the validator's own
//!    reference answer → `Q`; the miner's history gets a record; the submission is grouped by
//!    the digest of the de-salted answer;
//! 4. [`nash::score::epoch`] scores the epoch → each miner's amount is the validator's weight
//!    for it (a colluding validator multiplies its friends' weights).
//!
//! Then [`nash::consensus::yuma`] over all validators, [`nash::emission::emission_table`] for
//! the epoch, added to the running totals, and the Merkle root of the totals.
//!
//! [`SimConfig::standard`] is the scenario of `pin sim`; [`SimConfig::adversarial`] and
//! [`adversarial::run`] (`pin sim --adversarial`) play the attacks beside their control runs.

use nash::challenge::Challenge;
use nash::class::ProblemClass;
use nash::config::{Config, Stratum};
use nash::consensus::{ValidatorId, ValidatorInput, YumaOutput, yuma};
use nash::emission::{Account, MerkleTree, accumulate, emission_table};
use nash::generate::{Difficulty, SplitMix64, challenge};
use nash::salt::{SaltMap, copied_from, de_salted_digest, salt};
use nash::score::{
    ChallengeOutcome, Fixed, History, MinerId, MinerInput, Record, Submission, epoch,
};
use nash::settlement::Answer;
use nash::solve::reference;
use nash::strategy::{Context, Strategy};
use nash::units::{ChallengeId, Hash32};
use nash::verify::verify;
use serde::Serialize;
use std::collections::BTreeMap;
use thiserror::Error;

pub mod adversarial;

/// One miner (one identity) of the simulation.
#[derive(Clone, Debug, PartialEq)]
pub struct MinerSpec {
    /// A name for tables, e.g. `"exact"`.
    pub label: String,
    /// The strategy it counts under in per-strategy summaries ([`adversarial`]); several
    /// identities may share one, e.g. `"honest"`.
    pub group: String,
    /// How it answers.
    pub strategy: Strategy,
    /// For [`Strategy::Copier`]: the index of the miner it copies.
    pub copies: Option<usize>,
    /// Base answer latency in ms; each answer takes `base × (0.5 … 1.5)` (seeded). Ignored for
    /// [`Strategy::Slow`], whose latency is fixed, and for sybil identities after the first
    /// (see [`Role::Sybil`]).
    pub latency_ms: u64,
    /// The PIN it staked to register (smallest unit). The mechanism pays by score, not by a
    /// miner's stake; the stake is the cost of an identity, for "PIN earned per PIN staked".
    pub stake: u128,
    /// Who is behind the identity and where its answers come from.
    pub role: Role,
}

impl MinerSpec {
    /// A miner with its own solver, in a group of its own (`group` = `label`), staking
    /// [`MINER_STAKE`].
    #[must_use]
    pub fn new(label: &str, strategy: Strategy, latency_ms: u64) -> Self {
        Self {
            label: label.into(),
            group: label.into(),
            strategy,
            copies: None,
            latency_ms,
            stake: MINER_STAKE,
            role: Role::Solo,
        }
    }

    /// Counted under `group` in per-strategy summaries.
    #[must_use]
    pub fn in_group(mut self, group: &str) -> Self {
        self.group = group.into();
        self
    }

    /// Stakes `stake` (smallest unit).
    #[must_use]
    pub fn with_stake(mut self, stake: u128) -> Self {
        self.stake = stake;
        self
    }

    /// Plays `role`.
    #[must_use]
    pub fn with_role(mut self, role: Role) -> Self {
        self.role = role;
        self
    }

    /// Copies miner `target` (for [`Strategy::Copier`]).
    #[must_use]
    pub fn copying(mut self, target: usize) -> Self {
        self.copies = Some(target);
        self
    }
}

/// Who is behind a miner identity and where its answers come from, beyond its [`Strategy`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Role {
    /// Its own solver behind its own identity.
    Solo,
    /// Identity `index` (from 0) of a sybil: one solver behind several identities, each with
    /// its own registration and stake. Identity 0 is miner `first` (for it, `first` is its own
    /// index). Every identity receives its own salted view, so the one solver solves the views
    /// in turn, identity 0's first: identity `index` answers at `(index + 1)` times the solver's
    /// latency for that challenge (identity 0's draw). This is the schedule most favourable to
    /// the splitter — identity 0 answers exactly when one identity running the same solver
    /// would.
    Sybil {
        /// The miner index of the group's identity 0.
        first: usize,
        /// This identity's place in the group.
        index: usize,
    },
    /// A precomputer: it answers every challenge at once (its own `latency_ms`) with the answer
    /// it gave to an *earlier* challenge — the one in the same slot (same validator, same
    /// position in the epoch, so the same class) one epoch before — and solves the new
    /// challenge afterwards, with its strategy, to replay that answer one epoch later. In epoch
    /// 0 it replays its answers to the validators' challenges of the epoch before the run
    /// ([`PRE_RUN_EPOCH`]). The replay names the old challenge id and was made for the old
    /// salt, so it is refused.
    Replay,
}

/// One validator of the simulation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorSpec {
    /// Its stake (any integer scale; only ratios matter).
    pub stake: u128,
    /// Miners (indices) whose weights it multiplies by `collusion_factor`: a colluding validator.
    pub favours: Vec<usize>,
    /// The multiplier for favoured miners (1 = honest).
    pub collusion_factor: u128,
}

/// Everything a run depends on.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Seed of challenges, salts and latencies.
    pub seed: u64,
    /// Challenges each validator sends per epoch.
    pub challenges_per_epoch: usize,
    /// Classes to draw challenges from, in turn.
    pub classes: Vec<ProblemClass>,
    /// Instance difficulty.
    pub difficulty: Difficulty,
    /// Miners' emission per epoch (smallest unit).
    pub miner_emission: u128,
    /// Validators' emission per epoch (smallest unit).
    pub validator_emission: u128,
    /// Mechanism parameters.
    pub mechanism: Config,
    /// The miners.
    pub miners: Vec<MinerSpec>,
    /// The validators.
    pub validators: Vec<ValidatorSpec>,
}

/// Draws of a market challenge before a trivial (no-trade) one is sent anyway.
const MAX_DRAWS: usize = 16;

/// 10¹⁸: one whole token in its smallest unit.
pub const TOKEN: u128 = 1_000_000_000_000_000_000;

/// What a miner identity stakes unless its [`MinerSpec`] says otherwise: 1000 PIN.
pub const MINER_STAKE: u128 = 1000 * TOKEN;

/// The epoch number of the challenges sent "before the run" (the only ones a
/// [`Role::Replay`] miner can replay in epoch 0); challenge ids carry the epoch in their high 32
/// bits, and this one is never reached by a run.
pub const PRE_RUN_EPOCH: u64 = u32::MAX as u64;

/// Serialises an amount in wei as a decimal string: JSON numbers are only exact up to 2⁵³, and
/// emissions in wei exceed even `u64`.
fn decimal<S: serde::Serializer>(amount: &u128, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(amount)
}

impl SimConfig {
    /// Two validators (stakes 60 and 40) and eight miners, one per behaviour: two exact solvers
    /// with different speeds, a fast heuristic, a slightly noisy and a very noisy solver, a slow
    /// exact one, a copier of the first and a random answerer. Every class with a reference
    /// solver, easy instances, 1000 PIN per epoch split evenly between miners and validators.
    #[must_use]
    pub fn standard(seed: u64) -> Self {
        let miner = MinerSpec::new;
        let miners = vec![
            miner("exact", Strategy::Exact, 20),
            miner("exact-b", Strategy::Exact, 30),
            miner("heuristic", Strategy::Heuristic, 5),
            miner("noisy-1%", Strategy::Noisy { level: 0.01, seed }, 20),
            miner("noisy-30%", Strategy::Noisy { level: 0.3, seed }, 20),
            miner("slow", Strategy::Slow { latency_ms: 400 }, 400),
            miner("copier", Strategy::Copier, 25).copying(0),
            miner("random", Strategy::Random { seed }, 2),
        ];
        let honest = |stake| ValidatorSpec {
            stake,
            favours: Vec::new(),
            collusion_factor: 1,
        };
        Self {
            seed,
            challenges_per_epoch: 14,
            classes: ProblemClass::ALL.to_vec(),
            difficulty: Difficulty::easy(),
            miner_emission: 500 * TOKEN,
            validator_emission: 500 * TOKEN,
            mechanism: Config::default(),
            miners,
            validators: vec![honest(60), honest(40)],
        }
    }
}

/// A configuration the simulation cannot run.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SimError {
    /// No miners or no validators.
    #[error("{0}: at least one is required")]
    Empty(&'static str),
    /// No classes to draw from while challenges are requested.
    #[error("classes: at least one class is required")]
    NoClasses,
    /// A copier without a valid target, or a favoured miner out of range.
    #[error("{field}: miner index {index} out of range (there are {miners} miners)")]
    MinerIndex {
        /// Which field.
        field: String,
        /// The index given.
        index: usize,
        /// How many miners exist.
        miners: usize,
    },
    /// A sybil identity that does not point at its group's identity 0.
    #[error(
        "miners[{miner}].role: sybil identity {index} names miner {first} as its identity 0, \
         which is not a sybil identity 0 naming itself"
    )]
    Sybil {
        /// The identity.
        miner: usize,
        /// The identity 0 it names.
        first: usize,
        /// Its index in the group.
        index: usize,
    },
    /// Consensus rejected its input (a bug if it happens: the simulation builds it).
    #[error("consensus: {0}")]
    Consensus(#[from] nash::consensus::ConsensusError),
    /// The emission table could not be built.
    #[error("emission: {0}")]
    Emission(#[from] nash::emission::EmissionError),
}

/// What one miner did and earned in an epoch (as the first validator saw it, for the
/// per-validator figures).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MinerReport {
    /// Its label.
    pub label: String,
    /// Its account.
    pub account: Account,
    /// Challenges answered this epoch, over all validators.
    pub answered: u64,
    /// Challenges sent to it this epoch, over all validators.
    pub sent: u64,
    /// Mean `Q` of its answers this epoch (0 if none).
    pub mean_quality: f64,
    /// Answers with `Q = 1` this epoch.
    pub frontier: u64,
    /// Its stratum at the first validator.
    pub stratum: Stratum,
    /// Its TWF at the first validator.
    pub twf: f64,
    /// Its Yuma incentive share.
    pub incentive: f64,
    /// Emission earned this epoch (smallest unit).
    #[serde(serialize_with = "decimal")]
    pub earned: u128,
    /// Emission earned since the start.
    #[serde(serialize_with = "decimal")]
    pub total: u128,
}

/// One validator's figures for an epoch.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ValidatorReport {
    /// Its account.
    pub account: Account,
    /// Its stake share.
    pub stake: f64,
    /// Validator trust.
    pub trust: f64,
    /// Dividend share.
    pub dividends: f64,
    /// Emission earned this epoch.
    #[serde(serialize_with = "decimal")]
    pub earned: u128,
    /// Emission earned since the start.
    #[serde(serialize_with = "decimal")]
    pub total: u128,
}

/// The outcome of one epoch.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EpochReport {
    /// Epoch number, from 0.
    pub epoch: u64,
    /// Per miner, in configuration order.
    pub miners: Vec<MinerReport>,
    /// Per validator, in configuration order.
    pub validators: Vec<ValidatorReport>,
    /// Challenges sent this epoch (all validators).
    pub challenges: u64,
    /// Emission paid this epoch.
    #[serde(serialize_with = "decimal")]
    pub emitted: u128,
    /// Merkle root over the running totals.
    pub root: Hash32,
    /// Entries (accounts) in the running-total table.
    pub leaves: usize,
}

/// The running simulation.
#[derive(Debug)]
pub struct Simulation {
    config: SimConfig,
    epoch: u64,
    /// `histories[v][m]`: miner `m`'s record at validator `v`.
    histories: Vec<Vec<History>>,
    bonds: Vec<Vec<Fixed>>,
    totals: Vec<(Account, u128)>,
    /// A [`Role::Replay`] miner's answers to replay: `(miner, validator, slot)` → answer.
    replay: BTreeMap<(usize, usize, usize), Answer>,
}

fn account(kind: &str, index: usize) -> Account {
    let h = nash::canonical::keccak256(format!("PIN/sim/{kind}/{index}").as_bytes());
    let mut a = [0u8; 20];
    a.copy_from_slice(&h.0[12..]);
    Account(a)
}

/// The account the simulation gives miner `index`.
#[must_use]
pub fn miner_account(index: usize) -> Account {
    account("miner", index)
}

/// The account the simulation gives validator `index`.
#[must_use]
pub fn validator_account(index: usize) -> Account {
    account("validator", index)
}

/// Where unearned emission goes.
#[must_use]
pub fn treasury_account() -> Account {
    account("treasury", 0)
}

fn challenge_id(epoch: u64, validator: usize, slot: usize) -> ChallengeId {
    ChallengeId((epoch << 32) | ((validator as u64) << 20) | slot as u64)
}

/// Validator `validator`'s challenge in `slot` of `epoch`, its reference answer, and the
/// challenge's generator where its draws stopped (the latency jitter continues from it).
fn draw(
    c: &SimConfig,
    epoch: u64,
    validator: usize,
    slot: usize,
) -> (Challenge, Option<Answer>, SplitMix64) {
    let class = c.classes[slot % c.classes.len()];
    let id = challenge_id(epoch, validator, slot);
    let mut rng = SplitMix64::new(c.seed ^ id.0.rotate_left(7));
    // A market whose reference settlement trades nothing is not sent: "no trade" is right
    // whatever the labels, so a guess would score like a solution. Real validators skip such
    // batches the same way (they solve before broadcasting).
    let mut tries = 0;
    loop {
        let mut ch: Challenge = challenge(class, rng.next_u64(), &c.difficulty);
        ch.id = id;
        let reference = reference(&ch, &c.mechanism).ok();
        tries += 1;
        let trivial = matches!(&reference, Some(Answer::Settlement(s)) if s.fills.is_empty());
        if !trivial || tries >= MAX_DRAWS {
            return (ch, reference, rng);
        }
    }
}

fn miner_salt(seed: u64, validator: usize, challenge: ChallengeId, miner: usize) -> [u8; 32] {
    let mut bytes = b"PIN/sim/salt".to_vec();
    bytes.extend_from_slice(&seed.to_be_bytes());
    bytes.extend_from_slice(&(validator as u64).to_be_bytes());
    bytes.extend_from_slice(&challenge.0.to_be_bytes());
    bytes.extend_from_slice(&(miner as u64).to_be_bytes());
    nash::canonical::keccak256(&bytes).0
}

impl Simulation {
    /// Checks `config` and starts at epoch 0.
    ///
    /// # Errors
    ///
    /// [`SimError`] naming what is wrong with the configuration.
    pub fn new(config: SimConfig) -> Result<Self, SimError> {
        let n = config.miners.len();
        if n == 0 {
            return Err(SimError::Empty("miners"));
        }
        if config.validators.is_empty() {
            return Err(SimError::Empty("validators"));
        }
        if config.classes.is_empty() && config.challenges_per_epoch > 0 {
            return Err(SimError::NoClasses);
        }
        let out_of_range = |field: String, index: usize| SimError::MinerIndex {
            field,
            index,
            miners: n,
        };
        for (i, m) in config.miners.iter().enumerate() {
            match (m.strategy == Strategy::Copier, m.copies) {
                (true, Some(t)) if t < n && t != i => {}
                (true, t) => {
                    return Err(out_of_range(
                        format!("miners[{i}].copies"),
                        t.unwrap_or(usize::MAX),
                    ));
                }
                _ => {}
            }
        }
        for (i, m) in config.miners.iter().enumerate() {
            if let Role::Sybil { first, index } = m.role {
                let leads = |f: usize| {
                    config.miners.get(f).map(|l| l.role) == Some(Role::Sybil { first: f, index: 0 })
                };
                if (index == 0) != (first == i) || !leads(first) {
                    return Err(SimError::Sybil {
                        miner: i,
                        first,
                        index,
                    });
                }
            }
        }
        for (v, spec) in config.validators.iter().enumerate() {
            if let Some(&f) = spec.favours.iter().find(|&&f| f >= n) {
                return Err(out_of_range(format!("validators[{v}].favours"), f));
            }
        }
        let histories = vec![vec![History::default(); n]; config.validators.len()];
        Ok(Self {
            config,
            epoch: 0,
            histories,
            bonds: Vec::new(),
            totals: Vec::new(),
            replay: BTreeMap::new(),
        })
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// The running-total emission table (sorted by account).
    #[must_use]
    pub fn totals(&self) -> &[(Account, u128)] {
        &self.totals
    }

    /// Runs one epoch.
    ///
    /// # Errors
    ///
    /// [`SimError`] if consensus or the emission table fail (they cannot for a configuration
    /// [`Simulation::new`] accepted, barring overflow of the emission totals).
    pub fn step(&mut self) -> Result<EpochReport, SimError> {
        let c = &self.config;
        let n = c.miners.len();
        let mut answered = vec![0u64; n];
        let mut sent = vec![0u64; n];
        let mut q_sum = vec![0f64; n];
        let mut frontier = vec![0u64; n];
        let mut tables = Vec::with_capacity(c.validators.len());
        for (v, spec) in c.validators.iter().enumerate() {
            let mut outcomes = Vec::with_capacity(c.challenges_per_epoch);
            for k in 0..c.challenges_per_epoch {
                let (ch, reference, mut rng) = draw(c, self.epoch, v, k);
                let (class, id) = (ch.class, ch.id);
                let views: Vec<_> = (0..n)
                    .map(|m| salt(&ch, &miner_salt(c.seed, v, id, m)))
                    .collect();
                let ctx = Context {
                    config: &c.mechanism,
                    copied: None,
                };
                // Answers to each miner's own view; copiers afterwards, from their targets.
                let mut answers: Vec<Option<Answer>> = vec![None; n];
                for (m, spec_m) in c.miners.iter().enumerate() {
                    if spec_m.strategy == Strategy::Copier {
                        continue;
                    }
                    let own = spec_m.strategy.answer(&views[m].0, &ctx).ok();
                    if spec_m.role != Role::Replay {
                        answers[m] = own;
                        continue;
                    }
                    // Send the stored answer to the earlier challenge in this slot; store this
                    // one's for the next epoch.
                    let key = (m, v, k);
                    answers[m] = match self.replay.remove(&key) {
                        Some(old) => Some(old),
                        None if self.epoch == 0 => {
                            let (old, _, _) = draw(c, PRE_RUN_EPOCH, v, k);
                            let (view, _) = salt(&old, &miner_salt(c.seed, v, old.id, m));
                            spec_m.strategy.answer(&view, &ctx).ok()
                        }
                        None => None,
                    };
                    if let Some(a) = own {
                        self.replay.insert(key, a);
                    }
                }
                // base × [0.5, 1.5), seeded per miner and challenge; a slow miner's is fixed.
                // A sybil's later identities draw nothing: they wait for the same solver.
                let mut latency = vec![0u64; n];
                for (m, spec_m) in c.miners.iter().enumerate() {
                    if matches!(spec_m.role, Role::Sybil { index, .. } if index > 0) {
                        continue;
                    }
                    let jitter = rng.below(1000);
                    latency[m] = spec_m
                        .strategy
                        .latency_ms()
                        .unwrap_or(spec_m.latency_ms * (500 + jitter) / 1000);
                }
                for (m, spec_m) in c.miners.iter().enumerate() {
                    if let Role::Sybil { first, index } = spec_m.role {
                        latency[m] = latency[first] * (index as u64 + 1);
                    }
                }
                for (m, spec_m) in c.miners.iter().enumerate() {
                    if let (Strategy::Copier, Some(t)) = (&spec_m.strategy, spec_m.copies) {
                        // It can only send what it has seen: after its target.
                        answers[m] = answers[t].clone();
                        latency[m] += latency[t];
                    }
                }
                // Every answer verified under its own miner's map; copies of another miner's
                // salted bytes are then refused.
                let verified: Vec<f64> = (0..n)
                    .map(|m| {
                        answers[m].as_ref().map_or(0.0, |a| {
                            let map = &views[m].1;
                            verify(&ch, &map.desalt(a), reference.as_ref(), &c.mechanism).quality
                        })
                    })
                    .collect();
                let mut arrival: Vec<usize> = (0..n).filter(|&m| answers[m].is_some()).collect();
                arrival.sort_by_key(|&m| (latency[m], m));
                let sent_answers: Vec<(&SaltMap, &Answer, f64)> = arrival
                    .iter()
                    .filter_map(|&m| answers[m].as_ref().map(|a| (&views[m].1, a, verified[m])))
                    .collect();
                let mut copy = vec![false; n];
                for (&m, found) in arrival
                    .iter()
                    .zip(copied_from(&sent_answers, &c.mechanism.pmu))
                {
                    copy[m] = found.is_some();
                }
                let mut submissions = Vec::new();
                for (m, answer) in answers.into_iter().enumerate() {
                    sent[m] += 1;
                    let record = match answer {
                        None => Record::missed(),
                        Some(a) => {
                            let map = &views[m].1;
                            let q = if copy[m] { 0.0 } else { verified[m] };
                            let latency = latency[m];
                            answered[m] += 1;
                            q_sum[m] += q;
                            frontier[m] += u64::from(q >= 1.0);
                            submissions.push(Submission {
                                miner: MinerId(m as u32),
                                answer: de_salted_digest(map, &a, &c.mechanism.pmu),
                                quality: q,
                                at_us: latency * 1000,
                            });
                            Record::answer(q, latency)
                        }
                    };
                    self.histories[v][m].push(record, &c.mechanism.twf);
                }
                outcomes.push(ChallengeOutcome {
                    class,
                    priority: None,
                    submissions,
                });
            }
            let inputs: Vec<MinerInput> = (0..n)
                .map(|m| MinerInput {
                    miner: MinerId(m as u32),
                    history: self.histories[v][m].clone(),
                })
                .collect();
            let table = epoch(&c.mechanism, c.miner_emission, &inputs, &outcomes);
            let weights: Vec<u128> = (0..n)
                .map(|m| {
                    let w = table
                        .rows
                        .iter()
                        .find(|r| r.miner == MinerId(m as u32))
                        .map_or(0, |r| r.total());
                    if spec.favours.contains(&m) {
                        w.saturating_mul(spec.collusion_factor)
                    } else {
                        w
                    }
                })
                .collect();
            tables.push((table, weights));
        }

        let miners: Vec<MinerId> = (0..n).map(|m| MinerId(m as u32)).collect();
        let inputs: Vec<ValidatorInput> = c
            .validators
            .iter()
            .zip(&tables)
            .enumerate()
            .map(|(v, (spec, (_, weights)))| ValidatorInput {
                id: ValidatorId(v as u32),
                stake: spec.stake,
                weights: weights.clone(),
            })
            .collect();
        let out: YumaOutput = yuma(&c.mechanism.yuma, &miners, &inputs, &self.bonds)?;
        let miner_accounts: Vec<Account> = (0..n).map(miner_account).collect();
        let validator_accounts: Vec<Account> =
            (0..c.validators.len()).map(validator_account).collect();
        let table = emission_table(
            &out,
            &miner_accounts,
            &validator_accounts,
            c.miner_emission,
            c.validator_emission,
            treasury_account(),
        )?;
        self.totals = accumulate(&self.totals, &table)?;
        let root = MerkleTree::from_table(&self.totals)?.root();
        let amount = |t: &[(Account, u128)], a: &Account| {
            t.iter().find(|(x, _)| x == a).map_or(0, |(_, v)| *v)
        };
        let first = &tables[0].0;
        let report = EpochReport {
            epoch: self.epoch,
            miners: (0..n)
                .map(|m| {
                    let row = first.rows.iter().find(|r| r.miner == MinerId(m as u32));
                    MinerReport {
                        label: c.miners[m].label.clone(),
                        account: miner_accounts[m],
                        answered: answered[m],
                        sent: sent[m],
                        mean_quality: if answered[m] == 0 {
                            0.0
                        } else {
                            q_sum[m] / answered[m] as f64
                        },
                        frontier: frontier[m],
                        stratum: row.map_or(Stratum::Bronze, |r| r.stratum),
                        twf: row.map_or(0.0, |r| r.twf.0.to_f64()),
                        incentive: out.incentive[m].to_f64(),
                        earned: amount(&table, &miner_accounts[m]),
                        total: amount(&self.totals, &miner_accounts[m]),
                    }
                })
                .collect(),
            validators: (0..c.validators.len())
                .map(|v| ValidatorReport {
                    account: validator_accounts[v],
                    stake: out.stake[v].to_f64(),
                    trust: out.trust[v].to_f64(),
                    dividends: out.dividends[v].to_f64(),
                    earned: amount(&table, &validator_accounts[v]),
                    total: amount(&self.totals, &validator_accounts[v]),
                })
                .collect(),
            challenges: (c.challenges_per_epoch * c.validators.len()) as u64,
            emitted: table.iter().map(|(_, a)| a).sum(),
            root,
            leaves: self.totals.len(),
        };
        self.bonds = out.bonds;
        self.epoch += 1;
        Ok(report)
    }
}

/// Per-label totals over a run, for summaries: `(label, total earned)` in configuration order.
#[must_use]
pub fn earnings_by_label(report: &EpochReport) -> BTreeMap<String, u128> {
    let mut out = BTreeMap::new();
    for m in &report.miners {
        *out.entry(m.label.clone()).or_insert(0) += m.total;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use nash::emission::{leaf, verify as verify_proof};

    fn quick(seed: u64) -> SimConfig {
        let mut c = SimConfig::standard(seed);
        c.challenges_per_epoch = 7;
        c
    }

    fn run(c: SimConfig, epochs: u64) -> (Simulation, EpochReport) {
        let mut sim = Simulation::new(c).expect("valid config");
        let mut last = None;
        for _ in 0..epochs {
            last = Some(sim.step().expect("epoch runs"));
        }
        (sim, last.expect("at least one epoch"))
    }

    #[test]
    fn honest_exact_solving_earns_more_than_copying_and_random_answers() {
        let (_, r) = run(quick(7), 3);
        let by = |label: &str| {
            r.miners
                .iter()
                .find(|m| m.label == label)
                .expect("miner exists")
                .total
        };
        assert!(by("exact") > by("copier"), "{r:#?}");
        assert!(by("exact") > by("random"), "{r:#?}");
        assert!(by("heuristic") > by("random"), "{r:#?}");
        // A copied answer was made for another miner's salt: it verifies only where the answer
        // does not depend on the labels (no trade), and then it is a later identical answer.
        let copier = r
            .miners
            .iter()
            .find(|m| m.label == "copier")
            .expect("copier");
        assert_eq!(copier.total, 0, "{copier:?}");
        let exact = r.miners.iter().find(|m| m.label == "exact").expect("exact");
        assert!(exact.frontier * 10 >= exact.answered * 9, "{exact:?}");
    }

    #[test]
    fn emission_is_exact_and_every_total_has_a_valid_proof() {
        let c = quick(3);
        let per_epoch = c.miner_emission + c.validator_emission;
        let (sim, r) = run(c, 2);
        assert_eq!(r.emitted, per_epoch);
        let sum: u128 = sim.totals().iter().map(|(_, a)| a).sum();
        assert_eq!(sum, 2 * per_epoch);
        let tree = MerkleTree::from_table(sim.totals()).expect("tree");
        assert_eq!(tree.root(), r.root);
        for (i, (a, amount)) in sim.totals().iter().enumerate() {
            let proof = tree.proof(i).expect("proof");
            assert!(verify_proof(&r.root, &leaf(a, *amount), &proof));
            assert!(!verify_proof(&r.root, &leaf(a, amount + 1), &proof));
        }
    }

    #[test]
    fn report_json_carries_exact_amounts_as_strings() {
        let (_, r) = run(quick(5), 1);
        let v = serde_json::to_value(&r).expect("a report serialises");
        assert_eq!(
            v["emitted"],
            serde_json::Value::String(r.emitted.to_string())
        );
        let total = &v["miners"][0]["total"];
        assert_eq!(total.as_str(), Some(r.miners[0].total.to_string().as_str()));
        assert!(
            r.emitted > u128::from(u64::MAX),
            "the case JSON numbers cannot carry"
        );
    }

    #[test]
    fn runs_are_deterministic() {
        let (_, a) = run(quick(11), 2);
        let (_, b) = run(quick(11), 2);
        assert_eq!(a, b);
        let (_, c) = run(quick(12), 2);
        assert_ne!(a.root, c.root);
    }

    #[test]
    fn a_colluding_minority_validator_loses_trust() {
        let honest = quick(5);
        let mut c = honest.clone();
        // The 40 % validator pushes the two noisy solvers, which score a little.
        c.validators[1].favours = vec![3, 4];
        c.validators[1].collusion_factor = 1000;
        let (_, h) = run(honest, 3);
        let (_, r) = run(c, 3);
        let (v, hv) = (&r.validators[1], &h.validators[1]);
        assert!(v.trust < hv.trust, "{v:?} vs honest {hv:?}");
        assert!(v.dividends < hv.dividends, "{v:?} vs honest {hv:?}");
        assert!(v.total < hv.total, "{v:?} vs honest {hv:?}");
    }

    #[test]
    fn bad_configurations_are_refused_with_the_field() {
        let mut c = quick(1);
        c.miners[6].copies = Some(6);
        assert_eq!(
            Simulation::new(c).err(),
            Some(SimError::MinerIndex {
                field: "miners[6].copies".into(),
                index: 6,
                miners: 8
            })
        );
        let mut c = quick(1);
        c.validators[0].favours = vec![99];
        assert!(matches!(
            Simulation::new(c),
            Err(SimError::MinerIndex { index: 99, .. })
        ));
        let mut c = quick(1);
        c.validators.clear();
        assert_eq!(
            Simulation::new(c).err(),
            Some(SimError::Empty("validators"))
        );
    }
}
