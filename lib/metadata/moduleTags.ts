/** What each module writes, for the README and the node's descriptions. */
import type { ModuleName } from './types';

export interface ModuleTagInfo {
  summary: string;
  embedded: string[];
  sidecar: string[];
}

export const MODULE_TAGS: Record<ModuleName, ModuleTagInfo> = {
  people: {
    summary:
      'Named, visible people. Only names under People| in the file are ever removed, and none while Immich lists no people for the asset (not recognized yet).',
    embedded: ['XMP-iptcExt:PersonInImage', 'XMP-dc:Subject', 'IPTC:Keywords', 'XMP-lr:HierarchicalSubject (People|<name>)', 'XMP-digiKam:TagsList (People/<name>, when the file has a TagsList)'],
    sidecar: ['XMP-iptcExt:PersonInImage', 'XMP-dc:Subject', 'XMP-lr:HierarchicalSubject', 'XMP-digiKam:TagsList'],
  },
  faces: {
    summary:
      'MWG-RS face regions of named people, relative to the stored pixels (EXIF Orientation respected), and the same boxes as Microsoft People Tagging regions for Windows (option). Photos edited in Immich are mapped back onto the original. Other regions stay; nothing is removed while Immich has no named face.',
    embedded: ['XMP-mwg-rs:RegionInfo', 'XMP-MP:RegionInfo (option, on by default)'],
    sidecar: ['XMP-mwg-rs:RegionInfo', 'XMP-MP:RegionInfo (option, on by default)'],
  },
  gps: {
    summary: 'Latitude and longitude with hemisphere refs. Altitude is left alone (Immich does not expose it).',
    embedded: ['GPS:GPSLatitude', 'GPS:GPSLatitudeRef', 'GPS:GPSLongitude', 'GPS:GPSLongitudeRef', 'XMP-exif:GPSLatitude/GPSLongitude (when present)'],
    sidecar: ['XMP-exif:GPSLatitude', 'XMP-exif:GPSLongitude'],
  },
  caption: {
    summary: "Immich's description in every place readers look, so camera defaults like \"SONY DSC\" no longer win.",
    embedded: ['XMP-dc:Description', 'IPTC:Caption-Abstract', 'EXIF:ImageDescription', 'XMP-tiff:ImageDescription (when present)'],
    sidecar: ['XMP-dc:Description', 'XMP-tiff:ImageDescription'],
  },
  time: {
    summary:
      'Local capture time with its UTC offset (+00:00 when Immich does not know the zone, so a GPS position cannot shift it). Videos get the XMP dates only; QuickTime dates are left alone.',
    embedded: ['EXIF:DateTimeOriginal', 'EXIF:CreateDate', 'EXIF:SubSecTimeOriginal', 'EXIF:SubSecTimeDigitized', 'EXIF:OffsetTimeOriginal', 'EXIF:OffsetTimeDigitized', 'XMP-exif:DateTimeOriginal', 'XMP-xmp:CreateDate', 'XMP-photoshop:DateCreated', 'IPTC:DateCreated', 'IPTC:TimeCreated'],
    sidecar: ['XMP-exif:DateTimeOriginal', 'XMP-xmp:CreateDate', 'XMP-photoshop:DateCreated'],
  },
  rating: {
    summary: "Immich's rating (1–5, -1 rejected); nothing when Immich has none. Favourite → 5 only as an option.",
    embedded: ['XMP-xmp:Rating', 'EXIF:Rating (when present)'],
    sidecar: ['XMP-xmp:Rating'],
  },
  albums: {
    summary: 'Album names. Event/UserComment are replaced only when empty or still holding what we wrote.',
    embedded: ['XMP-lr:HierarchicalSubject (Albums|<name>)', 'XMP-iptcExt:Event', 'EXIF:UserComment (option)'],
    sidecar: ['XMP-lr:HierarchicalSubject', 'XMP-iptcExt:Event'],
  },
  tags: {
    summary: "Immich's tags as hierarchies plus their leaf as a keyword; our own People/ and Albums/ tags are not echoed.",
    embedded: ['XMP-lr:HierarchicalSubject', 'XMP-digiKam:TagsList (when the file has one)', 'XMP-dc:Subject', 'IPTC:Keywords'],
    sidecar: ['XMP-lr:HierarchicalSubject', 'XMP-digiKam:TagsList', 'XMP-dc:Subject'],
  },
};
