//! The market MILP: lots, minimum fills and bundles, on hand-made instances with known optima and
//! on generated ones, whose reference answers must verify with Q = 1.

use nash::challenge::{Challenge, Problem};
use nash::class::{MarketInstance, ProblemClass};
use nash::config::{Config, SolverLimits};
use nash::error::InstanceError;
use nash::generate::{Difficulty, challenge};
use nash::intent::{Intent, Side};
use nash::settlement::{Answer, Settlement};
use nash::solve::clearing::{solve_clearing, solve_clearing_with_stats};
use nash::solve::reference;
use nash::units::{
    BundleId, ChallengeId, IntentId, MICRO, Money, PICO, PartyId, Price, Quantity, ResourceKind,
};
use nash::verify::{Metrics, Verdict, Violation, evaluate_market, verify};
use std::time::Instant;

fn intent(id: u64, party: u32, side: Side, r: ResourceKind, units: u64, price: f64) -> Intent {
    Intent::limit(
        id,
        party,
        side,
        r,
        Quantity::units(units),
        Price((price * MICRO as f64).round() as u64),
    )
}

fn gpu(id: u64, party: u32, side: Side, units: u64, price: f64) -> Intent {
    intent(id, party, side, ResourceKind::GPU_HOURS, units, price)
}

fn clear(class: ProblemClass, m: &MarketInstance) -> (Settlement, Verdict) {
    let config = Config::default();
    assert_eq!(m.validate(class), Ok(()));
    let s = solve_clearing(ChallengeId(1), class, m, &config.solver).expect("solves");
    let v = evaluate_market(class, m, &s, None, &config);
    assert!(v.is_valid(), "{:?}\n{s:?}", v.violations);
    assert_eq!(v.quality, 1.0);
    (s, v)
}

fn welfare(v: &Verdict) -> Money {
    match &v.metrics {
        Metrics::Market(m) => m.welfare,
        other => panic!("not a market verdict: {other:?}"),
    }
}

fn filled(s: &Settlement, id: u64) -> Quantity {
    Quantity(
        s.fills
            .iter()
            .filter(|f| f.seller == IntentId(id) || f.buyer == IntentId(id))
            .map(|f| f.quantity.0)
            .sum(),
    )
}

fn money(whole: f64) -> Money {
    Money((whole * PICO as f64).round() as i128)
}

#[test]
fn lots_where_rounding_the_relaxation_is_wrong() {
    // The buyer takes up to 10 at 5. Seller lots: 6 at cost 1 (one lot), 5 at 2, and a deferrer's
    // 5 at 2.5. The relaxation takes the 6 and 4 of the next (36); rounding it down keeps the 6
    // alone (24); the optimum is 5 + 5 (50 − 10 − 12.5 = 27.5).
    let mut m = MarketInstance {
        intents: vec![
            gpu(1, 1, Side::Buy, 10, 5.0),
            gpu(2, 2, Side::Sell, 6, 1.0),
            gpu(3, 2, Side::Sell, 5, 2.0),
            gpu(4, 3, Side::Defer, 5, 2.5),
        ],
    };
    m.intents[1].lot = Quantity::units(6);
    m.intents[2].lot = Quantity::units(5);
    m.intents[3].lot = Quantity::units(5);
    let (s, v) = clear(ProblemClass::ThreeParty, &m);
    assert_eq!(welfare(&v), money(27.5));
    assert_eq!(filled(&s, 2), Quantity::ZERO);
    assert_eq!(filled(&s, 3), Quantity::units(5));
    assert_eq!(filled(&s, 4), Quantity::units(5));
}

#[test]
fn a_min_fill_that_cannot_be_met_is_skipped() {
    // The cheap seller only trades 15 or more; the buyer wants 10, so the dearer deferrer sells.
    let mut m = MarketInstance {
        intents: vec![
            gpu(1, 1, Side::Buy, 10, 5.0),
            gpu(2, 2, Side::Sell, 20, 1.0),
            gpu(3, 3, Side::Defer, 10, 3.0),
        ],
    };
    m.intents[1].min_fill = Quantity::units(15);
    let (s, v) = clear(ProblemClass::ThreeParty, &m);
    assert_eq!(filled(&s, 2), Quantity::ZERO);
    assert_eq!(filled(&s, 3), Quantity::units(10));
    assert_eq!(welfare(&v), money(20.0));
    // With a second buyer the threshold is met and the cheap seller sells 15.
    m.intents.push(gpu(4, 1, Side::Buy, 5, 4.0));
    let (s, v) = clear(ProblemClass::ThreeParty, &m);
    assert_eq!(filled(&s, 2), Quantity::units(15));
    assert_eq!(welfare(&v), money(50.0 + 20.0 - 15.0));
}

