//! The conditions under which the loop may work (docs/design.md §7 and §10): the page visible, the player idle
//! for 2 s, no critical moment, the battery above 20 % (30 % of the work down to 10 %, none below), an
//! unmetered connection or pre-generation budget left. Each is a config option; every decision is counted.
use std::collections::BTreeMap;

use crate::config::pregen::GateConfig;
use crate::ports::{DeviceSnapshot, Visibility};
use crate::vocab::{GateDecision, PregenGate};

/// What the gates look at.
#[derive(Debug, Clone, Copy)]
pub struct GateInputs<'a> {
    pub enabled: bool,
    pub device: &'a DeviceSnapshot,
    /// Monotonic ms since the player's last input.
    pub idle_for_ms: f64,
    pub critical: bool,
    /// Pre-generation budget left today (USD).
    pub credit_usd: f64,
}

/// The outcome: how much of a warm-up may run (1 all of it, `throttleShare` on a low battery, 0 none), and each
/// gate's decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub share: f64,
    pub decisions: Vec<(PregenGate, GateDecision)>,
    /// When the idle timer is the only gate closed: the ms until it opens, so the loop can look again then rather
    /// than at its next tick.
    pub idle_opens_in_ms: Option<f64>,
}

impl Verdict {
    pub fn blocked_by(&self) -> Option<PregenGate> {
        self.decisions.iter().find(|(_, d)| *d == GateDecision::Block).map(|(g, _)| *g)
    }
}

/// A connection is taken as metered when the browser says the user wants to save data, or when it reports a
/// cellular-class speed (2g/3g): the browser exposes no "wifi" flag everywhere (`navigator.connection.type` is
/// Chromium on Android only), so this is the approximation docs/design.md §7 allows.
pub fn metered(device: &DeviceSnapshot) -> bool {
    device.save_data == Some(true)
        || matches!(device.effective_type.as_deref(), Some("slow-2g") | Some("2g") | Some("3g"))
}

/// Decides every gate (a gate turned off passes).
pub fn check(cfg: &GateConfig, i: &GateInputs) -> Verdict {
    let pass_if = |ok: bool| if ok { GateDecision::Pass } else { GateDecision::Block };
    let battery = match (i.device.battery_level, i.device.charging) {
        (_, Some(true)) | (None, _) => GateDecision::Pass,
        (Some(level), _) if level > cfg.throttle_below => GateDecision::Pass,
        (Some(level), _) if level >= cfg.off_below => GateDecision::Throttle,
        _ => GateDecision::Block,
    };
    let decisions = vec![
        (PregenGate::Enabled, pass_if(i.enabled)),
        (PregenGate::Visible, pass_if(!cfg.visible || i.device.visibility != Some(Visibility::Hidden))),
        (PregenGate::Idle, pass_if(!cfg.idle || i.idle_for_ms >= f64::from(cfg.idle_ms))),
        (PregenGate::Critical, pass_if(!cfg.critical || !i.critical)),
        (PregenGate::Battery, if cfg.battery { battery } else { GateDecision::Pass }),
        (PregenGate::Network, pass_if(!cfg.network || !metered(i.device) || i.credit_usd > 0.0)),
    ];
    let mut blocked = decisions.iter().filter(|(_, d)| *d == GateDecision::Block).map(|(g, _)| *g);
    let (first, second) = (blocked.next(), blocked.next());
    let share = if first.is_some() {
        0.0
    } else if decisions.iter().any(|(_, d)| *d == GateDecision::Throttle) {
        cfg.throttle_share
    } else {
        1.0
    };
    let idle_opens_in_ms = (first == Some(PregenGate::Idle) && second.is_none())
        .then(|| (f64::from(cfg.idle_ms) - i.idle_for_ms).max(0.0));
    Verdict { share, decisions, idle_opens_in_ms }
}

/// Decisions counted per gate.
pub type GateCounts = BTreeMap<PregenGate, BTreeMap<GateDecision, u64>>;

