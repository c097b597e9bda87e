import {
  Kind,
  execute,
  getOperationAST,
  visit,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLError,
  type GraphQLSchema,
  type ValueNode,
} from 'graphql';
import { payloadsRendered } from './live-metrics.js';

/** A subscription operation as a client sent it, ready to be executed against each event. */
export interface LiveOperation {
  schema: GraphQLSchema;
  document: DocumentNode;
  operationName: string | null | undefined;
  variableValues: Readonly<Record<string, unknown>> | null | undefined;
  contextValue: unknown;
  /** Equal for two operations exactly when they render the same event to the same payload. */
  shareKey: string;
}

/** What the client may see of an unexpected execution error (the server's error masking). */
export type MaskError = (error: GraphQLError) => { toJSON(): unknown };

/**
 * The key under which operations share rendered payloads. A subscription's root field resolves
 * to the event itself, so its arguments (device, path prefix, resume sequence) only choose which
 * events arrive, not how an event renders; every other part of the operation does (the text,
 * the operation chosen, variables used below the root field, e.g. in `@include`).
 */
export function operationShareKey(
  query: string,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Readonly<Record<string, unknown>> | null | undefined,
): string {
  const operation = getOperationAST(document, operationName);
  const rootArgumentUses = new Map<string, number>();
  for (const selection of operation?.selectionSet.selections ?? []) {
    if (selection.kind !== Kind.FIELD) continue;
    for (const argument of selection.arguments ?? []) countVariables(argument.value, rootArgumentUses);
  }
  const allUses = new Map<string, number>();
  visit(document, {
    VariableDefinition: () => false, // the declaration is not a use
    Variable: (node) => void allUses.set(node.name.value, (allUses.get(node.name.value) ?? 0) + 1),
  });
  const rendered: Record<string, unknown> = {};
  for (const name of [...allUses.keys()].sort()) {
    if (allUses.get(name) !== rootArgumentUses.get(name)) rendered[name] = variables?.[name] ?? null;
  }
  return `${operationName ?? ''}\u0000${JSON.stringify(rendered)}\u0000${query}`;
}

function countVariables(value: ValueNode, into: Map<string, number>): void {
  if (value.kind === Kind.VARIABLE) into.set(value.name.value, (into.get(value.name.value) ?? 0) + 1);
  else if (value.kind === Kind.LIST) for (const v of value.values) countVariables(v, into);
  else if (value.kind === Kind.OBJECT) for (const f of value.fields) countVariables(f.value, into);
}

/**
 * Executes and serialises a subscription's selection set once per distinct (event, operation)
 * and hands the same JSON to every subscriber with an identical operation: at a thousand
 * subscribers of one device this is one execution per event instead of a thousand. Payloads live
 * as long as their event object (a WeakMap), i.e. for one fan-out plus whatever slow subscribers
 * still hold queued.
 */
export class SharedPayloads {
  private readonly rendered = new WeakMap<object, Map<string, string | Promise<string>>>();

  constructor(private readonly maskError: MaskError) {}

  /**
   * The JSON of the `next` payload (`{"data":…}`) for `event`. `rootValue` builds the
   * subscription's root value for it; `shared` false renders for this subscriber alone (its
   * payload says something only it is told, such as how many messages it lost).
   */
  render(
    operation: LiveOperation,
    event: object,
    rootValue: () => unknown,
    shared: boolean,
  ): string | Promise<string> {
    if (!shared) return this.execute(operation, rootValue());
    let byOperation = this.rendered.get(event);
    if (!byOperation) {
      byOperation = new Map();
      this.rendered.set(event, byOperation);
    }
    let payload = byOperation.get(operation.shareKey);
    if (payload === undefined) {
      payload = this.execute(operation, rootValue());
      byOperation.set(operation.shareKey, payload);
    }
    return payload;
  }

  private execute(operation: LiveOperation, rootValue: unknown): string | Promise<string> {
    payloadsRendered.add(1);
    const result = execute({
      schema: operation.schema,
      document: operation.document,
      operationName: operation.operationName,
      variableValues: operation.variableValues,
      contextValue: operation.contextValue,
      rootValue,
    });
    return result instanceof Promise ? result.then((r) => this.serialise(r)) : this.serialise(result);
  }

  /** As graphql-ws writes a result: `errors` only when there are some, each masked. */
  private serialise(result: ExecutionResult): string {
    const { errors, ...rest } = result;
    return JSON.stringify(
      errors?.length ? { ...rest, errors: errors.map((e) => this.maskError(e).toJSON()) } : rest,
    );
  }
}
