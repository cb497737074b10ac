//! The manifold: a versioned, fixed-size encoding of a challenge (version 1: 256 `f32`).
//!
//! The encoding is the standard input of learned solvers and the basis of challenge similarity
//! (anti-sybil, novelty). It is **deterministic** (a pure function of the challenge), **invariant**
//! to the order of parties and intents and to relabelling party and intent ids (no id enters it),
//! and **normalised** (every entry lies in `[0, 1]`, a few signed ones in `[−1, 1]`). Miners still
//! receive the full challenge; the manifold is lossy.
//!
//! # Determinism
//!
//! Every aggregate over an unordered collection (a party's intents, a table's cells) is computed
//! in exact integer arithmetic (`i128`) and converted to floating point only once, so the bits do
//! not depend on the order of the input. Aggregates over party slots are taken after the slots
//! are put in canonical order.
//!
//! # Layout, version 1
//!
//! | range | content |
//! |---|---|
//! | `0` | version (`1.0`) |
//! | `1..8` | class one-hot, in [`ProblemClass::ALL`] order |
//! | `8` | problem kind: market 0, zero-sum 0.25, bimatrix 0.5, three-player 0.75, coalition 1 |
//! | `9` | parties (players): `ln(1+n) / ln(1+1024)`, capped at 1 |
//! | `10` | items (markets: intents; games: rows or actions; coalitions: 2ⁿ values), same log scale |
//! | `11` | markets: resources; two-player games: columns; same log scale |
//! | `12` | overflow: share of parties that did not get a slot (`(n − 16)/n`, else 0) |
//! | `13` | scale: `ln(1+s)/ln(1+10¹⁵)` of the largest price (micro-money) or `|payoff|` |
//! | `14..16` | reserved (0) |
//! | `16..64` | summary (48): see below |
//! | `64..256` | body (192): see below |
//!
//! **Slot kinds** (markets, coalition games, three-player games) describe each party by
//! [`FEATURES`] = 12 numbers. The body holds [`SLOTS`] = 16 party slots of 12 features, in
//! canonical order: parties sorted by their feature tuple, descending (lexicographic on the
//! features, compared with `f32::total_cmp`), so the order never depends on ids or input order;
//! parties with equal tuples are interchangeable. With more than 16 parties the first 16 in that
//! order get slots and the rest appear only in the summary. The summary holds, for each of the 12
//! features over **all** parties: mean, min, median (lower), max — `summary[4f + k]`.
//!
//! Per-party features — markets (all in `[0, 1]`): buy quantity, sell quantity and defer quantity
//! as shares of the market's total quantity; volume-weighted mean buy price and supply price over
//! the largest price in the market; the party's share of the intents; shares of its intents with a
//! minimum fill, with lots, with a piecewise valuation; mean window length over the longest window
//! end; mean counterparty-list length over the other parties; resources it touches over all
//! resources. Coalition games (signed, over the largest `|v(S)|`): `v({i})`; mean, min and max
//! marginal contribution `v(S∪{i}) − v(S)` over all `S ∌ i`; marginal to the grand coalition;
//! share of coalitions where the marginal exceeds `v({i})`; the rest 0. Three-player games (payoffs
//! mapped to `[0, 1]` by the joint range): mean, min, max payoff; mean best-response value; the
//! largest and smallest mean payoff of one own action; payoff spread (mean absolute deviation from
//! the mean, over the range); actions / 32; the rest 0.
//!
//! **Two-player games** (zero-sum and bimatrix) encode the tables themselves. Payoffs are mapped
//! to `[0, 1]` by the joint range of both tables (a zero-sum game is the bimatrix `(A, −A)`). The
//! summary holds, per player, mean, spread, min, quartiles, max and the mean best-response value
//! (16), then the share of pure equilibria, the correlation of the two tables (mapped to
//! `[0, 1]`), rows / 1000 and columns / 1000 (4); the rest 0. The body holds each table on a 9 × 9
//! grid (row player's at `64..145`, column player's at `145..226`; the rest 0): small tables are
//! placed top-left, larger ones are averaged in blocks of nearly equal size.
//!
//! *Canonicalisation of two-player games.* Rows are sorted by the key (row sum of `A`, row sum of
//! `B`, the row of `A` sorted, the row of `B` sorted), descending; columns likewise by their
//! column's values. A row's key does not depend on the order of the columns (and vice versa), so
//! the result is invariant to any permutation of actions **except** when two rows (or columns)
//! have equal keys but differently arranged entries; then their order follows the input. A full
//! canonical form under simultaneous row and column permutation is as hard as graph isomorphism;
//! the key makes such ties rare in practice (exact ties of both sums and both multisets). The
//! players' roles are canonicalised by encoding both `(A, B)` and the swapped game `(Bᵀ, Aᵀ)` and
//! keeping the lexicographically smaller vector.

