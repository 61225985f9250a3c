import { Extensions } from '@nestjs/graphql';

/** Where `@Cost` keeps a field's cost, in the field's `extensions` of the generated schema. */
export const COST_EXTENSION = 'rampartCost';

/** A field's cost in a query's complexity. */
export interface CostOptions {
  /** Units the field costs, besides the fields selected under it. At least 0. */
  readonly value: number;
  /**
   * Arguments whose value multiplies the cost of the field and of everything selected under it: a
   * number (at least 1) or a list (its length). An argument left out counts by its default in the
   * schema, else 1. @example ['first', 'last']
   */
  readonly multipliers?: readonly string[];
}

/**
 * Sets the cost of a field in the complexity of the operations that select it (see
 * `rampartGraphql`'s `maxComplexity` and `budget`): on a `@Query`, `@Mutation`, `@Subscription` or
 * `@ResolveField` method, or on an `@ObjectType`'s `@Field`. A field without it costs
 * `defaultFieldCost` (1), or its `complexity` when `@Field({ complexity })` gives a number. Code-first
 * schemas only; schema-first apps give `fieldCosts` instead.
 *
 * @example
 * @Cost({ value: 2, multipliers: ['first'] })        // posts(first: 50) { title } costs (2 + 1) × 50
 * @Query(() => [Post]) posts(@Args('first', { type: () => Int, defaultValue: 10 }) first: number) {}
 *
 * @example
 * @Cost(10) @ResolveField() recommendations() {}
 */
export const Cost = (cost: number | CostOptions) =>
  Extensions({
    [COST_EXTENSION]: typeof cost === 'number' ? { value: cost, multipliers: [] } : { value: cost.value, multipliers: [...(cost.multipliers ?? [])] },
  });
