#!/usr/bin/env python3
"""Train, export and evaluate models/unwritten-character-v2.onnx.

Run from the repo root:  python models/train/train.py     (or: bash models/train/run.sh)

Stages (all seeded): data -> WordPiece vocab -> teacher (MiniLM, cached) targets -> conv student in JAX
(4-bit quantisation-aware from epoch QAT_START on) -> personality head (logistic regression on frozen student
features) -> ONNX fp32 reference -> 4-bit weight-only export (two values per byte, unpacked in the graph)
-> evaluation with onnxruntime on the 4-bit model -> eval files, tokenizer vectors, response bank, manifest,
model card.
"""
import json
import os
import random
import sys
import time

T_START = time.time()
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_enable_fast_math=false")

import numpy as np  # noqa: E402

import data  # noqa: E402
import response_bank  # noqa: E402
import wordpiece  # noqa: E402

SEED = 1234
MODEL_VERSION = "2.1.0"  # 2.1: the sequence axis of input_ids is "sequence" (<= MAX_LEN), not fixed at 128
MODEL_FILE = "unwritten-character-v2.onnx"
MODELS = os.path.dirname(HERE)
EVAL = os.path.join(MODELS, "eval")
MAX_LEN = 128
VOCAB_SIZE = 8000
EMB = 96  # token embedding width (v1: 128)
CH = 192  # conv channels
FEAT = 192  # shared feature width
D = 96  # sentence embedding width
EPOCHS = int(os.environ.get("UW_EPOCHS", "11"))
BATCH = 64
LR = 2e-3
# 4-bit weight-only quantisation (v2). The weights named in QUANT4 are quantised to 4 bits, symmetric, one float32
# scale per output channel (per row for the token table): q = clip(round(W / s), -7, 7), s = max|W| / 7. From epoch
# QAT_START on (1-based), the training forward pass uses these fake-quantised weights with a straight-through
# estimator, and the best epoch is chosen among those epochs only (validation accuracy of the quantised forward), so the
# exported 4-bit weights are exactly the ones the network was trained and selected with.
QUANT_BITS = 4
QMAX = 2 ** (QUANT_BITS - 1) - 1  # 7
QUANT4 = {"E": 0, "W1": 0, "W2": 0, "W3": 0, "Wd": 1, "We": 1}  # weight -> axis of its per-channel scale
QAT_START = int(os.environ.get("UW_QAT_START", "6"))
# The 4-bit weights' per-channel scales are stored as float16 (+ Cast to float32 in the graph): saves 2 bytes per row of
# the token table (16 KB). The integer values are the trained ones; only the scale is rounded (relative error
# <= 2^-11), so the export differs from the fake-quantised training forward pass by that rounding only (checked below).
SCALE_F16 = True

random.seed(SEED)
np.random.seed(SEED)
LOG_LINES = []


def log(*a):
    s = " ".join(str(x) for x in a)
    s = f"[{time.time() - T_START:7.1f}s] {s}"
    print(s, flush=True)
    LOG_LINES.append(s)


sha256_file = response_bank.sha256_file


# ----------------------------------------------------------------------------------------------------------
# 1. data
# ----------------------------------------------------------------------------------------------------------
vader = data.load_vader()
v_train, v_val, v_test = data.split_vader(vader, seed=SEED)
ipip = data.load_ipip()
ipip_train, ipip_test = data.split_ipip(ipip, seed=SEED)
bank_pairs, cc_distill, cc_heldout = data.select_chitchat(seed=SEED)
game_train = data.load_jsonl(os.path.join(HERE, "data", "game_train.jsonl"))
game_eval = data.load_jsonl(os.path.join(EVAL, "game_dialogue.jsonl"))
pers_hand = data.load_jsonl(os.path.join(HERE, "data", "personality_train.jsonl"))
pers_gen_all = data.load_jsonl(os.path.join(HERE, "data", "personality_gen.jsonl"))  # make_personality_gen.py
game_gen_all = data.load_jsonl(os.path.join(HERE, "data", "game_gen.jsonl"))  # make_game_gen.py (templates)
assert not ({g["text"].lower() for g in game_gen_all} & {g["text"].lower() for g in game_eval})
assert not ({g["text"].lower() for g in pers_hand + pers_gen_all} & {g["text"].lower() for g in game_eval})
assert not ({g["text"].lower() for g in pers_hand + pers_gen_all} & {d["text"].lower() for d in ipip})
assert not ({g["text"].lower() for g in game_train} & {g["text"].lower() for g in game_eval})
# disjointness beyond exact matches: drop every template-generated line whose teacher cosine to any game eval
# line is >= GEN_MAX_COS, and every generated personality line whose cosine to any IPIP item is >= GEN_MAX_COS
GEN_MAX_COS = 0.75
_sg = data.teacher_embed([g["text"] for g in game_gen_all], log=log) @ data.teacher_embed([g["text"] for g in game_eval], log=log).T
game_gen = [g for g, mx in zip(game_gen_all, _sg.max(1)) if mx < GEN_MAX_COS]
_sp = data.teacher_embed([d["text"] for d in pers_gen_all], log=log) @ data.teacher_embed([d["text"] for d in ipip], log=log).T
pers_gen = [d for d, mx in zip(pers_gen_all, _sp.max(1)) if mx < GEN_MAX_COS]
pers_aug = pers_hand + pers_gen
assert not ({g["text"].lower() for g in pers_aug} & {d["text"].lower() for d in ipip})
GEN_FILTER = {"threshold": GEN_MAX_COS, "game_generated": len(game_gen_all), "game_dropped": len(game_gen_all) - len(game_gen),
              "game_max_cos_kept": float(_sg.max(1)[_sg.max(1) < GEN_MAX_COS].max()),
              "personality_generated": len(pers_gen_all), "personality_dropped": len(pers_gen_all) - len(pers_gen),
              "personality_max_cos_kept": float(_sp.max(1)[_sp.max(1) < GEN_MAX_COS].max())}
log("generated-line filter:", json.dumps(GEN_FILTER))
game_train_all = game_train + game_gen  # hand-written + template lines (all labelled by construction)

# ---- retrain experiment (issue 20; branch retrain-exp) -------------------------------------------------------
# UW_EXP=<name>: write the 4-bit model to models/train/exp/<name>.onnx (+ <name>.json) and stop after the export
# checks (no test-split evaluation, no eval files / bank / card: the held-out sets are measured later by
# exp/measure.py, once per configuration). UW_HARD=1 adds data/sentiment_hard.jsonl, UW_NEUTRAL=1 adds the neutral
# lines (neutral_calib*.jsonl + the neutral lines of personality_scenes.jsonl) with sentiment 1 (neutral) and
# relationship target 0. UW_HOLD=1 (default) holds back every 4th template of sentiment_hard (fit_sentiment.py's
# rule) and every 4th neutral line / neutral scene template (fit_relationship.py's rule) as validation. Both sets are
# filtered like game_gen: no exact overlap with a held-out line, and every line with teacher cosine >= GEN_MAX_COS to
# a line of sentiment_test (= v_test), game_dialogue, game_dialogue_hard or a neutral eval set is dropped.
EXP = os.environ.get("UW_EXP")
USE_HARD = os.environ.get("UW_HARD", "0") == "1"
USE_NEUTRAL = os.environ.get("UW_NEUTRAL", "0") == "1"
EXP_HOLD = os.environ.get("UW_HOLD", "1") == "1"
HARD_REPEAT = int(os.environ.get("UW_HARD_REPEAT", "1"))
NEUTRAL_REPEAT = int(os.environ.get("UW_NEUTRAL_REPEAT", "1"))  # per-line repeat of the 44 neutral_calib* lines
NEUTRAL_RELW = float(os.environ.get("UW_NEUTRAL_RELW", "2.0"))  # relationship-loss weight of a neutral row
GAME_HW = float(os.environ.get("UW_GAME_HW", "1.0"))  # hard-label CE weight of game/hard/neutral rows (VADER rows: 1)
# UW_SOFT_ONEHOT=1: the soft (teacher) target of game/hard/neutral rows is the one-hot hand label instead of the
# cross-fitted teacher probabilities (the teacher reads e.g. sarcasm by its surface words)
SOFT_ONEHOT = os.environ.get("UW_SOFT_ONEHOT", "0") == "1"
# UW_TEACHER_ORIG=1: the sentiment teacher is trained on the original set only (VADER train + game lines), so every
# teacher soft label and every teacher-derived relationship target is the original run's; the new (hard/neutral)
# rows then get the one-hot hand label as their soft target
TEACHER_ORIG = os.environ.get("UW_TEACHER_ORIG", "0") == "1"
EXP_HOLD_EVERY = 4
hard_all, neutral_all = [], []
if USE_HARD:
    for h in data.load_jsonl(os.path.join(HERE, "data", "sentiment_hard.jsonl")):
        h["hold"] = EXP_HOLD and int(h["template"].rsplit("/", 1)[1]) % EXP_HOLD_EVERY == EXP_HOLD_EVERY - 1
        hard_all.append(h)
if USE_NEUTRAL:
    neutral_all = [dict(r_, hold=EXP_HOLD and r_["hold"]) for r_ in data.neutral_training_rows(EXP_HOLD_EVERY)]
EXP_FILTER = {}
if hard_all or neutral_all:
    _held_texts = [r["text"] for r in v_test] + [g["text"] for g in game_eval]
    for f_ in ["game_dialogue_hard.jsonl", "neutral_lines.jsonl", "neutral_lines_scenes.jsonl", "neutral_player_lines.jsonl"]:
        _held_texts += [r["text"] for r in data.load_jsonl(os.path.join(EVAL, f_))]
    # exact overlap with a game or neutral eval line is an error; "Sure." is also a sentence of the VADER test split
    # (neutral_calib.jsonl, personality_scenes.jsonl): the cosine filter below drops it (cosine 1)
    _held_low = {t.lower() for t in _held_texts[len(v_test):]}
    assert not ({r["text"].lower() for r in hard_all + neutral_all} & _held_low), "experiment lines overlap held-out lines"
    _held_vec = data.teacher_embed(_held_texts, log=log)

    def _drop_close(rows, name):
        mx = (data.teacher_embed([r["text"] for r in rows], log=log) @ _held_vec.T).max(1)
        EXP_FILTER[name] = {"lines": len(rows), "dropped": int((mx >= GEN_MAX_COS).sum()),
                            "max_cos_kept": float(mx[mx < GEN_MAX_COS].max())}
        return [r for r, m_ in zip(rows, mx) if m_ < GEN_MAX_COS]

    if hard_all:
        hard_all = _drop_close(hard_all, "sentiment_hard")
    if neutral_all:
        neutral_all = _drop_close(neutral_all, "neutral")
