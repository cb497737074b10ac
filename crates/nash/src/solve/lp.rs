//! A dense bounded-variable primal simplex with duals.
//!
//! Solves `minimise cᵀx subject to aᵢx (≤ | = | ≥) bᵢ, 0 ≤ x ≤ u` (`u` may be infinite) on a full
//! tableau: phase 1 minimises the sum of artificial variables, phase 2 the objective. Variables
//! with finite upper bounds are handled by bound flips instead of extra rows. Entering variables
//! are chosen by Dantzig's rule (largest reduced cost) until `lp_degenerate_switch` consecutive
//! degenerate pivots, then by Bland's rule (smallest index, with smallest-index tie-breaking in
//! the ratio test) until progress resumes, which rules out cycling.
//!
//! Duals are read off the artificial columns (their tableau columns are `B⁻¹`) and reported as
//! `∂(optimal objective)/∂bᵢ`. The answer is checked against the original rows before it is
//! returned; a residual above tolerance is a [`SolveError::Numerical`].
//!
//! Problems here are small and dense (at most a few hundred rows and columns), where a dense
//! tableau is simple and fast, and every arithmetic step is a plain IEEE-754 operation in a fixed
//! order, so two machines get bit-identical answers.

use crate::config::SolverLimits;
use crate::error::SolveError;

const PIVOT_TOL: f64 = 1e-9;
const OPT_TOL: f64 = 1e-9;
const FEAS_TOL: f64 = 1e-7;

/// The sense of a constraint row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relation {
    /// `aᵢx ≤ bᵢ`.
    Le,
    /// `aᵢx = bᵢ`.
    Eq,
    /// `aᵢx ≥ bᵢ`.
    Ge,
}

/// A row as returned by [`LinearProgram::row`]: coefficients `(variable, value)`, relation,
/// right-hand side.
pub type RowView<'a> = (&'a [(usize, f64)], Relation, f64);

#[derive(Clone, Debug)]
struct Row {
    coeffs: Vec<(usize, f64)>,
    relation: Relation,
    rhs: f64,
}

/// A linear program in minimisation form with bounds `0 ≤ x ≤ u`.
#[derive(Clone, Debug)]
pub struct LinearProgram {
    objective: Vec<f64>,
    upper: Vec<f64>,
    rows: Vec<Row>,
}

/// An optimal solution.
#[derive(Clone, Debug)]
pub struct LpSolution {
    /// Optimal values of the variables.
    pub x: Vec<f64>,
    /// Optimal objective value.
    pub objective: f64,
    /// `∂objective/∂bᵢ` for each row, in the order rows were added.
    pub duals: Vec<f64>,
    /// Simplex pivots (including bound flips) used.
    pub pivots: usize,
}

impl LinearProgram {
    /// A program over `n` variables, objective zero, bounds `[0, ∞)`, no rows.
    #[must_use]
    pub fn new(n: usize) -> Self {
        Self {
            objective: vec![0.0; n],
            upper: vec![f64::INFINITY; n],
            rows: Vec::new(),
        }
    }

    /// Number of variables.
    #[must_use]
    pub fn num_vars(&self) -> usize {
        self.objective.len()
    }

    /// The cost vector (minimised), one entry per variable.
    #[must_use]
    pub fn costs(&self) -> &[f64] {
        &self.objective
    }

    /// The upper bounds, one per variable (`f64::INFINITY` for none; lower bounds are 0).
    #[must_use]
    pub fn uppers(&self) -> &[f64] {
        &self.upper
    }

    /// Number of rows.
    #[must_use]
    pub fn num_rows(&self) -> usize {
        self.rows.len()
    }

