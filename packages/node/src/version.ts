import { createRequire } from 'node:module'

const pkg = createRequire(import.meta.url)('../package.json') as { version: string }

export const VERSION: string = pkg.version

/** `Cairn/v0.1.0/linux-x64/node20.20.2`, in the shape geth reports. */
export function clientVersion(): string {
  return `Cairn/v${VERSION}/${process.platform}-${process.arch}/node${process.versions.node}`
}
