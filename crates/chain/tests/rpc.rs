//! The RPC backend against a real anvil: nonces under concurrent sends, reverts decoded before
//! anything is broadcast, and a receipt time-out that never re-signs or double-sends.

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::Address;
use alloy::providers::{Provider, RootProvider};
use alloy::signers::local::PrivateKeySigner;
use pin_chain::rpc::RpcError;
use pin_chain::testing::spawn_anvil;
use pin_chain::{DeployParams, Error, Ledger, Pin, Protocol, RpcLedger, RpcOptions, dev_accounts};

fn dev(i: usize) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&dev_accounts()[i].1).expect("dev key")
}

async fn nonce(url: &str, account: Address) -> u64 {
    let provider: RootProvider = RootProvider::new_http(url.parse().expect("url"));
    provider
        .get_transaction_count(account)
        .await
        .expect("nonce")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sends_get_distinct_nonces_and_reverts_send_nothing() {
    let anvil = spawn_anvil();
    let url = anvil.endpoint();
    let ledger = RpcLedger::connect(&url, RpcOptions::default())
        .await
        .expect("connect");
    assert_eq!(ledger.chain_id().await.expect("chain id"), 31337);
    let admin = dev(0);
    let protocol = Arc::new(
        Protocol::deploy(ledger, &admin, &DeployParams::default())
            .await
            .expect("deploy"),
    );
    let node = dev(1).address();
    let nonce_after_deploy = nonce(&url, admin.address()).await;

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let protocol = Arc::clone(&protocol);
        let admin = admin.clone();
        tasks.spawn(async move { protocol.mint(&admin, node, Pin::whole(1)).await });
    }
    while let Some(result) = tasks.join_next().await {
        result.expect("task").expect("mint");
    }
    assert_eq!(
        protocol.balance(node).await.expect("balance"),
        Pin::whole(16)
    );
    assert_eq!(
        nonce(&url, admin.address()).await,
        nonce_after_deploy + 16,
        "one nonce per mint"
    );

    // A refused transaction is decoded and never broadcast: the sender's nonce does not move.
    let before = nonce(&url, node).await;
    match protocol.stake(&dev(1), Pin::whole(5)).await {
        Err(Error::Contract(revert)) => {
            assert_eq!(revert.name, "StakingNotWhitelisted");
            assert_eq!(revert.arg("node"), Some(node.to_checksum(None).as_str()));
        }
        other => panic!("expected StakingNotWhitelisted, got {other:?}"),
    }
    assert_eq!(nonce(&url, node).await, before);

    // The cached nonce survives the refusal: the next send still works.
    protocol
        .mint(&admin, node, Pin::whole(1))
        .await
        .expect("mint after refusal");
    assert_eq!(
        protocol.balance(node).await.expect("balance"),
        Pin::whole(17)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receipt_time_out_is_reported_and_the_transaction_lands_once() {
    let anvil = spawn_anvil();
    let url = anvil.endpoint();
    let admin = dev(0);
    let options = RpcOptions {
        receipt_timeout: Duration::from_millis(600),
        ..RpcOptions::default()
    };
    let ledger = RpcLedger::connect(&url, options).await.expect("connect");
    let protocol = Protocol::deploy(ledger, &admin, &DeployParams::default())
        .await
        .expect("deploy");
    let node = dev(1).address();

    // Stop mining: the next transaction sits in the pool.
    let provider: RootProvider = RootProvider::new_http(url.parse().expect("url"));
    let _: serde_json::Value = provider
        .raw_request("evm_setAutomine".into(), (false,))
        .await
        .expect("automine off");
    let nonce_before = nonce(&url, admin.address()).await;
    match protocol.mint(&admin, node, Pin::whole(5)).await {
        Err(Error::Rpc(RpcError::ReceiptTimeout { .. })) => {}
        other => panic!("expected a receipt time-out, got {other:?}"),
    }
    assert_eq!(
        protocol.balance(node).await.expect("balance"),
        Pin::ZERO,
        "not mined yet"
    );

    // Mining resumes: the one signed transaction is included, exactly once.
    let _: serde_json::Value = provider
        .raw_request("evm_mine".into(), ())
        .await
        .expect("mine");
    let _: serde_json::Value = provider
        .raw_request("evm_setAutomine".into(), (true,))
        .await
        .expect("automine on");
    assert_eq!(
        protocol.balance(node).await.expect("balance"),
        Pin::whole(5)
    );
    assert_eq!(nonce(&url, admin.address()).await, nonce_before + 1);
}

#[tokio::test]
async fn an_unreachable_endpoint_is_a_clear_error() {
    // Port 9 (discard) on loopback: nothing listens there.
    match RpcLedger::connect("http://127.0.0.1:9", RpcOptions::default()).await {
        Err(Error::Rpc(RpcError::Transport { method, .. })) => assert_eq!(method, "eth_chainId"),
        other => panic!("expected a transport error, got {other:?}"),
    }
    match RpcLedger::connect("not a url", RpcOptions::default()).await {
        Err(Error::Rpc(RpcError::BadUrl { .. })) => {}
        other => panic!("expected a bad URL error, got {other:?}"),
    }
}
