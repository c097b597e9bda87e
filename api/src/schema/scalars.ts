import { GraphQLScalarType, Kind, valueFromASTUntyped } from 'graphql';
import { createGraphQLError } from 'graphql-yoga';

const badInput = (message: string) => createGraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });

function parseDate(v: unknown): Date {
  if (typeof v !== 'string') throw badInput('DateTime must be an RFC 3339 string');
  const d = new Date(v);
  if (Number.isNaN(d.getTime()) || !/^\d{4}-\d{2}-\d{2}T/.test(v))
    throw badInput(`invalid DateTime ${JSON.stringify(v.slice(0, 40))}`);
  return d;
}

export const DateTime = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  serialize: (v) => (v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString()),
  parseValue: parseDate,
  parseLiteral: (ast) => parseDate(ast.kind === Kind.STRING ? ast.value : undefined),
});

export const JSONScalar = new GraphQLScalarType<unknown, unknown>({
  name: 'JSON',
  serialize: (v) => v,
  parseValue: (v) => v,
  parseLiteral: (ast, variables) => valueFromASTUntyped(ast, variables),
});

function parseSequence(v: unknown): number {
  const s = typeof v === 'number' ? String(v) : v;
  if (typeof s !== 'string' || !/^\d{1,16}$/.test(s) || !Number.isSafeInteger(Number(s))) {
    throw badInput('Sequence must be a non-negative integer as a decimal string');
  }
  return Number(s);
}

export const Sequence = new GraphQLScalarType<number, string>({
  name: 'Sequence',
  serialize: (v) => String(v),
  parseValue: parseSequence,
  parseLiteral: (ast) =>
    parseSequence(ast.kind === Kind.STRING || ast.kind === Kind.INT ? ast.value : undefined),
});
