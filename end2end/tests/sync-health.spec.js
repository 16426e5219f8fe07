// The administrators' Sync health page over the server's sync API: per user and device
// counts, and a write flagged for review (MANUAL) settled from its merge view.
const { test, expect, login, apiToken } = require('./fixtures');

const auth = (token) => ({ Authorization: `Bearer ${token}` });

/** A stale offline edit by care-doctor, queued, found in conflict and flagged for review. */
async function flaggedEdit(request) {
  const token = await apiToken(request, 'care-doctor');
  const list = await (await request.get('/api/v1/patient/?limit=20&ordering=created_date', { headers: auth(token) })).json();
  const patient = await (await request.get(`/api/v1/patient/${list.results[7].id}/`, { headers: auth(token) })).json();
  const name = `Review Me ${Date.now()}`;
  const queued = await request.post('/api/v1/sync/queue', {
    headers: auth(token),
    data: {
      deviceId: 'ward-tablet-3', operation: 'UPDATE', resourceType: 'patient', resourceId: patient.id,
      baseVersion: '2020-01-01T00:00:00.000000Z',
      data: {
        name, gender: patient.gender, phone_number: patient.phone_number, address: patient.address,
        permanent_address: patient.permanent_address, date_of_birth: patient.date_of_birth,
        geo_organization: patient.geo_organization.id,
      },
    },
  });
  expect(queued.status()).toBe(201);
  const { id } = await queued.json();
  expect((await request.post(`/api/v1/sync/process/${id}`, { headers: auth(token) })).status()).toBe(409);
  const flagged = await request.patch(`/api/v1/sync/resolve/${id}?resolution=MANUAL`, { headers: auth(token) });
  expect(flagged.status()).toBe(200);
  return { id, name, patient, token };
}

test('an administrator sees every device and settles a flagged write', async ({ page, request }) => {
  const { name, patient, token } = await flaggedEdit(request);
  await login(page, 'care-admin');
  await expect(page.getByTestId('facility-name')).toBeVisible();
  await page.getByTestId('sync-badge').click();
  await page.getByRole('link', { name: 'Sync health of all devices' }).click();
  await expect(page.getByRole('heading', { name: 'Sync health' })).toBeVisible();
  await expect(page.getByTestId('health-totals')).toContainText('writes');
  await expect(page.getByTestId('health-devices')).toContainText('care-doctor');
  const item = page.getByTestId('review-item').filter({ hasText: name });
  await expect(item).toContainText('UPDATE patient · care-doctor');
  await expect(item.locator('tr', { hasText: 'name' })).toContainText(patient.name);
  await item.getByRole('button', { name: "Keep the server's record" }).click();
  await expect(page.getByTestId('review-item').filter({ hasText: name })).toHaveCount(0);
  // The server's record was kept.
  const now = await (await request.get(`/api/v1/patient/${patient.id}/`, { headers: auth(token) })).json();
  expect(now.name).toBe(patient.name);
});

test('other users get no link, and the page says it is for administrators', async ({ page }) => {
  await login(page, 'care-doctor');
  await expect(page.getByTestId('facility-name')).toBeVisible();
  await page.getByTestId('sync-badge').click();
  await expect(page.getByRole('heading', { name: 'Sync status' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Sync health of all devices' })).toHaveCount(0);
  await page.goto(page.url().replace(/\/sync$/, '/sync/health'));
  await expect(page.getByRole('alert')).toHaveText('Only administrators can see sync health.');
});
