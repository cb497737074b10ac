//! Nash equilibria of three-player games: Porter–Nudelman–Shoham support enumeration.
//!
//! 1. **Pure profiles first.** Every action profile is checked against each player's best
//!    response (exact integer comparisons); the first pure equilibrium in lexicographic order is
//!    returned. Many generated games have one, and it costs one pass over the tables.
//! 2. **Support size profiles** `(x₀, x₁, x₂)` are tried in the order of the PNS paper's
//!    n-player algorithm: by total size, then by balance `max xᵢ − min xᵢ`, then
//!    lexicographically. Size profiles in which some player has more indifference equations than
//!    the others have free probabilities (`xᵢ − 1 > (xⱼ − 1) + (xₖ − 1)`) only carry equilibria in
//!    degenerate games, so they come after all the others. (Balance first, as in two-player PNS,
//!    is about 100× slower on generated games: their equilibria mostly have a pure player, e.g.
//!    sizes (1, 2, 2), which balance-first reaches only after (2, 2, 2), (3, 3, 3), ….)
//! 3. **Backtracking with conditional dominance.** Player 0's support is chosen, then player 1's,
//!    then player 2's. After each choice, actions that are strictly dominated (by any action of
//!    their player) against every profile the others can still play — chosen supports for
//!    players already fixed, remaining candidates for the rest — are removed, iterated to a fixed
//!    point. A chosen support action that is dominated ends the branch: it can never be a best
//!    response, so it cannot be in an equilibrium's support.
//! 4. **The indifference system.** For a support triple, each player's support actions must earn
//!    the same against the others' mixtures (bilinear equations for three players) and each
//!    mixture sums to one: a square polynomial system in `x₀ + x₁ + x₂` unknowns. It is solved by
//!    damped Newton steps with a Levenberg–Marquardt fallback, from the uniform mixture and (when
//!    every player mixes, so the system is truly nonlinear) from a few seeded starts, each with
//!    the roots already rejected deflated away so that it cannot converge to them again.
//! 5. **Acceptance.** A root is accepted when its probabilities are non-negative (tiny negatives
//!    are clamped and each mixture renormalised) and no action, inside or outside the supports,
//!    earns more than the mixture: the regret, computed exactly as the verifier computes it, is at
//!    most 10⁻⁹ of the payoff range.
//!
//! Newton is a local method, so unlike the exact feasibility programs of two-player PNS a root
//! can be missed; another support triple usually carries an equilibrium that is found. If the
//! whole search ends empty, it runs once more with `RETRY_STARTS` starts for every support
//! triple (in a sweep of 20 000 small random games, one needed this). When that ends empty too,
//! or `three_player_max_supports` is reached (both passes count), the solver reports
//! [`SolveError::NoEquilibriumFound`]. Everything is deterministic: the only randomness is a
//! fixed-seed SplitMix64 re-seeded per support triple.

use crate::class::ThreePlayerGame;
use crate::config::SolverLimits;
use crate::error::SolveError;
use crate::generate::SplitMix64;

const SOLVER: &str = "three-player support enumeration";
/// Largest accepted ε (regret over the payoff range), as in the verifier's frontier band.
const EPSILON: f64 = 1e-9;
/// Newton stops when every residual (in payoff-range units) is below this.
const RESIDUAL: f64 = 1e-13;
/// Newton/LM iterations per start.
const MAX_ITERATIONS: usize = 40;
/// Consecutive iterations that fail to halve the squared residual before a start is abandoned.
const STALL: usize = 5;
/// Starts per support triple in the first pass, when every player mixes (the uniform one plus
/// seeded ones); a system with a pure player is linear in effect and gets one start.
const STARTS: usize = 4;
/// Starts per support triple, whatever its shape, in the second pass (run only when the first
/// finds nothing: Newton occasionally misses every valid root of every support triple).
const RETRY_STARTS: usize = 16;
/// Probabilities this far below zero are clamped to zero; further below, the root is rejected.
const NEGATIVE_SLACK: f64 = 1e-9;
/// Seed of the starting points (re-used for every support triple).
const START_SEED: u64 = 0x5EED_0003_9A3E_0001;

/// The other two players of each player, in increasing order.
const OTHERS: [[usize; 2]; 3] = [[1, 2], [0, 2], [0, 1]];

