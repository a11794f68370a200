import type { BuildHeader, Chain } from '@cairn/chain'
import { type Block, type BlockHeader, createBlockHeader } from '@ethereumjs/block'

type Common = Chain['common']

/**
 * The header of the block a producer builds on `parent` with the fields it chooses (`env`, from
 * {@link Engine.nextBlockEnv}), before any transaction: the number, gas limit, base fee and excess
 * blob gas derived from the parent exactly as `@ethereumjs/vm`'s BlockBuilder derives them when the
 * executor builds that block (London's first block: the initial base fee and twice the gas
 * limit). Gas estimates and `pending` calls run against it, so what they see (NUMBER, TIMESTAMP,
 * COINBASE, PREVRANDAO, GASLIMIT, BASEFEE, BLOBBASEFEE, BLOCKHASH of the parent) is what the
 * transaction sees once sealed. The roots and gas used are those of an empty block.
 */
export function nextBlockHeader(parent: Block, env: BuildHeader, common: Common): BlockHeader {
  const p = parent.header
  const number = p.number + 1n
  const london = number === common.hardforkBlock('london')
  const gasLimit = env.gasLimit ?? (london ? p.gasLimit * 2n : p.gasLimit)
  return createBlockHeader(
    {
      parentHash: parent.hash(),
      number,
      timestamp: env.timestamp,
      gasLimit,
      ...(env.coinbase ? { coinbase: env.coinbase } : {}),
      ...(env.extraData ? { extraData: env.extraData } : {}),
      ...(env.mixHash ? { mixHash: env.mixHash } : {}),
      ...(env.nonce ? { nonce: env.nonce } : {}),
      ...(env.difficulty !== undefined ? { difficulty: env.difficulty } : {}),
      ...(common.isActivatedEIP(1559)
        ? { baseFeePerGas: env.baseFeePerGas ?? (london ? common.param('initialBaseFee') : p.calcNextBaseFee()) }
        : {}),
      ...(common.isActivatedEIP(4844) ? { excessBlobGas: p.calcNextExcessBlobGas(common), blobGasUsed: 0n } : {}),
      ...(common.isActivatedEIP(4788)
        ? { parentBeaconBlockRoot: env.parentBeaconBlockRoot ?? new Uint8Array(32) }
        : {}),
    },
    { common, skipConsensusFormatValidation: true },
  )
}