hard_train = [h for h in hard_all if not h["hold"]]
hard_val = [h for h in hard_all if h["hold"]]
neutral_train = [r for r in neutral_all if not r["hold"]]
neutral_val = [r for r in neutral_all if r["hold"]]
EXP_FILTER.update(hard_train=len(hard_train), hard_val=len(hard_val), neutral_train=len(neutral_train),
                  neutral_val=len(neutral_val))
log("experiment lines:", json.dumps(EXP_FILTER), {k_: os.environ.get(k_) for k_ in sorted(os.environ) if k_.startswith("UW_")})
log(f"vader {len(vader)} -> train {len(v_train)} val {len(v_val)} test {len(v_test)}; ipip train {len(ipip_train)} "
    f"test {len(ipip_test)}; chitchat bank {len(bank_pairs)} distill {len(cc_distill)} heldout {len(cc_heldout)}; "
    f"game train {len(game_train)} hand + {len(game_gen)} generated, eval {len(game_eval)}; personality lines "
    f"{len(pers_hand)} hand + {len(pers_gen)} generated")

# Relationship anchors (hand-written; speaker -> listener attitude). Disjoint from the game eval set.
POS_ANCHORS = [
    "I like you a lot.", "You are my dearest friend.", "I trust you completely.", "Thank you, you are very kind.",
    "I am so glad you are here with me.", "You can always count on me.", "I care about you.",
    "You have been wonderful to me.", "I admire you.", "Let me help you with that, friend.",
    "I would do anything for you.", "It is a pleasure to see you again.",
]
NEG_ANCHORS = [
    "I hate you.", "You are a liar and a cheat.", "Get away from me.", "I will never trust you again.",
    "You disgust me.", "I wish you were dead.", "You are worthless to me.", "Leave me alone, you fool.",
    "You betrayed me.", "I despise everything about you.", "You are my enemy.", "Stay away from me or else.",
]
assert not ({a.lower() for a in POS_ANCHORS + NEG_ANCHORS} & {g["text"].lower() for g in game_eval})

# ----------------------------------------------------------------------------------------------------------
# 2. vocabulary (deterministic trainer) on training text only
# ----------------------------------------------------------------------------------------------------------
vocab_texts = ([r["text"] for r in v_train] + [p for p, _ in bank_pairs] + [r for _, r in bank_pairs] + cc_distill
               + [d["text"] for d in ipip_train] + [g["text"] for g in game_train_all] + [d["text"] for d in pers_aug])
t0 = time.time()
vocab = wordpiece.train_vocab(vocab_texts, vocab_size=VOCAB_SIZE)
VOCAB_PATH = os.path.join(MODELS, "vocab.txt")
with open(VOCAB_PATH, "w", encoding="utf-8", newline="\n") as f:
    f.write("\n".join(vocab) + "\n")
tok = wordpiece.WordPiece(VOCAB_PATH)
log(f"vocab {len(vocab)} tokens in {time.time() - t0:.1f}s; pad={tok.pad} unk={tok.unk} cls={tok.cls} sep={tok.sep}")


def encode_many(texts):
    return response_bank.encode_many(tok, texts)


# ----------------------------------------------------------------------------------------------------------
# 3. teacher (all-MiniLM-L6-v2, numpy/JAX forward, cached) and derived targets
# ----------------------------------------------------------------------------------------------------------
all_teacher_texts = ([r["text"] for r in vader] + [p for p, _ in bank_pairs] + [r for _, r in bank_pairs] + cc_distill
                     + cc_heldout + [d["text"] for d in ipip] + [g["text"] for g in game_train_all]
                     + POS_ANCHORS + NEG_ANCHORS + [d["text"] for d in pers_aug]
                     + [h["text"] for h in hard_all] + [r["text"] for r in neutral_all])
t0 = time.time()
T_all = data.teacher_embed(all_teacher_texts, log=log)
TEACH = dict(zip(all_teacher_texts, T_all))
teacher_seconds = time.time() - t0
log(f"teacher embeddings ready ({len(TEACH)} texts) in {teacher_seconds:.1f}s")


def T(texts):
    return np.stack([TEACH[t] for t in texts])


from sklearn.decomposition import PCA  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

train_text_pool = [r["text"] for r in v_train] + [r for _, r in bank_pairs] + cc_distill + [g["text"] for g in game_train_all]
pca = PCA(n_components=D, random_state=SEED).fit(T(train_text_pool))
log(f"teacher PCA {D}: explained variance {pca.explained_variance_ratio_.sum():.3f}")


def emb_target(texts):
    z = pca.transform(T(texts))
    return (z / np.linalg.norm(z, axis=1, keepdims=True)).astype(np.float32)


# teacher sentiment classifier: logistic regression on [MiniLM embedding, TF-IDF 1-2 grams] (C chosen on val)
import scipy.sparse as sp  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402

_st_new = [] if TEACHER_ORIG else [(h["text"], h["sentiment"]) for h in hard_train] + [(r["text"], 1) for r in neutral_train]
st_texts = [r["text"] for r in v_train] + [g["text"] for g in game_train_all] + [t_ for t_, _ in _st_new]
st_y = np.array([r["label"] for r in v_train] + [g["sentiment"] for g in game_train_all] + [y_ for _, y_ in _st_new])


class SentTeacher:
    def __init__(self, texts, y, C):
        self.vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True).fit(texts)
        self.lr = LogisticRegression(C=C, max_iter=3000).fit(self.X(texts), y)

    def X(self, texts):
        return sp.hstack([sp.csr_matrix(T(texts)), self.vec.transform(texts)]).tocsr()

    def proba(self, texts):
        return self.lr.predict_proba(self.X(texts))


best = None
for C in (1.0,):  # C=1.0 won on validation against 2.0 in earlier runs; one fit saves ~40 s
    tm = SentTeacher(st_texts, st_y, C)
    acc = (tm.proba([r["text"] for r in v_val]).argmax(1) == np.array([r["label"] for r in v_val])).mean()
    if best is None or acc > best[0]:
        best = (acc, C, tm)
teacher_val_acc, teacher_C, teacher_lr = best
teacher_test_acc = float((teacher_lr.proba([r["text"] for r in v_test]).argmax(1) == np.array([r["label"] for r in v_test])).mean())
log(f"teacher (MiniLM+TF-IDF LR) sentiment: C={teacher_C} val {teacher_val_acc:.4f} test {teacher_test_acc:.4f}")
# cross-fitted soft labels for the teacher's own training texts (5 folds), so the student is not taught the
# teacher's memorised training labels
CF_SOFT = {}
cf = np.random.default_rng(SEED).permutation(len(st_texts)) % 5
for fo in range(5):
    tm = SentTeacher([t for t, c in zip(st_texts, cf) if c != fo], st_y[cf != fo], teacher_C)
    ho = [t for t, c in zip(st_texts, cf) if c == fo]
    for t, pr in zip(ho, tm.proba(ho)):
        CF_SOFT[t] = pr
log("cross-fitted teacher soft labels done")
for _nm, _rows, _lab in [("game_train", game_train, "sentiment"), ("game_gen", game_gen, "sentiment"),
                         ("hard_train", hard_train, "sentiment"), ("neutral_train", neutral_train, None)]:
    if _rows and all(r_["text"] in CF_SOFT for r_ in _rows):
        _acc = np.mean([CF_SOFT[r_["text"]].argmax() == (r_[_lab] if _lab else 1) for r_ in _rows])
        log(f"cross-fitted teacher argmax agrees with the hand label on {_nm}: {_acc:.3f} (n={len(_rows)})")


def game_soft(text, label):
    if SOFT_ONEHOT or text not in CF_SOFT:
        return np.eye(3, dtype=np.float32)[label]
    return CF_SOFT[text]

# personality teacher: per-trait logistic regression on MiniLM embeddings of the hand-written and generated
# personality lines ONLY (no IPIP item), so the student, which is distilled from it, never sees an IPIP label and
# every IPIP item stays usable for evaluation
PT_C = 1.0
pers_teacher = []
pers_train = pers_aug
for t in range(5):
    rows = [d for d in pers_train if d["trait"] == t]
    pers_teacher.append(LogisticRegression(C=PT_C, max_iter=5000, class_weight="balanced").fit(
        T([d["text"] for d in rows]), [d["key"] > 0 for d in rows]))


def pers_teacher_proba(texts):
    X = T(texts)
    return np.stack([m_.predict_proba(X)[:, 1] for m_ in pers_teacher], 1).astype(np.float32)

# relationship target
pos_c = T(POS_ANCHORS).mean(0)
neg_c = T(NEG_ANCHORS).mean(0)


def anchor_raw(texts):
    X = T(texts)
    return X @ pos_c - X @ neg_c


ar_train = anchor_raw(train_text_pool)
AR_MU, AR_SD = float(np.median(ar_train)), float(ar_train.std())
RATING_SD = float(np.std([r["rating"] for r in v_train]))


def rel_target(texts, ratings=None):
    """relationship target = tanh(0.6 * z_anchor + 0.4 * z_valence), where z_anchor is the standardised
    difference of the teacher's cosine to the mean 'warm toward you' anchor and the mean 'hostile toward you'
    anchor, and z_valence the standardised human rating (VADER sentences) or, where no human rating exists,
    the teacher classifier's expected valence (p_pos - p_neg) * 2."""
    za = (anchor_raw(texts) - AR_MU) / AR_SD
    if ratings is None:
        p = teacher_lr.proba(texts)
        zv = (p[:, 2] - p[:, 0]) * 2.0
    else:
        zv = np.asarray(ratings) / RATING_SD
    return np.tanh(0.6 * za + 0.4 * zv).astype(np.float32)


# ----------------------------------------------------------------------------------------------------------
# 4. baselines on the exact split (majority, VADER lexicon, TF-IDF + LR)
# ----------------------------------------------------------------------------------------------------------
y_val = np.array([r["label"] for r in v_val])
y_test = np.array([r["label"] for r in v_test])
maj = int(np.bincount([r["label"] for r in v_train]).argmax())
base = {"majority_class": int(maj), "majority_acc": float((y_test == maj).mean())}
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # noqa: E402

sia = SentimentIntensityAnalyzer()


