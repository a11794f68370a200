import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Worker, type WorkerOptions } from 'node:worker_threads'

/**
 * Starts a worker thread on `entry`, a module next to the caller:
 * `new URL(\`./x${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}\`, import.meta.url)`.
 * Sources run as TypeScript through tsx (no build step), so a `.ts` worker first registers tsx's
 * loader itself: hooks registered by the parent (`--import tsx`, or `register()` in bin/cairn.js)
 * do not reach worker threads in every setup (vitest forks).
 */
export function startWorker(entry: URL, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, options)
  const req = createRequire(import.meta.url)
  const tsx = pathToFileURL(join(dirname(req.resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}) })`
  return new Worker(boot, { ...options, eval: true })
}
