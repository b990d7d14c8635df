/**
 * Partitions of one library: partition k of N holds the assets whose id hashes to k. N copies of the
 * template (or N schedules), each with its own partition and so its own state folder, together sync every
 * asset exactly once, in parallel, without sharing a checkpoint or a lease.
 *
 * The hash is of the asset id only (sha256, stable across versions, hosts and Node releases), so an asset
 * never changes partition while N stays the same. Every partition still walks the whole listing, since its
 * cursor has to pass the other partitions' assets; it only works on its own (workPlan.ts).
 */
import { createHash } from 'crypto';

import { WHOLE_LIBRARY, type Partition } from './stateFolder';

/** The partition (1..count) an asset belongs to. */
export function partitionOfAsset(assetId: string, count: number): number {
  if (count <= 1) return 1;
  return (createHash('sha256').update(assetId).digest().readUInt32BE(0) % count) + 1;
}

export function inPartition(assetId: string, partition: Partition = WHOLE_LIBRARY): boolean {
  return partition.count <= 1 || partitionOfAsset(assetId, partition.count) === partition.index;
}

/** "2 of 4", or "the whole library". */
export function describePartition(partition: Partition): string {
  return partition.count <= 1 ? 'the whole library' : `partition ${partition.index} of ${partition.count}`;
}
