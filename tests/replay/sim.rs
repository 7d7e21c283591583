//! Virtual time for the replay (the same idea as `src/router/sim.rs`, which is private to the crate): sleeps
//! wait on a `FakeClock`, and `run` moves the clock to the next timer whenever every future waits. A cloud
//! provider answers after the design's latency for the model asked, with usage priced by the router's table.
use std::cell::RefCell;
use std::future::Future;
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use unwritten_ai::ports::{Clock, Http, HttpError, HttpRequest, HttpResponse, IdleScheduler, LocalFuture};
use unwritten_ai::testkit::FakeClock;

#[derive(Default)]
struct Timers {
    next_id: u64,
    pending: Vec<(u64, f64, Waker)>,
}

/// The idle scheduler of the replay: `sleep` is a virtual timer; an idle slice is 50 ms, at once.
#[derive(Clone)]
pub struct SimIdle {
    pub clock: FakeClock,
    timers: Rc<RefCell<Timers>>,
}

struct Sleep {
    at: f64,
    id: Option<u64>,
    clock: FakeClock,
    timers: Rc<RefCell<Timers>>,
}

impl Future for Sleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut t = self.timers.borrow_mut();
        if let Some(id) = self.id {
            t.pending.retain(|(i, _, _)| *i != id);
        }
        if self.clock.now_ms() >= self.at {
            return Poll::Ready(());
        }
        t.next_id += 1;
        let id = t.next_id;
        t.pending.push((id, self.at, cx.waker().clone()));
        drop(t);
        self.id = Some(id);
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            self.timers.borrow_mut().pending.retain(|(i, _, _)| *i != id);
        }
    }
}

impl SimIdle {
    pub fn new(clock: FakeClock) -> SimIdle {
        SimIdle { clock, timers: Rc::default() }
    }

    pub fn sleep_until(&self, at: f64) -> impl Future<Output = ()> + 'static {
        Sleep { at, id: None, clock: self.clock.clone(), timers: self.timers.clone() }
    }

    /// Fires the earliest timers; false when there are none.
    fn advance(&self) -> bool {
        let next = self.timers.borrow().pending.iter().map(|(_, at, _)| *at).fold(f64::INFINITY, f64::min);
        if !next.is_finite() {
            return false;
        }
        let now = self.clock.now_ms();
        if next > now {
            self.clock.advance(next - now);
        }
        let due: Vec<Waker> = {
            let mut t = self.timers.borrow_mut();
            let (due, keep): (Vec<_>, Vec<_>) = t.pending.drain(..).partition(|(_, at, _)| *at <= next);
            t.pending = keep;
            due.into_iter().map(|(_, _, w)| w).collect()
        };
        due.into_iter().for_each(Waker::wake);
        true
    }
}

impl IdleScheduler for SimIdle {
    fn idle(&self, _timeout_ms: u32) -> LocalFuture<'_, f64> {
        Box::pin(async { 50.0 })
    }

    fn sleep(&self, ms: u32) -> LocalFuture<'_, ()> {
        Box::pin(self.sleep_until(self.clock.now_ms() + f64::from(ms)))
    }
}

struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Runs `fut` to completion in virtual time.
pub fn run<F: Future>(idle: &SimIdle, fut: F) -> F::Output {
    let flag = Arc::new(Flag(AtomicBool::new(false)));
    let waker = Waker::from(flag.clone());
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        if flag.0.swap(false, Ordering::SeqCst) {
            continue;
        }
        assert!(idle.advance(), "simulation stuck: every future waits and no timer is set");
    }
}

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
