// Starts target/release/server on 127.0.0.1:0 with a temporary data directory, learns the
// port from its "listening on" line, and stops it (and removes the data) after the run.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

module.exports = async function globalSetup() {
  if (process.env.CARE_BASE_URL) return undefined; // an already running server
  const bin = process.env.SERVER_BIN || path.join(root, 'target', 'release', 'server');
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run \`cargo leptos build --release\` first`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'care-offline-e2e-'));
  const child = spawn(bin, ['--addr', '127.0.0.1:0', '--data-dir', dataDir], {
    env: { ...process.env, LEPTOS_SITE_ROOT: path.join(root, 'target', 'site'), CARE_API_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (d) => { log += d; });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 30_000);
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited (${code}):\n${log}`)); });
  });
  process.env.CARE_BASE_URL = url;
  return async () => {
    child.kill('SIGTERM');
    await new Promise((r) => { if (child.exitCode !== null) r(); else child.on('exit', r); });
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
};
