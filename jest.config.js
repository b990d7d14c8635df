/** Tests run against TypeScript sources through ts-jest; helpers that start child processes use dist/. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: { warnOnly: false } }] },
  testTimeout: 60000,
  reporters: ['default', '<rootDir>/test/helpers/summary-reporter.js'],
  // e2e suites in real n8n are slow and run through their own script (npm run test:e2e)
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/test/e2e/'],
};
