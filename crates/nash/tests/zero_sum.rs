//! The zero-sum reference solver: generated and degenerate games all verify with Q = 1, and a
//! timing printout
//! (`cargo test -p pin-nash --release --test zero_sum -- --nocapture --ignored`; set
//! `ZS_SIZES=10,100` to choose the sizes and `ZS_WRITE_DIR` to also write each timed matrix
//! there as `n<size>_s<seed>.json`).

use nash::challenge::Problem;
use nash::class::{MatrixGame, ProblemClass};
use nash::config::{Config, SolverLimits};
use nash::error::SolveError;
use nash::generate::{Difficulty, SplitMix64, challenge};
use nash::settlement::StrategyProfile;
use nash::solve::lp::{LinearProgram, Relation};
use nash::solve::zero_sum::{ZeroSumSolution, solve_zero_sum};
use nash::units::ChallengeId;
use nash::verify::{Metrics, verify_zero_sum};
use std::time::Instant;

fn generated(seed: u64, actions: usize) -> MatrixGame {
    let c = challenge(
        ProblemClass::ZeroSumGame,
        seed,
        &Difficulty {
            actions,
            ..Difficulty::easy()
        },
    );
    let Problem::ZeroSum(g) = c.problem else {
        unreachable!()
    };
    g
}

