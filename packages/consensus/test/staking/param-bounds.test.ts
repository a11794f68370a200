// Governance cannot stop the chain with a parameter (issue 66): for every governable parameter —
// Staking's 15, Governance's 6, the chain's 3 — values at and past each bound and the extremes (0, 1,
// 2^64−1, 2^255, 2^256−1, each cut to its field's width) are proposed through Governance in an EVM
// over a real staking genesis. A proposal is refused at submission (`InvalidParams`) exactly when
// the docs' bounds say so; an accepted one passes, executes, and then every system call the engine
// makes still succeeds through `StakingHooks.endBlock` over blocks with signers, a validator down
// for its whole window, double-sign evidence and epoch updates, the header rule still computes, and
// governance can still pass the proposal that puts the defaults back. fast-check then draws whole
// parameter sets with several fields at once.
import fc from 'fast-check'
import { encodeFunctionData, type Hex, maxUint256 } from 'viem'
import { beforeAll, describe, expect, it } from 'vitest'
import { governedHeader } from '../../src/governance/governed-header.ts'
import { CHAIN_PARAM_BOUNDS, GOV_PARAM_BOUNDS, type ParamBound } from '../../src/governance/params.ts'
import { stakingGenesisAlloc } from '../../src/staking/genesis.ts'
import {
  type ChainParams,
  type GovParams,
  STAKING_PARAM_BOUNDS,
  type StakingParams,
  stakingParamsWith,
} from '../../src/staking/params.ts'
import { ETHER, GOVERNANCE, GOVERNANCE_ABI, STAKING, STAKING_ABI, type StakingEvm, stakingEvm } from './system-evm.ts'

type Group = 'staking' | 'governance' | 'chain'
type Width = 16 | 32 | 64 | 256
/** The bounds the modules state (and docs/consensus/{staking,governance}.md), per group and field. */
const BOUNDS: Record<Group, Readonly<Record<string, ParamBound>>> = {
  staking: STAKING_PARAM_BOUNDS,
  governance: GOV_PARAM_BOUNDS,
  chain: CHAIN_PARAM_BOUNDS,
}
const FIELDS: Record<Group, Record<string, Width>> = {
  staking: widths(STAKING_PARAM_BOUNDS),
  governance: widths(GOV_PARAM_BOUNDS),
  chain: widths(CHAIN_PARAM_BOUNDS),
}

function widths(bounds: Readonly<Record<string, ParamBound>>): Record<string, Width> {
  return Object.fromEntries(Object.entries(bounds).map(([name, b]) => [name, b.bits]))
}

/** A field's [min, max] (`max: 'totalBonded'` is `bonded`). */
function bounds(group: Group, name: string, bonded: bigint): [bigint, bigint] {
  const b = BOUNDS[group][name] as ParamBound
  return [b.min, b.max === 'totalBonded' ? bonded : b.max]
}

interface Sets {
  staking: StakingParams
  governance: GovParams
  chain: ChainParams
}

/** Whether the docs' bounds admit every field of `s` (and the one cross-field rule). */
function valid(s: Sets, bonded: bigint): boolean {
  for (const group of ['staking', 'governance', 'chain'] as const) {
    for (const name of Object.keys(FIELDS[group])) {
      const v = BigInt((s[group] as unknown as Record<string, bigint | number>)[name] as bigint)
      const [lo, hi] = bounds(group, name, bonded)
      if (v < lo || v > hi) return false
    }
  }
  return !(s.staking.annualRateBps !== 0 && s.staking.blocksPerYear === 0n)
}

/** The extremes of a field: 0, 1, each bound and its neighbours, 2^64−1, 2^255, 2^256−1 (cut to width). */
function extremes(group: Group, name: string, bonded: bigint): bigint[] {
  const max = (1n << BigInt(FIELDS[group][name] as Width)) - 1n
  const [lo, hi] = bounds(group, name, bonded)
  const raw = [0n, 1n, lo - 1n, lo, hi, hi + 1n, (1n << 64n) - 1n, 1n << 255n, maxUint256, max]
  return [...new Set(raw.map((v) => (v > max ? max : v)).filter((v) => v >= 0n))]
}

const big = (_: string, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)
const asField = (group: Group, name: string, v: bigint): bigint | number =>
  FIELDS[group][name] === 16 || FIELDS[group][name] === 32 ? Number(v) : v

