//! Every mechanism parameter, in one place, with the defaults of `DESIGN.md`.
//!
//! Parts of the mechanism that later modules implement (TWF, strata, PMU, SPF, pools, fidelity
//! slash, Yuma consensus, manifold) already have their parameters here so that the whole
//! mechanism is configured by one serialisable value. Values the public design does not fix are
//! marked "our choice" in their doc.

use crate::class::ProblemClass;
use crate::units::Price;
use serde::{Deserialize, Serialize};

/// All mechanism parameters. `Config::default()` is the design's configuration; JSON may give
/// any subset of fields (the rest take their defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// How quality `Q` falls with the gap to the reference.
    pub quality: QualityBands,
    /// Settlement rules the verifier enforces.
    pub settlement: SettlementRules,
    /// Reference solver limits.
    pub solver: SolverLimits,
    /// Time-weighted fidelity.
    pub twf: TwfConfig,
    /// Strata and their TWF floors, best first.
    pub strata: Vec<StratumRule>,
    /// Proof of marginal utility.
    pub pmu: PmuConfig,
    /// Subnet priority factor.
    pub spf: SpfConfig,
    /// Split of the miners' emission.
    pub pools: PoolSplit,
    /// Split of each epoch's emission between miners and validators.
    pub epoch_split: EpochSplit,
    /// Tiered TWF decay for low-quality answers, strictest tier last (our choice: `Q < 0.8` →
    /// ×0.99, `Q < 0.5` → ×0.95, `Q = 0` (below the smallest positive float) → ×0.90).
    pub fidelity_slash: Vec<SlashTier>,
    /// Yuma consensus.
    pub yuma: YumaConfig,
    /// Manifold encoding.
    pub manifold: ManifoldConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            quality: QualityBands::default(),
            settlement: SettlementRules::default(),
            solver: SolverLimits::default(),
            twf: TwfConfig::default(),
            strata: vec![
                StratumRule {
                    stratum: Stratum::Platinum,
                    top_fraction: Some(0.01),
                    min_challenges: 5000,
                    twf_floor: 1.3,
                },
                StratumRule {
                    stratum: Stratum::Gold,
                    top_fraction: Some(0.10),
                    min_challenges: 5000,
                    twf_floor: 1.2,
                },
                StratumRule {
                    stratum: Stratum::Silver,
                    top_fraction: None,
                    min_challenges: 1000,
                    twf_floor: 1.0,
                },
                StratumRule {
                    stratum: Stratum::Bronze,
                    top_fraction: None,
                    min_challenges: 0,
                    twf_floor: 0.7,
                },
            ],
            pmu: PmuConfig::default(),
            spf: SpfConfig::default(),
            pools: PoolSplit::default(),
            epoch_split: EpochSplit::default(),
            fidelity_slash: vec![
                SlashTier {
                    below_quality: 0.80,
                    twf_factor: 0.99,
                },
                SlashTier {
                    below_quality: 0.50,
                    twf_factor: 0.95,
                },
                SlashTier {
                    below_quality: f64::MIN_POSITIVE,
                    twf_factor: 0.90,
                },
            ],
            yuma: YumaConfig::default(),
            manifold: ManifoldConfig::default(),
        }
    }
}

/// `Q` as a function of the relative gap `g` to the reference (welfare shortfall over reference
/// welfare for markets; regret or exploitability over the payoff range for games):
/// `g ≤ frontier_gap` → 1.0; `≤ near_gap` → `near_quality`; `≤ close_gap` → `close_quality`;
/// then linear from `close_quality` down to 0 at `zero_gap`; 0 beyond. Any violation gives 0.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct QualityBands {
    /// Largest gap still "on the frontier" (numerical tolerance). Default 1e-9.
    pub frontier_gap: f64,
    /// "Within 0.1 %": default 0.001.
    pub near_gap: f64,
    /// Quality within `near_gap`: default 0.95.
    pub near_quality: f64,
    /// "Within 1 %": default 0.01.
    pub close_gap: f64,
    /// Quality within `close_gap`: default 0.80.
    pub close_quality: f64,
    /// Gap at which quality reaches 0 (our choice: 10 %).
    pub zero_gap: f64,
}

impl Default for QualityBands {
    fn default() -> Self {
        Self {
            frontier_gap: 1e-9,
            near_gap: 0.001,
            near_quality: 0.95,
            close_gap: 0.01,
            close_quality: 0.80,
            zero_gap: 0.10,
        }
    }
}

