// Benchmarks in the browser (not part of the test suite): `npx playwright test -c bench.config.js`.
const base = require('./playwright.config.js');

module.exports = { ...base, testDir: './bench', testMatch: '**/*.bench.js', timeout: 900_000, reporter: [['list']] };
