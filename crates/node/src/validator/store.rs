//! The validator's embedded store (redb, durable on every commit): what it must not forget
//! across a restart — each miner's rolling history, the epoch's challenge outcomes (its scores
//! come from them), the weights and salt it committed (it must reveal exactly those), the
//! miners that announced themselves, its challenge counter and salt secret, and the emission
//! book (replayable from the chain, cached here).

use crate::epochs::EmissionBook;
use alloy::primitives::{Address, B256};
use nash::score::History;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use std::path::Path;
use thiserror::Error;

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const HISTORIES: TableDefinition<&[u8; 20], &[u8]> = TableDefinition::new("histories");
const OUTCOMES: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new("outcomes");
const COMMITS: TableDefinition<u64, &[u8]> = TableDefinition::new("commits");
const MINERS: TableDefinition<&[u8; 20], &str> = TableDefinition::new("miners");

/// A store failure.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The database failed.
    #[error("validator store: {0}")]
    Db(String),
    /// A stored value does not decode (a damaged or foreign file).
    #[error("validator store: {what} does not decode: {reason}")]
    Corrupt {
        /// Which value.
        what: &'static str,
        /// Why.
        reason: String,
    },
}

fn db<E: std::fmt::Display>(e: E) -> StoreError {
    StoreError::Db(e.to_string())
}

fn decode<T: for<'de> Deserialize<'de>>(what: &'static str, b: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(b).map_err(|e| StoreError::Corrupt {
        what,
        reason: e.to_string(),
    })
}

fn encode<T: Serialize>(v: &T) -> Vec<u8> {
    // Our own plain data types always serialise.
    serde_json::to_vec(v).unwrap_or_default()
}

/// One miner's part in one challenge, kept until the epoch's weights are set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MinerOutcome {
    /// The miner.
    pub miner: Address,
    /// Whether it answered in time.
    pub answered: bool,
    /// `Q` (0 for a copy or an invalid answer).
    pub quality: f64,
    /// Milliseconds from its challenge's send to receipt.
    pub latency_ms: u64,
    /// The same in microseconds: the order of arrival the scoring uses (0 in records written
    /// before it was kept; `latency_ms` then stands in).
    #[serde(default)]
    pub latency_us: u64,
    /// Digest of the de-salted answer (identical answers share one reward).
    pub digest: nash::units::Hash32,
}

/// One challenge's outcome.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChallengeRecord {
    /// The class.
    pub class: nash::class::ProblemClass,
    /// Whether it carried real intents (SPF applies).
    pub real: bool,
    /// Per miner sent to.
    pub miners: Vec<MinerOutcome>,
}

/// Weights committed for an epoch, kept so they can be revealed after a restart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commit {
    /// Weight per miner, sorted by address.
    pub weights: Vec<(Address, u128)>,
    /// The salt of the commitment.
    pub salt: B256,
    /// Whether the commit transaction landed.
    pub committed: bool,
    /// Whether the reveal transaction landed.
    pub revealed: bool,
    /// Whether this validator proposed the epoch's root.
    pub proposed: bool,
}

/// The store.
#[derive(Debug)]
pub struct Store {
    db: Database,
}

