// The live dashboard: every figure comes from a metrics() snapshot (onReport hands one over every second, and the
// page takes one after each line). Charts are uPlot; tables are plain DOM filled with textContent.
import uPlot from 'uplot';
import uPlotCss from 'uplot/dist/uPlot.min.css';

const $ = (id) => document.getElementById(id);
const KEEP = 120; // points per chart

const style = document.createElement('style');
style.textContent = uPlotCss;
document.head.append(style);

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function row(cells, header = false) {
  const tr = el('tr');
  for (const c of cells) tr.append(el(header ? 'th' : 'td', '', c));
  return tr;
}

const ms = (v) => (v == null ? '–' : v < 10 ? `${v.toFixed(2)} ms` : `${Math.round(v)} ms`);
const pct = (v) => (v == null ? '–' : `${Math.round(v * 100)} %`);
const usd = (v) => (v == null ? '–' : `$${v.toFixed(v < 1 ? 5 : 2)}`);

const SOURCES = ['local', 'cloud', 'memory', 'localStorage', 'indexedDb', 'template', 'analyze'];
const COLORS = {
  local: '#1e8449', cloud: '#2471a3', memory: '#7d3c98', localStorage: '#b9770e', indexedDb: '#a04000',
  template: '#616a6b', analyze: '#17a589',
};

function chart(target, title, series, scaleY) {
  const opts = {
    title,
    width: 400,
    height: 170,
    legend: { live: false },
    cursor: { show: false },
    scales: { x: { time: true }, y: scaleY },
    axes: [{}, { size: 48 }],
    series: [{}, ...series.map(([label, stroke]) => ({ label, stroke, width: 2, spanGaps: true }))],
  };
  const data = [[], ...series.map(() => [])];
  return { plot: new uPlot(opts, data, target), data };
}

