/**
 * What the command line prints and logs: one line per asset that changed, was skipped or failed, a
 * progress line on a terminal only, and the closing counts. Every line passes through the redactor,
 * so the API key cannot reach the screen or the log even if a message carried it.
 */
import { appendFileSync, mkdirSync } from 'fs';
import * as path from 'path';

import type { AssetWriteResult, FieldChange } from '../lib/files/types';
import { printable } from '../lib/files/pathMapping';
import { redactSecret } from '../lib/immich/errors';

export interface Counts {
  written: number;
  unchanged: number;
  skipped: number;
  failed: number;
}

export function summaryLine(counts: Counts): string {
  return `written ${counts.written}, unchanged ${counts.unchanged}, skipped ${counts.skipped}, failed ${counts.failed}`;
}

/** How many assets the run took on and how many it recorded: they must be equal, or the run failed. */
export function coverageLine(counts: { listed: number; byId: number; handled: number }): string {
  return `listed ${counts.listed}, by id ${counts.byId}, handled ${counts.handled}`;
}

/** The line for one asset, or null for an unchanged one (those only count). */
export function resultLine(result: AssetWriteResult, originalPath: string | null): string | null {
  // Paths come from the server and the disk: a newline or escape sequence in one must not forge output lines.
  const where = printable(result.file ?? originalPath ?? `asset ${result.assetId}`);
  switch (result.status) {
    case 'unchanged':
      return null;
    case 'written':
      return `${result.dryRun ? 'would write' : 'written'} ${where}: ${describeChanges(result.changes)}`;
    case 'skipped':
      return `skipped ${where}: ${printable(result.reason ?? 'nothing to do')}`;
    case 'failed':
      return `failed ${where}: ${printable(result.reason ?? 'unknown error')}`;
  }
}

export function describeChanges(changes: FieldChange[]): string {
  if (changes.length === 0) return 'metadata updated';
  return changes.map((c) => `${c.field} ${show(c.before)} → ${show(c.after)}`).join('; ');
}

function show(value: unknown): string {
  if (value === null || value === undefined || value === '') return '(none)';
  if (Array.isArray(value)) return value.length === 0 ? '(none)' : `[${value.map((v) => show(v)).join(', ')}]`;
  if (typeof value === 'object') return JSON.stringify(value);
  const text = printable(String(value));
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

export class Reporter {
  private progressShown = false;

  constructor(
    private readonly secret: string | null,
    private readonly logFile: string | null,
    private readonly stdout: NodeJS.WriteStream = process.stdout,
    private readonly stderr: NodeJS.WriteStream = process.stderr,
  ) {
    if (logFile) mkdirSync(path.dirname(logFile), { recursive: true });
  }

  /** A line for the screen and the log. */
  line(text: string): void {
    const clean = this.redact(text);
    this.clearProgress();
    this.stdout.write(`${clean}\n`);
    this.log(clean);
  }

  /** A problem: stderr and the log. */
  error(text: string): void {
    const clean = this.redact(text);
    this.clearProgress();
    this.stderr.write(`${clean}\n`);
    this.log(clean);
  }

  /** Only into the log (start parameters, pass notes). */
  log(text: string): void {
    if (!this.logFile) return;
    try {
      appendFileSync(this.logFile, `${new Date().toISOString()} ${this.redact(text)}\n`, 'utf8');
    } catch {
      // A log that cannot be written must not stop the sync; the screen still shows everything.
    }
  }

  /** A progress indication, rewritten in place, only when stderr is a terminal. */
  progress(text: string): void {
    if (!this.stderr.isTTY) return;
    this.stderr.write(`\r\x1b[K${this.redact(text)}`);
    this.progressShown = true;
  }

  clearProgress(): void {
    if (!this.progressShown) return;
    this.stderr.write('\r\x1b[K');
    this.progressShown = false;
  }

  private redact(text: string): string {
    return this.secret ? redactSecret(text, this.secret) : text;
  }
}
