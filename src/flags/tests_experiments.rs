//! Experiments and rollouts through [`Flags`]: the documented hash, sticky assignment, exposures, the player id.
use pollster::block_on;
use serde_json::json;

use super::hash::{bucket_ranges, choose_variation, fnv1a32, hash};
use super::tests::{Device, URL};
use super::*;
use crate::vocab::VariantReason;

fn experiment(weights: [f64; 2]) -> serde_json::Value {
    json!({"variants": ["A", "B"], "weights": weights})
}

fn config(player: Option<&str>, exp: serde_json::Value) -> serde_json::Value {
    let mut flags = json!({"url": URL, "experiments": {"local_first": exp}});
    if let Some(p) = player {
        flags["playerId"] = json!(p);
    }
    json!({ "flags": flags })
}

fn variant(flags: &Flags) -> (String, VariantReason, bool) {
    let a = flags.variant("local_first").unwrap();
    (a.variant, a.reason, a.first_exposure)
}

#[test]
fn assignment_is_the_documented_formula() {
    let device = Device::new();
    for i in 0..200 {
        let player = format!("player-{i}");
        let flags = device.flags(config(Some(&player), experiment([0.3, 0.7])));
        // By hand, as a game server would: n from the two FNV-1a passes, then the weights' ranges.
        let n = f64::from(fnv1a32(&fnv1a32(&format!("local_first{player}")).to_string()) % 10_000) / 10_000.0;
        let want = if n < 0.3 { "A" } else { "B" };
        let got = flags.variant("local_first").unwrap();
        assert_eq!((got.variant.as_str(), got.index), (want, u32::from(want == "B")), "{player}");
        assert!(got.in_experiment);
    }
    // The worked example of the module docs.
    assert_eq!(fnv1a32("seeda"), 717_764_279);
    assert_eq!(fnv1a32("717764279"), 2_503_390_505);
    assert_eq!(hash("seed", "a", 2), Some(0.0505));
}

#[test]
fn weights_split_players_as_asked() {
    let exp: ExperimentConfig = serde_json::from_value(experiment([0.2, 0.8])).unwrap();
    let ranges = bucket_ranges(2, exp.coverage, exp.weights.as_deref());
    let b =
        (0..10_000).filter(|i| choose_variation(hash("local_first", &format!("u{i}"), 2).unwrap(), &ranges) == Some(1));
    let share = b.count() as f64 / 10_000.0;
    assert!((share - 0.8).abs() < 0.02, "{share}");
}

#[test]
fn an_assignment_sticks_when_the_weights_change() {
    let device = Device::new();
    // A player the 50/50 split puts in A.
    let player = (0..).map(|i| format!("p{i}")).find(|p| hash("local_first", p, 2).is_some_and(|n| n < 0.5)).unwrap();
    let first = device.flags(config(Some(&player), experiment([0.5, 0.5])));
    assert_eq!(variant(&first), ("A".into(), VariantReason::Assigned, true));
    assert_eq!(variant(&first), ("A".into(), VariantReason::Sticky, false), "exposed once per session");
    block_on(first.save_assignments()).unwrap();

    // Next session: everyone new goes to B, but this player stays in A, and is exposed again (a new session).
    let second = device.flags(config(Some(&player), experiment([0.0, 1.0])));
    assert_eq!(variant(&second), ("A".into(), VariantReason::Sticky, true));
    assert_eq!(variant(&second), ("A".into(), VariantReason::Sticky, false));

    // A new version re-assigns.
    let mut bumped = experiment([0.0, 1.0]);
    bumped["version"] = json!(1);
    let third = device.flags(config(Some(&player), bumped));
    assert_eq!(variant(&third), ("B".into(), VariantReason::Assigned, true));

    // Another player on the same device does not inherit the assignment.
    let other = device.flags(config(Some("someone-else"), experiment([0.0, 1.0])));
    assert_eq!(variant(&other).1, VariantReason::Assigned);
}

#[test]
fn outside_the_coverage_or_inactive_is_the_control_without_an_exposure() {
    let device = Device::new();
    let mut none = experiment([0.5, 0.5]);
    none["coverage"] = json!(0);
    let flags = device.flags(config(Some("p1"), none));
    let a = flags.variant("local_first").unwrap();
    assert_eq!(
        (a.variant.as_str(), a.in_experiment, a.reason, a.first_exposure),
        ("A", false, VariantReason::OutsideCoverage, false)
    );
    assert!(block_on(flags.save_assignments()).is_ok());
    assert!(device.store.bytes() == 0, "nothing to keep");

    let mut off = experiment([0.0, 1.0]);
    off["active"] = json!(false);
    let flags = device.flags(config(Some("p1"), off));
    let a = flags.variant("local_first").unwrap();
    assert_eq!(
        (a.variant.as_str(), a.in_experiment, a.reason, a.first_exposure),
        ("A", false, VariantReason::Inactive, false)
    );
    assert!(flags.variant("no_such_experiment").is_none());
}

#[test]
fn the_document_defines_experiments_and_rollouts_over_the_config() {
    let device = Device::new();
    let mut config = config(Some("p1"), experiment([1.0, 0.0]));
    config["flags"]["rollouts"] = json!([{"key": "model-2.2.0", "percentage": 0}, {"key": "kept", "percentage": 100}]);
    let flags = device.flags(config);
    assert_eq!(variant(&flags).0, "A");
    assert_eq!(
        (flags.rollout("model-2.2.0"), flags.rollout("kept"), flags.rollout("nope")),
        (Some(false), Some(true), None)
    );

    let doc = json!({
        "experiments": {"local_first": {"variants": ["X", "Y"], "weights": [0, 1]}, "new_one": {"variants": ["A", "B"]}},
        "rollouts": [{"key": "model-2.2.0", "percentage": 100}]
    });
    device.serve(doc, "\"a\"");
    block_on(flags.refresh(false));
    assert_eq!(variant(&flags).0, "Y", "the kept A is no variant of the new definition: re-assigned");
    assert!(flags.variant("new_one").is_some());
    assert_eq!(flags.rollout("model-2.2.0"), Some(true));
    assert_eq!(flags.rollout("kept"), Some(true), "the config's, where the document is silent");
    assert_eq!(flags.in_rollout("model-2.2.0", 5.0), in_rollout("model-2.2.0", 5.0, "p1"));
}

#[test]
fn an_anonymous_player_keeps_its_id_and_assignments() {
    let device = Device::new();
    let exp = json!({"variants": ["A", "B", "C", "D", "E", "F", "G", "H"]});
    let first = device.flags(config(None, exp.clone()));
    let id = first.player_id();
    assert_eq!(id.len(), 32);
    let got = variant(&first).0;
    block_on(first.save_assignments()).unwrap();

    let second = device.flags(config(None, exp.clone()));
    assert_eq!(second.player_id(), id);
    assert_eq!(variant(&second), (got, VariantReason::Sticky, true));

    // A configured id never takes over the anonymous record.
    let named = device.flags(config(Some(&id), exp.clone()));
    assert_eq!(variant(&named).1, VariantReason::Assigned);

    // A record another script broke is ignored, and replaced at the next write.
    device.store.insert_raw("flags/unwritten/experiments", b"{\"playerId\": 3}");
    let fresh = device.flags(config(None, exp));
    assert_ne!(fresh.player_id(), id);
    assert_eq!(variant(&fresh).1, VariantReason::Assigned);
    block_on(fresh.save_assignments()).unwrap();
    assert_eq!(device.flags(config(None, json!({"variants": ["A", "B"]}))).player_id(), fresh.player_id());
}
