// The Citi Bike dashboard: three bar charts fed by Frost's own report endpoints.
// Bundled with Chart.js by scripts/build-web.sh (esbuild); no network access beyond this origin.
// URLs are relative to the page, so the dashboard also works under a path prefix (an API
// Gateway stage, a reverse proxy's /api/).
import { Chart, BarController, BarElement, CategoryScale, LinearScale, Tooltip } from 'chart.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

const REPORTS = [
  { key: 'monthly', path: '/trips/monthly', name: 'month', defaults: { count: 0, label: 1 }, color: '#1f6feb' },
  { key: 'day_of_week', path: '/trips/day_of_week', name: 'weekday', defaults: { count: 0, label: 1 }, color: '#2da44e' },
  {
    key: 'temperature', path: '/trips/temperature', name: 'temperature', defaults: { count: 1, label: 0 },
    color: '#d4700b', format: (v) => (v === null ? 'unknown' : `${v} °F`),
  },
];

// Headers the server may use to say how fresh the data is: a time, best first, and a version.
const FRESHNESS_TIME_HEADERS = ['x-data-as-of', 'last-modified'];
const FRESHNESS_VERSION_HEADER = 'x-data-version';

const state = {
  startParam: 'start_range',
  endParam: 'end_range',
  randomWindow: { from: '2019-05-01', to: '2020-04-30' },
  columns: {},      // report key -> { count, label } indexes (array rows) or names (object rows)
  charts: {},
  controllers: {},
  generation: 0,
};

const $ = (sel, root = document) => root.querySelector(sel);
const fmt = new Intl.NumberFormat('en-US');

function setStatus(text) { $('#status').textContent = text; }

function showFormError(text) {
  const el = $('#form-error');
  el.textContent = text || '';
  el.hidden = !text;
}

// Learns parameter names, the random window and row columns from /openapi.json; the
// dashboard still works with its defaults when the spec cannot be read.
async function learnFromSpec() {
  try {
    const res = await fetch('openapi.json', { headers: { Accept: 'application/json' } });
    if (!res.ok) return;
    const spec = await res.json();
    for (const r of REPORTS) {
      const op = spec.paths?.[r.path]?.get;
      if (!op) continue;
      const range = op['x-frost-date-range'];
      if (range) {
        state.startParam = range.start || state.startParam;
        state.endParam = range.end || state.endParam;
        if (range.random_window) state.randomWindow = range.random_window;
      }
      const ref = op.responses?.['200']?.content?.['application/json']?.schema?.$ref;
      const envelope = ref && spec.components?.schemas?.[ref.split('/').pop()];
      const rowRef = envelope?.properties?.result?.items?.$ref;
      const row = rowRef && spec.components?.schemas?.[rowRef.split('/').pop()];
      const names = row?.prefixItems?.map((c) => String(c.title || '').toLowerCase());
      if (names && names.length >= 2) {
        const count = names.findIndex((n) => n === 'trip_count' || n.endsWith('count'));
        if (count >= 0) state.columns[r.key] = { count, label: count === 0 ? 1 : 0 };
      }
    }
  } catch {
    // defaults stay
  }
}

function pick(report, row) {
  if (Array.isArray(row)) {
    const idx = state.columns[report.key] || report.defaults;
    return { label: row[idx.label], count: Number(row[idx.count]) };
  }
  const keys = Object.keys(row);
  const countKey = keys.find((k) => /count/i.test(k)) ?? keys[0];
  const labelKey = keys.find((k) => k !== countKey) ?? keys[0];
  return { label: row[labelKey], count: Number(row[countKey]) };
}

function makeChart(report) {
  const canvas = $(`#chart-${report.key}`);
  return new Chart(canvas, {
    type: 'bar',
    data: { labels: [], datasets: [{ label: 'Trips', data: [], backgroundColor: report.color, borderRadius: 3 }] },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: { tooltip: { callbacks: { label: (ctx) => `${fmt.format(ctx.parsed.y)} trips` } } },
      scales: {
        x: { ticks: { autoSkip: false, maxRotation: 50 } },
        y: { beginAtZero: true, ticks: { callback: (v) => fmt.format(v) }, title: { display: true, text: 'Trips' } },
      },
    },
  });
}

