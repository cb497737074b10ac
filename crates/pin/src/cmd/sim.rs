//! `pin sim`: the NASH mechanism's epochs in process — validators, miners with different
//! strategies, verification, scoring, Yuma consensus and the emission root (crate `pin-sim`).
//! `pin sim --adversarial` runs the attack scenario of [`sim::adversarial`] beside its controls.

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use nash::generate::Difficulty;
use serde_json::json;
use sim::adversarial::{self, AdversarialReport};
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
    /// Challenges each validator sends per epoch (the seven classes in turn) [default: 14, or 7
    /// with --adversarial].
    #[arg(long)]
    challenges: Option<usize>,
    /// Seed of challenges, salts and latencies: the same seed gives the same tables and roots.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Instance size.
    #[arg(long, value_enum, default_value_t = Level::Easy)]
    difficulty: Level,
    /// Make the minority validator collude: it multiplies the weights of two weak miners that
    /// do score something (`noisy-1%` and `noisy-30%`) by 1000.
    #[arg(long)]
    collude: bool,
    /// Run the adversarial scenario instead: honest exact miners beside a copier, a sybil (one
    /// solver behind four identities), random answerers, a slow miner, a precomputer replaying
    /// old answers and a fast-enough heuristic, under five validators of which two (25 % of the
    /// stake) collude; with the same run under honest validators and with the sybil as one
    /// identity as controls.
    #[arg(long, conflicts_with = "collude")]
    adversarial: bool,
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

fn percent(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn adversarial_table(r: &AdversarialReport, seed: u64) -> String {
    let mut s = String::new();
    let root = r.roots.last().map(ToString::to_string).unwrap_or_default();
    let _ = writeln!(
        s,
        "adversarial scenario, seed {seed}: {} epochs, {} challenges per epoch ({} validators), \
         {} PIN to miners; emission root {root}\n",
        r.epochs,
        r.challenges,
        r.validators.len(),
        pin(r.miner_emission),
    );
    let _ = writeln!(
        s,
        "{:<12} {:>3} {:>8} {:>10} {:>6} {:>10}   {:>22}",
        "strategy", "ids", "stake", "PIN earned", "share", "PIN/staked", "without collusion"
    );
    for st in &r.strategies {
        let _ = writeln!(
            s,
            "{:<12} {:>3} {:>8} {:>10} {:>6} {:>10.3}   {:>15} {:>6}",
            st.strategy,
            st.identities,
            pin(st.stake),
            pin(st.earned),
            percent(st.share),
            st.per_stake,
            pin(st.earned_without_collusion),
            percent(st.share_without_collusion),
        );
    }
    for sy in &r.sybils {
        let gain = sy.earned as f64 / sy.single_identity_earned.max(1) as f64 - 1.0;
        let _ = writeln!(
            s,
            "\n{} ({} identities, {} PIN staked in all) earned {} PIN; the same solver as one \
             identity staking {} PIN earned {} PIN: splitting {} {:+.1}%",
            sy.strategy,
            sy.identities,
            pin(sy.stake),
            pin(sy.earned),
            pin(sy.stake),
            pin(sy.single_identity_earned),
            if sy.earned > sy.single_identity_earned {
                "gained"
            } else {
                "changed its earnings by"
            },
            gain * 100.0,
        );
    }
    let _ = writeln!(
        s,
        "\n{:<9} {:<8} {:>5}   {:<15} {:<18} PIN earned (honest)",
        "validator", "role", "stake", "trust (honest)", "dividends (honest)"
    );
    for v in &r.validators {
        let trust = format!("{:.3} ({:.3})", v.trust, v.trust_without_collusion);
        let dividends = format!("{:.3} ({:.3})", v.dividends, v.dividends_without_collusion);
        let earned = format!("{} ({})", pin(v.earned), pin(v.earned_without_collusion));
        let _ = writeln!(
            s,
            "{:<9} {:<8} {:>5.2}   {trust:<15} {dividends:<18} {earned}",
            v.label,
            if v.colluding { "colluder" } else { "honest" },
            v.stake,
        );
    }
    let favours: Vec<String> = r
        .validators
        .iter()
        .filter(|v| v.colluding)
        .map(|v| format!("{} favours {}", v.label, v.favours.join(" and ")))
        .collect();
    let _ = write!(
        s,
        "\n({}; trust and dividends are means over the epochs; \"without collusion\" and \"(honest)\" \
         are the same run with every validator honest)",
        favours.join(", ")
    );
    s
}

fn run_adversarial(args: &Sim, difficulty: Difficulty) -> Result<Output> {
    let mut config = SimConfig::adversarial(args.seed);
    if let Some(n) = args.challenges {
        config.challenges_per_epoch = n;
    }
    config.difficulty = difficulty;
    let report = adversarial::run(&config, args.epochs)?;
    Ok(Output::new(
        adversarial_table(&report, args.seed),
        json!({ "scenario": "adversarial", "seed": args.seed, "report": report }),
    ))
}

pub(crate) fn run(args: Sim) -> Result<Output> {
    if args.epochs == 0 {
        bail!("--epochs: at least 1 epoch is required");
    }
    let difficulty = match args.difficulty {
        Level::Easy => Difficulty::easy(),
        Level::Hard => Difficulty::hard(),
    };
    if args.adversarial {
        return run_adversarial(&args, difficulty);
    }
    let mut config = SimConfig::standard(args.seed);
    config.challenges_per_epoch = args.challenges.unwrap_or(14);
    config.difficulty = difficulty;
    if args.collude {
        let friends: Vec<usize> = config
            .miners
            .iter()
            .enumerate()
            .filter(|(_, m)| m.label == "noisy-1%" || m.label == "noisy-30%")
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
