//! Lemke–Howson for bimatrix games, with lexicographic pivoting and restarts over labels.
//!
//! Payoffs are mapped to `[1, 2]` per player (best responses, hence equilibria, are unchanged).
//! With `m` row and `n` column actions, labels `0..m` are the row player's actions and
//! `m..m+n` the column player's. Two tableaux, in the classic complementary-pivoting form:
//!
//! ```text
//! tableau 0 (one row per column action j):  Σᵢ Bᵢⱼ xᵢ + sⱼ = 1      variables x (labels 0..m), s (m..m+n)
//! tableau 1 (one row per row action i):     rᵢ + Σⱼ Aᵢⱼ yⱼ = 1      variables r (labels 0..m), y (m..m+n)
//! ```
//!
//! Starting from the artificial equilibrium (all slacks basic), the variable carrying the
//! *missing label* enters one tableau; whichever variable leaves has a label whose other
//! variable then enters the other tableau; this repeats until the missing label itself leaves.
//! The ratio test is lexicographic over the slack columns (`B⁻¹`), which makes the path unique
//! even in degenerate games. Each start is capped at `lh_max_pivots`; the first of up to
//! `lh_max_restarts` starting labels whose result passes the ε-Nash check (regret at most 10⁻⁹
//! of the payoff range) is returned.

use crate::class::BimatrixGame;
use crate::config::SolverLimits;
use crate::error::SolveError;
use crate::solve::zero_sum::normalise;

const TOL: f64 = 1e-12;

/// A Nash equilibrium of a bimatrix game.
#[derive(Clone, Debug, PartialEq)]
pub struct BimatrixSolution {
    /// Row player's strategy.
    pub row: Vec<f64>,
    /// Column player's strategy.
    pub col: Vec<f64>,
    /// The starting label that produced it.
    pub label: usize,
    /// Pivots on that path.
    pub pivots: usize,
}

struct Lh {
    /// tableaux[t][row] = coefficients (m + n columns) followed by the right-hand side.
    tableaux: [Vec<Vec<f64>>; 2],
    /// Label of the basic variable in each row.
    bases: [Vec<usize>; 2],
    m: usize,
    n: usize,
}

impl Lh {
    fn new(game: &BimatrixGame) -> Self {
        let (m, n) = (game.rows, game.cols);
        let scale = |v: &[i64]| {
            let lo = v.iter().copied().min().unwrap_or(0);
            let hi = v.iter().copied().max().unwrap_or(0);
            let range = (hi - lo).max(1) as f64;
            move |x: i64| (x - lo) as f64 / range + 1.0
        };
        let sa = scale(&game.row_payoffs);
        let sb = scale(&game.col_payoffs);
        let w = m + n + 1;
        let mut t0 = vec![vec![0.0; w]; n];
        for (j, row) in t0.iter_mut().enumerate() {
            for (i, cell) in row.iter_mut().take(m).enumerate() {
                *cell = sb(game.b(i, j));
            }
            row[m + j] = 1.0;
            row[m + n] = 1.0;
        }
        let mut t1 = vec![vec![0.0; w]; m];
        for (i, row) in t1.iter_mut().enumerate() {
            row[i] = 1.0;
            for j in 0..n {
                row[m + j] = sa(game.a(i, j));
            }
            row[m + n] = 1.0;
        }
        Self {
            tableaux: [t0, t1],
            bases: [(m..m + n).collect(), (0..m).collect()],
            m,
            n,
        }
    }

    /// Pivots `entering` into tableau `t`; returns the label that left, or `None` if no row
    /// bounds it (cannot happen for positive payoffs; reported as an error by the caller).
    fn pivot(&mut self, t: usize, entering: usize) -> Option<usize> {
        let (m, n) = (self.m, self.n);
        let slack: std::ops::Range<usize> = if t == 0 { m..m + n } else { 0..m };
        let tab = &self.tableaux[t];
        let mut best: Option<usize> = None;
        for (r, row) in tab.iter().enumerate() {
            let a = row[entering];
            if a <= TOL {
                continue;
            }
            best = match best {
                None => Some(r),
                Some(b) => {
                    let rb = &tab[b];
                    let ab = rb[entering];
                    // Lexicographic comparison of (rhs, slack columns…) / pivot element.
                    let mut choose_r = false;
                    let keys = std::iter::once(m + n).chain(slack.clone());
                    for c in keys {
                        let (x, y) = (row[c] / a, rb[c] / ab);
                        if (x - y).abs() > TOL * (1.0 + x.abs().max(y.abs())) {
                            choose_r = x < y;
                            break;
                        }
                    }
                    Some(if choose_r { r } else { b })
                }
            };
        }
        let r = best?;
        let tab = &mut self.tableaux[t];
        let p = tab[r][entering];
        for v in &mut tab[r] {
            *v /= p;
        }
        let pivot_row = tab[r].clone();
        for (k, row) in tab.iter_mut().enumerate() {
            if k == r {
                continue;
            }
            let f = row[entering];
            if f != 0.0 {
                for (v, pv) in row.iter_mut().zip(&pivot_row) {
                    *v -= f * pv;
                }
                row[entering] = 0.0;
            }
        }
        let left = self.bases[t][r];
        self.bases[t][r] = entering;
        Some(left)
    }

