//! Providers: small adapters from a prompt to one HTTP request and from the response to a completion, over the
//! `Http` port (fetch + AbortController in browsers). Error mapping is shared by all of them.
mod anthropic;
mod gemini;
pub mod openai;

use serde_json::Value;

use super::backoff::parse_retry_after;
use super::prompt::Prompt;
use crate::config::cloud::{ProviderConfig, ProviderKind};
use crate::ports::{HttpError, HttpRequest, HttpResponse};
use crate::vocab::FallbackReason;

/// A provider's answer. Token counts are `None` when the response had no usage fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub text: String,
    pub input_tokens: Option<u32>,
    pub output_tokens: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProviderError {
    /// 401/403/404, or a 400 whose body names a wrong key or model (Gemini, LiteLLM): retrying will not help;
    /// fix the config.
    #[error("HTTP {status}: check the provider's apiKey, baseUrl and model name")]
    Config { status: u16 },
    /// 429 or 503, with the server's Retry-After when it sent one.
    #[error("HTTP {status} (overloaded{})", retry_after_ms.map(|ms| format!(", retry after {ms} ms")).unwrap_or_default())]
    RateLimited { status: u16, retry_after_ms: Option<u32> },
    #[error("HTTP {status} server error")]
    Server { status: u16 },
    #[error("HTTP {status}: the provider rejected the request")]
    Client { status: u16 },
    #[error("timed out after {after_ms} ms (request aborted)")]
    Timeout { after_ms: u32 },
    /// Offline, refused, DNS or CORS: browsers give no detail.
    #[error("network error (offline, refused or CORS): {0}")]
    Network(String),
    #[error("malformed response: {0}")]
    Malformed(String),
    #[error("request aborted")]
    Aborted,
}

impl ProviderError {
    /// Worth another attempt on the same provider after a backoff.
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            ProviderError::RateLimited { .. }
                | ProviderError::Server { .. }
                | ProviderError::Network(_)
                | ProviderError::Malformed(_)
        )
    }

    pub fn retry_after_ms(&self) -> Option<u32> {
        match self {
            ProviderError::RateLimited { retry_after_ms, .. } => *retry_after_ms,
            _ => None,
        }
    }

    /// Says something about the provider's health (a 400 for one bad request does not).
    pub fn counts_against_breaker(&self) -> bool {
        !matches!(self, ProviderError::Client { .. } | ProviderError::Aborted)
    }

    /// A short label for metrics and the load report.
    pub fn kind(&self) -> FallbackReason {
        match self {
            ProviderError::Config { .. } => FallbackReason::Config,
            ProviderError::RateLimited { .. } => FallbackReason::RateLimited,
            ProviderError::Server { .. } => FallbackReason::Server,
            ProviderError::Client { .. } => FallbackReason::Client,
            ProviderError::Timeout { .. } => FallbackReason::Timeout,
            ProviderError::Network(_) => FallbackReason::Network,
            ProviderError::Malformed(_) => FallbackReason::Malformed,
            ProviderError::Aborted => FallbackReason::Aborted,
        }
    }
}

impl From<HttpError> for ProviderError {
    fn from(e: HttpError) -> Self {
        match e {
            HttpError::Timeout { after_ms } => ProviderError::Timeout { after_ms },
            HttpError::Network(m) => ProviderError::Network(m),
            HttpError::Aborted => ProviderError::Aborted,
        }
    }
}

/// Maps a response's status to an error, or hands back its parsed JSON body.
pub fn check_status(resp: &HttpResponse, wall_now_ms: f64) -> Result<Value, ProviderError> {
    match resp.status {
        200..=299 => serde_json::from_str(&resp.body).map_err(|e| ProviderError::Malformed(format!("not JSON: {e}"))),
        401 | 403 | 404 => Err(ProviderError::Config { status: resp.status }),
        429 | 503 => Err(ProviderError::RateLimited {
            status: resp.status,
            retry_after_ms: resp.header("retry-after").and_then(|v| parse_retry_after(v, wall_now_ms)),
        }),
        500..=599 => Err(ProviderError::Server { status: resp.status }),
        400 if names_a_config_problem(&resp.body) => Err(ProviderError::Config { status: 400 }),
        status => Err(ProviderError::Client { status }),
    }
}

