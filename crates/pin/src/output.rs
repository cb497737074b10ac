//! What a command prints: a line for people, an object for `--json`.

use std::process::ExitCode;

use pin_chain::Error as ChainError;
use serde_json::{Value, json};

/// A command's result.
#[derive(Debug)]
pub(crate) struct Output {
    human: String,
    json: Value,
}

impl Output {
    pub(crate) fn new(human: impl Into<String>, json: Value) -> Self {
        Self {
            human: human.into(),
            json,
        }
    }

    pub(crate) fn print(&self, json: bool) {
        if json {
            println!("{}", self.json);
        } else {
            println!("{}", self.human);
        }
    }

    /// Prints `error` and returns the exit code: 3 when a contract refused, 1 otherwise.
    pub(crate) fn print_error(error: &anyhow::Error, json: bool) -> ExitCode {
        let contract = error
            .chain()
            .find_map(|e| match e.downcast_ref::<ChainError>() {
                Some(ChainError::Contract(revert)) => Some(revert.clone()),
                _ => None,
            });
        let code = if contract.is_some() { 3 } else { 1 };
        if json {
            let detail = contract.as_ref().map(|r| {
                json!({
                    "name": r.name,
                    "args": r.args.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect::<serde_json::Map<_, _>>(),
                })
            });
            println!(
                "{}",
                json!({ "error": format!("{error:#}"), "contract_error": detail })
            );
        } else if contract.is_some() {
            eprintln!("error: refused by the contract: {error:#}");
        } else {
            eprintln!("error: {error:#}");
        }
        ExitCode::from(code)
    }
}
