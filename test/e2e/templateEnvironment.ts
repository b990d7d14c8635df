/**
 * The bundled template, installed and imported into a fresh real n8n with a credential pointing at an
 * Immich server: what the e2e test and the demo both start from.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AssetWriteResult } from '../../lib/files/types';
import type { SyncCheckpoint } from '../../lib/sync/checkpoint';
import type { AlbumCache } from '../../lib/sync/albumCache';
import { stateFolderFor, type Partition } from '../../lib/sync/stateFolder';
import { FileStateStore } from '../../lib/sync/stateStore';
import { ensureN8n, findRepoRoot, N8nInstance, packPackage, type ExecuteOptions, type ExecutionReport, type N8nWorkflow } from './n8nHarness';

export const TEMPLATE_FILE = path.join('templates', 'immich-metadata-sync.json');
export const SEARCH_NODE = 'Next Batch from Immich';
export const WRITE_NODE = 'Write Metadata';
export const SUMMARY_NODE = 'Summary';
const WORKFLOW_ID = 'immichMetadataSync1';
/** The credential the template's nodes are pointed at in every test n8n. */
export const CREDENTIAL = { id: 'immichSimulator01', name: 'Immich' };

/** What the template's Summary node emits. */
export interface TemplateSummary {
  dryRun: boolean;
  total: number;
  /** Assets Search Assets handed out; equal to total, or the Summary node fails the run. */
  handedOut: number;
  written: number;
  unchanged: number;
  skipped: number;
  failed: number;
  writtenFiles: Array<{ file: string; fields: string[] }>;
  failedAssets: Array<{ assetId: string; file: string | null; reason: string }>;
  skippedAssets: Array<{ assetId: string; file: string | null; reason: string }>;
}

export interface TemplateRun {
  report: ExecutionReport;
  /** null when the batch was empty (n8n does not run the nodes after one that outputs no items). */
  summary: TemplateSummary | null;
  /** Every asset's result: Write Metadata's main output, then the failed ones from its error output. */
  results: AssetWriteResult[];
  /** The results that arrived on Write Metadata's error output (the assets it could not write). */
  errorOutput: AssetWriteResult[];
  /** How many assets Search Assets handed out. */
  batchSize: number;
}

export interface TemplateSettings {
  dryRun?: boolean;
  maxAssetsPerRun?: number;
  albumCacheTtlHours?: number;
  modules?: string[];
  /** Search Assets' State Folder (the environment sets one inside its work folder). */
  stateFolder?: string;
  partition?: Partition;
}

export interface TemplateEnvironmentOptions {
  /** A folder for the pack, the n8n user folder and logs. */
  workDir: string;
  immichUrl: string;
  apiKey: string;
  libraryPath: string;
  /**
   * n8n's N8N_RESTRICT_FILE_ACCESS_TO for every run; default the library, as the README tells users to set it
   * (n8n 2.x otherwise allows only ~/.n8n-files).
   */
  restrictFileAccessTo?: string;
  settings?: TemplateSettings;
  onLine?: (line: string) => void;
  progress?: (message: string) => void;
}

export function loadTemplate(repoRoot: string = findRepoRoot()): N8nWorkflow {
  return JSON.parse(fs.readFileSync(path.join(repoRoot, TEMPLATE_FILE), 'utf8')) as N8nWorkflow;
}

/** The template as a user would fill it in: their credential and library path, plus any settings changed. */
export function fillInTemplate(template: N8nWorkflow, libraryPath: string, settings: TemplateSettings = {}): N8nWorkflow {
  const workflow = structuredClone(template);
  workflow.id = WORKFLOW_ID;
  for (const node of workflow.nodes) {
    if (node.credentials?.immichApi) node.credentials.immichApi = { ...CREDENTIAL };
  }
  const node = (name: string) => {
    const found = workflow.nodes.find((n) => n.name === name);
    if (!found) throw new Error(`The template has no node "${name}"`);
    return found;
  };
  const write = node(WRITE_NODE);
  write.parameters.libraryPath = libraryPath;
  if (settings.dryRun !== undefined) write.parameters.dryRun = settings.dryRun;
  const search = node(SEARCH_NODE);
  if (settings.maxAssetsPerRun !== undefined) search.parameters.maxAssetsPerRun = settings.maxAssetsPerRun;
  if (settings.albumCacheTtlHours !== undefined) search.parameters.albumCacheTtlHours = settings.albumCacheTtlHours;
  if (settings.stateFolder !== undefined) search.parameters.stateFolder = settings.stateFolder;
  if (settings.partition !== undefined) {
    search.parameters.partitionIndex = settings.partition.index;
    search.parameters.partitionCount = settings.partition.count;
  }
  if (settings.modules) node('Build Metadata Tags').parameters.modules = settings.modules;
  return workflow;
}

/** Sample copies keep the read-only mode of the shared originals; a user's library is writable. */
export function makeTreeWritable(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      fs.chmodSync(full, 0o755);
      makeTreeWritable(full);
    } else if (entry.isFile()) {
      fs.chmodSync(full, 0o644);
    }
  }
}

