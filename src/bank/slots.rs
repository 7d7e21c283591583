//! Slots in the bank's game replies: `{npc}`, `{player}` and `{scene}`, each optionally with a fallback
//! (`{scene|the village}`), filled from the request so a villager can say "Welcome back, Wren." A slot without a
//! usable value takes its fallback; with none, it is dropped with the comma that sets it off ("Welcome back,
//! {player}." -> "Welcome back."). One pass over the template: a value is never read as a template itself.

/// Longest value that reads as a name in a spoken line; a longer one is a description, not a name.
const MAX_SLOT_CHARS: usize = 40;
const MAX_SLOT_WORDS: usize = 6;
/// Longest `{...}` the filler reads as a slot; anything longer is left as written.
const MAX_SLOT_SPAN: usize = 80;

/// The values a reply's slots are filled with; `None` where the request gave nothing usable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Slots {
    pub npc: Option<String>,
    pub player: Option<String>,
    pub scene: Option<String>,
}

/// `text` as a name to put in a line, or `None` when it does not read as one: empty, too long, braces, or (for a
/// scene, which games often give as an id or a description) underscores or sentence punctuation.
fn usable(text: Option<&str>, strict: bool) -> Option<String> {
    let words: Vec<&str> = text?.split_whitespace().collect();
    let joined = words.join(" ");
    let bad =
        |c: char| c == '{' || c == '}' || c.is_control() || (strict && matches!(c, '_' | '.' | '!' | '?' | ':' | ';'));
    let ok = !words.is_empty()
        && words.len() <= MAX_SLOT_WORDS
        && joined.chars().count() <= MAX_SLOT_CHARS
        && !joined.chars().any(bad);
    ok.then_some(joined)
}

impl Slots {
    /// Slots from the character's name, the player's name and the scene, keeping only values that read as names.
    pub fn new(npc: Option<&str>, player: Option<&str>, scene: Option<&str>) -> Slots {
        Slots { npc: usable(npc, false), player: usable(player, false), scene: usable(scene, true) }
    }

    fn value(&self, name: &str) -> Option<Option<&str>> {
        match name {
            "npc" => Some(self.npc.as_deref()),
            "player" => Some(self.player.as_deref()),
            "scene" => Some(self.scene.as_deref()),
            _ => None,
        }
    }

    /// The slot opened by the `{` just before `after`: its value here, its fallback and where its `}` is; `None`
    /// when the braces are not a known slot.
    fn slot_at<'t>(&self, after: &'t str) -> Option<(Option<&str>, Option<&'t str>, usize)> {
        let close = after.find('}').filter(|&close| close <= MAX_SLOT_SPAN)?;
        let inner = &after[..close];
        let (name, fallback) = inner.split_once('|').map_or((inner, None), |(n, f)| (n, Some(f)));
        Some((self.value(name.trim())?, fallback, close))
    }

    /// Whether [`Slots::fill`] changes anything in `template` for some slots: false means it returns `template`
    /// as it is, whatever the values (`fill` reads every `{` in turn and copies all that is not a slot).
    pub fn has_slots(template: &str) -> bool {
        let none = Slots::default();
        template.match_indices('{').any(|(open, _)| none.slot_at(&template[open + 1..]).is_some())
    }

    /// `template` with its slots filled (see the module documentation). Text that is not a known slot is kept.
    pub fn fill(&self, template: &str) -> String {
        let mut out = String::with_capacity(template.len() + 16);
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let Some((value, fallback, close)) = self.slot_at(after) else {
                out.push('{');
                rest = after;
                continue;
            };
            rest = &after[close + 1..];
            match value.or(fallback.map(str::trim).filter(|f| !f.is_empty())) {
                Some(v) => out.push_str(v),
                None => rest = drop_slot(&mut out, rest),
            }
        }
        out.push_str(rest);
        out
    }
}

