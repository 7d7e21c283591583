//! The replay's cloud on virtual time (`unwritten_ai::testkit::sim`, shared with the router's tests): a
//! provider answers after the design's latency for the model asked, with usage priced by the router's table.
use std::cell::RefCell;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};

use futures_util::stream::{FuturesUnordered, StreamExt};
use unwritten_ai::ports::{Clock, Http, HttpError, HttpRequest, HttpResponse, LocalFuture, Spawner};
use unwritten_ai::router::matrix::ModelTable;
pub use unwritten_ai::testkit::sim::{run, SimIdle};

/// How every line of the simulated cloud begins, so a line served from the cache is known to be the cloud's
/// (a late fill replaces the local line the player got at `waitMs`).
pub const CLOUD_LINE: &str = "Ah, it is you again.";

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
    /// (model, input tokens, output tokens) of every call answered, whoever waited for it.
    billed: RefCell<Vec<(String, u32, u32)>>,
}

impl Cloud {
    pub fn new(idle: &SimIdle) -> Cloud {
        Cloud { idle: idle.clone(), calls: RefCell::new(0), billed: RefCell::default() }
    }

    /// What every answered call cost, USD, at `table`'s prices: the game's calls, the pre-generation's, and the
    /// calls the player stopped waiting for that went on to fill the cache.
    pub fn cost_usd(&self, table: &ModelTable) -> f64 {
        let price = |model: &str, i: u32, o: u32| {
            let spec = table.models.iter().find(|s| s.model == model);
            spec.unwrap_or_else(|| panic!("{model} is in the price table")).cost_usd(i, o)
        };
        // A fold from +0: an empty f64 sum is -0, which prints as "-0.0000".
        self.billed.borrow().iter().fold(0.0, |sum, (m, i, o)| sum + price(m, *i, *o))
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
            self.billed.borrow_mut().push((model.clone(), prompt_tokens as u32, 60));
            let text = format!("{CLOUD_LINE} Sit, and I will tell you what I know. ({model})");
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

/// Background tasks (the router's late fills) on virtual time, run by [`SimSpawner::drive`] beside the replay.
#[derive(Clone, Default)]
pub struct SimSpawner {
    incoming: Rc<RefCell<Vec<LocalFuture<'static, ()>>>>,
    waker: Rc<RefCell<Option<Waker>>>,
}

impl Spawner for SimSpawner {
    fn spawn(&self, _name: &'static str, task: LocalFuture<'static, ()>) {
        self.incoming.borrow_mut().push(task);
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }
}

impl SimSpawner {
    /// Runs the tasks spawned so far and later; with `until_done`, ends when none is left, else never.
    pub async fn drive(&self, until_done: bool) {
        let mut running = FuturesUnordered::new();
        poll_fn(|cx| loop {
            running.extend(self.incoming.borrow_mut().drain(..));
            match running.poll_next_unpin(cx) {
                Poll::Ready(Some(())) => continue,
                Poll::Ready(None) if until_done && self.incoming.borrow().is_empty() => return Poll::Ready(()),
                _ if self.incoming.borrow().is_empty() => {
                    *self.waker.borrow_mut() = Some(cx.waker().clone());
                    return Poll::Pending;
                }
                _ => {}
            }
        })
        .await
    }
}
