/**
 * `npm run bench` on tiny sizes: every figure of the write, no-change, API, scaling and reconcile sections is
 * produced with real numbers and ratios, and bench/results.json-style output is written. (The n8n
 * end-to-end section needs a packed install of the package in real n8n, minutes of work: it runs in
 * `npm run bench` only.) Needs `npm run build` first: the scaling worker runs from dist/.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import type { BenchResults, Figure } from '../../bench/figures';
import { runBench } from '../../bench/run';
import { QUICK } from '../../bench/scale';

const EXPECTED = [
  'write.oursVsSeed',
  'write.oursVsFloor',
  'write.verified',
  'write.stepVsSeed',
  'write.stepVsBare',
  'noChange.rate',
  'noChange.written',
  'api.noDetail',
  'api.faces',
  'api.membershipGrowth',
  'api.membership',
  'scaling.perAsset.1',
  'scaling.perAsset.2',
  'scaling.perAsset.3',
  'scaling.timeSlope',
  'scaling.liveHeapSlope',
  'scaling.peakRss',
  'reconcile.realFiles',
  'reconcile.indexed.50',
  'reconcile.indexed.200',
];

const finite = (value: unknown): boolean => typeof value === 'number' && Number.isFinite(value);

describe('bench harness (quick sizes)', () => {
  let results: BenchResults;
  let out: string;
  const byId = (id: string): Figure => {
    const figure = results.figures.find((f) => f.id === id);
    if (!figure) throw new Error(`figure ${id} is missing`);
    return figure;
  };

  beforeAll(async () => {
    out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-smoke-')), 'results.json');
    results = await runBench({ scale: QUICK, only: ['write', 'api', 'scaling', 'reconcile'], out, log: () => undefined });
  }, 600_000);

  afterAll(() => fs.rmSync(path.dirname(out), { recursive: true, force: true }));

  it('measures every section without leaving anything out', () => {
    expect(results.notDone).toEqual([]);
    expect(results.figures.map((f) => f.id).sort()).toEqual([...EXPECTED].sort());
  });

  it('gives every figure a number, and every baseline a number and a ratio', () => {
    for (const figure of results.figures) {
      expect({ id: figure.id, finite: finite(figure.value) }).toEqual({ id: figure.id, finite: true });
      if (figure.baselineName) {
        expect({ id: figure.id, baseline: finite(figure.baselineValue) }).toEqual({ id: figure.id, baseline: true });
      }
      if (figure.ratio !== undefined) {
        expect({ id: figure.id, ratio: finite(figure.ratio) && (figure.ratio as number) > 0 }).toEqual({ id: figure.id, ratio: true });
      }
    }
  });

  it('writes and verifies every copy, and the second pass writes none', () => {
    expect(byId('write.verified').value).toBe(QUICK.writeFiles);
    expect(byId('write.verified').pass).toBe(true);
    expect(byId('noChange.written').value).toBe(0);
    // Through the sync index, real files written and checked first: all unchanged, ExifTool never asked.
    expect(byId('reconcile.realFiles').pass).toBe(true);
    expect(byId('reconcile.indexed.200').note).toMatch(/ExifTool calls 0;/);
  });

  it('counts the seed baseline at one detail request per asset plus search pages', () => {
    const seed = byId('api.noDetail').baselineValue as number;
    const large = QUICK.apiSizes[1];
    expect(seed).toBeGreaterThanOrEqual(1);
    expect(seed).toBeLessThanOrEqual((large + Math.ceil(large / 250) + 1) / large);
  });

  it('writes the same figures to the results file', () => {
    const stored = JSON.parse(fs.readFileSync(out, 'utf8')) as BenchResults;
    expect(stored.figures.map((f) => f.id)).toEqual(results.figures.map((f) => f.id));
    expect(stored.scale).toBe('quick');
  });
});
