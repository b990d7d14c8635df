import * as fc from 'fast-check';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';

import {
  checkRealPathInside,
  isInside,
  mapAssetPath,
  PathMappingConfigError,
  printable,
  validateMapping,
} from '../../lib/files/pathMapping';

const LIB = '/library';

describe('mapAssetPath: last N segments (the seed)', () => {
  it('keeps year/month/file under the library root', () => {
    const mapped = mapAssetPath('a1', '/usr/src/app/upload/library/admin/2024/05/IMG_1.jpg', LIB, { mode: 'lastSegments', segments: 3 });
    expect(mapped).toEqual({ ok: true, path: '/library/2024/05/IMG_1.jpg' });
  });

  it('honours another segment count', () => {
    const mapped = mapAssetPath('a1', '/mnt/photos/trip/day1/x.heic', LIB, { mode: 'lastSegments', segments: 2 });
    expect(mapped).toEqual({ ok: true, path: '/library/day1/x.heic' });
  });

  it('refuses a path with too few segments, naming asset and path', () => {
    const mapped = mapAssetPath('asset-7', '/x.jpg', LIB, { mode: 'lastSegments', segments: 3 });
    expect(mapped.ok).toBe(false);
    if (!mapped.ok) {
      expect(mapped.reason).toContain('asset-7');
      expect(mapped.reason).toContain('/x.jpg');
    }
  });

  it.each([
    ['/upload/2024/../../etc/passwd'],
    ['/upload/a/../passwd'],
    ['/upload/2024/./x.jpg'],
    ['/upload/x/y/..'],
  ])('refuses dot segments in %s', (original) => {
    const mapped = mapAssetPath('a2', original, LIB, { mode: 'lastSegments', segments: 3 });
    expect(mapped.ok).toBe(false);
    if (!mapped.ok) expect(mapped.reason).toMatch(/a2.*refused.*"\.\."/);
  });

  it('refuses NUL bytes and prints them escaped', () => {
    const mapped = mapAssetPath('a3', '/upload/2024/05/x.jpg\0.png', LIB, { mode: 'lastSegments', segments: 3 });
    expect(mapped.ok).toBe(false);
    if (!mapped.ok) {
      expect(mapped.reason).toContain('NUL');
      expect(mapped.reason).not.toContain('\0');
      expect(mapped.reason).toContain('\\x00');
    }
  });
});

describe('mapAssetPath: prefix replacement', () => {
  const mapping = { mode: 'prefix' as const, immichPrefix: '/usr/src/app/upload/', localPrefix: '/library' };

  it('replaces the Immich prefix with the local one', () => {
    expect(mapAssetPath('a', '/usr/src/app/upload/library/admin/2024/x.jpg', LIB, mapping)).toEqual({
      ok: true,
      path: '/library/library/admin/2024/x.jpg',
    });
  });

  it('accepts a local prefix relative to the library root', () => {
    const m = { mode: 'prefix' as const, immichPrefix: '/mnt/ext', localPrefix: 'external' };
    expect(mapAssetPath('a', '/mnt/ext/2020/x.jpg', LIB, m)).toEqual({ ok: true, path: '/library/external/2020/x.jpg' });
  });

  it('refuses a path that does not start with the prefix (no partial-segment match)', () => {
    const other = mapAssetPath('a9', '/usr/src/app/uploads-other/x.jpg', LIB, mapping);
    expect(other.ok).toBe(false);
    if (!other.ok) expect(other.reason).toMatch(/a9.*does not start with the Immich path prefix/);
  });

  it('refuses traversal after the prefix', () => {
    const m = mapAssetPath('a', '/usr/src/app/upload/../../../etc/shadow', LIB, mapping);
    expect(m.ok).toBe(false);
  });

  it('property: whatever the original path, a mapped path is strictly inside the root', () => {
    const segment = fc.oneof(fc.constantFrom('..', '.', '', 'a', '2024', '\0', 'x.jpg', '..a', '~'), fc.string({ maxLength: 6 }));
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 8 }), fc.integer({ min: 1, max: 4 }), (segments, n) => {
        const original = '/' + segments.join('/');
        for (const m of [mapping, { mode: 'lastSegments' as const, segments: n }]) {
          const result = mapAssetPath('p', original, LIB, m);
          if (result.ok) {
            expect(isInside(LIB, result.path)).toBe(true);
            expect(path.normalize(result.path)).toBe(result.path);
          }
        }
      }),
    );
  });
});

