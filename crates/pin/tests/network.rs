//! The network end to end, one process per role, against a real anvil on 127.0.0.1: a gateway,
//! two validators (60,000 and 40,000 PIN of stake) and four miners (exact, heuristic, a copier
//! of the exact one, a random answerer), each a `pin` process. Two parties submit intents
//! that settle and are published; two epochs finalise by commit–reveal weights and 2/3 of the
//! validator stake; a miner claims its PIN with a validator's proof; the honest miners earn
//! more than the copier and the random one.

mod common;

use common::{free_port, get, pin_command, wait_for};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use pin_chain::testing::spawn_anvil;
use serde_json::Value;

struct Pin<'a> {
    data_dir: &'a Path,
    rpc_url: String,
}

/// Children are killed when the test ends, pass or fail.
struct Services(Vec<Child>);

impl Drop for Services {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Pin<'_> {
    fn command(&self, key: &str, args: &[&str]) -> Command {
        pin_command(self.data_dir, &self.rpc_url, key, args)
    }

    fn run(&self, key: &str, args: &[&str]) -> Output {
        self.command(key, args).output().expect("run pin")
    }

    fn ok(&self, key: &str, args: &[&str]) -> String {
        let out = self.run(key, args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "pin {args:?} failed ({}):\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    fn json(&self, key: &str, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(key, &all)).expect("json output")
    }

    fn spawn(&self, key: &str, args: &[&str], log: &Path) -> Child {
        let file = std::fs::File::create(log).expect("log file");
        self.command(key, args)
            .env("PIN_LOG", "info")
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("spawn pin")
    }
}

fn dev_address(i: usize) -> String {
    pin_chain::dev_accounts()[i].0.to_string()
}

#[test]
fn two_validators_and_four_miners_settle_finalise_and_pay_across_processes() {
    let anvil = spawn_anvil();
    let dir = tempfile::tempdir().expect("temp dir");
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).expect("logs dir");
    let pin = Pin {
        data_dir: dir.path(),
        rpc_url: anvil.endpoint(),
    };
    pin.ok(
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
    for (v, stake) in [("dev:1", "60000"), ("dev:2", "40000")] {
        pin.ok("dev:0", &["grant", "validator", v]);
        pin.ok("dev:0", &["mint", v, stake]);
        pin.ok(v, &["stake", stake]);
    }
    for m in ["dev:3", "dev:4", "dev:5", "dev:6"] {
        pin.ok("dev:0", &["whitelist", m]);
        pin.ok("dev:0", &["mint", m, "10000"]);
        pin.ok(m, &["stake", "10000"]);
    }

    let mut services = Services(Vec::new());
    let gw_port = free_port();
    let gateway = format!("http://127.0.0.1:{gw_port}");
    services.0.push(pin.spawn(
        "dev:0",
        &["gateway", "--listen", &format!("127.0.0.1:{gw_port}")],
        &logs.join("gateway.log"),
    ));
    let mut validators = Vec::new();
    for (i, key) in ["dev:1", "dev:2"].iter().enumerate() {
        let port = free_port();
        validators.push(format!("http://127.0.0.1:{port}"));
        services.0.push(pin.spawn(
            key,
            &[
                "validator",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--gateway",
                &gateway,
                "--label",
                &format!("validator-{i}"),
                "--seed",
                &(i + 1).to_string(),
            ],
            &logs.join(format!("validator-{i}.log")),
        ));
    }
    let exact_port = free_port();
    let exact_url = format!("http://127.0.0.1:{exact_port}");
    let copier = dev_address(5);
    let miners: [(&str, u16, Vec<String>); 4] = [
        (
            "dev:3",
            exact_port,
            vec![
                "--strategy".into(),
                "exact".into(),
                "--share-with".into(),
                copier,
            ],
        ),
        (
            "dev:4",
            free_port(),
            vec!["--strategy".into(), "heuristic".into()],
        ),
        (
            "dev:5",
            free_port(),
            vec![
                "--strategy".into(),
                "copier".into(),
                "--copy-from".into(),
                exact_url,
            ],
        ),
        (
            "dev:6",
            free_port(),
            vec!["--strategy".into(), "random".into()],
        ),
    ];
    for (key, port, extra) in &miners {
        let listen = format!("127.0.0.1:{port}");
        let mut args: Vec<&str> = vec!["miner", "--listen", &listen];
        for v in &validators {
            args.push("--validator");
            args.push(v);
        }
        args.extend(extra.iter().map(String::as_str));
        services
            .0
            .push(pin.spawn(key, &args, &logs.join(format!("miner-{key}.log"))));
    }
    let dump_logs = || {
        for entry in std::fs::read_dir(&logs).expect("logs").flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(15).collect();
            eprintln!("--- {}:", entry.path().display());
            for l in tail.iter().rev() {
                eprintln!("{l}");
            }
        }
    };

