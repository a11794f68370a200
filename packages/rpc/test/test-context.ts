import { silentLogger } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { DEFAULT_RPC_LIMITS, NO_NETWORK, type RpcContext } from '../src/index.ts'

/**
 * An RpcContext for dispatcher tests: no network, the default limits, a silent logger, no dev
 * controls, and whatever the test gives (its chain, pool, producer, consensus, network).
 */
export function testContext(fields: Partial<RpcContext> & Pick<RpcContext, 'chain'>): RpcContext {
  return {
    network: NO_NETWORK,
    clientVersion: 'cairn/test',
    limits: DEFAULT_RPC_LIMITS,
    logger: silentLogger,
    dev: null,
    // An engine that leaves every header field to the chain's rules (EIP-1559's base fee), a second on.
    producer: { nextBlockEnv: (parent: Block) => ({ timestamp: parent.header.timestamp + 1n }) },
    ...fields,
  } as unknown as RpcContext
}
