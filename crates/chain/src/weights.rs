//! Validator weights on chain: the epoch schedule of commits, reveals and root proposals, the
//! commitment a validator makes before revealing its weights, and the client-side checks that
//! mirror the contract's.
//!
//! After epoch `e` ends at `end(e)`, with `W` the reveal window of the deployment
//! (`EpochEmissions.revealWindow`):
//!
//! | from | until | what |
//! |---|---|---|
//! | `end(e)` | `end(e) + W` | staked validators commit ([`crate::Protocol::commit_weights`]) |
//! | `end(e) + W` | `end(e) + 2W` | those that committed reveal ([`crate::Protocol::reveal_weights`]) |
//! | `end(e) + 2W` | | validators propose the epoch's root ([`crate::Protocol::propose_root`]) |
//!
//! Every commitment is fixed before any weights are public, and it binds the validator's
//! address, so no validator can copy another's weights.

use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::sol_types::SolValue;
use serde::Serialize;

/// The most miners one validator's weights may name in an epoch (`EpochEmissions.MAX_MINERS`).
pub const MAX_MINERS: usize = 256;

/// Weights the contract would refuse to reveal, found before anything is sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WeightsError {
    /// The same miner appears twice.
    #[error("miner {miner} is weighted twice")]
    DuplicateMiner {
        /// The repeated miner.
        miner: Address,
    },
    /// More miners than the contract takes.
    #[error("{count} miners weighted, at most {maximum} are allowed")]
    TooManyMiners {
        /// Miners given.
        count: usize,
        /// [`MAX_MINERS`].
        maximum: usize,
    },
    /// A weight does not fit the 96 bits the contract stores.
    #[error("weight {weight} of miner {miner} does not fit 96 bits")]
    WeightTooLarge {
        /// The miner.
        miner: Address,
        /// Its weight.
        weight: U256,
    },
}

/// The largest weight the contract stores (2^96 − 1).
fn max_weight() -> U256 {
    (U256::from(1u8) << 96) - U256::from(1u8)
}

/// `weights` in the order the contract requires (miners strictly ascending by address), after
/// the contract's checks: no miner twice, at most [`MAX_MINERS`], every weight below 2^96.
pub fn sorted_weights(weights: &[(Address, U256)]) -> Result<Vec<(Address, U256)>, WeightsError> {
    if weights.len() > MAX_MINERS {
        return Err(WeightsError::TooManyMiners {
            count: weights.len(),
            maximum: MAX_MINERS,
        });
    }
    let max = max_weight();
    if let Some(&(miner, weight)) = weights.iter().find(|(_, w)| *w > max) {
        return Err(WeightsError::WeightTooLarge { miner, weight });
    }
    let mut sorted = weights.to_vec();
    sorted.sort_by_key(|(miner, _)| *miner);
    if let Some(pair) = sorted.windows(2).find(|pair| pair[0].0 == pair[1].0) {
        return Err(WeightsError::DuplicateMiner { miner: pair[0].0 });
    }
    Ok(sorted)
}

/// The commitment `validator` makes to `weights` for `epoch`, exactly as
/// `EpochEmissions.revealWeights` recomputes it:
/// `keccak256(abi.encode(epoch, validator, miners, weights, salt))`, with the miners in
/// ascending order (`weights` is sorted here, so the order given does not matter).
///
/// `salt` must be fresh and random for each commitment and kept secret until the reveal:
/// without it, weights over a few miners can be guessed from the commitment.
///
/// # Errors
/// [`WeightsError`] if the contract would refuse to reveal these weights (see
/// [`sorted_weights`]): a commitment to them could never be opened.
pub fn weights_commitment(
    epoch: u64,
    validator: Address,
    weights: &[(Address, U256)],
    salt: B256,
) -> Result<B256, WeightsError> {
    let sorted = sorted_weights(weights)?;
    Ok(commitment_of_sorted(epoch, validator, &sorted, salt))
}

/// The commitment hash of weights already in the contract's order (no checks).
fn commitment_of_sorted(
    epoch: u64,
    validator: Address,
    sorted: &[(Address, U256)],
    salt: B256,
) -> B256 {
    let (miners, weights): (Vec<Address>, Vec<U256>) = sorted.iter().copied().unzip();
    keccak256((U256::from(epoch), validator, miners, weights, salt).abi_encode_params())
}

/// One validator's revealed weights for an epoch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RevealedWeights {
    /// The validator.
    pub validator: Address,
    /// Its weight per miner, miners ascending by address.
    pub weights: Vec<(Address, U256)>,
}

/// The fixed timing of a deployment's epochs (unix seconds), read from `EpochEmissions`.
///
/// Times saturate at `u64::MAX` rather than overflow for absurd epoch numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct EpochSchedule {
    /// Start of epoch 0.
    pub genesis: u64,
    /// Seconds per epoch (nonzero in a deployed contract).
    pub epoch_length: u64,
    /// Seconds of the commit window, and of the reveal window after it.
    pub reveal_window: u64,
}

impl EpochSchedule {
    /// When `epoch` ends: `genesis + (epoch + 1) · epoch_length`.
    #[must_use]
    pub const fn end(&self, epoch: u64) -> u64 {
        self.genesis
            .saturating_add(epoch.saturating_add(1).saturating_mul(self.epoch_length))
    }

    /// When commitments for `epoch` open (its end); they close at [`Self::reveal_opens`].
    #[must_use]
    pub const fn commit_opens(&self, epoch: u64) -> u64 {
        self.end(epoch)
    }

