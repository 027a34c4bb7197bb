// The dashboard in a real browser: the three charts against the API's own JSON, changing
// dates, randomizing, and the error state when the API fails.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, baseUrl, apiRows } from './browser.mjs';

const REPORTS = [
  // `count` and `label` pick the cells of an API row (arrays: [trip_count, month] ...).
  { key: 'monthly', path: '/trips/monthly', count: 0, label: 1, shown: (v) => String(v) },
  { key: 'day_of_week', path: '/trips/day_of_week', count: 0, label: 1, shown: (v) => String(v) },
  { key: 'temperature', path: '/trips/temperature', count: 1, label: 0, shown: (v) => `${v} °F` },
];

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function loaded(page, previous) {
  await page.waitForFunction((prev) => {
    const n = Number(document.body.dataset.loaded || 0);
    return n > prev && document.querySelectorAll('.card[data-state="loading"]').length === 0;
  }, previous, { timeout: 30_000 });
  return Number(await page.evaluate(() => document.body.dataset.loaded));
}

// What each chart draws, read from Chart.js and from the accessible data table.
async function drawn(page) {
  return page.evaluate(() => {
    const out = {};
    for (const [key, chart] of Object.entries(window.frostDashboard.state.charts)) {
      const rows = [...document.querySelectorAll(`#card-${key} tbody tr`)].map((tr) =>
        [...tr.querySelectorAll('td')].map((td) => td.textContent));
      out[key] = {
        labels: chart.data.labels,
        values: chart.data.datasets[0].data,
        table: rows,
        state: document.querySelector(`#card-${key}`).dataset.state,
        time: document.querySelector(`#card-${key} .time`).textContent,
      };
    }
    return out;
  });
}

async function assertChartsMatchApi(page, start, end) {
  const got = await drawn(page);
  for (const r of REPORTS) {
    const rows = await apiRows(r.path, start, end);
    const want = {
      labels: rows.map((row) => r.shown(row[r.label])),
      values: rows.map((row) => Number(row[r.count])),
    };
    assert.equal(got[r.key].state, 'ready', `${r.key} is drawn`);
    assert.deepEqual(got[r.key].labels, want.labels, `${r.key} bars (labels) for ${start}..${end}`);
    assert.deepEqual(got[r.key].values, want.values, `${r.key} bar heights for ${start}..${end}`);
    assert.deepEqual(got[r.key].table.map((t) => Number(t[1].replace(/,/g, ''))), want.values, `${r.key} data table`);
    assert.match(got[r.key].time, /^\d+ ms, server \d+ ms( \(cache (hit|miss|stale)\))?$/, `${r.key} shows its response time`);
  }
  return got;
}

test('the dashboard draws the three reports for a known date range', async () => {
  const page = await browser.newPage();
  const start = '2019-06-01';
  const end = '2019-08-31';
  await page.goto(`${baseUrl}/dashboard?start=${start}&end=${end}`);
  await loaded(page, 0);
  const got = await assertChartsMatchApi(page, start, end);
  // Facts of the calendar, independent of Frost: June to August, seven weekdays.
  assert.deepEqual(got.monthly.labels, ['Jun', 'Jul', 'Aug']);
  assert.deepEqual(got.day_of_week.labels, ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']);
  // The same trips are counted three ways.
  const sum = (xs) => xs.reduce((a, b) => a + b, 0);
  assert.equal(sum(got.monthly.values), sum(got.day_of_week.values));
  assert.equal(sum(got.monthly.values), sum(got.temperature.values));
  assert.ok(sum(got.monthly.values) > 0);

  assert.equal(await page.inputValue('#start'), start);
  assert.equal(await page.textContent('#range-shown'), `${start} to ${end}`);
  // Data as of: the server's freshness header when it sends one, else "unknown".
  const head = await fetch(`${baseUrl}/trips/monthly?start_range=${start}&end_range=${end}`);
  const asOf = head.headers.get('x-data-as-of') || head.headers.get('last-modified');
  const shown = (await page.textContent('#data-as-of')).trim();
  if (asOf) assert.notEqual(shown, 'unknown', `the page shows ${asOf}`);
  else assert.equal(shown, 'unknown');
  for (const key of ['monthly', 'day_of_week', 'temperature']) {
    const label = await page.getAttribute(`#chart-${key}`, 'aria-label');
    assert.match(label, /^Bar chart of trips by .+: .+ \d/, `${key} canvas describes its bars`);
  }
  assert.deepEqual(browser.problems, [], 'no console errors or failed loads');
  await page.close();
});

test('each chart has a Download CSV link for the range it shows, and it downloads those rows', async () => {
  const page = await browser.newPage({ acceptDownloads: true });
  const start = '2019-06-01';
  const end = '2019-08-31';
  await page.goto(`${baseUrl}/dashboard?start=${start}&end=${end}`);
  await loaded(page, 0);
  for (const r of REPORTS) {
    const href = new URL(await page.getAttribute(`#csv-${r.key}`, 'href'));
    assert.equal(href.pathname.endsWith(r.path), true, `${r.key} link path`);
    assert.equal(href.searchParams.get('format'), 'csv');
    assert.equal(href.searchParams.get('start_range'), start);
    assert.equal(href.searchParams.get('end_range'), end);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click(`#csv-${r.key}`)]);
    const { readFile } = await import('node:fs/promises');
    const text = await readFile(await download.path(), 'utf8');
    const lines = text.split('\r\n').filter((l) => l !== '');
    const rows = await apiRows(r.path, start, end);
    assert.equal(lines.length, rows.length + 1, `${r.key}: a header row and one record per row`);
    const norm = (v) => (v !== '' && !Number.isNaN(Number(v)) ? Number(v) : String(v));  // 70.0 in CSV is 70 in JSON
    assert.deepEqual(lines.slice(1).map((l) => l.split(',').map(norm)), rows.map((row) => row.map(norm)),
      `${r.key}: the CSV rows are the JSON rows`);
  }
  assert.deepEqual(browser.problems, [], 'no console errors or failed loads');
  await page.close();
});

