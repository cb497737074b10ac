//! The verifier: recomputes everything an answer implies and grades it.
//!
//! Nothing a miner claims is trusted; a settlement only names fills and prices, and the verifier
//! derives the rest from the challenge:
//!
//! * **feasibility** — every fill joins an existing supply intent to an existing buy intent of
//!   the same resource, of different parties that allow each other, in a slot inside both
//!   windows; per intent the total is within its quantity, at least its minimum fill and a
//!   multiple of its lot; every filled intent (every intent, for competitively priced classes) has
//!   a posted price;
//! * **budget balance** — no fill creates money: the buyer's price is at least the supplier's;
//! * **individual rationality** — no intent ends with negative utility; a bundle (one party's
//!   all-or-nothing package) is filled in full on every leg or not at all, and must not lose in
//!   total (its legs may lose individually);
//! * **bargaining** (simple and constrained swaps) — the price is the Nash bargaining split;
//! * **welfare** and its relative **gap** to the reference welfare (the validator's solve, or the
//!   best known answer for NP-hard classes);
//! * **stability** — the largest gain any intent gets by changing its own fill at its posted price
//!   (a bundle counts as one all-or-nothing choice; reported; zero for a competitive
//!   equilibrium);
//! * games: every player's **regret**, ε relative to the payoff range, and for zero-sum games the
//!   **exploitability** (duality gap).
//! * coalition formation: the structure is a **partition**; **welfare** `Σ v(C)` and its gap to
//!   the reference structure's; **efficiency** (each coalition pays out exactly its value);
//!   **individual rationality** (`x_i ≥ v({i})`); **core stability**, the largest gain
//!   `max_S v(S) − x(S)` of a blocking coalition, over all `2ⁿ` coalitions in one Gray-code pass.
//!
//! Market and coalition arithmetic is exact (integers); game arithmetic is IEEE-754 in a fixed order. The
//! verifier returns a [`Verdict`] for any input and never panics: every violation is listed, and
//! any violation sets `Q = 0`.

use crate::challenge::{Challenge, Problem};
use crate::class::{
    BimatrixGame, CoalitionGame, MarketInstance, MatrixGame, ProblemClass, ThreePlayerGame,
};
use crate::config::Config;
use crate::error::{InstanceError, SettlementError};
use crate::intent::Intent;
use crate::quality::quality;
use crate::settlement::{Answer, CoalitionAnswer, Settlement, StrategyProfile};
use crate::solve::lemke_howson::{regrets, relative_regret};
use crate::solve::swap::{bargaining_price, swap_parties};
use crate::units::{
    BundleId, ChallengeId, IntentId, Money, PartyId, Price, Quantity, ResourceKind,
};
use serde::Serialize;
use std::collections::BTreeMap;
use thiserror::Error;

/// One thing wrong with an answer.
#[derive(Clone, Debug, PartialEq, Error, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Violation {
    /// The challenge itself does not validate (the validator's fault; nothing can be graded).
    #[error("challenge invalid: {error}")]
    InvalidChallenge {
        /// What is wrong with it.
        #[serde(serialize_with = "as_message")]
        error: InstanceError,
    },
    /// The answer names another challenge.
    #[error("answer is for challenge {found}, expected {expected}")]
    WrongChallenge {
        /// The challenge verified.
        expected: ChallengeId,
        /// The one named.
        found: ChallengeId,
    },
    /// A settlement for a game, or strategies for a market.
    #[error("answer type does not fit class {class:?}")]
    WrongAnswerType {
        /// The class.
        class: ProblemClass,
    },
    /// No verifier for this class exists yet (every class has one now; kept so published
    /// verdicts keep their schema).
    #[error("answers to class {class:?} cannot be verified yet")]
    NotVerifiable {
        /// The class.
        class: ProblemClass,
    },
    /// Structurally malformed answer.
    #[error("malformed: {error}")]
    Malformed {
        /// The structural error.
        #[serde(serialize_with = "as_message")]
        error: SettlementError,
    },
    /// A fill or price names an intent the challenge does not have.
    #[error("{field}: intent {intent} is not in the challenge")]
    UnknownIntent {
        /// Where, e.g. `fills[3].seller`.
        field: String,
        /// The id.
        intent: IntentId,
    },
    /// `fills[i].seller` is a buy intent, or `fills[i].buyer` a supply intent.
    #[error("{field}: intent {intent} is on the wrong side")]
    WrongSide {
        /// Where.
        field: String,
        /// The intent.
        intent: IntentId,
    },
    /// A fill's resource differs from an intent's.
    #[error("fills[{fill}].resource {found}: intent {intent} trades {expected}")]
    ResourceMismatch {
        /// Index of the fill.
        fill: usize,
        /// The intent.
        intent: IntentId,
        /// Its resource.
        expected: ResourceKind,
        /// The fill's.
        found: ResourceKind,
    },
    /// Both sides of a fill belong to one party.
    #[error("fills[{fill}]: party {party} trades with itself")]
    SelfTrade {
        /// Index of the fill.
        fill: usize,
        /// The party.
        party: PartyId,
    },
    /// An intent's counterparty list excludes the other side.
    #[error("fills[{fill}]: intent {intent} does not allow party {party}")]
    CounterpartyNotAllowed {
        /// Index of the fill.
        fill: usize,
        /// The intent whose list excludes.
        intent: IntentId,
        /// The excluded party.
        party: PartyId,
    },
    /// The fill's slot is outside an intent's window.
    #[error("fills[{fill}].slot {slot} is outside intent {intent}'s window")]
    SlotOutsideWindow {
        /// Index of the fill.
        fill: usize,
        /// The intent.
        intent: IntentId,
        /// The slot.
        slot: u32,
    },
    /// An intent is filled beyond its quantity.
    #[error("intent {intent}: filled {filled}, quantity {quantity}")]
    OverFilled {
        /// The intent.
        intent: IntentId,
        /// Total filled (micro-units).
        filled: u128,
        /// Its quantity.
        quantity: Quantity,
    },
    /// An intent is filled below its minimum.
    #[error("intent {intent}: filled {filled}, min_fill {min_fill}")]
    BelowMinFill {
        /// The intent.
        intent: IntentId,
        /// Total filled.
        filled: Quantity,
        /// Its minimum fill.
        min_fill: Quantity,
    },
    /// An intent's total is not a multiple of its lot.
    #[error("intent {intent}: filled {filled} is not a multiple of lot {lot}")]
    NotALotMultiple {
        /// The intent.
        intent: IntentId,
        /// Total filled.
        filled: Quantity,
        /// Its lot.
        lot: Quantity,
    },
    /// An intent that needs a posted price has none.
    #[error("prices: intent {intent} has no posted price")]
    MissingPrice {
        /// The intent.
        intent: IntentId,
    },
    /// A fill pays the supplier more than the buyer pays: money created.
    #[error("fills[{fill}]: buyer pays {buyer_price} < supplier gets {seller_price}")]
    BudgetDeficit {
        /// Index of the fill.
        fill: usize,
        /// Buyer's posted price.
        buyer_price: Price,
        /// Supplier's posted price.
        seller_price: Price,
    },
    /// An intent ends with negative utility.
    #[error("intent {intent}: utility {utility} < 0")]
    NotIndividuallyRational {
        /// The intent.
        intent: IntentId,
        /// Its utility.
        utility: Money,
    },
    /// A swap's price is not the Nash bargaining price for its quantity.
    #[error("prices: intent {intent} posts {price}, the bargaining price is {expected}")]
    PriceNotBargained {
        /// The intent.
        intent: IntentId,
        /// Posted.
        price: Price,
        /// Expected (`None` in JSON when no grid price is rational for both sides).
        expected: String,
    },
    /// A coalition's payoffs do not add up to its value.
    #[error("coalition {coalition:#x}: payoffs sum to {paid}, its value is {value}")]
    CoalitionNotEfficient {
        /// The coalition's bitmask.
        coalition: u32,
        /// The sum of its members' payoffs.
        paid: i128,
        /// Its value `v(C)`.
        value: i64,
    },
    /// A player gets less than it earns alone.
    #[error("payoffs[{player}] = {payoff} < {standalone}, the player's value alone")]
    BelowStandalone {
        /// The player.
        player: usize,
        /// Its payoff.
        payoff: i64,
        /// `v({player})`.
        standalone: i64,
    },
    /// A bundle is partly filled: some leg traded, this one not at its full quantity.
    #[error("bundle {bundle}: intent {intent} filled {filled} of {quantity} (all or nothing)")]
    BundleIncomplete {
        /// The bundle.
        bundle: BundleId,
        /// The leg short of its quantity.
        intent: IntentId,
        /// Its fill.
        filled: Quantity,
        /// Its quantity.
        quantity: Quantity,
    },
    /// A filled bundle leaves its party with negative utility (summed over its legs).
    #[error("bundle {bundle}: utility {utility} < 0")]
    BundleNotIndividuallyRational {
        /// The bundle.
        bundle: BundleId,
        /// The sum of its legs' utilities.
        utility: Money,
    },
}