    fn strategies(&self) -> (Vec<f64>, Vec<f64>) {
        let (m, n) = (self.m, self.n);
        let mut x = vec![0.0; m];
        let mut y = vec![0.0; n];
        for (r, &l) in self.bases[0].iter().enumerate() {
            if l < m {
                x[l] = self.tableaux[0][r][m + n];
            }
        }
        for (r, &l) in self.bases[1].iter().enumerate() {
            if l >= m {
                y[l - m] = self.tableaux[1][r][m + n];
            }
        }
        normalise(&mut x);
        normalise(&mut y);
        (x, y)
    }
}

/// Largest regret of either player at `(x, y)`, divided by the larger payoff range (1 if
/// constant). Exact-order IEEE arithmetic: deterministic across machines.
#[must_use]
pub fn relative_regret(game: &BimatrixGame, x: &[f64], y: &[f64]) -> f64 {
    let (m, n) = (game.rows, game.cols);
    let ay: Vec<f64> = (0..m)
        .map(|i| (0..n).map(|j| game.a(i, j) as f64 * y[j]).sum())
        .collect();
    let xb: Vec<f64> = (0..n)
        .map(|j| (0..m).map(|i| x[i] * game.b(i, j) as f64).sum())
        .collect();
    let ua: f64 = x.iter().zip(&ay).map(|(p, v)| p * v).sum();
    let ub: f64 = y.iter().zip(&xb).map(|(p, v)| p * v).sum();
    let ra = ay.iter().copied().fold(f64::NEG_INFINITY, f64::max) - ua;
    let rb = xb.iter().copied().fold(f64::NEG_INFINITY, f64::max) - ub;
    let range = |v: &[i64]| {
        let lo = v.iter().copied().min().unwrap_or(0);
        let hi = v.iter().copied().max().unwrap_or(0);
        (hi - lo) as f64
    };
    let scale = range(&game.row_payoffs)
        .max(range(&game.col_payoffs))
        .max(1.0);
    ra.max(rb).max(0.0) / scale
}

/// Finds a Nash equilibrium of a (validated) bimatrix game.
pub fn solve_bimatrix(
    game: &BimatrixGame,
    limits: &SolverLimits,
) -> Result<BimatrixSolution, SolveError> {
    game.validate()?;
    let labels = game.rows + game.cols;
    let mut last = String::from("no start tried");
    for k0 in 0..labels.min(limits.lh_max_restarts.max(1)) {
        let mut lh = Lh::new(game);
        let mut t = if k0 < game.rows { 0 } else { 1 };
        let mut entering = k0;
        let mut pivots = 0;
        let finished = loop {
            if pivots >= limits.lh_max_pivots {
                break false;
            }
            pivots += 1;
            let Some(left) = lh.pivot(t, entering) else {
                break false;
            };
            if left == k0 {
                break true;
            }
            entering = left;
            t = 1 - t;
        };
        if !finished {
            last = format!(
                "label {k0}: no end of path within {} pivots",
                limits.lh_max_pivots
            );
            continue;
        }
        let (row, col) = lh.strategies();
        let eps = relative_regret(game, &row, &col);
        if eps <= 1e-9 {
            return Ok(BimatrixSolution {
                row,
                col,
                label: k0,
                pivots,
            });
        }
        last = format!("label {k0}: relative regret {eps:e}");
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
        // Starting from label 0 (row player's first action), the path ends at the pure (0, 0).
        assert_eq!(s.label, 0);
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
}
