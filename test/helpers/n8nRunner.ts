/**
 * Runs one of our n8n nodes through real n8n code (n8n-core's WorkflowExecute on an n8n-workflow
 * Workflow), the way n8n's own node tests do, without a hand-made `this`.
 *
 *   const { items, error } = await runNode(ImmichSearchAssets, { returnAll: true }, [{ json: {} }], {
 *     credentials: { immichApi: { url: sim.url, apiKey: sim.apiKey } },
 *     continueOnFail: false,
 *   });
 *
 * - The node is the workflow's only node; `inputItems` are handed to it as if a previous node sent them.
 * - Credentials are given per credential type name; `authenticate` of the credential class (generic
 *   header/qs expressions like `={{$credentials.apiKey}}`, or a function) is applied by the helper here,
 *   resolving expressions with n8n's own expression engine. Register credential classes with
 *   `credentialTypes` (ImmichApi is registered by default).
 * - `items` are the node's first output; `outputs` all outputs; `error` the node error when it threw
 *   (then items is empty); `staticData` the workflow static data after the run, keyed like n8n keeps
 *   it (`global`, `node:<node name>`), as plain JSON; pass it back as `staticData` to start the next
 *   run from that state.
 * - `loadNodeOptions(nodeClass, 'getAlbums', { credentials })` runs a dropdown loader in n8n's
 *   LoadOptionsContext.
 */
import { ExecutionLifecycleHooks, LoadOptionsContext, WorkflowExecute } from 'n8n-core';
import {
  createRunExecutionData,
  ICredentialsHelper,
  Workflow,
  type ICredentialDataDecryptedObject,
  type ICredentialType,
  type IDataObject,
  type IHttpRequestOptions,
  type INode,
  type INodeCredentialsDetails,
  type INodeExecutionData,
  type INodePropertyOptions,
  type INodeType,
  type INodeTypes,
  type IRun,
  type IWorkflowExecuteAdditionalData,
  type IVersionedNodeType,
  type NodeParameterValueType,
} from 'n8n-workflow';
import { createRequire } from 'module';
import { ImmichApi } from '../../credentials/ImmichApi.credentials';

/** The SecurityConfig instance n8n-core's file checks read (n8n-core has its own copies of @n8n/di and @n8n/config). */
function n8nSecurityConfig(): { restrictFileAccessTo: string } {
  const fromCore = createRequire(require.resolve('n8n-core'));
  const { Container } = fromCore('@n8n/di') as { Container: { get(type: unknown): unknown } };
  const { SecurityConfig } = fromCore('@n8n/config') as { SecurityConfig: unknown };
  return Container.get(SecurityConfig) as { restrictFileAccessTo: string };
}

export const PACKAGE_NAME = 'n8n-nodes-immich-metadata-sync';

export interface RunNodeOptions {
  credentials?: Record<string, ICredentialDataDecryptedObject>;
  credentialTypes?: ICredentialType[];
  continueOnFail?: boolean;
  /** Workflow static data to start with, keyed like n8n (`{ global: {...}, 'node:Name': {...} }`). */
  staticData?: IDataObject;
  /** Node name in the workflow (error messages and pairedItem use it). */
  nodeName?: string;
  mode?: 'manual' | 'trigger';
  /** The node's On Error setting; default from continueOnFail ("continueRegularOutput" or "stopWorkflow"). */
  onError?: INode['onError'];
  /**
   * n8n's N8N_RESTRICT_FILE_ACCESS_TO for this run (folders separated by ";"). Default "": no restriction,
   * so tests writing into temp folders need not list them; n8n 2.x itself defaults to ~/.n8n-files.
   */
  restrictFileAccessTo?: string;
}

export interface RunNodeResult {
  items: INodeExecutionData[];
  outputs: INodeExecutionData[][];
  error: (Error & { description?: string | null }) | null;
  staticData: IDataObject;
  run: IRun;
}

type NodeClass = new () => INodeType;

