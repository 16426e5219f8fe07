// Workflows 1 and 3 beyond registration: find by phone → verify → home (online and over
// cached data offline), profile tabs, assigning and removing a user and raising a resource
// request (online and offline, each sent once), and what a volunteer may not do.
const { test, expect, login, swControls, apiToken, savedOnDevice } = require('./fixtures');

const auth = (token) => ({ Authorization: `Bearer ${token}` });

/** Chooses the option whose text contains `text`. */
async function chooseOption(select, text) {
  await expect(select).toContainText(text);
  const value = await select.evaluate((el, t) => [...el.options].find((o) => o.text.includes(t)).value, text);
  await select.selectOption(value);
}

/** A patient of our own, so no other test changes it; returns its retrieve JSON. */
async function createPatient(request, token, { name, phone, dob }) {
  const list = await (await request.get('/api/v1/patient/?limit=1', { headers: auth(token) })).json();
  const some = await (await request.get(`/api/v1/patient/${list.results[0].id}/`, { headers: auth(token) })).json();
  const resp = await request.post('/api/v1/patient/', {
    headers: auth(token),
    data: {
      name, phone_number: phone, gender: 'female', date_of_birth: dob, address: 'Ward 4',
      permanent_address: 'Ward 4', geo_organization: some.geo_organization.id,
    },
  });
  expect(resp.status()).toBe(200);
  return resp.json();
}

/** A phone number no seeded or other test patient has. */
function uniquePhone() {
  return `+9197${String(Date.now()).slice(-8)}`;
}

async function openPatients(page) {
  await login(page);
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await page.getByRole('link', { name: 'Patients' }).click();
  await expect(page.getByTestId('patient-list')).toBeVisible();
}

/** Opens the patient's Users tab as care-doctor, with the service worker in control. */
async function openUsersTab(page, patientId) {
  await openPatients(page);
  await swControls(page);
  await page.goto(`${page.url().replace(/\/patients.*$/, '')}/patients/${patientId}?tab=users`);
  return page.getByTestId('patient-users');
}

/** Assigns `username` to the patient through the API (another device did it). */
async function assignByApi(request, token, patientId, username) {
  const user = await (await request.get(`/api/v1/users/${username}/`, { headers: auth(token) })).json();
  const roles = await (await request.get('/api/v1/role/?name=nurse', { headers: auth(token) })).json();
  const resp = await request.post(`/api/v1/patient/${patientId}/add_user/`, {
    headers: auth(token), data: { user: user.id, role: roles.results[0].id },
  });
  expect(resp.status()).toBe(200);
  return user;
}

async function assignedUsernames(request, token, patientId) {
  const users = await (await request.get(`/api/v1/patient/${patientId}/get_users/`, { headers: auth(token) })).json();
  return users.results.map((u) => u.username).sort();
}

/** Counts the user writes the page sends (alone or inside a sync/push) by route. */
function countUserWrites(page) {
  const sent = { add_user: 0, delete_user: 0 };
  page.on('request', (req) => {
    if (req.method() !== 'POST') return;
    const body = req.postData() || '';
    for (const route of Object.keys(sent)) {
      if (req.url().includes(`/${route}/`)) sent[route] += 1;
      else if (req.url().includes('/sync/push')) sent[route] += body.split(`/${route}/`).length - 1;
    }
  });
  return sent;
}

