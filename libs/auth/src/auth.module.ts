import { Module, type DynamicModule } from '@nestjs/common';
import { BearerAuthGuard } from './auth.guard';
import { TokenVerifier, type TokenVerifierOptions } from './token-verifier';

/**
 * The bearer-token guard for every module of the application: global, because the platform's own controllers (admin,
 * replay, event log) live in modules of their own and their guards resolve there. A string is an HS256 secret alone.
 */
@Module({})
export class AuthModule {
  static forRoot(options: TokenVerifierOptions | string): DynamicModule {
    // Built here, not lazily: a wrong JWKS file or option stops the service at start-up.
    const verifier = new TokenVerifier(typeof options === 'string' ? { hs256Secret: options } : options);
    return {
      module: AuthModule,
      global: true,
      providers: [{ provide: TokenVerifier, useValue: verifier }, BearerAuthGuard],
      exports: [TokenVerifier, BearerAuthGuard],
    };
  }
}
