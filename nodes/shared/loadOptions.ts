/** Dropdown lists for node parameters (albums, people, tags), read from Immich with the node's credential. */
import type { ILoadOptionsFunctions, INodePropertyOptions } from 'n8n-workflow';
import { immichClientFor } from './immichClient';

export async function getAlbums(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
  const client = await immichClientFor(this);
  const albums = await client.listAlbums();
  return albums.map((a) => ({ name: a.albumName, value: a.id, description: `${a.assetCount} assets` })).sort((a, b) => a.name.localeCompare(b.name));
}

export async function getPeople(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
  const client = await immichClientFor(this);
  const people = await client.listPeople();
  return people
    .filter((p) => p.name.trim() !== '')
    .map((p) => ({ name: p.isHidden ? `${p.name} (hidden)` : p.name, value: p.id }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export async function getTags(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
  const client = await immichClientFor(this);
  const tags = await client.listTags();
  return tags.map((t) => ({ name: t.value, value: t.id })).sort((a, b) => a.name.localeCompare(b.name));
}
