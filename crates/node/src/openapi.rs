//! OpenAPI 3.1 descriptions of the services' HTTP APIs, built from the same Rust types the
//! handlers use: request and response schemas come from their `schemars` derivations, so the
//! document cannot drift from the code. (OpenAPI 3.1 uses JSON Schema 2020-12, which is what
//! schemars generates.)

use schemars::JsonSchema;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value, json};

/// A description under construction.
#[derive(Debug)]
pub struct ApiDoc {
    title: String,
    description: String,
    generator: SchemaGenerator,
    paths: Map<String, Value>,
}

/// Whether an operation needs the wire signature headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    /// Signed per [`crate::wire`]: `x-pin-sender`, `x-pin-nonce`, `x-pin-timestamp`,
    /// `x-pin-signature`.
    Signed,
    /// Open to anyone.
    Open,
}

const REFUSAL: &str = "Refused by the wire gate or the handler: `{\"error\": code, \"reason\": message}`. \
    400 malformed, 401 bad signature or stale, 403 unknown sender, 404 unknown item, \
    409 replay or conflict, 410 late, 413 oversized, 422 invalid content.";

impl ApiDoc {
    /// An empty description.
    #[must_use]
    pub fn new(title: &str, description: &str) -> Self {
        let generator = SchemaSettings::draft2020_12()
            .with(|s| s.definitions_path = "#/components/schemas/".into())
            .into_generator();
        Self {
            title: title.into(),
            description: description.into(),
            generator,
            paths: Map::new(),
        }
    }

    fn schema<T: JsonSchema>(&mut self) -> Value {
        self.generator.subschema_for::<T>().to_value()
    }

    fn add(&mut self, method: &str, path: &str, summary: &str, auth: Auth, op: Value) {
        let mut op = op;
        op["summary"] = json!(summary);
        let mut responses = op["responses"].take();
        responses["4XX"] = json!({
            "description": REFUSAL,
            "content": {"application/json": {"schema": self.schema::<crate::http::RefusalBody>()}}
        });
        op["responses"] = responses;
        if auth == Auth::Signed {
            op["security"] = json!([{"pinSignature": []}]);
        }
        let entry = self
            .paths
            .entry(path.to_string())
            .or_insert_with(|| json!({}));
        entry[method] = op;
    }

    /// An operation taking a JSON `Req` and answering `status` with a JSON `Resp`.
    #[must_use]
    pub fn with_body<Req: JsonSchema, Resp: JsonSchema>(
        mut self,
        method: &str,
        path: &str,
        summary: &str,
        auth: Auth,
        status: u16,
    ) -> Self {
        let req = self.schema::<Req>();
        let resp = self.schema::<Resp>();
        let op = json!({
            "requestBody": {"required": true, "content": {"application/json": {"schema": req}}},
            "responses": {status.to_string(): {
                "description": "Success",
                "content": {"application/json": {"schema": resp}}
            }}
        });
        self.add(method, path, summary, auth, op);
        self
    }

    /// A `GET` answering with a JSON `Resp`; `params` names the path parameters.
    #[must_use]
    pub fn get<Resp: JsonSchema>(mut self, path: &str, summary: &str, params: &[&str]) -> Self {
        let resp = self.schema::<Resp>();
        let parameters: Vec<Value> = params
            .iter()
            .map(|p| json!({"name": p, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let op = json!({
            "parameters": parameters,
            "responses": {"200": {
                "description": "Success",
                "content": {"application/json": {"schema": resp}}
            }}
        });
        self.add("get", path, summary, Auth::Open, op);
        self
    }

    /// A `GET` answering with plain text (e.g. metrics) or HTML.
    #[must_use]
    pub fn get_text(mut self, path: &str, summary: &str, media_type: &str) -> Self {
        let op = json!({
            "responses": {"200": {
                "description": "Success",
                "content": {media_type: {"schema": {"type": "string"}}}
            }}
        });
        self.add("get", path, summary, Auth::Open, op);
        self
    }

    /// The operations every service has: health, metrics, this document.
    #[must_use]
    pub fn with_ops(self) -> Self {
        self.get::<crate::ops::Health>("/health", "Liveness and identity", &[])
            .get_text(
                "/metrics",
                "Prometheus metrics",
                "application/openmetrics-text",
            )
            .get::<Value>("/openapi.json", "This description", &[])
    }

    /// The document.
    #[must_use]
    pub fn finish(mut self) -> Value {
        let schemas = self.generator.take_definitions(true);
        json!({
            "openapi": "3.1.0",
            "info": {
                "title": self.title,
                "version": env!("CARGO_PKG_VERSION"),
                "description": self.description,
            },
            "paths": self.paths,
            "components": {
                "schemas": schemas,
                "securitySchemes": {
                    "pinSignature": {
                        "type": "apiKey",
                        "in": "header",
                        "name": crate::wire::HEADER_SIGNATURE,
                        "description": "EIP-191 signature by the sender's chain key over keccak256 of \
                            \"pin-wire/1\", the method, path, sender, nonce, timestamp (ms) and \
                            keccak256(body); with the headers x-pin-sender, x-pin-nonce and x-pin-timestamp."
                    }
                }
            }
        })
    }
}
