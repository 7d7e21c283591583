"""Retrain experiment (issue 20): figures of one ONNX model, onnxruntime, no fitting except calibrate.py's relationship
scale/offset (the `cal` reading, see below).

    models/train/.venv/bin/python models/train/exp/measure.py NAME MODEL.onnx VOCAB.txt val|test [--shipped]

val  : VADER validation split (sentiment accuracy by source, relationship r on train.py's derived target), the held-back
       quarter of sentiment_hard.jsonl (every 4th template, fit_sentiment.py's rule; per category and macro mean) and
       the held-back quarter of the neutral lines (fit_relationship.py's rule; mean |relationship|).
test : the held-out sets: sentiment_test (by source, confusion), game_dialogue and game_dialogue_hard per category,
       relationship r on the derived target of the test split, r vs hand-assigned affinity (175 / 54), the three
       neutral sets. Run once per configuration, after the configuration was chosen on validation.
Relationship is reported raw and `cal`: tanh(s * atanh(rel) + d) with s, d fitted exactly as calibrate.py does
(game_train affinity and neutral lines at 0, each set half the weight), but only on the neutral_calib* lines that
the experiment did not hold back. --shipped: the model is already calibrated (2.3.0); `cal` = raw.
Writes models/train/exp/NAME.SPLIT.json.
"""
import ast
import json
import os
import sys

import numpy as np

EXP = os.path.dirname(os.path.abspath(__file__))
HERE = os.path.dirname(EXP)
sys.path.insert(0, HERE)
from calibrate import MODELS, WordPiece, fit_tanh_affine, jsonl, run  # noqa: E402
import data  # noqa: E402

name, model_path, vocab_path, split = sys.argv[1:5]
shipped = "--shipped" in sys.argv
assert split in ("val", "test")
mb = open(model_path, "rb").read()
wp = WordPiece(vocab_path)
D, E = os.path.join(HERE, "data"), os.path.join(MODELS, "eval")
MAX_COS, HOLD = 0.75, 4

v_train, v_val, v_test = data.split_vader(data.load_vader(), seed=1234)
bank_pairs, cc_distill, _ = data.select_chitchat(seed=1234)
game_train = jsonl(os.path.join(D, "game_train.jsonl"))
game_gen_all = jsonl(os.path.join(D, "game_gen.jsonl"))
game_eval = jsonl(os.path.join(E, "game_dialogue.jsonl"))
sg = data.teacher_embed([g["text"] for g in game_gen_all]) @ data.teacher_embed([g["text"] for g in game_eval]).T
game_gen = [g for g, mx in zip(game_gen_all, sg.max(1)) if mx < MAX_COS]
pool = [r["text"] for r in v_train] + [r for _, r in bank_pairs] + cc_distill + [g["text"] for g in game_train + game_gen]
tree = ast.parse(open(os.path.join(HERE, "train.py"), encoding="utf-8").read())
anc = {n.targets[0].id: ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
       and isinstance(n.targets[0], ast.Name) and n.targets[0].id in ("POS_ANCHORS", "NEG_ANCHORS")}
pos_c, neg_c = data.teacher_embed(anc["POS_ANCHORS"]).mean(0), data.teacher_embed(anc["NEG_ANCHORS"]).mean(0)
raw = lambda texts: data.teacher_embed(texts) @ pos_c - data.teacher_embed(texts) @ neg_c  # noqa: E731
ar = raw(pool)
mu, sd = float(np.median(ar)), float(ar.std())
rating_sd = float(np.std([r["rating"] for r in v_train]))
derived = lambda rows: np.tanh(0.6 * (raw([r["text"] for r in rows]) - mu) / sd  # noqa: E731
                               + 0.4 * np.array([r["rating"] for r in rows]) / rating_sd)
corr = lambda a, b: float(np.corrcoef(a, b)[0, 1])  # noqa: E731

# held-out texts (for the same cosine filter train.py applies to the experiment lines)
held_texts = [r["text"] for r in v_test] + [g["text"] for g in game_eval]
for f in ["game_dialogue_hard.jsonl", "neutral_lines.jsonl", "neutral_lines_scenes.jsonl", "neutral_player_lines.jsonl"]:
    held_texts += [r["text"] for r in jsonl(os.path.join(E, f))]
held_vec = data.teacher_embed(held_texts)
keep = lambda rows: [r for r, m in zip(rows, (data.teacher_embed([r["text"] for r in rows]) @ held_vec.T).max(1)) if m < MAX_COS]  # noqa: E731
hard = keep(jsonl(os.path.join(D, "sentiment_hard.jsonl")))
hard_val = [h for h in hard if int(h["template"].rsplit("/", 1)[1]) % HOLD == HOLD - 1]
neutral = keep(data.neutral_training_rows(HOLD))

