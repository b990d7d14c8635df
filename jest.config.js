/** Tests run against TypeScript sources through ts-jest; helpers that start child processes use dist/. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: { warnOnly: false } }] },
  testTimeout: 60000,
  reporters: ['default', '<rootDir>/test/helpers/summary-reporter.js'],
  // `npm test` runs every suite, the real-n8n e2e included (it installs n8n into .cache/n8n on first use);
  // `npm run test:e2e` runs only test/e2e.
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};
