//! Exact welfare-maximising clearing of one divisible resource as a min-cost flow.
//!
//! The welfare LP of [`super::clearing`] is a transportation problem: a source `S` feeds every
//! supplier through its cost segments, compatible (supplier, buyer) pairs are uncapacitated
//! zero-cost arcs, and every buyer drains to a sink `T` through its value segments. Suppliers'
//! costs are convex and buyers' values concave, so a fill takes its segments in order and each
//! intent is one node whose next (and last) unit has a single marginal price: the parallel
//! segment arcs never need to be materialised.
//!
//! The flow is found by successive shortest paths: Dijkstra on reduced costs (integer node
//! potentials, `i64`: prices are at most 10¹⁵ and potentials stay within a few times that),
//! augmenting along the cheapest `S → T` path while it adds welfare. Each
//! augmentation fills or empties a segment or cancels an edge's flow, so few are needed. Every
//! quantity and price is an integer (micro-units, micro-money per unit), so the optimum is exact.
//!
//! Prices: in any optimal flow, complementary slackness with any optimal dual gives every traded
//! pair equal prices, and each intent a price at which its fill is a best response. So per
//! connected part of the trade graph, the intersection of its members' best-response price
//! intervals is non-empty and holds integer points (its ends are segment prices); the part
//! posts the midpoint of that intersection. An untraded intent posts its reserve (a buyer its
//! top value, a supplier its lowest cost). The intersection is checked: an empty one would mean
//! the flow is not optimal, and is reported as an error rather than posted.

use crate::error::SolveError;
use crate::intent::Intent;
use crate::units::Price;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// An optimal clearing of one resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowClearing {
    /// Quantity (micro-units) on each edge, in the order the edges were given.
    pub flows: Vec<u64>,
    /// Posted price of each intent, in intent order.
    pub prices: Vec<Price>,
    /// Buyers' value minus suppliers' cost, in micro-money × micro-units (the units of
    /// [`crate::units::Money`]).
    pub welfare: i128,
}

/// One intent as a node: its side and cumulative segment ends with their marginal prices.
struct Node {
    supplies: bool,
    /// Cumulative end of each segment (micro-units), strictly increasing.
    ends: Vec<u64>,
    /// Marginal price of each segment (micro-money per unit).
    prices: Vec<Cost>,
    /// Current total fill.
    fill: u64,
}

impl Node {
    /// Marginal price of the next unit and how many more units share it, if not full.
    fn next(&self) -> Option<(Cost, u64)> {
        let i = self.ends.partition_point(|&e| e <= self.fill);
        (i < self.ends.len()).then(|| (self.prices[i], self.ends[i] - self.fill))
    }

    /// Marginal price of the last filled unit and how many filled units share it, if any.
    fn last(&self) -> Option<(Cost, u64)> {
        if self.fill == 0 {
            return None;
        }
        let j = self.ends.partition_point(|&e| e < self.fill);
        let start = if j == 0 { 0 } else { self.ends[j - 1] };
        Some((self.prices[j], self.fill - start))
    }
}

/// How Dijkstra reached a node: the arc taken, for walking the path back.
#[derive(Clone, Copy)]
enum Arc {
    /// `S → supplier` (one more unit supplied).
    SourceOut,
    /// `supplier → S` (one unit less supplied).
    SourceBack,
    /// `buyer → T` (one more unit bought).
    SinkIn,
    /// `T → buyer` (one unit less bought).
    SinkBack,
    /// Edge `e` forward, supplier → buyer.
    Forward(usize),
    /// Edge `e` backward, buyer → supplier (cancels flow).
    Backward(usize),
}

