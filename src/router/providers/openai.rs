//! OpenAI-compatible chat completions (`POST {base}/chat/completions`): OpenAI, LiteLLM proxy, vLLM,
//! OpenRouter, or the game's own gateway. Batches (`POST {base}/batch/chat/completions`, an extension our mock
//! and a game gateway can offer): `{"requests": [body, ...]}` -> `{"responses": [{"status", "body"}, ...]}`.
use serde_json::{json, Value};

use super::{malformed, tokens, Completion, Provider, ProviderError};
use crate::ports::{HttpRequest, HttpResponse};
use crate::router::prompt::Prompt;

pub struct OpenAi {
    pub base: String,
    pub key: Option<String>,
}

pub fn body(model: &str, prompt: &Prompt) -> Value {
    let mut body = json!({
        "model": model,
        "messages": [
            {"role": "system", "content": prompt.system},
            {"role": "user", "content": prompt.user},
        ],
        "max_tokens": prompt.max_tokens,
        "temperature": 0.8,
    });
    if prompt.json {
        body["response_format"] = json!({"type": "json_object"});
    }
    body
}

fn with_key(req: HttpRequest, key: &Option<String>) -> HttpRequest {
    match key {
        Some(k) => req.header("authorization", format!("Bearer {k}")),
        None => req,
    }
}

impl OpenAi {
    pub fn request_body(&self, body: &Value, timeout_ms: u32) -> HttpRequest {
        let url = format!("{}/chat/completions", self.base);
        with_key(HttpRequest::post_json(url, body.to_string(), timeout_ms), &self.key)
    }

    pub fn batch_request(&self, bodies: &[Value], timeout_ms: u32) -> HttpRequest {
        let body = json!({ "requests": bodies }).to_string();
        with_key(HttpRequest::post_json(format!("{}/batch/chat/completions", self.base), body, timeout_ms), &self.key)
    }

    /// One result per request, in order; a missing or extra entry makes the whole batch malformed.
    pub fn parse_batch(&self, body: &Value, n: usize) -> Result<Vec<Result<Completion, ProviderError>>, ProviderError> {
        let items = body.get("responses").and_then(Value::as_array).ok_or_else(|| malformed("responses"))?;
        if items.len() != n {
            return Err(ProviderError::Malformed(format!("{} responses for {n} requests", items.len())));
        }
        Ok(items
            .iter()
            .map(|item| {
                let status = item.get("status").and_then(Value::as_u64).unwrap_or(0) as u16;
                let inner = item.get("body").cloned().unwrap_or(Value::Null);
                let resp = HttpResponse { status, headers: Vec::new(), body: inner.to_string() };
                super::check_status(&resp, 0.0).and_then(|v| self.parse(&v))
            })
            .collect())
    }
}

impl Provider for OpenAi {
    fn request(&self, model: &str, prompt: &Prompt, timeout_ms: u32) -> HttpRequest {
        self.request_body(&body(model, prompt), timeout_ms)
    }

    fn parse(&self, body: &Value) -> Result<Completion, ProviderError> {
        let text = body
            .pointer("/choices/0/message/content")
            .and_then(Value::as_str)
            .ok_or_else(|| malformed("choices[0].message.content"))?;
        Ok(Completion {
            text: text.to_string(),
            input_tokens: body.pointer("/usage/prompt_tokens").and_then(tokens),
            output_tokens: body.pointer("/usage/completion_tokens").and_then(tokens),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> OpenAi {
        OpenAi { base: "http://g/v1".into(), key: Some("k".into()) }
    }

    #[test]
    fn request_and_response_shapes() {
        let prompt =
            Prompt { system: "sys".into(), user: "usr".into(), max_tokens: 42, json: true, thinking_tokens: 0 };
        let req = p().request("gpt-4o-mini", &prompt, 1000);
        assert_eq!(req.url, "http://g/v1/chat/completions");
        assert!(req.headers.contains(&("authorization".into(), "Bearer k".into())));
        let body: Value = serde_json::from_str(req.body.as_deref().unwrap_or("")).unwrap();
        assert_eq!(body["model"], "gpt-4o-mini");
        assert_eq!(body["messages"][1]["content"], "usr");
        assert_eq!(body["max_tokens"], 42);
        assert_eq!(body["response_format"]["type"], "json_object");

        let ok = json!({"choices": [{"message": {"role": "assistant", "content": "Aye."}}],
                        "usage": {"prompt_tokens": 31, "completion_tokens": 2, "total_tokens": 33}});
        assert_eq!(
            p().parse(&ok),
            Ok(Completion { text: "Aye.".into(), input_tokens: Some(31), output_tokens: Some(2) })
        );
        let no_usage = json!({"choices": [{"message": {"content": "Aye."}}]});
        assert_eq!(p().parse(&no_usage).map(|c| c.input_tokens), Ok(None));
        assert!(matches!(p().parse(&json!({"choices": []})), Err(ProviderError::Malformed(_))));
    }

    #[test]
    fn batches_map_each_entry_and_reject_a_wrong_count() {
        let body = json!({"responses": [
            {"status": 200, "body": {"choices": [{"message": {"content": "One."}}]}},
            {"status": 429, "body": {"error": "slow down"}},
        ]});
        let out = p().parse_batch(&body, 2).unwrap();
        assert_eq!(out[0].as_ref().map(|c| c.text.as_str()), Ok("One."));
        assert!(matches!(out[1], Err(ProviderError::RateLimited { status: 429, .. })));
        assert!(p().parse_batch(&body, 3).is_err());
        let req = p().batch_request(&[json!({"a": 1})], 10);
        assert_eq!(req.url, "http://g/v1/batch/chat/completions");
    }
}
