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
  const ai = await UnwrittenAI.create({ namespace: 'demo' });
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
}

main().catch((err) => {
  setStatus('error', `${err.name}: ${err.message}`);
  console.error(err);
});
