//! Hostile requests against the real services on 127.0.0.1: an intent gateway, a miner and a
//! validator (on the embedded chain with the protocol deployed and the validator staked).
//!
//! Every route of each gets properly signed requests with hostile bodies — random bytes, empty,
//! wrong types, numbers no field takes (negative, fractional, past `u64`, `1e400`), deep JSON
//! nesting, hostile unicode, near-valid documents with one value made hostile, 1 MiB + 1 bytes
//! announced or streamed — and hostile targets and headers: unknown routes, wrong methods, path
//! traversal and very long ids, malformed, oversized and non-UTF-8 signature headers, and
//! impossible `Content-Length`s. Requests go over a raw TCP socket, so paths and headers reach
//! the server exactly as written (a URL library would normalise `..` away).
//!
//! Each answer must be a 4xx with a JSON `{error, reason}` body, within a timeout; afterwards
//! every service still answers `/health`, and nothing changed: the gateway's `/stats` and intent
//! list, the validator's registered miners, the miner's work counters.
//!
//! Answers the HTTP stack gives before any service code runs (a request head larger than
//! hyper's buffer, a `Content-Length` that is not a number) are hyper's own empty 4xx: they are
//! checked for status and liveness only.

use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use nash::class::ProblemClass;
use nash::config::Config;
use nash::generate::{Difficulty, challenge};
use nash::intent::{Side, Valuation, Window};
use nash::solve::reference;
use nash::units::{Hash32, Price, Quantity, ResourceKind};
use node::api::{
    Announce, AnswerMsg, BatchRequest, ChallengeMsg, IntentFill, IntentOrder, Outcome, PeekRequest,
};
use node::gateway::{self, GatewayConfig, validate_order};
use node::http::{RefusalBody, now_ms};
use node::miner::{self, MinerConfig, RunningMiner};
use node::validator::{self, Phase, RunningValidator, ValidatorConfig};
use node::wire::{Credentials, GateConfig};
use pin_chain::{AnyLedger, DeployParams, EmbeddedLedger, Pin, Protocol, Role, dev_accounts};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// The body limit of every service (the default gate's).
const MAX_BODY: usize = 1 << 20;
/// Longest any one exchange may take before it counts as a hang.
const PATIENCE: Duration = Duration::from_secs(15);

fn key(seed: u8) -> PrivateKeySigner {
    let mut bytes = [0u8; 32];
    bytes[0] = 6;
    bytes[31] = seed;
    PrivateKeySigner::from_slice(&bytes).expect("valid key")
}

fn dev(i: usize) -> PrivateKeySigner {
    let (_, k) = dev_accounts()[i];
    PrivateKeySigner::from_bytes(&k).expect("dev key")
}

/// Nonces: unique across the test binary, so no request is refused as a replay by accident.
static NONCE: AtomicU64 = AtomicU64::new(1);

// ---------------------------------------------------------------- raw HTTP

/// An answer as it came off the socket.
#[derive(Debug)]
struct Reply {
    status: u16,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body)
            .chars()
            .take(300)
            .collect()
    }
}

/// Where the head of a response ends (after `\r\n\r\n`), if it has arrived.
fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

/// Decodes a chunked body, if complete.
fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line = rest.windows(2).position(|w| w == b"\r\n")?;
        let size = std::str::from_utf8(&rest[..line]).ok()?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        rest = &rest[line + 2..];
        if size == 0 {
            return Some(out);
        }
        if rest.len() < size + 2 {
            return None;
        }
        out.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

/// The response in `buf`, once complete (`eof`: the server closed the connection).
fn parse_response(buf: &[u8], eof: bool) -> Option<Reply> {
    let end = head_end(buf)?;
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    let status: u16 = head.split_whitespace().nth(1)?.parse().ok()?;
    let rest = &buf[end..];
    let header = |name: &str| {
        head.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':').map(str::trim))
    };
    let body = if let Some(len) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        (rest.len() >= len).then(|| rest[..len].to_vec())?
    } else if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        dechunk(rest)?
    } else if eof {
        rest.to_vec()
    } else {
        return None;
    };
    Some(Reply { status, body })
}

