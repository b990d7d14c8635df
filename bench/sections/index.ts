import type { Figure } from '../figures';
import type { BenchScale } from '../scale';
import { apiCostSection } from './apiCost';
import { batchMemorySection } from './batchMemory';
import { endToEndSection } from './endToEnd';
import { queueMemorySection } from './queueMemory';
import { reconcileSection } from './reconcile';
import { scalingSection } from './scaling';
import { wasmEngineSection } from './wasmEngine';
import { writeSection } from './write';

export interface SectionOutcome {
  figures: Figure[];
  notDone: string[];
}

export type Section = (scale: BenchScale, log: (line: string) => void) => Promise<SectionOutcome>;

/** In run order: the write section runs first, on the quietest machine. */
export const SECTIONS = {
  write: writeSection,
  api: apiCostSection,
  scaling: scalingSection,
  e2e: endToEndSection,
  engines: wasmEngineSection,
  reconcile: reconcileSection,
  memory: batchMemorySection,
  queue: queueMemorySection,
} satisfies Record<string, Section>;

export type SectionName = keyof typeof SECTIONS;