use crate::challenge::{Challenge, Problem};
use crate::class::{BimatrixGame, CoalitionGame, MarketInstance, ProblemClass, ThreePlayerGame};
use crate::config::ManifoldConfig;
use crate::error::InstanceError;
use crate::intent::{Side, Valuation};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use thiserror::Error;

/// The only version this module produces.
pub const VERSION: u32 = 1;
/// Length of a version-1 manifold.
pub const DIMENSIONS: usize = 256;
/// Header length.
pub const HEADER: usize = 16;
/// Summary length (follows the header).
pub const SUMMARY: usize = 48;
/// Start of the body.
pub const BODY: usize = HEADER + SUMMARY;
/// Features per party slot.
pub const FEATURES: usize = 12;
/// Party slots in the body.
pub const SLOTS: usize = 16;
/// Side of the grid a two-player payoff table is encoded on.
pub const GRID: usize = 9;

/// A version-1 manifold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifold(pub Vec<f32>);

/// Why a challenge could not be encoded.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ManifoldError {
    /// The configuration asks for a version or size this code does not produce.
    #[error(
        "manifold: version {version} with {dimensions} dimensions is not supported (only {VERSION} with {DIMENSIONS})"
    )]
    Unsupported {
        /// Requested version.
        version: u32,
        /// Requested dimensions.
        dimensions: usize,
    },
    /// The challenge is malformed.
    #[error(transparent)]
    Instance(#[from] InstanceError),
}

impl Manifold {
    /// Cosine similarity in `[−1, 1]` (computed in `f64`); 0 if either vector is zero.
    #[must_use]
    pub fn similarity(&self, other: &Manifold) -> f64 {
        cosine(&self.0, &other.0)
    }
}

/// Cosine similarity of two vectors (over their common length); 0 if either is zero.
#[must_use]
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let (mut dot, mut na, mut nb) = (0.0f64, 0.0f64, 0.0f64);
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (f64::from(*x), f64::from(*y));
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na.sqrt() * nb.sqrt())
    }
}

/// Encodes a challenge (validated first) as the manifold `config` names.
pub fn encode(challenge: &Challenge, config: &ManifoldConfig) -> Result<Manifold, ManifoldError> {
    if config.version != VERSION || config.dimensions != DIMENSIONS {
        return Err(ManifoldError::Unsupported {
            version: config.version,
            dimensions: config.dimensions,
        });
    }
    challenge.validate()?;
    Ok(encode_v1(challenge))
}

fn log_scale(n: f64, max: f64) -> f64 {
    ((1.0 + n).ln() / (1.0 + max).ln()).min(1.0)
}

fn encode_v1(c: &Challenge) -> Manifold {
    let mut v = vec![0.0f64; DIMENSIONS];
    v[0] = f64::from(VERSION);
    let class_index = ProblemClass::ALL
        .iter()
        .position(|k| *k == c.class)
        .unwrap_or(0);
    v[1 + class_index] = 1.0;
    v[9] = log_scale(c.parties.len() as f64, 1024.0);
    match &c.problem {
        Problem::Market(m) => market(m, &mut v),
        Problem::ZeroSum(g) => {
            v[8] = 0.25;
            let b: Vec<i64> = g.payoffs.iter().map(|x| -x).collect();
            two_player(g.rows, g.cols, &g.payoffs, &b, &mut v);
        }
        Problem::Bimatrix(g) => {
            v[8] = 0.5;
            bimatrix(g, &mut v);
        }
        Problem::ThreePlayer(g) => {
            v[8] = 0.75;
            three_player(g, &mut v);
        }
        Problem::Coalition(g) => {
            v[8] = 1.0;
            coalition(g, &mut v);
        }
    }
    Manifold(v.into_iter().map(|x| x as f32).collect())
}

