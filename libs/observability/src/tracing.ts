import {
  context,
  propagation,
  trace,
  SpanKind,
  SpanStatusCode,
  type Attributes,
  type Context,
  type Link,
  type Span,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';

export { SpanKind };

let provider: TracerProvider | undefined;

/** Whether traces are exported: OTLP when an endpoint is configured, nothing (and no work) otherwise. */
export function tracingConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * Starts exporting this process's spans by OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` (or the traces endpoint) is
 * set. Otherwise nothing is registered: the API hands out no-op spans, and no trace context is written anywhere.
 */
export function startTracing(service: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (provider || !tracingConfigured(env)) return Boolean(provider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || service }),
    // A projector batch links every message it applied (up to a batch of Kafka messages).
    spanLimits: { linkCountLimit: 10_000 },
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter(),
        scheduledDelayMillis: Number(env.OTEL_BSP_SCHEDULE_DELAY ?? 1000),
      }),
    ],
  });
  trace.setGlobalTracerProvider(provider);
  return true;
}

/** Whether this process exports spans: hot paths skip building links and attributes when it does not. */
export const tracingActive = (): boolean => provider !== undefined;

/** Links to the spans named by each carrier's `traceparent` (empty, and no work, when tracing is off). */
export function linksFrom(carriers: Iterable<{ traceparent?: string } | undefined>): Link[] {
  if (!provider) return [];
  const links: Link[] = [];
  for (const c of carriers) {
    const link = linkTo(c?.traceparent);
    if (link) links.push(link);
  }
  return links;
}

/** Adds attributes to the active span (undefined values are left out). */
export function annotateActiveSpan(attributes: Record<string, string | number | boolean | undefined>): void {
  const span = trace.getActiveSpan();
  if (!span) return;
  for (const [key, value] of Object.entries(attributes)) if (value !== undefined) span.setAttribute(key, value);
}

/** Sends the spans still buffered; called as the process shuts down. */
export async function stopTracing(): Promise<void> {
  await provider?.shutdown().catch(() => undefined);
}

export const tracer = () => trace.getTracer('event-spine');

/**
 * Runs `work` in a new active span, recording an exception as the span's error and ending it either way. With
 * tracing off this is a plain call with a no-op span.
 */
export async function inSpan<T>(
  name: string,
  options: { kind?: SpanKind; attributes?: Attributes; links?: Link[]; parent?: Context },
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  return tracer().startActiveSpan(
    name,
    { kind: options.kind, attributes: options.attributes, links: options.links },
    parent,
    async (span) => {
      try {
        return await work(span);
      } catch (error) {
        span.recordException(error instanceof Error ? error : String(error));
        span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : undefined });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/** The trace context a W3C `traceparent` (and `tracestate`) carries: the parent of a command's span. */
export function contextFrom(carrier: { traceparent?: string; tracestate?: string }): Context {
  return propagation.extract(context.active(), carrier);
}

/** The active span's W3C trace headers (`traceparent`, `tracestate`), or none when nothing is traced. */
export function traceHeaders(ctx: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

/** A link to the span a `traceparent` names (a published event's command, a consumed message's producer). */
export function linkTo(traceparent: string | undefined): Link | undefined {
  if (!traceparent) return undefined;
  const span = trace.getSpanContext(propagation.extract(context.active(), { traceparent }));
  return span && trace.isSpanContextValid(span) ? { context: span } : undefined;
}