fn as_message<S: serde::Serializer, E: std::fmt::Display>(e: &E, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&e.to_string())
}

/// What the verifier measured on a market settlement.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct MarketMetrics {
    /// Total welfare: buyers' value minus suppliers' cost.
    pub welfare: Money,
    /// The reference welfare used for the gap (the answer's own if no valid reference was given).
    pub reference_welfare: Money,
    /// Money the fills leave unspent (buyers pay minus suppliers get), ≥ 0 when balanced.
    pub budget_surplus: Money,
    /// Largest gain any intent gets by changing its own fill at its posted price.
    pub max_deviation_gain: Money,
    /// The intent with that gain, if positive.
    pub least_stable_intent: Option<IntentId>,
    /// Whether `max_deviation_gain` is within the stability tolerance.
    pub stable: bool,
    /// Total quantity traded (micro-units).
    pub traded: u128,
}

/// What the verifier measured on a game answer.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct GameMetrics {
    /// Each player's regret (best deviation payoff minus payoff), in payoff units.
    pub regrets: Vec<f64>,
    /// Largest regret over the payoff range.
    pub epsilon: f64,
    /// Zero-sum only: best-response value against the column strategy minus the row strategy's
    /// guaranteed value (0 at an optimal pair), in payoff units.
    pub exploitability: Option<f64>,
}

/// What the verifier measured on a coalition answer (value units of the game).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CoalitionMetrics {
    /// Coalitions in the structure.
    pub coalitions: usize,
    /// `Σ v(C)` over the structure.
    pub welfare: i64,
    /// The welfare the gap is measured against: the reference structure's, or the answer's own
    /// when that is higher or no valid reference was given.
    pub reference_welfare: i64,
    /// Largest gain of a coalition breaking away, `max_S v(S) − x(S)` (≥ 0: the structure's own
    /// coalitions gain nothing); 0 means the payoffs are in the core.
    pub max_blocking_gain: i128,
    /// The coalition with that gain (lowest mask on ties), if positive.
    pub blocking_coalition: Option<u32>,
    /// The reference answer's largest blocking gain (its least-core value, rounded), if a valid
    /// reference was given.
    pub reference_blocking_gain: Option<i128>,
    /// Blocking gain tolerated above the reference's: one unit per player, what rounding a
    /// least-core split to integers can cost.
    pub blocking_tolerance: i128,
}

/// Measurements, by kind of problem.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Metrics {
    /// Nothing could be measured.
    None,
    /// A market settlement.
    Market(MarketMetrics),
    /// A game answer.
    Game(GameMetrics),
    /// A coalition structure and split.
    Coalition(CoalitionMetrics),
}

