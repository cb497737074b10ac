//! Behaviour of the dev chain on real EVM bytecode: persistence, call, revert, logs, time,
//! blocks, transfers and locking.
#![allow(clippy::unwrap_used)]

mod common;

use common::{
    GAS, INCREMENT_RUNTIME, INVALID_RUNTIME, LOG_RUNTIME, REVERT_RUNTIME, STORE_RUNTIME,
    TIMESTAMP_RUNTIME, call_tx, deploy, dev, init_code, tx_hash, word,
};
use pin_devchain::{CHAIN_ID, DEV_BALANCE, DevChain, DevChainError, Outcome, Tx, dev_accounts};
use revm::primitives::{Address, B256, Bytes, U256, address, b256};

fn eth(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18))
}

#[test]
fn dev_accounts_match_anvil_and_are_funded() {
    let accounts = dev_accounts();
    assert_eq!(accounts.len(), 10);
    assert_eq!(
        accounts[0].0,
        address!("f39Fd6e51aad88F6F4ce6aB8827279cffFb92266")
    );
    assert_eq!(
        accounts[0].1,
        b256!("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
    );
    assert_eq!(
        accounts[1].0,
        address!("70997970C51812dc3A010C7d01b50e0d17dc79C8")
    );
    assert_eq!(
        accounts[9].0,
        address!("a0Ee7A142d267C1f36714E4a8F75612F20a79720")
    );
    assert_eq!(CHAIN_ID, 31337);
    assert_eq!(DEV_BALANCE, eth(10_000));

    let chain = DevChain::in_memory().unwrap();
    assert_eq!(chain.block_number(), 0);
    for (a, _) in &accounts {
        assert_eq!(chain.balance(*a).unwrap(), eth(10_000), "{a}");
        assert_eq!(chain.nonce(*a).unwrap(), 0, "{a}");
    }
    assert_eq!(chain.balance(Address::repeat_byte(7)).unwrap(), U256::ZERO);
}

#[test]
fn storage_and_code_persist_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let contract = {
        let mut chain = DevChain::open(dir.path()).unwrap();
        let deployment = Tx {
            from: dev(0),
            to: None,
            input: init_code(STORE_RUNTIME),
            value: U256::ZERO,
            gas_limit: GAS,
        };
        let Outcome::Success {
            output,
            contract_address: Some(contract),
            ..
        } = chain.transact(&deployment).unwrap()
        else {
            panic!("deploy failed");
        };
        // A deployment returns the deployed code, at the CREATE address.
        assert_eq!(output, Bytes::from_static(STORE_RUNTIME));
        assert_eq!(contract, dev(0).create(0));
        let out = chain
            .transact(&call_tx(dev(0), contract, word(42)))
            .unwrap();
        assert!(out.is_success(), "{out:?}");
        assert_eq!(chain.block_number(), 2);
        contract
    };
    let mut chain = DevChain::open(dir.path()).unwrap();
    assert_eq!(chain.block_number(), 2);
    assert_eq!(chain.nonce(dev(0)).unwrap(), 2);
    assert_eq!(
        chain.code(contract).unwrap(),
        Bytes::from_static(STORE_RUNTIME)
    );
    assert_eq!(chain.storage(contract, U256::ZERO).unwrap(), U256::from(42));
    // The reopened chain executes against the stored code and storage.
    match chain
        .call(&call_tx(dev(1), contract, Bytes::new()))
        .unwrap()
    {
        Outcome::Success { output, .. } => assert_eq!(output, word(42)),
        other => panic!("{other:?}"),
    }
    // Writing zero deletes the slot; it reads back as zero after another reopen.
    assert!(
        chain
            .transact(&call_tx(dev(0), contract, word(0)))
            .unwrap()
            .is_success()
    );
    drop(chain);
    let chain = DevChain::open(dir.path()).unwrap();
    assert_eq!(chain.storage(contract, U256::ZERO).unwrap(), U256::ZERO);
    assert_eq!(chain.block_number(), 3);
}

