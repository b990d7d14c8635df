import { spawn } from 'child_process';
import * as path from 'path';

import { repoRoot } from './paths';

/**
 * On a machine that has never run the e2e test or the demo, n8n is not installed yet (about 6 minutes).
 * The bench then installs it in a child process while the sections that count requests and CPU time run,
 * so that a fresh machine stays within the bench's time budget; the timed write section waits for it.
 */
export interface BackgroundInstall {
  /** Resolves when n8n is ready; never rejects (a failed install is reported, and the e2e section names it). */
  ready: Promise<string | null>;
}

export function installN8nInBackground(log: (line: string) => void): BackgroundInstall {
  const started = Date.now();
  log('bench: n8n is not installed yet: installing it in the background (about 6 minutes, once per machine)');
  const child = spawn(process.execPath, [path.join(repoRoot(), 'scripts', 'ensure-n8n.js')], {
    cwd: repoRoot(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let lastLines: string[] = [];
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    lastLines = [...lastLines, ...chunk.split('\n').filter(Boolean)].slice(-5);
  });
  const ready = new Promise<string | null>((resolve) => {
    child.on('error', (error) => resolve(`n8n install could not start: ${error.message}`));
    child.on('close', (code) => {
      const seconds = Math.round((Date.now() - started) / 1000);
      if (code === 0) {
        log(`bench: n8n installed in the background in ${seconds} s`);
        resolve(null);
      } else {
        resolve(`n8n install failed (exit ${code}) after ${seconds} s: ${lastLines.join(' | ')}`);
      }
    });
  });
  return { ready };
}
