//! One challenge round (see the module doc of [`super`]).

use super::store::{ChallengeRecord, MinerOutcome};
use super::{Collected, MinerStats, Published, Round, Shared, push_bounded};
use crate::api::{
    Accepted, BatchRequest, ChallengeMsg, IntentFill, IntentRecord, Outcome, hash32, onchain_id,
};
use crate::http::now_ms;
use alloy::primitives::{Address, B256, keccak256};
use nash::canonical::Canonical;
use nash::challenge::{Challenge, Problem};
use nash::class::{MarketInstance, ProblemClass};
use nash::generate::{SplitMix64, challenge as synthetic};
use nash::intent::{Intent, Side, Valuation};
use nash::salt::{copied_from, de_salted_digest, salt};
use nash::score::Record;
use nash::settlement::Answer;
use nash::solve::reference;
use nash::units::{ChallengeId, Hash32, IntentId, PartyId, Quantity};
use nash::verify::verify;
use pin_chain::SettlementTerm;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// Draws of a synthetic market before a trivial (no-trade) one is sent anyway.
const MAX_DRAWS: usize = 16;
/// Most intents leased per round.
const BATCH: u32 = 32;

/// Real intents turned into a challenge: which gateway intent each challenge intent is.
struct RealMarket {
    challenge: Challenge,
    intents: Vec<(IntentId, Hash32, Address)>,
}

fn miner_salt(secret: &[u8; 32], challenge: ChallengeId, miner: Address) -> [u8; 32] {
    let mut bytes = Vec::with_capacity(32 + 8 + 20);
    bytes.extend_from_slice(secret);
    bytes.extend_from_slice(&challenge.0.to_be_bytes());
    bytes.extend_from_slice(miner.as_slice());
    keccak256(bytes).0
}

fn intent_of(id: IntentId, party: PartyId, r: &IntentRecord) -> Intent {
    let o = &r.order;
    Intent {
        id,
        party,
        side: o.side,
        resource: o.resource,
        quantity: o.quantity,
        min_fill: o.min_fill,
        lot: if o.lot.0 == 0 {
            Quantity::EPSILON
        } else {
            o.lot
        },
        valuation: o.valuation.clone(),
        window: o.window,
        counterparties: Vec::new(),
        bundle: None,
    }
}

/// Picks from leased intents a set that forms a market class: a resource triangle when three
/// parties bring three resources, else per resource a buyer, a seller and (three-party) a
/// deferring party, else a swap. Intents left out return to the gateway's pool when their
/// lease ends.
fn market_from(
    records: &[IntentRecord],
    id: ChallengeId,
    deadline_ms: u64,
    salt: Hash32,
) -> Option<RealMarket> {
    let mut parties: BTreeMap<Address, PartyId> = BTreeMap::new();
    for r in records {
        let n = parties.len() as u32;
        parties.entry(r.party).or_insert(PartyId(n));
    }
    let build = |chosen: &[&IntentRecord], class: ProblemClass| -> Option<RealMarket> {
        let mut intents = Vec::new();
        let mut map = Vec::new();
        for (i, r) in chosen.iter().enumerate() {
            let iid = IntentId(i as u64);
            let p = parties[&r.party];
            intents.push(intent_of(iid, p, r));
            map.push((iid, r.id, r.party));
        }
        let ps: BTreeSet<PartyId> = intents.iter().map(|i| i.party).collect();
        let ch = Challenge {
            id,
            class,
            parties: ps.into_iter().collect(),
            salt,
            deadline_ms,
            problem: Problem::Market(MarketInstance { intents }),
        };
        ch.validate().ok()?;
        Some(RealMarket {
            challenge: ch,
            intents: map,
        })
    };
    let all: Vec<&IntentRecord> = records.iter().collect();
    let resources: BTreeSet<_> = records.iter().map(|r| r.order.resource).collect();
    if parties.len() >= 3 && resources.len() >= 3 {
        let cap: Vec<&IntentRecord> = all.iter().copied().take(16).collect();
        if let Some(m) = build(&cap, ProblemClass::ResourceTriangle) {
            return Some(m);
        }
    }
    for res in resources {
        let of = |side: Side| {
            records
                .iter()
                .filter(move |r| r.order.resource == res && r.order.side == side)
        };
        for buy in of(Side::Buy) {
            for sell in of(Side::Sell).filter(|s| s.party != buy.party) {
                if let Some(defer) =
                    of(Side::Defer).find(|d| d.party != buy.party && d.party != sell.party)
                    && let Some(m) = build(&[buy, sell, defer], ProblemClass::ThreeParty)
                {
                    return Some(m);
                }
                let simple = [buy, sell].iter().all(|r| {
                    matches!(r.order.valuation, Valuation::Limit { .. })
                        && r.order.min_fill.0 == 0
                        && r.order.lot.0 <= 1
                });
                let class = if simple {
                    ProblemClass::SimpleSwap
                } else {
                    ProblemClass::ConstrainedSwap
                };
                if let Some(m) = build(&[buy, sell], class) {
                    return Some(m);
                }
            }
        }
    }
    None
}

