//! The ports implemented for browsers (window or worker) with web-sys, js-sys, rexie and gloo-timers, with the
//! adapters' own JavaScript (`idb.js`, `front.js`, `executor.js`) beside them. Everything here is thin: logic
//! belongs in the core, where it is tested natively.
mod broadcast;
mod clock;
mod device;
mod digest;
mod download;
pub mod executor;
mod front;
mod http;
mod idle;
mod indexed_db;
mod local_storage;
mod locks;
mod rng;
mod spawn;

pub use broadcast::WebBroadcast;
pub use clock::WebClock;
pub use device::WebDevice;
pub use digest::WebDigest;
pub use download::FetchDownloader;
pub use front::MemoryFront;
pub use http::FetchHttp;
pub use idle::WebIdle;
pub use indexed_db::{classify_dom_exception, IndexedDbStore};
pub use local_storage::LocalStorageStore;
pub use locks::WebLocks;
pub use rng::WebRng;
pub use spawn::WebSpawner;

use wasm_bindgen::{JsCast, JsValue};

/// `globalThis[name]`, if present and not undefined/null.
fn global_get(name: &str) -> Option<JsValue> {
    get(&js_sys::global(), name)
}

/// What a worker lacks and the package's worker host (`wasm/js/worker.js`) bridges from the main thread: an
/// object at `globalThis.__unwrittenHost` with `localStorage` (a mirror of the namespace's keys), `getBattery()`,
/// `visibilityState` and `requestIdleCallback`. On a window the browser's own are used.
const HOST: &str = "__unwrittenHost";

/// The global `name`, else the worker host's bridged `name`.
fn global_or_host(name: &str) -> Option<JsValue> {
    global_get(name).or_else(|| get(&global_get(HOST)?, name))
}

/// `target[name]`, if present and not undefined/null. Never throws.
fn get(target: &JsValue, name: &str) -> Option<JsValue> {
    js_sys::Reflect::get(target, &JsValue::from_str(name)).ok().filter(|v| !v.is_undefined() && !v.is_null())
}

/// Calls `target[name]()` if it is a function.
fn call0(target: &JsValue, name: &str) -> Option<JsValue> {
    let f: js_sys::Function = get(target, name)?.dyn_into().ok()?;
    f.call0(target).ok()
}

/// A readable description of a thrown JS value: "Name: message" for errors, else its string form.
fn describe(value: &JsValue) -> String {
    if let Some(err) = value.dyn_ref::<js_sys::Error>() {
        format!("{}: {}", String::from(err.name()), String::from(err.message()))
    } else if let Some(ex) = value.dyn_ref::<web_sys::DomException>() {
        format!("{}: {}", ex.name(), ex.message())
    } else {
        value.as_string().unwrap_or_else(|| format!("{value:?}"))
    }
}

/// The browser's ports for a runtime of `config`: localStorage under `"{namespace}:"`, IndexedDB database
/// `"{namespace}-unwritten-ai"` (a store the browser refuses is left out), fetch, idle callbacks, device signals,
/// crypto randomness, the microtask spawner, the tabs' broadcast channel, `front` as the memory mirror, Web
/// Locks (where the browser has them) for the cloud budget the tabs share, and WebCrypto's SHA-256.
pub async fn ports(config: &crate::config::Config, front: &MemoryFront) -> crate::ports::Ports {
    use std::rc::Rc;

    use crate::ports::{Broadcast, KvStore};

    let ns = &config.namespace;
    let local_storage = config
        .storage
        .local_storage
        .then(|| LocalStorageStore::open(&format!("{ns}:")).ok())
        .flatten()
        .map(|s| Rc::new(s) as Rc<dyn KvStore>);
    let indexed_db = if config.storage.indexed_db {
        IndexedDbStore::open(&format!("{ns}-unwritten-ai")).await.ok().map(|s| Rc::new(s) as Rc<dyn KvStore>)
    } else {
        None
    };
    // Another tab's invalidation or clear: the JS copy must not serve until the core has applied it.
    let front_now = front.clone();
    let on_receive: Box<dyn Fn()> = Box::new(move || front_now.js_clear());
    let broadcast =
        WebBroadcast::open(&format!("{ns}-unwritten-ai"), Some(on_receive)).map(|b| Rc::new(b) as Rc<dyn Broadcast>);
    crate::ports::Ports {
        clock: Rc::new(WebClock::new()),
        local_storage,
        indexed_db,
        http: Rc::new(FetchHttp),
        downloader: Rc::new(FetchDownloader),
        idle: Rc::new(WebIdle),
        device: Rc::new(WebDevice),
        rng: Rc::new(WebRng::new()),
        spawner: Rc::new(WebSpawner),
        broadcast,
        memory_mirror: Some(Rc::new(front.clone())),
        shared_lock: WebLocks::open().map(|l| Rc::new(l) as Rc<dyn crate::ports::SharedLock>),
        digest: WebDigest::open().map(|d| Rc::new(d) as Rc<dyn crate::ports::Digest>),
    }
}
