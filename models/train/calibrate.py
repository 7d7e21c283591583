"""Calibrates the committed model's personality and relationship heads after training (model 2.2.0 from 2.1.0).

    models/train/.venv/bin/python models/train/calibrate.py --from 2.1.0 --to 2.2.0

Why: the trained personality head ranks trait lines but squeezes every score into 0.49-0.51, and the relationship
head reads neutral small talk as cool (a plain "ok" at -0.29). Both are fixed by folding a fit into the head's own
float32 initializers, so the graph, its operators, the 4-bit encoder and every other output stay byte-identical:

* personality, per trait t: score = sigmoid(a_t * z + c_t) with z the trained logit. Folding: Wp[:, t] *= a_t,
  bp[t] = a_t * bp[t] + c_t. a_t, c_t are a logistic regression (L2 on a_t) of "high pole" on z, fitted on
  `data/personality_calib.jsonl` (hand-written trait lines, key +1 -> 1, key -1 -> 0) plus
  `data/neutral_calib.jsonl` (neutral small talk, soft target 0.5 for every trait). a_t > 0 is enforced, so the
  ranking of lines within a trait is the trained one; a scale is all that is fitted.
* relationship: relationship = tanh(s * q + d) with q the trained pre-activation, folded into `Wr`/`br` (Wr *= s,
  br = s * br + d; s > 0 keeps the ranking). s, d: weighted least squares of tanh(s q + d) against the hand-assigned
  affinity of `data/game_train.jsonl` (the game training lines) and 0 for the neutral lines of
  `data/neutral_calib.jsonl` and `data/neutral_calib_facts.jsonl` (20 more factual lines and 4 acknowledgements, used
  for relationship only, so the personality fit is unchanged), each set weighted 1/2 in all. An offset alone (2.2.0's first calibration) centred short acknowledgements but
  over-corrected longer factual lines; the scale lets neutral lines sit near 0 without moving hostile lines past it.

The calibration lines are never used to train the encoder or any head before this step, and the test lines
(`models/eval/personality_heldout*.jsonl`, `models/eval/neutral_*lines*.jsonl`) are only measured, never fitted.
Writes the new ONNX in place, `models/train/calibration.json` (fit + before/after figures), and refreshes
`models/eval/expected.json` (sha256, reference outputs) and `models/manifest.json` (version, bytes, sha256).
"""
import argparse
import hashlib
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
MODELS = os.path.join(REPO, "models")
sys.path.insert(0, HERE)
from wordpiece import WordPiece  # noqa: E402

TRAITS = ["openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism"]
L2 = 1e-3  # weak pull of a_t toward 0: only keeps a separable fit finite


def jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def run(model_bytes, wp, texts):
    sess = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    outs = {k: [] for k in ["sentiment", "personality", "relationship", "embedding"]}
    for t in texts:
        ids = np.array([wp.encode(t)], dtype=np.int64)
        for k, v in zip(outs, sess.run(list(outs), {"input_ids": ids})):
            outs[k].append(v[0])
    return {k: np.array(v) for k, v in outs.items()}


def logit(p):
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return np.log(p) - np.log1p(-p)


def fit_affine(z, y):
    """Logistic regression y ~ sigmoid(a z + c) with soft labels y, L2 on a, by Newton's method."""
    zs = z.std() or 1.0
    x = (z - z.mean()) / zs  # standardised, for a well-conditioned Newton step
    w = np.zeros(2)
    X = np.stack([x, np.ones_like(x)], 1)
    for _ in range(100):
        p = 1 / (1 + np.exp(-(X @ w)))
        g = X.T @ (p - y) / len(y) + np.array([L2 * w[0], 0])
        H = (X.T * (p * (1 - p))) @ X / len(y) + np.diag([L2, 1e-9])
        step = np.linalg.solve(H, g)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    a = max(w[0], 1e-6) / zs  # a > 0: never flip the trained ranking
    c = w[1] - a * z.mean()
    return float(a), float(c)


def fit_tanh_affine(q, y, w):
    """Weighted least squares of tanh(s q + d) against y, by Gauss-Newton with step halving; s > 0."""
    p = np.array([1.0, 0.0])
    loss = lambda p: float((w * (np.tanh(p[0] * q + p[1]) - y) ** 2).sum())  # noqa: E731
    for _ in range(200):
        t = np.tanh(p[0] * q + p[1])
        J = np.stack([q, np.ones_like(q)], 1) * (1 - t * t)[:, None]
        step = np.linalg.solve((J.T * w) @ J + 1e-9 * np.eye(2), (J.T * w) @ (y - t))
        k = 1.0
        while loss(p + k * step) > loss(p) and k > 1e-6:
            k /= 2
        p = p + k * step
        if np.abs(k * step).max() < 1e-12:
            break
    return max(float(p[0]), 1e-6), float(p[1])


