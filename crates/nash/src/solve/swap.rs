//! Bilateral swaps (simple and constrained): exact, in integers.
//!
//! Welfare `W(q) = V_buyer(q) − C_seller(q)` is concave and piecewise linear, so its maximum over
//! the admissible totals — zero, or the multiples of `lcm(lots)` between the larger minimum fill
//! and the smaller quantity — is next to one of its kinks. The price is the generalised Nash
//! bargaining split: the seller is paid its cost plus a share `k` of the surplus,
//! `P = C(q) + k·(V(q) − C(q))`, posted as the unit price `P / q` rounded to the price grid and
//! kept inside both parties' individually rational range.
//!
//! Known limit: with lots, if the welfare-maximising total leaves less than one price tick
//! (10⁻⁶) of surplus per unit *and* no grid price lies between the average cost and the average
//! value, the solver reports no trade rather than searching smaller totals. Without lots this
//! cannot happen (the marginal unit's value and cost bracket a grid price).

use crate::class::MarketInstance;
use crate::config::SettlementRules;
use crate::error::{InstanceError, SolveError};
use crate::intent::{Intent, Side, maximise_concave_on_lattice};
use crate::settlement::{Fill, PostedPrice, Settlement};
use crate::units::{ChallengeId, Money, Price, Quantity};

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// The two intents of a swap, buyer first.
pub(crate) fn swap_parties(m: &MarketInstance) -> Option<(&Intent, &Intent)> {
    let buyer = m.intents.iter().find(|i| i.side == Side::Buy)?;
    let seller = m.intents.iter().find(|i| i.side.supplies())?;
    Some((buyer, seller))
}

/// The first slot both may trade in, if they may trade at all.
pub(crate) fn trade_slot(buyer: &Intent, seller: &Intent) -> Option<u32> {
    let compatible = buyer.party != seller.party
        && buyer.resource == seller.resource
        && buyer.allows(seller.party)
        && seller.allows(buyer.party);
    if !compatible {
        return None;
    }
    buyer.window.overlap(&seller.window).map(|w| w.start)
}

/// The bargaining unit price for a trade of `q` (positive), or `None` if no grid price leaves both
/// sides individually rational.
#[must_use]
pub fn bargaining_price(buyer: &Intent, seller: &Intent, q: Quantity, k_ppm: u32) -> Option<Price> {
    if q.0 == 0 {
        return None;
    }
    let value = buyer.worth(q).0;
    let cost = seller.worth(q).0;
    if value < cost {
        return None;
    }
    let k = i128::from(k_ppm.min(1_000_000));
    let payment = cost + (value - cost) * k / 1_000_000;
    let qq = i128::from(q.0);
    let nearest = (payment + qq / 2) / qq;
    // Individually rational grid prices: ceil(cost / q) ..= floor(value / q).
    let lo = (cost + qq - 1) / qq;
    let hi = value / qq;
    if lo > hi {
        return None;
    }
    let p = nearest.clamp(lo, hi);
    u64::try_from(p).ok().map(Price)
}

/// The welfare-maximising admissible total for a buyer–seller pair that may trade in `slot`, and
/// its welfare; `(0, 0)` when no positive trade gains.
pub(crate) fn best_swap_quantity(buyer: &Intent, seller: &Intent) -> (Quantity, Money) {
    let (lb, ls) = (buyer.lot.0.max(1), seller.lot.0.max(1));
    let Some(lot) = (lb / gcd(lb, ls)).checked_mul(ls) else {
        return (Quantity::ZERO, Money::ZERO);
    };
    let min = buyer.min_fill.0.max(seller.min_fill.0).max(lot);
    let Some(lo) = min.div_ceil(lot).checked_mul(lot) else {
        return (Quantity::ZERO, Money::ZERO);
    };
    let hi = (buyer.quantity.0.min(seller.quantity.0) / lot) * lot;
    if lo > hi {
        return (Quantity::ZERO, Money::ZERO);
    }
    let f = |q: u64| (buyer.worth(Quantity(q)) - seller.worth(Quantity(q))).0;
    let mut kinks = buyer.breakpoints();
    kinks.extend(seller.breakpoints());
    kinks.sort_unstable();
    let (q, w) = maximise_concave_on_lattice(&f, &kinks, lo, hi, lot);
    if w > 0 {
        (Quantity(q), Money(w))
    } else {
        (Quantity::ZERO, Money::ZERO)
    }
}

