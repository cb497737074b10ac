//! Crash safety: a child process (this test binary, re-invoked) commits transactions one by
//! one and prints each; the parent SIGKILLs it mid-run, reopens the chain and checks it holds an
//! exact prefix of the transactions, nothing half-applied.
#![allow(clippy::unwrap_used)]

mod common;

use std::{
    io::{BufRead, BufReader, Write},
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use common::{INCREMENT_RUNTIME, call_tx, deploy, dev};
use pin_devchain::{DevChain, Outcome};
use revm::primitives::{Address, B256, Bytes, U256};

const DIR_VAR: &str = "PIN_DEVCHAIN_CRASH_DIR";
/// Lines the parent waits for before killing the child.
const KILL_AFTER: usize = 40;

/// The child's work; a no-op in an ordinary test run (the variable is unset).
#[test]
fn crash_child_worker() {
    let Ok(dir) = std::env::var(DIR_VAR) else {
        return;
    };
    let mut chain = DevChain::open(Path::new(&dir)).unwrap();
    let counter = if chain.nonce(dev(0)).unwrap() == 0 {
        deploy(&mut chain, dev(0), INCREMENT_RUNTIME)
    } else {
        dev(0).create(0) // a previous, killed child deployed it
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "DEPLOYED {counter}").unwrap();
    out.flush().unwrap();
    for _ in 0..100_000 {
        let nonce = chain.nonce(dev(0)).unwrap();
        match chain
            .transact(&call_tx(dev(0), counter, Bytes::new()))
            .unwrap()
        {
            Outcome::Success { tx_hash, .. } => {
                writeln!(out, "COMMITTED {nonce} {tx_hash}").unwrap();
                out.flush().unwrap();
            }
            other => panic!("{other:?}"),
        }
    }
}

/// Runs a child on `dir` until it has printed [`KILL_AFTER`] commits, then SIGKILLs it.
/// Returns the counter address and the printed (nonce, tx hash) pairs.
fn run_and_kill(dir: &Path) -> (Address, Vec<(u64, B256)>) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "crash_child_worker",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(DIR_VAR, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();

    let mut counter = None;
    let mut printed: Vec<(u64, B256)> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while printed.len() < KILL_AFTER {
        assert!(
            Instant::now() < deadline,
            "child too slow: {} lines",
            printed.len()
        );
        let Some(line) = lines.next() else {
            panic!("child exited early after {} commits", printed.len());
        };
        let line = line.unwrap();
        // libtest may print "test crash_child_worker ... " on the same line, so find the marker.
        let Some(start) = line.find("DEPLOYED").or_else(|| line.find("COMMITTED")) else {
            continue; // test harness chatter
        };
        let mut words = line[start..].split_whitespace();
        match words.next() {
            Some("DEPLOYED") => counter = Some(words.next().unwrap().parse().unwrap()),
            Some("COMMITTED") => {
                let nonce: u64 = words.next().unwrap().parse().unwrap();
                let hash: B256 = words.next().unwrap().parse().unwrap();
                printed.push((nonce, hash));
            }
            other => panic!("unexpected line {other:?}"),
        }
    }
    // Vary the moment of the kill within a commit or two.
    let jitter = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
        % 3_000_000;
    std::thread::sleep(Duration::from_nanos(u64::from(jitter)));
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    (counter.expect("child printed its contract"), printed)
}

/// Checks the chain in `dir` holds an exact prefix that includes everything `printed`.
fn check_prefix(dir: &Path, counter: Address, printed: &[(u64, B256)]) {
    let chain = DevChain::open(dir).unwrap();
    let nonce = chain.nonce(dev(0)).unwrap();
    let committed = nonce - 1; // nonce 0 deployed the counter
    let value = chain.storage(counter, U256::ZERO).unwrap();
    eprintln!(
        "killed after {} printed, {committed} committed",
        printed.len()
    );
    assert!(
        committed >= printed.len() as u64,
        "{committed} < {} printed",
        printed.len()
    );
    assert_eq!(
        value,
        U256::from(committed),
        "counter disagrees with the nonce"
    );
    // One block per transaction: genesis, the deploy, then one per increment.
    assert_eq!(chain.block_number(), nonce);
    let first = printed[0].0;
    for (i, (n, hash)) in printed.iter().enumerate() {
        assert_eq!(*n, first + i as u64, "printed nonces are consecutive");
        let receipt = chain
            .receipt(*hash)
            .unwrap()
            .expect("printed tx is present");
        assert_eq!(receipt.block_number, n + 1);
    }
    // Exactly the prefix: every nonce below the head has its receipt, the next one none.
    let tx = call_tx(dev(0), counter, Bytes::new());
    for n in 1..nonce {
        assert!(
            chain.receipt(tx.hash(n)).unwrap().is_some(),
            "tx with nonce {n} missing"
        );
    }
    assert!(chain.receipt(tx.hash(nonce)).unwrap().is_none());
}

#[test]
fn killed_writer_leaves_an_exact_prefix() {
    let dir = tempfile::tempdir().unwrap();
    // Twice: the second child continues on a file the first one was killed writing.
    let (counter, first) = run_and_kill(dir.path());
    assert_eq!(first[0].0, 1);
    check_prefix(dir.path(), counter, &first);
    let (again, second) = run_and_kill(dir.path());
    assert_eq!(again, counter);
    assert!(second[0].0 > first[first.len() - 1].0);
    check_prefix(dir.path(), counter, &second);
}
