const { test, expect, login, swControls } = require('./fixtures');

/** Every record of every store, per CARE Offline database, read straight from IndexedDB. */
async function readAllDatabases(page) {
  return page.evaluate(async () => {
    const out = {};
    for (const { name } of await indexedDB.databases()) {
      // The user databases (the vault's own holds only wrapped keys).
      if (!name.startsWith('care-offline-') || name === 'care-offline-vault') continue;
      const db = await new Promise((res, rej) => {
        const r = indexedDB.open(name);
        r.onsuccess = () => res(r.result);
        r.onerror = () => rej(r.error);
      });
      out[name] = {};
      for (const store of db.objectStoreNames) {
        out[name][store] = await new Promise((res, rej) => {
          const r = db.transaction(store).objectStore(store).getAll();
          r.onsuccess = () => res(r.result);
          r.onerror = () => rej(r.error);
        });
      }
      db.close();
    }
    return out;
  });
}

test('the facility home reloads offline from the device, with the saved-at notice', async ({ page, context }) => {
  await login(page);
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await expect(page.getByTestId('saved-at')).toHaveCount(0);
  await swControls(page);
  await page.reload();
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await context.setOffline(true);
  await page.reload();
  await expect(page.getByTestId('connectivity')).toHaveText('Offline');
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await expect(page.getByTestId('saved-at')).toContainText(/Offline — showing data saved at \d{1,2}:\d{2}/);
  await context.setOffline(false);
  // Back online: the probe confirms the server and the page refetches.
  await expect(page.getByTestId('connectivity')).toHaveText('Online', { timeout: 20_000 });
  await expect(page.getByTestId('saved-at')).toHaveCount(0);
});

test('each user has their own database; signing out wipes the cached data', async ({ page }) => {
  await login(page, 'care-doctor');
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await expect.poll(async () => {
    const dbs = await readAllDatabases(page);
    return Object.values(dbs).map((d) => d.queries.length).reduce((a, b) => a + b, 0);
  }).toBeGreaterThan(0);
  const doctorDbs = Object.keys(await readAllDatabases(page));
  expect(doctorDbs).toHaveLength(1);
  const [doctorDb] = doctorDbs;
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect.poll(async () => (await readAllDatabases(page))[doctorDb].queries.length).toBe(0);

  const nurseSignIn = Date.now();
  await login(page, 'care-nurse');
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await expect.poll(async () => Object.keys(await readAllDatabases(page)).length).toBe(2);
  const nurseDb = Object.keys(await readAllDatabases(page)).find((n) => n !== doctorDb);
  await expect.poll(async () => (await readAllDatabases(page))[nurseDb].queries.length).toBeGreaterThan(0);
  const dbs = await readAllDatabases(page);
  expect(dbs[doctorDb].queries).toEqual([]);
  // Nothing of the doctor's session is in the nurse's database either: everything in it
  // was fetched in the nurse's own session (the doctor's name may be there, as one of the
  // practitioners the nurse books with).
  expect(dbs[nurseDb].queries.every((q) => q.updated_at >= nurseSignIn)).toBe(true);
  // The outbox store exists beside the cache and is not the cache's to clear.
  expect(dbs[nurseDb]).toHaveProperty('outbox');
});

test.describe('captive portal', () => {
  test.use({ serviceWorkers: 'block' });

  test('a /health that answers HTML 200 means offline', async ({ page }) => {
    await login(page);
    await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
    await expect(page.getByTestId('connectivity')).toHaveText('Online');
    const portal = (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<html><body>Sign in to Clinic Wi-Fi</body></html>' });
    await page.route('**/health', portal);
    await page.route('**/api/**', portal);
    await page.reload();
    await expect(page.getByTestId('connectivity')).toHaveText('Offline');
    await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
    await expect(page.getByTestId('saved-at')).toBeVisible();
    await page.unrouteAll();
  });
});
