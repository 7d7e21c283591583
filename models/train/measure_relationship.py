"""Measures the committed model's relationship output against train.py's DERIVED target on the held-out test split.

    HF_HUB_OFFLINE=1 models/train/.venv/bin/python models/train/measure_relationship.py [--model FILE.onnx]

The derived target (MODEL_CARD.md, "Relationship"): tanh(0.6 * z_anchor + 0.4 * z_valence), z_anchor = (cosine of the
MiniLM teacher embedding to the mean 'warm toward you' anchor - cosine to the mean 'hostile' anchor - median) / std,
median and std taken over train.py's training text pool (VADER training split, chitchat bank replies and distillation
lines, hand-written + template game lines after the cosine filter); z_valence = human rating / std of the training
split's ratings (every test sentence has a human rating). The anchors are read from train.py's source (not copied),
and the pool is rebuilt with the same data functions and seeds. No fitting. 2.1.0's training run reported 0.787
(`eval/expected.json`, `relationship_pearson_test_derived_target`); measuring 2.1.0's file out of git with --model is the
check that this rebuild matches. --write-expected stores the committed model's figure in `eval/expected.json`.
"""
import ast
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from calibrate import MODELS, WordPiece, jsonl, run  # noqa: E402
import data  # noqa: E402


def anchors():
    tree = ast.parse(open(os.path.join(HERE, "train.py"), encoding="utf-8").read())
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and node.targets[0].id in (
                "POS_ANCHORS", "NEG_ANCHORS"):
            out[node.targets[0].id] = ast.literal_eval(node.value)
    return out["POS_ANCHORS"], out["NEG_ANCHORS"]


def main():
    args = sys.argv[1:]
    write = "--write-expected" in args
    args = [a for a in args if a != "--write-expected"]
    assert not (write and args), "--write-expected records the committed model only"
    manifest = json.load(open(os.path.join(MODELS, "manifest.json")))
    model_path = args[1] if args[:1] == ["--model"] else os.path.join(MODELS, manifest["file"])
    wp = WordPiece(os.path.join(MODELS, manifest["vocab"]["file"]))
    v_train, v_val, v_test = data.split_vader(data.load_vader(), seed=1234)
    bank_pairs, cc_distill, _ = data.select_chitchat(seed=1234)
    game_train = jsonl(os.path.join(HERE, "data", "game_train.jsonl"))
    game_gen_all = jsonl(os.path.join(HERE, "data", "game_gen.jsonl"))
    game_eval = jsonl(os.path.join(MODELS, "eval", "game_dialogue.jsonl"))
    sg = data.teacher_embed([g["text"] for g in game_gen_all]) @ data.teacher_embed([g["text"] for g in game_eval]).T
    game_gen = [g for g, mx in zip(game_gen_all, sg.max(1)) if mx < 0.75]  # train.py's GEN_MAX_COS filter
    pool = [r["text"] for r in v_train] + [r for _, r in bank_pairs] + cc_distill + [g["text"] for g in game_train + game_gen]
    pos, neg = anchors()
    pos_c, neg_c = data.teacher_embed(pos).mean(0), data.teacher_embed(neg).mean(0)
    raw = lambda texts: data.teacher_embed(texts) @ pos_c - data.teacher_embed(texts) @ neg_c  # noqa: E731
    ar = raw(pool)
    mu, sd = float(np.median(ar)), float(ar.std())
    rating_sd = float(np.std([r["rating"] for r in v_train]))
    test = [r["text"] for r in v_test]
    target = np.tanh(0.6 * (raw(test) - mu) / sd + 0.4 * np.array([r["rating"] for r in v_test]) / rating_sd)
    out = run(open(model_path, "rb").read(), wp, test)
    r = float(np.corrcoef(out["relationship"][:, 0], target)[0, 1])
    print(json.dumps({"model": os.path.basename(model_path), "version": manifest["version"] if len(args) < 2 else None,
                      "pool": len(pool), "game_gen_kept": len(game_gen), "anchor_median": mu, "anchor_std": sd,
                      "n_test": len(test), "relationship_pearson_test_derived_target": r}))
    if write:
        exp_path = os.path.join(MODELS, "eval", "expected.json")
        exp = json.load(open(exp_path))
        exp["relationship_pearson_test_derived_target"] = r
        with open(exp_path, "w") as f:
            json.dump(exp, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