/// Clears one resource: `intents` of one resource, `edges` the compatible
/// (supplier index, buyer index) pairs (indices into `intents`, supplier first). Segment data
/// come from [`Intent::segments`]; the intents are assumed valid (positive segment lengths,
/// convex costs, concave values).
///
/// # Errors
/// [`SolveError::Numerical`] if an internal optimality check fails (a bug, never expected).
pub fn clear_divisible(
    intents: &[&Intent],
    edges: &[(usize, usize)],
) -> Result<FlowClearing, SolveError> {
    let mut nodes = Vec::with_capacity(intents.len());
    for i in intents {
        let mut ends = Vec::new();
        let mut prices = Vec::new();
        let mut at = 0u64;
        for s in i.segments() {
            if s.quantity.0 == 0 {
                continue;
            }
            if !s.price.is_valid() {
                return Err(fail("segment price above the valid range"));
            }
            at = at.saturating_add(s.quantity.0);
            ends.push(at);
            prices.push(Cost::try_from(s.price.0).map_err(|_| fail("price out of range"))?);
        }
        nodes.push(Node {
            supplies: i.side.supplies(),
            ends,
            prices,
            fill: 0,
        });
    }
    let mut net = Network::new(nodes, edges);
    net.run()?;
    net.result()
}

fn fail(detail: impl Into<String>) -> SolveError {
    SolveError::Numerical {
        solver: "min-cost flow",
        detail: detail.into(),
    }
}

struct Network<'a> {
    nodes: Vec<Node>,
    edges: &'a [(usize, usize)],
    flow: Vec<u64>,
    /// Edge indices at each intent.
    adj: Vec<Vec<usize>>,
    /// Potentials: index 0 is `S`, `k + 1` intent `k`, `n + 1` is `T`.
    pi: Vec<Cost>,
}

/// Integer money per unit: segment prices, potentials and distances. `i64` is ample: with
/// `P` = [`Price::MAX_VALID`] (10¹⁵), a simple `S → T` path has one cost arc at each end, so its
/// real cost is within ±P; potentials start within ±P and, per Dijkstra, rise by at most the
/// sink's distance, whose sum over the run is the rise of the sink's potential (≤ 2P). Every
/// potential stays within [−P, 4P] and every tentative distance below 10P.
type Cost = i64;

const INF: Cost = Cost::MAX;

impl<'a> Network<'a> {
    fn new(nodes: Vec<Node>, edges: &'a [(usize, usize)]) -> Self {
        let n = nodes.len();
        let mut adj = vec![Vec::new(); n];
        for (e, &(s, b)) in edges.iter().enumerate() {
            adj[s].push(e);
            adj[b].push(e);
        }
        // Initial potentials: shortest distances at zero flow, where the residual graph is the
        // DAG S → supplier (lowest cost) → buyer (0) → T (−top value).
        let mut pi: Vec<Cost> = vec![0; n + 2];
        for (k, node) in nodes.iter().enumerate() {
            if node.supplies {
                pi[k + 1] = node.next().map_or(0, |(c, _)| c);
            }
        }
        for (k, node) in nodes.iter().enumerate() {
            if !node.supplies {
                pi[k + 1] = adj[k]
                    .iter()
                    .map(|&e| pi[edges[e].0 + 1])
                    .min()
                    .unwrap_or(0);
            }
        }
        pi[n + 1] = nodes
            .iter()
            .enumerate()
            .filter(|(_, node)| !node.supplies)
            .filter_map(|(k, node)| node.next().map(|(v, _)| pi[k + 1] - v))
            .min()
            .unwrap_or(0);
        Self {
            nodes,
            edges,
            flow: vec![0; edges.len()],
            adj,
            pi,
        }
    }

