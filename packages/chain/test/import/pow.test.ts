// Proof-of-work era import rules on ethereum/execution-apis' test chain (blocks 1-35 are PoW, with
// uncles): changed blocks are refused for their difficulty and their uncles, as geth's ethash does.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { MemoryKV } from '@cairn/db'
import { type Block, createBlock } from '@ethereumjs/block'
import { describe, expect, it } from 'vitest'
import { chainParts } from '../../src/chain-parts.ts'
import { validateProofOfWork } from '../../src/import/pow.ts'
import { readChainFile } from '../../src/index.ts'
import { importBlock, openChain } from '../helpers.ts'

const FIXTURES = join(import.meta.dirname, '../../../../conformance/rpc-compat/fixtures')
const GENESIS = JSON.parse(readFileSync(join(FIXTURES, 'genesis.json'), 'utf8')) as unknown

async function chainUpTo(n: bigint) {
  const chain = await openChain(new MemoryKV(), GENESIS)
  const blocks: Block[] = []
  for (const block of readChainFile(join(FIXTURES, 'chain.rlp'), chain.commons)) {
    if (block.header.number > n) break
    blocks.push(block)
  }
  for (const b of blocks.slice(0, -2)) await importBlock(chain, b)
  return { chain, blocks }
}

/** `block` with other header fields or uncles (not sealed: the seal is not checked). */
function altered(block: Block, header: object, uncleHeaders = block.uncleHeaders): Block {
  return createBlock(
    { header: { ...block.header.toJSON(), ...header }, transactions: block.transactions, uncleHeaders },
    { common: block.common, skipConsensusFormatValidation: true },
  )
}

describe('proof-of-work blocks', () => {
  it('the file’s blocks pass; a wrong difficulty, an ancestor as uncle or an uncle included twice are refused', async () => {
    const { chain, blocks } = await chainUpTo(4n)
    const [b3, b4] = blocks.slice(-2) as [Block, Block]
    const b2 = blocks[1] as Block
    expect(b3.uncleHeaders.length).toBe(1)
    await validateProofOfWork(b3, b2, chainParts(chain).store)
    await expect(
      validateProofOfWork(altered(b3, { difficulty: b3.header.difficulty + 1n }), b2, chainParts(chain).store),
    ).rejects.toThrow(/difficulty 131073 is not the expected 131072/)
    await expect(validateProofOfWork(altered(b3, {}, [b2.header]), b2, chainParts(chain).store)).rejects.toThrow(
      /ancestor/,
    )
    // More than 2 uncles, or one twice in a block: @ethereumjs's Block refuses to decode it.
    expect(() => altered(b3, {}, [...b3.uncleHeaders, ...b3.uncleHeaders])).toThrow(/duplicate uncles/)
    await importBlock(chain, b3)
    expect(b4.uncleHeaders.length).toBe(1)
    await validateProofOfWork(b4, b3, chainParts(chain).store)
    await expect(validateProofOfWork(altered(b4, {}, b3.uncleHeaders), b3, chainParts(chain).store)).rejects.toThrow(
      /included twice/,
    )
    await importBlock(chain, b4)
    expect(chain.head.header.number).toBe(4n)
  })
})
