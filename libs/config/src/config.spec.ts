import { ConfigError, describeConfig, hostPorts, int, loadConfig, oneOf, port, str, url, bool } from './config';

const schema = {
  DATABASE_URL: url('database', { protocols: ['postgres', 'postgresql'] }),
  KAFKA_BROKERS: hostPorts('brokers'),
  HTTP_PORT: port('port', 3000),
  POOL: int('pool', { default: 8, min: 1, max: 50 }),
  MODE: oneOf('mode', ['a', 'b'], 'a'),
  SECRET: str('secret', { minLength: 8 }),
  FLAG: bool('flag', false),
};

describe('loadConfig', () => {
  const valid = {
    DATABASE_URL: 'postgres://u@127.0.0.1:5432/db',
    KAFKA_BROKERS: '127.0.0.1:9092, 10.0.0.1:9093',
    SECRET: 'x'.repeat(8),
  };

  it('parses values and applies defaults', () => {
    expect(loadConfig(schema, valid)).toEqual({
      DATABASE_URL: 'postgres://u@127.0.0.1:5432/db',
      KAFKA_BROKERS: ['127.0.0.1:9092', '10.0.0.1:9093'],
      HTTP_PORT: 3000,
      POOL: 8,
      MODE: 'a',
      SECRET: 'xxxxxxxx',
      FLAG: false,
    });
    expect(loadConfig(schema, { ...valid, HTTP_PORT: '8080', FLAG: 'true', MODE: 'b' })).toMatchObject({
      HTTP_PORT: 8080,
      FLAG: true,
      MODE: 'b',
    });
  });

  it('names every missing or wrong variable at once', () => {
    let error: unknown;
    try {
      loadConfig(schema, {
        DATABASE_URL: 'mysql://x',
        HTTP_PORT: '70000',
        POOL: '2.5',
        MODE: 'c',
        SECRET: 'short',
        FLAG: 'maybe',
        KAFKA_BROKERS: 'localhost',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(7);
    expect(problems.join('\n')).toMatch(/DATABASE_URL must use postgres or postgresql, got mysql/);
    expect(problems.join('\n')).toMatch(/HTTP_PORT must be an integer between 0 and 65535, got "70000"/);
    expect(problems.join('\n')).toMatch(/POOL must be an integer/);
    expect(problems.join('\n')).toMatch(/MODE must be one of a, b, got "c"/);
    expect(problems.join('\n')).toMatch(/SECRET must be at least 8 characters long/);
    expect(problems.join('\n')).toMatch(/FLAG must be true or false/);
    expect(problems.join('\n')).toMatch(/KAFKA_BROKERS must be a comma-separated list of host:port/);
  });

  it('reports required variables that are absent or empty', () => {
    expect(() => loadConfig(schema, { KAFKA_BROKERS: '', SECRET: 'x'.repeat(8) })).toThrow(
      /DATABASE_URL is required[\s\S]*KAFKA_BROKERS is required/,
    );
  });

  it('documents itself as a table, hiding secrets', () => {
    const table = describeConfig({ ...schema, JWT: str('jwt', { default: 'dev', secret: true }) });
    expect(table).toContain('| `DATABASE_URL` | **required** | database |');
    expect(table).toContain('| `HTTP_PORT` | `3000` | port |');
    expect(table).not.toContain('`dev`');
  });
});
