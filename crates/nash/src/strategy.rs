//! Miner strategies for simulations and the devnet: exact, heuristic, noisy, slow, copier and
//! random solvers behind one [`Strategy`] enum.
//!
//! A strategy answers the challenge *as the miner sees it* (its salted view, see [`crate::salt`]);
//! the validator de-salts and verifies. Everything is pure and deterministic: seeds are explicit,
//! and [`Strategy::Slow`] reports a latency for scoring instead of sleeping.
//!
//! | strategy | markets | games | coalition formation |
//! |---|---|---|---|
//! | `Exact` | reference solver | reference solver | reference solver |
//! | `Heuristic` | exact fills rounded down to whole units, or one unit less on the largest fill, if still feasible | 64 rounds of fictitious play (two players); best-pure-response dynamics (three players) | greedy merging, then the least-core split of that structure |
//! | `Noisy` | reference with every posted price scaled by `1 ± level` | reference mixed with a random distribution, weight `level` | reference with value moved between members of each coalition, up to `level` of the mean payoff |
//! | `Slow` | `Exact`, reporting `latency_ms` | same | same |
//! | `Copier` | the answer it is given | same | same |
//! | `Random` | no fills, random prices | a random distribution per player | a random partition, each surplus split at random |
//!
//! The game heuristic is a genuinely cheaper algorithm. The market heuristic *simulates* a fast,
//! slightly suboptimal solver by degrading the exact answer (it calls the reference solver
//! first), so it models the quality of a heuristic, not its speed; the coalition heuristic is a
//! genuinely cheaper algorithm too (greedy merging instead of the `3ⁿ` DP). On the test set (all
//! seven classes, ten seeds each) the mean `Q` is about 0.74 for `Heuristic` (0.81–0.93 on
//! markets, 0.46 zero-sum, 0.73 bimatrix, 0.54 coalition formation), 0.13 for `Random`, and 1.0,
//! 0.50, 0.28, 0.16 for `Noisy` at levels 0, 0.05, 0.3, 1 (the quality bands are steep).

use crate::challenge::{Challenge, Problem};
use crate::config::Config;
use crate::error::SolveError;
use crate::generate::SplitMix64;
use crate::settlement::{Answer, CoalitionAnswer, PostedPrice, Settlement, StrategyProfile};
use crate::solve::coalition::{greedy_structure, least_core, round_payoffs};
use crate::solve::reference;
use crate::units::{MICRO, Price, Quantity};
use crate::verify::verify;

/// What a strategy may use besides the challenge.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// Solver and verifier parameters.
    pub config: &'a Config,
    /// Another miner's answer, for [`Strategy::Copier`].
    pub copied: Option<&'a Answer>,
}

/// A way of answering challenges.
#[derive(Clone, Debug, PartialEq)]
pub enum Strategy {
    /// The reference solver.
    Exact,
    /// Fast and usually near-optimal, never better than `Exact`.
    Heuristic,
    /// The exact answer perturbed; `level` in `[0, 1]`, larger is worse.
    Noisy {
        /// Noise level in `[0, 1]`.
        level: f64,
        /// Seed of the perturbation.
        seed: u64,
    },
    /// The exact answer, reported as taking `latency_ms`.
    Slow {
        /// The latency to use in scoring.
        latency_ms: u64,
    },
    /// Returns [`Context::copied`].
    Copier,
    /// A random answer of the right shape.
    Random {
        /// Seed.
        seed: u64,
    },
}

