import { bytesToHex } from '@cairn/utils'
import { isLoopback } from '../config/profile.ts'
import type { StartedNode } from '../node.ts'

/** The start-up summary, Anvil-style: accounts, keys, mnemonic, chain, datadir and endpoints. */
export function banner(
  node: StartedNode,
  opts: { mnemonic: string; balanceEth: string; version: string; bindAddr?: string; namespaces?: readonly string[] },
): string {
  const lines: string[] = ['', `Cairn ${opts.version}`, '']
  if (node.accounts.length > 0) {
    lines.push('Available Accounts', '==================')
    for (const [i, a] of node.accounts.entries()) lines.push(`(${i}) ${a.address} (${opts.balanceEth} ETH)`)
    lines.push('', 'Private Keys', '==================')
    for (const [i, a] of node.accounts.entries()) lines.push(`(${i}) ${bytesToHex(a.privateKey)}`)
    lines.push(
      '',
      'Wallet',
      '==================',
      `Mnemonic:          ${opts.mnemonic}`,
      "Derivation path:   m/44'/60'/0'/0/",
      '',
    )
  }
  const h = node.chain.head.header
  lines.push(
    `Chain ID:          ${node.chain.chainId}`,
    `Hardfork:          ${node.chain.genesis.hardfork}`,
    `Head block:        ${h.number} (${bytesToHex(node.chain.head.hash())})`,
    `Block gas limit:   ${h.gasLimit}`,
    `Datadir:           ${node.datadir?.root ?? '(ephemeral: nothing is kept)'}`,
    '',
  )
  const bind = opts.bindAddr
  // reachable from other machines: every interface (a wildcard), or one that is not loopback
  const exposed = bind !== undefined && !isLoopback(bind)
  const wildcard = bind === '0.0.0.0' || bind === '::' || bind === '[::]'
  lines.push(
    wildcard
      ? `Listening on ${bind}:${new URL(node.url).port}, every interface (here: ${node.url})`
      : `Listening on ${node.url} (HTTP and WebSocket ${node.url.replace(/^http/, 'ws')})`,
  )
  // What any caller reaching the port may call, before roles (geth's --http.api).
  if (opts.namespaces) lines.push(`RPC namespaces:    ${opts.namespaces.join(', ')} (--rpc.api to change)`)
  lines.push('')
  if (exposed && node.accounts.length > 0) {
    lines.push(
      `WARNING: the dev accounts above are unlocked and the RPC is reachable from other machines on ${bind}:`,
      'anyone who reaches the port can send their funds (eth_sendTransaction). Use --http.addr 127.0.0.1',
      'unless that is what you want.',
      '',
    )
  }
  return lines.join('\n')
}
