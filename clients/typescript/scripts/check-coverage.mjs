#!/usr/bin/env node
// Fails when examples/every-endpoint.ts does not call every operation of the schema.
//
//   node scripts/check-coverage.mjs [openapi.json] [example.ts]
//
// An operation counts as called when the example (comments stripped) contains
// `.<METHOD>("<path>"`, e.g. `.GET("/api/songs/{song_id}/"`; `.request("get", "<path>"`
// counts too. Defaults: the repo root's openapi.json and examples/every-endpoint.ts.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const schemaPath = process.argv[2] ?? path.join(here, "..", "..", "..", "openapi.json");
const examplePath = process.argv[3] ?? path.join(here, "..", "examples", "every-endpoint.ts");
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The source without comments, so a commented-out call does not count. */
function stripComments(source) {
  return source
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .split("\n")
    .filter((line) => !line.trim().startsWith("//"))
    .map((line) => line.replace(/(^|[^:"'`])\/\/.*$/, "$1"))
    .join("\n");
}

let schema;
try {
  schema = JSON.parse(fs.readFileSync(schemaPath, "utf8"));
} catch (error) {
  console.error(`check-coverage: cannot read ${schemaPath} (${error.message}): run make schema`);
  process.exit(2);
}
const example = stripComments(fs.readFileSync(examplePath, "utf8"));

const operations = [];
for (const [route, item] of Object.entries(schema.paths ?? {})) {
  for (const method of METHODS) {
    if (item && typeof item === "object" && method in item) operations.push({ method, route });
  }
}

const missing = operations.filter(({ method, route }) => {
  const quoted = `["'\`]${escapeRegExp(route)}["'\`]`;
  const direct = new RegExp(`\\.${method.toUpperCase()}\\(\\s*${quoted}`);
  const generic = new RegExp(`\\.request\\(\\s*["'\`]${method}["'\`]\\s*,\\s*${quoted}`, "i");
  return !direct.test(example) && !generic.test(example);
});

const exampleName = path.relative(process.cwd(), examplePath) || examplePath;
if (missing.length > 0) {
  console.error(`${exampleName} misses ${missing.length} of the schema's ${operations.length} operations:`);
  for (const { method, route } of missing) console.error(`  ${method.toUpperCase()} ${route}`);
  console.error("Add a typed call for each (by path, e.g. client.GET(\"/api/songs/\", ...)).");
  process.exit(1);
}
console.log(`${exampleName} calls all ${operations.length} operations of the schema.`);