/// The verifier's judgement of one answer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verdict {
    /// The challenge's class.
    pub class: ProblemClass,
    /// Everything wrong; empty for a valid answer.
    pub violations: Vec<Violation>,
    /// What was measured.
    pub metrics: Metrics,
    /// Relative gap to the reference (welfare shortfall, or ε / exploitability over the payoff
    /// range; for coalitions the larger of the welfare shortfall and the excess blocking gain
    /// over the reference welfare); `None` when it could not be computed.
    pub gap: Option<f64>,
    /// Quality `Q` ∈ [0, 1]: 0 with any violation, else by the bands of the gap.
    pub quality: f64,
}

impl Verdict {
    fn failed(class: ProblemClass, v: Violation) -> Self {
        Self {
            class,
            violations: vec![v],
            metrics: Metrics::None,
            gap: None,
            quality: 0.0,
        }
    }

    /// Whether the answer has no violation.
    #[must_use]
    pub fn is_valid(&self) -> bool {
        self.violations.is_empty()
    }

    fn grade(mut self, config: &Config) -> Self {
        self.quality = match (self.violations.is_empty(), self.gap) {
            (true, Some(g)) => quality(g, &config.quality),
            _ => 0.0,
        };
        self
    }
}

/// Verifies `answer` to `challenge`. For market classes `reference` is the benchmark answer
/// (the validator's solve, or the best known for NP-hard classes); if it is absent or itself
/// invalid, the answer's own welfare is the best known and only feasibility is graded. Game
/// answers need no reference.
#[must_use]
pub fn verify(
    challenge: &Challenge,
    answer: &Answer,
    reference: Option<&Answer>,
    config: &Config,
) -> Verdict {
    let class = challenge.class;
    if let Err(e) = challenge.validate() {
        return Verdict::failed(class, Violation::InvalidChallenge { error: e });
    }
    if answer.challenge() != challenge.id {
        return Verdict::failed(
            class,
            Violation::WrongChallenge {
                expected: challenge.id,
                found: answer.challenge(),
            },
        );
    }
    match (&challenge.problem, answer) {
        (Problem::Market(m), Answer::Settlement(s)) => {
            let reference_welfare = match reference {
                Some(Answer::Settlement(r)) if r.challenge == challenge.id => {
                    let v = evaluate_market(class, m, r, None, config);
                    match (v.is_valid(), v.metrics) {
                        (true, Metrics::Market(mm)) => Some(mm.welfare),
                        _ => None,
                    }
                }
                _ => None,
            };
            evaluate_market(class, m, s, reference_welfare, config)
        }
        (Problem::ZeroSum(g), Answer::Strategies(p)) => verify_zero_sum(g, p, config),
        (Problem::Bimatrix(g), Answer::Strategies(p)) => verify_bimatrix(g, p, config),
        (Problem::ThreePlayer(g), Answer::Strategies(p)) => verify_three_player(g, p, config),
        (Problem::Coalition(g), Answer::Coalitions(a)) => {
            let reference = match reference {
                Some(Answer::Coalitions(r)) if r.challenge == challenge.id => Some(r),
                _ => None,
            };
            verify_coalition(g, a, reference, config)
        }
        _ => Verdict::failed(class, Violation::WrongAnswerType { class }),
    }
}