impl Strategy {
    /// This strategy's answer to `view`.
    pub fn answer(&self, view: &Challenge, ctx: &Context<'_>) -> Result<Answer, SolveError> {
        match self {
            Strategy::Exact | Strategy::Slow { .. } => reference(view, ctx.config),
            Strategy::Heuristic => heuristic(view, ctx.config),
            Strategy::Noisy { level, seed } => {
                let exact = reference(view, ctx.config)?;
                let mut rng = SplitMix64::new(*seed ^ view.id.0.rotate_left(17));
                Ok(noisy(exact, level.clamp(0.0, 1.0), &mut rng))
            }
            Strategy::Copier => ctx.copied.cloned().ok_or(SolveError::Unsupported {
                class: view.class,
                what: "copying without an answer to copy".into(),
            }),
            Strategy::Random { seed } => {
                view.validate()?;
                let mut rng = SplitMix64::new(*seed ^ view.id.0.rotate_left(29));
                Ok(random(view, &mut rng))
            }
        }
    }

    /// The latency to report for scoring, if the strategy fixes one.
    #[must_use]
    pub fn latency_ms(&self) -> Option<u64> {
        match self {
            Strategy::Slow { latency_ms } => Some(*latency_ms),
            _ => None,
        }
    }
}

/// Uniform in `[0, 1)`.
fn unit(rng: &mut SplitMix64) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

fn random_distribution(rng: &mut SplitMix64, n: usize) -> Vec<f64> {
    let w: Vec<f64> = (0..n).map(|_| unit(rng) + 1e-3).collect();
    let total: f64 = w.iter().sum();
    w.into_iter().map(|x| x / total).collect()
}

fn noisy(exact: Answer, level: f64, rng: &mut SplitMix64) -> Answer {
    match exact {
        Answer::Strategies(mut p) => {
            for s in &mut p.strategies {
                let r = random_distribution(rng, s.len());
                for (x, y) in s.iter_mut().zip(r) {
                    *x = (1.0 - level) * *x + level * y;
                }
            }
            Answer::Strategies(p)
        }
        Answer::Settlement(mut s) => {
            for p in &mut s.prices {
                let factor = 1.0 + level * (2.0 * unit(rng) - 1.0);
                p.price = Price::from_f64_rounded(p.price.as_f64() * factor);
            }
            Answer::Settlement(s)
        }
        Answer::Coalitions(mut c) => {
            // Move value between members of each coalition: every coalition still pays out
            // exactly its value, but the split drifts from the least core by up to `level` of
            // the coalition's mean payoff per member.
            for &mask in &c.structure {
                let members: Vec<usize> = (0..c.payoffs.len())
                    .filter(|&i| mask >> i & 1 == 1)
                    .collect();
                let Some((&last, rest)) = members.split_last() else {
                    continue;
                };
                let total: i64 = members.iter().map(|&i| c.payoffs[i].abs()).sum();
                let spread = level * total as f64 / members.len() as f64;
                let mut moved = 0i64;
                for &i in rest {
                    let d = (spread * (2.0 * unit(rng) - 1.0)).round() as i64;
                    c.payoffs[i] += d;
                    moved += d;
                }
                c.payoffs[last] -= moved;
            }
            Answer::Coalitions(c)
        }
    }
}

fn random(view: &Challenge, rng: &mut SplitMix64) -> Answer {
    let strategies = |actions: &[usize], rng: &mut SplitMix64| {
        Answer::Strategies(StrategyProfile {
            challenge: view.id,
            strategies: actions
                .iter()
                .map(|&n| random_distribution(rng, n))
                .collect(),
        })
    };
    match &view.problem {
        Problem::Market(m) => Answer::Settlement(Settlement {
            challenge: view.id,
            fills: Vec::new(),
            prices: m
                .intents
                .iter()
                .map(|i| PostedPrice {
                    intent: i.id,
                    price: Price(rng.range(1, 5_000_000)),
                })
                .collect(),
        }),
        Problem::ZeroSum(g) => strategies(&[g.rows, g.cols], rng),
        Problem::Bimatrix(g) => strategies(&[g.rows, g.cols], rng),
        Problem::ThreePlayer(g) => strategies(&g.actions, rng),
        Problem::Coalition(g) => {
            // A random partition (each player joins one of n labels), each coalition's value
            // split at random on top of what members earn alone.
            let n = g.players;
            let mut masks = vec![0u32; n];
            for i in 0..n {
                masks[rng.below(n as u64) as usize] |= 1 << i;
            }
            masks.retain(|&m| m != 0);
            masks.sort_unstable();
            let mut payoffs: Vec<i64> = (0..n).map(|i| g.values[1 << i]).collect();
            for &m in &masks {
                let members: Vec<usize> = (0..n).filter(|&i| m >> i & 1 == 1).collect();
                let alone: i64 = members.iter().map(|&i| payoffs[i]).sum();
                let surplus = g.values[m as usize] - alone;
                let w = random_distribution(rng, members.len());
                let mut given = 0i64;
                for (&i, share) in members.iter().zip(&w).skip(1) {
                    let d = (surplus as f64 * share).floor() as i64;
                    payoffs[i] += d;
                    given += d;
                }
                payoffs[members[0]] += surplus - given;
            }
            Answer::Coalitions(CoalitionAnswer {
                challenge: view.id,
                structure: masks,
                payoffs,
            })
        }
    }
}

