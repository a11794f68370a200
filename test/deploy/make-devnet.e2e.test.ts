// deploy/kubernetes/make-devnet.sh as the docs run it, from a checkout without `cairn` on PATH and
// without CAIRN=: it uses the checkout's CLI (it failed with "cairn: command not found"), and the
// overlay it feeds runs the image the docs build (localhost/cairn:latest, not :dev).
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'

const ROOT = join(import.meta.dirname, '../..')
const tmp = mkdtempSync(join(tmpdir(), 'cairn-make-devnet-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

describe('deploy/kubernetes/make-devnet.sh', () => {
  it('runs without CAIRN= and without cairn on PATH, using the checkout’s CLI', () => {
    // A checkout's layout: deploy/ copied (generated/ is written there), packages and node_modules linked.
    mkdirSync(join(tmp, 'deploy'))
    cpSync(join(ROOT, 'deploy/kubernetes'), join(tmp, 'deploy/kubernetes'), { recursive: true })
    cpSync(join(ROOT, 'deploy/scripts'), join(tmp, 'deploy/scripts'), { recursive: true })
    rmSync(join(tmp, 'deploy/kubernetes/overlays/devnet/generated'), { recursive: true, force: true })
    symlinkSync(join(ROOT, 'packages'), join(tmp, 'packages'))
    symlinkSync(join(ROOT, 'node_modules'), join(tmp, 'node_modules'))
    const env: NodeJS.ProcessEnv = { HOME: process.env.HOME, PATH: `${dirname(process.execPath)}:/usr/bin:/bin` }
    const r = spawnSync('bash', [join(tmp, 'deploy/kubernetes/make-devnet.sh')], {
      encoding: 'utf8',
      env,
      timeout: 120_000,
    })
    expect(r.status, r.stdout + r.stderr).toBe(0)
    const gen = join(tmp, 'deploy/kubernetes/overlays/devnet/generated')
    expect(existsSync(join(gen, 'genesis.json'))).toBe(true)
    expect(readFileSync(join(gen, 'bootnodes.env'), 'utf8')).toMatch(
      /^bootnodes=\/dns4\/cairn-validator-0\.cairn-validators\//,
    )
    for (let k = 0; k < 4; k++) expect(existsSync(join(gen, `validator-${k}.validator.key`))).toBe(true)
  }, 150_000)

  it('the devnet overlay runs localhost/cairn:latest, the tag the docs and build-image.sh build', () => {
    const k = parse(readFileSync(join(ROOT, 'deploy/kubernetes/overlays/devnet/kustomization.yaml'), 'utf8')) as {
      images: { name: string; newName: string; newTag: string }[]
    }
    expect(k.images).toEqual([{ name: 'cairn', newName: 'localhost/cairn', newTag: 'latest' }])
    expect(readFileSync(join(ROOT, 'deploy/scripts/build-image.sh'), 'utf8')).toMatch(
      /^IMAGE="\$\{IMAGE:-localhost\/cairn:latest\}"$/m,
    )
  })
})
