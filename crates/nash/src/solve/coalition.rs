//! Coalition formation: the optimal coalition structure and a least-core split of its value.
//!
//! **Structure.** The welfare-maximising partition by dynamic programming over subsets:
//! `best(S) = max_{T ⊆ S, T ∋ min(S)} v(T) + best(S \ T)`. Fixing the lowest player of `S` in
//! the first block enumerates every partition of `S` exactly once, so the DP visits `3ⁿ`
//! (submask, mask) pairs in all — about 43 million for the largest games (16 players), tens of
//! milliseconds. Ties keep the first candidate in a fixed order (`T = S` first, then submasks
//! in decreasing order), so the answer is deterministic.
//!
//! **Split.** Within the structure `CS`, the payoff vector `x` solves the least-core LP
//!
//! ```text
//! min ε  s.t.  x(C) = v(C)            for every C ∈ CS   (each coalition pays out its value)
//!              x_i ≥ v({i})           for every player   (individual rationality)
//!              x(S) ≥ v(S) − ε        for every S ∉ CS
//! ```
//!
//! so no coalition gains more than `ε` by breaking away; `ε ≤ 0` exactly when the core of the
//! structure is non-empty. Individual rationality is imposed outright (substituting
//! `x_i = v({i}) + y_i`, `y ≥ 0`), which is always feasible for an optimal structure: a coalition
//! worth less than its members alone would be split by the DP. The `2ⁿ` rows are never written
//! out: constraint generation starts from the singletons, solves with the crate's simplex
//! ([`crate::solve::lp`]), and adds the most violated coalitions (found by one `O(2ⁿ)` pass of
//! subset sums) until none is violated, at most
//! [`SolverLimits::least_core_max_rounds`](crate::config::SolverLimits) rounds.
//!
//! The LP runs on values divided by the largest `|v|` so its absolute tolerances mean the same
//! for every game. Payoffs are then rounded to integers per coalition: floors (never below
//! `v({i})`), and the remainder one unit each to the largest fractional parts (ties to the
//! lowest player), so every coalition's sum is exactly `v(C)`. Rounding moves any `x(S)` by
//! less than `|S|` units, which the verifier tolerates.

use crate::class::CoalitionGame;
use crate::config::SolverLimits;
use crate::error::SolveError;
use crate::settlement::CoalitionAnswer;
use crate::solve::lp::{LinearProgram, Relation};
use crate::units::ChallengeId;

/// Coalitions added to the LP per constraint-generation round, per player: enough to converge
/// in a few rounds, few enough to keep the dense tableau small.
const ROWS_PER_ROUND_PER_PLAYER: usize = 2;
/// A coalition counts as violated when its excess beats `ε` by more than this (scaled units).
const VIOLATION_TOL: f64 = 1e-9;

/// The welfare-maximising coalition structure (sorted masks) and its welfare. The game must be
/// valid (see [`CoalitionGame::validate`]).
#[must_use]
pub fn optimal_structure(g: &CoalitionGame) -> (Vec<u32>, i64) {
    let size = 1usize << g.players;
    let mut best = vec![0i64; size];
    let mut pick = vec![0u32; size];
    for s in 1..size {
        let low = s & s.wrapping_neg();
        let rest = s ^ low;
        let mut b = g.values[s];
        let mut p = s;
        // Proper submasks of `rest` in decreasing order, ending with 0: `T = low | sub` runs
        // over every block containing the lowest player except `S` itself (taken above).
        let mut sub = rest;
        while sub != 0 {
            sub = (sub - 1) & rest;
            let t = low | sub;
            let candidate = g.values[t] + best[s ^ t];
            if candidate > b {
                b = candidate;
                p = t;
            }
        }
        best[s] = b;
        // `size ≤ 2¹⁶`, so masks fit in u32.
        pick[s] = p as u32;
    }
    let mut structure = Vec::new();
    let mut s = size - 1;
    while s != 0 {
        let t = pick[s];
        structure.push(t);
        s ^= t as usize;
    }
    structure.sort_unstable();
    (structure, best[size - 1])
}

/// A least-core payoff vector of a structure, before rounding.
#[derive(Clone, Debug, PartialEq)]
pub struct LeastCore {
    /// Payoff per player, in value units.
    pub payoffs: Vec<f64>,
    /// The least-core value: the largest gain any coalition outside the structure gets by
    /// breaking away (`≤ 0` when the core is non-empty), in value units.
    pub epsilon: f64,
    /// Constraint-generation rounds (LP solves) used.
    pub rounds: usize,
    /// Coalition rows the final LP had.
    pub rows: usize,
}

