import { ledgerCatalog } from '@ledger/contract';
import { Logger, Module, type DynamicModule } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AUTH_SECRET, BearerAuthGuard } from '@spine/auth';
import { CommandExecutor } from '@spine/commands';
import { OutboxSignal, outboxChannel } from '@spine/outbox';
import { CommandBus } from './command-bus';
import { CloseAccountGrpcController } from './commands/close-account/close-account.grpc.controller';
import { DepositFundsGrpcController } from './commands/deposit-funds/deposit-funds.grpc.controller';
import { OpenAccountGrpcController } from './commands/open-account/open-account.grpc.controller';
import { ReverseEntryGrpcController } from './commands/reverse-entry/reverse-entry.grpc.controller';
import { TransferFundsGrpcController } from './commands/transfer-funds/transfer-funds.grpc.controller';
import { WithdrawFundsGrpcController } from './commands/withdraw-funds/withdraw-funds.grpc.controller';
import { GrpcCommands } from './grpc/grpc-commands';
import { AccountReader } from './queries/get-account/account.reader';
import { GetAccountGrpcController } from './queries/get-account/get-account.grpc.controller';

import { CloseAccountHttpController } from './commands/close-account/close-account.http.controller';
import { DepositFundsHttpController } from './commands/deposit-funds/deposit-funds.http.controller';
import { OpenAccountHttpController } from './commands/open-account/open-account.http.controller';
import { ReverseEntryHttpController } from './commands/reverse-entry/reverse-entry.http.controller';
import { TransferFundsHttpController } from './commands/transfer-funds/transfer-funds.http.controller';
import { WithdrawFundsHttpController } from './commands/withdraw-funds/withdraw-funds.http.controller';
import { ledgerModel } from './domain/ledger.model';
import { CommandHttp } from './http/command-http';
import { EventFeedHttpController } from './queries/event-feed/event-feed.http.controller';
import { GetAccountHttpController } from './queries/get-account/get-account.http.controller';
import { SubjectEventsHttpController } from './queries/subject-events/subject-events.http.controller';

export interface LedgerOptions {
  jwtSecret: string;
  topicPrefix: string;
  databaseSchema: string;
}

@Module({})
export class LedgerModule {
  static forRoot(options: LedgerOptions): DynamicModule {
    return {
      module: LedgerModule,
      controllers: [
        OpenAccountHttpController,
        DepositFundsHttpController,
        WithdrawFundsHttpController,
        ReverseEntryHttpController,
        CloseAccountHttpController,
        TransferFundsHttpController,
        GetAccountHttpController,
        SubjectEventsHttpController,
        EventFeedHttpController,
        OpenAccountGrpcController,
        DepositFundsGrpcController,
        WithdrawFundsGrpcController,
        ReverseEntryGrpcController,
        CloseAccountGrpcController,
        TransferFundsGrpcController,
        GetAccountGrpcController,
      ],
      providers: [
        { provide: AUTH_SECRET, useValue: options.jwtSecret },
        BearerAuthGuard,
        {
          provide: CommandExecutor,
          useFactory: (dataSource: DataSource) => {
            const logger = new Logger('OutboxSignal');
            const signal = new OutboxSignal(dataSource, outboxChannel(options.databaseSchema), (error) =>
              logger.warn({ message: 'could not notify the relay; it will poll', error: String(error) }),
            );
            return new CommandExecutor(dataSource, ledgerModel, {
              catalog: ledgerCatalog,
              topicPrefix: options.topicPrefix,
              onCommitted: () => signal.committed(),
            });
          },
          inject: [getDataSourceToken()],
        },
        CommandBus,
        CommandHttp,
        GrpcCommands,
        AccountReader,
      ],
      exports: [CommandBus, AUTH_SECRET],
    };
  }
}