def vader_cls(texts, th):
    c = np.array([sia.polarity_scores(t)["compound"] for t in texts])
    return np.where(c <= -th, 0, np.where(c >= th, 2, 1)), c


vp, _ = vader_cls([r["text"] for r in v_test], 0.05)
base["vader_acc_th0.05"] = float((vp == y_test).mean())
_, cval = vader_cls([r["text"] for r in v_val], 0.05)
ths = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5]
th_best = max(ths, key=lambda th: (np.where(cval <= -th, 0, np.where(cval >= th, 2, 1)) == y_val).mean())
vp2, _ = vader_cls([r["text"] for r in v_test], th_best)
base["vader_tuned_threshold"] = th_best
base["vader_acc_tuned"] = float((vp2 == y_test).mean())
best = None
for C in (1.0, 2.0, 4.0):
    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    Xtr = vec.fit_transform([r["text"] for r in v_train])
    clf = LogisticRegression(C=C, max_iter=3000).fit(Xtr, [r["label"] for r in v_train])
    acc = (clf.predict(vec.transform([r["text"] for r in v_val])) == y_val).mean()
    if best is None or acc > best[0]:
        best = (acc, C, vec, clf)
_, tf_C, vec, clf = best
base["tfidf_lr_C"] = tf_C
base["tfidf_lr_acc"] = float((clf.predict(vec.transform([r["text"] for r in v_test])) == y_test).mean())
base["teacher_acc"] = teacher_test_acc
log("baselines on the test split:", json.dumps(base))

# ----------------------------------------------------------------------------------------------------------
# 5. training pool
# ----------------------------------------------------------------------------------------------------------
GAME_REPEAT = 6  # hand-written game lines
GEN_REPEAT = 1  # template-generated game lines (already ~9x as many, and templated)
W_PERS = 0.3  # personality distillation (teacher trained on the personality lines only)
DROP_TOK, DROP_FEAT = 0.1, 0.2


def make_pool():
    rows = []  # (text, hard label or -1, soft probs, rel, rel_w, emb_w, pers item trait or -1, pers item key)
    vt = [r["text"] for r in v_train]
    soft_v = [CF_SOFT[t] for t in vt]
    rel_v = rel_target(vt, [r["rating"] for r in v_train])
    for r, s, rl in zip(v_train, soft_v, rel_v):
        rows.append((r["text"], r["label"], s, rl, 1.0, 1.0, -1, 0, 1.0))
    gt = [g["text"] for g in game_train]
    soft_g = [game_soft(g["text"], g["sentiment"]) for g in game_train]
    for _ in range(GAME_REPEAT):
        for g, s in zip(game_train, soft_g):
            rows.append((g["text"], g["sentiment"], s, np.float32(g["affinity"]), 2.0, 1.0, -1, 0, GAME_HW))
    for _ in range(GEN_REPEAT):
        for g in game_gen:
            rows.append((g["text"], g["sentiment"], game_soft(g["text"], g["sentiment"]), np.float32(g["affinity"]), 2.0, 1.0, -1, 0, GAME_HW))
    for _ in range(HARD_REPEAT):
        for h in hard_train:
            rows.append((h["text"], h["sentiment"], game_soft(h["text"], h["sentiment"]), np.float32(h["affinity"]), 2.0, 1.0, -1, 0, GAME_HW))
    for r_ in neutral_train:
        for _ in range(NEUTRAL_REPEAT if r_["src"] != "personality_scenes.jsonl" else 1):
            rows.append((r_["text"], 1, game_soft(r_["text"], 1), np.float32(0.0), NEUTRAL_RELW, 1.0, -1, 0, GAME_HW))
    pa = [d["text"] for d in pers_aug]
    for t, s, rl in zip(pa, teacher_lr.proba(pa), rel_target(pa)):
        rows.append((t, -1, s, rl, 0.5, 1.0, -1, 0, 1.0))
    cc = [r for _, r in bank_pairs] + cc_distill
    cc = list(dict.fromkeys(cc))
    soft_c = teacher_lr.proba(cc)
    rel_c = rel_target(cc)
    for t, s, rl in zip(cc, soft_c, rel_c):
        rows.append((t, -1, s, rl, 0.5, 1.0, -1, 0, 1.0))
    return rows


pool = make_pool()
P_ids = encode_many([r[0] for r in pool])
P_hard = np.array([r[1] for r in pool], np.int32)
P_soft = np.stack([r[2] for r in pool]).astype(np.float32)
P_rel = np.array([r[3] for r in pool], np.float32)
P_relw = np.array([r[4] for r in pool], np.float32)
P_emb = emb_target([r[0] for r in pool])
P_pers = pers_teacher_proba([r[0] for r in pool])
P_len = (P_ids != 0).sum(1)
P_hw = np.array([r[8] for r in pool], np.float32)

log(f"training pool {len(pool)} rows; mean length {P_len.mean():.1f} tokens; unk rate "
    f"{(P_ids == tok.unk).sum() / (P_ids != 0).sum():.4f}")

# ----------------------------------------------------------------------------------------------------------
# 6. student model (JAX)
# ----------------------------------------------------------------------------------------------------------
import functools  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

jax.config.update("jax_default_matmul_precision", "highest")


def init_embeddings():
    """Initialise the token table from the teacher: each student token's text (without '##') is tokenised with
    the teacher's WordPiece and its teacher input-embedding rows averaged, then PCA-reduced to EMB dims."""
    from teacher import MiniLM

    m = MiniLM()
    W = m.w["embeddings.word_embeddings.weight"]
    vecs = np.zeros((len(vocab), W.shape[1]), np.float32)
    for i, t in enumerate(vocab):
        if t.startswith("[") and t.endswith("]"):
            continue
        s = t[2:] if t.startswith("##") else t
        ids = m.tok.encode(s, add_special_tokens=False).ids
        if s and t.startswith("##"):
            # prefer the teacher's own continuation piece when it has one
            j = m.tok.token_to_id("##" + s)
            ids = [j] if j is not None else ids
        if ids:
            vecs[i] = W[ids].mean(0)
    rows = np.array([i for i, t in enumerate(vocab) if not (t.startswith("[") and t.endswith("]"))])
    p = PCA(n_components=EMB, random_state=SEED).fit(vecs[rows])
    z = np.zeros((len(vocab), EMB), np.float32)
    z[rows] = p.transform(vecs[rows])
    z /= z[rows].std() / 0.5
    rng = np.random.default_rng(SEED)
    spec = [i for i, t in enumerate(vocab) if t.startswith("[") and t.endswith("]") and i != 0]
    z[spec] = rng.normal(0, 0.5, (len(spec), EMB))
    z[0] = 0.0
    return z


def glorot(rng, shape, fan_in, fan_out):
    lim = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-lim, lim, shape).astype(np.float32)


def init_params():
    rng = np.random.default_rng(SEED)
    p = {
        "E": init_embeddings(),
        "W1": glorot(rng, (CH, EMB, 3), EMB * 3, CH), "b1": np.zeros(CH, np.float32),
        "W2": glorot(rng, (CH, CH, 3), CH * 3, CH), "b2": np.zeros(CH, np.float32),
        "W3": glorot(rng, (CH, CH, 3), CH * 3, CH), "b3": np.zeros(CH, np.float32),
        "Wd": glorot(rng, (2 * CH, FEAT), 2 * CH, FEAT), "bd": np.zeros(FEAT, np.float32),
        "Ws": glorot(rng, (FEAT, 3), FEAT, 3), "bs": np.zeros(3, np.float32),
        "Wr": glorot(rng, (FEAT, 1), FEAT, 1), "br": np.zeros(1, np.float32),
        "We": glorot(rng, (2 * CH, D), 2 * CH, D), "be": np.zeros(D, np.float32),
        "Wpd": glorot(rng, (FEAT, 5), FEAT, 5), "bpd": np.zeros(5, np.float32),
    }
    return {k: jnp.asarray(v) for k, v in p.items()}


def conv1d(x, W, b, dil):
    # x [B, C, T], W [O, C, 3] -> 'same' padding, like ONNX Conv(pads=[dil, dil], dilations=[dil])
    y = jax.lax.conv_general_dilated(x, W, window_strides=(1,), padding=[(dil, dil)], rhs_dilation=(dil,),
                                     dimension_numbers=("NCH", "OIH", "NCH"))
    return y + b[None, :, None]


def fake_quant(W, axis):
    """Symmetric QUANT_BITS-bit quantisation with one scale per index of `axis` (straight-through estimator: the
    forward pass sees the quantised weight, the gradient passes to W unchanged)."""
    red = tuple(i for i in range(W.ndim) if i != axis)
    s = jax.lax.stop_gradient(jnp.max(jnp.abs(W), axis=red, keepdims=True)) / QMAX
    s = jnp.where(s == 0, 1.0, s)
    q = jnp.clip(jnp.round(W / s), -QMAX, QMAX) * s
    return W + jax.lax.stop_gradient(q - W)


def quantised(p):
    """p with every QUANT4 weight replaced by its fake-quantised version (what the 4-bit export computes)."""
    return {k_: (fake_quant(v_, QUANT4[k_]) if k_ in QUANT4 else v_) for k_, v_ in p.items()}


def features(p, ids, key=None):
    mask = (ids > 0).astype(jnp.float32)  # [B, T]
    x = p["E"][ids] * mask[:, :, None]  # [B, T, EMB]
    if key is not None:  # training: drop whole token vectors (mask stays, so pooling counts are unchanged)
        k1, k2, k3 = jax.random.split(key, 3)
        keep = jax.random.bernoulli(k1, 1 - DROP_TOK, ids.shape).astype(jnp.float32)
        x = x * keep[:, :, None] / (1 - DROP_TOK)
    x = jnp.transpose(x, (0, 2, 1))
    m3 = mask[:, None, :]
    h1 = jax.nn.relu(conv1d(x, p["W1"], p["b1"], 1)) * m3
    h2 = (jax.nn.relu(conv1d(h1, p["W2"], p["b2"], 2)) + h1) * m3
    h3 = (jax.nn.relu(conv1d(h2, p["W3"], p["b3"], 4)) + h2) * m3
    cnt = mask.sum(1, keepdims=True)
    mean = h3.sum(2) / cnt
    mx = h3.max(2)
    pooled = jnp.concatenate([mean, mx], 1)
    pin = pooled
    if key is not None:
        pin = pooled * jax.random.bernoulli(k2, 1 - DROP_FEAT, pooled.shape) / (1 - DROP_FEAT)
    f = jax.nn.relu(pin @ p["Wd"] + p["bd"])
    if key is not None:
        f = f * jax.random.bernoulli(k3, 1 - DROP_FEAT, f.shape) / (1 - DROP_FEAT)
    return pooled, f


