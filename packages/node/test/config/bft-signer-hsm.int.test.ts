// `bft.signer` kind `hsm`: read from a TOML table and CAIRN_BFT_SIGNER, a missing field refused by
// the loader; at start (createEngine) an unreadable or loose PIN file, a wrong PIN, an absent token
// or key is a start error with its own code; a good one gives a BFT engine signing as the HSM key.
// On a hybrid chain: the token's key with the datadir's seed, and a consensus key rotation on the
// token (`nextKey` ‖ validator.next.mldsa.seed): each height signed with the pair of its set, the
// seeds promoted once the chain rotated, a restart before and after the config change, a crash
// between the seed renames completed, `cairn signer hsm rotation-proof --pq-seed-file`, refusals.
import { chmodSync, existsSync, linkSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  type BftConfig,
  BftEngine,
  DEFAULT_TIMEOUTS,
  MsgType,
  recoverSigner,
  rotationDigest,
  ValidatorSet,
  voteDigest,
} from '@cairn/consensus'
import { createSchemeVerifier, verifyVoteSignature } from '@cairn/consensus/pq'
import { openHsmSigner } from '@cairn/consensus/privval'
import {
  loadOrCreatePqSeed,
  loadPqSeed,
  nextKeyPromotion,
  pqNextSeedPath,
  pqSeedPath,
  retiredPqSeedName,
} from '@cairn/consensus/validator-keys'
import { STAKING_ADDRESS } from '@cairn/contracts'
import { keccak256, mlDsa65Keygen, toChecksumAddress } from '@cairn/crypto'
import { MemoryKV } from '@cairn/db'
import { Pkcs11Token } from '@cairn/keys'
import { bytesToHex, hexToBytes, isCairnError, silentLogger, writerLogger } from '@cairn/utils'
import { Command } from 'commander'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { makeSoftHsm, SOFTHSM_MODULE, softHsmMissing } from '../../../keys/test/hsm/softhsm.ts'
import { registerSigner } from '../../src/cli/commands/signer.ts'
import { loadConfig } from '../../src/config/load.ts'
import { createEngine } from '../../src/engine.ts'

const missing = softHsmMissing()
if (missing) console.warn(`skipping the HSM signer config tests: ${missing}`)
const hsm = makeSoftHsm('cairn-hsm-config-')
const dir = hsm.dir
afterAll(() => hsm.remove())

