//! The sending side of the wire protocol: a reqwest client that signs every request with the
//! participant's chain key (see [`crate::wire`]) and turns refusals back into their code and
//! reason.

use crate::http::{RefusalBody, now_ms};
use crate::wire::Credentials;
use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use thiserror::Error;

/// Why a signed request did not get its answer.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The URL does not parse.
    #[error("bad URL {url}: {reason}")]
    Url {
        /// The URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// Connecting, sending or reading failed.
    #[error("{url}: {source}")]
    Transport {
        /// The URL.
        url: String,
        /// The transport error.
        source: reqwest::Error,
    },
    /// The receiver refused the request.
    #[error("{url} refused ({status} {error}): {reason}")]
    Refused {
        /// The URL.
        url: String,
        /// HTTP status.
        status: u16,
        /// The refusal code (`replay`, `late`, …).
        error: String,
        /// The receiver's reason.
        reason: String,
    },
    /// A success whose body is not the expected JSON.
    #[error("{url}: unexpected answer: {reason}")]
    BadAnswer {
        /// The URL.
        url: String,
        /// What did not parse.
        reason: String,
    },
    /// Signing failed.
    #[error("signing: {0}")]
    Signing(#[from] alloy::signers::Error),
}

/// Signs and sends requests as one participant.
#[derive(Debug)]
pub struct SignedClient {
    signer: PrivateKeySigner,
    http: reqwest::Client,
    nonce: AtomicU64,
}

impl SignedClient {
    /// A client for `signer` whose requests time out after `timeout`. Nonces start at the
    /// current time in microseconds, so a restarted sender never reuses one a receiver still
    /// remembers.
    #[must_use]
    pub fn new(signer: PrivateKeySigner, timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .pool_max_idle_per_host(64)
            .build()
            .unwrap_or_default();
        Self {
            signer,
            http,
            nonce: AtomicU64::new(now_ms().saturating_mul(1000)),
        }
    }

    /// The sender's address.
    #[must_use]
    pub fn address(&self) -> Address {
        self.signer.address()
    }

    /// The plain HTTP client (for unsigned reads).
    #[must_use]
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// POSTs `body` as JSON, signed, and returns the decoded JSON answer.
    ///
    /// # Errors
    /// [`ClientError`]: transport, refusal (with the receiver's code and reason), or an answer
    /// that is not `R`.
    pub async fn post<T: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        url: &str,
        body: &T,
    ) -> Result<R, ClientError> {
        let bytes = serde_json::to_vec(body).map_err(|e| ClientError::BadAnswer {
            url: url.into(),
            reason: format!("request does not serialise: {e}"),
        })?;
        let path = reqwest::Url::parse(url)
            .map_err(|e| ClientError::Url {
                url: url.into(),
                reason: e.to_string(),
            })?
            .path()
            .to_string();
        let nonce = self.nonce.fetch_add(1, Ordering::Relaxed);
        let creds = Credentials::sign(&self.signer, "POST", &path, &bytes, nonce, now_ms())?;
        let mut req = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        for (k, v) in creds.headers() {
            req = req.header(k, v);
        }
        let resp = req
            .body(bytes)
            .send()
            .await
            .map_err(|source| ClientError::Transport {
                url: url.into(),
                source,
            })?;
        decode(url, resp).await
    }

    /// GETs `url` (unsigned) and decodes its JSON answer.
    ///
    /// # Errors
    /// As [`SignedClient::post`].
    pub async fn get<R: DeserializeOwned>(&self, url: &str) -> Result<R, ClientError> {
        let resp = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|source| ClientError::Transport {
                url: url.into(),
                source,
            })?;
        decode(url, resp).await
    }
}

async fn decode<R: DeserializeOwned>(url: &str, resp: reqwest::Response) -> Result<R, ClientError> {
    let status = resp.status();
    let bytes = resp
        .bytes()
        .await
        .map_err(|source| ClientError::Transport {
            url: url.into(),
            source,
        })?;
    if !status.is_success() {
        let (error, reason) = match serde_json::from_slice::<RefusalBody>(&bytes) {
            Ok(b) => (b.error, b.reason),
            Err(_) => (
                "http".into(),
                String::from_utf8_lossy(&bytes).chars().take(200).collect(),
            ),
        };
        return Err(ClientError::Refused {
            url: url.into(),
            status: status.as_u16(),
            error,
            reason,
        });
    }
    serde_json::from_slice(&bytes).map_err(|e| ClientError::BadAnswer {
        url: url.into(),
        reason: e.to_string(),
    })
}