test('find by phone → year of birth → the patient home, and a wrong year is refused', async ({ page, request }) => {
  const token = await apiToken(request);
  const phone = uniquePhone();
  const p = await createPatient(request, token, { name: `Find Me ${Date.now()}`, phone, dob: '1988-06-01' });
  await openPatients(page);
  await page.getByRole('link', { name: 'Find by phone' }).click();
  // A number that cannot be one: the error is linked to the field.
  await page.getByLabel('Phone number').fill('12');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page.getByLabel('Phone number')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('#find-value-error')).toBeVisible();
  await expect(page.getByLabel('Phone number')).toHaveAttribute('aria-describedby', 'find-value-error');
  await page.getByLabel('Phone number').fill(phone.slice(3)); // 10 digits: +91 is assumed
  await page.getByRole('button', { name: 'Search' }).click();
  const results = page.getByTestId('search-results');
  await expect(results.locator('li')).toHaveCount(1);
  await expect(results).toContainText(p.name);
  // Partial results never show the year of birth.
  await expect(results).not.toContainText('1988');

  await results.getByRole('button', { name: new RegExp(p.name) }).click();
  await page.getByLabel('Year of birth').fill('1989');
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByTestId('not-verified')).toBeVisible();

  await page.goBack();
  await results.getByRole('button', { name: new RegExp(p.name) }).click();
  await page.getByLabel('Year of birth').fill('1988');
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByTestId('patient-home')).toContainText(p.name);
  await page.getByRole('link', { name: 'Open profile' }).click();
  await expect(page.getByTestId('patient-name')).toHaveText(p.name);
  expect(page.url()).toContain(p.id);
});

test('offline, find → verify → home works over the patients saved on this device', async ({ page, context, request }) => {
  const token = await apiToken(request);
  const phone = uniquePhone();
  const p = await createPatient(request, token, { name: `Cached Find ${Date.now()}`, phone, dob: '1975-01-09' });
  await openPatients(page);
  await swControls(page);
  // The newest patient is on the first page of the list: now cached on the device.
  await expect(page.getByTestId('patient-list').locator('li').first()).toContainText(p.name);
  await page.getByRole('link', { name: 'Find by phone' }).click();
  await expect(page.getByLabel('Phone number')).toBeVisible();

  await context.setOffline(true);
  await page.reload();
  await expect(page.getByTestId('connectivity')).toHaveText('Offline');
  await page.getByLabel('Phone number').fill(phone);
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page.getByTestId('local-search')).toBeVisible();
  const results = page.getByTestId('search-results');
  await expect(results.locator('li')).toHaveCount(1);
  await results.getByRole('button', { name: new RegExp(p.name) }).click();
  await page.getByLabel('Year of birth').fill('1976');
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByTestId('not-verified')).toBeVisible();
  await page.goBack();
  await results.getByRole('button', { name: new RegExp(p.name) }).click();
  await page.getByLabel('Year of birth').fill('1975');
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByTestId('local-verify')).toBeVisible();
  await expect(page.getByTestId('patient-home')).toContainText(p.name);
  await page.getByRole('link', { name: 'Open profile' }).click();
  await expect(page.getByTestId('patient-name')).toHaveText(p.name);
  await expect(page.getByTestId('from-list')).toBeVisible();
  await context.setOffline(false);
});

test('assigning a user online and offline: listed at once, sent once', async ({ page, context, request }) => {
  const token = await apiToken(request);
  const p = await createPatient(request, token, { name: `Users Tab ${Date.now()}`, phone: uniquePhone(), dob: '1990-02-02' });
  await openUsersTab(page, p.id);
  await expect(page.getByText('No users are assigned to this patient.')).toBeVisible();
  const form = page.getByTestId('add-user');
  await expect(form.getByLabel('User', { exact: true }).locator('option')).not.toHaveCount(1);
  await expect(form.getByLabel('Role').locator('option')).not.toHaveCount(1);

  // Online: assigned and on the server.
  await chooseOption(form.getByLabel('User', { exact: true }), 'care-nurse');
  await form.getByLabel('Role').selectOption({ index: 1 });
  await form.getByRole('button', { name: 'Assign user' }).click();
  await expect(form.getByTestId('write-status')).toHaveText('User assigned.');
  await expect(page.getByTestId('patient-users')).toContainText('care-nurse');

  // Offline: listed with its badge, sent once when back.
  await context.setOffline(true);
  await expect(page.getByTestId('connectivity')).toHaveText('Offline');
  await chooseOption(form.getByLabel('User', { exact: true }), 'care-admin');
  await form.getByLabel('Role').selectOption({ index: 1 });
  await form.getByRole('button', { name: 'Assign user' }).click();
  await expect(form.getByTestId('write-status')).toContainText('Saved on this device');
  const row = page.getByTestId('patient-users').locator('li', { hasText: 'care-admin' });
  await expect(row.getByTestId('unsynced-badge')).toBeVisible();
  // The same user again is refused on the form, not queued twice.
  await chooseOption(form.getByLabel('User', { exact: true }), 'care-admin');
  await form.getByRole('button', { name: 'Assign user' }).click();
  await expect(form.getByRole('alert')).toContainText('already assigned');

  await context.setOffline(false);
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced', { timeout: 30_000 });
  await expect(row.getByTestId('unsynced-badge')).toHaveCount(0);
  expect(await assignedUsernames(request, token, p.id)).toEqual(['care-admin', 'care-nurse']);
});

