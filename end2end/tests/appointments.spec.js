// Appointments against the real server: booking online and offline, lists by status,
// reschedule and cancel offline, and a slot taken by someone else while this device was
// offline. Every test makes its own patients and uses its own practitioner day, so no
// test depends on data another one changes.
const { test, expect, login, swControls, apiToken, savedOnDevice } = require('./fixtures');

/** A heat-map day's name as it reads: "9 December 2026, Wednesday: …". */
function dayButton(day) {
  const d = new Date(`${day}T00:00:00Z`);
  const month = d.toLocaleString('en-US', { month: 'long', timeZone: 'UTC' });
  return new RegExp(`^${d.getUTCDate()} ${month} ${d.getUTCFullYear()}, `);
}

/** Token, facility and the nurse (1 token per slot, Mon–Sat afternoons) from the API. */
async function setup(request, username = 'care-doctor') {
  const headers = { Authorization: `Bearer ${await apiToken(request, username)}` };
  const me = await (await request.get('/api/v1/users/getcurrentuser/', { headers })).json();
  const fid = me.facilities[0].id;
  const users = await (await request.get(`/api/v1/facility/${fid}/appointments/available_users/`, { headers })).json();
  const nurse = users.users.find((u) => u.username === 'care-nurse');
  return { headers, fid, nurse };
}

let phoneSeq = 0;
async function newPatient(request, c, name) {
  const orgs = await (await request.get('/api/v1/organization/?org_type=govt&parent=&limit=200', { headers: c.headers })).json();
  phoneSeq += 1;
  const phone = `+9197${String(Date.now() % 1e6).padStart(6, '0')}${String(phoneSeq).padStart(2, '0')}`;
  const resp = await request.post('/api/v1/patient/', {
    headers: c.headers,
    data: {
      name, gender: 'female', phone_number: phone, date_of_birth: '1990-01-01',
      address: 'Fort Kochi', permanent_address: 'Fort Kochi', geo_organization: orgs.results[0].id,
    },
  });
  expect(resp.status()).toBe(200);
  return resp.json();
}

