//! Lemke–Howson for bimatrix games, with lexicographic pivoting and restarts over labels.
//!
//! Payoffs are mapped to `[1, 2]` per player (best responses, hence equilibria, are unchanged).
//! With `m` row and `n` column actions, labels `0..m` are the row player's actions and
//! `m..m+n` the column player's. Two systems, in the classic complementary-pivoting form:
//!
//! ```text
//! system 0 (one row per column action j):  Σᵢ Bᵢⱼ xᵢ + sⱼ = 1      variables x (labels 0..m), s (m..m+n)
//! system 1 (one row per row action i):     rᵢ + Σⱼ Aᵢⱼ yⱼ = 1      variables r (labels 0..m), y (m..m+n)
//! ```
//!
//! Each system is kept as a *condensed* (Tucker) tableau: one contiguous row-major `f64` block
//! with a column per non-basic variable plus the right-hand side, so a pivot is a rank-1 update
//! of `rows × (non-basic + 1)` entries (half the work of the full tableau), skipping rows whose
//! pivot-column entry is zero, with no allocation inside the pivot loop.
//!
//! Before pivoting, a scan for a pure equilibrium (an `O(mn)` best-response check) returns one if
//! it exists. Otherwise, starting from the artificial equilibrium (all slacks basic), the
//! variable carrying the *missing label* enters one system; whichever variable leaves has a
//! label whose other variable then enters the other system; this repeats until the missing
//! label itself leaves. The ratio test takes the minimum ratio on the entering column and breaks
//! ties lexicographically over the slack columns (`B⁻¹`, implicit unit vectors for basic slacks),
//! which makes the path unique even in degenerate games. At the end, the basic values are
//! recomputed from the original payoffs (Gaussian elimination with partial pivoting on the final
//! basis), removing the rounding accumulated along long paths.
//!
//! Path lengths from different starting labels vary by orders of magnitude (tens of pivots from
//! one label, tens of thousands from another), so several labels' paths are followed at once,
//! round robin (see [`solve_bimatrix_lh`]). Each path is capped at `lh_max_pivots`; at most
//! `lh_max_restarts` starting labels are tried; the first end that passes the ε-Nash check
//! (regret at most 10⁻⁹ of the payoff range) is returned. The schedule is fixed, so the answer is
//! deterministic.

use crate::class::BimatrixGame;
use crate::config::SolverLimits;
use crate::error::SolveError;
use crate::solve::zero_sum::normalise;

const TOL: f64 = 1e-12;
const NONE: usize = usize::MAX;

/// A Nash equilibrium of a bimatrix game.
#[derive(Clone, Debug, PartialEq)]
pub struct BimatrixSolution {
    /// Row player's strategy.
    pub row: Vec<f64>,
    /// Column player's strategy.
    pub col: Vec<f64>,
    /// The starting label that produced it (`None`: found by the pure-equilibrium scan).
    pub label: Option<usize>,
    /// Pivots on that path.
    pub pivots: usize,
}

/// Whether `x` and `y` are equal up to the relative tolerance used by the ratio test.
fn tied(x: f64, y: f64) -> bool {
    (x - y).abs() <= TOL * (1.0 + x.abs().max(y.abs()))
}

/// One condensed tableau: `basic_r + Σ_c data[r][c] · nonbasic_c = data[r][rhs]`.
struct Tableau {
    /// Non-basic columns plus the right-hand side (last).
    width: usize,
    data: Vec<f64>,
    /// Label of the basic variable of each row.
    basis: Vec<usize>,
    /// Label of the non-basic variable of each column.
    nonbasic: Vec<usize>,
    /// Row of each label if basic, else `NONE`.
    row_of: Vec<usize>,
    /// Column of each label if non-basic, else `NONE`.
    col_of: Vec<usize>,
    /// Labels of the slack variables, in lexicographic key order.
    slack: std::ops::Range<usize>,
    /// Scratch: the scaled pivot row; rows tied in the ratio test and their pivot entries.
    prow: Vec<f64>,
    ties: Vec<(usize, f64)>,
    keep: Vec<(usize, f64)>,
    /// Scratch: rows with a positive pivot-column entry, that entry, and the ratio.
    cand: Vec<(usize, f64, f64)>,
}

