//! From an epoch's revealed weights to its emission table and Merkle root — the step every
//! validator must take identically, so that their proposed roots agree and reach the 2/3 quorum.
//!
//! The input is only what the chain holds: the weights each validator revealed (commit then
//! reveal, so none could copy another's), the validators' stakes, and the emission per epoch.
//! The state carried between epochs — Yuma bonds and the cumulative table the claims are
//! made against — is a pure function of the finalised epochs, so a validator that restarts or
//! joins late replays the chain to the same [`EmissionBook`].
//!
//! Canonical order: validators and miners sorted by address. An epoch in which nobody revealed
//! weights (or no miner has any) pays its whole emission to the treasury, so that the epoch can
//! still finalise and the next one open.

use alloy::primitives::Address;
use nash::config::Config;
use nash::consensus::{ConsensusError, ValidatorId, ValidatorInput, yuma};
use nash::emission::{Account, EmissionError, MerkleTree, accumulate, emission_table};
use nash::score::{Fixed, MinerId};
use nash::units::Hash32;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use thiserror::Error;

/// One validator's revealed weights for an epoch, with its stake when the epoch is settled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revealed {
    /// The validator.
    pub validator: Address,
    /// Its stake (wei).
    pub stake: u128,
    /// Its weight per miner.
    pub weights: Vec<(Address, u128)>,
}

/// Why an epoch could not be settled.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum EpochError {
    /// Epochs settle in order.
    #[error("epoch {got} settled out of order: the book expects epoch {expected}")]
    OutOfOrder {
        /// The epoch given.
        got: u64,
        /// The next epoch.
        expected: u64,
    },
    /// A validator revealed twice.
    #[error("validator {0} appears twice")]
    DuplicateValidator(Address),
    /// Consensus refused its input.
    #[error("consensus: {0}")]
    Consensus(#[from] ConsensusError),
    /// The table could not be built (overflow).
    #[error("emission: {0}")]
    Emission(#[from] EmissionError),
}

/// The state between epochs: Yuma bonds and the cumulative emission table.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmissionBook {
    /// The next epoch to settle (= epochs settled so far).
    pub next_epoch: u64,
    /// Bonds `(validator, miner) → Fixed` of the last settled epoch.
    pub bonds: Vec<(Address, Address, u128)>,
    /// Cumulative amounts per account, sorted by account (the claim table).
    pub totals: Vec<(Account, u128)>,
}

/// What an epoch paid, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EpochResult {
    /// The epoch.
    pub epoch: u64,
    /// This epoch's payments (account, wei).
    pub table: Vec<(Account, u128)>,
    /// The root over the cumulative table after this epoch (what validators propose).
    pub root: Hash32,
    /// Miners in canonical order, with their incentive share.
    pub miners: Vec<(Address, f64)>,
    /// Validators in canonical order, with `(stake share, trust, dividends)`.
    pub validators: Vec<(Address, f64, f64, f64)>,
}

/// A chain address as the mechanism's account.
#[must_use]
pub fn account(a: Address) -> Account {
    Account(a.0.0)
}

