//! Intents: what a party wants to buy, sell or defer, and what it is worth to it.
//!
//! Utilities are quasi-linear: a buyer's utility is `value(q) − payment`, a seller's or
//! deferrer's is `payment − cost(q)`. A valuation is a limit price (linear) or a piecewise-linear
//! schedule of marginal prices: non-increasing for buyers (concave value), non-decreasing for
//! sellers and deferrers (convex cost). A deferring party supplies capacity it had reserved for
//! itself; its schedule is the compensation it needs per unit.
//!
//! # JSON
//!
//! Quantities are integers in micro-units (10⁻⁶ of a resource unit), prices integers in
//! micro-money per unit. `counterparties` empty (or absent) means "anyone". `window` is a
//! half-open range of slots `[start, end)`.
//!
//! ```json
//! {
//!   "id": 7,
//!   "party": 64,
//!   "side": "buy",
//!   "resource": 0,
//!   "quantity": 200000000,
//!   "min_fill": 50000000,
//!   "lot": 1000000,
//!   "valuation": { "kind": "piecewise", "segments": [
//!       { "quantity": 100000000, "price": 1800000 },
//!       { "quantity": 100000000, "price": 1500000 } ] },
//!   "window": { "start": 0, "end": 24 },
//!   "counterparties": [27, 12]
//! }
//! ```
//!
//! A limit price is `"valuation": { "kind": "limit", "price": 1800000 }`. An optional
//! `"bundle": 3` makes the intent a leg of bundle 3 (all legs filled in full, or none).

use crate::canonical::{Canonical, Writer};
use crate::error::IntentError;
use crate::units::{BundleId, IntentId, Money, PartyId, Price, Quantity, ResourceKind};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What the intent does with the resource.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Acquire the resource; the valuation is the value to the party.
    Buy,
    /// Provide the resource; the valuation is the party's cost.
    Sell,
    /// Release capacity the party had reserved for its own use; the valuation is the compensation
    /// it needs. Economically a supplier.
    Defer,
}

impl Side {
    /// Whether the intent supplies the resource (sell or defer).
    #[must_use]
    pub fn supplies(self) -> bool {
        !matches!(self, Side::Buy)
    }

    fn tag(self) -> u8 {
        match self {
            Side::Buy => 0,
            Side::Sell => 1,
            Side::Defer => 2,
        }
    }
}

/// One linear piece of a valuation: `quantity` more units at marginal `price` each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Segment {
    /// Length of the piece.
    pub quantity: Quantity,
    /// Marginal value (buyer) or marginal cost (supplier) per unit on this piece.
    pub price: Price,
}

/// Value (buyers) or cost (suppliers) of a fill.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Valuation {
    /// The same marginal price for the whole quantity.
    Limit {
        /// Highest price a buyer pays / lowest a supplier accepts, per unit.
        price: Price,
    },
    /// Consecutive pieces covering exactly the intent's quantity.
    Piecewise {
        /// The pieces, in order of increasing fill.
        segments: Vec<Segment>,
    },
}

/// A half-open range of delivery slots `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Window {
    /// First slot.
    pub start: u32,
    /// One past the last slot.
    pub end: u32,
}

impl Window {
    /// Whether `slot` lies in the window.
    #[must_use]
    pub fn contains(&self, slot: u32) -> bool {
        self.start <= slot && slot < self.end
    }

    /// The common part of two windows, if any.
    #[must_use]
    pub fn overlap(&self, other: &Window) -> Option<Window> {
        let start = self.start.max(other.start);
        let end = self.end.min(other.end);
        (start < end).then_some(Window { start, end })
    }
}

/// A party's offer to trade one resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Intent {
    /// Unique within the challenge.
    pub id: IntentId,
    /// The party that signed it.
    pub party: PartyId,
    /// Buy, sell or defer.
    pub side: Side,
    /// The resource.
    pub resource: ResourceKind,
    /// Most the party will trade in total.
    pub quantity: Quantity,
    /// If filled at all, at least this much (equal to `quantity` for all-or-nothing).
    #[serde(default)]
    pub min_fill: Quantity,
    /// The total fill must be a multiple of this (one micro-unit for divisible).
    #[serde(default = "one_micro")]
    pub lot: Quantity,
    /// Value or cost schedule.
    pub valuation: Valuation,
    /// Slots in which delivery may happen.
    pub window: Window,
    /// Parties the intent may trade with; empty means anyone.
    #[serde(default)]
    pub counterparties: Vec<PartyId>,
    /// The bundle this intent is a leg of, if any: all legs of a bundle belong to one party and
    /// are filled together at their full quantities, or not at all; the party accepts a loss on
    /// one leg if the bundle as a whole is worth it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle: Option<BundleId>,
}