impl Tableau {
    /// `rows` basic slacks labelled `slack`, non-basic `cols` labelled `nonbasic`, entries
    /// `entry(row, col)`, right-hand side 1.
    fn new(
        labels: usize,
        slack: std::ops::Range<usize>,
        nonbasic: std::ops::Range<usize>,
        entry: impl Fn(usize, usize) -> f64,
    ) -> Self {
        let rows = slack.len();
        let cols = nonbasic.len();
        let width = cols + 1;
        let mut data = vec![1.0; rows * width];
        for (r, row) in data.chunks_exact_mut(width).enumerate() {
            for (c, v) in row[..cols].iter_mut().enumerate() {
                *v = entry(r, c);
            }
        }
        let mut row_of = vec![NONE; labels];
        let mut col_of = vec![NONE; labels];
        for (r, l) in slack.clone().enumerate() {
            row_of[l] = r;
        }
        for (c, l) in nonbasic.clone().enumerate() {
            col_of[l] = c;
        }
        Self {
            width,
            data,
            basis: slack.clone().collect(),
            nonbasic: nonbasic.collect(),
            row_of,
            col_of,
            slack,
            prow: vec![0.0; width],
            ties: Vec::with_capacity(rows),
            keep: Vec::with_capacity(rows),
            cand: Vec::with_capacity(rows),
        }
    }

    fn rhs(&self, r: usize) -> f64 {
        self.data[r * self.width + self.width - 1]
    }

    /// Lexicographic minimum-ratio test on column `q`: the leaving row, or `None` if the column
    /// has no positive entry.
    fn ratio_test(&mut self, q: usize) -> Option<usize> {
        let w = self.width;
        // One pass down the column collects the candidate rows and their ratios.
        let mut best = f64::INFINITY;
        self.cand.clear();
        for (r, row) in self.data.chunks_exact(w).enumerate() {
            let a = row[q];
            if a > TOL {
                let ratio = row[w - 1] / a;
                best = best.min(ratio);
                self.cand.push((r, a, ratio));
            }
        }
        if self.cand.is_empty() {
            return None;
        }
        self.ties.clear();
        for &(r, a, ratio) in &self.cand {
            if tied(ratio, best) {
                self.ties.push((r, a));
            }
        }
        // Break ties by the slack columns (B⁻¹) divided by the pivot entry, in label order.
        let mut key = self.slack.start;
        while self.ties.len() > 1 && key < self.slack.end {
            let (row_k, col_k) = (self.row_of[key], self.col_of[key]);
            let value = |r: usize, a: f64| {
                let v = if col_k == NONE {
                    f64::from(u8::from(r == row_k))
                } else {
                    self.data[r * w + col_k]
                };
                v / a
            };
            let lo = self
                .ties
                .iter()
                .map(|&(r, a)| value(r, a))
                .fold(f64::INFINITY, f64::min);
            self.keep.clear();
            for &(r, a) in &self.ties {
                if tied(value(r, a), lo) {
                    self.keep.push((r, a));
                }
            }
            std::mem::swap(&mut self.ties, &mut self.keep);
            key += 1;
        }
        self.ties.first().map(|&(r, _)| r)
    }

    /// Pivots the non-basic `entering` label in; returns the label that left, or `None` if no
    /// row bounds it (cannot happen for positive payoffs; reported as an error by the caller).
    fn pivot(&mut self, entering: usize) -> Option<usize> {
        let q = self.col_of[entering];
        debug_assert!(q != NONE, "entering label {entering} is basic");
        let p = self.ratio_test(q)?;
        let w = self.width;
        let a = self.data[p * w + q];
        let inv = 1.0 / a;
        {
            let prow = &mut self.data[p * w..(p + 1) * w];
            for v in prow.iter_mut() {
                *v /= a;
            }
            prow[q] = inv;
            self.prow.copy_from_slice(prow);
        }
        eliminate_dispatch(&mut self.data, w, p, q, &self.prow);
        let leaving = self.basis[p];
        self.basis[p] = entering;
        self.nonbasic[q] = leaving;
        self.row_of[entering] = p;
        self.col_of[entering] = NONE;
        self.row_of[leaving] = NONE;
        self.col_of[leaving] = q;
        Some(leaving)
    }
}

/// The rank-1 update of a pivot: `row −= f · prow` for every row but `p` whose entry `f` in
/// column `q` is non-zero (that entry first set to 0, so it ends as `−f · prow[q]`).
#[inline(always)]
fn eliminate(data: &mut [f64], w: usize, p: usize, q: usize, prow: &[f64]) {
    for (r, row) in data.chunks_exact_mut(w).enumerate() {
        let f = row[q];
        if r == p || f == 0.0 {
            continue;
        }
        row[q] = 0.0;
        for (v, pv) in row.iter_mut().zip(prow) {
            *v -= f * pv;
        }
    }
}

