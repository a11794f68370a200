import { CairnError } from '@cairn/utils'
import { ServiceErrorCode } from '../errors.ts'
import type { SecretProvider } from './provider.ts'

/**
 * `env:NAME`: an environment variable, from the environment the config loader hands over (the kit
 * never reads `process.env` itself). Fixed for the life of the process: rotating it is a restart.
 */
export class EnvSecretProvider implements SecretProvider {
  readonly scheme = 'env'
  readonly rotates = false

  constructor(private readonly env: Readonly<Record<string, string | undefined>>) {}

  async read(locator: string, what: string): Promise<Uint8Array> {
    const value = this.env[locator]
    if (value === undefined || value === '')
      throw new CairnError(ServiceErrorCode.SECRET_UNREADABLE, `the ${what} env:${locator} is not set`, {
        fault: 'caller',
        hint: `set ${locator} in the service's environment (or point ${what} at a file)`,
      })
    return new TextEncoder().encode(value)
  }
}
