//! The epoch's emission table and its Merkle root, as OpenZeppelin's `MerkleProof` (v5) and
//! `StandardMerkleTree` (`@openzeppelin/merkle-tree`) build and check them.
//!
//! # Table
//!
//! [`emission_table`] turns a [`YumaOutput`] into exact integer amounts (wei): miner `j` gets
//! `⌊Iⱼ · miner_emission⌋`, validator `i` gets `⌊Dᵢ · validator_emission⌋`; each pool's floor
//! remainder goes to its largest share (ties to the smallest address), and a pool nobody earned
//! (all incentive, or all dividends, zero) goes whole to the caller's `remainder` account (e.g.
//! the subnet owner or treasury). An address that appears several times (say a miner that also
//! validates) gets the sum. The table is sorted by address, holds no zero amounts, and sums to
//! exactly `miner_emission + validator_emission`.
//!
//! # Running totals
//!
//! Claims use running-total leaves (STYLE.md item 14, Morpho's `UniversalRewardsDistributor`):
//! each leaf carries the *cumulative* amount an account has earned since the distributor began,
//! and the contract pays `claimable − claimed`. [`accumulate`] adds an epoch's table to the
//! previous cumulative table; the Merkle root is built over the cumulative table, so an old proof
//! never pays twice and a missed epoch is claimed with the next one.
//!
//! # Merkle tree
//!
//! * Leaf (OZ `StandardMerkleTree` with types `["address", "uint256"]`):
//!   `keccak256(bytes.concat(keccak256(abi.encode(account, amount))))`, where `abi.encode` is the
//!   address left-padded with 12 zero bytes followed by the amount as a 32-byte big-endian word.
//! * Internal node: `keccak256(min(a, b) ‖ max(a, b))` (OZ's commutative `Hashes.commutativeKeccak256`).
//! * Layout: exactly `@openzeppelin/merkle-tree`'s — leaves sorted by hash (byte order), stored
//!   in a `2n − 1` array from the end (`tree[2n − 2 − k]` = `k`-th sorted leaf), node `i` =
//!   hash of `2i + 1` and `2i + 2`; a proof lists siblings from the leaf up. So
//!   `StandardMerkleTree.of(entries, ["address", "uint256"]).root` gives the same root, and every
//!   proof passes `MerkleProof.verify(proof, root, leaf)`.

use crate::canonical::keccak256;
use crate::consensus::YumaOutput;
use crate::score::{Fixed, mul_div};
use crate::units::Hash32;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use thiserror::Error;

/// A 20-byte account address.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct Account(pub [u8; 20]);

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("0x")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// Malformed emission input.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum EmissionError {
    /// `miner_accounts` does not match the consensus output's miners.
    #[error("miner_accounts: {got} accounts for {expected} miners")]
    MinerAccounts {
        /// Accounts given.
        got: usize,
        /// Miners in the consensus output.
        expected: usize,
    },
    /// `validator_accounts` does not match the consensus output's validators.
    #[error("validator_accounts: {got} accounts for {expected} validators")]
    ValidatorAccounts {
        /// Accounts given.
        got: usize,
        /// Validators in the consensus output.
        expected: usize,
    },
    /// An amount or total does not fit in `u128`.
    #[error("amount overflow for {0}")]
    Overflow(Account),
    /// A Merkle tree needs at least one leaf.
    #[error("a Merkle tree needs at least one leaf")]
    Empty,
}

/// Splits `pool` by `shares` (fixed point, summing to 1 or all zero): floors, the remainder to
/// the largest share (ties to the smallest account). `None` if every share is zero.
fn split_pool(pool: u128, shares: &[Fixed], accounts: &[Account]) -> Option<Vec<u128>> {
    let total: u128 = shares.iter().map(|s| s.0).sum();
    if total == 0 {
        return None;
    }
    let mut out: Vec<u128> = shares.iter().map(|s| mul_div(pool, s.0, total)).collect();
    let paid: u128 = out.iter().sum();
    let mut top = 0;
    for i in 1..shares.len() {
        if shares[i] > shares[top] || (shares[i] == shares[top] && accounts[i] < accounts[top]) {
            top = i;
        }
    }
    out[top] += pool - paid;
    Some(out)
}

