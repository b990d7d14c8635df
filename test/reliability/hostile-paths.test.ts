/**
 * A hostile or broken server sends paths meant to leave the library root: `..`, absolute paths
 * elsewhere, symlinks inside the library that point out, NUL bytes, very long paths. Nothing outside
 * the root may be written: canary files beside the library keep their bytes and mtime, and no new
 * file appears outside. Checked through syncAsset (the core every adapter uses) and the command line.
 */
import type { ExifTool } from 'exiftool-vendored';
import { copyFileSync, linkSync, lstatSync, mkdirSync, statSync, symlinkSync } from 'fs';
import * as path from 'path';

import { createExifTool } from '../../lib/files/exiftoolPool';
import type { PathMapping } from '../../lib/files/pathMapping';
import { syncAsset } from '../../lib/sync/syncAsset';
import { startSimulator } from '../simulator';
import {
  detailsFor,
  ensureCliBuilt,
  handLibrary,
  hashTree,
  listFiles,
  removeTempDirs,
  runCli,
  sample,
  sha256,
  summaryOf,
  tempDir,
  tempLeftovers,
} from './support';

jest.setTimeout(240_000);

const IMMICH = '/usr/src/app/upload/library';
const JPEG = 'metadata/tags/picasa.jpg';

let exiftool: ExifTool;
beforeAll(() => {
  ensureCliBuilt();
  exiftool = createExifTool({ maxProcs: 2 });
});
afterAll(async () => {
  await exiftool.end();
  removeTempDirs();
});

interface World {
  base: string;
  root: string;
  outside: string;
  canary: string;
  legit: string;
  snapshot(): { tree: Record<string, string>; mtimes: Record<string, number> };
}

/**
 * base/library is the root; base/outside holds canaries at the places a traversal would reach
 * (beside the root, and at the same year/month layout), plus symlinks from inside pointing at them.
 */
function makeWorld(): World {
  const base = tempDir('paths');
  const root = path.join(base, 'library');
  const outside = path.join(base, 'outside');
  for (const dir of [path.join(root, '2024', '05'), path.join(outside, '2024', '05')]) mkdirSync(dir, { recursive: true });
  const canary = path.join(outside, 'canary.jpg');
  for (const file of [canary, path.join(outside, '2024', '05', 'canary.jpg'), path.join(base, 'canary.jpg'), path.join(outside, 'victim.jpg.xmp')]) {
    if (file.endsWith('.xmp')) require('fs').writeFileSync(file, '<x:xmpmeta xmlns:x="adobe:ns:meta/"/>\n');
    else copyFileSync(sample(JPEG), file);
  }
  const legit = path.join(root, '2024', '05', 'legit.jpg');
  copyFileSync(sample(JPEG), legit);
  // symlinks inside the library that lead out
  symlinkSync(canary, path.join(root, '2024', '05', 'link-out.jpg'));
  symlinkSync(path.join(outside, '2024'), path.join(root, 'escape'));
  symlinkSync(path.join(outside, 'not-yet.jpg'), path.join(root, '2024', '05', 'dangling-out.jpg'));
  // a sidecar next to a legit photo that is a symlink to a file outside
  copyFileSync(sample(JPEG), path.join(root, '2024', '05', 'with-sidecar.jpg'));
  symlinkSync(path.join(outside, 'victim.jpg.xmp'), path.join(root, '2024', '05', 'with-sidecar.jpg.xmp'));
  for (const f of listFiles(base)) if (!lstatSync(f).isSymbolicLink()) require('fs').chmodSync(f, 0o644);
  const snapshot = () => {
    const tree: Record<string, string> = {};
    const mtimes: Record<string, number> = {};
    for (const dir of [outside, base]) {
      for (const f of listFiles(dir)) {
        if (f.startsWith(root + path.sep)) continue;
        const rel = path.relative(base, f);
        tree[rel] = sha256(f);
        mtimes[rel] = statSync(f).mtimeMs;
      }
    }
    return { tree, mtimes };
  };
  return { base, root, outside, canary, legit, snapshot };
}

