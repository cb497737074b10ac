//! Branch and bound for small mixed-integer linear programs, on the simplex of [`super::lp`].
//!
//! A [`MilpProblem`] is a [`LinearProgram`] (minimised) plus, per variable, whether it must be
//! integral and an optional *semicontinuous* lower bound `ℓ`: the variable is either 0 or at least
//! `ℓ` (a minimum fill, expressed without an extra on/off binary: the disjunction is branched on
//! directly, `x ≤ 0` or `x ≥ ℓ`, which is the same as branching on the binary of the textbook
//! big-M formulation but keeps the relaxation as tight as that formulation's).
//!
//! Nodes carry their variable bounds and are solved from scratch with
//! [`LinearProgram::solve_bounded`] (problems here have at most a few hundred columns). The
//! search dives depth-first, nearest-rounding child first, until it has an incumbent, then
//! takes the open node with the best bound (ties: the earliest created); it branches on the most
//! fractional variable until pseudo-costs (the observed objective change per unit of branching
//! distance) exist, then on the best pseudo-cost product (ties: the lowest index), and prunes nodes whose bound is not better than
//! the incumbent by a relative `1e-9`. Everything is a fixed sequence of IEEE-754 operations, so
//! the search is deterministic. After `milp_max_nodes` solved nodes it stops and returns the
//! incumbent with [`MilpSolution::node_limit_hit`] set; without one that is an error.

use crate::config::SolverLimits;
use crate::error::SolveError;
use crate::solve::lp::LinearProgram;

/// How far from an integer a value may be and still count as integral.
const INT_TOL: f64 = 1e-6;
/// Relative improvement a node's bound must promise over the incumbent to be explored.
const PRUNE_TOL: f64 = 1e-9;

/// A mixed-integer program: minimise the LP's objective with some variables integral and some
/// semicontinuous.
#[derive(Clone, Debug)]
pub struct MilpProblem {
    /// The relaxation.
    pub lp: LinearProgram,
    /// Per variable: must it be integral?
    pub integer: Vec<bool>,
    /// Per variable: 0 for an ordinary variable, else `ℓ > 0` meaning `x = 0 or x ≥ ℓ`.
    pub on_lower: Vec<f64>,
}

/// The best solution found.
#[derive(Clone, Debug)]
pub struct MilpSolution {
    /// Values of the variables (integral ones exactly integral).
    pub x: Vec<f64>,
    /// Objective value.
    pub objective: f64,
    /// LP relaxations solved.
    pub nodes: usize,
    /// Whether the search stopped at the node limit (the answer may then not be optimal).
    pub node_limit_hit: bool,
    /// Nodes whose relaxation failed numerically and were dropped (the answer may then not be
    /// optimal).
    pub failed_nodes: usize,
}

#[derive(Clone, Debug)]
struct Node {
    lower: Vec<f64>,
    upper: Vec<f64>,
    /// The parent's relaxation value: a lower bound on anything in this node.
    bound: f64,
    seq: usize,
    /// The branching that made this node: variable, direction (0 down, 1 up), distance.
    origin: Option<(usize, usize, f64)>,
}

impl MilpProblem {
    /// A problem over `lp` with every variable continuous and ordinary.
    #[must_use]
    pub fn new(lp: LinearProgram) -> Self {
        let n = lp.num_vars();
        Self {
            lp,
            integer: vec![false; n],
            on_lower: vec![0.0; n],
        }
    }

    /// The variable to branch on, or `None` if `x` meets the integrality and semicontinuity
    /// requirements. Candidates are scored by the product of their estimated objective
    /// degradations down and up (pseudo-costs, the average over variables with history standing
    /// in for those without); before any history exists, by fractionality. Ties go to the lowest
    /// index.
    fn branch_variable(&self, x: &[f64], pc: &PseudoCosts) -> Option<(usize, Branch)> {
        let mut best: Option<(usize, Branch, f64)> = None;
        let avg = [pc.average(0), pc.average(1)];
        for (j, &v) in x.iter().enumerate() {
            let lo = self.on_lower.get(j).copied().unwrap_or(0.0);
            let cand = if lo > 0.0 && v > INT_TOL && v < lo - INT_TOL * lo.max(1.0) {
                Some((Branch::OnOff(lo), v, lo - v, (v / lo).min(1.0 - v / lo)))
            } else if self.integer.get(j).copied().unwrap_or(false) {
                let f = v - v.floor();
                (f > INT_TOL && f < 1.0 - INT_TOL)
                    .then(|| (Branch::Split(v), f, 1.0 - f, f.min(1.0 - f)))
            } else {
                None
            };
            let Some((b, down, up, frac)) = cand else {
                continue;
            };
            let score = match avg {
                [Some(ad), Some(au)] => {
                    let d = pc.estimate(j, 0).unwrap_or(ad) * down;
                    let u = pc.estimate(j, 1).unwrap_or(au) * up;
                    d.max(1e-12) * u.max(1e-12)
                }
                _ => frac,
            };
            if best.as_ref().is_none_or(|(_, _, s)| score > *s) {
                best = Some((j, b, score));
            }
        }
        best.map(|(j, b, _)| (j, b))
    }
}