/// A Nash equilibrium of a three-player game.
#[derive(Clone, Debug, PartialEq)]
pub struct ThreePlayerSolution {
    /// Each player's mixed strategy (one probability per action).
    pub strategies: [Vec<f64>; 3],
    /// Largest regret over the payoff range, computed as the verifier does.
    pub epsilon: f64,
    /// Support candidates examined (see [`SolverLimits::three_player_max_supports`]); 0 when a
    /// pure equilibrium was found by the fast path.
    pub examined: usize,
}

/// A Nash equilibrium (ε ≤ 10⁻⁹ of the payoff range) of a three-player game.
pub fn solve_three_player(
    g: &ThreePlayerGame,
    limits: &SolverLimits,
) -> Result<ThreePlayerSolution, SolveError> {
    g.validate()?;
    let game = Game::new(g);
    if let Some(a) = game.pure_equilibrium() {
        let strategies = std::array::from_fn(|p| {
            let mut s = vec![0.0; g.actions[p]];
            s[a[p]] = 1.0;
            s
        });
        let epsilon = epsilon(g, &strategies);
        return Ok(ThreePlayerSolution {
            strategies,
            epsilon,
            examined: 0,
        });
    }
    let mut search = Search {
        game: &game,
        raw: g,
        limit: limits.three_player_max_supports,
        examined: 0,
        sizes: [0; 3],
        retry: false,
    };
    // Unconditional iterated dominance first: no equilibrium uses a dominated action.
    let mut all: [Vec<usize>; 3] = std::array::from_fn(|p| (0..g.actions[p]).collect());
    if !game.prune(&mut all, None, [1; 3]) {
        // Cannot happen (an undominated action always remains); report rather than panic.
        return Err(search.failure(false));
    }
    let mut profiles = Vec::new();
    for x0 in 1..=all[0].len() {
        for x1 in 1..=all[1].len() {
            for x2 in 1..=all[2].len() {
                profiles.push([x0, x1, x2]);
            }
        }
    }
    profiles.sort_by_key(|x| {
        let d = x.map(|v| v - 1);
        let degenerate = (0..3).any(|i| d[i] > d[OTHERS[i][0]] + d[OTHERS[i][1]]);
        let size: usize = x.iter().sum();
        let balance = x.iter().max().copied().unwrap_or(0) - x.iter().min().copied().unwrap_or(0);
        (degenerate, size, balance, *x)
    });
    for retry in [false, true] {
        search.retry = retry;
        for &x in &profiles {
            search.sizes = x;
            match search.level(0, &all) {
                Ok(Some(strategies)) => {
                    let epsilon = epsilon(g, &strategies);
                    return Ok(ThreePlayerSolution {
                        strategies,
                        epsilon,
                        examined: search.examined,
                    });
                }
                Ok(None) => {}
                Err(Limit) => return Err(search.failure(true)),
            }
        }
    }
    Err(search.failure(false))
}

/// The game with each player's table transposed to `[own][lower other][higher other]`, in
/// integers (dominance, pure equilibria) and scaled to `[0, 1]` per player (equation solving,
/// where unit-sized coefficients keep tolerances meaningful).
struct Game {
    n: [usize; 3],
    raw: [Vec<i64>; 3],
    unit: [Vec<f64>; 3],
}

impl Game {
    fn new(g: &ThreePlayerGame) -> Self {
        let n = g.actions;
        let raw: [Vec<i64>; 3] = std::array::from_fn(|p| {
            let [j, k] = OTHERS[p];
            let mut t = Vec::with_capacity(n[0] * n[1] * n[2]);
            for a in 0..n[p] {
                for b in 0..n[j] {
                    for c in 0..n[k] {
                        let mut profile = [0; 3];
                        profile[p] = a;
                        profile[j] = b;
                        profile[k] = c;
                        t.push(g.at(p, profile));
                    }
                }
            }
            t
        });
        let unit = std::array::from_fn(|p| {
            let lo = raw[p].iter().copied().min().unwrap_or(0);
            let hi = raw[p].iter().copied().max().unwrap_or(0);
            // Payoffs are within ±10¹², so differences are exact in i64 and f64.
            let range = (hi - lo).max(1) as f64;
            raw[p].iter().map(|&v| (v - lo) as f64 / range).collect()
        });
        Self { n, raw, unit }
    }

    /// Index of `(own, lower other, higher other)` in player `p`'s transposed table.
    fn at(&self, p: usize, a: usize, b: usize, c: usize) -> usize {
        let [_, k] = OTHERS[p];
        (a * self.n[OTHERS[p][0]] + b) * self.n[k] + c
    }

