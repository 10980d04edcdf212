// Samples this process's main thread with the V8 profiler (node:inspector) around one async run, and
// attributes each sample to the innermost enroll function on its stack, else to the package running.
import { Session } from 'node:inspector/promises'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

export interface Attribution {
  /** Main-thread time sampled, idle excluded, in ms. */
  busyMs: number
  /** ms per bucket, largest first. */
  buckets: [string, number][]
}

/** Package of a script URL: the last node_modules segment, `node:…` for Node internals. */
function packageOf(url: string): string {
  const m = /.*node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (m) return m[1]!
  // node:internal/crypto/util → "node:crypto", node:net → "node:net"
  if (url.startsWith('node:')) return `node:${url.replace(/^node:(internal\/)?/, '').split('/')[0]}`
  return url ? 'other script' : ''
}

/** `src/store/certificates.js` → `store/certificates`; undefined outside the project's own src/. */
function enrollModule(url: string): string | undefined {
  if (url.includes('node_modules')) return undefined
  const m = /\/dist\/src\/(.+)\.js$/.exec(url)
  return m ? m[1] : undefined
}

export async function profileRun<T>(
  run: () => Promise<T>,
  label: (frame: string) => string,
): Promise<{ result: T; cpu: Attribution }> {
  const session = new Session()
  session.connect()
  try {
    await session.post('Profiler.enable')
    await session.post('Profiler.setSamplingInterval', { interval: 250 })
    await session.post('Profiler.start')
    const result = await run()
    const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: Profile }
    return { result, cpu: attribute(profile, label) }
  } finally {
    session.disconnect()
  }
}

/**
 * Walks each sampled stack from the innermost frame outwards and asks `label` for a bucket name for
 * every frame, keyed "module#function" for the project's own src/ (`store/certificates#reserve`) and
 * "pkg:<package>#function" for dependencies; the first non-empty answer wins. Stacks no frame claims go
 * to the package of their innermost script frame, or to V8's pseudo-frames ("(garbage collector)").
 */
function attribute(p: Profile, label: (frame: string) => string): Attribution {
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const bucketOf = new Map<number, string>()
  const resolve = (id: number): string => {
    const cached = bucketOf.get(id)
    if (cached !== undefined) return cached
    let bucket = ''
    let innermostPackage = ''
    for (let cur: number | undefined = id; cur !== undefined && !bucket; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame
      const fn = f.functionName || '(anonymous)'
      const mod = enrollModule(f.url)
      const pkg = mod ? '' : packageOf(f.url)
      innermostPackage ||= mod ? 'enroll' : pkg
      if (mod) bucket = label(`${mod}#${fn}`)
      else if (pkg && pkg !== 'node internals' && pkg !== 'other script')
        bucket = label(`pkg:${pkg}#${fn}`)
    }
    if (!bucket) {
      const leaf = byId.get(id)!.callFrame
      bucket =
        innermostPackage === 'node:inspector'
          ? '(the profiler itself)'
          : innermostPackage
            ? `unclaimed: ${innermostPackage}`
            : leaf.functionName || '(native)'
    }
    bucketOf.set(id, bucket)
    return bucket
  }
  const totals = new Map<string, number>()
  for (let i = 0; i < p.samples.length; i++) {
    const b = resolve(p.samples[i]!)
    totals.set(b, (totals.get(b) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000)
  }
  totals.delete('(idle)')
  const buckets = [...totals].sort((a, b) => b[1] - a[1])
  return { busyMs: buckets.reduce((s, [, v]) => s + v, 0), buckets }
}
