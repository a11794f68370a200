// The `cairn` launcher (bin/cairn.js) in a tree of its own: `cairn start` runs the prebuilt
// bundle while no package source is newer than it; with a stale bundle it says so on stderr
// (naming the newer file) and runs the sources; a missing bundle, another command or --help run
// the sources without a word. `cairn staking` and `cairn gov` do the same with dist/chain-cli.js,
// --help included, and say nothing of a stale one. The tree: the real launcher (with the V8 settings it imports), a
// bundle and a main.ts that each print which ran, and the repository's node_modules (for tsx).
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const REPO = fileURLToPath(new URL('../../../../', import.meta.url))
const root = mkdtempSync(join(tmpdir(), 'cairn-launcher-'))
const T = 1_700_000_000
afterAll(() => rmSync(root, { recursive: true, force: true }))

/** Writes a file with the given mtime; its new directories get the oldest time (a directory's counts too: a file added or removed). */
function put(path: string, text: string, mtime: number): void {
  const file = join(root, path)
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, text)
  utimesSync(file, mtime, mtime)
  for (let d = dirname(path); d !== '.'; d = dirname(d)) utimesSync(join(root, d), T, T)
}

mkdirSync(join(root, 'packages/node/bin'), { recursive: true })
// The launcher's package says it is ESM, as the real one does: without it Node looks further up for
// a package.json, and one without a "type" there (a `cd /tmp && npm i …` leaves one in /tmp) makes
// it warn on stderr.
writeFileSync(join(root, 'packages/node/package.json'), '{ "type": "module" }\n')
utimesSync(join(root, 'packages/node/package.json'), T, T)
for (const f of ['cairn.js', 'v8-flags.js'])
  copyFileSync(join(REPO, 'packages/node/bin', f), join(root, 'packages/node/bin', f))
symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'))
put('packages/node/src/cli/main.ts', "console.log('sources ran', process.argv.slice(2).join(' '))\n", T)
put('packages/chain/src/deep/file.ts', 'export {}\n', T)

function cairn(...args: string[]) {
  const r = spawnSync(process.execPath, [join(root, 'packages/node/bin/cairn.js'), ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  })
  return { stdout: r.stdout.trim(), stderr: r.stderr.trim(), status: r.status }
}

// Each case spawns the launcher (the sources' runs through tsx): seconds apiece on a loaded machine.
describe('the cairn launcher', { timeout: 60_000 }, () => {
  it('runs the bundle for start while it is newer than every source, silently', () => {
    put('packages/node/dist/start.js', "console.log('bundle ran')\n", T + 10)
    expect(cairn('start', '--dev')).toEqual({ stdout: 'bundle ran', stderr: '', status: 0 })
    expect(cairn('init').stdout).toBe('sources ran init')
  })

  it('says which source is newer than a stale bundle, then runs the sources', () => {
    put('packages/node/dist/start.js', "console.log('bundle ran')\n", T + 10)
    put('packages/chain/src/deep/file.ts', 'export {}\n', T + 20)
    const r = cairn('start', '--dev')
    expect(r.stdout).toBe('sources ran start --dev')
    expect(r.stderr).toMatch(
      /^cairn: packages\/chain\/src\/deep\/file\.ts is newer than the prebuilt bundle .*`npm run build` rebuilds it$/,
    )
    expect(cairn('start', '--help')).toMatchObject({ stdout: 'sources ran start --help', stderr: '' })
  })

  // staking and gov have a bundle of their own (dist/chain-cli.js): a transaction command's CPU
  // before its first request was mostly loading the sources. Stale, they run the sources silently
  // (their output is what scripts read).
  it('runs the chain-cli bundle for staking and gov while current, the sources silently when stale', () => {
    put('packages/chain/src/deep/file.ts', 'export {}\n', T)
    put('packages/node/dist/chain-cli.js', "console.log('chain bundle ran', process.argv.slice(2).join(' '))\n", T + 10)
    expect(cairn('staking', 'info')).toEqual({ stdout: 'chain bundle ran staking info', stderr: '', status: 0 })
    expect(cairn('gov', 'status', '--help')).toMatchObject({ stdout: 'chain bundle ran gov status --help', stderr: '' })
    expect(cairn('keys', 'list').stdout).toBe('sources ran keys list')
    put('packages/chain/src/deep/file.ts', 'export {}\n', T + 20)
    expect(cairn('staking', 'info')).toEqual({ stdout: 'sources ran staking info', stderr: '', status: 0 })
  })

  it('runs the sources without a word when there is no bundle', () => {
    rmSync(join(root, 'packages/node/dist'), { recursive: true, force: true })
    expect(cairn('start')).toEqual({ stdout: 'sources ran start', stderr: '', status: 0 })
  })
})
