//! Welfare-maximising clearing of divisible multi-party markets by linear programming, with
//! competitive prices from the duals.
//!
//! Per resource, the LP has a variable per compatible (supplier, buyer) pair — different parties,
//! each on the other's counterparty list, overlapping windows — and one per valuation segment:
//!
//! ```text
//! max  Σ_buyers Σ_k v_k·y_k − Σ_suppliers Σ_k c_k·z_k
//! s.t. Σ_k y_bk − Σ_s x_sb = 0      (each buyer b)       dual → −price_b
//!      Σ_b x_sb − Σ_k z_sk = 0      (each supplier s)    dual → −price_s
//!      0 ≤ y_k, z_k ≤ segment length,  x ≥ 0
//! ```
//!
//! The constraint matrix is a bipartite incidence matrix plus unit columns, hence totally
//! unimodular: optimal vertices are exact multiples of the micro-unit and round back to integers
//! without loss. By complementary slackness every traded pair has equal duals, so each connected
//! part of the trade graph clears at one price (uniform across the resource when the market is
//! connected), and at its own price every intent is best-responding: a competitive equilibrium,
//! zero deviation gain. Prices are rounded to the grid once per connected part, so buyer and
//! supplier of a fill post identical prices (budget balance is exact).
//!
//! The LP is a transportation problem, and [`solve_clearing`] solves it as a min-cost flow
//! ([`super::flow`]) in exact integer arithmetic: the same optimal welfare, prices from the
//! best-response intervals of each connected part (their midpoint) rather than from a simplex
//! vertex. [`solve_clearing_lp`] keeps the dense LP path, and [`clearing_lps`] exports the LPs.
//!
//! Resources with indivisible lots, minimum fills or bundles (and the resources bundles tie to
//! them) are cleared by the welfare MILP of [`super::indivisible`] instead; every other resource
//! keeps this exact LP (as a flow).

use crate::class::{MarketInstance, ProblemClass};
use crate::config::SolverLimits;
use crate::error::SolveError;
use crate::intent::Intent;
use crate::settlement::{Fill, PostedPrice, Settlement};
use crate::solve::flow::clear_divisible;
use crate::solve::indivisible::{MilpStats, WelfareMilp, clear_component, welfare_milp};
use crate::solve::lp::{LinearProgram, Relation};
use crate::solve::swap::trade_slot;
use crate::units::{BundleId, ChallengeId, MICRO, Price, Quantity, ResourceKind};
use std::collections::{BTreeMap, BTreeSet};

/// The reference clearing of a market: the exact LP per resource when every intent is
/// divisible, the welfare MILP ([`super::indivisible`]) for the resources that carry lots,
/// minimum fills or bundles.
pub fn solve_clearing(
    challenge: ChallengeId,
    class: ProblemClass,
    market: &MarketInstance,
    limits: &SolverLimits,
) -> Result<Settlement, SolveError> {
    solve_clearing_with_stats(challenge, class, market, limits).map(|(s, _)| s)
}

/// [`solve_clearing`], also reporting what the MILP did (all zero for divisible markets).
pub fn solve_clearing_with_stats(
    challenge: ChallengeId,
    class: ProblemClass,
    market: &MarketInstance,
    limits: &SolverLimits,
) -> Result<(Settlement, MilpStats), SolveError> {
    clear(challenge, class, market, limits, Method::Flow)
}

/// [`solve_clearing`] with the dense LP ([`super::lp`]) instead of the min-cost flow
/// ([`super::flow`]) for every divisible resource: the same optimal welfare, possibly other
/// optimal fills and competitive prices. Kept for cross-checking.
pub fn solve_clearing_lp(
    challenge: ChallengeId,
    class: ProblemClass,
    market: &MarketInstance,
    limits: &SolverLimits,
) -> Result<Settlement, SolveError> {
    clear(challenge, class, market, limits, Method::Lp).map(|(s, _)| s)
}

/// How a divisible resource is cleared.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Method {
    Flow,
    Lp,
}

fn clear(
    challenge: ChallengeId,
    _class: ProblemClass,
    market: &MarketInstance,
    limits: &SolverLimits,
    method: Method,
) -> Result<(Settlement, MilpStats), SolveError> {
    for i in &market.intents {
        i.validate().map_err(crate::error::InstanceError::from)?;
    }
    let resources: BTreeSet<ResourceKind> = market.intents.iter().map(|i| i.resource).collect();
    let mut out = Settlement {
        challenge,
        fills: Vec::new(),
        prices: Vec::new(),
    };
    let mut stats = MilpStats::default();
    let (components, needs_milp) = components(market, &resources);
    for (root, members) in components {
        if needs_milp.contains(&root) {
            let intents: Vec<&Intent> = market
                .intents
                .iter()
                .filter(|i| members.contains(&i.resource))
                .collect();
            clear_component(&intents, limits, &mut out, &mut stats)?;
        } else {
            for r in members {
                let intents: Vec<&Intent> =
                    market.intents.iter().filter(|i| i.resource == r).collect();
                if method == Method::Lp {
                    clear_resource_lp(&intents, limits, &mut out)?;
                } else {
                    clear_resource(&intents, limits, &mut out)?;
                }
            }
        }
    }
    Ok((out, stats))
}

