//! The dashboard in a real browser. A devnet runs on the embedded chain with 8-second epochs,
//! ticked until an epoch is final, settlements are published and miners have earned PIN; then
//! headless Chromium (Debian's `chromium`, installed by `scripts/setup.sh`) loads the page and
//! the DOM it rendered must show every miner with its strategy, stratum, Q, TWF, PMU and PIN
//! earned, the settlements, validator trust, the emission per epoch, the answer-latency
//! histogram, and charts of them (SVG drawn from the data), with the figures `/api/state`
//! serves.
//!
//! The devnet's dashboard only changes when it is ticked, so the test stops ticking before the
//! browser loads the page: the page and the API then show one and the same state.

use node::devnet::{Devnet, DevnetConfig, launch};
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Where Debian's `chromium` package puts the browser.
const CHROMIUM: &str = "/usr/bin/chromium";
/// How long the devnet may take to finalise an epoch with settlements and earnings.
const READY_WITHIN: Duration = Duration::from_secs(45);
/// How long Chromium may take to load, run and dump the page.
const BROWSER_WITHIN: Duration = Duration::from_secs(30);

/// The browser, or a failure saying how to install it: the test never passes without one.
fn chromium() -> PathBuf {
    if Path::new(CHROMIUM).is_file() {
        return PathBuf::from(CHROMIUM);
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("chromium"))
            .find(|p| p.is_file())
    });
    on_path.unwrap_or_else(|| {
        panic!(
            "Chromium is not installed ({CHROMIUM} is missing and no `chromium` is on PATH): \
             run scripts/setup.sh (it installs Debian's `chromium` package), then rerun this test"
        )
    })
}

// ---- The devnet ------------------------------------------------------------------------------

/// Everything the page is asked to show is in `state`: a final epoch that minted PIN, a
/// settlement, a miner that earned PIN, a validator with trust, answer latencies.
fn ready(state: &Value) -> Result<(), String> {
    let finalised = array(state, "emissions")
        .iter()
        .any(|e| e["finalised"] == true && number(&e["minted"]) > 0.0);
    let checks = [
        (finalised, "no final epoch that minted PIN"),
        (
            state["settlements_total"].as_u64() > Some(0),
            "no settlement",
        ),
        (
            array(state, "miners")
                .iter()
                .any(|m| number(&m["earned"]) > 0.0),
            "no miner has earned PIN",
        ),
        (
            array(state, "validators")
                .iter()
                .any(|v| number(&v["trust"]) > 0.0),
            "no validator trust",
        ),
        (
            state["latency"]["answers"].as_u64() > Some(0),
            "no answer latency",
        ),
    ];
    match checks.iter().find(|(ok, _)| !ok) {
        Some((_, why)) => Err((*why).to_string()),
        None => Ok(()),
    }
}

async fn api_state(client: &reqwest::Client, base: &str) -> Value {
    client
        .get(format!("{base}/api/state"))
        .send()
        .await
        .expect("GET /api/state")
        .error_for_status()
        .expect("/api/state answers 200")
        .json()
        .await
        .expect("/api/state is JSON")
}

/// Ticks `net` once a second until [`ready`], and returns the state then.
async fn tick_until_ready(net: &Devnet, client: &reqwest::Client, base: &str) -> Value {
    let deadline = Instant::now() + READY_WITHIN;
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        net.tick().await;
        let state = api_state(client, base).await;
        match ready(&state) {
            Ok(()) => return state,
            Err(why) if Instant::now() > deadline => panic!(
                "the devnet is not ready after {READY_WITHIN:?} ({why}; {} epochs final): {state:#}",
                net.finalised().await.unwrap_or(0)
            ),
            Err(_) => {}
        }
    }
}

// ---- The browser -----------------------------------------------------------------------------

