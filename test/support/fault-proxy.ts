import {type AddressInfo, type Server, type Socket, createConnection, createServer} from 'node:net'

/**
 * An in-process TCP proxy on loopback that injects Toxiproxy's faults between a client and a real
 * server. The fault can be switched while connections are open; each chunk is judged by the fault in
 * force when it arrives. Loopback only: it never dials anything but the target it was given.
 */
export type Fault =
  | {type: 'none'}
  /** Delay every chunk by ms ± jitter (order kept). */
  | {type: 'latency'; ms: number; jitterMs?: number}
  /** Stop listening (new connects are refused) and close every open connection. */
  | {type: 'down'}
  /** Throttle each direction to this many bytes per second. */
  | {type: 'bandwidth'; bytesPerSecond: number}
  /** Delay closing the other side by this long once one side closes. */
  | {type: 'slow_close'; delayMs: number}
  /** Black hole: accept and swallow data, never answer; close after ms when ms > 0. */
  | {type: 'timeout'; ms?: number}
  /** Reset (TCP RST) open connections after afterMs, and new ones on accept. */
  | {type: 'reset_peer'; afterMs?: number}
  /** Cut data into slices of this many bytes, each written separately. */
  | {type: 'slicer'; sliceBytes: number; delayMs?: number}
  /** Close the connection once this many bytes went through it (both directions together). */
  | {type: 'limit_data'; bytes: number}

interface Link {
  client: Socket
  upstream: Socket
  bytes: number
  /** Per direction: the tail of the write chain, so delayed chunks keep their order. */
  tails: {up: Promise<void>; down: Promise<void>}
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export class FaultProxy {
  #fault: Fault = {type: 'none'}
  #server: Server | undefined
  readonly #links = new Set<Link>()
  #port = 0
  accepted = 0

  private constructor(
    readonly targetHost: string,
    readonly targetPort: number,
  ) {}

  static async start(target: {host: string; port: number}): Promise<FaultProxy> {
    if (!/^(127\.|localhost$|::1$)/.test(target.host)) throw new Error(`FaultProxy proxies loopback only, not ${target.host}`)
    const proxy = new FaultProxy(target.host, target.port)
    await proxy.#listen(0)
    return proxy
  }

  get port(): number {
    return this.#port
  }

  get openConnections(): number {
    return this.#links.size
  }

  /** `url` with its host and port replaced by the proxy's. */
  url(url: string): string {
    const parsed = new URL(url)
    parsed.hostname = '127.0.0.1'
    parsed.port = String(this.#port)
    return parsed.toString()
  }

  async set(fault: Fault): Promise<void> {
    const previous = this.#fault
    this.#fault = fault
    if (fault.type === 'down') {
      for (const link of this.#links) this.#drop(link)
      await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()))
      this.#server = undefined
    } else if (previous.type === 'down') {
      await this.#listen(this.#port)
    }

    if (fault.type === 'reset_peer') {
      for (const link of this.#links) this.#reset(link, fault.afterMs ?? 0)
    }
  }

  async close(): Promise<void> {
    for (const link of this.#links) this.#drop(link)
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()))
    this.#server = undefined
  }

  async #listen(port: number): Promise<void> {
    const server = createServer((client) => this.#accept(client))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => resolve())
    })
    this.#port = (server.address() as AddressInfo).port
    this.#server = server
  }

  #accept(client: Socket): void {
    this.accepted++
    const upstream = createConnection({host: this.targetHost, port: this.targetPort})
    const link: Link = {client, upstream, bytes: 0, tails: {up: Promise.resolve(), down: Promise.resolve()}}
    this.#links.add(link)
    client.on('error', () => this.#drop(link))
    upstream.on('error', () => this.#drop(link))
    client.on('data', (chunk) => this.#forward(link, chunk, upstream, 'up'))
    upstream.on('data', (chunk) => this.#forward(link, chunk, client, 'down'))
    const onClose = (other: Socket) => () => {
      const fault = this.#fault
      if (fault.type === 'slow_close') setTimeout(() => this.#drop(link, other), fault.delayMs)
      else this.#drop(link)
    }

    client.on('close', onClose(upstream))
    upstream.on('close', onClose(client))
    const fault = this.#fault
    if (fault.type === 'reset_peer') this.#reset(link, fault.afterMs ?? 0)
    if (fault.type === 'timeout' && fault.ms) setTimeout(() => this.#drop(link), fault.ms)
  }

  #forward(link: Link, chunk: Buffer, to: Socket, direction: 'up' | 'down'): void {
    const fault = this.#fault
    switch (fault.type) {
      case 'timeout': {
        return // swallowed
      }

      case 'limit_data': {
        const room = fault.bytes - link.bytes
        link.bytes += chunk.length
        if (room > 0) to.write(chunk.subarray(0, room))
        if (link.bytes >= fault.bytes) this.#drop(link)
        return
      }

      case 'latency': {
        const delay = Math.max(0, fault.ms + (Math.random() * 2 - 1) * (fault.jitterMs ?? 0))
        this.#chain(link, direction, async () => {
          await sleep(delay)
          to.write(chunk)
        })
        return
      }

      case 'bandwidth': {
        this.#chain(link, direction, async () => {
          await sleep((chunk.length / fault.bytesPerSecond) * 1000)
          to.write(chunk)
        })
        return
      }

      case 'slicer': {
        this.#chain(link, direction, async () => {
          for (let at = 0; at < chunk.length; at += fault.sliceBytes) {
            to.write(chunk.subarray(at, at + fault.sliceBytes))
            await sleep(fault.delayMs ?? 0)
          }
        })
        return
      }

      default: {
        link.bytes += chunk.length
        this.#chain(link, direction, async () => void to.write(chunk))
      }
    }
  }

  /** Writes in one direction happen one after another, so a delay never reorders the stream. */
  #chain(link: Link, direction: 'up' | 'down', write: () => Promise<void>): void {
    link.tails[direction] = link.tails[direction].then(write).catch(() => this.#drop(link))
  }

  #reset(link: Link, afterMs: number): void {
    setTimeout(() => {
      link.client.resetAndDestroy()
      link.upstream.destroy()
      this.#links.delete(link)
    }, afterMs)
  }

  #drop(link: Link, only?: Socket): void {
    if (only) {
      only.destroy()
      if (link.client.destroyed && link.upstream.destroyed) this.#links.delete(link)
      return
    }

    link.client.destroy()
    link.upstream.destroy()
    this.#links.delete(link)
  }
}
