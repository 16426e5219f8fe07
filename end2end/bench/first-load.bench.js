// First load on a clinic's mobile line (Lighthouse's mobile profile: 1.6 Mbps down,
// 750 kbps up, 150 ms round trip), cold cache, printed as JSON lines:
// time to a usable sign-in page (hydrated), bytes transferred, and sign-in → patient list.
const { test, expect, PASSWORD } = require('../tests/fixtures');

test('first load over a throttled line', async ({ page, context }) => {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 150,
    downloadThroughput: (1.6 * 1024 * 1024) / 8,
    uploadThroughput: (750 * 1024) / 8,
  });
  let bytes = 0;
  cdp.on('Network.loadingFinished', (e) => { bytes += e.encodedDataLength; });

  const start = Date.now();
  await page.goto('/login');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true', { timeout: 120_000 });
  const usable = Date.now() - start;
  const signInBytes = bytes;

  await page.getByLabel('Username').fill('care-doctor');
  await page.getByLabel('Password').fill(PASSWORD);
  const signedIn = Date.now();
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital', { timeout: 120_000 });
  await page.getByRole('link', { name: 'Patients' }).click();
  await expect(page.getByTestId('patient-list').locator('li').first()).toBeVisible({ timeout: 120_000 });
  const toList = Date.now() - signedIn;
  console.log(JSON.stringify({
    bench: 'first-load-1.6mbps-150ms',
    signInUsableMs: usable,
    signInTransferredBytes: signInBytes,
    signInToPatientListMs: toList,
    totalTransferredBytes: bytes,
  }));
});