fn one_micro() -> Quantity {
    Quantity::EPSILON
}

impl Intent {
    /// A divisible intent with a limit price, any counterparty, window `[0, 1)`.
    #[must_use]
    pub fn limit(
        id: u64,
        party: u32,
        side: Side,
        resource: ResourceKind,
        quantity: Quantity,
        price: Price,
    ) -> Self {
        Self {
            id: IntentId(id),
            party: PartyId(party),
            side,
            resource,
            quantity,
            min_fill: Quantity::ZERO,
            lot: Quantity::EPSILON,
            valuation: Valuation::Limit { price },
            window: Window { start: 0, end: 1 },
            counterparties: Vec::new(),
            bundle: None,
        }
    }

    /// Checks every field; the error names the first one that is wrong.
    pub fn validate(&self) -> Result<(), IntentError> {
        let intent = self.id;
        let quantity = self.quantity;
        if quantity == Quantity::ZERO {
            return Err(IntentError::ZeroQuantity { intent });
        }
        if !quantity.is_valid() {
            return Err(IntentError::QuantityTooLarge { intent, quantity });
        }
        if self.min_fill > quantity {
            return Err(IntentError::MinFillAboveQuantity {
                intent,
                min_fill: self.min_fill,
                quantity,
            });
        }
        if self.lot == Quantity::ZERO {
            return Err(IntentError::ZeroLot { intent });
        }
        if self.lot > quantity {
            return Err(IntentError::LotAboveQuantity {
                intent,
                lot: self.lot,
                quantity,
            });
        }
        if self.fill_range().is_none() {
            return Err(IntentError::NoFeasibleLot {
                intent,
                lot: self.lot,
                min_fill: self.min_fill,
                quantity,
            });
        }
        if self.window.start >= self.window.end {
            return Err(IntentError::EmptyWindow {
                intent,
                start: self.window.start,
                end: self.window.end,
            });
        }
        match &self.valuation {
            Valuation::Limit { price } => {
                if !price.is_valid() {
                    return Err(IntentError::PriceTooLarge {
                        intent,
                        price: *price,
                    });
                }
            }
            Valuation::Piecewise { segments } => {
                if segments.is_empty() {
                    return Err(IntentError::EmptyValuation { intent });
                }
                let mut covered: u64 = 0;
                for (i, seg) in segments.iter().enumerate() {
                    if seg.quantity == Quantity::ZERO {
                        return Err(IntentError::ZeroLengthSegment { intent, segment: i });
                    }
                    if !seg.price.is_valid() {
                        return Err(IntentError::PriceTooLarge {
                            intent,
                            price: seg.price,
                        });
                    }
                    covered = covered.saturating_add(seg.quantity.0);
                    if i > 0 {
                        let previous = segments[i - 1].price;
                        if self.side == Side::Buy && seg.price > previous {
                            return Err(IntentError::NotConcave {
                                intent,
                                segment: i,
                                previous,
                                price: seg.price,
                            });
                        }
                        if self.side.supplies() && seg.price < previous {
                            return Err(IntentError::NotConvex {
                                intent,
                                segment: i,
                                previous,
                                price: seg.price,
                            });
                        }
                    }
                }
                if covered != quantity.0 {
                    return Err(IntentError::SegmentsDoNotCoverQuantity {
                        intent,
                        covered: Quantity(covered),
                        quantity,
                    });
                }
            }
        }
        for (i, p) in self.counterparties.iter().enumerate() {
            if *p == self.party {
                return Err(IntentError::SelfCounterparty { intent, party: *p });
            }
            if self.counterparties[..i].contains(p) {
                return Err(IntentError::DuplicateCounterparty { intent, party: *p });
            }
        }
        Ok(())
    }