/** The nurse's working day (IST, Mon–Sat) `offset` days ahead: each test its own. */
function nurseDay(offset) {
  const d = new Date(Date.now() + 5.5 * 3600e3);
  d.setUTCDate(d.getUTCDate() + offset);
  while (d.getUTCDay() === 0) d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

async function freeSlots(request, c, day) {
  const resp = await request.post(`/api/v1/facility/${c.fid}/slots/get_slots_for_day/`, {
    headers: c.headers,
    data: { resource_type: 'practitioner', resource_id: c.nurse.id, day },
  });
  expect(resp.status()).toBe(200);
  return (await resp.json()).results.filter((s) => s.allocated < (s.availability.tokens_per_slot || 1));
}

async function bookViaApi(request, c, slotId, patientId, note = 'follow-up') {
  const resp = await request.post(`/api/v1/facility/${c.fid}/slots/${slotId}/create_appointment/`, {
    headers: c.headers, data: { patient: patientId, note },
  });
  return { status: resp.status(), body: await resp.json() };
}

async function bookingsOf(request, c, patientId) {
  const resp = await request.get(`/api/v1/patient/${patientId}/get_appointments/?limit=50`, { headers: c.headers });
  return (await resp.json()).results;
}

async function retrieve(request, c, id) {
  return (await request.get(`/api/v1/facility/${c.fid}/appointments/${id}/`, { headers: c.headers })).json();
}

/** On the booking page: the heat-map's month of `day`, the day, then the slot. */
async function pickDay(page, day) {
  const month = new Date(`${day}T00:00:00Z`).toLocaleString('en-US', { month: 'long', year: 'numeric', timeZone: 'UTC' });
  for (let i = 0; i < 3; i += 1) {
    if ((await page.getByTestId('heatmap-month').textContent()) === month) break;
    await page.getByRole('button', { name: 'Next month' }).click();
  }
  await expect(page.getByTestId('heatmap-month')).toHaveText(month);
  await page.getByRole('button', { name: dayButton(day) }).click();
  await expect(page.getByTestId('slots')).toBeVisible();
}

async function signIn(page) {
  await login(page);
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
}

/** Queries are saved on the device in batches a few milliseconds after they load. */

const idOf = (page) => page.url().split('/').pop();
const UUID = /\/appointments\/[0-9a-f-]{36}$/;

test('booking online from the patient page: the appointment is on the server once', async ({ page, request }) => {
  const c = await setup(request);
  const patient = await newPatient(request, c, `Book Online ${Date.now()}`);
  const day = nurseDay(5);
  const [slot] = await freeSlots(request, c, day);
  await signIn(page);
  await page.goto(`/facility/${c.fid}/patients/${patient.id}`);
  await expect(page.getByTestId('patient-name')).toHaveText(patient.name);
  await page.getByRole('link', { name: 'Book appointment' }).click();
  await expect(page.getByTestId('chosen-patient')).toContainText(patient.name);
  await page.getByLabel('Practitioner').selectOption(c.nurse.id);
  await pickDay(page, day);
  await page.locator(`[data-slot-id="${slot.id}"]`).click();
  await page.getByLabel('Reason for visit').fill('Fever for three days');
  await page.getByRole('button', { name: 'Book appointment' }).click();

  await expect(page).toHaveURL(UUID);
  await expect(page.getByTestId('appointment-status')).toHaveText('Booked');
  await expect(page.getByTestId('appointment-patient')).toHaveText(patient.name);
  await expect(page.getByTestId('unsynced-badge')).toHaveCount(0);
  const onServer = await bookingsOf(request, c, patient.id);
  expect(onServer).toHaveLength(1);
  expect(onServer[0].id).toBe(idOf(page));
  expect(onServer[0].token_slot.id).toBe(slot.id);
  expect(onServer[0].note).toBe('Fever for three days');
});

test('booking from the appointments page by patient search; a refusal stays on the form', async ({ page, request }) => {
  const c = await setup(request);
  const stamp = Date.now();
  const patient = await newPatient(request, c, `Searched ${stamp}`);
  const day = nurseDay(10);
  const [taken, free] = await freeSlots(request, c, day);
  await signIn(page);
  await page.getByRole('link', { name: 'Appointments' }).click();
  await page.getByRole('link', { name: 'Book appointment' }).click();
  await page.getByLabel('Patient name or phone').fill(patient.name);
  await page.getByRole('button', { name: 'Search patients' }).click();
  await page.getByRole('button', { name: `Choose ${patient.name}` }).click();
  await expect(page.getByTestId('chosen-patient')).toContainText(patient.name);
  // By phone number too (the list filter: real ids, unlike the partial phone search).
  await page.getByRole('button', { name: 'Change patient' }).click();
  await page.getByLabel('Patient name or phone').fill(patient.phone_number);
  await page.getByRole('button', { name: 'Search patients' }).click();
  await expect(page.getByTestId('patient-results').locator('li')).toHaveCount(1);
  await page.getByRole('button', { name: `Choose ${patient.name}` }).click();
  await expect(page.getByTestId('chosen-patient')).toContainText(patient.name);
  await page.getByLabel('Practitioner').selectOption(c.nurse.id);
  await pickDay(page, day);
  await expect(page.locator(`[data-slot-id="${taken.id}"]`)).toBeEnabled();
  // Someone else takes the slot while this form is open.
  const nurse = await setup(request, 'care-nurse');
  const other = await newPatient(request, nurse, `Other ${stamp}`);
  expect((await bookViaApi(request, nurse, taken.id, other.id)).status).toBe(200);

  await page.locator(`[data-slot-id="${taken.id}"]`).click();
  await page.getByLabel('Reason for visit').fill('Review of reports');
  await page.getByRole('button', { name: 'Book appointment' }).click();
  await expect(page.getByTestId('book-error')).toContainText('Slot is already full');
  // Nothing typed is lost, the refused write does not linger, the slot now shows taken.
  await expect(page.getByTestId('chosen-patient')).toContainText(patient.name);
  await expect(page.getByLabel('Reason for visit')).toHaveValue('Review of reports');
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced');
  await expect(page.locator(`[data-slot-id="${taken.id}"]`)).toBeDisabled();
  await page.locator(`[data-slot-id="${free.id}"]`).click();
  await page.getByRole('button', { name: 'Book appointment' }).click();
  await expect(page).toHaveURL(UUID);
  await expect(page.getByTestId('appointment-status')).toHaveText('Booked');
  const mine = await bookingsOf(request, c, patient.id);
  expect(mine).toHaveLength(1);
  expect(mine[0].token_slot.id).toBe(free.id);
});

test('the status lists follow a check-in', async ({ page, request }) => {
  const c = await setup(request);
  const patient = await newPatient(request, c, `Check In ${Date.now()}`);
  const day = nurseDay(6);
  const [slot] = await freeSlots(request, c, day);
  const booked = await bookViaApi(request, c, slot.id, patient.id);
  expect(booked.status).toBe(200);
  await signIn(page);
  await page.getByRole('link', { name: 'Appointments' }).click();
  const filterTo = async () => {
    await page.getByLabel('Practitioner').selectOption(c.nurse.id);
    await page.getByLabel('Day').fill(day);
  };
  await filterTo();
  const list = page.getByTestId('appointment-list');
  await expect(list.getByRole('link', { name: patient.name })).toBeVisible();
  // Another desk books a second patient: returning to the window shows it.
  const walkIn = await newPatient(request, c, `Walk In ${Date.now()}`);
  const [next] = await freeSlots(request, c, day);
  expect((await bookViaApi(request, c, next.id, walkIn.id)).status).toBe(200);
  await page.evaluate(() => window.dispatchEvent(new Event('focus')));
  await expect(list.getByRole('link', { name: walkIn.name })).toBeVisible();
  await list.getByRole('link', { name: patient.name }).click();
  await expect(page.getByTestId('appointment-status')).toHaveText('Booked');
  await page.getByRole('button', { name: 'Check in' }).click();
  await expect(page.getByTestId('appointment-status')).toHaveText('Checked in');
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced');
  expect((await retrieve(request, c, booked.body.id)).status).toBe('checked_in');

  await page.getByRole('link', { name: '← Appointments' }).click();
  await filterTo();
  await expect(page.getByRole('tab', { name: 'Booked' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('appointment-count')).toBeVisible();
  await expect(list.getByRole('link', { name: patient.name })).toHaveCount(0);
  await page.getByRole('tab', { name: 'Checked in' }).click();
  await expect(list.getByRole('link', { name: patient.name })).toBeVisible();
  // The next step of the visit, from the list.
  await list.getByRole('link', { name: patient.name }).click();
  await page.getByRole('button', { name: 'Start consultation' }).click();
  await expect(page.getByTestId('appointment-status')).toHaveText('In consultation');
  await expect(page.getByRole('button', { name: 'Cancel appointment' })).toHaveCount(0);
});

test('booking offline on a cached slot: taken at once, synced once', async ({ page, context, request }) => {
  const c = await setup(request);
  const patient = await newPatient(request, c, `Book Offline ${Date.now()}`);
  const day = nurseDay(7);
  const [slot] = await freeSlots(request, c, day);
  await signIn(page);
  await swControls(page);
  // Online once: the nurse's list of that day, the patient, the month and the day's slots
  // are cached.
  await page.getByRole('link', { name: 'Appointments' }).click();
  const filterTo = async () => {
    await page.getByLabel('Practitioner').selectOption(c.nurse.id);
    await page.getByLabel('Day').fill(day);
    await expect(page.getByTestId('appointment-count')).toHaveText(/^\d+ booked$/);
  };
  await filterTo();
  // Saved within ~40 ms (and at once when the page hides, but a load started in the same
  // moment can still abort that write): a person never navigates that fast.
  await savedOnDevice(page);
  await page.goto(`/facility/${c.fid}/appointments/book?patient=${patient.id}&practitioner=${c.nurse.id}`);
  await expect(page.getByTestId('chosen-patient')).toContainText(patient.name);
  await pickDay(page, day);
  await expect(page.locator(`[data-slot-id="${slot.id}"]`)).toBeEnabled();
  await savedOnDevice(page);

  await context.setOffline(true);
  await page.reload();
  await expect(page.getByTestId('connectivity')).toHaveText('Offline');
  await expect(page.getByTestId('chosen-patient')).toContainText(patient.name);
  await pickDay(page, day);
  await page.locator(`[data-slot-id="${slot.id}"]`).click();
  await page.getByLabel('Reason for visit').fill('Booked without network');
  await page.getByRole('button', { name: 'Book appointment' }).click();

  await expect(page).toHaveURL(UUID);
  const tempId = idOf(page);
  await expect(page.getByTestId('appointment-status')).toHaveText('Booked');
  await expect(page.getByTestId('unsynced-badge')).toHaveText('Saved on this device — will sync');
  await expect(page.getByTestId('sync-badge')).toHaveText('1 to sync');
  // The slot shows as taken at once, also after a reload.
  await page.goBack();
  await pickDay(page, day);
  await expect(page.locator(`[data-slot-id="${slot.id}"]`)).toBeDisabled();
  await expect(page.locator(`[data-slot-id="${slot.id}"]`)).toContainText('Taken');
  await page.reload();
  await pickDay(page, day);
  await expect(page.locator(`[data-slot-id="${slot.id}"]`)).toBeDisabled();
  expect(await bookingsOf(request, c, patient.id)).toHaveLength(0);
  // And it is in the day's list of booked appointments, with its badge.
  await page.getByRole('link', { name: 'Appointments' }).click();
  await filterTo();
  const row = page.getByTestId('appointment-list').locator('li', { hasText: patient.name });
  await expect(row.getByTestId('unsynced-badge')).toHaveText('Saved on this device — will sync');

  await context.setOffline(false);
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced', { timeout: 30_000 });
  await expect(row).toBeVisible();
  await expect(row.getByTestId('unsynced-badge')).toHaveCount(0);
  const onServer = await bookingsOf(request, c, patient.id);
  expect(onServer).toHaveLength(1);
  expect(onServer[0].token_slot.id).toBe(slot.id);
  expect(onServer[0].note).toBe('Booked without network');
  // The temporary address now shows the server's booking.
  await page.goto(`/facility/${c.fid}/appointments/${tempId}`);
  await expect(page.getByTestId('appointment-status')).toHaveText('Booked');
  await expect(page.getByTestId('unsynced-badge')).toHaveCount(0);
  // Sent once: a second pass changes nothing.
  await page.getByTestId('sync-badge').click();
  await page.getByRole('button', { name: 'Sync now' }).click();
  await expect(page.getByTestId('section-synced').getByTestId('write-row').first()).toContainText('Book appointment');
  expect(await bookingsOf(request, c, patient.id)).toHaveLength(1);
});

test('reschedule and cancel offline, then both sync', async ({ page, context, request }) => {
  const c = await setup(request);
  const stamp = Date.now();
  const moving = await newPatient(request, c, `Reschedule ${stamp}`);
  const leaving = await newPatient(request, c, `Cancel ${stamp}`);
  const day = nurseDay(8);
  const [s1, s2, s3] = await freeSlots(request, c, day);
  const b1 = (await bookViaApi(request, c, s1.id, moving.id)).body;
  const b2 = (await bookViaApi(request, c, s2.id, leaving.id)).body;
  await signIn(page);
  await swControls(page);
  // Online once: both bookings and the day's slots are cached.
  await page.goto(`/facility/${c.fid}/appointments/${b2.id}`);
  await expect(page.getByTestId('appointment-status')).toHaveText('Booked');
  await page.goto(`/facility/${c.fid}/appointments/${b1.id}`);
  await expect(page.getByTestId('appointment-status')).toHaveText('Booked');
  await page.getByRole('link', { name: 'Reschedule' }).click();
  await expect(page.getByTestId('chosen-patient')).toContainText(moving.name);
  await expect(page.getByLabel('Practitioner')).toHaveValue(c.nurse.id);
  await pickDay(page, day);
  await expect(page.locator(`[data-slot-id="${s1.id}"]`)).toBeDisabled();
  await savedOnDevice(page);

  await context.setOffline(true);
  await page.reload();
  await expect(page.getByTestId('connectivity')).toHaveText('Offline');
  await pickDay(page, day);
  await page.locator(`[data-slot-id="${s3.id}"]`).click();
  await page.getByLabel('Reason for visit').fill('Moved to later');
  await page.getByRole('button', { name: 'Reschedule' }).click();
  await expect(page).toHaveURL(UUID);
  expect(idOf(page)).not.toBe(b1.id);
  await expect(page.getByTestId('appointment-status')).toHaveText('Booked');
  await expect(page.getByTestId('unsynced-badge')).toHaveText('Saved on this device — will sync');
  await page.goBack();
  await pickDay(page, day);
  await expect(page.locator(`[data-slot-id="${s3.id}"]`)).toBeDisabled();
  await expect(page.locator(`[data-slot-id="${s1.id}"]`)).toBeEnabled();

  await page.goto(`/facility/${c.fid}/appointments/${b2.id}`);
  await expect(page.getByTestId('appointment-status')).toHaveText('Booked');
  await page.getByRole('button', { name: 'Cancel appointment' }).click();
  await page.getByLabel('Reason for cancelling').selectOption('cancelled');
  await page.getByRole('button', { name: 'Confirm cancel' }).click();
  await expect(page.getByTestId('appointment-status')).toHaveText('Cancelled');
  await expect(page.getByTestId('unsynced-badge')).toHaveText('Saved on this device — will sync');
  await expect(page.getByTestId('sync-badge')).toHaveText('2 to sync');
  expect((await retrieve(request, c, b2.id)).status).toBe('booked');

  await context.setOffline(false);
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced', { timeout: 30_000 });
  await expect(page.getByTestId('unsynced-badge')).toHaveCount(0);
  expect((await retrieve(request, c, b2.id)).status).toBe('cancelled');
  expect((await retrieve(request, c, b1.id)).status).toBe('rescheduled');
  const active = (await bookingsOf(request, c, moving.id)).filter((b) => b.status === 'booked');
  expect(active).toHaveLength(1);
  expect(active[0].token_slot.id).toBe(s3.id);
  expect(active[0].note).toBe('Moved to later');
});

test('a slot taken by someone else while offline: a clear failure, then another slot', async ({ page, context, request }) => {
  const c = await setup(request);
  const stamp = Date.now();
  const patient = await newPatient(request, c, `Double Booked ${stamp}`);
  const day = nurseDay(9);
  const [contested, other] = await freeSlots(request, c, day);
  await signIn(page);
  await swControls(page);
  await page.goto(`/facility/${c.fid}/appointments/book?patient=${patient.id}&practitioner=${c.nurse.id}`);
  await expect(page.getByTestId('chosen-patient')).toContainText(patient.name);
  await pickDay(page, day);
  await expect(page.locator(`[data-slot-id="${contested.id}"]`)).toBeEnabled();
  await savedOnDevice(page);

  await context.setOffline(true);
  await expect(page.getByTestId('connectivity')).toHaveText('Offline');
  await page.locator(`[data-slot-id="${contested.id}"]`).click();
  await page.getByLabel('Reason for visit').fill('Cough');
  await page.getByRole('button', { name: 'Book appointment' }).click();
  await expect(page).toHaveURL(UUID);
  await expect(page.getByTestId('unsynced-badge')).toHaveText('Saved on this device — will sync');

  // Meanwhile the nurse, online at another desk, gives the same slot to someone else.
  const nurse = await setup(request, 'care-nurse');
  const walkIn = await newPatient(request, nurse, `Walk In ${stamp}`);
  expect((await bookViaApi(request, nurse, contested.id, walkIn.id, 'walk-in')).status).toBe(200);

  await context.setOffline(false);
  await expect(page.getByTestId('sync-badge')).toHaveText('1 need attention', { timeout: 30_000 });
  const refused = page.getByTestId('booking-refused');
  await expect(refused).toContainText('Slot is already full');
  // One status: never "Booked" under "Not booked".
  await expect(page.getByTestId('appointment-status')).toHaveText('Not booked');
  await expect(page.getByText('Booked', { exact: true })).toHaveCount(0);
  await expect(page.getByTestId('unsynced-badge')).toHaveText('Not synced — see Sync status');
  expect(await bookingsOf(request, c, patient.id)).toHaveLength(0);

  await page.getByTestId('sync-badge').click();
  const row = page.getByTestId('section-failed').getByTestId('write-row');
  await expect(row).toContainText(`Book appointment: ${patient.name}`);
  await expect(row.getByTestId('write-error')).toContainText('Slot is already full');
  await row.getByRole('link', { name: 'Choose another slot' }).click();

  await expect(page.getByTestId('replacing')).toBeVisible();
  await expect(page.getByTestId('chosen-patient')).toContainText(patient.name);
  await expect(page.getByLabel('Practitioner')).toHaveValue(c.nurse.id);
  await expect(page.getByLabel('Reason for visit')).toHaveValue('Cough');
  await pickDay(page, day);
  await expect(page.locator(`[data-slot-id="${contested.id}"]`)).toBeDisabled();
  await page.locator(`[data-slot-id="${other.id}"]`).click();
  await page.getByRole('button', { name: 'Book appointment' }).click();

  await expect(page).toHaveURL(UUID);
  await expect(page.getByTestId('appointment-status')).toHaveText('Booked');
  await expect(page.getByTestId('unsynced-badge')).toHaveCount(0);
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced', { timeout: 30_000 });
  const mine = await bookingsOf(request, c, patient.id);
  expect(mine).toHaveLength(1);
  expect(mine[0].token_slot.id).toBe(other.id);
  expect(mine[0].id).toBe(idOf(page));
  await page.getByTestId('sync-badge').click();
  await expect(page.getByTestId('section-failed').getByTestId('write-row')).toHaveCount(0);
});
