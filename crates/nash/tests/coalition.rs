//! Coalition formation end to end: hand-computed games, generated games up to 16 players, and
//! perturbed answers the verifier must catch.

use nash::Canonical;
use nash::challenge::{Challenge, Problem};
use nash::class::{CoalitionGame, ProblemClass};
use nash::config::{Config, SolverLimits};
use nash::error::SettlementError;
use nash::generate::{Difficulty, challenge};
use nash::settlement::{Answer, CoalitionAnswer};
use nash::solve::coalition::{least_core, optimal_structure, solve_coalition};
use nash::solve::lp::{LinearProgram, Relation};
use nash::solve::reference;
use nash::units::ChallengeId;
use nash::verify::{CoalitionMetrics, Metrics, Verdict, Violation, verify, verify_coalition};
use std::time::Instant;

fn game(players: usize, v: impl Fn(usize) -> i64) -> CoalitionGame {
    CoalitionGame {
        players,
        values: (0..1usize << players)
            .map(|s| if s == 0 { 0 } else { v(s) })
            .collect(),
    }
}

fn metrics(v: &Verdict) -> CoalitionMetrics {
    match &v.metrics {
        Metrics::Coalition(m) => m.clone(),
        other => panic!("expected coalition metrics, got {other:?}"),
    }
}

fn answer(structure: Vec<u32>, payoffs: Vec<i64>) -> CoalitionAnswer {
    CoalitionAnswer {
        challenge: ChallengeId(1),
        structure,
        payoffs,
    }
}

fn coalition_challenge(seed: u64, players: usize) -> (Challenge, CoalitionGame) {
    let d = Difficulty {
        parties: players,
        density: 50,
        ..Difficulty::easy()
    };
    let c = challenge(ProblemClass::CoalitionFormation, seed, &d);
    let Problem::Coalition(g) = &c.problem else {
        panic!("coalition problem")
    };
    let g = g.clone();
    (c, g)
}

fn coalitions(a: &Answer) -> CoalitionAnswer {
    match a {
        Answer::Coalitions(c) => c.clone(),
        other => panic!("expected a coalition answer, got {other:?}"),
    }
}

#[test]
fn three_player_majority_game_has_an_empty_core_and_least_core_one_sixth() {
    // Any two players earn 5, all three 6, nobody alone anything. The grand coalition is optimal
    // (6 > 5 + 0); at (2, 2, 2) every pair is short 5 − 4 = 1 = v(N)/6, and no split does better
    // (the three pair constraints sum to 2·x(N) ≥ 15 − 3ε, i.e. ε ≥ 1): the core is empty.
    let g = game(3, |s| match s.count_ones() {
        1 => 0,
        2 => 5,
        _ => 6,
    });
    let (structure, welfare) = optimal_structure(&g);
    assert_eq!((structure.clone(), welfare), (vec![7], 6));
    let core = least_core(&g, &structure, &SolverLimits::default()).expect("solves");
    assert!((core.epsilon - 1.0).abs() < 1e-9, "{core:?}");
    for x in &core.payoffs {
        assert!((x - 2.0).abs() < 1e-9, "{core:?}");
    }
    let a = solve_coalition(ChallengeId(1), &g, &SolverLimits::default()).expect("solves");
    assert_eq!(a.payoffs, vec![2, 2, 2]);
    let v = verify_coalition(&g, &a, Some(&a), &Config::default());
    assert!(v.is_valid(), "{:?}", v.violations);
    assert_eq!(v.quality, 1.0);
    let m = metrics(&v);
    assert_eq!(m.max_blocking_gain, 1);
    assert_eq!(m.blocking_coalition, Some(3)); // {0, 1}, the lowest of the three pairs
}