/// Puts party feature tuples into canonical slots and the summary.
fn slots(mut parties: Vec<[f32; FEATURES]>, v: &mut [f64]) {
    let lex = |a: &[f32; FEATURES], b: &[f32; FEATURES]| {
        a.iter()
            .zip(b)
            .map(|(x, y)| x.total_cmp(y))
            .find(|o| *o != Ordering::Equal)
            .unwrap_or(Ordering::Equal)
    };
    parties.sort_by(|a, b| lex(b, a));
    let n = parties.len();
    if n > SLOTS {
        v[12] = (n - SLOTS) as f64 / n as f64;
    }
    for (s, p) in parties.iter().take(SLOTS).enumerate() {
        for (f, x) in p.iter().enumerate() {
            v[BODY + s * FEATURES + f] = f64::from(*x);
        }
    }
    if n == 0 {
        return;
    }
    for f in 0..FEATURES {
        let mut col: Vec<f32> = parties.iter().map(|p| p[f]).collect();
        // Summed in canonical slot order, so the mean is deterministic too.
        let mean = col.iter().map(|x| f64::from(*x)).sum::<f64>() / n as f64;
        col.sort_by(f32::total_cmp);
        v[HEADER + 4 * f] = mean;
        v[HEADER + 4 * f + 1] = f64::from(col[0]);
        v[HEADER + 4 * f + 2] = f64::from(col[(n - 1) / 2]);
        v[HEADER + 4 * f + 3] = f64::from(col[n - 1]);
    }
}

fn ratio(a: i128, b: i128) -> f32 {
    if b == 0 {
        0.0
    } else {
        (a as f64 / b as f64) as f32
    }
}

#[derive(Default)]
struct PartyAgg {
    qty: [i128; 3],
    worth_buy: i128,
    worth_supply: i128,
    intents: i128,
    min_fill: i128,
    lots: i128,
    piecewise: i128,
    window: i128,
    counterparties: i128,
    resources: BTreeSet<u16>,
}

fn market(m: &MarketInstance, v: &mut [f64]) {
    let total_qty: i128 = m.intents.iter().map(|i| i128::from(i.quantity.0)).sum();
    let resources: BTreeSet<u16> = m.intents.iter().map(|i| i.resource.0).collect();
    let max_price = m
        .intents
        .iter()
        .flat_map(|i| i.segments())
        .map(|s| s.price.0)
        .max()
        .unwrap_or(0);
    let max_end = m.intents.iter().map(|i| i.window.end).max().unwrap_or(1);
    let mut by_party: BTreeMap<u32, PartyAgg> = BTreeMap::new();
    for i in &m.intents {
        let a = by_party.entry(i.party.0).or_default();
        let q = i128::from(i.quantity.0);
        let side = match i.side {
            Side::Buy => 0,
            Side::Sell => 1,
            Side::Defer => 2,
        };
        a.qty[side] += q;
        if i.side == Side::Buy {
            a.worth_buy += i.worth(i.quantity).0;
        } else {
            a.worth_supply += i.worth(i.quantity).0;
        }
        a.intents += 1;
        a.min_fill += i128::from(i.min_fill.0 > 0);
        a.lots += i128::from(i.lot.0 > 1);
        a.piecewise += i128::from(matches!(i.valuation, Valuation::Piecewise { .. }));
        a.window += i128::from(i.window.end - i.window.start);
        a.counterparties += i.counterparties.len() as i128;
        a.resources.insert(i.resource.0);
    }
    let n = by_party.len() as i128;
    let n_intents = m.intents.len() as i128;
    // worth is in picos (10⁻¹²) = qty (10⁻⁶) × price (10⁻⁶): worth / qty is a price in micros.
    let price = |worth: i128, qty: i128| {
        if qty == 0 || max_price == 0 {
            0.0
        } else {
            ((worth as f64 / qty as f64) / max_price as f64) as f32
        }
    };
    let features = by_party
        .values()
        .map(|a| {
            [
                ratio(a.qty[0], total_qty),
                ratio(a.qty[1], total_qty),
                ratio(a.qty[2], total_qty),
                price(a.worth_buy, a.qty[0]),
                price(a.worth_supply, a.qty[1] + a.qty[2]),
                ratio(a.intents, n_intents),
                ratio(a.min_fill, a.intents),
                ratio(a.lots, a.intents),
                ratio(a.piecewise, a.intents),
                ratio(a.window, a.intents * i128::from(max_end)),
                ratio(a.counterparties, a.intents * (n - 1).max(1)),
                ratio(a.resources.len() as i128, resources.len() as i128),
            ]
        })
        .collect();
    v[10] = log_scale(m.intents.len() as f64, 1024.0);
    v[11] = log_scale(resources.len() as f64, 1024.0);
    v[13] = log_scale(max_price as f64, 1e15);
    slots(features, v);
}

