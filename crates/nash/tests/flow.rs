//! The min-cost flow clearing of divisible markets against the dense LP it replaced: the same
//! optimal welfare, exactly, and competitive prices (stable, budget-balanced, Q = 1).

use nash::challenge::{Challenge, Problem};
use nash::class::ProblemClass;
use nash::config::Config;
use nash::generate::{Difficulty, challenge};
use nash::settlement::{Answer, Settlement};
use nash::solve::clearing::{solve_clearing, solve_clearing_lp};
use nash::verify::{MarketMetrics, Metrics, verify};
use std::time::Instant;

const CLASSES: [ProblemClass; 2] = [ProblemClass::ThreeParty, ProblemClass::ResourceTriangle];

fn market_metrics(c: &Challenge, s: &Settlement, reference: &Settlement) -> (f64, MarketMetrics) {
    let v = verify(
        c,
        &Answer::Settlement(s.clone()),
        Some(&Answer::Settlement(reference.clone())),
        &Config::default(),
    );
    assert!(v.is_valid(), "{:?}", v.violations);
    match v.metrics {
        Metrics::Market(m) => (v.quality, m),
        other => panic!("expected market metrics, got {other:?}"),
    }
}

fn check(class: ProblemClass, parties: usize, seed: u64) {
    let d = Difficulty {
        parties,
        ..Difficulty::hard()
    };
    let c = challenge(class, seed, &d);
    let Problem::Market(m) = &c.problem else {
        unreachable!()
    };
    let limits = Config::default().solver;
    let flow = solve_clearing(c.id, class, m, &limits).expect("flow clears");
    let lp = solve_clearing_lp(c.id, class, m, &limits).expect("lp clears");
    let ctx = format!("{class:?} parties {parties} seed {seed}");
    // Each graded against itself: valid, stable, balanced, Q = 1.
    for s in [&flow, &lp] {
        let (q, mm) = market_metrics(&c, s, s);
        assert_eq!(q, 1.0, "{ctx}");
        assert!(mm.stable, "{ctx}: {mm:?}");
        assert_eq!(mm.max_deviation_gain.0, 0, "{ctx}: {mm:?}");
        assert_eq!(mm.budget_surplus.0, 0, "{ctx}: {mm:?}");
    }
    // Exactly the LP's welfare, and Q = 1 against the LP's answer as reference.
    let (qf, mf) = market_metrics(&c, &flow, &lp);
    let (_, ml) = market_metrics(&c, &lp, &lp);
    assert_eq!(mf.welfare, ml.welfare, "{ctx}");
    assert_eq!(qf, 1.0, "{ctx}");
}

#[test]
fn flow_matches_the_lp_on_generated_markets() {
    for class in CLASSES {
        for parties in [4, 5, 6, 8, 12, 16, 24, 32, 48, 64] {
            let seeds = if parties <= 16 { 40 } else { 12 };
            for seed in 0..seeds {
                check(class, parties, seed);
            }
        }
    }
}

#[test]
fn flow_matches_the_lp_on_every_size() {
    for class in CLASSES {
        for parties in 4..=64 {
            for seed in 100..103 {
                check(class, parties, seed);
            }
        }
    }
}

#[test]
fn flow_matches_the_lp_on_sparse_and_dense_markets() {
    for class in CLASSES {
        for density in [0, 10, 90, 100] {
            for parties in [4, 9, 20, 40] {
                for seed in 0..8 {
                    let d = Difficulty {
                        parties,
                        density,
                        resources: 3,
                        ..Difficulty::hard()
                    };
                    let c = challenge(class, seed, &d);
                    let Problem::Market(m) = &c.problem else {
                        unreachable!()
                    };
                    let limits = Config::default().solver;
                    let flow = solve_clearing(c.id, class, m, &limits).expect("flow");
                    let lp = solve_clearing_lp(c.id, class, m, &limits).expect("lp");
                    let (qf, mf) = market_metrics(&c, &flow, &lp);
                    let (_, ml) = market_metrics(&c, &lp, &lp);
                    let ctx = format!("{class:?} density {density} parties {parties} seed {seed}");
                    assert_eq!(mf.welfare, ml.welfare, "{ctx}");
                    assert_eq!(qf, 1.0, "{ctx}");
                    assert_eq!(mf.max_deviation_gain.0, 0, "{ctx}");
                    assert_eq!(mf.budget_surplus.0, 0, "{ctx}");
                }
            }
        }
    }
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// `cargo test -p pin-nash --release --test flow -- --ignored --nocapture`
#[test]
#[ignore = "timing; run by hand"]
fn flow_vs_lp_timings() {
    let limits = Config::default().solver;
    for class in CLASSES {
        for parties in [4, 16, 64] {
            let d = Difficulty {
                parties,
                ..Difficulty::hard()
            };
            let (mut tf, mut tl) = (Vec::new(), Vec::new());
            for seed in 0..20 {
                let c = challenge(class, seed, &d);
                let Problem::Market(m) = &c.problem else {
                    unreachable!()
                };
                let reps = if parties <= 16 { 20 } else { 3 };
                let t = Instant::now();
                for _ in 0..reps {
                    std::hint::black_box(solve_clearing_lp(c.id, class, m, &limits).expect("lp"));
                }
                tl.push(t.elapsed().as_secs_f64() * 1e6 / f64::from(reps));
                let t = Instant::now();
                for _ in 0..reps {
                    std::hint::black_box(solve_clearing(c.id, class, m, &limits).expect("flow"));
                }
                tf.push(t.elapsed().as_secs_f64() * 1e6 / f64::from(reps));
            }
            let (lp50, lp99) = (percentile(&mut tl, 0.5), percentile(&mut tl, 0.99));
            let (f50, f99) = (percentile(&mut tf, 0.5), percentile(&mut tf, 0.99));
            println!(
                "{class:?} parties {parties}: lp p50 {lp50:.1} µs p99 {lp99:.1} µs | flow p50 {f50:.1} µs p99 {f99:.1} µs | p50 speedup {:.1}x",
                lp50 / f50
            );
        }
    }
}

/// More seeds than the default run: `cargo test -p pin-nash --release --test flow -- --ignored
/// flow_matches_the_lp_on_many_seeds`.
#[test]
#[ignore = "slow; run by hand"]
fn flow_matches_the_lp_on_many_seeds() {
    for class in CLASSES {
        for parties in [4, 6, 10, 16, 24, 40, 64] {
            for seed in 1_000..1_300 {
                check(class, parties, seed);
            }
        }
    }
}
