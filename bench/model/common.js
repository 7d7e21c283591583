// Shared by both engines' bench pages: timing loops and percentiles. Each page defines `engine` with
// { setup(), one(input), batch(inputs), outputs(input) } and calls install(engine).

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function install(engine) {
  window.bench = {
    async setup() {
      const t0 = performance.now();
      await engine.setup();
      return { setupMs: performance.now() - t0 };
    },
    // Warm up by time (Chromium keeps optimising a big .wasm in the background), then time every run.
    async steady(inputs, warmupMs, runs) {
      let i = 0;
      const t0 = performance.now();
      let warmupRuns = 0;
      while (performance.now() - t0 < warmupMs) {
        await engine.one(inputs[i++ % inputs.length]);
        warmupRuns++;
      }
      const times = [];
      for (let r = 0; r < runs; r++) {
        const input = inputs[r % inputs.length];
        const s = performance.now();
        await engine.one(input);
        times.push(performance.now() - s);
      }
      times.sort((a, b) => a - b);
      const mean = times.reduce((a, b) => a + b, 0) / times.length;
      return { warmupRuns, runs, p50: percentile(times, 50), p95: percentile(times, 95), p99: percentile(times, 99), mean };
    },
    async batch(inputs, size, rounds) {
      const groups = [];
      for (let i = 0; i + size <= inputs.length; i += size) groups.push(inputs.slice(i, i + size));
      await engine.batch(groups[0]);
      const t0 = performance.now();
      let items = 0;
      for (let r = 0; r < rounds; r++) {
        const g = groups[r % groups.length];
        await engine.batch(g);
        items += g.length;
      }
      const seconds = (performance.now() - t0) / 1000;
      return { size, items, perSecond: items / seconds };
    },
    async outputs(inputs) {
      const out = [];
      for (const input of inputs) out.push(await engine.outputs(input));
      return out;
    },
  };
}
