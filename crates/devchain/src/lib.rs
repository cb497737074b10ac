//! An embedded EVM development chain: real contract bytecode executed in-process by
//! [revm](https://github.com/bluealloy/revm), the state persisted crash-safely in a
//! [redb](https://github.com/cberner/redb) file.
//!
//! It lets PIN run its contracts on a fresh machine with nothing else installed (no anvil, no
//! node). It knows nothing about any ABI: callers pass raw calldata and get raw output and logs
//! back.
//!
//! # How it layers
//!
//! * `store` — the redb tables (accounts, storage, bytecode, receipts, logs by block, head
//!   metadata) and `Tables`, an adapter from a redb transaction to revm's `DatabaseRef`
//!   (the same role as reth's `crates/revm/src/database.rs`). Opening a chain reads the head
//!   from the file; it never replays history.
//! * `exec` — one transaction through revm (Cancun rules, chain id [`CHAIN_ID`]).
//! * [`DevChain`] — blocks: it executes transactions inside one redb write transaction, applies
//!   each successful transaction's state changes to that transaction's tables (so the next
//!   transaction of the block sees them), and commits block, state, receipts and head with
//!   [`redb::Durability::Immediate`]. A process killed at any point leaves either the whole
//!   block or none of it.
//!
//! # Semantics that differ from a public chain
//!
//! * **Refused transactions change nothing.** A transaction whose execution reverts or halts is
//!   *not* committed: no nonce bump, no block, no receipt. Only [`Outcome::Success`] is
//!   committed. So a caller can treat "the contract refused" exactly like "nothing happened".
//! * **No fees.** Gas price and base fee are 0, so no ETH is ever burnt or paid to a
//!   coinbase: dev accounts never need ETH management, and value transfers conserve the total
//!   supply exactly. Gas is still metered (`gas_limit` bounds execution, `gas_used` is reported),
//!   and the block gas limit is [`BLOCK_GAS_LIMIT`].
//! * **Unsigned transactions.** A [`Tx`] names its sender; there is no signature. Its hash
//!   ([`Tx::hash`]) is keccak256 of a deterministic encoding of (chain id, from, nonce, to,
//!   value, input), not the hash of a signed Ethereum transaction.
//! * **Time.** A block's timestamp is `max(previous, wall clock + offset)`, where the
//!   offset only grows through [`DevChain::advance_time`] and is persisted. Blocks in the same
//!   second share it (non-decreasing, not strictly increasing): with one block per
//!   transaction, a strict rule would run the chain's clock ahead of the wall clock by a
//!   second per transaction, and the network's epochs are read off that clock.
//!
//! # Example
//!
//! ```
//! use pin_devchain::{DevChain, Outcome, Tx, dev_accounts};
//! use revm::primitives::{Bytes, U256};
//!
//! let mut chain = DevChain::in_memory()?;
//! let (alice, _) = dev_accounts()[0];
//! let (bob, _) = dev_accounts()[1];
//! let tx = Tx { from: alice, to: Some(bob), input: Bytes::new(), value: U256::from(5), gas_limit: 21_000 };
//! assert!(matches!(chain.transact(&tx)?, Outcome::Success { .. }));
//! assert_eq!(chain.block_number(), 1);
//! # Ok::<(), pin_devchain::DevChainError>(())
//! ```

mod error;
mod exec;
mod store;

use std::{
    path::{Path, PathBuf},
    sync::OnceLock,
    time::{SystemTime, UNIX_EPOCH},
};

use alloy::signers::local::MnemonicBuilder;
use redb::{Durability, ReadableDatabase, ReadableTable, WriteTransaction};
use revm::{
    context_interface::result::ResultAndState,
    primitives::{Address, B256, Bytes, KECCAK_EMPTY, Log, U256, keccak256, uint},
};
use serde::{Deserialize, Serialize};

pub use error::{DevChainError, Result};
use exec::BlockHead;
use store::{AccountRecord, ReadTables, WriteTables};

/// The chain id (anvil's default).
pub const CHAIN_ID: u64 = 31337;