test('changing the dates redraws every chart', async () => {
  const page = await browser.newPage();
  await page.goto(`${baseUrl}/dashboard`);
  let n = await loaded(page, 0);
  await assertChartsMatchApi(page, '', '');
  const monthsAll = (await drawn(page)).monthly.labels;
  assert.equal(monthsAll.length, 12, 'all dates: twelve months');

  await page.fill('#start', '2018-12-24');
  await page.fill('#end', '2019-01-06');
  await page.click('#apply');
  n = await loaded(page, n);
  const got = await assertChartsMatchApi(page, '2018-12-24', '2019-01-06');
  assert.deepEqual(got.monthly.labels, ['Jan', 'Dec'], 'two weeks around new year, January first');
  assert.match(page.url(), /start=2018-12-24&end=2019-01-06/);

  // Both or neither: the form says so and asks nothing of the API.
  await page.fill('#end', '');
  await page.click('#apply');
  assert.equal(await page.isVisible('#form-error'), true);
  assert.match(await page.textContent('#form-error'), /both a start and an end/);
  await page.close();
});

test('randomize picks a range inside the advertised window and draws it', async () => {
  const page = await browser.newPage();
  await page.goto(`${baseUrl}/dashboard`);
  let n = await loaded(page, 0);
  const spec = await (await fetch(`${baseUrl}/openapi.json`)).json();
  const window = spec.paths['/trips/monthly'].get['x-frost-date-range'].random_window;
  for (let i = 0; i < 3; i++) {
    await page.click('#randomize');
    n = await loaded(page, n);
    const start = await page.inputValue('#start');
    const end = await page.inputValue('#end');
    assert.match(start, /^\d{4}-\d{2}-\d{2}$/);
    assert.ok(window.from <= start && start <= end && end <= window.to, `${start}..${end} inside ${window.from}..${window.to}`);
    await assertChartsMatchApi(page, start, end);
  }
  await page.close();
});

test('a failing API shows an error state on its chart and the others still draw', async () => {
  const page = await browser.newPage();
  await page.route('**/trips/day_of_week**', (route) => route.fulfill({
    status: 503,
    contentType: 'application/json',
    headers: { 'Retry-After': '1' },
    body: JSON.stringify({ error: 'the server is busy; try again shortly', code: 'FR504' }),
  }));
  await page.route('**/trips/temperature**', (route) => route.abort('connectionrefused'));
  await page.goto(`${baseUrl}/dashboard`);
  await loaded(page, 0);
  const got = await drawn(page);
  assert.equal(got.monthly.state, 'ready');
  assert.equal(got.day_of_week.state, 'error');
  assert.equal(got.temperature.state, 'error');
  const dowError = await page.textContent('#card-day_of_week .error');
  assert.match(dowError, /the server is busy.*FR504/);
  assert.equal(await page.isVisible('#card-day_of_week .error'), true);
  assert.match(await page.textContent('#card-temperature .error'), /Could not reach the server/);
  assert.match(await page.textContent('#card-day_of_week .time'), /HTTP 503/);
  assert.match(await page.textContent('#status'), /2 of 3 reports failed/);

  // The API recovers: the next load clears the error.
  await page.unroute('**/trips/day_of_week**');
  await page.unroute('**/trips/temperature**');
  browser.problems.length = 0;
  await page.click('#apply');
  await loaded(page, 1);
  assert.equal((await drawn(page)).day_of_week.state, 'ready');
  assert.equal(await page.isVisible('#card-day_of_week .error'), false);
  await page.close();
});

