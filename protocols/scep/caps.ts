// RFC 8894 §3.5.2 GetCACaps: what this server offers, one keyword per line. GetNextCACert is not offered (no
// CA rollover certificates are published ahead of time).
import type { ScepConfig } from '../../src/config/scep.js'

export function caCaps(scep: Pick<ScepConfig, 'caps'>): string[] {
  return [
    'POSTPKIOperation',
    // Renewal must stay listed for macOS clients (they fail without it), unless the operator turned it off.
    ...(scep.caps.renewal ? ['Renewal'] : []),
    'SHA-256',
    // Not in RFC 8894's list, but harmless (SHA-384 signatures are accepted) and needed by strongSwan 5.9.8 pki,
    // whose capability flags are off by one enum: it tests the SHA-384 bit where it means SCEPStandard/AES.
    'SHA-384',
    'SHA-512',
    'AES',
    ...(scep.caps.des3 ? ['DES3'] : []),
    'SCEPStandard',
  ]
}
