// Starts the release server on 127.0.0.1 (port 0 picks one; a given port restarts a server
// where it was), learns its address from the "listening on" line, and stops it again.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const defaultSite = path.join(root, 'target', 'site');

function serverBin() {
  const bin = process.env.SERVER_BIN || path.join(root, 'target', 'release', 'server');
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run \`cargo leptos build --release\` first`);
  return bin;
}

/** A temporary directory, removed by `removeDir`. */
function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

function removeDir(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** A private copy of the built site, to "deploy" changed files without touching the build. */
function copySite() {
  const dir = tempDir('care-offline-site-');
  fs.cpSync(defaultSite, dir, { recursive: true });
  return dir;
}

async function startServer({ dataDir, siteRoot = defaultSite, port = 0 }) {
  const child = spawn(serverBin(), ['--addr', `127.0.0.1:${port}`, '--data-dir', dataDir], {
    env: { ...process.env, LEPTOS_SITE_ROOT: siteRoot, CARE_API_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (d) => { log += d; });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 30_000);
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/127\.0\.0\.1:(\d+))/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited (${code}):\n${log}`)); });
  });
  return {
    url,
    port: Number(new URL(url).port),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.on('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

module.exports = { startServer, copySite, tempDir, removeDir };