/// [`eliminate`] compiled for AVX-512: wider vectors, the same IEEE operations (a product, then
/// a difference, each rounded; no fused multiply-add), hence bit-identical results.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn eliminate_avx512(data: &mut [f64], w: usize, p: usize, q: usize, prow: &[f64]) {
    eliminate(data, w, p, q, prow);
}

/// [`eliminate`] compiled for AVX2, likewise bit-identical.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn eliminate_avx2(data: &mut [f64], w: usize, p: usize, q: usize, prow: &[f64]) {
    eliminate(data, w, p, q, prow);
}

/// [`eliminate`], through the widest vector build the CPU supports.
fn eliminate_dispatch(data: &mut [f64], w: usize, p: usize, q: usize, prow: &[f64]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F, checked just above; the function is otherwise
            // safe.
            unsafe { eliminate_avx512(data, w, p, q, prow) };
            return;
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above; the function is otherwise safe.
            unsafe { eliminate_avx2(data, w, p, q, prow) };
            return;
        }
    }
    eliminate(data, w, p, q, prow);
}

/// Scaled payoffs: `(v − lo) / range + 1` in `[1, 2]`.
fn scaler(v: &[i64]) -> impl Fn(i64) -> f64 {
    let lo = v.iter().copied().min().unwrap_or(0);
    let hi = v.iter().copied().max().unwrap_or(0);
    let range = (hi - lo).max(1) as f64;
    move |x: i64| (x - lo) as f64 / range + 1.0
}

/// The scaled payoff tables, computed once and shared by every path.
struct Scaled<'g> {
    game: &'g BimatrixGame,
    /// `A'(i, j)` at `i·n + j`.
    a: Vec<f64>,
    /// `B'(i, j)` at `j·m + i` (transposed: system 0 has a row per column action).
    bt: Vec<f64>,
}

impl<'g> Scaled<'g> {
    fn new(game: &'g BimatrixGame) -> Self {
        let (m, n) = (game.rows, game.cols);
        let sa = scaler(&game.row_payoffs);
        let sb = scaler(&game.col_payoffs);
        let a = game.row_payoffs.iter().map(|&v| sa(v)).collect();
        let mut bt = vec![0.0; m * n];
        for (k, &v) in game.col_payoffs.iter().enumerate() {
            let (i, j) = (k / n, k % n);
            bt[j * m + i] = sb(v);
        }
        Self { game, a, bt }
    }
}

struct Lh<'g> {
    s: &'g Scaled<'g>,
    t: [Tableau; 2],
}

impl<'g> Lh<'g> {
    fn new(s: &'g Scaled<'g>) -> Self {
        let (m, n) = (s.game.rows, s.game.cols);
        // System 0: rows = column actions j (slacks m + j), non-basic x_i.
        let t0 = Tableau::new(m + n, m..m + n, 0..m, |j, i| s.bt[j * m + i]);
        // System 1: rows = row actions i (slacks i), non-basic y_j.
        let t1 = Tableau::new(m + n, 0..m, m..m + n, |i, j| s.a[i * n + j]);
        Self { s, t: [t0, t1] }
    }

    /// Strategies read off the tableaux.
    fn strategies(&self) -> (Vec<f64>, Vec<f64>) {
        let (m, n) = (self.s.game.rows, self.s.game.cols);
        let mut x: Vec<f64> = (0..m)
            .map(|i| match self.t[0].row_of[i] {
                NONE => 0.0,
                r => self.t[0].rhs(r),
            })
            .collect();
        let mut y: Vec<f64> = (m..m + n)
            .map(|l| match self.t[1].row_of[l] {
                NONE => 0.0,
                r => self.t[1].rhs(r),
            })
            .collect();
        normalise(&mut x);
        normalise(&mut y);
        (x, y)
    }

    /// Strategies recomputed from the original payoffs on the final bases: for system 0, the
    /// basic `x` solve `Σᵢ Bᵢⱼ xᵢ = 1` over the columns `j` whose slack is non-basic (as many as
    /// basic `x`), and likewise for system 1. `None` if a system is singular or the solution
    /// leaves the simplex by more than rounding.
    fn polished(&self) -> Option<(Vec<f64>, Vec<f64>)> {
        let (m, n) = (self.s.game.rows, self.s.game.cols);
        let (a, bt) = (&self.s.a, &self.s.bt);
        let t0 = &self.t[0];
        let xs: Vec<usize> = (0..m).filter(|&i| t0.row_of[i] != NONE).collect();
        let eq0: Vec<usize> = (0..n).filter(|&j| t0.col_of[m + j] != NONE).collect();
        let x = solve_support(m, &xs, &eq0, |j, i| bt[j * m + i])?;
        let t1 = &self.t[1];
        let ys: Vec<usize> = (0..n).filter(|&j| t1.row_of[m + j] != NONE).collect();
        let eq1: Vec<usize> = (0..m).filter(|&i| t1.col_of[i] != NONE).collect();
        let y = solve_support(n, &ys, &eq1, |i, j| a[i * n + j])?;
        Some((x, y))
    }
}

