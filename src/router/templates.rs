//! The last resort: a line from a small template bank per response type and tone. Always works, costs nothing,
//! and is reported as source "template" so a game can tell it from a model's line.
use super::request::{Format, GenerateRequest, ResponseType};
use crate::ports::Rng;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Warm,
    Gruff,
    Neutral,
}

const GRUFF: &[&str] = &["gruff", "grumpy", "rude", "cold", "stern", "surly", "hostile", "curt", "bitter"];
const WARM: &[&str] = &["warm", "kind", "friendly", "cheerful", "gentle", "caring", "jovial", "sweet"];

pub fn tone_of(personality: &str) -> Tone {
    let p = personality.to_lowercase();
    if GRUFF.iter().any(|w| p.contains(w)) {
        Tone::Gruff
    } else if WARM.iter().any(|w| p.contains(w)) {
        Tone::Warm
    } else {
        Tone::Neutral
    }
}

fn bank(kind: ResponseType, tone: Tone) -> &'static [&'static str] {
    use ResponseType::*;
    use Tone::*;
    match (kind, tone) {
        (Greeting, Warm) => &[
            "Oh, it's good to see you again!",
            "Welcome, welcome! Come in out of the cold.",
            "There you are! I was hoping you'd stop by.",
        ],
        (Greeting, Gruff) => &["You again. What is it?", "Hmph. State your business.", "Make it quick, I'm busy."],
        (Greeting, Neutral) => &["Hello there.", "Good day to you.", "Ah, a visitor. What brings you by?"],
        (Farewell, Warm) => &["Take care of yourself out there!", "Come back soon, you hear?", "Safe travels, friend."],
        (Farewell, Gruff) => &["Off with you, then.", "Don't let the door hit you.", "Finally. Go on."],
        (Farewell, Neutral) => &["Farewell.", "Until next time.", "Safe travels."],
        (Question, Warm) => &[
            "Oh, that's a good question. Let me think on it a moment.",
            "Hm, I'd love to help you with that. Give me a moment.",
        ],
        (Question, Gruff) => &["Why do you want to know?", "Ask someone else. ...Fine, let me think."],
        (Question, Neutral) => {
            &["That's a good question. Let me think about that...", "I'm not sure. Let me think on it."]
        }
        (Reaction, Warm) => &["Oh! Really?", "How wonderful!", "Oh dear, I'm sorry to hear that."],
        (Reaction, Gruff) => &["Hmph.", "Is that so.", "Figures."],
        (Reaction, Neutral) => &["I see.", "Interesting.", "Is that right?"],
        (Bark, Warm) => &["Lovely day, isn't it?", "Fresh bread, anyone?"],
        (Bark, Gruff) => &["Watch where you're going.", "Keep moving."],
        (Bark, Neutral) => &["Another quiet day.", "Hm, looks like rain."],
        (Narration, _) => &[
            "{name} pauses, considering you carefully.",
            "{name} looks at you for a long moment.",
            "{name} shifts their weight and says nothing.",
        ],
        (Dialogue, Warm) => &[
            "I hear you, truly. Tell me more.",
            "You always know how to make me smile.",
            "Well now, that's something to think about.",
        ],
        (Dialogue, Gruff) => &["Is that all you came to say?", "Hmph. Words are cheap.", "I've heard that before."],
        (Dialogue, Neutral) => &["I hear what you're saying.", "Go on.", "Hm. I'll keep that in mind."],
    }
}

/// A line for `req`, picked at random from the bank for its type and the character's tone.
pub fn line(req: &GenerateRequest, rng: &dyn Rng) -> String {
    let options = bank(req.kind, tone_of(&req.personality_text()));
    let pick = options.get((rng.next_u64() % options.len().max(1) as u64) as usize).copied().unwrap_or("...");
    let text = pick.replace("{name}", &req.npc.name);
    match req.format {
        Format::Text => text,
        Format::Json => serde_json::json!({ "line": text, "fallback": true }).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::router::quality;
    use crate::testkit::SeededRng;
    use serde_json::json;

    const KINDS: [&str; 7] = ["dialogue", "greeting", "farewell", "question", "reaction", "bark", "narration"];

    #[test]
    fn every_type_and_tone_gives_a_line_that_passes_quality_validation() {
        let rng = SeededRng::new(9);
        for kind in KINDS {
            for personality in ["gruff smith", "warm baker", "quiet"] {
                for format in ["text", "json"] {
                    let req = GenerateRequest::parse(json!({"type": kind, "format": format,
                        "npc": {"id": "n", "name": "Nell", "personality": personality}}))
                    .unwrap();
                    let text = line(&req, &rng);
                    assert_eq!(quality::validate(&text, &req).issue, None, "{kind}/{personality}/{format}: {text}");
                    assert!(!text.contains("{name}"));
                }
            }
        }
    }

    #[test]
    fn tone_follows_the_personality() {
        assert_eq!(tone_of("A Gruff old smith"), Tone::Gruff);
        assert_eq!(tone_of("kind and patient"), Tone::Warm);
        assert_eq!(tone_of(""), Tone::Neutral);
    }
}
