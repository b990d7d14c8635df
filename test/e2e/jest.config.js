/** `npm run test:e2e`: the template in a real n8n. Slow (each `n8n execute` starts n8n), so kept out of `npm test`. */
const base = require('../../jest.config.js');

module.exports = {
  ...base,
  rootDir: '../..',
  roots: ['<rootDir>/test/e2e'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  // the first run may install n8n (about 5 minutes); each execute takes 10–30 s on a busy machine
  testTimeout: 20 * 60_000,
};