/// How long leased intents wait in the pool for counterparties.
const LEASE_MS: u64 = 60_000;

/// Leases what the gateway has pending into the pool, and takes from the pool a set of
/// intents that forms a market (they leave the pool); expired leases are dropped (the
/// gateway has returned them to pending).
async fn real_market(
    shared: &Shared,
    gateway: &str,
    id: ChallengeId,
    deadline_ms: u64,
    salt: Hash32,
) -> Option<RealMarket> {
    let req = BatchRequest {
        max: BATCH,
        lease_ms: LEASE_MS,
    };
    let now = now_ms();
    // Lease only when what is pending, with what this validator already holds, forms a market.
    // Otherwise a validator that leased one side of a trade would hold it, for the whole lease,
    // from the validator that leased the other side, and neither could settle it.
    let pending: Vec<IntentRecord> = shared
        .client
        .get(&format!("{gateway}/intents?state=pending&limit={BATCH}"))
        .await
        .unwrap_or_default();
    let worth_leasing = !pending.is_empty() && {
        let held: Vec<IntentRecord> = shared
            .pool
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(r, _)| r.clone())
            .chain(pending)
            .collect();
        market_from(&held, id, deadline_ms, salt).is_some()
    };
    if worth_leasing {
        match shared
            .client
            .post::<_, Vec<IntentRecord>>(&format!("{gateway}/batches"), &req)
            .await
        {
            Ok(v) => {
                let mut pool = shared.pool.lock().unwrap_or_else(|p| p.into_inner());
                pool.extend(v.into_iter().map(|r| (r, now + LEASE_MS)));
            }
            Err(e) => tracing::debug!(error = %e, "no intents from the gateway"),
        }
    }
    let mut pool = shared.pool.lock().unwrap_or_else(|p| p.into_inner());
    // A margin so that a settlement is reported while the lease still holds.
    pool.retain(|(r, until)| *until > now + 10_000 && r.order.expires_ms > now + 5_000);
    let records: Vec<IntentRecord> = pool.iter().map(|(r, _)| r.clone()).collect();
    let market = market_from(&records, id, deadline_ms, salt)?;
    pool.retain(|(r, _)| !market.intents.iter().any(|(_, key, _)| *key == r.id));
    Some(market)
}

