const { test, expect, login } = require('./fixtures');

async function swControls(page) {
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
    }
  });
}

async function apiToken(request, username = 'care-doctor') {
  const resp = await request.post('/api/v1/auth/login/', { data: { username, password: 'Ohcn@123' } });
  return (await resp.json()).access;
}

async function patientsNamed(request, token, name) {
  const resp = await request.get(`/api/v1/patient/?name=${encodeURIComponent(name)}&limit=50`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  return (await resp.json()).results.filter((p) => p.name === name);
}

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
  await page.getByLabel('State').selectOption({ label: 'Kerala' });
  await page.getByLabel('District').selectOption({ label: 'Ernakulam' });
  await expect(page.getByLabel('Local body')).toBeVisible();
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
