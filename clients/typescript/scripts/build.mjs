// Builds the package: an empty dist/, then `tsc -p tsconfig.build.json` (src/*.ts to
// dist/*.js and dist/*.d.ts). Run by `npm run build`, and by npm itself through `prepare`
// (npm ci or npm install here, installing this folder by path) and `prepack` (npm pack).
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
rmSync(join(root, "dist"), { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const result = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], {
  cwd: root,
  stdio: "inherit",
});
if (result.status !== 0) {
  console.error("build: tsc failed");
  process.exit(result.status ?? 1);
}