    /// The first pure equilibrium in lexicographic order of profiles.
    fn pure_equilibrium(&self) -> Option<[usize; 3]> {
        // best[p][(b, c)] = player p's best payoff against the others' pure profile (b, c).
        let best: [Vec<i64>; 3] = std::array::from_fn(|p| {
            let [j, k] = OTHERS[p];
            let mut best = vec![i64::MIN; self.n[j] * self.n[k]];
            for a in 0..self.n[p] {
                for (bc, v) in best.iter_mut().enumerate() {
                    *v = (*v).max(self.raw[p][a * self.n[j] * self.n[k] + bc]);
                }
            }
            best
        });
        for a0 in 0..self.n[0] {
            for a1 in 0..self.n[1] {
                for a2 in 0..self.n[2] {
                    let a = [a0, a1, a2];
                    let ok = (0..3).all(|p| {
                        let [j, k] = OTHERS[p];
                        let bc = a[j] * self.n[k] + a[k];
                        self.raw[p][self.at(p, a[p], a[j], a[k])] == best[p][bc]
                    });
                    if ok {
                        return Some(a);
                    }
                }
            }
        }
        None
    }

    /// Whether action `a` of player `p` is strictly dominated by some other action of `p`
    /// against every profile in `rj × rk`.
    fn dominated(&self, p: usize, a: usize, rj: &[usize], rk: &[usize]) -> bool {
        let t = &self.raw[p];
        (0..self.n[p]).any(|d| {
            d != a
                && rj.iter().all(|&b| {
                    rk.iter()
                        .all(|&c| t[self.at(p, d, b, c)] > t[self.at(p, a, b, c)])
                })
        })
    }

    /// Iterated removal of conditionally dominated actions from `sets`. Players `0..=fixed`
    /// have chosen supports: if one of their actions is dominated, the branch is dead (`false`).
    /// The others' candidate sets shrink; a set smaller than its support size is also dead.
    fn prune(&self, sets: &mut [Vec<usize>; 3], fixed: Option<usize>, sizes: [usize; 3]) -> bool {
        loop {
            let mut changed = false;
            for p in 0..3 {
                let [j, k] = OTHERS[p];
                // Taken out so the others' sets can be borrowed while this one shrinks.
                let mut own = std::mem::take(&mut sets[p]);
                let before = own.len();
                own.retain(|&a| !self.dominated(p, a, &sets[j], &sets[k]));
                sets[p] = own;
                if sets[p].len() != before {
                    if fixed.is_some_and(|f| p <= f) {
                        return false;
                    }
                    changed = true;
                }
                if sets[p].len() < sizes[p] {
                    return false;
                }
            }
            if !changed {
                return true;
            }
        }
    }
}

/// The search reached its limit.
struct Limit;

struct Search<'a> {
    game: &'a Game,
    raw: &'a ThreePlayerGame,
    limit: usize,
    examined: usize,
    sizes: [usize; 3],
    /// Second pass: more starts per support triple.
    retry: bool,
}

impl Search<'_> {
    /// Chooses player `p`'s support among `sets[p]` (players before `p` are fixed).
    fn level(&mut self, p: usize, sets: &[Vec<usize>; 3]) -> Result<Option<[Vec<f64>; 3]>, Limit> {
        if p == 3 {
            return Ok(solve_support(self.game, self.raw, sets, self.retry));
        }
        let x = self.sizes[p];
        let pool = &sets[p];
        if pool.len() < x {
            return Ok(None);
        }
        // Lexicographic combinations of x indices into pool.
        let mut idx: Vec<usize> = (0..x).collect();
        loop {
            self.examined += 1;
            if self.examined > self.limit {
                return Err(Limit);
            }
            let mut next = sets.clone();
            next[p] = idx.iter().map(|&i| pool[i]).collect();
            if self.game.prune(&mut next, Some(p), self.sizes)
                && let Some(s) = self.level(p + 1, &next)?
            {
                return Ok(Some(s));
            }
            // Advance to the next combination.
            let Some(i) = (0..x).rev().find(|&i| idx[i] < pool.len() - x + i) else {
                return Ok(None);
            };
            idx[i] += 1;
            for r in i + 1..x {
                idx[r] = idx[r - 1] + 1;
            }
        }
    }

    fn failure(&self, limited: bool) -> SolveError {
        let how = if limited {
            "limit reached"
        } else {
            "every support triple examined"
        };
        SolveError::NoEquilibriumFound {
            solver: SOLVER,
            actions: self.raw.actions.to_vec(),
            examined: self.examined,
            limit: self.limit,
            tried: format!(
                "{how}; pure profiles, then supports by total size and balance with conditional dominance, \
                 Newton/Levenberg–Marquardt from up to {STARTS} starts each, then again from \
                 {RETRY_STARTS}"
            ),
        }
    }
}

