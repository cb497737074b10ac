//! Clearing of markets with indivisible trades — lots, minimum fills and bundles — by the
//! welfare MILP, priced by the duals of the problem with its integer decisions fixed.
//!
//! The relaxation is [`super::clearing`]'s welfare LP over all resources of a *component*
//! (resources joined by bundles; components are independent and solved separately), with extra
//! columns for the discrete decisions:
//!
//! ```text
//! Σ_k y_ik − lot_i·t_i = 0        t_i ∈ {0, …, ⌊q_i/lot_i⌋} lots (lot > 1), t_i = 0 or ≥ lo_i/lot_i
//! Σ_k y_ik − q_i·b_B = 0          each leg i of bundle B, b_B ∈ {0, 1}
//! ```
//!
//! (an intent with only a minimum fill gets a continuous `t_i` in units, semicontinuous at the
//! minimum). [`super::milp`] solves it, starting from "every indivisible intent idle".
//!
//! **Prices** (IP pricing, O'Neill et al. 2005): with every integer decision fixed at its optimum
//! (and every on/off decision at its side), the remaining LP is solved again and its duals are
//! the prices, averaged and rounded per connected part of the trade graph as in the divisible
//! clearing. Without the uplift payments of O'Neill's scheme such prices need not leave an
//! indivisible intent or a bundle individually rational; when they do not, a small LP picks the
//! prices nearest to them (least total absolute change) that do, with every fill budget-balanced
//! (`buyer's price ≥ supplier's`). Its bounds are exact grid values, so rounding keeps them; a
//! bundle's constraint keeps one tick per unit of margin for the rounding. When even that LP has
//! no solution — linear per-intent prices cannot support every MILP optimum: a seller's lot can
//! make it worth serving a buyer who values it below the seller's cost — the MILP is solved again
//! (within the same node budget) without the offending pairing (a traded supplier and buyer whose
//! average cost and value cross) or, failing one, with the discrete decision the duals leave
//! irrational switched off; with every decision off, the divisible intents' competitive duals
//! price the rest.
//! The answer is then the best *priceable* one found, not necessarily the unconstrained optimum.

use crate::config::SolverLimits;
use crate::error::SolveError;
use crate::intent::Intent;
use crate::settlement::{Fill, PostedPrice, Settlement};
use crate::solve::lp::{LinearProgram, Relation};
use crate::solve::milp::{MilpProblem, MilpSolution, solve_milp};
use crate::solve::swap::trade_slot;
use crate::units::{BundleId, MICRO, Money, Price, Quantity};
use std::collections::BTreeMap;

/// What the MILP did on one instance.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MilpStats {
    /// Components solved by the MILP.
    pub components: usize,
    /// Branch-and-bound nodes over all components.
    pub nodes: usize,
    /// Whether any component stopped at the node limit (its answer may not be optimal).
    pub node_limit_hit: bool,
    /// Branch-and-bound nodes dropped because their relaxation failed numerically.
    pub failed_nodes: usize,
    /// Whether the prices had to be moved off the duals to make everyone individually rational.
    pub repriced: bool,
    /// Trading pairs forbidden or discrete decisions switched off because no linear prices
    /// could support them.
    pub dropped: usize,
    /// Welfare (money units, approximate) given up to make the answers priceable: the first
    /// round's MILP optimum minus the final one's, summed over components.
    pub priced_away: f64,
    /// The last round's MILP objective (minimised, so minus welfare), for `priced_away`.
    last_objective: f64,
}

fn units(q: Quantity) -> f64 {
    q.0 as f64 / MICRO as f64
}

/// The discrete decision an intent hangs on.
#[derive(Clone, Copy, Debug)]
enum Link {
    /// Divisible: no extra column.
    None,
    /// Own column `col`, one unit of it = `scale` resource units.
    Own { col: usize, scale: f64 },
    /// Leg of the bundle whose column is `col`.
    Leg { col: usize },
}

/// The welfare MILP of one component and how its columns map back to the intents.
pub struct WelfareMilp {
    /// The program: minimise −welfare (units × money).
    pub problem: MilpProblem,
    /// Compatible (supplier index, buyer index, slot) edges; column `e` is edge `e`'s flow.
    edges: Vec<(usize, usize, u32)>,
    /// Each intent's discrete decision.
    links: Vec<Link>,
    /// The first discrete column (bundles, then own decisions, up to the last column).
    pub first_extra: usize,
}

