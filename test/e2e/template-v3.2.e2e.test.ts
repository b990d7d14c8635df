/**
 * The whole template e2e (template.e2e.test.ts) once more, against the simulator's Immich v3.2 mode (derived from
 * @immich/sdk 3.2.2's types, see test/simulator/spec-v3.2.ts): the filter/cursor search with nextCursor, the
 * v3.2 users/me; every request and response checked against the derived v3.2 spec.
 */
process.env.IMMICH_SIM_API = '3.2';
// eslint-disable-next-line @typescript-eslint/no-require-imports
require('./template.e2e.test');