fn pure(n: usize, k: usize) -> Vec<f64> {
    let mut v = vec![0.0; n];
    v[k] = 1.0;
    v
}

/// The first index of the largest value (ties to the lowest index: deterministic).
fn argmax(values: impl Iterator<Item = i64>) -> usize {
    let mut best = (0, i64::MIN);
    for (k, v) in values.enumerate() {
        if v > best.1 {
            best = (k, v);
        }
    }
    best.0
}

/// Rounds of fictitious play the heuristic runs for two-player games.
pub const FICTITIOUS_PLAY_ROUNDS: usize = 64;

/// Fictitious play: from the maximin row, each player best-responds (pure, lowest index on
/// ties) to the other's empirical mix for [`FICTITIOUS_PLAY_ROUNDS`] rounds; the answer is the
/// empirical frequencies. Finds pure equilibria exactly; otherwise it approaches an equilibrium
/// slowly (zero-sum) or not at all (some bimatrix games), so `Q` is usually below 1.
fn fictitious_play(
    rows: usize,
    cols: usize,
    a: impl Fn(usize, usize) -> i64,
    b: impl Fn(usize, usize) -> i64,
) -> Vec<Vec<f64>> {
    let mut row_count = vec![0i64; rows];
    let mut col_count = vec![0i64; cols];
    let start = argmax((0..rows).map(|i| (0..cols).map(|j| a(i, j)).min().unwrap_or(0)));
    row_count[start] += 1;
    col_count[argmax((0..cols).map(|j| b(start, j)))] += 1;
    for _ in 1..FICTITIOUS_PLAY_ROUNDS {
        // Payoffs against empirical counts are exact integers (|payoff| · rounds fits i64).
        let i = argmax((0..rows).map(|i| (0..cols).map(|j| a(i, j) * col_count[j]).sum()));
        let j = argmax((0..cols).map(|j| (0..rows).map(|r| b(r, j) * row_count[r]).sum()));
        row_count[i] += 1;
        col_count[j] += 1;
    }
    let freq = |c: &[i64]| {
        let n = FICTITIOUS_PLAY_ROUNDS as f64;
        c.iter().map(|&x| x as f64 / n).collect()
    };
    vec![freq(&row_count), freq(&col_count)]
}

