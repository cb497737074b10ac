//! PIN on an EVM chain: contract bindings, the [`Ledger`] trait with its two backends, and the
//! typed [`Protocol`] client.
//!
//! Layers, bottom up:
//! - [`bindings`]: `sol!` types generated from the committed artifacts in `contracts/artifacts/`.
//! - [`Ledger`]: call, send, read the clock; implemented by [`EmbeddedLedger`] (revm in-process,
//!   persisted under a data directory) and [`RpcLedger`] (anvil or any EVM chain).
//! - [`Protocol`]: every protocol operation, typed, over any ledger; reverts come back as
//!   [`Error::Contract`] with the Solidity error's name and arguments ([`revert`]).
//! - [`AnyLedger`]: picks the backend at run time, for the `pin` command.
//! - [`weights`]: the epoch schedule and the commitment to validator weights, computed as the
//!   emission contract checks it.

pub mod bindings;
pub mod deployment;
pub mod embedded;
pub mod error;
pub mod ledger;
pub mod protocol;
pub mod revert;
pub mod rpc;
#[cfg(any(test, feature = "test-utils"))]
pub mod testing;
pub mod units;
pub mod weights;

mod any;

pub use any::AnyLedger;
pub use deployment::{DeployParams, Deployment};
pub use embedded::EmbeddedLedger;
pub use error::{Error, Result};
pub use ledger::{Ledger, Receipt, TxRequest};
pub use pin_devchain::{CHAIN_ID as DEV_CHAIN_ID, DEV_MNEMONIC, dev_accounts};
pub use protocol::{
    AccountStatus, Claimed, EmissionStatus, ModelId, Participation, Protocol, Role, RunId, RunInfo,
    RunStatus, SettlementRecord, SettlementTerm, Totals,
};
pub use revert::DecodedRevert;
pub use rpc::{RpcLedger, RpcOptions};
pub use units::Pin;
pub use weights::{
    EpochSchedule, MAX_MINERS, RevealedWeights, WeightsError, sorted_weights, weights_commitment,
};
