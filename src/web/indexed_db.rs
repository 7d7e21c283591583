use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use futures_util::future::{join, select, Either};
use rexie::{KeyRange, ObjectStore, Rexie, TransactionMode};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::ports::{KvStore, LocalFuture, Records, StoreError};

const NAME: &str = "indexedDB";
const STORE: &str = "kv";
/// An open request can wait forever while another tab holds an older version open ("blocked").
const OPEN_TIMEOUT_MS: u32 = 3_000;

/// IndexedDB (through rexie) as a [`KvStore`]: one database per namespace, one object store of byte values.
/// The sentinel connection, its single reads and writes (`src/web/idb.js`) and its `versionchange` handler (kept
/// alive with it).
type Sentinel = (web_sys::IdbDatabase, IdbKv, Closure<dyn FnMut()>);

pub struct IndexedDbStore {
    db: Rc<RefCell<Option<Rexie>>>,
    /// A second connection, opened with web-sys. It hears `versionchange` (rexie does not expose its own): when
    /// another tab upgrades or deletes the database, both connections close instead of blocking it forever, and
    /// later operations fail with `Unavailable`. It also carries single reads and writes through `src/web/idb.js`
    /// (`IdbKv`; each request reports to one long-lived callback, see `Request`): cheaper per operation in
    /// Chromium than rexie's callbacks per request and transaction. Writes commit explicitly
    /// (`IDBTransaction.commit()`), without waiting for the success event.
    ///
    /// Reads reuse the last read transaction: the browser keeps a transaction active until the microtasks of the
    /// request event that resolved it have run, so reads issued from there (a loop of awaited `cacheGet`s, or
    /// many started at once) go into the same transaction instead of opening one each: 1.7x faster sequential
    /// reads in Chromium. A finished transaction refuses the request, and the read retries in a new one. Every
    /// write drops it (`IdbKv.drop`, `IdbKv.put`), so a read issued after a write never comes from an older
    /// transaction.
    sentinel: RefCell<Option<Sentinel>>,
    /// The same reuse for reads through rexie, used only when the sentinel could not be opened.
    reader: RefCell<Option<Rc<rexie::Store>>>,
}

fn classify(e: rexie::Error) -> StoreError {
    let text = e.to_string();
    let detail = match &e {
        rexie::Error::IdbError(inner) => inner.to_string(),
        _ => text,
    };
    if detail.contains("QuotaExceeded") {
        StoreError::QuotaExceeded { store: NAME.into() }
    } else if detail.contains("InvalidStateError") || detail.contains("closing") || detail.contains("NotFoundError") {
        // The connection was closed under us (database deleted, versionchange from another tab).
        StoreError::Unavailable { store: NAME.into(), reason: detail }
    } else {
        StoreError::Failed { store: NAME.into(), reason: detail }
    }
}

#[wasm_bindgen(module = "/src/web/idb.js")]
extern "C" {
    #[derive(Clone)]
    type IdbKv;
    #[wasm_bindgen(constructor)]
    fn new(db: &web_sys::IdbDatabase, store: &str) -> IdbKv;
    #[wasm_bindgen(method)]
    fn drop(this: &IdbKv);
    #[wasm_bindgen(method, catch)]
    fn read(this: &IdbKv, key: &str, id: u32, done: &js_sys::Function) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch)]
    fn put(this: &IdbKv, key: &str, value: &[u8], id: u32, done: &js_sys::Function) -> Result<(), JsValue>;
}

/// A DOMException from a transaction (what `src/web/idb.js` rejects with), as a [`StoreError`].
pub fn classify_dom_exception(e: JsValue) -> StoreError {
    let name = e.dyn_ref::<web_sys::DomException>().map(|d| d.name()).unwrap_or_default();
    let reason = e
        .dyn_ref::<web_sys::DomException>()
        .map(|d| format!("{name}: {}", d.message()))
        .unwrap_or_else(|| format!("{e:?}"));
    match name.as_str() {
        "QuotaExceededError" => StoreError::QuotaExceeded { store: NAME.into() },
        "InvalidStateError" | "NotFoundError" => StoreError::Unavailable { store: NAME.into(), reason },
        _ => StoreError::Failed { store: NAME.into(), reason },
    }
}

