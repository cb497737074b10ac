//! The seven problem classes and their instance types.
//!
//! Market classes ([`ProblemClass::is_market`]) are instances of [`MarketInstance`], a set of
//! intents whose shape the class constrains. Games are payoff tables with integer payoffs
//! (row-major); coalition formation is a characteristic function over at most
//! [`MAX_COALITION_PLAYERS`] players. Player `i` of a game is the challenge's `parties[i]`.

use crate::canonical::Writer;
use crate::config::PmuConfig;
use crate::error::InstanceError;
use crate::intent::{Intent, Side, encode_intent};
use crate::units::{BundleId, PartyId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Largest absolute payoff or coalition value accepted (10¹²): sums over a 1000×1000 table stay
/// exact in `f64`'s 53-bit mantissa order of magnitude and far from overflow in `i128`.
pub const MAX_PAYOFF: i64 = 1_000_000_000_000;
/// Most actions per player in a matrix or bimatrix game.
pub const MAX_ACTIONS: usize = 1000;
/// Most actions per player in a three-player game.
pub const MAX_ACTIONS_3P: usize = 32;
/// Most players of a coalition game (2¹⁶ coalition values).
pub const MAX_COALITION_PLAYERS: usize = 16;

/// A kind of problem, as in DESIGN.md.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ProblemClass {
    /// One buyer, one seller, one resource, divisible, limit prices. Closed form.
    SimpleSwap,
    /// Two parties with min fill / lots, windows, counterparties, piecewise valuations.
    ConstrainedSwap,
    /// A buyer, a seller and a party that can defer its own use, one resource.
    ThreeParty,
    /// At least three parties and three resources.
    ResourceTriangle,
    /// Two-player zero-sum matrix game (LP, polynomial).
    ZeroSumGame,
    /// Bimatrix or small three-player game (PPAD-complete).
    GeneralGame,
    /// Characteristic-function game: best coalition structure (NP-hard).
    CoalitionFormation,
}

impl ProblemClass {
    /// All classes, easiest first.
    pub const ALL: [ProblemClass; 7] = [
        ProblemClass::SimpleSwap,
        ProblemClass::ConstrainedSwap,
        ProblemClass::ThreeParty,
        ProblemClass::ResourceTriangle,
        ProblemClass::ZeroSumGame,
        ProblemClass::GeneralGame,
        ProblemClass::CoalitionFormation,
    ];

    /// Whether instances are intent markets.
    #[must_use]
    pub fn is_market(self) -> bool {
        matches!(
            self,
            ProblemClass::SimpleSwap
                | ProblemClass::ConstrainedSwap
                | ProblemClass::ThreeParty
                | ProblemClass::ResourceTriangle
        )
    }

    /// Whether settlements are bilateral bargains priced by the Nash bargaining split (as
    /// opposed to competitive prices from LP duals).
    #[must_use]
    pub fn is_bilateral(self) -> bool {
        matches!(
            self,
            ProblemClass::SimpleSwap | ProblemClass::ConstrainedSwap
        )
    }

    /// Whether exact optimisation is NP-hard in general, so the reference is the best known
    /// answer rather than a proven optimum.
    #[must_use]
    pub fn is_np_hard(self) -> bool {
        matches!(
            self,
            ProblemClass::ResourceTriangle | ProblemClass::CoalitionFormation
        )
    }

    /// `base × complexity` of the class in the PMU table (before solver count and uniqueness).
    #[must_use]
    pub fn pmu_weight(self, pmu: &PmuConfig) -> f64 {
        let e = pmu.entry(self);
        e.base * e.complexity
    }

    pub(crate) fn tag(self) -> u8 {
        match self {
            ProblemClass::SimpleSwap => 0,
            ProblemClass::ConstrainedSwap => 1,
            ProblemClass::ThreeParty => 2,
            ProblemClass::ResourceTriangle => 3,
            ProblemClass::ZeroSumGame => 4,
            ProblemClass::GeneralGame => 5,
            ProblemClass::CoalitionFormation => 6,
        }
    }
}

/// A market: the intents of one challenge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MarketInstance {
    /// The intents (a set: order carries no meaning).
    pub intents: Vec<Intent>,
}