    /// The valuation as explicit pieces (a limit price is one piece over the whole quantity).
    #[must_use]
    pub fn segments(&self) -> Vec<Segment> {
        match &self.valuation {
            Valuation::Limit { price } => vec![Segment {
                quantity: self.quantity,
                price: *price,
            }],
            Valuation::Piecewise { segments } => segments.clone(),
        }
    }

    /// Value (buyer) or cost (supplier) of a total fill `q`, exact. Fills beyond the covered
    /// quantity add nothing (callers check bounds separately).
    #[must_use]
    pub fn worth(&self, q: Quantity) -> Money {
        let mut left = q.0;
        let mut total = Money::ZERO;
        let mut add = |len: Quantity, price: Price| {
            let take = left.min(len.0);
            left -= take;
            total += price.times(Quantity(take));
        };
        match &self.valuation {
            Valuation::Limit { price } => add(self.quantity, *price),
            Valuation::Piecewise { segments } => {
                for s in segments {
                    add(s.quantity, s.price);
                }
            }
        }
        total
    }

    /// Utility of a total fill `q` at unit price `price` (value − payment for buyers,
    /// payment − cost for suppliers).
    #[must_use]
    pub fn utility(&self, q: Quantity, price: Price) -> Money {
        let pay = price.times(q);
        if self.side.supplies() {
            pay - self.worth(q)
        } else {
            self.worth(q) - pay
        }
    }

    /// Fill totals are in `{0} ∪ {lot-multiples in [lo, hi]}`; this returns `(lo, hi)` for the
    /// positive part, or `None` if it is empty.
    #[must_use]
    pub fn fill_range(&self) -> Option<(u64, u64)> {
        let lot = self.lot.0.max(1);
        let lo = self.min_fill.0.max(lot).div_ceil(lot).checked_mul(lot)?;
        let hi = (self.quantity.0 / lot) * lot;
        (lo <= hi).then_some((lo, hi))
    }

    /// Whether `q` is an admissible total fill (zero, or within bounds, min fill and lots).
    #[must_use]
    pub fn admits(&self, q: Quantity) -> bool {
        q.0 == 0
            || (q <= self.quantity
                && q >= self.min_fill
                && self.lot.0 > 0
                && q.0.is_multiple_of(self.lot.0))
    }

    /// Cumulative quantities at which the marginal price changes (excluding 0).
    #[must_use]
    pub fn breakpoints(&self) -> Vec<u64> {
        let mut acc = 0u64;
        self.segments()
            .iter()
            .map(|s| {
                acc = acc.saturating_add(s.quantity.0);
                acc
            })
            .collect()
    }

    /// The party's best admissible total fill at unit price `price`, and its utility there.
    #[must_use]
    pub fn best_response(&self, price: Price) -> (Quantity, Money) {
        let Some((lo, hi)) = self.fill_range() else {
            return (Quantity::ZERO, Money::ZERO);
        };
        let f = |q: u64| self.utility(Quantity(q), price).0;
        let (q, u) = maximise_concave_on_lattice(&f, &self.breakpoints(), lo, hi, self.lot.0);
        if u > 0 {
            (Quantity(q), Money(u))
        } else {
            (Quantity::ZERO, Money::ZERO)
        }
    }

    /// Whether a solver must treat the fill as a discrete decision: a lot above one micro-unit,
    /// a minimum fill, or a bundle leg.
    #[must_use]
    pub fn is_indivisible(&self) -> bool {
        self.lot.0 > 1 || self.min_fill.0 > 0 || self.bundle.is_some()
    }

    /// Whether this intent accepts `party` as a counterparty.
    #[must_use]
    pub fn allows(&self, party: PartyId) -> bool {
        self.counterparties.is_empty() || self.counterparties.contains(&party)
    }
}

