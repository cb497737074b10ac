//! The gateway's records in one redb file. Every change (a submission, a batch with its lease
//! returns and expiries, an outcome) is one write transaction committed with immediate
//! durability, so a crash leaves all of it or none of it, and reopening the file restores every
//! record and status.
//!
//! Records are JSON under their id; ordered indexes keep each operation proportional to what it
//! touches, not to the number of intents held:
//!
//! | table | key → value | holds |
//! |---|---|---|
//! | `intents` | id → JSON [`Stored`] | every intent, with its submission sequence number |
//! | `by_seq` | seq → id | every intent, in submission order (listing) |
//! | `by_party` | (party, seq) → id | every intent, per party (listing) |
//! | `pending` | seq → id | pending intents, oldest first (leasing) |
//! | `pending_expiry` | (expires_ms, seq) → id | pending intents by expiry (expiring) |
//! | `leases` | (until_ms, seq) → id | assigned intents by lease end (returning lapsed leases) |
//! | `open_by_party` | party → count | pending + assigned intents per party (the submission limit) |
//! | `meta` | name → u64 | the next sequence number and the count of intents in each state |

use super::{GatewayError, IntentState, IntentStats, order_intent};
use crate::api::{IntentRecord, IntentStatus, Outcome};
use alloy::primitives::Address;
use nash::units::Hash32;
use redb::{
    Database, Durability, ReadableDatabase, ReadableTable, Table, TableDefinition, WriteTransaction,
};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::Path;

type Id = [u8; 32];
type Party = [u8; 20];

const INTENTS: TableDefinition<Id, &[u8]> = TableDefinition::new("intents");
const BY_SEQ: TableDefinition<u64, Id> = TableDefinition::new("by_seq");
const BY_PARTY: TableDefinition<(Party, u64), Id> = TableDefinition::new("by_party");
const PENDING: TableDefinition<u64, Id> = TableDefinition::new("pending");
const PENDING_EXPIRY: TableDefinition<(u64, u64), Id> = TableDefinition::new("pending_expiry");
const LEASES: TableDefinition<(u64, u64), Id> = TableDefinition::new("leases");
const OPEN_BY_PARTY: TableDefinition<Party, u64> = TableDefinition::new("open_by_party");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

const META_NEXT_SEQ: &str = "next_seq";

/// An intent as stored: the record and its place in submission order.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Stored {
    seq: u64,
    record: IntentRecord,
}

/// Why a submission was refused by the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SubmitRefusal {
    /// An intent with this id (same party, nonce and body) is already held.
    Duplicate(Hash32),
    /// The party already has `open` pending or assigned intents.
    TooMany {
        /// Its open intents.
        open: u64,
    },
}

/// Why an outcome was refused by the store. Nothing of it was applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum OutcomeRefusal {
    /// No intent has this id.
    Unknown(Hash32),
    /// The intent is not leased to the caller; `holder` says where it stands.
    NotLeased {
        /// The intent.
        intent: Hash32,
        /// Who holds it, or what state it is in.
        holder: String,
    },
    /// A fill is impossible for its intent (named in the reason).
    Invalid(String),
}

/// What one batch did.
#[derive(Clone, Debug)]
pub(crate) struct Leased {
    /// The intents leased to the caller, oldest first.
    pub(crate) records: Vec<IntentRecord>,
    /// Intents whose lapsed leases went back to pending.
    pub(crate) returned: usize,
    /// Pending intents marked expired.
    pub(crate) expired: usize,
    /// Counts after the batch.
    pub(crate) stats: IntentStats,
}

