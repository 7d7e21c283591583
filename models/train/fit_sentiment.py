"""Fits a new sentiment head on the frozen encoder of the committed model (model 2.4.0 from 2.3.0, issue 20).

    models/train/.venv/bin/python models/train/fit_sentiment.py --from 2.3.0 --to 2.4.0
    models/train/.venv/bin/python models/train/fit_sentiment.py --from 2.3.0 --to 2.4.0 --dry   # fit + validation only

Why: 2.3.0 reads some threats and insults as positive, plain greetings as positive and apologies as negative (game
dialogue 81.7 %: apology 50 %, greeting 50 %, bargaining 66.7 %, farewell 60 %). The encoder is not retrained; every
byte of it and of the personality, relationship and embedding heads is kept, and only the `sentiment` output is
rewired:

    s = feat @ Ws + pooled @ Wq + bs            (192 -> 3 and 384 -> 3, one multinomial logistic regression)
    sentiment = Softmax(s)

`pooled` is the encoder's [masked mean, max] vector (384); `feat` = Relu(pooled @ Wd + bd) is the shared feature the
2.3.0 sentiment head reads (192). Both are frozen; the regression sees their concatenation (576), standardised, and
the standardisation is folded into Ws, Wq, bs. 2.3.0's head (feat @ Ws + bs) is a special case, so the new head can
keep what the old one knew. Cost: one extra 384 x 3 MatMul and one Add per inference. Ops: MatMul, Add, Softmax (all
already in the graph). Output name, shape [batch, 3], dtype float32 and the Softmax are unchanged.

Training data: the VADER training split (18,963 sentences, the split of data.split_vader, seed 1234) and the game
lines: `data/game_train.jsonl` (hand-written), `data/game_gen.jsonl` (templates) and `data/sentiment_hard.jsonl`
(`data/make_sentiment_hard.py`: threats, insults, sarcasm, backhanded compliments, apologies, greetings, thanks,
farewells, bargaining). Disjointness from the held-out sets (`models/eval/sentiment_test.jsonl`,
`game_dialogue.jsonl`, `game_dialogue_hard.jsonl`): no exact overlap (asserted) and every game training line whose
MiniLM teacher cosine to a held-out line is >= 0.75 is dropped (counts and examples in `sentiment_fit.json`).

Method: a multinomial logistic regression on top of 2.3.0's logits (logits = 2.3.0's + x W + b, x the standardised
[feat, pooled], L2 penalty lam on W, fitted from W = 0 by L-BFGS: the head moves from 2.3.0's only as far as the data
pull it). Rows and targets: the game lines with their labels; the VADER training split with 2.3.0's own probabilities
as target (it keeps the head's reading of general text; the human labels are not refitted, because the encoder has
memorised the training split's features, and heads refitted to its labels lost validation accuracy in a first try:
68.0-68.4 % on the VADER validation split, against 69.8 % for 2.3.0); and one half of the VADER
validation split (seeded), without its labels, also with 2.3.0's probabilities as target (text the encoder never
trained on, where a change of the head shows as it will on new text).

Model selection (never on a held-out set): validation = the other (labelled) half of the VADER validation split
plus the lines of every 4th template of `sentiment_hard.jsonl` (whole templates held back, so a template's fillings
do not leak into its own validation). Grid: lam x the total weight of the game lines relative to the VADER training
lines x the weight of the unlabelled anchor half. Rule: the best macro (per-category) accuracy on the held-back hard
lines among the settings whose VADER validation accuracy is within 0.5 points of 2.3.0's on the same half; among
near-ties (within 0.002) the strongest regularisation (largest lam), then the smallest game weight. The chosen setting
is refitted with the held-back hard templates added (the labelled validation half stays out, so its figure is
reported).

Only after that (and not with --dry) are the held-out sets measured, once, before and after. The new head is shipped
only if it is not worse than 2.3.0 on the held-out split and on the 175 game-dialogue lines; otherwise only
`sentiment_fit.json` is written (with "shipped": false) and the script exits with status 1. Writes the ONNX in place, `models/manifest.json`, `models/eval/expected.json` (sha256, reference outputs,
held-out figures) and `models/train/sentiment_fit.json`.
"""
import argparse
import gzip
import hashlib
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper
from sklearn.linear_model import LogisticRegression

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from calibrate import MODELS, WordPiece, game_affinity_r, jsonl, neutral_figures, personality_figures, run  # noqa: E402

