import { closeSync, openSync, readSync } from 'node:fs'
import { CairnError } from '@cairn/utils'
import type { Block, BlockBytes } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import { RLP } from '@ethereumjs/rlp'
import { ChainErrorCode } from '../errors.ts'
import { ChainCommons } from '../rules/common.ts'
import { decodeBlock } from './block-decode.ts'
import { encodeBlock } from './block-encode.ts'
import { rlpItemLength } from './rlp-items.ts'

/**
 * geth's chain-file format (`geth export` / `geth import`): blocks as RLP
 * `[header, transactions, uncles, withdrawals?]`, concatenated with nothing between them.
 */
export function encodeChainFileBlock(block: Block): Uint8Array {
  return encodeBlock(block)
}

/**
 * Reads the blocks of a chain file one at a time, without loading the file whole, each decoded
 * with the Common of its fork (`chain.commons`). A truncated
 * last block or bytes that are not a block are reported with their byte offset.
 */
export function* readChainFile(path: string, commons: ChainCommons | Common): Generator<Block> {
  const forks = commons instanceof ChainCommons ? commons : ChainCommons.of(commons)
  const fd = openSync(path, 'r')
  try {
    let buf: Uint8Array = new Uint8Array(0)
    let offset = 0
    let eof = false
    const chunk = Buffer.alloc(1 << 20)
    for (;;) {
      let need = rlpItemLength(buf)
      while (!eof && (need === undefined || buf.length < need)) {
        const n = readSync(fd, chunk, 0, chunk.length, null)
        if (n === 0) eof = true
        else {
          const next = new Uint8Array(buf.length + n)
          next.set(buf, 0)
          next.set(chunk.subarray(0, n), buf.length)
          buf = next
        }
        need = rlpItemLength(buf)
      }
      if (buf.length === 0) return
      if (need === undefined || buf.length < need) {
        throw chainFileError(
          path,
          offset,
          `a truncated block (${buf.length} bytes left, the item needs ${need ?? '?'})`,
        )
      }
      const item = buf.subarray(0, need)
      let block: Block
      try {
        const values = RLP.decode(item) as unknown as BlockBytes
        block = decodeBlock(values, forks)
      } catch (err) {
        throw chainFileError(path, offset, `bytes that are not a block (${(err as Error).message})`)
      }
      yield block
      offset += need
      buf = buf.slice(need)
    }
  } finally {
    closeSync(fd)
  }
}

function chainFileError(path: string, offset: number, what: string): CairnError {
  return new CairnError(ChainErrorCode.BLOCK_INVALID, `chain file ${path} holds ${what} at byte ${offset}`, {
    fault: 'caller',
    hint: 'the file is damaged or not an RLP chain file (as `cairn export` and `geth export` write)',
  })
}
