// Browser test of the tracking pages: runs logged through the MLflow REST
// API (a metric series, params, tags, artifacts) are found in the runs
// table (filter with an inline error, sort by a metric, chosen columns),
// shown on a run page (chart, artifacts with a text and an image preview,
// an HTML artifact offered only as a download) and compared side by side
// (differences only, an overlaid chart that zooms).
//
// Driven by e2e/e2e_test.go, which sets TRELLIS_URL and a user of this
// file's own (TRELLIS_E2E_USER / TRELLIS_E2E_PASSWORD). The test creates its
// own project, so it depends on no other test's data.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, USER, PASSWORD, url, openBrowser } from './browser.mjs';
const KEY = 'TRK';

// A 2×2 PNG, to preview inline.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGP4z8AARAwQCgAf7gP9i18U1AAAAABJRU5ErkJggg==', 'base64');

// mlflow calls the project's MLflow REST API as the test user (basic
// auth, as the MLflow client does with MLFLOW_TRACKING_USERNAME/PASSWORD).
async function mlflow(method, path, body) {
  const headers = { Authorization: 'Basic ' + Buffer.from(`${USER}:${PASSWORD}`).toString('base64') };
  let payload = body;
  if (body !== undefined && !(body instanceof Buffer) && typeof body !== 'string') {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const resp = await fetch(url(`/p/${KEY}/api/2.0/${path}`), { method, headers, body: payload });
  const text = await resp.text();
  assert.equal(resp.status, 200, `${method} ${path} answered ${resp.status}: ${text}`);
  return text ? JSON.parse(text) : {};
}

// logRun creates a run with params, a tag and a metric series, and uploads
// its artifacts.
async function logRun(experimentId, name, lr, team, lossScale, files) {
  const { run } = await mlflow('POST', 'mlflow/runs/create', { experiment_id: experimentId, run_name: name, start_time: Date.now() });
  const id = run.info.run_id;
  const metrics = [];
  for (let step = 0; step < 500; step++) {
    metrics.push({ key: 'loss', value: lossScale / (1 + step), timestamp: Date.now(), step });
  }
  metrics.push({ key: 'accuracy', value: 1 - lossScale / 10, timestamp: Date.now(), step: 0 });
  await mlflow('POST', 'mlflow/runs/log-batch', {
    run_id: id, metrics,
    params: [{ key: 'lr', value: lr }, { key: 'optimizer', value: 'adam' }],
    tags: [{ key: 'team', value: team }],
  });
  for (const [path, data] of Object.entries(files)) {
    await mlflow('PUT', `mlflow-artifacts/artifacts/${experimentId}/${id}/artifacts/${path}`, data);
  }
  await mlflow('POST', 'mlflow/runs/update', { run_id: id, status: 'FINISHED', end_time: Date.now() });
  return id;
}

test('trellis: runs table, run page with artifacts, compare view', { timeout: 180_000 }, async (t) => {
  assert.ok(BASE && USER && PASSWORD, 'TRELLIS_URL, TRELLIS_E2E_USER and TRELLIS_E2E_PASSWORD must be set');
  const b = await openBrowser(t, 'runs', { acceptDownloads: true });
  const { page, step } = b;
  const dialogs = []; // an artifact's script must never get to open one
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  const rows = () => page.locator('#runs-table tbody tr');
  const runNames = async () => (await page.locator('#runs-table tbody tr td:nth-child(2)').allTextContents()).map((s) => s.trim());
  const ids = {};

  try {
    await step('sign in and create a project', async () => {
      await b.signIn();
      await page.goto(url('/projects/new'));
      await page.getByLabel('Project key', { exact: true }).fill(KEY);
      await page.getByLabel('Name', { exact: true }).fill('Tracking e2e');
      await page.getByRole('button', { name: 'Create project', exact: true }).click();
      await page.waitForURL((u) => u.pathname.startsWith(`/p/${KEY}`));
    });

    await step('log three runs through the MLflow API', async () => {
      const { experiment_id: exp } = await mlflow('POST', 'mlflow/experiments/create', { name: 'sweep' });
      ids.alpha = await logRun(exp, 'alpha', '0.01', 'vision', 3, {
        'notes.txt': 'alpha notes: loss <fell> & stayed low\n',
        'report.html': '<html><body><script>alert("pwned")</script>report</body></html>',
        'plots/curve.png': PNG,
      });
      ids.beta = await logRun(exp, 'beta', '0.1', 'vision', 5, { 'notes.txt': 'beta notes\n' });
      ids.gamma = await logRun(exp, 'gamma', '0.01', 'nlp', 1, {});
    });

    await step('the runs table lists the runs', async () => {
      await page.goto(url(`/p/${KEY}/runs`));
      await page.locator('#runs-table').waitFor();
      assert.equal(await rows().count(), 3);
      assert.deepEqual((await runNames()).sort(), ['alpha', 'beta', 'gamma']);
    });

    await step('a bad filter shows its error inline, naming the column', async () => {
      await page.locator('#filter').fill("params.lr = '0.01' AND metrics.loss <");
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      const err = page.locator('#filter-error');
      await err.waitFor();
      assert.match(await err.textContent(), /column \d+/);
      assert.equal(await page.locator('#filter').getAttribute('aria-invalid'), 'true');
      assert.equal(await page.locator('#filter').inputValue(), "params.lr = '0.01' AND metrics.loss <", 'the filter is kept to fix');
    });

    await step('a good filter narrows the rows', async () => {
      await page.locator('#filter').fill("params.lr = '0.01'");
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      await page.locator('#runs-table').waitFor();
      assert.equal(await page.locator('#filter-error').count(), 0);
      assert.deepEqual((await runNames()).sort(), ['alpha', 'gamma']);
    });

    await step('sort by a metric column, both ways', async () => {
      await page.locator('#filter').fill('');
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      await page.locator('#runs-table').waitFor();
      // The latest loss is lossScale/500: beta 0.01 > alpha 0.006 > gamma 0.002.
      await page.locator('#runs-table thead a', { hasText: 'metrics.loss' }).click();
      await page.waitForURL((u) => u.searchParams.get('order') === 'metrics.loss DESC');
      assert.deepEqual(await runNames(), ['beta', 'alpha', 'gamma']);
      await page.locator('#runs-table thead a', { hasText: 'metrics.loss' }).click();
      await page.waitForURL((u) => u.searchParams.get('order') === 'metrics.loss ASC');
      assert.deepEqual(await runNames(), ['gamma', 'alpha', 'beta']);
    });

    await step('pick the columns', async () => {
      await page.locator('#columns').fill('tags.team, params.lr');
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      await page.locator('#runs-table').waitFor();
      const heads = (await page.locator('#runs-table thead th').allTextContents()).map((s) => s.trim());
      assert.deepEqual(heads.slice(-2), ['tags.team', 'params.lr']);
      assert.ok(!heads.some((h) => h.startsWith('metrics.')), `no metric columns left: ${heads}`);
      const alpha = page.locator('#runs-table tbody tr', { hasText: 'alpha' });
      assert.match(await alpha.textContent(), /vision\s*0\.01/);
    });

    await step('open a run page: params, metrics chart', async () => {
      await page.locator('#runs-table a', { hasText: 'alpha' }).click();
      await page.getByRole('heading', { name: 'alpha', exact: true, level: 1 }).waitFor();
      assert.match(await page.locator('section[aria-labelledby="params-title"]').textContent(), /lr\s*0\.01/);
      await page.locator('figure[data-metric-chart*="key=loss"] canvas').first().waitFor();
      // accuracy was logged once: a number, not a lone dot on a step axis.
      const accuracy = page.locator('figure[data-metric-chart*="key=accuracy"] .chart-number');
      await accuracy.waitFor();
      assert.match(await accuracy.textContent(), /^0\.7logged once, at step 0$/);
    });

    await step('artifacts: listed, text previews, image previews', async () => {
      const table = page.locator('#artifacts-table');
      await table.waitFor();
      assert.match(await table.textContent(), /plots\/[\s\S]*notes\.txt[\s\S]*report\.html/);
      await table.getByRole('link', { name: 'notes.txt', exact: true }).click();
      const pre = page.locator('#artifact-preview pre');
      await pre.waitFor();
      assert.equal(await pre.textContent(), 'alpha notes: loss <fell> & stayed low\n');
      await page.locator('#artifacts-table').getByRole('link', { name: 'plots/', exact: true }).click();
      await page.locator('#artifacts-table').getByRole('link', { name: 'curve.png', exact: true }).click();
      const img = page.locator('#artifact-preview img');
      await img.waitFor();
      await page.waitForFunction(() => {
        const i = document.querySelector('#artifact-preview img');
        return i && i.complete && i.naturalWidth === 2;
      });
      await page.getByRole('navigation', { name: 'Artifact folder' }).getByRole('link', { name: 'artifacts', exact: true }).click();
      await page.locator('#artifacts-table').getByRole('link', { name: 'notes.txt', exact: true }).waitFor();
    });

    await step('an HTML artifact is a download, never a page', async () => {
      const link = page.locator('#artifacts-table').getByRole('link', { name: 'report.html', exact: true });
      assert.notEqual(await link.getAttribute('download'), null, 'the link asks for a download');
      const href = await link.getAttribute('href');
      const resp = await page.request.get(url(href));
      assert.equal(resp.status(), 200);
      assert.match(resp.headers()['content-disposition'], /^attachment/);
      assert.equal(resp.headers()['content-type'], 'application/octet-stream');
      assert.equal(resp.headers()['x-content-type-options'], 'nosniff');
      const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
      assert.equal(download.suggestedFilename(), 'report.html');
      // Even opened directly, it does not render as a page of this origin.
      const before = page.url();
      const other = await page.context().newPage();
      const dl = other.waitForEvent('download').catch(() => null);
      await other.goto(url(href.replace('?download=1', ''))).catch(() => {});
      await dl;
      assert.equal(dialogs.length, 0, 'no script of the artifact ran');
      await other.close();
      assert.equal(page.url(), before);
    });

    await step('compare two runs: differences only, overlaid chart', async () => {
      await page.goto(url(`/p/${KEY}/runs`));
      await page.locator('#runs-table').waitFor();
      await page.getByLabel('Compare alpha', { exact: true }).check();
      await page.getByLabel('Compare beta', { exact: true }).check();
      await page.getByRole('button', { name: /Compare selected/ }).click();
      await page.getByRole('heading', { name: 'Compare 2 runs' }).waitFor();
      const keys = async () => (await page.locator('section[aria-labelledby="compare-title"] tbody th').allTextContents()).map((s) => s.trim());
      const all = await keys();
      assert.ok(all.includes('params.optimizer') && all.includes('params.lr') && all.includes('tags.team'), `all keys: ${all}`);
      await page.getByLabel('Differences only').check();
      await page.getByRole('button', { name: 'Apply', exact: true }).click();
      await page.waitForURL((u) => u.searchParams.get('diff') === '1');
      const diff = await keys();
      assert.ok(diff.includes('params.lr') && diff.includes('metrics.loss'), `differing keys: ${diff}`);
      assert.ok(!diff.includes('params.optimizer') && !diff.includes('tags.team'), `equal keys hidden: ${diff}`);
      assert.equal(await page.locator('section[aria-labelledby="compare-title"] tbody tr:not(.differs)').count(), 0);
      const chart = page.locator('figure[data-compare-chart]', { hasText: 'loss' });
      await chart.locator('canvas').first().waitFor();
      const legend = (await chart.locator('.u-legend .u-label').allTextContents()).map((s) => s.trim());
      assert.ok(legend.includes('alpha') && legend.includes('beta'), `overlaid series: ${legend}`);
      // Drag across the chart: both runs' series are asked again for the
      // zoomed step range.
      const zoomed = (id) => page.waitForResponse((r) => r.url().includes(`/runs/${id}/metric.json`) && /[?&]start=\d+&end=\d+/.test(r.url()));
      const box = await chart.locator('.u-over').boundingBox();
      const both = Promise.all([zoomed(ids.alpha), zoomed(ids.beta)]);
      await page.mouse.move(box.x + box.width * 0.1, box.y + box.height / 2);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2, { steps: 5 });
      await page.mouse.up();
      for (const resp of await both) {
        const d = await resp.json();
        assert.ok(d.step.length > 0 && d.step[0] > 0 && d.step[d.step.length - 1] < 499, `zoomed steps ${d.step[0]}..${d.step[d.step.length - 1]}`);
      }
      await page.getByLabel('Differences only').uncheck();
      await page.getByRole('button', { name: 'Apply', exact: true }).click();
      await page.waitForURL((u) => !u.searchParams.has('diff'));
      assert.deepEqual(await keys(), all);
    });

    await b.finish();
  } catch (err) {
    throw await b.failed(err);
  } finally {
    await b.close();
  }
});
