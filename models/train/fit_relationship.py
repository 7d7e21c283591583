"""Fits a new relationship head on the frozen encoder of the committed model (model 2.4.0 from 2.3.0, issue 20).

    HF_HUB_OFFLINE=1 models/train/.venv/bin/python models/train/fit_relationship.py --from 2.3.0 --to 2.4.0
    HF_HUB_OFFLINE=1 models/train/.venv/bin/python models/train/fit_relationship.py --from 2.3.0 --to 2.4.0 --dry

Why: issue 20 asks for r >= 0.79 on train.py's derived relationship target (2.3.0: 0.786 on the held-out test split)
and a mean |relationship| under 0.1 on neutral lines (2.3.0: 0.090 / 0.128 / 0.074 on the three neutral sets). 2.3.0's
head is 2.2.0's calibrated Tanh(feat @ Wr + br). The encoder is not retrained; every byte of it and of the sentiment,
personality and embedding heads is kept, and only the `relationship` output is rewired:

    q = feat @ Wr' + pooled @ Wrq + br'          (192 -> 1 and 384 -> 1)
    relationship = Tanh(q)

`pooled` is the encoder's [masked mean, max] vector (384), `feat` = Relu(pooled @ Wd + bd) the shared feature 2.3.0's
head reads (192). Fitted as a regularised step away from 2.3.0's head: q = q_2.3.0 + x w + b, x the standardised
[feat, pooled], loss = weighted mean of (tanh(q) - y)^2 + lam / 2 * |w|^2 (b not penalised), L-BFGS from w = 0
(deterministic). The standardisation is folded into Wr', Wrq, br'. Ops: MatMul, Add, Tanh (all already in the graph);
output name, shape [batch, 1], dtype float32 and the Tanh are unchanged.

Training rows and targets (training files only):
* the VADER training split (data.split_vader, seed 1234) with train.py's derived target tanh(0.6 z_anchor + 0.4
  z_valence), rebuilt with the same anchors, pool statistics and ratings as measure_relationship.py (every VADER
  sentence has a human rating, so train.py's teacher classifier is not needed for these rows). The chitchat and
  personality-augmentation rows of train.py's pool are not used: their derived target needs train.py's sentiment
  teacher classifier, which is not rebuilt here;
* the game lines train.py used with their hand-assigned affinity: `data/game_train.jsonl` and `data/game_gen.jsonl`
  after train.py's cosine filter (template lines with teacher cosine >= 0.75 to a `game_dialogue` line dropped);
* neutral lines at target 0: `data/neutral_calib.jsonl`, `data/neutral_calib_facts.jsonl` and the neutral lines
  (trait -1) of `data/personality_scenes.jsonl`.
No exact overlap with a held-out line is asserted, and every game or neutral training line whose MiniLM teacher cosine
to a held-out line (`eval/game_dialogue*.jsonl`, `eval/neutral_*lines*.jsonl`) is >= 0.75 is dropped.

Selection (never on a held-out set): validation = the VADER validation split (r against the derived target), every
4th line of `game_train.jsonl` (r against affinity) and a held-back quarter of the neutral training lines (every 4th
neutral template of personality_scenes, every 4th line of the two neutral_calib files; mean |relationship|).
Grid: lam x total game weight x total neutral weight (each relative to the VADER rows). Rule, fixed before any run:
among the settings whose validation r (VADER) is >= 2.3.0's and whose held-back game r is >= 2.3.0's - 0.01, the
lowest held-back neutral mean |relationship|; near-ties (0.002) -> largest lam, then smallest neutral weight. The
chosen setting is refitted with the held-back game and neutral lines added (the VADER validation split stays out).
The grid was set by three --dry runs (validation figures only): a first grid lam {0.0003 .. 0.01} x game weight
{0.25, 0.5} x neutral weight {0.05 .. 0.4} left every setting's held-back neutral mean |relationship| above 2.3.0's
(0.093-0.127 vs 0.079) and lam barely mattered, so lam and the neutral weight were moved up until the optimum was inside.

Only after that (and not with --dry) are the held-out sets measured, once, before and after: r on the derived target
(test split), r vs the hand-assigned affinity of the 175 game lines (and of the 54 hard lines), the three neutral sets.
Shipped only if the derived r is not below 2.3.0's, the mean |relationship| is lower on each of the three neutral sets
and the 175-line affinity r is not below 2.3.0's by more than 0.01; otherwise only `relationship_fit.json` is written
("shipped": false) and the script exits with status 1. When shipped: the ONNX in place, `models/manifest.json`,
`models/eval/expected.json` and `models/train/relationship_fit.json`.
"""
import argparse
import gzip
import hashlib
import json
import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from calibrate import MODELS, WordPiece, game_affinity_r, jsonl, neutral_figures, personality_figures, run  # noqa: E402
from fit_sentiment import frozen_features  # noqa: E402
from measure_relationship import anchors  # noqa: E402