/// Observed objective degradation per unit of branching distance, per variable and direction
/// (0 down, 1 up).
struct PseudoCosts {
    sum: [Vec<f64>; 2],
    count: [Vec<u32>; 2],
}

impl PseudoCosts {
    fn new(n: usize) -> Self {
        Self {
            sum: [vec![0.0; n], vec![0.0; n]],
            count: [vec![0; n], vec![0; n]],
        }
    }

    fn record(&mut self, j: usize, dir: usize, per_unit: f64) {
        self.sum[dir][j] += per_unit;
        self.count[dir][j] += 1;
    }

    fn estimate(&self, j: usize, dir: usize) -> Option<f64> {
        let c = self.count[dir][j];
        (c > 0).then(|| self.sum[dir][j] / f64::from(c))
    }

    fn average(&self, dir: usize) -> Option<f64> {
        let (mut total, mut k) = (0.0, 0u32);
        for j in 0..self.sum[dir].len() {
            if let Some(e) = self.estimate(j, dir) {
                total += e;
                k += 1;
            }
        }
        (k > 0).then(|| total / f64::from(k))
    }
}

#[derive(Clone, Copy, Debug)]
enum Branch {
    /// `x ≤ ⌊v⌋` or `x ≥ ⌈v⌉`.
    Split(f64),
    /// `x ≤ 0` or `x ≥ ℓ`.
    OnOff(f64),
}

