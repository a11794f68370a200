import { hexToBytes } from '@cairn/utils'
import { Address, bigIntToAddressBytes, bigIntToBytes, setLengthLeft } from '@ethereumjs/util'
import type { VM } from '@ethereumjs/vm'

/** EIP-4788's beacon roots contract. */
const BEACON_ROOTS = new Address(hexToBytes('0x000f3df6d732807ef1319fb7b8bb8522d0beac02'))

/**
 * The block-start system writes a simulated block makes, as a real block's would (geth's
 * core.PreExecution): EIP-4788 stores the parent beacon root, EIP-2935 the parent's hash. Both
 * write storage only where the system contract has code, as @ethereumjs/vm does on import.
 */
export async function preExecution(
  vm: VM,
  number: bigint,
  timestamp: bigint,
  parentHash: Uint8Array,
  beaconRoot: Uint8Array,
): Promise<void> {
  const { common, stateManager: sm } = vm
  if (common.isActivatedEIP(4788) && (await sm.getCode(BEACON_ROOTS)).length > 0) {
    const length = BigInt(common.param('historicalRootsLength'))
    const index = timestamp % length
    await sm.putStorage(BEACON_ROOTS, setLengthLeft(bigIntToBytes(index), 32), bigIntToBytes(timestamp))
    await sm.putStorage(BEACON_ROOTS, setLengthLeft(bigIntToBytes(index + length), 32), beaconRoot)
  }
  if (common.isActivatedEIP(2935)) {
    const history = new Address(bigIntToAddressBytes(common.param('historyStorageAddress')))
    if ((await sm.getCode(history)).length > 0) {
      const key = setLengthLeft(bigIntToBytes((number - 1n) % common.param('historyServeWindow')), 32)
      await sm.putStorage(history, key, parentHash)
    }
  }
}
