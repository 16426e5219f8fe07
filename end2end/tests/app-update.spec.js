// A new version deployed while the app is open: it waits for the person's reload, keeps
// every queued write, and a broken deploy never replaces the working version.
// Each test runs its own server on a private copy of the site, and "deploys" by restarting
// it on the same port and data with changed files.
const fs = require('node:fs');
const path = require('node:path');
const {
  test, expect, login, swControls, savedOnDevice, apiToken, patientsNamed, fillRegistration,
} = require('./fixtures');
const { startServer, copySite, tempDir, removeDir } = require('../server');

/** The version the running server's worker carries. */
async function workerVersion(request, base) {
  const script = await (await request.get(`${base}/sw.js`)).text();
  return script.match(/const VERSION = "([0-9a-f]+)"/)[1];
}

/**
 * Asks the browser to look for a new worker; resolves with how its install ended. The app
 * itself may have looked already (it does when the server comes back): an install under
 * way, or a worker already waiting, is that answer.
 */
async function checkForUpdate(page) {
  return page.evaluate(async () => {
    const reg = await navigator.serviceWorker.getRegistration();
    const ended = (worker) => new Promise((resolve) => {
      const done = () => {
        if (worker.state === 'installed' || worker.state === 'redundant') resolve(worker.state);
      };
      worker.addEventListener('statechange', done);
      done();
    });
    if (reg.installing) return ended(reg.installing);
    if (reg.waiting) return 'installed';
    const found = new Promise((resolve) => {
      reg.addEventListener('updatefound', () => resolve(ended(reg.installing)), { once: true });
    });
    await reg.update();
    return found;
  });
}

let site;
let dataDir;
let server;

test.beforeEach(async () => {
  site = copySite();
  dataDir = tempDir('care-offline-update-');
  server = await startServer({ dataDir, siteRoot: site });
});

test.afterEach(async () => {
  await server.stop();
  removeDir(site);
  removeDir(dataDir);
});

async function deploy(change) {
  await server.stop();
  change();
  server = await startServer({ dataDir, siteRoot: site, port: server.port });
}

/** The built file of this kind (`css`, `wasm`), hashed name included. */
function builtFile(ext) {
  const line = fs.readFileSync(path.join(site, 'hash.txt'), 'utf8').split('\n')
    .find((l) => l.startsWith(`${ext}:`));
  const name = line ? `care-offline.${line.split(':')[1].trim()}.${ext}` : `care-offline.${ext}`;
  return path.join(site, 'pkg', name);
}

function cssFile() {
  return builtFile('css');
}

test('a new version waits for the reload the person asks for, and a queued write is kept and sent once', async ({ browser, request }) => {
  const context = await browser.newContext({ baseURL: server.url, serviceWorkers: 'allow' });
  const page = await context.newPage();
  const name = `Update Reg ${Date.now()}`;
  await login(page);
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await swControls(page);
  const before = await workerVersion(request, server.url);

  // CARE does not take the registration for now: it stays queued on the device.
  const hold = (route) => (route.request().method() === 'POST' ? route.abort('connectionreset') : route.continue());
  await page.route('**/api/v1/patient/', hold);
  await page.getByRole('link', { name: 'Patients' }).click();
  await page.getByRole('link', { name: 'Register patient' }).click();
  await fillRegistration(page, name, '+919812345611');
  await page.getByRole('button', { name: 'Register patient' }).click();
  await expect(page.getByTestId('patient-name')).toHaveText(name);
  await expect(page.getByTestId('sync-badge')).toHaveText('1 to sync');

  await deploy(() => fs.appendFileSync(cssFile(), '\n/* version 2 */\n'));
  const after = await workerVersion(request, server.url);
  expect(after).not.toBe(before);
  await page.evaluate(() => { window.stillTheSamePage = true; });
  expect(await checkForUpdate(page)).toBe('installed');

  const banner = page.getByTestId('update-banner');
  await expect(banner).toContainText('A new version of CARE Offline is ready');
  await expect(page.getByTestId('sync-badge')).toHaveText('1 to sync');
  await expect(banner).toContainText('The 1 change waiting to be sent stays on this device');
  // Nothing reloads by itself, and the old version still serves this page.
  await page.waitForTimeout(1_000);
  expect(await page.evaluate(() => window.stillTheSamePage)).toBe(true);
  await expect(page.getByTestId('sync-badge')).toHaveText('1 to sync');

  await savedOnDevice(page);
  const reloaded = page.waitForEvent('load');
  await banner.getByRole('button', { name: 'Reload now' }).click();
  await reloaded;
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  expect(await page.evaluate(() => window.stillTheSamePage)).toBeUndefined();
  await expect(page.getByTestId('update-banner')).toHaveCount(0);
  expect(await page.evaluate(() => caches.keys())).toEqual([`care-offline-shell-${after}`]);
  // The write survived the update, and is sent once CARE takes it.
  await expect(page.getByTestId('sync-badge')).toHaveText('1 to sync');
  await page.unroute('**/api/v1/patient/', hold);
  await page.getByTestId('sync-badge').click();
  await page.getByRole('button', { name: 'Sync now' }).click();
  await expect(page.getByTestId('sync-badge')).toHaveText('All synced', { timeout: 30_000 });
  const token = await apiToken(request, 'care-doctor', server.url);
  expect(await patientsNamed(request, token, name, server.url)).toHaveLength(1);
  await context.close();
});

test('a deploy missing the app never replaces the version that works', async ({ browser, request }) => {
  const context = await browser.newContext({ baseURL: server.url, serviceWorkers: 'allow' });
  const page = await context.newPage();
  await login(page);
  await expect(page.getByTestId('facility-name')).toHaveText('CARE Demo Hospital');
  await swControls(page);
  await page.getByRole('link', { name: 'Patients' }).click();
  await expect(page.getByTestId('patient-list').locator('li')).toHaveCount(14);
  const before = await workerVersion(request, server.url);

  // Half a deploy: a new build names a new wasm, which never arrived.
  await deploy(() => {
    const hashes = path.join(site, 'hash.txt');
    fs.writeFileSync(hashes, fs.readFileSync(hashes, 'utf8')
      .replace(/^wasm: .*$/m, 'wasm: NewBuildWasmNeverArrived0'));
  });
  expect(await workerVersion(request, server.url)).not.toBe(before);
  expect(await checkForUpdate(page)).toBe('redundant');
  await expect(page.getByTestId('update-banner')).toHaveCount(0);
  expect(await page.evaluate(() => caches.keys())).toEqual([`care-offline-shell-${before}`]);

  // The old version still opens, offline too.
  await savedOnDevice(page);
  await context.setOffline(true);
  await page.reload();
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.getByTestId('patient-list').locator('li')).toHaveCount(14);
  await context.close();
});
