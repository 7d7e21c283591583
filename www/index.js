import init, { UnwrittenAI } from 'unwritten-ai';

const $ = (id) => document.getElementById(id);

function setStatus(state, text) {
  $('status').dataset.state = state;
  $('status').textContent = text;
}

function tierText(t) {
  return t.state === 'unavailable' ? `unavailable (${t.reason})` : t.state;
}

function row(name, value) {
  const tr = document.createElement('tr');
  const th = document.createElement('th');
  const td = document.createElement('td');
  th.textContent = name;
  td.textContent = value;
  tr.append(th, td);
  return tr;
}

async function main() {
  await init();
  // The demo command starts scripts/mock-cloud.mjs; ?cloud=<base URL> points the page at another gateway.
  const cloud = new URLSearchParams(location.search).get('cloud') || 'http://127.0.0.1:8787/v1';
  const ai = await UnwrittenAI.create({
    namespace: 'demo',
    cloud: { providers: { gateway: { kind: 'openai', baseUrl: cloud, batch: true } } },
  });
  window.ai = ai; // for poking at from the console
  const m = ai.metrics();
  $('version').textContent = ai.version();
  $('facts').replaceChildren(
    row('start', `${m.startMs.toFixed(1)} ms`),
    row('localStorage', tierText(m.storage.localStorage)),
    row('IndexedDB', tierText(m.storage.indexedDb)),
    row('network', m.device.effectiveType ?? 'unknown'),
    row('battery', m.device.batteryLevel == null ? 'unknown' : `${Math.round(m.device.batteryLevel * 100)} %`),
    row('storage', m.device.storageQuotaBytes == null ? 'unknown'
      : `${(m.device.storageUsageBytes / 1e6).toFixed(1)} MB used of ${(m.device.storageQuotaBytes / 1e6).toFixed(0)} MB`),
  );
  $('metrics').textContent = JSON.stringify(m, null, 2);
  setStatus('ready', 'ready');
  setUpGenerate(ai);
  await setUpModel(ai);
}

const TRAITS = ['openness', 'conscientiousness', 'extraversion', 'agreeableness', 'neuroticism'];

async function setUpModel(ai) {
  const status = $('model-status');
  const show = (s) => {
    status.dataset.state = s.state;
    status.textContent = s.state === 'ready'
      ? `${s.name} ${s.version} ready (from ${s.origin}, ${s.loadMs.toFixed(0)} ms)`
      : s.state === 'failed' ? `${s.errorName}: ${s.error}` : s.state;
  };
  show(ai.modelStatus());
  try {
    show(await ai.loadModel((loaded, total) => {
      $('model-progress').value = total ? loaded / total : 0;
      status.textContent = `loading ${(loaded / 1e6).toFixed(2)} MB${total ? ` of ${(total / 1e6).toFixed(2)} MB` : ''}`;
    }));
    $('model-progress').value = 1;
  } catch (err) {
    show(ai.modelStatus());
    console.warn(err);
    return;
  }
  const analyze = async () => {
    const a = await ai.analyze($('analyze-input').value);
    const pct = (x) => `${Math.round(x * 100)} %`;
    $('analysis').replaceChildren(
      row('sentiment', `${a.sentiment.label} (neg ${pct(a.sentiment.probs[0])}, neu ${pct(a.sentiment.probs[1])}, pos ${pct(a.sentiment.probs[2])})`),
      row('relationship', a.relationship.toFixed(2)),
      ...a.personality.map((p, i) => row(TRAITS[i], p.toFixed(2))),
      row('latency', `${a.latencyMs.toFixed(2)} ms`),
    );
    $('analysis').dataset.label = a.sentiment.label;
  };
  $('analyze-form').addEventListener('submit', (e) => {
    e.preventDefault();
    analyze().catch((err) => console.error(err));
  });
  await analyze();
}

main().catch((err) => {
  setStatus('error', `${err.name}: ${err.message}`);
  console.error(err);
});

function setUpGenerate(ai) {
  $('generate-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const r = await ai.generate({
      type: 'dialogue',
      npc: { id: 'brenna', name: 'Brenna', personality: 'gruff, loyal blacksmith' },
      context: { playerText: $('generate-input').value, scene: 'the forge' },
      importance: Number($('generate-importance').value),
    });
    $('generate-line').textContent = `Brenna: "${r.text}"`;
    $('generate-facts').replaceChildren(
      row('source', r.model && r.source === 'cloud' ? `cloud (${r.model})` : r.source),
      row('model', r.model ?? ''),
      row('latency', `${r.latencyMs.toFixed(1)} ms`),
      row('cost', `$${r.costUsd.toFixed(6)}`),
      row('fallbacks', r.fallbacks.map((f) => `${f.model ?? f.step}: ${f.reason} (${f.detail})`).join('; ') || 'none'),
    );
    $('generate-line').dataset.source = r.source;
  });
}
