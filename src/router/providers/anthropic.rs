//! Anthropic messages (`POST {base}/messages`, base e.g. `https://api.anthropic.com/v1`). A key sent from a
//! browser needs Anthropic's direct-browser-access header; a gateway needs no key at all.
use serde_json::{json, Value};

use super::{malformed, tokens, Completion, Provider, ProviderError};
use crate::ports::HttpRequest;
use crate::router::prompt::Prompt;

pub struct Anthropic {
    pub base: String,
    pub key: Option<String>,
}

impl Provider for Anthropic {
    fn request(&self, model: &str, prompt: &Prompt, timeout_ms: u32) -> HttpRequest {
        let body = json!({
            "model": model,
            "max_tokens": prompt.max_tokens,
            "system": prompt.system,
            "messages": [{"role": "user", "content": prompt.user}],
            "temperature": 0.8,
        });
        let req = HttpRequest::post_json(format!("{}/messages", self.base), body.to_string(), timeout_ms)
            .header("anthropic-version", "2023-06-01");
        match &self.key {
            Some(k) => req.header("x-api-key", k.clone()).header("anthropic-dangerous-direct-browser-access", "true"),
            None => req,
        }
    }

    fn parse(&self, body: &Value) -> Result<Completion, ProviderError> {
        let blocks = body.get("content").and_then(Value::as_array).ok_or_else(|| malformed("content"))?;
        let text: String = blocks
            .iter()
            .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect();
        Ok(Completion {
            text,
            input_tokens: body.pointer("/usage/input_tokens").and_then(tokens),
            output_tokens: body.pointer("/usage/output_tokens").and_then(tokens),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_and_response_shapes() {
        let a = Anthropic { base: "https://api/v1".into(), key: Some("k".into()) };
        let prompt =
            Prompt { system: "sys".into(), user: "usr".into(), max_tokens: 64, json: false, thinking_tokens: 0 };
        let req = a.request("claude-3-5-sonnet-latest", &prompt, 1000);
        assert_eq!(req.url, "https://api/v1/messages");
        assert!(req.headers.contains(&("x-api-key".into(), "k".into())));
        assert!(req.headers.contains(&("anthropic-version".into(), "2023-06-01".into())));
        let body: Value = serde_json::from_str(req.body.as_deref().unwrap_or("")).unwrap();
        assert_eq!((body["system"].as_str(), body["max_tokens"].as_u64()), (Some("sys"), Some(64)));

        let ok = json!({"content": [{"type": "text", "text": "Hm."}], "stop_reason": "end_turn",
                        "usage": {"input_tokens": 20, "output_tokens": 2}});
        assert_eq!(a.parse(&ok), Ok(Completion { text: "Hm.".into(), input_tokens: Some(20), output_tokens: Some(2) }));
        assert!(a.parse(&json!({"type": "error"})).is_err());
    }
}
