//! The replayer: a trace through the real `Router` (its chain, matrix, quality checks and cost ledger) and the
//! real `ResponseCache` (the design's tiers and TTLs) on virtual time, with a scripted cloud (the design's
//! latencies and prices) and a local responder that answers in the design's 50 ms. Pre-generation on runs its
//! loop beside the game's calls, through a `PregenBackend` made of a second router (no cache step; the same
//! cloud, local responder and budget ledger) that stores into the same cache.
use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::pin::pin;
use std::rc::Rc;

use futures_util::future::{select, Either};
use futures_util::stream::{FuturesUnordered, StreamExt};
use serde_json::{json, Value};
use unwritten_ai::cache::{CacheKey, ResponseCache};
use unwritten_ai::config::Config;
use unwritten_ai::ports::{Clock, DeviceSnapshot, IdleScheduler, LocalFuture};
use unwritten_ai::pregen::{run as pregen_loop, Generated, Job, Pregen, PregenBackend, PregenMetrics};
use unwritten_ai::router::matrix::ModelTable;
use unwritten_ai::router::{
    GenerateRequest, LocalCapabilities, LocalError, LocalLine, LocalResponder, ResponseSource, Router, RouterPorts,
};
use unwritten_ai::runtime::{cache_key, join_or_generate, InFlightLines};
use unwritten_ai::testkit::{FakeClock, MemoryStore, SeededRng};
use unwritten_ai::vocab::{CandidateSource, Source};

use crate::sim::{run, Cloud, SimIdle, SimSpawner, CLOUD_LINE};
use crate::trace::{Step, Trace};

/// The on-device responder: the design's 50 ms, the capabilities of the shipped bank responder.
struct Local {
    idle: SimIdle,
}

impl LocalResponder for Local {
    fn capabilities(&self) -> LocalCapabilities {
        LocalCapabilities {
            available: true,
            emotional_capacity_head: false,
            tension_building: false,
            max_complexity: 0.4,
        }
    }

    fn respond<'a>(&'a self, req: &'a GenerateRequest) -> LocalFuture<'a, Result<LocalLine, LocalError>> {
        Box::pin(async move {
            self.idle.sleep(50).await;
            let text =
                format!("{} nods. \"Good to see you. About {}? Let me think.\"", req.npc.name, req.context.player_text);
            Ok(LocalLine { text, model: "local@1".into() })
        })
    }
}

struct Backend {
    cache: Rc<ResponseCache>,
    router: Rc<Router>,
    /// Where the game's call for a line joins its pre-generation in flight, as in the runtime.
    in_flight: Rc<InFlightLines>,
    min_importance: f64,
    made: RefCell<Vec<(String, CandidateSource)>>,
}

impl PregenBackend for Backend {
    fn key(&self, request: &Value) -> Option<String> {
        GenerateRequest::parse(request.clone()).ok().map(|r| cache_key(&r).id())
    }

    fn is_cached<'a>(&'a self, key: &'a str) -> LocalFuture<'a, bool> {
        Box::pin(async move {
            match CacheKey::parse_id(key) {
                Ok(k) => self.cache.get(&k).await.is_some(),
                Err(_) => false,
            }
        })
    }

    fn generate<'a>(&'a self, job: &'a Job) -> LocalFuture<'a, Result<Generated, String>> {
        Box::pin(async move {
            let mut req = GenerateRequest::parse(job.request.clone()).map_err(|e| e.to_string())?;
            if !job.cloud {
                // At or below cloud.minImportance the chain never calls the cloud.
                req.importance = req.importance.min(self.min_importance);
            }
            let (router, chain_req) = (self.router.clone(), req.clone());
            let chain = Box::pin(async move { router.generate(&chain_req).await });
            let r = self.in_flight.run(&job.key, job.cloud, chain).await;
            if !matches!(r.source, Source::Local | Source::Cloud) {
                return Err(format!("no model line ({})", r.source));
            }
            // As the runtime stores it (src/runtime/pregen.rs): for the prediction's TTL.
            self.cache.put_for(&cache_key(&req), &r.text, job.importance, Some(job.ttl_ms)).await;
            self.made.borrow_mut().push((job.key.clone(), job.source));
            if std::env::var_os("REPLAY_DEBUG").is_some() {
                let c = &job.request;
                println!(
                    "made {} {} {} {:?} {} conf {:.2} scene {}",
                    job.key,
                    c["npc"]["id"],
                    c["type"],
                    c["context"]["playerText"],
                    job.source,
                    job.importance,
                    c["context"]["scene"]
                );
            }
            Ok(Generated { cloud: r.source == Source::Cloud, cost_usd: r.cost_usd })
        })
    }
}

