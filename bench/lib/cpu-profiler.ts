/**
 * Preloaded into a service process (NODE_OPTIONS=-r …) when the bench runs with BENCH_CPU_PROF=1: records a V8 CPU
 * profile from start to exit and writes it to BENCH_CPU_PROF_FILE. `--cpu-prof` itself is not allowed in
 * NODE_OPTIONS, and the services are started by ServiceProcess, which takes no node flags.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const file = process.env.BENCH_CPU_PROF_FILE;
if (file) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  // The in-thread inspector session answers synchronously, so this works inside 'exit'.
  process.once('exit', () => {
    session.post('Profiler.stop', (error, result) => {
      if (!error) writeFileSync(file, JSON.stringify(result.profile));
    });
  });
}