impl MarketInstance {
    /// Validates every intent, id uniqueness and the shape `class` requires.
    pub fn validate(&self, class: ProblemClass) -> Result<(), InstanceError> {
        let shape = |reason: String| InstanceError::ClassShape { class, reason };
        let mut ids = BTreeSet::new();
        for i in &self.intents {
            i.validate()?;
            if !ids.insert(i.id) {
                return Err(InstanceError::DuplicateIntent { intent: i.id });
            }
        }
        let mut bundles: BTreeMap<BundleId, PartyId> = BTreeMap::new();
        for i in &self.intents {
            if let Some(b) = i.bundle {
                let expected = *bundles.entry(b).or_insert(i.party);
                if expected != i.party {
                    return Err(InstanceError::BundleAcrossParties {
                        bundle: b,
                        intent: i.id,
                        party: i.party,
                        expected,
                    });
                }
            }
        }
        if class.is_bilateral() && !bundles.is_empty() {
            // A swap has one intent per party: a bundle there is just an all-or-nothing fill,
            // which `min_fill = quantity` already says.
            return Err(shape("intents: bundles need a multi-party class".into()));
        }
        let parties: BTreeSet<PartyId> = self.intents.iter().map(|i| i.party).collect();
        let resources: BTreeSet<_> = self.intents.iter().map(|i| i.resource).collect();
        let count = |side: Side| self.intents.iter().filter(|i| i.side == side).count();
        match class {
            ProblemClass::SimpleSwap | ProblemClass::ConstrainedSwap => {
                if self.intents.len() != 2 || count(Side::Buy) != 1 || count(Side::Sell) != 1 {
                    return Err(shape(
                        "intents: exactly one buy and one sell intent required".into(),
                    ));
                }
                if parties.len() != 2 {
                    return Err(shape(
                        "intents: the two intents need different parties".into(),
                    ));
                }
                if resources.len() != 1 {
                    return Err(shape(
                        "intents: both intents must trade one resource".into(),
                    ));
                }
                if class == ProblemClass::SimpleSwap {
                    for i in &self.intents {
                        let simple = matches!(i.valuation, crate::intent::Valuation::Limit { .. })
                            && i.min_fill.0 == 0
                            && i.lot.0 == 1
                            && i.counterparties.is_empty();
                        if !simple {
                            return Err(shape(format!(
                                "intent {}: a simple swap needs a limit price, min_fill 0, lot 1 and no counterparty list",
                                i.id
                            )));
                        }
                    }
                }
            }
            ProblemClass::ThreeParty => {
                if parties.len() != 3 {
                    return Err(shape(format!(
                        "intents: exactly 3 parties required, found {}",
                        parties.len()
                    )));
                }
                if resources.len() != 1 {
                    return Err(shape("intents: one resource required".into()));
                }
                if count(Side::Buy) == 0 || count(Side::Sell) == 0 || count(Side::Defer) == 0 {
                    return Err(shape(
                        "intents: at least one buy, one sell and one defer intent required".into(),
                    ));
                }
            }
            ProblemClass::ResourceTriangle => {
                if parties.len() < 3 || resources.len() < 3 {
                    return Err(shape(format!(
                        "intents: at least 3 parties and 3 resources required, found {} and {}",
                        parties.len(),
                        resources.len()
                    )));
                }
            }
            _ => return Err(shape("not a market class".into())),
        }
        Ok(())
    }

    /// The intent with this id.
    #[must_use]
    pub fn intent(&self, id: crate::units::IntentId) -> Option<&Intent> {
        self.intents.iter().find(|i| i.id == id)
    }

    pub(crate) fn encode(&self, w: &mut Writer) {
        w.set(&self.intents, encode_intent);
    }
}

fn check_payoffs(
    field: &'static str,
    values: &[i64],
    expected: usize,
) -> Result<(), InstanceError> {
    if values.len() != expected {
        return Err(InstanceError::PayoffLength {
            field,
            expected,
            found: values.len(),
        });
    }
    if let Some((index, &value)) = values
        .iter()
        .enumerate()
        .find(|(_, v)| v.unsigned_abs() > MAX_PAYOFF.unsigned_abs())
    {
        return Err(InstanceError::PayoffTooLarge {
            field,
            index,
            value,
        });
    }
    Ok(())
}

fn check_dim(field: &'static str, value: usize, max: usize) -> Result<(), InstanceError> {
    if value == 0 || value > max {
        return Err(InstanceError::Dimension { field, value, max });
    }
    Ok(())
}

