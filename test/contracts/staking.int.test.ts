// The Staking system contract on a real in-process Cairn dev node: every rule and the custom error
// it reverts with, rewards (tax, commission, per-share split, O(1) gas whatever the number of
// delegators), double-sign evidence checked on-chain against the consensus package's own digest and
// signatures, downtime jailing, and the bounded epoch update of the active set.
import { MsgType, signDigest, voteDigest } from '@cairn/consensus'
import { type Hex, hexToBytes, parseEventLogs, toHex } from 'viem'
import { generatePrivateKey, privateKeyToAddress } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type Call,
  ETH,
  freshAddress,
  type Harness,
  initStaking,
  STAKING_ADDRESS,
  SYSTEM_ADDRESS,
  stakingAbi,
  startHarness,
  testParams,
} from './system-contracts.ts'

const P = testParams({ maxValidators: 5 })
const key = () => {
  const k = generatePrivateKey()
  return { key: hexToBytes(k), addr: privateKeyToAddress(k) }
}
const HASH_A = `0x${'aa'.repeat(32)}` as Hex
const HASH_B = `0x${'bb'.repeat(32)}` as Hex
const NIL = `0x${'00'.repeat(32)}` as Hex

interface Val {
  op: Hex
  cons: { key: Uint8Array; addr: Hex }
}

