/**
 * Users paste the Immich address in many forms (`https://host`, `https://host/`, `https://host/api`,
 * sometimes with a reverse-proxy prefix). We derive the candidate API roots and probe them once with
 * the unauthenticated ping endpoint; the first one that answers like Immich is reused for every call.
 */

export function normalizeBaseUrl(input: string): string {
  const trimmed = (input ?? '').trim();
  if (!trimmed) throw new Error('The Immich URL is empty: set it in the Immich credential, e.g. https://photos.example.com');
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    throw new Error(`The Immich URL "${trimmed}" is not a valid URL: use the form https://photos.example.com`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new Error(`The Immich URL "${trimmed}" must start with http:// or https://`);
  }
  parsed.search = '';
  parsed.hash = '';
  return parsed.toString().replace(/\/+$/, '');
}

/** API roots to probe, most likely first: `<base>/api`, then `<base>` itself. */
export function apiRootCandidates(input: string): string[] {
  const base = normalizeBaseUrl(input);
  if (/\/api$/i.test(base)) return [base, base.replace(/\/api$/i, '')].filter((c) => /^https?:\/\/[^/]+/.test(c));
  return [`${base}/api`, base];
}

export function joinUrl(root: string, path: string): string {
  return `${root.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}
