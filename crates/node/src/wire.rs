//! The signed wire protocol: JSON over HTTP, each request carrying its sender's signature in
//! four headers.
//!
//! A sender signs, with its secp256k1 chain key, the [`signing_bytes`] of a request: a domain
//! tag, the HTTP method and path, its address, a nonce, a timestamp (Unix milliseconds) and the
//! Keccak-256 of the body bytes exactly as sent. The signature is EIP-191 (`personal_sign`) over
//! the Keccak-256 of those bytes, so a wallet would show a 32-byte hash and no signature made for
//! a transaction can be replayed as a message. Binding method and path means a signed answer
//! cannot be replayed to another endpoint; binding the body hash means not one byte of it can
//! change.
//!
//! A receiver admits a request only through a [`Gate`], which checks, cheapest first: the body
//! size, the headers' presence and syntax, the timestamp against its own clock, the signature,
//! that the sender is one it knows (a registered miner, a staked validator, …), and last that
//! the `(sender, nonce)` pair is new. Nothing is recorded for a refused request, so a forged or
//! malformed copy cannot burn an honest sender's nonce. The replay memory keeps a nonce only
//! while its timestamp is still inside the window: after that the timestamp check refuses the
//! copy, so memory is bounded by what senders can send within one window.

use alloy::primitives::{Address, B256, Signature, keccak256};
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Mutex;

/// Header with the sender's address (`0x`-prefixed hex, any case).
pub const HEADER_SENDER: &str = "x-pin-sender";
/// Header with the nonce (decimal `u64`), unique per sender within the time window.
pub const HEADER_NONCE: &str = "x-pin-nonce";
/// Header with the sending time in Unix milliseconds (decimal `u64`).
pub const HEADER_TIMESTAMP: &str = "x-pin-timestamp";
/// Header with the 65-byte signature (`r ‖ s ‖ v`, `0x`-prefixed hex).
pub const HEADER_SIGNATURE: &str = "x-pin-signature";

/// Domain tag: the first bytes of everything signed, so no other signed structure collides.
const DOMAIN: &[u8] = b"pin-wire/1";

/// The bytes a sender signs for one request. Variable-length fields are length-prefixed (u32,
/// big-endian), so no two different requests share them.
#[must_use]
pub fn signing_bytes(
    method: &str,
    path: &str,
    sender: Address,
    nonce: u64,
    timestamp_ms: u64,
    body_hash: B256,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(DOMAIN.len() + 8 + method.len() + path.len() + 68);
    out.extend_from_slice(DOMAIN);
    for field in [method.as_bytes(), path.as_bytes()] {
        // Lengths above u32::MAX cannot occur: bodies and paths are refused long before.
        out.extend_from_slice(&u32::try_from(field.len()).unwrap_or(u32::MAX).to_be_bytes());
        out.extend_from_slice(field);
    }
    out.extend_from_slice(sender.as_slice());
    out.extend_from_slice(&nonce.to_be_bytes());
    out.extend_from_slice(&timestamp_ms.to_be_bytes());
    out.extend_from_slice(body_hash.as_slice());
    out
}

/// What a request carries besides its body: who sent it, when, and the signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Credentials {
    /// The claimed sender; the signature must recover to it.
    pub sender: Address,
    /// Unique per sender within the time window.
    pub nonce: u64,
    /// Sending time, Unix milliseconds.
    pub timestamp_ms: u64,
    /// EIP-191 signature over the Keccak-256 of [`signing_bytes`].
    pub signature: Signature,
}

impl Credentials {
    /// Signs a request to `method path` with `body` (the exact bytes that will be sent).
    ///
    /// # Errors
    /// The signer's error (a local key does not fail in practice).
    pub fn sign(
        signer: &PrivateKeySigner,
        method: &str,
        path: &str,
        body: &[u8],
        nonce: u64,
        timestamp_ms: u64,
    ) -> Result<Self, alloy::signers::Error> {
        let sender = signer.address();
        let digest = keccak256(signing_bytes(
            method,
            path,
            sender,
            nonce,
            timestamp_ms,
            keccak256(body),
        ));
        let signature = signer.sign_message_sync(digest.as_slice())?;
        Ok(Self {
            sender,
            nonce,
            timestamp_ms,
            signature,
        })
    }

