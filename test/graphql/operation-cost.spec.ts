import { buildSchema, getIntrospectionQuery, Kind, OperationTypeNode, parse, type DocumentNode, type FieldNode } from 'graphql';
import { GraphqlLimits } from '../../lib/graphql/graphql-limits.js';
import { resolveGraphqlOptions, type RampartGraphqlOptions } from '../../lib/graphql/rampart-graphql-options.js';

const schema = buildSchema(`
  type Query { posts(first: Int = 10, ids: [Int]): [Post] hello: String node: Node }
  interface Node { id: Int }
  type Post implements Node { id: Int title: String comments(limit: Int): [Comment] author: User }
  type Comment { text: String author: User }
  type User { name: String friends: [User] }
`);

/** The checks of `rampartGraphql` on this schema, without an engine (no budget). */
function limitsOf(options: RampartGraphqlOptions = {}): GraphqlLimits {
  const problems: string[] = [];
  const config = resolveGraphqlOptions(
    {
      maxDepth: 50,
      maxComplexity: 1_000_000,
      fieldCosts: { 'Query.posts': { value: 2, multipliers: ['first', 'ids'] }, 'Post.comments': { value: 1, multipliers: ['limit'] } },
      ...options,
    },
    problems,
  );
  expect(problems).toEqual([]);
  return new GraphqlLimits(undefined as never, config);
}

const check = (query: string, variables?: unknown, options?: RampartGraphqlOptions, operationName?: string) =>
  limitsOf(options).checkOperation(schema, parse(query), operationName, variables);

