/**
 * The built package as n8n sees it: every path in package.json's "n8n" section is loaded like n8n
 * does (require, the exported class named after the file, instantiate) and then through n8n-core's
 * own PackageDirectoryLoader. Needs `npm run build` first (npm test does it); a stale build fails.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PackageDirectoryLoader } from 'n8n-core';
import type { ICredentialType, INodeType } from 'n8n-workflow';

const root = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  name: string;
  n8n: { nodes: string[]; credentials: string[]; n8nNodesApiVersion: number };
};

/** dist/nodes/X/X.node.js → nodes/X/X.node.ts */
function sourceOf(distFile: string): string {
  return path.join(root, distFile.replace(/^dist\//, '').replace(/\.js$/, '.ts'));
}

function className(distFile: string): string {
  return path.basename(distFile).replace(/\.(node|credentials)\.js$/, '');
}

function loadClass<T>(distFile: string): T {
  const file = path.join(root, distFile);
  expect(fs.existsSync(file)).toBe(true);
  const source = sourceOf(distFile);
  if (fs.existsSync(source) && fs.statSync(source).mtimeMs > fs.statSync(file).mtimeMs) {
    throw new Error(`${distFile} is older than ${path.relative(root, source)}: run npm run build`);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const exported = require(file) as Record<string, new () => T>;
  const Class = exported[className(distFile)];
  if (typeof Class !== 'function') throw new Error(`${distFile} does not export a class named ${className(distFile)}`);
  return new Class();
}

function iconFiles(icon: unknown, distFile: string): string[] {
  const values = typeof icon === 'string' ? [icon] : icon && typeof icon === 'object' ? Object.values(icon as Record<string, string>) : [];
  return values.map((value) => {
    expect(value).toMatch(/^file:/);
    return path.join(root, path.dirname(distFile), value.replace(/^file:/, ''));
  });
}

describe('package.json n8n section', () => {
  test('lists the four nodes and the credential', () => {
    expect(pkg.n8n.n8nNodesApiVersion).toBe(1);
    expect(pkg.n8n.nodes.map(className).sort()).toEqual(['ImmichBuildMetadataTags', 'ImmichGetAssetDetails', 'ImmichSearchAssets', 'ImmichWriteMetadata']);
    expect(pkg.n8n.credentials.map(className)).toEqual(['ImmichApi']);
  });

  const credentialNames = new Set<string>();

  test.each(pkg.n8n.credentials)('credential %s loads, has its fields, an icon, authenticate and a test', (distFile) => {
    const credential = loadClass<ICredentialType>(distFile);
    expect(credential.name).toBe('immichApi');
    credentialNames.add(credential.name);
    expect(credential.properties.map((p) => p.name).sort()).toEqual(['apiKey', 'url']);
    expect(credential.properties.find((p) => p.name === 'apiKey')?.typeOptions?.password).toBe(true);
    expect(credential.authenticate).toBeDefined();
    expect(credential.test?.request.url).toBeTruthy();
    for (const file of iconFiles(credential.icon, distFile)) expect(fs.existsSync(file)).toBe(true);
  });

  test.each(pkg.n8n.nodes)('node %s loads with its description, credential, icons and codex', (distFile) => {
    const node = loadClass<INodeType>(distFile);
    const description = node.description;
    const expectedName = className(distFile).charAt(0).toLowerCase() + className(distFile).slice(1);
    expect(description.name).toBe(expectedName);
    expect(description.displayName).toMatch(/^Immich /);
    expect(description.properties.length).toBeGreaterThan(0);
    expect(typeof node.execute).toBe('function');
    for (const credential of description.credentials ?? []) expect(credential.name).toBe('immichApi');
    const icons = iconFiles(description.icon, distFile);
    expect(icons.length).toBeGreaterThan(0);
    for (const file of icons) expect(fs.existsSync(file)).toBe(true);
    const codexFile = path.join(root, distFile.replace(/\.js$/, '.json'));
    expect(fs.existsSync(codexFile)).toBe(true);
    expect(JSON.parse(fs.readFileSync(codexFile, 'utf8')).node).toBe(`${pkg.name}.${description.name}`);
  });
});

test("n8n-core's PackageDirectoryLoader loads the whole package", async () => {
  const loader = new PackageDirectoryLoader(root);
  await loader.loadAll();
  expect(Object.keys(loader.known.nodes).sort()).toEqual(['immichBuildMetadataTags', 'immichGetAssetDetails', 'immichSearchAssets', 'immichWriteMetadata']);
  expect(Object.keys(loader.known.credentials)).toEqual(['immichApi']);
  for (const description of loader.types.nodes) {
    expect(description.iconUrl).toEqual({ light: expect.stringMatching(/\.svg$/), dark: expect.stringMatching(/\.dark\.svg$/) });
    expect(description.codex?.categories?.length).toBeGreaterThan(0);
  }
});

/** Which modules of a package a fresh Node process loads when it requires the given built files. */
function packagesLoadedBy(files: string[], packageName: string): string[] {
  const script = [
    'for (const f of JSON.parse(process.argv[1])) require(f);',
    `const marker = ${JSON.stringify(`${path.sep}node_modules${path.sep}${packageName}${path.sep}`)};`,
    'process.stdout.write(JSON.stringify(Object.keys(require.cache).filter((k) => k.includes(marker))));',
  ].join('\n');
  const out = execFileSync(process.execPath, ['-e', script, JSON.stringify(files.map((f) => path.join(root, f)))], { encoding: 'utf8' });
  return JSON.parse(out) as string[];
}

test('nothing n8n loads pulls in axios (inside n8n every request goes through n8n\'s request helper)', () => {
  expect(packagesLoadedBy([...pkg.n8n.nodes, ...pkg.n8n.credentials], 'axios')).toEqual([]);
  // the same probe does see axios where it is used: the command line's transport
  expect(packagesLoadedBy(['dist/cli/axiosTransport.js'], 'axios').length).toBeGreaterThan(0);
});

/** Every string a user reads in the editor: display names, descriptions, hints, option names, subtitles. */
function uiStrings(value: unknown, key = ''): string[] {
  if (typeof value === 'string') return ['displayName', 'description', 'hint', 'name', 'placeholder', 'subtitle', 'action'].includes(key) ? [value] : [];
  if (Array.isArray(value)) return value.flatMap((entry) => uiStrings(entry, key));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => uiStrings(v, k));
  return [];
}

test('the UI copy speaks to users: no "seed", American spelling as in n8n\'s own UI', () => {
  const texts = [
    ...pkg.n8n.nodes.flatMap((file) => uiStrings(loadClass<INodeType>(file).description)),
    ...pkg.n8n.credentials.flatMap((file) => uiStrings(loadClass<ICredentialType>(file))),
  ];
  expect(texts.length).toBeGreaterThan(100);
  expect(texts.filter((text) => /\bseed\b|favourite|colour|behaviour|licence|organis|recognis|cancelled/i.test(text))).toEqual([]);
});
