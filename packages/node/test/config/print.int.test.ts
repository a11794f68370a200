import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadConfigWithSources } from '../../src/config/load.ts'
import { printConfig } from '../../src/config/print.ts'

const dir = mkdtempSync(join(tmpdir(), 'cairn-print-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('cairn config print', () => {
  it('shows every effective value with its source, in key order', () => {
    const file = join(dir, 'c.toml')
    writeFileSync(file, '[http]\naddr = "0.0.0.0"\n[log]\nlevel = "debug"\n')
    const out = printConfig(
      loadConfigWithSources({ file, env: { CAIRN_LOG_LEVEL: 'warn' }, flags: { 'http.port': '9000', dev: true } }),
    )
    const lines = out.trim().split('\n')
    expect(lines).toContain('http.addr = "0.0.0.0"  # file')
    expect(lines).toContain('log.level = "warn"  # env')
    expect(lines).toContain('http.port = 9000  # flag')
    expect(lines).toContain('dev = true  # flag')
    expect(lines).toContain('txpool.priceBump = 10  # default')
    const keys = lines.map((l) => l.split(' = ')[0] as string)
    expect(keys).toEqual([...keys].sort())
  })

  it('redacts secrets, which can come from a file named by CAIRN_…_FILE', () => {
    const secret = join(dir, 'mnemonic.txt')
    const words = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about'
    writeFileSync(secret, `${words}\n`, { mode: 0o600 })
    const loaded = loadConfigWithSources({ env: { CAIRN_DEV_ACCOUNTS_MNEMONIC_FILE: secret }, flags: {} })
    expect(loaded.config.dev_accounts.mnemonic).toBe(words)
    const out = printConfig(loaded)
    expect(out).toContain('dev_accounts.mnemonic = "[redacted]"  # env')
    expect(out).not.toContain('abandon')
  })

  it('names the variable when its secret file cannot be read', () => {
    expect(() =>
      loadConfigWithSources({ env: { CAIRN_DEV_ACCOUNTS_MNEMONIC_FILE: join(dir, 'missing') }, flags: {} }),
    ).toThrow(/CAIRN_DEV_ACCOUNTS_MNEMONIC_FILE/)
  })
})
