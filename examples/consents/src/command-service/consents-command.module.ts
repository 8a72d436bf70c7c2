import { Module, type DynamicModule } from '@nestjs/common';
import type { ConfigOf } from '@event-spine/config';
import { commandServiceConfig, commandServiceModules } from '@event-spine/platform';
import { consentsCatalog } from '../contract';
import { consentsModel } from '../domain/consents.model';
import { CompleteCreditCheckHttpController } from './commands/complete-credit-check/complete-credit-check.http.controller';
import { GrantConsentHttpController } from './commands/grant-consent/grant-consent.http.controller';
import { RequestCreditCheckHttpController } from './commands/request-credit-check/request-credit-check.http.controller';
import { RevokeConsentHttpController } from './commands/revoke-consent/revoke-consent.http.controller';
import { GetCreditCheckHttpController } from './queries/get-credit-check.http.controller';
import { GetCustomerHttpController } from './queries/get-customer.http.controller';

export const SERVICE_NAME = 'consents-command-service';
export const consentsCommandConfig = commandServiceConfig({ httpPort: 3100 });
export type ConsentsCommandConfig = ConfigOf<typeof consentsCommandConfig>;

/** The consents command service: the platform's command-service modules over this domain's catalog and model. */
@Module({})
export class ConsentsCommandModule {
  static forRoot(config: ConsentsCommandConfig): DynamicModule {
    return {
      module: ConsentsCommandModule,
      imports: commandServiceModules({ service: SERVICE_NAME, catalog: consentsCatalog, model: consentsModel, config }),
      controllers: [
        GrantConsentHttpController,
        RevokeConsentHttpController,
        RequestCreditCheckHttpController,
        CompleteCreditCheckHttpController,
        GetCustomerHttpController,
        GetCreditCheckHttpController,
      ],
    };
  }
}
