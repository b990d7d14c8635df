/** `npm run test:e2e`: only the template suites (real n8n); `npm test` runs them along with everything else. */
const base = require('../../jest.config.js');

module.exports = {
  ...base,
  rootDir: '../..',
  roots: ['<rootDir>/test/e2e'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  // the first run may install n8n (about 5 minutes); each execute takes 10–30 s on a busy machine
  testTimeout: 20 * 60_000,
};
