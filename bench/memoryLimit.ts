/**
 * A small host on this big machine: a memory cgroup with a hard limit, as `docker run --memory=1g` makes one.
 * A process started inside it sees the limit from its first instruction (Node sizes V8's heap from it, as on
 * a 1 GB NAS), its children (task runner, ExifTool) are charged to it too, and going over the limit ends in the
 * kernel's OOM killer, not in swap. Linux only, as root; cgroup v1 (memory controller) or v2.
 */
import * as fs from 'fs';
import * as path from 'path';

const V1_ROOT = '/sys/fs/cgroup/memory';
const V2_ROOT = '/sys/fs/cgroup';

export interface MemoryLimit {
  limitBytes: number;
  /** The command line that starts `command args` inside the cgroup (a shell moves itself in, then execs). */
  wrap(command: string, args: string[]): { command: string; args: string[] };
  /** The highest memory the cgroup was charged since creation or the last resetPeak (v1; v2 from kernel 5.19). */
  peakBytes(): number | null;
  resetPeak(): void;
  /** Anonymous memory charged now (heaps, stacks: what the kernel cannot reclaim as it can page cache). */
  anonBytes(): number;
  /** How often a charge hit the limit and the kernel had to reclaim (page cache first) to make room. */
  limitHits(): number;
  /** How many processes the kernel's OOM killer ended inside the cgroup. */
  oomKills(): number;
  /** Removes the cgroup once the processes in it are gone. */
  remove(): Promise<void>;
}

/** Why no limit can be set here, or null when it can. */
export function memoryLimitUnavailable(): string | null {
  if (process.platform !== 'linux') return 'memory cgroups are Linux only';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'creating a memory cgroup needs root';
  if (fs.existsSync(path.join(V1_ROOT, 'memory.limit_in_bytes'))) return null;
  const controllers = readOr(path.join(V2_ROOT, 'cgroup.controllers'), '');
  if (controllers.split(/\s+/).includes('memory')) return null;
  return 'no memory cgroup controller (neither /sys/fs/cgroup/memory nor a cgroup v2 memory controller)';
}

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

/** Samples the cgroup's anonymous memory every everyMs and keeps the highest value (the kernel keeps no peak of it). */
export class AnonPeakSampler {
  private peak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly limit: MemoryLimit,
    everyMs = 100,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  private sample(): void {
    this.peak = Math.max(this.peak, this.limit.anonBytes());
  }

  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}

export function createMemoryLimit(name: string, limitBytes: number): MemoryLimit {
  const problem = memoryLimitUnavailable();
  if (problem) throw new Error(`cannot limit memory: ${problem}`);
  const v1 = fs.existsSync(path.join(V1_ROOT, 'memory.limit_in_bytes'));
  const dir = path.join(v1 ? V1_ROOT : V2_ROOT, name);
  fs.mkdirSync(dir, { recursive: true });
  if (v1) {
    fs.writeFileSync(path.join(dir, 'memory.limit_in_bytes'), String(limitBytes));
  } else {
    fs.writeFileSync(path.join(dir, 'memory.max'), String(limitBytes));
    fs.writeFileSync(path.join(dir, 'memory.swap.max'), '0');
  }
  const procs = path.join(dir, 'cgroup.procs');
  return {
    limitBytes,
    wrap: (command, args) => ({ command: '/bin/sh', args: ['-c', `echo $$ > '${procs}' && exec "$0" "$@"`, command, ...args] }),
    peakBytes: () => {
      const text = readOr(path.join(dir, v1 ? 'memory.max_usage_in_bytes' : 'memory.peak'), '');
      return text.trim() === '' ? null : Number(text.trim());
    },
    resetPeak: () => {
      // v1 resets on any write; v2's memory.peak resets per writer from kernel 6.12, so v2 keeps the run's peak
      if (v1) {
        fs.writeFileSync(path.join(dir, 'memory.max_usage_in_bytes'), '0');
        fs.writeFileSync(path.join(dir, 'memory.failcnt'), '0');
      }
    },
    anonBytes: () => {
      const stat = readOr(path.join(dir, 'memory.stat'), '');
      const match = new RegExp(`^${v1 ? 'rss' : 'anon'} (\\d+)$`, 'm').exec(stat);
      return match ? Number(match[1]) : 0;
    },
    limitHits: () => {
      if (v1) return Number(readOr(path.join(dir, 'memory.failcnt'), '0').trim()) || 0;
      const match = /^max (\d+)$/m.exec(readOr(path.join(dir, 'memory.events'), ''));
      return match ? Number(match[1]) : 0;
    },
    oomKills: () => {
      const text = readOr(path.join(dir, v1 ? 'memory.oom_control' : 'memory.events'), '');
      const match = /oom_kill (\d+)/.exec(text);
      return match ? Number(match[1]) : 0;
    },
    remove: async () => {
      // rmdir, not rm -r: a cgroup's files are not real files, and it goes once the kernel has let its last process go
      for (let attempt = 0; ; attempt++) {
        try {
          fs.rmdirSync(dir);
          return;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
          if (attempt >= 20) throw new Error(`cannot remove the memory cgroup ${dir}: ${(error as Error).message}`);
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
    },
  };
}
