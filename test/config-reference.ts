import { describeConfig } from '@event-spine/config';
import { commandServiceConfig } from '../apps/command-service/src/command-service.config';
import { outboxRelayConfig } from '../apps/outbox-relay/src/outbox-relay.config';
import { projectorConfig } from '../apps/projector/src/projector.config';

export function configReference(): string {
  return [
    ['command-service', commandServiceConfig],
    ['outbox-relay', outboxRelayConfig],
    ['projector', projectorConfig],
  ]
    .map(
      ([name, schema]) => `#### ${name as string}\n\n${describeConfig(schema as Parameters<typeof describeConfig>[0])}`,
    )
    .join('\n\n');
}