fn credit(
    table: &mut BTreeMap<Account, u128>,
    account: Account,
    amount: u128,
) -> Result<(), EmissionError> {
    let e = table.entry(account).or_insert(0);
    *e = e
        .checked_add(amount)
        .ok_or(EmissionError::Overflow(account))?;
    Ok(())
}

fn finish(table: BTreeMap<Account, u128>) -> Vec<(Account, u128)> {
    table.into_iter().filter(|(_, a)| *a > 0).collect()
}

/// The epoch's exact emission table (see the module doc): sorted by account, no zero amounts,
/// summing to `miner_emission + validator_emission`.
///
/// # Errors
///
/// [`EmissionError`] if the account lists do not match `consensus`, or amounts overflow.
pub fn emission_table(
    consensus: &YumaOutput,
    miner_accounts: &[Account],
    validator_accounts: &[Account],
    miner_emission: u128,
    validator_emission: u128,
    remainder: Account,
) -> Result<Vec<(Account, u128)>, EmissionError> {
    if miner_accounts.len() != consensus.incentive.len() {
        return Err(EmissionError::MinerAccounts {
            got: miner_accounts.len(),
            expected: consensus.incentive.len(),
        });
    }
    if validator_accounts.len() != consensus.dividends.len() {
        return Err(EmissionError::ValidatorAccounts {
            got: validator_accounts.len(),
            expected: consensus.dividends.len(),
        });
    }
    miner_emission
        .checked_add(validator_emission)
        .ok_or(EmissionError::Overflow(remainder))?;
    let mut table = BTreeMap::new();
    for (pool, shares, accounts) in [
        (miner_emission, &consensus.incentive, miner_accounts),
        (validator_emission, &consensus.dividends, validator_accounts),
    ] {
        match split_pool(pool, shares, accounts) {
            Some(amounts) => {
                for (a, x) in accounts.iter().zip(amounts) {
                    credit(&mut table, *a, x)?;
                }
            }
            None => credit(&mut table, remainder, pool)?,
        }
    }
    Ok(finish(table))
}

/// Adds an epoch's table to the previous cumulative (running-total) table; sorted by account,
/// no zero amounts.
///
/// # Errors
///
/// [`EmissionError::Overflow`] if a running total overflows `u128`.
pub fn accumulate(
    previous: &[(Account, u128)],
    epoch: &[(Account, u128)],
) -> Result<Vec<(Account, u128)>, EmissionError> {
    let mut table = BTreeMap::new();
    for (a, x) in previous.iter().chain(epoch) {
        credit(&mut table, *a, *x)?;
    }
    Ok(finish(table))
}

/// The double-hashed leaf `keccak256(bytes.concat(keccak256(abi.encode(account, amount))))`.
#[must_use]
pub fn leaf(account: &Account, amount: u128) -> Hash32 {
    let mut enc = [0u8; 64];
    enc[12..32].copy_from_slice(&account.0);
    enc[48..64].copy_from_slice(&amount.to_be_bytes());
    keccak256(&keccak256(&enc).0)
}

/// OZ's commutative node hash: keccak-256 of the two children, smaller first.
#[must_use]
pub fn hash_pair(a: &Hash32, b: &Hash32) -> Hash32 {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(&lo.0);
    buf[32..].copy_from_slice(&hi.0);
    keccak256(&buf)
}

/// `MerkleProof.verify`: folds `proof` into `leaf` with [`hash_pair`] and compares to `root`.
#[must_use]
pub fn verify(root: &Hash32, leaf: &Hash32, proof: &[Hash32]) -> bool {
    proof.iter().fold(*leaf, |acc, p| hash_pair(&acc, p)) == *root
}

/// A Merkle tree in `@openzeppelin/merkle-tree`'s layout (see the module doc).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerkleTree {
    /// The `2n − 1` nodes; the root is `nodes[0]`.
    nodes: Vec<Hash32>,
    /// For each input leaf (in input order), its index in `nodes`.
    positions: Vec<usize>,
}

