//! The RPC backend: any EVM chain through an alloy HTTP provider (anvil locally).
//!
//! Sending never double-sends: a transaction is signed once, its hash is known before it leaves,
//! and every retry re-broadcasts the same signed bytes, so the chain can include it at most once.
//! Nonces come from the node's pending count, raised past what this process already used.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use alloy::consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy::eips::BlockNumberOrTag;
use alloy::eips::eip2718::Encodable2718;
use alloy::network::TxSignerSync;
use alloy::primitives::{Address, B256, Bytes, TxKind, U256};
use alloy::providers::{Provider, RootProvider};
use alloy::rpc::client::RpcClient;
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use alloy::transports::http::{Http, reqwest::Client};
use alloy::transports::utils::guess_local_url;
use alloy::transports::{RpcError as TransportRpcError, TransportErrorKind};

use crate::ledger::{Ledger, Receipt, TxRequest};
use crate::{Error, Result};

/// Failures of the RPC backend.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// The URL does not parse.
    #[error("invalid RPC URL {url:?}: {reason}")]
    BadUrl {
        /// The URL given.
        url: String,
        /// The parser's complaint.
        reason: String,
    },
    /// The endpoint could not be reached or answered with an error.
    #[error("RPC {method} at {url}: {reason}")]
    Transport {
        /// The endpoint.
        url: String,
        /// The JSON-RPC method.
        method: &'static str,
        /// What went wrong.
        reason: String,
    },
    /// No receipt arrived in time. The transaction may still be mined: it is not re-signed.
    #[error(
        "transaction {tx_hash} has no receipt after {seconds} s (it may still be mined; not resent)"
    )]
    ReceiptTimeout {
        /// The transaction.
        tx_hash: B256,
        /// How long was waited.
        seconds: u64,
    },
    /// The signing key failed.
    #[error("signing failed: {0}")]
    Signing(String),
}

/// Tuning of the RPC backend.
#[derive(Clone, Debug)]
pub struct RpcOptions {
    /// How long to wait for a receipt.
    pub receipt_timeout: Duration,
    /// How often to poll for a receipt.
    pub poll_interval: Duration,
    /// Re-broadcasts of the same signed transaction after a transport failure.
    pub send_retries: u32,
    /// How long one JSON-RPC request may take, connection included: an endpoint that accepts
    /// connections and never answers becomes a transport error instead of a hang.
    pub request_timeout: Duration,
}

impl Default for RpcOptions {
    fn default() -> Self {
        Self {
            receipt_timeout: Duration::from_secs(60),
            poll_interval: Duration::from_millis(50),
            send_retries: 5,
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// A [`Ledger`] over JSON-RPC.
pub struct RpcLedger {
    provider: RootProvider,
    url: String,
    chain_id: u64,
    options: RpcOptions,
    next_nonce: Mutex<HashMap<Address, u64>>,
}

impl std::fmt::Debug for RpcLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RpcLedger")
            .field("url", &self.url)
            .field("chain_id", &self.chain_id)
            .finish_non_exhaustive()
    }
}

impl RpcLedger {
    /// Connects to `url` and reads its chain id.
    pub async fn connect(url: &str, options: RpcOptions) -> Result<Self> {
        let parsed = url
            .parse()
            .map_err(|e: url_parse::ParseError| RpcError::BadUrl {
                url: url.into(),
                reason: e.to_string(),
            })?;
        let client = Client::builder()
            .timeout(options.request_timeout)
            .build()
            .map_err(|e| transport(url, "connect", &e))?;
        let provider = RootProvider::new(RpcClient::new(
            Http::with_client(client, parsed),
            guess_local_url(url),
        ));
        let chain_id = provider
            .get_chain_id()
            .await
            .map_err(|e| transport(url, "eth_chainId", &e))?;
        Ok(Self {
            provider,
            url: url.into(),
            chain_id,
            options,
            next_nonce: Mutex::new(HashMap::new()),
        })
    }

    /// The endpoint's URL.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    fn request(&self, from: Address, tx: &TxRequest) -> TransactionRequest {
        let mut request = TransactionRequest::default()
            .from(from)
            .input(tx.input.clone().into())
            .value(tx.value);
        request.to = Some(tx.to.map_or(TxKind::Create, TxKind::Call));
        if let Some(gas) = tx.gas_limit {
            request.gas = Some(gas);
        }
        request
    }

