/**
 * IPTC without CodedCharacterSet=UTF8 is read by ExifTool as Latin-1 (cp1252). Many tools write UTF-8 there
 * without saying so, which then reads as "ÐœÐ°Ñ€Ð¸Ñ". Once we declare UTF-8 (we must, to write non-Latin
 * text), every existing IPTC string has to be re-encoded too, or "José" would turn into "Jos�".
 */

export const IPTC_CHARSET_TAG = 'IPTC:CodedCharacterSet';

/** cp1252's printable characters in 0x80–0x9F (the rest of 0x00–0xFF is Latin-1 itself). */
const CP1252_HIGH: Record<string, number> = {
  '€': 0x80, '‚': 0x82, 'ƒ': 0x83, '„': 0x84, '…': 0x85, '†': 0x86, '‡': 0x87, 'ˆ': 0x88, '‰': 0x89, 'Š': 0x8a,
  '‹': 0x8b, 'Œ': 0x8c, 'Ž': 0x8e, '‘': 0x91, '’': 0x92, '“': 0x93, '”': 0x94, '•': 0x95, '–': 0x96, '—': 0x97,
  '˜': 0x98, '™': 0x99, 'š': 0x9a, '›': 0x9b, 'œ': 0x9c, 'ž': 0x9e, 'Ÿ': 0x9f,
};

const utf8 = new TextDecoder('utf-8', { fatal: true });
const NON_ASCII = /[^\u0000-\u007f]/u; // eslint-disable-line no-control-regex -- the ASCII range starts at NUL

/** The text an undeclared IPTC string really holds: UTF-8 when its bytes are valid UTF-8, else as read. */
export function undeclaredIptcText(read: string): string {
  if (!NON_ASCII.test(read)) return read;
  const bytes: number[] = [];
  for (const char of read) {
    const code = char.codePointAt(0)!;
    if (code < 0x100) bytes.push(code);
    else if (CP1252_HIGH[char] !== undefined) bytes.push(CP1252_HIGH[char]);
    else return read; // not something a Latin-1 decoder produced
  }
  try {
    return utf8.decode(Uint8Array.from(bytes));
  } catch {
    return read; // genuinely Latin-1
  }
}

/** ISO 2022's designation of UTF-8, which is what the record holds; ExifTool prints it as "UTF8". */
const UTF8_DESIGNATION = '\u001b%G';

export function isUtf8Declared(charset: unknown): boolean {
  if (charset === UTF8_DESIGNATION) return true;
  return typeof charset === 'string' && charset.replace(/[^a-z0-9]/gi, '').toUpperCase() === 'UTF8';
}

export function hasNonAscii(value: unknown): boolean {
  const list = Array.isArray(value) ? value : [value];
  return list.some((v) => typeof v === 'string' && NON_ASCII.test(v));
}

export function fixUndeclared(value: unknown): unknown {
  if (typeof value === 'string') return undeclaredIptcText(value);
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? undeclaredIptcText(v) : v));
  return value;
}