def forward(p, ids, key=None, q=False):
    if q:
        p = quantised(p)
    pooled, f = features(p, ids, key)
    logits = f @ p["Ws"] + p["bs"]
    rel = jnp.tanh(f @ p["Wr"] + p["br"])[:, 0]
    e = pooled @ p["We"] + p["be"]
    e = e / jnp.sqrt((e * e).sum(1, keepdims=True) + 1e-12)
    return logits, rel, e, f


def pers_logits(p, f):
    return f @ p["Wpd"] + p["bpd"]


W_HARD, W_SOFT, W_REL, W_EMB = 0.5, 1.0, float(os.environ.get("UW_W_REL", "0.5")), 1.0  # UW_W_REL: retrain experiment


def bce(logit, y):
    return jnp.maximum(logit, 0) - logit * y + jnp.log1p(jnp.exp(-jnp.abs(logit)))


def loss_fn(p, ids, hard, soft, rel, relw, embt, perst, hw, key, q):
    logits, r, e, f = forward(p, ids, key, q)
    logp = jax.nn.log_softmax(logits)
    has = (hard >= 0).astype(jnp.float32) * hw  # hw = 1 for every row unless UW_GAME_HW is set
    ce_hard = -(jnp.take_along_axis(logp, jnp.maximum(hard, 0)[:, None], 1)[:, 0] * has).sum() / jnp.maximum(has.sum(), 1)
    ce_soft = -(soft * logp).sum(1).mean()
    l_rel = (relw * (r - rel) ** 2).sum() / relw.sum()
    l_emb = (1.0 - (e * embt).sum(1)).mean()
    l_pers = bce(pers_logits(p, f), perst).mean()
    total = W_HARD * ce_hard + W_SOFT * ce_soft + W_REL * l_rel + W_EMB * l_emb + W_PERS * l_pers
    return total, (ce_hard, ce_soft, l_rel, l_emb, l_pers)


@functools.partial(jax.jit, static_argnames=("q",))
def train_step(p, m, v, t, ids, hard, soft, rel, relw, embt, perst, hw, key, lr, q=False):
    (l, parts), g = jax.value_and_grad(loss_fn, has_aux=True)(p, ids, hard, soft, rel, relw, embt, perst, hw, key, q)
    b1, b2, eps, wd = 0.9, 0.999, 1e-8, 1e-5
    t = t + 1
    m = jax.tree_util.tree_map(lambda a, b: b1 * a + (1 - b1) * b, m, g)
    v = jax.tree_util.tree_map(lambda a, b: b2 * a + (1 - b2) * b * b, v, g)
    mh = 1 - b1 ** t
    vh = 1 - b2 ** t

    def upd(pp, mm, vv):
        return pp - lr * ((mm / mh) / (jnp.sqrt(vv / vh) + eps) + wd * pp)

    p = jax.tree_util.tree_map(upd, p, m, v)
    p["E"] = p["E"].at[0].set(0.0)
    return p, m, v, t, l, parts


@functools.partial(jax.jit, static_argnames=("q",))
def predict(p, ids, q=False):
    logits, r, e, f = forward(p, ids, q=q)
    return jax.nn.softmax(logits), r, e, f


def bucket_len(n):
    for L in (16, 24, 32, 48, 64, 96, 128):
        if n <= L:
            return L
    return 128


def run_predict(p, ids, bs=256, q=False):
    """q=True: the forward pass with fake-quantised (4-bit) weights, i.e. what the shipped model computes."""
    outs = [[], [], [], []]
    lens = (ids != 0).sum(1)
    order = np.argsort(lens, kind="stable")
    for i in range(0, len(ids), bs):
        idx = order[i:i + bs]
        L = bucket_len(int(lens[idx].max()))
        batch = np.zeros((bs, L), np.int64)
        batch[:len(idx)] = ids[idx, :L]
        res = predict(p, jnp.asarray(batch), q=q)
        for o, r in zip(outs, res):
            o.append((idx, np.asarray(r)[:len(idx)]))
    final = []
    for o in outs:
        shape = o[0][1].shape[1:]
        arr = np.zeros((len(ids),) + shape, np.float32)
        for idx, r in o:
            arr[idx] = r
        final.append(arr)
    return final


def make_batches(rng):
    buckets = {}
    for i, n in enumerate(P_len):
        buckets.setdefault(bucket_len(int(n)), []).append(i)
    batches = []
    for L, idx in sorted(buckets.items()):
        idx = np.array(idx)
        rng.shuffle(idx)
        for s in range(0, len(idx), BATCH):
            b = idx[s:s + BATCH]
            if len(b) < BATCH:  # pad the last batch with random rows from the same bucket (fixed shapes)
                b = np.concatenate([b, rng.choice(idx, BATCH - len(b))])
            batches.append((L, b))
    order = rng.permutation(len(batches))
    return [batches[i] for i in order]


V_ids = encode_many([r["text"] for r in v_val])
params = init_params()
n_params = int(sum(np.prod(v.shape) for k_, v in params.items() if k_ not in ("Wpd", "bpd")))  # Wpd: see 7.
log(f"student parameters: {n_params}")
mom = jax.tree_util.tree_map(jnp.zeros_like, params)
vel = jax.tree_util.tree_map(jnp.zeros_like, params)
step = jnp.asarray(0.0)
DROP_KEY = jax.random.PRNGKey(SEED)
rng = np.random.default_rng(SEED)
best = (-1.0, None, -1)
t_train = time.time()
total_steps = EPOCHS * len(make_batches(np.random.default_rng(0)))
k = 0
history = []
for ep in range(EPOCHS):
    te = time.time()
    qat = ep + 1 >= QAT_START
    agg = np.zeros(6)
    nb = 0
    for L, b in make_batches(rng):
        lr = LR * 0.5 * (1 + np.cos(np.pi * k / total_steps)) if k > 200 else LR * (k + 1) / 200
        k += 1
        params, mom, vel, step, l, parts = train_step(
            params, mom, vel, step, jnp.asarray(P_ids[b, :L]), jnp.asarray(P_hard[b]), jnp.asarray(P_soft[b]),
            jnp.asarray(P_rel[b]), jnp.asarray(P_relw[b]), jnp.asarray(P_emb[b]), jnp.asarray(P_pers[b]),
            jnp.asarray(P_hw[b]), jax.random.fold_in(DROP_KEY, k),
            jnp.float32(lr), q=qat)
        agg += np.array([float(l)] + [float(x) for x in parts])
        nb += 1
    pv = run_predict(params, V_ids, q=qat)[0]
    vacc = float((pv.argmax(1) == y_val).mean())
    history.append({"epoch": ep + 1, "qat": qat, "loss": agg[0] / nb, "ce_hard": agg[1] / nb, "ce_soft": agg[2] / nb,
                    "rel_mse": agg[3] / nb, "emb_1mcos": agg[4] / nb, "pers_bce": agg[5] / nb, "val_acc": vacc,
                    "seconds": time.time() - te})
    log(f"epoch {ep + 1}/{EPOCHS}{' (4-bit QAT)' if qat else ''} loss {agg[0] / nb:.4f} (hard {agg[1] / nb:.3f} soft {agg[2] / nb:.3f} rel "
        f"{agg[3] / nb:.4f} emb {agg[4] / nb:.4f} pers {agg[5] / nb:.4f}) val acc {vacc:.4f} [{time.time() - te:.0f}s]")
    # only epochs trained and validated with the 4-bit weights can be shipped (all epochs if QAT_START > EPOCHS)
    if (qat or QAT_START > EPOCHS) and vacc > best[0]:
        best = (vacc, jax.tree_util.tree_map(lambda a: np.asarray(a).copy(), params), ep + 1)
train_seconds = time.time() - t_train
best_val, P, best_epoch = best
np.savez(os.path.join(data.CACHE, "student_params.npz"), **P)  # for post-mortems only; outputs always come from a full run
log(f"best epoch {best_epoch} val acc {best_val:.4f} (4-bit forward); student training took {train_seconds:.0f}s")
SHIP_Q = QAT_START <= EPOCHS  # the shipped model's forward pass = the fake-quantised one

# ----------------------------------------------------------------------------------------------------------
# 7. personality head: per-trait logistic regression on the frozen student embedding (the encoder never saw a
#    personality label, so cross-validation over all 120 items is an honest second estimate)
# ----------------------------------------------------------------------------------------------------------
Pj = {k_: jnp.asarray(v_) for k_, v_ in P.items()}
IP_ids = encode_many([d["text"] for d in ipip])
AUG_ids = encode_many([d["text"] for d in pers_aug])
_ip = run_predict(Pj, IP_ids, q=SHIP_Q)  # features of the shipped (4-bit) network
_au = run_predict(Pj, AUG_ids, q=SHIP_Q)
FEATS = {"embedding": (_ip[2], _au[2]), "feature": (_ip[3], _au[3])}
ITEM_IDX = {d["item"]: i for i, d in enumerate(ipip)}


def fit_pers(Xi, Xa, items, C):
    """items: IPIP rows to train on (plus all augmentation lines). Returns W [F,5], b [5]."""
    F = Xi.shape[1]
    W, b = np.zeros((F, 5), np.float32), np.zeros(5, np.float32)
    for t in range(5):
        X = np.concatenate([Xi[[ITEM_IDX[d["item"]] for d in items if d["trait"] == t]],
                            Xa[[j for j, d in enumerate(pers_aug) if d["trait"] == t]]])
        y = [d["key"] > 0 for d in items if d["trait"] == t] + [d["key"] > 0 for d in pers_aug if d["trait"] == t]
        m_ = LogisticRegression(C=C, max_iter=5000, class_weight="balanced").fit(X, y)
        W[:, t], b[t] = m_.coef_[0], m_.intercept_[0]
    return W, b


def cv_auc(Xi, Xa, items, C, nfold=5):
    rs = np.random.default_rng(SEED)
    fold = {}
    for t in range(5):
        for kk in (1, -1):
            cell = [d["item"] for d in items if d["trait"] == t and d["key"] == kk]
            rs.shuffle(cell)
            for j, it_ in enumerate(cell):
                fold[it_] = j % nfold
    sc = {}
    for fo in range(nfold):
        W, b = fit_pers(Xi, Xa, [d for d in items if fold[d["item"]] != fo], C)
        for d in items:
            if fold[d["item"]] == fo:
                sc[d["item"]] = float(Xi[ITEM_IDX[d["item"]]] @ W[:, d["trait"]] + b[d["trait"]])
    out = {}
    for t in range(5):
        its = [d for d in items if d["trait"] == t]
        out[data.TRAITS[t]] = float(roc_auc_score([d["key"] > 0 for d in its], [sc[d["item"]] for d in its]))
    return out


