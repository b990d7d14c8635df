/** Albums: album names as Albums|… hierarchies, the IPTC Event, and optionally EXIF:UserComment. */
import type { ImmichAssetDetails } from '../../immich/types';
import type { DiffContext } from '../diffContext';
import { leavesUnder, toStringList, unique } from '../keywords';
import type { BuildOptions, ModuleOutcome } from '../options';
import { ALBUMS_ROOT, type AlbumsPlan } from '../types';

export const ALBUM_SEPARATOR = '; ';

export function planAlbums(asset: ImmichAssetDetails, options: BuildOptions): ModuleOutcome<AlbumsPlan> {
  const names = unique(asset.albums.map((name) => name.trim()).filter((name) => name !== ''));
  return { plan: { names, userComment: options.albumsInUserComment } };
}

export const ALBUM_TAGS = {
  embedded: ['XMP-iptcExt:Event', 'ExifIFD:UserComment'],
  sidecar: ['XMP-iptcExt:Event'],
};

/**
 * Event and UserComment are single texts, not lists: we replace them only when they are empty or still
 * hold exactly what we wrote last time (the album names found under Albums| in the file).
 */
export function diffAlbumTexts(plan: AlbumsPlan, ctx: DiffContext): void {
  const previous = [...leavesUnder({
    hierarchicalSubject: toStringList(ctx.read('XMP-lr:HierarchicalSubject')),
    tagsList: toStringList(ctx.read('XMP-digiKam:TagsList')),
  }, [ALBUMS_ROOT])];
  const wanted = plan.names.join(ALBUM_SEPARATOR);
  const ours = (text: string) =>
    text.trim() === '' || text === wanted || (previous.length > 0 && sameNames(text, previous));

  const update = (tag: string, field: string) => {
    const current = ctx.read(tag);
    const text = current === undefined || current === null ? '' : String(current);
    if (text === wanted) return;
    if (!ours(text)) {
      if (wanted === '') return; // nothing of ours to put there, nothing of ours to take away
      ctx.note(`${tag} holds "${text}", which we did not write; it is kept`);
      return;
    }
    if (wanted === '' && text === '') return;
    ctx.write(tag, wanted === '' ? null : wanted, field);
  };
  update('XMP-iptcExt:Event', 'Albums (event)');
  if (plan.userComment && ctx.target === 'embedded' && ctx.capabilities.exif) update('ExifIFD:UserComment', 'Albums (user comment)');
}

function sameNames(text: string, names: string[]): boolean {
  const a = text.split(ALBUM_SEPARATOR).sort();
  const b = [...names].sort();
  return a.length === b.length && a.every((name, i) => name === b[i]);
}