/// Resources joined by bundles (a bundle's legs must be decided together), keyed by their
/// smallest resource, and the keys of those that hold an indivisible intent.
fn components(
    market: &MarketInstance,
    resources: &BTreeSet<ResourceKind>,
) -> (
    BTreeMap<ResourceKind, BTreeSet<ResourceKind>>,
    BTreeSet<ResourceKind>,
) {
    let mut root: BTreeMap<ResourceKind, ResourceKind> =
        resources.iter().map(|&r| (r, r)).collect();
    fn find(root: &BTreeMap<ResourceKind, ResourceKind>, mut r: ResourceKind) -> ResourceKind {
        while let Some(&p) = root.get(&r) {
            if p == r {
                break;
            }
            r = p;
        }
        r
    }
    let mut first_leg: BTreeMap<BundleId, ResourceKind> = BTreeMap::new();
    for i in &market.intents {
        if let Some(b) = i.bundle {
            let other = *first_leg.entry(b).or_insert(i.resource);
            let (a, c) = (find(&root, other), find(&root, i.resource));
            // Link the larger root under the smaller, so each component is keyed by its least
            // resource whatever the intent order.
            if a != c {
                root.insert(a.max(c), a.min(c));
            }
        }
    }
    let mut out: BTreeMap<ResourceKind, BTreeSet<ResourceKind>> = BTreeMap::new();
    for &r in resources {
        out.entry(find(&root, r)).or_default().insert(r);
    }
    let milp = market
        .intents
        .iter()
        .filter(|i| i.is_indivisible())
        .map(|i| find(&root, i.resource))
        .collect();
    (out, milp)
}

/// The welfare LPs that [`solve_clearing`] solves, one per resource in ascending
/// [`ResourceKind`] order, exactly as built there (no validation; for benchmarking against
/// external LP solvers on identical programs). Variables: one per compatible (supplier, buyer)
/// edge, then one per valuation segment in intent order; one equality row per intent with
/// that resource, in intent order. The optimum is −welfare in units × money.
#[must_use]
pub fn clearing_lps(market: &MarketInstance) -> Vec<LinearProgram> {
    by_resource(market)
        .iter()
        .map(|intents| resource_lp(intents).0)
        .collect()
}

/// The welfare MILPs that [`solve_clearing`] solves first, one per component of resources
/// (joined by bundles) that holds an indivisible intent, in ascending order of the component's
/// least resource, exactly as built there (no validation; for benchmarking against external
/// MILP solvers). The optimum is −welfare in units × money; solve one as the clearing does with
/// [`super::indivisible::solve_welfare_milp`].
#[must_use]
pub fn clearing_milps(market: &MarketInstance) -> Vec<WelfareMilp> {
    let resources: BTreeSet<ResourceKind> = market.intents.iter().map(|i| i.resource).collect();
    let (components, needs_milp) = components(market, &resources);
    components
        .into_iter()
        .filter(|(root, _)| needs_milp.contains(root))
        .map(|(_, members)| {
            let intents: Vec<&Intent> = market
                .intents
                .iter()
                .filter(|i| members.contains(&i.resource))
                .collect();
            welfare_milp(&intents)
        })
        .collect()
}

fn by_resource(market: &MarketInstance) -> Vec<Vec<&Intent>> {
    let resources: BTreeSet<ResourceKind> = market.intents.iter().map(|i| i.resource).collect();
    resources
        .into_iter()
        .map(|r| market.intents.iter().filter(|i| i.resource == r).collect())
        .collect()
}

/// Compatible (supplier index, buyer index, slot) edges.
type Edges = Vec<(usize, usize, u32)>;

/// Compatible (supplier index, buyer index, slot) edges, supplier-major.
fn resource_edges(intents: &[&Intent]) -> Edges {
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
    edges
}

