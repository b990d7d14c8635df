import { promises as fs, mkdtempSync, readdirSync, rmSync } from 'fs';
import * as os from 'os';
import * as path from 'path';

import { acquireLease, describeBackOff, LEASE_FILE, LeaseKeeper, readLease, releaseLease, renewLease, type LeaseRecord } from '../../lib/sync/lease';

let dir: string;
beforeEach(() => {
  dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'sync-lease-')), 'state');
});
afterEach(() => rmSync(path.dirname(dir), { recursive: true, force: true }));

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const at = (ms: number) => () => new Date(T0 + ms);
const TTL = 60_000;

function held(attempt: Awaited<ReturnType<typeof acquireLease>>): LeaseRecord {
  if (!attempt.acquired) throw new Error(`expected the lease, got: ${describeBackOff(attempt.holder)}`);
  return attempt.lease;
}

test('the first run takes the lease; a second one backs off naming the holder and since when', async () => {
  const first = held(await acquireLease(dir, { ttlMs: TTL, now: at(0), run: 'execution 41', host: 'worker-a' }));
  expect(first).toMatchObject({ owner: { host: 'worker-a', pid: process.pid, run: 'execution 41' }, acquiredAt: '2026-03-01T10:00:00.000Z', expiresAt: '2026-03-01T10:01:00.000Z' });
  expect(await readLease(dir)).toEqual(first);

  const second = await acquireLease(dir, { ttlMs: TTL, now: at(30_000), run: 'execution 42', host: 'worker-b' });
  expect(second.acquired).toBe(false);
  expect(second.acquired ? null : second.holder).toEqual(first);
  expect(describeBackOff(second.acquired ? null : second.holder)).toBe(
    'another run holds the library since 2026-03-01T10:00:00.000Z (host worker-a, pid ' + process.pid + ', execution 41; until 2026-03-01T10:01:00.000Z unless renewed); this run backs off',
  );
  // no temporary file is left beside the lease
  expect(readdirSync(dir)).toEqual([LEASE_FILE]);
});

test('released, the lease is free at once; a run that does not hold it cannot release it', async () => {
  const first = held(await acquireLease(dir, { ttlMs: TTL, now: at(0) }));
  const other = held(await acquireLease(path.join(dir, 'elsewhere'), { ttlMs: TTL, now: at(0) }));
  expect(await releaseLease(dir, other)).toBe(false);
  expect(await readLease(dir)).toEqual(first);
  expect(await releaseLease(dir, first)).toBe(true);
  expect(readdirSync(dir)).toEqual(['elsewhere']);
  held(await acquireLease(dir, { ttlMs: TTL, now: at(1) }));
});

test('a crashed holder keeps the lease only until it expires; then another run takes it over, and the old holder can neither renew nor release it', async () => {
  // the holder "crashed": a pid that cannot exist, on another host, never released
  const crashed = held(await acquireLease(dir, { ttlMs: TTL, now: at(0), host: 'gone-host', pid: 2 ** 22 + 1 }));
  expect((await acquireLease(dir, { ttlMs: TTL, now: at(TTL - 1) })).acquired).toBe(false);
  const taker = held(await acquireLease(dir, { ttlMs: TTL, now: at(TTL) }));
  expect(taker.owner.token).not.toBe(crashed.owner.token);
  expect(await renewLease(dir, crashed, { ttlMs: TTL, now: at(TTL + 1) })).toBeNull();
  expect(await releaseLease(dir, crashed)).toBe(false);
  expect(await readLease(dir)).toEqual(taker);
});

test('a holder on this host whose process is gone is known dead at once; one of another host, or with our own pid, only by expiry', async () => {
  const here = os.hostname();
  held(await acquireLease(dir, { ttlMs: TTL, now: at(0), host: here, pid: 2 ** 22 + 1 }));
  held(await acquireLease(dir, { ttlMs: TTL, now: at(1) })); // this host, dead pid: taken over before expiry
  // our own pid: maybe another execution of this process
  expect((await acquireLease(dir, { ttlMs: TTL, now: at(2) })).acquired).toBe(false);
  const other = path.join(path.dirname(dir), 'other');
  held(await acquireLease(other, { ttlMs: TTL, now: at(0), host: 'another-host', pid: 2 ** 22 + 1 }));
  expect((await acquireLease(other, { ttlMs: TTL, now: at(1) })).acquired).toBe(false);
  // a live process of this host (our parent) keeps it
  const third = path.join(path.dirname(dir), 'third');
  held(await acquireLease(third, { ttlMs: TTL, now: at(0), host: here, pid: process.ppid }));
  expect((await acquireLease(third, { ttlMs: TTL, now: at(1) })).acquired).toBe(false);
});

