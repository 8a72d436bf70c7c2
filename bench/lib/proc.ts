import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

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
