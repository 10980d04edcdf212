// The ACME context's in-memory helpers: accounts seen by this instance (a verification hint, RFC 8555 §6.2) and
// certificates it issued lately (served by the §7.4.2 download without a lookup). Both are bounded.
import { describe, expect, it } from 'vitest'
import { knownAccounts } from '../../../../protocols/acme/accounts.js'
import { recentCertificates } from '../../../../protocols/acme/context.js'
import type { AcmeAccount } from '../../../../src/store/index.js'

const account = (id: string, status: AcmeAccount['status'] = 'valid'): AcmeAccount => ({
  id,
  thumbprint: `t-${id}`,
  jwk: { kty: 'EC' },
  status,
  contact: [],
  tosAgreed: true,
  eabKeyId: null,
  createdAt: new Date(0),
})

describe('knownAccounts', () => {
  it('ok/remembers-the-latest-row-of-an-account', () => {
    const known = knownAccounts()
    known.remember(account('a'))
    known.remember({ ...account('a'), thumbprint: 'rolled-over' })
    expect(known.get('a')?.thumbprint).toBe('rolled-over')
  })

  it('ok/an-account-no-longer-valid-is-forgotten', () => {
    const known = knownAccounts()
    known.remember(account('a'))
    known.remember(account('a', 'deactivated'))
    expect(known.get('a')).toBeUndefined()
  })

  it('ok/bounded-oldest-dropped', () => {
    const known = knownAccounts(2)
    for (const id of ['a', 'b', 'c']) known.remember(account(id))
    expect([known.get('a'), known.get('b')?.id, known.get('c')?.id]).toEqual([undefined, 'b', 'c'])
  })
})

describe('recentCertificates', () => {
  it('ok/bounded-oldest-dropped', () => {
    const recent = recentCertificates(2)
    for (const serial of ['01', '02', '03']) recent.remember(serial, { der: new Uint8Array([1]), backendId: 'local' })
    expect([recent.get('01'), recent.get('03')?.backendId]).toEqual([undefined, 'local'])
  })
})
