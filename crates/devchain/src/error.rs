//! The crate's one error type.

use std::path::PathBuf;

use revm::primitives::{Address, U256};

/// Everything that can go wrong opening, reading or advancing a [`crate::DevChain`].
///
/// Storage failures keep redb's error as the source and name the operation that failed.
/// A transaction that the EVM refuses before executing it (bad nonce, not enough ETH for its
/// value, gas limit above the block's) is an error, not an [`crate::Outcome`]: nothing was
/// executed and nothing is committed.
#[derive(Debug, thiserror::Error)]
pub enum DevChainError {
    /// Another process (or another `DevChain` in this one) has the chain file open.
    #[error("dev chain {path} is locked: another process has it open")]
    Locked {
        /// The redb file that is locked.
        path: PathBuf,
    },
    /// The chain directory could not be created.
    #[error("cannot create dev chain directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The redb file could not be opened or created.
    #[error("cannot open dev chain database {path}: {source}")]
    Open {
        /// The redb file.
        path: PathBuf,
        /// redb's error.
        source: redb::DatabaseError,
    },
    /// A redb operation failed.
    #[error("dev chain storage failed while {op}: {source}")]
    Storage {
        /// What was being done, e.g. "reading account 0x…".
        op: String,
        /// redb's error.
        source: redb::Error,
    },
    /// Stored data could not be decoded (the file was written by something else, or is damaged).
    #[error("dev chain data is corrupt: {what}")]
    Corrupt {
        /// What could not be decoded.
        what: String,
    },
    /// The sender cannot pay for the transaction's value.
    #[error("account {account} has {balance} wei, the transaction needs {needed} wei")]
    InsufficientFunds {
        /// The sender.
        account: Address,
        /// Its balance.
        balance: U256,
        /// Value (plus fees, which are zero on this chain).
        needed: U256,
    },
    /// The transaction's nonce does not match the sender's.
    #[error("account {account} has nonce {state}, the transaction uses {tx}")]
    NonceMismatch {
        /// The sender.
        account: Address,
        /// The nonce in the transaction.
        tx: u64,
        /// The nonce in the state.
        state: u64,
    },
    /// The EVM refused the transaction for another reason (gas limit, init code size, …).
    #[error("transaction from {account} is invalid: {reason}")]
    InvalidTx {
        /// The sender.
        account: Address,
        /// revm's reason.
        reason: String,
    },
    /// A block-level or internal EVM failure (not the transaction's fault).
    #[error("EVM failure executing a transaction from {account}: {reason}")]
    Evm {
        /// The sender.
        account: Address,
        /// revm's reason.
        reason: String,
    },
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, DevChainError>;

impl DevChainError {
    /// Wraps any redb error with the operation that failed.
    pub(crate) fn storage(op: impl Into<String>, source: impl Into<redb::Error>) -> Self {
        Self::Storage {
            op: op.into(),
            source: source.into(),
        }
    }
}

/// Lets [`DevChainError`] be the error type of the revm database adapter, so a storage failure
/// inside execution comes back unchanged.
impl revm::database_interface::DBErrorMarker for DevChainError {}
