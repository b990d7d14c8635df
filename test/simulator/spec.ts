/**
 * Validates simulator traffic against Immich's OpenAPI spec (v3.1, or v3.2 derived from it: spec-v3.2.ts) with ajv. Both directions are
 * checked: a request our client sends that the spec does not allow, and a response the simulator
 * produces that the spec does not describe, are both recorded as violations.
 */
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import * as fs from 'node:fs';
import { openApiPath } from './paths';
import { deriveV32Spec } from './spec-v3.2';

type Json = Record<string, unknown>;

interface ParameterSpec {
  name: string;
  in: 'query' | 'path' | 'header';
  required?: boolean;
  schema: Json;
}

export interface OperationSpec {
  method: string;
  template: string; // e.g. /assets/{id}
  routeKey: string; // e.g. GET /assets/{id}
  permission: string | null;
  secured: boolean;
  parameters: ParameterSpec[];
  bodyRequired: boolean;
  bodyProperties: string[] | null;
  validateBody: (() => ValidateFunction) | null;
  validateResponse: Map<number, () => ValidateFunction>;
  validateParam: Map<string, () => ValidateFunction>;
  matcher: RegExp;
  pathParamNames: string[];
}

export interface MatchedOperation {
  operation: OperationSpec;
  pathParams: Record<string, string>;
}

/** OpenAPI 3.0 `nullable` → JSON Schema, so ajv understands it whether or not `type` is present. */
function convertNullable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(convertNullable);
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node as Json)) out[key] = convertNullable(value);
  // OpenAPI 3.0 booleans exclusiveMinimum/Maximum → JSON Schema numbers
  for (const [flag, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']] as const) {
    if (typeof out[flag] === 'boolean') {
      if (out[flag] === true && typeof out[bound] === 'number') {
        out[flag] = out[bound];
        delete out[bound];
      } else delete out[flag];
    }
  }
  if (out.nullable === true) {
    delete out.nullable;
    if (typeof out.type === 'string' && !out.$ref && !out.allOf) {
      out.type = [out.type, 'null'];
      if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
      return out;
    }
    return { anyOf: [out, { type: 'null' }] };
  }
  return out;
}

export class SpecValidator {
  private readonly operations: OperationSpec[] = [];
  private readonly ajv: Ajv;

  /** `source`: the path of an openapi.json, or a parsed spec. */
  constructor(source: string | Json = openApiPath()) {
    const raw = typeof source === 'string' ? (JSON.parse(fs.readFileSync(source, 'utf8')) as Json) : source;
    const spec = convertNullable(raw) as Json;
    // allErrors off: the first problem is enough to fail a test, and 1000-asset pages validate faster
    this.ajv = new Ajv({ strict: false, allErrors: false, validateFormats: true });
    addFormats(this.ajv);
    this.ajv.addSchema({ $id: 'immich', components: spec.components }, 'immich');
    const paths = spec.paths as Record<string, Record<string, Json>>;
    for (const [template, methods] of Object.entries(paths)) {
      for (const [method, op] of Object.entries(methods)) {
        if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
        this.operations.push(this.buildOperation(method.toUpperCase(), template, op));
      }
    }
    // literal segments must win over {param} segments (e.g. /assets/statistics vs /assets/{id})
    this.operations.sort((a, b) => a.pathParamNames.length - b.pathParamNames.length);
  }

  /** Compiled on first use: compiling all ~300 operations up front would cost seconds per test file. */
  private compile(schema: unknown): () => ValidateFunction {
    let compiled: ValidateFunction | null = null;
    return () => (compiled ??= this.ajv.compile(rewriteRefs(schema) as Json));
  }

