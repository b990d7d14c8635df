/**
 * A small Immich v3.1 (or v3.2, or v2-shaped) API server for tests, the demo and benchmarks. Every request
 * and every response is checked against the OpenAPI spec; problems are kept as violations that
 * tests assert to be empty. Listens on 127.0.0.1 only.
 */
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { albumDto, assetDetailDto, faceDto, personDto, searchItemDto, tagDto, userAdminDto, type ServerMode } from './dto';
import { assetEditsDto } from './edits';
import { FaultQueue, type FaultSpec, type InjectedFault } from './faults';
import { SearchCache, searchPage, SearchProblem } from './search';
import { cursorFor, readSearchRequest } from './search-v3.2';
import { parseSearchBehaviour, type SearchBehaviour } from './search-behaviour';
import type { SimLibrary } from './library';
import { sharedSpecValidator, type ApiVersion, type MatchedOperation, type SpecValidator } from './spec';

export interface SimulatorOptions {
  library: SimLibrary;
  apiKey?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** "v3" (default): faces from GET /faces. "v2": faces nested in GET /assets/{id}, version 2.x. */
  mode?: ServerMode;
  /**
   * The v3 API version (mode v3 only): "3.1" (default) or "3.2" (spec-v3.2.ts: the search's filter/cursor/orderBy
   * shape and nextCursor, person: null for faces of a shared face cluster). Default: env IMMICH_SIM_API, else 3.1.
   */
  api?: ApiVersion;
  /** Where the API is served: under /api (default, like Immich), at the root, or both. */
  mount?: 'api' | 'root' | 'both';
  /** Answer 500 instead of a response that breaks the spec (the violation is recorded either way). */
  strict?: boolean;
  /** The API key's permissions; default: all. Requests needing another permission get 403. */
  permissions?: string[] | 'all';
  /** How many requests to keep in the log (counts are always complete). */
  logLimit?: number;
  /** Paging and ordering behaviours of POST /search/metadata (default: Immich's own). */
  search?: SearchBehaviour;
}

export interface Violation {
  route: string;
  direction: 'request' | 'response';
  problems: string[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  route: string;
  query: Record<string, string>;
  body: unknown;
  status: number;
}

export interface Simulator {
  /** Server root, e.g. http://127.0.0.1:41234 (the API is at apiUrl). */
  readonly url: string;
  readonly apiUrl: string;
  readonly apiKey: string;
  readonly port: number;
  readonly library: SimLibrary;
  mode: ServerMode;
  readonly api: ApiVersion;
  violations(): Violation[];
  injected(): InjectedFault[];
  requests(route?: string): RecordedRequest[];
  requestCount(route?: string): number;
  requestCounts(): Record<string, number>;
  resetRequests(): void;
  inject(fault: FaultSpec): void;
  clearFaults(): void;
  /** Replaces the search behaviour (all of it) and restarts its request count. */
  setSearchBehaviour(behaviour: SearchBehaviour): void;
  searchBehaviour(): SearchBehaviour;
  close(): Promise<void>;
}

/** The cluster group of the library's owner in v3.2 (GET /users/me). */
const CLUSTER_GROUP_ID = '7c3e9a51-2b6d-4f80-9e1a-5d4c3b2a1f09';

/** IMMICH_SIM_API=3.2 runs every simulator that does not choose its version in v3.2 (default 3.1). */
export function apiVersionFromEnv(env: NodeJS.ProcessEnv = process.env): ApiVersion {
  const value = (env.IMMICH_SIM_API ?? '').trim();
  if (value === '' || value === '3.1') return '3.1';
  if (value === '3.2') return '3.2';
  throw new Error(`IMMICH_SIM_API="${value}": the simulator speaks 3.1 or 3.2`);
}

export const DEFAULT_API_KEY = 'sim-api-key-5f7c1a9e0d2b4c6e8a1f3b5d7e9c0a2b';

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 500: 'Internal Server Error', 501: 'Not Implemented', 503: 'Service Unavailable' };

