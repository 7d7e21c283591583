//! Virtual time for native tests of timeouts, backoff, batching and deadlines (the router's tests and the
//! pre-generation replay in `tests/replay`): `SimIdle::sleep` waits on a
//! `FakeClock`, and `run` advances the clock to the next timer whenever every future is blocked. Nothing real
//! waits; latencies come out exact.
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use crate::ports::{Clock, Http, HttpError, HttpRequest, HttpResponse, IdleScheduler, LocalFuture};
use crate::testkit::FakeClock;

#[derive(Default)]
struct Timers {
    next_id: u64,
    pending: Vec<(u64, f64, Waker)>,
}

#[derive(Clone)]
pub struct SimIdle {
    pub clock: FakeClock,
    timers: Rc<RefCell<Timers>>,
}

impl SimIdle {
    pub fn new(clock: FakeClock) -> SimIdle {
        SimIdle { clock, timers: Rc::default() }
    }

    pub fn sleep_until(&self, at: f64) -> impl Future<Output = ()> + 'static {
        struct Sleep {
            at: f64,
            id: Option<u64>,
            clock: FakeClock,
            timers: Rc<RefCell<Timers>>,
        }
        impl Future for Sleep {
            type Output = ();
            fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
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
        Sleep { at, id: None, clock: self.clock.clone(), timers: self.timers.clone() }
    }

    /// Fires the earliest timers; false when there are none (the run is stuck).
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

/// What the simulated server does with one request: answer after `delay_ms` (virtual), or hang forever.
pub enum Reply {
    After(f64, Result<HttpResponse, HttpError>),
    Hang,
}

/// Decides the reply to the n-th request (1-based).
type Handler = dyn Fn(&HttpRequest, u64) -> Reply;

/// An `Http` whose requests take virtual time, honour `timeout_ms` like fetch + AbortController, and count
/// requests that were dropped (aborted) before they finished.
pub struct SimHttp {
    idle: SimIdle,
    handler: Box<Handler>,
    pub sent: RefCell<Vec<HttpRequest>>,
    pub aborted: Rc<Cell<u64>>,
}

impl SimHttp {
    pub fn new(idle: &SimIdle, handler: impl Fn(&HttpRequest, u64) -> Reply + 'static) -> SimHttp {
        SimHttp { idle: idle.clone(), handler: Box::new(handler), sent: RefCell::default(), aborted: Rc::default() }
    }

    pub fn count(&self) -> usize {
        self.sent.borrow().len()
    }
}

struct AbortCounter(Rc<Cell<u64>>, bool);

impl AbortCounter {
    fn finished(&mut self, answered: bool) {
        self.1 = answered;
    }
}

impl Drop for AbortCounter {
    fn drop(&mut self) {
        if !self.1 {
            self.0.set(self.0.get() + 1);
        }
    }
}

impl Http for SimHttp {
    fn request(&self, req: HttpRequest) -> LocalFuture<'_, Result<HttpResponse, HttpError>> {
        let n = {
            let mut sent = self.sent.borrow_mut();
            sent.push(req.clone());
            sent.len() as u64
        };
        let reply = (self.handler)(&req, n);
        let now = self.idle.clock.now_ms();
        let timeout_at = now + f64::from(req.timeout_ms);
        let mut guard = AbortCounter(self.aborted.clone(), false);
        let idle = self.idle.clone();
        Box::pin(async move {
            let (at, result) = match reply {
                Reply::After(delay, r) => (now + delay, Some(r)),
                Reply::Hang => (f64::INFINITY, None),
            };
            let out = if at <= timeout_at {
                idle.sleep_until(at).await;
                result.unwrap_or(Err(HttpError::Aborted))
            } else {
                idle.sleep_until(timeout_at).await;
                Err(HttpError::Timeout { after_ms: req.timeout_ms })
            };
            // A timeout is an abort too (fetch's AbortController), so only completed answers disarm the counter.
            guard.finished(out.is_ok() || !matches!(out, Err(HttpError::Timeout { .. })));
            out
        })
    }
}

/// An OpenAI-style success body.
pub fn chat_ok(text: &str, input: u32, output: u32) -> HttpResponse {
    let body = serde_json::json!({
        "choices": [{"message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": input, "completion_tokens": output},
    });
    HttpResponse {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string(),
    }
}

pub fn status(code: u16, retry_after: Option<&str>) -> HttpResponse {
    let headers = retry_after.map(|v| vec![("retry-after".to_string(), v.to_string())]).unwrap_or_default();
    HttpResponse { status: code, headers, body: "{}".into() }
}