/// The block gas limit.
pub const BLOCK_GAS_LIMIT: u64 = 30_000_000;

/// The mnemonic anvil derives its dev accounts from.
pub const DEV_MNEMONIC: &str = "test test test test test test test test test test test junk";

/// How many dev accounts are derived and funded at genesis.
pub const DEV_ACCOUNT_COUNT: u32 = 10;

/// The genesis balance of each dev account: 10,000 ETH, as anvil.
pub const DEV_BALANCE: U256 = uint!(10_000_000_000_000_000_000_000_U256);

/// The first [`DEV_ACCOUNT_COUNT`] accounts anvil derives from [`DEV_MNEMONIC`]
/// (`m/44'/60'/0'/0/i`), as (address, private key). Account 0 is
/// `0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266`.
///
/// Derived once per process and cached.
pub fn dev_accounts() -> Vec<(Address, B256)> {
    static ACCOUNTS: OnceLock<Vec<(Address, B256)>> = OnceLock::new();
    ACCOUNTS
        .get_or_init(|| {
            (0..DEV_ACCOUNT_COUNT)
                .map(|i| {
                    // The phrase and the index are constants; derivation cannot fail on them.
                    let signer = MnemonicBuilder::from_phrase(DEV_MNEMONIC)
                        .index(i)
                        .and_then(|b| b.build())
                        .expect("DEV_MNEMONIC derives at every index");
                    (signer.address(), signer.to_bytes())
                })
                .collect()
        })
        .clone()
}

/// A transaction to execute. There is no signature: `from` is trusted (see the crate docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tx {
    /// The sender.
    pub from: Address,
    /// The callee, or `None` to deploy `input` as init code.
    pub to: Option<Address>,
    /// Calldata or init code.
    pub input: Bytes,
    /// Wei sent along.
    pub value: U256,
    /// Gas available to the transaction (at most [`BLOCK_GAS_LIMIT`]).
    pub gas_limit: u64,
}

impl Tx {
    /// The hash this transaction has when sent with sender nonce `nonce`: keccak256 of
    /// `chain_id (8 B BE) ‖ from (20) ‖ nonce (8 B BE) ‖ 0x00 | 0x01 ‖ to (20, if any) ‖
    /// value (32 B BE) ‖ input length (8 B BE) ‖ input`. Not a signed-transaction hash.
    pub fn hash(&self, nonce: u64) -> B256 {
        let mut buf = Vec::with_capacity(8 + 20 + 8 + 21 + 32 + 8 + self.input.len());
        buf.extend_from_slice(&CHAIN_ID.to_be_bytes());
        buf.extend_from_slice(self.from.as_slice());
        buf.extend_from_slice(&nonce.to_be_bytes());
        match self.to {
            Some(to) => {
                buf.push(1);
                buf.extend_from_slice(to.as_slice());
            }
            None => buf.push(0),
        }
        buf.extend_from_slice(&self.value.to_be_bytes::<32>());
        buf.extend_from_slice(&(self.input.len() as u64).to_be_bytes());
        buf.extend_from_slice(&self.input);
        keccak256(&buf)
    }
}

/// What executing a transaction produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Executed to completion; committed by `transact*`.
    Success {
        /// The transaction's hash ([`Tx::hash`]).
        tx_hash: B256,
        /// Gas used after refunds.
        gas_used: u64,
        /// Return data of a call (a deployment returns the deployed code).
        output: Bytes,
        /// The new contract's address for a deployment.
        contract_address: Option<Address>,
        /// Logs emitted.
        logs: Vec<Log>,
    },
    /// Reverted by `REVERT`; not committed.
    Revert {
        /// Gas used.
        gas_used: u64,
        /// The revert data (e.g. an ABI-encoded custom error).
        output: Bytes,
    },
    /// Halted exceptionally (out of gas, invalid opcode, …); not committed.
    Halt {
        /// Gas used (normally the whole limit).
        gas_used: u64,
        /// revm's halt reason, formatted.
        reason: String,
    },
}