test('removing a user online and offline: asked first, hidden at once, removed once', async ({ page, context, request }) => {
  const token = await apiToken(request);
  const p = await createPatient(request, token, { name: `Remove User ${Date.now()}`, phone: uniquePhone(), dob: '1992-04-04' });
  const nurse = await assignByApi(request, token, p.id, 'care-nurse');
  const staff = await assignByApi(request, token, p.id, 'care-staff');
  const sent = countUserWrites(page);
  const list = await openUsersTab(page, p.id);
  await expect(list.locator('li')).toHaveCount(2);

  // Online: asked first; "Cancel" keeps the user.
  const nurseRow = list.locator('li', { hasText: 'care-nurse' });
  await nurseRow.getByRole('button', { name: 'Remove' }).click();
  const confirm = nurseRow.getByRole('group', { name: 'Confirm removal' });
  await expect(confirm).toContainText(`Remove ${nurse.first_name} ${nurse.last_name} from this patient?`);
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(confirm).toHaveCount(0);
  await nurseRow.getByRole('button', { name: 'Remove' }).click();
  await nurseRow.getByRole('button', { name: 'Yes, remove' }).click();
  await expect(page.getByTestId('write-status').first()).toHaveText('User removed.');
  await expect(list.locator('li', { hasText: 'care-nurse' })).toHaveCount(0);
  expect(await assignedUsernames(request, token, p.id)).toEqual(['care-staff']);
  expect(sent.delete_user).toBe(1);

  // Offline: hidden at once, with its badge among the removals not yet synced.
  await savedOnDevice(page);
  await context.setOffline(true);
  await expect(page.getByTestId('connectivity')).toHaveText('Offline');
  const staffRow = list.locator('li', { hasText: 'care-staff' });
  await staffRow.getByRole('button', { name: 'Remove' }).click();
  await staffRow.getByRole('button', { name: 'Yes, remove' }).click();
  await expect(page.getByText('No users are assigned to this patient.')).toBeVisible();
  const pending = page.getByTestId('pending-removals').locator('li', { hasText: 'care-staff' });
  await expect(pending).toContainText(`${staff.first_name} ${staff.last_name}`);
  await expect(pending.getByTestId('unsynced-badge')).toHaveText('Removal saved on this device — will sync');
  await expect(page.getByTestId('write-status').first()).toContainText('Saved on this device');
  // Still hidden after a reload on the device.
  await page.reload();
  await expect(page.getByText('No users are assigned to this patient.')).toBeVisible();
  await expect(pending.getByTestId('unsynced-badge')).toBeVisible();
  expect(await assignedUsernames(request, token, p.id)).toEqual(['care-staff']);

  await context.setOffline(false);
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced', { timeout: 30_000 });
  await expect(page.getByTestId('pending-removals')).toHaveCount(0);
  await expect(page.getByText('No users are assigned to this patient.')).toBeVisible();
  expect(await assignedUsernames(request, token, p.id)).toEqual([]);
  expect(sent.delete_user).toBe(2);
  expect(sent.add_user).toBe(0);
});

