import * as fs from 'fs';
import * as path from 'path';
import type { ExifTool, WriteTags } from 'exiftool-vendored';

import { createExifTool } from '../../lib/files/exiftoolPool';
import { tempPathFor } from '../../lib/files/tempFiles';
import type { AssetWriteResult } from '../../lib/files/types';
import { diffAgainstFile, tagsToRead } from '../../lib/metadata/diff';
import { buildMetadataPlan } from '../../lib/metadata/plan';
import { readRequest } from '../../lib/metadata/readOptions';
import { ALL_MODULES } from '../../lib/metadata/types';
import { syncAsset, type SyncContext } from '../../lib/sync/syncAsset';
import { benchAsset } from '../benchAsset';
import type { Figure } from '../figures';
import { allWithConcurrency, floorFull, floorPool, floorReadOnly, floorWriteOnly, type FloorOperations } from '../floorBaseline';
import { copiesOf, removeDir, sampleFile } from '../paths';
import type { BenchScale } from '../scale';
import { seedWriteFiles } from '../seedBaseline';
import { median } from '../stats';
import type { SectionOutcome } from './index';

export const WRITE_SAMPLE = 'metadata/faces/portrait.jpg';
const PROCESSES = 2; // both cores: one ExifTool process each
const LANES = 4; // assets in flight, so a process never waits for our file-system work between its tasks

interface PassResult {
  filesPerSecond: number;
  counts: Record<AssetWriteResult['status'], number>;
  verified: number;
  firstProblem: string | null;
}

function originalPathOf(file: string): string {
  return `/usr/src/app/upload/library/admin/${path.basename(file)}`;
}

