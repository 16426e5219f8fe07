const {
  test, expect, login, swControls, apiToken, PASSWORD, patientsNamed, fillRegistration, loadAreaLists,
} = require('./fixtures');

test('registering online creates the patient once and opens it', async ({ page, request }) => {
  const name = `Online Reg ${Date.now()}`;
  await login(page);
  await page.getByRole('link', { name: 'Patients' }).click();
  await page.getByRole('link', { name: 'Register patient' }).click();
  await fillRegistration(page, name, '+919812345601');
  await page.getByRole('button', { name: 'Register patient' }).click();
  await expect(page.getByTestId('patient-name')).toHaveText(name);
  await expect(page.getByTestId('unsynced-badge')).toHaveCount(0);
  expect(await patientsNamed(request, await apiToken(request), name)).toHaveLength(1);
});

test('the form says what is wrong and keeps what was typed', async ({ page }) => {
  await login(page);
  await page.getByRole('link', { name: 'Patients' }).click();
  await page.getByRole('link', { name: 'Register patient' }).click();
  await page.getByLabel('Name').fill('Kept Name');
  await page.getByLabel('Phone number').fill('12345');
  await page.getByRole('button', { name: 'Register patient' }).click();
  await expect(page.getByText('Enter a valid phone number with country code')).toBeVisible();
  await expect(page.getByText('Choose a gender.')).toBeVisible();
  await expect(page.getByText("Choose the patient's area.")).toBeVisible();
  await expect(page.getByLabel('Name')).toHaveValue('Kept Name');
  // Errors are linked to their fields, not read as part of the field's name.
  const phone = page.getByLabel('Phone number', { exact: true });
  await expect(phone).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator(`#${await phone.getAttribute('aria-describedby')}`))
    .toHaveText('Enter a valid phone number with country code, e.g. +919876543210.');
  await expect(page.getByLabel('Name')).toHaveAttribute('aria-invalid', 'false');
  await expect(page.getByLabel('Name')).toHaveAttribute('required', '');
  await expect(page.getByLabel('Pincode')).not.toHaveAttribute('required', '');
  // Editing the address while the permanent one is "the same" says so.
  await expect(page.getByTestId('address-same-note')).toBeVisible();
  await page.getByLabel('Permanent address is the same').uncheck();
  await expect(page.getByTestId('address-same-note')).toHaveCount(0);
});

test('a patient registered offline shows at once, then syncs exactly once', async ({ page, context, request }) => {
  const name = `Offline Reg ${Date.now()}`;
  await login(page);
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await swControls(page);
  // Online once: the list and the form's area lists are cached on the device.
  await page.getByRole('link', { name: 'Patients' }).click();
  await expect(page.getByTestId('patient-list').locator('li')).toHaveCount(14);
  await page.getByRole('link', { name: 'Register patient' }).click();
  await loadAreaLists(page);
  await page.reload();

  await context.setOffline(true);
  await page.reload();
  await expect(page.getByTestId('connectivity')).toHaveText('Offline');
  await fillRegistration(page, name, '+919812345602');
  await page.getByRole('button', { name: 'Register patient' }).click();

  await expect(page.getByTestId('patient-name')).toHaveText(name);
  await expect(page.getByTestId('unsynced-badge')).toHaveText('Saved on this device — will sync');
  await expect(page.getByTestId('sync-badge')).toHaveText('1 to sync');
  await page.getByRole('link', { name: '← Patients' }).click();
  const first = page.getByTestId('patient-list').locator('li').first();
  await expect(first).toContainText(name);
  await expect(first.getByTestId('unsynced-badge')).toBeVisible();
  // It survives a reload while still offline.
  await page.reload();
  await expect(page.getByTestId('patient-list').locator('li').first()).toContainText(name);
  await expect(page.getByTestId('sync-badge')).toHaveText('1 to sync');

  await context.setOffline(false);
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced', { timeout: 30_000 });
  await expect(page.getByTestId('patient-list').locator('li').first()).toContainText(name);
  await expect(page.getByTestId('patient-list').getByTestId('unsynced-badge')).toHaveCount(0);
  const onServer = await patientsNamed(request, await apiToken(request), name);
  expect(onServer).toHaveLength(1);

  await page.getByTestId('sync-badge').click();
  await expect(page.getByTestId('section-synced').getByTestId('write-row')).toContainText(name);
  await expect(page.getByTestId('last-sync')).toContainText('Last synced at');
});

