// A tiny authoritative DNS server for validation tests (TEST ONLY): UDP on 127.0.0.1, answers A (127.0.0.1 by
// default), AAAA, TXT and CAA from maps the test sets. Enough of RFC 1035 §4 for node:dns Resolver.
import { createSocket, type Socket } from 'node:dgram'
import type { AddressInfo } from 'node:net'

export interface CaaTestRecord {
  flags?: number
  tag: string
  value: string
}

export interface TestDnsServer {
  address: string
  a: Map<string, string[]>
  aaaa: Map<string, string[]>
  txt: Map<string, string[]>
  caa: Map<string, CaaTestRecord[]>
  /** Names answered with SERVFAIL. */
  fail: Set<string>
  defaultA: string | undefined
  close(): Promise<void>
}

function readName(msg: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = []
  let i = offset
  while (msg[i]) {
    const len = msg[i]!
    labels.push(msg.subarray(i + 1, i + 1 + len).toString('latin1'))
    i += len + 1
  }
  return { name: labels.join('.').toLowerCase(), end: i + 1 }
}

function rr(type: number, rdata: Buffer): Buffer {
  const head = Buffer.alloc(12)
  head.writeUInt16BE(0xc00c, 0)
  head.writeUInt16BE(type, 2)
  head.writeUInt16BE(1, 4)
  head.writeUInt32BE(0, 6)
  head.writeUInt16BE(rdata.length, 10)
  return Buffer.concat([head, rdata])
}

const ipv6Bytes = (ip: string) => {
  const [h = '', t = ''] = ip.split('::')
  const head = h ? h.split(':') : []
  const tail = t ? t.split(':') : []
  const groups = ip.includes('::') ? [...head, ...Array(8 - head.length - tail.length).fill('0'), ...tail] : head
  return Buffer.from(groups.map((g: string) => g.padStart(4, '0')).join(''), 'hex')
}

export async function startTestDns(): Promise<TestDnsServer> {
  const socket: Socket = createSocket('udp4')
  const state: Omit<TestDnsServer, 'address' | 'close'> = {
    a: new Map(),
    aaaa: new Map(),
    txt: new Map(),
    caa: new Map(),
    fail: new Set(),
    defaultA: '127.0.0.1',
  }
  socket.on('message', (msg, peer) => {
    if (msg.length < 12) return
    const { name, end } = readName(msg, 12)
    const qtype = msg.readUInt16BE(end)
    const question = msg.subarray(12, end + 4)
    const answers: Buffer[] = []
    let rcode = 0
    if (state.fail.has(name)) rcode = 2
    else if (qtype === 1) for (const ip of state.a.get(name) ?? (state.defaultA ? [state.defaultA] : [])) answers.push(rr(1, Buffer.from(ip.split('.').map(Number))))
    else if (qtype === 28) for (const ip of state.aaaa.get(name) ?? []) answers.push(rr(28, ipv6Bytes(ip)))
    else if (qtype === 16) {
      for (const v of state.txt.get(name) ?? []) answers.push(rr(16, Buffer.concat([Buffer.from([v.length]), Buffer.from(v, 'latin1')])))
    } else if (qtype === 257) {
      for (const r of state.caa.get(name) ?? []) {
        answers.push(rr(257, Buffer.concat([Buffer.from([r.flags ?? 0, r.tag.length]), Buffer.from(r.tag), Buffer.from(r.value)])))
      }
    }
    const header = Buffer.alloc(12)
    msg.copy(header, 0, 0, 2)
    header.writeUInt16BE(0x8180 | rcode, 2)
    header.writeUInt16BE(1, 4)
    header.writeUInt16BE(answers.length, 6)
    socket.send(Buffer.concat([header, question, ...answers]), peer.port, peer.address)
  })
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  const { port } = socket.address() as AddressInfo
  return {
    ...state,
    get defaultA() {
      return state.defaultA
    },
    set defaultA(v) {
      state.defaultA = v
    },
    address: `127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  }
}
