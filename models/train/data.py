"""Data loading for the unwritten-character model. Every source is a registry package:

* PyPI vaderSentiment==3.3.2 (sdist): additional_resources/hutto_ICWSM_2014.tar.gz, 23,703 sentences
  with the mean of ~20 human valence ratings in [-4, +4] (MIT).
* PyPI chitchat-dataset==0.9.0: 7,168 real two-person conversations (MIT).
* PyPI ffm==0.1.0: the 120 IPIP-NEO-120 items and their trait/key tables (items: public domain IPIP).
* models/train/data/game_train.jsonl: hand-written game lines used for training (disjoint from
  models/eval/game_dialogue.jsonl, which is never used for training).
"""
import glob
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.path.join(HERE, ".cache")
MODELS = os.path.dirname(HERE)

VADER_SDIST = "vaderSentiment==3.3.2"

TRAITS = ["openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism"]


def sentiment_label(rating):
    """3-class split of the mean human rating (-4..+4): < -0.5 negative, > 0.5 positive, else neutral."""
    if rating < -0.5:
        return 0
    if rating > 0.5:
        return 2
    return 1


def _vader_dir():
    x = os.path.join(CACHE, "vader")
    gt = os.path.join(x, "hutto_ICWSM_2014")
    if os.path.isdir(gt):
        return gt
    dl = os.path.join(CACHE, "dl")
    os.makedirs(dl, exist_ok=True)
    sd = glob.glob(os.path.join(dl, "vaderSentiment-3.3.2.tar.gz"))
    if not sd:
        subprocess.check_call([sys.executable, "-m", "pip", "download", VADER_SDIST, "--no-binary", ":all:", "--no-deps", "-d", dl])
        sd = glob.glob(os.path.join(dl, "vaderSentiment-3.3.2.tar.gz"))
    os.makedirs(x, exist_ok=True)
    with tarfile.open(sd[0]) as t:
        inner = t.extractfile("vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz")
        with tarfile.open(fileobj=inner) as t2:
            members = [m for m in t2.getmembers() if m.name.endswith("_GroundTruth.txt")]
            t2.extractall(x, members=members, filter="data")
    return gt


def load_vader():
    """List of dicts {text, rating, label, source} in a fixed order (files sorted by name)."""
    rows = []
    for f in sorted(glob.glob(os.path.join(_vader_dir(), "*_GroundTruth.txt"))):
        src = os.path.basename(f).split("_")[0]
        with open(f, encoding="utf-8", errors="replace", newline="") as fh:
            for line in fh.read().splitlines():
                p = line.split("\t")
                if len(p) < 3:
                    continue
                text = "\t".join(p[2:]).strip()
                r = float(p[1])
                rows.append({"text": text, "rating": r, "label": sentiment_label(r), "source": src})
    return rows


def split_vader(rows, seed=1234, frac_val=0.1, frac_test=0.1):
    """Fixed random 80/10/10 split (seeded permutation of the row order)."""
    idx = list(range(len(rows)))
    random.Random(seed).shuffle(idx)
    n_test = int(round(len(rows) * frac_test))
    n_val = int(round(len(rows) * frac_val))
    test = [rows[i] for i in idx[:n_test]]
    val = [rows[i] for i in idx[n_test : n_test + n_val]]
    train = [rows[i] for i in idx[n_test + n_val :]]
    return train, val, test


def load_ipip():
    """IPIP-NEO-120 items from the ffm package with their trait and key (+1 / -1).

    ffm.core.score() holds the tables: trait_items (0-based item indices per trait) and
    reverse_items (reverse-keyed items per trait)."""
    import inspect

    import FFM.core as core

    src = inspect.getsource(core.score)
    ns = {}
    # pull the two literal dicts out of score() without running it (it needs pandas)
    for name in ("reverse_items", "trait_items"):
        m = re.search(name + r"\s*=\s*(\{.*?\})\n", src, re.S)
        ns[name] = eval(m.group(1), {})  # literal dict of lists of ints
    name_map = {"Openness": 0, "Conscientiousness": 1, "Extraversion": 2, "Agreeableness": 3, "Neuroticism": 4}
    items = []
    for trait, idxs in ns["trait_items"].items():
        for i in idxs:
            key = -1 if i in ns["reverse_items"][trait] else 1
            items.append({"text": core.Qs[i], "item": i, "trait": name_map[trait], "key": key})
    items.sort(key=lambda d: d["item"])
    assert len(items) == 120 and len({d["item"] for d in items}) == 120
    return items