/// The open redb file.
pub(crate) struct Store {
    db: Database,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

fn storage<E: Into<redb::Error>>(op: &'static str) -> impl FnOnce(E) -> GatewayError {
    move |e| GatewayError::Storage {
        op,
        source: e.into(),
    }
}

fn corrupt(what: String) -> GatewayError {
    GatewayError::Corrupt { what }
}

fn decode(id: &Id, bytes: &[u8]) -> Result<Stored, GatewayError> {
    serde_json::from_slice(bytes).map_err(|e| corrupt(format!("intent {}: {e}", Hash32(*id))))
}

fn is_open(status: &IntentStatus) -> bool {
    matches!(
        status,
        IntentStatus::Pending | IntentStatus::Assigned { .. }
    )
}

fn meta_key(state: IntentState) -> &'static str {
    match state {
        IntentState::Pending => "count.pending",
        IntentState::Assigned => "count.assigned",
        IntentState::Settled => "count.settled",
        IntentState::Unfilled => "count.unfilled",
        IntentState::Expired => "count.expired",
    }
}

/// Every table of one write transaction, and the state counts it maintains.
struct Tables<'t> {
    intents: Table<'t, Id, &'static [u8]>,
    by_seq: Table<'t, u64, Id>,
    by_party: Table<'t, (Party, u64), Id>,
    pending: Table<'t, u64, Id>,
    pending_expiry: Table<'t, (u64, u64), Id>,
    leases: Table<'t, (u64, u64), Id>,
    open_by_party: Table<'t, Party, u64>,
    meta: Table<'t, &'static str, u64>,
    stats: IntentStats,
}

impl<'t> Tables<'t> {
    fn open(wtx: &'t WriteTransaction) -> Result<Self, GatewayError> {
        let mut tables = Self {
            intents: wtx
                .open_table(INTENTS)
                .map_err(storage("opening intents"))?,
            by_seq: wtx.open_table(BY_SEQ).map_err(storage("opening by_seq"))?,
            by_party: wtx
                .open_table(BY_PARTY)
                .map_err(storage("opening by_party"))?,
            pending: wtx
                .open_table(PENDING)
                .map_err(storage("opening pending"))?,
            pending_expiry: wtx
                .open_table(PENDING_EXPIRY)
                .map_err(storage("opening pending_expiry"))?,
            leases: wtx.open_table(LEASES).map_err(storage("opening leases"))?,
            open_by_party: wtx
                .open_table(OPEN_BY_PARTY)
                .map_err(storage("opening open_by_party"))?,
            meta: wtx.open_table(META).map_err(storage("opening meta"))?,
            stats: IntentStats::default(),
        };
        tables.stats = read_stats(&tables.meta)?;
        Ok(tables)
    }

    /// Writes the counts back; returns them.
    fn finish(mut self) -> Result<IntentStats, GatewayError> {
        for state in IntentState::ALL {
            self.meta
                .insert(meta_key(state), self.stats.get(state))
                .map_err(storage("writing counts"))?;
        }
        Ok(self.stats)
    }

    fn load(&self, id: &Id) -> Result<Option<Stored>, GatewayError> {
        match self.intents.get(id).map_err(storage("reading an intent"))? {
            Some(bytes) => decode(id, bytes.value()).map(Some),
            None => Ok(None),
        }
    }

    fn load_known(&self, id: &Id) -> Result<Stored, GatewayError> {
        self.load(id)?.ok_or_else(|| {
            corrupt(format!(
                "index names intent {} but it is missing",
                Hash32(*id)
            ))
        })
    }

    fn save(&mut self, stored: &Stored) -> Result<(), GatewayError> {
        let bytes = serde_json::to_vec(stored)
            .map_err(|e| corrupt(format!("intent does not serialise: {e}")))?;
        self.intents
            .insert(&stored.record.id.0, bytes.as_slice())
            .map_err(storage("writing an intent"))?;
        Ok(())
    }

    fn open_count(&self, party: &Party) -> Result<u64, GatewayError> {
        Ok(self
            .open_by_party
            .get(party)
            .map_err(storage("reading open_by_party"))?
            .map_or(0, |g| g.value()))
    }

    fn add_open(&mut self, party: &Party, delta: i64) -> Result<(), GatewayError> {
        let now = self.open_count(party)?;
        let next = now.saturating_add_signed(delta);
        if next == 0 {
            self.open_by_party
                .remove(party)
                .map_err(storage("writing open_by_party"))?;
        } else {
            self.open_by_party
                .insert(party, next)
                .map_err(storage("writing open_by_party"))?;
        }
        Ok(())
    }

