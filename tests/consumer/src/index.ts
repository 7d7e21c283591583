// How a game uses the package: typed config, typed metrics, typed errors.
import init, { UnwrittenAI, type UnwrittenConfig, type UnwrittenMetrics, type UnwrittenErrorName } from 'unwritten-ai';

const config: UnwrittenConfig = { namespace: 'consumer-game', storage: { indexedDb: true } };

async function main(): Promise<void> {
  await init();
  const ai: UnwrittenAI = await UnwrittenAI.create(config);
  const metrics: UnwrittenMetrics = ai.metrics();
  const tier: string = metrics.storage.indexedDb.state;
  let rejected: UnwrittenErrorName | 'none' = 'none';
  try {
    await UnwrittenAI.create({ namespace: 'NOT VALID' });
  } catch (err) {
    rejected = (err as Error).name as UnwrittenErrorName;
  }
  const out = document.getElementById('out');
  if (out) {
    out.textContent = JSON.stringify({ version: ai.version(), indexedDb: tier, rejected });
    out.dataset.state = 'done';
  }
  ai.dispose();
}

main().catch((err: unknown) => {
  const out = document.getElementById('out');
  if (out) {
    out.textContent = String(err);
    out.dataset.state = 'error';
  }
});
