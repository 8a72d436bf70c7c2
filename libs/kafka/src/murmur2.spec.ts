import { randomBytes } from 'node:crypto';
import { murmur2 as bigintMurmur2 } from '@platformatic/kafka';
import { murmur2, partitionOf } from './murmur2';

describe('murmur2', () => {
  it("gives the Java client's hashes (Kafka's own test vectors)", () => {
    expect(murmur2('21')).toBe(-973932308);
    expect(murmur2('foobar')).toBe(-790332482);
    expect(murmur2('a-little-bit-long-string')).toBe(-985981536);
    expect(murmur2('a-little-bit-longer-string')).toBe(-1486304829);
    expect(murmur2('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8')).toBe(-58897971);
    expect(murmur2('abc')).toBe(479470107);
  });

  it("agrees with the client library's BigInt port on every length, multi-byte characters and long keys", () => {
    const keys = ['', 'é', '€', '😀', 'tenant-a:ü€😀', 'x'.repeat(5000), 'ü'.repeat(3000)];
    for (let i = 0; i < 2000; i++) keys.push(randomBytes(i % 67).toString(i % 2 ? 'hex' : 'latin1'));
    for (const key of keys) expect([key, murmur2(key)]).toEqual([key, bigintMurmur2(Buffer.from(key))]);
  });

  it('picks partitions as the Java default partitioner: positive hash modulo the count', () => {
    expect(partitionOf('foobar', 6)).toBe((-790332482 & 0x7fffffff) % 6);
    const spread = new Set(Array.from({ length: 200 }, (_, i) => partitionOf(`tenant:${i}`, 6)));
    expect([...spread].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