/// Party 1 sells storage at a loss to buy GPU hours, as one bundle; CPU trades on the side.
fn bundle_market(gpu_value: f64) -> MarketInstance {
    let mut m = MarketInstance {
        intents: vec![
            intent(1, 1, Side::Sell, ResourceKind::STORAGE, 10, 4.0),
            intent(2, 1, Side::Buy, ResourceKind::GPU_HOURS, 10, gpu_value),
            intent(3, 2, Side::Sell, ResourceKind::GPU_HOURS, 10, 5.0),
            intent(4, 3, Side::Buy, ResourceKind::STORAGE, 10, 3.0),
            intent(5, 2, Side::Sell, ResourceKind::CPU_HOURS, 5, 1.0),
            intent(6, 3, Side::Buy, ResourceKind::CPU_HOURS, 5, 2.0),
        ],
    };
    m.intents[0].bundle = Some(BundleId(7));
    m.intents[1].bundle = Some(BundleId(7));
    m
}

#[test]
fn a_bundle_trades_whole_when_it_pays_as_a_whole() {
    // GPU gain 10·(10 − 5) = 50 outweighs the storage loss 10·(4 − 3) = 10.
    let (s, v) = clear(ProblemClass::ResourceTriangle, &bundle_market(10.0));
    assert_eq!(filled(&s, 1), Quantity::units(10));
    assert_eq!(filled(&s, 2), Quantity::units(10));
    assert_eq!(welfare(&v), money(50.0 - 10.0 + 5.0));
    // At value 5.5 the whole loses (5 − 10): no leg trades, though the GPU leg alone would.
    let (s, v) = clear(ProblemClass::ResourceTriangle, &bundle_market(5.5));
    assert_eq!(filled(&s, 1), Quantity::ZERO);
    assert_eq!(filled(&s, 2), Quantity::ZERO);
    assert_eq!(welfare(&v), money(5.0));
    let mut unbundled = bundle_market(5.5);
    for i in &mut unbundled.intents {
        i.bundle = None;
    }
    let (s, _) = clear(ProblemClass::ResourceTriangle, &unbundled);
    assert_eq!(filled(&s, 2), Quantity::units(10));
}

#[test]
fn partial_and_losing_bundles_are_violations() {
    let m = bundle_market(10.0);
    let config = Config::default();
    let s = solve_clearing(
        ChallengeId(1),
        ProblemClass::ResourceTriangle,
        &m,
        &config.solver,
    )
    .expect("solves");
    // Drop the storage leg's fill.
    let mut partial = s.clone();
    partial.fills.retain(|f| f.seller != IntentId(1));
    let v = evaluate_market(ProblemClass::ResourceTriangle, &m, &partial, None, &config);
    assert!(v.violations.contains(&Violation::BundleIncomplete {
        bundle: BundleId(7),
        intent: IntentId(1),
        filled: Quantity::ZERO,
        quantity: Quantity::units(10),
    }));
    // Charge the GPU leg 9.9: 10·(10 − 9.9) + 10·(p_storage − 4) < 0.
    let mut dear = s;
    for p in &mut dear.prices {
        if p.intent == IntentId(2) || p.intent == IntentId(3) {
            p.price = Price(9_900_000);
        }
    }
    let v = evaluate_market(ProblemClass::ResourceTriangle, &m, &dear, None, &config);
    assert!(
        v.violations
            .iter()
            .any(|x| matches!(x, Violation::BundleNotIndividuallyRational { bundle, .. } if *bundle == BundleId(7))),
        "{:?}",
        v.violations
    );
}

#[test]
fn a_bundle_across_parties_is_rejected() {
    let mut m = bundle_market(10.0);
    m.intents[3].bundle = Some(BundleId(7));
    assert_eq!(
        m.validate(ProblemClass::ResourceTriangle),
        Err(InstanceError::BundleAcrossParties {
            bundle: BundleId(7),
            intent: IntentId(4),
            party: PartyId(3),
            expected: PartyId(1),
        })
    );
}

