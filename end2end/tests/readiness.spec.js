// "Download for offline": after sign-in the device fetches what offline work needs, so a
// health worker can start an encounter, register a patient in the facility's area and book
// a slot offline without having opened those pages online first.
const { test, expect, login, swControls, apiToken } = require('./fixtures');

/** A heat-map day's name as it reads: "9 December 2026, Wednesday: …". */
function dayButton(day) {
  const d = new Date(`${day}T00:00:00Z`);
  const month = d.toLocaleString('en-US', { month: 'long', timeZone: 'UTC' });
  return new RegExp(`^${d.getUTCDate()} ${month} ${d.getUTCFullYear()}, `);
}

async function api(request, token, path, init = {}) {
  const headers = { Authorization: `Bearer ${token}` };
  const resp = init.data
    ? await request.post(`/api/v1${path}`, { headers, data: init.data })
    : await request.get(`/api/v1${path}`, { headers });
  expect(resp.status()).toBe(200);
  return resp.json();
}

/** The facility's area, top down (state first). */
function chainOf(org) {
  const chain = [];
  for (let o = org; o && o.id; o = o.parent) chain.unshift(o);
  return chain;
}

test('after sign-in the device gets ready; offline, never-opened forms, areas, slots and lists work', async ({ page, context, request }) => {
  const token = await apiToken(request);
  const me = await api(request, token, '/users/getcurrentuser/');
  const fid = me.facilities[0].id;
  const facility = await api(request, token, `/facility/${fid}/`);
  const orgs = await api(request, token, '/organization/?org_type=govt&parent=&limit=200');
  const patient = await api(request, token, '/patient/', {
    data: {
      name: `Ready ${Date.now()}`, gender: 'female', phone_number: `+9195${String(Date.now() % 1e8).padStart(8, '0')}`,
      date_of_birth: '1990-01-01', address: 'Kochi', permanent_address: 'Kochi', geo_organization: orgs.results[0].id,
    },
  });
  const users = await api(request, token, `/facility/${fid}/appointments/available_users/`);
  const nurse = users.users.find((u) => u.username === 'care-nurse');
  const d = new Date(Date.now() + 5.5 * 3600e3);
  d.setUTCDate(d.getUTCDate() + 4);
  if (d.getUTCDay() === 0) d.setUTCDate(d.getUTCDate() + 1); // the nurse works Mon–Sat
  const day = d.toISOString().slice(0, 10);

  await login(page);
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await swControls(page);
  await page.getByRole('link', { name: 'Sync status' }).click();
  await expect(page.getByTestId('readiness-summary')).toHaveText(/^Ready for offline — updated \d\d:\d\d$/, { timeout: 45_000 });
  // Shells of the routes used below (the service worker keeps one per route).
  await page.reload();
  await expect(page.getByTestId('readiness-summary')).toHaveText(/^Ready for offline — updated /);

  await context.setOffline(true);
  // An encounter for a patient never opened here: the departments are on the device.
  await page.goto(`/facility/${fid}/patients/${patient.id}/encounters/new`);
  await expect(page.getByTestId('connectivity')).toHaveText('Offline');
  await page.getByLabel('General Medicine').check();
  await page.getByRole('button', { name: 'Start encounter' }).click();
  await expect(page.getByTestId('encounter-status')).toBeVisible();
  await expect(page.getByTestId('sync-badge')).toHaveText('1 to sync');

  // Registration: the areas from the state down to the facility's own.
  await page.goto(`/facility/${fid}/patients/new`);
  const levels = ['State', 'District', 'Local body', 'Ward'];
  const chain = chainOf(facility.geo_organization);
  expect(chain.length).toBeGreaterThan(1);
  for (const [i, org] of chain.entries()) {
    await page.getByRole('combobox', { name: levels[i], exact: true }).selectOption({ label: org.name });
  }

  // Booking: the practitioners and their slots for the next two weeks.
  await page.goto(`/facility/${fid}/appointments/book`);
  await page.getByLabel('Practitioner').selectOption(nurse.id);
  const month = new Date(`${day}T00:00:00Z`).toLocaleString('en-US', { month: 'long', year: 'numeric', timeZone: 'UTC' });
  if ((await page.getByTestId('heatmap-month').textContent()) !== month) {
    await page.getByRole('button', { name: 'Next month' }).click();
  }
  await expect(page.getByTestId('heatmap-month')).toHaveText(month);
  await page.getByRole('button', { name: dayButton(day) }).click();
  await expect(page.getByTestId('slots')).toBeVisible();

  // The first pages of the lists.
  await page.goto(`/facility/${fid}/patients`);
  await expect(page.getByTestId('patient-list').locator('li')).toHaveCount(14);
  await page.goto(`/facility/${fid}/encounters`);
  await expect(page.getByTestId('encounter-list').locator('li').first()).toBeVisible();

  await context.setOffline(false);
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced', { timeout: 30_000 });
  const encounters = await api(request, token, `/encounter/?facility=${fid}&patient=${patient.id}&limit=5`);
  expect(encounters.count).toBe(1);
});

test('getting ready again on demand; offline the button waits for a connection', async ({ page, context }) => {
  await login(page);
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await page.getByRole('link', { name: 'Sync status' }).click();
  const summary = page.getByTestId('readiness-summary');
  await expect(summary).toHaveText(/^Ready for offline — updated /, { timeout: 45_000 });
  const button = page.getByRole('button', { name: 'Get ready for offline' });
  // The header says "Ready for offline" for a few seconds after each run.
  const pill = page.getByTestId('readiness-pill');
  await expect(pill).toHaveCount(0, { timeout: 15_000 });
  await button.click();
  await expect(pill).toHaveText('Ready for offline', { timeout: 45_000 });
  await expect(summary).toHaveText(/^Ready for offline — updated /);
  await context.setOffline(true);
  await expect(page.getByTestId('connectivity')).toHaveText('Offline');
  await expect(button).toBeDisabled();
  await context.setOffline(false);
  await expect(button).toBeEnabled();
});
