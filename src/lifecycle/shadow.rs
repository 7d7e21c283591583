//! The shadow check (the design's HotSwappableModel comparison, docs/design.md section 8): the new model runs
//! beside the serving one on sample inputs, and serves only if it agrees closely enough. An output the release
//! declares changed on purpose is judged instead on the release's labelled examples, where it must do no worse.
use serde::{Deserialize, Serialize};

use crate::config::ShadowConfig;
use crate::model::{Analysis, Analyzer, ModelError};
use crate::ports::LocalFuture;
use crate::vocab::ShadowMeasure;

/// The outputs of `analyze()`, the ones compared. The embedding is not: it is read only against the response bank
/// shipped with the same release.
const OUTPUTS: [&str; 3] = ["sentiment", "personality", "relationship"];
/// Inputs used when a release ships no samples and the player has said nothing yet (ours): lines of the kinds a
/// game sees, from warm to hostile.
const DEFAULT_SAMPLES: [&str; 12] = [
    "Hello there, traveller.",
    "Thank you so much, you saved my life!",
    "Get out of my sight before I lose my temper.",
    "Where can I find the blacksmith?",
    "I don't trust you, and I never will.",
    "Would you like to join us for dinner tonight?",
    "I'm so sorry for what happened to your brother.",
    "Hand over the gold or you'll regret it.",
    "The weather has been strange lately.",
    "You are the kindest soul in this village.",
    "I suppose that could work, if we're careful.",
    "Leave me alone.",
];
/// Float noise allowed when "no worse" compares two errors.
const EPSILON: f64 = 1e-9;

/// Awaited between two inputs, so that the check (two inferences per input, on the main thread) lets the game
/// draw frames in between.
pub type Pause<'a> = &'a dyn Fn() -> LocalFuture<'a, ()>;

/// The validation set a release ships (the file its manifest's `validation` names).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ValidationSet {
    /// Inputs for the comparison with the serving model.
    pub samples: Vec<String>,
    /// Examples with the expected value of one or more outputs, for the outputs the release changes on purpose.
    pub labelled: Vec<Labelled>,
}

/// One labelled example: a text and what some outputs should be for it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Labelled {
    pub text: String,
    /// The sentiment label ("negative", "neutral", "positive").
    pub sentiment: Option<String>,
    /// The five personality scores, 0..1.
    pub personality: Option<Vec<f32>>,
    /// The affinity, -1..1.
    pub relationship: Option<f32>,
}

impl ValidationSet {
    pub fn parse(bytes: &[u8]) -> Result<ValidationSet, ModelError> {
        serde_json::from_slice(bytes).map_err(|e| ModelError::Load(format!("the validation set is not valid: {e}")))
    }
}

/// What the shadow check found (`modelStatus().shadow` and the `modelShadowResult` event).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShadowResult {
    pub passed: bool,
    /// Why it failed, in words.
    pub reason: Option<String>,
    /// Inputs compared, of them the player's recent ones (never sent anywhere).
    pub samples: u32,
    pub live_samples: u32,
    /// The share of inputs on whose sentiment label both models agree; `None` when sentiment is changed on purpose.
    pub agreement: Option<f64>,
    pub min_agreement: f64,
    /// The largest mean absolute difference among the outputs judged by distance.
    pub mean_abs_diff: f64,
    pub max_mean_abs_diff: f64,
    pub outputs: Vec<OutputCheck>,
}

/// How one output fared.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputCheck {
    pub name: String,
    pub measure: ShadowMeasure,
    /// Mean absolute difference from the serving model's output (reported for both measures).
    pub mean_abs_diff: f64,
    /// For `labelled`: the examples used, and each model's error on them (sentiment: the share wrong; the others:
    /// the mean absolute error).
    pub labelled: Option<u32>,
    pub current_error: Option<f64>,
    pub candidate_error: Option<f64>,
    pub passed: bool,
}