/// Writes all of `bytes` (tokio's `io-util` is not among the crate's features: readiness and
/// `try_write` do the same).
async fn write_all(wr: &OwnedWriteHalf, mut bytes: &[u8]) -> std::io::Result<()> {
    while !bytes.is_empty() {
        wr.writable().await?;
        match wr.try_write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads what is there (0: end of stream).
async fn read_some(rd: &OwnedReadHalf, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        rd.readable().await?;
        match rd.try_read(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            other => return other,
        }
    }
}

/// Sends `head` and `body` on a fresh connection and reads one response. The body is written
/// concurrently with the read, so a server that answers before reading everything (an oversized
/// body) is heard even if it then resets the connection. Panics on a hang.
async fn exchange(addr: SocketAddr, head: Vec<u8>, body: Vec<u8>) -> Reply {
    let work = async move {
        let stream = TcpStream::connect(addr).await.expect("the service accepts");
        let (rd, wr) = stream.into_split();
        let writer = tokio::spawn(async move {
            // The server may stop reading (and close) early; that is its right.
            if write_all(&wr, &head).await.is_ok() {
                let _ = write_all(&wr, &body).await;
            }
            // Keep the write half open until the response has been read.
            tokio::time::sleep(PATIENCE).await;
            drop(wr);
        });
        let mut buf = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        let reply = loop {
            match read_some(&rd, &mut chunk).await {
                Ok(0) | Err(_) => break parse_response(&buf, true),
                Ok(n) => {
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(r) = parse_response(&buf, false) {
                        break Some(r);
                    }
                }
            }
        };
        writer.abort();
        reply.unwrap_or_else(|| {
            panic!(
                "no complete response: {:?}",
                String::from_utf8_lossy(&buf[..buf.len().min(300)])
            )
        })
    };
    tokio::time::timeout(PATIENCE, work)
        .await
        .unwrap_or_else(|_| panic!("{addr}: no answer within {PATIENCE:?}"))
}

/// A request as sent: method, target (path and query, as written), extra headers, body, and
/// whether to sign it (as the test's one key) and announce its length.
#[derive(Clone, Debug)]
struct Request {
    method: String,
    target: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    sign: bool,
    content_length: Option<String>,
}

impl Request {
    fn post(target: &str, body: Vec<u8>) -> Self {
        let len = body.len().to_string();
        Self {
            method: "POST".into(),
            target: target.into(),
            headers: Vec::new(),
            body,
            sign: true,
            content_length: Some(len),
        }
    }

    fn get(target: &str) -> Self {
        Self {
            method: "GET".into(),
            target: target.into(),
            headers: Vec::new(),
            body: Vec::new(),
            sign: false,
            content_length: None,
        }
    }

    fn unsigned(mut self) -> Self {
        self.sign = false;
        self
    }

    fn header(mut self, name: &str, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The bytes of the head. The path signed is the target up to `?`, exactly as the server's
    /// `uri.path()` sees it.
    fn head(&self, signer: &PrivateKeySigner) -> Vec<u8> {
        let mut head = format!(
            "{} {} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n",
            self.method, self.target
        )
        .into_bytes();
        let mut add = |name: &str, value: &[u8]| {
            head.extend_from_slice(name.as_bytes());
            head.extend_from_slice(b": ");
            head.extend_from_slice(value);
            head.extend_from_slice(b"\r\n");
        };
        if self.sign {
            let path = self.target.split('?').next().unwrap_or("");
            let nonce = NONCE.fetch_add(1, Ordering::Relaxed);
            let creds = Credentials::sign(signer, &self.method, path, &self.body, nonce, now_ms())
                .expect("signs");
            for (name, value) in creds.headers() {
                add(name, value.as_bytes());
            }
        }
        if let Some(len) = &self.content_length {
            add("content-length", len.as_bytes());
        }
        add("content-type", b"application/json");
        for (name, value) in &self.headers {
            add(name, value);
        }
        head.extend_from_slice(b"\r\n");
        head
    }
}

// ---------------------------------------------------------------- the services

struct Net {
    gateway: gateway::Running,
    miner: RunningMiner,
    validator: RunningValidator,
    /// The hostile sender: a party to the gateway, a validator to the gateway and the miner, a
    /// miner to the validator, and the miner's peek friend — so its requests pass the gate and
    /// reach the handlers.
    hostile: PrivateKeySigner,
    http: reqwest::Client,
    _dirs: Vec<tempfile::TempDir>,
}

/// The state a hostile request must not change.
#[derive(Debug, PartialEq)]
struct Observed {
    gateway_stats: serde_json::Value,
    gateway_intents: serde_json::Value,
    validator_miners: Vec<(String, String)>,
    miner_work: Vec<String>,
}

impl Net {
    async fn start() -> Self {
        let hostile = key(1);
        let legit_miner = key(2);
        let h = hostile.address();
        let dirs: Vec<tempfile::TempDir> = (0..2)
            .map(|_| tempfile::tempdir().expect("temp dir"))
            .collect();

        let mut config = GatewayConfig::new(
            key(9).address(),
            dirs[0].path().to_path_buf(),
            Arc::new(move |a: Address| a == h),
        );
        config.gate = GateConfig::default();
        let gateway = gateway::start(config).await.expect("gateway starts");

        let mut config = MinerConfig::new(key(3), Arc::new(move |a: Address| a == h));
        config.share_with = vec![h];
        let miner = miner::start(config).await.expect("miner starts");

        let admin = dev(0);
        let signer = key(4);
        let ledger = EmbeddedLedger::in_memory().expect("in-memory chain");
        let protocol = Protocol::deploy(
            AnyLedger::Embedded(ledger),
            &admin,
            &DeployParams::default(),
        )
        .await
        .expect("deploy");
        protocol
            .grant(&admin, Role::Validator, signer.address())
            .await
            .expect("grant validator");
        protocol
            .mint(&admin, signer.address(), Pin::whole(10_000))
            .await
            .expect("mint");
        protocol
            .stake(&signer, Pin::whole(10_000))
            .await
            .expect("stake");
        let legit = legit_miner.address();
        let validator = validator::start(ValidatorConfig {
            signer,
            label: "hostile-test".into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            endpoint: None,
            data_dir: dirs[1].path().to_path_buf(),
            protocol: Arc::new(protocol),
            mechanism: Config::default(),
            gateway: None,
            phase: Phase::Synthetic,
            classes: vec![ProblemClass::SimpleSwap],
            difficulty: Difficulty::easy(),
            round_pause: Duration::from_millis(200),
            answer_window: Duration::from_millis(200),
            gate: GateConfig::default(),
            miners: Arc::new(move |a: Address| a == h || a == legit),
            seed: 11,
            treasury: admin.address(),
        })
        .await
        .expect("validator starts");

        let net = Self {
            gateway,
            miner,
            validator,
            hostile,
            http: reqwest::Client::builder()
                .timeout(PATIENCE)
                .build()
                .expect("client"),
            _dirs: dirs,
        };
        net.seed(&legit_miner).await;
        net
    }

    /// Some state to keep: two pending intents at the gateway, and a registered miner at the
    /// validator (at an address nobody listens on, so its rounds fail quietly).
    async fn seed(&self, legit_miner: &PrivateKeySigner) {
        for party in [key(20), key(21)] {
            let body = serde_json::to_vec(&order()).expect("serialises");
            let r = self
                .send(&party, self.gateway.addr(), Request::post("/intents", body))
                .await;
            assert_eq!(r.status, 201, "{}", r.text());
        }
        let body = serde_json::to_vec(&Announce {
            endpoint: "http://127.0.0.1:9/legit".into(),
        })
        .expect("serialises");
        let r = self
            .send(
                legit_miner,
                self.validator.addr,
                Request::post("/miners", body),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
    }

    async fn send(&self, signer: &PrivateKeySigner, addr: SocketAddr, request: Request) -> Reply {
        let head = request.head(signer);
        exchange(addr, head, request.body).await
    }

    async fn hostile(&self, addr: SocketAddr, request: Request) -> Reply {
        self.send(&self.hostile, addr, request).await
    }

    async fn get_json(&self, url: String) -> serde_json::Value {
        let r = self.http.get(&url).send().await.expect("answers");
        assert_eq!(r.status().as_u16(), 200, "{url}");
        r.json().await.expect("JSON")
    }

    async fn observe(&self) -> Observed {
        let gw = self.gateway.url();
        let status = self
            .get_json(format!("http://{}/status", self.validator.addr))
            .await;
        let validator_miners = status["miners"]
            .as_object()
            .expect("miners")
            .iter()
            .map(|(a, m)| (a.clone(), m["endpoint"].to_string()))
            .collect();
        let metrics = self
            .http
            .get(format!("{}/metrics", self.miner.endpoint()))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        // Everything the miner counts about work: not the refusals and receipts this test
        // causes on purpose.
        let miner_work = metrics
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter(|l| !l.contains("refused_requests") && !l.contains("challenges_received"))
            .map(String::from)
            .collect();
        Observed {
            gateway_stats: self.get_json(format!("{gw}/stats")).await,
            gateway_intents: self.get_json(format!("{gw}/intents")).await,
            validator_miners,
            miner_work,
        }
    }

    /// Every service answers `/health` with `ok`.
    async fn healthy(&self) {
        for base in [
            self.gateway.url(),
            self.miner.endpoint().to_string(),
            format!("http://{}", self.validator.addr),
        ] {
            let h = self.get_json(format!("{base}/health")).await;
            assert_eq!(h["status"], "ok", "{base}");
        }
    }
}

/// A valid order: 10 GPU hours at 2.0, for an hour.
fn order() -> IntentOrder {
    IntentOrder {
        side: Side::Buy,
        resource: ResourceKind::GPU_HOURS,
        quantity: Quantity::units(10),
        min_fill: Quantity::ZERO,
        lot: Quantity::ZERO,
        valuation: Valuation::Limit {
            price: Price::new(2, 0),
        },
        window: Window { start: 0, end: 24 },
        expires_ms: now_ms() + 3_600_000,
    }
}

/// Asserts the refusal contract: a 4xx with a JSON `{error, reason}` body, both non-empty.
fn refused(what: &str, r: &Reply) -> RefusalBody {
    assert!(
        (400..500).contains(&r.status),
        "{what}: status {} ({})",
        r.status,
        r.text()
    );
    let body: RefusalBody = serde_json::from_slice(&r.body).unwrap_or_else(|e| {
        panic!(
            "{what}: {} is not a JSON refusal ({e}): {:?}",
            r.status,
            r.text()
        )
    });
    assert!(
        !body.error.is_empty() && !body.reason.is_empty(),
        "{what}: {body:?}"
    );
    body
}

// ---------------------------------------------------------------- hostile bodies

/// The signed POST routes, with a valid body for each to mutate.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Route {
    Intents,
    Batches,
    Outcomes,
    Challenges,
    Peek,
    Miners,
    Answers,
}

const ROUTES: [Route; 7] = [
    Route::Intents,
    Route::Batches,
    Route::Outcomes,
    Route::Challenges,
    Route::Peek,
    Route::Miners,
    Route::Answers,
];

impl Route {
    fn path(self) -> &'static str {
        match self {
            Route::Intents => "/intents",
            Route::Batches => "/batches",
            Route::Outcomes => "/outcomes",
            Route::Challenges => "/challenges",
            Route::Peek => "/peek",
            Route::Miners => "/miners",
            Route::Answers => "/answers",
        }
    }

    fn addr(self, net: &Net) -> SocketAddr {
        match self {
            Route::Intents | Route::Batches | Route::Outcomes => net.gateway.addr(),
            Route::Challenges | Route::Peek => net.miner.addr(),
            Route::Miners | Route::Answers => net.validator.addr,
        }
    }

    /// A well-formed body for the route. None of them changes anything if sent: the
    /// challenge's deadline has passed, the outcome names intents nobody leased, the answer a
    /// challenge the validator never sent. (Batches and announces are not sent unmodified.)
    fn valid_body(self) -> Vec<u8> {
        let challenge = challenge(ProblemClass::ThreeParty, 5, &Difficulty::easy());
        let json = match self {
            Route::Intents => serde_json::to_value(order()),
            Route::Batches => serde_json::to_value(BatchRequest {
                max: 10,
                lease_ms: 60_000,
            }),
            Route::Outcomes => serde_json::to_value(Outcome {
                challenge: Hash32([7; 32]),
                tx: Some(Hash32([8; 32])),
                fills: vec![IntentFill {
                    intent: Hash32([9; 32]),
                    filled: Quantity::units(1),
                    price: Price::new(1, 0),
                }],
            }),
            Route::Challenges => {
                let mut past = challenge.clone();
                past.deadline_ms = 1;
                serde_json::to_value(ChallengeMsg {
                    epoch: 3,
                    challenge: past,
                    reply_to: "http://127.0.0.1:9/answers".into(),
                })
            }
            Route::Peek => serde_json::to_value(PeekRequest {
                challenge: challenge.id,
                validator: None,
            }),
            Route::Miners => serde_json::to_value(Announce {
                endpoint: "http://127.0.0.1:9/hostile".into(),
            }),
            Route::Answers => serde_json::to_value(AnswerMsg {
                challenge: challenge.id,
                answer: reference(&challenge, &Config::default()).expect("solves"),
            }),
        };
        serde_json::to_vec(&json.expect("serialises")).expect("serialises")
    }

    /// Whether `body` is a legitimate request that would change state if it passed: such a
    /// case is skipped (the generators are hostile, but a random mutation may land on a valid
    /// value).
    fn would_act(self, body: &[u8]) -> bool {
        match self {
            Route::Intents => serde_json::from_slice::<IntentOrder>(body)
                .is_ok_and(|o| validate_order(&o, now_ms()).is_ok()),
            Route::Batches => serde_json::from_slice::<BatchRequest>(body)
                .is_ok_and(|b| (1..=gateway::MAX_LEASE_MS).contains(&b.lease_ms)),
            Route::Challenges => serde_json::from_slice::<ChallengeMsg>(body).is_ok_and(|m| {
                m.challenge.validate().is_ok() && m.challenge.deadline_ms >= now_ms()
            }),
            Route::Miners => serde_json::from_slice::<Announce>(body).is_ok_and(|a| {
                reqwest::Url::parse(&a.endpoint)
                    .is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
            }),
            Route::Outcomes | Route::Peek | Route::Answers => false,
        }
    }
}

/// The scalar values of a compact JSON text (as serde_json writes it): byte range and path in
/// serde_path_to_error's notation (`fills[0].intent`), which is how the services' decode errors
/// name a field.
fn value_tokens(text: &str) -> Vec<(usize, usize, String)> {
    fn string_end(b: &[u8], mut i: usize) -> usize {
        i += 1;
        while b[i] != b'"' {
            i += if b[i] == b'\\' { 2 } else { 1 };
        }
        i + 1
    }
    fn walk(b: &[u8], mut i: usize, path: &str, out: &mut Vec<(usize, usize, String)>) -> usize {
        match b[i] {
            b'{' => {
                i += 1;
                if b[i] == b'}' {
                    return i + 1;
                }
                loop {
                    let end = string_end(b, i);
                    let key = std::str::from_utf8(&b[i + 1..end - 1]).expect("UTF-8");
                    let child = if path.is_empty() {
                        key.to_string()
                    } else {
                        format!("{path}.{key}")
                    };
                    i = walk(b, end + 1, &child, out);
                    if b[i] == b',' {
                        i += 1;
                    } else {
                        return i + 1;
                    }
                }
            }
            b'[' => {
                i += 1;
                if b[i] == b']' {
                    return i + 1;
                }
                let mut k = 0;
                loop {
                    i = walk(b, i, &format!("{path}[{k}]"), out);
                    k += 1;
                    if b[i] == b',' {
                        i += 1;
                    } else {
                        return i + 1;
                    }
                }
            }
            b'"' => {
                let end = string_end(b, i);
                out.push((i, end, path.to_string()));
                end
            }
            _ => {
                let start = i;
                while !matches!(b[i], b',' | b']' | b'}') {
                    i += 1;
                }
                out.push((start, i, path.to_string()));
                i
            }
        }
    }
    let mut out = Vec::new();
    walk(text.as_bytes(), 0, "", &mut out);
    out
}

/// Whether `prefix` is `path` or one of its ancestors (`fills[0]` of `fills[0].intent`).
fn is_ancestor(prefix: &str, path: &str) -> bool {
    !prefix.is_empty()
        && path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
}

/// A hostile body and, when it is a valid body with one value replaced, that value's path.
type Hostile = (Vec<u8>, Option<String>);

/// A value no field of any message takes: not an unsigned integer, not a well-formed hash,
/// address, URL or tag.
fn hostile_value() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "-1",
            "1.5",
            "-0.5",
            "1e400",
            "-1e400",
            "18446744073709551616",
            "340282366920938463463374607431768211456",
            "null",
            "true",
            "[]",
            "{}",
            "[[[[[[[[]]]]]]]]",
            "\"\"",
            "\"NaN\"",
            "\"-Infinity\"",
            "\"0x\"",
            "\"\\u0000\"",
            "\"\\ud800\"",
            "\"\u{202e}moc.live\"",
            "\"../../../../etc/passwd\"",
            "\"file:///etc/passwd\"",
            "\"javascript:alert(1)\"",
            "\"ℎ𝓉𝓉𝓅://x\"",
            "\"http://\"",
        ])
        .prop_map(String::from),
        Just(format!("\"{}\"", "A".repeat(100_000))),
        Just(format!("-{}", "9".repeat(1000))),
        Just(format!("{}{}", "[".repeat(10_000), "]".repeat(10_000))),
        "\\PC{0,40}".prop_map(|s| serde_json::to_string(&s).expect("a string serialises")),
    ]
}

