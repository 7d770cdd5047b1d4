export { freePort, freePorts } from '../../src/stack/ports.ts'
