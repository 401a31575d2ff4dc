import {
  GraphQLError,
  Kind,
  getOperationAST,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { MAX_PAGE_SIZE } from '../shared/pagination.js';

/** graphql-armor's cost weights, so limits sized for it keep their meaning. */
const OBJECT_COST = 2;
const SCALAR_COST = 1;
const DEPTH_FACTOR = 1.5;

type Variables = Readonly<Record<string, unknown>> | null | undefined;

/**
 * The cost of the operation that will run, computed as graphql-armor's cost limit does
 * (objects 2, scalars 1, ×1.5 per level, a list's subtree × its `first`/`last`), except that a
 * page size given as a variable counts like the same literal: armor only sees the document, so
 * `first: $n` cost what `first: 1` costs whatever `n` was. Sizes are taken as the API caps them
 * (100); an absent or unreadable size counts as 1, as in armor.
 */
export function queryCost(document: DocumentNode, operationName: string | null | undefined, variables: Variables): number {
  const operation = getOperationAST(document, operationName);
  if (!operation) return 0;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);

  const pageSize = (value: ValueNode): number => {
    let size: unknown;
    if (value.kind === Kind.INT) size = Number(value.value);
    else if (value.kind === Kind.VARIABLE) size = variables?.[value.name.value];
    return typeof size === 'number' && Number.isFinite(size) ? Math.min(Math.max(size, 1), MAX_PAGE_SIZE) : 1;
  };

  // Fragments count as if their fields were written in place. Validation has already refused
  // fragment cycles; `seen` only guards this walk.
  const fieldsCost = (selectionSet: SelectionSetNode, seen: ReadonlySet<string>): number => {
    let cost = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT) cost += fieldsCost(selection.selectionSet, seen);
      else if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(selection.name.value);
        if (fragment && !seen.has(fragment.name.value)) cost += fieldsCost(fragment.selectionSet, new Set([...seen, fragment.name.value]));
      } else if (selection.name.value !== '__schema') cost += fieldCost(selection, seen);
    }
    return cost;
  };
  const fieldCost = (field: FieldNode, seen: ReadonlySet<string>): number => {
    if (!field.selectionSet) return SCALAR_COST;
    const size = field.arguments?.find((arg) => arg.name.value === 'first' || arg.name.value === 'last');
    return (OBJECT_COST + DEPTH_FACTOR * fieldsCost(field.selectionSet, seen)) * (size ? pageSize(size.value) : 1);
  };
  return fieldsCost(operation.selectionSet, new Set());
}

const refusal = (maxCost: number, cost: number) =>
  new GraphQLError(`Query cost limit of ${maxCost} exceeded, found ${Math.round(cost)}.`, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });

/**
 * Refuses operations above `maxCost` once their variables are known (execute/subscribe), over
 * HTTP and WebSocket alike: both run Yoga's pipeline.
 */
export function queryCostPlugin(maxCost: number): Plugin {
  const check = (args: { document: DocumentNode; operationName?: string | null; variableValues?: Variables }) => {
    const cost = queryCost(args.document, args.operationName, args.variableValues);
    return cost > maxCost ? refusal(maxCost, cost) : null;
  };
  return {
    onExecute: ({ args, setResultAndStopExecution }) => {
      const error = check(args);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
    onSubscribe: ({ args, setResultAndStopExecution }) => {
      const error = check(args);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
  };
}
