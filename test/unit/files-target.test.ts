import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';

import { canExifToolWriteInPlace, effectiveMode, resolveTargets, sidecarCandidates } from '../../lib/files/target';
import { decodeEntities, selectEachTagOnce } from '../../lib/files/readTags';
import { hostTag, isTempFileOf, removeStaleTempFiles, removeStaleTempFilesInFolder, tempPathFor } from '../../lib/files/tempFiles';

describe('target selection', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'files-target-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  const external = { id: 'ext', libraryId: 'lib-1' };
  const upload = { id: 'up', libraryId: null };

  it('names sidecars the way Immich looks for them', () => {
    expect(sidecarCandidates('/l/2024/IMG_1.JPG')).toEqual(['/l/2024/IMG_1.JPG.xmp', '/l/2024/IMG_1.xmp']);
  });

  it('auto: originals for external libraries, sidecars for uploads (checksum)', () => {
    expect(effectiveMode('auto', 'lib-1')).toBe('original');
    expect(effectiveMode('auto', null)).toBe('sidecar');
    expect(effectiveMode('original', null)).toBe('original');
  });

  it('original without a sidecar: only the file', async () => {
    const file = path.join(dir, 'a.jpg');
    await fs.writeFile(file, 'x');
    expect(await resolveTargets(external, file, 'original')).toEqual({ ok: true, targets: [{ kind: 'embedded', file, exists: true }] });
  });

  it('original with an existing sidecar: the sidecar is updated too (Immich reads it first)', async () => {
    const file = path.join(dir, 'a.jpg');
    await fs.writeFile(file, 'x');
    await fs.writeFile(path.join(dir, 'a.xmp'), '<x/>');
    const decision = await resolveTargets(external, file, 'original');
    expect(decision).toEqual({
      ok: true,
      targets: [
        { kind: 'embedded', file, exists: true },
        { kind: 'sidecar', file: path.join(dir, 'a.xmp'), exists: true },
      ],
    });
  });

  it('sidecar: prefers photo.jpg.xmp, then photo.xmp, else creates photo.jpg.xmp', async () => {
    const file = path.join(dir, 'a.jpg');
    await fs.writeFile(file, 'x');
    expect(await resolveTargets(upload, file, 'auto')).toEqual({
      ok: true,
      targets: [{ kind: 'sidecar', file: `${file}.xmp`, exists: false }],
    });
    await fs.writeFile(path.join(dir, 'a.xmp'), '<x/>');
    expect((await resolveTargets(upload, file, 'sidecar')) as unknown).toEqual({
      ok: true,
      targets: [{ kind: 'sidecar', file: path.join(dir, 'a.xmp'), exists: true }],
    });
    await fs.writeFile(`${file}.xmp`, '<x/>');
    expect(await resolveTargets(upload, file, 'sidecar')).toEqual({
      ok: true,
      targets: [{ kind: 'sidecar', file: `${file}.xmp`, exists: true }],
    });
  });

  it('a format ExifTool cannot write: skipped with a reason under "original", a sidecar under "auto"', async () => {
    const file = path.join(dir, 'clip.mkv');
    await fs.writeFile(file, 'x');
    expect(canExifToolWriteInPlace(file)).toBe(false);
    expect(canExifToolWriteInPlace('/x/a.HEIC')).toBe(true);
    const refused = await resolveTargets(external, file, 'original');
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.reason).toMatch(/ext.*cannot write \.mkv.*Sidecar/);
    expect(await resolveTargets(external, file, 'auto')).toEqual({
      ok: true,
      targets: [{ kind: 'sidecar', file: `${file}.xmp`, exists: false }],
    });
  });
});