pub fn count(counts: &mut GateCounts, verdict: &Verdict) {
    for (gate, decision) in &verdict.decisions {
        *counts.entry(*gate).or_default().entry(*decision).or_default() += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(device: &DeviceSnapshot) -> GateInputs<'_> {
        GateInputs { enabled: true, device, idle_for_ms: 5_000.0, critical: false, credit_usd: 10.0 }
    }

    fn battery(level: f64, charging: bool) -> DeviceSnapshot {
        DeviceSnapshot { battery_level: Some(level), charging: Some(charging), ..Default::default() }
    }

    #[test]
    fn every_gate_blocks_on_its_own() {
        let cfg = GateConfig::default();
        let dev = DeviceSnapshot::default();
        assert_eq!(check(&cfg, &inputs(&dev)).share, 1.0, "an unknown device passes");
        let hidden = DeviceSnapshot { visibility: Some(Visibility::Hidden), ..Default::default() };
        assert_eq!(check(&cfg, &inputs(&hidden)).blocked_by(), Some(PregenGate::Visible));
        let busy = GateInputs { idle_for_ms: 1_999.0, ..inputs(&dev) };
        assert_eq!(check(&cfg, &busy).blocked_by(), Some(PregenGate::Idle));
        assert_eq!(check(&cfg, &busy).idle_opens_in_ms, Some(1.0), "the loop looks again when the idle gate opens");
        let busy_hidden = GateInputs { idle_for_ms: 1_000.0, ..inputs(&hidden) };
        assert_eq!(check(&cfg, &busy_hidden).idle_opens_in_ms, None, "another gate is closed too");
        assert_eq!(check(&cfg, &inputs(&dev)).idle_opens_in_ms, None);
        let critical = GateInputs { critical: true, ..inputs(&dev) };
        assert_eq!(check(&cfg, &critical).blocked_by(), Some(PregenGate::Critical));
        let off = GateInputs { enabled: false, ..inputs(&dev) };
        assert_eq!(check(&cfg, &off).blocked_by(), Some(PregenGate::Enabled));
        let cellular = DeviceSnapshot { effective_type: Some("3g".into()), ..Default::default() };
        let broke = GateInputs { credit_usd: 0.0, ..inputs(&cellular) };
        assert_eq!(check(&cfg, &broke).blocked_by(), Some(PregenGate::Network));
        assert_eq!(check(&cfg, &inputs(&cellular)).share, 1.0, "metered with credit left passes");
        let wifi = DeviceSnapshot { effective_type: Some("4g".into()), ..Default::default() };
        assert_eq!(check(&cfg, &GateInputs { credit_usd: 0.0, ..inputs(&wifi) }).share, 1.0, "unmetered passes");
        let save = DeviceSnapshot { save_data: Some(true), ..Default::default() };
        assert!(metered(&save));
    }

    #[test]
    fn the_battery_throttles_below_20_and_stops_below_10_unless_charging() {
        let cfg = GateConfig::default();
        let share = |d: DeviceSnapshot| check(&cfg, &inputs(&d)).share;
        assert_eq!(share(battery(0.21, false)), 1.0);
        assert_eq!(share(battery(0.2, false)), 0.3);
        assert_eq!(share(battery(0.1, false)), 0.3);
        assert_eq!(share(battery(0.09, false)), 0.0);
        assert_eq!(share(battery(0.05, true)), 1.0);
    }

    #[test]
    fn a_gate_turned_off_passes_and_decisions_are_counted() {
        let cfg = GateConfig { idle: false, critical: false, battery: false, ..GateConfig::default() };
        let low = battery(0.01, false);
        let v = check(&cfg, &GateInputs { idle_for_ms: 0.0, critical: true, ..inputs(&low) });
        assert_eq!(v.share, 1.0);
        let mut counts = GateCounts::new();
        count(&mut counts, &v);
        count(&mut counts, &check(&GateConfig::default(), &inputs(&low)));
        assert_eq!(counts[&PregenGate::Battery][&GateDecision::Pass], 1);
        assert_eq!(counts[&PregenGate::Battery][&GateDecision::Block], 1);
        assert_eq!(counts[&PregenGate::Idle][&GateDecision::Pass], 2);
    }
}
