// The soak page: one runtime, steady mixed traffic (generate, analyze, cache calls) until told to stop, and a
// snapshot the runner reads every minute. Every call's promise is counted until it settles, so a call that never
// settles shows up as pending.
import init, { UnwrittenAI } from 'unwritten-ai';
import wasmExports from 'unwritten-ai/unwritten_ai.js';

const NAMES = ['Bram', 'Nell', 'Osric', 'Maud', 'Tamsin', 'Corin'];
const LINES = [
  'Any work for me at the forge?', 'Who goes there?', 'I need help, my friend is hurt.', 'Goodbye, and thank you.',
  'Get out of my way, old fool.', 'Thank you for the bread, it was wonderful.', 'How much for the sword?',
  'I will burn this village to the ground.', 'Where can I find the healer?',
];
const TYPES = ['dialogue', 'greeting', 'question', 'reaction', 'farewell', 'bark'];

let s = 7;
const rand = () => {
  s = (s + 0x6d2b79f5) | 0;
  let t = Math.imul(s ^ (s >>> 15), 1 | s);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (xs) => xs[Math.floor(rand() * xs.length)];

const counts = { started: 0, settled: 0, ok: 0, failed: 0, emptyText: 0 };
const errors = {};
let running = false;
let ai;

function track(p) {
  counts.started += 1;
  return p.then(
    (v) => {
      counts.settled += 1;
      counts.ok += 1;
      return v;
    },
    (e) => {
      counts.settled += 1;
      counts.failed += 1;
      errors[e?.name ?? 'unknown'] = (errors[e?.name ?? 'unknown'] ?? 0) + 1;
    },
  );
}

function request(turn) {
  const name = pick(NAMES);
  return {
    type: pick(TYPES),
    npc: { id: name.toLowerCase(), name, personality: pick(['gruff smith', 'warm baker', 'suspicious guard']) },
    // A bounded turn number: some requests repeat (cache hits), most are new.
    context: { playerText: `${pick(LINES)} (${turn % 500})`, scene: pick(['the forge', 'the inn', 'the gate']) },
    importance: Math.round(rand() * 100) / 100,
    maxTokens: 60 + Math.floor(rand() * 60),
    playerId: `player-${Math.floor(rand() * 10)}`,
  };
}

async function worker() {
  let turn = 0;
  while (running) {
    turn += 1;
    const r = rand();
    if (r < 0.6) {
      await track(ai.generate(request(turn)).then((res) => {
        if (typeof res.text !== 'string' || res.text.trim() === '') counts.emptyText += 1;
      }));
    } else if (r < 0.8) {
      await track(ai.analyze(`${pick(LINES)} ${turn}`));
    } else {
      const key = ai.cacheKey({ type: 'bark', character: pick(NAMES), player: `player-${turn % 10}`, context: { turn: turn % 300 } });
      const op = rand();
      if (op < 0.5) await track(ai.cachePut(key, `${pick(LINES)} ${turn}`, rand()));
      else if (op < 0.95) await track(ai.cacheGet(key));
      else await track(ai.cacheInvalidate(`player-${turn % 10}`));
    }
    // A game's pace rather than a tight loop: a few calls per frame at most.
    await new Promise((resolve) => setTimeout(resolve, 5 + Math.floor(rand() * 20)));
  }
}

window.soakStart = async ({ mockUrl, dailyUsd, workers }) => {
  await init();
  ai = await UnwrittenAI.create({
    namespace: 'soak',
    model: { strategy: 'bundled' },
    cloud: {
      providers: { gateway: { kind: 'openai', baseUrl: `${mockUrl}/v1` } },
      budget: { dailyUsd },
    },
  });
  running = true;
  for (let i = 0; i < workers; i++) worker();
  return ai.modelStatus().state;
};

window.soakStop = () => {
  running = false;
};

window.soakSnapshot = async () => {
  const m = ai.metrics();
  const est = await navigator.storage.estimate();
  const wasm = await wasmExports();
  return {
    counts: { ...counts, pending: counts.started - counts.settled },
    errors: { ...errors },
    wasmBytes: wasm.memory.buffer.byteLength,
    storageBytes: est.usage ?? null,
    spentUsd: m.router.cost.spentUsd,
    budgetUsd: m.router.cost.dailyBudgetUsd,
    bySource: m.router.bySource,
    cacheEntries: m.cache.entries,
  };
};
document.getElementById('out').dataset.state = 'ready';