describe('Staking on a Cairn dev node', () => {
  let h: Harness
  let chainId: bigint
  const vals: Val[] = []
  let afterGenesis: Hex
  const call = (from: Hex, fn: string, args: unknown[] = [], value = 0n) =>
    h.send(from, STAKING_ADDRESS, stakingAbi, fn, args, value)
  const reverts = (from: Hex, fn: string, args: unknown[] = [], value = 0n) =>
    h.revertOf(from, STAKING_ADDRESS, stakingAbi, fn, args, value)
  const validator = async (op: Hex) => {
    const [consensusAddr, tokens, selfBond, commissionBps, jailed, tombstoned, jailedUntil] = await h.st<
      [Hex, bigint, bigint, number, boolean, boolean, bigint, string]
    >('getValidator', [op])
    return { consensusAddr, tokens, selfBond, commissionBps, jailed, tombstoned, jailedUntil }
  }
  const activeSet = async () => {
    const [addrs, powers] = await h.st<[Hex[], bigint[]]>('activeSet')
    return new Map(addrs.map((a, i) => [a.toLowerCase(), powers[i]!]))
  }
  const sign = (k: Uint8Array, height: number, round: number, type: 1 | 2, hash: Hex) =>
    toHex(
      signDigest(voteDigest(chainId, { type, height, round, blockHash: hash === NIL ? null : hexToBytes(hash) }), k),
    )
  const events = (receipt: { logs: unknown[] }, name: string) =>
    parseEventLogs({ abi: stakingAbi, logs: receipt.logs as never, eventName: name as never }) as unknown as {
      args: Record<string, unknown>
    }[]

  beforeAll(async () => {
    h = await startHarness()
    chainId = BigInt(await h.pub.getChainId())
    for (let i = 0; i < 4; i++) vals.push({ op: await h.account(), cons: key() })
  }, 60_000)
  afterAll(async () => {
    await h?.close()
  })

  it('initialize: only the system address, once, with valid params and msg.value = the self-bonds', async () => {
    const genesis = vals.map((v) => ({
      operator: v.op,
      consensus: v.cons.addr,
      selfBond: 10n * ETH,
      commissionBps: 1000,
    }))
    const args = (p = P, g = genesis) => [
      p,
      '0x0000000000000000000000000000000000001001',
      g.map((v) => v.operator),
      g.map((v) => v.consensus),
      g.map((v) => v.selfBond),
      g.map((v) => v.commissionBps),
    ]
    expect(await reverts(vals[0]!.op, 'initialize', args(), 40n * ETH)).toBe('NotSystem')
    expect(await reverts(SYSTEM_ADDRESS, 'initialize', args(), 39n * ETH)).toBe('WrongValue')
    expect(await reverts(SYSTEM_ADDRESS, 'initialize', args({ ...P, maxPowerChangeBps: 3333 }), 40n * ETH)).toBe(
      'InvalidParams',
    )
    expect(await reverts(SYSTEM_ADDRESS, 'initialize', args({ ...P, signedBlocksWindow: 0n }), 40n * ETH)).toBe(
      'InvalidParams',
    )
    const low = genesis.map((g, i) => (i === 0 ? { ...g, selfBond: ETH / 2n } : g))
    expect(await reverts(SYSTEM_ADDRESS, 'initialize', args(P, low), 40n * ETH - ETH / 2n)).toBe('SelfBondTooLow')
    const dup = genesis.map((g, i) => (i === 1 ? { ...g, consensus: genesis[0]!.consensus } : g))
    expect(await reverts(SYSTEM_ADDRESS, 'initialize', args(P, dup), 40n * ETH)).toBe('ConsensusAddressTaken')
    expect(await reverts(vals[0]!.op, 'delegate', [vals[0]!.op], ETH)).toBe('NotInitialized')

    await initStaking(h, P, genesis)
    expect(await reverts(SYSTEM_ADDRESS, 'initialize', args(), 40n * ETH)).toBe('AlreadyInitialized')
    const set = await activeSet()
    expect(set.size).toBe(4)
    for (const v of vals) expect(set.get(v.cons.addr.toLowerCase())).toBe(10n)
    const [addrs] = await h.st<[Hex[]]>('activeSet')
    expect(addrs.map((a) => a.toLowerCase())).toEqual(vals.map((v) => v.cons.addr.toLowerCase()).sort())
    expect(await h.st('totalBonded')).toBe(40n * ETH)
    expect(await h.st('validatorByConsensus', [vals[0]!.cons.addr])).toBe(vals[0]!.op)
    expect(await h.st('params')).toMatchObject({ maxValidators: 5, unbondingBlocks: 10n })
    expect(await h.imbalance()).toBe(0n)
    afterGenesis = await h.rpc<Hex>('evm_snapshot')
  })

  it('createValidator and editValidator: every commission, self-bond, key and description rule', async () => {
    const op = await h.account()
    const cons = key().addr
    const create = (c: Hex, rate: number, max: number, change: number, min: bigint, desc: string, value: bigint) =>
      reverts(op, 'createValidator', [c, rate, max, change, min, desc], value)
    expect(await create(cons, 600, 500, 100, 2n * ETH, '', 5n * ETH)).toBe('CommissionTooHigh')
    expect(await create(cons, 600, 10_001, 100, 2n * ETH, '', 5n * ETH)).toBe('CommissionTooHigh')
    expect(await create(cons, 450, 500, 600, 2n * ETH, '', 5n * ETH)).toBe('CommissionChangeTooLarge')
    expect(await create(cons, 450, 500, 100, 2n * ETH, '', ETH + ETH / 2n)).toBe('SelfBondTooLow')
    expect(await create(cons, 450, 500, 100, 0n, '', ETH / 2n)).toBe('SelfBondTooLow') // chain-wide floor
    expect(await create(vals[0]!.cons.addr, 450, 500, 100, 2n * ETH, '', 5n * ETH)).toBe('ConsensusAddressTaken')
    expect(await create(cons, 450, 500, 100, 2n * ETH, 'x'.repeat(281), 5n * ETH)).toBe('DescriptionTooLong')
    expect(await create(`0x${'00'.repeat(20)}`, 450, 500, 100, 2n * ETH, '', 5n * ETH)).toBe('ZeroAddress')
    const r = await call(op, 'createValidator', [cons, 450, 500, 100, 2n * ETH, 'node five'], 5n * ETH)
    expect(events(r, 'ValidatorCreated')[0]!.args).toMatchObject({
      operator: op,
      selfBond: 5n * ETH,
      minSelfBond: 2n * ETH,
    })
    expect(await validator(op)).toMatchObject({
      consensusAddr: cons,
      tokens: 5n * ETH,
      selfBond: 5n * ETH,
      commissionBps: 450,
    })
    expect((await activeSet()).has(cons.toLowerCase())).toBe(false) // joins at the next epoch update
    expect(await reverts(op, 'createValidator', [key().addr, 450, 500, 100, 2n * ETH, ''], 5n * ETH)).toBe(
      'ValidatorExists',
    )
    // commission: at most maxChange per day, never above max
    expect(await reverts(op, 'editValidator', [400, 'x'])).toBe('CommissionChangeTooSoon')
    expect(await reverts(freshAddress(), 'editValidator', [400, 'x'])).toBe('UnknownValidator')
    await h.warp(86_400n)
    expect(await reverts(op, 'editValidator', [600, 'x'])).toBe('CommissionTooHigh')
    expect(await reverts(op, 'editValidator', [300, 'x'])).toBe('CommissionChangeTooLarge')
    await call(op, 'editValidator', [400, 'renamed'])
    expect(await reverts(op, 'editValidator', [450, 'x'])).toBe('CommissionChangeTooSoon')
    await call(op, 'editValidator', [400, 'only the description']) // same rate: no daily limit
    const v = await h.st<unknown[]>('getValidator', [op])
    expect(v[3]).toBe(400)
    expect(v[7]).toBe('only the description')
  })

  it('delegate, undelegate (unbonding period), withdraw, redelegate (no transitive hops) and their reverts', async () => {
    const [v0, v1, v2] = vals
    const d = await h.account()
    expect(await reverts(d, 'delegate', [v0!.op], 0n)).toBe('ZeroAmount')
    expect(await reverts(d, 'delegate', [freshAddress()], ETH)).toBe('UnknownValidator')
    await call(d, 'delegate', [v0!.op], 5n * ETH)
    expect(await h.st('delegationOf', [d, v0!.op])).toBe(5n * ETH)
    expect(await h.st('delegationsOf', [d])).toEqual([[v0!.op], [5n * ETH]])
    expect(await h.st('votingPowerOf', [d])).toBe(5n * ETH)
    expect(await reverts(d, 'undelegate', [v0!.op, 6n * ETH])).toBe('InsufficientDelegation')
    expect(await reverts(d, 'undelegate', [v0!.op, 0n])).toBe('ZeroAmount')
    const r = await call(d, 'undelegate', [v0!.op, 2n * ETH])
    const completion = events(r, 'Undelegated')[0]!.args.completion as bigint
    expect(completion).toBe(r.blockNumber + P.unbondingBlocks)
    expect(await h.st('totalUnbonding')).toBe(2n * ETH)
    expect(await reverts(d, 'withdrawUnbonded')).toBe('NothingToWithdraw')
    await h.mine(Number(P.unbondingBlocks) - 1)
    expect(await h.blockNumber()).toBe(completion - 1n) // the withdrawal's block is the completion block
    const before = await h.pub.getBalance({ address: STAKING_ADDRESS })
    const w = await call(d, 'withdrawUnbonded')
    expect(events(w, 'UnbondedWithdrawn')[0]!.args.amount).toBe(2n * ETH)
    expect(await h.pub.getBalance({ address: STAKING_ADDRESS })).toBe(before - 2n * ETH)
    expect(await h.st('totalUnbonding')).toBe(0n)

    expect(await reverts(d, 'redelegate', [v0!.op, v0!.op, ETH])).toBe('SameValidator')
    await call(d, 'redelegate', [v0!.op, v1!.op, ETH])
    expect(await h.st('delegationOf', [d, v0!.op])).toBe(2n * ETH)
    expect(await h.st('delegationOf', [d, v1!.op])).toBe(ETH)
    expect(await reverts(d, 'redelegate', [v1!.op, v2!.op, ETH / 2n])).toBe('TransitiveRedelegation')
    await h.mine(Number(P.unbondingBlocks))
    await call(d, 'redelegate', [v1!.op, v2!.op, ETH / 2n])
    expect(await h.st('votingPowerOf', [d])).toBe(3n * ETH)
    expect(await h.imbalance()).toBe(0n)
  })

  it('at most 32 unbonding entries wait per delegator', async () => {
    const d = await h.account()
    await call(d, 'delegate', [vals[1]!.op], 40n * ETH)
    await h.batch(
      Array.from({ length: 32 }, () => [d, STAKING_ADDRESS, stakingAbi, 'undelegate', [vals[1]!.op, ETH]] as Call),
    )
    expect(await reverts(d, 'undelegate', [vals[1]!.op, ETH])).toBe('TooManyUnbondingEntries')
    const [ops, balances] = await h.st<[Hex[], bigint[]]>('unbondingsOf', [d])
    expect(ops).toHaveLength(32)
    expect(balances.reduce((a, b) => a + b, 0n)).toBe(32n * ETH)
  })

  it('a self-undelegation under the minimum self-bond jails the validator; unjail needs the bond back', async () => {
    await h.rpc('evm_revert', [afterGenesis])
    afterGenesis = await h.rpc<Hex>('evm_snapshot')
    const v3 = vals[3]!
    const r = await call(v3.op, 'undelegate', [v3.op, 9n * ETH + ETH / 2n])
    expect(events(r, 'Jailed')[0]!.args).toMatchObject({ consensusAddr: v3.cons.addr, reason: 3 })
    expect(await validator(v3.op)).toMatchObject({ jailed: true, selfBond: ETH / 2n })
    expect(await h.st('pendingSetChange')).toBe(true)
    expect(await reverts(v3.op, 'unjail')).toBe('SelfBondTooLow')
    expect(await reverts(vals[0]!.op, 'unjail')).toBe('NotJailed')
    await call(v3.op, 'delegate', [v3.op], ETH)
    await call(v3.op, 'unjail')
    expect(await validator(v3.op)).toMatchObject({ jailed: false })
    expect(await reverts(v3.op, 'unjail')).toBe('NotJailed')
  })

  it('an emptied validator registers again (its own key or a new one), not while its jail time runs', async () => {
    await h.rpc('evm_revert', [afterGenesis])
    afterGenesis = await h.rpc<Hex>('evm_snapshot')
    const [, v1, v2] = vals
    await h.system('slashDoubleSign', [freshAddress(), 1n, 0, 2]) // an unknown address: ignored
    // emptied (jailed for its self-bond, no jail time): registers again with its own key, then a new one
    await call(v2!.op, 'undelegate', [v2!.op, 10n * ETH])
    expect(await validator(v2!.op)).toMatchObject({ jailed: true, tokens: 0n })
    await call(v2!.op, 'createValidator', [v2!.cons.addr, 100, 1000, 100, ETH, 'back'], 2n * ETH)
    expect(await validator(v2!.op)).toMatchObject({ jailed: false, tokens: 2n * ETH, consensusAddr: v2!.cons.addr })
    const fresh = key().addr
    await call(v2!.op, 'undelegate', [v2!.op, 2n * ETH])
    await call(v2!.op, 'createValidator', [fresh, 100, 1000, 100, ETH, 'new key'], 2n * ETH)
    expect(await h.st('validatorByConsensus', [fresh])).toBe(v2!.op)
    expect(await h.st('validatorByConsensus', [v2!.cons.addr])).toBe(`0x${'00'.repeat(20)}`)
    // downtime-jailed (600 s) then emptied: re-registering does not cut the jail time short
    const miss: Call = [
      SYSTEM_ADDRESS,
      STAKING_ADDRESS,
      stakingAbi,
      'reward',
      [[vals[0]!.cons.addr], [v1!.cons.addr]],
      0n,
    ]
    await h.batch(Array(10).fill(miss)) // a full window of misses
    expect(await validator(v1!.op)).toMatchObject({ jailed: true })
    await call(v1!.op, 'undelegate', [v1!.op, (await validator(v1!.op)).selfBond])
    expect(await reverts(v1!.op, 'createValidator', [v1!.cons.addr, 0, 100, 10, ETH, ''], 2n * ETH)).toBe(
      'JailPeriodActive',
    )
    await h.warp(600n)
    await call(v1!.op, 'createValidator', [v1!.cons.addr, 0, 100, 10, ETH, ''], 2n * ETH)
    expect(await h.imbalance()).toBe(0n)
  })

  it('system and governance calls refuse anyone else', async () => {
    const x = vals[0]!.op
    expect(await reverts(x, 'reward', [[], []], 0n)).toBe('NotSystem')
    expect(await reverts(x, 'epochUpdate')).toBe('NotSystem')
    expect(await reverts(x, 'slashDoubleSign', [vals[0]!.cons.addr, 1n, 0, 2])).toBe('NotSystem')
    expect(await reverts(x, 'setParams', [P])).toBe('NotGovernance')
    expect(await reverts(SYSTEM_ADDRESS, 'spendCommunityPool', [x, 1n])).toBe('NotGovernance')
  })

  it('reward: community tax, then by power among signers, commission first, the rest per share', async () => {
    await h.rpc('evm_revert', [afterGenesis])
    afterGenesis = await h.rpc<Hex>('evm_snapshot')
    const [v0, v1, v2] = vals
    const d = await h.account()
    await call(d, 'delegate', [v0!.op], 30n * ETH) // v0: 40 tokens, d holds 3/4
    expect(await h.st('issuance')).toBe(P.issuancePerBlock)
    const pool0 = await h.st<bigint>('communityPool')
    // v2 missed; an unknown address signing is ignored
    const r = await h.system('reward', [[v0!.cons.addr, v1!.cons.addr, freshAddress()], [v2!.cons.addr]], 10n * ETH)
    expect(events(r, 'Rewarded')[0]!.args).toMatchObject({ total: 10n * ETH, communityTax: ETH / 5n })
    // 9.8 ETH over the signers' active powers (10 and 10: the set is stored, not live): 4.9 each
    const commission = (4_900_000_000_000_000_000n * 1000n) / 10_000n
    const toDelegators = 4_900_000_000_000_000_000n - commission
    const pd = await h.st<bigint>('pendingRewards', [d, v0!.op])
    const pself = await h.st<bigint>('pendingRewards', [v0!.op, v0!.op])
    expect(pd + pself).toBeLessThanOrEqual(toDelegators)
    expect(toDelegators - (pd + pself)).toBeLessThan(10n)
    expect(pd - (toDelegators * 3n) / 4n).toBeLessThan(10n)
    expect(await h.st('communityPool')).toBe(pool0 + ETH / 5n)
    expect(await h.imbalance()).toBe(0n)
    const w = await call(d, 'withdrawRewards', [v0!.op])
    expect(events(w, 'RewardsWithdrawn')[0]!.args.amount).toBe(pd)
    expect(await reverts(d, 'withdrawRewards', [v0!.op])).toBe('NothingToWithdraw')
    const c = await call(v0!.op, 'withdrawCommission')
    expect(events(c, 'CommissionWithdrawn')[0]!.args.amount as bigint).toBeGreaterThanOrEqual(commission)
    expect(await reverts(v0!.op, 'withdrawCommission')).toBe('NothingToWithdraw')
    // no signer with power: everything goes to the community pool
    await h.system('reward', [[], [v0!.cons.addr]], ETH)
    expect(await h.st('communityPool')).toBe(pool0 + ETH / 5n + ETH)
    expect(await h.imbalance()).toBe(0n)
  })

  it('reward costs the same gas for a validator with 1 delegator and with 50 (O(1) accumulator)', async () => {
    const [, v1, v2] = vals
    const delegators = await Promise.all(Array.from({ length: 49 }, () => h.account(10n)))
    await h.batch(delegators.map((d) => [d, STAKING_ADDRESS, stakingAbi, 'delegate', [v1!.op], ETH] as Call))
    expect((await h.st<[Hex[]]>('delegationsOf', [delegators[48]]))[0]).toEqual([v1!.op])
    // same active power (stored set) and the same commission: only the delegator count differs
    // (a first reward to each warms its accumulator slots from zero)
    await h.system('reward', [[v2!.cons.addr], []], ETH)
    await h.system('reward', [[v1!.cons.addr], []], ETH)
    const g1 = (await h.system('reward', [[v2!.cons.addr], []], ETH)).gasUsed
    const g50 = (await h.system('reward', [[v1!.cons.addr], []], ETH)).gasUsed
    expect(Number(g50 > g1 ? g50 - g1 : g1 - g50)).toBeLessThan(100)
    expect(await h.st('delegationsOf', [v1!.op])).toEqual([[v1!.op], [10n * ETH]])
    expect(await h.imbalance()).toBe(0n)
  })

  it('the vote digest is byte for byte the consensus package voteDigest (heights, rounds, nil votes)', async () => {
    const cases: [number, number, 1 | 2, Hex][] = [
      [0, 0, MsgType.PREVOTE, NIL],
      [1, 0, MsgType.PRECOMMIT, HASH_A],
      [127, 127, MsgType.PREVOTE, HASH_B],
      [128, 128, MsgType.PRECOMMIT, NIL],
      [255, 256, MsgType.PREVOTE, HASH_A],
      [65_536, 3, MsgType.PRECOMMIT, HASH_B],
      [2 ** 40 + 7, 2 ** 31, MsgType.PRECOMMIT, HASH_A],
      [Number.MAX_SAFE_INTEGER, 4_294_967_295, MsgType.PREVOTE, NIL],
    ]
    for (const [height, round, type, hash] of cases) {
      const ts = toHex(voteDigest(chainId, { type, height, round, blockHash: hash === NIL ? null : hexToBytes(hash) }))
      expect(await h.st('voteDigest', [BigInt(height), round, type, hash]), `${height}/${round}/${type}`).toBe(ts)
    }
  })

  it('double-sign evidence: checked on-chain, slashes the power at the infraction (unbonding and redelegations since first), tombstones, never twice', async () => {
    await h.rpc('evm_revert', [afterGenesis])
    afterGenesis = await h.rpc<Hex>('evm_snapshot')
    const [v0, v1, v2] = vals
    const d = await h.account(200n)
    const genesisPower = (await activeSet()).get(v0!.cons.addr.toLowerCase()) as bigint
    await call(d, 'delegate', [v0!.op], 20n * ETH)
    await call(d, 'undelegate', [v0!.op, 2n * ETH]) // before the infraction: not slashed
    // The set update in block B is the engine's set from B + 2 on: the power history says so.
    const update = await h.system('epochUpdate')
    const powerThen = (await activeSet()).get(v0!.cons.addr.toLowerCase()) as bigint
    expect(powerThen).toBeGreaterThan(genesisPower)
    expect(await h.st('powerAt', [v0!.cons.addr, update.blockNumber + 1n])).toBe(genesisPower)
    expect(await h.st('powerAt', [v0!.cons.addr, update.blockNumber + 2n])).toBe(powerThen)
    expect(await h.st('powerAt', [freshAddress(), update.blockNumber + 2n])).toBe(0n)
    await h.mine(2)
    const height = Number(await h.blockNumber())
    await call(d, 'undelegate', [v0!.op, 4n * ETH]) // after: slashed
    await call(d, 'redelegate', [v0!.op, v1!.op, 10n * ETH]) // after: slashed at the destination
    await call(d, 'delegate', [v0!.op], 30n * ETH) // after: not at stake then, so it does not raise the slash
    const k = v0!.cons.key
    const args = (hA: Hex, sA: Hex, hB: Hex, sB: Hex, type = 2, ht = height, round = 1) => [
      BigInt(ht),
      round,
      type,
      hA,
      sA,
      hB,
      sB,
    ]
    const sigA = sign(k, height, 1, 2, HASH_A)
    const sigNil = sign(k, height, 1, 2, NIL)
    const anyone = await h.account()
    expect(await reverts(anyone, 'submitDoubleSign', args(HASH_A, sigA, HASH_A, sigA))).toBe('InvalidEvidence')
    expect(await reverts(anyone, 'submitDoubleSign', args(HASH_A, sigA, NIL, sigNil, 32))).toBe('InvalidEvidence')
    expect(
      await reverts(anyone, 'submitDoubleSign', args(HASH_A, sigA, NIL, sign(v1!.cons.key, height, 1, 2, NIL))),
    ).toBe('InvalidEvidence')
    expect(await reverts(anyone, 'submitDoubleSign', args(HASH_A, sigA, NIL, `0x${'11'.repeat(65)}`))).toBe(
      'InvalidEvidence',
    )
    // a prevote signature does not stand for a precommit
    expect(await reverts(anyone, 'submitDoubleSign', args(HASH_A, sign(k, height, 1, 1, HASH_A), NIL, sigNil))).toBe(
      'InvalidEvidence',
    )
    expect(await reverts(anyone, 'submitDoubleSign', args(HASH_A, sigA, NIL, sigNil, 2, height + 1000))).toBe(
      'InvalidEvidence',
    ) // the future
    const stranger = key().key
    expect(
      await reverts(
        anyone,
        'submitDoubleSign',
        args(HASH_A, sign(stranger, height, 1, 2, HASH_A), NIL, sign(stranger, height, 1, 2, NIL)),
      ),
    ).toBe('UnknownValidator')

    const tokens0 = (await validator(v0!.op)).tokens
    const shares1 = await h.st<bigint>('delegationOf', [d, v1!.op])
    const burned0 = await h.st<bigint>('burned')
    const r = await call(anyone, 'submitDoubleSign', args(HASH_A, sigA, NIL, sigNil))
    const slashed = events(r, 'Slashed')[0]!.args
    expect(slashed).toMatchObject({ consensusAddr: v0!.cons.addr, reason: 1 })
    const [, balances] = await h.st<[Hex[], bigint[]]>('unbondingsOf', [d])
    expect([...balances].sort()).toEqual([2n * ETH, 4n * ETH - (4n * ETH * 500n) / 10_000n].sort())
    expect(await h.st('delegationOf', [d, v1!.op])).toBe(shares1 - (10n * ETH * 500n) / 10_000n)
    const after = await validator(v0!.op)
    // Cosmos SDK's rule: 5% of the power at the infraction (1 ETH a power here), the entries started
    // since taken first, the rest from the tokens.
    const due = (powerThen * ETH * 500n) / 10_000n
    const fromEntries = (4n * ETH * 500n) / 10_000n + (10n * ETH * 500n) / 10_000n
    expect(after.tokens).toBe(tokens0 - (due - fromEntries))
    expect(after).toMatchObject({ jailed: true, tombstoned: true, jailedUntil: 2n ** 64n - 1n })
    const expected = due
    expect(slashed.amount).toBe(expected)
    expect(await h.st('burned')).toBe(burned0 + expected)
    expect(await h.imbalance()).toBe(0n)

    // the same evidence never slashes twice: by transaction or by the engine
    expect(await reverts(anyone, 'submitDoubleSign', args(HASH_A, sigA, NIL, sigNil))).toBe('EvidenceAlreadyUsed')
    const engine = await h.pub.simulateContract({
      account: SYSTEM_ADDRESS,
      address: STAKING_ADDRESS,
      abi: stakingAbi,
      functionName: 'slashDoubleSign',
      args: [v0!.cons.addr, BigInt(height), 1, 2],
    })
    expect(engine.result).toBe(false)
    // other evidence against a tombstoned validator: refused, nothing slashed
    const sigA2 = sign(k, height, 2, 2, HASH_A)
    const sigB2 = sign(k, height, 2, 2, HASH_B)
    expect(await reverts(anyone, 'submitDoubleSign', args(HASH_A, sigA2, HASH_B, sigB2, 2, height, 2))).toBe(
      'Tombstoned',
    )
    // a tombstoned validator never returns: no unjail, no key reuse, no re-registration, no delegations
    await h.warp(10n ** 9n)
    expect(await reverts(v0!.op, 'unjail')).toBe('Tombstoned')
    expect(await reverts(anyone, 'createValidator', [v0!.cons.addr, 0, 100, 10, ETH, ''], 5n * ETH)).toBe(
      'ConsensusAddressTaken',
    )
    expect(await reverts(v0!.op, 'createValidator', [key().addr, 0, 100, 10, ETH, ''], 5n * ETH)).toBe('Tombstoned')
    expect(await reverts(anyone, 'delegate', [v0!.op], ETH)).toBe('Tombstoned')
    expect(await h.st('pendingSetChange')).toBe(true)
    for (let e = 0; e < 3; e++) {
      await h.system('epochUpdate')
      expect((await activeSet()).has(v0!.cons.addr.toLowerCase())).toBe(false)
    }
    // its delegators can still leave
    await call(d, 'undelegate', [v0!.op, await h.st<bigint>('delegationOf', [d, v0!.op])])

    // the engine's evidence: slashes once, then false; too old: false
    const e1 = await h.system('slashDoubleSign', [v2!.cons.addr, BigInt(height), 0, 1])
    expect(events(e1, 'Slashed')[0]!.args).toMatchObject({ consensusAddr: v2!.cons.addr, reason: 1 })
    const again = await h.system('slashDoubleSign', [v2!.cons.addr, BigInt(height), 0, 1])
    expect(events(again, 'Slashed')).toHaveLength(0)
    await h.mine(Number(P.unbondingBlocks) + 2)
    const v1k = v1!.cons.key
    expect(
      await reverts(
        anyone,
        'submitDoubleSign',
        args(HASH_A, sign(v1k, height, 0, 2, HASH_A), HASH_B, sign(v1k, height, 0, 2, HASH_B), 2, height, 0),
      ),
    ).toBe('EvidenceTooOld')
    const old = await h.system('slashDoubleSign', [v1!.cons.addr, BigInt(height), 0, 2])
    expect(events(old, 'Slashed')).toHaveLength(0)
    expect(await h.imbalance()).toBe(0n)
  })

  it('downtime: more than window - minSigned misses in a full window slashes and jails; unjail after the jail time', async () => {
    await h.rpc('evm_revert', [afterGenesis])
    afterGenesis = await h.rpc<Hex>('evm_snapshot')
    const [v0, v1] = vals
    // 10-block window, 50% minimum: 5 misses are allowed, the 6th in a full window is not
    const rewardCall = (signed: Hex[], missed: Hex[]): Call => [
      SYSTEM_ADDRESS,
      STAKING_ADDRESS,
      stakingAbi,
      'reward',
      [signed, missed],
      0n,
    ]
    await h.batch([
      ...Array.from({ length: 5 }, () => rewardCall([v0!.cons.addr, v1!.cons.addr], [])),
      ...Array.from({ length: 4 }, () => rewardCall([v1!.cons.addr], [v0!.cons.addr])),
    ])
    expect(await h.st('signingInfo', [v0!.op])).toEqual([9n, 4n, 10n])
    await h.system('reward', [[v1!.cons.addr], [v0!.cons.addr]], 0n) // 10 seen, 5 missed: allowed
    expect((await validator(v0!.op)).jailed).toBe(false)
    const tokens = (await validator(v0!.op)).tokens
    const r = await h.system('reward', [[v1!.cons.addr], [v0!.cons.addr]], 0n) // the window slides over a signed block: 6 of the last 10 missed
    const block = await h.pub.getBlock({ blockNumber: r.blockNumber })
    expect(events(r, 'Slashed')[0]!.args).toMatchObject({ amount: (tokens * 100n) / 10_000n, reason: 2 })
    expect(events(r, 'Jailed')[0]!.args).toMatchObject({ until: block.timestamp + 600n, reason: 2 })
    expect(await validator(v0!.op)).toMatchObject({ jailed: true, tombstoned: false })
    expect(await h.st('signingInfo', [v0!.op])).toEqual([0n, 0n, 10n])
    expect(await h.st('pendingSetChange')).toBe(true)
    expect(await reverts(v0!.op, 'unjail')).toBe('JailPeriodActive')
    await h.warp(600n)
    await call(v0!.op, 'unjail')
    expect(await validator(v0!.op)).toMatchObject({ jailed: false })
    expect(await h.imbalance()).toBe(0n)
  })

  it('epoch update: joins within maxPowerChangeBps of the old total, jailed members leave at once, never empty', async () => {
    await h.rpc('evm_revert', [afterGenesis])
    afterGenesis = await h.rpc<Hex>('evm_snapshot')
    const n = { op: await h.account(), cons: key() }
    await call(n.op, 'createValidator', [n.cons.addr, 0, 1000, 100, ETH, 'new'], 30n * ETH) // power 30
    const seen: bigint[] = []
    for (let e = 0; e < 3; e++) {
      const before = await activeSet()
      const oldTotal = [...before.values()].reduce((a, b) => a + b, 0n)
      const r = await h.system('epochUpdate')
      const after = await activeSet()
      const keys = new Set([...before.keys(), ...after.keys()])
      let moved = 0n
      for (const k of keys) {
        const a = before.get(k) ?? 0n
        const b = after.get(k) ?? 0n
        moved += a > b ? a - b : b - a
      }
      expect(moved).toBeLessThanOrEqual((oldTotal * 3000n) / 10_000n)
      expect(events(r, 'ActiveSetUpdated')).toHaveLength(1)
      seen.push(after.get(n.cons.addr.toLowerCase()) ?? 0n)
    }
    expect(seen).toEqual([12n, 27n, 30n]) // budget 12 of 40, then 15 of 52
    // a jailed member leaves at the next update whatever the budget
    await call(vals[0]!.op, 'undelegate', [vals[0]!.op, 9n * ETH + 1n])
    await h.system('epochUpdate')
    expect((await activeSet()).has(vals[0]!.cons.addr.toLowerCase())).toBe(false)
    expect(await h.st('pendingSetChange')).toBe(false)
    // every member jailed: the set is kept rather than emptied
    const before = await activeSet()
    for (const v of [...vals.slice(1), n]) {
      await call(v.op, 'undelegate', [v.op, (await validator(v.op)).selfBond])
    }
    await h.system('epochUpdate')
    expect(await activeSet()).toEqual(before)
    expect(await h.imbalance()).toBe(0n)
  })
})
