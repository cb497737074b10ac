//! Answers: market settlements (fills and prices), game strategy profiles and coalition
//! structures with payoff splits.
//!
//! A [`Settlement`] lists *fills* — a quantity moving from a supply intent (sell or defer) to a
//! buy intent in one slot — and a *posted price per intent*. Payments follow from them and are
//! never stated separately: on every fill the buyer pays `quantity × price(buyer)` and the
//! supplier receives `quantity × price(supplier)`. When all intents of a resource post one price
//! this is a uniform-price clearing; personalised prices are allowed because counterparty lists
//! and windows can split a market, and an equilibrium then needs one price per connected part.
//! The verifier checks that no fill creates money (`price(buyer) ≥ price(supplier)`), and uses
//! the posted price of *every* intent, filled or not, to measure stability.
//!
//! # JSON
//!
//! ```json
//! {
//!   "challenge": 3,
//!   "fills": [ { "seller": 2, "buyer": 1, "resource": 0, "slot": 0, "quantity": 200000000 } ],
//!   "prices": [ { "intent": 1, "price": 1550000 }, { "intent": 2, "price": 1550000 } ]
//! }
//! ```
//!
//! A game answer is `{ "challenge": 4, "strategies": [[0.5, 0.5], [0.5, 0.5]] }`.
//!
//! A coalition answer names a partition of the players as bitmasks (player `i` is bit `i`) and
//! an integer payoff per player: `{ "challenge": 5, "structure": [3, 4], "payoffs": [6, 4, 2] }`
//! (players 0 and 1 together, player 2 alone).

use crate::canonical::{Canonical, Writer};
use crate::config::SettlementRules;
use crate::error::SettlementError;
use crate::units::{ChallengeId, IntentId, Price, Quantity, ResourceKind};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A quantity delivered from a supply intent to a buy intent.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub struct Fill {
    /// The sell or defer intent that gives.
    pub seller: IntentId,
    /// The buy intent that receives.
    pub buyer: IntentId,
    /// The resource (must match both intents).
    pub resource: ResourceKind,
    /// The delivery slot (must lie in both windows).
    pub slot: u32,
    /// How much.
    pub quantity: Quantity,
}

/// The unit price an intent trades at.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub struct PostedPrice {
    /// The intent.
    pub intent: IntentId,
    /// Its price per unit.
    pub price: Price,
}

/// A proposed clearing of a market challenge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Settlement {
    /// The challenge answered.
    pub challenge: ChallengeId,
    /// Deliveries (a multiset: order carries no meaning).
    pub fills: Vec<Fill>,
    /// One posted price per intent (a set).
    pub prices: Vec<PostedPrice>,
}

impl Settlement {
    /// Structural checks that need no instance: sizes, bounds, duplicate prices.
    pub fn validate(&self, rules: &SettlementRules) -> Result<(), SettlementError> {
        if self.fills.len() > rules.max_fills {
            return Err(SettlementError::TooManyFills {
                count: self.fills.len(),
                max: rules.max_fills,
            });
        }
        for (index, f) in self.fills.iter().enumerate() {
            if f.quantity == Quantity::ZERO {
                return Err(SettlementError::ZeroFill { index });
            }
            if !f.quantity.is_valid() {
                return Err(SettlementError::FillTooLarge {
                    index,
                    quantity: f.quantity,
                });
            }
        }
        if self.prices.len() > rules.max_fills {
            return Err(SettlementError::TooManyPrices {
                count: self.prices.len(),
                max: rules.max_fills,
            });
        }
        let mut seen = BTreeSet::new();
        for p in &self.prices {
            if !p.price.is_valid() {
                return Err(SettlementError::PriceTooLarge {
                    intent: p.intent,
                    price: p.price,
                });
            }
            if !seen.insert(p.intent) {
                return Err(SettlementError::DuplicatePrice { intent: p.intent });
            }
        }
        Ok(())
    }

    /// The posted price of an intent.
    #[must_use]
    pub fn price_of(&self, intent: IntentId) -> Option<Price> {
        self.prices
            .iter()
            .find(|p| p.intent == intent)
            .map(|p| p.price)
    }
}

impl Canonical for Settlement {
    const DOMAIN: &'static str = "settlement";

    fn encode_body(&self, w: &mut Writer) {
        w.u64(self.challenge.0);
        w.set(&self.fills, |w, f| {
            w.u64(f.seller.0);
            w.u64(f.buyer.0);
            w.u16(f.resource.0);
            w.u32(f.slot);
            w.u64(f.quantity.0);
        });
        w.set(&self.prices, |w, p| {
            w.u64(p.intent.0);
            w.u64(p.price.0);
        });
    }
}

/// A mixed strategy per player: `strategies[p][a]` is the probability player `p` plays `a`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StrategyProfile {
    /// The challenge answered.
    pub challenge: ChallengeId,
    /// One probability vector per player.
    pub strategies: Vec<Vec<f64>>,
}

