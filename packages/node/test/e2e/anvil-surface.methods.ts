// The method list of the whole-surface differential against Anvil (anvil-surface.e2e.test.ts):
// every name Anvil 1.7.1 serves (its `EthRequest` renames and aliases, crates/anvil/core/src/eth/mod.rs)
// and a few that Cairn or geth serve and Anvil does not, each with the params to call it with.
//
// Params are JSON with placeholders, resolved per node from what the shared setup made there
// (the two chains differ in hashes and clocks): `$A0`…`$A9` the dev accounts, `$STRANGER` an
// untouched address, `$CONTRACT` a contract that stores its calldata word and logs it, `$TOKEN` an
// ERC-20, `$TX` a transfer, `$CALL_TX` a call of `$CONTRACT` (one log), `$DEPLOY_TX` its deploy,
// `$BLOCK` / `$BLOCK_HASH` the block of `$CALL_TX`, `$CODE_HASH` the keccak of `$CONTRACT`'s code,
// `$RAW_TX` a signed transfer from account 7, `$DUMP` the node's own `anvil_dumpState`, `$SNAPSHOT`
// an `evm_snapshot` id taken for the entry.
//
// `step`: run between entries, not counted. `phase`: `read` entries run concurrently after the setup; `write` entries run one at a time in
// list order (they edit the chain, and each leaves it as the next expects); `last` entries after
// them (resets, chain id). `exact`: the results must be equal, not only alike in shape (the value
// does not depend on the chain's own hashes and clocks).

export type Phase = 'read' | 'write' | 'last'

export interface SurfaceEntry {
  method: string
  params: unknown[]
  phase?: Phase
  exact?: boolean
  /** A step between entries (a pending transaction to drop): run, not counted. */
  step?: boolean
}

const TYPED_DATA = {
  types: {
    EIP712Domain: [
      { name: 'name', type: 'string' },
      { name: 'version', type: 'string' },
      { name: 'chainId', type: 'uint256' },
    ],
    Mail: [
      { name: 'to', type: 'address' },
      { name: 'contents', type: 'string' },
    ],
  },
  primaryType: 'Mail',
  domain: { name: 'Surface', version: '1', chainId: 1337 },
  message: { to: '0x1111111111111111111111111111111111111111', contents: 'hello' },
}

const CALL = { from: '$A0', to: '$CONTRACT', data: `0x${'00'.repeat(31)}2a` }
const LOG_FILTER = { fromBlock: '0x0', toBlock: 'latest', address: '$CONTRACT' }
const ONE_ETH = '0xde0b6b3a7640000'
const HASH0 = `0x${'00'.repeat(32)}`
const CALL_TRACER = { tracer: 'callTracer' }