def pairwise(scores, keys):
    hi, lo = scores[keys > 0], scores[keys < 0]
    return float((hi[:, None] > lo[None, :]).mean() + 0.5 * (hi[:, None] == lo[None, :]).mean())


def personality_figures(out, rows):
    p = out["personality"]
    tr = np.array([r["trait"] for r in rows])
    key = np.array([r["key"] for r in rows])
    own = p[np.arange(len(rows)), tr]
    per = {}
    for t, name in enumerate(TRAITS):
        m = tr == t
        per[name] = {"pairwise": pairwise(own[m], key[m]), "spread": float(np.abs(own[m] - 0.5).mean()),
                     "mean_high": float(own[m & (key > 0)].mean()), "mean_low": float(own[m & (key < 0)].mean())}
    # Pooled: every (high, low) pair of the same trait, all traits together.
    total = sum(((tr == t) & (key > 0)).sum() * ((tr == t) & (key < 0)).sum() for t in range(5))
    pooled = sum(per[n]["pairwise"] * ((tr == t) & (key > 0)).sum() * ((tr == t) & (key < 0)).sum()
                 for t, n in enumerate(TRAITS)) / total
    return {"pairwise": float(pooled), "spread": float(np.abs(own - 0.5).mean()), "by_trait": per, "n": len(rows)}


def neutral_figures(out):
    return {"relationship_mean_abs": float(np.abs(out["relationship"][:, 0]).mean()),
            "relationship_mean": float(out["relationship"][:, 0].mean()),
            "personality_mean_abs_from_half": float(np.abs(out["personality"] - 0.5).mean()),
            "n": len(out["relationship"])}


