//! The PIN network services (DESIGN.md, "Flow"): the validator, the miners and the intent
//! gateway, and what they share.
//!
//! * [`wire`] — every message between services is signed by its sender's chain key over its
//!   method, path, nonce, timestamp and body hash; a receiver admits it only through a
//!   [`wire::Gate`], which refuses oversized bodies, malformed or missing headers, bad
//!   signatures, unknown senders, stale timestamps and replays, each with a status and a reason.
//! * [`http`] — the gate as axum middleware; [`client`] — the signing sender.
//! * [`directory`] — who may send: roles read from the chain.
//! * [`ops`] — health, Prometheus metrics; [`openapi`] — the APIs' descriptions.
//! * [`api`] — the messages.
//! * [`validator`], [`miner`], [`gateway`] — the three services; [`epochs`] — the emission
//!   step every validator computes identically.
//! * [`dashboard`] and [`devnet`] — the whole network on one machine, and its page.

pub mod api;
pub mod client;
pub mod dashboard;
pub mod devnet;
pub mod directory;
pub mod epochs;
pub mod gateway;
pub mod http;
pub mod miner;
pub mod openapi;
pub mod ops;
pub mod validator;
pub mod wire;