test('an offline edit that meets a change made online becomes a conflict, resolved in the dialog', async ({ page, context, request }) => {
  await login(page);
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await swControls(page);
  await page.getByRole('link', { name: 'Patients' }).click();
  await page.getByTestId('patient-list').locator('li a').nth(5).click();
  await expect(page.getByTestId('patient-facts')).toBeVisible();
  const id = page.url().split('/').pop();
  await page.getByRole('link', { name: 'Edit' }).click();
  await expect(page.getByLabel('Name')).not.toHaveValue('');
  const original = await page.getByLabel('Name').inputValue();

  await context.setOffline(true);
  const mine = `${original} Mine`;
  await page.getByLabel('Name').fill(mine);
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByTestId('patient-name')).toHaveText(mine);
  await expect(page.getByTestId('unsynced-badge')).toHaveText('Saved on this device — will sync');

  // Meanwhile the nurse changes the same patient online.
  const token = await apiToken(request, 'care-nurse');
  const auth = { Authorization: `Bearer ${token}` };
  const current = await (await request.get(`/api/v1/patient/${id}/`, { headers: auth })).json();
  const theirs = {
    name: `${original} Theirs`, gender: current.gender, phone_number: current.phone_number,
    address: 'New address from the nurse', permanent_address: current.permanent_address,
    pincode: current.pincode, date_of_birth: current.date_of_birth, blood_group: current.blood_group,
    geo_organization: current.geo_organization.id,
  };
  expect((await request.put(`/api/v1/patient/${id}/`, { headers: auth, data: theirs })).status()).toBe(200);

  await context.setOffline(false);
  await expect(page.getByTestId('sync-badge')).toHaveText('1 need attention', { timeout: 30_000 });
  await expect(page.getByTestId('unsynced-badge')).toHaveText('Conflict — see Sync status');
  // Nothing was overwritten.
  let server = await (await request.get(`/api/v1/patient/${id}/`, { headers: auth })).json();
  expect(server.name).toBe(`${original} Theirs`);

  await page.getByTestId('sync-badge').click();
  const row = page.getByTestId('section-conflicts').getByTestId('write-row');
  await expect(row).toContainText('Edit patient');
  await row.getByRole('button', { name: 'Resolve' }).click();
  const dialog = page.getByTestId('merge-dialog');
  await expect(dialog).toContainText(mine);
  await expect(dialog).toContainText(`${original} Theirs`);
  // Fields as the form named them, and each choice says its field and side.
  await expect(dialog.getByRole('rowheader', { name: 'Name', exact: true })).toBeVisible();
  await expect(dialog.getByText('permanent_address')).toHaveCount(0);
  await expect(dialog.getByRole('radio', { name: `Name: keep mine (${mine})` })).toBeChecked();
  await expect(dialog.getByRole('radio', { name: `Name: keep the server's (${original} Theirs)` })).not.toBeChecked();
  await dialog.getByRole('button', { name: 'Save my choices' }).click();
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced', { timeout: 30_000 });
  server = await (await request.get(`/api/v1/patient/${id}/`, { headers: auth })).json();
  expect(server.name).toBe(mine);
  expect(server.address).toBe('New address from the nurse');
  await expect(page.getByTestId('section-synced').getByTestId('write-row').first()).toContainText('resolution CLIENT_WINS');
  // A synced write is on the server: nothing to discard.
  await expect(page.getByTestId('section-synced').getByRole('button', { name: 'Discard' })).toHaveCount(0);
});

