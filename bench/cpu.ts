// CPU accounting for a measured interval: this process (process.cpuUsage) and the rest of the host
// (/proc/stat busy time minus ours; on a benchmark host that is PostgreSQL). Linux only; elsewhere the
// host figure is undefined.
import { readFileSync } from 'node:fs'
import { cpus } from 'node:os'

export interface CpuSample {
  processUs: number
  hostBusyUs: number | undefined
}

export interface CpuUsage {
  /** CPU time of this Node process, in ms. */
  processMs: number
  /** CPU time of every other process on the host, in ms (undefined off Linux). */
  otherMs: number | undefined
  /** Cores on the host. */
  cores: number
}

const clockTick = 100 // USER_HZ; 100 on every Linux architecture Node supports

function hostBusyUs(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!
    const [, ...fields] = line.trim().split(/\s+/)
    const [user, nice, system, , , irq, softirq, steal] = fields.map(Number)
    return ((user! + nice! + system! + irq! + softirq! + (steal ?? 0)) * 1e6) / clockTick
  } catch {
    return undefined
  }
}

export function sampleCpu(): CpuSample {
  const u = process.cpuUsage()
  return { processUs: u.user + u.system, hostBusyUs: hostBusyUs() }
}

export function cpuSince(start: CpuSample): CpuUsage {
  const end = sampleCpu()
  const processMs = (end.processUs - start.processUs) / 1000
  const hostMs =
    end.hostBusyUs !== undefined && start.hostBusyUs !== undefined
      ? (end.hostBusyUs - start.hostBusyUs) / 1000
      : undefined
  return {
    processMs,
    otherMs: hostMs === undefined ? undefined : Math.max(0, hostMs - processMs),
    cores: cpus().length,
  }
}