/// What the verifier requires of a settlement beyond feasibility.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SettlementRules {
    /// Seller's share of the surplus in a bilateral (swap) settlement, in parts per million:
    /// the generalised Nash bargaining split with power `k`. Default 500 000 (k = ½, even split).
    pub bargaining_k_ppm: u32,
    /// How far (in price ticks of 10⁻⁶) a swap price may sit from the bargaining price. Default 1
    /// (rounding).
    pub price_tolerance: Price,
    /// Largest deviation gain, relative to the reference welfare, for a market settlement to count
    /// as stable. Default 1e-6.
    pub stability_tolerance: f64,
    /// Tolerance on mixed strategies: each probability ≥ −tol and their sum within tol of 1.
    /// Default 1e-9.
    pub probability_tolerance: f64,
    /// Most fills a settlement may list (bounds verification work). Default 100 000.
    pub max_fills: usize,
}

impl Default for SettlementRules {
    fn default() -> Self {
        Self {
            bargaining_k_ppm: 500_000,
            price_tolerance: Price(1),
            stability_tolerance: 1e-6,
            probability_tolerance: 1e-9,
            max_fills: 100_000,
        }
    }
}

/// Limits of the reference solvers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SolverLimits {
    /// Simplex pivots before giving up. Default 100 000.
    pub lp_max_pivots: usize,
    /// Consecutive degenerate pivots after which the simplex switches from Dantzig's rule to
    /// Bland's rule (anti-cycling). Default 50.
    pub lp_degenerate_switch: usize,
    /// Lemke–Howson pivots per starting label. Default 20 000.
    pub lh_max_pivots: usize,
    /// Starting labels Lemke–Howson tries before giving up. Default 64.
    pub lh_max_restarts: usize,
    /// Support candidates the three-player support enumeration examines before giving up (each
    /// choice of one player's support in the backtracking search counts once). Default
    /// 2 000 000.
    pub three_player_max_supports: usize,
    /// Constraint-generation rounds of the least-core LP (coalition formation) before giving
    /// up. Default 200.
    pub least_core_max_rounds: usize,
    /// Branch-and-bound nodes the market MILP (lots, minimum fills, bundles) explores before it
    /// stops and returns its best answer so far. Default 5000.
    pub milp_max_nodes: usize,
}

impl Default for SolverLimits {
    fn default() -> Self {
        Self {
            lp_max_pivots: 100_000,
            lp_degenerate_switch: 50,
            lh_max_pivots: 20_000,
            lh_max_restarts: 64,
            three_player_max_supports: 2_000_000,
            least_core_max_rounds: 200,
            milp_max_nodes: 5000,
        }
    }
}

/// Time-weighted fidelity: a rolling score over a miner's recent challenges.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TwfConfig {
    /// Challenges in the rolling window. Default 1000.
    pub window: usize,
    /// Weight of accuracy (share of answers on the frontier). Default 0.5.
    pub accuracy_weight: f64,
    /// Weight of uptime (share of challenges answered). Default 0.2.
    pub uptime_weight: f64,
    /// Weight of latency (answers within the threshold). Default 0.3.
    pub latency_weight: f64,
    /// Latency threshold in milliseconds. Default 50.
    pub latency_threshold_ms: u64,
    /// Least `Q` that counts as "on the frontier" for accuracy. Default 1.0.
    pub accuracy_min_quality: f64,
    /// Lowest TWF. Default 0.5.
    pub min: f64,
    /// Highest TWF. Default 1.5.
    pub max: f64,
    /// TWF of a new miner (Bronze). Default 0.7.
    pub start: f64,
}

impl Default for TwfConfig {
    fn default() -> Self {
        Self {
            window: 1000,
            accuracy_weight: 0.5,
            uptime_weight: 0.2,
            latency_weight: 0.3,
            latency_threshold_ms: 50,
            accuracy_min_quality: 1.0,
            min: 0.5,
            max: 1.5,
            start: 0.7,
        }
    }
}

/// A miner's standing, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stratum {
    /// Top 1 %, 5000+ challenges: floor 1.3.
    Platinum,
    /// Top 10 %, 5000+ challenges: floor 1.2.
    Gold,
    /// 1000+ challenges: floor 1.0.
    Silver,
    /// Newcomers: floor 0.7.
    Bronze,
}

