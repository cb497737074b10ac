//! The epoch's end (see the module doc of [`super`]): weights, commit, reveal, settle, propose.

use super::store::Commit;
use super::{EpochView, MinerStats, Shared, push_bounded};
use crate::epochs::Revealed;
use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::signers::local::PrivateKeySigner;
use nash::score::{ChallengeOutcome, MinerId, MinerInput, Submission, epoch as score_epoch};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Scale of the weights (only ratios matter; this keeps them well inside 96 bits).
const WEIGHT_SCALE: u128 = 1_000_000_000_000_000_000_000;

/// This validator's weights for `epoch` from its recorded outcomes, sorted by miner.
fn weights(shared: &Shared, epoch: u64) -> Result<Vec<(Address, u128)>, String> {
    let outcomes = shared.store.outcomes(epoch).map_err(|e| e.to_string())?;
    let mut miners: BTreeSet<Address> = outcomes
        .iter()
        .flat_map(|o| o.miners.iter().map(|m| m.miner))
        .collect();
    miners.extend(
        shared
            .miners
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .copied(),
    );
    let miners: Vec<Address> = miners.into_iter().collect();
    let index: BTreeMap<Address, MinerId> = miners
        .iter()
        .enumerate()
        .map(|(i, m)| (*m, MinerId(i as u32)))
        .collect();
    let histories = shared
        .histories
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let inputs: Vec<MinerInput> = miners
        .iter()
        .map(|m| MinerInput {
            miner: index[m],
            history: histories.get(m).cloned().unwrap_or_default(),
        })
        .collect();
    let challenges: Vec<ChallengeOutcome> = outcomes
        .iter()
        .map(|o| ChallengeOutcome {
            class: o.class,
            priority: None,
            submissions: o
                .miners
                .iter()
                .filter(|m| m.answered)
                .map(|m| Submission {
                    miner: index[&m.miner],
                    answer: m.digest,
                    quality: m.quality,
                    at_us: if m.latency_us > 0 {
                        m.latency_us
                    } else {
                        m.latency_ms.saturating_mul(1000)
                    },
                })
                .collect(),
        })
        .collect();
    let table = score_epoch(&shared.mechanism, WEIGHT_SCALE, &inputs, &challenges);
    let mut out = Vec::with_capacity(miners.len());
    let mut status = shared.status_mut();
    for (m, id) in &index {
        let row = table.rows.iter().find(|r| r.miner == *id);
        let w = row.map_or(0, |r| r.total());
        out.push((*m, w));
        let st: &mut MinerStats = status.miners.entry(*m).or_default();
        if let Some(r) = row {
            st.twf = r.twf.0.to_f64();
            st.stratum = Some(r.stratum);
            st.pmu = r.pmu.0.to_f64();
            st.score = r.score.0.to_f64();
        }
        st.weight = w.to_string();
        st.epoch_sent = 0;
        st.epoch_answered = 0;
        st.epoch_q_sum = 0.0;
    }
    Ok(out)
}

fn fresh_salt() -> B256 {
    keccak256(PrivateKeySigner::random().to_bytes())
}

