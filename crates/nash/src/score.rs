//! Scoring: time-weighted fidelity (TWF), strata, fidelity slash, proof of marginal utility
//! (PMU), subnet priority (SPF), scores `S = Q × PMU × TWF × SPF` and the epoch's split of the
//! miners' emission into the stability pool (40 %) and the discovery pool (60 %).
//!
//! # Fixed point
//!
//! Everything that validators must agree on is computed in integers: [`Fixed`] is an unsigned
//! number with [`SCALE`] = 10⁹ (nine decimals) in a `u128`. Products round down
//! (`floor(a·b / 10⁹)`), quotients round down, square roots are integer square roots, and
//! `a·b/c` uses a 256-bit intermediate, so no step depends on the platform's floating point.
//! Floats enter only at the edges — `Q` from the verifier and the `f64` parameters of
//! [`Config`] — and are converted once with [`Fixed::from_f64`] (IEEE-754 multiplication and
//! rounding, which are exact and identical everywhere). Emission amounts are integers in the
//! chain's smallest unit (e.g. rao); the pools and every miner's amount sum exactly to the epoch
//! emission.
//!
//! # TWF
//!
//! Each challenge sent to a miner leaves a [`Record`]. A record's value is
//! `v = (0.5·accurate + 0.2·answered + 0.3·latency) / (0.5 + 0.2 + 0.3)` with `accurate` = 1 if
//! answered with `Q ≥ accuracy_min_quality` (1.0: on the frontier), `answered` ∈ {0, 1}, and
//! `latency = min(1, threshold / latency_ms)` (1 at 0 ms; 0 if unanswered). So accuracy is the
//! share of *challenges* answered on the frontier, uptime the share answered and latency the mean
//! latency score, all over the window. The window holds the last `window` (1000) records; while a
//! miner has fewer, the missing ones count at the value that gives the start TWF (0.7), so a new
//! miner starts at 0.7 and builds reputation as its record fills. The performance is
//! `perf = min + (max − min) · mean(v)` ∈ [0.5, 1.5].
//!
//! **Fidelity slash.** Each answered record in the window with `Q` below a tier's bound
//! multiplies the miner's TWF by the strictest matching tier's factor (0.99 below 0.8, 0.95 below
//! 0.5, 0.90 at 0); the decay lasts while the record is in the window.
//!
//! **Strata.** Miners are ranked by merit = `clamp(perf × slash)`. A stratum's rank requirement
//! "top f" is met when the epoch's credited work (see below) of miners with strictly higher merit
//! is below `f` of all credited work — the top 1 % of the work rather than of the identities, so
//! splitting into sybils does not create room at the top, and equal merits get equal strata. A
//! miner gets the best stratum whose rank and lifetime-challenge requirements it meets, and
//! `TWF = clamp(max(perf, floor) × slash, 0.5, 1.5)`: the floor protects a good miner against a
//! noisy window, the slash is applied after it so that low quality always costs.
//!
//! # PMU, S and the one reward per challenge
//!
//! The answers to one challenge are grouped by their canonical digest (the caller passes the
//! digest of the de-salted answer): identical answers form one group, whatever identities sent
//! them; a group's `Q` is its members' lowest. **Each challenge pays one reward**, `S = Q × PMU
//! × SPF × TWF`, to the earliest member of the first group with the best `Q` any group
//! reached — the best answer that arrived first; ties within the clock's resolution go to the
//! smallest [`MinerId`] (not to the smallest digest: a miner with several optima could pick the
//! one with the smallest digest, and a splitter would hold `k` such tickets). Every other
//! answer — identical and later, different and worse, *different and as good* — earns nothing
//! and changes nothing for anyone. `PMU = clamp(base × complexity × uniqueness / √solvers,
//! 0.1, 5.0)` with the class's typical solver count from the configuration (the seed table's
//! "typical solvers"), so it is a constant of the class.
//!
//! *Why one reward per challenge, and not one per group?* Because identities are free, and any
//! reward that depends on how many answers or identities there are can be bought by splitting
//! one solver into `k` identities (each receives its own salted view, solves it, and answers):
//!
//! * a share for a later *identical* answer lets the splitter collect `k` shares, or — if the
//!   group's total is fixed or collapses with its size — dilute its honest co-members (both
//!   variants failed the sybil property test below);
//! * a reward for every *different* answer with the best `Q` gives it `k` tickets wherever the
//!   optimum is not unique (a least-core split of a coalition game, one of several equilibria
//!   of a general game), because its `k` views de-salt to different optima: +1.9 % over the
//!   same solver as one identity in `pin sim --adversarial` (seed 1), up to +2.4 % on seeds 1–8;
//! * `1/√solvers` with `solvers` counted from the challenge's answers (the distinct valid
//!   answers) lets its later identities lower the reward of the challenges others win, and so
//!   raise its share of the normalised pools: with one reward per challenge, still up to +0.04 %
//!   on seeds 1–16, and exactly 0 once `solvers` was the class's constant.
//!
//! With one reward, to the first best answer, the reward of a challenge goes to whoever was
//! first; a splitter's identity 0 answers exactly when its solver as one identity would, and the
//! rest come later (the property tests below and the simulation's single-identity control:
//! splitting earns exactly what one identity earns, on every seed tried). A copier (same answer,
//! later) earns nothing; honest miners reaching the same or another optimum compete on time,
//! which is what the latency part of TWF rewards anyway. Paying slightly worse answers by their
//! `Q` (0.95 within 0.1 %, 0.80 within 1 %) would pay a miner more for a perturbed copy than the
//! right answer earns someone else, and pay the noisy and the heuristic miners more than the
//! exact ones (the simulation in `pin-sim` showed exactly that); the lower bands cost TWF through
//! the fidelity slash instead.
//!
//! **Saturation cap.** If the easy classes (simple and constrained swaps) take more than
//! `saturation_cap` (25 %) of ΣS, their scores are scaled down so that they take exactly that
//! share (no cap when no hard class was solved).
//!
//! # Pools
//!
//! `stability = emission × 0.4` (rounded down), `discovery = emission − stability`. The discovery
//! pool is split by ΣS. The stability pool is split by `TWF × credit`, where a miner's credit is
//! the number of challenges it earned this epoch: distributing it by TWF per identity would pay
//! every sybil identity a full share. Each split rounds every amount down and gives the remainder
//! to the largest weight (the smallest [`MinerId`] on ties). A pool
//! with no weight goes to the other pool; with neither, the emission is returned as
//! `undistributed` (for the caller to carry over).
//!
//! The sybil guarantee covers the rewards of challenges. TWF and strata are per identity: a
//! split that sends its best-paid work to the identity with the best record is not excluded by
//! this module (registration cost is the chain's defence), and each new identity starts at TWF
//! 0.7 and needs the strata's challenge counts.

