//! `onReport(cb, everyMs)`: the monitor's periodic report, handed to the game (docs/design.md §9 reports every
//! 5 minutes). There is no network beacon of our own: the game decides where a report goes.
use std::cell::RefCell;
use std::rc::Rc;

use super::{Metrics, Runtime};
use crate::error::Error;

/// The background task of one report subscription.
pub const MONITOR_REPORT: &str = "monitorReport";
/// At most this many subscriptions at once: each is a timer, and a game that subscribes in a loop must hear so.
pub const MAX_REPORTS: usize = 8;
/// The shortest period: the device is re-read for each report.
pub const MIN_REPORT_MS: f64 = 1000.0;

/// Where one report goes.
pub type ReportSink = Box<dyn Fn(Metrics)>;

#[derive(Default)]
pub(super) struct Reports {
    next_id: u32,
    active: Vec<u32>,
}

impl Reports {
    pub(super) fn clear(&mut self) {
        self.active.clear();
    }
}

impl Runtime {
    /// Whether a report of `every_ms` (`None`: the config's default) may start beside `active` others: the rule
    /// `start_reports` applies, also checked on the main thread in worker mode, so both modes throw alike.
    pub fn check_report(every_ms: Option<f64>, active: usize) -> Result<(), Error> {
        if let Some(every) = every_ms {
            if !every.is_finite() || !(MIN_REPORT_MS..=f64::from(i32::MAX)).contains(&every) {
                return Err(Error::invalid_request(
                    "everyMs",
                    format!("expected ms from {MIN_REPORT_MS} to 2147483647"),
                ));
            }
        }
        if active >= MAX_REPORTS {
            return Err(Error::invalid_request(
                "onReport",
                format!("at most {MAX_REPORTS} reports at once: stop one with offReport(id) first"),
            ));
        }
        Ok(())
    }

    /// Calls `sink` with `metrics()` every `every_ms` (default `monitor.reportEveryMs`), after re-reading the device
    /// so the battery drain has its samples, until `stop_reports(id)` or `dispose()`. Returns the id.
    pub fn start_reports(self: &Rc<Self>, every_ms: Option<f64>, sink: ReportSink) -> Result<u32, Error> {
        self.check_alive()?;
        let every = every_ms.unwrap_or(f64::from(self.config.monitor.report_every_ms));
        let id = {
            let mut reports = self.reports.borrow_mut();
            Self::check_report(Some(every), reports.active.len())?;
            reports.next_id = reports.next_id.wrapping_add(1);
            let id = reports.next_id;
            reports.active.push(id);
            id
        };
        // The task holds the runtime weakly: a runtime the game dropped is not kept alive by its report.
        let weak = Rc::downgrade(self);
        let idle = self.ports.idle.clone();
        let period = every as u32;
        self.ports.spawner.spawn(
            MONITOR_REPORT,
            Box::pin(async move {
                loop {
                    idle.sleep(period).await;
                    let Some(rt) = weak.upgrade() else { return };
                    if !rt.reports.borrow().active.contains(&id) {
                        return;
                    }
                    let _ = rt.refresh_device().await;
                    // Stopped, or disposed, while the device was read.
                    if !rt.reports.borrow().active.contains(&id) {
                        return;
                    }
                    match rt.metrics() {
                        Ok(metrics) => sink(metrics),
                        Err(_) => return,
                    }
                }
            }),
        );
        Ok(id)
    }

    /// Stops a report; an unknown id is ignored. True when it was running.
    pub fn stop_reports(&self, id: u32) -> bool {
        let mut reports = self.reports.borrow_mut();
        let before = reports.active.len();
        reports.active.retain(|&a| a != id);
        reports.active.len() != before
    }
}

pub(super) type ReportsCell = RefCell<Reports>;
