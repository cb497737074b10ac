//! Two-player zero-sum games by linear programming.
//!
//! Payoffs are mapped to `A' = (A − min)/(max − min) + 1 ∈ [1, 2]` so the value is positive and
//! the LP is well scaled whatever the payoff magnitudes. The column player's side is solved:
//! `max Σ vⱼ s.t. A'v ≤ 1, v ≥ 0`. Its slack basis is feasible (`v = 0`), so there is no phase 1
//! and no artificial variables, and `A' > 0` keeps it bounded. It runs on a compact (Tucker)
//! tableau of `m + 1` rows by `n + 1` columns (one column per nonbasic variable, a pivot swaps a
//! basic and a nonbasic label), so a pivot costs `(m + 1)(n + 1)` multiply–adds. At the optimum
//! `y = v / Σv` is the column player's strategy, the duals of the rows (read off the objective
//! row under the nonbasic slacks) normalised are the row player's, and the value is `1/Σv`
//! (LP duality is the minimax theorem).
//!
//! Entering variables are priced by exact steepest edge (largest `d_j² / (1 + Σᵢ t_ij²)`; the
//! squared column norms are recomputed inside every pivot's pass over the tableau, which costs
//! little there and cuts the pivot count about fourfold against Dantzig's rule) until
//! `lp_degenerate_switch` consecutive degenerate pivots, then Bland's rule (smallest label, with
//! smallest-label tie-breaking in the ratio test) until progress resumes, which rules out cycling.
//!
//! **Polish.** The optimal basis pairs a row support `I` (tight rows, slack nonbasic) with a
//! column support `J` (basic `v`), `|I| = |J|`, and `B[I, J]` nonsingular. Both strategies are
//! recomputed from it by solving `B[I,J]·w = 1` and `B[I,J]ᵀ·u = 1` with LU (partial pivoting) on
//! `B = A − min + (max − min)`, whose entries are exact integers in `f64`. The polished pair is
//! used when it is a valid pair of distributions and its exploitability is no worse than the
//! tableau's; either way every step is a fixed sequence of IEEE-754 operations, so the answer is
//! bit-identical across machines.

use crate::class::MatrixGame;
use crate::config::SolverLimits;
use crate::error::SolveError;

const PIVOT_TOL: f64 = 1e-9;
const OPT_TOL: f64 = 1e-11;
const TIE_TOL: f64 = 1e-12;

/// Optimal mixed strategies and the value of a zero-sum game.
#[derive(Clone, Debug, PartialEq)]
pub struct ZeroSumSolution {
    /// Row player's optimal strategy.
    pub row: Vec<f64>,
    /// Column player's optimal strategy.
    pub col: Vec<f64>,
    /// Value to the row player, in the game's payoff units.
    pub value: f64,
}

/// Normalises a non-negative vector to a probability distribution (clamping tiny negatives).
pub(crate) fn normalise(v: &mut [f64]) {
    for x in v.iter_mut() {
        if x.is_nan() || *x < 0.0 {
            *x = 0.0;
        }
    }
    let s: f64 = v.iter().sum();
    if s > 0.0 {
        for x in v.iter_mut() {
            *x /= s;
        }
    } else if !v.is_empty() {
        let u = 1.0 / v.len() as f64;
        v.iter_mut().for_each(|x| *x = u);
    }
}

/// The compact simplex tableau of `max Σv s.t. A'v ≤ 1, v ≥ 0`.
///
/// Row `i < m` reads `basic(i) = t[i][n] − Σⱼ t[i][j]·nonbasic(j)`; row `m` reads
/// `z = t[m][n] − Σⱼ t[m][j]·nonbasic(j)`, so `t[m][j]` is the negated reduced cost and the
/// tableau is optimal when no `t[m][j]` is below `−OPT_TOL`. Labels: `j < n` is `vⱼ`, `n + i` is
/// the slack of row `i`.
struct Tucker {
    m: usize,
    n: usize,
    /// `(m + 1) × (n + 1)`, row-major.
    t: Vec<f64>,
    row_label: Vec<usize>,
    col_label: Vec<usize>,
    /// Squared edge norms `1 + Σ_{i<m} t[i][j]²` for steepest-edge pricing.
    gamma: Vec<f64>,
    pivots: usize,
}

