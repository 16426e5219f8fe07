// Patient identifiers the facility asks for (the instance's ABHA number, the demo hospital's
// own hospital number): checked on the form, shown on the profile, and — when CARE finds one
// already taken at sync time — put back on the right field to correct, then sent once.
const { test, expect, login, swControls, apiToken, loadAreaLists } = require('./fixtures');

const MRN = '5d2a9e47-8b1c-4f3a-b6d0-7c4e1a9f2b35';

async function openRegistration(page) {
  await login(page);
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await page.getByRole('link', { name: 'Patients' }).click();
  await page.getByRole('link', { name: 'Register patient' }).click();
  await loadAreaLists(page);
}

async function fillPatient(page, name, phone) {
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Phone number').fill(phone);
  await page.getByLabel('Female').check();
  await page.getByRole('textbox', { name: 'Date of birth' }).fill('1991-06-11');
  await page.getByLabel('Address', { exact: true }).fill('Mattancherry');
}

/** The patients holding a hospital number, from the API (as another device would see). */
async function holdersOf(request, token, fid, mrn) {
  const resp = await request.post('/api/v1/patient/search/', {
    headers: { Authorization: `Bearer ${token}` },
    data: { config: MRN, value: mrn, facility: fid },
  });
  expect(resp.status()).toBe(200);
  return (await resp.json()).results;
}

function uniqueMrn() {
  return `CDH-${String(Date.now()).slice(-7)}`;
}

test('identifiers are checked on the form and shown on the profile', async ({ page }) => {
  await openRegistration(page);
  const name = `Identified ${Date.now()}`;
  const mrn = uniqueMrn();
  await fillPatient(page, name, '+919812340011');
  await page.getByLabel('ABHA number (optional)').fill('1234');
  await page.getByLabel('Hospital number (optional)').fill(mrn);
  await page.getByRole('button', { name: 'Register patient' }).click();
  // Refused on the device, under the field, with what the facility says the format is.
  await expect(page.getByText('This is not a valid ABHA number (14 digits as 12-3456-7890-1234).')).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Register a patient' })).toBeVisible();

  await page.getByLabel('ABHA number (optional)').fill('91-2345-6789-0123');
  await page.getByRole('button', { name: 'Register patient' }).click();
  await expect(page.getByTestId('patient-name')).toHaveText(name);
  const facts = page.getByTestId('patient-identifier');
  await expect(facts).toHaveCount(2);
  await expect(facts.filter({ hasText: 'ABHA number' })).toContainText('91-2345-6789-0123');
  await expect(facts.filter({ hasText: 'Hospital number' })).toContainText(mrn);

  // Editing: emptying the hospital number removes it.
  await page.getByRole('link', { name: 'Edit' }).first().click();
  await expect(page.getByLabel('Hospital number (optional)')).toHaveValue(mrn);
  await page.getByLabel('Hospital number (optional)').fill('');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByTestId('patient-name')).toHaveText(name);
  await expect(page.getByTestId('patient-identifier')).toHaveCount(1, { timeout: 20_000 });
});

test('a hospital number taken while offline is put back on its field, corrected and sent once', async ({ page, request }) => {
  const token = await apiToken(request);
  await openRegistration(page);
  await swControls(page);
  const fid = page.url().split('/')[4];
  const taken = uniqueMrn();
  const name = `Offline MRN ${Date.now()}`;

  await page.context().setOffline(true);
  await fillPatient(page, name, '+919812340012');
  await page.getByLabel('Hospital number (optional)').fill(taken);
  await page.getByRole('button', { name: 'Register patient' }).click();
  await expect(page.getByTestId('patient-name')).toHaveText(name);
  await expect(page.getByTestId('unsynced-badge')).toBeVisible();
  await expect(page.getByTestId('patient-identifier').filter({ hasText: 'Hospital number' })).toContainText(taken);

  // Meanwhile another desk gives that number to someone else.
  const other = await request.post('/api/v1/patient/', {
    headers: { Authorization: `Bearer ${token}` },
    data: {
      name: `Walk-in ${Date.now()}`, gender: 'male', phone_number: '+919812340013', age: 40,
      address: 'Aluva', permanent_address: 'Aluva',
      geo_organization: (await (await request.get('/api/v1/organization/?org_type=govt&parent=&limit=200', { headers: { Authorization: `Bearer ${token}` } })).json()).results[0].id,
      identifiers: [{ config: MRN, value: taken }],
    },
  });
  expect(other.status()).toBe(200);

  await page.context().setOffline(false);
  await expect(page.getByTestId('sync-badge')).toHaveText('1 need attention', { timeout: 30_000 });
  await page.getByTestId('sync-badge').click();
  const row = page.getByTestId('section-failed').getByTestId('write-row');
  await expect(row.getByTestId('write-error')).toContainText('not unique');
  await row.getByRole('link', { name: 'Edit' }).click();
  await expect(page.getByRole('heading', { name: 'Correct a queued registration' })).toBeVisible();
  await expect(page.getByLabel('Hospital number (optional)')).toHaveValue(taken);
  await expect(page.getByText('Another patient already has this Hospital number.')).toBeVisible();
  const fresh = uniqueMrn().replace('CDH-', 'CDH-9');
  await page.getByLabel('Hospital number (optional)').fill(fresh);
  await page.getByRole('button', { name: 'Register patient' }).click();
  await expect(page.getByTestId('patient-name')).toHaveText(name);
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced', { timeout: 30_000 });

  const holders = await holdersOf(request, token, fid, fresh);
  expect(holders.map((p) => p.name)).toEqual([name]);
  expect((await holdersOf(request, token, fid, taken)).map((p) => p.name)).not.toContain(name);
});

