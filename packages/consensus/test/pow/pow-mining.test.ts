import { afterEach, describe, expect, it } from 'vitest'
import { KEYS, transfer } from '../../../chain/test/helpers.ts'
import { until } from '../helpers.ts'
import { powSetup, stopAllPow } from './pow-setup.ts'

afterEach(stopAllPow)

describe('PoW engine: mining threads', () => {
  it('mines blocks on a worker thread, takes in new transactions and reports its hash rate', async () => {
    const s = await powSetup({ mine: true, threads: 1, recommitMs: 100 })
    await until(() => s.chain.head.header.number >= 2n, 20_000, 'two mined blocks')
    const tx = transfer(s.chain.common, KEYS[2] as Uint8Array, 0n, `0x${'be'.repeat(20)}`, 1n)
    await s.pool.add(tx, { source: 'local' })
    await until(() => s.pool.get(tx.hash()) === undefined, 20_000, 'the transaction mined')
    const location = await s.chain.getTxLocation(tx.hash())
    expect(location).toBeDefined()
    expect(s.engine.isMining()).toBe(true)
    await until(() => s.engine.hashRate() > 0n, 20_000, 'a hash rate report')
    const text = await s.registry.metrics()
    expect(text).toMatch(/cairn_pow_blocks_mined_total\{coinbase="0x[0-9a-f]+"\} [1-9]/)
    expect(text).toMatch(/cairn_pow_hashes_total [1-9]/)
    expect(text).toMatch(/cairn_pow_hashrate_hashes_per_second\{source="local"\} [0-9.]*[1-9]/)
    await s.engine.stop()
    expect(s.engine.isMining()).toBe(false)
  }, 60_000)
})
