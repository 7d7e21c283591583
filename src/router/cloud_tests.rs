//! Single-flight bookkeeping of `Cloud::call` on virtual time.
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use serde_json::json;

use super::*;
use crate::router::matrix::{ModelKey, ModelTable};
use crate::testkit::sim::{chat_ok, run, Reply, SimHttp, SimIdle};
use crate::testkit::{FakeClock, SeededRng};

fn cloud(http: Rc<SimHttp>, idle: &SimIdle) -> (Cloud, CloudConfig) {
    let cfg: CloudConfig =
        serde_json::from_value(json!({"providers": {"gateway": {"kind": "openai", "baseUrl": "https://mock/v1"}}}))
            .unwrap();
    let clock: Rc<dyn Clock> = Rc::new(idle.clock.clone());
    let events = Rc::new(EventLog::default());
    let cost = Rc::new(CostTracker::new(cfg.budget.clone(), clock.clone(), events.clone(), None, "t".into()));
    let ports = CloudPorts { clock, http, idle: Rc::new(idle.clone()), rng: Rc::new(SeededRng::new(3)) };
    (Cloud::new(&cfg, ports, cost, events), cfg)
}

fn poll_once<F: Future>(fut: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn a_call_dropped_before_it_ends_leaves_no_single_flight_entry() {
    let idle = SimIdle::new(FakeClock::default());
    let http = Rc::new(SimHttp::new(&idle, |_, _| Reply::Hang));
    let (cloud, cfg) = cloud(http.clone(), &idle);
    let table = ModelTable::from_config(&cfg);
    let spec = table.get(ModelKey::Flash).unwrap();
    let prompt = Prompt { system: "s".into(), user: "u".into(), max_tokens: 10, json: false, thinking_tokens: 0 };
    for round in 0..3 {
        {
            let first = pin!(cloud.call(spec, &prompt, None, 5_000.0));
            let second = pin!(cloud.call(spec, &prompt, None, 5_000.0));
            assert!(poll_once(first).is_pending() && poll_once(second).is_pending());
            assert_eq!(cloud.in_flight_len(), 1, "round {round}: the identical call joined the first");
            // Both callers give up (their step deadline fired): the futures are dropped here.
        }
        assert_eq!(cloud.in_flight_len(), 0, "round {round}: the abandoned call's entry is gone");
    }
    assert_eq!(http.count(), 3, "one request per round");
    assert_eq!(http.aborted.get(), 3, "each abandoned request was aborted");
}

#[test]
fn a_call_that_ends_leaves_no_single_flight_entry() {
    let idle = SimIdle::new(FakeClock::default());
    let http = Rc::new(SimHttp::new(&idle, |_, _| Reply::After(100.0, Ok(chat_ok("Aye.", 10, 2)))));
    let (cloud, cfg) = cloud(http, &idle);
    let table = ModelTable::from_config(&cfg);
    let spec = table.get(ModelKey::Flash).unwrap();
    let prompt = Prompt { system: "s".into(), user: "u".into(), max_tokens: 10, json: false, thinking_tokens: 0 };
    let line = run(&idle, cloud.call(spec, &prompt, None, 5_000.0)).unwrap();
    assert_eq!(line.text, "Aye.");
    assert_eq!(cloud.in_flight_len(), 0);
}