/// Solves `p` by branch and bound. `start` is a known feasible point and its objective (for
/// example "trade nothing"), which lets the search prune from the first node and guarantees an
/// answer at the node limit.
pub fn solve_milp(
    p: &MilpProblem,
    start: Option<(Vec<f64>, f64)>,
    limits: &SolverLimits,
) -> Result<MilpSolution, SolveError> {
    let n = p.lp.num_vars();
    let root = Node {
        lower: vec![0.0; n],
        upper: (0..n).map(|j| p.lp.upper(j)).collect(),
        bound: f64::NEG_INFINITY,
        seq: 0,
        origin: None,
    };
    let mut pc = PseudoCosts::new(n);
    let mut open = vec![root];
    let mut seq = 1usize;
    let mut incumbent = start;
    let mut nodes = 0usize;
    let mut node_limit_hit = false;
    let mut failed_nodes = 0usize;
    let worth_exploring = |bound: f64, inc: &Option<(Vec<f64>, f64)>| match inc {
        None => true,
        Some((_, best)) => bound < best - PRUNE_TOL * best.abs().max(1.0),
    };
    loop {
        // Dive until there is an incumbent, then best bound first.
        let next = if incumbent.is_none() {
            open.pop()
        } else {
            let pick = open
                .iter()
                .enumerate()
                .min_by(|(_, a), (_, b)| a.bound.total_cmp(&b.bound).then(a.seq.cmp(&b.seq)))
                .map(|(k, _)| k);
            pick.map(|k| open.swap_remove(k))
        };
        let Some(node) = next else { break };
        if !worth_exploring(node.bound, &incumbent) {
            continue;
        }
        if nodes >= limits.milp_max_nodes {
            node_limit_hit = true;
            break;
        }
        nodes += 1;
        let sol = match p.lp.solve_bounded(&node.lower, &node.upper, limits) {
            Ok(s) => s,
            Err(SolveError::Infeasible) => continue,
            Err(_) => {
                // A relaxation the simplex cannot solve reliably (pivot limit, failed
                // self-check) is dropped like an infeasible one: the answer stays feasible, and
                // the count tells that optimality is no longer proven.
                failed_nodes += 1;
                continue;
            }
        };
        if let Some((j, dir, dist)) = node.origin
            && dist > 0.0
            && node.bound.is_finite()
        {
            pc.record(j, dir, (sol.objective - node.bound).max(0.0) / dist);
        }
        if !worth_exploring(sol.objective, &incumbent) {
            continue;
        }
        let Some((j, branch)) = p.branch_variable(&sol.x, &pc) else {
            let mut x = sol.x;
            for (v, &int) in x.iter_mut().zip(&p.integer) {
                if int {
                    *v = v.round();
                }
            }
            incumbent = Some((x, sol.objective));
            continue;
        };
        let mut down = node.clone();
        let mut up = node;
        down.bound = sol.objective;
        up.bound = sol.objective;
        let v = sol.x[j];
        let lo = p.on_lower[j];
        let prefer_up = match branch {
            Branch::Split(v) => {
                let floor = v.floor();
                // A semicontinuous integer below its threshold can only be 0.
                down.upper[j] = if lo > 0.0 && floor < lo - INT_TOL {
                    0.0
                } else {
                    floor
                };
                up.lower[j] = v.ceil().max(lo);
                v - floor >= 0.5
            }
            Branch::OnOff(lo) => {
                down.upper[j] = 0.0;
                up.lower[j] = lo;
                v >= 0.5 * lo
            }
        };
        let (dd, du) = match branch {
            Branch::Split(v) => (v - v.floor(), v.ceil() - v),
            Branch::OnOff(lo) => (v, lo - v),
        };
        down.origin = Some((j, 0, dd));
        up.origin = Some((j, 1, du));
        down.seq = seq;
        up.seq = seq + 1;
        seq += 2;
        // The child popped first in a dive goes last.
        if prefer_up {
            open.push(down);
            open.push(up);
        } else {
            open.push(up);
            open.push(down);
        }
    }
    match incumbent {
        Some((x, objective)) => Ok(MilpSolution {
            x,
            objective,
            nodes,
            node_limit_hit,
            failed_nodes,
        }),
        None if node_limit_hit => Err(SolveError::IterationLimit {
            solver: "branch and bound",
            iterations: limits.milp_max_nodes,
        }),
        None => Err(SolveError::Infeasible),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solve::lp::Relation;

    #[test]
    fn knapsack_beats_rounding_the_relaxation() {
        // max 10a + 7b + 7c s.t. 6a + 4b + 4c ≤ 8, binaries: the relaxation takes a and half of
        // b (13.5); the optimum is b + c = 14.
        let mut lp = LinearProgram::new(3);
        for (j, c) in [10.0, 7.0, 7.0].into_iter().enumerate() {
            lp.set_cost(j, -c);
            lp.set_upper(j, 1.0);
        }
        lp.add_row(vec![(0, 6.0), (1, 4.0), (2, 4.0)], Relation::Le, 8.0);
        let mut p = MilpProblem::new(lp);
        p.integer = vec![true; 3];
        let s = solve_milp(&p, None, &SolverLimits::default()).expect("solves");
        assert_eq!(s.x, vec![0.0, 1.0, 1.0]);
        assert!((s.objective + 14.0).abs() < 1e-9);
        assert!(!s.node_limit_hit);
    }

    #[test]
    fn semicontinuous_variables_skip_the_gap() {
        // max x − 0.1y with x ≤ y, y ∈ {0} ∪ [5, 10], x ≤ 3: taking y = 5 costs 0.5 for a gain of
        // 3 → x = 3, y = 5, objective 2.5; without the threshold y would be 3.
        let mut lp = LinearProgram::new(2);
        lp.set_cost(0, -1.0);
        lp.set_cost(1, 0.1);
        lp.set_upper(0, 3.0);
        lp.set_upper(1, 10.0);
        lp.add_row(vec![(0, 1.0), (1, -1.0)], Relation::Le, 0.0);
        let mut p = MilpProblem::new(lp);
        p.on_lower[1] = 5.0;
        let s = solve_milp(&p, None, &SolverLimits::default()).expect("solves");
        assert!((s.x[1] - 5.0).abs() < 1e-9 && (s.x[0] - 3.0).abs() < 1e-9);
    }

    #[test]
    fn node_limit_returns_the_start_or_an_error() {
        let mut lp = LinearProgram::new(2);
        lp.set_cost(0, -1.0);
        lp.set_cost(1, -1.0);
        lp.set_upper(0, 10.0);
        lp.set_upper(1, 10.0);
        lp.add_row(vec![(0, 2.0), (1, 2.0)], Relation::Le, 7.0);
        let mut p = MilpProblem::new(lp);
        p.integer = vec![true; 2];
        let limits = SolverLimits {
            milp_max_nodes: 0,
            ..SolverLimits::default()
        };
        assert!(matches!(
            solve_milp(&p, None, &limits),
            Err(SolveError::IterationLimit { .. })
        ));
        let s = solve_milp(&p, Some((vec![0.0, 0.0], 0.0)), &limits).expect("start");
        assert!(s.node_limit_hit && s.objective == 0.0);
        let s = solve_milp(&p, None, &SolverLimits::default()).expect("solves");
        assert!((s.objective + 3.0).abs() < 1e-9, "{s:?}");
    }
}
