"""Pure-Python reference of the tokenizer contract (the Rust side reimplements exactly this).

Contract (matches HuggingFace `tokenizers` BertNormalizer(clean_text=True, handle_chinese_chars=True,
strip_accents=True, lowercase=True) + BertPreTokenizer + WordPiece(max_input_chars_per_word=100)):

1. clean text: drop U+0000, U+FFFD and every "control" char = general category Cc, Cf, Cs or Co
   (not Cn), except TAB/LF/CR; then map every whitespace char (TAB, LF, CR, SPACE or Unicode White_Space) to ' '.
   (Control chars are dropped before the whitespace test, so VT, FF, U+0085 vanish rather than split.)
2. put a space before and after every CJK ideograph (ranges in CJK_RANGES).
3. strip accents: Unicode NFD, then drop every char of category Mn.
4. lowercase char by char (Unicode full lowercase mapping of each char, no context: 'Σ' -> 'σ' always).
5. split on whitespace; split off every punctuation char (ASCII 33-47, 58-64, 91-96, 123-126, or Unicode P*)
   as its own token.
6. WordPiece per token: a token longer than 100 chars -> [UNK]; else greedy longest-match-first with "##"
   on non-initial pieces; if some position has no match the whole token -> a single [UNK].
7. ids = [CLS] + pieces[:126] + [SEP], then [PAD]=0 up to 128.
"""
import unicodedata

MAX_LEN = 128
MAX_WORD_CHARS = 100

CJK_RANGES = [
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B920, 0x2CEAF),  # sic: HF tokenizers' range (original BERT has 0x2B820); kept for compatibility
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
]

# Unicode White_Space property (what Rust's char::is_whitespace tests)
WHITESPACE = {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000} | set(
    range(0x2000, 0x200B)
)


def is_control(c):
    if c in "\t\n\r":
        return False
    # Cn (unassigned) is NOT dropped: HF tokenizers keeps unassigned code points
    return unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co")


def is_whitespace(c):
    return ord(c) in WHITESPACE


def is_cjk(cp):
    return any(a <= cp <= b for a, b in CJK_RANGES)


def is_punct(c):
    cp = ord(c)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(c).startswith("P")


def normalize(text):
    out = []
    for c in text:
        cp = ord(c)
        if cp == 0 or cp == 0xFFFD or is_control(c):
            continue
        if is_whitespace(c):
            out.append(" ")
        elif is_cjk(cp):
            out.append(" " + c + " ")
        else:
            out.append(c)
    s = unicodedata.normalize("NFD", "".join(out))
    s = "".join(c for c in s if unicodedata.category(c) != "Mn")
    return "".join(c.lower() for c in s)


def pre_tokenize(norm):
    words = []
    for w in norm.split(" "):
        cur = []
        for c in w:
            if is_whitespace(c):  # (cannot happen after normalize, kept for clarity)
                if cur:
                    words.append("".join(cur))
                cur = []
            elif is_punct(c):
                if cur:
                    words.append("".join(cur))
                    cur = []
                words.append(c)
            else:
                cur.append(c)
        if cur:
            words.append("".join(cur))
    return words


class WordPiece:
    def __init__(self, vocab_path):
        with open(vocab_path, encoding="utf-8") as f:
            self.vocab = [l.rstrip("\n") for l in f]
        self.ids = {t: i for i, t in enumerate(self.vocab)}
        self.pad = self.ids["[PAD]"]
        self.unk = self.ids["[UNK]"]
        self.cls = self.ids["[CLS]"]
        self.sep = self.ids["[SEP]"]
        assert self.pad == 0

    def word_ids(self, word):
        if len(word) > MAX_WORD_CHARS:
            return [self.unk]
        out = []
        start = 0
        n = len(word)
        while start < n:
            end = n
            found = None
            while start < end:
                sub = word[start:end]
                if start > 0:
                    sub = "##" + sub
                i = self.ids.get(sub)
                if i is not None:
                    found = i
                    break
                end -= 1
            if found is None:
                return [self.unk]
            out.append(found)
            start = end
        return out

    def tokens(self, text):
        ids = []
        for w in pre_tokenize(normalize(text)):
            ids.extend(self.word_ids(w))
        return ids

    def encode(self, text, max_len=MAX_LEN):
        ids = [self.cls] + self.tokens(text)[: max_len - 2] + [self.sep]
        return ids + [self.pad] * (max_len - len(ids))


SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def train_vocab(texts, vocab_size=8000, min_frequency=2, limit_alphabet=1000):
    """Deterministic WordPiece vocabulary trainer (BPE-style merges, like HF's WordPieceTrainer, but with a
    fixed tie-break: highest pair count, then the lexicographically smallest pair). HF's trainer is not
    deterministic between runs (hash-map order), so this one is used instead; the resulting vocab.txt is read by
    both this module's encoder and HF `tokenizers` for the cross-check.

    Order of vocab.txt: specials, then the alphabet (sorted by char), then merged tokens in merge order."""
    import heapq
    from collections import Counter, defaultdict

    wc = Counter()
    for t in texts:
        wc.update(pre_tokenize(normalize(t)))
    chars = Counter()
    for w, c in wc.items():
        for ch in w:
            chars[ch] += c
    alphabet = sorted(sorted(chars, key=lambda ch: (-chars[ch], ch))[:limit_alphabet])
    aset = set(alphabet)
    words, counts = [], []
    for w in sorted(wc):
        if len(w) > MAX_WORD_CHARS or any(ch not in aset for ch in w):
            continue
        words.append([w[0]] + ["##" + ch for ch in w[1:]])
        counts.append(wc[w])
    vocab = list(SPECIALS)
    seen = set(vocab)
    for ch in alphabet:
        for tok in (ch, "##" + ch):
            if tok not in seen:
                seen.add(tok)
                vocab.append(tok)
    pair_count = defaultdict(int)
    where = defaultdict(set)
    for i, sy in enumerate(words):
        for a, b in zip(sy, sy[1:]):
            pair_count[(a, b)] += counts[i]
            where[(a, b)].add(i)
    heap = [(-c, p) for p, c in pair_count.items()]
    heapq.heapify(heap)
    while len(vocab) < vocab_size and heap:
        negc, pair = heapq.heappop(heap)
        if pair_count.get(pair, 0) != -negc or -negc <= 0:
            continue  # stale entry
        if -negc < min_frequency:
            break
        a, b = pair
        new = a + b[2:]
        if new not in seen:
            seen.add(new)
            vocab.append(new)
        touched = set()
        for i in sorted(where.pop(pair, ())):
            sy = words[i]
            c = counts[i]
            for p in zip(sy, sy[1:]):
                pair_count[p] -= c
                touched.add(p)
                where[p].discard(i)
            out = []
            j = 0
            while j < len(sy):
                if j + 1 < len(sy) and sy[j] == a and sy[j + 1] == b:
                    out.append(new)
                    j += 2
                else:
                    out.append(sy[j])
                    j += 1
            words[i] = out
            for p in zip(out, out[1:]):
                pair_count[p] += c
                touched.add(p)
                where[p].add(i)
        pair_count.pop(pair, None)
        for p in sorted(touched):
            if p in pair_count:
                if pair_count[p] <= 0:
                    del pair_count[p]
                else:
                    heapq.heappush(heap, (-pair_count[p], p))
    return vocab
