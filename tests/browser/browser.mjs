// Shared set-up of the browser tests: Debian's Chromium driven by playwright-core, with the
// flags this kind of machine needs (no sandbox as root, no background network).
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const baseUrl = process.env.FROST_URL || 'http://127.0.0.1:5000';

export async function launch() {
  const profile = mkdtempSync(join(tmpdir(), 'frost-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  const problems = [];
  context.on('page', (page) => watch(page, problems));
  return {
    context,
    problems,
    async newPage() {
      const page = await context.newPage();
      return page;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

// Console errors and failed requests are collected so a test can assert there were none
// (a CSP violation or a missing asset shows up here).
function watch(page, problems) {
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
}

// The API's own JSON for a report, fetched outside the browser: the oracle for the charts.
export async function apiRows(path, start, end) {
  const q = start ? `?start_range=${start}&end_range=${end}` : '';
  const res = await fetch(`${baseUrl}${path}${q}`);
  if (!res.ok) throw new Error(`${path}${q}: HTTP ${res.status}`);
  return (await res.json()).result;
}
