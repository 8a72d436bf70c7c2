/**
 * `npm run spine -- <command>`: the command-line client of the projector's admin API (SPEC §9): start and follow
 * replays with a progress bar, show projection status, cancel replays, list and release parked subjects; and
 * `verify`, which re-computes the event log's hash chains from the command service's database.
 * `npm run spine -- help` prints the usage.
 */
import { SingleBar } from 'cli-progress';
import { AdminApi, FINAL_STATES, HttpError, type ReplayStatus } from './spine/api';
import { parseCli, rebuildCommandLine, UsageError, USAGE, type Cli, type Command } from './spine/cli';
import { followReplay } from './spine/follow';
import {
  renderHttpError,
  renderParked,
  renderProgressLine,
  renderProjections,
  renderRelease,
  renderReplaySummary,
} from './spine/render';
import { developmentToken } from './spine/token';
import { renderVerifyReport, runVerify } from './spine/verify';

const print = (text: string) => process.stdout.write(`${text}\n`);
const printError = (text: string) => process.stderr.write(`${text}\n`);
const printJson = (value: unknown) => print(JSON.stringify(value ?? null, null, 2));

/** npm forwards the terminal's Ctrl-C to the script, which gets it from the terminal too: one press, two signals. */
const SAME_INTERRUPT_MS = 1000;

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let cli: Cli;
  try {
    cli = parseCli(argv, env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    printError(`spine: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (cli.command.kind === 'help') {
    print(USAGE);
    return 0;
  }
  if (cli.command.kind === 'verify') {
    try {
      const report = await runVerify(cli.command, env);
      print(cli.json ? JSON.stringify(report, null, 2) : renderVerifyReport(report));
      return report.ok ? 0 : 1;
    } catch (error) {
      if (error instanceof UsageError) {
        printError(`spine: ${error.message}`);
        return 2;
      }
      printError(`spine: ${String(error instanceof Error ? error.message : error)}`);
      return 1;
    }
  }
  try {
    const token = cli.connection.token ?? (await developmentToken(cli.connection.tenant, env));
    return await run(cli, cli.command, new AdminApi({ baseUrl: cli.connection.url, token }));
  } catch (error) {
    printError(
      error instanceof HttpError
        ? renderHttpError(error)
        : `spine: ${String(error instanceof Error ? error.message : error)}`,
    );
    return 1;
  }
}

async function run(cli: Cli, command: Exclude<Command, { kind: 'help' | 'verify' }>, api: AdminApi): Promise<number> {
  switch (command.kind) {
    case 'replay': {
      const { projection, request } = command;
      const replayId = await api.startReplay(projection, request);
      if (command.detach) {
        if (cli.json) printJson({ replayId });
        else
          print(`replay ${replayId} started (${request.mode} of ${projection}); npm run spine -- status ${replayId}`);
        return 0;
      }
      const status = await attach(api, replayId);
      if (cli.json) printJson(status);
      else {
        print(renderReplaySummary(replayId, { projection, mode: request.mode, source: request.source, ...status }));
        if (request.mode === 'preview' && status.state === 'completed')
          print(
            `\nto rebuild, signed off by this preview:\n  ${rebuildCommandLine(projection, request, replayId, cli.connection.flags)}`,
          );
      }
      return status.state === 'completed' ? 0 : 1;
    }
    case 'status': {
      if (command.replayId === undefined) {
        const projections = await api.projections();
        print(cli.json ? JSON.stringify(projections, null, 2) : renderProjections(projections));
      } else {
        const status = await api.replay(command.replayId);
        print(cli.json ? JSON.stringify(status, null, 2) : renderReplaySummary(command.replayId, status));
      }
      return 0;
    }
    case 'cancel': {
      const answer = await api.cancel(command.replayId);
      if (cli.json) printJson(answer ?? { replayId: command.replayId, cancelRequested: true });
      else print(`cancel requested for replay ${command.replayId}; npm run spine -- status ${command.replayId}`);
      return 0;
    }
    case 'parked': {
      if (command.action === undefined) {
        const { parked } = await api.parked();
        print(cli.json ? JSON.stringify({ parked }, null, 2) : renderParked(parked));
      } else {
        const result = await api.release(command.action.op, command.action.subject);
        print(cli.json ? JSON.stringify(result, null, 2) : renderRelease(command.action.op, result));
      }
      return 0;
    }
  }
}

/** Polls the replay with a progress bar (on a terminal) until it ends; the first Ctrl-C cancels it. */
async function attach(api: AdminApi, replayId: string): Promise<ReplayStatus> {
  let latest: ReplayStatus = { state: 'starting', progress: { processed: 0 } };
  const bar = process.stderr.isTTY
    ? new SingleBar({ format: () => renderProgressLine(latest), hideCursor: true, fps: 10 })
    : undefined;
  bar?.start(1, 0);
  let interruptedAt: number | undefined;
  let wake: (() => void) | undefined;
  const onInterrupt = () => {
    if (interruptedAt === undefined) {
      interruptedAt = Date.now();
      wake?.();
    } else if (Date.now() - interruptedAt > SAME_INTERRUPT_MS) {
      bar?.stop();
      printError(`stopped waiting for replay ${replayId} (cancel requested); see npm run spine -- status ${replayId}`);
      process.exit(130);
    }
  };
  process.on('SIGINT', onInterrupt);
  try {
    return await followReplay(replayId, {
      replay: (id) => api.replay(id),
      cancel: (id) => api.cancel(id),
      sleep: (ms) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ms);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        }),
      interrupted: () => interruptedAt !== undefined,
      onStatus: (status) => {
        latest = status;
        bar?.update(status.progress?.processed ?? 0);
        if (FINAL_STATES.includes(status.state)) bar?.stop();
      },
      onNotice: (message) => printError(bar ? `\n${message}` : message),
    });
  } finally {
    process.off('SIGINT', onInterrupt);
    bar?.stop();
  }
}

main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    printError(`spine: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  },
);