    /// Maps an RPC failure: revert data becomes [`Error::Reverted`], the rest a transport error.
    fn fail(&self, method: &'static str, e: &TransportRpcError<TransportErrorKind>) -> Error {
        if let Some(data) = e
            .as_error_resp()
            .and_then(|payload| payload.as_revert_data())
        {
            return Error::Reverted { data };
        }
        if let Some(payload) = e.as_error_resp()
            && payload.message.contains("revert")
        {
            return Error::Reverted { data: Bytes::new() };
        }
        transport(&self.url, method, e).into()
    }

    fn reserve_nonce(&self, from: Address, pending: u64) -> u64 {
        let mut nonces = self
            .next_nonce
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let next = nonces.entry(from).or_insert(pending);
        let nonce = (*next).max(pending);
        *next = nonce + 1;
        nonce
    }

    fn release_nonce(&self, from: Address) {
        let mut nonces = self
            .next_nonce
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        nonces.remove(&from);
    }

    async fn broadcast(&self, raw: &[u8], tx_hash: B256) -> Result<()> {
        let mut attempt = 0;
        loop {
            match self.provider.send_raw_transaction(raw).await {
                Ok(_) => return Ok(()),
                Err(e) => {
                    if let Some(payload) = e.as_error_resp() {
                        let message = payload.message.to_lowercase();
                        // A retry after a lost response: the node already has these exact bytes.
                        if message.contains("already known") || message.contains("already imported")
                        {
                            return Ok(());
                        }
                        // Our nonce was taken; only harmless if it was taken by this very tx.
                        if message.contains("nonce too low")
                            && self.find_receipt(tx_hash).await?.is_some()
                        {
                            return Ok(());
                        }
                        return Err(self.fail("eth_sendRawTransaction", &e));
                    }
                    attempt += 1;
                    if attempt > self.options.send_retries {
                        return Err(transport(&self.url, "eth_sendRawTransaction", &e).into());
                    }
                    tracing::warn!(%tx_hash, attempt, error = %e, "re-broadcasting the same signed transaction");
                    tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
                }
            }
        }
    }

    async fn find_receipt(
        &self,
        tx_hash: B256,
    ) -> Result<Option<alloy::rpc::types::TransactionReceipt>> {
        self.provider
            .get_transaction_receipt(tx_hash)
            .await
            .map_err(|e| transport(&self.url, "eth_getTransactionReceipt", &e).into())
    }

    async fn wait_receipt(&self, tx_hash: B256) -> Result<alloy::rpc::types::TransactionReceipt> {
        let deadline = tokio::time::Instant::now() + self.options.receipt_timeout;
        loop {
            // A failed poll is not a failed transaction: keep polling until the deadline.
            match self.find_receipt(tx_hash).await {
                Ok(Some(receipt)) => return Ok(receipt),
                Ok(None) => {}
                Err(e) => tracing::warn!(%tx_hash, error = %e, "receipt poll failed"),
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(RpcError::ReceiptTimeout {
                    tx_hash,
                    seconds: self.options.receipt_timeout.as_secs(),
                }
                .into());
            }
            tokio::time::sleep(self.options.poll_interval).await;
        }
    }
}

fn transport(url: &str, method: &'static str, e: &dyn std::fmt::Display) -> RpcError {
    RpcError::Transport {
        url: url.into(),
        method,
        reason: e.to_string(),
    }
}

mod url_parse {
    pub(super) use alloy::transports::http::reqwest::Url;
    pub(super) type ParseError = <Url as std::str::FromStr>::Err;
}

impl Ledger for RpcLedger {
    async fn chain_id(&self) -> Result<u64> {
        Ok(self.chain_id)
    }

    async fn call(&self, from: Address, tx: &TxRequest) -> Result<Bytes> {
        // Reads see mined state only. The tag is sent explicitly: alloy leaves out a `latest`
        // block parameter, and anvil answers a call without one from its pending block.
        self.provider
            .raw_request(
                "eth_call".into(),
                (self.request(from, tx), BlockNumberOrTag::Latest),
            )
            .await
            .map_err(|e| self.fail("eth_call", &e))
    }

