"""10,000 generated tokenizer test vectors, their ids from HuggingFace `tokenizers` (the peer, not our code).

    models/train/.venv/bin/python models/train/tokenizer_vectors_wide.py

Writes models/eval/tokenizer_vectors_wide.jsonl.zlib: zlib-compressed JSON lines {"kind", "text", "ids"}, where
ids are HF's `BertWordPieceTokenizer` ids with [CLS]/[SEP] and truncation to 128 (padding left off: the Rust test
pads with [PAD]=0). tests/tokenizer_vectors.rs compares every line with src/model/tokenizer.rs.

Seeded and reproducible: the same seed, Python's `random` and the pinned `tokenizers` give the same file byte for
byte. The strings are built to hit what a game's players and writers actually send and what breaks tokenizers:
mixed scripts, CJK (including the edges of every ideograph range), emoji sequences, combining marks, control,
format, private-use and unassigned code points, 200-character words and 5,000-character lines.
"""
import json
import os
import random
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.dirname(HERE)
OUT = os.path.join(MODELS, "eval", "tokenizer_vectors_wide.jsonl.zlib")
SEED = 20_2026
MAX_LEN = 128

with open(os.path.join(MODELS, "vocab.txt"), encoding="utf-8") as f:
    VOCAB = [line.rstrip("\n") for line in f]
WORDS = [t for t in VOCAB[5:] if not t.startswith("##") and len(t) > 1]
PIECES = [t[2:] for t in VOCAB if t.startswith("##")]


def r(a, b):
    return list(range(a, b + 1))


SCRIPTS = {
    "latin": r(0x41, 0x5A) + r(0x61, 0x7A),
    "latin1": r(0xC0, 0xFF),
    "latin_ext": r(0x100, 0x24F) + r(0x1E00, 0x1EFF),
    "greek": r(0x391, 0x3A9) + r(0x3B1, 0x3C9) + [0x3C2, 0x386, 0x388, 0x390, 0x3B0],
    "cyrillic": r(0x410, 0x44F) + r(0x400, 0x40F) + r(0x450, 0x45F),
    "armenian": r(0x531, 0x556) + r(0x561, 0x587),
    "hebrew": r(0x5D0, 0x5EA) + r(0x591, 0x5C7),
    "arabic": r(0x621, 0x64A) + r(0x64B, 0x652) + r(0x660, 0x669) + [0x60C, 0x61B, 0x61F, 0x6D4],
    "devanagari": r(0x905, 0x939) + r(0x93E, 0x94D) + [0x964, 0x965],
    "bengali": r(0x985, 0x9B9),
    "tamil": r(0xB85, 0xBB9) + r(0xBBE, 0xBCD),
    "thai": r(0xE01, 0xE3A) + r(0xE40, 0xE4E),
    "georgian": r(0x10D0, 0x10FA),
    "hangul": r(0xAC00, 0xAC00 + 2000) + r(0x1100, 0x1112) + r(0x3131, 0x318E),
    "kana": r(0x3041, 0x3096) + r(0x30A1, 0x30FA) + [0x30FC, 0x3001, 0x3002, 0x300C, 0x300D],
    "fullwidth": r(0xFF01, 0xFF5E) + r(0xFF61, 0xFF9F),
    "ethiopic": r(0x1200, 0x1248),
    "math_alnum": r(0x1D400, 0x1D433) + r(0x1D7CE, 0x1D7FF),
    "symbols": r(0x2190, 0x21FF) + r(0x2200, 0x22FF) + r(0x2500, 0x257F) + r(0x20A0, 0x20BF) + [0xA9, 0xAE, 0x2122],
    "punct": r(0x21, 0x2F) + r(0x3A, 0x40) + r(0x5B, 0x60) + r(0x7B, 0x7E) + r(0x2010, 0x2027) + r(0x2030, 0x205E)
    + [0xA1, 0xBF, 0xAB, 0xBB, 0x3008, 0x3009, 0x300A, 0x300B, 0xFF08, 0xFF09],
}
CJK_RANGES = [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F), (0x2B740, 0x2B81F),
              (0x2B920, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)]
