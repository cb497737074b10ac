//! Round trip: instances written to files and solved from them give the answers our solvers
//! give on the generated challenges directly.

use nash::challenge::Problem;
use nash::config::Config;
use nash::generate::challenge;
use nash::solve::clearing::clearing_lps;
use nash::solve::clearing::clearing_milps;
use nash::solve::indivisible::solve_welfare_milp;
use nash_bench::{LpJson, MilpJson, class_named, instance_files, solve_file, write_instance};
use std::process::Command;

#[test]
fn lp_json_round_trips_exactly() {
    for name in ["three-party", "triangle"] {
        let class = class_named(name).expect("known");
        let ch = challenge(class.class, 7, &class.difficulty(16));
        let Problem::Market(m) = &ch.problem else {
            panic!("market expected")
        };
        for lp in clearing_lps(m) {
            let json = serde_json::to_string(&LpJson::from_lp(&lp)).expect("serialises");
            let back: LpJson = serde_json::from_str(&json).expect("parses");
            assert_eq!(back, LpJson::from_lp(&lp));
            let limits = Config::default().solver;
            let (a, b) = (
                lp.solve(&limits).expect("solves"),
                back.to_lp().expect("valid").solve(&limits).expect("solves"),
            );
            assert_eq!(a.objective.to_bits(), b.objective.to_bits());
        }
    }
}

#[test]
fn milp_json_round_trips_exactly() {
    let class = class_named("triangle-indivisible").expect("known");
    let ch = challenge(class.class, 5, &class.difficulty(8));
    let Problem::Market(m) = &ch.problem else {
        panic!("market expected")
    };
    let milps = clearing_milps(m);
    assert!(!milps.is_empty(), "an indivisible market needs the MILP");
    let limits = Config::default().solver;
    for w in &milps {
        let json = serde_json::to_string(&MilpJson::from_milp(w)).expect("serialises");
        let back: MilpJson = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, MilpJson::from_milp(w));
        let rebuilt = back.to_milp().expect("valid");
        assert!(rebuilt.integer.iter().any(|&b| b), "some integral column");
        let a = solve_welfare_milp(&w.problem, w.first_extra, &limits).expect("solves");
        let b = solve_welfare_milp(&rebuilt, back.first_extra, &limits).expect("solves");
        assert_eq!(a.objective.to_bits(), b.objective.to_bits());
    }
}

#[test]
fn write_then_solve_agrees_with_direct_solves() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        ("simple-swap", 2),
        ("constrained-swap", 2),
        ("three-party", 4),
        ("triangle", 8),
        ("triangle-indivisible", 6),
        ("zero-sum", 5),
        ("bimatrix", 6),
        ("three-player", 3),
        ("coalition", 6),
    ];
    for (name, size) in cases {
        let class = class_named(name).expect("known");
        write_instance(dir.path(), class, size, 3).expect("writes");
    }
    let files = instance_files(dir.path()).expect("lists");
    assert_eq!(files.len(), cases.len());
    let config = Config::default();
    for path in files {
        let r = solve_file(&path, 2).expect("solves");
        assert_eq!(r["times_s"].as_array().map(Vec::len), Some(2), "{r}");
        let bench = class_named(r["class"].as_str().expect("class")).expect("known");
        let size = r["size"].as_u64().expect("size") as usize;
        let class = bench.class;
        let ch = challenge(class, 3, &bench.difficulty(size));
        match &ch.problem {
            Problem::Market(m) if bench.sizing == nash_bench::Sizing::Indivisible => {
                let milps = clearing_milps(m);
                assert!(!milps.is_empty(), "{}: no MILP component", path.display());
                let direct: f64 = milps
                    .iter()
                    .map(|w| {
                        solve_welfare_milp(&w.problem, w.first_extra, &config.solver)
                            .expect("solves")
                            .objective
                    })
                    .sum();
                assert_eq!(r["welfare"].as_f64(), Some(-direct), "{}", path.display());
                assert!(r["nodes"].as_u64().expect("nodes") >= 1);
            }
            Problem::Market(m) if !class.is_bilateral() => {
                let direct: f64 = clearing_lps(m)
                    .iter()
                    .map(|lp| lp.solve(&config.solver).expect("solves").objective)
                    .sum();
                let welfare = r["welfare"].as_f64().expect("welfare");
                assert_eq!(welfare, -direct, "{}", path.display());
                assert!(welfare >= 0.0);
            }
            Problem::ZeroSum(g) => {
                let s = nash::solve::zero_sum::solve_zero_sum(g, &config.solver).expect("solves");
                assert_eq!(r["value"].as_f64(), Some(s.value));
                assert_eq!(r["row"].as_array().map(Vec::len), Some(g.rows));
            }
            Problem::Bimatrix(g) => {
                assert!(r["epsilon"].as_f64().expect("epsilon") <= 1e-9);
                assert_eq!(r["col"].as_array().map(Vec::len), Some(g.cols));
            }
            _ => {}
        }
    }
}

#[test]
fn the_binary_writes_and_solves() {
    let dir = tempfile::tempdir().expect("tempdir");
    let exe = env!("CARGO_BIN_EXE_pin-nash-bench");
    let status = Command::new(exe)
        .args([
            "write",
            "--class",
            "three-party,zero-sum",
            "--sizes",
            "4,6",
            "--seeds",
            "1,2",
        ])
        .arg("--out")
        .arg(dir.path())
        .status()
        .expect("runs");
    assert!(status.success());
    let out = Command::new(exe)
        .args(["solve", "--reps", "1"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 8);
    assert!(
        lines
            .iter()
            .all(|l| l["times_s"].as_array().map(Vec::len) == Some(1))
    );
}

#[test]
fn unknown_classes_are_refused_by_name() {
    let err = class_named("poker").expect_err("unknown");
    assert!(err.to_string().contains("three-party"), "{err}");
}