describe('temporary files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'files-temp-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('temp names are hidden, beside the file, keep the extension and are recognisable', () => {
    const file = path.join(dir, 'IMG 1.jpg');
    const temp = tempPathFor(file);
    expect(path.dirname(temp)).toBe(dir);
    expect(path.basename(temp).startsWith('.IMG 1.jpg.')).toBe(true);
    expect(path.extname(temp)).toBe('.jpg');
    expect(isTempFileOf(file, path.basename(temp))).toBe(true);
    expect(isTempFileOf(path.join(dir, 'IMG 2.jpg'), path.basename(temp))).toBe(false);
    expect(tempPathFor(file)).not.toBe(temp);
  });

  it('removes leftovers of a dead process and of a predecessor with our pid; keeps live writes and unrelated files', async () => {
    const file = path.join(dir, 'a.jpg');
    await fs.writeFile(file, 'x');
    // pid 2^22+1 is above Linux's pid_max ceiling: no such process can exist.
    const dead = path.join(dir, `.a.jpg.immich-sync-tmp-${2 ** 22 + 1}-abcdef.jpg`);
    // A container restart reuses the pid: a file with our pid that we are not writing is a leftover.
    const samePid = path.join(dir, `.a.jpg.immich-sync-tmp-${process.pid}-abcdef.jpg`);
    const ours = tempPathFor(file); // a write of ours in flight
    const otherLive = path.join(dir, `.a.jpg.immich-sync-tmp-${process.ppid}-abcdef.jpg`);
    const unrelated = path.join(dir, '.a.jpg.something-else.jpg');
    for (const p of [dead, samePid, ours, otherLive, unrelated]) await fs.writeFile(p, 'y');
    expect((await removeStaleTempFiles(file)).sort()).toEqual([dead, samePid].sort());
    expect((await fs.readdir(dir)).sort()).toEqual([path.basename(ours), path.basename(otherLive), '.a.jpg.something-else.jpg', 'a.jpg'].sort());
  });

  it('temp names carry the host, so two hosts with the same pid never share one; another host\'s fresh temp file is kept', async () => {
    const file = path.join(dir, 'a.jpg');
    await fs.writeFile(file, 'x');
    const temp = path.basename(tempPathFor(file));
    expect(temp.startsWith(`.a.jpg.immich-sync-tmp-${hostTag()}-${process.pid}-`)).toBe(true);
    expect(hostTag('nas.local')).toBe('nas_local');
    // a dead pid on this host is a leftover; the same pid on another host may be writing right now
    const deadHere = path.join(dir, `.a.jpg.immich-sync-tmp-${hostTag()}-${2 ** 22 + 1}-abcdef.jpg`);
    const otherHost = path.join(dir, `.a.jpg.immich-sync-tmp-worker-2-${2 ** 22 + 1}-abcdef.jpg`);
    const otherHostOld = path.join(dir, `.a.jpg.immich-sync-tmp-worker-2-${2 ** 22 + 1}-abcd01.jpg`);
    for (const p of [deadHere, otherHost, otherHostOld]) await fs.writeFile(p, 'y');
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    await fs.utimes(otherHostOld, twoHoursAgo, twoHoursAgo);
    expect((await removeStaleTempFiles(file)).sort()).toEqual([deadHere, otherHostOld].sort());
    expect(await fs.readdir(dir)).toContain(path.basename(otherHost));
  });

  it('folder-wide cleanup removes dead runs\' leftovers of any file, and nothing else', async () => {
    const dead = 2 ** 22 + 1;
    const leftovers = [`.a.jpg.immich-sync-tmp-${dead}-00ff.jpg`, `.b c.heic.immich-sync-tmp-${dead}-abc123.heic`, `.x.xmp.immich-sync-tmp-${dead}-1.xmp`];
    const keep = ['a.jpg', `.a.jpg.immich-sync-tmp-${process.ppid}-00ff.jpg`, 'immich-sync-tmp-1-1.jpg', `.a.jpg.immich-sync-tmp-${dead}-zz.jpg`];
    for (const name of [...leftovers, ...keep]) await fs.writeFile(path.join(dir, name), 'y');
    expect((await removeStaleTempFilesInFolder(dir)).sort()).toEqual(leftovers.map((n) => path.join(dir, n)).sort());
    expect((await fs.readdir(dir)).sort()).toEqual([...keep].sort());
  });
});

describe('decodeEntities (ExifTool -E output)', () => {
  it('turns HTML entities back into the text, leaving everything else alone', () => {
    expect(decodeEntities('&#x6771;&#x4eac; &amp; Tom&#39;s &lt;b&gt; &quot;x&quot; &#128512; &amp;amp; 5 & 6')).toBe('東京 & Tom\'s <b> "x" 😀 &amp; 5 & 6');
    expect(decodeEntities('plain')).toBe('plain');
    expect(decodeEntities('Reliability test &ndash; &auml;&ouml;&uuml; &Dagger;&dagger; &nbsp;&euro;')).toBe('Reliability test – äöü ‡† \u00a0€');
    expect(decodeEntities('&unknown; &#;')).toBe('&unknown; &#;');
    expect(decodeEntities('&#x110000;')).toBe('&#x110000;');
  });
});

describe('selectEachTagOnce', () => {
  it('drops tags that a group:all in the same read already selects (ExifTool would escape them twice)', () => {
    expect(selectEachTagOnce(['File:FileType#', 'XMP-dc:Subject', 'IPTC:Keywords', 'IPTC:Caption-Abstract', 'IPTC:Urgency#', 'IPTC:all', 'XMP-dc:Subject'])).toEqual([
      'File:FileType#',
      'XMP-dc:Subject',
      'IPTC:Urgency#',
      'IPTC:all',
    ]);
    expect(selectEachTagOnce(['IPTC:Keywords', 'XMP-dc:Subject'])).toEqual(['IPTC:Keywords', 'XMP-dc:Subject']);
  });
});
