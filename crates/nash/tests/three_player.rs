//! The three-player reference solver: hand-computed games, generated games that all verify
//! with Q = 1, a perturbed answer caught by the verifier, and a timing printout
//! (`cargo test -p pin-nash --release --test three_player -- --nocapture --ignored`).

use nash::challenge::{Challenge, Problem};
use nash::class::{ProblemClass, ThreePlayerGame};
use nash::config::{Config, SolverLimits};
use nash::error::SolveError;
use nash::generate::{Difficulty, SplitMix64, challenge};
use nash::settlement::{Answer, StrategyProfile};
use nash::solve::reference;
use nash::solve::three_player::solve_three_player;
use nash::units::ChallengeId;
use nash::verify::{Metrics, verify, verify_three_player};
use std::time::Instant;

/// A 2×2×2 table from `f(a0, a1, a2)`.
fn table(f: impl Fn(usize, usize, usize) -> i64) -> Vec<i64> {
    let mut t = Vec::new();
    for a0 in 0..2 {
        for a1 in 0..2 {
            for a2 in 0..2 {
                t.push(f(a0, a1, a2));
            }
        }
    }
    t
}

/// A weighted version of Jordan's cyclic game: 0 wants to match 1, 1 wants to match 2, 2
/// wants to mismatch 0. No pure equilibrium; the unique equilibrium makes each player
/// indifferent: 0 is indifferent when 2·p1(0) = p1(1), so p1 = (1/3, 2/3); 1 when
/// 3·p2(0) = p2(1), so p2 = (1/4, 3/4); 2 when p0(1) = 2·p0(0), so p0 = (1/3, 2/3).
fn weighted_jordan() -> ThreePlayerGame {
    ThreePlayerGame {
        actions: [2, 2, 2],
        payoffs: [
            table(|a0, a1, _| match (a0, a1) {
                (0, 0) => 2,
                (1, 1) => 1,
                _ => 0,
            }),
            table(|_, a1, a2| match (a1, a2) {
                (0, 0) => 3,
                (1, 1) => 1,
                _ => 0,
            }),
            table(|a0, _, a2| match (a2, a0) {
                (0, 1) => 1,
                (1, 0) => 2,
                _ => 0,
            }),
        ],
    }
}

fn profile(s: [Vec<f64>; 3]) -> StrategyProfile {
    let [s0, s1, s2] = s;
    StrategyProfile {
        challenge: ChallengeId(0),
        strategies: vec![s0, s1, s2],
    }
}

fn assert_close(found: &[f64], expected: &[f64]) {
    assert_eq!(found.len(), expected.len());
    for (f, e) in found.iter().zip(expected) {
        assert!((f - e).abs() < 1e-12, "{found:?} != {expected:?}");
    }
}

#[test]
fn fully_mixed_equilibrium_by_hand() {
    let g = weighted_jordan();
    let s = solve_three_player(&g, &SolverLimits::default()).expect("solves");
    assert_close(&s.strategies[0], &[1.0 / 3.0, 2.0 / 3.0]);
    assert_close(&s.strategies[1], &[1.0 / 3.0, 2.0 / 3.0]);
    assert_close(&s.strategies[2], &[0.25, 0.75]);
    assert!(s.epsilon <= 1e-12, "{}", s.epsilon);
    let v = verify_three_player(&g, &profile(s.strategies), &Config::default());
    assert_eq!(v.quality, 1.0, "{v:?}");
}

#[test]
fn pure_equilibrium_by_hand() {
    // A public-goods dilemma: contributing (action 0) costs the contributor 3 and gives each
    // player 2, so not contributing (action 1) is dominant; (1, 1, 1) is the unique equilibrium.
    let f = |p: usize| {
        table(move |a0, a1, a2| {
            let a = [a0, a1, a2];
            let contributions = a.iter().filter(|&&x| x == 0).count() as i64;
            2 * contributions - if a[p] == 0 { 3 } else { 0 }
        })
    };
    let g = ThreePlayerGame {
        actions: [2, 2, 2],
        payoffs: [f(0), f(1), f(2)],
    };
    let s = solve_three_player(&g, &SolverLimits::default()).expect("solves");
    assert_eq!(s.examined, 0, "found by the pure fast path");
    for p in 0..3 {
        assert_eq!(s.strategies[p], vec![0.0, 1.0]);
    }
    assert_eq!(s.epsilon, 0.0);
}

