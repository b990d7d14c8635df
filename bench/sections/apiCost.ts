import { DEFAULT_MODULES, type ModuleName } from '../../lib/metadata/types';
import type { Figure } from '../figures';
import { runPipeline } from '../pipeline';
import type { BenchScale } from '../scale';
import { seedListLibrary } from '../seedApi';
import { simulatedLibrary, violationsOf } from '../simulated';
import type { SectionOutcome } from './index';

interface Config {
  key: 'noDetail' | 'faces' | 'membership';
  modules: ModuleName[];
}

const CONFIGS: Config[] = [
  { key: 'noDetail', modules: [...DEFAULT_MODULES] }, // people, gps, caption, time, rating: all in the search page
  { key: 'faces', modules: [...DEFAULT_MODULES, 'faces'] },
  { key: 'membership', modules: [...DEFAULT_MODULES, 'albums', 'tags'] },
];

type Counts = Record<Config['key'] | 'seed', number>;

/**
 * Requests per asset, counted by the simulator, for our run loop (dry run: the request pattern does not
 * depend on the files, so none are copied) and for the seed's listing, on the same library.
 */
export async function apiCostSection(scale: BenchScale, log: (line: string) => void): Promise<SectionOutcome> {
  const bySize = new Map<number, Counts>();
  const problems: string[] = [];
  for (const n of scale.apiSizes) {
    const lib = await simulatedLibrary(n);
    const counts = {} as Counts;
    try {
      for (const config of CONFIGS) {
        lib.simulator.resetRequests();
        const outcome = await runPipeline({ apiUrl: lib.simulator.url, apiKey: lib.simulator.apiKey, libraryPath: lib.photoDir, modules: config.modules, dryRun: true });
        const handled = outcome.summary.written + outcome.summary.unchanged + outcome.summary.skipped + outcome.summary.failed;
        if (handled !== n) problems.push(`${config.key} at ${n}: handled ${handled} of ${n} assets`);
        counts[config.key] = lib.simulator.requestCount();
        log(`  ${n} assets, ${config.key}: ${counts[config.key]} requests in ${outcome.seconds.toFixed(1)} s`);
      }
      lib.simulator.resetRequests();
      const seen = await seedListLibrary(lib.simulator.apiUrl, lib.simulator.apiKey);
      if (seen !== n) problems.push(`seed at ${n}: saw ${seen} of ${n} assets`);
      counts.seed = lib.simulator.requestCount();
      log(`  ${n} assets, seed: ${counts.seed} requests`);
      const violations = violationsOf(lib.simulator);
      if (violations) problems.push(`spec violations at ${n}: ${violations}`);
    } finally {
      await lib.close();
    }
    bySize.set(n, counts);
  }
  const [small, large] = scale.apiSizes;
  const s = bySize.get(small)!;
  const l = bySize.get(large)!;
  const perAsset = (count: number) => count / large;
  const section = '3 API';
  const note = problems.length ? problems.join('; ') : undefined;
  const membershipSmall = s.membership - s.noDetail;
  const membershipLarge = l.membership - l.noDetail;
  const figures: Figure[] = [
    {
      id: 'api.noDetail', section, name: `requests/asset, no per-asset detail (${DEFAULT_MODULES.join(',')}), ${large} assets`,
      value: perAsset(l.noDetail), unit: 'req/asset', baselineName: 'seed', baselineValue: perAsset(l.seed),
      ratio: l.noDetail / l.seed, ratioLabel: 'of seed', target: '<= 0.01 req/asset', pass: perAsset(l.noDetail) <= 0.01 && !note, note,
    },
    {
      id: 'api.faces', section, name: `requests/asset with face regions, ${large} assets`,
      value: perAsset(l.faces), unit: 'req/asset', baselineName: 'seed', baselineValue: perAsset(l.seed),
      ratio: l.faces / l.seed, ratioLabel: 'of seed', target: '<= 1.05 req/asset', pass: perAsset(l.faces) <= 1.05,
    },
    {
      id: 'api.membershipGrowth', section, name: `album+tag membership requests, ${large} vs ${small} assets`,
      value: membershipLarge, unit: 'requests', baselineName: `at ${small} assets`, baselineValue: membershipSmall,
      ratio: membershipLarge / Math.max(1, membershipSmall), ratioLabel: `x for ${large / small}x assets`,
      target: 'O(albums+tags+pages): < 3x for 10x assets', pass: membershipLarge / Math.max(1, membershipSmall) < 3,
      note: 'membership requests = requests with albums+tags on minus requests without them (same library, fresh cache)',
    },
    {
      id: 'api.membership', section, name: `requests/asset with albums+tags, ${large} assets`,
      value: perAsset(l.membership), unit: 'req/asset', baselineName: 'seed', baselineValue: perAsset(l.seed),
      ratio: l.membership / l.seed, ratioLabel: 'of seed', target: '<= 0.01 req/asset', pass: perAsset(l.membership) <= 0.01,
    },
  ];
  return { figures, notDone: [] };
}