function setCard(report, cardState, { error, hint, time } = {}) {
  const card = $(`#card-${report.key}`);
  card.dataset.state = cardState;
  card.setAttribute('aria-busy', cardState === 'loading' ? 'true' : 'false');
  const err = $('.error', card);
  if (cardState === 'error') {
    err.textContent = hint ? `${error} — ${hint}` : error;
    err.hidden = false;
  } else {
    err.hidden = true;
    err.textContent = '';
  }
  if (time !== undefined) $('.time', card).textContent = time;
}

function fillTable(report, points) {
  const body = $(`#card-${report.key} tbody`);
  body.replaceChildren(...points.map((p) => {
    const tr = document.createElement('tr');
    const th = document.createElement('td');
    th.textContent = p.shown;
    const td = document.createElement('td');
    td.textContent = fmt.format(p.count);
    tr.append(th, td);
    return tr;
  }));
}

// Shows the freshest data time any report carried (they may come from different rollups);
// "unknown" stays when the server sends none.
function noteFreshness(headers) {
  const el = $('#data-as-of');
  const version = headers.get(FRESHNESS_VERSION_HEADER);
  for (const name of FRESHNESS_TIME_HEADERS) {
    const v = headers.get(name);
    if (!v) continue;
    const when = new Date(v);
    if (Number.isNaN(when.getTime())) continue;
    if (el.dataset.time && Number(el.dataset.time) >= when.getTime()) return;
    el.dataset.time = String(when.getTime());
    el.dataset.source = name;
    el.textContent = when.toLocaleString() + (headers.get('x-data-stale') === 'true' ? ' (stale: the last refresh failed)' : '');
    el.title = version ? `${name}: ${v}; data version ${version}` : `${name}: ${v}`;
    return;
  }
  if (version && !el.dataset.time) {
    el.dataset.source = FRESHNESS_VERSION_HEADER;
    el.textContent = `version ${version}`;
  }
}

// The call's time on the network, from the browser's Resource Timing entry: unlike a clock
// around `await fetch`, it does not count time the page's own script kept the thread busy.
function networkMs(url, fallback) {
  const entries = performance.getEntriesByName(url, 'resource');
  const e = entries[entries.length - 1];
  if (entries.length > 200) performance.clearResourceTimings();
  return e && e.responseEnd > 0 ? Math.round(e.responseEnd - e.startTime) : fallback;
}

async function loadReport(report, query, generation) {
  state.controllers[report.key]?.abort();
  const controller = new AbortController();
  state.controllers[report.key] = controller;
  setCard(report, 'loading');
  const started = performance.now();
  const url = new URL(`.${report.path}${query}`, window.location.href).href;
  let res;
  let body;
  try {
    res = await fetch(url, { signal: controller.signal, headers: { Accept: 'application/json' } });
    body = await res.json().catch(() => null);
  } catch (e) {
    if (e.name === 'AbortError') return null;
    if (generation !== state.generation) return null;
    setCard(report, 'error', { error: 'Could not reach the server', hint: String(e.message || e), time: 'failed' });
    return false;
  }
  if (generation !== state.generation) return null;
  const ms = networkMs(url, Math.round(performance.now() - started));
  if (!res.ok || !body || !Array.isArray(body.result)) {
    const message = body?.error ? `${body.error}${body.code ? ` (${body.code})` : ''}` : `HTTP ${res.status}`;
    setCard(report, 'error', { error: message, hint: body?.hint, time: `${ms} ms (HTTP ${res.status})` });
    return false;
  }
  noteFreshness(res.headers);
  const points = body.result.map((row) => {
    const p = pick(report, row);
    return { ...p, shown: report.format ? report.format(p.label) : String(p.label) };
  });
  const chart = state.charts[report.key];
  chart.data.labels = points.map((p) => p.shown);
  chart.data.datasets[0].data = points.map((p) => p.count);
  chart.update();
  $(`#chart-${report.key}`).setAttribute('aria-label',
    `Bar chart of trips by ${report.name}: ` +
    (points.length ? points.map((p) => `${p.shown} ${fmt.format(p.count)}`).join(', ') : 'no trips in this range'));
  fillTable(report, points);
  $(`#card-${report.key} .overlay.empty`).hidden = points.length > 0;
  // The same report as CSV, for the range the chart now shows (docs/formats.md).
  const csv = new URLSearchParams(query.slice(1));
  csv.set('format', 'csv');
  const link = $(`#csv-${report.key}`);
  link.href = new URL(`.${report.path}?${csv}`, window.location.href).href;
  link.hidden = false;
  const server = typeof body.time_ms === 'number' ? `, server ${body.time_ms} ms` : '';
  const cache = res.headers.get('x-cache') ? ` (cache ${res.headers.get('x-cache')})` : '';
  setCard(report, 'ready', { time: `${ms} ms${server}${cache}` });
  return true;
}

