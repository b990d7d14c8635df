import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { startSimulator, type Simulator } from '../test/simulator/server';
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
export async function simulatedLibrary(n: number, options: { albumCount?: number } = {}): Promise<SimulatedLibrary> {
  const photoDir = fs.mkdtempSync(path.join(os.tmpdir(), 'immich-bench-library-'));
  const synthetic = createSyntheticLibrary(n, { photoDir, copyFiles: false, albumCount: options.albumCount });
  const simulator = await startSimulator({ library: synthetic.library, logLimit: 10 });
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

/** Every spec violation the simulator saw, as one readable line (empty when all was valid). */
export function violationsOf(simulator: Simulator): string {
  return simulator
    .violations()
    .slice(0, 3)
    .map((v) => `${v.route} ${v.direction}: ${v.problems.join('; ')}`)
    .join(' | ');
}
