import { lz4Compress, lz4Decompress, snappyCompress, snappyDecompress } from '@platformatic/wasm-utils';
import { CompressionCodecs, CompressionTypes } from 'kafkajs';

/**
 * How a producer compresses its record batches. Kafka keeps a batch as it was produced, and a consumer needs the
 * codec: every client has gzip; the Java client, librdkafka, Go's, `@platformatic/kafka` and this platform's kafkajs
 * adapters (see below) also read lz4 and snappy, which cost a fraction of gzip's CPU.
 */
export const KAFKA_COMPRESSIONS = ['none', 'gzip', 'lz4', 'snappy'] as const;
export type KafkaCompression = (typeof KAFKA_COMPRESSIONS)[number];

/**
 * A producer's compression: the codec, for sends of at least `fromMessages` messages. A send of a few messages gains
 * little from it and waits for it (gzip sets up a stream per call) and so does its consumer: a relay keeping up with
 * a steady load sends one or two rows at a time, and latency is what counts there; a backlog goes out in full batches.
 */
export interface CompressionPolicy {
  codec: KafkaCompression;
  fromMessages: number;
}

/** The codec a send of `count` messages uses. */
export function codecFor(policy: CompressionPolicy | undefined, count: number): KafkaCompression {
  return policy && count >= policy.fromMessages ? policy.codec : 'none';
}

export const KAFKAJS_COMPRESSION: Record<KafkaCompression, CompressionTypes> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  lz4: CompressionTypes.LZ4,
  snappy: CompressionTypes.Snappy,
};

interface KafkajsCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

const codec = (compress: (data: Buffer) => Buffer, decompress: (data: Buffer) => Buffer) => (): KafkajsCodec => ({
  compress: (encoder) => Promise.resolve(compress(encoder.buffer)),
  decompress: (buffer) => Promise.resolve(decompress(buffer)),
});

/**
 * kafkajs has only gzip built in; its lz4 and snappy slots are filled with the codecs `@platformatic/kafka` uses (a
 * WebAssembly build, so nothing to compile at install), so both clients read and write what the other does. The
 * slots are process-wide: every kafkajs client of the process gets them.
 */
export function registerKafkajsCodecs(): void {
  const codecs = CompressionCodecs as Record<CompressionTypes, () => unknown>;
  codecs[CompressionTypes.LZ4] = codec(lz4Compress, lz4Decompress);
  codecs[CompressionTypes.Snappy] = codec(snappyCompress, snappyDecompress);
}
