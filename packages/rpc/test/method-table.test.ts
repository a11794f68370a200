// The attributes declared on methods (role, weight, read thread, request context: method.ts) and
// the tables derived from them (method-table.ts) answer exactly as the six hand-kept tables did
// before (METHOD_ROLES, methodWeight/EXECUTES, READ_THREAD_METHODS, READ_THREAD_WORTH_FORWARDING,
// CONTEXT_FREE): BEFORE was recorded by running those functions over every method and some odd names.
import { silentLogger } from '@cairn/utils'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { openChain } from '../../chain/test/helpers.ts'
import { ALL_METHODS, type MethodDef, method, RpcDispatcher } from '../src/index.ts'
import {
  deriveMethodTable,
  methodWeight,
  readThreadMethods,
  readThreadWorthForwarding,
  requiredRole,
  runsWithoutContext,
} from '../src/method-table.ts'
import { testContext } from './test-context.ts'

type Row = [role: string, weight: number, readThread: '-' | 'answer' | 'forward', contextFree: boolean]

/** Names no method declares (look-alikes of declared families, bare namespaces, other clients' namespaces). */
const ODD = [
  '',
  'eth',
  'eth_',
  'eth_foo',
  'eth_sendFoo',
  'eth_signFoo',
  'eth_sendUnsignedFoo',
  'eth_callX',
  'personal_newAccount',
  'personal_unlockAccount',
  'personal_signFoo',
  'personal_ecRecoverX',
  'admin_x',
  'miner_start',
  'cairn_unknown',
  'cairn_getFoo',
  'cairn_getCommitX',
  'cairn_getValidatorsX',
  'cairn_getEvidenceX',
  'txpool_x',
  'debug_x',
  'trace_x',
  'ots_x',
  'testing_x',
  'evm_x',
  'anvil_x',
  'hardhat_x',
  'net_x',
  'web3_x',
  'foo',
  'foo_bar',
  'ETH_chainId',
  'rpc_modules',
  'engine_newPayloadV3',
]

