/**
 * Apollo Server on Express: what `@as-integrations/express5` (the package `@nestjs/apollo` loads for
 * Express) provides, in a few lines, for this repository, which does not install that package. An
 * app installs `@as-integrations/express5` and needs none of this.
 */
import { HeaderMap, type ApolloServer, type BaseContext, type ContextFunction } from '@apollo/server';
import type { IncomingMessage, ServerResponse } from 'node:http';

type Request = IncomingMessage & { body?: unknown };
type Response = ServerResponse;
type Next = (error?: unknown) => void;

export interface ExpressContextFunctionArgument {
  req: Request;
  res: Response;
}

/** An Express handler that answers GraphQL requests with `server` (started), as `@as-integrations/express5` does. */
export function expressMiddleware<C extends BaseContext>(
  server: ApolloServer<C>,
  options?: { context?: ContextFunction<[ExpressContextFunctionArgument], C> },
): (req: Request, res: Response, next: Next) => void {
  server.assertStarted('expressMiddleware()');
  const context = options?.context ?? (async () => ({}) as C);
  return (req, res, next) => {
    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const url = req.url ?? '';
    const query = url.indexOf('?');
    server
      .executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: (req.method ?? 'GET').toUpperCase(), headers, search: query < 0 ? '' : url.slice(query), body: req.body },
        context: () => context({ req, res }),
      })
      .then(async (response) => {
        for (const [name, value] of response.headers) res.setHeader(name, value);
        res.statusCode = response.status ?? 200;
        if (response.body.kind === 'complete') {
          res.end(response.body.string);
          return;
        }
        for await (const chunk of response.body.asyncIterator) res.write(chunk);
        res.end();
      })
      .catch(next);
  };
}

/**
 * Has `@nestjs/apollo` serve Express through `expressMiddleware` above when
 * `@as-integrations/express5` is not installed (Nest loads a package once and keeps it by name).
 * Call it before the GraphQL module starts: in its `useFactory`.
 */
export async function provideApolloExpressIntegration(): Promise<void> {
  const { loadPackage, tryLoadPackage } = await import('@nestjs/common/utils/load-package.util.js');
  if (await tryLoadPackage('@as-integrations/express5')) return;
  await loadPackage('@as-integrations/express5', 'GraphQLModule', async () => ({ expressMiddleware }));
}
