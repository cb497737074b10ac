//! The [`Ledger`]: the narrow interface every chain backend implements.
//!
//! Two backends exist: [`crate::embedded::EmbeddedLedger`] (revm in-process, persisted with redb)
//! and [`crate::rpc::RpcLedger`] (an alloy provider against anvil or any EVM chain). Everything
//! above this trait — the typed protocol client, the `pin` command, the services — is written
//! once against it.

use std::future::Future;

use alloy::primitives::{Address, B256, Bytes, Log, U256};
use alloy::signers::local::PrivateKeySigner;

use crate::Result;

/// A transaction to execute: a call, or a contract creation when `to` is `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TxRequest {
    /// Callee; `None` creates a contract from `input`.
    pub to: Option<Address>,
    /// Calldata, or init code for a creation.
    pub input: Bytes,
    /// Native value sent along.
    pub value: U256,
    /// Gas limit; `None` lets the backend estimate it.
    pub gas_limit: Option<u64>,
}

impl TxRequest {
    /// A call of `to` with `input`.
    #[must_use]
    pub fn call(to: Address, input: impl Into<Bytes>) -> Self {
        Self {
            to: Some(to),
            input: input.into(),
            ..Self::default()
        }
    }

    /// A contract creation from `init_code` (bytecode followed by encoded constructor args).
    #[must_use]
    pub fn create(init_code: impl Into<Bytes>) -> Self {
        Self {
            to: None,
            input: init_code.into(),
            ..Self::default()
        }
    }
}

/// What a mined transaction left behind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// Transaction hash.
    pub tx_hash: B256,
    /// Block the transaction was included in.
    pub block_number: u64,
    /// Gas the transaction used, intrinsic gas included.
    pub gas_used: u64,
    /// Address of the created contract, for creations.
    pub contract_address: Option<Address>,
    /// Logs emitted, in order.
    pub logs: Vec<Log>,
}

/// A chain the protocol runs on.
///
/// `send` simulates before it broadcasts: a transaction that would revert returns
/// [`crate::Error::Reverted`] with the revert data and changes nothing. A transaction that is
/// mined is final for the caller once `send` returns.
pub trait Ledger: Send + Sync {
    /// The chain id (31337 for the embedded chain, as for anvil).
    fn chain_id(&self) -> impl Future<Output = Result<u64>> + Send;

    /// Executes `tx` from `from` against the latest state without changing it and returns its
    /// output. A revert is [`crate::Error::Reverted`].
    fn call(&self, from: Address, tx: &TxRequest) -> impl Future<Output = Result<Bytes>> + Send;

    /// Signs `tx` with `signer`, broadcasts it and waits for its receipt.
    fn send(
        &self,
        signer: &PrivateKeySigner,
        tx: TxRequest,
    ) -> impl Future<Output = Result<Receipt>> + Send;

    /// Timestamp of the latest block, in seconds.
    fn timestamp(&self) -> impl Future<Output = Result<u64>> + Send;

    /// Native-currency balance of `account`, in wei.
    fn native_balance(&self, account: Address) -> impl Future<Output = Result<U256>> + Send;

    /// Moves the chain's clock forward by `seconds` and mines a block (development chains only:
    /// the embedded chain and anvil).
    fn advance_time(&self, seconds: u64) -> impl Future<Output = Result<()>> + Send;
}
