//! The messages the services exchange, as JSON bodies. Requests that change anything are signed
//! per [`crate::wire`]; reads are open.
//!
//! | from → to | request | body → answer |
//! |---|---|---|
//! | miner → validator | `POST /miners` | [`Announce`] → [`Announced`] |
//! | validator → miner | `POST /challenges` | [`ChallengeMsg`] → [`Accepted`] (202) |
//! | miner → validator | `POST /answers` | [`AnswerMsg`] → [`AnswerReceipt`] |
//! | party → gateway | `POST /intents` | [`IntentOrder`] → [`IntentRecord`] (201) |
//! | anyone → gateway | `GET /intents/{id}` | [`IntentRecord`] |
//! | validator → gateway | `POST /batches` | [`BatchRequest`] → `Vec<`[`IntentRecord`]`>` |
//! | validator → gateway | `POST /outcomes` | [`Outcome`] → [`OutcomeReceipt`] |

use alloy::primitives::{Address, B256, keccak256};
use nash::challenge::Challenge;
use nash::intent::{Side, Valuation, Window};
use nash::settlement::Answer;
use nash::units::{ChallengeId, Hash32, Price, Quantity, ResourceKind};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Miner → validator: where the miner takes challenges.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Announce {
    /// Base URL of the miner's API, e.g. `http://127.0.0.1:7101`.
    pub endpoint: String,
}

/// The validator's answer to an [`Announce`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Announced {
    /// The miner's address, as the validator registered it.
    #[schemars(with = "String")]
    pub miner: Address,
    /// Miners the validator now sends challenges to.
    pub miners: usize,
}

/// Validator → miner: one challenge, as this miner's salted view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ChallengeMsg {
    /// The epoch (by the emission contract's clock) the answer counts in.
    pub epoch: u64,
    /// The miner's view: parties, intents and actions relabelled by its own salt. Answers
    /// after `challenge.deadline_ms` are refused.
    pub challenge: Challenge,
    /// The URL to POST the [`AnswerMsg`] to.
    pub reply_to: String,
}

/// The miner's answer to a [`ChallengeMsg`]: the challenge was taken and will be answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Accepted {
    /// The challenge.
    pub challenge: ChallengeId,
}

/// Miner → validator: an answer in the miner's own (salted) labels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AnswerMsg {
    /// The challenge answered.
    pub challenge: ChallengeId,
    /// The answer.
    pub answer: Answer,
}

/// The validator's receipt of an answer (its judgement comes later, in the epoch's weights).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AnswerReceipt {
    /// The challenge.
    pub challenge: ChallengeId,
    /// Milliseconds from broadcast to receipt.
    pub latency_ms: u64,
}

/// Party → gateway: an offer to trade one resource. The signer of the request is the party.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IntentOrder {
    /// Buy, sell or defer.
    pub side: Side,
    /// The resource.
    pub resource: ResourceKind,
    /// Most the party will trade.
    pub quantity: Quantity,
    /// If filled at all, at least this much.
    #[serde(default)]
    pub min_fill: Quantity,
    /// The fill must be a multiple of this (0 or absent: divisible).
    #[serde(default)]
    pub lot: Quantity,
    /// Value or cost schedule.
    pub valuation: Valuation,
    /// Delivery slots.
    pub window: Window,
    /// Unix time (ms) after which the intent is no longer offered.
    pub expires_ms: u64,
}

/// Where an intent stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum IntentStatus {
    /// Waiting for a validator.
    Pending,
    /// Handed to a validator for a challenge; back to pending if not settled by `until_ms`.
    Assigned {
        /// The validator.
        #[schemars(with = "String")]
        validator: Address,
        /// Lease end (Unix ms).
        until_ms: u64,
    },
    /// Settled and published.
    Settled {
        /// The validator that published it.
        #[schemars(with = "String")]
        validator: Address,
        /// The on-chain challenge id ([`onchain_id`]).
        challenge: Hash32,
        /// Quantity traded.
        filled: Quantity,
        /// Unit price.
        price: Price,
        /// The publishing transaction.
        tx: Option<Hash32>,
    },
    /// Settled, but the best settlement does not trade it.
    Unfilled {
        /// The validator.
        #[schemars(with = "String")]
        validator: Address,
        /// The on-chain challenge id.
        challenge: Hash32,
    },
    /// Expired before it traded.
    Expired,
}

/// An intent as the gateway keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IntentRecord {
    /// Its id: keccak256 of the party and the signed request's body and nonce.
    pub id: Hash32,
    /// The party that signed it.
    #[schemars(with = "String")]
    pub party: Address,
    /// What it offers.
    pub order: IntentOrder,
    /// When the gateway took it (Unix ms).
    pub submitted_ms: u64,
    /// Where it stands.
    pub status: IntentStatus,
}

/// Validator → gateway: lease up to `max` pending intents for a challenge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BatchRequest {
    /// Most intents to take.
    pub max: u32,
    /// How long the lease lasts (ms) before unsettled intents return to pending.
    pub lease_ms: u64,
}

/// One intent's result in an [`Outcome`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IntentFill {
    /// The intent.
    pub intent: Hash32,
    /// Quantity traded (0: unfilled).
    pub filled: Quantity,
    /// Unit price.
    pub price: Price,
}

/// Validator → gateway: the settlement of leased intents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Outcome {
    /// The on-chain challenge id.
    pub challenge: Hash32,
    /// The publishing transaction, if published.
    pub tx: Option<Hash32>,
    /// Every leased intent of the challenge, filled or not.
    pub fills: Vec<IntentFill>,
}

/// The gateway's receipt of an [`Outcome`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OutcomeReceipt {
    /// Intents updated.
    pub updated: usize,
}

/// The id a challenge is published under on chain: keccak256 of the validator's address and
/// its own challenge number, so two validators' numbers never collide.
#[must_use]
pub fn onchain_id(validator: Address, challenge: ChallengeId) -> B256 {
    let mut bytes = Vec::with_capacity(28);
    bytes.extend_from_slice(validator.as_slice());
    bytes.extend_from_slice(&challenge.0.to_be_bytes());
    keccak256(bytes)
}

/// A 32-byte value as the mechanism's [`Hash32`].
#[must_use]
pub fn hash32(b: B256) -> Hash32 {
    Hash32(b.0)
}

/// Copier → its friend miner (`POST /peek`): the friend's answer to a challenge, if it has one.
/// Served only to the addresses the friend shares with (a colluding pair, for the devnet's
/// adversaries); the answer is to the *friend's* salted view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PeekRequest {
    /// The challenge.
    pub challenge: ChallengeId,
    /// The validator that sent it (challenge ids are unique per validator only); absent: the
    /// latest answer to any validator's challenge with this id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub validator: Option<Address>,
}
