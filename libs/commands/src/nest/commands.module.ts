import { Logger, Module, type DynamicModule } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { loadConfig } from '@event-spine/config';
import { AUDIT_SIGNER, AuditHttpController, auditConfig, auditSigningKey } from '@event-spine/event-log';
import { OutboxSignal, outboxChannel } from '@event-spine/outbox';
import { Metrics } from '@event-spine/observability';
import { poolOf } from '@event-spine/persistence';
import { CommandExecutor } from '../command-executor';
import { DataSubjects } from '../data-subjects';
import { CausalityHttpController } from './causality.http.controller';
import { CommandBus } from './command-bus';
import { CommandHttp } from './command-http';
import { COMMANDS_OPTIONS, type CommandsModuleOptions } from './commands.options';
import { GrpcCommands } from './grpc-commands';
import { DataSubjectsHttpController, PersonalDataHttpController } from './personal-data.http.controller';
import { SubjectReader } from './subject-reader';
import { subjectStateHttpController } from './subject-state.http.controller';

/**
 * The command side of a domain's service in one import: the executor over the domain's catalog and model, the bus
 * every transport runs commands through, and the HTTP and gRPC adapters its controllers use. The domain declares
 * its controllers in its own module, which imports this one. The application provides the platform modules it runs
 * on: persistence (with `eventLogMigrations`, `outboxMigrations` and `commandsMigrations`, the tables the executor
 * writes), metrics and `AuthModule` (gRPC callers are authenticated here, not by the HTTP guard). The admin routes
 * of the event log's tamper evidence (`/admin/audit/...`) and of personal data (`/admin/data-subjects/:id/forget`,
 * `/v1/personal-data/open`) come with it.
 */
/** What every writer of events needs: the catalog, the topics' prefix, and to wake the relay after a commit. */
const writerOptions = (signal: OutboxSignal, opts: CommandsModuleOptions) => ({
  catalog: opts.catalog,
  topicPrefix: opts.topicPrefix,
  onCommitted: (messageKeys?: readonly string[]) => signal.committed(messageKeys),
});

/** Group commit, with what an operator sees of it: how full groups run, and how often one fails and runs again. */
const observed = (grouping: NonNullable<CommandsModuleOptions['grouping']>, metrics: Metrics) => {
  const sizes = metrics.histogram(
    'spine_command_group_size',
    'Commands per group-commit transaction',
    [1, 2, 4, 8, 16, 32, 64],
  );
  const failed = metrics.counter(
    'spine_command_groups_failed_total',
    'Group-commit transactions that failed; their commands ran again, each in a transaction of its own',
  );
  return {
    ...grouping,
    observe: (commands: number, committed: boolean) => {
      sizes.observe(commands);
      if (!committed) failed.inc();
    },
  };
};

@Module({})
export class CommandsModule {
  static forRoot(options: CommandsModuleOptions): DynamicModule {
    return {
      module: CommandsModule,
      controllers: [
        CausalityHttpController,
        AuditHttpController,
        DataSubjectsHttpController,
        PersonalDataHttpController,
        subjectStateHttpController(options.catalog),
      ],
      providers: [
        { provide: COMMANDS_OPTIONS, useValue: options },
        // Tamper evidence: the key that signs checkpoints (AUDIT_SIGNING_KEY; empty: checkpoints are refused).
        { provide: AUDIT_SIGNER, useFactory: () => ({ key: auditSigningKey(loadConfig(auditConfig)) }) },
        {
          provide: OutboxSignal,
          useFactory: (dataSource: DataSource, { databaseSchema }: CommandsModuleOptions) => {
            const logger = new Logger('OutboxSignal');
            return new OutboxSignal(dataSource, outboxChannel(databaseSchema), (error) =>
              logger.warn({ message: 'could not notify the relay; it will poll', error: String(error) }),
            );
          },
          inject: [getDataSourceToken(), COMMANDS_OPTIONS],
        },
        {
          provide: CommandExecutor,
          useFactory: (dataSource: DataSource, signal: OutboxSignal, opts: CommandsModuleOptions, metrics: Metrics) =>
            new CommandExecutor(poolOf(dataSource), opts.model, {
              ...writerOptions(signal, opts),
              grouping: opts.grouping && opts.grouping.maxCommands > 1 ? observed(opts.grouping, metrics) : undefined,
            }),
          inject: [getDataSourceToken(), OutboxSignal, COMMANDS_OPTIONS, Metrics],
        },
        {
          provide: DataSubjects,
          useFactory: (dataSource: DataSource, signal: OutboxSignal, opts: CommandsModuleOptions) =>
            new DataSubjects(dataSource, opts.model, writerOptions(signal, opts)),
          inject: [getDataSourceToken(), OutboxSignal, COMMANDS_OPTIONS],
        },
        CommandBus,
        CommandHttp,
        GrpcCommands,
        SubjectReader,
      ],
      exports: [COMMANDS_OPTIONS, CommandExecutor, CommandBus, CommandHttp, GrpcCommands, SubjectReader],
    };
  }
}
