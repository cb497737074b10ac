//! Faults in the network, one `pin` process per role against a real anvil on 127.0.0.1, with
//! short epochs (15 s, 3 s commit and reveal windows, 1,000 PIN each):
//!
//! * a miner killed (SIGKILL) mid-epoch and restarted on its port re-announces and answers
//!   again, and the epochs finalise;
//! * a validator killed after it committed its weights — once after it recorded the commit,
//!   once while the commit had landed but its receipt had not come back — keeps its store
//!   (miners, histories, the commit) and reveals exactly what it committed after the restart;
//!   both validators' roots agree with the chain's, and each account's claim pays once whichever
//!   validator's proof it uses;
//! * with validators of 55k, 15k and 30k stake, epochs finalise while 70 % of the stake runs
//!   and stall at 55 % until a stopped validator comes back;
//! * the RPC endpoint lost for six seconds across an epoch's commit window (the services reach
//!   anvil through a proxy in the test): the services log it, keep running, and the epochs
//!   finalise; nothing is paid twice;
//! * a validator whose commit transaction the node accepted and then dropped: the epoch
//!   finalises without it (70 % of the stake remains) and it takes part again afterwards.
//!
//! The embedded chain killed mid-write is `crash.rs`.

mod common;

use common::{free_port, get, pin_command, try_wait_for, wait_for};
use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use alloy::node_bindings::AnvilInstance;
use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use node::validator::store::Store;
use pin_chain::testing::spawn_anvil;
use pin_chain::{
    AnyLedger, Deployment, EpochSchedule, Ledger as _, Protocol, RpcLedger, RpcOptions,
};
use serde_json::{Value, json};

const ZERO_ROOT: B256 = B256::ZERO;

// ---------------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------------

/// One `pin` service process and how to start it again.
struct Proc {
    child: Option<Child>,
    key: String,
    rpc_url: String,
    args: Vec<String>,
    log: PathBuf,
}

/// A deployed protocol on anvil, its services, and a client of the chain for the checks.
/// Every child is killed when the test ends, pass or fail.
struct Net {
    dir: tempfile::TempDir,
    anvil: AnvilInstance,
    chain: Chain,
    procs: HashMap<String, Proc>,
}

impl Drop for Net {
    fn drop(&mut self) {
        for p in self.procs.values_mut() {
            if let Some(mut c) = p.child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }
}

impl Net {
    /// Deploys with 15 s epochs and provisions `validators` (key, PIN staked) and `miners`
    /// (whitelisted, 10,000 PIN staked each). Nothing runs yet.
    fn deploy(validators: &[(&str, &str)], miners: &[&str]) -> Net {
        let anvil = spawn_anvil();
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("logs")).expect("logs dir");
        let run = |key: &str, args: &[&str]| {
            let out = pin_command(dir.path(), &anvil.endpoint(), key, args)
                .output()
                .expect("run pin");
            assert!(
                out.status.success(),
                "pin {args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        run(
            "dev:0",
            &[
                "deploy",
                "--epoch-length",
                "15s",
                "--reveal-window",
                "3s",
                "--emission-per-epoch",
                "1000",
            ],
        );
        for (v, stake) in validators {
            run("dev:0", &["grant", "validator", v]);
            run("dev:0", &["mint", v, stake]);
            run(v, &["stake", stake]);
        }
        for m in miners {
            run("dev:0", &["whitelist", m]);
            run("dev:0", &["mint", m, "10000"]);
            run(m, &["stake", "10000"]);
        }
        let chain = Chain::open(dir.path(), &anvil.endpoint());
        Net {
            dir,
            anvil,
            chain,
            procs: HashMap::new(),
        }
    }

    fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    fn log(&self, name: &str) -> PathBuf {
        self.data_dir().join("logs").join(format!("{name}.log"))
    }

    /// Runs a one-shot `pin` command against anvil directly.
    fn run(&self, key: &str, args: &[&str]) -> Output {
        pin_command(self.data_dir(), &self.anvil.endpoint(), key, args)
            .output()
            .expect("run pin")
    }

    fn spawn_proc(&self, p: &Proc) -> Child {
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&p.log)
            .expect("log file");
        let _ = writeln!(file, "--- started at {} ms", now_ms());
        let args: Vec<&str> = p.args.iter().map(String::as_str).collect();
        pin_command(self.data_dir(), &p.rpc_url, &p.key, &args)
            .env("PIN_LOG", "info")
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("spawn pin")
    }