# Just outside the ideograph ranges (and the 2B820..2B91F gap where BERT and HF disagree): must not be split.
CJK_EDGES = [0x4DFF, 0x4DC0, 0xA000, 0x3300, 0x2A6E0, 0x2B81F, 0x2B820, 0x2B91F, 0x2B920, 0x2CEAF, 0x2CEB0, 0xF8FF,
             0xFB00, 0x2F7FF, 0x2FA20, 0x30000, 0x31350, 0x2E80, 0x2F00, 0x3005, 0x3007]
EMOJI = r(0x1F600, 0x1F64F) + r(0x1F300, 0x1F5FF) + r(0x1F680, 0x1F6FF) + r(0x1F900, 0x1F9FF) + r(0x2600, 0x26FF) \
    + r(0x2700, 0x27BF) + [0x1FA70, 0x1FAF8, 0x1F004, 0x1F0CF]
SKIN = r(0x1F3FB, 0x1F3FF)
ZWJ, VS16, KEYCAP = "\u200d", "\ufe0f", "\u20e3"
COMBINING = r(0x300, 0x36F) + r(0x1AB0, 0x1ABE) + r(0x1DC0, 0x1DFF) + r(0x20D0, 0x20F0) + r(0xFE20, 0xFE2F) \
    + [0x93C, 0x94D, 0x9BC, 0xE31, 0xE47, 0x5B0, 0x5BC, 0x64E, 0x651, 0x3099, 0x309A]
SPACING_MARKS = [0x903, 0x93E, 0x940, 0x982, 0xBBE, 0x1B04]  # Mc: not dropped by accent stripping
ENCLOSING = [0x20DD, 0x20DE, 0x20DF, 0x20E0, 0x20E2, 0x20E3, 0x20E4, 0x488, 0x489]
SPECIAL_CASE = ["İ", "ı", "Σ", "ς", "ẞ", "ß", "ǅ", "ǈ", "ǋ", "ǲ", "ŉ", "ΐ", "ﬀ", "ﬁ", "ﬃ", "Ⅻ", "ⓐ", "Ⓐ", "K", "Å", "Ω",
                "Ǆ", "ʼn", "ǰ", "İstanbul", "ΣΊΣΥΦΟΣ", "ÅNGSTRÖM", "Æsir", "Œuvre", "ĲSSEL"]
CONTROL = r(0x0, 0x8) + r(0xE, 0x1F) + [0x7F] + r(0x80, 0x9F)
WHITESPACE = [0x9, 0xA, 0xB, 0xC, 0xD, 0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000] \
    + r(0x2000, 0x200A)
FORMAT = [0xAD, 0x600, 0x61C, 0x6DD, 0x70F, 0x180E, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x202A, 0x202B,
          0x202C, 0x202D, 0x202E, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0x2066, 0x2067, 0x2068, 0x2069, 0xFEFF,
          0xFFF9, 0xFFFA, 0xFFFB, 0x110BD, 0x1D173, 0xE0001, 0xE0020, 0xE0041, 0xE007F]
PRIVATE = r(0xE000, 0xE010) + [0xF8FF, 0xF0000, 0xFFFFD, 0x100000, 0x10FFFD]
# Unassigned in every Unicode version so far (noncharacters and long-empty planes/blocks).
UNASSIGNED = [0xFFFE, 0xFFFF, 0x1FFFE, 0x1FFFF, 0x2FFFE, 0x10FFFE, 0x10FFFF, 0xFDD0, 0xFDEF, 0x50000, 0x6ABCD,
              0x8FFFF, 0xE0080, 0xEFFFD, 0x0378, 0x0379, 0x0380, 0x1C89, 0x2FE0, 0xFFF0, 0xFFF8]
ODD = [0xFFFD, 0x0, 0xFFFC, 0x2028, 0x34F, 0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800, 0x1F1E6, 0x1F1FF]


def ch(cps):
    return chr(RNG.choice(cps))


def word_from(cps, lo=1, hi=9):
    return "".join(ch(cps) for _ in range(RNG.randint(lo, hi)))


