// Prometheus metrics (prom-client), one registry per server instance (no module-level state).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { IssuanceMetrics } from './issuance/service.js'

export interface Metrics extends IssuanceMetrics {
  readonly registry: Registry
  observeRequest(listener: string, route: string, method: string, status: number): void
  /** Source of the certificates-by-status gauge, read at scrape time. */
  setCertificateCounter(count: () => Promise<Record<string, number>>): void
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry()
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'enroll_' })
  // Counted in a plain map and handed to prom-client at scrape time: its inc(labels) hashes and validates the
  // label object on every call, a measurable share of a cached OCSP answer.
  const requestCounts = new Map<string, { labels: Record<string, string>; value: number }>()
  new Counter({
    name: 'enroll_http_requests_total',
    help: 'HTTP requests by listener, matched route, method and status',
    labelNames: ['listener', 'route', 'method', 'status'] as const,
    registers: [registry],
    collect() {
      this.reset()
      for (const { labels, value } of requestCounts.values()) this.inc(labels, value)
    },
  })
  const issuance = new Histogram({
    name: 'enroll_issuance_duration_seconds',
    help: 'Time through the issuance service (policy, write-ahead, signing, recording), by outcome',
    labelNames: ['outcome', 'profile', 'protocol'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  })
  let count: (() => Promise<Record<string, number>>) | undefined
  new Gauge({
    name: 'enroll_certificates',
    help: 'Certificates in the inventory by status (expired = valid past notAfter)',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      if (!count) return
      this.reset()
      for (const [status, n] of Object.entries(await count())) this.set({ status }, n)
    },
  })
  return {
    registry,
    observeRequest: (listener, route, method, status) => {
      const key = `${listener} ${route} ${method} ${status}`
      const entry = requestCounts.get(key)
      if (entry) entry.value++
      else requestCounts.set(key, { labels: { listener, route, method, status: String(status) }, value: 1 })
    },
    observeIssuance: (outcome, profile, protocol, seconds) => issuance.observe({ outcome, profile, protocol }, seconds),
    setCertificateCounter: (fn) => {
      count = fn
    },
  }
}
