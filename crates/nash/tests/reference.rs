//! Every reference answer verifies with Q = 1, and perturbed answers are caught.

use nash::challenge::{Challenge, Problem};
use nash::class::ProblemClass;
use nash::config::Config;
use nash::generate::{Difficulty, challenge};
use nash::settlement::{Answer, Settlement};
use nash::solve::reference;
use nash::units::{ChallengeId, IntentId, PartyId, Price, Quantity};
use nash::verify::{Metrics, Verdict, Violation, verify};

const SOLVED: [ProblemClass; 7] = [
    ProblemClass::SimpleSwap,
    ProblemClass::ConstrainedSwap,
    ProblemClass::ThreeParty,
    ProblemClass::ResourceTriangle,
    ProblemClass::ZeroSumGame,
    ProblemClass::GeneralGame,
    ProblemClass::CoalitionFormation,
];

fn difficulties() -> [Difficulty; 3] {
    [
        Difficulty::easy(),
        Difficulty {
            parties: 2,
            ..Difficulty::hard()
        },
        Difficulty {
            parties: 16,
            resources: 4,
            actions: 8,
            density: 50,
            indivisible: 0,
        },
    ]
}

fn settlement(a: &Answer) -> Settlement {
    match a {
        Answer::Settlement(s) => s.clone(),
        other => panic!("expected a settlement, got {other:?}"),
    }
}

fn market_metrics(v: &Verdict) -> nash::verify::MarketMetrics {
    match &v.metrics {
        Metrics::Market(m) => m.clone(),
        other => panic!("expected market metrics, got {other:?}"),
    }
}

