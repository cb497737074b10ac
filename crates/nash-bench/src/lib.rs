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
//!   "lps": [ LP, ... ],               // market classes solved by LP: one per resource
//!   "game": { "rows": m, "cols": n,   // game classes: payoffs as integers, a[i][j] to the row
//!             "a": [[..]], "b": [[..]] }  // player, b[i][j] to the column player (zero-sum: b = −a)
//! }
//! LP = { "n": number of variables,
//!        "c": [n costs],               // minimise cᵀx
//!        "upper": [n bounds],          // 0 ≤ x_j ≤ upper_j; null = +∞
//!        "rows": [ { "a": [[j, coeff], ...], "rel": "eq" | "le" | "ge", "rhs": b }, ... ] }
//! ```
//!
//! The LPs are [`nash::solve::clearing::clearing_lps`] verbatim: the programs our clearing
//! solves, whose optimum is −welfare (units × money); the welfare of an instance is
//! `−Σ objectives`. Floats are written by `serde_json` (shortest round-trip representation), so
//! a reader gets the identical `f64`s. Swaps have neither LPs nor a game (closed form; no
//! external reference) and are timed on our side only.
//!
//! # Result line (`solve`, one JSON object per instance per line)
//!
//! `file, class, size, seed, reps, times_s` (seconds per repetition, timing only the solve
//! call: for LP classes the simplex on the file's LPs, summed over resources) and, by class,
//! `welfare` and `objectives` (LP classes; `full_times_s` is the whole clearing including
//! rounding and pricing), `value` (zero-sum, row player's), `row`/`col` (strategies; games) and
//! `epsilon` (our verifier's relative regret of our strategies).

use anyhow::{Context, Result, anyhow, bail};
use nash::challenge::{Challenge, Problem};
use nash::class::ProblemClass;
use nash::config::Config;
use nash::generate::{Difficulty, challenge};
use nash::solve::clearing::clearing_lps;
use nash::solve::lemke_howson::{relative_regret, solve_bimatrix};
use nash::solve::lp::{LinearProgram, Relation};
use nash::solve::reference;
use nash::solve::zero_sum::solve_zero_sum;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The format tag of instance files.
pub const FORMAT: &str = "pin-nash-bench/1";

/// Class names accepted on the command line and written to files.
pub const CLASSES: [(&str, ProblemClass); 6] = [
    ("simple-swap", ProblemClass::SimpleSwap),
    ("constrained-swap", ProblemClass::ConstrainedSwap),
    ("three-party", ProblemClass::ThreeParty),
    ("triangle", ProblemClass::ResourceTriangle),
    ("zero-sum", ProblemClass::ZeroSumGame),
    ("bimatrix", ProblemClass::GeneralGame),
];

/// The class with this command-line name.
pub fn class_named(name: &str) -> Result<ProblemClass> {
    CLASSES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, c)| *c)
        .ok_or_else(|| {
            let names: Vec<&str> = CLASSES.iter().map(|(n, _)| *n).collect();
            anyhow!("unknown class {name:?} (one of {})", names.join(", "))
        })
}

fn class_name(class: ProblemClass) -> &'static str {
    CLASSES
        .iter()
        .find(|(_, c)| *c == class)
        .map_or("?", |(n, _)| *n)
}

/// The difficulty of size `size`: markets get `size` intents (parties for triangles) over 3
/// resources at constraint density 60; games `size` actions per player (the row player `size`
/// or `size + 1`). The same as `crates/nash/benches/solve.rs`.
#[must_use]
pub fn difficulty(class: ProblemClass, size: usize) -> Difficulty {
    if class.is_market() {
        Difficulty {
            parties: size,
            resources: 3,
            actions: 3,
            density: 60,
            indivisible: 0,
        }
    } else {
        Difficulty {
            parties: 2,
            resources: 3,
            actions: size,
            density: 60,
            indivisible: 0,
        }
    }
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

/// The instance file of `class` at `size` from `seed`, as JSON.
#[must_use]
pub fn instance_json(class: ProblemClass, size: usize, seed: u64) -> Value {
    let ch = challenge(class, seed, &difficulty(class, size));
    let mut out = json!({
        "format": FORMAT,
        "class": class_name(class),
        "size": size,
        "seed": seed,
    });
    match &ch.problem {
        Problem::Market(m) if !class.is_bilateral() => {
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
pub fn write_instance(dir: &Path, class: ProblemClass, size: usize, seed: u64) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(format!("{}-{size}-{seed}.json", class_name(class)));
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
        Problem::Market(_) if !ch.class.is_bilateral() => {
            let lps: Vec<LpJson> = serde_json::from_value(file["lps"].clone())
                .with_context(|| format!("{}: lps", path.display()))?;
            let lps: Vec<LinearProgram> = lps.iter().map(LpJson::to_lp).collect::<Result<_>>()?;
            let (objectives, times) = timed(reps, || {
                lps.iter()
                    .map(|lp| Ok(lp.solve(limits)?.objective))
                    .collect::<Result<Vec<f64>>>()
            })?;
            let (_, full) = timed(reps, || Ok(reference(&ch, &config)?))?;
            out["objectives"] = json!(objectives);
            out["welfare"] = json!(-objectives.iter().sum::<f64>());
            out["times_s"] = json!(times);
            out["full_times_s"] = json!(full);
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
        Problem::Bimatrix(g) => {
            let (s, times) = timed(reps, || Ok(solve_bimatrix(g, limits)?))?;
            out["epsilon"] = json!(relative_regret(g, &s.row, &s.col));
            out["row"] = json!(s.row);
            out["col"] = json!(s.col);
            out["times_s"] = json!(times);
        }
        _ => bail!(
            "{}: class {:?} is not benchmarked",
            path.display(),
            ch.class
        ),
    }
    Ok(out)
}
