// `cairn reserves …`: the commands live in @cairn/reserves-service (its ./cli export); this module only
// attaches them to the one `cairn` program.
export { registerReserves } from '@cairn/reserves-service/cli'