test('find a patient by ABHA number (verified by year) or hospital number (opened at once), also offline', async ({ page, context, request }) => {
  const token = await apiToken(request);
  const headers = { Authorization: `Bearer ${token}` };
  const stamp = String(Date.now()).slice(-8);
  const abha = `77-${stamp.slice(0, 4)}-${stamp.slice(4, 8)}-0001`;
  const mrn = `CDH-8${stamp.slice(-6)}`;
  const orgs = await (await request.get('/api/v1/organization/?org_type=govt&parent=&limit=200', { headers })).json();
  const resp = await request.post('/api/v1/patient/', {
    headers,
    data: {
      name: `Findable ${stamp}`, gender: 'female', phone_number: `+9196${stamp}`, date_of_birth: '1979-02-03',
      address: 'Kakkanad', permanent_address: 'Kakkanad', geo_organization: orgs.results[0].id,
      identifiers: [{ config: '0b1f5c3e-6a0d-4c4e-9a52-2f0f6f1c8a11', value: abha }, { config: MRN, value: mrn }],
    },
  });
  expect(resp.status()).toBe(200);
  const p = await resp.json();

  await login(page);
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await swControls(page);
  await page.getByRole('link', { name: 'Patients' }).click();
  await page.getByRole('link', { name: 'Find by phone' }).click();
  await page.getByLabel('Search by').selectOption({ label: 'ABHA number' });
  await page.getByLabel('ABHA number').fill('77-12');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page.getByText('This is not a valid ABHA number')).toBeVisible();
  await page.getByLabel('ABHA number').fill(abha);
  await page.getByRole('button', { name: 'Search' }).click();
  // CARE verifies an ABHA number like a phone: name only, then the year of birth.
  const results = page.getByTestId('search-results');
  await expect(results.locator('li')).toHaveCount(1);
  await expect(results).not.toContainText('1979');
  await results.getByRole('button', { name: new RegExp(p.name) }).click();
  await page.getByLabel('Year of birth').fill('1979');
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByTestId('patient-home')).toContainText(p.name);

  // A hospital number opens the patient at once.
  await page.goBack();
  await page.getByLabel('Search by').selectOption({ label: 'Hospital number' });
  await page.getByLabel('Hospital number').fill(mrn);
  await page.getByRole('button', { name: 'Search' }).click();
  await results.getByRole('link', { name: new RegExp(p.name) }).click();
  await expect(page.getByTestId('patient-name')).toHaveText(p.name);
  await expect(page.getByTestId('patient-identifier').filter({ hasText: 'Hospital number' })).toContainText(mrn);

  // Offline, the same search runs over the patients saved on this device.
  await context.setOffline(true);
  await page.goto(page.url().replace(/\/patients\/.*$/, '/patients/search'));
  await expect(page.getByTestId('connectivity')).toHaveText('Offline');
  await page.getByLabel('Search by').selectOption({ label: 'Hospital number' });
  await page.getByLabel('Hospital number').fill(mrn.toLowerCase());
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page.getByTestId('local-search')).toBeVisible();
  await results.getByRole('link', { name: new RegExp(p.name) }).click();
  await expect(page.getByTestId('patient-name')).toHaveText(p.name);
  await page.goBack();
  await page.getByLabel('Search by').selectOption({ label: 'Hospital number' });
  await page.getByLabel('Hospital number').fill('CDH-0000001');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page.getByTestId('no-match')).toHaveText('No patient has this Hospital number.');
  await context.setOffline(false);
});