/// Solves `Σ_{s ∈ support} coef(e, s) z_s = 1` for `e ∈ equations` (square), returns `z`
/// (length `len`, zero off the support) normalised to a distribution.
fn solve_support(
    len: usize,
    support: &[usize],
    equations: &[usize],
    coef: impl Fn(usize, usize) -> f64,
) -> Option<Vec<f64>> {
    let k = support.len();
    if k != equations.len() || k == 0 {
        return None;
    }
    let w = k + 1;
    let mut a = vec![1.0; k * w];
    for (r, &e) in equations.iter().enumerate() {
        for (c, &s) in support.iter().enumerate() {
            a[r * w + c] = coef(e, s);
        }
    }
    // Gaussian elimination with partial pivoting.
    for c in 0..k {
        let p = (c..k).max_by(|&r1, &r2| a[r1 * w + c].abs().total_cmp(&a[r2 * w + c].abs()))?;
        if a[p * w + c].abs() < 1e-300 {
            return None;
        }
        if p != c {
            for j in 0..w {
                a.swap(p * w + j, c * w + j);
            }
        }
        let piv = a[c * w + c];
        for r in c + 1..k {
            let f = a[r * w + c] / piv;
            if f != 0.0 {
                for j in c..w {
                    a[r * w + j] -= f * a[c * w + j];
                }
            }
        }
    }
    let mut z = vec![0.0; k];
    for c in (0..k).rev() {
        let mut s = a[c * w + k];
        for j in c + 1..k {
            s -= a[c * w + j] * z[j];
        }
        z[c] = s / a[c * w + c];
    }
    let total: f64 = z.iter().sum();
    if !total.is_finite() || total <= 0.0 || z.iter().any(|&v| v < -1e-9 * total) {
        return None;
    }
    let mut out = vec![0.0; len];
    for (&s, &v) in support.iter().zip(&z) {
        out[s] = v.max(0.0);
    }
    normalise(&mut out);
    Some(out)
}

/// A pure equilibrium, if any: the first `(i, j)` in row-major order where `i` is a best reply
/// to `j` and `j` to `i`.
fn pure_equilibrium(game: &BimatrixGame) -> Option<(usize, usize)> {
    let (m, n) = (game.rows, game.cols);
    let mut col_best_a = vec![i64::MIN; n];
    let mut row_best_b = vec![i64::MIN; m];
    for (i, best_b) in row_best_b.iter_mut().enumerate() {
        for (j, best_a) in col_best_a.iter_mut().enumerate() {
            *best_a = (*best_a).max(game.a(i, j));
            *best_b = (*best_b).max(game.b(i, j));
        }
    }
    (0..m)
        .flat_map(|i| (0..n).map(move |j| (i, j)))
        .find(|&(i, j)| game.a(i, j) == col_best_a[j] && game.b(i, j) == row_best_b[i])
}

/// Largest regret of either player at `(x, y)`, divided by the larger payoff range (1 if
/// constant). Payoffs are taken relative to each player's smallest one (an exact integer
/// difference; regrets are unchanged), so payoffs near ±10¹² with a small range lose nothing to
/// rounding. Exact-order IEEE arithmetic: deterministic across machines.
#[must_use]
pub fn relative_regret(game: &BimatrixGame, x: &[f64], y: &[f64]) -> f64 {
    let [ra, rb] = regrets(game, x, y);
    let range = |v: &[i64]| {
        let lo = v.iter().copied().min().unwrap_or(0);
        let hi = v.iter().copied().max().unwrap_or(0);
        (hi - lo) as f64
    };
    let scale = range(&game.row_payoffs)
        .max(range(&game.col_payoffs))
        .max(1.0);
    ra.max(rb) / scale
}

