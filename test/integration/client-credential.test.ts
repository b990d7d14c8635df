/**
 * The immichApi credential: its declarative test request and its authenticate header, resolved with
 * n8n's own expression engine and sent to the simulator, for every URL form and for wrong URL/key.
 */
import axios from 'axios';
import { Workflow, type ICredentialDataDecryptedObject, type INodeType, type INodeTypes, type NodeParameterValueType } from 'n8n-workflow';
import { ImmichApi } from '../../credentials/ImmichApi.credentials';
import { ImmichGetAssetDetails } from '../../nodes/ImmichGetAssetDetails/ImmichGetAssetDetails.node';
import { tempDir } from '../simulator/testClient';
import { createSampleLibrary, startSimulator, type Simulator } from '../simulator';

const credentialType = new ImmichApi();
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ library: createSampleLibrary({ photoDir: tempDir('credential-'), copyFiles: false }).library });
});
afterAll(async () => {
  expect(sim.violations()).toEqual([]);
  await sim.close();
});

function expressionResolver(credentials: ICredentialDataDecryptedObject) {
  const nodeType: INodeType = new ImmichGetAssetDetails();
  const nodeTypes: INodeTypes = { getByName: () => nodeType, getByNameAndVersion: () => nodeType, getKnownTypes: () => ({}) };
  const node = { id: 'c0ffee00-0000-4000-8000-000000000001', name: 'Test', type: 'x.immichGetAssetDetails', typeVersion: 1, position: [0, 0] as [number, number], parameters: {} };
  const workflow = new Workflow({ id: 'cred', nodes: [node], connections: {}, active: false, nodeTypes, settings: {} });
  return (value: unknown) => String(workflow.expression.getParameterValue(value as NodeParameterValueType, null, 0, 0, node.name, [], 'internal', { $credentials: credentials } as never));
}

/** What n8n does for "Test credential": resolve the request, authenticate it, send it, apply the rules. */
async function testCredential(credentials: ICredentialDataDecryptedObject): Promise<{ ok: boolean; message: string; status: number }> {
  const resolve = expressionResolver(credentials);
  const request = credentialType.test.request;
  const auth = credentialType.authenticate as { properties: { headers: Record<string, string> } };
  const headers = Object.fromEntries(Object.entries(auth.properties.headers).map(([k, v]) => [k, resolve(v)]));
  const response = await axios.request({ method: request.method ?? 'GET', baseURL: resolve(request.baseURL), url: request.url, headers, validateStatus: () => true });
  const rule = (credentialType.test.rules ?? []).find((r) => r.type === 'responseCode' && r.properties.value === response.status);
  if (rule) return { ok: false, message: rule.properties.message, status: response.status };
  return { ok: response.status < 300, message: response.status < 300 ? 'Connection tested successfully' : `HTTP ${response.status}`, status: response.status };
}

test.each(['', '/', '/api', '/api/', ' /api// '.trim()])('URL + "%s" passes the credential test', async (suffix) => {
  const result = await testCredential({ url: ` ${sim.url}${suffix} `, apiKey: sim.apiKey });
  expect(result).toEqual({ ok: true, message: 'Connection tested successfully', status: 200 });
});

test('a wrong key fails with advice about the key', async () => {
  const result = await testCredential({ url: sim.url, apiKey: 'not-the-key' });
  expect(result.ok).toBe(false);
  expect(result.message).toMatch(/rejected the API key/);
});

test('a wrong URL fails with advice about the URL', async () => {
  const result = await testCredential({ url: `${sim.url}/photos`, apiKey: sim.apiKey });
  expect(result.ok).toBe(false);
  expect(result.message).toMatch(/No Immich API at this URL/);
});

test('a key without user.read fails naming the permission', async () => {
  const limited = await startSimulator({ library: createSampleLibrary({ photoDir: tempDir('credential-'), copyFiles: false }).library, permissions: ['asset.read'] });
  try {
    const result = await testCredential({ url: limited.url, apiKey: limited.apiKey });
    expect(result.message).toMatch(/"user.read"/);
    expect(limited.violations()).toEqual([]);
  } finally {
    await limited.close();
  }
});

test('the key is sent as the x-api-key header only', async () => {
  const before = sim.requests('GET /users/me').length;
  await testCredential({ url: sim.url, apiKey: sim.apiKey });
  const recorded = sim.requests('GET /users/me').slice(before);
  expect(recorded).toHaveLength(1);
  expect(recorded[0].status).toBe(200);
  expect(JSON.stringify(recorded[0].query)).not.toContain(sim.apiKey);
});
