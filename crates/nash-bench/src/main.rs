//! `pin-nash-bench`: writes benchmark instances as JSON and times our reference solvers on them.
//! See the library docs (`crates/nash-bench/src/lib.rs`) for the file formats and `bench/run.sh`
//! for the comparison run.

use anyhow::Result;
use clap::{Parser, Subcommand};
use nash_bench::{class_named, instance_files, solve_file, write_instance};
use std::io::Write;
use std::path::PathBuf;

#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Writes `CLASS-SIZE-SEED.json` for every class × size × seed.
    Write {
        /// Classes, comma-separated: simple-swap, constrained-swap, three-party, triangle,
        /// triangle-indivisible, zero-sum, bimatrix, three-player, coalition.
        #[arg(long, value_delimiter = ',', required = true)]
        class: Vec<String>,
        /// Sizes, comma-separated (intents for markets, actions for games).
        #[arg(long, value_delimiter = ',', default_value = "4")]
        sizes: Vec<usize>,
        /// Generator seeds, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "1")]
        seeds: Vec<u64>,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
    },
    /// Solves every `*.json` in DIR, printing one JSON result line per file.
    Solve {
        /// Directory of instance files.
        dir: PathBuf,
        /// Timed repetitions per file.
        #[arg(long, default_value_t = 5)]
        reps: usize,
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Write {
            class,
            sizes,
            seeds,
            out,
        } => {
            for name in &class {
                let c = class_named(name)?;
                for &size in &sizes {
                    for &seed in &seeds {
                        let path = write_instance(&out, c, size, seed)?;
                        eprintln!("wrote {}", path.display());
                    }
                }
            }
        }
        Command::Solve { dir, reps } => {
            let stdout = std::io::stdout();
            for path in instance_files(&dir)? {
                let line = solve_file(&path, reps)?;
                let mut lock = stdout.lock();
                writeln!(lock, "{line}")?;
                lock.flush()?;
            }
        }
    }
    Ok(())
}
