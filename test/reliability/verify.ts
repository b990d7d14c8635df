/**
 * Independent checks of a written file: the planned tags read back (the product's own diff must find
 * nothing left to do, and Immich's reader sees the values), and the image data is the same as before
 * (ExifTool's ImageDataHash through exiftool-vendored's `read`).
 */
import { ExifTool } from 'exiftool-vendored';

import { ImmichClient } from '../../lib/immich/client';
import { AxiosTransport } from '../../lib/immich/transport';
import { diffAgainstFile, tagsToRead } from '../../lib/metadata/diff';
import { buildMetadataPlan } from '../../lib/metadata/plan';
import { readRequest } from '../../lib/metadata/readOptions';
import type { MetadataPlan, ModuleName } from '../../lib/metadata/types';
import type { Simulator } from '../simulator';

/** A plain ExifTool (not the product's pool) that reports the image data hash on every read. */
export function hashingExifTool(): ExifTool {
  return new ExifTool({ imageHashType: 'MD5', maxProcs: 2 });
}

export async function imageHash(exiftool: ExifTool, file: string): Promise<string | undefined> {
  const tags = (await exiftool.read(file)) as unknown as { ImageDataHash?: string };
  return tags.ImageDataHash;
}

/** What is still different between the file and the plan (empty = the plan reads back). */
export async function remainingChanges(exiftool: ExifTool, file: string, plan: MetadataPlan): Promise<string[]> {
  const raw = (await exiftool.readRaw(file, readRequest(tagsToRead(plan, 'embedded')))) as Record<string, unknown>;
  const current: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) if (k !== 'SourceFile' && k !== 'errors' && k !== 'warnings') current[k] = v;
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
