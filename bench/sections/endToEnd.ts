import type { BenchScale } from '../scale';
import type { SectionOutcome } from './index';

/** End to end in real n8n: waits for the template engineer's harness in test/e2e/. */
export async function endToEndSection(_scale: BenchScale, _log: (line: string) => void): Promise<SectionOutcome> {
  return { figures: [], notDone: ['4 n8n end to end: the template harness (test/e2e/) has not landed yet'] };
}