/// The indifference system of one support triple, in the unit-scaled payoffs.
struct System {
    /// Support sizes.
    x: [usize; 3],
    /// Offsets of each player's probabilities in the unknown vector.
    off: [usize; 3],
    /// `diff[p][((r - 1) * xj + b) * xk + c]`: payoff of support action `r` minus that of
    /// support action 0, against support actions `b` and `c` of the two others.
    diff: [Vec<f64>; 3],
}

impl System {
    fn new(game: &Game, s: &[Vec<usize>; 3]) -> Self {
        let x = [s[0].len(), s[1].len(), s[2].len()];
        let off = [0, x[0], x[0] + x[1]];
        let diff = std::array::from_fn(|p| {
            let [j, k] = OTHERS[p];
            let t = &game.unit[p];
            let mut d = Vec::with_capacity(x[p].saturating_sub(1) * x[j] * x[k]);
            for &a in &s[p][1..] {
                for &b in &s[j] {
                    for &c in &s[k] {
                        d.push(t[game.at(p, a, b, c)] - t[game.at(p, s[p][0], b, c)]);
                    }
                }
            }
            d
        });
        Self { x, off, diff }
    }

    fn unknowns(&self) -> usize {
        self.x.iter().sum()
    }

    /// Residuals `f` and (if asked) the Jacobian `jac` (row-major, square) at `y`.
    fn eval(&self, y: &[f64], f: &mut [f64], mut jac: Option<&mut [f64]>) {
        let n = self.unknowns();
        if let Some(j) = jac.as_deref_mut() {
            j.fill(0.0);
        }
        let mut row = 0;
        for p in 0..3 {
            // The sum constraint.
            let yp = &y[self.off[p]..self.off[p] + self.x[p]];
            f[row] = yp.iter().sum::<f64>() - 1.0;
            if let Some(j) = jac.as_deref_mut() {
                j[row * n + self.off[p]..row * n + self.off[p] + self.x[p]].fill(1.0);
            }
            row += 1;
            let [oj, ok] = OTHERS[p];
            let (xj, xk) = (self.x[oj], self.x[ok]);
            let yj = &y[self.off[oj]..self.off[oj] + xj];
            let yk = &y[self.off[ok]..self.off[ok] + xk];
            for r in 0..self.x[p].saturating_sub(1) {
                let d = &self.diff[p][r * xj * xk..(r + 1) * xj * xk];
                let mut value = 0.0;
                for b in 0..xj {
                    let db = &d[b * xk..(b + 1) * xk];
                    let inner: f64 = db.iter().zip(yk).map(|(v, q)| v * q).sum();
                    value += yj[b] * inner;
                    if let Some(j) = jac.as_deref_mut() {
                        j[row * n + self.off[oj] + b] = inner;
                        for c in 0..xk {
                            j[row * n + self.off[ok] + c] += yj[b] * db[c];
                        }
                    }
                }
                f[row] = value;
                row += 1;
            }
        }
    }

    /// Whether the system is linear in effect: with a pure player, every bilinear term has
    /// one factor pinned to 1 by its sum constraint, so Newton's root is unique.
    fn linear(&self) -> bool {
        self.x.contains(&1)
    }
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

fn sum_sq(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum()
}

/// Solves the square system `a z = b` (row-major `a`, overwritten) by Gaussian elimination
/// with partial pivoting; `None` if a pivot is negligible.
fn solve_linear(a: &mut [f64], b: &mut [f64], n: usize) -> Option<()> {
    let scale = max_abs(a).max(f64::MIN_POSITIVE);
    for col in 0..n {
        let pivot =
            (col..n).max_by(|&r, &s| a[r * n + col].abs().total_cmp(&a[s * n + col].abs()))?;
        if a[pivot * n + col].abs() <= 1e-14 * scale {
            return None;
        }
        if pivot != col {
            for c in 0..n {
                a.swap(pivot * n + c, col * n + c);
            }
            b.swap(pivot, col);
        }
        let p = a[col * n + col];
        for r in col + 1..n {
            let factor = a[r * n + col] / p;
            if factor != 0.0 {
                for c in col..n {
                    a[r * n + c] -= factor * a[col * n + c];
                }
                b[r] -= factor * b[col];
            }
        }
    }
    for col in (0..n).rev() {
        let mut v = b[col];
        for c in col + 1..n {
            v -= a[col * n + c] * b[c];
        }
        b[col] = v / a[col * n + col];
    }
    b.iter().all(|v| v.is_finite()).then_some(())
}

/// The indifference system with known roots deflated away (Farrell, Birkisson and Funke,
/// 2015): `G(y) = m(y)·F(y)` with `m(y) = Π_r (1/‖y − r‖² + 1)`. `G` has the roots of `F` except
/// the deflated ones, so Newton started again cannot return to a root already rejected (one
/// with negative probabilities, say) — plain restarts often fall into the same basin.
struct Deflated<'a> {
    sys: &'a System,
    roots: &'a [Vec<f64>],
}

