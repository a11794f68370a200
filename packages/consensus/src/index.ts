export type { DevEngineModules, DevEngineOptions } from './dev/dev-engine.ts'
export { DevEngine } from './dev/dev-engine.ts'
export { devChainRules } from './dev/dev-rules.ts'
export type { Engine } from './engine.ts'