impl Outcome {
    /// Whether this is [`Outcome::Success`].
    pub fn is_success(&self) -> bool {
        matches!(self, Self::Success { .. })
    }
}

/// The receipt of a committed transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredReceipt {
    /// The transaction's hash ([`Tx::hash`]).
    pub tx_hash: B256,
    /// The block it was committed in.
    pub block_number: u64,
    /// Always `true` today: only successful transactions are committed.
    pub success: bool,
    /// Gas used after refunds.
    pub gas_used: u64,
    /// The new contract's address for a deployment.
    pub contract_address: Option<Address>,
    /// Logs emitted, in order.
    pub logs: Vec<Log>,
}

/// The latest block, as kept in memory and in the `meta` table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Head {
    number: u64,
    timestamp: u64,
    time_offset: u64,
    hash: B256,
}

/// The embedded chain. One owner at a time: the redb file is locked while it is open.
pub struct DevChain {
    db: redb::Database,
    head: Head,
}

impl std::fmt::Debug for DevChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevChain")
            .field("head", &self.head)
            .finish_non_exhaustive()
    }
}

fn wall_clock_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn block_hash(parent: B256, number: u64, timestamp: u64, txs: &[B256]) -> B256 {
    let mut buf = Vec::with_capacity(32 + 16 + 32 * txs.len());
    buf.extend_from_slice(parent.as_slice());
    buf.extend_from_slice(&number.to_be_bytes());
    buf.extend_from_slice(&timestamp.to_be_bytes());
    for tx in txs {
        buf.extend_from_slice(tx.as_slice());
    }
    keccak256(&buf)
}

