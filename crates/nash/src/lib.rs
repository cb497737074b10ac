//! The NASH mechanism: a pure, synchronous, deterministic library.
//!
//! Parties submit *intents* to trade compute resources; a validator packs them into a
//! *challenge*; miners answer with a *settlement* (or, for game classes, a strategy profile); the
//! validator *verifies* the answer against its own *reference* solution and grades it with a
//! quality `Q`. This crate is all of that logic and nothing else: no I/O, no async, no chain.
//! Services (gateway, validator, miner) and the chain client build on it.
//!
//! # Layers
//!
//! ```text
//! units, canonical          ids, fixed-point Quantity/Price/Money, canonical bytes + keccak-256
//!   └─ intent               buy/sell/defer intents, valuations, validation, best responses
//!       └─ class            the seven problem classes, PMU table, instance types
//!           └─ challenge    a class + instance + parties + salt + deadline
//!           └─ settlement   fills + posted prices; strategy profiles; coalition
//!                           structures + payoffs; answers
//!               ├─ generate seeded synthetic challenges per class (own SplitMix64)
//!               ├─ solve    reference solvers: swap closed form, simplex LP (clearing,
//!               │           zero-sum), branch-and-bound MILP (lots, min fills, bundles),
//!               │           Lemke–Howson, three-player support enumeration, coalition DP +
//!               │           least core
//!               └─ verify   recomputes feasibility, IR, budget, welfare gap, stability,
//!                           regret, core stability → Verdict with Q (quality bands)
//!           └─ manifold     version-1 encoding: 256 f32, order- and id-invariant, cosine
//!           └─ salt         per-miner relabelled views of a challenge and the map back
//!           └─ strategy     miner strategies for simulations: exact, heuristic, noisy, slow,
//!                           copier, random
//! score                     TWF, strata, fidelity slash, PMU, SPF, S, 40/60 pools: integer
//!                           fixed point (10⁻⁹) → exact per-miner emission table
//!   └─ consensus            Yuma consensus over validators' weights (fixed point 10⁻⁹)
//!       └─ emission         exact per-account table, running totals, OZ-compatible Merkle tree
//! config                    every parameter, defaults from DESIGN.md
//! ```
//!
//! # Decisions
//!
//! * **Numbers.** Market quantities, prices and money are integers: [`units::Quantity`] in
//!   10⁻⁶ units, [`units::Price`] in 10⁻⁶ money per unit, [`units::Money`] in 10⁻¹² (`i128`), so
//!   `quantity × price` is exact and the verifier's feasibility, budget, IR and welfare checks are
//!   exact integer arithmetic — identical on every validator, as consensus needs. Solvers work in
//!   `f64` and their answers are rounded back to the grid and then verified like any miner's. Game
//!   payoffs are integers, mixed strategies `f64` (an equilibrium of an integer game is rational
//!   and rarely representable in fixed point); game verification is plain IEEE-754 arithmetic in
//!   a fixed order (no FMA, no transcendental functions, no parallel sums), which is
//!   bit-reproducible across platforms, with an ε tolerance of 10⁻⁹ of the payoff range.
//! * **LP.** Our own dense bounded-variable simplex ([`solve::lp`]) rather than a crate: we need
//!   duals (competitive prices) and full control of determinism and anti-cycling (Dantzig, then
//!   Bland after degenerate pivots); `microlp` does not expose duals, and HiGHS is a C++ build.
//!   Our instances are small and dense, where a full tableau is simple and fast.
//! * **Prices.** Settlements post one price per intent; a connected market clears at one uniform
//!   price (from the LP duals), while counterparty lists and windows may split it into parts with
//!   their own price. Payments are derived from fills × prices, never stated, so they cannot
//!   disagree with the fills. Bilateral swaps are priced by the Nash bargaining split with
//!   configurable `k`.
//! * **Scoring.** Emission amounts are integers and every scoring step is fixed-point integer
//!   arithmetic (scale 10⁻⁹, floors, a 256-bit `a·b/c`), so validators compute identical tables;
//!   the pools sum exactly to the epoch emission (remainder to the largest weight). Identical
//!   answers form one group that earns one reward, paid to its earliest member: with free
//!   identities this is the only split of a group that a sybil cannot profit from (see
//!   [`score`]). The stability pool is weighted by TWF × groups earned, not TWF per identity.
//! * **Consensus.** Yuma as subtensor's epoch runs it (stake-weighted median κ, clipping, trust,
//!   incentive, bond EMA normalised per miner, dividends), in the same 10⁻⁹ fixed point with
//!   order-independent remainders, so every validator derives the same emission table. The table
//!   is paid through a Merkle root in `@openzeppelin/merkle-tree`'s exact layout (double-hashed
//!   `(address, uint256)` leaves sorted by hash, commutative keccak nodes) over running-total
//!   amounts; [`emission`] carries a shared leaf test vector for the Solidity side.
//! * **Manifold.** Aggregates are exact integers before one conversion to float, and party slots
//!   are sorted by their features, so the encoding is bit-identical under reordering and
//!   relabelling; two-player games use a canonical row/column order whose limits are documented
//!   in [`manifold`].
//! * **SIMD.** The one `unsafe` in the crate calls Lemke–Howson's row update compiled for
//!   AVX-512 or AVX2 after a runtime CPU check; the operations are the same IEEE products and
//!   differences (no fused multiply-add), so results are bit-identical to the plain build (tested),
//!   and the pivots are about 2× faster.
//! * **PRNG.** Generators use an owned SplitMix64 so a seed names the same challenge forever.
//!
//! # Status
//!
//! Done: data model, canonical encoding, all seven classes' instance types, generators for all
//! seven, reference solvers for every class: swaps, three-party and triangle markets (divisible
//! by LP, with lots, minimum fills and bundles by MILP — [`solve::indivisible`]), zero-sum,
//! bimatrix and three-player games, coalition formation (optimal structure by DP over subsets,
//! least-core split); the verifier for all of them; the version-1 manifold ([`manifold`]),
//! scoring with the epoch's emission split ([`score`]), Yuma consensus ([`consensus`]), the
//! emission table with its Merkle root and proofs ([`emission`]), per-miner salted relabelling
//! ([`salt`]: a copied salted answer fails for the copier; identical-answer groups use digests
//! of de-salted answers) and miner strategies ([`strategy`]). Benchmarks: `benches/solve.rs`
//! (criterion) and the `bench/` comparison with HiGHS, SciPy, QuantEcon and Gambit.

pub mod canonical;
pub mod challenge;
pub mod class;
pub mod config;
pub mod consensus;
pub mod emission;
pub mod error;
pub mod generate;
pub mod intent;
pub mod manifold;
pub mod quality;
pub mod salt;
pub mod score;
pub mod settlement;
pub mod solve;
pub mod strategy;
pub mod units;
pub mod verify;

pub use canonical::Canonical;
pub use challenge::{Challenge, Problem};
pub use class::ProblemClass;
pub use config::Config;
pub use error::{Error, Result};
pub use settlement::{Answer, CoalitionAnswer, Settlement, StrategyProfile};
pub use verify::{Verdict, Violation, verify};
