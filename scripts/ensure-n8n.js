#!/usr/bin/env node
/**
 * Installs a pinned n8n into a cache folder outside the package's dependencies, or reuses a complete
 * earlier install. The e2e test and the demo run the bundled template in this real n8n.
 *
 * Why a cache folder: n8n is large (~1 GB with its dependencies) and must never become a dependency of the
 * node package. Why a marker file: an interrupted `npm install` leaves a folder that looks complete but is not;
 * only an install that also rebuilt sqlite3 and answered `n8n --version` is marked ready.
 *
 * Usage: node scripts/ensure-n8n.js            (prints progress, then the n8n entry point as JSON)
 *        require('./scripts/ensure-n8n').ensureN8n() → { n8nBin, version, cacheDir }
 * Env:   N8N_CACHE_DIR (default <repo>/.cache/n8n), N8N_VERSION (default below)
 */
'use strict';

const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

// 2.41.x does not install here (a dependency is missing from the registry); 2.40.7 matches n8n-core 2.40.x.
const DEFAULT_N8N_VERSION = '2.40.7';
const MARKER_FILE = '.n8n-ready.json';
const LOCK_WAIT_MS = 20 * 60 * 1000;

function repoRoot() {
  return path.resolve(__dirname, '..');
}

function n8nSettings() {
  const version = process.env.N8N_VERSION || DEFAULT_N8N_VERSION;
  const cacheDir = path.resolve(process.env.N8N_CACHE_DIR || path.join(repoRoot(), '.cache', 'n8n'));
  const n8nBin = path.join(cacheDir, 'node_modules', 'n8n', 'bin', 'n8n');
  return { version, cacheDir, n8nBin };
}

/** The environment for npm and n8n: this Node first on PATH, so native modules match the running ABI. */
function toolEnv(extra) {
  const nodeDir = path.dirname(process.execPath);
  return { ...process.env, PATH: `${nodeDir}${path.delimiter}${process.env.PATH || ''}`, ...extra };
}

function log(message) {
  process.stderr.write(`[ensure-n8n] ${message}\n`);
}

function run(command, args, cwd, what) {
  log(`${what}: ${command} ${args.join(' ')} (in ${cwd})`);
  const started = Date.now();
  const result = spawnSync(command, args, { cwd, env: toolEnv(), stdio: ['ignore', 2, 2] });
  if (result.error) throw new Error(`${what} could not start: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(`${what} failed with exit code ${result.status}. Delete ${cwd} and run "npm run n8n:install" again.`);
  }
  log(`${what}: done in ${Math.round((Date.now() - started) / 1000)} s`);
}

function readMarker(settings) {
  try {
    const marker = JSON.parse(fs.readFileSync(path.join(settings.cacheDir, MARKER_FILE), 'utf8'));
    const complete = marker.version === settings.version && marker.nodeAbi === process.versions.modules && fs.existsSync(settings.n8nBin);
    return complete ? marker : null;
  } catch {
    return null;
  }
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Two processes (say the demo and the e2e test) must not install into the same folder at once. */
function withInstallLock(settings, work) {
  const lockDir = `${settings.cacheDir}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  // On a fresh clone .cache/ does not exist yet.
  fs.mkdirSync(path.dirname(lockDir), { recursive: true });
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      if (readMarker(settings)) return null; // the other process finished the install meanwhile
      if (Date.now() > deadline) throw new Error(`Another n8n install holds ${lockDir}; if none is running, delete that folder.`);
      log('another process is installing n8n; waiting');
      sleep(5000);
    }
  }
  try {
    return work();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}

function install(settings) {
  fs.mkdirSync(settings.cacheDir, { recursive: true });
  fs.rmSync(path.join(settings.cacheDir, MARKER_FILE), { force: true });
  const manifest = path.join(settings.cacheDir, 'package.json');
  if (!fs.existsSync(manifest)) {
    fs.writeFileSync(manifest, JSON.stringify({ name: 'n8n-cache', private: true, description: 'n8n for the e2e test and demo; not part of the package' }, null, 2));
  }
  log(`installing n8n@${settings.version} into ${settings.cacheDir} (about 5 minutes the first time)`);
  // --ignore-scripts: some optional install scripts of n8n's dependencies need network or fail here;
  // sqlite3 is the one native module n8n needs, so it is rebuilt explicitly below.
  run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', `n8n@${settings.version}`], settings.cacheDir, 'npm install');
  run('npm', ['rebuild', 'sqlite3'], settings.cacheDir, 'npm rebuild sqlite3 (native build, about 1 minute)');
  const check = spawnSync(process.execPath, [settings.n8nBin, '--version'], {
    cwd: settings.cacheDir,
    env: toolEnv({ N8N_USER_FOLDER: path.join(settings.cacheDir, '.version-check'), N8N_DIAGNOSTICS_ENABLED: 'false' }),
    encoding: 'utf8',
  });
  const reported = (check.stdout || '').trim().split('\n').pop();
  if (check.status !== 0 || reported !== settings.version) {
    throw new Error(`n8n --version answered "${reported}" (exit ${check.status}), expected ${settings.version}.\n${check.stderr}`);
  }
  const marker = { version: settings.version, nodeAbi: process.versions.modules, node: process.version, installedAt: new Date().toISOString() };
  fs.writeFileSync(path.join(settings.cacheDir, MARKER_FILE), JSON.stringify(marker, null, 2));
  return marker;
}

/** Returns the path of a ready n8n, installing it first when needed. Throws with a clear message on failure. */
function ensureN8n() {
  const settings = n8nSettings();
  if (readMarker(settings)) {
    log(`reusing n8n@${settings.version} from ${settings.cacheDir}`);
  } else {
    withInstallLock(settings, () => (readMarker(settings) ? null : install(settings)));
    log(`n8n@${settings.version} is ready in ${settings.cacheDir}`);
  }
  return { n8nBin: settings.n8nBin, version: settings.version, cacheDir: settings.cacheDir };
}

/** Whether a complete install is already there (nothing to do). */
function isReady() {
  return readMarker(n8nSettings()) !== null;
}

module.exports = { ensureN8n, isReady, n8nSettings, DEFAULT_N8N_VERSION };

if (require.main === module) {
  try {
    process.stdout.write(`${JSON.stringify(ensureN8n())}\n`);
  } catch (error) {
    log(`FAILED: ${error.message}`);
    process.exit(1);
  }
}