/// The DOM of `url` after its scripts ran for `budget_ms` of virtual time (the page polls
/// `/api/state` once a second).
async fn rendered(url: &str, budget_ms: u64) -> String {
    let browser = chromium();
    let profile = tempfile::tempdir().expect("profile dir");
    let mut cmd = tokio::process::Command::new(&browser);
    cmd.args([
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--no-default-browser-check",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .arg(format!("--virtual-time-budget={budget_ms}"))
    .arg("--dump-dom")
    .arg(url)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .kill_on_drop(true);
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", browser.display()));
    let out = tokio::time::timeout(BROWSER_WITHIN, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("Chromium did not dump {url} within {BROWSER_WITHIN:?}"))
        .expect("Chromium runs");
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && dom.contains("</html>"),
        "Chromium failed on {url} ({}): stderr:\n{}\nstdout:\n{dom}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    dom
}

// ---- Reading the DOM -------------------------------------------------------------------------
//
// The page builds its elements with createElement, so Chromium serialises them regularly:
// double-quoted attributes, no nested rows. A few string scans read them.

/// The part of `dom` from the element with `id` to the first `end` after it.
fn section<'a>(dom: &'a str, id: &str, end: &str) -> &'a str {
    let start = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("the page has no #{id}"));
    let rest = &dom[start..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

/// Every `<tag …>…</tag>` in `html` whose opening tag contains `marker`, whole.
fn elements<'a>(html: &'a str, tag: &str, marker: &str) -> Vec<&'a str> {
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(&open) {
        rest = &rest[i..];
        let head_end = rest.find('>').unwrap_or(rest.len());
        let whole_name = matches!(rest.as_bytes().get(open.len()), Some(b' ' | b'>' | b'/'));
        if whole_name && rest[..head_end].contains(marker) {
            let end = rest.find(&close).map_or(head_end + 1, |j| j + close.len());
            found.push(&rest[..end.min(rest.len())]);
        }
        rest = &rest[head_end.max(1)..];
    }
    found
}

/// The attributes of an element's opening tag.
fn attrs(element: &str) -> BTreeMap<String, String> {
    let head = &element[..element.find('>').unwrap_or(element.len())];
    let mut out = BTreeMap::new();
    let mut rest = head.split_once(' ').map_or("", |(_, r)| r);
    while let Some(eq) = rest.find("=\"") {
        let name = rest[..eq].trim().to_string();
        let value_start = eq + 2;
        let value_end = rest[value_start..]
            .find('"')
            .map_or(rest.len(), |j| value_start + j);
        out.insert(name, unescape(&rest[value_start..value_end]));
        rest = rest.get(value_end + 1..).unwrap_or("");
    }
    out
}

fn unescape(text: &str) -> String {
    text.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The text of `html` without its tags.
fn text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    unescape(out.trim())
}

/// The text of each cell of a table row.
fn cells(row: &str) -> Vec<String> {
    elements(row, "td", "").into_iter().map(text).collect()
}

/// A figure as the page prints it (`1,234.57`, `98.5%`), as a number.
fn shown(cell: &str) -> f64 {
    let plain: String = cell
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '.' || *c == '-')
        .collect();
    plain
        .parse()
        .unwrap_or_else(|_| panic!("{cell:?} is not a number"))
}

/// A JSON number, or a decimal string (PIN amounts), as f64.
fn number(v: &Value) -> f64 {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(f64::NAN)
}

fn array<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v[key].as_array().map_or(&[], Vec::as_slice)
}

/// `page` shows `api` rounded to `decimals`.
fn assert_shows(what: &str, page: &str, api: f64, decimals: i32) {
    let tolerance = 0.5 * 10f64.powi(-decimals) + 1e-9;
    assert!(
        (shown(page) - api).abs() <= tolerance,
        "{what}: the page shows {page:?}, /api/state has {api}"
    );
}