/// Each player's regret (best deviation payoff minus payoff, at least 0) at `(x, y)`, computed on
/// payoffs relative to the player's smallest one.
#[must_use]
pub fn regrets(game: &BimatrixGame, x: &[f64], y: &[f64]) -> [f64; 2] {
    let (m, n) = (game.rows, game.cols);
    let lo_a = game.row_payoffs.iter().copied().min().unwrap_or(0);
    let lo_b = game.col_payoffs.iter().copied().min().unwrap_or(0);
    // Zero-probability actions add exact zeros: skipping them changes no sum.
    let sx: Vec<usize> = (0..m).filter(|&i| x[i] != 0.0).collect();
    let sy: Vec<usize> = (0..n).filter(|&j| y[j] != 0.0).collect();
    let ay: Vec<f64> = (0..m)
        .map(|i| {
            sy.iter()
                .map(|&j| (game.a(i, j) - lo_a) as f64 * y[j])
                .sum()
        })
        .collect();
    let xb: Vec<f64> = (0..n)
        .map(|j| {
            sx.iter()
                .map(|&i| x[i] * (game.b(i, j) - lo_b) as f64)
                .sum()
        })
        .collect();
    let ua: f64 = x.iter().zip(&ay).map(|(p, v)| p * v).sum();
    let ub: f64 = y.iter().zip(&xb).map(|(p, v)| p * v).sum();
    let ra = ay.iter().copied().fold(f64::NEG_INFINITY, f64::max) - ua;
    let rb = xb.iter().copied().fold(f64::NEG_INFINITY, f64::max) - ub;
    [ra.max(0.0), rb.max(0.0)]
}

/// Pivots each live path takes per turn of the round robin.
const SLICE: usize = 16;
/// Most paths followed at once.
const MAX_LIVE: usize = 16;
/// Memory the live paths may take together (bytes); at least two paths are kept regardless.
const LIVE_BYTES: usize = 64 << 20;
/// When memory allows fewer than `MAX_LIVE` paths: pivots a path may take in the first
/// generation before it is set aside for the next (the allowance grows 4× per generation).
const SOFT_CAP: usize = 1024;

/// A Lemke–Howson path from one starting label, resumable.
struct Path<'g> {
    lh: Lh<'g>,
    label: usize,
    /// System the next variable enters.
    t: usize,
    entering: usize,
    pivots: usize,
}

impl<'g> Path<'g> {
    fn new(s: &'g Scaled<'g>, label: usize) -> Self {
        let game = s.game;
        Self {
            lh: Lh::new(s),
            label,
            t: usize::from(label >= game.rows),
            entering: label,
            pivots: 0,
        }
    }

    /// Takes up to `slice` pivots: `None` if the path goes on, `Some(Ok)` at its end,
    /// `Some(Err)` if it cannot end (pivot cap, unbounded column).
    fn run(&mut self, slice: usize, limits: &SolverLimits) -> Option<Result<(), String>> {
        for _ in 0..slice {
            if self.pivots >= limits.lh_max_pivots {
                return Some(Err(format!(
                    "label {}: no end of path within {} pivots",
                    self.label, limits.lh_max_pivots
                )));
            }
            self.pivots += 1;
            let Some(left) = self.lh.t[self.t].pivot(self.entering) else {
                return Some(Err(format!(
                    "label {}: unbounded column after {} pivots",
                    self.label, self.pivots
                )));
            };
            if left == self.label {
                return Some(Ok(()));
            }
            self.entering = left;
            self.t = 1 - self.t;
        }
        None
    }

    /// The strategies at the end of the path (polished when that helps), if they pass the ε
    /// check.
    fn result(&self) -> Result<(Vec<f64>, Vec<f64>), String> {
        let game = self.lh.s.game;
        let mut eps = f64::INFINITY;
        if let Some((row, col)) = self.lh.polished() {
            eps = relative_regret(game, &row, &col);
            if eps <= 1e-9 {
                return Ok((row, col));
            }
        }
        let (row, col) = self.lh.strategies();
        let raw = relative_regret(game, &row, &col);
        if raw <= 1e-9 {
            return Ok((row, col));
        }
        Err(format!(
            "label {}: relative regret {:e}",
            self.label,
            raw.min(eps)
        ))
    }
}

/// Follows the path from `label` to its end alone: strategies and pivots, or why it failed.
#[cfg(test)]
fn path(
    game: &BimatrixGame,
    label: usize,
    limits: &SolverLimits,
) -> Result<(Vec<f64>, Vec<f64>, usize), String> {
    let scaled = Scaled::new(game);
    let mut p = Path::new(&scaled, label);
    p.run(usize::MAX, limits).expect("runs to an end")?;
    let (row, col) = p.result()?;
    Ok((row, col, p.pivots))
}

