// Consensus key rotation in the Staking system contract (rotateConsensusKey) on a real in-process
// Cairn dev node: the possession proof, taken and reused addresses, the set update that swaps the
// keys at equal power even past maxPowerChangeBps, the power history of both keys, rewards for the
// old key while the engine still has it, evidence against the old key at an old height, and the
// one-pending-rotation rule with its cooldown.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { rotationDigest, rotationProof, signDigest, voteDigest } from '@cairn/consensus'
import { type Hex, hexToBytes, parseEventLogs, toHex } from 'viem'
import { generatePrivateKey, privateKeyToAddress } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { registerStaking } from '../../packages/node/src/cli/commands/staking.ts'
import { newProgram } from '../../packages/node/src/cli/run-program.ts'
import {
  ETH,
  type Harness,
  initStaking,
  STAKING_ADDRESS,
  stakingAbi,
  startHarness,
  testParams,
} from './system-contracts.ts'

// unbondingBlocks 10: the rotation cooldown; maxPowerChangeBps 3000 of a total of 60: budget 18.
const P = testParams({ maxValidators: 5 })
const key = () => {
  const k = generatePrivateKey()
  return { key: hexToBytes(k), addr: privateKeyToAddress(k) }
}
const HASH_A = `0x${'aa'.repeat(32)}` as Hex
const HASH_B = `0x${'bb'.repeat(32)}` as Hex

