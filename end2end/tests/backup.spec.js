// A backup of unsent changes: downloaded on one device, restored on another after the same
// person signs in, sent once — and the first device's own copy, sent later with the same
// key, is a replay, not a second patient.
const fs = require('node:fs');
const {
  test, expect, login, swControls, apiToken, patientsNamed, fillRegistration, loadAreaLists,
} = require('./fixtures');

test('unsent changes are backed up to a file and restored on another device, each applied once', async ({ page, context, browser, request }, testInfo) => {
  const name = `Backup Reg ${Date.now()}`;
  await login(page);
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await swControls(page);
  // The registration is made offline: it stays queued on this device.
  await page.getByRole('link', { name: 'Patients' }).click();
  await page.getByRole('link', { name: 'Register patient' }).click();
  await loadAreaLists(page);
  await context.setOffline(true);
  await expect(page.getByTestId('connectivity')).toHaveText('Offline');
  await fillRegistration(page, name, '+919812345621');
  await page.getByRole('button', { name: 'Register patient' }).click();
  await expect(page.getByTestId('patient-name')).toHaveText(name);
  await expect(page.getByTestId('sync-badge')).toHaveText('1 to sync');

  await page.getByTestId('sync-badge').click();
  const section = page.getByTestId('queue-backup');
  await expect(section).toContainText('Save a file of your 1 unsent change');
  const downloading = page.waitForEvent('download');
  await section.getByTestId('backup-download').click();
  const download = await downloading;
  expect(download.suggestedFilename()).toMatch(/^care-offline-unsent-care-doctor-\d{4}-\d{2}-\d{2}-\d{4}\.json$/);
  const file = testInfo.outputPath('unsent.json');
  await download.saveAs(file);
  const backup = JSON.parse(fs.readFileSync(file, 'utf8'));
  expect(backup.format).toBe('care-offline-unsent-changes');
  expect(backup.records.map((r) => r.payload.name)).toEqual([name]);

  // Another device: another user cannot restore it.
  const other = await browser.newContext({ baseURL: process.env.CARE_BASE_URL, serviceWorkers: 'allow' });
  const second = await other.newPage();
  await login(second, 'care-nurse');
  await expect(second.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await second.goto(`${new URL(page.url()).pathname}`);
  const restore = second.getByLabel('Restore changes from a file');
  await restore.setInputFiles(file);
  await expect(second.getByTestId('restore-result')).toHaveText('These changes belong to care-doctor; only they can restore them, after signing in.');
  await expect(second.getByTestId('sync-badge')).toHaveText('All synced');

  // The owner signs in there and restores it: sent at once, once.
  await second.getByRole('button', { name: 'Sign out' }).click();
  await login(second, 'care-doctor');
  await expect(second.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await second.goto(`${new URL(page.url()).pathname}`);
  await restore.setInputFiles(file);
  await expect(second.getByTestId('restore-result'))
    .toHaveText('1 change restored; it is sent as soon as CARE can be reached.');
  await expect(second.getByTestId('sync-badge')).toHaveText('All synced', { timeout: 30_000 });
  await expect(second.getByTestId('section-synced')).toContainText(name);
  const token = await apiToken(request);
  expect(await patientsNamed(request, token, name)).toHaveLength(1);
  // Restoring the same file again adds nothing.
  await restore.setInputFiles(file);
  await expect(second.getByTestId('restore-result'))
    .toHaveText('No change needed restoring. 1 was already on this device.');

  // The first device reaches CARE again and sends its own copy: the same key, one patient.
  await context.setOffline(false);
  await expect(page.getByTestId('connectivity')).toHaveText('Online');
  await page.getByRole('button', { name: 'Sync now' }).click();
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced', { timeout: 30_000 });
  expect(await patientsNamed(request, token, name)).toHaveLength(1);
  await other.close();
});

test('a file that is not a backup is refused with a reason and changes nothing', async ({ page }, testInfo) => {
  await login(page);
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await page.getByTestId('sync-badge').click();
  const file = testInfo.outputPath('notes.json');
  fs.writeFileSync(file, '{"shopping": ["rice", "dal"]}');
  await page.getByLabel('Restore changes from a file').setInputFiles(file);
  await expect(page.getByTestId('restore-result'))
    .toHaveText('This file is not a backup of unsent changes from CARE Offline.');
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced');
});