test('a write whose session ended waits for sign-in, then is sent once', async ({ page, context, request }) => {
  const name = `Needs Auth ${Date.now()}`;
  await login(page);
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await swControls(page);
  await page.getByRole('link', { name: 'Patients' }).click();
  await page.getByRole('link', { name: 'Register patient' }).click();
  await loadAreaLists(page);
  await context.setOffline(true);
  await page.reload();
  await fillRegistration(page, name, '+919812345603');
  await page.getByRole('button', { name: 'Register patient' }).click();
  await expect(page.getByTestId('unsynced-badge')).toBeVisible();
  // The session expires while offline.
  await page.evaluate(() => {
    localStorage.setItem('care_access_token', 'expired.access.token');
    localStorage.setItem('care_refresh_token', 'expired.refresh.token');
  });
  await page.reload();
  await context.setOffline(false);
  await expect(page).toHaveURL(/\/login$/, { timeout: 30_000 });
  await expect(page.getByTestId('session-ended')).toHaveText('Your session has ended. Please sign in again.');
  const token = await apiToken(request);
  expect(await patientsNamed(request, token, name)).toHaveLength(0);

  await page.getByLabel('Username').fill('care-doctor');
  await page.getByLabel('Password').fill('Ohcn@123');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced', { timeout: 30_000 });
  expect(await patientsNamed(request, token, name)).toHaveLength(1);
});

test('two open tabs send each queued write once', async ({ page, context, request }) => {
  const name = `Two Tabs ${Date.now()}`;
  await login(page);
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await swControls(page);
  await page.getByRole('link', { name: 'Patients' }).click();
  await page.getByRole('link', { name: 'Register patient' }).click();
  await loadAreaLists(page);
  const second = await context.newPage();
  await second.goto(page.url().replace(/\/patients\/new$/, '/sync'));
  await expect(second.getByTestId('last-sync')).toBeVisible();

  await context.setOffline(true);
  await page.reload();
  await fillRegistration(page, name, '+919812345604');
  await page.getByRole('button', { name: 'Register patient' }).click();
  await expect(page.getByTestId('unsynced-badge')).toBeVisible();
  // The other tab hears about it.
  await expect(second.getByTestId('section-pending').getByTestId('write-row')).toContainText(name);

  await context.setOffline(false);
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced', { timeout: 30_000 });
  await expect(second.getByTestId('sync-badge')).toHaveText('All synced', { timeout: 30_000 });
  expect(await patientsNamed(request, await apiToken(request), name)).toHaveLength(1);
});

test('a phone number that already has patients is flagged on the form', async ({ page, request }) => {
  const token = await apiToken(request);
  const list = await (await request.get('/api/v1/patient/?limit=1', { headers: { Authorization: `Bearer ${token}` } })).json();
  const existing = list.results[0];
  await login(page);
  await page.getByRole('link', { name: 'Patients' }).click();
  await page.getByRole('link', { name: 'Register patient' }).click();
  await page.getByLabel('Phone number').fill(existing.phone_number);
  await expect(page.getByTestId('same-phone')).toContainText(existing.name);
});