MAX_COS = 0.75
LAM_GRID = [0.1, 1.0, 3.0, 10.0]
GAME_W_GRID = [0.25]  # total weight of the game lines / total weight of the VADER rows
NEUTRAL_W_GRID = [0.4, 1.0, 2.0, 4.0]  # total weight of the neutral lines / total weight of the VADER rows
HOLD_EVERY = 4
HELD_GAME = ["game_dialogue.jsonl", "game_dialogue_hard.jsonl"]
HELD_NEUTRAL = ["neutral_lines.jsonl", "neutral_lines_scenes.jsonl", "neutral_player_lines.jsonl"]
HELD_PERS = ["personality_heldout.jsonl", "personality_heldout_scenes.jsonl"]


def fit_tanh(X, q0, y, w, lam):
    """Weighted least squares of tanh(q0 + X w + b) against y, L2 lam on w, L-BFGS from w = 0."""
    from scipy.optimize import minimize

    w_ = np.asarray(w, dtype=np.float64)
    w_ = w_ / w_.sum()
    d = X.shape[1]

    def f(theta):
        v, b = theta[:d], theta[d]
        t = np.tanh(q0 + X @ v + b)
        e = t - y
        loss = float(w_ @ (e * e)) + 0.5 * lam * float(v @ v)
        g = 2 * w_ * e * (1 - t * t)
        return loss, np.r_[X.T @ g + lam * v, g.sum()]

    r = minimize(f, np.zeros(d + 1), jac=True, method="L-BFGS-B", options={"maxiter": 3000, "gtol": 1e-8})
    return r.x[:d], float(r.x[d])