/// A stratum's requirement: miners meeting it have at least its TWF floor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StratumRule {
    /// The stratum granted.
    pub stratum: Stratum,
    /// Required rank: within this top fraction by merit (TWF before the floor), measured as a
    /// share of the epoch's credited work so that extra identities make no room (see
    /// `score::strata`); None: no rank requirement.
    pub top_fraction: Option<f64>,
    /// Required number of challenges answered.
    pub min_challenges: u64,
    /// TWF floor granted.
    pub twf_floor: f64,
}

/// Base, complexity multiplier and typical solver count of one class.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PmuEntry {
    /// Base PMU.
    pub base: f64,
    /// Complexity multiplier.
    pub complexity: f64,
    /// The number of solvers the class typically has (the seed table's "typical solvers"): the
    /// `solvers` of the formula. A count taken from one challenge's answers would be a count of
    /// identities or of distinct answers, which a miner splitting into sybils inflates for free
    /// to lower the reward of challenges others win (see [`crate::score`]).
    pub solvers: u64,
}

/// Proof of marginal utility: `base × 1/√solvers × complexity × uniqueness`, clamped, with
/// `solvers` the class's typical solver count.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PmuConfig {
    /// Simple two-party swap: 0.3 / 1.0 / 150 solvers (seed table: "150+").
    pub simple_swap: PmuEntry,
    /// Two-party with constraints: 0.7 / 1.2 / 75 (seed table: "50–100").
    pub constrained_swap: PmuEntry,
    /// Three-party optimisation: 1.8 / 2.5 / 20 (seed table: "10–30").
    pub three_party: PmuEntry,
    /// Multi-subnet resource triangle: 3.0 / 4.0 / 6 (seed table: "3–10").
    pub resource_triangle: PmuEntry,
    /// Zero-sum game (polynomial, like a constrained swap): 0.7 / 1.2 / 75 (our choice).
    pub zero_sum_game: PmuEntry,
    /// General game (PPAD-complete, like three-party): 1.8 / 2.5 / 20 (our choice).
    pub general_game: PmuEntry,
    /// Coalition formation (NP-hard, like the triangle): 3.0 / 4.0 / 6 (our choice).
    pub coalition_formation: PmuEntry,
    /// Lowest PMU. Default 0.1.
    pub min: f64,
    /// Highest PMU. Default 5.0.
    pub max: f64,
    /// Multiplier for the first miner to reach the best answer (our choice: 1.5).
    pub uniqueness_bonus: f64,
    /// Largest share of the discovery pool the easy classes (simple and constrained swaps)
    /// may take together in an epoch: the saturation cap (our choice: 0.25).
    pub saturation_cap: f64,
    /// Grid mixed strategies are rounded to before answers are compared for identity (our
    /// choice: 10⁻⁶). Two honest solvers reach the same equilibrium up to the last bits of their
    /// floats and should group; perturbing a copy far enough to leave its grid cell usually costs
    /// the 10⁻⁹ ε-regret check (copying across miners is stopped by the per-miner salt anyway).
    pub identical_strategy_grid: f64,
}

impl Default for PmuConfig {
    fn default() -> Self {
        let e = |base, complexity, solvers| PmuEntry {
            base,
            complexity,
            solvers,
        };
        Self {
            simple_swap: e(0.3, 1.0, 150),
            constrained_swap: e(0.7, 1.2, 75),
            three_party: e(1.8, 2.5, 20),
            resource_triangle: e(3.0, 4.0, 6),
            zero_sum_game: e(0.7, 1.2, 75),
            general_game: e(1.8, 2.5, 20),
            coalition_formation: e(3.0, 4.0, 6),
            min: 0.1,
            max: 5.0,
            uniqueness_bonus: 1.5,
            saturation_cap: 0.25,
            identical_strategy_grid: 1e-6,
        }
    }
}

impl PmuConfig {
    /// The table entry of a class.
    #[must_use]
    pub fn entry(&self, class: ProblemClass) -> PmuEntry {
        match class {
            ProblemClass::SimpleSwap => self.simple_swap,
            ProblemClass::ConstrainedSwap => self.constrained_swap,
            ProblemClass::ThreeParty => self.three_party,
            ProblemClass::ResourceTriangle => self.resource_triangle,
            ProblemClass::ZeroSumGame => self.zero_sum_game,
            ProblemClass::GeneralGame => self.general_game,
            ProblemClass::CoalitionFormation => self.coalition_formation,
        }
    }
}