/** [requiredRole, methodWeight, read thread, runs without the request context], from the old tables. */
const BEFORE: Record<string, Row> = {
  web3_clientVersion: ['public', 1, '-', true],
  web3_sha3: ['public', 1, '-', true],
  net_version: ['public', 1, '-', true],
  net_listening: ['public', 1, '-', true],
  net_peerCount: ['public', 1, '-', true],
  cairn_getCommit: ['public', 1, '-', true],
  cairn_getValidators: ['public', 1, '-', true],
  cairn_acceptBranch: ['admin', 1, '-', false],
  cairn_getEvidence: ['public', 1, '-', true],
  cairn_getDagInfo: ['public', 1, '-', true],
  cairn_getBlockDagData: ['public', 1, '-', true],
  admin_nodeInfo: ['admin', 1, '-', false],
  admin_peers: ['admin', 1, '-', false],
  admin_addPeer: ['admin', 1, '-', false],
  admin_removePeer: ['admin', 1, '-', false],
  eth_chainId: ['public', 1, 'answer', true],
  eth_syncing: ['public', 1, '-', true],
  eth_accounts: ['public', 1, '-', true],
  eth_coinbase: ['public', 1, '-', true],
  eth_mining: ['public', 1, '-', true],
  eth_hashrate: ['public', 1, '-', true],
  eth_gasPrice: ['public', 1, '-', true],
  eth_maxPriorityFeePerGas: ['public', 1, '-', true],
  eth_baseFee: ['public', 1, '-', true],
  eth_blobBaseFee: ['public', 1, '-', true],
  eth_feeHistory: ['public', 1, '-', true],
  eth_config: ['public', 1, '-', true],
  eth_capabilities: ['public', 1, '-', true],
  eth_blockNumber: ['public', 1, 'answer', true],
  eth_getBlockByNumber: ['public', 1, 'forward', true],
  eth_getBlockByHash: ['public', 1, 'forward', true],
  eth_getBlockTransactionCountByNumber: ['public', 1, 'answer', true],
  eth_getBlockTransactionCountByHash: ['public', 1, 'answer', true],
  eth_getTransactionByHash: ['public', 1, '-', true],
  eth_getTransactionByBlockNumberAndIndex: ['public', 1, 'answer', true],
  eth_getTransactionByBlockHashAndIndex: ['public', 1, 'answer', true],
  eth_getTransactionReceipt: ['public', 1, 'answer', true],
  eth_getBlockReceipts: ['public', 10, 'forward', true],
  debug_getRawTransaction: ['admin', 20, '-', false],
  debug_getRawReceipts: ['admin', 20, '-', false],
  debug_getRawHeader: ['admin', 20, '-', false],
  debug_getRawBlock: ['admin', 20, '-', false],
  eth_getBalance: ['public', 1, 'answer', true],
  eth_getTransactionCount: ['public', 1, 'answer', true],
  eth_getCode: ['public', 1, 'answer', true],
  eth_getStorageAt: ['public', 1, 'answer', true],
  eth_call: ['public', 5, 'forward', true],
  eth_estimateGas: ['public', 5, '-', true],
  eth_createAccessList: ['public', 5, '-', true],
  eth_getStorageValues: ['public', 1, 'forward', true],
  eth_getProof: ['public', 5, 'forward', true],
  eth_getAccount: ['public', 1, 'answer', true],
  eth_getRawTransactionByHash: ['public', 1, '-', true],
  eth_getRawTransactionByBlockHashAndIndex: ['public', 1, '-', true],
  eth_getRawTransactionByBlockNumberAndIndex: ['public', 1, '-', true],
  eth_getTransactionBySenderAndNonce: ['public', 1, '-', true],
  eth_requestAccounts: ['public', 1, '-', true],
  eth_networkId: ['public', 1, '-', true],
  eth_protocolVersion: ['public', 1, '-', true],
  eth_getUncleCountByBlockNumber: ['public', 1, '-', true],
  eth_getUncleCountByBlockHash: ['public', 1, '-', true],
  eth_getUncleByBlockNumberAndIndex: ['public', 1, '-', true],
  eth_getUncleByBlockHashAndIndex: ['public', 1, '-', true],
  eth_getHeaderByNumber: ['public', 1, '-', true],
  eth_getHeaderByHash: ['public', 1, '-', true],
  eth_simulateV1: ['public', 20, '-', true],
  eth_sendRawTransaction: ['user', 1, '-', true],
  eth_sendTransaction: ['user', 5, '-', false],
  eth_sendUnsignedTransaction: ['admin', 1, '-', false],
  eth_signTransaction: ['user', 5, '-', false],
  eth_sign: ['user', 1, '-', false],
  personal_sign: ['user', 1, '-', false],
  eth_signTypedData_v4: ['user', 1, '-', false],
  eth_getWork: ['public', 1, '-', true],
  eth_submitWork: ['public', 1, '-', true],
  eth_submitHashrate: ['public', 1, '-', true],
  eth_getAccountInfo: ['public', 1, 'answer', true],
  eth_sendRawTransactionSync: ['user', 1, '-', true],
  eth_sendTransactionSync: ['user', 5, '-', false],
  eth_signTypedData_v3: ['user', 1, '-', false],
  eth_signTypedData: ['user', 1, '-', false],
  debug_codeByHash: ['admin', 1, '-', false],
  debug_dbGet: ['admin', 20, '-', false],
  erigon_getHeaderByNumber: ['admin', 1, '-', false],
  anvil_getBlobByHash: ['admin', 1, '-', false],
  anvil_getBlobsByTransactionHash: ['admin', 1, '-', false],
  anvil_impersonateSignature: ['admin', 1, '-', false],
  anvil_setMinGasPrice: ['admin', 1, '-', false],
  hardhat_setMinGasPrice: ['admin', 1, '-', false],
  anvil_setChainId: ['admin', 1, '-', false],
  tenderly_setBalance: ['admin', 1, '-', false],
  tenderly_addBalance: ['admin', 1, '-', false],
  eth_fillTransaction: ['public', 5, '-', true],
  eth_getLogs: ['public', 10, 'forward', true],
  eth_newFilter: ['public', 1, '-', true],
  eth_newBlockFilter: ['public', 1, '-', true],
  eth_newPendingTransactionFilter: ['public', 1, '-', true],
  eth_getFilterChanges: ['public', 1, '-', true],
  eth_getFilterLogs: ['public', 10, '-', true],
  eth_uninstallFilter: ['public', 1, '-', true],
  eth_subscribe: ['public', 1, '-', true],
  eth_unsubscribe: ['public', 1, '-', true],
  txpool_status: ['operator', 1, '-', false],
  txpool_content: ['operator', 1, '-', false],
  txpool_contentFrom: ['operator', 1, '-', false],
  txpool_inspect: ['operator', 1, '-', false],
  debug_traceBlockByNumber: ['admin', 20, '-', false],
  debug_traceBlockByHash: ['admin', 20, '-', false],
  debug_traceTransaction: ['admin', 20, '-', false],
  debug_traceCall: ['admin', 20, '-', false],
  trace_transaction: ['admin', 20, '-', false],
  trace_block: ['admin', 20, '-', false],
  trace_filter: ['admin', 20, '-', false],
  trace_rawTransaction: ['admin', 20, '-', false],
  trace_get: ['admin', 20, '-', false],
  trace_replayBlockTransactions: ['admin', 20, '-', false],
  trace_replayTransaction: ['admin', 20, '-', false],
  trace_callMany: ['admin', 20, '-', false],
  trace_call: ['admin', 20, '-', false],
  ots_searchTransactionsBefore: ['admin', 20, '-', false],
  ots_searchTransactionsAfter: ['admin', 20, '-', false],
  ots_getApiLevel: ['admin', 20, '-', false],
  ots_hasCode: ['admin', 20, '-', false],
  ots_getBlockDetails: ['admin', 20, '-', false],
  ots_getBlockDetailsByHash: ['admin', 20, '-', false],
  ots_getBlockTransactions: ['admin', 20, '-', false],
  ots_getTransactionError: ['admin', 20, '-', false],
  ots_traceTransaction: ['admin', 20, '-', false],
  ots_getInternalOperations: ['admin', 20, '-', false],
  ots_getContractCreator: ['admin', 20, '-', false],
  ots_getTransactionBySenderAndNonce: ['admin', 20, '-', false],
  testing_buildBlockV1: ['admin', 20, '-', false],
  evm_mine: ['admin', 1, '-', false],
  evm_increaseTime: ['admin', 1, '-', false],
  evm_setNextBlockTimestamp: ['admin', 1, '-', false],
  anvil_impersonateAccount: ['admin', 1, '-', false],
  hardhat_impersonateAccount: ['admin', 1, '-', false],
  anvil_stopImpersonatingAccount: ['admin', 1, '-', false],
  hardhat_stopImpersonatingAccount: ['admin', 1, '-', false],
  evm_snapshot: ['admin', 1, '-', false],
  evm_revert: ['admin', 1, '-', false],
  anvil_setBalance: ['admin', 1, '-', false],
  hardhat_setBalance: ['admin', 1, '-', false],
  anvil_setNonce: ['admin', 1, '-', false],
  hardhat_setNonce: ['admin', 1, '-', false],
  anvil_setCode: ['admin', 1, '-', false],
  hardhat_setCode: ['admin', 1, '-', false],
  anvil_setStorageAt: ['admin', 1, '-', false],
  hardhat_setStorageAt: ['admin', 1, '-', false],
  anvil_dumpState: ['admin', 1, '-', false],
  hardhat_dumpState: ['admin', 1, '-', false],
  anvil_loadState: ['admin', 1, '-', false],
  hardhat_loadState: ['admin', 1, '-', false],
  anvil_mine: ['admin', 1, '-', false],
  hardhat_mine: ['admin', 1, '-', false],
  anvil_dealERC20: ['admin', 1, '-', false],
  hardhat_dealERC20: ['admin', 1, '-', false],
  anvil_setERC20Balance: ['admin', 1, '-', false],
  anvil_setERC20Allowance: ['admin', 1, '-', false],
  evm_setAutomine: ['admin', 1, '-', false],
  anvil_setAutomine: ['admin', 1, '-', false],
  anvil_getAutomine: ['admin', 1, '-', false],
  hardhat_getAutomine: ['admin', 1, '-', false],
  evm_setIntervalMining: ['admin', 1, '-', false],
  anvil_setIntervalMining: ['admin', 1, '-', false],
  anvil_getIntervalMining: ['admin', 1, '-', false],
  evm_mine_detailed: ['admin', 1, '-', false],
  anvil_setCoinbase: ['admin', 1, '-', false],
  anvil_setNextBlockBaseFeePerGas: ['admin', 1, '-', false],
  hardhat_setNextBlockBaseFeePerGas: ['admin', 1, '-', false],
  evm_setBlockGasLimit: ['admin', 1, '-', false],
  evm_setTime: ['admin', 1, '-', false],
  anvil_setBlockTimestampInterval: ['admin', 1, '-', false],
  anvil_removeBlockTimestampInterval: ['admin', 1, '-', false],
  anvil_rollback: ['admin', 1, '-', false],
  anvil_reset: ['admin', 1, '-', false],
  anvil_setRpcUrl: ['admin', 1, '-', false],
  hardhat_reset: ['admin', 1, '-', false],
  anvil_dropTransaction: ['admin', 1, '-', false],
  hardhat_dropTransaction: ['admin', 1, '-', false],
  anvil_dropAllTransactions: ['admin', 1, '-', false],
  anvil_addBalance: ['admin', 1, '-', false],
  anvil_autoImpersonateAccount: ['admin', 1, '-', false],
  anvil_removePoolTransactions: ['admin', 1, '-', false],
  anvil_getGenesisTime: ['admin', 1, '-', false],
  anvil_setLoggingEnabled: ['admin', 1, '-', false],
  hardhat_setLoggingEnabled: ['admin', 1, '-', false],
  anvil_increaseTime: ['admin', 1, '-', false],
  anvil_setNextBlockTimestamp: ['admin', 1, '-', false],
  anvil_snapshot: ['admin', 1, '-', false],
  anvil_revert: ['admin', 1, '-', false],
  evm_setAccountNonce: ['admin', 1, '-', false],
  anvil_setBlockGasLimit: ['admin', 1, '-', false],
  anvil_setTime: ['admin', 1, '-', false],
  anvil_mine_detailed: ['admin', 1, '-', false],
  hardhat_addBalance: ['admin', 1, '-', false],
  hardhat_autoImpersonateAccount: ['admin', 1, '-', false],
  hardhat_setCoinbase: ['admin', 1, '-', false],
  hardhat_dropAllTransactions: ['admin', 1, '-', false],
  anvil_reorg: ['admin', 1, '-', false],
  anvil_metadata: ['admin', 1, '-', false],
  hardhat_metadata: ['admin', 1, '-', false],
  anvil_nodeInfo: ['admin', 1, '-', false],
  '': ['admin', 1, '-', false],
  eth: ['admin', 1, '-', false],
  eth_: ['public', 1, '-', true],
  eth_foo: ['public', 1, '-', true],
  eth_sendFoo: ['user', 1, '-', false],
  eth_signFoo: ['user', 1, '-', false],
  eth_sendUnsignedFoo: ['admin', 1, '-', false],
  eth_callX: ['public', 1, '-', true],
  personal_newAccount: ['admin', 1, '-', false],
  personal_unlockAccount: ['admin', 1, '-', false],
  personal_signFoo: ['user', 1, '-', false],
  personal_ecRecoverX: ['public', 1, '-', true],
  admin_x: ['admin', 1, '-', false],
  miner_start: ['admin', 1, '-', false],
  cairn_unknown: ['admin', 1, '-', false],
  cairn_getFoo: ['admin', 1, '-', false],
  cairn_getCommitX: ['public', 1, '-', true],
  cairn_getValidatorsX: ['public', 1, '-', true],
  cairn_getEvidenceX: ['public', 1, '-', true],
  txpool_x: ['operator', 1, '-', false],
  debug_x: ['admin', 20, '-', false],
  trace_x: ['admin', 20, '-', false],
  ots_x: ['admin', 20, '-', false],
  testing_x: ['admin', 20, '-', false],
  evm_x: ['admin', 1, '-', false],
  anvil_x: ['admin', 1, '-', false],
  hardhat_x: ['admin', 1, '-', false],
  net_x: ['public', 1, '-', true],
  web3_x: ['public', 1, '-', true],
  foo: ['admin', 1, '-', false],
  foo_bar: ['admin', 1, '-', false],
  ETH_chainId: ['admin', 1, '-', false],
  rpc_modules: ['admin', 1, '-', false],
  engine_newPayloadV3: ['admin', 1, '-', false],
}

