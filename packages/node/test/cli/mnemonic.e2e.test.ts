import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { privateKeyToAddress, toChecksumAddress } from '@cairn/crypto'
import { bytesToHex, hexToBytes } from '@cairn/utils'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from './run-cli.ts'

const root = mkdtempSync(join(tmpdir(), 'cairn-mnemonic-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
const env = { CAIRN_PASSWORD: 'correct horse' }

describe('accounts from a recovery phrase', () => {
  it('account new shows the phrase once; import of the phrase restores the same account; export gives its key', async () => {
    const phraseFile = join(root, 'phrase.txt')
    const made = await runCli(['account', 'new', '--keystore', join(root, 'a'), '--mnemonic-out', phraseFile], {
      env,
      timeoutMs: 60_000,
    })
    expect(made.code).toBe(0)
    const address = /Address:\s+(0x[0-9a-fA-F]{40})/.exec(made.stdout)?.[1] as string
    const phrase = readFileSync(phraseFile, 'utf8').trim()
    expect(phrase.split(' ')).toHaveLength(12)
    expect(made.stdout).toContain(phrase)
    expect(statSync(phraseFile).mode & 0o777).toBe(0o600)

    const restored = await runCli(['account', 'import', phraseFile, '--keystore', join(root, 'b')], {
      env,
      timeoutMs: 60_000,
    })
    expect(restored.code).toBe(0)
    expect(restored.stdout).toContain(`Imported ${address}`)

    const exported = await runCli(['account', 'export', address, '--keystore', join(root, 'b')], {
      env,
      timeoutMs: 60_000,
    })
    expect(exported.code).toBe(0)
    const key = exported.stdout.trim()
    expect(toChecksumAddress(bytesToHex(privateKeyToAddress(hexToBytes(key))))).toBe(address)
  }, 120_000)

  it('export of an unknown address fails with one error line', async () => {
    const r = await runCli(
      ['account', 'export', '0x0000000000000000000000000000000000000001', '--keystore', join(root, 'b')],
      {
        env,
        timeoutMs: 60_000,
      },
    )
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^error: no keystore for 0x0{39}1/)
  }, 60_000)
})
