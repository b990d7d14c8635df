import type { AssetWriteResult } from '../../lib/files/types';
import { combine } from '../../lib/sync/syncAsset';

const result = (over: Partial<AssetWriteResult>): AssetWriteResult => ({
  assetId: 'a1',
  file: '/l/a.jpg',
  status: 'unchanged',
  changes: [],
  dryRun: false,
  ...over,
});

describe('combine (an original and its sidecar reported as one asset)', () => {
  it('returns a single result as it is', () => {
    const one = result({ status: 'written', verified: true });
    expect(combine([one])).toBe(one);
  });

  it('the worst status wins, changes name their file, verified only if every write was', () => {
    const combined = combine([
      result({ status: 'written', verified: true, changes: [{ field: 'Rating', before: 1, after: 4 }] }),
      result({ file: '/l/a.xmp', status: 'unchanged', notes: ['kept a foreign description'] }),
    ]);
    expect(combined).toEqual({
      assetId: 'a1',
      file: '/l/a.jpg',
      files: ['/l/a.jpg', '/l/a.xmp'],
      status: 'written',
      changes: [{ field: 'Rating', before: 1, after: 4, file: '/l/a.jpg' }],
      dryRun: false,
      verified: true,
      notes: ['kept a foreign description'],
    });
  });

  it('a failed sidecar makes the asset failed, with its reason', () => {
    const combined = combine([
      result({ status: 'written', verified: true }),
      result({ file: '/l/a.xmp', status: 'failed', reason: 'Asset a1: /l/a.xmp is read-only' }),
    ]);
    expect(combined.status).toBe('failed');
    expect(combined.reason).toBe('Asset a1: /l/a.xmp is read-only');
    expect(combined.verified).toBe(true);
  });

  it('skipped outranks unchanged; nothing written means no verified flag', () => {
    const combined = combine([result({ status: 'unchanged' }), result({ file: '/l/a.xmp', status: 'skipped', reason: 'why' })]);
    expect(combined.status).toBe('skipped');
    expect(combined).not.toHaveProperty('verified');
  });
});