    async fn send(&self, signer: &PrivateKeySigner, tx: TxRequest) -> Result<Receipt> {
        let from = signer.address();
        let request = self.request(from, &tx);
        // Simulation first: a revert is reported with its data and nothing is broadcast.
        let estimate = self
            .provider
            .estimate_gas(request.clone())
            .await
            .map_err(|e| self.fail("eth_estimateGas", &e))?;
        let gas_limit = tx.gas_limit.unwrap_or(estimate + estimate / 5);
        let fees = self
            .provider
            .estimate_eip1559_fees()
            .await
            .map_err(|e| transport(&self.url, "eth_feeHistory", &e))?;
        let pending = self
            .provider
            .get_transaction_count(from)
            .block_id(BlockNumberOrTag::Pending.into())
            .await
            .map_err(|e| transport(&self.url, "eth_getTransactionCount", &e))?;
        let nonce = self.reserve_nonce(from, pending);

        let mut unsigned = TxEip1559 {
            chain_id: self.chain_id,
            nonce,
            gas_limit,
            max_fee_per_gas: fees.max_fee_per_gas,
            max_priority_fee_per_gas: fees.max_priority_fee_per_gas,
            to: tx.to.map_or(TxKind::Create, TxKind::Call),
            value: tx.value,
            input: tx.input.clone(),
            access_list: Default::default(),
        };
        let signature = signer
            .sign_transaction_sync(&mut unsigned)
            .map_err(|e| RpcError::Signing(e.to_string()))?;
        let envelope = TxEnvelope::from(unsigned.into_signed(signature));
        let tx_hash = *envelope.tx_hash();
        let raw = envelope.encoded_2718();

        if let Err(e) = self.broadcast(&raw, tx_hash).await {
            // The nonce was not consumed: forget our cache so the next send asks the node again.
            self.release_nonce(from);
            return Err(e);
        }
        let receipt = match self.wait_receipt(tx_hash).await {
            Ok(receipt) => receipt,
            Err(e) => {
                // No receipt in time: the node may have dropped it. The next send takes its
                // nonce from the node's pending count again, which still counts this
                // transaction if the node holds it, and reuses the nonce if it was dropped;
                // otherwise every later transaction would wait behind the gap.
                self.release_nonce(from);
                return Err(e);
            }
        };
        let block_number = receipt.block_number.unwrap_or_default();
        if !receipt.status() {
            // Mined but failed (state changed between simulation and inclusion): replay it at
            // its block to recover the revert reason.
            let replay = self.provider.call(request).block(block_number.into()).await;
            return Err(match replay {
                Err(e) => match self.fail("eth_call", &e) {
                    reverted @ Error::Reverted { .. } => reverted,
                    _ => Error::FailedOnChain { tx_hash },
                },
                Ok(_) => Error::FailedOnChain { tx_hash },
            });
        }
        Ok(Receipt {
            tx_hash,
            block_number,
            gas_used: receipt.gas_used,
            contract_address: receipt.contract_address,
            logs: receipt
                .inner
                .logs()
                .iter()
                .map(|log| log.inner.clone())
                .collect(),
        })
    }

    async fn timestamp(&self) -> Result<u64> {
        let block = self
            .provider
            .get_block_by_number(BlockNumberOrTag::Latest)
            .await
            .map_err(|e| transport(&self.url, "eth_getBlockByNumber", &e))?;
        Ok(block.map(|b| b.header.timestamp).unwrap_or_default())
    }

    async fn native_balance(&self, account: Address) -> Result<U256> {
        self.provider
            .get_balance(account)
            .await
            .map_err(|e| transport(&self.url, "eth_getBalance", &e).into())
    }

    async fn advance_time(&self, seconds: u64) -> Result<()> {
        let _: serde_json::Value = self
            .provider
            .raw_request("evm_increaseTime".into(), (seconds,))
            .await
            .map_err(|e| transport(&self.url, "evm_increaseTime", &e))?;
        let _: serde_json::Value = self
            .provider
            .raw_request("evm_mine".into(), ())
            .await
            .map_err(|e| transport(&self.url, "evm_mine", &e))?;
        Ok(())
    }
}
