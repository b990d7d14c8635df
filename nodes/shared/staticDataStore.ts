/**
 * The workflow's global static data, shared in memory by the nodes of one execution: Immich Search
 * Assets leaves the batch in flight there (and the state folder it was planned from) for Immich Write
 * Metadata to record. It is not the home of the checkpoint: n8n saves static data only when an execution
 * ends, and in queue mode a worker never reads it back (n8n-io/n8n#17321), so the checkpoint lives in the
 * state folder (lib/sync/stateFolder.ts). Versions before kept the checkpoint here; Search Assets takes
 * it over once (the SyncStateStore methods read it).
 *
 * n8n saves static data only when a top-level key is assigned, so every save assigns a whole new value
 * instead of mutating the stored one.
 */
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import { parseAlbumCache, type AlbumCache } from '../../lib/sync/albumCache';
import { parseCheckpoint, type SyncCheckpoint } from '../../lib/sync/checkpoint';
import { parseWorkBatch, type WorkBatch } from '../../lib/sync/recorder';
import type { MembershipKind, SyncStateStore } from '../../lib/sync/stateStore';

/** The key in workflow static data; one per workflow, so two sync workflows keep separate checkpoints. */
export const SYNC_STATE_KEY = 'immichMetadataSync';

const CACHE_KEYS: Record<MembershipKind, string> = { albums: 'albumCache', tags: 'tagCache' };

type StaticDataOwner = Pick<IExecuteFunctions, 'getWorkflowStaticData'>;

/** Where the batch in flight came from; `lease` is the lease record held for it (lib/sync/lease.ts), if any. */
export interface BatchHome {
  stateFolder: string;
  lease?: unknown;
}

export class StaticDataStateStore implements SyncStateStore {
  constructor(private readonly context: StaticDataOwner) {}

  async loadCheckpoint(): Promise<SyncCheckpoint> {
    return parseCheckpoint(this.read().checkpoint);
  }

  async saveCheckpoint(checkpoint: SyncCheckpoint): Promise<void> {
    this.write({ checkpoint });
  }

  async loadMembershipCache(kind: MembershipKind): Promise<AlbumCache | null> {
    return parseAlbumCache(this.read()[CACHE_KEYS[kind]]);
  }

  async saveMembershipCache(kind: MembershipKind, cache: AlbumCache | null): Promise<void> {
    this.write({ [CACHE_KEYS[kind]]: cache });
  }

  /** The batch handed out by Search Assets and not yet recorded, if any. */
  loadBatch(): WorkBatch | null {
    return parseWorkBatch(this.read().batch);
  }

  /** Where the batch in flight was planned: Write Metadata records it there. */
  loadBatchHome(): BatchHome | null {
    const home = this.read().batchHome;
    if (typeof home !== 'object' || home === null || typeof (home as BatchHome).stateFolder !== 'string') return null;
    return home as BatchHome;
  }

  saveBatch(batch: WorkBatch | null, home: BatchHome | null = null): void {
    this.write({ batch, batchHome: batch === null ? null : home });
  }

  /** True when a checkpoint or cache of a version before the state folder is stored here. */
  hasState(): boolean {
    const stored = this.read();
    return [stored.checkpoint, ...Object.values(CACHE_KEYS).map((key) => stored[key])].some((value) => value !== undefined && value !== null);
  }

  /** Forgets the checkpoint and caches kept here (the state folder has them). */
  dropState(): void {
    if (this.hasState()) this.write({ checkpoint: null, albumCache: null, tagCache: null });
  }

  private read(): Record<string, unknown> {
    const stored = this.context.getWorkflowStaticData('global')[SYNC_STATE_KEY];
    return typeof stored === 'object' && stored !== null && !Array.isArray(stored) ? (stored as Record<string, unknown>) : {};
  }

  private write(changes: Record<string, unknown>): void {
    // A JSON round trip drops undefined values and class instances that static data cannot hold. Only the
    // changed values need it (what is stored already is plain JSON), so a large album cache is not copied
    // again on every save; the new top-level object is what makes n8n save.
    const plain = JSON.parse(JSON.stringify(changes)) as Record<string, unknown>;
    this.context.getWorkflowStaticData('global')[SYNC_STATE_KEY] = { ...this.read(), ...plain } as IDataObject;
  }
}
