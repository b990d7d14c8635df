/** Text limits of the formats we write. */

export const IPTC_KEYWORD_MAX_BYTES = 64;
export const IPTC_CAPTION_MAX_BYTES = 2000;

/** Cut to at most maxBytes of UTF-8 without splitting a character (IPTC counts bytes, not characters). */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  let out = '';
  let bytes = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char, 'utf8');
    if (bytes + size > maxBytes) break;
    out += char;
    bytes += size;
  }
  return out;
}

export function iptcKeyword(keyword: string): string {
  return truncateUtf8(keyword, IPTC_KEYWORD_MAX_BYTES);
}

/** Descriptions compare as Immich reads them: trimmed. */
export function sameText(a: unknown, b: unknown): boolean {
  return String(a ?? '').trim() === String(b ?? '').trim();
}
