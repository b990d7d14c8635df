/** Immich Build Metadata Tags through real n8n execution code. */
import type { IDataObject } from 'n8n-workflow';

import type { MetadataPlan } from '../../lib/metadata/types';
import { ImmichBuildMetadataTags } from '../../nodes/ImmichBuildMetadataTags/ImmichBuildMetadataTags.node';
import { modulesFromSelection } from '../../nodes/ImmichBuildMetadataTags/execute';
import { runNode } from '../helpers/n8nRunner';
import { assetFor } from './writer-fixtures';

// Real ExifTool on a shared, noisy 2-core machine: generous limits (not timing assertions).
jest.setTimeout(240_000);

const asItem = (json: object, i = 0) => ({ json: json as IDataObject, pairedItem: { item: i } });

describe('Immich Build Metadata Tags node', () => {
  it('adds a metadataPlan to each item and keeps the item (default modules = the seed\'s --all)', async () => {
    const asset = assetFor('portrait.jpg', { isFavorite: true, albums: ['Holiday'] });
    const { items, error } = await runNode(ImmichBuildMetadataTags, {}, [asItem(asset)]);
    expect(error).toBeNull();
    expect(items).toHaveLength(1);
    const json = items[0].json as unknown as typeof asset & { metadataPlan: MetadataPlan };
    expect(json.id).toBe(asset.id);
    expect(json.originalPath).toBe(asset.originalPath);
    expect(json.metadataPlan.assetId).toBe(asset.id);
    expect(json.metadataPlan.modules).toEqual(['people', 'gps', 'caption', 'time', 'rating']);
    expect(json.metadataPlan.people?.names).toEqual(expect.arrayContaining(['Marie Curie', 'Мария Кюри']));
    expect(json.metadataPlan.albums).toBeUndefined();
    expect(items[0].pairedItem).toEqual({ item: 0 });
    // Plain JSON: it travels between nodes and executions.
    expect(JSON.parse(JSON.stringify(json.metadataPlan))).toEqual(json.metadataPlan);
  });

  it('passes the options through: opt-in modules next to "all", people options, favourite → 5', async () => {
    const asset = assetFor('portrait.jpg', { isFavorite: true, albums: ['Holiday'] }, { rating: null });
    const { items, error } = await runNode(
      ImmichBuildMetadataTags,
      {
        modules: ['all', 'albums'],
        personInImage: false,
        flatKeywords: false,
        hierarchicalKeywords: true,
        favoriteAsFiveStars: true,
        albumsInUserComment: true,
      },
      [asItem(asset)],
    );
    expect(error).toBeNull();
    const plan = (items[0].json as { metadataPlan: MetadataPlan }).metadataPlan;
    expect(plan.modules).toEqual(['people', 'gps', 'caption', 'time', 'rating', 'albums']);
    expect(plan.people).toEqual(expect.objectContaining({ personInImage: false, flatKeywords: false, hierarchicalKeywords: true }));
    expect(plan.rating?.rating).toBe(5);
    expect(plan.albums).toEqual({ names: ['Holiday'], userComment: true });
  });

  it('only the modules chosen', async () => {
    const { items } = await runNode(ImmichBuildMetadataTags, { modules: ['gps'] }, [asItem(assetFor('a.jpg'))]);
    const plan = (items[0].json as { metadataPlan: MetadataPlan }).metadataPlan;
    expect(plan.modules).toEqual(['gps']);
    expect(plan.gps).toEqual({ latitude: -33.856784, longitude: -70.648 });
    expect(plan.people).toBeUndefined();
  });

  it('a Search Assets item (no details) fails the node, naming the asset and the fix', async () => {
    const summary = { ...assetFor('a.jpg'), faces: undefined, albums: undefined };
    const { error, items } = await runNode(ImmichBuildMetadataTags, {}, [asItem(summary)]);
    expect(items).toEqual([]);
    expect(error?.message).toMatch(/asset-a-jpg.*Get Asset Details/);
  });

  it('Continue On Fail: the bad item becomes an error item, the good ones go on, pairedItem kept', async () => {
    const good = assetFor('good.jpg');
    const bad = { id: 'broken', originalPath: '/x/y/z.jpg' };
    const { items, error } = await runNode(ImmichBuildMetadataTags, {}, [asItem(good, 0), asItem(bad, 1), asItem(good, 2)], { continueOnFail: true });
    expect(error).toBeNull();
    expect(items).toHaveLength(3);
    expect(items.map((i) => i.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
    expect(items[0].json.metadataPlan).toBeDefined();
    expect(items[1].json.error).toMatch(/broken.*Get Asset Details/);
    expect(items[1].json.metadataPlan).toBeUndefined();
    expect(items[2].json.metadataPlan).toBeDefined();
  });
});

describe('modulesFromSelection', () => {
  it('expands "all" to the seed modules and keeps the canonical order', () => {
    expect(modulesFromSelection(['all'])).toEqual(['people', 'gps', 'caption', 'time', 'rating']);
    expect(modulesFromSelection(['tags', 'all', 'faces'])).toEqual(['people', 'faces', 'gps', 'caption', 'time', 'rating', 'tags']);
    expect(modulesFromSelection([])).toEqual([]);
    expect(() => modulesFromSelection(['nope'])).toThrow(/nope/);
  });
});