/// Builds the welfare MILP of one component (see the module doc for its rows and columns).
pub(crate) fn welfare_milp(intents: &[&Intent]) -> WelfareMilp {
    // Edges: (supplier index, buyer index, slot).
    let mut edges = Vec::new();
    for (si, s) in intents
        .iter()
        .enumerate()
        .filter(|(_, i)| i.side.supplies())
    {
        for (bi, b) in intents
            .iter()
            .enumerate()
            .filter(|(_, i)| !i.side.supplies())
        {
            if let Some(slot) = trade_slot(b, s) {
                edges.push((si, bi, slot));
            }
        }
    }
    let segments: Vec<_> = intents.iter().map(|i| i.segments()).collect();
    let n_seg: usize = segments.iter().map(Vec::len).sum();
    let mut bundles: BTreeMap<BundleId, usize> = BTreeMap::new();
    let mut n_extra = 0usize;
    for i in intents {
        match i.bundle {
            Some(b) if !bundles.contains_key(&b) => {
                bundles.insert(b, n_extra);
                n_extra += 1;
            }
            Some(_) => {}
            None if i.is_indivisible() => n_extra += 1,
            None => {}
        }
    }
    let first_extra = edges.len() + n_seg;
    let n = first_extra + n_extra;
    let mut lp = LinearProgram::new(n);
    let mut integer = vec![false; n];
    let mut on_lower = vec![0.0; n];
    let mut rows: Vec<Vec<(usize, f64)>> = vec![Vec::new(); intents.len()];
    let mut links = vec![Link::None; intents.len()];
    let mut col = edges.len();
    let mut next_own = first_extra + bundles.len();
    for (b, k) in bundles.iter_mut() {
        *k += first_extra;
        integer[*k] = true;
        // A leg whose full quantity is not admissible can never be filled: nor can the bundle.
        let admissible = intents
            .iter()
            .filter(|i| i.bundle == Some(*b))
            .all(|i| i.admits(i.quantity));
        lp.set_upper(*k, if admissible { 1.0 } else { 0.0 });
    }
    let mut seg_cols = Vec::with_capacity(intents.len());
    for (k, (intent, segs)) in intents.iter().zip(&segments).enumerate() {
        let sign = if intent.side.supplies() { -1.0 } else { 1.0 };
        let mut mine = Vec::with_capacity(segs.len());
        for seg in segs {
            lp.set_cost(col, -sign * seg.price.as_f64());
            lp.set_upper(col, units(seg.quantity));
            rows[k].push((col, sign));
            mine.push(col);
            col += 1;
        }
        seg_cols.push(mine);
        links[k] = match intent.bundle {
            Some(b) => Link::Leg {
                col: bundles.get(&b).copied().unwrap_or(first_extra),
            },
            None if intent.is_indivisible() => {
                let c = next_own;
                next_own += 1;
                // Validated intents always have a fill range; without one the intent stays idle.
                let (lo, hi) = intent.fill_range().unwrap_or((0, 0));
                if intent.lot.0 > 1 {
                    let lot = intent.lot.0;
                    integer[c] = true;
                    lp.set_upper(c, (hi / lot) as f64);
                    if lo > lot {
                        on_lower[c] = (lo / lot) as f64;
                    }
                    Link::Own {
                        col: c,
                        scale: units(intent.lot),
                    }
                } else {
                    lp.set_upper(c, units(Quantity(hi)));
                    on_lower[c] = units(Quantity(lo));
                    Link::Own { col: c, scale: 1.0 }
                }
            }
            None => Link::None,
        };
    }
    for (e, &(si, bi, _)) in edges.iter().enumerate() {
        rows[bi].push((e, -1.0));
        rows[si].push((e, 1.0));
    }
    for row in rows {
        lp.add_row(row, Relation::Eq, 0.0);
    }
    for (k, intent) in intents.iter().enumerate() {
        let (c, scale) = match links[k] {
            Link::None => continue,
            Link::Own { col, scale } => (col, scale),
            Link::Leg { col } => (col, units(intent.quantity)),
        };
        let mut row: Vec<(usize, f64)> = seg_cols[k].iter().map(|&j| (j, 1.0)).collect();
        row.push((c, -scale));
        lp.add_row(row, Relation::Eq, 0.0);
    }

    WelfareMilp {
        problem: MilpProblem {
            lp,
            integer,
            on_lower,
        },
        edges,
        links,
        first_extra,
    }
}