/// Verifies a settlement of a (validated) market; `reference_welfare` `None` means "the
/// answer's own welfare is the best known".
#[must_use]
pub fn evaluate_market(
    class: ProblemClass,
    market: &MarketInstance,
    s: &Settlement,
    reference_welfare: Option<Money>,
    config: &Config,
) -> Verdict {
    let rules = &config.settlement;
    if let Err(e) = market.validate(class) {
        return Verdict::failed(class, Violation::InvalidChallenge { error: e });
    }
    if let Err(e) = s.validate(rules) {
        return Verdict::failed(class, Violation::Malformed { error: e });
    }
    let mut v = Vec::new();
    let intents: BTreeMap<IntentId, &Intent> = market.intents.iter().map(|i| (i.id, i)).collect();
    let prices: BTreeMap<IntentId, Price> = s.prices.iter().map(|p| (p.intent, p.price)).collect();
    let mut filled: BTreeMap<IntentId, u128> = BTreeMap::new();
    let mut surplus = Money::ZERO;
    let mut traded: u128 = 0;
    for (k, f) in s.fills.iter().enumerate() {
        let seller = intents.get(&f.seller).copied();
        let buyer = intents.get(&f.buyer).copied();
        if seller.is_none() {
            v.push(Violation::UnknownIntent {
                field: format!("fills[{k}].seller"),
                intent: f.seller,
            });
        }
        if buyer.is_none() {
            v.push(Violation::UnknownIntent {
                field: format!("fills[{k}].buyer"),
                intent: f.buyer,
            });
        }
        let (Some(seller), Some(buyer)) = (seller, buyer) else {
            continue;
        };
        if !seller.side.supplies() {
            v.push(Violation::WrongSide {
                field: format!("fills[{k}].seller"),
                intent: seller.id,
            });
        }
        if buyer.side.supplies() {
            v.push(Violation::WrongSide {
                field: format!("fills[{k}].buyer"),
                intent: buyer.id,
            });
        }
        for i in [seller, buyer] {
            if i.resource != f.resource {
                v.push(Violation::ResourceMismatch {
                    fill: k,
                    intent: i.id,
                    expected: i.resource,
                    found: f.resource,
                });
            }
            if !i.window.contains(f.slot) {
                v.push(Violation::SlotOutsideWindow {
                    fill: k,
                    intent: i.id,
                    slot: f.slot,
                });
            }
        }
        if seller.party == buyer.party {
            v.push(Violation::SelfTrade {
                fill: k,
                party: seller.party,
            });
        }
        for (me, other) in [(seller, buyer), (buyer, seller)] {
            if !me.allows(other.party) {
                v.push(Violation::CounterpartyNotAllowed {
                    fill: k,
                    intent: me.id,
                    party: other.party,
                });
            }
        }
        *filled.entry(seller.id).or_default() += u128::from(f.quantity.0);
        *filled.entry(buyer.id).or_default() += u128::from(f.quantity.0);
        traded += u128::from(f.quantity.0);
        if let (Some(&pb), Some(&ps)) = (prices.get(&buyer.id), prices.get(&seller.id)) {
            if pb < ps {
                v.push(Violation::BudgetDeficit {
                    fill: k,
                    buyer_price: pb,
                    seller_price: ps,
                });
            }
            surplus += pb.times(f.quantity) - ps.times(f.quantity);
        }
    }
    for p in &s.prices {
        if !intents.contains_key(&p.intent) {
            v.push(Violation::UnknownIntent {
                field: "prices".into(),
                intent: p.intent,
            });
        }
    }
    let competitive = !class.is_bilateral();
    let mut welfare = Money::ZERO;
    let mut max_gain = Money::ZERO;
    let mut least_stable = None;
    // Per bundle, its legs: (intent, fill, posted price).
    type Leg<'a> = (&'a Intent, Quantity, Option<Price>);
    let mut bundles: BTreeMap<BundleId, Vec<Leg>> = BTreeMap::new();
    for i in &market.intents {
        let total = filled.get(&i.id).copied().unwrap_or(0);
        let q = Quantity(u64::try_from(total).unwrap_or(u64::MAX).min(i.quantity.0));
        if total > u128::from(i.quantity.0) {
            v.push(Violation::OverFilled {
                intent: i.id,
                filled: total,
                quantity: i.quantity,
            });
        } else if total > 0 {
            if q < i.min_fill {
                v.push(Violation::BelowMinFill {
                    intent: i.id,
                    filled: q,
                    min_fill: i.min_fill,
                });
            }
            if !q.0.is_multiple_of(i.lot.0.max(1)) {
                v.push(Violation::NotALotMultiple {
                    intent: i.id,
                    filled: q,
                    lot: i.lot,
                });
            }
        }
        let w = i.worth(q);
        if i.side.supplies() {
            welfare -= w;
        } else {
            welfare += w;
        }
        match prices.get(&i.id) {
            None if total > 0 || competitive => {
                v.push(Violation::MissingPrice { intent: i.id });
            }
            None => {}
            Some(_) if i.bundle.is_some() => {}
            Some(&p) => {
                let u = i.utility(q, p);
                if total > 0 && u < Money::ZERO {
                    v.push(Violation::NotIndividuallyRational {
                        intent: i.id,
                        utility: u,
                    });
                }
                let (_, best) = i.best_response(p);
                let gain = best - u;
                if gain > max_gain {
                    max_gain = gain;
                    least_stable = Some(i.id);
                }
            }
        }
        if let Some(b) = i.bundle
            && total <= u128::from(i.quantity.0)
        {
            bundles
                .entry(b)
                .or_default()
                .push((i, q, prices.get(&i.id).copied()));
        }
    }
    // A bundle is one all-or-nothing decision of its party: every leg in full, or none; it must
    // pay as a whole, and its only deviation is to switch between the two.
    for (b, legs) in &bundles {
        if legs.iter().all(|(_, q, _)| q.0 == 0) {
            // Nothing filled; the deviation to "all" is measured below.
        } else {
            for (i, q, _) in legs {
                if *q != i.quantity {
                    v.push(Violation::BundleIncomplete {
                        bundle: *b,
                        intent: i.id,
                        filled: *q,
                        quantity: i.quantity,
                    });
                }
            }
        }
        let priced: Option<Vec<(&Intent, Quantity, Price)>> = legs
            .iter()
            .map(|(i, q, p)| p.map(|p| (*i, *q, p)))
            .collect();
        let Some(priced) = priced else { continue };
        let now: Money = priced.iter().map(|(i, q, p)| i.utility(*q, *p)).sum();
        if priced.iter().any(|(_, q, _)| q.0 > 0) && now < Money::ZERO {
            v.push(Violation::BundleNotIndividuallyRational {
                bundle: *b,
                utility: now,
            });
        }
        let all_in = priced
            .iter()
            .all(|(i, _, _)| i.admits(i.quantity))
            .then(|| {
                priced
                    .iter()
                    .map(|(i, _, p)| i.utility(i.quantity, *p))
                    .sum::<Money>()
            });
        let best = all_in.map_or(Money::ZERO, |a| a.max(Money::ZERO));
        let gain = best - now;
        if gain > max_gain {
            max_gain = gain;
            least_stable = priced.iter().map(|(i, _, _)| i.id).min();
        }
    }
    if class.is_bilateral()
        && let Some((buyer, seller)) = swap_parties(market)
    {
        let q = filled.get(&buyer.id).copied().unwrap_or(0);
        if q > 0 && q <= u128::from(buyer.quantity.0) {
            let q = Quantity(u64::try_from(q).unwrap_or(u64::MAX));
            let expected = bargaining_price(buyer, seller, q, rules.bargaining_k_ppm);
            for i in [buyer, seller] {
                if let Some(&p) = prices.get(&i.id) {
                    let ok = expected.is_some_and(|e| p.0.abs_diff(e.0) <= rules.price_tolerance.0);
                    if !ok {
                        v.push(Violation::PriceNotBargained {
                            intent: i.id,
                            price: p,
                            expected: expected.map_or_else(|| "none".into(), |e| e.to_string()),
                        });
                    }
                }
            }
        }
    }
    let reference = reference_welfare.map_or(welfare, |r| r.max(welfare));
    let gap = if reference.0 > 0 {
        (reference.0 - welfare.0) as f64 / reference.0 as f64
    } else {
        0.0
    };
    let scale = reference.0.max(1) as f64;
    let metrics = MarketMetrics {
        welfare,
        reference_welfare: reference_welfare.unwrap_or(welfare),
        budget_surplus: surplus,
        max_deviation_gain: max_gain,
        least_stable_intent: least_stable,
        stable: (max_gain.0 as f64) <= rules.stability_tolerance * scale,
        traded,
    };
    Verdict {
        class,
        violations: v,
        metrics: Metrics::Market(metrics),
        gap: Some(gap),
        quality: 0.0,
    }
    .grade(config)
}