impl EmissionBook {
    /// Settles `epoch` from its reveals, paying `emission` (wei) split by
    /// [`Config::epoch_split`], unearned parts to `treasury`. Returns the next book and the
    /// epoch's result; `self` is unchanged.
    ///
    /// # Errors
    /// [`EpochError`].
    pub fn settle(
        &self,
        config: &Config,
        epoch: u64,
        revealed: &[Revealed],
        emission: u128,
        treasury: Address,
    ) -> Result<(EmissionBook, EpochResult), EpochError> {
        if epoch != self.next_epoch {
            return Err(EpochError::OutOfOrder {
                got: epoch,
                expected: self.next_epoch,
            });
        }
        let mut by_validator: BTreeMap<Address, &Revealed> = BTreeMap::new();
        for r in revealed {
            if by_validator.insert(r.validator, r).is_some() {
                return Err(EpochError::DuplicateValidator(r.validator));
            }
        }
        let miners: Vec<Address> = revealed
            .iter()
            .flat_map(|r| r.weights.iter().map(|(m, _)| *m))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let validators: Vec<Address> = by_validator.keys().copied().collect();
        let has_weight = revealed
            .iter()
            .any(|r| r.stake > 0 && r.weights.iter().any(|(_, w)| *w > 0));
        let (table, miners_out, validators_out, bonds) = if has_weight {
            let miner_ids: Vec<MinerId> = (0..miners.len()).map(|i| MinerId(i as u32)).collect();
            let inputs: Vec<ValidatorInput> = validators
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let r = by_validator[v];
                    let w: BTreeMap<Address, u128> = r.weights.iter().copied().collect();
                    ValidatorInput {
                        id: ValidatorId(i as u32),
                        stake: r.stake,
                        weights: miners
                            .iter()
                            .map(|m| w.get(m).copied().unwrap_or(0))
                            .collect(),
                    }
                })
                .collect();
            let previous: BTreeMap<(Address, Address), u128> =
                self.bonds.iter().map(|&(v, m, b)| ((v, m), b)).collect();
            let previous_bonds: Vec<Vec<Fixed>> = if previous.is_empty() {
                Vec::new()
            } else {
                validators
                    .iter()
                    .map(|v| {
                        miners
                            .iter()
                            .map(|m| Fixed(previous.get(&(*v, *m)).copied().unwrap_or(0)))
                            .collect()
                    })
                    .collect()
            };
            let out = yuma(&config.yuma, &miner_ids, &inputs, &previous_bonds)?;
            let (to_miners, to_validators) = config.epoch_split.divide(emission);
            let miner_accounts: Vec<Account> = miners.iter().map(|m| account(*m)).collect();
            let validator_accounts: Vec<Account> = validators.iter().map(|v| account(*v)).collect();
            let table = emission_table(
                &out,
                &miner_accounts,
                &validator_accounts,
                to_miners,
                to_validators,
                account(treasury),
            )?;
            let mut bonds = Vec::new();
            for (i, v) in validators.iter().enumerate() {
                for (j, m) in miners.iter().enumerate() {
                    let b = out
                        .bonds
                        .get(i)
                        .and_then(|row| row.get(j))
                        .map_or(0, |f| f.0);
                    if b != 0 {
                        bonds.push((*v, *m, b));
                    }
                }
            }
            let miners_out = miners
                .iter()
                .zip(&out.incentive)
                .map(|(m, f)| (*m, f.to_f64()))
                .collect();
            let validators_out = validators
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    (
                        *v,
                        out.stake[i].to_f64(),
                        out.trust[i].to_f64(),
                        out.dividends[i].to_f64(),
                    )
                })
                .collect();
            (table, miners_out, validators_out, bonds)
        } else {
            let table = if emission == 0 {
                Vec::new()
            } else {
                vec![(account(treasury), emission)]
            };
            (table, Vec::new(), Vec::new(), self.bonds.clone())
        };
        let totals = accumulate(&self.totals, &table)?;
        let root = MerkleTree::from_table(&totals)?.root();
        Ok((
            EmissionBook {
                next_epoch: epoch + 1,
                bonds,
                totals,
            },
            EpochResult {
                epoch,
                table,
                root,
                miners: miners_out,
                validators: validators_out,
            },
        ))
    }

    /// The cumulative amount of `who` and its proof against the book's root, if it has one.
    #[must_use]
    pub fn proof(&self, who: Address) -> Option<(u128, Vec<Hash32>)> {
        let a = account(who);
        let index = self.totals.iter().position(|(x, _)| *x == a)?;
        let tree = MerkleTree::from_table(&self.totals).ok()?;
        Some((self.totals[index].1, tree.proof(index)?))
    }

    /// The root over the cumulative table (`None` before anything was paid).
    #[must_use]
    pub fn root(&self) -> Option<Hash32> {
        MerkleTree::from_table(&self.totals).ok().map(|t| t.root())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nash::emission::{leaf, verify};

    fn addr(i: u8) -> Address {
        Address::repeat_byte(i)
    }

    fn reveal(v: u8, stake: u128, weights: &[(u8, u128)]) -> Revealed {
        Revealed {
            validator: addr(v),
            stake,
            weights: weights.iter().map(|&(m, w)| (addr(m), w)).collect(),
        }
    }

    #[test]
    fn settling_is_independent_of_reveal_order_and_pays_the_whole_emission() {
        let c = Config::default();
        let a = [
            reveal(1, 60, &[(10, 5), (11, 3)]),
            reveal(2, 40, &[(10, 4), (11, 4), (12, 1)]),
        ];
        let b = [a[1].clone(), a[0].clone()];
        let (book_a, ra) = EmissionBook::default()
            .settle(&c, 0, &a, 1_000_000, addr(99))
            .expect("settles");
        let (book_b, rb) = EmissionBook::default()
            .settle(&c, 0, &b, 1_000_000, addr(99))
            .expect("settles");
        assert_eq!(ra.root, rb.root);
        assert_eq!(book_a, book_b);
        assert_eq!(ra.table.iter().map(|(_, x)| x).sum::<u128>(), 1_000_000);
        let (amount, proof) = book_a.proof(addr(10)).expect("paid");
        assert!(amount > 0);
        assert!(verify(&ra.root, &leaf(&account(addr(10)), amount), &proof));
        // The second epoch accumulates and must come in order.
        assert!(matches!(
            book_a.settle(&c, 2, &a, 1, addr(99)),
            Err(EpochError::OutOfOrder {
                got: 2,
                expected: 1
            })
        ));
        let (book2, _) = book_a
            .settle(&c, 1, &a, 1_000_000, addr(99))
            .expect("settles");
        assert_eq!(book2.totals.iter().map(|(_, x)| x).sum::<u128>(), 2_000_000);
    }

    #[test]
    fn an_epoch_without_weights_pays_the_treasury() {
        let (book, r) = EmissionBook::default()
            .settle(&Config::default(), 0, &[], 500, addr(99))
            .expect("settles");
        assert_eq!(r.table, vec![(account(addr(99)), 500)]);
        assert_eq!(book.next_epoch, 1);
        assert_eq!(book.proof(addr(99)).map(|p| p.0), Some(500));
    }

    #[test]
    fn a_duplicate_reveal_is_refused() {
        let r = reveal(1, 1, &[(10, 1)]);
        assert_eq!(
            EmissionBook::default().settle(&Config::default(), 0, &[r.clone(), r], 1, addr(9)),
            Err(EpochError::DuplicateValidator(addr(1)))
        );
    }
}
