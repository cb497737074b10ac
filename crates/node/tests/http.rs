//! The wire gate as axum middleware, on a real socket on 127.0.0.1: every refusal comes back
//! with its status and JSON reason, and the service keeps serving.

use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use axum::extract::Extension;
use axum::routing::post;
use axum::{Router, middleware};
use node::http::{Guard, RefusalBody, Sender, admit, now_ms};
use node::ops::Refusals;
use node::wire::{Credentials, Gate, GateConfig};
use std::sync::Arc;

const PATH: &str = "/v1/echo";

fn key(seed: u8) -> PrivateKeySigner {
    let mut bytes = [0u8; 32];
    bytes[0] = 2;
    bytes[31] = seed;
    PrivateKeySigner::from_slice(&bytes).expect("valid key")
}

/// Serves `POST /v1/echo` (answers "<sender> <body length>") behind the gate, admitting only
/// `members`. Returns the base URL.
async fn serve(members: Vec<Address>, max_body_bytes: usize) -> String {
    let guard = Guard {
        gate: Arc::new(Gate::new(GateConfig {
            max_body_bytes,
            ..GateConfig::default()
        })),
        admits: Arc::new(move |a: Address| members.contains(&a)),
        refusals: Refusals::default(),
    };
    let app = Router::new()
        .route(
            PATH,
            post(
                |Extension(Sender(s)): Extension<Sender>, body: String| async move {
                    format!("{s} {}", body.len())
                },
            ),
        )
        .layer(middleware::from_fn_with_state(guard, admit));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

async fn send(
    client: &reqwest::Client,
    base: &str,
    creds: Option<&Credentials>,
    body: &[u8],
) -> (u16, String) {
    let mut req = client.post(format!("{base}{PATH}")).body(body.to_vec());
    if let Some(c) = creds {
        for (k, v) in c.headers() {
            req = req.header(k, v);
        }
    }
    let resp = req.send().await.expect("the service answers");
    let status = resp.status().as_u16();
    (status, resp.text().await.expect("body"))
}

fn refusal(text: &str) -> RefusalBody {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not a refusal body ({e}): {text}"))
}

#[tokio::test]
async fn refusals_over_a_real_socket() {
    let (miner, stranger) = (key(1), key(2));
    let base = serve(vec![miner.address()], 1024).await;
    let client = reqwest::Client::new();
    let body = br#"{"answer":1}"#;
    let sign = |k: &PrivateKeySigner, nonce, body: &[u8]| {
        Credentials::sign(k, "POST", PATH, body, nonce, now_ms()).expect("signs")
    };

    let good = sign(&miner, 1, body);
    let (status, text) = send(&client, &base, Some(&good), body).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(text, format!("{} {}", miner.address(), body.len()));

    let (status, text) = send(&client, &base, Some(&good), body).await;
    assert_eq!((status, refusal(&text).error.as_str()), (409, "replay"));

    let (status, text) = send(&client, &base, None, body).await;
    let r = refusal(&text);
    assert_eq!((status, r.error.as_str()), (400, "missing_header"));
    assert!(r.reason.contains("x-pin-sender"), "{}", r.reason);

    let tampered = br#"{"answer":2}"#;
    let (status, text) = send(&client, &base, Some(&sign(&miner, 2, body)), tampered).await;
    assert_eq!(
        (status, refusal(&text).error.as_str()),
        (401, "bad_signature")
    );

    let (status, text) = send(&client, &base, Some(&sign(&stranger, 1, body)), body).await;
    let r = refusal(&text);
    assert_eq!((status, r.error.as_str()), (403, "unknown_sender"));
    assert!(r.reason.contains(&stranger.address().to_string()));

    let big = vec![b'x'; 4096];
    let (status, text) = send(&client, &base, Some(&sign(&miner, 3, &big)), &big).await;
    assert_eq!((status, refusal(&text).error.as_str()), (413, "oversized"));

    let stale =
        Credentials::sign(&miner, "POST", PATH, body, 4, now_ms() - 120_000).expect("signs");
    let (status, text) = send(&client, &base, Some(&stale), body).await;
    assert_eq!((status, refusal(&text).error.as_str()), (401, "stale"));

    // Still serving, and nonce 2 (refused above for its tampered body) was not burnt.
    let (status, text) = send(&client, &base, Some(&sign(&miner, 2, body)), body).await;
    assert_eq!(status, 200, "{text}");
}

#[tokio::test]
async fn a_body_longer_than_announced_limit_is_cut_off() {
    let miner = key(1);
    let base = serve(vec![miner.address()], 64).await;
    // Chunked upload with no Content-Length: the limit applies while reading.
    let big = vec![b'y'; 10_000];
    let creds = Credentials::sign(&miner, "POST", PATH, &big, 1, now_ms()).expect("signs");
    let stream = futures_stream(big);
    let mut req = reqwest::Client::new()
        .post(format!("{base}{PATH}"))
        .body(reqwest::Body::wrap_stream(stream));
    for (k, v) in creds.headers() {
        req = req.header(k, v);
    }
    let resp = req.send().await.expect("answers");
    assert_eq!(resp.status().as_u16(), 413);
    let r = refusal(&resp.text().await.expect("body"));
    assert_eq!(r.error, "oversized");
}

/// The body as a stream of 1 KiB chunks, so reqwest sends it chunked.
fn futures_stream(
    body: Vec<u8>,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        body.chunks(1024).map(|c| Ok(c.to_vec())).collect();
    futures_util::stream::iter(chunks)
}