/** Our pipeline, one syncAsset per file, every module on, real compare → write → verify. */
async function oursPass(exiftool: ExifTool, dir: string, files: string[]): Promise<PassResult> {
  const ctx: SyncContext = {
    exiftool,
    buildOptions: { modules: [...ALL_MODULES] },
    libraryPath: dir,
    mapping: { mode: 'lastSegments', segments: 1 },
    target: 'original',
    dryRun: false,
  };
  const counts: PassResult['counts'] = { written: 0, unchanged: 0, skipped: 0, failed: 0 };
  let verified = 0;
  let firstProblem: string | null = null;
  const start = process.hrtime.bigint();
  await allWithConcurrency(files, LANES, async (file, index) => {
    const result = await syncAsset(benchAsset(index, originalPathOf(file)), ctx);
    counts[result.status]++;
    if (result.verified) verified++;
    if ((result.status === 'failed' || result.status === 'skipped') && !firstProblem) firstProblem = result.reason ?? result.status;
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { filesPerSecond: files.length / seconds, counts, verified, firstProblem };
}

/**
 * Our write step alone: the values our diff decided, written through our pool the way our writer does
 * it (to a temporary copy, then renamed over the original), without the compare and verify reads.
 */
async function oursWriteStepPass(exiftool: ExifTool, files: string[], writeTags: WriteTags): Promise<number> {
  const start = process.hrtime.bigint();
  await allWithConcurrency(files, LANES, async (file) => {
    const temp = tempPathFor(file);
    await exiftool.write(file, writeTags, { writeArgs: ['-o', temp] });
    await fs.promises.rename(temp, file);
  });
  return files.length / (Number(process.hrtime.bigint() - start) / 1e9);
}

/** The ExifTool work our writer does for one copy of the sample, prepared once, outside any timing. */
async function prepareFloorOperations(exiftool: ExifTool, sample: string, scratch: string): Promise<FloorOperations> {
  const plan = buildMetadataPlan(benchAsset(0, originalPathOf(sample)), { modules: [...ALL_MODULES] });
  const tags = tagsToRead(plan, 'embedded');
  const request = readRequest(tags);
  const copy = path.join(scratch, 'prepare.jpg');
  fs.copyFileSync(sample, copy);
  const current = await exiftool.readRaw(copy, request);
  const { writeTags, changes } = diffAgainstFile(plan, current as Record<string, unknown>, 'embedded');
  if (changes.length === 0) throw new Error('bench: the bench asset changes nothing in the sample; the write benchmark would measure nothing');
  return { readArgs: [...request.readArgs], writeTags: writeTags as WriteTags };
}

export async function writeSection(scale: BenchScale, log: (line: string) => void): Promise<SectionOutcome> {
  const sample = sampleFile(WRITE_SAMPLE);
  const ours = createExifTool({ maxProcs: PROCESSES });
  const bare = floorPool(PROCESSES);
  const scratch = copiesOf(sample, 0, 'prepare');
  const rows: Record<string, number[]> = {
    ours: [], oursWriteStep: [], seed: [], floor: [], floorWrite: [], noChange: [], floorRead: [],
    oursVsSeed: [], oursVsFloor: [], writeStepVsSeed: [], writeStepVsFloorWrite: [], noChangeVsFloorRead: [],
    written: [], verified: [], noChangeWritten: [],
  };
  const problems: string[] = [];
  try {
    const ops = await prepareFloorOperations(ours, sample, scratch.dir);
    // start both pools before timing anything (process start-up is not per-file work)
    await Promise.all([ours.version(), bare.version()]);
    for (let round = 0; round < scale.rounds; round++) {
      const seedCopies = copiesOf(sample, scale.seedFiles, 'seed');
      const oursCopies = copiesOf(sample, scale.writeFiles, 'ours');
      const stepCopies = copiesOf(sample, scale.baselineFiles, 'step');
      const floorCopies = copiesOf(sample, scale.baselineFiles, 'floor');
      const floorWriteCopies = copiesOf(sample, scale.baselineFiles, 'floorw');
      try {
        // rotate the order each round so a noisy neighbour does not always hit the same contender
        const steps: Array<() => Promise<void>> = [
          async () => {
            rows.seed.push(await seedWriteFiles(seedCopies.files, (file, i) => benchAsset(i, originalPathOf(file))));
          },
          async () => {
            const first = await oursPass(ours, oursCopies.dir, oursCopies.files);
            rows.ours.push(first.filesPerSecond);
            rows.written.push(first.counts.written);
            rows.verified.push(first.verified);
            if (first.firstProblem) problems.push(first.firstProblem);
            const second = await oursPass(ours, oursCopies.dir, oursCopies.files);
            rows.noChange.push(second.filesPerSecond);
            rows.noChangeWritten.push(second.counts.written);
            if (second.firstProblem) problems.push(second.firstProblem);
          },
          async () => {
            rows.oursWriteStep.push(await oursWriteStepPass(ours, stepCopies.files, ops.writeTags));
          },
          async () => {
            rows.floor.push(await floorFull(bare, floorCopies.files, ops, LANES));
            rows.floorRead.push(await floorReadOnly(bare, floorCopies.files, ops, LANES));
            rows.floorWrite.push(await floorWriteOnly(bare, floorWriteCopies.files, ops, LANES));
          },
        ];
        for (let i = 0; i < steps.length; i++) await steps[(i + round) % steps.length]();
      } finally {
        for (const copies of [seedCopies, oursCopies, stepCopies, floorCopies, floorWriteCopies]) removeDir(copies.dir);
      }
      const r = round;
      rows.oursVsSeed.push(rows.ours[r] / rows.seed[r]);
      rows.oursVsFloor.push(rows.ours[r] / rows.floor[r]);
      rows.writeStepVsSeed.push(rows.oursWriteStep[r] / rows.seed[r]);
      rows.writeStepVsFloorWrite.push(rows.oursWriteStep[r] / rows.floorWrite[r]);
      rows.noChangeVsFloorRead.push(rows.noChange[r] / rows.floorRead[r]);
      log(
        `  round ${r + 1}/${scale.rounds}: ours ${rows.ours[r].toFixed(1)} files/s (seed ${rows.seed[r].toFixed(2)}, floor ${rows.floor[r].toFixed(1)}), ` +
          `write step ${rows.oursWriteStep[r].toFixed(1)} (floor ${rows.floorWrite[r].toFixed(1)}), no-change ${rows.noChange[r].toFixed(1)} (floor read ${rows.floorRead[r].toFixed(1)})`,
      );
    }
  } finally {
    await Promise.all([ours.end(), bare.end()]);
    removeDir(scratch.dir);
  }
  return { figures: writeFigures(scale, rows, problems), notDone: [] };
}

function writeFigures(scale: BenchScale, rows: Record<string, number[]>, problems: string[]): Figure[] {
  const section = '1 write';
  const n = scale.writeFiles;
  const seedNote = `seed timed on ${scale.seedFiles} files per round (one exiftool process per file, sequential)`;
  const floorNote = `floor and write-step rates timed on ${scale.baselineFiles} files per round`;
  const ratioOk = (ratio: number, min: number) => ratio >= min;
  const oursVsSeed = median(rows.oursVsSeed);
  const oursVsFloor = median(rows.oursVsFloor);
  const stepVsSeed = median(rows.writeStepVsSeed);
  const allWritten = rows.written.every((w) => w === n) && rows.verified.every((v) => v === n);
  const figures: Figure[] = [
    {
      id: 'write.oursVsSeed', section, name: `ours: compare+write+verify, ${n} files, all modules`, value: median(rows.ours), unit: 'files/s',
      baselineName: 'seed (a)', baselineValue: median(rows.seed), ratio: oursVsSeed, ratioLabel: 'x seed',
      target: '>= 12x seed', pass: ratioOk(oursVsSeed, 12), rounds: rows.oursVsSeed, note: seedNote,
    },
    {
      id: 'write.oursVsFloor', section, name: 'ours vs floor (b): same ExifTool calls, no logic', value: median(rows.ours), unit: 'files/s',
      baselineName: 'floor (b)', baselineValue: median(rows.floor), ratio: oursVsFloor, ratioLabel: 'of floor',
      target: '>= 0.85 of floor', pass: ratioOk(oursVsFloor, 0.85), rounds: rows.oursVsFloor,
      note: `floor = bare exiftool-vendored: readRaw compared tags, write, readRaw compared tags + ImageDataHash; ${floorNote}`,
    },
    {
      id: 'write.verified', section, name: 'files written and verified (of each round)', value: Math.min(...rows.verified), unit: `of ${n}`,
      target: `${n} written, ${n} verified`, pass: allWritten, rounds: rows.verified,
      note: problems.length ? `first problem: ${problems[0]}` : undefined,
    },
    {
      id: 'write.stepVsSeed', section, name: 'ours: write step alone (our pool, temp copy + rename)', value: median(rows.oursWriteStep), unit: 'files/s',
      baselineName: 'seed (a)', baselineValue: median(rows.seed), ratio: stepVsSeed, ratioLabel: 'x seed',
      target: '>= 30x seed', pass: ratioOk(stepVsSeed, 30), rounds: rows.writeStepVsSeed, note: `${seedNote}; ${floorNote}`,
    },
    {
      id: 'write.stepVsBare', section, name: 'write step vs bare vendored writes', value: median(rows.oursWriteStep), unit: 'files/s',
      baselineName: 'bare writes', baselineValue: median(rows.floorWrite), ratio: median(rows.writeStepVsFloorWrite), ratioLabel: 'of bare',
      rounds: rows.writeStepVsFloorWrite,
    },
    {
      id: 'noChange.rate', section: '2 no-change', name: `second pass over the unchanged ${n} files`, value: median(rows.noChange), unit: 'files/s',
      baselineName: 'bare read of compared tags', baselineValue: median(rows.floorRead), ratio: median(rows.noChangeVsFloorRead), ratioLabel: 'of bare read',
      target: '>= 80 files/s', pass: median(rows.noChange) >= 80, rounds: rows.noChange,
      note: 'second syncAsset pass over the files the first pass wrote; baseline: bare readRaw of the same tags',
    },
    {
      id: 'noChange.written', section: '2 no-change', name: 'files written by the second pass', value: Math.max(...rows.noChangeWritten), unit: 'files',
      target: '0', pass: rows.noChangeWritten.every((w) => w === 0), rounds: rows.noChangeWritten,
    },
  ];
  return figures;
}
