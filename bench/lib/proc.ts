import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU and memory of processes, read from /proc as the issue asks: utime + stime from /proc/<pid>/stat, VmRSS and
 * VmHWM from /proc/<pid>/status. Sampling costs a few file reads, nothing in the measured processes.
 */

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system) the process has used so far; NaN once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; the fields after its closing parenthesis are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // fields 14 and 15 of stat(5)
  } catch {
    return NaN;
  }
}

/** Resident set size now and its peak (high-water mark), in MiB. */
export function memoryMiB(pid: number): { rssMiB: number; hwmMiB: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMiB: kib('VmRSS') / 1024, hwmMiB: kib('VmHWM') / 1024 };
  } catch {
    return { rssMiB: NaN, hwmMiB: NaN };
  }
}

/** Busy and total jiffies of the whole machine (/proc/stat), for the machine's load during a window. */
function machineJiffies(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = cpu.reduce((s, x) => s + x, 0);
  const idle = cpu[3] + (cpu[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

export interface ProcessUsage {
  name: string;
  pid: number;
  /** Average cores used over the window (CPU seconds / wall seconds). */
  cores: number;
  rssMiBMax: number;
  rssMiBAvg: number;
  hwmMiB: number;
}

export interface UsageReport {
  wallSeconds: number;
  processes: ProcessUsage[];
  /** All CPUs of the machine busy over the window, in cores (includes the other engineer's work, if any). */
  machineBusyCores: number;
}

/** Samples named processes over a window: CPU from start to stop, memory every `intervalMs`. */
export class UsageSampler {
  private readonly startCpu = new Map<number, number>();
  private readonly rss = new Map<number, number[]>();
  private readonly startMachine = machineJiffies();
  private readonly startedAt = performance.now();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly targets: { name: string; pid: number }[],
    intervalMs = 500,
  ) {
    for (const t of targets) {
      this.startCpu.set(t.pid, cpuSeconds(t.pid));
      this.rss.set(t.pid, []);
    }
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  private sample(): void {
    for (const t of this.targets) this.rss.get(t.pid)?.push(memoryMiB(t.pid).rssMiB);
  }

  stop(): UsageReport {
    clearInterval(this.timer);
    this.sample();
    const wallSeconds = (performance.now() - this.startedAt) / 1000;
    const machine = machineJiffies();
    const cores = (machine.busy - this.startMachine.busy) / (machine.total - this.startMachine.total || 1);
    return {
      wallSeconds,
      machineBusyCores: cores * cpuCount(),
      processes: this.targets.map((t) => {
        const samples = (this.rss.get(t.pid) ?? []).filter(Number.isFinite);
        return {
          name: t.name,
          pid: t.pid,
          cores: (cpuSeconds(t.pid) - (this.startCpu.get(t.pid) ?? NaN)) / wallSeconds,
          rssMiBMax: Math.max(...samples),
          rssMiBAvg: samples.reduce((s, x) => s + x, 0) / (samples.length || 1),
          hwmMiB: memoryMiB(t.pid).hwmMiB,
        };
      }),
    };
  }
}

interface ProcSnapshot {
  cpu: number;
  ppid: number;
  comm: string;
}

/** CPU seconds, parent and name of every process on the machine. */
function allProcesses(): Map<number, ProcSnapshot> {
  const out = new Map<number, ProcSnapshot>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const fields = stat.slice(close + 2).split(' ');
      out.set(Number(entry), {
        comm: stat.slice(stat.indexOf('(') + 1, close),
        ppid: Number(fields[1]),
        cpu: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS,
      });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export interface MachineLoad {
  wallSeconds: number;
  /** All CPUs busy, in cores. */
  busyCores: number;
  /** The bench and the services it started. */
  benchCores: number;
  kafkaCores: number;
  /** Every PostgreSQL process: this run's backends and anyone else's. */
  postgresCores: number;
  /** Everything else: e.g. another engineer's test suites on this shared machine (sampled every second). */
  otherCores: number;
}

/**
 * Who used the machine during a step: this run, Kafka, PostgreSQL, everybody else. The machine is shared, so the
 * report states how much of it the benchmark really had.
 */
export class MachineLoadSampler {
  private readonly start = allProcesses();
  /** The last sample of every process seen: keeps the CPU of those that exit before the step ends. */
  private readonly last = new Map(this.start);
  private readonly startMachine = machineJiffies();
  private readonly startedAt = performance.now();
  private readonly timer = setInterval(() => this.sample(), 1000);

  constructor(private readonly kafkaPid?: number) {}

  private sample(): void {
    for (const [pid, p] of allProcesses()) this.last.set(pid, p);
  }

  stop(): MachineLoad {
    clearInterval(this.timer);
    this.sample();
    const wallSeconds = (performance.now() - this.startedAt) / 1000;
    const machine = machineJiffies();
    const ours = (pid: number): boolean => {
      for (let p = pid, hops = 0; p > 1 && hops < 20; hops++) {
        if (p === process.pid) return true;
        p = this.last.get(p)?.ppid ?? 0;
      }
      return false;
    };
    const load = { bench: 0, kafka: 0, postgres: 0, other: 0 };
    for (const [pid, p] of this.last) {
      const used = p.cpu - (this.start.get(pid)?.cpu ?? 0);
      if (!(used > 0)) continue;
      if (ours(pid)) load.bench += used;
      else if (pid === this.kafkaPid) load.kafka += used;
      else if (p.comm === 'postgres') load.postgres += used;
      else load.other += used;
    }
    const share = (machine.busy - this.startMachine.busy) / (machine.total - this.startMachine.total || 1);
    const cores = (x: number) => Number((x / wallSeconds).toFixed(2));
    return {
      wallSeconds: Number(wallSeconds.toFixed(1)),
      busyCores: Number((share * cpuCount()).toFixed(2)),
      benchCores: cores(load.bench),
      kafkaCores: cores(load.kafka),
      postgresCores: cores(load.postgres),
      otherCores: cores(load.other),
    };
  }
}

export function cpuCount(): number {
  return readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .filter((l) => /^cpu\d+ /.test(l)).length;
}

/** The bench process's own CPU use over a window, in cores: the load generator's overhead. */
export class SelfCpu {
  private readonly start = process.cpuUsage();
  private readonly startedAt = performance.now();

  cores(): number {
    const used = process.cpuUsage(this.start);
    return (used.user + used.system) / 1000 / (performance.now() - this.startedAt);
  }
}
