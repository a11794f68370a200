// Each system call of a block is a message of its own, as geth's system calls are (each ends with
// the state's Finalise): EIP-2200's "original" storage values are those at its start. A validator
// jailed for downtime by the block's `reward` (its candidate entry cleared: a refund in that call)
// and tombstoned by evidence in the same block (its entry then overwritten by another candidate's:
// the refund taken back) once made the evidence's `slashDoubleSign` trap "refund exhausted" — its
// own refund counter held nothing to take back — and the block could not be built: the chain halted.
import type { Hex } from 'viem'
import { expect, it } from 'vitest'
import { STAKING, stakingEvm } from './system-evm.ts'

it('a validator jailed for downtime and tombstoned by evidence in the same block: the block is built', async () => {
  const e = await stakingEvm({ staking: { signedBlocksWindow: 2n, minSignedPerWindowBps: 10_000, epochLength: 1000n } })
  const [v0, v1, v2, v3] = e.validators as [Hex, Hex, Hex, Hex]
  await e.endBlock({ signed: [v0, v2, v3], missed: [v1] })
  const height = Number(e.block.number - 1n)
  // v1 misses again (its window of 2 is now full of misses: jailed in this block's reward) and the
  // block carries its equivocation at the previous height
  await e.endBlock({
    signed: [v0, v2, v3],
    missed: [v1],
    evidence: [{ validator: Buffer.from(v1.slice(2), 'hex'), height, round: 0, type: 2 }],
  })
  const v = (await e.read(STAKING, 'getValidator', [v1])) as [Hex, bigint, bigint, number, boolean, boolean]
  expect(v[4]).toBe(true) // jailed
  expect(v[5]).toBe(true) // tombstoned
  expect(((await e.read(STAKING, 'candidates')) as Hex[]).map((a) => a.toLowerCase())).not.toContain(v1.toLowerCase())
})
