// Idle-time pre-generation through observe() (tests/browser_pregen.rs): a character nearby while the player is
// idle gets its greeting made ahead of time, and the game's later request for that moment (canonicalRequest) is
// a memory hit counted as served; a critical moment keeps the loop from making anything until it ends. Only the
// gates a page can drive are here (input, critical moments); visibility and battery need a fake device.
import type { Moment, UnwrittenAI } from 'unwritten-ai';
import { type Case, type T, forget, sleep } from './harness';

const ANN: Moment = { character: { id: 'ann', name: 'Ann' }, responseType: 'greeting', scene: 'square' };

async function game(t: T): Promise<UnwrittenAI> {
  await forget(t.ns());
  const ai = await t.create({
    namespace: t.ns(),
    model: t.model({ strategy: 'bundled' }),
    cache: { warmEntries: 0 },
    pregen: { enabled: true, checkIntervalMs: 250, gates: { idleMs: 500 } },
  });
  const bank = await t.until(() => ai.modelStatus().responseBank, (b) => b === 'ready' || b === 'failed', 20_000);
  t.eq(bank, 'ready', 'the response bank loaded');
  return ai;
}

function annNearby(ai: UnwrittenAI): void {
  ai.observe({ type: 'scene', scene: 'square' });
  ai.observe({ type: 'charactersNearby', characters: [{ id: 'ann', name: 'Ann', distance: 20 }] });
}

const made = (ai: UnwrittenAI) => ai.metrics().pregen.generatedLocal + ai.metrics().pregen.generatedCloud;

async function greetingMadeAndServed(t: T, ai: UnwrittenAI): Promise<void> {
  t.eq(await t.until(() => made(ai), (n) => n >= 1, 20_000), 1, 'one greeting made ahead of time');
  const line = await ai.generate(ai.canonicalRequest(ANN));
  t.eq([line.cached, line.source], [true, 'memory'], 'the request for the moment is a hit');
  const p = (await ai.refreshDevice()).pregen;
  t.eq([p.served, p.used, p.pending], [1, 1, 0], 'counted as served');
}

export const PREGEN: Case[] = [
  {
    name: 'pregen: an idle player near a character finds the greeting made ahead of time',
    async run(t) {
      const ai = await game(t);
      annNearby(ai);
      await greetingMadeAndServed(t, ai);
      const p = ai.metrics().pregen;
      t.ok((p.gates.idle?.pass ?? 0) >= 1, 'the idle gate passed');
      t.eq(p.failed, 0, 'nothing failed');
      t.ok(p.observed >= 2, `observed ${p.observed}`);
    },
  },
  {
    name: 'pregen: input keeps the loop waiting, then a critical moment blocks it until it ends',
    async run(t) {
      const ai = await game(t);
      ai.observe({ type: 'criticalMoment', active: true });
      annNearby(ai);
      for (let i = 0; i < 6; i++) {
        await sleep(300);
        ai.observe({ type: 'input' });
      }
      const during = ai.metrics().pregen;
      t.ok((during.gates.idle?.block ?? 0) >= 3, `the idle gate blocked while input came (${JSON.stringify(during.gates.idle)})`);
      const idle = during.gates.idle?.pass ?? 0;
      const critical = during.gates.critical?.block ?? 0;
      const after = await t.until(() => ai.metrics().pregen, (p) => (p.gates.idle?.pass ?? 0) >= idle + 3, 10_000);
      t.ok((after.gates.critical?.block ?? 0) >= critical + 3, `the critical gate blocked (${JSON.stringify(after.gates.critical)})`);
      t.eq([after.generatedLocal, after.pending], [0, 0], 'nothing made during the critical moment');
      ai.observe({ type: 'criticalMoment', active: false });
      await greetingMadeAndServed(t, ai);
    },
  },
  {
    name: 'observe: a bad event is InvalidRequest and counted as rejected',
    async run(t) {
      const ai = await t.create({ namespace: t.ns(), model: { strategy: 'cloudOnly' } });
      await t.rejects(() => ai.observe({ type: 'teleport' } as never), 'InvalidRequest', 'observe({ type: "teleport" })');
      await t.rejects(() => ai.observe({ type: 'clock', hour: 25 }), 'InvalidRequest', 'observe(clock 25)', 'hour');
      const rejected = await t.until(async () => (await ai.refreshDevice()).pregen.rejected, (n) => n >= 2, 3_000);
      t.eq(rejected, 2, 'metrics().pregen.rejected');
    },
  },
  {
    name: 'canonicalRequest: a moment becomes the same generate() request every time',
    async run(t) {
      const ai = await t.create({ namespace: t.ns(), model: { strategy: 'cloudOnly' } });
      const req = ai.canonicalRequest({ ...ANN, topic: 'Morning!', playerId: 'p-1', relationshipLevel: 6.4 });
      t.eq([req.npc.id, req.type, req.context?.playerText, req.context?.scene, req.playerId], ['ann', 'greeting', 'Morning!', 'square', 'p-1'], 'request');
      t.eq(req.context?.relationshipLevel, 6, 'relationship rounded');
      const again = ai.canonicalRequest({ ...ANN, topic: 'Morning!', playerId: 'p-1', relationshipLevel: 6.4 });
      t.eq(again, req, 'the same moment gives the same request');
      t.ok((await ai.generate(req)).text.length > 0, 'generate() takes it');
      await t.rejects(() => ai.canonicalRequest({} as never), 'InvalidRequest', 'canonicalRequest({})', 'character');
    },
  },
];
