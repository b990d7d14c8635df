import type { ImmichAssetDetails } from '../lib/immich/types';

/**
 * What Immich knows about one copy of portrait.jpg (840x700, two faces) in the write benchmark. Every module
 * has something to change, so each copy is really compared, written and verified. Index makes ids unique.
 */
export function benchAsset(index: number, originalPath: string): ImmichAssetDetails {
  const id = `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`;
  const people = [
    { id: 'a0000000-0000-4000-8000-000000000001', name: 'Marie Curie', isHidden: false, updatedAt: null },
    { id: 'a0000000-0000-4000-8000-000000000002', name: 'Pierre Curie', isHidden: false, updatedAt: null },
    { id: 'a0000000-0000-4000-8000-000000000003', name: 'Irène Joliot-Curie', isHidden: false, updatedAt: null },
  ];
  const face = (n: number, x1: number, y1: number, x2: number, y2: number) => ({
    id: `f0000000-0000-4000-8000-00000000000${n}`,
    personId: people[n].id,
    personName: people[n].name,
    personHidden: false,
    x1,
    y1,
    x2,
    y2,
    imageWidth: 840,
    imageHeight: 700,
    sourceType: 'machine-learning',
  });
  return {
    id,
    type: 'IMAGE',
    originalPath,
    originalFileName: originalPath.split('/').pop() ?? 'portrait.jpg',
    libraryId: null,
    updatedAt: '2026-11-01T10:00:00.000Z',
    fileCreatedAt: '1911-06-01T10:00:00.000Z',
    localDateTime: '1911-06-01T12:00:00.000Z',
    isFavorite: true,
    isTrashed: false,
    visibility: 'timeline',
    isEdited: false,
    width: 840,
    height: 700,
    exif: {
      dateTimeOriginal: '1911-06-01T10:00:00.000Z',
      timeZone: 'UTC+2',
      description: 'Marie and Pierre Curie in the laboratory',
      rating: 4,
      latitude: 48.8424,
      longitude: 2.3441,
      orientation: '1',
      exifImageWidth: 840,
      exifImageHeight: 700,
    },
    people,
    faces: [face(0, 261, 146, 356, 284), face(1, 536, 83, 618, 252), face(2, 100, 100, 180, 200)],
    tags: ['Physics/Radioactivity', 'Nobel'],
    albums: ['Laboratory', 'Family'],
    serverMajor: 3,
  };
}
