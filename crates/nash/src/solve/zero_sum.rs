//! Two-player zero-sum games by linear programming.
//!
//! Payoffs are mapped to `A' = (A − min)/(max − min) + 1 ∈ [1, 2]` so the value is positive and
//! the LP is well scaled whatever the payoff magnitudes. Then
//! `min Σ uᵢ s.t. Σᵢ A'ᵢⱼ uᵢ ≥ 1 (each column j), u ≥ 0` gives the row player's optimal
//! strategy `x = u / Σu` and value `1/Σu`; the column player's optimal strategy is the
//! normalised vector of duals of the column constraints (LP duality is the minimax theorem).

use crate::class::MatrixGame;
use crate::config::SolverLimits;
use crate::error::SolveError;
use crate::solve::lp::{LinearProgram, Relation};

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
    let scaled = |i: usize, j: usize| (game.at(i, j) - lo) as f64 / range + 1.0;
    let mut lp = LinearProgram::new(m);
    for i in 0..m {
        lp.set_cost(i, 1.0);
    }
    for j in 0..n {
        lp.add_row(
            (0..m).map(|i| (i, scaled(i, j))).collect(),
            Relation::Ge,
            1.0,
        );
    }
    let sol = lp.solve(limits)?;
    if sol.objective.is_nan() || sol.objective <= 0.0 {
        return Err(SolveError::Numerical {
            solver: "zero-sum LP",
            detail: format!("non-positive objective {}", sol.objective),
        });
    }
    let mut row = sol.x;
    let mut col = sol.duals;
    normalise(&mut row);
    normalise(&mut col);
    let value = (1.0 / sol.objective - 1.0) * range + lo as f64;
    Ok(ZeroSumSolution { row, col, value })
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
