import { isIP } from 'node:net'
import { DEFAULT_RPC_NAMESPACES, RPC_NAMESPACES } from '@cairn/rpc/namespaces'
import { CairnError } from '@cairn/utils'
import { ConfigErrorCode } from './errors.ts'
import type { ConfigSource } from './load.ts'
import { authActive, type NodeConfig } from './schema.ts'

/** The profile in force: as set, else `dev` for a dev chain and `prod` otherwise. */
export function effectiveProfile(config: NodeConfig): 'dev' | 'test' | 'prod' {
  return config.profile ?? (config.dev ? 'dev' : 'prod')
}

/**
 * Whether the RPC serves the `testing_` namespace (testing_buildBlockV1): as `rpc.testing` says,
 * else in the dev and test profiles only. It builds blocks on demand (CPU for any caller that
 * reaches it), so a production node serves it only when asked to, and only to `admin`.
 */
export function servesTestingNamespace(config: NodeConfig): boolean {
  return config.rpc.testing ?? (config.rpc.api?.includes('testing') || effectiveProfile(config) !== 'prod')
}

/**
 * The namespaces the RPC serves (geth's `--http.api`): `rpc.api` as set; else every one on a dev
 * chain (a test suite calls evm_, anvil_, hardhat_, debug_, txpool_… as on Anvil, which serves them
 * all), else {@link DEFAULT_RPC_NAMESPACES} (`eth,net,web3,cairn`), with `testing` when
 * {@link servesTestingNamespace} says so. Namespaces are the first gate, roles the second: a
 * method outside them does not exist for any caller.
 */
export function effectiveNamespaces(config: NodeConfig): readonly string[] {
  if (config.rpc.api) return config.rpc.api
  if (config.dev) return RPC_NAMESPACES
  return servesTestingNamespace(config) ? [...DEFAULT_RPC_NAMESPACES, 'testing'] : DEFAULT_RPC_NAMESPACES
}

/**
 * The `prod` profile refuses settings that are unsafe on a production network, naming each and
 * what to do instead. Without auth the RPC must stay on loopback in prod; with auth, CORS may not
 * allow every origin.
 */
export function checkProfile(config: NodeConfig, sources: Map<string, ConfigSource>): void {
  if (effectiveProfile(config) !== 'prod') return
  const problems: string[] = []
  if (config.dev) problems.push('dev (unlocked, publicly known dev accounts)')
  if (config.ephemeral) problems.push('ephemeral (nothing is kept)')
  if (!isLoopback(config.http.addr) && !authActive(config)) {
    problems.push(
      `http.addr ${config.http.addr} (RPC without authentication on a non-loopback address; configure auth.apiKeys or auth.jwtSecret)`,
    )
  }
  if (config.http.cors.includes('*') && authActive(config)) {
    problems.push(
      'http.cors "*" with auth (any web page could call the RPC with credentials a browser holds; list the origins)',
    )
  }
  if (problems.length === 0) return
  const explicit = sources.has('profile') ? 'profile=prod' : 'the prod profile (the default without --dev)'
  throw new CairnError(ConfigErrorCode.INSECURE, `${explicit} refuses: ${problems.join('; ')}`, {
    fault: 'caller',
    hint: 'change those settings, or set profile=test (CAIRN_PROFILE=test) if this is not a production network',
  })
}

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(addr: string): boolean {
  if (addr === 'localhost') return true
  if (isIP(addr) === 4) return addr.startsWith('127.')
  if (isIP(addr) === 6) return addr === '::1'
  return false
}