test('a user assigned and removed again offline is never sent; a removal then a new assignment go in order', async ({ page, context, request }) => {
  const token = await apiToken(request);
  const p = await createPatient(request, token, { name: `Undo Assign ${Date.now()}`, phone: uniquePhone(), dob: '1993-05-05' });
  await assignByApi(request, token, p.id, 'care-nurse');
  const sent = countUserWrites(page);
  const list = await openUsersTab(page, p.id);
  await expect(list.locator('li')).toHaveCount(1);
  const form = page.getByTestId('add-user');
  await expect(form.getByLabel('User', { exact: true }).locator('option')).not.toHaveCount(1);
  await expect(form.getByLabel('Role').locator('option')).not.toHaveCount(1);
  await savedOnDevice(page);

  await context.setOffline(true);
  await expect(page.getByTestId('connectivity')).toHaveText('Offline');
  // Assign care-admin, then take it back: the assignment is withdrawn, nothing is queued.
  await chooseOption(form.getByLabel('User', { exact: true }), 'care-admin');
  await form.getByLabel('Role').selectOption({ index: 1 });
  await form.getByRole('button', { name: 'Assign user' }).click();
  const adminRow = list.locator('li', { hasText: 'care-admin' });
  await expect(adminRow.getByTestId('unsynced-badge')).toBeVisible();
  await adminRow.getByRole('button', { name: 'Remove' }).click();
  await adminRow.getByRole('button', { name: 'Yes, remove' }).click();
  await expect(adminRow).toHaveCount(0);
  await expect(page.getByTestId('removal-note')).toContainText('nothing is sent');
  await expect(page.getByTestId('pending-removals')).toHaveCount(0);
  // Remove care-nurse (assigned on the server), then assign them again: both are queued,
  // the assignment after the removal.
  const nurseRow = list.locator('li', { hasText: 'care-nurse' });
  await nurseRow.getByRole('button', { name: 'Remove' }).click();
  await nurseRow.getByRole('button', { name: 'Yes, remove' }).click();
  await expect(nurseRow).toHaveCount(0);
  await chooseOption(form.getByLabel('User', { exact: true }), 'care-nurse');
  await form.getByLabel('Role').selectOption({ index: 1 });
  await form.getByRole('button', { name: 'Assign user' }).click();
  await expect(nurseRow.getByTestId('unsynced-badge')).toHaveText('Saved on this device — will sync');

  await context.setOffline(false);
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced', { timeout: 30_000 });
  await expect(nurseRow.getByTestId('unsynced-badge')).toHaveCount(0);
  expect(await assignedUsernames(request, token, p.id)).toEqual(['care-nurse']);
  expect(sent).toEqual({ add_user: 1, delete_user: 1 });
});

