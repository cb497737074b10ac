//! The comparison harness between our reference solvers and external ones (`bench/`).
//!
//! [`write_instance`] turns a generated challenge into a self-contained JSON file; [`solve_file`]
//! times our solver on it. `bench/compare.py` reads the same files and times HiGHS, SciPy,
//! QuantEcon and Gambit on them, so both sides solve identical problems.
//!
//! # Instance file (`format: "pin-nash-bench/1"`)
//!
//! ```text
//! {
//!   "format": "pin-nash-bench/1",
//!   "class": "three-party",            // see CLASSES
//!   "size": 16, "seed": 1,
//!   "challenge": { ... },             // nash::challenge::Challenge (serde JSON), for our solver
//!   "lps": [ LP, ... ],               // divisible markets: one per resource
//!   "milps": [ MILP, ... ],           // triangle-indivisible: one per component needing the MILP
//!   "game": { "rows": m, "cols": n,   // game classes: payoffs as integers, a[i][j] to the row
//!             "a": [[..]], "b": [[..]] }  // player, b[i][j] to the column player (zero-sum: b = −a)
//! }
//! LP = { "n": number of variables,
//!        "c": [n costs],               // minimise cᵀx
//!        "upper": [n bounds],          // 0 ≤ x_j ≤ upper_j; null = +∞
//!        "rows": [ { "a": [[j, coeff], ...], "rel": "eq" | "le" | "ge", "rhs": b }, ... ] }
//! MILP = { "lp": LP,
//!          "integer": [n bools],       // x_j integral
//!          "on_lower": [n numbers],    // ℓ_j > 0: x_j = 0 or x_j ≥ ℓ_j (semicontinuous)
//!          "first_extra": k }          // columns k.. are the discrete decisions
//! ```
//!
//! The LPs are [`nash::solve::clearing::clearing_lps`] verbatim: the programs our clearing
//! solves (as a min-cost flow), whose optimum is −welfare (units × money); the welfare of an
//! instance is `−Σ objectives`. The MILPs are [`nash::solve::clearing::clearing_milps`], the first
//! round of the indivisible clearing. Floats are written by `serde_json` (shortest round-trip
//! representation), so a reader gets the identical `f64`s. Swaps have neither LPs nor a game
//! (closed form; no external reference) and are timed on our side only.
//!
//! # Result line (`solve`, one JSON object per instance per line)
//!
//! `file, class, size, seed, reps, times_s` (seconds per repetition) and, by class:
//! - divisible markets: `times_s` is our whole reference clearing (min-cost flow, rounding and
//!   prices); `lp_times_s` our dense simplex on the file's LPs, summed over resources;
//!   `objectives` and `welfare` from that simplex;
//! - indivisible markets: `times_s` is [`nash::solve::indivisible::solve_welfare_milp`] on the
//!   file's MILPs (summed), with `objectives`, `welfare`, `nodes` and `node_limit_hit`;
//!   `full_times_s` the whole clearing (pricing rounds included);
//! - zero-sum: `value` (row player's), `row`/`col` strategies;
//! - bimatrix: `row`/`col` and `epsilon` (our verifier's relative regret of our strategies);
//! - three-player and coalition games: `times_s` only (our reference solve; no external one).

use anyhow::{Context, Result, anyhow, bail};
use nash::challenge::{Challenge, Problem};
use nash::class::ProblemClass;
use nash::config::Config;
use nash::generate::{Difficulty, challenge};
use nash::solve::clearing::{clearing_lps, clearing_milps};
use nash::solve::indivisible::{WelfareMilp, solve_welfare_milp};
use nash::solve::lemke_howson::{relative_regret, solve_bimatrix};
use nash::solve::lp::{LinearProgram, Relation};
use nash::solve::milp::MilpProblem;
use nash::solve::reference;
use nash::solve::zero_sum::solve_zero_sum;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The format tag of instance files.
pub const FORMAT: &str = "pin-nash-bench/1";

/// How a benchmark size maps to a generator difficulty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sizing {
    /// [`Difficulty::for_size`].
    Standard,
    /// [`Difficulty::indivisible_for_size`]: markets with lots, minimum fills and bundles.
    Indivisible,
    /// [`Difficulty::three_player_for_size`].
    ThreePlayer,
    /// [`Difficulty::coalition_for_size`].
    Coalition,
}

