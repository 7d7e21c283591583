//! The design's RequestBatcher for gateways that accept batches: calls to one provider within `maxWaitMs` (100)
//! share one HTTP request, up to `maxSize` (10) each. No task spawning: every waiting caller drives the shared
//! batch future, and if every caller gives up, dropping it aborts the request.
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;
use std::task::{Poll, Waker};

use futures_util::future::{select, FutureExt, Shared, WeakShared};
use serde_json::Value;

use super::providers::openai::OpenAi;
use super::providers::{check_status, Completion, Provider, ProviderError};
use crate::ports::{Clock, Http, IdleScheduler, LocalFuture};

type Results = Rc<Vec<Result<Completion, ProviderError>>>;
type BatchFuture = LocalFuture<'static, Result<Results, ProviderError>>;

struct OpenBatch {
    bodies: RefCell<Vec<Value>>,
    timeout_ms: Cell<u32>,
    full: Cell<bool>,
    waker: RefCell<Option<Waker>>,
    fut: Option<WeakShared<BatchFuture>>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatchStats {
    /// HTTP requests sent by the batcher.
    pub sent: u64,
    /// Calls that went out in them.
    pub calls: u64,
}

pub struct Batcher {
    adapter: Rc<OpenAi>,
    http: Rc<dyn Http>,
    idle: Rc<dyn IdleScheduler>,
    clock: Rc<dyn Clock>,
    max_size: usize,
    max_wait_ms: u32,
    open: Rc<RefCell<Option<Rc<OpenBatch>>>>,
    stats: Rc<Cell<BatchStats>>,
}

impl Batcher {
    pub fn new(
        adapter: OpenAi,
        http: Rc<dyn Http>,
        idle: Rc<dyn IdleScheduler>,
        clock: Rc<dyn Clock>,
        max_size: u32,
        max_wait_ms: u32,
    ) -> Batcher {
        Batcher {
            adapter: Rc::new(adapter),
            http,
            idle,
            clock,
            max_size: max_size.max(1) as usize,
            max_wait_ms,
            open: Rc::default(),
            stats: Rc::default(),
        }
    }

    pub fn stats(&self) -> BatchStats {
        self.stats.get()
    }

    /// Queues one chat-completions body; resolves to its own completion when the batch comes back.
    pub fn submit(&self, body: Value, timeout_ms: u32) -> impl Future<Output = Result<Completion, ProviderError>> {
        let (shared, index) = {
            let mut open = self.open.borrow_mut();
            let current = open.as_ref().and_then(|b| b.fut.as_ref()?.upgrade().map(|f| (b.clone(), f)));
            let (batch, shared) = match current {
                Some(pair) => pair,
                None => {
                    let (batch, shared) = self.start();
                    *open = Some(batch.clone());
                    (batch, shared)
                }
            };
            let index = {
                let mut bodies = batch.bodies.borrow_mut();
                bodies.push(body);
                bodies.len() - 1
            };
            batch.timeout_ms.set(batch.timeout_ms.get().min(timeout_ms));
            if index + 1 >= self.max_size {
                // Full: seal it now and let it go without waiting for the timer.
                batch.full.set(true);
                if let Some(w) = batch.waker.borrow_mut().take() {
                    w.wake();
                }
                *open = None;
            }
            (shared, index)
        };
        async move {
            let results = shared.await?;
            results.get(index).cloned().unwrap_or_else(|| Err(ProviderError::Malformed("batch lost a result".into())))
        }
    }

    fn start(&self) -> (Rc<OpenBatch>, Shared<BatchFuture>) {
        let cell: Rc<RefCell<Option<Rc<OpenBatch>>>> = Rc::new(RefCell::new(None));
        let (adapter, http, idle, clock, open, stats) = (
            self.adapter.clone(),
            self.http.clone(),
            self.idle.clone(),
            self.clock.clone(),
            self.open.clone(),
            self.stats.clone(),
        );
        let max_wait = self.max_wait_ms;
        let me = cell.clone();
        let fut: BatchFuture = Box::pin(async move {
            let batch = me.borrow().clone().ok_or(ProviderError::Aborted)?;
            let filled = std::future::poll_fn(|cx| {
                if batch.full.get() {
                    Poll::Ready(())
                } else {
                    *batch.waker.borrow_mut() = Some(cx.waker().clone());
                    Poll::Pending
                }
            });
            select(Box::pin(filled), idle.sleep(max_wait)).await;
            {
                let mut open = open.borrow_mut();
                if open.as_ref().is_some_and(|b| Rc::ptr_eq(b, &batch)) {
                    *open = None;
                }
            }
            let bodies = batch.bodies.take();
            let timeout = batch.timeout_ms.get();
            stats.set(BatchStats { sent: stats.get().sent + 1, calls: stats.get().calls + bodies.len() as u64 });
            let results = if let [single] = bodies.as_slice() {
                // A batch of one goes to the ordinary endpoint.
                let resp = http.request(adapter.request_body(single, timeout)).await?;
                vec![check_status(&resp, clock.wall_ms()).and_then(|v| adapter.parse(&v))]
            } else {
                let resp = http.request(adapter.batch_request(&bodies, timeout)).await?;
                let value = check_status(&resp, clock.wall_ms())?;
                adapter.parse_batch(&value, bodies.len())?
            };
            Ok(Rc::new(results))
        });
        let shared = fut.shared();
        let batch = Rc::new(OpenBatch {
            bodies: RefCell::default(),
            timeout_ms: Cell::new(u32::MAX),
            full: Cell::new(false),
            waker: RefCell::default(),
            fut: shared.downgrade(),
        });
        *cell.borrow_mut() = Some(batch.clone());
        (batch, shared)
    }
}
