//! The wire protocol on axum: a middleware that admits a request through the [`Gate`] before any
//! handler sees it, and answers every refusal with its status and a JSON body
//! `{"error": code, "reason": message}`.
//!
//! The body is read with the gate's size limit (a longer body, announced or not, is refused
//! without reading past the limit), checked, and handed on unchanged; the handler finds the
//! authenticated sender as a [`Sender`] request extension.

use crate::directory::Directory;
use crate::ops::{RefusalLabels, Refusals};
use crate::wire::{Credentials, Gate, Refusal};
use alloy::primitives::Address;
use axum::Json;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// The authenticated sender of an admitted request (a request extension).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sender(pub Address);

/// What the middleware needs: the gate, the admission rule and where to count refusals.
#[derive(Clone)]
pub struct Guard {
    /// Limits and replay memory.
    pub gate: Arc<Gate>,
    /// Which authenticated senders are let through: registered miners, staked validators,
    /// any party, …
    pub admits: Arc<dyn Directory>,
    /// Refusals by code.
    pub refusals: Refusals,
}

impl Guard {
    fn refuse(&self, refusal: Refusal) -> Response {
        self.refusals
            .get_or_create(&RefusalLabels {
                code: refusal.code().into(),
            })
            .inc();
        refusal.into_response()
    }
}

/// The JSON body of a refusal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct RefusalBody {
    /// [`Refusal::code`].
    pub error: String,
    /// The refusal's message.
    pub reason: String,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status()).unwrap_or(StatusCode::BAD_REQUEST);
        let body = RefusalBody {
            error: self.code().to_string(),
            reason: self.to_string(),
        };
        (status, Json(body)).into_response()
    }
}

/// Milliseconds since the Unix epoch by the local clock (0 if the clock is before 1970).
#[must_use]
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The middleware: `axum::middleware::from_fn_with_state(guard, admit)`.
pub async fn admit(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let max = guard.gate.config().max_body_bytes;
    // An announced length over the limit is refused before reading anything.
    let announced = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(len) = announced
        && let Err(refusal) = guard.gate.check_size(len)
    {
        return guard.refuse(refusal);
    }
    let Ok(bytes) = to_bytes(body, max).await else {
        // Either longer than the limit or cut off mid-body; both are refused as oversized at
        // the limit, since nothing past it was read.
        return guard.refuse(Refusal::Oversized {
            len: max.saturating_add(1),
            max,
        });
    };
    // The admission rule may read the chain: ask it before the (synchronous) gate, for the
    // sender the headers claim; the gate then checks that the signature is really theirs.
    let claimed =
        Credentials::from_headers(|name| parts.headers.get(name).and_then(|v| v.to_str().ok()))
            .map(|c| c.sender);
    let known = match claimed {
        Ok(sender) => guard.admits.admits(sender).await,
        Err(_) => false,
    };
    let admitted = guard.gate.admit(
        parts.method.as_str(),
        parts.uri.path(),
        |name| parts.headers.get(name).and_then(|v| v.to_str().ok()),
        &bytes,
        now_ms(),
        |_| known,
    );
    match admitted {
        Ok(sender) => {
            parts.extensions.insert(Sender(sender));
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(refusal) => guard.refuse(refusal),
    }
}

/// Decodes an admitted JSON body. Not JSON at all is `400 malformed_body`; JSON of the wrong
/// shape is `422 <invalid>`, with a reason naming the field's path (`fills[1].filled: …`).
/// Every service decodes its bodies here, so they refuse alike.
///
/// # Errors
/// `(status, code, reason)` of the refusal.
pub fn decode_json<T: serde::de::DeserializeOwned>(
    body: &[u8],
    invalid: &'static str,
) -> Result<T, (StatusCode, &'static str, String)> {
    use axum::extract::rejection::JsonRejection;
    // The decoder's own message, without axum's "Failed to …" preamble.
    let detail =
        |e: &dyn std::error::Error| e.source().map_or_else(|| e.to_string(), |s| s.to_string());
    Json::<T>::from_bytes(body)
        .map(|Json(value)| value)
        .map_err(|rejection| match &rejection {
            JsonRejection::JsonDataError(e) => {
                (StatusCode::UNPROCESSABLE_ENTITY, invalid, detail(e))
            }
            other => (StatusCode::BAD_REQUEST, "malformed_body", detail(other)),
        })
}