impl DevChain {
    /// Opens the chain in `dir` (file `dir/chain.redb`), creating the directory and writing
    /// genesis (each of [`dev_accounts`] funded with [`DEV_BALANCE`]) on first open.
    ///
    /// Returns [`DevChainError::Locked`] if another process, or another `DevChain` in this
    /// process, has it open.
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|source| DevChainError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join("chain.redb");
        let db = match redb::Database::create(&path) {
            Ok(db) => db,
            Err(redb::DatabaseError::DatabaseAlreadyOpen) => {
                return Err(DevChainError::Locked { path });
            }
            Err(source) => return Err(DevChainError::Open { path, source }),
        };
        Self::init(db)
    }

    /// A chain held in memory only (for tests), with the same genesis.
    pub fn in_memory() -> Result<Self> {
        let db = redb::Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .map_err(|source| DevChainError::Open {
                path: PathBuf::from(":memory:"),
                source,
            })?;
        Self::init(db)
    }

    /// Reads the head, writing genesis first if the file is new.
    fn init(db: redb::Database) -> Result<Self> {
        let wtx = begin_write(&db)?;
        let existing = {
            let meta = wtx
                .open_table(store::META)
                .map_err(|e| DevChainError::storage("opening table meta", e))?;
            read_head(&meta)?
        };
        if let Some(mut head) = existing {
            head.hash = {
                let tables = WriteTables::open(&wtx)?;
                revm::DatabaseRef::block_hash_ref(&tables, head.number)?
            };
            wtx.abort()
                .map_err(|e| DevChainError::storage("ending the open transaction", e))?;
            tracing::debug!(number = head.number, "opened dev chain");
            return Ok(Self { db, head });
        }
        let timestamp = wall_clock_secs();
        let head = Head {
            number: 0,
            timestamp,
            time_offset: 0,
            hash: block_hash(B256::ZERO, 0, timestamp, &[]),
        };
        {
            let mut tables = WriteTables::open(&wtx)?;
            for (address, _) in dev_accounts() {
                let record = AccountRecord {
                    balance: DEV_BALANCE,
                    nonce: 0,
                    code_hash: KECCAK_EMPTY,
                };
                tables.put_account(address, &record)?;
            }
            // Create the remaining tables so readers can open them.
            wtx.open_table(store::RECEIPTS)
                .map_err(|e| DevChainError::storage("creating table receipts", e))?;
            wtx.open_table(store::BLOCK_TXS)
                .map_err(|e| DevChainError::storage("creating table block_txs", e))?;
            write_head(&wtx, &mut tables, &head)?;
        }
        wtx.commit()
            .map_err(|e| DevChainError::storage("committing genesis", e))?;
        tracing::debug!(timestamp, "wrote dev chain genesis");
        Ok(Self { db, head })
    }

    /// The environment of the next block: number + 1, timestamp
    /// `max(previous, wall clock + offset)`.
    fn next_block(&self) -> BlockHead {
        let clock = wall_clock_secs().saturating_add(self.head.time_offset);
        BlockHead {
            number: self.head.number.saturating_add(1),
            timestamp: clock.max(self.head.timestamp),
        }
    }

    /// Executes `tx` in a new block. Only a [`Outcome::Success`] is committed; a revert or halt
    /// leaves the chain exactly as it was (see the crate docs). A transaction the EVM refuses
    /// before executing (e.g. [`DevChainError::InsufficientFunds`]) is an error.
    pub fn transact(&mut self, tx: &Tx) -> Result<Outcome> {
        let mut outcomes = self.transact_block(std::slice::from_ref(tx))?;
        outcomes.pop().ok_or_else(|| DevChainError::Evm {
            account: tx.from,
            reason: "a one-transaction block produced no outcome".to_owned(),
        })
    }

    /// Executes `txs` in order in ONE new block, each on the state the previous ones left.
    /// Reverted or halted transactions are skipped (their outcome is returned, nothing of them
    /// is kept). The block and all successful transactions are committed in one durable redb
    /// write transaction; a block is mined only if at least one transaction succeeded.
    ///
    /// If any transaction is refused by the EVM before execution (invalid nonce, insufficient
    /// funds, gas limit above the block's), or storage fails, the whole block is discarded
    /// and the error returned: all or nothing.
    pub fn transact_block(&mut self, txs: &[Tx]) -> Result<Vec<Outcome>> {
        let block = self.next_block();
        let wtx = begin_write(&self.db)?;
        let mut outcomes = Vec::with_capacity(txs.len());
        let mut receipts = Vec::new();
        let new_head = {
            let mut tables = WriteTables::open(&wtx)?;
            for tx in txs {
                let nonce = tables.account(tx.from)?.map_or(0, |a| a.nonce);
                let tx_hash = tx.hash(nonce);
                let ResultAndState { result, state } = exec::execute(&tables, block, tx, nonce)?;
                if result.is_success() {
                    tables.apply(state)?;
                }
                let outcome = exec::outcome(result, tx_hash);
                if let Outcome::Success {
                    gas_used,
                    contract_address,
                    logs,
                    ..
                } = &outcome
                {
                    receipts.push(StoredReceipt {
                        tx_hash,
                        block_number: block.number,
                        success: true,
                        gas_used: *gas_used,
                        contract_address: *contract_address,
                        logs: logs.clone(),
                    });
                }
                outcomes.push(outcome);
            }
            if receipts.is_empty() {
                None
            } else {
                Some(self.write_block(&wtx, &mut tables, block, &receipts)?)
            }
        };
        match new_head {
            Some(head) => {
                wtx.commit().map_err(|e| {
                    DevChainError::storage(format!("committing block {}", block.number), e)
                })?;
                tracing::debug!(
                    number = head.number,
                    txs = receipts.len(),
                    skipped = txs.len() - receipts.len(),
                    "committed block"
                );
                self.head = head;
            }
            None => wtx
                .abort()
                .map_err(|e| DevChainError::storage("discarding an empty block", e))?,
        }
        Ok(outcomes)
    }

    /// Writes block `block` (its hash, its transactions' receipts, the new head) into `wtx`.
    fn write_block(
        &self,
        wtx: &WriteTransaction,
        tables: &mut WriteTables<'_>,
        block: BlockHead,
        receipts: &[StoredReceipt],
    ) -> Result<Head> {
        let tx_hashes: Vec<B256> = receipts.iter().map(|r| r.tx_hash).collect();
        let head = Head {
            number: block.number,
            timestamp: block.timestamp,
            time_offset: self.head.time_offset,
            hash: block_hash(self.head.hash, block.number, block.timestamp, &tx_hashes),
        };
        if !receipts.is_empty() {
            let mut table = wtx
                .open_table(store::RECEIPTS)
                .map_err(|e| DevChainError::storage("opening table receipts", e))?;
            for receipt in receipts {
                let raw = store::encode_receipt(receipt)?;
                table
                    .insert(&receipt.tx_hash.0, raw.as_slice())
                    .map_err(|e| {
                        DevChainError::storage(format!("writing receipt {}", receipt.tx_hash), e)
                    })?;
            }
            let mut block_txs = wtx
                .open_table(store::BLOCK_TXS)
                .map_err(|e| DevChainError::storage("opening table block_txs", e))?;
            let list: Vec<u8> = tx_hashes.iter().flat_map(|h| h.0).collect();
            block_txs
                .insert(block.number, list.as_slice())
                .map_err(|e| {
                    DevChainError::storage(format!("writing txs of block {}", block.number), e)
                })?;
        }
        write_head(wtx, tables, &head)?;
        Ok(head)
    }

    /// Executes `tx` against the latest state in the pending next block's environment and
    /// commits nothing.
    pub fn call(&self, tx: &Tx) -> Result<Outcome> {
        let block = self.next_block();
        let rtx = begin_read(&self.db)?;
        let tables = ReadTables::open(&rtx)?;
        let nonce = tables.account(tx.from)?.map_or(0, |a| a.nonce);
        let ResultAndState { result, .. } = exec::execute(&tables, block, tx, nonce)?;
        Ok(exec::outcome(result, tx.hash(nonce)))
    }

    /// Adds `seconds` to the persistent clock offset and mines an empty block, so the latest
    /// timestamp moves forward by at least `seconds`.
    pub fn advance_time(&mut self, seconds: u64) -> Result<()> {
        let time_offset = self.head.time_offset.saturating_add(seconds);
        let clock = wall_clock_secs().saturating_add(time_offset);
        let number = self.head.number.saturating_add(1);
        // At least `seconds` after the latest block, even if the wall clock is behind it.
        let timestamp = clock.max(self.head.timestamp.saturating_add(seconds.max(1)));
        let head = Head {
            number,
            timestamp,
            time_offset,
            hash: block_hash(self.head.hash, number, timestamp, &[]),
        };
        let wtx = begin_write(&self.db)?;
        {
            let mut tables = WriteTables::open(&wtx)?;
            write_head(&wtx, &mut tables, &head)?;
        }
        wtx.commit()
            .map_err(|e| DevChainError::storage(format!("committing empty block {number}"), e))?;
        self.head = head;
        Ok(())
    }

    /// The latest block's number (0 = genesis).
    pub fn block_number(&self) -> u64 {
        self.head.number
    }

    /// The latest block's timestamp (seconds since the Unix epoch, plus the offset).
    pub fn timestamp(&self) -> u64 {
        self.head.timestamp
    }

    /// The latest block's hash (see the crate docs: a hash of this chain's own header fields).
    pub fn block_hash(&self) -> B256 {
        self.head.hash
    }

    /// Balance of `a` in wei.
    pub fn balance(&self, a: Address) -> Result<U256> {
        Ok(self.read_account(a)?.map_or(U256::ZERO, |r| r.balance))
    }

    /// Nonce of `a`.
    pub fn nonce(&self, a: Address) -> Result<u64> {
        Ok(self.read_account(a)?.map_or(0, |r| r.nonce))
    }

    /// Deployed code of `a` (empty if none).
    pub fn code(&self, a: Address) -> Result<Bytes> {
        let rtx = begin_read(&self.db)?;
        let tables = ReadTables::open(&rtx)?;
        match tables.account(a)? {
            Some(record) => tables.code(record.code_hash),
            None => Ok(Bytes::new()),
        }
    }

    /// Storage slot `slot` of `a` (zero if never written).
    pub fn storage(&self, a: Address, slot: U256) -> Result<U256> {
        let rtx = begin_read(&self.db)?;
        ReadTables::open(&rtx)?.slot(a, slot)
    }

    /// The receipt of a committed transaction.
    pub fn receipt(&self, tx_hash: B256) -> Result<Option<StoredReceipt>> {
        let rtx = begin_read(&self.db)?;
        let table = rtx
            .open_table(store::RECEIPTS)
            .map_err(|e| DevChainError::storage("opening table receipts", e))?;
        let found = table
            .get(&tx_hash.0)
            .map_err(|e| DevChainError::storage(format!("reading receipt {tx_hash}"), e))?;
        found
            .map(|guard| store::decode_receipt(tx_hash, guard.value()))
            .transpose()
    }

    /// Logs of blocks `from_block..=to_block`, optionally only those emitted by `address`, in
    /// chain order, each with its block number and transaction hash.
    pub fn logs(
        &self,
        from_block: u64,
        to_block: u64,
        address: Option<Address>,
    ) -> Result<Vec<(u64, B256, Log)>> {
        let mut out = Vec::new();
        if from_block > to_block {
            return Ok(out);
        }
        let rtx = begin_read(&self.db)?;
        let block_txs = rtx
            .open_table(store::BLOCK_TXS)
            .map_err(|e| DevChainError::storage("opening table block_txs", e))?;
        let receipts = rtx
            .open_table(store::RECEIPTS)
            .map_err(|e| DevChainError::storage("opening table receipts", e))?;
        let op = || format!("reading blocks {from_block}..={to_block}");
        for entry in block_txs
            .range(from_block..=to_block)
            .map_err(|e| DevChainError::storage(op(), e))?
        {
            let (number, list) = entry.map_err(|e| DevChainError::storage(op(), e))?;
            let number = number.value();
            for chunk in list.value().chunks(32) {
                let tx_hash = B256::try_from(chunk).map_err(|_| DevChainError::Corrupt {
                    what: format!("tx list of block {number} is not a multiple of 32 bytes"),
                })?;
                let raw = receipts
                    .get(&tx_hash.0)
                    .map_err(|e| DevChainError::storage(format!("reading receipt {tx_hash}"), e))?
                    .ok_or_else(|| DevChainError::Corrupt {
                        what: format!("block {number} lists tx {tx_hash} without a receipt"),
                    })?;
                let receipt = store::decode_receipt(tx_hash, raw.value())?;
                out.extend(
                    receipt
                        .logs
                        .into_iter()
                        .filter(|log| address.is_none_or(|a| log.address == a))
                        .map(|log| (number, tx_hash, log)),
                );
            }
        }
        Ok(out)
    }

    fn read_account(&self, a: Address) -> Result<Option<AccountRecord>> {
        let rtx = begin_read(&self.db)?;
        ReadTables::open(&rtx)?.account(a)
    }
}

