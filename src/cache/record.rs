//! The stored form of a cache entry: a small binary header and the response text, deflate-compressed when that
//! saves bytes.
//!
//! Layout (little-endian): magic "UC", version, codec (0 stored, 1 raw deflate), expires_at (f64 wall ms),
//! importance (u8, 0..=255 for 0..=1), hits (u32), text length (u32), Adler-32 of the payload, payload.
//! A record is written in one store operation, so a concurrent writer replaces it whole; the checksum and the
//! length catch anything else (truncation, foreign data under our prefix, bit rot).
use std::cell::RefCell;

use miniz_oxide::deflate::{
    self,
    core::{create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush, TDEFLStatus},
};
use miniz_oxide::inflate::{
    self,
    core::{inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF, DecompressorOxide},
    TINFLStatus,
};
use thiserror::Error;

const MAGIC: &[u8; 2] = b"UC";
const VERSION: u8 = 1;
const CODEC_STORED: u8 = 0;
const CODEC_DEFLATE: u8 = 1;
pub const HEADER_LEN: usize = 2 + 1 + 1 + 8 + 1 + 4 + 4 + 4;
/// miniz level 6 (the zlib default) for short texts; higher levels buy almost nothing on short text.
const LEVEL: u8 = 6;
/// Level 1 from [`FAST_FROM`] bytes: miniz's greedy fast path (`compress_fast`), 2.5x less work than level 6 on a
/// 20 KB line (callgrind, native: 1.25 M -> 0.50 M instructions per text; 2 KB: 0.57 M -> 0.43 M) for about one
/// point of savings on NPC text (the cache benchmark's lines: 95.3 -> 94.2 % at 20 KB, 73.6 -> 71.9 % at 2 KB).
/// Below 1 KB the two cost about the same (200 B: 0.39 M vs 0.37 M, most of it the compressor reset), so short
/// lines keep level 6. The level is not stored: inflate reads either, and records written at level 6 before stay
/// readable.
const FAST_LEVEL: u8 = 1;
const FAST_FROM: usize = 1024;
/// Responses are short; anything claiming more than this is corrupt.
const MAX_TEXT: usize = 4 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub text: String,
    /// Wall-clock ms (Unix epoch) after which the entry must not be served.
    pub expires_at: f64,
    /// 0..=1, quantized to 1/255 when stored.
    pub importance: f64,
    /// How often the entry was served (for the warmer).
    pub hits: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("record too short ({0} bytes)")]
    TooShort(usize),
    #[error("not a cache record (bad magic)")]
    BadMagic,
    #[error("unknown record version {0}")]
    Version(u8),
    #[error("unknown codec {0}")]
    Codec(u8),
    #[error("checksum mismatch")]
    Checksum,
    #[error("payload does not decompress: {0}")]
    Inflate(String),
    #[error("text length {got} differs from header {want}")]
    Length { got: usize, want: usize },
    #[error("text is not UTF-8")]
    Utf8,
}

impl DecodeError {
    /// A later record layout, written by a newer build: not ours to read or to delete.
    pub fn is_newer(&self) -> bool {
        matches!(self, DecodeError::Version(v) if *v > VERSION)
    }
}

