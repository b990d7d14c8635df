/**
 * Starts the simulator with the sample library (for the demo and e2e runs):
 *   node dist/test/simulator/main.js [--port 0] [--photo-dir DIR] [--mode v3|v2] [--mount api|root|both] [--api-key KEY]
 *     [--api 3.1|3.2]   (or env IMMICH_SIM_API; v3.2 is derived, see spec-v3.2.ts)
 *     [--page-cap N] [--search-behaviour JSON]   (or env IMMICH_SIM_PAGE_CAP / IMMICH_SIM_SEARCH; see search-behaviour.ts)
 * Prints one JSON line {url, apiUrl, apiKey, photoDir, port} and serves until SIGINT/SIGTERM.
 * Control endpoints (not part of Immich): GET /api/__simulator/state, POST /api/__simulator/mutate {op, args},
 * POST /api/__simulator/fault {route, kind, ...}, POST /api/__simulator/search-behaviour {pageCap, ...}.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createSampleLibrary } from './sample-library';
import { parseSearchBehaviour, searchBehaviourFromEnv } from './search-behaviour';
import { apiVersionFromEnv, startSimulator } from './server';

function arg(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

async function main(): Promise<void> {
  const photoDir = path.resolve(arg('photo-dir') ?? fs.mkdtempSync(path.join(os.tmpdir(), 'immich-sim-photos-')));
  const sample = createSampleLibrary({ photoDir });
  const search = { ...searchBehaviourFromEnv(), ...parseSearchBehaviour(JSON.parse(arg('search-behaviour') ?? '{}')) };
  if (arg('page-cap') !== undefined) Object.assign(search, parseSearchBehaviour({ pageCap: Number(arg('page-cap')) }));
  const sim = await startSimulator({
    library: sample.library,
    port: Number(arg('port') ?? 0),
    mode: (arg('mode') as 'v2' | 'v3' | undefined) ?? 'v3',
    mount: (arg('mount') as 'api' | 'root' | 'both' | undefined) ?? 'api',
    apiKey: arg('api-key'),
    api: apiVersionFromEnv({ IMMICH_SIM_API: arg('api') ?? process.env.IMMICH_SIM_API }),
    search,
  });
  process.stdout.write(`${JSON.stringify({ url: sim.url, apiUrl: sim.apiUrl, apiKey: sim.apiKey, photoDir, port: sim.port, api: sim.api, assets: sample.entries.length })}\n`);
  const stop = async () => {
    await sim.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  process.stderr.write(`simulator failed to start: ${(error as Error).message}\n`);
  process.exit(1);
});
