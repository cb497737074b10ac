//! Errors: what is wrong with an input, named by field and value.
//!
//! Validation errors ([`IntentError`], [`InstanceError`]) reject malformed input before any
//! mechanism logic runs. [`SolveError`] is what a reference solver reports. The verifier does not
//! error: a bad *answer* is a [`crate::verify::Violation`] inside a verdict, never an `Err`.

use crate::class::ProblemClass;
use crate::units::{BundleId, ChallengeId, IntentId, PartyId, Price, Quantity};
use thiserror::Error;

/// The crate's error.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum Error {
    /// An intent is malformed.
    #[error(transparent)]
    Intent(#[from] IntentError),
    /// A challenge or problem instance is malformed.
    #[error(transparent)]
    Instance(#[from] InstanceError),
    /// A settlement or game answer is malformed.
    #[error(transparent)]
    Settlement(#[from] SettlementError),
    /// A reference solver failed.
    #[error(transparent)]
    Solve(#[from] SolveError),
    /// JSON did not parse into the expected type.
    #[error("JSON: {0}")]
    Json(String),
}

/// `Result` with the crate's [`enum@Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why an intent is rejected.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum IntentError {
    /// `quantity` is zero.
    #[error("intent {intent}: quantity must be positive")]
    ZeroQuantity {
        /// The intent.
        intent: IntentId,
    },
    /// `quantity` exceeds [`Quantity::MAX_VALID`].
    #[error("intent {intent}: quantity {quantity} exceeds the maximum {max}", max = Quantity::MAX_VALID)]
    QuantityTooLarge {
        /// The intent.
        intent: IntentId,
        /// The quantity given.
        quantity: Quantity,
    },
    /// `min_fill` is larger than `quantity`.
    #[error("intent {intent}: min_fill {min_fill} is above quantity {quantity}")]
    MinFillAboveQuantity {
        /// The intent.
        intent: IntentId,
        /// The minimum fill given.
        min_fill: Quantity,
        /// The quantity given.
        quantity: Quantity,
    },
    /// `lot` is zero (use one micro-unit for "divisible").
    #[error("intent {intent}: lot must be at least 0.000001 (one micro-unit)")]
    ZeroLot {
        /// The intent.
        intent: IntentId,
    },
    /// `lot` is larger than `quantity`, so no fill is possible.
    #[error("intent {intent}: lot {lot} is above quantity {quantity}")]
    LotAboveQuantity {
        /// The intent.
        intent: IntentId,
        /// The lot given.
        lot: Quantity,
        /// The quantity given.
        quantity: Quantity,
    },
    /// No multiple of `lot` lies in `[max(min_fill, lot), quantity]`.
    #[error(
        "intent {intent}: no multiple of lot {lot} lies between min_fill {min_fill} and quantity {quantity}"
    )]
    NoFeasibleLot {
        /// The intent.
        intent: IntentId,
        /// The lot given.
        lot: Quantity,
        /// The minimum fill given.
        min_fill: Quantity,
        /// The quantity given.
        quantity: Quantity,
    },
    /// `window.start >= window.end`.
    #[error("intent {intent}: window [{start}, {end}) is empty")]
    EmptyWindow {
        /// The intent.
        intent: IntentId,
        /// `window.start`.
        start: u32,
        /// `window.end`.
        end: u32,
    },
    /// A price exceeds [`Price::MAX_VALID`].
    #[error("intent {intent}: price {price} exceeds the maximum {max}", max = Price::MAX_VALID)]
    PriceTooLarge {
        /// The intent.
        intent: IntentId,
        /// The price given.
        price: Price,
    },
    /// A piecewise valuation has no segments.
    #[error("intent {intent}: valuation.segments is empty")]
    EmptyValuation {
        /// The intent.
        intent: IntentId,
    },
    /// A piecewise segment has zero length.
    #[error("intent {intent}: valuation.segments[{segment}].quantity is zero")]
    ZeroLengthSegment {
        /// The intent.
        intent: IntentId,
        /// Index of the segment.
        segment: usize,
    },
    /// The segment lengths do not add up to `quantity`.
    #[error("intent {intent}: valuation segments cover {covered}, quantity is {quantity}")]
    SegmentsDoNotCoverQuantity {
        /// The intent.
        intent: IntentId,
        /// Sum of segment lengths.
        covered: Quantity,
        /// The quantity given.
        quantity: Quantity,
    },
    /// A buyer's marginal value increases: the valuation is not concave.
    #[error(
        "intent {intent}: buy valuation not concave: segments[{segment}].price {price} is above the previous {previous}"
    )]
    NotConcave {
        /// The intent.
        intent: IntentId,
        /// Index of the offending segment.
        segment: usize,
        /// The previous segment's price.
        previous: Price,
        /// The offending price.
        price: Price,
    },
    /// A seller's or deferrer's marginal cost decreases: the cost is not convex.
    #[error(
        "intent {intent}: sell/defer cost not convex: segments[{segment}].price {price} is below the previous {previous}"
    )]
    NotConvex {
        /// The intent.
        intent: IntentId,
        /// Index of the offending segment.
        segment: usize,
        /// The previous segment's price.
        previous: Price,
        /// The offending price.
        price: Price,
    },
    /// The intent lists its own party as a counterparty.
    #[error("intent {intent}: counterparties lists the intent's own party {party}")]
    SelfCounterparty {
        /// The intent.
        intent: IntentId,
        /// The party.
        party: PartyId,
    },
    /// A counterparty is listed twice.
    #[error("intent {intent}: counterparties lists party {party} twice")]
    DuplicateCounterparty {
        /// The intent.
        intent: IntentId,
        /// The party.
        party: PartyId,
    },
}

