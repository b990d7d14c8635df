/** What a module's diff sees of the file, and where it puts what must change. */
import type { FieldChange } from '../files/types';
import { capabilitiesFor, FILE_TYPE_TAG, type TargetCapabilities, type TargetKind } from './capabilities';
import { fixUndeclared, IPTC_CHARSET_TAG, isUtf8Declared } from './iptcCharset';
import { readValue } from './readOptions';

export class DiffContext {
  readonly changes: FieldChange[] = [];
  readonly writeTags: Record<string, unknown> = {};
  readonly notes: string[] = [];
  readonly capabilities: TargetCapabilities;

  constructor(
    private readonly current: Record<string, unknown>,
    readonly target: TargetKind,
  ) {
    this.capabilities = capabilitiesFor(readValue(current, FILE_TYPE_TAG), target);
  }

  /** IPTC strings come back as the text they hold, whatever charset the file (did not) declare. */
  read(tag: string): unknown {
    const value = readValue(this.current, tag);
    return tag.startsWith('IPTC:') && !this.iptcIsUtf8 ? fixUndeclared(value) : value;
  }

  get iptcIsUtf8(): boolean {
    return isUtf8Declared(readValue(this.current, IPTC_CHARSET_TAG));
  }

  /** Every IPTC tag the file holds (keys as read), for re-encoding. */
  iptcTags(): string[] {
    return Object.keys(this.current).filter((key) => key.startsWith('IPTC:'));
  }

  /**
   * Records one tag to write; `field` is the human name Dry Run shows, `shown` what it shows as the new value
   * when the raw tag value would read worse (a signed coordinate, face boxes instead of a structure).
   */
  write(tag: string, value: unknown, field: string, before: unknown = this.read(tag), shown: unknown = value): void {
    const name = tag.endsWith('#') ? tag.slice(0, -1) : tag;
    this.writeTags[name] = value;
    this.changes.push({ field: `${field} (${name})`, before: before ?? null, after: shown });
  }

  /** A tag that goes with a shown change but is itself unchanged (e.g. a GPS ref that stays "W"). */
  writeSilently(tag: string, value: unknown): void {
    this.writeTags[tag.endsWith('#') ? tag.slice(0, -1) : tag] = value;
  }

  note(text: string): void {
    this.notes.push(text);
  }
}
