"""Markdown tables of the held-out figures (exp/<name>.test.json) for the retrain experiment."""
import json, os, sys
EXP = os.path.dirname(os.path.abspath(__file__))
names = sys.argv[1:]
D = {n: json.load(open(os.path.join(EXP, n + ".test.json"))) for n in names}
p = lambda x: "%.1f %%" % (x * 100)  # noqa: E731
print("| figure | " + " | ".join(names) + " | issue 20 target |")
print("|---|" + "---|" * (len(names) + 1))
rows = [("sentiment, test split (n=2370)", lambda d: p(d["sentiment_test"]["acc"]), ">= 72 %")]
for src in ["amazonReviewSnippets", "movieReviewSnippets", "nytEditorialSnippets", "tweets"]:
    rows.append(("  by source: " + src, lambda d, s=src: p(d["sentiment_test"]["by_source"][s]["acc"]), ""))
rows += [("game_dialogue (n=175)", lambda d: p(d["game_dialogue"]["acc"]), ">= 85 %"),
         ("game_dialogue lowest category", lambda d: p(d["game_dialogue"]["min_category"]), ">= 70 %"),
         ("game_dialogue_hard (n=54)", lambda d: p(d["game_dialogue_hard"]["acc"]), "reported"),
         ("relationship r, derived target, test (raw)", lambda d: "%.4f" % d["sentiment_test"]["rel_r_derived"], ""),
         ("relationship r, derived target, test (cal)", lambda d: "%.4f" % d["sentiment_test"]["rel_r_derived_cal"], ">= 0.79"),
         ("relationship r vs affinity, 175 / 54 (cal)", lambda d: "%.3f / %.3f" % (d["game_dialogue"]["rel_r_affinity_cal"], d["game_dialogue_hard"]["rel_r_affinity_cal"]), ""),
         ("neutral mean abs rel, lines / scenes / player (raw)", lambda d: " / ".join("%.3f" % d[k]["mean_abs"] for k in ["neutral_lines", "neutral_lines_scenes", "neutral_player_lines"]), ""),
         ("neutral mean abs rel, lines / scenes / player (cal)", lambda d: " / ".join("%.3f" % d[k]["cal_mean_abs"] for k in ["neutral_lines", "neutral_lines_scenes", "neutral_player_lines"]), "< 0.1 each"),
         ("neutral mean rel, lines / scenes / player (cal)", lambda d: " / ".join("%+.3f" % d[k]["cal_mean"] for k in ["neutral_lines", "neutral_lines_scenes", "neutral_player_lines"]), ""),
         ("confusion, test (rows truth neg/neu/pos)", lambda d: str(d["sentiment_test"]["confusion"]), ""),
         ("model bytes", lambda d: "{:,}".format(d["bytes"]), "<= 1 MB")]
for label, f, tgt in rows:
    print("| " + label + " | " + " | ".join(f(D[n]) for n in names) + " | " + tgt + " |")
for g in ["game_dialogue", "game_dialogue_hard"]:
    print()
    print("| %s per category | n | " % g + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    cats = D[names[0]][g]["by_category"]
    for c in cats:
        print("| %s | %d | " % (c, cats[c]["n"]) + " | ".join("%.1f" % (D[n][g]["by_category"][c]["acc"] * 100) for n in names) + " |")
