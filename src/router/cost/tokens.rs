//! Token counts without the provider's tokenizer: a typical estimate (for routing) and a hard upper bound (for
//! what a call may cost, which the budget reserves).

/// Typical tokens of a text, for choosing a model (not a bound): about 4 ASCII characters a token, and a token
/// for every other character (CJK and most scripts outside Latin take one or more a character).
pub fn estimate_tokens(text: &str) -> u32 {
    let ascii = text.bytes().filter(u8::is_ascii).count();
    let other = text.chars().filter(|c| !c.is_ascii()).count();
    let n = ascii.div_ceil(4).saturating_add(other);
    u32::try_from(n).unwrap_or(u32::MAX).max(1)
}

/// The most tokens `text` can take in the providers' tokenizers: its UTF-8 byte count. Byte-level BPE (OpenAI,
/// Anthropic) and SentencePiece with byte fallback (Gemini) make every token cover at least one byte, so no text
/// takes more. Nothing tighter holds without the vocabulary: ASCII can cut one character a token (`"a!b!c!"`),
/// and a rare CJK character or emoji falls back to its 3 or 4 byte tokens.
pub fn token_bound(text: &str) -> u32 {
    u32::try_from(text.len()).unwrap_or(u32::MAX).max(1)
}

/// Tokens the chat framing adds around the two messages (roles, separators, the reply's priming: OpenAI
/// documents 3 a message plus 3); 16 leaves room. Anything a provider still reports above the bound is clamped.
const FRAMING_TOKENS: u32 = 16;

/// The most input tokens a prompt of these two messages can be billed for.
pub fn prompt_token_bound(system: &str, user: &str) -> u32 {
    token_bound(system).saturating_add(token_bound(user)).saturating_add(FRAMING_TOKENS)
}