test('a resource request raised offline is listed at once and created once; its comments and status change online and offline', async ({ page, context, request }) => {
  const token = await apiToken(request);
  const p = await createPatient(request, token, { name: `Resource Tab ${Date.now()}`, phone: uniquePhone(), dob: '1960-12-12' });
  await openPatients(page);
  await swControls(page);
  const profile = `${page.url().replace(/\/patients.*$/, '')}/patients/${p.id}`;
  await page.goto(`${profile}?tab=resources`);
  await expect(page.getByText('No resource requests for this patient.')).toBeVisible();
  await page.getByRole('link', { name: 'New resource request' }).click();
  await expect(page.getByLabel('Title')).toBeVisible();
  // A missing field is reported on the form.
  await page.getByRole('button', { name: 'Save request' }).click();
  await expect(page.getByText('Enter a title.')).toBeVisible();

  await context.setOffline(true);
  await expect(page.getByTestId('connectivity')).toHaveText('Offline');
  const title = `Oxygen concentrator ${Date.now()}`;
  await page.getByLabel('Title').fill(title);
  await page.getByLabel('Reason').fill('SpO2 88% on room air');
  await page.getByLabel('Category').selectOption('comfort_devices');
  await page.getByLabel('Contact name').fill('Dr. Rao');
  await page.getByLabel('Contact phone').fill('+91 98765 43210');
  await page.getByRole('button', { name: 'Save request' }).click();
  const list = page.getByTestId('patient-resources');
  await expect(list.locator('li').first()).toContainText(title);
  await expect(list.getByTestId('unsynced-badge')).toBeVisible();
  await list.getByRole('link', { name: title }).click();
  await expect(page.getByTestId('resource-title')).toHaveText(title);
  // A comment on the request raised offline: shown at once, sent after the request.
  const comments = page.getByTestId('resource-comments');
  await page.getByRole('button', { name: 'Add comment' }).click();
  await expect(page.getByText('Write a comment first.')).toBeVisible();
  await page.getByLabel('Add a comment').fill('Cylinder as a stopgap');
  await page.getByRole('button', { name: 'Add comment' }).click();
  await expect(comments.getByTestId('resource-comment').first()).toContainText('Cylinder as a stopgap');
  await expect(comments.getByTestId('unsynced-badge')).toBeVisible();

  await context.setOffline(false);
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced', { timeout: 30_000 });
  await expect(comments.getByTestId('unsynced-badge')).toHaveCount(0);
  await page.goto(`${profile}?tab=resources`);
  await expect(page.getByTestId('patient-resources').getByTestId('unsynced-badge')).toHaveCount(0);
  const server = await (await request.get(`/api/v1/resource/?related_patient=${p.id}`, { headers: auth(token) })).json();
  const created = server.results.filter((r) => r.title === title);
  expect(created).toHaveLength(1);
  const commentsOf = async () => (await (await request.get(`/api/v1/resource/${created[0].id}/comment/`, { headers: auth(token) })).json())
    .results.map((c) => c.comment);
  expect(await commentsOf()).toEqual(['Cylinder as a stopgap']);

  // Online, on the synced request: added and on the server, newest first.
  await page.getByTestId('patient-resources').getByRole('link', { name: title }).click();
  await page.getByLabel('Add a comment').fill('Concentrator arrived');
  await page.getByRole('button', { name: 'Add comment' }).click();
  await expect(comments.getByTestId('resource-comment').first()).toContainText('Concentrator arrived');
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced', { timeout: 30_000 });
  await expect.poll(commentsOf).toEqual(['Concentrator arrived', 'Cylinder as a stopgap']);

  // Its status: changed online, then offline (shown at once, sent when back), each once.
  const status = page.locator('.facts__row', { hasText: 'Status' }).locator('dd');
  const statusOnServer = async () => (await (await request.get(`/api/v1/resource/${created[0].id}/`, { headers: auth(token) })).json()).status;
  await page.getByLabel('Change status').selectOption('approved');
  await page.getByRole('button', { name: 'Update status' }).click();
  await expect(page.getByTestId('write-status')).toHaveText('Status updated.');
  await expect(status).toHaveText('Approved');
  expect(await statusOnServer()).toBe('approved');
  await context.setOffline(true);
  await expect(page.getByTestId('connectivity')).toHaveText('Offline');
  await page.getByLabel('Change status').selectOption('completed');
  await page.getByRole('button', { name: 'Update status' }).click();
  await expect(status).toHaveText('Completed');
  await expect(page.getByTestId('unsynced-badge').first()).toBeVisible();
  expect(await statusOnServer()).toBe('approved');
  await context.setOffline(false);
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced', { timeout: 30_000 });
  expect(await statusOnServer()).toBe('completed');
});

test('a volunteer sees no edit, assign or remove controls, and the edit page says why', async ({ page, request }) => {
  const token = await apiToken(request);
  const p = await createPatient(request, token, { name: `Volunteer View ${Date.now()}`, phone: uniquePhone(), dob: '2001-07-07' });
  await assignByApi(request, token, p.id, 'care-nurse');
  await login(page, 'care-volunteer');
  await expect(page.getByTestId('facility-name')).toBeVisible();
  const base = page.url().replace(/\/$/, '');
  await page.goto(`${base}/patients/${p.id}`);
  await expect(page.getByTestId('patient-name')).toHaveText(p.name);
  await expect(page.getByRole('link', { name: 'Edit' })).toHaveCount(0);
  await page.getByRole('link', { name: 'Users' }).click();
  await expect(page.getByTestId('patient-users')).toContainText('care-nurse');
  await expect(page.getByRole('button', { name: /Remove/ })).toHaveCount(0);
  await expect(page.getByTestId('add-user')).toHaveCount(0);
  await page.goto(`${base}/patients/${p.id}/edit`);
  await expect(page.getByRole('alert')).toHaveText('Your role cannot edit patient details.');
});

