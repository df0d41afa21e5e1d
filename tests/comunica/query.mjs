// Runs SPARQL queries against a matrixkg endpoint with Comunica and prints what came back as JSON:
//   node tests/comunica/query.mjs http://127.0.0.1:8000/sparql
// The endpoint is a "sparql" source, so Comunica talks the SPARQL 1.1 Protocol to it (tests/test_clients.py).
import { QueryEngine } from "@comunica/query-sparql";

const endpoint = process.argv[2];
if (!endpoint) {
  console.error("usage: node query.mjs ENDPOINT_URL");
  process.exit(2);
}

const PREFIXES = `
PREFIX mkg: <https://w3id.org/matrixkg/ns#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
`;
const context = { sources: [{ type: "sparql", value: endpoint }], lenient: false };
const engine = new QueryEngine();

const cellsStream = await engine.queryBindings(`${PREFIXES}
SELECT DISTINCT ?cell ?label WHERE {
  ?c a mkg:Cell ; skos:notation ?cell ; mkg:inMatrix/skos:notation "alcohol" ; skos:prefLabel ?label .
  FILTER(?cell = "E4")
}`, context);
const cells = (await cellsStream.toArray()).map((b) => ({ cell: b.get("cell").value, label: b.get("label").value }));

const categoriesStream = await engine.queryBindings(`${PREFIXES}
SELECT ?category (COUNT(DISTINCT ?entry) AS ?entries) WHERE {
  ?entry a mkg:Entry ; mkg:category/skos:notation ?category .
} GROUP BY ?category ORDER BY ?category`, context);
const categories = Object.fromEntries((await categoriesStream.toArray()).map(
  (b) => [b.get("category").value, Number(b.get("entries").value)]));

const hasGuidance = await engine.queryBoolean(`${PREFIXES}
ASK { ?entry mkg:category/skos:notation "G" }`, context);

console.log(JSON.stringify({ cells, categories, hasGuidance }));