/// Removes what set off a dropped slot: ", {player}." loses its comma; "{player}, come in" at the start of a
/// sentence loses the comma after it and capitalises what follows. Returns the rest of the template.
fn drop_slot<'a>(out: &mut String, rest: &'a str) -> &'a str {
    let trimmed_len = out.trim_end().len();
    if out[..trimmed_len].ends_with(',') {
        out.truncate(trimmed_len - 1);
        return rest;
    }
    let sentence_start = out[..trimmed_len].is_empty() || out[..trimmed_len].ends_with(['.', '!', '?']);
    if sentence_start {
        if let Some(after) = rest.strip_prefix(',') {
            let after = after.trim_start();
            let mut chars = after.chars();
            if let Some(first) = chars.next() {
                out.extend(first.to_uppercase());
                return chars.as_str();
            }
            return after;
        }
    } else if rest.starts_with(['.', '!', '?', ',']) {
        out.truncate(trimmed_len);
    }
    rest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Slots {
        Slots::new(Some("Bram"), Some("Wren"), Some("the Rusty Anchor"))
    }

    #[test]
    fn known_slots_are_filled_and_fallbacks_used_when_a_value_is_missing() {
        let t = "Welcome to {scene|the village}, {player}. I'm {npc}.";
        assert_eq!(all().fill(t), "Welcome to the Rusty Anchor, Wren. I'm Bram.");
        assert_eq!(Slots::new(Some("Bram"), None, None).fill(t), "Welcome to the village. I'm Bram.");
    }

    #[test]
    fn a_dropped_slot_takes_its_comma_with_it() {
        let none = Slots::default();
        assert_eq!(none.fill("Welcome back, {player}."), "Welcome back.");
        assert_eq!(none.fill("{player}, come in out of the rain."), "Come in out of the rain.");
        assert_eq!(none.fill("Aye. {player}, listen to me."), "Aye. Listen to me.");
        assert_eq!(none.fill("Good to see you {player}!"), "Good to see you!");
        assert_eq!(none.fill("Ah, {player}, there you are."), "Ah, there you are.");
    }

    #[test]
    fn values_that_do_not_read_as_names_are_not_used() {
        let s = Slots::new(Some("x".repeat(41).as_str()), Some("  Wren   of  the  Marsh "), Some("village_square"));
        assert_eq!((s.npc, s.player.as_deref(), s.scene), (None, Some("Wren of the Marsh"), None));
        let s = Slots::new(Some("{player}"), Some("a b c d e f g"), Some("The tavern. It is late at night."));
        assert_eq!((s.npc, s.player, s.scene), (None, None, None));
        assert_eq!(Slots::new(None, Some("Ann"), None).scene, None);
    }

    #[test]
    fn text_without_slots_is_what_fill_returns_unchanged() {
        let plain = ["no slots at all", "", "{unknown} and {player", "{}", "{{", "}{", "ünïcödé {x|y} ✓"];
        let long = format!("{{{}}}", "x".repeat(100));
        let slotted = ["{player}", "Hi, { npc }.", "{scene|the village}", "{unknown} {npc}", "{{player}", "✓{npc|}"];
        let values = [all(), Slots::default(), Slots::new(None, Some("Wren"), None)];
        for t in plain.iter().copied().chain([long.as_str()]) {
            assert!(!Slots::has_slots(t), "{t:?}");
            for s in &values {
                assert_eq!(s.fill(t), t);
            }
        }
        for t in slotted {
            assert!(Slots::has_slots(t), "{t:?}");
            assert!(values.iter().any(|s| s.fill(t) != t), "{t:?}");
        }
    }

    #[test]
    fn text_that_is_not_a_slot_is_kept_and_values_are_never_read_as_templates() {
        let s = all();
        assert_eq!(s.fill("{unknown} and {player"), "{unknown} and {player");
        assert_eq!(s.fill("{ player }"), "Wren");
        assert_eq!(s.fill(&format!("{{{}}}", "x".repeat(100))), format!("{{{}}}", "x".repeat(100)));
        let sneaky = Slots { player: Some("{npc}".into()), ..all() };
        assert_eq!(sneaky.fill("Hi, {player}."), "Hi, {npc}.");
        assert_eq!(s.fill("no slots at all"), "no slots at all");
        assert_eq!(s.fill(""), "");
        assert_eq!(Slots::default().fill("{player}"), "");
        assert_eq!(s.fill("ünïcödé {npc} ✓"), "ünïcödé Bram ✓");
    }
}