export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const api = options.api ?? apiVersionFromEnv();
  const state = new SimulatorState({ ...options, api });
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    state.handle(req, res).catch((error: unknown) => {
      state.violations.push({ route: `${req.method} ${req.url}`, direction: 'response', problems: [`simulator crashed: ${(error as Error).stack ?? error}`] });
      sendJson(res, 500, errorBody(500, 'Internal server error'));
    });
  });
  server.keepAliveTimeout = 1000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const mount = options.mount ?? 'api';
  return {
    url,
    apiUrl: mount === 'root' ? url : `${url}/api`,
    apiKey: state.apiKey,
    port,
    library: options.library,
    api,
    get mode() {
      return state.mode;
    },
    set mode(value: ServerMode) {
      state.mode = value;
    },
    violations: () => [...state.violations],
    injected: () => state.faults.injected(),
    requests: (route) => state.log.filter((r) => !route || r.route === route),
    requestCount: (route) => (route ? state.counts.get(route) ?? 0 : [...state.counts.values()].reduce((a, b) => a + b, 0)),
    requestCounts: () => Object.fromEntries(state.counts),
    resetRequests: () => {
      state.counts.clear();
      state.log.length = 0;
    },
    inject: (fault) => state.faults.add(fault),
    clearFaults: () => state.faults.clear(),
    setSearchBehaviour: (behaviour) => state.setSearchBehaviour(behaviour),
    searchBehaviour: () => ({ ...state.searchBehaviour }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

class SimulatorState {
  readonly apiKey: string;
  mode: ServerMode;
  readonly violations: Violation[] = [];
  readonly counts = new Map<string, number>();
  readonly log: RecordedRequest[] = [];
  readonly faults = new FaultQueue();
  private readonly searchCache = new SearchCache();
  private readonly startedAt = new Date().toISOString();
  searchBehaviour: SearchBehaviour;
  /** POST /search/metadata requests since the behaviour was set (SearchPageInfo.requestIndex). */
  private searchRequests = 0;

  constructor(private readonly options: SimulatorOptions) {
    this.apiKey = options.apiKey ?? DEFAULT_API_KEY;
    this.mode = options.mode ?? 'v3';
    this.searchBehaviour = { ...options.search };
  }

  setSearchBehaviour(behaviour: SearchBehaviour): void {
    this.searchBehaviour = { ...behaviour };
    this.searchRequests = 0;
  }

  private get library(): SimLibrary {
    return this.options.library;
  }

  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const rawBody = await readBody(req);
    const parsedUrl = new URL(req.url ?? '/', 'http://simulator');
    const method = (req.method ?? 'GET').toUpperCase();
    const apiPath = this.apiPath(parsedUrl.pathname);
    if (apiPath === null) return sendJson(res, 404, errorBody(404, `Cannot ${method} ${parsedUrl.pathname}`));
    if (apiPath.startsWith('/__simulator/')) return this.handleControl(method, apiPath, rawBody, res);

    const matched = this.spec.match(method, apiPath);
    const route = matched?.operation.routeKey ?? `${method} ${apiPath}`;
    this.counts.set(route, (this.counts.get(route) ?? 0) + 1);
    const record: RecordedRequest = { method, path: apiPath, route, query: Object.fromEntries(parsedUrl.searchParams), body: undefined, status: 0 };
    this.remember(record);
    const respond = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      sendJson(res, status, body, headers);
    };

    if (!matched) {
      this.violations.push({ route, direction: 'request', problems: [`${method} ${apiPath} is not an endpoint of the Immich spec`] });
      return respond(404, errorBody(404, `Cannot ${method} ${apiPath}`));
    }
    let body: unknown;
    const hasBody = rawBody.length > 0;
    if (hasBody) {
      try {
        body = JSON.parse(rawBody);
      } catch {
        this.violations.push({ route, direction: 'request', problems: ['request body is not valid JSON'] });
        return respond(400, errorBody(400, 'Invalid JSON body'));
      }
    }
    record.body = body;

    const fault = this.faults.take(route);
    if (fault?.kind === 'delay') await sleep(fault.delayMs ?? 100);
    if (fault?.kind === 'reset') {
      record.status = -1;
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'status') {
      const status = fault.status ?? 500;
      const headers: Record<string, string> = fault.retryAfter !== undefined ? { 'Retry-After': String(fault.retryAfter) } : {};
      return respond(status, errorBody(status, faultMessage(status, matched)), headers);
    }
    if (fault?.kind === 'malformed-json') {
      record.status = 200;
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
      res.end('{"assets": {"items": [ {"id": ');
      return;
    }

    // authentication and authorization come before validation, as in Immich
    if (matched.operation.secured) {
      const key = req.headers['x-api-key'];
      if (key !== this.apiKey) return respond(401, errorBody(401, 'Invalid API key'));
      const permission = matched.operation.permission;
      const granted = this.options.permissions ?? 'all';
      if (permission && granted !== 'all' && !granted.includes(permission) && !granted.includes('all')) {
        return respond(403, errorBody(403, `Missing required permission: ${permission}`));
      }
    }

    const requestProblems = this.spec.checkRequest(matched, parsedUrl.searchParams, body, hasBody);
    if (requestProblems.length) {
      this.violations.push({ route, direction: 'request', problems: requestProblems });
      return respond(400, errorBody(400, requestProblems));
    }

    let status = 200;
    let payload: unknown;
    try {
      payload = this.dispatch(matched, parsedUrl.searchParams, body, fault?.kind === 'endless-pages');
    } catch (error) {
      if (error instanceof SearchProblem && (error.status === 501 || (error.status === 400 && Array.isArray(error.messages)))) {
        this.violations.push({ route, direction: 'request', problems: [error.message] });
      }
      if (error instanceof SearchProblem) return respond(error.status, errorBody(error.status, error.messages));
      if (error instanceof HttpProblem) return respond(error.status, errorBody(error.status, error.message));
      this.violations.push({ route, direction: 'response', problems: [`simulator crashed: ${(error as Error).stack ?? error}`] });
      return respond(500, errorBody(500, 'Internal server error'));
    }

    if (fault?.kind === 'schema-break') {
      payload = breakSchema(payload);
      if (this.spec.checkResponse(matched.operation, status, payload).length === 0) {
        this.violations.push({ route, direction: 'response', problems: ['schema-break fault produced a body that still matches the spec'] });
      }
      return respond(status, payload);
    }
    const responseProblems = this.spec.checkResponse(matched.operation, status, payload);
    if (responseProblems.length) {
      this.violations.push({ route, direction: 'response', problems: responseProblems });
      if (this.options.strict) {
        status = 500;
        payload = errorBody(500, 'simulator produced a response outside the spec');
      }
    }
    respond(status, payload);
  }

  private apiPath(pathname: string): string | null {
    const mount = this.options.mount ?? 'api';
    const underApi = pathname === '/api' || pathname.startsWith('/api/');
    if (underApi && mount !== 'root') return pathname.slice(4) || '/';
    if (!underApi && mount !== 'api') return pathname;
    return null;
  }

  private remember(record: RecordedRequest): void {
    this.log.push(record);
    const limit = this.options.logLimit ?? 5000;
    if (this.log.length > limit) this.log.splice(0, this.log.length - limit);
  }

  private dispatch(matched: MatchedOperation, query: URLSearchParams, body: unknown, endless: boolean): unknown {
    const { operation, pathParams } = matched;
    const lib = this.library;
    switch (operation.routeKey) {
      case 'GET /server/ping':
        return { res: 'pong' };
      case 'GET /server/version':
        if (this.mode === 'v2') return { major: 2, minor: 5, patch: 6, prerelease: null };
        return this.v32 ? { major: 3, minor: 2, patch: 2, prerelease: null } : { major: 3, minor: 1, patch: 0, prerelease: null };
      case 'GET /users/me':
        return { ...userAdminDto(lib.owner, this.startedAt), ...(this.v32 ? { clusterGroupId: CLUSTER_GROUP_ID } : {}) };
      case 'POST /search/metadata':
        return this.search(body as Record<string, unknown>, endless);
      case 'GET /assets/{id}': {
        const asset = lib.asset(pathParams.id);
        if (!asset) throw new HttpProblem(400, 'Not found or no asset.read access');
        return assetDetailDto(asset, lib, this.mode, this.startedAt, this.v32);
      }
      case 'GET /faces': {
        const asset = lib.asset(query.get('id') ?? '');
        if (!asset) throw new HttpProblem(400, 'Not found or no asset.read access');
        return asset.faces.map((face) => faceDto(face, lib, asset, this.v32));
      }
      case 'GET /assets/{id}/edits': {
        const asset = lib.asset(pathParams.id);
        if (!asset) throw new HttpProblem(400, 'Not found or no asset.read access');
        return assetEditsDto(asset.id, asset.edits ?? []);
      }
      case 'GET /albums': {
        let albums = [...lib.albums.values()];
        const assetId = query.get('assetId');
        if (assetId) albums = albums.filter((a) => a.assetIds.has(assetId));
        else {
          const name = query.get('name');
          if (name !== null) albums = albums.filter((a) => a.albumName === name);
          if (query.get('isShared') === 'true') albums = [];
        }
        return albums.map((album) => albumDto(album, lib, this.startedAt));
      }
      case 'GET /albums/{id}': {
        const album = lib.albums.get(pathParams.id);
        if (!album) throw new HttpProblem(400, 'Not found or no album.read access');
        return albumDto(album, lib, this.startedAt);
      }
      case 'GET /tags':
        return [...lib.tags.values()].map(tagDto);
      case 'GET /people': {
        const withHidden = query.get('withHidden') === 'true';
        const page = Number(query.get('page') ?? 1);
        const size = Number(query.get('size') ?? 500);
        const all = [...lib.people.values()].filter((p) => !(this.v32 && p.inSharedCluster));
        const visible = all.filter((p) => withHidden || !p.isHidden);
        const slice = visible.slice((page - 1) * size, page * size);
        return { people: slice.map(personDto), total: visible.length, hidden: all.filter((p) => p.isHidden).length, hasNextPage: page * size < visible.length };
      }
      default:
        this.violations.push({ route: operation.routeKey, direction: 'request', problems: [`the simulator does not implement ${operation.routeKey}`] });
        throw new HttpProblem(501, `simulator does not implement ${operation.routeKey}`);
    }
  }

  /** v3.2 (mode v3): shared face clusters, the search's filter/cursor/orderBy shape and nextCursor. */
  private get v32(): boolean {
    return this.mode === 'v3' && this.options.api === '3.2';
  }

  /** The spec of what the server speaks now (the mode may change): a v2-shaped server is checked against v3.1 as before. */
  private get spec(): SpecValidator {
    return sharedSpecValidator(this.v32 ? '3.2' : '3.1');
  }

  private search(body: Record<string, unknown>, endless: boolean): unknown {
    const request = this.v32 ? readSearchRequest(body) : { shape: 'flat' as const, flat: body, queryKey: null };
    const result = searchPage(this.library, request.flat, this.searchBehaviour, { mode: this.mode, requestIndex: this.searchRequests++, endless }, this.searchCache);
    const options = { withExif: body.withExif === true, withPeople: body.withPeople === true, sharedClusters: this.v32 };
    const items = result.items.map(({ asset }) => searchItemDto(asset, this.library, options));
    const paging =
      request.queryKey !== null
        ? { nextPage: null, nextCursor: result.nextPage === null ? null : cursorFor(Number(result.nextPage), request.queryKey) }
        : { nextPage: result.nextPage, ...(this.v32 ? { nextCursor: null } : {}) };
    return {
      albums: { total: 0, count: 0, items: [], facets: [] },
      assets: { total: items.length, count: items.length, items, facets: [], ...paging },
    };
  }

  /** Out-of-process control (the demo and e2e start the simulator as a separate process). */
  private handleControl(method: string, path: string, rawBody: string, res: http.ServerResponse): void {
    if (method === 'GET' && path === '/__simulator/state') {
      return sendJson(res, 200, { violations: this.violations, counts: Object.fromEntries(this.counts), injected: this.faults.injected() });
    }
    if (method === 'POST' && path === '/__simulator/search-behaviour') {
      try {
        this.setSearchBehaviour(parseSearchBehaviour(JSON.parse(rawBody)));
      } catch (error) {
        return sendJson(res, 400, errorBody(400, (error as Error).message));
      }
      return sendJson(res, 200, { ok: true, behaviour: this.searchBehaviour });
    }
    if (method === 'POST' && path === '/__simulator/fault') {
      this.faults.add(JSON.parse(rawBody) as FaultSpec);
      return sendJson(res, 200, { ok: true });
    }
    if (method === 'POST' && path === '/__simulator/mutate') {
      try {
        const { op, args } = JSON.parse(rawBody) as { op: string; args: unknown[] };
        const allowed = ['setRating', 'setDescription', 'setLocation', 'setFavorite', 'trashAsset', 'tagAsset', 'renamePerson', 'setPersonHidden', 'assignFace', 'addAssetToAlbum', 'removeAssetFromAlbum', 'renameAlbum', 'addAsset', 'deleteAsset', 'setFileCreatedAt', 'touchAsset', 'setTimelinePartners', 'setPersonInSharedCluster'];
        if (!allowed.includes(op)) return sendJson(res, 400, errorBody(400, `unknown mutation ${op}; one of ${allowed.join(', ')}`));
        const target = this.library as unknown as Record<string, (...a: unknown[]) => unknown>;
        const result = target[op](...(args ?? []));
        return sendJson(res, 200, { ok: true, result: result instanceof Object && 'assetIds' in result ? { ...result, assetIds: [...(result as { assetIds: Set<string> }).assetIds] } : result });
      } catch (error) {
        return sendJson(res, 400, errorBody(400, (error as Error).message));
      }
    }
    return sendJson(res, 404, errorBody(404, `unknown simulator control ${method} ${path}`));
  }
}

function faultMessage(status: number, matched: MatchedOperation): string {
  if (status === 401) return 'Invalid API key';
  if (status === 403) return `Missing required permission: ${matched.operation.permission ?? 'unknown'}`;
  if (status === 429) return 'Too many requests';
  return STATUS_TEXT[status] ?? 'Error';
}

function errorBody(status: number, message: string | string[]): Record<string, unknown> {
  return { message, error: STATUS_TEXT[status] ?? 'Error', statusCode: status, correlationId: Math.random().toString(36).slice(2, 10) };
}

/** Changes a valid body into one the spec rejects, keeping it JSON. */
function breakSchema(payload: unknown): unknown {
  if (Array.isArray(payload)) return [{ unexpected: 'shape' }];
  if (payload && typeof payload === 'object') {
    const copy = { ...(payload as Record<string, unknown>) };
    const firstKey = Object.keys(copy)[0];
    if (firstKey === 'albums' || 'assets' in copy) return { albums: copy.albums, assets: { items: 'not-a-list', nextPage: 7 } };
    for (const key of Object.keys(copy)) copy[key] = { broken: true };
    return copy;
  }
  return { broken: true };
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
