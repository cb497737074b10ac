//! The redb layout of the chain and the adapter from it to revm's [`DatabaseRef`].
//!
//! Tables (all keys big-endian, so ranges follow numeric order):
//!
//! | table          | key                         | value                                   |
//! |----------------|-----------------------------|-----------------------------------------|
//! | `accounts`     | address (20 B)              | balance (32) ‖ nonce (8) ‖ code hash (32) |
//! | `storage`      | address (20) ‖ slot (32)    | value (32), zero values are not stored  |
//! | `bytecode`     | code hash (32)              | original bytecode                       |
//! | `block_hashes` | block number                | block hash (32)                         |
//! | `block_txs`    | block number                | the block's tx hashes, 32 B each        |
//! | `receipts`     | tx hash (32)                | [`StoredReceipt`] as JSON               |
//! | `meta`         | name                        | u64 (head number, head timestamp, time offset) |
//!
//! [`Tables`] is generic over redb's [`ReadableTable`], so the same adapter serves a read
//! transaction (`call`, queries) and a write transaction (a block being built, where each
//! transaction must see the writes of the ones before it).

use redb::{ReadTransaction, ReadableTable, Table, TableDefinition, WriteTransaction};
use revm::{
    DatabaseRef,
    bytecode::Bytecode,
    primitives::{Address, B256, Bytes, KECCAK_EMPTY, StorageKey, StorageValue, U256},
    state::{AccountInfo, EvmState},
};

use crate::{DevChainError, Result, StoredReceipt};

/// Address-keyed tables.
pub(crate) type AddrKey = &'static [u8; 20];
/// 32-byte keys and values (hashes, slots, words).
pub(crate) type Word = &'static [u8; 32];
/// Storage key: address ‖ slot.
pub(crate) type SlotKey = &'static [u8; 52];
/// Account record: balance ‖ nonce ‖ code hash.
pub(crate) type AccountVal = &'static [u8; 72];

pub(crate) const ACCOUNTS: TableDefinition<AddrKey, AccountVal> = TableDefinition::new("accounts");
pub(crate) const STORAGE: TableDefinition<SlotKey, Word> = TableDefinition::new("storage");
pub(crate) const BYTECODE: TableDefinition<Word, &[u8]> = TableDefinition::new("bytecode");
pub(crate) const BLOCK_HASHES: TableDefinition<u64, Word> = TableDefinition::new("block_hashes");
pub(crate) const BLOCK_TXS: TableDefinition<u64, &[u8]> = TableDefinition::new("block_txs");
pub(crate) const RECEIPTS: TableDefinition<Word, &[u8]> = TableDefinition::new("receipts");
pub(crate) const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

pub(crate) const META_NUMBER: &str = "head_number";
pub(crate) const META_TIMESTAMP: &str = "head_timestamp";
pub(crate) const META_TIME_OFFSET: &str = "time_offset";

/// Balance, nonce and code hash of an account as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AccountRecord {
    pub(crate) balance: U256,
    pub(crate) nonce: u64,
    pub(crate) code_hash: B256,
}

impl AccountRecord {
    pub(crate) fn encode(&self) -> [u8; 72] {
        let mut out = [0u8; 72];
        out[..32].copy_from_slice(&self.balance.to_be_bytes::<32>());
        out[32..40].copy_from_slice(&self.nonce.to_be_bytes());
        out[40..].copy_from_slice(self.code_hash.as_slice());
        out
    }

    pub(crate) fn decode(raw: &[u8; 72]) -> Self {
        let mut nonce = [0u8; 8];
        nonce.copy_from_slice(&raw[32..40]);
        Self {
            balance: U256::from_be_slice(&raw[..32]),
            nonce: u64::from_be_bytes(nonce),
            code_hash: B256::from_slice(&raw[40..]),
        }
    }
}

pub(crate) fn slot_key(address: Address, slot: U256) -> [u8; 52] {
    let mut key = [0u8; 52];
    key[..20].copy_from_slice(address.as_slice());
    key[20..].copy_from_slice(&slot.to_be_bytes::<32>());
    key
}

/// The state tables of one redb transaction, read through [`ReadableTable`].
pub(crate) struct Tables<A, S, C, H> {
    pub(crate) accounts: A,
    pub(crate) storage: S,
    pub(crate) bytecode: C,
    pub(crate) block_hashes: H,
}

/// The state tables of a read transaction.
pub(crate) type ReadTables = Tables<
    redb::ReadOnlyTable<AddrKey, AccountVal>,
    redb::ReadOnlyTable<SlotKey, Word>,
    redb::ReadOnlyTable<Word, &'static [u8]>,
    redb::ReadOnlyTable<u64, Word>,