    /// The four headers, as `(name, value)`.
    #[must_use]
    pub fn headers(&self) -> [(&'static str, String); 4] {
        [
            (HEADER_SENDER, self.sender.to_string()),
            (HEADER_NONCE, self.nonce.to_string()),
            (HEADER_TIMESTAMP, self.timestamp_ms.to_string()),
            (
                HEADER_SIGNATURE,
                format!("0x{}", alloy::hex::encode(self.signature.as_bytes())),
            ),
        ]
    }

    /// Reads the four headers through `get` (a case-insensitive lookup by name).
    ///
    /// # Errors
    /// [`Refusal::MissingHeader`] or [`Refusal::MalformedHeader`], naming the header.
    pub fn from_headers<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<Self, Refusal> {
        let field = |name: &'static str| get(name).ok_or(Refusal::MissingHeader(name));
        let malformed =
            |name: &'static str, reason: String| Refusal::MalformedHeader { name, reason };
        let sender = Address::from_str(field(HEADER_SENDER)?.trim())
            .map_err(|e| malformed(HEADER_SENDER, e.to_string()))?;
        let nonce = field(HEADER_NONCE)?
            .trim()
            .parse::<u64>()
            .map_err(|e| malformed(HEADER_NONCE, e.to_string()))?;
        let timestamp_ms = field(HEADER_TIMESTAMP)?
            .trim()
            .parse::<u64>()
            .map_err(|e| malformed(HEADER_TIMESTAMP, e.to_string()))?;
        let raw = field(HEADER_SIGNATURE)?.trim();
        let bytes =
            alloy::hex::decode(raw).map_err(|e| malformed(HEADER_SIGNATURE, e.to_string()))?;
        let signature = Signature::from_raw(&bytes)
            .map_err(|e| malformed(HEADER_SIGNATURE, format!("{} bytes: {e}", bytes.len())))?;
        Ok(Self {
            sender,
            nonce,
            timestamp_ms,
            signature,
        })
    }
}

/// Why a request was refused. Each maps to an HTTP status ([`Refusal::status`]) and a short
/// machine-readable code ([`Refusal::code`]); the message says what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The body is larger than the receiver accepts.
    #[error("body of {len} bytes exceeds the limit of {max} bytes")]
    Oversized {
        /// Bytes received (or announced).
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A signature header is absent.
    #[error("header {0} is missing")]
    MissingHeader(&'static str),
    /// A signature header does not parse.
    #[error("header {name} is malformed: {reason}")]
    MalformedHeader {
        /// The header.
        name: &'static str,
        /// What the parser said.
        reason: String,
    },
    /// The signature does not recover to the claimed sender over this request.
    #[error("signature is not {claimed}'s over this request{}", recovered.map(|a| format!(" (it recovers to {a})")).unwrap_or_default())]
    BadSignature {
        /// The claimed sender.
        claimed: Address,
        /// Who the signature recovers to, if anyone.
        recovered: Option<Address>,
    },
    /// The sender is not one this service accepts (not registered, not staked, wrong role).
    #[error("sender {0} is not registered for this service")]
    UnknownSender(Address),
    /// The timestamp is outside the receiver's window.
    #[error(
        "timestamp {timestamp_ms} is {skew_ms} ms from the receiver's clock (at most {max_ms} ms allowed)"
    )]
    Stale {
        /// The request's timestamp (Unix ms).
        timestamp_ms: u64,
        /// Distance to the receiver's clock.
        skew_ms: u64,
        /// The allowed distance.
        max_ms: u64,
    },
    /// This sender already used this nonce inside the window.
    #[error("nonce {nonce} of {sender} was already used")]
    Replay {
        /// The sender.
        sender: Address,
        /// The reused nonce.
        nonce: u64,
    },
}

impl Refusal {
    /// The HTTP status to answer with.
    #[must_use]
    pub fn status(&self) -> u16 {
        match self {
            Self::Oversized { .. } => 413,
            Self::MissingHeader(_) | Self::MalformedHeader { .. } => 400,
            Self::BadSignature { .. } | Self::Stale { .. } => 401,
            Self::UnknownSender(_) => 403,
            Self::Replay { .. } => 409,
        }
    }