def split_ipip(items, seed=1234, n_per_cell=None):
    """Stratified hold-out: from each (trait, key) cell take 25 % (at least 1) of the items for test."""
    rng = random.Random(seed)
    test_ids = set()
    for t in range(5):
        for k in (1, -1):
            cell = [d["item"] for d in items if d["trait"] == t and d["key"] == k]
            rng.shuffle(cell)
            n = max(1, int(round(len(cell) * 0.25)))
            test_ids.update(cell[:n])
    train = [d for d in items if d["item"] not in test_ids]
    test = [d for d in items if d["item"] in test_ids]
    return train, test


_URL = re.compile(r"(https?://|www\.|\.com\b|\.org\b|\.net\b|@\w)", re.I)
_DIGITS = re.compile(r"\d{3,}")
_PROFANITY = {
    "fuck", "fucking", "fucked", "shit", "shitty", "bitch", "bitches", "cunt", "dick", "cock", "pussy", "ass",
    "asshole", "bastard", "damn", "dammit", "whore", "slut", "fag", "faggot", "nigga", "nigger", "retard",
    "retarded", "sex", "sexy", "porn", "boobs", "penis", "vagina", "wtf", "stfu", "lmao", "lmfao", "omfg", "hell",
    "crap", "piss", "pissed", "horny", "nude", "naked", "kill", "suicide", "drug", "drugs", "weed", "cocaine",
}
_MODERN = {
    "phone", "iphone", "android", "internet", "online", "email", "texting", "text", "facebook", "instagram",
    "twitter", "snapchat", "youtube", "netflix", "google", "app", "apps", "computer", "laptop", "tv",
    "television", "website", "wifi", "car", "cars", "uber", "college", "university", "class", "classes",
    "homework", "exam", "exams", "semester", "professor", "major", "degree", "job", "boss", "office", "work",
    "working", "shift", "campus", "dorm", "roommate", "netflix", "movie", "movies", "video", "game", "games",
    "gaming", "xbox", "playstation", "nintendo", "chitchat", "chat", "mturk", "hit", "turk", "bot", "robot",
    "covid", "trump", "obama", "clinton", "president", "election", "mom", "dad", "lol", "haha", "hahaha", "lmao",
    "u", "ur", "im", "dont", "cant", "wont", "thats", "whats", "idk", "tbh", "btw", "omg", "ok", "okay",
}
_WORD = re.compile(r"[a-z']+")


def clean_line(s):
    s = re.sub(r"\s+", " ", s).strip()
    return s


def reply_ok(s, min_words=3, max_words=25, strict=True):
    if not s or _URL.search(s) or _DIGITS.search(s):
        return False
    words = s.split()
    if not (min_words <= len(words) <= max_words):
        return False
    if any(ord(c) > 127 for c in s):
        return False
    toks = set(_WORD.findall(s.lower()))
    if toks & _PROFANITY:
        return False
    if strict and toks & _MODERN:
        return False
    if not re.search(r"[a-zA-Z]", s):
        return False
    return True


def load_chitchat_pairs(seed=1234):
    """(prompt, reply, conv_index) pairs: the reply is the next speaker's turn (its messages joined by a space),
    the prompt the turn before it. Conversations are visited in a seeded random order."""
    import chitchat_dataset as cd

    data = cd.Dataset()
    keys = sorted(data.keys())
    random.Random(seed).shuffle(keys)
    pairs = []
    for ci, k in enumerate(keys):
        turns = []
        for group in data[k]["messages"]:
            if not group:
                continue
            turns.append((group[0]["sender"], clean_line(" ".join(m["text"] for m in group))))
        for a, b in zip(turns, turns[1:]):
            if a[0] != b[0] and a[1] and b[1]:
                pairs.append((a[1], b[1], ci))
    return pairs, len(keys)