    /// Row `i` as `(coefficients (variable, value), relation, right-hand side)`, in the order
    /// rows were added.
    #[must_use]
    pub fn row(&self, i: usize) -> Option<RowView<'_>> {
        self.rows
            .get(i)
            .map(|r| (r.coeffs.as_slice(), r.relation, r.rhs))
    }

    /// The upper bound of variable `j` (`∞` if unbounded or out of range).
    #[must_use]
    pub fn upper(&self, j: usize) -> f64 {
        self.upper.get(j).copied().unwrap_or(f64::INFINITY)
    }

    /// Sets the cost of variable `j` (minimised). Out-of-range `j` is ignored.
    pub fn set_cost(&mut self, j: usize, c: f64) {
        if let Some(slot) = self.objective.get_mut(j) {
            *slot = c;
        }
    }

    /// Sets the upper bound of variable `j` (`f64::INFINITY` for none). Out-of-range `j` is ignored.
    pub fn set_upper(&mut self, j: usize, u: f64) {
        if let Some(slot) = self.upper.get_mut(j) {
            *slot = u;
        }
    }

    /// Adds a row `Σ coeff·x_j (rel) rhs`; returns its index (for [`LpSolution::duals`]).
    pub fn add_row(&mut self, coeffs: Vec<(usize, f64)>, relation: Relation, rhs: f64) -> usize {
        self.rows.push(Row {
            coeffs,
            relation,
            rhs,
        });
        self.rows.len() - 1
    }

    /// Solves the program with the bounds replaced by `lower ≤ x ≤ upper` (one entry per
    /// variable). Lower bounds are substituted out (`x = lower + x'`), so the tableau keeps its
    /// size; the answer is in the original variables, and the duals are those of the original
    /// rows. Bounds that cross are [`SolveError::Infeasible`].
    pub fn solve_bounded(
        &self,
        lower: &[f64],
        upper: &[f64],
        limits: &SolverLimits,
    ) -> Result<LpSolution, SolveError> {
        let n = self.num_vars();
        if lower.len() != n || upper.len() != n {
            return Err(SolveError::Numerical {
                solver: "simplex",
                detail: format!("{} / {} bounds for {n} variables", lower.len(), upper.len()),
            });
        }
        let mut shifted = self.clone();
        for j in 0..n {
            if upper[j] < lower[j] - FEAS_TOL {
                return Err(SolveError::Infeasible);
            }
            shifted.upper[j] = (upper[j] - lower[j]).max(0.0);
        }
        for row in &mut shifted.rows {
            for &(j, v) in &row.coeffs {
                if let Some(&l) = lower.get(j)
                    && l != 0.0
                {
                    row.rhs -= v * l;
                }
            }
        }
        let mut sol = shifted.solve(limits)?;
        for (x, l) in sol.x.iter_mut().zip(lower) {
            *x += l;
        }
        sol.objective = self.objective.iter().zip(&sol.x).map(|(c, v)| c * v).sum();
        Ok(sol)
    }

    /// Solves the program.
    pub fn solve(&self, limits: &SolverLimits) -> Result<LpSolution, SolveError> {
        let n = self.num_vars();
        let m = self.rows.len();
        let bad = |detail: String| SolveError::Numerical {
            solver: "simplex",
            detail,
        };
        for (j, (&c, &u)) in self.objective.iter().zip(&self.upper).enumerate() {
            if !c.is_finite() || u.is_nan() || u < 0.0 {
                return Err(bad(format!("variable {j}: cost {c}, upper bound {u}")));
            }
        }
        // Column layout: structural | one slack per inequality row | one artificial per row.
        let n_slack = self
            .rows
            .iter()
            .filter(|r| r.relation != Relation::Eq)
            .count();
        let art0 = n + n_slack;
        let total = art0 + m;
        let mut t = Tableau {
            a: vec![vec![0.0; total]; m],
            beta: vec![0.0; m],
            d: vec![0.0; total],
            upper: self.upper.clone(),
            status: vec![Status::AtLower; total],
            basis: vec![0; m],
            art0,
            pivots: 0,
        };
        t.upper
            .extend(std::iter::repeat_n(f64::INFINITY, n_slack + m));
        let mut signs = vec![1.0; m];
        let mut slack = n;
        for (i, row) in self.rows.iter().enumerate() {
            if !row.rhs.is_finite() {
                return Err(bad(format!("row {i}: right-hand side {}", row.rhs)));
            }
            for &(j, v) in &row.coeffs {
                if j >= n || !v.is_finite() {
                    return Err(bad(format!("row {i}: coefficient ({j}, {v})")));
                }
                t.a[i][j] += v;
            }
            let slack_col = match row.relation {
                Relation::Le => {
                    t.a[i][slack] = 1.0;
                    slack += 1;
                    Some(slack - 1)
                }
                Relation::Ge => {
                    t.a[i][slack] = -1.0;
                    slack += 1;
                    Some(slack - 1)
                }
                Relation::Eq => None,
            };
            if row.rhs < 0.0 {
                signs[i] = -1.0;
                for v in &mut t.a[i] {
                    *v = -*v;
                }
            }
            t.a[i][art0 + i] = 1.0;
            t.beta[i] = row.rhs.abs();
            // A slack with coefficient +1 is a ready-made basic variable.
            match slack_col {
                Some(s) if t.a[i][s] > 0.0 => t.basis[i] = s,
                _ => t.basis[i] = art0 + i,
            }
            let b = t.basis[i];
            t.status[b] = Status::Basic;
        }
        // Phase 1: minimise the artificials.
        let mut cost1 = vec![0.0; total];
        for c in cost1.iter_mut().skip(art0) {
            *c = 1.0;
        }
        t.reset_reduced_costs(&cost1);
        t.run(limits)?;
        let infeasibility: f64 = (0..m)
            .filter(|&i| t.basis[i] >= art0)
            .map(|i| t.beta[i].max(0.0))
            .sum();
        let scale = 1.0 + self.rows.iter().map(|r| r.rhs.abs()).fold(0.0, f64::max);
        if infeasibility > FEAS_TOL * scale {
            return Err(SolveError::Infeasible);
        }
        // Phase 2: artificials fixed at zero, real objective.
        for u in t.upper.iter_mut().skip(art0) {
            *u = 0.0;
        }
        let mut cost2 = vec![0.0; total];
        cost2[..n].copy_from_slice(&self.objective);
        t.reset_reduced_costs(&cost2);
        t.run(limits)?;

        let mut x = vec![0.0; n];
        for (j, xj) in x.iter_mut().enumerate() {
            *xj = match t.status[j] {
                Status::AtLower => 0.0,
                Status::AtUpper => t.upper[j],
                Status::Basic => 0.0,
            };
        }
        for (i, &b) in t.basis.iter().enumerate() {
            if b < n {
                x[b] = t.beta[i].clamp(0.0, t.upper[b]);
            }
        }
        // Self-check against the original rows.
        for (i, row) in self.rows.iter().enumerate() {
            let lhs: f64 = row.coeffs.iter().map(|&(j, v)| v * x[j]).sum();
            let mag = 1.0
                + row.rhs.abs()
                + row
                    .coeffs
                    .iter()
                    .map(|&(j, v)| (v * x[j]).abs())
                    .fold(0.0, f64::max);
            let viol = match row.relation {
                Relation::Le => lhs - row.rhs,
                Relation::Ge => row.rhs - lhs,
                Relation::Eq => (lhs - row.rhs).abs(),
            };
            if viol > FEAS_TOL * mag {
                return Err(bad(format!(
                    "row {i} violated by {viol} after {} pivots",
                    t.pivots
                )));
            }
        }
        let duals = (0..m).map(|i| -t.d[art0 + i] * signs[i]).collect();
        let objective = self.objective.iter().zip(&x).map(|(c, v)| c * v).sum();
        Ok(LpSolution {
            x,
            objective,
            duals,
            pivots: t.pivots,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Basic,
    AtLower,
    AtUpper,
}

struct Tableau {
    /// `B⁻¹A`, row per constraint.
    a: Vec<Vec<f64>>,
    /// Values of the basic variables.
    beta: Vec<f64>,
    /// Reduced costs.
    d: Vec<f64>,
    upper: Vec<f64>,
    status: Vec<Status>,
    basis: Vec<usize>,
    /// First artificial column; artificials never enter.
    art0: usize,
    pivots: usize,
}

impl Tableau {
    fn reset_reduced_costs(&mut self, cost: &[f64]) {
        self.d.copy_from_slice(cost);
        for (i, row) in self.a.iter().enumerate() {
            let cb = cost[self.basis[i]];
            if cb != 0.0 {
                for (dj, aij) in self.d.iter_mut().zip(row) {
                    *dj -= cb * aij;
                }
            }
        }
    }

    fn run(&mut self, limits: &SolverLimits) -> Result<(), SolveError> {
        let mut degenerate_run = 0usize;
        loop {
            let bland = degenerate_run >= limits.lp_degenerate_switch;
            // Entering variable and direction (+1 increase from lower, −1 decrease from upper).
            let mut enter: Option<(usize, f64)> = None;
            let mut best = 0.0;
            for j in 0..self.art0 {
                let dir = match self.status[j] {
                    Status::AtLower if self.d[j] < -OPT_TOL => 1.0,
                    Status::AtUpper if self.d[j] > OPT_TOL => -1.0,
                    _ => continue,
                };
                if self.upper[j] == 0.0 {
                    continue;
                }
                if bland {
                    enter = Some((j, dir));
                    break;
                }
                if self.d[j].abs() > best {
                    best = self.d[j].abs();
                    enter = Some((j, dir));
                }
            }
            let Some((j, dir)) = enter else {
                return Ok(());
            };
            self.pivots += 1;
            if self.pivots > limits.lp_max_pivots {
                return Err(SolveError::IterationLimit {
                    solver: "simplex",
                    iterations: limits.lp_max_pivots,
                });
            }
            // Ratio test: x_B(θ) = β − θ·dir·α.
            let mut theta = self.upper[j];
            let mut leave: Option<(usize, f64)> = None;
            for i in 0..self.a.len() {
                let alpha = self.a[i][j] * dir;
                let b = self.basis[i];
                let lim = if alpha > PIVOT_TOL {
                    self.beta[i].max(0.0) / alpha
                } else if alpha < -PIVOT_TOL && self.upper[b].is_finite() {
                    (self.upper[b] - self.beta[i]).max(0.0) / -alpha
                } else {
                    continue;
                };
                let better = match leave {
                    None => lim < theta,
                    Some((r, a_r)) => {
                        lim < theta - 1e-12
                            || (lim <= theta + 1e-12
                                && if bland {
                                    b < self.basis[r]
                                } else {
                                    alpha.abs() > a_r.abs()
                                })
                    }
                };
                if better {
                    theta = lim.min(theta);
                    leave = Some((i, alpha));
                }
            }
            if !theta.is_finite() {
                return Err(SolveError::Unbounded);
            }
            degenerate_run = if theta <= 1e-12 {
                degenerate_run + 1
            } else {
                0
            };
            for i in 0..self.a.len() {
                self.beta[i] -= theta * dir * self.a[i][j];
            }
            match leave {
                None => {
                    // Bound flip.
                    self.status[j] = if dir > 0.0 {
                        Status::AtUpper
                    } else {
                        Status::AtLower
                    };
                }
                Some((r, alpha)) => {
                    let l = self.basis[r];
                    self.status[l] = if alpha > 0.0 {
                        Status::AtLower
                    } else {
                        Status::AtUpper
                    };
                    self.beta[r] = if dir > 0.0 {
                        theta
                    } else {
                        self.upper[j] - theta
                    };
                    self.pivot(r, j);
                    self.basis[r] = j;
                    self.status[j] = Status::Basic;
                }
            }
        }
    }

    fn pivot(&mut self, r: usize, j: usize) {
        let p = self.a[r][j];
        for v in &mut self.a[r] {
            *v /= p;
        }
        let (before, rest) = self.a.split_at_mut(r);
        let (pivot_row, after) = rest.split_at_mut(1);
        let pivot_row = &pivot_row[0];
        for row in before.iter_mut().chain(after.iter_mut()) {
            let f = row[j];
            if f != 0.0 {
                for (v, pv) in row.iter_mut().zip(pivot_row) {
                    *v -= f * pv;
                }
                row[j] = 0.0;
            }
        }
        let f = self.d[j];
        if f != 0.0 {
            for (v, pv) in self.d.iter_mut().zip(pivot_row) {
                *v -= f * pv;
            }
            self.d[j] = 0.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> SolverLimits {
        SolverLimits::default()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn textbook_maximisation() {
        // max 3x + 5y s.t. x ≤ 4, 2y ≤ 12, 3x + 2y ≤ 18 → (2, 6), 36; duals (0, 1.5, 1).
        let mut lp = LinearProgram::new(2);
        lp.set_cost(0, -3.0);
        lp.set_cost(1, -5.0);
        lp.add_row(vec![(0, 1.0)], Relation::Le, 4.0);
        lp.add_row(vec![(1, 2.0)], Relation::Le, 12.0);
        lp.add_row(vec![(0, 3.0), (1, 2.0)], Relation::Le, 18.0);
        let s = lp.solve(&limits()).expect("solves");
        assert!(close(s.x[0], 2.0) && close(s.x[1], 6.0), "{:?}", s.x);
        assert!(close(s.objective, -36.0));
        // Minimisation duals are the negated shadow prices of the maximisation.
        assert!(close(s.duals[0], 0.0) && close(s.duals[1], -1.5) && close(s.duals[2], -1.0));
    }

    #[test]
    fn equalities_bounds_and_negative_rhs() {
        // min x + 2y s.t. x + y = 3, −x ≤ −1 (x ≥ 1), x ≤ 2 (bound) → x = 2, y = 1, obj 4.
        let mut lp = LinearProgram::new(2);
        lp.set_cost(0, 1.0);
        lp.set_cost(1, 2.0);
        lp.set_upper(0, 2.0);
        lp.add_row(vec![(0, 1.0), (1, 1.0)], Relation::Eq, 3.0);
        lp.add_row(vec![(0, -1.0)], Relation::Le, -1.0);
        let s = lp.solve(&limits()).expect("solves");
        assert!(close(s.x[0], 2.0) && close(s.x[1], 1.0), "{:?}", s.x);
        assert!(close(s.objective, 4.0));
        // Raising the equality's rhs costs 2 (y absorbs it).
        assert!(close(s.duals[0], 2.0), "{:?}", s.duals);
    }

    #[test]
    fn infeasible_and_unbounded_are_reported() {
        let mut lp = LinearProgram::new(1);
        lp.add_row(vec![(0, 1.0)], Relation::Ge, 5.0);
        lp.set_upper(0, 2.0);
        assert_eq!(lp.solve(&limits()).err(), Some(SolveError::Infeasible));
        let mut lp = LinearProgram::new(2);
        lp.set_cost(0, -1.0);
        lp.add_row(vec![(0, 1.0), (1, -1.0)], Relation::Le, 1.0);
        assert_eq!(lp.solve(&limits()).err(), Some(SolveError::Unbounded));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let mut lp = LinearProgram::new(1);
        lp.add_row(vec![(3, 1.0)], Relation::Le, 1.0);
        assert!(matches!(
            lp.solve(&limits()),
            Err(SolveError::Numerical { .. })
        ));
        let mut lp = LinearProgram::new(1);
        lp.add_row(vec![(0, f64::NAN)], Relation::Le, 1.0);
        assert!(matches!(
            lp.solve(&limits()),
            Err(SolveError::Numerical { .. })
        ));
    }

    #[test]
    fn degenerate_cycling_example_terminates() {
        // Beale's example cycles under Dantzig's rule without anti-cycling.
        // min −¾x4 + 20x5 − ½x6 + 6x7 s.t. rows with zero rhs and x6 ≤ 1.
        let mut lp = LinearProgram::new(4);
        for (j, c) in [-0.75, 20.0, -0.5, 6.0].into_iter().enumerate() {
            lp.set_cost(j, c);
        }
        lp.add_row(
            vec![(0, 0.25), (1, -8.0), (2, -1.0), (3, 9.0)],
            Relation::Le,
            0.0,
        );
        lp.add_row(
            vec![(0, 0.5), (1, -12.0), (2, -0.5), (3, 3.0)],
            Relation::Le,
            0.0,
        );
        lp.add_row(vec![(2, 1.0)], Relation::Le, 1.0);
        let s = lp
            .solve(&SolverLimits {
                lp_degenerate_switch: 1000,
                ..limits()
            })
            .or_else(|_| lp.solve(&limits()))
            .expect("solves");
        assert!(close(s.objective, -1.25), "{}", s.objective);
        let s = lp
            .solve(&SolverLimits {
                lp_degenerate_switch: 0,
                ..limits()
            })
            .expect("pure Bland solves");
        assert!(close(s.objective, -1.25));
    }
}
