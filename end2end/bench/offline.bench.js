// Figures for the issue notes, printed as JSON lines:
// 1. offline reload with 5,000 persisted queries: time to first data paint, longest task;
// 2. enqueue + optimistic update of an offline registration (p50/p95 over 30);
// 3. drain of 1,000 queued writes against the built-in backend.
const { test, expect, login, swControls } = require('../tests/fixtures');

async function userDb(page) {
  return page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name).find((n) => n.startsWith('care-offline-')));
}

async function putAll(page, dbName, store, records) {
  await page.evaluate(async ({ dbName, store, records }) => {
    const db = await new Promise((res, rej) => { const r = indexedDB.open(dbName); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
    await new Promise((res, rej) => {
      const tx = db.transaction(store, 'readwrite');
      for (const rec of records) tx.objectStore(store).put(rec);
      tx.oncomplete = res; tx.onerror = () => rej(tx.error);
    });
    db.close();
  }, { dbName, store, records });
}

async function offlineReload(page, context) {
  await context.setOffline(true);
  await page.reload();
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital', { timeout: 120_000 });
  const paint = await page.evaluate(() => performance.now());
  await page.waitForTimeout(300);
  const longest = await page.evaluate(() => window.__longest || 0);
  await context.setOffline(false);
  return { firstDataPaintMs: Math.round(paint), longestTaskMs: Math.round(longest) };
}

test('restore of 5,000 persisted queries', async ({ page, context }) => {
  // The longest main-thread block from the start of every load, measured as the largest gap
  // between 10 ms heartbeats (headless Chromium reports no longtask entries).
  await page.addInitScript(() => {
    window.__longest = 0;
    let last = performance.now();
    setInterval(() => {
      const now = performance.now();
      window.__longest = Math.max(window.__longest, now - last - 10);
      last = now;
    }, 10);
  });
  await login(page);
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await swControls(page);
  await page.reload();
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  const baseline = await offlineReload(page, context);
  const dbName = await userDb(page);
  const now = Date.now();
  const records = [];
  for (let i = 0; i < 5000; i++) {
    const key = ['patient', 'detail', `bench-${i}`];
    const data = { id: `bench-${i}`, name: `Bench Patient ${i}`, gender: 'female', phone_number: '+919800000000', address: 'x'.repeat(200) };
    records.push({ key: JSON.stringify(key), schema: 1, updated_at: now, payload: JSON.stringify({ key, data }) });
  }
  await putAll(page, dbName, 'queries', records);
  const loaded = await offlineReload(page, context);
  console.log(JSON.stringify({ bench: 'offline reload', queries: 1, ...baseline }));
  console.log(JSON.stringify({ bench: 'offline reload', queries: 5001, ...loaded }));
});

test('enqueue + optimistic update, and a drain of 1,000 writes', async ({ page, context }) => {
  await login(page);
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await swControls(page);
  await page.getByRole('link', { name: 'Patients' }).click();
  await expect(page.getByTestId('patient-list').locator('li')).toHaveCount(14);
  await page.getByRole('link', { name: 'Register patient' }).click();
  await page.getByLabel('State').selectOption({ label: 'Kerala' });
  await page.getByLabel('District').selectOption({ label: 'Ernakulam' });
  await expect(page.getByLabel('Local body')).toBeVisible();
  await page.waitForTimeout(300); // the area lists are saved on the device a moment after they load
  const registerUrl = page.url();
  const geo = await page.locator('select[name="geo_level_1"]').inputValue();
  await context.setOffline(true);
  const times = [];
  for (let i = 0; i < 30; i++) {
    await page.goto(registerUrl);
    await page.getByLabel('Name').fill(`Enqueue Bench ${i}`);
    await page.getByLabel('Phone number').fill('+919812340000');
    await page.getByLabel('Female').check();
    await page.getByRole('textbox', { name: 'Date of birth' }).fill('1990-01-01');
    await page.getByLabel('Address', { exact: true }).fill('Bench');
    await page.getByLabel('State').selectOption({ label: 'Kerala' });
    await page.getByLabel('District').selectOption({ label: 'Ernakulam' });
    const t0 = await page.evaluate(() => performance.now());
    await page.getByRole('button', { name: 'Register patient' }).click();
    await expect(page.getByTestId('unsynced-badge')).toBeVisible();
    times.push((await page.evaluate(() => performance.now())) - t0);
  }
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({ bench: 'enqueue+optimistic (click to badge)', n: times.length,
    p50Ms: Math.round(times[14]), p95Ms: Math.round(times[28]), maxMs: Math.round(times[29]) }));

  const total = await drain(page, context, geo, 1000);
  console.log(JSON.stringify({ bench: 'drain 1,000 queued writes (+30 from above), sync/push', totalMs: total, perWriteMs: +(total / 1030).toFixed(1) }));
});

/** Writes `count` queued creates straight into the outbox (offline), then times the drain. */
async function drain(page, context, geo, count) {
  const dbName = await userDb(page);
  const userId = dbName.replace('care-offline-', '');
  const now = Date.now();
  const writes = [];
  for (let i = 0; i < count; i++) {
    writes.push({
      id: crypto.randomUUID(), userId, deviceId: 'bench', syncRouteKey: 'patient.create', type: 'CREATE',
      resourceType: 'patient', pathParams: {},
      payload: { name: `Drain ${now} ${i}`, gender: 'male', phone_number: '+919812341111', date_of_birth: '1980-02-02',
        address: 'Bench', permanent_address: 'Bench', geo_organization: geo },
      response: null, parentMutationIds: [], tempId: `drain-${now}-${i}`, clientTimestamp: now + i, serverTimestamp: null,
      baseSnapshot: null, lastAttemptAt: null, nextAttemptAt: null, syncStatus: 'pending', lastError: null, retries: 0,
      conflictData: null, queryRouteKey: null, queryParams: {}, leaseUntil: null, syncedAt: null, resolution: null,
    });
  }
  await putAll(page, dbName, 'outbox', writes);
  // Tell the app (as another tab would) and wait until it counts them.
  await page.evaluate(() => { const c = new BroadcastChannel('care-offline-outbox'); c.postMessage('changed'); c.close(); });
  await expect.poll(async () => {
    const m = (await page.getByTestId('sync-badge').textContent()).match(/(\d+) to sync/);
    return m ? Number(m[1]) : 0;
  }, { timeout: 60_000 }).toBeGreaterThanOrEqual(count);
  const t0 = Date.now();
  await context.setOffline(false);
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced', { timeout: 600_000 });
  return Date.now() - t0;
}

test('a drain of 1,000 writes one request each (the server refuses sync/push)', async ({ page, context }) => {
  await page.route('**/api/v1/sync/push', (route) => route.fulfill({
    status: 404, contentType: 'application/json', body: JSON.stringify({ detail: 'Not found.' }),
  }));
  await login(page);
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await page.getByRole('link', { name: 'Patients' }).click();
  await page.getByRole('link', { name: 'Register patient' }).click();
  await page.getByLabel('State').selectOption({ label: 'Kerala' });
  await page.getByLabel('District').selectOption({ label: 'Ernakulam' });
  await expect(page.getByLabel('Local body')).toBeVisible();
  const geo = await page.locator('select[name="geo_level_1"]').inputValue();
  await context.setOffline(true);
  await expect(page.getByTestId('connectivity')).toHaveText('Offline');
  const total = await drain(page, context, geo, 1000);
  console.log(JSON.stringify({ bench: 'drain 1,000 queued writes, one request each', totalMs: total, perWriteMs: +(total / 1000).toFixed(1) }));
});
