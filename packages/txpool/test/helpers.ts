import type { Chain } from '@cairn/chain'
import { CairnError, silentLogger } from '@cairn/utils'
import { expect } from 'vitest'
import { openChain } from '../../chain/test/helpers.ts'
import {
  DEFAULT_TXPOOL_OPTIONS,
  TxPool,
  type TxPoolMetrics,
  type TxPoolModules,
  type TxPoolOptions,
} from '../src/index.ts'

export const GWEI = 10n ** 9n
export const ETHER = 10n ** 18n

/** A pool over a real chain (MemoryKV), reading state at the chain's head; `modules` adds or replaces modules (a recovery). */
export function poolOn(
  chain: Chain,
  opts: Partial<TxPoolOptions> = {},
  metrics: TxPoolMetrics | null = null,
  modules: Partial<TxPoolModules> = {},
): TxPool {
  return new TxPool(
    { ...DEFAULT_TXPOOL_OPTIONS, ...opts },
    {
      stateAt: (root) => chain.stateAt(root),
      head: chain.head.header,
      logger: silentLogger,
      metrics,
      ...modules,
    },
  )
}

export async function setup(
  opts: Partial<TxPoolOptions> = {},
  metrics: TxPoolMetrics | null = null,
  genesis?: unknown,
) {
  const chain = genesis === undefined ? await openChain() : await openChain(undefined, genesis)
  const pool = poolOn(chain, opts, metrics)
  return { chain, pool, common: chain.common }
}

/** Awaits a rejection and checks it is a CairnError with `code` and exactly geth's `message`. */
export async function expectRejected(p: Promise<unknown>, code: string, message: string): Promise<CairnError> {
  let caught: unknown
  try {
    await p
  } catch (err) {
    caught = err
  }
  expect(caught, `expected a rejection with ${code}`).toBeInstanceOf(CairnError)
  const err = caught as CairnError
  expect(err.code).toBe(code)
  expect(err.message).toBe(message)
  expect(err.fault).toBe('caller')
  return err
}