MAX_COS = 0.75
LAM_GRID = [0.003, 0.01, 0.03]  # L2 on the change of the head
GAME_W_GRID = [0.25, 0.5, 1.0]  # total weight of the game lines / total weight of the VADER training lines
ANCHOR_W_GRID = [0.0, 16.0]  # per-line weight of the unlabelled anchor half of the VADER validation split
VAL_TOL = 0.005  # a setting may cost at most this much VADER validation accuracy against 2.3.0
HOLD_EVERY = 4  # every 4th template of sentiment_hard.jsonl is validation during selection
HELD_SENT = ["sentiment_test.jsonl", "game_dialogue.jsonl", "game_dialogue_hard.jsonl"]
HELD_OTHER = ["personality_heldout.jsonl", "personality_heldout_scenes.jsonl", "neutral_lines.jsonl",
              "neutral_lines_scenes.jsonl", "neutral_player_lines.jsonl"]


def frozen_features(model_bytes, wp, texts):
    """[feat (192), pooled (384)] for each text, from a copy of the graph with both tensors exposed (cached in
    models/train/.cache by model and text hash: a pure function of both)."""
    key = hashlib.sha256(model_bytes + "\n".join(texts).encode()).hexdigest()[:20]
    path = os.path.join(HERE, ".cache", f"frozen_{key}.npy")
    if os.path.exists(path):
        return np.load(path)
    m = onnx.load_from_string(model_bytes)
    for name in ["feat", "pooled"]:
        m.graph.output.append(helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    so = ort.SessionOptions()
    so.intra_op_num_threads = so.inter_op_num_threads = 1
    sess = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    out = []
    for t in texts:
        f, p = sess.run(["feat", "pooled"], {"input_ids": np.array([wp.encode(t)], dtype=np.int64)})
        out.append(np.concatenate([f[0], p[0]]))
    out = np.array(out, dtype=np.float64)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.save(path, out)
    return out


def fit_lr(X, off, Y, w, lam):
    """Multinomial logistic regression on top of fixed logits `off` (2.3.0's head): logits = off + X @ W + b, loss =
    weighted mean cross-entropy against the target distributions Y (rows) + lam / 2 * |W|^2 (b not penalised), by L-BFGS from W = 0 (deterministic). With a
    large lam the head stays at 2.3.0's; the data decide how far it moves. Returns W (d x 3), b (3)."""
    from scipy.optimize import minimize

    w = np.asarray(w, dtype=np.float64)
    w = w / w.sum()
    d = X.shape[1]

    def f(theta):
        W, b = theta[:d * 3].reshape(d, 3), theta[d * 3:]
        z = off + X @ W + b
        z = z - z.max(1, keepdims=True)
        lse = np.log(np.exp(z).sum(1))
        P = np.exp(z - lse[:, None])
        loss = float(w @ (lse - (z * Y).sum(1))) + 0.5 * lam * float((W * W).sum())
        G = (P - Y) * w[:, None]
        return loss, np.r_[(X.T @ G + lam * W).ravel(), G.sum(0)]

    r = minimize(f, np.zeros(d * 3 + 3), jac=True, method="L-BFGS-B", options={"maxiter": 2000, "gtol": 1e-7})
    return r.x[:d * 3].reshape(d, 3), r.x[d * 3:]


def row_weights(n_vader, n_anchor, n_game, game_w, anchor_w):
    return np.r_[np.ones(n_vader), np.full(n_anchor, anchor_w), np.full(n_game, game_w * n_vader / n_game)]


def acc_by(pred, y, cats):
    out = {}
    for c in sorted(set(cats)):
        m = np.array([x == c for x in cats])
        out[c] = {"n": int(m.sum()), "accuracy": float((pred[m] == y[m]).mean())}
    return out


def rewire(model_bytes, Ws, Wq, bs):
    """Replaces sentiment = Softmax(feat @ Ws + bs) by Softmax(feat @ Ws' + pooled @ Wq + bs')."""
    m = onnx.load_from_string(model_bytes)
    g = m.graph
    old = [n for n in g.node if n.output[0] in ("s0", "s1", "sentiment")]
    assert [n.op_type for n in old] == ["MatMul", "Add", "Softmax"] and old[0].input == ["feat", "Ws"], old
    axis = [a for a in old[2].attribute if a.name == "axis"][0].i
    for n in old:
        g.node.remove(n)
    g.node.extend([
        helper.make_node("MatMul", ["feat", "Ws"], ["s0"]),
        helper.make_node("MatMul", ["pooled", "Wq"], ["s0q"]),
        helper.make_node("Add", ["s0", "s0q"], ["s0s"]),
        helper.make_node("Add", ["s0s", "bs"], ["s1"]),
        helper.make_node("Softmax", ["s1"], ["sentiment"], axis=axis),
    ])
    inits = {t.name: t for t in g.initializer}
    assert "Wq" not in inits
    for name, arr in [("Ws", Ws), ("bs", bs), ("Wq", Wq)]:
        t = numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name)
        if name in inits:
            inits[name].CopyFrom(t)
        else:
            g.initializer.append(t)
    onnx.checker.check_model(m)
    return m.SerializeToString()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--from", dest="src", required=True)
    ap.add_argument("--to", dest="dst", required=True)
    ap.add_argument("--dry", action="store_true", help="fit and validate only: no held-out measurement, no writes")
    args = ap.parse_args()
    manifest_path = os.path.join(MODELS, "manifest.json")
    manifest = json.load(open(manifest_path))
    assert manifest["version"] == args.src, f"committed model is {manifest['version']}, not {args.src}"
    onnx_path = os.path.join(MODELS, manifest["file"])
    before_bytes = open(onnx_path, "rb").read()
    wp = WordPiece(os.path.join(MODELS, manifest["vocab"]["file"]))
    D = os.path.join(HERE, "data")
    ev = lambda f: jsonl(os.path.join(MODELS, "eval", f))  # noqa: E731
    import data  # noqa: E402  (VADER split; teacher embeddings, cached in models/train/.cache)

    v_train, v_val, v_test = data.split_vader(data.load_vader())
    sent_test = ev("sentiment_test.jsonl")
    assert [r["text"] for r in v_test] == [r["text"] for r in sent_test], "the VADER split is not the committed one"
    assert [r["label"] for r in v_test] == [r["label"] for r in sent_test]

    game = jsonl(os.path.join(D, "game_train.jsonl")) + jsonl(os.path.join(D, "game_gen.jsonl"))
    hard = jsonl(os.path.join(D, "sentiment_hard.jsonl"))
    for r in game:
        r["template"] = None

    # Disjointness from every held-out line: no exact overlap; game lines too close (teacher cosine) dropped.
    held_rows = {f: ev(f) for f in HELD_SENT}
    held = [r["text"] for f in HELD_SENT for r in held_rows[f]]
    ours = [r["text"] for r in game + hard]
    assert not {t.lower() for t in ours} & {t.lower() for t in held}, "training and held-out lines overlap"
    assert not {r["text"].lower() for r in v_train + v_val} & {t.lower() for f in HELD_SENT[1:] for t in
                                                               (r["text"] for r in held_rows[f])}
    held_vec = data.teacher_embed(held)
    disjoint = {"dropped_cos_ge": MAX_COS}

    def drop_close(rows, name):
        cos = data.teacher_embed([r["text"] for r in rows]) @ held_vec.T
        best = cos.max(1)
        keep = best < MAX_COS
        disjoint[name] = {"lines": len(rows), "dropped": int((~keep).sum()), "max_cos_kept": float(best[keep].max()),
                          "dropped_examples": [(rows[i]["text"], held[int(cos[i].argmax())], round(float(best[i]), 3))
                                               for i in np.where(~keep)[0][:15]]}
        return [r for r, k in zip(rows, keep) if k]

    game = drop_close(game, "game_train+game_gen")
    hard = drop_close(hard, "sentiment_hard")
    print(json.dumps(disjoint), flush=True)

    # Frozen features.
    X_vt = frozen_features(before_bytes, wp, [r["text"] for r in v_train])
    X_vv = frozen_features(before_bytes, wp, [r["text"] for r in v_val])
    X_g = frozen_features(before_bytes, wp, [r["text"] for r in game])
    X_h = frozen_features(before_bytes, wp, [r["text"] for r in hard])
    y_vt, y_vv = np.array([r["label"] for r in v_train]), np.array([r["label"] for r in v_val])
    # The VADER validation split, halved (seeded): the anchor half is used without its labels, as text on which the
    # new head should read like 2.3.0 (the encoder never trained on it, unlike the training split, whose features it
    # has memorised); the other half, with labels, is the validation set of the selection.
    perm = np.random.RandomState(1234).permutation(len(v_val))
    anc, vs = np.sort(perm[: len(perm) // 2]), np.sort(perm[len(perm) // 2:])
    X_va = X_vv[anc]
    X_vv, y_vv = X_vv[vs], y_vv[vs]
    y_g, y_h = np.array([r["sentiment"] for r in game]), np.array([r["sentiment"] for r in hard])
    h_val = np.array([int(r["template"].rsplit("/", 1)[1]) % HOLD_EVERY == HOLD_EVERY - 1 for r in hard])
    h_cat = [r["category"] for r in hard]

    # 2.3.0's head on the same features (for the validation figures of the starting point).
    inits = {t.name: numpy_helper.to_array(t) for t in onnx.load_from_string(before_bytes).graph.initializer}
    Ws0, bs0 = inits["Ws"].astype(np.float64), inits["bs"].astype(np.float64)
    old_pred = lambda X: (X[:, :192] @ Ws0 + bs0).argmax(1)  # noqa: E731
    start = {"vader_val_acc": float((old_pred(X_vv) == y_vv).mean()),
             "hard_val_by_category": acc_by(old_pred(X_h[h_val]), y_h[h_val], [c for c, v in zip(h_cat, h_val) if v])}
    start["hard_val_macro"] = float(np.mean([v["accuracy"] for v in start["hard_val_by_category"].values()]))
    print("2.3.0 head on validation:", json.dumps(start), flush=True)

    # Selection.
    off = lambda X: X[:, :192] @ Ws0 + bs0  # noqa: E731  (2.3.0's logits: the starting point)

    def old_probs(X):
        z = off(X)
        P = np.exp(z - z.max(1, keepdims=True))
        return P / P.sum(1, keepdims=True)

    def problem(X_game, y_game, gw, aw):
        """Rows: VADER training split and the anchor half (target: 2.3.0's probabilities), game lines (their label)."""
        X = np.vstack([X_vt, X_va, X_game])
        Y = np.vstack([old_probs(X_vt), old_probs(X_va), np.eye(3)[y_game]])
        return X, Y, row_weights(len(X_vt), len(X_va), len(X_game), gw, aw)

    X_game_sel, y_game_sel = np.vstack([X_g, X_h[~h_val]]), np.r_[y_g, y_h[~h_val]]
    X_all = np.vstack([X_vt, X_va, X_game_sel])
    mu, sd = X_all.mean(0), X_all.std(0) + 1e-6
    S = lambda X: (X - mu) / sd  # noqa: E731
    grid = []
    for lam in LAM_GRID:
        for gw in GAME_W_GRID:
            for aw in ANCHOR_W_GRID:
                X, Y, w = problem(X_game_sel, y_game_sel, gw, aw)
                W, b = fit_lr(S(X), off(X), Y, w, lam)
                pv = (off(X_vv) + S(X_vv) @ W + b).argmax(1)
                ph = (off(X_h[h_val]) + S(X_h[h_val]) @ W + b).argmax(1)
                byc = acc_by(ph, y_h[h_val], [c for c, v in zip(h_cat, h_val) if v])
                row = {"lam": lam, "game_w": gw, "anchor_w": aw, "vader_val_acc": float((pv == y_vv).mean()),
                       "hard_val_macro": float(np.mean([v["accuracy"] for v in byc.values()])),
                       "hard_val_by_category": {k: round(v["accuracy"], 3) for k, v in byc.items()}}
                grid.append(row)
                print(f"lam {lam} game_w {gw} anchor_w {aw}: VADER val {row['vader_val_acc']:.4f}, hard val macro "
                      f"{row['hard_val_macro']:.4f}", row["hard_val_by_category"], flush=True)
    # The best hard-line validation accuracy among the settings that keep the VADER validation accuracy within
    # VAL_TOL of 2.3.0's; among near-ties (0.002) the strongest regularisation, then the smallest game weight.
    ok = [g for g in grid if g["vader_val_acc"] >= start["vader_val_acc"] - VAL_TOL]
    if not ok:
        ok = [max(grid, key=lambda g: g["vader_val_acc"])]
    top = max(g["hard_val_macro"] for g in ok)
    sel = sorted([g for g in ok if g["hard_val_macro"] >= top - 0.002],
                 key=lambda g: (-g["lam"], g["game_w"], -g["anchor_w"]))[0]
    print("selected", json.dumps(sel), flush=True)

    # Final refit: the held-back hard templates join the training lines; the labelled VADER validation half stays out.
    X, Y, w = problem(np.vstack([X_g, X_h]), np.r_[y_g, y_h], sel["game_w"], sel["anchor_w"])
    mu, sd = X.mean(0), X.std(0) + 1e-6
    W, b = fit_lr((X - mu) / sd, off(X), Y, w, sel["lam"])
    # Fold: logits = feat @ Ws0 + bs0 + ((x - mu) / sd) @ W + b, x = [feat, pooled].
    Wfull = W / sd[:, None]  # (576, 3)
    Wfull[:192] += Ws0
    bfull = bs0 + b - (mu / sd) @ W
    Ws, Wq = Wfull[:192], Wfull[192:]
    after_bytes = rewire(before_bytes, Ws, Wq, bfull)
    final_val = float(((X_vv @ Wfull + bfull).argmax(1) == y_vv).mean())
    # The folded graph reproduces the numpy head.
    o = run(after_bytes, wp, [v_val[i]["text"] for i in vs[:60]])["sentiment"]
    z = X_vv[:60] @ Wfull + bfull
    ref = np.exp(z - z.max(1, keepdims=True))
    ref /= ref.sum(1, keepdims=True)
    fold_err = float(np.abs(o - ref).max())
    assert fold_err < 1e-4, fold_err
    report = {"from": args.src, "to": args.dst, "disjointness": disjoint, "start_2_3_0_validation": start,
              "grid": grid, "selected": sel, "final_vader_val_acc": final_val,
              "train_lines": {"vader_train": len(X_vt), "vader_val_anchor_half_unlabelled": len(X_va),
                              "vader_val_labelled_half": len(X_vv), "game_train+game_gen": len(X_g), "sentiment_hard": len(X_h),
                              "sentiment_hard_held_back_in_selection": int(h_val.sum())},
              "fold_max_abs_err": fold_err}
    print(json.dumps({k: report[k] for k in ["selected", "final_vader_val_acc", "train_lines", "fold_max_abs_err"]}),
          flush=True)
    if args.dry:
        return

    # Held-out measurement (once), before and after.
    def measure(mb):
        r = {}
        st = run(mb, wp, [x["text"] for x in sent_test])
        y = np.array([x["label"] for x in sent_test])
        p = st["sentiment"].argmax(1)
        r["sentiment_test"] = {"n": len(y), "accuracy": float((p == y).mean()),
                               "by_source": acc_by(p, y, [x["source"] for x in v_test]),
                               "confusion": [[int(((y == i) & (p == j)).sum()) for j in range(3)] for i in range(3)]}
        outs = {}
        for f in HELD_SENT[1:]:
            rows = held_rows[f]
            o = run(mb, wp, [x["text"] for x in rows])
            yy = np.array([x["sentiment"] for x in rows])
            pp = o["sentiment"].argmax(1)
            r[f] = {"n": len(rows), "accuracy": float((pp == yy).mean()),
                    "by_category": acc_by(pp, yy, [x["category"] for x in rows]),
                    "relationship_pearson_vs_affinity": game_affinity_r(o, rows),
                    "failures": [{"text": x["text"], "category": x["category"], "label": int(x["sentiment"]),
                                  "pred": int(pp[i]), "p": [round(float(v), 3) for v in o["sentiment"][i]]}
                                 for i, x in enumerate(rows) if pp[i] != yy[i]]}
            outs[f] = o
        both = held_rows["game_dialogue.jsonl"] + held_rows["game_dialogue_hard.jsonl"]
        pb = np.r_[outs["game_dialogue.jsonl"]["sentiment"].argmax(1), outs["game_dialogue_hard.jsonl"]["sentiment"].argmax(1)]
        yb = np.array([x["sentiment"] for x in both])
        r["game_combined"] = {"n": len(both), "accuracy": float((pb == yb).mean()),
                              "by_category": acc_by(pb, yb, [x["category"] for x in both])}
        for f in HELD_OTHER:
            rows = ev(f)
            o = run(mb, wp, [x["text"] for x in rows])
            r[f] = personality_figures(o, rows) if "trait" in rows[0] else neutral_figures(o)
        r["_outputs"] = outs["game_dialogue.jsonl"]
        r["_outputs_st"] = st
        return r

    before, after = measure(before_bytes), measure(after_bytes)
    for k in ["personality", "relationship", "embedding"]:
        report[f"max_abs_change_{k}"] = max(float(np.abs(before[o][k] - after[o][k]).max())
                                            for o in ["_outputs", "_outputs_st"])
        assert report[f"max_abs_change_{k}"] == 0.0, k
    for r in (before, after):
        r.pop("_outputs")
        r.pop("_outputs_st")
    report["before"], report["after"] = before, after
    a, bf = after, before
    ship = (a["sentiment_test"]["accuracy"] >= bf["sentiment_test"]["accuracy"]
            and a["game_dialogue.jsonl"]["accuracy"] >= bf["game_dialogue.jsonl"]["accuracy"])
    report["shipped"] = ship
    for when in ["before", "after"]:
        r = report[when]
        print(when, f"sentiment test {r['sentiment_test']['accuracy']:.4f}, game dialogue "
                    f"{r['game_dialogue.jsonl']['accuracy']:.4f}, hard {r['game_dialogue_hard.jsonl']['accuracy']:.4f}, "
                    f"combined {r['game_combined']['accuracy']:.4f}")
        for f in ["game_dialogue.jsonl", "game_dialogue_hard.jsonl"]:
            print("  ", f, ", ".join(f"{c} {v['accuracy'] * 100:.1f}" for c, v in r[f]["by_category"].items()))
        print("   by source", json.dumps({k: round(v["accuracy"], 4) for k, v in r["sentiment_test"]["by_source"].items()}),
              "confusion", r["sentiment_test"]["confusion"])
    if not ship:
        with open(os.path.join(HERE, "sentiment_fit.json"), "w") as f:
            json.dump(report, f, indent=1)
            f.write("\n")
        print("NOT SHIPPED: the new head is worse than", args.src, "on a held-out set; nothing else written")
        sys.exit(1)

    with open(onnx_path, "wb") as f:
        f.write(after_bytes)
    sha = hashlib.sha256(after_bytes).hexdigest()
    gz = len(gzip.compress(after_bytes, compresslevel=9, mtime=0))
    manifest.update(version=args.dst, bytes=len(after_bytes), sha256=sha)
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    exp_path = os.path.join(MODELS, "eval", "expected.json")
    exp = json.load(open(exp_path))
    refs = exp["reference_outputs"]
    o_ref = run(after_bytes, wp, [r["text"] for r in refs])
    for i, r in enumerate(refs):
        assert r["ids"] == wp.encode(r["text"]), r["text"]
        for k in ["sentiment", "personality", "relationship", "embedding"]:
            r[k] = [float(x) for x in o_ref[k][i]]
    exp["sha256"] = sha
    exp["sentiment_test"]["accuracy"] = a["sentiment_test"]["accuracy"]
    g = a["game_dialogue.jsonl"]
    exp["game_dialogue"]["accuracy"] = g["accuracy"]
    exp["game_dialogue"]["accuracy_by_category"] = {c: v["accuracy"] for c, v in g["by_category"].items()}
    h = a["game_dialogue_hard.jsonl"]
    exp["game_dialogue_hard"] = {"file": "game_dialogue_hard.jsonl", "n": h["n"], "accuracy": h["accuracy"],
                                 "accuracy_by_category": {c: v["accuracy"] for c, v in h["by_category"].items()}}
    with open(exp_path, "w") as f:
        json.dump(exp, f, indent=1)
        f.write("\n")
    report.update(bytes=len(after_bytes), gzip9_bytes=gz, sha256=sha)
    with open(os.path.join(HERE, "sentiment_fit.json"), "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")
    print(json.dumps({"bytes": len(after_bytes), "gzip9": gz, "sha256": sha}))
    print("max abs change of personality / relationship / embedding:", report["max_abs_change_personality"],
          report["max_abs_change_relationship"], report["max_abs_change_embedding"])


if __name__ == "__main__":
    main()
