//! Google Gemini `POST {base}/models/{model}:generateContent` (base e.g.
//! `https://generativelanguage.googleapis.com/v1beta`); the key goes in `x-goog-api-key`, never the URL.
use serde_json::{json, Value};

use super::{malformed, tokens, Completion, Provider, ProviderError};
use crate::ports::HttpRequest;
use crate::router::prompt::Prompt;

pub struct Gemini {
    pub base: String,
    pub key: Option<String>,
}

impl Provider for Gemini {
    fn request(&self, model: &str, prompt: &Prompt, timeout_ms: u32) -> HttpRequest {
        let mut config = json!({"maxOutputTokens": prompt.max_tokens, "temperature": 0.8});
        if prompt.json {
            config["responseMimeType"] = json!("application/json");
        }
        // Gemini 2.5 thinks by default and counts thoughts in maxOutputTokens: without a budget a short line can
        // come back empty. 0 turns it off (Flash); Pro's least budget is 128 (`ModelSpec::thinking_tokens`).
        if model.starts_with("gemini-2.5") {
            config["thinkingConfig"] = json!({"thinkingBudget": prompt.thinking_tokens});
        }
        let body = json!({
            "systemInstruction": {"parts": [{"text": prompt.system}]},
            "contents": [{"role": "user", "parts": [{"text": prompt.user}]}],
            "generationConfig": config,
        });
        let url = format!("{}/models/{model}:generateContent", self.base);
        let req = HttpRequest::post_json(url, body.to_string(), timeout_ms);
        match &self.key {
            Some(k) => req.header("x-goog-api-key", k.clone()),
            None => req,
        }
    }

    fn parse(&self, body: &Value) -> Result<Completion, ProviderError> {
        let candidate = body.pointer("/candidates/0").ok_or_else(|| malformed("candidates[0]"))?;
        // A candidate blocked for safety has no parts: an empty line, which quality validation turns down.
        let text = candidate
            .pointer("/content/parts")
            .and_then(Value::as_array)
            .map(|parts| parts.iter().filter_map(|p| p.get("text").and_then(Value::as_str)).collect::<String>())
            .unwrap_or_default();
        Ok(Completion {
            text,
            input_tokens: body.pointer("/usageMetadata/promptTokenCount").and_then(tokens),
            // Thoughts are billed as output.
            output_tokens: body.pointer("/usageMetadata/candidatesTokenCount").and_then(tokens).map(|n| {
                n.saturating_add(body.pointer("/usageMetadata/thoughtsTokenCount").and_then(tokens).unwrap_or(0))
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_and_response_shapes() {
        let g = Gemini { base: "https://gl/v1beta".into(), key: Some("k".into()) };
        let prompt =
            Prompt { system: "sys".into(), user: "usr".into(), max_tokens: 64, json: false, thinking_tokens: 0 };
        let req = g.request("gemini-2.5-flash", &prompt, 1000);
        assert_eq!(req.url, "https://gl/v1beta/models/gemini-2.5-flash:generateContent");
        assert!(req.headers.contains(&("x-goog-api-key".into(), "k".into())));
        let body: Value = serde_json::from_str(req.body.as_deref().unwrap_or("")).unwrap();
        assert_eq!(body["systemInstruction"]["parts"][0]["text"], "sys");
        assert_eq!(body["generationConfig"]["maxOutputTokens"], 64);
        assert_eq!(body["generationConfig"]["thinkingConfig"]["thinkingBudget"], 0);
        let pro = g.request("gemini-2.5-pro", &prompt.for_thinking(128), 1000);
        let body: Value = serde_json::from_str(pro.body.as_deref().unwrap_or("")).unwrap();
        assert_eq!(body["generationConfig"]["maxOutputTokens"], 64 + 128);
        assert_eq!(body["generationConfig"]["thinkingConfig"]["thinkingBudget"], 128);
        let old = g.request("gemini-2.0-flash", &prompt, 1000);
        assert!(!old.body.as_deref().unwrap_or("").contains("thinkingConfig"));

        let ok = json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "Well "}, {"text": "met."}]},
                          "finishReason": "STOP"}],
                        "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 3, "totalTokenCount": 15}});
        assert_eq!(
            g.parse(&ok),
            Ok(Completion { text: "Well met.".into(), input_tokens: Some(12), output_tokens: Some(3) })
        );
        let thought = json!({"candidates": [{"content": {"parts": [{"text": "Hm."}]}}],
                             "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 2, "thoughtsTokenCount": 128}});
        assert_eq!(g.parse(&thought).map(|c| c.output_tokens), Ok(Some(130)));
        let blocked = json!({"candidates": [{"finishReason": "SAFETY"}]});
        assert_eq!(g.parse(&blocked).map(|c| c.text), Ok(String::new()));
        assert!(g.parse(&json!({"promptFeedback": {}})).is_err());
    }
}
