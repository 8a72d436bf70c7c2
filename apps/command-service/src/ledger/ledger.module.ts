import { ledgerCatalog } from '@ledger/contract';
import { Module, type DynamicModule } from '@nestjs/common';
import { CommandsModule, type CommandsModuleOptions, type RateLimit } from '@event-spine/commands';
import { EventLogHttpModule } from '@event-spine/event-log';
import { CloseAccountGrpcController } from './commands/close-account/close-account.grpc.controller';
import { CloseAccountHttpController } from './commands/close-account/close-account.http.controller';
import { DepositFundsGrpcController } from './commands/deposit-funds/deposit-funds.grpc.controller';
import { DepositFundsHttpController } from './commands/deposit-funds/deposit-funds.http.controller';
import { OpenAccountGrpcController } from './commands/open-account/open-account.grpc.controller';
import { OpenAccountHttpController } from './commands/open-account/open-account.http.controller';
import { ReverseEntryGrpcController } from './commands/reverse-entry/reverse-entry.grpc.controller';
import { ReverseEntryHttpController } from './commands/reverse-entry/reverse-entry.http.controller';
import { TransferFundsGrpcController } from './commands/transfer-funds/transfer-funds.grpc.controller';
import { TransferFundsHttpController } from './commands/transfer-funds/transfer-funds.http.controller';
import { WithdrawFundsGrpcController } from './commands/withdraw-funds/withdraw-funds.grpc.controller';
import { WithdrawFundsHttpController } from './commands/withdraw-funds/withdraw-funds.http.controller';
import { ledgerModel } from './domain/ledger.model';
import { AccountReader } from './queries/get-account/account.reader';
import { GetAccountGrpcController } from './queries/get-account/get-account.grpc.controller';
import { GetAccountHttpController } from './queries/get-account/get-account.http.controller';

export interface LedgerOptions {
  topicPrefix: string;
  databaseSchema: string;
  rateLimit?: RateLimit;
  grouping?: CommandsModuleOptions['grouping'];
}

/** The ledger's command service: the platform's command and event-log modules over the ledger's catalog and model. */
@Module({})
export class LedgerModule {
  static forRoot(options: LedgerOptions): DynamicModule {
    return {
      module: LedgerModule,
      imports: [
        CommandsModule.forRoot({
          catalog: ledgerCatalog,
          model: ledgerModel,
          topicPrefix: options.topicPrefix,
          databaseSchema: options.databaseSchema,
          rateLimit: options.rateLimit,
          grouping: options.grouping,
        }),
        EventLogHttpModule.forRoot({ catalog: ledgerCatalog }),
      ],
      controllers: [
        OpenAccountHttpController,
        DepositFundsHttpController,
        WithdrawFundsHttpController,
        ReverseEntryHttpController,
        CloseAccountHttpController,
        TransferFundsHttpController,
        GetAccountHttpController,
        OpenAccountGrpcController,
        DepositFundsGrpcController,
        WithdrawFundsGrpcController,
        ReverseEntryGrpcController,
        CloseAccountGrpcController,
        TransferFundsGrpcController,
        GetAccountGrpcController,
      ],
      providers: [AccountReader],
    };
  }
}