fn heuristic(view: &Challenge, config: &Config) -> Result<Answer, SolveError> {
    view.validate()?;
    let profile = |strategies| {
        Ok(Answer::Strategies(StrategyProfile {
            challenge: view.id,
            strategies,
        }))
    };
    match &view.problem {
        Problem::ZeroSum(g) => profile(fictitious_play(
            g.rows,
            g.cols,
            |i, j| g.at(i, j),
            |i, j| -g.at(i, j),
        )),
        Problem::Bimatrix(g) => profile(fictitious_play(
            g.rows,
            g.cols,
            |i, j| g.a(i, j),
            |i, j| g.b(i, j),
        )),
        Problem::ThreePlayer(g) => {
            let mut a = [0usize; 3];
            for _ in 0..g.actions.iter().sum::<usize>() {
                let before = a;
                for p in 0..3 {
                    a[p] = argmax((0..g.actions[p]).map(|k| {
                        let mut x = a;
                        x[p] = k;
                        g.at(p, x)
                    }));
                }
                if a == before {
                    break;
                }
            }
            profile((0..3).map(|p| pure(g.actions[p], a[p])).collect())
        }
        Problem::Market(_) => {
            let exact = reference(view, config)?;
            let Answer::Settlement(s) = &exact else {
                return Ok(exact);
            };
            // A fast solver that stops one block short: round fills down to whole units, or
            // else trade one unit less on the largest fill (the first candidate that stays
            // feasible; the exact answer if neither does).
            let mut whole = s.clone();
            for f in &mut whole.fills {
                f.quantity = Quantity(f.quantity.0 / MICRO * MICRO);
            }
            whole.fills.retain(|f| f.quantity.0 > 0);
            let mut short = s.clone();
            if let Some(f) = short.fills.iter_mut().max_by_key(|f| f.quantity) {
                f.quantity = Quantity(f.quantity.0.saturating_sub(MICRO));
            }
            short.fills.retain(|f| f.quantity.0 > 0);
            for candidate in [whole, short] {
                let candidate = Answer::Settlement(candidate);
                if candidate != exact && verify(view, &candidate, None, config).is_valid() {
                    return Ok(candidate);
                }
            }
            Ok(exact)
        }
        Problem::Coalition(g) => {
            // Greedy merging instead of the 3ⁿ DP, then the least-core split of that structure.
            let structure = greedy_structure(g);
            let core = least_core(g, &structure, &config.solver)?;
            let payoffs = round_payoffs(g, &structure, &core.payoffs);
            Ok(Answer::Coalitions(CoalitionAnswer {
                challenge: view.id,
                structure,
                payoffs,
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::class::ProblemClass;
    use crate::generate::{Difficulty, challenge};
    use crate::salt::salt;

    fn classes() -> Vec<ProblemClass> {
        vec![
            ProblemClass::SimpleSwap,
            ProblemClass::ConstrainedSwap,
            ProblemClass::ThreeParty,
            ProblemClass::ResourceTriangle,
            ProblemClass::ZeroSumGame,
            ProblemClass::GeneralGame,
            ProblemClass::CoalitionFormation,
        ]
    }

    fn difficulty() -> Difficulty {
        let mut d = Difficulty::easy();
        d.actions = d.actions.max(4);
        d
    }

    /// `(class, challenge, reference)` for the test set, skipping unsolvable instances.
    fn set() -> Vec<(Challenge, Answer)> {
        let config = Config::default();
        let mut out = Vec::new();
        for class in classes() {
            for seed in 0..10 {
                let c = challenge(class, seed, &difficulty());
                if let Ok(r) = reference(&c, &config) {
                    out.push((c, r));
                }
            }
        }
        out
    }

    /// Mean Q of `s` over the set, and the number of answers with Q < 1.
    fn mean_q(s: &Strategy, set: &[(Challenge, Answer)]) -> (f64, usize) {
        let config = Config::default();
        let ctx = Context {
            config: &config,
            copied: None,
        };
        let mut total = 0.0;
        let mut below = 0;
        for (c, r) in set {
            let q = s
                .answer(c, &ctx)
                .map_or(0.0, |a| verify(c, &a, Some(r), &config).quality);
            total += q;
            if q < 1.0 {
                below += 1;
            }
        }
        (total / set.len() as f64, below)
    }

    #[test]
    fn exact_and_slow_always_score_one() {
        let set = set();
        assert!(set.len() >= 40);
        assert_eq!(mean_q(&Strategy::Exact, &set), (1.0, 0));
        let slow = Strategy::Slow { latency_ms: 900 };
        assert_eq!(mean_q(&slow, &set), (1.0, 0));
        assert_eq!(slow.latency_ms(), Some(900));
        assert_eq!(Strategy::Exact.latency_ms(), None);
    }

    #[test]
    fn heuristic_random_and_noise_rank_as_expected() {
        let set = set();
        let (h, h_below) = mean_q(&Strategy::Heuristic, &set);
        for class in classes() {
            let part: Vec<_> = set
                .iter()
                .filter(|(c, _)| c.class == class)
                .cloned()
                .collect();
            let (q, below) = mean_q(&Strategy::Heuristic, &part);
            eprintln!(
                "heuristic {class:?}: mean Q {q:.3}, {below}/{} below 1",
                part.len()
            );
        }
        let (r, _) = mean_q(&Strategy::Random { seed: 7 }, &set);
        let noisy: Vec<f64> = [0.0, 0.05, 0.3, 1.0]
            .iter()
            .map(|&level| mean_q(&Strategy::Noisy { level, seed: 3 }, &set).0)
            .collect();
        eprintln!("mean Q: heuristic {h:.3} ({h_below} below 1), random {r:.3}, noisy {noisy:?}");
        assert!((0.6..0.95).contains(&h), "heuristic {h}");
        assert!(h_below >= 1);
        assert!(r < 0.5 && r < h, "random {r}");
        assert_eq!(noisy[0], 1.0);
        for w in noisy.windows(2) {
            assert!(w[1] <= w[0], "noise must not help: {noisy:?}");
        }
        assert!(noisy[3] < noisy[1]);
    }

    #[test]
    fn exact_solves_salted_three_player_views() {
        let config = Config::default();
        let ctx = Context {
            config: &config,
            copied: None,
        };
        let d = Difficulty {
            parties: 3,
            ..difficulty()
        };
        for seed in 0..10 {
            let c = challenge(ProblemClass::GeneralGame, seed, &d);
            assert!(matches!(c.problem, Problem::ThreePlayer(_)));
            let (view, map) = salt(&c, &[seed as u8; 32]);
            let exact = Strategy::Exact.answer(&view, &ctx).expect("solves");
            let v = verify(&c, &map.desalt(&exact), None, &config);
            assert_eq!(v.quality, 1.0, "seed {seed}: {v:?}");
            let heuristic = Strategy::Heuristic.answer(&view, &ctx).expect("answers");
            assert!(verify(&c, &map.desalt(&heuristic), None, &config).is_valid());
        }
    }

    #[test]
    fn copier_fails_under_salting() {
        let config = Config::default();
        let (mut caught, mut total) = (0, 0);
        for (c, r) in set() {
            if matches!(&r, Answer::Settlement(s) if s.fills.is_empty()) {
                continue; // nothing traded: every view has the same answer
            }
            let (honest_view, _) = salt(&c, &[1; 32]);
            let (copier_view, copier_map) = salt(&c, &[2; 32]);
            let honest = Strategy::Exact
                .answer(
                    &honest_view,
                    &Context {
                        config: &config,
                        copied: None,
                    },
                )
                .expect("solves");
            let ctx = Context {
                config: &config,
                copied: Some(&honest),
            };
            let copied = Strategy::Copier.answer(&copier_view, &ctx).expect("copies");
            assert_eq!(copied, honest);
            let q = verify(&c, &copier_map.desalt(&copied), Some(&r), &config).quality;
            total += 1;
            if q < 1.0 {
                caught += 1;
            }
        }
        eprintln!("copier caught {caught}/{total}");
        assert!(caught * 10 >= total * 9);
        let none = Context {
            config: &config,
            copied: None,
        };
        let c = challenge(ProblemClass::SimpleSwap, 1, &difficulty());
        assert!(Strategy::Copier.answer(&c, &none).is_err());
    }
}
