// Signing out on a shared tablet: the session ends on this device at once (even when the
// server cannot be told), every other tab follows, and what this user synced leaves the
// device.
const { test, expect, login, fillRegistration } = require('./fixtures');

test('sign-out is immediate, reaches every tab, and leaves no synced patient data behind', async ({ page, context }) => {
  const name = `Signout Reg ${Date.now()}`;
  await login(page);
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  const home = new URL(page.url()).pathname;
  // A patient registered while CARE could not be reached, then synced: the write (with
  // CARE's answer) is kept on the device.
  const hold = (route) => (route.request().method() === 'POST' ? route.abort('connectionreset') : route.continue());
  await page.route('**/api/v1/patient/', hold);
  await page.getByRole('link', { name: 'Patients' }).click();
  await page.getByRole('link', { name: 'Register patient' }).click();
  await fillRegistration(page, name, '+919812345631');
  await page.getByRole('button', { name: 'Register patient' }).click();
  await expect(page.getByTestId('patient-name')).toHaveText(name);
  await expect(page.getByTestId('sync-badge')).toHaveText('1 to sync');
  await page.unroute('**/api/v1/patient/', hold);
  await page.getByTestId('sync-badge').click();
  await page.getByRole('button', { name: 'Sync now' }).click();
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced', { timeout: 30_000 });
  await expect(page.getByTestId('section-synced')).toContainText(name);

  // A second tab of the same person.
  const other = await context.newPage();
  await other.goto(home);
  await expect(other.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');

  // The server cannot be told (the line is down): sign-out must not wait for it.
  await context.route('**/api/v1/auth/logout/', (route) => route.abort('connectionreset'));
  const started = Date.now();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/, { timeout: 5_000 });
  await expect(other).toHaveURL(/\/login$/, { timeout: 5_000 });
  expect(Date.now() - started).toBeLessThan(5_000);
  expect(await other.evaluate(() => localStorage.getItem('care_access_token'))).toBeNull();
  await context.unroute('**/api/v1/auth/logout/');

  // Signed in again: the synced write is gone from the device.
  await login(page);
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await page.getByTestId('sync-badge').click();
  await expect(page.getByRole('heading', { name: 'Sync status' })).toBeVisible();
  await expect(page.getByTestId('section-synced')).not.toContainText(name);
  await other.close();
});
