// ConfigReloader in-process: only the safe subset reaches `apply`; other keys are reported as
// needing a restart and keep their running value; a config that does not load changes nothing.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '@cairn/utils'
import { afterAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load.ts'
import { ConfigReloader } from '../../src/config/reload.ts'
import type { NodeConfig } from '../../src/config/schema.ts'

const dir = mkdtempSync(join(tmpdir(), 'cairn-reload-unit-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('ConfigReloader', () => {
  it('applies safe keys only; the rest need a restart and keep their running value', () => {
    const file = join(dir, 'a.toml')
    const secretA = 'aa'.repeat(32)
    writeFileSync(file, `blockTime = 1\n[http]\ncors = ["https://a.example"]\n[auth]\njwtSecret = "${secretA}"\n`)
    const inputs = { file, env: {}, flags: { dev: true, ephemeral: true } }
    const applied: NodeConfig[] = []
    const r = new ConfigReloader(
      { inputs },
      { logger: silentLogger, initial: loadConfig(inputs), apply: (c) => applied.push(c) },
    )
    writeFileSync(
      file,
      `blockTime = 2\n[http]\ncors = ["https://b.example"]\nvhosts = ["rpc.example"]\n[auth]\njwtSecret = "${'bb'.repeat(32)}"\n`,
    )
    expect(r.reload('test')).toEqual({
      reloaded: ['http.cors', 'http.vhosts'],
      needsRestart: ['auth.jwtSecret', 'blockTime'],
    })
    expect(applied).toHaveLength(1)
    expect(applied[0]?.http.cors).toEqual(['https://b.example'])
    expect(applied[0]?.auth.jwtSecret).toBe(secretA)
    expect(applied[0]?.blockTime).toBe(1)
    // Again: nothing new to apply, the same keys still need a restart.
    expect(r.reload('test')).toEqual({ reloaded: [], needsRestart: ['auth.jwtSecret', 'blockTime'] })
    expect(applied).toHaveLength(1)
  })

  it('refreshes files (TLS) at every reload that loads, even when no key changed; a failure keeps the rest going', () => {
    const file = join(dir, 'c.toml')
    writeFileSync(file, '[http]\ncors = ["https://a.example"]\n')
    const inputs = { file, env: {}, flags: { dev: true, ephemeral: true } }
    let refreshed = 0
    const r = new ConfigReloader(
      { inputs },
      {
        logger: silentLogger,
        initial: loadConfig(inputs),
        apply: () => {},
        refresh: () => {
          refreshed++
          if (refreshed === 2) throw new Error('not a PEM file')
        },
      },
    )
    expect(r.reload('test')).toEqual({ reloaded: [], needsRestart: [] })
    writeFileSync(file, '[http]\ncors = ["https://b.example"]\n')
    expect(r.reload('test')).toEqual({ reloaded: ['http.cors'], needsRestart: [] })
    writeFileSync(file, '[http]\ncors = 5\n')
    expect(r.reload('test')).toBeNull()
    expect(refreshed).toBe(2)
  })

  it('a config that does not load (or the prod profile refuses) changes nothing', () => {
    const file = join(dir, 'b.toml')
    writeFileSync(file, '[http]\ncors = ["https://a.example"]\n')
    const inputs = { file, env: {}, flags: {} } // prod profile
    const applied: NodeConfig[] = []
    const r = new ConfigReloader(
      { inputs },
      { logger: silentLogger, initial: loadConfig(inputs), apply: (c) => applied.push(c) },
    )
    writeFileSync(
      file,
      '[http]\ncors = "*"\n[[auth.apiKeys]]\nname = "k"\nkeyHash = "' + 'ab'.repeat(32) + '"\nrole = "user"\n',
    )
    expect(r.reload('test')).toBeNull()
    writeFileSync(file, '[http]\ncors = 5\n')
    expect(r.reload('test')).toBeNull()
    expect(applied).toHaveLength(0)
    expect(r.config.http.cors).toEqual(['https://a.example'])
  })
})
