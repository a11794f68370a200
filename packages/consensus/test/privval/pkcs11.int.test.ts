/**
 * Validator keys on a real SoftHSM2 token: signatures recover to the key's address and pass the
 * engine's verification, s is low, the private key cannot be read, a bad setup gives its own error
 * code, and a ValidatorSigner holding an HSM key refuses a double sign as with a raw key.
 */
import { keccak256, privateKeyToAddress } from '@cairn/crypto'
import { createHsmMetrics, KeysErrorCode, loadPkcs11Module, Pkcs11Token } from '@cairn/keys'
import { bytesToHex, CairnError } from '@cairn/utils'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeSoftHsm, SOFTHSM_MODULE, type SoftHsm, softHsmMissing } from '../../../keys/test/hsm/softhsm.ts'
import { MsgType } from '../../src/bft/messages.ts'
import { createVerifier, MemorySignerState, recoverSigner, ValidatorSet, ValidatorSigner } from '../../src/index.ts'

const missing = softHsmMissing()
if (missing) console.warn(`skipping the SoftHSM2 tests: ${missing}`)

const CHAIN_ID = 1337n
const HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n
const RAW = Uint8Array.from({ length: 32 }, (_, i) => i + 1)

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  try {
    await (typeof p === 'function' ? p() : p)
  } catch (err) {
    return err instanceof CairnError ? err.code : `not a CairnError: ${String(err)}`
  }
  return undefined
}

