const { test, expect, login } = require('./fixtures');

test('care-doctor signs in and sees the facility home, hydrated', async ({ page }) => {
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await login(page);
  await expect(page).toHaveURL(/\/facility\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await expect(page.getByTestId('home-user')).toHaveText('Hemal Prabhakar');
  await expect(page.getByTestId('signed-in-user')).toHaveText('Hemal Prabhakar');
  // A client-side navigation: the wasm router handles it without a page load.
  await page.evaluate(() => { window.__samePage = true; });
  await page.getByRole('link', { name: 'Sync status' }).click();
  await expect(page.getByRole('heading', { name: 'Sync status' })).toBeVisible();
  expect(await page.evaluate(() => window.__samePage)).toBe(true);
  await expect(page.getByRole('link', { name: 'Sync status' })).toHaveAttribute('aria-current', 'page');
  expect(errors).toEqual([]);
});

test('a wrong password shows CARE\'s error and keeps the username', async ({ page }) => {
  await login(page, 'care-doctor', 'not-the-password');
  await expect(page.getByRole('alert')).toHaveText('No active account found with the given credentials');
  await expect(page.getByLabel('Username')).toHaveValue('care-doctor');
  await expect(page.getByLabel('Password')).toHaveValue('');
  await expect(page).toHaveURL(/\/login$/);
});

test('guessing a password is slowed down, said plainly, and the username is kept', async ({ page }) => {
  const username = `nobody-${Date.now()}`; // its own username: no one else is slowed down
  await page.goto('/login');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  for (let i = 0; i < 5; i += 1) {
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(`guess-${i}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert')).toHaveText('No active account found with the given credentials');
  }
  await page.getByLabel('Password').fill('guess-5');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText(/^Too many failed sign-ins\. Try again in \d+ seconds\.$/);
  await expect(page.getByLabel('Username')).toHaveValue(username);
});

test('an unreachable server is reported plainly at login', async ({ page, context }) => {
  await page.goto('/login');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await context.setOffline(true);
  await page.getByLabel('Username').fill('care-doctor');
  await page.getByLabel('Password').fill('Ohcn@123');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText('Cannot reach the server. Check the connection and try again.');
  await context.setOffline(false);
});

test('the session survives a reload; signing out forgets it', async ({ page }) => {
  await login(page, 'care-nurse');
  await expect(page.getByTestId('home-user')).toHaveText('Anjali Menon');
  const home = page.url();
  await page.reload();
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  const stored = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('care_')));
  expect(stored).toEqual([]);
  await page.goto(home);
  await expect(page).toHaveURL(/\/login$/);
});

test('a session CARE no longer accepts sends the user to sign in again', async ({ page }) => {
  await login(page);
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await page.evaluate(() => {
    localStorage.setItem('care_access_token', 'expired.access.token');
    localStorage.setItem('care_refresh_token', 'expired.refresh.token');
  });
  await page.reload();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByTestId('session-ended')).toHaveText('Your session has ended. Please sign in again.');
});

test('after a visit, an offline reload still shows the app', async ({ page, context }) => {
  await login(page);
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
    }
  });
  // Visit once more now that the worker controls the page, so this route is in its cache.
  await page.reload();
  await expect(page.getByTestId('signed-in-user')).toHaveText('Hemal Prabhakar');
  await context.setOffline(true);
  const response = await page.reload();
  expect(response.fromServiceWorker()).toBe(true);
  expect(response.headers()['x-sw-cache']).toBe('hit');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.getByTestId('signed-in-user')).toHaveText('Hemal Prabhakar');
  await expect(page.getByRole('link', { name: 'Patients' })).toBeVisible();
  // No API response was put in Cache Storage.
  const cachedApi = await page.evaluate(async () => {
    const urls = [];
    for (const name of await caches.keys()) {
      for (const req of await (await caches.open(name)).keys()) urls.push(req.url);
    }
    return urls.filter((u) => u.includes('/api/'));
  });
  expect(cachedApi).toEqual([]);
  await context.setOffline(false);
});

test('an unvisited page offline says it is not available, not a browser error', async ({ page, context }) => {
  await login(page);
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await page.evaluate(() => navigator.serviceWorker.ready);
  await context.setOffline(true);
  await page.goto('/no-such-page');
  await expect(page.getByRole('heading', { name: 'This page is not available offline' })).toBeVisible();
  await context.setOffline(false);
});
