/**
 * One heartbeat channel: one UDP socket bound to one configured local address.
 *
 * Sockets come from dgram-as-promised (createSocket, bind, send, close). Datagrams are
 * read with RxJS `fromEvent` on the underlying socket's 'message' event, never with
 * `recv()`, which keeps no queue and drops packets while its consumer awaits
 * (STACK.md).
 */
import DgramAsPromised, { type RemoteInfo, type SocketAsPromised } from 'dgram-as-promised'
import { fromEvent, type Observable } from 'rxjs'
import { CarbError } from '../errors.js'
import { formatAddress, normalizeIp, resolveHost, type HostPort, type ResolvedAddress } from './address.js'

export interface Datagram {
  msg: Buffer
  /** Source IP, normalized (IPv4-mapped IPv6 shown as IPv4). */
  ip: string
  port: number
  /** `ip:port` or `[ip]:port`. */
  from: string
}

/** After a failed bind the socket may never have started; closing it then throws. */
function closeQuietly(socket: SocketAsPromised): void {
  try {
    socket.socket.close()
  } catch {
    // not running: nothing to release
  }
}

/** One heartbeat channel's socket, as the heartbeat service uses it (the simulator has its own). */
export interface DatagramChannel {
  readonly index: number
  /** Where the channel is bound (the real port, even when 0 was asked). */
  readonly local: ResolvedAddress & { port: number }
  /** Every datagram received; subscribe once, right after open. */
  readonly datagrams$: Observable<Datagram>
  send(msg: Buffer, ip: string, port: number): Promise<void>
  close(): Promise<void>
}

export class HeartbeatChannel implements DatagramChannel {
  /**
   * Every datagram the socket receives. Cold: each subscription adds one listener, so
   * subscribe once, right after open, before any packet matters.
   */
  readonly datagrams$: Observable<Datagram>
  private closed = false

  private constructor(
    readonly index: number,
    /** Where the socket is bound (the port is the real one, even when 0 was asked). */
    readonly local: ResolvedAddress & { port: number },
    private readonly socket: SocketAsPromised,
  ) {
    this.datagrams$ = fromEvent(socket.socket, 'message', (msg: Buffer, rinfo: RemoteInfo): Datagram => {
      const ip = normalizeIp(rinfo.address)
      return { msg, ip, port: rinfo.port, from: formatAddress(ip, rinfo.port) }
    })
  }

  /** Binds channel `index` to `address`. Throws CARB_ERR_NET_BIND (or CARB_ERR_NET_RESOLVE) naming host:port. */
  static async open(index: number, address: HostPort): Promise<HeartbeatChannel> {
    const [first] = await resolveHost(address)
    if (first === undefined) throw new CarbError('CARB_ERR_NET_RESOLVE', 'heartbeat host has no address', `${address.host}:${address.port}`)
    const socket = DgramAsPromised.createSocket({ type: first.family === 6 ? 'udp6' : 'udp4' })
    try {
      const bound = await socket.bind({ address: first.ip, port: address.port, exclusive: true })
      return new HeartbeatChannel(index, { ...first, port: bound.port }, socket)
    } catch (error) {
      closeQuietly(socket)
      const code = (error as NodeJS.ErrnoException).code ?? String(error)
      throw new CarbError('CARB_ERR_NET_BIND', `cannot bind heartbeat channel ${index} (${code})`, formatAddress(first.ip, address.port))
    }
  }

  /** Sends one datagram; rejects with the socket's error (the caller counts it). */
  async send(msg: Buffer, ip: string, port: number): Promise<void> {
    await this.socket.send(msg, port, ip)
  }

  /** Closes the socket; a second call does nothing. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.socket.close()
  }
}