class SingleNodeTypes implements INodeTypes {
  constructor(private readonly types: Record<string, INodeType>) {}
  getByName(name: string): INodeType | IVersionedNodeType {
    return this.require(name);
  }
  getByNameAndVersion(name: string): INodeType {
    return this.require(name);
  }
  getKnownTypes() {
    return {};
  }
  private require(name: string): INodeType {
    const type = this.types[name];
    if (!type) throw new Error(`runNode: unknown node type ${name}`);
    return type;
  }
}

/** Applies a credential's `authenticate` the way n8n's CredentialsHelper does. */
class TestCredentialsHelper extends ICredentialsHelper {
  constructor(
    private readonly credentials: Record<string, ICredentialDataDecryptedObject>,
    private readonly types: ICredentialType[],
  ) {
    super();
  }

  getParentTypes(): string[] {
    return [];
  }

  isCredentialUsableByNode(): boolean {
    return true;
  }

  async runPreAuthentication(): Promise<undefined> {
    return undefined;
  }

  async authenticate(credentials: ICredentialDataDecryptedObject, typeName: string, requestOptions: IHttpRequestOptions, workflow?: Workflow, node?: INode): Promise<IHttpRequestOptions> {
    if (!workflow || !node) throw new Error('runNode: authenticate needs the workflow and node');
    const type = this.types.find((t) => t.name === typeName);
    const authenticate = type?.authenticate;
    if (!authenticate) return requestOptions;
    if (typeof authenticate === 'function') return authenticate(credentials, requestOptions);
    const resolve = (value: unknown) =>
      workflow.expression.getParameterValue(value as NodeParameterValueType, null, 0, 0, node.name, [], 'internal', { $credentials: credentials } as never) as string;
    const result: IHttpRequestOptions = { ...requestOptions };
    for (const [section, values] of Object.entries(authenticate.properties) as Array<['headers' | 'qs' | 'body' | 'auth', Record<string, unknown>]>) {
      const resolved = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, resolve(v)]));
      (result as unknown as Record<string, unknown>)[section] = { ...((result as unknown as Record<string, IDataObject>)[section] ?? {}), ...resolved };
    }
    return result;
  }

  async preAuthentication(): Promise<undefined> {
    return undefined;
  }

  async getCredentials(): Promise<never> {
    throw new Error('runNode: encrypted credentials are not used in tests');
  }

  async getDecrypted(_additionalData: IWorkflowExecuteAdditionalData, _node: INodeCredentialsDetails, type: string): Promise<ICredentialDataDecryptedObject> {
    const found = this.credentials[type];
    if (!found) throw new Error(`runNode: no credentials of type ${type} were given`);
    return { ...found };
  }

  async updateCredentials(): Promise<void> {}

  async updateCredentialsOauthTokenData(): Promise<void> {}

  getCredentialsProperties() {
    return [];
  }
}

interface Harness {
  nodeType: INodeType;
  node: INode;
  workflow: Workflow;
  additionalData: IWorkflowExecuteAdditionalData;
  hooks: ExecutionLifecycleHooks;
  mode: 'manual' | 'trigger';
}