test('renewing moves the expiry, so a long run keeps its lease past the first expiry', async () => {
  const lease = held(await acquireLease(dir, { ttlMs: TTL, now: at(0) }));
  const renewed = await renewLease(dir, lease, { ttlMs: TTL, now: at(50_000) });
  expect(renewed).toMatchObject({ acquiredAt: lease.acquiredAt, expiresAt: new Date(T0 + 50_000 + TTL).toISOString() });
  expect((await acquireLease(dir, { ttlMs: TTL, now: at(TTL + 10_000) })).acquired).toBe(false);
});

test('the keeper renews only once a third of the lease has passed, and notices when the lease was taken over', async () => {
  let clock = 0;
  const now = () => new Date(T0 + clock);
  const keeper = new LeaseKeeper(dir, held(await acquireLease(dir, { ttlMs: TTL, now })), { ttlMs: TTL, now });
  clock = TTL / 3 - 1;
  expect(await keeper.keepAlive()).toBe(true);
  expect(keeper.record.renewedAt).toBe(keeper.record.acquiredAt);
  clock = TTL / 3 + 1;
  expect(await keeper.keepAlive()).toBe(true);
  expect(keeper.record.expiresAt).toBe(new Date(T0 + TTL / 3 + 1 + TTL).toISOString());
  // away longer than the lease lasts: another run takes it over
  clock += TTL;
  held(await acquireLease(dir, { ttlMs: TTL, now }));
  clock += TTL / 2;
  expect(await keeper.keepAlive()).toBe(false);
  expect(await keeper.release()).toBe(false);
  expect(await readLease(dir)).not.toBeNull();
});

test('of many runs starting together, exactly one gets the lease', async () => {
  const attempts = await Promise.all(Array.from({ length: 24 }, (_, i) => acquireLease(dir, { ttlMs: TTL, now: at(0), run: `run ${i}` })));
  const winners = attempts.filter((a) => a.acquired);
  expect(winners).toHaveLength(1);
  expect(await readLease(dir)).toEqual(held(winners[0]));
  expect(readdirSync(dir)).toEqual([LEASE_FILE]);
});

test('of many runs finding the same expired lease together, exactly one takes it over', async () => {
  held(await acquireLease(dir, { ttlMs: TTL, now: at(0), run: 'crashed' }));
  for (let round = 0; round < 5; round++) {
    const attempts = await Promise.all(Array.from({ length: 16 }, (_, i) => acquireLease(dir, { ttlMs: TTL, now: at((round + 1) * 2 * TTL), run: `taker ${i}` })));
    const winners = attempts.filter((a) => a.acquired);
    expect(winners).toHaveLength(1);
    expect(await readLease(dir)).toEqual(held(winners[0]));
  }
  expect(readdirSync(dir)).toEqual([LEASE_FILE]);
});

test('a damaged lease file blocks only as long as a lease lasts, judged by its age', async () => {
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, LEASE_FILE), '{"owner": trunc');
  const fresh = await acquireLease(dir, { ttlMs: TTL });
  expect(fresh).toEqual({ acquired: false, holder: null });
  expect(describeBackOff(null)).toMatch(/cannot be read/);
  const old = new Date(Date.now() - 2 * TTL);
  await fs.utimes(path.join(dir, LEASE_FILE), old, old);
  held(await acquireLease(dir, { ttlMs: TTL }));
});

test('a guard left by a run that crashed while changing the lease is removed once old', async () => {
  held(await acquireLease(dir, { ttlMs: TTL, now: at(0) }));
  const guard = path.join(dir, `${LEASE_FILE}.guard`);
  await fs.writeFile(guard, 'crashed-run');
  // fresh guard: someone is changing the lease right now, so the expired lease is not taken over yet
  expect((await acquireLease(dir, { ttlMs: TTL, now: at(2 * TTL) })).acquired).toBe(false);
  const old = new Date(Date.now() - 5 * 60_000);
  await fs.utimes(guard, old, old);
  held(await acquireLease(dir, { ttlMs: TTL, now: at(2 * TTL) }));
  expect(readdirSync(dir)).toEqual([LEASE_FILE]);
});
