//! Hand-assembled EVM programs and small helpers shared by the integration tests.
#![allow(dead_code)]

use pin_devchain::{DevChain, Outcome, Tx, dev_accounts};
use revm::primitives::{Address, B256, Bytes, U256};

/// Gas limit used by test transactions.
pub(crate) const GAS: u64 = 1_000_000;

/// With calldata: `SSTORE(0, calldataload(0))`. Without: returns `SLOAD(0)` as a 32-byte word.
pub(crate) const STORE_RUNTIME: &[u8] = &[
    0x36, 0x15, 0x60, 0x0c, 0x57, // CALLDATASIZE ISZERO PUSH1 0x0c JUMPI
    0x60, 0x00, 0x35, 0x60, 0x00, 0x55, 0x00, // SSTORE(0, CALLDATALOAD(0)) STOP
    0x5b, 0x60, 0x00, 0x54, 0x60, 0x00, 0x52, // JUMPDEST MSTORE(0, SLOAD(0))
    0x60, 0x20, 0x60, 0x00, 0xf3, // RETURN(0, 32)
];

/// `SSTORE(0, SLOAD(0) + 1)`.
pub(crate) const INCREMENT_RUNTIME: &[u8] =
    &[0x60, 0x00, 0x54, 0x60, 0x01, 0x01, 0x60, 0x00, 0x55, 0x00];

/// Always `REVERT` with the 4 bytes `0xdeadbeef`.
pub(crate) const REVERT_RUNTIME: &[u8] = &[
    0x63, 0xde, 0xad, 0xbe, 0xef, 0x60, 0x00, 0x52, // MSTORE(0, 0xdeadbeef)
    0x60, 0x04, 0x60, 0x1c, 0xfd, // REVERT(28, 4)
];

/// Emits `LOG1(data = calldataload(0), topic0 = 0x42)`.
pub(crate) const LOG_RUNTIME: &[u8] = &[
    0x60, 0x00, 0x35, 0x60, 0x00, 0x52, // MSTORE(0, CALLDATALOAD(0))
    0x60, 0x42, 0x60, 0x20, 0x60, 0x00, 0xa1, 0x00, // LOG1(0, 32, 0x42) STOP
];

/// Returns the block's `TIMESTAMP` as a 32-byte word.
pub(crate) const TIMESTAMP_RUNTIME: &[u8] = &[0x42, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3];

/// The designated invalid opcode: halts, consuming all gas.
pub(crate) const INVALID_RUNTIME: &[u8] = &[0xfe];

/// Init code that deploys `runtime`: `CODECOPY(0, 11, len) RETURN(0, len)` followed by it.
pub(crate) fn init_code(runtime: &[u8]) -> Bytes {
    let len = u8::try_from(runtime.len()).expect("test runtimes are short");
    let mut code = vec![
        0x60, len, 0x80, 0x60, 0x0b, 0x60, 0x00,
        0x39, // PUSH1 len DUP1 PUSH1 11 PUSH1 0 CODECOPY
        0x60, 0x00, 0xf3, // PUSH1 0 RETURN
    ];
    code.extend_from_slice(runtime);
    code.into()
}

/// Dev account `i`.
pub(crate) fn dev(i: usize) -> Address {
    dev_accounts()[i].0
}

/// A 32-byte big-endian word.
pub(crate) fn word(v: u64) -> Bytes {
    Bytes::from(U256::from(v).to_be_bytes::<32>().to_vec())
}

/// A call with no value.
pub(crate) fn call_tx(from: Address, to: Address, input: Bytes) -> Tx {
    Tx {
        from,
        to: Some(to),
        input,
        value: U256::ZERO,
        gas_limit: GAS,
    }
}

/// Deploys `runtime` from `from` and returns the contract address.
pub(crate) fn deploy(chain: &mut DevChain, from: Address, runtime: &[u8]) -> Address {
    let tx = Tx {
        from,
        to: None,
        input: init_code(runtime),
        value: U256::ZERO,
        gas_limit: GAS,
    };
    match chain.transact(&tx).expect("deploy is valid") {
        Outcome::Success {
            contract_address: Some(a),
            ..
        } => a,
        other => panic!("deploy failed: {other:?}"),
    }
}

/// The tx hash of a successful outcome.
pub(crate) fn tx_hash(outcome: &Outcome) -> B256 {
    match outcome {
        Outcome::Success { tx_hash, .. } => *tx_hash,
        other => panic!("expected success, got {other:?}"),
    }
}
