import type { BlockHeader } from '@ethereumjs/block'
import { RpcErrorCode } from '../errors.ts'
import { simError, tooManyBlocks } from './errors.ts'
import type { SimBlockOverride, SimOptions } from './schema.ts'

/** Most blocks one eth_simulateV1 may span (geth's maxSimulateBlocks). */
export const MAX_SIM_BLOCKS = 256n
/** A simulated block without a time is this many seconds after its parent (geth's timestampIncrement). */
const TIME_STEP = 12n

type SimBlock = SimOptions['blockStateCalls'][number]
/** A block to simulate, its number and time settled. */
export type PlannedBlock = SimBlock & { blockOverrides: SimBlockOverride & { number: bigint; time: bigint } }

/**
 * geth's sanitizeChain: numbers and times strictly increase from the base block; a block without
 * a number is the next one, without a time 12 s after its parent; a gap in numbers is filled with
 * empty blocks 12 s apart. -38020 / -38021 for numbers or times out of order, -38026 past 256 blocks.
 */
export function planBlocks(blocks: SimBlock[], base: BlockHeader): PlannedBlock[] {
  const out: PlannedBlock[] = []
  let prevNumber = base.number
  let prevTime = base.timestamp
  for (const block of blocks) {
    const o = block.blockOverrides ?? {}
    const number = o.number ?? prevNumber + 1n
    if (number <= prevNumber) {
      throw simError(
        RpcErrorCode.SIM_BLOCK_NUMBER_INVALID,
        `block numbers must be in order: ${number} <= ${prevNumber}`,
      )
    }
    if (number - base.number > MAX_SIM_BLOCKS) throw tooManyBlocks()
    for (let n = prevNumber + 1n; n < number; n++) {
      prevTime += TIME_STEP
      out.push({ blockOverrides: { number: n, time: prevTime } })
    }
    prevNumber = number
    let time: bigint
    if (o.time === undefined) {
      time = prevTime + TIME_STEP
    } else {
      time = o.time
      if (time <= prevTime) {
        throw simError(
          RpcErrorCode.SIM_BLOCK_TIMESTAMP_INVALID,
          `block timestamps must be in order: ${time} <= ${prevTime}`,
        )
      }
    }
    prevTime = time
    out.push({ ...block, blockOverrides: { ...o, number, time } })
  }
  return out
}