/// What the player got from one call.
struct Call {
    key: String,
    latency_ms: f64,
    cached: bool,
    /// The line the player got was the cloud's (a hit on a line the cloud wrote, too).
    cloud_line: bool,
}

/// The figures of one replay.
#[derive(Debug, Clone)]
pub struct Report {
    pub calls: usize,
    pub hit_rate: f64,
    pub local_share: f64,
    pub cloud_calls: u64,
    pub cost_usd: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    /// Lines pre-generated, and those never served during the session.
    pub generated: usize,
    pub wasted: usize,
    /// Per source: lines pre-generated, and those served.
    pub by_source: BTreeMap<CandidateSource, (usize, usize)>,
    pub pregen: PregenMetrics,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

pub fn config() -> Config {
    Config::parse(json!({
        "namespace": "replay",
        "cloud": {"providers": {"gateway": {"kind": "openai", "baseUrl": "https://mock/v1"}}},
        // REPLAY_IDLE_MS=1000 replays with a shorter idle gate (a game whose players never rest 2 s may set one).
        "pregen": {"gates": {"idleMs": std::env::var("REPLAY_IDLE_MS").ok().and_then(|v| v.parse::<u32>().ok()).unwrap_or(2000)}},
    }))
    .expect("the replay's config")
}

/// Replays `trace` with pre-generation off or on.
pub fn replay(trace: &Trace, pregen_on: bool) -> Report {
    let cfg = config();
    let clock = FakeClock::new(trace.header.start_wall_ms);
    let idle = SimIdle::new(clock.clone());
    let cloud = Rc::new(Cloud::new(&idle));
    // The router leaves a cloud call the player stopped waiting for (`waitMs`) running here, as the runtime does.
    let spawner = SimSpawner::default();
    let ls = Rc::new(MemoryStore::new("localStorage"));
    let idb = Rc::new(MemoryStore::new("indexedDB"));
    let rc_clock: Rc<dyn Clock> = Rc::new(clock.clone());
    let cache = Rc::new(ResponseCache::new(cfg.cache.clone(), rc_clock.clone(), Some(ls.clone()), Some(idb), None));
    run(&idle, cache.start(&DeviceSnapshot::default()));
    let local: Rc<dyn LocalResponder> = Rc::new(Local { idle: idle.clone() });
    let router = |seed| {
        let ports = RouterPorts {
            clock: rc_clock.clone(),
            http: cloud.clone(),
            idle: Rc::new(idle.clone()),
            rng: Rc::new(SeededRng::new(seed)),
            store: Some(ls.clone()),
            lock: None,
            spawner: Some(Rc::new(spawner.clone())),
        };
        let r = Router::new(&cfg.cloud, &cfg.namespace, ports);
        r.set_local_responder(Some(local.clone()));
        run(&idle, r.load());
        r
    };
    let game = router(1);
    game.set_response_source(Some(cache.clone() as Rc<dyn ResponseSource>));
    let in_flight: Rc<InFlightLines> = Rc::default();
    let backend = Rc::new(Backend {
        cache: cache.clone(),
        router: Rc::new(router(2)),
        in_flight: in_flight.clone(),
        min_importance: cfg.cloud.min_importance,
        made: RefCell::default(),
    });
    let pregen = Rc::new(run(&idle, Pregen::start(&cfg, rc_clock.clone(), Some(ls.clone()))));

    let call = |v: Value| {
        let (game, pregen, idle, in_flight, clock) = (&game, &pregen, &idle, &in_flight, &clock);
        async move {
            let req = GenerateRequest::parse(v).expect("a trace's request parses");
            let key = cache_key(&req).id();
            // As `Runtime::generate`: a pre-generation of this line in flight is joined within `waitMs`.
            let r = join_or_generate(game, in_flight, pregen, idle, clock, req.clone()).await;
            if std::env::var_os("REPLAY_DEBUG").is_some() {
                let day = (idle.clock.now_ms() - trace.header.start_wall_ms) / 86_400_000.0;
                println!(
                    "call {} {} {} {:?} cached {} source {} day {day:.3}",
                    key, req.npc.id, req.kind, req.context.player_text, r.cached, r.source
                );
            }
            if r.cached {
                pregen.served(&key);
            }
            Call { key, latency_ms: r.latency_ms, cached: r.cached, cloud_line: r.text.starts_with(CLOUD_LINE) }
        }
    };
    let drive = async {
        let mut calls = Vec::new();
        let mut pending = FuturesUnordered::new();
        for e in &trace.events {
            let mut wake = pin!(idle.sleep_until(e.t));
            loop {
                if pending.is_empty() {
                    wake.as_mut().await;
                    break;
                }
                match select(wake.as_mut(), pending.next()).await {
                    Either::Left(_) => break,
                    Either::Right((Some(c), _)) => calls.push(c),
                    Either::Right((None, _)) => {}
                }
            }
            match &e.step {
                Step::Observe(v) => pregen.observe_json(v.clone()).expect("a trace's event is valid"),
                Step::Device(d) => {
                    pregen.set_device(d.snapshot());
                    game.set_device(&d.snapshot());
                }
                Step::Generate(v) => pending.push(call(v.clone())),
            }
        }
        while let Some(c) = pending.next().await {
            calls.push(c);
        }
        calls
    };
    let session = async {
        if pregen_on {
            let backend_dyn: Rc<dyn PregenBackend> = backend.clone();
            let idle_dyn: Rc<dyn IdleScheduler> = Rc::new(idle.clone());
            let looping = pregen_loop(Rc::downgrade(&pregen), backend_dyn, idle_dyn);
            match select(pin!(drive), pin!(looping)).await {
                Either::Left((calls, _)) => calls,
                Either::Right(_) => Vec::new(),
            }
        } else {
            drive.await
        }
    };
    let calls: Vec<Call> = run(&idle, async {
        match select(pin!(session), pin!(spawner.drive(false))).await {
            Either::Left((calls, _)) => calls,
            Either::Right(_) => Vec::new(),
        }
    });
    // The cloud calls still running when the session ends are paid for too.
    run(&idle, spawner.drive(true));

    let hit_keys: HashSet<&str> = calls.iter().filter(|c| c.cached).map(|c| c.key.as_str()).collect();
    let made = backend.made.borrow();
    // Per generation, as the product counts it: a line regenerated after its TTL and served once is one used and
    // one wasted, not two used (the key alone would hide the regenerations).
    let pregen_metrics = pregen.metrics();
    let wasted = made.len().saturating_sub(pregen_metrics.used as usize);
    let mut by_source: BTreeMap<CandidateSource, (usize, usize)> = BTreeMap::new();
    for (k, source) in made.iter() {
        let e = by_source.entry(*source).or_default();
        e.0 += 1;
        e.1 += usize::from(hit_keys.contains(k.as_str()));
    }
    let mut latencies: Vec<f64> = calls.iter().map(|c| c.latency_ms).collect();
    latencies.sort_by(f64::total_cmp);
    let n = calls.len().max(1) as f64;
    let cloud_calls = *cloud.calls.borrow();
    Report {
        calls: calls.len(),
        hit_rate: calls.iter().filter(|c| c.cached).count() as f64 / n,
        local_share: calls.iter().filter(|c| !c.cloud_line).count() as f64 / n,
        cloud_calls,
        cost_usd: cloud.cost_usd(&ModelTable::from_config(&cfg.cloud)),
        p50_ms: percentile(&latencies, 0.5),
        p95_ms: percentile(&latencies, 0.95),
        generated: made.len(),
        wasted,
        by_source,
        pregen: pregen_metrics,
    }
}
