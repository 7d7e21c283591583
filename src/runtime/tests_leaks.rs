//! What a runtime must not leave behind: `dispose()` stops the calls and background tasks in progress (no
//! request after it), and `loadModel(onProgress)` keeps no callback once its load has resolved.
use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use pollster::block_on;
use serde_json::json;

use super::*;
use crate::ports::{
    Downloader, Http, HttpError, HttpRequest, HttpResponse, IdleScheduler, LocalFuture, Progress as Bytes,
};
use crate::testkit::{fake_ports, model_files_network, FakeClock, FakeSpawner};
use crate::vocab::ModelState;

/// Counts requests; each answers 503 at once (`hang: false`) or never, counting the ones dropped unanswered.
#[derive(Default)]
struct CountingHttp {
    hang: bool,
    sent: Cell<u32>,
    dropped: Rc<Cell<u32>>,
}

struct DropCount(Rc<Cell<u32>>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

impl Http for CountingHttp {
    fn request(&self, _req: HttpRequest) -> LocalFuture<'_, Result<HttpResponse, HttpError>> {
        self.sent.set(self.sent.get() + 1);
        if !self.hang {
            return Box::pin(async { Ok(HttpResponse { status: 503, headers: Vec::new(), body: "{}".into() }) });
        }
        let count = DropCount(self.dropped.clone());
        Box::pin(async move {
            let _count = count;
            std::future::pending().await
        })
    }
}

/// A download that never ends, counting the URLs asked for and the downloads dropped unfinished.
#[derive(Default)]
struct StalledDownloader {
    asked: Cell<u32>,
    dropped: Rc<Cell<u32>>,
}

impl Downloader for StalledDownloader {
    fn fetch<'a>(
        &'a self,
        _url: &'a str,
        _request: crate::ports::DownloadRequest,
        _limits: crate::ports::DownloadLimits,
        _progress: Bytes<'a>,
    ) -> LocalFuture<'a, Result<crate::ports::Download, crate::ports::DownloadFailure>> {
        self.asked.set(self.asked.get() + 1);
        let count = DropCount(self.dropped.clone());
        Box::pin(async move {
            let _count = count;
            std::future::pending().await
        })
    }
}

/// Short sleeps (a retry's backoff) end at the next poll; long ones (deadlines) never do.
struct StepIdle;

impl IdleScheduler for StepIdle {
    fn idle(&self, _timeout_ms: u32) -> LocalFuture<'_, f64> {
        Box::pin(async { 50.0 })
    }

    fn sleep(&self, ms: u32) -> LocalFuture<'_, ()> {
        let mut yielded = ms >= 1_000;
        Box::pin(std::future::poll_fn(move |cx| {
            if yielded {
                return if ms >= 1_000 { Poll::Pending } else { Poll::Ready(()) };
            }
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }))
    }
}

fn ports(http: Rc<dyn Http>, downloader: Rc<dyn Downloader>, spawner: &FakeSpawner) -> Ports {
    Ports {
        http,
        downloader,
        idle: Rc::new(StepIdle),
        spawner: Rc::new(spawner.clone()),
        ..fake_ports(&FakeClock::default())
    }
}

fn config(strategy: Strategy) -> Config {
    let value = json!({
        "model": {"strategy": strategy, "manifestUrl": "models/manifest.json"},
        "cloud": {"providers": {"gateway": {"kind": "openai", "baseUrl": "https://mock/v1"}},
                  "maxRetries": 5, "backoffBaseMs": 10, "backoffMaxMs": 20},
    });
    Config::parse(value).unwrap()
}

