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

module.exports = { test, expect: base.expect, login, PASSWORD };