test('CARE ends the session while a registration waits: the sign-in page says so, another user is told it stays, the owner\'s sign-in sends it once', async ({ page, context, request }) => {
  const name = `Waiting Reg ${Date.now()}`;
  const nurseToken = await apiToken(request, 'care-nurse');
  const me = await (await request.get('/api/v1/users/getcurrentuser/', { headers: { Authorization: `Bearer ${nurseToken}` } })).json();
  const nurse = `${me.first_name} ${me.last_name}`.trim() || me.username;
  await login(page, 'care-nurse');
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await swControls(page);
  await page.getByRole('link', { name: 'Patients' }).click();
  await expect(page.getByTestId('patient-list').locator('li')).toHaveCount(14);
  await page.getByRole('link', { name: 'Register patient' }).click();
  await loadAreaLists(page);
  await page.reload();
  await context.setOffline(true);
  await page.reload();
  await expect(page.getByTestId('connectivity')).toHaveText('Offline');
  await fillRegistration(page, name, '+919812345607');
  await page.getByRole('button', { name: 'Register patient' }).click();
  await expect(page.getByTestId('patient-name')).toHaveText(name);
  await expect(page.getByTestId('sync-badge')).toHaveText('1 to sync');

  // Meanwhile the nurse's session is revoked (signed out elsewhere, or by an administrator).
  const tokens = await page.evaluate(() => ({
    access: localStorage.getItem('care_access_token'), refresh: localStorage.getItem('care_refresh_token'),
  }));
  const out = await request.post('/api/v1/auth/logout/', { headers: { Authorization: `Bearer ${tokens.access}` }, data: tokens });
  expect(out.status()).toBe(200);

  await context.setOffline(false);
  await expect(page).toHaveURL(/\/login$/, { timeout: 30_000 });
  await expect(page.getByTestId('session-ended')).toBeVisible();
  const waiting = page.getByTestId('waiting-writes');
  await expect(waiting).toContainText(`1 change saved on this device is waiting for ${nurse}'s sign-in.`);
  await expect(waiting.getByTestId('waiting-kinds')).toHaveText('1 × Register patient');
  const token = await apiToken(request);
  expect(await patientsNamed(request, token, name)).toHaveLength(0);

  // The next person on the tablet is told the change stays with its owner ...
  await page.getByLabel('Username').fill('care-doctor');
  await expect(waiting.getByTestId('waiting-other-user')).toContainText(`They stay on this device for ${nurse}`);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await expect(page.getByTestId('waiting-writes')).toContainText(`waiting for ${nurse}'s sign-in`);
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced');
  expect(await patientsNamed(request, token, name)).toHaveLength(0);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByTestId('waiting-writes')).toContainText(`waiting for ${nurse}'s sign-in`);

  // ... and the owner's sign-in sends it, once.
  await login(page, 'care-nurse');
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced', { timeout: 30_000 });
  await expect(page.getByTestId('waiting-writes')).toHaveCount(0);
  expect(await patientsNamed(request, token, name)).toHaveLength(1);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByTestId('waiting-writes')).toHaveCount(0);
});

