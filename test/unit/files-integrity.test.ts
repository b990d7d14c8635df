import { tagsWithoutRepeats } from '../../lib/files/integrity';

describe('tagsWithoutRepeats (a -a -G1:4 read folded back to what a plain -G1 read shows)', () => {
  it('keeps a repeat under its plain key when its group has no first instance (the XMP copy of a date)', () => {
    expect(
      tagsWithoutRepeats({
        SourceFile: '/x.jpg',
        'ExifIFD:DateTimeOriginal': '2024:05:01 10:00:00',
        'XMP-exif:Copy1:DateTimeOriginal': '2024:05:01 10:00:00+02:00',
      }),
    ).toEqual({ 'ExifIFD:DateTimeOriginal': '2024:05:01 10:00:00', 'XMP-exif:DateTimeOriginal': '2024:05:01 10:00:00+02:00' });
  });

  it('lets the first instance of a tag in a group win over its repeats, whatever order they come in', () => {
    expect(tagsWithoutRepeats({ 'XMP-dc:Copy2:Subject': ['c'], 'XMP-dc:Copy1:Subject': ['b'], 'XMP-dc:Subject': ['a'] })).toEqual({ 'XMP-dc:Subject': ['a'] });
    expect(tagsWithoutRepeats({ 'XMP-dc:Copy2:Subject': ['c'], 'XMP-dc:Copy1:Subject': ['b'] })).toEqual({ 'XMP-dc:Subject': ['b'] });
  });

  it('leaves out the integrity tags and the bookkeeping fields', () => {
    expect(
      tagsWithoutRepeats({
        'ExifTool:Validate': '0 2 0',
        'ExifTool:Warning': 'w1',
        'ExifTool:Copy1:Warning': 'w2',
        'File:ImageDataHash': 'abc',
        'File:FileType': 'JPEG',
        errors: [],
        warnings: [],
      }),
    ).toEqual({ 'File:FileType': 'JPEG' });
  });

  it('does not take a group named like a copy for one', () => {
    expect(tagsWithoutRepeats({ 'XMP-dc:CopyRight:Thing': 1, 'IFD0:Orientation': 6 })).toEqual({ 'XMP-dc:CopyRight:Thing': 1, 'IFD0:Orientation': 6 });
  });
});