def load_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def neutral_training_rows(hold_every):
    """The neutral training lines, `{text, src, hold}`: `data/neutral_calib*.jsonl` and the neutral lines (trait -1)
    of `data/personality_scenes.jsonl`. `hold` marks the validation hold-back shared by fit_relationship.py,
    train.py and exp/measure.py: every `hold_every`-th calibration line of each file, and every line of every
    `hold_every`-th neutral scene template (in order of first appearance)."""
    rows = []
    for f in ["neutral_calib.jsonl", "neutral_calib_facts.jsonl"]:
        for i, r in enumerate(load_jsonl(os.path.join(HERE, "data", f))):
            rows.append({"text": r["text"], "src": f, "hold": i % hold_every == hold_every - 1})
    tpls = []
    for r in load_jsonl(os.path.join(HERE, "data", "personality_scenes.jsonl")):
        if r["trait"] == -1:
            if r["tpl"] not in tpls:
                tpls.append(r["tpl"])
            rows.append({"text": r["text"], "src": "personality_scenes.jsonl",
                         "hold": tpls.index(r["tpl"]) % hold_every == hold_every - 1})
    return rows


def text_hash(s):
    return hashlib.sha1(s.encode("utf-8")).hexdigest()


def select_chitchat(n_bank=4000, n_distill=8000, n_heldout=1000, seed=1234):
    """Deterministic chitchat selections, split by conversation:
    * bank: (prompt, reply) pairs for the response bank (clean, game-appropriate replies, 3-25 words, unique);
    * distill: extra unlabeled lines (used for teacher distillation only);
    * heldout: lines from other conversations, never trained on (embedding retrieval check)."""
    pairs, n_conv = load_chitchat_pairs(seed)
    conv_heldout = set(range(0, n_conv // 10))  # first 10 % of the shuffled conversations
    seen = set()
    bank, distill, heldout = [], [], []
    for prompt, reply, ci in pairs:
        if ci in conv_heldout:
            if len(heldout) < n_heldout and reply_ok(reply, 2, 40, strict=False) and reply.lower() not in seen:
                seen.add(reply.lower())
                heldout.append(reply)
            continue
        if len(bank) < n_bank and reply_ok(reply) and reply_ok(prompt, 2, 40, strict=False):
            key = reply.lower()
            if key in seen:
                continue
            seen.add(key)
            bank.append((prompt, reply))
    for prompt, reply, ci in pairs:
        if ci in conv_heldout or len(distill) >= n_distill:
            continue
        for s in (prompt, reply):
            if reply_ok(s, 2, 40, strict=False) and s.lower() not in seen:
                seen.add(s.lower())
                distill.append(s)
    return bank, distill[:n_distill], heldout


def teacher_embed(texts, log=print):
    """MiniLM teacher embeddings with an on-disk cache keyed by sha1(text) (models/train/.cache, git-ignored)."""
    import numpy as np

    path = os.path.join(CACHE, "teacher_cache.npz")
    cache = {}
    if os.path.exists(path):
        z = np.load(path)
        cache = dict(zip(z["keys"].tolist(), z["vecs"]))
    keys = [text_hash(t) for t in texts]
    missing = sorted({k: t for k, t in zip(keys, texts) if k not in cache}.items())
    if missing:
        from teacher import MiniLM

        log(f"teacher: encoding {len(missing)} texts (cached {len(texts) - len(missing)})")
        vecs = MiniLM().encode([t for _, t in missing], log=log)
        for (k, _), v in zip(missing, vecs):
            cache[k] = v
        os.makedirs(CACHE, exist_ok=True)
        ks = sorted(cache)
        np.savez(path, keys=np.array(ks), vecs=np.stack([cache[k] for k in ks]).astype(np.float32))
    return np.stack([cache[k] for k in keys]).astype(np.float32)
