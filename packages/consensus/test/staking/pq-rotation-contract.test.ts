// The Staking contract's consensus key rotation under each scheme, called directly in an EVM over
// the staking genesis (no network): on a hybrid or ml-dsa-65 chain the three-argument
// `rotateConsensusKey(newConsensusAddr, proof, pqPublicKey)` stores the new address's ML-DSA-65 key
// (`pqPublicKeys`, `PqPublicKeySet`) and rotates; the two-argument form is refused there
// (`RefusedUnderPqScheme`), the three-argument one on a secp256k1 chain
// (`RefusedUnderSecp256k1Scheme`). Hybrid wants the secp256k1 possession proof, ml-dsa-65 an empty
// proof and the key's own address; wrong lengths, wrong proofs, a mismatched or taken address are
// refused with their errors.
import { GOVERNANCE_ADDRESS, STAKING_ADDRESS, staking } from '@cairn/contracts'
import { keccak256, privateKeyToAddress } from '@cairn/crypto'
import { bytesToHex, hexToBytes } from '@cairn/utils'
import { createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common'
import { SimpleStateManager } from '@ethereumjs/statemanager'
import { Account, Address as EthAddress, setLengthLeft, unpadBytes } from '@ethereumjs/util'
import { createVM, type VM } from '@ethereumjs/vm'
import {
  type Abi,
  decodeErrorResult,
  decodeEventLog,
  decodeFunctionResult,
  encodeFunctionData,
  getAddress,
  type Hex,
} from 'viem'
import { beforeAll, describe, expect, it } from 'vitest'
import { pqAddress, type SignatureScheme } from '../../src/bft/pq/index.ts'
import { pqRotationArgs, rotationProof, stakingGenesisAlloc, stakingParamsWith } from '../../src/index.ts'
import { mlDsaDigestKey } from '../../src/privval/index.ts'
import { validatorKey } from '../harness/bft-network.ts'

const CHAIN_ID = 1337n
const ABI = staking.abi as Abi
const STAKING = hexToBytes(STAKING_ADDRESS as Hex)
const seed = (label: string) => keccak256(new TextEncoder().encode(`cairn-pq-rotation-contract-${label}`))
const pqKeyOf = (label: string) => mlDsaDigestKey({ pqSeed: seed(label) }).pqPublicKey as Uint8Array
const OPERATOR = (i: number) => privateKeyToAddress(validatorKey(i))
/** viem prints addresses in errors EIP-55 checksummed. */
const checksum = (a: string) => getAddress(a)

/** An EVM over the staking genesis of `scheme` (3 validators, each its own operator), at block 10. */
async function stakingChain(scheme: SignatureScheme) {
  const genesisKeys = [0, 1, 2].map((i) => pqKeyOf(`genesis-${i}`))
  const { staking: params, governance } = stakingParamsWith('devnet', [])
  const alloc = await stakingGenesisAlloc({
    chainId: CHAIN_ID,
    ...(scheme === 'secp256k1' ? {} : { signatureScheme: scheme }),
    validators: [0, 1, 2].map((i) => ({
      operator: bytesToHex(OPERATOR(i)) as Hex,
      consensus: bytesToHex(scheme === 'ml-dsa-65' ? pqAddress(genesisKeys[i] as Uint8Array) : OPERATOR(i)) as Hex,
      selfBond: 10n ** 19n,
      commissionBps: 1000,
      ...(scheme === 'secp256k1' ? {} : { pqPublicKey: bytesToHex(genesisKeys[i] as Uint8Array) as Hex }),
    })),
    staking: params,
    governance,
    chain: { blockGasLimit: 30_000_000n, minBaseFee: 0n, blockTimeMs: 1000n },
  })
  const common = createCustomCommon({ chainId: Number(CHAIN_ID) }, Mainnet, { hardfork: Hardfork.Prague })
  const sm = new SimpleStateManager({ common })
  const vm: VM = await createVM({ common, stateManager: sm })
  for (const [addr, entry] of Object.entries(alloc)) {
    const a = new EthAddress(hexToBytes(addr as Hex))
    await sm.putAccount(a, new Account(0n, BigInt(entry.balance)))
    await sm.putCode(a, hexToBytes(entry.code))
    for (const [k, v] of Object.entries(entry.storage)) {
      await sm.putStorage(a, setLengthLeft(hexToBytes(k), 32), unpadBytes(hexToBytes(v)))
    }
  }
  expect(Object.keys(alloc).map((a) => a.toLowerCase())).toContain(GOVERNANCE_ADDRESS.toLowerCase())

  /** Runs `fn(args)` on the staking contract from `from` (committed when it succeeds). */
  const call = async (from: Uint8Array, fn: string, args: unknown[]) => {
    const res = await vm.evm.runCall({
      caller: new EthAddress(from),
      origin: new EthAddress(from),
      to: new EthAddress(STAKING),
      data: hexToBytes(encodeFunctionData({ abi: ABI, functionName: fn, args })),
      gasLimit: 10_000_000n,
      skipBalance: true,
      block: {
        header: {
          number: 10n,
          timestamp: 1_000n,
          coinbase: new EthAddress(new Uint8Array(20)),
          gasLimit: 30_000_000n,
          difficulty: 0n,
          prevRandao: new Uint8Array(32),
          mixHash: new Uint8Array(32),
          baseFeePerGas: 0n,
          getBlobGasPrice: () => 0n,
        },
      } as never,
    })
    const out = res.execResult
    if (out.exceptionError !== undefined) {
      const e = decodeErrorResult({ abi: ABI, data: bytesToHex(out.returnValue) as Hex })
      return { error: `${e.errorName}(${(e.args ?? []).map(String).join(',')})`, gas: out.executionGasUsed, events: [] }
    }
    const events = (out.logs ?? []).map(([, topics, data]) =>
      decodeEventLog({ abi: ABI, topics: topics.map((t) => bytesToHex(t)) as [Hex], data: bytesToHex(data) as Hex }),
    )
    return { error: null, gas: out.executionGasUsed, events, returnValue: out.returnValue }
  }
  const read = async (fn: string, args: unknown[] = []) => {
    const r = await call(new Uint8Array(20), fn, args)
    return decodeFunctionResult({ abi: ABI, functionName: fn, data: bytesToHex(r.returnValue as Uint8Array) as Hex })
  }
  return { call, read, genesisKeys }
}

const rotate3 = (newAddr: Uint8Array, proof: Uint8Array, key: Uint8Array) => [
  bytesToHex(newAddr),
  bytesToHex(proof),
  bytesToHex(key),
]

describe('Staking.rotateConsensusKey under each signature scheme', () => {
  let keyA: Uint8Array
  beforeAll(() => {
    keyA = pqKeyOf('next-a')
  })

  it('hybrid: the secp256k1 proof and the new ML-DSA key rotate and store the key; refusals name their error', async () => {
    const c = await stakingChain('hybrid')
    const op = OPERATOR(0)
    const newSecp = keccak256(new TextEncoder().encode('cairn-pq-rotation-contract-secp-a'))
    const args = pqRotationArgs(CHAIN_ID, STAKING, op, { scheme: 'hybrid', key: newSecp, pqSeed: seed('next-a') })
    expect(bytesToHex(args.pqPublicKey)).toBe(bytesToHex(keyA))
    expect(bytesToHex(args.newConsensusAddr)).toBe(bytesToHex(privateKeyToAddress(newSecp)))

    // The two-argument form carries no key: refused on a PQ chain.
    expect(
      (await c.call(op, 'rotateConsensusKey', [bytesToHex(args.newConsensusAddr), bytesToHex(args.proof)])).error,
    ).toBe('RefusedUnderPqScheme(1)')
    // Wrong: a short key, no key, a proof by another key, an empty proof, an address already taken.
    const refused = async (a: unknown[]) => (await c.call(op, 'rotateConsensusKey', a)).error
    expect(await refused(rotate3(args.newConsensusAddr, args.proof, keyA.subarray(0, 1951)))).toBe(
      'InvalidPqPublicKey(1951,1952)',
    )
    expect(await refused(rotate3(args.newConsensusAddr, args.proof, new Uint8Array()))).toBe(
      'InvalidPqPublicKey(0,1952)',
    )
    const other = rotationProof(CHAIN_ID, STAKING, op, validatorKey(9)).proof
    expect(await refused(rotate3(args.newConsensusAddr, other, keyA))).toBe('InvalidPossessionProof()')
    expect(await refused(rotate3(args.newConsensusAddr, new Uint8Array(), keyA))).toBe('InvalidPossessionProof()')
    const taken = rotationProof(CHAIN_ID, STAKING, op, validatorKey(1))
    expect(await refused(rotate3(taken.newConsensusAddr, taken.proof, keyA))).toBe(
      `ConsensusAddressTaken(${checksum(bytesToHex(OPERATOR(1)))})`,
    )

    // The rotation: the key stored for the new address, its event, the rotation's.
    const ok = await c.call(op, 'rotateConsensusKey', rotate3(args.newConsensusAddr, args.proof, args.pqPublicKey))
    expect(ok.error).toBeNull()
    expect(ok.events.map((e) => e.eventName)).toEqual(['PqPublicKeySet', 'ConsensusKeyRotated'])
    const keys = (await c.read('pqPublicKeys', [[bytesToHex(args.newConsensusAddr)]])) as readonly Hex[]
    expect(keys[0]).toBe(bytesToHex(keyA))
    const validator = (await c.read('getValidator', [bytesToHex(op)])) as readonly unknown[]
    expect(String(validator[0]).toLowerCase()).toBe(bytesToHex(args.newConsensusAddr).toLowerCase())
    // The old address keeps its key (light clients, evidence at its heights).
    const [oldKey] = (await c.read('pqPublicKeys', [[bytesToHex(op)]])) as readonly Hex[]
    expect(oldKey).toBe(bytesToHex(c.genesisKeys[0] as Uint8Array))
    process.stdout.write(`rotateConsensusKey (hybrid, 1,952-byte key): ${ok.gas} gas of execution\n`)
    // A second one while the first is pending.
    const again = pqRotationArgs(CHAIN_ID, STAKING, op, { scheme: 'hybrid', key: validatorKey(8), pqSeed: seed('b') })
    expect(await refused(rotate3(again.newConsensusAddr, again.proof, again.pqPublicKey))).toBe(
      `RotationPending(${checksum(bytesToHex(op))})`,
    )
  }, 30_000)

  it('ml-dsa-65: the new address is the key’s, the proof empty; a mismatch, a proof or a copied key is refused', async () => {
    const c = await stakingChain('ml-dsa-65')
    const op = OPERATOR(1)
    const args = pqRotationArgs(CHAIN_ID, STAKING, op, { scheme: 'ml-dsa-65', pqSeed: seed('next-a') })
    expect(bytesToHex(args.newConsensusAddr)).toBe(bytesToHex(pqAddress(keyA)))
    expect(args.proof.length).toBe(0)
    const refused = async (a: unknown[]) => (await c.call(op, 'rotateConsensusKey', a)).error

    expect(await refused([bytesToHex(args.newConsensusAddr), '0x'])).toBe('RefusedUnderPqScheme(2)')
    const elsewhere = privateKeyToAddress(validatorKey(9))
    expect(await refused(rotate3(elsewhere, new Uint8Array(), keyA))).toBe(
      `PqAddressMismatch(${checksum(bytesToHex(elsewhere))},${checksum(bytesToHex(pqAddress(keyA)))})`,
    )
    expect(await refused(rotate3(args.newConsensusAddr, Uint8Array.of(1), keyA))).toBe('InvalidPossessionProof()')
    expect(await refused(rotate3(args.newConsensusAddr, new Uint8Array(), keyA.subarray(1)))).toBe(
      'InvalidPqPublicKey(1951,1952)',
    )
    // Another validator's public key, copied: its address is that validator's, taken.
    const copied = c.genesisKeys[2] as Uint8Array
    expect(await refused(rotate3(pqAddress(copied), new Uint8Array(), copied))).toBe(
      `ConsensusAddressTaken(${checksum(bytesToHex(pqAddress(copied)))})`,
    )

    const ok = await c.call(op, 'rotateConsensusKey', rotate3(args.newConsensusAddr, args.proof, args.pqPublicKey))
    expect(ok.error).toBeNull()
    expect(ok.events.map((e) => e.eventName)).toEqual(['PqPublicKeySet', 'ConsensusKeyRotated'])
    const keys = (await c.read('pqPublicKeys', [[bytesToHex(args.newConsensusAddr)]])) as readonly Hex[]
    expect(keys[0]).toBe(bytesToHex(keyA))
    process.stdout.write(`rotateConsensusKey (ml-dsa-65, 1,952-byte key): ${ok.gas} gas of execution\n`)
  }, 30_000)

  it('secp256k1: the three-argument form is refused, the two-argument one rotates as before', async () => {
    const c = await stakingChain('secp256k1')
    const op = OPERATOR(2)
    const p = rotationProof(CHAIN_ID, STAKING, op, validatorKey(7))
    expect((await c.call(op, 'rotateConsensusKey', rotate3(p.newConsensusAddr, p.proof, keyA))).error).toBe(
      'RefusedUnderSecp256k1Scheme()',
    )
    expect((await c.call(op, 'rotateConsensusKey', rotate3(p.newConsensusAddr, p.proof, new Uint8Array()))).error).toBe(
      'RefusedUnderSecp256k1Scheme()',
    )
    const ok = await c.call(op, 'rotateConsensusKey', [bytesToHex(p.newConsensusAddr), bytesToHex(p.proof)])
    expect(ok.error).toBeNull()
    expect(ok.events.map((e) => e.eventName)).toEqual(['ConsensusKeyRotated'])
    process.stdout.write(`rotateConsensusKey (secp256k1): ${ok.gas} gas of execution\n`)
  }, 30_000)
})
