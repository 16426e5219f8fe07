// Figures for the issue notes, printed as JSON lines:
// 1. an offline questionnaire submission (the demo form with every question type and four
//    structured entries): Submit → the encounter page shows its entries, p50/p95 over 12;
// 2. the drain of those 12 one-batch writes after reconnecting, and the batch body's size.
const { test, expect, login, swControls, apiToken } = require('../tests/fixtures');

const ROUNDS = 12;

function pct(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]);
}

test('offline questionnaire submissions and their drain', async ({ page, context, request }) => {
  await login(page);
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await swControls(page);
  const fid = new URL(page.url()).pathname.split('/')[2];
  const token = await apiToken(request);
  const headers = { Authorization: `Bearer ${token}` };
  const roots = await (await request.get('/api/v1/organization/?org_type=govt&parent=&limit=200', { headers })).json();
  const patient = await (await request.post('/api/v1/patient/', {
    headers,
    data: { name: `Bench Form ${Date.now()}`, gender: 'male', phone_number: '+919812399100', date_of_birth: '1980-01-01',
      address: 'x', permanent_address: 'x', geo_organization: roots.results[0].id },
  })).json();
  const orgs = await (await request.get(`/api/v1/facility/${fid}/organizations/?limit=200`, { headers })).json();
  const encounter = await (await request.post('/api/v1/encounter/', {
    headers,
    data: { patient: patient.id, facility: fid, status: 'in_progress', encounter_class: 'amb', priority: 'routine',
      period: { start: new Date().toISOString() }, organizations: [orgs.results[0].id] },
  })).json();
  const form = await (await request.get('/api/v1/questionnaire/demo-encounter-assessment/', { headers })).json();
  const byLink = {};
  const walk = (qs) => qs.forEach((q) => { byLink[q.link_id] = q.id; walk(q.questions || []); });
  walk(form.questions);
  const v = (value) => [{ value }];
  const item = (system, code, display, extra = {}) => ({
    coding: { system, code, display }, status: 'active', verification_status: 'confirmed', severity: '',
    category: '', criticality: '', dosage_text: '', note: '', ...extra,
  });
  const snomed = 'http://snomed.info/sct';
  const draft = {
    values: {
      [byLink.complaint]: v('Fever'), [byLink.hpi]: v('Two days'), [byLink['vitals.pulse']]: v('90'),
      [byLink['vitals.temp']]: v('38.2'), [byLink['vitals.weight']]: v('60'), [byLink['vitals.avpu']]: v('Alert'),
      [byLink.onset]: v('2026-11-20T08:30'), [byLink.last_meal]: v('13:15'), [byLink.lmp]: v('2026-11-01'),
      [byLink.smoker]: v('true'), [byLink['smoker.per_day']]: v('3'), [byLink['smoker.quit']]: v('true'),
      [byLink.allergies_known]: v('true'), [byLink.referral]: v('https://example.org/r'),
    },
    structured: {
      [byLink.allergies]: [item(snomed, '91936005', 'Allergy to penicillin', { category: 'medication', criticality: 'low' })],
      [byLink.symptoms]: [item(snomed, '386661006', 'Fever', { category: 'problem_list_item', severity: 'moderate' })],
      [byLink.diagnoses]: [item(snomed, '25064002', 'Headache', { category: 'encounter_diagnosis' })],
      [byLink.medications]: [item(snomed, '387517004', 'Paracetamol', { verification_status: '', dosage_text: '500 mg' })],
    },
  };
  const encounterUrl = `/facility/${fid}/encounter/${encounter.id}`;
  const formUrl = `${encounterUrl}/questionnaire/demo-encounter-assessment`;
  await page.goto(encounterUrl);
  await expect(page.getByTestId('encounter-status')).toHaveText('In progress');
  // Online once: the encounter's lists and the form are cached on the device.
  await expect(page.getByTestId('clinical-symptom')).toContainText('None recorded.');
  await expect(page.getByTestId('filled-forms')).toContainText('No forms filled yet.');
  await expect(page.getByTestId('form-links')).toBeVisible();
  // Queries are saved on the device in batches a few milliseconds after they load.
  await page.waitForTimeout(300);
  await page.goto(formUrl);
  await expect(page.getByLabel('Chief complaint')).toBeVisible();
  await page.waitForTimeout(300);
  const user = await page.evaluate(() => JSON.parse(localStorage.getItem('care_offline_user') || '{}'));
  const userId = (user.user && user.user.id) || user.id;
  const draftKey = `care_offline_draft:${userId}:${encounter.id}:demo-encounter-assessment`;

  await context.setOffline(true);
  await expect(page.getByTestId('connectivity')).toHaveText('Offline');
  const submitMs = [];
  for (let i = 0; i < ROUNDS; i++) {
    await page.evaluate(({ key, draft }) => localStorage.setItem(key, JSON.stringify(draft)), { key: draftKey, draft });
    await page.goto(formUrl);
    await expect(page.getByLabel('Chief complaint')).toHaveValue('Fever');
    const started = await page.evaluate(() => performance.now());
    await page.getByRole('button', { name: 'Submit' }).click();
    await expect(page.getByTestId('filled-forms').getByTestId('filled-form')).toHaveCount(i + 1);
    submitMs.push(await page.evaluate((s) => performance.now() - s, started));
  }
  await expect(page.getByTestId('sync-badge')).toHaveText(`${ROUNDS} to sync`);
  const batchBytes = await page.evaluate(async () => {
    const name = (await indexedDB.databases()).map((d) => d.name).find((n) => n.startsWith('care-offline-'));
    const db = await new Promise((res, rej) => { const r = indexedDB.open(name); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
    const all = await new Promise((res, rej) => {
      const r = db.transaction('outbox').objectStore('outbox').getAll(); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error);
    });
    db.close();
    const rec = all.find((x) => x.syncRouteKey === 'questionnaire.submit');
    return rec ? JSON.stringify(rec.payload).length : null;
  });

  const t0 = Date.now();
  await context.setOffline(false);
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced', { timeout: 300_000 });
  const drainMs = Date.now() - t0;
  const responses = await (await request.get(
    `/api/v1/patient/${patient.id}/questionnaire_response/?encounter=${encounter.id}&questionnaire_slug=demo-encounter-assessment&limit=50`,
    { headers },
  )).json();
  expect(responses.count).toBe(ROUNDS);
  console.log(JSON.stringify({
    bench: 'offline questionnaire submit → entries shown', rounds: ROUNDS,
    p50Ms: pct(submitMs, 50), p95Ms: pct(submitMs, 95), maxMs: Math.round(Math.max(...submitMs)),
  }));
  console.log(JSON.stringify({
    bench: 'drain of one-batch questionnaire writes', writes: ROUNDS, totalMs: drainMs,
    perWriteMs: Math.round(drainMs / ROUNDS), batchBodyBytes: batchBytes,
  }));
});
