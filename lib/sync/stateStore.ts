/**
 * Where the run loop keeps its state between runs. The command line uses files in a state directory;
 * n8n keeps the same JSON in workflow static data.
 */
import { promises as fs } from 'fs';
import * as path from 'path';

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
    const temp = `${target}.${process.pid}.tmp`;
    await fs.writeFile(temp, JSON.stringify(value), 'utf8');
    await fs.rename(temp, target);
  }
}
