/** Anything that runs a parameterised query: a TypeORM EntityManager or QueryRunner, or a pg client. */
export interface Queryable {
  query<T = unknown>(sql: string, parameters?: unknown[]): Promise<T>;
}
