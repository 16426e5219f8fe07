// Encounters and questionnaires, online and offline, against the built-in CARE backend.
// Every test makes its own patient (CARE allows 5 active encounters per patient), so no
// test depends on data another one changes.
const {
  test, expect, login, swControls, apiToken, savedOnDevice, fillRegistration, loadAreaLists,
} = require('./fixtures');

const auth = (token) => ({ Authorization: `Bearer ${token}` });

async function get(request, token, path) {
  const resp = await request.get(`/api/v1${path}`, { headers: auth(token) });
  expect(resp.status(), path).toBe(200);
  return resp.json();
}

/** A patient registered through the API (as on another device). */
async function createPatient(request, token, name) {
  const roots = await get(request, token, '/organization/?org_type=govt&parent=&limit=200');
  const resp = await request.post('/api/v1/patient/', {
    headers: auth(token),
    data: {
      name, gender: 'female', phone_number: '+919812399001', date_of_birth: '1988-02-03',
      address: 'Fort Kochi', permanent_address: 'Fort Kochi', geo_organization: roots.results[0].id,
    },
  });
  expect(resp.status()).toBe(200);
  return (await resp.json()).id;
}

async function departments(request, token, facilityId) {
  return (await get(request, token, `/facility/${facilityId}/organizations/?limit=200`)).results;
}

async function createEncounter(request, token, facilityId, patientId) {
  const orgs = await departments(request, token, facilityId);
  const resp = await request.post('/api/v1/encounter/', {
    headers: auth(token),
    data: {
      patient: patientId, facility: facilityId, status: 'in_progress', encounter_class: 'amb',
      priority: 'routine', period: { start: new Date().toISOString() }, organizations: [orgs[0].id],
    },
  });
  expect(resp.status()).toBe(200);
  return (await resp.json()).id;
}

async function encountersOf(request, token, patientId) {
  return (await get(request, token, `/encounter/?patient=${patientId}&limit=50`)).results;
}

/** Signs in and returns the facility id (the home page is the facility's). */
async function start(page) {
  await login(page);
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await swControls(page);
  return new URL(page.url()).pathname.split('/')[2];
}

/** Fills the start-encounter form (its departments were loaded while online). */
async function startEncounter(page) {
  await page.getByLabel('General Medicine').check();
  await page.getByRole('button', { name: 'Start encounter' }).click();
  await expect(page.getByTestId('encounter-status')).toBeVisible();
}