/// Subnet priority factor per intent source.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SpfConfig {
    /// Lowest SPF. Default 0.8.
    pub min: f64,
    /// Highest SPF. Default 1.2.
    pub max: f64,
    /// SPF of a source with no priority set. Default 1.0.
    pub default: f64,
}

impl Default for SpfConfig {
    fn default() -> Self {
        Self {
            min: 0.8,
            max: 1.2,
            default: 1.0,
        }
    }
}

/// How an epoch's emission is divided between miners and validators. Integer parts per
/// million, so every validator divides the same amount the same way.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EpochSplit {
    /// Validators' share in parts per million; the miners get the rest. Default 500 000
    /// (half), as the simulation has always used; DESIGN.md fixes only the miners' pools.
    pub validators_ppm: u32,
}

impl Default for EpochSplit {
    fn default() -> Self {
        Self {
            validators_ppm: 500_000,
        }
    }
}

impl EpochSplit {
    /// `(miners, validators)` parts of `emission`; they sum to `emission` exactly.
    #[must_use]
    pub fn divide(&self, emission: u128) -> (u128, u128) {
        let ppm = u128::from(self.validators_ppm.min(1_000_000));
        let validators = crate::score::mul_div(emission, ppm, 1_000_000);
        (emission - validators, validators)
    }
}

/// How the miners' emission is split.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PoolSplit {
    /// Stability pool, distributed by TWF. Default 0.4.
    pub stability: f64,
    /// Discovery pool, distributed by ΣS. Default 0.6.
    pub discovery: f64,
}

impl Default for PoolSplit {
    fn default() -> Self {
        Self {
            stability: 0.4,
            discovery: 0.6,
        }
    }
}

/// A fidelity-slash tier: an answer with `Q < below_quality` multiplies the miner's TWF by
/// `twf_factor` (the strictest matching tier applies). Tiers are our choice.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SlashTier {
    /// Quality below which the tier applies.
    pub below_quality: f64,
    /// TWF multiplier.
    pub twf_factor: f64,
}

/// Yuma consensus parameters (as Bittensor runs it; see [`crate::consensus`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct YumaConfig {
    /// Stake share that the consensus weight must reach: the stake-weighted median. Default 0.5.
    pub kappa: f64,
    /// Bond EMA rate: new bonds = (1 − α) old + α current. Default 0.1.
    pub bond_alpha: f64,
}

impl Default for YumaConfig {
    fn default() -> Self {
        Self {
            kappa: 0.5,
            bond_alpha: 0.1,
        }
    }
}

/// Manifold encoding parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ManifoldConfig {
    /// Encoding version. Default 1.
    pub version: u32,
    /// Dimensions. Default 256.
    pub dimensions: usize,
}

impl Default for ManifoldConfig {
    fn default() -> Self {
        Self {
            version: 1,
            dimensions: 256,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_design_values() {
        let c = Config::default();
        assert_eq!((c.pools.stability, c.pools.discovery), (0.4, 0.6));
        assert_eq!(c.twf.window, 1000);
        assert_eq!(
            (
                c.twf.accuracy_weight,
                c.twf.uptime_weight,
                c.twf.latency_weight
            ),
            (0.5, 0.2, 0.3)
        );
        assert_eq!((c.twf.min, c.twf.max, c.twf.start), (0.5, 1.5, 0.7));
        let floors: Vec<f64> = c.strata.iter().map(|s| s.twf_floor).collect();
        assert_eq!(floors, vec![1.3, 1.2, 1.0, 0.7]);
        assert_eq!(c.pmu.entry(ProblemClass::ResourceTriangle).base, 3.0);
        assert_eq!((c.pmu.min, c.pmu.max), (0.1, 5.0));
        assert_eq!((c.spf.min, c.spf.max), (0.8, 1.2));
        assert_eq!(c.quality.near_quality, 0.95);
        assert_eq!(c.manifold.dimensions, 256);
    }

    #[test]
    fn partial_json_takes_defaults() {
        let c: Config =
            serde_json::from_str(r#"{"settlement":{"bargaining_k_ppm":250000}}"#).expect("parses");
        assert_eq!(c.settlement.bargaining_k_ppm, 250_000);
        assert_eq!(c.settlement.max_fills, 100_000);
        assert_eq!(c.twf, TwfConfig::default());
        let back: Config =
            serde_json::from_str(&serde_json::to_string(&c).expect("serialises")).expect("parses");
        assert_eq!(back, c);
    }
}
