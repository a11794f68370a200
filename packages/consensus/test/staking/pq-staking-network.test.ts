// Proof of stake under the hybrid scheme (secp256k1 ‖ ML-DSA-65) in the in-process network: the
// staking contract holds each validator's ML-DSA-65 key (genesis: `initializePq`; later:
// `createValidator(…, pqPublicKey)`), a validator that registers with its key enters the engine's
// set at H+2 through a change record `[address, power, pqPublicKey]` and signs, and every
// certificate verifies against the sets read from the chain alone (the genesis's staking contract,
// then the change records the headers carry). A key of the wrong length is refused, and so is the
// permissionless `submitDoubleSign` (ecrecover checks only the forgeable part); evidence the engine
// verified still slashes through `endBlock`.
import { STAKING_ADDRESS, staking, stakingAbi } from '@cairn/contracts'
import { keccak256, privateKeyToAddress } from '@cairn/crypto'
import { rawDigestKey } from '@cairn/keys'
import { bytesToHex, hexToBytes } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { Address as EthAddress } from '@ethereumjs/util'
import { type Abi, decodeErrorResult, encodeFunctionData, type Hex } from 'viem'
import { afterEach, describe, expect, it } from 'vitest'
import { KEYS as TX_KEYS, transfer } from '../../../chain/test/helpers.ts'
import { verifySchemeCertificate } from '../../src/bft/pq/index.ts'
import {
  decodeBftExtra,
  duplicateVoteEvidence,
  genesisStakingSet,
  MemorySignerState,
  MsgType,
  ValidatorSchedule,
  ValidatorSigner,
  voteDigest,
} from '../../src/index.ts'
import { hybridDigestKey, type SchemeDigestKey } from '../../src/privval/index.ts'
import { BftNetwork, type BftNode, validatorKey } from '../harness/bft-network.ts'
import { readStaking } from './read-staking.ts'

const CHAIN_ID = 1337n
const utf8 = (s: string) => new TextEncoder().encode(s)
const KEYS: SchemeDigestKey[] = [0, 1, 2, 3, 4].map((i) =>
  hybridDigestKey({
    secpKey: rawDigestKey(validatorKey(i)),
    pqSeed: keccak256(utf8(`cairn-bft-pq-test-${i}`)),
    signing: 'deterministic',
  }),
)
const ADDR = (i: number) => bytesToHex(privateKeyToAddress(validatorKey(i))).toLowerCase()
const PQ_KEY = (i: number) => KEYS[i]?.pqPublicKey as Uint8Array

let net: BftNetwork | undefined
afterEach(async () => {
  await net?.stop()
  net = undefined
})

/** Five keyed hybrid nodes, the first four bonded at genesis with their ML-DSA keys. */
async function hybridStakingNetwork(validators = 5, genesisValidators = 4): Promise<BftNetwork> {
  return BftNetwork.create({
    validators,
    genesisValidators,
    signer: (i) =>
      new ValidatorSigner({ chainId: CHAIN_ID, key: KEYS[i] as SchemeDigestKey }, { state: new MemorySignerState() }),
    bft: (vals) => ({
      signatureScheme: 'hybrid',
      validators: vals.map((v, i) => ({ ...v, pqPublicKey: bytesToHex(PQ_KEY(i)) })),
    }),
    staking: { params: ['staking.epochLength=4'] },
  })
}

/** Runs `data` against the staking contract from `from` in the head's state (not committed). */
async function callStaking(
  node: BftNode,
  from: Uint8Array,
  data: Hex,
  value = 0n,
): Promise<{ error: string | null; gas: bigint }> {
  const vm = await node.chain.vmAt(node.chain.head.header)
  const res = await vm.evm.runCall({
    caller: new EthAddress(from),
    origin: new EthAddress(from),
    to: new EthAddress(hexToBytes(STAKING_ADDRESS as Hex)),
    data: hexToBytes(data),
    value,
    gasLimit: 10_000_000n,
    skipBalance: true,
  })
  if (res.execResult.exceptionError === undefined) return { error: null, gas: res.execResult.executionGasUsed }
  const decoded = decodeErrorResult({ abi: staking.abi as Abi, data: bytesToHex(res.execResult.returnValue) as Hex })
  return {
    error: `${decoded.errorName}(${(decoded.args ?? []).map(String).join(',')})`,
    gas: res.execResult.executionGasUsed,
  }
}