export const SURFACE_METHODS: SurfaceEntry[] = [
  // ---- web3, net, chain constants
  { method: 'web3_clientVersion', params: [] },
  { method: 'web3_sha3', params: ['0x68656c6c6f'], exact: true },
  { method: 'net_version', params: [], exact: true },
  { method: 'net_listening', params: [], exact: true },
  { method: 'net_peerCount', params: [] },
  { method: 'eth_chainId', params: [], exact: true },
  { method: 'eth_networkId', params: [], exact: true },
  { method: 'eth_protocolVersion', params: [] },
  { method: 'eth_syncing', params: [], exact: true },
  { method: 'eth_hashrate', params: [], exact: true },
  { method: 'eth_mining', params: [] },
  { method: 'eth_coinbase', params: [] },
  { method: 'eth_accounts', params: [], exact: true },
  { method: 'eth_requestAccounts', params: [], exact: true },
  { method: 'eth_blockNumber', params: [] },
  { method: 'eth_gasPrice', params: [] },
  { method: 'eth_maxPriorityFeePerGas', params: [] },
  { method: 'eth_blobBaseFee', params: [] },
  { method: 'eth_feeHistory', params: ['0x4', 'latest', [25, 75]] },
  { method: 'eth_config', params: [] },
  { method: 'eth_getWork', params: [] },
  { method: 'eth_submitWork', params: ['0x0000000000000001', HASH0, HASH0] },
  { method: 'eth_submitHashrate', params: ['0x1', HASH0] },
  // ---- state
  { method: 'eth_getBalance', params: ['$STRANGER', 'latest'], exact: true },
  { method: 'eth_getTransactionCount', params: ['$CONTRACT', 'latest'], exact: true },
  { method: 'eth_getCode', params: ['$CONTRACT', 'latest'], exact: true },
  { method: 'eth_getStorageAt', params: ['$CONTRACT', '0x0', 'latest'], exact: true },
  { method: 'eth_getStorageValues', params: [{ $CONTRACT: ['0x0', '0x1'] }, 'latest'] },
  { method: 'eth_getProof', params: ['$CONTRACT', ['0x0'], 'latest'] },
  { method: 'eth_getAccount', params: ['$CONTRACT', 'latest'] },
  { method: 'eth_getAccountInfo', params: ['$CONTRACT', 'latest'] },
  { method: 'eth_call', params: [CALL, 'latest'], exact: true },
  { method: 'eth_estimateGas', params: [CALL] },
  { method: 'eth_createAccessList', params: [CALL, 'latest'] },
  { method: 'eth_simulateV1', params: [{ blockStateCalls: [{ calls: [CALL] }] }, 'latest'] },
  { method: 'eth_fillTransaction', params: [{ from: '$A0', to: '$STRANGER', value: '0x1' }] },
  // ---- blocks and transactions
  { method: 'eth_getBlockByNumber', params: ['$BLOCK', true] },
  { method: 'eth_getBlockByHash', params: ['$BLOCK_HASH', false] },
  { method: 'eth_getBlockReceipts', params: ['$BLOCK'] },
  { method: 'eth_getBlockTransactionCountByHash', params: ['$BLOCK_HASH'], exact: true },
  { method: 'eth_getBlockTransactionCountByNumber', params: ['$BLOCK'], exact: true },
  { method: 'eth_getTransactionByHash', params: ['$CALL_TX'] },
  { method: 'eth_getTransactionByBlockHashAndIndex', params: ['$BLOCK_HASH', '0x0'] },
  { method: 'eth_getTransactionByBlockNumberAndIndex', params: ['$BLOCK', '0x0'] },
  { method: 'eth_getRawTransactionByHash', params: ['$CALL_TX'] },
  { method: 'eth_getRawTransactionByBlockHashAndIndex', params: ['$BLOCK_HASH', '0x0'] },
  { method: 'eth_getRawTransactionByBlockNumberAndIndex', params: ['$BLOCK', '0x0'] },
  { method: 'eth_getTransactionBySenderAndNonce', params: ['$A0', '0x0'] },
  { method: 'eth_getTransactionReceipt', params: ['$CALL_TX'] },
  { method: 'eth_getUncleByBlockHashAndIndex', params: ['$BLOCK_HASH', '0x0'], exact: true },
  { method: 'eth_getUncleByBlockNumberAndIndex', params: ['$BLOCK', '0x0'], exact: true },
  { method: 'eth_getUncleCountByBlockHash', params: ['$BLOCK_HASH'], exact: true },
  { method: 'eth_getUncleCountByBlockNumber', params: ['$BLOCK'], exact: true },
  { method: 'eth_getLogs', params: [LOG_FILTER] },
  { method: 'debug_getRawTransaction', params: ['$CALL_TX'] },
  { method: 'debug_getRawBlock', params: ['$BLOCK'] },
  { method: 'debug_getRawHeader', params: ['$BLOCK'] },
  { method: 'debug_getRawReceipts', params: ['$BLOCK'] },
  { method: 'debug_codeByHash', params: ['$CODE_HASH'], exact: true },
  { method: 'debug_dbGet', params: ['0x00'] },
  { method: 'erigon_getHeaderByNumber', params: [1] },
  { method: 'anvil_getBlobByHash', params: [`0x01${'00'.repeat(31)}`] },
  { method: 'anvil_getBlobsByTransactionHash', params: ['$TX'] },
  // ---- signing
  { method: 'eth_sign', params: ['$A0', '0xdeadbeef'], exact: true },
  { method: 'personal_sign', params: ['0xdeadbeef', '$A0'], exact: true },
  { method: 'eth_signTypedData', params: ['$A0', TYPED_DATA] },
  { method: 'eth_signTypedData_v3', params: ['$A0', TYPED_DATA] },
  { method: 'eth_signTypedData_v4', params: ['$A0', TYPED_DATA], exact: true },
  {
    method: 'eth_signTransaction',
    params: [{ from: '$A0', to: '$STRANGER', value: '0x1', gas: '0x5208', nonce: '0x64', gasPrice: '0x3b9aca00' }],
    exact: true,
  },
  // ---- traces
  { method: 'debug_traceTransaction', params: ['$CALL_TX', {}] },
  { method: 'debug_traceCall', params: [CALL, 'latest', CALL_TRACER] },
  { method: 'debug_traceBlockByNumber', params: ['$BLOCK', CALL_TRACER] },
  { method: 'debug_traceBlockByHash', params: ['$BLOCK_HASH', CALL_TRACER] },
  { method: 'trace_transaction', params: ['$CALL_TX'] },
  { method: 'trace_block', params: ['$BLOCK'] },
  { method: 'trace_filter', params: [{ fromBlock: '$BLOCK', toBlock: '$BLOCK' }] },
  { method: 'trace_replayBlockTransactions', params: ['$BLOCK', ['trace']] },
  { method: 'trace_replayTransaction', params: ['$CALL_TX', ['trace']] },
  { method: 'trace_call', params: [CALL, ['trace'], 'latest'] },
  // ---- Otterscan
  { method: 'ots_getApiLevel', params: [], exact: true },
  { method: 'ots_getBlockDetails', params: ['$BLOCK'] },
  { method: 'ots_getBlockDetailsByHash', params: ['$BLOCK_HASH'] },
  { method: 'ots_getBlockTransactions', params: ['$BLOCK', 0, 10] },
  { method: 'ots_getContractCreator', params: ['$CONTRACT'] },
  { method: 'ots_getInternalOperations', params: ['$CALL_TX'] },
  { method: 'ots_getTransactionBySenderAndNonce', params: ['$A0', 0] },
  { method: 'ots_getTransactionError', params: ['$CALL_TX'], exact: true },
  { method: 'ots_hasCode', params: ['$CONTRACT', 'latest'], exact: true },
  { method: 'ots_searchTransactionsAfter', params: ['$A0', 0, 5] },
  { method: 'ots_searchTransactionsBefore', params: ['$A0', 0, 5] },
  { method: 'ots_traceTransaction', params: ['$CALL_TX'] },
  // ---- filters (the ids are each node's own)
  { method: 'eth_newFilter', params: [LOG_FILTER] },
  { method: 'eth_newBlockFilter', params: [] },
  { method: 'eth_newPendingTransactionFilter', params: [] },
  { method: 'eth_getFilterChanges', params: ['0xdead'] },
  { method: 'eth_getFilterLogs', params: ['0xdead'] },
  { method: 'eth_uninstallFilter', params: ['0xdead'], exact: true },
  { method: 'eth_subscribe', params: ['newHeads'] },
  { method: 'eth_unsubscribe', params: ['0xdead'] },
  // ---- txpool, node info
  { method: 'txpool_status', params: [], exact: true },
  { method: 'txpool_inspect', params: [], exact: true },
  { method: 'txpool_content', params: [], exact: true },
  { method: 'anvil_nodeInfo', params: [] },
  { method: 'anvil_metadata', params: [] },
  { method: 'hardhat_metadata', params: [] },
  { method: 'anvil_getGenesisTime', params: [] },
  { method: 'anvil_getAutomine', params: [], exact: true },
  { method: 'hardhat_getAutomine', params: [], exact: true },
  { method: 'anvil_getIntervalMining', params: [], exact: true },
  { method: 'evm_version', params: [] },
  { method: 'admin_nodeInfo', params: [] },
  { method: 'admin_peers', params: [] },
  { method: 'rpc_modules', params: [] },

  // ---- writes, one at a time, in this order
  { method: 'eth_sendTransaction', params: [{ from: '$A1', to: '$STRANGER', value: '0x1' }], phase: 'write' },
  {
    method: 'eth_sendTransactionSync',
    params: [{ from: '$A1', to: '$STRANGER', value: '0x1' }],
    phase: 'write',
  },
  { method: 'eth_sendRawTransaction', params: ['$RAW_TX0'], phase: 'write' },
  { method: 'eth_sendRawTransactionSync', params: ['$RAW_TX1'], phase: 'write' },
  {
    method: 'eth_sendUnsignedTransaction',
    params: [{ from: '$STRANGER', to: '$A1', value: '0x0' }],
    phase: 'write',
  },
  { method: 'anvil_setBalance', params: ['$S1', ONE_ETH], phase: 'write', exact: true },
  { method: 'hardhat_setBalance', params: ['$S1', ONE_ETH], phase: 'write', exact: true },
  { method: 'anvil_addBalance', params: ['$S1', ONE_ETH], phase: 'write', exact: true },
  { method: 'hardhat_addBalance', params: ['$S1', ONE_ETH], phase: 'write', exact: true },
  { method: 'tenderly_setBalance', params: ['$S1', ONE_ETH], phase: 'write', exact: true },
  { method: 'tenderly_addBalance', params: [['$S1'], ONE_ETH], phase: 'write', exact: true },
  { method: 'anvil_setNonce', params: ['$S1', '0x5'], phase: 'write', exact: true },
  { method: 'hardhat_setNonce', params: ['$S1', '0x6'], phase: 'write', exact: true },
  { method: 'evm_setAccountNonce', params: ['$S1', '0x7'], phase: 'write', exact: true },
  { method: 'anvil_setCode', params: ['$S1', '0x6000'], phase: 'write', exact: true },
  { method: 'hardhat_setCode', params: ['$S1', '0x6001'], phase: 'write', exact: true },
  { method: 'anvil_setStorageAt', params: ['$S1', '0x0', `0x${'00'.repeat(31)}01`], phase: 'write', exact: true },
  {
    method: 'hardhat_setStorageAt',
    params: ['$S1', '0x1', `0x${'00'.repeat(31)}02`],
    phase: 'write',
    exact: true,
  },
  { method: 'anvil_dealERC20', params: ['$S2', '$TOKEN', '0x64'], phase: 'write', exact: true },
  { method: 'hardhat_dealERC20', params: ['$S2', '$TOKEN', '0x65'], phase: 'write', exact: true },
  { method: 'anvil_setERC20Balance', params: ['$S2', '$TOKEN', '0x66'], phase: 'write', exact: true },
  {
    method: 'anvil_setERC20Allowance',
    params: ['$S2', '$STRANGER', '$TOKEN', '0x67'],
    phase: 'write',
    exact: true,
  },
  { method: 'anvil_impersonateAccount', params: ['$S3'], phase: 'write', exact: true },
  { method: 'anvil_stopImpersonatingAccount', params: ['$S3'], phase: 'write', exact: true },
  { method: 'hardhat_impersonateAccount', params: ['$S3'], phase: 'write', exact: true },
  { method: 'hardhat_stopImpersonatingAccount', params: ['$S3'], phase: 'write', exact: true },
  { method: 'anvil_autoImpersonateAccount', params: [false], phase: 'write', exact: true },
  { method: 'hardhat_autoImpersonateAccount', params: [false], phase: 'write', exact: true },
  { method: 'anvil_impersonateSignature', params: [`0x${'11'.repeat(65)}`, '$S3'], phase: 'write', exact: true },
  { method: 'anvil_setCoinbase', params: ['$S4'], phase: 'write', exact: true },
  { method: 'hardhat_setCoinbase', params: ['$S4'], phase: 'write', exact: true },
  { method: 'anvil_setLoggingEnabled', params: [true], phase: 'write', exact: true },
  { method: 'hardhat_setLoggingEnabled', params: [true], phase: 'write', exact: true },
  { method: 'anvil_setMinGasPrice', params: ['0x1'], phase: 'write' },
  { method: 'hardhat_setMinGasPrice', params: ['0x1'], phase: 'write' },
  { method: 'anvil_setNextBlockBaseFeePerGas', params: ['0x3b9aca00'], phase: 'write', exact: true },
  { method: 'hardhat_setNextBlockBaseFeePerGas', params: ['0x3b9aca00'], phase: 'write', exact: true },
  { method: 'anvil_setBlockGasLimit', params: ['0x1c9c380'], phase: 'write', exact: true },
  { method: 'evm_setBlockGasLimit', params: ['0x1c9c380'], phase: 'write', exact: true },
  { method: 'anvil_setBlockTimestampInterval', params: [1], phase: 'write', exact: true },
  { method: 'anvil_removeBlockTimestampInterval', params: [], phase: 'write', exact: true },
  { method: 'anvil_increaseTime', params: [10], phase: 'write' },
  { method: 'evm_increaseTime', params: [10], phase: 'write' },
  { method: 'anvil_setNextBlockTimestamp', params: ['$NEXT_TS'], phase: 'write', exact: true },
  { method: 'evm_setNextBlockTimestamp', params: ['$NEXT_TS2'], phase: 'write', exact: true },
  { method: 'anvil_setTime', params: ['$NEXT_TS3'], phase: 'write' },
  { method: 'evm_setTime', params: ['$NEXT_TS4'], phase: 'write' },
  { method: 'evm_mine', params: [], phase: 'write', exact: true },
  { method: 'anvil_mine', params: ['0x2'], phase: 'write', exact: true },
  { method: 'hardhat_mine', params: ['0x1'], phase: 'write', exact: true },
  { method: 'evm_mine_detailed', params: [], phase: 'write' },
  { method: 'anvil_mine_detailed', params: [], phase: 'write' },
  { method: 'evm_setAutomine', params: [false], phase: 'write', exact: true },
  { method: 'anvil_setAutomine', params: [false], phase: 'write', exact: true },
  {
    method: 'eth_sendTransaction',
    params: [{ from: '$A2', to: '$STRANGER', value: '0x2' }],
    phase: 'write',
    step: true,
  },
  { method: 'txpool_status', params: [], phase: 'write', exact: true, step: true },
  { method: 'anvil_dropTransaction', params: ['$PENDING'], phase: 'write' },
  {
    method: 'eth_sendTransaction',
    params: [{ from: '$A2', to: '$STRANGER', value: '0x2' }],
    phase: 'write',
    step: true,
  },
  { method: 'hardhat_dropTransaction', params: ['$PENDING'], phase: 'write' },
  {
    method: 'eth_sendTransaction',
    params: [{ from: '$A2', to: '$STRANGER', value: '0x2' }],
    phase: 'write',
    step: true,
  },
  { method: 'anvil_removePoolTransactions', params: ['$A2'], phase: 'write', exact: true },
  {
    method: 'eth_sendTransaction',
    params: [{ from: '$A2', to: '$STRANGER', value: '0x2' }],
    phase: 'write',
    step: true,
  },
  { method: 'anvil_dropAllTransactions', params: [], phase: 'write', exact: true },
  {
    method: 'eth_sendTransaction',
    params: [{ from: '$A2', to: '$STRANGER', value: '0x2' }],
    phase: 'write',
    step: true,
  },
  { method: 'hardhat_dropAllTransactions', params: [], phase: 'write', exact: true },
  { method: 'anvil_setIntervalMining', params: [0], phase: 'write', exact: true },
  { method: 'evm_setIntervalMining', params: [0], phase: 'write', exact: true },
  { method: 'evm_setAutomine', params: [true], phase: 'write', exact: true },
  { method: 'anvil_setAutomine', params: [true], phase: 'write', exact: true },
  { method: 'evm_snapshot', params: [], phase: 'write' },
  { method: 'evm_revert', params: ['$SNAPSHOT'], phase: 'write', exact: true },
  { method: 'anvil_snapshot', params: [], phase: 'write' },
  { method: 'anvil_revert', params: ['$SNAPSHOT'], phase: 'write', exact: true },
  { method: 'anvil_dumpState', params: [], phase: 'write' },
  { method: 'hardhat_dumpState', params: [], phase: 'write' },
  { method: 'anvil_loadState', params: ['$DUMP'], phase: 'write', exact: true },
  { method: 'hardhat_loadState', params: ['$DUMP'], phase: 'write', exact: true },
  { method: 'anvil_reorg', params: [1, []], phase: 'write', exact: true },
  { method: 'anvil_rollback', params: [1], phase: 'write', exact: true },
  { method: 'anvil_setFeeToken', params: ['$S5', '$TOKEN'], phase: 'write' },
  { method: 'anvil_setValidatorFeeToken', params: ['$S5', '$TOKEN'], phase: 'write' },
  { method: 'anvil_setFeeAmmLiquidity', params: ['$TOKEN', '$TOKEN', '0x1'], phase: 'write' },

  // ---- last: what changes the whole node
  { method: 'anvil_setRpcUrl', params: ['http://127.0.0.1:9'], phase: 'last' },
  { method: 'anvil_setChainId', params: [1338], phase: 'last', exact: true },
  { method: 'anvil_reset', params: [], phase: 'last', exact: true },
  { method: 'hardhat_reset', params: [], phase: 'last', exact: true },
]
