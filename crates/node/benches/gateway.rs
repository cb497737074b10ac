//! Gateway load: many parties submit signed intents to one real gateway on 127.0.0.1, a fixed
//! number in flight. Reports throughput, per-request latency, refusals by code, the process's
//! resident memory and the database's size, and checks the gateway's own count against what
//! was accepted, so that nothing is dropped silently.
//!
//! `cargo bench -p pin-node --bench gateway`. Environment: `PIN_GATEWAY_INTENTS` (10000),
//! `PIN_GATEWAY_PARTIES` (100), `PIN_GATEWAY_IN_FLIGHT` (32). One more party sends past its
//! open-intent limit, so the refusal path is under load too.

mod common;

use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use common::rss_kib;
use nash::intent::{Side, Valuation, Window};
use nash::units::{Price, Quantity, ResourceKind};
use node::api::IntentOrder;
use node::client::{ClientError, SignedClient};
use node::gateway::{self, GatewayConfig, IntentStats};
use node::http::now_ms;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn party(i: usize) -> PrivateKeySigner {
    let mut bytes = [0u8; 32];
    bytes[0] = 7;
    bytes[24..].copy_from_slice(&(i as u64 + 1).to_be_bytes());
    PrivateKeySigner::from_slice(&bytes).expect("a valid key")
}

fn order(i: usize) -> IntentOrder {
    IntentOrder {
        side: if i.is_multiple_of(2) {
            Side::Buy
        } else {
            Side::Sell
        },
        resource: ResourceKind::GPU_HOURS,
        quantity: Quantity::units(1 + (i % 16) as u64),
        min_fill: Quantity::ZERO,
        lot: Quantity::ZERO,
        valuation: Valuation::Limit {
            price: Price::new(90 + (i % 20) as u64, 0),
        },
        window: Window { start: 0, end: 4 },
        expires_ms: now_ms() + 3_600_000,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let intents = env("PIN_GATEWAY_INTENTS", 10_000);
    let parties = env("PIN_GATEWAY_PARTIES", 100).max(1);
    let in_flight = env("PIN_GATEWAY_IN_FLIGHT", 32).max(1);
    let dir = tempfile::tempdir().expect("a temp dir");
    let config = GatewayConfig::new(
        Address::repeat_byte(0x99),
        dir.path().to_path_buf(),
        Arc::new(|_: Address| false),
    );
    let limit = config.max_open_per_party;
    assert!(
        intents.div_ceil(parties) <= limit,
        "{intents} intents over {parties} parties exceed the {limit} open intents a party may hold"
    );
    let gw = gateway::start(config).await.expect("the gateway starts");
    let url = format!("http://{}/intents", gw.addr());
    let rss_before = rss_kib();

    // Every party's client (its own nonces); the over-limit party sends limit + 10 % more.
    let flooder = parties;
    let clients: Vec<Arc<SignedClient>> = (0..=parties)
        .map(|i| Arc::new(SignedClient::new(party(i), Duration::from_secs(30))))
        .collect();
    let flood = limit + limit / 10;
    let mut jobs: Vec<(usize, usize)> = (0..intents).map(|i| (i % parties, i)).collect();
    // Interleave the flooder's requests with everyone else's.
    let step = (intents / flood.max(1)).max(1);
    for k in 0..flood {
        jobs.insert((k * (step + 1)).min(jobs.len()), (flooder, intents + k));
    }

    let start = Instant::now();
    let results = futures_util::future::join_all((0..in_flight).map(|w| {
        let jobs: Vec<(usize, usize)> = jobs.iter().copied().skip(w).step_by(in_flight).collect();
        let clients = clients.clone();
        let url = url.clone();
        tokio::spawn(async move {
            let mut out = Vec::with_capacity(jobs.len());
            for (p, i) in jobs {
                let t = Instant::now();
                let r = clients[p]
                    .post::<_, serde_json::Value>(&url, &order(i))
                    .await;
                let code = match r {
                    Ok(_) => "accepted".to_string(),
                    Err(ClientError::Refused { error, .. }) => error,
                    Err(e) => format!("transport: {e}"),
                };
                out.push((p, t.elapsed(), code));
            }
            out
        })
    }))
    .await;
    let elapsed = start.elapsed();

    let mut latencies = Vec::new();
    let mut codes: BTreeMap<String, usize> = BTreeMap::new();
    let mut accepted = 0u64;
    let mut flooder_accepted = 0usize;
    for r in results {
        for (p, d, code) in r.expect("a worker finished") {
            latencies.push(d);
            if code == "accepted" {
                accepted += 1;
                flooder_accepted += usize::from(p == flooder);
            }
            *codes.entry(code).or_default() += 1;
        }
    }
    latencies.sort();
    let stats: IntentStats = reqwest::get(format!("http://{}/stats", gw.addr()))
        .await
        .expect("stats answer")
        .json()
        .await
        .expect("stats JSON");
    let rss_after = rss_kib();
    let db = std::fs::metadata(dir.path().join(gateway::DB_FILE)).map_or(0, |m| m.len());
    gw.shutdown().await.expect("the gateway stops");

    let sent = latencies.len();
    println!(
        "gateway: {sent} signed intents from {} parties ({in_flight} in flight)",
        parties + 1
    );
    println!(
        "  {:.0} requests/s over {:.2} s; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        sent as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64(),
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
    for (code, n) in &codes {
        println!("  {code}: {n}");
    }
    println!(
        "  the gateway counts {} intents; the flooder got {flooder_accepted} of {flood} in (limit {limit})",
        stats.total
    );
    if let (Some(a), Some(b)) = (rss_before, rss_after) {
        println!(
            "  resident memory {:.1} MiB before, {:.1} MiB after (gateway and clients in one process)",
            a as f64 / 1024.0,
            b as f64 / 1024.0
        );
    }
    println!("  database {:.1} MiB", db as f64 / (1024.0 * 1024.0));
    // Nothing dropped silently: every request was either stored or refused with a code.
    assert_eq!(stats.total, accepted, "accepted and stored counts differ");
    assert_eq!(
        flooder_accepted, limit,
        "the open-intent limit did not hold"
    );
    assert_eq!(
        codes.get("too_many_intents").copied().unwrap_or(0),
        flood - limit,
        "refusals: {codes:?}"
    );
}
