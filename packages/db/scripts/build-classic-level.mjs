// Builds classic-level's native binding from its patched source (patches/classic-level+3.0.0.patch:
// LevelDB's block checksums verified on reads and paranoid checks on open, which @cairn/db opens
// every store with and refuses a binding without; LevelDB's CRC32C with SSE4.2 on x86-64).
// classic-level ships prebuilt bindings of the unpatched source, so after patch-package applies the
// patch (the root's postinstall) the binding is compiled here: a C++ compiler, make and python3 are
// needed (Debian: apt-get install g++ make python3), and Node's headers (found beside this node when
// installed with it, else node-gyp downloads them). Skipped when the binding in place is built from
// this revision of the patch.
//
//   npm run build:leveldb            (npm passes its node-gyp; the root's postinstall runs it)
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

const dir = dirname(createRequire(import.meta.url).resolve('classic-level/package.json'))

/** The patch's revision (binding.cc `cairn_checksum_options`): a binding of an older one is rebuilt. */
const REVISION = '2'

/** Whether the binding node-gyp-build loads is built from this revision of the patch (asked of a new process). */
function patchedBinding() {
  const probe = `process.stdout.write(String(require(${JSON.stringify(join(dir, 'binding.js'))}).cairn_checksum_options))`
  return spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8' }).stdout === REVISION
}

if (!readFileSync(join(dir, 'binding.cc'), 'utf8').includes(`cairn_checksum_options = ${REVISION};`)) {
  console.error(`classic-level at ${dir} is not patched: run npx patch-package first`)
  process.exit(1)
}
if (patchedBinding()) {
  console.log('classic-level: the binding in place is built from the patched source')
  process.exit(0)
}

const gyp = process.env.npm_config_node_gyp
const args = ['rebuild', '--jobs', 'max']
// Node's own headers when they are installed with it (Debian's nodejs, the official images):
// node-gyp then needs no download.
const prefix = dirname(dirname(process.execPath))
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include/node/node_api.h')))
  args.push(`--nodedir=${prefix}`)
const cmd = gyp ? [process.execPath, gyp, ...args] : ['node-gyp', ...args]
console.log(`classic-level: building the patched binding (${cmd.slice(1).join(' ')})`)
const run = spawnSync(cmd[0], cmd.slice(1), { cwd: dir, stdio: 'inherit' })
if (run.status !== 0 || !patchedBinding()) {
  console.error(
    'classic-level: building the patched binding failed. It needs a C++ compiler, make and python3 ' +
      '(Debian: apt-get install g++ make python3) and Node headers; see docs/operations/backup-and-recovery.md',
  )
  process.exit(1)
}
console.log('classic-level: built')
