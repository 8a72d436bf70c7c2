import { repeatingStringSerializer } from './platformatic-producer';

describe('repeatingStringSerializer', () => {
  it('gives the UTF-8 bytes of every string, the same buffer again for a short one it has seen', () => {
    const serialize = repeatingStringSerializer(8, 24);
    const first = serialize('application/json');
    expect(first).toEqual(Buffer.from('application/json', 'utf-8'));
    expect(serialize('application/json')).toBe(first);
    expect(serialize('Grüße')).toEqual(Buffer.from('Grüße', 'utf-8'));
  });

  it('does not keep strings longer than the limit (identifiers), and gives nothing for a non-string', () => {
    const serialize = repeatingStringSerializer(8, 24);
    const id = '0b7c2f7e-2f67-4c57-9a55-0c3a6ef1e5a1';
    const once = serialize(id);
    expect(once).toEqual(Buffer.from(id));
    expect(serialize(id)).not.toBe(once);
    expect(serialize(undefined)).toBeUndefined();
  });

  it('forgets everything once it holds `limit` strings, so a stream of distinct values cannot grow it', () => {
    const serialize = repeatingStringSerializer(3, 24);
    const a = serialize('a');
    serialize('b');
    serialize('c');
    expect(serialize('a')).toBe(a);
    serialize('d'); // full: forgotten, then 'd' kept
    const again = serialize('a');
    expect(again).not.toBe(a);
    expect(again).toEqual(a);
  });
});
