// A proposal's actions as `cairn gov propose` builds them (governance/actions.ts): parameter
// changes applied over the values in force, the chain parameters, an upgrade and spends, each
// encoded for the contract that runs it; what cannot be made sense of is refused with the caller's
// error, before anything is read or sent.
import { GOVERNANCE_ADDRESS, governanceAbi, STAKING_ADDRESS, stakingAbi } from '@cairn/contracts'
import { decodeFunctionData, getAddress, type Hex, parseEther } from 'viem'
import { describe, expect, it } from 'vitest'
import { applyParamChanges, parseParamChange, proposalActions } from '../../src/governance/index.ts'
import { STAKING_PROFILES } from '../../src/staking/index.ts'

const devnet = STAKING_PROFILES.devnet
const CHAIN = { blockGasLimit: 30_000_000n, minBaseFee: 0n, blockTimeMs: 1000n }
const read = async (_address: Hex, _abi: unknown, fn: string) =>
  fn === 'params' ? devnet.staking : fn === 'govParams' ? devnet.governance : CHAIN
const refuse = (message: string, hint: string) => new Error(`${message} | ${hint}`)

describe('proposal actions', () => {
  it('changes parameters over the values in force, chain parameters, an upgrade and a spend', async () => {
    const actions = await proposalActions(
      {
        param: ['staking.maxValidators=50', 'governance.quorumBps=4000', 'staking.epochLength=20'],
        gasLimit: '60000000',
        upgrade: 'v2@5000',
        spend: ['0x00000000000000000000000000000000000000aa:1.5'],
      },
      read,
      refuse,
    )
    expect(actions.map((a) => a.target)).toEqual([
      STAKING_ADDRESS,
      GOVERNANCE_ADDRESS,
      GOVERNANCE_ADDRESS,
      GOVERNANCE_ADDRESS,
      STAKING_ADDRESS,
    ])
    const st = decodeFunctionData({ abi: stakingAbi, data: actions[0]?.data as Hex })
    expect(st.functionName).toBe('setParams')
    expect(st.args?.[0]).toEqual({ ...devnet.staking, maxValidators: 50, epochLength: 20n })
    const gv = decodeFunctionData({ abi: governanceAbi, data: actions[1]?.data as Hex })
    expect(gv.args?.[0]).toEqual({ ...devnet.governance, quorumBps: 4000 })
    const chain = decodeFunctionData({ abi: governanceAbi, data: actions[2]?.data as Hex })
    expect([chain.functionName, chain.args?.[0]]).toEqual(['setChainParams', { ...CHAIN, blockGasLimit: 60_000_000n }])
    const up = decodeFunctionData({ abi: governanceAbi, data: actions[3]?.data as Hex })
    expect([up.functionName, ...(up.args ?? [])]).toEqual(['scheduleUpgrade', 'v2', 5000n])
    const spend = decodeFunctionData({ abi: stakingAbi, data: actions[4]?.data as Hex })
    expect([spend.functionName, ...(spend.args ?? [])]).toEqual([
      'spendCommunityPool',
      getAddress('0x00000000000000000000000000000000000000aa'),
      parseEther('1.5'),
    ])
    expect(actions.every((a) => a.value === 0n)).toBe(true)
  })

  it.each([
    [{ param: ['staking.nope=1'] }, /^staking has no parameter nope \| it has epochLength, /],
    [{ param: ['governance.quorumBps=0x10'] }, /^governance.quorumBps=0x10: expected an integer/],
    [{ param: ['chain.blockGasLimit=1'] }, /^--param chain.blockGasLimit=1 \| expected staking/],
    [{ minBaseFee: '-1' }, /^chain.minBaseFee=-1: expected an integer/],
    [{ upgrade: 'v2' }, /^--upgrade v2 \| expected NAME@HEIGHT/],
    [{ spend: ['0xaa:1'] }, /^--spend 0xaa:1 \| expected ADDRESS:COINS/],
    [{}, /^a proposal needs at least one action/],
  ])('refuses %j', async (request, message) => {
    await expect(proposalActions(request, read, refuse)).rejects.toThrow(message)
  })
})

describe('parameter changes', () => {
  it('parses group.name=value, and nothing else', () => {
    expect(parseParamChange('staking.epochLength=10')).toEqual({ group: 'staking', name: 'epochLength', value: '10' })
    expect(parseParamChange('governance.vetoBps=x')).toEqual({ group: 'governance', name: 'vetoBps', value: 'x' })
    expect(parseParamChange('chain.blockTimeMs=1')).toBeNull()
    expect(parseParamChange('staking.epochLength')).toBeNull()
  })

  it('keeps each field’s type and leaves the input as it was', () => {
    const current = { a: 1n, b: 2 }
    const out = applyParamChanges(
      current,
      [
        ['a', '5'],
        ['b', '7'],
      ],
      () => new Error('refused'),
    )
    expect(out).toEqual({ a: 5n, b: 7 })
    expect(current).toEqual({ a: 1n, b: 2 })
    expect(() => applyParamChanges(current, [['c', '1']], (p) => new Error(p.kind))).toThrow('unknown')
    expect(() => applyParamChanges(current, [['a', '1.5']], (p) => new Error(p.kind))).toThrow('not-integer')
  })
})
