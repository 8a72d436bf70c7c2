export default async function globalTeardown(): Promise<void> {
  const g = globalThis as { __spineInfra?: { stop(): Promise<void> } };
  const infra = g.__spineInfra;
  g.__spineInfra = undefined;
  await infra?.stop();
}