const register = (consensus: string, key: Uint8Array | null): Hex =>
  encodeFunctionData({
    abi: staking.abi as Abi,
    functionName: 'createValidator',
    args:
      key === null
        ? [consensus, 1000, 2000, 100, 10n ** 18n, 'pq']
        : [consensus, 1000, 2000, 100, 10n ** 18n, 'pq', bytesToHex(key)],
  })

function engineSet(node: BftNode, height: number): string[] {
  return node.engine
    .validatorsAt(height)
    .validators.map((v) => bytesToHex(v.address).toLowerCase())
    .sort()
}

describe('proof of stake under the hybrid scheme', () => {
  it('a validator registering its ML-DSA key joins at H+2 and signs; every certificate verifies from the chain alone', async () => {
    net = await hybridStakingNetwork()
    await net.start()
    expect(await net.runUntil(() => net?.nodes.every((n) => n.chain.head.header.number >= 2n) ?? false)).toBe(true)
    const n0 = net.nodes[0] as BftNode
    const operator = privateKeyToAddress(TX_KEYS[1] as Uint8Array)

    // Refused: a key of the wrong length, no key (the secp256k1 overload), submitDoubleSign.
    const short = await callStaking(n0, operator, register(ADDR(4), PQ_KEY(4).subarray(0, 1951)), 5n * 10n ** 18n)
    expect(short.error).toBe('InvalidPqPublicKey(1951,1952)')
    const none = await callStaking(n0, operator, register(ADDR(4), null), 5n * 10n ** 18n)
    expect(none.error).toBe('InvalidPqPublicKey(0,1952)')
    const doubleSign = encodeFunctionData({
      abi: staking.abi as Abi,
      functionName: 'submitDoubleSign',
      args: [1n, 0, 1, `0x${'11'.repeat(32)}`, '0x', `0x${'22'.repeat(32)}`, '0x'],
    })
    expect((await callStaking(n0, operator, doubleSign)).error).toBe('RefusedUnderPqScheme(1)')
    const rotate = encodeFunctionData({
      abi: staking.abi as Abi,
      functionName: 'rotateConsensusKey',
      args: [ADDR(4), '0x'],
    })
    expect((await callStaking(n0, privateKeyToAddress(validatorKey(0)), rotate)).error).toBe('RefusedUnderPqScheme(1)')
    // The right key passes (measured: the gas of a registration with its 1,952-byte key).
    const ok = await callStaking(n0, operator, register(ADDR(4), PQ_KEY(4)), 5n * 10n ** 18n)
    expect(ok.error).toBeNull()
    expect(ok.gas).toBeGreaterThan(1_000_000n) // 61 fresh slots
    process.stdout.write(`createValidator with a 1,952-byte ML-DSA key: ${ok.gas} gas\n`)

    // Node 4 registers with its key, for real.
    const tx = transfer(n0.chain.common, TX_KEYS[1] as Uint8Array, 0n, STAKING_ADDRESS as Hex, 5n * 10n ** 18n, {
      data: Buffer.from(register(ADDR(4), PQ_KEY(4)).slice(2), 'hex'),
      gasLimit: 3_000_000n,
    })
    for (const n of net.nodes) await n.pool.add(tx, { source: 'local' })
    const joined = () => engineSet(n0, Number(n0.chain.head.header.number)).includes(ADDR(4))
    expect(await net.runUntil(joined, 90_000)).toBe(true)
    const from = n0.chain.head.header.number
    expect(await net.runUntil(() => n0.chain.head.header.number >= from + 4n, 60_000)).toBe(true)
    const head = Number(n0.chain.head.header.number)
    const block = async (h: number) => (await n0.chain.getBlockByNumber(BigInt(h))) as Block

    // The contract's set after block H has node 4 first at some H; the engine's at H+2, not H+1.
    let entered = 0
    for (let h = 1; h <= head && entered === 0; h++) {
      const [addrs] = (await readStaking(n0, await block(h), stakingAbi, 'activeSet')) as [Hex[], bigint[]]
      if (addrs.some((a) => a.toLowerCase() === ADDR(4))) entered = h
    }
    expect(entered).toBeGreaterThan(0)
    expect(engineSet(n0, entered + 1)).not.toContain(ADDR(4))
    expect(engineSet(n0, entered + 2)).toContain(ADDR(4))
    // The block that carries the change (H+1) has the key: [address, power, pqPublicKey].
    const carried = decodeBftExtra((await block(entered + 1)).header.extraData, 'hybrid').validatorChanges ?? []
    const change = carried.find((c) => bytesToHex(c.address).toLowerCase() === ADDR(4))
    expect(change?.pqPublicKey && bytesToHex(change.pqPublicKey)).toBe(bytesToHex(PQ_KEY(4)))

    // From the chain alone: the genesis's staking contract, then the headers' change records.
    const schedule = new ValidatorSchedule(await genesisStakingSet(net.genesis, 'hybrid'), undefined, 'hybrid')
    let verified = 0
    let byNode4 = 0
    for (let h = 2; h <= head; h++) {
      const extra = decodeBftExtra((await block(h)).header.extraData, 'hybrid')
      schedule.recordHeader(h, extra.validatorChanges ?? [])
      const cert = extra.parentCertificate
      if (cert === null) continue
      const set = schedule.at(cert.height)
      verifySchemeCertificate(cert, 'hybrid', set, (a) => set.pqKeyOf(a), CHAIN_ID)
      verified++
      const signers = cert.signatures.map((s) => bytesToHex(set.validators[s.validatorIndex]?.address as Uint8Array))
      if (signers.map((a) => a.toLowerCase()).includes(ADDR(4))) {
        byNode4++
        expect(cert.signatures.every((s) => s.signature.length === 3374)).toBe(true)
      }
    }
    expect(verified).toBeGreaterThanOrEqual(head - 2)
    expect(byNode4).toBeGreaterThan(0)
    expect(bytesToHex(schedule.at(head).pqKeyOf(hexToBytes(ADDR(4) as Hex)) as Uint8Array)).toBe(bytesToHex(PQ_KEY(4)))
  }, 180_000)

  it('slashes and tombstones a hybrid double-signer on engine-verified evidence', async () => {
    net = await hybridStakingNetwork(4, 4)
    await net.start()
    expect(await net.runUntil(() => net?.nodes.every((n) => n.chain.head.header.number >= 3n) ?? false)).toBe(true)
    const vote = (hash: number) => {
      const v = { height: 2, round: 0, type: MsgType.PREVOTE, blockHash: new Uint8Array(32).fill(hash) }
      return { ...v, signature: (KEYS[3] as SchemeDigestKey).sign(voteDigest(CHAIN_ID, v)) }
    }
    const ev = duplicateVoteEvidence(hexToBytes(ADDR(3) as Hex), vote(1), vote(2))
    for (const n of net.nodes) n.engine.evidence.submit(ev, Number(n.chain.head.header.number))
    const n0 = net.nodes[0] as BftNode
    const gone = () => !engineSet(n0, Number(n0.chain.head.header.number) + 1).includes(ADDR(3))
    expect(await net.runUntil(gone, 90_000)).toBe(true)
    const v = (await readStaking(n0, n0.chain.head, stakingAbi, 'getValidator', [ADDR(3)])) as unknown[]
    expect(v[4]).toBe(true) // jailed
    expect(v[5]).toBe(true) // tombstoned
    expect(v[1]).toBe(95n * 10n ** 17n) // 5 % of 10 coins, once
  }, 180_000)
})