def game_affinity_r(out, rows):
    return float(np.corrcoef(out["relationship"][:, 0], [r["affinity"] for r in rows])[0, 1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--from", dest="src", required=True, help="the version the committed model must have")
    ap.add_argument("--to", dest="dst", required=True, help="the version to write")
    args = ap.parse_args()
    manifest_path = os.path.join(MODELS, "manifest.json")
    manifest = json.load(open(manifest_path))
    assert manifest["version"] == args.src, f"committed model is {manifest['version']}, not {args.src}"
    onnx_path = os.path.join(MODELS, manifest["file"])
    before_bytes = open(onnx_path, "rb").read()
    wp = WordPiece(os.path.join(MODELS, manifest["vocab"]["file"]))

    calib = jsonl(os.path.join(HERE, "data", "personality_calib.jsonl"))
    neutral_c = [r["text"] for r in jsonl(os.path.join(HERE, "data", "neutral_calib.jsonl"))]
    test = jsonl(os.path.join(MODELS, "eval", "personality_heldout.jsonl"))
    neutral_t = [r["text"] for r in jsonl(os.path.join(MODELS, "eval", "neutral_lines.jsonl"))]
    game = jsonl(os.path.join(MODELS, "eval", "game_dialogue.jsonl"))
    sent = jsonl(os.path.join(MODELS, "eval", "sentiment_test.jsonl"))
    neutral_r = neutral_c + [r["text"] for r in jsonl(os.path.join(HERE, "data", "neutral_calib_facts.jsonl"))]
    calib_texts = {r["text"] for r in calib} | set(neutral_r)
    others = ["personality_heldout_scenes.jsonl", "neutral_lines_scenes.jsonl", "neutral_player_lines.jsonl"]
    test_texts = {r["text"] for r in test} | set(neutral_t) | {r["text"] for r in game}
    test_texts |= {r["text"] for f in others for r in jsonl(os.path.join(MODELS, "eval", f))}
    assert not calib_texts & test_texts, "calibration and test lines overlap"

    def measure(model_bytes):
        o_test, o_neu = run(model_bytes, wp, [r["text"] for r in test]), run(model_bytes, wp, neutral_t)
        o_game = run(model_bytes, wp, [r["text"] for r in game])
        o_sent = run(model_bytes, wp, [r["text"] for r in sent])
        return {"personality_heldout": personality_figures(o_test, test), "neutral_lines": neutral_figures(o_neu),
                "relationship_pearson_game_affinity": game_affinity_r(o_game, game),
                "game_dialogue_acc": float(np.mean(o_game["sentiment"].argmax(1) == [r["sentiment"] for r in game])),
                "sentiment_test_acc": float(np.mean(o_sent["sentiment"].argmax(1) == [r["label"] for r in sent]))}

    before = measure(before_bytes)

    # Fit on the calibration lines, from the trained logits.
    o_cal, o_cn = run(before_bytes, wp, [r["text"] for r in calib]), run(before_bytes, wp, neutral_c)
    fit = {}
    for t, name in enumerate(TRAITS):
        rows = [i for i, r in enumerate(calib) if r["trait"] == t]
        z = np.concatenate([logit(o_cal["personality"][rows, t]), logit(o_cn["personality"][:, t])])
        y = np.concatenate([[(calib[i]["key"] + 1) / 2 for i in rows], np.full(len(neutral_c), 0.5)])
        a, c = fit_affine(z, y)
        fit[name] = {"a": a, "c": c, "calib_lines": len(rows), "neutral_lines": len(neutral_c)}

    model = onnx.load_from_string(before_bytes)
    inits = {t.name: t for t in model.graph.initializer}
    Wp, bp = numpy_helper.to_array(inits["Wp"]).copy(), numpy_helper.to_array(inits["bp"]).copy()
    for t, name in enumerate(TRAITS):
        Wp[:, t] *= fit[name]["a"]
        bp[t] = fit[name]["a"] * bp[t] + fit[name]["c"]

    # Relationship scale and offset: tanh(s q + d) against game affinity and neutral 0, each set half the weight.
    gtrain = jsonl(os.path.join(HERE, "data", "game_train.jsonl"))
    o_gt = run(before_bytes, wp, [r["text"] for r in gtrain])
    pre = lambda o: np.arctanh(np.clip(o["relationship"][:, 0], -0.999999, 0.999999))  # noqa: E731
    q = np.concatenate([pre(o_gt), pre(run(before_bytes, wp, neutral_r))])
    y = np.concatenate([[r["affinity"] for r in gtrain], np.zeros(len(neutral_r))])
    wts = np.concatenate([np.full(len(gtrain), 0.5 / len(gtrain)), np.full(len(neutral_r), 0.5 / len(neutral_r))])
    s_rel, d = fit_tanh_affine(q, y, wts)
    Wr = numpy_helper.to_array(inits["Wr"]).copy() * np.float32(s_rel)
    br = numpy_helper.to_array(inits["br"]).copy() * np.float32(s_rel) + np.float32(d)
    for name, arr in [("Wp", Wp), ("bp", bp), ("Wr", Wr), ("br", br)]:
        inits[name].CopyFrom(numpy_helper.from_array(arr.astype(np.float32), name))
    after_bytes = model.SerializeToString()
    after = measure(after_bytes)

    with open(onnx_path, "wb") as f:
        f.write(after_bytes)
    sha = hashlib.sha256(after_bytes).hexdigest()
    manifest.update(version=args.dst, bytes=len(after_bytes), sha256=sha)
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")

    # expected.json: the committed model's reference outputs under onnxruntime, recomputed for the same texts.
    exp_path = os.path.join(MODELS, "eval", "expected.json")
    exp = json.load(open(exp_path))
    refs = exp["reference_outputs"]
    o_ref = run(after_bytes, wp, [r["text"] for r in refs])
    for i, r in enumerate(refs):
        assert r["ids"] == wp.encode(r["text"]), r["text"]
        for k in ["sentiment", "personality", "relationship", "embedding"]:
            r[k] = [float(x) for x in o_ref[k][i]]
    exp["sha256"] = sha
    exp["sentiment_test"]["accuracy"] = after["sentiment_test_acc"]
    exp["game_dialogue"]["accuracy"] = after["game_dialogue_acc"]
    exp["personality_heldout_lines"] = {"file": "personality_heldout.jsonl", **{
        k: after["personality_heldout"][k] for k in ["n", "pairwise", "spread"]}}
    exp["neutral_lines"] = {"file": "neutral_lines.jsonl", **after["neutral_lines"]}
    with open(exp_path, "w") as f:
        json.dump(exp, f, indent=1)
        f.write("\n")

    report = {"from": args.src, "to": args.dst, "personality_fit": fit, "relationship_scale": s_rel,
              "relationship_offset": d, "relationship_fit_lines": {"game_train": len(gtrain), "neutral": len(neutral_r)},
              "before": before, "after": after, "bytes": len(after_bytes), "sha256": sha}
    with open(os.path.join(HERE, "calibration.json"), "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")
    print(json.dumps({k: report[k] for k in ["personality_fit", "relationship_scale", "relationship_offset", "bytes",
                                             "sha256"]}, indent=1))
    for when in ["before", "after"]:
        r = report[when]
        print(when, json.dumps({"pairwise": r["personality_heldout"]["pairwise"],
                                "spread": r["personality_heldout"]["spread"],
                                "by_trait": {n: (round(v["pairwise"], 3), round(v["spread"], 3))
                                             for n, v in r["personality_heldout"]["by_trait"].items()},
                                "neutral": r["neutral_lines"], "game_r": r["relationship_pearson_game_affinity"],
                                "game_acc": r["game_dialogue_acc"], "test_acc": r["sentiment_test_acc"]}))


if __name__ == "__main__":
    main()