impl StrategyProfile {
    /// Checks the shape against `actions` (per player) and that every vector is a probability
    /// distribution within `tol`.
    pub fn validate(&self, actions: &[usize], tol: f64) -> Result<(), SettlementError> {
        if self.strategies.len() != actions.len() {
            return Err(SettlementError::PlayerCount {
                expected: actions.len(),
                found: self.strategies.len(),
            });
        }
        for (player, (s, &n)) in self.strategies.iter().zip(actions).enumerate() {
            if s.len() != n {
                return Err(SettlementError::StrategyLength {
                    player,
                    expected: n,
                    found: s.len(),
                });
            }
            let mut sum = 0.0;
            for (action, &value) in s.iter().enumerate() {
                if !value.is_finite() {
                    return Err(SettlementError::NotFinite {
                        player,
                        action,
                        value,
                    });
                }
                if value < -tol {
                    return Err(SettlementError::NegativeProbability {
                        player,
                        action,
                        value,
                    });
                }
                sum += value;
            }
            if (sum - 1.0).abs() > tol.max(f64::EPSILON * n as f64) {
                return Err(SettlementError::ProbabilitySum { player, sum });
            }
        }
        Ok(())
    }
}

impl Canonical for StrategyProfile {
    const DOMAIN: &'static str = "strategies";

    fn encode_body(&self, w: &mut Writer) {
        w.u64(self.challenge.0);
        w.seq(&self.strategies, |w, s| w.seq(s, |w, x| w.f64(*x)));
    }
}

/// A coalition structure and a split of each coalition's value: the answer to a coalition
/// formation challenge.
///
/// Payoffs are integers in the game's value units, so efficiency (`Σ_{i∈C} payoffs[i] = v(C)`)
/// and every blocking check are exact integer arithmetic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CoalitionAnswer {
    /// The challenge answered.
    pub challenge: ChallengeId,
    /// Disjoint, non-empty coalitions covering every player, as bitmasks (player `i` is bit `i`;
    /// a set: order carries no meaning).
    pub structure: Vec<u32>,
    /// One payoff per player.
    pub payoffs: Vec<i64>,
}

impl CoalitionAnswer {
    /// Checks the shape against a game of `players` players: one payoff per player, and the
    /// structure a partition (no empty coalition, no player beyond the game, no overlap, nobody
    /// left out). The first problem found is returned, naming the field.
    pub fn validate(&self, players: usize) -> Result<(), SettlementError> {
        if self.payoffs.len() != players {
            return Err(SettlementError::PayoffCount {
                players,
                found: self.payoffs.len(),
            });
        }
        // More coalitions than players cannot be a partition; checked first so that the loop
        // below is bounded by the game, not by the answer.
        if self.structure.len() > players {
            return Err(SettlementError::CoalitionCount {
                players,
                found: self.structure.len(),
            });
        }
        let all: u64 = 1u64
            .checked_shl(u32::try_from(players).unwrap_or(u32::MAX))
            .map_or(u64::MAX, |b| b - 1);
        let mut covered: u64 = 0;
        for (index, &mask) in self.structure.iter().enumerate() {
            if mask == 0 {
                return Err(SettlementError::EmptyCoalition { index });
            }
            if u64::from(mask) & !all != 0 {
                return Err(SettlementError::CoalitionOutsideGame {
                    index,
                    mask,
                    players,
                });
            }
            let shared = covered & u64::from(mask);
            if shared != 0 {
                return Err(SettlementError::CoalitionOverlap {
                    index,
                    player: shared.trailing_zeros() as usize,
                });
            }
            covered |= u64::from(mask);
        }
        let missing = all & !covered;
        if missing != 0 {
            return Err(SettlementError::PlayerUncovered {
                player: missing.trailing_zeros() as usize,
            });
        }
        Ok(())
    }
}

impl Canonical for CoalitionAnswer {
    const DOMAIN: &'static str = "coalitions";

    fn encode_body(&self, w: &mut Writer) {
        w.u64(self.challenge.0);
        w.set(&self.structure, |w, m| w.u32(*m));
        w.seq(&self.payoffs, |w, x| w.i64(*x));
    }
}

/// A miner's answer to a challenge.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Answer {
    /// For market classes.
    Settlement(Settlement),
    /// For game classes.
    Strategies(StrategyProfile),
    /// For coalition formation.
    Coalitions(CoalitionAnswer),
}

impl Answer {
    /// The challenge the answer names.
    #[must_use]
    pub fn challenge(&self) -> ChallengeId {
        match self {
            Answer::Settlement(s) => s.challenge,
            Answer::Strategies(s) => s.challenge,
            Answer::Coalitions(c) => c.challenge,
        }
    }
}

impl Canonical for Answer {
    const DOMAIN: &'static str = "answer";

