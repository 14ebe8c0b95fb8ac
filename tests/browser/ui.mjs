// Browser test of the Pushgate web UI, run by tests/browser.sh (which starts
// the server with --web.enable-admin-api and pushes the groups listed in
// GROUPS below). Drives the system Chromium through playwright-core:
// page lists the groups, hostile labels stay text, the filter form narrows
// the list, an expanded panel survives a reload, Delete Group (with its
// confirm dialog) removes exactly that group from /metrics, the Status tab
// shows the flags, and Delete All empties the store. No console error and no
// Content-Security-Policy violation may occur on the way.
//
// Environment: PUSHGATE_URL (e.g. http://127.0.0.1:9091/), SCREENSHOT (path
// of the PNG to write), CHROMIUM (default /usr/bin/chromium).
import { chromium } from 'playwright-core';

const BASE = process.env.PUSHGATE_URL;
const SCREENSHOT = process.env.SCREENSHOT || '/tmp/pushgate-ui.png';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const STEP_MS = 10_000;
const TOTAL_MS = 120_000;

// Must match what tests/browser.sh pushes.
const GROUPS = [
  'job="backup" instance="db1"',
  'job="backup" instance="db2"',
  'job="broken"',
  'job="nightly_batch"',
  'job="web_checks" instance="probe-eu" target="<script>alert(1)</script>"',
];

if (!BASE) {
  console.error('PUSHGATE_URL is not set (run tests/browser.sh)');
  process.exit(2);
}

// Hard bound on the whole run, whatever hangs.
const watchdog = setTimeout(() => {
  console.error(`FAIL: browser test exceeded ${TOTAL_MS / 1000} s`);
  process.exit(1);
}, TOTAL_MS);

let step = '';
function check(cond, what) {
  if (!cond) throw new Error(`${step}: ${what}`);
}
function begin(name) {
  step = name;
  console.log(`--- ${name}`);
}

async function metricsText() {
  const r = await fetch(new URL('metrics', BASE), { signal: AbortSignal.timeout(STEP_MS) });
  check(r.ok, `GET /metrics answered ${r.status}`);
  return r.text();
}

async function groupTexts(page) {
  return page.$$eval('details.group > summary', (ss) =>
    ss.map((s) => Array.from(s.querySelectorAll('.badge:not(.fail)')).map((b) => b.textContent).join(' ')),
  );
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  timeout: 30_000,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});

let failed = false;
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.setDefaultNavigationTimeout(STEP_MS);

  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  // Any dialog not expected by a step (e.g. an injected alert) is a failure.
  let expectDialog = null;
  page.on('dialog', async (d) => {
    if (expectDialog && d.type() === 'confirm' && d.message().includes(expectDialog)) {
      expectDialog = null;
      await d.accept();
    } else {
      problems.push(`unexpected ${d.type()} dialog: ${d.message()}`);
      await d.dismiss();
    }
  });

  begin('page lists every group');
  await page.goto(BASE);
  check((await page.title()) === 'Pushgate', `title ${await page.title()}`);
  const texts = await groupTexts(page);
  check(texts.length === GROUPS.length, `${texts.length} groups: ${JSON.stringify(texts)}`);
  for (const g of GROUPS) check(texts.includes(g), `missing ${g} in ${JSON.stringify(texts)}`);
  check((await page.locator('#summary').textContent()).includes(`of ${GROUPS.length}`), 'summary line');
  check((await page.locator('text=Last push failed!').count()) === 1, 'one failed-push mark');
  check((await page.locator('script').count()) === 1, 'only the asset script element');

  begin('a group expands and stays expanded across a reload');
  const nightly = page.locator('details.group', { hasText: 'job="nightly_batch"' });
  await nightly.locator('summary').first().click();
  check(await nightly.evaluate((d) => d.open), 'group did not open');
  await nightly.locator('details.family summary', { hasText: 'batch_job_duration_seconds' }).click();
  await page.locator('td', { hasText: '≤ 0.5' }).first().waitFor();
  await page.reload();
  check(await page.locator('details.group', { hasText: 'job="nightly_batch"' }).evaluate((d) => d.open),
    'expanded group closed after reload');

  begin('screenshot');
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  console.log(`screenshot: ${SCREENSHOT}`);

  begin('filter form narrows the list');
  await page.fill('input[name=filter]', 'db2');
  await Promise.all([page.waitForURL(/[?&]filter=db2/), page.press('input[name=filter]', 'Enter')]);
  let shown = await groupTexts(page);
  check(shown.length === 1 && shown[0] === 'job="backup" instance="db2"', JSON.stringify(shown));
  await page.fill('input[name=filter]', 'probe_success');
  await Promise.all([page.waitForURL(/filter=probe_success/), page.click('button[type=submit]')]);
  shown = await groupTexts(page);
  check(shown.length === 1 && shown[0].startsWith('job="web_checks"'), JSON.stringify(shown));
  await Promise.all([page.waitForURL((u) => !u.search), page.click('text=Clear')]);
  check((await groupTexts(page)).length === GROUPS.length, 'Clear shows everything again');

  begin('Delete Group removes exactly that group');
  const before = await metricsText();
  check(before.includes('instance="db1"') && before.includes('instance="db2"'), 'both backups scraped');
  const db1 = page.locator('details.group', { hasText: 'instance="db1"' });
  expectDialog = 'Delete group job="backup", instance="db1"?';
  await Promise.all([
    page.waitForEvent('load'),
    db1.getByRole('button', { name: 'Delete Group' }).click(),
  ]);
  check(expectDialog === null, 'no confirm dialog was shown');
  shown = await groupTexts(page);
  check(shown.length === GROUPS.length - 1, `after delete: ${JSON.stringify(shown)}`);
  check(!shown.includes('job="backup" instance="db1"'), 'db1 still listed');
  const after = await metricsText();
  check(!after.includes('instance="db1"'), 'db1 series still scraped');
  for (const kept of ['instance="db2"', 'job="nightly_batch"', 'job="web_checks"', 'job="broken"']) {
    check(after.includes(kept), `${kept} gone from /metrics`);
  }

  begin('Status tab shows build information and flags');
  await Promise.all([page.waitForURL(/\/status$/), page.click('nav >> text=Status')]);
  check((await page.locator('#build').textContent()).includes('version'), 'build table');
  const flag = await page.locator('#flags tr', { hasText: 'web.enable-admin-api' }).locator('td').textContent();
  check(flag === 'true', `web.enable-admin-api shows ${flag}`);
  await Promise.all([page.waitForURL(/\/$/), page.click('nav >> text=Metrics')]);

  begin('Delete All empties the store');
  const n = GROUPS.length - 1;
  expectDialog = `Delete all ${n} groups?`;
  await Promise.all([page.waitForEvent('load'), page.click(`text=Delete All ${n} Groups`)]);
  check(expectDialog === null, 'no confirm dialog was shown');
  check((await groupTexts(page)).length === 0, 'groups left after Delete All');
  check(await page.locator('#delete-all').isDisabled(), 'Delete All not disabled on an empty store');
  check(!(await metricsText()).includes('job="'), 'pushed series left in /metrics');

  begin('no console errors, CSP violations or stray dialogs');
  check(problems.length === 0, problems.join('\n'));
  console.log('PASS: web UI browser test');
} catch (e) {
  failed = true;
  console.error(`FAIL: ${e.message}`);
} finally {
  await browser.close().catch(() => {});
  clearTimeout(watchdog);
}
process.exit(failed ? 1 : 0);
