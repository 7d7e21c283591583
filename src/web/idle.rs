use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::ports::{IdleScheduler, LocalFuture};

/// The most idle time one callback may use (the requestIdleCallback spec's cap).
const MAX_IDLE_MS: f64 = 50.0;

/// The longest delay a browser timer keeps: setTimeout (and gloo-timers, which casts to i32) turns 2^31 ms or
/// more into 0, so a longer sleep would end at once and a loop over it would spin.
pub(super) const MAX_TIMER_MS: u32 = i32::MAX as u32;

/// Waits `ms` on browser timers, in parts no longer than [`MAX_TIMER_MS`].
pub(super) async fn sleep_ms(mut ms: u32) {
    loop {
        let part = ms.min(MAX_TIMER_MS);
        gloo_timers::future::TimeoutFuture::new(part).await;
        ms -= part;
        if ms == 0 {
            return;
        }
    }
}

/// `requestIdleCallback` where the browser has it (not Safari; in the package's worker, the main thread's through
/// its host), else a short timer; `sleep` is a timer.
#[derive(Default)]
pub struct WebIdle;

async fn request_idle(ric: js_sys::Function, timeout_ms: u32) -> Option<f64> {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        let callback = Closure::once_into_js(move |deadline: JsValue| {
            let remaining = super::call0(&deadline, "timeRemaining").and_then(|v| v.as_f64()).unwrap_or(0.0);
            let _ = resolve.call1(&JsValue::UNDEFINED, &JsValue::from_f64(remaining));
        });
        let options = js_sys::Object::new();
        // A timeout is a timer too: past MAX_TIMER_MS it would fire at once.
        let timeout = timeout_ms.min(MAX_TIMER_MS);
        let _ = js_sys::Reflect::set(&options, &"timeout".into(), &JsValue::from(timeout));
        let _ = ric.call2(&js_sys::global(), &callback, &options);
    });
    let value: JsValue = JsFuture::from(promise).await.ok()?;
    value.as_f64()
}

impl IdleScheduler for WebIdle {
    fn idle(&self, timeout_ms: u32) -> LocalFuture<'_, f64> {
        Box::pin(async move {
            let ric = super::global_or_host("requestIdleCallback").and_then(|f| f.dyn_into::<js_sys::Function>().ok());
            if let Some(ric) = ric {
                if let Some(remaining) = request_idle(ric, timeout_ms).await {
                    return remaining.min(MAX_IDLE_MS);
                }
            }
            // No idle callbacks: yield to the event loop, then assume a frame's worth of idle time.
            gloo_timers::future::TimeoutFuture::new(1).await;
            MAX_IDLE_MS / 5.0
        })
    }

    fn sleep(&self, ms: u32) -> LocalFuture<'_, ()> {
        Box::pin(sleep_ms(ms))
    }
}