fn market(c: &Challenge) -> &MarketInstance {
    match &c.problem {
        Problem::Market(m) => m,
        _ => panic!("not a market"),
    }
}

/// The same market with every intent divisible and unbundled.
fn relaxed(m: &MarketInstance) -> MarketInstance {
    let mut r = m.clone();
    for i in &mut r.intents {
        i.lot = Quantity::EPSILON;
        i.min_fill = Quantity::ZERO;
        i.bundle = None;
    }
    r
}

fn big_triangle() -> Difficulty {
    Difficulty {
        parties: 16,
        resources: 4,
        actions: 3,
        density: 50,
        indivisible: 30,
    }
}

#[test]
fn generated_indivisible_markets_verify_with_quality_one() {
    let config = Config::default();
    let mut discrete = 0;
    let cases = [
        (ProblemClass::ThreeParty, Difficulty::indivisible(), 200),
        (
            ProblemClass::ResourceTriangle,
            Difficulty::indivisible(),
            200,
        ),
        (ProblemClass::ThreeParty, big_triangle(), 50),
        (ProblemClass::ResourceTriangle, big_triangle(), 50),
    ];
    for (class, d, seeds) in cases {
        for seed in 0..seeds {
            let c = challenge(class, seed, &d);
            assert_eq!(c.validate(), Ok(()), "{class:?} seed {seed}");
            let m = market(&c);
            discrete += usize::from(m.intents.iter().any(Intent::is_indivisible));
            let answer = reference(&c, &config).expect("reference solves");
            let v = verify(&c, &answer, Some(&answer), &config);
            assert!(v.is_valid(), "{class:?} seed {seed}: {:?}", v.violations);
            assert_eq!(v.quality, 1.0, "{class:?} seed {seed}");
            // The MILP optimum is at most the divisible relaxation's.
            let r = relaxed(m);
            let rs = solve_clearing(ChallengeId(seed), class, &r, &config.solver).expect("LP");
            let rv = evaluate_market(class, &r, &rs, None, &config);
            assert!(rv.is_valid(), "{class:?} seed {seed}: {:?}", rv.violations);
            assert!(
                welfare(&v) <= welfare(&rv),
                "{class:?} seed {seed}: MILP {} > LP {}",
                welfare(&v),
                welfare(&rv)
            );
        }
    }
    assert!(
        discrete > 100,
        "only {discrete} instances had indivisible intents"
    );
}

#[test]
fn divisible_difficulties_stay_divisible() {
    // `indivisible: 0` draws nothing extra: easy() and hard() multi-party markets keep every
    // intent divisible and unbundled (and so on the exact LP path).
    for class in [ProblemClass::ThreeParty, ProblemClass::ResourceTriangle] {
        for d in [Difficulty::easy(), Difficulty::hard()] {
            for seed in 0..20 {
                let c = challenge(class, seed, &d);
                assert!(!market(&c).intents.iter().any(Intent::is_indivisible));
            }
        }
    }
}

/// Timings of the 16-party triangle: lots and minimum fills only, then with bundles.
/// `cargo test -p pin-nash --release --test milp -- --ignored --nocapture`
#[test]
#[ignore = "timing report, not a check"]
fn triangle_timings() {
    let limits = SolverLimits::default();
    for bundles in [false, true] {
        let mut times = Vec::new();
        let mut limit_hits = 0;
        let mut nodes = Vec::new();
        let (mut repriced, mut dropped) = (0, 0);
        let mut gaps = Vec::new();
        let mut away = Vec::new();
        for seed in 0..100 {
            let c = challenge(ProblemClass::ResourceTriangle, seed, &big_triangle());
            let mut m = market(&c).clone();
            if !bundles {
                for i in &mut m.intents {
                    i.bundle = None;
                }
            }
            let t = Instant::now();
            let (s, stats) = solve_clearing_with_stats(c.id, c.class, &m, &limits).expect("solves");
            let ms = t.elapsed().as_secs_f64() * 1e3;
            let config = Config::default();
            let w = welfare(&evaluate_market(c.class, &m, &s, None, &config));
            let r = relaxed(&m);
            let rs = solve_clearing(c.id, c.class, &r, &limits).expect("LP");
            let rw = welfare(&evaluate_market(c.class, &r, &rs, None, &config));
            if rw.0 > 0 {
                gaps.push((rw.0 - w.0) as f64 / rw.0 as f64);
                away.push(stats.priced_away * PICO as f64 / rw.0 as f64);
            }
            if ms > 100.0 {
                println!("  seed {seed}: {ms:.1} ms {stats:?}");
            }
            times.push(ms);
            nodes.push(stats.nodes);
            limit_hits += usize::from(stats.node_limit_hit);
            repriced += usize::from(stats.repriced);
            dropped += usize::from(stats.dropped > 0);
        }
        times.sort_by(f64::total_cmp);
        gaps.sort_by(f64::total_cmp);
        println!(
            "  welfare below the divisible relaxation: mean {:.3} %, max {:.3} %; of it given up for pricing: mean {:.3} %, max {:.3} %",
            100.0 * gaps.iter().sum::<f64>() / gaps.len().max(1) as f64,
            100.0 * gaps.last().copied().unwrap_or(0.0),
            100.0 * away.iter().sum::<f64>() / away.len().max(1) as f64,
            100.0 * away.iter().copied().fold(0.0, f64::max)
        );
        nodes.sort_unstable();
        println!(
            "bundles {bundles}: p50 {:.2} ms, p90 {:.2} ms, max {:.2} ms; nodes p50 {} max {}; node limit hit {limit_hits}/100; repriced {repriced}, decisions dropped in {dropped}",
            times[50], times[90], times[99], nodes[50], nodes[99]
        );
    }
}

