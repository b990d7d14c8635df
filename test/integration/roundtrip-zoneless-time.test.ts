/**
 * A capture time Immich holds without a zone (timeZone null: it read a wall clock with no offset and took it
 * as UTC) must read back in Immich as the same instant. Immich's reader gives a zone-less time the zone its
 * GPS position implies, so the file having or getting a position must not move the photo by hours.
 * Real ExifTool writes into copies of real samples; the emulated Immich reader reads them back.
 */
import { ExifTool } from 'exiftool-vendored';
import { buildMetadataPlan } from '../../lib/metadata/plan';
import type { ModuleName } from '../../lib/metadata/types';
import { createImmichExifTool, immichRead } from '../helpers/immichRead';
import { applyPlan, type AssetOverrides, copySample, createPlainWriter, makeAsset, makeTempDir, rediff } from './roundtrip-support';

let writer: ExifTool;
let immich: ExifTool;
let dir: string;
beforeAll(() => {
  writer = createPlainWriter();
  immich = createImmichExifTool();
  dir = makeTempDir('roundtrip-zoneless-time');
});
afterAll(async () => {
  await Promise.all([writer.end(), immich.end()]);
});

const SHANGHAI = { latitude: 31.2304, longitude: 121.4737 }; // UTC+8 all year: a zone-less time read there moves 8 hours

async function roundTrip(sample: string, name: string, exif: AssetOverrides['exif'], modules: ModuleName[]) {
  const file = copySample(sample, dir, name);
  const instant = exif?.dateTimeOriginal as string;
  const asset = makeAsset({ localDateTime: instant, exif: { timeZone: null, ...exif } });
  const plan = buildMetadataPlan(asset, { modules });
  await applyPlan(writer, file, plan);
  return { file, plan, read: await immichRead(immich, file) };
}

describe('a capture time Immich holds without a zone', () => {
  it('no GPS: reads back as the same instant and wall clock', async () => {
    const { file, plan, read } = await roundTrip('metadata/tags/picasa.jpg', 'no-gps.jpg', { dateTimeOriginal: '2010-02-13T14:55:31.000Z' }, ['time']);
    expect(read.latitude).toBeNull();
    expect(read.dateTimeOriginal).toBe('2010-02-13T14:55:31.000Z');
    expect(read.localDateTime).toBe('2010-02-13T14:55:31.000Z');
    expect(read.timeZone).toBe('UTC');
    expect((await rediff(writer, file, plan)).changes).toEqual([]);
  });

  it('GPS written by us in the same write: the position does not move the time', async () => {
    const { file, plan, read } = await roundTrip(
      'metadata/tags/picasa.jpg',
      'gps-written.jpg',
      { dateTimeOriginal: '2010-02-13T14:55:31.000Z', ...SHANGHAI },
      ['time', 'gps'],
    );
    expect(read.latitude).toBeCloseTo(SHANGHAI.latitude, 5);
    expect(read.longitude).toBeCloseTo(SHANGHAI.longitude, 5);
    expect(read.dateTimeOriginal).toBe('2010-02-13T14:55:31.000Z');
    expect(read.localDateTime).toBe('2010-02-13T14:55:31.000Z');
    expect(read.timeZone).toBe('UTC');
    expect((await rediff(writer, file, plan)).changes).toEqual([]);
  });

  it('GPS already in the file (Colorado, zone-less DateTimeOriginal): the instant stays', async () => {
    const sample = 'metadata/dates/datetimeoriginal-gps.jpg';
    // The untouched sample shows the hazard: its zone-less 11:30 reads as 11:30 in America/Denver.
    const before = await immichRead(immich, copySample(sample, dir, 'gps-in-file-before.jpg'));
    expect(before.timeZone).toBe('America/Denver');
    expect(before.dateTimeOriginal).toBe('2025-12-01T18:30:00.000Z');

    const { file, plan, read } = await roundTrip(sample, 'gps-in-file.jpg', { dateTimeOriginal: '2025-12-01T11:30:00.000Z' }, ['time']);
    expect(read.latitude).toBe(39);
    expect(read.dateTimeOriginal).toBe('2025-12-01T11:30:00.000Z');
    expect(read.localDateTime).toBe('2025-12-01T11:30:00.000Z');
    expect(read.timeZone).toBe('UTC');
    expect((await rediff(writer, file, plan)).changes).toEqual([]);
  });
});
