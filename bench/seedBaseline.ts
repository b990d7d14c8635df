import { spawn } from 'child_process';
import type { ImmichAssetDetails } from '../lib/immich/types';
import { exiftoolScript } from './paths';

/**
 * Baseline (a): the seed script's way of writing, reproduced for measurement only. One
 * `exiftool -overwrite_original <args> <file>` process per file, every module's tags assigned with `=`,
 * no comparison first and no verification after. It is deliberately lossy (that is the seed's behaviour),
 * which is why it only ever runs on temp copies.
 */
export function seedArgs(asset: ImmichAssetDetails): string[] {
  const args: string[] = [];
  const exif = asset.exif;
  for (const person of asset.people) {
    args.push(`-XMP:Subject=${person.name}`, `-IPTC:Keywords=${person.name}`, `-XMP-iptcExt:PersonInImage=${person.name}`);
  }
  if (exif.latitude !== null && exif.longitude !== null) {
    args.push(`-GPSLatitude=${exif.latitude}`, `-GPSLongitude=${exif.longitude}`, '-GPSAltitude=0');
  }
  if (exif.description) {
    args.push(`-XMP:Description=${exif.description}`, `-IPTC:Caption-Abstract=${exif.description}`);
  }
  if (exif.dateTimeOriginal) {
    const stamp = exif.dateTimeOriginal.slice(0, 19).replace('T', ' ').replace(/-/g, ':');
    for (const tag of ['DateTimeOriginal', 'CreateDate', 'XMP:CreateDate', 'XMP-photoshop:DateCreated']) {
      args.push(`-${tag}=${stamp}`);
    }
  }
  args.push(`-Rating=${asset.isFavorite ? 5 : 0}`);
  for (const album of asset.albums) {
    args.push(`-XMP-iptcExt:Event=${album}`, `-XMP:HierarchicalSubject=${album}`);
  }
  if (asset.albums.length > 0) args.push(`-EXIF:UserComment=${asset.albums.join(', ')}`);
  if (asset.faces.length > 0) {
    const { imageWidth: w, imageHeight: h } = asset.faces[0];
    const regions = asset.faces.map((f) => {
      const cx = (f.x1 + f.x2) / 2 / w;
      const cy = (f.y1 + f.y2) / 2 / h;
      const name = (f.personName ?? '').replace(/[,\]}|]/g, (c) => `|${c}`);
      return `{Area={X=${cx},Y=${cy},W=${(f.x2 - f.x1) / w},H=${(f.y2 - f.y1) / h},Unit=normalized},Name=${name},Type=Face}`;
    });
    args.push(`-RegionInfo={AppliedToDimensions={W=${w},H=${h},Unit=pixel},RegionList=[${regions.join(',')}]}`);
  }
  return args;
}

function runExiftool(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('perl', [exiftoolScript(), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`seed exiftool exited ${code}: ${stderr.trim()}`))));
  });
}

/** Writes each file in turn, one process each, like the seed's loop. Returns files/s. */
export async function seedWriteFiles(files: string[], assetFor: (file: string, index: number) => ImmichAssetDetails): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < files.length; i++) {
    await runExiftool(['-overwrite_original', ...seedArgs(assetFor(files[i], i)), files[i]]);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return files.length / seconds;
}
