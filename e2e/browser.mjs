// What every browser test file shares: the server under test, the user the
// Go driver made for the file, a Chromium launched the way this machine
// needs, the checks every page visit must pass (no script error, no 5xx, no
// Content-Security-Policy violation), and a screenshot with the page's HTML
// in e2e/artifacts/ when a step fails.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const artifactsDir = join(dirname(fileURLToPath(import.meta.url)), 'artifacts');

/** The server under test, without a trailing slash (TRELLIS_URL). */
export const BASE = (process.env.TRELLIS_URL || '').replace(/\/+$/, '');
/** The user e2e_test.go created for this file, and its password. */
export const USER = process.env.TRELLIS_E2E_USER || '';
export const PASSWORD = process.env.TRELLIS_E2E_PASSWORD || '';
const CHROMIUM = process.env.TRELLIS_E2E_CHROMIUM || '/usr/bin/chromium';

// Flags this machine needs: no sandbox as root, and no background traffic
// (the network is closed, so Chromium's own connections would only fail).
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** url returns the absolute URL of a path on the server under test. */
export const url = (path) => BASE + path;

/**
 * openBrowser starts Chromium on a fresh profile for test t. name prefixes
 * the failure artifacts. Use it as
 *   const b = await openBrowser(t, 'name'); const { page, step } = b;
 *   try { ...await step('...', async () => {...}); await b.finish(); }
 *   catch (err) { throw await b.failed(err); } finally { await b.close(); }
 */
export async function openBrowser(t, name, { width = 1400, height = 900, acceptDownloads = false } = {}) {
  // launchPersistentContext is how Playwright takes an explicit --user-data-dir.
  const profileDir = mkdtempSync(join(tmpdir(), `trellis-e2e-${name}-`));
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width, height }, acceptDownloads,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15_000);
  const pageErrors = [];
  const serverErrors = [];
  const cspViolations = [];
  page.on('pageerror', (err) => pageErrors.push(`${page.url()}: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text())) cspViolations.push(msg.text());
  });
  page.on('response', (resp) => {
    if (resp.status() >= 500 && resp.url().startsWith(BASE)) serverErrors.push(`${resp.status()} ${resp.url()}`);
  });
  let stepName = '(start)';
  return {
    page,
    /** step runs one named step; a failure names it. */
    async step(title, fn) {
      stepName = title;
      t.diagnostic(`step: ${title}`);
      await fn();
    },
    /** signIn signs in as user on the login page. */
    async signIn(user = USER, password = PASSWORD) {
      await page.goto(url('/login'));
      await page.getByLabel('Username', { exact: true }).fill(user);
      await page.getByLabel('Password', { exact: true }).fill(password);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.locator('#user-menu').filter({ hasText: user }).waitFor();
    },
    /** createProject creates project key named name on /projects/new and waits for its page. */
    async createProject(key, name) {
      await page.goto(url('/projects/new'));
      await page.getByLabel('Project key', { exact: true }).fill(key);
      await page.getByLabel('Name', { exact: true }).fill(name);
      await page.getByRole('button', { name: 'Create project', exact: true }).click();
      await page.waitForURL((u) => u.pathname.startsWith(`/p/${key}`));
    },
    /** finish checks what every page visit must have kept to. */
    async finish() {
      stepName = '(end checks)';
      assert.deepEqual(pageErrors, [], 'uncaught JavaScript errors in pages');
      assert.deepEqual(serverErrors, [], 'server answered 5xx');
      assert.deepEqual(cspViolations, [], 'Content-Security-Policy violations');
    },
    /** failed saves the failure artifacts and returns err naming its step. */
    async failed(err) {
      try {
        mkdirSync(artifactsDir, { recursive: true });
        const stamp = new Date().toISOString().replace(/[:.]/g, '-');
        const slug = stepName.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60) || 'step';
        const base = join(artifactsDir, `${name}-${stamp}-${slug}`);
        await page.screenshot({ path: `${base}.png`, fullPage: true });
        writeFileSync(`${base}.html`, `<!-- ${page.url()} -->\n${await page.content()}`);
        t.diagnostic(`failure artifacts: ${base}.png, ${base}.html (url ${page.url()})`);
      } catch (e) {
        t.diagnostic(`could not save failure artifacts: ${e}`);
      }
      if (err instanceof Error) err.message = `[${stepName}] ${err.message}`;
      return err;
    },
    /** close closes the browser and removes its profile. */
    async close() {
      await context.close().catch(() => {});
      rmSync(profileDir, { recursive: true, force: true });
    },
  };
}
