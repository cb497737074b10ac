//! Solve and verify times per class and size, measured separately so that "verification is at
//! least 10× cheaper than solving" can be read off the report (`cargo bench -p pin-nash`).
//!
//! Instances come from [`nash::generate::challenge`] at [`Difficulty::for_size`], as in the
//! `pin-nash-bench` comparison harness (`crates/nash-bench`): markets get `parties` intents over
//! 3 resources at constraint density 60; games get `size` actions per player (the row player
//! gets `size` or `size + 1`). Market answers are verified without a reference (the cost of
//! checking one settlement); game answers need none.
//!
//! Three-player games, coalition formation and indivisible markets (the MILP) have groups of
//! their own with the generator's difficulty for them.
//!
//! Filter as usual: `cargo bench -p pin-nash --bench solve -- bimatrix/solve`.

#![allow(missing_docs)]

use criterion::{BenchmarkId, Criterion, SamplingMode, criterion_group, criterion_main};
use nash::class::ProblemClass;
use nash::config::Config;
use nash::generate::{Difficulty, challenge};
use nash::solve::reference;
use nash::verify::verify;
use std::hint::black_box;
use std::time::Duration;

fn difficulty(class: ProblemClass, size: usize) -> Difficulty {
    Difficulty::for_size(class, size)
}

fn class_group(c: &mut Criterion, name: &str, class: ProblemClass, sizes: &[usize]) {
    let cases: Vec<(usize, Difficulty)> = sizes
        .iter()
        .map(|&size| (size, difficulty(class, size)))
        .collect();
    group_of(c, name, class, &cases);
}

/// One criterion group: solve and verify of seed 1 at each `(size label, difficulty)`.
fn group_of(c: &mut Criterion, name: &str, class: ProblemClass, cases: &[(usize, Difficulty)]) {
    let config = Config::default();
    let mut group = c.benchmark_group(name);
    for (size, d) in cases {
        let size = *size;
        // Big instances take from a second (zero-sum 400) to several (bimatrix 400) per solve:
        // keep their sample counts at criterion's minimum, one iteration per sample.
        if size >= 100 {
            group.sampling_mode(SamplingMode::Flat);
            group.sample_size(10);
            group.warm_up_time(Duration::from_millis(500));
            group.measurement_time(Duration::from_secs(3));
        } else {
            group.sampling_mode(SamplingMode::Auto);
            group.sample_size(30);
            group.warm_up_time(Duration::from_millis(300));
            group.measurement_time(Duration::from_secs(2));
        }
        let ch = challenge(class, 1, d);
        let answer = match reference(&ch, &config) {
            Ok(a) => a,
            Err(e) => panic!("{name} size {size}: the reference solver failed: {e}"),
        };
        let verdict = verify(&ch, &answer, None, &config);
        assert!(
            verdict.is_valid(),
            "{name} size {size}: reference answer fails verification: {verdict:?}"
        );
        group.bench_with_input(BenchmarkId::new("solve", size), &ch, |b, ch| {
            b.iter(|| reference(black_box(ch), &config))
        });
        group.bench_with_input(BenchmarkId::new("verify", size), &ch, |b, ch| {
            b.iter(|| verify(black_box(ch), black_box(&answer), None, &config))
        });
    }
    group.finish();
}

fn benches(c: &mut Criterion) {
    class_group(c, "simple_swap", ProblemClass::SimpleSwap, &[2]);
    class_group(c, "constrained_swap", ProblemClass::ConstrainedSwap, &[2]);
    class_group(c, "three_party", ProblemClass::ThreeParty, &[4, 16, 64]);
    class_group(c, "triangle", ProblemClass::ResourceTriangle, &[4, 16, 64]);
    class_group(c, "zero_sum", ProblemClass::ZeroSumGame, &[10, 100, 400]);
    class_group(
        c,
        "bimatrix",
        ProblemClass::GeneralGame,
        &[10, 100, 200, 400],
    );
    // Three-player games: `size` actions per player.
    let three: Vec<(usize, Difficulty)> = [4, 8, 16]
        .iter()
        .map(|&n| (n, Difficulty::three_player_for_size(n)))
        .collect();
    group_of(c, "three_player", ProblemClass::GeneralGame, &three);
    // Coalition formation: `size` players (the DP is 3ⁿ).
    let coalition: Vec<(usize, Difficulty)> = [8, 12, 16]
        .iter()
        .map(|&n| (n, Difficulty::coalition_for_size(n)))
        .collect();
    group_of(c, "coalition", ProblemClass::CoalitionFormation, &coalition);
    // Markets with lots, minimum fills and bundles (the MILP): `size` parties.
    let lots: Vec<(usize, Difficulty)> = [4, 16]
        .iter()
        .map(|&n| (n, Difficulty::indivisible_for_size(n)))
        .collect();
    group_of(
        c,
        "triangle_indivisible",
        ProblemClass::ResourceTriangle,
        &lots,
    );
}

criterion_group!(solve, benches);
criterion_main!(solve);
