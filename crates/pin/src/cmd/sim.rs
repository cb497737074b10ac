//! `pin sim`: the NASH mechanism's epochs in process — validators, miners with different
//! strategies, verification, scoring, Yuma consensus and the emission root (crate `pin-sim`).

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use nash::generate::Difficulty;
use serde_json::json;
use sim::{EpochReport, SimConfig, Simulation, TOKEN};
use std::fmt::Write as _;

use crate::output::Output;

/// Instance size.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum Level {
    /// Four parties, three actions per player.
    Easy,
    /// Twelve parties, twelve actions per player.
    Hard,
}

/// `pin sim`.
#[derive(Debug, Args)]
pub(crate) struct Sim {
    /// Epochs to run.
    #[arg(long, default_value_t = 5)]
    epochs: u64,
    /// Challenges each validator sends per epoch (the seven classes in turn).
    #[arg(long, default_value_t = 14)]
    challenges: usize,
    /// Seed of challenges, salts and latencies: the same seed gives the same tables and roots.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Instance size.
    #[arg(long, value_enum, default_value_t = Level::Easy)]
    difficulty: Level,
    /// Make the minority validator collude: it multiplies the copier's and the random miner's
    /// weights by 1000.
    #[arg(long)]
    collude: bool,
}

fn pin(amount: u128) -> String {
    let whole = amount / TOKEN;
    let cents = (amount % TOKEN) / (TOKEN / 100);
    format!("{whole}.{cents:02}")
}

fn table(r: &EpochReport, epochs: u64) -> String {
    let total: u128 = r.miners.iter().map(|m| m.total).sum();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "after {epochs} epochs ({} challenges per epoch), emission root {} over {} accounts\n",
        r.challenges, r.root, r.leaves
    );
    let _ = writeln!(
        s,
        "{:<10} {:>8} {:>9} {:>6} {:>9} {:>5} {:>12} {:>6}",
        "miner", "answered", "frontier", "mean Q", "stratum", "TWF", "PIN earned", "share"
    );
    for m in &r.miners {
        let share = if total == 0 {
            0.0
        } else {
            m.total as f64 / total as f64 * 100.0
        };
        let _ = writeln!(
            s,
            "{:<10} {:>8} {:>8.0}% {:>6.3} {:>9} {:>5.2} {:>12} {:>5.1}%",
            m.label,
            format!("{}/{}", m.answered, m.sent),
            if m.answered == 0 {
                0.0
            } else {
                m.frontier as f64 / m.answered as f64 * 100.0
            },
            m.mean_quality,
            format!("{:?}", m.stratum).to_lowercase(),
            m.twf,
            pin(m.total),
            share
        );
    }
    let _ = writeln!(
        s,
        "\n{:<10} {:>6} {:>6} {:>9} {:>12}",
        "validator", "stake", "trust", "dividends", "PIN earned"
    );
    for (i, v) in r.validators.iter().enumerate() {
        let _ = writeln!(
            s,
            "{:<10} {:>6.2} {:>6.3} {:>9.3} {:>12}",
            format!("v{i}"),
            v.stake,
            v.trust,
            v.dividends,
            pin(v.total)
        );
    }
    let _ = write!(
        s,
        "\n(the table's miner columns are this epoch's, as validator v0 saw them; PIN earned is the running total)"
    );
    s
}

pub(crate) fn run(args: Sim) -> Result<Output> {
    if args.epochs == 0 {
        bail!("--epochs: at least 1 epoch is required");
    }
    let mut config = SimConfig::standard(args.seed);
    config.challenges_per_epoch = args.challenges;
    config.difficulty = match args.difficulty {
        Level::Easy => Difficulty::easy(),
        Level::Hard => Difficulty::hard(),
    };
    if args.collude {
        let friends: Vec<usize> = config
            .miners
            .iter()
            .enumerate()
            .filter(|(_, m)| m.label == "copier" || m.label == "random")
            .map(|(i, _)| i)
            .collect();
        let minority = config.validators.len() - 1;
        config.validators[minority].favours = friends;
        config.validators[minority].collusion_factor = 1000;
    }
    let mut simulation = Simulation::new(config)?;
    let mut roots = Vec::new();
    let mut last = None;
    for e in 0..args.epochs {
        let report = simulation.step()?;
        eprintln!(
            "epoch {}/{}: {} challenges, {} PIN emitted, root {}",
            e + 1,
            args.epochs,
            report.challenges,
            pin(report.emitted),
            report.root
        );
        roots.push(report.root.to_string());
        last = Some(report);
    }
    let Some(report) = last else {
        bail!("no epoch ran");
    };
    let last = serde_json::to_value(&report)?;
    Ok(Output::new(
        table(&report, args.epochs),
        json!({ "epochs": args.epochs, "roots": roots, "last": last }),
    ))
}