fn payoff_range(v: &[i64]) -> f64 {
    let lo = v.iter().copied().min().unwrap_or(0);
    let hi = v.iter().copied().max().unwrap_or(0);
    ((hi - lo) as f64).max(1.0)
}

fn malformed_or(
    class: ProblemClass,
    p: &StrategyProfile,
    actions: &[usize],
    config: &Config,
) -> Option<Verdict> {
    p.validate(actions, config.settlement.probability_tolerance)
        .err()
        .map(|e| Verdict::failed(class, Violation::Malformed { error: e }))
}

/// Verifies strategies for a zero-sum game: regrets, exploitability, gap = exploitability / range.
#[must_use]
pub fn verify_zero_sum(g: &MatrixGame, p: &StrategyProfile, config: &Config) -> Verdict {
    let class = ProblemClass::ZeroSumGame;
    if let Err(e) = g.validate() {
        return Verdict::failed(class, Violation::InvalidChallenge { error: e });
    }
    if let Some(v) = malformed_or(class, p, &[g.rows, g.cols], config) {
        return v;
    }
    let (x, y) = (&p.strategies[0], &p.strategies[1]);
    // Payoffs relative to the smallest one (an exact integer difference; regrets and
    // exploitability are unchanged): with payoffs near ±10¹² and a small range, summing the raw
    // values would lose more than ε of the range to rounding.
    let lo = g.payoffs.iter().copied().min().unwrap_or(0);
    let ay: Vec<f64> = (0..g.rows)
        .map(|i| (0..g.cols).map(|j| (g.at(i, j) - lo) as f64 * y[j]).sum())
        .collect();
    let xa: Vec<f64> = (0..g.cols)
        .map(|j| (0..g.rows).map(|i| x[i] * (g.at(i, j) - lo) as f64).sum())
        .collect();
    let u: f64 = x.iter().zip(&ay).map(|(a, b)| a * b).sum();
    let best_row = ay.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let worst_col = xa.iter().copied().fold(f64::INFINITY, f64::min);
    let exploitability = (best_row - worst_col).max(0.0);
    let range = payoff_range(&g.payoffs);
    let regrets = vec![(best_row - u).max(0.0), (u - worst_col).max(0.0)];
    let gap = exploitability / range;
    Verdict {
        class,
        violations: Vec::new(),
        metrics: Metrics::Game(GameMetrics {
            epsilon: regrets.iter().copied().fold(0.0, f64::max) / range,
            regrets,
            exploitability: Some(exploitability),
        }),
        gap: Some(gap),
        quality: 0.0,
    }
    .grade(config)
}

/// Verifies strategies for a bimatrix game: gap = ε (largest regret over the payoff range).
#[must_use]
pub fn verify_bimatrix(g: &BimatrixGame, p: &StrategyProfile, config: &Config) -> Verdict {
    let class = ProblemClass::GeneralGame;
    if let Err(e) = g.validate() {
        return Verdict::failed(class, Violation::InvalidChallenge { error: e });
    }
    if let Some(v) = malformed_or(class, p, &[g.rows, g.cols], config) {
        return v;
    }
    let (x, y) = (&p.strategies[0], &p.strategies[1]);
    let eps = relative_regret(g, x, y);
    // Both relative to each player's smallest payoff (exact integer differences; regrets are
    // unchanged): with payoffs near ±10¹² and a small range, raw sums would lose more than ε.
    let regrets = regrets(g, x, y).to_vec();
    Verdict {
        class,
        violations: Vec::new(),
        metrics: Metrics::Game(GameMetrics {
            regrets,
            epsilon: eps,
            exploitability: None,
        }),
        gap: Some(eps),
        quality: 0.0,
    }
    .grade(config)
}

/// Each player's regret against the others' mixtures in `s` (one strategy per player, lengths
/// already checked), and ε: the largest regret over the largest payoff range. The three-player
/// solver accepts a candidate by this same function, so what it returns verifies with the same ε.
#[must_use]
pub fn three_player_regrets(g: &ThreePlayerGame, s: &[Vec<f64>]) -> (Vec<f64>, f64) {
    let mut regrets = Vec::with_capacity(3);
    for player in 0..3 {
        // Payoffs are taken relative to the player's smallest one (an exact integer difference;
        // regrets are unchanged): with payoffs near ±10¹² and a small range, summing the raw
        // values would lose more than ε of the range to rounding.
        let lo = g.payoffs[player].iter().copied().min().unwrap_or(0);
        // Payoff of each own action against the others' mixtures.
        let mut by_action = vec![0.0; g.actions[player]];
        for a0 in 0..g.actions[0] {
            for a1 in 0..g.actions[1] {
                for a2 in 0..g.actions[2] {
                    let a = [a0, a1, a2];
                    let others: f64 = (0..3)
                        .filter(|&q| q != player)
                        .map(|q| s[q][a[q]])
                        .product();
                    by_action[a[player]] += others * (g.at(player, a) - lo) as f64;
                }
            }
        }
        let u: f64 = by_action.iter().zip(&s[player]).map(|(v, q)| v * q).sum();
        let best = by_action.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        regrets.push((best - u).max(0.0));
    }
    let scale = g
        .payoffs
        .iter()
        .map(|t| payoff_range(t))
        .fold(1.0, f64::max);
    let eps = regrets.iter().copied().fold(0.0, f64::max) / scale;
    (regrets, eps)
}

/// Verifies strategies for a three-player game: gap = ε (largest regret over the payoff range).
#[must_use]
pub fn verify_three_player(g: &ThreePlayerGame, p: &StrategyProfile, config: &Config) -> Verdict {
    let class = ProblemClass::GeneralGame;
    if let Err(e) = g.validate() {
        return Verdict::failed(class, Violation::InvalidChallenge { error: e });
    }
    if let Some(v) = malformed_or(class, p, &g.actions, config) {
        return v;
    }
    let (regrets, eps) = three_player_regrets(g, &p.strategies);
    Verdict {
        class,
        violations: Vec::new(),
        metrics: Metrics::Game(GameMetrics {
            regrets,
            epsilon: eps,
            exploitability: None,
        }),
        gap: Some(eps),
        quality: 0.0,
    }
    .grade(config)
}

