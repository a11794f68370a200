#!/usr/bin/env node
// The `cairn` executable. `cairn start` runs the prebuilt JavaScript bundle (dist/start.js, made by
// `npm run build`, which `npm ci` runs) while no source file is newer than it: no TypeScript is
// compiled at start; `cairn staking` and `cairn gov` run dist/chain-cli.js the same way (a
// transaction command from the sources spent ~1.5 s of CPU loading before its first request). Every
// other command, and these with a missing or stale bundle, runs the TypeScript sources through
// tsx's loader (for `start`, a stale bundle is said on stderr: a source edited since the build).
// First: V8's settings apply to what is allocated after them.
import './v8-flags.js'
import { readdirSync, statSync } from 'node:fs'
import module from 'node:module'
import { fileURLToPath } from 'node:url'

const packages = fileURLToPath(new URL('../../', import.meta.url))
/** The bundle each command runs from while it is current (`--help` of start: from the sources). */
const BUNDLES = { start: 'start.js', staking: 'chain-cli.js', gov: 'chain-cli.js' }

/**
 * Whether `bundle` can run: `current` when it is newer than every source file of every package;
 * `missing`; or `stale`, with the first source file found newer than it.
 */
function bundleState(bundle) {
  let built
  try {
    built = statSync(bundle).mtimeMs
  } catch {
    return { state: 'missing' }
  }
  for (const pkg of readdirSync(packages)) {
    let files
    try {
      files = readdirSync(`${packages}${pkg}/src`, { recursive: true })
    } catch {
      continue
    }
    for (const f of files) {
      if (statSync(`${packages}${pkg}/src/${f}`).mtimeMs > built)
        return { state: 'stale', newer: `packages/${pkg}/src/${f}` }
    }
  }
  return { state: 'current' }
}

// Node 22.1+: V8 keeps compiled code of the bundle and its dependencies between runs (in the OS
// temp directory), so later starts skip most parsing and compiling. Node 20 lacks it: no-op there.
module.enableCompileCache?.()

let ran = false
const help = process.argv.includes('--help') || process.argv.includes('-h')
const command = process.argv[2]
const name = Object.hasOwn(BUNDLES, command) && !(command === 'start' && help) ? BUNDLES[command] : undefined
const bundle = name === undefined ? undefined : fileURLToPath(new URL(`../dist/${name}`, import.meta.url))
const found = bundle === undefined ? undefined : bundleState(bundle)
if (found?.state === 'stale' && command === 'start') {
  // Said once, on stderr: a node started from sources takes seconds longer to start and runs
  // slower (tsx's loader), which is easy to mistake for a regression when measuring.
  process.stderr.write(
    `cairn: ${found.newer} is newer than the prebuilt bundle (packages/node/dist/start.js): running from the TypeScript sources, which starts and runs slower; \`npm run build\` rebuilds it\n`,
  )
}
if (found?.state === 'current') {
  try {
    await import(bundle)
    ran = true
  } catch (err) {
    // A dependency moved since the build (reinstalled): nothing ran yet, so run from source.
    if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err
  }
}
if (!ran) {
  const { register } = await import('tsx/esm/api')
  register()
  const argv = process.argv.slice(3)
  if (process.argv[2] === 'solc' && !argv.includes('--help') && !argv.includes('-h')) {
    // The native solc command line (--version, --standard-json), answered by solc-js: its options
    // are solc's, not Cairn's, so it bypasses the command parser.
    const { readFileSync } = await import('node:fs')
    const { runSolcShim } = await import('../src/cli/solc-shim.ts')
    process.exitCode = runSolcShim(argv, {
      stdin: () => readFileSync(0, 'utf8'),
      stdout: (t) => process.stdout.write(t),
      stderr: (t) => process.stderr.write(t),
    })
  } else {
    await import('../src/cli/main.ts')
  }
}