/// Solves a welfare MILP as the clearing does: branch and bound from the incumbent "every
/// discrete decision (columns `first_extra..`) off", which the divisible intents' LP gives.
///
/// # Errors
/// What [`solve_milp`] or the starting LP report.
pub fn solve_welfare_milp(
    problem: &MilpProblem,
    first_extra: usize,
    limits: &SolverLimits,
) -> Result<MilpSolution, SolveError> {
    let n = problem.lp.num_vars();
    let lower = vec![0.0; n];
    let mut upper: Vec<f64> = (0..n).map(|j| problem.lp.upper(j)).collect();
    for u in upper.iter_mut().skip(first_extra) {
        *u = 0.0;
    }
    let start = problem.lp.solve_bounded(&lower, &upper, limits)?;
    solve_milp(problem, Some((start.x, start.objective)), limits)
}

/// Clears one component: `intents` are all intents of a set of resources closed under bundles.
pub(crate) fn clear_component(
    intents: &[&Intent],
    limits: &SolverLimits,
    out: &mut Settlement,
    stats: &mut MilpStats,
) -> Result<(), SolveError> {
    let WelfareMilp {
        mut problem,
        edges,
        links,
        first_extra,
        ..
    } = welfare_milp(intents);
    let n = problem.lp.num_vars();
    stats.components += 1;
    // Linear per-intent prices cannot always support a welfare optimum with indivisible
    // decisions (a seller's minimum fill can make a bundle that pays less than the seller's
    // cost worth serving). Then the decision that no price leaves rational is switched off and
    // the MILP solved again: at worst every discrete decision ends up off, which the divisible
    // intents' own competitive duals price.
    // The node limit is for the component as a whole, over all rounds.
    let nodes_before = stats.nodes;
    let mut first_objective = None;
    let (flows, prices) = loop {
        // With every discrete decision off there is nothing left to switch: take the prices.
        let last_resort = break_any(&problem, first_extra, n).is_none();
        let budget = SolverLimits {
            milp_max_nodes: limits
                .milp_max_nodes
                .saturating_sub(stats.nodes - nodes_before),
            ..limits.clone()
        };
        let attempt = solve_and_price(
            intents,
            &edges,
            &problem,
            first_extra,
            last_resort,
            &budget,
            stats,
        )?;
        let first = *first_objective.get_or_insert(stats.last_objective);
        match attempt {
            Priced::Done(flows, prices) => {
                stats.priced_away += (stats.last_objective - first).max(0.0);
                break (flows, prices);
            }
            Priced::ForbidEdge(e) => {
                problem.lp.set_upper(e, 0.0);
                stats.dropped += 1;
            }
            Priced::Irrational(k) => {
                let col = match links[k] {
                    Link::Own { col, .. } | Link::Leg { col } => col,
                    Link::None => break_any(&problem, first_extra, n).unwrap_or(first_extra),
                };
                let col = if problem.lp.upper(col) > 0.0 {
                    col
                } else {
                    break_any(&problem, first_extra, n).unwrap_or(first_extra)
                };
                problem.lp.set_upper(col, 0.0);
                stats.dropped += 1;
            }
        }
    };
    for (k, intent) in intents.iter().enumerate() {
        out.prices.push(PostedPrice {
            intent: intent.id,
            price: prices[k],
        });
    }
    for (e, &(si, bi, slot)) in edges.iter().enumerate() {
        if flows[e] > 0 {
            out.fills.push(Fill {
                seller: intents[si].id,
                buyer: intents[bi].id,
                resource: intents[si].resource,
                slot,
                quantity: Quantity(flows[e]),
            });
        }
    }
    Ok(())
}