test.describe('lost responses', () => {
  // Route interception needs requests to come from the page, not the service worker.
  test.use({ serviceWorkers: 'block' });

  test('a write that may have reached CARE waits for the person: "It is there" and "Send again"', async ({ page, request }) => {
    const stamp = Date.now();
    const saved = `Maybe Saved ${stamp}`;
    const notSaved = `Maybe Not ${stamp}`;
    const keys = [];
    // The server answers as our proxy does when CARE's answer to a write was lost after
    // CARE read it (502 upstream_answer_lost), and then, for the retry with the same key,
    // 409 idempotency_outcome_unknown. The first registration did reach CARE, the second
    // did not.
    await page.route('**/api/v1/patient/', async (route) => {
      const req = route.request();
      if (req.method() !== 'POST') return route.continue();
      const name = req.postDataJSON().name;
      const key = req.headers()['idempotency-key'];
      keys.push([name, key]);
      const first = keys.find(([n]) => n === name)[1];
      if (key !== first) return route.continue(); // "Send again": a new key
      if (keys.filter(([n]) => n === name).length === 1) {
        if (name === saved) await route.fetch();
        return route.fulfill({
          status: 502, headers: { 'x-care-offline-proxy': '1' },
          json: { code: 'upstream_answer_lost', source: 'care-offline-proxy', detail: "CARE's answer was lost on the way." },
        });
      }
      return route.fulfill({
        status: 409,
        json: { code: 'idempotency_outcome_unknown', source: 'care-offline-proxy',
          detail: 'This change was sent to CARE but its answer was never received: it may have been saved. Check CARE before sending it again.' },
      });
    });
    page.on('dialog', (d) => d.accept());
    await login(page);
    for (const [name, phone] of [[saved, '+919812345611'], [notSaved, '+919812345612']]) {
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Patients' }).click();
      await page.getByRole('link', { name: 'Register patient' }).click();
      await fillRegistration(page, name, phone);
      await page.getByRole('button', { name: 'Register patient' }).click();
      await expect(page.getByTestId('patient-name')).toHaveText(name);
      await expect(page.getByTestId('unsynced-badge')).toHaveText('May have reached CARE — see Sync status');
    }
    await expect(page.getByTestId('sync-badge')).toHaveText('2 need attention');
    await page.getByTestId('sync-badge').click();
    const section = page.getByTestId('section-may-have-reached-care');
    const rowOf = (name) => section.getByTestId('write-row').filter({ hasText: name });
    await expect(rowOf(saved).getByTestId('may-have-reached-care')).toContainText('CARE may have saved it');
    await expect(rowOf(saved).getByRole('link', { name: 'Check in CARE' })).toBeVisible();
    await expect(rowOf(saved).getByRole('button', { name: 'Discard' })).toHaveCount(0);

    // The first is in CARE: the person says so, and nothing is sent again.
    await rowOf(saved).getByRole('button', { name: 'It is there' }).click();
    // The second is not: sent again, with a new key.
    await rowOf(notSaved).getByRole('button', { name: 'Send again' }).click();
    await expect(page.getByTestId('sync-badge')).toHaveText('All synced', { timeout: 30_000 });
    const token = await apiToken(request);
    expect(await patientsNamed(request, token, saved)).toHaveLength(1);
    expect(await patientsNamed(request, token, notSaved)).toHaveLength(1);
    const sent = (name) => keys.filter(([n]) => n === name).map(([, k]) => k);
    // Each: the direct POST, its retry with the same key; the second once more, with a new key.
    expect(sent(saved)).toHaveLength(2);
    expect(new Set(sent(saved)).size).toBe(1);
    expect(sent(notSaved)).toHaveLength(3);
    expect(sent(notSaved)[2]).not.toBe(sent(notSaved)[0]);
  });

  test('a new patient CARE saved without an answer is found in CARE and its record adopted', async ({ page, request }) => {
    const name = `Found Later ${Date.now()}`;
    let first = null;
    // CARE saves the registration, but its answer is lost; the retry learns only that the
    // outcome is unknown.
    await page.route('**/api/v1/patient/', async (route) => {
      const req = route.request();
      if (req.method() !== 'POST' || req.postDataJSON().name !== name) return route.continue();
      const key = req.headers()['idempotency-key'];
      if (first === null) {
        first = key;
        await route.fetch();
        return route.fulfill({
          status: 502, headers: { 'x-care-offline-proxy': '1' },
          json: { code: 'upstream_answer_lost', source: 'care-offline-proxy', detail: "CARE's answer was lost on the way." },
        });
      }
      return route.fulfill({
        status: 409,
        json: { code: 'idempotency_outcome_unknown', source: 'care-offline-proxy', detail: 'Check CARE.' },
      });
    });
    await login(page);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Patients' }).click();
    await page.getByRole('link', { name: 'Register patient' }).click();
    await fillRegistration(page, name, '+919812345641');
    await page.getByRole('button', { name: 'Register patient' }).click();
    await expect(page.getByTestId('unsynced-badge')).toHaveText('May have reached CARE — see Sync status');
    const tempUrl = page.url();
    const token = await apiToken(request);
    const [inCare] = await patientsNamed(request, token, name);
    expect(inCare).toBeTruthy();

    await page.getByTestId('sync-badge').click();
    const row = page.getByTestId('section-may-have-reached-care').getByTestId('write-row').filter({ hasText: name });
    await row.getByRole('button', { name: 'Find it in CARE' }).click();
    await row.getByRole('button', { name: `This is ${name}` }).click();
    await expect(page.getByTestId('sync-badge')).toHaveText('All synced');
    const synced = page.getByTestId('section-synced').getByTestId('write-row').filter({ hasText: name });
    await synced.getByRole('button', { name: 'Details' }).click();
    await expect(synced).toContainText(inCare.id);
    // Nothing was sent again, and the patient's page on this device now shows CARE's record.
    expect(await patientsNamed(request, token, name)).toHaveLength(1);
    await page.goto(tempUrl);
    await expect(page.getByTestId('patient-name')).toHaveText(name);
    await expect(page.getByTestId('unsynced-badge')).toHaveCount(0);
  });

  test('an edit whose answer was lost after CARE saved it is not a conflict with itself', async ({ page, request }) => {
    await login(page);
    await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
    await page.getByRole('link', { name: 'Patients' }).click();
    await page.getByTestId('patient-list').locator('li a').nth(7).click();
    await expect(page.getByTestId('patient-facts')).toBeVisible();
    const id = page.url().split('/').pop();
    await page.getByRole('link', { name: 'Edit' }).click();
    await expect(page.getByLabel('Name')).not.toHaveValue('');
    const renamed = `${await page.getByLabel('Name').inputValue()} Once`;
    let dropped = 0;
    await page.route(`**/api/v1/patient/${id}/**`, async (route) => {
      if (route.request().method() === 'PUT' && dropped === 0) {
        dropped += 1;
        await route.fetch(); // CARE applies the edit (its modified_date moves on) ...
        await route.abort('connectionreset'); // ... and the answer never arrives.
        return;
      }
      await route.continue();
    });
    await page.getByLabel('Name').fill(renamed);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect(page.getByTestId('patient-name')).toHaveText(renamed);
    await expect(page.getByTestId('sync-badge')).toHaveText('All synced', { timeout: 30_000 });
    expect(dropped).toBe(1);
    const token = await apiToken(request);
    const onServer = await (await request.get(`/api/v1/patient/${id}/`, { headers: { Authorization: `Bearer ${token}` } })).json();
    expect(onServer.name).toBe(renamed);
    await page.getByTestId('sync-badge').click();
    await expect(page.getByTestId('section-conflicts').getByTestId('write-row')).toHaveCount(0);
  });

  test('a registration whose answer was lost after CARE saved it is still saved once', async ({ page, request }) => {
    const name = `Lost Answer ${Date.now()}`;
    await login(page);
    await page.getByRole('link', { name: 'Patients' }).click();
    await page.getByRole('link', { name: 'Register patient' }).click();
    let dropped = 0;
    await page.route('**/api/v1/patient/', async (route) => {
      if (route.request().method() === 'POST' && dropped === 0) {
        dropped += 1;
        await route.fetch(); // CARE receives and commits it ...
        await route.abort('connectionreset'); // ... and the answer never arrives.
        return;
      }
      await route.continue();
    });
    await fillRegistration(page, name, '+919812345605');
    await page.getByRole('button', { name: 'Register patient' }).click();
    await expect(page.getByTestId('patient-name')).toHaveText(name);
    // One lost answer on a working line: the app probes at once, so it is back online and
    // the write is resent long before the 30 s regular probe would have noticed.
    await expect(page.getByTestId('connectivity')).toHaveText('Online', { timeout: 5_000 });
    await expect(page.getByTestId('sync-badge')).toHaveText('All synced', { timeout: 12_000 });
    expect(dropped).toBe(1);
    expect(await patientsNamed(request, await apiToken(request), name)).toHaveLength(1);
  });
});

