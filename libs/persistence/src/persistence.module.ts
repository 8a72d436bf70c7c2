import { Injectable, Module, type DynamicModule } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { InjectDataSource, TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ReadinessCheck } from '@event-spine/observability';
import { dataSourceOptions, migrate, type DatabaseSettings } from './data-source';

export interface PersistenceOptions extends DatabaseSettings {
  runMigrations: boolean;
}

/** Ready when the database answers a query within a second. */
@Injectable()
export class DatabaseReadinessCheck extends ReadinessCheck {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly indicator: HealthIndicatorService,
  ) {
    super();
  }

  check() {
    return this.indicator
      .check('database')
      .attempt(async () => {
        await this.dataSource.query('SELECT 1');
      })
      .withTimeout(1000);
  }
}

@Module({})
export class PersistenceModule {
  static forRoot(options: PersistenceOptions): DynamicModule {
    return {
      module: PersistenceModule,
      global: true,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => dataSourceOptions(options),
          dataSourceFactory: async (opts) => {
            const dataSource = await new DataSource(opts!).initialize();
            if (options.runMigrations) await migrate(dataSource, options.schema);
            return dataSource;
          },
        }),
      ],
    };
  }
}
