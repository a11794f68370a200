// `cairn arb …`: the commands live in @cairn/arbitrage (its ./cli export); this module only
// attaches them to the one `cairn` program.
export { registerArb } from '@cairn/arbitrage/cli'