/** The workflow with our node as its only node, and the execution context n8n would give it. */
function buildHarness(nodeClass: NodeClass, parameters: INode['parameters'], options: RunNodeOptions): Harness {
  const nodeType = new nodeClass();
  const typeName = `${PACKAGE_NAME}.${nodeType.description.name}`;
  const nodeName = options.nodeName ?? nodeType.description.defaults.name ?? 'Node';
  const credentialRefs: INode['credentials'] = {};
  for (const credential of nodeType.description.credentials ?? []) {
    if (options.credentials?.[credential.name]) credentialRefs[credential.name] = { id: `test-${credential.name}`, name: credential.name };
  }
  const node: INode = {
    id: 'a3c5e7f9-0000-4000-8000-000000000001',
    name: nodeName,
    type: typeName,
    typeVersion: Array.isArray(nodeType.description.version) ? Math.max(...nodeType.description.version) : nodeType.description.version,
    position: [0, 0],
    parameters,
    credentials: credentialRefs,
    continueOnFail: options.continueOnFail === true,
    onError: options.onError ?? (options.continueOnFail ? 'continueRegularOutput' : 'stopWorkflow'),
  };
  const workflow = new Workflow({
    id: 'runNode',
    name: 'runNode',
    nodes: [node],
    connections: {},
    active: false,
    nodeTypes: new SingleNodeTypes({ [typeName]: nodeType }),
    staticData: options.staticData ? structuredClone(options.staticData) : {},
    settings: {},
  });

  const mode = options.mode ?? 'manual';
  const hooks = new ExecutionLifecycleHooks(mode, 'run-1', { id: 'runNode', name: 'runNode', nodes: [node], connections: {}, active: false, settings: {} } as never);
  const additionalData = {
    executionId: 'run-1',
    hooks,
    credentialsHelper: new TestCredentialsHelper(options.credentials ?? {}, options.credentialTypes ?? [new ImmichApi()]),
    restApiUrl: 'http://localhost/rest',
    instanceBaseUrl: 'http://localhost/',
    formWaitingBaseUrl: 'http://localhost/form-waiting',
    webhookBaseUrl: 'http://localhost/webhook',
    webhookWaitingBaseUrl: 'http://localhost/webhook-waiting',
    webhookTestBaseUrl: 'http://localhost/webhook-test',
    currentNodeParameters: undefined,
    executionTimeoutTimestamp: undefined,
    userId: 'test-user',
    variables: {},
    logAiEvent: async () => undefined,
    startRunnerTask: async () => {
      throw new Error('runNode: code runner tasks are not available');
    },
  } as unknown as IWorkflowExecuteAdditionalData;
  return { nodeType, node, workflow, additionalData, hooks, mode };
}

/**
 * Calls one of the node's `methods.loadOptions` (dropdown lists) in n8n's LoadOptionsContext,
 * e.g. `await loadNodeOptions(ImmichSearchAssets, 'getAlbums', { credentials })`.
 */
export async function loadNodeOptions(nodeClass: NodeClass, method: string, options: RunNodeOptions & { parameters?: INode['parameters'] } = {}): Promise<INodePropertyOptions[]> {
  const { nodeType, node, workflow, additionalData } = buildHarness(nodeClass, options.parameters ?? {}, options);
  const loader = nodeType.methods?.loadOptions?.[method];
  if (!loader) throw new Error(`runNode: ${nodeType.description.name} has no loadOptions method ${method}`);
  const context = new LoadOptionsContext(workflow, node, additionalData, `parameters.${method}`);
  return loader.call(context);
}

export async function runNode(nodeClass: NodeClass, parameters: INode['parameters'], inputItems: INodeExecutionData[] = [{ json: {} }], options: RunNodeOptions = {}): Promise<RunNodeResult> {
  const { node, workflow, additionalData, hooks, mode } = buildHarness(nodeClass, parameters, options);
  n8nSecurityConfig().restrictFileAccessTo = options.restrictFileAccessTo ?? '';
  const nodeName = node.name;
  const done = new Promise<IRun>((resolve) => hooks.addHandler('workflowExecuteAfter', (run) => resolve(run)));

  const runData = createRunExecutionData({
    executionData: {
      nodeExecutionStack: [{ node, data: { main: [inputItems] }, source: null }],
    },
  });
  const execute = new WorkflowExecute(additionalData, mode, runData);
  await execute.processRunExecutionData(workflow);
  const run = await done;

  const task = run.data.resultData.runData[nodeName]?.[0];
  const outputs = (task?.data?.main ?? []).map((out) => out ?? []);
  const error = (task?.error ?? run.data.resultData.error ?? null) as RunNodeResult['error'];
  return { items: outputs[0] ?? [], outputs, error, staticData: JSON.parse(JSON.stringify(workflow.staticData)) as IDataObject, run };
}
