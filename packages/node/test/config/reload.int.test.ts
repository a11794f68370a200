// ConfigReloader in-process: only the safe subset reaches `apply`; other keys are reported as
// needing a restart and keep their running value; a config that does not load changes nothing; a
// rotated secret file (CAIRN_X_FILE) is read again, and one other users could read is refused.
import { chmodSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { createLogger } from '@cairn/service-kit'
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
      reloaded: ['auth.jwtSecret', 'http.cors', 'http.vhosts'],
      needsRestart: ['blockTime'],
    })
    expect(applied).toHaveLength(1)
    expect(applied[0]?.http.cors).toEqual(['https://b.example'])
    expect(applied[0]?.auth.jwtSecret).toBe('bb'.repeat(32))
    expect(applied[0]?.blockTime).toBe(1)
    // Again: nothing new to apply, the same key still needs a restart.
    expect(r.reload('test')).toEqual({ reloaded: [], needsRestart: ['blockTime'] })
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

  it('reads a rotated CAIRN_AUTH_JWT_SECRET_FILE without a restart; a world-readable replacement is refused', async () => {
    const secretFile = join(dir, 'jwt.hex')
    const replace = (content: string, mode: number) => {
      writeFileSync(`${secretFile}.tmp`, content, { mode })
      chmodSync(`${secretFile}.tmp`, mode) // whatever the umask
      renameSync(`${secretFile}.tmp`, secretFile)
    }
    replace(`${'aa'.repeat(32)}\n`, 0o600)
    const inputs = { env: { CAIRN_AUTH_JWT_SECRET_FILE: secretFile }, flags: { dev: true, ephemeral: true } }
    const applied: NodeConfig[] = []
    const lines: string[] = []
    const logger = createLogger({
      level: 'info',
      format: 'json',
      destination: new Writable({
        write(chunk, _enc, done) {
          lines.push(String(chunk))
          done()
        },
      }),
    })
    const r = new ConfigReloader(
      { inputs, secretPollMs: 20 },
      { logger, initial: loadConfig(inputs), apply: (c) => applied.push(c) },
    )
    r.start()
    try {
      const until = async (done: () => boolean) => {
        const end = Date.now() + 10_000
        while (!done() && Date.now() < end) await new Promise((res) => setTimeout(res, 10))
      }
      replace(`${'bb'.repeat(32)}\n`, 0o600)
      await until(() => applied.length > 0)
      expect(applied.map((c) => c.auth.jwtSecret)).toEqual(['bb'.repeat(32)])
      expect(r.config.auth.jwtSecret).toBe('bb'.repeat(32))

      replace(`${'cc'.repeat(32)}\n`, 0o644)
      await until(() => lines.some((l) => l.includes('has mode 0644')))
      expect(lines.join('')).toMatch(
        /CAIRN_AUTH_JWT_SECRET_FILE .*jwt\.hex has mode 0644: other users can read or write it/,
      )
      expect(applied).toHaveLength(1)
      expect(r.config.auth.jwtSecret).toBe('bb'.repeat(32))
      expect(lines.join('')).not.toContain('cc'.repeat(32))
    } finally {
      r.stop()
    }
  })

  it('refuses a world-readable secret file at start, naming the variable', () => {
    const secretFile = join(dir, 'open.hex')
    writeFileSync(secretFile, 'dd'.repeat(32), { mode: 0o644 })
    chmodSync(secretFile, 0o644)
    expect(() => loadConfig({ env: { CAIRN_AUTH_JWT_SECRET_FILE: secretFile }, flags: { dev: true } })).toThrow(
      /the CAIRN_AUTH_JWT_SECRET_FILE .*open\.hex has mode 0644: other users can read or write it/,
    )
    // a file that holds no secret (the bootnodes list a devnet writes for its followers) is read as it is
    const bootnodes = join(dir, 'bootnodes')
    const addr = '/ip4/127.0.0.1/tcp/30303/p2p/16Uiu2HAmPLe7Mzm8TsYUubgCAW1aJoeFScxrLj8ppHFivPo97bUZ'
    writeFileSync(bootnodes, `${addr}\n`, { mode: 0o644 })
    chmodSync(bootnodes, 0o644)
    expect(loadConfig({ env: { CAIRN_P2P_BOOTNODES_FILE: bootnodes }, flags: { dev: true } }).p2p.bootnodes).toEqual([
      addr,
    ])
  })
})