describe.skipIf(missing !== null)('PKCS#11 keys on SoftHSM2', () => {
  let hsm: SoftHsm
  let token: Pkcs11Token
  const registry = new Registry()
  beforeAll(async () => {
    hsm = makeSoftHsm()
    process.env.SOFTHSM2_CONF = hsm.conf
    hsm.initToken('validators')
    hsm.initToken('other', '4321')
    token = await Pkcs11Token.open(
      { module: SOFTHSM_MODULE, token: 'validators', pin: '1234' },
      { metrics: createHsmMetrics(registry) },
    )
  })
  afterAll(() => {
    token?.close()
    hsm?.remove()
  })

  it('imports a key file key and generates one; lists both with their addresses', () => {
    const imported = token.importKey('v-imported', RAW)
    expect(imported.address).toEqual(privateKeyToAddress(RAW))
    const generated = token.generateKey('v-generated')
    const list = token.listKeys()
    expect(list.map((k) => [k.label, k.curve])).toEqual([
      ['v-generated', 'secp256k1'],
      ['v-imported', 'secp256k1'],
    ])
    expect(list[0]?.address).toEqual(generated.address)
    expect(list[1]?.id).toBe(bytesToHex(privateKeyToAddress(RAW)))
    expect(() => token.importKey('v-imported', RAW)).toThrow(
      expect.objectContaining({ code: KeysErrorCode.HSM_KEY_EXISTS }),
    )
  })

  it('signs digests that recover to the key, with low s, and passes the engine verification', () => {
    for (const label of ['v-imported', 'v-generated']) {
      const key = token.key(label)
      const verify = createVerifier(CHAIN_ID)
      const signer = new ValidatorSigner({ chainId: CHAIN_ID, key }, { state: new MemorySignerState() })
      for (let h = 1; h <= 40; h++) {
        const digest = keccak256(new TextEncoder().encode(`${label}-${h}`))
        const sig = key.sign(digest)
        expect(sig.length).toBe(65)
        expect(BigInt(bytesToHex(sig.subarray(32, 64)))).toBeLessThanOrEqual(HALF_N)
        expect(recoverSigner(digest, sig)).toEqual(key.address)
        const vote = signer.signVote({ type: MsgType.PREVOTE, height: h, round: 0, blockHash: digest })
        expect('signature' in vote && verify.voteSigner(vote)).toEqual(key.address)
      }
    }
    expect(registry.getSingleMetric('cairn_hsm_sign_seconds')).toBeDefined()
  })

  it('the private key cannot be read off the token (CKA_VALUE is sensitive)', async () => {
    const mod = await loadPkcs11Module(SOFTHSM_MODULE)
    const { api, p11 } = mod
    try {
      const slot = p11.C_GetSlotList(true).find((s) => p11.C_GetTokenInfo(s).label.trimEnd() === 'validators')
      const session = p11.C_OpenSession(slot as Buffer, api.CKF_SERIAL_SESSION)
      p11.C_FindObjectsInit(session, [
        { type: api.CKA_CLASS, value: api.CKO_PRIVATE_KEY },
        { type: api.CKA_LABEL, value: 'v-imported' },
      ])
      const [handle] = p11.C_FindObjects(session, 1)
      p11.C_FindObjectsFinal(session)
      const attrs = p11.C_GetAttributeValue(session, handle as Buffer, [
        { type: api.CKA_SENSITIVE },
        { type: api.CKA_EXTRACTABLE },
      ])
      expect(attrs.map((a) => a.value[0])).toEqual([1, 0])
      expect(() => p11.C_GetAttributeValue(session, handle as Buffer, [{ type: api.CKA_VALUE }])).toThrow(
        expect.objectContaining({ code: api.CKR_ATTRIBUTE_SENSITIVE }),
      )
      p11.C_CloseSession(session)
    } finally {
      mod.release()
    }
  })

  it('a ValidatorSigner with an HSM key refuses a double sign exactly as with a raw key', () => {
    const key = token.key('v-imported')
    const hsmSigner = new ValidatorSigner({ chainId: CHAIN_ID, key }, { state: new MemorySignerState() })
    const rawSigner = new ValidatorSigner({ chainId: CHAIN_ID, privateKey: RAW }, { state: new MemorySignerState() })
    expect(hsmSigner.address).toEqual(rawSigner.address)
    const A = new Uint8Array(32).fill(0xaa)
    const B = new Uint8Array(32).fill(0xbb)
    const steps = [
      { type: MsgType.PRECOMMIT, height: 5, round: 0, blockHash: A },
      { type: MsgType.PRECOMMIT, height: 5, round: 0, blockHash: A },
      { type: MsgType.PRECOMMIT, height: 5, round: 0, blockHash: B },
      { type: MsgType.PREVOTE, height: 5, round: 0, blockHash: null },
      { type: MsgType.PRECOMMIT, height: 4, round: 0, blockHash: A },
    ] as const
    const outcome = (r: object) => ('refused' in r ? `refused: ${(r as { refused: string }).refused}` : 'signed')
    const hsmOut = steps.map((v) => outcome(hsmSigner.signVote({ ...v })))
    const rawOut = steps.map((v) => outcome(rawSigner.signVote({ ...v })))
    expect(hsmOut).toEqual(rawOut)
    expect(hsmOut.slice(0, 2)).toEqual(['signed', 'signed'])
    expect(hsmOut.slice(2).every((o) => o.startsWith('refused'))).toBe(true)
    const p = { height: 6, round: 0, blockHash: A, polRound: -1, block: new Uint8Array(0) }
    expect(outcome(hsmSigner.signProposal(p))).toBe('signed')
    expect(outcome(hsmSigner.signProposal({ ...p, blockHash: B }))).toMatch(/^refused/)
  })

  it('a rotation on the token: each height signed with the key in its set, none where neither is', () => {
    const current = token.key('v-imported')
    const next = token.key('v-generated')
    const set = (a: Uint8Array) => ValidatorSet.create([{ address: a, votingPower: 10n }])
    const signer = new ValidatorSigner(
      { chainId: CHAIN_ID, key: current, nextKeys: [next] },
      { state: new MemorySignerState() },
    )
    // As an engine does: it hands the signer its sets (heights < 10 the old key, then the new one).
    signer.followValidatorSets((h) =>
      h < 10 ? set(current.address) : h < 20 ? set(next.address) : set(new Uint8Array(20)),
    )
    const verify = createVerifier(CHAIN_ID)
    const at = (height: number) => signer.signVote({ type: MsgType.PREVOTE, height, round: 0, blockHash: null })
    const s9 = at(9)
    const s10 = at(10)
    expect('signature' in s9 && verify.voteSigner(s9)).toEqual(current.address)
    expect('signature' in s10 && verify.voteSigner(s10)).toEqual(next.address)
    expect(at(20)).toEqual({ refused: expect.stringMatching(/no key of this validator is in the set of height 20/) })
  })

  it('a bad setup is a clear error, each with its own code', async () => {
    expect(
      await codeOf(Pkcs11Token.open({ module: '/nonexistent/libpkcs11.so', token: 'validators', pin: '1234' })),
    ).toBe(KeysErrorCode.HSM_MODULE)
    expect(await codeOf(Pkcs11Token.open({ module: SOFTHSM_MODULE, token: 'absent', pin: '1234' }))).toBe(
      KeysErrorCode.HSM_TOKEN_ABSENT,
    )
    expect(await codeOf(Pkcs11Token.open({ module: SOFTHSM_MODULE, token: 'other', pin: '9999' }))).toBe(
      KeysErrorCode.HSM_PIN_INCORRECT,
    )
    expect(await codeOf(() => token.key('absent-key'))).toBe(KeysErrorCode.HSM_KEY_ABSENT)
  })

  it('a lost session: that signature fails (BFT_SIGNER_UNAVAILABLE, counted), the next one logs in again', async () => {
    const reg = new Registry()
    const t = await Pkcs11Token.open(
      { module: SOFTHSM_MODULE, token: 'validators', pin: '1234' },
      { metrics: createHsmMetrics(reg) },
    )
    const errors = async () =>
      Object.fromEntries(
        (await reg.getSingleMetric('cairn_hsm_sign_errors_total')?.get())?.values.map((v) => [
          v.labels.reason,
          v.value,
        ]) ?? [],
      )
    expect(await errors()).toEqual({ session: 0, device: 0 })
    const key = t.key('v-imported')
    const other = token.key('v-generated')
    const digest = new Uint8Array(32).fill(7)
    expect(recoverSigner(digest, key.sign(digest))).toEqual(key.address)
    // Every session of the token closed under it (as when the device is reset).
    const mod = await loadPkcs11Module(SOFTHSM_MODULE)
    const slot = mod.p11.C_GetSlotList(true).find((s) => mod.p11.C_GetTokenInfo(s).label.trimEnd() === 'validators')
    mod.p11.C_CloseAllSessions(slot as Buffer)
    expect(await codeOf(() => key.sign(digest))).toBe(KeysErrorCode.KEY_UNAVAILABLE)
    expect(await errors()).toEqual({ session: 1, device: 0 })
    expect((await reg.getSingleMetric('cairn_hsm_up')?.get())?.values[0]?.value).toBe(0)
    expect(recoverSigner(digest, key.sign(digest))).toEqual(key.address)
    expect((await reg.getSingleMetric('cairn_hsm_up')?.get())?.values[0]?.value).toBe(1)
    mod.release()
    t.close()
    // The suite's own token lost its session too: that signature fails, the next one reopens it.
    expect(await codeOf(() => other.sign(digest))).toBe(KeysErrorCode.KEY_UNAVAILABLE)
    expect(recoverSigner(digest, other.sign(digest))).toEqual(other.address)
  })

  it('a closed token gives no signature (KEYS_KEY_UNAVAILABLE): the signer throws, signing nothing', async () => {
    const t = await Pkcs11Token.open(
      { module: SOFTHSM_MODULE, token: 'validators', pin: '1234' },
      { metrics: createHsmMetrics(new Registry()) },
    )
    const key = t.key('v-generated')
    const signer = new ValidatorSigner({ chainId: CHAIN_ID, key }, { state: new MemorySignerState() })
    const vote = { type: MsgType.PREVOTE, height: 9, round: 0, blockHash: new Uint8Array(32).fill(1) }
    expect('signature' in signer.signVote(vote)).toBe(true)
    t.close()
    expect(await codeOf(() => signer.signVote({ ...vote, type: MsgType.PRECOMMIT }))).toBe(
      KeysErrorCode.KEY_UNAVAILABLE,
    )
  })
})
