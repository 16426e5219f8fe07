const { test, expect, login, swControls, apiToken } = require('./fixtures');

test('patient list and a patient reload offline with the saved-at notice', async ({ page, context }) => {
  await login(page);
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await swControls(page);
  await page.getByRole('link', { name: 'Patients' }).click();
  const list = page.getByTestId('patient-list');
  await expect(list.locator('li')).toHaveCount(14);
  const first = list.locator('li a').first();
  const name = await first.textContent();
  await first.click();
  await expect(page.getByTestId('patient-name')).toHaveText(name);
  const detailUrl = page.url();
  // Load both routes once under the worker so their shells are cached.
  await page.reload();
  await expect(page.getByTestId('patient-name')).toHaveText(name);
  await page.getByRole('link', { name: '← Patients' }).click();
  await expect(list.locator('li')).toHaveCount(14);
  await page.reload();
  await expect(list.locator('li')).toHaveCount(14);

  await context.setOffline(true);
  await page.reload();
  await expect(page.getByTestId('connectivity')).toHaveText('Offline');
  await expect(list.locator('li')).toHaveCount(14);
  await expect(page.getByTestId('saved-at')).toContainText('Offline — showing data saved at');
  await page.goto(detailUrl);
  await expect(page.getByTestId('patient-name')).toHaveText(name);
  await expect(page.getByTestId('saved-at')).toBeVisible();
  await expect(page.getByTestId('patient-facts')).toContainText('Phone');
  // Dates read one way ("11 Mar 1987"), and the permanent address is shown.
  await expect(page.getByTestId('patient-facts')).toContainText(/Date of birth\s*(\d{1,2} [A-Z][a-z]{2} \d{4}|—)/);
  await expect(page.getByTestId('patient-facts')).not.toContainText(/\d{4}-\d{2}-\d{2}/);
  await expect(page.getByTestId('patient-facts')).toContainText('Permanent address');
  await context.setOffline(false);
});

test('a patient never opened on this device says it is not available offline', async ({ page, context, request }) => {
  await login(page);
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await swControls(page);
  await page.getByRole('link', { name: 'Patients' }).click();
  const list = page.getByTestId('patient-list');
  await expect(list.locator('li')).toHaveCount(14);
  const firstHref = await list.locator('li a').first().getAttribute('href');
  await page.goto(firstHref);
  await expect(page.getByTestId('patient-facts')).toBeVisible();
  // Another patient, never opened here: same route shape, so the shell is cached.
  const token = await apiToken(request, 'care-doctor');
  const page2 = await request.get('/api/v1/patient/?limit=20&offset=100', { headers: { Authorization: `Bearer ${token}` } });
  const other = (await page2.json()).results[0];
  await context.setOffline(true);
  await page.goto(firstHref.replace(/[^/]+$/, other.id));
  await expect(page.getByTestId('unavailable-offline')).toContainText(
    'Not available offline: this was not opened on this device while online.');
  // It says what to do about it, with a link that works offline.
  await expect(page.getByTestId('get-ready-hint').getByRole('link', { name: 'Get ready for offline' })).toBeVisible();
  await context.setOffline(false);
});

test('a change made by another user appears after focus and after refresh', async ({ page, request }) => {
  await login(page);
  await page.getByRole('link', { name: 'Patients' }).click();
  const list = page.getByTestId('patient-list');
  await expect(list.locator('li')).toHaveCount(14);
  await list.locator('li a').nth(3).click();
  await expect(page.getByTestId('patient-facts')).toBeVisible();
  const id = page.url().split('/').pop();

  // The nurse, elsewhere, edits the patient.
  const token = await apiToken(request, 'care-nurse');
  const auth = { Authorization: `Bearer ${token}` };
  const current = await (await request.get(`/api/v1/patient/${id}/`, { headers: auth })).json();
  const renamed = `${current.name} Updated`;
  const body = {
    name: renamed, gender: current.gender, phone_number: current.phone_number,
    address: current.address, permanent_address: current.permanent_address, pincode: current.pincode,
    date_of_birth: current.date_of_birth, blood_group: current.blood_group,
    geo_organization: current.geo_organization.id,
  };
  const put = await request.put(`/api/v1/patient/${id}/`, { headers: auth, data: body });
  expect(put.status()).toBe(200);

  // Returning to the window refetches (seed 002).
  await page.evaluate(() => window.dispatchEvent(new Event('focus')));
  await expect(page.getByTestId('patient-name')).toHaveText(renamed);

  // And the manual refresh control picks up the next change.
  const again = await request.put(`/api/v1/patient/${id}/`, { headers: auth, data: { ...body, name: `${renamed} Twice` } });
  expect(again.status()).toBe(200);
  await page.getByRole('button', { name: 'Refresh' }).click();
  await expect(page.getByTestId('patient-name')).toHaveText(`${renamed} Twice`);
});