function currentRange() {
  const start = $('#start').value;
  const end = $('#end').value;
  return { start, end };
}

async function loadAll() {
  const { start, end } = currentRange();
  if (Boolean(start) !== Boolean(end)) {
    showFormError('Give both a start and an end date, or neither.');
    return;
  }
  if (start && end && end < start) {
    showFormError('The end date is before the start date.');
    return;
  }
  showFormError('');
  const params = new URLSearchParams();
  if (start) {
    params.set(state.startParam, start);
    params.set(state.endParam, end);
  }
  const query = start ? `?${params}` : '';
  $('#range-shown').textContent = start ? `${start} to ${end}` : 'all dates';
  const url = new URL(window.location.href);
  url.search = start ? new URLSearchParams({ start, end }).toString() : '';
  window.history.replaceState(null, '', url);

  const generation = ++state.generation;
  setStatus('Loading…');
  const started = performance.now();
  const outcomes = await Promise.all(REPORTS.map((r) => loadReport(r, query, generation)));
  if (generation !== state.generation) return;
  const failed = outcomes.filter((o) => o === false).length;
  const ms = Math.round(performance.now() - started);
  setStatus(failed ? `${failed} of ${REPORTS.length} reports failed.` : `Loaded ${REPORTS.length} reports in ${ms} ms.`);
  document.body.dataset.loaded = String(generation);
}

function dayNumber(iso) { return Math.floor(Date.parse(`${iso}T00:00:00Z`) / 86400000); }
function isoOfDay(n) { return new Date(n * 86400000).toISOString().slice(0, 10); }

function randomize() {
  const from = dayNumber(state.randomWindow.from);
  const to = dayNumber(state.randomWindow.to);
  let a = from + Math.floor(Math.random() * (to - from + 1));
  let b = from + Math.floor(Math.random() * (to - from + 1));
  if (b < a) [a, b] = [b, a];
  $('#start').value = isoOfDay(a);
  $('#end').value = isoOfDay(b);
  return loadAll();
}

async function main() {
  for (const r of REPORTS) state.charts[r.key] = makeChart(r);
  const initial = new URLSearchParams(window.location.search);
  if (initial.get('start') && initial.get('end')) {
    $('#start').value = initial.get('start');
    $('#end').value = initial.get('end');
  }
  $('#controls').addEventListener('submit', (e) => {
    e.preventDefault();
    loadAll();
  });
  $('#randomize').addEventListener('click', () => randomize());
  $('#all-dates').addEventListener('click', () => {
    $('#start').value = '';
    $('#end').value = '';
    loadAll();
  });
  await learnFromSpec();
  for (const id of ['#start', '#end']) {
    $(id).min = '2013-06-01';
    $(id).max = state.randomWindow.to;
  }
  await loadAll();
}

// For the browser tests and for people poking around in the console.
window.frostDashboard = { state, reload: loadAll, randomize };

main();
