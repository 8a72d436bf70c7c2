import type { ConfigOf } from '@event-spine/config';
import { commandServiceConfig as serviceConfig, grpcConfig } from '@event-spine/platform';

export const commandServiceConfig = { ...serviceConfig({ httpPort: 3000 }), ...grpcConfig({ grpcPort: 50051 }) };

export type CommandServiceConfig = ConfigOf<typeof commandServiceConfig>;
