// CPU accounting for a measured interval, from three sources: this process (process.cpuUsage, every
// thread), the local PostgreSQL server (every process named `postgres`, from /proc/<pid>/stat), and the
// whole host (/proc/stat). What is left of the host's busy time is "others": anything else running on
// the machine meanwhile, which makes the figures of that interval unreliable. Linux only for the last two;
// elsewhere they read as undefined.
import { readdirSync, readFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'

export interface CpuSample {
  at: number
  processUs: number
  postgresUs: Map<string, number> | undefined
  hostBusyUs: number | undefined
}

export interface CpuUsage {
  /** CPU time of this Node process (every thread: main, libuv pool, GC helpers), in ms. */
  processMs: number
  /** CPU time of the local PostgreSQL processes, in ms. */
  postgresMs: number | undefined
  /** Share of the host's CPU capacity used by every other process during the interval, 0..1. */
  othersShare: number | undefined
}

const clockTick = 100 // USER_HZ: 100 on every Linux architecture Node supports

function readTicks(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined // not Linux, or the process exited between readdir and read
  }
}

/** utime + stime of a /proc stat line, in µs. */
function statUs(stat: string): number {
  // After "(comm) ": state is field 3 of the line; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / clockTick
}

/** CPU time of a live process in ms (all its threads); undefined off Linux or once it exited. */
export function processCpuMs(pid: number): number | undefined {
  const stat = readTicks(`/proc/${pid}/stat`)
  return stat === undefined ? undefined : statUs(stat) / 1000
}

/** CPU time of one thread of a live process in ms (the main thread's id is the pid); undefined off Linux. */
export function threadCpuMs(pid: number, tid: number): number | undefined {
  const stat = readTicks(`/proc/${pid}/task/${tid}/stat`)
  return stat === undefined ? undefined : statUs(stat) / 1000
}

/** CPU time of this process's main thread (the JavaScript thread) in ms; undefined off Linux. */
export function mainThreadCpuMs(): number | undefined {
  const stat = readTicks(`/proc/self/task/${process.pid}/stat`)
  return stat === undefined ? undefined : statUs(stat) / 1000
}

/** CPU time of each live PostgreSQL process (by pid), in µs. */
function postgresUs(): Map<string, number> | undefined {
  let pids: string[]
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p))
  } catch {
    return undefined
  }
  const out = new Map<string, number>()
  for (const pid of pids) {
    const stat = readTicks(`/proc/${pid}/stat`)
    if (stat && stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) === 'postgres') {
      out.set(pid, statUs(stat))
    }
  }
  return out
}

/** CPU the PostgreSQL processes used between two samples (ms); processes that exited meanwhile are lost. */
function postgresDeltaMs(a: Map<string, number> | undefined, b: Map<string, number> | undefined) {
  if (!a || !b) return undefined
  let us = 0
  for (const [pid, end] of b) us += Math.max(0, end - (a.get(pid) ?? 0))
  return us / 1000
}

function hostBusyUs(): number | undefined {
  const line = readTicks('/proc/stat')?.split('\n', 1)[0]
  if (!line?.startsWith('cpu ')) return undefined
  // user nice system idle iowait irq softirq steal …: busy = all but idle and iowait
  const [user, nice, system, , , irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number)
  return ((user! + nice! + system! + irq! + softirq! + (steal ?? 0)) * 1e6) / clockTick
}

export function sampleCpu(): CpuSample {
  const u = process.cpuUsage()
  return {
    at: performance.now(),
    processUs: u.user + u.system,
    postgresUs: postgresUs(),
    hostBusyUs: hostBusyUs(),
  }
}

const delta = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? undefined : (b - a) / 1000

export function cpuSince(start: CpuSample): CpuUsage {
  const end = sampleCpu()
  const processMs = (end.processUs - start.processUs) / 1000
  const postgresMs = postgresDeltaMs(start.postgresUs, end.postgresUs)
  const hostMs = delta(start.hostBusyUs, end.hostBusyUs)
  const capacityMs = (end.at - start.at) * cpus().length
  return {
    processMs,
    postgresMs,
    othersShare:
      hostMs === undefined
        ? undefined
        : Math.max(0, hostMs - processMs - (postgresMs ?? 0)) / capacityMs,
  }
}

/** 1-minute load average and core count, for the header. */
export const hostLoad = () => ({ load1: loadavg()[0]!, cores: cpus().length })
