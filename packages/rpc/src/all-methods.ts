import { withForkReads } from './fork-reads.ts'
import type { MethodDef } from './method.ts'
import { adminMethods } from './methods/admin.ts'
import { cairnConsensusMethods } from './methods/cairn-consensus.ts'
import { cairnDagMethods } from './methods/cairn-dag.ts'
import { debugDbMethods } from './methods/debug-db.ts'
import { debugTraceMethods } from './methods/debug-trace.ts'
import { devMethods } from './methods/dev.ts'
import { devAnvilMethods } from './methods/dev-anvil.ts'
import { devBlobMethods } from './methods/dev-blobs.ts'
import { devChainParamMethods } from './methods/dev-chain-params.ts'
import { devErc20Methods } from './methods/dev-erc20.ts'
import { devImpersonateMethods } from './methods/dev-impersonate.ts'
import { devInfoMethods } from './methods/dev-info.ts'
import { devStateMethods } from './methods/dev-state.ts'
import { devTenderlyMethods } from './methods/dev-tenderly.ts'
import { erigonMethods } from './methods/erigon.ts'
import { ethAccountMethods } from './methods/eth-account.ts'
import { ethBlockMethods } from './methods/eth-blocks.ts'
import { ethCapabilitiesMethods } from './methods/eth-capabilities.ts'
import { ethCompatMethods } from './methods/eth-compat.ts'
import { ethConfigMethods } from './methods/eth-config.ts'
import { ethFilterMethods } from './methods/eth-filters.ts'
import { ethLogMethods } from './methods/eth-logs.ts'
import { ethMiningMethods } from './methods/eth-mining.ts'
import { ethMiscMethods } from './methods/eth-misc.ts'
import { ethSendMethods } from './methods/eth-send.ts'
import { ethSignMethods } from './methods/eth-sign.ts'
import { ethSimulateMethods } from './methods/eth-simulate.ts'
import { ethStateMethods } from './methods/eth-state.ts'
import { netWeb3Methods } from './methods/net-web3.ts'
import { otsMethods } from './methods/ots.ts'
import { testingMethods } from './methods/testing.ts'
import { traceParityMethods } from './methods/trace-parity.ts'
import { traceReplayMethods } from './methods/trace-replay.ts'
import { txpoolMethods } from './methods/txpool.ts'
import { subscriptionMethods } from './subscriptions.ts'

/**
 * Every method Cairn serves, declared (never discovered by reflection); on a fork, the block,
 * transaction, receipt and log reads below its first block answered by the remote (fork-reads.ts).
 */
export const ALL_METHODS: MethodDef[] = withForkReads([
  ...netWeb3Methods,
  ...cairnConsensusMethods,
  ...cairnDagMethods,
  ...adminMethods,
  ...ethMiscMethods,
  ...ethMiningMethods,
  ...ethConfigMethods,
  ...ethCapabilitiesMethods,
  ...ethBlockMethods,
  ...ethStateMethods,
  ...ethAccountMethods,
  ...ethCompatMethods,
  ...ethSimulateMethods,
  ...ethSendMethods,
  ...ethSignMethods,
  ...ethLogMethods,
  ...ethFilterMethods,
  ...subscriptionMethods,
  ...txpoolMethods,
  ...debugTraceMethods,
  ...debugDbMethods,
  ...traceParityMethods,
  ...traceReplayMethods,
  ...otsMethods,
  ...erigonMethods,
  ...testingMethods,
  ...devMethods,
  ...devImpersonateMethods,
  ...devStateMethods,
  ...devErc20Methods,
  ...devAnvilMethods,
  ...devBlobMethods,
  ...devChainParamMethods,
  ...devTenderlyMethods,
  ...devInfoMethods,
])