/// Verifies a coalition answer to a game. `reference` is the benchmark (the validator's solve);
/// if it is absent or itself invalid, the answer's own welfare and blocking gain are the best
/// known. The gap is the larger of the welfare shortfall and the blocking gain beyond the
/// reference's (plus [`CoalitionMetrics::blocking_tolerance`]), both relative to the reference
/// welfare. `O(2ⁿ)` for the answer and again for the reference; no solve.
#[must_use]
pub fn verify_coalition(
    g: &CoalitionGame,
    a: &CoalitionAnswer,
    reference: Option<&CoalitionAnswer>,
    config: &Config,
) -> Verdict {
    let class = ProblemClass::CoalitionFormation;
    if let Err(e) = g.validate() {
        return Verdict::failed(class, Violation::InvalidChallenge { error: e });
    }
    if let Err(e) = a.validate(g.players) {
        return Verdict::failed(class, Violation::Malformed { error: e });
    }
    let (violations, mut metrics) = measure_coalition(g, a);
    let tolerance = g.players as i128;
    metrics.blocking_tolerance = tolerance;
    let reference = reference
        .filter(|r| r.validate(g.players).is_ok())
        .map(|r| measure_coalition(g, r))
        .filter(|(v, _)| v.is_empty())
        .map(|(_, m)| m);
    if let Some(r) = &reference {
        metrics.reference_welfare = r.welfare.max(metrics.welfare);
        metrics.reference_blocking_gain = Some(r.max_blocking_gain);
    }
    let scale = (i128::from(metrics.reference_welfare).abs()).max(1) as f64;
    let welfare_gap =
        (i128::from(metrics.reference_welfare) - i128::from(metrics.welfare)) as f64 / scale;
    let excess = metrics
        .reference_blocking_gain
        .map_or(0, |r| (metrics.max_blocking_gain - r - tolerance).max(0));
    let gap = welfare_gap.max(excess as f64 / scale);
    Verdict {
        class,
        violations,
        metrics: Metrics::Coalition(metrics),
        gap: Some(gap),
        quality: 0.0,
    }
    .grade(config)
}