/// A two-player zero-sum game: `payoffs[i * cols + j]` is what the column player pays the row
/// player when row `i` meets column `j`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MatrixGame {
    /// Row player's actions.
    pub rows: usize,
    /// Column player's actions.
    pub cols: usize,
    /// Row player's payoffs, row-major.
    pub payoffs: Vec<i64>,
}

impl MatrixGame {
    /// Checks dimensions, table length and payoff range.
    pub fn validate(&self) -> Result<(), InstanceError> {
        check_dim("rows", self.rows, MAX_ACTIONS)?;
        check_dim("cols", self.cols, MAX_ACTIONS)?;
        check_payoffs("payoffs", &self.payoffs, self.rows * self.cols)
    }

    /// Row player's payoff at `(i, j)`.
    #[must_use]
    pub fn at(&self, i: usize, j: usize) -> i64 {
        self.payoffs[i * self.cols + j]
    }

    pub(crate) fn encode(&self, w: &mut Writer) {
        w.len(self.rows);
        w.len(self.cols);
        w.seq(&self.payoffs, |w, v| w.i64(*v));
    }
}

/// A two-player general-sum game.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BimatrixGame {
    /// Row player's actions.
    pub rows: usize,
    /// Column player's actions.
    pub cols: usize,
    /// Row player's payoffs, row-major.
    pub row_payoffs: Vec<i64>,
    /// Column player's payoffs, row-major (same indexing).
    pub col_payoffs: Vec<i64>,
}

impl BimatrixGame {
    /// Checks dimensions, table lengths and payoff range.
    pub fn validate(&self) -> Result<(), InstanceError> {
        check_dim("rows", self.rows, MAX_ACTIONS)?;
        check_dim("cols", self.cols, MAX_ACTIONS)?;
        check_payoffs("row_payoffs", &self.row_payoffs, self.rows * self.cols)?;
        check_payoffs("col_payoffs", &self.col_payoffs, self.rows * self.cols)
    }

    /// Row player's payoff at `(i, j)`.
    #[must_use]
    pub fn a(&self, i: usize, j: usize) -> i64 {
        self.row_payoffs[i * self.cols + j]
    }

    /// Column player's payoff at `(i, j)`.
    #[must_use]
    pub fn b(&self, i: usize, j: usize) -> i64 {
        self.col_payoffs[i * self.cols + j]
    }

    pub(crate) fn encode(&self, w: &mut Writer) {
        w.len(self.rows);
        w.len(self.cols);
        w.seq(&self.row_payoffs, |w, v| w.i64(*v));
        w.seq(&self.col_payoffs, |w, v| w.i64(*v));
    }
}

/// A three-player game: `payoffs[p][(a0 * n1 + a1) * n2 + a2]` is player `p`'s payoff.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ThreePlayerGame {
    /// Actions of each player.
    pub actions: [usize; 3],
    /// Each player's payoff table.
    pub payoffs: [Vec<i64>; 3],
}

impl ThreePlayerGame {
    /// Checks dimensions, table lengths and payoff range.
    pub fn validate(&self) -> Result<(), InstanceError> {
        for n in self.actions {
            check_dim("actions", n, MAX_ACTIONS_3P)?;
        }
        let len = self.actions.iter().product();
        for (p, table) in self.payoffs.iter().enumerate() {
            let field = ["payoffs[0]", "payoffs[1]", "payoffs[2]"][p];
            check_payoffs(field, table, len)?;
        }
        Ok(())
    }

    /// Player `p`'s payoff at the action profile `a`.
    #[must_use]
    pub fn at(&self, p: usize, a: [usize; 3]) -> i64 {
        self.payoffs[p][(a[0] * self.actions[1] + a[1]) * self.actions[2] + a[2]]
    }

    pub(crate) fn encode(&self, w: &mut Writer) {
        for n in self.actions {
            w.len(n);
        }
        for t in &self.payoffs {
            w.seq(t, |w, v| w.i64(*v));
        }
    }
}

/// A transferable-utility game: `values[S]` is what coalition `S` (a bitmask over players) can
/// earn on its own. Player `i` is bit `i`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CoalitionGame {
    /// Number of players, 1..=16.
    pub players: usize,
    /// `2^players` values; `values[0]` (the empty coalition) is 0.
    pub values: Vec<i64>,
}