    /// Calls `f(v, cost, arc)` for every residual arc out of node `u` (real cost, not reduced),
    /// until `f` returns `true`; returns whether it did.
    fn arcs(&self, u: usize, mut f: impl FnMut(usize, Cost, Arc) -> bool) -> bool {
        let n = self.nodes.len();
        let (src, sink) = (0, n + 1);
        if u == src {
            for (k, node) in self.nodes.iter().enumerate() {
                if node.supplies
                    && let Some((c, _)) = node.next()
                    && f(k + 1, c, Arc::SourceOut)
                {
                    return true;
                }
            }
        } else if u == sink {
            for (k, node) in self.nodes.iter().enumerate() {
                if !node.supplies
                    && let Some((v, _)) = node.last()
                    && f(k + 1, v, Arc::SinkBack)
                {
                    return true;
                }
            }
        } else {
            let k = u - 1;
            let node = &self.nodes[k];
            if node.supplies {
                if let Some((c, _)) = node.last()
                    && f(src, -c, Arc::SourceBack)
                {
                    return true;
                }
                for &e in &self.adj[k] {
                    if f(self.edges[e].1 + 1, 0, Arc::Forward(e)) {
                        return true;
                    }
                }
            } else {
                if let Some((v, _)) = node.next()
                    && f(sink, -v, Arc::SinkIn)
                {
                    return true;
                }
                for &e in &self.adj[k] {
                    if self.flow[e] > 0 && f(self.edges[e].0 + 1, 0, Arc::Backward(e)) {
                        return true;
                    }
                }
            }
        }
        false
    }

    /// Successive shortest paths until no path adds welfare: Dijkstra (binary heap) on reduced
    /// costs, stopping once `T` is settled, moves the potentials; then the shortest path is
    /// augmented by its bottleneck (a segment end or an edge's flow).
    fn run(&mut self) -> Result<(), SolveError> {
        let n = self.nodes.len();
        let (src, sink) = (0, n + 1);
        let mut dist = vec![INF; n + 2];
        let mut done = vec![false; n + 2];
        let mut path: Vec<(usize, usize, Arc)> = Vec::new();
        let mut via = vec![(0usize, Arc::SourceOut); n + 2];
        let mut heap: BinaryHeap<Reverse<(Cost, usize)>> = BinaryHeap::new();
        loop {
            dist.fill(INF);
            done.fill(false);
            dist[src] = 0;
            let mut negative = false;
            heap.clear();
            heap.push(Reverse((0, src)));
            while let Some(Reverse((du, u))) = heap.pop() {
                if done[u] || du > dist[u] {
                    continue;
                }
                done[u] = true;
                if u == sink {
                    break;
                }
                let pu = self.pi[u];
                self.arcs(u, |v, cost, arc| {
                    let reduced = cost + pu - self.pi[v];
                    negative |= reduced < 0;
                    if du + reduced < dist[v] {
                        dist[v] = du + reduced;
                        via[v] = (u, arc);
                        heap.push(Reverse((du + reduced, v)));
                    }
                    false
                });
                if negative {
                    return Err(fail("negative reduced cost"));
                }
            }
            if !done[sink] {
                return Ok(());
            }
            // New potentials keep every residual arc's reduced cost non-negative: settled
            // nodes move by their distance, all others by the sink's (no shorter).
            let reach = dist[sink];
            for ((p, &d), &settled) in self.pi.iter_mut().zip(&dist).zip(&done) {
                *p += if settled { d } else { reach };
            }
            // Real cost of a shortest path (−welfare it adds per unit).
            if self.pi[sink] - self.pi[src] >= 0 {
                return Ok(());
            }
            // Augment along the shortest path.
            path.clear();
            let mut v = sink;
            while v != src {
                let (u, arc) = via[v];
                path.push((u, v, arc));
                v = u;
            }
            let amount = path
                .iter()
                .map(|&(u, v, arc)| self.capacity(u, v, arc))
                .min()
                .unwrap_or(0);
            if amount == 0 || amount == u64::MAX {
                return Err(fail("augmenting path without capacity"));
            }
            for &(u, v, arc) in &path {
                self.push(u, v, arc, amount);
            }
        }
    }