async fn commit_and_reveal(shared: &Shared, epoch: u64, now_s: u64) -> Result<(), String> {
    let s = &shared.schedule;
    let store = &shared.store;
    let mut commit = store.commit(epoch).map_err(|e| e.to_string())?;
    // A commit saved but not known to have landed: the process died, or the receipt was lost,
    // after its transaction was sent. If the chain holds exactly this commitment it landed;
    // sending it again would revert `AlreadyCommitted` and it would never be revealed.
    if now_s >= s.commit_opens(epoch)
        && now_s < s.propose_opens(epoch)
        && let Some(c) = commit.as_mut().filter(|c| !c.committed)
    {
        let me = shared.signer.address();
        let commitment = commitment(c, epoch, me)?;
        let on_chain = shared
            .protocol
            .commitment_of(epoch, me)
            .await
            .map_err(|e| format!("read the commitment for epoch {epoch}: {e}"))?;
        if on_chain == commitment {
            c.committed = true;
            store.put_commit(epoch, c).map_err(|e| e.to_string())?;
            shared.event(format!(
                "weights for epoch {epoch} were committed before (found on chain)"
            ));
        }
    }
    if now_s >= s.commit_opens(epoch) && now_s < s.reveal_opens(epoch) {
        if commit.is_none() {
            let c = Commit {
                weights: weights(shared, epoch)?,
                salt: fresh_salt(),
                committed: false,
                revealed: false,
                proposed: false,
            };
            store.put_commit(epoch, &c).map_err(|e| e.to_string())?;
            commit = Some(c);
        }
        if let Some(c) = commit.as_mut().filter(|c| !c.committed) {
            let commitment = commitment(c, epoch, shared.signer.address())?;
            {
                let _one = shared.tx_lock.lock().await;
                shared
                    .protocol
                    .commit_weights(&shared.signer, epoch, commitment)
                    .await
                    .map_err(|e| format!("commit weights for epoch {epoch}: {e}"))?;
            }
            c.committed = true;
            store.put_commit(epoch, c).map_err(|e| e.to_string())?;
            shared.event(format!(
                "committed weights for epoch {epoch} ({} miners)",
                c.weights.len()
            ));
        }
    }
    if now_s >= s.reveal_opens(epoch)
        && now_s < s.propose_opens(epoch)
        && let Some(c) = commit.as_mut().filter(|c| c.committed && !c.revealed)
    {
        let weights = c.chain_weights();
        {
            let _one = shared.tx_lock.lock().await;
            shared
                .protocol
                .reveal_weights(&shared.signer, epoch, &weights, c.salt)
                .await
                .map_err(|e| format!("reveal weights for epoch {epoch}: {e}"))?;
        }
        c.revealed = true;
        store.put_commit(epoch, c).map_err(|e| e.to_string())?;
        shared.event(format!("revealed weights for epoch {epoch}"));
    }
    Ok(())
}

async fn reveals(shared: &Shared, epoch: u64) -> Result<Vec<Revealed>, String> {
    let revealed = shared
        .protocol
        .revealed_weights(epoch)
        .await
        .map_err(|e| format!("read reveals of epoch {epoch}: {e}"))?;
    let mut out = Vec::with_capacity(revealed.len());
    for r in revealed {
        let stake = shared
            .protocol
            .validator_stake(r.validator)
            .await
            .map_err(|e| e.to_string())?;
        out.push(Revealed {
            validator: r.validator,
            stake: u128::try_from(stake.wei()).unwrap_or(u128::MAX),
            weights: r
                .weights
                .into_iter()
                .map(|(m, w)| (m, u128::try_from(w).unwrap_or(u128::MAX)))
                .collect(),
        });
    }
    Ok(out)
}

