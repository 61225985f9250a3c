import type { INestApplication, Type } from '@nestjs/common';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Args, createUnionType, Field, GraphQLModule, Int, Mutation, ObjectType, Parent, Query, ResolveField, Resolver, Subscription } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Rampart, RateLimitModule, SkipThrottle, Throttle, type RateLimitModuleOptions } from '../../lib/index.js';
import { Cost, rampartGraphql, type RampartGraphqlOptions } from '../../lib/graphql/index.js';

@ObjectType()
export class Comment {
  @Field() text!: string;
}

@ObjectType()
export class Post {
  @Field(() => Int) id!: number;
  @Field() title!: string;
}

@ObjectType()
export class Video {
  @Field(() => Int) seconds!: number;
}

/** A union whose members both have `comments`: at one response path, under different rules. */
export const FeedItem = createUnionType({
  name: 'FeedItem',
  types: () => [Post, Video] as const,
  resolveType: (value: object) => ('seconds' in value ? Video : Post),
});

/** Payloads a test pushes to every open subscription of one field: one payload object, shared by them all. */
export class PayloadSource<T> {
  private readonly listeners = new Set<(payload: T) => void>();
  get subscribers(): number {
    return this.listeners.size;
  }
  push(payload: T): void {
    for (const listener of this.listeners) listener(payload);
  }
  iterator(): AsyncIterableIterator<T> {
    const queue: T[] = [];
    let wake: (() => void) | undefined;
    const listener = (payload: T) => {
      queue.push(payload);
      wake?.();
    };
    this.listeners.add(listener);
    const listeners = this.listeners;
    return (async function* () {
      try {
        for (;;) {
          while (queue.length > 0) yield queue.shift() as T;
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
      } finally {
        listeners.delete(listener);
      }
    })();
  }
}

/** Events a test pushes to every open `ticks` subscription. */
export class TickSource extends PayloadSource<{ ticks: number }> {
  emit(value: number): void {
    this.push({ ticks: value });
  }
}

export const ticks = new TickSource();

/** Posts a test publishes to every open `postAdded` subscription. */
export class PostSource extends PayloadSource<{ postAdded: Post }> {
  emit(post: Post): void {
    this.push({ postAdded: post });
  }
}

export const posts = new PostSource();

/** Under the module's rule (3 a minute) unless a decorator says otherwise. */
@Resolver(() => Post)
export class PostResolver {
  @Cost({ value: 1, multipliers: ['first'] })
  @Query(() => [Post])
  posts(@Args('first', { type: () => Int, defaultValue: 3 }) first: number): Post[] {
    return Array.from({ length: Math.min(first, 50) }, (_, i) => ({ id: i + 1, title: `post ${i + 1}` }));
  }

  @Query(() => String, { nullable: true })
  hello(): string {
    return 'hi';
  }

  @Throttle({ limit: 1 })
  @Query(() => String, { nullable: true })
  once(): string {
    return 'once';
  }

  @SkipThrottle()
  @Query(() => String)
  free(): string {
    return 'free';
  }

  @Mutation(() => Post, { nullable: true })
  createPost(@Args('title') title: string): Post {
    return { id: 99, title };
  }

  @Throttle({ limit: 2 })
  @Cost(5)
  @ResolveField(() => [Comment], { nullable: true })
  comments(@Parent() post: Post): Comment[] {
    return [{ text: `on ${post.id}` }];
  }

  @Throttle({ limit: 2 })
  @Subscription(() => Int, { nullable: true })
  ticks(): AsyncIterableIterator<{ ticks: number }> {
    return ticks.iterator();
  }

  /** Not counted itself: its events' `comments` are. */
  @SkipThrottle()
  @Subscription(() => Post, { nullable: true })
  postAdded(): AsyncIterableIterator<{ postAdded: Post }> {
    return posts.iterator();
  }
}

/** A video's comments: lenient, unlike a post's (2 a minute). */
@Resolver(() => Video)
export class VideoResolver {
  @SkipThrottle()
  @Query(() => [FeedItem])
  feed(): Array<Post | Video> {
    return [{ seconds: 30 }, { id: 1, title: 'post 1' }, { id: 2, title: 'post 2' }];
  }

  @Throttle({ limit: 100 })
  @ResolveField(() => [Comment], { nullable: true })
  comments(@Parent() video: Video): Comment[] {
    return [{ text: `on video ${video.seconds}` }];
  }
}

/** A resolver whose class carries the rule: every field of it counts 2 a minute. */
@Throttle({ limit: 2 })
@Resolver()
export class StatsResolver {
  @Query(() => Int, { nullable: true })
  visits(): number {
    return 7;
  }
}

export type GraphqlDriverName = 'apollo' | 'mercurius';
export const GRAPHQL_DRIVERS: GraphqlDriverName[] = ['apollo', 'mercurius'];

export interface GraphqlTestApp {
  readonly app: INestApplication;
  readonly port: number;
  readonly url: string;
  readonly wsUrl: string;
  close(): Promise<void>;
}

const rule = { limit: 3, windowMs: 60_000, algorithm: 'fixed-window' as const };
const quiet = { log() {}, warn() {}, error() {} };

/** The resolvers on `driver` (Apollo on Express, Mercurius on Fastify), listening on loopback. */
export async function startGraphqlApp(
  driver: GraphqlDriverName,
  options: RateLimitModuleOptions = {},
  limits: RampartGraphqlOptions = {},
  resolvers: Type[] = [],
): Promise<GraphqlTestApp> {
  const graphql =
    driver === 'apollo'
      ? GraphQLModule.forRootAsync<ApolloDriverConfig>({
          driver: ApolloDriver,
          inject: [Rampart],
          useFactory: (rampart: Rampart) => {
            const guards = rampartGraphql(rampart, limits);
            return {
              autoSchemaFile: true,
              graphiql: false,
              includeStacktraceInErrorResponses: false,
              fieldResolverEnhancers: ['guards'],
              plugins: [guards.apolloPlugin()],
              subscriptions: { 'graphql-ws': guards.graphqlWs() },
            };
          },
        })
      : GraphQLModule.forRootAsync<MercuriusDriverConfig>({
          driver: MercuriusDriver,
          inject: [Rampart],
          useFactory: (rampart: Rampart) => {
            const guards = rampartGraphql(rampart, limits);
            return {
              autoSchemaFile: true,
              graphiql: false,
              fieldResolverEnhancers: ['guards'],
              hooks: guards.mercuriusHooks(),
              subscription: guards.mercuriusSubscription(),
            };
          },
        });
  const moduleRef = await Test.createTestingModule({
    imports: [RateLimitModule.forRoot({ rules: [rule], logger: quiet, ...options }), graphql],
    providers: [PostResolver, VideoResolver, StatsResolver, ...resolvers],
  }).compile();
  const app =
    driver === 'mercurius'
      ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false })
      : moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return {
    app,
    port,
    url: `http://127.0.0.1:${port}/graphql`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    close: () => app.close(),
  };
}
