// Shared tablets: everything kept for a user is sealed by their vault; the Lock button and
// the idle timer lock every tab; the password unlocks offline; someone else can sign in
// from the lock screen without seeing anything of the locked user.
const {
  test, expect, login, swControls, fillRegistration, loadAreaLists, apiToken, patientsNamed,
} = require('./fixtures');

/** Every record of every store of every CARE Offline database, and localStorage, as text. */
async function rawDeviceText(page) {
  return page.evaluate(async () => {
    const parts = [JSON.stringify(localStorage), JSON.stringify(sessionStorage)];
    for (const { name } of await indexedDB.databases()) {
      if (!name.startsWith('care-offline-')) continue;
      const db = await new Promise((res, rej) => {
        const r = indexedDB.open(name);
        r.onsuccess = () => res(r.result);
        r.onerror = () => rej(r.error);
      });
      for (const store of db.objectStoreNames) {
        const all = await new Promise((res, rej) => {
          const r = db.transaction(store).objectStore(store).getAll();
          r.onsuccess = () => res(r.result);
          r.onerror = () => rej(r.error);
        });
        parts.push(JSON.stringify(all));
      }
      db.close();
    }
    for (const key of await caches.keys()) {
      const cache = await caches.open(key);
      for (const request of await cache.keys()) {
        if (request.url.includes('/api/')) parts.push(`cached api answer ${request.url}`);
      }
    }
    return parts.join('\n');
  });
}

/** Online once: the patient list and the registration form's area lists are on the device. */
async function readyToRegisterOffline(page) {
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await swControls(page);
  await page.getByRole('link', { name: 'Patients' }).click();
  await expect(page.getByTestId('patient-list').locator('li').first()).toBeVisible();
  await page.getByRole('link', { name: 'Register patient' }).click();
  await loadAreaLists(page);
  await page.reload();
}

test('nothing of a patient is on the device in clear, before or after sign-out', async ({ page, context }) => {
  const name = `Vaultname ${Date.now()}`;
  const phone = `+9198${String(Date.now()).slice(-8)}`;
  await login(page);
  await readyToRegisterOffline(page);
  // A listed patient, as the cache holds it.
  const listed = await page.evaluate(async () => {
    const token = localStorage.getItem('care_access_token');
    const list = await (await fetch('/api/v1/patient/?limit=1', { headers: { Authorization: `Bearer ${token}` } })).json();
    return { name: list.results[0].name, phone: list.results[0].phone_number };
  });
  await context.setOffline(true);
  await page.reload();
  await fillRegistration(page, name, phone);
  await page.getByRole('button', { name: 'Register patient' }).click();
  await expect(page.getByTestId('patient-name')).toHaveText(name);
  await expect(page.getByTestId('sync-badge')).toHaveText('1 to sync');

  const signedIn = await rawDeviceText(page);
  for (const secret of [name, phone, phone.slice(3), listed.name, listed.phone]) {
    expect(signedIn, `"${secret}" on the device in clear`).not.toContain(secret);
  }
  expect(signedIn).not.toContain('cached api answer');

  page.on('dialog', (d) => d.accept());
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  const signedOut = await rawDeviceText(page);
  for (const secret of [name, phone, phone.slice(3), listed.name, listed.phone]) {
    expect(signedOut, `"${secret}" left on the device in clear`).not.toContain(secret);
  }
  // The unsynced write is still there for its owner (sealed), as the sign-in page says.
  await expect(page.getByTestId('waiting-writes')).toContainText('1 change saved on this device');
});

test('locked by the button in every tab; unlocked offline with the password, the queued write syncs once', async ({ page, context, request }) => {
  const name = `Lockreg ${Date.now()}`;
  await login(page);
  await readyToRegisterOffline(page);
  const other = await context.newPage();
  await other.goto(new URL(page.url()).pathname.replace(/\/patients\/new$/, ''));
  await expect(other.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');

  await context.setOffline(true);
  await page.reload();
  await fillRegistration(page, name, '+919812345671');
  await page.getByRole('button', { name: 'Register patient' }).click();
  await expect(page.getByTestId('sync-badge')).toHaveText('1 to sync');

  await page.getByTestId('lock').click();
  await expect(page.getByTestId('lock-screen')).toBeVisible();
  await expect(page.getByTestId('patient-name')).toHaveCount(0);
  await expect(other.getByTestId('lock-screen')).toBeVisible({ timeout: 5_000 });
  await expect(other.getByTestId('facility-name')).toHaveCount(0);
  // A reload does not open it either: the keys left the device's open copy.
  await page.reload();
  await expect(page.getByTestId('lock-screen')).toBeVisible();
  await expect(page.getByTestId('lock-screen')).toContainText("Hemal Prabhakar's data on this device is locked");

  // Offline: a wrong password does not open it, the right one does.
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(page.getByRole('alert')).toHaveText("that password does not open this device's data");
  await page.getByLabel('Password').fill('Ohcn@123');
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(page.getByTestId('lock-screen')).toHaveCount(0);
  await expect(page.getByTestId('patient-name')).toHaveText(name);
  await expect(page.getByTestId('sync-badge')).toHaveText('1 to sync');
  // The other tab follows.
  await expect(other.getByTestId('lock-screen')).toHaveCount(0, { timeout: 5_000 });
  await other.close();

  await context.setOffline(false);
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced', { timeout: 30_000 });
  expect(await patientsNamed(request, await apiToken(request), name)).toHaveLength(1);
});

test('someone else signs in from the lock screen and sees nothing of the locked user', async ({ page, context }) => {
  const name = `Lockother ${Date.now()}`;
  await login(page);
  await readyToRegisterOffline(page);
  await context.setOffline(true);
  await page.reload();
  await fillRegistration(page, name, '+919812345672');
  await page.getByRole('button', { name: 'Register patient' }).click();
  await expect(page.getByTestId('sync-badge')).toHaveText('1 to sync');
  await page.getByTestId('lock').click();
  await context.setOffline(false);

  await page.getByRole('button', { name: 'Sign in as someone else' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByTestId('waiting-writes')).toContainText("waiting for Hemal Prabhakar's sign-in");
  await login(page, 'care-nurse');
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced');
  await page.getByRole('link', { name: 'Patients' }).click();
  await expect(page.getByTestId('patient-list').locator('li').first()).toBeVisible();
  await expect(page.getByTestId('patient-list')).not.toContainText(name);

  // The doctor's write waited, sealed, and goes once they sign in again.
  page.on('dialog', (d) => d.accept());
  await page.getByRole('button', { name: 'Sign out' }).click();
  await login(page);
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced', { timeout: 30_000 });
});

test('the idle lock closes the vault after the chosen time untouched', async ({ page }) => {
  await page.clock.install();
  await login(page);
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await page.getByRole('link', { name: 'Sync status' }).click();
  await page.getByTestId('idle-lock').locator('select').selectOption('5');
  expect(await page.evaluate(() => localStorage.getItem('care_offline_idle_lock_minutes'))).toBe('5');
  await page.clock.fastForward('04:00');
  await expect(page.getByTestId('lock-screen')).toHaveCount(0);
  await page.clock.fastForward('01:30');
  await expect(page.getByTestId('lock-screen')).toBeVisible();
  await page.getByLabel('Password').fill('Ohcn@123');
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(page.getByTestId('lock-screen')).toHaveCount(0);
  await expect(page.getByRole('heading', { name: 'Sync status' })).toBeVisible();
});