fn poll_once<F: Future + ?Sized>(fut: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

fn line() -> serde_json::Value {
    json!({"npc": {"id": "bram", "name": "Bram"}, "context": {"playerText": "Any work?"}, "importance": 0.7})
}

#[test]
fn dispose_ends_a_call_waiting_to_retry_and_no_request_follows() {
    let http = Rc::new(CountingHttp::default());
    let spawner = FakeSpawner::new();
    let rt = block_on(Runtime::start(
        config(Strategy::CloudOnly),
        ports(http.clone(), Rc::new(StalledDownloader::default()), &spawner),
        None,
    ));
    let rt = rt.unwrap();
    let mut call = pin!(rt.generate(line()));
    assert!(poll_once(call.as_mut()).is_pending(), "the first attempt got a 503 and waits to retry");
    assert_eq!(http.sent.get(), 1);
    rt.dispose();
    assert_eq!(poll_once(call.as_mut()), Poll::Ready(Err(Error::Disposed)), "the call ends with the runtime");
    assert_eq!(http.sent.get(), 1, "no retry after dispose");
}

#[test]
fn dispose_aborts_a_request_in_flight() {
    let http = Rc::new(CountingHttp { hang: true, ..CountingHttp::default() });
    let spawner = FakeSpawner::new();
    let rt = block_on(Runtime::start(
        config(Strategy::CloudOnly),
        ports(http.clone(), Rc::new(StalledDownloader::default()), &spawner),
        None,
    ));
    let rt = rt.unwrap();
    let mut call = pin!(rt.generate(line()));
    assert!(poll_once(call.as_mut()).is_pending());
    assert_eq!((http.sent.get(), http.dropped.get()), (1, 0));
    rt.dispose();
    assert_eq!(poll_once(call.as_mut()), Poll::Ready(Err(Error::Disposed)));
    assert_eq!((http.sent.get(), http.dropped.get()), (1, 1), "the request was dropped, which aborts a fetch");
}

#[test]
fn dispose_aborts_a_model_download_in_flight() {
    let downloader = Rc::new(StalledDownloader::default());
    let spawner = FakeSpawner::new();
    let http: Rc<dyn Http> = Rc::new(CountingHttp::default());
    let rt = block_on(Runtime::start(config(Strategy::OnDemand), ports(http, downloader.clone(), &spawner), None));
    let rt = rt.unwrap();
    let mut call = pin!(rt.analyze("Any work?"));
    assert!(poll_once(call.as_mut()).is_pending(), "the model download has started and stalls");
    assert_eq!(downloader.asked.get(), 1);
    rt.dispose();
    assert!(matches!(poll_once(call.as_mut()), Poll::Ready(Err(Error::Disposed))), "the call ends with the runtime");
    // The model host held the shared load: without closing it, the download lived on after dispose().
    assert_eq!(downloader.dropped.get(), 1, "the download was dropped, so its fetch is aborted");
    assert_eq!(rt.model_status().map(|s| s.state).ok(), None, "a disposed runtime answers Disposed");
}

#[test]
fn dispose_stops_the_background_tasks() {
    let downloader = Rc::new(StalledDownloader::default());
    let spawner = FakeSpawner::new();
    let ports = ports(Rc::new(CountingHttp::default()), downloader.clone(), &spawner);
    let rt = block_on(Runtime::start(config(Strategy::FirstLaunch), ports, None)).unwrap();
    assert_eq!(spawner.names(), [CACHE_SWEEPS, MODEL_FILES, PREGEN_LOOP]);
    let mut files = spawner.take(MODEL_FILES).unwrap();
    assert!(poll_once(files.as_mut()).is_pending(), "the manifest download is under way");
    assert_eq!(downloader.asked.get(), 1);
    rt.dispose();
    assert!(poll_once(files.as_mut()).is_ready(), "the task ends with the runtime");
    let mut sweeps = spawner.take(CACHE_SWEEPS).unwrap();
    assert!(poll_once(sweeps.as_mut()).is_ready());
    let mut pregen = spawner.take(PREGEN_LOOP).unwrap();
    assert!(poll_once(pregen.as_mut()).is_ready());
    assert_eq!(downloader.asked.get(), 1, "nothing more was downloaded");
    assert_eq!(block_on(rt.load_model(None)).err(), Some(Error::Disposed));
}

#[test]
fn load_model_keeps_no_progress_callback_once_its_load_resolved() {
    let spawner = FakeSpawner::new();
    let network = Rc::new(model_files_network("models/").unwrap());
    let rt = block_on(Runtime::start(
        config(Strategy::OnDemand),
        ports(Rc::new(CountingHttp::default()), network, &spawner),
        None,
    ));
    let rt = rt.unwrap();
    let token = Rc::new(());
    let callback = |token: &Rc<()>| {
        let held = token.clone();
        Some(Box::new(move |_: u64, _: Option<u64>| drop(held.clone())) as Progress)
    };
    // The call that loads, then calls after the model is ready.
    for _ in 0..5 {
        let status = block_on(rt.load_model(callback(&token))).unwrap();
        assert_eq!(status.state, ModelState::Ready);
    }
    assert_eq!(Rc::strong_count(&token), 1, "every onProgress was released");
}
