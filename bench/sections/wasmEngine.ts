/**
 * The built-in WebAssembly ExifTool beside the Perl pool on the same files: write+verify and
 * no-change passes through the writer, and the peak RSS of the run (node plus its ExifTool processes).
 * Small on purpose (the built-in engine pays about a second per Perl call).
 */
import type { ExifTool } from 'exiftool-vendored';

import { createExifTool, type ExifToolEngine } from '../../lib/files/exiftoolPool';
import { WasmExifTool } from '../../lib/files/wasmExifTool';
import { writeAssetFile } from '../../lib/files/writer';
import { buildMetadataPlan } from '../../lib/metadata/plan';
import { assetFor } from '../../test/integration/writer-fixtures';
import type { Figure } from '../figures';
import { allWithConcurrency } from '../floorBaseline';
import { mib, TreeRssSampler } from '../memory';
import { copiesOf, removeDir, sampleFile } from '../paths';
import type { BenchScale } from '../scale';
import type { SectionOutcome } from './index';
import { WRITE_SAMPLE } from './write';

const FILES = 24;
const LANES = 8; // assets in flight: on the built-in engine their commands share one Perl call

interface EngineRun {
  writeRate: number;
  noChangeRate: number;
  peakRssMib: number;
  written: number;
  wasmPeakMib: number | null;
}

async function pass(exiftool: ExifTool, files: string[]): Promise<{ rate: number; written: number }> {
  let written = 0;
  const start = process.hrtime.bigint();
  await allWithConcurrency(files, LANES, async (file) => {
    const asset = assetFor('portrait.jpg');
    const result = await writeAssetFile(exiftool, file, buildMetadataPlan(asset), { assetId: asset.id, target: 'embedded', dryRun: false, keepModifyTime: false, backup: false });
    if (result.status === 'written' && result.verified) written++;
  });
  return { rate: files.length / (Number(process.hrtime.bigint() - start) / 1e9), written };
}

async function measure(engine: Exclude<ExifToolEngine, 'auto'>): Promise<EngineRun> {
  const { dir, files } = copiesOf(sampleFile(WRITE_SAMPLE), FILES, `engine-${engine}`);
  const exiftool = createExifTool({ engine, maxProcs: 2 });
  const sampler = new TreeRssSampler(process.pid, true).start();
  try {
    const first = await pass(exiftool, files);
    const second = await pass(exiftool, files);
    const wasmPeak = exiftool instanceof WasmExifTool ? mib(exiftool.stats.peakMemoryBytes) : null;
    return { writeRate: first.rate, noChangeRate: second.rate, peakRssMib: mib(sampler.stop()), written: first.written, wasmPeakMib: wasmPeak };
  } finally {
    sampler.stop();
    await exiftool.end();
    removeDir(dir);
  }
}

export async function wasmEngineSection(_scale: BenchScale, log: (line: string) => void): Promise<SectionOutcome> {
  const perl = await measure('perl');
  log(`bench: engines: Perl ${perl.writeRate.toFixed(1)} written/s, ${perl.noChangeRate.toFixed(1)} unchanged/s`);
  const wasm = await measure('wasm');
  log(`bench: engines: built-in ${wasm.writeRate.toFixed(2)} written/s, ${wasm.noChangeRate.toFixed(2)} unchanged/s`);
  const section = '6 engines';
  const figures: Figure[] = [
    {
      id: 'engine.wasmWrite', section, name: `built-in ExifTool: compare+write+verify, ${FILES} files`, value: wasm.writeRate, unit: 'files/s',
      baselineName: 'Perl pool', baselineValue: perl.writeRate, ratio: wasm.writeRate / perl.writeRate, ratioLabel: 'x Perl',
    },
    {
      id: 'engine.wasmNoChange', section, name: `built-in ExifTool: no-change pass, ${FILES} files`, value: wasm.noChangeRate, unit: 'files/s',
      baselineName: 'Perl pool', baselineValue: perl.noChangeRate, ratio: wasm.noChangeRate / perl.noChangeRate, ratioLabel: 'x Perl',
    },
    {
      id: 'engine.wasmPeakRss', section, name: 'built-in ExifTool: peak RSS of the run (node + ExifTool)', value: wasm.peakRssMib, unit: 'MiB',
      baselineName: 'Perl pool', baselineValue: perl.peakRssMib, ratio: wasm.peakRssMib / perl.peakRssMib, ratioLabel: 'x Perl',
      note: `largest WebAssembly memory of one Perl instance: ${wasm.wasmPeakMib ?? '—'} MiB`,
    },
    { id: 'engine.wasmVerified', section, name: 'built-in ExifTool: files written and verified', value: wasm.written, unit: `of ${FILES}` },
  ];
  return { figures, notDone: [] };
}
