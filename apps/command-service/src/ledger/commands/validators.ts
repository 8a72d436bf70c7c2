import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { IsInt, Max, Min, registerDecorator, type ValidationOptions } from 'class-validator';
import { isCurrency } from '../domain/currencies';
import { MAX_BALANCE } from '../domain/ledger.decide';

export function IsCurrency(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isCurrency',
      target: target.constructor,
      propertyName,
      options: { message: `${propertyName} must be an ISO-4217 currency code such as EUR or USD`, ...options },
      validator: { validate: (value: unknown) => typeof value === 'string' && isCurrency(value) },
    });
}

/** A positive whole number of minor units (cents), exact in JSON. */
export const IsAmount = () =>
  applyDecorators(
    ApiProperty({ example: 1250, minimum: 1, maximum: MAX_BALANCE, description: 'minor units (cents)' }),
    IsInt({ message: 'amount must be a whole number of minor units' }),
    Min(1, { message: 'amount must be positive' }),
    Max(MAX_BALANCE, { message: `amount must not exceed ${MAX_BALANCE}` }),
  );