def vocab_word():
    w = RNG.choice(WORDS)
    if RNG.random() < 0.3:
        w += RNG.choice(PIECES)
    k = RNG.random()
    return w.upper() if k < 0.1 else w.capitalize() if k < 0.3 else w


def script_word():
    name = RNG.choice(list(SCRIPTS))
    return word_from(SCRIPTS[name])


def cjk_char():
    k = RNG.random()
    if k < 0.15:
        return chr(RNG.choice(CJK_EDGES))
    a, b = RNG.choice(CJK_RANGES)
    if k < 0.3:
        return chr(RNG.choice([a, b, a + 1, b - 1]))
    return chr(RNG.randint(a, b))


def emoji_seq():
    k = RNG.random()
    e = ch(EMOJI)
    if k < 0.2:
        return e + ch(SKIN)
    if k < 0.4:
        return ZWJ.join(ch(EMOJI) for _ in range(RNG.randint(2, 4)))
    if k < 0.5:
        return chr(RNG.randint(0x1F1E6, 0x1F1FF)) + chr(RNG.randint(0x1F1E6, 0x1F1FF))  # flag
    if k < 0.6:
        return RNG.choice("0123456789#*") + VS16 + KEYCAP
    if k < 0.7:
        return e + VS16
    if k < 0.75:
        return "\U0001F3F4" + "".join(chr(0xE0000 + ord(c)) for c in "gbsct") + "\U000E007F"  # tag sequence
    return e


def marked_word():
    base = list(RNG.choice([vocab_word(), script_word(), word_from(SCRIPTS["latin"])]))
    out = []
    for c in base:
        out.append(c)
        k = RNG.random()
        if k < 0.35:
            out.extend(ch(COMBINING) for _ in range(RNG.randint(1, 4)))
        elif k < 0.42:
            out.append(ch(SPACING_MARKS))
        elif k < 0.46:
            out.append(ch(ENCLOSING))
    if RNG.random() < 0.2:
        out.insert(0, ch(COMBINING))  # a mark with no base
    return "".join(out)


def odd_char():
    pool = RNG.choice([CONTROL, WHITESPACE, FORMAT, PRIVATE, UNASSIGNED, ODD])
    return ch(pool)


def sep():
    k = RNG.random()
    if k < 0.75:
        return " "
    if k < 0.85:
        return ch(SCRIPTS["punct"])
    if k < 0.95:
        return ch(WHITESPACE)
    return ""


def line(parts, n):
    return "".join(RNG.choice(parts)() + sep() for _ in range(n)).strip(" ") if n else ""


def long_word():
    target = RNG.choice([99, 100, 101, 102, 150, 200, 200, 200, RNG.randint(90, 220)])
    k = RNG.random()
    if k < 0.4:
        w = ""
        while len(w) < target:
            w += RNG.choice(PIECES + WORDS)
        w = w[:target]
    elif k < 0.7:
        w = word_from(RNG.choice(list(SCRIPTS.values())), target, target)
    elif k < 0.85:
        w = RNG.choice("abcdefghijklmnopqrstuvwxyz") * target
    else:
        w = "".join(RNG.choice([vocab_word, script_word, marked_word])() for _ in range(40))[:target]
    if RNG.random() < 0.3:  # accents that NFD splits: the length that counts is after normalisation
        w = "".join(c + ("\u0301" if RNG.random() < 0.1 else "") for c in w)
    return w


def long_line():
    parts = [vocab_word] * 6 + [script_word, cjk_char, emoji_seq, marked_word, odd_char, long_word]
    text = ""
    while len(text) < 5000:
        text += RNG.choice(parts)() + sep()
    return text[:5000]


def any_codepoint():
    while True:
        cp = RNG.randint(0, 0x10FFFF) if RNG.random() < 0.5 else RNG.randint(0, 0xFFFF)
        if not 0xD800 <= cp <= 0xDFFF:
            return chr(cp)


