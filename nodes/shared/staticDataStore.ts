/**
 * The sync state's home inside n8n: the workflow's global static data, shared by Immich Search Assets
 * (which plans a batch) and Immich Write Metadata (which records it). It holds the same JSON the command
 * line keeps in its state folder, plus the batch in flight.
 *
 * n8n persists static data only when an execution of an active or CLI-started workflow ends, and never
 * for manual test runs; it saves only when a top-level key is assigned, so every save assigns a whole
 * new value instead of mutating the stored one.
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

  saveBatch(batch: WorkBatch | null): void {
    this.write({ batch });
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