impl CoalitionGame {
    /// Checks the player count, table length, value range and `v(∅) = 0`.
    pub fn validate(&self) -> Result<(), InstanceError> {
        check_dim("players", self.players, MAX_COALITION_PLAYERS)?;
        check_payoffs("values", &self.values, 1usize << self.players)?;
        if self.values[0] != 0 {
            return Err(InstanceError::EmptyCoalitionValue {
                value: self.values[0],
            });
        }
        Ok(())
    }

    pub(crate) fn encode(&self, w: &mut Writer) {
        w.len(self.players);
        w.seq(&self.values, |w, v| w.i64(*v));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::intent::Intent;
    use crate::units::{Price, Quantity, ResourceKind};

    fn swap() -> MarketInstance {
        MarketInstance {
            intents: vec![
                Intent::limit(
                    1,
                    1,
                    Side::Buy,
                    ResourceKind::GPU_HOURS,
                    Quantity::units(200),
                    Price::new(1, 800_000),
                ),
                Intent::limit(
                    2,
                    2,
                    Side::Sell,
                    ResourceKind::GPU_HOURS,
                    Quantity::units(500),
                    Price::new(1, 300_000),
                ),
            ],
        }
    }

    #[test]
    fn pmu_table_matches_the_seed() {
        let pmu = Config::default().pmu;
        let w: Vec<f64> = ProblemClass::ALL[..4]
            .iter()
            .map(|c| c.pmu_weight(&pmu))
            .collect();
        assert_eq!(w, vec![0.3, 0.7 * 1.2, 1.8 * 2.5, 12.0]);
    }

    #[test]
    fn market_shapes_are_enforced() {
        let m = swap();
        assert_eq!(m.validate(ProblemClass::SimpleSwap), Ok(()));
        assert_eq!(m.validate(ProblemClass::ConstrainedSwap), Ok(()));
        assert!(matches!(
            m.validate(ProblemClass::ThreeParty),
            Err(InstanceError::ClassShape { .. })
        ));
        let mut dup = m.clone();
        dup.intents[1].id = dup.intents[0].id;
        assert!(matches!(
            dup.validate(ProblemClass::SimpleSwap),
            Err(InstanceError::DuplicateIntent { .. })
        ));
        let mut lots = m.clone();
        lots.intents[0].lot = Quantity::units(10);
        assert_eq!(lots.validate(ProblemClass::ConstrainedSwap), Ok(()));
        assert!(lots.validate(ProblemClass::SimpleSwap).is_err());
        let mut bad = m;
        bad.intents[0].quantity = Quantity::ZERO;
        assert!(matches!(
            bad.validate(ProblemClass::SimpleSwap),
            Err(InstanceError::Intent(_))
        ));
    }

    #[test]
    fn game_tables_are_checked() {
        let g = MatrixGame {
            rows: 2,
            cols: 2,
            payoffs: vec![1, -1, -1, 1],
        };
        assert_eq!(g.validate(), Ok(()));
        assert_eq!(g.at(1, 0), -1);
        let short = MatrixGame {
            rows: 2,
            cols: 2,
            payoffs: vec![1],
        };
        assert_eq!(
            short.validate(),
            Err(InstanceError::PayoffLength {
                field: "payoffs",
                expected: 4,
                found: 1
            })
        );
        let empty = MatrixGame {
            rows: 0,
            cols: 2,
            payoffs: vec![],
        };
        assert!(matches!(
            empty.validate(),
            Err(InstanceError::Dimension { field: "rows", .. })
        ));
        let big = BimatrixGame {
            rows: 1,
            cols: 1,
            row_payoffs: vec![0],
            col_payoffs: vec![i64::MIN],
        };
        assert!(matches!(
            big.validate(),
            Err(InstanceError::PayoffTooLarge {
                field: "col_payoffs",
                index: 0,
                ..
            })
        ));
        let c = CoalitionGame {
            players: 2,
            values: vec![1, 0, 0, 0],
        };
        assert_eq!(
            c.validate(),
            Err(InstanceError::EmptyCoalitionValue { value: 1 })
        );
        let t = ThreePlayerGame {
            actions: [2, 2, 2],
            payoffs: [vec![0; 8], vec![0; 8], vec![0; 7]],
        };
        assert!(matches!(
            t.validate(),
            Err(InstanceError::PayoffLength {
                field: "payoffs[2]",
                ..
            })
        ));
    }
}
