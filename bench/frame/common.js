// Shared by the frame-budget pages (ours and onnxruntime-web): the game's side of every figure. The long-task
// observer itself is an inline script at the top of each page (run.mjs writes it), so it sees the first task.

export const FIRST = 'Well met, traveller. What brings you to my forge?';

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));

/** Main-thread long tasks that started in [from, to): count, total and longest duration (ms). */
export function longTasks(from, to) {
  const tasks = window.__longtasks.filter((t) => t.start >= from && t.start < to);
  return {
    count: tasks.length,
    total: tasks.reduce((a, t) => a + t.duration, 0),
    longest: tasks.reduce((a, t) => Math.max(a, t.duration), 0),
    all: tasks.map((t) => Math.round(t.duration)),
    startedAt: tasks.map((t) => Math.round(t.start)),
  };
}

function stats(times) {
  const s = [...times].sort((a, b) => a - b);
  // The slowest calls with their place in the session (early ones point at code not yet optimised).
  const slowest = times.map((ms, i) => [i, ms]).sort((x, y) => y[1] - x[1]).slice(0, 4).map(([i, ms]) => `#${i} ${ms.toFixed(2)}`);
  // `times`: every call, so run.mjs can also pool the rounds (a p99 of 200 calls is their second slowest).
  return { n: s.length, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), max: s[s.length - 1] ?? NaN, slowest, times };
}

/**
 * A player's session: one call per animation frame, as a game's update loop would make them, each awaited
 * before the next frame's call (so a slow one shows as a late frame). Every `generateEvery`-th call is a
 * generate() (when the engine has one). Latency is from the call to its promise settling, on the page.
 */
export async function play({ analyze, generate, analyses, generates, lines }) {
  const from = performance.now();
  const a = [];
  const g = [];
  const calls = analyses + (generate ? generates : 0);
  const every = generate && generates > 0 ? Math.floor(calls / generates) : Infinity;
  let gaps = 0;
  let last = await frame();
  let ai = 0;
  for (let i = 0; i < calls; i++) {
    const isGenerate = generate && (i + 1) % every === 0 && g.length < generates;
    const s = performance.now();
    if (isGenerate) {
      await generate(g.length);
      g.push(performance.now() - s);
    } else {
      await analyze(lines[ai++ % lines.length]);
      a.push(performance.now() - s);
    }
    const now = await frame();
    // A frame that came more than 1.5 frames after the last: one or more were dropped.
    if (now - last > 25) gaps += 1;
    last = now;
  }
  const to = performance.now();
  return { analyze: stats(a), generate: g.length ? stats(g) : null, lateFrames: gaps, ms: to - from, longTasks: longTasks(from, to) };
}