/// Maximises a concave piecewise-linear `f` over the multiples of `lot` in `[lo, hi]` (which
/// must contain at least one: `lo` and `hi` are themselves multiples). `breakpoints` are the
/// kinks of `f`. Returns the best point and its value; ties go to the smaller point.
pub(crate) fn maximise_concave_on_lattice(
    f: &dyn Fn(u64) -> i128,
    breakpoints: &[u64],
    lo: u64,
    hi: u64,
    lot: u64,
) -> (u64, i128) {
    let lot = lot.max(1);
    // Continuous maximiser: a concave piecewise-linear function peaks at a kink or an end.
    let mut best = (lo, f(lo));
    for &b in breakpoints.iter().chain(std::iter::once(&hi)) {
        if b > lo && b <= hi {
            let v = f(b);
            if v > best.1 {
                best = (b, v);
            }
        }
    }
    // The best lattice point is next to it.
    let down = (best.0 / lot) * lot;
    let up = down.saturating_add(if best.0 == down { 0 } else { lot });
    let mut out = (lo, f(lo));
    for c in [down.clamp(lo, hi), up.clamp(lo, hi)] {
        let v = f(c);
        if v > out.1 || (v == out.1 && c < out.0) {
            out = (c, v);
        }
    }
    out
}

impl Canonical for Intent {
    const DOMAIN: &'static str = "intent";

    fn encode_body(&self, w: &mut Writer) {
        encode_intent(w, self);
    }
}

