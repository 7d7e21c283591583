//! What happens when the instance traps. The release build aborts on a panic (`panic = "abort"`: unwinding is not
//! available on stable wasm32), which kills the WebAssembly instance for the whole page, and a promise whose
//! future was being polled never settles. The package entry (`wasm/js/index.js`) registers a crash handler here;
//! the panic hook tells it before the abort, so it can reject every pending call with `RuntimeCrashed`, and asks
//! wasm-bindgen to give the next call a fresh instance of the same module (`schedule_reinit`).
use std::cell::RefCell;
use std::sync::Once;

use wasm_bindgen::prelude::*;

thread_local! {
    static HANDLER: RefCell<Option<js_sys::Function>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

/// Installs the panic hook (once per instance): the console message of `console_error_panic_hook`, then the crash
/// handler, if the package entry registered one.
pub(crate) fn install_hook() {
    HOOK.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            console_error_panic_hook::hook(info);
            // `try_with`/`try_borrow`: a panic while the handler is being set, or during teardown, must not panic
            // again inside the hook.
            let handler = HANDLER.try_with(|h| h.try_borrow().ok().and_then(|h| h.clone())).ok().flatten();
            if let Some(handler) = handler {
                // Only with a handler: the test harness registers none, and a reinit would wipe its state.
                wasm_bindgen::handler::schedule_reinit();
                let _ = handler.call1(&JsValue::NULL, &JsValue::from_str(&info.to_string()));
            }
        }));
    });
}

/// Registers the function the package entry wants called, with the panic message, when this instance traps.
#[wasm_bindgen(js_name = setCrashHandler, skip_typescript)]
pub fn set_crash_handler(handler: js_sys::Function) {
    install_hook();
    HANDLER.with(|h| {
        if let Ok(mut h) = h.try_borrow_mut() {
            *h = Some(handler);
        }
    });
}

/// After a trap that was not a panic (out of memory, a stack overflow the boundary failed to prevent), the
/// package entry calls this so the next call gets a fresh instance. It touches no memory, so it still runs on a
/// broken instance.
#[doc(hidden)]
#[wasm_bindgen(js_name = __scheduleReinit, skip_typescript)]
pub fn schedule_reinit() {
    wasm_bindgen::handler::schedule_reinit();
}

/// Does nothing. wasm-bindgen's glue swaps in a scheduled fresh instance at the start of the next call into the
/// module, but only after it has converted that call's arguments into the old instance's memory: the package
/// entry calls this, with no arguments, to make the swap happen cleanly at once.
#[doc(hidden)]
#[wasm_bindgen(js_name = __freshInstance, skip_typescript)]
pub fn fresh_instance() {}

/// Traps the instance on purpose, for the crash tests of the package (tests/e2e): `"sync"` panics in this call;
/// `"async"` returns a promise and panics inside its future on a later turn, the case that used to leave the
/// promise pending forever. Never called by the runtime itself.
#[doc(hidden)]
#[wasm_bindgen(js_name = __forceTrap, skip_typescript)]
#[allow(clippy::panic)]
pub fn force_trap(kind: &str) -> js_sys::Promise {
    install_hook();
    if kind == "sync" {
        panic!("forced trap (sync), for tests");
    }
    wasm_bindgen_futures::future_to_promise(async {
        gloo_timers::future::TimeoutFuture::new(1).await;
        panic!("forced trap (async), for tests");
    })
}
