// Browser test of the keyboard habits (issue 12, point 6; static/keys.js):
// "/" focuses the page's search box, "c" opens New item with Title focused,
// "g r" goes to Runs, Cmd/Ctrl-K finds an item by its title, a run by its
// name and a goal by its metric and Enter opens each, "j"/"k" move through
// the backlog's rows, "?" lists the shortcuts, and a single key typed into
// a field stays in the field.
//
// Driven by e2e/e2e_test.go, which sets TRELLIS_URL and a user of this
// file's own. The test creates its own project. Screenshots of the palette
// and of the help land in e2e/artifacts/keys-*.png (1,400 px wide, both
// themes for the palette).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BASE, USER, PASSWORD, url, openBrowser } from './browser.mjs';

const KEY = 'KBD';
const shots = join(dirname(fileURLToPath(import.meta.url)), 'artifacts');

test('trellis: keyboard shortcuts and the command palette', { timeout: 120_000 }, async (t) => {
  assert.ok(BASE && USER && PASSWORD, 'TRELLIS_URL, TRELLIS_E2E_USER and TRELLIS_E2E_PASSWORD must be set');
  mkdirSync(shots, { recursive: true });
  const b = await openBrowser(t, 'keys', { width: 1400, height: 900 });
  const { page, step } = b;
  const active = () => page.evaluate(() => {
    const el = document.activeElement;
    return el ? { id: el.id, label: el.getAttribute('aria-label'), tag: el.tagName } : null;
  });
  const mod = process.platform === 'darwin' ? 'Meta' : 'Control';

  try {
    await step('sign in, create a project and two items', async () => {
      await b.signIn();
      await b.createProject(KEY, 'Keys e2e');
      for (const title of ['Calibrate the tokenizer', 'Prune attention heads']) {
        await page.goto(url(`/p/${KEY}/backlog`));
        await page.getByLabel('Title', { exact: true }).fill(title);
        await page.getByRole('button', { name: 'Create item', exact: true }).click();
        await page.getByRole('heading', { name: new RegExp(title) }).waitFor();
      }
    });

    await step('"/" focuses the backlog search box, and on the runs page its name search', async () => {
      await page.goto(url(`/p/${KEY}/backlog`));
      await page.keyboard.press('/');
      assert.equal((await active()).label, 'Search items and comments');
      await page.goto(url(`/p/${KEY}/runs`));
      await page.keyboard.press('/');
      assert.equal((await active()).id, 'run-name');
    });

    await step('typing "c" and "g r" in a field stays in the field', async () => {
      await page.goto(url(`/p/${KEY}/backlog`));
      const box = page.getByLabel('Search items and comments');
      await box.click();
      await page.keyboard.type('cgr');
      assert.equal(await box.inputValue(), 'cgr');
      await page.waitForTimeout(300);
      assert.equal(new URL(page.url()).pathname, `/p/${KEY}/backlog`);
      assert.equal(new URL(page.url()).hash, '');
    });

    await step('"c" opens New item with Title focused, from another page too', async () => {
      await page.goto(url(`/p/${KEY}/backlog`));
      await page.keyboard.press('c');
      await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'title');
      await page.goto(url(`/p/${KEY}/sprints`));
      await page.keyboard.press('c');
      await page.waitForURL((u) => u.pathname === `/p/${KEY}/backlog` && u.hash === '#new-item');
      await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'title');
    });

    await step('"g r" goes to Runs and "g b" back to the backlog', async () => {
      await page.goto(url(`/p/${KEY}`));
      await page.keyboard.press('g');
      await page.keyboard.press('r');
      await page.waitForURL((u) => u.pathname === `/p/${KEY}/runs`);
      await page.keyboard.press('g');
      await page.keyboard.press('b');
      await page.waitForURL((u) => u.pathname === `/p/${KEY}/backlog`);
    });

    await step('"j" and "k" move through the backlog rows and Enter opens one', async () => {
      await page.goto(url(`/p/${KEY}/backlog`));
      await page.keyboard.press('j');
      await page.keyboard.press('j');
      await page.keyboard.press('k');
      const rows = page.locator('.items-table tbody tr');
      assert.equal(await page.locator('.items-table tbody tr.key-current').count(), 1);
      const first = rows.first();
      assert.match(await first.getAttribute('class'), /key-current/);
      const key = (await first.locator('a.key').textContent()).trim();
      await page.screenshot({ path: join(shots, 'keys-rows.png') });
      await page.keyboard.press('Enter');
      await page.waitForURL((u) => u.pathname === `/p/${KEY}/items/${key}`);
    });

    await step('Cmd/Ctrl-K finds an item by its title and Enter opens it', async () => {
      await page.goto(url(`/p/${KEY}/board`));
      await page.keyboard.press(`${mod}+k`);
      const input = page.getByRole('combobox', { name: 'Find a page, item, run or goal' });
      await input.waitFor();
      assert.equal((await active()).tag, 'INPUT');
      assert.ok(await page.getByRole('option', { name: /Page\s*Backlog/ }).count() > 0, 'the menu pages are listed');
      await page.keyboard.type('tokenizer');
      const option = page.getByRole('option', { name: /Item\s*KBD-\d+ Calibrate the tokenizer/ });
      await option.waitFor();
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('ArrowUp');
      assert.equal(await page.locator('[role="option"][aria-selected="true"]').count(), 1);
      await page.screenshot({ path: join(shots, 'keys-palette.png') });
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: /Calibrate the tokenizer/ }).waitFor();
    });

    await step('Cmd/Ctrl-K finds a run by its name and a goal by its metric', async () => {
      // Seeded from the signed-in page: same-origin posts with the session cookie.
      const seeded = await page.evaluate(async (key) => {
        const post = async (path, body) => {
          const r = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
          if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
          return r.json();
        };
        const { experiment_id: exp } = await post(`/p/${key}/api/2.0/mlflow/experiments/create`, { name: 'palette' });
        const { run } = await post(`/p/${key}/api/2.0/mlflow/runs/create`, { experiment_id: exp, run_name: 'zesty-heron-7', start_time: Date.now() });
        await post(`/api/v1/projects/${key}/goals`, { metric: 'perplexity', comparator: 'at most', threshold: 12, experiment: 'palette' });
        return run.info.run_id;
      }, KEY);
      await page.goto(url(`/p/${KEY}/backlog`));
      await page.keyboard.press(`${mod}+k`);
      await page.keyboard.type('heron');
      await page.getByRole('option', { name: /Run\s*zesty-heron-7/ }).waitFor();
      await page.keyboard.press('Enter');
      await page.waitForURL((u) => u.pathname === `/p/${KEY}/runs/${seeded}`);
      await page.keyboard.press(`${mod}+k`);
      await page.keyboard.type('perplex');
      await page.getByRole('option', { name: /Goal\s*.*perplexity/ }).waitFor();
      await page.keyboard.press('Enter');
      await page.waitForURL((u) => u.pathname === `/p/${KEY}/goals`);
    });

    await step('the palette reads in the dark theme, and Escape closes it', async () => {
      await page.goto(url(`/p/${KEY}/backlog`));
      await page.keyboard.press('t');
      await page.keyboard.press(`${mod}+k`);
      await page.keyboard.type('Prune');
      await page.getByRole('option', { name: /Prune attention heads/ }).waitFor();
      await page.screenshot({ path: join(shots, 'keys-palette-other-theme.png') });
      await page.keyboard.press('Escape');
      await page.locator('#palette').waitFor({ state: 'hidden' });
      await page.keyboard.press('t');
    });

    await step('"?" lists the shortcuts', async () => {
      await page.goto(url(`/p/${KEY}/backlog`));
      await page.keyboard.press('?');
      const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
      await help.waitFor();
      const text = await help.textContent();
      for (const d of ['Find a page, item, run or goal', "Focus the page's search or filter box", 'New item',
        'Next and previous row or card', 'Open the current row or card', 'Go to projects', 'Go to your inbox',
        'Project overview', 'Backlog', 'Board', 'Sprints', 'Experiments', 'Runs', 'Goals', 'Show this help']) {
        assert.ok(text.includes(d), `the help lists "${d}"`);
      }
      await page.screenshot({ path: join(shots, 'keys-help.png') });
      await page.keyboard.press('Escape');
    });

    await b.finish();
  } catch (err) {
    throw await b.failed(err);
  } finally {
    await b.close();
  }
});
