// The load page: creates one runtime against the mock cloud and fires N generate() calls at once.
import init, { UnwrittenAI } from 'unwritten-ai';

const NAMES = ['Bram', 'Nell', 'Osric', 'Maud', 'Tamsin', 'Corin', 'Ysolde', 'Pell'];
const PERSONALITIES = ['gruff smith', 'warm baker', 'suspicious guard', 'cheerful bard', 'tired healer'];
const TYPES = ['dialogue', 'greeting', 'question', 'reaction', 'farewell', 'bark'];
const PLAYER_LINES = [
  'Any work for me at the forge?', 'Have you seen the river? It flooded the mill.', 'Who goes there?',
  'I need help, my friend is hurt.', 'Goodbye, and thank you.', 'Get out of my way, old fool.',
  'Thank you for the bread, it was wonderful.', 'How much for the sword?', 'I am sorry about your brother.',
  "Good morning! Lovely day, isn't it?", 'I will burn this village to the ground.', 'Where can I find the healer?',
];

// mulberry32, so a run is reproducible.
function rng(seed) {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeRequests(n, distinct, seed) {
  const r = rng(seed);
  const pick = (xs) => xs[Math.floor(r() * xs.length)];
  const shapes = Array.from({ length: distinct }, (_, i) => {
    const name = pick(NAMES);
    return {
      type: pick(TYPES),
      npc: { id: name.toLowerCase(), name, personality: pick(PERSONALITIES) },
      context: {
        // A turn number keeps the shapes distinct for the cache; the line is what a player says.
        playerText: `${pick(PLAYER_LINES)} (${i})`,
        scene: pick(['the forge', 'the market', 'the gate', 'the inn']),
        isCrisis: r() < 0.1,
        needsTension: r() < 0.2,
        emotionalCapacity: Math.round(r() * 100) / 10,
      },
      // A game's mix: most lines ordinary, some important, a few critical.
      importance: Math.round((r() < 0.6 ? r() * 0.5 : 0.5 + r() * 0.5) * 100) / 100,
      maxTokens: 60 + Math.floor(r() * 90),
      playerId: `player-${Math.floor(r() * 20)}`,
    };
  });
  // Some requests repeat a shape at the same moment: single-flight should serve them with one call.
  return Array.from({ length: n }, () => shapes[Math.floor(r() * shapes.length)]);
}

function percentile(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

window.runLoad = async ({ mockUrl, n, distinct, seed, batch, cloudOnly }) => {
  await init();
  const ai = await UnwrittenAI.create({
    namespace: `load-${seed}-${Date.now() % 100000}`,
    storage: { indexedDb: false },
    // The package's bundled model: create() waits for it; the local responder's bank follows in the background.
    model: { strategy: cloudOnly ? 'cloudOnly' : 'bundled' },
    cloud: { providers: { gateway: { kind: 'openai', baseUrl: `${mockUrl}/v1`, batch } } },
  });
  // Start the load once the local step can answer (as in a game a few seconds after loading).
  for (let i = 0; !cloudOnly && i < 600 && !['ready', 'failed', 'none'].includes(ai.modelStatus().responseBank); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const model = ai.modelStatus();
  const requests = makeRequests(n, distinct, seed);
  const failures = [];
  const bySource = {};
  const t0 = performance.now();
  await Promise.all(
    requests.map(async (req) => {
      try {
        const res = await ai.generate(req);
        if (typeof res.text !== 'string' || res.text.trim() === '') {
          failures.push(`empty text from ${res.source}`);
          return;
        }
        // A local line after a cloud model failed waited for that failure: report it apart from direct ones.
        const afterCloud = res.source === 'local' && res.fallbacks.some((f) => f.step === 'cloud' && f.model !== null);
        (bySource[afterCloud ? 'local, after a cloud failure' : res.source === 'cloud' ? res.model : res.source] ||= []).push(res.latencyMs);
      } catch (e) {
        failures.push(`${e.name}: ${e.message}`);
      }
    }),
  );
  const wallMs = performance.now() - t0;
  const latency = {};
  for (const [source, xs] of Object.entries(bySource)) {
    xs.sort((a, b) => a - b);
    latency[source] = { count: xs.length, p50: percentile(xs, 50), p95: percentile(xs, 95), p99: percentile(xs, 99) };
  }
  const metrics = ai.metrics();
  const events = ai.takeEvents();
  ai.dispose();
  return { n, wallMs, failures, latency, router: metrics.router, events, model };
};
document.getElementById('out').dataset.state = 'ready';
