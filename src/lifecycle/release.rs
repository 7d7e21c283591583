//! Which of the server's manifests is an update, and when the runtime may fetch one on its own: the design's
//! ModelVersionManager (docs/design.md section 8), with release channels and the runtime a release needs.
use std::cmp::Ordering;

use super::delivery::runtime_too_old;
use crate::config::UpdateConfig;
use crate::model::Manifest;
use crate::ports::DeviceSnapshot;
use crate::vocab::{UpdateDeferral, UpdateRejection};

/// Whether `offered` may replace `current`: a strictly higher version, of a channel in `channels`, that this
/// `runtime` can run and that was not rolled back here (`blocked`).
pub fn judge(
    current: &Manifest,
    offered: &Manifest,
    channels: &[String],
    runtime: &str,
    blocked: &[String],
) -> Result<(), UpdateRejection> {
    // Both parsed (Manifest::parse checks versions); an unreadable one counts as no newer.
    let order = match (current.semver(), offered.semver()) {
        (Ok(c), Ok(o)) => o.cmp(&c),
        _ => Ordering::Equal,
    };
    match order {
        Ordering::Less => return Err(UpdateRejection::Older),
        Ordering::Equal => return Err(UpdateRejection::SameVersion),
        Ordering::Greater => {}
    }
    if !channels.contains(&offered.channel) {
        return Err(UpdateRejection::OtherChannel);
    }
    if blocked.contains(&offered.version) {
        return Err(UpdateRejection::RolledBack);
    }
    if runtime_too_old(offered, runtime) {
        return Err(UpdateRejection::RuntimeTooOld);
    }
    Ok(())
}

/// The auto-update gate: `None` when an automatic download may start now. Browsers do not say "Wi-Fi": Save-Data
/// or a 2G/3G effective type counts as metered. What the browser does not report counts as allowed.
pub fn gate(device: &DeviceSnapshot, config: &UpdateConfig) -> Option<UpdateDeferral> {
    if !config.auto {
        return Some(UpdateDeferral::Disabled);
    }
    let slow = matches!(device.effective_type.as_deref(), Some("slow-2g" | "2g" | "3g"));
    if config.unmetered_only && (device.save_data == Some(true) || slow) {
        return Some(UpdateDeferral::Metered);
    }
    let low = device.battery_level.is_some_and(|l| l < config.min_battery);
    if low && device.charging != Some(true) {
        return Some(UpdateDeferral::LowBattery);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(edit: impl FnOnce(&mut serde_json::Value)) -> Manifest {
        let path = format!("{}/models/manifest.json", env!("CARGO_MANIFEST_DIR"));
        let mut m: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        edit(&mut m);
        Manifest::parse(&m.to_string()).unwrap()
    }

    fn release(version: &str) -> Manifest {
        manifest(|m| m["version"] = version.into())
    }

    #[test]
    fn only_a_higher_version_of_an_accepted_channel_that_this_runtime_runs_is_an_update() {
        let current = release("2.1.0");
        let stable = ["stable".to_string()];
        let judge = |offered: &Manifest| judge(&current, offered, &stable, "0.1.0", &["2.3.0".to_string()]);
        assert_eq!(judge(&release("2.2.0")), Ok(()));
        assert_eq!(judge(&release("2.1.1")), Ok(()));
        assert_eq!(judge(&release("2.0.9")), Err(UpdateRejection::Older));
        assert_eq!(judge(&release("2.1.0-rc.1")), Err(UpdateRejection::Older), "a pre-release of the running one");
        assert_eq!(judge(&release("2.1.0")), Err(UpdateRejection::SameVersion));
        assert_eq!(judge(&release("2.3.0")), Err(UpdateRejection::RolledBack));
        let beta = manifest(|m| {
            m["version"] = "2.2.0-beta.1".into();
            m["channel"] = "beta".into();
        });
        assert_eq!(judge(&beta), Err(UpdateRejection::OtherChannel));
        let both = ["stable".to_string(), "beta".to_string()];
        assert_eq!(super::judge(&current, &beta, &both, "0.1.0", &[]), Ok(()), "a game that takes beta");
        let needs = |min: &str| {
            manifest(|m| {
                m["version"] = "2.2.0".into();
                m["minRuntime"] = min.into();
            })
        };
        assert_eq!(judge(&needs("0.2.0")), Err(UpdateRejection::RuntimeTooOld));
        assert_eq!(judge(&needs("0.1.0")), Ok(()), "exactly this runtime");
        assert_eq!(
            super::judge(&current, &needs("0.1.0"), &stable, "0.1.0-dev", &[]),
            Err(UpdateRejection::RuntimeTooOld)
        );
    }

    #[test]
    fn the_gate_wants_an_unmetered_link_and_half_a_battery_or_a_charger() {
        let config = UpdateConfig::default();
        let device = |f: fn(&mut DeviceSnapshot)| {
            let mut d = DeviceSnapshot::default();
            f(&mut d);
            gate(&d, &config)
        };
        assert_eq!(device(|_| {}), None, "nothing known: allowed");
        assert_eq!(device(|d| d.effective_type = Some("4g".into())), None);
        assert_eq!(device(|d| d.effective_type = Some("3g".into())), Some(UpdateDeferral::Metered));
        assert_eq!(device(|d| d.save_data = Some(true)), Some(UpdateDeferral::Metered));
        assert_eq!(device(|d| d.battery_level = Some(0.49)), Some(UpdateDeferral::LowBattery));
        assert_eq!(device(|d| d.battery_level = Some(0.5)), None, "the design's 50 % is enough");
        let charging = |d: &mut DeviceSnapshot| {
            d.battery_level = Some(0.1);
            d.charging = Some(true);
        };
        assert_eq!(device(charging), None);
        let off = UpdateConfig { auto: false, ..UpdateConfig::default() };
        assert_eq!(gate(&DeviceSnapshot::default(), &off), Some(UpdateDeferral::Disabled));
        let anywhere = UpdateConfig { unmetered_only: false, min_battery: 0.0, ..UpdateConfig::default() };
        let d = DeviceSnapshot { save_data: Some(true), battery_level: Some(0.01), ..Default::default() };
        assert_eq!(gate(&d, &anywhere), None);
    }
}