describe('operation depth and complexity', () => {
  it('sums each field with what it selects, times its multipliers', () => {
    // posts: (2 + id 1 + title 1) × first 3 = 12; hello: 1.
    expect(check('{ posts(first: 3) { id title } hello }')).toEqual({ complexity: 13, kind: 'query' });
    // The schema's default for first (10), and comments (1 + text 1) × limit 4 under each post.
    expect(check('{ posts { comments(limit: 4) { text } } }')).toEqual({ complexity: (2 + (1 + 1) * 4) * 10, kind: 'query' });
  });

  it("reads multipliers from variables, the operation's variable defaults, and list lengths", () => {
    expect(check('query($n: Int) { posts(first: $n) { id } }', { n: 7 })).toMatchObject({ complexity: 3 * 7 });
    expect(check('query($n: Int = 5) { posts(first: $n) { id } }')).toMatchObject({ complexity: 3 * 5 });
    expect(check('{ posts(first: 1, ids: [1, 2, 3, 4]) { id } }')).toMatchObject({ complexity: 3 * 4 });
    expect(check('query($ids: [Int]) { posts(first: 2, ids: $ids) { id } }', { ids: [1, 2, 3] })).toMatchObject({ complexity: 3 * 6 });
  });

  it('counts a hostile multiplier as what it is: huge is refused, negative, fractional or not a number counts as 1 or rounds up', () => {
    expect(check('{ posts(first: 1000000000000) { id } }', undefined, { maxComplexity: 1_000 })).toMatchObject({
      refusal: { status: 400, extensions: { code: 'QUERY_TOO_COMPLEX', limit: 1_000, actual: 3_000_000_000_000 } },
    });
    expect(check('{ posts(first: -5) { id } }')).toMatchObject({ complexity: 3 });
    expect(check('query($n: Int) { posts(first: $n) { id } }', { n: 'many' })).toMatchObject({ complexity: 3 });
    expect(check('query($n: Int) { posts(first: $n) { id } }', { n: 2.5 })).toMatchObject({ complexity: 9 });
    expect(check('query($n: Int) { posts(first: $n) { id } }', ['not', 'an', 'object'])).toMatchObject({ complexity: 30 });
  });

  it('counts every alias and every spread of a fragment', () => {
    expect(check('{ a: hello b: hello c: hello }')).toMatchObject({ complexity: 3 });
    expect(check('{ ...F ...F } fragment F on Query { hello posts(first: 1) { id } }')).toMatchObject({ complexity: 2 * (1 + 3) });
    expect(check('{ node { id ... on Post { title comments(limit: 2) { text } } } }')).toMatchObject({ complexity: 1 + 1 + 1 + (1 + 1) * 2 });
  });

  it('costs a doubling chain of fragments in time linear in the document, and refuses its exponential complexity', () => {
    const chain = Array.from({ length: 60 }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`).join(' ');
    const started = performance.now();
    const result = check(`{ ...F0 } ${chain} fragment F60 on Query { hello }`, undefined, { maxComplexity: 1_000 });
    expect(performance.now() - started).toBeLessThan(250);
    expect(result).toMatchObject({ refusal: { extensions: { code: 'QUERY_TOO_COMPLEX', actual: Number.MAX_SAFE_INTEGER } } });
  });

  it('terminates on a fragment cycle (validation refuses it; the walk must not loop)', () => {
    expect(check('{ ...A } fragment A on Query { hello ...B } fragment B on Query { ...A }')).toMatchObject({ complexity: 1 });
  });

  it('measures depth from the root fields (1), through fragments, and stops at the first field too deep', () => {
    expect(check('{ posts { comments { author { name } } } }', undefined, { maxDepth: 4 })).toMatchObject({ complexity: expect.any(Number) });
    expect(check('{ posts { comments { author { friends { name } } } } }', undefined, { maxDepth: 4 })).toEqual({
      refusal: {
        status: 400,
        message: 'The GraphQL operation nests fields more than 4 levels deep; at most 4 are accepted. Select fewer levels of nested fields.',
        extensions: { code: 'QUERY_TOO_DEEP', limit: 4, actual: 5 },
      },
    });
    // A fragment costed shallow, spread again deeper, is measured where it is spread.
    const reused = '{ posts { author { ...U } } node { ... on Post { comments { author { ...U } } } } } fragment U on User { friends { name } }';
    expect(check(reused, undefined, { maxDepth: 5 })).toMatchObject({ complexity: expect.any(Number) });
    expect(check(reused, undefined, { maxDepth: 4 })).toMatchObject({ refusal: { extensions: { code: 'QUERY_TOO_DEEP' } } });
  });

  it('walks a document nested 50 000 levels deep without exhausting the stack', () => {
    // Deeper than graphql-js's parser can read (it recurses): the document is built as a tree.
    let selection: FieldNode = { kind: Kind.FIELD, name: { kind: Kind.NAME, value: 'name' } };
    for (let i = 0; i < 25_000; i++) {
      for (const name of ['friends', 'author'])
        selection = { kind: Kind.FIELD, name: { kind: Kind.NAME, value: name }, selectionSet: { kind: Kind.SELECTION_SET, selections: [selection] } };
    }
    const document: DocumentNode = {
      kind: Kind.DOCUMENT,
      definitions: [
        {
          kind: Kind.OPERATION_DEFINITION,
          operation: OperationTypeNode.QUERY,
          selectionSet: { kind: Kind.SELECTION_SET, selections: [{ ...selection, name: { kind: Kind.NAME, value: 'node' } }] },
        },
      ],
    };
    expect(limitsOf({ maxDepth: 10 }).checkOperation(schema, document, undefined, undefined)).toMatchObject({
      refusal: { extensions: { code: 'QUERY_TOO_DEEP', actual: 11 } },
    });
    expect(limitsOf({ maxDepth: 100_000 }).checkOperation(schema, document, undefined, undefined)).toMatchObject({ complexity: 50_001 });
  });

  it('counts introspection like any field, its depth against maxIntrospectionDepth', () => {
    expect(check('{ __schema { types { name fields { name } } } }')).toMatchObject({ complexity: 5 });
    const deep = '{ __type(name: "Post") { fields { type { ofType { ofType { name } } } } } }';
    expect(check(deep, undefined, { maxDepth: 4, maxIntrospectionDepth: 6 })).toMatchObject({ complexity: 6 });
    expect(check(deep, undefined, { maxDepth: 10, maxIntrospectionDepth: 5 })).toMatchObject({
      refusal: { extensions: { code: 'QUERY_TOO_DEEP', limit: 5, actual: 6 } },
    });
    // The standard introspection query needs 15; data fields keep maxDepth.
    expect(check(getIntrospectionQuery(), undefined, { maxDepth: 10 })).toMatchObject({ complexity: expect.any(Number) });
    expect(check(getIntrospectionQuery(), undefined, { maxIntrospectionDepth: 14 })).toMatchObject({ refusal: { extensions: { code: 'QUERY_TOO_DEEP' } } });
    expect(check('{ posts { author { friends { friends { name } } } } }', undefined, { maxDepth: 4 })).toMatchObject({
      refusal: { extensions: { code: 'QUERY_TOO_DEEP', limit: 4 } },
    });
  });

  it('takes the named operation, or the most complex of several when none is named', () => {
    const document = 'query Small { hello } query Big { posts(first: 5) { id } }';
    expect(check(document, undefined, undefined, 'Small')).toMatchObject({ complexity: 1 });
    expect(check(document)).toMatchObject({ complexity: 15 });
  });

  it('refuses a document longer than maxDocumentLength before it is parsed', () => {
    const limits = limitsOf({ maxDocumentLength: 20 });
    expect(limits.checkSource('{ hello }')).toBeUndefined();
    expect(limits.checkSource(`{ ${'hello '.repeat(10)}}`)).toMatchObject({ status: 400, extensions: { code: 'QUERY_TOO_LARGE', limit: 20, actual: 63 } });
  });

  it('reports every misconfiguration at once', () => {
    const problems: string[] = [];
    resolveGraphqlOptions(
      {
        maxDepth: 0,
        maxComplexity: 1.5,
        fieldCosts: { 'Query.a': -1, 'Query.b': { value: 1, multipliers: 'first' as never } },
        budget: { limit: 0, windowMs: 1 },
      },
      problems,
    );
    expect(problems).toEqual([
      "rampartGraphql.fieldCosts['Query.a'] must be a number of 0 or more, or { value, multipliers } with such a value, got -1.",
      'rampartGraphql.fieldCosts[\'Query.b\'].multipliers must be a list of argument names, got "first".',
      'rampartGraphql.budget.limit must be a positive integer, got 0.',
      'rampartGraphql.maxDepth must be a positive integer, got 0.',
      'rampartGraphql.maxComplexity must be a positive integer, got 1.5.',
    ]);
  });
});
