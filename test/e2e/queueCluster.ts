/**
 * n8n in queue mode as a production install runs it, started here on 127.0.0.1: Redis as the queue, a
 * throw-away PostgreSQL cluster as the shared database, one n8n main and any number of `n8n worker`
 * processes. Each n8n process has its own user folder with this package installed the manual
 * community-node way. Shared by the queue-mode e2e test and the bench's queue-mode memory section.
 */
import { createHash } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { ensureN8n, findRepoRoot, freePort, N8nInstance, packPackage, type CommandWrapper, type N8nWorkflow } from './n8nHarness';
import { isAlive, startPostgres, startRedis, stopProcess, type Postgres, type Service } from './queueServices';
import { CREDENTIAL } from './templateEnvironment';

export interface QueueClusterOptions {
  workDir: string;
  workers: number;
  /** Executions one worker runs at once (`n8n worker --concurrency`). */
  concurrency?: number;
  /** N8N_RESTRICT_FILE_ACCESS_TO for every n8n process: folders every host mounts (state folder, library). */
  fileAccess: string[];
  log?: (message: string) => void;
}

export interface StoredExecution {
  id: number;
  status: string;
  mode: string;
}

export class QueueCluster {
  /** Every process started, in start order; stop() ends them newest first, each by its own pid. */
  readonly processes: Array<{ name: string; process: ChildProcess }> = [];
  private mainProcess: ChildProcess | null = null;
  private workerProcesses: ChildProcess[] = [];
  private mainPort = 0;

  private constructor(
    readonly redis: Service,
    readonly postgres: Postgres,
    readonly main: N8nInstance,
    readonly workers: N8nInstance[],
    private readonly concurrency: number,
  ) {}

  /** Starts Redis and PostgreSQL and installs the package into every n8n user folder; no n8n process runs yet. */
  static async create(options: QueueClusterOptions): Promise<QueueCluster> {
    const log = options.log ?? (() => undefined);
    const processes: Array<{ name: string; process: ChildProcess }> = [];
    const redis = await startRedis(path.join(options.workDir, 'redis'));
    processes.push({ name: 'redis-server', process: redis.process });
    let postgres: Postgres;
    try {
      postgres = await startPostgres(path.join(options.workDir, 'postgres'));
    } catch (error) {
      await stopProcess(redis.process);
      throw error;
    }
    processes.push({ name: 'postgres', process: postgres.process });
    log(`redis on ${redis.port} (pid ${redis.process.pid}), postgres on ${postgres.port} (pid ${postgres.process.pid})`);

    const repoRoot = findRepoRoot();
    const { n8nBin } = ensureN8n(repoRoot);
    const shared = {
      EXECUTIONS_MODE: 'queue',
      QUEUE_BULL_REDIS_HOST: '127.0.0.1',
      QUEUE_BULL_REDIS_PORT: String(redis.port),
      DB_TYPE: 'postgresdb',
      DB_POSTGRESDB_HOST: '127.0.0.1',
      DB_POSTGRESDB_PORT: String(postgres.port),
      DB_POSTGRESDB_DATABASE: postgres.database,
      DB_POSTGRESDB_USER: postgres.user,
      DB_POSTGRESDB_PASSWORD: postgres.password,
      N8N_ENCRYPTION_KEY: createHash('sha256').update(options.workDir).digest('hex').slice(0, 48),
      // n8n 2.x lets nodes touch only these folders; the sync index's default home is the first one
      N8N_RESTRICT_FILE_ACCESS_TO: options.fileAccess.join(';'),
    };
    const main = new N8nInstance({ n8nBin, userFolder: path.join(options.workDir, 'n8n-main'), env: shared });
    const workers = Array.from({ length: options.workers }, (_, i) => new N8nInstance({ n8nBin, userFolder: path.join(options.workDir, `n8n-worker${i + 1}`), env: shared }));
    const cluster = new QueueCluster(redis, postgres, main, workers, options.concurrency ?? 1);
    cluster.processes.push(...processes);
    try {
      const tgz = await packPackage(repoRoot, path.join(options.workDir, 'pack'));
      log('installing the package into the user folder of main, copying that install to every worker');
      await main.installPackage(tgz);
      // the same npm install once per worker costs minutes on a loaded machine; a copy of the folder is the same install
      for (const worker of workers) fs.cpSync(main.nodesDir, worker.nodesDir, { recursive: true });
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** The Immich credential every workflow here uses, stored (encrypted with the shared key) in PostgreSQL. */
  async importCredential(immichUrl: string, apiKey: string): Promise<void> {
    await this.main.importCredentials([{ ...CREDENTIAL, type: 'immichApi', data: { url: immichUrl, apiKey } }]);
  }

  /** Imports a workflow and publishes it, so its triggers fire once the main runs. */
  async publish(workflow: N8nWorkflow): Promise<void> {
    await this.main.importWorkflow(workflow);
    await this.main.n8n(['publish:workflow', `--id=${workflow.id}`], 'n8n publish:workflow');
  }

  /** Starts the workers, then the main (which fires the triggers and puts the executions on the queue). */
  async run(): Promise<void> {
    await this.startWorkers();
    await this.startMain();
  }

  async startMain(): Promise<void> {
    this.mainPort = await freePort();
    this.mainProcess = await this.main.startServer(this.mainPort);
    this.processes.push({ name: 'n8n main', process: this.mainProcess });
  }

  /** Starts one `n8n worker` per worker user folder; `wrap` starts them through another command (e.g. a memory cgroup). */
  async startWorkers(wrap?: CommandWrapper): Promise<void> {
    for (const [index, worker] of this.workers.entries()) {
      const child = await worker.startWorker(this.concurrency, wrap);
      this.workerProcesses.push(child);
      this.processes.push({ name: `n8n worker ${index + 1}`, process: child });
    }
  }

  /** Stops the running workers (each by its pid); the main and the queue go on. */
  async stopWorkers(): Promise<void> {
    for (const child of this.workerProcesses) await stopProcess(child);
    this.workerProcesses = [];
  }

  get mainPid(): number {
    if (!this.mainProcess?.pid) throw new Error('the n8n main is not running: call run() first');
    return this.mainProcess.pid;
  }

  get workerPids(): number[] {
    return this.workerProcesses.map((child) => child.pid as number);
  }

  /** The main's base URL (its production webhooks live under /webhook/). */
  get mainUrl(): string {
    return `http://127.0.0.1:${this.mainPort}`;
  }

  /** The executions of one workflow as PostgreSQL has them. */
  async executions(workflowId: string): Promise<StoredExecution[]> {
    const rows = await this.postgres.query(`select id, status, mode from execution_entity where "workflowId" = '${workflowId.replace(/'/g, "''")}' order by id`);
    return rows.map(([id, status, mode]) => ({ id: Number(id), status, mode }));
  }

  /** Executions the workers finished, per worker, from their own logs ("Worker finished execution N"). */
  finishedByWorker(): number[][] {
    return this.workers.map((worker) => {
      const text = fs.existsSync(worker.logFile) ? fs.readFileSync(worker.logFile, 'utf8') : '';
      return [...text.matchAll(/Worker finished execution (\d+)/g)].map((m) => Number(m[1]));
    });
  }

  /** n8n first (the main stops firing, workers finish their job), then the queue and the database. */
  async stop(): Promise<string[]> {
    for (const service of [...this.processes].reverse()) await stopProcess(service.process);
    return this.processes.filter((s) => isAlive(s.process.pid as number)).map((s) => `${s.name} (pid ${s.process.pid})`);
  }
}
