import { Module, type OnApplicationShutdown } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { RateLimitModule, type RateLimitModuleOptions } from 'nest-rampart';
import { RampartMetricsModule } from 'nest-rampart/metrics';
import { RampartHealthModule } from 'nest-rampart/terminus';
import { AppController } from './app.controller.js';
import { AuthController } from './auth.controller.js';
import { ChatGateway } from './chat.gateway.js';
import { settings } from './config.js';
import { SampleGraphqlModule } from './graphql/graphql.config.js';
import { QuoteResolver } from './graphql/quote.resolver.js';
import { HealthController } from './health.controller.js';
import { JobsController } from './jobs.controller.js';
import { createStorage } from './storage.js';

@Module({
  imports: [
    // Every route gets the default rule unless it skips it; the guard is registered globally.
    RateLimitModule.forRootAsync({
      // The admin API (bans, violations, allow/deny lists at /rate-limit) and its dashboard
      // (/rate-limit/dashboard) exist only with a key.
      ...(settings.adminApiKey !== undefined ? { admin: { dashboard: true } } : {}),
      useFactory: async (): Promise<RateLimitModuleOptions> => ({
        rules: [{ name: 'default', limit: settings.defaultLimit, windowMs: settings.defaultWindowMs, algorithm: 'sliding-window' }],
        storage: await createStorage(settings),
        // Fields not set in the environment keep the library's defaults.
        escalation: settings.escalation,
        // WebSocket clients: at most 5 open connections each, 20 new ones a minute.
        websockets: { maxConnections: 5, connectionRate: { limit: 20, windowMs: 60_000 } },
        ...(settings.adminApiKey !== undefined ? { adminApiKey: settings.adminApiKey } : {}),
        // Behind a proxy, the client is the address the proxy forwards; off unless TRUST_PROXY says so.
        ...(settings.trustedProxies.length > 0 ? { trustProxy: { proxies: settings.trustedProxies } } : {}),
      }),
    }),
    // Prometheus metrics at GET /metrics (prom-client's global registry), never rate limited.
    RampartMetricsModule.forRoot(),
    SampleGraphqlModule,
    // GET /health: the rate-limit storage's health, through @nestjs/terminus.
    TerminusModule,
    RampartHealthModule,
  ],
  controllers: [AppController, AuthController, HealthController, JobsController],
  providers: [ChatGateway, QuoteResolver],
})
export class AppModule implements OnApplicationShutdown {
  onApplicationShutdown(signal?: string) {
    if (signal) console.log(`received ${signal}, server closed`);
  }
}
