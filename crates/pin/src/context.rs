//! The global options, turned into a ledger, a signer and a protocol client.

use std::path::PathBuf;

use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context as _, Result, bail};
use pin_chain::{AnyLedger, Deployment, EmbeddedLedger, Ledger, Protocol, RpcLedger, RpcOptions};

use crate::accounts;

/// Global options of one invocation.
#[derive(Debug)]
pub(crate) struct Context {
    data_dir: PathBuf,
    rpc_url: Option<String>,
    key: String,
}

impl Context {
    pub(crate) fn new(data_dir: PathBuf, rpc_url: Option<String>, key: String) -> Self {
        Self {
            data_dir,
            rpc_url,
            key,
        }
    }

    /// The data directory.
    pub(crate) fn data_dir(&self) -> &std::path::Path {
        &self.data_dir
    }

    /// The RPC endpoint given by `--rpc-url`, if any.
    pub(crate) fn rpc_url(&self) -> Option<&str> {
        self.rpc_url.as_deref()
    }

    /// The signing key given by `--key`.
    pub(crate) fn signer(&self) -> Result<PrivateKeySigner> {
        accounts::signer(&self.key)
    }

    /// Opens the embedded chain under the data dir, or connects to `--rpc-url`.
    pub(crate) async fn ledger(&self) -> Result<AnyLedger> {
        Ok(match &self.rpc_url {
            Some(url) => AnyLedger::Rpc(RpcLedger::connect(url, RpcOptions::default()).await?),
            None => {
                let dir = self.data_dir.join("chain");
                AnyLedger::Embedded(
                    EmbeddedLedger::open(&dir).with_context(|| {
                        format!("opening the embedded chain in {}", dir.display())
                    })?,
                )
            }
        })
    }

    /// Where the deployment record for `ledger` lives: one per backend and chain.
    pub(crate) async fn deployment_path(&self, ledger: &AnyLedger) -> Result<PathBuf> {
        Ok(match ledger {
            AnyLedger::Embedded(_) => self.data_dir.join("deployment.json"),
            AnyLedger::Rpc(_) => self
                .data_dir
                .join(format!("deployment-rpc-{}.json", ledger.chain_id().await?)),
        })
    }

    /// The protocol as deployed on the chosen ledger.
    pub(crate) async fn protocol(&self) -> Result<Protocol<AnyLedger>> {
        let ledger = self.ledger().await?;
        let path = self.deployment_path(&ledger).await?;
        let deployment = Deployment::load(&path)?;
        let chain_id = ledger.chain_id().await?;
        if deployment.chain_id != chain_id {
            bail!(
                "{} records a deployment on chain {}, but the ledger is chain {chain_id}",
                path.display(),
                deployment.chain_id
            );
        }
        Ok(Protocol::attach(ledger, deployment).await?)
    }
}
