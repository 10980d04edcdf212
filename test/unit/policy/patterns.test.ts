// src/policy/patterns.ts: the identifier patterns of a profile's `allow` section.
import { describe, expect, it } from 'vitest'
import { profileSchema } from '../../../src/config/schema.js'
import type { Identifier } from '../../../src/pki/csr.js'
import { compilePatterns, isDnsName } from '../../../src/policy/patterns.js'

const compile = (allow: Record<string, string[]>) =>
  compilePatterns(profileSchema.parse({ allow }).allow)
const dns = (value: string): Identifier => ({ type: 'dns', value })
const ip = (value: string): Identifier => ({ type: 'ip', value })

describe('compilePatterns dns', () => {
  it.each([
    ['ok/star-allows-any-name', ['*'], 'a.b.c.example.net', true],
    ['ok/exact-name', ['www.example.com'], 'www.example.com', true],
    ['ok/exact-name-case-insensitive', ['WWW.Example.com'], 'www.EXAMPLE.com', true],
    ['fail/exact-name-other-host', ['www.example.com'], 'api.example.com', false],
    ['ok/single-star-one-label', ['*.example.com'], 'www.example.com', true],
    ['fail/single-star-two-labels', ['*.example.com'], 'a.www.example.com', false],
    ['fail/single-star-apex', ['*.example.com'], 'example.com', false],
    ['fail/single-star-suffix-lookalike', ['*.example.com'], 'www.badexample.com', false],
    ['ok/double-star-one-label', ['**.example.com'], 'www.example.com', true],
    ['ok/double-star-any-depth', ['**.example.com'], 'a.b.c.example.com', true],
    ['fail/double-star-apex', ['**.example.com'], 'example.com', false],
    ['fail/double-star-other-domain', ['**.example.com'], 'a.example.org', false],
    ['ok/star-inside-label', ['web-*.example.com'], 'web-01.example.com', true],
    ['fail/star-inside-label-spans-dot', ['web-*.example.com'], 'web-01.x.example.com', false],
    ['ok/regex', ['re:^host\\d+\\.example\\.com$'], 'host42.example.com', true],
    ['fail/regex-no-match', ['re:^host\\d+\\.example\\.com$'], 'hostx.example.com', false],
    ['ok/regex-case-insensitive', ['re:^host\\d+\\.example\\.com$'], 'HOST1.example.com', true],
    [
      'fail/regex-is-anchored-at-the-end',
      ['re:host\\d+\\.example\\.com'],
      'host1.example.com.attacker.net',
      false,
    ],
    [
      'fail/regex-is-anchored-at-the-start',
      ['re:host\\d+\\.example\\.com'],
      'evilhost1.example.com',
      false,
    ],
    [
      'ok/regex-alternation-anchored',
      ['re:a\\.example\\.com|b\\.example\\.com'],
      'b.example.com',
      true,
    ],
    [
      'fail/regex-alternation-anchored',
      ['re:a\\.example\\.com|b\\.example\\.com'],
      'b.example.com.evil',
      false,
    ],
    ['ok/second-pattern-matches', ['a.example.com', '*.example.org'], 'x.example.org', true],
    ['fail/no-patterns', [], 'www.example.com', false],
    ['fail/dot-is-literal', ['www.example.com'], 'wwwxexample.com', false],
  ])('%s', (_name, patterns, value, allowed) => {
    expect(compile({ dns: patterns }).allows(dns(value))).toBe(allowed)
  })

  it('fail/dns-pattern-does-not-allow-ip', () => {
    expect(compile({ dns: ['*'] }).allows(ip('10.0.0.1'))).toBe(false)
  })
})