#[test]
fn superadditive_game_has_a_core_and_the_split_is_in_it() {
    // v(S) = |S|²: convex, so the core is non-empty; the equal split (4, 4, 4, 4) leaves every
    // coalition of k players k(4 − k) ≥ 3 better off than alone, so ε = −3.
    let g = game(4, |s| i64::from(s.count_ones() * s.count_ones()));
    let (structure, welfare) = optimal_structure(&g);
    assert_eq!((structure.clone(), welfare), (vec![15], 16));
    let core = least_core(&g, &structure, &SolverLimits::default()).expect("solves");
    assert!(core.epsilon <= 0.0, "{core:?}");
    assert!((core.epsilon + 3.0).abs() < 1e-9, "{core:?}");
    let a = solve_coalition(ChallengeId(1), &g, &SolverLimits::default()).expect("solves");
    assert_eq!(a.payoffs, vec![4; 4]);
    let v = verify_coalition(&g, &a, None, &Config::default());
    assert_eq!(v.quality, 1.0);
    let m = metrics(&v);
    assert_eq!((m.max_blocking_gain, m.blocking_coalition), (0, None));
}

#[test]
fn two_pairs_beat_the_grand_coalition() {
    // {0,1} and {2,3} earn 10 each; any other coalition of two or more earns 1 per member.
    let g = game(4, |s| match s {
        0b0011 | 0b1100 => 10,
        s => i64::from(s.count_ones()),
    });
    let (structure, welfare) = optimal_structure(&g);
    assert_eq!((structure.clone(), welfare), (vec![0b0011, 0b1100], 20));
    let a = solve_coalition(ChallengeId(1), &g, &SolverLimits::default()).expect("solves");
    let v = verify_coalition(&g, &a, Some(&a), &Config::default());
    assert_eq!(v.quality, 1.0, "{v:?}");
    assert_eq!(metrics(&v).max_blocking_gain, 0);
}

/// The least-core value by one LP with all `2ⁿ` constraints, to check constraint generation.
fn full_least_core(g: &CoalitionGame, structure: &[u32]) -> f64 {
    let n = g.players;
    // x_i = v({i}) + y_i, y ≥ 0; ε = e⁺ − e⁻.
    let mut lp = LinearProgram::new(n + 2);
    lp.set_cost(n, 1.0);
    lp.set_cost(n + 1, -1.0);
    lp.set_upper(n + 1, 1e6);
    let alone = |s: usize| {
        (0..n)
            .filter(|i| s >> i & 1 == 1)
            .map(|i| g.values[1 << i])
            .sum::<i64>()
    };
    let members = |s: usize| {
        (0..n)
            .filter(|i| s >> i & 1 == 1)
            .map(|i| (i, 1.0))
            .collect::<Vec<_>>()
    };
    for s in 1..1usize << n {
        let rhs = (g.values[s] - alone(s)) as f64;
        if structure.contains(&(s as u32)) {
            lp.add_row(members(s), Relation::Eq, rhs);
        } else {
            let mut row = members(s);
            row.push((n, 1.0));
            row.push((n + 1, -1.0));
            lp.add_row(row, Relation::Ge, rhs);
        }
    }
    let sol = lp.solve(&SolverLimits::default()).expect("full LP solves");
    sol.x[n] - sol.x[n + 1]
}

#[test]
fn constraint_generation_matches_the_full_least_core_lp() {
    for seed in 0..20 {
        let n = 2 + (seed as usize % 6);
        let (_, g) = coalition_challenge(seed, n);
        let (structure, _) = optimal_structure(&g);
        let core = least_core(&g, &structure, &SolverLimits::default()).expect("solves");
        let full = full_least_core(&g, &structure);
        assert!(
            (core.epsilon - full).abs() < 1e-6,
            "seed {seed}, n {n}: generated {} vs full {full}",
            core.epsilon
        );
    }
}