    /// A short stable code, for error bodies and metric labels.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::Oversized { .. } => "oversized",
            Self::MissingHeader(_) => "missing_header",
            Self::MalformedHeader { .. } => "malformed_header",
            Self::BadSignature { .. } => "bad_signature",
            Self::UnknownSender(_) => "unknown_sender",
            Self::Stale { .. } => "stale",
            Self::Replay { .. } => "replay",
        }
    }
}

/// A receiver's limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GateConfig {
    /// Largest body accepted, bytes.
    pub max_body_bytes: usize,
    /// Largest distance between a request's timestamp and the receiver's clock, ms.
    pub max_skew_ms: u64,
}

impl Default for GateConfig {
    /// 1 MiB bodies (a 16-party challenge answer is a few KiB; a 400×400 game's strategies
    /// about 20 KiB) and 30 s of clock skew.
    fn default() -> Self {
        Self {
            max_body_bytes: 1 << 20,
            max_skew_ms: 30_000,
        }
    }
}

/// Admits signed requests; remembers the nonces it admitted while they could still be replayed.
#[derive(Debug, Default)]
pub struct Gate {
    config: GateConfig,
    /// Per sender: nonce → its request's timestamp.
    seen: Mutex<HashMap<Address, HashMap<u64, u64>>>,
}

impl Gate {
    /// A gate with these limits and no memory.
    #[must_use]
    pub fn new(config: GateConfig) -> Self {
        Self {
            config,
            seen: Mutex::default(),
        }
    }

    /// The limits.
    #[must_use]
    pub fn config(&self) -> &GateConfig {
        &self.config
    }

    /// Admits a request to `method path` whose headers are read through `header` and whose
    /// body is `body`, at the receiver's time `now_ms`, if its sender passes `known`. Returns the
    /// authenticated sender.
    ///
    /// # Errors
    /// The first [`Refusal`] that applies, checked in the order of the module doc. A refused
    /// request leaves no trace.
    pub fn admit<'a>(
        &self,
        method: &str,
        path: &str,
        header: impl Fn(&str) -> Option<&'a str>,
        body: &[u8],
        now_ms: u64,
        known: impl FnOnce(Address) -> bool,
    ) -> Result<Address, Refusal> {
        self.check_size(body.len())?;
        let creds = Credentials::from_headers(header)?;
        let skew_ms = creds.timestamp_ms.abs_diff(now_ms);
        if skew_ms > self.config.max_skew_ms {
            return Err(Refusal::Stale {
                timestamp_ms: creds.timestamp_ms,
                skew_ms,
                max_ms: self.config.max_skew_ms,
            });
        }
        let digest = keccak256(signing_bytes(
            method,
            path,
            creds.sender,
            creds.nonce,
            creds.timestamp_ms,
            keccak256(body),
        ));
        let recovered = creds
            .signature
            .recover_address_from_msg(digest.as_slice())
            .ok();
        if recovered != Some(creds.sender) {
            return Err(Refusal::BadSignature {
                claimed: creds.sender,
                recovered,
            });
        }
        if !known(creds.sender) {
            return Err(Refusal::UnknownSender(creds.sender));
        }
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let window = self.config.max_skew_ms;
        let mine = seen.entry(creds.sender).or_default();
        // Forget nonces whose timestamps the window already refuses.
        mine.retain(|_, ts| ts.saturating_add(window) >= now_ms);
        if mine.contains_key(&creds.nonce) {
            return Err(Refusal::Replay {
                sender: creds.sender,
                nonce: creds.nonce,
            });
        }
        mine.insert(creds.nonce, creds.timestamp_ms);
        Ok(creds.sender)
    }

    /// Refuses a body of `len` bytes if it is over the limit: call it on the announced
    /// `Content-Length` before reading a body at all.
    ///
    /// # Errors
    /// [`Refusal::Oversized`].
    pub fn check_size(&self, len: usize) -> Result<(), Refusal> {
        if len > self.config.max_body_bytes {
            return Err(Refusal::Oversized {
                len,
                max: self.config.max_body_bytes,
            });
        }
        Ok(())
    }

    /// Nonces remembered, over all senders (for metrics and tests).
    #[must_use]
    pub fn remembered(&self) -> usize {
        self.seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .values()
            .map(HashMap::len)
            .sum()
    }
}
