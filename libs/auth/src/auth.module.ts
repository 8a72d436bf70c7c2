import { Module, type DynamicModule } from '@nestjs/common';
import { AUTH_SECRET, BearerAuthGuard } from './auth.guard';

/**
 * The bearer-token guard for every module of the application: global, because the platform's own controllers (admin,
 * replay, event log) live in modules of their own and their guards resolve there.
 */
@Module({})
export class AuthModule {
  static forRoot(jwtSecret: string): DynamicModule {
    return {
      module: AuthModule,
      global: true,
      providers: [{ provide: AUTH_SECRET, useValue: jwtSecret }, BearerAuthGuard],
      exports: [AUTH_SECRET, BearerAuthGuard],
    };
  }
}