use crate::class::ProblemClass;
use crate::config::{Config, Stratum, TwfConfig};
use crate::units::Hash32;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

/// Fixed-point scale: [`Fixed`] has nine decimals.
pub const SCALE: u128 = 1_000_000_000;

/// An unsigned fixed-point number, `value / 10⁹`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Fixed(pub u128);

impl Fixed {
    /// Zero.
    pub const ZERO: Self = Self(0);
    /// One.
    pub const ONE: Self = Self(SCALE);

    /// The nearest fixed-point value (NaN and negatives give 0; saturates at the top).
    #[must_use]
    pub fn from_f64(x: f64) -> Self {
        let v = (x * SCALE as f64).round();
        if v.is_nan() || v <= 0.0 {
            Self::ZERO
        } else {
            Self(v as u128)
        }
    }

    /// As a float (display and tests only).
    #[must_use]
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / SCALE as f64
    }

    /// `self × rhs`, rounded down.
    #[must_use]
    pub fn times(self, rhs: Self) -> Self {
        Self(mul_div(self.0, rhs.0, SCALE))
    }

    /// `self / rhs`, rounded down; 0 when `rhs` is 0.
    #[must_use]
    pub fn over(self, rhs: Self) -> Self {
        if rhs.0 == 0 {
            Self::ZERO
        } else {
            Self(mul_div(self.0, SCALE, rhs.0))
        }
    }
}

/// `floor(a × b / c)` exactly, through a 256-bit product; saturates at `u128::MAX` if the
/// quotient does not fit, and gives 0 when `c` is 0.
#[must_use]
pub fn mul_div(a: u128, b: u128, c: u128) -> u128 {
    if c == 0 {
        return 0;
    }
    if let Some(p) = a.checked_mul(b) {
        return p / c;
    }
    // 256-bit product (hi, lo) from 64-bit limbs.
    let mask = u128::from(u64::MAX);
    let (a0, a1, b0, b1) = (a & mask, a >> 64, b & mask, b >> 64);
    let (p00, p01, p10, p11) = (a0 * b0, a0 * b1, a1 * b0, a1 * b1);
    let mid = (p00 >> 64) + (p01 & mask) + (p10 & mask);
    let lo = (p00 & mask) | (mid << 64);
    let hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    if hi >= c {
        return u128::MAX;
    }
    // Restoring division of (hi, lo) by c, one bit at a time; the remainder stays below c.
    let (mut rem, mut q) = (hi, 0u128);
    for i in (0..128).rev() {
        let carry = rem >> 127;
        rem = (rem << 1) | ((lo >> i) & 1);
        q <<= 1;
        if carry == 1 || rem >= c {
            rem = rem.wrapping_sub(c);
            q |= 1;
        }
    }
    q
}

/// A miner (its UID in the subnet).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MinerId(pub u32);

/// Time-weighted fidelity, in [0.5, 1.5] by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Twf(pub Fixed);

/// Proof of marginal utility, in [0.1, 5.0] by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Pmu(pub Fixed);

/// A miner's epoch score ΣS.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Score(pub Fixed);

/// What happened to one challenge sent to a miner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Whether the miner answered before the deadline.
    pub answered: bool,
    /// The answer's `Q` (0 when unanswered).
    pub quality: Fixed,
    /// Time to answer in milliseconds (ignored when unanswered).
    pub latency_ms: u64,
}

impl Record {
    /// An answer with quality `q` after `latency_ms`.
    #[must_use]
    pub fn answer(q: f64, latency_ms: u64) -> Self {
        Self {
            answered: true,
            quality: Fixed::from_f64(q.clamp(0.0, 1.0)),
            latency_ms,
        }
    }

    /// No answer.
    #[must_use]
    pub fn missed() -> Self {
        Self {
            answered: false,
            quality: Fixed::ZERO,
            latency_ms: 0,
        }
    }
}

/// A miner's rolling record.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// The most recent records, oldest first (at most the configured window).
    pub window: VecDeque<Record>,
    /// Challenges answered over the miner's lifetime (for the strata).
    pub answered_total: u64,
}

impl History {
    /// Appends a record, dropping the oldest beyond the window.
    pub fn push(&mut self, r: Record, config: &TwfConfig) {
        self.answered_total += u64::from(r.answered);
        self.window.push_back(r);
        while self.window.len() > config.window {
            self.window.pop_front();
        }
    }

    fn recent<'a>(&'a self, config: &TwfConfig) -> impl Iterator<Item = &'a Record> + 'a {
        self.window
            .iter()
            .skip(self.window.len().saturating_sub(config.window))
    }
}

fn latency_score(r: &Record, threshold_ms: u64) -> Fixed {
    if !r.answered {
        Fixed::ZERO
    } else if r.latency_ms <= threshold_ms {
        Fixed::ONE
    } else {
        Fixed(mul_div(
            u128::from(threshold_ms),
            SCALE,
            u128::from(r.latency_ms),
        ))
    }
}

/// A record's value in [0, 1] (see the module doc).
#[must_use]
pub fn record_value(r: &Record, c: &TwfConfig) -> Fixed {
    let (wa, wu, wl) = (
        Fixed::from_f64(c.accuracy_weight),
        Fixed::from_f64(c.uptime_weight),
        Fixed::from_f64(c.latency_weight),
    );
    let total = wa.0 + wu.0 + wl.0;
    let accurate = r.answered && r.quality >= Fixed::from_f64(c.accuracy_min_quality);
    let sum = wa.0 * u128::from(accurate)
        + wu.0 * u128::from(r.answered)
        + mul_div(wl.0, latency_score(r, c.latency_threshold_ms).0, SCALE);
    Fixed(mul_div(sum, SCALE, total))
}