#[test]
fn answer_type_is_a_settlement() {
    let c = challenge(ProblemClass::ThreeParty, 1, &Difficulty::indivisible());
    let a = reference(&c, &Config::default()).expect("solves");
    assert!(matches!(a, Answer::Settlement(_)));
}

#[test]
fn a_bundle_is_one_deviation_in_the_stability_metric() {
    // Nothing traded, prices 5 (GPU) and 3.5 (storage): the bundle's whole is worth
    // 10·(10 − 5) + 10·(3.5 − 4) = 45 to party 1, reported against its smallest leg.
    let m = bundle_market(10.0);
    let prices = [(1, 3.5), (2, 5.0), (3, 5.0), (4, 3.5), (5, 1.5), (6, 1.5)];
    let s = Settlement {
        challenge: ChallengeId(1),
        fills: Vec::new(),
        prices: prices
            .iter()
            .map(|&(i, p)| nash::settlement::PostedPrice {
                intent: IntentId(i),
                price: Price((p * MICRO as f64) as u64),
            })
            .collect(),
    };
    let v = evaluate_market(
        ProblemClass::ResourceTriangle,
        &m,
        &s,
        None,
        &Config::default(),
    );
    let Metrics::Market(mm) = &v.metrics else {
        panic!("market metrics")
    };
    assert_eq!(mm.max_deviation_gain, money(45.0));
    assert_eq!(mm.least_stable_intent, Some(IntentId(1)));
}

#[test]
fn the_node_limit_keeps_the_best_answer_found() {
    let c = challenge(ProblemClass::ResourceTriangle, 11, &big_triangle());
    let m = market(&c);
    let limits = SolverLimits {
        milp_max_nodes: 0,
        ..SolverLimits::default()
    };
    let (s, stats) = solve_clearing_with_stats(c.id, c.class, m, &limits).expect("start answer");
    assert!(stats.node_limit_hit);
    let config = Config::default();
    let v = evaluate_market(c.class, m, &s, None, &config);
    assert!(v.is_valid(), "{:?}", v.violations);
    // Every discrete decision stays off at zero nodes.
    assert!(
        m.intents
            .iter()
            .filter(|i| i.is_indivisible())
            .all(|i| filled(&s, i.id.0) == Quantity::ZERO)
    );
    let (full, _) = solve_clearing_with_stats(c.id, c.class, m, &config.solver).expect("solves");
    let fv = evaluate_market(c.class, m, &full, None, &config);
    assert!(welfare(&fv) >= welfare(&v));
}

#[test]
fn bundles_are_part_of_the_canonical_encoding() {
    use nash::Canonical;
    let mut i = gpu(1, 1, Side::Buy, 10, 2.0);
    let plain = i.hash();
    i.bundle = Some(BundleId(1));
    let one = i.hash();
    i.bundle = Some(BundleId(2));
    assert!(plain != one && one != i.hash());
    let json = serde_json::to_string(&i).expect("serialises");
    assert!(json.contains("\"bundle\":2"), "{json}");
    let back: Intent = serde_json::from_str(&json).expect("parses");
    assert_eq!(back, i);
}
