// n8n's lint rules for community node packages (the variant without n8n Cloud restrictions: this
// package runs ExifTool and writes files, which n8n Cloud does not allow), applied to nodes/,
// credentials/ and the framework-free lib/.
import { configWithoutCloudSupport } from '@n8n/node-cli/eslint';

export default [
  ...configWithoutCloudSupport,
  {
    ignores: ['dist/**', 'node_modules/**', 'coverage/**'],
  },
  {
    // lib/ is framework-free (used by the command line too): it throws its own errors, and the
    // nodes turn them into NodeOperationError/NodeApiError at the boundary.
    files: ['lib/**/*.ts'],
    rules: {
      '@n8n/community-nodes/require-node-api-error': 'off',
    },
  },
];
