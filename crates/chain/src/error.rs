//! The crate's error type.

use alloy::primitives::{B256, Bytes};

use crate::embedded::EmbeddedError;
use crate::revert::DecodedRevert;
use crate::rpc::RpcError;
use crate::weights::WeightsError;

/// Everything that can go wrong talking to a chain.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Execution reverted with `data` that no known contract error matches.
    #[error("execution reverted (data {data})")]
    Reverted {
        /// Raw revert data.
        data: Bytes,
    },
    /// Execution reverted with a known contract error.
    #[error("{0}")]
    Contract(DecodedRevert),
    /// Execution halted without revert data (out of gas, invalid opcode, ...).
    #[error("execution halted: {reason}")]
    Halted {
        /// Why the EVM stopped.
        reason: String,
    },
    /// A transaction was mined but failed; the re-simulation gave no reason.
    #[error("transaction {tx_hash} was mined but failed")]
    FailedOnChain {
        /// The failed transaction.
        tx_hash: B256,
    },
    /// The embedded chain failed.
    #[error(transparent)]
    Embedded(#[from] EmbeddedError),
    /// The RPC backend failed.
    #[error(transparent)]
    Rpc(#[from] RpcError),
    /// The protocol has not been deployed where the client looked.
    #[error("no PIN deployment found at {path}: run `pin deploy` first")]
    NotDeployed {
        /// Where the deployment record was expected.
        path: String,
    },
    /// A deployment record could not be read or written.
    #[error("deployment record {path}: {reason}")]
    DeploymentRecord {
        /// The record's path.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// A call returned data that does not decode as the contract's ABI says.
    #[error("cannot decode the return of {function}: {reason}")]
    BadReturn {
        /// The function called.
        function: &'static str,
        /// The decoder's complaint.
        reason: String,
    },
    /// The account has no run it could claim.
    #[error(
        "{account} has nothing to claim: no finished run with its unclaimed valid attestations"
    )]
    NothingToClaim {
        /// The account.
        account: alloy::primitives::Address,
    },
    /// Validator weights the contract would refuse, found before sending.
    #[error("weights refused before sending: {0}")]
    Weights(#[from] WeightsError),
    /// An expected event was not in the receipt.
    #[error("transaction {tx_hash} emitted no {event} event")]
    MissingEvent {
        /// The transaction.
        tx_hash: B256,
        /// The event looked for.
        event: &'static str,
    },
}

/// The crate's result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;
