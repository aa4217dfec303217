#!/usr/bin/env node
// Regenerates schema.d.ts from the server's OpenAPI schema with the pinned
// openapi-typescript. Same output as the `openapi-typescript` CLI, except that
// `format: binary` strings (file uploads, the audio stream) are typed as Blob,
// so a File from an <input type="file"> can be put straight into a body.
//
//   node scripts/generate.mjs [openapi.json] [schema.d.ts]
//
// Paths are relative to the current directory; the defaults are the repo
// root's openapi.json and schema.d.ts here (run from clients/typescript).
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import openapiTS, { astToString, COMMENT_HEADER } from "openapi-typescript";

const [input = "../../openapi.json", output = "schema.d.ts"] = process.argv.slice(2);

const BLOB = ts.factory.createTypeReferenceNode("Blob");
const NULL = ts.factory.createLiteralTypeNode(ts.factory.createNull());

function isNullable(schema) {
  return schema.nullable === true || (Array.isArray(schema.type) && schema.type.includes("null"));
}

const ast = await openapiTS(pathToFileURL(path.resolve(input)), {
  transform(schemaObject) {
    if (schemaObject.format === "binary") {
      return isNullable(schemaObject) ? ts.factory.createUnionTypeNode([BLOB, NULL]) : BLOB;
    }
    return undefined;
  },
});

fs.writeFileSync(output, COMMENT_HEADER + astToString(ast), "utf8");
console.log(`openapi-typescript: ${input} -> ${output}`);
