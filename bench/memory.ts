import * as fs from 'fs';

/** Resident memory of processes read from /proc (Linux), for child processes we cannot ask directly. */

function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0; // the process ended between listing and reading
  }
}

function parentOf(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name may hold spaces and parentheses, so parse after its closing ")"
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(rest[1]);
  } catch {
    return null;
  }
}

export function descendantsOf(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const parent = parentOf(pid);
    if (parent === null) continue;
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent)!.push(pid);
  }
  const found: number[] = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    found.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return found;
}

export function rssOf(pid: number): number {
  return statusField(pid, 'VmRSS');
}

/** Peak resident set of one process over its life so far (kernel high-water mark). */
export function peakRssOf(pid: number): number {
  return statusField(pid, 'VmHWM');
}

/**
 * Samples the summed RSS of a process and its descendants (e.g. the ExifTool pool under this node process)
 * and keeps the highest sum seen. The kernel's per-process high-water marks cannot be summed: they peak at
 * different moments.
 */
export class TreeRssSampler {
  private peak = 0;
  private peakSingle = 0;
  private peakRoot = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly rootPid: number,
    private readonly includeRoot: boolean,
    private readonly everyMs = 200,
  ) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.everyMs);
    this.timer.unref();
    return this;
  }

  sample(): number {
    const pids = descendantsOf(this.rootPid);
    if (this.includeRoot) pids.push(this.rootPid);
    const sizes = pids.map(rssOf);
    if (this.includeRoot) this.peakRoot = Math.max(this.peakRoot, sizes[sizes.length - 1]);
    const total = sizes.reduce((sum, size) => sum + size, 0);
    if (total > this.peak) this.peak = total;
    this.peakSingle = Math.max(this.peakSingle, ...sizes, 0);
    return total;
  }

  /** The highest RSS any one process of the tree reached (e.g. the n8n main process). */
  largestProcessPeak(): number {
    return this.peakSingle;
  }

  /** The highest RSS of the root process itself (with includeRoot), e.g. an n8n worker without its task runner. */
  rootPeak(): number {
    return this.peakRoot;
  }

  stop(): number {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sample();
    return this.peak;
  }
}

export function mib(bytes: number): number {
  return Math.round((bytes / 1024 / 1024) * 10) / 10;
}