// ---- The test --------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_renders_a_running_devnet_in_chromium() {
    let started = Instant::now();
    chromium(); // fail before spending a minute on the devnet
    let data = tempfile::tempdir().expect("temp dir");
    let mut config = DevnetConfig::new(data.path().join("devnet"));
    config.dashboard = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    config.epoch_length = 8;
    config.reveal_window = 2;
    let net = launch(config, &mut |_| {})
        .await
        .expect("the devnet starts");
    let base = net.dashboard_url.clone().expect("a dashboard is served");
    let client = reqwest::Client::new();
    let before = tick_until_ready(&net, &client, &base).await;
    let ready_after = started.elapsed();

    // No more ticks: the state the page renders is the one the API serves now.
    let dom = rendered(&format!("{base}/"), 4_000).await;
    let state = api_state(&client, &base).await;
    for key in [
        "miners",
        "validators",
        "settlements",
        "emissions",
        "latency",
    ] {
        assert_eq!(before[key], state[key], "{key} changed without a tick");
    }

    // The trainer's run, with its nodes attesting.
    let run = &state["training"];
    assert_eq!(run["nodes"].as_array().map(Vec::len), Some(4), "{run}");
    assert!(
        dom.contains(&format!("data-training=\"{}\"", run["run_id"])),
        "the page shows no training run"
    );
    assert!(
        dom.contains("devnet-llm"),
        "the model's name is not on the page"
    );

    // The scripts ran, reached the API and drew the live view.
    let body = attrs(&dom[dom.find("<body").expect("a body")..]);
    assert_eq!(body["data-state"], "live", "the page is not live");
    assert!(
        !body.contains_key("data-error"),
        "the page reports an error"
    );
    assert!(
        elements(&dom, "span", "id=\"status\"")
            .first()
            .is_some_and(|s| text(s) == "live"),
        "the status pill does not say live"
    );
    assert!(
        !attrs(elements(&dom, "main", "id=\"main\"")[0]).contains_key("hidden"),
        "the main view is hidden"
    );
    let epoch = attrs(elements(&dom, "span", "id=\"epoch\"")[0]);
    assert_eq!(
        epoch["data-epoch"],
        state["network"]["epoch"].to_string(),
        "the epoch shown"
    );

    // Miners: a row each with its strategy, stratum, Q, TWF, PMU and PIN earned, as the API has.
    let miners = array(&state, "miners");
    let table = section(&dom, "miners-table", "</table>");
    let rows = elements(table, "tr", "data-miner=");
    assert_eq!(rows.len(), miners.len(), "one row per miner");
    assert!(miners.len() >= 8, "the devnet's eight miners");
    let mut earned_shown = 0.0;
    for (row, m) in rows.iter().zip(miners) {
        let label = m["label"].as_str().expect("label");
        let c = cells(row);
        assert_eq!(c.len(), 13, "{label}: the miner row's cells: {c:?}");
        assert_eq!(attrs(row)["data-miner"], label);
        assert_eq!(c[0], label);
        assert_eq!(c[1], m["strategy"].as_str().expect("strategy"));
        assert!(
            ["exact", "heuristic", "noisy", "slow", "copier", "random"].contains(&c[1].as_str()),
            "{label}: strategy {:?}",
            c[1]
        );
        assert_eq!(
            c[2],
            m["stratum"].as_str().expect("stratum"),
            "{label}: stratum"
        );
        assert_eq!(
            c[3].replace(',', ""),
            format!("{}/{}", m["answered"], m["sent"]),
            "{label}: answered/sent"
        );
        assert_shows(
            &format!("{label}: Q epoch"),
            &c[4],
            number(&m["mean_q_epoch"]),
            3,
        );
        assert_shows(&format!("{label}: Q"), &c[5], number(&m["mean_q"]), 3);
        assert_shows(&format!("{label}: TWF"), &c[6], number(&m["twf"]), 2);
        assert_shows(&format!("{label}: PMU"), &c[7], number(&m["pmu"]), 2);
        assert_shows(&format!("{label}: score"), &c[8], number(&m["score"]), 2);
        assert_shows(
            &format!("{label}: PIN earned"),
            &c[9],
            number(&m["earned"]),
            2,
        );
        assert_shows(
            &format!("{label}: PIN claimed"),
            &c[10],
            number(&m["claimed"]),
            2,
        );
        assert!((0.0..=1.0).contains(&shown(&c[5])), "{label}: Q {}", c[5]);
        assert!((0.5..=1.5).contains(&shown(&c[6])), "{label}: TWF {}", c[6]);
        let earned_cell = elements(row, "td", "data-earned=")[0];
        assert_eq!(
            attrs(earned_cell)["data-earned"],
            m["earned"].as_str().expect("earned is a decimal string"),
            "{label}: the exact amount earned"
        );
        assert_eq!(c[11], m["endpoint"].as_str().expect("endpoint"));
        assert_eq!(c[12], m["address"].as_str().expect("address"));
        earned_shown += shown(&c[9]);
    }
    assert!(earned_shown > 0.0, "no miner shows PIN earned");
    assert!(
        rows.iter()
            .any(|r| cells(r)[1] == "exact" && shown(&cells(r)[5]) > 0.9),
        "an exact miner shows Q near 1"
    );

    // Settlements: the latest, with their winners, and the running total.
    let table = section(&dom, "settlements-table", "</table>");
    let rows = elements(table, "tr", "data-challenge-id=");
    let settlements = array(&state, "settlements");
    assert!(!rows.is_empty(), "no settlement row");
    assert_eq!(rows.len(), settlements.len(), "one row per settlement");
    let labels: Vec<&str> = miners.iter().filter_map(|m| m["label"].as_str()).collect();
    for (row, x) in rows.iter().zip(settlements) {
        let c = cells(row);
        assert_eq!(
            attrs(row)["data-challenge-id"],
            x["challenge_id"].as_str().expect("id")
        );
        assert_eq!(c[1], x["epoch"].to_string(), "settlement epoch");
        assert_eq!(c[2], x["challenge_id"].as_str().expect("id"));
        assert!(!c[3].is_empty(), "settlement class");
        assert!(
            labels.contains(&c[6].as_str()),
            "winner {:?} is a miner",
            c[6]
        );
        assert_eq!(c[7], x["validator"].as_str().expect("validator"));
        assert!(c[8].starts_with("0x"), "settlement tx {:?}", c[8]);
    }
    assert_eq!(
        text(elements(&dom, "span", "id=\"kpi-settlements\"")[0]).replace(',', ""),
        state["settlements_total"].to_string(),
        "settlements published"
    );

    // Validators: trust (and stake and dividends) per validator.
    let validators = array(&state, "validators");
    let table = section(&dom, "validators-table", "</table>");
    let rows = elements(table, "tr", "data-validator=");
    assert_eq!(rows.len(), validators.len(), "one row per validator");
    for (row, v) in rows.iter().zip(validators) {
        let c = cells(row);
        assert_eq!(c[0], v["label"].as_str().expect("label"));
        assert_shows(&format!("{}: trust", c[0]), &c[2], number(&v["trust"]), 3);
        assert_shows(&format!("{}: stake", c[0]), &c[1], number(&v["stake"]), 0);
    }
    assert!(
        rows.iter().any(|r| shown(&cells(r)[2]) > 0.0),
        "no validator shows trust"
    );

    // Emissions: per epoch, newest first, with at least one final epoch that minted PIN.
    let emissions = array(&state, "emissions");
    let table = section(&dom, "emissions-table", "</table>");
    let rows = elements(table, "tr", "data-epoch=");
    assert_eq!(rows.len(), emissions.len(), "one row per epoch");
    for (row, e) in rows.iter().zip(emissions.iter().rev()) {
        let c = cells(row);
        assert_eq!(c[0], e["epoch"].to_string());
        assert_shows(
            &format!("epoch {}: minted", c[0]),
            &c[2],
            number(&e["minted"]),
            2,
        );
        let status = if e["finalised"] == true {
            "final"
        } else {
            "pending"
        };
        assert_eq!(c[4], status, "epoch {}", c[0]);
    }
    assert!(
        rows.iter()
            .any(|r| cells(r)[4] == "final" && shown(&cells(r)[2]) > 0.0),
        "no final epoch shows PIN minted"
    );

    // Charts: SVG drawn from the data.
    let chart = |id: &str| section(&dom, id, "</figure>");
    let bars = |id: &str, key: &str| -> Vec<BTreeMap<String, String>> {
        let svg = chart(id);
        assert!(svg.contains("<svg"), "#{id} drew no SVG: {svg}");
        elements(svg, "rect", "class=\"bar\"")
            .into_iter()
            .map(attrs)
            .filter(|a| a.contains_key(key))
            .collect()
    };
    let value = |a: &BTreeMap<String, String>| -> f64 {
        a["data-value"].parse().expect("data-value is a number")
    };

    let earned = bars("chart-earned", "data-miner");
    assert_eq!(earned.len(), miners.len(), "a bar of PIN earned per miner");
    for (bar, m) in earned.iter().zip(miners) {
        assert_eq!(bar["data-miner"], m["label"].as_str().expect("label"));
        assert!(
            (value(bar) - number(&m["earned"])).abs() < 1e-6,
            "bar {bar:?}"
        );
    }
    assert!(
        earned
            .iter()
            .any(|b| b["width"].parse::<f64>().unwrap_or(0.0) > 1.0),
        "no PIN-earned bar has a width"
    );

    let quality = chart("chart-quality");
    for (class, key) in [
        ("dot q", "mean_q"),
        ("dot q-epoch", "mean_q_epoch"),
        ("dot twf", "twf"),
    ] {
        let tag = if class == "dot twf" { "path" } else { "circle" };
        let dots: Vec<_> = elements(quality, tag, &format!("class=\"{class}\""))
            .into_iter()
            .map(attrs)
            .collect();
        assert_eq!(dots.len(), miners.len(), "a {class} mark per miner");
        for (dot, m) in dots.iter().zip(miners) {
            assert!(
                (value(dot) - number(&m[key])).abs() < 1e-9,
                "{class} {dot:?}"
            );
        }
    }

    let pmu = bars("chart-pmu", "data-miner");
    assert_eq!(pmu.len(), miners.len(), "a PMU bar per miner");
    for (bar, m) in pmu.iter().zip(miners) {
        assert_eq!(bar["data-miner"], m["label"].as_str().expect("label"));
        assert_eq!(bar["data-stratum"], m["stratum"].as_str().expect("stratum"));
        assert!((value(bar) - number(&m["pmu"])).abs() < 1e-9, "bar {bar:?}");
    }
    assert!(pmu.iter().any(|b| value(b) > 0.0), "no miner shows a PMU");

    let minted = bars("chart-emissions", "data-epoch");
    let shown_epochs = emissions.len().min(24);
    assert_eq!(
        minted.len(),
        shown_epochs,
        "a bar per epoch (the latest 24)"
    );
    for (bar, e) in minted
        .iter()
        .zip(&emissions[emissions.len() - shown_epochs..])
    {
        assert_eq!(bar["data-epoch"], e["epoch"].to_string());
        assert!(
            (value(bar) - number(&e["minted"])).abs() < 1e-6,
            "bar {bar:?}"
        );
    }
    assert!(
        minted.iter().any(|b| value(b) > 0.0),
        "no emission bar has PIN"
    );
    assert!(
        chart("chart-emissions").contains("<polyline"),
        "no support line"
    );

    let buckets = bars("chart-latency", "data-bucket");
    let counts: Vec<u64> = state["latency"]["counts"]
        .as_array()
        .expect("counts")
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    assert_eq!(buckets.len(), counts.len(), "a bar per latency bucket");
    let drawn: f64 = buckets.iter().map(value).sum();
    assert!(drawn > 0.0, "the latency histogram is empty");
    assert_eq!(
        drawn as u64,
        state["latency"]["answers"].as_u64().expect("answers"),
        "the histogram counts every answer"
    );

    let trust = bars("chart-validators", "data-validator");
    let trust: Vec<_> = trust
        .iter()
        .filter(|b| b.get("data-series").map(String::as_str) == Some("trust"))
        .collect();
    assert_eq!(trust.len(), validators.len(), "a trust bar per validator");
    for (bar, v) in trust.iter().zip(validators) {
        assert!(
            (value(bar) - number(&v["trust"])).abs() < 1e-9,
            "bar {bar:?}"
        );
    }

    eprintln!(
        "devnet ready after {ready_after:.1?}, page checked after {:.1?}: {} miners, {} settlements, {} epochs",
        started.elapsed(),
        miners.len(),
        state["settlements_total"],
        emissions.len()
    );
    net.stop().await;
}