function now(name: string): Row {
  const rt = readThreadMethods().has(name) ? (readThreadWorthForwarding().has(name) ? 'forward' : 'answer') : '-'
  return [requiredRole(name), methodWeight(name), rt, runsWithoutContext(name)]
}

describe('method attributes: declared on the method, derived into tables', () => {
  it('the snapshot covers every method and the odd names', () => {
    expect(Object.keys(BEFORE).sort()).toEqual([...ALL_METHODS.map((m) => m.name), ...ODD].sort())
  })

  it('answer as the old tables did, for every method and for names no method declares', () => {
    const after = Object.fromEntries(Object.keys(BEFORE).map((n) => [n, now(n)]))
    expect(after).toEqual(BEFORE)
  })

  it('a method declared in one place gets its attributes through the derived tables', () => {
    const handler = () => null
    const t = deriveMethodTable([
      method({ name: 'eth_newThing', params: z.tuple([]), handler, role: 'operator', weight: 7, readThread: 'answer' }),
      method({ name: 'eth_heavyRead', params: z.tuple([]), handler, weight: 10, readThread: 'forward' }),
      method({ name: 'eth_sendBundle', params: z.tuple([]), handler, contextFree: true }),
      method({ name: 'eth_plain', params: z.tuple([]), handler }),
      method({ name: 'debug_newTrace', params: z.tuple([]), handler }),
      method({ name: 'cairn_newThing', params: z.tuple([]), handler }),
    ])
    expect(t.role.get('eth_newThing')).toBe('operator')
    expect(t.weight.get('eth_newThing')).toBe(7)
    expect(t.readThread.has('eth_newThing')).toBe(true)
    expect(t.readThreadForward.has('eth_newThing')).toBe(false)
    expect(t.contextFree.has('eth_newThing')).toBe(false)
    expect([t.readThread.has('eth_heavyRead'), t.readThreadForward.has('eth_heavyRead')]).toEqual([true, true])
    expect(t.weight.get('eth_heavyRead')).toBe(10)
    // Undeclared role: a sending look-alike needs `user` (fail closed), yet runs without the context as declared.
    expect(t.role.get('eth_sendBundle')).toBe('user')
    expect(t.contextFree.has('eth_sendBundle')).toBe(true)
    // Namespace defaults.
    expect([t.role.get('eth_plain'), t.weight.get('eth_plain'), t.contextFree.has('eth_plain')]).toEqual([
      'public',
      1,
      true,
    ])
    expect([t.role.get('debug_newTrace'), t.weight.get('debug_newTrace')]).toEqual(['admin', 20])
    expect(t.role.get('cairn_newThing')).toBe('admin')
    expect(t.readThread.has('eth_plain')).toBe(false)
  })

  it('read threads serve only eth_ reads that do not need a role', () => {
    for (const m of ALL_METHODS.filter((d) => d.readThread !== undefined)) {
      expect(requiredRole(m.name), m.name).toBe('public')
      expect(m.devOnly ?? false, m.name).toBe(false)
    }
  })
})

describe('declared result schemas match the methods’ answers', () => {
  it('every method declaring `result` answers in that shape', async () => {
    const chain = await openChain()
    const ctx = testContext({ chain })
    const d = new RpcDispatcher({ dev: false }, { ctx, methods: ALL_METHODS, metrics: null, logger: silentLogger })
    const declared = ALL_METHODS.filter((m): m is MethodDef & { result: z.ZodType } => m.result !== undefined)
    expect(declared.map((m) => m.name).sort()).toEqual(
      ['eth_blockNumber', 'eth_chainId', 'eth_gasPrice', 'net_version', 'web3_clientVersion'].sort(),
    )
    for (const m of declared) {
      const r = (await d.handle({ jsonrpc: '2.0', id: 1, method: m.name, params: [] })) as {
        result?: unknown
        error?: unknown
      }
      expect(r.error, m.name).toBeUndefined()
      const parsed = m.result.safeParse(r.result)
      expect(parsed.success, `${m.name}: ${JSON.stringify(r.result)}`).toBe(true)
    }
  })
})