def auc_items(scores, items):
    out = {}
    for t in range(5):
        ii = [i for i, d in enumerate(items) if d["trait"] == t]
        out[data.TRAITS[t]] = float(roc_auc_score([items[i]["key"] > 0 for i in ii], scores[ii, t]))
    return out


# candidate 'distill': the student's own personality head, trained only by distillation from the personality
# teacher (which saw the hand-written + generated personality lines, never an IPIP item); no IPIP label is used
Wpd_, bpd_ = np.asarray(P["Wpd"]), np.asarray(P["bpd"])
_dist_scores = FEATS["feature"][0] @ Wpd_ + bpd_
_itr = [ITEM_IDX[d["item"]] for d in ipip_train]
dist_auc_train = auc_items(_dist_scores[_itr], ipip_train)
dist_auc_all = auc_items(_dist_scores, ipip)
log("personality distilled head AUC, 90 train items:", json.dumps({k_: round(v_, 3) for k_, v_ in dist_auc_train.items()}),
    "all 120 items:", json.dumps({k_: round(v_, 3) for k_, v_ in dist_auc_all.items()}))
# model selection on the 90 train items only (inner 5-fold CV, mean AUC; the distilled head is scored directly)
sel = [(float(np.mean(list(dist_auc_train.values()))), "distill", 0.0)]
for fname in ("embedding", "feature"):
    for C in (0.01, 0.1, 1.0, 10.0):
        a_ = cv_auc(*FEATS[fname], ipip_train, C)
        sel.append((float(np.mean(list(a_.values()))), fname, C))
sel.sort(key=lambda x: (-x[0], x[1], x[2]))
PERS_FEAT, PT_C = sel[0][1], sel[0][2]
log("personality head selection (inner CV on train items):", [(round(a_, 3), f_, c_) for a_, f_, c_ in sel])
if PERS_FEAT == "distill":
    Wp, bp = Wpd_.astype(np.float32), bpd_.astype(np.float32)
    pers_cv_all = None  # nothing is fitted on IPIP items: all 120 items are held out (see dist_auc_all)
else:
    Wp, bp = fit_pers(*FEATS[PERS_FEAT], ipip_train, PT_C)
    pers_cv_all = cv_auc(*FEATS[PERS_FEAT], ipip, PT_C)
P["Wp"], P["bp"] = Wp, bp
n_params += int(Wp.size + bp.size)
# second estimate, always reported: the best LR-on-frozen-features recipe, 5-fold item CV over all 120 items
_lr_best = [x for x in sel if x[1] != "distill"][0]
pers_cv_all_lr = cv_auc(*FEATS[_lr_best[1]], ipip, _lr_best[2])
if pers_cv_all is None:
    pers_cv_all = pers_cv_all_lr
log("personality 5-fold CV AUC over all 120 items:", json.dumps({k_: round(v_, 3) for k_, v_ in pers_cv_all.items()}))
teacher_pers_auc_all = auc_items(pers_teacher_proba([d["text"] for d in ipip]), ipip)
log("personality teacher AUC, all 120 items (teacher never saw an IPIP item):",
    json.dumps({k_: round(v_, 3) for k_, v_ in teacher_pers_auc_all.items()}))
_tp = pers_teacher_proba([d["text"] for d in ipip_test])
teacher_pers_auc = {}
for t in range(5):
    ii = [i for i, d in enumerate(ipip_test) if d["trait"] == t]
    teacher_pers_auc[data.TRAITS[t]] = float(roc_auc_score([ipip_test[i]["key"] > 0 for i in ii], _tp[ii, t]))
log("personality teacher held-out AUC:", json.dumps({k_: round(v_, 3) for k_, v_ in teacher_pers_auc.items()}))

# ----------------------------------------------------------------------------------------------------------
# 8. ONNX export (fp32 reference and the 4-bit weight-only model)
# ----------------------------------------------------------------------------------------------------------
import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

OPSET = 17


def quant4(W, axis):
    """The export twin of fake_quant: (q int in [-QMAX, QMAX], float32 scale with keepdims) such that q * s is the
    weight the QAT forward pass used."""
    W = np.asarray(W, np.float32)
    red = tuple(i for i in range(W.ndim) if i != axis)
    s = (np.abs(W).max(axis=red, keepdims=True) / np.float32(QMAX)).astype(np.float32)
    s = np.where(s == 0, np.float32(1.0), s).astype(np.float32)
    q = np.clip(np.round(W / s), -QMAX, QMAX).astype(np.int32)
    return q, s