/// Solves, verifies with the default config and returns the solution and its ε.
fn solve_and_verify(g: &MatrixGame) -> (ZeroSumSolution, f64) {
    let s = solve_zero_sum(g, &SolverLimits::default())
        .unwrap_or_else(|e| panic!("{}×{}: {e}", g.rows, g.cols));
    let p = StrategyProfile {
        challenge: ChallengeId(0),
        strategies: vec![s.row.clone(), s.col.clone()],
    };
    let v = verify_zero_sum(g, &p, &Config::default());
    let Metrics::Game(m) = &v.metrics else {
        panic!("{v:?}")
    };
    assert!(
        v.violations.is_empty() && v.quality == 1.0,
        "{}×{}: {v:?}",
        g.rows,
        g.cols
    );
    assert!(
        m.epsilon <= 1e-9,
        "{}×{}: ε = {}",
        g.rows,
        g.cols,
        m.epsilon
    );
    assert!(s.value.is_finite());
    (s, m.epsilon)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn generated_games_verify() {
    for actions in [1, 2, 3, 5, 10, 30, 60] {
        for seed in 0..8 {
            solve_and_verify(&generated(seed, actions));
        }
    }
}

#[test]
fn all_equal_payoffs() {
    for (m, n) in [(1, 1), (1, 5), (5, 1), (4, 4), (7, 3)] {
        let g = MatrixGame {
            rows: m,
            cols: n,
            payoffs: vec![-7; m * n],
        };
        let (s, _) = solve_and_verify(&g);
        assert!(close(s.value, -7.0), "{s:?}");
    }
}

#[test]
fn single_row_and_single_column() {
    // 1×n: the column player picks the minimum; n×1: the row player the maximum.
    let g = MatrixGame {
        rows: 1,
        cols: 5,
        payoffs: vec![4, -2, 9, -2, 3],
    };
    let (s, _) = solve_and_verify(&g);
    assert!(
        close(s.value, -2.0) && close(s.col[1] + s.col[3], 1.0),
        "{s:?}"
    );
    let g = MatrixGame {
        rows: 5,
        cols: 1,
        payoffs: vec![4, -2, 9, 9, 3],
    };
    let (s, _) = solve_and_verify(&g);
    assert!(
        close(s.value, 9.0) && close(s.row[2] + s.row[3], 1.0),
        "{s:?}"
    );
}

#[test]
fn duplicate_rows_and_columns() {
    // Rock–paper–scissors with every row and column doubled: value 0, each action pair 1/3.
    let base = [[0i64, -1, 1], [1, 0, -1], [-1, 1, 0]];
    let mut payoffs = Vec::new();
    for i in 0..6 {
        for j in 0..6 {
            payoffs.push(base[i % 3][j % 3]);
        }
    }
    let g = MatrixGame {
        rows: 6,
        cols: 6,
        payoffs,
    };
    let (s, _) = solve_and_verify(&g);
    assert!(close(s.value, 0.0), "{s:?}");
    for k in 0..3 {
        assert!(close(s.row[k] + s.row[k + 3], 1.0 / 3.0), "{s:?}");
        assert!(close(s.col[k] + s.col[k + 3], 1.0 / 3.0), "{s:?}");
    }
}

#[test]
fn dominated_and_tied_strategies() {
    // Row 2 is dominated, columns 0 and 3 are equal, column 2 is a convex combination.
    let g = MatrixGame {
        rows: 3,
        cols: 4,
        payoffs: vec![
            3, -1, 1, 3, //
            -2, 4, 1, -2, //
            -3, -2, 0, -3,
        ],
    };
    let (s, _) = solve_and_verify(&g);
    assert!(close(s.value, 1.0) && close(s.row[2], 0.0), "{s:?}");
    // A pure saddle with many ties (a whole row equal to the value).
    let g = MatrixGame {
        rows: 3,
        cols: 3,
        payoffs: vec![
            2, 2, 2, //
            1, 2, 3, //
            2, 0, 2,
        ],
    };
    let (s, _) = solve_and_verify(&g);
    assert!(close(s.value, 2.0), "{s:?}");
}

#[test]
fn degenerate_random_games_with_few_payoff_values() {
    // Payoffs in {−1, 0, 1} or {0, 1}: heavy ties and degenerate bases.
    let mut rng = SplitMix64::new(7);
    for k in 0..60 {
        let m = 1 + rng.below(12) as usize;
        let n = 1 + rng.below(12) as usize;
        let levels = if k % 2 == 0 { 3 } else { 2 };
        let payoffs = (0..m * n)
            .map(|_| rng.below(levels) as i64 - i64::from(levels == 3))
            .collect();
        solve_and_verify(&MatrixGame {
            rows: m,
            cols: n,
            payoffs,
        });
    }
    // Larger ones too.
    for seed in 0..4 {
        let mut rng = SplitMix64::new(100 + seed);
        let n = 80;
        let payoffs = (0..n * n).map(|_| rng.below(2) as i64).collect();
        solve_and_verify(&MatrixGame {
            rows: n,
            cols: n,
            payoffs,
        });
    }
}

#[test]
fn extreme_payoff_magnitudes() {
    let big = nash::class::MAX_PAYOFF;
    let g = MatrixGame {
        rows: 2,
        cols: 2,
        payoffs: vec![big, -big, -big, big],
    };
    if g.validate().is_ok() {
        let (s, _) = solve_and_verify(&g);
        assert!(close(s.row[0], 0.5) && close(s.col[0], 0.5), "{s:?}");
    }
}

#[test]
fn deterministic() {
    for seed in 0..3 {
        let g = generated(seed, 50);
        let a = solve_zero_sum(&g, &SolverLimits::default()).expect("solves");
        let b = solve_zero_sum(&g, &SolverLimits::default()).expect("solves");
        assert_eq!(a, b);
    }
}

#[test]
fn larger_generated_games_verify() {
    for (actions, seeds) in [(150, 3), (250, 1)] {
        for seed in 0..seeds {
            solve_and_verify(&generated(1000 + seed, actions));
        }
    }
}

/// The value agrees with the row player's LP `min Σu s.t. A'ᵀu ≥ 1` solved by the general
/// simplex (an independent formulation and code path).
#[test]
fn value_matches_the_row_players_lp() {
    for seed in 0..12 {
        let g = generated(500 + seed, 1 + (seed as usize * 7) % 30);
        let (s, _) = solve_and_verify(&g);
        let lo = *g.payoffs.iter().min().expect("non-empty");
        let hi = *g.payoffs.iter().max().expect("non-empty");
        let range = (hi - lo).max(1) as f64;
        let mut lp = LinearProgram::new(g.rows);
        for i in 0..g.rows {
            lp.set_cost(i, 1.0);
        }
        for j in 0..g.cols {
            let coeffs = (0..g.rows)
                .map(|i| (i, (g.at(i, j) - lo) as f64 / range + 1.0))
                .collect();
            lp.add_row(coeffs, Relation::Ge, 1.0);
        }
        let sol = lp.solve(&SolverLimits::default()).expect("LP solves");
        let value = (1.0 / sol.objective - 1.0) * range + lo as f64;
        assert!(
            (value - s.value).abs() <= 1e-9 * range,
            "seed {seed}: {value} vs {}",
            s.value
        );
    }
}

#[test]
fn blands_rule_throughout_still_solves() {
    // Switching to Bland's rule from the first pivot exercises the anti-cycling path.
    let limits = SolverLimits {
        lp_degenerate_switch: 0,
        ..SolverLimits::default()
    };
    let mut rng = SplitMix64::new(11);
    for k in 0..20 {
        let g = if k % 2 == 0 {
            generated(k, 25)
        } else {
            let n = 20;
            MatrixGame {
                rows: n,
                cols: n,
                payoffs: (0..n * n).map(|_| rng.below(3) as i64 - 1).collect(),
            }
        };
        let s = solve_zero_sum(&g, &limits).expect("solves");
        let p = StrategyProfile {
            challenge: ChallengeId(0),
            strategies: vec![s.row, s.col],
        };
        assert_eq!(verify_zero_sum(&g, &p, &Config::default()).quality, 1.0);
    }
}

#[test]
fn pivot_limit_is_an_error() {
    let limits = SolverLimits {
        lp_max_pivots: 2,
        ..SolverLimits::default()
    };
    assert!(matches!(
        solve_zero_sum(&generated(3, 40), &limits),
        Err(SolveError::IterationLimit { .. })
    ));
}

/// p50/max solve time (best of three runs each) and worst ε over ten seeds per size (run with `--ignored --nocapture`).
#[test]
#[ignore = "timing printout, not a check"]
fn timings() {
    let write_dir = std::env::var("ZS_WRITE_DIR").ok();
    let limits = SolverLimits::default();
    let sizes: Vec<usize> = std::env::var("ZS_SIZES").map_or_else(
        |_| vec![10, 100, 200, 400],
        |v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect(),
    );
    for actions in sizes {
        let mut times = Vec::new();
        let mut worst_eps: f64 = 0.0;
        for seed in 0..10 {
            let g = generated(seed, actions);
            if let Some(dir) = &write_dir {
                let rows: Vec<Vec<i64>> = g.payoffs.chunks(g.cols).map(<[i64]>::to_vec).collect();
                let text = serde_json::to_string(&rows).expect("json");
                std::fs::write(format!("{dir}/n{actions}_s{seed}.json"), text).expect("write");
            }
            // Best of three runs, as the scipy comparison times linprog.
            let mut best = f64::INFINITY;
            let mut s = None;
            for _ in 0..3 {
                let start = Instant::now();
                s = Some(solve_zero_sum(&g, &limits));
                best = best.min(start.elapsed().as_secs_f64() * 1e3);
            }
            times.push(best);
            let s = s.expect("ran").expect("solves");
            let (_, eps) = solve_and_verify(&g);
            assert!(s.value.is_finite());
            worst_eps = worst_eps.max(eps);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "zero-sum {actions:>3}: p50 {:>9.3} ms  max {:>9.3} ms  worst ε {worst_eps:.1e}",
            times[times.len() / 2],
            times[times.len() - 1]
        );
    }
}
