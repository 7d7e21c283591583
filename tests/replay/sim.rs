//! The replay's cloud on virtual time (`unwritten_ai::testkit::sim`, shared with the router's tests): a
//! provider answers after the design's latency for the model asked, with usage priced by the router's table.
use std::cell::RefCell;

use unwritten_ai::ports::{Clock, Http, HttpError, HttpRequest, HttpResponse, LocalFuture};
pub use unwritten_ai::testkit::sim::{run, SimIdle};

/// The design's latency of a cloud model (docs/design.md §5), by the model id the router sends.
pub fn latency_ms(model: &str) -> f64 {
    if model.contains("flash") {
        2_500.0
    } else if model.contains("pro") {
        8_000.0
    } else {
        5_000.0
    }
}

/// An OpenAI-compatible gateway on virtual time: every call succeeds after its model's latency with a line
/// naming the model; usage is the prompt's bytes / 4 in and 60 tokens out (the router prices it with the
/// design's table). Honours `timeout_ms` like fetch with an AbortController.
pub struct Cloud {
    idle: SimIdle,
    pub calls: RefCell<u64>,
}

impl Cloud {
    pub fn new(idle: &SimIdle) -> Cloud {
        Cloud { idle: idle.clone(), calls: RefCell::new(0) }
    }
}

impl Http for Cloud {
    fn request(&self, req: HttpRequest) -> LocalFuture<'_, Result<HttpResponse, HttpError>> {
        *self.calls.borrow_mut() += 1;
        let body: serde_json::Value = serde_json::from_str(req.body.as_deref().unwrap_or("{}")).unwrap_or_default();
        let model = body["model"].as_str().unwrap_or("").to_string();
        let prompt_tokens = req.body.as_deref().map_or(0, str::len) / 4;
        let (delay, timeout) = (latency_ms(&model), f64::from(req.timeout_ms));
        let now = self.idle.clock.now_ms();
        let idle = self.idle.clone();
        Box::pin(async move {
            if delay > timeout {
                idle.sleep_until(now + timeout).await;
                return Err(HttpError::Timeout { after_ms: req.timeout_ms });
            }
            idle.sleep_until(now + delay).await;
            let text = format!("Ah, it is you again. Sit, and I will tell you what I know. ({model})");
            let body = serde_json::json!({
                "choices": [{"message": {"role": "assistant", "content": text}}],
                "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": 60},
            });
            Ok(HttpResponse {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body: body.to_string(),
            })
        })
    }
}
