// Shared helpers: every test talks to the server global-setup.js started.
const base = require('@playwright/test');

/**
 * Resolves once everything the app fetched or kept is written to IndexedDB
 * (`body[data-cache-saved]` is set by the query cache, `body[data-local-saved]` by drafts and
 * favourites; each is "false" while a write waits or runs). Pages that are not
 * the hydrated app (about:blank, a browser error page) have nothing to wait for.
 */
async function savedOnDevice(page, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    let state;
    try {
      state = await page.evaluate(() => {
        if (!document.body || document.body.dataset.hydrated !== 'true') return 'none';
        const { cacheSaved, localSaved } = document.body.dataset;
        return cacheSaved === 'false' || localSaved === 'false' ? 'false' : 'none';
      });
    } catch (_) {
      return; // the page is navigating: nothing of it is ours to wait for
    }
    if (state !== 'false') return;
    if (Date.now() > deadline) throw new Error('the app did not finish saving its queries on the device');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const test = base.test.extend({
  baseURL: async ({}, use) => { await use(process.env.CARE_BASE_URL); },
  // A health worker does not reload within the moment between a page showing its data and
  // that data reaching IndexedDB; a test does. Full page loads first let the save finish,
  // so a test that goes offline afterwards reads what a person would have saved.
  page: async ({ page }, use) => {
    for (const name of ['goto', 'reload']) {
      const original = page[name].bind(page);
      page[name] = async (...args) => {
        await savedOnDevice(page);
        return original(...args);
      };
    }
    await use(page);
  },
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
async function apiToken(request, username = 'care-doctor', origin = '') {
  const resp = await request.post(`${origin}/api/v1/auth/login/`, { data: { username, password: PASSWORD } });
  base.expect(resp.status()).toBe(200);
  return (await resp.json()).access;
}

/** The server's patients called exactly `name` (`origin`: a server other than the shared one). */
async function patientsNamed(request, token, name, origin = '') {
  const resp = await request.get(`${origin}/api/v1/patient/?name=${encodeURIComponent(name)}&limit=50`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  return (await resp.json()).results.filter((p) => p.name === name);
}

/**
 * On the registration form: picks a state and district, so the area lists down to the
 * local bodies are fetched (and saved on the device for offline registrations).
 */
async function loadAreaLists(page) {
  await page.getByLabel('State').selectOption({ label: 'Kerala' });
  await page.getByLabel('District').selectOption({ label: 'Ernakulam' });
  await base.expect(page.getByLabel('Local body')).toBeVisible();
}

/** Fills the patient registration form (the page shows it). */
async function fillRegistration(page, name, phone) {
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Phone number').fill(phone);
  await page.getByLabel('Female').check();
  await page.getByRole('textbox', { name: 'Date of birth' }).fill('1991-03-04');
  await page.getByLabel('Address', { exact: true }).fill('Fort Kochi');
  await page.getByLabel('State').selectOption({ label: 'Kerala' });
  await page.getByLabel('District').selectOption({ label: 'Ernakulam' });
  await page.getByLabel('Pincode').fill('682001');
}

module.exports = {
  test, expect: base.expect, login, swControls, apiToken, savedOnDevice, patientsNamed, fillRegistration, loadAreaLists, PASSWORD,
};