/// Runs one round against `miners`.
pub(super) async fn run(shared: &Arc<Shared>, miners: &[(Address, String)]) -> Result<(), String> {
    let n = shared.store.next_challenge().map_err(|e| e.to_string())?;
    let id = ChallengeId(n);
    let epoch = shared
        .schedule
        .epoch_at(shared.chain_now().await)
        .unwrap_or(0);
    let deadline_ms = now_ms() + u64::try_from(shared.answer_window.as_millis()).unwrap_or(60_000);
    let (synthetic_turn, seed) = {
        let mut rng = shared.rng.lock().unwrap_or_else(|p| p.into_inner());
        (
            rng.below(100) < shared.phase.synthetic_percent(),
            rng.next_u64(),
        )
    };
    let mut real = None;
    if !synthetic_turn && let Some(gw) = &shared.gateway {
        real = real_market(
            shared,
            gw,
            id,
            deadline_ms,
            Hash32(keccak256(seed.to_be_bytes()).0),
        )
        .await;
    }
    let mechanism = shared.mechanism.clone();
    let (ch, reference_answer) = if let Some(m) = &real {
        let ch = m.challenge.clone();
        let c = ch.clone();
        let r = tokio::task::spawn_blocking(move || reference(&c, &mechanism).ok())
            .await
            .ok()
            .flatten();
        (ch, r)
    } else {
        let class = shared.classes[(n as usize) % shared.classes.len().max(1)];
        let difficulty = shared.difficulty.clone();
        tokio::task::spawn_blocking(move || {
            let mut rng = nash::generate::SplitMix64::new(seed);
            let mut tries = 0;
            loop {
                let mut ch = synthetic(class, rng.next_u64(), &difficulty);
                ch.id = id;
                ch.deadline_ms = deadline_ms;
                let r = reference(&ch, &mechanism).ok();
                tries += 1;
                let trivial = matches!(&r, Some(Answer::Settlement(s)) if s.fills.is_empty());
                if !trivial || tries >= MAX_DRAWS {
                    break (ch, r);
                }
            }
        })
        .await
        .map_err(|e| e.to_string())?
    };

    // Each miner's own view.
    let mut maps = HashMap::new();
    let mut views = Vec::new();
    for (m, endpoint) in miners {
        let (view, map) = salt(&ch, &miner_salt(&shared.secret, id, *m));
        maps.insert(*m, map);
        views.push((*m, endpoint.clone(), view));
    }
    // A new order every round: the first miner sent to has a head start on a shared machine.
    let mut order = SplitMix64::new(id.0);
    for i in (1..views.len()).rev() {
        views.swap(i, order.below(i as u64 + 1) as usize);
    }
    let round = Arc::new(Round {
        sent_at: Instant::now(),
        sent: Mutex::new(HashMap::new()),
        deadline_ms,
        maps,
        collected: Mutex::new(Collected::default()),
        done: Notify::new(),
    });
    shared
        .rounds
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(id, round.clone());
    let reply_to = format!(
        "{}/answers",
        shared.endpoint.read().unwrap_or_else(|p| p.into_inner())
    );
    let sends = views.into_iter().map(|(m, endpoint, view)| {
        let msg = ChallengeMsg {
            epoch,
            challenge: view,
            reply_to: reply_to.clone(),
        };
        let client = &shared.client;
        let round = &round;
        async move {
            round
                .sent
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(m, Instant::now());
            let r = client
                .post::<_, Accepted>(&format!("{endpoint}/challenges"), &msg)
                .await;
            if let Err(e) = &r {
                tracing::debug!(miner = %m, error = %e, "challenge not taken");
            }
            r.is_ok()
        }
    });
    let accepted = futures_util::future::join_all(sends)
        .await
        .into_iter()
        .filter(|ok| *ok)
        .count();
    let deadline = round.sent_at + shared.answer_window;
    loop {
        let have = round
            .collected
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .answered
            .len();
        if have >= accepted {
            break;
        }
        if tokio::time::timeout_at(deadline.into(), round.done.notified())
            .await
            .is_err()
        {
            break;
        }
    }
    // Close the round, under the lock the answer handler takes: nothing is taken in after
    // this. It stays listed for one more answer window so that late and repeated answers are
    // told so; rounds closed longer ago are forgotten (rounds run one at a time, so every
    // other listed round is closed).
    let mut answers = {
        let mut collected = round.collected.lock().unwrap_or_else(|p| p.into_inner());
        collected.closed = true;
        std::mem::take(&mut collected.answers)
    };
    let window_ms = u64::try_from(shared.answer_window.as_millis()).unwrap_or(u64::MAX);
    let now = now_ms();
    shared
        .rounds
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .retain(|_, r| r.deadline_ms.saturating_add(window_ms) >= now);
    answers.sort_by_key(|(m, _, latency)| (*latency, *m));

    // Verify in arrival order, off the async threads.
    let mech = shared.mechanism.clone();
    let ch2 = ch.clone();
    let round2 = round.clone();
    let reference2 = reference_answer.clone();
    let verdicts = tokio::task::spawn_blocking(move || {
        // Every answer is verified under its own miner's map first: the author of copied
        // bytes is the miner they verify best for, not the first to send them.
        let verified: Vec<_> = answers
            .iter()
            .map(|(m, a, _)| {
                let map = &round2.maps[m];
                let desalted = map.desalt(a);
                let q = verify(&ch2, &desalted, reference2.as_ref(), &mech).quality;
                (map, a, desalted, q)
            })
            .collect();
        let triples: Vec<_> = verified
            .iter()
            .map(|(map, a, _, q)| (*map, *a, *q))
            .collect();
        let copies = copied_from(&triples, &mech.pmu);
        answers
            .iter()
            .zip(verified.iter())
            .zip(copies)
            .map(|(((m, a, latency), (map, _, desalted, q)), copy)| {
                (
                    *m,
                    desalted.clone(),
                    if copy.is_some() { 0.0 } else { *q },
                    *latency,
                    de_salted_digest(map, a, &mech.pmu),
                )
            })
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| e.to_string())?;

    // Record histories and the outcome in one store transaction.
    let mut outcome = ChallengeRecord {
        class: ch.class,
        real: real.is_some(),
        miners: Vec::new(),
    };
    let updated = {
        let mut histories = shared.histories.lock().unwrap_or_else(|p| p.into_inner());
        let mut updated = Vec::new();
        for (m, _) in miners {
            let got = verdicts.iter().find(|v| v.0 == *m);
            let record = match got {
                Some((_, _, q, latency_us, _)) => Record::answer(*q, latency_us / 1000),
                None => Record::missed(),
            };
            let h = histories.entry(*m).or_default();
            h.push(record, &shared.mechanism.twf);
            updated.push((*m, h.clone()));
            outcome.miners.push(MinerOutcome {
                miner: *m,
                answered: got.is_some(),
                quality: got.map_or(0.0, |v| v.2),
                latency_ms: got.map_or(0, |v| v.3 / 1000),
                latency_us: got.map_or(0, |v| v.3),
                digest: got.map_or(Hash32::default(), |v| v.4),
            });
        }
        updated
    };
    shared
        .store
        .record(epoch, n, &outcome, &updated)
        .map_err(|e| e.to_string())?;
    let round_ms = u64::try_from(round.sent_at.elapsed().as_millis()).unwrap_or(u64::MAX);
    shared.metrics.rounds.inc();
    shared
        .metrics
        .round_seconds
        .observe(round_ms as f64 / 1000.0);
    {
        let mut s = shared.status_mut();
        s.rounds += 1;
        s.real_rounds += u64::from(real.is_some());
        push_bounded(&mut s.round_latency_ms, round_ms, super::RECENT);
        for o in &outcome.miners {
            let st: &mut MinerStats = s.miners.entry(o.miner).or_default();
            st.sent += 1;
            st.epoch_sent += 1;
            if o.answered {
                st.answered += 1;
                st.epoch_answered += 1;
                st.q_sum += o.quality;
                st.epoch_q_sum += o.quality;
                st.frontier += u64::from(o.quality >= 1.0);
            }
        }
        for o in outcome.miners.iter().filter(|o| o.answered) {
            push_bounded(&mut s.answer_latency_ms, o.latency_ms, super::RECENT);
        }
    }

    if let Some(market) = real {
        // The earliest answer on the frontier wins; failing that the best; failing any, the
        // validator's own reference (it solved the challenge anyway).
        let best = verdicts
            .iter()
            .filter(|v| v.2 > 0.0)
            .max_by(|a, b| a.2.total_cmp(&b.2).then(b.3.cmp(&a.3)));
        let (winner, settlement) = match (best, &reference_answer) {
            (Some(v), _) => (v.0, v.1.clone()),
            (None, Some(r)) => (shared.signer.address(), r.clone()),
            (None, None) => return Ok(()),
        };
        publish(shared, epoch, &ch, &market, winner, &settlement).await?;
    }
    Ok(())
}

async fn publish(
    shared: &Shared,
    epoch: u64,
    ch: &Challenge,
    market: &RealMarket,
    winner: Address,
    answer: &Answer,
) -> Result<(), String> {
    let Answer::Settlement(s) = answer else {
        return Err("a market answer that is not a settlement".into());
    };
    let Problem::Market(instance) = &ch.problem else {
        return Err("a real challenge that is not a market".into());
    };
    let party_of: HashMap<IntentId, Address> =
        market.intents.iter().map(|(i, _, p)| (*i, *p)).collect();
    let mut filled: BTreeMap<IntentId, u64> = BTreeMap::new();
    for f in &s.fills {
        *filled.entry(f.seller).or_default() += f.quantity.0;
        *filled.entry(f.buyer).or_default() += f.quantity.0;
    }
    let mut terms = Vec::new();
    let mut welfare = 0f64;
    for i in &instance.intents {
        let q = filled.get(&i.id).copied().unwrap_or(0);
        if q == 0 {
            continue;
        }
        let price = s.price_of(i.id).map_or(0, |p| p.0);
        let signed = i128::from(q);
        terms.push(SettlementTerm {
            party: party_of.get(&i.id).copied().unwrap_or_default(),
            resource: u32::from(i.resource.0),
            quantity: if i.side.supplies() { -signed } else { signed },
            price: u128::from(price),
        });
        welfare += i.worth(Quantity(q)).as_f64() * if i.side.supplies() { -1.0 } else { 1.0 };
    }
    let cid = onchain_id(shared.signer.address(), ch.id);
    let hash = B256::from(answer.hash().0);
    let receipt = {
        let _one = shared.tx_lock.lock().await;
        shared
            .protocol
            .publish_settlement(&shared.signer, cid, hash, winner, &terms)
            .await
            .map_err(|e| format!("publish {cid}: {e}"))?
    };
    shared.metrics.published.inc();
    let fills: Vec<IntentFill> = market
        .intents
        .iter()
        .map(|(iid, key, _)| IntentFill {
            intent: *key,
            filled: Quantity(filled.get(iid).copied().unwrap_or(0)),
            price: s.price_of(*iid).unwrap_or(nash::units::Price::ZERO),
        })
        .collect();
    if let Some(gw) = &shared.gateway {
        let outcome = Outcome {
            challenge: hash32(cid),
            tx: Some(hash32(receipt.tx_hash)),
            fills,
        };
        if let Err(e) = shared
            .client
            .post::<_, serde_json::Value>(&format!("{gw}/outcomes"), &outcome)
            .await
        {
            shared.event(format!("gateway did not take the outcome of {cid}: {e}"));
        }
    }
    let p = Published {
        epoch,
        challenge: cid,
        class: ch.class,
        parties: ch.parties.len(),
        welfare,
        winner,
        tx: receipt.tx_hash,
        at_ms: now_ms(),
    };
    shared.event(format!(
        "published {:?} settlement {cid} (winner {winner})",
        ch.class
    ));
    push_bounded(&mut shared.status_mut().settlements, p, 50);
    Ok(())
}

/// The pause before the next round when no miner is registered yet.
pub(super) const IDLE: Duration = Duration::from_millis(500);