fn coalition(g: &CoalitionGame, v: &mut [f64]) {
    let n = g.players;
    let full = (1usize << n) - 1;
    let scale = g
        .values
        .iter()
        .map(|x| i128::from(*x).abs())
        .max()
        .unwrap_or(0);
    let features = (0..n)
        .map(|i| {
            let bit = 1usize << i;
            let single = i128::from(g.values[bit]);
            let (mut sum, mut lo, mut hi, mut above) = (0i128, i128::MAX, i128::MIN, 0i128);
            for s in (0..=full).filter(|s| s & bit == 0) {
                let m = i128::from(g.values[s | bit]) - i128::from(g.values[s]);
                sum += m;
                lo = lo.min(m);
                hi = hi.max(m);
                above += i128::from(m > single);
            }
            let count = 1i128 << (n - 1);
            let grand = i128::from(g.values[full]) - i128::from(g.values[full & !bit]);
            let mut f = [0.0f32; FEATURES];
            f[0] = ratio(single, scale);
            f[1] = ratio(sum, scale * count);
            f[2] = ratio(lo, scale);
            f[3] = ratio(hi, scale);
            f[4] = ratio(grand, scale);
            f[5] = ratio(above, count);
            f
        })
        .collect();
    v[10] = log_scale(g.values.len() as f64, 1024.0);
    v[13] = log_scale(scale as f64, 1e15);
    slots(features, v);
}

/// `(min, max)` over several integer tables.
fn range<'a>(tables: impl Iterator<Item = &'a [i64]>) -> (i128, i128) {
    let (mut lo, mut hi) = (i128::MAX, i128::MIN);
    for t in tables {
        for x in t {
            lo = lo.min(i128::from(*x));
            hi = hi.max(i128::from(*x));
        }
    }
    if lo > hi { (0, 0) } else { (lo, hi) }
}

/// `(x − lo) / (hi − lo)` for a sum of `count` values, i.e. the normalised mean.
fn norm_mean(sum: i128, count: i128, lo: i128, hi: i128) -> f32 {
    if hi == lo || count == 0 {
        0.0
    } else {
        ratio(sum - lo * count, (hi - lo) * count)
    }
}

fn three_player(g: &ThreePlayerGame, v: &mut [f64]) {
    let (lo, hi) = range(g.payoffs.iter().map(Vec::as_slice));
    let n = g.actions;
    let features = (0..3)
        .map(|p| {
            let t = &g.payoffs[p];
            let len = t.len() as i128;
            let sum: i128 = t.iter().map(|x| i128::from(*x)).sum();
            let (tmin, tmax) = range(std::iter::once(t.as_slice()));
            // Sums per own action, and best responses per profile of the others.
            let mut own = vec![0i128; n[p]];
            let mut best: BTreeMap<(usize, usize), i128> = BTreeMap::new();
            for a0 in 0..n[0] {
                for a1 in 0..n[1] {
                    for a2 in 0..n[2] {
                        let a = [a0, a1, a2];
                        let x = i128::from(g.at(p, a));
                        own[a[p]] += x;
                        let others = match p {
                            0 => (a1, a2),
                            1 => (a0, a2),
                            _ => (a0, a1),
                        };
                        let b = best.entry(others).or_insert(i128::MIN);
                        *b = (*b).max(x);
                    }
                }
            }
            let per_action = len / n[p] as i128;
            let best_sum: i128 = best.values().sum();
            // Mean absolute deviation × len², exact: Σ |len·x − sum|.
            let mad: i128 = t.iter().map(|x| (len * i128::from(*x) - sum).abs()).sum();
            let mut f = [0.0f32; FEATURES];
            f[0] = norm_mean(sum, len, lo, hi);
            f[1] = norm_mean(tmin, 1, lo, hi);
            f[2] = norm_mean(tmax, 1, lo, hi);
            f[3] = norm_mean(best_sum, best.len() as i128, lo, hi);
            f[4] = norm_mean(*own.iter().max().unwrap_or(&0), per_action, lo, hi);
            f[5] = norm_mean(*own.iter().min().unwrap_or(&0), per_action, lo, hi);
            f[6] = ratio(mad, len * len * (hi - lo));
            f[7] = n[p] as f32 / crate::class::MAX_ACTIONS_3P as f32;
            f
        })
        .collect();
    v[10] = log_scale(n.iter().max().copied().unwrap_or(0) as f64, 1024.0);
    v[13] = log_scale(lo.abs().max(hi.abs()) as f64, 1e15);
    slots(features, v);
}

fn bimatrix(g: &BimatrixGame, v: &mut [f64]) {
    two_player(g.rows, g.cols, &g.row_payoffs, &g.col_payoffs, v);
}