/// Efficiency, individual rationality, welfare and the largest blocking gain of a structurally
/// valid answer (`a.validate(g.players)` passed).
fn measure_coalition(g: &CoalitionGame, a: &CoalitionAnswer) -> (Vec<Violation>, CoalitionMetrics) {
    let mut v = Vec::new();
    let n = g.players;
    let x = &a.payoffs;
    let mut welfare: i64 = 0;
    for &c in &a.structure {
        let value = g.values[c as usize];
        // |v| ≤ 10¹² and at most 16 coalitions: no overflow.
        welfare += value;
        let paid: i128 = (0..n)
            .filter(|&i| c >> i & 1 == 1)
            .map(|i| i128::from(x[i]))
            .sum();
        if paid != i128::from(value) {
            v.push(Violation::CoalitionNotEfficient {
                coalition: c,
                paid,
                value,
            });
        }
    }
    for (player, &payoff) in x.iter().enumerate() {
        let standalone = g.values[1 << player];
        if payoff < standalone {
            v.push(Violation::BelowStandalone {
                player,
                payoff,
                standalone,
            });
        }
    }
    // Gray code: consecutive coalitions differ in one player, so x(S) is updated in O(1) and
    // all 2ⁿ coalitions cost one pass with no table. S = ∅ gains 0, the floor.
    let (mut gain, mut blocking) = (0i128, 0usize);
    let mut paid: i128 = 0;
    let mut s = 0usize;
    for k in 1..1usize << n {
        let i = k.trailing_zeros() as usize;
        s ^= 1 << i;
        if s >> i & 1 == 1 {
            paid += i128::from(x[i]);
        } else {
            paid -= i128::from(x[i]);
        }
        let e = i128::from(g.values[s]) - paid;
        if e > gain || (e == gain && e > 0 && s < blocking) {
            gain = e;
            blocking = s;
        }
    }
    let metrics = CoalitionMetrics {
        coalitions: a.structure.len(),
        welfare,
        reference_welfare: welfare,
        max_blocking_gain: gain,
        blocking_coalition: (gain > 0).then_some(blocking as u32),
        reference_blocking_gain: None,
        blocking_tolerance: 0,
    };
    (v, metrics)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intent::{Side, Window};
    use crate::settlement::{Fill, PostedPrice};
    use crate::units::PICO;

    fn limit(id: u64, party: u32, side: Side, units: u64, whole_price: u64) -> Intent {
        Intent::limit(
            id,
            party,
            side,
            ResourceKind::GPU_HOURS,
            Quantity::units(units),
            Price::new(whole_price, 0),
        )
    }

    /// Buyer 1 (100 @ ≤ 5), seller 2 (60 @ ≥ 2), deferrer 3 (60 @ ≥ 3).
    fn market() -> MarketInstance {
        MarketInstance {
            intents: vec![
                limit(1, 10, Side::Buy, 100, 5),
                limit(2, 20, Side::Sell, 60, 2),
                limit(3, 30, Side::Defer, 60, 3),
            ],
        }
    }

    fn fill(seller: u64, buyer: u64, units: u64) -> Fill {
        Fill {
            seller: IntentId(seller),
            buyer: IntentId(buyer),
            resource: ResourceKind::GPU_HOURS,
            slot: 0,
            quantity: Quantity::units(units),
        }
    }

    fn prices(ps: &[(u64, u64)]) -> Vec<PostedPrice> {
        ps.iter()
            .map(|&(i, p)| PostedPrice {
                intent: IntentId(i),
                price: Price::new(p, 0),
            })
            .collect()
    }

    fn metrics(v: &Verdict) -> MarketMetrics {
        match &v.metrics {
            Metrics::Market(m) => m.clone(),
            other => panic!("not a market verdict: {other:?}"),
        }
    }

    fn run(m: &MarketInstance, s: &Settlement, reference: Option<Money>) -> Verdict {
        evaluate_market(
            ProblemClass::ThreeParty,
            m,
            s,
            reference,
            &Config::default(),
        )
    }

    #[test]
    fn hand_computed_equilibrium() {
        // Optimum: 60 from the seller, 40 from the deferrer; the deferrer is marginal → price 3.
        // Welfare = 100·5 − 60·2 − 40·3 = 260.
        let s = Settlement {
            challenge: ChallengeId(1),
            fills: vec![fill(2, 1, 60), fill(3, 1, 40)],
            prices: prices(&[(1, 3), (2, 3), (3, 3)]),
        };
        let v = run(&market(), &s, Some(Money(260 * PICO)));
        assert!(v.is_valid(), "{:?}", v.violations);
        let m = metrics(&v);
        assert_eq!(m.welfare, Money(260 * PICO));
        assert_eq!(m.budget_surplus, Money::ZERO);
        assert_eq!(m.max_deviation_gain, Money::ZERO);
        assert!(m.stable);
        assert_eq!(m.traded, u128::from(Quantity::units(100).0));
        assert_eq!((v.gap, v.quality), (Some(0.0), 1.0));
    }

    #[test]
    fn hand_computed_gap_surplus_and_instability() {
        // Only the seller's 60, buyer pays 4, seller gets 3: welfare 180, gap 80/260,
        // surplus 60, and at price 3 the deferrer would sell 60 for a gain of 0 while the buyer at
        // 4 wants all 100: gain 40·(5 − 4) = 40.
        let s = Settlement {
            challenge: ChallengeId(1),
            fills: vec![fill(2, 1, 60)],
            prices: prices(&[(1, 4), (2, 3), (3, 3)]),
        };
        let v = run(&market(), &s, Some(Money(260 * PICO)));
        assert!(v.is_valid(), "{:?}", v.violations);
        let m = metrics(&v);
        assert_eq!(m.welfare, Money(180 * PICO));
        assert_eq!(m.budget_surplus, Money(60 * PICO));
        assert_eq!(m.max_deviation_gain, Money(40 * PICO));
        assert_eq!(m.least_stable_intent, Some(IntentId(1)));
        assert!(!m.stable);
        let gap = v.gap.expect("gap");
        assert!((gap - 80.0 / 260.0).abs() < 1e-12);
        assert_eq!(v.quality, 0.0);
    }

    #[test]
    fn each_market_violation_is_reported_with_its_values() {
        let mut m = market();
        m.intents[0].counterparties = vec![PartyId(20)];
        m.intents[1].lot = Quantity::units(25);
        m.intents[2].min_fill = Quantity::units(50);
        m.intents[2].window = Window { start: 1, end: 2 };
        m.intents.push(Intent {
            resource: ResourceKind::STORAGE,
            ..limit(4, 10, Side::Sell, 10, 1)
        });
        // A third resource makes it a valid triangle instance.
        m.intents.push(Intent {
            resource: ResourceKind::BANDWIDTH,
            ..limit(5, 20, Side::Buy, 10, 1)
        });
        let s = Settlement {
            challenge: ChallengeId(1),
            fills: vec![
                fill(2, 1, 30), // not a multiple of 25
                fill(3, 1, 10), // below min fill 50, slot 0 outside [1, 2), party 30 not allowed
                Fill {
                    resource: ResourceKind::STORAGE,
                    ..fill(4, 1, 1) // self-trade, resource mismatch with the buyer
                },
            ],
            prices: prices(&[(1, 2), (2, 3), (3, 3), (5, 1)]),
        };
        let v = evaluate_market(
            ProblemClass::ResourceTriangle,
            &m,
            &s,
            None,
            &Config::default(),
        );
        let has = |f: &dyn Fn(&Violation) -> bool| v.violations.iter().any(f);
        assert!(has(&|x| *x
            == Violation::NotALotMultiple {
                intent: IntentId(2),
                filled: Quantity::units(30),
                lot: Quantity::units(25)
            }));
        assert!(has(&|x| *x
            == Violation::BelowMinFill {
                intent: IntentId(3),
                filled: Quantity::units(10),
                min_fill: Quantity::units(50)
            }));
        assert!(has(&|x| *x
            == Violation::SlotOutsideWindow {
                fill: 1,
                intent: IntentId(3),
                slot: 0
            }));
        assert!(has(&|x| *x
            == Violation::CounterpartyNotAllowed {
                fill: 1,
                intent: IntentId(1),
                party: PartyId(30)
            }));
        assert!(has(&|x| *x
            == Violation::SelfTrade {
                fill: 2,
                party: PartyId(10)
            }));
        assert!(has(&|x| *x
            == Violation::ResourceMismatch {
                fill: 2,
                intent: IntentId(1),
                expected: ResourceKind::GPU_HOURS,
                found: ResourceKind::STORAGE
            }));
        assert!(has(&|x| *x
            == Violation::BudgetDeficit {
                fill: 0,
                buyer_price: Price::new(2, 0),
                seller_price: Price::new(3, 0)
            }));
        assert!(has(&|x| *x
            == Violation::MissingPrice {
                intent: IntentId(4)
            }));
        // The deferrer gets 3 for 10 units costing 3 each: utility 0, rational; the seller at 3
        // with cost 2 is fine; nobody is irrational here.
        assert!(!has(&|x| matches!(
            x,
            Violation::NotIndividuallyRational { .. }
        )));
        assert_eq!(v.quality, 0.0);
        // Messages carry the values.
        let text: Vec<String> = v.violations.iter().map(ToString::to_string).collect();
        assert!(
            text.iter()
                .any(|t| t == "intent 3: filled 10.000000, min_fill 50.000000"),
            "{text:?}"
        );
    }

    #[test]
    fn irrational_and_overfilled_intents() {
        let s = Settlement {
            challenge: ChallengeId(1),
            fills: vec![fill(2, 1, 61)],
            prices: prices(&[(1, 6), (2, 6), (3, 6)]),
        };
        let v = run(&market(), &s, None);
        assert!(v.violations.contains(&Violation::OverFilled {
            intent: IntentId(2),
            filled: u128::from(Quantity::units(61).0),
            quantity: Quantity::units(60),
        }));
        // The buyer pays 6 for something worth 5: −61.
        assert!(v.violations.contains(&Violation::NotIndividuallyRational {
            intent: IntentId(1),
            utility: Money(-61 * PICO),
        }));
    }

    #[test]
    fn swap_price_must_be_the_bargaining_split() {
        let m = MarketInstance {
            intents: vec![
                limit(1, 10, Side::Buy, 10, 5),
                limit(2, 20, Side::Sell, 10, 3),
            ],
        };
        let config = Config::default();
        let s = |p: u64| Settlement {
            challenge: ChallengeId(1),
            fills: vec![fill(2, 1, 10)],
            prices: vec![
                PostedPrice {
                    intent: IntentId(1),
                    price: Price(p),
                },
                PostedPrice {
                    intent: IntentId(2),
                    price: Price(p),
                },
            ],
        };
        let ok = evaluate_market(ProblemClass::SimpleSwap, &m, &s(4_000_000), None, &config);
        assert!(ok.is_valid() && ok.quality == 1.0, "{ok:?}");
        let tick = evaluate_market(ProblemClass::SimpleSwap, &m, &s(4_000_001), None, &config);
        assert!(tick.is_valid(), "one tick is rounding");
        let off = evaluate_market(ProblemClass::SimpleSwap, &m, &s(4_500_000), None, &config);
        assert_eq!(
            off.violations[0],
            Violation::PriceNotBargained {
                intent: IntentId(1),
                price: Price(4_500_000),
                expected: "4.000000".into()
            }
        );
    }

    #[test]
    fn zero_sum_exploitability_by_hand() {
        let g = MatrixGame {
            rows: 2,
            cols: 2,
            payoffs: vec![1, -1, -1, 1],
        };
        let p = |x: Vec<f64>, y: Vec<f64>| StrategyProfile {
            challenge: ChallengeId(1),
            strategies: vec![x, y],
        };
        let config = Config::default();
        let best = verify_zero_sum(&g, &p(vec![0.5, 0.5], vec![0.5, 0.5]), &config);
        assert_eq!((best.gap, best.quality), (Some(0.0), 1.0));
        // Row plays heads: the column player wins 1 for sure by tails; row's best reply to the
        // uniform column is worth 0; exploitability 0 − (−1) = 1, over range 2: gap ½, Q = 0.
        let v = verify_zero_sum(&g, &p(vec![1.0, 0.0], vec![0.5, 0.5]), &config);
        let Metrics::Game(m) = &v.metrics else {
            panic!("game metrics")
        };
        assert_eq!(m.exploitability, Some(1.0));
        assert_eq!(m.regrets, vec![0.0, 1.0]);
        assert_eq!((v.gap, v.quality), (Some(0.5), 0.0));
        // Slightly off: 0.5005 / 0.4995 → exploitability 0.001 → gap 0.0005 → Q 0.95.
        let v = verify_zero_sum(&g, &p(vec![0.5005, 0.4995], vec![0.5, 0.5]), &config);
        assert_eq!(v.quality, 0.95, "{v:?}");
        let bad = verify_zero_sum(&g, &p(vec![f64::NAN, 1.0], vec![0.5, 0.5]), &config);
        assert!(matches!(bad.violations[0], Violation::Malformed { .. }));
    }

    #[test]
    fn gray_code_blocking_gain_matches_direct_sums() {
        let mut rng = crate::generate::SplitMix64::new(11);
        for n in 1..=8usize {
            let g = CoalitionGame {
                players: n,
                values: (0..1usize << n)
                    .map(|s| if s == 0 { 0 } else { rng.range(0, 200) as i64 })
                    .collect(),
            };
            let a = CoalitionAnswer {
                challenge: ChallengeId(1),
                structure: vec![(1u32 << n) - 1],
                payoffs: (0..n).map(|_| rng.range(0, 60) as i64 - 10).collect(),
            };
            let (_, m) = measure_coalition(&g, &a);
            let mut best = (0i128, None);
            for s in 1..1usize << n {
                let paid: i128 = (0..n)
                    .filter(|&i| s >> i & 1 == 1)
                    .map(|i| i128::from(a.payoffs[i]))
                    .sum();
                let e = i128::from(g.values[s]) - paid;
                if e > best.0 {
                    best = (e, Some(s as u32));
                }
            }
            assert_eq!((m.max_blocking_gain, m.blocking_coalition), best, "n {n}");
        }
    }

    #[test]
    fn three_player_regret_by_hand() {
        // Everyone gets 1 if all play action 0, else 0. (0,0,0) is an equilibrium; (1,1,1) too
        // (no single deviation helps); mixing ½ each: player's payoff ¼·½ = ⅛, action 0 gives ¼:
        // regret ⅛.
        let mut t = vec![0i64; 8];
        t[0] = 1;
        let g = ThreePlayerGame {
            actions: [2, 2, 2],
            payoffs: [t.clone(), t.clone(), t],
        };
        let config = Config::default();
        let p = |s: Vec<f64>| StrategyProfile {
            challenge: ChallengeId(1),
            strategies: vec![s.clone(), s.clone(), s],
        };
        assert_eq!(
            verify_three_player(&g, &p(vec![1.0, 0.0]), &config).quality,
            1.0
        );
        assert_eq!(
            verify_three_player(&g, &p(vec![0.0, 1.0]), &config).quality,
            1.0
        );
        let v = verify_three_player(&g, &p(vec![0.5, 0.5]), &config);
        let Metrics::Game(m) = &v.metrics else {
            panic!("game metrics")
        };
        assert_eq!(m.regrets, vec![0.125; 3]);
        assert_eq!(v.gap, Some(0.125));
    }
}