KINDS = [
    ("vocab", 1500, lambda: line([vocab_word], RNG.randint(1, 40))),
    ("mixed_scripts", 1500, lambda: line([vocab_word, script_word, cjk_char, emoji_seq], RNG.randint(1, 30))),
    ("cjk", 1000, lambda: line([cjk_char, cjk_char, cjk_char, vocab_word, lambda: word_from(SCRIPTS["kana"]),
                                 lambda: word_from(SCRIPTS["fullwidth"])], RNG.randint(1, 60))),
    ("emoji", 1000, lambda: line([emoji_seq, emoji_seq, vocab_word], RNG.randint(1, 25))),
    ("combining", 1000, lambda: line([marked_word, marked_word, lambda: RNG.choice(SPECIAL_CASE), vocab_word],
                                     RNG.randint(1, 20))),
    ("control", 1000, lambda: line([odd_char, odd_char, vocab_word, lambda: odd_char() + vocab_word() + odd_char()],
                                   RNG.randint(0, 30))),
    ("long_word", 1000, lambda: line([long_word, long_word, vocab_word], RNG.randint(1, 4))),
    ("any_codepoint", 1900, lambda: "".join(any_codepoint() for _ in range(RNG.randint(1, 24)))),
    ("long_line", 100, long_line),
]


def version_dependent(hf):
    """Code points whose tokenizer behaviour depends on the Unicode version: where HF `tokenizers`' compiled tables
    (older than Unicode 14) and Python's Unicode 14 tables give a different normalisation or split (the card's
    per-code-point check), plus every code point unassigned in Unicode 14 outside planes 4-13 that is not a noncharacter
    (a newer table, like the Rust crate's, may know it). The contract is defined on the others; a string holding one of these is marked "stable": false."""
    import unicodedata
    sys.path.insert(0, HERE)
    import wordpiece

    hk = hf._tokenizer
    out = set()
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        if unicodedata.category(c) == "Cn":
            # planes 4-13 are unassigned in every version, noncharacters are permanent; elsewhere Unicode 15+ may
            # have assigned it
            nonchar = 0xFDD0 <= cp <= 0xFDEF or (cp & 0xFFFE) == 0xFFFE
            if not nonchar and not 0x40000 <= cp <= 0xDFFFF:
                out.add(cp)
            continue
        s_ = "aB" + c + "\u00c9z" + c
        n1 = hk.normalizer.normalize_str(s_)
        n2 = wordpiece.normalize(s_)
        if n1 != n2 or [w_ for w_, _ in hk.pre_tokenizer.pre_tokenize_str(n1)] != wordpiece.pre_tokenize(n2):
            out.add(cp)
    return out


def main():
    global RNG
    RNG = random.Random(SEED)
    from tokenizers import BertWordPieceTokenizer, __version__ as tk_version

    hf = BertWordPieceTokenizer(os.path.join(MODELS, "vocab.txt"), clean_text=True, handle_chinese_chars=True,
                                strip_accents=True, lowercase=True, wordpieces_prefix="##")
    hf.enable_truncation(MAX_LEN)
    unstable = version_dependent(hf)
    rows = []
    for kind, n, make in KINDS:
        for _ in range(n):
            text = make()
            ids = hf.encode(text).ids
            assert len(ids) <= MAX_LEN and ids[0] == 2 and ids[-1] == 3
            stable = not any(ord(c) in unstable for c in text)
            rows.append({"kind": kind, "stable": stable, "text": text, "ids": ids})
    assert len(rows) == 10_000
    raw = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode("utf-8")
    packed = zlib.compress(raw, 9)
    with open(OUT, "wb") as f:
        f.write(packed)
    stats = {
        "vectors": len(rows), "tokenizers": tk_version, "seed": SEED, "raw_bytes": len(raw),
        "zlib_bytes": len(packed), "max_chars": max(len(x["text"]) for x in rows),
        "truncated": sum(len(x["ids"]) == MAX_LEN for x in rows),
        "with_unk": sum(1 in x["ids"] for x in rows),
        "version_dependent_code_points": len(unstable), "stable": sum(x["stable"] for x in rows),
        "by_kind": {k: n for k, n, _ in KINDS},
    }
    print(json.dumps(stats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