/// A benchmarked kind of instance: a problem class and how a size maps to its difficulty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BenchClass {
    /// The name on the command line and in files.
    pub name: &'static str,
    /// The problem class.
    pub class: ProblemClass,
    /// How its size maps to a difficulty.
    pub sizing: Sizing,
}

impl BenchClass {
    /// The generator difficulty at `size`, the same as `crates/nash/benches/solve.rs` uses.
    #[must_use]
    pub fn difficulty(self, size: usize) -> Difficulty {
        match self.sizing {
            Sizing::Standard => Difficulty::for_size(self.class, size),
            Sizing::Indivisible => Difficulty::indivisible_for_size(size),
            Sizing::ThreePlayer => Difficulty::three_player_for_size(size),
            Sizing::Coalition => Difficulty::coalition_for_size(size),
        }
    }
}

const fn bench_class(name: &'static str, class: ProblemClass, sizing: Sizing) -> BenchClass {
    BenchClass {
        name,
        class,
        sizing,
    }
}

/// Classes accepted on the command line and written to files.
pub const CLASSES: [BenchClass; 9] = [
    bench_class("simple-swap", ProblemClass::SimpleSwap, Sizing::Standard),
    bench_class(
        "constrained-swap",
        ProblemClass::ConstrainedSwap,
        Sizing::Standard,
    ),
    bench_class("three-party", ProblemClass::ThreeParty, Sizing::Standard),
    bench_class("triangle", ProblemClass::ResourceTriangle, Sizing::Standard),
    bench_class(
        "triangle-indivisible",
        ProblemClass::ResourceTriangle,
        Sizing::Indivisible,
    ),
    bench_class("zero-sum", ProblemClass::ZeroSumGame, Sizing::Standard),
    bench_class("bimatrix", ProblemClass::GeneralGame, Sizing::Standard),
    bench_class(
        "three-player",
        ProblemClass::GeneralGame,
        Sizing::ThreePlayer,
    ),
    bench_class(
        "coalition",
        ProblemClass::CoalitionFormation,
        Sizing::Coalition,
    ),
];

/// The class with this command-line name.
pub fn class_named(name: &str) -> Result<BenchClass> {
    CLASSES
        .iter()
        .find(|c| c.name == name)
        .copied()
        .ok_or_else(|| {
            let names: Vec<&str> = CLASSES.iter().map(|c| c.name).collect();
            anyhow!("unknown class {name:?} (one of {})", names.join(", "))
        })
}

/// An LP in the file format.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LpJson {
    /// Number of variables.
    pub n: usize,
    /// Costs (minimised).
    pub c: Vec<f64>,
    /// Upper bounds; `None` is +∞.
    pub upper: Vec<Option<f64>>,
    /// Constraint rows.
    pub rows: Vec<RowJson>,
}

/// A constraint row in the file format.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RowJson {
    /// Sparse coefficients `(variable, value)`.
    pub a: Vec<(usize, f64)>,
    /// `"eq"`, `"le"` or `"ge"`.
    pub rel: String,
    /// Right-hand side.
    pub rhs: f64,
}

impl LpJson {
    /// The file form of `lp`.
    #[must_use]
    pub fn from_lp(lp: &LinearProgram) -> Self {
        let rows = (0..lp.num_rows())
            .filter_map(|i| lp.row(i))
            .map(|(a, rel, rhs)| RowJson {
                a: a.to_vec(),
                rel: match rel {
                    Relation::Eq => "eq",
                    Relation::Le => "le",
                    Relation::Ge => "ge",
                }
                .into(),
                rhs,
            })
            .collect();
        Self {
            n: lp.num_vars(),
            c: lp.costs().to_vec(),
            upper: lp
                .uppers()
                .iter()
                .map(|&u| u.is_finite().then_some(u))
                .collect(),
            rows,
        }
    }