def build_onnx(P, quant):
    inits, nodes = [], []

    def const(name, arr):
        inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def weight4(name, W, axis):
        """4-bit weight, unpacked in the graph with integer ops (all inputs are initializers, so onnxruntime and
        tract fold the whole chain into one float constant at load time). Stored: uint8 [R/2, ...] where byte =
        16 * u[i] + u[i + R/2], u = q + 8 in [1, 15] (R = size of axis 0; the first half of the rows in the high
        nibbles, the second half in the low ones), and a float32 scale per output channel.
        Graph: Cast(uint8 -> int32) -> hi = Div(b, 16) (integer division; exact, b >= 0) -> lo = b - 16 * hi ->
        Concat([hi, lo], axis 0) -> Sub 8 -> Cast(float) -> Mul scale (float16 initializer -> Cast float if
        SCALE_F16)."""
        q, s = quant4(W, axis)
        R = q.shape[0]
        assert R % 2 == 0, (name, q.shape)
        u = (q + 8).astype(np.uint8)
        packed = (u[:R // 2] * 16 + u[R // 2:]).astype(np.uint8)
        if "nib16" not in {t.name for t in inits}:
            const("nib16", np.array(16, np.int32))
            const("nib8", np.array(8, np.int32))
        const(name + "_q4", packed)
        if SCALE_F16:
            s16 = s.astype(np.float16)
            assert np.all(np.abs(s16.astype(np.float32) / s - 1) < 1e-3), name
            const(name + "_scale16", s16)
            nodes.append(helper.make_node("Cast", [name + "_scale16"], [name + "_scale"], to=TensorProto.FLOAT))
        else:
            const(name + "_scale", s)
        nodes.extend([
            helper.make_node("Cast", [name + "_q4"], [name + "_b"], to=TensorProto.INT32),
            helper.make_node("Div", [name + "_b", "nib16"], [name + "_hi"]),
            helper.make_node("Mul", [name + "_hi", "nib16"], [name + "_hi16"]),
            helper.make_node("Sub", [name + "_b", name + "_hi16"], [name + "_lo"]),
            helper.make_node("Concat", [name + "_hi", name + "_lo"], [name + "_u"], axis=0),
            helper.make_node("Sub", [name + "_u", "nib8"], [name + "_qi"]),
            helper.make_node("Cast", [name + "_qi"], [name + "_qf"], to=TensorProto.FLOAT),
            helper.make_node("Mul", [name + "_qf", name + "_scale"], [name]),
        ])
        return name

    def weight(name, W, axis):
        """fp32 initializer; quantised export: 4-bit (weight4) for the weights in QUANT4, otherwise int8
        initializer -> DequantizeLinear (per-tensor, scale 1) -> Mul by per-channel float scales (symmetric, per
        output channel / per embedding row)."""
        W = np.asarray(W, np.float32)
        if not quant:
            return const(name, W)
        if name in QUANT4:
            assert QUANT4[name] == axis, name
            return weight4(name, W, axis)
        red = tuple(i for i in range(W.ndim) if i != axis)
        s = np.abs(W).max(axis=red, keepdims=True) / 127.0
        s = np.where(s == 0, 1.0, s).astype(np.float32)
        q = np.clip(np.round(W / s), -127, 127).astype(np.int8)
        const(name + "_q", q)
        const(name + "_one", np.array(1.0, np.float32))
        const(name + "_zp", np.array(0, np.int8))
        const(name + "_scale", s)
        nodes.append(helper.make_node("DequantizeLinear", [name + "_q", name + "_one", name + "_zp"], [name + "_dq"]))
        nodes.append(helper.make_node("Mul", [name + "_dq", name + "_scale"], [name]))
        return name

    n = helper.make_node
    const("zero_i64", np.array(0, np.int64))
    const("axes_t", np.array([2], np.int64))
    const("axes_1", np.array([1], np.int64))
    const("axes_last", np.array([-1], np.int64))
    const("eps", np.array(1e-12, np.float32))
    nodes += [
        n("Greater", ["input_ids", "zero_i64"], ["mask_b"]),
        n("Cast", ["mask_b"], ["mask"], to=TensorProto.FLOAT),  # [B, T]
        n("Unsqueeze", ["mask", "axes_1"], ["mask3"]),  # [B, 1, T]
        n("Unsqueeze", ["mask", "axes_last"], ["mask_bt1"]),  # [B, T, 1]
    ]
    E = weight("E", P["E"], 0)
    W1 = weight("W1", P["W1"], 0)
    W2 = weight("W2", P["W2"], 0)
    W3 = weight("W3", P["W3"], 0)
    Wd = weight("Wd", P["Wd"], 1)
    We = weight("We", P["We"], 1)
    const("b1", P["b1"])
    const("b2", P["b2"])
    const("b3", P["b3"])
    const("bd", P["bd"])
    const("be", P["be"])
    const("Ws", np.asarray(P["Ws"], np.float32))
    const("bs", P["bs"])
    const("Wr", np.asarray(P["Wr"], np.float32))
    const("br", P["br"])
    const("Wp", np.asarray(P["Wp"], np.float32))
    const("bp", P["bp"])
    nodes += [
        n("Gather", [E, "input_ids"], ["x_bte"], axis=0),  # [B, T, EMB]
        n("Mul", ["x_bte", "mask_bt1"], ["x_m"]),
        n("Transpose", ["x_m"], ["x"], perm=[0, 2, 1]),  # [B, EMB, T]
        n("Conv", ["x", W1, "b1"], ["c1"], kernel_shape=[3], pads=[1, 1], dilations=[1], strides=[1]),
        n("Relu", ["c1"], ["r1"]),
        n("Mul", ["r1", "mask3"], ["h1"]),
        n("Conv", ["h1", W2, "b2"], ["c2"], kernel_shape=[3], pads=[2, 2], dilations=[2], strides=[1]),
        n("Relu", ["c2"], ["r2"]),
        n("Add", ["r2", "h1"], ["a2"]),
        n("Mul", ["a2", "mask3"], ["h2"]),  # [B, CH, T]
        n("Conv", ["h2", W3, "b3"], ["c3"], kernel_shape=[3], pads=[4, 4], dilations=[4], strides=[1]),
        n("Relu", ["c3"], ["r3"]),
        n("Add", ["r3", "h2"], ["a3"]),
        n("Mul", ["a3", "mask3"], ["h3"]),  # [B, CH, T]
        n("ReduceSum", ["h3", "axes_t"], ["sum_t"], keepdims=0),  # [B, CH]
        n("ReduceSum", ["mask", "axes_1"], ["cnt"], keepdims=1),  # [B, 1]
        n("Div", ["sum_t", "cnt"], ["mean_t"]),
        n("ReduceMax", ["h3"], ["max_t"], axes=[2], keepdims=0),  # h3 >= 0, padded positions are 0
        n("Concat", ["mean_t", "max_t"], ["pooled"], axis=1),  # [B, 2CH]
        n("MatMul", ["pooled", Wd], ["d0"]),
        n("Add", ["d0", "bd"], ["d1"]),
        n("Relu", ["d1"], ["feat"]),  # [B, FEAT]
        n("MatMul", ["feat", "Ws"], ["s0"]),
        n("Add", ["s0", "bs"], ["s1"]),
        n("Softmax", ["s1"], ["sentiment"], axis=-1),
        n("MatMul", ["embedding" if PERS_FEAT == "embedding" else "feat", "Wp"], ["p0"]),
        n("Add", ["p0", "bp"], ["p1"]),
        n("Sigmoid", ["p1"], ["personality"]),
        n("MatMul", ["feat", "Wr"], ["q0"]),
        n("Add", ["q0", "br"], ["q1"]),
        n("Tanh", ["q1"], ["relationship"]),
        n("MatMul", ["pooled", We], ["e0"]),
        n("Add", ["e0", "be"], ["e1"]),
        n("Mul", ["e1", "e1"], ["e_sq"]),
        n("ReduceSum", ["e_sq", "axes_1"], ["e_ss"], keepdims=1),
        n("Add", ["e_ss", "eps"], ["e_ss_eps"]),
        n("Sqrt", ["e_ss_eps"], ["e_norm"]),
        n("Div", ["e1", "e_norm"], ["embedding"]),
    ]
    # stable topological order (the personality head may read the 'embedding' output, built after it in the list)
    have = {"input_ids"} | {t.name for t in inits}
    todo, ordered = list(nodes), []
    while todo:
        for i_, nd in enumerate(todo):
            if all(x in have for x in nd.input if x):
                ordered.append(todo.pop(i_))
                have.update(nd.output)
                break
        else:
            raise RuntimeError("graph has a cycle or a missing input")
    nodes = ordered
    g = helper.make_graph(
        nodes, "unwritten_character_v2",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"])],
        [helper.make_tensor_value_info("sentiment", TensorProto.FLOAT, ["batch", 3]),
         helper.make_tensor_value_info("personality", TensorProto.FLOAT, ["batch", 5]),
         helper.make_tensor_value_info("relationship", TensorProto.FLOAT, ["batch", 1]),
         helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", D])],
        inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="unwritten-ai-train",
                              producer_version=MODEL_VERSION)
    model.ir_version = 8
    model.doc_string = (f"unwritten-character v{MODEL_VERSION}: conv text encoder with sentiment/personality/relationship/"
                        "embedding heads" + (f"; {QUANT_BITS}-bit weights" if quant else "; fp32 reference"))
    onnx.checker.check_model(model, full_check=True)
    del model.graph.value_info[:]
    return model


import onnxruntime as ort  # noqa: E402

FP32_PATH = os.path.join(HERE, ".cache", MODEL_FILE.replace(".onnx", ".fp32.onnx"))
ONNX_PATH = os.path.join(MODELS, MODEL_FILE)
os.makedirs(os.path.dirname(FP32_PATH), exist_ok=True)
onnx.save(build_onnx(P, False), FP32_PATH)
onnx.save(build_onnx(P, True), ONNX_PATH)
log(f"onnx fp32 {os.path.getsize(FP32_PATH)} bytes, {QUANT_BITS}-bit {os.path.getsize(ONNX_PATH)} bytes "
    f"(gzip -9 {response_bank.gzip_size(ONNX_PATH, 9)})")

so = ort.SessionOptions()
so.intra_op_num_threads = 1
so.inter_op_num_threads = 1
sess_fp32 = ort.InferenceSession(FP32_PATH, so, providers=["CPUExecutionProvider"])
sess = ort.InferenceSession(ONNX_PATH, so, providers=["CPUExecutionProvider"])
OUTS = response_bank.OUTS
ort_run = response_bank.ort_run  # (session, ids) -> [sentiment, personality, relationship, embedding]


# JAX vs fp32 ONNX consistency check
chk = encode_many([r["text"] for r in v_val[:256]])
jx = run_predict(Pj, chk)
ox = ort_run(sess_fp32, chk)
diff_fp32 = float(max(np.abs(jx[0] - ox[0]).max(), np.abs(jx[2] - ox[3]).max(), np.abs(jx[1] - ox[2][:, 0]).max()))
log(f"max |JAX - ONNX fp32| = {diff_fp32:.2e}")
assert diff_fp32 < 1e-3
# the quantised export must compute what the fake-quantised JAX forward pass (the one trained and selected) computed
jq = run_predict(Pj, chk, q=True)
oq = ort_run(sess, chk)
diff_quant = float(max(np.abs(jq[0] - oq[0]).max(), np.abs(jq[2] - oq[3]).max(), np.abs(jq[1] - oq[2][:, 0]).max()))
log(f"max |JAX {QUANT_BITS}-bit fake-quant - ONNX {QUANT_BITS}-bit| = {diff_quant:.2e}")
# experiment mode: the ONNX file is what gets measured, so a mismatch is recorded (exp/<name>.json), not fatal
assert diff_quant < 1e-3 or os.environ.get("UW_EXP")
# Padding invariance (the manifest's paddingInvariant): every padded position is masked and pooling ignores them, so a
# text run with only its real tokens (no trailing [PAD]) gives the outputs of the same text padded to MAX_LEN. The
# runtime relies on it to run ~27 tokens instead of 128 for a typical line; checked here on the exported file.
pad_chk = encode_many([r["text"] for r in v_val[:256]] + ["", "a " * 400])
pad_full = ort_run(sess, pad_chk)
pad_diff = 0.0
for i_, row in enumerate(pad_chk):
    n_real = max(1, int((row > 0).sum()))
    assert (row[n_real:] == 0).all() and (row[:n_real] > 0).all(), "padding must be trailing [PAD]=0 only"
    trimmed = ort_run(sess, row[None, :n_real])
    pad_diff = max(pad_diff, float(max(np.abs(a_[i_] - b_[0]).max() for a_, b_ in zip(pad_full, trimmed))))
log(f"padding invariance: max |outputs padded to {MAX_LEN} - outputs of the real tokens only| over {len(pad_chk)} "
    f"texts = {pad_diff:.2e}")
assert pad_diff < 1e-5
if EXP:
    import shutil

    _xd = os.path.join(HERE, "exp")
    os.makedirs(_xd, exist_ok=True)
    shutil.copyfile(ONNX_PATH, os.path.join(_xd, EXP + ".onnx"))
    shutil.copyfile(VOCAB_PATH, os.path.join(_xd, EXP + ".vocab.txt"))
    with open(os.path.join(_xd, EXP + ".json"), "w") as f_:
        json.dump({"exp": EXP, "env": {k_: os.environ[k_] for k_ in sorted(os.environ) if k_.startswith("UW_")},
                   "filter": EXP_FILTER, "pool_rows": len(pool), "best_epoch": best_epoch, "best_val_acc": best_val,
                   "history": history, "teacher_val_acc": teacher_val_acc, "train_seconds": train_seconds,
                   "total_seconds": time.time() - T_START, "onnx_bytes": os.path.getsize(ONNX_PATH), "diff_quant": diff_quant,
                   "personality_head": PERS_FEAT}, f_, indent=1)
    log(f"experiment {EXP}: wrote exp/{EXP}.onnx; stopping before the held-out evaluation ({time.time() - T_START:.0f}s)")
    sys.exit(0)

# ----------------------------------------------------------------------------------------------------------
# 9. evaluation of the 4-bit model (onnxruntime)
# ----------------------------------------------------------------------------------------------------------
metrics = {"baselines_test": base}
metrics["padding_invariance"] = {"texts": len(pad_chk), "max_abs_diff": pad_diff}
TE_ids = encode_many([r["text"] for r in v_test])
o8 = ort_run(sess, TE_ids)
o32 = ort_run(sess_fp32, TE_ids)
metrics["sentiment_test_acc_quant"] = float((o8[0].argmax(1) == y_test).mean())
metrics["sentiment_test_acc_fp32"] = float((o32[0].argmax(1) == y_test).mean())
metrics["sentiment_val_acc_quant"] = float((ort_run(sess, V_ids)[0].argmax(1) == y_val).mean())
metrics["quant_vs_fp32_sentiment_argmax_agreement"] = float((o8[0].argmax(1) == o32[0].argmax(1)).mean())
metrics["quant_vs_fp32_max_abs_diff_sentiment"] = float(np.abs(o8[0] - o32[0]).max())
cm = np.zeros((3, 3), int)
for a, b in zip(y_test, o8[0].argmax(1)):
    cm[a, b] += 1
metrics["sentiment_test_confusion"] = cm.tolist()
metrics["sentiment_test_n"] = int(len(y_test))
per_src = {}
for src in sorted({r["source"] for r in v_test}):
    ii = [i for i, r in enumerate(v_test) if r["source"] == src]
    per_src[src] = {"n": len(ii), "acc": float((o8[0][ii].argmax(1) == y_test[ii]).mean())}
metrics["sentiment_test_acc_by_source"] = per_src
# relationship on the held-out VADER test split (derived target) and on hand-labelled game affinity
rel_te = rel_target([r["text"] for r in v_test], [r["rating"] for r in v_test])
metrics["relationship_pearson_test_derived_target"] = float(np.corrcoef(o8[2][:, 0], rel_te)[0, 1])

GE_ids = encode_many([g["text"] for g in game_eval])
og = ort_run(sess, GE_ids)
g_y = np.array([g["sentiment"] for g in game_eval])
g_pred = og[0].argmax(1)
metrics["game_dialogue_acc"] = float((g_pred == g_y).mean())
metrics["game_dialogue_n"] = len(game_eval)
metrics["relationship_pearson_game_affinity"] = float(np.corrcoef(og[2][:, 0], [g["affinity"] for g in game_eval])[0, 1])
cats = {}
for c in sorted({g["category"] for g in game_eval}):
    ii = [i for i, g in enumerate(game_eval) if g["category"] == c]
    cats[c] = {"n": len(ii), "acc": float((g_pred[ii] == g_y[ii]).mean())}
metrics["game_dialogue_acc_by_category"] = cats
LAB = ["negative", "neutral", "positive"]
metrics["game_dialogue_failures"] = [
    {"text": g["text"], "category": g["category"], "label": LAB[g["sentiment"]], "predicted": LAB[int(p_)],
     "probs": [round(float(x), 3) for x in og[0][i]]}
    for i, (g, p_) in enumerate(zip(game_eval, g_pred)) if p_ != g["sentiment"]]
# teacher LR on game dialogue, for reference
for g in game_eval:
    TEACH[g["text"]] = None
_ge = data.teacher_embed([g["text"] for g in game_eval], log=log)
for g, e_ in zip(game_eval, _ge):
    TEACH[g["text"]] = e_
_tr_lines = [g["text"] for g in game_train_all] + [d["text"] for d in pers_aug]
_sim = _ge @ T(_tr_lines).T
metrics["game_eval_vs_train_lines_max_teacher_cos"] = {
    "max": float(_sim.max()), "n_eval_lines_above_0.9": int((_sim.max(1) > 0.9).sum()),
    "closest_pair": [game_eval[int(_sim.max(1).argmax())]["text"], _tr_lines[int(_sim[_sim.max(1).argmax()].argmax())]],
    "generated_line_filter": GEN_FILTER}
metrics["game_dialogue_acc_teacher_lr"] = float((teacher_lr.proba([g["text"] for g in game_eval]).argmax(1) == g_y).mean())
# baselines on game dialogue
gv, _ = vader_cls([g["text"] for g in game_eval], 0.05)
metrics["game_dialogue_acc_vader"] = float((gv == g_y).mean())
metrics["game_dialogue_acc_tfidf_lr"] = float((clf.predict(vec.transform([g["text"] for g in game_eval])) == g_y).mean())

# personality: held-out items (stratified 25 %), AUC of the item's own-trait output vs its key
op = ort_run(sess, IP_ids)[1]
pers = {}
for t in range(5):
    ii = [i for i, d in enumerate(ipip) if d in ipip_test and d["trait"] == t]
    yk = [ipip[i]["key"] > 0 for i in ii]
    pers[data.TRAITS[t]] = {"auc": float(roc_auc_score(yk, op[ii, t])), "n_items": len(ii), "n_pos": int(sum(yk))}
ii = [i for i, d in enumerate(ipip) if d in ipip_test]
pers["pooled_heldout_auc"] = float(roc_auc_score([ipip[i]["key"] > 0 for i in ii], [op[i, ipip[i]["trait"]] for i in ii]))
ii = [i for i, d in enumerate(ipip) if d in ipip_train]
pers["pooled_train_auc"] = float(roc_auc_score([ipip[i]["key"] > 0 for i in ii], [op[i, ipip[i]["trait"]] for i in ii]))
pers["teacher_heldout_auc"] = teacher_pers_auc
pers["cv5_auc_all_items"] = pers_cv_all
pers["cv5_auc_all_items_lr_recipe"] = {"input": _lr_best[1], "C": _lr_best[2], "auc": pers_cv_all_lr}
pers["teacher_auc_all_items"] = teacher_pers_auc_all
pers["distilled_head_auc_train_items"] = dist_auc_train
pers["ipip_labels_used_by_shipped_head"] = PERS_FEAT != "distill"
pers["shipped_auc_all_items"] = auc_items(op, ipip)
pers["shipped_auc_all_items_is_heldout"] = PERS_FEAT == "distill"
pers["head_selection"] = [[round(a_, 4), f_, c_] for a_, f_, c_ in sel]
pers["head_input"] = PERS_FEAT
pers["head_C"] = PT_C
metrics["personality"] = pers

# embedding: agreement with the teacher on held-out chitchat lines
HO_ids = encode_many(cc_heldout)
oe = ort_run(sess, HO_ids)[3]
te_ = T(cc_heldout)
St = te_ @ te_.T
Ss = oe @ oe.T
np.fill_diagonal(St, -9)
np.fill_diagonal(Ss, -9)
k10t = np.argsort(-St, 1)[:, :10]
k10s = np.argsort(-Ss, 1)[:, :10]
overlap = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(k10t, k10s)]))
top1_in10 = float(np.mean([k10t[i, 0] in set(k10s[i]) for i in range(len(k10t))]))
iu = np.triu_indices(len(cc_heldout), 1)
from scipy.stats import spearmanr  # noqa: E402