/// Settles finalised epochs into the book, and proposes the root of the next one when its
/// proposal window is open.
async fn settle(shared: &Shared, now_s: u64) -> Result<(), String> {
    let next = shared
        .protocol
        .next_epoch()
        .await
        .map_err(|e| e.to_string())?;
    let mut book = shared
        .book
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    // Epochs the chain finalised that the book has not taken in yet.
    while book.next_epoch < next {
        let e = book.next_epoch;
        let revealed = reveals(shared, e).await?;
        let (nb, result) = book
            .settle(
                &shared.mechanism,
                e,
                &revealed,
                shared.emission,
                shared.treasury,
            )
            .map_err(|err| err.to_string())?;
        let (root, minted) = shared
            .protocol
            .epoch_root(e)
            .await
            .map_err(|err| err.to_string())?;
        if root.0 != result.root.0 {
            shared.event(format!(
                "epoch {e}: the chain finalised root {root}, this validator computes {}",
                result.root
            ));
        }
        book = nb;
        shared
            .store
            .put_book(&book)
            .map_err(|err| err.to_string())?;
        *shared.book.lock().unwrap_or_else(|p| p.into_inner()) = book.clone();
        let challenges = shared.store.outcomes(e).map(|o| o.len()).unwrap_or(0);
        let revealed_mine = revealed
            .iter()
            .any(|r| r.validator == shared.signer.address());
        let mut s = shared.status_mut();
        s.epochs.retain(|v| v.epoch != e);
        push_bounded(
            &mut s.epochs,
            EpochView {
                epoch: e,
                challenges,
                revealed: revealed_mine,
                result: Some(result),
                finalised: true,
                minted: minted.wei().to_string(),
            },
            50,
        );
        drop(s);
        shared.event(format!("epoch {e} final: root {root}, minted {minted}"));
        let _ = shared.store.prune_outcomes(e.saturating_sub(2));
    }
    let current = shared.schedule.epoch_at(now_s).unwrap_or(0);
    if next < current && now_s >= shared.schedule.propose_opens(next) {
        let mut commit = shared.store.commit(next).map_err(|e| e.to_string())?;
        if commit.as_ref().is_some_and(|c| c.proposed) {
            return Ok(());
        }
        let revealed = reveals(shared, next).await?;
        let (_, result) = book
            .settle(
                &shared.mechanism,
                next,
                &revealed,
                shared.emission,
                shared.treasury,
            )
            .map_err(|e| e.to_string())?;
        let root = B256::from(result.root.0);
        let sent = {
            let _one = shared.tx_lock.lock().await;
            shared
                .protocol
                .propose_root(&shared.signer, next, root)
                .await
        };
        match sent {
            Ok(_) => shared.event(format!("proposed root {root} for epoch {next}")),
            Err(e) => {
                let text = e.to_string();
                // Another validator's proposal may have finalised it meanwhile, or this one
                // proposed before a restart: both are fine.
                if !(text.contains("AlreadyProposed") || text.contains("EpochNotOpen")) {
                    return Err(format!("propose epoch {next}: {text}"));
                }
            }
        }
        let mut c = commit.take().unwrap_or(Commit {
            weights: Vec::new(),
            salt: B256::ZERO,
            committed: false,
            revealed: false,
            proposed: false,
        });
        c.proposed = true;
        shared
            .store
            .put_commit(next, &c)
            .map_err(|e| e.to_string())?;
        let mut s = shared.status_mut();
        if !s.epochs.iter().any(|v| v.epoch == next) {
            push_bounded(
                &mut s.epochs,
                EpochView {
                    epoch: next,
                    challenges: shared.store.outcomes(next).map(|o| o.len()).unwrap_or(0),
                    revealed: c.revealed,
                    result: Some(result),
                    finalised: false,
                    minted: "0".into(),
                },
                50,
            );
        }
    }
    Ok(())
}

/// Runs the epoch duties every half second until stopped.
pub(super) async fn run(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now_s = shared.chain_now().await;
        let current = shared.schedule.epoch_at(now_s).unwrap_or(0);
        shared.status_mut().epoch = current;
        for e in current.saturating_sub(3)..current {
            if let Err(err) = commit_and_reveal(&shared, e, now_s).await {
                shared.event(err);
            }
        }
        if let Err(err) = settle(&shared, now_s).await {
            shared.event(err);
        }
    }
}

impl Commit {
    /// The weights as the contract takes them.
    fn chain_weights(&self) -> Vec<(Address, U256)> {
        self.weights
            .iter()
            .map(|(m, w)| (*m, U256::from(*w)))
            .collect()
    }
}

/// What `validator` commits to for `epoch`: the hash the contract checks the reveal against.
fn commitment(c: &Commit, epoch: u64, validator: Address) -> Result<B256, String> {
    pin_chain::weights_commitment(epoch, validator, &c.chain_weights(), c.salt)
        .map_err(|e| format!("weights for epoch {epoch}: {e}"))
}