fn begin_read(db: &redb::Database) -> Result<redb::ReadTransaction> {
    db.begin_read()
        .map_err(|e| DevChainError::storage("beginning a read transaction", e))
}

/// A write transaction that is durable once committed.
fn begin_write(db: &redb::Database) -> Result<WriteTransaction> {
    let mut wtx = db
        .begin_write()
        .map_err(|e| DevChainError::storage("beginning a write transaction", e))?;
    wtx.set_durability(Durability::Immediate)
        .map_err(|e| DevChainError::storage("setting immediate durability", e))?;
    Ok(wtx)
}

fn read_head(meta: &impl ReadableTable<&'static str, u64>) -> Result<Option<Head>> {
    let get = |key: &str| -> Result<Option<u64>> {
        Ok(meta
            .get(key)
            .map_err(|e| DevChainError::storage(format!("reading meta {key}"), e))?
            .map(|g| g.value()))
    };
    let Some(number) = get(store::META_NUMBER)? else {
        return Ok(None);
    };
    let missing = |key: &str| DevChainError::Corrupt {
        what: format!("meta {key} missing at block {number}"),
    };
    let timestamp = get(store::META_TIMESTAMP)?.ok_or_else(|| missing(store::META_TIMESTAMP))?;
    let time_offset =
        get(store::META_TIME_OFFSET)?.ok_or_else(|| missing(store::META_TIME_OFFSET))?;
    Ok(Some(Head {
        number,
        timestamp,
        time_offset,
        // Filled in by the caller from the block_hashes table.
        hash: B256::ZERO,
    }))
}