fn bounds(c: &TwfConfig) -> (Fixed, Fixed) {
    let lo = Fixed::from_f64(c.min);
    (lo, Fixed::from_f64(c.max).max(lo))
}

fn clamp_twf(x: Fixed, c: &TwfConfig) -> Fixed {
    let (lo, hi) = bounds(c);
    x.clamp(lo, hi)
}

/// Performance `min + (max − min) · mean(v)` over the window, missing records counted at the
/// start value; a miner with no record has exactly `start`.
#[must_use]
pub fn performance(h: &History, c: &TwfConfig) -> Fixed {
    let (lo, hi) = bounds(c);
    let span = hi.0 - lo.0;
    let start = clamp_twf(Fixed::from_f64(c.start), c);
    let pad = if span == 0 {
        0
    } else {
        mul_div(start.0 - lo.0, SCALE, span)
    };
    let w = c.window as u128;
    let mut sum = 0u128;
    let mut n = 0u128;
    for r in h.recent(c) {
        sum += record_value(r, c).0;
        n += 1;
    }
    // An empty window (window = 0) leaves the start value.
    let raw = (sum + (w - n) * pad).checked_div(w).unwrap_or(pad);
    Fixed(lo.0 + mul_div(span, raw, SCALE))
}

/// The product of the fidelity-slash factors of the low-quality answers in the window.
#[must_use]
pub fn slash_factor(h: &History, config: &Config) -> Fixed {
    let tiers: Vec<(Fixed, Fixed)> = config
        .fidelity_slash
        .iter()
        .map(|t| {
            (
                // Rounded up, so that a bound just above 0 still catches Q = 0.
                Fixed((t.below_quality * SCALE as f64).ceil().max(0.0) as u128),
                Fixed::from_f64(t.twf_factor).min(Fixed::ONE),
            )
        })
        .collect();
    let mut f = Fixed::ONE;
    for r in h.recent(&config.twf).filter(|r| r.answered) {
        // The strictest matching tier is the one with the smallest factor.
        if let Some(m) = tiers
            .iter()
            .filter(|(below, _)| r.quality < *below)
            .map(|(_, factor)| *factor)
            .min()
        {
            f = f.times(m);
        }
    }
    f
}

/// What the strata are decided from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Standing {
    /// The miner.
    pub miner: MinerId,
    /// `clamp(perf × slash)`.
    pub merit: Fixed,
    /// Lifetime challenges answered.
    pub answered_total: u64,
    /// Credited work this epoch.
    pub credit: Fixed,
}

/// The stratum and TWF floor of each standing (same order), by the module doc's rule. A miner
/// meeting no rule is Bronze with no floor.
#[must_use]
pub fn strata(standings: &[Standing], config: &Config) -> Vec<(Stratum, Fixed)> {
    let total: u128 = standings.iter().map(|s| s.credit.0).sum();
    standings
        .iter()
        .map(|s| {
            let better: u128 = standings
                .iter()
                .filter(|o| o.merit > s.merit)
                .map(|o| o.credit.0)
                .sum();
            config
                .strata
                .iter()
                .find(|rule| {
                    s.answered_total >= rule.min_challenges
                        && rule.top_fraction.is_none_or(|f| {
                            better.saturating_mul(SCALE)
                                < Fixed::from_f64(f).0.saturating_mul(total)
                        })
                })
                .map_or((Stratum::Bronze, Fixed::ZERO), |rule| {
                    (rule.stratum, Fixed::from_f64(rule.twf_floor))
                })
        })
        .collect()
}

/// `√n` in fixed point, rounded down (`n ≥ 1`; 0 is treated as 1).
fn sqrt(n: u64) -> Fixed {
    Fixed((u128::from(n.max(1)) * SCALE * SCALE).isqrt())
}

/// The PMU of a challenge of `class` for the first miner to its best answer (the only answer
/// that earns): `clamp(base × complexity × uniqueness / √solvers)` with the class's typical
/// solver count.
#[must_use]
pub fn pmu(class: ProblemClass, config: &Config) -> Pmu {
    let p = &config.pmu;
    let e = p.entry(class);
    let x = Fixed::from_f64(e.base)
        .times(Fixed::from_f64(e.complexity))
        .times(Fixed::from_f64(p.uniqueness_bonus))
        .over(sqrt(e.solvers));
    let lo = Fixed::from_f64(p.min);
    Pmu(x.clamp(lo, Fixed::from_f64(p.max).max(lo)))
}

/// A challenge's SPF: the given priority (default when absent) clamped to [min, max].
#[must_use]
pub fn spf(priority: Option<f64>, config: &Config) -> Fixed {
    let s = &config.spf;
    let lo = Fixed::from_f64(s.min);
    Fixed::from_f64(priority.unwrap_or(s.default)).clamp(lo, Fixed::from_f64(s.max).max(lo))
}

/// One miner's answer to one challenge.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    /// Who answered.
    pub miner: MinerId,
    /// Canonical digest of the (de-salted) answer: equal digests are identical answers.
    pub answer: Hash32,
    /// The verifier's `Q`.
    pub quality: f64,
    /// When the answer arrived, in microseconds from a common origin (the validator's clock or
    /// the time each miner's challenge left): only the order matters. Microseconds, because
    /// whole milliseconds made ties of near-simultaneous answers, and ties go to the smallest
    /// [`MinerId`] — always the same identity.
    pub at_us: u64,
}

/// The answers to one challenge of the epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChallengeOutcome {
    /// The challenge's class.
    pub class: ProblemClass,
    /// Priority of the intents' source (SPF before clamping); `None` for the default.
    pub priority: Option<f64>,
    /// Every answer received.
    pub submissions: Vec<Submission>,
}

