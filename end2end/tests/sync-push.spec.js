// Several queued writes go to the server in one sync/push round trip (seed 003), in order,
// with a new patient's temporary id replaced for the edit that follows it; without the
// endpoint (a bare CARE), the same writes go one request each.
const {
  test, expect, login, swControls, apiToken, patientsNamed, loadAreaLists,
} = require('./fixtures');

async function registerOffline(page, name, phone) {
  await page.getByRole('link', { name: 'Register patient' }).click();
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Phone number').fill(phone);
  await page.getByLabel('Female').check();
  await page.getByRole('textbox', { name: 'Date of birth' }).fill('1993-05-06');
  await page.getByLabel('Address', { exact: true }).fill('Fort Kochi');
  await page.getByLabel('State').selectOption({ label: 'Kerala' });
  await page.getByLabel('District').selectOption({ label: 'Ernakulam' });
  await page.getByRole('button', { name: 'Register patient' }).click();
  await expect(page.getByTestId('patient-name')).toHaveText(name);
}

async function queueThree(page, context, stamp) {
  await login(page);
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await swControls(page);
  await page.getByRole('link', { name: 'Patients' }).click();
  await page.getByRole('link', { name: 'Register patient' }).click();
  await loadAreaLists(page);
  await page.getByRole('link', { name: 'Patients' }).click();
  await context.setOffline(true);
  await expect(page.getByTestId('connectivity')).toHaveText('Offline');
  const a = `Push A ${stamp}`;
  const b = `Push B ${stamp}`;
  await registerOffline(page, a, '+919812300001');
  // Edit the new (temporary) patient: its write must follow the registration.
  await page.getByRole('link', { name: 'Edit' }).click();
  await page.getByLabel('Name').fill(`${a} Edited`);
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByTestId('patient-name')).toHaveText(`${a} Edited`);
  await page.getByRole('link', { name: '← Patients' }).click();
  await registerOffline(page, b, '+919812300002');
  await expect(page.getByTestId('sync-badge')).toHaveText('3 to sync');
  return { a, b };
}

test('three queued writes go in one sync/push, in order, each once', async ({ page, context, request }) => {
  const pushes = [];
  const singles = [];
  page.on('request', (req) => {
    if (req.method() !== 'POST' && req.method() !== 'PUT') return;
    if (req.url().endsWith('/api/v1/sync/push')) pushes.push(req.postDataJSON());
    else if (/\/api\/v1\/patient\//.test(req.url())) singles.push(req.url());
  });
  const { a, b } = await queueThree(page, context, Date.now());
  await context.setOffline(false);
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced', { timeout: 30_000 });
  expect(pushes).toHaveLength(1);
  expect(pushes[0].items.map((i) => i.operation)).toEqual(['CREATE', 'UPDATE', 'CREATE']);
  expect(pushes[0].items[1].path).toContain(pushes[0].items[0].tempId);
  expect(singles).toHaveLength(0);
  const token = await apiToken(request);
  expect(await patientsNamed(request, token, `${a} Edited`)).toHaveLength(1);
  expect(await patientsNamed(request, token, a)).toHaveLength(0);
  expect(await patientsNamed(request, token, b)).toHaveLength(1);
});

test('without sync/push (a bare CARE), the same writes go one request each', async ({ page, context, request }) => {
  await page.route('**/api/v1/sync/push', (route) => route.fulfill({
    status: 404, contentType: 'application/json', body: JSON.stringify({ detail: 'Not found.' }),
  }));
  const singles = [];
  page.on('request', (req) => {
    if ((req.method() === 'POST' || req.method() === 'PUT') && /\/api\/v1\/patient\//.test(req.url())) singles.push(req.url());
  });
  const { a, b } = await queueThree(page, context, Date.now());
  await context.setOffline(false);
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced', { timeout: 30_000 });
  expect(singles).toHaveLength(3);
  const token = await apiToken(request);
  expect(await patientsNamed(request, token, `${a} Edited`)).toHaveLength(1);
  expect(await patientsNamed(request, token, b)).toHaveLength(1);
});