  private buildOperation(method: string, template: string, op: Json): OperationSpec {
    const parameters = ((op.parameters as ParameterSpec[]) ?? []).map((p) => ({ ...p }));
    const pathParamNames: string[] = [];
    const pattern = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([^}]+)\}/g, (_m, name: string) => {
      pathParamNames.push(name);
      return '([^/]+)';
    });
    const body = (op.requestBody as Json | undefined)?.content as Record<string, { schema: Json }> | undefined;
    const bodySchema = body?.['application/json']?.schema;
    const validateResponse = new Map<number, () => ValidateFunction>();
    for (const [status, response] of Object.entries((op.responses as Record<string, Json>) ?? {})) {
      const schema = (response.content as Record<string, { schema: Json }> | undefined)?.['application/json']?.schema;
      if (schema) validateResponse.set(Number(status), this.compile(schema));
    }
    const validateParam = new Map<string, () => ValidateFunction>();
    for (const p of parameters) validateParam.set(`${p.in}:${p.name}`, this.compile(p.schema ?? {}));
    const security = op.security as unknown[] | undefined;
    return {
      method,
      template,
      routeKey: `${method} ${template}`,
      permission: (op['x-immich-permission'] as string | undefined) ?? null,
      secured: Array.isArray(security) && security.length > 0,
      parameters,
      bodyRequired: (op.requestBody as Json | undefined)?.required === true,
      bodyProperties: bodySchema ? this.topLevelProperties(bodySchema) : null,
      validateBody: bodySchema ? this.compile(bodySchema) : null,
      validateResponse,
      validateParam,
      matcher: new RegExp(`^${pattern}$`),
      pathParamNames,
    };
  }

  private topLevelProperties(schema: Json): string[] | null {
    const ref = schema.$ref as string | undefined;
    const resolved = ref ? (this.ajv.getSchema(`immich${ref}`)?.schema as Json | undefined) : schema;
    const props = resolved?.properties as Json | undefined;
    return props ? Object.keys(props) : null;
  }

  match(method: string, path: string): MatchedOperation | null {
    for (const operation of this.operations) {
      if (operation.method !== method) continue;
      const m = operation.matcher.exec(path);
      if (!m) continue;
      const pathParams: Record<string, string> = {};
      operation.pathParamNames.forEach((name, i) => (pathParams[name] = decodeURIComponent(m[i + 1])));
      return { operation, pathParams };
    }
    return null;
  }

  operation(routeKey: string): OperationSpec | undefined {
    return this.operations.find((op) => op.routeKey === routeKey);
  }

  /** Problems with a request (empty when it conforms). Query values arrive as strings and are coerced per schema. */
  checkRequest(matched: MatchedOperation, query: URLSearchParams, body: unknown, hasBody: boolean): string[] {
    const { operation, pathParams } = matched;
    const problems: string[] = [];
    const known = new Set(operation.parameters.filter((p) => p.in === 'query').map((p) => p.name));
    for (const name of new Set(query.keys())) if (!known.has(name)) problems.push(`unknown query parameter "${name}"`);
    for (const p of operation.parameters) {
      if (p.in === 'header') continue;
      const rawValue = p.in === 'path' ? pathParams[p.name] : query.get(p.name);
      if (rawValue === undefined || rawValue === null) {
        if (p.required) problems.push(`missing required ${p.in} parameter "${p.name}"`);
        continue;
      }
      const value = coerce(rawValue, p.schema);
      const validate = operation.validateParam.get(`${p.in}:${p.name}`)!();
      if (!validate(value)) problems.push(`${p.in} parameter "${p.name}"=${JSON.stringify(rawValue)}: ${this.ajv.errorsText(validate.errors)}`);
    }
    if (operation.validateBody) {
      if (!hasBody) {
        if (operation.bodyRequired) problems.push('missing required JSON body');
      } else {
        const validateBody = operation.validateBody();
        if (!validateBody(body)) problems.push(`body: ${this.ajv.errorsText(validateBody.errors, { dataVar: 'body' })}`);
        if (operation.bodyProperties && body && typeof body === 'object' && !Array.isArray(body)) {
          for (const key of Object.keys(body)) if (!operation.bodyProperties.includes(key)) problems.push(`body has unknown property "${key}"`);
        }
      }
    } else if (hasBody) {
      problems.push('body sent to an endpoint that takes none');
    }
    return problems;
  }

  /** Problems with a response body for a status the spec documents (empty when it conforms or is undocumented). */
  checkResponse(operation: OperationSpec, status: number, body: unknown): string[] {
    const validate = operation.validateResponse.get(status)?.();
    if (!validate) return status < 300 ? [`status ${status} is not documented for ${operation.routeKey}`] : [];
    return validate(body) ? [] : [`response ${status}: ${this.ajv.errorsText(validate.errors, { dataVar: 'response' })}`];
  }
}

function rewriteRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node as Json)) {
    out[key] = key === '$ref' && typeof value === 'string' && value.startsWith('#/') ? `immich${value}` : rewriteRefs(value);
  }
  return out;
}

function coerce(value: string, schema: Json): unknown {
  const type = Array.isArray(schema?.type) ? (schema.type as string[])[0] : (schema?.type as string | undefined);
  if (type === 'integer' || type === 'number') return value.trim() !== '' && !Number.isNaN(Number(value)) ? Number(value) : value;
  if (type === 'boolean') return value === 'true' ? true : value === 'false' ? false : value;
  return value;
}

/** The API versions the simulator speaks: v3.1 from shared/immich/openapi.json, v3.2 derived from it (spec-v3.2.ts). */
export type ApiVersion = '3.1' | '3.2';

const shared = new Map<ApiVersion, SpecValidator>();
/** Compiling the spec takes a moment; simulators of one API version in one process share one validator. */
export function sharedSpecValidator(api: ApiVersion = '3.1'): SpecValidator {
  let validator = shared.get(api);
  if (!validator) {
    const v31 = JSON.parse(fs.readFileSync(openApiPath(), 'utf8')) as Json;
    validator = new SpecValidator(api === '3.2' ? deriveV32Spec(v31) : v31);
    shared.set(api, validator);
  }
  return validator;
}
