//! Quality validation of a line before it is used: below `cloud.qualityThreshold` the router retries on the
//! next-better model. Cheap checks only (the design's NovelQualityValidator is a model-side concern).
use super::request::{Format, GenerateRequest};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QualityIssue {
    Empty,
    TooShort,
    TooLong,
    Refusal,
    BrokeCharacter,
    InvalidJson,
}

impl QualityIssue {
    pub fn as_str(self) -> &'static str {
        match self {
            QualityIssue::Empty => "empty",
            QualityIssue::TooShort => "too short",
            QualityIssue::TooLong => "too long",
            QualityIssue::Refusal => "refusal",
            QualityIssue::BrokeCharacter => "broke character",
            QualityIssue::InvalidJson => "invalid JSON",
        }
    }

    fn score(self) -> f64 {
        match self {
            QualityIssue::Empty | QualityIssue::InvalidJson => 0.0,
            QualityIssue::Refusal => 0.2,
            QualityIssue::BrokeCharacter => 0.3,
            QualityIssue::TooShort => 0.5,
            QualityIssue::TooLong => 0.6,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    /// 0..1; 1 when no issue was found.
    pub score: f64,
    pub issue: Option<QualityIssue>,
}

const REFUSALS: &[&str] = &[
    "i can't help with",
    "i cannot help with",
    "i can't assist",
    "i cannot assist",
    "i'm sorry, but i can",
    "i am sorry, but i can",
    "i'm not able to",
    "i won't be able to",
    "against my guidelines",
    "content policy",
];

const OUT_OF_CHARACTER: &[&str] = &[
    "as an ai",
    "as a language model",
    "i'm an ai",
    "i am an ai",
    "language model",
    "ai assistant",
    "as your assistant",
    "openai",
    "anthropic",
];

/// Roughly 4 characters a token in English; a line may overshoot its budget a little before it is "too long".
const MAX_CHARS_PER_TOKEN: usize = 8;

pub fn validate(text: &str, req: &GenerateRequest) -> Verdict {
    let issue = find_issue(text, req);
    Verdict { score: issue.map_or(1.0, QualityIssue::score), issue }
}

fn find_issue(text: &str, req: &GenerateRequest) -> Option<QualityIssue> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Some(QualityIssue::Empty);
    }
    if req.format == Format::Json {
        return match serde_json::from_str::<serde_json::Value>(trimmed) {
            Ok(v) if v.is_object() => None,
            _ => Some(QualityIssue::InvalidJson),
        };
    }
    let lower = trimmed.to_lowercase();
    if REFUSALS.iter().any(|p| lower.contains(p)) {
        return Some(QualityIssue::Refusal);
    }
    if OUT_OF_CHARACTER.iter().any(|p| lower.contains(p)) {
        return Some(QualityIssue::BrokeCharacter);
    }
    if trimmed.chars().filter(|c| c.is_alphanumeric()).count() < 2 {
        return Some(QualityIssue::TooShort);
    }
    if trimmed.chars().count() > req.max_tokens as usize * MAX_CHARS_PER_TOKEN {
        return Some(QualityIssue::TooLong);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req(extra: serde_json::Value) -> GenerateRequest {
        let mut v = json!({"npc": {"id": "a", "name": "Ann"}, "maxTokens": 20});
        if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        GenerateRequest::parse(v).unwrap()
    }

    #[test]
    fn each_issue_is_found_and_scores_below_the_default_threshold() {
        let r = req(json!({}));
        let cases = [
            ("  ", QualityIssue::Empty),
            ("?!", QualityIssue::TooShort),
            ("I'm sorry, but I can't continue this conversation.", QualityIssue::Refusal),
            ("As an AI, I don't have feelings about the harvest.", QualityIssue::BrokeCharacter),
            (&"word ".repeat(40), QualityIssue::TooLong),
        ];
        for (text, issue) in cases {
            let v = validate(text, &r);
            assert_eq!(v.issue, Some(issue), "{text:?}");
            assert!(v.score < 0.7, "{text:?}");
        }
        let json_req = req(json!({"format": "json"}));
        assert_eq!(validate("{\"line\": \"hi\"", &json_req).issue, Some(QualityIssue::InvalidJson));
        assert_eq!(validate("[1]", &json_req).issue, Some(QualityIssue::InvalidJson));
        assert_eq!(validate("{\"line\": \"Hi.\"}", &json_req).score, 1.0);
    }

    #[test]
    fn an_ordinary_line_passes() {
        let v = validate("Ha! The forge is hot today, traveller.", &req(json!({})));
        assert_eq!(v, Verdict { score: 1.0, issue: None });
    }
}