test('the appointments tab lists the patient\'s bookings', async ({ page, request }) => {
  const token = await apiToken(request);
  const headers = auth(token);
  const p = await createPatient(request, token, { name: `Appt Tab ${Date.now()}`, phone: uniquePhone(), dob: '1984-03-03' });
  const me = await (await request.get('/api/v1/users/getcurrentuser/', { headers })).json();
  const fid = me.facilities[0].id;
  const users = await (await request.get(`/api/v1/facility/${fid}/appointments/available_users/`, { headers })).json();
  const nurse = users.users.find((u) => u.username === 'care-nurse');
  // A day no other test books (the appointment tests use 5–10 days ahead), Mon–Sat in IST.
  const d = new Date(Date.now() + 5.5 * 3600e3);
  d.setUTCDate(d.getUTCDate() + 11);
  while (d.getUTCDay() === 0) d.setUTCDate(d.getUTCDate() + 1);
  const day = d.toISOString().slice(0, 10);
  const slots = await (await request.post(`/api/v1/facility/${fid}/slots/get_slots_for_day/`, {
    headers, data: { resource_type: 'practitioner', resource_id: nurse.id, day },
  })).json();
  const slot = slots.results.find((s) => s.allocated < (s.availability.tokens_per_slot || 1));
  const booked = await request.post(`/api/v1/facility/${fid}/slots/${slot.id}/create_appointment/`, {
    headers, data: { patient: p.id, note: 'profile tab' },
  });
  expect(booked.status()).toBe(200);

  await openPatients(page);
  await page.goto(`${page.url().replace(/\/patients.*$/, '')}/patients/${p.id}`);
  await page.getByRole('navigation', { name: 'Patient profile' }).getByRole('link', { name: 'Appointments' }).click();
  const list = page.getByTestId('patient-appointments');
  await expect(list.locator('li')).toHaveCount(1);
  await expect(list).toContainText('booked');
  await expect(list).toContainText(nurse.first_name);
});

test('the health profile and forms tabs show what every encounter recorded, also offline', async ({ page, context, request }) => {
  const token = await apiToken(request);
  const me = await (await request.get('/api/v1/users/getcurrentuser/', { headers: auth(token) })).json();
  const encounters = await (await request.get(`/api/v1/encounter/?facility=${me.facilities[0].id}&limit=50`, { headers: auth(token) })).json();
  // A seeded patient with symptoms and filled forms (the demo seed gives every encounter some).
  let patientId;
  let symptoms;
  for (const e of encounters.results) {
    const list = await (await request.get(`/api/v1/patient/${e.patient.id}/symptom/?limit=100`, { headers: auth(token) })).json();
    if (list.count > 0) { patientId = e.patient.id; symptoms = list; break; }
  }
  expect(patientId).toBeTruthy();
  const forms = await (await request.get(`/api/v1/patient/${patientId}/questionnaire_response/?only_unstructured=true&limit=100`, { headers: auth(token) })).json();
  expect(forms.results.length).toBeGreaterThan(0);

  await openPatients(page);
  await swControls(page);
  const profile = `${page.url().replace(/\/patients.*$/, '')}/patients/${patientId}`;
  await page.goto(`${profile}?tab=health`);
  const symptomList = page.getByTestId('clinical-symptom').getByTestId('clinical-entry');
  await expect(symptomList).toHaveCount(symptoms.results.length);
  await expect(page.getByTestId('clinical-symptom')).toContainText(symptoms.results[0].code.display);
  await page.getByRole('navigation', { name: 'Patient profile' }).getByRole('link', { name: 'Forms' }).click();
  await expect(page.getByTestId('filled-form')).toHaveCount(forms.results.length);
  await savedOnDevice(page);

  await context.setOffline(true);
  await page.goto(`${profile}?tab=health`);
  await expect(page.getByTestId('connectivity')).toHaveText('Offline');
  await expect(symptomList).toHaveCount(symptoms.results.length);
  await context.setOffline(false);
});