/// Records `head` as the latest block: its hash and the meta entries.
fn write_head(wtx: &WriteTransaction, tables: &mut WriteTables<'_>, head: &Head) -> Result<()> {
    tables
        .block_hashes
        .insert(head.number, &head.hash.0)
        .map_err(|e| DevChainError::storage(format!("writing hash of block {}", head.number), e))?;
    let mut meta = wtx
        .open_table(store::META)
        .map_err(|e| DevChainError::storage("opening table meta", e))?;
    for (key, value) in [
        (store::META_NUMBER, head.number),
        (store::META_TIMESTAMP, head.timestamp),
        (store::META_TIME_OFFSET, head.time_offset),
    ] {
        meta.insert(key, value)
            .map_err(|e| DevChainError::storage(format!("writing meta {key}"), e))?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn transfer(from: Address, value: u64) -> Tx {
        Tx {
            from,
            to: Some(Address::repeat_byte(9)),
            input: Bytes::new(),
            value: U256::from(value),
            gas_limit: 21_000,
        }
    }

    #[test]
    fn tx_hash_covers_every_field() {
        let base = Tx {
            input: Bytes::from_static(b"abc"),
            ..transfer(Address::repeat_byte(1), 5)
        };
        let variants = [
            Tx {
                from: Address::repeat_byte(2),
                ..base.clone()
            },
            Tx {
                to: None,
                ..base.clone()
            },
            Tx {
                to: Some(Address::repeat_byte(3)),
                ..base.clone()
            },
            Tx {
                input: Bytes::from_static(b"abd"),
                ..base.clone()
            },
            Tx {
                value: U256::from(6),
                ..base.clone()
            },
        ];
        let h = base.hash(0);
        assert_eq!(h, base.clone().hash(0));
        assert_ne!(h, base.hash(1));
        for v in &variants {
            assert_ne!(h, v.hash(0), "{v:?}");
        }
        // The gas limit is not part of the identity.
        assert_eq!(
            h,
            Tx {
                gas_limit: 1,
                ..base
            }
            .hash(0)
        );
    }

    #[test]
    fn blocks_follow_the_wall_clock_without_going_back_and_chain_hashes() {
        let mut chain = DevChain::in_memory().unwrap();
        let from = dev_accounts()[0].0;
        let mut last = (chain.timestamp(), chain.block_hash());
        for i in 0..5 {
            let before = wall_clock_secs();
            assert!(chain.transact(&transfer(from, i)).unwrap().is_success());
            assert!(chain.timestamp() >= last.0);
            // Many blocks in one second do not run the chain's clock ahead of the wall clock.
            assert!(chain.timestamp() >= before);
            assert!(chain.timestamp() <= wall_clock_secs());
            assert_ne!(chain.block_hash(), last.1);
            last = (chain.timestamp(), chain.block_hash());
        }
        assert_eq!(chain.block_number(), 5);
    }

    #[test]
    fn head_survives_reopen() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("nested").join("chain");
        let head = {
            let mut chain = DevChain::open(&dir).unwrap();
            chain.transact(&transfer(dev_accounts()[1].0, 1)).unwrap();
            chain.advance_time(10).unwrap();
            chain.head
        };
        let chain = DevChain::open(&dir).unwrap();
        assert_eq!(chain.head, head);
        assert_eq!(head.time_offset, 10);
        assert!(dir.join("chain.redb").is_file());
    }
}
