import {
  getNamedType,
  isInterfaceType,
  isObjectType,
  Kind,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  TypeNameMetaFieldDef,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionNode,
  type ValueNode,
} from 'graphql';

/** What one field costs: `value` units, times the product of the arguments named by `multipliers`. */
export interface FieldCost {
  readonly value: number;
  readonly multipliers: readonly string[];
}

/** How deep and how complex an operation is. */
export interface OperationCost {
  /** The deepest field, root fields being at depth 1 (at least `maxDepth + 1` when `tooDeep`). */
  readonly depth: number;
  /** The sum over fields of `(cost + cost of the fields below) × multipliers` (partial when `tooDeep`). */
  readonly complexity: number;
  /** The walk stopped at a field deeper than `maxDepth` (or `maxIntrospectionDepth`). */
  readonly tooDeep: boolean;
  /** The depth that was exceeded, when `tooDeep`. */
  readonly limit?: number;
}

/** What `operationCost` needs besides the operation. */
export interface CostContext {
  readonly schema: GraphQLSchema;
  readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  readonly variables: Readonly<Record<string, unknown>> | undefined;
  readonly maxDepth: number;
  /** The depth allowed under `__schema` and `__type` (introspection), counted from the root. */
  readonly maxIntrospectionDepth: number;
  /** The cost of a field of the schema. */
  readonly costOf: (parent: GraphQLNamedType, field: GraphQLField<unknown, unknown>) => FieldCost;
  /** The cost of a field the schema does not know (validation reports it; until then it is counted). */
  readonly unknownCost: FieldCost;
}

/** How a finished selection set adds to the one it belongs to. */
type Fold = { readonly kind: 'field'; readonly cost: number; readonly multiplier: number } | { readonly kind: 'fragment'; readonly name?: string };

interface Frame {
  readonly selections: readonly SelectionNode[];
  /** The type these selections are made on; undefined when unknown. */
  readonly type: GraphQLNamedType | undefined;
  /** The depth of the fields of this selection set. */
  readonly level: number;
  /** The deepest a field may be here: `maxDepth`, or `maxIntrospectionDepth` under introspection. */
  readonly limit: number;
  readonly fold: Fold;
  index: number;
  complexity: number;
  /** The deepest field met below (absolute), `level - 1` when none. */
  depth: number;
}

/** A fragment's cost, its depth relative to where it is spread (1: its fields are at the spread's level). */
interface FragmentCost {
  readonly complexity: number;
  readonly depth: number;
}

const IN_PROGRESS: FragmentCost = Object.freeze({ complexity: 0, depth: 0 });

/**
 * The depth and complexity of one operation, in one walk over its selections: each named fragment is
 * costed once (a cycle, which validation refuses anyway, counts nothing the second time round), and
 * the walk keeps its own stack, so that a deeply nested document cannot exhaust the call stack. It
 * stops at the first field deeper than `maxDepth` (`maxIntrospectionDepth` under a root `__schema`
 * or `__type`). Linear in the size of the document.
 */
export function operationCost(operation: OperationDefinitionNode, context: CostContext): OperationCost {
  const { schema, fragments, maxDepth } = context;
  const given = context.variables;
  const variables = withDefaults(operation, typeof given === 'object' && given !== null && !Array.isArray(given) ? given : undefined);
  const memo = new Map<string, FragmentCost>();
  const rootType =
    operation.operation === 'query' ? schema.getQueryType() : operation.operation === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
  const root: Frame = frame(operation.selectionSet.selections, rootType ?? undefined, 1, maxDepth, { kind: 'fragment' });
  const stack: Frame[] = [root];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top.index >= top.selections.length) {
      stack.pop();
      const parent = stack[stack.length - 1];
      if (top.fold.kind === 'fragment' && top.fold.name !== undefined) {
        memo.set(top.fold.name, { complexity: top.complexity, depth: top.depth - top.level + 1 });
      }
      if (parent) fold(parent, top);
      continue;
    }
    const selection = top.selections[top.index++];
    if (selection.kind === Kind.FIELD) {
      if (top.level > top.limit) return tooDeep(top, root);
      const { cost, field, childType } = fieldCost(selection, top.type, context);
      const multiplier = cost.multipliers.length === 0 ? 1 : multiplierOf(selection, cost.multipliers, field, variables);
      top.depth = Math.max(top.depth, top.level);
      if (selection.selectionSet === undefined || selection.selectionSet.selections.length === 0) top.complexity += cost.value * multiplier;
      else {
        const introspection = top.level === 1 && (field === SchemaMetaFieldDef || field === TypeMetaFieldDef);
        const limit = introspection ? context.maxIntrospectionDepth : top.limit;
        stack.push(frame(selection.selectionSet.selections, childType, top.level + 1, limit, { kind: 'field', cost: cost.value, multiplier }));
      }
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : top.type;
      stack.push(frame(selection.selectionSet.selections, type ?? undefined, top.level, top.limit, { kind: 'fragment' }));
    } else {
      const name = selection.name.value;
      const known = memo.get(name);
      if (known !== undefined) {
        top.complexity += known.complexity;
        if (known.depth > 0) {
          const depth = top.level + known.depth - 1;
          if (depth > top.limit) return { depth, limit: top.limit, complexity: root.complexity, tooDeep: true };
          top.depth = Math.max(top.depth, depth);
        }
        continue;
      }
      const definition = fragments.get(name);
      if (definition === undefined) continue;
      memo.set(name, IN_PROGRESS);
      const type = schema.getType(definition.typeCondition.name.value);
      stack.push(frame(definition.selectionSet.selections, type ?? undefined, top.level, top.limit, { kind: 'fragment', name }));
    }
  }
  return { depth: root.depth, complexity: root.complexity, tooDeep: false };
}

