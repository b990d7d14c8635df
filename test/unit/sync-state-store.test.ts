import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';

import { emptyCheckpoint, planRun, recordResults } from '../../lib/sync/checkpoint';
import { CHECKPOINT_FILE, FileStateStore, MEMBERSHIP_FILES, StagedStateStore } from '../../lib/sync/stateStore';

describe('FileStateStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'sync-store-')), 'nested', 'state');
  });
  afterEach(() => rmSync(path.dirname(path.dirname(dir)), { recursive: true, force: true }));

  it('starts empty, creates its directory on first save and reads back what it saved', async () => {
    const store = new FileStateStore(dir);
    expect(await store.loadCheckpoint()).toEqual(emptyCheckpoint());
    expect(await store.loadMembershipCache('albums')).toBeNull();
    let cp = planRun(emptyCheckpoint(), { now: '2026-01-01T00:00:00Z', mode: 'full' }).checkpoint;
    cp = recordResults(cp, [{ id: 'a', fileCreatedAt: '2020-01-01T00:00:00.000Z', updatedAt: null, origin: 'listing', status: 'written' }], { now: '2026-01-01T00:00:00Z' });
    await store.saveCheckpoint(cp);
    expect(await new FileStateStore(dir).loadCheckpoint()).toEqual(cp);
    // Replaced by rename: no temporary file is left behind.
    expect(readdirSync(dir)).toEqual([CHECKPOINT_FILE]);
  });

  it('keeps album and tag membership apart, and removes a cache saved as null', async () => {
    const store = new FileStateStore(dir);
    await store.saveMembershipCache('albums', { fetchedAt: '2026-01-01T00:00:00.000Z', membership: { a: ['Trip'] } });
    await store.saveMembershipCache('tags', { fetchedAt: '2026-01-01T00:00:00.000Z', membership: { a: ['x/y'] } });
    expect((await store.loadMembershipCache('albums'))?.membership).toEqual({ a: ['Trip'] });
    expect((await store.loadMembershipCache('tags'))?.membership).toEqual({ a: ['x/y'] });
    await store.saveMembershipCache('albums', null);
    expect(await store.loadMembershipCache('albums')).toBeNull();
    expect(readdirSync(dir)).toEqual([MEMBERSHIP_FILES.tags]);
  });

  it('a damaged checkpoint file costs a full pass, not a crash', async () => {
    const store = new FileStateStore(dir);
    await store.saveCheckpoint(emptyCheckpoint());
    writeFileSync(path.join(dir, CHECKPOINT_FILE), '{"version":1,"pass":{"kind":"full"', 'utf8');
    expect(await store.loadCheckpoint()).toEqual(emptyCheckpoint());
    expect(readFileSync(path.join(dir, CHECKPOINT_FILE), 'utf8')).toContain('"pass"');
  });
});

describe('StagedStateStore', () => {
  it('reads through, keeps saves until commit, then writes them to the folder', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sync-staged-'));
    try {
      const files = new FileStateStore(dir);
      const before = planRun(emptyCheckpoint(), { now: '2026-01-01T00:00:00Z', mode: 'full' }).checkpoint;
      await files.saveCheckpoint(before);
      const staged = new StagedStateStore(files);
      expect(await staged.loadCheckpoint()).toEqual(before);
      const after = { ...before, lastPassStartedAt: '2026-01-01T00:00:00.000Z' };
      await staged.saveCheckpoint(after);
      await staged.saveMembershipCache('albums', { fetchedAt: '2026-01-01T00:00:00.000Z', membership: { a: ['Trip'] } });
      expect(await staged.loadCheckpoint()).toEqual(after);
      expect((await staged.loadMembershipCache('albums'))?.membership).toEqual({ a: ['Trip'] });
      // nothing reached the folder yet: a failure before commit leaves it as it was
      expect(await files.loadCheckpoint()).toEqual(before);
      expect(await files.loadMembershipCache('albums')).toBeNull();
      await staged.commit();
      expect(await files.loadCheckpoint()).toEqual(after);
      expect((await files.loadMembershipCache('albums'))?.membership).toEqual({ a: ['Trip'] });
      expect(readdirSync(dir).sort()).toEqual([MEMBERSHIP_FILES.albums, CHECKPOINT_FILE].sort());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
