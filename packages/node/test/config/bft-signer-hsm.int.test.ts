// `bft.signer` kind `hsm`: read from a TOML table and CAIRN_BFT_SIGNER, a missing field refused by
// the loader; at start (createEngine) an unreadable or loose PIN file, a wrong PIN, an absent token
// or key is a start error with its own code; a good one gives a BFT engine signing as the HSM key.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { BftEngine, DEFAULT_TIMEOUTS, MsgType, voteDigest } from '@cairn/consensus'
import { verifyVoteSignature } from '@cairn/consensus/pq'
import { mlDsa65Keygen } from '@cairn/crypto'
import { MemoryKV } from '@cairn/db'
import { Pkcs11Token } from '@cairn/keys'
import { bytesToHex, hexToBytes, isCairnError, silentLogger } from '@cairn/utils'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeSoftHsm, SOFTHSM_MODULE, softHsmMissing } from '../../../keys/test/hsm/softhsm.ts'
import { loadConfig } from '../../src/config/load.ts'
import { createEngine } from '../../src/engine.ts'
import { openHsmSigner } from '../../src/hsm-signer.ts'
import { loadOrCreatePqSeed, pqSeedPath } from '../../src/keys/pq-seed-file.ts'

const missing = softHsmMissing()
if (missing) console.warn(`skipping the HSM signer config tests: ${missing}`)
const hsm = makeSoftHsm('cairn-hsm-config-')
const dir = hsm.dir
afterAll(() => hsm.remove())

const hsmSigner = (over: Record<string, string> = {}) => ({
  kind: 'hsm',
  module: SOFTHSM_MODULE,
  token: 'node',
  pinFile: join(dir, 'pin'),
  key: 'validator',
  ...over,
})

describe('bft.signer kind hsm in the config', () => {
  it('reads a TOML table and CAIRN_BFT_SIGNER; a missing field names the key', () => {
    const path = join(dir, 'node.toml')
    writeFileSync(
      path,
      `[bft.signer]\nkind = "hsm"\nmodule = "/m.so"\ntoken = "t"\npinFile = "/p"\nkey = "k"\nnextKey = "k2"\n`,
    )
    expect(loadConfig({ flags: {}, env: {}, file: path }).bft.signer).toEqual({
      kind: 'hsm',
      module: '/m.so',
      token: 't',
      pinFile: '/p',
      key: 'k',
      nextKey: 'k2',
    })
    const env = { CAIRN_BFT_SIGNER: JSON.stringify({ kind: 'hsm', module: '/m.so', token: 't', key: 'k' }) }
    expect(() => loadConfig({ flags: {}, env })).toThrow(/bft\.signer.*pinFile/)
  })
})

describe.skipIf(missing !== null)('an HSM signer at start', () => {
  let address = ''
  beforeAll(async () => {
    process.env.SOFTHSM2_CONF = hsm.conf
    hsm.initToken('node', '1234')
    const t = await Pkcs11Token.open({ module: SOFTHSM_MODULE, token: 'node', pin: '1234' })
    address = bytesToHex(t.generateKey('validator').address as Uint8Array)
    t.close()
    writeFileSync(join(dir, 'pin'), '1234\n', { mode: 0o600 })
    writeFileSync(join(dir, 'bad-pin'), '4321\n', { mode: 0o600 })
    writeFileSync(join(dir, 'loose-pin'), '1234\n')
    chmodSync(join(dir, 'loose-pin'), 0o644)
  })
  const genesis = () => ({
    config: { chainId: 1337, cairn: { bft: { validators: [{ address, power: 10 }] } } },
    alloc: {},
  })
  const start = (over: Record<string, string> = {}) =>
    createEngine(loadConfig({ flags: {}, env: { CAIRN_BFT_SIGNER: JSON.stringify(hsmSigner(over)) } }), {
      logger: silentLogger,
      genesis: genesis(),
      kv: new MemoryKV(),
      keys: null,
      keysDir: null,
      signerStatePath: null,
      registry: new Registry(),
      walDir: null,
    })
  const codeOf = async (over: Record<string, string>) => {
    const err = await start(over).catch((e: unknown) => e)
    return isCairnError(err) ? err.code : String(err)
  }

  it('a good config: the engine signs as the key on the token', async () => {
    const built = await start()
    expect(built.engine).toBeInstanceOf(BftEngine)
    expect(bytesToHex((built.engine as BftEngine).address as Uint8Array)).toBe(address)
    built.close?.()
  })

  it('each bad setup: a start error with its own code', async () => {
    expect(await codeOf({ pinFile: join(dir, 'absent') })).toBe('KEYS_KEY_UNREADABLE')
    expect(await codeOf({ pinFile: join(dir, 'loose-pin') })).toBe('KEYS_KEY_FILE_PERMISSIONS')
    expect(await codeOf({ pinFile: join(dir, 'bad-pin') })).toBe('KEYS_HSM_PIN_INCORRECT')
    expect(await codeOf({ token: 'absent' })).toBe('KEYS_HSM_TOKEN_ABSENT')
    expect(await codeOf({ key: 'absent' })).toBe('KEYS_HSM_KEY_ABSENT')
    expect(await codeOf({ nextKey: 'absent' })).toBe('KEYS_HSM_KEY_ABSENT')
    expect(await codeOf({ module: join(dir, 'absent.so') })).toBe('KEYS_HSM_MODULE')
  })
})