    /// When reveals for `epoch` open (commitments close); they close at [`Self::propose_opens`].
    #[must_use]
    pub const fn reveal_opens(&self, epoch: u64) -> u64 {
        self.end(epoch).saturating_add(self.reveal_window)
    }

    /// When roots for `epoch` may be proposed (reveals close).
    #[must_use]
    pub const fn propose_opens(&self, epoch: u64) -> u64 {
        self.reveal_opens(epoch).saturating_add(self.reveal_window)
    }

    /// The epoch that `unix_secs` falls in; `None` before genesis (or with a zero epoch length).
    #[must_use]
    pub fn epoch_at(&self, unix_secs: u64) -> Option<u64> {
        unix_secs
            .checked_sub(self.genesis)?
            .checked_div(self.epoch_length)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn miner(i: u8) -> Address {
        Address::repeat_byte(i)
    }

    #[test]
    fn weights_are_sorted_and_checked_like_the_contract_checks_them() {
        let given = [
            (miner(3), U256::from(30u8)),
            (miner(1), U256::from(10u8)),
            (miner(2), U256::ZERO),
        ];
        assert_eq!(
            sorted_weights(&given),
            Ok(vec![
                (miner(1), U256::from(10u8)),
                (miner(2), U256::ZERO),
                (miner(3), U256::from(30u8)),
            ])
        );
        assert_eq!(sorted_weights(&[]), Ok(vec![]));
        assert_eq!(
            sorted_weights(&[(miner(2), U256::from(1u8)), (miner(2), U256::from(2u8))]),
            Err(WeightsError::DuplicateMiner { miner: miner(2) })
        );
        let too_many: Vec<_> = (0..=MAX_MINERS)
            .map(|i| (Address::left_padding_from(&i.to_be_bytes()), U256::ZERO))
            .collect();
        assert_eq!(
            sorted_weights(&too_many),
            Err(WeightsError::TooManyMiners {
                count: MAX_MINERS + 1,
                maximum: MAX_MINERS
            })
        );
        assert!(sorted_weights(&too_many[..MAX_MINERS]).is_ok());
        assert!(sorted_weights(&[(miner(1), max_weight())]).is_ok());
        assert_eq!(
            sorted_weights(&[(miner(1), max_weight() + U256::from(1u8))]),
            Err(WeightsError::WeightTooLarge {
                miner: miner(1),
                weight: U256::from(1u8) << 96
            })
        );
    }

    #[test]
    fn the_commitment_ignores_the_given_order_and_binds_everything_else() {
        let salt = B256::repeat_byte(7);
        let v = miner(0xaa);
        let a = [(miner(1), U256::from(1u8)), (miner(2), U256::from(2u8))];
        let b = [(miner(2), U256::from(2u8)), (miner(1), U256::from(1u8))];
        let c = weights_commitment(4, v, &a, salt).expect("valid");
        assert_eq!(weights_commitment(4, v, &b, salt), Ok(c));
        assert_ne!(weights_commitment(5, v, &a, salt), Ok(c));
        assert_ne!(weights_commitment(4, miner(0xbb), &a, salt), Ok(c));
        assert_ne!(weights_commitment(4, v, &a, B256::repeat_byte(8)), Ok(c));
        let heavier = [(miner(1), U256::from(1u8)), (miner(2), U256::from(3u8))];
        assert_ne!(weights_commitment(4, v, &heavier, salt), Ok(c));
    }

    #[test]
    fn the_commitment_is_solidity_abi_encode_of_the_five_values() {
        // abi.encode(uint256 4, address v, address[] [m1], uint256[] [9], bytes32 salt), by hand:
        // three static heads, two offsets (0xa0, 0xe0), then each array as length and elements.
        let v = miner(0xaa);
        let salt = B256::repeat_byte(7);
        let word = |x: U256| x.to_be_bytes::<32>().to_vec();
        let mut encoded = Vec::new();
        encoded.extend(word(U256::from(4u8)));
        encoded.extend(word(U256::from_be_slice(v.as_slice())));
        encoded.extend(word(U256::from(0xa0u16)));
        encoded.extend(word(U256::from(0xe0u16)));
        encoded.extend(salt.as_slice());
        encoded.extend(word(U256::from(1u8)));
        encoded.extend(word(U256::from_be_slice(miner(1).as_slice())));
        encoded.extend(word(U256::from(1u8)));
        encoded.extend(word(U256::from(9u8)));
        assert_eq!(
            weights_commitment(4, v, &[(miner(1), U256::from(9u8))], salt),
            Ok(keccak256(encoded))
        );
    }

    #[test]
    fn the_schedule_places_the_windows_after_each_epoch() {
        let s = EpochSchedule {
            genesis: 1_000,
            epoch_length: 100,
            reveal_window: 10,
        };
        assert_eq!(s.end(0), 1_100);
        assert_eq!(s.commit_opens(2), 1_300);
        assert_eq!(s.reveal_opens(2), 1_310);
        assert_eq!(s.propose_opens(2), 1_320);
        assert_eq!(s.epoch_at(999), None);
        assert_eq!(s.epoch_at(1_000), Some(0));
        assert_eq!(s.epoch_at(1_099), Some(0));
        assert_eq!(s.epoch_at(1_100), Some(1));
        assert_eq!(s.end(u64::MAX), u64::MAX);
        let broken = EpochSchedule {
            epoch_length: 0,
            ..s
        };
        assert_eq!(broken.epoch_at(2_000), None);
    }
}