/// A miner's state entering the epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MinerInput {
    /// The miner.
    pub miner: MinerId,
    /// Its rolling record (already including this epoch's challenges).
    pub history: History,
}

/// One miner's line in the epoch table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinerRow {
    /// The miner.
    pub miner: MinerId,
    /// Its stratum.
    pub stratum: Stratum,
    /// Its TWF.
    pub twf: Twf,
    /// Challenges it earned (it was first to the best answer), in fixed point.
    pub credit: Fixed,
    /// The mean PMU of the challenges it earned (0 when none).
    pub pmu: Pmu,
    /// ΣS after the saturation cap.
    pub score: Score,
    /// Its stability-pool amount.
    pub stability: u128,
    /// Its discovery-pool amount.
    pub discovery: u128,
}

impl MinerRow {
    /// Stability plus discovery.
    #[must_use]
    pub fn total(&self) -> u128 {
        self.stability + self.discovery
    }
}

/// The miners' emission for one epoch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochTable {
    /// One row per miner, by [`MinerId`].
    pub rows: Vec<MinerRow>,
    /// Amount of the stability pool actually paid out.
    pub stability_pool: u128,
    /// Amount of the discovery pool actually paid out.
    pub discovery_pool: u128,
    /// Emission nobody earned (no weight in either pool).
    pub undistributed: u128,
}

/// Splits `pool` by `weights`: each amount rounded down, the remainder to the largest weight
/// (earliest index on ties). Returns all zeros when the weights sum to zero.
#[must_use]
pub fn split(pool: u128, weights: &[u128]) -> Vec<u128> {
    let total: u128 = weights.iter().fold(0u128, |a, w| a.saturating_add(*w));
    if total == 0 {
        return vec![0; weights.len()];
    }
    let mut out: Vec<u128> = weights.iter().map(|w| mul_div(pool, *w, total)).collect();
    let paid: u128 = out.iter().sum();
    let mut top = 0;
    for (i, w) in weights.iter().enumerate() {
        if *w > weights[top] {
            top = i;
        }
    }
    out[top] += pool - paid;
    out
}

#[derive(Default)]
struct Acc {
    credit: u128,
    pmu: u128,
    easy: u128,
    hard: u128,
}