/// The outcome of one solve-and-price round.
enum Priced {
    /// Flows per edge and prices per intent.
    Done(Vec<u64>, Vec<Price>),
    /// No rational prices: this intent (or its bundle) is the first one the duals leave
    /// irrational.
    Irrational(usize),
    /// No rational prices: this traded edge joins a supplier whose average cost is above its
    /// buyer's average value.
    ForbidEdge(usize),
}

/// The exact individually rational price bound of an intent filled `q > 0`, in grid units:
/// the least a supplier accepts (`⌈cost/q⌉`) or the most a buyer pays (`⌊value/q⌋`).
fn grid_bounds(i: &Intent, q: u64) -> i128 {
    let worth = i.worth(Quantity(q)).0;
    let q = i128::from(q.max(1));
    if i.side.supplies() {
        (worth + q - 1) / q
    } else {
        worth / q
    }
}

/// Some discrete column that is still allowed to be on (the last resort when an irrational
/// intent is divisible).
fn break_any(problem: &MilpProblem, first_extra: usize, n: usize) -> Option<usize> {
    (first_extra..n).find(|&j| problem.lp.upper(j) > 0.0)
}

fn solve_and_price(
    intents: &[&Intent],
    edges: &[(usize, usize, u32)],
    problem: &MilpProblem,
    first_extra: usize,
    last_resort: bool,
    limits: &SolverLimits,
    stats: &mut MilpStats,
) -> Result<Priced, SolveError> {
    let n = problem.lp.num_vars();
    let best = solve_welfare_milp(problem, first_extra, limits)?;
    stats.nodes += best.nodes;
    stats.node_limit_hit |= best.node_limit_hit;
    stats.failed_nodes += best.failed_nodes;
    stats.last_objective = best.objective;

    // The pricing problem: discrete decisions fixed, continuous ones free.
    let mut lower = vec![0.0; n];
    let mut upper: Vec<f64> = (0..n).map(|j| problem.lp.upper(j)).collect();
    for j in first_extra..n {
        let v = best.x[j];
        if problem.integer[j] {
            lower[j] = v;
            upper[j] = v;
        } else if v > 1e-9 {
            lower[j] = problem.on_lower[j];
        } else {
            upper[j] = 0.0;
        }
    }
    let sol = problem.lp.solve_bounded(&lower, &upper, limits)?;

    let (flows, used, part_price) =
        crate::solve::clearing::flows_and_part_prices(intents, edges, &sol.x, &sol.duals);
    let dual_price: Vec<f64> = part_price.iter().map(|p| p.max(0.0)).collect();
    let mut prices: Vec<Price> = dual_price
        .iter()
        .map(|&p| Price::from_f64_rounded(p))
        .collect();
    let traded: Vec<(usize, usize)> = edges
        .iter()
        .zip(&flows)
        .filter(|(_, f)| **f > 0)
        .map(|(&(si, bi, _), _)| (si, bi))
        .collect();
    if !rational(intents, &used, &prices) {
        match reprice(intents, &used, &traded, &dual_price, limits) {
            Some(p) => {
                prices = p;
                stats.repriced = true;
            }
            None if last_resort => {}
            None => {
                // A traded pair whose supplier's average cost exceeds its buyer's average value
                // cannot share a budget-balanced price: route around it first.
                let conflict = edges.iter().zip(&flows).position(|(&(si, bi, _), &f)| {
                    let (s, b) = (intents[si], intents[bi]);
                    f > 0
                        && s.bundle.is_none()
                        && b.bundle.is_none()
                        && grid_bounds(s, used[si]) > grid_bounds(b, used[bi])
                });
                if let Some(e) = conflict {
                    return Ok(Priced::ForbidEdge(e));
                }
                let k = first_irrational(intents, &used, &prices).unwrap_or(0);
                return Ok(Priced::Irrational(k));
            }
        }
    }
    Ok(Priced::Done(flows, prices))
}

/// The first filled intent outside bundles, or leg of a bundle, that `prices` leave irrational.
fn first_irrational(intents: &[&Intent], fills: &[u64], prices: &[Price]) -> Option<usize> {
    let mut bundles: BTreeMap<BundleId, (Money, usize)> = BTreeMap::new();
    for (k, i) in intents.iter().enumerate() {
        let u = i.utility(Quantity(fills[k]), prices[k]);
        match i.bundle {
            Some(b) => bundles.entry(b).or_insert((Money::ZERO, k)).0 += u,
            None if fills[k] > 0 && u < Money::ZERO => return Some(k),
            None => {}
        }
    }
    bundles
        .values()
        .find(|(u, _)| *u < Money::ZERO)
        .map(|(_, k)| *k)
}