describe('compilePatterns ip (CIDR)', () => {
  it.each([
    ['ok/ipv4-in-block', ['10.0.0.0/8'], '10.20.30.40', true],
    ['fail/ipv4-outside-block', ['10.0.0.0/8'], '11.0.0.1', false],
    ['ok/ipv4-single-address', ['192.0.2.7'], '192.0.2.7', true],
    ['fail/ipv4-single-address-neighbour', ['192.0.2.7'], '192.0.2.8', false],
    ['ok/ipv4-any', ['0.0.0.0/0'], '203.0.113.9', true],
    ['ok/ipv6-in-block', ['2001:db8::/32'], '2001:db8:1::42', true],
    ['fail/ipv6-outside-block', ['2001:db8::/32'], '2001:db9::1', false],
    ['ok/ipv6-loopback', ['::1/128'], '::1', true],
    ['ok/ipv6-any', ['::/0'], 'fe80::1', true],
    ['fail/ipv6-address-vs-ipv4-block', ['10.0.0.0/8'], '2001:db8::1', false],
    ['fail/ipv4-address-vs-ipv6-block', ['2001:db8::/32'], '10.0.0.1', false],
    ['fail/not-an-address', ['0.0.0.0/0'], 'localhost', false],
    ['fail/no-blocks', [], '10.0.0.1', false],
  ])('%s', (_name, blocks, value, allowed) => {
    expect(compile({ ip: blocks }).allows(ip(value))).toBe(allowed)
  })

  it('fail/bad-cidr-refused-at-compile', () => {
    expect(() => compile({ ip: ['10.0.0/8'] })).toThrow(
      '"10.0.0/8" is not an IP address or CIDR block',
    )
  })
})

describe('compilePatterns email, uri and commonName (globs across dots)', () => {
  it.each([
    [
      'ok/email-domain',
      { email: ['*@example.com'] },
      { type: 'email', value: 'ops@example.com' },
      true,
    ],
    [
      'ok/email-subdomain-user-with-dots',
      { email: ['*@example.com'] },
      { type: 'email', value: 'a.b@example.com' },
      true,
    ],
    [
      'fail/email-other-domain',
      { email: ['*@example.com'] },
      { type: 'email', value: 'ops@example.org' },
      false,
    ],
    [
      'ok/uri-spiffe',
      { uri: ['spiffe://example.org/*'] },
      { type: 'uri', value: 'spiffe://example.org/ns/a/sa/b' },
      true,
    ],
    [
      'fail/uri-other-trust-domain',
      { uri: ['spiffe://example.org/*'] },
      { type: 'uri', value: 'spiffe://evil.org/x' },
      false,
    ],
  ] as const)('%s', (_name, allow, id, allowed) => {
    expect(compile(allow as unknown as Record<string, string[]>).allows(id)).toBe(allowed)
  })

  it('ok/common-name-patterns', () => {
    const p = compile({ commonName: ['Device *'] })
    expect(p.hasCommonNamePatterns).toBe(true)
    expect(p.allowsCommonName('Device 42')).toBe(true)
    expect(p.allowsCommonName('device 42')).toBe(true)
    expect(p.allowsCommonName('Printer 42')).toBe(false)
  })

  it('ok/no-common-name-patterns', () => {
    const p = compile({ dns: ['*'] })
    expect(p.hasCommonNamePatterns).toBe(false)
    expect(p.allowsCommonName('anything')).toBe(false)
  })
})

describe('isDnsName (RFC 1034 §3.5, RFC 6125 wildcard)', () => {
  it.each([
    ['ok/simple', 'www.example.com', true],
    ['ok/single-label', 'intranet', true],
    ['ok/idna-a-label', 'xn--bcher-kva.example', true],
    ['ok/wildcard-leftmost', '*.example.com', true],
    ['fail/wildcard-alone', '*', false],
    ['fail/wildcard-not-leftmost', 'www.*.example.com', false],
    ['fail/partial-wildcard', 'w*.example.com', false],
    ['fail/empty', '', false],
    ['fail/empty-label', 'www..example.com', false],
    ['fail/leading-hyphen', '-www.example.com', false],
    ['fail/trailing-hyphen', 'www-.example.com', false],
    ['fail/underscore', 'my_host.example.com', false],
    ['fail/label-over-63', `${'a'.repeat(64)}.example.com`, false],
    ['ok/label-63', `${'a'.repeat(63)}.example.com`, true],
    ['fail/name-over-253', `${'a.'.repeat(127)}com`, false],
    ['fail/uppercase-not-normalized', 'WWW.example.com', false],
  ])('%s', (_name, name, ok) => {
    expect(isDnsName(name)).toBe(ok)
  })
})