/// Scores one epoch and splits `emission` (see the module doc). Miners that submitted but are not
/// in `miners` are scored with an empty history.
#[must_use]
pub fn epoch(
    config: &Config,
    emission: u128,
    miners: &[MinerInput],
    challenges: &[ChallengeOutcome],
) -> EpochTable {
    let mut histories: BTreeMap<MinerId, &History> = BTreeMap::new();
    let empty = History::default();
    for m in miners {
        histories.insert(m.miner, &m.history);
    }
    let mut acc: BTreeMap<MinerId, Acc> = histories.keys().map(|m| (*m, Acc::default())).collect();

    for ch in challenges {
        // One submission per miner: its earliest (then smallest digest).
        let mut first: BTreeMap<MinerId, &Submission> = BTreeMap::new();
        for s in &ch.submissions {
            let e = first.entry(s.miner).or_insert(s);
            if (s.at_us, s.answer) < (e.at_us, e.answer) {
                *e = s;
            }
        }
        // Groups of identical answers, members by (time, id).
        let mut groups: BTreeMap<Hash32, Vec<&Submission>> = BTreeMap::new();
        for s in first.values() {
            groups.entry(s.answer).or_default().push(s);
            acc.entry(s.miner).or_default();
        }
        for g in groups.values_mut() {
            g.sort_by_key(|s| (s.at_us, s.miner));
        }
        let q = |g: &Vec<&Submission>| {
            g.iter()
                .map(|s| Fixed::from_f64(s.quality.clamp(0.0, 1.0)))
                .min()
                .unwrap_or(Fixed::ZERO)
        };
        let valid: Vec<(&Hash32, &Vec<&Submission>, Fixed)> = groups
            .iter()
            .map(|(h, g)| (h, g, q(g)))
            .filter(|(_, _, q)| *q > Fixed::ZERO)
            .collect();
        let best = valid.iter().map(|v| v.2).max().unwrap_or(Fixed::ZERO);
        let Some(winner) = valid
            .iter()
            .filter(|v| v.2 == best)
            .min_by_key(|v| (v.1[0].at_us, v.1[0].miner))
        else {
            continue;
        };
        // One reward per challenge: the first best answer's, to its earliest member (see the
        // module doc).
        let (members, q) = (winner.1, winner.2);
        let pmu = pmu(ch.class, config).0;
        let share = q.times(pmu).times(spf(ch.priority, config)).0;
        let a = acc.entry(members[0].miner).or_default();
        a.credit += SCALE;
        a.pmu += pmu.0;
        if ch.class.is_bilateral() {
            a.easy += share;
        } else {
            a.hard += share;
        }
    }

    // TWF.
    let ids: Vec<MinerId> = acc.keys().copied().collect();
    let hist = |m: &MinerId| histories.get(m).copied().unwrap_or(&empty);
    let perf: Vec<Fixed> = ids
        .iter()
        .map(|m| performance(hist(m), &config.twf))
        .collect();
    let slash: Vec<Fixed> = ids.iter().map(|m| slash_factor(hist(m), config)).collect();
    let standings: Vec<Standing> = ids
        .iter()
        .enumerate()
        .map(|(i, m)| Standing {
            miner: *m,
            merit: clamp_twf(perf[i].times(slash[i]), &config.twf),
            answered_total: hist(m).answered_total,
            credit: Fixed(acc[m].credit),
        })
        .collect();
    let st = strata(&standings, config);
    let twf: Vec<Fixed> = (0..ids.len())
        .map(|i| clamp_twf(perf[i].max(st[i].1).times(slash[i]), &config.twf))
        .collect();

    // Scores and the saturation cap.
    let easy: Vec<u128> = ids
        .iter()
        .zip(&twf)
        .map(|(m, t)| t.times(Fixed(acc[m].easy)).0)
        .collect();
    let hard: Vec<u128> = ids
        .iter()
        .zip(&twf)
        .map(|(m, t)| t.times(Fixed(acc[m].hard)).0)
        .collect();
    let (easy_total, hard_total): (u128, u128) = (easy.iter().sum(), hard.iter().sum());
    let cap = Fixed::from_f64(config.pmu.saturation_cap).0;
    let capped = hard_total > 0
        && cap < SCALE
        && easy_total.saturating_mul(SCALE - cap) > cap.saturating_mul(hard_total);
    let target = if capped {
        mul_div(hard_total, cap, SCALE - cap)
    } else {
        easy_total
    };
    let scores: Vec<u128> = (0..ids.len())
        .map(|i| mul_div(easy[i], target, easy_total) + hard[i])
        .collect();
    let stab_w: Vec<u128> = ids
        .iter()
        .zip(&twf)
        .map(|(m, t)| t.times(Fixed(acc[m].credit)).0)
        .collect();

    // Pools.
    let (s, d) = (
        Fixed::from_f64(config.pools.stability).0,
        Fixed::from_f64(config.pools.discovery).0,
    );
    let mut stability_pool = mul_div(emission, s, s + d);
    let mut discovery_pool = emission - stability_pool;
    let has = |w: &[u128]| w.iter().any(|x| *x > 0);
    let mut undistributed = 0;
    match (has(&stab_w), has(&scores)) {
        (true, true) => {}
        (true, false) => {
            stability_pool = emission;
            discovery_pool = 0;
        }
        (false, true) => {
            discovery_pool = emission;
            stability_pool = 0;
        }
        (false, false) => {
            undistributed = emission;
            stability_pool = 0;
            discovery_pool = 0;
        }
    }
    let stab = split(stability_pool, &stab_w);
    let disc = split(discovery_pool, &scores);
    let rows = ids
        .iter()
        .enumerate()
        .map(|(i, m)| MinerRow {
            miner: *m,
            stratum: st[i].0,
            twf: Twf(twf[i]),
            credit: Fixed(acc[m].credit),
            pmu: Pmu(Fixed(acc[m].pmu).over(Fixed(acc[m].credit))),
            score: Score(Fixed(scores[i])),
            stability: stab[i],
            discovery: disc[i],
        })
        .collect();
    EpochTable {
        rows,
        stability_pool,
        discovery_pool,
        undistributed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cfg() -> Config {
        Config::default()
    }

    fn hash(n: u8) -> Hash32 {
        Hash32([n; 32])
    }

    fn sub(miner: u32, answer: u8, quality: f64, at_us: u64) -> Submission {
        Submission {
            miner: MinerId(miner),
            answer: hash(answer),
            quality,
            at_us,
        }
    }

    fn total(t: &EpochTable) -> u128 {
        t.rows.iter().map(MinerRow::total).sum::<u128>() + t.undistributed
    }

    #[test]
    fn mul_div_is_exact_beyond_128_bits() {
        assert_eq!(mul_div(7, 3, 2), 10);
        assert_eq!(mul_div(u128::MAX, u128::MAX, u128::MAX), u128::MAX);
        assert_eq!(mul_div(u128::MAX, 3, 4), u128::MAX / 4 * 3 + 2);
        assert_eq!(mul_div(1 << 100, 1 << 100, 1 << 90), 1 << 110);
        assert_eq!(mul_div(u128::MAX, 2, 1), u128::MAX);
        assert_eq!(mul_div(5, 5, 0), 0);
        assert_eq!(
            Fixed::from_f64(1.5).times(Fixed::from_f64(0.3)),
            Fixed(450_000_000)
        );
        assert_eq!(Fixed::from_f64(f64::NAN), Fixed::ZERO);
        assert_eq!(Fixed::ONE.over(Fixed(3 * SCALE)), Fixed(333_333_333));
    }

    #[test]
    fn twf_hand_computed() {
        let mut c = cfg();
        c.twf.window = 10;
        let mut h = History::default();
        assert_eq!(
            performance(&h, &c.twf),
            Fixed(700_000_000),
            "new miners start at 0.7"
        );
        for _ in 0..6 {
            h.push(Record::answer(1.0, 25), &c.twf);
        }
        for _ in 0..2 {
            h.push(Record::answer(0.95, 100), &c.twf);
        }
        for _ in 0..2 {
            h.push(Record::missed(), &c.twf);
        }
        // accuracy 0.6, uptime 0.8, latency (6·1 + 2·0.5)/10 = 0.7:
        // 0.5·0.6 + 0.2·0.8 + 0.3·0.7 = 0.67 → 0.5 + 0.67 = 1.17.
        assert_eq!(performance(&h, &c.twf), Fixed(1_170_000_000));
        assert_eq!(slash_factor(&h, &c), Fixed::ONE);
        // Half a window of perfect answers: 5 · 1 + 5 · 0.2 (padding) → 0.6 → 1.1.
        let mut half = History::default();
        for _ in 0..5 {
            half.push(Record::answer(1.0, 0), &c.twf);
        }
        assert_eq!(performance(&half, &c.twf), Fixed(1_100_000_000));
        // The window rolls: ten perfect answers push the old ones out.
        for _ in 0..10 {
            h.push(Record::answer(1.0, 50), &c.twf);
        }
        assert_eq!(h.window.len(), 10);
        assert_eq!(h.answered_total, 18);
        assert_eq!(performance(&h, &c.twf), Fixed(1_500_000_000));
        // Latency 200 ms: score 50/200 = 0.25 → 0.5 + 0.2 + 0.075 = 0.775 → 1.275.
        let mut slow = History::default();
        for _ in 0..10 {
            slow.push(Record::answer(1.0, 200), &c.twf);
        }
        assert_eq!(performance(&slow, &c.twf), Fixed(1_275_000_000));
    }

    #[test]
    fn fidelity_slash_tiers() {
        let c = cfg();
        let mut h = History::default();
        h.push(Record::answer(0.6, 1), &c.twf);
        assert_eq!(slash_factor(&h, &c), Fixed(990_000_000));
        h.push(Record::answer(0.3, 1), &c.twf);
        assert_eq!(slash_factor(&h, &c), Fixed(940_500_000));
        h.push(Record::answer(0.0, 1), &c.twf);
        assert_eq!(slash_factor(&h, &c), Fixed(846_450_000));
        h.push(Record::missed(), &c.twf);
        h.push(Record::answer(0.8, 1), &c.twf);
        assert_eq!(
            slash_factor(&h, &c),
            Fixed(846_450_000),
            "misses and Q = 0.8 are not slashed"
        );
    }

    #[test]
    fn pmu_hand_computed() {
        let c = cfg();
        // 0.3 · 1.0 · 1.5 / √150 = 0.0367…: the floor 0.1.
        assert_eq!(pmu(ProblemClass::SimpleSwap, &c).0, Fixed(100_000_000));
        // 0.7 · 1.2 · 1.5 / √75 = 1.26 / 8.660254037 = 0.145492267…
        assert_eq!(pmu(ProblemClass::ConstrainedSwap, &c).0, Fixed(145_492_267));
        // 1.8 · 2.5 · 1.5 / √20 = 6.75 / 4.472135954 (rounded down) = 1.509345885…
        assert_eq!(pmu(ProblemClass::ThreeParty, &c).0, Fixed(1_509_345_885));
        // 3.0 · 4.0 · 1.5 / √6 = 7.35: the cap 5.
        assert_eq!(pmu(ProblemClass::ResourceTriangle, &c).0, Fixed(5 * SCALE));
        let mut few = c.clone();
        few.pmu.three_party.solvers = 9;
        // 6.75 / 3 = 2.25.
        assert_eq!(pmu(ProblemClass::ThreeParty, &few).0, Fixed(2_250_000_000));
        assert_eq!(spf(None, &c), Fixed::ONE);
        assert_eq!(spf(Some(2.0), &c), Fixed(1_200_000_000));
        assert_eq!(spf(Some(0.1), &c), Fixed(800_000_000));
    }

    #[test]
    fn strata_by_work_share_and_challenge_count() {
        let c = cfg();
        let standings: Vec<Standing> = (0..200u32)
            .map(|i| Standing {
                miner: MinerId(i),
                merit: Fixed(1_500_000_000 - u128::from(i) * 1_000_000),
                answered_total: if i == 1 { 4000 } else { 6000 },
                credit: Fixed::ONE,
            })
            .collect();
        let s = strata(&standings, &c);
        assert_eq!(s[0], (Stratum::Platinum, Fixed(1_300_000_000)));
        assert_eq!(s[1].0, Stratum::Silver, "too few challenges for gold");
        assert_eq!(s[2].0, Stratum::Gold, "2 ahead of it: below 1 % of 200 = 2");
        assert_eq!(s[19].0, Stratum::Gold);
        assert_eq!(s[20].0, Stratum::Silver);
        let newbie = Standing {
            answered_total: 10,
            ..standings[0]
        };
        assert_eq!(
            strata(&[newbie], &c)[0],
            (Stratum::Bronze, Fixed(700_000_000))
        );
    }

    #[test]
    fn epoch_hand_computed() {
        // Three new miners (TWF 0.7). A three-party challenge: miner 1 first with a best answer,
        // miner 3 next with a worse one (Q 0.95), miner 2 last with a different best answer;
        // only miner 1 earns. A general game: miner 2 first (Q 0.8), miner 3 later with the
        // same Q — the best reached — so miner 2 earns.
        let c = cfg();
        let three = ChallengeOutcome {
            class: ProblemClass::ThreeParty,
            priority: None,
            submissions: vec![sub(1, 1, 1.0, 10), sub(2, 2, 1.0, 20), sub(3, 3, 0.95, 15)],
        };
        let game = ChallengeOutcome {
            class: ProblemClass::GeneralGame,
            priority: None,
            submissions: vec![sub(3, 4, 0.8, 9), sub(2, 5, 0.8, 5)],
        };
        let t = epoch(&c, 1_000_000, &[], &[three, game]);
        // PMU 1.509345885 for both classes. S1 = 0.7 · 1.509345885 = 1.056542119 (rounded
        // down); S2 = 0.7 · (0.8 · 1.509345885 = 1.207476708) = 0.845233695; S3 = 0.
        let r: Vec<(u128, u128, u128)> = t
            .rows
            .iter()
            .map(|r| (r.score.0.0, r.stability, r.discovery))
            .collect();
        assert_eq!(r[0].0, 1_056_542_119);
        assert_eq!(r[1].0, 845_233_695);
        assert_eq!(r[2], (0, 0, 0), "neither a worse nor a later answer earns");
        // Stability 400 000 split by TWF × credit (one challenge each): 200 000 each.
        assert_eq!((r[0].1, r[1].1), (200_000, 200_000));
        // Discovery 600 000 · S1 / (S1 + S2) = 333 333.33…, rounded down; the remainder goes to
        // the largest score.
        assert_eq!((r[0].2, r[1].2), (333_334, 266_666));
        assert_eq!(total(&t), 1_000_000);
        assert!(t.rows.iter().all(|r| r.twf == Twf(Fixed(700_000_000))));
        let pmus: Vec<u128> = t.rows.iter().map(|r| r.pmu.0.0).collect();
        assert_eq!(pmus, [1_509_345_885, 1_509_345_885, 0]);
    }

    #[test]
    fn copier_earns_nothing_and_takes_nothing() {
        let c = cfg();
        let alone = ChallengeOutcome {
            class: ProblemClass::ThreeParty,
            priority: None,
            submissions: vec![sub(1, 1, 1.0, 10), sub(3, 3, 0.8, 12)],
        };
        let mut copied = alone.clone();
        copied.submissions.push(sub(2, 1, 1.0, 11));
        let a = epoch(&c, 1_000_000, &[], &[alone]);
        let b = epoch(&c, 1_000_000, &[], &[copied]);
        let row = |t: &EpochTable, m| {
            t.rows
                .iter()
                .find(|r| r.miner == MinerId(m))
                .cloned()
                .expect("row")
        };
        let copier = row(&b, 2);
        assert_eq!(
            (copier.score, copier.credit, copier.total()),
            (Score::default(), Fixed::ZERO, 0)
        );
        assert_eq!(row(&a, 1), row(&b, 1));
        assert_eq!(row(&a, 3), row(&b, 3));
        // Miner 1 is first with the best answer; miner 3's Q 0.8 answer earns nothing.
        assert!(row(&b, 1).score > row(&b, 3).score);
        assert_eq!(row(&b, 3).score, Score::default());
    }

    #[test]
    fn floor_then_slash_in_the_epoch() {
        // A Silver miner (2000 lifetime answers) with a poor window: perf 0.5, floor 1.0; one
        // answer with Q = 0 in the window then slashes the floored TWF to 0.9.
        let c = cfg();
        let mut h = History::default();
        for _ in 0..1000 {
            h.push(Record::missed(), &c.twf);
        }
        h.answered_total = 2000;
        assert_eq!(performance(&h, &c.twf), Fixed(500_000_000));
        let ch = ChallengeOutcome {
            class: ProblemClass::ZeroSumGame,
            priority: None,
            submissions: vec![sub(7, 1, 1.0, 1)],
        };
        let miners = vec![MinerInput {
            miner: MinerId(7),
            history: h.clone(),
        }];
        let t = epoch(&c, 10, &miners, std::slice::from_ref(&ch));
        assert_eq!(t.rows[0].stratum, Stratum::Silver);
        assert_eq!(t.rows[0].twf, Twf(Fixed::ONE));
        h.push(Record::answer(0.0, 10), &c.twf);
        let miners = vec![MinerInput {
            miner: MinerId(7),
            history: h,
        }];
        let t = epoch(&c, 10, &miners, &[ch]);
        assert_eq!(t.rows[0].twf, Twf(Fixed(900_000_000)));
        assert_eq!(t.rows[0].total(), 10);
    }

    #[test]
    fn table_ignores_input_order() {
        let raw: Vec<RawChallenge> = (0..6)
            .map(|i| {
                (
                    i % 7,
                    (0..6u32)
                        .map(|m| (m, (m % 3) as u8, 0, u64::from((m * 7 + i as u32) % 5)))
                        .collect(),
                )
            })
            .collect();
        let c = cfg();
        let chs = build(&raw);
        let mut reversed = chs.clone();
        reversed.reverse();
        for ch in &mut reversed {
            ch.submissions.reverse();
        }
        assert_eq!(
            epoch(&c, 123_456_789, &[], &chs),
            epoch(&c, 123_456_789, &[], &reversed)
        );
    }

    #[test]
    fn saturation_cap_limits_easy_classes() {
        let c = cfg();
        let swaps: Vec<ChallengeOutcome> = (0..20)
            .map(|_| ChallengeOutcome {
                class: ProblemClass::SimpleSwap,
                priority: None,
                submissions: vec![sub(1, 1, 1.0, 1)],
            })
            .collect();
        let mut all = swaps.clone();
        all.push(ChallengeOutcome {
            class: ProblemClass::ZeroSumGame,
            priority: None,
            submissions: vec![sub(2, 2, 1.0, 1)],
        });
        let t = epoch(&c, 1_000_000_000, &[], &all);
        let (easy, hard) = (t.rows[0].score.0.0, t.rows[1].score.0.0);
        // Uncapped easy would be 20 · 0.7 · 0.1 = 1.4 vs hard 0.7 · 0.145492267 = 0.101844586.
        let share = easy as f64 / (easy + hard) as f64;
        assert!((share - 0.25).abs() < 1e-8, "{share}");
        // Easy classes alone are not capped.
        let only = epoch(&c, 1_000, &[], &swaps);
        assert_eq!(only.rows[0].score.0, Fixed(20 * 70_000_000));
    }

    #[test]
    fn empty_pools_move_or_stay_undistributed() {
        let c = cfg();
        let t = epoch(&c, 777, &[], &[]);
        assert_eq!((t.undistributed, t.rows.len()), (777, 0));
        let zero = ChallengeOutcome {
            class: ProblemClass::SimpleSwap,
            priority: None,
            submissions: vec![sub(1, 1, 0.0, 1)],
        };
        let t = epoch(&c, 777, &[], &[zero]);
        assert_eq!((t.undistributed, t.rows[0].total()), (777, 0));
        assert_eq!(split(10, &[1, 1, 1]), vec![4, 3, 3]);
        assert_eq!(split(10, &[0, 0]), vec![0, 0]);
    }

    fn history(records: &[(bool, u8, u16)], extra: u64, c: &Config) -> History {
        let mut h = History::default();
        for &(answered, q, lat) in records {
            h.push(
                if answered {
                    Record::answer(f64::from(q % 101) / 100.0, u64::from(lat))
                } else {
                    Record::missed()
                },
                &c.twf,
            );
        }
        h.answered_total += extra;
        h
    }

    fn arb_records() -> impl Strategy<Value = Vec<(bool, u8, u16)>> {
        proptest::collection::vec((any::<bool>(), any::<u8>(), 0u16..400), 0..60)
    }

    /// A class index and (miner, answer, unused, time) per submission.
    type RawChallenge = (usize, Vec<(u32, u8, u8, u64)>);

    fn arb_challenges() -> impl Strategy<Value = Vec<RawChallenge>> {
        proptest::collection::vec(
            (
                0usize..7,
                proptest::collection::vec((0u32..5, 0u8..4, 0u8..=100, 0u64..50), 0..8),
            ),
            0..12,
        )
    }

    fn build(raw: &[RawChallenge]) -> Vec<ChallengeOutcome> {
        raw.iter()
            .map(|(class, subs)| ChallengeOutcome {
                class: ProblemClass::ALL[*class],
                priority: Some(0.8 + f64::from(*class as u8) * 0.07),
                submissions: subs
                    .iter()
                    // Identical answers have identical quality: Q depends on the answer only.
                    .map(|&(m, a, _, t)| {
                        let q = (u32::from(a) * 37 + *class as u32 * 11) % 101;
                        sub(m, a, f64::from(q) / 100.0, t)
                    })
                    .collect(),
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

        #[test]
        fn twf_within_bounds(records in arb_records(), extra in 0u64..10_000, credit in 0u32..5) {
            let mut c = cfg();
            c.twf.window = 40;
            let h = history(&records, extra, &c);
            let miners = vec![MinerInput { miner: MinerId(0), history: h }];
            let subs = (0..credit).map(|i| sub(0, 1, 1.0, u64::from(i))).collect();
            let ch = ChallengeOutcome { class: ProblemClass::GeneralGame, priority: None, submissions: subs };
            let t = epoch(&c, 1000, &miners, &[ch]);
            let twf = t.rows[0].twf.0;
            prop_assert!(twf >= Fixed(500_000_000) && twf <= Fixed(1_500_000_000), "{twf:?}");
            let p = performance(&miners[0].history, &c.twf);
            prop_assert!(p >= Fixed(500_000_000) && p <= Fixed(1_500_000_000));
        }

        #[test]
        fn pools_sum_exactly_to_emission(
            raw in arb_challenges(),
            records in arb_records(),
            emission in 0u128..u128::MAX / 4,
        ) {
            let c = cfg();
            let miners: Vec<MinerInput> = (0..3)
                .map(|m| MinerInput { miner: MinerId(m), history: history(&records[..records.len() * m as usize / 3], u64::from(m) * 3000, &c) })
                .collect();
            let t = epoch(&c, emission, &miners, &build(&raw));
            prop_assert_eq!(total(&t), emission);
            prop_assert_eq!(t.stability_pool + t.discovery_pool + t.undistributed, emission);
            let stab: u128 = t.rows.iter().map(|r| r.stability).sum();
            prop_assert_eq!(stab, t.stability_pool);
        }

        #[test]
        fn sybil_split_never_raises_total(
            raw in arb_challenges(),
            records in arb_records(),
            k in 2u32..5,
            delay in 0u64..5,
            distinct in any::<bool>(),
            worse in 0u8..=100,
            emission in 1u128..1_000_000_000_000,
        ) {
            // Miner 0 is the attacker; in the split world, identities 100.. send its answers
            // at the same or later times with the same history: identity 0 the same answer, the
            // others the same answer or (`distinct`) different answers no better than it — its
            // solver on other salted views, landing on other optima or worse answers.
            let c = cfg();
            let honest = build(&raw);
            let h0 = history(&records, 5500, &c);
            let others: Vec<MinerInput> = (1..5)
                .map(|m| MinerInput { miner: MinerId(m), history: history(&records[..records.len() / (m as usize + 1)], 6000, &c) })
                .collect();
            let mut base_miners = others.clone();
            base_miners.push(MinerInput { miner: MinerId(0), history: h0.clone() });
            let mut split_miners = others.clone();
            for i in 0..k {
                split_miners.push(MinerInput { miner: MinerId(100 + i), history: h0.clone() });
            }
            let split_challenges: Vec<ChallengeOutcome> = honest
                .iter()
                .map(|ch| {
                    let mut ch = ch.clone();
                    let mine: Vec<Submission> = ch.submissions.iter().filter(|s| s.miner == MinerId(0)).copied().collect();
                    ch.submissions.retain(|s| s.miner != MinerId(0));
                    // The answer that counts for miner 0: its earliest, then smallest digest.
                    let counted = mine.iter().min_by_key(|s| (s.at_us, s.answer)).copied();
                    for s in &mine {
                        for i in 0..k {
                            let t = Submission { miner: MinerId(100 + i), at_us: s.at_us + delay * u64::from(i), ..*s };
                            if !(distinct && i > 0) {
                                ch.submissions.push(t);
                            }
                        }
                    }
                    if let (true, Some(s)) = (distinct, counted) {
                        for i in 1..k {
                            ch.submissions.push(Submission {
                                miner: MinerId(100 + i),
                                answer: hash(200 + i as u8),
                                quality: s.quality.min(f64::from(worse) / 100.0 + 0.5),
                                at_us: s.at_us + delay * u64::from(i),
                            });
                        }
                    }
                    ch
                })
                .collect();
            let a = epoch(&c, emission, &base_miners, &honest);
            let b = epoch(&c, emission, &split_miners, &split_challenges);
            let before: u128 = a.rows.iter().filter(|r| r.miner == MinerId(0)).map(MinerRow::total).sum();
            let after: u128 = b.rows.iter().filter(|r| r.miner.0 >= 100).map(MinerRow::total).sum();
            prop_assert!(after <= before, "split {after} > {before}");
        }

        #[test]
        fn copying_earns_nothing(
            raw in arb_challenges(),
            target in 0u32..5,
            lag in 1u64..20,
        ) {
            // Miner 9 copies `target`'s answer to every challenge, later.
            let c = cfg();
            let honest = build(&raw);
            let copied: Vec<ChallengeOutcome> = honest
                .iter()
                .map(|ch| {
                    let mut ch = ch.clone();
                    let first = ch.submissions.iter().filter(|s| s.miner == MinerId(target)).min_by_key(|s| (s.at_us, s.answer)).copied();
                    if let Some(s) = first {
                        ch.submissions.push(Submission { miner: MinerId(9), at_us: s.at_us + lag, ..s });
                    }
                    ch
                })
                .collect();
            let a = epoch(&c, 1_000_000_000, &[], &honest);
            let b = epoch(&c, 1_000_000_000, &[], &copied);
            let get = |t: &EpochTable, m: u32| t.rows.iter().find(|r| r.miner == MinerId(m)).map(|r| (r.score, r.total())).unwrap_or_default();
            let (orig_a, orig_b, copier) = (get(&a, target), get(&b, target), get(&b, 9));
            // The copier earns nothing (no bonus, no share) and the original loses nothing.
            prop_assert_eq!(copier, (Score::default(), 0));
            prop_assert_eq!(orig_a, orig_b);
            let sum = |t: &EpochTable| t.rows.iter().map(|r| r.score.0.0).sum::<u128>();
            prop_assert!(sum(&b) <= sum(&a));
        }
    }
}