    /// Starts a service named `name` (its log is `logs/<name>.log`), reaching the chain at
    /// `rpc_url`.
    fn start(&mut self, name: &str, key: &str, rpc_url: &str, args: Vec<String>) {
        let mut p = Proc {
            child: None,
            key: key.into(),
            rpc_url: rpc_url.into(),
            args,
            log: self.log(name),
        };
        p.child = Some(self.spawn_proc(&p));
        self.procs.insert(name.into(), p);
    }

    /// Starts a validator on a free port; returns its base URL.
    fn validator(&mut self, name: &str, key: &str, rpc_url: &str) -> String {
        let port = free_port();
        let args = vec![
            "validator".into(),
            "--listen".into(),
            format!("127.0.0.1:{port}"),
            "--label".into(),
            name.into(),
        ];
        self.start(name, key, rpc_url, args);
        format!("http://127.0.0.1:{port}")
    }

    /// Starts an exact miner on a free port, announcing to `validators`; returns its port.
    fn miner(&mut self, name: &str, key: &str, rpc_url: &str, validators: &[String]) -> u16 {
        let port = free_port();
        let mut args = vec![
            "miner".into(),
            "--listen".into(),
            format!("127.0.0.1:{port}"),
            "--strategy".into(),
            "exact".into(),
        ];
        for v in validators {
            args.push("--validator".into());
            args.push(v.clone());
        }
        self.start(name, key, rpc_url, args);
        port
    }

    /// SIGKILL, no shutdown of any kind.
    fn kill(&mut self, name: &str) {
        let p = self.procs.get_mut(name).expect("a started service");
        let mut child = p.child.take().expect("running");
        child.kill().expect("kill");
        child.wait().expect("reap");
    }

    /// Starts a killed service again with the same key, data dir, port and chain endpoint.
    /// Returns the length its log had, so that what the new process writes can be read apart.
    fn restart(&mut self, name: &str) -> u64 {
        let p = self.procs.get(name).expect("a started service");
        assert!(p.child.is_none(), "{name} is still running");
        let offset = std::fs::metadata(&p.log).map(|m| m.len()).unwrap_or(0);
        let child = self.spawn_proc(p);
        self.procs.get_mut(name).expect("service").child = Some(child);
        offset
    }

    /// Whether every started service that was not killed is still running.
    fn assert_all_running(&mut self) {
        let mut dead = Vec::new();
        for (name, p) in &mut self.procs {
            if let Some(c) = &mut p.child
                && let Some(status) = c.try_wait().expect("try_wait")
            {
                dead.push(format!("{name} exited: {status}"));
            }
        }
        if !dead.is_empty() {
            self.dump_logs();
        }
        assert!(dead.is_empty(), "{dead:?}");
    }

    fn read_log(&self, name: &str, from: u64) -> String {
        let text = std::fs::read(self.log(name)).unwrap_or_default();
        let from = usize::try_from(from).unwrap_or(0).min(text.len());
        String::from_utf8_lossy(&text[from..]).into_owned()
    }

    fn dump_logs(&self) {
        for name in self.procs.keys() {
            let text = self.read_log(name, 0);
            let tail: Vec<&str> = text.lines().rev().take(25).collect();
            eprintln!("--- {name}:");
            for l in tail.iter().rev() {
                eprintln!("{l}");
            }
        }
    }

