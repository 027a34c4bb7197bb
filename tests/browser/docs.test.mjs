// The API docs page in a real browser: every route of the served spec is listed, and
// "Try it out" calls the running server and shows its answer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, baseUrl, apiRows } from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('the docs page lists every route of /openapi.json', async () => {
  const spec = await (await fetch(`${baseUrl}/openapi.json`)).json();
  const page = await browser.newPage();
  await page.goto(`${baseUrl}/docs`);
  await page.waitForSelector('.opblock-summary-path', { timeout: 30_000 });
  const shown = await page.$$eval('.opblock-summary-path', (els) => els.map((e) => e.getAttribute('data-path')));
  // An operation with two tags is listed under each: compare the set of paths.
  assert.deepEqual([...new Set(shown)].sort(), Object.keys(spec.paths).sort());
  assert.match(await page.textContent('.info .title'), /Frost API/);
  assert.deepEqual(browser.problems, [], 'no console errors or failed loads');
  await page.close();
});

test('"Try it out" on /trips/monthly runs the query against this server', async () => {
  const page = await browser.newPage();
  await page.goto(`${baseUrl}/docs#/trips/getTripsMonthly`);
  const block = page.locator('#operations-trips-getTripsMonthly');
  await block.waitFor({ timeout: 30_000 });
  // The deep link expands the operation once Swagger UI has rendered; only when it has not
  // (a slow machine) open it by hand, so a late expansion never toggles it shut again.
  const tryOut = block.locator('.try-out__btn');
  try {
    await tryOut.waitFor({ state: 'visible', timeout: 10_000 });
  } catch {
    await block.locator('.opblock-summary').click();
    await tryOut.waitFor({ state: 'visible', timeout: 30_000 });
  }
  await tryOut.click();
  await block.locator('tr[data-param-name="start_range"] input').fill('2019-06-01');
  await block.locator('tr[data-param-name="end_range"] input').fill('2019-07-31');
  await block.locator('.execute').click();
  const status = block.locator('.live-responses-table .response .response-col_status');
  await status.waitFor({ timeout: 30_000 });
  assert.equal((await status.textContent()).trim(), '200');
  const url = await block.locator('.request-url pre').textContent();
  assert.match(url, new RegExp(`^${baseUrl.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/trips/monthly\\?start_range=2019-06-01&end_range=2019-07-31`));
  const body = JSON.parse(await block.locator('.live-responses-table .response-col_description pre.microlight').first().textContent());
  assert.deepEqual(body.result, await apiRows('/trips/monthly', '2019-06-01', '2019-07-31'));
  assert.deepEqual(body.result.map((r) => r[1]), ['Jun', 'Jul']);
  await page.close();
});

test('screenshot of the docs page', { skip: !process.env.FROST_SCREENSHOT_DIR }, async () => {
  const page = await browser.newPage();
  await page.setViewportSize({ width: 1280, height: 760 });
  await page.goto(`${baseUrl}/docs`);
  await page.waitForSelector('.opblock-summary-path', { timeout: 30_000 });
  await page.screenshot({ path: `${process.env.FROST_SCREENSHOT_DIR}/docs.png` });
  await page.close();
});