const pqAddressOf = (key: Uint8Array) => keccak256(key).subarray(12)

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
          keysDir,
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

    it('refuses at start: no datadir, an absent seed, a seed the genesis does not register, half a rotation pair', async () => {
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
      // A rotation with half a pair: the next key without its seed (named), or the reverse.
      expect(await codeOf({ keysDir, over: { nextKey: 'validator' } })).toMatch(
        /^CONSENSUS_BFT_SIGNER_CONFIG: bft\.signer\.nextKey \("validator"\) has no ML-DSA seed beside it \(.*validator\.next\.mldsa\.seed\)/,
      )
      const lone = join(dir, 'lone-next-seed', 'keys')
      loadOrCreatePqSeed(pqSeedPath(lone))
      loadOrCreatePqSeed(pqNextSeedPath(lone))
      expect(await codeOf({ keysDir: lone })).toMatch(
        /^CONSENSUS_BFT_SIGNER_CONFIG: .*validator\.next\.mldsa\.seed has no bft\.signer\.nextKey beside it/,
      )
    })

    describe('a consensus key rotation on the token (nextKey ‖ validator.next.mldsa.seed)', () => {
      let old: Uint8Array = new Uint8Array()
      let next: Uint8Array = new Uint8Array()
      const seeds = { old: new Uint8Array(32).fill(31), next: new Uint8Array(32).fill(32) }
      const pq = { old: mlDsa65Keygen(seeds.old).publicKey, next: mlDsa65Keygen(seeds.next).publicKey }
      beforeAll(async () => {
        const t = await Pkcs11Token.open({ module: SOFTHSM_MODULE, token: 'hybrid', pin: '1234' })
        old = t.key('validator').address as Uint8Array
        next = t.generateKey('validator-next').address as Uint8Array
        t.close()
      })
      const writeSeed = (path: string, seed: Uint8Array) => {
        mkdirSync(join(path, '..'), { recursive: true })
        writeFileSync(path, `${Buffer.from(seed).toString('hex')}\n`, { mode: 0o600 })
      }
      /** A datadir's keys in the middle of a rotation: the current seed and the next one. */
      const rotatingDir = (name: string) => {
        const d = join(dir, name, 'keys')
        writeSeed(pqSeedPath(d), seeds.old)
        writeSeed(pqNextSeedPath(d), seeds.next)
        return d
      }
      const bft = (): BftConfig => ({
        signatureScheme: 'hybrid',
        validators: [{ address: old, votingPower: 10n, pqPublicKey: pq.old }],
        timeouts: DEFAULT_TIMEOUTS,
        blockTimeMs: 1000,
        emptyBlocks: true,
      })
      // The chain: the old pair signs to height 9, the new pair (registered by the rotation) from 10.
      const setAt = (h: number) =>
        ValidatorSet.create(
          [
            h < 10
              ? { address: old, votingPower: 10n, pqPublicKey: pq.old }
              : { address: next, votingPower: 10n, pqPublicKey: pq.next },
          ],
          'hybrid',
        )
      const verifier = createSchemeVerifier(1337n, 'hybrid', setAt)
      const open = (keysDir: string, over: Record<string, string>, logger = silentLogger) =>
        openHsmSigner(
          hsmSigner({ token: 'hybrid', ...over }) as Parameters<typeof openHsmSigner>[0],
          1337n,
          { logger, registry: null, signerStatePath: null },
          { keysDir, bft: bft() },
        )
      /** Signs a precommit at `height` and says whose pair signed it, as the engine's verifier sees it. */
      const signerAt = async (signer: Awaited<ReturnType<typeof open>>['signer'], height: number) => {
        signer.followValidatorSets(setAt)
        const vote = { type: MsgType.PRECOMMIT, height, round: 0, blockHash: new Uint8Array(32).fill(height) }
        const signed = await signer.signVote(vote)
        if ('refused' in signed) throw new Error(signed.refused)
        expect(signed.signature.length).toBe(3374)
        const by = verifier.voteSigner(signed)
        return by === null ? null : bytesToHex(by)
      }
      const recording = () => {
        const lines: { level: string; msg: string }[] = []
        return { lines, logger: writerLogger((level, _fields, msg) => lines.push({ level, msg })) }
      }
      const files = (d: string) => readdirSync(d).sort()

      it('signs each height with the pair of its set, promotes the seeds, restarts before and after the config change', async () => {
        const keysDir = rotatingDir('rotation')
        const first = await open(keysDir, { nextKey: 'validator-next' })
        try {
          expect(first.pqRotation).toEqual({ keysDir, nextPq: toChecksumAddress(bytesToHex(pqAddressOf(pq.next))) })
          expect(await signerAt(first.signer, 9)).toBe(bytesToHex(old))
          expect(await signerAt(first.signer, 10)).toBe(bytesToHex(next))
          // The chain rotated (the set of head + 1 = 10 holds the new key only): the seeds move.
          const { lines, logger } = recording()
          const promotion = nextKeyPromotion(
            { kind: 'hsm', key: 'validator', nextKey: 'validator-next' },
            { local: undefined, external: first.signer, hsmPqSeeds: first.pqRotation },
            { logger, validatorsAt: setAt },
          )
          expect(promotion?.check(8n)).toBe(false)
          expect(promotion?.check(9n)).toBe(true)
          const retired = retiredPqSeedName(toChecksumAddress(bytesToHex(old)))
          expect(files(keysDir)).toEqual([retired, 'validator.mldsa.seed'].sort())
          expect(bytesToHex(loadPqSeed(pqSeedPath(keysDir)))).toBe(bytesToHex(seeds.next))
          expect(bytesToHex(loadPqSeed(join(keysDir, retired)))).toBe(bytesToHex(seeds.old))
          expect(lines.map((l) => l.level)).toEqual(['warn'])
          expect(lines[0]?.msg).toContain('set bft.signer.key = "validator-next" and remove bft.signer.nextKey')
          expect(lines[0]?.msg).toContain(
            `validator.mldsa.seed is now the seed of "validator-next", the old one kept as ${retired}`,
          )
        } finally {
          first.close()
        }
        // A restart with the old config still pairs each key with its seed (the retired seed names the old key).
        const { lines, logger } = recording()
        const before = await open(keysDir, { nextKey: 'validator-next' }, logger)
        try {
          expect(await signerAt(before.signer, 9)).toBe(bytesToHex(old))
          expect(await signerAt(before.signer, 11)).toBe(bytesToHex(next))
          expect(lines.some((l) => l.msg.includes('its seed is promoted: set bft.signer.key = "validator-next"'))).toBe(
            true,
          )
        } finally {
          before.close()
        }
        // The config changed as the warning said: the new pair alone.
        const after = await open(keysDir, { key: 'validator-next' })
        try {
          expect(after.pqRotation).toBeNull()
          expect(await signerAt(after.signer, 12)).toBe(bytesToHex(next))
        } finally {
          after.close()
        }
      })

      it('a crash between the seed renames is completed at the start; a copied next seed is refused', async () => {
        const keysDir = rotatingDir('crash')
        // Step (1) ran (the old seed has its retired name), step (2) did not.
        const retired = retiredPqSeedName(toChecksumAddress(bytesToHex(old)))
        linkSync(pqSeedPath(keysDir), join(keysDir, retired))
        const { lines, logger } = recording()
        const s = await open(keysDir, { nextKey: 'validator-next' }, logger)
        try {
          expect(files(keysDir)).toEqual([retired, 'validator.mldsa.seed'].sort())
          expect(bytesToHex(loadPqSeed(pqSeedPath(keysDir)))).toBe(bytesToHex(seeds.next))
          expect(lines.some((l) => l.msg.includes('completed the interrupted promotion'))).toBe(true)
          expect(await signerAt(s.signer, 10)).toBe(bytesToHex(next))
        } finally {
          s.close()
        }
        const same = rotatingDir('same-seed')
        writeSeed(pqNextSeedPath(same), seeds.old)
        const err = await open(same, { nextKey: 'validator-next' }).catch((e: unknown) => e)
        expect(isCairnError(err) && `${err.code}: ${err.message}`).toMatch(
          /^CONSENSUS_BFT_SIGNER_CONFIG: .*validator\.next\.mldsa\.seed is the same seed as/,
        )
        expect(existsSync(join(same, retired))).toBe(false)
      })

      it('cairn signer hsm rotation-proof --pq-seed-file prints the three-argument call', async () => {
        const seedFile = join(dir, 'proof.next.mldsa.seed')
        writeSeed(seedFile, seeds.next)
        const operator = `0x${'ab'.repeat(20)}`
        const out: string[] = []
        const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
          out.push(String(chunk))
          return true
        })
        try {
          const program = new Command().exitOverride()
          registerSigner(program)
          await program.parseAsync(
            [
              'signer',
              'hsm',
              'rotation-proof',
              '--module',
              SOFTHSM_MODULE,
              '--token',
              'hybrid',
              '--pin-file',
              join(dir, 'pin'),
              '--label',
              'validator-next',
              '--chain-id',
              '1337',
              '--operator',
              operator,
              '--pq-seed-file',
              seedFile,
              '--json',
            ],
            { from: 'user' },
          )
        } finally {
          write.mockRestore()
        }
        const printed = JSON.parse(out.join('')) as { newConsensusAddress: string; proof: string; pqPublicKey: string }
        expect(printed.newConsensusAddress).toBe(toChecksumAddress(bytesToHex(next)))
        expect(printed.pqPublicKey).toBe(bytesToHex(pq.next))
        const digest = rotationDigest(1337n, hexToBytes(STAKING_ADDRESS), hexToBytes(operator as `0x${string}`), next)
        expect(bytesToHex(recoverSigner(digest, hexToBytes(printed.proof as `0x${string}`)) as Uint8Array)).toBe(
          bytesToHex(next),
        )
      })
    })
  },
)