impl Tucker {
    fn new(m: usize, n: usize, scaled: impl Fn(usize, usize) -> f64) -> Self {
        let w = n + 1;
        let mut t = vec![0.0; (m + 1) * w];
        for i in 0..m {
            for j in 0..n {
                t[i * w + j] = scaled(i, j);
            }
            t[i * w + n] = 1.0;
        }
        for j in 0..n {
            t[m * w + j] = -1.0;
        }
        let mut gamma = vec![1.0; n];
        for row in t.chunks_exact(w).take(m) {
            for (g, &v) in gamma.iter_mut().zip(row) {
                *g += v * v;
            }
        }
        Self {
            m,
            n,
            t,
            row_label: (n..n + m).collect(),
            col_label: (0..n).collect(),
            gamma,
            pivots: 0,
        }
    }

    fn at(&self, i: usize, j: usize) -> f64 {
        self.t[i * (self.n + 1) + j]
    }

    fn run(&mut self, limits: &SolverLimits) -> Result<(), SolveError> {
        let (m, n) = (self.m, self.n);
        let w = n + 1;
        let mut degenerate_run = 0usize;
        let mut pivot_row = vec![0.0; w];
        loop {
            let bland = degenerate_run >= limits.lp_degenerate_switch;
            let obj = &self.t[m * w..m * w + n];
            let mut enter: Option<usize> = None;
            let mut best = 0.0;
            for (j, (&d, &g)) in obj.iter().zip(&self.gamma).enumerate() {
                if d >= -OPT_TOL {
                    continue;
                }
                if bland {
                    if enter.is_none_or(|k| self.col_label[j] < self.col_label[k]) {
                        enter = Some(j);
                    }
                } else if d * d > best * g {
                    best = d * d / g;
                    enter = Some(j);
                }
            }
            let Some(k) = enter else {
                return Ok(());
            };
            self.pivots += 1;
            if self.pivots > limits.lp_max_pivots {
                return Err(SolveError::IterationLimit {
                    solver: "zero-sum simplex",
                    iterations: limits.lp_max_pivots,
                });
            }
            // Ratio test over rows with a positive entry in column k.
            let mut leave: Option<(usize, f64, f64)> = None; // (row, ratio, alpha)
            for i in 0..m {
                let alpha = self.t[i * w + k];
                if alpha <= PIVOT_TOL {
                    continue;
                }
                let ratio = self.t[i * w + n].max(0.0) / alpha;
                let better = match leave {
                    None => true,
                    Some((r, theta, a_r)) => {
                        ratio < theta - TIE_TOL
                            || (ratio <= theta + TIE_TOL
                                && if bland {
                                    self.row_label[i] < self.row_label[r]
                                } else {
                                    alpha > a_r
                                })
                    }
                };
                if better {
                    leave = Some((i, ratio, alpha));
                }
            }
            let Some((r, theta, _)) = leave else {
                // A' > 0 bounds the feasible set, so this is numerical breakdown.
                return Err(SolveError::Numerical {
                    solver: "zero-sum simplex",
                    detail: format!("no leaving row after {} pivots", self.pivots),
                });
            };
            degenerate_run = if theta <= TIE_TOL {
                degenerate_run + 1
            } else {
                0
            };
            self.pivot(r, k, &mut pivot_row);
        }
    }

    /// Exchanges the basic variable of row `r` with the nonbasic variable of column `k`.
    fn pivot(&mut self, r: usize, k: usize, pivot_row: &mut [f64]) {
        let w = self.n + 1;
        let p = self.t[r * w + k];
        for (dst, &src) in pivot_row.iter_mut().zip(&self.t[r * w..(r + 1) * w]) {
            *dst = src / p;
        }
        pivot_row[k] = 1.0 / p;
        let m = self.m;
        let gamma = &mut self.gamma;
        gamma.iter_mut().for_each(|g| *g = 1.0);
        let (body, obj) = self.t.split_at_mut(m * w);
        for (i, row) in body.chunks_exact_mut(w).enumerate() {
            let f = row[k];
            if i == r {
                row.copy_from_slice(pivot_row);
            } else if f != 0.0 {
                row[k] = 0.0;
                let (coeffs, rhs) = row.split_at_mut(w - 1);
                for ((v, &pv), g) in coeffs
                    .iter_mut()
                    .zip(pivot_row.iter())
                    .zip(gamma.iter_mut())
                {
                    let nv = *v - f * pv;
                    *v = nv;
                    *g += nv * nv;
                }
                rhs[0] -= f * pivot_row[w - 1];
                continue;
            }
            for (g, &v) in gamma.iter_mut().zip(row.iter()) {
                *g += v * v;
            }
        }
        let f = obj[k];
        if f != 0.0 {
            obj[k] = 0.0;
            for (v, &pv) in obj.iter_mut().zip(pivot_row.iter()) {
                *v -= f * pv;
            }
        }
        std::mem::swap(&mut self.row_label[r], &mut self.col_label[k]);
    }
}