/// The inputs of a check: the player's recent lines first, then the release's samples (or ours), `size` at most.
pub fn inputs(live: &[String], validation: Option<&ValidationSet>, size: usize) -> (Vec<String>, u32) {
    let mut out: Vec<String> = live.iter().rev().take(size).cloned().collect();
    let live_count = out.len() as u32;
    let shipped: Vec<String> = match validation.map(|v| v.samples.as_slice()).filter(|s| !s.is_empty()) {
        Some(samples) => samples.to_vec(),
        None => DEFAULT_SAMPLES.iter().map(|s| s.to_string()).collect(),
    };
    out.extend(shipped.into_iter().take(size.saturating_sub(out.len())));
    (out, live_count)
}

fn output<'a>(a: &'a Analysis, name: &str) -> std::borrow::Cow<'a, [f32]> {
    match name {
        "sentiment" => a.sentiment.probs.as_slice().into(),
        "personality" => a.personality.as_slice().into(),
        _ => vec![a.relationship].into(),
    }
}

fn mean_abs(a: &[f32], b: &[f32]) -> f64 {
    let n = a.len().max(b.len()).max(1) as f64;
    // A length mismatch counts each missing value as a full difference of 1.
    let missing = a.len().abs_diff(b.len()) as f64;
    (a.iter().zip(b).map(|(x, y)| f64::from((x - y).abs())).sum::<f64>() + missing) / n
}

/// A model's error on the labelled examples of `name`: the share of wrong labels, or the mean absolute error.
/// `None` when no example labels it.
async fn error_on(
    model: &Analyzer,
    name: &str,
    labelled: &[Labelled],
    pause: Pause<'_>,
) -> Result<Option<(f64, u32)>, ModelError> {
    let (mut sum, mut n) = (0.0, 0u32);
    for ex in labelled {
        pause().await;
        let want: Option<Vec<f32>> = match name {
            "personality" => ex.personality.clone(),
            "relationship" => ex.relationship.map(|r| vec![r]),
            _ => None,
        };
        let label = if name == "sentiment" { ex.sentiment.as_deref() } else { None };
        if want.is_none() && label.is_none() {
            continue;
        }
        let got = model.analyze(&ex.text, &|| 0.0)?;
        sum += match (label, &want) {
            (Some(l), _) => f64::from(u8::from(got.sentiment.label != l)),
            (None, Some(w)) => mean_abs(&output(&got, name), w),
            (None, None) => 0.0,
        };
        n += 1;
    }
    Ok((n > 0).then(|| (sum / f64::from(n), n)))
}

