// "Edit" on the sync page reopens the form with the queued payload; saving corrects that
// write (never a second one), and it is sent once.
const {
  test, expect, login, swControls, apiToken, patientsNamed, loadAreaLists,
} = require('./fixtures');

test('a registration CARE refused is corrected from the sync page and sent once', async ({ page, request }) => {
  const name = `Refused Reg ${Date.now()}`;
  const corrected = `${name} Fixed`;
  await login(page);
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await swControls(page);
  await page.getByRole('link', { name: 'Patients' }).click();
  await page.getByRole('link', { name: 'Register patient' }).click();
  // The first registration reaches the server with a value CARE refuses (as if a rule of
  // the deployment rejected it): the server really answers 400 and keeps that answer
  // under the write's Idempotency-Key.
  let refused = 0;
  await page.route('**/api/v1/patient/', async (route) => {
    if (route.request().method() === 'POST' && refused === 0) {
      refused += 1;
      const body = route.request().postDataJSON();
      await route.continue({ postData: JSON.stringify({ ...body, gender: 'not-a-gender' }) });
    } else {
      await route.continue();
    }
  });
  // Offline first, so the registration is queued (then refused when it is sent).
  await loadAreaLists(page);
  await page.context().setOffline(true);
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Phone number').fill('+919812345699');
  await page.getByLabel('Female').check();
  await page.getByRole('textbox', { name: 'Date of birth' }).fill('1992-08-09');
  await page.getByLabel('Address', { exact: true }).fill('Fort Kochi');
  await page.getByLabel('Pincode').fill('682001');
  await page.getByRole('button', { name: 'Register patient' }).click();
  await expect(page.getByTestId('patient-name')).toHaveText(name);
  await page.context().setOffline(false);
  await expect(page.getByTestId('sync-badge')).toHaveText('1 need attention', { timeout: 30_000 });
  expect(refused).toBe(1);

  await page.getByTestId('sync-badge').click();
  const row = page.getByTestId('section-failed').getByTestId('write-row');
  await expect(row.getByTestId('write-error')).toContainText('gender');
  await row.getByRole('link', { name: 'Edit' }).click();
  await expect(page.getByRole('heading', { name: 'Correct a queued registration' })).toBeVisible();
  await expect(page.getByLabel('Name')).toHaveValue(name);
  await expect(page.getByLabel('Phone number')).toHaveValue('+919812345699');
  await page.getByLabel('Name').fill(corrected);
  await page.getByRole('button', { name: 'Register patient' }).click();
  await expect(page.getByTestId('patient-name')).toHaveText(corrected);
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced', { timeout: 30_000 });

  const token = await apiToken(request);
  expect(await patientsNamed(request, token, corrected)).toHaveLength(1);
  expect(await patientsNamed(request, token, name)).toHaveLength(0);
  // One write on the sync page, synced; nothing failed left behind.
  await page.getByTestId('sync-badge').click();
  await expect(page.getByTestId('section-failed').getByTestId('write-row')).toHaveCount(0);
});

test('how long synced writes are kept is a per-device setting that refuses bad input', async ({ page }) => {
  await login(page);
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await page.getByTestId('sync-badge').click();
  const form = page.getByTestId('retention');
  await expect(form.getByLabel('Keep synced writes for (days)')).toHaveValue('7');
  await form.getByLabel('Keep synced writes for (days)').fill('0');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(form.getByRole('alert')).toHaveText('Enter a whole number of days from 1 to 90.');
  await form.getByLabel('Keep synced writes for (days)').fill('30');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(form.getByRole('status')).toHaveText('Saved.');
  await page.reload();
  await expect(page.getByTestId('retention').getByLabel('Keep synced writes for (days)')).toHaveValue('30');
  expect(await page.evaluate(() => localStorage.getItem('care_offline_keep_synced_days'))).toBe('30');
});
