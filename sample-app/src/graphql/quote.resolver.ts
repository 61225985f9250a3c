import { Args, Int, Query, Resolver } from '@nestjs/graphql';
import { Throttle } from 'nest-rampart';
import { Cost } from 'nest-rampart/graphql';

const QUOTES = ['Slow is smooth, smooth is fast.', 'Make it work, make it right, make it fast.', 'Measure twice, cut once.'];

/**
 * The GraphQL side of the sample app. `quote` is limited like a route, keyed `Query.quote`: the
 * module's default rule, with 3 queries per minute instead of 10. `quotes` costs its `count` (see
 * `rampartGraphql`'s `maxComplexity`).
 */
@Resolver()
export class QuoteResolver {
  @Throttle({ limit: 3 })
  @Query(() => String, { nullable: true, description: 'A quote; 3 per minute per client.' })
  quote(): string {
    return QUOTES[Math.floor(Math.random() * QUOTES.length)] as string;
  }

  @Cost({ value: 1, multipliers: ['count'] })
  @Query(() => [String], { description: 'Several quotes; each counts towards the complexity.' })
  quotes(@Args('count', { type: () => Int, defaultValue: 1 }) count: number): string[] {
    return Array.from({ length: Math.max(0, Math.min(count, 100)) }, (_, i) => QUOTES[i % QUOTES.length] as string);
  }
}
