//! Round trip: instances written to files and solved from them give the answers our solvers
//! give on the generated challenges directly.

use nash::challenge::Problem;
use nash::class::ProblemClass;
use nash::config::Config;
use nash::generate::challenge;
use nash::solve::clearing::clearing_lps;
use nash_bench::{LpJson, difficulty, instance_files, solve_file, write_instance};
use std::process::Command;

#[test]
fn lp_json_round_trips_exactly() {
    for class in [ProblemClass::ThreeParty, ProblemClass::ResourceTriangle] {
        let ch = challenge(class, 7, &difficulty(class, 16));
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
fn write_then_solve_agrees_with_direct_solves() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        (ProblemClass::SimpleSwap, 2),
        (ProblemClass::ConstrainedSwap, 2),
        (ProblemClass::ThreeParty, 4),
        (ProblemClass::ResourceTriangle, 8),
        (ProblemClass::ZeroSumGame, 5),
        (ProblemClass::GeneralGame, 6),
    ];
    for (class, size) in cases {
        write_instance(dir.path(), class, size, 3).expect("writes");
    }
    let files = instance_files(dir.path()).expect("lists");
    assert_eq!(files.len(), cases.len());
    let config = Config::default();
    for path in files {
        let r = solve_file(&path, 2).expect("solves");
        assert_eq!(r["times_s"].as_array().map(Vec::len), Some(2), "{r}");
        let class = nash_bench::class_named(r["class"].as_str().expect("class")).expect("known");
        let size = r["size"].as_u64().expect("size") as usize;
        let ch = challenge(class, 3, &difficulty(class, size));
        match &ch.problem {
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
    let err = nash_bench::class_named("poker").expect_err("unknown");
    assert!(err.to_string().contains("three-party"), "{err}");
}