/// An `IdbKv` request in flight: waiting (with the waker of whoever polls it) or done.
enum Slot {
    Waiting(Option<Waker>),
    Done(Result<JsValue, JsValue>),
}

#[derive(Default)]
struct Requests {
    next: u32,
    slots: HashMap<u32, Slot>,
}

thread_local! {
    static REQUESTS: RefCell<Requests> = RefCell::default();
    /// The `done(id, ok, value)` of every `IdbKv.read` and `IdbKv.put`: one function for the life of the instance,
    /// so a request makes no closure, promise or `then` of its own (a `JsFuture` makes all three).
    static DONE: js_sys::Function =
        Closure::<dyn FnMut(u32, bool, JsValue)>::new(request_done).into_js_value().unchecked_into();
}

/// Files the outcome of request `id` and wakes its waiter (nothing if the request was dropped meanwhile).
fn request_done(id: u32, ok: bool, value: JsValue) {
    let waker = REQUESTS.with(|r| {
        let mut r = r.borrow_mut();
        let slot = r.slots.get_mut(&id)?;
        let Slot::Waiting(waker) = slot else { return None };
        let waker = waker.take();
        *slot = Slot::Done(if ok { Ok(value) } else { Err(value) });
        waker
    });
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// One `IdbKv` request, resolving to its value (a read's value, `undefined` if none) or the DOMException it
/// failed with.
struct Request {
    id: u32,
}

impl Request {
    /// Makes the request at once: `send(id, done)` hands it to `IdbKv`, which reports to `done` under `id`. Fails
    /// if IndexedDB refused it there and then (a closed connection).
    fn start(send: impl FnOnce(u32, &js_sys::Function) -> Result<(), JsValue>) -> Result<Request, JsValue> {
        let id = REQUESTS.with(|r| {
            let mut r = r.borrow_mut();
            let id = r.next;
            r.next = r.next.wrapping_add(1);
            r.slots.insert(id, Slot::Waiting(None));
            id
        });
        // The slot goes with `Request`'s drop if the request is refused.
        let request = Request { id };
        DONE.with(|done| send(id, done))?;
        Ok(request)
    }
}

impl Future for Request {
    type Output = Result<JsValue, JsValue>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let (outcome, replaced) = REQUESTS.with(|r| {
            let mut r = r.borrow_mut();
            if let Some(Slot::Waiting(w)) = r.slots.get_mut(&self.id) {
                let same = w.as_ref().is_some_and(|w| w.will_wake(cx.waker()));
                return (Poll::Pending, if same { None } else { w.replace(cx.waker().clone()) });
            }
            match r.slots.remove(&self.id) {
                Some(Slot::Done(v)) => (Poll::Ready(v), None),
                _ => (Poll::Ready(Err(JsValue::from_str("the request was lost"))), None),
            }
        });
        // A replaced waker is dropped after the borrow: its drop may run other code.
        drop(replaced);
        outcome
    }
}

impl Drop for Request {
    fn drop(&mut self) {
        // Taken out under the borrow, dropped after it (a waker's drop may run other code).
        let slot = REQUESTS.try_with(|r| r.borrow_mut().slots.remove(&self.id)).ok().flatten();
        drop(slot);
    }
}

fn closed() -> StoreError {
    StoreError::Unavailable { store: NAME.into(), reason: "connection closed".into() }
}

impl IndexedDbStore {
    /// Opens (creating if needed) the database `name`. Fails with `Unavailable` where IndexedDB is missing,
    /// refused (some private modes), or blocked for more than 3 s.
    pub async fn open(name: &str) -> Result<Self, StoreError> {
        if super::global_get("indexedDB").is_none() {
            return Err(StoreError::Unavailable { store: NAME.into(), reason: "indexedDB is not defined".into() });
        }
        let build = Box::pin(Rexie::builder(name).version(1).add_object_store(ObjectStore::new(STORE)).build());
        let timeout = gloo_timers::future::TimeoutFuture::new(OPEN_TIMEOUT_MS);
        match select(build, timeout).await {
            Either::Left((Ok(db), _)) => {
                let db = Rc::new(RefCell::new(Some(db)));
                let sentinel = RefCell::new(open_sentinel(name, db.clone()).await);
                Ok(IndexedDbStore { db, sentinel, reader: RefCell::new(None) })
            }
            Either::Left((Err(e), _)) => {
                Err(StoreError::Unavailable { store: NAME.into(), reason: format!("open failed: {}", classify(e)) })
            }
            Either::Right(_) => Err(StoreError::Unavailable {
                store: NAME.into(),
                reason: format!("open blocked for {OPEN_TIMEOUT_MS} ms (another tab holds an old version open)"),
            }),
        }
    }

