import { expect } from "chai";
import { GraphQLError, GraphQLScalarType, parse, type OperationDefinitionNode } from "graphql";
import { createSchema, createYoga } from "graphql-yoga";
import { fieldAt, useJitQueries } from "../src/graphql/use-jit-queries.js";

/** The plugin on its own, in a small Yoga: which executor ran, and what maskError is given. */
describe("compiled queries (useJitQueries)", () => {
  const seen: unknown[] = [];
  /** Who called the last resolver: graphql-jit's compiled code (created by compileQuery) or graphql-js's execute. */
  let caller = "";
  const note = () => (caller = /graphql-jit/.test(new Error().stack ?? "") ? "graphql-jit" : "graphql-js");
  const schema = createSchema({
    typeDefs: /* GraphQL */ `
      scalar Day
      type Query { item(id: ID!, on: Day): Item! items: [Item!]! }
      type Mutation { touch: Boolean! }
      type Item { id: ID! name: String! }
    `,
    resolvers: {
      // Like the edge's DateTime: a value that does not parse throws a plain TypeError.
      Day: new GraphQLScalarType({
        name: "Day",
        parseValue: (v) => {
          if (typeof v !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(v)) throw new TypeError("Day must be YYYY-MM-DD");
          return v;
        },
      }),
      Query: {
        item: (_: unknown, { id }: { id: string }) => {
          note();
          if (id === "bad") throw new Error("refused");
          return { id, name: `item ${id}` };
        },
        items: () => [{ id: "1", name: "one" }, { id: "bad", name: null }],
      },
      Mutation: {
        touch: () => {
          note();
          throw new Error("refused");
        },
      },
    },
  });
  const yoga = createYoga({
    schema,
    plugins: [useJitQueries()],
    logging: false,
    maskedErrors: {
      maskError: (error) => {
        seen.push(error);
        const e = error as GraphQLError;
        return e.originalError && !(e.originalError instanceof GraphQLError) ? new GraphQLError("masked", { path: e.path }) : e;
      },
    },
  });
  const run = async (query: string, variables?: Record<string, unknown>) => {
    const res = await yoga.fetch("http://localhost/graphql", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query, variables }) });
    return (await res.json()) as { data?: unknown; errors?: Array<{ message: string; path?: unknown[] }> };
  };
  beforeEach(() => {
    seen.length = 0;
    caller = "";
  });

  it("runs a document interpreted once, then compiled, with the same answer", async () => {
    const query = '{ a: item(id: "1") { id name } b: item(id: "2") { name } }';
    const expected = { data: { a: { id: "1", name: "item 1" }, b: { name: "item 2" } } };
    expect(await run(query)).to.deep.equal(expected);
    expect(caller).to.equal("graphql-js");
    expect(await run(query)).to.deep.equal(expected);
    expect(caller).to.equal("graphql-jit");
  });

  it("hands maskError a compiled query's error with the field node graphql-jit leaves out", async () => {
    const query = 'query { ...F } fragment F on Query { x: item(id: "bad") { id } }';
    await run(query);
    seen.length = 0;
    const out = await run(query);
    expect(out.errors?.[0]?.path).to.deep.equal(["x"]);
    const error = seen[0] as GraphQLError;
    expect(caller).to.equal("graphql-jit");
    expect(error.nodes?.[0]?.kind).to.equal("Field");
    expect(error.nodes?.[0]).to.have.nested.property("alias.value", "x");
  });

  it("leaves a variable that does not coerce to graphql-js, which words the error", async () => {
    const query = "query($id: ID!, $on: Day) { item(id: $id, on: $on) { id } }";
    await run(query, { id: "1", on: "2030-01-31" });
    const out = await run(query, { id: "1", on: "tomorrow" });
    expect(out.errors?.[0]?.message).to.equal('Variable "$on" got invalid value "tomorrow"; Expected type "Day". Day must be YYYY-MM-DD');
  });

  it("leaves mutations to graphql-js", async () => {
    await run("mutation { touch }");
    await run("mutation { touch }");
    expect(caller).to.equal("graphql-js");
  });

  it("finds a field node by response path through lists, aliases and fragments", () => {
    const document = parse("query { list: items { ... on Item { n: name } } other: item(id: 1) { ...G } } fragment G on Item { id }");
    const operation = document.definitions[0] as OperationDefinitionNode;
    expect(fieldAt(document, operation.selectionSet, ["list", 1, "n"])?.name.value).to.equal("name");
    expect(fieldAt(document, operation.selectionSet, ["other", "id"])?.name.value).to.equal("id");
    expect(fieldAt(document, operation.selectionSet, ["missing"])).to.equal(undefined);
  });
});