/// Exploitability `max_i (Ay)_i − min_j (xᵀA)_j` in payoff units.
fn exploitability(game: &MatrixGame, x: &[f64], y: &[f64]) -> f64 {
    let (m, n) = (game.rows, game.cols);
    let mut best_row = f64::NEG_INFINITY;
    let mut xa = vec![0.0; n];
    for (row, &xi) in game.payoffs.chunks_exact(n).take(m).zip(x) {
        let mut ay = 0.0;
        for ((&a, &yj), xaj) in row.iter().zip(y).zip(xa.iter_mut()) {
            let a = a as f64;
            ay += a * yj;
            *xaj += xi * a;
        }
        best_row = best_row.max(ay);
    }
    let worst_col = xa.iter().copied().fold(f64::INFINITY, f64::min);
    best_row - worst_col
}

/// Solves `M·z = 1` (or `Mᵀ·z = 1`) for a dense `k × k` matrix given row-major, by LU with
/// partial pivoting; `None` if a pivot vanishes.
fn solve_ones(mut a: Vec<f64>, k: usize, transpose: bool) -> Option<Vec<f64>> {
    if transpose {
        for i in 0..k {
            for j in i + 1..k {
                a.swap(i * k + j, j * k + i);
            }
        }
    }
    let mut b = vec![1.0; k];
    for c in 0..k {
        let (mut p, mut best) = (c, a[c * k + c].abs());
        for i in c + 1..k {
            let v = a[i * k + c].abs();
            if v > best {
                best = v;
                p = i;
            }
        }
        if best == 0.0 || !best.is_finite() {
            return None;
        }
        if p != c {
            for j in 0..k {
                a.swap(c * k + j, p * k + j);
            }
            b.swap(c, p);
        }
        let piv = a[c * k + c];
        let (top, bottom) = a.split_at_mut((c + 1) * k);
        let prow = &top[c * k..];
        for (off, row) in bottom.chunks_exact_mut(k).enumerate() {
            let f = row[c] / piv;
            if f != 0.0 {
                for (v, &pv) in row[c..].iter_mut().zip(&prow[c..]) {
                    *v -= f * pv;
                }
                b[c + 1 + off] -= f * b[c];
            }
        }
    }
    for c in (0..k).rev() {
        let mut s = b[c];
        for j in c + 1..k {
            s -= a[c * k + j] * b[j];
        }
        b[c] = s / a[c * k + c];
    }
    b.iter().all(|v| v.is_finite()).then_some(b)
}

/// Recomputes both strategies from the optimal basis' square support system; `None` if it is
/// singular or gives a negative weight beyond rounding.
fn polish(
    game: &MatrixGame,
    rows: &[usize],
    cols: &[usize],
    lo: i64,
    range: f64,
) -> Option<(Vec<f64>, Vec<f64>)> {
    let k = rows.len();
    if k == 0 || k != cols.len() {
        return None;
    }
    let mut sub = Vec::with_capacity(k * k);
    for &i in rows {
        for &j in cols {
            sub.push((game.at(i, j) - lo) as f64 + range);
        }
    }
    let w = solve_ones(sub.clone(), k, false)?;
    let u = solve_ones(sub, k, true)?;
    let spread = |z: &[f64]| -> Option<Vec<f64>> {
        let s: f64 = z.iter().sum();
        if s.is_nan() || s <= 0.0 || z.iter().any(|&v| v < -1e-12 * s) {
            return None;
        }
        Some(z.iter().map(|&v| v.max(0.0) / s).collect())
    };
    let (xs, ys) = (spread(&u)?, spread(&w)?);
    let mut x = vec![0.0; game.rows];
    let mut y = vec![0.0; game.cols];
    for (&i, v) in rows.iter().zip(xs) {
        x[i] = v;
    }
    for (&j, v) in cols.iter().zip(ys) {
        y[j] = v;
    }
    normalise(&mut x);
    normalise(&mut y);
    Some((x, y))
}

