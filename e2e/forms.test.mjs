// Browser test of forms (issue 12, points 2 and 3): a refused form shows its
// error beside the field, with that field focused and in view and what was
// typed kept; a reload after a successful post posts nothing; a destructive
// action asks first, and cancelling changes nothing while confirming does it.
//
// Driven by e2e/e2e_test.go, which sets TRELLIS_URL and a user of this
// file's own (TRELLIS_E2E_USER / TRELLIS_E2E_PASSWORD). The test creates its
// own project, so it depends on no other test's data. Screenshots of the
// error state and of a confirmation land in e2e/artifacts/forms-*.png.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BASE, USER, PASSWORD, url, openBrowser } from './browser.mjs';

const KEY = 'FRM';
const shots = join(dirname(fileURLToPath(import.meta.url)), 'artifacts');

test('trellis: refused forms, no re-submit, confirmations', { timeout: 120_000 }, async (t) => {
  assert.ok(BASE && USER && PASSWORD, 'TRELLIS_URL, TRELLIS_E2E_USER and TRELLIS_E2E_PASSWORD must be set');
  mkdirSync(shots, { recursive: true });
  const b = await openBrowser(t, 'forms', { width: 1400, height: 900 });
  const { page, step } = b;
  const posts = [];
  page.on('request', (r) => { if (r.method() === 'POST') posts.push(r.url()); });
  const inView = (sel) => page.locator(sel).evaluate((el) => {
    const r = el.getBoundingClientRect();
    return r.top >= 0 && r.bottom <= window.innerHeight && r.left >= 0 && r.right <= window.innerWidth;
  });
  const focusedId = () => page.evaluate(() => document.activeElement && document.activeElement.id);

  try {
    await step('sign in and create a project', async () => {
      await b.signIn();
      await page.goto(url('/projects/new'));
      await page.getByLabel('Project key', { exact: true }).fill(KEY);
      await page.getByLabel('Name', { exact: true }).fill('Forms e2e');
      await page.getByRole('button', { name: 'Create project', exact: true }).click();
      await page.waitForURL((u) => u.pathname.startsWith(`/p/${KEY}`));
    });

    await step('New item opens the form with Title focused', async () => {
      await page.goto(url(`/p/${KEY}/backlog`));
      await page.getByRole('link', { name: 'New item', exact: true }).click();
      await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'title');
      await page.goto(url(`/p/${KEY}`));
      await page.goto(url(`/p/${KEY}/backlog#new-item`));
      await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'title');
    });

    await step('a refused new item shows the error beside the field, focused and in view, keeping what was typed', async () => {
      await page.goto(url(`/p/${KEY}/backlog`));
      await page.locator('#kind').selectOption('development');
      await page.getByLabel('Title', { exact: true }).fill('Tune the learning rate');
      await page.locator('#labels').fill('tuning');
      await page.locator('#parent').fill(`${KEY}-99`);
      await page.getByRole('button', { name: 'Create item', exact: true }).click();
      await page.locator('#parent-error').waitFor();
      assert.match(await page.locator('#parent-error').textContent(), new RegExp(`${KEY}-99`));
      assert.equal(await page.locator('#parent').getAttribute('aria-invalid'), 'true');
      assert.equal(await page.locator('#parent').getAttribute('aria-describedby'), 'parent-error');
      await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'parent');
      assert.equal(await focusedId(), 'parent', 'the refused field has the focus');
      assert.ok(await inView('#parent'), 'the refused field is scrolled into view');
      assert.ok(await inView('#parent-error'), 'its message is in view');
      assert.equal(await page.getByLabel('Title', { exact: true }).inputValue(), 'Tune the learning rate');
      assert.equal(await page.locator('#labels').inputValue(), 'tuning');
      assert.equal(await page.locator('#parent').inputValue(), `${KEY}-99`);
      await page.screenshot({ path: join(shots, 'forms-new-item-error.png') });
    });

    await step('a refused decision says the words of the form and keeps the item\'s sprint', async () => {
      // The radios are required, so only a crafted post can send a value
      // the form does not offer; the page must still read as the form does.
      await page.goto(url(`/p/${KEY}/sprints`));
      await page.getByLabel('Name', { exact: true }).fill('Sprint A');
      await page.getByRole('button', { name: 'Plan sprint', exact: true }).click();
      await page.getByText('Sprint planned').waitFor();
      await page.goto(url(`/p/${KEY}/backlog`));
      await page.locator('#kind').selectOption('experiment');
      await page.getByLabel('Title', { exact: true }).fill('Warm restarts');
      await page.locator('#hypothesis').fill('We believe warm restarts raise recall');
      await page.locator('#sprint').selectOption({ label: 'Sprint A (planned)' });
      await page.getByRole('button', { name: 'Create item', exact: true }).click();
      await page.getByRole('heading', { name: new RegExp(`${KEY}-1 Warm restarts`) }).waitFor();
      await page.locator('input[name="outcome"]').first().evaluate((el) => { el.value = 'ship_it'; el.checked = true; });
      await page.locator('input[name="verdict"][value="refuted"]').check();
      await page.locator('#reason').fill('Recall fell on the night set');
      await page.getByRole('button', { name: 'Record decision', exact: true }).click();
      await page.locator('#outcome-error').waitFor();
      assert.equal(await page.locator('#outcome-error').textContent(), 'Choose a decision: Productionize, Abandon or More research.');
      assert.equal(await page.locator('#reason').inputValue(), 'Recall fell on the night set');
      await page.waitForFunction(() => document.activeElement && document.activeElement.name === 'outcome');
      assert.ok(await inView('#outcome-error'), 'the decision error is in view');
      const sprint = await page.locator('.item-side .facts div', { hasText: 'Sprint' }).textContent();
      assert.match(sprint, /Sprint A/, 'the Fields card shows the item\'s sprint');
    });

    await step('a reload after a successful create posts nothing', async () => {
      await page.goto(url(`/p/${KEY}/backlog`));
      await page.locator('#kind').selectOption('development');
      await page.getByLabel('Title', { exact: true }).fill('Serve the model');
      await page.getByRole('button', { name: 'Create item', exact: true }).click();
      await page.waitForURL((u) => u.pathname === `/p/${KEY}/items/${KEY}-2`);
      const before = posts.length;
      await page.reload();
      await page.getByRole('heading', { name: new RegExp(`${KEY}-2 Serve the model`) }).waitFor();
      assert.equal(posts.length, before, `the reload posted again: ${posts.slice(before)}`);
      const next = await page.request.get(url(`/p/${KEY}/items/${KEY}-3`));
      assert.equal(next.status(), 404, 'no second item was created');
    });

    await step('a reload after creating a token creates no second one and shows the secret no more', async () => {
      await page.goto(url('/account'));
      await page.getByLabel('Token name', { exact: true }).fill('ci-bot');
      await page.getByRole('button', { name: 'Create token', exact: true }).click();
      await page.getByText('will not be shown again').waitFor();
      const before = posts.length;
      await page.reload();
      assert.equal(posts.length, before, 'the reload posted again');
      assert.equal(await page.getByText('will not be shown again').count(), 0, 'the secret is shown once');
      assert.equal(await page.locator('#tokens tbody tr', { hasText: 'ci-bot' }).count(), 1, 'exactly one token');
    });

    await step('revoking a token asks; cancelling keeps it', async () => {
      const row = page.locator('#tokens tbody tr', { hasText: 'ci-bot' });
      const before = posts.length;
      await row.getByRole('button', { name: 'Revoke', exact: true }).click();
      const dialog = page.locator('dialog.confirm-dialog[open]');
      await dialog.waitFor();
      assert.equal(await dialog.locator('#confirm-text').textContent(), 'Revoke token ci-bot? Scripts and MLflow clients using it stop working at once.');
      assert.equal(await focusedId(), '', 'the focus is on a dialog button');
      assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Cancel', 'Cancel is the default');
      await page.screenshot({ path: join(shots, 'forms-confirm-revoke.png') });
      await dialog.getByRole('button', { name: 'Cancel', exact: true }).click();
      await dialog.waitFor({ state: 'detached' }).catch(() => {});
      assert.equal(await page.locator('dialog.confirm-dialog[open]').count(), 0);
      assert.equal(posts.length, before, 'cancelling posted nothing');
      await page.reload();
      assert.equal(await page.locator('#tokens tbody tr', { hasText: 'ci-bot' }).count(), 1, 'the token is still there');
    });

    await step('confirming revokes it', async () => {
      const row = page.locator('#tokens tbody tr', { hasText: 'ci-bot' });
      await row.getByRole('button', { name: 'Revoke', exact: true }).click();
      const dialog = page.locator('dialog.confirm-dialog[open]');
      await dialog.waitFor();
      await dialog.getByRole('button', { name: 'Revoke', exact: true }).click();
      await page.getByText('Token revoked.').waitFor();
      assert.equal(await page.locator('#tokens tbody tr', { hasText: 'ci-bot' }).count(), 0, 'the token is gone');
    });

    await step('archiving a project asks; Escape cancels, confirming archives', async () => {
      await page.goto(url(`/p/${KEY}/settings`));
      await page.getByRole('button', { name: 'Archive project', exact: true }).click();
      const dialog = page.locator('dialog.confirm-dialog[open]');
      await dialog.waitFor();
      assert.match(await dialog.locator('#confirm-text').textContent(), /^Archive project Forms e2e\? It becomes read-only/);
      await page.keyboard.press('Escape');
      await page.waitForFunction(() => !document.querySelector('dialog.confirm-dialog[open]'));
      assert.equal(await page.getByRole('button', { name: 'Unarchive project', exact: true }).count(), 0, 'still not archived');
      await page.getByRole('button', { name: 'Archive project', exact: true }).click();
      await dialog.waitFor();
      await dialog.getByRole('button', { name: 'Archive project', exact: true }).click();
      await page.getByText('Project archived.').waitFor();
      await page.getByRole('button', { name: 'Unarchive project', exact: true }).waitFor();
    });

    await b.finish();
  } catch (err) {
    throw await b.failed(err);
  } finally {
    await b.close();
  }
});
