// RFC 5280 §4.1.2.2 serial numbers: positive, at most 20 octets; CA/B BR §7.1 asks for ≥ 64 random bits.
import { randomBytes } from 'node:crypto'

/** 16 random octets (127 bits of entropy), first octet in 0x01..0x7f so the INTEGER is positive and minimal. */
export function newSerial(): string {
  const bytes = randomBytes(16)
  bytes[0] = (bytes[0]! & 0x7f) | 0x01
  return bytes.toString('hex')
}

/** Canonical form used in the inventory: lowercase hex, no separators, no leading zero octets. */
export function normalizeSerial(input: string): string {
  const hex = input.replace(/[:\s-]/g, '').toLowerCase()
  if (!/^[0-9a-f]+$/.test(hex) || hex.length > 42) throw new Error('serial must be hex')
  const trimmed = hex.replace(/^(00)+(?=[0-9a-f]{2})/, '')
  return trimmed.length % 2 ? `0${trimmed}` : trimmed
}