>;

/// The state tables of a write transaction.
pub(crate) type WriteTables<'t> = Tables<
    Table<'t, AddrKey, AccountVal>,
    Table<'t, SlotKey, Word>,
    Table<'t, Word, &'static [u8]>,
    Table<'t, u64, Word>,
>;

impl ReadTables {
    pub(crate) fn open(txn: &ReadTransaction) -> Result<Self> {
        let open = |name: &str, e: redb::TableError| {
            DevChainError::storage(format!("opening table {name} for reading"), e)
        };
        Ok(Self {
            accounts: txn.open_table(ACCOUNTS).map_err(|e| open("accounts", e))?,
            storage: txn.open_table(STORAGE).map_err(|e| open("storage", e))?,
            bytecode: txn.open_table(BYTECODE).map_err(|e| open("bytecode", e))?,
            block_hashes: txn
                .open_table(BLOCK_HASHES)
                .map_err(|e| open("block_hashes", e))?,
        })
    }
}

impl<'t> WriteTables<'t> {
    pub(crate) fn open(txn: &'t WriteTransaction) -> Result<Self> {
        let open = |name: &str, e: redb::TableError| {
            DevChainError::storage(format!("opening table {name} for writing"), e)
        };
        Ok(Self {
            accounts: txn.open_table(ACCOUNTS).map_err(|e| open("accounts", e))?,
            storage: txn.open_table(STORAGE).map_err(|e| open("storage", e))?,
            bytecode: txn.open_table(BYTECODE).map_err(|e| open("bytecode", e))?,
            block_hashes: txn
                .open_table(BLOCK_HASHES)
                .map_err(|e| open("block_hashes", e))?,
        })
    }

    /// Writes an account record.
    pub(crate) fn put_account(&mut self, address: Address, record: &AccountRecord) -> Result<()> {
        self.accounts
            .insert(&address.0.0, &record.encode())
            .map_err(|e| DevChainError::storage(format!("writing account {address}"), e))?;
        Ok(())
    }

    /// Deletes an account and all its storage.
    fn delete_account(&mut self, address: Address) -> Result<()> {
        self.accounts
            .remove(&address.0.0)
            .map_err(|e| DevChainError::storage(format!("deleting account {address}"), e))?;
        self.wipe_storage(address)
    }

    /// Deletes every storage slot of `address`.
    fn wipe_storage(&mut self, address: Address) -> Result<()> {
        let low = slot_key(address, U256::ZERO);
        let high = slot_key(address, U256::MAX);
        self.storage
            .retain_in::<&[u8; 52], _>(&low..=&high, |_, _| false)
            .map_err(|e| DevChainError::storage(format!("wiping storage of {address}"), e))
    }

    /// Applies the state changes of one executed transaction.
    ///
    /// * untouched accounts were only read: skipped;
    /// * self-destructed accounts, and touched accounts left empty (EIP-161), are deleted with
    ///   their storage;
    /// * newly created accounts start from empty storage (anything stored under the address
    ///   before is wiped) and all their non-zero slots are written;
    /// * other accounts get their info and changed slots written; a slot set to zero is deleted.
    pub(crate) fn apply(&mut self, state: EvmState) -> Result<()> {
        for (address, account) in state {
            if !account.is_touched() {
                continue;
            }
            if account.is_selfdestructed() || account.is_empty() {
                self.delete_account(address)?;
                continue;
            }
            let created = account.is_created();
            if created {
                self.wipe_storage(address)?;
            }
            let code_hash = account.info.code_hash;
            if code_hash != KECCAK_EMPTY
                && let Some(code) = &account.info.code
                && !code.is_empty()
            {
                let raw = code.original_byte_slice();
                self.bytecode
                    .insert(&code_hash.0, raw)
                    .map_err(|e| DevChainError::storage(format!("writing code {code_hash}"), e))?;
            }
            let record = AccountRecord {
                balance: account.info.balance,
                nonce: account.info.nonce,
                code_hash,
            };
            self.put_account(address, &record)?;
            for (slot, value) in &account.storage {
                if !created && !value.is_changed() {
                    continue;
                }
                let key = slot_key(address, *slot);
                let present = value.present_value;
                let op = || format!("writing storage {address}[{slot}]");
                if present.is_zero() {
                    self.storage
                        .remove(&key)
                        .map_err(|e| DevChainError::storage(op(), e))?;
                } else {
                    self.storage
                        .insert(&key, &present.to_be_bytes::<32>())
                        .map_err(|e| DevChainError::storage(op(), e))?;
                }
            }
        }
        Ok(())
    }
}