impl MerkleTree {
    /// Builds the tree over `leaves` (any order; they are sorted by hash as OZ does).
    ///
    /// # Errors
    ///
    /// [`EmissionError::Empty`] for no leaves.
    pub fn new(leaves: &[Hash32]) -> Result<Self, EmissionError> {
        let n = leaves.len();
        if n == 0 {
            return Err(EmissionError::Empty);
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|a, b| leaves[*a].cmp(&leaves[*b]).then(a.cmp(b)));
        let len = 2 * n - 1;
        let mut nodes = vec![Hash32::default(); len];
        let mut positions = vec![0; n];
        for (k, i) in order.into_iter().enumerate() {
            nodes[len - 1 - k] = leaves[i];
            positions[i] = len - 1 - k;
        }
        for i in (0..len - n).rev() {
            nodes[i] = hash_pair(&nodes[2 * i + 1], &nodes[2 * i + 2]);
        }
        Ok(Self { nodes, positions })
    }

    /// The tree over an (account, amount) table's [`leaf`]s, in table order.
    ///
    /// # Errors
    ///
    /// [`EmissionError::Empty`] for an empty table.
    pub fn from_table(table: &[(Account, u128)]) -> Result<Self, EmissionError> {
        Self::new(&table.iter().map(|(a, x)| leaf(a, *x)).collect::<Vec<_>>())
    }

    /// The root.
    #[must_use]
    pub fn root(&self) -> Hash32 {
        self.nodes[0]
    }

    /// Number of leaves.
    #[must_use]
    pub fn len(&self) -> usize {
        self.positions.len()
    }

