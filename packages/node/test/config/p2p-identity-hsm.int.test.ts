// `p2p.identity` kind `hsm`: read from a TOML table and CAIRN_P2P_IDENTITY, a missing field refused
// by the loader; at start (openHsmIdentity) each bad setup is a start error with its own code; a good
// one gives the token key's public key and signatures of it, shares the `cairn_hsm_*` metrics with
// a validator key on a token in the same process, warns of a node.key left behind, and the datadir
// keys loader then neither reads nor makes node.key.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { openHsmSigner } from '@cairn/consensus/privval'
import { ecdsaRecover, publicKeyToAddress, sha256 } from '@cairn/crypto'
import { Pkcs11Token } from '@cairn/keys'
import { bytesToHex, isCairnError, silentLogger, writerLogger } from '@cairn/utils'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeSoftHsm, SOFTHSM_MODULE, softHsmMissing } from '../../../keys/test/hsm/softhsm.ts'
import { loadConfig } from '../../src/config/load.ts'
import { datadirLayout } from '../../src/datadir.ts'
import { openHsmIdentity } from '../../src/hsm-identity.ts'
import { loadNodeKeys } from '../../src/keys/node-keys.ts'

const missing = softHsmMissing()
if (missing) console.warn(`skipping the HSM node identity tests: ${missing}`)
const hsm = makeSoftHsm('cairn-hsm-identity-')
const dir = hsm.dir
afterAll(() => hsm.remove())

const identityConfig = (over: Record<string, string> = {}) => ({
  kind: 'hsm' as const,
  module: SOFTHSM_MODULE,
  token: 'node',
  pinFile: join(dir, 'pin'),
  key: 'identity',
  ...over,
})

describe('p2p.identity in the config', () => {
  it('is a file by default; hsm from a TOML table and CAIRN_P2P_IDENTITY; a missing field names the key', () => {
    expect(loadConfig({ flags: {}, env: {} }).p2p.identity).toEqual({ kind: 'file' })
    const path = join(dir, 'node.toml')
    writeFileSync(path, `[p2p.identity]\nkind = "hsm"\nmodule = "/m.so"\ntoken = "t"\npinFile = "/p"\nkey = "k"\n`)
    expect(loadConfig({ flags: {}, env: {}, file: path }).p2p.identity).toEqual({
      kind: 'hsm',
      module: '/m.so',
      token: 't',
      pinFile: '/p',
      key: 'k',
    })
    const env = { CAIRN_P2P_IDENTITY: JSON.stringify({ kind: 'hsm', module: '/m.so', token: 't', pinFile: '/p' }) }
    expect(() => loadConfig({ flags: {}, env })).toThrow(/p2p\.identity.*key/)
  })
})

describe.skipIf(missing !== null)('a node identity on an HSM at start', () => {
  let address = ''
  beforeAll(async () => {
    process.env.SOFTHSM2_CONF = hsm.conf
    hsm.initToken('node', '1234')
    const t = await Pkcs11Token.open({ module: SOFTHSM_MODULE, token: 'node', pin: '1234' })
    address = bytesToHex(t.generateKey('identity').address as Uint8Array)
    t.generateKey('validator')
    t.close()
    writeFileSync(join(dir, 'pin'), '1234\n', { mode: 0o600 })
    writeFileSync(join(dir, 'bad-pin'), '4321\n', { mode: 0o600 })
  })
  const codeOf = async (over: Record<string, string>) => {
    const err = await openHsmIdentity(identityConfig(over), {
      logger: silentLogger,
      registry: null,
      keysDir: null,
    }).catch((e: unknown) => e)
    return isCairnError(err) ? err.code : String(err)
  }

  it('signs with the token key, beside a validator key on a token with one set of metrics, and warns of a node.key left behind', async () => {
    const keysDir = join(dir, 'left-behind', 'keys')
    mkdirSync(keysDir, { recursive: true })
    writeFileSync(join(keysDir, 'node.key'), `${'11'.repeat(32)}\n`, { mode: 0o600 })
    const warnings: string[] = []
    const logger = writerLogger((level, _f, msg) => {
      if (level === 'warn') warnings.push(msg)
    })
    const registry = new Registry()
    const opened = await openHsmIdentity(identityConfig(), { logger, registry, keysDir })
    const validator = await openHsmSigner(
      { kind: 'hsm', module: SOFTHSM_MODULE, token: 'node', pinFile: join(dir, 'pin'), key: 'validator' },
      1337n,
      { logger: silentLogger, registry, signerStatePath: null },
    )
    try {
      expect(bytesToHex(publicKeyToAddress(opened.identity.publicKey))).toBe(address)
      const digest = sha256(new TextEncoder().encode('handshake payload'))
      const sig = await opened.identity.sign(digest)
      const recovered = ecdsaRecover(sig.subarray(0, 64), (sig[64] as number) - 27, digest)
      expect(bytesToHex(publicKeyToAddress(recovered))).toBe(address)
      expect(warnings).toEqual([expect.stringMatching(/the identity key file in the datadir is not used/)])
      const metric = await registry.getSingleMetric('cairn_hsm_sign_errors_total')?.get()
      expect(metric?.values.map((v) => v.labels.reason).sort()).toEqual(['device', 'session'])
    } finally {
      validator.close()
      opened.close()
    }
  })

  it('each bad setup: a start error with its own code', async () => {
    expect(await codeOf({ pinFile: join(dir, 'absent') })).toBe('KEYS_KEY_UNREADABLE')
    expect(await codeOf({ pinFile: join(dir, 'bad-pin') })).toBe('KEYS_HSM_PIN_INCORRECT')
    expect(await codeOf({ token: 'absent' })).toBe('KEYS_HSM_TOKEN_ABSENT')
    expect(await codeOf({ key: 'absent' })).toBe('KEYS_HSM_KEY_ABSENT')
    expect(await codeOf({ module: join(dir, 'absent.so') })).toBe('KEYS_HSM_MODULE')
  })
})

describe('the datadir keys with the identity held elsewhere', () => {
  it('neither reads nor makes node.key', () => {
    const datadir = join(dir, 'no-identity-file')
    mkdirSync(datadir, { recursive: true })
    expect(loadNodeKeys(datadirLayout(datadir), { validator: false, identity: false }).identity).toBeNull()
    expect(existsSync(join(datadir, 'keys', 'node.key'))).toBe(false)
    expect(loadNodeKeys(datadirLayout(datadir), { validator: false }).identity).not.toBeNull()
    expect(existsSync(join(datadir, 'keys', 'node.key'))).toBe(true)
  })
})
