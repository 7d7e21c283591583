//! Web Locks (`navigator.locks.request`) as a [`SharedLock`]. Reached through `Reflect`: web-sys has
//! `LockManager` only behind `--cfg=web_sys_unstable_apis`, which every build of the package would then need.
use futures_util::future::{select, Either};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::ports::{LocalFuture, LockError, LockGuard, SharedLock};

/// `navigator.locks` of the window or worker.
pub struct WebLocks {
    locks: JsValue,
}

impl WebLocks {
    /// `None` where the browser has no Web Locks (older browsers, pages not served over https or localhost).
    pub fn open() -> Option<WebLocks> {
        let navigator = super::global_get("navigator")?;
        let locks = super::get(&navigator, "locks")?;
        super::get(&locks, "request")?.dyn_into::<js_sys::Function>().ok()?;
        Some(WebLocks { locks })
    }
}

/// Resolves the promise the lock's callback returned, which is what releases a Web Lock. Dropped with the guard,
/// or with a request given up before it was granted: the lock is then released the moment it is granted.
struct Release(js_sys::Function);

impl Drop for Release {
    fn drop(&mut self) {
        let _ = self.0.call0(&JsValue::UNDEFINED);
    }
}

/// A promise and the function that resolves it.
fn deferred() -> Result<(js_sys::Promise, js_sys::Function), LockError> {
    let mut resolver = None;
    let promise = js_sys::Promise::new(&mut |resolve, _reject| resolver = Some(resolve));
    let resolve = resolver.ok_or_else(|| LockError("Promise ran no executor".into()))?;
    Ok((promise, resolve))
}

fn refused(value: &JsValue) -> LockError {
    LockError(super::describe(value))
}

impl SharedLock for WebLocks {
    fn lock<'a>(&'a self, name: &'a str) -> LocalFuture<'a, Result<LockGuard, LockError>> {
        Box::pin(async move {
            let request = super::get(&self.locks, "request")
                .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
                .ok_or_else(|| LockError("navigator.locks.request is gone".into()))?;
            let (held, release) = deferred()?;
            let release = Release(release);
            let (granted, grant) = deferred()?;
            // Called once the lock is ours; the lock stays ours until the promise it returns (`held`) resolves.
            let callback = Closure::once_into_js(move |_lock: JsValue| -> JsValue {
                let _ = grant.call0(&JsValue::UNDEFINED);
                held.into()
            });
            let done = request.call2(&self.locks, &JsValue::from_str(name), &callback).map_err(|e| refused(&e))?;
            let done: js_sys::Promise =
                done.dyn_into().map_err(|_| LockError("navigator.locks.request returned no promise".into()))?;
            // The request's own promise settles after the release, or at once when the request is refused.
            match select(JsFuture::from(granted), JsFuture::from(done)).await {
                Either::Left((Ok(_), _)) => Ok(LockGuard::new(release)),
                Either::Left((Err(e), _)) | Either::Right((Err(e), _)) => Err(refused(&e)),
                Either::Right((Ok(_), _)) => Err(LockError("the lock ended before it was granted".into())),
            }
        })
    }
}
