import {
  applyDecorators,
  createParamDecorator,
  Injectable,
  SetMetadata,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { ApiBearerAuth } from '@nestjs/swagger';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '@event-spine/http';
import { InvalidTokenError } from './jwt';
import { isAdmin, type Principal } from './principal';
import { IdentityProviderUnavailableError, TokenVerifier } from './token-verifier';

const ADMIN_ROUTE = 'spine:admin-route';

type AuthedRequest = FastifyRequest & { principal?: Principal };

/** Authenticates `Authorization: Bearer <JWT>` with the TokenVerifier; use through @Authenticated() or @AdminOnly(). */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    const request = context.switchToHttp().getRequest<AuthedRequest>();
    request.principal = await authenticate(request.headers.authorization, this.verifier);
    if (this.reflector.getAllAndOverride<boolean>(ADMIN_ROUTE, targets) && !isAdmin(request.principal)) {
      throw new ApiError(403, 'FORBIDDEN', 'This route needs the admin role');
    }
    return true;
  }
}

/** Every route of the controller (or the one route) needs a valid bearer token (401 otherwise). */
export const Authenticated = () => applyDecorators(UseGuards(BearerAuthGuard), ApiBearerAuth());

/** Needs a valid bearer token with the `admin` role (401 without a token, 403 without the role). */
export const AdminOnly = () => applyDecorators(SetMetadata(ADMIN_ROUTE, true), Authenticated());

/** Verifies an `authorization` value (HTTP header or gRPC metadata); 401 with the reason otherwise. */
export async function authenticate(authorization: string | undefined, verifier: TokenVerifier): Promise<Principal> {
  const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(authorization ?? '');
  if (!match) {
    throw new ApiError(401, 'UNAUTHENTICATED', 'A bearer token is required (Authorization: Bearer <JWT>)');
  }
  try {
    return await verifier.verify(match[1]);
  } catch (error) {
    if (error instanceof InvalidTokenError) throw new ApiError(401, 'UNAUTHENTICATED', error.message);
    if (error instanceof IdentityProviderUnavailableError)
      throw new ApiError(503, 'SERVICE_UNAVAILABLE', error.message);
    throw error;
  }
}

/** The verified caller of the current request. */
export const CurrentPrincipal = createParamDecorator((_: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<AuthedRequest>().principal;
  if (!principal) throw new ApiError(401, 'UNAUTHENTICATED', 'A bearer token is required');
  return principal;
});
