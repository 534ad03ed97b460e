// Browser test of the planning capability: create items, plan and start a
// sprint, drag a card across the sprint board and reload to see the move
// persisted, move one with the keyboard, give an experiment a goal, and
// decide it.
//
// Driven by e2e/e2e_test.go, which sets TRELLIS_URL and a user of this
// file's own (TRELLIS_E2E_USER / TRELLIS_E2E_PASSWORD). The test creates its
// own project, so it depends on no other test's data.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, USER, PASSWORD, url, openBrowser } from './browser.mjs';
const KEY = 'PLN';

test('trellis: backlog, sprint planning, boards and decisions', { timeout: 180_000 }, async (t) => {
  assert.ok(BASE && USER && PASSWORD, 'TRELLIS_URL, TRELLIS_E2E_USER and TRELLIS_E2E_PASSWORD must be set');
  const b = await openBrowser(t, 'backlog');
  const { page, step } = b;

  const createItem = async (fields) => {
    await page.goto(url(`/p/${KEY}/backlog`));
    await page.locator('#kind').selectOption(fields.kind);
    await page.getByLabel('Title', { exact: true }).fill(fields.title);
    if (fields.hypothesis) await page.locator('#hypothesis').fill(fields.hypothesis);
    if (fields.timeBox) await page.locator('#time_box').selectOption(fields.timeBox);
    if (fields.points) await page.locator('#points').selectOption(String(fields.points));
    await page.getByRole('button', { name: 'Create item', exact: true }).click();
  };
  const column = (name) => page.locator(`[data-column="${name}"]`);
  const moved = () => page.waitForResponse((r) => r.url().endsWith('/board/move') && r.request().method() === 'POST');

  try {
    await step('sign in and create a project', async () => {
      await b.signIn();
      await page.goto(url('/projects/new'));
      await page.getByLabel('Project key', { exact: true }).fill(KEY);
      await page.getByLabel('Name', { exact: true }).fill('Planning e2e');
      await page.getByRole('button', { name: 'Create project', exact: true }).click();
      await page.waitForURL((u) => u.pathname === `/p/${KEY}` || u.pathname.startsWith(`/p/${KEY}`));
    });

    await step('the backlog form asks for the kind\'s required fields', async () => {
      await page.goto(url(`/p/${KEY}/backlog`));
      await page.locator('#kind').selectOption('experiment');
      assert.ok(await page.locator('#hypothesis').isVisible(), 'experiments show the hypothesis field');
      assert.ok(!(await page.locator('#points').isVisible()), 'experiments hide story points');
      await page.locator('#kind').selectOption('development');
      assert.ok(await page.locator('#points').isVisible(), 'development shows story points');
      // An experiment without a hypothesis is refused, naming the field.
      await createItem({ kind: 'experiment', title: 'No hypothesis' });
      await page.locator('#hypothesis-error').waitFor();
      assert.match(await page.locator('#hypothesis-error').textContent(), /hypothesis/i);
    });

    await step('create items of three kinds', async () => {
      await createItem({ kind: 'development', title: 'Serve the detector', points: 5 });
      await page.getByRole('heading', { name: /PLN-1 Serve the detector/ }).waitFor();
      await createItem({ kind: 'development', title: 'Unestimated story' });
      await page.getByRole('heading', { name: /PLN-2 Unestimated story/ }).waitFor();
      await createItem({ kind: 'experiment', title: 'Mosaic augmentation', hypothesis: 'We believe mosaic raises recall, measured by recall@0.5', timeBox: '2d' });
      await page.getByRole('heading', { name: /PLN-3 Mosaic augmentation/ }).waitFor();
      // Markdown renders, raw HTML does not.
      await page.locator('#edit #description').fill('## Plan\n\n**bold** <script>window.pwned=1</script>');
      await page.locator('#edit').getByRole('button', { name: 'Save', exact: true }).click();
      await page.locator('.markdown h2', { hasText: 'Plan' }).waitFor();
      assert.equal(await page.locator('.markdown script').count(), 0, 'raw script must not render');
      assert.equal(await page.evaluate(() => window.pwned), undefined);
    });

    await step('plan a sprint', async () => {
      await page.goto(url(`/p/${KEY}/sprints`));
      await page.getByLabel('Name', { exact: true }).fill('Sprint 1');
      await page.locator(`input[name="cap_${USER}"]`).fill('10');
      await page.getByRole('button', { name: 'Plan sprint', exact: true }).click();
      await page.getByText('Sprint planned').waitFor();
      // The unestimated development item is refused, naming its points.
      await page.locator('input[name="item"][value="PLN-2"]').check();
      await page.getByRole('button', { name: 'Add to sprint', exact: true }).click();
      await page.locator('.alert', { hasText: /PLN-2.*story points/ }).waitFor();
      await page.locator('input[name="item"][value="PLN-1"]').check();
      await page.locator('input[name="item"][value="PLN-3"]').check();
      await page.getByRole('button', { name: 'Add to sprint', exact: true }).click();
      await page.getByText('Sprint plan updated').waitFor();
      // 5 committed + 2 experiments: 7 of 10, committed 71% vs 60%, experiments 29% vs 30%, learning 0% vs 10%.
      assert.equal(await page.locator('[data-load]').textContent(), '7');
      assert.match(await page.locator('tr[data-category="committed"]').textContent(), /5\s*71%\s*60%/);
      assert.equal(await page.locator('tr.off').count(), 1, 'committed is off guideline');
      await page.getByRole('button', { name: 'Start sprint', exact: true }).click();
      await page.getByRole('heading', { name: /Sprint board: Sprint 1/ }).waitFor();
    });

    await step('drag a card across columns and reload', async () => {
      const card = column('Backlog').locator('[data-key="PLN-1"]');
      await card.waitFor();
      const target = column('In progress');
      const done = moved();
      await card.dragTo(target);
      const resp = await done;
      assert.equal(resp.status(), 200, `move answered ${resp.status()}: ${await resp.text()}`);
      await page.reload();
      await column('In progress').locator('[data-key="PLN-1"]').waitFor();
      assert.equal(await column('Backlog').locator('[data-key="PLN-1"]').count(), 0);
    });

    await step('move a card with the keyboard and reload', async () => {
      const card = column('In progress').locator('[data-key="PLN-1"]');
      await card.focus();
      const done = moved();
      await page.keyboard.press('Alt+ArrowRight');
      assert.equal((await done).status(), 200);
      await page.reload();
      await column('In review').locator('[data-key="PLN-1"]').waitFor();
    });

    await step('give the experiment a goal', async () => {
      await page.goto(url(`/p/${KEY}/items/PLN-3`));
      const form = page.locator('[data-goal-form]');
      await form.getByLabel(/^Metric/).fill('accuracy');
      await form.getByLabel('Comparator', { exact: true }).selectOption('at least');
      await form.getByLabel(/^Threshold/).fill('90%');
      await form.getByLabel('Dataset', { exact: true }).fill('balloons');
      await form.getByRole('button', { name: 'Add goal', exact: true }).click();
      await page.getByText('Goal added.').waitFor();
      const row = page.locator('#goals tr[data-goal-status="no-data"]', { hasText: 'accuracy at least 0.9' });
      await row.waitFor();
      await page.locator('[data-goal-summary="0/1"]').waitFor();
      await page.goto(url(`/p/${KEY}/experiments`));
      await page.locator('[data-key="PLN-3"] .goal-badge[data-goal-progress="0/1"][data-goal-status="unmet"]').waitFor();
    });

    await step('decide the experiment', async () => {
      await page.goto(url(`/p/${KEY}/items/PLN-3`));
      await page.getByLabel(/Productionize/).check();
      await page.getByLabel('supported', { exact: true }).check();
      await page.getByLabel(/Evidence links/).fill('https://example.org/runs/42');
      await page.getByRole('button', { name: 'Record decision', exact: true }).click();
      await page.getByText('Decision recorded. This is the follow-up item it created.').waitFor();
      await page.getByRole('heading', { name: /PLN-4 Productionize: Mosaic augmentation/ }).waitFor();
      await page.goto(url(`/p/${KEY}/experiments/log`));
      const row = page.locator('tr', { hasText: 'PLN-3' });
      await row.waitFor();
      assert.match(await row.textContent(), /supported[\s\S]*productionize[\s\S]*PLN-4/);
      await page.goto(url(`/p/${KEY}/experiments`));
      await page.locator('[data-column="decision"] [data-key="PLN-3"]').waitFor();
    });

    await b.finish();
  } catch (err) {
    throw await b.failed(err);
  } finally {
    await b.close();
  }
});
