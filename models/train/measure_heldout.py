"""Measures the committed model on held-out lines (no fitting). Personality lines ({text, trait, key}): pooled and
per-trait pairwise (share of same-trait (high, low) pairs where the high line scores above, ties half) and spread
(mean |score - 0.5|). Neutral lines ({text} only): relationship mean and mean |relationship|.

    models/train/.venv/bin/python models/train/measure_heldout.py [--model FILE.onnx] [models/eval/FILE.jsonl ...]

Without arguments it measures the held-out sets: `personality_heldout.jsonl` and `neutral_lines.jsonl` (hand-written,
same author as the calibration lines), `personality_heldout_scenes.jsonl` and `neutral_lines_scenes.jsonl` (written
per game scene by another procedure) and `neutral_player_lines.jsonl` (a player's neutral questions), see
MODEL_CARD.md; for
lines with a `scene`, it also prints the share of (scene, trait) pairs whose high line scores above its low line.
--model measures another ONNX file (e.g. an older version out of git) with the committed vocabulary.
--write-expected stores the committed model's figures on the scene sets in `models/eval/expected.json`
(fit_personality.py, which made 2.3.0, writes all five sets' figures itself)
(`personality_heldout_scenes`, `neutral_lines_scenes`, `neutral_player_lines`), which `tests/model_quality.rs` checks in Rust.
Sentiment game lines ({text, sentiment, category}, e.g. `game_dialogue.jsonl`, `game_dialogue_hard.jsonl`): accuracy
overall and per category; with --write-expected, `game_dialogue_hard.jsonl`'s figures are stored as
`game_dialogue_hard` in expected.json.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from calibrate import MODELS, TRAITS, WordPiece, jsonl, neutral_figures, personality_figures, run  # noqa: E402


def write_expected(key, figures):
    exp_path = os.path.join(MODELS, "eval", "expected.json")
    exp = json.load(open(exp_path))
    exp[key] = figures
    with open(exp_path, "w") as f:
        json.dump(exp, f, indent=1)
        f.write("\n")


def main():
    args = sys.argv[1:]
    model_path, write = None, "--write-expected" in args
    args = [a for a in args if a != "--write-expected"]
    if args[:1] == ["--model"]:
        model_path, args = args[1], args[2:]
    assert not (write and model_path), "--write-expected records the committed model only"
    files = args or [os.path.join(MODELS, "eval", f)
                             for f in ["personality_heldout.jsonl", "neutral_lines.jsonl", "personality_heldout_scenes.jsonl",
                                       "neutral_lines_scenes.jsonl", "neutral_player_lines.jsonl"]]
    manifest = json.load(open(os.path.join(MODELS, "manifest.json")))
    model_bytes = open(model_path or os.path.join(MODELS, manifest["file"]), "rb").read()
    version = os.path.basename(model_path) if model_path else manifest["version"]
    wp = WordPiece(os.path.join(MODELS, manifest["vocab"]["file"]))
    for path in files:
        rows = jsonl(path)
        out = run(model_bytes, wp, [r["text"] for r in rows])
        name = os.path.basename(path)
        if "sentiment" in rows[0] and "category" in rows[0]:
            pred = out["sentiment"].argmax(1)
            ok = [int(p == r["sentiment"]) for p, r in zip(pred, rows)]
            cats = sorted({r["category"] for r in rows})
            by = {c: sum(o for o, r in zip(ok, rows) if r["category"] == c) / sum(r["category"] == c for r in rows)
                  for c in cats}
            print(f"{version} {name}: n {len(rows)}, sentiment accuracy {sum(ok) / len(rows) * 100:.1f} %; "
                  + ", ".join(f"{c} {by[c] * 100:.1f} % (n={sum(r['category'] == c for r in rows)})" for c in cats))
            if write and name == "game_dialogue_hard.jsonl":
                write_expected("game_dialogue_hard", {"file": name, "n": len(rows), "accuracy": sum(ok) / len(rows),
                                                      "accuracy_by_category": by})
            continue
        if "trait" not in rows[0]:
            fig = neutral_figures(out)
            print(f"{version} {name}: n {fig['n']}, relationship mean {fig['relationship_mean']:+.3f}, mean |rel| "
                  f"{fig['relationship_mean_abs']:.3f}, personality mean |p - 0.5| {fig['personality_mean_abs_from_half']:.3f}")
            if write and name != "neutral_lines.jsonl":  # calibrate.py writes that one's figures
                write_expected(name.removesuffix(".jsonl"), {"file": name, **fig})
            continue
        fig = personality_figures(out, rows)
        print(f"{version} {name}: n {fig['n']}, pairwise {fig['pairwise'] * 100:.1f} %, "
              f"spread {fig['spread']:.3f}")
        for trait in TRAITS:
            v = fig["by_trait"][trait]
            print(f"  {trait:18s} pairwise {v['pairwise'] * 100:5.1f} %  spread {v['spread']:.3f}  "
                  f"high {v['mean_high']:.3f}  low {v['mean_low']:.3f}")
        if all("scene" in r for r in rows):
            own = {(r["scene"], r["trait"], r["key"]): out["personality"][i, r["trait"]] for i, r in enumerate(rows)}
            pairs = [(s, t) for (s, t, k) in own if k > 0]
            won = sum(own[(s, t, 1)] > own[(s, t, -1)] for s, t in pairs)
            print(f"  same-scene pairs: high above low in {won} of {len(pairs)} ({won / len(pairs) * 100:.1f} %)")
            if write:
                write_expected("personality_heldout_scenes", {
                    "file": name, "n": fig["n"], "pairwise": fig["pairwise"], "spread": fig["spread"],
                    "same_scene_pairs": len(pairs), "same_scene_high_above_low": int(won)})


if __name__ == "__main__":
    main()
