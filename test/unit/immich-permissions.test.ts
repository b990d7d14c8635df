/** The permission table that names a missing permission on 403 must agree with the OpenAPI spec. */
import * as fs from 'node:fs';
import { ENDPOINT_PERMISSIONS, REQUIRED_API_KEY_PERMISSIONS, permissionFor } from '../../lib/immich/permissions';
import { openApiPath } from '../simulator/paths';

const spec = JSON.parse(fs.readFileSync(openApiPath(), 'utf8')) as { paths: Record<string, Record<string, { 'x-immich-permission'?: string }>> };

test.each(Object.entries(ENDPOINT_PERMISSIONS))('%s needs %s per the spec', (route, permission) => {
  const [method, template] = route.split(' ');
  const operation = spec.paths[template]?.[method.toLowerCase()];
  expect(operation).toBeDefined();
  expect(operation!['x-immich-permission'] ?? null).toBe(permission);
});

test('the permission list for the README covers every endpoint the client uses', () => {
  expect(REQUIRED_API_KEY_PERMISSIONS).toEqual(['album.read', 'asset.edit.get', 'asset.read', 'face.read', 'person.read', 'tag.read', 'user.read']);
  expect(permissionFor('GET', '/assets/8d2d9b99-1190-4e59-ae99-27a68c8cba35')).toBe('asset.read');
  expect(permissionFor('GET', '/server/ping')).toBeNull();
});
