/**
 * The bridge system contract's interface (at `BRIDGE_ADDRESS` on every shard), as Solidity would
 * declare it: what a wallet, viem or a relayer calls. Errors revert with `ShardError(code,
 * message)`, `code` a `CONSENSUS_SHARD_*` string.
 */
export const bridgeAbi = [
  {
    type: 'function',
    name: 'send',
    stateMutability: 'payable',
    inputs: [
      { name: 'destShard', type: 'uint32' },
      { name: 'receiver', type: 'address' },
      { name: 'timeoutHeight', type: 'uint64' },
      { name: 'data', type: 'bytes' },
    ],
    outputs: [{ name: 'sequence', type: 'uint64' }],
  },
  {
    type: 'function',
    name: 'updateClient',
    stateMutability: 'nonpayable',
    inputs: [
      { name: 'shard', type: 'uint32' },
      { name: 'header', type: 'bytes' },
      { name: 'certificate', type: 'bytes' },
    ],
    outputs: [{ name: 'height', type: 'uint64' }],
  },
  {
    type: 'function',
    name: 'receiveMessage',
    stateMutability: 'nonpayable',
    inputs: [
      { name: 'message', type: 'bytes' },
      { name: 'height', type: 'uint64' },
      { name: 'accountProof', type: 'bytes[]' },
      { name: 'storageProof', type: 'bytes[]' },
    ],
    outputs: [{ name: 'status', type: 'uint8' }],
  },
  {
    type: 'function',
    name: 'settle',
    stateMutability: 'nonpayable',
    inputs: [
      { name: 'message', type: 'bytes' },
      { name: 'status', type: 'uint8' },
      { name: 'ack', type: 'bytes' },
      { name: 'height', type: 'uint64' },
      { name: 'accountProof', type: 'bytes[]' },
      { name: 'storageProof', type: 'bytes[]' },
    ],
    outputs: [{ name: 'refunded', type: 'bool' }],
  },
  {
    type: 'function',
    name: 'sent',
    stateMutability: 'view',
    inputs: [{ name: 'destShard', type: 'uint32' }],
    outputs: [{ name: 'sequence', type: 'uint64' }],
  },
  {
    type: 'function',
    name: 'received',
    stateMutability: 'view',
    inputs: [{ name: 'sourceShard', type: 'uint32' }],
    outputs: [{ name: 'sequence', type: 'uint64' }],
  },
  {
    type: 'function',
    name: 'clientHeight',
    stateMutability: 'view',
    inputs: [{ name: 'shard', type: 'uint32' }],
    outputs: [{ name: 'height', type: 'uint64' }],
  },
  {
    type: 'event',
    name: 'MessageSent',
    inputs: [
      { name: 'hash', type: 'bytes32', indexed: true },
      { name: 'destShard', type: 'uint32', indexed: true },
      { name: 'sequence', type: 'uint64', indexed: true },
      { name: 'message', type: 'bytes', indexed: false },
    ],
  },
  {
    type: 'event',
    name: 'MessageReceived',
    inputs: [
      { name: 'hash', type: 'bytes32', indexed: true },
      { name: 'sourceShard', type: 'uint32', indexed: true },
      { name: 'sequence', type: 'uint64', indexed: true },
      { name: 'status', type: 'uint8', indexed: false },
      { name: 'ack', type: 'bytes', indexed: false },
    ],
  },
  {
    type: 'event',
    name: 'MessageSettled',
    inputs: [
      { name: 'hash', type: 'bytes32', indexed: true },
      { name: 'destShard', type: 'uint32', indexed: true },
      { name: 'sequence', type: 'uint64', indexed: true },
      { name: 'refunded', type: 'bool', indexed: false },
    ],
  },
  {
    type: 'event',
    name: 'AcknowledgementCalled',
    inputs: [
      { name: 'hash', type: 'bytes32', indexed: true },
      { name: 'sender', type: 'address', indexed: true },
      { name: 'ok', type: 'bool', indexed: false },
    ],
  },
  {
    type: 'event',
    name: 'ClientUpdated',
    inputs: [
      { name: 'shard', type: 'uint32', indexed: true },
      { name: 'height', type: 'uint64', indexed: false },
      { name: 'hash', type: 'bytes32', indexed: false },
      { name: 'stateRoot', type: 'bytes32', indexed: false },
    ],
  },
  {
    type: 'error',
    name: 'ShardError',
    inputs: [
      { name: 'code', type: 'string' },
      { name: 'message', type: 'string' },
    ],
  },
] as const

/**
 * What the bridge calls on a message's sender when it settles the message on the source, if the
 * sender is a contract (IBC's `onAcknowledgementPacket` and `onTimeoutPacket` in one): `status` the
 * receipt's (1 delivered, 2 failed, 3 expired), `ack` the receive hook's acknowledgement (empty
 * unless delivered). The call comes from `BRIDGE_ADDRESS`, with `ACK_HOOK_GAS` and no value; a
 * refund is already credited when it runs. Its revert is caught: the settlement stands.
 */
export const acknowledgementAbi = [
  {
    type: 'function',
    name: 'onAcknowledgement',
    stateMutability: 'nonpayable',
    inputs: [
      { name: 'destShard', type: 'uint32' },
      { name: 'sequence', type: 'uint64' },
      { name: 'status', type: 'uint8' },
      { name: 'ack', type: 'bytes' },
    ],
    outputs: [],
  },
] as const