/// Why a challenge or problem instance is rejected.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum InstanceError {
    /// One of the intents is malformed.
    #[error(transparent)]
    Intent(#[from] IntentError),
    /// Two intents share an id.
    #[error("intents: id {intent} appears twice")]
    DuplicateIntent {
        /// The repeated id.
        intent: IntentId,
    },
    /// A party is listed twice in `parties`.
    #[error("parties: {party} appears twice")]
    DuplicateParty {
        /// The repeated party.
        party: PartyId,
    },
    /// An intent's party is not among the challenge's `parties`.
    #[error("intent {intent}: party {party} is not among the challenge's parties")]
    UnknownParty {
        /// The intent.
        intent: IntentId,
        /// Its party.
        party: PartyId,
    },
    /// The instance does not have the shape its class requires.
    #[error("{class:?} instance: {reason}")]
    ClassShape {
        /// The class.
        class: ProblemClass,
        /// What is wrong, naming the field.
        reason: String,
    },
    /// The legs of a bundle belong to different parties (a bundle is one party's package).
    #[error("intent {intent}: bundle {bundle} belongs to party {expected}, not {party}")]
    BundleAcrossParties {
        /// The bundle.
        bundle: BundleId,
        /// The leg whose party differs.
        intent: IntentId,
        /// Its party.
        party: PartyId,
        /// The party of the bundle's first leg.
        expected: PartyId,
    },
    /// A payoff table has the wrong number of entries.
    #[error("{field}: expected {expected} entries, found {found}")]
    PayoffLength {
        /// The field, e.g. `"payoffs"`.
        field: &'static str,
        /// Entries required by the dimensions.
        expected: usize,
        /// Entries given.
        found: usize,
    },
    /// A game dimension is zero or above the limit.
    #[error("{field}: {value} is outside 1..={max}")]
    Dimension {
        /// The field, e.g. `"rows"`.
        field: &'static str,
        /// The value given.
        value: usize,
        /// The largest accepted value.
        max: usize,
    },
    /// A payoff or coalition value is outside ±[`crate::class::MAX_PAYOFF`].
    #[error("{field}[{index}] = {value} is outside ±{max}", max = crate::class::MAX_PAYOFF)]
    PayoffTooLarge {
        /// The field.
        field: &'static str,
        /// Index of the entry.
        index: usize,
        /// The value.
        value: i64,
    },
    /// The value of the empty coalition is not zero.
    #[error("values[0] (the empty coalition) is {value}, must be 0")]
    EmptyCoalitionValue {
        /// The value given.
        value: i64,
    },
    /// The settlement or answer is for another challenge.
    #[error("answer is for challenge {found}, expected {expected}")]
    WrongChallenge {
        /// The challenge being verified.
        expected: ChallengeId,
        /// The challenge named by the answer.
        found: ChallengeId,
    },
}

/// Why a reference solver produced no answer.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SolveError {
    /// The instance is malformed.
    #[error(transparent)]
    Instance(#[from] InstanceError),
    /// The linear program has no feasible point.
    #[error("linear program is infeasible")]
    Infeasible,
    /// The linear program is unbounded.
    #[error("linear program is unbounded")]
    Unbounded,
    /// The pivot limit was reached.
    #[error("{solver}: no answer within {iterations} pivots")]
    IterationLimit {
        /// Which solver.
        solver: &'static str,
        /// The limit that was reached.
        iterations: usize,
    },
    /// The solver's answer failed its own exactness check (numerical trouble).
    #[error("{solver}: answer failed its check: {detail}")]
    Numerical {
        /// Which solver.
        solver: &'static str,
        /// What failed.
        detail: String,
    },
    /// A search ended without an equilibrium: its limit was reached, or every candidate it
    /// could examine failed (possible in degenerate games, where a local equation solver can miss
    /// solutions).
    #[error(
        "{solver}: no equilibrium found for a {actions:?} game after examining {examined} support candidates (limit {limit}; {tried})"
    )]
    NoEquilibriumFound {
        /// Which solver.
        solver: &'static str,
        /// Actions of each player.
        actions: Vec<usize>,
        /// Support candidates examined.
        examined: usize,
        /// The limit on candidates.
        limit: usize,
        /// What was tried, in words.
        tried: String,
    },
    /// This reference solver does not handle this input (yet); the field is named.
    #[error("{class:?}: reference solver does not handle {what}")]
    Unsupported {
        /// The class.
        class: ProblemClass,
        /// What is not handled.
        what: String,
    },
}