    /// Never true (a tree has at least one leaf); for clippy's `len_without_is_empty`.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// The proof of input leaf `index` (siblings from the leaf up), or `None` out of range.
    #[must_use]
    pub fn proof(&self, index: usize) -> Option<Vec<Hash32>> {
        let mut i = *self.positions.get(index)?;
        let mut proof = Vec::new();
        while i > 0 {
            let sibling = if i % 2 == 1 { i + 1 } else { i - 1 };
            proof.push(self.nodes[sibling]);
            i = (i - 1) / 2;
        }
        Some(proof)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::YumaConfig;
    use crate::consensus::{ValidatorId, ValidatorInput, yuma};
    use crate::score::{MinerId, SCALE};
    use proptest::prelude::*;

    fn acct(b: u8) -> Account {
        Account([b; 20])
    }

    /// Shared test vector (reuse in the Solidity tests): account 0x1111…11 (20 bytes of 0x11),
    /// amount 10¹⁸. `abi.encode` = 12 zero bytes ‖ 20 × 0x11 ‖ 24 zero bytes ‖
    /// 0x0de0b6b3a7640000 (10¹⁸ big-endian). Both hashes were also computed with an independent
    /// pure-Python keccak-256, and the leaf equals `@openzeppelin/merkle-tree`'s one-leaf root.
    const VECTOR_ENCODING: &str = "0000000000000000000000001111111111111111111111111111111111111111\
                                   0000000000000000000000000000000000000000000000000de0b6b3a7640000";
    const VECTOR_INNER: &str = "0x33299f7a3d3a9fdf1fa90600f1ac47f96566571c20754e489d0ec386494946f6";
    const VECTOR_LEAF: &str = "0xb38ec842db1cd54e5e5ce48491f1a404551e9726ebda349d0478e189e0996dd4";

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len() / 2)
            .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("ok"))
            .collect()
    }

    #[test]
    fn shared_leaf_vector() {
        let enc = hex(VECTOR_ENCODING);
        assert_eq!(enc.len(), 64);
        let inner = keccak256(&enc);
        assert_eq!(inner.to_string(), VECTOR_INNER);
        let outer = keccak256(&inner.0);
        assert_eq!(outer.to_string(), VECTOR_LEAF);
        assert_eq!(leaf(&acct(0x11), 1_000_000_000_000_000_000), outer);
    }

    /// Roots and proofs from `@openzeppelin/merkle-tree` 1.x
    /// (`StandardMerkleTree.of(values, ["address", "uint256"])`), pasted here as vectors.
    #[test]
    fn matches_openzeppelin_standard_merkle_tree() {
        let h = |s: &str| Hash32::from_hex(s).expect("hex");
        let e = 1_000_000_000_000_000_000u128;
        let t = MerkleTree::from_table(&[(acct(0x11), e), (acct(0x22), 2 * e), (acct(0x33), 3)])
            .expect("ok");
        assert_eq!(
            t.root(),
            h("0x5e7aa3d1304f1189f8bfbda7a25f792c060669e27e0f4e973a97a5bf11c7af2c")
        );
        let leaf0 = h(VECTOR_LEAF);
        assert_eq!(
            t.proof(0),
            Some(vec![h(
                "0x043c6f651c2cbe647d95d8fc996117791a4671ec990e317176c576b0edd19975"
            )])
        );
        assert_eq!(
            t.proof(1),
            Some(vec![
                h("0x1822ae4b563c0815a9cb78809432584aa220f215c2777ddf51cf5bdd1c0ad36f"),
                leaf0
            ])
        );
        assert_eq!(
            t.proof(2),
            Some(vec![
                h("0x1ab0fe69bbcd75aaadc701264fdf87402bfeeb190e9827298f18274cf7bc1135"),
                leaf0
            ])
        );
        let five: Vec<(Account, u128)> =
            (1..=5u8).map(|i| (acct(i), u128::from(i) * 1000)).collect();
        assert_eq!(
            MerkleTree::from_table(&five).expect("ok").root(),
            h("0x23d7677dcb214274e33103a158408195a22de136cbd6583940e54910d6040c7f")
        );
    }

    #[test]
    fn small_trees_by_hand() {
        let l: Vec<Hash32> = (1..=3).map(|i| leaf(&acct(i), u128::from(i) * 7)).collect();
        // One leaf: the root is the leaf, the proof empty.
        let t = MerkleTree::new(&l[..1]).expect("ok");
        assert_eq!(t.root(), l[0]);
        assert_eq!(t.proof(0), Some(vec![]));
        assert!(verify(&t.root(), &l[0], &[]));
        // Two leaves: H(min, max); each proof is the other leaf.
        let t = MerkleTree::new(&l[..2]).expect("ok");
        assert_eq!(t.root(), hash_pair(&l[0], &l[1]));
        assert_eq!(t.proof(0), Some(vec![l[1]]));
        assert_eq!(t.proof(1), Some(vec![l[0]]));
        // Three leaves sorted a < b < c: tree = [H(H(a, b), c), H(b, a), c, b, a].
        let mut s = l.clone();
        s.sort();
        let (a, b, c) = (s[0], s[1], s[2]);
        let t = MerkleTree::new(&l).expect("ok");
        let ab = hash_pair(&a, &b);
        assert_eq!(t.root(), hash_pair(&ab, &c));
        let ia = l.iter().position(|x| *x == a).expect("ok");
        let ic = l.iter().position(|x| *x == c).expect("ok");
        assert_eq!(t.proof(ia), Some(vec![b, c]));
        assert_eq!(t.proof(ic), Some(vec![ab]));
        assert_eq!(t.proof(3), None);
        assert_eq!(MerkleTree::new(&[]), Err(EmissionError::Empty));
    }

    #[test]
    fn every_proof_verifies_and_tampering_fails() {
        for n in 1..=33u8 {
            let table: Vec<(Account, u128)> =
                (0..n).map(|i| (acct(i), 1_000 + u128::from(i))).collect();
            let t = MerkleTree::from_table(&table).expect("ok");
            let root = t.root();
            for (i, (a, x)) in table.iter().enumerate() {
                let p = t.proof(i).expect("ok");
                assert!(verify(&root, &leaf(a, *x), &p), "n={n} i={i}");
                assert!(!verify(&root, &leaf(a, x + 1), &p));
                assert!(!verify(&root, &leaf(&acct(200), *x), &p));
                if !p.is_empty() {
                    let mut bad = p.clone();
                    bad[0].0[0] ^= 1;
                    assert!(!verify(&root, &leaf(a, *x), &bad));
                    assert!(!verify(&root, &leaf(a, *x), &p[..p.len() - 1]));
                }
            }
        }
    }

    fn consensus() -> YumaOutput {
        yuma(
            &YumaConfig::default(),
            &[MinerId(0), MinerId(1), MinerId(2)],
            &[
                ValidatorInput {
                    id: ValidatorId(0),
                    stake: 300,
                    weights: vec![5, 3, 2],
                },
                ValidatorInput {
                    id: ValidatorId(1),
                    stake: 100,
                    weights: vec![2, 2, 6],
                },
            ],
            &[],
        )
        .expect("ok")
    }

    #[test]
    fn table_sums_exactly_and_merges_accounts() {
        let out = consensus();
        let e = 10u128.pow(18);
        let miners = [acct(1), acct(2), acct(9)];
        let validators = [acct(9), acct(4)];
        let t = emission_table(&out, &miners, &validators, 41 * e + 7, 18 * e + 3, acct(0))
            .expect("ok");
        assert_eq!(t.iter().map(|x| x.1).sum::<u128>(), 59 * e + 10);
        assert!(t.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(t.iter().all(|x| x.0 != acct(0)));
        // Miner 1's share: ⌊0.305555555 · (41e18 + 7)⌋ exactly.
        let m1 = t.iter().find(|x| x.0 == acct(2)).expect("ok").1;
        assert_eq!(m1, mul_div(41 * e + 7, 305_555_555, SCALE));
        // acct(9) is miner 2 and validator 0: it gets both.
        let both = t.iter().find(|x| x.0 == acct(9)).expect("ok").1;
        assert!(both > mul_div(41 * e, 222_222_222, SCALE) + mul_div(18 * e, 8, 10));
        // Nobody earned: all to the remainder account.
        let mut none = out.clone();
        none.incentive = vec![Fixed::ZERO; 3];
        none.dividends = vec![Fixed::ZERO; 2];
        let t = emission_table(&none, &miners, &validators, 5, 6, acct(0)).expect("ok");
        assert_eq!(t, vec![(acct(0), 11)]);
        assert_eq!(
            emission_table(&out, &miners[..2], &validators, 5, 6, acct(0)),
            Err(EmissionError::MinerAccounts {
                got: 2,
                expected: 3
            })
        );
        // Running totals.
        let t1 = emission_table(&out, &miners, &validators, 100, 50, acct(0)).expect("ok");
        let cum = accumulate(&t1, &t1).expect("ok");
        assert_eq!(cum.iter().map(|x| x.1).sum::<u128>(), 300);
        assert_eq!(
            accumulate(&[(acct(1), u128::MAX)], &[(acct(1), 1)]),
            Err(EmissionError::Overflow(acct(1)))
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Any consensus output and emission: the table sums exactly, is sorted and
        /// zero-free, and every entry's proof verifies.
        #[test]
        fn table_always_sums_and_proves(
            rows in proptest::collection::vec(
                (0u128..1_000, proptest::collection::vec(0u128..50, 3)), 0..5),
            accts in proptest::collection::vec(0u8..6, 3 + 5),
            me in 0u128..u128::MAX / 4,
            ve in 0u128..u128::MAX / 4,
        ) {
            let vals: Vec<ValidatorInput> = rows
                .into_iter()
                .enumerate()
                .map(|(i, (stake, weights))| ValidatorInput {
                    id: ValidatorId(i as u32),
                    stake,
                    weights,
                })
                .collect();
            let out = yuma(
                &YumaConfig::default(),
                &[MinerId(0), MinerId(1), MinerId(2)],
                &vals,
                &[],
            )
            .expect("ok");
            let miners: Vec<Account> = accts[..3].iter().map(|b| acct(*b)).collect();
            let validators: Vec<Account> =
                accts[3..3 + vals.len()].iter().map(|b| acct(*b)).collect();
            let t = emission_table(&out, &miners, &validators, me, ve, acct(7)).expect("ok");
            prop_assert_eq!(t.iter().map(|x| x.1).sum::<u128>(), me + ve);
            prop_assert!(t.windows(2).all(|w| w[0].0 < w[1].0));
            prop_assert!(t.iter().all(|x| x.1 > 0));
            if let Ok(tree) = MerkleTree::from_table(&t) {
                for (i, (a, x)) in t.iter().enumerate() {
                    let p = tree.proof(i).expect("ok");
                    prop_assert!(verify(&tree.root(), &leaf(a, *x), &p));
                }
            } else {
                prop_assert!(t.is_empty());
            }
        }
    }
}
