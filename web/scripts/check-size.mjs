// The guest pages' JavaScript, gzipped, must stay within the budget (CI runs this after
// `npm run build`): every script index.html loads, and every chunk they import.
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const BUDGET = 150 * 1024;
const dist = path.join(path.dirname(path.dirname(fileURLToPath(import.meta.url))), "dist");
const scripts = readdirSync(path.join(dist, "assets")).filter((name) => name.endsWith(".js"));
if (scripts.length === 0) {
  console.error("check-size: no JavaScript in dist/assets (run npm run build first)");
  process.exit(2);
}
let total = 0;
for (const name of scripts) {
  const size = gzipSync(readFileSync(path.join(dist, "assets", name)), { level: 9 }).length;
  total += size;
  console.log(`${(size / 1024).toFixed(1).padStart(7)} kB  ${name}`);
}
console.log(`${(total / 1024).toFixed(1).padStart(7)} kB  total gzipped (budget ${BUDGET / 1024} kB)`);
if (total > BUDGET) {
  console.error(`check-size: the guest pages' JavaScript is over budget by ${((total - BUDGET) / 1024).toFixed(1)} kB`);
  process.exit(1);
}