test('controls are labelled and work from the keyboard', async () => {
  const page = await browser.newPage();
  await page.goto(`${baseUrl}/dashboard`);
  let n = await loaded(page, 0);
  // Found by their accessible names, as a screen reader would.
  await page.getByLabel('Start date').fill('2019-07-01');
  await page.getByLabel('End date').fill('2019-07-31');
  await page.getByRole('button', { name: 'Show range' }).focus();
  await page.keyboard.press('Enter');
  n = await loaded(page, n);
  assert.deepEqual((await drawn(page)).monthly.labels, ['Jul']);
  await page.getByRole('button', { name: 'Randomize dates' }).focus();
  await page.keyboard.press('Space');
  n = await loaded(page, n);
  assert.notEqual(await page.inputValue('#start'), '2019-07-01');
  for (const name of ['Trips by month', 'Trips by weekday', 'Trips by temperature'])
    assert.equal(await page.getByRole('region', { name }).count(), 1, `${name} is a labelled region`);
  assert.equal(await page.getByRole('img', { name: /^Bar chart of trips by month/ }).count(), 1);

  // A range with no trips (the pickers only offer days with data, so the API is stubbed)
  // draws empty charts and says so.
  await page.route('**/trips/monthly**', (route) => route.fulfill({
    status: 200, contentType: 'application/json', body: '{"result":[],"time_ms":0}',
  }));
  await page.getByRole('button', { name: 'Show range' }).click();
  await loaded(page, n);
  assert.deepEqual((await drawn(page)).monthly.values, []);
  assert.match(await page.getAttribute('#chart-monthly', 'aria-label'), /no trips in this range/);
  assert.equal(await page.isVisible('#card-monthly .empty'), true);
  await page.close();
});

test('the pages work below a path prefix, as behind an API Gateway stage', async () => {
  const page = await browser.newPage();
  // A stand-in for the gateway: /prod/<path> is answered by the server's /<path>.
  const seen = [];
  await page.route(`${baseUrl}/prod/**`, async (route) => {
    const url = new URL(route.request().url());
    seen.push(url.pathname);
    url.pathname = url.pathname.replace(/^\/prod/, '');
    route.fulfill({ response: await route.fetch({ url: url.toString() }) });
  });
  await page.goto(`${baseUrl}/prod/dashboard?start=2019-06-01&end=2019-06-30`);
  await loaded(page, 0);
  assert.deepEqual((await drawn(page)).monthly.labels, ['Jun']);
  for (const p of ['/prod/assets/dashboard.js', '/prod/openapi.json', '/prod/trips/monthly', '/prod/trips/temperature'])
    assert.ok(seen.includes(p), `${p} requested through the prefix (saw ${seen.join(' ')})`);
  await page.close();
});

test('a stale rollup is flagged next to the data time', async () => {
  const page = await browser.newPage();
  // The server says so with X-Data-Stale when a refresh failed; a real failure is the rollup
  // tests' business, so the header is added to real answers here.
  await page.route('**/trips/**', async (route) => {
    const response = await route.fetch();
    route.fulfill({ response, headers: { ...response.headers(), 'x-data-stale': 'true' } });
  });
  await page.goto(`${baseUrl}/dashboard`);
  await loaded(page, 0);
  assert.match(await page.textContent('#data-as-of'), /stale: the last refresh failed/);
  await page.close();
});

test('the layout fits a phone screen', async () => {
  const page = await browser.newPage();
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${baseUrl}/dashboard`);
  await loaded(page, 0);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no horizontal scrolling (overflow ${overflow}px)`);
  const boxes = await page.evaluate(() => [...document.querySelectorAll('.card')].map((c) => c.getBoundingClientRect().x));
  assert.ok(boxes.every((x) => x === boxes[0]), 'cards stack in one column');
  await page.close();
});

test('screenshot of the dashboard', { skip: !process.env.FROST_SCREENSHOT_DIR }, async () => {
  const page = await browser.newPage();
  await page.setViewportSize({ width: 1280, height: 760 });
  await page.goto(`${baseUrl}/dashboard?start=2019-05-01&end=2019-10-31`);
  await loaded(page, 0);
  await page.screenshot({ path: `${process.env.FROST_SCREENSHOT_DIR}/dashboard.png` });
  await page.close();
});
