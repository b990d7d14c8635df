/**
 * Where the run loop keeps its state between runs: files in a state folder, for the command line and
 * for the n8n template alike (lib/sync/stateFolder.ts says where; several hosts may share it).
 */
import { promises as fs } from 'fs';
import * as path from 'path';

import { uniqueTempSuffix } from '../files/tempFiles';

import { AlbumCache, parseAlbumCache } from './albumCache';
import { parseCheckpoint, SyncCheckpoint } from './checkpoint';

export type MembershipKind = 'albums' | 'tags';

export interface SyncStateStore {
  loadCheckpoint(): Promise<SyncCheckpoint>;
  saveCheckpoint(checkpoint: SyncCheckpoint): Promise<void>;
  loadMembershipCache(kind: MembershipKind): Promise<AlbumCache | null>;
  /** null removes the cache. */
  saveMembershipCache(kind: MembershipKind, cache: AlbumCache | null): Promise<void>;
}

export const CHECKPOINT_FILE = 'checkpoint.json';
export const MEMBERSHIP_FILES: Record<MembershipKind, string> = { albums: 'album-cache.json', tags: 'tag-cache.json' };

/** JSON files in one directory, each replaced atomically so a kill mid-save leaves the previous version. */
export class FileStateStore implements SyncStateStore {
  constructor(readonly directory: string) {}

  async loadCheckpoint(): Promise<SyncCheckpoint> {
    return parseCheckpoint(await this.readJson(CHECKPOINT_FILE));
  }

  async saveCheckpoint(checkpoint: SyncCheckpoint): Promise<void> {
    await this.writeJson(CHECKPOINT_FILE, checkpoint);
  }

  async loadMembershipCache(kind: MembershipKind): Promise<AlbumCache | null> {
    return parseAlbumCache(await this.readJson(MEMBERSHIP_FILES[kind]));
  }

  async saveMembershipCache(kind: MembershipKind, cache: AlbumCache | null): Promise<void> {
    if (cache === null) {
      await fs.rm(path.join(this.directory, MEMBERSHIP_FILES[kind]), { force: true });
      return;
    }
    await this.writeJson(MEMBERSHIP_FILES[kind], cache);
  }

  private async readJson(name: string): Promise<unknown> {
    try {
      return JSON.parse(await fs.readFile(path.join(this.directory, name), 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      if (error instanceof SyntaxError) return null; // a damaged file costs a full pass, not a crash
      throw error;
    }
  }

  private async writeJson(name: string, value: unknown): Promise<void> {
    await fs.mkdir(this.directory, { recursive: true });
    const target = path.join(this.directory, name);
    // Unique across the hosts sharing the folder: two writers never share a temporary file.
    const temp = `${target}.${uniqueTempSuffix()}.tmp`;
    await fs.writeFile(temp, JSON.stringify(value), 'utf8');
    await fs.rename(temp, target);
  }
}

/**
 * Reads through to another store and keeps every save until commit(): a plan that fails half way
 * leaves the stored state as it was.
 */
export class StagedStateStore implements SyncStateStore {
  private checkpoint: SyncCheckpoint | undefined;
  private readonly caches = new Map<MembershipKind, AlbumCache | null>();

  constructor(private readonly target: SyncStateStore) {}

  async loadCheckpoint(): Promise<SyncCheckpoint> {
    return this.checkpoint ?? this.target.loadCheckpoint();
  }

  async saveCheckpoint(checkpoint: SyncCheckpoint): Promise<void> {
    this.checkpoint = checkpoint;
  }

  async loadMembershipCache(kind: MembershipKind): Promise<AlbumCache | null> {
    return this.caches.has(kind) ? (this.caches.get(kind) ?? null) : this.target.loadMembershipCache(kind);
  }

  async saveMembershipCache(kind: MembershipKind, cache: AlbumCache | null): Promise<void> {
    this.caches.set(kind, cache);
  }

  /** The checkpoint first, then the caches: a kill in between keeps the membership diff (see startRun). */
  async commit(): Promise<void> {
    if (this.checkpoint) await this.target.saveCheckpoint(this.checkpoint);
    for (const [kind, cache] of this.caches) await this.target.saveMembershipCache(kind, cache);
  }
}