/// Whether every filled intent outside bundles and every bundle is individually rational at
/// `prices` (exact).
fn rational(intents: &[&Intent], fills: &[u64], prices: &[Price]) -> bool {
    let mut bundles: BTreeMap<BundleId, Money> = BTreeMap::new();
    for (k, i) in intents.iter().enumerate() {
        let u = i.utility(Quantity(fills[k]), prices[k]);
        match i.bundle {
            Some(b) => *bundles.entry(b).or_insert(Money::ZERO) += u,
            None if fills[k] > 0 && u < Money::ZERO => return false,
            None => {}
        }
    }
    bundles.values().all(|u| *u >= Money::ZERO)
}

/// The prices nearest to `target` (least total absolute change) that leave every filled intent
/// and bundle individually rational and every traded pair budget-balanced; `None` if there are
/// none (or the LP fails).
fn reprice(
    intents: &[&Intent],
    fills: &[u64],
    traded: &[(usize, usize)],
    target: &[f64],
    limits: &SolverLimits,
) -> Option<Vec<Price>> {
    let m = intents.len();
    // Columns: p_k (money per unit), then d_k ≥ |p_k − target_k|.
    let mut lp = LinearProgram::new(2 * m);
    for (k, &t) in target.iter().enumerate() {
        lp.set_cost(m + k, 1.0);
        lp.add_row(vec![(m + k, 1.0), (k, -1.0)], Relation::Ge, -t);
        lp.add_row(vec![(m + k, 1.0), (k, 1.0)], Relation::Ge, t);
    }
    for &(s, b) in traded {
        lp.add_row(vec![(b, 1.0), (s, -1.0)], Relation::Ge, 0.0);
    }
    let tick = 1.0 / MICRO as f64;
    // Per bundle: its row's coefficients, right-hand side and rounding margin.
    type BundleRow = (Vec<(usize, f64)>, f64, f64);
    let mut bundles: BTreeMap<BundleId, BundleRow> = BTreeMap::new();
    for (k, i) in intents.iter().enumerate() {
        let q = Quantity(fills[k]);
        if q.0 == 0 && i.bundle.is_none() {
            continue;
        }
        // Exact per-unit bounds on the grid: p·q ≤ value(q) for buyers, ≥ cost(q) for
        // suppliers.
        let worth = i.worth(q).0;
        match i.bundle {
            None => {
                let bound = grid_bounds(i, q.0) as f64 * tick;
                let rel = if i.side.supplies() {
                    Relation::Ge
                } else {
                    Relation::Le
                };
                lp.add_row(vec![(k, 1.0)], rel, bound);
            }
            Some(b) => {
                // Σ_buy q·p − Σ_sell q·p ≤ Σ_buy value − Σ_sell cost (money units).
                let e = bundles.entry(b).or_insert((Vec::new(), 0.0, 0.0));
                let sign = if i.side.supplies() { -1.0 } else { 1.0 };
                e.0.push((k, sign * units(q)));
                e.1 += sign * worth as f64 / 1e12;
                e.2 += units(q) * tick;
            }
        }
    }
    let bundle_rows: Vec<_> = bundles.into_values().collect();
    for margin in [1.0, 0.0] {
        let mut lp = lp.clone();
        for (coeffs, rhs, slack) in &bundle_rows {
            lp.add_row(coeffs.clone(), Relation::Le, rhs - margin * slack);
        }
        let Ok(sol) = lp.solve(limits) else { continue };
        let mut p: Vec<Price> = sol.x[..m]
            .iter()
            .map(|&v| Price::from_f64_rounded(v.max(0.0)))
            .collect();
        // Rounding may leave a buyer a tick under its supplier: lift it (buyers only ever sit
        // on the upper side of a budget constraint, so one pass settles every pair).
        for &(s, b) in traded {
            if p[b] < p[s] {
                p[b] = p[s];
            }
        }
        if rational(intents, fills, &p) {
            return Some(p);
        }
    }
    None
}