/// The least-core split of `structure` (a partition of the players of the valid game `g` in
/// which no coalition is worth less than its members alone; [`optimal_structure`] gives one).
pub fn least_core(
    g: &CoalitionGame,
    structure: &[u32],
    limits: &SolverLimits,
) -> Result<LeastCore, SolveError> {
    let n = g.players;
    let size = 1usize << n;
    let bad = |detail: String| SolveError::Numerical {
        solver: "least core",
        detail,
    };
    let mut in_structure = vec![false; size];
    let mut covered = 0usize;
    for &c in structure {
        let c = c as usize;
        if c == 0 || c >= size || covered & c != 0 {
            return Err(bad(format!("structure {structure:?} is not a partition")));
        }
        covered |= c;
        in_structure[c] = true;
    }
    if covered != size - 1 {
        return Err(bad(format!("structure {structure:?} is not a partition")));
    }
    let single: Vec<f64> = (0..n).map(|i| g.values[1 << i] as f64).collect();
    if n == 1 {
        return Ok(LeastCore {
            payoffs: single,
            epsilon: 0.0,
            rounds: 0,
            rows: 0,
        });
    }
    let scale = g
        .values
        .iter()
        .map(|v| v.unsigned_abs())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    // Scaled surplus of S over its members alone: v(S)/s − Σ_{i∈S} v({i})/s. The LP is in
    // y_i = (x_i − v({i}))/s ≥ 0.
    let mut alone = vec![0.0f64; size];
    for s in 1..size {
        let low = s.trailing_zeros() as usize;
        alone[s] = alone[s & (s - 1)] + single[low];
    }
    let surplus = |s: usize| (g.values[s] as f64 - alone[s]) / scale;
    let (eps_plus, eps_minus) = (n, n + 1);
    let mut base = LinearProgram::new(n + 2);
    base.set_cost(eps_plus, 1.0);
    base.set_cost(eps_minus, -1.0);
    // Every x(S)/s and v(S)/s lies within ±(n + 1), so ε ≥ −(2n + 2): a bound that never binds
    // when some coalition outside the structure exists, and keeps the LP bounded.
    base.set_upper(eps_minus, 2.0 * n as f64 + 4.0);
    for &c in structure {
        let c = c as usize;
        let members = (0..n)
            .filter(|i| c >> i & 1 == 1)
            .map(|i| (i, 1.0))
            .collect();
        base.add_row(members, Relation::Eq, surplus(c));
    }
    let mut active = vec![false; size];
    let mut rows: Vec<usize> = (0..n)
        .map(|i| 1usize << i)
        .filter(|&s| !in_structure[s])
        .collect();
    let per_round = ROWS_PER_ROUND_PER_PLAYER * n;
    let mut sums = vec![0.0f64; size];
    let mut lp = base;
    for &s in &rows {
        active[s] = true;
        add_blocking_row(&mut lp, n, s, surplus(s));
    }
    for round in 1..=limits.least_core_max_rounds {
        let sol = lp.solve(limits)?;
        let y = &sol.x[..n];
        let eps = sol.x[eps_plus] - sol.x[eps_minus];
        // Scaled excess of every coalition: surplus(S) − y(S), y(S) by subset sums.
        let mut violated: Vec<(f64, usize)> = Vec::new();
        for s in 1..size {
            let low = s.trailing_zeros() as usize;
            sums[s] = sums[s & (s - 1)] + y[low];
            if in_structure[s] || active[s] {
                continue;
            }
            let excess = surplus(s) - sums[s];
            if excess > eps + VIOLATION_TOL {
                violated.push((excess, s));
            }
        }
        if violated.is_empty() {
            let payoffs = (0..n).map(|i| single[i] + y[i] * scale).collect();
            return Ok(LeastCore {
                payoffs,
                epsilon: eps * scale,
                rounds: round,
                rows: rows.len(),
            });
        }
        // Most violated first; equal excesses by mask, so the rows added are deterministic.
        let by_excess =
            |a: &(f64, usize), b: &(f64, usize)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        if violated.len() > per_round {
            violated.select_nth_unstable_by(per_round - 1, by_excess);
            violated.truncate(per_round);
        }
        violated.sort_unstable_by(by_excess);
        for &(_, s) in &violated {
            active[s] = true;
            rows.push(s);
            add_blocking_row(&mut lp, n, s, surplus(s));
        }
    }
    Err(SolveError::IterationLimit {
        solver: "least core",
        iterations: limits.least_core_max_rounds,
    })
}

/// `y(S) + ε⁺ − ε⁻ ≥ surplus(S)`.
fn add_blocking_row(lp: &mut LinearProgram, n: usize, s: usize, surplus: f64) {
    let mut coeffs: Vec<(usize, f64)> = (0..n)
        .filter(|i| s >> i & 1 == 1)
        .map(|i| (i, 1.0))
        .collect();
    coeffs.push((n, 1.0));
    coeffs.push((n + 1, -1.0));
    lp.add_row(coeffs, Relation::Ge, surplus);
}

