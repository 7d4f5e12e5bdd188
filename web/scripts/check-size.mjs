// The guest pages' JavaScript, gzipped, must stay within the budget (CI runs this after
// `npm run build`): the entry script index.html loads and every chunk it imports
// statically. Chunks loaded on demand (the staff screens) are listed, not counted.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const BUDGET = 150 * 1024;
const dist = path.join(path.dirname(path.dirname(fileURLToPath(import.meta.url))), "dist");
const manifestPath = path.join(dist, ".vite", "manifest.json");
if (!existsSync(manifestPath)) {
  console.error("check-size: no dist/.vite/manifest.json (run npm run build first)");
  process.exit(2);
}
const manifest = JSON.parse(readFileSync(manifestPath, "utf-8"));
const gz = (file) => gzipSync(readFileSync(path.join(dist, file)), { level: 9 }).length;
const kb = (bytes) => `${(bytes / 1024).toFixed(1).padStart(7)} kB`;

const entry = Object.keys(manifest).find((key) => manifest[key].isEntry);
const loaded = new Set();
const visit = (key) => {
  if (loaded.has(key)) return;
  loaded.add(key);
  for (const next of manifest[key].imports ?? []) visit(next);
};
visit(entry);

let total = 0;
for (const key of loaded) {
  const size = gz(manifest[key].file);
  total += size;
  console.log(`${kb(size)}  ${manifest[key].file} (guest pages)`);
}
for (const [key, chunk] of Object.entries(manifest)) {
  if (!loaded.has(key) && chunk.file.endsWith(".js")) console.log(`${kb(gz(chunk.file))}  ${chunk.file} (on demand)`);
}
console.log(`${kb(total)}  the guest pages' JavaScript, gzipped (budget ${BUDGET / 1024} kB)`);
if (total > BUDGET) {
  console.error(`check-size: over budget by ${((total - BUDGET) / 1024).toFixed(1)} kB`);
  process.exit(1);
}
