// n8n's lint rules for community node packages (the variant without n8n Cloud restrictions: this
// package runs ExifTool and writes files, which n8n Cloud does not allow), applied to everything the
// package ships: nodes/, credentials/, the framework-free lib/, the command line in cli/, package.json.
import { configWithoutCloudSupport } from '@n8n/node-cli/eslint';

export default [
  ...configWithoutCloudSupport,
  {
    // Not shipped (package.json "files"): tests, benchmarks and scripts start n8n, ExifTool and
    // simulators as child processes by design, which the community-node rules forbid in shipped code.
    // They stay type-checked by tsc (tsconfig.json includes them).
    ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'test/**', 'bench/**', 'scripts/**', 'gulpfile.js', 'index.js', 'eslint.config.mjs', 'jest.config.js'],
  },
  {
    // lib/ is framework-free (used by the command line too) and cli/ runs outside n8n: neither has an
    // n8n node to attach an error to. They throw their own typed errors; the nodes turn them into
    // NodeOperationError/NodeApiError at the boundary (nodes/shared/errors.ts).
    files: ['lib/**/*.ts', 'cli/**/*.ts'],
    rules: {
      '@n8n/community-nodes/require-node-api-error': 'off',
    },
  },
  {
    // ExifTool cannot be had through n8n's helpers: the package needs exiftool-vendored (ExifTool itself),
    // @6over3/zeroperl-ts (the WebAssembly Perl for images without Perl) and jpeg-js (face previews) at
    // run time. n8n installs each community package into its own folder with its own dependency tree,
    // so these do not reach n8n or other nodes; bundling 25 MB of WebAssembly and ExifTool's Perl tree
    // into dist/ would ship the same bytes without their licences and versions.
    files: ['package.json'],
    rules: {
      '@n8n/community-nodes/no-runtime-dependencies': 'off',
    },
  },
];