rho = float(spearmanr(St[iu], Ss[iu]).correlation)
rng_e = np.random.default_rng(SEED)
metrics["embedding"] = {"dim": D, "heldout_lines": len(cc_heldout), "teacher_top10_overlap": overlap,
                        "teacher_top1_in_student_top10": top1_in10, "pairwise_cos_spearman_vs_teacher": rho,
                        "random_top10_overlap_expected": 10 / (len(cc_heldout) - 1)}
log("metrics:", json.dumps({k_: v_ for k_, v_ in metrics.items() if k_ not in ("game_dialogue_failures",)}, indent=1))

# ----------------------------------------------------------------------------------------------------------
# 10. files for the Rust side
# ----------------------------------------------------------------------------------------------------------
with open(os.path.join(EVAL, "sentiment_test.jsonl"), "w", encoding="utf-8", newline="\n") as f:
    for r in v_test:
        f.write(json.dumps({"text": r["text"], "label": r["label"]}, ensure_ascii=False) + "\n")

# tokenizer vectors (encoder = wordpiece.WordPiece, cross-checked against HF tokenizers)
rs = random.Random(SEED)
TV = [
    "Hello, world!", "The quick brown fox jumps over the lazy dog.", "I can't believe it's not butter!",
    "Don't you dare touch my sword, thief.", "\"Quoted\" text, (parentheses) and [brackets]... & more?!",
    "café", "naïve", "Ångström", "Crème brûlée à la carte", "ÉCOLE Über Straße İstanbul", "😀", "👍🏽",
    "I love this 😀 so much 👍🏽!!", "family: 👨‍👩‍👧 ok", "你好世界", "日本語のテキスト", "Hello你好World",
    "Привет, как дела?", "Γειά σου Κόσμε ΟΔΥΣΣΕΥΣ", "tab\there\nnewline\r\nwindows", "ctrl\x00\x07\x1b chars\u200b\u200dzw",
    "nbsp\u00a0and\u2028line sep\u3000ideographic space", "\ufffdreplacement\ufeffbom", "12345 3.14159 1,000,000 -42 #1",
    "supercalifragilisticexpialidocious", "a" * 100, "b" * 101, "pneumonoultramicroscopicsilicovolcanoconiosis",
    "x" * 10000, "", "   ", "\t\n \r\n", "!!!", "...???", "don't won't shouldn't y'all",
    "e-mail me@example.com http://example.com/path?q=1", "O'Brien's café-bar; 3 p.m.", "ﬁnance ﬂow (ligatures)",
    "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ", "한국어 텍스트", "العربية نص", "עברית", "हिन्दी पाठ", "emoji flag 🇫🇷 and keycap 1️⃣",
    "Get out of my sight, you filthy thief.", " ".join(["word"] * 200),
]
TV += [r["text"] for r in rs.sample(v_test, 15)] + [r for _, r in rs.sample(bank_pairs, 10)] + \
    [r["text"] for r in rs.sample(v_train, 5)]
from tokenizers import BertWordPieceTokenizer  # noqa: E402

hf = BertWordPieceTokenizer(VOCAB_PATH, clean_text=True, handle_chinese_chars=True, strip_accents=True,
                            lowercase=True, wordpieces_prefix="##")
hf_mismatch = []
for t in TV:
    a = tok.tokens(t)
    b = hf.encode(t, add_special_tokens=False).ids
    if a != b:
        hf_mismatch.append(t)
# whole-corpus cross-check
corpus_mismatch = sum(tok.tokens(t) != hf.encode(t, add_special_tokens=False).ids
                      for t in [r["text"] for r in vader] + [g["text"] for g in game_eval] + cc_heldout)
metrics["tokenizer_crosscheck"] = {"vectors": len(TV), "vector_mismatches_vs_hf_tokenizers": len(hf_mismatch),
                                   "corpus_texts_checked": len(vader) + len(game_eval) + len(cc_heldout),
                                   "corpus_mismatches": int(corpus_mismatch)}


def codepoint_check():
    """Every Unicode scalar value in a probe string, normalizer + pre-tokenizer of both implementations."""
    import unicodedata
    from collections import Counter

    hk = hf._tokenizer
    bad = Counter()
    examples = []
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        s_ = "aB" + chr(cp) + "\u00c9z" + chr(cp)
        n1 = hk.normalizer.normalize_str(s_)
        n2 = wordpiece.normalize(s_)
        ok = n1 == n2 and [w_ for w_, _ in hk.pre_tokenizer.pre_tokenize_str(n1)] == wordpiece.pre_tokenize(n2)
        if not ok:
            bad[unicodedata.category(chr(cp))] += 1
            if len(examples) < 10:
                examples.append(f"U+{cp:04X}")
    in_vocab = sum(1 for t_ in vocab if any(unicodedata.category(ch) == "Cn" for ch in t_))
    return {"mismatches": int(sum(bad.values())), "by_category": dict(bad.most_common()),
            "examples": examples, "unicode_version": unicodedata.unidata_version, "vocab_tokens_with_Cn": in_vocab}


t0 = time.time()
metrics["tokenizer_crosscheck"]["codepoints"] = codepoint_check()
log(f"code point check ({time.time() - t0:.0f}s):", metrics["tokenizer_crosscheck"]["codepoints"])
log("tokenizer cross-check:", metrics["tokenizer_crosscheck"], hf_mismatch[:3])
with open(os.path.join(MODELS, "tokenizer_vectors.json"), "w", encoding="utf-8", newline="\n") as f:
    json.dump([{"text": t, "ids": tok.encode(t)} for t in TV], f, ensure_ascii=False, indent=0)