/// Finds a Nash equilibrium of a (validated) bimatrix game: a pure one if the scan finds it,
/// else by Lemke–Howson ([`solve_bimatrix_lh`]).
pub fn solve_bimatrix(
    game: &BimatrixGame,
    limits: &SolverLimits,
) -> Result<BimatrixSolution, SolveError> {
    game.validate()?;
    if let Some((i, j)) = pure_equilibrium(game) {
        let mut row = vec![0.0; game.rows];
        let mut col = vec![0.0; game.cols];
        row[i] = 1.0;
        col[j] = 1.0;
        return Ok(BimatrixSolution {
            row,
            col,
            label: None,
            pivots: 0,
        });
    }
    round_robin(game, limits, LIVE_BYTES, SOFT_CAP)
}

/// Lemke–Howson alone (no pure-equilibrium scan). Path lengths from different starting labels
/// vary by orders of magnitude, so several paths are followed at once, round robin, `SLICE`
/// pivots per turn: label 0 starts alone, one more label joins each round up to `MAX_LIVE` live
/// paths (fewer if their tableaux would exceed `LIVE_BYTES`), and a path that hits
/// `lh_max_pivots` or ends outside the ε check is replaced by the next label, up to
/// `lh_max_restarts` labels in all. When memory allows fewer than `MAX_LIVE` paths (large games),
/// a path is also set aside after `SOFT_CAP` pivots so that later labels get their turn; the
/// set-aside labels restart in a next generation with 4× the allowance, and so on. The first path (in round-robin order) whose end passes the
/// ε check gives the answer — a fixed schedule, so the result is deterministic.
pub fn solve_bimatrix_lh(
    game: &BimatrixGame,
    limits: &SolverLimits,
) -> Result<BimatrixSolution, SolveError> {
    game.validate()?;
    round_robin(game, limits, LIVE_BYTES, SOFT_CAP)
}

