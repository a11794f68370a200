// The JSON-RPC namespaces (a method's name up to its first `_`) and which of them a node serves:
// geth's `--http.api`. No imports: the config loader reads this list (`@cairn/rpc/namespaces`)
// without loading the RPC.

/**
 * Every namespace Cairn declares methods in. `evm`, `anvil`, `hardhat` and `tenderly` are the dev chain's
 * (served only with `--dev`); `testing` also needs `rpc.testing`.
 */
export const RPC_NAMESPACES = [
  'eth',
  'net',
  'web3',
  'cairn',
  'txpool',
  'debug',
  'trace',
  'ots',
  'erigon',
  'admin',
  'personal',
  'testing',
  'evm',
  'anvil',
  'hardhat',
  'tenderly',
] as const
export type RpcNamespace = (typeof RPC_NAMESPACES)[number]

/**
 * What a production node serves unless told otherwise (`rpc.api`): geth's default `eth,net,web3`,
 * plus `cairn` — the BFT engine's commit certificates, validator sets and evidence, public chain
 * data a light client or explorer verifies the chain with (CometBFT serves `/commit` and
 * `/validators` on its public RPC the same way). The pool's contents (`txpool`), replays
 * (`debug`, `trace`, `ots`: seconds of CPU per call; `erigon`, Otterscan's probe), the node's peers (`admin`: `admin_addPeer`
 * and `admin_removePeer` steer who it syncs from) and node-key signing (`personal`) are opted into.
 */
export const DEFAULT_RPC_NAMESPACES: readonly RpcNamespace[] = ['eth', 'net', 'web3', 'cairn']

/** A method's namespace: its name up to the first `_` (`eth_signTypedData_v4` → `eth`). */
export function namespaceOf(method: string): string {
  const cut = method.indexOf('_')
  return cut < 0 ? method : method.slice(0, cut)
}

/** Whether `name` is one of {@link RPC_NAMESPACES}. */
export function isRpcNamespace(name: string): name is RpcNamespace {
  return (RPC_NAMESPACES as readonly string[]).includes(name)
}