    /// The program, rebuilt.
    pub fn to_lp(&self) -> Result<LinearProgram> {
        if self.c.len() != self.n || self.upper.len() != self.n {
            bail!(
                "LP with n = {} has {} costs and {} bounds",
                self.n,
                self.c.len(),
                self.upper.len()
            );
        }
        let mut lp = LinearProgram::new(self.n);
        for (j, (&c, &u)) in self.c.iter().zip(&self.upper).enumerate() {
            lp.set_cost(j, c);
            lp.set_upper(j, u.unwrap_or(f64::INFINITY));
        }
        for row in &self.rows {
            let rel = match row.rel.as_str() {
                "eq" => Relation::Eq,
                "le" => Relation::Le,
                "ge" => Relation::Ge,
                other => bail!("unknown relation {other:?}"),
            };
            if let Some(&(j, _)) = row.a.iter().find(|(j, _)| *j >= self.n) {
                bail!("row refers to variable {j} of {}", self.n);
            }
            lp.add_row(row.a.clone(), rel, row.rhs);
        }
        Ok(lp)
    }
}

/// A welfare MILP in the file format.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MilpJson {
    /// The relaxation.
    pub lp: LpJson,
    /// Per variable: must it be integral?
    pub integer: Vec<bool>,
    /// Per variable: 0, or `ℓ > 0` meaning the variable is 0 or at least `ℓ` (semicontinuous).
    pub on_lower: Vec<f64>,
    /// The first discrete column: our branch and bound starts from all of them at 0.
    pub first_extra: usize,
}

impl MilpJson {
    /// The file form of `milp`.
    #[must_use]
    pub fn from_milp(milp: &WelfareMilp) -> Self {
        Self {
            lp: LpJson::from_lp(&milp.problem.lp),
            integer: milp.problem.integer.clone(),
            on_lower: milp.problem.on_lower.clone(),
            first_extra: milp.first_extra,
        }
    }

    /// The program, rebuilt.
    pub fn to_milp(&self) -> Result<MilpProblem> {
        let lp = self.lp.to_lp()?;
        if self.integer.len() != self.lp.n || self.on_lower.len() != self.lp.n {
            bail!(
                "MILP with n = {} has {} integrality flags and {} semicontinuous bounds",
                self.lp.n,
                self.integer.len(),
                self.on_lower.len()
            );
        }
        Ok(MilpProblem {
            lp,
            integer: self.integer.clone(),
            on_lower: self.on_lower.clone(),
        })
    }
}

/// The instance file of `class` at `size` from `seed`, as JSON.
#[must_use]
pub fn instance_json(class: BenchClass, size: usize, seed: u64) -> Value {
    let ch = challenge(class.class, seed, &class.difficulty(size));
    let mut out = json!({
        "format": FORMAT,
        "class": class.name,
        "size": size,
        "seed": seed,
    });
    match &ch.problem {
        Problem::Market(m) if class.sizing == Sizing::Indivisible => {
            let milps: Vec<MilpJson> = clearing_milps(m).iter().map(MilpJson::from_milp).collect();
            out["milps"] = json!(milps);
        }
        Problem::Market(m) if !class.class.is_bilateral() => {
            let lps: Vec<LpJson> = clearing_lps(m).iter().map(LpJson::from_lp).collect();
            out["lps"] = json!(lps);
        }
        Problem::ZeroSum(g) => {
            let a: Vec<Vec<i64>> = (0..g.rows)
                .map(|i| (0..g.cols).map(|j| g.at(i, j)).collect())
                .collect();
            let b: Vec<Vec<i64>> = a.iter().map(|r| r.iter().map(|v| -v).collect()).collect();
            out["game"] = json!({ "rows": g.rows, "cols": g.cols, "a": a, "b": b });
        }
        Problem::Bimatrix(g) => {
            let a: Vec<Vec<i64>> = (0..g.rows)
                .map(|i| (0..g.cols).map(|j| g.a(i, j)).collect())
                .collect();
            let b: Vec<Vec<i64>> = (0..g.rows)
                .map(|i| (0..g.cols).map(|j| g.b(i, j)).collect())
                .collect();
            out["game"] = json!({ "rows": g.rows, "cols": g.cols, "a": a, "b": b });
        }
        _ => {}
    }
    out["challenge"] = json!(ch);
    out
}

/// Writes `class-size-seed.json` into `dir` (created if missing); returns its path.
pub fn write_instance(dir: &Path, class: BenchClass, size: usize, seed: u64) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(format!("{}-{size}-{seed}.json", class.name));
    let text = serde_json::to_string(&instance_json(class, size, seed))?;
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// The instance files in `dir` (`*.json`), sorted by name.
pub fn instance_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    Ok(files)
}

