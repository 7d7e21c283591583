//! The session trace format: JSON lines. The first line is `{"trace": {player, seed, startWallMs, about}}`;
//! every other line is one event at `t` ms after the start of the session (wall time `startWallMs + t`), in
//! order:
//!
//! - `{"t": 1200, "observe": {...}}`: an `observe()` event (`ObserveEvent`, tagged by `type`);
//! - `{"t": 1200, "generate": {...}}`: a `generate()` request, as the game sends it;
//! - `{"t": 1200, "device": {"visibility": "hidden", "batteryLevel": 0.5, ...}}`: what the device reports now.
use serde::{Deserialize, Serialize};
use serde_json::Value;
use unwritten_ai::ports::{DeviceSnapshot, Visibility};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Header {
    /// The kind of player the generator modelled.
    pub player: String,
    pub seed: u64,
    /// Wall clock at t = 0, ms since the epoch (weekdays and UTC days come from it).
    pub start_wall_ms: f64,
    pub about: String,
}

/// What the device reports (the members of `DeviceSnapshot` a replay needs).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Device {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub battery_level: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charging: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_type: Option<String>,
}

impl Device {
    pub fn snapshot(&self) -> DeviceSnapshot {
        DeviceSnapshot {
            battery_level: self.battery_level,
            charging: self.charging,
            effective_type: self.effective_type.clone(),
            visibility: match self.visibility.as_deref() {
                Some("hidden") => Some(Visibility::Hidden),
                Some(_) => Some(Visibility::Visible),
                None => None,
            },
            ..Default::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Observe(Value),
    Generate(Value),
    Device(Device),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub t: f64,
    pub step: Step,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    pub header: Header,
    pub events: Vec<Event>,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Line {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    trace: Option<Header>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    t: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    observe: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    generate: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    device: Option<Device>,
}

impl Trace {
    pub fn to_jsonl(&self) -> String {
        let mut out = String::new();
        let head = Line { trace: Some(self.header.clone()), ..Default::default() };
        out.push_str(&serde_json::to_string(&head).unwrap_or_default());
        out.push('\n');
        for e in &self.events {
            let mut line = Line { t: Some(e.t), ..Default::default() };
            match &e.step {
                Step::Observe(v) => line.observe = Some(v.clone()),
                Step::Generate(v) => line.generate = Some(v.clone()),
                Step::Device(d) => line.device = Some(d.clone()),
            }
            out.push_str(&serde_json::to_string(&line).unwrap_or_default());
            out.push('\n');
        }
        out
    }

    pub fn parse(text: &str) -> Result<Trace, String> {
        let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
        let (_, first) = lines.next().ok_or("empty trace")?;
        let head: Line = serde_json::from_str(first).map_err(|e| format!("line 1: {e}"))?;
        let header = head.trace.ok_or("line 1: expected {\"trace\": ...}")?;
        let mut events = Vec::new();
        let mut last = 0.0;
        for (n, text) in lines {
            let l: Line = serde_json::from_str(text).map_err(|e| format!("line {}: {e}", n + 1))?;
            let t = l.t.ok_or_else(|| format!("line {}: no t", n + 1))?;
            if t < last {
                return Err(format!("line {}: t goes back", n + 1));
            }
            last = t;
            let step = match (l.observe, l.generate, l.device) {
                (Some(v), None, None) => Step::Observe(v),
                (None, Some(v), None) => Step::Generate(v),
                (None, None, Some(d)) => Step::Device(d),
                _ => return Err(format!("line {}: expected one of observe, generate, device", n + 1)),
            };
            events.push(Event { t, step });
        }
        Ok(Trace { header, events })
    }
}