# reference outputs (~20 fixed texts)
REF = [
    "Get out of my sight, you filthy thief.", "Thank you so much, you saved my life!", "Where is the blacksmith?",
    "I love you more than anything.", "I will kill you and everyone you love.", "The weather is cloudy today.",
    "What a wonderful day for a festival!", "I'm so sorry for your loss.", "You fight like a drunken goat.",
    "Could you lower the price a little?", "I worry about things.", "I love large parties.", "", "   ",
    "café naïve Ångström 😀 你好", "This movie was a complete waste of time.", "An absolutely brilliant performance.",
    "Hmm.", "Bring me the dragon's head and I shall reward you handsomely.", "x" * 300,
]
R_ids = encode_many(REF)
ro = ort_run(sess, R_ids)
reference_outputs = [{"text": t, "ids": R_ids[i].tolist(), "sentiment": ro[0][i].tolist(),
                      "personality": ro[1][i].tolist(), "relationship": ro[2][i].tolist(),
                      "embedding": ro[3][i].tolist()} for i, t in enumerate(REF)]

# ----------------------------------------------------------------------------------------------------------
# 11. response bank
# ----------------------------------------------------------------------------------------------------------
# response_bank.py (shared with build_bank.py, which rebuilds the bank from the committed model without
# retraining): the hand-written game pairs of data/game_bank.jsonl minus a seeded 20 % per situation (written to
# eval/game_bank_test.jsonl, never in the bank) + the first BANK_N_CHAT chitchat pairs
BANK_N_CHAT = 1500
BANK_PATH = os.path.join(MODELS, "response_bank.json")
game_bank = response_bank.load_game_bank(os.path.join(HERE, "data", "game_bank.jsonl"))
bank, metrics["response_bank"] = response_bank.write_bank(
    sess, tok, game_bank, bank_pairs[:BANK_N_CHAT], D, BANK_PATH, os.path.join(EVAL, "game_bank_test.jsonl"), MODEL_FILE)
entries = bank["entries"]
log("response bank:", {k: v for k, v in metrics["response_bank"].items() if not k.endswith("by_situation")})
log("response bank relevance / mood fit are measured in Rust: models/train/.venv/bin/python models/train/build_bank.py "
    "--measure")

# ----------------------------------------------------------------------------------------------------------
# 12. expected.json, manifest.json, model card
# ----------------------------------------------------------------------------------------------------------
model_bytes = os.path.getsize(ONNX_PATH)
QUANT_DESC = (f"{QUANT_BITS}-bit weight-only ({', '.join(QUANT4)}; quantisation-aware training from epoch {QAT_START}): "
              "symmetric per-channel, two values per byte in uint8 initializers, unpacked in the graph (Cast int32, "
              "Div/Mul/Sub, Concat, Sub 8, Cast float, Mul per-channel scale stored as "
              + ("float16, Cast to float32" if SCALE_F16 else "float32") + "); "
              + ("the other large weights int8 initializers -> DequantizeLinear -> Mul per-channel scale; "
                 if set(QUANT4) != {"E", "W1", "W2", "W3", "Wd", "We"} else "")
              + "head matrices and biases float32")
model_sha = sha256_file(ONNX_PATH)
metrics["model"] = {"file": MODEL_FILE, "version": MODEL_VERSION, "bytes": model_bytes,
                    "gzip9_bytes": response_bank.gzip_size(ONNX_PATH, 9), "sha256": model_sha,
                    "quant_bits": QUANT_BITS, "quantised": list(QUANT4), "qat_start_epoch": QAT_START,
                    "quantization": QUANT_DESC, "jax_vs_onnx_quant_max_abs_diff": diff_quant,
                    "ops": list(dict.fromkeys(n_.op_type for n_ in onnx.load(ONNX_PATH).graph.node)), "parameters": n_params, "fp32_bytes": os.path.getsize(FP32_PATH),
                    "best_epoch": best_epoch, "epochs": EPOCHS, "student_train_seconds": round(train_seconds, 1)}
metrics["history"] = history
total_seconds = time.time() - T_START
metrics["total_seconds"] = round(total_seconds, 1)
metrics["teacher_seconds"] = round(teacher_seconds, 1)
expected = {
    "model": MODEL_FILE, "sha256": model_sha, "computed_with": f"onnxruntime {ort.__version__}",
    "tolerance": 1e-4,
    "sentiment_test": {"file": "sentiment_test.jsonl", "n": int(len(y_test)), "accuracy": metrics["sentiment_test_acc_quant"]},
    "game_dialogue": {"file": "game_dialogue.jsonl", "n": len(game_eval), "accuracy": metrics["game_dialogue_acc"],
                      "relationship_pearson_vs_affinity": metrics["relationship_pearson_game_affinity"],
                      "accuracy_by_category": {c: v_["acc"] for c, v_ in cats.items()}},
    "personality_heldout_auc": {t: pers[t]["auc"] for t in data.TRAITS},
    "personality_heldout_items": [d["item"] for d in ipip_test],
    "relationship_pearson_test_derived_target": metrics["relationship_pearson_test_derived_target"],
    "reference_outputs": reference_outputs,
}
# cross-check with tract (the runtime the game uses), via its Python bindings (PyPI tract 0.23.9)
try:
    import tract

    tm = tract.onnx().load(ONNX_PATH).into_model().into_runnable()
    chk_ids = np.concatenate([R_ids, GE_ids])
    t_out = [x.to_numpy() for x in tm.run([chk_ids])]
    o_out = ort_run(sess, chk_ids)
    tract_diff = float(max(np.abs(a_ - b_).max() for a_, b_ in zip(t_out, o_out)))
    metrics["tract_check"] = {"tract_version": tract.version(), "texts": int(len(chk_ids)),
                              "max_abs_diff_vs_onnxruntime": tract_diff}
    expected["tract_check"] = metrics["tract_check"]
    log(f"tract {tract.version()} vs onnxruntime on {len(chk_ids)} texts: max |diff| {tract_diff:.2e}")
    assert tract_diff < 1e-4
except ImportError:
    log("tract python bindings not installed; skipped the tract cross-check")
with open(os.path.join(EVAL, "expected.json"), "w", encoding="utf-8", newline="\n") as f:
    json.dump(expected, f, ensure_ascii=False, indent=1)
manifest = {
    "name": "unwritten-character", "version": MODEL_VERSION, "file": MODEL_FILE, "bytes": model_bytes,
    "sha256": model_sha,
    "vocab": {"file": "vocab.txt", "bytes": os.path.getsize(VOCAB_PATH), "sha256": sha256_file(VOCAB_PATH), "size": len(vocab)},
    "inputs": [{"name": "input_ids", "dtype": "int64", "shape": ["batch", "sequence"]}],
    "outputs": [
        {"name": "sentiment", "dtype": "float32", "shape": ["batch", 3], "labels": ["negative", "neutral", "positive"]},
        {"name": "personality", "dtype": "float32", "shape": ["batch", 5], "labels": data.TRAITS, "range": [0, 1]},
        {"name": "relationship", "dtype": "float32", "shape": ["batch", 1], "range": [-1, 1]},
        {"name": "embedding", "dtype": "float32", "shape": ["batch", D], "normalized": True},
    ],
    "maxTokens": MAX_LEN,
    # outputs of the real tokens alone = outputs padded to maxTokens (checked above): run only the real tokens
    "paddingInvariant": pad_diff < 1e-5,
    "special": {"pad": tok.pad, "unk": tok.unk, "cls": tok.cls, "sep": tok.sep, "mask": tok.ids["[MASK]"]},
    "tokenizer": {"type": "bert-wordpiece", "lowercase": True, "stripAccents": True, "continuationPrefix": "##",
                  "maxInputCharsPerWord": 100, "vectors": "tokenizer_vectors.json"},
    "responseBank": {"file": "response_bank.json", "bytes": os.path.getsize(BANK_PATH), "sha256": sha256_file(BANK_PATH),
                     "count": len(entries), "dim": D},
    "opset": OPSET, "quantization": QUANT_DESC,
}
with open(os.path.join(MODELS, "manifest.json"), "w", encoding="utf-8", newline="\n") as f:
    json.dump(manifest, f, indent=2)
with open(os.path.join(HERE, "metrics.json"), "w", encoding="utf-8", newline="\n") as f:
    json.dump(metrics, f, indent=1, ensure_ascii=False)
with open(os.path.join(HERE, "train_log.txt"), "w", encoding="utf-8", newline="\n") as f:
    f.write("\n".join(LOG_LINES) + "\n")

import model_card  # noqa: E402

CARD_CONFIG = dict(
    D=D, EMB=EMB, CH=CH, FEAT=FEAT, VOCAB_SIZE=VOCAB_SIZE, EPOCHS=EPOCHS, BATCH=BATCH, LR=LR, SEED=SEED,
    MODEL_FILE=MODEL_FILE, MODEL_VERSION=MODEL_VERSION, QUANT_BITS=QUANT_BITS, QAT_START=QAT_START,
    QUANT4=list(QUANT4), SCALE_F16=SCALE_F16, GAME_REPEAT=GAME_REPEAT, DROP_TOK=DROP_TOK, DROP_FEAT=DROP_FEAT, POS_ANCHORS=POS_ANCHORS, NEG_ANCHORS=NEG_ANCHORS, PT_C=PT_C,
    n_game_train=len(game_train), n_game_gen=len(game_gen), n_pers_aug=len(pers_aug), n_pers_hand=len(pers_hand),
    n_pers_gen=len(pers_gen), GEN_REPEAT=GEN_REPEAT, W_PERS=W_PERS, weights=dict(hard=W_HARD, soft=W_SOFT, rel=W_REL, emb=W_EMB),
    teacher_C=teacher_C, opset=OPSET,
    python=sys.version.split()[0], jax=jax.__version__, onnx=onnx.__version__, ort=ort.__version__,
    tokenizers=__import__("tokenizers").__version__)
metrics["card_config"] = CARD_CONFIG
with open(os.path.join(HERE, "metrics.json"), "w", encoding="utf-8", newline="\n") as f:
    json.dump(metrics, f, indent=1, ensure_ascii=False)
model_card.write(os.path.join(MODELS, "MODEL_CARD.md"), metrics, manifest, CARD_CONFIG)
log(f"done in {time.time() - T_START:.0f}s; model {model_bytes} bytes sha256 {model_sha}")
