/** A GraphQL response over HTTP: its status, headers and body. */
export interface GraphqlResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: { data?: Record<string, unknown> | null; errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[] };
}

/** POSTs one operation to `url` (as JSON), with extra request headers. */
export async function gql(url: string, query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}): Promise<GraphqlResponse> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, ...(variables ? { variables } : {}) }),
  });
  const text = await response.text();
  let body: GraphqlResponse['body'];
  try {
    body = JSON.parse(text) as GraphqlResponse['body'];
  } catch {
    throw new Error(`not JSON (${response.status}): ${text.slice(0, 200)}`);
  }
  return { status: response.status, headers: response.headers, body };
}

/** The extensions of each error, by its path (`posts.0.comments`), `(operation)` for one without a path. */
export function errorsByPath(body: GraphqlResponse['body']): Record<string, Record<string, unknown> | undefined> {
  const out: Record<string, Record<string, unknown> | undefined> = {};
  for (const error of body.errors ?? []) out[error.path?.join('.') ?? '(operation)'] = error.extensions;
  return out;
}
