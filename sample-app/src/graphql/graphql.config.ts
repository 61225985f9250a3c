import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { GraphQLModule } from '@nestjs/graphql';
import { Rampart } from 'nest-rampart';
import { rampartGraphql } from 'nest-rampart/graphql';

/**
 * GraphQL at `/graphql` (Apollo on Express, code first). Resolvers are limited by the global guard
 * like routes; `rampartGraphql` adds what a guard cannot do from inside a resolver: operations too
 * deep or too complex are refused before they run.
 */
export const SampleGraphqlModule = GraphQLModule.forRootAsync<ApolloDriverConfig>({
  driver: ApolloDriver,
  inject: [Rampart],
  useFactory: (rampart: Rampart) => {
    const limits = rampartGraphql(rampart, { maxDepth: 5, maxComplexity: 50 });
    return { autoSchemaFile: true, graphiql: false, includeStacktraceInErrorResponses: false, plugins: [limits.apolloPlugin()] };
  },
});