impl Deflated<'_> {
    /// Writes `G` (and its Jacobian if asked); returns `max |F|`, the undeflated residual.
    fn eval(&self, y: &[f64], g: &mut [f64], mut jac: Option<&mut [f64]>) -> f64 {
        self.sys.eval(y, g, jac.as_deref_mut());
        let raw = max_abs(g);
        if self.roots.is_empty() {
            return raw;
        }
        let n = y.len();
        let mut m = 1.0;
        // ∇ ln m, so that ∇m = m · ∇ ln m.
        let mut grad = vec![0.0; n];
        for r in self.roots {
            // Bounded below so that an iterate on a deflated root gives large, finite values.
            let d2 = y
                .iter()
                .zip(r)
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>()
                .max(1e-100);
            let mr = 1.0 / d2 + 1.0;
            m *= mr;
            for i in 0..n {
                grad[i] += -2.0 * (y[i] - r[i]) / (d2 * d2) / mr;
            }
        }
        if let Some(j) = jac {
            // J_G = m·J + F·(∇m)ᵀ = m·(J + F·(∇ ln m)ᵀ).
            for row in 0..n {
                for col in 0..n {
                    j[row * n + col] = m * (j[row * n + col] + g[row] * grad[col]);
                }
            }
        }
        g.iter_mut().for_each(|v| *v *= m);
        raw
    }
}

/// A root of `sys` from `y` (updated in place) that is none of `roots`, or `None` if the
/// iteration fails. Damped Newton steps on the deflated system, with a Levenberg–Marquardt
/// step when Newton's is singular or does not reduce the residual.
fn newton(sys: &System, roots: &[Vec<f64>], y: &mut [f64]) -> Option<()> {
    let system = Deflated { sys, roots };
    let n = sys.unknowns();
    let mut f = vec![0.0; n];
    let mut jac = vec![0.0; n * n];
    let mut trial = vec![0.0; n];
    let mut f_trial = vec![0.0; n];
    let mut mu = 1e-3;
    let mut slow = 0;
    let mut previous = f64::INFINITY;
    for _ in 0..MAX_ITERATIONS {
        let raw = system.eval(y, &mut f, Some(&mut jac));
        if raw <= RESIDUAL {
            return Some(());
        }
        let norm = sum_sq(&f);
        // Creeping towards a positive local minimum of the residual (no root nearby): Newton
        // near a root converges quadratically, so a few slow iterations in a row mean failure.
        if norm > 0.5 * previous {
            slow += 1;
            if slow >= STALL {
                return None;
            }
        } else {
            slow = 0;
        }
        previous = norm;
        // Newton direction with step halving.
        let mut a = jac.clone();
        let mut step: Vec<f64> = f.iter().map(|v| -v).collect();
        let mut accepted = false;
        if solve_linear(&mut a, &mut step, n).is_some() {
            let mut t = 1.0;
            for _ in 0..8 {
                for i in 0..n {
                    trial[i] = y[i] + t * step[i];
                }
                system.eval(&trial, &mut f_trial, None);
                if sum_sq(&f_trial) < norm {
                    y.copy_from_slice(&trial);
                    accepted = true;
                    break;
                }
                t *= 0.5;
            }
        }
        if !accepted {
            // Levenberg–Marquardt: (JᵀJ + μ·diag(JᵀJ) + μ·I) δ = −Jᵀf, μ raised until f shrinks.
            let mut jtj = vec![0.0; n * n];
            let mut jtf = vec![0.0; n];
            for r in 0..n {
                for c in 0..n {
                    jtj[r * n + c] = (0..n).map(|k| jac[k * n + r] * jac[k * n + c]).sum();
                }
                jtf[r] = -(0..n).map(|k| jac[k * n + r] * f[k]).sum::<f64>();
            }
            for _ in 0..8 {
                let mut a = jtj.clone();
                for d in 0..n {
                    a[d * n + d] += mu * (jtj[d * n + d] + 1.0);
                }
                let mut step = jtf.clone();
                if solve_linear(&mut a, &mut step, n).is_some() {
                    for i in 0..n {
                        trial[i] = y[i] + step[i];
                    }
                    system.eval(&trial, &mut f_trial, None);
                    if sum_sq(&f_trial) < norm {
                        y.copy_from_slice(&trial);
                        mu = (mu / 4.0).max(1e-12);
                        accepted = true;
                        break;
                    }
                }
                mu *= 10.0;
            }
        }
        // Far-away iterates cannot become probabilities; stop early.
        if !accepted || y.iter().any(|v| !v.is_finite() || v.abs() > 1e3) {
            return None;
        }
    }
    sys.eval(y, &mut f, None);
    (max_abs(&f) <= RESIDUAL * 1e3).then_some(())
}