impl<A, S, C, H> Tables<A, S, C, H>
where
    A: ReadableTable<AddrKey, AccountVal>,
    S: ReadableTable<SlotKey, Word>,
    C: ReadableTable<Word, &'static [u8]>,
    H: ReadableTable<u64, Word>,
{
    /// The stored account, if any.
    pub(crate) fn account(&self, address: Address) -> Result<Option<AccountRecord>> {
        let found = self
            .accounts
            .get(&address.0.0)
            .map_err(|e| DevChainError::storage(format!("reading account {address}"), e))?;
        Ok(found.map(|guard| AccountRecord::decode(guard.value())))
    }

    /// The value of a storage slot (zero when never written).
    pub(crate) fn slot(&self, address: Address, slot: U256) -> Result<U256> {
        let found = self
            .storage
            .get(&slot_key(address, slot))
            .map_err(|e| DevChainError::storage(format!("reading storage {address}[{slot}]"), e))?;
        Ok(found.map_or(U256::ZERO, |guard| U256::from_be_bytes(*guard.value())))
    }

    /// The bytecode stored under `code_hash` (empty for [`KECCAK_EMPTY`]).
    pub(crate) fn code(&self, code_hash: B256) -> Result<Bytes> {
        if code_hash == KECCAK_EMPTY || code_hash == B256::ZERO {
            return Ok(Bytes::new());
        }
        let found = self
            .bytecode
            .get(&code_hash.0)
            .map_err(|e| DevChainError::storage(format!("reading code {code_hash}"), e))?;
        match found {
            Some(guard) => Ok(Bytes::copy_from_slice(guard.value())),
            None => Err(DevChainError::Corrupt {
                what: format!("no bytecode stored for code hash {code_hash}"),
            }),
        }
    }
}

fn decode_bytecode(code_hash: B256, raw: Bytes) -> Result<Bytecode> {
    Bytecode::new_raw_checked(raw).map_err(|e| DevChainError::Corrupt {
        what: format!("bytecode {code_hash} does not decode: {e}"),
    })
}

