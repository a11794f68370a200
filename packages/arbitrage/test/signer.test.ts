// The signing key from a v3 keystore + password file, or a key file; errors name files, never secrets.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encryptKeystore } from '@cairn/crypto'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, describe, expect, it } from 'vitest'
import { ArbErrorCode } from '../src/errors.ts'
import { loadSigner } from '../src/execution/signer.ts'

const KEY = `0x${'4c'.repeat(32)}` as const
const dir = mkdtempSync(join(tmpdir(), 'arb-signer-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('loadSigner', () => {
  it('decrypts a keystore with the password file (trailing newline ignored)', async () => {
    const ks = await encryptKeystore(Buffer.from(KEY.slice(2), 'hex'), 'hunter2', { n: 1024 })
    writeFileSync(join(dir, 'ks.json'), JSON.stringify(ks))
    writeFileSync(join(dir, 'pw'), 'hunter2\n')
    const acct = await loadSigner({ keystore: join(dir, 'ks.json'), passwordFile: join(dir, 'pw') })
    expect(acct.account.address).toBe(privateKeyToAccount(KEY).address)
    writeFileSync(join(dir, 'bad'), 'Zq9-not-it\n')
    const err = await loadSigner({ keystore: join(dir, 'ks.json'), passwordFile: join(dir, 'bad') }).catch((e) => e)
    expect(err.code).toBe(ArbErrorCode.KEY_UNREADABLE)
    expect(err.message).not.toContain('Zq9-not-it')
  })

  it('reads a hex key file and refuses anything else without echoing it', async () => {
    writeFileSync(join(dir, 'key'), `${KEY.slice(2)}\n`)
    expect((await loadSigner({ keyFile: join(dir, 'key') })).account.address).toBe(privateKeyToAccount(KEY).address)
    writeFileSync(join(dir, 'key2'), 'deadbeef-secret')
    const err = await loadSigner({ keyFile: join(dir, 'key2') }).catch((e) => e)
    expect(err.code).toBe(ArbErrorCode.KEY_UNREADABLE)
    expect(err.message).not.toContain('deadbeef')
  })
})
