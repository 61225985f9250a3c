import type { INestApplication } from '@nestjs/common';
import { Transport } from '@nestjs/microservices';
import type { AddressInfo, Server } from 'node:net';

/**
 * Connects the TCP microservice (JobsController's patterns) to the HTTP app and starts it on
 * `port` (0 picks a free one); resolves with the port it listens on. `inheritAppConfig` gives it
 * the app's global enhancers: without it, a hybrid app's microservice runs without the global
 * RateLimitGuard.
 */
export async function startMicroservice(app: INestApplication, port: number): Promise<number> {
  const microservice = app.connectMicroservice({ transport: Transport.TCP, options: { host: '127.0.0.1', port } }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  return (microservice.unwrap<Server>().address() as AddressInfo).port;
}
