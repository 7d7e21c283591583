"""The response bank (models/response_bank.json) and the model-running helpers it needs.

Shared by train.py (step 11, after training) and build_bank.py (rebuild the bank from the committed model,
without retraining). The bank = the hand-written game pairs of the TRAIN split of data/game_bank.jsonl + the
first N chitchat (prompt, reply) pairs of data.select_chitchat; every entry carries the model's reading of the
reply (sentiment argmax, relationship) and the int8 embeddings of the reply and of the line it answered.
"""
import base64
import collections
import gzip
import hashlib
import json
import os
import random
import re

import numpy as np

import data

OUTS = ["sentiment", "personality", "relationship", "embedding"]
GAME_TEST_FRAC = 0.2
GAME_SPLIT_SEED = 1234
MOOD_INDEX = {"cold": 0, "neutral": 1, "warm": 2}

ENCODING = ("vec/promptVec: base64 of dim signed int8 bytes; value[i] = int8[i] * scale (vectors were "
            "L2-normalised before quantisation). vec = embedding of the reply text, promptVec = embedding of "
            "the message it replied to. sentiment = argmax of the model's sentiment output for the reply "
            "(0 negative, 1 neutral, 2 positive). source = 'game' (hand-written game pair; then situation = "
            "its situation and mood = the hand-assigned tone of the reply: cold / neutral / warm) or 'chat' "
            "(chitchat reply).")
SITUATION_ENCODING = ("situationModel: logistic regression picking the game situation of a player line, or 'chat' for a "
                      "line the chitchat replies answer; logits = "
                      "bias + sum over the L2-normalised embedding's dims d of emb[d] * row[d] + sum over the line's "
                      "distinct word-piece ids t in tokens of row[dim + index of t]; rows are int8 (classes per row, "
                      "row-major, base64 'weights') times rowScales.")
CHAT_SOURCE = ("PyPI chitchat-dataset 0.9.0 (MIT), filtered: replies of 3-25 words, ASCII, no URLs/emails/@handles, "
               "no 3+ digit numbers, no profanity or modern-tech/school/work words, de-duplicated (case-insensitive)")
GAME_SOURCE = ("models/train/data/game_bank.jsonl: hand-written in-character village RPG (player line -> NPC reply) "
               "pairs, same licence as the repository; only the TRAIN split is in the bank (the seeded 20 % per "
               "situation TEST split is models/eval/game_bank_test.jsonl)")


SLOT = re.compile(r"\{\s*(npc|player|scene)\s*(?:\|([^{}]*))?\}")


def unslotted(text):
    """A reply with its slots ({npc}, {player}, {scene}, optionally {scene|fallback}) as the runtime says it when the
    request gives no value: the fallback, or nothing, with the comma that set the slot off (src/bank/slots.rs). The
    model reads (sentiment, relationship, embedding) this form; the bank keeps the slotted text."""
    def sub(m):
        return (m.group(2) or "").strip() or "\0"
    out = SLOT.sub(sub, text)
    out = re.sub(r",\s*\0", "", out)                        # "Welcome, {player}." -> "Welcome."
    out = re.sub(r"(^|[.!?]\s+)\0,\s*(\w)", lambda m: m.group(1) + m.group(2).upper(), out)
    out = re.sub(r"\s*\0", "", out)
    return re.sub(r"\s{2,}", " ", out).strip()


def encode_many(tok, texts):
    """Token ids [n, 128] with the repo's WordPiece (wordpiece.WordPiece), as the Rust tokenizer does."""
    return np.array([tok.encode(t) for t in texts], dtype=np.int64)


def ort_run(s, ids, bs=512):
    """Runs an onnxruntime session over ids in batches; returns [sentiment, personality, relationship, embedding]."""
    res = [[] for _ in OUTS]
    for i in range(0, len(ids), bs):
        o = s.run(OUTS, {"input_ids": ids[i:i + bs]})
        for r, x in zip(res, o):
            r.append(x)
    return [np.concatenate(r) for r in res]


def q8(v):
    s = float(np.abs(v).max()) / 127.0 or 1.0
    q = np.clip(np.round(v / s), -127, 127).astype(np.int8)
    return base64.b64encode(q.tobytes()).decode("ascii"), s