    /// Adds a new pending intent.
    fn insert(&mut self, record: IntentRecord) -> Result<Stored, GatewayError> {
        let seq = self
            .meta
            .get(META_NEXT_SEQ)
            .map_err(storage("reading next_seq"))?
            .map_or(0, |g| g.value());
        self.meta
            .insert(META_NEXT_SEQ, seq + 1)
            .map_err(storage("writing next_seq"))?;
        let id = record.id.0;
        let party = record.party.into_array();
        let expires = record.order.expires_ms;
        let stored = Stored { seq, record };
        self.save(&stored)?;
        self.by_seq
            .insert(seq, id)
            .map_err(storage("writing by_seq"))?;
        self.by_party
            .insert((party, seq), id)
            .map_err(storage("writing by_party"))?;
        self.pending
            .insert(seq, id)
            .map_err(storage("writing pending"))?;
        self.pending_expiry
            .insert((expires, seq), id)
            .map_err(storage("writing pending_expiry"))?;
        self.add_open(&party, 1)?;
        self.stats.pending += 1;
        self.stats.total += 1;
        Ok(stored)
    }

    /// Moves `stored` to `status`, keeping every index and count in step, and saves it.
    fn transition(
        &mut self,
        stored: &mut Stored,
        status: IntentStatus,
    ) -> Result<(), GatewayError> {
        let seq = stored.seq;
        let id = stored.record.id.0;
        let expires = stored.record.order.expires_ms;
        match &stored.record.status {
            IntentStatus::Pending => {
                self.pending
                    .remove(seq)
                    .map_err(storage("writing pending"))?;
                self.pending_expiry
                    .remove((expires, seq))
                    .map_err(storage("writing pending_expiry"))?;
            }
            IntentStatus::Assigned { until_ms, .. } => {
                self.leases
                    .remove((*until_ms, seq))
                    .map_err(storage("writing leases"))?;
            }
            _ => {}
        }
        match &status {
            IntentStatus::Pending => {
                self.pending
                    .insert(seq, id)
                    .map_err(storage("writing pending"))?;
                self.pending_expiry
                    .insert((expires, seq), id)
                    .map_err(storage("writing pending_expiry"))?;
            }
            IntentStatus::Assigned { until_ms, .. } => {
                self.leases
                    .insert((*until_ms, seq), id)
                    .map_err(storage("writing leases"))?;
            }
            _ => {}
        }
        let (was, will) = (is_open(&stored.record.status), is_open(&status));
        if was != will {
            let party = stored.record.party.into_array();
            self.add_open(&party, if will { 1 } else { -1 })?;
        }
        let from = IntentState::of(&stored.record.status);
        let to = IntentState::of(&status);
        *self.stats.get_mut(from) = self.stats.get(from).saturating_sub(1);
        *self.stats.get_mut(to) += 1;
        stored.record.status = status;
        self.save(stored)
    }

    /// Marks pending intents whose `expires_ms` is at or before `now_ms` expired.
    fn expire(&mut self, now_ms: u64) -> Result<usize, GatewayError> {
        let due = due(&self.pending_expiry, now_ms, "reading pending_expiry")?;
        for id in &due {
            let mut stored = self.load_known(id)?;
            self.transition(&mut stored, IntentStatus::Expired)?;
        }
        Ok(due.len())
    }

    /// Returns intents whose lease ended at or before `now_ms` to pending.
    fn return_lapsed(&mut self, now_ms: u64) -> Result<usize, GatewayError> {
        let due = due(&self.leases, now_ms, "reading leases")?;
        for id in &due {
            let mut stored = self.load_known(id)?;
            self.transition(&mut stored, IntentStatus::Pending)?;
        }
        Ok(due.len())
    }
}

fn read_stats(meta: &impl ReadableTable<&'static str, u64>) -> Result<IntentStats, GatewayError> {
    let mut stats = IntentStats::default();
    for state in IntentState::ALL {
        let n = meta
            .get(meta_key(state))
            .map_err(storage("reading counts"))?
            .map_or(0, |g| g.value());
        *stats.get_mut(state) = n;
        stats.total += n;
    }
    Ok(stats)
}

