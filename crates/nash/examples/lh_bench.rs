//! Timing of the Lemke–Howson reference solver on generated bimatrix games.
//!
//! `cargo run -p pin-nash --release --example lh_bench -- [seeds] [sizes…]` prints, per size,
//! p50 / p99 / max wall time, starting labels and pivots. `LH_ONLY=1` skips the pure-equilibrium
//! scan; `LH_SINGLE=1` follows only the path from label 0, uncapped. With `LH_DUMP=dir` it also writes each
//! game as text (`m n`, then A's rows, then B's rows) for comparison with other solvers.

use nash::challenge::Problem;
use nash::class::ProblemClass;
use nash::config::SolverLimits;
use nash::generate::{Difficulty, challenge};
use nash::solve::lemke_howson::{relative_regret, solve_bimatrix, solve_bimatrix_lh};
use std::fmt::Write as _;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seeds: u64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(20);
    let sizes: Vec<usize> = if args.len() > 1 {
        args[1..].iter().filter_map(|s| s.parse().ok()).collect()
    } else {
        vec![10, 100, 200, 400]
    };
    let dump = std::env::var("LH_DUMP").ok();
    // LH_ONLY=1: Lemke–Howson alone, without the pure-equilibrium scan.
    let lh_only = std::env::var("LH_ONLY").is_ok();
    // LH_SINGLE=1: only the path from label 0 (as quantecon's `init_pivot=0`), uncapped.
    let limits = if std::env::var("LH_SINGLE").is_ok() {
        SolverLimits {
            lh_max_restarts: 1,
            lh_max_pivots: 10_000_000,
            ..SolverLimits::default()
        }
    } else {
        SolverLimits::default()
    };
    for &n in &sizes {
        let d = Difficulty {
            parties: 2,
            actions: n,
            ..Difficulty::easy()
        };
        let mut times = Vec::new();
        let mut pivots = Vec::new();
        let mut labels = Vec::new();
        // LH_SEEDS=a,b,c: only these seeds.
        let list: Vec<u64> = match std::env::var("LH_SEEDS") {
            Ok(v) => v.split(',').filter_map(|s| s.parse().ok()).collect(),
            Err(_) => (0..seeds).collect(),
        };
        for seed in list {
            let c = challenge(ProblemClass::GeneralGame, seed, &d);
            let Problem::Bimatrix(g) = &c.problem else {
                panic!("not bimatrix")
            };
            if let Some(dir) = &dump {
                let mut s = format!("{} {}\n", g.rows, g.cols);
                for t in [&g.row_payoffs, &g.col_payoffs] {
                    for i in 0..g.rows {
                        let row: Vec<String> = t[i * g.cols..(i + 1) * g.cols]
                            .iter()
                            .map(ToString::to_string)
                            .collect();
                        let _ = writeln!(s, "{}", row.join(" "));
                    }
                }
                std::fs::write(format!("{dir}/g{n}_{seed}.txt"), s).expect("write");
            }
            let t0 = Instant::now();
            let sol = if lh_only {
                solve_bimatrix_lh(g, &limits)
            } else {
                solve_bimatrix(g, &limits)
            }
            .expect("solves");
            let dt = t0.elapsed().as_secs_f64() * 1e3;
            assert!(relative_regret(g, &sol.row, &sol.col) <= 1e-9);
            times.push(dt);
            pivots.push(sol.pivots);
            labels.push(sol.label);
            if std::env::var("LH_VERBOSE").is_ok() {
                println!(
                    "n={n} seed={seed} {dt:.3} ms label {:?} pivots {}",
                    sol.label, sol.pivots
                );
            }
        }
        let mut sorted = times.clone();
        sorted.sort_by(f64::total_cmp);
        let q = |p: f64| sorted[((p * (sorted.len() - 1) as f64).round()) as usize];
        let total: f64 = times.iter().sum();
        println!(
            "n={n:4} seeds={} p50 {:.3} ms  p99 {:.3} ms  max {:.3} ms  total {:.1} ms  \
             max label {:?}  pure {}  mean pivots {:.1}",
            times.len(),
            q(0.5),
            q(0.99),
            sorted[sorted.len() - 1],
            total,
            labels.iter().flatten().max(),
            labels.iter().filter(|l| l.is_none()).count(),
            pivots.iter().sum::<usize>() as f64 / pivots.len() as f64
        );
    }
}