describe('governance cannot set a parameter that stops the chain (every parameter, at and past its bounds)', () => {
  let e: StakingEvm
  let defaults: Sets
  let bonded: bigint
  const proposer = '0x00000000000000000000000000000000000a11ce' as Hex

  beforeAll(async () => {
    e = await stakingEvm({ governance: { minDeposit: ETHER } })
    const p = stakingParamsWith('devnet', [])
    defaults = {
      staking: p.staking,
      governance: { ...p.governance, minDeposit: ETHER, votingPeriodBlocks: 2n, timelockBlocks: 1n },
      chain: { blockGasLimit: 30_000_000n, minBaseFee: 0n, blockTimeMs: 1000n },
    }
    bonded = (await e.read(STAKING, 'totalBonded')) as bigint
    // the genesis agrees with the test's idea of the defaults
    expect(await e.read(STAKING, 'params')).toMatchObject(defaults.staking)
  })

  const actionsOf = (s: Sets) => [
    {
      target: STAKING,
      value: 0n,
      data: encodeFunctionData({ abi: STAKING_ABI, functionName: 'setParams', args: [s.staking] }),
    },
    {
      target: GOVERNANCE,
      value: 0n,
      data: encodeFunctionData({ abi: GOVERNANCE_ABI, functionName: 'setGovParams', args: [s.governance] }),
    },
    {
      target: GOVERNANCE,
      value: 0n,
      data: encodeFunctionData({ abi: GOVERNANCE_ABI, functionName: 'setChainParams', args: [s.chain] }),
    },
  ]

  /** Submits, votes (every validator: quorum and threshold up to 2/3 reachable), tallies, executes; the refusal if any. */
  async function pass(s: Sets): Promise<{ refused?: string; executed?: string }> {
    const deposit = (await e.read<{ minDeposit: bigint }>(GOVERNANCE, 'govParams')).minDeposit
    const sub = await e.call(proposer, GOVERNANCE, 'submitProposal', [actionsOf(s), 'params', ''], deposit)
    if (!sub.ok) return { refused: sub.error as string }
    const id = (await e.read(GOVERNANCE, 'proposalCount')) as bigint
    for (const v of e.validators) {
      // a validator a saturated slash emptied has no vote left (NoVotingPower): the others carry it
      const r = await e.call(v, GOVERNANCE, 'vote', [id, 1])
      if (r.error?.startsWith('NoVotingPower(') !== true) expect(r.error).toBeUndefined()
    }
    const g = await e.read<{ votingPeriodBlocks: bigint; timelockBlocks: bigint }>(GOVERNANCE, 'govParams')
    e.skip(g.votingPeriodBlocks + 1n)
    expect((await e.call(proposer, GOVERNANCE, 'tally', [id])).error).toBeUndefined()
    e.skip(g.timelockBlocks)
    const ex = await e.call(proposer, GOVERNANCE, 'execute', [id])
    return ex.ok ? {} : { executed: ex.error as string }
  }

  /** The engine's work over a few blocks: rewards, a validator down for its window, evidence, epoch updates. */
  async function runChain(s: Sets): Promise<void> {
    const [v0, v1, v2, v3] = e.validators as [Hex, Hex, Hex, Hex]
    const chain = await e.chainParams()
    expect(chain).toEqual(s.chain)
    const parent = { gasLimit: 30_000_000n, baseFeePerGas: 7n, calcNextBaseFee: () => 7n }
    expect(governedHeader(parent, chain).baseFeePerGas).toBe(chain.minBaseFee > 7n ? chain.minBaseFee : 7n)
    // v3 misses as many blocks as its window holds (at most 2 here: a downtime jailing when the
    // window is that short); the last of them carries v2's equivocation at the block before
    const window = s.staking.signedBlocksWindow < 2n ? Number(s.staking.signedBlocksWindow) : 2
    for (let i = 0; i <= window; i++) {
      const evidence =
        i < window
          ? []
          : [{ validator: Buffer.from(v2.slice(2), 'hex'), height: Number(e.block.number - 1n), round: 0, type: 2 }]
      await e.endBlock({ signed: [v0, v1, v2], missed: [v3], evidence })
    }
    // the next epoch boundary
    e.block.number += s.staking.epochLength - (e.block.number % s.staking.epochLength)
    const out = await e.endBlock({ signed: [v0, v1] })
    expect(out.set?.length).toBeGreaterThan(0)
  }

  async function check(s: Sets): Promise<void> {
    await e.snapshot()
    try {
      const ok = valid(s, bonded)
      const r = await pass(s)
      if (!ok) {
        expect(r.refused ?? r.executed).toMatch(/^InvalidParams\(/)
        expect(r.refused).toBeDefined()
        return
      }
      expect(r).toEqual({})
      await runChain(s)
      // governance still works after a change of its own parameters: the defaults come back by the same road
      if (JSON.stringify(s.governance, big) !== JSON.stringify(defaults.governance, big)) {
        expect(await pass(defaults)).toEqual({})
        expect(await e.read(STAKING, 'params')).toMatchObject(defaults.staking)
      }
    } finally {
      await e.restore()
    }
  }

  const one = (group: Group, name: string, v: bigint): Sets => ({
    staking: { ...defaults.staking },
    governance: { ...defaults.governance },
    chain: { ...defaults.chain },
    [group]: { ...defaults[group], [name]: asField(group, name, v) },
  })

  it('every extreme of every parameter is refused at submission exactly when the bounds exclude it', async () => {
    let refused = 0
    for (const group of ['staking', 'governance', 'chain'] as const) {
      for (const name of Object.keys(FIELDS[group])) {
        for (const v of extremes(group, name, bonded)) {
          const s = one(group, name, v)
          const sub = await e.call(proposer, GOVERNANCE, 'submitProposal', [actionsOf(s), 'one', ''], ETHER)
          const what = `${group}.${name} = ${v}`
          if (valid(s, bonded)) expect(sub.error, what).toBeUndefined()
          else {
            expect(sub.error, what).toMatch(/^InvalidParams\(".+"\)$/)
            refused++
          }
        }
      }
    }
    expect(refused).toBeGreaterThan(50)
  }, 120_000)

  it('the accepted extremes, combined into a few sets, pass and execute; every system call still succeeds', async () => {
    // set k holds each field's k-th accepted extreme (or its last): every accepted extreme runs the chain once
    const accepted: Record<string, bigint[]> = {}
    for (const group of ['staking', 'governance', 'chain'] as const) {
      for (const name of Object.keys(FIELDS[group])) {
        accepted[`${group}.${name}`] = extremes(group, name, bonded).filter((v) => valid(one(group, name, v), bonded))
      }
    }
    const k = Math.max(...Object.values(accepted).map((a) => a.length))
    for (let i = 0; i < k; i++) {
      const s: Sets = {
        staking: { ...defaults.staking },
        governance: { ...defaults.governance },
        chain: { ...defaults.chain },
      }
      for (const [key, values] of Object.entries(accepted)) {
        const [group, name] = key.split('.') as [Group, string]
        ;(s[group] as unknown as Record<string, bigint | number>)[name] = asField(
          group,
          name,
          values[Math.min(i, values.length - 1)] as bigint,
        )
      }
      if (s.staking.annualRateBps !== 0 && s.staking.blocksPerYear === 0n) s.staking.blocksPerYear = 1n
      expect(valid(s, bonded)).toBe(true)
      await check(s).catch((err: Error) => {
        err.message = `combined set ${i} ${JSON.stringify(s, big)}: ${err.message}`
        throw err
      })
    }
  }, 120_000)

  it('whole parameter sets drawn by fast-check, several fields at once', async () => {
    // most fields keep their value, so that a fair share of the sets is valid and runs the chain
    const field = (group: Group, name: string) =>
      fc.oneof(
        { arbitrary: fc.constant(undefined), weight: 12 },
        { arbitrary: fc.constantFrom(...extremes(group, name, bonded)), weight: 1 },
        { arbitrary: fc.bigInt({ min: 0n, max: (1n << BigInt(FIELDS[group][name] as Width)) - 1n }), weight: 1 },
      )
    const groupArb = (group: Group) =>
      fc.record(
        Object.fromEntries(Object.keys(FIELDS[group]).map((n) => [n, field(group, n)])) as Record<
          string,
          fc.Arbitrary<bigint | undefined>
        >,
      )
    const merge = (group: Group, drawn: Record<string, bigint | undefined>) => {
      const out: Record<string, bigint | number> = {
        ...(defaults[group] as unknown as Record<string, bigint | number>),
      }
      for (const [n, v] of Object.entries(drawn)) if (v !== undefined) out[n] = asField(group, n, v)
      return out
    }
    await fc.assert(
      fc.asyncProperty(groupArb('staking'), groupArb('governance'), groupArb('chain'), async (st, gv, ch) => {
        await check({
          staking: merge('staking', st) as unknown as StakingParams,
          governance: merge('governance', gv) as unknown as GovParams,
          chain: merge('chain', ch) as unknown as ChainParams,
        })
      }),
      { numRuns: 12, seed: 66 },
    )
  }, 180_000)

  it('a change that was valid when proposed is refused when it runs if the state moved under it (minDeposit past the bonded stake)', async () => {
    await e.snapshot()
    try {
      const s = one('governance', 'minDeposit', bonded)
      const deposit = ETHER
      const sub = await e.call(proposer, GOVERNANCE, 'submitProposal', [actionsOf(s), 'all in', ''], deposit)
      expect(sub.error).toBeUndefined()
      const id = (await e.read(GOVERNANCE, 'proposalCount')) as bigint
      for (const v of e.validators.slice(0, 2)) await e.call(v, GOVERNANCE, 'vote', [id, 1])
      e.skip(3n)
      expect((await e.call(proposer, GOVERNANCE, 'tally', [id])).error).toBeUndefined()
      // a validator unbonds one coin: the deposit is now more than the bonded stake
      expect(
        (await e.call(e.validators[3] as Hex, STAKING, 'undelegate', [e.validators[3], ETHER])).error,
      ).toBeUndefined()
      e.skip(1n)
      const ex = await e.call(proposer, GOVERNANCE, 'execute', [id])
      expect(ex.error).toMatch(/^ActionFailed\(1, "0x/)
      expect(ex.error).toContain(Buffer.from('minDeposit must be').toString('hex'))
    } finally {
      await e.restore()
    }
  })

  it('a downtime jailing at a timestamp near 2^64 saturates its release time instead of reverting', async () => {
    await e.snapshot()
    try {
      const s = one('staking', 'signedBlocksWindow', 2n)
      s.staking.minSignedPerWindowBps = 10_000
      s.staking.downtimeJailSeconds = 31_536_000n
      expect(await pass(s)).toEqual({})
      e.block.timestamp = (1n << 64n) - 10n
      const [v0, v1, v2, v3] = e.validators as [Hex, Hex, Hex, Hex]
      for (let i = 0; i < 3; i++) await e.endBlock({ signed: [v0, v1, v2], missed: [v3] })
      const v = (await e.read(STAKING, 'getValidator', [v3])) as [Hex, bigint, bigint, number, boolean, boolean, bigint]
      expect(v[4]).toBe(true)
      expect(v[6]).toBe((1n << 64n) - 1n)
    } finally {
      await e.restore()
    }
  })

  it('a genesis with a parameter out of its bounds is refused naming it (cairn devnet init --param)', async () => {
    const p = stakingParamsWith('devnet', ['staking.maxValidators=1024'])
    await expect(
      stakingGenesisAlloc({
        chainId: 1n,
        validators: [{ operator: proposer, consensus: proposer, selfBond: ETHER, commissionBps: 0 }],
        staking: p.staking,
        governance: p.governance,
        chain: defaults.chain,
      }),
    ).rejects.toMatchObject({
      code: 'CONSENSUS_STAKING_INVALID_GENESIS',
      message:
        'the staking genesis parameters are refused: maxValidators must be in 1..200: more does not fit the system-call gas',
    })
  })

  it('at the highest minBaseFee the proposal that undoes it stays affordable: submit, vote, tally and execute cost under a coin', async () => {
    await e.snapshot()
    try {
      const maxFee = (await e.read(GOVERNANCE, 'MAX_MIN_BASE_FEE')) as bigint
      const intrinsic = 21_000n + 16n * 2_000n // a transaction's base cost and its calldata, generously
      const gas: Record<string, bigint> = {}
      const sub = await e.call(proposer, GOVERNANCE, 'submitProposal', [actionsOf(defaults), 'undo', ''], ETHER)
      gas.submit = sub.gasUsed + intrinsic
      const id = (await e.read(GOVERNANCE, 'proposalCount')) as bigint
      const vote = await e.call(e.validators[0] as Hex, GOVERNANCE, 'vote', [id, 1])
      gas.vote = vote.gasUsed + intrinsic
      for (const v of e.validators.slice(1)) await e.call(v, GOVERNANCE, 'vote', [id, 1])
      e.skip(3n)
      gas.tally = (await e.call(proposer, GOVERNANCE, 'tally', [id])).gasUsed + intrinsic
      e.skip(1n)
      const ex = await e.call(proposer, GOVERNANCE, 'execute', [id])
      expect(ex.error).toBeUndefined()
      gas.execute = ex.gasUsed + intrinsic
      const total = Object.values(gas).reduce((a, b) => a + b, 0n)
      console.log(
        `undo proposal at minBaseFee ${maxFee} wei: ${JSON.stringify(gas, big)} gas, ${Number((total * maxFee) / 10n ** 14n) / 1e4} coins`,
      )
      expect(gas.vote * maxFee).toBeLessThan(ETHER / 50n)
      expect(total * maxFee).toBeLessThan(ETHER)
    } finally {
      await e.restore()
    }
  })
})