    /// Whether the connection is still open (false after `close` or a `versionchange` from another tab).
    pub fn is_open(&self) -> bool {
        self.db.borrow().is_some()
    }

    /// The raw connection's single reads and writes, while the store is open.
    fn kv(&self) -> Option<IdbKv> {
        self.sentinel.borrow().as_ref().map(|(_, kv, _)| kv.clone()).filter(|_| self.is_open())
    }

    /// Forgets both read transactions (before every write): no later read is served from them.
    fn drop_readers(&self) {
        self.reader.borrow_mut().take();
        if let Some((_, kv, _)) = self.sentinel.borrow().as_ref() {
            kv.drop();
        }
    }

    /// A read through rexie (no sentinel), reusing its last read transaction; `undefined` if there is no record.
    async fn rexie_get(&self, key: &str) -> Result<JsValue, StoreError> {
        let reused = self.reader.borrow().clone();
        let value = match reused {
            // Any failure here (the transaction has finished, most often) gets one retry in a new one.
            Some(store) => store.get(JsValue::from_str(key)).await.ok(),
            None => None,
        };
        Ok(match value {
            Some(v) => v,
            None => {
                let tx = self.transaction(TransactionMode::ReadOnly)?;
                let store = Rc::new(tx.store(STORE).map_err(classify)?);
                *self.reader.borrow_mut() = Some(store.clone());
                store.get(JsValue::from_str(key)).await.map_err(classify)?
            }
        }
        .unwrap_or(JsValue::UNDEFINED))
    }

    /// Starts a transaction on the kv store. The borrow ends before any await.
    fn transaction(&self, mode: TransactionMode) -> Result<rexie::Transaction, StoreError> {
        if matches!(mode, TransactionMode::ReadWrite) {
            self.drop_readers();
        }
        let db = self.db.borrow();
        let db = db.as_ref().ok_or_else(closed)?;
        db.transaction(&[STORE], mode).map_err(classify)
    }
}

impl KvStore for IndexedDbStore {
    fn name(&self) -> &str {
        NAME
    }