export function createDashboard() {
  const latency = chart($('chart-latency'), 'p95 latency by source, ms (log)',
    SOURCES.map((s) => [s, COLORS[s]]), { distr: 3 });
  const rates = chart($('chart-rates'), 'hit rate · local share · error rate',
    [['hit rate', '#7d3c98'], ['local share', '#1e8449'], ['error rate', '#c0392b']],
    { range: () => [0, 1] });

  function push(c, values, atS) {
    c.data[0].push(atS);
    values.forEach((v, i) => c.data[i + 1].push(v));
    if (c.data[0].length > KEEP) for (const a of c.data) a.shift();
    c.plot.setData(c.data);
  }

  /** Shows a snapshot; `plot` adds it to the charts (the periodic reports do, per-line refreshes do not). */
  function show(m, plot) {
    const mon = m.monitor;
    if (plot) {
      const atS = Date.now() / 1000;
      // A log scale has no zero: a sub-10 µs memory hit is drawn at 0.01 ms.
      push(latency, SOURCES.map((s) => {
        const p = mon.latency[s]?.window.p95Ms;
        return p == null ? null : Math.max(p, 0.01);
      }), atS);
      push(rates, [mon.cacheHitRate.window, mon.localShare.window, mon.errorRate.window], atS);
    }
    $('latency-table').replaceChildren(
      row(['source', 'window n', 'p50', 'p95', 'errors', 'total n', 'total p95'], true),
      ...SOURCES.filter((s) => mon.latency[s]).map((s) => {
        const { window: w, total: t } = mon.latency[s];
        return row([s, String(w.count), ms(w.p50Ms), ms(w.p95Ms), String(w.errors), String(t.count), ms(t.p95Ms)]);
      }),
    );
    const lines = Object.values(m.router.bySource).reduce((a, b) => a + b, 0);
    const onDevice = lines - (m.router.bySource.cloud ?? 0);
    $('share').textContent = lines
      ? `${onDevice} of ${lines} lines answered on the device (${pct(onDevice / lines)}), ${m.router.bySource.cloud ?? 0} by the cloud; cache hit rate ${pct(m.cache.hitRate)} overall`
      : 'no lines yet';
    $('share').dataset.lines = String(lines);

    const cost = mon.cost;
    $('cost-meter').max = cost.budgetUsd ?? m.router.cost.dailyBudgetUsd;
    $('cost-meter').value = cost.spentUsd ?? m.router.cost.spentUsd;
    $('cost-text').textContent = `${usd(cost.spentUsd ?? m.router.cost.spentUsd)} of ${usd(cost.budgetUsd ?? m.router.cost.dailyBudgetUsd)} today` +
      ` (${m.router.cost.reservedUsd > 0 ? `${usd(m.router.cost.reservedUsd)} reserved in flight, ` : ''}` +
      `pre-generation ${usd(m.pregen.spendUsd)} of its ${usd(m.pregen.budgetUsd)})`;

    const breakers = Object.entries(m.router.breakers);
    $('breakers').replaceChildren(...(breakers.length ? breakers.map(([id, b]) => {
      const li = el('li');
      li.dataset.provider = id;
      li.dataset.state = b.state;
      li.append(el('span', `badge breaker-${b.state}`, `${id}: ${b.state}`),
        el('span', 'facts', ` ${b.recentFailures} recent failures, opened ${b.opens}×, ${b.rejected} calls turned away`));
      return li;
    }) : [el('li', 'muted', 'no cloud provider')]));

    const p = m.pregen;
    const gate = (g) => {
      const d = p.gates[g] ?? {};
      return `${g} ${d.pass ?? 0}/${d.throttle ?? 0}/${d.block ?? 0}`;
    };
    $('pregen').replaceChildren(
      row(['lines predicted', String(p.candidates)]),
      row(['made while idle (local / cloud)', `${p.generatedLocal} / ${p.generatedCloud}`]),
      row(['ready, not asked for yet', String(p.pending)]),
      row(['served from the cache', String(p.served)]),
      row(['expired unused', String(p.expiredUnused)]),
      row(['warm-ups (cut short by a gate)', `${p.warmups} (${p.interrupted})`]),
    );
    $('pregen').dataset.pending = String(p.pending);
    $('pregen').dataset.served = String(p.served);
    $('pregen-gates').textContent = `gates pass/throttle/block: ${['idle', 'critical', 'battery', 'visible', 'network'].map(gate).join(' · ')}`;

    const md = m.model;
    const sh = md.shadow;
    $('model-facts').replaceChildren(
      row(['model', md.name && md.version ? `${md.name} ${md.version}` : md.state]),
      row(['state', `${md.state}${md.origin ? ` (from ${md.origin}${md.loadMs != null ? `, ${Math.round(md.loadMs)} ms` : ''})` : ''}`]),
      row(['response bank', md.responseBank]),
      row(['update', `${md.update}${md.updateVersion ? ` ${md.updateVersion}` : ''}${md.updateFailure ? ` — ${md.updateFailure}` : ''}${md.updateRejection ? ` — ${md.updateRejection}` : ''}`]),
      row(['backup', md.backupVersion ?? 'none']),
      row(['shadow check', sh ? `${sh.passed ? 'passed' : 'failed'}: agreement ${sh.agreement == null ? '–' : pct(sh.agreement)} (min ${pct(sh.minAgreement)}), mean |Δ| ${sh.meanAbsDiff.toFixed(4)} (max ${sh.maxMeanAbsDiff}), ${sh.samples} samples${sh.reason ? ` — ${sh.reason}` : ''}` : 'none yet']),
    );
    $('model-facts').dataset.version = md.version ?? '';
    $('model-facts').dataset.update = md.update;
    $('model-facts').dataset.bank = md.responseBank;

    $('watch').replaceChildren(
      row(['figure', 'now', 'target', 'alert at', 'samples'], true),
      ...Object.entries(mon.watch).map(([name, w]) => {
        const tr = row([name, fmtFigure(name, w.value), fmtFigure(name, w.target), fmtFigure(name, w.alert), String(w.samples)]);
        if (w.alerting) tr.className = 'alerting';
        return tr;
      }),
    );
    const alerts = mon.alerts;
    $('alerts').replaceChildren(...(alerts.length ? alerts.map((a) => {
      const li = el('li', 'alert', `${a.metric}: ${fmtFigure(a.metric, a.value)} past its alert line ${fmtFigure(a.metric, a.threshold)} (target ${fmtFigure(a.metric, a.target)})`);
      li.dataset.metric = a.metric;
      return li;
    }) : [el('li', 'muted', 'none')]));
    $('alerts').dataset.active = alerts.map((a) => a.metric).join(' ');
    $('metrics-json').textContent = JSON.stringify(m, null, 2);
  }

  return { show };
}

function fmtFigure(name, v) {
  if (v == null) return '–';
  if (name.endsWith('Latency')) return ms(v);
  if (name === 'dailyCost') return usd(v);
  if (name === 'batteryDrain') return `${(v * 100).toFixed(2)} %/30 min`;
  return pct(v);
}