/// The welfare LP of one resource's intents (see the module doc) and its edges.
fn resource_lp(intents: &[&Intent]) -> (LinearProgram, Edges) {
    let units = |q: Quantity| q.0 as f64 / MICRO as f64;
    let edges = resource_edges(intents);
    let segments: Vec<_> = intents.iter().map(|i| i.segments()).collect();
    let n_seg: usize = segments.iter().map(Vec::len).sum();
    // Edge flows are left unbounded above (the segment bounds already limit them): a bound on
    // an edge could hold it at the bound with unequal duals at its two ends, and the prices of a
    // traded pair must coincide.
    let mut lp = LinearProgram::new(edges.len() + n_seg);
    let mut rows: Vec<Vec<(usize, f64)>> = vec![Vec::new(); intents.len()];
    let mut col = edges.len();
    for (k, (intent, segs)) in intents.iter().zip(&segments).enumerate() {
        let sign = if intent.side.supplies() { -1.0 } else { 1.0 };
        for seg in segs {
            // Minimise −value (buyers) / +cost (suppliers).
            lp.set_cost(col, -sign * seg.price.as_f64());
            lp.set_upper(col, units(seg.quantity));
            rows[k].push((col, sign));
            col += 1;
        }
    }
    for (e, &(si, bi, _)) in edges.iter().enumerate() {
        rows[bi].push((e, -1.0));
        rows[si].push((e, 1.0));
    }
    for row in rows {
        lp.add_row(row, Relation::Eq, 0.0);
    }
    (lp, edges)
}

/// Clears one divisible resource by min-cost flow ([`super::flow`]), falling back to the LP
/// should the flow's own optimality check ever fail.
fn clear_resource(
    intents: &[&Intent],
    limits: &SolverLimits,
    out: &mut Settlement,
) -> Result<(), SolveError> {
    let edges = resource_edges(intents);
    let pairs: Vec<(usize, usize)> = edges.iter().map(|&(s, b, _)| (s, b)).collect();
    let Ok(flow) = clear_divisible(intents, &pairs) else {
        return clear_resource_lp(intents, limits, out);
    };
    for (intent, &price) in intents.iter().zip(&flow.prices) {
        out.prices.push(PostedPrice {
            intent: intent.id,
            price,
        });
    }
    for (&(si, bi, slot), &q) in edges.iter().zip(&flow.flows) {
        if q > 0 {
            out.fills.push(Fill {
                seller: intents[si].id,
                buyer: intents[bi].id,
                resource: intents[si].resource,
                slot,
                quantity: Quantity(q),
            });
        }
    }
    Ok(())
}