    /// `key`'s claim with the proof `validator` serves: `Ok(paid wei)` or the error text.
    fn claim(&self, key: &str, validator: &str) -> Result<U256, String> {
        let out = self.run(
            key,
            &["--json", "emission", "claim", "--validator", validator],
        );
        if !out.status.success() {
            // With --json the error is printed as JSON on stdout.
            return Err(format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let v: Value = serde_json::from_slice(&out.stdout).expect("json output");
        Ok(v["paid"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("paid"))
    }

    /// Waits until the chain has finalised `epoch`.
    fn wait_final(&self, epoch: u64, timeout: Duration) {
        let found = try_wait_for(timeout, || (self.chain.next_epoch() > epoch).then_some(()));
        if found.is_none() {
            self.dump_logs();
            panic!(
                "epoch {epoch} not final after {timeout:?} (next epoch {})",
                self.chain.next_epoch()
            );
        }
    }

    /// Waits until `validator`'s book has taken in every epoch the chain finalised and its root
    /// is the chain's; returns `account`'s cumulative amount in it.
    fn wait_book_is_chain(&self, validator: &str, account: Address) -> U256 {
        wait_for(
            "the validator's book to reach the chain's root",
            Duration::from_secs(20),
            || {
                let b = get(&format!("{validator}/emissions/{account}"))?;
                let next = self.chain.next_epoch();
                let root = self.chain.latest_root();
                let same = b["epochs"].as_u64()? == next
                    && b["root"].as_str()?.parse::<B256>().ok()? == root;
                same.then(|| b["cumulative"].as_str()?.parse().ok())?
            },
        )
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Sleeps until the wall clock reads `unix_s` (anvil stamps its blocks with the wall clock).
fn sleep_until(unix_s: u64) {
    let target = unix_s * 1000;
    let now = now_ms();
    if target > now {
        std::thread::sleep(Duration::from_millis(target - now));
    }
}

fn dev_address(i: usize) -> Address {
    pin_chain::dev_accounts()[i].0
}

/// The events a validator's `GET /status` lists (the most recent hundred).
fn events(validator: &str) -> Vec<String> {
    get(&format!("{validator}/status"))
        .and_then(|s| {
            s["events"].as_array().map(|a| {
                a.iter()
                    .filter_map(|e| e[1].as_str().map(str::to_string))
                    .collect()
            })
        })
        .unwrap_or_default()
}

/// `(sent, answered)` for `miner` in a validator's `GET /status`.
fn miner_counts(validator: &str, miner: Address) -> Option<(u64, u64)> {
    let s = get(&format!("{validator}/status"))?;
    let (_, m) = s["miners"]
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(&miner.to_string()))?;
    Some((m["sent"].as_u64()?, m["answered"].as_u64()?))
}

/// Waits until every validator lists `miners` miners.
fn wait_registered(validators: &[String], miners: usize) {
    for v in validators {
        wait_for("miners to register", Duration::from_secs(60), || {
            let s = get(&format!("{v}/status"))?;
            (s["miners"].as_object()?.len() == miners).then_some(())
        });
    }
}

// ---------------------------------------------------------------------------------------------
// The chain, read directly
// ---------------------------------------------------------------------------------------------

struct Chain {
    rt: tokio::runtime::Runtime,
    protocol: Protocol<AnyLedger>,
    schedule: EpochSchedule,
}

impl Chain {
    fn open(data_dir: &Path, url: &str) -> Chain {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let (protocol, schedule) = rt.block_on(async {
            let ledger = RpcLedger::connect(url, RpcOptions::default())
                .await
                .expect("connect to anvil");
            let id = ledger.chain_id().await.expect("chain id");
            let deployment = Deployment::load(&data_dir.join(format!("deployment-rpc-{id}.json")))
                .expect("deployment record");
            let protocol = Protocol::attach(AnyLedger::Rpc(ledger), deployment)
                .await
                .expect("attach");
            let schedule = protocol.epoch_schedule().await.expect("schedule");
            (protocol, schedule)
        });
        Chain {
            rt,
            protocol,
            schedule,
        }
    }

    fn next_epoch(&self) -> u64 {
        self.rt
            .block_on(self.protocol.next_epoch())
            .expect("next epoch")
    }

    fn latest_root(&self) -> B256 {
        self.rt
            .block_on(self.protocol.latest_root())
            .expect("latest root")
    }

    fn root_of(&self, epoch: u64) -> B256 {
        self.rt
            .block_on(self.protocol.epoch_root(epoch))
            .expect("epoch root")
            .0
    }

    fn commitment(&self, epoch: u64, validator: Address) -> B256 {
        self.rt
            .block_on(self.protocol.commitment_of(epoch, validator))
            .expect("commitment")
    }

    /// `validator`'s revealed weights for `epoch`, if it revealed.
    fn revealed(&self, epoch: u64, validator: Address) -> Option<Vec<(Address, U256)>> {
        self.rt
            .block_on(self.protocol.revealed_weights(epoch))
            .expect("reveals")
            .into_iter()
            .find(|r| r.validator == validator)
            .map(|r| r.weights)
    }

    /// `(support, total)` validator stake behind `root` for `epoch`.
    fn support(&self, epoch: u64, root: B256) -> (U256, U256) {
        let (s, t) = self
            .rt
            .block_on(self.protocol.root_support(epoch, root))
            .expect("support");
        (s.wei(), t.wei())
    }

    fn claimed(&self, account: Address) -> U256 {
        self.rt
            .block_on(self.protocol.emission_claimed(account))
            .expect("claimed")
            .wei()
    }

    fn balance(&self, account: Address) -> U256 {
        self.rt
            .block_on(self.protocol.balance(account))
            .expect("balance")
            .wei()
    }

    /// `(emitted, claimed)` by the emission contract.
    fn totals(&self) -> (U256, U256) {
        let s = self
            .rt
            .block_on(self.protocol.emission_status())
            .expect("status");
        (s.emitted.wei(), s.claimed.wei())
    }

    /// The first epoch whose commit window opens at least `margin_s` from now.
    fn next_epoch_end_after(&self, margin_s: u64) -> u64 {
        let after = now_ms() / 1000 + margin_s;
        let s = &self.schedule;
        let mut e = s.epoch_at(after).unwrap_or(0);
        while s.end(e) < after {
            e += 1;
        }
        e
    }
}

fn pin_whole(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18u64))
}

// ---------------------------------------------------------------------------------------------
// A JSON-RPC proxy that can fail in chosen ways
// ---------------------------------------------------------------------------------------------

/// What the proxy does with what it receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Forwards every request to anvil.
    Pass,
    /// The endpoint is gone: connections are accepted and closed without an answer.
    Down,
    /// `eth_sendRawTransaction` is answered with the transaction's hash and never forwarded:
    /// a node that accepted the transaction and dropped it from its pool.
    DropSends,
    /// Forwards the next `eth_sendRawTransaction`, then answers nothing more (it becomes
    /// [`Mode::Holding`]): the transaction lands but its sender never learns it.
    HoldAfterSend,
    /// Holds every request unanswered until the mode changes, then closes.
    Holding,
}

struct ProxyState {
    mode: Mutex<Mode>,
    dropped: AtomicUsize,
    held_sends: AtomicUsize,
}

impl ProxyState {
    fn mode(&self) -> Mode {
        *self.mode.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A JSON-RPC proxy in front of anvil on 127.0.0.1, one thread per connection.
struct Proxy {
    url: String,
    state: Arc<ProxyState>,
}

impl Proxy {
    /// A proxy to anvil's `port` on 127.0.0.1.
    fn start(port: u16) -> Proxy {
        let upstream = SocketAddr::from(([127, 0, 0, 1], port));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let state = Arc::new(ProxyState {
            mode: Mutex::new(Mode::Pass),
            dropped: AtomicUsize::new(0),
            held_sends: AtomicUsize::new(0),
        });
        let shared = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let state = shared.clone();
                std::thread::spawn(move || serve(conn, upstream, &state));
            }
        });
        Proxy { url, state }
    }