/// The reference settlement of a simple or constrained swap.
pub fn solve_swap(
    challenge: ChallengeId,
    market: &MarketInstance,
    rules: &SettlementRules,
) -> Result<Settlement, SolveError> {
    market.validate(crate::class::ProblemClass::ConstrainedSwap)?;
    let (buyer, seller) = swap_parties(market).ok_or_else(|| {
        SolveError::Instance(InstanceError::ClassShape {
            class: crate::class::ProblemClass::ConstrainedSwap,
            reason: "intents: a swap needs one buy and one sell intent".into(),
        })
    })?;
    let empty = Settlement {
        challenge,
        fills: Vec::new(),
        prices: Vec::new(),
    };
    let Some(slot) = trade_slot(buyer, seller) else {
        return Ok(empty);
    };
    let (q, _) = best_swap_quantity(buyer, seller);
    if q.0 == 0 {
        return Ok(empty);
    }
    let Some(price) = bargaining_price(buyer, seller, q, rules.bargaining_k_ppm) else {
        return Ok(empty);
    };
    Ok(Settlement {
        challenge,
        fills: vec![Fill {
            seller: seller.id,
            buyer: buyer.id,
            resource: buyer.resource,
            slot,
            quantity: q,
        }],
        prices: vec![
            PostedPrice {
                intent: buyer.id,
                price,
            },
            PostedPrice {
                intent: seller.id,
                price,
            },
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intent::{Segment, Valuation, Window};
    use crate::units::{PartyId, ResourceKind};

    fn pair(buy: u64, sell: u64, qb: u64, qs: u64) -> MarketInstance {
        MarketInstance {
            intents: vec![
                Intent::limit(
                    1,
                    64,
                    Side::Buy,
                    ResourceKind::GPU_HOURS,
                    Quantity::units(qb),
                    Price(buy),
                ),
                Intent::limit(
                    2,
                    27,
                    Side::Sell,
                    ResourceKind::GPU_HOURS,
                    Quantity::units(qs),
                    Price(sell),
                ),
            ],
        }
    }

    #[test]
    fn seed_example_splits_the_surplus_evenly() {
        // SN64 needs 200 at ≤ 1.80, SN27 has 500 at ≥ 1.30: 200 @ 1.55 with k = ½.
        let m = pair(1_800_000, 1_300_000, 200, 500);
        let s = solve_swap(ChallengeId(1), &m, &SettlementRules::default()).expect("solves");
        assert_eq!(s.fills.len(), 1);
        assert_eq!(s.fills[0].quantity, Quantity::units(200));
        assert_eq!(s.price_of(m.intents[0].id), Some(Price::new(1, 550_000)));
        assert_eq!(s.price_of(m.intents[1].id), Some(Price::new(1, 550_000)));
        // k = ¼: the seller gets a quarter of the 0.50 surplus per unit.
        let rules = SettlementRules {
            bargaining_k_ppm: 250_000,
            ..SettlementRules::default()
        };
        let s = solve_swap(ChallengeId(1), &m, &rules).expect("solves");
        assert_eq!(s.prices[0].price, Price::new(1, 425_000));
    }

    #[test]
    fn no_gain_no_trade() {
        let m = pair(1_000_000, 1_300_000, 200, 500);
        let s = solve_swap(ChallengeId(1), &m, &SettlementRules::default()).expect("solves");
        assert!(s.fills.is_empty());
        let m = pair(1_300_000, 1_300_000, 200, 500);
        assert!(
            solve_swap(ChallengeId(1), &m, &SettlementRules::default())
                .expect("solves")
                .fills
                .is_empty()
        );
    }

    #[test]
    fn constraints_shape_the_quantity() {
        let mut m = pair(2_000_000, 1_000_000, 200, 500);
        // Piecewise buyer: first 120 at 2.0, next 80 at 0.5 (below cost): trade 120.
        m.intents[0].valuation = Valuation::Piecewise {
            segments: vec![
                Segment {
                    quantity: Quantity::units(120),
                    price: Price::new(2, 0),
                },
                Segment {
                    quantity: Quantity::units(80),
                    price: Price::new(0, 500_000),
                },
            ],
        };
        let (q, w) = best_swap_quantity(&m.intents[0], &m.intents[1]);
        assert_eq!(
            (q, w),
            (Quantity::units(120), Money(120 * 1_000_000 * 1_000_000))
        );
        // Seller sells in lots of 50: 100 (welfare 100) beats 150 (120 − 30·0.5 = 105)? 105 wins.
        m.intents[1].lot = Quantity::units(50);
        let (q, _) = best_swap_quantity(&m.intents[0], &m.intents[1]);
        assert_eq!(q, Quantity::units(150));
        // Seller all-or-nothing 500 exceeds the buyer's 200: no trade.
        m.intents[1].lot = Quantity::EPSILON;
        m.intents[1].min_fill = Quantity::units(500);
        assert_eq!(
            best_swap_quantity(&m.intents[0], &m.intents[1]).0,
            Quantity::ZERO
        );
        // Disjoint windows or a counterparty list without the other side: no trade.
        let mut w = pair(2_000_000, 1_000_000, 200, 500);
        w.intents[1].window = Window { start: 5, end: 9 };
        assert!(
            solve_swap(ChallengeId(1), &w, &SettlementRules::default())
                .expect("ok")
                .fills
                .is_empty()
        );
        let mut c = pair(2_000_000, 1_000_000, 200, 500);
        c.intents[0].counterparties = vec![PartyId(99)];
        assert!(
            solve_swap(ChallengeId(1), &c, &SettlementRules::default())
                .expect("ok")
                .fills
                .is_empty()
        );
    }

    #[test]
    fn bargaining_price_stays_individually_rational() {
        let m = pair(1_000_001, 1_000_000, 1, 1);
        let p = bargaining_price(&m.intents[0], &m.intents[1], Quantity::units(1), 500_000)
            .expect("a grid price exists");
        assert!(p >= Price(1_000_000) && p <= Price(1_000_001));
        // Average value 1.9 and average cost 1.1 ticks per micro-unit: no grid price in between.
        let piecewise = |side, first: u64, rest: u64| Intent {
            valuation: Valuation::Piecewise {
                segments: vec![
                    Segment {
                        quantity: Quantity(9),
                        price: Price(first),
                    },
                    Segment {
                        quantity: Quantity(1),
                        price: Price(rest),
                    },
                ],
            },
            ..Intent::limit(1, 1, side, ResourceKind::GPU_HOURS, Quantity(10), Price(1))
        };
        let a = piecewise(Side::Buy, 2, 1);
        let mut b = piecewise(Side::Sell, 1, 2);
        b.id = crate::units::IntentId(2);
        b.party = PartyId(2);
        assert_eq!(a.validate(), Ok(()));
        assert_eq!(b.validate(), Ok(()));
        assert_eq!(bargaining_price(&a, &b, Quantity(10), 500_000), None);
    }
}