fn transpose(rows: usize, cols: usize, t: &[i64]) -> Vec<i64> {
    let mut out = vec![0; t.len()];
    for i in 0..rows {
        for j in 0..cols {
            out[j * rows + i] = t[i * cols + j];
        }
    }
    out
}

/// Encodes both orientations and keeps the lexicographically smaller one.
fn two_player(rows: usize, cols: usize, a: &[i64], b: &[i64], v: &mut [f64]) {
    let mut first = v.to_vec();
    two_player_oriented(rows, cols, a, b, &mut first);
    let mut second = v.to_vec();
    let (at, bt) = (transpose(rows, cols, a), transpose(rows, cols, b));
    two_player_oriented(cols, rows, &bt, &at, &mut second);
    let key = |x: &[f64]| x.iter().map(|y| *y as f32).collect::<Vec<f32>>();
    let (k1, k2) = (key(&first), key(&second));
    let smaller = k1
        .iter()
        .zip(&k2)
        .map(|(x, y)| x.total_cmp(y))
        .find(|o| *o != Ordering::Equal)
        .unwrap_or(Ordering::Equal)
        != Ordering::Greater;
    v.copy_from_slice(if smaller { &first } else { &second });
}

type Key = (i128, i128, Vec<i64>, Vec<i64>);

fn line_key(a: impl Iterator<Item = i64>, b: impl Iterator<Item = i64>) -> Key {
    let mut x: Vec<i64> = a.collect();
    let mut y: Vec<i64> = b.collect();
    let sx = x.iter().map(|z| i128::from(*z)).sum();
    let sy = y.iter().map(|z| i128::from(*z)).sum();
    x.sort_unstable();
    y.sort_unstable();
    (sx, sy, x, y)
}

fn two_player_oriented(rows: usize, cols: usize, a: &[i64], b: &[i64], v: &mut [f64]) {
    let at = |t: &[i64], i: usize, j: usize| t[i * cols + j];
    let mut row_order: Vec<(Key, usize)> = (0..rows)
        .map(|i| {
            (
                line_key(
                    (0..cols).map(|j| at(a, i, j)),
                    (0..cols).map(|j| at(b, i, j)),
                ),
                i,
            )
        })
        .collect();
    row_order.sort_by(|x, y| y.0.cmp(&x.0));
    let mut col_order: Vec<(Key, usize)> = (0..cols)
        .map(|j| {
            (
                line_key(
                    (0..rows).map(|i| at(a, i, j)),
                    (0..rows).map(|i| at(b, i, j)),
                ),
                j,
            )
        })
        .collect();
    col_order.sort_by(|x, y| y.0.cmp(&x.0));
    let ri: Vec<usize> = row_order.into_iter().map(|x| x.1).collect();
    let cj: Vec<usize> = col_order.into_iter().map(|x| x.1).collect();
    let (lo, hi) = range([a, b].into_iter());
    let cells = (rows * cols) as i128;

    // Summary per player: mean, spread, min, quartiles, max, best-response mean.
    for (p, t) in [a, b].into_iter().enumerate() {
        let sum: i128 = t.iter().map(|x| i128::from(*x)).sum();
        let mut sorted = t.to_vec();
        sorted.sort_unstable();
        let q = |k: usize| i128::from(sorted[(sorted.len() - 1) * k / 4]);
        let mad: i128 = t.iter().map(|x| (cells * i128::from(*x) - sum).abs()).sum();
        // Row player best-responds to each column, column player to each row.
        let best: i128 = if p == 0 {
            (0..cols)
                .map(|j| {
                    (0..rows)
                        .map(|i| i128::from(at(t, i, j)))
                        .max()
                        .unwrap_or(0)
                })
                .sum()
        } else {
            (0..rows)
                .map(|i| {
                    (0..cols)
                        .map(|j| i128::from(at(t, i, j)))
                        .max()
                        .unwrap_or(0)
                })
                .sum()
        };
        let lines = if p == 0 { cols } else { rows } as i128;
        let s = HEADER + 8 * p;
        v[s] = f64::from(norm_mean(sum, cells, lo, hi));
        v[s + 1] = f64::from(ratio(mad, cells * cells * (hi - lo)));
        for k in 0..5 {
            v[s + 2 + k] = f64::from(norm_mean(q(k), 1, lo, hi));
        }
        v[s + 7] = f64::from(norm_mean(best, lines, lo, hi));
    }
    let mut pure = 0i128;
    for i in 0..rows {
        for j in 0..cols {
            let a_best = (0..rows).all(|k| at(a, k, j) <= at(a, i, j));
            let b_best = (0..cols).all(|k| at(b, i, k) <= at(b, i, j));
            pure += i128::from(a_best && b_best);
        }
    }
    v[HEADER + 16] = f64::from(ratio(pure, cells));
    v[HEADER + 17] = (correlation(a, b) + 1.0) / 2.0;
    v[HEADER + 18] = rows as f64 / crate::class::MAX_ACTIONS as f64;
    v[HEADER + 19] = cols as f64 / crate::class::MAX_ACTIONS as f64;

    // Body: each table on a GRID × GRID grid, in canonical order.
    for (p, t) in [a, b].into_iter().enumerate() {
        let base = BODY + p * GRID * GRID;
        let (gr, gc) = (rows.min(GRID), cols.min(GRID));
        for u in 0..gr {
            let (r0, r1) = (u * rows / gr, (u + 1) * rows / gr);
            for w in 0..gc {
                let (c0, c1) = (w * cols / gc, (w + 1) * cols / gc);
                let mut sum = 0i128;
                for &i in &ri[r0..r1] {
                    for &j in &cj[c0..c1] {
                        sum += i128::from(at(t, i, j));
                    }
                }
                let count = ((r1 - r0) * (c1 - c0)) as i128;
                v[base + u * GRID + w] = f64::from(norm_mean(sum, count, lo, hi));
            }
        }
    }
    v[10] = log_scale(rows as f64, 1024.0);
    v[11] = log_scale(cols as f64, 1024.0);
    v[13] = log_scale(lo.abs().max(hi.abs()) as f64, 1e15);
}

