// Prints the AVX2 faiss build scripts/build-faiss made (its cache directory), or nothing when
// there is none or this CPU lacks AVX2; binding.gyp then builds only the Debian-linked addon.
const { existsSync, readFileSync } = require('node:fs');
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

let dir = '';
try {
  const cpu = readFileSync('/proc/cpuinfo', 'utf8');
  if (/\bavx2\b/.test(cpu) && process.env.EDGESEARCH_FAISS !== 'debian') {
    const prefix = execFileSync(join(__dirname, '..', '..', '..', 'scripts', 'build-faiss'), ['--print'], { encoding: 'utf8' }).trim();
    if (existsSync(join(prefix, 'build.json')) && existsSync(join(prefix, 'lib', 'libfaiss_avx2.a'))) dir = prefix;
  }
} catch {
  dir = '';
}
process.stdout.write(dir);
