// create(), the config's guards, version, metrics, refreshDevice, events, reports and dispose (tests/browser.rs and
// the consumer's index page, through the public API).
import { UnwrittenAI, type UnwrittenMetrics } from 'unwritten-ai';
import { type Case, ENV, sleep } from './harness';

const VERSION = /^\d+\.\d+\.\d+/;

export const BASICS: Case[] = [
  {
    name: 'create: storage tiers available, version and metrics agree',
    async run(t) {
      const ai = await t.create({ namespace: t.ns() });
      t.ok(VERSION.test(ai.version()), `version() ${ai.version()}`);
      const m = ai.metrics();
      t.eq(m.version, ai.version(), 'metrics().version');
      t.eq(m.namespace, t.ns(), 'metrics().namespace');
      t.eq([m.storage.localStorage.state, m.storage.indexedDb.state], ['available', 'available'], 'storage tiers');
      t.ok(typeof m.uptimeMs === 'number' && m.uptimeMs >= 0, `uptimeMs ${m.uptimeMs}`);
    },
  },
  {
    name: 'create: an empty config takes the default namespace',
    async run(t) {
      const ai = await t.create({});
      t.eq(ai.metrics().namespace, 'unwritten', 'default namespace');
    },
  },
  {
    name: 'create: an unknown option is InvalidConfig naming it',
    async run(t) {
      const e = await t.rejects(() => t.create({ storage: { indexDb: false } } as never), 'InvalidConfig', 'storage.indexDb', 'storage.indexDb');
      t.ok(e.message.includes('indexedDb'), `the message suggests indexedDb: ${e.message}`);
    },
  },
  {
    name: 'create: bad values are InvalidConfig with the field',
    async run(t) {
      const e = await t.rejects(() => t.create({ namespace: 'Not OK' }), 'InvalidConfig', 'namespace', 'namespace');
      t.ok(e.message.includes('a-z, 0-9'), e.message);
      await t.rejects(() => t.create({ storage: { localStorage: 'yes' } } as never), 'InvalidConfig', 'localStorage "yes"', 'storage.localStorage');
      await t.rejects(() => t.create({ model: { stallTimeoutMs: 5 } }), 'InvalidConfig', 'stallTimeoutMs 5', 'model.stallTimeoutMs');
      await t.rejects(() => UnwrittenAI.create({ worker: 'yes' } as never), 'InvalidConfig', "worker: 'yes'", 'worker');
    },
  },
  {
    name: 'create: a disabled tier is reported; dispose() makes later calls Disposed',
    async run(t) {
      const ai = await t.create({ namespace: t.ns(), storage: { indexedDb: false } });
      t.eq(ai.metrics().storage.indexedDb.state, 'disabled', 'indexedDb disabled');
      const k = ai.cacheKey({ type: 'greeting', character: 'bram' });
      ai.dispose();
      ai.dispose();
      await t.rejects(() => ai.metrics(), 'Disposed', 'metrics() after dispose');
      await t.rejects(() => ai.cacheStats(), 'Disposed', 'cacheStats() after dispose');
      await t.rejects(() => ai.generate({ npc: { id: 'a', name: 'A' } }), 'Disposed', 'generate() after dispose');
      await t.rejects(() => ai.cacheGet(k), 'Disposed', 'cacheGet() after dispose');
    },
  },
  {
    name: 'refreshDevice: fresh metrics with the device signals',
    async run(t) {
      const ai = await t.create({ namespace: t.ns() });
      const m = await ai.refreshDevice();
      t.eq(m.version, ai.version(), 'refreshDevice().version');
      t.ok(typeof m.device.storageQuotaBytes === 'number', `storageQuotaBytes ${m.device.storageQuotaBytes}`);
      t.eq(m.device.visibility, 'visible', 'the page is visible');
    },
  },
  {
    name: 'onReport: reports arrive, offReport stops them, a bad callback is refused',
    async run(t) {
      const ai = await t.create({ namespace: t.ns() });
      const got: UnwrittenMetrics[] = [];
      const id = ai.onReport((m) => got.push(m), 1000);
      t.ok(typeof id === 'number', `onReport returns an id (${id})`);
      await t.until(() => got.length, (n) => n >= 1, 10_000);
      t.ok(got.length >= 1 && got[0].namespace === t.ns(), `a report with the metrics (${got.length})`);
      t.eq(ai.offReport(id), true, 'offReport(id)');
      t.eq(ai.offReport(id), false, 'offReport(id) again');
      await sleep(300);
      const n = got.length;
      await sleep(2300);
      t.eq(got.length, n, 'no report after offReport');
      await t.rejects(() => ai.onReport('no' as never), 'InvalidRequest', 'onReport("no")', 'callback');
      // At most 8 at once, in the call (worker mode checks on the main thread); offReport makes room again.
      const ids = Array.from({ length: 8 }, () => ai.onReport(() => {}, 60_000));
      await t.rejects(() => ai.onReport(() => {}, 60_000), 'InvalidRequest', 'a ninth onReport', 'onReport');
      t.eq(ai.offReport(ids[0]), true, 'offReport makes room');
      const again = ai.onReport(() => {}, 60_000);
      t.ok(typeof again === 'number', 'and a report starts again');
      ai.dispose();
      // dispose() ended every report: offReport answers false then, as for an unknown id, and does not throw.
      t.eq(ai.offReport(again), false, 'offReport after dispose()');
    },
  },
  {
    name: 'takeEvents: an array, drained by each call',
    async run(t) {
      const ai = await t.create({ namespace: t.ns() });
      t.ok(Array.isArray(ai.takeEvents()), 'an array');
      t.eq(ai.takeEvents(), [], 'drained');
    },
  },
  {
    name: 'mode: the runtime runs where the config says',
    async run(t) {
      // A worker runtime's calls leave this thread: a Worker exists only in worker mode. The page counts the
      // workers it starts (modes.ts wraps the constructor).
      const before = (globalThis as { __workers?: number }).__workers ?? 0;
      await t.create({ namespace: t.ns() });
      const after = (globalThis as { __workers?: number }).__workers ?? 0;
      t.eq(after - before, ENV.worker ? 1 : 0, 'workers started by create()');
    },
  },
];
