import { apiRootCandidates, joinUrl, normalizeBaseUrl } from '../../lib/immich/url';
import { parseRetryAfter } from '../../lib/immich/transport';
import { routeKey } from '../../lib/immich/permissions';

describe('Immich URL forms', () => {
  test.each([
    ['https://photos.example.com', ['https://photos.example.com/api', 'https://photos.example.com']],
    ['https://photos.example.com/', ['https://photos.example.com/api', 'https://photos.example.com']],
    ['https://photos.example.com/api', ['https://photos.example.com/api', 'https://photos.example.com']],
    ['https://photos.example.com/api/', ['https://photos.example.com/api', 'https://photos.example.com']],
    ['  http://nas.local:2283//  ', ['http://nas.local:2283/api', 'http://nas.local:2283']],
    ['https://example.com/immich/', ['https://example.com/immich/api', 'https://example.com/immich']],
    ['https://example.com/immich/API?x=1#frag', ['https://example.com/immich/API', 'https://example.com/immich']],
  ])('%s → %j', (input, expected) => {
    expect(apiRootCandidates(input)).toEqual(expected);
  });

  test.each([
    ['', /empty/],
    ['photos.example.com', /not a valid URL/],
    ['ftp://photos.example.com', /must start with http/],
  ])('rejects %j', (input, message) => {
    expect(() => normalizeBaseUrl(input)).toThrow(message);
  });

  test('joinUrl does not double or drop slashes', () => {
    expect(joinUrl('https://h/api/', '/server/ping')).toBe('https://h/api/server/ping');
    expect(joinUrl('https://h/api', 'server/ping')).toBe('https://h/api/server/ping');
  });
});

describe('Retry-After', () => {
  test('seconds and HTTP dates', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('0.5', now)).toBe(500);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
  });
});

test('routeKey templates UUID segments only', () => {
  expect(routeKey('get', '/assets/8d2d9b99-1190-4e59-ae99-27a68c8cba35?x=1')).toBe('GET /assets/{id}');
  expect(routeKey('GET', '/assets/statistics')).toBe('GET /assets/statistics');
});