/// An equilibrium with supports `s`, if the indifference system has an acceptable root.
fn solve_support(
    game: &Game,
    raw: &ThreePlayerGame,
    s: &[Vec<usize>; 3],
    retry: bool,
) -> Option<[Vec<f64>; 3]> {
    let sys = System::new(game, s);
    let n = sys.unknowns();
    let starts = match (retry, sys.linear()) {
        (true, _) => RETRY_STARTS,
        (false, true) => 1,
        (false, false) => STARTS,
    };
    let mut rng = SplitMix64::new(START_SEED);
    // Roots found and rejected, deflated away for the next starts.
    let mut roots: Vec<Vec<f64>> = Vec::new();
    for start in 0..starts {
        let mut y = vec![0.0; n];
        for p in 0..3 {
            let part = &mut y[sys.off[p]..sys.off[p] + sys.x[p]];
            if start == 0 {
                part.fill(1.0 / sys.x[p] as f64);
            } else {
                for v in part.iter_mut() {
                    // Uniform in [0.05, 1.05) before normalising: away from the boundary.
                    *v = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 + 0.05;
                }
                let total: f64 = part.iter().sum();
                part.iter_mut().for_each(|v| *v /= total);
            }
        }
        if newton(&sys, &roots, &mut y).is_none() {
            continue;
        }
        if y.iter().any(|&v| v < -NEGATIVE_SLACK) {
            roots.push(y);
            continue;
        }
        let strategies: [Vec<f64>; 3] = std::array::from_fn(|p| {
            let mut full = vec![0.0; raw.actions[p]];
            let part = &y[sys.off[p]..sys.off[p] + sys.x[p]];
            let total: f64 = part.iter().map(|v| v.max(0.0)).sum();
            for (&a, &v) in s[p].iter().zip(part) {
                full[a] = v.max(0.0) / total;
            }
            full
        });
        // A cheap check over the supports in unit-scaled payoffs first; the verifier's full
        // computation only for survivors.
        if strategies.iter().flatten().all(|v| v.is_finite())
            && unit_regret(game, s, &strategies) <= EPSILON
            && epsilon(raw, &strategies) <= EPSILON
        {
            return Some(strategies);
        }
    }
    None
}

/// Largest regret of any player, in that player's unit-scaled payoffs (an upper bound on the
/// verifier's ε up to rounding, since each player's range is at most the largest one).
fn unit_regret(game: &Game, s: &[Vec<usize>; 3], strategies: &[Vec<f64>; 3]) -> f64 {
    let mut worst: f64 = 0.0;
    for p in 0..3 {
        let [j, k] = OTHERS[p];
        let value = |a: usize| -> f64 {
            let mut v = 0.0;
            for &b in &s[j] {
                let mut inner = 0.0;
                for &c in &s[k] {
                    inner += strategies[k][c] * game.unit[p][game.at(p, a, b, c)];
                }
                v += strategies[j][b] * inner;
            }
            v
        };
        let u: f64 = s[p].iter().map(|&a| strategies[p][a] * value(a)).sum();
        let best = (0..game.n[p]).map(value).fold(f64::NEG_INFINITY, f64::max);
        worst = worst.max(best - u);
    }
    worst
}

/// Largest regret over the largest payoff range, by the verifier's own function (so an
/// accepted answer verifies with the same ε).
fn epsilon(g: &ThreePlayerGame, s: &[Vec<f64>; 3]) -> f64 {
    crate::verify::three_player_regrets(g, s).1
}