# calibrate.py's relationship fit, on game_train + the non-held-back neutral_calib* lines
pre = lambda o: np.arctanh(np.clip(o["relationship"][:, 0], -0.999999, 0.999999))  # noqa: E731
if shipped:
    s_rel, d_rel = 1.0, 0.0
else:
    ncal = [r["text"] for r in neutral if r["src"] != "personality_scenes.jsonl" and not r["hold"]]
    q = np.concatenate([pre(run(mb, wp, [r["text"] for r in game_train])), pre(run(mb, wp, ncal))])
    y = np.concatenate([[r["affinity"] for r in game_train], np.zeros(len(ncal))])
    w = np.concatenate([np.full(len(game_train), 0.5 / len(game_train)), np.full(len(ncal), 0.5 / len(ncal))])
    s_rel, d_rel = fit_tanh_affine(q, y, w)
cal = lambda o: np.tanh(s_rel * pre(o) + d_rel)  # noqa: E731
out = {"name": name, "model": os.path.basename(model_path), "bytes": len(mb), "split": split,
       "cal_scale": s_rel, "cal_offset": d_rel}


def sent_block(rows, key):
    o = run(mb, wp, [r["text"] for r in rows])
    pred = o["sentiment"].argmax(1)
    y = np.array([r[key] for r in rows])
    res = {"n": len(rows), "acc": float((pred == y).mean())}
    return o, pred, y, res


def by(rows, pred, y, field):
    cats = sorted({r[field] for r in rows})
    return {c: {"n": sum(r[field] == c for r in rows),
                "acc": float(np.mean([p == t for p, t, r in zip(pred, y, rows) if r[field] == c]))} for c in cats}


def neutral_fig(o):
    r0, r1 = o["relationship"][:, 0], cal(o)
    return {"n": len(r0), "mean_abs": float(np.abs(r0).mean()), "mean": float(r0.mean()),
            "cal_mean_abs": float(np.abs(r1).mean()), "cal_mean": float(r1.mean())}


if split == "val":
    o, pred, y, res = sent_block(v_val, "label")
    res["by_source"] = by(v_val, pred, y, "source")
    tgt = derived(v_val)
    res["rel_r_derived"], res["rel_r_derived_cal"] = corr(o["relationship"][:, 0], tgt), corr(cal(o), tgt)
    out["vader_val"] = res
    o, pred, y, res = sent_block(hard_val, "sentiment")
    res["by_category"] = by(hard_val, pred, y, "category")
    res["macro"] = float(np.mean([v["acc"] for v in res["by_category"].values()]))
    res["rel_r_affinity"] = corr(o["relationship"][:, 0], [h["affinity"] for h in hard_val])
    out["hard_heldback"] = res
    nv = [r for r in neutral if r["hold"]]
    out["neutral_heldback"] = neutral_fig(run(mb, wp, [r["text"] for r in nv]))
    for grp, srcs in [("calib", ("neutral_calib.jsonl", "neutral_calib_facts.jsonl")), ("scenes", ("personality_scenes.jsonl",))]:
        out["neutral_heldback_" + grp] = neutral_fig(run(mb, wp, [r["text"] for r in nv if r["src"] in srcs]))
else:
    o, pred, y, res = sent_block(v_test, "label")
    res["by_source"] = by(v_test, pred, y, "source")
    cm = np.zeros((3, 3), int)
    for a, b in zip(y, pred):
        cm[a, b] += 1
    res["confusion"] = cm.tolist()
    tgt = derived(v_test)
    res["rel_r_derived"], res["rel_r_derived_cal"] = corr(o["relationship"][:, 0], tgt), corr(cal(o), tgt)
    out["sentiment_test"] = res
    for f in ["game_dialogue.jsonl", "game_dialogue_hard.jsonl"]:
        rows = jsonl(os.path.join(E, f))
        o, pred, y, res = sent_block(rows, "sentiment")
        res["by_category"] = by(rows, pred, y, "category")
        res["min_category"] = min(v["acc"] for v in res["by_category"].values())
        aff = [r["affinity"] for r in rows]
        res["rel_r_affinity"], res["rel_r_affinity_cal"] = corr(o["relationship"][:, 0], aff), corr(cal(o), aff)
        out[f.removesuffix(".jsonl")] = res
    for f in ["neutral_lines.jsonl", "neutral_lines_scenes.jsonl", "neutral_player_lines.jsonl"]:
        out[f.removesuffix(".jsonl")] = neutral_fig(run(mb, wp, [r["text"] for r in jsonl(os.path.join(E, f))]))
with open(os.path.join(EXP, f"{name}.{split}.json"), "w") as f:
    json.dump(out, f, indent=1)
print(json.dumps(out, indent=1))
