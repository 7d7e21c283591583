//! What tabs tell each other about the cache through the [`Broadcast`](crate::ports::Broadcast) port:
//! `cache:clear` and `cache:gen:{namespace}:{generation}`. Any script of the origin can post on the channel, and
//! another version of the game may speak differently, so what arrives is checked; anything else is counted and
//! ignored.
use super::key::{is_namespace, parse_storage_key};
use super::ResponseCache;

pub(super) const MSG_CLEAR: &str = "cache:clear";
const MSG_GENERATION: &str = "cache:gen:";
/// Longer than any message we send (a generation message is at most 29 bytes): anything longer is not ours.
const MAX_LEN: usize = 64;
/// How far one message may move a namespace. A tab moves it by one per invalidation and messages arrive in
/// order, so a real message is at most a few ahead of what this tab knows; a far jump can only be garbage, and
/// one to `u32::MAX` would leave the counter nowhere to go, so invalidation would stop working.
const MAX_STEP: u32 = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Message<'a> {
    Clear,
    Generation { ns: &'a str, generation: u32 },
}

fn parse(msg: &str) -> Option<Message<'_>> {
    if msg.len() > MAX_LEN {
        return None;
    }
    if msg == MSG_CLEAR {
        return Some(Message::Clear);
    }
    let (ns, g) = msg.strip_prefix(MSG_GENERATION)?.split_once(':')?;
    // Plain decimal digits only: `u32::from_str` would also take "+1".
    if !is_namespace(ns) || g.is_empty() || !g.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(Message::Generation { ns, generation: g.parse().ok()? })
}

/// The message that announces generation `generation` of namespace `ns`.
pub(super) fn generation_message(ns: &str, generation: u32) -> String {
    format!("{MSG_GENERATION}{ns}:{generation}")
}

impl ResponseCache {
    /// Applies what other tabs announced: invalidated namespaces and clears.
    pub(super) fn apply_broadcasts(&self) {
        let Some(b) = &self.broadcast else { return };
        for msg in b.drain() {
            match parse(&msg) {
                Some(Message::Clear) => {
                    self.memory.borrow_mut().clear();
                    for t in self.tiers() {
                        t.index_clear();
                    }
                }
                Some(Message::Generation { ns, generation })
                    if generation <= self.generation(ns).saturating_add(MAX_STEP) =>
                {
                    self.raise_generation(ns, generation)
                }
                _ => self.counters.borrow_mut().rejected_messages += 1,
            }
        }
    }

    /// Moves `ns` to generation `g` (if newer) and drops its older entries from memory at once.
    pub(super) fn raise_generation(&self, ns: &str, g: u32) {
        if g <= self.generation(ns) {
            return;
        }
        self.generations.borrow_mut().insert(ns.to_string(), g);
        let gone = self
            .memory
            .borrow_mut()
            .retain(|k, _| !matches!(parse_storage_key(k), Some((n, old, _)) if n == ns && old < g));
        self.counters.borrow_mut().evictions.invalidated += gone;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_messages_we_send_parse() {
        let ns = "0123abcd";
        assert_eq!(parse(MSG_CLEAR), Some(Message::Clear));
        assert_eq!(parse(&generation_message(ns, 7)), Some(Message::Generation { ns, generation: 7 }));
        let top = generation_message(ns, u32::MAX);
        assert!(top.len() <= MAX_LEN);
        assert_eq!(parse(&top), Some(Message::Generation { ns, generation: u32::MAX }), "in range; the step decides");
        for bad in ["cache:gen:0123abcd:4294967296", "cache:gen:0123abcd:+1", "cache:gen:0123ABCD:1", "cache:gen::1"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        let padded = format!("cache:gen:{ns}:{}1", "0".repeat(MAX_LEN));
        assert_eq!(padded[MSG_GENERATION.len() + 9..].parse::<u32>(), Ok(1));
        assert_eq!(parse(&padded), None, "too long");
    }
}
