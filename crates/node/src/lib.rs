//! The PIN network services (DESIGN.md, "Flow"): what the validator, the miners and the intent
//! gateway share. So far the signed wire protocol ([`wire`]): every message between services is
//! signed by its sender's chain key over its method, path, nonce, timestamp and body hash, and a
//! receiver admits it only through a [`wire::Gate`], which refuses oversized bodies, malformed or
//! missing headers, bad signatures, unknown senders, stale timestamps and replays, each with a
//! status and a reason.

pub mod http;
pub mod wire;
