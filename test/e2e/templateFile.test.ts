/**
 * The template file as users import it: safe defaults, and every node type and parameter it sets
 * exists in this package's node descriptions (a renamed parameter would otherwise be dropped silently
 * by n8n on import, and the node would run with its default).
 */
import type { INodeTypeDescription } from 'n8n-workflow';
import { ImmichBuildMetadataTags } from '../../nodes/ImmichBuildMetadataTags/ImmichBuildMetadataTags.node';
import { ImmichGetAssetDetails } from '../../nodes/ImmichGetAssetDetails/ImmichGetAssetDetails.node';
import { ImmichSearchAssets } from '../../nodes/ImmichSearchAssets/ImmichSearchAssets.node';
import { ImmichWriteMetadata } from '../../nodes/ImmichWriteMetadata/ImmichWriteMetadata.node';
import { PACKAGE_NAME } from './n8nHarness';
import { loadTemplate, SEARCH_NODE, SUMMARY_NODE, WRITE_NODE } from './templateEnvironment';

const descriptions: INodeTypeDescription[] = [
  new ImmichSearchAssets().description,
  new ImmichGetAssetDetails().description,
  new ImmichBuildMetadataTags().description,
  new ImmichWriteMetadata().description,
];
const template = loadTemplate();
const ours = template.nodes.filter((node) => node.type.startsWith(`${PACKAGE_NAME}.`));

test('the template uses all four nodes of this package by their installed type names', () => {
  expect(ours.map((node) => node.type).sort()).toEqual(descriptions.map((d) => `${PACKAGE_NAME}.${d.name}`).sort());
  for (const node of ours) {
    const description = descriptions.find((d) => `${PACKAGE_NAME}.${d.name}` === node.type)!;
    const versions = Array.isArray(description.version) ? description.version : [description.version];
    expect(versions).toContain(node.typeVersion);
  }
});

test('every parameter the template sets exists on its node, with an allowed value for option lists', () => {
  for (const node of ours) {
    const description = descriptions.find((d) => `${PACKAGE_NAME}.${d.name}` === node.type)!;
    for (const [name, value] of Object.entries(node.parameters)) {
      const property = description.properties.find((p) => p.name === name);
      expect({ node: node.name, parameter: name, known: property !== undefined }).toEqual({ node: node.name, parameter: name, known: true });
      if (property?.type === 'options' && typeof value === 'string' && !value.startsWith('=')) {
        expect(property.options?.map((o) => (o as { value: unknown }).value)).toContain(value);
      }
      if (property?.type === 'multiOptions' && Array.isArray(value)) {
        const allowed = property.options?.map((o) => (o as { value: unknown }).value);
        for (const v of value) expect(allowed).toContain(v);
      }
    }
  }
});

test('imported fresh it is safe: Dry Run on, sync-batch mode, a credential and a library path to fill in', () => {
  const write = template.nodes.find((n) => n.name === WRITE_NODE)!;
  const search = template.nodes.find((n) => n.name === SEARCH_NODE)!;
  expect(write.parameters.dryRun).toBe(true);
  expect(search.parameters.searchMode).toBe('syncBatch');
  // the checkpoint in n8n's default file folder, the whole library in one partition
  expect(search.parameters).toMatchObject({ stateFolder: '', partitionCount: 1, partitionIndex: 1 });
  for (const node of ours.filter((n) => n.credentials)) expect(Object.keys(node.credentials!)).toEqual(['immichApi']);
  // one bad asset never stops the run; Write Metadata sends the assets it could not write to its error output
  for (const node of ours.filter((n) => n.name !== SEARCH_NODE && n.name !== WRITE_NODE)) expect(node.onError).toBe('continueRegularOutput');
  expect(write.onError).toBe('continueErrorOutput');
  // the optional notification is off until the user points it at a notifier
  expect(template.nodes.find((n) => n.type === 'n8n-nodes-base.httpRequest')?.disabled).toBe(true);
  expect(template.active).toBe(false);
  expect(template.id).toBeUndefined();
});

test('both outputs of Write Metadata reach the Summary once, through one append merge', () => {
  const connections = template.connections as Record<string, { main: Array<Array<{ node: string; index: number }>> }>;
  const [results, failures] = connections[WRITE_NODE].main;
  expect(results).toEqual([expect.objectContaining({ node: 'Results and Failures', index: 0 })]);
  expect(failures).toEqual([expect.objectContaining({ node: 'Results and Failures', index: 1 })]);
  const merge = template.nodes.find((n) => n.name === 'Results and Failures')!;
  expect(merge).toEqual(expect.objectContaining({ type: 'n8n-nodes-base.merge', parameters: { mode: 'append', numberInputs: 2 } }));
  expect(connections['Results and Failures'].main).toEqual([[expect.objectContaining({ node: SUMMARY_NODE, index: 0 })]]);
});

test('sticky notes explain the setup, the checkpoint in the state folder and Dry Run', () => {
  const notes = template.nodes.filter((n) => n.type === 'n8n-nodes-base.stickyNote').map((n) => String(n.parameters.content)).join('\n');
  expect(notes).toMatch(/State Folder/);
  expect(notes).toMatch(/queue-mode worker/);
  expect(notes).toMatch(/Dry Run/);
  expect(notes).toMatch(/Library Path/);
  expect(notes).toMatch(/N8N_RESTRICT_FILE_ACCESS_TO/);
  expect(notes).toMatch(/error output/);
});

test('a run that backs off (another run holds the lease) stops at "Another Run Active?"; every asset goes on to the details', () => {
  const connections = template.connections as Record<string, { main: Array<Array<{ node: string }>> }>;
  expect(connections[SEARCH_NODE].main).toEqual([[expect.objectContaining({ node: 'Another Run Active?' })]]);
  const gate = template.nodes.find((n) => n.name === 'Another Run Active?')!;
  expect(gate.type).toBe('n8n-nodes-base.if');
  expect(JSON.stringify(gate.parameters)).toContain('$json.syncBackedOff === true');
  // true: the back-off item, shown and not passed on; false: the assets
  expect(connections['Another Run Active?'].main.map((branch) => branch.map((c) => c.node))).toEqual([[], ['Get Asset Details']]);
});

test('no node sits on another in the editor (each keeps its own 240 px column or row)', () => {
  const nodes = template.nodes.filter((n) => n.type !== 'n8n-nodes-base.stickyNote');
  const overlapping = nodes.flatMap((a, i) =>
    nodes.slice(i + 1).filter((b) => Math.abs(a.position[0] - b.position[0]) < 200 && Math.abs(a.position[1] - b.position[1]) < 100).map((b) => `${a.name} / ${b.name}`),
  );
  expect(overlapping).toEqual([]);
});
