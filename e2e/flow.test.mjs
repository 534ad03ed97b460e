// End-to-end browser flow for Trellis.
//
// Driven by e2e/e2e_test.go, which builds and starts a fresh server and sets:
//   TRELLIS_URL        base URL, e.g. http://127.0.0.1:41234
//   TRELLIS_SETUP_URL  the one-time setup URL printed by the server
// Optional:
//   TRELLIS_E2E_CHROMIUM  browser binary (default /usr/bin/chromium)
//
// Run by hand: cd e2e && TRELLIS_URL=... TRELLIS_SETUP_URL=... node --test flow.test.mjs
// On failure a screenshot and the page HTML are written to e2e/artifacts/.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, url, openBrowser } from './browser.mjs';

const SETUP_URL = process.env.TRELLIS_SETUP_URL || '';

const USERNAME = 'admin';
const PASSWORD = 'Tr3llis-e2e-Passw0rd'; // 20 characters
assert.equal(PASSWORD.length, 20);

test('trellis: setup, sign in/out, project, API token', { timeout: 180_000 }, async (t) => {
  assert.ok(BASE, 'TRELLIS_URL must be set (e.g. http://127.0.0.1:8080)');
  assert.ok(SETUP_URL, 'TRELLIS_SETUP_URL must be set (the one-time /setup?token=... URL)');

  const b = await openBrowser(t, 'flow', { width: 1280 });
  const { page, step } = b;
  page.setDefaultNavigationTimeout(30_000);

  try {
    const signedInAs = async (name) => {
      await page.locator('#user-menu').filter({ hasText: name }).waitFor({ state: 'visible' });
    };

    const signOut = async () => {
      const button = page.getByRole('button', { name: 'Sign out', exact: true });
      // Tolerate a user menu that has to be opened first.
      if (!(await button.isVisible())) await page.locator('#user-menu').click();
      await button.click();
      await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor({ state: 'visible' });
    };

    const fillLogin = async (username, password) => {
      await page.getByLabel('Username', { exact: true }).fill(username);
      await page.getByLabel('Password', { exact: true }).fill(password);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    };

    await step('a. one-time setup creates the admin and signs in', async () => {
      const resp = await page.goto(SETUP_URL);
      assert.ok(resp, 'no response for setup URL');
      assert.equal(resp.status(), 200, `setup page status for ${SETUP_URL}`);
      await page.getByLabel('Username', { exact: true }).fill(USERNAME);
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByLabel('Confirm password', { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: 'Create admin', exact: true }).click();
      await signedInAs(USERNAME);
    });

    await step('b. sign out, wrong password rejected, sign in again', async () => {
      await signOut();
      await fillLogin(USERNAME, PASSWORD + 'x');
      await page.getByText('Invalid username or password').waitFor({ state: 'visible' });
      assert.equal(await page.locator('#user-menu').filter({ hasText: USERNAME }).count(), 0,
        'must not be signed in after a wrong password');
      await fillLogin(USERNAME, PASSWORD);
      await signedInAs(USERNAME);
    });

    await step('c. the demo project exists; create project HAB', async () => {
      // Setup's "Create a demo project" box is ticked by default: BAL is the demo.
      await page.goto(url('/projects'));
      await page.getByRole('link', { name: 'Balloon detector' }).first().waitFor({ state: 'visible' });
      await page.goto(url('/projects/new'));
      await page.getByLabel('Project key', { exact: true }).fill('HAB');
      await page.getByLabel('Name', { exact: true }).fill('Balloons');
      await page.getByLabel('Description', { exact: true }).fill('Hot air, carefully tracked.');
      await page.getByRole('button', { name: 'Create project', exact: true }).click();
      await page.waitForURL((u) => /\/p\/HAB(\/|$)/.test(u.pathname));
      await page.getByText('Balloons').first().waitFor({ state: 'visible' });

      await page.goto(url('/projects'));
      await page.getByRole('link', { name: 'Balloons' }).first().waitFor({ state: 'visible' });
    });

    await step('d. create a read token and use it on the API', async () => {
      await page.goto(url('/account'));
      await page.getByLabel('Token name', { exact: true }).fill('ci');
      await page.getByLabel('Scope', { exact: true }).selectOption('read');
      await page.getByRole('button', { name: 'Create token', exact: true }).click();

      // #new-token may be a text element or an <input>; accept either.
      const tokenText = async () => page.locator('#new-token').evaluate((el) =>
        `${'value' in el && typeof el.value === 'string' ? el.value : ''} ${el.textContent ?? ''}`);
      await page.locator('#new-token').waitFor({ state: 'attached' });
      await page.waitForFunction(() => {
        const el = document.querySelector('#new-token');
        if (!el) return false;
        return /trl_/.test(`${typeof el.value === 'string' ? el.value : ''} ${el.textContent ?? ''}`);
      });
      const m = (await tokenText()).match(/(?:^|\s)(trl_\S+)/);
      assert.ok(m, `#new-token should contain a token starting with trl_, got: ${await tokenText()}`);
      const token = m[1];

      const withToken = await fetch(url('/api/v1/me'), {
        headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
      });
      const body = await withToken.text();
      assert.equal(withToken.status, 200, `GET /api/v1/me with token: ${body}`);
      let json;
      assert.doesNotThrow(() => { json = JSON.parse(body); }, `/api/v1/me did not return JSON: ${body}`);
      assert.equal(json?.user?.name, USERNAME, `/api/v1/me body: ${body}`);

      const anonymous = await fetch(url('/api/v1/me'), { headers: { Accept: 'application/json' } });
      await anonymous.arrayBuffer();
      assert.equal(anonymous.status, 401, 'GET /api/v1/me without a token');
    });

    await step('e. the setup URL is single-use', async () => {
      const resp = await page.goto(SETUP_URL);
      const status = resp ? resp.status() : 0;
      const text = (await page.locator('body').innerText().catch(() => '')) || '';
      assert.ok(
        status === 404 || status === 410 || /already/i.test(text),
        `setup URL still usable: status ${status}, page text: ${text.slice(0, 300)}`,
      );
      assert.equal(
        await page.getByRole('button', { name: 'Create admin', exact: true }).count(), 0,
        'setup form must not be offered again',
      );
    });

    await step('f. signed out, protected pages redirect to /login', async () => {
      await page.goto(url('/account'));
      await signedInAs(USERNAME);
      await signOut();
      await page.goto(url('/projects'));
      await page.waitForURL((u) => u.pathname === '/login');
    });

    await b.finish();
  } catch (err) {
    throw await b.failed(err);
  } finally {
    await b.close();
  }
});