pub fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65_521;
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 bytes is the most that can be summed before `b` could overflow a u32.
    for chunk in data.chunks(5552) {
        for &byte in chunk {
            a += u32::from(byte);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

thread_local! {
    /// One deflate compressor, reset between texts: `compress_to_vec` allocates and zeroes ~300 KB of state per
    /// call, which is most of the cost of compressing a short line. Reset still zeroes the match tables (deflate
    /// needs that) but skips the allocations and the output staging buffer.
    /// With the level it is set to.
    static COMPRESSOR: RefCell<Option<(Box<CompressorOxide>, u8)>> = const { RefCell::new(None) };
}

thread_local! {
    /// One inflate state (~11 KB), reset per record instead of allocated and zeroed per record.
    static DECOMPRESSOR: RefCell<Option<Box<DecompressorOxide>>> = const { RefCell::new(None) };
}

/// Inflates a raw deflate `payload` that must come out exactly `len` bytes long, in one pass into a buffer of
/// that size (the header knows it; growing a buffer from a guess took five passes and four copies at 20 KB).
fn inflate_exact(payload: &[u8], len: usize) -> Result<Vec<u8>, DecodeError> {
    let mut out = vec![0u8; len];
    let (status, written) = DECOMPRESSOR.with(|slot| {
        let mut slot = slot.borrow_mut();
        let d = slot.get_or_insert_with(Box::default);
        d.init();
        let (status, _, written) =
            inflate::core::decompress(d, payload, &mut out, 0, TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF);
        (status, written)
    });
    match status {
        TINFLStatus::Done if written == len => Ok(out),
        TINFLStatus::Done => Err(DecodeError::Length { got: written, want: len }),
        other => Err(DecodeError::Inflate(format!("{other:?}"))),
    }
}

/// The deflate level for a text of `len` bytes.
fn level_for(len: usize) -> u8 {
    if len >= FAST_FROM {
        FAST_LEVEL
    } else {
        LEVEL
    }
}

/// Raw deflate of `input` if it comes out shorter than `input`, else `None`.
fn deflate_shorter(input: &[u8]) -> Option<Vec<u8>> {
    let level = level_for(input.len());
    COMPRESSOR.with(|slot| {
        let mut slot = slot.borrow_mut();
        let (compressor, current) = slot.get_or_insert_with(|| {
            // Raw deflate (no zlib header: window_bits 0), default strategy.
            (Box::new(CompressorOxide::new(create_comp_flags_from_zip_params(i32::from(level), 0, 0))), level)
        });
        compressor.reset();
        if *current != level {
            // Keeps the raw format (the flags say so); only the level's probes and parsing change.
            compressor.set_compression_level_raw(level);
            *current = level;
        }
        // Output that would not be shorter is not wanted: the buffer ends there, and a full buffer means "store".
        let mut out = vec![0u8; input.len().saturating_sub(1)];
        match deflate::core::compress(compressor, input, &mut out, TDEFLFlush::Finish) {
            (TDEFLStatus::Done, _, written) if written < input.len() => {
                out.truncate(written);
                Some(out)
            }
            _ => None,
        }
    })
}

/// Compresses `text` with raw deflate; returns (codec, payload), falling back to storing it as is when deflate
/// does not make it smaller (very short or already dense text).
pub fn compress(text: &str) -> (u8, Vec<u8>) {
    match deflate_shorter(text.as_bytes()) {
        Some(deflated) => (CODEC_DEFLATE, deflated),
        None => (CODEC_STORED, text.as_bytes().to_vec()),
    }
}

/// A text compressed once, ready to be framed into records with different expiry times (one per tier).
pub struct Packed {
    codec: u8,
    payload: Vec<u8>,
    text_len: u32,
}

impl Packed {
    pub fn new(text: &str) -> Packed {
        let (codec, payload) = compress(text);
        Packed { codec, payload, text_len: text.len() as u32 }
    }

    pub fn payload_len(&self) -> usize {
        self.payload.len()
    }

    pub fn record(&self, expires_at: f64, importance: f64, hits: u32) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.payload.len());
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.push(self.codec);
        out.extend_from_slice(&expires_at.to_le_bytes());
        out.push((importance.clamp(0.0, 1.0) * 255.0).round() as u8);
        out.extend_from_slice(&hits.to_le_bytes());
        out.extend_from_slice(&self.text_len.to_le_bytes());
        out.extend_from_slice(&adler32(&self.payload).to_le_bytes());
        out.extend_from_slice(&self.payload);
        out
    }
}

impl Record {
    #[cfg(test)]
    pub fn encode(&self) -> Vec<u8> {
        Packed::new(&self.text).record(self.expires_at, self.importance, self.hits)
    }

    /// Rewrites the hit count of an encoded record in place (the checksum covers the payload only).
    pub fn set_hits(bytes: &mut [u8], hits: u32) -> Result<(), DecodeError> {
        check_header(bytes)?;
        bytes[13..17].copy_from_slice(&hits.to_le_bytes());
        Ok(())
    }

    /// Reads only the header fields that the index needs (expiry, hits), without decompressing.
    pub fn peek(bytes: &[u8]) -> Result<(f64, u32), DecodeError> {
        check_header(bytes)?;
        Ok((f64_at(bytes, 4), u32_at(bytes, 13)))
    }