/// [`solve_bimatrix_lh`]'s schedule with `live_bytes` for the live paths and first-generation
/// allowance `soft_cap`.
fn round_robin(
    game: &BimatrixGame,
    limits: &SolverLimits,
    live_bytes: usize,
    soft_cap: usize,
) -> Result<BimatrixSolution, SolveError> {
    let (m, n) = (game.rows, game.cols);
    let labels = (m + n).min(limits.lh_max_restarts.max(1));
    let state_bytes = 8 * (n * (m + 1) + m * (n + 1));
    let live = (live_bytes / state_bytes.max(1)).clamp(2, MAX_LIVE);
    let scaled = Scaled::new(game);
    let mut paths: Vec<Path<'_>> = Vec::with_capacity(live);
    // Labels still to start in this generation, and those set aside for the next.
    let mut queue: std::collections::VecDeque<usize> = (0..labels).collect();
    let mut deferred: Vec<usize> = Vec::new();
    let mut cap = if live < MAX_LIVE {
        soft_cap
    } else {
        usize::MAX
    };
    let mut target = 0;
    let mut last = String::from("no start tried");
    loop {
        target = (target + 1).min(live);
        while paths.len() < target
            && let Some(label) = queue.pop_front()
        {
            paths.push(Path::new(&scaled, label));
        }
        if paths.is_empty() {
            if deferred.is_empty() {
                break;
            }
            // Next generation: the set-aside labels restart from scratch with 4× the allowance.
            queue.extend(deferred.drain(..));
            cap = cap.saturating_mul(4);
            continue;
        }
        let mut i = 0;
        while i < paths.len() {
            match paths[i].run(SLICE, limits) {
                None if paths[i].pivots >= cap && cap < limits.lh_max_pivots => {
                    deferred.push(paths[i].label);
                    paths.remove(i);
                }
                None => i += 1,
                Some(end) => {
                    match end.and_then(|()| paths[i].result()) {
                        Ok((row, col)) => {
                            return Ok(BimatrixSolution {
                                row,
                                col,
                                label: Some(paths[i].label),
                                pivots: paths[i].pivots,
                            });
                        }
                        Err(e) => last = e,
                    }
                    paths.remove(i);
                }
            }
        }
    }
    Err(SolveError::Numerical {
        solver: "Lemke–Howson",
        detail: last,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn game(rows: usize, cols: usize, a: &[i64], b: &[i64]) -> BimatrixGame {
        BimatrixGame {
            rows,
            cols,
            row_payoffs: a.to_vec(),
            col_payoffs: b.to_vec(),
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn matching_pennies() {
        let g = game(2, 2, &[1, -1, -1, 1], &[-1, 1, 1, -1]);
        let s = solve_bimatrix(&g, &SolverLimits::default()).expect("solves");
        assert!(close(s.row[0], 0.5) && close(s.col[0], 0.5), "{s:?}");
    }

    #[test]
    fn battle_of_the_sexes_gives_one_of_its_equilibria() {
        // Equilibria: (0,0), (1,1) pure and ((2/3,1/3),(1/3,2/3)) mixed.
        let g = game(2, 2, &[2, 0, 0, 1], &[1, 0, 0, 2]);
        let s = solve_bimatrix(&g, &SolverLimits::default()).expect("solves");
        let pure0 = close(s.row[0], 1.0) && close(s.col[0], 1.0);
        let pure1 = close(s.row[1], 1.0) && close(s.col[1], 1.0);
        let mixed = close(s.row[0], 2.0 / 3.0) && close(s.col[0], 1.0 / 3.0);
        assert!(pure0 || pure1 || mixed, "{s:?}");
        assert!(relative_regret(&g, &s.row, &s.col) <= 1e-12);
        // The pure-equilibrium scan finds (0, 0) first.
        assert_eq!(s.label, None);
        assert!(pure0, "{s:?}");
    }

    #[test]
    fn rock_paper_scissors_is_uniform() {
        let a = [0, -1, 1, 1, 0, -1, -1, 1, 0];
        let b: Vec<i64> = a.iter().map(|v| -v).collect();
        let s = solve_bimatrix(&game(3, 3, &a, &b), &SolverLimits::default()).expect("solves");
        assert!(
            s.row.iter().chain(&s.col).all(|&p| close(p, 1.0 / 3.0)),
            "{s:?}"
        );
    }

    #[test]
    fn degenerate_game_still_ends_in_an_equilibrium() {
        // Column player indifferent everywhere; row player's payoffs tie in column 1.
        let g = game(3, 2, &[3, 3, 2, 3, 0, 3], &[1, 1, 1, 1, 1, 1]);
        let s = solve_bimatrix(&g, &SolverLimits::default()).expect("solves");
        assert!(relative_regret(&g, &s.row, &s.col) <= 1e-9, "{s:?}");
    }

    #[test]
    fn regret_measures_deviation_gain() {
        let g = game(2, 2, &[1, -1, -1, 1], &[-1, 1, 1, -1]);
        // Row player plays 0 for sure, column player 0 for sure: column player gains 2 by switching;
        // range 2 → relative regret 1.
        assert!(close(relative_regret(&g, &[1.0, 0.0], &[1.0, 0.0]), 1.0));
    }
    #[test]
    fn duplicate_rows_and_ties_still_solve() {
        // No pure equilibrium scan shortcut: Lemke–Howson alone, from every label.
        let a = [1, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 1];
        let b = [0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0];
        let g = game(3, 4, &a, &b);
        let limits = SolverLimits::default();
        for label in 0..7 {
            let (x, y, _) = path(&g, label, &limits).expect("path ends");
            assert!(relative_regret(&g, &x, &y) <= 1e-9, "label {label}");
        }
        // All payoffs equal: every profile is an equilibrium.
        let flat = game(4, 4, &[7; 16], &[7; 16]);
        for label in 0..8 {
            let (x, y, _) = path(&flat, label, &limits).expect("path ends");
            assert!(relative_regret(&flat, &x, &y) <= 1e-9, "label {label}");
        }
        assert!(solve_bimatrix_lh(&flat, &limits).is_ok());
    }

    #[test]
    fn generated_games_solve_deterministically_with_and_without_the_pure_scan() {
        use crate::challenge::Problem;
        use crate::class::ProblemClass;
        use crate::generate::{Difficulty, challenge};
        let limits = SolverLimits::default();
        for (n, seeds) in [(5, 0..40), (30, 0..10), (100, 2..4)] {
            let d = Difficulty {
                parties: 2,
                actions: n,
                ..Difficulty::easy()
            };
            for seed in seeds {
                let c = challenge(ProblemClass::GeneralGame, seed, &d);
                let Problem::Bimatrix(g) = &c.problem else {
                    panic!("bimatrix expected")
                };
                let s = solve_bimatrix_lh(g, &limits).expect("solves");
                assert!(relative_regret(g, &s.row, &s.col) <= 1e-9, "{n}/{seed}");
                assert_eq!(s, solve_bimatrix_lh(g, &limits).expect("solves"));
                let p = solve_bimatrix(g, &limits).expect("solves");
                assert!(relative_regret(g, &p.row, &p.col) <= 1e-9, "{n}/{seed}");
            }
        }
    }

    #[test]
    fn verifiers_keep_precision_with_large_offset_payoffs() {
        use crate::class::MatrixGame;
        use crate::config::Config;
        use crate::settlement::StrategyProfile;
        use crate::units::ChallengeId;
        use crate::verify::{verify_bimatrix, verify_zero_sum};
        // Rock–paper–scissors shifted next to 10¹²: uniform play is exact, but summing raw
        // payoffs times ⅓ would round by ~10⁻⁴, far above ε = 10⁻⁹ of the range 2.
        let off = 999_999_999_989_i64;
        let rps = [0, -1, 1, 1, 0, -1, -1, 1, 0];
        let a: Vec<i64> = rps.iter().map(|v| v + off).collect();
        let b: Vec<i64> = rps.iter().map(|v| off - v).collect();
        let third = vec![1.0 / 3.0; 3];
        let p = StrategyProfile {
            challenge: ChallengeId(1),
            strategies: vec![third.clone(), third],
        };
        let config = Config::default();
        let g = game(3, 3, &a, &b);
        let v = verify_bimatrix(&g, &p, &config);
        assert!(v.gap.expect("gap") <= 1e-12, "{v:?}");
        assert_eq!(v.quality, 1.0, "{v:?}");
        let s = solve_bimatrix(&g, &SolverLimits::default()).expect("solves");
        assert!(relative_regret(&g, &s.row, &s.col) <= 1e-12, "{s:?}");
        let z = MatrixGame {
            rows: 3,
            cols: 3,
            payoffs: a,
        };
        let v = verify_zero_sum(&z, &p, &config);
        assert!(v.gap.expect("gap") <= 1e-12, "{v:?}");
        assert_eq!(v.quality, 1.0, "{v:?}");
    }
    #[test]
    fn vectorised_elimination_is_bit_identical() {
        let (rows, w) = (7, 13);
        let mut data: Vec<f64> = (0..rows * w)
            .map(|k| ((k * 7919 % 1000) as f64 / 37.0).sin() + 1.5)
            .collect();
        data[3 * w + 4] = 0.0;
        let prow: Vec<f64> = (0..w).map(|k| (k as f64 / 3.0).cos() / 7.0).collect();
        let mut plain = data.clone();
        eliminate(&mut plain, w, 2, 4, &prow);
        eliminate_dispatch(&mut data, w, 2, 4, &prow);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&plain), bits(&data));
    }
    #[test]
    fn large_generated_games_verify_with_quality_one() {
        use crate::class::ProblemClass;
        use crate::config::Config;
        use crate::generate::{Difficulty, challenge};
        use crate::solve::reference;
        use crate::verify::verify;
        let config = Config::default();
        for (n, seeds) in [(100, 0..12), (200, 0..3)] {
            let d = Difficulty {
                parties: 2,
                actions: n,
                ..Difficulty::easy()
            };
            for seed in seeds {
                let c = challenge(ProblemClass::GeneralGame, seed, &d);
                let answer = reference(&c, &config).expect("reference solves");
                let v = verify(&c, &answer, Some(&answer), &config);
                assert_eq!(v.quality, 1.0, "{n}/{seed}: {v:?}");
            }
        }
    }
    #[test]
    fn memory_limited_schedule_defers_long_paths_and_still_solves() {
        use crate::challenge::Problem;
        use crate::class::ProblemClass;
        use crate::generate::{Difficulty, challenge};
        let limits = SolverLimits::default();
        let d = Difficulty {
            parties: 2,
            actions: 60,
            ..Difficulty::easy()
        };
        let mut deferred_wins = 0;
        for seed in 0..12 {
            let c = challenge(ProblemClass::GeneralGame, seed, &d);
            let Problem::Bimatrix(g) = &c.problem else {
                panic!("bimatrix expected")
            };
            // Room for 2 live paths only, allowance 8 pivots: generations with growing allowances.
            let s = round_robin(g, &limits, 1, 8).expect("solves");
            assert!(relative_regret(g, &s.row, &s.col) <= 1e-9, "seed {seed}");
            assert_eq!(s, round_robin(g, &limits, 1, 8).expect("solves"));
            if s.pivots > 8 || s.label.is_some_and(|l| l >= 2) {
                deferred_wins += 1;
            }
        }
        assert!(
            deferred_wins > 0,
            "the schedule should reach beyond the first two labels"
        );
    }
}