/// Writes an intent's fields (shared by intents on their own and inside challenges).
pub(crate) fn encode_intent(w: &mut Writer, i: &Intent) {
    w.u64(i.id.0);
    w.u32(i.party.0);
    w.u8(i.side.tag());
    w.u16(i.resource.0);
    w.u64(i.quantity.0);
    w.u64(i.min_fill.0);
    w.u64(i.lot.0);
    match &i.valuation {
        Valuation::Limit { price } => {
            w.u8(0);
            w.u64(price.0);
        }
        Valuation::Piecewise { segments } => {
            w.u8(1);
            w.seq(segments, |w, s| {
                w.u64(s.quantity.0);
                w.u64(s.price.0);
            });
        }
    }
    w.u32(i.window.start);
    w.u32(i.window.end);
    w.set(&i.counterparties, |w, p| w.u32(p.0));
    match i.bundle {
        None => w.u8(0),
        Some(b) => {
            w.u8(1);
            w.u32(b.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::PICO;

    const EXAMPLE: &str = r#"{
      "id": 7,
      "party": 64,
      "side": "buy",
      "resource": 0,
      "quantity": 200000000,
      "min_fill": 50000000,
      "lot": 1000000,
      "valuation": { "kind": "piecewise", "segments": [
          { "quantity": 100000000, "price": 1800000 },
          { "quantity": 100000000, "price": 1500000 } ] },
      "window": { "start": 0, "end": 24 },
      "counterparties": [27, 12]
    }"#;

    fn example() -> Intent {
        serde_json::from_str(EXAMPLE).expect("documented example parses")
    }

    #[test]
    fn documented_example_parses_and_validates() {
        let i = example();
        assert_eq!(i.validate(), Ok(()));
        assert_eq!(i.quantity, Quantity::units(200));
        assert_eq!(i.segments().len(), 2);
        // 100 × 1.8 + 50 × 1.5 = 255.
        assert_eq!(i.worth(Quantity::units(150)), Money(255 * PICO));
        // Round trip.
        let back: Intent =
            serde_json::from_str(&serde_json::to_string(&i).expect("serialises")).expect("parses");
        assert_eq!(back, i);
    }

    #[test]
    fn defaults_make_a_divisible_intent() {
        let i: Intent = serde_json::from_str(
            r#"{"id":1,"party":2,"side":"sell","resource":3,"quantity":5,
                "valuation":{"kind":"limit","price":9},"window":{"start":0,"end":1}}"#,
        )
        .expect("parses");
        assert_eq!(i.lot, Quantity(1));
        assert_eq!(i.min_fill, Quantity(0));
        assert!(i.counterparties.is_empty());
        assert_eq!(i.validate(), Ok(()));
    }

    #[test]
    fn every_validation_error_names_its_field() {
        let base = example();
        let id = base.id;
        let check = |f: &dyn Fn(&mut Intent), want: IntentError| {
            let mut i = base.clone();
            f(&mut i);
            assert_eq!(i.validate(), Err(want));
        };
        check(
            &|i| {
                i.quantity = Quantity(0);
            },
            IntentError::ZeroQuantity { intent: id },
        );
        check(
            &|i| i.min_fill = Quantity::units(300),
            IntentError::MinFillAboveQuantity {
                intent: id,
                min_fill: Quantity::units(300),
                quantity: Quantity::units(200),
            },
        );
        check(
            &|i| i.lot = Quantity(0),
            IntentError::ZeroLot { intent: id },
        );
        check(
            &|i| i.window = Window { start: 5, end: 5 },
            IntentError::EmptyWindow {
                intent: id,
                start: 5,
                end: 5,
            },
        );
        check(
            &|i| {
                i.valuation = Valuation::Piecewise {
                    segments: vec![
                        Segment {
                            quantity: Quantity::units(100),
                            price: Price(1),
                        },
                        Segment {
                            quantity: Quantity::units(100),
                            price: Price(2),
                        },
                    ],
                }
            },
            IntentError::NotConcave {
                intent: id,
                segment: 1,
                previous: Price(1),
                price: Price(2),
            },
        );
        check(
            &|i| {
                i.valuation = Valuation::Piecewise {
                    segments: vec![Segment {
                        quantity: Quantity::units(100),
                        price: Price(1),
                    }],
                }
            },
            IntentError::SegmentsDoNotCoverQuantity {
                intent: id,
                covered: Quantity::units(100),
                quantity: Quantity::units(200),
            },
        );
        check(
            &|i| i.counterparties = vec![PartyId(64)],
            IntentError::SelfCounterparty {
                intent: id,
                party: PartyId(64),
            },
        );
        check(
            &|i| i.counterparties = vec![PartyId(1), PartyId(1)],
            IntentError::DuplicateCounterparty {
                intent: id,
                party: PartyId(1),
            },
        );
        check(
            &|i| {
                i.min_fill = Quantity::units(150);
                i.lot = Quantity::units(120);
            },
            IntentError::NoFeasibleLot {
                intent: id,
                lot: Quantity::units(120),
                min_fill: Quantity::units(150),
                quantity: Quantity::units(200),
            },
        );
        check(
            &|i| {
                i.valuation = Valuation::Limit {
                    price: Price(u64::MAX),
                }
            },
            IntentError::PriceTooLarge {
                intent: id,
                price: Price(u64::MAX),
            },
        );
        // A supplier's cost must be convex.
        let mut s = base.clone();
        s.side = Side::Sell;
        assert!(matches!(
            s.validate(),
            Err(IntentError::NotConvex { segment: 1, .. })
        ));
        // Messages carry the values.
        let msg = IntentError::MinFillAboveQuantity {
            intent: id,
            min_fill: Quantity(2),
            quantity: Quantity(1),
        }
        .to_string();
        assert!(msg.contains("min_fill 0.000002") && msg.contains("quantity 0.000001"));
    }

    #[test]
    fn best_response_respects_lots_and_min_fill() {
        let mut i = example();
        // At 1.6 the buyer wants exactly the first 100 units.
        assert_eq!(
            i.best_response(Price::new(1, 600_000)).0,
            Quantity::units(100)
        );
        // At 1.4 it wants all 200.
        assert_eq!(
            i.best_response(Price::new(1, 400_000)).0,
            Quantity::units(200)
        );
        // At 2.0 nothing.
        assert_eq!(
            i.best_response(Price::new(2, 0)),
            (Quantity::ZERO, Money::ZERO)
        );
        // Lots of 30: 90 or 120 around the kink at 100; at 1.6, 90·0.2=18 vs 100·0.2−20·0.1=18:
        // a tie, the smaller wins.
        i.lot = Quantity::units(30);
        assert_eq!(
            i.best_response(Price::new(1, 600_000)).0,
            Quantity::units(90)
        );
        // Min fill above the kink: must take at least 180 (lots of 30 → 180).
        i.min_fill = Quantity::units(170);
        let (q, u) = i.best_response(Price::new(1, 600_000));
        assert_eq!(q, Quantity::units(180));
        assert_eq!(
            u,
            Money(100 * 200_000 * 1_000_000 - 80 * 100_000 * 1_000_000)
        );
        assert!(i.admits(q) && !i.admits(Quantity::units(150)) && i.admits(Quantity::ZERO));
    }

    #[test]
    fn canonical_hash_ignores_counterparty_order_only() {
        let a = example();
        let mut b = a.clone();
        b.counterparties.reverse();
        assert_eq!(a.hash(), b.hash());
        b.quantity = Quantity(a.quantity.0 - 1);
        assert_ne!(a.hash(), b.hash());
        assert!(a.canonical_bytes().starts_with(&[0, 0, 0, 18]));
    }
}
