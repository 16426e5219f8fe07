// Size budgets of what a browser downloads (brotli, as served to one that accepts it),
// checked after the release build. Prints the table; fails when a budget is exceeded.
// Usage: node end2end/sizes.js [site dir]   (budgets: end2end/size-budgets.json)
const fs = require('node:fs');
const path = require('node:path');

const site = path.resolve(process.argv[2] || path.join(__dirname, '..', 'target', 'site'));
const budgets = JSON.parse(fs.readFileSync(path.join(__dirname, 'size-budgets.json'), 'utf8'));

function hashed(ext) {
  const text = fs.existsSync(path.join(site, 'hash.txt')) ? fs.readFileSync(path.join(site, 'hash.txt'), 'utf8') : '';
  const line = text.split('\n').find((l) => l.split(':')[0].trim() === ext);
  const hash = line ? line.split(':')[1].trim() : '';
  return hash ? `pkg/care-offline.${hash}.${ext}` : `pkg/care-offline.${ext}`;
}

/** Bytes sent for a file: its .br variant when the build wrote one, else the file. */
function sent(file) {
  const br = path.join(site, `${file}.br`);
  const plain = path.join(site, file);
  if (fs.existsSync(br)) return fs.statSync(br).size;
  if (fs.existsSync(plain)) return fs.statSync(plain).size;
  throw new Error(`${plain} is missing: build the release site first`);
}

const app = [hashed('js'), hashed('wasm'), hashed('css')];
const extras = ['manifest.webmanifest', 'favicon.ico', 'icons/icon-192.png', 'icons/icon-512.png'];
// No route has code of its own yet (no splitting): the sign-in page loads the whole app.
const groups = {
  signIn: [...app, 'favicon.ico', 'manifest.webmanifest'],
  signInToPatientList: [...app, 'favicon.ico', 'manifest.webmanifest'],
  precache: [...app, ...extras],
};

let failed = false;
console.log('file sizes as sent (brotli when precompressed):');
for (const f of [...app, ...extras]) console.log(`  ${String(sent(f)).padStart(9)}  ${f}`);
console.log('budgets:');
for (const [group, files] of Object.entries(groups)) {
  const total = files.reduce((n, f) => n + sent(f), 0);
  const budget = budgets[group];
  const ok = total <= budget;
  failed ||= !ok;
  console.log(`  ${ok ? 'ok  ' : 'OVER'} ${group.padEnd(20)} ${String(total).padStart(9)} of ${budget} bytes`);
}
if (failed) {
  console.error('a size budget is exceeded');
  process.exit(1);
}
