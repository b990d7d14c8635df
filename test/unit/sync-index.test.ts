import { appendFileSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';

import type { MetadataPlan } from '../../lib/metadata/types';
import { fileSignature, indexKey, planKey, SYNC_INDEX_FILE, SyncIndex } from '../../lib/sync/syncIndex';

const folders: string[] = [];
function folder(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sync-index-'));
  folders.push(dir);
  return dir;
}
afterAll(() => folders.forEach((d) => rmSync(d, { recursive: true, force: true })));

const LIBRARY = '/library';
const plan = (rating: number): MetadataPlan => ({ schemaVersion: 1, assetId: 'a1', modules: ['rating'], skipped: [], notes: [], rating: { value: rating } } as unknown as MetadataPlan);

async function open(dir: string, warnings: string[] = [], identity = LIBRARY): Promise<SyncIndex> {
  return SyncIndex.open(dir, { identity, warn: (m) => warnings.push(m), racyWindowMs: 0 });
}

/** A file and its signature as the index would record it. */
async function photo(dir: string, name: string, content = 'jpeg bytes'): Promise<{ file: string; sig: NonNullable<Awaited<ReturnType<typeof fileSignature>>> }> {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  const sig = await fileSignature([file]);
  if (!sig) throw new Error('no signature');
  return { file, sig };
}

describe('plan key', () => {
  it('is the same for the same plan in another key order, different for another value or target', () => {
    const a = plan(3);
    const reordered = JSON.parse(JSON.stringify({ rating: a.rating, notes: a.notes, skipped: a.skipped, modules: a.modules, assetId: a.assetId, schemaVersion: 1 }));
    expect(planKey(reordered, 'embedded')).toBe(planKey(a, 'embedded'));
    expect(planKey(plan(4), 'embedded')).not.toBe(planKey(a, 'embedded'));
    expect(planKey(a, 'sidecar')).not.toBe(planKey(a, 'embedded'));
  });
});

describe('file signature', () => {
  it('changes when the content changes with the same size and the modification time restored (ctime)', async () => {
    const dir = folder();
    const { file, sig } = await photo(dir, 'a.jpg', 'aaaa');
    const mtime = new Date(Date.now() - 86_400_000);
    utimesSync(file, mtime, mtime);
    const before = await fileSignature([file]);
    await new Promise((r) => setTimeout(r, 20));
    writeFileSync(file, 'bbbb');
    utimesSync(file, mtime, mtime);
    const after = await fileSignature([file]);
    expect(after!.signature.split(':').slice(0, 2)).toEqual(before!.signature.split(':').slice(0, 2)); // size and mtime alike
    expect(after!.signature).not.toBe(before!.signature);
    expect(sig.signature).not.toBe(before!.signature); // utimes itself changes ctime
  });

  it('is null for a missing file', async () => {
    expect(await fileSignature([path.join(folder(), 'missing.jpg')])).toBeNull();
  });
});

describe('SyncIndex', () => {
  it('vouches only for the same plan and the same signature, and keeps entries across opens', async () => {
    const dir = folder();
    const { file, sig } = await photo(dir, 'a.jpg');
    const key = indexKey('a1', 'embedded', file);
    const index = await open(dir);
    expect(index.isUnchanged(key, planKey(plan(3), 'embedded'), sig)).toBe(false);
    index.record(key, { plan: planKey(plan(3), 'embedded'), signature: sig.signature, seenAt: Date.now() });
    await index.close();

    const again = await open(dir);
    expect(again.size).toBe(1);
    expect(again.isUnchanged(key, planKey(plan(3), 'embedded'), sig)).toBe(true);
    expect(again.isUnchanged(key, planKey(plan(4), 'embedded'), sig)).toBe(false);
    expect(again.isUnchanged(key, planKey(plan(3), 'embedded'), { ...sig, signature: sig.signature + 'x' })).toBe(false);
    expect(again.isUnchanged(key, planKey(plan(3), 'embedded'), null)).toBe(false);
    again.forget(key);
    await again.close();
    expect((await open(dir)).isUnchanged(key, planKey(plan(3), 'embedded'), sig)).toBe(false);
  });

  it('does not trust a signature seen within the racy window after the file changed', async () => {
    const dir = folder();
    const { file, sig } = await photo(dir, 'a.jpg');
    const index = await SyncIndex.open(dir, { identity: LIBRARY, racyWindowMs: 2000 });
    const key = indexKey('a1', 'embedded', file);
    index.record(key, { plan: 'p', signature: sig.signature, seenAt: sig.changedAtMs + 500 });
    expect(index.isUnchanged(key, 'p', sig)).toBe(false);
    index.record(key, { plan: 'p', signature: sig.signature, seenAt: sig.changedAtMs + 2500 });
    expect(index.isUnchanged(key, 'p', sig)).toBe(true);
    await index.close();
  });

  it('drops a torn last line (a kill during an append) silently and keeps the rest', async () => {
    const dir = folder();
    const index = await open(dir);
    index.record('k1', { plan: 'p', signature: 's1', seenAt: 1 });
    index.record('k2', { plan: 'p', signature: 's2', seenAt: 1 });
    await index.close();
    appendFileSync(path.join(dir, SYNC_INDEX_FILE), '0123456789ab {"k":"k3","p":"p","s":"s');
    const warnings: string[] = [];
    const again = await open(dir, warnings);
    expect(warnings).toEqual([]);
    expect(again.size).toBe(2);
  });

  it('detects a damaged line in the middle, warns, and starts empty (the file is rebuilt)', async () => {
    const dir = folder();
    const index = await open(dir);
    for (let i = 0; i < 5; i++) index.record(`k${i}`, { plan: 'p', signature: `s${i}`, seenAt: 1 });
    await index.close();
    const file = path.join(dir, SYNC_INDEX_FILE);
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[2] = lines[2].replace('"s1"', '"s9"'); // valid JSON, wrong checksum
    writeFileSync(file, lines.join('\n'));
    const warnings: string[] = [];
    const again = await open(dir, warnings);
    expect(again.size).toBe(0);
    expect(warnings.join(' ')).toMatch(/line 3 is damaged; it is rebuilt/);
    again.record('k0', { plan: 'p', signature: 's0', seenAt: 1 });
    await again.close();
    const rebuilt: string[] = [];
    expect((await open(dir, rebuilt)).size).toBe(1);
    expect(rebuilt).toEqual([]);
  });

  it('refuses a file that is not an index and an index of another library, with a warning each', async () => {
    const garbage = folder();
    writeFileSync(path.join(garbage, SYNC_INDEX_FILE), '\u0000\u0000garbage\nmore');
    const warnings: string[] = [];
    expect((await open(garbage, warnings)).size).toBe(0);
    expect(warnings[0]).toMatch(/not a sync index/);

    const foreign = folder();
    const other = await open(foreign, [], '/other-library');
    other.record('k', { plan: 'p', signature: 's', seenAt: 1 });
    await other.close();
    const foreignWarnings: string[] = [];
    expect((await open(foreign, foreignWarnings)).size).toBe(0);
    expect(foreignWarnings[0]).toMatch(/belongs to another library \(\/other-library\)/);
  });

  it('holds 100,000 entries, updated in batches, and compacts superseded lines', async () => {
    const dir = folder();
    const index = await open(dir);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 100_000; i++) index.record(`asset-${i}|embedded|/library/${i}.jpg`, { plan: `p${round}`, signature: `s${i}`, seenAt: round });
      await index.flush();
    }
    await index.close(); // 300,000 lines for 100,000 entries: compacted
    const lines = readFileSync(path.join(dir, SYNC_INDEX_FILE), 'utf8').split('\n').filter(Boolean);
    expect(lines.length).toBe(100_001); // header + one line per entry
    const again = await open(dir);
    expect(again.size).toBe(100_000);
    expect(again.isUnchanged('asset-99999|embedded|/library/99999.jpg', 'p2', { signature: 's99999', changedAtMs: 0 })).toBe(true);
    expect(again.isUnchanged('asset-99999|embedded|/library/99999.jpg', 'p1', { signature: 's99999', changedAtMs: 0 })).toBe(false);
  });
});