def rewire(model_bytes, Wr, Wrq, br):
    """Replaces relationship = Tanh(feat @ Wr + br) by Tanh(feat @ Wr' + pooled @ Wrq + br')."""
    m = onnx.load_from_string(model_bytes)
    g = m.graph
    old = [n for n in g.node if n.output[0] in ("q0", "q1", "relationship")]
    assert [n.op_type for n in old] == ["MatMul", "Add", "Tanh"] and list(old[0].input) == ["feat", "Wr"], old
    for n in old:
        g.node.remove(n)
    g.node.extend([
        helper.make_node("MatMul", ["feat", "Wr"], ["q0"]),
        helper.make_node("MatMul", ["pooled", "Wrq"], ["q0q"]),
        helper.make_node("Add", ["q0", "q0q"], ["q0s"]),
        helper.make_node("Add", ["q0s", "br"], ["q1"]),
        helper.make_node("Tanh", ["q1"], ["relationship"]),
    ])
    inits = {t.name: t for t in g.initializer}
    assert "Wrq" not in inits
    for name, arr in [("Wr", Wr), ("br", br), ("Wrq", Wrq)]:
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
    import data  # noqa: E402

    # The derived target, exactly as measure_relationship.py rebuilds it.
    v_train, v_val, v_test = data.split_vader(data.load_vader(), seed=1234)
    bank_pairs, cc_distill, _ = data.select_chitchat(seed=1234)
    game_train = jsonl(os.path.join(D, "game_train.jsonl"))
    game_gen_all = jsonl(os.path.join(D, "game_gen.jsonl"))
    game_eval = ev("game_dialogue.jsonl")
    sg = data.teacher_embed([g["text"] for g in game_gen_all]) @ data.teacher_embed([g["text"] for g in game_eval]).T
    game_gen = [g for g, mx in zip(game_gen_all, sg.max(1)) if mx < 0.75]
    pool = [r["text"] for r in v_train] + [r for _, r in bank_pairs] + cc_distill + [g["text"] for g in game_train + game_gen]
    pos, neg = anchors()
    pos_c, neg_c = data.teacher_embed(pos).mean(0), data.teacher_embed(neg).mean(0)
    raw = lambda texts: data.teacher_embed(texts) @ pos_c - data.teacher_embed(texts) @ neg_c  # noqa: E731
    ar = raw(pool)
    mu_a, sd_a = float(np.median(ar)), float(ar.std())
    rating_sd = float(np.std([r["rating"] for r in v_train]))
    derived = lambda rows: np.tanh(0.6 * (raw([r["text"] for r in rows]) - mu_a) / sd_a  # noqa: E731
                                   + 0.4 * np.array([r["rating"] for r in rows]) / rating_sd)

    # Game and neutral training lines; disjointness from the held-out lines.
    for i, g in enumerate(game_train):
        g["hold"] = i % HOLD_EVERY == HOLD_EVERY - 1
    for g in game_gen:
        g["hold"] = False
    game = game_train + game_gen
    neutral = data.neutral_training_rows(HOLD_EVERY)
    held_rows = {f: ev(f) for f in HELD_GAME + HELD_NEUTRAL}
    held = [r["text"] for f in held_rows for r in held_rows[f]]
    assert not {r["text"].lower() for r in game + neutral} & {t.lower() for t in held}, "training and held-out overlap"
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
    neutral = drop_close(neutral, "neutral")
    print(json.dumps({k: (v if not isinstance(v, dict) else {kk: v[kk] for kk in ["lines", "dropped", "max_cos_kept"]})
                      for k, v in disjoint.items()}), flush=True)

    # Frozen features and 2.3.0's pre-activation.
    X_vt = frozen_features(before_bytes, wp, [r["text"] for r in v_train])
    X_vv = frozen_features(before_bytes, wp, [r["text"] for r in v_val])
    X_g = frozen_features(before_bytes, wp, [r["text"] for r in game])
    X_n = frozen_features(before_bytes, wp, [r["text"] for r in neutral])
    y_vt, y_vv = derived(v_train), derived(v_val)
    y_g = np.array([r["affinity"] for r in game], dtype=np.float64)
    g_hold = np.array([r["hold"] for r in game])
    n_hold = np.array([r["hold"] for r in neutral])
    inits = {t.name: numpy_helper.to_array(t) for t in onnx.load_from_string(before_bytes).graph.initializer}
    Wr0, br0 = inits["Wr"].astype(np.float64)[:, 0], float(inits["br"].astype(np.float64)[0])
    q0 = lambda X: X[:, :192] @ Wr0 + br0  # noqa: E731
    corr = lambda a, b: float(np.corrcoef(a, b)[0, 1])  # noqa: E731
    start = {"vader_val_r": corr(np.tanh(q0(X_vv)), y_vv),
             "game_hold_r": corr(np.tanh(q0(X_g[g_hold])), y_g[g_hold]),
             "neutral_hold_mean_abs": float(np.abs(np.tanh(q0(X_n[n_hold]))).mean()),
             "neutral_hold_mean": float(np.tanh(q0(X_n[n_hold])).mean())}
    print("2.3.0 head on validation:", json.dumps(start), flush=True)

    def problem(Xg, yg, Xn, gw, nw):
        X = np.vstack([X_vt, Xg, Xn])
        y = np.r_[y_vt, yg, np.zeros(len(Xn))]
        n = len(X_vt)
        w = np.r_[np.ones(n), np.full(len(Xg), gw * n / len(Xg)), np.full(len(Xn), nw * n / len(Xn))]
        return X, y, w

    Xg_s, yg_s, Xn_s = X_g[~g_hold], y_g[~g_hold], X_n[~n_hold]
    Xall = np.vstack([X_vt, Xg_s, Xn_s])
    mu, sd = Xall.mean(0), Xall.std(0) + 1e-6
    S = lambda X: (X - mu) / sd  # noqa: E731
    grid = []
    for lam in LAM_GRID:
        for gw in GAME_W_GRID:
            for nw in NEUTRAL_W_GRID:
                X, y, w = problem(Xg_s, yg_s, Xn_s, gw, nw)
                v, b = fit_tanh(S(X), q0(X), y, w, lam)
                pr = lambda Z: np.tanh(q0(Z) + S(Z) @ v + b)  # noqa: E731
                row = {"lam": lam, "game_w": gw, "neutral_w": nw, "vader_val_r": corr(pr(X_vv), y_vv),
                       "game_hold_r": corr(pr(X_g[g_hold]), y_g[g_hold]),
                       "neutral_hold_mean_abs": float(np.abs(pr(X_n[n_hold])).mean()),
                       "neutral_hold_mean": float(pr(X_n[n_hold]).mean()),
                       "vader_train_r": corr(pr(X_vt), y_vt)}
                grid.append(row)
                print(json.dumps({k: (round(x, 4) if isinstance(x, float) else x) for k, x in row.items()}), flush=True)
    ok = [g for g in grid if g["vader_val_r"] >= start["vader_val_r"] and g["game_hold_r"] >= start["game_hold_r"] - 0.01]
    if not ok:
        ok = [max(grid, key=lambda g: g["vader_val_r"])]
    top = min(g["neutral_hold_mean_abs"] for g in ok)
    sel = sorted([g for g in ok if g["neutral_hold_mean_abs"] <= top + 0.002],
                 key=lambda g: (-g["lam"], g["neutral_w"], g["game_w"]))[0]
    print("selected", json.dumps(sel), flush=True)

    # Final refit with the held-back game and neutral lines; the VADER validation split stays out.
    X, y, w = problem(X_g, y_g, X_n, sel["game_w"], sel["neutral_w"])
    mu, sd = X.mean(0), X.std(0) + 1e-6
    v, b = fit_tanh((X - mu) / sd, q0(X), y, w, sel["lam"])
    vf = v / sd
    Wr = Wr0 + vf[:192]
    Wrq = vf[192:]
    br = br0 + b - float((mu / sd) @ v)
    after_bytes = rewire(before_bytes, Wr[:, None], Wrq[:, None], np.array([br]))
    final_val_r = corr(np.tanh(X_vv[:, :192] @ Wr + X_vv[:, 192:] @ Wrq + br), y_vv)
    o = run(after_bytes, wp, [r["text"] for r in v_val[:60]])["relationship"][:, 0]
    fold_err = float(np.abs(o - np.tanh(X_vv[:60, :192] @ Wr + X_vv[:60, 192:] @ Wrq + br)).max())
    assert fold_err < 1e-4, fold_err
    report = {"from": args.src, "to": args.dst, "disjointness": disjoint, "start_2_3_0_validation": start,
              "grid": grid, "selected": sel, "final_vader_val_r": final_val_r,
              "train_lines": {"vader_train": len(X_vt), "vader_val": len(X_vv), "game_train+game_gen": len(X_g),
                              "game_held_back_in_selection": int(g_hold.sum()), "neutral": len(X_n),
                              "neutral_held_back_in_selection": int(n_hold.sum())},
              "anchor_median": mu_a, "anchor_std": sd_a, "fold_max_abs_err": fold_err}
    print(json.dumps({k: report[k] for k in ["selected", "final_vader_val_r", "train_lines", "fold_max_abs_err"]}),
          flush=True)
    if args.dry:
        return

    # Held-out measurement (once), before and after.
    y_test = derived(v_test)

    def measure(mb):
        r, outs = {}, {}
        o = run(mb, wp, [x["text"] for x in v_test])
        outs["test"] = o
        r["relationship_pearson_test_derived_target"] = corr(o["relationship"][:, 0], y_test)
        for f in HELD_GAME:
            o = run(mb, wp, [x["text"] for x in held_rows[f]])
            outs[f] = o
            r[f] = {"n": len(held_rows[f]), "relationship_pearson_vs_affinity": game_affinity_r(o, held_rows[f])}
        for f in HELD_NEUTRAL:
            o = run(mb, wp, [x["text"] for x in held_rows[f]])
            outs[f] = o
            r[f] = neutral_figures(o)
        for f in HELD_PERS:
            rows = ev(f)
            r[f] = personality_figures(run(mb, wp, [x["text"] for x in rows]), rows)
        return r, outs

    (before, ob), (after, oa) = measure(before_bytes), measure(after_bytes)
    for k in ["sentiment", "personality", "embedding"]:
        report[f"max_abs_change_{k}"] = max(float(np.abs(ob[f][k] - oa[f][k]).max()) for f in ob)
        assert report[f"max_abs_change_{k}"] == 0.0, k
    report["before"], report["after"] = before, after
    a, bf = after, before
    ship = (a["relationship_pearson_test_derived_target"] >= bf["relationship_pearson_test_derived_target"]
            and all(a[f]["relationship_mean_abs"] < bf[f]["relationship_mean_abs"] for f in HELD_NEUTRAL)
            and a["game_dialogue.jsonl"]["relationship_pearson_vs_affinity"]
            >= bf["game_dialogue.jsonl"]["relationship_pearson_vs_affinity"] - 0.01)
    report["shipped"] = ship
    for when in ["before", "after"]:
        r = report[when]
        print(when, f"r derived (test) {r['relationship_pearson_test_derived_target']:.4f}, r affinity 175 "
                    f"{r['game_dialogue.jsonl']['relationship_pearson_vs_affinity']:.4f}, 54 hard "
                    f"{r['game_dialogue_hard.jsonl']['relationship_pearson_vs_affinity']:.4f}; neutral mean |rel| / mean "
              + ", ".join(f"{r[f]['relationship_mean_abs']:.3f} / {r[f]['relationship_mean']:+.3f}" for f in HELD_NEUTRAL))
    print("max abs change of sentiment / personality / embedding:", report["max_abs_change_sentiment"],
          report["max_abs_change_personality"], report["max_abs_change_embedding"])
    out_json = os.path.join(HERE, "relationship_fit.json")
    if not ship:
        with open(out_json, "w") as f:
            json.dump(report, f, indent=1)
            f.write("\n")
        print("NOT SHIPPED: the new head misses the rule against", args.src, "on a held-out set; nothing else written")
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
    exp["relationship_pearson_test_derived_target"] = a["relationship_pearson_test_derived_target"]
    exp["game_dialogue"]["relationship_pearson_vs_affinity"] = a["game_dialogue.jsonl"]["relationship_pearson_vs_affinity"]
    for f in HELD_NEUTRAL:
        key = f[:-len(".jsonl")]
        if key in exp:
            for k in ["relationship_mean_abs", "relationship_mean"]:
                exp[key][k] = a[f][k]
    with open(exp_path, "w") as f:
        json.dump(exp, f, indent=1)
        f.write("\n")
    report.update(bytes=len(after_bytes), gzip9_bytes=gz, sha256=sha)
    with open(out_json, "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")
    print(json.dumps({"bytes": len(after_bytes), "gzip9": gz, "sha256": sha}))


if __name__ == "__main__":
    main()