#[test]
fn call_commits_nothing() {
    let mut chain = DevChain::in_memory().unwrap();
    let contract = deploy(&mut chain, dev(0), STORE_RUNTIME);
    let (block, ts, nonce) = (
        chain.block_number(),
        chain.timestamp(),
        chain.nonce(dev(0)).unwrap(),
    );

    let out = chain.call(&call_tx(dev(0), contract, word(7))).unwrap();
    let hash = tx_hash(&out);
    assert_eq!(hash, call_tx(dev(0), contract, word(7)).hash(nonce));
    assert_eq!(chain.storage(contract, U256::ZERO).unwrap(), U256::ZERO);
    assert_eq!(chain.nonce(dev(0)).unwrap(), nonce);
    assert_eq!(chain.block_number(), block);
    assert_eq!(chain.timestamp(), ts);
    assert_eq!(chain.receipt(hash).unwrap(), None);

    // A value-carrying call moves nothing either.
    let before = chain.balance(dev(0)).unwrap();
    let transfer = Tx {
        value: eth(1),
        ..call_tx(dev(0), dev(1), Bytes::new())
    };
    assert!(chain.call(&transfer).unwrap().is_success());
    assert_eq!(chain.balance(dev(0)).unwrap(), before);
    assert_eq!(chain.balance(dev(1)).unwrap(), eth(10_000));
}

#[test]
fn revert_and_halt_return_their_data_and_change_nothing() {
    let mut chain = DevChain::in_memory().unwrap();
    let reverter = deploy(&mut chain, dev(0), REVERT_RUNTIME);
    let invalid = deploy(&mut chain, dev(0), INVALID_RUNTIME);
    let (block, ts) = (chain.block_number(), chain.timestamp());
    let nonce = chain.nonce(dev(1)).unwrap();
    let balance = chain.balance(dev(1)).unwrap();

    let tx = Tx {
        value: eth(3),
        ..call_tx(dev(1), reverter, Bytes::new())
    };
    match chain.transact(&tx).unwrap() {
        Outcome::Revert { output, gas_used } => {
            assert_eq!(output, Bytes::from_static(&[0xde, 0xad, 0xbe, 0xef]));
            assert!(gas_used > 21_000 && gas_used < GAS, "{gas_used}");
        }
        other => panic!("expected revert, got {other:?}"),
    }
    match chain
        .transact(&call_tx(dev(1), invalid, Bytes::new()))
        .unwrap()
    {
        Outcome::Halt { gas_used, reason } => {
            assert_eq!(gas_used, GAS);
            assert!(reason.contains("Invalid"), "{reason}");
        }
        other => panic!("expected halt, got {other:?}"),
    }
    assert_eq!(chain.nonce(dev(1)).unwrap(), nonce);
    assert_eq!(chain.balance(dev(1)).unwrap(), balance);
    assert_eq!(chain.balance(reverter).unwrap(), U256::ZERO);
    assert_eq!(chain.block_number(), block);
    assert_eq!(chain.timestamp(), ts);
    assert_eq!(chain.receipt(tx.hash(nonce)).unwrap(), None);
}

#[test]
fn logs_are_stored_and_queryable() {
    let mut chain = DevChain::in_memory().unwrap();
    let logger = deploy(&mut chain, dev(0), LOG_RUNTIME);
    let out = chain
        .transact(&call_tx(dev(2), logger, word(0x99)))
        .unwrap();
    let Outcome::Success { tx_hash, logs, .. } = out else {
        panic!("{out:?}");
    };
    assert_eq!(logs.len(), 1);
    let log = &logs[0];
    assert_eq!(log.address, logger);
    assert_eq!(log.data.topics(), &[B256::from(U256::from(0x42))]);
    assert_eq!(log.data.data, word(0x99));

    let block = chain.block_number();
    let receipt = chain.receipt(tx_hash).unwrap().expect("receipt stored");
    assert_eq!(receipt.tx_hash, tx_hash);
    assert_eq!(receipt.block_number, block);
    assert!(receipt.success);
    assert_eq!(receipt.contract_address, None);
    assert_eq!(receipt.logs, logs);

    let second = tx_hash_of(
        chain
            .transact(&call_tx(dev(2), logger, word(0x77)))
            .unwrap(),
    );
    let all = chain.logs(0, chain.block_number(), Some(logger)).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!((all[0].0, all[0].1), (block, tx_hash));
    assert_eq!((all[1].0, all[1].1), (block + 1, second));
    assert_eq!(all[1].2.data.data, word(0x77));
    assert_eq!(chain.logs(0, chain.block_number(), None).unwrap(), all);
    assert!(chain.logs(0, 100, Some(dev(0))).unwrap().is_empty());
    assert_eq!(chain.logs(block + 1, block + 1, None).unwrap().len(), 1);
    assert!(chain.logs(block + 2, block + 10, None).unwrap().is_empty());
    assert!(chain.logs(block + 1, block, None).unwrap().is_empty());

    // The deployment receipt names the contract.
    let deploy_hash = Tx {
        from: dev(0),
        to: None,
        input: init_code(LOG_RUNTIME),
        value: U256::ZERO,
        gas_limit: GAS,
    }
    .hash(0);
    let receipt = chain.receipt(deploy_hash).unwrap().expect("deploy receipt");
    assert_eq!(receipt.contract_address, Some(logger));
    assert_eq!(receipt.block_number, 1);
}