/// Pearson correlation of two integer tables, exact sums; 0 if either is constant.
fn correlation(a: &[i64], b: &[i64]) -> f64 {
    let n = a.len() as i128;
    let (mut sa, mut sb, mut saa, mut sbb, mut sab) = (0i128, 0i128, 0i128, 0i128, 0i128);
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (i128::from(*x), i128::from(*y));
        sa += x;
        sb += y;
        saa += x * x;
        sbb += y * y;
        sab += x * y;
    }
    let cov = (n * sab - sa * sb) as f64;
    let va = (n * saa - sa * sa) as f64;
    let vb = (n * sbb - sb * sb) as f64;
    if va <= 0.0 || vb <= 0.0 {
        0.0
    } else {
        (cov / (va.sqrt() * vb.sqrt())).clamp(-1.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::class::MatrixGame;
    use crate::generate::{Difficulty, SplitMix64, challenge};
    use crate::units::{IntentId, PartyId, Price};

    fn enc(c: &Challenge) -> Manifold {
        encode(c, &ManifoldConfig::default()).expect("encodes")
    }

    fn bits(m: &Manifold) -> Vec<u32> {
        m.0.iter().map(|x| x.to_bits()).collect()
    }

    fn shuffle<T>(rng: &mut SplitMix64, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
    }

    fn permutation(rng: &mut SplitMix64, n: usize) -> Vec<usize> {
        let mut p: Vec<usize> = (0..n).collect();
        shuffle(rng, &mut p);
        p
    }

    /// The same challenge with parties and intents reordered, ids relabelled, game actions
    /// permuted and (two-player games) the players swapped.
    fn disguise(c: &Challenge, seed: u64) -> Challenge {
        let mut rng = SplitMix64::new(seed);
        let mut d = c.clone();
        let relabel: BTreeMap<PartyId, PartyId> = c
            .parties
            .iter()
            .map(|p| (*p, PartyId(p.0.wrapping_mul(7919) % 1_000_003 + 70_000)))
            .collect();
        d.parties = d.parties.iter().map(|p| relabel[p]).collect();
        shuffle(&mut rng, &mut d.parties);
        match &mut d.problem {
            Problem::Market(m) => {
                shuffle(&mut rng, &mut m.intents);
                for (k, i) in m.intents.iter_mut().enumerate() {
                    i.id = IntentId(1000 + 3 * k as u64);
                    i.party = relabel[&i.party];
                    for cp in &mut i.counterparties {
                        *cp = relabel
                            .get(cp)
                            .copied()
                            .unwrap_or(PartyId(cp.0 + 5_000_000));
                    }
                    shuffle(&mut rng, &mut i.counterparties);
                }
            }
            Problem::ZeroSum(g) => {
                let (pr, pc) = (permutation(&mut rng, g.rows), permutation(&mut rng, g.cols));
                let t = g.payoffs.clone();
                for i in 0..g.rows {
                    for j in 0..g.cols {
                        g.payoffs[i * g.cols + j] = t[pr[i] * g.cols + pc[j]];
                    }
                }
                // Swap the players: the new row player receives −Aᵀ.
                let neg: Vec<i64> = transpose(g.rows, g.cols, &g.payoffs)
                    .iter()
                    .map(|x| -x)
                    .collect();
                *g = MatrixGame {
                    rows: g.cols,
                    cols: g.rows,
                    payoffs: neg,
                };
            }
            Problem::Bimatrix(g) => {
                let (pr, pc) = (permutation(&mut rng, g.rows), permutation(&mut rng, g.cols));
                let (a, b) = (g.row_payoffs.clone(), g.col_payoffs.clone());
                for i in 0..g.rows {
                    for j in 0..g.cols {
                        g.row_payoffs[i * g.cols + j] = a[pr[i] * g.cols + pc[j]];
                        g.col_payoffs[i * g.cols + j] = b[pr[i] * g.cols + pc[j]];
                    }
                }
                *g = BimatrixGame {
                    rows: g.cols,
                    cols: g.rows,
                    row_payoffs: transpose(g.rows, g.cols, &g.col_payoffs),
                    col_payoffs: transpose(g.rows, g.cols, &g.row_payoffs),
                };
            }
            Problem::ThreePlayer(g) => {
                // Permute the players (axes) and each player's actions.
                let perm = permutation(&mut rng, 3);
                let acts: Vec<Vec<usize>> = (0..3)
                    .map(|p| permutation(&mut rng, g.actions[p]))
                    .collect();
                let old = g.clone();
                // New player k is old player perm[k]; new action x of k is old action acts[k][x].
                let mut new = ThreePlayerGame {
                    actions: [
                        old.actions[perm[0]],
                        old.actions[perm[1]],
                        old.actions[perm[2]],
                    ],
                    payoffs: [vec![], vec![], vec![]],
                };
                let len = new.actions.iter().product();
                for k in 0..3 {
                    new.payoffs[k] = vec![0; len];
                }
                for x0 in 0..new.actions[0] {
                    for x1 in 0..new.actions[1] {
                        for x2 in 0..new.actions[2] {
                            let x = [x0, x1, x2];
                            let mut o = [0usize; 3];
                            for k in 0..3 {
                                o[perm[k]] = acts[k][x[k]];
                            }
                            let idx = (x0 * new.actions[1] + x1) * new.actions[2] + x2;
                            for (k, &from) in perm.iter().enumerate() {
                                new.payoffs[k][idx] = old.at(from, o);
                            }
                        }
                    }
                }
                *g = new;
            }
            Problem::Coalition(g) => {
                let perm = permutation(&mut rng, g.players);
                let old = g.values.clone();
                for (s, val) in old.iter().enumerate() {
                    let mut t = 0usize;
                    for (i, &to) in perm.iter().enumerate() {
                        if s >> i & 1 == 1 {
                            t |= 1 << to;
                        }
                    }
                    g.values[t] = *val;
                }
            }
        }
        d
    }

    fn difficulties() -> Vec<Difficulty> {
        let mut three = Difficulty::easy();
        three.parties = 3;
        vec![Difficulty::easy(), Difficulty::hard(), three]
    }

    #[test]
    fn layout_is_fixed_normalised_and_versioned() {
        for class in ProblemClass::ALL {
            for d in difficulties() {
                let c = challenge(class, 3, &d);
                let m = enc(&c);
                assert_eq!(m.0.len(), DIMENSIONS);
                assert_eq!(m.0[0], 1.0);
                let idx = ProblemClass::ALL
                    .iter()
                    .position(|k| *k == class)
                    .expect("listed");
                assert_eq!(m.0[1..8].iter().filter(|x| **x == 1.0).count(), 1);
                assert_eq!(m.0[1 + idx], 1.0);
                assert!(
                    m.0.iter()
                        .all(|x| x.is_finite() && (-1.0..=1.0).contains(x)),
                    "{class:?}: {:?}",
                    m.0
                );
                assert_eq!(bits(&m), bits(&enc(&c)), "deterministic");
            }
        }
    }

    #[test]
    fn invariant_to_party_order_and_relabelling_for_every_class() {
        for class in ProblemClass::ALL {
            for d in difficulties() {
                for seed in 0..8 {
                    let c = challenge(class, seed, &d);
                    let base = bits(&enc(&c));
                    for k in 0..3 {
                        let other = disguise(&c, seed * 31 + k);
                        assert_eq!(other.validate(), Ok(()));
                        assert_ne!(other, c);
                        assert_eq!(bits(&enc(&other)), base, "{class:?} seed {seed} {d:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn more_parties_than_slots_are_summarised() {
        let d = Difficulty {
            parties: 40,
            resources: 6,
            actions: 3,
            density: 40,
            indivisible: 0,
        };
        let c = challenge(ProblemClass::ResourceTriangle, 5, &d);
        assert_eq!(c.parties.len(), 40);
        let m = enc(&c);
        assert!((m.0[12] - 24.0 / 40.0).abs() < 1e-6, "overflow {}", m.0[12]);
        assert_eq!(bits(&enc(&disguise(&c, 99))), bits(&m));
        // A change to a party without a slot still moves the summary.
        let slotted: Vec<[u32; FEATURES]> = (0..SLOTS)
            .map(|s| {
                let mut f = [0; FEATURES];
                for (k, x) in f.iter_mut().enumerate() {
                    *x = m.0[BODY + s * FEATURES + k].to_bits();
                }
                f
            })
            .collect();
        let mut changed = false;
        for party in c.parties.clone() {
            let mut e = c.clone();
            if let Problem::Market(mk) = &mut e.problem {
                for i in mk.intents.iter_mut().filter(|i| i.party == party) {
                    i.min_fill = crate::units::Quantity::ZERO;
                    i.lot = crate::units::Quantity::EPSILON;
                    i.counterparties.clear();
                    i.window.end = i.window.start + 1;
                }
            }
            let me = enc(&e);
            let slots_same = (0..SLOTS).all(|s| {
                (0..FEATURES).all(|k| me.0[BODY + s * FEATURES + k].to_bits() == slotted[s][k])
            });
            if slots_same && bits(&me) != bits(&m) {
                changed = true;
                assert_ne!(&me.0[HEADER..BODY], &m.0[HEADER..BODY]);
                break;
            }
        }
        assert!(
            changed,
            "some unslotted party's change shows in the summary"
        );
    }

    #[test]
    fn similar_challenges_are_closer_than_other_classes() {
        for class in ProblemClass::ALL {
            for seed in 0..5 {
                let c = challenge(class, seed, &Difficulty::easy());
                let mut p = c.clone();
                match &mut p.problem {
                    Problem::Market(m) => {
                        let i = &mut m.intents[0];
                        if let Valuation::Limit { price } = &mut i.valuation {
                            *price = Price(price.0 * 101 / 100);
                        }
                        i.quantity = crate::units::Quantity(i.quantity.0 + i.lot.0);
                    }
                    Problem::ZeroSum(g) => g.payoffs[0] += 1,
                    Problem::Bimatrix(g) => g.row_payoffs[0] += 1,
                    Problem::ThreePlayer(g) => g.payoffs[0][0] += 1,
                    Problem::Coalition(g) => *g.values.last_mut().expect("non-empty") += 1,
                }
                if p.validate().is_err() {
                    continue;
                }
                let (mc, mp) = (enc(&c), enc(&p));
                let close = mc.similarity(&mp);
                assert!(close > 0.99, "{class:?} {close}");
                for other in ProblemClass::ALL.into_iter().filter(|k| *k != class) {
                    let o = enc(&challenge(other, seed + 100, &Difficulty::easy()));
                    let far = mc.similarity(&o);
                    assert!(close > far, "{class:?} vs {other:?}: {close} ≤ {far}");
                }
            }
        }
    }

    #[test]
    fn cosine_basics_and_errors() {
        assert_eq!(cosine(&[1.0, 0.0], &[0.0, 1.0]), 0.0);
        assert!((cosine(&[1.0, 2.0], &[2.0, 4.0]) - 1.0).abs() < 1e-12);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 1.0]), 0.0);
        let c = challenge(ProblemClass::SimpleSwap, 1, &Difficulty::easy());
        let bad = ManifoldConfig {
            version: 2,
            dimensions: 256,
        };
        assert!(matches!(
            encode(&c, &bad),
            Err(ManifoldError::Unsupported { version: 2, .. })
        ));
        let mut broken = c;
        broken.parties.clear();
        assert!(matches!(
            encode(&broken, &ManifoldConfig::default()),
            Err(ManifoldError::Instance(_))
        ));
    }

    #[test]
    fn large_games_are_block_averaged() {
        let d = Difficulty {
            parties: 2,
            resources: 3,
            actions: 40,
            density: 0,
            indivisible: 0,
        };
        let c = challenge(ProblemClass::GeneralGame, 2, &d);
        let m = enc(&c);
        assert_eq!(bits(&enc(&disguise(&c, 5))), bits(&m));
        // The full 9 × 9 grids are used.
        assert!(m.0[BODY..BODY + 2 * GRID * GRID].iter().all(|x| *x > 0.0));
    }
}