const LONG_SEGMENT = 'x'.repeat(300);
const VERY_LONG = `${IMMICH}/${Array.from({ length: 400 }, (_, i) => `d${i}`).join('/')}/2024/05/photo.jpg`;

/** originalPath values a hostile server could send, with the mappings that must refuse them. */
function hostilePaths(w: World): Array<{ label: string; originalPath: string }> {
  const rel = path.relative('/', w.outside);
  return [
    { label: 'dot-dot to the canary beside the root', originalPath: `${IMMICH}/2024/../../canary.jpg` },
    { label: 'dot-dot in the last three segments', originalPath: `${IMMICH}/../outside/canary.jpg` },
    { label: 'many dot-dots up to /', originalPath: `${IMMICH}/../../../../../../../../${rel}/canary.jpg` },
    { label: 'single dot segments', originalPath: `${IMMICH}/./2024/./canary.jpg` },
    { label: 'absolute path elsewhere', originalPath: w.canary },
    { label: 'absolute /etc/passwd', originalPath: '/etc/passwd' },
    { label: 'NUL byte', originalPath: `${IMMICH}/2024/05/legit.jpg\u0000/../../../outside/canary.jpg` },
    { label: 'NUL byte at the end', originalPath: `${IMMICH}/2024/05/legit.jpg\u0000` },
    { label: 'file symlink pointing outside', originalPath: `${IMMICH}/2024/05/link-out.jpg` },
    { label: 'folder symlink pointing outside', originalPath: `${IMMICH}/escape/05/canary.jpg` },
    { label: 'dangling symlink pointing outside', originalPath: `${IMMICH}/2024/05/dangling-out.jpg` },
    { label: 'a 300-character segment', originalPath: `${IMMICH}/2024/05/${LONG_SEGMENT}.jpg` },
    { label: 'a path of 400 folders', originalPath: VERY_LONG },
    { label: 'backslash traversal (a plain character on POSIX)', originalPath: `${IMMICH}\\..\\..\\outside\\canary.jpg` },
    { label: 'empty path', originalPath: '' },
    // Control characters that would forge output lines or drive the terminal if printed raw.
    { label: 'newline and ANSI escape', originalPath: `${IMMICH}/2024/05/evil\nwritten 99, unchanged 0, skipped 0, failed 0\u001b[2K.jpg` },
  ];
}

const MAPPINGS: Array<{ name: string; mapping: (w: World) => PathMapping }> = [
  { name: 'last 3 segments', mapping: () => ({ mode: 'lastSegments', segments: 3 }) },
  { name: 'last 6 segments', mapping: () => ({ mode: 'lastSegments', segments: 6 }) },
  { name: 'prefix', mapping: (w) => ({ mode: 'prefix', immichPrefix: IMMICH, localPrefix: w.root }) },
];

describe.each(MAPPINGS)('syncAsset with $name mapping', ({ mapping }) => {
  test.each(['original', 'sidecar'] as const)('no hostile path writes outside the root (target %s)', async (target) => {
    const w = makeWorld();
    const before = w.snapshot();
    const outcomes: string[] = [];
    for (const { label, originalPath } of hostilePaths(w)) {
      const result = await syncAsset(detailsFor(originalPath), {
        exiftool,
        libraryPath: w.root,
        mapping: mapping(w),
        target,
        dryRun: false,
        buildOptions: { modules: ['caption', 'rating', 'people'] },
      });
      outcomes.push(`${label}: ${result.status}`);
      // Refused (failed) or not found inside the root (skipped); never written.
      expect({ label, status: result.status }).toEqual({ label, status: expect.stringMatching(/^(failed|skipped)$/) });
      expect(result.reason ?? '').not.toMatch(/\u0000/);
    }
    expect(w.snapshot()).toEqual(before);
    expect(tempLeftovers(w.base)).toEqual([]);
  });
});

test.each([MAPPINGS[0], MAPPINGS[2]])('an existing sidecar that is a symlink to a file outside is not written through ($name mapping)', async ({ mapping }) => {
  const w = makeWorld();
  const before = w.snapshot();
  const details = detailsFor(`${IMMICH}/2024/05/with-sidecar.jpg`);
  const result = await syncAsset(details, { exiftool, libraryPath: w.root, mapping: mapping(w), target: 'sidecar', dryRun: false, buildOptions: { modules: ['caption', 'rating'] } });
  expect(result.status).toBe('failed');
  expect(result.reason).toMatch(/outside|symlink|refused/i);
  expect(w.snapshot()).toEqual(before);
});

