// At most MAX_ROTATIONS_PER_BLOCK (16) set members rotate their consensus keys in one block: each is
// a key swap in that block's set update, which MAX_SET_CHANGES bounds, so a 17th is refused
// (`TooManyRotations(16)`) and goes through in the next block; the block's update swaps the 16 keys.
import { keccak256 } from '@cairn/crypto'
import { bytesToHex, hexToBytes } from '@cairn/utils'
import type { Hex } from 'viem'
import { expect, it } from 'vitest'
import { rotationProof } from '../../src/staking/key-rotation.ts'
import { STAKING, stakingEvm } from './system-evm.ts'

it('the 17th member rotation of a block is refused, and goes through in the next', async () => {
  const e = await stakingEvm({ validators: 18, staking: { epochLength: 1000n } })
  const max = Number(await e.read(STAKING, 'MAX_ROTATIONS_PER_BLOCK'))
  expect(max).toBe(16)
  const rotate = async (i: number) => {
    const operator = e.validators[i] as Hex
    const next = keccak256(new TextEncoder().encode(`rotation-limit-${i}`))
    const { newConsensusAddr, proof } = rotationProof(1337n, hexToBytes(STAKING), hexToBytes(operator), next)
    return {
      out: await e.call(operator, STAKING, 'rotateConsensusKey', [bytesToHex(newConsensusAddr), bytesToHex(proof)]),
      key: bytesToHex(newConsensusAddr).toLowerCase(),
    }
  }
  const keys: string[] = []
  for (let i = 0; i < max; i++) {
    const r = await rotate(i)
    expect(r.out.error).toBeUndefined()
    keys.push(r.key)
  }
  expect((await rotate(max)).out.error).toBe(`TooManyRotations(${max})`)
  const out = await e.endBlock()
  const set = (out.set ?? []).map((m) => bytesToHex(m.address).toLowerCase())
  for (const k of keys) expect(set).toContain(k)
  expect(set).toHaveLength(18)
  const late = await rotate(max)
  expect(late.out.error).toBeUndefined()
  const after = await e.endBlock()
  expect((after.set ?? []).map((m) => bytesToHex(m.address).toLowerCase())).toContain(late.key)
})
