import { Module, type OnApplicationShutdown } from '@nestjs/common';
import { RateLimitModule } from 'nest-rampart';
import { AppController } from './app.controller.js';
import { AuthController } from './auth.controller.js';
import { settings } from './config.js';
import { HealthController } from './health.controller.js';

@Module({
  imports: [
    // Every route gets the default rule unless it skips it; the guard is registered globally.
    RateLimitModule.forRoot({
      rules: [{ name: 'default', limit: settings.defaultLimit, windowMs: settings.defaultWindowMs, algorithm: 'sliding-window' }],
    }),
  ],
  controllers: [AppController, AuthController, HealthController],
})
export class AppModule implements OnApplicationShutdown {
  onApplicationShutdown(signal?: string) {
    if (signal) console.log(`received ${signal}, server closed`);
  }
}