    pub fn decode(bytes: &[u8]) -> Result<Record, DecodeError> {
        let codec = check_header(bytes)?;
        let expires_at = f64_at(bytes, 4);
        let importance = f64::from(bytes[12]) / 255.0;
        let hits = u32_at(bytes, 13);
        let len = u32_at(bytes, 17) as usize;
        let sum = u32_at(bytes, 21);
        let payload = &bytes[HEADER_LEN..];
        if len > MAX_TEXT {
            return Err(DecodeError::Length { got: len, want: MAX_TEXT });
        }
        if adler32(payload) != sum {
            return Err(DecodeError::Checksum);
        }
        let raw = match codec {
            CODEC_STORED => payload.to_vec(),
            _ => inflate_exact(payload, len)?,
        };
        if raw.len() != len {
            return Err(DecodeError::Length { got: raw.len(), want: len });
        }
        let text = String::from_utf8(raw).map_err(|_| DecodeError::Utf8)?;
        Ok(Record { text, expires_at, importance, hits })
    }
}

fn check_header(bytes: &[u8]) -> Result<u8, DecodeError> {
    if bytes.len() < HEADER_LEN {
        return Err(DecodeError::TooShort(bytes.len()));
    }
    if &bytes[..2] != MAGIC {
        return Err(DecodeError::BadMagic);
    }
    if bytes[2] != VERSION {
        return Err(DecodeError::Version(bytes[2]));
    }
    match bytes[3] {
        c @ (CODEC_STORED | CODEC_DEFLATE) => Ok(c),
        c => Err(DecodeError::Codec(c)),
    }
}

fn f64_at(b: &[u8], at: usize) -> f64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    f64::from_le_bytes(a)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

/// Realistic NPC lines for tests and the compression measurement.
#[cfg(test)]
pub(crate) const SAMPLE: &str = "Ah, traveller! You look like you've walked the whole King's Road in those boots. \
The forge has been cold since the miners stopped bringing ore up from the Deepvale shaft, and I'll not lie to you, \
the village is worse for it. If you're heading north past the old watchtower, keep an eye out for wolves; they've \
grown bold this winter. Bring me three iron ingots and I'll mend that sword of yours for free. What do you say?";

#[cfg(test)]
mod tests {
    use super::*;

    fn record(text: &str) -> Record {
        Record { text: text.to_string(), expires_at: 1.5e12, importance: 0.8, hits: 3 }
    }

    #[test]
    fn adler32_matches_the_reference_values() {
        assert_eq!(adler32(b""), 1);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        assert_eq!(adler32(&[0xff; 100_000]), 0x149A_302C, "long input (zlib.adler32)");
    }

    #[test]
    fn round_trips_text_and_metadata() {
        for text in ["", "hi", "ключ 😀 ünïcode", SAMPLE, &SAMPLE.repeat(40)] {
            let r = record(text);
            let bytes = r.encode();
            let back = Record::decode(&bytes);
            assert_eq!(back.as_ref().map(|b| b.text.as_str()), Ok(text));
            let back = back.unwrap_or_else(|_| record("x"));
            assert_eq!(back.expires_at, 1.5e12);
            assert!((back.importance - 0.8).abs() < 1.0 / 255.0);
            assert_eq!(back.hits, 3);
            assert_eq!(Record::peek(&bytes), Ok((1.5e12, 3)));
        }
    }

    #[test]
    fn npc_text_compresses_and_tiny_text_is_stored_as_is() {
        let one = record(SAMPLE).encode().len() - HEADER_LEN;
        let ratio = one as f64 / SAMPLE.len() as f64;
        // ~45 % of the original on one 430-byte line; a whole dialogue compresses better (the benchmark measures).
        assert!(ratio < 0.75, "one line {ratio}");
        let long = SAMPLE.repeat(10);
        let many = record(&long).encode().len() - HEADER_LEN;
        assert!((many as f64) < long.len() as f64 * 0.3);
        assert_eq!(record("ok").encode()[3], CODEC_STORED);
    }