/// Runs `candidate` beside `current` on `inputs` (and on the labelled examples of the outputs in `changed`) and
/// judges it: every output not in `changed` within `max_mean_abs_diff` on average, sentiment labels agreeing on
/// at least `min_agreement` of the inputs, and every output in `changed` no worse than `current` on its labelled
/// examples. An input the candidate cannot run fails the check. `pause` is awaited between inputs.
#[allow(clippy::too_many_arguments)]
pub async fn compare(
    current: &Analyzer,
    candidate: &Analyzer,
    inputs: &[String],
    live_samples: u32,
    validation: Option<&ValidationSet>,
    changed: &[String],
    config: &ShadowConfig,
    pause: Pause<'_>,
) -> Result<ShadowResult, ModelError> {
    let mut result = ShadowResult {
        passed: false,
        reason: None,
        samples: inputs.len() as u32,
        live_samples,
        agreement: None,
        min_agreement: config.min_agreement,
        mean_abs_diff: 0.0,
        max_mean_abs_diff: config.max_mean_abs_diff,
        outputs: Vec::new(),
    };
    let mut sums = [0.0f64; OUTPUTS.len()];
    let mut agree = 0u32;
    for text in inputs {
        pause().await;
        let old = current.analyze(text, &|| 0.0)?;
        let new = match candidate.analyze(text, &|| 0.0) {
            Ok(a) => a,
            Err(e) => {
                result.reason = Some(format!("the new model failed on a sample input: {e}"));
                return Ok(result);
            }
        };
        for (sum, name) in sums.iter_mut().zip(OUTPUTS) {
            *sum += mean_abs(&output(&old, name), &output(&new, name));
        }
        agree += u32::from(old.sentiment.label == new.sentiment.label);
    }
    let n = inputs.len().max(1) as f64;
    let mut failures = Vec::new();
    for (sum, name) in sums.iter().zip(OUTPUTS) {
        let diff = sum / n;
        let mut check = OutputCheck {
            name: name.to_string(),
            measure: ShadowMeasure::Distance,
            mean_abs_diff: diff,
            labelled: None,
            current_error: None,
            candidate_error: None,
            passed: diff < config.max_mean_abs_diff,
        };
        if changed.iter().any(|c| c == name) {
            check.measure = ShadowMeasure::Labelled;
            let labelled = validation.map(|v| v.labelled.as_slice()).unwrap_or_default();
            let (old, new) =
                (error_on(current, name, labelled, pause).await?, error_on(candidate, name, labelled, pause).await?);
            check.labelled = new.map(|(_, n)| n);
            check.current_error = old.map(|(e, _)| e);
            check.candidate_error = new.map(|(e, _)| e);
            check.passed = matches!((old, new), (Some((o, _)), Some((c, _))) if c <= o + EPSILON);
            if new.is_none() {
                failures.push(format!("{name} is declared changed but no labelled example gives it"));
            } else if !check.passed {
                failures.push(format!("{name} does worse than the running model on the labelled examples"));
            }
        } else {
            result.mean_abs_diff = result.mean_abs_diff.max(diff);
            if !check.passed {
                failures.push(format!("{name} differs by {diff:.3} on average (at most {})", config.max_mean_abs_diff));
            }
        }
        result.outputs.push(check);
    }
    if let Some(other) = changed.iter().find(|c| !OUTPUTS.contains(&c.as_str())) {
        failures.push(format!("{other} is declared changed, but the shadow check cannot judge it"));
    }
    if !changed.iter().any(|c| c == "sentiment") {
        let agreement = f64::from(agree) / n;
        result.agreement = Some(agreement);
        if agreement < config.min_agreement {
            failures.push(format!(
                "the sentiment labels agree on {agreement:.2} of inputs (at least {})",
                config.min_agreement
            ));
        }
    }
    result.passed = failures.is_empty();
    result.reason = (!failures.is_empty()).then(|| failures.join("; "));
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_take_the_recent_live_lines_first_then_the_shipped_samples() {
        let live: Vec<String> = (0..40).map(|i| format!("live {i}")).collect();
        let shipped = ValidationSet { samples: vec!["a".into(), "b".into()], labelled: vec![] };
        let (got, n) = inputs(&live, Some(&shipped), 64);
        assert_eq!((got.len(), n), (42, 40));
        assert_eq!((got[0].as_str(), got[40].as_str()), ("live 39", "a"), "newest first");
        let (got, n) = inputs(&[], None, 5);
        assert_eq!((got.len(), n), (5, 0), "our samples when none are shipped");
        assert_eq!(inputs(&live, Some(&shipped), 3).0, ["live 39", "live 38", "live 37"]);
    }

    #[test]
    fn a_length_mismatch_is_a_difference() {
        assert_eq!(mean_abs(&[0.5, 0.5], &[0.5, 0.5]), 0.0);
        assert!((mean_abs(&[0.0, 1.0], &[0.5, 0.5]) - 0.5).abs() < 1e-9);
        assert_eq!(mean_abs(&[0.2], &[0.2, 0.0]), 0.5);
    }

    #[test]
    fn a_validation_set_is_strict_json() {
        let v = ValidationSet::parse(br#"{"samples": ["hi"], "labelled": [{"text": "x", "relationship": 0.5}]}"#);
        assert_eq!(v.unwrap().labelled[0].relationship, Some(0.5));
        assert!(ValidationSet::parse(br#"{"sample": []}"#).is_err(), "a misspelled key is refused");
    }
}