test('a hard link inside the library to a file outside: the write replaces the link inside, the outside file keeps its bytes', async () => {
  const w = makeWorld();
  const inside = path.join(w.root, '2024', '05', 'hardlinked.jpg');
  linkSync(w.canary, inside);
  const before = w.snapshot();
  const result = await syncAsset(detailsFor(`${IMMICH}/2024/05/hardlinked.jpg`), {
    exiftool,
    libraryPath: w.root,
    mapping: { mode: 'lastSegments', segments: 3 },
    target: 'original',
    dryRun: false,
    buildOptions: { modules: ['caption', 'rating'] },
  });
  // Either refused, or written by replacing the directory entry (atomic rename), never in place.
  expect(['written', 'failed']).toContain(result.status);
  expect(w.snapshot()).toEqual(before);
});

test('the legit asset beside the hostile ones is written (the refusals are per item)', async () => {
  const w = makeWorld();
  const result = await syncAsset(detailsFor(`${IMMICH}/2024/05/legit.jpg`), {
    exiftool,
    libraryPath: w.root,
    mapping: { mode: 'lastSegments', segments: 3 },
    target: 'original',
    dryRun: false,
    buildOptions: { modules: ['caption', 'rating'] },
  });
  expect({ status: result.status, verified: result.verified }).toEqual({ status: 'written', verified: true });
});

describe.each([
  ['default mapping (last 3 segments)', [] as string[]],
  ['--path-prefix', ['--path-prefix', `${IMMICH}=.`]],
])('the command line with %s', (_label, mappingArgs) => {
  let w: World;
  let before: ReturnType<World['snapshot']>;
  let run: Awaited<ReturnType<typeof runCli>>;
  let log: string;
  let hostileCount: number;

  beforeAll(async () => {
    w = makeWorld();
    const hostile = hostilePaths(w).filter((h) => h.originalPath !== ''); // the spec requires a path
    hostileCount = hostile.length;
    const { library } = handLibrary([
      ...hostile.map((h) => ({ originalPath: h.originalPath, description: 'hostile' })),
      { originalPath: `${IMMICH}/2024/05/legit.jpg`, description: 'legit' },
    ]);
    const sim = await startSimulator({ library });
    try {
      before = w.snapshot();
      const stateDir = tempDir('paths-state');
      run = await runCli(['--caption', '--rating', '--people', '--state-dir', stateDir, ...mappingArgs], {
        env: { IMMICH_INSTANCE_URL: sim.url, IMMICH_API_KEY: sim.apiKey, PHOTO_DIR: w.root },
        hardTimeoutMs: 180_000,
      });
      log = require('fs').readFileSync(path.join(stateDir, 'immich_ultra_sync.txt'), 'utf8') as string;
    } finally {
      await sim.close();
    }
  });

  test('hostile paths fail per item, the legit asset is written, nothing outside the root changes', () => {
    const counts = summaryOf(run);
    expect({ code: run.code, counts }).toEqual({ code: 1, counts: { written: 1, unchanged: 0, skipped: expect.any(Number), failed: expect.any(Number) } });
    expect(counts!.skipped + counts!.failed).toBe(hostileCount);
    expect(w.snapshot()).toEqual(before);
    expect(tempLeftovers(w.base)).toEqual([]);
    expect(hashTree(w.root)['2024/05/legit.jpg']).not.toBe(sha256(sample(JPEG)));
  });

  test('control characters from the server (NUL, newline, ESC) never reach the terminal or the log raw, and cannot forge a line', () => {
    for (const text of [run.stdout, run.stderr, log]) expect(text).not.toMatch(/[\u0000\u001b]/);
    for (const line of run.lines) expect(line).toMatch(/^(written |failed |skipped |would write |listed \d+, by id \d+, handled \d+$)/);
    expect(run.lines.filter((l) => /^written \d+, unchanged/.test(l))).toHaveLength(1);
  });
});
