/**
 * How the writer must read a file before diffing it. The diff relies on exactly this shape:
 * keys are family-1 group names ("XMP-dc:Description", "IFD0:Orientation"), structures come back
 * as objects (RegionInfo), and values come back as stored (numbers as numbers; a trailing "#" on a
 * tag name says that the diff relies on its numeric form).
 *
 * Usage (lib/files):
 *   const current = await exiftool.readRaw(file, readRequest(tagsToRead(plan, target)));
 *   const { changes, writeTags } = diffAgainstFile(plan, current, target);
 *
 * readRaw, not read: read() always appends "-all" (a full read) and reshapes dates and zones,
 * while the diff wants ExifTool's own text for the few tags it compares.
 */

/** Arguments that come before the tag names. */
export const READ_ARGS: readonly string[] = Object.freeze([
  '-G1', // keys carry their group, so EXIF and XMP copies of one tag stay apart
  '-struct', // RegionInfo as a structure, the way MWG-RS defines it
  // Values as stored, not as printed: the compared tags read the same either way (text, dates, structures)
  // except IPTC:CodedCharacterSet (its raw ESC % G), and skipping the print conversion makes the read
  // about a third cheaper, which is most of the cost of a pass over an unchanged library.
  '-n',
]);

/** Options for exiftool-vendored's readRaw (and the ExifTool constructor, where they also apply). */
export const READ_OPTIONS = Object.freeze({
  // Composite MWG tags are not compared: every tag we compare is named with its group, so MWG's
  // reconciliation must not stand in for them.
  useMWG: false,
  ignoreMinorErrors: true,
});

/** The readRaw options for a list of tags from tagsToRead. */
export function readRequest(tags: readonly string[]): {
  readArgs: string[];
  useMWG: boolean;
  ignoreMinorErrors: boolean;
} {
  return { ...READ_OPTIONS, readArgs: [...READ_ARGS, ...tags.map((tag) => `-${tag}`)] };
}

/** The key a tag read as `name` (maybe with "#", maybe without a group) has in readRaw's result. */
export function readValue(current: Record<string, unknown>, name: string): unknown {
  const bare = name.endsWith('#') ? name.slice(0, -1) : name;
  if (bare in current) return current[bare];
  if (!bare.includes(':')) {
    // Asked without a group: -G1 still prefixes whichever group ExifTool picked.
    for (const [key, value] of Object.entries(current)) {
      if (key.endsWith(`:${bare}`) && !key.startsWith('Composite:')) return value;
    }
    for (const [key, value] of Object.entries(current)) {
      if (key.endsWith(`:${bare}`)) return value;
    }
  }
  return undefined;
}