/// A hostile body for `route`.
fn hostile_body(route: Route) -> impl Strategy<Value = Hostile> {
    let valid = route.valid_body();
    let text = String::from_utf8(valid.clone()).expect("JSON is UTF-8");
    let tokens = value_tokens(&text);
    let mutate = {
        let text = text.clone();
        (any::<prop::sample::Index>(), hostile_value()).prop_map(move |(i, v)| {
            let (s, e, path) = &tokens[i.index(tokens.len())];
            let body = format!("{}{}{}", &text[..*s], v, &text[*e..]).into_bytes();
            (body, Some(path.clone()))
        })
    };
    let truncate = {
        let valid = valid.clone();
        any::<prop::sample::Index>().prop_map(move |i| valid[..i.index(valid.len())].to_vec())
    };
    let other = prop_oneof![
        1 => truncate,
        1 => prop::collection::vec(any::<u8>(), 0..2048),
        1 => prop::sample::select(vec![
            "", " ", "null", "[]", "{}", "0", "\"x\"", "true", "[{}]", "{\"\":\"\"}",
            "\u{feff}{}", "{\"a\":1,\"a\":2}",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        1 => (1usize..=200_000).prop_map(|n| format!("{}{}", "[".repeat(n), "]".repeat(n)).into_bytes()),
        1 => (1usize..=100_000).prop_map(|n| "{\"a\":".repeat(n).into_bytes()),
        1 => "\\PC{0,64}".prop_map(|s| serde_json::to_vec(&s).expect("serialises")),
        1 => Just(valid).prop_map(|mut v| { v.extend_from_slice(b" garbage"); v }),
    ];
    prop_oneof![
        1 => mutate,
        1 => other.prop_map(|body| (body, None)),
    ]
}

/// Runs `cases` hostile bodies against each signed route; returns how many were sent.
fn fuzz_bodies(rt: &tokio::runtime::Runtime, net: &Net, cases: u32) -> u32 {
    let sent = std::sync::atomic::AtomicU32::new(0);
    for route in ROUTES {
        let mut runner = TestRunner::new(ProptestConfig {
            cases,
            failure_persistence: None,
            ..ProptestConfig::default()
        });
        let result = runner.run(&hostile_body(route), |(body, mutated)| {
            if route.would_act(&body) {
                return Ok(());
            }
            sent.fetch_add(1, Ordering::Relaxed);
            let r = rt
                .block_on(net.hostile(route.addr(net), Request::post(route.path(), body.clone())));
            let what = format!(
                "{route:?} with {:?}",
                String::from_utf8_lossy(&body[..body.len().min(160)])
            );
            let refusal = refused(&what, &r);
            // A near-valid body refused for its content names the field: a decode error by
            // its path (the replaced value's, or an ancestor's — serde cannot see inside an
            // internally tagged enum such as an answer), a validation error by name.
            if let Some(path) = mutated
                && r.status == 422
            {
                let reason = &refusal.reason;
                let named = match reason.split_once(": ") {
                    Some((prefix, _)) if reason.contains(" at line ") => is_ancestor(prefix, &path),
                    _ => path
                        .split(['.', '['])
                        .filter(|k| !k.ends_with(']'))
                        .any(|k| reason.contains(k)),
                };
                prop_assert!(named, "{what}: {reason:?} does not name {path}");
            }
            Ok(())
        });
        if let Err(e) = result {
            panic!("{route:?}: {e}");
        }
    }
    sent.into_inner()
}

// ---------------------------------------------------------------- the test

#[test]
fn hostile_requests_are_refused_with_json_and_change_nothing() {
    let started = Instant::now();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let net = rt.block_on(Net::start());
    let before = rt.block_on(net.observe());
    assert_eq!(before.validator_miners.len(), 1, "{before:?}");

    let sent = fuzz_bodies(&rt, &net, 64);
    assert!(sent > 300, "only {sent} hostile bodies sent");
    rt.block_on(async {
        net.healthy().await;
        fixed_cases(&net).await;
        net.healthy().await;
        let after = net.observe().await;
        assert_eq!(after, before, "a hostile request changed state");
    });
    eprintln!("{sent} fuzzed bodies in {:?}", started.elapsed());
}

/// Hostile targets, methods, headers and sizes, against every service.
async fn fixed_cases(net: &Net) {
    let gw = net.gateway.addr();
    let miner = net.miner.addr();
    let val = net.validator.addr;
    let services = [("gateway", gw), ("miner", miner), ("validator", val)];

    // 1 MiB + 1 on every signed route: announced, and streamed in chunks without a length.
    let big = vec![b' '; MAX_BODY + 1];
    for route in ROUTES {
        let r = net
            .hostile(route.addr(net), Request::post(route.path(), big.clone()))
            .await;
        assert_eq!(
            refused(&format!("{route:?} 1 MiB + 1"), &r).error,
            "oversized"
        );
        let mut chunked = Request::post(route.path(), Vec::new());
        chunked.content_length = None;
        chunked = chunked.header("transfer-encoding", "chunked");
        let mut body = Vec::new();
        for part in big.chunks(64 * 1024) {
            body.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
            body.extend_from_slice(part);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"0\r\n\r\n");
        // (Signed over the framing, not the body: the size is refused before the signature
        // is looked at.)
        chunked.body = body;
        let r = net.hostile(route.addr(net), chunked).await;
        assert_eq!(
            refused(&format!("{route:?} streamed 1 MiB + 1"), &r).error,
            "oversized"
        );
        // Exactly at the limit is read (and refused for its content, not its size).
        let r = net
            .hostile(
                route.addr(net),
                Request::post(route.path(), vec![b' '; MAX_BODY]),
            )
            .await;
        assert_ne!(refused(&format!("{route:?} 1 MiB"), &r).error, "oversized");
        // A length announced far past the limit, with nothing sent.
        let mut liar = Request::post(route.path(), Vec::new());
        liar.content_length = Some("1000000000000".into());
        let r = net.hostile(route.addr(net), liar).await;
        assert_eq!(
            refused(&format!("{route:?} announced 10^12"), &r).error,
            "oversized"
        );
    }

    // Signature headers: missing, malformed, oversized, not UTF-8, for another request.
    for route in ROUTES {
        let addr = route.addr(net);
        let body = route.valid_body();
        let path = route.path();
        let unsigned = Request::post(path, body.clone()).unsigned();
        let r = net.hostile(addr, unsigned.clone()).await;
        assert_eq!(refused("unsigned", &r).error, "missing_header");
        let bad_headers: Vec<(&str, Vec<u8>)> = vec![
            ("x-pin-sender", b"0xnothex".to_vec()),
            ("x-pin-sender", "0x\u{202e}".into()),
            ("x-pin-sender", vec![0xff, 0xfe, 0x80]),
            ("x-pin-nonce", b"18446744073709551616".to_vec()),
            ("x-pin-nonce", b"-1".to_vec()),
            ("x-pin-timestamp", b"1e3".to_vec()),
            ("x-pin-signature", vec![b'a'; 60_000]),
            ("x-pin-signature", b"0x".to_vec()),
        ];
        for (name, value) in bad_headers {
            let h = net.hostile.address().to_string();
            let mut req = unsigned.clone();
            for (n, v) in [
                ("x-pin-sender", h.as_bytes().to_vec()),
                ("x-pin-nonce", b"1".to_vec()),
                ("x-pin-timestamp", now_ms().to_string().into_bytes()),
                (
                    "x-pin-signature",
                    format!("0x{}", "11".repeat(65)).into_bytes(),
                ),
            ] {
                req = req.header(n, if n == name { value.clone() } else { v });
            }
            let r = net.hostile(addr, req).await;
            let what = format!(
                "{route:?} {name}: {:?}",
                String::from_utf8_lossy(&value[..value.len().min(40)])
            );
            let code = refused(&what, &r).error;
            assert!(
                matches!(
                    code.as_str(),
                    "malformed_header" | "missing_header" | "bad_signature"
                ),
                "{what}: {code}"
            );
        }
        // Signed for another path: the signature does not cover this one.
        let signed_elsewhere = Request::post(&format!("{path}/.."), body.clone());
        let mut head = signed_elsewhere.head(&net.hostile);
        let at = head
            .windows(path.len() + 4)
            .position(|w| w == format!("{path}/.. ").as_bytes())
            .expect("the target is in the head");
        head.splice(at..at + path.len() + 4, format!("{path} ").bytes());
        let r = exchange(addr, head, body).await;
        assert_eq!(
            refused("signed for another path", &r).error,
            "bad_signature"
        );
    }

    // Unknown routes, wrong methods, traversal and absurd ids.
    // Long, but under the 65,534 bytes the `http` crate takes in a URI (longer ones are hyper's
    // 414, below).
    let long = "a".repeat(60_000);
    let mut targets: Vec<(&str, SocketAddr, Request)> = Vec::new();
    for (name, addr) in services {
        for req in [
            Request::get("/nope"),
            Request::get("/"),
            Request::get("//"),
            Request::get("/../../../../etc/passwd"),
            Request::get("/%2e%2e/%2e%2e/etc/passwd"),
            Request::get("/health/../metrics/%00"),
            Request::get(&format!("/{long}")),
            Request::post("/nope", b"{}".to_vec()),
            Request::post("/health", b"{}".to_vec()),
            Request::get("/intents/"),
            Request::get("/challenges"),
            Request::get("/answers"),
            Request::get("/miners"),
            Request::post("/intents/", b"{}".to_vec()),
            Request {
                method: "DELETE".into(),
                ..Request::get("/intents")
            },
            Request {
                method: "PUT".into(),
                ..Request::post("/answers", b"{}".to_vec())
            },
            Request {
                method: "BREW".into(),
                ..Request::get("/stats")
            },
        ] {
            targets.push((name, addr, req));
        }
    }
    for id in [
        "..%2f..%2fetc%2fpasswd".to_string(),
        "%2e%2e".to_string(),
        "0x".to_string(),
        format!("0x{}", "g".repeat(64)),
        format!("0x{}", "0".repeat(66)),
        format!("0x{}", "é".repeat(32)),
        "%F0%9F%92%A9".to_string(),
        "%ff%fe".to_string(),
        "%00".to_string(),
        long.clone(),
    ] {
        targets.push(("gateway", gw, Request::get(&format!("/intents/{id}"))));
        targets.push(("validator", val, Request::get(&format!("/emissions/{id}"))));
    }
    for query in [
        "party=0xnothex",
        "state=rejected",
        "state=%00",
        "limit=-1",
        "limit=184467440737095516160",
        "limit=1e3",
        "order=desc",
        "party",
        "=&=&=",
        "party=%ZZ",
        &format!("party={long}"),
    ] {
        targets.push(("gateway", gw, Request::get(&format!("/intents?{query}"))));
    }
    for (name, addr, req) in targets {
        let what = format!(
            "{name} {} {}",
            req.method,
            req.target.chars().take(60).collect::<String>()
        );
        let r = net.hostile(addr, req).await;
        refused(&what, &r);
    }

    // What hyper refuses before any service code runs: a head past its buffer, a length that
    // is not a number. Status only, and the service lives on.
    for (name, addr) in services {
        for len in [100_000, 1 << 20] {
            let r = net
                .hostile(addr, Request::get(&format!("/intents/{}", "a".repeat(len))))
                .await;
            assert!(
                (400..500).contains(&r.status),
                "{name} {len}-byte target: {}",
                r.status
            );
        }
        let mut req = Request::post("/intents", b"{}".to_vec());
        req.content_length = Some("18446744073709551616".into());
        let r = net.hostile(addr, req).await;
        assert!(
            (400..500).contains(&r.status),
            "{name} bad length: {}",
            r.status
        );
        let mut req = Request::post("/intents", b"{}".to_vec());
        req.content_length = Some("-1".into());
        let r = net.hostile(addr, req).await;
        assert!(
            (400..500).contains(&r.status),
            "{name} negative length: {}",
            r.status
        );
    }

    // A body that stops short of its announced length, then the client goes away: the
    // service does not wait for it forever (it is still healthy after).
    for route in ROUTES {
        let stream = TcpStream::connect(route.addr(net)).await.expect("connects");
        let mut req = Request::post(route.path(), b"{\"a\":".to_vec());
        req.content_length = Some("1000".into());
        let mut head = req.head(&net.hostile);
        head.extend_from_slice(&req.body);
        let (_, wr) = stream.into_split();
        write_all(&wr, &head).await.expect("writes");
        drop(wr);
    }
}
