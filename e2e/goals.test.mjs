// Browser test of goal-directed work: a goal and a spec are written in the
// UI for an experiment of the demo project, two iterations of predictions
// are checked with `trellis spec check --report-to-server`, and the second
// iteration flips the goal (and the spec) from not met to met on the
// experiment board and the item page.
//
// Driven by e2e/e2e_test.go, which sets TRELLIS_URL, TRELLIS_BIN (the
// binary under test) and a user of this file's own (TRELLIS_E2E_USER /
// TRELLIS_E2E_PASSWORD), an instance admin, so it may edit the demo project
// that setup created (flow.test.mjs runs first). Only this file touches the
// demo experiment it picks.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BASE, USER, PASSWORD, url, openBrowser } from './browser.mjs';

const BIN = process.env.TRELLIS_BIN || '';
const KEY = 'BAL';
const TITLE = 'Synthetic balloons pasted into sky photos'; // a demo experiment without goals
let ITEM = ''; // its key, read off the experiment board

// predictionsCSV is a predictions file where the first `right` of 10
// photos are classified correctly: accuracy right/10.
const labels = ['balloon', 'sky', 'balloon', 'sky', 'sky', 'balloon', 'sky', 'sky', 'balloon', 'sky'];
const labelsCSV = 'id,label\n' + labels.map((l, i) => `p${i},${l}`).join('\n') + '\n';
const predictionsCSV = (right) => 'id,prediction\n' +
  labels.map((l, i) => `p${i},${i < right ? l : (l === 'balloon' ? 'sky' : 'balloon')}`).join('\n') + '\n';

const offlineSpec = `Feature: Synthetic balloons acceptance
  Scenario: photos are classified well enough to ship
    Given labels from "labels.csv"
    And predictions from "predictions.csv"
    When the predictions are scored as classification
    Then accuracy should be at least 80%
`;

const serverSpec = (item) => `Feature: Synthetic balloons on the server
  Scenario: the latest iteration is accurate enough
    Given the latest run of item "${item}"
    Then metric "accuracy" should be at least 0.8
`;

test('trellis: a goal and a spec flip from not met to met on the board', { timeout: 180_000 }, async (t) => {
  assert.ok(BASE && BIN && USER && PASSWORD, 'TRELLIS_URL, TRELLIS_BIN, TRELLIS_E2E_USER and TRELLIS_E2E_PASSWORD must be set');
  const work = mkdtempSync(join(tmpdir(), 'trellis-e2e-goals-'));
  const b = await openBrowser(t, 'goals');
  const { page, step } = b;
  let token = '';

  // iteration checks one set of predictions offline and reports it to the
  // server as a run linked to the item, as a data scientist would.
  const iteration = (right) => {
    writeFileSync(join(work, 'predictions.csv'), predictionsCSV(right));
    const res = spawnSync(BIN, ['spec', 'check', 'accept.feature', '--report-to-server', '--project', KEY, '--item', ITEM], {
      cwd: work, encoding: 'utf8', timeout: 60_000,
      env: { ...process.env, TRELLIS_SERVER: BASE, TRELLIS_TOKEN: token },
    });
    t.diagnostic(`spec check (${right}/10 right) exit ${res.status}:\n${res.stdout}${res.stderr}`);
    return res;
  };
  const card = () => page.locator(`[data-key="${ITEM}"]`).first();

  try {
    await step('sign in, find the demo experiment, create a token', async () => {
      await b.signIn();
      await page.goto(url(`/p/${KEY}/experiments`));
      ITEM = await page.locator('li.card-item', { hasText: TITLE }).getAttribute('data-key');
      assert.match(ITEM, /^BAL-\d+$/);
      assert.equal(await page.locator(`[data-key="${ITEM}"] [data-goal-progress]`).count(), 0, 'the demo experiment starts without goals');

      await page.goto(url('/account'));
      await page.locator('#token-name').fill('e2e-goals');
      await page.locator('#token-scope').selectOption('write');
      await page.getByRole('button', { name: 'Create token', exact: true }).click();
      token = (await page.locator('#new-token').textContent()).trim();
      assert.ok(token.length > 20, 'the new token is shown once');
    });

    await step('write a goal and a spec on the item page', async () => {
      await page.goto(url(`/p/${KEY}/items/${ITEM}`));
      await page.locator('#g-metric').fill('accuracy');
      await page.locator('#g-comparator').selectOption('at least');
      await page.locator('#g-threshold').fill('80%');
      await page.getByRole('button', { name: 'Add goal', exact: true }).click();
      await page.locator('[data-goal-status="no-data"]').first().waitFor();

      await page.goto(url(`/p/${KEY}/items/${ITEM}`));
      await page.locator('#spec summary').filter({ hasText: 'Edit the spec' }).click();
      await page.locator('#spec-name').fill('synthetic.feature');
      await page.locator('#spec-text').fill(serverSpec(ITEM));
      await page.getByRole('button', { name: 'Save version', exact: true }).click();
      await page.locator('[data-spec-version="1"]').waitFor();
    });

    await step('iteration 1: 6 of 10 right, the goal is not met', async () => {
      writeFileSync(join(work, 'labels.csv'), labelsCSV);
      writeFileSync(join(work, 'accept.feature'), offlineSpec);
      const res = iteration(6);
      assert.equal(res.status, 1, 'a failing spec exits 1');
      assert.match(res.stdout, /0 passed, 1 failed/);
      await page.goto(url(`/p/${KEY}/experiments`));
      const badge = card().locator('[data-goal-progress]');
      assert.equal(await badge.getAttribute('data-goal-progress'), '0/1');
      assert.equal(await badge.getAttribute('data-goal-status'), 'unmet');
      assert.equal(await card().locator('[data-spec-status]').getAttribute('data-spec-status'), 'failed');
    });

    await step('iteration 2: 9 of 10 right, the goal flips to met on the board', async () => {
      const res = iteration(9);
      assert.equal(res.status, 0, 'a passing spec exits 0');
      assert.match(res.stdout, /1 passed, 0 failed/);
      await page.goto(url(`/p/${KEY}/experiments`));
      const badge = card().locator('[data-goal-progress]');
      assert.equal(await badge.getAttribute('data-goal-progress'), '1/1');
      assert.equal(await badge.getAttribute('data-goal-status'), 'met');
      assert.equal(await card().locator('[data-spec-status]').getAttribute('data-spec-status'), 'passed');
    });

    await step('the item page shows the goal met, its best run and the chart', async () => {
      await page.goto(url(`/p/${KEY}/items/${ITEM}`));
      const row = page.locator('#goals [data-goal-id]').first();
      assert.equal(await row.getAttribute('data-goal-status'), 'met');
      assert.match(await row.locator('[data-goal-best]').textContent(), /0\.9/);
      await page.locator('[data-goal-charts] canvas').first().waitFor();
      assert.equal(await page.locator('[data-spec-summary]').getAttribute('data-spec-status'), 'passed');
    });

    await b.finish();
  } catch (err) {
    throw await b.failed(err);
  } finally {
    await b.close();
    rmSync(work, { recursive: true, force: true });
  }
});