fn clear_resource_lp(
    intents: &[&Intent],
    limits: &SolverLimits,
    out: &mut Settlement,
) -> Result<(), SolveError> {
    let (lp, edges) = resource_lp(intents);
    let sol = lp.solve(limits)?;

    let (flows, _, part_price) = flows_and_part_prices(intents, &edges, &sol.x, &sol.duals);
    for (k, intent) in intents.iter().enumerate() {
        let price = Price::from_f64_rounded(part_price[k]);
        out.prices.push(PostedPrice {
            intent: intent.id,
            price,
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

/// From an LP solution over `edges`: the edge flows rounded to micro-units (never above either
/// side's quantity), each intent's total fill, and each intent's price, the mean of the negated duals of its intent rows
/// over its connected part of the trade graph (one price per part; union–find over intents).
pub(crate) fn flows_and_part_prices(
    intents: &[&Intent],
    edges: &[(usize, usize, u32)],
    x: &[f64],
    duals: &[f64],
) -> (Vec<u64>, Vec<u64>, Vec<f64>) {
    let mut flows: Vec<u64> = x[..edges.len()]
        .iter()
        .map(|&x| (x * MICRO as f64).round().max(0.0) as u64)
        .collect();
    let mut used = vec![0u64; intents.len()];
    for (e, &(si, bi, _)) in edges.iter().enumerate() {
        let room = intents[si]
            .quantity
            .0
            .saturating_sub(used[si])
            .min(intents[bi].quantity.0.saturating_sub(used[bi]));
        flows[e] = flows[e].min(room);
        used[si] += flows[e];
        used[bi] += flows[e];
    }
    let mut parent: Vec<usize> = (0..intents.len()).collect();
    fn find(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    for (e, &(si, bi, _)) in edges.iter().enumerate() {
        if flows[e] > 0 {
            let (a, b) = (find(&mut parent, si), find(&mut parent, bi));
            parent[a] = b;
        }
    }
    let mut sum = vec![0.0; intents.len()];
    let mut count = vec![0usize; intents.len()];
    for (k, d) in duals.iter().enumerate().take(intents.len()) {
        let root = find(&mut parent, k);
        sum[root] += -d;
        count[root] += 1;
    }
    let prices = (0..intents.len())
        .map(|k| {
            let root = find(&mut parent, k);
            sum[root] / count[root] as f64
        })
        .collect();
    (flows, used, prices)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intent::Side;
    use crate::units::{IntentId, PartyId};

    fn limit(id: u64, party: u32, side: Side, q: u64, p: u64) -> Intent {
        Intent::limit(
            id,
            party,
            side,
            ResourceKind::GPU_HOURS,
            Quantity::units(q),
            Price(p),
        )
    }

    #[test]
    fn three_party_clears_at_the_marginal_supplier() {
        // Buyer wants 300 at ≤ 2.00. Seller 200 at ≥ 1.00; a deferrer releases 200 at ≥ 1.50.
        // Optimum: 200 from the seller, 100 from the deferrer; the deferrer is marginal, so the
        // price is 1.50 for everyone in the connected market.
        let m = MarketInstance {
            intents: vec![
                limit(1, 1, Side::Buy, 300, 2_000_000),
                limit(2, 2, Side::Sell, 200, 1_000_000),
                limit(3, 3, Side::Defer, 200, 1_500_000),
            ],
        };
        let s = solve_clearing(
            ChallengeId(9),
            ProblemClass::ThreeParty,
            &m,
            &SolverLimits::default(),
        )
        .expect("solves");
        let from = |id: u64| -> u64 {
            s.fills
                .iter()
                .filter(|f| f.seller == IntentId(id))
                .map(|f| f.quantity.0)
                .sum()
        };
        assert_eq!(from(2), Quantity::units(200).0);
        assert_eq!(from(3), Quantity::units(100).0);
        for id in 1..=3 {
            assert_eq!(
                s.price_of(IntentId(id)),
                Some(Price::new(1, 500_000)),
                "intent {id}"
            );
        }
    }

    #[test]
    fn counterparty_lists_split_the_market_into_priced_parts() {
        // Two separate pairs: (1 buys from 2) at values 3 / 1, (3 buys from 4) at 10 / 8.
        let mut m = MarketInstance {
            intents: vec![
                limit(1, 1, Side::Buy, 10, 3_000_000),
                limit(2, 2, Side::Sell, 10, 1_000_000),
                limit(3, 3, Side::Buy, 10, 10_000_000),
                limit(4, 4, Side::Sell, 5, 8_000_000),
            ],
        };
        m.intents[0].counterparties = vec![PartyId(2)];
        m.intents[2].counterparties = vec![PartyId(4)];
        let s = solve_clearing(
            ChallengeId(1),
            ProblemClass::ResourceTriangle,
            &m,
            &SolverLimits::default(),
        )
        .expect("solves");
        assert_eq!(s.fills.len(), 2);
        let p = |id| s.price_of(IntentId(id)).expect("priced");
        assert_eq!(p(1), p(2));
        assert_eq!(p(3), p(4));
        assert!(p(1) >= Price::new(1, 0) && p(1) <= Price::new(3, 0));
        // Supply 5 is short of demand 10: the price rises to the buyer's value.
        assert_eq!(p(3), Price::new(10, 0));
    }

    #[test]
    fn the_flow_never_falls_back_to_the_lp() {
        // `clear_resource` falls back to the LP if the flow's own optimality check fails; on
        // generated markets it must not.
        use crate::challenge::Problem;
        use crate::generate::{Difficulty, challenge};
        for class in [ProblemClass::ThreeParty, ProblemClass::ResourceTriangle] {
            for parties in [4, 7, 16, 33, 64] {
                for seed in 0..10 {
                    let d = Difficulty {
                        parties,
                        ..Difficulty::hard()
                    };
                    let c = challenge(class, seed, &d);
                    let Problem::Market(m) = &c.problem else {
                        unreachable!()
                    };
                    for intents in by_resource(m) {
                        let pairs: Vec<(usize, usize)> = resource_edges(&intents)
                            .iter()
                            .map(|&(s, b, _)| (s, b))
                            .collect();
                        let flow = clear_divisible(&intents, &pairs);
                        assert!(flow.is_ok(), "{class:?} {parties} {seed}: {flow:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn lots_are_cleared_in_whole_lots() {
        // The buyer wants 7, the seller sells in lots of 5: one lot changes hands.
        let mut m = MarketInstance {
            intents: vec![
                limit(1, 1, Side::Buy, 7, 3_000_000),
                limit(2, 2, Side::Sell, 10, 1_000_000),
                limit(3, 3, Side::Defer, 10, 2_000_000),
            ],
        };
        m.intents[1].lot = Quantity::units(5);
        m.intents[2].lot = Quantity::units(5);
        let (s, stats) = solve_clearing_with_stats(
            ChallengeId(1),
            ProblemClass::ThreeParty,
            &m,
            &SolverLimits::default(),
        )
        .expect("solves");
        assert_eq!(stats.components, 1);
        let total: u64 = s.fills.iter().map(|f| f.quantity.0).sum();
        assert_eq!(total, Quantity::units(5).0);
        assert!(s.fills.iter().all(|f| f.seller == IntentId(2)));
    }
}