/// Solves a (validated) zero-sum game.
pub fn solve_zero_sum(
    game: &MatrixGame,
    limits: &SolverLimits,
) -> Result<ZeroSumSolution, SolveError> {
    game.validate()?;
    let (m, n) = (game.rows, game.cols);
    let lo = game.payoffs.iter().copied().min().unwrap_or(0);
    let hi = game.payoffs.iter().copied().max().unwrap_or(0);
    let range = (hi - lo).max(1) as f64;
    let mut tab = Tucker::new(m, n, |i, j| (game.at(i, j) - lo) as f64 / range + 1.0);
    tab.run(limits)?;
    let sum_v = tab.at(m, n);
    if sum_v.is_nan() || sum_v <= 0.0 {
        return Err(SolveError::Numerical {
            solver: "zero-sum simplex",
            detail: format!("non-positive objective {sum_v}"),
        });
    }
    let mut col = vec![0.0; n];
    let mut basic_cols = Vec::new();
    for (i, &l) in tab.row_label.iter().enumerate() {
        if l < n {
            col[l] = tab.at(i, n);
            basic_cols.push(l);
        }
    }
    let mut row = vec![0.0; m];
    let mut tight_rows = Vec::new();
    for (j, &l) in tab.col_label.iter().enumerate() {
        if l >= n {
            row[l - n] = tab.at(m, j);
            tight_rows.push(l - n);
        }
    }
    normalise(&mut row);
    normalise(&mut col);
    basic_cols.sort_unstable();
    tight_rows.sort_unstable();
    if let Some((x, y)) = polish(game, &tight_rows, &basic_cols, lo, range)
        && exploitability(game, &x, &y) <= exploitability(game, &row, &col)
    {
        row = x;
        col = y;
    }
    let value = value_of(game, &row, &col);
    Ok(ZeroSumSolution { row, col, value })
}

/// `xᵀAy`.
fn value_of(game: &MatrixGame, x: &[f64], y: &[f64]) -> f64 {
    let n = game.cols;
    let mut v = 0.0;
    for (i, &xi) in x.iter().enumerate() {
        if xi != 0.0 {
            let ay: f64 = game.payoffs[i * n..(i + 1) * n]
                .iter()
                .zip(y)
                .map(|(&a, &yj)| a as f64 * yj)
                .sum();
            v += xi * ay;
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn matching_pennies_is_uniform_with_value_zero() {
        let g = MatrixGame {
            rows: 2,
            cols: 2,
            payoffs: vec![1, -1, -1, 1],
        };
        let s = solve_zero_sum(&g, &SolverLimits::default()).expect("solves");
        assert!(
            close(s.row[0], 0.5) && close(s.col[0], 0.5) && close(s.value, 0.0),
            "{s:?}"
        );
    }

    #[test]
    fn hand_computed_2x2() {
        // [[3, −1], [−2, 4]]: x = (0.6, 0.4), y = (0.5, 0.5), v = 1.
        let g = MatrixGame {
            rows: 2,
            cols: 2,
            payoffs: vec![3, -1, -2, 4],
        };
        let s = solve_zero_sum(&g, &SolverLimits::default()).expect("solves");
        assert!(
            close(s.row[0], 0.6) && close(s.col[0], 0.5) && close(s.value, 1.0),
            "{s:?}"
        );
    }

    #[test]
    fn saddle_point_and_rock_paper_scissors() {
        // Saddle at (0, 1) with value 2.
        let g = MatrixGame {
            rows: 2,
            cols: 2,
            payoffs: vec![5, 2, 1, 0],
        };
        let s = solve_zero_sum(&g, &SolverLimits::default()).expect("solves");
        assert!(
            close(s.value, 2.0) && close(s.row[0], 1.0) && close(s.col[1], 1.0),
            "{s:?}"
        );
        let rps = MatrixGame {
            rows: 3,
            cols: 3,
            payoffs: vec![0, -1, 1, 1, 0, -1, -1, 1, 0],
        };
        let s = solve_zero_sum(&rps, &SolverLimits::default()).expect("solves");
        assert!(s.row.iter().chain(&s.col).all(|&p| close(p, 1.0 / 3.0)) && close(s.value, 0.0));
    }
}