test('starting an encounter online opens the server\'s encounter', async ({ page, request }) => {
  const fid = await start(page);
  const token = await apiToken(request);
  const name = `Enc Online ${Date.now()}`;
  const pid = await createPatient(request, token, name);
  await page.goto(`/facility/${fid}/patients/${pid}`);
  await page.getByRole('link', { name: 'Start encounter' }).click();
  await expect(page.getByTestId('encounter-patient')).toHaveText(name);
  await page.getByLabel('Class').selectOption({ label: 'Emergency' });
  await startEncounter(page);

  await expect(page.getByTestId('encounter-status')).toHaveText('In progress');
  await expect(page.getByTestId('encounter-class')).toHaveText('Emergency');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Emergency encounter — ${name}`);
  await expect(page.getByTestId('encounter-departments')).toHaveText('General Medicine');
  await expect(page.getByTestId('unsynced-badge')).toHaveCount(0);
  const onServer = await encountersOf(request, token, pid);
  expect(onServer).toHaveLength(1);
  expect(page.url()).toContain(`/encounter/${onServer[0].id}`);

  // The facility list, filtered by status, has it.
  await page.getByRole('link', { name: '← Encounters' }).click();
  await page.getByLabel('Status').selectOption({ label: 'In progress' });
  await expect(page.getByTestId('encounter-list').getByRole('link', { name })).toBeVisible();
  await page.getByLabel('Status').selectOption({ label: 'Completed' });
  await expect(page.getByTestId('encounter-list').getByRole('link', { name })).toHaveCount(0);
});

test('the encounter form says what is missing', async ({ page, request }) => {
  const fid = await start(page);
  const pid = await createPatient(request, await apiToken(request), `Enc Missing ${Date.now()}`);
  await page.goto(`/facility/${fid}/patients/${pid}/encounters/new`);
  await expect(page.getByLabel('General Medicine')).toBeVisible();
  await page.getByRole('button', { name: 'Start encounter' }).click();
  await expect(page.getByText('Choose at least one department.')).toBeVisible();
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced');
});

test('CARE refusing an encounter online shows on the form, and nothing is kept', async ({ page, request }) => {
  const fid = await start(page);
  const token = await apiToken(request);
  const pid = await createPatient(request, token, `Enc Max ${Date.now()}`);
  for (let i = 0; i < 5; i++) await createEncounter(request, token, fid, pid);
  await page.goto(`/facility/${fid}/patients/${pid}/encounters/new`);
  await expect(page.getByLabel('General Medicine')).toBeVisible();
  await page.getByLabel('General Medicine').check();
  await page.getByRole('button', { name: 'Start encounter' }).click();
  await expect(page.getByRole('alert')).toContainText('maximum number of active encounters');
  await expect(page.getByLabel('General Medicine')).toBeChecked();
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced');
  expect(await encountersOf(request, token, pid)).toHaveLength(5);
});

test('a patient registered online a moment ago gets an encounter offline; it syncs once', async ({ page, context, request }) => {
  const fid = await start(page);
  const name = `Enc Fresh ${Date.now()}`;
  await page.getByRole('link', { name: 'Patients' }).click();
  await page.getByRole('link', { name: 'Register patient' }).click();
  await fillRegistration(page, name, '+919812399002');
  await page.getByRole('button', { name: 'Register patient' }).click();
  await expect(page.getByTestId('patient-name')).toHaveText(name);
  await expect(page.getByTestId('unsynced-badge')).toHaveCount(0);
  await page.getByRole('link', { name: 'Start encounter' }).click();
  await expect(page.getByLabel('General Medicine')).toBeVisible();

  await context.setOffline(true);
  await expect(page.getByTestId('connectivity')).toHaveText('Offline');
  await startEncounter(page);
  await expect(page.getByTestId('encounter-patient')).toHaveText(name);
  await expect(page.getByTestId('unsynced-badge').first()).toHaveText('Saved on this device — will sync');
  await expect(page.getByTestId('sync-badge')).toHaveText('1 to sync');

  await context.setOffline(false);
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced', { timeout: 30_000 });
  await expect(page.getByTestId('unsynced-badge')).toHaveCount(0);
  const token = await apiToken(request);
  const pid = (await get(request, token, `/patient/?name=${encodeURIComponent(name)}&limit=5`)).results[0].id;
  expect(await encountersOf(request, token, pid)).toHaveLength(1);
});

test('a patient registered offline gets an encounter offline; both sync in order with server ids', async ({ page, context, request }) => {
  const fid = await start(page);
  const token = await apiToken(request);
  const name = `Enc Offline Patient ${Date.now()}`;
  // Online once: the registration form's areas and the facility's departments.
  const other = await createPatient(request, token, `Enc Warmup ${Date.now()}`);
  await page.goto(`/facility/${fid}/patients/${other}/encounters/new`);
  await expect(page.getByLabel('General Medicine')).toBeVisible();
  await page.getByRole('link', { name: 'Patients' }).click();
  await page.getByRole('link', { name: 'Register patient' }).click();
  await loadAreaLists(page);

  await context.setOffline(true);
  await expect(page.getByTestId('connectivity')).toHaveText('Offline');
  await fillRegistration(page, name, '+919812399003');
  await page.getByRole('button', { name: 'Register patient' }).click();
  await expect(page.getByTestId('patient-name')).toHaveText(name);
  await page.getByRole('link', { name: 'Start encounter' }).click();
  await startEncounter(page);
  await expect(page.getByTestId('encounter-patient')).toHaveText(name);
  await expect(page.getByTestId('sync-badge')).toHaveText('2 to sync');
  // The patient's page lists it too.
  await page.getByTestId('encounter-patient').getByRole('link').click();
  await page.getByRole('navigation', { name: 'Patient profile' }).getByRole('link', { name: 'Encounters' }).click();
  await expect(page.getByTestId('patient-encounter-list').getByTestId('encounter-row')).toHaveCount(1);

  await context.setOffline(false);
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced', { timeout: 30_000 });
  const patients = (await get(request, token, `/patient/?name=${encodeURIComponent(name)}&limit=5`)).results;
  expect(patients).toHaveLength(1);
  const encounters = await encountersOf(request, token, patients[0].id);
  expect(encounters).toHaveLength(1);
  expect(encounters[0].patient.id).toBe(patients[0].id);
  await expect(page.getByTestId('patient-encounter-list').getByTestId('unsynced-badge')).toHaveCount(0);
});

test('an encounter started offline is completed offline; both sync in order and the page refreshes itself', async ({ page, context, request }) => {
  const fid = await start(page);
  const token = await apiToken(request);
  const name = `Enc Complete ${Date.now()}`;
  const pid = await createPatient(request, token, name);
  await page.goto(`/facility/${fid}/patients/${pid}`);
  await page.getByRole('link', { name: 'Start encounter' }).click();
  await expect(page.getByLabel('General Medicine')).toBeVisible();

  await context.setOffline(true);
  await expect(page.getByTestId('connectivity')).toHaveText('Offline');
  await startEncounter(page);
  // Still there after a reload while offline.
  await page.reload();
  await expect(page.getByTestId('encounter-status')).toHaveText('In progress');
  await expect(page.getByTestId('clinical-symptom')).toContainText('None recorded.');
  await page.getByRole('button', { name: 'Complete encounter' }).click();
  await page.getByRole('button', { name: 'Yes, complete' }).click();
  await expect(page.getByTestId('encounter-status')).toHaveText('Completed');
  await expect(page.getByTestId('encounter-end')).not.toHaveText('—');
  await expect(page.getByTestId('unsynced-badge').first()).toBeVisible();
  await expect(page.getByTestId('sync-badge')).toHaveText('2 to sync');
  expect(await encountersOf(request, token, pid)).toHaveLength(0);

  await context.setOffline(false);
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced', { timeout: 30_000 });
  const [server] = await encountersOf(request, token, pid);
  expect(server.status).toBe('completed');
  expect(server.period.end).toBeTruthy();
  expect(server.status_history.history.map((h) => h.status)).toEqual(['in_progress', 'completed']);
  // Without a reload, the page now shows the server's record.
  await expect(page.getByTestId('unsynced-badge')).toHaveCount(0);
  await expect(page.getByTestId('encounter-status')).toHaveText('Completed');
  await expect(page.getByRole('button', { name: 'Complete encounter' })).toHaveCount(0);
});

/** Searches a code picker while online so the search is cached on the device. */
async function warmPicker(page, label, search, code) {
  const box = page.getByLabel(label);
  await box.fill(search);
  await expect(page.getByRole('button', { name: `Add ${code}`, exact: true })).toBeVisible();
  await box.fill('');
}

async function pick(page, label, search, code) {
  await page.getByLabel(label).fill(search);
  await page.getByRole('button', { name: `Add ${code}`, exact: true }).click();
}

test('a questionnaire with every question type filled offline syncs as one batch', async ({ page, context, request }) => {
  const fid = await start(page);
  const token = await apiToken(request);
  const pid = await createPatient(request, token, `Enc Form ${Date.now()}`);
  const eid = await createEncounter(request, token, fid, pid);
  await page.goto(`/facility/${fid}/encounter/${eid}`);
  await expect(page.getByTestId('encounter-status')).toHaveText('In progress');
  // Only forms the app can fill are offered (the Death Form is one structured part it lacks).
  await expect(page.getByTestId('form-links')).toContainText('Encounter Assessment (demo)');
  await expect(page.getByTestId('form-links')).not.toContainText('Death Form');
  await page.getByRole('link', { name: 'Encounter Assessment (demo)' }).click();
  await expect(page.getByLabel('Chief complaint')).toBeVisible();
  // The pickers' searches are cached while online; favourites and recent picks too.
  await page.getByRole('group', { name: 'Any known allergies?' }).getByLabel('Yes').check();
  await warmPicker(page, 'Add to Allergies', 'penicillin', 'Allergy to penicillin');
  await warmPicker(page, 'Add to Symptoms', 'fever', 'Fever');
  await warmPicker(page, 'Add to Diagnoses', 'headache', 'Headache');
  await warmPicker(page, 'Add to Current medications', 'paracetamol', 'Paracetamol');
  // Queries are saved on the device in batches a few milliseconds after they load.
  await savedOnDevice(page);

  await context.setOffline(true);
  await expect(page.getByTestId('connectivity')).toHaveText('Offline');
  await page.getByLabel('Chief complaint').fill('Fever for two days');
  await page.getByLabel('History of present illness').fill('Started after travel.');
  await page.getByLabel('Pulse (beats/min)').fill('92');
  await page.getByLabel('Body temperature (°C)').fill('38.4');
  await page.getByLabel('Body weight').fill('61.5');
  await page.getByLabel('Level of consciousness (AVPU)').selectOption('Voice');
  await page.getByLabel('When did the symptoms start?').fill('2026-11-20T08:30');
  await page.getByLabel('Time of last meal').fill('13:15');
  await page.getByLabel('First day of last menstrual period').fill('2026-11-01');
  await page.getByRole('group', { name: 'Does the patient smoke?' }).getByLabel('Yes').check();
  await page.getByLabel('Cigarettes per day').fill('5');
  await page.getByRole('group', { name: 'Advised to quit?' }).getByLabel('Yes').check();
  await page.getByLabel('Referral letter (link)').fill('https://example.org/referral');
  await pick(page, 'Add to Allergies', 'penicillin', 'Allergy to penicillin');
  await pick(page, 'Add to Symptoms', 'fever', 'Fever');
  await page.getByLabel('Severity of Fever').selectOption('moderate');
  await pick(page, 'Add to Diagnoses', 'headache', 'Headache');
  await pick(page, 'Add to Current medications', 'paracetamol', 'Paracetamol');
  await page.getByLabel('Dosage of Paracetamol').fill('500 mg');
  // A reload while offline loses nothing that was typed.
  await page.reload();
  await expect(page.getByLabel('Chief complaint')).toHaveValue('Fever for two days');
  await expect(page.getByLabel('Cigarettes per day')).toHaveValue('5');
  await expect(page.getByLabel('Dosage of Paracetamol')).toHaveValue('500 mg');
  await expect(page.getByLabel('Severity of Fever')).toHaveValue('moderate');
  await page.getByRole('button', { name: 'Submit' }).click();

  // Back on the encounter: every entry at once, with its badge; one write queued.
  await expect(page.getByTestId('encounter-status')).toHaveText('In progress');
  await expect(page.getByTestId('sync-badge')).toHaveText('1 to sync');
  for (const [list, text] of [
    ['clinical-allergy_intolerance', 'Allergy to penicillin'], ['clinical-symptom', 'Fever'],
    ['clinical-diagnosis', 'Headache'], ['clinical-medication_statement', 'Paracetamol'],
    ['filled-forms', 'Encounter Assessment (demo)'],
  ]) {
    const entry = page.getByTestId(list).locator('li', { hasText: text });
    await expect(entry).toBeVisible();
    await expect(entry.getByTestId('unsynced-badge')).toHaveText('Saved on this device — will sync');
  }
  // Meanwhile a colleague records a diagnosis online.
  const nurse = await apiToken(request, 'care-nurse');
  const added = await request.post(`/api/v1/patient/${pid}/diagnosis/`, {
    headers: auth(nurse),
    data: {
      code: { system: 'http://snomed.info/sct', code: '49727002', display: 'Cough' },
      clinical_status: 'active', verification_status: 'confirmed', category: 'encounter_diagnosis', encounter: eid,
    },
  });
  expect(added.status()).toBe(200);

  await context.setOffline(false);
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced', { timeout: 30_000 });
  await expect(page.getByTestId('unsynced-badge')).toHaveCount(0);
  // Fresh from the server without a reload, the colleague's diagnosis included.
  await expect(page.getByTestId('clinical-diagnosis').locator('li', { hasText: 'Cough' })).toBeVisible();
  await expect(page.getByTestId('clinical-diagnosis').locator('li', { hasText: 'Headache' })).toBeVisible();

  const responses = await get(request, token,
    `/patient/${pid}/questionnaire_response/?encounter=${eid}&questionnaire_slug=demo-encounter-assessment&limit=10`);
  expect(responses.count).toBe(1);
  const answered = responses.results[0].responses;
  expect(answered).toHaveLength(14);
  const symptoms = await get(request, token, `/patient/${pid}/symptom/?encounter=${eid}&limit=10`);
  expect(symptoms.results.map((s) => [s.code.display, s.severity])).toEqual([['Fever', 'moderate']]);
  const meds = await get(request, token, `/patient/${pid}/medication/statement/?encounter=${eid}&limit=10`);
  expect(meds.results.map((m) => m.dosage_text)).toEqual(['500 mg']);
  const allergies = await get(request, token, `/patient/${pid}/allergy_intolerance/?encounter=${eid}&limit=10`);
  expect(allergies.count).toBe(1);

  // Recent picks are kept on the device for the next form.
  await page.getByRole('link', { name: 'Encounter Assessment (demo)' }).click();
  const quick = page.getByTestId('question-symptoms').getByTestId('picker-quick');
  await expect(quick).toContainText('Fever');
  // A favourite is kept on the device too, and offered first.
  await quick.getByRole('button', { name: 'Add Fever to favourites' }).click();
  await page.reload();
  await expect(page.getByTestId('question-symptoms').getByTestId('picker-quick')
    .getByRole('button', { name: 'Remove Fever from favourites' })).toHaveAttribute('aria-pressed', 'true');
  await page.getByTestId('question-symptoms').getByTestId('picker-quick')
    .getByRole('button', { name: 'Add Fever', exact: true }).click();
  await expect(page.getByTestId('question-symptoms').getByTestId('structured-item')).toContainText('Fever');
});

test('a required question left empty shows its message on the question', async ({ page, request }) => {
  const fid = await start(page);
  const token = await apiToken(request);
  const pid = await createPatient(request, token, `Enc Required ${Date.now()}`);
  const eid = await createEncounter(request, token, fid, pid);
  await page.goto(`/facility/${fid}/encounter/${eid}/questionnaire/demo-encounter-assessment`);
  await expect(page.getByLabel('Chief complaint')).toBeVisible();
  await page.getByLabel('Pulse (beats/min)').fill('7.5');
  await page.getByRole('button', { name: 'Submit' }).click();
  await expect(page.getByTestId('question-complaint').getByTestId('question-error')).toHaveText('This question is required.');
  await expect(page.getByTestId('question-vitals.pulse').getByTestId('question-error')).toHaveText('Enter a whole number.');
  await expect(page.getByTestId('question-smoker').getByTestId('question-error')).toHaveText('This question is required.');
  // "Cigarettes per day" appears (and is required) only for smokers.
  await expect(page.getByLabel('Cigarettes per day')).toHaveCount(0);
  await page.getByRole('group', { name: 'Does the patient smoke?' }).getByLabel('Yes').check();
  await expect(page.getByLabel('Cigarettes per day')).toBeVisible();
  await expect(page.getByTestId('form-error')).toBeVisible();
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced');
  const responses = await get(request, token, `/patient/${pid}/questionnaire_response/?encounter=${eid}&limit=10`);
  expect(responses.results.filter((r) => r.questionnaire)).toHaveLength(0);
});

test('CARE refusing part of the batch online shows on the right question', async ({ page, request }) => {
  const fid = await start(page);
  const token = await apiToken(request);
  const pid = await createPatient(request, token, `Enc Refused ${Date.now()}`);
  const eid = await createEncounter(request, token, fid, pid);
  await page.goto(`/facility/${fid}/encounter/${eid}/questionnaire/demo-encounter-assessment`);
  await expect(page.getByLabel('Chief complaint')).toBeVisible();
  await page.getByLabel('Chief complaint').fill('Cough');
  await page.getByLabel('Pulse (beats/min)').fill('80');
  await page.getByLabel('Level of consciousness (AVPU)').selectOption('Alert');
  await page.getByRole('group', { name: 'Does the patient smoke?' }).getByLabel('No').check();
  await pick(page, 'Add to Symptoms', 'cough', 'Cough');
  // Meanwhile another device completes the encounter: CARE refuses the symptom upsert.
  const current = await get(request, token, `/encounter/${eid}/`);
  const done = await request.put(`/api/v1/encounter/${eid}/`, {
    headers: auth(token),
    data: {
      status: 'completed', encounter_class: current.encounter_class, priority: current.priority,
      period: { start: current.period.start, end: new Date().toISOString() },
    },
  });
  expect(done.status()).toBe(200);
  await page.getByRole('button', { name: 'Submit' }).click();
  await expect(page.getByTestId('question-symptoms').getByTestId('question-error'))
    .toHaveText('Encounter is already completed, cannot modify');
  await expect(page.getByTestId('form-error')).toBeVisible();
  // Nothing was kept: the form still holds the answers, the outbox holds nothing.
  await expect(page.getByLabel('Chief complaint')).toHaveValue('Cough');
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced');
  const responses = await get(request, token, `/patient/${pid}/questionnaire_response/?encounter=${eid}&limit=10`);
  expect(responses.results.filter((r) => r.questionnaire)).toHaveLength(0);
});

test('a batch CARE refuses when it syncs later names the question on the sync page', async ({ page, context, request }) => {
  const fid = await start(page);
  const token = await apiToken(request);
  const pid = await createPatient(request, token, `Enc Late Refusal ${Date.now()}`);
  const eid = await createEncounter(request, token, fid, pid);
  await page.goto(`/facility/${fid}/encounter/${eid}`);
  await expect(page.getByTestId('encounter-status')).toHaveText('In progress');
  await page.getByRole('link', { name: 'Encounter Assessment (demo)' }).click();
  await warmPicker(page, 'Add to Symptoms', 'fever', 'Fever');

  await context.setOffline(true);
  await expect(page.getByTestId('connectivity')).toHaveText('Offline');
  await page.getByLabel('Chief complaint').fill('Fever');
  await page.getByLabel('Pulse (beats/min)').fill('88');
  await page.getByLabel('Level of consciousness (AVPU)').selectOption('Alert');
  await page.getByRole('group', { name: 'Does the patient smoke?' }).getByLabel('No').check();
  await pick(page, 'Add to Symptoms', 'fever', 'Fever');
  await page.getByRole('button', { name: 'Submit' }).click();
  await expect(page.getByTestId('clinical-symptom').locator('li', { hasText: 'Fever' })).toBeVisible();
  // Another device completes the encounter before this one is back online.
  const current = await get(request, token, `/encounter/${eid}/`);
  expect((await request.put(`/api/v1/encounter/${eid}/`, {
    headers: auth(token),
    data: {
      status: 'completed', encounter_class: current.encounter_class, priority: current.priority,
      period: { start: current.period.start, end: new Date().toISOString() },
    },
  })).status()).toBe(200);

  await context.setOffline(false);
  await expect(page.getByTestId('sync-badge')).toHaveText('1 need attention', { timeout: 30_000 });
  // Kept on the device, marked, never half-applied.
  await expect(page.getByTestId('clinical-symptom').locator('li', { hasText: 'Fever' }).getByTestId('unsynced-badge'))
    .toHaveText('Not synced — see Sync status');
  const responses = await get(request, token, `/patient/${pid}/questionnaire_response/?encounter=${eid}&limit=10`);
  expect(responses.results.filter((r) => r.questionnaire)).toHaveLength(0);
  await page.getByTestId('sync-badge').click();
  const failure = page.getByTestId('write-row')
    .filter({ hasText: 'Questionnaire: Encounter Assessment (demo) · Enc Late Refusal' }).getByTestId('batch-failure');
  await expect(failure).toContainText('Symptoms: Encounter is already completed, cannot modify');
});

test('a repeating question takes several values; CARE\'s answer about one lands on it', async ({ page, request }) => {
  // This device's copy of the form lets "Time of last meal" repeat; CARE's does not (the
  // copy is made when the device gets ready for offline, right after sign-in).
  await page.route('**/api/v1/questionnaire/demo-encounter-assessment/', async (route) => {
    const resp = await route.fetch();
    const form = await resp.json();
    const walk = (qs) => qs.forEach((q) => { if (q.link_id === 'last_meal') q.repeats = true; walk(q.questions || []); });
    walk(form.questions);
    await route.fulfill({ response: resp, json: form });
  });
  const fid = await start(page);
  const token = await apiToken(request);
  const pid = await createPatient(request, token, `Enc Repeats ${Date.now()}`);
  const eid = await createEncounter(request, token, fid, pid);
  await page.goto(`/facility/${fid}/encounter/${eid}/questionnaire/demo-encounter-assessment`);
  await page.getByLabel('Chief complaint').fill('Weakness');
  await page.getByLabel('Pulse (beats/min)').fill('70');
  await page.getByLabel('Level of consciousness (AVPU)').selectOption('Alert');
  await page.getByRole('group', { name: 'Does the patient smoke?' }).getByLabel('No').check();
  const meal = page.getByTestId('question-last_meal');
  await meal.getByLabel('Time of last meal', { exact: true }).fill('08:00');
  await meal.getByRole('button', { name: 'Add another' }).click();
  await meal.getByLabel('Time of last meal (2)').fill('13:00');
  await meal.getByRole('button', { name: 'Add another' }).click();
  await meal.getByLabel('Time of last meal (3)').fill('20:00');
  await meal.getByRole('button', { name: 'Remove' }).last().click();
  await expect(meal.getByLabel('Time of last meal (3)')).toHaveCount(0);
  await page.getByRole('button', { name: 'Submit' }).click();
  await expect(meal.getByTestId('question-error')).toHaveText('Multiple values not allowed');
  await expect(meal.getByLabel('Time of last meal (2)')).toHaveValue('13:00');
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced');
});
