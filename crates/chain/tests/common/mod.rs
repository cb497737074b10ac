//! Shared set-up for the `pin-chain` integration tests: a fresh deployment on the in-memory
//! revm chain with named actors, amounts in whole PIN, digests, and revert helpers.
#![allow(dead_code)]

use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall;
use pin_chain::{
    AccountStatus, DecodedRevert, DeployParams, EmbeddedLedger, Error, Ledger as _, Protocol, Role,
    RunId, Totals, TxRequest, dev_accounts,
};

pub(crate) use pin_chain::Pin;

/// Seconds in a day.
pub(crate) const DAY: u64 = 24 * 60 * 60;
/// The default unbonding period and challenge window.
pub(crate) const WEEK: u64 = 7 * DAY;

/// The protocol on a fresh in-memory chain, with its actors.
pub(crate) struct Env {
    /// The client.
    pub(crate) p: Protocol<EmbeddedLedger>,
    /// Dev account 0: deployer, admin, minter, whitelister, slasher.
    pub(crate) admin: PrivateKeySigner,
    /// Dev account 1: holds the model-trainer role.
    pub(crate) trainer: PrivateKeySigner,
    /// Dev account 2: holds the validator role (staking and training).
    pub(crate) validator: PrivateKeySigner,
    /// Dev accounts 3..10: compute nodes, no role, not whitelisted.
    pub(crate) nodes: Vec<PrivateKeySigner>,
}

/// The signer of dev account `i`.
pub(crate) fn signer(i: usize) -> PrivateKeySigner {
    let (_, key) = dev_accounts()[i];
    PrivateKeySigner::from_bytes(&key).expect("dev key is valid")
}

/// `n` whole PIN.
pub(crate) fn pin(n: u64) -> Pin {
    Pin::whole(n)
}

/// `n` whole PIN in wei.
pub(crate) fn wei(n: u64) -> U256 {
    Pin::whole(n).wei()
}

/// A distinct attestation digest for `(tag, i)`.
pub(crate) fn digest(tag: &str, i: u64) -> B256 {
    keccak256(format!("{tag}/{i}"))
}

/// A fresh deployment with the default parameters; trainer and validator roles granted.
pub(crate) async fn setup() -> Env {
    setup_with(&DeployParams::default()).await
}

/// A fresh deployment with `params`; trainer and validator roles granted.
pub(crate) async fn setup_with(params: &DeployParams) -> Env {
    let ledger = EmbeddedLedger::in_memory().expect("in-memory chain");
    let admin = signer(0);
    let p = Protocol::deploy(ledger, &admin, params)
        .await
        .expect("deploy");
    let trainer = signer(1);
    let validator = signer(2);
    p.grant(&admin, Role::Trainer, trainer.address())
        .await
        .expect("grant trainer");
    p.grant(&admin, Role::Validator, validator.address())
        .await
        .expect("grant validator");
    let nodes = (3..10).map(signer).collect();
    Env {
        p,
        admin,
        trainer,
        validator,
        nodes,
    }
}

impl Env {
    /// Mints `amount` to `to`.
    pub(crate) async fn fund(&self, to: Address, amount: Pin) {
        self.p.mint(&self.admin, to, amount).await.expect("mint");
    }

    /// Whitelists node `i`, mints it `wallet` PIN and stakes `stake` of them.
    pub(crate) async fn staked_node(&self, i: usize, wallet: Pin, stake: Pin) -> &PrivateKeySigner {
        let node = &self.nodes[i];
        self.p
            .whitelist(&self.admin, node.address())
            .await
            .expect("whitelist");
        self.fund(node.address(), wallet).await;
        self.p.stake(node, stake).await.expect("stake");
        node
    }

    /// Funds the trainer with `budget` and registers a model with a run of that budget.
    pub(crate) async fn new_run(&self, budget: Pin) -> RunId {
        self.fund(self.trainer.address(), budget).await;
        let (_, run) = self
            .p
            .register_model(&self.trainer, "llama-pin", budget)
            .await
            .expect("register model");
        run
    }

    /// Attests `count` distinct digests tagged `tag` as `node` in `run`.
    pub(crate) async fn attest_n(
        &self,
        node: &PrivateKeySigner,
        run: RunId,
        tag: &str,
        count: u64,
    ) {
        for i in 0..count {
            self.p
                .attest(node, run, digest(tag, i))
                .await
                .expect("attest");
        }
    }

    /// Ends `run` and moves past its challenge window.
    pub(crate) async fn end_and_close(&self, run: RunId) {
        self.p.end_run(&self.trainer, run).await.expect("end run");
        self.p
            .ledger()
            .advance_time(WEEK + 1)
            .await
            .expect("advance time");
    }

    /// Totals and the status of each account in `accounts`.
    pub(crate) async fn snapshot(&self, accounts: &[Address]) -> (Totals, Vec<AccountStatus>) {
        let totals = self.p.totals().await.expect("totals");
        let mut statuses = Vec::new();
        for &a in accounts {
            statuses.push(self.p.account(a).await.expect("account"));
        }
        (totals, statuses)
    }

    /// A read-only call of `call` on contract `to`, for views the client does not wrap.
    pub(crate) async fn read<C: SolCall>(&self, to: Address, call: C) -> C::Return {
        let output = self
            .p
            .ledger()
            .call(Address::ZERO, &TxRequest::call(to, call.abi_encode()))
            .await
            .expect("view call");
        C::abi_decode_returns(&output).expect("view return decodes")
    }

    /// Number of the latest block.
    pub(crate) fn block_number(&self) -> u64 {
        self.p.ledger().with_chain(|c| c.block_number())
    }

    /// Every actor's address.
    pub(crate) fn everyone(&self) -> Vec<Address> {
        let mut all = vec![
            self.admin.address(),
            self.trainer.address(),
            self.validator.address(),
        ];
        all.extend(self.nodes.iter().map(PrivateKeySigner::address));
        all
    }
}

/// The decoded contract error of a refused operation; panics if it succeeded or failed otherwise.
pub(crate) fn revert<T: std::fmt::Debug>(result: Result<T, Error>) -> DecodedRevert {
    match result {
        Err(Error::Contract(d)) => d,
        other => panic!("expected a contract revert, got {other:?}"),
    }
}

/// Asserts `result` is the contract error `name`, and returns it.
#[track_caller]
pub(crate) fn expect_revert<T: std::fmt::Debug>(
    result: Result<T, Error>,
    name: &str,
) -> DecodedRevert {
    let d = revert(result);
    assert_eq!(d.name, name, "unexpected revert {d}");
    d
}

/// The address rendered as `DecodedRevert` renders it.
pub(crate) fn shown(a: Address) -> String {
    a.to_checksum(None)
}
