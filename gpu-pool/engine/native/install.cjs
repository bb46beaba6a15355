#!/usr/bin/env node
// The package's install script: builds the faiss addons with node-gyp, unless the build in place
// was made from the same inputs (sources, binding.gyp, the AVX2 faiss build, Node's ABI). A
// rebuild deletes build/ first, so running one needlessly breaks every process loading the addon
// meanwhile: `npx edgesearch ...` in a checkout installs the checkout into npx's cache and runs
// this script each first time, possibly while the service or the tests run.
//   node install.cjs           build when the inputs changed (what `npm ci` and `npm run install` run)
//   node install.cjs --force   build anyway (EDGESEARCH_REBUILD=1 too)
//   node install.cjs --check   exit 0 when the build is current, 1 when it would build
const { createHash } = require('node:crypto');
const { execFileSync } = require('node:child_process');
const { existsSync, readFileSync, readdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const STAMP = 'edgesearch-build.json';

/** The AVX2 faiss build binding.gyp links (faiss-avx2-dir.cjs), or '' when there is none. */
function avx2Dir(dir) {
  return execFileSync(process.execPath, [join(dir, 'faiss-avx2-dir.cjs')], { encoding: 'utf8' }).trim();
}

/**
 * A digest of everything the addons are built from (not where Node's headers come from: the ABI
 * says which headers), and the addon files that build makes.
 */
function buildInputs(dir, avx2 = avx2Dir(dir)) {
  const hash = createHash('sha256');
  const add = (name, data) => hash.update(`${name}\0${data.length}\0`).update(data);
  add('abi', `${process.platform}-${process.arch}-node-abi-${process.versions.modules}`);
  for (const file of ['binding.gyp', ...readdirSync(join(dir, 'src')).sort().map((f) => join('src', f))]) add(file, readFileSync(join(dir, file)));
  add('avx2', avx2);
  if (avx2) add('avx2-build', readFileSync(join(avx2, 'build.json')));
  return { digest: hash.digest('hex'), addons: ['faiss_node.node', ...(avx2 ? ['faiss_node_avx2.node'] : [])] };
}

/** Why the build in `dir` is not current (a rebuild is due), or undefined when it is. */
function staleness(dir, inputs = buildInputs(dir)) {
  const release = join(dir, 'build', 'Release');
  const missing = inputs.addons.filter((a) => !existsSync(join(release, a)));
  if (missing.length) return `${missing.join(', ')} not built`;
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(join(dir, 'build', STAMP), 'utf8'));
  } catch {
    return 'no record of what the build was made from';
  }
  return stamp.digest === inputs.digest ? undefined : 'sources, binding.gyp, the AVX2 faiss build or the Node ABI changed';
}

function main(argv) {
  const dir = __dirname;
  const inputs = buildInputs(dir);
  const stale = staleness(dir, inputs);
  if (argv.includes('--check')) {
    console.log(stale ? `faiss binding: a build is due (${stale})` : 'faiss binding: up to date');
    return stale ? 1 : 0;
  }
  const force = argv.includes('--force') || process.env.EDGESEARCH_REBUILD === '1';
  if (!stale && !force) {
    console.log(`faiss binding: up to date (${inputs.addons.join(', ')}); npm run install -- --force rebuilds it`);
    return 0;
  }
  console.log(`faiss binding: building (${force ? 'forced' : stale})`);
  // npm puts its bundled node-gyp on PATH for package scripts.
  execFileSync('node-gyp', ['rebuild', '--directory', dir], { stdio: 'inherit' });
  writeFileSync(join(dir, 'build', STAMP), `${JSON.stringify({ digest: inputs.digest, addons: inputs.addons }, null, 2)}\n`);
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
module.exports = { buildInputs, staleness };