describe.skipIf(missing !== null)(
  'an HSM signer on a hybrid chain (secp256k1 on the token ‖ ML-DSA-65 seed in the datadir)',
  () => {
    let address = ''
    const keysDir = join(dir, 'hybrid', 'keys')
    let pqPublicKey: Uint8Array = new Uint8Array()
    beforeAll(async () => {
      process.env.SOFTHSM2_CONF = hsm.conf
      hsm.initToken('hybrid', '1234')
      const t = await Pkcs11Token.open({ module: SOFTHSM_MODULE, token: 'hybrid', pin: '1234' })
      address = bytesToHex(t.generateKey('validator').address as Uint8Array)
      t.close()
      writeFileSync(join(dir, 'pin'), '1234\n', { mode: 0o600 })
      mkdirSync(keysDir, { recursive: true })
      pqPublicKey = mlDsa65Keygen(loadOrCreatePqSeed(pqSeedPath(keysDir))).publicKey
    })
    const hybridGenesis = (pq: string) => ({
      config: {
        chainId: 1337,
        cairn: { bft: { signatureScheme: 'hybrid', validators: [{ address, power: 10, pqPublicKey: pq }] } },
      },
      alloc: {},
    })
    const start = (o: { keysDir: string | null; pq?: string; over?: Record<string, string> }) =>
      createEngine(
        loadConfig({
          flags: {},
          env: { CAIRN_BFT_SIGNER: JSON.stringify(hsmSigner({ token: 'hybrid', ...o.over })) },
        }),
        {
          logger: silentLogger,
          genesis: hybridGenesis(o.pq ?? bytesToHex(pqPublicKey)),
          kv: new MemoryKV(),
          keys: null,
          keysDir: o.keysDir,
          signerStatePath: null,
          registry: new Registry(),
          walDir: null,
        },
      )

    it('signs 3,374-byte votes that verify under hybrid against the genesis keys', async () => {
      const built = await start({ keysDir })
      expect(built.engine).toBeInstanceOf(BftEngine)
      expect(bytesToHex((built.engine as BftEngine).address as Uint8Array)).toBe(address)
      built.close?.()
      // The same signer as the engine's, to see its signatures.
      const { signer, close } = await openHsmSigner(
        hsmSigner({ token: 'hybrid' }) as Parameters<typeof openHsmSigner>[0],
        1337n,
        { logger: silentLogger, registry: null, signerStatePath: null },
        {
          seedPath: pqSeedPath(keysDir),
          bft: {
            signatureScheme: 'hybrid',
            validators: [{ address: hexToBytes(address as `0x${string}`), votingPower: 10n, pqPublicKey }],
            timeouts: DEFAULT_TIMEOUTS,
            blockTimeMs: 1000,
            emptyBlocks: true,
          },
        },
      )
      try {
        const vote = { type: MsgType.PRECOMMIT, height: 3, round: 0, blockHash: new Uint8Array(32).fill(9) }
        const signed = await signer.signVote(vote)
        if ('refused' in signed) throw new Error(signed.refused)
        expect(signed.signature.length).toBe(3374)
        const identity = { address: hexToBytes(address as `0x${string}`), pqPublicKey }
        expect(verifyVoteSignature('hybrid', voteDigest(1337n, vote), signed.signature, identity)).toEqual({ ok: true })
        // Its secp256k1 part alone is the token's: flipping a byte of the ML-DSA part fails the check.
        const tampered = signed.signature.slice()
        tampered[100] = (tampered[100] as number) ^ 1
        expect(verifyVoteSignature('hybrid', voteDigest(1337n, vote), tampered, identity).ok).toBe(false)
      } finally {
        close()
      }
    })

    it('refuses at start: no datadir, an absent seed, a seed the genesis does not register, a rotation', async () => {
      const codeOf = async (o: Parameters<typeof start>[0]) => {
        const err = await start(o).catch((e: unknown) => e)
        return isCairnError(err) ? `${err.code}: ${err.message}` : String(err)
      }
      expect(await codeOf({ keysDir: null })).toMatch(/^CONSENSUS_BFT_SIGNER_CONFIG: .*needs a datadir/)
      expect(await codeOf({ keysDir: join(dir, 'no-seed') })).toMatch(/^KEY_FILE_INVALID: .*does not exist/)
      const stranger = mlDsa65Keygen(new Uint8Array(32).fill(5)).publicKey
      expect(await codeOf({ keysDir, pq: bytesToHex(stranger) })).toMatch(
        /^CONSENSUS_BFT_SIGNER_CONFIG: .*is not the one the genesis registers/,
      )
      expect(await codeOf({ keysDir, over: { nextKey: 'validator' } })).toMatch(
        /^CONSENSUS_BFT_SIGNER_CONFIG: .*rotation.*hybrid/,
      )
    })
  },
)