/// Bodies longer than this are not parsed for a reason (error bodies are a few hundred bytes).
const MAX_ERROR_BODY: usize = 16 * 1024;

/// Some services answer a wrong key or model with 400, not 401/404: Gemini for an invalid API key
/// (`reason: "API_KEY_INVALID"`), a LiteLLM proxy for a model it does not route (`"Invalid model name passed"`)
/// and for a key that is not its master key when it keeps no key database (`type: "no_db_connection"`). Those are
/// the game's config to fix, not one bad request, so they are reported as such.
fn names_a_config_problem(body: &str) -> bool {
    if body.len() > MAX_ERROR_BODY {
        return false;
    }
    let Ok(v) = serde_json::from_str::<Value>(body) else { return false };
    let err = &v["error"];
    let field = |name: &str| err[name].as_str().unwrap_or("");
    let reasons = err["details"].as_array().into_iter().flatten().filter_map(|d| d["reason"].as_str());
    ["API_KEY_INVALID", "API_KEY_SERVICE_BLOCKED"].iter().any(|r| reasons.clone().any(|x| x == *r))
        || ["invalid_api_key", "model_not_found"].contains(&field("code"))
        || ["authentication_error", "auth_error", "no_db_connection"].contains(&field("type"))
        || field("message").contains("Invalid model name passed")
        || field("message").contains("API key not valid")
}

/// One provider's wire format.
pub trait Provider {
    fn request(&self, model: &str, prompt: &Prompt, timeout_ms: u32) -> HttpRequest;
    fn parse(&self, body: &Value) -> Result<Completion, ProviderError>;
}

pub fn make(cfg: &ProviderConfig) -> Box<dyn Provider> {
    let base = cfg.base_url.trim_end_matches('/').to_string();
    let key = cfg.api_key.clone();
    match cfg.kind {
        ProviderKind::Openai => Box::new(openai::OpenAi { base, key }),
        ProviderKind::Gemini => Box::new(gemini::Gemini { base, key }),
        ProviderKind::Anthropic => Box::new(anthropic::Anthropic { base, key }),
    }
}

fn tokens(v: &Value) -> Option<u32> {
    v.as_u64().and_then(|n| u32::try_from(n).ok())
}

