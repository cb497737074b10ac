//! Property tests: solver invariants, determinism, and a verifier that never panics.

use nash::Canonical;
use nash::challenge::Problem;
use nash::class::{BimatrixGame, MarketInstance, MatrixGame, ProblemClass};
use nash::config::{Config, SolverLimits};
use nash::error::SolveError;
use nash::generate::{Difficulty, challenge};
use nash::intent::{Intent, Segment, Side, Valuation};
use nash::settlement::{Answer, CoalitionAnswer, Fill, PostedPrice, Settlement, StrategyProfile};
use nash::solve::clearing::solve_clearing;
use nash::solve::lemke_howson::{relative_regret, solve_bimatrix};
use nash::solve::lp::{LinearProgram, Relation};
use nash::solve::swap::solve_swap;
use nash::solve::zero_sum::solve_zero_sum;
use nash::units::{ChallengeId, IntentId, Money, Price, Quantity, ResourceKind};
use nash::verify::{Metrics, evaluate_market, verify};
use proptest::prelude::*;

fn cases(n: u32) -> ProptestConfig {
    ProptestConfig {
        cases: n,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------- LP

#[derive(Debug, Clone)]
struct RandomLp {
    n: usize,
    cost: Vec<i32>,
    upper: Vec<Option<u8>>,
    rows: Vec<(Vec<i8>, u8, i16)>,
}

fn random_lp() -> impl Strategy<Value = RandomLp> {
    (1usize..7, 1usize..6).prop_flat_map(|(n, m)| {
        (
            Just(n),
            prop::collection::vec(-9i32..10, n),
            prop::collection::vec(prop::option::weighted(0.7, 1u8..12), n),
            prop::collection::vec((prop::collection::vec(-5i8..6, n), 0u8..3, -20i16..40), m),
        )
            .prop_map(|(n, cost, upper, rows)| RandomLp {
                n,
                cost,
                upper,
                rows,
            })
    })
}

proptest! {
    #![proptest_config(cases(400))]

    /// Any optimum the simplex returns is primal feasible, dual feasible, complementary and has
    /// no duality gap — i.e. it is a certified optimum.
    #[test]
    fn simplex_optimum_is_certified(p in random_lp()) {
        let mut lp = LinearProgram::new(p.n);
        for j in 0..p.n {
            lp.set_cost(j, f64::from(p.cost[j]));
            lp.set_upper(j, p.upper[j].map_or(f64::INFINITY, f64::from));
        }
        let rel = |r: u8| [Relation::Le, Relation::Eq, Relation::Ge][r as usize];
        for (coeffs, r, rhs) in &p.rows {
            lp.add_row(
                coeffs.iter().enumerate().map(|(j, &v)| (j, f64::from(v))).collect(),
                rel(*r),
                f64::from(*rhs),
            );
        }
        let s = match lp.solve(&SolverLimits::default()) {
            Ok(s) => s,
            Err(SolveError::Infeasible | SolveError::Unbounded) => return Ok(()),
            Err(e) => return Err(TestCaseError::fail(format!("{e}"))),
        };
        let tol = 1e-6;
        let mut dual_obj = 0.0;
        for (i, (coeffs, r, rhs)) in p.rows.iter().enumerate() {
            let y = s.duals[i];
            let lhs: f64 = coeffs.iter().enumerate().map(|(j, &v)| f64::from(v) * s.x[j]).sum();
            let rhs = f64::from(*rhs);
            match rel(*r) {
                Relation::Le => { prop_assert!(lhs <= rhs + tol); prop_assert!(y <= tol, "Le dual {y}"); }
                Relation::Ge => { prop_assert!(lhs >= rhs - tol); prop_assert!(y >= -tol, "Ge dual {y}"); }
                Relation::Eq => prop_assert!((lhs - rhs).abs() <= tol),
            }
            if (lhs - rhs).abs() > tol {
                prop_assert!(y.abs() <= tol, "slack row {i} has dual {y}");
            }
            dual_obj += rhs * y;
        }
        for j in 0..p.n {
            let d = f64::from(p.cost[j])
                - p.rows.iter().enumerate().map(|(i, r)| f64::from(r.0[j]) * s.duals[i]).sum::<f64>();
            let u = p.upper[j].map_or(f64::INFINITY, f64::from);
            prop_assert!(s.x[j] >= -tol && s.x[j] <= u + tol);
            if s.x[j] > tol { prop_assert!(d <= tol, "x{j} > 0 with reduced cost {d}"); }
            if s.x[j] < u - tol { prop_assert!(d >= -tol, "x{j} < u with reduced cost {d}"); }
            if u.is_finite() && d < 0.0 { dual_obj += u * d; }
        }
        prop_assert!((s.objective - dual_obj).abs() <= 1e-6 * (1.0 + s.objective.abs()),
            "primal {} dual {}", s.objective, dual_obj);
    }
}

// ---------------------------------------------------------------- games

fn matrix(
    max: usize,
    lo: i64,
    hi: i64,
) -> impl Strategy<Value = (usize, usize, Vec<i64>, Vec<i64>)> {
    (1..=max, 1..=max).prop_flat_map(move |(m, n)| {
        (
            Just(m),
            Just(n),
            prop::collection::vec(lo..=hi, m * n),
            prop::collection::vec(lo..=hi, m * n),
        )
    })
}

proptest! {
    #![proptest_config(cases(200))]

    /// Lemke–Howson ends in an exact Nash equilibrium (regret ≤ 1e-9 of the range), also on
    /// degenerate games with many ties (payoffs in 0..=2).
    #[test]
    fn lemke_howson_finds_an_equilibrium((m, n, a, b) in matrix(7, -100, 100), (m2, n2, a2, b2) in matrix(5, 0, 2)) {
        for (m, n, a, b) in [(m, n, a, b), (m2, n2, a2, b2)] {
            let g = BimatrixGame { rows: m, cols: n, row_payoffs: a, col_payoffs: b };
            let s = solve_bimatrix(&g, &SolverLimits::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(relative_regret(&g, &s.row, &s.col) <= 1e-9);
            prop_assert!((s.row.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            prop_assert!(s.row.iter().chain(&s.col).all(|&p| p >= 0.0));
        }
    }

    /// The zero-sum LP gives optimal strategies: exploitability ≤ 1e-9 of the range, and the value
    /// lies between what each strategy guarantees.
    #[test]
    fn zero_sum_strategies_are_optimal((m, n, a, _) in matrix(8, -1000, 1000)) {
        let g = MatrixGame { rows: m, cols: n, payoffs: a };
        let s = solve_zero_sum(&g, &SolverLimits::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let p = StrategyProfile { challenge: ChallengeId(0), strategies: vec![s.row.clone(), s.col.clone()] };
        let v = nash::verify::verify_zero_sum(&g, &p, &Config::default());
        prop_assert_eq!(v.quality, 1.0, "{:?}", v);
        let guarantee = (0..n).map(|j| (0..m).map(|i| s.row[i] * g.at(i, j) as f64).sum::<f64>()).fold(f64::INFINITY, f64::min);
        prop_assert!(guarantee <= s.value + 1e-6 && s.value <= guarantee + 1e-6);
    }
}

// ---------------------------------------------------------------- markets

fn piecewise(side: Side) -> impl Strategy<Value = (Quantity, Valuation)> {
    prop::collection::vec((1u64..60, 1u64..400), 1..4).prop_map(move |mut segs| {
        // Sort marginal prices so buyers are concave and suppliers convex.
        segs.sort_by_key(|&(_, p)| p);
        if side == Side::Buy {
            segs.reverse();
        }
        let q = segs.iter().map(|s| s.0).sum();
        let segments = segs
            .into_iter()
            .map(|(q, p)| Segment {
                quantity: Quantity(q),
                price: Price(p),
            })
            .collect();
        (Quantity(q), Valuation::Piecewise { segments })
    })
}

fn intent(id: u64, party: u32, side: Side, (quantity, valuation): (Quantity, Valuation)) -> Intent {
    Intent {
        quantity,
        valuation,
        ..Intent::limit(id, party, side, ResourceKind::GPU_HOURS, quantity, Price(0))
    }
}

/// Coalition answers with wrong lengths, overlapping, empty or out-of-range masks and extreme
/// payoffs (as well as, by chance, valid ones).
fn garbage_coalitions() -> impl Strategy<Value = CoalitionAnswer> {
    let mask = prop_oneof![1u32..16, 0u32..70_000, any::<u32>()];
    let payoff = prop_oneof![-50i64..150, Just(i64::MIN), Just(i64::MAX), any::<i64>()];
    // Generated easy games have 4 players: right-length answers reach the economic checks.
    (
        prop_oneof![
            prop::collection::vec(mask.clone(), 1..5),
            prop::collection::vec(mask, 0..20)
        ],
        prop_oneof![
            prop::collection::vec(payoff.clone(), 4),
            prop::collection::vec(payoff, 0..20)
        ],
    )
        .prop_map(|(structure, payoffs)| CoalitionAnswer {
            challenge: ChallengeId(0),
            structure,
            payoffs,
        })
}

proptest! {
    #![proptest_config(cases(300))]

    /// The swap closed form equals brute force over every admissible quantity.
    #[test]
    fn swap_closed_form_matches_brute_force(
        b in piecewise(Side::Buy), s in piecewise(Side::Sell),
        lot_b in 1u64..8, lot_s in 1u64..8, min_b in 0u64..40, min_s in 0u64..40,
    ) {
        let mut buyer = intent(1, 1, Side::Buy, b);
        let mut seller = intent(2, 2, Side::Sell, s);
        buyer.lot = Quantity(lot_b.min(buyer.quantity.0));
        seller.lot = Quantity(lot_s.min(seller.quantity.0));
        buyer.min_fill = Quantity(min_b.min(buyer.quantity.0));
        seller.min_fill = Quantity(min_s.min(seller.quantity.0));
        prop_assume!(buyer.validate().is_ok() && seller.validate().is_ok());
        let m = MarketInstance { intents: vec![buyer.clone(), seller.clone()] };
        let config = Config::default();
        let settled = solve_swap(ChallengeId(1), &m, &config.settlement).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let v = evaluate_market(ProblemClass::ConstrainedSwap, &m, &settled, None, &config);
        prop_assert!(v.is_valid(), "{:?}", v.violations);
        let Metrics::Market(mm) = v.metrics else { unreachable!() };
        let mut best = Money::ZERO;
        for q in 0..=buyer.quantity.0.min(seller.quantity.0) {
            let q = Quantity(q);
            if buyer.admits(q) && seller.admits(q) {
                let w = buyer.worth(q) - seller.worth(q);
                // A trade needs a grid price both sides accept.
                let fits = q.0 == 0 || nash::solve::swap::bargaining_price(&buyer, &seller, q, 500_000).is_some();
                if w > best && fits { best = w; }
            }
        }
        prop_assert_eq!(mm.welfare, best);
    }

    /// On a divisible pair, the LP clearing and the closed form reach the same (exact) welfare,
    /// and the LP prices leave nobody wanting to deviate.
    #[test]
    fn clearing_matches_closed_form_on_pairs(b in piecewise(Side::Buy), s in piecewise(Side::Sell), d in piecewise(Side::Defer)) {
        let config = Config::default();
        let pair = MarketInstance { intents: vec![intent(1, 1, Side::Buy, b.clone()), intent(2, 2, Side::Sell, s.clone())] };
        let swap = solve_swap(ChallengeId(1), &pair, &config.settlement).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let lp = solve_clearing(ChallengeId(1), ProblemClass::ThreeParty, &pair, &config.solver).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let w = |s: &Settlement, class| match evaluate_market(class, &pair, s, None, &config).metrics {
            Metrics::Market(m) => m.welfare,
            _ => Money(i128::MIN),
        };
        prop_assert_eq!(w(&swap, ProblemClass::ConstrainedSwap), w(&lp, ProblemClass::ConstrainedSwap));
        let three = MarketInstance { intents: vec![intent(1, 1, Side::Buy, b), intent(2, 2, Side::Sell, s), intent(3, 3, Side::Defer, d)] };
        let lp = solve_clearing(ChallengeId(1), ProblemClass::ThreeParty, &three, &config.solver).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let v = evaluate_market(ProblemClass::ThreeParty, &three, &lp, None, &config);
        prop_assert!(v.is_valid(), "{:?}", v.violations);
        let Metrics::Market(mm) = v.metrics else { unreachable!() };
        prop_assert!(mm.max_deviation_gain.0 <= 1, "{:?}", mm);
    }
}

// ---------------------------------------------------------------- determinism and encoding

fn class() -> impl Strategy<Value = ProblemClass> {
    prop::sample::select(ProblemClass::ALL.to_vec())
}

proptest! {
    #![proptest_config(cases(100))]

    /// A seed names one challenge: same seed, same bytes; JSON round trips keep the hash; the
    /// order of intents does not change it.
    #[test]
    fn generation_is_deterministic_and_hashes_are_canonical(c in class(), seed in any::<u64>(), density in 0u8..=100) {
        let d = Difficulty { density, ..Difficulty::easy() };
        let a = challenge(c, seed, &d);
        let b = challenge(c, seed, &d);
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(a.hash(), b.hash());
        prop_assert_ne!(a.hash(), challenge(c, seed.wrapping_add(1), &d).hash());
        let json = serde_json::to_string(&a).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back = nash::Challenge::from_json(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back.hash(), a.hash());
        let mut shuffled = a.clone();
        if let Problem::Market(m) = &mut shuffled.problem {
            m.intents.reverse();
            let k = seed as usize % m.intents.len().max(1);
            m.intents.rotate_left(k);
        }
        prop_assert_eq!(shuffled.hash(), a.hash());
    }
}

// ---------------------------------------------------------------- the verifier never panics

fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(-0.0),
        Just(f64::MAX),
        Just(f64::MIN_POSITIVE),
        0.0f64..1.0,
        -1.0f64..2.0,
        any::<f64>(),
    ]
}

fn garbage_settlement() -> impl Strategy<Value = Settlement> {
    let id = prop_oneof![0u64..20, any::<u64>()];
    let fill = (
        id.clone(),
        id.clone(),
        prop_oneof![0u16..5, any::<u16>()],
        prop_oneof![0u32..30, any::<u32>()],
        prop_oneof![0u64..1_000_000_000, any::<u64>()],
    )
        .prop_map(|(s, b, r, slot, q)| Fill {
            seller: IntentId(s),
            buyer: IntentId(b),
            resource: ResourceKind(r),
            slot,
            quantity: Quantity(q),
        });
    let price = (id, prop_oneof![0u64..10_000_000, any::<u64>()]).prop_map(|(i, p)| PostedPrice {
        intent: IntentId(i),
        price: Price(p),
    });
    (
        prop_oneof![Just(0u64), any::<u64>()],
        prop::collection::vec(fill, 0..12),
        prop::collection::vec(price, 0..12),
    )
        .prop_map(|(c, fills, prices)| Settlement {
            challenge: ChallengeId(c),
            fills,
            prices,
        })
}

proptest! {
    #![proptest_config(cases(300))]

    /// Arbitrary settlements, strategy profiles and coalition answers (NaN, negative, huge, wrong
    /// ids, wrong lengths, overlapping masks, wrong challenge) against every class: always a verdict, Q in [0, 1], Q = 0 with violations.
    #[test]
    fn verifier_never_panics(
        c in class(), seed in 0u64..50,
        mut s in garbage_settlement(),
        strategies in prop::collection::vec(prop::collection::vec(any_f64(), 0..6), 0..4),
        right_id in any::<bool>(),
        mut coalitions in garbage_coalitions(),
    ) {
        let ch = challenge(c, seed, &Difficulty::easy());
        if right_id { s.challenge = ch.id; coalitions.challenge = ch.id; }
        let config = Config::default();
        let reference = nash::solve::reference(&ch, &config).ok();
        for answer in [
            Answer::Settlement(s.clone()),
            Answer::Strategies(StrategyProfile { challenge: if right_id { ch.id } else { s.challenge }, strategies: strategies.clone() }),
            Answer::Coalitions(coalitions.clone()),
        ] {
            let v = verify(&ch, &answer, reference.as_ref(), &config);
            prop_assert!((0.0..=1.0).contains(&v.quality));
            if !v.violations.is_empty() { prop_assert_eq!(v.quality, 0.0); }
            // Verdicts serialise (they are published).
            prop_assert!(serde_json::to_string(&v).is_ok());
        }
        // Garbage as the reference must not break verification of a good answer either.
        if let Some(good) = &reference {
            let v = verify(&ch, good, Some(&Answer::Settlement(s)), &config);
            prop_assert!((0.0..=1.0).contains(&v.quality));
            let v = verify(&ch, good, Some(&Answer::Coalitions(coalitions)), &config);
            prop_assert!((0.0..=1.0).contains(&v.quality));
        }
    }
}