/// Integer payoffs with every coalition's sum exactly `v(C)`: floors (not below `v({i})`), then
/// the remainder spread one unit at a time over the largest fractional parts, ties to the lowest
/// player.
#[must_use]
pub(crate) fn round_payoffs(g: &CoalitionGame, structure: &[u32], x: &[f64]) -> Vec<i64> {
    let n = g.players.min(x.len());
    let mut out: Vec<i64> = x
        .iter()
        .take(n)
        .enumerate()
        .map(|(i, &xi)| (xi.floor() as i64).max(g.values[1 << i]))
        .collect();
    for &c in structure {
        let members: Vec<usize> = (0..n).filter(|i| c >> i & 1 == 1).collect();
        if members.is_empty() {
            continue;
        }
        let paid: i128 = members.iter().map(|&i| i128::from(out[i])).sum();
        let rest = i128::from(g.values[c as usize]) - paid;
        let k = members.len() as i128;
        let (each, extra) = (rest.div_euclid(k), rest.rem_euclid(k));
        let mut order = members.clone();
        order.sort_by(|&a, &b| {
            let fa = x[a] - x[a].floor();
            let fb = x[b] - x[b].floor();
            fb.total_cmp(&fa).then(a.cmp(&b))
        });
        for (rank, &i) in order.iter().enumerate() {
            let add = each + i128::from((rank as i128) < extra);
            // |v| ≤ 10¹², so every share fits i64.
            out[i] = (i128::from(out[i]) + add) as i64;
        }
    }
    out
}

/// The reference answer: optimal structure, least-core split rounded to integers.
pub fn solve_coalition(
    id: ChallengeId,
    g: &CoalitionGame,
    limits: &SolverLimits,
) -> Result<CoalitionAnswer, SolveError> {
    g.validate()?;
    let (structure, _) = optimal_structure(g);
    let core = least_core(g, &structure, limits)?;
    let payoffs = round_payoffs(g, &structure, &core.payoffs);
    Ok(CoalitionAnswer {
        challenge: id,
        structure,
        payoffs,
    })
}

/// Greedy merging, a fast heuristic for the structure: from singletons, repeatedly merge the
/// two coalitions whose union gains the most (`v(A ∪ B) − v(A) − v(B) > 0`, ties to the lowest
/// masks) until no merge gains. `O(n³)` value look-ups instead of the DP's `3ⁿ`; every
/// coalition it forms is worth at least its members alone.
#[must_use]
pub fn greedy_structure(g: &CoalitionGame) -> Vec<u32> {
    let mut blocks: Vec<u32> = (0..g.players).map(|i| 1u32 << i).collect();
    loop {
        let mut best: Option<(i64, usize, usize)> = None;
        for a in 0..blocks.len() {
            for b in a + 1..blocks.len() {
                let (ma, mb) = (blocks[a] as usize, blocks[b] as usize);
                let gain = g.values[ma | mb] - g.values[ma] - g.values[mb];
                if gain > 0 && best.is_none_or(|(g0, _, _)| gain > g0) {
                    best = Some((gain, a, b));
                }
            }
        }
        let Some((_, a, b)) = best else { break };
        let merged = blocks[a] | blocks[b];
        blocks.remove(b);
        blocks[a] = merged;
    }
    blocks.sort_unstable();
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn game(players: usize, mut v: impl FnMut(usize) -> i64) -> CoalitionGame {
        CoalitionGame {
            players,
            values: (0..1usize << players)
                .map(|s| if s == 0 { 0 } else { v(s) })
                .collect(),
        }
    }

    /// All partitions of `0..n` by brute force (restricted growth strings), best welfare.
    fn brute_force(g: &CoalitionGame) -> i64 {
        fn go(g: &CoalitionGame, i: usize, blocks: &mut Vec<usize>, best: &mut i64) {
            if i == g.players {
                let w = blocks.iter().map(|&b| g.values[b]).sum();
                *best = (*best).max(w);
                return;
            }
            for k in 0..blocks.len() {
                blocks[k] |= 1 << i;
                go(g, i + 1, blocks, best);
                blocks[k] &= !(1 << i);
            }
            blocks.push(1 << i);
            go(g, i + 1, blocks, best);
            blocks.pop();
        }
        let mut best = i64::MIN;
        go(g, 0, &mut Vec::new(), &mut best);
        best
    }

    #[test]
    fn dp_matches_brute_force() {
        for seed in 0..30u64 {
            let n = 1 + (seed % 7) as usize;
            let mut rng = crate::generate::SplitMix64::new(seed);
            let g = game(n, |_| rng.range(0, 40) as i64 - 10);
            let (structure, w) = optimal_structure(&g);
            assert_eq!(w, brute_force(&g), "seed {seed}");
            let sum: i64 = structure.iter().map(|&c| g.values[c as usize]).sum();
            assert_eq!(sum, w);
            assert_eq!(structure.iter().fold(0, |a, &c| a | c), (1u32 << n) - 1);
        }
    }

    #[test]
    fn rounding_keeps_sums_and_individual_rationality() {
        let g = game(3, |s| match s {
            7 => 10,
            _ => 0,
        });
        let x = round_payoffs(&g, &[7], &[10.0 / 3.0; 3]);
        assert_eq!(x.iter().sum::<i64>(), 10);
        assert_eq!(x, vec![4, 3, 3]);
        let x = round_payoffs(&g, &[7], &[3.4, 3.5, 3.1]);
        assert_eq!(x, vec![3, 4, 3]);
    }
}
