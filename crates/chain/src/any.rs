//! A ledger chosen at run time.

use alloy::primitives::{Address, Bytes, U256};
use alloy::signers::local::PrivateKeySigner;

use crate::Result;
use crate::embedded::EmbeddedLedger;
use crate::ledger::{Ledger, Receipt, TxRequest};
use crate::rpc::RpcLedger;

/// Either backend, for programs that choose with a flag (`pin --rpc-url`).
#[derive(Debug)]
pub enum AnyLedger {
    /// The embedded chain.
    Embedded(EmbeddedLedger),
    /// A JSON-RPC endpoint.
    Rpc(RpcLedger),
}

macro_rules! dispatch {
    ($self:ident, $l:ident => $e:expr) => {
        match $self {
            AnyLedger::Embedded($l) => $e,
            AnyLedger::Rpc($l) => $e,
        }
    };
}

impl Ledger for AnyLedger {
    async fn chain_id(&self) -> Result<u64> {
        dispatch!(self, l => l.chain_id().await)
    }

    async fn call(&self, from: Address, tx: &TxRequest) -> Result<Bytes> {
        dispatch!(self, l => l.call(from, tx).await)
    }

    async fn send(&self, signer: &PrivateKeySigner, tx: TxRequest) -> Result<Receipt> {
        dispatch!(self, l => l.send(signer, tx).await)
    }

    async fn timestamp(&self) -> Result<u64> {
        dispatch!(self, l => l.timestamp().await)
    }

    async fn native_balance(&self, account: Address) -> Result<U256> {
        dispatch!(self, l => l.native_balance(account).await)
    }

    async fn advance_time(&self, seconds: u64) -> Result<()> {
        dispatch!(self, l => l.advance_time(seconds).await)
    }
}