    /// Residual capacity of the arc `u → v` Dijkstra took.
    fn capacity(&self, u: usize, v: usize, arc: Arc) -> u64 {
        match arc {
            Arc::SourceOut => self.nodes[v - 1].next().map_or(0, |(_, r)| r),
            Arc::SourceBack => self.nodes[u - 1].last().map_or(0, |(_, r)| r),
            Arc::SinkIn => self.nodes[u - 1].next().map_or(0, |(_, r)| r),
            Arc::SinkBack => self.nodes[v - 1].last().map_or(0, |(_, r)| r),
            Arc::Forward(_) => u64::MAX,
            Arc::Backward(e) => self.flow[e],
        }
    }

    fn push(&mut self, u: usize, v: usize, arc: Arc, amount: u64) {
        match arc {
            Arc::SourceOut => self.nodes[v - 1].fill += amount,
            Arc::SourceBack => self.nodes[u - 1].fill -= amount,
            Arc::SinkIn => self.nodes[u - 1].fill += amount,
            Arc::SinkBack => self.nodes[v - 1].fill -= amount,
            Arc::Forward(e) => self.flow[e] += amount,
            Arc::Backward(e) => self.flow[e] -= amount,
        }
    }

    /// Fills, welfare and the posted prices (see the module doc), with the consistency checks.
    fn result(self) -> Result<FlowClearing, SolveError> {
        let n = self.nodes.len();
        // Conservation: each intent's fill is the flow on its edges.
        let mut through = vec![0u64; n];
        for (e, &(s, b)) in self.edges.iter().enumerate() {
            through[s] += self.flow[e];
            through[b] += self.flow[e];
        }
        if through
            .iter()
            .zip(&self.nodes)
            .any(|(&t, node)| t != node.fill)
        {
            return Err(fail("flow not conserved"));
        }
        let mut welfare = 0i128;
        for node in &self.nodes {
            let mut left = node.fill;
            let mut start = 0u64;
            for (&end, &p) in node.ends.iter().zip(&node.prices) {
                let take = left.min(end - start);
                left -= take;
                start = end;
                let w = i128::from(p) * i128::from(take);
                welfare += if node.supplies { -w } else { w };
            }
        }
        // Connected parts of the trade graph.
        let mut parent: Vec<usize> = (0..n).collect();
        fn find(p: &mut [usize], mut x: usize) -> usize {
            while p[x] != x {
                p[x] = p[p[x]];
                x = p[x];
            }
            x
        }
        for (e, &(s, b)) in self.edges.iter().enumerate() {
            if self.flow[e] > 0 {
                let (a, c) = (find(&mut parent, s), find(&mut parent, b));
                parent[a] = c;
            }
        }
        // Best-response interval of each intent at its fill, intersected per part.
        let mut lo: Vec<Cost> = vec![0; n];
        let mut hi = vec![INF; n];
        for (k, node) in self.nodes.iter().enumerate() {
            let (l, h) = if node.supplies {
                (
                    node.last().map_or(0, |(c, _)| c),
                    node.next().map_or(INF, |(c, _)| c),
                )
            } else {
                (
                    node.next().map_or(0, |(v, _)| v),
                    node.last().map_or(INF, |(v, _)| v),
                )
            };
            let r = find(&mut parent, k);
            lo[r] = lo[r].max(l);
            hi[r] = hi[r].min(h);
        }
        let mut prices = Vec::with_capacity(n);
        for (k, node) in self.nodes.iter().enumerate() {
            let r = find(&mut parent, k);
            let (l, h) = (lo[r], hi[r]);
            if l > h {
                return Err(fail(format!(
                    "no competitive price for part of intent {k}: [{l}, {h}]"
                )));
            }
            let p = if through[k] == 0 {
                // Untraded: the reserve (a buyer's top value, a supplier's lowest cost).
                if node.supplies && h < INF { h } else { l }
            } else {
                l + (h - l) / 2
            };
            let p = u64::try_from(p).map_err(|_| fail("price out of range"))?;
            prices.push(Price(p));
        }
        Ok(FlowClearing {
            flows: self.flow,
            prices,
            welfare,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intent::{Segment, Side, Valuation};
    use crate::units::{Quantity, ResourceKind};

    fn limit(id: u64, side: Side, q: u64, p: u64) -> Intent {
        Intent::limit(
            id,
            u32::try_from(id).expect("small"),
            side,
            ResourceKind::GPU_HOURS,
            Quantity::units(q),
            Price(p),
        )
    }

    fn piecewise(id: u64, side: Side, segs: &[(u64, u64)]) -> Intent {
        let mut i = limit(id, side, segs.iter().map(|s| s.0).sum(), 0);
        i.valuation = Valuation::Piecewise {
            segments: segs
                .iter()
                .map(|&(q, p)| Segment {
                    quantity: Quantity::units(q),
                    price: Price(p),
                })
                .collect(),
        };
        i
    }

    /// Every intent best-responds at its price, traded pairs share a price.
    fn assert_competitive(intents: &[Intent], edges: &[(usize, usize)], f: &FlowClearing) {
        let mut fill = vec![0u64; intents.len()];
        for (e, &(s, b)) in edges.iter().enumerate() {
            fill[s] += f.flows[e];
            fill[b] += f.flows[e];
            if f.flows[e] > 0 {
                assert_eq!(f.prices[s], f.prices[b], "edge {e}");
            }
        }
        for (k, i) in intents.iter().enumerate() {
            let u = i.utility(Quantity(fill[k]), f.prices[k]);
            let (_, best) = i.best_response(f.prices[k]);
            assert_eq!(best, u, "intent {k} at {}", f.prices[k]);
        }
    }

    fn solve(intents: &[Intent], edges: &[(usize, usize)]) -> FlowClearing {
        let refs: Vec<&Intent> = intents.iter().collect();
        let f = clear_divisible(&refs, edges).expect("clears");
        assert_competitive(intents, edges, &f);
        f
    }

    const M: i128 = 1_000_000;

    #[test]
    fn no_compatible_pairs_trade_nothing_at_reserve_prices() {
        let intents = [
            limit(1, Side::Buy, 10, 5 * M as u64),
            limit(2, Side::Sell, 10, M as u64),
        ];
        let f = solve(&intents, &[]);
        assert!(f.flows.is_empty());
        assert_eq!(f.welfare, 0);
        assert_eq!(f.prices, vec![Price(5_000_000), Price(1_000_000)]);
    }

    #[test]
    fn a_single_buyer_with_no_suppliers() {
        let intents = [piecewise(1, Side::Buy, &[(3, 7_000_000), (2, 4_000_000)])];
        let f = solve(&intents, &[]);
        assert_eq!(f.welfare, 0);
        assert_eq!(f.prices, vec![Price(7_000_000)]);
    }

    #[test]
    fn a_single_buyer_fills_from_the_cheapest_supply_first() {
        // Buyer: 10 at 5, then 10 at 2. Suppliers: 4 at 1 then 4 at 3; 30 at 2.5.
        let intents = [
            piecewise(1, Side::Buy, &[(10, 5_000_000), (10, 2_000_000)]),
            piecewise(2, Side::Sell, &[(4, 1_000_000), (4, 3_000_000)]),
            limit(3, Side::Defer, 30, 2_500_000),
        ];
        let f = solve(&intents, &[(1, 0), (2, 0)]);
        // 4 at 1 and 6 at 2.5 cover the first 10; nothing else beats the buyer's 2.
        assert_eq!(f.flows, vec![4_000_000, 6_000_000]);
        assert_eq!(f.welfare, (10 * 5 - 4 - 6 * 5 / 2) * M * M);
        // The partly filled deferrer pins the price at 2.5.
        assert_eq!(f.prices, vec![Price(2_500_000); 3]);
    }

    #[test]
    fn ties_trade_zero_surplus_consistently() {
        // Value equals cost: any amount is optimal (welfare 0); the price is that value.
        let intents = [
            limit(1, Side::Buy, 5, 3_000_000),
            limit(2, Side::Sell, 5, 3_000_000),
        ];
        let f = solve(&intents, &[(1, 0)]);
        assert_eq!(f.welfare, 0);
        assert_eq!(f.prices, vec![Price(3_000_000); 2]);
        // Two equal suppliers for one buyer: the split is arbitrary, the welfare is not.
        let intents = [
            limit(1, Side::Buy, 6, 4_000_000),
            limit(2, Side::Sell, 5, 1_000_000),
            limit(3, Side::Sell, 5, 1_000_000),
        ];
        let f = solve(&intents, &[(1, 0), (2, 0)]);
        assert_eq!(f.flows.iter().sum::<u64>(), 6_000_000);
        assert_eq!(f.welfare, 6 * 3 * M * M);
        assert_eq!(f.prices, vec![Price(1_000_000); 3]);
    }

    #[test]
    fn rerouting_cancels_flow_on_an_edge() {
        // Buyer A (value 10) can only use supplier X (cost 1); buyer B (value 11) can use X or Y
        // (cost 2). The first path gives X to B; the optimum needs the path S→Y→B→X→A→T, which
        // cancels that flow on (X, B).
        let intents = [
            limit(1, Side::Buy, 5, 10_000_000),
            limit(2, Side::Buy, 5, 11_000_000),
            limit(3, Side::Sell, 5, 1_000_000),
            limit(4, Side::Sell, 5, 2_000_000),
        ];
        let edges = [(2, 0), (2, 1), (3, 1)];
        let f = solve(&intents, &edges);
        assert_eq!(f.flows, vec![5_000_000, 0, 5_000_000]);
        assert_eq!(f.welfare, (5 * 10 + 5 * 11 - 5 - 10) * M * M);
        // Two parts: (A, X) anywhere in [1, 10], (B, Y) in [2, 11]; midpoints.
        assert_eq!(f.prices[0], f.prices[2]);
        assert_eq!(f.prices[1], f.prices[3]);
        assert_eq!(f.prices[0], Price(5_500_000));
        assert_eq!(f.prices[1], Price(6_500_000));
    }

    #[test]
    fn unprofitable_markets_do_not_trade() {
        let intents = [
            limit(1, Side::Buy, 5, 1_000_000),
            limit(2, Side::Sell, 5, 2_000_000),
        ];
        let f = solve(&intents, &[(1, 0)]);
        assert_eq!(f.flows, vec![0]);
        assert_eq!(f.welfare, 0);
        assert_eq!(f.prices, vec![Price(1_000_000), Price(2_000_000)]);
    }

    #[test]
    fn extreme_prices_and_quantities_stay_exact() {
        let top = Price::MAX_VALID.0;
        let q = Quantity::MAX_VALID.0 / 4;
        let mut intents = vec![
            piecewise(1, Side::Buy, &[(1, top), (1, top - 1), (1, 0)]),
            piecewise(2, Side::Buy, &[(2, top)]),
            piecewise(3, Side::Sell, &[(1, 0), (2, top)]),
            piecewise(4, Side::Sell, &[(1, 1), (1, top - 1)]),
        ];
        for i in &mut intents {
            if let Valuation::Piecewise { segments } = &mut i.valuation {
                for s in segments.iter_mut() {
                    s.quantity = Quantity(q / 4);
                }
                i.quantity = Quantity(q / 4 * segments.len() as u64);
            }
        }
        let edges = [(2, 0), (2, 1), (3, 0), (3, 1)];
        let f = solve(&intents, &edges);
        // Blocks of b: values top, top, top−1, 0; costs 0, 1, top−1, top. Top meets 0 and 1;
        // top−1 against top−1 adds nothing.
        let b = i128::from(q / 4);
        let top = i128::from(top);
        assert_eq!(f.welfare, b * top + b * (top - 1));
    }
}
