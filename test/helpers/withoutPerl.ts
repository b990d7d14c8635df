/**
 * Runs a command with Perl really gone: in a private mount namespace (root + util-linux `unshare`),
 * an empty, non-executable file is bind-mounted over every `perl` on PATH, as on the stock n8n image.
 */
import { spawn } from 'child_process';

const HIDE_PERL = [
  'set -e',
  'blank=$(mktemp)',
  'chmod 644 "$blank"',
  // every perl on PATH and the script's own #!/usr/bin/perl, each real file once
  'perls=$( (echo /usr/bin/perl; IFS=:; for d in $PATH; do echo "$d/perl"; done) | while read -r p; do [ -e "$p" ] && readlink -f "$p"; done | sort -u)',
  'for p in $perls; do mount --bind "$blank" "$p"; done',
  'if perl -e 1 2>/dev/null; then echo "perl still runs inside the namespace" >&2; exit 97; fi',
  'exec "$@"',
].join('\n');

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The command line that runs `command` with Perl hidden. unshare and sh exec into it, so the spawned
 * process is the command itself (a signal sent to it reaches it) and the namespace ends with it.
 */
export function withoutPerlCommand(command: string, args: readonly string[]): { command: string; args: string[] } {
  if (process.getuid?.() !== 0) throw new Error('hiding Perl needs root (unshare --mount and bind mounts); run this test as root, e.g. in the CI container');
  return { command: 'unshare', args: ['--mount', '--propagation', 'private', 'sh', '-c', HIDE_PERL, 'sh', command, ...args] };
}

export function runWithoutPerl(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Finished> {
  const hidden = withoutPerlCommand(command, args);
  return run(hidden.command, hidden.args, env);
}

export function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