describe('validateMapping', () => {
  it('accepts the defaults, and a local prefix that is the library root or inside it', () => {
    expect(() => validateMapping('/library', { mode: 'lastSegments', segments: 3 })).not.toThrow();
    expect(() => validateMapping('/library', { mode: 'prefix', immichPrefix: '/upload', localPrefix: '/library/' })).not.toThrow();
    expect(() => validateMapping('/library', { mode: 'prefix', immichPrefix: '/upload', localPrefix: 'ext' })).not.toThrow();
  });
  it.each([
    ['', { mode: 'lastSegments' as const, segments: 3 }, /Library Path/],
    ['library', { mode: 'lastSegments' as const, segments: 3 }, /absolute/],
    ['/library', { mode: 'lastSegments' as const, segments: 0 }, /1 to 32/],
    ['/library', { mode: 'prefix' as const, immichPrefix: 'relative', localPrefix: '/library' }, /Immich path prefix/],
    ['/library', { mode: 'prefix' as const, immichPrefix: '/upload', localPrefix: '/elsewhere' }, /outside Library Path/],
  ])('refuses %j %j', (lib, mapping, message) => {
    expect(() => validateMapping(lib, mapping)).toThrow(PathMappingConfigError);
    expect(() => validateMapping(lib, mapping)).toThrow(message);
  });
});

describe('checkRealPathInside (symlinks)', () => {
  let tmp: string;
  let root: string;
  let outside: string;

  beforeEach(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'files-mapping-'));
    root = path.join(tmp, 'library');
    outside = path.join(tmp, 'outside');
    await fs.mkdir(path.join(root, '2024', '05'), { recursive: true });
    await fs.mkdir(outside, { recursive: true });
    await fs.writeFile(path.join(root, '2024', '05', 'a.jpg'), 'x');
    await fs.writeFile(path.join(outside, 'secret.jpg'), 'x');
  });
  afterEach(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('accepts a plain file inside the root', async () => {
    const p = path.join(root, '2024', '05', 'a.jpg');
    expect(await checkRealPathInside('a', root, p)).toEqual({ ok: true, path: p });
  });

  it('accepts a symlink that stays inside the root', async () => {
    await fs.symlink(path.join(root, '2024'), path.join(root, 'alias'));
    const p = path.join(root, 'alias', '05', 'a.jpg');
    expect((await checkRealPathInside('a', root, p)).ok).toBe(true);
  });

  it('refuses a symlinked folder segment pointing out of the root', async () => {
    await fs.symlink(outside, path.join(root, '2025'));
    const result = await checkRealPathInside('asset-x', root, path.join(root, '2025', 'secret.jpg'));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toContain('asset-x');
      expect(result.reason).toContain('symlink');
    }
  });

  it('refuses a symlinked file pointing out of the root', async () => {
    await fs.symlink(path.join(outside, 'secret.jpg'), path.join(root, '2024', '05', 'b.jpg'));
    expect((await checkRealPathInside('a', root, path.join(root, '2024', '05', 'b.jpg'))).ok).toBe(false);
  });

  it('checks a path that does not exist yet (a new sidecar) through its folder', async () => {
    expect((await checkRealPathInside('a', root, path.join(root, '2024', '05', 'a.jpg.xmp'))).ok).toBe(true);
    await fs.symlink(outside, path.join(root, 'out'));
    expect((await checkRealPathInside('a', root, path.join(root, 'out', 'new', 'a.jpg.xmp'))).ok).toBe(false);
  });

  it('refuses a dangling symlink that would create a file outside the root', async () => {
    await fs.symlink(path.join(outside, 'not-yet.xmp'), path.join(root, '2024', '05', 'a.jpg.xmp'));
    expect((await checkRealPathInside('a', root, path.join(root, '2024', '05', 'a.jpg.xmp'))).ok).toBe(false);
  });

  it('works when the library root itself is reached through a symlink', async () => {
    const linkedRoot = path.join(tmp, 'lib-link');
    await fs.symlink(root, linkedRoot);
    expect((await checkRealPathInside('a', linkedRoot, path.join(linkedRoot, '2024', '05', 'a.jpg'))).ok).toBe(true);
  });

  it('reports a missing library root', async () => {
    const result = await checkRealPathInside('a', path.join(tmp, 'nope'), path.join(tmp, 'nope', 'x.jpg'));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(/Library Path .* does not exist/);
  });
});

describe('printable', () => {
  it('escapes control characters (NUL, newline, ESC, DEL, C1) so a reason cannot forge a log line', () => {
    expect(printable('a\nb\u001b[2K\u0000\u007f\u0085ü✓')).toBe('a\\x0ab\\x1b[2K\\x00\\x7f\\x85ü✓');
  });
});

describe('deep paths', () => {
  it('a path deeper than any symlink bound is still checked, not refused as a symlink', async () => {
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'files-deep-'));
    try {
      const deep = path.join(tmp, ...Array.from({ length: 400 }, (_, i) => `d${i}`), 'photo.jpg');
      expect(await checkRealPathInside('a', tmp, deep)).toEqual({ ok: true, path: deep });
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  });
});