    fn set(&self, mode: Mode) {
        *self.state.mode.lock().unwrap_or_else(|p| p.into_inner()) = mode;
    }
}

/// One HTTP/1.1 connection, reading messages framed by `content-length` (as both anvil and
/// the services' HTTP client send them).
struct Wire {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Wire {
    /// The next message: its head (through the blank line) and its body; `None` at the end.
    fn read(&mut self) -> Option<(Vec<u8>, Vec<u8>)> {
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head_len = end + 4;
                let head = String::from_utf8_lossy(&self.buf[..head_len]).to_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                while self.buf.len() < head_len + len {
                    self.fill()?;
                }
                let body = self.buf[head_len..head_len + len].to_vec();
                let head = self.buf[..head_len].to_vec();
                self.buf.drain(..head_len + len);
                return Some((head, body));
            }
            self.fill()?;
        }
    }

    fn fill(&mut self) -> Option<()> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk).ok()?;
        (n > 0).then(|| self.buf.extend_from_slice(&chunk[..n]))
    }

    fn write(&mut self, head: &[u8], body: &[u8]) -> Option<()> {
        self.stream.write_all(head).ok()?;
        self.stream.write_all(body).ok()
    }
}

fn hold(state: &ProxyState) {
    while state.mode() == Mode::Holding {
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn serve(conn: TcpStream, upstream: SocketAddr, state: &ProxyState) {
    let mut client = Wire {
        stream: conn,
        buf: Vec::new(),
    };
    let mut anvil: Option<Wire> = None;
    while let Some((head, body)) = client.read() {
        let mode = state.mode();
        match mode {
            Mode::Down => return,
            Mode::Holding => return hold(state),
            Mode::Pass | Mode::DropSends | Mode::HoldAfterSend => {}
        }
        let rpc: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let sends = rpc["method"] == "eth_sendRawTransaction";
        if sends && mode == Mode::DropSends {
            let raw: Bytes = rpc["params"][0]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or_default();
            let answer = json!({"jsonrpc": "2.0", "id": rpc["id"], "result": keccak256(&raw)});
            let answer = answer.to_string();
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                answer.len()
            );
            state.dropped.fetch_add(1, Ordering::SeqCst);
            if client.write(head.as_bytes(), answer.as_bytes()).is_none() {
                return;
            }
            continue;
        }
        if anvil.is_none() {
            let Ok(stream) = TcpStream::connect(upstream) else {
                return;
            };
            anvil = Some(Wire {
                stream,
                buf: Vec::new(),
            });
        }
        let Some(upstream) = anvil.as_mut() else {
            return;
        };
        if upstream.write(&head, &body).is_none() {
            return;
        }
        let Some((rhead, rbody)) = upstream.read() else {
            return;
        };
        if sends && mode == Mode::HoldAfterSend {
            *state.mode.lock().unwrap_or_else(|p| p.into_inner()) = Mode::Holding;
            state.held_sends.fetch_add(1, Ordering::SeqCst);
            return hold(state);
        }
        if client.write(&rhead, &rbody).is_none() {
            return;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

#[test]
fn a_killed_miner_restarts_reannounces_and_answers_again_and_epochs_finalise() {
    let mut net = Net::deploy(
        &[("dev:1", "60000"), ("dev:2", "40000")],
        &["dev:3", "dev:4"],
    );
    let rpc = net.anvil.endpoint();
    let validators = vec![
        net.validator("validator-a", "dev:1", &rpc),
        net.validator("validator-b", "dev:2", &rpc),
    ];
    net.miner("miner-3", "dev:3", &rpc, &validators);
    net.miner("miner-4", "dev:4", &rpc, &validators);
    wait_registered(&validators, 2);
    let m3 = dev_address(3);
    wait_for("miner 3 to answer", Duration::from_secs(20), || {
        let (_, answered) = miner_counts(&validators[0], m3)?;
        (answered > 0).then_some(())
    });

    // SIGKILL mid-epoch: the validators go on sending it challenges that nobody answers.
    net.kill("miner-3");
    let at_kill: Vec<(u64, u64)> = validators
        .iter()
        .map(|v| miner_counts(v, m3).expect("counts"))
        .collect();
    std::thread::sleep(Duration::from_secs(3));
    let mut answered_dead = Vec::new();
    for (v, (sent_at_kill, answered_at_kill)) in validators.iter().zip(at_kill) {
        let (sent, answered) = miner_counts(v, m3).expect("counts");
        assert!(sent > sent_at_kill, "{v}: rounds went on while it was down");
        // At most the round in flight at the kill counts an answer.
        assert!(
            answered <= answered_at_kill + 1,
            "{v}: a killed miner answered {} challenges",
            answered - answered_at_kill
        );
        answered_dead.push(answered);
    }

    // Restarted on the same port, it announces itself to both validators and answers again.
    let restarted_at = net.chain.schedule.epoch_at(now_ms() / 1000).expect("epoch");
    let offset = net.restart("miner-3");
    wait_for(
        "the restarted miner to announce to both validators",
        Duration::from_secs(20),
        || {
            let log = net.read_log("miner-3", offset);
            let announced = validators.iter().all(|v| {
                log.lines()
                    .any(|l| l.contains("announced") && l.contains(v.as_str()))
            });
            announced.then_some(())
        },
    );
    for (v, dead) in validators.iter().zip(answered_dead) {
        wait_for(
            "the restarted miner's answers",
            Duration::from_secs(20),
            || {
                let (_, answered) = miner_counts(v, m3)?;
                (answered > dead + 3).then_some(())
            },
        );
    }

    // The first epoch that began after the restart finalises, and pays the miner.
    let later = restarted_at + 1;
    net.wait_final(later, Duration::from_secs(60));
    let paid = wait_for(
        "validator A to settle the epoch",
        Duration::from_secs(20),
        || {
            let s = get(&format!("{}/status", validators[0]))?;
            let view = s["epochs"]
                .as_array()?
                .iter()
                .find(|v| v["epoch"].as_u64() == Some(later) && v["finalised"] == true)?
                .clone();
            let table = view["result"]["table"].as_array()?.clone();
            let paid: f64 = table
                .iter()
                .filter(|row| {
                    row[0].as_array().is_some_and(|bytes| {
                        let b: Vec<u8> = bytes
                            .iter()
                            .filter_map(|x| x.as_u64().and_then(|x| u8::try_from(x).ok()))
                            .collect();
                        b == m3.as_slice()
                    })
                })
                .filter_map(|row| row[1].as_f64())
                .sum();
            Some(paid)
        },
    );
    assert!(
        paid > 0.0,
        "the restarted miner earned nothing in epoch {later}"
    );
    net.wait_book_is_chain(&validators[0], m3);
    net.wait_book_is_chain(&validators[1], m3);
    net.assert_all_running();
}

#[test]
fn a_killed_validator_keeps_its_store_reveals_its_commit_and_claims_pay_once() {
    let mut net = Net::deploy(
        &[("dev:1", "60000"), ("dev:2", "40000")],
        &["dev:3", "dev:4"],
    );
    let rpc = net.anvil.endpoint();
    // B reaches the chain through a proxy, so that a reply can be held back.
    let proxy = Proxy::start(net.anvil.port());
    let a = net.validator("validator-a", "dev:1", &rpc);
    let b = net.validator("validator-b", "dev:2", &proxy.url);
    let validators = vec![a.clone(), b.clone()];
    net.miner("miner-3", "dev:3", &rpc, &validators);
    net.miner("miner-4", "dev:4", &rpc, &validators);
    wait_registered(&validators, 2);
    let (vb, m3, m4) = (dev_address(2), dev_address(3), dev_address(4));
    let store_dir = net.data_dir().join(format!("validator-{vb}"));

    // 1. Killed right after it recorded its commit for epoch e (60 % of the stake cannot
    //    finalise without it, 40 %).
    let e = net.chain.next_epoch_end_after(3);
    let committed = format!("committed weights for epoch {e} (");
    let answered_before = miner_counts(&b, m3).map_or(0, |c| c.1);
    wait_for("B to commit", Duration::from_secs(40), || {
        events(&b)
            .iter()
            .any(|t| t.starts_with(&committed))
            .then_some(())
    });
    net.kill("validator-b");
    assert!(
        net.chain.revealed(e, vb).is_none(),
        "killed before its reveal"
    );
    let commit = {
        let store = Store::open(&store_dir).expect("B's store reopens after SIGKILL");
        let commit = store
            .commit(e)
            .expect("read the commit")
            .expect("B's commit for the epoch is kept");
        assert!(commit.committed && !commit.revealed, "{commit:?}");
        let histories: HashMap<Address, _> =
            store.histories().expect("histories").into_iter().collect();
        for m in [m3, m4] {
            let h = histories.get(&m).expect("a history per miner");
            assert!(!h.window.is_empty(), "{m}'s history kept");
        }
        assert!(
            histories[&m3].answered_total >= answered_before,
            "history {} < {answered_before} answers seen before the kill",
            histories[&m3].answered_total
        );
        assert_eq!(
            store.miners().expect("miners").len(),
            2,
            "announced miners kept"
        );
        commit
    };
    net.restart("validator-b");
    let reveal_closes = net.chain.schedule.propose_opens(e);
    sleep_until(reveal_closes + 1);
    let revealed = net.chain.revealed(e, vb);
    if revealed.is_none() {
        net.dump_logs();
    }
    let expected: Vec<(Address, U256)> = commit
        .weights
        .iter()
        .map(|(m, w)| (*m, U256::from(*w)))
        .collect();
    assert_eq!(
        revealed,
        Some(expected),
        "after the restart B revealed exactly what it had committed"
    );
    net.wait_final(e, Duration::from_secs(20));
    let root = net.chain.root_of(e);
    assert_eq!(
        net.chain.support(e, root),
        (pin_whole(100_000), pin_whole(100_000)),
        "the restarted B proposed the same root as A"
    );

    // 2. Killed while its commit for epoch e + 1 had landed but the receipt had not come back:
    //    its store says "not committed", the chain says committed.
    let e1 = e + 1;
    wait_for("B to be done with epoch e", Duration::from_secs(20), || {
        (now_ms() / 1000 >= net.chain.schedule.propose_opens(e) + 3).then_some(())
    });
    assert!(
        now_ms() / 1000 + 2 < net.chain.schedule.end(e1),
        "time to arm the proxy"
    );
    proxy.set(Mode::HoldAfterSend);
    wait_for("B's commit to be held", Duration::from_secs(30), || {
        (proxy.state.held_sends.load(Ordering::SeqCst) > 0).then_some(())
    });
    wait_for("B's commit to land", Duration::from_secs(5), || {
        (net.chain.commitment(e1, vb) != ZERO_ROOT).then_some(())
    });
    net.kill("validator-b");
    let commit1 = {
        let store = Store::open(&store_dir).expect("B's store reopens");
        let c = store
            .commit(e1)
            .expect("read the commit")
            .expect("the commit is saved before it is sent");
        assert!(!c.committed, "B never learned its commit landed: {c:?}");
        c
    };
    proxy.set(Mode::Pass);
    net.restart("validator-b");
    sleep_until(net.chain.schedule.propose_opens(e1) + 1);
    let revealed = net.chain.revealed(e1, vb);
    if revealed.is_none() {
        net.dump_logs();
    }
    let expected: Vec<(Address, U256)> = commit1
        .weights
        .iter()
        .map(|(m, w)| (*m, U256::from(*w)))
        .collect();
    assert_eq!(
        revealed,
        Some(expected),
        "B revealed the commit that landed before it was killed"
    );
    net.wait_final(e1, Duration::from_secs(20));

    // Both validators' books agree with the chain; each account is paid once, whichever
    // validator's proof it claims with.
    let owed3 = net.wait_book_is_chain(&a, m3);
    let owed4 = net.wait_book_is_chain(&b, m4);
    assert_eq!(net.wait_book_is_chain(&b, m3), owed3, "A and B agree");
    assert_eq!(net.wait_book_is_chain(&a, m4), owed4, "A and B agree");
    let next = net.chain.next_epoch();
    assert_eq!(
        net.claim("dev:3", &a),
        Ok(owed3),
        "first claim pays the total"
    );
    assert_eq!(
        net.claim("dev:4", &b),
        Ok(owed4),
        "first claim pays the total"
    );
    let balances = (net.chain.balance(m3), net.chain.balance(m4));
    let again = [net.claim("dev:3", &b), net.claim("dev:4", &a)];
    assert_eq!(
        net.chain.next_epoch(),
        next,
        "no epoch finalised in between"
    );
    for r in &again {
        let err = r
            .as_ref()
            .expect_err("a second claim of the same total is refused");
        assert!(err.contains("NothingToClaim"), "{err}");
    }
    assert_eq!(
        (net.chain.balance(m3), net.chain.balance(m4)),
        balances,
        "nothing paid twice"
    );
    assert_eq!(net.chain.claimed(m3), owed3);
    assert_eq!(net.chain.claimed(m4), owed4);
    net.assert_all_running();
}

#[test]
fn epochs_finalise_with_two_thirds_of_the_stake_and_stall_below_until_it_returns() {
    // 55k + 15k = 70 % finalises; 55k alone does not.
    let mut net = Net::deploy(
        &[("dev:1", "55000"), ("dev:2", "15000"), ("dev:3", "30000")],
        &["dev:4", "dev:5"],
    );
    let rpc = net.anvil.endpoint();
    let validators = vec![
        net.validator("validator-a", "dev:1", &rpc),
        net.validator("validator-b", "dev:2", &rpc),
        net.validator("validator-c", "dev:3", &rpc),
    ];
    net.miner("miner-4", "dev:4", &rpc, &validators);
    net.miner("miner-5", "dev:5", &rpc, &validators);
    wait_registered(&validators, 2);
    let total = pin_whole(100_000);

    // C (30 %) stops before the epoch ends: the other 70 % finalise it.
    let e = net.chain.next_epoch_end_after(2);
    net.kill("validator-c");
    net.wait_final(e, Duration::from_secs(60));
    let root = net.chain.root_of(e);
    assert_eq!(
        net.chain.support(e, root),
        (pin_whole(70_000), total),
        "finalised by A and B alone"
    );

    // B (15 %) stops too: A's 55 % proposes and the epoch stays open.
    net.kill("validator-b");
    let e1 = e + 1;
    let proposed = format!("for epoch {e1}");
    sleep_until(net.chain.schedule.propose_opens(e1) + 4);
    let a_root: B256 = wait_for("A's proposal", Duration::from_secs(10), || {
        events(&validators[0]).iter().find_map(|t| {
            t.strip_prefix("proposed root ")?
                .strip_suffix(&proposed)?
                .trim()
                .parse()
                .ok()
        })
    });
    assert_eq!(
        net.chain.next_epoch(),
        e1,
        "55 % of the stake cannot finalise"
    );
    assert_eq!(net.chain.support(e1, a_root), (pin_whole(55_000), total));

    // B returns, proposes the same root, and 70 % finalises it.
    net.restart("validator-b");
    net.wait_final(e1, Duration::from_secs(30));
    assert_eq!(net.chain.root_of(e1), a_root, "B agreed with A's root");
    net.assert_all_running();
}

#[test]
fn an_rpc_outage_is_survived_and_nothing_is_paid_twice() {
    let mut net = Net::deploy(
        &[("dev:1", "60000"), ("dev:2", "40000")],
        &["dev:3", "dev:4"],
    );
    let proxy = Proxy::start(net.anvil.port());
    let via = proxy.url.clone();
    let validators = vec![
        net.validator("validator-a", "dev:1", &via),
        net.validator("validator-b", "dev:2", &via),
    ];
    net.miner("miner-3", "dev:3", &via, &validators);
    net.miner("miner-4", "dev:4", &via, &validators);
    wait_registered(&validators, 2);

    // The endpoint goes away from a second before epoch e ends until five seconds after:
    // its whole commit window and most of its reveal window.
    let e = net.chain.next_epoch_end_after(3);
    let end = net.chain.schedule.end(e);
    sleep_until(end - 1);
    let names = ["validator-a", "validator-b"];
    let offsets = names.map(|v| std::fs::metadata(net.log(v)).map_or(0, |m| m.len()));
    proxy.set(Mode::Down);
    sleep_until(end + 5);
    net.assert_all_running();
    for (v, offset) in names.iter().zip(offsets) {
        let log = net.read_log(v, offset);
        assert!(
            log.lines()
                .any(|l| l.contains("RPC ") && l.contains(&format!("at {via}"))),
            "{v} logged the lost endpoint during the outage"
        );
    }
    proxy.set(Mode::Pass);

    // The epoch and the next one finalise, the books agree, and a claim pays once.
    net.wait_final(e + 1, Duration::from_secs(45));
    net.assert_all_running();
    let m3 = dev_address(3);
    let owed = net.wait_book_is_chain(&validators[0], m3);
    assert_eq!(net.wait_book_is_chain(&validators[1], m3), owed);
    assert!(owed > U256::ZERO, "the miner earned");
    let paid = net.claim("dev:3", &validators[0]).expect("claim");
    let again = net.claim("dev:3", &validators[1]);
    match again {
        // A new epoch finalised in between: only the difference is paid.
        Ok(more) => assert_eq!(paid + more, net.chain.claimed(m3)),
        Err(err) => {
            assert!(err.contains("NothingToClaim"), "{err}");
            assert_eq!(paid, owed);
            assert_eq!(net.chain.claimed(m3), owed);
        }
    }
    assert_eq!(net.chain.balance(m3), net.chain.claimed(m3), "paid once");
    let (emitted, claimed) = net.chain.totals();
    assert!(claimed <= emitted);
}

/// A (70 %) and B (30 %), B reaching the chain through a proxy that answers B's commit
/// transaction with its hash and drops it. The epoch finalises on A alone, and B's rounds go
/// on while its epoch duties wait for the receipt; with `recovers`, B then commits and reveals
/// again in a later epoch, and its book follows the chain.
fn dropped_commit(recovers: bool) {
    let mut net = Net::deploy(
        &[("dev:1", "70000"), ("dev:2", "30000")],
        &["dev:3", "dev:4"],
    );
    let rpc = net.anvil.endpoint();
    let proxy = Proxy::start(net.anvil.port());
    let a = net.validator("validator-a", "dev:1", &rpc);
    let b = net.validator("validator-b", "dev:2", &proxy.url);
    let validators = vec![a, b.clone()];
    net.miner("miner-3", "dev:3", &rpc, &validators);
    net.miner("miner-4", "dev:4", &rpc, &validators);
    wait_registered(&validators, 2);
    let (vb, m3) = (dev_address(2), dev_address(3));

    // B's first transaction is its commit for epoch e.
    let e = net.chain.next_epoch_end_after(2);
    proxy.set(Mode::DropSends);
    wait_for("B's commit to be dropped", Duration::from_secs(40), || {
        (proxy.state.dropped.load(Ordering::SeqCst) > 0).then_some(())
    });
    proxy.set(Mode::Pass);
    let (_, answered) = miner_counts(&b, m3).expect("B's status");
    net.wait_final(e, Duration::from_secs(20));
    assert_eq!(
        net.chain.commitment(e, vb),
        ZERO_ROOT,
        "B's commit never landed"
    );
    assert!(net.chain.revealed(e, vb).is_none());
    wait_for("B's rounds to go on", Duration::from_secs(10), || {
        (miner_counts(&b, m3)?.1 > answered + 3).then_some(())
    });
    net.assert_all_running();
    if !recovers {
        return;
    }

    // B gives up on the dropped transaction (a receipt timeout, 60 s) and takes part again.
    let back = try_wait_for(Duration::from_secs(130), || {
        let next = net.chain.next_epoch();
        (e + 1..next).find(|x| net.chain.revealed(*x, vb).is_some())
    });
    if back.is_none() {
        net.dump_logs();
    }
    let back = back.expect("B revealed weights again after its dropped commit");
    eprintln!("B revealed again for epoch {back}");
    net.wait_book_is_chain(&b, m3);
    net.assert_all_running();
}

#[test]
fn a_validator_whose_commit_is_dropped_is_outvoted_and_the_epoch_finalises() {
    dropped_commit(false);
}

/// After the receipt time-out `RpcLedger` takes B's next nonce from the node again, so the
/// dropped transaction leaves no gap and B commits, reveals and proposes in later epochs.
#[test]
fn a_validator_whose_commit_is_dropped_takes_part_again() {
    dropped_commit(true);
}