fn tx_hash_of(out: Outcome) -> B256 {
    tx_hash(&out)
}

#[test]
fn advance_time_moves_timestamps_and_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (clock, advanced) = {
        let mut chain = DevChain::open(dir.path()).unwrap();
        let clock = deploy(&mut chain, dev(0), TIMESTAMP_RUNTIME);
        let t0 = chain.timestamp();
        let n0 = chain.block_number();
        chain.advance_time(3_600).unwrap();
        assert!(
            chain.timestamp() >= t0 + 3_600,
            "{} < {t0} + 3600",
            chain.timestamp()
        );
        assert_eq!(chain.block_number(), n0 + 1);
        (clock, chain.timestamp())
    };
    let mut chain = DevChain::open(dir.path()).unwrap();
    assert_eq!(chain.timestamp(), advanced);
    let n1 = chain.block_number();
    // The EVM sees the pending block's time: not before the advanced head, offset kept.
    match chain.call(&call_tx(dev(0), clock, Bytes::new())).unwrap() {
        Outcome::Success { output, .. } => {
            let seen = U256::from_be_slice(&output);
            assert!(seen >= U256::from(advanced), "{seen} < {advanced}");
            assert!(
                seen < U256::from(advanced + 60),
                "{seen} too far past {advanced}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(
        chain
            .transact(&call_tx(dev(0), clock, Bytes::new()))
            .unwrap()
            .is_success()
    );
    assert!(chain.timestamp() >= advanced);
    assert_eq!(chain.block_number(), n1 + 1);
}

#[test]
fn transact_block_commits_successes_and_skips_reverts() {
    let mut chain = DevChain::in_memory().unwrap();
    let store = deploy(&mut chain, dev(0), STORE_RUNTIME);
    let reverter = deploy(&mut chain, dev(0), REVERT_RUNTIME);
    let block = chain.block_number();
    let nonce = chain.nonce(dev(3)).unwrap();

    let txs = [
        call_tx(dev(3), store, word(1)),
        call_tx(dev(3), reverter, Bytes::new()),
        call_tx(dev(3), store, word(2)),
    ];
    let outcomes = chain.transact_block(&txs).unwrap();
    assert_eq!(outcomes.len(), 3);
    assert!(outcomes[0].is_success());
    assert!(matches!(outcomes[1], Outcome::Revert { .. }));
    assert!(outcomes[2].is_success());
    // The third ran on the state the first left, with the next nonce.
    assert_eq!(tx_hash(&outcomes[0]), txs[0].hash(nonce));
    assert_eq!(tx_hash(&outcomes[2]), txs[2].hash(nonce + 1));

    assert_eq!(chain.block_number(), block + 1);
    assert_eq!(chain.nonce(dev(3)).unwrap(), nonce + 2);
    assert_eq!(chain.storage(store, U256::ZERO).unwrap(), U256::from(2));
    for out in [&outcomes[0], &outcomes[2]] {
        let receipt = chain.receipt(tx_hash(out)).unwrap().expect("receipt");
        assert_eq!(receipt.block_number, block + 1);
    }
}

#[test]
fn a_refused_transaction_discards_the_whole_block() {
    let mut chain = DevChain::in_memory().unwrap();
    let store = deploy(&mut chain, dev(0), STORE_RUNTIME);
    let block = chain.block_number();
    let broke = Address::repeat_byte(0xb0);
    let txs = [
        call_tx(dev(0), store, word(5)),
        Tx {
            value: U256::from(1),
            ..call_tx(broke, dev(0), Bytes::new())
        },
    ];
    match chain.transact_block(&txs) {
        Err(DevChainError::InsufficientFunds {
            account,
            balance,
            needed,
        }) => {
            assert_eq!(account, broke);
            assert_eq!(balance, U256::ZERO);
            assert_eq!(needed, U256::from(1));
        }
        other => panic!("expected InsufficientFunds, got {other:?}"),
    }
    assert_eq!(chain.block_number(), block);
    assert_eq!(chain.storage(store, U256::ZERO).unwrap(), U256::ZERO);
    assert_eq!(chain.nonce(dev(0)).unwrap(), 1);

    let too_much_gas = Tx {
        gas_limit: 30_000_001,
        ..call_tx(dev(0), store, word(5))
    };
    let err = chain.transact(&too_much_gas).unwrap_err();
    assert!(
        matches!(err, DevChainError::InvalidTx { account, .. } if account == dev(0)),
        "{err}"
    );
    assert_eq!(chain.block_number(), block);
}

#[test]
fn value_transfer_moves_eth_exactly() {
    let mut chain = DevChain::in_memory().unwrap();
    let fresh = Address::repeat_byte(0x5a);
    let amount = eth(1) + U256::from(123_456_789u64);
    let tx = Tx {
        value: amount,
        ..call_tx(dev(4), fresh, Bytes::new())
    };
    match chain.transact(&tx).unwrap() {
        Outcome::Success { gas_used, .. } => assert_eq!(gas_used, 21_000),
        other => panic!("{other:?}"),
    }
    assert_eq!(chain.balance(dev(4)).unwrap(), eth(10_000) - amount);
    assert_eq!(chain.balance(fresh).unwrap(), amount);
    let total: U256 = dev_accounts()
        .iter()
        .map(|(a, _)| chain.balance(*a).unwrap())
        .fold(chain.balance(fresh).unwrap(), |s, b| s + b);
    assert_eq!(total, eth(100_000));
    // The coinbase earns nothing: no fees.
    assert_eq!(chain.balance(Address::ZERO).unwrap(), U256::ZERO);
}

#[test]
fn selfdestruct_in_constructor_leaves_no_account() {
    let mut chain = DevChain::in_memory().unwrap();
    let before = chain.balance(dev(5)).unwrap();
    // CALLER SELFDESTRUCT: created and destroyed in one transaction (EIP-6780 deletes it).
    let tx = Tx {
        from: dev(5),
        to: None,
        input: Bytes::from_static(&[0x33, 0xff]),
        value: eth(2),
        gas_limit: GAS,
    };
    let created = match chain.transact(&tx).unwrap() {
        Outcome::Success {
            contract_address: Some(a),
            ..
        } => a,
        other => panic!("{other:?}"),
    };
    assert_eq!(chain.code(created).unwrap(), Bytes::new());
    assert_eq!(chain.balance(created).unwrap(), U256::ZERO);
    assert_eq!(chain.nonce(created).unwrap(), 0);
    assert_eq!(chain.balance(dev(5)).unwrap(), before);
    assert_eq!(chain.nonce(dev(5)).unwrap(), 1);
}

#[test]
fn counter_increments_once_per_committed_transaction() {
    let mut chain = DevChain::in_memory().unwrap();
    let counter = deploy(&mut chain, dev(0), INCREMENT_RUNTIME);
    let txs: Vec<Tx> = (0..5)
        .map(|_| call_tx(dev(6), counter, Bytes::new()))
        .collect();
    assert!(
        chain
            .transact_block(&txs)
            .unwrap()
            .iter()
            .all(Outcome::is_success)
    );
    assert_eq!(chain.storage(counter, U256::ZERO).unwrap(), U256::from(5));
    assert_eq!(chain.block_number(), 2);
    // An empty block list mines nothing.
    assert!(chain.transact_block(&[]).unwrap().is_empty());
    assert_eq!(chain.block_number(), 2);
}

#[test]
fn second_open_of_the_same_dir_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let first = DevChain::open(dir.path()).unwrap();
    match DevChain::open(dir.path()) {
        Err(DevChainError::Locked { path }) => {
            assert_eq!(path, dir.path().join("chain.redb"));
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    drop(first);
    let again = DevChain::open(dir.path()).unwrap();
    assert_eq!(again.block_number(), 0);
}