/// The adapter from the stored state to revm: every read goes to the redb transaction, so
/// opening the chain never replays history.
impl<A, S, C, H> DatabaseRef for Tables<A, S, C, H>
where
    A: ReadableTable<AddrKey, AccountVal>,
    S: ReadableTable<SlotKey, Word>,
    C: ReadableTable<Word, &'static [u8]>,
    H: ReadableTable<u64, Word>,
{
    type Error = DevChainError;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>> {
        let Some(record) = self.account(address)? else {
            return Ok(None);
        };
        let code = decode_bytecode(record.code_hash, self.code(record.code_hash)?)?;
        Ok(Some(AccountInfo {
            balance: record.balance,
            nonce: record.nonce,
            code_hash: record.code_hash,
            code: Some(code),
            ..Default::default()
        }))
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode> {
        decode_bytecode(code_hash, self.code(code_hash)?)
    }

    fn storage_ref(&self, address: Address, index: StorageKey) -> Result<StorageValue> {
        self.slot(address, index)
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256> {
        let found = self
            .block_hashes
            .get(number)
            .map_err(|e| DevChainError::storage(format!("reading hash of block {number}"), e))?;
        Ok(found.map_or(B256::ZERO, |guard| B256::from(*guard.value())))
    }
}

/// Decodes a stored receipt.
pub(crate) fn decode_receipt(tx_hash: B256, raw: &[u8]) -> Result<StoredReceipt> {
    serde_json::from_slice(raw).map_err(|e| DevChainError::Corrupt {
        what: format!("receipt of {tx_hash} does not decode: {e}"),
    })
}

/// Encodes a receipt for storage.
pub(crate) fn encode_receipt(receipt: &StoredReceipt) -> Result<Vec<u8>> {
    serde_json::to_vec(receipt).map_err(|e| DevChainError::Corrupt {
        what: format!("receipt of {} does not encode: {e}", receipt.tx_hash),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use revm::{
        primitives::{Address, U256, keccak256},
        state::{Account, AccountInfo, EvmState, EvmStorageSlot, TransactionId},
    };

    use super::*;

    fn db() -> redb::Database {
        redb::Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .unwrap()
    }

    fn account(balance: u64, nonce: u64, slots: &[(u64, u64, u64)]) -> Account {
        let mut account = Account::default().with_info(AccountInfo {
            balance: U256::from(balance),
            nonce,
            ..Default::default()
        });
        for &(slot, original, present) in slots {
            account.storage.insert(
                U256::from(slot),
                EvmStorageSlot::new_changed(
                    U256::from(original),
                    U256::from(present),
                    TransactionId::ZERO,
                ),
            );
        }
        account.mark_touch();
        account
    }

    fn apply(db: &redb::Database, state: EvmState) {
        let wtx = db.begin_write().unwrap();
        WriteTables::open(&wtx).unwrap().apply(state).unwrap();
        wtx.commit().unwrap();
    }

    fn slots(db: &redb::Database, a: Address) -> Vec<(U256, U256)> {
        let wtx = db.begin_write().unwrap();
        let tables = WriteTables::open(&wtx).unwrap();
        (0..4u64)
            .map(|s| (U256::from(s), tables.slot(a, U256::from(s)).unwrap()))
            .filter(|(_, v)| !v.is_zero())
            .collect()
    }

    #[test]
    fn account_record_round_trips() {
        let record = AccountRecord {
            balance: U256::MAX - U256::from(5),
            nonce: u64::MAX - 1,
            code_hash: keccak256(b"code"),
        };
        assert_eq!(AccountRecord::decode(&record.encode()), record);
    }

    #[test]
    fn slot_keys_group_by_address_then_slot() {
        let a = Address::repeat_byte(1);
        let b = Address::repeat_byte(2);
        assert!(slot_key(a, U256::MAX) < slot_key(b, U256::ZERO));
        assert!(slot_key(a, U256::from(1)) < slot_key(a, U256::from(256)));
    }

    #[test]
    fn apply_writes_changes_and_deletes_zeroed_slots() {
        let db = db();
        let a = Address::repeat_byte(0xaa);
        let b = Address::repeat_byte(0xab);
        apply(
            &db,
            [
                (a, account(5, 1, &[(1, 0, 10), (2, 0, 20)])),
                (b, account(1, 0, &[(1, 0, 7)])),
            ]
            .into_iter()
            .collect(),
        );
        assert_eq!(
            slots(&db, a),
            vec![
                (U256::from(1), U256::from(10)),
                (U256::from(2), U256::from(20))
            ]
        );
        // Slot 2 set to zero is deleted; an unchanged slot (original == present) is not rewritten.
        apply(
            &db,
            [(a, account(5, 2, &[(1, 10, 10), (2, 20, 0)]))]
                .into_iter()
                .collect(),
        );
        assert_eq!(slots(&db, a), vec![(U256::from(1), U256::from(10))]);
        // The neighbour's storage is untouched by any of it.
        assert_eq!(slots(&db, b), vec![(U256::from(1), U256::from(7))]);
    }

    #[test]
    fn created_account_starts_from_empty_storage_and_selfdestruct_deletes() {
        let db = db();
        let a = Address::repeat_byte(0xcc);
        let b = Address::repeat_byte(0xcd);
        apply(
            &db,
            [
                (a, account(1, 1, &[(1, 0, 1), (3, 0, 3)])),
                (b, account(1, 1, &[(0, 0, 9)])),
            ]
            .into_iter()
            .collect(),
        );
        // Re-created: old slots 1 and 3 go; slot 2 (present 2, loaded as "unchanged") is kept.
        let mut created = account(0, 1, &[(2, 2, 2)]);
        created.mark_created();
        apply(&db, [(a, created)].into_iter().collect());
        assert_eq!(slots(&db, a), vec![(U256::from(2), U256::from(2))]);

        let mut destroyed = account(0, 1, &[]);
        destroyed.mark_selfdestruct();
        apply(&db, [(a, destroyed)].into_iter().collect());
        assert!(slots(&db, a).is_empty());
        let wtx = db.begin_write().unwrap();
        let tables = WriteTables::open(&wtx).unwrap();
        assert_eq!(tables.account(a).unwrap(), None);
        assert_eq!(tables.slot(b, U256::ZERO).unwrap(), U256::from(9));
    }

    #[test]
    fn touched_empty_account_is_removed_and_untouched_ignored() {
        let db = db();
        let a = Address::repeat_byte(0xdd);
        apply(&db, [(a, account(3, 0, &[]))].into_iter().collect());
        // Untouched: a read-only load, even with different info, writes nothing.
        let mut read_only = account(99, 9, &[]);
        read_only.unmark_touch();
        apply(&db, [(a, read_only)].into_iter().collect());
        let wtx = db.begin_write().unwrap();
        let found = WriteTables::open(&wtx)
            .unwrap()
            .account(a)
            .unwrap()
            .unwrap();
        assert_eq!((found.balance, found.nonce), (U256::from(3), 0));
        drop(wtx);
        apply(&db, [(a, account(0, 0, &[]))].into_iter().collect());
        let wtx = db.begin_write().unwrap();
        assert_eq!(WriteTables::open(&wtx).unwrap().account(a).unwrap(), None);
    }
}
