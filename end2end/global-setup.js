// Starts target/release/server on a free 127.0.0.1 port with a temporary data directory,
// and stops it (and removes the data) after the run.
const { startServer, tempDir, removeDir } = require('./server');

module.exports = async function globalSetup() {
  if (process.env.CARE_BASE_URL) return undefined; // an already running server
  const dataDir = tempDir('care-offline-e2e-');
  const server = await startServer({ dataDir });
  process.env.CARE_BASE_URL = server.url;
  return async () => {
    await server.stop();
    removeDir(dataDir);
  };
};