    #[test]
    fn the_reused_compressor_gives_the_bytes_of_a_fresh_one() {
        let long = SAMPLE.repeat(30);
        // Short and long texts alternate: the level switches between them, both ways.
        let texts =
            [SAMPLE, "ok", long.as_str(), "", "ключ 😀 ünïcode", &long[..5000], &long[..FAST_FROM], SAMPLE, "a"];
        for text in texts {
            let level = if text.len() >= FAST_FROM { FAST_LEVEL } else { LEVEL };
            let fresh = miniz_oxide::deflate::compress_to_vec(text.as_bytes(), level);
            let (codec, payload) = compress(text);
            if fresh.len() < text.len() {
                assert_eq!((codec, payload), (CODEC_DEFLATE, fresh), "{} bytes", text.len());
            } else {
                assert_eq!((codec, payload.as_slice()), (CODEC_STORED, text.as_bytes()), "{} bytes", text.len());
            }
        }
    }

    #[test]
    fn long_texts_take_the_fast_level_and_still_compress() {
        assert_eq!((level_for(FAST_FROM - 1), level_for(FAST_FROM)), (LEVEL, FAST_LEVEL));
        // Distinct lines, not one repeated: a dialogue of ~20 KB.
        let text: String = (0..50).map(|i| format!("({i}) {}", &SAMPLE[i % 7..])).collect();
        let (codec, fast) = compress(&text);
        let level6 = miniz_oxide::deflate::compress_to_vec(text.as_bytes(), LEVEL);
        assert_eq!(codec, CODEC_DEFLATE);
        assert_ne!(fast, level6, "{} bytes were not compressed at the fast level", text.len());
        // About a point of savings lost, never more than a few.
        let (fast, level6) = (fast.len() as f64 / text.len() as f64, level6.len() as f64 / text.len() as f64);
        assert!(fast < level6 + 0.03 && fast < 0.2, "fast {fast:.3}, level 6 {level6:.3}");
    }

    #[test]
    fn records_deflated_at_level_6_still_decode() {
        // What the encoder wrote for every text before long ones took level 1.
        let text = SAMPLE.repeat(20);
        let mut old = Packed::new(&text);
        old.payload = miniz_oxide::deflate::compress_to_vec(text.as_bytes(), LEVEL);
        assert_ne!(old.payload, Packed::new(&text).payload);
        let bytes = old.record(1.5e12, 0.8, 3);
        assert_eq!(Record::decode(&bytes).map(|r| r.text), Ok(text));
    }

    #[test]
    fn the_reused_decompressor_decodes_each_record_afresh() {
        let long = SAMPLE.repeat(40);
        let texts = [SAMPLE, long.as_str(), "ключ 😀 ünïcode ünïcode ünïcode ünïcode ünïcode", SAMPLE];
        let mut broken = record(&long).encode();
        let mid = HEADER_LEN + 10;
        broken[mid] ^= 0xff;
        // The checksum would catch it first: fix it up so the damaged stream reaches the decompressor.
        let sum = adler32(&broken[HEADER_LEN..]);
        broken[21..25].copy_from_slice(&sum.to_le_bytes());
        for text in texts {
            assert!(Record::decode(&broken).is_err(), "a failed stream leaves nothing behind");
            assert_eq!(Record::decode(&record(text).encode()).map(|r| r.text), Ok(text.to_string()));
        }
    }

    #[test]
    fn damage_of_any_kind_is_a_decode_error() {
        let good = record(SAMPLE).encode();
        assert_eq!(Record::decode(&good[..10]), Err(DecodeError::TooShort(10)));
        assert_eq!(Record::decode(b"{\"json\": \"from another app\"}"), Err(DecodeError::BadMagic));
        let mut v = good.clone();
        v[2] = 9;
        assert_eq!(Record::decode(&v), Err(DecodeError::Version(9)));
        assert!(DecodeError::Version(9).is_newer() && !DecodeError::Version(0).is_newer());
        let mut v = good.clone();
        v[3] = 7;
        assert_eq!(Record::decode(&v), Err(DecodeError::Codec(7)));
        let mut v = good.clone();
        let last = v.len() - 1;
        v[last] ^= 0x40;
        assert_eq!(Record::decode(&v), Err(DecodeError::Checksum));
        let truncated = &good[..good.len() - 5];
        assert!(Record::decode(truncated).is_err());
        let mut v = good.clone();
        v[17] = v[17].wrapping_add(1);
        assert!(matches!(Record::decode(&v), Err(DecodeError::Length { .. })), "header says longer");
        let mut v = good;
        v[17] = v[17].wrapping_sub(1);
        assert!(matches!(Record::decode(&v), Err(DecodeError::Inflate(_))), "header says shorter");
    }
}
