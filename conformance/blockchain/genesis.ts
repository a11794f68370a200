import type { BlockchainCase } from './fixture.ts'

/** Forks by block number before the merge, all at block 0 in these fixtures (geth's key names). */
const BLOCK_FORKS = [
  'homesteadBlock',
  'eip150Block',
  'eip155Block',
  'eip158Block',
  'byzantiumBlock',
  'constantinopleBlock',
  'petersburgBlock',
  'istanbulBlock',
  'berlinBlock',
  'londonBlock',
  'mergeNetsplitBlock',
] as const

/** Timestamp forks in order, as geth names them in `config`. */
const TIME_FORKS = ['Shanghai', 'Cancun', 'Prague', 'Osaka'] as const

/**
 * The time of each timestamp fork for a fixture's network: `Prague` has Shanghai, Cancun and
 * Prague at 0; `CancunToPragueAtTime15k` has Cancun at 0 and Prague at 15,000.
 */
export function forkTimes(network: string): Map<string, number> {
  const transition = /^(\w+?)To(\w+)AtTime15k$/.exec(network)
  const last = transition ? (transition[2] as string) : network
  const at15k = transition ? last : undefined
  const lastIndex = TIME_FORKS.indexOf(last as (typeof TIME_FORKS)[number])
  if (lastIndex < 0) throw new Error(`network ${network} is not one this suite runs`)
  const out = new Map<string, number>()
  for (const [i, fork] of TIME_FORKS.entries()) {
    if (i > lastIndex) break
    out.set(fork, fork === at15k ? 15_000 : 0)
  }
  return out
}

/**
 * A geth-style genesis.json for a BlockchainTest case: the fork schedule of its network
 * (`cancunTime`, `pragueTime`, …, `blobSchedule` from the fixture's config), its `pre` state as
 * `alloc`, and the genesis header's fields. Cairn's own genesis parser reads it, so the genesis
 * hash must come out equal to the fixture's `genesisBlockHeader.hash`.
 */
export function genesisJson(c: BlockchainCase): Record<string, unknown> {
  const h = c.genesisBlockHeader
  const config: Record<string, unknown> = {
    chainId: Number(BigInt(c.config?.chainid ?? '0x01')),
    ...Object.fromEntries(BLOCK_FORKS.map((k) => [k, 0])),
    terminalTotalDifficulty: 0,
  }
  for (const [fork, time] of forkTimes(c.network)) config[`${fork.toLowerCase()}Time`] = time
  if (c.config?.blobSchedule) {
    config['blobSchedule'] = Object.fromEntries(
      Object.entries(c.config.blobSchedule).map(([fork, s]) => [
        fork.toLowerCase(),
        { target: Number(s.target), max: Number(s.max), baseFeeUpdateFraction: Number(s.baseFeeUpdateFraction) },
      ]),
    )
  }
  const alloc = Object.fromEntries(
    Object.entries(c.pre).map(([addr, a]) => [
      addr,
      {
        balance: a.balance,
        nonce: a.nonce,
        ...(a.code && a.code !== '0x' ? { code: a.code } : {}),
        ...(Object.keys(a.storage ?? {}).length > 0 ? { storage: a.storage } : {}),
      },
    ]),
  )
  const optional = (key: string) => (h[key] !== undefined ? { [key]: h[key] } : {})
  return {
    config,
    alloc,
    gasLimit: h['gasLimit'],
    timestamp: h['timestamp'],
    extraData: h['extraData'],
    difficulty: h['difficulty'],
    coinbase: h['coinbase'],
    mixHash: h['mixHash'],
    nonce: h['nonce'],
    ...optional('baseFeePerGas'),
    ...optional('excessBlobGas'),
    ...optional('blobGasUsed'),
  }
}