#[test]
fn dominated_actions_get_no_weight() {
    // The weighted Jordan game with a third action for everyone that is worse than action 0
    // against every profile: the equilibrium is unchanged and puts nothing on it.
    let j = weighted_jordan();
    let mut payoffs: [Vec<i64>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    for a0 in 0..3 {
        for a1 in 0..3 {
            for a2 in 0..3 {
                let a = [a0, a1, a2];
                // Opponents' third action behaves like their action 1.
                let base = |q: usize| a[q].min(1);
                for (p, t) in payoffs.iter_mut().enumerate() {
                    let mut b = [base(0), base(1), base(2)];
                    let third = a[p] == 2;
                    if third {
                        b[p] = 0;
                    }
                    let v = j.at(p, b);
                    t.push(if third { v - 5 } else { v });
                }
            }
        }
    }
    let g = ThreePlayerGame {
        actions: [3, 3, 3],
        payoffs,
    };
    let s = solve_three_player(&g, &SolverLimits::default()).expect("solves");
    assert_close(&s.strategies[0], &[1.0 / 3.0, 2.0 / 3.0, 0.0]);
    assert_close(&s.strategies[1], &[1.0 / 3.0, 2.0 / 3.0, 0.0]);
    assert_close(&s.strategies[2], &[0.25, 0.75, 0.0]);
    let v = verify_three_player(&g, &profile(s.strategies), &Config::default());
    assert_eq!(v.quality, 1.0, "{v:?}");
}

#[test]
fn degenerate_games_do_not_panic() {
    let limits = SolverLimits::default();
    // All payoffs equal: every profile is an equilibrium.
    let flat = ThreePlayerGame {
        actions: [3, 4, 5],
        payoffs: [vec![7; 60], vec![7; 60], vec![7; 60]],
    };
    let s = solve_three_player(&flat, &limits).expect("solves");
    assert_eq!(s.epsilon, 0.0);
    // One action each.
    let single = ThreePlayerGame {
        actions: [1, 1, 1],
        payoffs: [vec![1], vec![-1], vec![0]],
    };
    assert!(solve_three_player(&single, &limits).is_ok());
    // Extreme payoffs.
    let m = nash::class::MAX_PAYOFF;
    let extreme = weighted_jordan();
    let extreme = ThreePlayerGame {
        payoffs: extreme
            .payoffs
            .map(|t| t.into_iter().map(|v| if v > 0 { m } else { -m }).collect()),
        ..extreme
    };
    let s = solve_three_player(&extreme, &limits).expect("solves");
    let v = verify_three_player(&extreme, &profile(s.strategies), &Config::default());
    assert_eq!(v.quality, 1.0, "{v:?}");
    // Invalid instance: an error, not a panic.
    let bad = ThreePlayerGame {
        actions: [2, 2, 2],
        payoffs: [vec![0; 8], vec![0; 8], vec![0; 3]],
    };
    assert!(matches!(
        solve_three_player(&bad, &limits),
        Err(SolveError::Instance(_))
    ));
}

#[test]
fn the_support_limit_is_reported() {
    let limits = SolverLimits {
        three_player_max_supports: 1,
        ..SolverLimits::default()
    };
    let err = solve_three_player(&weighted_jordan(), &limits).expect_err("limit of 1");
    assert!(
        matches!(err, SolveError::NoEquilibriumFound { limit: 1, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("limit reached"), "{err}");
}

fn three_player(seed: u64, actions: usize) -> Challenge {
    let d = Difficulty {
        parties: 3,
        actions,
        ..Difficulty::easy()
    };
    let c = challenge(ProblemClass::GeneralGame, seed, &d);
    assert!(matches!(c.problem, Problem::ThreePlayer(_)));
    c
}

#[test]
fn generated_games_verify_with_quality_one() {
    let config = Config::default();
    for actions in 2..=8 {
        let seeds = if actions <= 5 { 100 } else { 30 };
        for seed in 0..seeds {
            let c = three_player(seed, actions);
            let answer = reference(&c, &config).expect("reference solves");
            let v = verify(&c, &answer, Some(&answer), &config);
            assert!(v.is_valid(), "{actions} seed {seed}: {:?}", v.violations);
            assert_eq!(v.quality, 1.0, "{actions} actions, seed {seed}: {v:?}");
        }
    }
}

#[test]
fn a_root_near_the_boundary_is_found_by_deflation() {
    // Generated 2×2×2 game whose only equilibrium is fully mixed with one probability near 0.004;
    // Newton from the uniform and seeded starts always reached the other root (negative
    // probabilities) until rejected roots were deflated.
    let c = three_player(1069, 2);
    let Problem::ThreePlayer(g) = &c.problem else {
        unreachable!()
    };
    let s = solve_three_player(g, &SolverLimits::default()).expect("solves");
    assert!(s.strategies.iter().flatten().all(|&p| p > 0.0), "{s:?}");
    assert!(
        (s.strategies[1][0] - 0.003_949_077_972_5).abs() < 1e-9,
        "{s:?}"
    );
    assert!(s.epsilon <= 1e-9);
}

#[test]
fn random_degenerate_and_uneven_games_verify() {
    // Uneven action counts (1 to 6 each) and payoffs from small alphabets, so ties, dominance
    // and equilibrium continua are common; some with 10⁶-scaled payoffs.
    let config = Config::default();
    let mut rng = SplitMix64::new(42);
    for case in 0..2000 {
        let actions = [0; 3].map(|_| 1 + rng.below(6) as usize);
        let alphabet = [2, 3, 5, 200, 1_000_000][rng.below(5) as usize];
        let factor = if rng.below(10) == 0 { 1_000_000 } else { 1 };
        let len = actions.iter().product();
        let payoffs = [0; 3].map(|_| {
            (0..len)
                .map(|_| rng.below(alphabet) as i64 * factor)
                .collect()
        });
        let g = ThreePlayerGame { actions, payoffs };
        let s = solve_three_player(&g, &config.solver)
            .unwrap_or_else(|e| panic!("case {case} {actions:?}: {e}"));
        let v = verify_three_player(&g, &profile(s.strategies), &config);
        assert_eq!(v.quality, 1.0, "case {case} {actions:?}: {v:?}");
    }
}

#[test]
fn payoffs_near_the_limit_with_a_small_range_verify() {
    // Payoffs within 200 of 10¹²: the verifier measures payoffs from each player's minimum, so
    // rounding of the raw sums (≈ 10⁻⁴ here) does not swamp ε = 10⁻⁹ of the range.
    let config = Config::default();
    let mut rng = SplitMix64::new(1);
    for case in 0..200 {
        let payoffs = [0; 3].map(|_| {
            (0..27)
                .map(|_| rng.below(200) as i64 + 999_999_999_800)
                .collect()
        });
        let g = ThreePlayerGame {
            actions: [3, 3, 3],
            payoffs,
        };
        let s =
            solve_three_player(&g, &config.solver).unwrap_or_else(|e| panic!("case {case}: {e}"));
        let v = verify_three_player(&g, &profile(s.strategies), &config);
        assert_eq!(v.quality, 1.0, "case {case}: {v:?}");
    }
}

#[test]
fn a_perturbed_answer_is_caught() {
    let config = Config::default();
    let g = weighted_jordan();
    let s = solve_three_player(&g, &SolverLimits::default()).expect("solves");
    let mut p = profile(s.strategies);
    // Player 0 shifts 1 % of weight: players 2's best response changes, so regret > ε.
    p.strategies[0][0] += 0.01;
    p.strategies[0][1] -= 0.01;
    let v = verify_three_player(&g, &p, &config);
    assert!(v.is_valid(), "well-formed, just not an equilibrium");
    let Metrics::Game(m) = &v.metrics else {
        panic!("expected game metrics, got {v:?}");
    };
    assert!(m.epsilon > 1e-9, "{m:?}");
    assert!(v.quality < 1.0, "{v:?}");
}

#[test]
fn solving_is_deterministic() {
    let config = Config::default();
    for seed in 0..5 {
        let c = three_player(seed, 6);
        let a = reference(&c, &config).expect("solves");
        let b = reference(&c, &config).expect("solves");
        let (Answer::Strategies(a), Answer::Strategies(b)) = (a, b) else {
            panic!("expected strategies");
        };
        let bits = |p: &StrategyProfile| -> Vec<u64> {
            p.strategies.iter().flatten().map(|v| v.to_bits()).collect()
        };
        assert_eq!(bits(&a), bits(&b));
    }
}

/// Timings on generated games without a pure equilibrium (run with `--ignored --nocapture`).
#[test]
#[ignore = "timing printout, not a check"]
fn timings() {
    let limits = SolverLimits::default();
    for (actions, count) in [(8, 40), (16, 20)] {
        let mut times = Vec::new();
        let mut examined = Vec::new();
        let mut seed = 0;
        while times.len() < count {
            let c = three_player(seed, actions);
            seed += 1;
            let Problem::ThreePlayer(g) = &c.problem else {
                unreachable!()
            };
            let start = Instant::now();
            let s = solve_three_player(g, &limits);
            let elapsed = start.elapsed();
            match s {
                Ok(s) if s.examined == 0 => continue, // pure: not what we time
                Ok(s) => {
                    assert!(s.epsilon <= 1e-9);
                    examined.push(s.examined);
                }
                Err(e) => println!("{actions}^3 seed {}: {e}", seed - 1),
            }
            times.push(elapsed.as_secs_f64() * 1e3);
        }
        times.sort_by(f64::total_cmp);
        examined.sort_unstable();
        println!(
            "{actions}×{actions}×{actions}: {} games without pure equilibria, p50 {:.3} ms, max {:.3} ms, support candidates p50 {} max {}",
            times.len(),
            times[times.len() / 2],
            times[times.len() - 1],
            examined.get(examined.len() / 2).copied().unwrap_or(0),
            examined.last().copied().unwrap_or(0),
        );
    }
}
