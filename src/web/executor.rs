//! The executor of `cacheGet` and `cachePut`: a call runs at once, inside the call, up to its first storage
//! request (a memory hit, or a miss with nothing to read, completes there); the rest runs when the store reports
//! back, inside that report (IndexedDB's `done` callback, see `src/web/indexed_db.rs`), and settles a promise
//! from `src/web/executor.js`. Compared with an `async fn` export (wasm-bindgen's `future_to_promise` +
//! `spawn_local`), that saves the task allocation, the promise executor closure, and two microtasks with a call
//! into WebAssembly each: one before the request is made, one after it answered.
//!
//! A task woken while one of these tasks is being polled waits for that poll to finish. Polling inside a wake is
//! sound because the futures run here wait only on the stores, whose wakers are called from browser callbacks
//! (IndexedDB events, promise reactions), never from inside other Rust code that could hold a borrow.
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/web/executor.js")]
extern "C" {
    #[wasm_bindgen(js_name = pending)]
    fn js_pending(id: u32) -> js_sys::Promise;
    #[wasm_bindgen(js_name = settle)]
    fn js_settle(id: u32, ok: bool, value: JsValue);
}

type Task = Pin<Box<dyn Future<Output = Result<JsValue, JsValue>>>>;

#[derive(Default)]
struct Tasks {
    next: u32,
    waiting: HashMap<u32, Task>,
    ready: VecDeque<u32>,
    /// A task is being polled (by `run` or `drive`): wakes only queue.
    busy: bool,
}

thread_local! {
    static TASKS: RefCell<Tasks> = RefCell::default();
}

/// Runs `future` to completion; the promise settles with its outcome.
pub fn run(future: impl Future<Output = Result<JsValue, JsValue>> + 'static) -> js_sys::Promise {
    let (id, nested) = TASKS.with(|t| {
        let mut t = t.borrow_mut();
        let id = t.next;
        t.next = t.next.wrapping_add(1);
        (id, std::mem::replace(&mut t.busy, true))
    });
    let mut task: Task = Box::pin(future);
    let promise = match poll(id, &mut task) {
        Poll::Ready(Ok(v)) => js_sys::Promise::resolve(&v),
        Poll::Ready(Err(e)) => js_sys::Promise::reject(&e),
        Poll::Pending => {
            let promise = js_pending(id);
            TASKS.with(|t| t.borrow_mut().waiting.insert(id, task));
            promise
        }
    };
    if !nested {
        // Anything woken meanwhile (this task too) is polled now.
        TASKS.with(|t| t.borrow_mut().busy = false);
        drive();
    }
    promise
}

fn poll(id: u32, task: &mut Task) -> Poll<Result<JsValue, JsValue>> {
    let waker = Waker::from(Arc::new(TaskWaker(id)));
    task.as_mut().poll(&mut Context::from_waker(&waker))
}

/// Polls the woken tasks until none is left; nothing if a poll is already under way (it picks them up).
fn drive() {
    loop {
        let next = TASKS.with(|t| {
            let mut t = t.borrow_mut();
            if t.busy {
                return None;
            }
            let id = t.ready.pop_front()?;
            t.busy = true;
            Some((id, t.waiting.remove(&id)))
        });
        let Some((id, task)) = next else { return };
        let outcome = task.map(|mut task| (poll(id, &mut task), task));
        TASKS.with(|t| t.borrow_mut().busy = false);
        // None: woken twice, or after it finished.
        match outcome {
            Some((Poll::Pending, task)) => {
                TASKS.with(|t| t.borrow_mut().waiting.insert(id, task));
            }
            Some((Poll::Ready(outcome), task)) => {
                drop(task);
                match outcome {
                    Ok(v) => js_settle(id, true, v),
                    Err(e) => js_settle(id, false, e),
                }
            }
            None => {}
        }
    }
}

fn wake(id: u32) {
    TASKS.with(|t| t.borrow_mut().ready.push_back(id));
    drive();
}

/// Wakes task `id`: polls it now, or after the poll under way.
struct TaskWaker(u32);

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        wake(self.0);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        wake(self.0);
    }
}
