//! `pin`: deploy and drive the PIN protocol on the embedded chain or any EVM RPC endpoint.
//!
//! Every subcommand is one module under `cmd/`; this file parses the global options, opens
//! the ledger and turns errors into messages and exit codes:
//! 0 success, 1 failure, 2 bad usage, 3 refused by a contract (nothing changed).

mod accounts;
mod cmd;
mod context;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use crate::context::Context;
use crate::output::Output;

/// The PIN protocol: token, staking, training runs, attestations, rewards and slashing.
#[derive(Debug, Parser)]
#[command(name = "pin", version, about, propagate_version = true)]
struct Cli {
    /// Where the embedded chain and deployment records live.
    #[arg(long, global = true, env = "PIN_DATA_DIR", default_value = ".pin")]
    data_dir: PathBuf,
    /// Use this JSON-RPC endpoint (anvil or any EVM chain) instead of the embedded chain.
    #[arg(long, global = true, env = "PIN_RPC_URL")]
    rpc_url: Option<String>,
    /// Signing key: `dev:N` (the N-th dev account), a 32-byte hex key, or a file holding one.
    #[arg(
        long,
        global = true,
        env = "PIN_KEY",
        default_value = "dev:0",
        hide_env_values = true
    )]
    key: String,
    /// Print results (and errors) as JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: cmd::Command,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PIN_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let json = cli.json;
    let context = Context::new(cli.data_dir, cli.rpc_url, cli.key);
    match runtime.block_on(cmd::run(cli.command, &context)) {
        Ok(output) => {
            output.print(json);
            ExitCode::SUCCESS
        }
        Err(error) => Output::print_error(&error, json),
    }
}
