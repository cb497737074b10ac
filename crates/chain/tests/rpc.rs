//! The RPC backend against a real anvil: nonces under concurrent sends, reverts decoded before
//! anything is broadcast, a receipt time-out that never re-signs or double-sends, and an
//! endpoint that stops answering (a time-out, then service again), not a hang.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
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

/// A loopback TCP proxy to `upstream` that can go silent: while `silent` is set it holds the
/// requests it reads (connections stay open, nothing is answered), as a hung node does.
fn silent_proxy(upstream: std::net::SocketAddr) -> (String, Arc<AtomicBool>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let silent = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&silent);
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { return };
            let Ok(mut server) = TcpStream::connect(upstream) else {
                continue;
            };
            let (Ok(mut client_back), Ok(mut server_back)) =
                (client.try_clone(), server.try_clone())
            else {
                continue;
            };
            let flag = Arc::clone(&flag);
            std::thread::spawn(move || {
                let mut buf = [0u8; 16 * 1024];
                loop {
                    let n = match client.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    while flag.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    if server.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = server.shutdown(std::net::Shutdown::Both);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut server_back, &mut client_back);
                let _ = client_back.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    (url, silent)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_that_stops_answering_is_a_time_out_not_a_hang() {
    let options = RpcOptions {
        request_timeout: Duration::from_millis(500),
        ..RpcOptions::default()
    };
    // The guard only tells a hang (the client waiting forever) from the time-out under test.
    let guard = Duration::from_secs(30);

    // Accepts connections (the kernel's backlog) and never answers.
    let mute = TcpListener::bind("127.0.0.1:0").expect("bind");
    let mute_url = format!("http://{}", mute.local_addr().expect("addr"));
    match tokio::time::timeout(guard, RpcLedger::connect(&mute_url, options.clone())).await {
        Ok(Err(Error::Rpc(RpcError::Transport { method, url, .. }))) => {
            assert_eq!((method, url), ("eth_chainId", mute_url));
        }
        Ok(other) => panic!("expected a transport error, got {other:?}"),
        Err(_) => panic!("connecting to a mute endpoint hung"),
    }

    // An endpoint that answers, goes silent, and answers again.
    let anvil = spawn_anvil();
    let upstream = std::net::SocketAddr::from(([127, 0, 0, 1], anvil.port()));
    let (url, silent) = silent_proxy(upstream);
    let ledger = RpcLedger::connect(&url, options).await.expect("connect");
    let admin = dev(0);
    let protocol = Protocol::deploy(ledger, &admin, &DeployParams::default())
        .await
        .expect("deploy");
    let node = dev(1).address();
    assert_eq!(protocol.balance(node).await.expect("balance"), Pin::ZERO);

    silent.store(true, Ordering::SeqCst);
    match tokio::time::timeout(guard, protocol.balance(node)).await {
        Ok(Err(Error::Rpc(RpcError::Transport { url: u, .. }))) => assert_eq!(u, url),
        Ok(other) => panic!("expected a transport error, got {other:?}"),
        Err(_) => panic!("a call to a silent endpoint hung"),
    }
    silent.store(false, Ordering::SeqCst);
    protocol
        .mint(&admin, node, Pin::whole(3))
        .await
        .expect("mint once the endpoint answers again");
    assert_eq!(
        protocol.balance(node).await.expect("balance"),
        Pin::whole(3)
    );
}
