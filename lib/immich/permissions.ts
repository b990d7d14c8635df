/**
 * The API key permissions each endpoint needs, copied from the `x-immich-permission` of the
 * Immich v3.1 OpenAPI spec (test/unit/immich-permissions.test.ts checks the table against the spec).
 * A 403 names the missing permission from this table, because the server's message is not a contract.
 */

export const ENDPOINT_PERMISSIONS: Readonly<Record<string, string | null>> = {
  'GET /server/ping': null,
  'GET /server/version': null,
  'GET /users/me': 'user.read',
  'POST /search/metadata': 'asset.read',
  'GET /assets/{id}': 'asset.read',
  'GET /assets/{id}/edits': 'asset.edit.get',
  'GET /faces': 'face.read',
  'GET /albums': 'album.read',
  'GET /tags': 'tag.read',
  'GET /people': 'person.read',
};

/** What an Immich API key needs for this package (for the README and the credential hint). */
export const REQUIRED_API_KEY_PERMISSIONS: readonly string[] = Array.from(
  new Set(Object.values(ENDPOINT_PERMISSIONS).filter((p): p is string => p !== null)),
).sort();

const UUID_SEGMENT = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** `GET /assets/0b1c…` → `GET /assets/{id}`: the key used in the permission table and request counts. */
export function routeKey(method: string, path: string): string {
  const pathOnly = path.split('?')[0];
  const templated = pathOnly
    .split('/')
    .map((segment) => (UUID_SEGMENT.test(segment) ? '{id}' : segment))
    .join('/');
  return `${method.toUpperCase()} ${templated}`;
}

export function permissionFor(method: string, path: string): string | null {
  return ENDPOINT_PERMISSIONS[routeKey(method, path)] ?? null;
}
