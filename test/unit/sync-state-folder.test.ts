import * as path from 'path';
import { partitionProblem, resolveStateRoot, stateFolderFor, STATE_ROOT_NAME } from '../../lib/sync/stateFolder';

describe('state folder', () => {
  it('defaults to n8n\'s own file folder, or the first allowed directory when access is restricted', () => {
    expect(resolveStateRoot('', {}, '/home/node')).toBe(path.join('/home/node/.n8n-files', STATE_ROOT_NAME));
    expect(resolveStateRoot('  ', { N8N_RESTRICT_FILE_ACCESS_TO: ' ;/photos;/other' }, '/home/node')).toBe(path.join('/photos', STATE_ROOT_NAME));
    expect(resolveStateRoot('/data/state', { N8N_RESTRICT_FILE_ACCESS_TO: '/photos' }, '/home/node')).toBe('/data/state');
  });

  it('gives each identity and partition its own folder', () => {
    const a = stateFolderFor('/s', '/photos/library');
    const b = stateFolderFor('/s', '/photos/other/library');
    expect(a).not.toBe(b);
    expect(path.basename(path.dirname(a))).toMatch(/^library-[0-9a-f]{12}$/);
    expect(path.basename(a)).toBe('all');
    expect(stateFolderFor('/s', 'wf1', { index: 1, count: 2 })).not.toBe(stateFolderFor('/s', 'wf1', { index: 2, count: 2 }));
    expect(stateFolderFor('/s', 'wf1', { index: 2, count: 3 })).toMatch(/partition-2-of-3$/);
  });

  it('names what is wrong with a partition setting', () => {
    expect(partitionProblem({ index: 1, count: 1 })).toBeNull();
    expect(partitionProblem({ index: 3, count: 2 })).toMatch(/between 1 and 2/);
    expect(partitionProblem({ index: 1, count: 0 })).toMatch(/at least 1/);
  });
});