/// Why a settlement or game answer is structurally malformed (before any economics is checked).
#[derive(Debug, Error, Clone, PartialEq)]
pub enum SettlementError {
    /// More fills than [`crate::config::SettlementRules::max_fills`].
    #[error("fills: {count} entries, at most {max} accepted")]
    TooManyFills {
        /// Fills given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// More posted prices than [`crate::config::SettlementRules::max_fills`].
    #[error("prices: {count} entries, at most {max} accepted")]
    TooManyPrices {
        /// Prices given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A fill moves nothing.
    #[error("fills[{index}].quantity is zero")]
    ZeroFill {
        /// Index of the fill.
        index: usize,
    },
    /// A fill's quantity exceeds [`Quantity::MAX_VALID`].
    #[error("fills[{index}].quantity {quantity} exceeds the maximum")]
    FillTooLarge {
        /// Index of the fill.
        index: usize,
        /// The quantity given.
        quantity: Quantity,
    },
    /// A posted price exceeds [`Price::MAX_VALID`].
    #[error("prices: intent {intent} has price {price} above the maximum")]
    PriceTooLarge {
        /// The intent priced.
        intent: IntentId,
        /// The price given.
        price: Price,
    },
    /// An intent is priced twice.
    #[error("prices: intent {intent} appears twice")]
    DuplicatePrice {
        /// The intent.
        intent: IntentId,
    },
    /// The answer has strategies for the wrong number of players.
    #[error("strategies: {found} players given, the game has {expected}")]
    PlayerCount {
        /// Players in the game.
        expected: usize,
        /// Strategies given.
        found: usize,
    },
    /// A strategy has the wrong number of probabilities.
    #[error("strategies[{player}]: {found} probabilities given, the player has {expected} actions")]
    StrategyLength {
        /// The player.
        player: usize,
        /// Actions of the player.
        expected: usize,
        /// Probabilities given.
        found: usize,
    },
    /// A probability is NaN or infinite.
    #[error("strategies[{player}][{action}] = {value} is not finite")]
    NotFinite {
        /// The player.
        player: usize,
        /// The action.
        action: usize,
        /// The value.
        value: f64,
    },
    /// A probability is negative beyond tolerance.
    #[error("strategies[{player}][{action}] = {value} is negative")]
    NegativeProbability {
        /// The player.
        player: usize,
        /// The action.
        action: usize,
        /// The value.
        value: f64,
    },
    /// Probabilities do not sum to 1 within tolerance.
    #[error("strategies[{player}] sums to {sum}, not 1")]
    ProbabilitySum {
        /// The player.
        player: usize,
        /// The sum.
        sum: f64,
    },
    /// A coalition answer has more coalitions than the game has players (so some are empty or
    /// overlap; rejected before anything else is looked at).
    #[error("structure: {found} coalitions given, the game has {players} players")]
    CoalitionCount {
        /// Players in the game.
        players: usize,
        /// Coalitions given.
        found: usize,
    },
    /// A coalition is the empty mask.
    #[error("structure[{index}] is empty")]
    EmptyCoalition {
        /// Index of the coalition.
        index: usize,
    },
    /// A coalition names players the game does not have.
    #[error("structure[{index}] = {mask:#x} names players beyond the game's {players}")]
    CoalitionOutsideGame {
        /// Index of the coalition.
        index: usize,
        /// Its bitmask.
        mask: u32,
        /// Players in the game.
        players: usize,
    },
    /// Two coalitions share a player.
    #[error("structure[{index}] overlaps an earlier coalition in player {player}")]
    CoalitionOverlap {
        /// Index of the later coalition.
        index: usize,
        /// The lowest shared player.
        player: usize,
    },
    /// A player is in no coalition.
    #[error("structure: player {player} is in no coalition")]
    PlayerUncovered {
        /// The player.
        player: usize,
    },
    /// The payoff vector does not have one entry per player.
    #[error("payoffs: {found} given, the game has {players} players")]
    PayoffCount {
        /// Players in the game.
        players: usize,
        /// Payoffs given.
        found: usize,
    },
}