def load_game_bank(path):
    with open(path, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    for r in rows:
        assert set(r) == {"situation", "prompt", "reply", "mood"}, r
        assert r["mood"] in MOOD_INDEX, r
    return rows


def split_game_bank(rows, seed=GAME_SPLIT_SEED, frac=GAME_TEST_FRAC):
    """Seeded hold-out of round(frac * n) pairs of every situation. Returns (train, test), each in file order."""
    by_sit = collections.defaultdict(list)
    for i, r in enumerate(rows):
        by_sit[r["situation"]].append(i)
    test_idx = set()
    for sit in sorted(by_sit):
        idx = by_sit[sit]
        rng = random.Random(f"{seed}/{sit}")
        test_idx.update(rng.sample(idx, round(frac * len(idx))))
    train = [r for i, r in enumerate(rows) if i not in test_idx]
    test = [r for i, r in enumerate(rows) if i in test_idx]
    return train, test


# The situation model (issue 20): logistic regression on the prompt embedding plus the set of the line's WordPiece
# tokens, with a 21st class, `chat`, for lines that the chitchat replies should answer. Chosen on validation only:
# first by 5-fold CV over the bank's own game prompts (models/train/situation_cv.py: top-3 cosine mean 58.7 %, LR on
# the embedding 65.8 %, LR on embedding + tokens 71.9 %), then on a second writer's validation lines
# (data/situation_dev.jsonl) by models/train/situation_select.py, end to end: 65.1 % on the bank's prompts alone with
# the earlier settings (65.9 % at best);
# round 1, with 728 more lines (data/situation_extra.jsonl) 76.0 %, and 79.8 % with the `chat` class in place of the
# nearest-prompt gate; round 2, with a second batch (data/situation_extra2.jsonl) 81.0 % (tokens x 1.0), and 86.4 %
# with the `chat` class at weight 0.05, which sends 88.7 % of 1,000 held-out chitchat lines to chitchat (the gate:
# 78.7 %).
SITUATION_C = 30.0
SITUATION_TOKEN_WEIGHT = 1.0
SITUATION_EXTRA_WEIGHT = 1.0
SITUATION_CHAT_WEIGHT = 0.05
CHAT_CLASS = "chat"  # src/bank/situation.rs CHAT_CLASS
FIRST_WORD_ID = 5  # ids 0-4 are [PAD], [UNK], [CLS], [SEP], [MASK] (vocab.txt)
HERE = os.path.dirname(os.path.abspath(__file__))
EVAL_DIR = os.path.join(os.path.dirname(HERE), "eval")
# The extra training lines' files, in the order they were written (each by a writer who read no evaluation file).
SITUATION_EXTRA_FILES = ("situation_extra.jsonl", "situation_extra2.jsonl")
SITUATION_DEV = os.path.join(HERE, "data", "situation_dev.jsonl")
MAX_COS = 0.75  # a training line at least this close (MiniLM teacher cosine) to a held-out line is dropped


def held_out_player_lines():
    """Every player line of the two relevance test sets (models/eval): the held-out game pairs' prompts and the
    independent lines with their history turns."""
    lines = [r["prompt"] for r in data.load_jsonl(os.path.join(EVAL_DIR, "game_bank_test.jsonl"))]
    for r in data.load_jsonl(os.path.join(EVAL_DIR, "replies_independent.jsonl")):
        lines.append(r["text"])
        lines += [h["text"] for h in r.get("history", [])]
    return [t for t in lines if t]


def drop_close(rows, against, label, log=print):
    """`rows` ({prompt, ...}) without those whose teacher cosine to a text of `against` is >= MAX_COS, and a summary."""
    if not rows:
        return rows, {"lines": 0, "dropped": 0}
    a = data.teacher_embed([r["prompt"] for r in rows], log=lambda *_: None)
    b = data.teacher_embed(against, log=lambda *_: None)
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    best = (a @ b.T).max(1)
    keep = best < MAX_COS
    info = {"lines": len(rows), "dropped": int((~keep).sum()), "max_cos_kept": float(best[keep].max()),
            "examples_dropped": [rows[i]["prompt"] for i in np.where(~keep)[0]][:5]}
    log(f"{label}: {info['dropped']} of {len(rows)} dropped (max kept cosine {info['max_cos_kept']:.3f})")
    return [r for r, k in zip(rows, keep) if k], info


def situation_lines(game_train, files=SITUATION_EXTRA_FILES, log=print):
    """The situation model's extra training lines (of `files`, each row tagged with its `file`) and the validation
    lines it was chosen on, both kept apart from the held-out sets: a line that repeats a bank prompt (case aside) is
    dropped from both, so is a line within MAX_COS of a held-out player line, and an extra line within MAX_COS of a
    validation line. Returns (extra, dev, info)."""
    seen = {g["prompt"].strip().lower() for g in game_train}
    dev = data.load_jsonl(SITUATION_DEV)
    extra = [dict(r, file=name) for name in files for r in data.load_jsonl(os.path.join(HERE, "data", name))]
    for r in extra:
        assert set(r) == {"situation", "prompt", "file"}, r
    for r in dev:
        assert set(r) == {"situation", "prompt"}, r
    repeats = {"extra": sum(r["prompt"].strip().lower() in seen for r in extra),
               "dev": sum(r["prompt"].strip().lower() in seen for r in dev)}
    extra = [r for r in extra if r["prompt"].strip().lower() not in seen]
    dev = [r for r in dev if r["prompt"].strip().lower() not in seen]
    held = held_out_player_lines()
    extra, i_extra = drop_close(extra, held, "situation extra vs held-out", log)
    dev, i_dev = drop_close(dev, held, "situation dev vs held-out", log)
    extra, i_extra_dev = drop_close(extra, [r["prompt"] for r in dev], "situation extra vs dev", log)
    info = {"bank_prompts_repeated": repeats, "extra": i_extra, "dev": i_dev, "extra_vs_dev": i_extra_dev,
            "max_cos": MAX_COS, "extra_files": {name: sum(r["file"] == name for r in extra) for name in files}}
    return extra, dev, info


def token_sets(tok, texts):
    """The distinct word-piece ids of each text (special tokens and [UNK] left out), as the runtime computes them."""
    return [sorted({int(t) for t in tok.encode(x) if t >= FIRST_WORD_ID}) for x in texts]


def situation_features(emb, tsets, columns):
    """[n, dim + len(columns)]: the L2-normalised embedding, then SITUATION_TOKEN_WEIGHT for each token present."""
    e = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
    b = np.zeros((len(tsets), len(columns)), dtype=np.float64)
    for i, ts in enumerate(tsets):
        for t in ts:
            j = columns.get(t)
            if j is not None:
                b[i, j] = SITUATION_TOKEN_WEIGHT
    return np.hstack([e, b])


def fit_situation_model(tok, prompts, situations, emb, weights=None):
    """The bank's `situationModel`: classes, token ids, int8 weight rows (embedding dims first, then one row per
    token, the token weight folded in) with a scale per row, and the biases. Returns (model dict, metrics)."""
    from sklearn.linear_model import LogisticRegression
    tsets = token_sets(tok, prompts)
    tokens = sorted({t for ts in tsets for t in ts})
    columns = {t: j for j, t in enumerate(tokens)}
    x = situation_features(emb, tsets, columns)
    lr = LogisticRegression(C=SITUATION_C, max_iter=5000).fit(x, situations, sample_weight=weights)
    w = lr.coef_.T * np.r_[np.ones(emb.shape[1]), np.full(len(tokens), SITUATION_TOKEN_WEIGHT)][:, None]
    scales = np.maximum(np.abs(w).max(axis=1), 1e-12) / 127.0
    q = np.clip(np.round(w / scales[:, None]), -127, 127).astype(np.int8)
    # the quantised model must decide as the float one does on the training prompts
    e = x[:, :emb.shape[1]]
    bmask = (x[:, emb.shape[1]:] > 0).astype(np.float64)
    logits_q = e @ (q[:emb.shape[1]] * scales[:emb.shape[1], None]) + bmask @ (q[emb.shape[1]:] * scales[emb.shape[1]:, None]) + lr.intercept_
    agree = float(np.mean(lr.classes_[logits_q.argmax(1)] == lr.predict(x)))
    model = {"classes": [str(c) for c in lr.classes_], "tokens": tokens,
             "weights": base64.b64encode(q.tobytes()).decode("ascii"),
             "rowScales": [float(np.float32(v)) for v in scales],
             "bias": [float(np.float32(v)) for v in lr.intercept_]}
    return model, {"situation_model_train_accuracy": float(lr.score(x, situations)),
                   "situation_model_quantised_agreement": agree, "situation_model_tokens": len(tokens)}


def build(sess, tok, game_train, chat_pairs, dim, model_file, version="1.1.0"):
    """The bank dict: game entries first (ids 0..), then chat entries, and retrieval sanity metrics."""
    prompts = [g["prompt"] for g in game_train] + [p for p, _ in chat_pairs]
    replies = [g["reply"] for g in game_train] + [r for _, r in chat_pairs]
    o_r = ort_run(sess, encode_many(tok, [unslotted(r) for r in replies]))
    o_p = ort_run(sess, encode_many(tok, prompts))
    entries = []
    for i, text in enumerate(replies):
        rv, rsc = q8(o_r[3][i])
        pv, psc = q8(o_p[3][i])
        e = {"id": i, "text": text, "sentiment": int(o_r[0][i].argmax()), "relationship": round(float(o_r[2][i, 0]), 3),
             "vec": rv, "vecScale": float(np.float32(rsc)), "promptVec": pv, "promptScale": float(np.float32(psc))}
        if i < len(game_train):
            g = game_train[i]
            e.update({"source": "game", "situation": g["situation"], "mood": g["mood"]})
        else:
            e["source"] = "chat"
        entries.append(e)
    n_g = len(game_train)
    extra, _, lines_info = situation_lines(game_train)
    e_extra = ort_run(sess, encode_many(tok, [r["prompt"] for r in extra]))[3]
    n_c = len(chat_pairs)
    situation_model, situation_metrics = fit_situation_model(
        tok, prompts + [r["prompt"] for r in extra],
        [g["situation"] for g in game_train] + [CHAT_CLASS] * n_c + [r["situation"] for r in extra],
        np.vstack([o_p[3], e_extra]),
        np.r_[np.ones(n_g), np.full(n_c, SITUATION_CHAT_WEIGHT), np.full(len(extra), SITUATION_EXTRA_WEIGHT)])
    situation_metrics.update({"situation_extra_lines": len(extra), "situation_lines": lines_info,
                              "situation_model_settings": {"C": SITUATION_C, "token_weight": SITUATION_TOKEN_WEIGHT,
                                                           "extra_weight": SITUATION_EXTRA_WEIGHT,
                                                           "chat_weight": SITUATION_CHAT_WEIGHT}})
    bank = {
        "name": "unwritten-character-response-bank", "version": version, "model": model_file,
        "dim": dim, "encoding": ENCODING + " " + SITUATION_ENCODING, "source": GAME_SOURCE + "; " + CHAT_SOURCE,
        "count": len(entries), "situationModel": situation_model, "entries": entries,
    }
    # retrieval sanity on the chat part: the rank of the true reply when querying reply vectors with the prompt
    # embedding (replies are not paraphrases of their prompts, which is why the bank stores the prompt vectors)
    pe, re_ = o_p[3][n_g:], o_r[3][n_g:]
    sims = pe @ re_.T
    rank = (sims > sims[np.arange(len(pe)), np.arange(len(pe))][:, None]).sum(1)
    game_sent = collections.Counter((g["mood"], int(o_r[0][i].argmax())) for i, g in enumerate(game_train))
    metrics = {
        "entries": len(entries), "game_entries": n_g, "chat_entries": len(chat_pairs),
        "prompt_to_own_reply_median_rank": float(np.median(rank)) if len(rank) else None,
        "prompt_to_own_reply_top50_rate": float((rank < 50).mean()) if len(rank) else None,
        "sentiment_counts": np.bincount([e["sentiment"] for e in entries], minlength=3).tolist(),
        # how the model reads the hand-written replies of each mood: {mood: [neg, neu, pos]}
        "game_mood_vs_model_sentiment": {m: [game_sent[(m, k)] for k in range(3)] for m in MOOD_INDEX},
        **situation_metrics,
    }
    return bank, metrics


def sha256_file(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def gzip_size(p, level=6):
    """Bytes after gzip at level 6 (a common server default), what a player downloads with Content-Encoding."""
    with open(p, "rb") as f:
        return len(gzip.compress(f.read(), compresslevel=level, mtime=0))


def write_bank(sess, tok, game_rows, chat_pairs, dim, bank_path, test_path, model_file):
    """Splits the game pairs, writes the TEST split to test_path and the bank (game TRAIN + chat) to bank_path;
    model_file: the name of the ONNX file whose embeddings the bank holds. Returns (bank, metrics)."""
    game_train, game_test = split_game_bank(game_rows)
    assert not ({g["prompt"].lower() for g in game_train} & {g["prompt"].lower() for g in game_test})
    write_jsonl(test_path, game_test)
    bank, m = build(sess, tok, game_train, chat_pairs, dim, model_file)
    write_json(bank_path, bank)
    m.update({"bytes": os.path.getsize(bank_path), "gzip_bytes": gzip_size(bank_path), "sha256": sha256_file(bank_path),
              "game_pairs": len(game_rows), "game_test_pairs": len(game_test),
              "game_split": {"seed": GAME_SPLIT_SEED, "test_fraction": GAME_TEST_FRAC},
              "game_train_by_situation": dict(collections.Counter(g["situation"] for g in game_train)),
              "game_test_by_situation": dict(collections.Counter(g["situation"] for g in game_test))})
    return bank, m


def write_json(path, obj):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(obj, f, ensure_ascii=False, separators=(",", ":"))


def write_jsonl(path, rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