    fn encode_body(&self, w: &mut Writer) {
        match self {
            Answer::Settlement(s) => {
                w.u8(0);
                w.bytes(&s.canonical_bytes());
            }
            Answer::Strategies(s) => {
                w.u8(1);
                w.bytes(&s.canonical_bytes());
            }
            Answer::Coalitions(c) => {
                w.u8(2);
                w.bytes(&c.canonical_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"{
      "challenge": 3,
      "fills": [ { "seller": 2, "buyer": 1, "resource": 0, "slot": 0, "quantity": 200000000 } ],
      "prices": [ { "intent": 1, "price": 1550000 }, { "intent": 2, "price": 1550000 } ]
    }"#;

    #[test]
    fn documented_example_parses_and_hash_ignores_order() {
        let s: Settlement = serde_json::from_str(EXAMPLE).expect("parses");
        assert_eq!(s.validate(&SettlementRules::default()), Ok(()));
        assert_eq!(s.price_of(IntentId(2)), Some(Price::new(1, 550_000)));
        let mut r = s.clone();
        r.prices.reverse();
        assert_eq!(r.hash(), s.hash());
        r.fills[0].slot = 1;
        assert_ne!(r.hash(), s.hash());
        let a: Answer = serde_json::from_str(
            r#"{"type":"strategies","challenge":4,"strategies":[[0.5,0.5],[0.5,0.5]]}"#,
        )
        .expect("parses");
        assert_eq!(a.challenge(), ChallengeId(4));
    }

    #[test]
    fn coalition_answer_parses_hashes_as_a_set_and_names_bad_fields() {
        let a: Answer = serde_json::from_str(
            r#"{"type":"coalitions","challenge":5,"structure":[3,4],"payoffs":[6,4,2]}"#,
        )
        .expect("parses");
        assert_eq!(a.challenge(), ChallengeId(5));
        let Answer::Coalitions(c) = &a else {
            panic!("coalitions")
        };
        assert_eq!(c.validate(3), Ok(()));
        let mut r = c.clone();
        r.structure.reverse();
        assert_eq!(r.hash(), c.hash());
        assert_eq!(Answer::Coalitions(r.clone()).hash(), a.hash());
        r.payoffs.swap(0, 1);
        assert_ne!(r.hash(), c.hash());
        let with = |structure: Vec<u32>, payoffs: Vec<i64>| CoalitionAnswer {
            challenge: ChallengeId(5),
            structure,
            payoffs,
        };
        assert_eq!(
            with(vec![3, 4], vec![1, 2]).validate(3),
            Err(SettlementError::PayoffCount {
                players: 3,
                found: 2
            })
        );
        assert_eq!(
            with(vec![1, 2, 4, 0], vec![0; 3]).validate(3),
            Err(SettlementError::CoalitionCount {
                players: 3,
                found: 4
            })
        );
        assert_eq!(
            with(vec![3, 0], vec![0; 3]).validate(3),
            Err(SettlementError::EmptyCoalition { index: 1 })
        );
        assert_eq!(
            with(vec![3, 12], vec![0; 3]).validate(3),
            Err(SettlementError::CoalitionOutsideGame {
                index: 1,
                mask: 12,
                players: 3
            })
        );
        assert_eq!(
            with(vec![3, 6], vec![0; 3]).validate(3),
            Err(SettlementError::CoalitionOverlap {
                index: 1,
                player: 1
            })
        );
        assert_eq!(
            with(vec![1, 4], vec![0; 3]).validate(3),
            Err(SettlementError::PlayerUncovered { player: 1 })
        );
        assert_eq!(
            with(vec![u32::MAX], vec![0; 16]).validate(16),
            Err(SettlementError::CoalitionOutsideGame {
                index: 0,
                mask: u32::MAX,
                players: 16
            })
        );
        assert_eq!(with(vec![0xFFFF], vec![0; 16]).validate(16), Ok(()));
    }

    #[test]
    fn structural_errors_name_the_field() {
        let rules = SettlementRules::default();
        let mut s: Settlement = serde_json::from_str(EXAMPLE).expect("parses");
        s.prices.push(s.prices[0]);
        assert_eq!(
            s.validate(&rules),
            Err(SettlementError::DuplicatePrice {
                intent: IntentId(1)
            })
        );
        s.fills[0].quantity = Quantity::ZERO;
        assert_eq!(
            s.validate(&rules),
            Err(SettlementError::ZeroFill { index: 0 })
        );
        let p = StrategyProfile {
            challenge: ChallengeId(1),
            strategies: vec![vec![0.5, f64::NAN], vec![1.0]],
        };
        assert!(matches!(
            p.validate(&[2, 1], 1e-9),
            Err(SettlementError::NotFinite {
                player: 0,
                action: 1,
                ..
            })
        ));
        let p = StrategyProfile {
            challenge: ChallengeId(1),
            strategies: vec![vec![0.5, 0.6], vec![1.0]],
        };
        assert!(matches!(
            p.validate(&[2, 1], 1e-9),
            Err(SettlementError::ProbabilitySum { player: 0, .. })
        ));
        let q = StrategyProfile {
            challenge: ChallengeId(1),
            strategies: vec![vec![0.5, 0.5], vec![1.0]],
        };
        assert_eq!(q.validate(&[2, 1], 1e-9), Ok(()));
        assert!(matches!(
            q.validate(&[2, 2], 1e-9),
            Err(SettlementError::StrategyLength { player: 1, .. })
        ));
        assert!(matches!(
            p.validate(&[2], 1e-9),
            Err(SettlementError::PlayerCount {
                expected: 1,
                found: 2
            })
        ));
    }
}