fn malformed(what: &str) -> ProviderError {
    ProviderError::Malformed(format!("no {what} in the response"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::cloud::ProviderKind;

    fn resp(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            body: body.into(),
        }
    }

    #[test]
    fn statuses_map_to_errors_and_retry_after_is_read() {
        assert_eq!(check_status(&resp(401, &[], ""), 0.0), Err(ProviderError::Config { status: 401 }));
        assert_eq!(check_status(&resp(403, &[], ""), 0.0), Err(ProviderError::Config { status: 403 }));
        assert_eq!(
            check_status(&resp(429, &[("retry-after", "2")], ""), 0.0),
            Err(ProviderError::RateLimited { status: 429, retry_after_ms: Some(2_000) })
        );
        assert_eq!(
            check_status(&resp(503, &[], ""), 0.0),
            Err(ProviderError::RateLimited { status: 503, retry_after_ms: None })
        );
        assert_eq!(check_status(&resp(502, &[], ""), 0.0), Err(ProviderError::Server { status: 502 }));
        assert_eq!(check_status(&resp(400, &[], ""), 0.0), Err(ProviderError::Client { status: 400 }));
        assert!(matches!(check_status(&resp(200, &[], "{oops"), 0.0), Err(ProviderError::Malformed(_))));
        assert!(ProviderError::Server { status: 500 }.retryable());
        assert!(!ProviderError::Config { status: 401 }.retryable());
        assert!(!ProviderError::Timeout { after_ms: 1 }.retryable(), "a timeout already spent the step's time");
        assert!(!ProviderError::Client { status: 400 }.counts_against_breaker());
        assert_eq!(ProviderError::from(HttpError::Network("x".into())).kind(), FallbackReason::Network);
    }

    #[test]
    fn a_400_that_names_a_wrong_key_or_model_is_a_config_problem_and_other_400s_are_not() {
        // Bodies as the services send them (Gemini's invalid key; LiteLLM's unrouted model and keyless proxy, seen
        // from LiteLLM 1.108.7 on loopback; OpenAI-style codes).
        let config = [
            r#"{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}"#,
            r#"{"error":{"message":"/chat/completions: Invalid model name passed in model=nope. Call `/v1/models` to view available models for your key.","type":"invalid_request_error","param":null,"code":"400"}}"#,
            r#"{"error":{"message":"No connected db.","type":"no_db_connection","param":null,"code":"400"}}"#,
            r#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}"#,
            r#"{"error":{"message":"The model `x` does not exist","type":"invalid_request_error","code":"model_not_found"}}"#,
        ];
        for body in config {
            assert_eq!(check_status(&resp(400, &[], body), 0.0), Err(ProviderError::Config { status: 400 }), "{body}");
        }
        let client = [
            "",
            "Bad Request",
            r#"{"error":{"message":"max_tokens is too large","type":"invalid_request_error","code":null}}"#,
            r#"{"error":"API key not valid"}"#,
            r#"[1,2,3]"#,
        ];
        for body in client {
            assert_eq!(check_status(&resp(400, &[], body), 0.0), Err(ProviderError::Client { status: 400 }), "{body}");
        }
        // A huge body is not parsed for a reason.
        let huge = format!(r#"{{"error":{{"type":"auth_error","message":"{}"}}}}"#, "x".repeat(MAX_ERROR_BODY));
        assert_eq!(check_status(&resp(400, &[], &huge), 0.0), Err(ProviderError::Client { status: 400 }));
        // Only a 400 is read this way: a 422 stays a client error whatever it says.
        assert_eq!(check_status(&resp(422, &[], config[0]), 0.0), Err(ProviderError::Client { status: 422 }));
    }

    #[test]
    fn the_key_goes_only_in_a_header_and_never_in_the_url_or_body() {
        let prompt = Prompt { system: "s".into(), user: "u".into(), max_tokens: 10, json: false, thinking_tokens: 0 };
        for kind in [ProviderKind::Openai, ProviderKind::Gemini, ProviderKind::Anthropic] {
            let cfg =
                ProviderConfig { kind, base_url: "https://x/v1/".into(), api_key: Some("sk-123".into()), batch: false };
            let req = make(&cfg).request("m", &prompt, 500);
            assert!(!req.url.contains("sk-123") && !req.body.clone().unwrap_or_default().contains("sk-123"));
            assert!(req.headers.iter().any(|(_, v)| v.contains("sk-123")), "{kind:?}");
            assert!(req.url.starts_with("https://x/v1/") && !req.url.contains("v1//"), "{}", req.url);
            assert_eq!(req.timeout_ms, 500);
            let keyless = ProviderConfig { api_key: None, ..cfg };
            let req = make(&keyless).request("m", &prompt, 500);
            assert!(req.headers.iter().all(|(n, _)| n == "content-type" || n == "anthropic-version"), "{kind:?}");
        }
    }

    #[test]
    fn a_request_debugged_or_logged_shows_header_names_but_never_the_key() {
        let prompt = Prompt { system: "s".into(), user: "u".into(), max_tokens: 10, json: false, thinking_tokens: 0 };
        for kind in [ProviderKind::Openai, ProviderKind::Gemini, ProviderKind::Anthropic] {
            let cfg =
                ProviderConfig { kind, base_url: "https://x/v1".into(), api_key: Some("sk-123".into()), batch: false };
            let shown = format!("{:?}", make(&cfg).request("m", &prompt, 500));
            assert!(!shown.contains("sk-123"), "{kind:?}: {shown}");
            assert!(shown.contains("content-type") && shown.contains("https://x/v1"), "{shown}");
        }
    }
}
