// Paging through the three long lists to the last page and back, online and offline
// (offline over the pages this device loaded; a page it never loaded says so and the
// person can still walk back).
const { test, expect, login, swControls, apiToken } = require('./fixtures');

async function auth(request) {
  const headers = { Authorization: `Bearer ${await apiToken(request)}` };
  const me = await (await request.get('/api/v1/users/getcurrentuser/', { headers })).json();
  return { headers, fid: me.facilities[0].id };
}

async function countOf(request, headers, path) {
  const resp = await request.get(path, { headers });
  expect(resp.status()).toBe(200);
  return (await resp.json()).count;
}

/** Walks Next to the last page, checking each page's position and rows, then back. */
async function walk(page, { pager, list, size, count }) {
  const pages = Math.ceil(count / size);
  expect(pages).toBeGreaterThan(1);
  const nav = page.getByRole('navigation', { name: pager });
  const position = nav.getByTestId('pager-position');
  const rows = page.getByTestId(list).locator('li');
  const next = nav.getByRole('button', { name: 'Next' });
  const previous = nav.getByRole('button', { name: 'Previous' });
  await expect(position).toHaveText(`Page 1 of ${pages} · 1–${Math.min(size, count)} of ${count}`);
  await expect(previous).toBeDisabled();
  for (let n = 2; n <= pages; n += 1) {
    await next.click();
    const first = (n - 1) * size + 1;
    const last = Math.min(n * size, count);
    await expect(position).toHaveText(`Page ${n} of ${pages} · ${first}–${last} of ${count}`);
    await expect(rows).toHaveCount(last - first + 1);
  }
  await expect(next).toBeDisabled();
  for (let n = pages - 1; n >= 1; n -= 1) {
    await previous.click();
    await expect(position).toHaveText(new RegExp(`^Page ${n} of ${pages} `));
    await expect(rows).toHaveCount(size);
  }
  await expect(previous).toBeDisabled();
}

test('the patient list pages to the last patient and back, online and then offline', async ({ page, context, request }) => {
  const c = await auth(request);
  const count = await countOf(request, c.headers, '/api/v1/patient/?limit=1');
  expect(count).toBeGreaterThanOrEqual(200);
  await login(page);
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await swControls(page);
  await page.getByRole('link', { name: 'Patients' }).click();
  const opts = { pager: 'Patient pages', list: 'patient-list', size: 14, count };
  await walk(page, opts);
  // The last page's last patient is the oldest one.
  const oldest = await (await request.get(`/api/v1/patient/?limit=1&offset=${count - 1}&ordering=-modified_date`, { headers: c.headers })).json();
  await page.reload();
  await expect(page.getByTestId('patient-list').locator('li')).toHaveCount(14);

  await context.setOffline(true);
  await page.reload();
  await expect(page.getByTestId('connectivity')).toHaveText('Offline');
  await walk(page, opts);
  const nav = page.getByRole('navigation', { name: 'Patient pages' });
  for (let n = 1; n < Math.ceil(count / 14); n += 1) await nav.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByTestId('patient-list').locator('li').last()).toContainText(oldest.results[0].name);
  await context.setOffline(false);
});

test('the encounter list: offline a page never loaded says so and Previous goes back; online it pages to the end', async ({ page, context, request }) => {
  const c = await auth(request);
  const count = await countOf(request, c.headers, `/api/v1/encounter/?facility=${c.fid}&limit=1`);
  await login(page);
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await page.getByRole('link', { name: 'Encounters' }).click();
  const rows = page.getByTestId('encounter-list').locator('li');
  const nav = page.getByRole('navigation', { name: 'Encounter pages' });
  const position = nav.getByTestId('pager-position');
  await expect(rows).toHaveCount(14);

  // Only the first page was loaded before the connection went.
  await context.setOffline(true);
  await expect(page.getByTestId('connectivity')).toHaveText('Offline');
  await nav.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByTestId('unavailable-offline')).toBeVisible();
  await expect(position).toHaveText('Page 2');
  await expect(nav.getByRole('button', { name: 'Next' })).toBeDisabled();
  await nav.getByRole('button', { name: 'Previous' }).click();
  await expect(rows).toHaveCount(14);
  await expect(position).toHaveText(`Page 1 of ${Math.ceil(count / 14)} · 1–14 of ${count}`);
  await context.setOffline(false);

  await walk(page, { pager: 'Encounter pages', list: 'encounter-list', size: 14, count });
});

test('the appointment list pages past twenty bookings of one day and back', async ({ page, request }) => {
  const c = await auth(request);
  const users = await (await request.get(`/api/v1/facility/${c.fid}/appointments/available_users/`, { headers: c.headers })).json();
  const doctor = users.users.find((u) => u.username === 'care-doctor');
  // The doctor's morning OP (two tokens per 15 minutes) thirteen days ahead: no other test books it.
  const d = new Date(Date.now() + 5.5 * 3600e3);
  d.setUTCDate(d.getUTCDate() + 13);
  const day = d.toISOString().slice(0, 10);
  const slots = await (await request.post(`/api/v1/facility/${c.fid}/slots/get_slots_for_day/`, {
    headers: c.headers, data: { resource_type: 'practitioner', resource_id: doctor.id, day },
  })).json();
  const orgs = await (await request.get('/api/v1/organization/?org_type=govt&parent=&limit=200', { headers: c.headers })).json();
  const stamp = Date.now();
  let booked = 0;
  for (const slot of slots.results) {
    for (let t = slot.allocated; t < slot.availability.tokens_per_slot && booked < 23; t += 1) {
      const patient = await (await request.post('/api/v1/patient/', {
        headers: c.headers,
        data: {
          name: `Paged ${stamp} ${booked}`, gender: 'male', phone_number: `+9196${String(stamp % 1e6).padStart(6, '0')}${String(booked).padStart(2, '0')}`,
          date_of_birth: '1980-05-05', address: 'Kochi', permanent_address: 'Kochi', geo_organization: orgs.results[0].id,
        },
      })).json();
      const resp = await request.post(`/api/v1/facility/${c.fid}/slots/${slot.id}/create_appointment/`, {
        headers: c.headers, data: { patient: patient.id, note: 'paging' },
      });
      expect(resp.status()).toBe(200);
      booked += 1;
    }
  }
  expect(booked).toBe(23);
  const count = await countOf(request, c.headers,
    `/api/v1/facility/${c.fid}/appointments/?resource_type=practitioner&resource_ids=${doctor.id}&status=booked&date_after=${day}&date_before=${day}&limit=1`);
  expect(count).toBeGreaterThanOrEqual(23);

  await login(page);
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await page.getByRole('link', { name: 'Appointments' }).click();
  await page.getByLabel('Practitioner').selectOption(doctor.id);
  await page.getByLabel('Day').fill(day);
  await walk(page, { pager: 'Appointment pages', list: 'appointment-list', size: 20, count });
});