export class TemplateEnvironment {
  private constructor(
    readonly n8n: N8nInstance,
    readonly workflowId: string,
    readonly installMs: number,
    /** The State Folder of every workflow imported here: inside the work folder, never the machine's ~/.n8n-files. */
    readonly stateRoot: string,
  ) {}

  /** Ensures n8n, packs this package (dist/ must be built), installs it and imports credential and template. */
  static async create(options: TemplateEnvironmentOptions): Promise<TemplateEnvironment> {
    const progress = options.progress ?? (() => undefined);
    const repoRoot = findRepoRoot();
    progress('checking the local n8n (installs it on first use: about 5 minutes)');
    const { n8nBin } = ensureN8n(repoRoot);
    progress('packing this package (npm pack)');
    const tgz = await packPackage(repoRoot, path.join(options.workDir, 'pack'));
    const n8n = new N8nInstance({
      n8nBin,
      userFolder: path.join(options.workDir, 'n8n-user'),
      onLine: options.onLine,
      // as the README advises: n8n's own file folder (here the environment's state root) first, then the library
      env: { N8N_RESTRICT_FILE_ACCESS_TO: options.restrictFileAccessTo ?? `${path.join(path.resolve(options.workDir), 'state')};${options.libraryPath}` },
    });
    progress(`installing ${path.basename(tgz)} into ${n8n.userFolder}/.n8n/nodes (as Settings → Community Nodes does)`);
    const started = Date.now();
    await n8n.installPackage(tgz);
    const installMs = Date.now() - started;
    progress('importing the Immich credential and the template workflow');
    await n8n.importCredentials([{ ...CREDENTIAL, type: 'immichApi', data: { url: options.immichUrl, apiKey: options.apiKey } }]);
    const stateRoot = path.join(path.resolve(options.workDir), 'state');
    const workflow = fillInTemplate(loadTemplate(repoRoot), options.libraryPath, { stateFolder: stateRoot, ...options.settings });
    await n8n.importWorkflow(workflow);
    return new TemplateEnvironment(n8n, workflow.id as string, installMs, stateRoot);
  }

  /**
   * Imports the template once more under another id: a second workflow has its own static data, so
   * its first run is a full pass that compares every file again.
   */
  async importCopy(workflowId: string, libraryPath: string, settings: TemplateSettings = {}, staticData?: Record<string, unknown>): Promise<string> {
    // n8n silently skips saving static data (the checkpoint) for a workflow id longer than 21 characters.
    if (workflowId.length > 21) throw new Error(`workflow id "${workflowId}" is longer than 21 characters: n8n would not save its static data`);
    const workflow = fillInTemplate(loadTemplate(), libraryPath, { stateFolder: this.stateRoot, ...settings });
    workflow.id = workflowId;
    // Importing over an existing workflow keeps its static data unless the file brings its own.
    if (staticData) workflow.staticData = staticData;
    workflow.name = `${workflow.name} (${workflowId})`;
    await this.n8n.importWorkflow(workflow);
    return workflowId;
  }

  /** One `n8n execute` of the template (or of a copy); fails when n8n reports a workflow error. */
  async run(workflowId: string = this.workflowId, options: ExecuteOptions = {}): Promise<TemplateRun> {
    const report = await this.n8n.execute(workflowId, options);
    if (report.error) throw new Error(`The template run failed: ${report.error}\n${report.raw.stdout.slice(-4000)}`);
    const summaryItem = report.nodes[SUMMARY_NODE]?.items[0] as unknown as TemplateSummary | undefined;
    const outputs = report.nodes[WRITE_NODE]?.outputs ?? [];
    const written = (outputs[0] ?? []) as unknown as AssetWriteResult[];
    // n8n's error output items: { error, details: <result> } plus the fields of the input item
    const errorOutput = (outputs[1] ?? []).map((json) => json.details as AssetWriteResult);
    return {
      report,
      summary: summaryItem ?? null,
      results: [...written, ...errorOutput],
      errorOutput,
      batchSize: report.nodes[SEARCH_NODE]?.items.length ?? 0,
    };
  }

  /** The sync state of a workflow (and partition) as Search Assets and Write Metadata keep it in the state folder. */
  async syncState(workflowId: string = this.workflowId, partition?: Partition): Promise<{ checkpoint: SyncCheckpoint; albumCache: AlbumCache | null; folder: string }> {
    const folder = stateFolderFor(this.stateRoot, `workflow-${workflowId}`, partition);
    const store = new FileStateStore(folder);
    return { checkpoint: await store.loadCheckpoint(), albumCache: await store.loadMembershipCache('albums'), folder };
  }

  /** The workflow's static data as n8n stored it (`n8n export:workflow`). */
  async staticData(workflowId: string = this.workflowId): Promise<Record<string, unknown>> {
    const exported = await this.n8n.exportWorkflow(workflowId);
    const data = typeof exported.staticData === 'string' ? JSON.parse(exported.staticData) : exported.staticData;
    return (data ?? {}) as Record<string, unknown>;
  }
}
