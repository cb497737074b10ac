//! Running one transaction through revm: the environment (chain config, block, tx) and the
//! translation of revm's results and errors into this crate's types.

use revm::{
    Context, DatabaseRef, ExecuteEvm, MainBuilder, MainContext,
    context::{BlockEnv, CfgEnv, TxEnv},
    context_interface::block::BlobExcessGasAndPrice,
    context_interface::result::{
        EVMError, ExecutionResult, InvalidTransaction, Output, ResultAndState,
    },
    primitives::{
        Address, B256, TxKind, U256, eip4844::BLOB_BASE_FEE_UPDATE_FRACTION_CANCUN,
        hardfork::SpecId,
    },
};

use crate::{BLOCK_GAS_LIMIT, CHAIN_ID, DevChainError, Outcome, Result, Tx};

/// The parts of the block header a transaction can observe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BlockHead {
    pub(crate) number: u64,
    pub(crate) timestamp: u64,
}

fn block_env(head: BlockHead) -> BlockEnv {
    BlockEnv {
        number: U256::from(head.number),
        beneficiary: Address::ZERO,
        timestamp: U256::from(head.timestamp),
        gas_limit: BLOCK_GAS_LIMIT,
        basefee: 0,
        difficulty: U256::ZERO,
        // Post-merge blocks need a prevrandao; a dev chain has no beacon randomness, so use a
        // value derived from the block number (deterministic, differs per block).
        prevrandao: Some(revm::primitives::keccak256(head.number.to_be_bytes())),
        blob_excess_gas_and_price: Some(BlobExcessGasAndPrice::new(
            0,
            BLOB_BASE_FEE_UPDATE_FRACTION_CANCUN,
        )),
        ..Default::default()
    }
}

fn cfg_env() -> CfgEnv {
    CfgEnv::new_with_spec(SpecId::CANCUN).with_chain_id(CHAIN_ID)
}

fn tx_env(tx: &Tx, nonce: u64) -> Result<TxEnv> {
    TxEnv::builder()
        .tx_type(Some(0))
        .caller(tx.from)
        .gas_limit(tx.gas_limit)
        .gas_price(0)
        .kind(match tx.to {
            Some(to) => TxKind::Call(to),
            None => TxKind::Create,
        })
        .value(tx.value)
        .data(tx.input.clone())
        .nonce(nonce)
        .chain_id(Some(CHAIN_ID))
        .build()
        .map_err(|e| DevChainError::InvalidTx {
            account: tx.from,
            reason: format!("{e:?}"),
        })
}

/// Executes `tx` with sender nonce `nonce` on `db` in block `head`; commits nothing.
pub(crate) fn execute<D>(db: D, head: BlockHead, tx: &Tx, nonce: u64) -> Result<ResultAndState>
where
    D: DatabaseRef<Error = DevChainError>,
{
    let mut evm = Context::mainnet()
        .with_ref_db(db)
        .with_cfg(cfg_env())
        .with_block(block_env(head))
        .build_mainnet();
    evm.transact(tx_env(tx, nonce)?)
        .map_err(|e| map_evm_error(tx.from, e))
}

fn map_evm_error(
    account: Address,
    error: EVMError<DevChainError, InvalidTransaction>,
) -> DevChainError {
    match error {
        EVMError::Database(e) => e,
        EVMError::Transaction(InvalidTransaction::LackOfFundForMaxFee { fee, balance }) => {
            DevChainError::InsufficientFunds {
                account,
                balance: *balance,
                needed: *fee,
            }
        }
        EVMError::Transaction(
            InvalidTransaction::NonceTooHigh { tx, state }
            | InvalidTransaction::NonceTooLow { tx, state },
        ) => DevChainError::NonceMismatch { account, tx, state },
        EVMError::Transaction(other) => DevChainError::InvalidTx {
            account,
            reason: other.to_string(),
        },
        EVMError::Header(h) => DevChainError::Evm {
            account,
            reason: h.to_string(),
        },
        EVMError::Custom(reason) => DevChainError::Evm { account, reason },
        EVMError::CustomAny(any) => DevChainError::Evm {
            account,
            reason: any.to_string(),
        },
    }
}

/// Translates revm's result; `tx_hash` is what the transaction is (or would be) known by.
pub(crate) fn outcome(result: ExecutionResult, tx_hash: B256) -> Outcome {
    match result {
        ExecutionResult::Success {
            gas, logs, output, ..
        } => {
            let (output, contract_address) = match output {
                Output::Call(data) => (data, None),
                Output::Create(data, address) => (data, address),
            };
            Outcome::Success {
                tx_hash,
                gas_used: gas.tx_gas_used(),
                output,
                contract_address,
                logs,
            }
        }
        ExecutionResult::Revert { gas, output, .. } => Outcome::Revert {
            gas_used: gas.tx_gas_used(),
            output,
        },
        ExecutionResult::Halt { reason, gas, .. } => Outcome::Halt {
            gas_used: gas.tx_gas_used(),
            reason: format!("{reason:?}"),
        },
    }
}