function frame(selections: readonly SelectionNode[], type: GraphQLNamedType | undefined, level: number, limit: number, fold: Fold): Frame {
  return { selections, type, level, limit, fold, index: 0, complexity: 0, depth: level - 1 };
}

function tooDeep(top: Frame, root: Frame): OperationCost {
  return { depth: top.level, limit: top.limit, complexity: root.complexity, tooDeep: true };
}

/** Adds a finished selection set to the one it belongs to. */
function fold(parent: Frame, child: Frame): void {
  parent.depth = Math.max(parent.depth, child.depth);
  parent.complexity += child.fold.kind === 'field' ? (child.fold.cost + child.complexity) * child.fold.multiplier : child.complexity;
}

interface FieldFound {
  readonly cost: FieldCost;
  readonly field?: GraphQLField<unknown, unknown>;
  readonly childType: GraphQLNamedType | undefined;
}

function fieldCost(node: FieldNode, parent: GraphQLNamedType | undefined, context: CostContext): FieldFound {
  const name = node.name.value;
  let field: GraphQLField<unknown, unknown> | undefined;
  if (name === '__typename') field = TypeNameMetaFieldDef;
  else if (name === '__schema' && parent === context.schema.getQueryType()) field = SchemaMetaFieldDef;
  else if (name === '__type' && parent === context.schema.getQueryType()) field = TypeMetaFieldDef;
  else if (parent && (isObjectType(parent) || isInterfaceType(parent))) field = parent.getFields()[name];
  if (field === undefined || parent === undefined) return { cost: context.unknownCost, childType: undefined };
  return { cost: context.costOf(parent, field), field, childType: getNamedType(field.type) };
}

/**
 * The product of the multiplier arguments, each a number (at least 1) or a list's length: as given,
 * else the argument's default in the schema, else 1.
 */
function multiplierOf(node: FieldNode, names: readonly string[], field: GraphQLField<unknown, unknown> | undefined, variables: Variables): number {
  let product = 1;
  for (const name of names) {
    const argument = node.arguments?.find((a) => a.name.value === name);
    const given = argument ? valueOf(argument.value, variables) : undefined;
    product *= countOf(given !== undefined ? given : field?.args.find((a) => a.name === name)?.defaultValue);
  }
  return product;
}

type Variables = Readonly<Record<string, unknown>> | undefined;

/** The request's variables, with the operation's defaults for those it does not give. */
function withDefaults(operation: OperationDefinitionNode, variables: Variables): Variables {
  const defaults = operation.variableDefinitions?.filter(
    (d) => d.defaultValue !== undefined && (variables === undefined || variables[d.variable.name.value] === undefined),
  );
  if (!defaults || defaults.length === 0) return variables;
  const merged: Record<string, unknown> = { ...variables };
  for (const d of defaults) merged[d.variable.name.value] = valueOf(d.defaultValue as ValueNode, undefined);
  return merged;
}

function valueOf(node: ValueNode, variables: Variables): unknown {
  switch (node.kind) {
    case Kind.INT:
    case Kind.FLOAT:
      return Number(node.value);
    case Kind.LIST:
      return node.values;
    case Kind.VARIABLE:
      return variables !== undefined && Object.hasOwn(variables, node.name.value) ? variables[node.name.value] : undefined;
    default:
      return undefined;
  }
}

function countOf(value: unknown): number {
  if (Array.isArray(value)) return Math.max(1, value.length);
  if (typeof value === 'number' && Number.isFinite(value)) return Math.max(1, Math.ceil(value));
  return 1;
}

/** The operation a request names (or its only one), with the document's fragments by name. */
export function selectOperation(
  document: DocumentNode,
  operationName: string | null | undefined,
): { operation: OperationDefinitionNode | undefined; fragments: Map<string, FragmentDefinitionNode> } {
  const fragments = new Map<string, FragmentDefinitionNode>();
  let operation: OperationDefinitionNode | undefined;
  let operations = 0;
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    else if (definition.kind === Kind.OPERATION_DEFINITION) {
      operations++;
      if (operationName ? definition.name?.value === operationName : operation === undefined) operation = definition;
    }
  }
  if (!operationName && operations > 1) operation = undefined;
  return { operation, fragments };
}
