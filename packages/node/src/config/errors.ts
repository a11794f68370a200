/** Error codes of configuration loading and the profiles' refusals. Stable: never reuse a retired code. */
export const ConfigErrorCode = {
  INVALID: 'CONFIG_INVALID',
  UNREADABLE: 'CONFIG_UNREADABLE',
  INSECURE: 'CONFIG_INSECURE',
  CRON_INVALID: 'CONFIG_CRON_INVALID',
} as const
export type ConfigErrorCode = (typeof ConfigErrorCode)[keyof typeof ConfigErrorCode]

declare module '@cairn/utils' {
  interface CairnErrorCodes {
    config: ConfigErrorCode
  }
}