#[test]
fn reference_answers_verify_with_quality_one() {
    let config = Config::default();
    let mut checked = 0;
    for class in SOLVED {
        for d in difficulties() {
            for seed in 0..25 {
                let c = challenge(class, seed, &d);
                let answer = reference(&c, &config).expect("reference solves");
                let v = verify(&c, &answer, Some(&answer), &config);
                assert!(v.is_valid(), "{class:?} seed {seed}: {:?}", v.violations);
                assert_eq!(v.quality, 1.0, "{class:?} seed {seed}: {v:?}");
                if matches!(
                    class,
                    ProblemClass::ThreeParty | ProblemClass::ResourceTriangle
                ) {
                    // Competitive prices from the duals: nobody gains by deviating.
                    let m = market_metrics(&v);
                    assert!(m.stable, "{class:?} seed {seed}: {m:?}");
                    assert_eq!(m.budget_surplus.0, 0, "{class:?} seed {seed}");
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 7 * 3 * 25);
}

#[test]
fn three_player_games_have_a_verified_reference() {
    let config = Config::default();
    let d = Difficulty {
        parties: 3,
        actions: 3,
        ..Difficulty::easy()
    };
    for seed in 0..25 {
        let c = challenge(ProblemClass::GeneralGame, seed, &d);
        assert!(matches!(c.problem, Problem::ThreePlayer(_)));
        let answer = reference(&c, &config).expect("reference solves");
        let v = verify(&c, &answer, Some(&answer), &config);
        assert_eq!(v.quality, 1.0, "seed {seed}: {v:?}");
    }
}

/// A triangle challenge whose reference trades on at least two fills.
fn busy_triangle() -> (Challenge, Settlement) {
    let config = Config::default();
    for seed in 0.. {
        let c = challenge(ProblemClass::ResourceTriangle, seed, &Difficulty::easy());
        let s = settlement(&reference(&c, &config).expect("solves"));
        if s.fills.len() >= 2 {
            return (c, s);
        }
    }
    unreachable!()
}

fn verify_settlement(c: &Challenge, s: &Settlement, r: &Settlement) -> Verdict {
    verify(
        c,
        &Answer::Settlement(s.clone()),
        Some(&Answer::Settlement(r.clone())),
        &Config::default(),
    )
}

#[test]
fn perturbed_settlements_are_caught() {
    let (c, r) = busy_triangle();
    let Problem::Market(m) = &c.problem else {
        unreachable!()
    };

    // Dropping a fill loses welfare: a positive gap and Q < 1.
    let mut s = r.clone();
    s.fills.remove(0);
    let v = verify_settlement(&c, &s, &r);
    assert!(v.is_valid(), "{:?}", v.violations);
    assert!(v.gap.expect("gap") > 0.0 && v.quality < 1.0, "{v:?}");

    // Over-filling a supplier.
    let mut s = r.clone();
    let seller = m.intent(s.fills[0].seller).expect("exists").clone();
    s.fills[0].quantity = Quantity(seller.quantity.0 + 1);
    let v = verify_settlement(&c, &s, &r);
    assert!(
        v.violations
            .iter()
            .any(|x| matches!(x, Violation::OverFilled { .. })),
        "{v:?}"
    );
    assert_eq!(v.quality, 0.0);

    // A slot outside the windows.
    let mut s = r.clone();
    s.fills[0].slot = 10_000;
    let v = verify_settlement(&c, &s, &r);
    assert!(
        v.violations
            .iter()
            .any(|x| matches!(x, Violation::SlotOutsideWindow { .. }))
    );

    // Swapping buyer and seller.
    let mut s = r.clone();
    let f = s.fills[0];
    s.fills[0].seller = f.buyer;
    s.fills[0].buyer = f.seller;
    let v = verify_settlement(&c, &s, &r);
    assert!(
        v.violations
            .iter()
            .any(|x| matches!(x, Violation::WrongSide { .. }))
    );

    // A buyer priced below its seller creates money; a buyer priced above its value is not IR.
    let mut s = r.clone();
    let buyer = s.fills[0].buyer;
    let seller = s.fills[0].seller;
    for p in &mut s.prices {
        if p.intent == buyer {
            p.price = Price(0);
        }
    }
    let v = verify_settlement(&c, &s, &r);
    assert!(
        v.violations
            .iter()
            .any(|x| matches!(x, Violation::BudgetDeficit { .. })),
        "{v:?}"
    );
    let mut s = r.clone();
    for p in &mut s.prices {
        if p.intent == buyer || p.intent == seller {
            p.price = Price::MAX_VALID;
        }
    }
    let v = verify_settlement(&c, &s, &r);
    assert!(
        v.violations.iter().any(
            |x| matches!(x, Violation::NotIndividuallyRational { intent, .. } if *intent == buyer)
        ),
        "{v:?}"
    );

    // Missing prices, unknown intents, wrong challenge.
    let mut s = r.clone();
    s.prices.clear();
    let v = verify_settlement(&c, &s, &r);
    assert!(
        v.violations
            .iter()
            .any(|x| matches!(x, Violation::MissingPrice { .. }))
    );
    let mut s = r.clone();
    s.fills[0].buyer = IntentId(9_999_999);
    let v = verify_settlement(&c, &s, &r);
    assert!(
        v.violations
            .iter()
            .any(|x| matches!(x, Violation::UnknownIntent { .. }))
    );
    let mut s = r.clone();
    s.challenge = ChallengeId(c.id.0 + 1);
    let v = verify_settlement(&c, &s, &r);
    assert!(matches!(
        v.violations[..],
        [Violation::WrongChallenge { .. }]
    ));

    // Moving every price off the equilibrium makes someone want to deviate.
    let mut s = r.clone();
    for p in &mut s.prices {
        p.price = Price(p.price.0 / 2);
    }
    let v = verify_settlement(&c, &s, &r);
    assert!(!market_metrics(&v).stable);
}

#[test]
fn perturbed_swaps_are_caught() {
    let config = Config::default();
    let mut seed = 0;
    let (c, r) = loop {
        let c = challenge(ProblemClass::ConstrainedSwap, seed, &Difficulty::hard());
        let s = settlement(&reference(&c, &config).expect("solves"));
        let Problem::Market(m) = &c.problem else {
            unreachable!()
        };
        let lots = m.intents.iter().any(|i| i.lot.0 > 1 || i.min_fill.0 > 0);
        if !s.fills.is_empty() && lots && m.intents.iter().all(|i| i.counterparties.is_empty()) {
            break (c, s);
        }
        seed += 1;
    };
    let Problem::Market(m) = &c.problem else {
        unreachable!()
    };
    // A price one cent off the bargaining split.
    let mut s = r.clone();
    for p in &mut s.prices {
        p.price = Price(p.price.0 + 10_000);
    }
    let v = verify_settlement(&c, &s, &r);
    assert!(
        v.violations
            .iter()
            .any(|x| matches!(x, Violation::PriceNotBargained { .. })),
        "{v:?}"
    );
    // One micro-unit less breaks the lot or min-fill rule of a constrained intent.
    let mut s = r.clone();
    s.fills[0].quantity = Quantity(s.fills[0].quantity.0 - 1);
    let v = verify_settlement(&c, &s, &r);
    assert!(
        v.violations.iter().any(|x| matches!(
            x,
            Violation::NotALotMultiple { .. }
                | Violation::BelowMinFill { .. }
                | Violation::PriceNotBargained { .. }
        )),
        "{v:?} {m:?}"
    );
    // A fill with a party the buyer does not allow.
    let mut c2 = c.clone();
    if let Problem::Market(m2) = &mut c2.problem {
        m2.intents.iter_mut().for_each(|i| {
            if i.side == nash::intent::Side::Buy {
                i.counterparties = vec![PartyId(u32::MAX)];
            }
        });
        c2.parties.sort();
    }
    let v = verify_settlement(&c2, &r, &r);
    assert!(
        v.violations
            .iter()
            .any(|x| matches!(x, Violation::CounterpartyNotAllowed { .. })),
        "{v:?}"
    );
}

#[test]
fn off_equilibrium_strategies_lose_quality() {
    let config = Config::default();
    for class in [ProblemClass::ZeroSumGame, ProblemClass::GeneralGame] {
        let mut caught = 0;
        for seed in 0..20 {
            let c = challenge(class, seed, &Difficulty::easy());
            let Answer::Strategies(mut p) = reference(&c, &config).expect("solves") else {
                unreachable!()
            };
            // Shift 10 % of the row player's mass to action 0.
            for x in &mut p.strategies[0] {
                *x *= 0.9;
            }
            p.strategies[0][0] += 0.1;
            let v = verify(&c, &Answer::Strategies(p), None, &config);
            assert!(v.is_valid());
            if v.quality < 1.0 {
                caught += 1;
            }
        }
        // A pure-strategy equilibrium on action 0 is unchanged by the shift; most are not.
        assert!(caught >= 10, "{class:?}: only {caught} caught");
    }
}

#[test]
fn answer_of_the_wrong_type_or_class_is_rejected() {
    let config = Config::default();
    let game = challenge(ProblemClass::ZeroSumGame, 1, &Difficulty::easy());
    let market = challenge(ProblemClass::SimpleSwap, 1, &Difficulty::easy());
    let s = reference(&market, &config).expect("solves");
    let mut s = settlement(&s);
    s.challenge = game.id;
    let v = verify(&game, &Answer::Settlement(s), None, &config);
    assert!(matches!(
        v.violations[..],
        [Violation::WrongAnswerType { .. }]
    ));
    // Strategies for a coalition game, and a coalition answer for a game.
    let coalition = challenge(ProblemClass::CoalitionFormation, 1, &Difficulty::easy());
    let p = nash::settlement::StrategyProfile {
        challenge: coalition.id,
        strategies: vec![],
    };
    let v = verify(&coalition, &Answer::Strategies(p), None, &config);
    assert!(matches!(
        v.violations[..],
        [Violation::WrongAnswerType { .. }]
    ));
    let Answer::Coalitions(mut a) = reference(&coalition, &config).expect("solves") else {
        panic!("coalition answer")
    };
    a.challenge = game.id;
    let v = verify(&game, &Answer::Coalitions(a), None, &config);
    assert!(matches!(
        v.violations[..],
        [Violation::WrongAnswerType { .. }]
    ));
}
