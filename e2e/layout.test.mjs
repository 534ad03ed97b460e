// Browser test of room for data and charts at a glance, at a 1,400 px
// viewport on the demo project (BAL, which flow.test.mjs created): the runs
// table, compare, backlog and flow board do not overflow the window; run
// names take at most two lines and dates one; the runs table shows linked
// items and tracking experiments by name, and its name search filters on
// the server; the board shows its five columns (or marks the side that
// hides more); an item with two goals draws them side by side, legends
// show values rather than "--"; the closed sprint says when it closed.
// Screenshots of each page go to e2e/artifacts/layout/ to be looked at.
//
// Driven by e2e/e2e_test.go, which sets TRELLIS_URL and a user of this
// file's own (an instance admin, so it may read the demo project).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BASE, USER, PASSWORD, url, openBrowser } from './browser.mjs';

const KEY = 'BAL';
const shots = join(dirname(fileURLToPath(import.meta.url)), 'artifacts', 'layout');

test('trellis: data pages fit 1,400 px, charts read at a glance', { timeout: 180_000 }, async (t) => {
  assert.ok(BASE && USER && PASSWORD, 'TRELLIS_URL, TRELLIS_E2E_USER and TRELLIS_E2E_PASSWORD must be set');
  mkdirSync(shots, { recursive: true });
  const b = await openBrowser(t, 'layout', { width: 1400, height: 900 });
  const { page, step } = b;
  const shot = (name, opts = {}) => page.screenshot({ path: join(shots, `${name}.png`), ...opts });
  // noOverflow: the page itself never scrolls sideways.
  const noOverflow = async (what) => {
    const m = await page.evaluate(() => ({ sw: document.scrollingElement.scrollWidth, cw: document.scrollingElement.clientWidth }));
    assert.ok(m.sw <= m.cw, `${what}: the page is ${m.sw} px wide in a ${m.cw} px window`);
  };
  // lines is how many lines of text an element takes.
  const lines = (loc) => loc.evaluate((el) => {
    const range = document.createRange();
    range.selectNodeContents(el);
    const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
    return tops.size;
  });
  const names = () => page.locator('#runs-table tbody td.run-name');

  try {
    await step('sign in', async () => {
      await b.signIn();
    });

    await step('runs table: full width, no clipping, names on one or two lines', async () => {
      await page.goto(url(`/p/${KEY}/runs`));
      await page.locator('#runs-table').waitFor();
      await noOverflow('runs table');
      const wrap = page.locator('#runs-table').locator('xpath=..');
      const box = await wrap.evaluate((el) => ({ sw: el.scrollWidth, cw: el.clientWidth, marked: el.getAttribute('data-overflow') }));
      assert.ok(box.sw <= box.cw, `the runs table is ${box.sw} px wide in its ${box.cw} px box`);
      assert.equal(box.marked, null, 'a table that fits is not marked as hiding columns');
      const main = await page.locator('#main').boundingBox();
      assert.ok(main.x + main.width >= 1400 - 2, `the main column reaches the window's edge (${main.x + main.width})`);
      const n = await names().count();
      assert.ok(n >= 5, `demo runs shown: ${n}`);
      for (let i = 0; i < n; i++) {
        const cell = names().nth(i);
        assert.ok((await lines(cell.locator('a'))) <= 2, `run name "${(await cell.textContent()).trim()}" takes more than two lines`);
        assert.equal(await lines(page.locator('#runs-table tbody tr').nth(i).locator('td.nowrap')), 1, 'the start date takes one line');
      }
      await shot('runs-table');
    });

    await step('runs table: linked items and experiment names', async () => {
      const items = page.locator('#runs-table tbody [data-items] a');
      assert.ok((await items.count()) >= 5, 'linked items are links');
      for (const key of await items.allTextContents()) assert.match(key, /^BAL-\d+$/);
      const first = items.first();
      assert.equal(await first.getAttribute('href'), `/p/${KEY}/items/${(await first.textContent()).trim()}`);
      const exps = (await page.locator('#runs-table tbody [data-experiment]').allTextContents()).map((s) => s.trim());
      assert.ok(exps.length > 0 && exps.every((e) => e !== '' && !/^\d+$/.test(e)), `experiments by name: ${exps}`);
      assert.ok(exps.includes('balloon-detector'), `the demo's experiment: ${exps}`);
    });

    await step('the name search filters on the server', async () => {
      const all = await names().count();
      await page.locator('#run-name').fill('1024PX');
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      await page.waitForURL((u) => u.searchParams.get('name') === '1024PX');
      const found = (await names().allTextContents()).map((s) => s.trim());
      assert.ok(found.length > 0 && found.length < all, `"1024PX" found ${found.length} of ${all}`);
      assert.ok(found.every((s) => s.toLowerCase().includes('1024px')), `every run found has 1024px in its name: ${found}`);
      assert.equal(await page.locator('#run-name').inputValue(), '1024PX', 'the search is kept in its box');
      await page.locator('#run-name').fill('');
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      await page.waitForURL((u) => !u.searchParams.get('name'));
      assert.equal(await names().count(), all);
    });

    await step('compare: no clipping', async () => {
      const boxes = page.locator('#runs-table tbody input[type=checkbox]');
      await boxes.nth(0).check();
      await boxes.nth(1).check();
      await boxes.nth(2).check();
      await page.getByRole('button', { name: /Compare selected/ }).click();
      await page.waitForURL((u) => u.pathname.endsWith('/runs/compare'));
      await page.locator('figure[data-compare-chart] canvas, figure[data-compare-chart] .hbars').first().waitFor();
      await noOverflow('compare');
      const legend = (await page.locator('figure[data-compare-chart] .u-legend .u-value').allTextContents()).map((s) => s.trim());
      assert.ok(!legend.includes('--'), `compare legends show values: ${legend}`);
      await shot('compare', { fullPage: true });
    });

    await step('backlog: no clipping', async () => {
      await page.goto(url(`/p/${KEY}/backlog`));
      await page.locator('#main table').first().waitFor();
      await noOverflow('backlog');
    });

    await step('flow board: five columns fit, or the hidden side is marked', async () => {
      await page.goto(url(`/p/${KEY}/board`));
      const cols = page.locator('.board-columns').first();
      await cols.waitFor();
      await noOverflow('board');
      const m = await cols.evaluate((el) => ({ sw: el.scrollWidth, cw: el.clientWidth, marked: el.getAttribute('data-overflow'),
        n: el.querySelectorAll('.board-column').length }));
      assert.ok(m.n >= 5, `the flow board has ${m.n} columns`);
      if (m.sw > m.cw) assert.match(m.marked || '', /right/, 'a board wider than the window fades its right edge');
      else {
        const box = await cols.boundingBox();
        for (const c of await cols.locator('.board-column').all()) {
          const cb = await c.boundingBox();
          assert.ok(cb.x + cb.width <= box.x + box.width + 1, 'every column is in view');
        }
      }
      await shot('board');
    });

    await step('the flow board marks hidden columns when the window is narrow', async () => {
      await page.setViewportSize({ width: 1000, height: 900 });
      await page.waitForFunction(() => document.querySelector('.board-columns')?.getAttribute('data-overflow') === 'right');
      await page.locator('.board-columns').first().evaluate((el) => { el.scrollLeft = el.scrollWidth; el.dispatchEvent(new Event('scroll')); });
      await page.waitForFunction(() => document.querySelector('.board-columns')?.getAttribute('data-overflow') === 'left');
      await page.setViewportSize({ width: 1400, height: 900 });
    });

    await step('an item with two goals: the charts side by side, values in the legends', async () => {
      await page.goto(url(`/p/${KEY}/backlog`));
      await page.getByRole('link', { name: 'Higher input resolution (1024 px)', exact: true }).click();
      const cards = page.locator('[data-goal-charts] .goal-chart');
      await cards.nth(1).waitFor();
      const [a, c] = [await cards.nth(0).boundingBox(), await cards.nth(1).boundingBox()];
      assert.ok(Math.abs(a.y - c.y) < 2 && c.x > a.x + a.width - 1, 'two goals are side by side');
      const charts = await page.locator('[data-goal-charts]').boundingBox();
      assert.ok(charts.height < 700, `the goal charts take ${charts.height} px`);
      const legend = (await page.locator('[data-goal-charts] .u-legend .u-value').allTextContents()).map((s) => s.trim());
      assert.ok(!legend.includes('--'), `goal legends show values: ${legend}`);
      await page.locator('#goals').scrollIntoViewIfNeeded();
      await page.locator('#goals').screenshot({ path: join(shots, 'item-goals.png') });
    });

    await step('the sprints: a burndown with a point per day, the closed sprint\'s end', async () => {
      await page.goto(url(`/p/${KEY}/sprints`));
      assert.match(await page.locator('tr', { hasText: 'Sprint 6' }).textContent(), /closed \d{1,2} \w{3} \d{4}/);
      await page.getByRole('link', { name: 'Sprint 7', exact: true }).click();
      await page.locator('#burn canvas').waitFor();
      const legend = (await page.locator('#burn .u-legend .u-value').allTextContents()).map((s) => s.trim());
      assert.ok(!legend.includes('--') && legend.some((v) => /latest/.test(v)), `burndown legend: ${legend}`);
      const burn = JSON.parse(await page.locator('[data-burn]').getAttribute('data-burn'));
      const past = burn.remaining;
      assert.ok(past.length >= 2 && past.every((v) => v != null), `a remaining point for every day so far: ${past}`);
      await page.locator('#burn').screenshot({ path: join(shots, 'burndown.png') });
    });

    await b.finish();
  } catch (err) {
    throw await b.failed(err);
  } finally {
    await b.close();
  }
});