#[test]
fn generated_games_up_to_sixteen_players_verify_with_quality_one() {
    let config = Config::default();
    for n in 1..=16 {
        let seeds = if n >= 14 { 1 } else { 3 };
        for seed in 0..seeds {
            let (c, g) = coalition_challenge(seed * 100 + n as u64, n);
            let a = reference(&c, &config).expect("reference solves");
            let v = verify(&c, &a, Some(&a), &config);
            assert!(v.is_valid(), "n {n} seed {seed}: {:?}", v.violations);
            assert_eq!(v.quality, 1.0, "n {n} seed {seed}: {v:?}");
            let m = metrics(&v);
            assert_eq!(m.welfare, optimal_structure(&g).1);
            // The rounded split blocks by at most the least-core value plus rounding.
            let ca = coalitions(&a);
            let core = least_core(&g, &ca.structure, &config.solver).expect("solves");
            assert!(
                (m.max_blocking_gain as f64) <= core.epsilon.max(0.0) + n as f64,
                "n {n}: gain {} vs ε {}",
                m.max_blocking_gain,
                core.epsilon
            );
        }
    }
}

#[test]
fn a_worse_structure_shows_a_welfare_gap() {
    let config = Config::default();
    let mut caught = 0;
    for seed in 0..10 {
        let (c, g) = coalition_challenge(seed, 8);
        let r = coalitions(&reference(&c, &config).expect("solves"));
        // Everyone alone, paid their own value: efficient and rational, but (unless alone is
        // optimal) short of the best welfare.
        let alone = CoalitionAnswer {
            challenge: c.id,
            structure: (0..8).map(|i| 1 << i).collect(),
            payoffs: (0..8).map(|i| g.values[1 << i]).collect(),
        };
        let v = verify(
            &c,
            &Answer::Coalitions(alone),
            Some(&Answer::Coalitions(r.clone())),
            &config,
        );
        assert!(v.is_valid(), "{:?}", v.violations);
        let m = metrics(&v);
        let gap = v.gap.expect("gap");
        let expected = (m.reference_welfare - m.welfare) as f64 / m.reference_welfare as f64;
        assert!((gap - expected).abs() < 1e-12 || gap > expected);
        if r.structure.len() < 8 {
            assert!(m.welfare < m.reference_welfare, "seed {seed}");
            assert!(v.quality < 1.0, "seed {seed}: {v:?}");
            caught += 1;
        }
    }
    assert!(
        caught >= 8,
        "only {caught} structures differed from all-alone"
    );
}

#[test]
fn shifted_payoffs_open_a_blocking_coalition() {
    let config = Config::default();
    let (mut checked, mut by_gain) = (0, 0);
    for seed in 0..10 {
        let (c, g) = coalition_challenge(seed, 10);
        let r = coalitions(&reference(&c, &config).expect("solves"));
        let Some(&big) = r.structure.iter().find(|m| m.count_ones() >= 2) else {
            continue;
        };
        let members: Vec<usize> = (0..10).filter(|&i| big >> i & 1 == 1).collect();
        let (from, to) = (members[0], members[1]);
        // Move a fifth of the coalition's value (at least three units per player, beyond the
        // rounding tolerance) from one member to another: still efficient.
        let shift = (g.values[big as usize] / 5).max(30);
        let mut a = r.clone();
        a.payoffs[from] -= shift;
        a.payoffs[to] += shift;
        let v = verify(
            &c,
            &Answer::Coalitions(a),
            Some(&Answer::Coalitions(r.clone())),
            &config,
        );
        assert!(
            !v.violations
                .iter()
                .any(|x| matches!(x, Violation::CoalitionNotEfficient { .. }))
        );
        let m = metrics(&v);
        let reference_gain = m.reference_blocking_gain.expect("reference measured");
        // The loser can leave on its own or with others: somebody blocks harder than before.
        assert!(m.max_blocking_gain > reference_gain, "seed {seed}: {m:?}");
        assert!(m.blocking_coalition.is_some_and(|s| s >> from & 1 == 1));
        assert!(v.quality < 1.0, "seed {seed}: {v:?}");
        if v.is_valid() {
            // Still rational for everyone: caught by the blocking gain alone.
            by_gain += 1;
        }
        checked += 1;
    }
    eprintln!("shifted payoffs: {checked} caught, {by_gain} by the blocking gain alone");
    assert!(checked >= 8 && by_gain >= 1);
}

