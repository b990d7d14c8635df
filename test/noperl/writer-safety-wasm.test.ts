/**
 * The fault suite (test/reliability/writer-safety.test.ts, run whole in its own jest) with the writer
 * on the built-in ExifTool: damaged, read-only, immutable, empty, disguised and special files, edits
 * during the write, verification and dry runs. The built-in ExifTool starts no process, so the writer
 * cannot reach Perl; the suite's independent checks stay on Perl ExifTool (which is why Perl is not
 * hidden here; the crash and template suites hide it).
 */
import * as path from 'path';

import { run } from '../helpers/withoutPerl';
import { ROOT } from '../reliability/support';

// a few built-in Perl calls of about 1 s per case: 290 s at load 17 on 2 cores, 10 min at load 25
jest.setTimeout(20 * 60_000);

test('the writer-safety suite passes with the writer on the built-in ExifTool', async () => {
  const env: NodeJS.ProcessEnv = { ...process.env, RELIABILITY_EXIFTOOL_ENGINE: 'wasm' };
  delete env.JEST_WORKER_ID;
  const suite = path.join(ROOT, 'test', 'reliability', 'writer-safety.test.ts');
  const jestBin = path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
  const result = await run(process.execPath, [jestBin, '-c', path.join(ROOT, 'jest.config.js'), '--ci', '--runInBand', suite], env);
  const output = `${result.stdout}\n${result.stderr}`;
  expect({ code: result.code, output: result.code === 0 ? '' : output }).toEqual({ code: 0, output: '' });
  const summary = /^tests: (\d+) passed, (\d+) failed(.*)$/m.exec(result.stdout);
  expect(summary).not.toBeNull();
  expect({ passed: Number(summary![1]) >= 20, failed: Number(summary![2]), rest: summary![3] }).toEqual({ passed: true, failed: 0, rest: '' });
});
