import { createConnection, createServer } from 'node:net'

export const LOOPBACK = '127.0.0.1'

/**
 * Asks the kernel for a port nobody listens on. Another process may still take it before the
 * caller binds it, so callers that start servers check again right before they do.
 */
export function freePort (host = LOOPBACK): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, host, () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => port > 0 ? resolve(port) : reject(new Error('no port assigned')))
    })
  })
}

/** Picks `count` distinct free ports: two quick picks in a row can hand out the same one. */
export async function freePorts (count: number, host = LOOPBACK): Promise<number[]> {
  const ports = new Set<number>()
  while (ports.size < count) ports.add(await freePort(host))
  return [...ports]
}

export function isPortFree (port: number, host = LOOPBACK): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.unref()
    server.once('error', () => resolve(false))
    server.listen(port, host, () => server.close(() => resolve(true)))
  })
}

export function canConnect (port: number, host = LOOPBACK, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host })
    const done = (ok: boolean): void => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}