/// Where an intent stands, for a refusal's reason.
fn holder(status: &IntentStatus) -> String {
    match status {
        IntentStatus::Pending => "it is pending (leased to nobody)".into(),
        IntentStatus::Assigned {
            validator,
            until_ms,
        } => format!("it is leased to {validator} until {until_ms}"),
        IntentStatus::Settled {
            validator,
            challenge,
            ..
        } => format!("it was settled by {validator} in challenge {challenge}"),
        IntentStatus::Unfilled {
            validator,
            challenge,
        } => format!("it was left unfilled by {validator} in challenge {challenge}"),
        IntentStatus::Expired => "it has expired".into(),
    }
}

impl Store {
    /// Opens (creating if needed) the file at `path`.
    pub(crate) fn open(path: &Path) -> Result<Self, GatewayError> {
        let db = match Database::create(path) {
            Ok(db) => db,
            Err(redb::DatabaseError::DatabaseAlreadyOpen) => {
                return Err(GatewayError::Locked {
                    path: path.to_path_buf(),
                });
            }
            Err(source) => {
                return Err(GatewayError::Open {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let store = Self { db };
        // Create every table, so read transactions can open them.
        let wtx = store.begin_write()?;
        Tables::open(&wtx)?.finish()?;
        wtx.commit().map_err(storage("creating the tables"))?;
        Ok(store)
    }

    fn begin_write(&self) -> Result<WriteTransaction, GatewayError> {
        let mut wtx = self
            .db
            .begin_write()
            .map_err(storage("beginning a write transaction"))?;
        wtx.set_durability(Durability::Immediate)
            .map_err(storage("setting immediate durability"))?;
        Ok(wtx)
    }

    /// Stores a new pending intent, unless its id is already held or `party` already has
    /// `max_open` open intents (pending intents past their expiry are marked expired first, so
    /// they do not count).
    pub(crate) fn submit(
        &self,
        record: IntentRecord,
        max_open: usize,
        now_ms: u64,
    ) -> Result<(Result<IntentRecord, SubmitRefusal>, IntentStats), GatewayError> {
        let wtx = self.begin_write()?;
        let (answer, stats) = {
            let mut t = Tables::open(&wtx)?;
            let expired = t.expire(now_ms)?;
            let party = record.party.into_array();
            let answer = if t.load(&record.id.0)?.is_some() {
                Err(SubmitRefusal::Duplicate(record.id))
            } else {
                let open = t.open_count(&party)?;
                if open >= u64::try_from(max_open).unwrap_or(u64::MAX) {
                    Err(SubmitRefusal::TooMany { open })
                } else {
                    t.insert(record).map(|s| Ok(s.record))?
                }
            };
            if answer.is_err() && expired == 0 {
                // Nothing changed: leave the file alone.
                let stats = t.stats;
                drop(t);
                wtx.abort().map_err(storage("aborting"))?;
                return Ok((answer, stats));
            }
            (answer, t.finish()?)
        };
        wtx.commit().map_err(storage("committing a submission"))?;
        Ok((answer, stats))
    }

    /// Returns lapsed leases to pending, expires pending intents past their expiry, then leases
    /// up to `max` pending intents, oldest first, to `validator` until `now_ms + lease_ms`.
    pub(crate) fn lease(
        &self,
        validator: Address,
        max: usize,
        lease_ms: u64,
        now_ms: u64,
    ) -> Result<Leased, GatewayError> {
        let wtx = self.begin_write()?;
        let (records, returned, expired, stats) = {
            let mut t = Tables::open(&wtx)?;
            let returned = t.return_lapsed(now_ms)?;
            let expired = t.expire(now_ms)?;
            let ids: Vec<Id> = t
                .pending
                .iter()
                .map_err(storage("reading pending"))?
                .take(max)
                .map(|entry| entry.map(|(_, id)| id.value()))
                .collect::<Result<_, _>>()
                .map_err(storage("reading pending"))?;
            let until_ms = now_ms.saturating_add(lease_ms);
            let mut records = Vec::with_capacity(ids.len());
            for id in &ids {
                let mut stored = t.load_known(id)?;
                t.transition(
                    &mut stored,
                    IntentStatus::Assigned {
                        validator,
                        until_ms,
                    },
                )?;
                records.push(stored.record);
            }
            (records, returned, expired, t.finish()?)
        };
        wtx.commit().map_err(storage("committing a batch"))?;
        Ok(Leased {
            records,
            returned,
            expired,
            stats,
        })
    }

    /// Applies `outcome` from `validator`: every fill must name an intent leased to it (or one it
    /// already settled identically, which is left as is), and be an admissible fill of that
    /// intent. All or nothing. Returns how many intents changed.
    pub(crate) fn apply(
        &self,
        validator: Address,
        outcome: &Outcome,
    ) -> Result<(Result<usize, OutcomeRefusal>, IntentStats), GatewayError> {
        let wtx = self.begin_write()?;
        let mut t = Tables::open(&wtx)?;
        // Drops the transaction unapplied and answers with the refusal.
        macro_rules! refuse {
            ($refusal:expr $(,)?) => {{
                let refusal = $refusal;
                let stats = t.stats;
                drop(t);
                wtx.abort().map_err(storage("aborting"))?;
                return Ok((Err(refusal), stats));
            }};
        }
        let mut seen = HashSet::new();
        let mut changes = Vec::new();
        for (i, fill) in outcome.fills.iter().enumerate() {
            if !seen.insert(fill.intent) {
                refuse!(OutcomeRefusal::Invalid(format!(
                    "fills[{i}].intent: {} appears twice",
                    fill.intent
                )),);
            }
            let Some(stored) = t.load(&fill.intent.0)? else {
                refuse!(OutcomeRefusal::Unknown(fill.intent));
            };
            let status = if fill.filled.0 > 0 {
                IntentStatus::Settled {
                    validator,
                    challenge: outcome.challenge,
                    filled: fill.filled,
                    price: fill.price,
                    tx: outcome.tx,
                }
            } else {
                IntentStatus::Unfilled {
                    validator,
                    challenge: outcome.challenge,
                }
            };
            match &stored.record.status {
                IntentStatus::Assigned { validator: v, .. } if *v == validator => {}
                // A repeat of an outcome already applied (a retry after a lost answer).
                done if *done == status => continue,
                other => {
                    let refusal = OutcomeRefusal::NotLeased {
                        intent: fill.intent,
                        holder: holder(other),
                    };
                    refuse!(refusal);
                }
            }
            let intent = order_intent(&stored.record.order);
            if !intent.admits(fill.filled) {
                refuse!(OutcomeRefusal::Invalid(format!(
                    "fills[{i}].filled: {} is not an admissible fill of intent {} \
                         (quantity {}, min_fill {}, lot {})",
                    fill.filled, fill.intent, intent.quantity, intent.min_fill, intent.lot
                )),);
            }
            changes.push((stored, status));
        }
        let updated = changes.len();
        for (mut stored, status) in changes {
            t.transition(&mut stored, status)?;
        }
        let stats = t.finish()?;
        wtx.commit().map_err(storage("committing an outcome"))?;
        Ok((Ok(updated), stats))
    }

    /// The intent with this id.
    pub(crate) fn get(&self, id: &Hash32) -> Result<Option<IntentRecord>, GatewayError> {
        let rtx = self
            .db
            .begin_read()
            .map_err(storage("beginning a read transaction"))?;
        let intents = rtx
            .open_table(INTENTS)
            .map_err(storage("opening intents"))?;
        match intents.get(&id.0).map_err(storage("reading an intent"))? {
            Some(bytes) => Ok(Some(decode(&id.0, bytes.value())?.record)),
            None => Ok(None),
        }
    }

    /// Up to `limit` intents, oldest first, of `party` (or everyone) in `state` (or any).
    pub(crate) fn list(
        &self,
        party: Option<Address>,
        state: Option<IntentState>,
        limit: usize,
    ) -> Result<Vec<IntentRecord>, GatewayError> {
        let rtx = self
            .db
            .begin_read()
            .map_err(storage("beginning a read transaction"))?;
        let intents = rtx
            .open_table(INTENTS)
            .map_err(storage("opening intents"))?;
        let ids: Box<dyn Iterator<Item = Result<Id, redb::StorageError>>> = match (party, state) {
            (Some(p), _) => {
                let p = p.into_array();
                let by_party = rtx
                    .open_table(BY_PARTY)
                    .map_err(storage("opening by_party"))?;
                Box::new(
                    by_party
                        .range((p, 0)..=(p, u64::MAX))
                        .map_err(storage("reading by_party"))?
                        .map(|e| e.map(|(_, id)| id.value())),
                )
            }
            (None, Some(IntentState::Pending)) => {
                let pending = rtx
                    .open_table(PENDING)
                    .map_err(storage("opening pending"))?;
                Box::new(
                    pending
                        .iter()
                        .map_err(storage("reading pending"))?
                        .map(|e| e.map(|(_, id)| id.value()))
                        .collect::<Vec<_>>()
                        .into_iter(),
                )
            }
            (None, _) => {
                let by_seq = rtx.open_table(BY_SEQ).map_err(storage("opening by_seq"))?;
                Box::new(
                    by_seq
                        .iter()
                        .map_err(storage("reading by_seq"))?
                        .map(|e| e.map(|(_, id)| id.value()))
                        .collect::<Vec<_>>()
                        .into_iter(),
                )
            }
        };
        let mut out = Vec::new();
        for id in ids {
            if out.len() >= limit {
                break;
            }
            let id = id.map_err(storage("reading an index"))?;
            let bytes = intents
                .get(&id)
                .map_err(storage("reading an intent"))?
                .ok_or_else(|| {
                    corrupt(format!(
                        "index names intent {} but it is missing",
                        Hash32(id)
                    ))
                })?;
            let record = decode(&id, bytes.value())?.record;
            if state.is_none_or(|s| s == IntentState::of(&record.status)) {
                out.push(record);
            }
        }
        Ok(out)
    }

    /// How many intents are in each state.
    pub(crate) fn stats(&self) -> Result<IntentStats, GatewayError> {
        let rtx = self
            .db
            .begin_read()
            .map_err(storage("beginning a read transaction"))?;
        let meta = rtx.open_table(META).map_err(storage("opening meta"))?;
        read_stats(&meta)
    }
}

/// The ids of a time index (`(time_ms, seq) → id`) whose time is at or before `now_ms`.
fn due(
    index: &Table<'_, (u64, u64), Id>,
    now_ms: u64,
    what: &'static str,
) -> Result<Vec<Id>, GatewayError> {
    index
        .range(..=(now_ms, u64::MAX))
        .map_err(storage(what))?
        .map(|entry| entry.map(|(_, id)| id.value()))
        .collect::<Result<_, _>>()
        .map_err(storage(what))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{IntentFill, IntentOrder};
    use nash::intent::{Side, Valuation, Window};
    use nash::units::{Price, Quantity, ResourceKind};

    fn order(expires_ms: u64) -> IntentOrder {
        IntentOrder {
            side: Side::Buy,
            resource: ResourceKind::GPU_HOURS,
            quantity: Quantity::units(10),
            min_fill: Quantity::ZERO,
            lot: Quantity::ZERO,
            valuation: Valuation::Limit {
                price: Price::new(2, 0),
            },
            window: Window { start: 0, end: 24 },
            expires_ms,
        }
    }

    fn record(i: u64, party: Address, expires_ms: u64) -> IntentRecord {
        let mut id = [0u8; 32];
        id[..8].copy_from_slice(&i.to_be_bytes());
        IntentRecord {
            id: Hash32(id),
            party,
            order: order(expires_ms),
            submitted_ms: 0,
            status: IntentStatus::Pending,
        }
    }

    /// Ten thousand intents: each batch touches only what it leases, so leasing all of them in
    /// batches of 100 costs about what submitting them did, not 100 full scans.
    #[test]
    fn ten_thousand_intents() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("g.redb")).expect("opens");
        let party = Address::repeat_byte(7);
        let validator = Address::repeat_byte(9);
        let n = 10_000u64;
        // Submitted in one transaction to keep the test short (each submission alone is one
        // durable commit).
        {
            let wtx = store.begin_write().expect("write");
            let mut t = Tables::open(&wtx).expect("tables");
            for i in 0..n {
                t.insert(record(i, party, u64::MAX)).expect("insert");
            }
            t.finish().expect("finish");
            wtx.commit().expect("commit");
        }
        assert_eq!(store.stats().expect("stats").pending, n);
        let started = std::time::Instant::now();
        let mut leased = 0;
        let mut first = None;
        for _ in 0..100 {
            let batch = store.lease(validator, 100, 60_000, 1000).expect("lease");
            first.get_or_insert(batch.records[0].id);
            leased += batch.records.len();
        }
        let took = started.elapsed();
        assert_eq!(leased, 10_000);
        assert_eq!(first, Some(record(0, party, 0).id), "oldest first");
        let stats = store.stats().expect("stats");
        assert_eq!((stats.pending, stats.assigned), (0, n));
        // All leases lapse at once: one batch returns all 10,000 and leases 100 again.
        let batch = store.lease(validator, 100, 60_000, 70_000).expect("lease");
        assert_eq!((batch.returned, batch.records.len()), (10_000, 100));
        eprintln!("100 batches of 100 over 10,000 intents: {took:?}");
        assert!(took.as_secs() < 30, "{took:?}");
    }

    #[test]
    fn an_outcome_applies_all_or_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("g.redb")).expect("opens");
        let party = Address::repeat_byte(7);
        let (v, w) = (Address::repeat_byte(9), Address::repeat_byte(10));
        for i in 0..3 {
            store
                .submit(record(i, party, u64::MAX), 10, 0)
                .expect("submit")
                .0
                .expect("stored");
        }
        let mine = store.lease(v, 2, 1000, 0).expect("lease").records;
        let theirs = store.lease(w, 1, 1000, 0).expect("lease").records;
        let fill = |id: Hash32, q: u64| IntentFill {
            intent: id,
            filled: Quantity::units(q),
            price: Price::new(1, 0),
        };
        let outcome = Outcome {
            challenge: Hash32([1; 32]),
            tx: None,
            fills: vec![fill(mine[0].id, 5), fill(theirs[0].id, 5)],
        };
        let (answer, _) = store.apply(v, &outcome).expect("apply");
        assert!(
            matches!(answer, Err(OutcomeRefusal::NotLeased { .. })),
            "{answer:?}"
        );
        // Nothing changed, the first fill included.
        assert!(matches!(
            store.get(&mine[0].id).expect("get").expect("held").status,
            IntentStatus::Assigned { .. }
        ));
        let too_much = Outcome {
            fills: vec![fill(mine[0].id, 11)],
            ..outcome.clone()
        };
        let (answer, _) = store.apply(v, &too_much).expect("apply");
        assert!(
            matches!(answer, Err(OutcomeRefusal::Invalid(_))),
            "{answer:?}"
        );
        let good = Outcome {
            fills: vec![fill(mine[0].id, 5), fill(mine[1].id, 0)],
            ..outcome
        };
        let (answer, stats) = store.apply(v, &good).expect("apply");
        assert_eq!(answer, Ok(2));
        assert_eq!((stats.settled, stats.unfilled, stats.assigned), (1, 1, 1));
        // The same outcome again (a retry) changes nothing and is not refused.
        let (answer, _) = store.apply(v, &good).expect("apply");
        assert_eq!(answer, Ok(0));
        // Closed intents no longer count against the party.
        let (answer, _) = store
            .submit(record(3, party, u64::MAX), 2, 0)
            .expect("submit");
        assert!(answer.is_ok(), "{answer:?}");
        let (answer, _) = store
            .submit(record(4, party, u64::MAX), 2, 0)
            .expect("submit");
        assert_eq!(answer, Err(SubmitRefusal::TooMany { open: 2 }));
    }
}
