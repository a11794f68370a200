// The committed Staking and Governance artifacts are what their sources compile to, and the package
// exports them with the genesis addresses the engine places them at. (Behaviour is tested on a dev
// node in the root test/contracts/.)
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { artifactText, compileContract } from '../src/compile.ts'
import { GOVERNANCE_ADDRESS, governance, STAKING_ADDRESS, SYSTEM_ADDRESS, staking } from '../src/index.ts'

const names = (abi: readonly Record<string, unknown>[], type: string) =>
  abi.filter((e) => e.type === type).map((e) => e.name)

describe('Staking and Governance artifacts', () => {
  it.each(['Staking', 'Governance'])('%s.json is current: recompiling the source gives the committed file', (name) => {
    const committed = readFileSync(new URL(`../src/artifacts/${name}.json`, import.meta.url), 'utf8')
    expect(committed).toBe(artifactText(compileContract(name)))
  }, 120_000)

  it('exports the system contracts with the ABI the engine calls and their genesis addresses', () => {
    expect(STAKING_ADDRESS).toBe('0x0000000000000000000000000000000000001000')
    expect(GOVERNANCE_ADDRESS).toBe('0x0000000000000000000000000000000000001001')
    expect(SYSTEM_ADDRESS).toBe('0xfffffffffffffffffffffffffffffffffffffffe')
    expect(names(staking.abi, 'function')).toEqual(
      expect.arrayContaining([
        'initialize',
        'createValidator',
        'editValidator',
        'delegate',
        'undelegate',
        'redelegate',
        'withdrawUnbonded',
        'withdrawRewards',
        'withdrawCommission',
        'unjail',
        'submitDoubleSign',
        'issuance',
        'reward',
        'slashDoubleSign',
        'epochUpdate',
        'setParams',
        'spendCommunityPool',
        'params',
        'activeSet',
        'validatorByConsensus',
        'getValidator',
        'delegationOf',
        'delegationsOf',
        'pendingRewards',
        'totalBonded',
        'communityPool',
        'votingPowerOf',
      ]),
    )
    expect(names(staking.abi, 'event')).toEqual(
      expect.arrayContaining(['ValidatorCreated', 'Delegated', 'Slashed', 'Jailed', 'Unjailed', 'ActiveSetUpdated']),
    )
    expect(names(governance.abi, 'function')).toEqual(
      expect.arrayContaining([
        'initialize',
        'submitProposal',
        'vote',
        'tally',
        'execute',
        'setGovParams',
        'setChainParams',
        'scheduleUpgrade',
        'cancelUpgrade',
        'upgradePlan',
        'chainParams',
        'govParams',
        'getProposal',
        'proposalCount',
      ]),
    )
    // placed in genesis as runtime code: no constructor arguments, paris like the others
    expect(staking.abi.some((e) => e.type === 'constructor')).toBe(false)
    expect(governance.abi.some((e) => e.type === 'constructor')).toBe(false)
    expect(staking.compiler).toMatchObject({ version: '0.8.30', evmVersion: 'paris' })
  })
})