test('a queued write this version cannot read is listed, kept and downloadable, never skipped', async ({ page, request }) => {
  const token = await apiToken(request);
  const me = await (await request.get('/api/v1/users/getcurrentuser/', { headers: { Authorization: `Bearer ${token}` } })).json();
  await login(page);
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced');
  // A write left by another version of the app, in a shape this one does not know.
  const write = { id: `from-next-version-${Date.now()}`, userId: me.id, syncStatus: 'from_the_future', payload: { name: 'Kept Name' } };
  await page.evaluate(async ({ db, record }) => {
    await new Promise((resolve, reject) => {
      const open = indexedDB.open(db);
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const tx = open.result.transaction('outbox', 'readwrite');
        tx.objectStore('outbox').put(record);
        tx.oncomplete = () => { open.result.close(); resolve(); };
        tx.onerror = () => reject(tx.error);
      };
    });
  }, { db: `care-offline-${me.id}`, record: write });
  await page.reload();
  await expect(page.getByTestId('sync-badge')).toHaveText('1 need attention');
  await page.getByTestId('sync-badge').click();
  const row = page.getByTestId('section-unreadable').getByTestId('unreadable-row');
  await expect(row).toContainText(write.id);
  const link = row.getByRole('link', { name: 'Download' });
  await expect(link).toHaveAttribute('download', `care-offline-write-${write.id}.json`);
  expect(decodeURIComponent((await link.getAttribute('href')).split(',')[1])).toContain('"Kept Name"');
  // Still on the device after a sync pass.
  await page.getByRole('button', { name: 'Sync now' }).click();
  await page.reload();
  await expect(page.getByTestId('section-unreadable').getByTestId('unreadable-row')).toContainText(write.id);
});