#[test]
fn malformed_and_inefficient_answers_name_what_is_wrong() {
    let g = game(3, |s| i64::from(s.count_ones()) * 3);
    let config = Config::default();
    let check = |a: CoalitionAnswer, e: SettlementError| {
        let v = verify_coalition(&g, &a, None, &config);
        assert_eq!(v.violations, vec![Violation::Malformed { error: e }]);
        assert_eq!(v.quality, 0.0);
    };
    check(
        answer(vec![3, 6], vec![3, 3, 3]),
        SettlementError::CoalitionOverlap {
            index: 1,
            player: 1,
        },
    );
    check(
        answer(vec![3], vec![3, 3, 3]),
        SettlementError::PlayerUncovered { player: 2 },
    );
    check(
        answer(vec![7], vec![3, 3]),
        SettlementError::PayoffCount {
            players: 3,
            found: 2,
        },
    );
    check(
        answer(vec![7, 8], vec![3, 3, 3]),
        SettlementError::CoalitionOutsideGame {
            index: 1,
            mask: 8,
            players: 3,
        },
    );
    // Efficiency is checked per coalition, then rationality per player.
    let v = verify_coalition(&g, &answer(vec![3, 4], vec![4, 3, 2]), None, &config);
    assert_eq!(
        v.violations,
        vec![
            Violation::CoalitionNotEfficient {
                coalition: 3,
                paid: 7,
                value: 6
            },
            Violation::CoalitionNotEfficient {
                coalition: 4,
                paid: 2,
                value: 3
            },
            Violation::BelowStandalone {
                player: 2,
                payoff: 2,
                standalone: 3
            },
        ]
    );
    assert_eq!(v.quality, 0.0);
    let text: Vec<String> = v.violations.iter().map(ToString::to_string).collect();
    assert!(text.contains(&"coalition 0x3: payoffs sum to 7, its value is 6".to_string()));
}

#[test]
fn sixteen_player_timings() {
    let config = Config::default();
    let (c, g) = coalition_challenge(7, 16);
    let t = Instant::now();
    let (structure, _) = optimal_structure(&g);
    let dp = t.elapsed();
    let t = Instant::now();
    let core = least_core(&g, &structure, &config.solver).expect("solves");
    let lc = t.elapsed();
    let a = reference(&c, &config).expect("solves");
    let t = Instant::now();
    let v = verify(&c, &a, Some(&a), &config);
    let vt = t.elapsed();
    assert_eq!(v.quality, 1.0);
    eprintln!(
        "16 players: DP {dp:?}, least core {lc:?} ({} rounds, {} rows, ε {:.3}), verify {vt:?}",
        core.rounds, core.rows, core.epsilon
    );
}

#[test]
fn salted_views_desalt_to_quality_one_and_copies_fail() {
    let config = Config::default();
    let (mut copies, mut caught) = (0, 0);
    for (seed, n) in [(1, 6), (2, 9), (3, 12), (4, 16), (5, 7), (6, 11)] {
        let (c, _) = coalition_challenge(seed, n);
        let canon = reference(&c, &config).expect("solves");
        let salt = |miner: u8| {
            let mut s = [miner; 32];
            s[..8].copy_from_slice(&seed.to_be_bytes());
            nash::salt::salt(&c, &s)
        };
        let (va, ma) = salt(1);
        let (_, mb) = salt(2);
        let a = reference(&va, &config).expect("view solves");
        let honest = ma.desalt(&a);
        let v = verify(&c, &honest, Some(&canon), &config);
        assert_eq!(v.quality, 1.0, "n {n}: {v:?}");
        assert_eq!(
            nash::salt::de_salted_digest(&ma, &a, &config.pmu),
            honest.hash(),
            "digest of the de-salted answer"
        );
        // Miner 2 copies miner 1's salted bytes.
        let copied = mb.desalt(&a);
        copies += 1;
        if verify(&c, &copied, Some(&canon), &config).quality < 1.0 {
            caught += 1;
        }
    }
    assert_eq!(caught, copies, "copied salted coalition answers must fail");
}