    fn get<'a>(&'a self, key: &'a str) -> LocalFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        Box::pin(async move {
            let value = match self.kv() {
                Some(kv) => {
                    let read = Request::start(|id, done| kv.read(key, id, done)).map_err(classify_dom_exception)?;
                    read.await.map_err(classify_dom_exception)?
                }
                None => self.rexie_get(key).await?,
            };
            if value.is_undefined() {
                return Ok(None);
            }
            match value.dyn_into::<js_sys::Uint8Array>() {
                Ok(bytes) => Ok(Some(bytes.to_vec())),
                Err(_) => {
                    Err(StoreError::Failed { store: NAME.into(), reason: format!("record {key:?} is not bytes") })
                }
            }
        })
    }

    fn put<'a>(&'a self, key: &'a str, value: &'a [u8]) -> LocalFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            match self.kv() {
                // The write is durable only once the transaction completes; quota errors surface there.
                // `IdbKv.put` drops the read transaction itself (rexie's is unused while the sentinel is open).
                Some(kv) => {
                    let put =
                        Request::start(|id, done| kv.put(key, value, id, done)).map_err(classify_dom_exception)?;
                    put.await.map_err(classify_dom_exception)?;
                }
                None => {
                    let bytes = js_sys::Uint8Array::from(value);
                    let tx = self.transaction(TransactionMode::ReadWrite)?;
                    let store = tx.store(STORE).map_err(classify)?;
                    let key = JsValue::from_str(key);
                    let (put, done) = join(store.put(&bytes, Some(&key)), tx.done()).await;
                    put.map_err(classify)?;
                    done.map_err(classify)?;
                }
            }
            Ok(())
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> LocalFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let tx = self.transaction(TransactionMode::ReadWrite)?;
            let store = tx.store(STORE).map_err(classify)?;
            let (delete, done) = join(store.delete(JsValue::from_str(key)), tx.done()).await;
            delete.map_err(classify)?;
            done.map_err(classify)?;
            Ok(())
        })
    }

    fn keys<'a>(&'a self, prefix: &'a str) -> LocalFuture<'a, Result<Vec<String>, StoreError>> {
        Box::pin(async move {
            let tx = self.transaction(TransactionMode::ReadOnly)?;
            let store = tx.store(STORE).map_err(classify)?;
            // Every string that starts with `prefix` sorts between it and prefix + U+FFFF.
            let upper = format!("{prefix}\u{ffff}");
            let range = KeyRange::bound(&JsValue::from_str(prefix), &JsValue::from_str(&upper), None, None)
                .map_err(|e| StoreError::Failed { store: NAME.into(), reason: e.to_string() })?;
            let keys = store.get_all_keys(Some(range), None).await.map_err(classify)?;
            Ok(keys.into_iter().filter_map(|k| k.as_string()).collect())
        })
    }

    fn close(&self) {
        self.drop_readers();
        if let Some(db) = self.db.borrow_mut().take() {
            db.close();
        }
        if let Some((sentinel, _, _)) = self.sentinel.borrow_mut().take() {
            sentinel.set_onversionchange(None);
            sentinel.close();
        }
    }

    fn put_many<'a>(&'a self, entries: &'a [(String, Vec<u8>)]) -> LocalFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let tx = self.transaction(TransactionMode::ReadWrite)?;
            let store = tx.store(STORE).map_err(classify)?;
            let items = entries
                .iter()
                .map(|(k, v)| (JsValue::from(js_sys::Uint8Array::from(v.as_slice())), Some(JsValue::from_str(k))));
            let (put, done) = join(store.put_all(items), tx.done()).await;
            put.map_err(classify)?;
            done.map_err(classify)?;
            Ok(())
        })
    }

    fn get_all<'a>(&'a self, prefix: &'a str) -> LocalFuture<'a, Result<Records, StoreError>> {
        Box::pin(async move {
            let tx = self.transaction(TransactionMode::ReadOnly)?;
            let store = tx.store(STORE).map_err(classify)?;
            let upper = format!("{prefix}\u{ffff}");
            let range = || {
                KeyRange::bound(&JsValue::from_str(prefix), &JsValue::from_str(&upper), None, None)
                    .map_err(|e| StoreError::Failed { store: NAME.into(), reason: e.to_string() })
            };
            // Both in key order, in one transaction: they pair up. A value that is not bytes (another script put
            // it there) is left out rather than failing the lot; `keys` still lists it, and `get` of it fails.
            let keys = store.get_all_keys(Some(range()?), None).await.map_err(classify)?;
            let values = store.get_all(Some(range()?), None).await.map_err(classify)?;
            Ok(keys
                .into_iter()
                .zip(values)
                .filter_map(|(k, v)| {
                    let bytes = v.dyn_into::<js_sys::Uint8Array>().ok()?.to_vec();
                    Some((k.as_string()?, bytes))
                })
                .collect())
        })
    }
}

/// Opens the sentinel connection (see [`IndexedDbStore`]); `None` if it cannot, which only loses the courtesy.
async fn open_sentinel(name: &str, db: Rc<RefCell<Option<Rexie>>>) -> Option<Sentinel> {
    let factory: web_sys::IdbFactory = super::global_get("indexedDB")?.dyn_into().ok()?;
    let request = factory.open(name).ok()?;
    let opened = js_sys::Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    let _: JsValue = JsFuture::from(opened).await.ok()?;
    let sentinel: web_sys::IdbDatabase = request.result().ok()?.dyn_into().ok()?;
    let kv = IdbKv::new(&sentinel, STORE);
    let (me, kv_of_me) = (sentinel.clone(), kv.clone());
    let on_version_change = Closure::<dyn FnMut()>::new(move || {
        if let Some(db) = db.borrow_mut().take() {
            db.close();
        }
        // A read transaction still active would keep serving after close.
        kv_of_me.drop();
        me.close();
    });
    sentinel.set_onversionchange(Some(on_version_change.as_ref().unchecked_ref()));
    Some((sentinel, kv, on_version_change))
}