fn timed<T>(reps: usize, mut f: impl FnMut() -> Result<T>) -> Result<(T, Vec<f64>)> {
    let mut times = Vec::with_capacity(reps);
    let mut last = None;
    for _ in 0..reps.max(1) {
        let t0 = Instant::now();
        let out = black_box(f()?);
        times.push(t0.elapsed().as_secs_f64());
        last = Some(out);
    }
    let last = last.ok_or_else(|| anyhow!("no repetition ran"))?;
    Ok((last, times))
}

/// Solves the instance file at `path` `reps` times with our reference solver; the result line.
pub fn solve_file(path: &Path, reps: usize) -> Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let file: Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    if file["format"] != FORMAT {
        bail!(
            "{}: format {} is not {FORMAT}",
            path.display(),
            file["format"]
        );
    }
    let ch: Challenge = serde_json::from_value(file["challenge"].clone())
        .with_context(|| format!("{}: challenge", path.display()))?;
    let config = Config::default();
    let limits = &config.solver;
    let mut out = json!({
        "file": path.file_name().map(|n| n.to_string_lossy().into_owned()),
        "class": file["class"],
        "size": file["size"],
        "seed": file["seed"],
        "reps": reps.max(1),
    });
    match &ch.problem {
        Problem::Market(_) if file.get("milps").is_some() => {
            let milps: Vec<MilpJson> = serde_json::from_value(file["milps"].clone())
                .with_context(|| format!("{}: milps", path.display()))?;
            let problems: Vec<(MilpProblem, usize)> = milps
                .iter()
                .map(|m| Ok((m.to_milp()?, m.first_extra)))
                .collect::<Result<_>>()?;
            let (solutions, times) = timed(reps, || {
                problems
                    .iter()
                    .map(|(p, first)| Ok(solve_welfare_milp(p, *first, limits)?))
                    .collect::<Result<Vec<_>>>()
            })?;
            let (_, full) = timed(reps, || Ok(reference(&ch, &config)?))?;
            let objectives: Vec<f64> = solutions.iter().map(|s| s.objective).collect();
            out["objectives"] = json!(objectives);
            out["welfare"] = json!(-objectives.iter().sum::<f64>());
            out["nodes"] = json!(solutions.iter().map(|s| s.nodes).sum::<usize>());
            out["node_limit_hit"] = json!(solutions.iter().any(|s| s.node_limit_hit));
            out["times_s"] = json!(times);
            out["full_times_s"] = json!(full);
        }
        Problem::Market(_) if !ch.class.is_bilateral() => {
            let lps: Vec<LpJson> = serde_json::from_value(file["lps"].clone())
                .with_context(|| format!("{}: lps", path.display()))?;
            let lps: Vec<LinearProgram> = lps.iter().map(LpJson::to_lp).collect::<Result<_>>()?;
            let (objectives, lp_times) = timed(reps, || {
                lps.iter()
                    .map(|lp| Ok(lp.solve(limits)?.objective))
                    .collect::<Result<Vec<f64>>>()
            })?;
            let (_, times) = timed(reps, || Ok(reference(&ch, &config)?))?;
            out["objectives"] = json!(objectives);
            out["welfare"] = json!(-objectives.iter().sum::<f64>());
            out["times_s"] = json!(times);
            out["lp_times_s"] = json!(lp_times);
        }
        Problem::Market(_) => {
            let (_, times) = timed(reps, || Ok(reference(&ch, &config)?))?;
            out["times_s"] = json!(times);
        }
        Problem::ZeroSum(g) => {
            let (s, times) = timed(reps, || Ok(solve_zero_sum(g, limits)?))?;
            out["value"] = json!(s.value);
            out["row"] = json!(s.row);
            out["col"] = json!(s.col);
            out["times_s"] = json!(times);
        }
        Problem::ThreePlayer(_) | Problem::Coalition(_) => {
            // No external reference: timed on our side only.
            let (_, times) = timed(reps, || Ok(reference(&ch, &config)?))?;
            out["times_s"] = json!(times);
        }
        Problem::Bimatrix(g) => {
            let (s, times) = timed(reps, || Ok(solve_bimatrix(g, limits)?))?;
            out["epsilon"] = json!(relative_regret(g, &s.row, &s.col));
            out["row"] = json!(s.row);
            out["col"] = json!(s.col);
            out["times_s"] = json!(times);
        }
    }
    Ok(out)
}
