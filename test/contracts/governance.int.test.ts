// The Governance system contract with Staking on a real in-process Cairn dev node: initialization
// and proposal rules with their custom errors, the Cosmos tally (a delegator's own vote overrides
// its validator's, the others inherit it), quorum / threshold / veto with the deposit refunded or
// burned, and timelocked execution of staking, community-pool, chain-parameter and upgrade actions.
import { encodeFunctionData, type Hex, parseEventLogs } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ETH,
  freshAddress,
  GOVERNANCE_ADDRESS,
  governanceAbi,
  type Harness,
  initStaking,
  STAKING_ADDRESS,
  SYSTEM_ADDRESS,
  stakingAbi,
  startHarness,
  testParams,
} from './system-contracts.ts'

const P = testParams()
const GOV = {
  minDeposit: 10n * ETH,
  votingPeriodBlocks: 5n,
  timelockBlocks: 3n,
  quorumBps: 3340,
  thresholdBps: 5000,
  vetoBps: 3340,
}
const CHAIN = { blockGasLimit: 30_000_000n, minBaseFee: 10n ** 9n, blockTimeMs: 1000n }
const YES = 1
const ABSTAIN = 2
const NO = 3
const VETO = 4

describe('Governance on a Cairn dev node', () => {
  let h: Harness
  const vals: Hex[] = []
  let d1: Hex
  let d2: Hex
  let proposer: Hex
  const gsend = (from: Hex, fn: string, args: unknown[] = [], value = 0n) =>
    h.send(from, GOVERNANCE_ADDRESS, governanceAbi, fn, args, value)
  const greverts = (from: Hex, fn: string, args: unknown[] = [], value = 0n) =>
    h.revertOf(from, GOVERNANCE_ADDRESS, governanceAbi, fn, args, value)
  const action = (target: Hex, abi: typeof governanceAbi, fn: string, args: unknown[]) => ({
    target,
    value: 0n,
    data: encodeFunctionData({ abi, functionName: fn, args } as never),
  })
  const proposal = (id: bigint) =>
    h.gov<{
      status: number
      yes: bigint
      abstain: bigint
      no: bigint
      veto: bigint
      depositBurned: boolean
      executableAtBlock: bigint
      expiresAtBlock: bigint
      votingEndBlock: bigint
      title: string
      proposer: Hex
      deposit: bigint
      voters: bigint
      actions: unknown[]
    }>('getProposal', [id])
  const submit = async (actions: unknown[], title = 'p') => {
    const r = await gsend(proposer, 'submitProposal', [actions, title, 'why'], GOV.minDeposit)
    const [e] = parseEventLogs({ abi: governanceAbi, logs: r.logs, eventName: 'ProposalSubmitted' as never })
    return (e as unknown as { args: { id: bigint } }).args.id
  }
  const votes = async (id: bigint, list: [Hex, number][]) => {
    await h.batch(list.map(([who, option]) => [who, GOVERNANCE_ADDRESS, governanceAbi, 'vote', [id, option]]))
  }
  const endVoting = async (id: bigint) => {
    const p = await proposal(id)
    const now = await h.blockNumber()
    if (now <= p.votingEndBlock) await h.mine(Number(p.votingEndBlock - now) + 1)
  }

  beforeAll(async () => {
    h = await startHarness()
    for (let i = 0; i < 4; i++) vals.push(await h.account())
    d1 = await h.account()
    d2 = await h.account()
    proposer = await h.account(1000n)
    await initStaking(
      h,
      P,
      vals.map((v) => ({ operator: v, consensus: freshAddress(), selfBond: 10n * ETH, commissionBps: 0 })),
    )
    await h.batch([
      [d1, STAKING_ADDRESS, stakingAbi, 'delegate', [vals[0]], 5n * ETH],
      [d2, STAKING_ADDRESS, stakingAbi, 'delegate', [vals[1]], 5n * ETH],
    ])
  }, 60_000)
  afterAll(async () => {
    await h?.close()
  })

  it('initialize: only the system address, once, valid parameters', async () => {
    expect(await greverts(proposer, 'submitProposal', [[], 't', ''], GOV.minDeposit)).toBe('NotInitialized')
    expect(await greverts(proposer, 'initialize', [GOV, CHAIN, STAKING_ADDRESS])).toBe('NotSystem')
    expect(await greverts(SYSTEM_ADDRESS, 'initialize', [{ ...GOV, thresholdBps: 0 }, CHAIN, STAKING_ADDRESS])).toBe(
      'InvalidParams',
    )
    expect(
      await greverts(SYSTEM_ADDRESS, 'initialize', [{ ...GOV, votingPeriodBlocks: 0n }, CHAIN, STAKING_ADDRESS]),
    ).toBe('InvalidParams')
    expect(
      await greverts(SYSTEM_ADDRESS, 'initialize', [GOV, { ...CHAIN, blockGasLimit: 1000n }, STAKING_ADDRESS]),
    ).toBe('InvalidParams')
    expect(await greverts(SYSTEM_ADDRESS, 'initialize', [GOV, CHAIN, `0x${'00'.repeat(20)}`])).toBe('ZeroAddress')
    await gsend(SYSTEM_ADDRESS, 'initialize', [GOV, CHAIN, STAKING_ADDRESS])
    expect(await greverts(SYSTEM_ADDRESS, 'initialize', [GOV, CHAIN, STAKING_ADDRESS])).toBe('AlreadyInitialized')
    expect(await h.gov('govParams')).toEqual(GOV)
    expect(await h.gov('chainParams')).toEqual(CHAIN)
    expect(await h.gov('upgradePlan')).toEqual(['', 0n])
  })

  it('proposal and vote rules: deposit, allowed actions only, no value, sizes, options, the voting window', async () => {
    const ok = action(GOVERNANCE_ADDRESS, governanceAbi, 'setChainParams', [CHAIN])
    expect(await greverts(proposer, 'submitProposal', [[ok], 't', ''], GOV.minDeposit - 1n)).toBe('DepositTooLow')
    const wrongTarget = { ...ok, target: freshAddress() }
    expect(await greverts(proposer, 'submitProposal', [[wrongTarget], 't', ''], GOV.minDeposit)).toBe(
      'ActionNotAllowed',
    )
    const delegateCall = action(STAKING_ADDRESS, stakingAbi, 'delegate', [vals[0]])
    expect(await greverts(proposer, 'submitProposal', [[ok, delegateCall], 't', ''], GOV.minDeposit)).toBe(
      'ActionNotAllowed',
    )
    const initCall = action(GOVERNANCE_ADDRESS, governanceAbi, 'initialize', [GOV, CHAIN, STAKING_ADDRESS])
    expect(await greverts(proposer, 'submitProposal', [[initCall], 't', ''], GOV.minDeposit)).toBe('ActionNotAllowed')
    expect(await greverts(proposer, 'submitProposal', [[{ ...ok, value: 1n }], 't', ''], GOV.minDeposit)).toBe(
      'ActionValueNotAllowed',
    )
    expect(await greverts(proposer, 'submitProposal', [Array(17).fill(ok), 't', ''], GOV.minDeposit)).toBe(
      'TooManyActions',
    )
    expect(await greverts(proposer, 'submitProposal', [[ok], '', ''], GOV.minDeposit)).toBe('TitleInvalid')
    // the self-only actions refuse direct calls
    expect(await greverts(proposer, 'setChainParams', [CHAIN])).toBe('NotSelf')
    expect(await greverts(proposer, 'scheduleUpgrade', ['v2', 10_000n])).toBe('NotSelf')
    expect(await greverts(proposer, 'vote', [99n, YES])).toBe('UnknownProposal')
    const id = await submit([ok], 'rules')
    expect(await h.gov('proposalCount')).toBe(id)
    expect(await greverts(freshAddress(), 'vote', [id, YES])).toBe('NoVotingPower')
    expect(await greverts(d1, 'vote', [id, 0])).toBe('InvalidOption')
    expect(await greverts(d1, 'vote', [id, 5])).toBe('InvalidOption')
    expect(await greverts(d1, 'tally', [id])).toBe('VotingNotEnded')
    expect(await greverts(d1, 'execute', [id])).toBe('NotPassed')
    await endVoting(id)
    expect(await greverts(d1, 'vote', [id, YES])).toBe('VotingClosed')
  })

  it('Cosmos tally: a delegator who votes overrides its validator, the others inherit; below threshold: rejected, deposit refunded', async () => {
    const id = await submit([], 'text')
    // v0 yes (15 tokens, d1's 5 of them vote no), v1 no (15, d2 inherits), v2 abstain, v1 changes nothing
    await votes(id, [
      [vals[0]!, YES],
      [vals[1]!, YES],
      [vals[1]!, NO], // a vote can be changed while voting is open
      [d1, NO],
      [vals[2]!, ABSTAIN],
    ])
    expect(await h.gov('voteOf', [id, vals[1]])).toBe(NO)
    await endVoting(id)
    const govBalance = await h.pub.getBalance({ address: GOVERNANCE_ADDRESS })
    const r = await gsend(d2, 'tally', [id])
    const p = await proposal(id)
    expect(p).toMatchObject({
      yes: 10n * ETH,
      no: 20n * ETH,
      abstain: 10n * ETH,
      veto: 0n,
      status: 3,
      depositBurned: false,
    })
    expect(p.voters).toBe(4n)
    const [refund] = parseEventLogs({ abi: governanceAbi, logs: r.logs, eventName: 'DepositRefunded' as never })
    expect((refund as unknown as { args: { amount: bigint } }).args.amount).toBe(GOV.minDeposit)
    expect(await h.pub.getBalance({ address: GOVERNANCE_ADDRESS })).toBe(govBalance - GOV.minDeposit)
    expect(await greverts(d2, 'tally', [id])).toBe('NotVoting')
  })

  it('passed: after the timelock, runs staking params, a community-pool spend, chain params and an upgrade plan in order', async () => {
    await h.system('reward', [[], []], 50n * ETH) // nobody signed: all to the community pool
    const pool = await h.st<bigint>('communityPool')
    const to = freshAddress()
    const newChain = { blockGasLimit: 60_000_000n, minBaseFee: 2n * 10n ** 9n, blockTimeMs: 500n }
    const height = (await h.blockNumber()) + 1000n
    const id = await submit([
      action(STAKING_ADDRESS, stakingAbi, 'setParams', [{ ...P, communityTaxBps: 1000 }]),
      action(STAKING_ADDRESS, stakingAbi, 'spendCommunityPool', [to, 3n * ETH]),
      action(GOVERNANCE_ADDRESS, governanceAbi, 'setChainParams', [newChain]),
      action(GOVERNANCE_ADDRESS, governanceAbi, 'scheduleUpgrade', ['v2-staking', height]),
    ])
    await votes(id, [
      [vals[0]!, YES],
      [vals[1]!, YES],
      [vals[2]!, NO],
    ])
    await endVoting(id)
    await gsend(d1, 'tally', [id])
    const p = await proposal(id)
    expect(p).toMatchObject({ status: 2, yes: 30n * ETH, no: 10n * ETH, depositBurned: false })
    expect(p.actions).toHaveLength(4)
    expect(await greverts(d1, 'execute', [id])).toBe('TimelockActive')
    const now = await h.blockNumber()
    await h.mine(Number(p.executableAtBlock - now) - 1)
    const r = await gsend(d1, 'execute', [id])
    expect(r.blockNumber).toBe(p.executableAtBlock)
    expect((await proposal(id)).status).toBe(4)
    expect(await h.st('params')).toMatchObject({ communityTaxBps: 1000 })
    expect(await h.st('communityPool')).toBe(pool - 3n * ETH)
    expect(await h.pub.getBalance({ address: to })).toBe(3n * ETH)
    expect(await h.gov('chainParams')).toEqual(newChain)
    expect(await h.gov('upgradePlan')).toEqual(['v2-staking', height])
    expect(await greverts(d1, 'execute', [id])).toBe('NotPassed')
    expect(await h.imbalance()).toBe(0n)
  })

  it('vetoed or without quorum: rejected and the deposit burned', async () => {
    const vetoed = await submit([], 'veto me')
    await votes(vetoed, [
      [vals[0]!, VETO],
      [vals[1]!, VETO],
      [vals[2]!, YES],
      [vals[3]!, YES],
    ])
    const lonely = await submit([], 'nobody cares')
    await votes(lonely, [[d1, YES]]) // 5 of 50 bonded: below the 33.4% quorum
    await endVoting(lonely)
    const burned0 = await h.gov<bigint>('burned')
    await gsend(d1, 'tally', [vetoed])
    await gsend(d1, 'tally', [lonely])
    expect(await proposal(vetoed)).toMatchObject({ status: 3, veto: 30n * ETH, yes: 20n * ETH, depositBurned: true })
    expect(await proposal(lonely)).toMatchObject({ status: 3, yes: 5n * ETH, depositBurned: true })
    expect(await h.gov('burned')).toBe(burned0 + 2n * GOV.minDeposit)
  })

  it('a tally of many voters is resumable: 32 voters per call and phase, the last call decides', async () => {
    const id = await submit([], 'crowd')
    const crowd = await Promise.all(Array.from({ length: 33 }, () => h.account(5n)))
    await h.batch(crowd.map((c) => [c, STAKING_ADDRESS, stakingAbi, 'delegate', [vals[3]], ETH]))
    await votes(id, [...crowd.map((c) => [c, NO] as [Hex, number]), [vals[3]!, YES]])
    await endVoting(id)
    const steps = [] as { done: bigint; total: bigint }[]
    for (let i = 0; i < 3; i++) {
      const r = await gsend(d1, 'tally', [id])
      const ev = parseEventLogs({ abi: governanceAbi, logs: r.logs, eventName: 'TallyProgress' as never })
      steps.push(...ev.map((e) => (e as unknown as { args: { done: bigint; total: bigint } }).args))
    }
    expect(steps).toEqual([
      { id, done: 32n, total: 68n },
      { id, done: 64n, total: 68n },
    ])
    // v3: 10 own + 33 delegated; the crowd's 33 vote no, v3 keeps its own 10 for yes
    expect(await proposal(id)).toMatchObject({ status: 3, no: 33n * ETH, yes: 10n * ETH })
    expect(await greverts(d1, 'tally', [id])).toBe('NotVoting')
  })

  it('a failing action reverts the execution; the proposal stays passed until it expires', async () => {
    const soon = (await h.blockNumber()) + 3n // in the past by the time it executes
    const id = await submit([
      action(GOVERNANCE_ADDRESS, governanceAbi, 'cancelUpgrade', []),
      action(GOVERNANCE_ADDRESS, governanceAbi, 'scheduleUpgrade', ['too-soon', soon]),
    ])
    await votes(
      id,
      vals.map((v) => [v, YES] as [Hex, number]),
    )
    await endVoting(id)
    await gsend(d1, 'tally', [id])
    const p = await proposal(id)
    await h.mine(Number(p.executableAtBlock - (await h.blockNumber())))
    expect(await greverts(d1, 'execute', [id])).toBe('ActionFailed')
    expect((await proposal(id)).status).toBe(2)
    expect(await h.gov('upgradePlan')).toEqual(['v2-staking', expect.any(BigInt)]) // the cancel was rolled back
    await h.mine(Number(p.expiresAtBlock - (await h.blockNumber())))
    await gsend(d1, 'execute', [id])
    expect((await proposal(id)).status).toBe(5) // expired
    // a good cancel clears the plan
    const cancel = await submit([action(GOVERNANCE_ADDRESS, governanceAbi, 'cancelUpgrade', [])])
    await votes(
      cancel,
      vals.map((v) => [v, YES] as [Hex, number]),
    )
    await endVoting(cancel)
    await gsend(d1, 'tally', [cancel])
    await h.mine(Number(GOV.timelockBlocks))
    await gsend(d1, 'execute', [cancel])
    expect(await h.gov('upgradePlan')).toEqual(['', 0n])
  })
})
