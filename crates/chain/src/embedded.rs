//! The embedded backend: the [`pin_devchain::DevChain`] (revm in-process, redb on disk) behind
//! the [`Ledger`] trait.
//!
//! The chain is synchronous and single-writer; a mutex serialises access, and each operation
//! is short (one block), so async callers never wait long.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use alloy::primitives::{Address, Bytes, U256};
use alloy::signers::local::PrivateKeySigner;
use pin_devchain::{DevChain, DevChainError, Outcome, Tx};

use crate::ledger::{Ledger, Receipt, TxRequest};
use crate::{Error, Result};

/// Gas limit for transactions that do not set one: the block gas limit.
const DEFAULT_GAS_LIMIT: u64 = 30_000_000;

/// Failures of the embedded chain.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    /// The chain's storage failed.
    #[error("embedded chain: {0}")]
    Chain(#[from] DevChainError),
}

/// A [`Ledger`] on the embedded chain.
#[derive(Debug)]
pub struct EmbeddedLedger {
    chain: Mutex<DevChain>,
    path: Option<PathBuf>,
}

impl EmbeddedLedger {
    /// Opens (or creates) the chain stored in `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        let chain = DevChain::open(dir).map_err(EmbeddedError::from)?;
        Ok(Self {
            chain: Mutex::new(chain),
            path: Some(dir.to_path_buf()),
        })
    }

    /// A chain in memory, gone when dropped (tests, simulations).
    pub fn in_memory() -> Result<Self> {
        let chain = DevChain::in_memory().map_err(EmbeddedError::from)?;
        Ok(Self {
            chain: Mutex::new(chain),
            path: None,
        })
    }

    /// Where the chain is stored, if on disk.
    #[must_use]
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Runs `f` with exclusive access to the chain.
    pub fn with_chain<T>(&self, f: impl FnOnce(&mut DevChain) -> T) -> T {
        f(&mut self.lock())
    }

    fn lock(&self) -> MutexGuard<'_, DevChain> {
        // A panic while holding the lock cannot leave the chain half-written: every block is
        // one redb transaction. So a poisoned lock is safe to reuse.
        self.chain.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn tx(from: Address, request: &TxRequest) -> Tx {
    Tx {
        from,
        to: request.to,
        input: request.input.clone(),
        value: request.value,
        gas_limit: request.gas_limit.unwrap_or(DEFAULT_GAS_LIMIT),
    }
}

fn failure(outcome: Outcome) -> Error {
    match outcome {
        Outcome::Revert { output, .. } => Error::Reverted { data: output },
        Outcome::Halt { reason, .. } => Error::Halted { reason },
        Outcome::Success { tx_hash, .. } => Error::FailedOnChain { tx_hash },
    }
}

impl Ledger for EmbeddedLedger {
    async fn chain_id(&self) -> Result<u64> {
        Ok(pin_devchain::CHAIN_ID)
    }

    async fn call(&self, from: Address, request: &TxRequest) -> Result<Bytes> {
        match self
            .lock()
            .call(&tx(from, request))
            .map_err(EmbeddedError::from)?
        {
            Outcome::Success { output, .. } => Ok(output),
            other => Err(failure(other)),
        }
    }

    async fn send(&self, signer: &PrivateKeySigner, request: TxRequest) -> Result<Receipt> {
        let mut chain = self.lock();
        // The dev chain commits only successful transactions, so executing is simulating: a
        // revert comes back with its data and leaves no trace.
        match chain
            .transact(&tx(signer.address(), &request))
            .map_err(EmbeddedError::from)?
        {
            Outcome::Success {
                tx_hash,
                gas_used,
                contract_address,
                logs,
                ..
            } => Ok(Receipt {
                tx_hash,
                block_number: chain.block_number(),
                gas_used,
                contract_address,
                logs,
            }),
            other => Err(failure(other)),
        }
    }

    async fn timestamp(&self) -> Result<u64> {
        Ok(self.lock().timestamp())
    }

    async fn native_balance(&self, account: Address) -> Result<U256> {
        Ok(self.lock().balance(account).map_err(EmbeddedError::from)?)
    }

    async fn advance_time(&self, seconds: u64) -> Result<()> {
        Ok(self
            .lock()
            .advance_time(seconds)
            .map_err(EmbeddedError::from)?)
    }
}