describe('Staking: consensus key rotation', () => {
  let h: Harness
  let chainId: bigint
  const vals: { op: Hex; cons: { key: Uint8Array; addr: Hex } }[] = []
  let afterGenesis: Hex
  const call = (from: Hex, fn: string, args: unknown[] = [], value = 0n) =>
    h.send(from, STAKING_ADDRESS, stakingAbi, fn, args, value)
  const reverts = (from: Hex, fn: string, args: unknown[] = []) =>
    h.revertOf(from, STAKING_ADDRESS, stakingAbi, fn, args)
  const proof = (op: Hex, k: Uint8Array) => {
    const p = rotationProof(chainId, hexToBytes(STAKING_ADDRESS), hexToBytes(op), k)
    return [toHex(p.newConsensusAddr), toHex(p.proof)] as [Hex, Hex]
  }
  const activeSet = async () => {
    const [addrs, powers] = await h.st<[Hex[], bigint[]]>('activeSet')
    return new Map(addrs.map((a, i) => [a.toLowerCase(), powers[i]!]))
  }
  const consensusOf = async (op: Hex) => (await h.st<[Hex]>('getValidator', [op]))[0]
  const events = (receipt: { logs: unknown[] }, name: string) =>
    parseEventLogs({ abi: stakingAbi, logs: receipt.logs as never, eventName: name as never }) as unknown as {
      args: Record<string, unknown>
    }[]
  const fresh = async () => {
    await h.rpc('evm_revert', [afterGenesis])
    afterGenesis = await h.rpc<Hex>('evm_snapshot')
  }

  beforeAll(async () => {
    h = await startHarness()
    chainId = BigInt(await h.pub.getChainId())
    for (let i = 0; i < 4; i++) vals.push({ op: await h.account(), cons: key() })
    // v0 holds half the power (30 of 60): a swap moves 60, over three times the budget of 18.
    await initStaking(
      h,
      P,
      vals.map((v, i) => ({
        operator: v.op,
        consensus: v.cons.addr,
        selfBond: (i === 0 ? 30n : 10n) * ETH,
        commissionBps: 1000,
      })),
    )
    afterGenesis = await h.rpc<Hex>('evm_snapshot')
  }, 60_000)
  const dir = mkdtempSync(join(tmpdir(), 'cairn-rotate-key-'))
  afterAll(async () => {
    await h?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('the proof digest is the contract rotationDigest; only a proof by the new key for this operator passes', async () => {
    await fresh()
    const [v0, v1] = vals
    const n = key()
    const onChain = await h.st<Hex>('rotationDigest', [v0!.op, n.addr])
    expect(onChain).toBe(
      toHex(rotationDigest(chainId, hexToBytes(STAKING_ADDRESS), hexToBytes(v0!.op), hexToBytes(n.addr))),
    )
    // signed by another key (claiming an address one does not hold)
    const stranger = key()
    const byStranger = toHex(signDigest(hexToBytes(onChain), stranger.key))
    expect(await reverts(v0!.op, 'rotateConsensusKey', [n.addr, byStranger])).toBe('InvalidPossessionProof')
    // the new key's proof made for another operator does not serve v0
    const [, forV1] = proof(v1!.op, n.key)
    expect(await reverts(v0!.op, 'rotateConsensusKey', [n.addr, forV1])).toBe('InvalidPossessionProof')
    expect(await reverts(v0!.op, 'rotateConsensusKey', [n.addr, '0x1234'])).toBe('InvalidPossessionProof')
    // a vote signature by the new key is not a proof (another domain)
    const vote = toHex(signDigest(voteDigest(chainId, { type: 2, height: 1, round: 0, blockHash: null }), n.key))
    expect(await reverts(v0!.op, 'rotateConsensusKey', [n.addr, vote])).toBe('InvalidPossessionProof')
    // not a validator
    const nobody = await h.account()
    expect(await reverts(nobody, 'rotateConsensusKey', proof(nobody, n.key))).toBe('UnknownValidator')
    // taken: another validator's key (even with its proof), and one's own current key
    expect(await reverts(v0!.op, 'rotateConsensusKey', proof(v0!.op, v1!.cons.key))).toBe('ConsensusAddressTaken')
    expect(await reverts(v0!.op, 'rotateConsensusKey', proof(v0!.op, v0!.cons.key))).toBe('ConsensusAddressTaken')
    const r = await call(v0!.op, 'rotateConsensusKey', proof(v0!.op, n.key))
    const [ev] = events(r, 'ConsensusKeyRotated')
    expect(ev?.args).toMatchObject({
      operator: v0!.op,
      oldConsensusAddr: v0!.cons.addr,
      newConsensusAddr: n.addr,
      effectiveHeight: r.blockNumber + 2n,
    })
    expect(await consensusOf(v0!.op)).toBe(n.addr)
    expect(await h.st('validatorByConsensus', [n.addr])).toBe(v0!.op)
    expect(await h.st('validatorByConsensus', [v0!.cons.addr])).toBe(v0!.op) // the old key still maps
    expect(await h.st('pendingSetChange')).toBe(true)
    // the new key is now taken for everyone else
    const other = await h.account()
    expect(
      await h.revertOf(other, STAKING_ADDRESS, stakingAbi, 'createValidator', [n.addr, 0, 100, 10, ETH, ''], 2n * ETH),
    ).toBe('ConsensusAddressTaken')
  })

  it('the set update swaps the keys at equal power past maxPowerChangeBps; the power history hands over at +2', async () => {
    await fresh()
    const [v0, v1] = vals
    const n = key()
    const before = await activeSet()
    expect(before.get(v0!.cons.addr.toLowerCase())).toBe(30n)
    await call(v0!.op, 'rotateConsensusKey', proof(v0!.op, n.key))
    const update = await h.system('epochUpdate')
    const after = await activeSet()
    expect(after.get(n.addr.toLowerCase())).toBe(30n)
    expect(after.has(v0!.cons.addr.toLowerCase())).toBe(false)
    expect(after.get(v1!.cons.addr.toLowerCase())).toBe(10n)
    expect(after.size).toBe(4)
    expect(await h.st('pendingSetChange')).toBe(false)
    const b = update.blockNumber
    expect(await h.st('powerAt', [v0!.cons.addr, b + 1n])).toBe(30n)
    expect(await h.st('powerAt', [v0!.cons.addr, b + 2n])).toBe(0n)
    expect(await h.st('powerAt', [n.addr, b + 1n])).toBe(0n)
    expect(await h.st('powerAt', [n.addr, b + 2n])).toBe(30n)
    expect(await h.st('rotationOf', [v0!.op])).toEqual([v0!.cons.addr, b - 1n, false])
    // a swap and a power change in one update: the change alone is bounded
    const d = await h.account(200n)
    const m = key()
    await h.mine(Number(P.unbondingBlocks))
    await call(d, 'delegate', [v1!.op], 100n * ETH) // target power 110 for v1: +100, budget 18
    await call(v1!.op, 'rotateConsensusKey', proof(v1!.op, m.key))
    await h.system('epochUpdate')
    const third = await activeSet()
    expect(third.has(v1!.cons.addr.toLowerCase())).toBe(false)
    expect(third.get(m.addr.toLowerCase())).toBe(10n + 18n)
    expect(await h.imbalance()).toBe(0n)
  })

  it('the old key is rewarded while the engine still has it, and its evidence at an old height still slashes', async () => {
    await fresh()
    const [v0] = vals
    const n = key()
    const height = Number(await h.blockNumber()) // v0's old key is in the set here
    await call(v0!.op, 'rotateConsensusKey', proof(v0!.op, n.key))
    await h.system('epochUpdate')
    // the certificates of the next two heights are still signed by the old key: it earns v0's share
    const [, , , , , commissionBefore] = await h.st<bigint[]>('getValidatorTerms', [v0!.op])
    await h.system('reward', [[v0!.cons.addr], []], 10n * ETH)
    const [, , , , , commissionAfter] = await h.st<bigint[]>('getValidatorTerms', [v0!.op])
    expect(commissionAfter! - commissionBefore!).toBe((((10n * ETH * 9800n) / 10_000n) * 1000n) / 10_000n)
    // double sign by the old key at a height it was active
    const sign = (hash: Hex) =>
      toHex(signDigest(voteDigest(chainId, { type: 2, height, round: 0, blockHash: hexToBytes(hash) }), v0!.cons.key))
    const anyone = await h.account()
    const r = await call(anyone, 'submitDoubleSign', [BigInt(height), 0, 2, HASH_A, sign(HASH_A), HASH_B, sign(HASH_B)])
    const [slashed] = events(r, 'Slashed')
    expect(slashed?.args).toMatchObject({ consensusAddr: v0!.cons.addr, amount: (30n * ETH * 500n) / 10_000n })
    const [, tokens, , , jailed, tombstoned] = await h.st<[Hex, bigint, bigint, number, boolean, boolean]>(
      'getValidator',
      [v0!.op],
    )
    expect({ tokens, jailed, tombstoned }).toEqual({
      tokens: 30n * ETH - (30n * ETH * 500n) / 10_000n,
      jailed: true,
      tombstoned: true,
    })
    // the operator's current key leaves the set at the next update
    expect(await h.st('pendingSetChange')).toBe(true)
    await h.system('epochUpdate')
    expect((await activeSet()).has(n.addr.toLowerCase())).toBe(false)
    // a tombstoned validator cannot rotate
    expect(await reverts(v0!.op, 'rotateConsensusKey', proof(v0!.op, key().key))).toBe('Tombstoned')
    expect(await h.imbalance()).toBe(0n)
  })

  it('the engine path slashes evidence against the old key too', async () => {
    await fresh()
    const [, v1] = vals
    const height = BigInt(await h.blockNumber())
    await call(v1!.op, 'rotateConsensusKey', proof(v1!.op, key().key))
    await h.system('epochUpdate')
    await h.mine(2)
    const r = await h.system('slashDoubleSign', [v1!.cons.addr, height, 0, 1])
    expect(events(r, 'ValidatorTombstoned')).toHaveLength(1)
    expect((await h.st<unknown[]>('getValidator', [v1!.op]))[5]).toBe(true)
  })

  it('one rotation pending at a time, then one per unbondingBlocks; old keys are never reused', async () => {
    await fresh()
    const [v0, v1] = vals
    const a = key()
    const r = await call(v0!.op, 'rotateConsensusKey', proof(v0!.op, a.key))
    // not yet swapped (the engine runs the update in the same block; here it has not run)
    expect(await reverts(v0!.op, 'rotateConsensusKey', proof(v0!.op, key().key))).toBe('RotationPending')
    await h.system('epochUpdate')
    expect(await reverts(v0!.op, 'rotateConsensusKey', proof(v0!.op, key().key))).toBe('RotationTooSoon')
    // the old key is taken for good: not back to it, not for another validator
    expect(await reverts(v0!.op, 'rotateConsensusKey', proof(v0!.op, v0!.cons.key))).toBe('ConsensusAddressTaken')
    expect(await reverts(v1!.op, 'rotateConsensusKey', proof(v1!.op, v0!.cons.key))).toBe('ConsensusAddressTaken')
    const next = r.blockNumber + P.unbondingBlocks
    await h.mine(Number(next - (await h.blockNumber()) - 1n)) // the rotation lands in block `next`
    const b = key()
    await call(v0!.op, 'rotateConsensusKey', proof(v0!.op, b.key))
    await h.system('epochUpdate')
    const set = await activeSet()
    expect(set.get(b.addr.toLowerCase())).toBe(30n)
    expect(set.has(a.addr.toLowerCase())).toBe(false)
    expect(await h.st('validatorByConsensus', [a.addr])).toBe(v0!.op)
  })

  it('cairn staking rotate-key creates the new key file, builds the proof and sends the rotation', async () => {
    await fresh()
    // An operator whose key the CLI signs with (the genesis operators are impersonated accounts).
    const opKey = generatePrivateKey()
    const op = privateKeyToAddress(opKey)
    await h.rpc('anvil_setBalance', [op, toHex(100n * ETH)])
    await h.rpc('anvil_impersonateAccount', [op])
    await call(op, 'createValidator', [key().addr, 0, 100, 10, ETH, 'cli'], 5n * ETH)
    const opFile = join(dir, 'operator.key')
    writeFileSync(opFile, opKey.slice(2), { mode: 0o600 })
    const next = join(dir, 'validator.next.key')
    const out: string[] = []
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out.push(String(chunk))
      return true
    })
    try {
      const program = newProgram().exitOverride()
      registerStaking(program)
      const argv = ['staking', 'rotate-key', '--rpc', h.url, '--new-key-file', next, '--private-key-file', opFile]
      await program.parseAsync(argv, { from: 'user' })
      // the same key again is refused by the simulation, and nothing is sent
      const sent = await h.pub.getTransactionCount({ address: op })
      await expect(program.parseAsync(argv, { from: 'user' })).rejects.toThrow(/ConsensusAddressTaken/)
      expect(await h.pub.getTransactionCount({ address: op })).toBe(sent)
    } finally {
      write.mockRestore()
    }
    const created = /created .* \((0x[0-9a-fA-F]{40})\)/.exec(out.join(''))?.[1] as Hex
    expect(created).toBeDefined()
    expect((await consensusOf(op)).toLowerCase()).toBe(created.toLowerCase())
    expect(out.join('')).toMatch(/rotateConsensusKey: 0x[0-9a-f]{64} in block \d+/)
  })
})
