import { availableParallelism } from 'node:os'

/** Most read threads `rpc.threads = "auto"` starts (each is a V8 isolate with its own caches: ~60–160 MB). */
export const AUTO_THREADS_MAX = 8

/**
 * The read threads to run for the `rpc.threads` setting: a number as given; `auto` (the default)
 * one per core but one (the main thread's), at least 1, at most {@link AUTO_THREADS_MAX}, where
 * threads can listen on the port themselves (`listeners`: {@link reusePortSupported} and
 * `rpc.threadListeners`); else 0 — threads only handed reads by the main thread cost a transfer
 * load 12–16% for +45–50% distinct `eth_call`s (docs/performance.md), a trade to make by hand.
 */
export function readThreadCount(setting: number | 'auto', listeners: boolean, cores = availableParallelism()): number {
  if (setting !== 'auto') return setting
  return listeners ? Math.min(AUTO_THREADS_MAX, Math.max(1, cores - 1)) : 0
}

/** Whether this Node can share a listening port between threads (`reusePort`: Node ≥ 22.12 / 23.1, Linux). */
export function reusePortSupported(version = process.versions.node, platform = process.platform): boolean {
  if (platform !== 'linux') return false
  const [major = 0, minor = 0] = version.split('.').map(Number)
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12)
}
