//! What every service serves besides its API: `GET /health`, `GET /metrics` (Prometheus text
//! format) and `GET /openapi.json` (the service's [`crate::openapi`] description).

use alloy::primitives::Address;
use axum::Router;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Instant;

/// Labels of the refusal counter: the [`crate::wire::Refusal::code`].
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RefusalLabels {
    /// E.g. `replay`, `bad_signature`, `late`.
    pub code: String,
}

/// Refused requests by code (a clone shares the counts).
pub type Refusals = Family<RefusalLabels, Counter>;

/// A service's identity and metrics.
#[derive(Debug)]
pub struct Telemetry {
    role: &'static str,
    address: Address,
    started: Instant,
    registry: Registry,
    refusals: Refusals,
}

/// The body of `GET /health`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Health {
    /// Always `"ok"` when the service answers.
    pub status: String,
    /// `validator`, `miner` or `gateway`.
    pub role: String,
    /// The service's chain address (its signing key).
    pub address: String,
    /// The software version.
    pub version: String,
    /// Seconds since the service started.
    pub uptime_s: u64,
}

impl Telemetry {
    /// A service's telemetry; `register` adds its own metrics to the registry (each name is
    /// prefixed `pin_`).
    pub fn new(role: &'static str, address: Address, register: impl FnOnce(&mut Registry)) -> Self {
        let mut registry = Registry::with_prefix("pin");
        let refusals = Refusals::default();
        registry.register(
            "refused_requests",
            "Requests refused, by reason",
            refusals.clone(),
        );
        register(&mut registry);
        Self {
            role,
            address,
            started: Instant::now(),
            registry,
            refusals,
        }
    }

    /// The refusal counter, for the wire middleware and handlers.
    #[must_use]
    pub fn refusals(&self) -> &Refusals {
        &self.refusals
    }

    /// Counts one refusal with `code`.
    pub fn refused(&self, code: &str) {
        self.refusals
            .get_or_create(&RefusalLabels { code: code.into() })
            .inc();
    }

    /// The metrics in Prometheus text format.
    #[must_use]
    pub fn metrics_text(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }

    /// The health report.
    #[must_use]
    pub fn health(&self) -> Health {
        Health {
            status: "ok".into(),
            role: self.role.into(),
            address: self.address.to_checksum(None),
            version: env!("CARGO_PKG_VERSION").into(),
            uptime_s: self.started.elapsed().as_secs(),
        }
    }
}

#[derive(Clone)]
struct Ops {
    telemetry: Arc<Telemetry>,
    openapi: Arc<serde_json::Value>,
}

/// `GET /health`, `GET /metrics` and `GET /openapi.json`, to merge into a service's router,
/// with the fallback for paths no route serves: `404 not_found` with a JSON refusal body, like
/// every other refusal (axum's own 404 has an empty body).
pub fn routes(telemetry: Arc<Telemetry>, openapi: serde_json::Value) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi_json))
        .fallback(not_found)
        .with_state(Ops {
            telemetry,
            openapi: Arc::new(openapi),
        })
}

/// `404 not_found`: no route serves the path.
pub async fn not_found(method: Method, uri: Uri) -> Response {
    refusal(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no route for {method} {}", uri.path()),
    )
}

/// `405 method_not_allowed`: the path is served, not with this method. Set it on a service's
/// whole router with `Router::method_not_allowed_fallback` (axum's own 405 has an empty body).
pub async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    refusal(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} does not take {method}", uri.path()),
    )
}

fn refusal(status: StatusCode, error: &str, reason: String) -> Response {
    let body = crate::http::RefusalBody {
        error: error.into(),
        reason,
    };
    (status, axum::Json(body)).into_response()
}

async fn health(State(ops): State<Ops>) -> axum::Json<Health> {
    axum::Json(ops.telemetry.health())
}

async fn metrics(State(ops): State<Ops>) -> Response {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        ops.telemetry.metrics_text(),
    )
        .into_response()
}

async fn openapi_json(State(ops): State<Ops>) -> axum::Json<serde_json::Value> {
    axum::Json((*ops.openapi).clone())
}
