/**
 * Independent checks of a written file: the planned tags read back (the product's own diff must find
 * nothing left to do, and Immich's reader sees the values), and the image data is the same as before
 * (ExifTool's ImageDataHash through exiftool-vendored's `read`).
 */
import { execFile } from 'child_process';
import { ExifTool } from 'exiftool-vendored';
import * as path from 'path';
import { promisify } from 'util';

import { ImmichClient } from '../../lib/immich/client';
import { AxiosTransport } from '../../cli/axiosTransport';
import { diffAgainstFile, tagsToRead } from '../../lib/metadata/diff';
import { buildMetadataPlan } from '../../lib/metadata/plan';
import { readRequest } from '../../lib/metadata/readOptions';
import type { MetadataPlan, ModuleName } from '../../lib/metadata/types';
import { interpretTags, type ImmichRead } from '../helpers/immichRead';
import type { Simulator } from '../simulator';

const run = promisify(execFile);
/** The ExifTool script exiftool-vendored ships, run directly. */
export const EXIFTOOL_PL = path.join(path.dirname(require.resolve('exiftool-vendored.pl/package.json')), 'bin', 'exiftool');

/**
 * ExifTool run as its own process with -json: an independent reader that does not share
 * exiftool-vendored's stream handling (which splits multi-byte characters in very long answers).
 */
export async function cliJson(file: string, args: readonly string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run('perl', [EXIFTOOL_PL, '-json', '-charset', 'filename=utf8', ...args, file], { maxBuffer: 1 << 28, encoding: 'utf8' });
  const [tags] = JSON.parse(stdout) as Array<Record<string, unknown>>;
  delete tags.SourceFile;
  return tags;
}

/** Immich's read rules (test/helpers/immichRead.ts) applied to an independent ExifTool read. */
export async function immichReadIndependent(file: string): Promise<ImmichRead> {
  return interpretTags(await cliJson(file, ['-struct', '-use', 'MWG', '-n']));
}

/** A plain ExifTool (not the product's pool) that reports the image data hash on every read. */
export function hashingExifTool(): ExifTool {
  return new ExifTool({ imageHashType: 'MD5', maxProcs: 2 });
}

export async function imageHash(exiftool: ExifTool, file: string): Promise<string | undefined> {
  const tags = (await exiftool.read(file)) as unknown as { ImageDataHash?: string };
  return tags.ImageDataHash;
}

/** What is still different between the file and the plan (empty = the plan reads back). */
export async function remainingChanges(_exiftool: ExifTool, file: string, plan: MetadataPlan): Promise<string[]> {
  const current = await cliJson(file, readRequest(tagsToRead(plan, 'embedded')).readArgs);
  return diffAgainstFile(plan, current, 'embedded').changes.map((c) => `${c.field}: ${JSON.stringify(c.before)} → ${JSON.stringify(c.after)}`);
}

/** The plans the command line builds for every asset of a simulator, keyed by asset id. */
export async function plansFromSimulator(sim: Simulator, ids: string[], modules: ModuleName[]): Promise<Map<string, MetadataPlan>> {
  const client = new ImmichClient(new AxiosTransport({ url: sim.url, apiKey: sim.apiKey, retry: { maxRetries: 1, baseDelayMs: 5 } }));
  const plans = new Map<string, MetadataPlan>();
  for (const id of ids) {
    const details = await client.getAssetDetails(id);
    plans.set(id, buildMetadataPlan(details, { modules }));
  }
  return plans;
}