    // Every miner registers with both validators.
    for v in &validators {
        wait_for("miners to register", Duration::from_secs(60), || {
            let s = get(&format!("{v}/status"))?;
            (s["miners"].as_object()?.len() == 4).then_some(())
        });
    }

    // Two parties trade one resource through the gateway.
    let sell = pin.json(
        "dev:7",
        &[
            "intent",
            "submit",
            "--gateway",
            &gateway,
            "--side",
            "sell",
            "--quantity",
            "5",
            "--price",
            "90",
        ],
    );
    let buy = pin.json(
        "dev:8",
        &[
            "intent",
            "submit",
            "--gateway",
            &gateway,
            "--side",
            "buy",
            "--quantity",
            "5",
            "--price",
            "110",
        ],
    );
    for intent in [&sell, &buy] {
        let id = intent["id"].as_str().expect("intent id").to_string();
        let settled = wait_for("the intents to settle", Duration::from_secs(90), || {
            let r = pin.json("dev:0", &["intent", "show", "--gateway", &gateway, &id]);
            (r["status"]["state"] == "settled").then_some(r)
        });
        assert!(
            settled["status"]["filled"].as_u64().unwrap_or(0) > 0,
            "{settled}"
        );
        assert!(settled["status"]["tx"].is_string(), "published: {settled}");
    }

    // Two epochs finalise.
    let finalised = wait_for("two epochs to finalise", Duration::from_secs(120), || {
        let s = pin.json("dev:0", &["emission", "status"]);
        (s["next_epoch"].as_u64()? >= 2).then_some(s)
    });
    assert_ne!(
        finalised["latest_root"].as_str(),
        Some("0x0000000000000000000000000000000000000000000000000000000000000000")
    );

    // The first validator takes the finalised epochs into its book within a poll or two; its
    // root is then the chain's.
    let next_epoch = finalised["next_epoch"].as_u64().unwrap_or(0);
    wait_for(
        "the validator's book to reach the chain",
        Duration::from_secs(30),
        || {
            let b = get(&format!("{}/emissions/{}", validators[0], dev_address(3)))?;
            (b["epochs"].as_u64()? >= next_epoch).then_some(())
        },
    );
    let s = pin.json("dev:0", &["emission", "status"]);
    let b = get(&format!("{}/emissions/{}", validators[0], dev_address(3))).expect("proof body");
    if s["next_epoch"].as_u64() == b["epochs"].as_u64() {
        assert_eq!(
            b["root"], s["latest_root"],
            "validator and chain agree on the root"
        );
    }

    // What each miner earned, by the first validator's book (the root both agreed on).
    let earned = |i: usize| -> u128 {
        get(&format!("{}/emissions/{}", validators[0], dev_address(i)))
            .and_then(|b| b["cumulative"].as_str()?.parse().ok())
            .unwrap_or(0)
    };
    let (exact, heuristic, copied, random) = (earned(3), earned(4), earned(5), earned(6));
    if !(exact > copied && exact > random && heuristic > copied && heuristic > random) {
        dump_logs();
    }
    assert!(exact > copied, "exact {exact} vs copier {copied}");
    assert!(exact > random, "exact {exact} vs random {random}");
    assert!(
        heuristic > copied,
        "heuristic {heuristic} vs copier {copied}"
    );
    assert!(
        heuristic > random,
        "heuristic {heuristic} vs random {random}"
    );

    // The exact miner claims; a second claim of the same total is refused.
    let before = pin.json("dev:0", &["balance", "dev:3"]);
    let claim = pin.json(
        "dev:3",
        &["emission", "claim", "--validator", &validators[0]],
    );
    assert_ne!(claim["paid"].as_str(), Some("0"), "{claim}");
    let after = pin.json("dev:0", &["balance", "dev:3"]);
    assert_ne!(before, after, "the claim paid PIN");
    let again = pin.run(
        "dev:3",
        &["emission", "claim", "--validator", &validators[0]],
    );
    let stderr = String::from_utf8_lossy(&again.stderr);
    // Unless a new epoch finalised in between, the same cumulative amount is refused.
    assert!(
        again.status.success() || stderr.contains("NothingToClaim"),
        "second claim: {stderr}"
    );
    drop(services);
}