impl Store {
    /// Opens (or creates) `dir/validator.redb`.
    ///
    /// # Errors
    /// [`StoreError`] if the file cannot be opened.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(db)?;
        let database = Database::create(dir.join("validator.redb")).map_err(db)?;
        let tx = database.begin_write().map_err(db)?;
        tx.open_table(META).map_err(db)?;
        tx.open_table(HISTORIES).map_err(db)?;
        tx.open_table(OUTCOMES).map_err(db)?;
        tx.open_table(COMMITS).map_err(db)?;
        tx.open_table(MINERS).map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(Self { db: database })
    }

    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(META).map_err(db)?;
        Ok(t.get(key).map_err(db)?.map(|v| v.value().to_vec()))
    }

    fn put_meta(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        let tx = self.db.begin_write().map_err(db)?;
        tx.open_table(META)
            .map_err(db)?
            .insert(key, value)
            .map_err(db)?;
        tx.commit().map_err(db)
    }

    /// The secret the per-miner salts derive from, made once and kept.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn salt_secret(&self, fresh: impl FnOnce() -> [u8; 32]) -> Result<[u8; 32], StoreError> {
        if let Some(v) = self.meta("salt_secret")?
            && let Ok(s) = <[u8; 32]>::try_from(v.as_slice())
        {
            return Ok(s);
        }
        let s = fresh();
        self.put_meta("salt_secret", &s)?;
        Ok(s)
    }

    /// Takes the next challenge number (durably: never handed out twice).
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn next_challenge(&self) -> Result<u64, StoreError> {
        let tx = self.db.begin_write().map_err(db)?;
        let n = {
            let mut t = tx.open_table(META).map_err(db)?;
            let n = t
                .get("next_challenge")
                .map_err(db)?
                .and_then(|v| <[u8; 8]>::try_from(v.value()).ok())
                .map_or(1, u64::from_be_bytes);
            t.insert("next_challenge", (n + 1).to_be_bytes().as_slice())
                .map_err(db)?;
            n
        };
        tx.commit().map_err(db)?;
        Ok(n)
    }

    /// Every miner's history.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn histories(&self) -> Result<Vec<(Address, History)>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(HISTORIES).map_err(db)?;
        let mut out = Vec::new();
        for row in t.iter().map_err(db)? {
            let (k, v) = row.map_err(db)?;
            out.push((Address::from(*k.value()), decode("history", v.value())?));
        }
        Ok(out)
    }

    /// Records one challenge: its outcome for `epoch` and the miners' updated histories, in
    /// one transaction.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn record(
        &self,
        epoch: u64,
        challenge: u64,
        outcome: &ChallengeRecord,
        histories: &[(Address, History)],
    ) -> Result<(), StoreError> {
        let tx = self.db.begin_write().map_err(db)?;
        {
            let mut o = tx.open_table(OUTCOMES).map_err(db)?;
            o.insert((epoch, challenge), encode(outcome).as_slice())
                .map_err(db)?;
            let mut h = tx.open_table(HISTORIES).map_err(db)?;
            for (m, hist) in histories {
                h.insert(&m.0.0, encode(hist).as_slice()).map_err(db)?;
            }
        }
        tx.commit().map_err(db)
    }

    /// The outcomes recorded for `epoch`.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn outcomes(&self, epoch: u64) -> Result<Vec<ChallengeRecord>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(OUTCOMES).map_err(db)?;
        let mut out = Vec::new();
        for row in t.range((epoch, 0)..=(epoch, u64::MAX)).map_err(db)? {
            let (_, v) = row.map_err(db)?;
            out.push(decode("outcome", v.value())?);
        }
        Ok(out)
    }

    /// Forgets outcomes of epochs before `epoch` (their weights are on chain).
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn prune_outcomes(&self, epoch: u64) -> Result<(), StoreError> {
        let tx = self.db.begin_write().map_err(db)?;
        tx.open_table(OUTCOMES)
            .map_err(db)?
            .retain(|(e, _), _| e >= epoch)
            .map_err(db)?;
        tx.commit().map_err(db)
    }

    /// The commit kept for `epoch`.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn commit(&self, epoch: u64) -> Result<Option<Commit>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(COMMITS).map_err(db)?;
        t.get(epoch)
            .map_err(db)?
            .map(|v| decode("commit", v.value()))
            .transpose()
    }

    /// Saves the commit for `epoch` (before its transaction is sent, so a crash between the
    /// two can still reveal).
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn put_commit(&self, epoch: u64, c: &Commit) -> Result<(), StoreError> {
        let tx = self.db.begin_write().map_err(db)?;
        tx.open_table(COMMITS)
            .map_err(db)?
            .insert(epoch, encode(c).as_slice())
            .map_err(db)?;
        tx.commit().map_err(db)
    }

    /// The emission book, if one was saved.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn book(&self) -> Result<Option<EmissionBook>, StoreError> {
        self.meta("book")?.map(|b| decode("book", &b)).transpose()
    }

    /// Saves the emission book.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn put_book(&self, book: &EmissionBook) -> Result<(), StoreError> {
        self.put_meta("book", &encode(book))
    }

    /// Registers (or moves) a miner's endpoint.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn put_miner(&self, miner: Address, endpoint: &str) -> Result<(), StoreError> {
        let tx = self.db.begin_write().map_err(db)?;
        tx.open_table(MINERS)
            .map_err(db)?
            .insert(&miner.0.0, endpoint)
            .map_err(db)?;
        tx.commit().map_err(db)
    }

    /// The registered miners and their endpoints.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn miners(&self) -> Result<Vec<(Address, String)>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(MINERS).map_err(db)?;
        let mut out = Vec::new();
        for row in t.iter().map_err(db)? {
            let (k, v) = row.map_err(db)?;
            out.push((Address::from(*k.value()), v.value().to_string()));
        }
        Ok(out)
    }
}
