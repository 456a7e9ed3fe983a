import {
  getNamedType,
  isCompositeType,
  isInterfaceType,
  isObjectType,
  Kind,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from "graphql";

/** A field's arguments as the request gives them (literals and variables; lists and objects left out). */
export type ArgumentValues = Readonly<Record<string, string | number | boolean | null | undefined>>;

/**
 * Extra weight of fields whose work grows with an argument rather than with
 * what they return (`Mutation.generateCodes` writes `count` codes), keyed by
 * `Type.field`. Only the rate limit charges it; the node limit counts what a
 * response may hold.
 */
export type FieldWeights = Readonly<Record<string, (args: ArgumentValues) => number>>;

export interface CostOptions {
  /** Items a paged field (one with a `first` argument) is counted for when `first` is absent: svc-identity's default page. */
  defaultPageSize?: number;
  /** The most items `first` is counted for: svc-identity's largest page. */
  maxPageSize?: number;
  /** Nested pages multiply; the product stops here, so a deep document cannot overflow. */
  maxMultiplier?: number;
  /** A document never costs more than this. */
  maxCost?: number;
  /** Work that grows with an argument (see FieldWeights). */
  weights?: FieldWeights;
}

interface Walk {
  schema: GraphQLSchema;
  fragments: Map<string, FragmentDefinitionNode>;
  variables: Readonly<Record<string, unknown>>;
  defaultPageSize: number;
  maxPageSize: number;
  maxMultiplier: number;
  maxCost: number;
  weights: FieldWeights;
}

/**
 * The rate-limit weight of one operation of a validated document: 1 per field
 * selected, times the items it is selected for. A paged field (it takes
 * `first`) multiplies what is selected inside it by `first` (a literal or a
 * variable), or by the default page size; other lists count once. Both
 * branches of a fragment on an abstract type are counted, and `@skip` and
 * `@include` are ignored, so the weight is an upper bound.
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName?: string | null,
  variables: Readonly<Record<string, unknown>> = {},
  options: CostOptions = {},
): number {
  const { defaultPageSize = 50, maxPageSize = 200, maxMultiplier = 10_000, maxCost = 100_000, weights = {} } = options;
  const fragments = new Map<string, FragmentDefinitionNode>();
  let operation: OperationDefinitionNode | undefined;
  for (const def of document.definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
    else if (def.kind === Kind.OPERATION_DEFINITION && (!operationName || def.name?.value === operationName)) operation ??= def;
  }
  if (!operation) return 1;
  const root = schema.getRootType(operation.operation);
  if (!root) return 1;
  const walk: Walk = { schema, fragments, variables, defaultPageSize, maxPageSize, maxMultiplier, maxCost, weights };
  return Math.max(1, selectionCost(walk, operation.selectionSet, root, 1));
}

function selectionCost(walk: Walk, set: SelectionSetNode, parent: GraphQLCompositeType, multiplier: number): number {
  let total = 0;
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      total += multiplier;
      const weight = walk.weights[`${parent.name}.${selection.name.value}`];
      if (weight) total += multiplier * Math.max(0, weight(argumentValues(walk, selection)));
      if (selection.selectionSet) {
        const field = fieldOf(walk.schema, parent, selection.name.value);
        const type = field && getNamedType(field.type);
        if (field && type && isCompositeType(type)) {
          const items = field.args.some((a) => a.name === "first") ? pageSize(walk, selection) : 1;
          total += selectionCost(walk, selection.selectionSet, type, Math.min(multiplier * items, walk.maxMultiplier));
        }
      }
    } else {
      const fragment = selection.kind === Kind.INLINE_FRAGMENT ? selection : walk.fragments.get(selection.name.value);
      if (!fragment) continue;
      const condition = fragment.typeCondition && walk.schema.getType(fragment.typeCondition.name.value);
      const type = condition && isCompositeType(condition) ? condition : parent;
      total += selectionCost(walk, fragment.selectionSet, type, multiplier);
    }
    if (total >= walk.maxCost) return walk.maxCost;
  }
  return total;
}

function fieldOf(schema: GraphQLSchema, parent: GraphQLCompositeType, name: string): GraphQLField<unknown, unknown> | undefined {
  if (parent === schema.getQueryType()) {
    if (name === SchemaMetaFieldDef.name) return SchemaMetaFieldDef;
    if (name === TypeMetaFieldDef.name) return TypeMetaFieldDef;
  }
  return isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
}

function scalarValue(walk: Walk, value: ValueNode): ArgumentValues[string] {
  switch (value.kind) {
    case Kind.INT:
    case Kind.FLOAT:
      return Number(value.value);
    case Kind.STRING:
    case Kind.ENUM:
      return value.value;
    case Kind.BOOLEAN:
      return value.value;
    case Kind.VARIABLE: {
      const v = walk.variables[value.name.value];
      return typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? v : undefined;
    }
    default:
      return undefined;
  }
}

function argumentValues(walk: Walk, field: FieldNode): ArgumentValues {
  return Object.fromEntries((field.arguments ?? []).map((a) => [a.name.value, scalarValue(walk, a.value)]));
}

function pageSize(walk: Walk, field: FieldNode): number {
  const arg = field.arguments?.find((a) => a.name.value === "first")?.value;
  let first: unknown;
  if (arg?.kind === Kind.INT) first = Number(arg.value);
  else if (arg?.kind === Kind.VARIABLE) first = walk.variables[arg.name.value];
  return typeof first === "number" && Number.isInteger(first) && first > 0 ? Math.min(first, walk.maxPageSize) : walk.defaultPageSize;
}
