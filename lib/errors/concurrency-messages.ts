/** The texts of the errors of concurrency limits on HTTP routes (`@ConcurrencyLimit`). */
import { describe } from './describe.js';

export const concurrentRequestsDetail = (name: string, limit: number) =>
  `Concurrency limit '${name}' reached: at most ${limit} request${limit === 1 ? '' : 's'} of this client at once. Retry when one has ended.`;

export const concurrencyLimitOffTarget = (route: string) =>
  `@ConcurrencyLimit on ${route}: concurrency limits apply to HTTP routes (@Get, @Post...) and microservice handlers (@MessagePattern, @EventPattern, @GrpcMethod, @GrpcStreamMethod), and ${route} is neither. Remove the decorator.`;

export const unwatchableResponse = () =>
  '@ConcurrencyLimit cannot tell when this response ends (it is no Node response, nor holds one as `raw`): concurrency limits on HTTP routes need the Express or the Fastify adapter.';

export const badModuleConcurrency = (value: unknown) =>
  `concurrency must be a concurrency limit such as { limit: 10 } or { limit: 100, scope: 'api' }, got ${describe(value)}.`;
