import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { ArrayAssetStore, SimLibrary } from '../test/simulator/library';
import { startSimulator, type Simulator } from '../test/simulator/server';
import { searchBehaviourFromEnv } from '../test/simulator/search-behaviour';
import { createSyntheticLibrary, type SyntheticLibrary } from '../test/simulator/synthetic-library';

export interface SimulatedLibrary {
  simulator: Simulator;
  synthetic: SyntheticLibrary;
  photoDir: string;
  close(): Promise<void>;
}

/**
 * A synthetic Immich library of n assets behind the spec-validating simulator. No files are copied:
 * the photo folder is empty unless the caller materializes some assets.
 */
export async function simulatedLibrary(n: number, options: { albumCount?: number; prebuilt?: boolean } = {}): Promise<SimulatedLibrary> {
  const photoDir = fs.mkdtempSync(path.join(os.tmpdir(), 'immich-bench-library-'));
  const synthetic = createSyntheticLibrary(n, { photoDir, copyFiles: false, albumCount: options.albumCount });
  const library = options.prebuilt ? prebuiltCopy(synthetic.library) : synthetic.library;
  // IMMICH_SIM_PAGE_CAP / IMMICH_SIM_SEARCH: measure against a server that pages differently
  const simulator = await startSimulator({ library, logLimit: 10, search: searchBehaviourFromEnv() });
  return {
    simulator,
    synthetic,
    photoDir,
    close: async () => {
      await simulator.close();
      fs.rmSync(photoDir, { recursive: true, force: true });
    },
  };
}

/**
 * The same library with every asset built once and held in memory. The synthetic store builds assets on
 * demand, and the simulator scans the whole library for each new search (our keyset listing starts one per
 * page), so at 100,000 assets the simulator's own work would dominate the time measured for our loop.
 */
function prebuiltCopy(source: SimLibrary): SimLibrary {
  const assets = Array.from({ length: source.assets.size }, (_, i) => source.assets.at(i));
  return new SimLibrary(new ArrayAssetStore(assets), source.owner, {
    people: [...source.people.values()],
    albums: [...source.albums.values()],
    tags: [...source.tags.values()],
  });
}

/** Every spec violation the simulator saw, as one readable line (empty when all was valid). */
export function violationsOf(simulator: Simulator): string {
  return simulator
    .violations()
    .slice(0, 3)
    .map((v) => `${v.route} ${v.direction}: ${v.problems.join('; ')}`)
    .join(' | ');
}
