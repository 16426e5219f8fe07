// Shared helpers: every test talks to the server global-setup.js started.
const base = require('@playwright/test');

const test = base.test.extend({
  baseURL: async ({}, use) => { await use(process.env.CARE_BASE_URL); },
});

const PASSWORD = 'Ohcn@123';

/** Signs in through the login form (which needs the wasm: it proves hydration). */
async function login(page, username = 'care-doctor', password = PASSWORD) {
  await page.goto('/login');
  await base.expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Resolves once the service worker controls the page. */
async function swControls(page) {
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
    }
  });
}

/** An access token from the API (as another user, on another device, would get one). */
async function apiToken(request, username = 'care-doctor') {
  const resp = await request.post('/api/v1/auth/login/', { data: { username, password: PASSWORD } });
  base.expect(resp.status()).toBe(200);
  return (await resp.json()).access;
}

module.exports = { test, expect: base.expect, login, swControls, apiToken, PASSWORD };
