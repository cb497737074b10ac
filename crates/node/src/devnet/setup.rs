//! The devnet's cast and its on-chain set-up: deploy, fund, grant, whitelist, stake, and a
//! training run whose nodes attest.

use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::signers::local::PrivateKeySigner;
use nash::strategy::Strategy;
use pin_chain::{AnyLedger, Ledger, Pin, Protocol, Role, RunId, TxRequest, dev_accounts};

/// A participant with a role in the devnet.
#[derive(Clone, Debug)]
pub struct Member {
    /// A name for the terminal and the dashboard.
    pub label: String,
    /// Its key.
    pub signer: PrivateKeySigner,
}

/// A miner of the devnet and how it solves.
#[derive(Clone, Debug)]
pub struct MinerPlan {
    /// Who.
    pub member: Member,
    /// Its strategy.
    pub strategy: Strategy,
    /// The miner (index) it copies, for the copier.
    pub copies: Option<usize>,
}

/// Everyone in the devnet.
#[derive(Clone, Debug)]
pub struct Cast {
    /// Deployer and admin (`dev:0`).
    pub admin: Member,
    /// Validators with their stakes in whole PIN.
    pub validators: Vec<(Member, u64)>,
    /// The miners.
    pub miners: Vec<MinerPlan>,
    /// The model trainer.
    pub trainer: Member,
    /// Parties that submit intents.
    pub parties: Vec<Member>,
}

fn dev(i: usize, label: &str) -> Member {
    let (_, key) = dev_accounts()[i];
    Member {
        label: label.into(),
        // The dev keys are valid constants.
        signer: PrivateKeySigner::from_bytes(&key).unwrap_or_else(|_| PrivateKeySigner::random()),
    }
}

/// A key derived from a label: deterministic, so a devnet's accounts are the same every run.
fn derived(label: &str) -> Member {
    let key = keccak256(format!("PIN devnet key/{label}").as_bytes());
    Member {
        label: label.into(),
        signer: PrivateKeySigner::from_bytes(&key).unwrap_or_else(|_| PrivateKeySigner::random()),
    }
}

/// The training run's budget, PIN.
pub const RUN_BUDGET: u64 = 5_000;
/// How many of the miners are the run's compute nodes (the first ones).
pub const RUN_NODES: usize = 4;

/// Minimum stake of the devnet's compute nodes (the deployment default).
pub const MINER_STAKE: u64 = 10_000;

impl Cast {
    /// The standard cast: two validators (60,000 and 40,000 PIN), eight miners — two exact
    /// solvers, a fast heuristic, a slightly and a very noisy one, a slow exact one, a copier
    /// of the first and a random answerer — a trainer and four parties.
    #[must_use]
    pub fn standard(seed: u64) -> Self {
        let plan = |member: Member, strategy: Strategy| MinerPlan {
            member,
            strategy,
            copies: None,
        };
        let mut miners = vec![
            plan(dev(3, "exact"), Strategy::Exact),
            plan(dev(4, "exact-b"), Strategy::Exact),
            plan(dev(5, "heuristic"), Strategy::Heuristic),
            plan(dev(6, "noisy-1%"), Strategy::Noisy { level: 0.01, seed }),
            plan(dev(7, "noisy-30%"), Strategy::Noisy { level: 0.3, seed }),
            plan(dev(8, "slow"), Strategy::Slow { latency_ms: 300 }),
            plan(dev(9, "copier"), Strategy::Copier),
            plan(derived("random"), Strategy::Random { seed }),
        ];
        miners[6].copies = Some(0);
        Self {
            admin: dev(0, "admin"),
            validators: vec![
                (dev(1, "validator-a"), 60_000),
                (dev(2, "validator-b"), 40_000),
            ],
            miners,
            trainer: derived("trainer"),
            parties: (0..4).map(|i| derived(&format!("party-{i}"))).collect(),
        }
    }
}

/// Gives `to` 10 ETH from the admin if it has none (RPC chains charge gas; the embedded chain
/// does not, and this is then a no-op on its zero gas price).
async fn fund(
    p: &Protocol<AnyLedger>,
    admin: &PrivateKeySigner,
    to: Address,
) -> pin_chain::Result<()> {
    if p.ledger().native_balance(to).await? > U256::ZERO {
        return Ok(());
    }
    let tx = TxRequest {
        to: Some(to),
        value: U256::from(10u64) * U256::from(10u64).pow(U256::from(18u64)),
        ..TxRequest::default()
    };
    p.ledger().send(admin, tx).await.map(|_| ())
}

/// Grants, funds and stakes everyone; registers the trainer's model and starts its run with
/// the first four miners as its nodes. Returns the run.
///
/// # Errors
/// The first chain error, decoded.
pub async fn provision(
    p: &Protocol<AnyLedger>,
    cast: &Cast,
    on: &mut dyn FnMut(String),
) -> pin_chain::Result<RunId> {
    let admin = &cast.admin.signer;
    let everyone: Vec<&Member> = cast
        .validators
        .iter()
        .map(|(m, _)| m)
        .chain(cast.miners.iter().map(|m| &m.member))
        .chain(std::iter::once(&cast.trainer))
        .chain(cast.parties.iter())
        .collect();
    for m in &everyone {
        fund(p, admin, m.signer.address()).await?;
    }
    for (v, stake) in &cast.validators {
        p.grant(admin, Role::Validator, v.signer.address()).await?;
        p.mint(admin, v.signer.address(), Pin::whole(*stake))
            .await?;
        p.stake(&v.signer, Pin::whole(*stake)).await?;
        on(format!("{} stakes {stake} PIN as a validator", v.label));
    }
    for m in &cast.miners {
        let a = m.member.signer.address();
        p.whitelist(admin, a).await?;
        p.mint(admin, a, Pin::whole(2 * MINER_STAKE)).await?;
        p.stake(&m.member.signer, Pin::whole(MINER_STAKE)).await?;
    }
    on(format!(
        "{} miners whitelisted, each staking {MINER_STAKE} PIN",
        cast.miners.len()
    ));
    let trainer = &cast.trainer.signer;
    p.grant(admin, Role::Trainer, trainer.address()).await?;
    p.mint(admin, trainer.address(), Pin::whole(RUN_BUDGET))
        .await?;
    let (model, run) = p
        .register_model(trainer, "devnet-llm", Pin::whole(RUN_BUDGET))
        .await?;
    p.start_run(trainer, run).await?;
    for (i, m) in cast.miners.iter().take(RUN_NODES).enumerate() {
        p.join_run(&m.member.signer, run, &format!("127.0.0.1:{}", 9100 + i))
            .await?;
    }
    on(format!(
        "trainer registered model {model} with run {run} ({RUN_BUDGET} PIN budget); {RUN_NODES} nodes joined"
    ));
    Ok(run)
}

/// One attestation by each of the run's nodes: a digest of the run, node and step.
///
/// # Errors
/// The first chain error, decoded.
pub async fn attest_round(
    p: &Protocol<AnyLedger>,
    cast: &Cast,
    run: RunId,
    step: u64,
) -> pin_chain::Result<u64> {
    let mut n = 0;
    for m in cast.miners.iter().take(RUN_NODES) {
        let digest: B256 = keccak256(
            [
                run.0.to_be_bytes().as_slice(),
                m.member.signer.address().as_slice(),
                step.to_be_bytes().as_slice(),
            ]
            .concat(),
        );
        p.attest(&m.member.signer, run, digest).await?;
        n += 1;
    }
    Ok(n)
}
