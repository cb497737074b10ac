//! Property: random value transfers among the dev accounts (and one fresh address), including
//! ones above the sender's balance, conserve the total ETH to the wei and match a simple model;
//! over-balance transfers fail with `InsufficientFunds` and change nothing.
#![allow(clippy::unwrap_used)]

use pin_devchain::{DEV_BALANCE, DevChain, DevChainError, Outcome, Tx, dev_accounts};
use proptest::prelude::*;
use revm::primitives::{Address, Bytes, U256};

/// The ten dev accounts plus a fresh address that starts empty.
fn participants() -> Vec<Address> {
    let mut all: Vec<Address> = dev_accounts().into_iter().map(|(a, _)| a).collect();
    all.push(Address::repeat_byte(0xee));
    all
}

/// Amounts from dust to twice a dev account's balance (so many transfers overdraw).
fn amount() -> impl Strategy<Value = U256> {
    let max = DEV_BALANCE.saturating_mul(U256::from(2)).to::<u128>();
    prop_oneof![
        (0u128..1_000).prop_map(U256::from),
        (0u128..=max).prop_map(U256::from),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn transfers_conserve_eth(
        steps in prop::collection::vec((0usize..11, 0usize..11, amount()), 1..24)
    ) {
        let people = participants();
        let mut chain = DevChain::in_memory().unwrap();
        let mut model: Vec<U256> = people.iter().map(|a| chain.balance(*a).unwrap()).collect();
        let total: U256 = model.iter().copied().fold(U256::ZERO, |s, b| s + b);
        prop_assert_eq!(total, DEV_BALANCE * U256::from(10));

        for (from, to, value) in steps {
            let tx = Tx {
                from: people[from],
                to: Some(people[to]),
                input: Bytes::new(),
                value,
                gas_limit: 21_000,
            };
            let block = chain.block_number();
            let result = chain.transact(&tx);
            if value > model[from] {
                match result {
                    Err(DevChainError::InsufficientFunds { account, balance, needed }) => {
                        prop_assert_eq!(account, people[from]);
                        prop_assert_eq!(balance, model[from]);
                        prop_assert_eq!(needed, value);
                    }
                    other => prop_assert!(false, "overdraw accepted: {:?}", other),
                }
                prop_assert_eq!(chain.block_number(), block);
            } else {
                prop_assert!(matches!(result, Ok(Outcome::Success { .. })), "{:?}", result);
                prop_assert_eq!(chain.block_number(), block + 1);
                model[from] -= value;
                model[to] += value;
            }
            let mut sum = U256::ZERO;
            for (who, expected) in people.iter().zip(&model) {
                let actual = chain.balance(*who).unwrap();
                prop_assert_eq!(actual, *expected, "balance of {}", who);
                sum += actual;
            }
            prop_assert_eq!(sum, total);
            prop_assert_eq!(chain.balance(Address::ZERO).unwrap(), U256::ZERO);
        }
    }
}
