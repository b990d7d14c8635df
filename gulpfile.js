// Copies the node and credential icons and codex files next to the compiled classes, where n8n looks for them.
// `npm run build` (n8n-node build) does the same; this task serves a tsc-only watch build (`npx tsc -w`).
const path = require('path');
const { task, src, dest } = require('gulp');

task('build:icons', copyIcons);

function copyIcons() {
  const nodeIcons = src(path.resolve('nodes', '**', '*.{png,svg}'), { encoding: false }).pipe(dest(path.resolve('dist', 'nodes')));
  const nodeCodex = src(path.resolve('nodes', '**', '*.node.json')).pipe(dest(path.resolve('dist', 'nodes')));
  nodeCodex.on('end', () => undefined);
  return Promise.all([
    streamDone(nodeIcons),
    streamDone(nodeCodex),
    streamDone(src(path.resolve('credentials', '**', '*.{png,svg}'), { encoding: false }).pipe(dest(path.resolve('dist', 'credentials')))),
  ]);
}

function streamDone(stream) {
  return new Promise((resolve, reject) => stream.on('finish', resolve).on('error', reject));
}
